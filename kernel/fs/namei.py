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
import stat

from kernel.cred import CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_MKNOD, capable, in_group_p
from kernel.fs import hostcall
from kernel.syscalls.table import syscall
from kernel.uaccess import s32
from kernel.uapi import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_FOLLOW


class PathError(Exception):
    """A lookup that fails before the host is asked; carries a negative errno."""

    def __init__(self, err):
        super().__init__(err)
        self.err = err


def user_path(task, addr):
    """getname(): the path string at addr (bytes); -ENOENT for "", -EFAULT raised."""
    path = task.uaccess.strncpy_from_user(addr, 4096)
    if len(path) >= 4096:
        raise PathError(-errno.ENAMETOOLONG)
    return path


# include/linux/fs.h: what inode_permission() is asked for.
MAY_EXEC, MAY_WRITE, MAY_READ = 1, 2, 4


def generic_permission(cred, st, mask):
    """generic_permission(): 0 or -EACCES for mask (MAY_*) on the file whose
    stat is st, for cred: the owner's, group's or others' bits by fsuid and
    fsgid; then CAP_DAC_READ_SEARCH (read, search) and CAP_DAC_OVERRIDE
    (everything but executing a file with no x bit).  POSIX ACLs omitted."""
    mode = st.st_mode
    if cred.fsuid == st.st_uid:
        perm = mode >> 6
    elif in_group_p(cred, st.st_gid):
        perm = mode >> 3
    else:
        perm = mode
    if not mask & ~perm & 7:
        return 0
    caps = cred.cap_effective
    if stat.S_ISDIR(mode):
        if not mask & MAY_WRITE and caps >> CAP_DAC_READ_SEARCH & 1:
            return 0
        return 0 if caps >> CAP_DAC_OVERRIDE & 1 else -errno.EACCES
    if mask == MAY_READ and caps >> CAP_DAC_READ_SEARCH & 1:
        return 0
    if (not mask & MAY_EXEC or mode & 0o111) and caps >> CAP_DAC_OVERRIDE & 1:
        return 0
    return -errno.EACCES


class AccessCred:
    """The cred access() checks with (fs/open.c access_override_creds()):
    fsuid/fsgid are the real ids; a non-root caller has no capabilities,
    root its permitted set."""
    __slots__ = ("fsuid", "fsgid", "group_info", "cap_effective")

    def __init__(self, cred):
        self.fsuid, self.fsgid, self.group_info = cred.uid, cred.gid, cred.group_info
        self.cap_effective = cred.cap_permitted if cred.uid == 0 else 0


def host_path(task, dirfd, path):
    """(dir_fd, path) for os.* calls with dir_fd=, resolving sysroot and dirfd,
    after the guest's search permission on the way (fs/permission.py).

    Raises PathError(-EBADF / -ENOTDIR / -ENOENT / -EACCES).
    """
    dir_fd, hpath = _host_path(task, dirfd, path)
    from kernel.fs.permission import may_walk     # imports this module
    may_walk(task, dir_fd, hpath)
    return dir_fd, hpath


def _host_path(task, dirfd, path):
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
    wrapper.__module__ = func.__module__    # the syscall table's docs name the handler's module
    return wrapper


# -- linkat, symlinkat, mknodat (fs/namei.c) ------------------------------------------

def _host_at(task, dirfd, addr):
    """(dir_fd, path) for the host's *at() calls; an absolute path has no dir_fd."""
    return host_path(task, dirfd, user_path(task, addr))


