"""kernel/sched/core.c: the scheduling-policy system calls (Linux 6.10 moved
them to kernel/sched/syscalls.c, whose name this file takes).

Each task keeps its policy (SCHED_NORMAL/BATCH/IDLE/FIFO/RR/DEADLINE), its
real-time priority, its nice value, its -deadline runtime/deadline/period and
sched_reset_on_fork, with Linux's permission rules and SCHED_DEADLINE's
admission control (the root domain's bandwidth: 95% of every core, as
sched_rt_runtime_us/sched_rt_period_us give it; a -deadline task cannot fork
and must be allowed on every core).  The board's scheduler is round-robin
over all runnable tasks: it stores these attributes and reports them, but
does not (yet) run FIFO/RR/DEADLINE tasks first or weigh nice values.
"""

import errno
import struct

from emu.arch import PAGE_SIZE
from kernel.cred import CAP_SYS_NICE, capable
from kernel.sched.core import SLICE_SECONDS
from kernel.sched.task import EXIT_ZOMBIE
from kernel.syscalls.table import syscall
from kernel.time.timekeeping import NSEC_PER_SEC
from kernel.uapi import RLIMIT_NICE, RLIMIT_RTPRIO
from kernel.uaccess import s32

SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE = 0, 1, 2, 3, 5, 6
SCHED_RESET_ON_FORK = 0x40000000
SETPARAM_POLICY = -1
SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM = 0x01, 0x02
SCHED_FLAG_ALL = SCHED_FLAG_RESET_ON_FORK | SCHED_FLAG_RECLAIM    # 4.14 (DL_OVERRUN: 4.16)
MAX_USER_RT_PRIO = 100
# kernel/sched/sched.h: bandwidths are fixed point with BW_SHIFT fraction bits;
# DL_SCALE: runtimes are kept in units of 2^DL_SCALE ns, so none may be smaller.
BW_SHIFT, DL_SCALE = 20, 10
# sysctl_sched_rt_runtime / sysctl_sched_rt_period (us): the -deadline bandwidth
SCHED_RT_RUNTIME_US, SCHED_RT_PERIOD_US = 950000, 1000000
_U64_MSB = 1 << 63
MIN_NICE, MAX_NICE = -20, 19
# include/linux/sched/rt.h: RR_TIMESLICE, 100 ms.
RR_TIMESLICE_NS = 100_000_000
SCHED_ATTR_SIZE_VER0 = 48
# struct sched_attr (4.14): size, policy, flags, nice, priority, runtime, deadline, period.
_SCHED_ATTR = struct.Struct("<IIQiIQQQ")
_INT = struct.Struct("<i")
_TIMESPEC = struct.Struct("<qq")
_VALID_POLICIES = (SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE)


def rt_policy(policy):
    return policy in (SCHED_FIFO, SCHED_RR)


def fair_policy(policy):
    return policy in (SCHED_NORMAL, SCHED_BATCH)


def nice_to_rlimit(nice):
    """nice_to_rlimit(): nice 19..-20 as the RLIMIT_NICE scale 1..40."""
    return MAX_NICE - nice + 1


def can_nice(task, nice):
    """can_nice(): RLIMIT_NICE allows it, or CAP_SYS_NICE."""
    return nice_to_rlimit(nice) <= task.rlim[RLIMIT_NICE][0] or capable(task, CAP_SYS_NICE)


def check_same_owner(task, p):
    """check_same_owner(): the caller's euid is p's euid or uid."""
    return task.cred.euid in (p.cred.euid, p.cred.uid)


def to_ratio(period, runtime):
    """to_ratio(): runtime/period as a BW_SHIFT fixed-point bandwidth."""
    return 0 if not period else (runtime << BW_SHIFT) // period


def dl_task_bw(p):
    """p->dl.dl_bw: the bandwidth a -deadline task holds (0 for others)."""
    if p.policy != SCHED_DEADLINE:
        return 0
    runtime, deadline, period = p.dl_params
    return to_ratio(period or deadline, runtime)


