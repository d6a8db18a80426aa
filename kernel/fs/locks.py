"""fs/locks.c: flock(), and POSIX and OFD record locks (fcntl), below.

flock() locks belong to the open file description, and every guest open
file is one host open file description (kernel/fs/file.py), shared by dup()
and fork() as Linux shares struct file: so the host's flock() on the host
descriptor is the guest's, conflicting between guest processes exactly as
on Linux (and with host processes locking the same file), and released by
the last close of the description.

A lock that is held elsewhere must put only the calling task to sleep, not
the board: the host is always asked with LOCK_NB; when it says
EWOULDBLOCK, the task sleeps (WouldBlock) until a guest unlock wakes the
queue or, for a holder the board cannot see (a close, a host process),
until a short poll deadline passes, and then asks again.  A signal ends
the wait with -ERESTARTSYS (EINTR for a handler without SA_RESTART).
"""

import errno
import fcntl as host_fcntl
import os
import struct

from kernel.fs.open import fdget
from kernel.sched.wait import WaitQueue, WouldBlock
from kernel.syscalls.table import syscall
from kernel.uaccess import s32
from kernel.uapi import F_SETLKW, SEEK_CUR, SEEK_END, SEEK_SET

# include/uapi/asm-generic/fcntl.h
LOCK_SH = 1
LOCK_EX = 2
LOCK_NB = 4
LOCK_UN = 8
LOCK_MAND = 32

FLOCK_POLL_SECONDS = 0.005      # how often a waiter asks the host again

_HOST_CMD = {LOCK_SH: host_fcntl.LOCK_SH, LOCK_EX: host_fcntl.LOCK_EX,
             LOCK_UN: host_fcntl.LOCK_UN}


def flock_wait_queue(kernel):
    """The queue of tasks waiting for any flock (Linux sleeps on the
    blocking lock's fl_wait; one queue for the board is enough, since a
    woken waiter simply asks the host again)."""
    wq = getattr(kernel, "flock_wait", None)
    if wq is None:
        wq = kernel.flock_wait = WaitQueue("flock")
    return wq


@syscall("flock", "fd flockop")
def sys_flock(task, fd, cmd):
    """sys_flock(): EBADF for a bad descriptor, or one neither readable nor
    writable (O_PATH); EINVAL for an operation that is not LOCK_SH, LOCK_EX
    or LOCK_UN (LOCK_NB aside); EWOULDBLOCK with LOCK_NB when the lock is
    held elsewhere, else sleep until it is free.  LOCK_MAND (Samba's share
    modes): 4.14 records such a lock but flock_locks_conflict() never lets
    it conflict with anything, so it succeeds and changes nothing here."""
    file = fdget(task, fd)
    if file is None:
        return -errno.EBADF
    cmd = s32(cmd)
    can_sleep = not cmd & LOCK_NB
    cmd &= ~LOCK_NB
    if cmd & LOCK_MAND:
        return 0
    if cmd != LOCK_UN and not (file.readable or file.writable):
        return -errno.EBADF
    host_cmd = _HOST_CMD.get(cmd)
    if host_cmd is None or file.host_fd is None:
        return -errno.EINVAL
    wq = flock_wait_queue(task.kernel)
    try:
        host_fcntl.flock(file.host_fd, host_cmd | (host_fcntl.LOCK_NB if cmd != LOCK_UN else 0))
    except BlockingIOError:
        if not can_sleep:
            return -errno.EWOULDBLOCK
        raise WouldBlock(queues=(wq,),
                         deadline=task.kernel.sched.clock() + FLOCK_POLL_SECONDS)
    except OSError as e:
        return -(e.errno or errno.EIO)
    if cmd == LOCK_UN or len(wq):
        wq.wake_up()            # a conversion (EX -> SH) may free waiters too
    return 0