@syscall("linkat", "dirfd path dirfd path atflags")
@path_call
def sys_linkat(task, olddirfd, oldpath, newdirfd, newpath, flags):
    """linkat(): flags other than AT_SYMLINK_FOLLOW/AT_EMPTY_PATH are EINVAL;
    AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH (ENOENT without it, as 4.14
    says); the old name is looked up before the new one is created (EEXIST),
    a directory is EPERM and two file systems EXDEV (the host's answers)."""
    flags = s32(flags)
    if flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    if flags & AT_EMPTY_PATH and not capable(task, CAP_DAC_READ_SEARCH):
        return -errno.ENOENT
    old = user_path(task, oldpath)
    if not old and flags & AT_EMPTY_PATH:
        if s32(olddirfd) == AT_FDCWD:
            return -errno.ENOENT
        file = task.files.get(s32(olddirfd))
        if file is None:
            return -errno.EBADF
        if file.host_fd is None:
            return -errno.ENOENT
        src_fd, src = file.host_fd, b""
    else:
        src_fd, src = host_path(task, olddirfd, old)
    dst_fd, dst = _host_at(task, newdirfd, newpath)
    from kernel.fs import permission        # imports this module
    err = permission.may_link(task, src_fd, src, flags & AT_SYMLINK_FOLLOW, dst_fd, dst)
    if err:
        return err
    hostcall.linkat(src_fd, src, dst_fd, dst, flags & (AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
    return 0


@syscall("symlinkat", "path dirfd path")
@path_call
def sys_symlinkat(task, target, newdirfd, linkpath):
    """symlinkat(): the target is any non-empty string (ENOENT when empty),
    stored as it is; the new name must not exist (EEXIST)."""
    text = user_path(task, target)
    if not text:
        return -errno.ENOENT
    dir_fd, path = _host_at(task, newdirfd, linkpath)
    from kernel.fs import permission        # imports this module
    err = permission.may_mkobj(task, dir_fd, path)
    if err:
        return err
    os.symlink(text, path, dir_fd=dir_fd)
    permission.inode_init_owner(task, os.stat(path, dir_fd=dir_fd, follow_symlinks=False),
                                dir_fd, path)
    return 0


def may_mknod(mode):
    """may_mknod(): 0 for a type mknod makes (0 is a regular file), EPERM for
    a directory, EINVAL for a type that does not exist."""
    fmt = stat.S_IFMT(mode)
    if fmt in (0, stat.S_IFREG, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
        return 0
    if fmt == stat.S_IFDIR:
        return -errno.EPERM
    return -errno.EINVAL


def new_decode_dev(dev):
    """new_decode_dev(): the 32-bit dev_t of the ABI as (major, minor)."""
    return (dev & 0xFFF00) >> 8, (dev & 0xFF) | ((dev >> 12) & 0xFFF00)


@syscall("mknodat", "dirfd path nodmode dev")
@path_call
def sys_mknodat(task, dirfd, path_addr, mode, dev):
    """do_mknodat(): the type is checked first, then the new name (EEXIST,
    ENOENT); the umask applies; a character or block device needs
    CAP_MKNOD (EPERM: see capable()) — and then the host
    must allow it too.  FIFOs and sockets are the host's mknod(); type 0
    is a regular file."""
    mode &= 0xFFFFFFFF
    err = may_mknod(mode)
    if err:
        return err
    dir_fd, path = _host_at(task, dirfd, path_addr)
    fmt = stat.S_IFMT(mode) or stat.S_IFREG
    if os.path.lexists(path if dir_fd is None else b"/proc/self/fd/%d/%s" % (dir_fd, path)):
        return -errno.EEXIST        # user_path_create() before the capability check
    device = 0
    if fmt in (stat.S_IFCHR, stat.S_IFBLK):
        if not capable(task, CAP_MKNOD):
            # user_path_create() came first in Linux: a missing parent is ENOENT.
            full = path if dir_fd is None else b"/proc/self/fd/%d/%s" % (dir_fd, path)
            os.stat(os.path.dirname(full) or b".")
            return -errno.EPERM
        device = os.makedev(*new_decode_dev(dev & 0xFFFFFFFF))
    from kernel.fs import permission        # imports this module
    err = permission.may_mkobj(task, dir_fd, path)
    if err:
        return err
    old = os.umask(task.fs.umask)
    try:
        os.mknod(path, fmt | (mode & 0o7777), device, dir_fd=dir_fd)
    finally:
        os.umask(old)
    permission.inode_init_owner(task, os.stat(path, dir_fd=dir_fd, follow_symlinks=False),
                                dir_fd, path)
    return 0
