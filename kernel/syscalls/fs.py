"""fs/open.c, fs/stat.c, fs/namei.c, fs/readdir.c, fs/d_path.c, fs/file.c
(dup), fs/sync.c (fsync): the file system calls.  read(), write() and
their kin are kernel/syscalls/read_write.py's, ioctl() kernel/fs/ioctl.py's,
fcntl() kernel/fs/fcntl.py's (split so a program that only writes imports
none of this: issue 8, start-up).

The host kernel does the I/O on host descriptors; we translate the AArch64
ABI (flag values, struct layouts) and keep Linux's per-descriptor state
(offsets live in the host's open file description, which dup() shares just
as Linux shares struct file).
"""

import errno
import os
import stat
import struct

from kernel.fs.attr import forget_inode_at_last_close, guest_stat
from kernel.fs.permission import (
    access_override_creds, inode_init_owner, last_link, may_chdir, may_fchdir, may_mkobj, may_open_path, may_rename, may_unlink,
)
from kernel.fs.file import File
from kernel.fs.open import build_open_flags, o_creat_directory
from kernel.fs.namei import (
    BOARD_DEVICES, MAY_WRITE, AccessCred, PathError, board_device, generic_permission,
    guest_absolute, host_d_path, host_path, host_target, path_call, rooted_cwd, rooted_name,
    task_root, user_path,
)
from kernel.fs.rename import (
    RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, host_lexists, host_renameat2,
)
from kernel.fs.proc import (
    HostTarget, PseudoError, is_pseudo_path, may_open, pseudo_dir_entries, pseudo_open,
    pseudo_resolve, pseudo_stat,
)
from kernel.fs.stat import STATX_SIZE, SyntheticStat, host_statx_attributes, pack_stat, pack_statx
from kernel.sys import inode_newsize_ok
from kernel.syscalls.read_write import _err, _fget, _fget_raw
from kernel.syscalls.table import syscall
from kernel.uapi import (
    AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR, AT_STATX_SYNC_TYPE,
    AT_SYMLINK_NOFOLLOW, STATX__RESERVED,
    O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECT, O_DIRECTORY,
    O_DSYNC, O_EXCL, O_LARGEFILE, O_NOATIME, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH,
    O_SYNC, O_TMPFILE, O_TRUNC,
)
from kernel.uaccess import s32
from kernel.cred import CAP_MKNOD, capable

# Guest (asm-generic) open flags -> the host's.  The access mode is shared.
_OPEN_FLAG_MAP = ((O_CREAT, os.O_CREAT), (O_EXCL, os.O_EXCL), (O_NOCTTY, os.O_NOCTTY),
                  (O_TRUNC, os.O_TRUNC), (O_APPEND, os.O_APPEND), (O_NONBLOCK, os.O_NONBLOCK),
                  (O_DSYNC, os.O_DSYNC), (O_DIRECTORY, os.O_DIRECTORY),
                  (O_NOFOLLOW, os.O_NOFOLLOW), (O_DIRECT, os.O_DIRECT),
                  (O_NOATIME, os.O_NOATIME), (O_PATH, os.O_PATH), (O_SYNC, os.O_SYNC),
                  (O_TMPFILE, os.O_TMPFILE))
_DIRENT_HEAD = struct.Struct("<QqHB")


def _to_host_flags(flags):
    host = flags & O_ACCMODE
    for guest_bit, host_bit in _OPEN_FLAG_MAP:
        if flags & guest_bit == guest_bit:
            host |= host_bit
    return host | os.O_CLOEXEC          # our host descriptors never leak to children