# -- POSIX and OFD record locks (fcntl F_GETLK/F_SETLK/F_SETLKW, F_OFD_*) --------------------
#
# Every guest process lives in one host process, so the host's record locks
# would never conflict between guest processes (they all belong to one host
# owner): the board keeps its own, as fs/locks.c does, per inode, in a
# file_lock_context.  A POSIX lock's owner is the files_struct (our FdTable:
# the threads, or CLONE_FILES processes, sharing descriptors); an OFD lock's
# owner is the open file description (our File).  Host processes locking the
# same host file do not see the board's locks, nor the board theirs.

# include/uapi/asm-generic/fcntl.h
F_RDLCK, F_WRLCK, F_UNLCK = 0, 1, 2
F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = 36, 37, 38
# include/linux/fs.h
FL_POSIX = 1
FL_SLEEP = 128
FL_OFDLCK = 1024
OFFSET_MAX = (1 << 63) - 1          # loff_t's largest value
MAX_DEADLK_ITERATIONS = 10          # fs/locks.c
FLOCK_SIZE = 32                     # struct flock on arm64: short, short, pad, off_t, off_t, pid_t, pad
FLOCK_FORMAT = "<hh4xqqi4x"


class FileLock:
    """struct file_lock (the POSIX/OFD part): [fl_start, fl_end] inclusive,
    fl_end == OFFSET_MAX for "to the end of the file"."""

    __slots__ = ("fl_owner", "fl_pid", "fl_flags", "fl_type", "fl_start", "fl_end", "fl_file")

    def __init__(self, owner, pid, flags, type_, start, end, file):
        self.fl_owner = owner
        self.fl_pid = pid
        self.fl_flags = flags
        self.fl_type = type_
        self.fl_start = start
        self.fl_end = end
        self.fl_file = file

    def copy(self, start=None, end=None, type_=None):
        """locks_copy_lock(), with a new range or type."""
        return FileLock(self.fl_owner, self.fl_pid, self.fl_flags,
                        self.fl_type if type_ is None else type_,
                        self.fl_start if start is None else start,
                        self.fl_end if end is None else end, self.fl_file)

    def __repr__(self):
        return "<file_lock %s %d-%d owner=%#x>" % ("RWU"[self.fl_type], self.fl_start,
                                                 self.fl_end, id(self.fl_owner))


class FileLockContext:
    """struct file_lock_context: an inode's POSIX/OFD locks (flc_posix, in
    Linux's order: owners by their first lock, each owner's by start) and
    the queue its blocked F_SETLKW callers sleep on (fl_wait)."""

    __slots__ = ("flc_posix", "wait", "key")

    def __init__(self, key):
        self.flc_posix = []
        self.wait = WaitQueue("posix_lock")
        self.key = key


def locks_inode_key(file):
    """locks_inode(): what identifies the inode behind file — the host's
    (st_dev, st_ino) for a file on a host descriptor (so two opens of one
    file share their locks), the File itself for a synthetic one.  Cached on
    the File: it is asked again when the descriptor closes."""
    key = file.__dict__.get("f_lock_key")
    if key is None:
        if file.host_fd is not None:
            st = os.fstat(file.host_fd)
            key = (st.st_dev, st.st_ino)
        else:
            key = ("file", id(file))
        file.f_lock_key = key
    return key


def locks_get_lock_context(kernel, file, create):
    """locks_get_lock_context(): the inode's context, made on first use."""
    contexts = kernel.__dict__.setdefault("file_lock_ctx", {})
    key = locks_inode_key(file)
    ctx = contexts.get(key)
    if ctx is None and create:
        ctx = contexts[key] = FileLockContext(key)
    return ctx


def _locks_put_context(kernel, ctx):
    """locks_free_lock_context(): an inode without locks or waiters keeps no context."""
    if not ctx.flc_posix and not len(ctx.wait):
        kernel.file_lock_ctx.pop(ctx.key, None)


def locks_overlap(fl1, fl2):
    """locks_overlap(): the two ranges share a byte."""
    return fl1.fl_end >= fl2.fl_start and fl2.fl_end >= fl1.fl_start


def locks_conflict(caller_fl, sys_fl):
    """locks_conflict(): a write lock conflicts with any lock; read locks do not."""
    return sys_fl.fl_type == F_WRLCK or caller_fl.fl_type == F_WRLCK


