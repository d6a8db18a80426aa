"""fs/pipe.c: pipes, and sleeping on descriptors the host kernel serves.

A pipe's buffer is a host pipe (the host kernel keeps the 64 KiB ring,
PIPE_BUF atomicity, EOF when the last writer closes, EPIPE when the last
reader has), always non-blocking on the host side: a guest read of an
empty pipe, or a write to a full one, must put only that task to sleep,
not the whole board.  So pipe_read()/pipe_write() try the host call, and
when it would block raise WouldBlock on the descriptor's readiness; the
scheduler polls the host descriptors of sleeping tasks.  Descriptors the
guest inherited from the host (a terminal, a pipe of the shell that runs
a53emu) are polled before reading for the same reason; they are never
switched to non-blocking, which would change them for the host's
processes too.
"""

import errno
import fcntl
import os
import select
import stat
import struct

from emu.arch import PAGE_SIZE
from kernel.fs.file import File
from kernel.sched.wait import WouldBlock
from kernel.signal import signal_pending
from kernel.syscalls.table import syscall
from kernel.uapi import O_CLOEXEC, O_DIRECT, O_NONBLOCK, O_RDONLY, O_WRONLY


HOST_READ_MAX = 1 << 20         # /proc/sys/fs/pipe-max-size's default
PIPE_DEF_BUFFERS = 16           # include/linux/pipe_fs_i.h: a new pipe's pages


def _nonblocking(file):
    return file.flags & O_NONBLOCK


def _write_end(file, done, end):
    """Where one host write stops.  A guest non-blocking write to a host
    descriptor that blocks on the host (one a53emu inherited: its O_NONBLOCK
    is the guest's only) writes PIPE_BUF at a time, what the POLLOUT just
    seen promises, so the host write returns without waiting."""
    if file.owned_nonblock or not _nonblocking(file):
        return end
    return min(end, done + select.PIPE_BUF)     # the host's POLLOUT promise


def may_block(file):
    """Is file one whose reads and writes can wait (not a regular file)?"""
    return file.host_fd is not None and not stat.S_ISREG(file.mode) \
        and not stat.S_ISDIR(file.mode)


def _ready(fd, events):
    p = select.poll()
    p.register(fd, events)
    return bool(p.poll(0))


def wait_read(task, file, count, block=True):
    """pipe_read() and friends: up to count bytes, b"" at EOF, -EAGAIN for
    an empty non-blocking descriptor; sleeps (WouldBlock) otherwise."""
    fd = file.host_fd
    # A pipe or terminal never has more than this ready; asking the host for
    # more would only allocate it (a short read is the answer anyway).
    count = min(count, HOST_READ_MAX)
    if not file.owned_nonblock and not _ready(fd, select.POLLIN | select.POLLHUP):
        data = None
    else:
        try:
            data = os.read(fd, count)
        except BlockingIOError:
            data = None
    if data is not None:
        if data and file.kernel.__dict__.get("fasync_lists") and stat.S_ISFIFO(file.mode):
            from kernel.fs.fcntl import POLL_OUT, kill_fasync_file
            kill_fasync_file(file, POLL_OUT, readers=False)    # pipe_read(): room again
        return data
    if _nonblocking(file) or not block:
        return -errno.EAGAIN
    raise WouldBlock(fds=((fd, select.POLLIN | select.POLLHUP | select.POLLERR),),
                     external=not file.owned_nonblock)


def wait_write(task, file, data):
    """pipe_write(): all of data for a blocking descriptor (sleeping while
    the pipe is full; a signal then ends it with the bytes written so far,
    or -ERESTARTSYS if none), as much as fits for a non-blocking one.
    Writes of at most PIPE_BUF bytes are atomic (the host guarantees it)."""
    fd = file.host_fd
    state = task.restart if task.restart is not None and "written" in task.restart else None
    done = state["written"] if state is not None else 0
    while done < len(data):
        if not file.owned_nonblock and not _ready(fd, select.POLLOUT):
            n = None
        else:
            try:
                n = os.write(fd, data[done:_write_end(file, done, len(data))])
            except BlockingIOError:
                n = None
            except BrokenPipeError:
                task.kernel.send_sigpipe(task)
                return done or -errno.EPIPE
        if n is None:
            if _nonblocking(file):
                return done or -errno.EAGAIN
            if done and signal_pending(task):
                return done
            task.restart = {"written": done}
            raise WouldBlock(fds=((fd, select.POLLOUT | select.POLLERR),),
                             external=not file.owned_nonblock)
        done += n
        if n and file.kernel.__dict__.get("fasync_lists") and stat.S_ISFIFO(file.mode):
            from kernel.fs.fcntl import POLL_IN, kill_fasync_file
            kill_fasync_file(file, POLL_IN, readers=True)      # pipe_write(): data to read
    return done


@syscall("pipe2", "fdpair fdflags")
def sys_pipe2(task, fds, flags):
    """do_pipe2(): a read end and a write end, O_CLOEXEC/O_NONBLOCK as asked.
    O_DIRECT makes a packet pipe (is_packetized(): every write a packet, a
    read returns at most one): the host pipe is made one, its kernel keeps
    the packets (PIPE_BUF_FLAG_PACKET); as create_pipe_files(), only the
    write end shows O_DIRECT in its flags."""
    if flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT):
        return -errno.EINVAL
    from kernel.sysctl import alloc_pipe_info
    acct = alloc_pipe_info(task)
    if isinstance(acct, int):
        return acct                     # over fs.pipe-user-pages-hard: ENFILE
    acct, pages = acct
    r, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK | (os.O_DIRECT if flags & O_DIRECT else 0))
    if pages != PIPE_DEF_BUFFERS:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, pages * PAGE_SIZE)     # the soft limit's one page
    name = "pipe:[%d]" % os.fstat(r).st_ino
    rf = File(task.kernel, r, name, O_RDONLY | (flags & O_NONBLOCK))
    wf = File(task.kernel, w, name, O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT)))
    rf.pipe_bufs = wf.pipe_bufs = acct
    rf.owned_nonblock = wf.owned_nonblock = True
    cloexec = bool(flags & O_CLOEXEC)
    rfd = task.files.alloc_fd(rf, cloexec=cloexec)
    wfd = task.files.alloc_fd(wf, cloexec=cloexec) if rfd >= 0 else -errno.EMFILE
    if rfd < 0 or wfd < 0:
        task.files.close(rfd) if rfd >= 0 else rf.put()
        task.files.close(wfd) if wfd >= 0 else wf.put()
        return -errno.EMFILE
    try:
        task.uaccess.copy_to_user(fds, struct.pack("<ii", rfd, wfd))
    except Exception:
        task.files.close(rfd)
        task.files.close(wfd)
        raise
    return 0
