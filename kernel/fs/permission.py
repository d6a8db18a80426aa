"""fs/namei.c's permission side: a path walk with the guest's credentials.

The host kernel resolves every path the guest names (kernel/fs/namei.py),
but it checks the *host process's* rights: when a53emu runs as host root
(CI does) a guest that setuid()s to 1000 would open root's 0600 files.  So
before the host is asked, the guest kernel makes the checks 4.14 makes,
with the guest's cred and the owners and modes the guest sees (the
attribute overlay, kernel/fs/attr.py):

* link_path_walk(): search permission (MAY_EXEC) on every directory a
  lookup passes through, the start (working directory, dirfd or root)
  included, symlinks followed as the host follows them;
* may_open(), may_create(), may_delete() (with the sticky bit),
  vfs_rename()'s extra checks, execve's MAY_EXEC on a regular file,
  chdir's MAY_EXEC, truncate's MAY_WRITE.

These checks only ever *add* refusals: whatever they allow, the host still
checks with its own rights (a non-root host user running a guest root gets
the host's EACCES).  A guest whose filesystem ids, groups and capabilities
are the host process's own, with nothing in the overlay, would get exactly
the host's answers, so no walk is made then (host_equivalent()) — the
common case costs one comparison.

A check that meets what it cannot resolve (a missing component, a
non-directory, too many links) stops and lets the host call report its
errno, which is the same as Linux's.  Omitted: POSIX ACLs, LSMs, mount
flags (nodev, noexec: the host's), immutable/append-only inode flags (the
host's), protected_symlinks and protected_hardlinks (both 0 by default in
4.14 — commit 561ec64ae67e, v3.7, "VFS: don't do protected {sym,hard}links
by default"; distributions set them from sysctl.d, the kernel does not).
"""

import errno
import os
import stat

from kernel.cred import CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, capable, host_cred
from kernel.fs.attr import forget_inode, guest_stat, record_owner
from kernel.fs.namei import MAY_EXEC, MAY_READ, MAY_WRITE, PathError, generic_permission
from kernel.uapi import O_ACCMODE, O_CREAT, O_EXCL, O_NOATIME, O_NOFOLLOW, O_PATH, \
    O_TMPFILE, O_TRUNC

# include/linux/namei.h
MAXSYMLINKS = 40
LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT = 0, 1, 2, 3

_host = []


def _host_cred():
    """The host process's own cred, read once (its ids never change)."""
    if not _host:
        _host.append(host_cred())
    return _host[0]


def host_equivalent(task):
    """Would the guest's checks give exactly the host's answers?  True when
    the guest's fsuid, fsgid, groups and effective capabilities are the
    host process's and the overlay changes no owner or mode."""
    cred, host = task.cred, _host_cred()
    return (cred.fsuid == host.fsuid and cred.fsgid == host.fsgid
            and cred.cap_effective == host.cap_effective
            and cred.group_info == host.group_info and not task.kernel.attr_overlay)


def _search_always_passes(cred):
    """generic_permission() never refuses MAY_EXEC on a directory to a
    holder of CAP_DAC_READ_SEARCH or CAP_DAC_OVERRIDE."""
    return bool(cred.cap_effective >> CAP_DAC_READ_SEARCH & 1
                or cred.cap_effective >> CAP_DAC_OVERRIDE & 1)


class Nameidata:
    """What a lookup found (struct nameidata, roughly): the parent directory
    (host path, relative to dir_fd or absolute) and its guest stat, the
    last component and its type, the guest stat of the object (None when
    the name is free), err (a refused search) and complete (False when the
    walk stopped at something only the host can report)."""

    __slots__ = ("dir_fd", "dir", "dir_st", "last", "last_type", "st", "err", "complete")

    def __init__(self):
        self.dir_fd = self.dir = self.dir_st = self.last = self.st = None
        self.last_type = LAST_NORM
        self.err = 0
        self.complete = True


