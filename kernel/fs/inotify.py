"""fs/notify/inotify/inotify_user.c: inotify over the host's inotify.

The files a board sees are the host's, so the host kernel is the one that
knows when they change: each board inotify instance is a host inotify
descriptor (non-blocking, close-on-exec), and its events are passed on
as they are — struct inotify_event has the same layout on AArch64 and
the host, watch descriptors are numbered per instance from 1 as in Linux,
and names are relative to the watched directory.  What the board does
itself: the argument checks in 4.14's order, the path lookup (sysroot,
working directory; paths reach the host as /proc/self/fd/N/NAME under the
directory the board resolved them in), and sleeping through WouldBlock.
Changes made by the host's own processes can wake a board task, so a
sleeper on inotify counts as waiting for the outside world.
"""

import ctypes
import errno
import os
import re

from kernel.fs.file import File
from kernel.fs.hostcall import host_libc
from kernel.fs.inotify_sysctl import inotify_devs, max_user_instances
from kernel.fs.namei import PathError, host_path, user_path
from kernel.uaccess import s32
from kernel.syscalls.table import syscall
from kernel.uapi import AT_FDCWD, O_CLOEXEC, O_NONBLOCK, O_RDONLY

IN_CLOEXEC, IN_NONBLOCK = O_CLOEXEC, O_NONBLOCK
IN_ALL_EVENTS = 0x00000FFF
IN_UNMOUNT, IN_Q_OVERFLOW, IN_IGNORED = 0x00002000, 0x00004000, 0x00008000
IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK = 0x01000000, 0x02000000, 0x04000000
IN_MASK_ADD, IN_ISDIR, IN_ONESHOT = 0x20000000, 0x40000000, 0x80000000
# 4.14's ALL_INOTIFY_BITS (IN_MASK_CREATE came in 4.19: not a valid bit here).
ALL_INOTIFY_BITS = IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR | \
    IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_ADD | IN_ISDIR | IN_ONESHOT

def _check(ret):
    if ret < 0:
        return -(ctypes.get_errno() or errno.EINVAL)
    return ret


class InotifyFile(File):
    """An inotify instance: a host inotify descriptor behind a board file.
    It counts against its creator's user (inotify_new_group()) until its
    last reference goes (inotify_free_group_priv())."""

    def __init__(self, kernel, host_fd, flags, uid=0):
        super().__init__(kernel, host_fd, "anon_inode:inotify", O_RDONLY | (flags & O_NONBLOCK))
        self.uid = uid
        devs = inotify_devs(kernel)
        devs[uid] = devs.get(uid, 0) + 1
        self.d_name = "anon_inode:inotify"          # /proc/PID/fd/N (no brackets in Linux)
        # Not owned_nonblock: the host's processes may make it readable (so a
        # sleeper is waiting for the outside), and reads poll first.
        self.owned_nonblock = False

    def show_fdinfo(self):
        """inotify_fdinfo(): one line per watch — the host's, whose inode
        and device are the board's files' — with 4.14's mask, the events
        only (mark->mask & IN_ALL_EVENTS): v5.19's a32e697cda27 ("inotify:
        show inotify mask flags in proc fdinfo") shows IN_ONESHOT,
        IN_EXCL_UNLINK and the other flags too."""
        try:
            with open("/proc/self/fdinfo/%d" % self.host_fd) as f:
                lines = [line for line in f if line.startswith("inotify ")]
        except OSError:
            return ""
        return "".join(re.sub(r"\bmask:([0-9a-f]+)",
                              lambda m: "mask:%x" % (int(m.group(1), 16) & IN_ALL_EVENTS), line)
                       for line in lines)

    def put(self):
        last = self.refcount == 1
        super().put()
        if last:
            inotify_devs(self.kernel)[self.uid] -= 1


@syscall("inotify_init1", "inflags")
def sys_inotify_init1(task, flags):
    """inotify_init1(): IN_NONBLOCK and IN_CLOEXEC only; EMFILE when the
    caller's user has fs.inotify.max_user_instances instances (the board's
    limit; the host's own still applies beneath it)."""
    flags = s32(flags)
    if flags & ~(IN_CLOEXEC | IN_NONBLOCK):
        return -errno.EINVAL
    uid = task.cred.uid
    if inotify_devs(task.kernel).get(uid, 0) >= max_user_instances(task.kernel):
        return -errno.EMFILE
    hfd = _check(host_libc().inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
    if hfd < 0:
        return hfd
    file = InotifyFile(task.kernel, hfd, flags, uid)
    fd = task.files.alloc_fd(file, cloexec=bool(flags & IN_CLOEXEC))
    if fd < 0:
        file.put()
    return fd


def _inotify_fget(task, fd):
    file = task.files.get(s32(fd))
    if file is None:
        return -errno.EBADF
    if not isinstance(file, InotifyFile):
        return -errno.EINVAL
    return file


@syscall("inotify_add_watch", "fd path inmask")
def sys_inotify_add_watch(task, fd, pathname, mask):
    """inotify_add_watch(): a mask with no event is EINVAL before the
    descriptor is looked at; then EBADF, EINVAL (not inotify), the lookup."""
    mask &= 0xFFFFFFFF
    if not mask & ALL_INOTIFY_BITS:
        return -errno.EINVAL
    file = _inotify_fget(task, fd)
    if isinstance(file, int):
        return file
    try:
        dir_fd, hpath = host_path(task, AT_FDCWD, user_path(task, pathname),
                                  not mask & IN_DONT_FOLLOW)
    except PathError as e:
        return e.err
    if dir_fd is not None and not hpath.startswith(b"/"):
        hpath = b"/proc/self/fd/%d/%s" % (dir_fd, hpath)
    return _check(host_libc().inotify_add_watch(file.host_fd, hpath, mask & ALL_INOTIFY_BITS))


@syscall("inotify_rm_watch", "fd d")
def sys_inotify_rm_watch(task, fd, wd):
    """inotify_rm_watch(): EINVAL for a watch it does not have."""
    file = _inotify_fget(task, fd)
    if isinstance(file, int):
        return file
    return _check(host_libc().inotify_rm_watch(file.host_fd, s32(wd)))
