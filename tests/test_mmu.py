"""Tests for emu.mmu: the stage-1 walker, EL0 permissions, TLB fills and aborts.

Four layers:

1. el0_permissions() against the AP/UXN table of the ARM ARM and against
   every protection_map template of kernel/mm/mm.py.
2. Mmu.walk/translate on tables built by hand in a PhysicalMemory (48-bit VA,
   4 levels; 39-bit VA, 3 levels), and the per-core walk cache; tlb_fill with
   a stand-in core.
3. tlb_fill through a real Core: tiny hand-assembled EL0 programs take
   instruction/data aborts that a recording vector resolves, and are retried.
4. A differential test against QEMU's own table walker (Unicorn in UC_TLB_CPU
   mode, sharing the same RAM buffer): AT S1E0R/S1E0W + PAR_EL1 give QEMU's
   translation or fault status and level, and real EL0 loads, stores and
   branches check that QEMU's MMU really lets the access through.

Hardware facts the oracle depends on (measured with Unicorn 2.1.4):
- At reset SCR_EL3.RW = 0, so QEMU treats EL1 as AArch32 when walking tables
  (arm_el_is_aa64): the walk uses the AArch32 LPAE rules, whose T0SZ/T1SZ
  fields are 3 bits wide and whose input is 32 bits.  T0SZ=25 reads as 1
  (TTBR0 covers 2 GiB), T0SZ=16 and 32 as 0 (4 GiB from level 1, so a
  4-level table is misread).  This is why the walker "failed above 2 GiB and
  for 48-bit VAs".  Setting SCR_EL3.RW (bit 10; HCR_EL2.RW alone does not
  help) makes QEMU's AArch64 walker work for 39- and 48-bit VAs alike.
- QEMU accepts a block descriptor at level 0 (4 KiB granule), which ARMv8.0
  reserves (translation fault): the generator below never writes one.
- A table pointer to a physical address with no RAM reads as zero in QEMU:
  a translation fault at the next level, as our walker reports (real
  hardware would report a synchronous external abort on the walk).
- Unicorn writes neither ESR_EL1 nor FAR_EL1 on an abort (UC_HOOK_INTR gets
  1 = undefined, 3 = prefetch abort, 4 = data abort, PC at the faulting
  instruction), but AT S1E0R/S1E0W at EL1 followed by MRS PAR_EL1 does give
  QEMU's fault status code and level: that is what the oracle compares.
- QEMU lets EL0 execute from Device memory when UXN is clear (as we do).
"""

import struct
from array import array

import capstone
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from unicorn import UC_ARCH_ARM64, UC_HOOK_INTR, UC_MODE_ARM, UC_PROT_ALL, UC_TLB_CPU, Uc
from unicorn import arm64_const as A
from unicorn.unicorn_const import UC_CTL_IO_WRITE, UC_CTL_TLB_FLUSH

from emu.arch import (
    TBI_ADDR_MASK,
    DESC_ADDR_MASK, DESC_TABLE, DESC_TYPE_PAGE, DESC_TYPE_TABLE, DESC_VALID, EC_DABT_LOW,
    EC_IABT_LOW, EC_SVC64, ESR_EC_SHIFT, ESR_IL, FSC_PERMISSION,
    FSC_TRANSLATION, MAIR_EL1_LINUX, MT_DEVICE_nGnRnE, MT_NORMAL, PAGE_MASK, PAGE_SIZE,
    PTE_AF, PTE_ATTRINDX_SHIFT, PTE_NG, PTE_PXN, PTE_RDONLY, PTE_SHARED, PTE_USER,
    PTE_UXN, esr_abort, esr_describe, level_shift, start_level,
)
from emu.board import Board
from emu.memory import RAM_BASE, PhysicalMemory
from emu.mmu import (
    MAX_FAULT_RETRIES, UC_MEM_FETCH, UC_MEM_READ, UC_MEM_WRITE, UC_PROT_EXEC, UC_PROT_READ,
    UC_PROT_WRITE, Mmu, el0_permissions,
)
from kernel.mm.mm import (
    PAGE_COPY, PAGE_COPY_EXEC, PAGE_EXECONLY, PAGE_NONE, PAGE_READONLY,
    PAGE_READONLY_EXEC, PAGE_SHARED, PAGE_SHARED_EXEC, PTE_PROT_NONE, VM_EXEC, VM_READ,
    VM_SHARED, VM_WRITE, protection_map, vm_get_page_prot,
)

R, W, X = UC_PROT_READ, UC_PROT_WRITE, UC_PROT_EXEC
RAM_SIZE = 16 << 20
RAM_END = RAM_BASE + RAM_SIZE
MiB2 = 1 << 21
GiB = 1 << 30
# A user page as Linux writes one, without AP/XN: valid page, AF, inner
# shareable, Normal memory, not global.
LEAF_BASE = DESC_TYPE_PAGE | PTE_AF | PTE_SHARED | (MT_NORMAL << PTE_ATTRINDX_SHIFT) | PTE_NG


def page(pa, prot):
    """A level-3 descriptor for pa with protection template prot (which says
    whether it is valid: PAGE_NONE is not)."""
    return pa | prot


def block(pa, prot):
    """A level-1/2 block descriptor: the page template with bit 1 cleared."""
    return (pa | prot | DESC_VALID) & ~DESC_TABLE


# ---------------------------------------------------------------------------
# Hand-built translation tables.
# ---------------------------------------------------------------------------

class Tables:
    """Translation tables written by hand into `memory`: a bump allocator of
    zeroed table pages in [pool, pool + pages * 4096) and a path builder."""

    def __init__(self, memory, va_bits, pool=RAM_BASE, pages=256):
        self.memory = memory
        self.va_bits = va_bits
        self.start = start_level(va_bits)
        self.next = pool
        self.end = pool + pages * PAGE_SIZE
        self.tables = set()
        self.root = self.alloc()

    def alloc(self):
        pa = self.next
        assert pa < self.end, "table pool exhausted"
        self.next += PAGE_SIZE
        self.memory.zero(pa, PAGE_SIZE)
        self.tables.add(pa)
        return pa

    @staticmethod
    def slot(table, level, va):
        return table + (((va >> level_shift(level)) & 511) << 3)

    def table_at(self, va, level, noise=0):
        """The table that translates va at `level`, creating the path down to
        it (a non-table entry on the way is replaced by a new table; `noise`
        goes into the ignored bits of new table descriptors)."""
        table = self.root
        for lvl in range(self.start, level):
            slot = self.slot(table, lvl, va)
            desc = self.memory.read_u64(slot)
            if desc & 3 == 3 and desc & DESC_ADDR_MASK in self.tables:
                table = desc & DESC_ADDR_MASK
            else:
                table = self.alloc()
                self.memory.write_u64(slot, table | DESC_TYPE_TABLE | noise)
        return table

    def set(self, va, level, desc, noise=0):
        """Write desc as va's entry at `level`; returns the entry's address."""
        slot = self.slot(self.table_at(va, level, noise), level, va)
        self.memory.write_u64(slot, desc)
        return slot

    def path(self, va):
        """Addresses of va's entries, level by level, while they are tables."""
        slots = {}
        table = self.root
        for lvl in range(self.start, 4):
            slots[lvl] = self.slot(table, lvl, va)
            desc = self.memory.read_u64(slots[lvl])
            if lvl == 3 or desc & 3 != 3:
                break
            table = desc & DESC_ADDR_MASK
        return slots


def va_of(va_bits, **idx):
    """A VA from table indices: va_of(48, l0=1, l1=2, l2=3, l3=4, off=5)."""
    va = idx.pop("off", 0)
    for lvl in range(4):
        va |= idx.pop("l%d" % lvl, 0) << level_shift(lvl)
    assert not idx and va < 1 << va_bits
    return va


@pytest.fixture
def ram():
    return PhysicalMemory(RAM_SIZE)


@pytest.fixture(params=[48, 39], ids=["va48", "va39"])
def va_bits(request):
    return request.param


# A VA whose index is non-zero (and different) at every level.
def busy_va(va_bits):
    return va_of(va_bits, l0=0x0F3 if va_bits == 48 else 0, l1=0x1A5 if va_bits == 48 else 0x5A,
                 l2=0x0C3, l3=0x17E)


# ---------------------------------------------------------------------------
# 1. EL0 permissions.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ap", range(4))
@pytest.mark.parametrize("uxn", [False, True])
@pytest.mark.parametrize("pxn", [False, True])
def test_el0_permissions_follow_ap_and_uxn(ap, uxn, pxn):
    """ARM ARM D5.4: AP[2:1] = 00 EL0 none, 01 EL0 RW, 10 EL0 none, 11 EL0 RO;
    EL0 may execute iff UXN is clear (whatever AP says); PXN is EL1's."""
    desc = page(0x4000_1000, LEAF_BASE | (ap << 6) | (PTE_UXN if uxn else 0)
                | (PTE_PXN if pxn else 0))
    data = {0b00: 0, 0b01: R | W, 0b10: 0, 0b11: R}[ap]
    assert el0_permissions(desc) == data | (0 if uxn else X)


