"""mm/memory.c: demand paging — resolving a fault into a page-table entry.

handle_mm_fault() is reached from do_page_fault() (an abort from EL0) and
from the uaccess helpers (the kernel touching user memory).
__handle_mm_fault() allocates missing tables, then handle_pte_fault(), for a
pte that is not present:
  * anonymous memory: a read maps the shared zero page read-only, a write
    gets a fresh zeroed frame (do_anonymous_page);
  * file memory (and shmem): the page-cache frame, mapped as the VMA allows;
    a private write fault copies it first (do_cow_fault);
and for a present pte that forbids the write: do_wp_page() — reuse the
frame if it is ours alone, copy it otherwise (copy-on-write).
"""

import errno

from emu.arch import DESC_ADDR_MASK, PAGE_SHIFT, PAGE_SIZE, PTE_AF, PTE_RDONLY, PTRS_PER_TABLE
from kernel.mm.mm import (
    PTE_PRESENT_MASK, PTE_SPECIAL, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE, pte_mkwrite,
)
from kernel.mm.mmap import anon_vma_prepare, find_vma
from kernel.mm.page_alloc import PG_anon, OutOfMemory
from kernel.mm.rmap import mapping_vmas

# include/linux/mm.h: VM_FAULT_* results.
VM_FAULT_OOM = 0x0001
VM_FAULT_SIGBUS = 0x0002
VM_FAULT_SIGSEGV = 0x0040

# mm/memory.c: fault_around_bytes (rounddown_pow_of_two(65536), its default).
FAULT_AROUND_BYTES = 64 << 10


def handle_mm_fault(vma, addr, write):
    """handle_mm_fault() — resolve a fault on the page holding addr.

    The caller has checked that vma permits the access.  Returns 0 once a
    pte maps the page with the needed permission, or VM_FAULT_OOM /
    VM_FAULT_SIGBUS.  Omits Linux's vm-event and memcg accounting and the
    hugetlb branch.
    """
    try:
        return __handle_mm_fault(vma, addr & ~(PAGE_SIZE - 1), write)
    except OutOfMemory:
        return VM_FAULT_OOM


def update_hiwater_rss(mm):
    """update_hiwater_rss(): keep the peak of mm's resident set (VmHWM).
    As in Linux, a fault does not call it (it only adds to the rss): the
    peak is recorded where the rss is about to fall (zap_vma_range(), as
    4.14's unmap_region() and zap_page_range() do), and its readers take
    the larger of it and the rss now (VmHWM, getrusage's ru_maxrss)."""
    rss = mm.rss_anon + mm.rss_file + mm.rss_shmem
    if rss > mm.hiwater_rss:
        mm.hiwater_rss = rss


def __handle_mm_fault(vma, addr, write):
    """__handle_mm_fault() — allocate the missing tables down to the pte.

    Linux's pgd_offset/p4d_alloc/pud_alloc/pmd_alloc are one
    pte_offset_alloc() here (no transparent huge pages, so no pmd faults).
    """
    mm = vma.vm_mm
    ptep = mm.kernel.pgtable.pte_offset_alloc(mm, addr)
    return handle_pte_fault(vma, addr, ptep, write)


def handle_pte_fault(vma, addr, ptep, write):
    """handle_pte_fault() — pick the handler for the pte at ptep.

    Not present: do_anonymous_page / do_fault (no swap, so no
    do_swap_page; no NUMA, so no do_numa_page).  Present but read-only for a
    write: do_wp_page.  Otherwise only the access flag was missing.
    """
    mm = vma.vm_mm
    pt = mm.kernel.pgtable
    pte = pt.read_pte(ptep)
    if not pte & PTE_PRESENT_MASK:
        if vma.vm_file is None:
            return do_anonymous_page(vma, addr, ptep, write)
        return do_fault(vma, addr, ptep, write)
    if write and pte & PTE_RDONLY:
        return do_wp_page(vma, addr, ptep, pte)
    # Present and allowed: only the access flag can be missing.
    pt.set_pte_at(mm, addr, ptep, pte | PTE_AF)
    return 0


def do_anonymous_page(vma, addr, ptep, write):
    """do_anonymous_page() — the zero page for a read, a new zeroed frame for a write."""
    mm = vma.vm_mm
    kernel = mm.kernel
    if not write:
        pte = vma.vm_page_prot | kernel.zero_page | PTE_SPECIAL | PTE_RDONLY
        kernel.pgtable.set_pte_at(mm, addr, ptep, pte)
        return 0
    anon_vma_prepare(vma)
    frame = kernel.pages.alloc_page(flags=PG_anon)
    pte = vma.vm_page_prot | frame
    if vma.vm_flags & VM_WRITE:
        pte = pte_mkwrite(pte)
    kernel.pgtable.set_pte_at(mm, addr, ptep, pte)
    mm.rss_anon += 1
    return 0


def _file_pgoff(vma, addr):
    return vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT)


