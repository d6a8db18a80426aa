"""mm/mremap.c: growing, shrinking and moving a mapping.

A move does not copy pages: the ptes themselves move to the new addresses
(move_page_tables), then the old range is unmapped, which finds nothing
left to free.  Omits: MREMAP_DONTUNMAP, userfaultfd, hugetlb.
"""

import errno

from emu.arch import PAGE_SHIFT
from kernel.mm.mm import VM_ACCOUNT, VM_DONTEXPAND, VM_LOCKED, VM_MAYSHARE, VM_SHARED
from kernel.mm.overcommit import vm_enough_memory
from kernel.mm.mm_types import VmAreaStruct
from kernel.mm.mmap import (
    PAGE_ALIGN, U64_MASK, __vma_adjust, capable_ipc_lock, do_munmap, find_vma, find_vma_links,
    get_unmapped_area,
    is_err, may_expand_vm, offset_in_page, vm_stat_account, vma_link, vma_merge,
)
from kernel.mm.rmap import anon_vma_clone
from kernel.uapi import MAP_FIXED, MAP_SHARED, MREMAP_FIXED, MREMAP_MAYMOVE, RLIMIT_MEMLOCK


def copy_vma(vma, addr, length, pgoff):
    """copy_vma() — a VMA like vma at [addr, addr+len) with pgoff, merged
    into a neighbour there if it can be.  Returns it, or None (-ENOMEM)."""
    mm = vma.vm_mm
    links = find_vma_links(mm, addr, addr + length)
    if links is None:
        return None
    prev, parent, left = links
    new = vma_merge(mm, prev, addr, addr + length, vma.vm_flags, vma.anon_vma,
                    vma.vm_file, pgoff)
    if new is not None:
        return new
    new = VmAreaStruct(mm, addr, addr + length, vma.vm_flags, vma.vm_page_prot, pgoff,
                       vma.vm_file)
    new.anon_vma = vma.anon_vma
    anon_vma_clone(new, vma)
    if vma.vm_file is not None:
        vma.vm_file.get()
    vma_link(mm, new, prev, parent, left)
    return new


def move_page_tables(mm, old_addr, new_addr, length):
    """move_page_tables() — carry every present pte of the old range over to
    the same offset in the new range (allocating tables there)."""
    pt = mm.kernel.pgtable
    delta = new_addr - old_addr
    # Collected first: allocating the new range's tables must not happen
    # under the walk of the old one (the ranges may share a table).
    for addr, old_ptep, pte in list(pt.present_ptes(mm, old_addr, old_addr + length)):
        new_ptep = pt.pte_offset_alloc(mm, addr + delta)
        pt.set_pte_at(mm, addr, old_ptep, 0)
        pt.set_pte_at(mm, addr + delta, new_ptep, pte)
    mm.kernel.tlb.flush_tlb_range(mm, old_addr, old_addr + length)


def move_vma(vma, old_addr, old_len, new_len, new_addr):
    """move_vma() — copy_vma + move_page_tables + unmap the old range."""
    mm = vma.vm_mm
    if mm.map_count >= mm.kernel.max_map_count - 3:
        return -errno.ENOMEM
    new_pgoff = vma.vm_pgoff + ((old_addr - vma.vm_start) >> PAGE_SHIFT)
    if vma.vm_file is None and vma.anon_vma is None:
        # copy_vma(): untouched anonymous memory takes its new address as
        # pgoff, so it can merge with its new neighbours.
        new_pgoff = new_addr >> PAGE_SHIFT
    vm_flags = vma.vm_flags
    new_vma = copy_vma(vma, new_addr, new_len, new_pgoff)
    if new_vma is None:
        return -errno.ENOMEM
    move_page_tables(mm, old_addr, new_addr, min(old_len, new_len))
    # The moved range is accounted twice until the old one is unmapped,
    # which must not count as a new high-water mark.
    hiwater_vm = mm.hiwater_vm
    vm_stat_account(mm, vm_flags, new_len >> PAGE_SHIFT)
    # A failure here (old_len 0 duplicating a shared mapping, or a split
    # refused) leaves the old range mapped; Linux carries on regardless.
    do_munmap(mm, old_addr, old_len)
    mm.hiwater_vm = hiwater_vm
    if vm_flags & VM_LOCKED:
        mm.locked_vm += new_len >> PAGE_SHIFT
        if new_len > old_len:           # sys_mremap's mm_populate of the new tail
            mm.kernel.mm_populate(mm, new_addr + old_len, new_len - old_len)
    return new_addr