def rooted_may_open(task, found, dir_fd, hpath, flags):
    """may_open() below a root (--jail, chroot): the root is mounted nodev —
    a device node in it (one a guest root made with mknod, say) opens with
    EACCES, as on a MNT_NODEV mount, so the board's own devices
    (namei.BOARD_DEVICES) are the only ones a guest reaches; and the
    running PROGRAM outside the root, reached through /proc/self/exe, is
    never opened for writing (deny_write_access(): ETXTBSY)."""
    if isinstance(found, HostTarget):
        if dir_fd is None and not hpath.startswith(b"/proc/self/fd/") and \
                found.guest_name not in BOARD_DEVICES and (flags & O_ACCMODE or flags & O_TRUNC):
            return -errno.ETXTBSY
        return 0
    if flags & O_PATH:
        return 0                        # do_o_path(): no may_open(), nothing to read
    try:
        st = os.stat(hpath, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return 0                        # a new name, or the host's errno to come
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return -errno.EACCES
    return 0


def _break_lease(task, dir_fd, hpath, flags):
    """break_lease() for an open of an existing file (kernel/fs/leases.py),
    before the host open: an O_TRUNC must wait for the break too."""
    from kernel.fs.leases import break_lease
    try:
        st = os.stat(hpath, dir_fd=dir_fd)
    except OSError:
        return 0
    return break_lease(task, (st.st_dev, st.st_ino), flags)


def _pseudo_lookup(task, dirfd, path, follow=True):
    """/proc and /sys (kernel/fs/proc.py): None when path is elsewhere, an
    Entry, or a HostTarget (a magic link to a host file); raises PathError."""
    name = _lookup_name(task, dirfd, path)
    device = board_device(task, name)
    if device is not None:
        return HostTarget(device, device, device)       # the board's own /dev (--jail)
    if not is_pseudo_path(name):
        return None
    # A trailing slash, "." or ".." names a directory: the link is followed
    # (guest_absolute() has already resolved ".." by name).
    follow = follow or path.endswith((b"/", b"/.", b"/..")) or path in (b".", b"..")
    try:
        return pseudo_resolve(task.kernel, task, name, follow)
    except PseudoError as e:
        raise PathError(e.err)


def _lookup_name(task, dirfd, path):
    """The absolute guest name of path for _pseudo_lookup(): "." and ".."
    are taken by name (guest_absolute()) up to a ".." that follows a magic
    link or a name reached through one (/proc/self/cwd/.., /proc/self/fd/3/
    sub/..): there link_path_walk() has followed the link and ".." is the
    target's parent, so the rest is kept for the link's target to resolve
    (pseudo_resolve() hands it on to the host or to the link's guest name)."""
    if b".." not in path:
        return guest_absolute(task, dirfd, path)    # the same name, by the short way
    text = os.fsdecode(path)
    if not text.startswith("/"):
        whole = guest_absolute(task, dirfd, b".")
        text = whole.rstrip("/") + "/" + text
    parts = text.split("/")
    stack = []
    for i, part in enumerate(parts):
        if part in ("", "."):
            continue
        if part == "..":
            if stack and _through_magic_link(task, "/" + "/".join(stack)):
                rest = [p for p in parts[i:] if p not in ("", ".")]
                return "/" + "/".join(stack + rest)
            if stack:
                stack.pop()
            continue
        stack.append(part)
    return "/" + "/".join(stack)


def _through_magic_link(task, prefix):
    """Does the pseudo path prefix name a magic link, or something reached
    through one?"""
    if not is_pseudo_path(prefix):
        return False
    try:
        found = pseudo_resolve(task.kernel, task, prefix, follow=False)
    except PseudoError:
        return False
    return isinstance(found, HostTarget) or (found is not None and found.kind == "link")


# -- open / close -------------------------------------------------------------------

@syscall("openat", "dirfd path oflags mode")
@path_call
def sys_openat(task, dirfd, path_addr, flags, mode):
    """do_sys_open(): a new descriptor for the file at path."""
    flags &= 0xFFFFFFFF
    cloexec = bool(flags & O_CLOEXEC)
    flags, err = build_open_flags(flags & ~O_CLOEXEC)
    if err:
        return err
    path = user_path(task, path_addr)
    if task.files.get_unused_fd() < 0:
        return -errno.EMFILE            # before the file is created (RLIMIT_NOFILE)
    found = _pseudo_lookup(task, dirfd, path, follow=not flags & O_NOFOLLOW)
    guest = guest_absolute(task, dirfd, path)
    # LOOKUP_FOLLOW unless O_NOFOLLOW, or O_CREAT|O_EXCL (a symlink there is EEXIST)
    follow = not flags & O_NOFOLLOW and flags & (O_CREAT | O_EXCL) != O_CREAT | O_EXCL
    if isinstance(found, HostTarget):
        (dir_fd, hpath), guest = host_target(task, found, follow), found.guest_name
    elif found is not None:
        if found.kind == "link":
            return -errno.ELOOP             # O_NOFOLLOW on a symlink
        err = may_open(task, found, flags)
        if err:
            return err
        file = pseudo_open(task.kernel, task, found, flags, found.path)
        if flags & O_PATH:
            file.readable = False
        fd = task.files.alloc_fd(file, cloexec=cloexec)
        if fd < 0:
            file.put()
        return fd
    else:
        dir_fd, hpath = host_path(task, dirfd, path, follow)
    flags, err = o_creat_directory(flags, dir_fd, hpath)
    if err:
        return err
    if not isinstance(found, HostTarget):
        err = may_open_path(task, dir_fd, hpath, flags)     # the guest's rights
        if err:
            return err
    else:
        from kernel.fs.permission import may_open_magic
        err = may_open_magic(task, found, flags)            # /proc/PID/fd/N, exe, cwd
        if err:
            return err
    if task_root(task) is not None:
        err = rooted_may_open(task, found, dir_fd, hpath, flags)
        if err:
            return err
    existed = True
    if flags & O_CREAT:
        try:
            os.stat(hpath, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            existed = False
    if existed and getattr(task.kernel, "file_leases", None) and not flags & O_PATH:
        err = _break_lease(task, dir_fd, hpath, flags)  # do_dentry_open(): break_lease()
        if err:
            return err
    old = os.umask(task.fs.umask)
    try:
        hfd = os.open(hpath, _to_host_flags(flags), mode & 0o7777, dir_fd=dir_fd)
    finally:
        os.umask(old)
    if not existed:
        inode_init_owner(task, os.fstat(hfd), dir_fd, hpath)
    elif flags & O_TMPFILE == O_TMPFILE:
        inode_init_owner(task, os.fstat(hfd), dir_fd, os.path.join(os.fsencode(hpath), b"."))
    # do_dentry_open(): the open-time-only bits are not kept; a 64-bit kernel
    # opens everything O_LARGEFILE (force_o_largefile()).
    # An O_PATH descriptor (FMODE_PATH) neither reads nor writes.
    if flags & O_PATH:
        f_flags = flags
    else:
        f_flags = (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) | O_LARGEFILE
    file = File(task.kernel, hfd, guest, f_flags)
    if flags & O_PATH:
        file.readable = file.writable = False
    if flags & O_TRUNC and file.mapping is not None:
        file.mapping.truncate(0)
    fd = task.files.alloc_fd(file, cloexec=cloexec)
    if fd < 0:
        file.put()
    elif stat.S_ISCHR(file.mode):
        from kernel.tty import tty_open_proc_set_tty
        tty_open_proc_set_tty(task, file, flags)    # a leader's first terminal
    return fd


@syscall("close", "fd")
def sys_close(task, fd):
    return task.files.close(s32(fd))



# -- stat -----------------------------------------------------------------------------

def _stat_file(file):
    if file.pseudo is not None:
        return file.pseudo.stat()
    if hasattr(file, "getattr"):        # a kind with its own inode (anon inodes)
        return file.getattr()
    if file.body is not None:
        return SyntheticStat(0)
    return guest_stat(file.kernel, os.fstat(file.host_fd))


def _stat_at(task, dirfd, path_addr, flags, where=None):
    """vfs_statx(): os.stat_result-like for (dirfd, path, AT_* flags).  Flags
    are checked first; a NULL path is -EFAULT even with AT_EMPTY_PATH
    (getname_flags() copies it; 6.11 lets statx take NULL, 4.14 does not).
    A host file's (dir_fd, path, follow) is appended to the list where, if
    given (statx asks the host for the file's attributes)."""
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE):
        raise PathError(-errno.EINVAL)
    path = user_path(task, path_addr)
    if not path:
        if flags & AT_EMPTY_PATH:
            if s32(dirfd) == AT_FDCWD:
                _note_host(where, task.fs.cwd_fd, b"", True)
                return guest_stat(task.kernel, os.stat(task.fs.cwd_fd))
            file = _fget_raw(task, dirfd)
            if file is None:
                raise PathError(-errno.EBADF)
            if file.pseudo is None and not hasattr(file, "getattr") and file.body is None:
                _note_host(where, file.host_fd, b"", True)
            return _stat_file(file)
        raise PathError(-errno.ENOENT)
    follow = not flags & AT_SYMLINK_NOFOLLOW
    found = _pseudo_lookup(task, dirfd, path, follow=follow)
    if isinstance(found, HostTarget):
        dir_fd, hpath = host_target(task, found, follow)
        _note_host(where, dir_fd, hpath, follow)
        return os.stat(hpath, dir_fd=dir_fd, follow_symlinks=follow)
    if found is not None:
        return pseudo_stat(found)
    dir_fd, hpath = host_path(task, dirfd, path, follow)
    _note_host(where, dir_fd, hpath, follow)
    return guest_stat(task.kernel, os.stat(hpath, dir_fd=dir_fd,
                                           follow_symlinks=not flags & AT_SYMLINK_NOFOLLOW))


def _note_host(where, dir_fd, hpath, follow):
    if where is not None:
        where.append((dir_fd, hpath, follow))


@syscall("fstat", "fd stat")
def sys_fstat(task, fd, statbuf):
    file = _fget_raw(task, fd)
    if file is None:
        return -errno.EBADF
    task.uaccess.copy_to_user(statbuf, pack_stat(_stat_file(file)))
    return 0


@syscall("newfstatat", "dirfd path stat atflags")
@path_call
def sys_newfstatat(task, dirfd, path, statbuf, flags):
    st = _stat_at(task, dirfd, path, flags)
    task.uaccess.copy_to_user(statbuf, pack_stat(st))
    return 0


@syscall("statx", "dirfd path statxflags statxmask statx")
@path_call
def sys_statx(task, dirfd, path, flags, mask, buf):
    if mask & STATX__RESERVED:
        return -errno.EINVAL
    if flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE:   # FORCE_SYNC | DONT_SYNC together
        return -errno.EINVAL
    where = []
    st = _stat_at(task, dirfd, path, flags, where)
    out = pack_statx(st, *(host_statx_attributes(*where[0]) if where else (0, 0)))
    task.uaccess.copy_to_user(buf, out[:STATX_SIZE])
    return 0


# -- directories ------------------------------------------------------------------------

_DT = {stat.S_IFDIR: 4, stat.S_IFREG: 8, stat.S_IFLNK: 10, stat.S_IFCHR: 2,
       stat.S_IFBLK: 6, stat.S_IFIFO: 1, stat.S_IFSOCK: 12}


def _board_root_stats(kernel):
    """The host stats of the directories the board shows as "/": the --jail
    root, the --sysroot, and the host's own "/"."""
    roots = [os.stat(b"/")]
    if kernel.jail_fd is not None:
        roots.append(os.fstat(kernel.jail_fd))
    if kernel.sysroot is not None:
        try:
            roots.append(os.stat(kernel.sysroot))
        except OSError:
            pass
    return roots


def _dotdot_ino(kernel, host_fd, st):
    """The inode number of a directory's ".." entry: its parent's (ext4
    stores it in the block, dcache_readdir() takes parent_ino()), and the
    directory's own at the root of the board's file system (the --jail or
    --sysroot directory is that root: the root inode's ".." is itself, and
    the host directory above it is not the board's).  A chroot() inside
    the guest keeps the parent's, as Linux does (readdir is not
    chroot-aware)."""
    if any(os.path.samestat(st, root) for root in _board_root_stats(kernel)):
        return st.st_ino
    try:
        return os.stat(b"..", dir_fd=host_fd).st_ino
    except OSError:
        return st.st_ino            # search permission on the host refused: the walk is ours


def _dir_snapshot(file, kernel):
    """The directory's entries, '.' and '..' first, as (ino, type, name)."""
    st = os.fstat(file.host_fd)
    entries = [(st.st_ino, 4, b"."), (_dotdot_ino(kernel, file.host_fd, st), 4, b"..")]
    with os.scandir(file.host_fd) as it:
        for e in it:
            try:
                mode = e.stat(follow_symlinks=False).st_mode
                dtype = _DT.get(stat.S_IFMT(mode), 0)
            except OSError:
                dtype = 0
            entries.append((e.inode(), dtype, os.fsencode(e.name)))
    return entries


@syscall("getdents64", "fd p u")
def sys_getdents64(task, fd, dirp, count):
    """getdents64(): as many linux_dirent64 records as fit in count bytes.
    count is an unsigned int (a 64-bit value is cut to its low half, so
    2^40 is 0: EINVAL, no room for one record); access_ok() of the buffer
    comes before the descriptor."""
    count &= 0xFFFFFFFF
    if dirp + count > task.mm.task_size:
        return -errno.EFAULT
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    if not file.is_dir:
        return -errno.ENOTDIR
    if file.dir_entries is None:
        file.dir_entries = pseudo_dir_entries(file) if file.pseudo else _dir_snapshot(file, task.kernel)
    out = bytearray()
    while file.pos < len(file.dir_entries):
        ino, dtype, name = file.dir_entries[file.pos]
        reclen = (_DIRENT_HEAD.size + len(name) + 1 + 7) & ~7
        if len(out) + reclen > count:
            if not out:
                return -errno.EINVAL
            break
        rec = _DIRENT_HEAD.pack(ino, file.pos + 1, reclen, dtype) + name
        out += rec + bytes(reclen - len(rec))
        file.pos += 1
    task.uaccess.copy_to_user(dirp, bytes(out))
    return len(out)


@syscall("mkdirat", "dirfd path mode")
@path_call
def sys_mkdirat(task, dirfd, path, mode):
    dir_fd, hpath = host_path(task, dirfd, user_path(task, path), follow=False)
    err = may_mkobj(task, dir_fd, hpath)
    if err:
        return err
    old = os.umask(task.fs.umask)
    try:
        os.mkdir(hpath, mode & 0o7777, dir_fd=dir_fd)
    finally:
        os.umask(old)
    inode_init_owner(task, os.stat(hpath, dir_fd=dir_fd), dir_fd, hpath)
    return 0


@syscall("unlinkat", "dirfd path atflags")
@path_call
def sys_unlinkat(task, dirfd, path, flags):
    if flags & ~AT_REMOVEDIR:
        return -errno.EINVAL
    name = user_path(task, path)
    dir_fd, hpath = host_path(task, dirfd, name, follow=False)
    if flags & AT_REMOVEDIR and task_root(task) is not None and \
            name.rstrip(b"/").rsplit(b"/", 1)[-1] == b"..":
        return -errno.ENOTEMPTY     # do_rmdir()'s LAST_DOTDOT (below a root it came back as ".")
    err = may_unlink(task, dir_fd, hpath, bool(flags & AT_REMOVEDIR))
    if err:
        return err
    victim = last_link(task, dir_fd, hpath)
    if flags & AT_REMOVEDIR:
        os.rmdir(hpath, dir_fd=dir_fd)
    else:
        os.unlink(hpath, dir_fd=dir_fd)
    if victim is not None:
        forget_inode_at_last_close(task.kernel, victim)     # its number may be reused
    return 0


@syscall("renameat", "dirfd path dirfd path")
@path_call
def sys_renameat(task, olddirfd, oldpath, newdirfd, newpath):
    src_fd, src = host_path(task, olddirfd, user_path(task, oldpath), follow=False)
    dst_fd, dst = host_path(task, newdirfd, user_path(task, newpath), follow=False)
    err = may_rename(task, src_fd, src, dst_fd, dst)
    if err:
        return err
    victim = last_link(task, dst_fd, dst)
    os.rename(src, dst, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
    if victim is not None and not os.path.samestat(victim, os.stat(
            dst, dir_fd=dst_fd, follow_symlinks=False)):
        forget_inode_at_last_close(task.kernel, victim)     # the target it replaced is gone
    return 0


@syscall("renameat2", "dirfd path dirfd path x")
def sys_renameat2(task, olddirfd, oldpath, newdirfd, newpath, flags):
    """renameat2() (do_renameat2 in fs/namei.c): EINVAL for an unknown flag
    and for RENAME_EXCHANGE with NOREPLACE or WHITEOUT, EPERM for
    RENAME_WHITEOUT without CAP_MKNOD, all before the names are read; then
    the walks, EEXIST (NOREPLACE, the new name exists) or ENOENT (EXCHANGE,
    it does not), vfs_rename()'s permission checks with the guest's
    credentials, and the host's renameat2() for the move itself (ext4 and
    tmpfs support all three flags in 4.14; another host file system says
    EINVAL, as Linux does for it)."""
    if flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT):
        return -errno.EINVAL
    if flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) and flags & RENAME_EXCHANGE:
        return -errno.EINVAL
    if flags & RENAME_WHITEOUT and not capable(task, CAP_MKNOD):
        return -errno.EPERM
    if not flags:
        return sys_renameat(task, olddirfd, oldpath, newdirfd, newpath)
    return _renameat2_flags(task, olddirfd, oldpath, newdirfd, newpath, flags)


