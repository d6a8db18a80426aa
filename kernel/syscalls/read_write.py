"""fs/read_write.c: the file system's reads, writes and seeks.

read(), write(), pread64(), pwrite64(), readv(), writev(), lseek() and the
helpers the other transfers share (vfs_read(), the write loops);
preadv/pwritev/sendfile/copy_file_range are kernel/fs/read_write.py's.

Split out of kernel/syscalls/fs.py (issue 8: start-up): a program that
only writes (a hello: writev, ioctl, exit_group) imports this module and
not the open/stat/namei calls, their path walk, locks, leases and memfd.
The host kernel does the I/O on host descriptors; offsets live in the
host's open file description, which dup() shares as Linux shares struct
file.
"""

import errno
import os
import stat
import struct

from emu.arch import PAGE_SIZE
from kernel.fs.file import can_pread, fdget
from kernel.fs.pipe import may_block, wait_read, wait_write
from kernel.iov_iter import WRITE_CHUNK, IovIter
from kernel.sched.wait import WouldBlock
from kernel.signal import signal_pending
from kernel.sys import generic_write_checks_fsize
from kernel.syscalls.table import syscall
from kernel.uaccess import Efault, s32
from kernel.uapi import O_APPEND, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET

_IO_CHUNK = 1 << 20
_IOVEC = struct.Struct("<QQ")


def _err(exc):
    return -(exc.errno or errno.EIO)


def _fget(task, fd):
    """fdget(): no O_PATH descriptors (see kernel/fs/open.py)."""
    return fdget(task, fd)


def _fget_raw(task, fd):
    return task.files.get(s32(fd))



# -- read / write ---------------------------------------------------------------------

def _host_read(task, file, count, offset=None, block=True):
    """Read up to count bytes (in chunks, stopping short like a pipe would).

    A file with cached pages is read through the page cache, which may hold
    data written through a shared mapping and not yet written back."""
    mapping = file.mapping
    if mapping is not None and mapping.pages:
        pos = os.lseek(file.host_fd, 0, os.SEEK_CUR) if offset is None else offset
        data = mapping.read(pos, count)
        if offset is None:
            os.lseek(file.host_fd, pos + len(data), os.SEEK_SET)
        return data
    if may_block(file):
        if task.signal.tty is not None and stat.S_ISCHR(file.mode):
            from kernel.tty import tty_read_job_control
            err = tty_read_job_control(task, file)  # SIGTTIN for a background job
            if err:
                return err
        return wait_read(task, file, count, block)
    out = []
    total = 0
    while total < count:
        n = min(_IO_CHUNK, count - total)
        if offset is None:
            data = os.read(file.host_fd, n)
        else:
            data = os.pread(file.host_fd, n, offset + total)
        out.append(data)
        total += len(data)
        if len(data) < n or not stat.S_ISREG(file.mode):
            break
    return b"".join(out)


def _host_write(task, file, data, offset=None):
    if offset is None and may_block(file):
        if task.signal.tty is not None and stat.S_ISCHR(file.mode) and task.restart is None:
            from kernel.tty import tty_write_job_control
            err = tty_write_job_control(task, file)     # SIGTTOU with TOSTOP
            if err:
                return err
        return wait_write(task, file, data)
    try:
        if offset is None:
            n = os.write(file.host_fd, data)
            pos = os.lseek(file.host_fd, 0, os.SEEK_CUR) - n if file.mapping is not None else 0
        else:
            n = os.pwrite(file.host_fd, data, offset)
            pos = offset
    except BrokenPipeError:
        task.kernel.send_sigpipe(task)
        return -errno.EPIPE
    if file.mapping is not None:
        file.mapping.write_cached(pos, data[:n])
    return n


def _has_data(file):
    """Would a read return bytes (so a bad buffer matters)?  Only a regular
    file at its end, or a /proc body read to the end, would return 0."""
    if file.body is not None:
        return file.pos < len(file.body)
    if file.host_fd is None or not stat.S_ISREG(file.mode):
        return True
    return bool(os.pread(file.host_fd, 1, os.lseek(file.host_fd, 0, os.SEEK_CUR)))


