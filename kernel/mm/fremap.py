"""mm/mmap.c: remap_file_pages() as Linux 4.14 emulates it.

Nonlinear file mappings (mm/fremap.c) were removed in 4.0 (commit
27ba0644ea9d, "rmap: drop support of non-linear mappings"); since then the
call survives as an emulation: it checks that [start, start+size) lies in
one shared file mapping (or a run of VMAs of the same file and flags with
no hole), then maps pgoff there with mmap(MAP_SHARED|MAP_FIXED|MAP_POPULATE)
of that file, so the range becomes a VMA of its own.  The first call of a
boot warns in the kernel log (pr_warn_once); a53emu shows that line in the
syscall trace.  Omits: munlock of the over-mapped pages (no page is
PG_mlocked here: MAP_LOCKED re-locks the new VMA just the same).
"""

import errno

from emu.arch import PAGE_MASK, PAGE_SHIFT
from kernel.mm.mm import VM_EXEC, VM_LOCKED, VM_READ, VM_SHARED, VM_WRITE
from kernel.mm.mmap import do_mmap, find_vma, is_err
from kernel.syscalls.table import syscall
from kernel.uapi import (
    MAP_FIXED, MAP_LOCKED, MAP_NONBLOCK, MAP_POPULATE, MAP_SHARED, PROT_EXEC, PROT_READ,
    PROT_WRITE,
)

U64_MASK = (1 << 64) - 1
DEPRECATION = ("%s (%d) uses deprecated remap_file_pages() syscall. "
               "See Documentation/vm/remap_file_pages.txt.")


def pr_warn_once(task, key, text):
    """pr_warn_once(): a kernel log line, the first time only (per board)."""
    kernel = task.kernel
    if key in kernel.warned_once:
        return
    kernel.warned_once.add(key)
    kernel.printk(text)


def sys_remap_file_pages(task, start, size, prot, pgoff, flags):
    """SYSCALL remap_file_pages(): 0, or -EINVAL (prot not 0, an empty or
    wrapping range, pgoff wrapping, a range not wholly in one shared
    mapping of one file), or do_mmap()'s error."""
    pr_warn_once(task, "remap_file_pages", DEPRECATION % (task.comm, task.pid))
    if prot:
        return -errno.EINVAL
    start &= PAGE_MASK
    size &= PAGE_MASK
    if start + size <= start or start + size > U64_MASK:
        return -errno.EINVAL
    if pgoff + (size >> PAGE_SHIFT) > U64_MASK:
        return -errno.EINVAL
    mm = task.mm
    vma = find_vma(mm, start)
    if vma is None or not vma.vm_flags & VM_SHARED or start < vma.vm_start:
        return -errno.EINVAL
    if start + size > vma.vm_end:
        nxt = vma.vm_next
        while nxt is not None:
            if nxt.vm_start != nxt.vm_prev.vm_end or nxt.vm_file is not vma.vm_file \
                    or nxt.vm_flags != vma.vm_flags:
                return -errno.EINVAL
            if start + size <= nxt.vm_end:
                break
            nxt = nxt.vm_next
        if nxt is None:
            return -errno.EINVAL
    prot = (PROT_READ if vma.vm_flags & VM_READ else 0) | \
        (PROT_WRITE if vma.vm_flags & VM_WRITE else 0) | \
        (PROT_EXEC if vma.vm_flags & VM_EXEC else 0)
    flags = (flags & MAP_NONBLOCK) | MAP_SHARED | MAP_FIXED | MAP_POPULATE
    if vma.vm_flags & VM_LOCKED:
        flags |= MAP_LOCKED
    file = vma.vm_file.get()            # the VMA it came from may be unmapped now
    ret = do_mmap(mm, file, start, size, prot, flags, pgoff)
    file.put()
    return ret if is_err(ret) else 0


# Registered by a call, not a decorator: mutmut skips decorated functions.
syscall("remap_file_pages", "p u prot u rfpflags")(sys_remap_file_pages)
