"""fs/xattr.c: extended attributes, served by the host's file system.

The guest's paths name host files (inside --sysroot first), so their
attributes are the host's: getxattr/listxattr read them, setxattr and
removexattr change them where the host lets the process (user.*, or more
as root).  The size protocol is Linux's: size 0 asks for the length, a
buffer too small is ERANGE, and a missing attribute ENODATA.
"""

import errno
import os

from kernel.fs.namei import PathError, host_path, path_call, user_path
from kernel.fs.open import fdget
from kernel.fs.namei import MAY_READ, MAY_WRITE
from kernel.fs.permission import xattr_list_visible, xattr_permission
from kernel.syscalls.table import syscall

XATTR_NAME_MAX = 255
XATTR_SIZE_MAX = 65536
XATTR_LIST_MAX = 65536
XATTR_CREATE, XATTR_REPLACE = 1, 2


def _target(task, path_addr, follow=True):
    """The host path for os.*xattr (relative paths from the guest's cwd);
    follow False for the l*xattr calls."""
    dir_fd, path = host_path(task, -100, user_path(task, path_addr), follow)
    if dir_fd is not None and not path.startswith(b"/"):
        return _HeldPath(b"/proc/self/fd/%d/%s" % (dir_fd, path), dir_fd)
    return path


class _HeldPath:
    """A host path through /proc/self/fd/N that keeps descriptor N (a
    lookup's PathFd below a root, kernel/fs/jail.py) open while it is used."""

    __slots__ = ("path", "dir_fd")

    def __init__(self, path, dir_fd):
        self.path, self.dir_fd = path, dir_fd

    def __fspath__(self):
        return self.path


def _fd_target(task, fd):
    file = fdget(task, fd)          # an O_PATH descriptor is EBADF
    if file is None:
        raise PathError(-errno.EBADF)
    if file.host_fd is None:
        raise PathError(-errno.ENOTSUP)
    return file.host_fd


def _name(task, addr):
    name = task.uaccess.strncpy_from_user(addr, XATTR_NAME_MAX + 1)
    if not name or len(name) > XATTR_NAME_MAX:
        raise PathError(-errno.ERANGE)
    return name


def _getxattr(task, target, follow, name_addr, value, size):
    """getxattr(): the value's length, after copying it if size allows."""
    name = _name(task, name_addr)
    err = xattr_permission(task, target, follow, name, MAY_READ)
    if err:
        return err
    data = os.getxattr(target, name, follow_symlinks=follow)
    if size:
        if len(data) > size:
            return -errno.ERANGE
        task.uaccess.copy_to_user(value, data)
    return len(data)


def _listxattr(task, target, follow, lst, size):
    """listxattr(): the NUL-separated names' length, copied if size allows."""
    names = [os.fsencode(n) for n in os.listxattr(target, follow_symlinks=follow)]
    data = b"".join(n + b"\0" for n in names if xattr_list_visible(task, n))
    if size:
        if len(data) > size:
            return -errno.ERANGE
        task.uaccess.copy_to_user(lst, data)
    return len(data)


def _setxattr(task, target, follow, name_addr, value, size, flags):
    if flags & ~(XATTR_CREATE | XATTR_REPLACE):
        return -errno.EINVAL
    if size > XATTR_SIZE_MAX:
        return -errno.E2BIG
    name = _name(task, name_addr)
    data = task.uaccess.copy_from_user(value, size) if size else b""
    err = xattr_permission(task, target, follow, name, MAY_WRITE)
    if err:
        return err
    os.setxattr(target, name, data, flags, follow_symlinks=follow)
    return 0


@syscall("getxattr", "path path p u")
@path_call
def sys_getxattr(task, path, name, value, size):
    return _getxattr(task, _target(task, path), True, name, value, size)


@syscall("lgetxattr", "path path p u")
@path_call
def sys_lgetxattr(task, path, name, value, size):
    return _getxattr(task, _target(task, path, False), False, name, value, size)


@syscall("fgetxattr", "fd path p u")
@path_call
def sys_fgetxattr(task, fd, name, value, size):
    return _getxattr(task, _fd_target(task, fd), True, name, value, size)


@syscall("listxattr", "path p u")
@path_call
def sys_listxattr(task, path, lst, size):
    return _listxattr(task, _target(task, path), True, lst, size)


@syscall("llistxattr", "path p u")
@path_call
def sys_llistxattr(task, path, lst, size):
    return _listxattr(task, _target(task, path, False), False, lst, size)


@syscall("flistxattr", "fd p u")
@path_call
def sys_flistxattr(task, fd, lst, size):
    return _listxattr(task, _fd_target(task, fd), True, lst, size)


@syscall("setxattr", "path path ibuf:3 u d")
@path_call
def sys_setxattr(task, path, name, value, size, flags):
    return _setxattr(task, _target(task, path), True, name, value, size, flags)


@syscall("lsetxattr", "path path ibuf:3 u d")
@path_call
def sys_lsetxattr(task, path, name, value, size, flags):
    return _setxattr(task, _target(task, path, False), False, name, value, size, flags)


@syscall("fsetxattr", "fd path ibuf:3 u d")
@path_call
def sys_fsetxattr(task, fd, name, value, size, flags):
    return _setxattr(task, _fd_target(task, fd), True, name, value, size, flags)


@syscall("removexattr", "path path")
@path_call
def sys_removexattr(task, path, name):
    return _removexattr(task, _target(task, path), True, _name(task, name))


def _removexattr(task, target, follow, name):
    """removexattr(): xattr_permission(MAY_WRITE), then the host's."""
    err = xattr_permission(task, target, follow, name, MAY_WRITE)
    if err:
        return err
    if isinstance(target, int):
        os.removexattr(target, name)
    else:
        os.removexattr(target, name, follow_symlinks=follow)
    return 0


@syscall("lremovexattr", "path path")
@path_call
def sys_lremovexattr(task, path, name):
    return _removexattr(task, _target(task, path, False), False, _name(task, name))


@syscall("fremovexattr", "fd path")
@path_call
def sys_fremovexattr(task, fd, name):
    return _removexattr(task, _fd_target(task, fd), True, _name(task, name))
