"""fs/sync.c: sync(), syncfs(), sync_file_range().

Writing back is first the board's page cache (pages dirtied through shared
mappings, kernel/mm/filemap.py) into the host files, then the host's own
sync of them, so the data is where the host's kernel keeps it.
"""

import errno
import os
import stat

from emu.arch import PAGE_SHIFT
from kernel.fs import hostcall
from kernel.fs.open import LOFF_T_MAX, fdget, s64
from kernel.syscalls.table import syscall

# include/uapi/linux/fs.h
SYNC_FILE_RANGE_WAIT_BEFORE = 1
SYNC_FILE_RANGE_WRITE = 2
SYNC_FILE_RANGE_WAIT_AFTER = 4
SYNC_FILE_RANGE_VALID = (SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE
                         | SYNC_FILE_RANGE_WAIT_AFTER)


def _writeback_all(kernel):
    """wakeup_flusher_threads() + sync_inodes: every dirty cached page."""
    for mapping in list(kernel.page_cache.values()):
        mapping.writeback()


@syscall("sync")
def sys_sync(task):
    """sys_sync(): write back every dirty page, then the host's sync()."""
    _writeback_all(task.kernel)
    os.sync()
    return 0


@syscall("syncfs", "fd")
def sys_syncfs(task, fd):
    """syncfs(): EBADF, else the board's dirty pages and the host's syncfs()
    of the file system holding fd (any descriptor kind: a pipe's is pipefs)."""
    file = fdget(task, fd)
    if file is None:
        return -errno.EBADF
    _writeback_all(task.kernel)
    if file.host_fd is not None:
        try:
            hostcall.syncfs(file.host_fd)
        except OSError as e:
            return -(e.errno or errno.EIO)
    return 0


@syscall("sync_file_range", "fd d d syncrange")
def sys_sync_file_range(task, fd, offset, nbytes, flags):
    """sync_file_range(): EINVAL for unknown flags, a negative offset or
    end, or a range that wraps — before the descriptor (EBADF); ESPIPE for
    anything but a regular file, block device, directory or symlink.
    nbytes 0 means to the end of the file."""
    flags &= 0xFFFFFFFF
    offset, nbytes = s64(offset), s64(nbytes)
    if flags & ~SYNC_FILE_RANGE_VALID:
        return -errno.EINVAL
    endbyte = offset + nbytes
    if offset < 0 or endbyte < 0 or endbyte > LOFF_T_MAX or endbyte < offset:
        return -errno.EINVAL
    endbyte = LOFF_T_MAX if nbytes == 0 else endbyte - 1
    file = fdget(task, fd)
    if file is None:
        return -errno.EBADF
    mode = file.mode
    if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode) or stat.S_ISDIR(mode)
            or stat.S_ISLNK(mode)):
        return -errno.ESPIPE
    if file.mapping is not None and flags & SYNC_FILE_RANGE_WRITE:
        file.mapping.writeback(offset >> PAGE_SHIFT, endbyte >> PAGE_SHIFT)
    if file.host_fd is not None and flags:
        try:
            hostcall.sync_file_range(file.host_fd, offset, nbytes, flags)
        except OSError as e:
            return -(e.errno or errno.EIO)
    return 0
