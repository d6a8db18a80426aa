"""mm/fadvise.c: posix_fadvise() (fadvise64 on arm64).

Advice about the page cache: the board's cache reads ahead by itself and
never evicts, so the advice changes nothing here; it is passed on to the
host for the host file's own cache.  What is Linux's is which calls are
refused, and with which errno.
"""

import errno
import os
import stat

from kernel.fs.open import fdget, s64
from kernel.syscalls.table import syscall
from kernel.uaccess import s32

# include/uapi/linux/fadvise.h (arm64: DONTNEED 4, NOREUSE 5)
POSIX_FADV_NORMAL = 0
POSIX_FADV_RANDOM = 1
POSIX_FADV_SEQUENTIAL = 2
POSIX_FADV_WILLNEED = 3
POSIX_FADV_DONTNEED = 4
POSIX_FADV_NOREUSE = 5


@syscall("fadvise64", "fd d u fadvice")
def sys_fadvise64(task, fd, offset, length, advice):
    """sys_fadvise64_64(): EBADF, ESPIPE for a FIFO (a pipe), EINVAL for a
    negative length or an unknown advice; 0 otherwise (a negative offset
    is not checked by 4.14)."""
    file = fdget(task, fd)
    if file is None:
        return -errno.EBADF
    offset, length, advice = s64(offset), s64(length), s32(advice)
    if stat.S_ISFIFO(file.mode):
        return -errno.ESPIPE
    if length < 0:
        return -errno.EINVAL
    if not POSIX_FADV_NORMAL <= advice <= POSIX_FADV_NOREUSE:
        return -errno.EINVAL
    if file.host_fd is not None and stat.S_ISREG(file.mode) and offset >= 0:
        try:
            os.posix_fadvise(file.host_fd, offset, length, advice)
        except OSError:
            pass            # advice only: the host's cache keeps its own counsel
    return 0
