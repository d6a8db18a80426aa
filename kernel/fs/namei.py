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
from kernel.ipc.namespace import DEV_SHM
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


def task_root(task):
    """The host descriptor of the task's root (FsStruct.root_fd), or None."""
    return getattr(getattr(task, "fs", None), "root_fd", None)


def host_path(task, dirfd, path, follow=True):
    """(dir_fd, path) for os.* calls with dir_fd=, resolving sysroot and dirfd,
    after the guest's search permission on the way (fs/permission.py).

    A task with a root of its own (--jail, chroot()) resolves below it
    (kernel/fs/jail.py): then dir_fd is the directory holding the last
    component and path that one component, never a symlink when follow
    (the caller's LOOKUP_FOLLOW) is true; a caller that does not follow
    must not follow on the host either.

    Raises PathError(-EBADF / -ENOTDIR / -ENOENT / -EACCES / -ELOOP).
    """
    if task_root(task) is not None:
        dir_fd, hpath = _rooted_path(task, dirfd, path, follow)
    else:
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


def _rooted_path(task, dirfd, path, follow):
    """host_path() for a task with a root: the path is looked up below the
    root (an absolute one), below whichever root holds the directory it
    starts from (a relative one: the task's root, the board's /dev/shm,
    or the --jail root for a working directory a chroot() left outside),
    or — a directory outside them all, without --jail — by the host, as
    Linux lets a chroot()ed process walk from a working directory outside
    its root."""
    from kernel.fs import jail      # kernel/fs/jail.py
    if not path:
        raise PathError(-errno.ENOENT)
    kernel = task.kernel
    fs = task.fs
    name = os.fsencode(guest_absolute(task, dirfd, path))
    may_lookup = _may_lookup(task)
    try:
        if kernel.ipc_ns.shm_path(name) is not None:        # the board's tmpfs
            return jail.lookup(_shm_root(kernel), name[len(DEV_SHM):] or b"/", follow, may_lookup)
        if path.startswith(b"/"):
            return jail.lookup(fs.root_fd, path, follow, may_lookup)
        if s32(dirfd) == AT_FDCWD and _pseudo_cwd(task):
            return jail.lookup(fs.root_fd, name, follow, may_lookup)   # cwd in /proc, /sys
        start = _start_fd(task, dirfd)
        for root_fd in (fs.root_fd, kernel.jail_fd):
            if root_fd is None:
                continue
            base = jail.path_below(root_fd, start)
            if base is not None:
                return jail.lookup(root_fd, base + b"/" + path, follow, may_lookup)
        if kernel.jail_fd is not None:
            raise PathError(-errno.ENOENT)      # a directory outside --jail (none is)
        return start, path
    except OSError as e:
        raise PathError(-(e.errno or errno.EIO))


def _pseudo_cwd(task):
    """A working directory in /proc or /sys holds only a placeholder descriptor."""
    parts = task.fs.cwd.split("/")
    return len(parts) > 1 and parts[1] in ("proc", "sys")


def _start_fd(task, dirfd):
    """The host descriptor a relative lookup starts from (the working
    directory or dirfd's file): EBADF, ENOTDIR."""
    dirfd = s32(dirfd)
    if dirfd == AT_FDCWD:
        return task.fs.cwd_fd
    file = task.files.get(dirfd)
    if file is None:
        raise PathError(-errno.EBADF)
    if file.host_fd is None or not file.is_dir:
        raise PathError(-errno.ENOTDIR)
    return file.host_fd


def _shm_root(kernel):
    """The board's /dev/shm held by a descriptor (the tmpfs mount's root)."""
    from kernel.fs import jail
    return jail.PathFd(jail.open_root(kernel.ipc_ns.shm_path(DEV_SHM)))


def _may_lookup(task):
    """may_lookup() for the walk below a root: None when the guest's search
    permission cannot refuse what the host allows (the host checks its
    own), else a check of MAY_EXEC on each directory's guest stat."""
    from kernel.fs.attr import guest_stat
    from kernel.fs.permission import _search_always_passes, host_equivalent
    if host_equivalent(task) or _search_always_passes(task.cred):
        return None
    cred, kernel = task.cred, task.kernel

    def check(fd):
        err = generic_permission(cred, guest_stat(kernel, os.fstat(fd)), MAY_EXEC)
        if err:
            raise PathError(err)
    return check


# The board's own devices inside a root (--jail): the host's harmless
# character devices, opened and stat()ed by these names only; every other
# call on the name (chmod, unlink, ...) is a path below the root.
BOARD_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                 "/dev/tty")


def board_device(task, name):
    """The host device a guest name below a root opens, or None."""
    if task_root(task) is None or name not in BOARD_DEVICES:
        return None
    return name