def vfs_read_mode(file):
    """vfs_read()'s checks before it looks at the buffer: EBADF without
    FMODE_READ, EINVAL without a ->read (FMODE_CAN_READ: an epoll file).
    Only then does a bad buffer give EFAULT — and no host call is made
    on a descriptor the guest cannot read (issue 10: read() of an
    O_WRONLY file with a bad buffer was a host OSError)."""
    if not file.readable:
        return -errno.EBADF
    if file.pseudo is None and file.f_read is None and file.body is None and file.host_fd is None:
        return -errno.EINVAL
    return 0


def _read_file(task, file, count, offset=None, block=True):
    """vfs_read(): bytes or a negative errno."""
    if not file.readable:
        return -errno.EBADF
    if file.is_dir:
        return -errno.EISDIR
    if file.pseudo is not None:
        # a /proc or /sys file: kernel/fs/proc.py is imported by the open of one
        # (issue 8: a program that never opens one does not import it)
        from kernel.fs.proc import pseudo_read
        return pseudo_read(file, count, offset)
    if file.f_read is not None:         # a special file's own read (timerfd)
        return file.f_read(task, count, block)
    if file.body is None and file.host_fd is None:
        return -errno.EINVAL            # no ->read (an epoll file)
    if file.body is not None:
        pos = file.pos if offset is None else offset
        data = file.body[pos:pos + count]
        if offset is None:
            file.pos += len(data)
        return data
    try:
        return _host_read(task, file, count, offset, block)
    except OSError as e:
        return _err(e)


def _loop_rw(task, file, op, vecs):
    """do_loop_readv_writev(): a file kind with only ->read/->write (eventfd,
    signalfd) gets one call per iovec, stopping at a short one."""
    total = 0
    for base, length in vecs:
        ret = op(task, base, length)
        if ret < 0:
            return ret if total == 0 else total
        total += ret
        if ret < length:
            break
    return total


@syscall("read", "fd obuf:ret u")
def sys_read(task, fd, buf, count):
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    op = getattr(file, "read", None)
    if op is not None:                  # a kind with its own ->read (anon inodes, sockets)
        return op(task, buf, count) if file.readable else -errno.EBADF
    err = vfs_read_mode(file)
    if err:
        return err
    room = _user_room(task, buf, count)
    if room < 0:
        return room
    if room == 0 and count:
        return -errno.EFAULT if _has_data(file) else 0
    return _read_to_user(task, file, buf, room, None)


def _user_room(task, buf, count):
    """How many of count bytes a read may put at buf: -EFAULT past
    access_ok(), else the writable prefix (0 when no page is).  Linux
    copies until the first bad page; reading no more than fits keeps the
    rest of the data in the file, where Linux leaves it too."""
    if buf + count > task.mm.task_size:     # access_ok()
        return -errno.EFAULT
    return task.uaccess.writable_prefix(buf, count)


def _read_to_user(task, file, buf, count, pos):
    """vfs_read()'s ->read into user memory: at most MAX_RW_COUNT, and for
    a regular host file WRITE_CHUNK at a time, so the host never holds more
    than a chunk of a read however big the file (a sparse one costs no
    disk) and the guest's buffer."""
    count = min(count, MAX_RW_COUNT)
    if not _chunked(file):
        data = _read_file(task, file, count, pos)
        if isinstance(data, int):
            return data
        task.uaccess.copy_to_user(buf, data)
        return len(data)
    done = 0
    while done < count:
        want = min(count - done, WRITE_CHUNK)
        data = _read_file(task, file, want, None if pos is None else pos + done)
        if isinstance(data, int):
            return done or data
        task.uaccess.copy_to_user(buf + done, data)
        done += len(data)
        if len(data) < want:
            break
    return done


@syscall("pread64", "fd obuf:ret u d")
def sys_pread64(task, fd, buf, count, pos):
    """ksys_pread64(): EINVAL for a negative offset, EBADF, ESPIPE without
    FMODE_PREAD (a stream), then vfs_read() (EBADF, EISDIR...)."""
    if pos >> 63:
        return -errno.EINVAL
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    if not can_pread(file):
        return -errno.ESPIPE
    err = vfs_read_mode(file)
    if err:
        return err
    room = _user_room(task, buf, count)
    if room < 0:
        return room
    if room == 0 and count:
        probe = _read_file(task, file, 1, pos)
        if isinstance(probe, int):
            return probe            # EISDIR...: ->read's own answer comes before the copy
        return -errno.EFAULT if probe else 0
    return _read_to_user(task, file, buf, room, pos)


