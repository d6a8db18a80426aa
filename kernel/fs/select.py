"""fs/select.c: ppoll() and pselect6() — sleeping until descriptors are ready.

Readiness comes from each file's poll (kernel/fs/poll.py: vfs_poll): the
host kernel's for descriptors it serves (pipes, terminals, sockets; regular
files are always ready), the board's for its own objects (eventfd,
signalfd, epoll); a synthetic /proc file is always readable.  A call that
finds nothing ready and may wait sleeps on what the polls collected (wait
queues, host descriptors; kernel/sched/core.py polls the latter) and its
deadline; a signal
ends the wait with -ERESTARTNOHAND, so a handler makes it -EINTR.  The
signal mask given to the call is in force while it sleeps and until the
handler of the signal that woke it has run (set_restore_sigmask()).
"""

import errno
import struct

from kernel.fs.poll import (
    POLL_ALWAYS as _ALWAYS, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND,
    POLLRDNORM, POLLWRBAND, POLLWRNORM, PollTable, vfs_poll,
)
from kernel.sched.wait import ERESTARTNOHAND, WouldBlock
from kernel.syscalls.table import syscall
from kernel.time.timekeeping import NSEC_PER_SEC, timespec_valid
from kernel.uapi import RLIMIT_NOFILE, SIGKILL, SIGSTOP
from kernel.uaccess import Efault, s32

_POLLFD = struct.Struct("<ihh")
_TIMESPEC = struct.Struct("<qq")
_UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))
# include/uapi/linux/personality.h: select() leaves its timeout alone.
STICKY_TIMEOUTS = 0x4000000


def file_poll(file):
    """f_op->poll(): the ready mask of an open file, without waiting."""
    return vfs_poll(file, None)


def _deadline(task, tsp):
    """(deadline or None for no timeout, is_zero); raises ValueError.  A call
    woken and run again keeps the deadline of its first run."""
    if task.restart is not None and "deadline" in task.restart:
        return task.restart["deadline"], False
    if not tsp:
        return None, False
    sec, nsec = _TIMESPEC.unpack(task.uaccess.copy_from_user(tsp, 16))
    if not timespec_valid(sec, nsec):
        raise ValueError()
    if sec == 0 and nsec == 0:
        return None, True
    return task.kernel.sched.clock() + sec + nsec / 1e9, False


def _set_sigmask(task, sigmask, sigsetsize):
    """The temporary mask of ppoll/pselect6: installed once per call."""
    if not sigmask or task.restart is not None and "mask_set" in task.restart:
        return
    mask = struct.unpack("<Q", task.uaccess.copy_from_user(sigmask, 8))[0]
    task.saved_sigmask = task.blocked
    task.blocked = mask & ~_UNBLOCKABLE


def _done(task):
    """A normal return puts the caller's own mask back."""
    if task.saved_sigmask is not None:
        task.blocked = task.saved_sigmask
        task.saved_sigmask = None


def _wait(task, deadline, pt, tsp=0):
    """poll_schedule_timeout(): sleep on what the polls collected in pt until
    the deadline; returns if the deadline has already passed.  A signal
    ends the sleep with -ERESTARTNOHAND, or -EINTR under STICKY_TIMEOUTS
    (sticky_interrupt())."""
    state = task.restart if task.restart is not None else {}
    state.setdefault("deadline", deadline)
    state["mask_set"] = True
    task.restart = state
    deadline = state["deadline"]
    if deadline is not None and task.kernel.sched.clock() >= deadline:
        return True
    try:
        pt.sleep(deadline, ERESTARTNOHAND)
    except WouldBlock as wb:
        if tsp and task.personality & STICKY_TIMEOUTS:
            wb.cancel = lambda: sticky_interrupt(task)
        raise


def sticky_interrupt(task):
    """poll_select_copy_remaining()'s sticky: label, for a ppoll/pselect6
    with a timeout interrupted under STICKY_TIMEOUTS: the timeout was not
    rewritten, so the call cannot restart — -ERESTARTNOHAND becomes -EINTR
    even when no handler runs (a stop and SIGCONT), and sys_ppoll()/
    sys_pselect6() put the caller's mask back at once (the non-restart
    branch of 4.14's sigsaved handling)."""
    task.restart = None
    _done(task)
    return -errno.EINTR


