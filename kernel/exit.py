"""kernel/exit.c: a thread ends, a process becomes a zombie, a parent reaps it.

    do_exit()        a thread lets go of its mm, files and fs; the last
                     thread of a group makes the group leader a zombie and
                     tells the parent (SIGCHLD, a wake-up of its wait4())
    do_group_exit()  exit_group() and fatal signals: every thread goes
    do_wait()        wait4()/waitid(): find a zombie (or a stopped or
                     continued child), report it, release it

Children whose parent exits are handed to init (pid 1), as
forget_original_parent() does when there is no subreaper.
"""

import errno
import struct

from emu.arch import PAGE_SHIFT
from kernel.futex import exit_robust_list, futex_wake
from kernel.sched.task import EXIT_ZOMBIE, TASK_DEAD, TASK_RUNNING, TASK_STOPPED
from kernel.sched.wait import WouldBlock
from kernel.signal import SA_NOCLDWAIT, SIG_IGN, SigInfo, send_signal
from kernel.time.itimer import exit_itimers_real
from kernel.cputime import task_cputime_adjusted, thread_group_cputime_adjusted
from kernel.time.timekeeping import NSEC_PER_SEC, USER_HZ
from kernel.syscalls.table import NORETURN, syscall
from kernel.uaccess import Efault, s32
from kernel.uapi import (
    CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, P_ALL, P_PGID, P_PID,
    RUSAGE_BOTH, RUSAGE_CHILDREN, RUSAGE_THREAD, SIGCHLD, SIGKILL, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WSTOPPED, WUNTRACED,
    __WALL, __WCLONE, __WNOTHREAD,
)

NSEC_PER_CLOCK_T = NSEC_PER_SEC // USER_HZ   # clock_t, as SIGCHLD carries it


def mm_release(task):
    """mm_release(): the robust futex list, CLONE_CHILD_CLEARTID (the word
    pthread_join waits on is zeroed and its waiter woken), vfork's parent."""
    mm = task.mm
    if task.robust_list[0]:
        exit_robust_list(task)
    if task.clear_child_tid and mm.mm_users > 1:
        try:
            task.uaccess.copy_to_user(task.clear_child_tid, b"\0\0\0\0")
            futex_wake(task, task.clear_child_tid, 1)     # FUTEX_WAKE, not private
        except Efault:
            pass
        task.clear_child_tid = 0
    complete_vfork_done(task)


def complete_vfork_done(task):
    """The parent of a vfork() child runs again once the child execs or exits."""
    parent = task.vfork_done
    if parent is not None:
        task.vfork_done = None
        parent.vfork_child = None
        task.kernel.sched.wake_up_process(parent)


def mmput(mm):
    """mmput(): the last user of an address space tears it down."""
    mm.mm_users -= 1
    if mm.mm_users == 0:
        kernel = mm.kernel
        kernel.sched.drop_mm(mm)
        from kernel.mm.mmap import exit_mmap
        exit_mmap(mm)


def exit_files(task):
    files, task.files = task.files, None
    if files is not None:
        files.put()


def exit_fs(task):
    fs, task.fs = task.fs, None
    if fs is not None:
        fs.put()


def do_exit(task, code, death=None):
    """do_exit(): the thread ends with wait status `code`.

    Releases the mm, descriptor table and fs (shared ones only lose a user),
    hands children to init, and makes the thread a zombie (a group leader,
    which its parent reaps) or lets it go (other threads)."""
    if task.exit_state is not None:
        return
    kernel = task.kernel
    sched = kernel.sched
    if death is not None and task.death is None:
        task.death = death
    task.exit_code = code
    trace = kernel.trace
    if trace.syscall:
        trace.emit("exit", task=task, status=code)
    if task.core is not None:
        task.core.stop()
    sched.remove(task)
    for hook in kernel.exit_hooks:
        hook(task)
    if task.signal.live == 1:
        # The last thread: the group's timers stop (exit_itimers, __exit_signal).
        if task.signal.posix_timers:    # (the module is imported by timer_create)
            from kernel.time.posix_timers import exit_itimers
            exit_itimers(task.signal, kernel)
        exit_itimers_real(task.signal, kernel)
    if task.mm is not None:
        setmax_mm_hiwater_rss(task.signal, task.mm)
        mm_release(task)
        mm, task.mm = task.mm, None         # exit_mm(): the task has no mm left
        mmput(mm)
    exit_files(task)
    exit_fs(task)
    signal = task.signal
    signal.live -= 1
    task.state = TASK_DEAD
    task.exit_state = EXIT_ZOMBIE
    forget_original_parent(task)
    leader = task.group_leader
    if signal.live == 0:
        if not signal.group_exit:
            signal.group_exit_code = leader.exit_code if leader is not task else code
        if leader.exit_state is not None:
            exit_notify(leader)
    if task is not leader:
        release_task(task)