def __checkparam_dl(runtime, deadline, period):
    """__checkparam_dl(): deadline != 0, runtime >= 2^DL_SCALE, no MSB set,
    and runtime <= deadline <= period (a period of 0 means the deadline)."""
    if not deadline or runtime < 1 << DL_SCALE:
        return False
    if deadline & _U64_MSB or period & _U64_MSB:
        return False
    return not (period and period < deadline) and deadline >= runtime


def sched_dl_overflow(p, policy, dl):
    """sched_dl_overflow(): would the root domain's -deadline bandwidth
    (SCHED_RT_RUNTIME_US/SCHED_RT_PERIOD_US of each core) overflow if p got
    these parameters?  The tasks' own bandwidths are summed (dl_b->total_bw)."""
    runtime, deadline, period = dl
    new_bw = to_ratio(period or deadline, runtime) if policy == SCHED_DEADLINE else 0
    old_bw = dl_task_bw(p)
    if policy != SCHED_DEADLINE or new_bw == old_bw and p.policy == SCHED_DEADLINE:
        return False
    kernel = p.kernel
    total = sum(dl_task_bw(t) for t in kernel.tasks.values() if t.exit_state is None)
    bw = to_ratio(SCHED_RT_PERIOD_US, SCHED_RT_RUNTIME_US)
    return bw * kernel.ncpus < total - old_bw + new_bw


def sched_fork(child, parent):
    """sched_fork(): the child inherits policy, priority and nice — unless
    sched_reset_on_fork, which drops RT/DL/idle policies to SCHED_NORMAL and a
    negative nice to 0, and is not inherited.  A -deadline task may not fork
    at all (check_dl_fork)."""
    child.policy, child.rt_priority, child.nice = parent.policy, parent.rt_priority, parent.nice
    child.dl_params = parent.dl_params
    child.personality = parent.personality
    # copy_process(): the slack is inherited and becomes the child's default
    child.timer_slack_ns = child.default_timer_slack_ns = parent.timer_slack_ns
    if parent.sched_reset_on_fork:
        if not fair_policy(child.policy):
            child.policy, child.rt_priority, child.dl_params = SCHED_NORMAL, 0, (0, 0, 0)
        child.nice = max(child.nice, 0)


def check_dl_fork(parent):
    """sched_fork()'s -EAGAIN: a SCHED_DEADLINE task cannot fork (its child
    would need bandwidth of its own) unless sched_reset_on_fork."""
    if parent.policy == SCHED_DEADLINE and not parent.sched_reset_on_fork:
        return -errno.EAGAIN
    return 0


def _find_process_by_pid(task, pid):
    """find_process_by_pid(): 0 is the caller; otherwise any task whose pid
    is still attached — a zombie too, until its parent reaps it."""
    if pid == 0:
        return task
    t = task.kernel.tasks.get(pid)
    return t if t is not None and t.exit_state in (None, EXIT_ZOMBIE) else None


def __sched_setscheduler(task, p, policy, flags, priority, nice, dl=(0, 0, 0)):
    """__sched_setscheduler(user=true): validate, check permissions, store.
    policy < 0 keeps the current one (sched_setparam).  dl is
    (runtime, deadline, period) of sched_setattr; the other calls carry none,
    so they cannot make or keep a task SCHED_DEADLINE (__checkparam_dl).
    Omitted: the policy == p->policy shortcut (storing the same is the same)."""
    if policy < 0:
        reset_on_fork = p.sched_reset_on_fork
        policy = p.policy
    else:
        reset_on_fork = bool(flags & SCHED_FLAG_RESET_ON_FORK)
        if policy not in _VALID_POLICIES:
            return -errno.EINVAL
    if flags & ~SCHED_FLAG_ALL:
        return -errno.EINVAL
    if priority > MAX_USER_RT_PRIO - 1:
        return -errno.EINVAL
    if policy == SCHED_DEADLINE and not __checkparam_dl(*dl) \
            or rt_policy(policy) != (priority != 0):
        return -errno.EINVAL
    if not capable(task, CAP_SYS_NICE):
        if fair_policy(policy) and nice < p.nice and not can_nice(p, nice):
            return -errno.EPERM
        if rt_policy(policy):
            rlim_rtprio = p.rlim[RLIMIT_RTPRIO][0]
            if policy != p.policy and not rlim_rtprio:
                return -errno.EPERM
            if priority > p.rt_priority and priority > rlim_rtprio:
                return -errno.EPERM
        if policy == SCHED_DEADLINE:
            return -errno.EPERM     # unprivileged -deadline tasks: not at all, in 4.14
        if p.policy == SCHED_IDLE and policy != SCHED_IDLE and not can_nice(p, p.nice):
            return -errno.EPERM
        if not check_same_owner(task, p):
            return -errno.EPERM
        if p.sched_reset_on_fork and not reset_on_fork:
            return -errno.EPERM
    online = (1 << p.kernel.ncpus) - 1
    if policy == SCHED_DEADLINE and p.cpus_allowed & online != online:
        return -errno.EPERM         # its affinity must span the root domain
    if sched_dl_overflow(p, policy, dl):
        return -errno.EBUSY
    p.dl_params = tuple(dl) if policy == SCHED_DEADLINE else (0, 0, 0)
    p.dl_flags = flags if policy == SCHED_DEADLINE else 0
    p.policy = policy
    p.rt_priority = priority if rt_policy(policy) else 0
    if fair_policy(policy):
        p.nice = nice
    p.sched_reset_on_fork = reset_on_fork
    return 0


