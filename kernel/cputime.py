"""kernel/sched/cputime.c (CONFIG_TICK_CPU_ACCOUNTING, 4.14's arm64
default): splitting a task's CPU time into user and system time.

A task's runtime is measured exactly (task.utime: the host seconds its
slices took, Linux's sum_exec_runtime).  Which part of it was system time
is sampled, as Linux samples it: at every timer tick the running task is
charged one tick of user time if the core was executing its EL0 code, one
of system time if the board's kernel (a53emu's Python: a system call, a
page fault, signal delivery) was working for it (account_process_tick()).
The times a program reads are the exact runtime split in the ratio of the
sampled ticks, never going backwards (cputime_adjust()).

The tick is a53emu's timer thread (kernel/sched/core.py _tick()); it tells
where the core is by looking at the thread running the board: inside
Core.run()'s call into Unicorn is EL0, anywhere above it is the kernel.
Under --deterministic there is no tick and the clock counts instructions,
which the kernel executes none of: all time is user time there.
"""

import sys
import threading

from kernel.time.timekeeping import NSEC_PER_SEC, task_cputime


def _run_code():
    from emu.cpu import Core          # emu depends on the kernel's modules, not the reverse
    return Core.run.__code__


def _core_frame(core):
    """(top frame, frame of core.run()) of the thread running core, or None."""
    run_code = _run_code()
    me = threading.get_ident()
    for ident, top in sys._current_frames().items():
        if ident == me:
            continue
        frame = top
        while frame is not None:
            if frame.f_code is run_code and frame.f_locals.get("self") is core:
                return top, frame
            frame = frame.f_back
    return None


def account_process_tick(core):
    """account_process_tick(): charge the tick to core's task as user time
    (the core is in EL0: Unicorn is running its code) or system time."""
    task = core.current
    if task is None:
        return
    found = _core_frame(core)
    if found is None:
        return                          # between slices: the scheduler's own time
    top, run_frame = found
    if top is run_frame:
        task.utick += 1
    else:
        task.stick += 1


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
        stime = rtime * stick // (stick + utick)
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
