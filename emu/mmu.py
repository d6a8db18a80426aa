"""The stage-1 MMU of a Cortex-A53: table walker, permission check, fault syndrome.

Unicorn runs with UC_TLB_VIRTUAL: on every miss in its software TLB it asks
`tlb_fill` for the physical page behind a virtual address.  We answer the way
the A53's MMU does: walk the descriptors that the kernel wrote into RAM,
starting at TTBR0_EL1, check the EL0 permissions, and either hand back the
frame with *every* permission the descriptor grants (Unicorn caches only what
it is given, so a read-then-write would otherwise cost two fills) or take a
synchronous abort: ESR_EL1 and FAR_EL1 are set on the core and the kernel's
vector runs.  When the vector returns, the access is retried, exactly as an
`eret` re-executes the faulting instruction.

Only EL0 accesses through TTBR0 are modelled (user space); there is no TTBR1
half because the kernel is Python, not guest code.  Hierarchical table
attributes (APTable, UXNTable) are ignored: Linux 4.14 never sets them.
"""

import struct

from emu.arch import (
    DESC_ADDR_MASK, DESC_TABLE, DESC_VALID, EC_DABT_LOW, EC_IABT_LOW,
    FSC_ACCESS_FLAG, FSC_PERMISSION, FSC_TRANSLATION, PAGE_MASK, PAGE_SHIFT,
    PAGE_SIZE, PTE_AF, PTE_RDONLY, PTE_USER, PTE_UXN, TABLE_INDEX_BITS,
    TBI_ADDR_MASK, TTBR_BADDR_MASK, esr_abort, level_shift, start_level,
)

# Unicorn's access kinds and permission bits (unicorn_const), named here so
# the walker reads like the architecture, not like the library.
UC_MEM_READ, UC_MEM_WRITE, UC_MEM_FETCH = 16, 17, 18
UC_PROT_READ, UC_PROT_WRITE, UC_PROT_EXEC = 1, 2, 4

_unpack_u64 = struct.Struct("<Q").unpack_from
DESC_PAGE_BITS = DESC_VALID | DESC_TABLE
L3_TABLE_SHIFT = level_shift(2)     # one level-3 table maps 2 MiB

# A retried access that faults again this often means the kernel's fault
# handler returned without fixing anything: a kernel bug, not a guest bug.
MAX_FAULT_RETRIES = 4


def el0_permissions(desc):
    """UC_PROT_* bits that EL0 gets from a leaf descriptor's AP[2:1] and UXN."""
    perms = 0 if desc & PTE_UXN else UC_PROT_EXEC
    if desc & PTE_USER:
        perms |= UC_PROT_READ
        if not desc & PTE_RDONLY:
            perms |= UC_PROT_WRITE
    return perms


