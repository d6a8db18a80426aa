"""kernel/time/timekeeping.c + posix-cpu-timers.c: the guest's clocks.

CLOCK_MONOTONIC (and RAW, COARSE, BOOTTIME: nothing here suspends or slews)
is the scheduler's clock: ns since the board booted, taken from the host's
CLOCK_MONOTONIC, or under --deterministic from the instructions run.  The
cores' virtual counter (CNTVCT_EL0) counts the same time at CNTFRQ_EL0.
CLOCK_REALTIME is the host's wall clock at boot plus the monotonic clock.  The CPU-time clocks count the
time tasks spent on a core (task.utime; all of it is user time).
"""

import struct
import time

from kernel.uaccess import Efault, s32
from kernel.uapi import (
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_THREAD_CPUTIME_ID,
)

NSEC_PER_SEC = 1_000_000_000
NSEC_PER_USEC = 1_000
USEC_PER_SEC = 1_000_000
HZ = 250                        # CONFIG_HZ of the modelled kernel (the 4 ms tick)
USER_HZ = 100                   # clock_t units of times() and /proc
TICK_NSEC = NSEC_PER_SEC // HZ
# jiffies start 5 minutes before wrapping (include/linux/jiffies.h), as a 32-bit value.
INITIAL_JIFFIES = (-300 * HZ) & 0xFFFFFFFF
CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_TAI = 8, 9, 11
MAX_CLOCKS = 16
# CPU clocks of other tasks (include/linux/posix-timers.h): ~pid << 3 | perthread << 2 | which.
CPUCLOCK_PERTHREAD_MASK = 4
CPUCLOCK_CLOCK_MASK = 3
CPUCLOCK_PROF, CPUCLOCK_VIRT, CPUCLOCK_SCHED, CPUCLOCK_MAX = 0, 1, 2, 3
CLOCKFD = 3                     # a dynamic (PTP) clock named by a descriptor

TIMESPEC = struct.Struct("<qq")
TIMEVAL = struct.Struct("<qq")

# The clocks that read the monotonic time base, the wall-clock ones, and
# which of them are hrtimer bases (can sleep and arm timers).
MONOTONIC_CLOCKS = (CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME)
REALTIME_CLOCKS = (CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI)
COARSE_CLOCKS = (CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE)
HRTIMER_CLOCKS = (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI)


def ktime_get(kernel):
    """ktime_get(): CLOCK_MONOTONIC in ns."""
    return kernel.sched.clock_ns()


def ktime_get_real(kernel):
    """ktime_get_real(): CLOCK_REALTIME in ns — the host's wall clock when
    the board booted, advanced by the board's monotonic clock (the board
    runs no NTP: its wall clock never steps or slews, and the vDSO computes
    it the same way)."""
    sched = kernel.sched
    return sched.boot_real_ns + sched.clock_ns()


def real_to_mono(kernel, real_ns):
    """A CLOCK_REALTIME instant on the monotonic time base."""
    return real_ns - (ktime_get_real(kernel) - ktime_get(kernel))


def task_cputime(task):
    """task_sched_runtime(): ns this thread has run, including the slice
    it is running now (the scheduler charges task.utime when one ends)."""
    seconds = task.utime
    if task.run_start is not None:
        seconds += time.monotonic() - task.run_start
    return int(seconds * NSEC_PER_SEC)


def thread_group_cputime(task):
    """thread_group_cputime(): ns every thread of the group has run, the
    exited ones included (signal_struct's sum_sched_runtime)."""
    return (sum(task_cputime(t) for t in task.thread_group)
            + int(task.signal.utime_dead * NSEC_PER_SEC))


class CpuClock:
    """A CPU-time clock resolved to its task: (task, per_thread)."""

    __slots__ = ("task", "per_thread")

    def __init__(self, task, per_thread):
        self.task = task
        self.per_thread = per_thread

    def read(self):
        return task_cputime(self.task) if self.per_thread else thread_group_cputime(self.task)


def cpu_clock(task, clockid):
    """check_clock() of posix-cpu-timers.c: the CpuClock a CPU clock id
    names, or None (EINVAL).  A thread clock must be of our own group, a
    process clock must name a group leader."""
    clockid = s32(clockid)
    if clockid == CLOCK_PROCESS_CPUTIME_ID:
        return CpuClock(task, False)
    if clockid == CLOCK_THREAD_CPUTIME_ID:
        return CpuClock(task, True)
    if clockid >= 0 or clockid & CPUCLOCK_CLOCK_MASK == CLOCKFD:
        return None
    if clockid & CPUCLOCK_CLOCK_MASK >= CPUCLOCK_MAX:
        return None
    pid = ~(clockid >> 3)
    per_thread = bool(clockid & CPUCLOCK_PERTHREAD_MASK)
    if pid == 0:
        return CpuClock(task, per_thread)
    target = task.kernel.tasks.get(pid)
    if target is None or target.exit_state is not None:
        return None
    if per_thread:
        if target.signal is not task.signal:
            return None
    elif target.group_leader is not target:
        return None
    return CpuClock(target, per_thread)


def clock_read(task, clockid):
    """k_clock.clock_get(): the clock's value in ns, or None for a clock id
    this kernel does not have (EINVAL).  The alarm clocks need an RTC the
    board lacks (alarm_clock_get(): -EINVAL without an rtc device)."""
    clockid = s32(clockid)
    kernel = task.kernel
    if clockid in MONOTONIC_CLOCKS:
        return ktime_get(kernel)
    if clockid in REALTIME_CLOCKS:
        return ktime_get_real(kernel)
    clock = cpu_clock(task, clockid)
    return None if clock is None else clock.read()


def clock_resolution(task, clockid):
    """k_clock.clock_getres(): 1 ns for the high-resolution clocks and the
    scheduler's CPU clocks, a tick for the coarse ones and the PROF/VIRT
    CPU clocks; None for an unknown clock."""
    clockid = s32(clockid)
    if clockid in COARSE_CLOCKS:
        return TICK_NSEC
    if clockid in MONOTONIC_CLOCKS or clockid in REALTIME_CLOCKS:
        return 1
    if cpu_clock(task, clockid) is None:
        return None
    if clockid in (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID) \
            or clockid & CPUCLOCK_CLOCK_MASK == CPUCLOCK_SCHED:
        return 1
    return (NSEC_PER_SEC + HZ - 1) // HZ


def get_timespec(task, addr):
    """copy_from_user() of a struct timespec: (sec, nsec); Efault."""
    return TIMESPEC.unpack(task.uaccess.copy_from_user(addr, TIMESPEC.size))


def timespec_valid(sec, nsec):
    """timespec64_valid(): non-negative seconds, nanoseconds below a second."""
    return sec >= 0 and 0 <= nsec < NSEC_PER_SEC


def put_timespec(task, addr, ns):
    task.uaccess.copy_to_user(addr, TIMESPEC.pack(*divmod(ns, NSEC_PER_SEC)))


def ns_to_timespec(ns):
    return divmod(ns, NSEC_PER_SEC)


def put_timespec_nofault(task, addr, ns):
    """A copy-out whose failure the caller reports as it likes: True if done."""
    try:
        put_timespec(task, addr, ns)
        return True
    except Efault:
        return False