def _gstat(task, dir_fd, path, follow):
    """The guest's stat of a host path, or None when the host cannot stat it."""
    try:
        return guest_stat(task.kernel, os.stat(path, dir_fd=dir_fd, follow_symlinks=follow))
    except OSError:
        return None


def _start(task, dir_fd, hpath):
    """Where a lookup starts, as (dir_fd, directory, rest of the path): the
    directory descriptor for a relative name; for an absolute one the
    guest's root — the --sysroot or the board's /dev/shm when host_path()
    put the name there (their host ancestors are not the guest's to
    check) — or the host's /."""
    if dir_fd is not None:
        return dir_fd, b".", hpath
    roots = []
    kernel = task.kernel
    if kernel.sysroot is not None:
        roots.append(kernel.sysroot)
    if kernel.ipc_ns.root is not None:
        roots.append(os.path.join(kernel.ipc_ns.root, b"shm"))
    for root in roots:
        if hpath == root or hpath.startswith(root + b"/"):
            return None, root, hpath[len(root):]
    return None, b"/", hpath


def _components(path):
    return [c for c in path.split(b"/") if c]


def path_lookup(task, dir_fd, hpath, follow):
    """path_lookupat(): walk hpath (as host_path() returned it) with the
    guest's cred — may_lookup() (MAY_EXEC) on each directory before a
    component is looked up in it; a symlink in the middle is followed, a
    trailing one when follow (or a trailing slash) says so, 40 at most."""
    nd = Nameidata()
    hpath = os.fsencode(hpath)
    cred = task.cred
    check_search = not _search_always_passes(cred)
    cur_fd, cur, rest = _start(task, dir_fd, hpath)
    cur_st = _gstat(task, cur_fd, cur, True)
    if cur_st is None:
        nd.complete = False
        return nd
    comps = _components(rest)
    follow = follow or hpath.endswith(b"/")
    if not comps:
        nd.last_type, nd.st = LAST_ROOT, cur_st
        return nd
    links = 0
    while comps:
        comp = comps.pop(0)
        if check_search:
            err = generic_permission(cred, cur_st, MAY_EXEC)        # may_lookup()
            if err:
                nd.err = err
                return nd
        path = os.path.join(cur, comp)
        if comp in (b".", b".."):
            st = _gstat(task, cur_fd, path, True)
            if st is None:
                nd.complete = False
                return nd
            if not comps:
                nd.dir_fd, nd.dir, nd.dir_st, nd.last = cur_fd, cur, cur_st, comp
                nd.last_type = LAST_DOT if comp == b"." else LAST_DOTDOT
                nd.st = st
                return nd
            cur, cur_st = path, st
            continue
        try:
            st = guest_stat(task.kernel, os.stat(path, dir_fd=cur_fd, follow_symlinks=False))
        except FileNotFoundError:
            st = None
        except OSError:
            nd.complete = False
            return nd
        if st is not None and stat.S_ISLNK(st.st_mode) and (comps or follow):
            links += 1
            if links > MAXSYMLINKS:
                nd.complete = False                 # the host says ELOOP
                return nd
            try:
                target = os.readlink(path, dir_fd=cur_fd)
            except OSError:
                nd.complete = False
                return nd
            comps[:0] = _components(target)
            if target.startswith(b"/"):
                cur_fd, cur = None, b"/"
                cur_st = _gstat(task, None, cur, True)
            if not comps:                           # a link to "/"
                nd.last_type, nd.st = LAST_ROOT, cur_st
                return nd
            continue
        if not comps:
            nd.dir_fd, nd.dir, nd.dir_st, nd.last, nd.st = cur_fd, cur, cur_st, comp, st
            return nd
        if st is None or not stat.S_ISDIR(st.st_mode):
            nd.complete = False                     # ENOENT / ENOTDIR: the host's
            return nd
        cur, cur_st = path, st
    return nd