def host_target(task, found, follow=True):
    """(dir_fd, path) of a magic link's destination (kernel/fs/proc.py
    HostTarget: /proc/self/root, cwd, exe, fd/N, and whatever follows
    them).  Without a root, the host path as it is.  Below a root: a
    descriptor's own file is reopened by /proc/self/fd/N (an object the
    guest already holds); a name below it, or a path below the root (the
    root link, the exe of a program inside it), is looked up again below
    the root, so no symlink the guest made is followed by the host; a
    program outside the root (the PROGRAM of --jail) is its host path."""
    if task_root(task) is None:
        return None, found.host_path
    fs = task.fs
    from kernel.fs import jail
    base, rest = found.base, os.fsencode(found.rest)
    if base is None:                        # a link to a guest name
        return host_path(task, AT_FDCWD, os.fsencode(found.guest_name), follow)
    base = os.fsencode(base)
    if base.startswith(b"/proc/self/fd/"):
        if not rest:
            return None, base
        hfd = int(base[len(b"/proc/self/fd/"):])
        for root_fd in (fs.root_fd, task.kernel.jail_fd):
            if root_fd is None:
                continue
            below = jail.path_below(root_fd, hfd)
            if below is not None:
                try:
                    return jail.lookup(root_fd, below + b"/" + rest, follow, _may_lookup(task))
                except OSError as e:
                    raise PathError(-(e.errno or errno.EIO))
        if task.kernel.jail_fd is not None:
            raise PathError(-errno.ENOENT)
        return None, base + b"/" + rest
    root = jail.fd_path(fs.root_fd)
    if base == root or base.startswith(root.rstrip(b"/") + b"/"):
        inside = base[len(root.rstrip(b"/")):] or b"/"
        return host_path(task, AT_FDCWD, inside + (b"/" + rest if rest else b""), follow)
    if rest:
        raise PathError(-errno.ENOTDIR)
    return None, base


def rooted_name(task, fd):
    """d_path() of a directory for a task with a root: its place below the
    root, or "(unreachable)" and its place below the --jail root (or on the
    host, without --jail) when a chroot() left it outside, as 4.14's
    getcwd() shows it; None when it was deleted."""
    from kernel.fs import jail
    below = jail.path_below(task.fs.root_fd, fd)
    if below is not None:
        return os.fsdecode(below)
    jail_fd = task.kernel.jail_fd
    outer = jail.path_below(jail_fd, fd) if jail_fd is not None else jail.fd_path(fd)
    return None if outer is None else "(unreachable)" + os.fsdecode(outer)


def host_d_path(task, fd, lexical):
    """d_path() of directory fd for a task without a root of its own: the
    host's name of it now, so a symlink on the way is resolved (a dentry
    keeps no memory of the name it was reached by: getcwd() after
    chdir("link") names the target), with the board's /dev/shm and the
    --sysroot prefix mapped back to the guest's names; lexical when the
    host cannot name it."""
    from kernel.fs import jail
    name = jail.fd_path(fd)
    if name is None:
        return lexical
    ns = task.kernel.ipc_ns
    if ns.root is not None:
        shm = os.path.realpath(os.path.join(ns.root, b"shm"))
        if name == shm or name.startswith(shm + b"/"):
            return os.fsdecode(DEV_SHM + name[len(shm):])
    sysroot = task.kernel.sysroot
    if sysroot is not None:
        inside = os.path.realpath(sysroot).rstrip(b"/")
        if name == inside:
            return "/"
        if name.startswith(inside + b"/"):
            return os.fsdecode(name[len(inside):])
    return os.fsdecode(name)


def rooted_cwd(task):
    """What getcwd() returns: the working directory's name (found again
    from its descriptor when the task has a root); None when deleted."""
    fs = task.fs
    if task_root(task) is None or _pseudo_cwd(task):
        return fs.cwd
    return rooted_name(task, fs.cwd_fd)


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
    """(dir_fd, path) for the host's *at() calls that make a new name (the
    last component is not followed); an absolute path has no dir_fd."""
    return host_path(task, dirfd, user_path(task, addr), follow=False)


def _link_source(task, dirfd, old, follow):
    """(dir_fd, path) of linkat()'s old name.  A /proc magic link followed
    (AT_SYMLINK_FOLLOW on /proc/self/fd/N: how an O_TMPFILE file gets its
    name) is the file it names; any other name in /proc or /sys is (None,
    None), an object of the proc mount."""
    from kernel.fs.proc import HostTarget
    from kernel.syscalls.fs import _pseudo_lookup     # fs.py imports this module
    found = _pseudo_lookup(task, dirfd, old, follow)
    if found is None:
        return host_path(task, dirfd, old, follow)
    if isinstance(found, HostTarget):
        dir_fd, path = host_target(task, found, follow)
        return dir_fd, os.fsencode(path)
    return None, None


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
        src_fd, src = _link_source(task, olddirfd, old, bool(flags & AT_SYMLINK_FOLLOW))
    dst_fd, dst = _host_at(task, newdirfd, newpath)
    if src is None:
        return -errno.EXDEV             # an object of /proc or /sys: another mount
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
