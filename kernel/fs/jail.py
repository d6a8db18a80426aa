"""fs/namei.c's lookup below a root: `a53emu run --jail DIR` and chroot(2).

A task whose fs_struct has a root (FsStruct.root_fd: a host O_PATH
descriptor of the directory) resolves every path as Linux resolves it
after chroot(): an absolute name, an absolute symlink and ".." at the root
all stay at that directory.  The host kernel does the walking, but never
by a path string a guest controls from the host's /:

* the directory holding the last component is opened with openat2(2)
  and RESOLVE_IN_ROOT (host Linux >= 5.6: the host kernel treats the root
  descriptor as "/" for every "..", absolute symlink and absolute path of
  the walk, and fails with EAGAIN when a rename races a ".." — then the
  walk is retried); where the host has no openat2 (ENOSYS), or the guest's
  own search permission must be checked on every directory (its cred is
  not the host process's), a checked walk does the same one component at
  a time: O_PATH|O_NOFOLLOW opens relative to the directory before,
  symlinks read and resolved here against the root (40 at most: ELOOP),
  ".." popping the stack of directories walked (never above the root);
* the last component is looked at with fstatat(AT_SYMLINK_NOFOLLOW)
  relative to that directory's descriptor; a symlink the call follows is
  read and resolved again the same way (absolute: from the root; relative:
  from the directory it is in);
* the caller gets (PathFd, name): the descriptor of the parent and one
  component, and does its work with the *at() form of the host call
  (dir_fd=), so nothing is looked up by name twice.

Why a rename race cannot escape: the parent is held by descriptor from
the moment it is found, so moving any directory (even the parent itself)
out of its place afterwards moves the guest's operation with it — into
another place that is still below the root, because every rename the
guest can make has both ends resolved here.  While the walk runs, the
host kernel (openat2) or this walk (one openat per component, relative to
the descriptor before it) never goes up from a directory it did not come
down through, and never up from the root.  Only the last name is looked
up again by the host call; guest system calls run one at a time on the
board's kernel thread, so no guest call can swap that name for a symlink
in between (a host process other than a53emu could; the jail is against
the guest).

Relative names start from a directory descriptor (the working directory,
or the dirfd of an *at() call); its place below the root is read from the
host (/proc/self/fd/N) when the call is made, so a directory renamed
since it was opened is where it is now, as Linux's dentry is.  A
directory outside the task's root (the working directory kept by a
chroot(), which Linux lets a process keep) is walked from the --jail
root when there is one; without --jail the host resolves it, as Linux
does for a chroot()ed process.

Omitted: one budget of 40 symlinks per lookup — openat2 counts the links
of the parent's walk itself (40 at most), the last component's chain is
counted here (40 at most), so a lookup with links in both may follow more
than 40 in all where Linux says ELOOP; an absolute symlink met on a walk
from a working directory outside a chroot() root resolves against the
--jail root (Linux: the task's root).
"""

import ctypes
import errno
import os
import platform
import stat
import struct

# include/uapi/linux/openat2.h
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10
_OPEN_HOW = struct.Struct("<QQQ")            # struct open_how: flags, mode, resolve
# openat2's number in the host's system call table (5.6): 437 in x86-64's
# table and in asm-generic's (arm64).  Other hosts use the checked walk.
_NR_OPENAT2 = {"x86_64": 437, "aarch64": 437}.get(platform.machine())
# include/linux/namei.h
MAXSYMLINKS = 40
# -EAGAIN from RESOLVE_IN_ROOT: a rename or mount moved something under a
# ".." of the walk; the kernel asks the caller to try again.
OPENAT2_RETRIES = 8

_O_DIR = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
# Set to False (tests, or A53EMU_JAIL_WALK=1) to resolve with the checked walk only.
use_openat2 = _NR_OPENAT2 is not None and not os.environ.get("A53EMU_JAIL_WALK")
_syscall = None


class PathFd(int):
    """A host descriptor a lookup opened, closed when the last reference to
    it goes (path_put() at the end of the system call): callers use it as
    the dir_fd of their host *at() calls and never close it themselves."""

    __slots__ = ()

    def __del__(self):
        try:
            os.close(int(self))
        except OSError:
            pass


def _split(path):
    return [c for c in path.split(b"/") if c]