def may_walk(task, dir_fd, hpath):
    """The search permission every lookup of hpath needs on the way to its
    last component: raises PathError(-EACCES).  host_path() asks this for
    every path call; the calls that go on to the last component ask
    path_lookup() themselves."""
    if host_equivalent(task) or _search_always_passes(task.cred):
        return
    nd = path_lookup(task, dir_fd, hpath, follow=False)
    if nd.err:
        raise PathError(nd.err)


def _lookup(task, dir_fd, hpath, follow):
    """path_lookup(), or None when no check can refuse anything."""
    if host_equivalent(task):
        return None
    nd = path_lookup(task, dir_fd, hpath, follow)
    if nd.err:
        raise PathError(nd.err)
    return nd if nd.complete else None


def access_override_creds(cred):
    """access_override_creds(): the cred access() looks up and checks
    with — fsuid/fsgid the real ids; a non-root caller has no effective
    capabilities, root its permitted set."""
    new = cred.copy()
    new.fsuid, new.fsgid = cred.uid, cred.gid
    new.cap_effective = cred.cap_permitted if cred.uid == 0 else 0
    return new


def inode_permission(task, st, mask):
    """inode_permission() for the guest: generic_permission() with its cred
    (the EROFS of a read-only mount is the host's to give)."""
    return generic_permission(task.cred, st, mask)


def may_create(task, dir_st):
    """may_create(): write and search permission on the parent directory."""
    return inode_permission(task, dir_st, MAY_WRITE | MAY_EXEC)


def check_sticky(task, dir_st, st):
    """check_sticky(): in a sticky directory only the file's owner, the
    directory's owner or CAP_FOWNER may remove or rename the file."""
    if not dir_st.st_mode & stat.S_ISVTX:
        return False
    fsuid = task.cred.fsuid
    if st.st_uid == fsuid or dir_st.st_uid == fsuid:
        return False
    return not capable(task, CAP_FOWNER)


def may_delete(task, dir_st, st, isdir):
    """may_delete(): the victim exists, the parent is writable and
    searchable (EACCES), the sticky bit (EPERM), then the type (ENOTDIR,
    EISDIR — the host gives those as well)."""
    err = inode_permission(task, dir_st, MAY_WRITE | MAY_EXEC)
    if err:
        return err
    if check_sticky(task, dir_st, st):
        return -errno.EPERM
    return 0


def _acc_mode(flags):
    """build_open_flags()'s acc_mode: ACC_MODE() of the access mode, plus
    MAY_WRITE for O_TRUNC (MAY_APPEND matters only to append-only inodes)."""
    acc = (MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE)[flags & O_ACCMODE]
    if flags & O_TRUNC:
        acc |= MAY_WRITE
    return acc


def may_open_path(task, dir_fd, hpath, flags):
    """do_last()/may_open() on a host path, with flags as build_open_flags()
    left them: 0 or -errno.  O_PATH needs only the walk; O_TMPFILE write
    and search on the directory (vfs_tmpfile()); O_CREAT of a free name
    may_create() on its parent (an existing one with O_EXCL is the host's
    EEXIST); an existing file the access mode (MAY_WRITE for O_TRUNC), a
    directory opened for writing EISDIR, O_NOATIME the owner or
    CAP_FOWNER (EPERM)."""
    excl = flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL
    nd = _lookup(task, dir_fd, hpath, follow=not (flags & O_NOFOLLOW or excl))
    if nd is None:
        if excl or flags & O_PATH:
            return 0                                # EEXIST is the host's; no access
        from kernel.fs.denywrite import path_open_write_access
        return path_open_write_access(task, dir_fd, hpath, flags)
    st = nd.st
    if flags & O_TMPFILE == O_TMPFILE:
        if st is None or not stat.S_ISDIR(st.st_mode):
            return 0
        return inode_permission(task, st, MAY_WRITE | MAY_EXEC)
    if flags & O_PATH:
        return 0
    if st is None:
        if flags & O_CREAT and nd.last_type == LAST_NORM and nd.dir_st is not None:
            return may_create(task, nd.dir_st)
        return 0
    if excl or stat.S_ISLNK(st.st_mode):
        return 0                                    # EEXIST, ELOOP: the host's
    return may_open_inode(task, st, flags)


