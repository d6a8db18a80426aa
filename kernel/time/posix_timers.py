"""kernel/time/posix-timers.c (+ posix-cpu-timers.c): timer_create(),
timer_settime(), timer_gettime(), timer_getoverrun(), timer_delete().

A timer belongs to the process; it sends its signal (SIGEV_SIGNAL) to the
process, or to one of its threads (SIGEV_THREAD_ID, how glibc and musl
build SIGEV_THREAD), or nothing (SIGEV_NONE).  Each timer has one siginfo
(Linux's preallocated sigqueue): an expiry while it is still queued only
counts an overrun, which the delivered siginfo (si_overrun) and
timer_getoverrun() report.  Clock timers are hrtimers on the monotonic
base; CPU-clock timers count the CPU time the scheduler charges.
"""

import errno
import struct

from kernel.signal import SigInfo, send_signal
from kernel.sigpending import sigqueue_alloc
from kernel.syscalls.table import syscall
from kernel.time.hrtimer import HrTimer
from kernel.time.itimer import group_target, update_cpu_timers
from kernel.time.timekeeping import (
    CLOCK_BOOTTIME_ALARM, CLOCK_REALTIME_ALARM, HRTIMER_CLOCKS, NSEC_PER_SEC, REALTIME_CLOCKS,
    clock_read, cpu_clock, ktime_get, real_to_mono, timespec_valid,
)
from kernel.uapi import (
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, NSIG, SIGALRM, TIMER_ABSTIME,
)
from kernel.uaccess import s32

SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID = 0, 1, 2, 4
SI_TIMER = -2
ENOTSUPP = 524                  # kernel-internal, but what 4.14 returns here
INT_MAX = (1 << 31) - 1
_SIGEVENT = struct.Struct("<QiiI")          # sigev_value, signo, notify, _tid (of 64 bytes)
SIGEVENT_SIZE = 64
_ITIMERSPEC = struct.Struct("<qqqq")        # it_interval, it_value


class TimerSigInfo(SigInfo):
    """The timer's sigqueue: its si_overrun is read when it is delivered."""

    __slots__ = ("timer",)

    def __init__(self, timer):
        super().__init__(timer.signo, SI_TIMER)
        self.timer = timer

    def pack(self):
        """copy_siginfo_to_user() of an SI_TIMER siginfo: si_tid, si_overrun,
        si_value; the overruns so far become timer_getoverrun()'s answer."""
        timer = self.timer
        timer.overrun_last = min(timer.overrun, INT_MAX)
        timer.overrun = 0
        head = struct.pack("<iii4xiiQ", self.signo, 0, SI_TIMER, timer.id,
                           timer.overrun_last, timer.sigval)
        return head.ljust(128, b"\0")


