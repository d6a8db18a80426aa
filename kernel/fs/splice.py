"""fs/splice.c: splice(), tee(), vmsplice() as 4.14 has them.

Guest pipes are host pipes (kernel/fs/pipe.py), so moving buffers between
two pipes — splice() pipe to pipe, and tee(), which duplicates them — is
the host's splice()/tee() itself, always asked with SPLICE_F_NONBLOCK: a
transfer that must wait puts the task to sleep on the pipe it waits for
(the input while it is empty, else the output while it is full), and is
tried again when woken.  Between a pipe and a file the bytes go through
read()/write()'s helpers, so the board's page cache sees them.

4.14 checks no flags (unknown SPLICE_F_* bits are ignored; later kernels
refuse them with EINVAL), and only SPLICE_F_NONBLOCK — not the descriptors'
O_NONBLOCK — makes a pipe wait return EAGAIN.

Omits: a transfer from a stream that is not a pipe (a terminal, a socket)
into a full pipe may lose what it read; SPLICE_F_MOVE/GIFT page stealing.
"""

import errno
import fcntl as host_fcntl
import os
import select
import stat
import struct
import termios

from kernel.fs import hostcall
from kernel.fs.open import fdget
from kernel.iov_iter import IovIter
from kernel.fs.read_write import (
    UIO_MAXIOV, _scatter, _writable_total, can_pread, file_pos, get_loff, import_iovec, put_loff,
    rw_verify_area, set_file_pos, stream_write_some,
)
from kernel.sched.wait import WouldBlock
from kernel.syscalls.read_write import _read_file, _write_file
from kernel.syscalls.table import syscall
from kernel.uapi import O_APPEND

# include/linux/splice.h
SPLICE_F_MOVE = 0x01
SPLICE_F_NONBLOCK = 0x02
SPLICE_F_MORE = 0x04
SPLICE_F_GIFT = 0x08
SPLICE_FROM_PIPE_MAX = 1 << 20      # no pipe holds more (pipe-max-size)
SPLICE_TO_PIPE_CHUNK = 1 << 16      # one default pipe's worth of pages


def get_pipe_info(file):
    """get_pipe_info(): is file a pipe or a FIFO (with a host pipe behind it)?"""
    return file.host_fd is not None and stat.S_ISFIFO(file.mode)


def _same_pipe(a, b):
    sa, sb = os.fstat(a.host_fd), os.fstat(b.host_fd)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _pipe_bytes(file):
    """FIONREAD: how many bytes the host pipe holds."""
    raw = host_fcntl.ioctl(file.host_fd, termios.FIONREAD, bytes(4))
    return struct.unpack("<i", raw)[0]


def _wait_pipes(fin, fout, flags):
    """The transfer between two pipes cannot move anything now: EAGAIN with
    SPLICE_F_NONBLOCK, else sleep on the empty input or the full output."""
    if flags & SPLICE_F_NONBLOCK:
        return -errno.EAGAIN
    if _pipe_bytes(fin) == 0:
        fds = ((fin.host_fd, select.POLLIN | select.POLLHUP | select.POLLERR),)
        external = not fin.owned_nonblock
    else:
        fds = ((fout.host_fd, select.POLLOUT | select.POLLERR),)
        external = not fout.owned_nonblock
    raise WouldBlock(fds=fds, external=external)


def _host_pipe_op(task, op, fin, fout, flags):
    """Run the host's splice/tee between two pipes without blocking."""
    try:
        return op()
    except BlockingIOError:
        return _wait_pipes(fin, fout, flags)
    except BrokenPipeError:
        task.kernel.send_sigpipe(task)
        return -errno.EPIPE
    except OSError as e:
        return -(e.errno or errno.EIO)