def may_open_magic(task, target, flags):
    """may_open() after a /proc magic link (proc_fd_link(), nd_jump_link()):
    the target inode with the opener's credentials, whatever the open
    file's own mode — a descriptor open for reading reopens for writing
    only if the inode allows it.  The board's anonymous pipes and sockets
    are skipped: their inodes are the host's, not owned by the guest that
    made them (Linux: the creator's fsuid, mode 0600).  0 or -errno."""
    if flags & O_PATH:
        return 0
    if host_equivalent(task):
        from kernel.fs.denywrite import path_open_write_access
        return path_open_write_access(task, None, target.host_path, flags)
    file = target.file
    if file is not None and (file.host_fd is None or file.owned_nonblock):
        return 0
    try:
        st = guest_stat(task.kernel, os.stat(target.host_path))
    except OSError:
        return 0                                    # the host's error follows
    if stat.S_ISLNK(st.st_mode) or stat.S_ISSOCK(st.st_mode):
        return 0                                    # ELOOP, ENXIO: the host's
    return may_open_inode(task, st, flags)


def may_open_inode(task, st, flags):
    """The inode's part of may_open(): a directory never opens for writing
    (EISDIR), the access mode against the inode (inode_permission()), and
    O_NOATIME only for the owner or CAP_FOWNER (EPERM).  0 or -errno."""
    acc = _acc_mode(flags)
    if stat.S_ISDIR(st.st_mode) and (acc & MAY_WRITE or flags & O_CREAT):
        return -errno.EISDIR
    err = inode_permission(task, st, acc)
    if err:
        return err
    if flags & O_NOATIME and st.st_uid != task.cred.fsuid and not capable(task, CAP_FOWNER):
        return -errno.EPERM
    from kernel.fs.denywrite import open_write_access
    return open_write_access(task, st, flags)   # ETXTBSY for a running program


def may_mkobj(task, dir_fd, hpath):
    """filename_create() + may_create() for mkdir, mknod, symlink and the
    new name of link: a free name in a directory the guest may write
    (an existing name is the host's EEXIST)."""
    nd = _lookup(task, dir_fd, hpath, follow=False)
    if nd is None or nd.st is not None or nd.last_type != LAST_NORM or nd.dir_st is None:
        return 0
    return may_create(task, nd.dir_st)


def may_unlink(task, dir_fd, hpath, isdir):
    """do_unlinkat()/do_rmdir() + may_delete(): 0 or -errno.  A trailing
    slash on unlink, ".", ".." and "/" are the host's errors."""
    if not isdir and hpath.endswith(b"/"):
        return 0
    nd = _lookup(task, dir_fd, hpath, follow=False)
    if nd is None or nd.st is None or nd.last_type != LAST_NORM:
        return 0
    return may_delete(task, nd.dir_st, nd.st, isdir)


def _same_dir(a, b):
    return a.st_dev == b.st_dev and a.st_ino == b.st_ino


def may_rename(task, src_fd, src, dst_fd, dst, exchange=False):
    """vfs_rename()'s checks: renaming a file onto itself (one inode) is 0
    before any; may_delete() of the source; may_delete() of an existing
    target (with its own type under RENAME_EXCHANGE, the source's type
    otherwise) or may_create() in the new directory; and a directory moving
    to another parent needs write permission on itself (its ".." changes),
    as does an exchanged target directory."""
    if host_equivalent(task):
        return 0
    old = path_lookup(task, src_fd, src, follow=False)
    if old.err:
        return old.err
    new = path_lookup(task, dst_fd, dst, follow=False)
    if new.err:
        return new.err
    if not (old.complete and new.complete) or old.st is None or \
            old.last_type != LAST_NORM or new.last_type != LAST_NORM:
        return 0
    if new.st is not None and _same_dir(old.st, new.st):
        return 0
    isdir = stat.S_ISDIR(old.st.st_mode)
    new_isdir = new.st is not None and stat.S_ISDIR(new.st.st_mode)
    err = may_delete(task, old.dir_st, old.st, isdir)
    if err:
        return err
    if new.st is None:
        err = may_create(task, new.dir_st)
    else:
        err = may_delete(task, new.dir_st, new.st, new_isdir if exchange else isdir)
    if err:
        return err
    if not _same_dir(old.dir_st, new.dir_st):
        if isdir:
            err = inode_permission(task, old.st, MAY_WRITE)
            if err:
                return err
        if exchange and new_isdir:
            return inode_permission(task, new.st, MAY_WRITE)
    return 0


