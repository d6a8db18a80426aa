"""The host C library's file calls that Python's os module does not offer.

fallocate(2) with a mode, statfs(2)/fstatfs(2) (f_type and f_fsid, which
os.statvfs drops), utimensat(2) with UTIME_NOW/UTIME_OMIT, linkat(2) with
AT_EMPTY_PATH, syncfs(2), sync_file_range(2), splice(2) and tee(2).  Each returns what
the C function returns; a failure raises OSError with the host's errno.
"""

import ctypes
import os

# The C library through the interpreter's own symbols (dlopen(NULL): Python
# is linked against it).  ctypes.util.find_library("c") would run
# `ldconfig -p` in a subprocess at every start (~10-25 ms, issue 8).
_libc = ctypes.CDLL(None, use_errno=True)
_off_t = ctypes.c_int64

# struct statfs on the host (x86-64 and arm64 agree: eleven longs and a
# two-int fsid, 120 bytes) has the layout of the AArch64 guest's, so the
# host's answer is copied through byte for byte.
STATFS_SIZE = 120


def host_libc():
    """The host C library, for a call Python has no binding for (errno kept:
    ctypes.get_errno() after a failure)."""
    return _libc


def _check(ret):
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return ret


def _proto(name, restype, *argtypes):
    func = getattr(_libc, name)
    func.restype = restype
    func.argtypes = argtypes
    return func


_fallocate = _proto("fallocate", ctypes.c_int, ctypes.c_int, ctypes.c_int, _off_t, _off_t)
_statfs = _proto("statfs", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p)
_fstatfs = _proto("fstatfs", ctypes.c_int, ctypes.c_int, ctypes.c_char_p)
_utimensat = _proto("utimensat", ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                    ctypes.c_int)
_futimens = _proto("futimens", ctypes.c_int, ctypes.c_int, ctypes.c_char_p)
_linkat = _proto("linkat", ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                 ctypes.c_char_p, ctypes.c_int)
_syncfs = _proto("syncfs", ctypes.c_int, ctypes.c_int)
_sync_file_range = _proto("sync_file_range", ctypes.c_int, ctypes.c_int, _off_t, _off_t,
                          ctypes.c_uint)
_splice = _proto("splice", ctypes.c_ssize_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                 ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint)
_tee = _proto("tee", ctypes.c_ssize_t, ctypes.c_int, ctypes.c_int, ctypes.c_size_t,
              ctypes.c_uint)

HOST_AT_FDCWD = -100


def fallocate(fd, mode, offset, length):
    return _check(_fallocate(fd, mode, offset, length))


def statfs(path):
    """The host's struct statfs of the file system holding path, as bytes."""
    buf = ctypes.create_string_buffer(STATFS_SIZE)
    _check(_statfs(path, buf))
    return buf.raw


def fstatfs(fd):
    buf = ctypes.create_string_buffer(STATFS_SIZE)
    _check(_fstatfs(fd, buf))
    return buf.raw


def utimensat(dir_fd, path, times, flags):
    """times: the two struct timespec as bytes (the guest's layout is the
    host's: {s64 sec, s64 nsec}), or None for "now"."""
    return _check(_utimensat(HOST_AT_FDCWD if dir_fd is None else dir_fd, path, times, flags))


def futimens(fd, times):
    return _check(_futimens(fd, times))


def linkat(olddir, old, newdir, new, flags):
    return _check(_linkat(HOST_AT_FDCWD if olddir is None else olddir, old,
                          HOST_AT_FDCWD if newdir is None else newdir, new, flags))


def syncfs(fd):
    return _check(_syncfs(fd))


def sync_file_range(fd, offset, nbytes, flags):
    return _check(_sync_file_range(fd, offset, nbytes, flags))


def splice(fd_in, fd_out, length, flags):
    """splice(2) between two pipes (no offsets); os.splice needs Python 3.10."""
    return _check(_splice(fd_in, None, fd_out, None, length, flags))


def tee(fd_in, fd_out, length, flags):
    return _check(_tee(fd_in, fd_out, length, flags))