def _openat2(root_fd, path):
    """openat2(root_fd, path, O_PATH|O_DIRECTORY, RESOLVE_IN_ROOT): the
    directory's descriptor; raises OSError; None when the host has none."""
    global _syscall, use_openat2
    if _syscall is None:
        libc = ctypes.CDLL(None, use_errno=True)
        _syscall = libc.syscall
        _syscall.restype = ctypes.c_long
        _syscall.argtypes = (ctypes.c_long, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                             ctypes.c_size_t)
    how = _OPEN_HOW.pack(_O_DIR, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
    for _ in range(OPENAT2_RETRIES):
        fd = _syscall(_NR_OPENAT2, root_fd, path or b".", how, len(how))
        if fd >= 0:
            return fd
        err = ctypes.get_errno()
        if err == errno.EAGAIN:
            continue
        if err == errno.ENOSYS:                     # a host kernel older than 5.6
            use_openat2 = False
            return None
        raise OSError(err, os.strerror(err))
    return None                                     # raced every time: walk instead



def _follow_link(name, dir_fd, links):
    """The target of the symlink name in dir_fd, one more of the lookup's
    links counted (links[0]): ELOOP past MAXSYMLINKS, ENOENT for an empty
    target, as nd_jump_link()/get_link() give them."""
    links[0] += 1
    if links[0] > MAXSYMLINKS:
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
    target = os.readlink(name, dir_fd=dir_fd)
    if not target:
        raise OSError(errno.ENOENT, os.strerror(errno.ENOENT))
    return target

def _walk(root_fd, comps, links, may_lookup):
    """The checked walk: the directory comps lead to from root_fd, one
    O_PATH|O_NOFOLLOW openat() per component; symlinks resolved here
    (links[0] counts them, ELOOP past MAXSYMLINKS); ".." pops the stack of
    directories walked and stays at the root.  may_lookup(fd) is called on
    every directory a component is looked up in (the guest's search
    permission; it raises).  Returns a new descriptor; raises OSError."""
    comps = list(comps)
    stack = []
    try:
        while comps:
            comp = comps.pop(0)
            if comp == b".":
                continue
            if comp == b"..":
                if stack:
                    os.close(stack.pop())
                continue
            cur = stack[-1] if stack else root_fd
            if may_lookup is not None:
                may_lookup(cur)
            fd = os.open(comp, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=cur)
            mode = os.fstat(fd).st_mode
            if stat.S_ISLNK(mode):
                os.close(fd)
                target = _follow_link(comp, cur, links)
                if target.startswith(b"/"):
                    while stack:
                        os.close(stack.pop())
                comps[:0] = _split(target)
                continue
            if not stat.S_ISDIR(mode):
                os.close(fd)
                raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
            stack.append(fd)
        if stack:
            return stack.pop()
        return os.open(".", _O_DIR, dir_fd=root_fd)
    finally:
        for fd in stack:
            os.close(fd)


def resolve_dir(root_fd, comps, links, may_lookup=None):
    """The directory comps name below root_fd, as a new host descriptor
    (openat2 where it can, else the checked walk); raises OSError."""
    if use_openat2 and may_lookup is None:
        fd = _openat2(root_fd, b"/".join(comps))
        if fd is not None:
            return fd
    return _walk(root_fd, comps, links, may_lookup)


def fd_path(fd):
    """The host's name of an open directory now (bytes), or None when it
    was deleted."""
    name = os.readlink(b"/proc/self/fd/%d" % fd)
    if name.endswith(b" (deleted)"):
        return None
    return name


def path_below(root_fd, fd):
    """Where directory fd is below the directory root_fd, as an absolute
    path of that root ("/" for the root itself), or None when it is not
    below it (or is deleted)."""
    root, here = fd_path(root_fd), fd_path(fd)
    if root is None or here is None:
        return None
    if here == root:
        return b"/"
    if root == b"/":
        return here
    if here.startswith(root + b"/"):
        return here[len(root):]
    return None


def lookup(root_fd, path, follow, may_lookup=None):
    """path_lookupat() with the root at root_fd for a path of that root
    (absolute, or relative to it): (PathFd of the directory that holds the
    last component, the component).  A trailing symlink is followed when
    follow (or a trailing slash) says so, so the name returned is never a
    symlink then; ".", ".." and "/" come back as (their directory, b".").
    A trailing slash stays on the name for the host call to judge (ENOTDIR).
    Raises OSError (ENOENT, ENOTDIR, ELOOP, EACCES from the host)."""
    links = [0]
    while True:
        slash = path.endswith(b"/")
        comps = _split(path)
        if not comps or comps[-1] in (b".", b".."):
            return PathFd(resolve_dir(root_fd, comps, links, may_lookup)), b"."
        parent = PathFd(resolve_dir(root_fd, comps[:-1], links, may_lookup))
        last = comps[-1]
        if may_lookup is not None:
            may_lookup(parent)
        try:
            st = os.stat(last, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return parent, last + (b"/" if slash else b"")
        if not stat.S_ISLNK(st.st_mode) or not (follow or slash):
            return parent, last + (b"/" if slash else b"")
        target = _follow_link(last, parent, links)
        if not target.startswith(b"/"):
            base = path_below(root_fd, parent)
            if base is None:
                raise OSError(errno.ENOENT, os.strerror(errno.ENOENT))
            target = base.rstrip(b"/") + b"/" + target
        path = target + (b"/" if slash else b"")


def open_root(path):
    """The O_PATH descriptor a root is held by (set_fs_root())."""
    return os.open(path, _O_DIR)