def exit_notify(leader):
    """exit_notify() for a thread group whose last thread is gone: tell the
    parent (exit_signal, usually SIGCHLD) and wake its wait(); a parent that
    ignores SIGCHLD (or set SA_NOCLDWAIT) lets the zombie go at once."""
    signal = leader.signal
    leader.exit_code = signal.group_exit_code if signal.group_exit else leader.exit_code
    parent = leader.real_parent
    if parent is None:
        return                  # init: the CLI reads its status
    autoreap = False
    if leader.exit_signal:
        action = parent.sighand.get(SIGCHLD, (0, 0, 0, 0))
        if leader.exit_signal == SIGCHLD and (action[0] == SIG_IGN or action[1] & SA_NOCLDWAIT):
            autoreap = True
        else:
            send_signal(parent, _child_info(leader, leader.exit_signal), group=True)
    parent.signal.wait_chldexit.wake_up()
    if autoreap:
        release_task(leader)


def _child_info(child, signo):
    """The siginfo a parent gets about child (do_notify_parent())."""
    status = child.exit_code
    if status & 0x7F:
        code = CLD_DUMPED if status & 0x80 else CLD_KILLED
        value = status & 0x7F
    else:
        code, value = CLD_EXITED, (status >> 8) & 0xFF
    info = SigInfo(signo, code, pid=child.tgid, uid=child.kernel.uid_of(child), status=value)
    # si_utime/si_stime in clock ticks: 4.14 adds the raw tick-sampled times
    # of the leader and its dead threads; a53emu's split is the adjusted one
    # (kernel/cputime.py), which has no raw tick counts to give.
    utime, stime = thread_group_cputime_adjusted(child)
    info.utime, info.stime = utime // NSEC_PER_CLOCK_T, stime // NSEC_PER_CLOCK_T
    return info


def release_task(task):
    """release_task(): the task's last trace goes (its pid is free again);
    a reaped process's times are added to its parent's."""
    kernel = task.kernel
    task.exit_state = TASK_DEAD
    kernel.tasks.pop(task.pid, None)
    group = task.thread_group
    if task in group and task is not task.group_leader:
        group.remove(task)
        __exit_signal(task)
    parent = task.real_parent
    if task is task.group_leader and parent is not None:
        if task in parent.children:
            parent.children.remove(task)
        ps = parent.signal
        cs = task.signal
        # wait_task_zombie(): thread_group_cputime_adjusted() of the child,
        # and what it had reaped, go to the parent's cutime/cstime.
        tgutime, tgstime = thread_group_cputime_adjusted(task)
        ps.cutime += tgutime / NSEC_PER_SEC + cs.cutime
        ps.cstime += tgstime / NSEC_PER_SEC + cs.cstime
        ps.cmin_flt += sum(t.min_flt for t in group) + cs.min_flt + cs.cmin_flt
        ps.cmaj_flt += sum(t.maj_flt for t in group) + cs.maj_flt + cs.cmaj_flt
        ps.cnvcsw += sum(t.nvcsw for t in group) + cs.nvcsw + cs.cnvcsw
        ps.cnivcsw += sum(t.nivcsw for t in group) + cs.nivcsw + cs.cnivcsw
        ps.cmaxrss = max(ps.cmaxrss, cs.maxrss, cs.cmaxrss)


def __exit_signal(task):
    """__exit_signal(): a thread other than the leader goes; the group's
    signal_struct keeps its times and counts for getrusage()."""
    sig = task.signal
    sig.utime_dead += task.utime
    sig.utick_dead += task.utick
    sig.stick_dead += task.stick
    sig.min_flt += task.min_flt
    sig.maj_flt += task.maj_flt
    sig.nvcsw += task.nvcsw
    sig.nivcsw += task.nivcsw


def setmax_mm_hiwater_rss(sig, mm):
    """setmax_mm_hiwater_rss(): remember mm's peak rss in the group's
    signal_struct before the mm goes (do_exit, exec_mmap)."""
    sig.maxrss = max(sig.maxrss, mm.hiwater_rss, mm.get_mm_rss())


def find_new_reaper(leader):
    """find_new_reaper(): the nearest ancestor that is a child subreaper
    (PR_SET_CHILD_SUBREAPER) and still alive, else init."""
    kernel = leader.kernel
    parent = leader.real_parent
    while parent is not None and parent.tgid != 1:
        if parent.signal.is_child_subreaper and parent.signal.live > 0:
            return parent
        parent = parent.real_parent
    return kernel.tasks.get(1)