def pipe_read_some(task, file, count, flags):
    """splice_from_pipe_next() + read: bytes (b"" at EOF), -EAGAIN with
    SPLICE_F_NONBLOCK, else sleep until the pipe has data."""
    fd = file.host_fd
    ready = True
    if not file.owned_nonblock:
        p = select.poll()
        p.register(fd, select.POLLIN | select.POLLHUP)
        ready = bool(p.poll(0))
    if ready:
        try:
            return os.read(fd, count)
        except BlockingIOError:
            pass
        except OSError as e:
            return -(e.errno or errno.EIO)
    if flags & SPLICE_F_NONBLOCK:
        return -errno.EAGAIN
    raise WouldBlock(fds=((fd, select.POLLIN | select.POLLHUP | select.POLLERR),),
                     external=not file.owned_nonblock)


def _splice_from_pipe(task, fin, fout, off_out, length, flags):
    """do_splice()'s pipe-to-file case."""
    if off_out:
        if not can_pread(fout):
            return -errno.EINVAL
        offset = get_loff(task, off_out)
    else:
        offset = file_pos(fout) if can_pread(fout) else 0
    if fout.flags & O_APPEND:
        return -errno.EINVAL
    if rw_verify_area(offset, length):
        return -errno.EINVAL
    data = pipe_read_some(task, fin, min(length, SPLICE_FROM_PIPE_MAX), flags)
    if isinstance(data, int) or not data:
        return data or 0
    ret = _write_file(task, fout, data, offset if can_pread(fout) else None)
    if ret > 0 and can_pread(fout):
        if off_out:
            put_loff(task, off_out, offset + ret)
        else:
            set_file_pos(fout, offset + ret)
    return ret


def _splice_to_pipe(task, fin, off_in, fout, length, flags):
    """do_splice()'s file-to-pipe case: wait_for_space(), then as much as
    the pipe takes, from the file's offset."""
    if off_in:
        if not can_pread(fin):
            return -errno.EINVAL
        offset = get_loff(task, off_in)
    else:
        offset = file_pos(fin) if can_pread(fin) else None
    data = _read_file(task, fin, min(length, SPLICE_TO_PIPE_CHUNK), offset)
    if isinstance(data, int) or not data:
        return data or 0
    n = stream_write_some(task, fout, data)
    if n is None:
        if flags & SPLICE_F_NONBLOCK:
            return -errno.EAGAIN
        raise WouldBlock(fds=((fout.host_fd, select.POLLOUT | select.POLLERR),),
                         external=not fout.owned_nonblock)
    if n > 0 and offset is not None:
        if off_in:
            put_loff(task, off_in, offset + n)
        else:
            set_file_pos(fin, offset + n)
    return n


def fdget_in_out(task, fd_in, fd_out):
    """fd_in open for reading and fd_out for writing (FMODE_READ, then
    FMODE_WRITE, as splice and tee check them): (fin, fout), or (None,
    None) for EBADF."""
    fin = fdget(task, fd_in)
    if fin is None or not fin.readable:
        return None, None
    fout = fdget(task, fd_out)
    if fout is None or not fout.writable:
        return None, None
    return fin, fout


@syscall("splice", "fd loff:in fd loff:in u splice")
def sys_splice(task, fd_in, off_in, fd_out, off_out, length, flags):
    """splice() + do_splice(): 0 for length 0 before anything else; EBADF
    for descriptors not open for reading/writing; between two pipes ESPIPE
    for an offset and EINVAL for one pipe's two ends; a pipe and a file:
    ESPIPE for an offset on the pipe side, EINVAL for an offset on a
    stream, EINVAL for an O_APPEND output; no pipe at all: EINVAL."""
    if not length:
        return 0
    fin, fout = fdget_in_out(task, fd_in, fd_out)
    if fin is None:
        return -errno.EBADF
    flags &= 0xFFFFFFFF
    ipipe, opipe = get_pipe_info(fin), get_pipe_info(fout)
    if ipipe and opipe:
        if off_in or off_out:
            return -errno.ESPIPE
        if _same_pipe(fin, fout):
            return -errno.EINVAL
        return _host_pipe_op(task, lambda: hostcall.splice(
            fin.host_fd, fout.host_fd, min(length, SPLICE_FROM_PIPE_MAX),
            (flags & SPLICE_F_MORE) | SPLICE_F_NONBLOCK), fin, fout, flags)
    if ipipe:
        if off_in:
            return -errno.ESPIPE
        return _splice_from_pipe(task, fin, fout, off_out, length, flags)
    if opipe:
        if off_out:
            return -errno.ESPIPE
        return _splice_to_pipe(task, fin, off_in, fout, length, flags)
    return -errno.EINVAL


