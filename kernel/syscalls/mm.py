"""mm/mmap.c, mm/mprotect.c, mm/madvise.c, mm/msync.c, arch/arm64/kernel/sys.c:
the memory-management system calls, each a thin shell over kernel/mm.

Each handler is registered by calling syscall() after it rather than by
decorating it: mutmut (`make mutate`) does not mutate decorated functions,
and these shells hold argument rules (32-bit ints, errno order) worth
mutating."""

import errno

from emu.arch import PAGE_SHIFT, PAGE_SIZE
from kernel.fs.open import fdget
from kernel.mm.mm import VM_LOCKED, VM_SHARED
from kernel.mm.mmap import (
    PAGE_ALIGN, U64_MASK, do_mmap, do_munmap, offset_in_page, sys_brk, vma_spans,
)
from kernel.mm.madvise import do_madvise
from kernel.mm.mlock import (
    do_mlock, do_mlockall, do_munlock, do_munlockall, mincore_check, mincore_one_vma,
)
from kernel.mm.mprotect import do_mprotect_pkey
from kernel.mm.mremap import sys_mremap
from kernel.syscalls.table import syscall
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_HUGETLB, MS_ASYNC, MS_INVALIDATE,
    MS_SYNC,
)


def sys_brk_call(task, brk):
    return sys_brk(task.mm, brk)


syscall("brk", "p", ret="x")(sys_brk_call)


def sys_mmap(task, addr, length, prot, flags, fd, off):
    """arch/arm64/kernel/sys.c: sys_mmap() → ksys_mmap_pgoff() → do_mmap()."""
    if offset_in_page(off):
        return -errno.EINVAL
    flags &= 0xFFFFFFFF
    prot &= 0xFFFFFFFF
    file = None
    if not flags & MAP_ANONYMOUS:
        file = fdget(task, fd)          # fget(): an O_PATH descriptor is EBADF
        if file is None:
            return -errno.EBADF
        if flags & MAP_HUGETLB:
            return -errno.EINVAL
    elif flags & MAP_HUGETLB:
        # hugetlb_file_setup() with no huge pages reserved (vm.nr_hugepages 0).
        return -errno.ENOMEM
    flags &= ~(MAP_EXECUTABLE | MAP_DENYWRITE)
    return do_mmap(task.mm, file, addr, length, prot, flags, off >> PAGE_SHIFT)


syscall("mmap", "p u prot mflags fd x", ret="x")(sys_mmap)


def sys_munmap(task, addr, length):
    return do_munmap(task.mm, addr, length)


syscall("munmap", "p u")(sys_munmap)


def sys_mprotect(task, addr, length, prot):
    return do_mprotect_pkey(task.mm, addr, length, prot & 0xFFFFFFFF)


syscall("mprotect", "p u prot")(sys_mprotect)


def sys_mremap_call(task, addr, old_len, new_len, flags, new_addr):
    return sys_mremap(task.mm, addr, old_len, new_len, flags & 0xFFFFFFFF, new_addr)


syscall("mremap", "p u u mremapflags p", ret="x")(sys_mremap_call)


def sys_madvise(task, start, length, advice):
    return do_madvise(task.mm, start, length, advice)


syscall("madvise", "p u madv")(sys_madvise)


def sys_msync(task, start, length, flags):
    """mm/msync.c: write back shared file pages of the range; -EBUSY when
    MS_INVALIDATE meets a VM_LOCKED vma (before or after a hole)."""
    mm = task.mm
    if flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) or offset_in_page(start):
        return -errno.EINVAL
    if flags & MS_ASYNC and flags & MS_SYNC:
        return -errno.EINVAL
    end = start + (PAGE_ALIGN(length) & U64_MASK)      # unsigned long: may wrap to 0
    if end > U64_MASK:
        return -errno.ENOMEM
    if end == start:
        return 0                        # before any VMA is looked at, even a locked one
    spans, unmapped = vma_spans(mm, start, end)
    if flags & MS_INVALIDATE and any(vma.vm_flags & VM_LOCKED for vma, _, _ in spans):
        return -errno.EBUSY             # a locked page cannot be invalidated
    for vma, lo, hi in spans:
        if vma.vm_file is not None and vma.vm_flags & VM_SHARED:
            first = vma.vm_pgoff + ((lo - vma.vm_start) >> PAGE_SHIFT)
            vma.vm_file.mapping.writeback(first, first + ((hi - lo) >> PAGE_SHIFT) - 1)
    return -errno.ENOMEM if unmapped else 0


syscall("msync", "p u msflags")(sys_msync)


def sys_mincore(task, start, length, vec):
    """SYSCALL_DEFINE3(mincore): the range checks, then access_ok() of the
    vector (EFAULT), then one do_mincore() chunk at a time — at most a page
    of vector, one VMA — each copied out before the next is made.  The host
    never holds more than one chunk, whatever the guest's length."""
    mm = task.mm
    err = mincore_check(mm, start, length)
    if err:
        return err
    pages = PAGE_ALIGN(length) >> PAGE_SHIFT
    if vec + pages > mm.task_size:
        return -errno.EFAULT
    while pages:
        chunk = mincore_one_vma(mm, start, min(pages, PAGE_SIZE))
        if isinstance(chunk, int):
            return chunk
        task.uaccess.copy_to_user(vec, chunk)
        pages -= len(chunk)
        vec += len(chunk)
        start += len(chunk) << PAGE_SHIFT
    return 0


syscall("mincore", "p u mincorevec:out")(sys_mincore)


def sys_mlock(task, start, length):
    return do_mlock(task.mm, start, length)


syscall("mlock", "p u")(sys_mlock)


def sys_mlock2(task, start, length, flags):
    return do_mlock(task.mm, start, length, flags)


syscall("mlock2", "p u mlock2flags")(sys_mlock2)


def sys_munlock(task, start, length):
    return do_munlock(task.mm, start, length)


syscall("munlock", "p u")(sys_munlock)


def sys_mlockall(task, flags):
    return do_mlockall(task.mm, flags)


syscall("mlockall", "mclflags")(sys_mlockall)


def sys_munlockall(task):
    return do_munlockall(task.mm)


syscall("munlockall")(sys_munlockall)