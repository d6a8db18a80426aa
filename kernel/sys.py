"""kernel/sys.c: prctl(), the set*id family, getpriority/setpriority and the
resource limits (getrlimit/setrlimit/prlimit64).

prctl() — the per-process knobs a board can honour:

PR_SET_NAME/PR_GET_NAME (the comm), PR_SET_PDEATHSIG/PR_GET_PDEATHSIG,
PR_SET_DUMPABLE/PR_GET_DUMPABLE, PR_SET_CHILD_SUBREAPER/PR_GET_CHILD_SUBREAPER
(orphans go to the nearest subreaper ancestor instead of init),
PR_SET_NO_NEW_PRIVS/PR_GET_NO_NEW_PRIVS, PR_SET_TIMERSLACK/PR_GET_TIMERSLACK
(recorded and inherited; the board's timers add no slack).  Any other option
is -EINVAL, which is what 4.14 answers for options it does not know.
The capability options (PR_CAPBSET_READ/DROP, PR_GET/SET_KEEPCAPS,
PR_GET/SET_SECUREBITS, PR_CAP_AMBIENT) work on the task's cred
(kernel/cred.py), as security/commoncap.c does.

Resource limits live in task.signal.rlim and are enforced where the kernel
owns the resource: NOFILE (FdTable.max_fds), AS/DATA/STACK/MEMLOCK (mm),
NPROC (copy_process), FSIZE (the write paths, SIGXFSZ), CPU (the scheduler's
accounting, SIGXCPU/SIGKILL).  RSS, LOCKS, SIGPENDING, MSGQUEUE and RTTIME
are stored and reported only, NICE and RTPRIO guard nice and sched_*.
"""

import errno
import stat
import struct

from kernel.cred import (
    CAP_SETGID, CAP_SETPCAP, CAP_SETUID, CAP_SYS_NICE, CAP_SYS_RESOURCE, INVALID_ID,
    LSM_SETID_FS, LSM_SETID_ID, LSM_SETID_RE, LSM_SETID_RES, ROOT_UID, SECURE_ALL_BITS,
    SECURE_ALL_LOCKS, SECURE_KEEP_CAPS, SECURE_NO_CAP_AMBIENT_RAISE, cap_task_fix_setuid,
    cap_valid, capable, commit_creds, issecure, prepare_creds, uid_valid, user_processes,
)
from kernel.sched.syscalls import MAX_NICE, MIN_NICE, can_nice, nice_to_rlimit
from kernel.signal import kill_info, send_signal
from kernel.syscalls.table import syscall
from kernel.uapi import (
    NSIG, RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_NPROC,
    SIGXFSZ,
)
from kernel.uaccess import s32

PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2
PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4
PR_GET_KEEPCAPS, PR_SET_KEEPCAPS = 7, 8
PR_SET_NAME, PR_GET_NAME = 15, 16
PR_CAPBSET_READ, PR_CAPBSET_DROP = 23, 24
PR_GET_SECUREBITS, PR_SET_SECUREBITS = 27, 28
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_LOWER = 1, 2, 3
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_GET_TIMERSLACK, PR_SET_TIMERSLACK = 30, 29
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 38, 39
TASK_COMM_LEN = 16
_U32 = struct.Struct("<I")
_RLIMIT = struct.Struct("<QQ")


