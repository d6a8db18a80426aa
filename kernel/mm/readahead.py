"""mm/readahead.c: readahead().

The board's page cache reads ahead on every miss (READAHEAD_PAGES in
kernel/mm/filemap.py), so an explicit readahead has nothing left to do
but the checks: EBADF for a descriptor not open for reading, EINVAL for
one whose file has no page cache to fill (a pipe, a socket, a terminal,
a directory, a /proc file: in 4.14 their address_space operations have no
readpage).  Omits: tmpfs files, which 4.14 also refuses (shmem has no
readpage either), are the host's regular files here.
"""

import errno
import stat

from kernel.fs.open import fdget
from kernel.syscalls.table import syscall


@syscall("readahead", "fd d u")
def sys_readahead(task, fd, offset, count):
    """ksys_readahead() as in 4.14: EBADF, then EINVAL without readpage."""
    file = fdget(task, fd)
    if file is None or not file.readable:
        return -errno.EBADF
    if file.host_fd is None:
        return -errno.EINVAL        # procfs: no readpage
    if not stat.S_ISREG(file.mode) and not stat.S_ISBLK(file.mode):
        return -errno.EINVAL
    return 0