def _write_file(task, file, data, offset=None):
    if file.pseudo is not None and file.writable:
        from kernel.fs.proc import pseudo_write     # (see _read_file)
        return pseudo_write(file, data, offset)
    if not file.writable:
        return -errno.EBADF
    if file.host_fd is None:
        return -errno.EINVAL if file.body is None else -errno.EBADF     # no ->write
    if file.f_read is not None:         # a special file without write(): EINVAL
        return -errno.EINVAL
    if file.mapping is not None and file.mapping.seals:
        pos = offset
        if pos is None:
            pos = os.fstat(file.host_fd).st_size if file.flags & O_APPEND else \
                os.lseek(file.host_fd, 0, os.SEEK_CUR)
        # kernel/mm/memfd.py only for a sealed file (a memfd): not every write's import
        from kernel.mm.memfd import shmem_write_check
        allowed = shmem_write_check(file, pos, len(data))
        if allowed < 0:
            return allowed
        data = data[:allowed]
    try:
        return _host_write(task, file, data, offset)
    except OSError as e:
        return _err(e)


def pseudo_write_iter(task, file, it, count, offset):
    """A write to a /proc file: its ->write handler reads what it accepts
    and no more (comm_write() TASK_COMM_LEN - 1 bytes, proc_dostring() its
    maxlen, __do_proc_dointvec() PAGE_SIZE - 1), so at most a page is
    copied from the user; a handler that took all it was given took the
    whole write (those return count).  mem_rw() goes a page at a time.
    The guest's length never sizes a host buffer."""
    if file.pseudo.entry.seek == "mem":
        done = 0
        while done < count:
            data = it.copy_from_iter(min(count - done, PAGE_SIZE))
            if not data:
                return done or -errno.EFAULT
            ret = _write_file(task, file, data, None if offset is None else offset + done)
            if ret < 0:
                return done or ret
            done += ret
            if ret < len(data):
                break
        return done
    data = it.copy_from_iter(min(count, PAGE_SIZE))
    if not data and count:
        return -errno.EFAULT
    ret = _write_file(task, file, data, offset)
    return count if ret == len(data) else ret


def _write_pos(file, offset):
    """Where a write lands: offset, the end for O_APPEND, else the file position."""
    if offset is not None:
        return offset
    if file.flags & O_APPEND:
        return os.fstat(file.host_fd).st_size
    if not stat.S_ISREG(file.mode):
        return 0
    return os.lseek(file.host_fd, 0, os.SEEK_CUR)


def _chunked(file):
    """A regular host file: written a chunk at a time (a pipe or socket is
    written in one piece, its wait and restart see the whole write)."""
    return (file.host_fd is not None and stat.S_ISREG(file.mode) and file.pseudo is None
            and file.f_read is None)


def _write_iter(task, file, it, count, offset):
    """generic_perform_write()'s loop for a regular file: count bytes
    (MAX_RW_COUNT and RLIMIT_FSIZE already applied) from the iterator,
    WRITE_CHUNK at a time; a page that cannot be read ends the write
    short, or with EFAULT if nothing was written."""
    if count <= 0:
        return _write_file(task, file, b"", offset)
    done = 0
    while done < count:
        want = min(count - done, WRITE_CHUNK)
        data = it.copy_from_iter(want)
        if not data:
            return done or -errno.EFAULT
        ret = _write_file(task, file, data, None if offset is None else offset + done)
        if ret < 0:
            return done or ret
        done += ret
        if ret < len(data) or len(data) < want:
            break
    return done


# A pipe, FIFO or character device gets its data this much at a time (the
# most a pipe may hold: fs/pipe.c pipe_max_size), never the guest's whole
# buffer at once.
STREAM_WINDOW = 1 << 20