def may_link(task, src_fd, src, follow, dst_fd, dst):
    """do_linkat(): the old name's walk, then the new name's (EEXIST is the
    host's), then may_create() in the new directory.  may_linkat() is a
    no-op: protected_hardlinks is 0 in 4.14 by default."""
    if host_equivalent(task):
        return 0
    if src:
        old = path_lookup(task, src_fd, src, follow)
        if old.err:
            return old.err
        if not old.complete or old.st is None:
            return 0
    return may_mkobj(task, dst_fd, dst)


def exec_permission(task, st):
    """do_open_execat()'s checks on the file found: MAY_EXEC (a root
    needs some x bit), then a regular file — EACCES otherwise."""
    if stat.S_ISDIR(st.st_mode):
        return -errno.EACCES
    err = inode_permission(task, st, MAY_EXEC)
    if err:
        return err
    return 0 if stat.S_ISREG(st.st_mode) else -errno.EACCES


def may_exec_file(task, host_fd):
    """execveat(fd, "", AT_EMPTY_PATH) (fexecve): exec_permission() on the
    open file."""
    if host_equivalent(task):
        return 0
    return exec_permission(task, guest_stat(task.kernel, os.fstat(host_fd)))


def may_exec(task, dir_fd, hpath, follow=True):
    """do_open_execat(): MAY_EXEC on the file (a root needs some x bit),
    and it must be a regular file — EACCES otherwise."""
    nd = _lookup(task, dir_fd, hpath, follow)
    if nd is None or nd.st is None:
        return 0
    if stat.S_ISLNK(nd.st.st_mode):
        return 0                                    # AT_SYMLINK_NOFOLLOW: ELOOP, the host's
    return exec_permission(task, nd.st)


def may_chdir(task, dir_fd, hpath):
    """set_fs_pwd()'s check in chdir(): MAY_EXEC on the directory (ENOTDIR
    is the host's, and comes first)."""
    nd = _lookup(task, dir_fd, hpath, follow=True)
    if nd is None or nd.st is None or not stat.S_ISDIR(nd.st.st_mode):
        return 0
    return inode_permission(task, nd.st, MAY_EXEC)


def may_fchdir(task, host_fd):
    """fchdir(): MAY_EXEC on the open directory."""
    if host_equivalent(task):
        return 0
    return inode_permission(task, guest_stat(task.kernel, os.fstat(host_fd)), MAY_EXEC)


def utimes_permission(task, st, touch):
    """setattr_prepare() for utimensat(): setting explicit times needs the
    owner or CAP_FOWNER (EPERM); "now" for both (touch) is also allowed to
    whoever may write the file (EACCES otherwise)."""
    if st.st_uid == task.cred.fsuid or capable(task, CAP_FOWNER):
        return 0
    if not touch:
        return -errno.EPERM
    return inode_permission(task, st, MAY_WRITE)


def may_utimes(task, dir_fd, hpath, follow, touch):
    """utimensat() on a path: the walk, then utimes_permission()."""
    nd = _lookup(task, dir_fd, hpath, follow)
    if nd is None or nd.st is None:
        return 0
    return utimes_permission(task, nd.st, touch)


def may_futimes(task, host_fd, touch):
    """futimens(): utimes_permission() on the open file."""
    if host_equivalent(task):
        return 0
    return utimes_permission(task, guest_stat(task.kernel, os.fstat(host_fd)), touch)


