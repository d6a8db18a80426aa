"""mm/madvise.c: advice about a range — drop pages, or set VMA flags.

MADV_DONTNEED/MADV_FREE zap the pages (anonymous memory reads back as zero,
file pages come back from the page cache).  The flag advices set vm_flags
bits, splitting and merging VMAs exactly as mprotect does; with no fork,
swap or core dumps yet, the bits are recorded, and shown in smaps.
MADV_REMOVE punches a hole in the file of a shared writable mapping (the
pages go from every mapping and from the cache: shmem reads back zero).
MADV_WILLNEED is only checked.  Omits: MADV_(UN)MERGEABLE,
MADV_(NO)HUGEPAGE (no KSM, no transparent huge pages: -EINVAL).
"""

import errno

from emu.arch import PAGE_SHIFT
from kernel.mm.mm import (
    VM_DONTCOPY, VM_DONTDUMP, VM_IO, VM_LOCKED, VM_RAND_READ, VM_SEQ_READ, VM_SHARED,
    VM_WIPEONFORK, VM_WRITE,
)
from kernel.mm.mmap import PAGE_ALIGN, U64_MASK, find_vma_prev, offset_in_page, vma_modify
from kernel.uapi import (
    MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_FREE,
    MADV_KEEPONFORK, MADV_NORMAL, MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_WILLNEED,
    MADV_WIPEONFORK,
)

_FLAG_ADVICE = {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_DONTFORK, MADV_DOFORK,
                MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK, MADV_KEEPONFORK}
_VALID = _FLAG_ADVICE | {MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_REMOVE}


def madvise_behavior_flags(vma, advice):
    """The vm_flags madvise_behavior() gives vma, or a negative errno."""
    flags = vma.vm_flags
    if advice == MADV_NORMAL:
        return flags & ~(VM_RAND_READ | VM_SEQ_READ)
    if advice == MADV_SEQUENTIAL:
        return (flags & ~VM_RAND_READ) | VM_SEQ_READ
    if advice == MADV_RANDOM:
        return (flags & ~VM_SEQ_READ) | VM_RAND_READ
    if advice == MADV_DONTFORK:
        return flags | VM_DONTCOPY
    if advice == MADV_DOFORK:
        return -errno.EINVAL if flags & VM_IO else flags & ~VM_DONTCOPY
    if advice == MADV_WIPEONFORK:
        if vma.vm_file is not None or flags & VM_SHARED:
            return -errno.EINVAL        # only private anonymous memory can be wiped
        return flags | VM_WIPEONFORK
    if advice == MADV_KEEPONFORK:
        return flags & ~VM_WIPEONFORK
    if advice == MADV_DONTDUMP:
        return flags | VM_DONTDUMP
    return flags & ~VM_DONTDUMP         # MADV_DODUMP


def madvise_remove(vma, start, end):
    """madvise_remove(): punch [start, end) out of the file behind a shared
    writable mapping — -EINVAL (locked, or no file: anonymous memory),
    -EACCES (not shared and writable), or the file system's error.  (A
    F_SEAL_WRITE file's -EPERM cannot happen here: it has no shared
    writable mapping.)"""
    if vma.vm_flags & VM_LOCKED:
        return -errno.EINVAL
    file = vma.vm_file
    if file is None or file.mapping is None:
        return -errno.EINVAL
    if vma.vm_flags & (VM_SHARED | VM_WRITE) != VM_SHARED | VM_WRITE:
        return -errno.EACCES
    first = vma.vm_pgoff + ((start - vma.vm_start) >> PAGE_SHIFT)
    return file.mapping.punch_hole(first, first + ((end - start) >> PAGE_SHIFT) - 1)


def madvise_vma(mm, vma, prev, start, end, advice):
    """madvise_vma(): apply advice to [start, end) of vma; (err, prev)."""
    if advice in (MADV_DONTNEED, MADV_FREE):
        if vma.vm_flags & VM_LOCKED:
            return -errno.EINVAL, vma
        if advice == MADV_FREE and (vma.vm_file is not None or vma.vm_flags & VM_SHARED):
            return -errno.EINVAL, vma
        mm.kernel.zap_vma_range(vma, start, end)
        mm.kernel.tlb.flush_tlb_range(mm, start, end)
        return 0, vma
    if advice == MADV_WILLNEED:
        return 0, vma
    if advice == MADV_REMOVE:
        return madvise_remove(vma, start, end), vma
    flags = madvise_behavior_flags(vma, advice)
    if flags < 0:
        return flags, vma
    if flags == vma.vm_flags:
        return 0, vma
    err, vma = vma_modify(mm, vma, prev, start, end, flags)
    if not err:
        vma.vm_flags = flags
    return err, vma


def do_madvise(mm, start, len_in, advice):
    """SYSCALL madvise(): 0, or -EINVAL (bad advice or range), -ENOMEM (part
    of the range unmapped: the mapped parts are still advised)."""
    if advice not in _VALID or offset_in_page(start):
        return -errno.EINVAL
    length = PAGE_ALIGN(len_in) & U64_MASK         # unsigned long: may wrap
    if len_in and not length:
        return -errno.EINVAL
    end = start + length
    if end > U64_MASK:
        return -errno.EINVAL
    if end == start:
        return 0
    vma, prev = find_vma_prev(mm, start)
    if vma is not None and start > vma.vm_start:
        prev = vma
    unmapped_error = 0
    while True:
        if vma is None:
            return -errno.ENOMEM
        if start < vma.vm_start:
            unmapped_error = -errno.ENOMEM
            start = vma.vm_start
            if start >= end:
                return -errno.ENOMEM
        tmp = min(vma.vm_end, end)
        err, prev = madvise_vma(mm, vma, prev, start, tmp, advice)
        if err:
            return err
        start = max(tmp, prev.vm_end)
        if start >= end:
            return unmapped_error
        vma = prev.vm_next