class Mmu:
    """The walker of one board: all cores share RAM and the translation regime."""

    def __init__(self, memory, va_bits=48):
        if va_bits not in (39, 48):
            raise ValueError("va_bits must be 39 or 48")
        self.memory = memory
        self.view = memory.view
        self.ram_base = memory.base
        self.va_bits = va_bits
        self.start_level = start_level(va_bits)
        self.start_shift = level_shift(self.start_level)
        # The kernel's handler of an anonymous fault at an empty pte (or
        # of a write to a present read-only pte, given as pte), called
        # from tlb_fill without taking the abort:
        # anon_fault(core, page, write, ptep, pte=0) -> the pte it wrote,
        # 0 to take the abort after all.  None: every fault
        # is an abort (the kernel sets it only while no one watches faults).
        self.anon_fault = None

    def walk(self, ttbr0, va, walk_cache=None):
        """Translate va through the tables at ttbr0 (TTBR0_EL1 value).

        Returns (level, desc, desc_pa).  On a valid leaf, desc is the page or
        block descriptor; otherwise desc is 0 and level is where the walk
        stopped (the level a translation fault reports).  Reads RAM only.

        walk_cache, when given, is a core's walk cache: [region, ttbr0,
        level-3 table].  Like the A53's, it remembers the last table walk
        that reached level 3, so the next walk in that 2 MiB region reads
        one descriptor instead of four; TLB maintenance empties it.
        """
        va &= TBI_ADDR_MASK
        if va >> self.va_bits:
            return 0, 0, None
        view = self.memory.view
        ram_base = self.memory.base
        region = va >> L3_TABLE_SHIFT
        if walk_cache is not None and walk_cache[0] == region and walk_cache[1] == ttbr0:
            desc_pa = walk_cache[2] + (((va >> PAGE_SHIFT) & 511) << 3)
            desc = _unpack_u64(view, desc_pa - ram_base)[0]
            # At level 3, bit 1 clear is a reserved encoding: it faults.
            return 3, desc if desc & DESC_PAGE_BITS == DESC_PAGE_BITS else 0, desc_pa
        ram_end = self.memory.end
        table = ttbr0 & TTBR_BADDR_MASK
        level = self.start_level
        shift = self.start_shift
        while True:
            if not ram_base <= table < ram_end:
                return level, 0, None
            desc_pa = table + (((va >> shift) & 511) << 3)
            desc = _unpack_u64(view, desc_pa - ram_base)[0]
            if level == 3:
                # Cached even when the leaf is invalid: the walk that
                # retries the access after the fault handler has written
                # it then reads one descriptor, not four.
                if walk_cache is not None:
                    walk_cache[0], walk_cache[1], walk_cache[2] = region, ttbr0, table
                return 3, desc if desc & DESC_PAGE_BITS == DESC_PAGE_BITS else 0, desc_pa
            if not desc & DESC_VALID:
                return level, 0, desc_pa
            if not desc & DESC_TABLE:
                # A block; none exist at level 0 with a 4 KiB granule.
                return level, desc if level else 0, desc_pa
            table = desc & DESC_ADDR_MASK
            level += 1
            shift -= TABLE_INDEX_BITS

    def walk_steps(self, ttbr0, va):
        """The walk of va one descriptor at a time, for people reading it:
        a list of (level, index, table, desc_pa, desc), ending at the leaf or
        at the descriptor that stops the walk (invalid, or a table address
        outside RAM, then desc_pa is None).  `walk` is the same walk, fast."""
        steps = []
        va &= TBI_ADDR_MASK
        table = ttbr0 & TTBR_BADDR_MASK
        level, shift = self.start_level, self.start_shift
        while level <= 3:
            index = (va >> shift) & ((1 << TABLE_INDEX_BITS) - 1)
            if not self.memory.base <= table < self.memory.end:
                steps.append((level, index, table, None, 0))
                break
            desc_pa = table + index * 8
            desc = _unpack_u64(self.memory.view, desc_pa - self.memory.base)[0]
            steps.append((level, index, table, desc_pa, desc))
            if not desc & DESC_VALID or level == 3 or not desc & DESC_TABLE:
                break
            table = desc & DESC_ADDR_MASK
            level += 1
            shift -= TABLE_INDEX_BITS
        return steps

    @staticmethod
    def output_address(level, desc, va):
        """Physical address of the 4 KiB page holding va in a leaf translation."""
        span = (1 << level_shift(level)) - 1
        return (desc & DESC_ADDR_MASK & ~span) | (va & span & PAGE_MASK)

    def translate(self, ttbr0, va):
        """Physical address of va (not page-aligned), or None: for debuggers and tests."""
        level, desc, _ = self.walk(ttbr0, va)
        if not desc:
            return None
        return self.output_address(level, desc, va) | (va & (PAGE_SIZE - 1))

    def tlb_fill(self, core, va, access):
        """Answer a Unicorn TLB miss at va for `access` (UC_MEM_*).

        Returns (paddr, perms) of the page, after letting the kernel handle
        as many aborts as it takes; returns None when the kernel gave up on
        the access (it killed the task or stopped the core).
        """
        needed = _NEEDED[access]
        walk_cache = core.walk_cache
        va_t = va & TBI_ADDR_MASK
        region = va_t >> L3_TABLE_SHIFT
        slot = ((va_t >> PAGE_SHIFT) & 511) << 3
        for _ in range(MAX_FAULT_RETRIES):
            if walk_cache[0] == region and walk_cache[1] == core.ttbr0:
                # Most fills, and the retry after a fault (the walk cache
                # keeps a level-3 table even when its entry was invalid):
                # one descriptor read, el0_permissions() as a table look-up.
                level = 3
                desc = _unpack_u64(self.view, walk_cache[2] + slot - self.ram_base)[0]
                if desc & _LEAF_OK == _LEAF_OK:
                    perms = _EL0_PERMS[(desc >> _PERM_SHIFT_AP) & 3 | (desc >> _PERM_SHIFT_UXN) & 4]
                    if perms & needed:
                        return desc & DESC_ADDR_MASK, perms
                    fsc = FSC_PERMISSION
                    # A write to the zero page that a read fault mapped:
                    # the kernel may copy it at once too (see anon_fault).
                    if access == UC_MEM_WRITE and self.anon_fault is not None:
                        pte = self.anon_fault(core, va_t & PAGE_MASK, True, walk_cache[2] + slot, desc)
                        if pte:
                            answer = _leaf_answer(pte, needed)
                            if answer is not None:
                                return answer
                            continue
                elif desc & DESC_PAGE_BITS != DESC_PAGE_BITS:
                    fsc = FSC_TRANSLATION
                    # An empty pte in a table that exists: the kernel may
                    # map an anonymous page at once, without the abort's
                    # dispatch (see anon_fault); it declines anything else.
                    if not desc and access != UC_MEM_FETCH and self.anon_fault is not None:
                        pte = self.anon_fault(core, va_t & PAGE_MASK, access == UC_MEM_WRITE,
                                              walk_cache[2] + slot)
                        if pte:
                            answer = _leaf_answer(pte, needed)
                            if answer is not None:
                                return answer
                            continue
                else:
                    fsc = FSC_ACCESS_FLAG
            else:
                level, desc, ptep = self.walk(core.ttbr0, va, walk_cache)
                if not desc:
                    fsc = FSC_TRANSLATION
                    # An empty pte in a table that exists, found by a full
                    # walk (a TLB flush emptied the walk cache: the first
                    # touch of each mmap+touch+munmap cycle): the same
                    # anon_fault as in the cached case above, which sees
                    # the same ptep; the raw pte must be 0, not a reserved
                    # encoding that the walk reports as invalid.
                    if (level == 3 and access != UC_MEM_FETCH and self.anon_fault is not None
                            and not _unpack_u64(self.view, ptep - self.ram_base)[0]):
                        pte = self.anon_fault(core, va_t & PAGE_MASK, access == UC_MEM_WRITE, ptep)
                        if pte:
                            answer = _leaf_answer(pte, needed)
                            if answer is not None:
                                return answer
                            continue
                elif not desc & PTE_AF:
                    fsc = FSC_ACCESS_FLAG
                else:
                    perms = el0_permissions(desc)
                    if perms & needed:
                        if level == 3:
                            return desc & DESC_ADDR_MASK, perms
                        return self.output_address(level, desc, va), perms
                    fsc = FSC_PERMISSION
            ec = EC_IABT_LOW if access == UC_MEM_FETCH else EC_DABT_LOW
            core.take_abort(esr_abort(ec, fsc, level, access == UC_MEM_WRITE), va)
            if core.stop_requested:
                return None
        raise RuntimeError("abort at %#x not resolved after %d retries"
                           % (va, MAX_FAULT_RETRIES))