@syscall("prctl", "prctlopt x x x x")
def sys_prctl(task, option, arg2, arg3, arg4, arg5):
    option &= 0xFFFFFFFF
    um = task.uaccess
    ret = prctl_caps(task, option, arg2, arg3, arg4, arg5)
    if ret is not None:
        return ret
    if option == PR_SET_NAME:
        name = um.strncpy_from_user(arg2, TASK_COMM_LEN - 1)
        task.comm = name[:TASK_COMM_LEN - 1].decode("latin-1")
        return 0
    if option == PR_GET_NAME:
        um.copy_to_user(arg2, task.comm.encode("latin-1")[:TASK_COMM_LEN - 1].ljust(
            TASK_COMM_LEN, b"\0"))
        return 0
    if option == PR_SET_PDEATHSIG:
        if not 0 <= arg2 <= NSIG:
            return -errno.EINVAL
        task.pdeath_signal = arg2
        return 0
    if option == PR_GET_PDEATHSIG:
        um.copy_to_user(arg2, struct.pack("<i", task.pdeath_signal))
        return 0
    if option == PR_GET_DUMPABLE:
        return task.signal.dumpable
    if option == PR_SET_DUMPABLE:
        if arg2 not in (0, 1):
            return -errno.EINVAL
        task.signal.dumpable = arg2
        return 0
    if option == PR_SET_CHILD_SUBREAPER:
        task.signal.is_child_subreaper = bool(arg2)
        return 0
    if option == PR_GET_CHILD_SUBREAPER:
        um.copy_to_user(arg2, struct.pack("<i", int(task.signal.is_child_subreaper)))
        return 0
    if option == PR_SET_NO_NEW_PRIVS:
        if arg2 != 1 or arg3 or arg4 or arg5:
            return -errno.EINVAL
        task.no_new_privs = True
        return 0
    if option == PR_GET_NO_NEW_PRIVS:
        if arg2 or arg3 or arg4 or arg5:
            return -errno.EINVAL
        return int(task.no_new_privs)
    if option == PR_GET_TIMERSLACK:
        return task.timer_slack_ns
    if option == PR_SET_TIMERSLACK:
        # arg2 is unsigned long; 4.14 tests "arg2 <= 0", i.e. 0 restores the default
        task.timer_slack_ns = arg2 if arg2 else task.default_timer_slack_ns
        return 0
    return -errno.EINVAL


# -- prctl: capabilities and securebits (security/commoncap.c: cap_task_prctl) ---------

def prctl_caps(task, option, arg2, arg3, arg4, arg5):
    """The prctl options that concern capabilities: PR_CAPBSET_READ/DROP,
    PR_GET/SET_KEEPCAPS, PR_GET/SET_SECUREBITS, PR_CAP_AMBIENT.  None if
    option is none of them."""
    cred = task.cred
    if option == PR_CAPBSET_READ:
        if not cap_valid(arg2):
            return -errno.EINVAL
        return cred.cap_bset >> arg2 & 1
    if option == PR_CAPBSET_DROP:
        if not capable(task, CAP_SETPCAP):
            return -errno.EPERM
        if not cap_valid(arg2):
            return -errno.EINVAL
        new = prepare_creds(task)
        new.cap_bset &= ~(1 << arg2)
        return commit_creds(task, new)
    if option == PR_GET_KEEPCAPS:
        return int(issecure(cred, SECURE_KEEP_CAPS))
    if option == PR_SET_KEEPCAPS:
        if arg2 > 1:
            return -errno.EINVAL
        if issecure(cred, SECURE_KEEP_CAPS + 1):            # SECURE_KEEP_CAPS_LOCKED
            return -errno.EPERM
        new = prepare_creds(task)
        new.securebits = new.securebits & ~(1 << SECURE_KEEP_CAPS) | arg2 << SECURE_KEEP_CAPS
        return commit_creds(task, new)
    if option == PR_GET_SECUREBITS:
        return cred.securebits
    if option == PR_SET_SECUREBITS:
        old = cred.securebits
        if ((old & SECURE_ALL_LOCKS) >> 1 & (old ^ arg2)      # a locked bit would change
                or old & SECURE_ALL_LOCKS & ~arg2                 # a lock would be undone
                or arg2 & ~(SECURE_ALL_LOCKS | SECURE_ALL_BITS)
                or not capable(task, CAP_SETPCAP)):
            return -errno.EPERM
        new = prepare_creds(task)
        new.securebits = arg2
        return commit_creds(task, new)
    if option == PR_CAP_AMBIENT:
        return _prctl_cap_ambient(task, arg2, arg3, arg4, arg5)
    return None


