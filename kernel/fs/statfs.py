"""fs/statfs.c: statfs() and fstatfs() describe the host file system.

A guest path names a host file (inside --sysroot first), so the file
system it is on is the host's, and Linux would describe that one: its
type magic, block counts, fsid, name length and mount flags (ST_VALID and
ST_RDONLY/ST_NOSUID...).  The host's struct statfs has the AArch64
layout, so its bytes are copied to the guest as they are.  /proc paths the
board serves itself (kernel/fs/proc.py) describe a procfs: the host's own
/proc is one, and is asked.
"""

import errno

from kernel.fs import hostcall
from kernel.fs.namei import guest_absolute, host_path, path_call, user_path
from kernel.fs.open import fdget_raw
from kernel.syscalls.table import syscall
from kernel.uapi import AT_FDCWD

PROC_ROOT = b"/proc"


def _path_statfs(task, path):
    """user_statfs(): the path is looked up (following symlinks), then statfs."""
    dir_fd, hpath = host_path(task, AT_FDCWD, path)
    name = guest_absolute(task, AT_FDCWD, path)
    if name == "/proc" or name.startswith("/proc/"):
        return hostcall.statfs(PROC_ROOT)
    if dir_fd is not None:
        hpath = b"/proc/self/fd/%d/%s" % (dir_fd, hpath)
    return hostcall.statfs(hpath)


@syscall("statfs", "path statfs")
@path_call
def sys_statfs(task, path_addr, buf):
    """statfs(): EFAULT/ENOENT/ENOTDIR/ELOOP from the lookup, then EFAULT
    for the buffer."""
    data = _path_statfs(task, user_path(task, path_addr))
    task.uaccess.copy_to_user(buf, data)
    return 0


@syscall("fstatfs", "fd statfs")
@path_call
def sys_fstatfs(task, fd, buf):
    """fd_statfs(): fdget_raw(), so an O_PATH descriptor is answered; a
    synthetic /proc file is on procfs."""
    file = fdget_raw(task, fd)
    if file is None:
        return -errno.EBADF
    data = hostcall.fstatfs(file.host_fd) if file.host_fd is not None \
        else hostcall.statfs(PROC_ROOT)
    task.uaccess.copy_to_user(buf, data)
    return 0