@path_call
def _renameat2_flags(task, olddirfd, oldpath, newdirfd, newpath, flags):
    """The rest of do_renameat2() for a rename with flags."""
    src_fd, src = host_path(task, olddirfd, user_path(task, oldpath), follow=False)
    dst_fd, dst = host_path(task, newdirfd, user_path(task, newpath), follow=False)
    os.stat(src, dir_fd=src_fd, follow_symlinks=False)      # ENOENT: no source
    exists = host_lexists(dst_fd, dst)
    if flags & RENAME_NOREPLACE and exists:
        return -errno.EEXIST
    if flags & RENAME_EXCHANGE and not exists:
        return -errno.ENOENT
    err = may_rename(task, src_fd, src, dst_fd, dst, exchange=bool(flags & RENAME_EXCHANGE))
    if err:
        return err
    victim = None if flags & RENAME_EXCHANGE else last_link(task, dst_fd, dst)
    host_renameat2(src_fd, src, dst_fd, dst, flags)
    if victim is not None and not os.path.samestat(victim, os.stat(
            dst, dir_fd=dst_fd, follow_symlinks=False)):
        forget_inode_at_last_close(task.kernel, victim)     # the target it replaced is gone
    return 0


def _access(task, dirfd, path, mode):
    """do_faccessat(): EINVAL for unknown mode bits; the lookup; then, unless
    mode is F_OK, inode_permission() with access_override_creds()'s cred
    (the guest's real ids), and EROFS for W_OK on a read-only mount.  The
    lookup itself runs under that cred too (override_creds()), so the
    directories on the way are searched with the real ids."""
    if mode & ~7:
        return -errno.EINVAL
    old = task.cred
    task.cred = access_override_creds(old)
    try:
        return _access_as(task, dirfd, path, mode)
    finally:
        task.cred = old                 # revert_creds()