def do_sched_setscheduler(task, pid, policy, param):
    """do_sched_setscheduler(): EINVAL for a NULL param or negative pid,
    EFAULT, ESRCH, then sched_setscheduler() (the legacy
    SCHED_RESET_ON_FORK bit of the policy becomes the flag)."""
    pid = s32(pid)
    if not param or pid < 0:
        return -errno.EINVAL
    priority = _INT.unpack(task.uaccess.copy_from_user(param, 4))[0] & 0xFFFFFFFF
    p = _find_process_by_pid(task, pid)
    if p is None:
        return -errno.ESRCH
    flags = 0
    if policy != SETPARAM_POLICY and policy & SCHED_RESET_ON_FORK:
        flags = SCHED_FLAG_RESET_ON_FORK
        policy &= ~SCHED_RESET_ON_FORK
    return __sched_setscheduler(task, p, policy, flags, priority, p.nice)


@syscall("sched_setscheduler", "i schedpol schedparam")
def sys_sched_setscheduler(task, pid, policy, param):
    policy = s32(policy)
    if policy < 0:
        return -errno.EINVAL
    return do_sched_setscheduler(task, pid, policy, param)


@syscall("sched_setparam", "i schedparam")
def sys_sched_setparam(task, pid, param):
    return do_sched_setscheduler(task, pid, SETPARAM_POLICY, param)


@syscall("sched_getscheduler", "i")
def sys_sched_getscheduler(task, pid):
    pid = s32(pid)
    if pid < 0:
        return -errno.EINVAL
    p = _find_process_by_pid(task, pid)
    if p is None:
        return -errno.ESRCH
    return p.policy | (SCHED_RESET_ON_FORK if p.sched_reset_on_fork else 0)


@syscall("sched_getparam", "i schedparam:out")
def sys_sched_getparam(task, pid, param):
    pid = s32(pid)
    if not param or pid < 0:
        return -errno.EINVAL
    p = _find_process_by_pid(task, pid)
    if p is None:
        return -errno.ESRCH
    task.uaccess.copy_to_user(param, _INT.pack(p.rt_priority if rt_policy(p.policy) else 0))
    return 0


@syscall("sched_get_priority_max", "schedpol")
def sys_sched_get_priority_max(task, policy):
    policy = s32(policy)
    if rt_policy(policy):
        return MAX_USER_RT_PRIO - 1
    if policy in (SCHED_DEADLINE, SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE):
        return 0
    return -errno.EINVAL


@syscall("sched_get_priority_min", "schedpol")
def sys_sched_get_priority_min(task, policy):
    policy = s32(policy)
    if rt_policy(policy):
        return 1
    if policy in (SCHED_DEADLINE, SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE):
        return 0
    return -errno.EINVAL