def do_fault_around(vma, addr, ptep):
    """do_fault_around() + filemap_map_pages(): before a read fault reads
    its page, map every page of the fault_around_bytes-aligned block around
    addr (clipped to the VMA and to addr's page table) that the page cache
    already holds, into ptes that are none, as the read fault would map it.
    Returns True when addr itself got mapped (VM_FAULT_NOPAGE).

    ptep is addr's pte.  Omits PageReadahead (the page cache here has no
    async-readahead marker to skip) and the mmap_miss bookkeeping."""
    mm = vma.vm_mm
    kernel = mm.kernel
    mapping = vma.vm_file.mapping
    cached = mapping.pages
    if not cached:
        return False
    start = max(addr & ~(FAULT_AROUND_BYTES - 1), vma.vm_start)
    start_pgoff = _file_pgoff(vma, start)
    end_pgoff = min(start_pgoff - ((start >> PAGE_SHIFT) & (PTRS_PER_TABLE - 1)) + PTRS_PER_TABLE - 1,
                    _file_pgoff(vma, vma.vm_end) - 1,
                    start_pgoff + (FAULT_AROUND_BYTES >> PAGE_SHIFT) - 1)
    max_idx = (mapping.size() + PAGE_SIZE - 1) >> PAGE_SHIFT
    pt = kernel.pgtable
    pages = kernel.pages
    first_ptep = ptep - ((addr - start) >> PAGE_SHIFT << 3)
    mapped = 0
    for pgoff in range(start_pgoff, min(end_pgoff + 1, max_idx)):
        frame = cached.get(pgoff)
        if frame is None:
            continue
        p = first_ptep + ((pgoff - start_pgoff) << 3)
        if pt.read_pte(p):                  # alloc_set_pte(): !pte_none, skipped
            continue
        pages.get_page(frame)
        pt.set_pte_at(mm, start + ((pgoff - start_pgoff) << PAGE_SHIFT), p,
                      vma.vm_page_prot | frame)
        mapped += 1
    if mapping.host_fd is None:
        mm.rss_shmem += mapped
    else:
        mm.rss_file += mapped
    return pt.read_pte(ptep) != 0


def do_fault(vma, addr, ptep, write):
    """do_fault() — do_read_fault / do_shared_fault / do_cow_fault for file VMAs.
    A read fault first maps what the page cache holds around it
    (do_fault_around)."""
    mm = vma.vm_mm
    kernel = mm.kernel
    mapping = vma.vm_file.mapping
    if not write and do_fault_around(vma, addr, ptep):
        return 0
    if write and not vma.vm_flags & VM_SHARED:
        # do_cow_fault() prepares the anon_vma before __do_fault() looks for
        # the page, so a VMA keeps it even when the fault ends in SIGBUS
        # (and may then no longer merge with a neighbour).
        anon_vma_prepare(vma)
    frame = mapping.find_get_page(_file_pgoff(vma, addr), vma.vm_flags)
    if frame is None:
        return VM_FAULT_SIGBUS          # past the end of the file
    pgoff = _file_pgoff(vma, addr)
    if write and not vma.vm_flags & VM_SHARED:
        return _install_copy(vma, addr, ptep, frame, present=False)
    pte = vma.vm_page_prot | frame
    if write:                       # do_shared_fault(): the page is dirty now
        mapping.set_page_dirty(pgoff)
        pte = pte_mkwrite(pte)
    kernel.pgtable.set_pte_at(mm, addr, ptep, pte)
    if mapping.host_fd is None:
        mm.rss_shmem += 1
    else:
        mm.rss_file += 1
    return 0


def do_wp_page(vma, addr, ptep, pte):
    """do_wp_page() — a write to a present read-only pte of a writable VMA.

    Shared mappings and anonymous frames mapped only here are made writable
    in place (wp_page_reuse); the zero page and file pages of a private
    mapping are copied (wp_page_copy).
    """
    mm = vma.vm_mm
    kernel = mm.kernel
    if not vma.vm_flags & VM_WRITE:
        return VM_FAULT_SIGSEGV
    if pte & PTE_SPECIAL:                       # the zero page
        return _install_copy(vma, addr, ptep, None, present=True)
    frame = pte & DESC_ADDR_MASK
    pages = kernel.pages
    anon = pages.flags[pages.index(frame)] & PG_anon
    if vma.vm_flags & VM_SHARED or (anon and pages.page_count(frame) == 1):
        # wp_page_shared() / wp_page_reuse().  Other cores may keep the
        # read-only entry; their next write finds the pte writable.
        if vma.vm_flags & VM_SHARED and vma.vm_file is not None:
            vma.vm_file.mapping.set_page_dirty(_file_pgoff(vma, addr))
        kernel.pgtable.set_pte_at(mm, addr, ptep, pte_mkwrite(pte | PTE_AF))
        return 0
    if anon:
        mm.rss_anon -= 1
    else:
        mm.rss_file -= 1
    if kernel.trace.fault:
        mm.last_cow = (addr, pte)       # the fault's trace line shows both ptes
    return _install_copy(vma, addr, ptep, frame, present=True)