def _access_as(task, dirfd, path, mode):
    p = user_path(task, path)
    found = _pseudo_lookup(task, dirfd, p, follow=True)
    if isinstance(found, HostTarget):
        dir_fd, hpath = host_target(task, found)
    elif found is not None:
        return _pseudo_access(task, found, mode)
    else:
        dir_fd, hpath = host_path(task, dirfd, p)
    st = guest_stat(task.kernel, os.stat(hpath, dir_fd=dir_fd))    # ENOENT etc.
    if not mode:
        return 0
    err = generic_permission(AccessCred(task.cred), st, mode)
    if err or not mode & MAY_WRITE or not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)
                                            or stat.S_ISLNK(st.st_mode)):
        return err
    where = hpath if dir_fd is None else os.path.join(b"/proc/self/fd/%d" % dir_fd,
                                                      os.fsencode(hpath))
    if os.statvfs(where).f_flag & os.ST_RDONLY:
        return -errno.EROFS
    return 0


def _pseudo_access(task, entry, mode):
    """inode_permission() on a pseudo entry: root passes read and write (and
    execute where some x bit is set), others need the mode's bits."""
    from kernel.fs.proc import CAP_DAC_OVERRIDE, capable, sysctl_perm, task_euid
    if entry.kind == "file" and entry.path.startswith("/proc/sys/"):
        # proc_sys_permission(): no execute for a file, then test_perm()
        return -errno.EACCES if mode & 1 else sysctl_perm(task, entry.mode, mode)
    bits = (entry.mode >> 6) & 7 if task_euid(task) == entry.uid else entry.mode & 7
    if mode & bits == mode:
        return 0
    if capable(task, CAP_DAC_OVERRIDE) and not (mode & 1 and not entry.mode & 0o111):
        return 0
    return -errno.EACCES