def _write_stream(task, file, it, count):
    """pipe_write() for a descriptor that may block, in windows: the host
    holds STREAM_WINDOW bytes of the guest's buffer at a time.  A blocking
    write goes on window after window (wait_write() sleeps as before); the
    restart state keeps the total written, so a woken call resumes where it
    was, and a signal after some data ends the write with that count."""
    state = task.restart if task.restart is not None and "written" in task.restart else None
    total = state["written"] if state is not None else 0
    it.advance(total)
    while total < count:
        if total and signal_pending(task):
            return total
        want = min(count - total, STREAM_WINDOW)
        data = it.copy_from_iter(want)
        if not data:
            return total or -errno.EFAULT
        task.restart = None                 # wait_write()'s own count starts at 0
        try:
            ret = _write_file(task, file, data)
        except WouldBlock:
            part = task.restart.get("written", 0) if task.restart else 0
            task.restart = {"written": total + part}
            raise
        if ret < 0:
            return total or ret
        total += ret
        if ret < len(data):
            break                           # non-blocking and full, or a signal: what went
    return total


def _write_from_user(task, file, buf, count, offset=None):
    """generic_perform_write(): copy from the user and write, one file page at
    a time when the file is cached, since the source may be a mapping of the
    very page cache being written (each chunk then sees the ones before)."""
    if file.host_fd is not None and file.writable:
        count = generic_write_checks_fsize(task, file, lambda: _write_pos(file, offset), count)
        if count < 0:
            return count
    if file.pseudo is not None and file.writable:
        return pseudo_write_iter(task, file, IovIter(task, [(buf, count)]),
                                 min(count, MAX_RW_COUNT), offset)
    mapping = file.mapping
    if mapping is None or not mapping.pages or count <= 0:
        count = min(count, MAX_RW_COUNT)
        if _chunked(file):
            return _write_iter(task, file, IovIter(task, [(buf, count)]), count, offset)
        if offset is None and may_block(file) and count > 0:
            return _write_stream(task, file, IovIter(task, [(buf, count)]), count)
        return _write_file(task, file, task.uaccess.copy_from_user(buf, count), offset)
    pos = os.lseek(file.host_fd, 0, os.SEEK_CUR) if offset is None else offset
    if offset is None and file.flags & O_APPEND:
        pos = os.fstat(file.host_fd).st_size
    done = 0
    while done < count:
        n = min(count - done, PAGE_SIZE - ((pos + done) & (PAGE_SIZE - 1)))
        ret = _write_file(task, file, task.uaccess.copy_from_user(buf + done, n), pos + done)
        if ret < 0:
            return ret if done == 0 else done
        done += ret
        if ret < n:
            break
    if offset is None:
        os.lseek(file.host_fd, pos + done, os.SEEK_SET)
    return done


@syscall("write", "fd ibuf:2 u")
def sys_write(task, fd, buf, count):
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    if not file.writable:
        return -errno.EBADF
    op = getattr(file, "write", None)
    if op is not None:                  # a kind with its own ->write (anon inodes, sockets)
        return op(task, buf, count)
    if buf + count > task.mm.task_size:     # vfs_write()'s access_ok()
        return -errno.EFAULT
    return _write_from_user(task, file, buf, count)


@syscall("pwrite64", "fd ibuf:2 u d")
def sys_pwrite64(task, fd, buf, count, pos):
    """ksys_pwrite64(): EINVAL, EBADF, ESPIPE for a stream, then vfs_write()
    (EBADF without write access)."""
    if pos >> 63:
        return -errno.EINVAL
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    if not can_pread(file):
        return -errno.ESPIPE
    if not file.writable or (file.host_fd is None and file.pseudo is None):
        return -errno.EBADF
    if buf + count > task.mm.task_size:     # vfs_write()'s access_ok()
        return -errno.EFAULT
    return _write_from_user(task, file, buf, count, pos)


# rw_verify_area()/rw_copy_check_uvector(): one call moves at most this.
MAX_RW_COUNT = 0x7FFFF000


def _iovecs(task, iov, iovcnt):
    """rw_copy_check_uvector(): the iovecs, None for EINVAL (a count out of
    range, a negative length); a range past the user address space raises
    Efault; the total is capped at MAX_RW_COUNT."""
    iovcnt = s32(iovcnt)
    if iovcnt < 0 or iovcnt > 1024:
        return None
    raw = task.uaccess.copy_from_user(iov, iovcnt * 16)
    vecs, total = [], 0
    for i in range(iovcnt):
        base, length = _IOVEC.unpack_from(raw, i * 16)
        if length >> 63:
            return None
        if base + length > task.uaccess.mm.task_size:
            raise Efault()
        length = min(length, MAX_RW_COUNT - total)
        total += length
        vecs.append((base, length))
    return vecs


