"""mm/shmem.c (4.14; mm/memfd.c since 4.16): memfd_create() and file seals.

A memfd is an anonymous shmem file: a file of the board's tmpfs that no
directory names.  Here its data lives in a host file made in the board's
temporary directory (kernel/ipc/namespace.py) and unlinked at once; its
pages are the page cache of that inode (kernel/mm/filemap.py), so every
mapping, read() and write() meets in the same frames, as on Linux.

Seals (shmem_inode_info->seals) are kept on the inode's AddressSpace.  A
file of the board's /dev/shm is shmem too: its seals are F_SEAL_SEAL from
birth (shmem_get_inode()).  Any other file is not shmem: F_ADD_SEALS and
F_GET_SEALS say EINVAL.

Omits: MFD_HUGETLB (CONFIG_HUGETLBFS is off: hugetlb_file_setup() is
-ENOSYS), shmem_wait_for_pins() (nothing pins pages: no O_DIRECT, no GUP
beyond a system call's own copy).
"""

import errno
import os

from emu.arch import PAGE_SIZE
from kernel.fs.file import File
from kernel.ipc.uapi import (
    F_ADD_SEALS, F_ALL_SEALS, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
    MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_HUGE_MASK, MFD_HUGE_SHIFT, MFD_HUGETLB,
    MFD_NAME_MAX_LEN, MFD_NAME_PREFIX,
)
from kernel.mm.mm import VM_SHARED
from kernel.mm.shmem import shmem_seals
from kernel.mm.rmap import mapping_vmas
from kernel.syscalls.table import syscall
from kernel.uapi import O_LARGEFILE, O_RDWR

S_IRWXUGO = 0o777
MFD_ALL_FLAGS = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB
U32_MAX = 0xFFFFFFFF


def sys_memfd_create(task, uname, flags):
    """SYSCALL memfd_create(): a new anonymous shmem file, O_RDWR.

    Checks in 4.14's order: flags (-EINVAL), the name (-EFAULT, -EINVAL
    when longer than 249 bytes), then the file (MFD_HUGETLB: -ENOSYS;
    4.14 reserves the descriptor first, so -EMFILE would win over it)."""
    flags &= U32_MAX
    allowed = MFD_ALL_FLAGS
    if flags & MFD_HUGETLB:
        allowed |= MFD_HUGE_MASK << MFD_HUGE_SHIFT
    if flags & ~allowed:
        return -errno.EINVAL
    name = task.uaccess.strncpy_from_user(uname, MFD_NAME_MAX_LEN + 1)
    if len(name) > MFD_NAME_MAX_LEN:
        return -errno.EINVAL
    if flags & MFD_HUGETLB:
        return -errno.ENOSYS
    file = shmem_file_setup(task.kernel, MFD_NAME_PREFIX + os.fsdecode(name))
    file.mapping.seals = 0 if flags & MFD_ALLOW_SEALING else F_SEAL_SEAL
    fd = task.files.alloc_fd(file, cloexec=bool(flags & MFD_CLOEXEC))
    if fd < 0:
        file.put()
    return fd


# Registered by a call, not a decorator: mutmut skips decorated functions.
syscall("memfd_create", "mfdname mfdflags")(sys_memfd_create)


def shmem_file_setup(kernel, name):
    """shmem_file_setup(): an unlinked file of the board's tmpfs, open
    read-write, shown as "/NAME (deleted)" as d_path() shows it."""
    import tempfile     # here: tempfile (random, math, ...) costs every start ~1 ms (issue 8)
    directory = os.path.join(kernel.ipc_ns.host_root(), b"memfd")
    hfd, path = tempfile.mkstemp(dir=directory)
    os.unlink(path)
    os.fchmod(hfd, S_IRWXUGO)           # shmem_file_setup(): S_IFREG | S_IRWXUGO, no umask
    os.set_inheritable(hfd, False)
    return File(kernel, hfd, "/%s (deleted)" % name, O_RDWR | O_LARGEFILE)


def mapping_writably_mapped(kernel, mapping):
    """mapping->i_mmap_writable > 0: some VMA maps the file VM_SHARED (a
    MAP_SHARED mapping of a descriptor open for writing, whatever its
    protection — 4.14 counts those as writable)."""
    return any(vma.vm_flags & VM_SHARED for vma in mapping_vmas(kernel, mapping))


def shmem_add_seals(file, seals):
    """shmem_add_seals(): 0, -EINVAL (not shmem, unknown seal), -EPERM (not
    open for writing, or F_SEAL_SEAL set), -EBUSY (F_SEAL_WRITE while a
    writable shared mapping exists)."""
    current = shmem_seals(file)
    if current is None:
        return -errno.EINVAL
    if not file.writable:
        return -errno.EPERM
    if seals & ~F_ALL_SEALS:
        return -errno.EINVAL
    if current & F_SEAL_SEAL:
        return -errno.EPERM
    if seals & F_SEAL_WRITE and not current & F_SEAL_WRITE:
        if mapping_writably_mapped(file.kernel, file.mapping):
            return -errno.EBUSY         # mapping_deny_writable()
    file.mapping.seals = current | seals
    return 0


def shmem_fcntl(file, cmd, arg):
    """shmem_fcntl(): F_ADD_SEALS (the upper 32 bits of arg must be clear) and
    F_GET_SEALS."""
    if cmd == F_ADD_SEALS:
        if arg > U32_MAX:
            return -errno.EINVAL
        return shmem_add_seals(file, arg)
    seals = shmem_seals(file)
    return -errno.EINVAL if seals is None else seals


def shmem_write_check(file, pos, count):
    """shmem_write_begin()'s seal checks, chunk by chunk as
    generic_perform_write() asks: how many of count bytes at pos may be
    written (a write is cut at the first page chunk that would grow a
    F_SEAL_GROW file), or -EPERM if none (F_SEAL_WRITE: never)."""
    seals = shmem_seals(file)
    if not seals:
        return count
    if seals & F_SEAL_WRITE:
        return -errno.EPERM
    if not seals & F_SEAL_GROW:
        return count
    size = file.mapping.size()
    done = 0
    while done < count:
        n = min(count - done, PAGE_SIZE - ((pos + done) & (PAGE_SIZE - 1)))
        if pos + done + n > size:
            break
        done += n
    return done if done or not count else -errno.EPERM


def shmem_setattr_check(file, new_size):
    """shmem_setattr(): a sealed file may not shrink (F_SEAL_SHRINK) or grow
    (F_SEAL_GROW): -EPERM; 0 otherwise."""
    seals = shmem_seals(file)
    if not seals:
        return 0
    old = file.mapping.size()
    if new_size < old and seals & F_SEAL_SHRINK or new_size > old and seals & F_SEAL_GROW:
        return -errno.EPERM
    return 0
