"""FS_IOC_GETFLAGS / FS_IOC_SETFLAGS: the inode flags chattr(1) shows and
sets (immutable, append-only, ...), as 4.14's ext4_ioctl() serves them.

The board's files are host files, so the flags are the host file
system's own and the host's kernel enforces them (an immutable file
refuses writes, links, xattrs for everyone, root included).  What the
guest may change is decided here with the guest's credentials, before
the host (whose caller is this emulator) is asked:

  - setting needs the file's owner or CAP_FOWNER (ext4: -EACCES; v5.13's
    vfs_fileattr_set() made it -EPERM), then the value (EFAULT);
  - changing FS_APPEND_FL or FS_IMMUTABLE_FL needs CAP_LINUX_IMMUTABLE
    (-EPERM);
  - getting needs nothing.

Which files answer: 4.14's ext4 (and most disk file systems) answers on
regular files and directories; tmpfs does not (shmem_file_operations has
no ->unlocked_ioctl until v6.0's "shmem: support FS_IOC_[SG]ETFLAGS"), so
the board's own /dev/shm and memfds are -ENOTTY although the host's
tmpfs would answer.  Omitted: the quota-file and EXT4_EXTENTS_FL
migration rules (the host applies its own).
"""

import errno
import fcntl as host_fcntl
import os
import stat
import struct

from kernel.cred import CAP_LINUX_IMMUTABLE, capable

# include/uapi/linux/fs.h (kernel/uapi.py: do_vfs_ioctl() tests them without
# importing this module)
from kernel.uapi import FS_IOC_GETFLAGS, FS_IOC_SETFLAGS  # noqa: E402
FS_APPEND_FL = 0x00000020
FS_IMMUTABLE_FL = 0x00000010
INT = struct.Struct("<i")


def answers_flags(task, file):
    """Has the file an ->unlocked_ioctl that knows the flags?  A host
    regular file or directory outside the board's tmpfs (/dev/shm, memfds)."""
    if file.host_fd is None or file.pseudo is not None or file.body is not None:
        return False
    if not (stat.S_ISREG(file.mode) or stat.S_ISDIR(file.mode)):
        return False
    return not task.kernel.ipc_ns.owns(b"/proc/self/fd/%d" % file.host_fd)


def host_getflags(host_fd):
    return INT.unpack(host_fcntl.ioctl(host_fd, FS_IOC_GETFLAGS, bytes(INT.size)))[0]


def ioctl_getflags(task, file, arg):
    """EXT4_IOC_GETFLAGS: the host's flags, put_user() as an int."""
    try:
        flags = host_getflags(file.host_fd)
    except OSError as e:
        return -(e.errno or errno.ENOTTY)
    task.uaccess.copy_to_user(arg, INT.pack(flags))
    return 0


def ioctl_setflags(task, file, arg):
    """EXT4_IOC_SETFLAGS + ext4_ioctl_setflags(): the guest's permission,
    the value, then the host's file system takes the flags."""
    from kernel.fs.attr import guest_stat, inode_owner_or_capable
    st = guest_stat(task.kernel, os.fstat(file.host_fd))
    if not inode_owner_or_capable(task, st.st_uid):
        return -errno.EACCES
    flags = INT.unpack(task.uaccess.copy_from_user(arg, INT.size))[0]
    try:
        old = host_getflags(file.host_fd)
    except OSError as e:
        return -(e.errno or errno.ENOTTY)
    if (flags ^ old) & (FS_APPEND_FL | FS_IMMUTABLE_FL) and not capable(task, CAP_LINUX_IMMUTABLE):
        return -errno.EPERM
    try:
        host_fcntl.ioctl(file.host_fd, FS_IOC_SETFLAGS, INT.pack(flags))
    except OSError as e:
        return -(e.errno or errno.ENOTTY)
    return 0


def fs_flags_ioctl(task, file, cmd, arg):
    """The flags requests, or None for any other cmd (the caller goes on)."""
    if cmd not in (FS_IOC_GETFLAGS, FS_IOC_SETFLAGS):
        return None
    if not answers_flags(task, file):
        return -errno.ENOTTY
    if cmd == FS_IOC_GETFLAGS:
        return ioctl_getflags(task, file, arg)
    return ioctl_setflags(task, file, arg)