# The fast path of tlb_fill: a level-3 descriptor it may use as it is
# (valid, a page, accessed), and el0_permissions() as a table indexed by
# AP[1] (bit 0), AP[2] (bit 1) and UXN (bit 2) of the descriptor.
_LEAF_OK = DESC_VALID | DESC_TABLE | PTE_AF
_PERM_SHIFT_AP = PTE_USER.bit_length() - 1                 # AP[2:1] -> bits 1:0
_PERM_SHIFT_UXN = PTE_UXN.bit_length() - 1 - 2             # UXN -> bit 2
assert PTE_RDONLY == PTE_USER << 1
_EL0_PERMS = tuple(el0_permissions((PTE_USER if i & 1 else 0) | (PTE_RDONLY if i & 2 else 0)
                                   | (PTE_UXN if i & 4 else 0)) for i in range(8))


def _leaf_answer(desc, needed):
    """tlb_fill's answer (pa, perms) from a level-3 descriptor, or None when
    it does not allow the access: the pte the anonymous fault path has just
    written answers the fill at once, without reading it back.  (It always
    allows the access that faulted; on None the fill walks again, to be sure.)"""
    perms = _EL0_PERMS[(desc >> _PERM_SHIFT_AP) & 3 | (desc >> _PERM_SHIFT_UXN) & 4]
    if desc & _LEAF_OK == _LEAF_OK and perms & needed:
        return desc & DESC_ADDR_MASK, perms
    return None


_NEEDED = {UC_MEM_READ: UC_PROT_READ, UC_MEM_WRITE: UC_PROT_WRITE,
           UC_MEM_FETCH: UC_PROT_EXEC}
