"""kernel/exit.c, kernel/sys.c, kernel/time/*.c, kernel/sched/core.c,
drivers/char/random.c: process identity, limits, time and system facts."""

import errno
import struct

from emu.arch import PAGE_SHIFT
from kernel.cred import CAP_KILL, CAP_SYS_NICE, capable
from kernel.exit import k_getrusage
from kernel.sched.syscalls import SCHED_DEADLINE, check_same_owner
from kernel.sched.task import EXIT_ZOMBIE
from kernel.signal import kill_info, send_signal
from kernel.syscalls.table import syscall
from kernel import utsname as _uts
from kernel.uaccess import s32
from kernel.uapi import (
    GRND_NONBLOCK, GRND_RANDOM, NSIG, SIGCONT,
    RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD, SI_TKILL, SI_USER,
)

# cpumask_size(): BITS_TO_LONGS(CONFIG_NR_CPUS) longs; the board's
# CONFIG_NR_CPUS is its core count (kernel/sys_ni.py), at most 64.
CPUMASK_SIZE = 8
UTS_RELEASE, UTS_VERSION = _uts.UTS_RELEASE, _uts.UTS_VERSION     # kernel/utsname.py's



@syscall("getpid")
def sys_getpid(task):
    return task.tgid


@syscall("getppid")
def sys_getppid(task):
    """sys_getppid(): the tgid of the group leader's real_parent, 0 for
    init (Task.ppid's answer, read without the property's extra call)."""
    parent = task.group_leader.real_parent
    return parent.tgid if parent is not None else 0


@syscall("gettid")
def sys_gettid(task):
    return task.pid


@syscall("set_tid_address", "p")
def sys_set_tid_address(task, tidptr):
    task.clear_child_tid = tidptr
    return task.pid


@syscall("set_robust_list", "p u")
def sys_set_robust_list(task, head, length):
    if length != 24:                # sizeof(struct robust_list_head)
        return -errno.EINVAL
    task.robust_list = (head, length)
    return 0


@syscall("getrandom", "randbuf u grnd")
def sys_getrandom(task, buf, count, flags):
    if flags & ~(GRND_NONBLOCK | GRND_RANDOM | 4):
        return -errno.EINVAL
    count = min(count, 33554431)            # Linux caps one call at 32 MiB - 1
    task.uaccess.copy_to_user(buf, task.kernel.entropy.get_random_bytes(count))
    return count


def _find_task(task, pid):
    """find_task_by_vpid(): 0 means the caller; None if no such task (a
    zombie is one until it is reaped)."""
    pid = s32(pid)
    if pid == 0:
        return task
    t = task.kernel.tasks.get(pid)
    return t if t is not None and t.exit_state in (None, EXIT_ZOMBIE) else None


@syscall("sched_getaffinity", "d u cpuset")
def sys_sched_getaffinity(task, pid, size, mask):
    """The task's allowed cores; returns the bytes written (a long's worth)."""
    ncpus = task.kernel.ncpus
    if size * 8 < ncpus or size & 7:
        return -errno.EINVAL
    target = _find_task(task, pid)
    if target is None:
        return -errno.ESRCH
    out = target.cpus_allowed.to_bytes(8, "little")
    task.uaccess.copy_to_user(mask, out)
    return len(out)


def get_user_cpu_mask(task, ptr, length):
    """get_user_cpu_mask(): at most cpumask_size() bytes of the user's mask
    (a shorter one leaves the rest clear); EFAULT from the copy."""
    length = min(length, CPUMASK_SIZE)
    return int.from_bytes(task.uaccess.copy_from_user(ptr, length), "little") if length else 0


@syscall("sched_setaffinity", "d u cpuset")
def sys_sched_setaffinity(task, pid, size, mask):
    """sched_setaffinity(): the cores a task may run on (those of the board).
    4.14's order: the mask is copied first (EFAULT), then the task (ESRCH),
    then check_same_owner() or CAP_SYS_NICE (EPERM); a set with no online
    core is EINVAL.  A task on a core it may no longer use moves."""
    allowed = get_user_cpu_mask(task, mask, size & 0xFFFFFFFF)
    target = _find_task(task, pid)
    if target is None:
        return -errno.ESRCH
    if not check_same_owner(task, target) and not capable(task, CAP_SYS_NICE):
        return -errno.EPERM
    online = (1 << task.kernel.ncpus) - 1
    if target.policy == SCHED_DEADLINE and allowed & online != online:
        return -errno.EBUSY         # a -deadline task keeps its whole root domain
    allowed &= online
    if not allowed:
        return -errno.EINVAL
    target.cpus_allowed = allowed
    if target.core is not None and not allowed >> target.core.index & 1:
        target.core.stop()
    return 0


@syscall("getcpu", "p p p")
def sys_getcpu(task, cpup, nodep, cache):
    """getcpu(): the core we run on, NUMA node 0."""
    if cpup:
        task.uaccess.copy_to_user(cpup, struct.pack("<I", task.core.index))
    if nodep:
        task.uaccess.copy_to_user(nodep, struct.pack("<I", 0))
    return 0


@syscall("sched_yield")
def sys_sched_yield(task):
    """sched_yield(): to the back of the run queue if someone waits (the
    switch counts as involuntary, as __schedule() counts a task that is
    still TASK_RUNNING)."""
    sched = task.kernel.sched
    if sched.runqueue:
        task.core.stop()
        task.yielded = True
    return 0


# -- process groups and sessions (kernel/sys.c) -------------------------------------------

@syscall("getpgid", "i")
def sys_getpgid(task, pid):
    target = _find_task(task, pid)
    if target is None:
        return -errno.ESRCH
    return target.signal.pgrp


@syscall("getsid", "i")
def sys_getsid(task, pid):
    target = _find_task(task, pid)
    if target is None:
        return -errno.ESRCH
    return target.signal.session


@syscall("setsid")
def sys_setsid(task):
    """setsid(): a new session and process group led by the caller; EPERM
    for a process-group leader (its group would straddle two sessions)."""
    tgid = task.tgid
    kernel = task.kernel
    if any(t.signal.pgrp == tgid for t in kernel.tasks.values() if t.exit_state is None):
        return -errno.EPERM
    task.signal.session = task.signal.pgrp = tgid
    task.signal.tty = None              # proc_clear_tty(): a new session has no terminal
    return tgid


@syscall("setpgid", "i i")
def sys_setpgid(task, pid, pgid):
    """setpgid(): move the caller or one of its children (before it execs)
    into process group pgid of the same session."""
    pid, pgid = s32(pid), s32(pgid)
    if pgid < 0:
        return -errno.EINVAL
    leader = task.group_leader
    if pid == 0:
        pid = task.tgid
    if pgid == 0:
        pgid = pid
    target = task.kernel.tasks.get(pid)
    if target is None or target.exit_state is not None or target.tgid != pid:
        return -errno.ESRCH
    if target.group_leader is leader:
        pass
    elif target.real_parent is leader:
        if target.signal.session != task.signal.session:
            return -errno.EPERM
        if target.did_exec:
            return -errno.EACCES
    else:
        return -errno.ESRCH
    if target.signal.session == target.tgid:
        return -errno.EPERM                 # a session leader stays put
    if pgid != pid and not any(t.signal.pgrp == pgid and t.signal.session == task.signal.session
                               for t in task.kernel.tasks.values() if t.exit_state is None):
        return -errno.EPERM
    target.signal.pgrp = pgid
    return 0


@syscall("getrusage", "rusage rusage_s")
def sys_getrusage(task, who, usage):
    """kernel/sys.c: getrusage() — k_getrusage() copied out."""
    who = s32(who)
    if who not in (RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD):
        return -errno.EINVAL
    task.uaccess.copy_to_user(usage, k_getrusage(task, who))
    return 0


