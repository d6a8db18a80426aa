"""fs/read_write.c: preadv/pwritev/preadv2/pwritev2, copy_file_range(),
sendfile().

The bytes move through the same helpers as read()/write()
(kernel/syscalls/read_write.py), so the page cache sees them and pipes sleep the
way pipe_read()/pipe_write() do; what this file adds is each call's order
of checks and its RWF_* flags.  A transfer into a pipe that fills up
keeps its progress in task.restart and sleeps; a signal then ends it with
the bytes moved so far, as Linux's splice loop does.
"""

import errno
import os
import select
import stat
import struct

from kernel.fs.open import LOFF_T_MAX, can_pread, fdget, s64
from kernel.fs.pipe import may_block
from kernel.sched.wait import WouldBlock
from kernel.signal import signal_pending
from kernel.iov_iter import IovIter
from kernel.sys import generic_write_checks_fsize
from kernel.syscalls.read_write import (
    _IOVEC, _chunked, _read_file, _write_file, _write_iter, _write_pos, pseudo_write_iter,
)
from kernel.syscalls.table import syscall
from kernel.uapi import O_APPEND, O_DIRECT, O_NONBLOCK

UIO_MAXIOV = 1024
MAX_RW_COUNT = 0x7FFFF000       # INT_MAX & PAGE_MASK: the most one call moves
SPLICE_CHUNK = 1 << 16          # one pipe's worth (PIPE_DEF_BUFFERS pages)
PIPE_BUF = 4096

_LOFF = struct.Struct("<q")

# include/uapi/linux/fs.h: the RWF_* flags 4.14 knows (RWF_APPEND came in 4.16).
RWF_HIPRI = 0x1
RWF_DSYNC = 0x2
RWF_SYNC = 0x4
RWF_NOWAIT = 0x8
RWF_SUPPORTED = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT


def file_pos(file):
    """file->f_pos of a file whose offset the host keeps (or ours); a
    stream's is 0, as it never moves on Linux either."""
    if file.host_fd is None or file.is_dir:
        return file.pos
    if not can_pread(file):
        return 0
    return os.lseek(file.host_fd, 0, os.SEEK_CUR)


def set_file_pos(file, pos):
    if file.host_fd is None or file.is_dir:
        file.pos = pos
    else:
        os.lseek(file.host_fd, pos, os.SEEK_SET)


def import_iovec(task, iov, vlen):
    """import_iovec(): the (base, len) pairs, or -EINVAL for too many
    segments or a length that is negative as an ssize_t; Efault raised for
    an unreadable array.  The total is cut at MAX_RW_COUNT."""
    if vlen > UIO_MAXIOV:
        return -errno.EINVAL
    raw = task.uaccess.copy_from_user(iov, vlen * _IOVEC.size)
    vecs = []
    total = 0
    for i in range(vlen):
        base, length = _IOVEC.unpack_from(raw, i * _IOVEC.size)
        if length >> 63:
            return -errno.EINVAL
        length = min(length, MAX_RW_COUNT - total)
        vecs.append((base, length))
        total += length
    return vecs


def kiocb_set_rw_flags(file, flags, write):
    """kiocb_set_rw_flags(): EOPNOTSUPP for a flag 4.14 does not know, and
    for RWF_NOWAIT on a file that cannot promise it (only regular files;
    a buffered write with it is refused by 4.14's ext4/xfs as well)."""
    if flags & ~RWF_SUPPORTED:
        return -errno.EOPNOTSUPP
    if flags & RWF_NOWAIT:
        if file.host_fd is None or not stat.S_ISREG(file.mode):
            return -errno.EOPNOTSUPP
        if write and not file.flags & O_DIRECT:
            return -errno.EOPNOTSUPP
    return 0


def _scatter(task, vecs, data):
    off = 0
    for base, length in vecs:
        if off >= len(data):
            break
        part = data[off:off + length]
        task.uaccess.copy_to_user(base, part)
        off += len(part)


def _writable_total(task, vecs):
    """How many bytes the buffers take before the first one that cannot be
    written (Linux copies until the fault and returns what it copied)."""
    total = 0
    for base, length in vecs:
        room = task.uaccess.writable_prefix(base, length)
        total += room
        if room < length:
            break
    return total