@syscall("tee", "fd fd u splice")
def sys_tee(task, fd_in, fd_out, length, flags):
    """tee() + do_tee(): 0 for length 0; EBADF for descriptors not open for
    reading/writing; EINVAL unless both are pipes and not the same pipe;
    then the host's tee() duplicates the buffers."""
    if not length:
        return 0
    fin, fout = fdget_in_out(task, fd_in, fd_out)
    if fin is None:
        return -errno.EBADF
    if not get_pipe_info(fin) or not get_pipe_info(fout) or _same_pipe(fin, fout):
        return -errno.EINVAL
    flags &= 0xFFFFFFFF
    return _host_pipe_op(task, lambda: hostcall.tee(
        fin.host_fd, fout.host_fd, min(length, SPLICE_FROM_PIPE_MAX), SPLICE_F_NONBLOCK),
        fin, fout, flags)


def _pipe_capacity(file):
    """pipe->buffers * PAGE_SIZE: what the host pipe holds (F_GETPIPE_SZ)."""
    try:
        return host_fcntl.fcntl(file.host_fd, host_fcntl.F_GETPIPE_SZ)
    except OSError:
        return SPLICE_TO_PIPE_CHUNK


def _vmsplice_to_pipe(task, file, iov, nr_segs, flags):
    """vmsplice_to_pipe(): EBADF for a non-pipe, then the iovec (EINVAL,
    EFAULT), wait_for_space() (EPIPE without readers, EAGAIN with
    SPLICE_F_NONBLOCK), then as much of the buffers as the pipe takes."""
    if not get_pipe_info(file):
        return -errno.EBADF
    vecs = import_iovec(task, iov, nr_segs)
    if isinstance(vecs, int):
        return vecs
    # No more than the pipe can hold is copied (a 1 GiB iovec is not held
    # on the host): the rest would not go in this call anyway.
    total = sum(n for _, n in vecs)
    if not total:
        return 0
    data = IovIter(task, vecs).copy_from_iter(min(total, _pipe_capacity(file)))
    if not data:
        return -errno.EFAULT
    n = stream_write_some(task, file, data)
    if n is None:
        if flags & SPLICE_F_NONBLOCK:
            return -errno.EAGAIN
        raise WouldBlock(fds=((file.host_fd, select.POLLOUT | select.POLLERR),),
                         external=not file.owned_nonblock)
    return n


def _vmsplice_to_user(task, file, iov, nr_segs, flags):
    """vmsplice_to_user(): a read of the pipe into the buffers (waiting for
    data unless SPLICE_F_NONBLOCK; 0 at end of file)."""
    if not get_pipe_info(file):
        return -errno.EBADF
    vecs = import_iovec(task, iov, nr_segs)
    if isinstance(vecs, int):
        return vecs
    total = sum(n for _, n in vecs)
    if total == 0:
        return 0
    room = _writable_total(task, vecs)
    if room == 0:
        return -errno.EFAULT
    data = pipe_read_some(task, file, room, flags)
    if isinstance(data, int):
        return data
    _scatter(task, vecs, data)
    return len(data)


@syscall("vmsplice", "fd iov:2 u splice")
def sys_vmsplice(task, fd, iov, nr_segs, flags):
    """vmsplice(): EINVAL for more than UIO_MAXIOV segments, 0 for none,
    EBADF; a descriptor open for writing is filled from user memory, one
    open for reading is read into it."""
    if nr_segs > UIO_MAXIOV:
        return -errno.EINVAL
    if not nr_segs:
        return 0
    file = fdget(task, fd)
    if file is None:
        return -errno.EBADF
    flags &= 0xFFFFFFFF
    if file.writable:
        return _vmsplice_to_pipe(task, file, iov, nr_segs, flags)
    if file.readable:
        return _vmsplice_to_user(task, file, iov, nr_segs, flags)
    return -errno.EBADF
