"""fs/namei.c: turning a guest path into something the host can open.

Relative paths start at the task's working directory or at a directory
descriptor (the *at() calls); absolute paths resolve inside --sysroot first
when the file exists there (qemu-user's -L), else on the host; /dev/shm is
the board's own tmpfs, a temporary directory (kernel/ipc/namespace.py).  Paths under
/proc/self (and /proc/<our pid>) never reach the host: they describe the
guest, so they come from kernel/fs/proc.py.
"""

import errno
import os

from kernel.uapi import AT_FDCWD


class PathError(Exception):
    """A lookup that fails before the host is asked; carries a negative errno."""

    def __init__(self, err):
        super().__init__(err)
        self.err = err


def s32(value):
    """An int argument register (the low 32 bits, signed)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def user_path(task, addr):
    """getname(): the path string at addr (bytes); -ENOENT for "", -EFAULT raised."""
    path = task.uaccess.strncpy_from_user(addr, 4096)
    if len(path) >= 4096:
        raise PathError(-errno.ENAMETOOLONG)
    return path


def host_path(task, dirfd, path):
    """(dir_fd, path) for os.* calls with dir_fd=, resolving sysroot and dirfd.

    Raises PathError(-EBADF / -ENOTDIR / -ENOENT).
    """
    if not path:
        raise PathError(-errno.ENOENT)
    if path.startswith(b"/"):
        shm = task.kernel.ipc_ns.shm_path(path)
        if shm is not None:
            return None, shm                # the board's own tmpfs (kernel/ipc/namespace.py)
        sysroot = task.kernel.sysroot
        if sysroot is not None:
            inside = sysroot + path
            if os.path.lexists(inside):
                return None, inside
        return None, path
    dirfd = s32(dirfd)
    if dirfd == AT_FDCWD:
        return task.fs.cwd_fd, path
    file = task.files.get(dirfd)
    if file is None:
        raise PathError(-errno.EBADF)
    if file.host_fd is None or not file.is_dir:
        raise PathError(-errno.ENOTDIR)
    return file.host_fd, path


def guest_absolute(task, dirfd, path):
    """The absolute guest-visible name of path (for /proc/self/maps and traces)."""
    text = os.fsdecode(path)
    if text.startswith("/"):
        return os.path.normpath(text)
    dirfd = s32(dirfd)
    base = task.fs.cwd
    if dirfd != AT_FDCWD:
        file = task.files.get(dirfd)
        if file is not None:
            base = file.path
    return os.path.normpath(os.path.join(base, text))


def path_call(func):
    """Turn PathError/OSError raised by a path-taking handler into -errno."""
    def wrapper(*args):
        try:
            return func(*args)
        except PathError as e:
            return e.err
        except OSError as e:
            return -(e.errno or errno.EIO)
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper
