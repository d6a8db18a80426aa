"""fs/open.c: truncate(), fallocate(), and the open flags' checks.

The data lives in host files, so the host kernel truncates and allocates;
what is ours is Linux's order of checks (which errno a bad call gets) and
the page cache (kernel/mm/filemap.py), whose cached pages must follow the
file: a truncate drops the pages past the end, a hole punched, a range
zeroed or collapsed changes what the pages hold.

O_PATH descriptors (fdget() versus fdget_raw()): Linux's fdget() does not
return an O_PATH file (FMODE_PATH), so most calls answer EBADF for one;
fstat, fstatfs, fchdir, fcntl's descriptor commands, close, dup and the
*at() directory argument use fdget_raw() and accept it.
"""

import errno
import os
import stat

from emu.arch import PAGE_SHIFT, PAGE_SIZE
from kernel.fs import hostcall
# fdget(), fdget_raw(), can_pread(): kernel/fs/file.py (read() and ioctl() use
# them without this module's path walk: issue 8, start-up); importers of them
# from here keep working.
from kernel.fs.file import can_pread, fdget, fdget_raw  # noqa: F401
from kernel.fs.namei import host_path, path_call, user_path
from kernel.fs.permission import may_truncate
from kernel.syscalls.table import syscall
from kernel.uapi import (
    AT_FDCWD, O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_RDONLY, O_TMPFILE,
)
from kernel.uaccess import s32

# include/uapi/asm-generic/fcntl.h: O_TMPFILE is __O_TMPFILE | O_DIRECTORY.
__O_TMPFILE = O_TMPFILE & ~O_DIRECTORY
O_TMPFILE_MASK = __O_TMPFILE | O_DIRECTORY | O_CREAT

# include/uapi/linux/falloc.h
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_NO_HIDE_STALE = 0x04
FALLOC_FL_COLLAPSE_RANGE = 0x08
FALLOC_FL_ZERO_RANGE = 0x10
FALLOC_FL_INSERT_RANGE = 0x20
FALLOC_FL_UNSHARE_RANGE = 0x40
# include/linux/falloc.h: what 4.14's vfs_fallocate() lets through (NO_HIDE_STALE is not).
FALLOC_FL_SUPPORTED_MASK = (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE
                            | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE
                            | FALLOC_FL_UNSHARE_RANGE)

LOFF_T_MAX = (1 << 63) - 1


def s64(value):
    """A loff_t argument register, signed."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def build_open_flags(flags):
    """build_open_flags(): (flags to keep, 0) or (None, -EINVAL).

    O_TMPFILE needs O_DIRECTORY with it and not O_CREAT, and a writable
    access mode; O_PATH keeps only O_DIRECTORY, O_NOFOLLOW (and O_CLOEXEC,
    which the caller has taken already): everything else is ignored."""
    if flags & __O_TMPFILE:
        if flags & O_TMPFILE_MASK != O_TMPFILE:
            return None, -errno.EINVAL
        if flags & O_ACCMODE == O_RDONLY:
            return None, -errno.EINVAL
    elif flags & O_PATH:
        flags &= O_DIRECTORY | O_NOFOLLOW | O_PATH
    return flags, 0


def o_creat_directory(flags, dir_fd, hpath):
    """O_CREAT|O_DIRECTORY as 4.14's do_last() treats it: (flags, 0) to open
    with, or (None, -errno).  A missing name becomes a regular file (the open
    succeeds); an existing directory is EISDIR, an existing file ENOTDIR; with
    O_EXCL any existing name is EEXIST.  (v5.7 changed this by accident and
    v6.4, commit 43b450632676 "open: return EINVAL for O_DIRECTORY | O_CREAT",
    made the combination EINVAL; the host kernel may be either.)"""
    if flags & __O_TMPFILE or flags & (O_CREAT | O_DIRECTORY) != O_CREAT | O_DIRECTORY:
        return flags, 0
    flags &= ~O_DIRECTORY
    try:
        st = os.stat(hpath, dir_fd=dir_fd, follow_symlinks=not flags & (O_EXCL | O_NOFOLLOW))
    except FileNotFoundError:
        return flags, 0
    if flags & O_EXCL:
        return None, -errno.EEXIST
    return None, -(errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.ENOTDIR)


def inode_mapping(task, st):
    """The page cache of the inode st describes, if any file of it is cached."""
    return task.kernel.page_cache.get((st.st_dev, st.st_ino))


# -- truncate ---------------------------------------------------------------------------

def _truncate_pagecache(mapping, length):
    if mapping is not None:
        mapping.truncate(length)


@syscall("truncate", "path u")
@path_call
def sys_truncate(task, path_addr, length):
    """do_sys_truncate() + vfs_truncate(): a negative length is EINVAL before
    the path is looked at; a directory is EISDIR, anything not a regular
    file EINVAL; then write permission (EACCES) for the guest's cred
    (fs/permission.py), and the host's.

    The host file is opened for writing (non-blocking: the S_ISREG check
    comes first, so no FIFO is ever opened) and cut with ftruncate().
    A running program's file is ETXTBSY (get_write_access(),
    kernel/fs/denywrite.py)."""
    length = s64(length)
    if length < 0:
        return -errno.EINVAL
    dir_fd, hpath = host_path(task, AT_FDCWD, user_path(task, path_addr))
    err = may_truncate(task, dir_fd, hpath)
    if err:
        return err
    st = os.stat(hpath, dir_fd=dir_fd)
    if stat.S_ISDIR(st.st_mode):
        return -errno.EISDIR
    if not stat.S_ISREG(st.st_mode):
        return -errno.EINVAL
    from kernel.fs.denywrite import get_write_access
    err = get_write_access(task.kernel, st)
    if err:
        return err
    if getattr(task.kernel, "file_leases", None):
        from kernel.fs.leases import break_lease
        break_lease(task, (st.st_dev, st.st_ino), os.O_WRONLY)     # may sleep until it is over
    if length > st.st_size:
        # do_truncate() -> notify_change() -> setattr_prepare(): inode_newsize_ok()
        from kernel.sys import inode_newsize_ok
        err = inode_newsize_ok(task, length)
        if err:
            return err
    fd = os.open(hpath, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY, dir_fd=dir_fd)
    try:
        os.ftruncate(fd, length)
    finally:
        os.close(fd)
    _truncate_pagecache(inode_mapping(task, st), length)
    return 0


# -- fallocate --------------------------------------------------------------------------

def _fallocate_mode_error(mode):
    """vfs_fallocate()'s checks of the mode alone, in its order."""
    if mode & ~FALLOC_FL_SUPPORTED_MASK:
        return -errno.EOPNOTSUPP
    both = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE
    if mode & both == both:
        return -errno.EOPNOTSUPP
    if mode & FALLOC_FL_PUNCH_HOLE and not mode & FALLOC_FL_KEEP_SIZE:
        return -errno.EOPNOTSUPP
    if mode & FALLOC_FL_COLLAPSE_RANGE and mode & ~FALLOC_FL_COLLAPSE_RANGE:
        return -errno.EINVAL
    if mode & FALLOC_FL_INSERT_RANGE and mode & ~FALLOC_FL_INSERT_RANGE:
        return -errno.EINVAL
    if mode & FALLOC_FL_UNSHARE_RANGE and \
            mode & ~(FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE):
        return -errno.EINVAL
    return 0


def _refresh_pagecache(mapping, offset):
    """After the host moved or zeroed file data from offset on, cached pages
    there re-read the file (Linux's truncate_pagecache_range() drops them and
    the next fault reads them again; ours stay mapped and take the new bytes)
    and pages past a shrunken end go."""
    size = mapping.size()
    first = offset >> PAGE_SHIFT
    for pgoff, frame in mapping.pages.items():
        if pgoff >= first and pgoff << PAGE_SHIFT < size:
            data = os.pread(mapping.host_fd, PAGE_SIZE, pgoff << PAGE_SHIFT)
            mapping.kernel.memory.write(frame, data + bytes(PAGE_SIZE - len(data)))
    mapping.truncate(size)


@syscall("fallocate", "fd falloc d d")
def sys_fallocate(task, fd, mode, offset, length):
    """vfs_fallocate(): the argument checks of 4.14 in their order (offset
    and length, the mode's combinations, the descriptor's write access, the
    file type: ESPIPE for a FIFO, EISDIR, ENODEV for anything not a regular
    file, EFBIG past the largest offset), then the host's fallocate().

    A mode that moves or zeroes data first writes back dirty cached pages,
    then refreshes the cached pages from the file."""
    file = fdget(task, fd)
    if file is None:
        return -errno.EBADF
    mode = s32(mode)
    offset, length = s64(offset), s64(length)
    if offset < 0 or length <= 0:
        return -errno.EINVAL
    err = _fallocate_mode_error(mode)
    if err:
        return err
    if not file.writable:
        return -errno.EBADF
    if stat.S_ISFIFO(file.mode):
        return -errno.ESPIPE
    if stat.S_ISDIR(file.mode):
        return -errno.EISDIR
    if not stat.S_ISREG(file.mode) and not stat.S_ISBLK(file.mode):
        return -errno.ENODEV
    if offset + length > LOFF_T_MAX:
        return -errno.EFBIG
    mapping = file.mapping
    moves = mode & ~FALLOC_FL_KEEP_SIZE
    if mapping is not None and moves:
        mapping.writeback()
    try:
        hostcall.fallocate(file.host_fd, mode, offset, length)
    except OSError as e:
        return -(e.errno or errno.EIO)
    if mapping is not None and moves and mapping.pages:
        _refresh_pagecache(mapping, offset)
    return 0
