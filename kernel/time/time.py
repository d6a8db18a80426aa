"""kernel/time/time.c, posix-timers.c (the clock calls), hrtimer.c
(nanosleep): reading and setting the clocks, sleeping on them, and
times().

The board's clocks are described in kernel/time/timekeeping.py.  Setting
CLOCK_REALTIME needs CAP_SYS_TIME (a guest root); it sets the board's own
wall clock, never the host's (kernel/time/ntp.py, with adjtimex()).
"""

import errno
import struct

from kernel.cputime import thread_group_cputime_adjusted
from kernel.time.ntp import do_adjtimex, do_sys_settimeofday64, sys_tz
from kernel.sched.wait import ERESTART_RESTARTBLOCK, ERESTARTNOHAND, WouldBlock
from kernel.syscalls.table import syscall
from kernel.time.timekeeping import (
    CLOCK_TAI, HZ, INITIAL_JIFFIES, NSEC_PER_SEC, NSEC_PER_USEC, REALTIME_CLOCKS, TICK_NSEC,
    TIMEVAL, USER_HZ, clock_read, clock_resolution, cpu_clock, get_timespec, ktime_get,
    ktime_get_real, put_timespec, put_timespec_nofault, timespec_valid,
)
from kernel.uapi import (
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME,
    CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME,
)
from kernel.uaccess import s32

_TMS = struct.Struct("<qqqq")               # tms_utime, tms_stime, tms_cutime, tms_cstime
_TIMEZONE = struct.Struct("<ii")
NSEC_PER_CLOCK_T = NSEC_PER_SEC // USER_HZ
USEC_PER_SEC = NSEC_PER_SEC // NSEC_PER_USEC
# Clocks whose k_clock has an nsleep (the hrtimer bases and the process CPU clock).
NSLEEP_CLOCKS = (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI)


@syscall("clock_gettime", "clock timespec:out")
def sys_clock_gettime(task, clockid, tp):
    """clock_gettime(): EINVAL for an unknown clock, then EFAULT."""
    ns = clock_read(task, clockid)
    if ns is None:
        return -errno.EINVAL
    put_timespec(task, tp, ns)
    return 0


@syscall("clock_getres", "clock timespec:out")
def sys_clock_getres(task, clockid, tp):
    """clock_getres(): a NULL tp only checks the clock."""
    res = clock_resolution(task, clockid)
    if res is None:
        return -errno.EINVAL
    if tp:
        put_timespec(task, tp, res)
    return 0


@syscall("clock_settime", "clock timespec")
def sys_clock_settime(task, clockid, tp):
    """clock_settime(): EINVAL for a clock without clock_set (unknown, the
    monotonic ones, CLOCK_PROCESS/THREAD_CPUTIME_ID); the time is read
    (EFAULT); the wall clock's posix_clock_realtime_set() is
    do_sys_settimeofday64(): EINVAL, EPERM, then the board's clock is set.
    A CPU clock named by pid is checked (EINVAL), then can never be set
    (posix_cpu_clock_set: EPERM)."""
    clockid = s32(clockid)
    if clockid == CLOCK_REALTIME:
        sec, nsec = get_timespec(task, tp)
        if not timespec_valid(sec, nsec):
            return -errno.EINVAL
        return do_sys_settimeofday64(task, sec * NSEC_PER_SEC + nsec, None)
    if clockid < 0:
        get_timespec(task, tp)
        return -errno.EINVAL if cpu_clock(task, clockid) is None else -errno.EPERM
    return -errno.EINVAL


