"""fs/open.c: chroot(2) — the calling task's fs_struct gets a new root.

The root is a host directory held by an O_PATH descriptor
(FsStruct.root_fd); from then on every path the task names is looked up
below it (kernel/fs/namei.py host_path() → kernel/fs/jail.py).  The
directory is itself looked up below the current root, so a chroot() inside
`--jail DIR` nests inside DIR, and nothing a chroot()ed task does reaches
above the --jail root.  Without --jail the first chroot() makes a root of
a host directory (reached through --sysroot as any path is).
"""

import errno
import os

from kernel.cred import capable
from kernel.fs.attr import guest_stat
from kernel.fs.namei import MAY_EXEC, PathError, guest_absolute, host_path, host_target, \
    path_call, user_path
from kernel.fs.permission import inode_permission
from kernel.fs.proc import HostTarget, PseudoError, is_pseudo_path, pseudo_resolve
from kernel.syscalls.table import syscall
from kernel.uapi import AT_FDCWD

# include/uapi/linux/capability.h
CAP_SYS_CHROOT = 18


def _lookup_dir(task, path):
    """user_path_at(AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY): an
    O_PATH descriptor of the directory; raises PathError/OSError.  /proc
    and /sys (the board's pseudo file systems) cannot become a root here:
    a directory of theirs is refused with EINVAL (omitted), a magic link
    to a host directory (/proc/self/cwd, /proc/self/root) is followed."""
    name = guest_absolute(task, AT_FDCWD, path)
    if is_pseudo_path(name):
        try:
            found = pseudo_resolve(task.kernel, task, name)
        except PseudoError as e:
            raise PathError(e.err)
        if not isinstance(found, HostTarget):
            raise PathError(-errno.ENOTDIR if found.kind != "dir" else -errno.EINVAL)
        dir_fd, hpath = host_target(task, found)
    else:
        dir_fd, hpath = host_path(task, AT_FDCWD, path)
    return os.open(hpath, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dir_fd)


@syscall("chroot", "path")
@path_call
def sys_chroot(task, path_addr):
    """SYSCALL_DEFINE1(chroot): the lookup (ENOENT, ENOTDIR, ELOOP, EACCES
    on the way), inode_permission(MAY_EXEC | MAY_CHDIR) on the directory
    (EACCES), then CAP_SYS_CHROOT (EPERM) — in that order, as 4.14 — and
    set_fs_root().  The working directory is not changed (it may stay
    outside the new root, as on Linux)."""
    path = user_path(task, path_addr)
    if not path:
        return -errno.ENOENT
    fd = _lookup_dir(task, path)
    try:
        err = inode_permission(task, guest_stat(task.kernel, os.fstat(fd)), MAY_EXEC)
        if err:
            return err
        if not capable(task, CAP_SYS_CHROOT):
            return -errno.EPERM
        root = os.dup(fd)
    finally:
        os.close(fd)
    task.fs.set_root(root)
    return 0