class PosixTimer:
    """struct k_itimer."""

    def __init__(self, task, tid, clockid, notify, signo, sigval, target, cpu):
        self.id = tid
        self.clockid = clockid
        self.notify = notify
        self.signo = signo
        self.sigval = sigval
        self.target = target            # the thread (SIGEV_THREAD_ID) or the group leader
        self.kernel = task.kernel
        self.signal = task.signal
        self.interval = 0
        self.expires = None             # monotonic ns (clock timers), when armed
        self.cpu_clock = cpu            # CpuClock for CPU-time timers, else None
        self.cpu_left = 0               # ns of CPU time until a CPU timer expires
        self.armed = False
        self.overrun = 0                # expiries while the siginfo was queued
        self.overrun_last = 0           # ... as of the last delivery
        self.sigq = TimerSigInfo(self)
        self.hrtimer = HrTimer(self._fire)

    def _queued(self):
        t = self.target
        pending = t.pending if self.notify & SIGEV_THREAD_ID else t.signal.shared_pending
        return any(i is self.sigq for i in pending.get(self.signo, ()))

    def sigqueue_free(self):
        """sigqueue_free() of release_posix_timer(): the preallocated
        siginfo's RLIMIT_SIGPENDING charge goes now unless it is queued
        (then when it is dequeued and collected: sigq and the timer refer
        to each other, so CPython's cycle collector frees that one)."""
        if not self._queued():
            self.sigq.charge = None

    def expire(self, missed):
        """posix_timer_event(): `missed` + 1 expiries happened; signal the
        first, count the rest (and any while the last is still queued)."""
        if self.notify == SIGEV_NONE:
            return
        if self._queued():
            self.overrun += missed + 1
            return
        self.overrun = missed
        if self.notify & SIGEV_THREAD_ID:
            if self.target.exit_state is None:
                send_signal(self.target, self.sigq)
        else:
            send_signal(group_target(self.target), self.sigq, group=True)

    def _fire(self, now):
        """posix_timer_fn(): an hrtimer expiry; a periodic timer goes on."""
        missed = 0
        nxt = None
        if self.interval:
            missed = (now - self.expires) // self.interval
            nxt = self.expires + (missed + 1) * self.interval
        self.expires = nxt
        self.armed = nxt is not None
        self.expire(missed)
        return nxt

    def remaining(self):
        """The it_value timer_gettime() shows (ns); an expired but still
        armed timer shows 1 ns, never 0 (common_timer_get)."""
        if not self.armed:
            return 0
        if self.cpu_clock is not None:
            return max(self.cpu_left, 1)
        now = ktime_get(self.kernel)
        if self.notify == SIGEV_NONE and self.interval and self.expires <= now:
            self.expires += ((now - self.expires) // self.interval + 1) * self.interval
        return max(self.expires - now, 1)

    def disarm(self):
        self.kernel.sched.timers.cancel(self.hrtimer)
        self.armed = False
        self.expires = None

    def arm(self, value, absolute):
        """common_timer_set() / posix_cpu_timer_set(): value is relative
        ns, or with TIMER_ABSTIME an instant of the timer's clock."""
        self.disarm()
        if not value:
            return
        self.armed = True
        if self.cpu_clock is not None:
            self.cpu_left = value - self.cpu_clock.read() if absolute else value
            if self.cpu_left <= 0:
                self.cpu_left = 0
                self.fire_cpu()
            return
        kernel = self.kernel
        if absolute:
            expires = real_to_mono(kernel, value) if self.clockid in REALTIME_CLOCKS else value
        else:
            expires = ktime_get(kernel) + value
        self.expires = expires
        if self.notify != SIGEV_NONE:
            kernel.sched.timers.start(self.hrtimer, expires)

    def fire_cpu(self):
        """A CPU-time timer ran out (cpu_timer_fire)."""
        missed = 0
        if self.interval:
            missed = -self.cpu_left // self.interval
            self.cpu_left += (missed + 1) * self.interval
        else:
            self.armed = False
        self.expire(missed)


def run_cpu_timers(task):
    """run_posix_cpu_timers(): charge the slice just run (already added to
    task.utime) to the group's CPU-clock timers."""
    for timer in list(task.signal.posix_timers.values()):
        clock = timer.cpu_clock
        if clock is None or not timer.armed or (clock.per_thread and clock.task is not task):
            continue
        last = getattr(timer, "_last_read", None)
        now = clock.read()
        timer._last_read = now
        if last is None:
            continue
        timer.cpu_left -= now - last
        if timer.cpu_left <= 0:
            timer.fire_cpu()


def exit_itimers(signal, kernel):
    """exit_itimers(): the process exits or execs — every timer goes."""
    for timer in signal.posix_timers.values():
        timer.disarm()
        timer.sigqueue_free()
    signal.posix_timers.clear()
    update_cpu_timers(signal)


def _lock_timer(task, timer_id):
    return task.signal.posix_timers.get(s32(timer_id))


@syscall("timer_create", "clock sigevent timerid")
def sys_timer_create(task, clockid, sevp, created):
    """do_timer_create(): the sigevent is checked by good_sigevent() (a
    THREAD_ID target must be a thread of ours, the signal 1..64); the id is
    written before the clock accepts the timer, and the timer is dropped
    again if that fails."""
    clockid = s32(clockid)
    event = None
    if sevp:
        # The whole struct sigevent is copied (EFAULT if any of it is unreadable).
        event = _SIGEVENT.unpack_from(task.uaccess.copy_from_user(sevp, SIGEVENT_SIZE))
    cpu = None
    if clockid < 0 or clockid in (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID):
        cpu = cpu_clock(task, clockid)
        if cpu is None:
            return -errno.EINVAL
        kind = "cpu"
    elif clockid in HRTIMER_CLOCKS:
        kind = "hrtimer"
    elif clockid in (CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM):
        kind = "alarm"
    elif clock_read(task, clockid) is not None:
        return -errno.EOPNOTSUPP            # a clock without timers (RAW, COARSE)
    else:
        return -errno.EINVAL
    charge = sigqueue_alloc(task, False)    # alloc_posix_timer(): the timer's sigqueue
    if charge is None:
        return -errno.EAGAIN
    signal = task.signal
    tid = signal.next_posix_timer_id
    signal.next_posix_timer_id = (tid + 1) & INT_MAX
    if event is not None:
        sigval, signo, notify, thread_id = event
        target = task.group_leader
        if notify == SIGEV_SIGNAL | SIGEV_THREAD_ID:
            target = task.kernel.tasks.get(s32(thread_id))
            if target is None or target.signal is not signal or target.exit_state is not None:
                return -errno.EINVAL
        if notify in (SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGEV_SIGNAL, SIGEV_THREAD):
            if signo <= 0 or signo > NSIG:
                return -errno.EINVAL
        elif notify != SIGEV_NONE:
            return -errno.EINVAL
    else:
        notify, signo, sigval, target = SIGEV_SIGNAL, SIGALRM, tid, task.group_leader
    task.uaccess.copy_to_user(created, struct.pack("<i", tid))
    if kind == "alarm":
        return -ENOTSUPP        # alarm_timer_create(): the board has no RTC
    timer = signal.posix_timers[tid] = PosixTimer(task, tid, clockid, notify, signo, sigval,
                                                  target, cpu)
    timer.sigq.charge = charge
    return 0


@syscall("timer_settime", "d timerflags itimerspec itimerspec:out")
def sys_timer_settime(task, timer_id, flags, new, old):
    """timer_settime(): EINVAL without a new value, EFAULT reading it,
    EINVAL for an invalid timespec, then for an unknown timer."""
    if not new:
        return -errno.EINVAL
    isec, insec, vsec, vnsec = _ITIMERSPEC.unpack(
        task.uaccess.copy_from_user(new, _ITIMERSPEC.size))
    if not (timespec_valid(isec, insec) and timespec_valid(vsec, vnsec)):
        return -errno.EINVAL
    timer = _lock_timer(task, timer_id)
    if timer is None:
        return -errno.EINVAL
    old_value, old_interval = timer.remaining(), timer.interval
    timer.overrun_last = 0
    timer.interval = isec * NSEC_PER_SEC + insec
    timer.arm(vsec * NSEC_PER_SEC + vnsec, flags & TIMER_ABSTIME)
    if timer.cpu_clock is not None:
        timer._last_read = timer.cpu_clock.read()
    update_cpu_timers(task.signal)
    if old:
        task.uaccess.copy_to_user(old, _ITIMERSPEC.pack(*divmod(old_interval, NSEC_PER_SEC),
                                                        *divmod(old_value, NSEC_PER_SEC)))
    return 0


@syscall("timer_gettime", "d itimerspec:out")
def sys_timer_gettime(task, timer_id, setting):
    timer = _lock_timer(task, timer_id)
    if timer is None:
        return -errno.EINVAL
    task.uaccess.copy_to_user(setting, _ITIMERSPEC.pack(*divmod(timer.interval, NSEC_PER_SEC),
                                                        *divmod(timer.remaining(), NSEC_PER_SEC)))
    return 0


@syscall("timer_getoverrun", "d")
def sys_timer_getoverrun(task, timer_id):
    timer = _lock_timer(task, timer_id)
    if timer is None:
        return -errno.EINVAL
    return timer.overrun_last


@syscall("timer_delete", "d")
def sys_timer_delete(task, timer_id):
    """timer_delete(): a signal already queued stays queued."""
    timer = task.signal.posix_timers.pop(s32(timer_id), None)
    if timer is None:
        return -errno.EINVAL
    timer.disarm()
    timer.sigqueue_free()
    update_cpu_timers(task.signal)
    return 0
