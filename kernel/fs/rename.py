"""renameat2()'s flags over the host's renameat2() (fs/namei.c).

Python's os module has no renameat2(); the host's glibc (2.28+) has the
wrapper, and the system call exists since Linux 3.15 (RENAME_WHITEOUT
3.18).  The host file system answers for what it does not support
(EINVAL), as the guest's Linux would for its own.
"""

import ctypes
import errno
import os

from kernel.uapi import AT_FDCWD

# include/uapi/linux/fs.h
RENAME_NOREPLACE = 1 << 0       # do not overwrite the target
RENAME_EXCHANGE = 1 << 1        # exchange source and target
RENAME_WHITEOUT = 1 << 2        # leave a whiteout where the source was

_libc = ctypes.CDLL(None, use_errno=True)


def host_lexists(dir_fd, path):
    """Whether path (relative to dir_fd, not following a last symlink)
    names something on the host: lookup_hash()'s d_is_positive()."""
    try:
        os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def host_renameat2(src_fd, src, dst_fd, dst, flags):
    """The host's renameat2(); raises OSError with the host's errno.  A
    dir_fd of None is the host's AT_FDCWD (the path is absolute then)."""
    rc = _libc.renameat2(AT_FDCWD if src_fd is None else src_fd, os.fsencode(src),
                         AT_FDCWD if dst_fd is None else dst_fd, os.fsencode(dst),
                         ctypes.c_uint(flags))
    if rc != 0:
        err = ctypes.get_errno() or errno.EIO
        raise OSError(err, os.strerror(err))