def vma_to_resize(mm, addr, old_len, new_len):
    """vma_to_resize() — the VMA holding [addr, addr+old_len), or -EFAULT."""
    vma = find_vma(mm, addr)
    if vma is None or vma.vm_start > addr:
        return -errno.EFAULT
    if not old_len and not vma.vm_flags & (VM_SHARED | VM_MAYSHARE):
        return -errno.EINVAL    # only shared mappings may be duplicated (since 4.x: -EINVAL)
    if old_len > vma.vm_end - addr:
        return -errno.EFAULT
    if new_len == old_len:
        return vma
    if vma.vm_flags & VM_DONTEXPAND and new_len > old_len:
        return -errno.EFAULT
    if vma.vm_flags & VM_LOCKED and not capable_ipc_lock(mm):
        limit = mm.kernel.current_rlimits(mm)[RLIMIT_MEMLOCK][0]
        if (mm.locked_vm << PAGE_SHIFT) + new_len - old_len > limit:
            return -errno.EAGAIN
    if not may_expand_vm(mm, vma.vm_flags, (new_len - old_len) >> PAGE_SHIFT):
        return -errno.ENOMEM
    if vma.vm_flags & VM_ACCOUNT and new_len > old_len:
        # The growth is charged (security_vm_enough_memory_mm).
        if vm_enough_memory(mm.kernel, (new_len - old_len) >> PAGE_SHIFT, mm):
            return -errno.ENOMEM
    return vma


def vma_expandable(vma, delta):
    """vma_expandable() — can vma grow by delta in place?"""
    end = vma.vm_end + delta
    if end < vma.vm_end:
        return False
    if vma.vm_next is not None and vma.vm_next.vm_start < end:
        return False
    return not is_err(get_unmapped_area(vma.vm_mm, None, vma.vm_start, end - vma.vm_start,
                                        0, MAP_FIXED))


def mremap_to(mm, addr, old_len, new_addr, new_len):
    """mremap_to() — MREMAP_FIXED: move to exactly new_addr."""
    if offset_in_page(new_addr):
        return -errno.EINVAL
    if new_len > mm.task_size or new_addr > mm.task_size - new_len:
        return -errno.EINVAL
    if addr < new_addr + new_len and new_addr < addr + old_len:
        return -errno.EINVAL                    # the ranges overlap
    ret = do_munmap(mm, new_addr, new_len)
    if ret:
        return ret
    if old_len >= new_len:
        ret = do_munmap(mm, addr + new_len, old_len - new_len)
        if ret and old_len != new_len:
            return ret
        old_len = new_len
    vma = vma_to_resize(mm, addr, old_len, new_len)
    if isinstance(vma, int):
        return vma
    return move_vma(vma, addr, old_len, new_len, new_addr)


def sys_mremap(mm, addr, old_len, new_len, flags, new_addr):
    """SYSCALL_DEFINE5(mremap) — the new address or a negative errno."""
    if flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE):
        return -errno.EINVAL
    if flags & MREMAP_FIXED and not flags & MREMAP_MAYMOVE:
        return -errno.EINVAL
    if offset_in_page(addr):
        return -errno.EINVAL
    old_len = PAGE_ALIGN(old_len) & U64_MASK         # unsigned long: may wrap
    new_len = PAGE_ALIGN(new_len) & U64_MASK
    if not new_len:
        return -errno.EINVAL
    if flags & MREMAP_FIXED:
        return mremap_to(mm, addr, old_len, new_addr, new_len)
    if old_len >= new_len:
        ret = do_munmap(mm, addr + new_len, old_len - new_len)
        return ret if ret and old_len != new_len else addr
    vma = vma_to_resize(mm, addr, old_len, new_len)
    if isinstance(vma, int):
        return vma
    if old_len == vma.vm_end - addr and vma_expandable(vma, new_len - old_len):
        pages = (new_len - old_len) >> PAGE_SHIFT
        __vma_adjust(mm, vma, vma.vm_start, addr + new_len, vma.vm_pgoff)
        trace = mm.kernel.trace
        if trace.vma:  # pragma: no mutate block (tracing only)
            # Linux has no tracepoint here; the report follows VMAs by events
            trace.emit("vma_expand", mm=mm, vma=vma, start=addr + old_len, end=addr + new_len,
                       why="mremap")
        vm_stat_account(mm, vma.vm_flags, pages)
        if vma.vm_flags & VM_LOCKED:
            mm.locked_vm += pages
            mm.kernel.mm_populate(mm, addr + old_len, new_len - old_len)
        return addr
    if not flags & MREMAP_MAYMOVE:
        return -errno.ENOMEM
    map_flags = MAP_SHARED if vma.vm_flags & VM_MAYSHARE else 0
    target = get_unmapped_area(mm, vma.vm_file, 0, new_len,
                               vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT), map_flags)
    if is_err(target):
        return target
    return move_vma(vma, addr, old_len, new_len, target)