def _prctl_cap_ambient(task, op, cap, arg4, arg5):
    """PR_CAP_AMBIENT: IS_SET/RAISE/LOWER one capability, or CLEAR_ALL.
    Raising needs it permitted and inheritable, and no
    SECURE_NO_CAP_AMBIENT_RAISE."""
    cred = task.cred
    if op == PR_CAP_AMBIENT_CLEAR_ALL:
        if cap or arg4 or arg5:
            return -errno.EINVAL
        new = prepare_creds(task)
        new.cap_ambient = 0
        return commit_creds(task, new)
    if not cap_valid(cap) or arg4 or arg5:
        return -errno.EINVAL
    if op == PR_CAP_AMBIENT_IS_SET:
        return cred.cap_ambient >> cap & 1
    if op not in (PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_LOWER):
        return -errno.EINVAL
    if op == PR_CAP_AMBIENT_RAISE and (not cred.cap_permitted >> cap & 1
                                       or not cred.cap_inheritable >> cap & 1
                                       or issecure(cred, SECURE_NO_CAP_AMBIENT_RAISE)):
        return -errno.EPERM
    new = prepare_creds(task)
    if op == PR_CAP_AMBIENT_RAISE:
        new.cap_ambient |= 1 << cap
    else:
        new.cap_ambient &= ~(1 << cap)
    return commit_creds(task, new)


# -- the set*id family (kernel/sys.c) ---------------------------------------------------

def _id(value):
    """uid_t/gid_t arguments are 32 bits."""
    return value & 0xFFFFFFFF


def set_user(task, new):
    """set_user(): a real uid change; note PF_NPROC_EXCEEDED if the new user
    already has RLIMIT_NPROC tasks (execve() then fails with EAGAIN)."""
    over = user_processes(task.kernel, new.uid) >= task.rlim[RLIMIT_NPROC][0]
    task.nproc_exceeded = over and new.uid != ROOT_UID
    return 0


@syscall("getuid")
def sys_getuid(task):
    return task.cred.uid


@syscall("geteuid")
def sys_geteuid(task):
    return task.cred.euid


@syscall("getgid")
def sys_getgid(task):
    return task.cred.gid


@syscall("getegid")
def sys_getegid(task):
    return task.cred.egid


@syscall("setreuid", "uid uid")
def sys_setreuid(task, ruid, euid):
    """setreuid(): an unprivileged caller may set the real uid to its real
    or effective uid and the effective uid to its real, effective or saved
    one; the saved uid follows the effective one when the real uid is set
    or the effective uid becomes other than the old real uid."""
    ruid, euid = _id(ruid), _id(euid)
    old = task.cred
    new = old.copy()
    privileged = capable(task, CAP_SETUID)
    if ruid != INVALID_ID:
        new.uid = ruid
        if ruid not in (old.uid, old.euid) and not privileged:
            return -errno.EPERM
    if euid != INVALID_ID:
        new.euid = euid
        if euid not in (old.uid, old.euid, old.suid) and not privileged:
            return -errno.EPERM
    if new.uid != old.uid:
        set_user(task, new)
    if ruid != INVALID_ID or (euid != INVALID_ID and euid != old.uid):
        new.suid = new.euid
    new.fsuid = new.euid
    cap_task_fix_setuid(new, old, LSM_SETID_RE)
    return commit_creds(task, new)


@syscall("setuid", "uid")
def sys_setuid(task, uid):
    """setuid(): with CAP_SETUID all of real, effective, saved and fs uid;
    without, only the effective (and fs) uid, to the real or saved one."""
    uid = _id(uid)
    if not uid_valid(uid):
        return -errno.EINVAL
    old = task.cred
    new = old.copy()
    if capable(task, CAP_SETUID):
        new.suid = new.uid = uid
        if uid != old.uid:
            set_user(task, new)
    elif uid not in (old.uid, new.suid):
        return -errno.EPERM
    new.fsuid = new.euid = uid
    cap_task_fix_setuid(new, old, LSM_SETID_ID)
    return commit_creds(task, new)