@syscall("readv", "fd iov:2 d")
def sys_readv(task, fd, iov, iovcnt):
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    vecs = _iovecs(task, iov, iovcnt)
    if vecs is None:
        return -errno.EINVAL
    if hasattr(file, "read_iter"):     # one message over all the iovecs (sockets)
        return file.read_iter(task, vecs) if file.readable else -errno.EBADF
    op = getattr(file, "read", None)
    if op is not None:
        return _loop_rw(task, file, op, vecs) if file.readable else -errno.EBADF
    total = 0
    for base, length in vecs:
        if not length:
            continue
        data = _read_file(task, file, length, block=total == 0)
        if isinstance(data, int):
            return data if total == 0 else total
        task.uaccess.copy_to_user(base, data)
        total += len(data)
        if len(data) < length:
            break
    return total


@syscall("writev", "fd iov:2 d")
def sys_writev(task, fd, iov, iovcnt):
    """do_writev() → vfs_writev(): 4.14 imports the iovecs (EINVAL, EFAULT)
    before do_iter_write() checks the access mode (EBADF).  Later kernels
    check the mode first (the 6.18 host kernel does)."""
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    vecs = _iovecs(task, iov, iovcnt)
    if vecs is None:
        return -errno.EINVAL
    if not file.writable:
        return -errno.EBADF
    if hasattr(file, "write_iter"):
        return file.write_iter(task, vecs)
    op = getattr(file, "write", None)
    if op is not None:
        return _loop_rw(task, file, op, vecs)
    total = sum(length for _, length in vecs)      # at most MAX_RW_COUNT (_iovecs)
    if not total:
        return 0
    if file.host_fd is not None:
        total = generic_write_checks_fsize(task, file, lambda: _write_pos(file, None), total)
        if total < 0:
            return total
    if _chunked(file):
        return _write_iter(task, file, IovIter(task, vecs), total, None)
    if file.pseudo is not None:
        return pseudo_write_iter(task, file, IovIter(task, vecs), total, None)
    if may_block(file):
        return _write_stream(task, file, IovIter(task, vecs), total)
    data = IovIter(task, vecs).copy_from_iter(total)
    if not data:
        return -errno.EFAULT if total else 0
    return _write_file(task, file, data)


@syscall("lseek", "fd d whence")
def sys_lseek(task, fd, offset, whence):
    file = _fget(task, fd)
    if file is None:
        return -errno.EBADF
    offset = offset - (1 << 64) if offset >> 63 else offset
    if file.pseudo is not None:
        from kernel.fs.proc import pseudo_lseek     # (see _read_file)
        return pseudo_lseek(file, offset, whence)
    if file.body is not None or file.is_dir:
        size = len(file.body) if file.body is not None else 0
        if whence in (SEEK_DATA, SEEK_HOLE) and file.body is not None:
            return _seek_data_hole(file, offset, whence, size)
        base = {SEEK_SET: 0, SEEK_CUR: file.pos, SEEK_END: size}.get(whence)
        if base is None or base + offset < 0:
            return -errno.EINVAL
        file.pos = base + offset
        if file.is_dir and file.pos == 0:
            file.dir_entries = None
        return file.pos
    if file.host_fd is None:
        return 0                        # noop_llseek (eventfd, epoll, signalfd: anon inodes)
    if whence not in (SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE):
        return -errno.EINVAL
    try:
        # SEEK_DATA/SEEK_HOLE: ext4 and tmpfs find the extents (4.14 has both,
        # ext4_seek_data/shmem_file_llseek); the host's file system does it here
        return os.lseek(file.host_fd, offset, whence)
    except OSError as e:
        return _err(e)


def _seek_data_hole(file, offset, whence, size):
    """generic_file_llseek_size() for SEEK_DATA/SEEK_HOLE: the whole file is
    data and the only hole is the virtual one at its end; an offset at or
    past the end (or negative, compared unsigned) is -ENXIO."""
    if offset < 0 or offset >= size:
        return -errno.ENXIO
    file.pos = offset if whence == SEEK_DATA else size
    return file.pos
