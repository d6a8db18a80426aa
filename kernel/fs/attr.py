"""fs/open.c (chmod_common, chown_common) + fs/attr.c (setattr_prepare):
fchmod, fchmodat, fchown, fchownat — and the guest's view of owners.

The guest kernel first applies Linux's rules with the guest's credentials
(kernel/cred.py): chown needs CAP_CHOWN unless the caller owns the file,
keeps the owner and gives it a group it belongs to; chmod needs the
caller to own the file or CAP_FOWNER, and drops S_ISGID when the file's
group is not the caller's and it lacks CAP_FSETID; chown of a non-directory
clears S_ISUID, and S_ISGID when group-execute is set.  Then the host is
asked.  When the host refuses what the guest may do (a guest root on a
non-root host: EPERM), the change is recorded in the kernel's attribute
overlay instead, keyed by the host inode, and stat/newfstatat/statx show
it — so `chown root:root` in a guest root succeeds without host rights.
Guest credentials never widen what the host process may do: files stay
owned by whoever the host says; only the guest's view changes.

The overlay belongs to one Kernel (one board); it is lost at exit, and an
entry goes when the guest removes the inode's last name (unlink, rmdir,
rename over it) or makes a new file that got the number (open, mkdir,
mknod, symlink, bind: fs/permission.py) — only a file deleted and another
made by the host's own processes can inherit a stale entry (Linux has no
such overlay to go stale).
"""

import errno
import os
import stat

from kernel.cred import CAP_CHOWN, CAP_FOWNER, CAP_FSETID, INVALID_ID, capable, in_group_p
from kernel.fs.namei import PathError, guest_absolute, host_path, path_call, user_path
from kernel.syscalls.table import syscall
from kernel.uapi import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_PATH
from kernel.uaccess import s32

S_IALLUGO = 0o7777


class GuestStat:
    """An os.stat_result with the overlay's owner and mode in place."""

    def __init__(self, st, attrs):
        self._st = st
        self.st_uid = attrs.get("uid", st.st_uid)
        self.st_gid = attrs.get("gid", st.st_gid)
        mode = attrs.get("mode")
        self.st_mode = st.st_mode if mode is None else stat.S_IFMT(st.st_mode) | mode

    def __getattr__(self, name):
        return getattr(self._st, name)


def guest_stat(kernel, st):
    """The stat the guest sees: the host's, with what the overlay records."""
    attrs = kernel.attr_overlay.get((st.st_dev, st.st_ino))
    return st if not attrs else GuestStat(st, attrs)


def forget_inode(kernel, st):
    """A file was just created: an inode number the host reuses must not
    inherit the owner or mode the overlay kept for a deleted file."""
    kernel.attr_overlay.pop((st.st_dev, st.st_ino), None)


def forget_inode_at_last_close(kernel, st):
    """The last link of st's inode went (unlink, rmdir, a rename over it).
    Linux keeps the inode, owner and mode included, while a file or a
    mapping still holds it (iput_final() runs at the last reference): the
    overlay entry goes now if no board file has the inode open, else when
    the last of them is put (orphan_file_put()).  Files parked in an
    SCM_RIGHTS message in flight are not counted."""
    from kernel.fs.leases import board_files
    key = (st.st_dev, st.st_ino)
    if key not in kernel.attr_overlay:
        return
    if board_files(kernel, key):
        kernel.__dict__.setdefault("orphan_inodes", set()).add(key)
    else:
        forget_inode(kernel, st)


def orphan_file_put(file):
    """The last reference to a File goes while some unlinked inodes are
    still open: if it held the last one of its inode, the overlay forgets it."""
    from kernel.fs.leases import board_files
    from kernel.fs.locks import locks_inode_key
    kernel = file.kernel
    key = locks_inode_key(file)
    if key in kernel.orphan_inodes and not [
            f for f in board_files(kernel, key) if f is not file]:
        kernel.orphan_inodes.discard(key)
        kernel.attr_overlay.pop(key, None)