@syscall("faccessat", "dirfd path accmode")
@path_call
def sys_faccessat(task, dirfd, path, mode):
    return _access(task, dirfd, path, mode)


@syscall("readlinkat", "dirfd path obuf:ret u")
@path_call
def sys_readlinkat(task, dirfd, path, buf, size):
    size = s32(size)
    if size <= 0:
        return -errno.EINVAL
    target = _readlink_target(task, dirfd, user_path(task, path))
    if isinstance(target, int):
        return target
    target = target[:size]
    task.uaccess.copy_to_user(buf, target)
    return len(target)


def _readlink_target(task, dirfd, p):
    """do_readlinkat()'s lookup: the target (bytes) of the link p names
    below dirfd, or -errno (EINVAL: no symlink)."""
    if not p:
        return _readlink_empty(task, dirfd)
    found = _pseudo_lookup(task, dirfd, p, follow=False)
    if isinstance(found, HostTarget):
        dir_fd, hpath = host_target(task, found, follow=False)
        return os.readlink(hpath, dir_fd=dir_fd)
    if found is not None:
        return _pseudo_readlink(task, found) if found.kind == "link" else -errno.EINVAL
    dir_fd, hpath = host_path(task, dirfd, p, follow=False)
    return os.readlink(hpath, dir_fd=dir_fd)


