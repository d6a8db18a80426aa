"""mm/mlock.c + mm/mincore.c: pinning pages in memory, and asking which are.

With no swap, a locked page is simply one that was faulted in at mlock()
time and is counted in locked_vm (VmLck); the VMA carries VM_LOCKED so pages
faulted later are populated too (mm_populate) and MADV_DONTNEED refuses it.
"""

import errno
import os

from emu.arch import PAGE_MASK, PAGE_SHIFT
from kernel.mm.mm import PTE_PRESENT_MASK, VM_LOCKED
from kernel.mm.mmap import PAGE_ALIGN, U64_MASK, find_vma, vma_modify
from kernel.uapi import RLIMIT_MEMLOCK

MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT = 1, 2, 4
MLOCK_ONFAULT = 1


def can_do_mlock(mm, npages):
    """RLIMIT_MEMLOCK, unless the caller has CAP_IPC_LOCK (root)."""
    if os.geteuid() == 0:
        return True
    limit = mm.kernel.current_rlimits(mm)[RLIMIT_MEMLOCK][0] >> PAGE_SHIFT
    return mm.locked_vm + npages <= limit


def mlock_fixup(mm, vma, prev, start, end, newflags):
    """mlock_fixup() — give [start, end) of vma newflags (VM_LOCKED or not),
    merging or splitting as mprotect_fixup does.  Returns (err, prev)."""
    if newflags == vma.vm_flags:
        return 0, vma
    err, vma = vma_modify(mm, vma, prev, start, end, newflags)
    if err:
        return err, vma
    npages = (end - start) >> PAGE_SHIFT
    mm.locked_vm += npages if newflags & VM_LOCKED else -npages
    vma.vm_flags = newflags
    return 0, vma


def apply_vma_lock_flags(mm, start, length, lock):
    """apply_vma_lock_flags() — VM_LOCKED on or off over [start, start+len);
    -ENOMEM if part of it is not mapped, 0 for an empty range (mapped or not)."""
    end = (start + length) & U64_MASK
    if end < start:
        return -errno.EINVAL
    if end == start:
        return 0
    vma = find_vma(mm, start)
    if vma is None or vma.vm_start > start:
        return -errno.ENOMEM
    prev = vma.vm_prev if start == vma.vm_start else vma
    nstart = start
    while True:
        newflags = (vma.vm_flags | VM_LOCKED) if lock else (vma.vm_flags & ~VM_LOCKED)
        tmp = min(vma.vm_end, end)
        err, prev = mlock_fixup(mm, vma, prev, nstart, tmp, newflags)
        if err:
            return err
        nstart = max(tmp, prev.vm_end)
        if nstart >= end:
            return 0
        vma = prev.vm_next
        if vma is None or vma.vm_start != nstart:
            return -errno.ENOMEM


def do_mlock(mm, start, length, flags=0):
    """do_mlock() — lock, then populate unless MLOCK_ONFAULT."""
    if flags & ~MLOCK_ONFAULT:
        return -errno.EINVAL
    length = PAGE_ALIGN(length + (start & ~PAGE_MASK)) & U64_MASK     # size_t: may wrap
    start &= PAGE_MASK
    if not can_do_mlock(mm, length >> PAGE_SHIFT):
        return -errno.ENOMEM
    err = apply_vma_lock_flags(mm, start, length, True)
    if err:
        return err
    if not flags & MLOCK_ONFAULT:
        mm.kernel.mm_populate(mm, start, length)
    return 0


def do_munlock(mm, start, length):
    length = PAGE_ALIGN(length + (start & ~PAGE_MASK)) & U64_MASK
    start &= PAGE_MASK
    return apply_vma_lock_flags(mm, start, length, False)


def do_mlockall(mm, flags):
    """mlockall(): lock every VMA now (MCL_CURRENT) and/or later ones (MCL_FUTURE)."""
    if not flags or flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) or flags == MCL_ONFAULT:
        return -errno.EINVAL
    if flags & MCL_FUTURE:
        mm.def_flags |= VM_LOCKED
    else:
        mm.def_flags &= ~VM_LOCKED
    if flags & MCL_CURRENT:
        if not can_do_mlock(mm, mm.total_vm):
            return -errno.ENOMEM
        for vma in list(mm.vmas()):
            apply_vma_lock_flags(mm, vma.vm_start, vma.vm_end - vma.vm_start, True)
        if not flags & MCL_ONFAULT:
            mm.kernel.mm_populate(mm, 0, mm.task_size)
    return 0


def do_munlockall(mm):
    mm.def_flags &= ~VM_LOCKED
    for vma in list(mm.vmas()):
        if vma.vm_flags & VM_LOCKED:
            apply_vma_lock_flags(mm, vma.vm_start, vma.vm_end - vma.vm_start, False)
    return 0


def do_mincore(mm, start, length):
    """mincore() — one byte per page, bit 0 set when the page is resident:
    mapped by a pte, or (for a file) in the page cache.  Returns bytes or
    a negative errno (EINVAL unaligned, ENOMEM for an unmapped page)."""
    vec, err = mincore_pages(mm, start, length)
    return err if err else vec


def mincore_pages(mm, start, length):
    """SYSCALL mincore()'s loop: (vector of the pages done, errno or 0).

    Linux copies the vector out one VMA at a time, so the bytes of the
    pages before an unmapped one reach the caller even though the call
    fails with -ENOMEM."""
    if start & ~PAGE_MASK:
        return b"", -errno.EINVAL
    pages = PAGE_ALIGN(length) >> PAGE_SHIFT
    if start + (pages << PAGE_SHIFT) > mm.task_size:
        return b"", -errno.ENOMEM
    pt = mm.kernel.pgtable
    out = bytearray(pages)
    vma = None
    for i in range(pages):
        addr = start + (i << PAGE_SHIFT)
        if vma is None or addr >= vma.vm_end:
            vma = find_vma(mm, addr)
            if vma is None or vma.vm_start > addr:
                return bytes(out[:i]), -errno.ENOMEM
        ptep = pt.pte_offset(mm, addr)
        pte = pt.read_pte(ptep) if ptep is not None else 0
        if pte & PTE_PRESENT_MASK:          # the zero page counts: it is mapped
            out[i] = 1
        elif vma.vm_file is not None and vma.vm_file.mapping is not None:
            pgoff = vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT)
            out[i] = 1 if pgoff in vma.vm_file.mapping.pages else 0
    return bytes(out), 0