@syscall("setresuid", "uid uid uid")
def sys_setresuid(task, ruid, euid, suid):
    """setresuid(): -1 leaves an id alone; without CAP_SETUID each new id
    must be one of the current real, effective or saved uids."""
    ids = [_id(ruid), _id(euid), _id(suid)]
    old = task.cred
    if not capable(task, CAP_SETUID):
        for value in ids:
            if value != INVALID_ID and value not in (old.uid, old.euid, old.suid):
                return -errno.EPERM
    new = old.copy()
    ruid, euid, suid = ids
    if ruid != INVALID_ID:
        new.uid = ruid
        if ruid != old.uid:
            set_user(task, new)
    if euid != INVALID_ID:
        new.euid = euid
    if suid != INVALID_ID:
        new.suid = suid
    new.fsuid = new.euid
    cap_task_fix_setuid(new, old, LSM_SETID_RES)
    return commit_creds(task, new)


def _put_ids(task, addrs, values):
    """put_user() of each id in turn: an earlier one may land before a later
    pointer faults, as in Linux."""
    for addr, value in zip(addrs, values):
        task.uaccess.copy_to_user(addr, _U32.pack(value))
    return 0


@syscall("getresuid", "intout intout intout")
def sys_getresuid(task, ruidp, euidp, suidp):
    c = task.cred
    return _put_ids(task, (ruidp, euidp, suidp), (c.uid, c.euid, c.suid))


@syscall("getresgid", "intout intout intout")
def sys_getresgid(task, rgidp, egidp, sgidp):
    c = task.cred
    return _put_ids(task, (rgidp, egidp, sgidp), (c.gid, c.egid, c.sgid))


@syscall("setregid", "uid uid")
def sys_setregid(task, rgid, egid):
    """setregid(): setreuid()'s rules with CAP_SETGID, and no capability
    changes."""
    rgid, egid = _id(rgid), _id(egid)
    old = task.cred
    new = old.copy()
    privileged = capable(task, CAP_SETGID)
    if rgid != INVALID_ID:
        if rgid in (old.gid, old.egid) or privileged:
            new.gid = rgid
        else:
            return -errno.EPERM
    if egid != INVALID_ID:
        if egid in (old.gid, old.egid, old.sgid) or privileged:
            new.egid = egid
        else:
            return -errno.EPERM
    if rgid != INVALID_ID or (egid != INVALID_ID and egid != old.gid):
        new.sgid = new.egid
    new.fsgid = new.egid
    return commit_creds(task, new)


@syscall("setgid", "uid")
def sys_setgid(task, gid):
    gid = _id(gid)
    if not uid_valid(gid):
        return -errno.EINVAL
    old = task.cred
    new = old.copy()
    if capable(task, CAP_SETGID):
        new.gid = new.egid = new.sgid = new.fsgid = gid
    elif gid in (old.gid, old.sgid):
        new.egid = new.fsgid = gid
    else:
        return -errno.EPERM
    return commit_creds(task, new)


@syscall("setresgid", "uid uid uid")
def sys_setresgid(task, rgid, egid, sgid):
    ids = [_id(rgid), _id(egid), _id(sgid)]
    old = task.cred
    if not capable(task, CAP_SETGID):
        for value in ids:
            if value != INVALID_ID and value not in (old.gid, old.egid, old.sgid):
                return -errno.EPERM
    new = old.copy()
    rgid, egid, sgid = ids
    if rgid != INVALID_ID:
        new.gid = rgid
    if egid != INVALID_ID:
        new.egid = egid
    if sgid != INVALID_ID:
        new.sgid = sgid
    new.fsgid = new.egid
    return commit_creds(task, new)


