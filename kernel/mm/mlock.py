"""mm/mlock.c + mm/mincore.c: pinning pages in memory, and asking which are.

With no swap, a locked page is simply one that was faulted in at mlock()
time and is counted in locked_vm (VmLck); the VMA carries VM_LOCKED so pages
faulted later are populated too (mm_populate) and MADV_DONTNEED refuses it.
"""

import errno

from emu.arch import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE
from kernel.mm.memory import __mm_populate
from kernel.mm.mm import PTE_PRESENT_MASK, VM_LOCKED
from kernel.mm.mmap import PAGE_ALIGN, U64_MASK, capable_ipc_lock, find_vma, vma_modify
from kernel.uapi import RLIMIT_MEMLOCK

MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT = 1, 2, 4
MLOCK_ONFAULT = 1


def memlock_limit(mm):
    """rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT."""
    return mm.kernel.current_rlimits(mm)[RLIMIT_MEMLOCK][0] >> PAGE_SHIFT


def can_do_mlock(mm):
    """can_do_mlock(): a zero RLIMIT_MEMLOCK forbids mlock (-EPERM) unless
    the caller has CAP_IPC_LOCK; the limit itself is checked by the callers."""
    # In bytes: a limit below one page still allows mlock, which then fails
    # its page count with -ENOMEM.
    return mm.kernel.current_rlimits(mm)[RLIMIT_MEMLOCK][0] != 0 or capable_ipc_lock(mm)


def count_mm_mlocked_page_nr(mm, start, length):
    """count_mm_mlocked_page_nr(): pages of [start, start+len) already in
    VM_LOCKED VMAs, which a new mlock() must not count twice."""
    end = start + length
    count = 0
    for vma in mm.vmas():
        if vma.vm_start >= end:
            break
        if vma.vm_flags & VM_LOCKED and vma.vm_end > start:
            count += min(end, vma.vm_end) - max(start, vma.vm_start)
    return count >> PAGE_SHIFT


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
    -EINVAL if the range wraps, 0 if it is empty, -ENOMEM if part of it is
    not mapped (what was before the hole stays changed)."""
    end = start + length
    if end > U64_MASK:
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
    """do_mlock() — check RLIMIT_MEMLOCK (pages already locked in the range
    do not count twice), lock, then populate unless MLOCK_ONFAULT."""
    if flags & ~MLOCK_ONFAULT:
        return -errno.EINVAL
    if not can_do_mlock(mm):
        return -errno.EPERM
    length = PAGE_ALIGN(length + (start & ~PAGE_MASK)) & U64_MASK
    start &= PAGE_MASK
    limit = memlock_limit(mm)
    locked = (length >> PAGE_SHIFT) + mm.locked_vm
    if locked > limit and not capable_ipc_lock(mm):
        locked -= count_mm_mlocked_page_nr(mm, start, length)
    if locked > limit and not capable_ipc_lock(mm):
        return -errno.ENOMEM
    err = apply_vma_lock_flags(mm, start, length, True)
    if err:
        return err
    if not flags & MLOCK_ONFAULT:
        err = __mm_populate(mm, start, length, False)
        if err:
            return __mlock_posix_error_return(err)
    return 0


def __mlock_posix_error_return(retval):
    """__mlock_posix_error_return(): POSIX wants ENOMEM for a range that
    cannot be populated (get_user_pages' EFAULT) and EAGAIN for no memory."""
    if retval == -errno.EFAULT:
        return -errno.ENOMEM
    if retval == -errno.ENOMEM:
        return -errno.EAGAIN
    return retval


def do_munlock(mm, start, length):
    """munlock() — VM_LOCKED off over the range."""
    length = PAGE_ALIGN(length + (start & ~PAGE_MASK)) & U64_MASK
    start &= PAGE_MASK
    return apply_vma_lock_flags(mm, start, length, False)


def do_mlockall(mm, flags):
    """mlockall() + apply_mlockall_flags(): lock every VMA now (MCL_CURRENT)
    and/or the ones mapped later (MCL_FUTURE: mm->def_flags).  Nothing
    changes when MCL_CURRENT would exceed RLIMIT_MEMLOCK (-ENOMEM)."""
    if not flags or flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) or flags == MCL_ONFAULT:
        return -errno.EINVAL
    if not can_do_mlock(mm):
        return -errno.EPERM
    if flags & MCL_CURRENT and mm.total_vm > memlock_limit(mm) and not capable_ipc_lock(mm):
        return -errno.ENOMEM
    mm.def_flags &= ~VM_LOCKED
    if flags & MCL_FUTURE:
        mm.def_flags |= VM_LOCKED
    if flags & MCL_CURRENT:
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
    fails with -ENOMEM.  (The system call itself copies each chunk as it
    goes: kernel/syscalls/mm.py sys_mincore.)"""
    err = mincore_check(mm, start, length)
    if err:
        return b"", err
    out = []
    pages = PAGE_ALIGN(length) >> PAGE_SHIFT
    while pages:
        chunk = mincore_one_vma(mm, start, pages)
        if isinstance(chunk, int):
            return b"".join(out), chunk
        out.append(chunk)
        pages -= len(chunk)
        start += len(chunk) << PAGE_SHIFT
    return b"".join(out), 0


def mincore_check(mm, start, length):
    """sys_mincore()'s checks of the range: EINVAL for an unaligned start,
    ENOMEM unless [start, start+len) is user space (access_ok)."""
    if start & ~PAGE_MASK:
        return -errno.EINVAL
    if start + length > mm.task_size:
        return -errno.ENOMEM
    return 0


def mincore_one_vma(mm, addr, pages):
    """do_mincore() (mm/mincore.c): the vector for at most `pages` pages
    from addr, within the one VMA that holds addr; -ENOMEM if none does.
    A page is resident if a pte maps it (mincore_pte_range) or, where no
    pte does, if it is in the file's page cache (mincore_unmapped_range).
    Missing tables are skipped a whole table span at a time, as
    walk_page_range() does, so the cost follows the populated tables and
    the page cache, not the length."""
    vma = find_vma(mm, addr)
    if vma is None or vma.vm_start > addr:
        return -errno.ENOMEM
    end = min(vma.vm_end, addr + (pages << PAGE_SHIFT))
    n = (end - addr) >> PAGE_SHIFT
    out = bytearray(n)
    mapping = vma.vm_file.mapping if vma.vm_file is not None else None
    if mapping is not None and mapping.pages:
        first = vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT)
        for pgoff in (mapping.pages if len(mapping.pages) < n else range(first, first + n)):
            if first <= pgoff < first + n and pgoff in mapping.pages:
                out[pgoff - first] = 1
    pt = mm.kernel.pgtable
    a = addr
    while a < end:
        ptep, span = pt.pte_lookup(mm, a)
        stop = min(end, (a | (span - 1)) + 1)
        if ptep is None:
            a = stop
            continue
        while a < stop:
            if pt.read_pte(ptep) & PTE_PRESENT_MASK:    # the zero page counts: it is mapped
                out[(a - addr) >> PAGE_SHIFT] = 1
            a += PAGE_SIZE
            ptep += 8
    return bytes(out)