def _record(kernel, st, **changes):
    """Remember what the host refused; what the host did clears old entries."""
    key = (st.st_dev, st.st_ino)
    attrs = kernel.attr_overlay.setdefault(key, {})
    attrs.update(changes)


def record_owner(kernel, st, uid, gid):
    """The owner the guest sees for a file it just made (fs/permission.py
    inode_init_owner())."""
    _record(kernel, st, uid=uid, gid=gid)


def _forget(kernel, st, *names):
    attrs = kernel.attr_overlay.get((st.st_dev, st.st_ino))
    if attrs:
        for name in names:
            attrs.pop(name, None)
        if not attrs:
            del kernel.attr_overlay[(st.st_dev, st.st_ino)]


class Target:
    """The inode a call names: how to stat it and change it on the host."""

    def __init__(self, fd=None, dir_fd=None, path=None, follow=True):
        self.fd, self.dir_fd, self.path, self.follow = fd, dir_fd, path, follow

    def stat(self):
        if self.fd is not None:
            return os.fstat(self.fd)
        return os.stat(self.path, dir_fd=self.dir_fd, follow_symlinks=self.follow)

    def chmod(self, mode):
        if self.fd is not None:
            os.fchmod(self.fd, mode)
        else:
            os.chmod(self.path, mode, dir_fd=self.dir_fd, follow_symlinks=self.follow)

    def chown(self, uid, gid):
        if self.fd is not None:
            os.fchown(self.fd, uid, gid)
        else:
            os.chown(self.path, uid, gid, dir_fd=self.dir_fd, follow_symlinks=self.follow)


def inode_owner_or_capable(task, owner):
    """inode_owner_or_capable(): the fsuid owns it, or CAP_FOWNER."""
    return task.cred.fsuid == owner or capable(task, CAP_FOWNER)


def chmod_common(task, target, mode):
    """chmod_common() + setattr_prepare()'s ATTR_MODE rules."""
    kernel = task.kernel
    host = target.stat()
    st = guest_stat(kernel, host)
    if not inode_owner_or_capable(task, st.st_uid):
        return -errno.EPERM
    mode &= S_IALLUGO
    if not in_group_p(task.cred, st.st_gid) and not capable(task, CAP_FSETID):
        mode &= ~stat.S_ISGID
    try:
        target.chmod(mode)
    except PermissionError:
        _record(kernel, host, mode=mode)
        return 0
    _forget(kernel, host, "mode")
    return 0


def chown_ok(task, st, uid):
    """chown_ok(): keep the owner you are, or CAP_CHOWN."""
    return (task.cred.fsuid == st.st_uid and uid == st.st_uid) or capable(task, CAP_CHOWN)


def chgrp_ok(task, st, gid):
    """chgrp_ok(): the owner may give a group it is in (or keep the group),
    or CAP_CHOWN."""
    return (task.cred.fsuid == st.st_uid and (in_group_p(task.cred, gid) or gid == st.st_gid)) \
        or capable(task, CAP_CHOWN)


def chown_common(task, target, user, group):
    """chown_common() + notify_change(): EPERM by chown_ok/chgrp_ok; a
    non-directory loses S_ISUID, and S_ISGID if group-executable."""
    kernel = task.kernel
    user, group = user & 0xFFFFFFFF, group & 0xFFFFFFFF
    host = target.stat()
    st = guest_stat(kernel, host)
    if user != INVALID_ID and not chown_ok(task, st, user):
        return -errno.EPERM
    if group != INVALID_ID and not chgrp_ok(task, st, group):
        return -errno.EPERM
    host_uid = -1 if user == INVALID_ID else user
    host_gid = -1 if group == INVALID_ID else group
    mode = stat.S_IMODE(st.st_mode)
    new_mode = mode
    if not stat.S_ISDIR(st.st_mode):
        new_mode &= ~stat.S_ISUID
        if mode & (stat.S_ISGID | stat.S_IXGRP) == stat.S_ISGID | stat.S_IXGRP:
            new_mode &= ~stat.S_ISGID
    try:
        target.chown(host_uid, host_gid)
    except PermissionError:
        changes = {}
        if user != INVALID_ID:
            changes["uid"] = user
        if group != INVALID_ID:
            changes["gid"] = group
        if new_mode != mode:
            changes["mode"] = new_mode
        _record(kernel, host, **changes)
        return 0
    _forget(kernel, host, *(["uid"] if user != INVALID_ID else []) +
            (["gid"] if group != INVALID_ID else []))
    if new_mode != mode and "mode" in kernel.attr_overlay.get((host.st_dev, host.st_ino), {}):
        _record(kernel, host, mode=new_mode)
    return 0