@syscall("setfsuid", "uid")
def sys_setfsuid(task, uid):
    """setfsuid(): returns the old fsuid whether or not it changed (an id
    the caller may not take is silently refused)."""
    uid = _id(uid)
    old = task.cred
    if not uid_valid(uid):
        return old.fsuid
    if (uid in (old.uid, old.euid, old.suid, old.fsuid) or capable(task, CAP_SETUID)) \
            and uid != old.fsuid:
        new = old.copy()
        new.fsuid = uid
        cap_task_fix_setuid(new, old, LSM_SETID_FS)
        commit_creds(task, new)
    return old.fsuid


@syscall("setfsgid", "uid")
def sys_setfsgid(task, gid):
    gid = _id(gid)
    old = task.cred
    if not uid_valid(gid):
        return old.fsgid
    if (gid in (old.gid, old.egid, old.sgid, old.fsgid) or capable(task, CAP_SETGID)) \
            and gid != old.fsgid:
        new = old.copy()
        new.fsgid = gid
        commit_creds(task, new)
    return old.fsgid


# -- getpriority/setpriority (kernel/sys.c) --------------------------------------------

PRIO_PROCESS, PRIO_PGRP, PRIO_USER = 0, 1, 2


def _prio_targets(task, which, who):
    """The tasks which/who names, or None for an unknown id: a thread for
    PRIO_PROCESS, every thread of the process group, every thread whose
    real uid is who (0: the caller's)."""
    live = [t for t in task.kernel.tasks.values() if t.exit_state is None]
    if which == PRIO_PROCESS:
        if not who:
            return [task]
        t = task.kernel.tasks.get(who)
        return [t] if t is not None and t.exit_state is None else []
    if which == PRIO_PGRP:
        pgrp = who or task.signal.pgrp
        return [t for t in live if t.signal.pgrp == pgrp]
    uid = who or task.cred.uid
    return [t for t in live if t.cred.uid == uid]


def set_one_prio(task, p, niceval, error):
    """set_one_prio(): EPERM unless the caller's euid is p's uid or euid (or
    CAP_SYS_NICE); EACCES to lower the nice value beyond RLIMIT_NICE."""
    if task.cred.euid not in (p.cred.uid, p.cred.euid) and not capable(task, CAP_SYS_NICE):
        return -errno.EPERM
    if niceval < p.nice and not can_nice(p, niceval):
        return -errno.EACCES
    p.nice = niceval
    return 0 if error == -errno.ESRCH else error


@syscall("setpriority", "prio i i")
def sys_setpriority(task, which, who, niceval):
    which, who, niceval = s32(which), s32(who), s32(niceval)
    if not PRIO_PROCESS <= which <= PRIO_USER:
        return -errno.EINVAL
    niceval = min(max(niceval, MIN_NICE), MAX_NICE)
    error = -errno.ESRCH
    for p in _prio_targets(task, which, who):
        error = set_one_prio(task, p, niceval, error)
    return error


@syscall("getpriority", "prio i")
def sys_getpriority(task, which, who):
    """getpriority(): the highest priority among the targets as 20 - nice
    (1..40; the C library turns it back into a nice value)."""
    which, who = s32(which), s32(who)
    if not PRIO_PROCESS <= which <= PRIO_USER:
        return -errno.EINVAL
    targets = _prio_targets(task, which, who)
    if not targets:
        return -errno.ESRCH
    return max(nice_to_rlimit(p.nice) for p in targets)


# -- resource limits (kernel/sys.c: do_prlimit) -----------------------------------------

# fs/file.c: sysctl_nr_open, the most descriptors RLIMIT_NOFILE may allow.
NR_OPEN = 1024 * 1024


def check_prlimit_permission(task, target):
    """check_prlimit_permission(): another process's limits need all of its
    uids equal to our real uid and its gids to our real gid, or
    CAP_SYS_RESOURCE."""
    if target is task:
        return 0
    c, t = task.cred, target.cred
    if (c.uid == t.euid == t.suid == t.uid and c.gid == t.egid == t.sgid == t.gid) \
            or capable(task, CAP_SYS_RESOURCE):
        return 0
    return -errno.EPERM