def _pseudo_readlink(task, entry):
    """proc_pid_readlink() (or a /sys link's target): bytes or -errno."""
    if entry.owner is not None:         # as following it
        from kernel.ptrace_access import proc_fd_access_allowed
        if not proc_fd_access_allowed(task, entry.owner):
            return -errno.EACCES
    try:
        return os.fsencode(entry.target())
    except PseudoError as e:
        return e.err


def _readlink_empty(task, dirfd):
    """readlinkat(dirfd, "") — user_path_at_empty() with LOOKUP_EMPTY, as
    4.14's do_readlinkat() asks: the link dirfd itself names (one opened
    O_PATH|O_NOFOLLOW), bytes; -ENOENT when it is no symlink (the working
    directory, any other file); -EBADF for a bad dirfd."""
    if s32(dirfd) == AT_FDCWD:
        return -errno.ENOENT
    file = _fget_raw(task, dirfd)
    if file is None:
        return -errno.EBADF
    if file.pseudo is not None:
        entry = file.pseudo.entry
        return _pseudo_readlink(task, entry) if entry.kind == "link" else -errno.ENOENT
    if file.host_fd is None:
        return -errno.ENOENT
    return os.readlink(b"", dir_fd=file.host_fd)     # ENOENT unless a symlink


@syscall("getcwd", "cwd u")
def sys_getcwd(task, buf, size):
    cwd = rooted_cwd(task)
    if cwd is None:
        return -errno.ENOENT            # a deleted working directory (d_unlinked())
    cwd = os.fsencode(cwd) + b"\0"
    if size < len(cwd):
        return -errno.ERANGE
    task.uaccess.copy_to_user(buf, cwd)
    return len(cwd)


