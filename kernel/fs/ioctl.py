"""fs/ioctl.c: do_vfs_ioctl() — the requests every file answers, then the
file's own (file_ioctl() for a regular file, ->unlocked_ioctl otherwise).

Which file kinds answer what, as in 4.14:
  - FIOCLEX/FIONCLEX, FIONBIO: every descriptor; FIOASYNC (and the
    sockets' FIOSETOWN...): kernel/fs/fcntl.py fasync_ioctl();
  - FIOQSIZE: regular files, directories and symlinks;
  - FIONREAD: a regular file's size past the offset (file_ioctl()), the
    bytes queued in a pipe (pipe_ioctl()), socket (SIOCINQ), terminal or
    inotify instance (inotify_ioctl()) —
    the host's kernel keeps those queues, so it is asked;
  - a terminal's requests: kernel/tty.py;
  - anything else, and a terminal request to what is not one: ENOTTY.
"""

import errno
import fcntl as host_fcntl
import os
import stat
import struct

from kernel.fs.file import fdget
from kernel.syscalls.table import syscall
from kernel.tty import FIONREAD, host_isatty, tty_ioctl
from kernel.uaccess import s32
from kernel.uapi import (
    FIOASYNC, FIOCLEX, FIOGETOWN, FIONBIO, FIONCLEX, FIOSETOWN, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS,
    O_NONBLOCK, SIOCGPGRP, SIOCSPGRP,
)

# The requests of fasync_ioctl() and fs_flags_ioctl(): only these import
# kernel/fs/fcntl.py (locks, leases, memfd) and kernel/fs/fs_flags.py — a
# terminal's TIOCGWINSZ, a hello's one ioctl, imports neither (issue 8: start-up).
FASYNC_IOCTLS = frozenset((FIOASYNC, FIOSETOWN, SIOCSPGRP, FIOGETOWN, SIOCGPGRP))
FS_FLAGS_IOCTLS = frozenset((FS_IOC_GETFLAGS, FS_IOC_SETFLAGS))

FIOQSIZE = 0x5460
INT = struct.Struct("<i")


def is_inotify(file):
    """An inotify instance: the host's, whose inotify_ioctl() answers FIONREAD."""
    from kernel.fs.inotify import InotifyFile
    return isinstance(file, InotifyFile)


def ioctl_fionbio(task, fd, file, arg):
    """ioctl_fionbio(): O_NONBLOCK on or off, set as F_SETFL sets it."""
    from kernel.fs.fcntl import sys_fcntl
    from kernel.uapi import F_SETFL
    on = INT.unpack(task.uaccess.copy_from_user(arg, INT.size))[0]
    return sys_fcntl(task, fd, F_SETFL, (file.flags | O_NONBLOCK) if on
                     else (file.flags & ~O_NONBLOCK))


def file_fionread(task, file, arg):
    """file_ioctl() FIONREAD: i_size - f_pos as an int (negative past the end)."""
    from kernel.fs.read_write import file_pos
    # A /proc file's i_size is 0.
    size = os.fstat(file.host_fd).st_size if file.host_fd is not None else 0
    left = (size - file_pos(file)) & 0xFFFFFFFF
    task.uaccess.copy_to_user(arg, INT.pack(s32(left)))
    return 0


def host_fionread(task, file, arg):
    """pipe_ioctl(), SIOCINQ, n_tty's TIOCINQ: the host's count."""
    try:
        out = host_fcntl.ioctl(file.host_fd, FIONREAD, bytes(INT.size))
    except OSError as e:
        return -(e.errno or errno.ENOTTY)
    task.uaccess.copy_to_user(arg, out)
    return 0


def ioctl_fioqsize(task, file, arg):
    """FIOQSIZE: inode_get_bytes() of a regular file, directory or symlink."""
    if file.host_fd is None or not (stat.S_ISREG(file.mode) or stat.S_ISDIR(file.mode)
                                    or stat.S_ISLNK(file.mode)):
        return -errno.ENOTTY
    st = os.fstat(file.host_fd)
    task.uaccess.copy_to_user(arg, struct.pack("<q", st.st_blocks * 512))
    return 0


def do_vfs_ioctl(task, fd, file, cmd, arg):
    """do_vfs_ioctl(): file is fdget(fd)'s (the caller gave EBADF)."""
    cmd &= 0xFFFFFFFF
    if cmd in (FIOCLEX, FIONCLEX):
        (task.files.cloexec.add if cmd == FIOCLEX else task.files.cloexec.discard)(s32(fd))
        return 0
    if cmd == FIONBIO:
        return ioctl_fionbio(task, fd, file, arg)
    if cmd in FASYNC_IOCTLS:
        from kernel.fs.fcntl import fasync_ioctl
        ret = fasync_ioctl(task, s32(fd), file, cmd, arg)     # FIOASYNC, FIOSETOWN... (fs/fcntl.c)
        if ret is not None:
            return ret
    if cmd == FIOQSIZE:
        return ioctl_fioqsize(task, file, arg)
    if cmd in FS_FLAGS_IOCTLS:
        from kernel.fs.fs_flags import fs_flags_ioctl
        ret = fs_flags_ioctl(task, file, cmd, arg)     # ext4's ->unlocked_ioctl (kernel/fs/fs_flags.py)
        if ret is not None:
            return ret
    if stat.S_ISREG(file.mode) and getattr(file, "poll", None) is None:
        if cmd == FIONREAD:
            return file_fionread(task, file, arg)
        return -errno.ENOTTY
    if stat.S_ISSOCK(file.mode) and file.host_fd is not None:
        from kernel.net.dev_ioctl import dev_ioctl      # sockets only
        ret = dev_ioctl(task, file, cmd, arg)           # sock_ioctl() -> dev_ioctl()
        if ret is not None:
            return ret
    if file.host_fd is None or getattr(file, "poll", None) is not None:
        return -errno.ENOTTY            # the board's own files: no ->unlocked_ioctl of ours
    if host_isatty(file):
        ret = tty_ioctl(task, file, cmd, arg)
        return -errno.ENOTTY if ret is None else ret
    if cmd == FIONREAD and (stat.S_ISFIFO(file.mode) or stat.S_ISSOCK(file.mode)
                            or is_inotify(file)):
        return host_fionread(task, file, arg)
    return -errno.ENOTTY


@syscall("ioctl", "fd ioctlcmd x")
def sys_ioctl(task, fd, cmd, arg):
    """ioctl(): EBADF, then do_vfs_ioctl() (kernel/fs/ioctl.py): the generic
    requests, FIONREAD per kind of file, a terminal's (kernel/tty.py): termios,
    window size and queues on the host's tty, job control the board's."""
    file = fdget(task, fd)
    if file is None:
        return -errno.EBADF
    return do_vfs_ioctl(task, fd, file, cmd, arg)