def posix_locks_conflict(caller_fl, sys_fl):
    """posix_locks_conflict(): only locks of another owner, overlapping, and
    not both read locks, conflict (an OFD and a POSIX lock never share an owner)."""
    if caller_fl.fl_owner is sys_fl.fl_owner:
        return False
    return locks_overlap(caller_fl, sys_fl) and locks_conflict(caller_fl, sys_fl)


def posix_test_lock(ctx, fl):
    """posix_test_lock(): the first lock of ctx conflicting with fl, or None."""
    if ctx is not None:
        for cfl in ctx.flc_posix:
            if posix_locks_conflict(fl, cfl):
                return cfl
    return None


def _blocked_list(kernel):
    """blocked_hash: (waiting task, its request, the lock blocking it)."""
    return kernel.__dict__.setdefault("blocked_posix_locks", [])


def what_owner_is_waiting_for(kernel, block_fl):
    """what_owner_is_waiting_for(): the lock that block_fl's owner sleeps
    on, if that owner is blocked in F_SETLKW (POSIX waiters only)."""
    for task, request, blocker in _blocked_list(kernel):
        if request.fl_owner is block_fl.fl_owner and task.exit_state is None:
            return blocker
    return None


def posix_locks_deadlock(kernel, caller_fl, block_fl):
    """posix_locks_deadlock(): does the chain of waiters starting from the
    owner of block_fl lead back to caller_fl's owner (at most
    MAX_DEADLK_ITERATIONS links)?  OFD locks are never checked: their
    owner is no task, so the chain cannot be followed."""
    if caller_fl.fl_flags & FL_OFDLCK:
        return False
    for _ in range(MAX_DEADLK_ITERATIONS):
        if caller_fl.fl_owner is block_fl.fl_owner:
            return True
        block_fl = what_owner_is_waiting_for(kernel, block_fl)
        if block_fl is None:
            break
    return False


def _posix_apply(ctx, request):
    """The second half of posix_lock_inode(): replace the owner's locks over
    request's range by request (none for F_UNLCK), splitting the locks that
    stick out of it and merging adjacent or overlapping locks of the same
    type.  The owner's locks keep their place in flc_posix."""
    owner = request.fl_owner
    mine = [fl for fl in ctx.flc_posix if fl.fl_owner is owner]
    keep = []
    for fl in mine:
        if not locks_overlap(fl, request):
            keep.append(fl)
            continue
        if fl.fl_start < request.fl_start:
            keep.append(fl.copy(end=request.fl_start - 1))
        if fl.fl_end > request.fl_end:
            keep.append(fl.copy(start=request.fl_end + 1))
    if request.fl_type != F_UNLCK:
        new = request.copy()
        rest = []
        for fl in keep:
            # "adjacent or overlapping" locks of the same type coalesce;
            # no two locks of one owner overlap any more at this point.
            if fl.fl_type == new.fl_type and (
                    fl.fl_end + 1 >= new.fl_start and new.fl_end + 1 >= fl.fl_start):
                new.fl_start = min(new.fl_start, fl.fl_start)
                new.fl_end = max(new.fl_end, fl.fl_end)
            else:
                rest.append(fl)
        keep = rest + [new]
    keep.sort(key=lambda fl: fl.fl_start)
    others = [fl for fl in ctx.flc_posix if fl.fl_owner is not owner]
    if mine:
        at = sum(1 for fl in ctx.flc_posix[:ctx.flc_posix.index(mine[0])]
                 if fl.fl_owner is not owner)
    else:
        at = len(others)
    ctx.flc_posix[:] = others[:at] + keep + others[at:]


def posix_lock_inode(task, ctx, request):
    """posix_lock_inode(): take, change or release request's range for its
    owner.  A lock of another owner in the way: -EAGAIN without FL_SLEEP,
    -EDEADLK if waiting would close a cycle of waiters, else the
    conflicting lock (FILE_LOCK_DEFERRED: the caller sleeps).  Waiters are
    woken whenever the locks change: each asks again (Linux wakes only the
    ones blocked on a changed lock; they too re-test)."""
    if request.fl_type != F_UNLCK:
        for fl in ctx.flc_posix:
            if not posix_locks_conflict(request, fl):
                continue
            if not request.fl_flags & FL_SLEEP:
                return -errno.EAGAIN
            if posix_locks_deadlock(task.kernel, request, fl):
                return -errno.EDEADLK
            return fl
    _posix_apply(ctx, request)
    if len(ctx.wait):
        ctx.wait.wake_up()
    return 0