def _read_nowait(file, vecs, room, pos, task):
    """RWF_NOWAIT: only what the host has cached, else EAGAIN (the board's
    own dirty pages are written back first so the host's file is current)."""
    if file.mapping is not None:
        file.mapping.writeback()
    start = file_pos(file) if pos is None else pos
    # No more than the file holds after start: the buffer is never sized by
    # the guest's length alone (issue 10 part 2).
    if stat.S_ISREG(file.mode):
        room = min(room, max(0, os.fstat(file.host_fd).st_size - start))
    buf = bytearray(min(room, SPLICE_CHUNK) if not stat.S_ISREG(file.mode) else room)
    try:
        n = os.preadv(file.host_fd, [buf], start, os.RWF_NOWAIT)
    except BlockingIOError:
        return -errno.EAGAIN
    except OSError as e:
        return -(e.errno or errno.EIO)
    if pos is None:
        set_file_pos(file, start + n)
    _scatter(task, vecs, bytes(buf[:n]))
    return n


def get_loff(task, addr):
    """get_user() of a loff_t."""
    return _LOFF.unpack(task.uaccess.copy_from_user(addr, _LOFF.size))[0]


def put_loff(task, addr, value):
    task.uaccess.copy_to_user(addr, _LOFF.pack(value))


def rw_verify(task, file, iov, vlen, pos, flags, write):
    """The checks vfs_readv()/vfs_writev() share, in 4.14's order: the iovecs
    (import_iovec), the access mode, nothing to do, the range
    (rw_verify_area), the RWF_* flags.  Returns the iovecs, or an int: 0
    (nothing to do) or a negative errno."""
    vecs = import_iovec(task, iov, vlen)
    if isinstance(vecs, int):
        return vecs
    if not (file.writable if write else file.readable):
        return -errno.EBADF
    total = sum(length for _, length in vecs)
    if total == 0:
        return 0
    if pos is not None and pos + total > LOFF_T_MAX:
        return -errno.EINVAL
    return kiocb_set_rw_flags(file, flags, write=write) or vecs


def vfs_readv(task, file, iov, vlen, pos, flags):
    """vfs_readv() + do_iter_read(): pos None reads at the file position."""
    vecs = rw_verify(task, file, iov, vlen, pos, flags, write=False)
    if isinstance(vecs, int):
        return vecs
    room = _writable_total(task, vecs)
    if room == 0:
        return -errno.EFAULT
    if flags & RWF_NOWAIT:
        return _read_nowait(file, vecs, room, pos, task)
    data = _read_file(task, file, room, pos)
    if isinstance(data, int):
        return data
    _scatter(task, vecs, data)
    return len(data)


def _sync_after_write(file, flags):
    """RWF_DSYNC/RWF_SYNC: the write is on the host's disk before returning."""
    if flags & (RWF_DSYNC | RWF_SYNC) and file.host_fd is not None and \
            stat.S_ISREG(file.mode):
        if file.mapping is not None:
            file.mapping.writeback()
        (os.fsync if flags & RWF_SYNC else os.fdatasync)(file.host_fd)


def vfs_writev(task, file, iov, vlen, pos, flags):
    """vfs_writev() + do_iter_write(): pos None writes at the file position."""
    vecs = rw_verify(task, file, iov, vlen, pos, flags, write=True)
    if isinstance(vecs, int):
        return vecs
    total = sum(length for _, length in vecs)
    if _chunked(file):
        # generic_write_checks(): RLIMIT_FSIZE, then a chunk at a time.
        total = generic_write_checks_fsize(task, file, lambda: _write_pos(file, pos), total)
        if total < 0:
            return total
        ret = _write_iter(task, file, IovIter(task, vecs), total, pos)
    elif file.pseudo is not None and file.writable:
        ret = pseudo_write_iter(task, file, IovIter(task, vecs), total, pos)
    else:
        data = IovIter(task, vecs).copy_from_iter(total)
        ret = _write_file(task, file, data, pos) if data else -errno.EFAULT
    if ret > 0:
        _sync_after_write(file, flags)
    return ret


def do_preadv(task, fd, iov, vlen, pos, flags, write):
    """do_preadv()/do_pwritev(): EINVAL for a negative offset before the
    descriptor is looked at, ESPIPE for a stream."""
    if pos < 0:
        return -errno.EINVAL
    file = fdget(task, fd)
    if file is None:
        return -errno.EBADF
    if not can_pread(file):
        return -errno.ESPIPE
    return (vfs_writev if write else vfs_readv)(task, file, iov, vlen, pos, flags)


