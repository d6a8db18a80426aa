"""fs/file.c, fs/file_table.c: open files and the per-task descriptor table.

A File is Linux's struct file: an open instance with its own offset and
flags, shared by every descriptor dup()ed from it.  Behind it is either a
host file descriptor (regular files, directories, terminals, pipes, /dev
nodes: the host's kernel does the I/O) or a synthetic body (procfs files).
Regular files also have an inode-wide page cache (mm/filemap.py) so that
mappings of the file share frames.
"""

import errno
import os
import resource
import stat

from kernel.mm.filemap import filemap_get_mapping, filemap_put_mapping
from kernel.uaccess import s32
from kernel.uapi import O_ACCMODE, O_PATH, O_RDONLY, O_RDWR, O_WRONLY

NR_OPEN_DEFAULT = 1024      # RLIMIT_NOFILE soft limit


def raise_host_nofile():
    """Lift this process's soft RLIMIT_NOFILE to its hard limit: each guest
    open file is one host descriptor, and the guest's own RLIMIT_NOFILE
    (1024, raisable to 4096 per process) must be what stops it, not a host
    default that is often 1024 for the whole board."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class File:
    """struct file over a host descriptor (or a synthetic body)."""

    pseudo = None           # an open /proc or /sys entry (kernel/fs/proc.py PseudoOpen)
    f_read = None           # f_op->read of a special file (timerfd): (task, count, block)
    f_flush = None          # f_op->flush(files) of a special file (an mqueue), at every close

    def __init__(self, kernel, host_fd, path, flags, body=None, mode=None):
        self.kernel = kernel
        self.host_fd = host_fd
        self.path = path                # the name the guest opened, for maps and traces
        self.flags = flags
        self.body = body                # bytes for synthetic (procfs) files
        self.pos = 0                    # offset of synthetic files and directories
        self.dir_entries = None         # getdents64 snapshot
        self.refcount = 1
        self.mapping = None
        self.owned_nonblock = False     # a host fd of ours, always O_NONBLOCK on the host
        self.inherited = False          # a53emu's own stdin/stdout/stderr (kernel/main.py)
        acc = flags & O_ACCMODE
        self.readable = acc in (O_RDONLY, O_RDWR)
        self.writable = acc in (O_WRONLY, O_RDWR)
        self.f_ep_links = None          # epoll items watching this file (fs/eventpoll.c)
        if mode is not None:
            self.mode = mode            # a kind of its own (anon inodes, sockets)
        else:
            self.mode = os.fstat(host_fd).st_mode if host_fd is not None else stat.S_IFREG | 0o444
        # An O_PATH file (FMODE_PATH) has no page cache of its own: its host
        # descriptor cannot read, so it must not become the inode's mapping's.
        self.mmap_capable = stat.S_ISREG(self.mode) and body is None and not flags & O_PATH
        if self.mmap_capable:
            self.mapping = filemap_get_mapping(kernel, self)

    @property
    def is_dir(self):
        return stat.S_ISDIR(self.mode)

    def get(self):
        """get_file(): one more reference (a dup, a VMA)."""
        self.refcount += 1
        return self

    def put(self):
        """fput(): drop a reference; the last one closes the host descriptor."""
        self.refcount -= 1
        if self.refcount == 0:
            if getattr(self.kernel, "file_lock_ctx", None):
                from kernel.fs.locks import locks_remove_file
                locks_remove_file(self)     # __fput(): its OFD locks go
            if getattr(self.kernel, "file_leases", None):
                from kernel.fs.leases import locks_remove_lease
                locks_remove_lease(self)
            if getattr(self.kernel, "fasync_lists", None):
                from kernel.fs.fcntl import fput_fasync
                fput_fasync(self)
            if self.f_ep_links:
                from kernel.fs.eventpoll import eventpoll_release
                eventpoll_release(self)
            if getattr(self.kernel, "orphan_inodes", None) and self.host_fd is not None:
                from kernel.fs.attr import orphan_file_put
                orphan_file_put(self)          # an unlinked inode's owner lives until now
            if self.mapping is not None:
                filemap_put_mapping(self.kernel, self)
            if self.host_fd is not None:
                os.close(self.host_fd)

    def __repr__(self):
        return "<file %s>" % self.path


def filp_close(file, files):
    """filp_close(): a descriptor of files closes — every POSIX lock the
    files_struct holds on the file's inode goes, whichever descriptor took it,
    and its dnotify requests on the file (one attribute test each while the
    board has none)."""
    if getattr(file.kernel, "file_lock_ctx", None):
        from kernel.fs.locks import locks_remove_posix
        locks_remove_posix(file, files)
    if file.f_flush is not None:
        file.f_flush(files)
    if getattr(file.kernel, "dnotify", None):
        from kernel.fs.dnotify import dnotify_flush
        dnotify_flush(file, files)
    file.put()


class FdTable:
    """struct files_struct: descriptor number -> File, with close-on-exec bits."""

    def __init__(self):
        self.fds = {}
        self.cloexec = set()
        self.max_fds = NR_OPEN_DEFAULT
        self.users = 1                  # tasks sharing it (CLONE_FILES)

    def copy(self):
        """dup_fd(): a child's own table holding the same open files."""
        new = FdTable()
        new.max_fds = self.max_fds
        for fd, file in self.fds.items():
            new.fds[fd] = file.get()
        new.cloexec = set(self.cloexec)
        return new

    def put(self):
        """put_files_struct(): the last user closes every descriptor."""
        self.users -= 1
        if self.users == 0:
            self.close_all()

    def do_close_on_exec(self):
        """do_close_on_exec(): execve() closes the FD_CLOEXEC descriptors."""
        for fd in sorted(self.cloexec):
            self.close(fd)

    def get(self, fd):
        """fget(): the File of fd, or None."""
        return self.fds.get(fd)

    def get_unused_fd(self, start=0):
        """The fd alloc_fd() would hand out now, or -EMFILE (RLIMIT_NOFILE):
        open() reserves it before it creates anything, as Linux's
        get_unused_fd_flags() does."""
        fd = start
        while fd in self.fds:
            fd += 1
        return fd if fd < self.max_fds else -errno.EMFILE

    def alloc_fd(self, file, start=0, cloexec=False):
        """get_unused_fd_flags() + fd_install(): lowest free fd >= start, or -EMFILE."""
        fd = start
        while fd in self.fds:
            fd += 1
        if fd >= self.max_fds:
            return -errno.EMFILE
        self.fds[fd] = file
        if cloexec:
            self.cloexec.add(fd)
        return fd

    def install(self, fd, file, cloexec=False):
        """Put file at fd (dup3), closing what was there."""
        old = self.fds.get(fd)
        self.fds[fd] = file
        self.cloexec.discard(fd)
        if cloexec:
            self.cloexec.add(fd)
        if old is not None:
            filp_close(old, self)

    def close(self, fd):
        """close_fd(): 0 or -EBADF."""
        file = self.fds.pop(fd, None)
        if file is None:
            return -errno.EBADF
        self.cloexec.discard(fd)
        filp_close(file, self)
        return 0

    def close_all(self):
        for fd in sorted(self.fds):
            self.close(fd)


# include/linux/file.h fdget(), fs/file.c __fget_light() (moved from
# kernel/fs/open.py, which still exports them).

def fdget(task, fd):
    """fdget(): the File of fd, or None — also for an O_PATH descriptor."""
    file = task.files.get(s32(fd))
    if file is None or file.flags & O_PATH:
        return None
    return file


def fdget_raw(task, fd):
    """fdget_raw(): the File of fd, O_PATH descriptors included."""
    return task.files.get(s32(fd))


def can_pread(file):
    """FMODE_PREAD: every file but a pipe, a socket or a terminal (the
    stream files Linux opens with nonseekable_open())."""
    if file.host_fd is None:
        return file.body is not None    # /proc files are; anon inodes (epoll...) are not
    mode = file.mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return False
    return not (stat.S_ISCHR(mode) and os.isatty(file.host_fd))