def _blocked_remove(kernel, task):
    """locks_delete_block(): task waits no more."""
    blocked = kernel.__dict__.get("blocked_posix_locks")
    if blocked:
        blocked[:] = [b for b in blocked if b[0] is not task]


def do_lock_file_wait(task, file, request):
    """do_lock_file_wait() + vfs_lock_file(): take the lock, or sleep on the
    inode's queue until it may be free (F_SETLKW), recorded as blocked for
    posix_locks_deadlock().  A signal ends the sleep: -ERESTARTSYS."""
    kernel = task.kernel
    _blocked_remove(kernel, task)
    ctx = locks_get_lock_context(kernel, file, request.fl_type != F_UNLCK)
    if ctx is None:
        return 0                        # nothing to unlock
    res = posix_lock_inode(task, ctx, request)
    if not isinstance(res, FileLock):
        _locks_put_context(kernel, ctx)
        return res
    if not request.fl_flags & FL_OFDLCK:
        # locks_insert_global_blocked(): only POSIX waiters are followed.
        _blocked_list(kernel).append((task, request, res))

    def cancel():
        _blocked_remove(kernel, task)
        ctx.wait.remove(task)
        _locks_put_context(kernel, ctx)
    raise WouldBlock(queues=(ctx.wait,), cancel=cancel)


def locks_remove_posix(file, owner):
    """locks_remove_posix(): filp_close() drops every POSIX lock owner holds
    on file's inode — whichever descriptor of the file took them.  Costs a
    dict test when the board holds no record lock."""
    contexts = file.kernel.__dict__.get("file_lock_ctx")
    if not contexts or file.host_fd is None and "f_lock_key" not in file.__dict__:
        return
    ctx = contexts.get(locks_inode_key(file))
    if ctx is None:
        return
    if any(fl.fl_owner is owner for fl in ctx.flc_posix):
        _posix_apply(ctx, FileLock(owner, 0, FL_POSIX, F_UNLCK, 0, OFFSET_MAX, file))
        if len(ctx.wait):
            ctx.wait.wake_up()
    _locks_put_context(file.kernel, ctx)


def locks_remove_file(file):
    """locks_remove_file(): the last close of an open file description drops
    its OFD locks (owner: the File)."""
    locks_remove_posix(file, file)


def _file_pos(file):
    """filp->f_pos: the host descriptor's offset (0 for a pipe or socket)."""
    if file.host_fd is None or file.is_dir or file.body is not None:
        return file.pos
    try:
        return os.lseek(file.host_fd, 0, os.SEEK_CUR)
    except OSError:
        return 0


def _i_size(file):
    """i_size_read(file_inode(filp))."""
    if file.body is not None:
        return len(file.body)
    if file.host_fd is None:
        return 0
    return os.fstat(file.host_fd).st_size


def flock_to_posix_lock(task, file, l_type, l_whence, l_start, l_len):
    """flock64_to_posix_lock(): a FileLock (owner: task's files_struct) for
    the struct flock, or -EINVAL (bad whence, a start before 0, a negative
    length reaching before 0, a bad type — checked in that order) or
    -EOVERFLOW (start or end past OFFSET_MAX)."""
    if l_whence == SEEK_SET:
        start = 0
    elif l_whence == SEEK_CUR:
        start = _file_pos(file)
    elif l_whence == SEEK_END:
        start = _i_size(file)
    else:
        return -errno.EINVAL
    if l_start > OFFSET_MAX - start:
        return -errno.EOVERFLOW
    start += l_start
    if start < 0:
        return -errno.EINVAL
    if l_len > 0:
        if l_len - 1 > OFFSET_MAX - start:
            return -errno.EOVERFLOW
        end = start + l_len - 1
    elif l_len < 0:
        if start + l_len < 0:
            return -errno.EINVAL
        end = start - 1
        start += l_len
    else:
        end = OFFSET_MAX
    if l_type not in (F_RDLCK, F_WRLCK, F_UNLCK):       # assign_type()
        return -errno.EINVAL
    return FileLock(task.files, task.tgid, FL_POSIX, l_type, start, end, file)