def do_readv(task, fd, iov, vlen, flags, write):
    """do_readv()/do_writev(): at the file position, which moves."""
    file = fdget(task, fd)
    if file is None:
        return -errno.EBADF
    return (vfs_writev if write else vfs_readv)(task, file, iov, vlen, None, flags)


# On a 64-bit kernel pos_from_hilo(high, low) is low: the high word is ignored.

@syscall("preadv", "fd iov:2 u d x")
def sys_preadv(task, fd, iov, vlen, pos_l, pos_h):
    return do_preadv(task, fd, iov, vlen, s64(pos_l), 0, False)


@syscall("pwritev", "fd iov:2 u d x")
def sys_pwritev(task, fd, iov, vlen, pos_l, pos_h):
    return do_preadv(task, fd, iov, vlen, s64(pos_l), 0, True)


@syscall("preadv2", "fd iov:2 u d x rwf")
def sys_preadv2(task, fd, iov, vlen, pos_l, pos_h, flags):
    """preadv2(): offset -1 reads at the file position, like readv()."""
    pos, flags = s64(pos_l), flags & 0xFFFFFFFF
    if pos == -1:
        return do_readv(task, fd, iov, vlen, flags, False)
    return do_preadv(task, fd, iov, vlen, pos, flags, False)


@syscall("pwritev2", "fd iov:2 u d x rwf")
def sys_pwritev2(task, fd, iov, vlen, pos_l, pos_h, flags):
    pos, flags = s64(pos_l), flags & 0xFFFFFFFF
    if pos == -1:
        return do_readv(task, fd, iov, vlen, flags, True)
    return do_preadv(task, fd, iov, vlen, pos, flags, True)


# -- moving bytes between two files ------------------------------------------------------

def rw_verify_area(pos, count):
    """rw_verify_area(): EINVAL for a negative offset or one that overflows."""
    if count >> 63 or pos < 0 or pos + count > LOFF_T_MAX:
        return -errno.EINVAL
    return 0


def stream_write_some(task, file, data):
    """As much of data as a pipe or socket takes without waiting: the count,
    None if it takes nothing now, or -EPIPE (SIGPIPE sent)."""
    fd = file.host_fd
    if not file.owned_nonblock:
        p = select.poll()
        p.register(fd, select.POLLOUT)
        if not p.poll(0):
            return None
        data = data[:PIPE_BUF]          # POLLOUT promises one free page
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return None
    except BrokenPipeError:
        task.kernel.send_sigpipe(task)
        return -errno.EPIPE
    except OSError as e:
        return -(e.errno or errno.EIO)


def transfer_progress(task):
    """Bytes an earlier attempt of this (restarted) call already moved."""
    state = task.restart
    return state["spliced"] if state is not None and "spliced" in state else 0


def sleep_for_output(task, file, moved, nonblock):
    """The output pipe is full: -EAGAIN if nothing moved and the call must
    not wait; the bytes moved if it must stop (non-blocking, or a signal);
    else sleep until it has room (WouldBlock), keeping the progress."""
    if nonblock or file.flags & O_NONBLOCK:
        return moved or -errno.EAGAIN
    if moved and signal_pending(task):
        return moved
    task.restart = {"spliced": moved}
    raise WouldBlock(fds=((file.host_fd, select.POLLOUT | select.POLLERR),),
                     external=not file.owned_nonblock)


def copy_range(task, src, pos, dst, count, nonblock=False):
    """The body of do_splice_direct(): count bytes of the regular file src
    from pos into dst at its file position, returning (moved, error).  A
    pipe or socket dst takes what fits; the caller sleeps when it is full."""
    moved = 0
    while moved < count:
        data = _read_file(task, src, min(SPLICE_CHUNK, count - moved), pos + moved)
        if isinstance(data, int):
            return moved, data
        if not data:
            break
        if may_block(dst):
            n = stream_write_some(task, dst, data)
            if n is None:
                return moved, None
        else:
            n = _write_file(task, dst, data)
        if n < 0:
            return moved, n
        moved += n
        if n < len(data):
            if may_block(dst):
                return moved, None
            break
    return moved, 0


