"""kernel/time/itimer.c: getitimer(), setitimer() (and so libc's alarm()).

ITIMER_REAL is an hrtimer on the monotonic clock that sends SIGALRM to the
process; ITIMER_VIRTUAL and ITIMER_PROF count the group's CPU time (charged
by the scheduler after each slice: account_cpu_time) and send SIGVTALRM /
SIGPROF.  arm64 has no alarm system call: libc's alarm() is setitimer().
"""

import errno
import struct

from kernel.signal import SigInfo, send_signal
from kernel.syscalls.table import syscall
from kernel.time.hrtimer import HrTimer
from kernel.time.timekeeping import NSEC_PER_USEC, TICK_NSEC, USEC_PER_SEC, ktime_get
from kernel.uapi import SIGALRM, SIGPROF, SIGVTALRM

ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF = 0, 1, 2
SI_KERNEL = 0x80
_ITIMERVAL = struct.Struct("<qqqq")         # it_interval, it_value: two timevals
_CPU_SIGNAL = {ITIMER_VIRTUAL: SIGVTALRM, ITIMER_PROF: SIGPROF}


def _timeval_valid(sec, usec):
    """timeval_valid(): non-negative seconds, microseconds below a second."""
    return sec >= 0 and 0 <= usec < USEC_PER_SEC


def _ns_to_timeval(ns):
    sec, rem = divmod(ns, USEC_PER_SEC * NSEC_PER_USEC)
    return sec, rem // NSEC_PER_USEC


def _pack(value_ns, interval_ns):
    return _ITIMERVAL.pack(*_ns_to_timeval(interval_ns), *_ns_to_timeval(value_ns))


def group_target(leader):
    """Who takes a process-directed signal: the leader, or while it is a
    zombie (it called pthread_exit) any live thread of the group — Linux
    queues on the shared pending set either way."""
    if leader.exit_state is None:
        return leader
    return next((t for t in leader.thread_group if t.exit_state is None), leader)


def it_real_fn(leader):
    """it_real_fn(): ITIMER_REAL expired — SIGALRM to the process, re-armed
    by its interval (hrtimer_forward: later expiries that were missed are
    not signalled twice)."""
    signal = leader.signal

    def fire(now):
        send_signal(group_target(leader), SigInfo(SIGALRM, SI_KERNEL), group=True)
        incr = signal.it_real_incr
        if not incr:
            return None
        expires = signal.real_timer.expires + incr
        if expires <= now:
            expires += ((now - expires) // incr + 1) * incr
        return expires
    return fire


def _get_real(task):
    """(value, interval) of ITIMER_REAL in ns; an expired but still armed
    timer reports 1 µs, never 0 (itimer_get_remtime)."""
    signal = task.signal
    timer = signal.real_timer
    if timer is None or not timer.armed:
        return 0, signal.it_real_incr
    rem = timer.expires - ktime_get(task.kernel)
    return max(rem, NSEC_PER_USEC), signal.it_real_incr


def do_getitimer(task, which):
    """(value, interval) in ns, or None for an unknown timer."""
    if which == ITIMER_REAL:
        return _get_real(task)
    if which in _CPU_SIGNAL:
        left, incr = task.signal.it.get(which, (0, 0))
        return left, incr
    return None


def do_setitimer(task, which, value_ns, interval_ns):
    """do_setitimer(): arm or disarm; returns the old (value, interval)."""
    signal = task.signal
    old = do_getitimer(task, which)
    if which == ITIMER_REAL:
        sched = task.kernel.sched
        if signal.real_timer is None:
            signal.real_timer = HrTimer(it_real_fn(task.group_leader))
        sched.timers.cancel(signal.real_timer)
        signal.it_real_incr = interval_ns
        if value_ns:
            sched.timers.start(signal.real_timer, ktime_get(task.kernel) + value_ns)
        return old
    # set_cpu_itimer(): a tick more than asked, so at least that much CPU time passes.
    if value_ns:
        signal.it[which] = [value_ns + TICK_NSEC, interval_ns]
    else:
        signal.it.pop(which, None)
    update_cpu_timers(signal)
    return old


def update_cpu_timers(signal):
    """Does the scheduler need to charge this group's CPU time?"""
    signal.cpu_timers = bool(signal.it) or any(
        t.cpu_clock is not None and t.armed for t in signal.posix_timers.values())


def account_cpu_time(task, seconds):
    """account_group_user_time() + run_posix_cpu_timers(): charge a slice
    to the CPU itimers and CPU-clock POSIX timers of the task's group."""
    from kernel.time.posix_timers import run_cpu_timers
    signal = task.signal
    ns = int(seconds * 1e9)
    for which in list(signal.it):
        entry = signal.it[which]
        entry[0] -= ns
        if entry[0] <= 0:
            send_signal(group_target(task.group_leader), SigInfo(_CPU_SIGNAL[which], SI_KERNEL),
                        group=True)
            if entry[1]:
                entry[0] += entry[1] * (-entry[0] // entry[1] + 1)
            else:
                del signal.it[which]
    run_cpu_timers(task)
    update_cpu_timers(signal)


def exit_itimers_real(signal, kernel):
    """The group is gone: its ITIMER_REAL stops (__exit_signal)."""
    if signal.real_timer is not None:
        kernel.sched.timers.cancel(signal.real_timer)
    signal.it.clear()
    signal.cpu_timers = False


@syscall("getitimer", "itimer itimerval:out")
def sys_getitimer(task, which, value):
    """getitimer(): EINVAL for an unknown timer, then EFAULT."""
    cur = do_getitimer(task, which)
    if cur is None:
        return -errno.EINVAL
    task.uaccess.copy_to_user(value, _pack(*cur))
    return 0


@syscall("setitimer", "itimer itimerval itimerval:out")
def sys_setitimer(task, which, value, ovalue):
    """setitimer(): a NULL new value disarms (4.14 still accepts it); both
    timevals must be valid (EINVAL) before the timer is looked at; the old
    value is written after the new one is set (so EFAULT there comes late)."""
    if value:
        isec, iusec, vsec, vusec = _ITIMERVAL.unpack(
            task.uaccess.copy_from_user(value, _ITIMERVAL.size))
    else:
        isec = iusec = vsec = vusec = 0
    if not (_timeval_valid(vsec, vusec) and _timeval_valid(isec, iusec)):
        return -errno.EINVAL
    if do_getitimer(task, which) is None:
        return -errno.EINVAL
    old = do_setitimer(task, which, vsec * USEC_PER_SEC * NSEC_PER_USEC + vusec * NSEC_PER_USEC,
                       isec * USEC_PER_SEC * NSEC_PER_USEC + iusec * NSEC_PER_USEC)
    if ovalue:
        task.uaccess.copy_to_user(ovalue, _pack(*old))
    return 0