@syscall("ppoll", "pollfd u timespec sigset u")
def sys_ppoll(task, ufds, nfds, tsp, sigmask, sigsetsize):
    """SYSCALL ppoll + do_sys_poll(): revents for each pollfd; the count of
    ready ones.  4.14's order: the timeout (EFAULT, EINVAL), the sigmask's
    size, then nfds — an unsigned int, so a 64-bit count is cut to its low
    half — against RLIMIT_NOFILE."""
    nfds &= 0xFFFFFFFF
    try:
        deadline, zero = _deadline(task, tsp)
    except ValueError:
        return -errno.EINVAL
    if sigmask and sigsetsize != 8:
        return -errno.EINVAL
    if nfds > task.rlim[RLIMIT_NOFILE][0]:                  # RLIMIT_NOFILE
        return -errno.EINVAL
    raw = task.uaccess.copy_from_user(ufds, nfds * 8) if nfds else b""
    _set_sigmask(task, sigmask, sigsetsize)
    out = bytearray(raw)
    count = 0
    pt = PollTable()
    for i in range(nfds):
        fd, events, _ = _POLLFD.unpack_from(raw, i * 8)
        revents = 0
        if fd >= 0:
            file = task.files.get(fd)
            if file is None:
                revents = POLLNVAL
            else:
                # Once one descriptor is ready the call will not sleep:
                # the rest are polled without a table (do_pollfd's pt->_qproc = NULL).
                pt.key = (events & 0xFFFF) | _ALWAYS
                revents = vfs_poll(file, None if count else pt) & pt.key
        struct.pack_into("<h", out, i * 8 + 6, revents if revents < 0x8000 else revents - 0x10000)
        if revents:
            count += 1
    if not count and not zero:
        _wait(task, deadline, pt, tsp)
    task.uaccess.copy_to_user(ufds, bytes(out))
    poll_select_copy_remaining(task, deadline, tsp)
    _done(task)
    return count


# fs/select.c: which poll bits make a descriptor ready for each set.
POLLIN_SET = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR
POLLOUT_SET = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR
POLLEX_SET = POLLPRI


def _read_fdset(task, addr, n):
    if not addr:
        return None
    nbytes = ((n + 63) // 64) * 8
    return int.from_bytes(task.uaccess.copy_from_user(addr, nbytes), "little")


@syscall("pselect6", "d fdset fdset fdset timespec p")
def sys_pselect6(task, n, inp, outp, exp, tsp, sig):
    """core_sys_select(): the ready bits of the three sets, their count."""
    n = s32(n)
    if n < 0:
        return -errno.EINVAL
    n = min(n, task.rlim[RLIMIT_NOFILE][0])
    sigmask = sigsetsize = 0
    if sig:
        sigmask, sigsetsize = struct.unpack("<QQ", task.uaccess.copy_from_user(sig, 16))
        if sigmask and sigsetsize != 8:
            return -errno.EINVAL
    try:
        deadline, zero = _deadline(task, tsp)
    except ValueError:
        return -errno.EINVAL
    sets = [_read_fdset(task, a, n) for a in (inp, outp, exp)]
    _set_sigmask(task, sigmask, sigsetsize)
    want = (POLLIN_SET, POLLOUT_SET, POLLEX_SET)
    result = [0, 0, 0]
    pt = PollTable()
    for fd in range(n):
        bit = 1 << fd
        if not any(s is not None and s & bit for s in sets):
            continue
        file = task.files.get(fd)
        if file is None:
            _done(task)
            return -errno.EBADF
        pt.key = 0
        for k in range(3):
            if sets[k] is not None and sets[k] & bit:
                pt.key |= want[k]
        mask = vfs_poll(file, pt)
        for k in range(3):
            if sets[k] is not None and sets[k] & bit and mask & want[k]:
                result[k] |= bit
    count = sum(bin(r).count("1") for r in result)
    if not count and not zero:
        _wait(task, deadline, pt, tsp)
    for addr, value in zip((inp, outp, exp), result):
        if addr:
            task.uaccess.copy_to_user(addr, value.to_bytes(((n + 63) // 64) * 8, "little"))
    poll_select_copy_remaining(task, deadline, tsp)
    _done(task)
    return count


def poll_select_copy_remaining(task, deadline, tsp):
    """poll_select_copy_remaining(): after ppoll/pselect6, the time left
    goes back to *tsp — not for a zero timeout (deadline None), not under
    the STICKY_TIMEOUTS personality (select keeps the caller's timeout), and
    a timespec in read-only memory is no fault: the call has completed.
    An interrupted call restarts with the deadline of its first run (the
    rewritten timeout's equivalent); under STICKY_TIMEOUTS it is -EINTR
    instead (sticky_interrupt(), at the sleep)."""
    if not tsp or deadline is None or task.personality & STICKY_TIMEOUTS:
        return
    left = max(0, int((deadline - task.kernel.sched.clock()) * NSEC_PER_SEC))
    try:
        task.uaccess.copy_to_user(tsp, _TIMESPEC.pack(left // NSEC_PER_SEC, left % NSEC_PER_SEC))
    except Efault:
        pass
