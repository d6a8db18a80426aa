"""kernel/sched/cputime.c (CONFIG_TICK_CPU_ACCOUNTING, 4.14's arm64
default): splitting a task's CPU time into user and system time.

A task's runtime is measured exactly (task.utime: the host seconds its
slices took, Linux's sum_exec_runtime).  Which part of it was system time
is sampled, as Linux samples it, once a timer tick: Linux charges the
tick to user or system time by where the CPU was (account_process_tick());
a53emu measures, from the tick, the task's own code up to its next system
call and that call (the board's kernel, a53emu's Python), and splits the
tick in that proportion.  The times a program reads are the exact runtime
split in the ratio of the sampled ticks, never going backwards
(cputime_adjust()).  Page faults and signal delivery count as user time.

The tick is a53emu's timer thread (kernel/sched/core.py _tick()).  Under
--deterministic there is no tick and the clock counts instructions, which
the kernel executes none of: all time is user time there.
"""

import time

from kernel.time.timekeeping import NSEC_PER_SEC, task_cputime


def account_process_tick(core):
    """account_process_tick(), called by the timer thread at each tick for
    the task on core.  Where the core is cannot be seen from that thread
    (it runs only when the board's thread lets go of the GIL, which it does
    on entering Unicorn: a look would always find EL0).  So the tick asks
    the system-call entry to measure the next call (el0_svc's
    instrumented path: nothing on the fast path); a tick that passes with
    no call in it is user time."""
    task = core.current
    if task is None:
        return
    table = task.kernel.syscalls
    pending = table.cputime_sample
    if pending is not None:
        if pending[0] is task:
            task.utick += 1             # the last tick's sample is still open: no call since
        return
    table.request_cputime_sample(task, time.perf_counter())


def account_sampled_tick(task, sample, t_entry, t_exit):
    """The sample the tick asked for: from the tick to this call's entry
    the task ran its own code, then the call ran in the kernel; the tick
    is charged to user and system time in that proportion."""
    stask, t_tick = sample
    if stask is not task:
        return                          # another task's call: nobody's sample
    span = t_exit - t_tick
    if span <= 0:
        return
    frac = min(1.0, (t_exit - t_entry) / span)
    task.stick += frac
    task.utick += 1.0 - frac


class PrevCputime:
    """struct prev_cputime: the last split handed out, so that neither
    part ever decreases."""

    __slots__ = ("utime", "stime")

    def __init__(self):
        self.utime = self.stime = 0


def cputime_adjust(rtime, utick, stick, prev):
    """cputime_adjust(): (utime, stime) in ns — rtime split in the ratio of
    the sampled ticks (scale_stime()), each part monotonic across calls."""
    if prev.stime + prev.utime >= rtime:
        return prev.utime, prev.stime
    if stick == 0:
        utime, stime = rtime, 0
    elif utick == 0:
        utime, stime = 0, rtime
    else:
        stime = int(rtime * stick / (stick + utick))      # scale_stime()
        utime = rtime - stime
    stime = max(stime, prev.stime)
    utime = rtime - stime
    if utime < prev.utime:
        utime = prev.utime
        stime = rtime - utime
    prev.utime, prev.stime = utime, stime
    return utime, stime


def task_cputime_adjusted(task):
    """task_cputime_adjusted(): the thread's (utime, stime) in ns."""
    return cputime_adjust(task_cputime(task), task.utick, task.stick, task.prev_cputime)


def thread_group_cputime_adjusted(task):
    """thread_group_cputime_adjusted(): the group's (utime, stime) in ns,
    its released threads included."""
    sig = task.signal
    group = task.thread_group
    rtime = (sum(task_cputime(t) for t in group) + int(sig.utime_dead * NSEC_PER_SEC))
    utick = sum(t.utick for t in group) + sig.utick_dead
    stick = sum(t.stick for t in group) + sig.stick_dead
    return cputime_adjust(rtime, utick, stick, sig.prev_cputime)