@syscall("chdir", "path")
@path_call
def sys_chdir(task, path):
    p = user_path(task, path)
    found = _pseudo_lookup(task, AT_FDCWD, p)
    if found is not None and not isinstance(found, HostTarget):
        return _pseudo_chdir(task, found)
    if isinstance(found, HostTarget):
        (dir_fd, hpath), guest = host_target(task, found), found.guest_name
    else:
        dir_fd, hpath = host_path(task, AT_FDCWD, p)
        guest = guest_absolute(task, AT_FDCWD, p)
        err = may_chdir(task, dir_fd, hpath)
        if err:
            return err
    fd = os.open(hpath, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dir_fd)
    if task_root(task) is not None:
        guest = rooted_name(task, fd)       # where it is below the root (kernel/fs/jail.py)
    else:
        guest = host_d_path(task, fd, guest)    # symlinks resolved, as d_path() names it
    task.fs.chdir(fd, guest)
    return 0


def _pseudo_chdir(task, entry):
    """chdir() into /proc or /sys: the working directory is the entry's
    resolved name (/proc/self becomes /proc/PID, as d_path() shows it);
    relative names under it are resolved by kernel/fs/proc.py, so the
    host descriptor kept for it is only a placeholder."""
    if entry.kind != "dir":
        return -errno.ENOTDIR
    task.fs.chdir(os.open("/", os.O_PATH | os.O_CLOEXEC), entry.path)
    return 0


