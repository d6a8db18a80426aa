"""fs/utimes.c: utimensat(), the one time-setting call of arm64.

The times are the host file's, set by the host's utimensat() (UTIME_NOW
and UTIME_OMIT included); the guest's struct timespec pair has the host's
layout and is passed as it is, after the checks 4.14 makes itself.
"""

import errno
import struct

from kernel.fs import hostcall
from kernel.fs.namei import host_path, path_call, user_path
from kernel.fs.permission import may_futimes, may_utimes
from kernel.fs.open import fdget
from kernel.syscalls.table import syscall
from kernel.time.timekeeping import NSEC_PER_SEC
from kernel.uapi import AT_FDCWD, AT_SYMLINK_NOFOLLOW
from kernel.uaccess import s32

# include/uapi/linux/stat.h
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
_TIMESPEC_PAIR = struct.Struct("<qqqq")


def nsec_valid(nsec):
    """nsec_valid(): a nanosecond count, or UTIME_NOW/UTIME_OMIT."""
    return 0 <= nsec < NSEC_PER_SEC or nsec in (UTIME_NOW, UTIME_OMIT)


@syscall("utimensat", "dirfd path utimens atflags")
@path_call
def sys_utimensat(task, dirfd, path_addr, times_addr, flags):
    """sys_utimensat() + do_utimes(): the times are read first (EFAULT); both
    UTIME_OMIT is 0 without even looking at the path; then EINVAL for a bad
    nanosecond field or a flag other than AT_SYMLINK_NOFOLLOW (4.14 has no
    AT_EMPTY_PATH here); a NULL path with a descriptor is futimens() (EBADF,
    and EINVAL with AT_SYMLINK_NOFOLLOW); else the path is looked up (a NULL
    path with AT_FDCWD: EFAULT).  Permissions (EACCES for "now" without
    write access, EPERM for explicit times on another's file) are checked
    with the guest's cred (fs/permission.py), then by the host."""
    times = None
    if times_addr:
        times = task.uaccess.copy_from_user(times_addr, _TIMESPEC_PAIR.size)
        _, ansec, _, mnsec = _TIMESPEC_PAIR.unpack(times)
        if ansec == UTIME_OMIT and mnsec == UTIME_OMIT:
            return 0
        if not nsec_valid(ansec) or not nsec_valid(mnsec):
            return -errno.EINVAL
    # utimes_common(): both UTIME_NOW is a touch, like no times at all.
    touch = times is None or (ansec == UTIME_NOW and mnsec == UTIME_NOW)
    flags = s32(flags)
    if flags & ~AT_SYMLINK_NOFOLLOW:
        return -errno.EINVAL
    if path_addr == 0 and s32(dirfd) != AT_FDCWD:
        if flags & AT_SYMLINK_NOFOLLOW:
            return -errno.EINVAL
        file = fdget(task, dirfd)
        if file is None:
            return -errno.EBADF
        if file.host_fd is None:
            return -errno.EPERM
        err = may_futimes(task, file.host_fd, touch)
        if err:
            return err
        hostcall.futimens(file.host_fd, times)
        return 0
    if path_addr == 0:
        return -errno.EFAULT
    dir_fd, hpath = host_path(task, dirfd, user_path(task, path_addr),
                              not flags & AT_SYMLINK_NOFOLLOW)
    err = may_utimes(task, dir_fd, hpath, not flags & AT_SYMLINK_NOFOLLOW, touch)
    if err:
        return err
    hostcall.utimensat(dir_fd, hpath, times, flags & AT_SYMLINK_NOFOLLOW)
    return 0