def do_prlimit(task, target, resource_, new):
    """do_prlimit(): EINVAL for an unknown resource or cur > max, EPERM to
    raise NOFILE past nr_open or any hard limit without CAP_SYS_RESOURCE.
    A CPU soft limit of 0 is stored as 1 (0 means "never set" to the
    timers).  Returns (0, old limits) or (-errno, None)."""
    if resource_ >= RLIM_NLIMITS:
        return -errno.EINVAL, None
    if new is not None:
        if new[0] > new[1]:
            return -errno.EINVAL, None
        if resource_ == RLIMIT_NOFILE and new[1] > NR_OPEN:
            return -errno.EPERM, None
    rlim = target.signal.rlim
    old = tuple(rlim[resource_])
    if new is not None:
        if new[1] > old[1] and not capable(task, CAP_SYS_RESOURCE):
            return -errno.EPERM, None
        if resource_ == RLIMIT_CPU and new[0] == 0:
            new = (1, new[1])
        rlim[resource_] = list(new)
        if resource_ == RLIMIT_NOFILE:
            target.files.max_fds = new[0]       # what __alloc_fd() reads as rlimit()
    return 0, old


def _find_task(task, pid):
    pid = s32(pid)
    if pid == 0:
        return task
    t = task.kernel.tasks.get(pid)
    return t if t is not None and t.exit_state is None else None


@syscall("prlimit64", "d rlimit rlim rlim:out")
def sys_prlimit64(task, pid, resource_, new, old):
    """prlimit64(): EFAULT reading the new limits, ESRCH, EPERM, then
    do_prlimit(); the old limits are written after the new ones apply."""
    newval = _RLIMIT.unpack(task.uaccess.copy_from_user(new, _RLIMIT.size)) if new else None
    target = _find_task(task, pid)
    if target is None:
        return -errno.ESRCH
    err = check_prlimit_permission(task, target)
    if err:
        return err
    err, cur = do_prlimit(task, target, resource_ & 0xFFFFFFFF, newval)
    if err:
        return err
    if old:
        task.uaccess.copy_to_user(old, _RLIMIT.pack(*cur))
    return 0


@syscall("getrlimit", "rlimit rlim:out")
def sys_getrlimit(task, resource_, rlim):
    err, cur = do_prlimit(task, task, resource_ & 0xFFFFFFFF, None)
    if err:
        return err
    task.uaccess.copy_to_user(rlim, _RLIMIT.pack(*cur))
    return 0


@syscall("setrlimit", "rlimit rlim")
def sys_setrlimit(task, resource_, rlim):
    newval = _RLIMIT.unpack(task.uaccess.copy_from_user(rlim, _RLIMIT.size))
    return do_prlimit(task, task, resource_ & 0xFFFFFFFF, newval)[0]


def generic_write_checks_fsize(task, file, get_pos, count):
    """generic_write_checks(): RLIMIT_FSIZE for a regular file.  A write
    starting at or past the limit sends SIGXFSZ (send_sig: to this thread)
    and fails with -EFBIG; one crossing it is cut short at the limit.
    get_pos() says where the write lands (asked only under a limit).
    Returns the count to write or -EFBIG."""
    limit = task.rlim[RLIMIT_FSIZE][0]
    if limit == RLIM_INFINITY or not stat.S_ISREG(file.mode) or count == 0:
        return count
    pos = get_pos()
    if pos >= limit:
        send_signal(task, kill_info(task, SIGXFSZ))
        return -errno.EFBIG
    return min(count, limit - pos)


def inode_newsize_ok(task, length):
    """inode_newsize_ok(): growing a file past RLIMIT_FSIZE is SIGXFSZ and
    -EFBIG (shrinking is always allowed; the caller knows which it is)."""
    limit = task.rlim[RLIMIT_FSIZE][0]
    if limit != RLIM_INFINITY and length > limit:
        send_signal(task, kill_info(task, SIGXFSZ))
        return -errno.EFBIG
    return 0