@syscall("fchdir", "fd")
def sys_fchdir(task, fd):
    file = _fget_raw(task, fd)
    if file is None:
        return -errno.EBADF
    if not file.is_dir:
        return -errno.ENOTDIR
    if file.pseudo is not None:
        return _pseudo_chdir(task, file.pseudo.entry)
    err = may_fchdir(task, file.host_fd)
    if err:
        return err
    fd = os.dup(file.host_fd)
    task.fs.chdir(fd, host_d_path(task, fd, file.path) if task_root(task) is None else file.path)
    return 0


@syscall("umask", "mode")
def sys_umask(task, mask):
    old = task.fs.umask
    task.fs.umask = mask & 0o777
    return old


# -- descriptors ----------------------------------------------------------------------------

@syscall("dup", "fd")
def sys_dup(task, fd):
    file = _fget_raw(task, fd)
    if file is None:
        return -errno.EBADF
    newfd = task.files.alloc_fd(file.get())
    if newfd < 0:
        file.put()
    return newfd


@syscall("dup3", "fd fd fdflags")
def sys_dup3(task, oldfd, newfd, flags):
    oldfd, newfd = s32(oldfd), s32(newfd)
    if flags & ~O_CLOEXEC or oldfd == newfd:
        return -errno.EINVAL
    file = task.files.get(oldfd)
    if file is None:
        return -errno.EBADF
    if newfd < 0 or newfd >= task.files.max_fds:
        return -errno.EBADF
    task.files.install(newfd, file.get(), cloexec=bool(flags & O_CLOEXEC))
    return newfd


@syscall("ftruncate", "fd u")
def sys_ftruncate(task, fd, length):
    """do_sys_ftruncate(): EINVAL for a negative length (before the
    descriptor), EBADF, EINVAL unless a regular file open for writing — an
    anon inode (eventfd, epoll...) or a socket is not one.  A /proc file is:
    proc_setattr() accepts the size and changes nothing."""
    if length >> 63:
        return -errno.EINVAL
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    if not file.writable or not stat.S_ISREG(file.mode):
        return -errno.EINVAL
    if file.host_fd is None:
        return 0
    if file.mapping is not None:
        # kernel/mm/memfd.py: F_SEAL_SHRINK/GROW of a memfd (imported when a mapped file is cut)
        from kernel.mm.memfd import shmem_setattr_check
        err = shmem_setattr_check(file, length)
        if err:
            return err
    if length > os.fstat(file.host_fd).st_size:
        err = inode_newsize_ok(task, length)
        if err:
            return err
    try:
        os.ftruncate(file.host_fd, length)
    except OSError as e:
        return _err(e)
    if file.mapping is not None:
        file.mapping.truncate(length)
    return 0


def file_has_fsync(file):
    """Has the file an f_op->fsync?  vfs_fsync_range() is -EINVAL without
    one.  4.14's regular files and directories (ext4, tmpfs, memfd) and
    block devices have it; pipes and FIFOs (pipefifo_fops), sockets, the
    board's character devices (null_fops, tty_fops, ...), anon inodes
    (eventfd, epoll, timerfd, ...) and procfs (proc_reg_file_ops, its
    directories) have not; a sysfs attribute has (kernfs noop_fsync), a
    sysfs directory not."""
    if file.pseudo is not None:
        entry = file.pseudo.entry
        return entry.path.startswith("/sys") and entry.kind != "dir"
    if file.body is not None:           # a synthetic procfs file
        return False
    mode = file.mode
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISBLK(mode)


@syscall("fsync", "fd")
def sys_fsync(task, fd):
    """do_fsync(): EBADF (O_PATH too), EINVAL without f_op->fsync, else the
    board's dirty page cache of the file written back to the host."""
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    if not file_has_fsync(file):
        return -errno.EINVAL
    if file.mapping is not None:
        file.mapping.writeback()
    return 0


@syscall("fdatasync", "fd")
def sys_fdatasync(task, fd):
    return sys_fsync(task, fd)