def _read_flock(task, arg):
    """copy_from_user() of a struct flock: (type, whence, start, len, pid)."""
    return struct.unpack(FLOCK_FORMAT, task.uaccess.copy_from_user(arg, FLOCK_SIZE))


def locks_translate_pid(kernel, fl):
    """locks_translate_pid(): -1 for an OFD lock, else the tgid that set it
    (0 once no task has that pid: pid_nr_ns() of a freed pid)."""
    if fl.fl_flags & FL_OFDLCK:
        return -1
    return fl.fl_pid if fl.fl_pid in kernel.tasks else 0


def fcntl_getlk(task, file, cmd, arg):
    """do_fcntl(F_GETLK/F_OFD_GETLK) + fcntl_getlk(): copy the struct in
    (EFAULT), EINVAL unless F_RDLCK or F_WRLCK, then flock_to_posix_lock()'s
    errors, EINVAL for an OFD request with l_pid != 0; write back the first
    conflicting lock (l_whence SEEK_SET, l_len 0 for "to the end", l_pid -1
    for an OFD lock) or l_type F_UNLCK with the rest untouched."""
    l_type, l_whence, l_start, l_len, l_pid = _read_flock(task, arg)
    if l_type not in (F_RDLCK, F_WRLCK):
        return -errno.EINVAL
    fl = flock_to_posix_lock(task, file, l_type, l_whence, l_start, l_len)
    if not isinstance(fl, FileLock):
        return fl
    if cmd == F_OFD_GETLK:
        if l_pid != 0:
            return -errno.EINVAL
        fl.fl_flags |= FL_OFDLCK
        fl.fl_owner = file
    cfl = posix_test_lock(locks_get_lock_context(task.kernel, file, False), fl)
    if cfl is None:
        out = (F_UNLCK, l_whence, l_start, l_len, l_pid)
    else:
        length = 0 if cfl.fl_end == OFFSET_MAX else cfl.fl_end - cfl.fl_start + 1
        out = (cfl.fl_type, SEEK_SET, cfl.fl_start, length,
               locks_translate_pid(task.kernel, cfl))
    task.uaccess.copy_to_user(arg, struct.pack(FLOCK_FORMAT, *out))
    return 0


def fcntl_setlk(task, file, cmd, arg):
    """do_fcntl(F_SETLK/F_SETLKW/F_OFD_SETLK/F_OFD_SETLKW) + fcntl_setlk():
    copy the struct in (EFAULT), flock_to_posix_lock()'s errors, EBADF
    when the descriptor's access mode does not allow the type
    (check_fmode_for_setlk()), EINVAL for an OFD request with l_pid != 0;
    then take the lock: EAGAIN for a conflict without W, sleep with W
    (EDEADLK for a POSIX wait that would close a cycle).  Omitted:
    mandatory locking (no "mand" mounts on the board)."""
    l_type, l_whence, l_start, l_len, l_pid = _read_flock(task, arg)
    fl = flock_to_posix_lock(task, file, l_type, l_whence, l_start, l_len)
    if not isinstance(fl, FileLock):
        return fl
    if (fl.fl_type == F_RDLCK and not file.readable
            or fl.fl_type == F_WRLCK and not file.writable):
        return -errno.EBADF
    if cmd in (F_OFD_SETLK, F_OFD_SETLKW):
        if l_pid != 0:
            return -errno.EINVAL
        fl.fl_flags |= FL_OFDLCK
        fl.fl_owner = file
    if cmd in (F_SETLKW, F_OFD_SETLKW):
        fl.fl_flags |= FL_SLEEP
    return do_lock_file_wait(task, file, fl)
