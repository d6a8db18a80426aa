"""fs/fhandle.c: name_to_handle_at() and open_by_handle_at().

A file handle names a file by what its file system exports (NFS-style
export operations: an inode number and generation that stay valid across
reboots).  The board's files are host files reached by path; it has no
export operations of its own to offer, and the host's handles would let a
guest open host files by handle, outside every path it can name (and need
CAP_DAC_READ_SEARCH on the host).  So the board's file system behaves as
Linux does for a file system without s_export_op: name_to_handle_at()
looks the path up (its errors first) and then says EOPNOTSUPP, and
open_by_handle_at() can decode no handle (ESTALE, after its own checks).
"""

import errno
import os
import struct

from kernel.cred import CAP_DAC_READ_SEARCH, capable
from kernel.fs.namei import host_path, path_call, user_path
from kernel.fs.open import fdget_raw
from kernel.syscalls.table import syscall
from kernel.uapi import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_FOLLOW
from kernel.uaccess import s32

MAX_HANDLE_SZ = 128
_FILE_HANDLE_HEAD = struct.Struct("<Ii")        # handle_bytes, handle_type


@syscall("name_to_handle_at", "dirfd path p p atflags")
@path_call
def sys_name_to_handle_at(task, dirfd, path_addr, handle, mnt_id, flags):
    """name_to_handle_at(): EINVAL for flags other than AT_SYMLINK_FOLLOW and
    AT_EMPTY_PATH, the lookup's errors (ENOENT, ENOTDIR, EBADF, EFAULT),
    then EOPNOTSUPP: no export operations."""
    flags = s32(flags)
    if flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    path = user_path(task, path_addr)
    if not path and flags & AT_EMPTY_PATH:
        if s32(dirfd) != AT_FDCWD and fdget_raw(task, dirfd) is None:
            return -errno.EBADF
    else:
        dir_fd, hpath = host_path(task, dirfd, path, bool(flags & AT_SYMLINK_FOLLOW))
        os.stat(hpath, dir_fd=dir_fd, follow_symlinks=bool(flags & AT_SYMLINK_FOLLOW))
    return -errno.EOPNOTSUPP


@syscall("open_by_handle_at", "fd p oflags")
def sys_open_by_handle_at(task, mountdirfd, handle, flags):
    """open_by_handle_at(): EPERM without CAP_DAC_READ_SEARCH, EBADF for the
    mount descriptor, EFAULT/EINVAL for the handle's header, then ESTALE:
    exportfs_decode_fh() of a file system without export operations."""
    if not capable(task, CAP_DAC_READ_SEARCH):
        return -errno.EPERM
    if s32(mountdirfd) != AT_FDCWD and fdget_raw(task, mountdirfd) is None:
        return -errno.EBADF
    nbytes, _ = _FILE_HANDLE_HEAD.unpack(task.uaccess.copy_from_user(
        handle, _FILE_HANDLE_HEAD.size))
    if nbytes > MAX_HANDLE_SZ or nbytes == 0:
        return -errno.EINVAL
    task.uaccess.copy_from_user(handle + _FILE_HANDLE_HEAD.size, nbytes)
    return -errno.ESTALE
