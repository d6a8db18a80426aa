"""The kernel's side of the page tables: allocating tables, writing descriptors.

mirrors: arch/arm64/include/asm/pgtable.h + pgalloc.h (pgd_alloc, pte_alloc,
set_pte_at, pte_clear) and the table-walking parts of mm/memory.c
(zap_pte_range, free_pgd_range).  Tables are ordinary frames from the page
allocator; descriptors are written into RAM exactly as the MMU (emu/mmu.py)
reads them.  Levels are numbered as the architecture does: the pgd is level
0 with 48-bit VAs (4 levels), level 1 with 39-bit VAs (3 levels); ptes are
level 3.  The descriptor format is documented once, in emu/arch.py.
"""

import struct

from emu.arch import (
    DESC_ADDR_MASK, DESC_TYPE_TABLE, DESC_VALID, PAGE_SHIFT, PAGE_SIZE, PTE_UXN,
    PTRS_PER_TABLE, level_shift, start_level,
)
from kernel.mm.mm import PTE_PRESENT_MASK, PTE_SPECIAL
from kernel.mm.page_alloc import PG_exec

_U64 = struct.Struct("<Q")
# The pte bits whose change moves a frame's map count (set_pte_at).
_RMAP_BITS = DESC_ADDR_MASK | PTE_PRESENT_MASK
PMD_SHIFT = level_shift(2)          # one level-3 table maps 2 MiB
PMD_SIZE = 1 << PMD_SHIFT
PMD_MASK = ~(PMD_SIZE - 1)