def _fd_target(task, fd):
    """fdget(): the file of fd (not O_PATH), as a Target; EBADF otherwise."""
    file = task.files.get(s32(fd))
    if file is None or file.flags & O_PATH:
        raise PathError(-errno.EBADF)
    if file.host_fd is None:
        raise PathError(-errno.EPERM)       # /proc bodies: no attributes to change
    return Target(fd=file.host_fd)


def _path_target(task, dirfd, path_addr, follow, empty_path=False):
    """user_path_at(): the inode (dirfd, path) names."""
    path = user_path(task, path_addr)
    if not path and empty_path:
        if s32(dirfd) == AT_FDCWD:
            return Target(fd=task.fs.cwd_fd)
        return _fd_target(task, dirfd)
    proc = _proc_target(task, dirfd, path, follow)
    if proc is not None:
        return proc
    dir_fd, hpath = host_path(task, dirfd, path, follow)
    return Target(dir_fd=dir_fd, path=hpath, follow=follow)


def _proc_target(task, dirfd, path, follow):
    """/proc is the guest's, never the host's: /proc/self/fd/N (and
    /proc/<our pid>/fd/N) is the magic link to our descriptor N's file
    (musl's fchmod/fchown of an O_PATH descriptor goes this way); any other
    /proc name has no attributes to change (procfs: EPERM).  None when the
    path is not under /proc."""
    name = guest_absolute(task, dirfd, path)
    parts = name.split("/")
    if len(parts) < 2 or parts[1] != "proc" or task.kernel.sysroot is not None and \
            os.path.lexists(task.kernel.sysroot + os.fsencode(name)):
        return None
    if len(parts) == 5 and parts[2] in ("self", str(task.tgid)) and parts[3] == "fd" \
            and parts[4].isdigit() and follow:
        file = task.files.get(int(parts[4]))
        if file is None:
            raise PathError(-errno.ENOENT)
        if file.host_fd is None:
            raise PathError(-errno.EPERM)
        # The host descriptor may be O_PATH (no fchmod): go through the
        # host's own magic link to it, as the guest went through ours.
        return Target(path="/proc/self/fd/%d" % file.host_fd)
    raise PathError(-errno.EPERM)


@syscall("fchmod", "fd mode")
@path_call
def sys_fchmod(task, fd, mode):
    return chmod_common(task, _fd_target(task, fd), mode)


@syscall("fchmodat", "dirfd path mode")
@path_call
def sys_fchmodat(task, dirfd, path, mode):
    """fchmodat(): 4.14's takes no flags (a C library's AT_SYMLINK_NOFOLLOW
    is its own business)."""
    return chmod_common(task, _path_target(task, dirfd, path, True), mode)


@syscall("fchown", "fd uid uid")
@path_call
def sys_fchown(task, fd, user, group):
    return chown_common(task, _fd_target(task, fd), user, group)


@syscall("fchownat", "dirfd path uid uid atflags")
@path_call
def sys_fchownat(task, dirfd, path, user, group, flag):
    if flag & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    target = _path_target(task, dirfd, path, not flag & AT_SYMLINK_NOFOLLOW,
                          empty_path=bool(flag & AT_EMPTY_PATH))
    return chown_common(task, target, user, group)