# vm_flags & (VM_READ|VM_WRITE|VM_EXEC|VM_SHARED) -> what EL0 may do, or None
# for "not valid at all" (PROT_NONE).  Private writable mappings are read-only
# until the first write breaks COW.
EXPECTED_PROTECTION = {
    0: None, VM_READ: R, VM_WRITE: R, VM_READ | VM_WRITE: R,
    VM_EXEC: X, VM_EXEC | VM_READ: R | X, VM_EXEC | VM_WRITE: R | X,
    VM_EXEC | VM_READ | VM_WRITE: R | X,
    VM_SHARED: None, VM_SHARED | VM_READ: R, VM_SHARED | VM_WRITE: R | W,
    VM_SHARED | VM_READ | VM_WRITE: R | W, VM_SHARED | VM_EXEC: X,
    VM_SHARED | VM_EXEC | VM_READ: R | X, VM_SHARED | VM_EXEC | VM_WRITE: R | W | X,
    VM_SHARED | VM_EXEC | VM_READ | VM_WRITE: R | W | X,
}


@pytest.mark.parametrize("vm_flags", range(16))
def test_protection_map_entry_permissions(vm_flags):
    prot = protection_map[vm_flags]
    assert vm_get_page_prot(vm_flags) == prot
    expected = EXPECTED_PROTECTION[vm_flags]
    assert prot & DESC_ADDR_MASK == 0, "a template carries no address"
    if expected is None:
        assert prot == PAGE_NONE
        assert not prot & DESC_VALID and prot & PTE_PROT_NONE
        return
    assert prot & 3 == DESC_TYPE_PAGE
    assert prot & PTE_AF and prot & PTE_NG and prot & PTE_PXN, "user pages: AF, nG, never EL1-exec"
    assert (prot >> PTE_ATTRINDX_SHIFT) & 7 == MT_NORMAL
    assert el0_permissions(prot) == expected


def test_named_templates():
    assert el0_permissions(PAGE_READONLY) == R
    assert el0_permissions(PAGE_COPY) == R
    assert el0_permissions(PAGE_SHARED) == R | W
    assert el0_permissions(PAGE_EXECONLY) == X
    assert el0_permissions(PAGE_READONLY_EXEC) == R | X
    assert el0_permissions(PAGE_COPY_EXEC) == R | X
    assert el0_permissions(PAGE_SHARED_EXEC) == R | W | X
    assert not PAGE_NONE & DESC_VALID


# ---------------------------------------------------------------------------
# 2. The walker on hand-built tables.
# ---------------------------------------------------------------------------

def test_page_mapping(ram, va_bits):
    t = Tables(ram, va_bits)
    mmu = Mmu(ram, va_bits)
    va = busy_va(va_bits)
    pa = RAM_BASE + 0x345000
    desc = page(pa, PAGE_SHARED)
    slot = t.set(va, 3, desc)
    assert mmu.walk(t.root, va) == (3, desc, slot)
    assert mmu.walk(t.root, va + 0xFFF) == (3, desc, slot)
    assert mmu.translate(t.root, va + 0xABC) == pa + 0xABC
    assert Mmu.output_address(3, desc, va + 0xABC) == pa
    # The neighbour entry of the same level-3 table is empty.
    assert mmu.walk(t.root, va + PAGE_SIZE) == (3, 0, slot + 8)
    assert mmu.translate(t.root, va + PAGE_SIZE) is None
    # TTBR0's ASID (bits 63:48) and CnP (bit 0) are not part of the base address.
    assert mmu.walk((0xBEEF << 48) | t.root | 1, va) == (3, desc, slot)
    # The levels walked are the architectural ones.
    assert sorted(t.path(va)) == list(range(start_level(va_bits), 4))
    assert len(t.tables) == 4 - start_level(va_bits)


def test_every_page_of_a_table(ram, va_bits):
    t = Tables(ram, va_bits)
    mmu = Mmu(ram, va_bits)
    base = busy_va(va_bits) & ~(MiB2 - 1)
    for i in range(512):
        t.set(base + i * PAGE_SIZE, 3, page(RAM_BASE + ((i * 7919) % 4096) * PAGE_SIZE, PAGE_SHARED))
    for i in range(512):
        assert mmu.translate(t.root, base + i * PAGE_SIZE + 8 * i) == \
            RAM_BASE + ((i * 7919) % 4096) * PAGE_SIZE + 8 * i


