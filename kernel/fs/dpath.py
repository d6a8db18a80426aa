"""fs/d_path.c's marks on a name that no longer leads to its file.

d_path() of a dentry that has been unlinked (d_unlinked(): unhashed, not
the root) ends in " (deleted)"; /proc/PID/fd/N, /proc/PID/cwd and the like
show it.  An O_TMPFILE file never had a name: its dentry is "#<ino>" in
the directory it was made in (d_tmpfile()), unlinked from the start.
"""

import os
import stat

from kernel.uapi import O_TMPFILE

DELETED_SUFFIX = " (deleted)"


def d_unlinked(file):
    """Is the host file behind file unlinked (a regular file or directory
    whose link count is 0)?  Other kinds (pipes, sockets, devices) keep
    their names."""
    if file.host_fd is None:
        return False
    try:
        st = os.fstat(file.host_fd)
    except OSError:
        return False
    return (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)) and st.st_nlink == 0


def d_path_deleted(file, name):
    """d_path()'s name for an open file whose name (the board's) is name:
    with " (deleted)" when the file is unlinked, "#<ino>" under the
    directory for an O_TMPFILE file."""
    if not d_unlinked(file):
        return name
    if file.flags & O_TMPFILE == O_TMPFILE:
        name = name.rstrip("/") + "/#%d" % os.fstat(file.host_fd).st_ino
    return name + DELETED_SUFFIX