CAP_SYS_ADMIN = 21


def xattr_permission(task, target, follow, name, mask):
    """xattr_permission() for the file at target (a host path, or a host
    descriptor): security.* and system.* are the file system's; trusted.*
    needs CAP_SYS_ADMIN (EPERM to write, ENODATA to read); user.* only on
    regular files and directories (EPERM/ENODATA), a sticky directory's
    only by its owner or CAP_FOWNER; then inode_permission()."""
    if host_equivalent(task):
        return 0
    try:
        host = os.fstat(target) if isinstance(target, int) else \
            os.stat(target, follow_symlinks=follow)
    except OSError:
        return 0                                    # the host's errno
    st = guest_stat(task.kernel, host)
    if name.startswith((b"security.", b"system.")):
        return 0
    if name.startswith(b"trusted."):
        if not capable(task, CAP_SYS_ADMIN):
            return -errno.EPERM if mask & MAY_WRITE else -errno.ENODATA
        return 0
    if name.startswith(b"user."):
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            return -errno.EPERM if mask & MAY_WRITE else -errno.ENODATA
        if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX and mask & MAY_WRITE and \
                st.st_uid != task.cred.fsuid and not capable(task, CAP_FOWNER):
            return -errno.EPERM
    return inode_permission(task, st, mask)


def xattr_list_visible(task, name):
    """listxattr(): the trusted.* names only for CAP_SYS_ADMIN (the file
    systems' ->list)."""
    return not name.startswith(b"trusted.") or capable(task, CAP_SYS_ADMIN)


def may_write_socket(task, dir_fd, hpath):
    """unix_find_other(): connecting or sending to a path socket needs
    MAY_WRITE on it (ECONNREFUSED for a non-socket is the host's)."""
    nd = _lookup(task, dir_fd, hpath, follow=True)
    if nd is None or nd.st is None:
        return 0
    return inode_permission(task, nd.st, MAY_WRITE)


def may_truncate(task, dir_fd, hpath):
    """vfs_truncate(): EISDIR, EINVAL for a non-regular file, then
    MAY_WRITE (EACCES)."""
    nd = _lookup(task, dir_fd, hpath, follow=True)
    if nd is None or nd.st is None:
        return 0
    st = nd.st
    if stat.S_ISDIR(st.st_mode):
        return -errno.EISDIR
    if not stat.S_ISREG(st.st_mode):
        return -errno.EINVAL
    return inode_permission(task, st, MAY_WRITE)


def inode_init_owner(task, st, dir_fd, hpath):
    """inode_init_owner() for the file just made at hpath (st its host
    stat): it belongs to the creator's fsuid, and to its fsgid — or to the
    directory's group when the directory is S_ISGID.  The host made it
    with the host process's ids; where the guest's differ, the guest's
    view records them (the attribute overlay) and the host file keeps its
    host owner.  An overlay entry a deleted file left under the same inode
    number is dropped first."""
    kernel = task.kernel
    forget_inode(kernel, st)
    if host_equivalent(task):
        return
    cred = task.cred
    uid, gid = cred.fsuid, cred.fsgid
    parent = _parent_stat(task, dir_fd, hpath)
    if parent is not None and parent.st_mode & stat.S_ISGID:
        gid = parent.st_gid
    if (uid, gid) != (st.st_uid, st.st_gid):
        record_owner(kernel, st, uid, gid)


def last_link(task, dir_fd, hpath):
    """The host stat of what hpath names when its removal frees the inode
    and the overlay has entries (so the caller can forget it), else None."""
    if not task.kernel.attr_overlay:
        return None
    try:
        st = os.stat(hpath, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode) or st.st_nlink <= 1:
        return st
    return None


def _parent_stat(task, dir_fd, hpath):
    """The guest stat of the directory a new file went into."""
    head = os.path.dirname(hpath.rstrip(b"/"))
    if not head:
        head = b"." if dir_fd is not None else b"/"
    return _gstat(task, dir_fd, head, True)