@pytest.mark.parametrize("level", [1, 2])
def test_block_mapping(ram, va_bits, level):
    t = Tables(ram, va_bits)
    mmu = Mmu(ram, va_bits)
    span = 1 << level_shift(level)
    base = busy_va(va_bits) & ~(span - 1)
    pa = 0x8000_0000 if level == 1 else RAM_BASE + 3 * MiB2
    desc = block(pa, PAGE_SHARED_EXEC)
    slot = t.set(base, level, desc)
    for off in (0, 0x1008, span // 2 + 0x123, span - 8):
        va = base + off
        assert mmu.walk(t.root, va) == (level, desc, slot)
        assert Mmu.output_address(level, desc, va) == pa + (off & PAGE_MASK)
        assert mmu.translate(t.root, va) == pa + off
    # Just outside the block: the neighbouring entry, empty.
    assert mmu.walk(t.root, base + span) == (level, 0, slot + 8)


def test_block_output_ignores_address_bits_below_the_block(ram):
    """Bits 29:12 (1 GiB) or 20:12 (2 MiB) of a block's address are not used."""
    t = Tables(ram, 39)
    mmu = Mmu(ram, 39)
    t.set(0x4000_0000, 1, block(0x8000_0000 | 0x1234_5000, PAGE_SHARED))
    t.set(0x0060_0000, 2, block(RAM_BASE + MiB2 + 0x5000, PAGE_SHARED))
    assert mmu.translate(t.root, 0x4000_0000 + 0x20_0010) == 0x8020_0010
    assert mmu.translate(t.root, 0x0060_0000 + 0x1_2340) == RAM_BASE + MiB2 + 0x1_2340


INVALID_DESCS = [0, 0xFFFF_FFFF_FFFF_FFFE, RAM_BASE | DESC_TABLE | PTE_AF | PTE_USER]


@pytest.mark.parametrize("bad", INVALID_DESCS, ids=["zero", "all-but-valid", "table-bit-only"])
def test_invalid_descriptor_at_each_level(ram, va_bits, bad):
    mmu = Mmu(ram, va_bits)
    for level in range(start_level(va_bits), 4):
        t = Tables(ram, va_bits)
        va = busy_va(va_bits)
        t.set(va, 3, page(RAM_BASE + 0x5000, PAGE_SHARED))
        slots = t.path(va)
        ram.write_u64(slots[level], bad)
        assert mmu.walk(t.root, va) == (level, 0, slots[level]), "level %d" % level
        assert mmu.translate(t.root, va) is None


def test_reserved_level3_encoding_faults(ram, va_bits):
    """At level 3, bits[1:0] = 01 is reserved: a translation fault, not a page."""
    t = Tables(ram, va_bits)
    mmu = Mmu(ram, va_bits)
    va = busy_va(va_bits)
    slot = t.set(va, 3, block(RAM_BASE + 0x5000, PAGE_SHARED))
    assert mmu.walk(t.root, va) == (3, 0, slot)
    assert mmu.translate(t.root, va) is None


def test_level0_block_faults(ram):
    """4 KiB granule: no blocks at level 0 (ARMv8.0); 01 there is a fault."""
    t = Tables(ram, 48)
    mmu = Mmu(ram, 48)
    va = 0x0000_0080_0000_0000          # L0 index 1
    slot = t.set(va, 0, block(0, PAGE_SHARED_EXEC))
    assert mmu.walk(t.root, va + 0x1000) == (0, 0, slot)
    assert mmu.translate(t.root, va) is None


def test_va_beyond_va_bits_faults_at_level0(ram, va_bits):
    t = Tables(ram, va_bits)
    mmu = Mmu(ram, va_bits)
    low = busy_va(va_bits)
    t.set(low, 3, page(RAM_BASE + 0x5000, PAGE_SHARED))
    assert mmu.translate(t.root, low) == RAM_BASE + 0x5000
    # Bits above va_bits up to 55 must be zero; 63:56 are a tag (TBI0).
    for va in (low | 1 << va_bits, low | 1 << 55, (1 << 64) - PAGE_SIZE, 1 << va_bits):
        assert mmu.walk(t.root, va) == (0, 0, None), hex(va)
        assert mmu.translate(t.root, va) is None
    assert mmu.translate(t.root, low | 0xA5 << 56) == RAM_BASE + 0x5000


@pytest.mark.parametrize("where", [RAM_END, 0x8000_0000, RAM_BASE - PAGE_SIZE, 0,
                                   0x0000_FFFF_FFFF_F000],
                         ids=["ram-end", "2GiB", "below-ram", "zero", "top-48-bit"])
def test_table_pointer_outside_ram_faults(ram, va_bits, where):
    mmu = Mmu(ram, va_bits)
    va = busy_va(va_bits)
    first = start_level(va_bits)
    # TTBR0 itself outside RAM: a fault at the first level.
    assert mmu.walk(where, va) == (first, 0, None)
    for level in range(first, 3):
        t = Tables(ram, va_bits)
        t.set(va, 3, page(RAM_BASE + 0x5000, PAGE_SHARED))
        ram.write_u64(t.path(va)[level], where | DESC_TYPE_TABLE)
        assert mmu.walk(t.root, va) == (level + 1, 0, None), "level %d" % level
        assert mmu.translate(t.root, va) is None


def test_table_in_last_page_of_ram_is_walked(ram, va_bits):
    mmu = Mmu(ram, va_bits)
    va = busy_va(va_bits)
    t = Tables(ram, va_bits)
    last = RAM_END - PAGE_SIZE
    ram.zero(last, PAGE_SIZE)
    desc = page(RAM_BASE + 0x7000, PAGE_READONLY)
    ram.write_u64(Tables.slot(last, 3, va), desc)
    t.set(va, 2, last | DESC_TYPE_TABLE)
    assert mmu.walk(t.root, va) == (3, desc, Tables.slot(last, 3, va))


def test_table_descriptor_ignored_bits(ram, va_bits):
    """Bits 11:2 and 58:52 of a table descriptor are ignored by the walk."""
    t = Tables(ram, va_bits)
    mmu = Mmu(ram, va_bits)
    va = busy_va(va_bits)
    noise = (0x3FF << 2) | (0x7F << 52)
    t.set(va, 3, page(RAM_BASE + 0x9000, PAGE_SHARED), noise=noise)
    assert mmu.translate(t.root, va) == RAM_BASE + 0x9000


def test_leaf_software_bits_do_not_change_the_translation(ram):
    t = Tables(ram, 48)
    mmu = Mmu(ram, 48)
    desc = page(RAM_BASE + 0x9000, PAGE_READONLY) | (0xF << 55)     # dirty, special, ...
    t.set(0x1000, 3, desc)
    assert mmu.walk(t.root, 0x1000)[1] == desc
    assert el0_permissions(desc) == R


def test_bad_va_bits():
    with pytest.raises(ValueError):
        Mmu(PhysicalMemory(PAGE_SIZE), 42)


# -- the walk cache ---------------------------------------------------------------

def test_walk_cache_remembers_the_level3_table(ram, va_bits):
    t = Tables(ram, va_bits)
    mmu = Mmu(ram, va_bits)
    va = busy_va(va_bits)
    old_table = t.table_at(va, 3)
    t.set(va, 3, page(RAM_BASE + 0xA000, PAGE_SHARED))
    t.set(va + 0x5000, 3, page(RAM_BASE + 0xB000, PAGE_READONLY))
    cache = [None, None, 0]
    assert mmu.walk(t.root, va, cache) == mmu.walk(t.root, va)
    assert cache == [va >> 21, t.root, old_table]
    # Same 2 MiB region: same answers as an uncached walk.
    region = va & ~(MiB2 - 1)
    for other in (va + 0x5000, va + 0x1000, region, region + MiB2 - 8):
        assert mmu.walk(t.root, other, cache) == mmu.walk(t.root, other), hex(other)
    assert cache[0] == va >> 21

    # Replace the level-2 entry by a new level-3 table, *without* maintenance.
    new_table = t.alloc()
    ram.write_u64(new_table + (((va >> 12) & 511) << 3), page(RAM_BASE + 0xC000, PAGE_SHARED))
    ram.write_u64(t.path(va)[2], new_table | DESC_TYPE_TABLE)
    assert mmu.translate(t.root, va) == RAM_BASE + 0xC000           # a fresh walk
    # The cached walk still uses the old table: this is what a TLBI must fix.
    level, desc, slot = mmu.walk(t.root, va, cache)
    assert (level, desc & DESC_ADDR_MASK) == (3, RAM_BASE + 0xA000)
    assert slot == old_table + (((va >> 12) & 511) << 3)
    # ... and the old table's *contents* are read afresh (only the walk is cached).
    ram.write_u64(slot, page(RAM_BASE + 0xD000, PAGE_SHARED))
    assert mmu.walk(t.root, va, cache)[1] & DESC_ADDR_MASK == RAM_BASE + 0xD000
    # Emptying the cache (what Core.flush_tlb does) fixes it.
    cache[0] = None
    assert mmu.walk(t.root, va, cache)[1] & DESC_ADDR_MASK == RAM_BASE + 0xC000
    assert cache[2] == new_table


def test_walk_cache_is_tagged_with_ttbr0(ram):
    """Another address space (TTBR0 with another ASID or pgd) must not hit."""
    a = Tables(ram, 48, pool=RAM_BASE, pages=16)
    b = Tables(ram, 48, pool=RAM_BASE + 16 * PAGE_SIZE, pages=16)
    mmu = Mmu(ram, 48)
    a.set(0x40_1000, 3, page(RAM_BASE + 0x10_0000, PAGE_SHARED))
    b.set(0x40_1000, 3, page(RAM_BASE + 0x20_0000, PAGE_SHARED))
    cache = [None, None, 0]
    assert mmu.walk(a.root, 0x40_1000, cache)[1] & DESC_ADDR_MASK == RAM_BASE + 0x10_0000
    assert mmu.walk(b.root, 0x40_1000, cache)[1] & DESC_ADDR_MASK == RAM_BASE + 0x20_0000
    assert mmu.walk(a.root | 5 << 48, 0x40_1000, cache)[1] & DESC_ADDR_MASK == \
        RAM_BASE + 0x10_0000
    assert cache[1] == a.root | 5 << 48


def test_walk_cache_faults_like_the_walk(ram, va_bits):
    t = Tables(ram, va_bits)
    mmu = Mmu(ram, va_bits)
    va = busy_va(va_bits)
    slot = t.set(va, 3, page(RAM_BASE + 0xA000, PAGE_SHARED))
    cache = [None, None, 0]
    mmu.walk(t.root, va, cache)
    assert cache[0] == va >> 21
    ram.write_u64(slot, block(RAM_BASE + 0xA000, PAGE_SHARED))     # reserved at level 3
    assert mmu.walk(t.root, va, cache) == (3, 0, slot) == mmu.walk(t.root, va)
    ram.write_u64(slot, 0)
    assert mmu.walk(t.root, va, cache) == (3, 0, slot) == mmu.walk(t.root, va)
    # Out-of-range VAs are refused before the cache is looked at.
    assert mmu.walk(t.root, va | 1 << va_bits, cache) == (0, 0, None)


def test_walk_cache_not_filled_by_walks_that_stop_early(ram, va_bits):
    t = Tables(ram, va_bits)
    mmu = Mmu(ram, va_bits)
    va = busy_va(va_bits)
    t.set(va, 2, block(RAM_BASE + MiB2, PAGE_SHARED))
    cache = [None, None, 0]
    assert mmu.walk(t.root, va, cache)[0] == 2
    assert mmu.walk(t.root, va ^ (1 << 30), cache) == (1, 0, t.path(va ^ (1 << 30))[1])
    assert cache[0] is None


# ---------------------------------------------------------------------------
# Random tables (shared by the walk-cache property and the QEMU oracle).
# ---------------------------------------------------------------------------

IDX = st.one_of(st.sampled_from([0, 1, 2, 511]), st.integers(0, 511))
DATA_BASE = RAM_BASE + 2 * MiB2       # data pages: every word holds its own PA
DATA_PAGES = (RAM_END - DATA_BASE) // PAGE_SIZE
TABLE_NOISE = st.builds(lambda lo, hi: (lo << 2) | (hi << 52),
                        st.integers(0, 0x3FF), st.integers(0, 0x7F))
OUTSIDE_RAM = [0, 0x1000, RAM_BASE - PAGE_SIZE, RAM_END, 0x8000_0000, 0xFF_FFFF_F000]


@st.composite
def leaf_attrs(draw):
    """Leaf attribute bits: a protection_map template, or AP/XN/AF/... at random."""
    if draw(st.booleans()):
        return draw(st.sampled_from(protection_map)) & ~3 | DESC_VALID
    bits = DESC_VALID | (draw(st.integers(0, 3)) << 6)            # AP[2:1]
    bits |= PTE_AF if draw(st.integers(0, 3)) else 0               # usually accessed
    bits |= draw(st.sampled_from([0, PTE_UXN, PTE_PXN, PTE_UXN | PTE_PXN]))
    bits |= draw(st.sampled_from([MT_NORMAL, 3, MT_DEVICE_nGnRnE])) << PTE_ATTRINDX_SHIFT
    bits |= draw(st.sampled_from([0, PTE_NG])) | draw(st.sampled_from([0, PTE_SHARED]))
    bits |= draw(st.integers(0, 15)) << 55                          # software bits
    return bits


@st.composite
def mapping(draw, va_bits):
    """(level, va, desc, noise): one entry to write, and a probe VA inside it."""
    first = start_level(va_bits)
    level = draw(st.integers(first, 3))
    va = 0
    for lvl in range(first, level + 1):
        va |= draw(IDX) << level_shift(lvl)
    span = 1 << level_shift(level)
    kinds = ["invalid", "outside"] if level == 0 else \
        ["valid"] * 5 + ["invalid"] + (["reserved"] if level == 3 else ["outside"])
    kind = draw(st.sampled_from(kinds))
    if kind == "invalid":
        desc = draw(st.integers(0, (1 << 64) - 1)) & ~DESC_VALID
    elif kind == "outside":
        desc = draw(st.sampled_from(OUTSIDE_RAM)) | DESC_TYPE_TABLE
    else:
        attrs = draw(leaf_attrs())
        if level == 3:
            oa = DATA_BASE + draw(st.integers(0, DATA_PAGES - 1)) * PAGE_SIZE
        elif level == 2:
            oa = RAM_BASE + draw(st.integers(1, RAM_SIZE // MiB2 - 1)) * MiB2
        else:
            oa = draw(st.sampled_from([RAM_BASE, RAM_BASE, 0, 2 * GiB, 3 * GiB]))
        desc = oa | attrs
        desc = desc | DESC_TABLE if level == 3 and kind == "valid" else desc & ~DESC_TABLE
    if level == 1 and draw(st.booleans()):
        off = draw(st.integers(2 * MiB2, RAM_SIZE - 8))       # lands in RAM's data pages
    else:
        off = draw(st.integers(0, span - 1))
    return level, va | (off & ~7), desc, draw(TABLE_NOISE)


@st.composite
def random_tables(draw, va_bits=None):
    if va_bits is None:
        va_bits = draw(st.sampled_from([39, 48]))
    maps = draw(st.lists(mapping(va_bits), min_size=1, max_size=8))
    probes = [va for _, va, _, _ in maps]
    probes += draw(st.lists(st.integers(0, (1 << va_bits) - 1).map(lambda v: v & ~7),
                            max_size=3))
    probes += draw(st.lists(st.builds(lambda hi, lo: (1 << hi) | (lo & ~7),
                                      st.integers(va_bits, 62),
                                      st.integers(0, (1 << va_bits) - 1)), max_size=1))
    return va_bits, maps, probes


def build(memory, va_bits, maps, pool=RAM_BASE, pages=256):
    t = Tables(memory, va_bits, pool, pages)
    for level, va, desc, noise in maps:
        t.set(va, level, desc, noise)
    return t


@settings(max_examples=150, deadline=None)
@given(random_tables(), st.randoms(use_true_random=False))
def test_walk_cache_agrees_with_walk_while_tables_stay(tables, rnd):
    va_bits, maps, probes = tables
    memory = PhysicalMemory(RAM_SIZE)
    t = build(memory, va_bits, maps)
    mmu = Mmu(memory, va_bits)
    cache = [None, None, 0]
    seq = probes * 3
    rnd.shuffle(seq)
    for va in seq:
        assert mmu.walk(t.root, va, cache) == mmu.walk(t.root, va), hex(va)


# ---------------------------------------------------------------------------
# What the kernel writes (kernel/mm/pgtable.py) is what the walker reads.
# ---------------------------------------------------------------------------

def count_tables(memory, table, level):
    """Tables reachable below `table` (a table at `level`), not counting it."""
    n = 0
    if level == 3:
        return 0
    for i in range(512):
        desc = memory.read_u64(table + 8 * i)
        if desc & DESC_VALID:
            n += 1 + count_tables(memory, desc & DESC_ADDR_MASK, level + 1)
    return n


PAGE_ADDR = st.builds(lambda region, idx: (region << 21) | (idx << 12),
                      st.one_of(st.sampled_from([0, 1, 511, 512, 0x3FFFF]),
                                st.integers(0, (1 << 27) - 1)),
                      st.sampled_from([0, 1, 2, 255, 511]))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([39, 48]), st.lists(st.tuples(PAGE_ADDR, st.sampled_from(protection_map)),
                                           min_size=1, max_size=40), st.data())
def test_pgtable_writes_what_the_walker_reads(va_bits, ptes, data):
    from types import SimpleNamespace
    from kernel.mm.page_alloc import PageAllocator
    from kernel.mm.pgtable import PageTables
    from kernel.trace import Tracer

    memory = PhysicalMemory(RAM_SIZE)
    pages = PageAllocator(memory)
    pgtable = PageTables(memory, pages, va_bits, Tracer())
    mm = SimpleNamespace(pgd=pgtable.pgd_alloc(), nr_ptes=0, pte_table_cache=(None, 0))
    mmu = Mmu(memory, va_bits)
    limit = 1 << va_bits
    written = {}
    for addr, prot in ptes:
        addr %= limit
        ptep = pgtable.pte_offset_alloc(mm, addr)
        pte = page(DATA_BASE + (addr >> 12) % DATA_PAGES * PAGE_SIZE, prot)
        pgtable.set_pte_at(mm, addr, ptep, pte)
        written[addr] = (ptep, pte)
    assert mm.nr_ptes == count_tables(memory, mm.pgd, start_level(va_bits))
    assert pages.nr_pages - pages.nr_free == 1 + mm.nr_ptes
    for addr, (ptep, pte) in written.items():
        assert pgtable.pte_offset(mm, addr) == ptep
        assert mmu.walk(mm.pgd, addr + 0x10) == (3, pte if pte & DESC_VALID else 0, ptep)

    # munmap [lo, hi) around a written page: zap the ptes, free the tables
    # that only map the hole.  (zap_pte_range steps 2 MiB at a time over
    # missing tables, so the ranges stay below 4 GiB.)
    around = data.draw(st.sampled_from(sorted(written)))
    lo = max(0, around - data.draw(st.integers(0, 1 << 20)) * PAGE_SIZE)
    hi = min(limit, around + data.draw(st.integers(0, 1 << 20)) * PAGE_SIZE)
    released = pgtable.zap_pte_range(mm, lo, hi)      # the cleared ptes
    pgtable.free_pgd_range(mm, lo, hi, lo, hi)
    assert sorted(released) == sorted(pte for a, (_, pte) in written.items() if lo <= a < hi)
    assert mm.nr_ptes == count_tables(memory, mm.pgd, start_level(va_bits))
    assert pages.nr_pages - pages.nr_free == 1 + mm.nr_ptes, "table frames leaked or lost"
    for addr, (ptep, pte) in written.items():
        if lo <= addr < hi:
            assert mmu.translate(mm.pgd, addr) is None
        else:
            assert mmu.walk(mm.pgd, addr) == (3, pte if pte & DESC_VALID else 0, ptep)

    # exit_mmap: zap what is left (2 MiB region by region), free every table.
    for region in {a >> 21 for a in written}:
        pgtable.zap_pte_range(mm, region << 21, (region + 1) << 21)
    pgtable.free_pgd_range(mm, 0, limit, 0, limit)
    assert mm.nr_ptes == 0 and pages.nr_pages - pages.nr_free == 1
    assert not any(memory.read(mm.pgd, PAGE_SIZE))
    assert mmu.walk(mm.pgd, around) == (start_level(va_bits), 0,
                                         Tables.slot(mm.pgd, start_level(va_bits), around))


# ---------------------------------------------------------------------------
# tlb_fill with a stand-in core.
# ---------------------------------------------------------------------------

class FakeCore:
    """What Mmu.tlb_fill needs of a core: ttbr0, the walk cache, take_abort."""

    def __init__(self, ttbr0, handler=None):
        self.ttbr0 = ttbr0
        self.walk_cache = [None, None, 0]
        self.stop_requested = False
        self.aborts = []
        self.handler = handler

    def take_abort(self, esr, far):
        self.aborts.append((esr, far))
        if self.handler:
            self.handler(self, esr, far)

    def stop(self):
        self.stop_requested = True


ACCESSES = {UC_MEM_READ: R, UC_MEM_WRITE: W, UC_MEM_FETCH: X}


@pytest.mark.parametrize("vm_flags", range(16))
@pytest.mark.parametrize("access", sorted(ACCESSES))
def test_tlb_fill_for_every_protection_map_entry(ram, vm_flags, access):
    t = Tables(ram, 48)
    mmu = Mmu(ram, 48)
    va, pa = 0x40_0000, RAM_BASE + 0x10_0000
    slot = t.set(va, 3, page(pa, protection_map[vm_flags]))
    core = FakeCore(t.root, handler=lambda c, esr, far: c.stop())
    answer = mmu.tlb_fill(core, va, access)
    allowed = EXPECTED_PROTECTION[vm_flags]
    ec = EC_IABT_LOW if access == UC_MEM_FETCH else EC_DABT_LOW
    if allowed is None:
        assert answer is None
        assert core.aborts == [(esr_abort(ec, FSC_TRANSLATION, 3, access == UC_MEM_WRITE), va)]
    elif allowed & ACCESSES[access]:
        assert answer == (pa, allowed), "every permission the pte grants"
        assert core.aborts == []
    else:
        assert answer is None
        assert core.aborts == [(esr_abort(ec, FSC_PERMISSION, 3, access == UC_MEM_WRITE), va)]
    assert ram.read_u64(slot) == page(pa, protection_map[vm_flags])


def test_tlb_fill_retries_after_the_handler_fixes_things(ram):
    """Translation fault -> map read-only; write -> permission fault -> make
    writable; each time the access is retried, as eret re-executes it."""
    t = Tables(ram, 48)
    mmu = Mmu(ram, 48)
    va, pa = 0x40_3000, RAM_BASE + 0x10_0000

    def handler(core, esr, far):
        slot = Tables.slot(t.table_at(far, 3), 3, far)
        if esr & 0x3C == FSC_TRANSLATION:
            ram.write_u64(slot, page(pa, PAGE_READONLY))
        elif esr & 0x3C == FSC_PERMISSION:
            ram.write_u64(slot, page(pa, PAGE_SHARED))

    core = FakeCore(t.root, handler)
    assert mmu.tlb_fill(core, va, UC_MEM_READ) == (pa, R)
    assert mmu.tlb_fill(core, va, UC_MEM_WRITE) == (pa, R | W)
    # The pgd was empty: the first fault is at level 0.
    assert core.aborts == [(0x92000004, va), (0x9200004F, va)]


def test_tlb_fill_block_answers_the_page_inside_the_block(ram):
    t = Tables(ram, 39)
    mmu = Mmu(ram, 39)
    t.set(0x20_0000, 2, block(RAM_BASE + 2 * MiB2, PAGE_READONLY_EXEC & ~PTE_AF))
    t.set(0x4000_0000, 1, block(RAM_BASE, PAGE_SHARED))

    def set_af(core, esr, far):
        assert esr == 0x9200000A          # access flag fault, level 2
        slot = t.path(far)[2]
        ram.write_u64(slot, ram.read_u64(slot) | PTE_AF)

    core = FakeCore(t.root, set_af)
    assert mmu.tlb_fill(core, 0x20_0000 + 0x3_5000, UC_MEM_READ) == \
        (RAM_BASE + 2 * MiB2 + 0x3_5000, R | X)
    assert mmu.tlb_fill(core, 0x4000_0000 + 0x7_6000, UC_MEM_WRITE) == \
        (RAM_BASE + 0x7_6000, R | W)
    core.handler = lambda c, esr, far: c.stop()
    assert mmu.tlb_fill(core, 0x20_0000 + 0x3_5000, UC_MEM_WRITE) is None
    assert core.aborts[-1] == (0x9200004E, 0x20_0000 + 0x3_5000)     # permission, level 2


def test_tlb_fill_unresolved_abort_is_a_kernel_bug(ram):
    t = Tables(ram, 48)
    mmu = Mmu(ram, 48)
    core = FakeCore(t.root)                 # the "kernel" fixes nothing
    with pytest.raises(RuntimeError, match="not resolved"):
        mmu.tlb_fill(core, 0x1234_5000, UC_MEM_READ)
    assert core.aborts == [(0x92000004, 0x1234_5000)] * MAX_FAULT_RETRIES


def test_tlb_fill_uses_and_fills_the_walk_cache(ram):
    t = Tables(ram, 48)
    mmu = Mmu(ram, 48)
    t.set(0x40_0000, 3, page(RAM_BASE + 0x10_0000, PAGE_SHARED))
    core = FakeCore(t.root)
    assert mmu.tlb_fill(core, 0x40_0000, UC_MEM_READ) == (RAM_BASE + 0x10_0000, R | W)
    assert core.walk_cache[0] == 0x40_0000 >> 21
    assert core.walk_cache[2] == t.table_at(0x40_0000, 3)


# ---------------------------------------------------------------------------
# 3. Through a real Core: EL0 programs, aborts, retries.
# ---------------------------------------------------------------------------

def movz(rd, imm16, shift=0):
    return 0xD2800000 | (shift // 16) << 21 | imm16 << 5 | rd


def movk(rd, imm16, shift=0):
    return 0xF2800000 | (shift // 16) << 21 | imm16 << 5 | rd


def mov64(rd, value):
    words = [movz(rd, value & 0xFFFF)]
    for shift in (16, 32, 48):
        if (value >> shift) & 0xFFFF:
            words.append(movk(rd, (value >> shift) & 0xFFFF, shift))
    return words


def ldr(rt, rn, imm=0):
    return 0xF9400000 | (imm // 8) << 10 | rn << 5 | rt


def str_(rt, rn, imm=0):
    return 0xF9000000 | (imm // 8) << 10 | rn << 5 | rt


def br(rn):
    return 0xD61F0000 | rn << 5


SVC0 = 0xD4000001
NOP = 0xD503201F
AT_S1E0R_X0 = 0xD5087840
AT_S1E0W_X0 = 0xD5087860


def mrs_par_el1(rt):
    return 0xD5387400 | rt


def code_bytes(words):
    return b"".join(struct.pack("<I", w) for w in words)


def test_hand_assembled_instructions():
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    words = mov64(3, 0x1234_0000_5678) + [
        ldr(1, 0), str_(1, 0, 8), ldr(1, 1, 16), br(0), SVC0, NOP, AT_S1E0R_X0, AT_S1E0W_X0,
        mrs_par_el1(1)]
    words.append(0xA9400801)
    text = ["%s %s" % (i.mnemonic, i.op_str) for i in md.disasm(code_bytes(words), 0)]
    assert [s.strip() for s in text] == [
        "mov x3, #0x5678", "movk x3, #0x1234, lsl #32",
        "ldr x1, [x0]", "str x1, [x0, #8]", "ldr x1, [x1, #0x10]", "br x0", "svc #0", "nop",
        "at s1e0r, x0", "at s1e0w, x0", "mrs x1, par_el1", "ldp x1, x2, [x0]"]


CODE_VA = 0x40_0000                 # 4 MiB
DATA_VA = 0x60_0000                 # 6 MiB: another 2 MiB region
CODE_PA = RAM_BASE + 0x10_0000
DATA_PA = RAM_BASE + 0x20_0000
DATA2_PA = RAM_BASE + 0x21_0000
MARKER = 0x0DDC_0FFE_EBAD_F00D


class RecordingVector:
    """A VBAR_EL1: records every exception; SVC stops the core; aborts go to
    `on_abort(core)` (which maps something, or stops the core)."""

    def __init__(self, on_abort=None):
        self.on_abort = on_abort
        self.log = []           # (esr, far, elr, stop_requested already?)

    def el0_sync(self, core):
        ec = core.esr_el1 >> ESR_EC_SHIFT
        far = core.far_el1 if ec in (EC_DABT_LOW, EC_IABT_LOW) else None   # else UNKNOWN
        self.log.append((core.esr_el1, far, core.elr_el1, core.stop_requested))
        if core.stop_requested:
            return
        if ec == EC_SVC64:
            core.stop()
        elif self.on_abort is not None:
            self.on_abort(core)

    def events(self):
        """(esr, far, elr) of the exceptions taken while the core was running."""
        return [e[:3] for e in self.log if not e[3]]


@pytest.fixture(params=[48, 39], ids=["va48", "va39"])
def machine(request):
    """A one-core board whose TTBR0 (ASID 1) points at an empty pgd."""
    board = Board(ram_size=RAM_SIZE, cores=1, va_bits=request.param)
    core = board.cores[0]
    t = Tables(board.memory, request.param)
    core.ttbr0 = (1 << 48) | t.root
    return board, core, t


def load_program(board, words, pa=CODE_PA):
    board.memory.write(pa, code_bytes(words))


def test_demand_paging_through_a_core(machine):
    board, core, t = machine
    mem = board.memory
    # The level-3 tables exist; every pte is empty.
    t.table_at(CODE_VA, 3)
    t.table_at(DATA_VA, 3)
    load_program(board, mov64(0, DATA_VA) + [ldr(1, 0), str_(1, 0, 8), SVC0])
    mem.write_u64(DATA_PA, MARKER)

    def on_abort(core):
        va = core.far_el1 & PAGE_MASK
        esr = core.esr_el1
        slot = Tables.slot(t.table_at(va, 3), 3, va)
        if va == CODE_VA:
            mem.write_u64(slot, page(CODE_PA, PAGE_READONLY_EXEC))
        elif esr & 0x3C == FSC_TRANSLATION:
            mem.write_u64(slot, page(DATA_PA, PAGE_READONLY))     # read-only first ...
        else:
            mem.write_u64(slot, page(DATA_PA, PAGE_SHARED))       # ... then "break COW"

    vec = RecordingVector(on_abort)
    board.install_vector(vec)
    core.run(CODE_VA)
    events = vec.events()
    ldr_pc = CODE_VA + 4 * len(mov64(0, DATA_VA))
    assert [(esr, far and far & PAGE_MASK, elr) for esr, far, elr in events] == [
        (0x82000007, CODE_VA, CODE_VA),             # fetch: IABT_LOW, translation, level 3
        (0x92000007, DATA_VA, ldr_pc),              # ldr: DABT_LOW read, translation, level 3
        (0x9200004F, DATA_VA, ldr_pc + 4),          # str: DABT_LOW WnR, permission, level 3
        ((EC_SVC64 << ESR_EC_SHIFT) | ESR_IL, None, ldr_pc + 12),  # past the svc
    ]
    assert events[0][1] == CODE_VA and events[1][1] == DATA_VA
    assert core.x(1) == MARKER
    assert mem.read_u64(DATA_PA + 8) == MARKER      # the retried store landed
    assert core.pc == ldr_pc + 12


def test_store_to_an_unmapped_page_sets_wnr(machine):
    board, core, t = machine
    t.table_at(DATA_VA, 3)
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    load_program(board, mov64(0, DATA_VA) + mov64(1, MARKER) + [str_(1, 0), SVC0])

    def on_abort(core):
        t.set(DATA_VA, 3, page(DATA_PA, PAGE_SHARED))

    vec = RecordingVector(on_abort)
    board.install_vector(vec)
    core.run(CODE_VA)
    n = len(mov64(0, DATA_VA) + mov64(1, MARKER))
    assert vec.events()[0] == (0x92000047, DATA_VA, CODE_VA + 4 * n)
    assert board.memory.read_u64(DATA_PA) == MARKER


def test_access_flag_fault(machine):
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    slot = t.set(DATA_VA, 3, page(DATA_PA, PAGE_READONLY & ~PTE_AF))
    board.memory.write_u64(DATA_PA, MARKER)
    load_program(board, mov64(0, DATA_VA) + [ldr(1, 0), SVC0])

    def on_abort(core):
        board.memory.write_u64(slot, board.memory.read_u64(slot) | PTE_AF)

    vec = RecordingVector(on_abort)
    board.install_vector(vec)
    core.run(CODE_VA)
    assert vec.events()[0] == (0x9200000B, DATA_VA, CODE_VA + 4 * len(mov64(0, DATA_VA)))
    assert core.x(1) == MARKER


def test_translation_fault_reports_the_level(machine):
    board, core, t = machine
    va_bits = board.mmu.va_bits
    load_program(board, [ldr(1, 0), SVC0])
    vec = RecordingVector(lambda c: c.stop())
    board.install_vector(vec)
    far = va_of(va_bits, l0=0x0F3 if va_bits == 48 else 0, l1=0x1FE, l2=7, l3=5, off=0x28)
    for level in range(start_level(va_bits), 4):
        # A fresh pgd with tables down to `level` (and the code page mapped).
        t = Tables(board.memory, va_bits, pool=RAM_BASE + 0x40_0000 + 0x2_0000 * level, pages=16)
        t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
        t.table_at(far, level)
        core.ttbr0 = t.root
        core.flush_tlb()
        vec.log.clear()
        core.set_x(0, far)
        core.run(CODE_VA)
        esr = esr_abort(EC_DABT_LOW, FSC_TRANSLATION, level, False)
        assert [(e, f & PAGE_MASK, elr) for e, f, elr in vec.events()] == \
            [(esr, far & PAGE_MASK, CODE_VA)], "level %d" % level


def test_va_beyond_va_bits_faults_at_level0_through_a_core(machine):
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    t.set(DATA_VA, 3, page(DATA_PA, PAGE_SHARED))
    far = (1 << board.mmu.va_bits) | DATA_VA
    load_program(board, mov64(0, far) + [ldr(1, 0), SVC0])
    vec = RecordingVector(lambda c: c.stop())
    board.install_vector(vec)
    core.run(CODE_VA)
    assert vec.events()[0][:2] == (0x92000004, far)


def test_tagged_pointer_top_byte_is_ignored(machine):
    """Linux 4.14 runs EL0 with TCR_EL1.TBI0 = 1 (Documentation/arm64/
    tagged-pointers.txt): a load through a pointer with a tag in bits 63:56
    reads the untagged address."""
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    t.set(DATA_VA, 3, page(DATA_PA, PAGE_SHARED))
    board.memory.write_u64(DATA_PA, MARKER)
    tagged = (0x5A << 56) | DATA_VA
    program = mov64(0, tagged) + [ldr(1, 0), SVC0]
    load_program(board, program)
    vec = RecordingVector(lambda c: c.stop())
    board.install_vector(vec)
    core.run(CODE_VA)
    # no abort: the only exception is the svc at the end
    assert vec.events() == [((EC_SVC64 << ESR_EC_SHIFT) | ESR_IL, None,
                             CODE_VA + 4 * len(program))], \
        [esr_describe(e[0]) for e in vec.events()]
    assert core.x(1) == MARKER


def test_fetch_from_unmapped_page_and_kill(machine):
    """br to nothing: an instruction abort whose FAR and ELR are the target;
    the vector kills the task (stops the core): run() returns quietly."""
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    target = CODE_VA + 0x7000
    t.table_at(target, 3)
    load_program(board, mov64(0, target) + [br(0), SVC0])
    vec = RecordingVector(lambda c: c.stop())
    board.install_vector(vec)
    core.run(CODE_VA)
    assert vec.events() == [(0x82000007, target, target)]


def test_fetch_from_execute_never_page(machine):
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    t.set(DATA_VA, 3, page(DATA_PA, PAGE_SHARED))           # rw-, UXN
    load_program(board, mov64(0, DATA_VA) + [br(0)])
    vec = RecordingVector(lambda c: c.stop())
    board.install_vector(vec)
    core.run(CODE_VA)
    assert vec.events() == [(0x8200000F, DATA_VA, DATA_VA)]     # permission, level 3


def test_execute_only_page_runs_but_cannot_be_read(machine):
    """PAGE_EXECONLY (AP=10, UXN=0): EL0 fetches from it, but a load faults."""
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_EXECONLY))
    load_program(board, mov64(0, CODE_VA) + [ldr(1, 0), SVC0])
    vec = RecordingVector(lambda c: c.stop())
    board.install_vector(vec)
    core.run(CODE_VA)
    assert vec.events() == [(0x9200000F, CODE_VA, CODE_VA + 4 * len(mov64(0, CODE_VA)))]


def test_block_mapping_through_a_core(machine):
    """A 2 MiB block: AF fault and permission fault at level 2, and the page
    Unicorn gets is the one inside the block."""
    board, core, t = machine
    mem = board.memory
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    blk_va, blk_pa, off = 0x4000_0000 + 3 * MiB2, RAM_BASE + 4 * MiB2, 0x12_3450
    slot = t.set(blk_va, 2, block(blk_pa, PAGE_READONLY & ~PTE_AF))
    mem.write_u64(blk_pa + off, MARKER)
    load_program(board, mov64(0, blk_va + off) + [ldr(1, 0), str_(1, 0, 8), SVC0])

    def on_abort(core):
        desc = mem.read_u64(slot)
        mem.write_u64(slot, desc | PTE_AF if not desc & PTE_AF else desc & ~PTE_RDONLY)

    vec = RecordingVector(on_abort)
    board.install_vector(vec)
    core.run(CODE_VA)
    n = len(mov64(0, blk_va + off))
    assert [(esr, far & PAGE_MASK, elr) for esr, far, elr in vec.events()[:2]] == [
        (0x9200000A, (blk_va + off) & PAGE_MASK, CODE_VA + 4 * n),
        (0x9200004E, (blk_va + off + 8) & PAGE_MASK, CODE_VA + 4 * n + 4)]
    assert core.x(1) == MARKER
    assert mem.read_u64(blk_pa + off + 8) == MARKER


def test_unresolved_abort_is_reported_as_a_kernel_bug(machine):
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    load_program(board, mov64(0, DATA_VA) + [ldr(1, 0), SVC0])
    vec = RecordingVector(lambda c: None)       # returns without fixing anything
    board.install_vector(vec)
    with pytest.raises(RuntimeError, match="not resolved"):
        core.run(CODE_VA)
    assert len(vec.events()) == MAX_FAULT_RETRIES


def test_stale_translation_until_tlb_maintenance(machine):
    """Changing a valid pte without TLBI leaves the old translation in use
    (architecturally allowed); flush_tlb / flush_tlb_page make it visible."""
    board, core, t = machine
    mem = board.memory
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    slot = t.set(DATA_VA, 3, page(DATA_PA, PAGE_SHARED))
    mem.write_u64(DATA_PA, 111)
    mem.write_u64(DATA2_PA, 222)
    load_program(board, mov64(0, DATA_VA) + [ldr(1, 0), SVC0])
    board.install_vector(RecordingVector())
    core.run(CODE_VA)
    assert core.x(1) == 111
    mem.write_u64(slot, page(DATA2_PA, PAGE_SHARED))
    core.run(CODE_VA)
    assert core.x(1) == 111                     # the TLB still holds the old page
    core.flush_tlb()
    core.run(CODE_VA)
    assert core.x(1) == 222
    # A new level-3 table for the data region (e.g. after free_pgd_range):
    # the walk cache holds the old table until a TLBI for a page there,
    # which drops that page's entry and the cached walk.
    new_l3 = t.alloc()
    mem.write_u64(Tables.slot(new_l3, 3, DATA_VA), page(DATA_PA, PAGE_SHARED))
    mem.write_u64(t.path(DATA_VA)[2], new_l3 | DESC_TYPE_TABLE)
    core.flush_tlb_page(DATA_VA)
    core.run(CODE_VA)
    assert core.x(1) == 111


@pytest.mark.parametrize("per_page", [True, False], ids=["tlb_flush_page", "whole_tlb"])
def test_flush_tlb_page_drops_that_page_only_where_unicorn_can(machine, per_page):
    """Core.flush_tlb_page: with QEMU's tlb_flush_page (found and checked
    at start-up on the pinned Unicorn) the other pages stay cached; without
    it (another Unicorn, or the probe failed) the whole TLB goes.  Either
    way the page flushed is translated afresh."""
    board, core, t = machine
    if per_page:
        assert core._tlb_flush_page is not None     # found on the pinned version
    else:
        core._tlb_flush_page = None
    mem = board.memory
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    slot1 = t.set(DATA_VA, 3, page(DATA_PA, PAGE_SHARED))
    slot2 = t.set(DATA_VA + PAGE_SIZE, 3, page(DATA2_PA, PAGE_SHARED))
    mem.write_u64(DATA_PA, 111)
    mem.write_u64(DATA2_PA, 222)
    load_program(board, mov64(0, DATA_VA) + [ldr(1, 0)] + mov64(2, DATA_VA + PAGE_SIZE)
                 + [ldr(3, 2), SVC0])
    board.install_vector(RecordingVector())
    core.run(CODE_VA)
    assert (core.x(1), core.x(3)) == (111, 222)
    mem.write_u64(slot1, page(DATA2_PA, PAGE_SHARED))       # swap the two frames
    mem.write_u64(slot2, page(DATA_PA, PAGE_SHARED))
    core.flush_tlb_page(DATA_VA)
    core.run(CODE_VA)
    assert core.x(1) == 222
    assert core.x(3) == (222 if per_page else 111)          # stale only per page
    flushes = core.nr_tlb_flushes
    core.flush_tlb_page(DATA_VA + PAGE_SIZE)
    core.run(CODE_VA)
    assert (core.x(1), core.x(3)) == (222, 111)
    assert core.nr_tlb_flushes == flushes + (0 if per_page else 1)


def test_new_code_in_a_reused_frame_is_executed(machine):
    """The kernel writes new code into a frame that held other code (exec
    reusing a freed frame) and maps it at the same VA: the core must run the
    new code.  Linux gets this from cache maintenance (__sync_icache_dcache
    in set_pte_at); here Unicorn's translated blocks, cached by VA + PA and
    not invalidated by writes through the host buffer, must be dropped."""
    board, core, t = machine
    slot = t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    board.install_vector(RecordingVector())
    load_program(board, [movz(1, 1), SVC0])
    core.run(CODE_VA)
    assert core.x(1) == 1
    # exit + exec: the pte goes (TLBI), the frame is refilled and mapped again.
    board.memory.write_u64(slot, 0)
    core.flush_tlb()
    load_program(board, [movz(1, 2), SVC0])
    board.memory.write_u64(slot, page(CODE_PA, PAGE_READONLY_EXEC))
    core.ttbr0 = (2 << 48) | t.root                 # even a new ASID
    core.flush_tlb()
    core.run(CODE_VA)
    # Like the silicon, a TLB flush alone does not make new code visible...
    assert core.x(1) == 1
    # ...an instruction-cache invalidation does (the kernel does it before
    # reusing a frame that was executable: PageAllocator.alloc_page).
    core.flush_code_cache()
    core.run(CODE_VA)
    assert core.x(1) == 2


# (instruction word, text, registers to set, effective address, x0 after the retry)
# with base x0 = DATA_VA + 0x100; x2 = index; sp = DATA_VA + 0x800.
B = DATA_VA + 0x100
FAR_CASES = [
    (ldr(1, 0, 0x18), "ldr x1, [x0, #0x18]", {}, B + 0x18, B),
    (0xF85FB001, "ldur x1, [x0, #-5]", {}, B - 5, B),
    (0xF8627801, "ldr x1, [x0, x2, lsl #3]", {2: 7}, B + 56, B),
    (0x3862C801, "ldrb w1, [x0, w2, sxtw]", {2: 0xFFFF_FFF0}, B - 16, B),
    (0xF81F8C01, "str x1, [x0, #-8]!", {}, B - 8, B - 8),
    (0xF8008401, "str x1, [x0], #8", {}, B, B + 8),
    (0xA9410801, "ldp x1, x2, [x0, #0x10]", {}, B + 0x10, B),
    (0xF9400FE1, "ldr x1, [sp, #0x18]", {}, DATA_VA + 0x818, B),
]


def test_far_cases_are_what_they_say():
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    for insn, text, _, _, _ in FAR_CASES:
        (dis,) = md.disasm(code_bytes([insn]), 0)
        assert "%s %s" % (dis.mnemonic, dis.op_str) == text


@pytest.mark.parametrize("case", FAR_CASES, ids=[c[1] for c in FAR_CASES])
def test_far_is_the_faulting_address(machine, case):
    """FAR_EL1 of a data abort is the address accessed, not its page (Linux
    reports it as si_addr); the access completes, writeback once, on retry."""
    insn, text, regs, ea, x0_after = case
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    t.table_at(DATA_VA, 3)
    load_program(board, [insn, SVC0])
    core.set_x(0, B)
    for reg, value in regs.items():
        core.set_x(reg, value)
    core.sp = DATA_VA + 0x800

    def on_abort(core):
        t.set(DATA_VA, 3, page(DATA_PA, PAGE_SHARED))

    vec = RecordingVector(on_abort)
    board.install_vector(vec)
    core.run(CODE_VA)
    esr, far, elr = vec.events()[0]
    assert esr & 0x3F == FSC_TRANSLATION | 3 and elr == CODE_VA
    assert far == ea, text
    assert core.x(0) == x0_after, "base writeback exactly once"
    assert core.pc == CODE_VA + 8


def test_far_of_an_access_straddling_into_an_unmapped_page(machine):
    """ldp x1, x2, [x0] with x0 8 bytes below an unmapped page: the abort is
    for the second page, and FAR lies in that page and within the access."""
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    t.set(DATA_VA - PAGE_SIZE, 3, page(DATA2_PA, PAGE_SHARED))
    t.table_at(DATA_VA, 3)
    board.memory.write_u64(DATA2_PA + PAGE_SIZE - 8, MARKER)
    board.memory.write_u64(DATA_PA, MARKER + 1)
    load_program(board, [0xA9400801, SVC0])              # ldp x1, x2, [x0]
    core.set_x(0, DATA_VA - 8)

    def on_abort(core):
        t.set(DATA_VA, 3, page(DATA_PA, PAGE_SHARED))

    vec = RecordingVector(on_abort)
    board.install_vector(vec)
    core.run(CODE_VA)
    ((esr, far, elr), _svc) = vec.events()
    assert (esr, elr) == (0x92000007, CODE_VA)
    assert far & PAGE_MASK == DATA_VA and DATA_VA - 8 <= far < DATA_VA + 8
    assert (core.x(1), core.x(2)) == (MARKER, MARKER + 1)


def test_no_exception_after_the_core_stopped(machine):
    """Once the vector stopped the core (exit, fatal signal), nothing more
    may reach the vector for that run."""
    board, core, t = machine
    t.set(CODE_VA, 3, page(CODE_PA, PAGE_READONLY_EXEC))
    load_program(board, [SVC0])
    vec = RecordingVector()
    board.install_vector(vec)
    core.run(CODE_VA)
    assert [e for e in vec.log if e[3]] == [], "an exception reached the vector after stop()"
    assert vec.events() == [((EC_SVC64 << ESR_EC_SHIFT) | ESR_IL, None, CODE_VA + 4)]


# ---------------------------------------------------------------------------
# 4. Differential test against QEMU's walker (Unicorn, UC_TLB_CPU).
# ---------------------------------------------------------------------------

# Code runs from TTBR1 (the top 512 GiB, T1SZ=25), so every TTBR0 table the
# test generates can be random.  The page is EL0- and EL1-executable.
ORACLE_CODE_VA = 0xFFFF_FFFF_FFFF_F000
ORACLE_TTBR1_POOL = RAM_BASE + 0x1F_0000      # 3 tables, then the code page
ORACLE_CODE_PA = RAM_BASE + 0x1F_3000
ORACLE_AT = ORACLE_CODE_VA                    # at s1e0r; mrs x1; at s1e0w; mrs x2
ORACLE_LDR = ORACLE_CODE_VA + 0x20
ORACLE_STR = ORACLE_CODE_VA + 0x30
ORACLE_BR = ORACLE_CODE_VA + 0x40
ORACLE_STORED = 0x5EED_5EED_5EED_5EED
EXCP_UDEF, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT = 1, 3, 4

SCTLR_EL1 = (3, 0, 1, 0, 0)
TCR_EL1 = (3, 0, 2, 0, 2)
TTBR0_EL1 = (3, 0, 2, 0, 0)
TTBR1_EL1 = (3, 0, 2, 0, 1)
MAIR_EL1 = (3, 0, 10, 2, 0)
TPIDR_EL1 = (3, 0, 13, 0, 4)
SCR_EL3 = (3, 6, 1, 1, 0)
SCR_RW = 1 << 10


def tcr_el1(t0sz):
    """4 KiB granules, write-back cacheable walks, inner shareable, 40-bit IPS,
    TTBR1 at 39 bits, top-byte-ignore for TTBR0 (TBI0, bit 37) as Linux sets it."""
    return (t0sz | 1 << 8 | 1 << 10 | 3 << 12 | 0 << 14
            | 25 << 16 | 1 << 24 | 1 << 26 | 3 << 28 | 2 << 30 | 2 << 32 | 1 << 37)


class QemuOracle:
    """A Unicorn instance with QEMU's own MMU on, over the same RAM buffer."""

    def __init__(self):
        self.memory = PhysicalMemory(RAM_SIZE)
        mem = self.memory
        words = array("Q", range(DATA_BASE, RAM_END, 8))      # every word = its PA
        mem.write(DATA_BASE, words.tobytes())
        # Data words are A64 unallocated encodings (bits 28:25 = 0000, high
        # half 0): executing one is an undefined-instruction exception.
        assert (RAM_END - 1) >> 25 & 0xF == 0 and DATA_BASE >> 25 & 0xF == 0
        uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        uc.ctl_set_cpu_model(A.UC_CPU_ARM64_A53)
        uc.ctl_set_page_size(PAGE_SIZE)
        uc.ctl_set_tlb_mode(UC_TLB_CPU)
        uc.mem_map_ptr(mem.base, mem.size, UC_PROT_ALL, mem.host_address)
        self.uc = uc
        t1 = Tables(mem, 39, pool=ORACLE_TTBR1_POOL, pages=3)
        t1.set(ORACLE_CODE_VA & ((1 << 39) - 1), 3,
               page(ORACLE_CODE_PA, LEAF_BASE | PTE_USER | PTE_RDONLY))
        code = {ORACLE_AT: [AT_S1E0R_X0, mrs_par_el1(1), AT_S1E0W_X0, mrs_par_el1(2), NOP],
                ORACLE_LDR: [ldr(1, 0), NOP], ORACLE_STR: [str_(2, 0), NOP],
                ORACLE_BR: [br(0), NOP]}
        for va, words in code.items():
            mem.write(ORACLE_CODE_PA + (va - ORACLE_CODE_VA), code_bytes(words))
        uc.cpr_write(*SCR_EL3, uc.cpr_read(*SCR_EL3) | SCR_RW)     # EL1 is AArch64
        uc.cpr_write(*MAIR_EL1, MAIR_EL1_LINUX)
        uc.cpr_write(*TCR_EL1, tcr_el1(25))
        uc.cpr_write(*TTBR1_EL1, t1.root)
        uc.cpr_write(*TTBR0_EL1, RAM_BASE)
        uc.cpr_write(*SCTLR_EL1, uc.cpr_read(*SCTLR_EL1) | 1)
        self.pstate_el1 = uc.reg_read(A.UC_ARM64_REG_PSTATE)
        assert self.pstate_el1 & 0xF == 0x5, "Unicorn starts at EL1h"
        self.el = 1
        self.exceptions = []
        uc.hook_add(UC_HOOK_INTR, self._on_interrupt)

    def _on_interrupt(self, uc, intno, user):
        self.exceptions.append((intno, uc.reg_read(A.UC_ARM64_REG_PC)))
        uc.emu_stop()

    def reset(self, ttbr0, va_bits):
        self.uc.cpr_write(*TCR_EL1, tcr_el1(64 - va_bits))
        self.uc.cpr_write(*TTBR0_EL1, ttbr0)
        self.uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)

    def at_el(self, el):
        if self.el != el:
            self.uc.reg_write(A.UC_ARM64_REG_PSTATE, self.pstate_el1 & ~0xF | (5 if el else 0))
            self.uc.cpr_write(*TPIDR_EL1, 0)        # rebuilds QEMU's hflags
            self.el = el

    def run(self, pc, x0, until):
        self.exceptions.clear()
        self.uc.reg_write(A.UC_ARM64_REG_X0, x0)
        self.uc.reg_write(A.UC_ARM64_REG_X1, 0)
        self.uc.reg_write(A.UC_ARM64_REG_X2, ORACLE_STORED)
        self.uc.emu_start(pc, until)
        return list(self.exceptions)

    def at(self, va):
        """PAR_EL1 after AT S1E0R and after AT S1E0W (EL0 permissions)."""
        self.at_el(1)
        assert self.run(ORACLE_AT, va, ORACLE_AT + 16) == []
        return self.uc.reg_read(A.UC_ARM64_REG_X1), self.uc.reg_read(A.UC_ARM64_REG_X2)

    def load(self, va):
        self.at_el(0)
        exc = self.run(ORACLE_LDR, va, ORACLE_LDR + 4)
        return exc, self.uc.reg_read(A.UC_ARM64_REG_X1)

    def store(self, va):
        self.at_el(0)
        return self.run(ORACLE_STR, va, ORACLE_STR + 4)

    def branch(self, va):
        self.at_el(0)
        return self.run(ORACLE_BR, va, ORACLE_CODE_VA + 0x800)


@pytest.fixture(scope="module")
def oracle():
    return QemuOracle()


def decode_par(par, va):
    """('fault', FSC) or ('ok', PA of va) from a PAR_EL1 value."""
    if par & 1:
        return "fault", (par >> 1) & 0x3F
    return "ok", (par & DESC_ADDR_MASK) | (va & (PAGE_SIZE - 1))


_ACCESS_OF = {R: UC_MEM_READ, W: UC_MEM_WRITE, X: UC_MEM_FETCH}


def ours(mmu, ttbr0, va, need, walk_cache=None):
    """What our MMU does with an EL0 access needing `need`, asked of
    Mmu.tlb_fill itself (what Unicorn calls on a TLB miss) through a core
    whose abort handler kills the task: ("ok", PA of va) with tlb_fill's
    permissions, or ("fault", FSC with level) from the ESR it raised, whose
    class and WnR bit are checked here.  walk_cache: a core's walk cache,
    kept across calls as a running core keeps it."""
    core = FakeCore(ttbr0, handler=lambda c, esr, far: c.stop())
    if walk_cache is not None:
        core.walk_cache = walk_cache
    answer = mmu.tlb_fill(core, va, _ACCESS_OF[need])
    if answer is not None:
        assert core.aborts == []
        pa, perms = answer
        assert pa & ~PAGE_MASK == 0 and perms & need
        return "ok", pa | (va & (PAGE_SIZE - 1)), perms
    ((esr, far),) = core.aborts
    ec = EC_IABT_LOW if need == X else EC_DABT_LOW
    assert far == va and esr >> ESR_EC_SHIFT == ec
    assert esr == esr_abort(ec, esr & 0x3F, 0, need == W), "%#x" % esr
    return "fault", esr & 0x3F, 0


def in_data(pa):
    return DATA_BASE <= pa < RAM_END


def test_oracle_sanity(oracle):
    """The oracle itself: a known page, a known hole, both VA sizes."""
    mem = oracle.memory
    for va_bits in (39, 48):
        t = Tables(mem, va_bits)
        va = busy_va(va_bits)
        t.set(va, 3, page(DATA_BASE + 0x5000, PAGE_READONLY))
        oracle.reset(t.root, va_bits)
        r, w = oracle.at(va + 0x10)
        assert decode_par(r, va + 0x10) == ("ok", DATA_BASE + 0x5010)
        assert decode_par(w, va + 0x10) == ("fault", FSC_PERMISSION | 3)
        assert oracle.load(va + 0x10) == ([], DATA_BASE + 0x5010)
        assert oracle.store(va + 0x10) == [(EXCP_DATA_ABORT, ORACLE_STR)]
        assert oracle.branch(va + 0x10) == [(EXCP_PREFETCH_ABORT, va + 0x10)]
        r, _ = oracle.at(va + PAGE_SIZE)
        assert decode_par(r, va) == ("fault", FSC_TRANSLATION | 3)
        r, _ = oracle.at(1 << va_bits)
        assert decode_par(r, 0) == ("fault", FSC_TRANSLATION | 0)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_tables())
def test_walker_agrees_with_qemu(oracle, tables):
    va_bits, maps, probes = tables
    mem = oracle.memory
    t = build(mem, va_bits, maps)
    mmu = Mmu(mem, va_bits)
    oracle.reset(t.root, va_bits)
    walk_cache = [None, None, 0]
    for va in probes:
        par_r, par_w = oracle.at(va)
        want_r = ours(mmu, t.root, va, R, walk_cache)
        want_w = ours(mmu, t.root, va, W, walk_cache)
        assert decode_par(par_r, va) == want_r[:2], "AT S1E0R %#x" % va
        assert decode_par(par_w, va) == want_w[:2], "AT S1E0W %#x" % va
        # tlb_fill hands Unicorn every permission of the page at once: the
        # write permission it reports must be what AT S1E0W finds
        if want_r[0] == "ok":
            assert bool(want_r[2] & W) == (want_w[0] == "ok"), "perms %#x" % va
        level, desc, _ = mmu.walk(t.root, va)
        event("va%d level %d %s; read %s" % (
            va_bits, level, "block" if desc and level < 3 else "page" if desc else "no leaf",
            want_r[0] if want_r[0] == "ok" else "fsc %#x" % want_r[1]))

        # Real EL0 accesses through QEMU's TLB.
        if want_r[0] == "fault" or in_data(want_r[1]):
            exc, value = oracle.load(va)
            event("load %s" % want_r[0])
            if want_r[0] == "ok":
                assert (exc, value) == ([], want_r[1]), "ldr %#x" % va
            else:
                assert exc == [(EXCP_DATA_ABORT, ORACLE_LDR)], "ldr %#x" % va
        if want_w[0] == "fault" or in_data(want_w[1]):
            exc = oracle.store(va)
            event("store %s" % want_w[0])
            if want_w[0] == "ok":
                assert exc == [], "str %#x" % va
                assert mem.read_u64(want_w[1]) == ORACLE_STORED
                mem.write_u64(want_w[1], want_w[1])
            else:
                assert exc == [(EXCP_DATA_ABORT, ORACLE_STR)], "str %#x" % va
        # A branch loads the PC without the tag when top-byte-ignore applies:
        # bit 55 clear selects the TTBR0 half, where TBI0 is set (TBI1 is not).
        pc = va if va >> 55 & 1 else va & TBI_ADDR_MASK
        want_x = ours(mmu, t.root, pc, X, walk_cache)
        if want_r[0] == "ok" and want_x[0] == "ok":
            assert want_r[2] == want_x[2], "perms %#x" % va
        if want_x[0] == "fault" or in_data(want_x[1]):
            exc = oracle.branch(va)
            expected = EXCP_UDEF if want_x[0] == "ok" else EXCP_PREFETCH_ABORT
            assert exc == [(expected, pc)], "br %#x (ours: %s)" % (va, want_x)
            event("fetch %s" % want_x[0])


def test_qemu_maps_a_level0_block_that_the_architecture_reserves(oracle):
    """Why the generator writes no level-0 blocks: QEMU (Unicorn 2.1.4) maps
    them, ARMv8.0 with a 4 KiB granule makes them a translation fault (as
    our walker does).  If this starts failing, Unicorn got it right: let
    `mapping()` produce level-0 blocks too."""
    mem = oracle.memory
    t = Tables(mem, 48)
    va = va_of(48, l0=1, off=2 * MiB2 + 0x40)
    t.set(va, 0, block(RAM_BASE, PAGE_SHARED))
    oracle.reset(t.root, 48)
    assert Mmu(mem, 48).walk(t.root, va)[:2] == (0, 0)
    r, _ = oracle.at(va)
    assert decode_par(r, va) == ("ok", RAM_BASE + 2 * MiB2 + 0x40)
