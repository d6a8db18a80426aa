"""fs/locks.c: flock().

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

from kernel.fs.open import fdget
from kernel.sched.wait import WaitQueue, WouldBlock
from kernel.syscalls.table import syscall
from kernel.uaccess import s32

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