@syscall("copy_file_range", "fd loff:in fd loff:in u u")
def sys_copy_file_range(task, fd_in, off_in, fd_out, off_out, length, flags):
    """copy_file_range() and vfs_copy_file_range() of 4.14: EINVAL for any
    flag, EBADF, EFAULT for the offsets; EISDIR, EINVAL for anything but two
    regular files, EINVAL for bad ranges, EBADF for the access modes or an
    O_APPEND output, EXDEV across file systems (4.14 never copies between
    two; v5.3 commit 5dae222a5ff0 allowed it, v5.19 commit 868f9f2f8e00
    restricted it again); then the copy, possibly short at end of file."""
    if flags:
        return -errno.EINVAL
    fin = fdget(task, fd_in)
    if fin is None:
        return -errno.EBADF
    fout = fdget(task, fd_out)
    if fout is None:
        return -errno.EBADF
    pos_in = get_loff(task, off_in) if off_in else file_pos(fin)
    pos_out = get_loff(task, off_out) if off_out else file_pos(fout)
    if fin.is_dir or fout.is_dir:
        return -errno.EISDIR
    if not stat.S_ISREG(fin.mode) or not stat.S_ISREG(fout.mode) or \
            fin.host_fd is None or fout.host_fd is None:
        return -errno.EINVAL
    err = rw_verify_area(pos_in, length) or rw_verify_area(pos_out, length)
    if err:
        return err
    if not fin.readable or not fout.writable or fout.flags & O_APPEND:
        return -errno.EBADF
    if os.fstat(fin.host_fd).st_dev != os.fstat(fout.host_fd).st_dev:
        return -errno.EXDEV
    if length == 0:
        return 0
    length = min(length, MAX_RW_COUNT)
    moved = 0
    while moved < length:
        data = _read_file(task, fin, min(SPLICE_CHUNK, length - moved), pos_in + moved)
        if isinstance(data, int):
            return moved or data
        if not data:
            break
        n = _write_file(task, fout, data, pos_out + moved)
        if n < 0:
            return moved or n
        moved += n
    if moved > 0:
        if off_in:
            put_loff(task, off_in, pos_in + moved)
        else:
            set_file_pos(fin, pos_in + moved)
        if off_out:
            put_loff(task, off_out, pos_out + moved)
        else:
            set_file_pos(fout, pos_out + moved)
    return moved


@syscall("sendfile", "fd fd loff u")
def sys_sendfile(task, out_fd, in_fd, offset, count):
    """sys_sendfile64(): the offset, if given, is read first (EFAULT) and
    written back whatever do_sendfile() returned — 4.14's put_user() runs
    after an error too, so a read-only offset is EFAULT even when nothing
    moved (LTP sendfile04)."""
    if not offset:
        return do_sendfile(task, out_fd, in_fd, None, None, count)[0]
    pos = get_loff(task, offset)
    ret, pos = do_sendfile(task, out_fd, in_fd, offset, pos, count)
    put_loff(task, offset, pos)
    return ret


def do_sendfile(task, out_fd, in_fd, offset, pos, count):
    """do_sendfile(): (result, offset after it).  EBADF for an input not
    open for reading; ESPIPE for an offset on a stream; EINVAL for a bad
    range; EBADF for an output not open for writing; then
    do_splice_direct(): EINVAL for an O_APPEND output, and
    (splice_direct_to_actor() in 4.14) EINVAL for an input that is not a
    regular file — newer kernels read pipes too.  The offset, if given, is
    updated and the input's position is not."""
    fin = fdget(task, in_fd)
    if fin is None or not fin.readable:
        return -errno.EBADF, pos
    if pos is None:
        start = file_pos(fin) if can_pread(fin) else 0
    elif not can_pread(fin):
        return -errno.ESPIPE, pos
    else:
        start = pos
    if rw_verify_area(start, count):
        return -errno.EINVAL, pos
    count = min(count, MAX_RW_COUNT)
    fout = fdget(task, out_fd)
    if fout is None or not fout.writable:
        return -errno.EBADF, pos
    if fout.flags & O_APPEND:
        return -errno.EINVAL, pos
    if not stat.S_ISREG(fin.mode) and not stat.S_ISBLK(fin.mode):
        return -errno.EINVAL, pos
    done = transfer_progress(task)
    moved, err = copy_range(task, fin, start, fout, count - done)
    if moved:
        if offset:
            pos = start + moved
            put_loff(task, offset, pos)     # kept across a restart (sleep_for_output)
        else:
            set_file_pos(fin, start + moved)
    total = done + moved
    if err is None:
        return sleep_for_output(task, fout, total, False), pos
    return total or err, pos