class PageTables:
    """The page-table code of one kernel: knows RAM, frames and the VA size."""

    def __init__(self, memory, pages, va_bits, trace):
        self.memory = memory
        self.view = memory.view
        self.qview = memory.view.cast("Q")     # RAM as descriptors (8-byte aligned)
        self.ram_base = memory.base
        self.pages = pages
        self.trace = trace
        self.top_level = start_level(va_bits)
        self.top_shift = level_shift(self.top_level)

    # -- allocation -------------------------------------------------------------

    def pgd_alloc(self):
        """pgd_alloc(): a zeroed top-level table; returns its physical address."""
        return self.pages.alloc_page()

    def pte_offset_alloc(self, mm, addr):
        """pte_alloc() + pte_offset_map(): address of addr's level-3 descriptor.

        Allocates missing intermediate tables (counted in mm.nr_ptes).  The
        last level-3 table found is cached per mm, because faults come in
        runs within one 2 MiB region.  Raises OutOfMemory.
        """
        region = addr >> PMD_SHIFT
        if mm.pte_table_cache[0] == region:
            return mm.pte_table_cache[1] + (((addr >> PAGE_SHIFT) & 511) << 3)
        view, base = self.view, self.ram_base
        table = mm.pgd
        shift = self.top_shift
        for _ in range(3 - self.top_level):
            slot = table + (((addr >> shift) & 511) << 3)
            desc = _U64.unpack_from(view, slot - base)[0]
            if desc & DESC_VALID:
                table = desc & DESC_ADDR_MASK
            else:
                new = self.pages.alloc_page()
                mm.nr_ptes += 1
                _U64.pack_into(view, slot - base, new | DESC_TYPE_TABLE)
                table = new
            shift -= 9
        mm.pte_table_cache = (region, table)
        return table + (((addr >> PAGE_SHIFT) & 511) << 3)

    def pte_offset(self, mm, addr):
        """Address of addr's level-3 descriptor, or None if a table is missing."""
        return self.pte_lookup(mm, addr)[0]

    def pte_lookup(self, mm, addr):
        """(ptep, span): addr's level-3 descriptor address, or None and the
        size of the unmapped span starting at the missing table entry (so a
        walk over an empty TiB skips it in one step)."""
        view, base = self.view, self.ram_base
        table = mm.pgd
        shift = self.top_shift
        for _ in range(3 - self.top_level):
            desc = _U64.unpack_from(view, table + (((addr >> shift) & 511) << 3) - base)[0]
            if not desc & DESC_VALID:
                return None, 1 << shift
            table = desc & DESC_ADDR_MASK
            shift -= 9
        return table + (((addr >> PAGE_SHIFT) & 511) << 3), 1 << PMD_SHIFT

    # -- descriptors ------------------------------------------------------------

    def read_pte(self, ptep):
        return _U64.unpack_from(self.view, ptep - self.ram_base)[0]

    def set_pte_at(self, mm, addr, ptep, pte):
        """set_pte_at(): store a level-3 descriptor for addr.

        Keeps each frame's map count (page_add_*_rmap / page_remove_rmap:
        how many ptes map it; the zero page, PTE_SPECIAL, is not counted).
        A frame made executable is remembered (PG_exec), because the CPU
        emulator caches code translated from it: before the frame is reused,
        that cache must go (see PageAllocator.alloc_page)."""
        off = ptep - self.ram_base
        old = _U64.unpack_from(self.view, off)[0]
        _U64.pack_into(self.view, off, pte)
        pages = self.pages
        if (old ^ pte) & _RMAP_BITS:            # another frame, or present no more / now
            if old & PTE_PRESENT_MASK and not old & PTE_SPECIAL:
                pages.mapcount[((old & DESC_ADDR_MASK) >> PAGE_SHIFT) - pages.base_pfn] -= 1
            if pte & PTE_PRESENT_MASK and not pte & PTE_SPECIAL:
                pages.mapcount[((pte & DESC_ADDR_MASK) >> PAGE_SHIFT) - pages.base_pfn] += 1
        if not pte & PTE_UXN and pte & DESC_VALID:
            pages.flags[((pte & DESC_ADDR_MASK) >> PAGE_SHIFT) - pages.base_pfn] |= PG_exec
        if self.trace.pte:  # pragma: no mutate block (tracing only)
            self.trace.emit("pte_set", mm=mm, addr=addr, pte=pte, ptep=ptep)

    # -- tearing down -----------------------------------------------------------

    def present_ptes(self, mm, start, end):
        """Yield (addr, ptep, pte) for every present level-3 descriptor of
        [start, end), in address order.

        The walk costs what the tables hold, not what the range spans: a
        missing table is skipped a whole table span at a time, as Linux's
        p?d_none_or_clear_bad() walkers do, so a TiB-wide mprotect of an
        empty range is a few steps.  The caller may rewrite the yielded
        descriptor before asking for the next one."""
        view, base, unpack = self.view, self.ram_base, _U64.unpack_from
        addr = start
        while addr < end:
            ptep, span = self.pte_lookup(mm, addr)
            next_span = (addr | (span - 1)) + 1
            if ptep is None:
                addr = next_span
                continue
            stop = min(end, next_span)
            while addr < stop:
                pte = unpack(view, ptep - base)[0]
                if pte & PTE_PRESENT_MASK:
                    yield addr, ptep, pte
                addr += PAGE_SIZE
                ptep += 8

    def zap_pte_range(self, mm, start, end):
        """zap_pte_range() over every level-3 table of [start, end): clear
        every present pte, drop the map count of its frame, and return the
        cleared ptes, in address order, for the caller to release their
        frames (the pages Linux gathers in its mmu_gather and frees after
        the TLB flush, tlb_finish_mmu).

        One table at a time, as Linux walks them: its ptes of the range
        are read in one slice of RAM, and only the present ones cost a
        step (a missing table is skipped whole, see pte_lookup)."""
        qview, base = self.qview, self.ram_base
        trace = self.trace
        mapcount, base_pfn = self.pages.mapcount, self.pages.base_pfn
        cleared = []
        addr = start
        while addr < end:
            ptep, span = self.pte_lookup(mm, addr)
            next_span = (addr | (span - 1)) + 1
            stop = min(end, next_span)
            if ptep is not None:
                first = (ptep - base) >> 3
                last = first + ((stop - addr) >> PAGE_SHIFT)
                for i, pte in enumerate(qview[first:last].tolist(), first):
                    if not pte & PTE_PRESENT_MASK:
                        continue
                    qview[i] = 0
                    if not pte & PTE_SPECIAL:
                        mapcount[((pte & DESC_ADDR_MASK) >> PAGE_SHIFT) - base_pfn] -= 1
                    cleared.append(pte)
                    if trace.pte:  # pragma: no mutate block (tracing only)
                        trace.emit("pte_clear", mm=mm, addr=addr + ((i - first) << PAGE_SHIFT),
                                   pte=pte, ptep=base + (i << 3))
            addr = next_span
        return cleared

    def free_pgd_range(self, mm, addr, end, floor, ceiling):
        """free_pgd_range(): free the tables that only map [floor, ceiling).

        [addr, end) has just been unmapped and [floor, ceiling) is the hole
        around it that no VMA covers, so any table whose whole span lies in
        the hole maps nothing and can go.  The pgd itself stays.
        """
        mm.pte_table_cache = (None, 0)
        # Linux's first test: the smallest table (a level-3 one, 2 MiB)
        # that could go is the first PMD-aligned span at or above floor
        # from addr's; if it does not fit below ceiling or starts past
        # end, no table of any level can (a bigger one holds such a span).
        # Skips the walk of every level for the common small munmap, whose
        # neighbours share its 2 MiB.  What _free_tables would free is
        # unchanged: it frees a table only for a span inside [floor,
        # ceiling) that meets [addr, end).
        first = addr & PMD_MASK
        if first < floor:
            first += PMD_SIZE
        if first >= end or first + PMD_SIZE > ceiling:
            return
        self._free_tables(mm, mm.pgd, self.top_level, 0, addr, end, floor, ceiling)

    def _free_tables(self, mm, table, level, table_va, addr, end, floor, ceiling):
        shift = level_shift(level)
        span = 1 << shift
        first = max(addr, table_va)
        idx = (first - table_va) >> shift
        view, base = self.view, self.ram_base
        while idx < PTRS_PER_TABLE:
            s = table_va + idx * span
            if s >= end:
                break
            slot = table + idx * 8
            desc = _U64.unpack_from(view, slot - base)[0]
            if desc & DESC_VALID and level < 3:
                child = desc & DESC_ADDR_MASK
                if level + 1 < 3:
                    self._free_tables(mm, child, level + 1, s, addr, end, floor, ceiling)
                if floor <= s and s + span <= ceiling:
                    _U64.pack_into(view, slot - base, 0)
                    self.pages.put_page(child)
                    mm.nr_ptes -= 1
            idx += 1

    def free_pgd(self, mm):
        """pgd_free() after tearing down everything: release the pgd frame."""
        self.pages.put_page(mm.pgd)
        mm.pgd = 0