SI_LOAD_SHIFT = 16                  # include/uapi/linux/sysinfo.h


@syscall("sysinfo", "sysinfo")
def sys_sysinfo(task, info):
    """kernel/sys.c: do_sysinfo() — RAM is the board's; uptime, shared RAM
    and the thread count are the ones /proc/uptime, /proc/meminfo (Shmem)
    and /proc/loadavg show (kernel/fs/proc.py)."""
    from kernel.fs.proc import FSHIFT, calc_global_load, meminfo_counts
    kernel = task.kernel
    pages = kernel.pages
    # get_monotonic_boottime(), rounded up to whole seconds.
    uptime = -(-kernel.sched.clock_ns() // 1_000_000_000)
    loads = [v << (SI_LOAD_SHIFT - FSHIFT) for v in calc_global_load(kernel)]
    shared = meminfo_counts(kernel)["shmem"]
    procs = sum(1 for t in kernel.tasks.values() if t.exit_state is None)
    data = struct.pack("<q3QQQQQQQHH4xQQI", uptime, *loads,
                       pages.nr_pages << PAGE_SHIFT, pages.nr_free << PAGE_SHIFT,
                       shared << PAGE_SHIFT, 0, 0, 0, procs, 0, 0, 0, 1)
    task.uaccess.copy_to_user(info, data.ljust(112, b"\0"))
    return 0


@syscall("uname", "utsname")
def sys_uname(task, buf):
    uts = _uts.utsname(task.kernel)
    fields = tuple(uts[k] for k in ("sysname", "nodename", "release", "version", "machine",
                                    "domainname"))
    data = b"".join(f.encode()[:64].ljust(65, b"\0") for f in fields)
    task.uaccess.copy_to_user(buf, data)
    return 0


# -- sending signals (kernel/signal.c) ------------------------------------------------------

def _valid_signal(sig):
    return 0 <= sig <= NSIG


def kill_ok_by_cred(sender, target):
    """kill_ok_by_cred(): the sender's real or effective uid is the target's
    real or saved uid, or the sender has CAP_KILL."""
    cred, tcred = sender.cred, target.cred
    return (cred.euid in (tcred.suid, tcred.uid) or cred.uid in (tcred.suid, tcred.uid)
            or capable(sender, CAP_KILL))


def check_kill_permission(sender, target, sig):
    """check_kill_permission() for a signal from user space (kill, tkill,
    sigqueue): EINVAL for an invalid signal, then EPERM unless it stays in
    the sender's thread group or kill_ok_by_cred(); SIGCONT may also go
    anywhere in the sender's session.  Omitted: audit and LSM hooks."""
    if not _valid_signal(sig):
        return -errno.EINVAL
    if target.tgid != sender.tgid and not kill_ok_by_cred(sender, target):
        if sig != SIGCONT or target.signal.session != sender.signal.session:
            return -errno.EPERM
    return 0


def _group_send(sender, target, sig, code=SI_USER):
    """group_send_sig_info(): 0, -EINVAL or -EPERM; signal 0 only checks."""
    err = check_kill_permission(sender, target, sig)
    if err:
        return err
    if sig:
        send_signal(target, kill_info(sender, sig, code), group=True)
    return 0


def _processes(task):
    """Every live or zombie thread-group leader."""
    return [t for t in task.kernel.tasks.values() if t is t.group_leader
            and (t.exit_state is None or t.thread_group_live() or t.exit_state == EXIT_ZOMBIE)]


@syscall("kill", "i sig")
def sys_kill(task, pid, sig):
    """kill_something_info(): pid > 0 one process, 0 the caller's process
    group, -1 every process but init and the caller, < -1 group -pid."""
    pid = s32(pid)
    sig = s32(sig)
    if pid > 0:
        # kill_pid_info(): pid_task(PIDTYPE_PID) is any thread's id, the
        # signal goes to its whole group with that thread tried first.
        target = task.kernel.tasks.get(pid)
        if target is None:
            return -errno.ESRCH
        return _group_send(task, target, sig)
    if not _valid_signal(sig):
        return -errno.EINVAL
    if pid == -1:
        targets = [p for p in _processes(task) if p.tgid not in (1, task.tgid)]
    else:
        pgrp = task.signal.pgrp if pid == 0 else -pid
        targets = [p for p in _processes(task) if p.signal.pgrp == pgrp]
    if not targets:
        return -errno.ESRCH
    errs = [_group_send(task, p, sig) for p in targets]
    if pid == -1:
        # kill_something_info(): the last error other than EPERM, else 0
        return next((e for e in reversed(errs) if e != -errno.EPERM), 0)
    # __kill_pgrp_info(): success if any member took it, else the last error
    return 0 if 0 in errs else errs[-1]


def _do_tkill(task, tgid, tid, sig):
    """do_tkill(): a signal to one thread (tgid <= 0: any group)."""
    target = task.kernel.tasks.get(tid)
    if target is None or target.exit_state is not None or (tgid > 0 and target.tgid != tgid):
        return -errno.ESRCH
    err = check_kill_permission(task, target, sig)
    if err:
        return err
    if sig:
        return send_signal(target, kill_info(task, sig, SI_TKILL))
    return 0


@syscall("tgkill", "i i sig")
def sys_tgkill(task, tgid, tid, sig):
    tgid, tid = s32(tgid), s32(tid)
    if tgid <= 0 or tid <= 0:
        return -errno.EINVAL
    return _do_tkill(task, tgid, tid, s32(sig))


@syscall("tkill", "i sig")
def sys_tkill(task, tid, sig):
    tid = s32(tid)
    if tid <= 0:
        return -errno.EINVAL
    return _do_tkill(task, 0, tid, s32(sig))


def _copy_siginfo(task, sig, uinfo, target_tgid):
    """The siginfo a sigqueue() caller hands in; a caller may not forge one
    that claims to come from the kernel or from kill() to someone else."""
    raw = task.uaccess.copy_from_user(uinfo, 128)
    code = struct.unpack_from("<i", raw, 8)[0]
    if (code >= 0 or code == SI_TKILL) and target_tgid != task.tgid:
        return None
    info = kill_info(task, sig, code)
    info.raw = raw
    return info


def _do_sigqueue(task, target, sig, uinfo, group):
    """do_rt_sigqueueinfo(): check and send the caller's siginfo."""
    info = _copy_siginfo(task, sig, uinfo, target.tgid)
    if info is None:
        return -errno.EPERM
    err = check_kill_permission(task, target, sig)
    if err:
        return err
    if sig:
        return send_signal(target, info, group=group)
    return 0


@syscall("rt_sigqueueinfo", "i sig siginfo_in")
def sys_rt_sigqueueinfo(task, tgid, sig, uinfo):
    """rt_sigqueueinfo(): sigqueue() — a signal with a value, to a process;
    like kill(), kill_proc_info() takes any thread's id for its group."""
    target = task.kernel.tasks.get(s32(tgid))
    if target is None:
        return -errno.ESRCH
    return _do_sigqueue(task, target, s32(sig), uinfo, True)


@syscall("rt_tgsigqueueinfo", "i i sig siginfo_in")
def sys_rt_tgsigqueueinfo(task, tgid, tid, sig, uinfo):
    """rt_tgsigqueueinfo(): the same, to one thread."""
    tgid, tid = s32(tgid), s32(tid)
    if tgid <= 0 or tid <= 0:
        return -errno.EINVAL
    target = task.kernel.tasks.get(tid)
    if target is None or target.exit_state is not None or target.tgid != tgid:
        return -errno.ESRCH
    return _do_sigqueue(task, target, s32(sig), uinfo, False)
