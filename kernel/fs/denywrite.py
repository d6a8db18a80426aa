"""i_writecount's negative side (include/linux/fs.h: get_write_access(),
deny_write_access()) for the board's files.

In 4.14 a running program's image and its interpreter are mapped with
MAP_DENYWRITE (load_elf_binary(), load_elf_interp()), so each such VMA
(VM_DENYWRITE) holds deny_write_access() on its file until it is unmapped
(mmap_region() / remove_vma()).  While one exists, get_write_access() —
in do_dentry_open() for an open for writing, handle_truncate() for
O_TRUNC, vfs_truncate() for truncate() — fails with ETXTBSY.  The
converse, exec of a file open for writing, is kernel/fs/exec.py's
deny_write_access().  The count is not kept: the board's VMAs are asked.
"""

import errno
import os
import stat

from kernel.mm.mm import VM_DENYWRITE
from kernel.uapi import O_ACCMODE, O_NOFOLLOW, O_RDONLY, O_TRUNC


def inode_write_denied(kernel, key):
    """i_writecount < 0: does a VM_DENYWRITE mapping of the inode key
    ((st_dev, st_ino) on the host) exist in any mm of the board?"""
    from kernel.fs.locks import locks_inode_key
    seen = set()
    for task in kernel.tasks.values():
        mm = task.mm
        if mm is None or id(mm) in seen:
            continue
        seen.add(id(mm))
        for vma in mm.vmas():
            if vma.vm_flags & VM_DENYWRITE and vma.vm_file is not None and \
                    vma.vm_file.host_fd is not None and locks_inode_key(vma.vm_file) == key:
                return True
    return False


def get_write_access(kernel, st):
    """get_write_access() on the inode st describes: 0 or -ETXTBSY.
    Special files (devices, FIFOs, sockets) are never counted
    (do_dentry_open()'s !special_file())."""
    if not stat.S_ISREG(st.st_mode):
        return 0
    return -errno.ETXTBSY if inode_write_denied(kernel, (st.st_dev, st.st_ino)) else 0


def open_write_access(task, st, flags):
    """The ETXTBSY of an open: do_dentry_open() takes write access for an
    open for writing, handle_truncate() for O_TRUNC (even O_RDONLY|O_TRUNC).
    0 or -ETXTBSY."""
    if flags & O_ACCMODE == O_RDONLY and not flags & O_TRUNC:
        return 0
    return get_write_access(task.kernel, st)


def path_open_write_access(task, dir_fd, hpath, flags):
    """open_write_access() for a host path (when no guest permission walk
    was made: the host's own checks come at its open).  0 or -ETXTBSY."""
    if flags & O_ACCMODE == O_RDONLY and not flags & O_TRUNC:
        return 0
    try:
        st = os.stat(hpath, dir_fd=dir_fd, follow_symlinks=not flags & O_NOFOLLOW)
    except OSError:
        return 0                        # a new name, or the host's error follows
    return get_write_access(task.kernel, st)