@syscall("gettimeofday", "timeval:out timezone:out")
def sys_gettimeofday(task, tv, tz):
    """gettimeofday(): the wall clock in µs, and sys_tz (UTC until
    settimeofday() sets it)."""
    if tv:
        sec, nsec = divmod(ktime_get_real(task.kernel), NSEC_PER_SEC)
        task.uaccess.copy_to_user(tv, TIMEVAL.pack(sec, nsec // NSEC_PER_USEC))
    if tz:
        task.uaccess.copy_to_user(tz, _TIMEZONE.pack(*sys_tz(task.kernel)))
    return 0


@syscall("settimeofday", "timeval timezone")
def sys_settimeofday(task, tv, tz):
    """settimeofday(): both are read (EFAULT), the time checked (EINVAL:
    timeval_valid()), then do_sys_settimeofday64() (EPERM without
    CAP_SYS_TIME, EINVAL for a timezone beyond 15 hours)."""
    ns = new_tz = None
    if tv:
        sec, usec = TIMEVAL.unpack(task.uaccess.copy_from_user(tv, TIMEVAL.size))
        if sec < 0 or not 0 <= usec < USEC_PER_SEC:
            return -errno.EINVAL
        ns = sec * NSEC_PER_SEC + usec * NSEC_PER_USEC
    if tz:
        new_tz = _TIMEZONE.unpack(task.uaccess.copy_from_user(tz, _TIMEZONE.size))
    return do_sys_settimeofday64(task, ns, new_tz)


def _clock_t(ns):
    return int(ns) // NSEC_PER_CLOCK_T


@syscall("times", "tms")
def sys_times(task, tbuf):
    """times(): the group's and its reaped children's CPU times in clock
    ticks; returns jiffies as clock_t (they start 5 minutes before a 32-bit
    wrap, INITIAL_JIFFIES).  User and system time are split by
    thread_group_cputime_adjusted() (kernel/cputime.py), as getrusage() does."""
    if tbuf:
        signal = task.signal
        utime, stime = thread_group_cputime_adjusted(task)
        task.uaccess.copy_to_user(tbuf, _TMS.pack(
            _clock_t(utime), _clock_t(stime),
            _clock_t(signal.cutime * NSEC_PER_SEC), _clock_t(signal.cstime * NSEC_PER_SEC)))
    jiffies = INITIAL_JIFFIES + ktime_get(task.kernel) // TICK_NSEC
    return jiffies * USER_HZ // HZ


def _do_nanosleep(task, clock_deadline, rem, restart, now_fn, realtime=False):
    """do_nanosleep(): sleep until now_fn() reaches clock_deadline (ns).  A
    signal handler ends it with -EINTR and, for a relative sleep, the time
    left in rem (EFAULT if rem cannot be written); without a handler the
    sleep resumes toward the same deadline (task.restart)."""
    if task.restart is not None and "deadline_ns" in task.restart:
        clock_deadline = task.restart["deadline_ns"]
    now = now_fn()
    if now >= clock_deadline:
        return 0
    # realtime: clock_was_set() wakes the sleeper to look at the clock again (ntp.py)
    task.restart = {"deadline_ns": clock_deadline, "realtime": realtime}
    sched = task.kernel.sched

    def cancel():
        if rem:
            left = max(0, clock_deadline - now_fn())
            if not put_timespec_nofault(task, rem, left):
                return -errno.EFAULT        # nanosleep_copyout()
        return None
    # The earliest the clock can get there: its rate is at most the
    # monotonic clock's (a CPU clock of one thread, exactly that).
    wake = sched.clock_ns() + (clock_deadline - now)
    raise WouldBlock(deadline=wake / NSEC_PER_SEC, restart=restart, cancel=cancel)


def _read_request(task, req):
    """The requested timespec in ns; None if invalid (EINVAL); Efault."""
    sec, nsec = get_timespec(task, req)
    if not timespec_valid(sec, nsec):
        return None
    return sec * NSEC_PER_SEC + nsec


@syscall("nanosleep", "timespec timespec:rem")
def sys_nanosleep(task, req, rem):
    """nanosleep(): relative, on CLOCK_MONOTONIC; EFAULT, EINVAL, EINTR + rem."""
    kernel = task.kernel
    if task.restart is not None and "deadline_ns" in task.restart:
        return _do_nanosleep(task, None, rem, ERESTART_RESTARTBLOCK,
                             lambda: ktime_get(kernel))
    ns = _read_request(task, req)
    if ns is None:
        return -errno.EINVAL
    return _do_nanosleep(task, ktime_get(kernel) + ns, rem, ERESTART_RESTARTBLOCK,
                         lambda: ktime_get(kernel))


@syscall("clock_nanosleep", "clock timerflags timespec timespec:rem")
def sys_clock_nanosleep(task, clockid, flags, req, rem):
    """clock_nanosleep(): EINVAL for an unknown clock, EOPNOTSUPP for one
    that cannot sleep (RAW, COARSE, CLOCK_THREAD_CPUTIME_ID: no nsleep in
    4.14's k_clock), then EFAULT/EINVAL for the request, then EINVAL for a
    thread's CPU clock named by tid (posix_cpu_nsleep()).  An
    absolute sleep restarts as it was (ERESTARTNOHAND, rem untouched); a
    relative one like nanosleep()."""
    clockid = s32(clockid)
    if clock_read(task, clockid) is None:
        return -errno.EINVAL
    kernel = task.kernel
    per_thread = False
    if clockid == CLOCK_THREAD_CPUTIME_ID:
        return -errno.EOPNOTSUPP        # clock_thread has no nsleep: ENANOSLEEP_NOTSUP
    if clockid < 0 or clockid == CLOCK_PROCESS_CPUTIME_ID:
        clock = cpu_clock(task, clockid)
        per_thread = clock.per_thread   # posix_cpu_nsleep(): EINVAL, after the copy-in
        now_fn = clock.read
    elif clockid in NSLEEP_CLOCKS:
        now_fn = (lambda: ktime_get_real(kernel)) if clockid in REALTIME_CLOCKS \
            else (lambda: ktime_get(kernel))
    else:
        return -errno.EOPNOTSUPP
    absolute = flags & TIMER_ABSTIME
    restart = ERESTARTNOHAND if absolute else ERESTART_RESTARTBLOCK
    if absolute:
        rem = 0
    realtime = clockid in REALTIME_CLOCKS
    if task.restart is not None and "deadline_ns" in task.restart:
        return _do_nanosleep(task, None, rem, restart, now_fn, realtime)
    ns = _read_request(task, req)
    if ns is None or per_thread:
        return -errno.EINVAL
    return _do_nanosleep(task, ns if absolute else now_fn() + ns, rem, restart, now_fn,
                         realtime)


@syscall("adjtimex", "p")
def sys_adjtimex(task, txc):
    """adjtimex(): the board's NTP state read and, with CAP_SYS_TIME,
    changed (kernel/time/ntp.py); the clock state is returned."""
    return do_adjtimex(task, txc)


@syscall("clock_adjtime", "clock p")
def sys_clock_adjtime(task, clockid, txc):
    """clock_adjtime(): only CLOCK_REALTIME has clock_adj; other known
    clocks are EOPNOTSUPP, unknown ones EINVAL."""
    clockid = s32(clockid)
    if clock_read(task, clockid) is None:
        return -errno.EINVAL
    if clockid != CLOCK_REALTIME:
        return -errno.EOPNOTSUPP
    return do_adjtimex(task, txc)