@syscall("sched_rr_get_interval", "d timespec:out")
def sys_sched_rr_get_interval(task, pid, interval):
    """sched_rr_get_interval(): RR's 100 ms, 0 for FIFO and DEADLINE; a fair task gets
    the board's slice (Linux's CFS answers sched_slice(), which depends on
    the load — there is no fixed value to match)."""
    pid = s32(pid)
    if pid < 0:
        return -errno.EINVAL
    p = _find_process_by_pid(task, pid)
    if p is None:
        return -errno.ESRCH
    if p.policy == SCHED_RR:
        ns = RR_TIMESLICE_NS
    elif p.policy in (SCHED_FIFO, SCHED_DEADLINE):
        ns = 0                      # no get_rr_interval in their sched_class
    else:
        ns = int(SLICE_SECONDS * NSEC_PER_SEC)
    task.uaccess.copy_to_user(interval, _TIMESPEC.pack(ns // NSEC_PER_SEC, ns % NSEC_PER_SEC))
    return 0


def sched_copy_attr(task, uattr):
    """sched_copy_attr(): a struct of `size` bytes (0 = VER0); a larger one
    must be zero past what 4.14 knows; a wrong size writes the size 4.14
    knows back and is -E2BIG.  Returns the tuple or a negative errno."""
    um = task.uaccess
    size = struct.unpack("<I", um.copy_from_user(uattr, 4))[0]
    if size > PAGE_SIZE:
        return _e2big(task, uattr)
    if not size:
        size = SCHED_ATTR_SIZE_VER0
    if size < SCHED_ATTR_SIZE_VER0:
        return _e2big(task, uattr)
    if size > SCHED_ATTR_SIZE_VER0 and any(um.copy_from_user(
            uattr + SCHED_ATTR_SIZE_VER0, size - SCHED_ATTR_SIZE_VER0)):
        return _e2big(task, uattr)
    attr = list(_SCHED_ATTR.unpack(um.copy_from_user(uattr, SCHED_ATTR_SIZE_VER0)))
    attr[3] = min(max(attr[3], MIN_NICE), MAX_NICE)
    return attr


def _e2big(task, uattr):
    task.uaccess.copy_to_user(uattr, struct.pack("<I", SCHED_ATTR_SIZE_VER0))
    return -errno.E2BIG


@syscall("sched_setattr", "d p x")
def sys_sched_setattr(task, pid, uattr, flags):
    pid = s32(pid)
    if not uattr or pid < 0 or flags & 0xFFFFFFFF:
        return -errno.EINVAL
    attr = sched_copy_attr(task, uattr)
    if isinstance(attr, int):
        return attr
    _size, policy, sflags, nice, priority = attr[:5]
    if policy & 0x80000000:
        return -errno.EINVAL
    p = _find_process_by_pid(task, pid)
    if p is None:
        return -errno.ESRCH
    return __sched_setscheduler(task, p, policy, sflags, priority, nice, attr[5:8])


@syscall("sched_getattr", "d p u x")
def sys_sched_getattr(task, pid, uattr, size, flags):
    """sched_getattr(): the policy, flags and nice or priority.  4.14's
    sched_read_attr() writes its own 48 bytes with size = 48 to any buffer
    of 48 bytes or more (5.3 writes size = min(usize, its struct))."""
    pid, size = s32(pid), size & 0xFFFFFFFF
    if not uattr or pid < 0 or size > PAGE_SIZE or size < SCHED_ATTR_SIZE_VER0 \
            or flags & 0xFFFFFFFF:
        return -errno.EINVAL
    p = _find_process_by_pid(task, pid)
    if p is None:
        return -errno.ESRCH
    rt = rt_policy(p.policy)
    flags = SCHED_FLAG_RESET_ON_FORK if p.sched_reset_on_fork else 0
    dl = (0, 0, 0)
    if p.policy == SCHED_DEADLINE:
        flags, dl = p.dl_flags, p.dl_params         # __getparam_dl()
    nice = 0 if rt or p.policy == SCHED_DEADLINE else p.nice
    out = _SCHED_ATTR.pack(SCHED_ATTR_SIZE_VER0, p.policy, flags, nice,
                           p.rt_priority if rt else 0, *dl)
    task.uaccess.copy_to_user(uattr, out)
    return 0

