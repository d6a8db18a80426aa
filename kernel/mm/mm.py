"""include/linux/mm.h: vm_flags bits and their translation to page protections.

vm_flags describe what a VMA allows (and may be allowed by mprotect: the
VM_MAY* bits); vm_page_prot is the descriptor template every PTE of the VMA
starts from (arch/arm64/include/asm/pgtable-prot.h: protection_map).
"""

from emu.arch import (
    DESC_TYPE_PAGE, DESC_VALID, MT_NORMAL, PTE_AF, PTE_ATTRINDX_SHIFT, PTE_NG,
    PTE_PXN, PTE_RDONLY, PTE_SHARED, PTE_SW_SHIFT, PTE_USER, PTE_UXN,
)
from kernel.uapi import (
    MAP_DENYWRITE, MAP_GROWSDOWN, MAP_LOCKED, PROT_EXEC, PROT_READ, PROT_WRITE,
)

VM_NONE = 0x00000000
VM_READ = 0x00000001
VM_WRITE = 0x00000002
VM_EXEC = 0x00000004
VM_SHARED = 0x00000008
VM_MAYREAD = 0x00000010
VM_MAYWRITE = 0x00000020
VM_MAYEXEC = 0x00000040
VM_MAYSHARE = 0x00000080
VM_GROWSDOWN = 0x00000100
VM_DENYWRITE = 0x00000800
VM_LOCKED = 0x00002000
VM_IO = 0x00004000
VM_SEQ_READ = 0x00008000
VM_RAND_READ = 0x00010000
VM_DONTCOPY = 0x00020000
VM_DONTEXPAND = 0x00040000
VM_ACCOUNT = 0x00100000
VM_NORESERVE = 0x00200000
VM_HUGETLB = 0x00400000
VM_WIPEONFORK = 0x02000000
VM_DONTDUMP = 0x04000000
VM_STACK = VM_GROWSDOWN

# arm64: the heap and stack are rw-, not rwx (VM_DATA_DEFAULT_FLAGS).
VM_DATA_DEFAULT_FLAGS = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC
VM_STACK_FLAGS = VM_STACK | VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT



def calc_vm_prot_bits(prot):
    """include/linux/mman.h: calc_vm_prot_bits() — PROT_* to VM_READ/WRITE/EXEC."""
    return ((VM_READ if prot & PROT_READ else 0) | (VM_WRITE if prot & PROT_WRITE else 0)
            | (VM_EXEC if prot & PROT_EXEC else 0))


def calc_vm_flag_bits(flags):
    """include/linux/mman.h: calc_vm_flag_bits() — MAP_* to VM_* bits."""
    return ((VM_GROWSDOWN if flags & MAP_GROWSDOWN else 0)
            | (VM_DENYWRITE if flags & MAP_DENYWRITE else 0)
            | (VM_LOCKED if flags & MAP_LOCKED else 0))


# Linux's software PTE bits (arch/arm64/include/asm/pgtable-hwdef.h), in the
# descriptor bits the hardware ignores.  A PROT_NONE pte keeps its page but is
# invalid to the MMU; pte_present() is "valid or prot-none".
PTE_DIRTY = 1 << PTE_SW_SHIFT               # bit 55
PTE_SPECIAL = 1 << (PTE_SW_SHIFT + 1)       # bit 56: no struct page behind it (zero page)
PTE_PROT_NONE = 1 << (PTE_SW_SHIFT + 3)     # bit 58
PTE_PRESENT_MASK = DESC_VALID | PTE_PROT_NONE

# arch/arm64/include/asm/pgtable-prot.h.  Every user page is a valid level-3
# page, accessed, inner shareable, Normal memory, not global (ASID-tagged),
# never executable at EL1.
_PROT_DEFAULT = DESC_TYPE_PAGE | PTE_AF | PTE_SHARED | (MT_NORMAL << PTE_ATTRINDX_SHIFT)
_PAGE_USER_BASE = _PROT_DEFAULT | PTE_NG | PTE_PXN
PAGE_NONE = (_PROT_DEFAULT & ~DESC_VALID) | PTE_PROT_NONE | PTE_NG | PTE_PXN | PTE_UXN | PTE_RDONLY
PAGE_READONLY = _PAGE_USER_BASE | PTE_USER | PTE_RDONLY | PTE_UXN
PAGE_COPY = PAGE_READONLY       # private + writable: read-only until written
PAGE_SHARED = _PAGE_USER_BASE | PTE_USER | PTE_UXN
PAGE_EXECONLY = _PAGE_USER_BASE | PTE_RDONLY
PAGE_READONLY_EXEC = _PAGE_USER_BASE | PTE_USER | PTE_RDONLY
PAGE_COPY_EXEC = PAGE_READONLY_EXEC
PAGE_SHARED_EXEC = _PAGE_USER_BASE | PTE_USER

# Indexed by vm_flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED):
# __P000..__P111 then __S000..__S111.
protection_map = (
    PAGE_NONE, PAGE_READONLY, PAGE_COPY, PAGE_COPY,
    PAGE_EXECONLY, PAGE_READONLY_EXEC, PAGE_COPY_EXEC, PAGE_COPY_EXEC,
    PAGE_NONE, PAGE_READONLY, PAGE_SHARED, PAGE_SHARED,
    PAGE_EXECONLY, PAGE_READONLY_EXEC, PAGE_SHARED_EXEC, PAGE_SHARED_EXEC,
)


def vm_get_page_prot(vm_flags):
    """mm/mmap.c: vm_get_page_prot() — the PTE template for these vm_flags."""
    return protection_map[vm_flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)]


# The pte bits pte_modify() replaces; the rest (address, AF, dirty) stay.
PTE_PROT_MASK = PTE_USER | PTE_PXN | PTE_UXN | PTE_RDONLY | PTE_PROT_NONE | DESC_VALID


def pte_mkwrite(pte):
    """arm64 pte_mkwrite() + pte_mkdirty(): EL0 may write (AP[2] clear)."""
    return (pte & ~PTE_RDONLY) | PTE_DIRTY


def pte_modify(pte, newprot):
    """arm64 pte_modify(): keep the page, take the protection of newprot."""
    return (pte & ~PTE_PROT_MASK) | (newprot & PTE_PROT_MASK)