def forget_original_parent(task):
    """forget_original_parent(): when the last thread of a group exits, its
    children get a new parent — the nearest subreaper or init — and those
    that asked for it (PR_SET_PDEATHSIG) get their signal.  Zombies among
    them are announced to the new parent at once."""
    leader = task.group_leader
    if task.signal.live > 0 or not leader.children:
        return
    reaper = find_new_reaper(leader)
    orphans, leader.children = leader.children, []
    for child in orphans:
        if child.pdeath_signal and child.exit_state is None:
            send_signal(child, SigInfo(child.pdeath_signal, 0), group=False)
        child.real_parent = reaper
        if reaper is None or reaper is leader:
            continue
        # reparent_leader(): "We don't want people slaying init" — a child
        # cloned with another exit signal tells its new parent with SIGCHLD.
        child.exit_signal = SIGCHLD
        reaper.children.append(child)
        if child.exit_state == EXIT_ZOMBIE and child.signal.live == 0:
            exit_notify(child)


def do_group_exit(task, code, death=None):
    """do_group_exit(): exit_group() or a fatal signal — every thread of the
    group exits with `code` (a wait status)."""
    signal = task.signal
    if not signal.group_exit:
        signal.group_exit = True
        signal.group_exit_code = code
        if death is not None:
            task.death = death
            task.group_leader.death = death
        for t in task.thread_group:
            if t is not task and t.exit_state is None:
                t.pending[SIGKILL] = [SigInfo(SIGKILL, 0)]
                if t.state == TASK_STOPPED:
                    t.state = TASK_RUNNING
                    task.kernel.sched.continue_task(t)
                task.kernel.sched.kick(t)
    do_exit(task, signal.group_exit_code, death)


def do_group_exit_now(task):
    """A thread that finds its group exiting (zap_other_threads' SIGKILL)."""
    do_exit(task, task.signal.group_exit_code)


# -- wait ------------------------------------------------------------------------------

_RUSAGE = struct.Struct("<18q")


def _eligible(child, pid, options, waiter):
    """eligible_pid() + eligible_child(): does this wait() cover child?"""
    if pid > 0 and child.tgid != pid:
        return False
    if pid == 0 and child.signal.pgrp != waiter.signal.pgrp:
        return False
    if pid < -1 and child.signal.pgrp != -pid:
        return False
    if options & __WALL:
        return True
    # __WCLONE selects children that signal something other than SIGCHLD.
    return bool(options & __WCLONE) == (child.exit_signal != SIGCHLD)


def k_getrusage(task, who):
    """k_getrusage(): struct rusage for RUSAGE_SELF (the whole group, its
    exited threads included), RUSAGE_THREAD, RUSAGE_CHILDREN (reaped
    children and theirs) or RUSAGE_BOTH (what wait4() reports of a zombie).
    User and system time are split as kernel/cputime.py samples them.
    Omits: block I/O counts (no block layer)."""
    sig = task.signal
    if who == RUSAGE_THREAD:
        ut, st = (ns / NSEC_PER_SEC for ns in task_cputime_adjusted(task))
        counts = [task.min_flt, task.maj_flt, task.nvcsw, task.nivcsw]
        maxrss = sig.maxrss
    else:
        ut = st = 0.0
        maxrss = 0
        counts = [0, 0, 0, 0]
        if who in (RUSAGE_CHILDREN, RUSAGE_BOTH):
            ut, st = sig.cutime, sig.cstime
            counts = [sig.cmin_flt, sig.cmaj_flt, sig.cnvcsw, sig.cnivcsw]
            maxrss = sig.cmaxrss
        if who != RUSAGE_CHILDREN:
            tgutime, tgstime = thread_group_cputime_adjusted(task)
            ut += tgutime / NSEC_PER_SEC
            st += tgstime / NSEC_PER_SEC
            counts = [c + s + sum(getattr(t, f) for t in task.thread_group) for c, s, f in zip(
                counts, (sig.min_flt, sig.maj_flt, sig.nvcsw, sig.nivcsw),
                ("min_flt", "maj_flt", "nvcsw", "nivcsw"))]
            maxrss = max(maxrss, sig.maxrss)
    if who != RUSAGE_CHILDREN and task.mm is not None:
        maxrss = max(maxrss, task.mm.hiwater_rss, task.mm.get_mm_rss())
    usec = int(ut * 1e6)
    susec = int(st * 1e6)
    minflt, majflt, nvcsw, nivcsw = counts
    return _RUSAGE.pack(usec // 1_000_000, usec % 1_000_000, susec // 1_000_000, susec % 1_000_000,
                        maxrss << (PAGE_SHIFT - 10), 0, 0, 0, minflt, majflt, 0, 0, 0, 0, 0, 0,
                        nvcsw, nivcsw)