def _install_copy(vma, addr, ptep, src, present):
    """wp_page_copy() / do_cow_fault(): map a private anonymous copy of the
    frame src (None: of the zero page) writable at addr, dropping the
    caller's reference on src.  A pte that was present is flushed from
    every core's TLB, since they may still map the old frame."""
    mm = vma.vm_mm
    kernel = mm.kernel
    pages = kernel.pages
    anon_vma_prepare(vma)
    new = pages.alloc_page(zero=src is None, flags=PG_anon)
    if src is not None:
        view, base = kernel.memory.view, kernel.memory.base
        view[new - base:new - base + PAGE_SIZE] = view[src - base:src - base + PAGE_SIZE]
        pages.put_page(src)
    kernel.pgtable.set_pte_at(mm, addr, ptep, pte_mkwrite(vma.vm_page_prot | new))
    mm.rss_anon += 1
    if present:
        kernel.tlb.flush_tlb_page(mm, addr)
    return 0


def zap_vma_range(vma, start, end):
    """zap_page_range() for [start, end) of one VMA: write back its dirty
    shared file pages, clear the ptes, drop page references and rss."""
    mm = vma.vm_mm
    kernel = mm.kernel
    pages = kernel.pages
    file = vma.vm_file
    if file is not None and vma.vm_flags & VM_SHARED:
        first = _file_pgoff(vma, start)
        file.mapping.writeback(first, first + ((end - start) >> PAGE_SHIFT) - 1)
    update_hiwater_rss(mm)
    cleared = kernel.pgtable.zap_pte_range(mm, start, end)
    frames = [pte & DESC_ADDR_MASK for pte in cleared if not pte & PTE_SPECIAL]
    flags, base_pfn = pages.flags, pages.base_pfn
    anon = sum(1 for frame in frames if flags[(frame >> PAGE_SHIFT) - base_pfn] & PG_anon)
    mm.rss_anon -= anon
    if file is not None and file.mapping.host_fd is None:
        mm.rss_shmem -= len(frames) - anon
    else:
        mm.rss_file -= len(frames) - anon
    pages.release_pages(frames)
    return len(cleared)


def __mm_populate(mm, start, length, ignore_errors):
    """__mm_populate() / populate_vma_page_range(): fault every page of the
    range in now, writing where Linux would (private writable VMAs).  A VMA
    with no access at all cannot be populated (get_user_pages without
    FOLL_FORCE: -EFAULT), nor can a page whose fault fails (past EOF).  With
    ignore_errors (mm_populate: MAP_POPULATE, MAP_LOCKED, mlockall) the walk
    goes on at the next VMA; without (mlock) the first error is returned.
    Returns 0 or -EFAULT."""
    ret = 0
    addr = start
    end = start + length
    while addr < end:
        vma = find_vma(mm, addr)
        if vma is None or vma.vm_start >= end:
            break
        addr = max(addr, vma.vm_start)
        write = vma.vm_flags & (VM_WRITE | VM_SHARED) == VM_WRITE
        stop = min(end, vma.vm_end)
        failed = not vma.vm_flags & (VM_READ | VM_WRITE | VM_EXEC)
        while not failed and addr < stop:
            if handle_mm_fault(vma, addr, write):
                failed = True
                break
            addr += PAGE_SIZE
        if failed:
            if not ignore_errors:
                return -errno.EFAULT
            addr = vma.vm_end
    return ret


def mm_populate(mm, start, length):
    """mm_populate(): __mm_populate ignoring errors."""
    __mm_populate(mm, start, length, True)


def unmap_mapping_range(kernel, mapping, first_pgoff):
    """unmap_mapping_range(even_cows=1): zap every pte, shared or privately
    copied, of the pages of mapping from first_pgoff on (truncate)."""
    for vma in list(mapping_vmas(kernel, mapping)):
        start = max(vma.vm_start, vma.vm_start + ((first_pgoff - vma.vm_pgoff) << PAGE_SHIFT))
        if start < vma.vm_end:
            zap_vma_range(vma, start, vma.vm_end)
            kernel.tlb.flush_tlb_range(vma.vm_mm, start, vma.vm_end)


def zap_mapping_pages(kernel, mapping, first, last):
    """unmap_mapping_range(even_cows=0) for pages [first, last] of mapping:
    zap every pte that maps one of them from the page cache, in shared and
    private VMAs alike, but keep a private VMA's anonymous copies."""
    pt = kernel.pgtable
    pages = kernel.pages
    for vma in list(mapping_vmas(kernel, mapping)):
        lo = max(vma.vm_start, vma.vm_start + ((first - vma.vm_pgoff) << PAGE_SHIFT))
        hi = min(vma.vm_end, vma.vm_start + ((last + 1 - vma.vm_pgoff) << PAGE_SHIFT))
        if lo >= hi:
            continue
        mm = vma.vm_mm
        if vma.vm_flags & VM_SHARED:
            zap_vma_range(vma, lo, hi)
        else:
            cached = [addr for addr, _, pte in pt.present_ptes(mm, lo, hi)
                      if not pte & PTE_SPECIAL
                      and not pages.flags[pages.index(pte & DESC_ADDR_MASK)] & PG_anon]
            for addr in cached:
                zap_vma_range(vma, addr, addr + PAGE_SIZE)
        kernel.tlb.flush_tlb_range(mm, lo, hi)