def do_wait(task, pid, options, report):
    """do_wait(): look for a child to report; `report(child, why, status)`
    writes what the caller returns.  Returns its result, -ECHILD, 0 for
    WNOHANG, or raises WouldBlock until a child changes state."""
    leader = task.group_leader
    waiters = [leader] if options & __WNOTHREAD else [leader]
    found = False
    for parent in waiters:
        for child in list(parent.children):
            if not _eligible(child, pid, options, task):
                continue
            found = True
            sig = child.signal
            if child.exit_state is not None and sig.live == 0 and options & WEXITED:
                ret = report(child, "exited", child.exit_code)
                if not options & WNOWAIT:
                    release_task(child)
                return ret
            if options & WSTOPPED and sig.group_stop and not sig.stop_reported:
                if not options & WNOWAIT:
                    sig.stop_reported = True
                return report(child, "stopped", (sig.group_exit_code_stop << 8) | 0x7F)
            if options & WCONTINUED and not sig.cont_reported and not sig.group_stop:
                if not options & WNOWAIT:
                    sig.cont_reported = True
                return report(child, "continued", 0xFFFF)
    if not found:
        return -errno.ECHILD
    if options & WNOHANG:
        return 0
    raise WouldBlock(queues=(task.signal.wait_chldexit,))


# -- the system calls --------------------------------------------------------------------

_SIGINFO_CHLD = struct.Struct("<iii4xiIi")      # signo, errno, code, pid, uid, status


@syscall("exit", "i", ret="n")
def sys_exit(task, code):
    """exit(): this thread only."""
    do_exit(task, (code & 0xFF) << 8)
    return NORETURN


@syscall("exit_group", "i", ret="n")
def sys_exit_group(task, code):
    """exit_group(): every thread of the process."""
    do_group_exit(task, (code & 0xFF) << 8)
    return NORETURN


@syscall("wait4", "i wstatus waitopts rusage_s")
def sys_wait4(task, pid, stat_addr, options, ru):
    """wait4(): WNOHANG, WUNTRACED, WCONTINUED, __WCLONE, __WALL, __WNOTHREAD."""
    if options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL):
        return -errno.EINVAL
    pid = s32(pid)
    if pid == -0x80000000:
        return -errno.ESRCH             # -INT_MIN has no process group

    def report(child, why, status):
        if stat_addr:
            task.uaccess.copy_to_user(stat_addr, struct.pack("<i", status if status < 0x10000
                                                             else status - (1 << 32)))
        if ru:
            task.uaccess.copy_to_user(ru, k_getrusage(child, RUSAGE_BOTH))
        return child.tgid
    return do_wait(task, pid, options | WEXITED, report)


@syscall("waitid", "idtype i siginfo waitidopts rusage_s")
def sys_waitid(task, which, upid, infop, options, ru):
    """waitid(): P_ALL, P_PID, P_PGID; reports through a siginfo."""
    if options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED
                   | __WNOTHREAD | __WCLONE | __WALL):
        return -errno.EINVAL
    if not options & (WEXITED | WSTOPPED | WCONTINUED):
        return -errno.EINVAL
    upid = s32(upid)
    if which == P_ALL:
        pid = -1
    elif which == P_PID:
        if upid <= 0:
            return -errno.EINVAL
        pid = upid
    elif which == P_PGID:
        if upid < 0:
            return -errno.EINVAL
        pid = -upid if upid else 0
    else:
        return -errno.EINVAL

    def report(child, why, status):
        if why == "exited":
            if status & 0x7F:
                code = CLD_DUMPED if status & 0x80 else CLD_KILLED
                value = status & 0x7F
            else:
                code, value = CLD_EXITED, (status >> 8) & 0xFF
        elif why == "stopped":
            code, value = CLD_STOPPED, (status >> 8) & 0xFF
        else:
            code, value = CLD_CONTINUED, 18     # SIGCONT
        if infop:
            info = _SIGINFO_CHLD.pack(SIGCHLD, 0, code, child.tgid, task.kernel.uid_of(child),
                                      value)
            task.uaccess.copy_to_user(infop, info.ljust(128, b"\0"))
        if ru:
            task.uaccess.copy_to_user(ru, k_getrusage(child, RUSAGE_BOTH))
        return child.tgid
    ret = do_wait(task, pid, options, report)
    if ret == 0 and infop:
        task.uaccess.copy_to_user(infop, bytes(128))    # WNOHANG, nothing: si_pid 0
    return min(ret, 0)
