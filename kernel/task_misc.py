"""Small system calls of kernel/*.c that need no subsystem of their own:
get_robust_list (kernel/futex.c), restart_syscall (kernel/signal.c),
ptrace under Yama (kernel/ptrace.c + security/yama), syslog (kernel/printk/
printk.c), membarrier (kernel/membarrier.c), ioprio_set/ioprio_get
(block/ioprio.c), unshare/setns (kernel/fork.c, kernel/nsproxy.c) and the
protection-key calls of an architecture without keys (mm/mprotect.c).
"""

import errno
import struct

from kernel.fs.proc import capable
from kernel.syscalls.table import syscall
from kernel.uapi import (
    CLONE_FILES, CLONE_FS, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS,
    CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD,
    CLONE_VM,
)
from kernel.uaccess import s32

CAP_SYS_ADMIN = 21
CAP_SYSLOG = 34


# -- kernel/futex.c -------------------------------------------------------------------------

@syscall("get_robust_list", "d p p")
def sys_get_robust_list(task, pid, head_ptr, len_ptr):
    """get_robust_list(): the robust-futex list head a thread registered
    (pid 0: the caller), ESRCH for no such thread."""
    pid = s32(pid)
    target = task if pid == 0 else task.kernel.tasks.get(pid)
    if target is None or target.exit_state is not None:
        return -errno.ESRCH
    head, _length = target.robust_list
    task.uaccess.copy_to_user(len_ptr, struct.pack("<Q", 24))   # sizeof(*head)
    task.uaccess.copy_to_user(head_ptr, struct.pack("<Q", head))
    return 0


# -- kernel/signal.c -------------------------------------------------------------------------

@syscall("restart_syscall")
def sys_restart_syscall(task):
    """restart_syscall(): called with no restart block pending (a53emu
    restarts interrupted sleeps by re-running them), do_no_restart_syscall()
    answers -EINTR."""
    return -errno.EINTR


# -- kernel/ptrace.c under Yama ---------------------------------------------------------------

PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE = 0, 16, 0x4206


@syscall("ptrace", "d d x x")
def sys_ptrace(task, request, pid, addr, data):
    """ptrace(): the board has no tracer support, which is what Yama's
    ptrace_scope 3 ("no attach", /proc/sys/kernel/yama/ptrace_scope) makes
    of a kernel: TRACEME, ATTACH and SEIZE are EPERM; every other request
    names a task that is not our tracee: ESRCH."""
    request = s32(request)
    if request in (PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE):
        return -errno.EPERM
    return -errno.ESRCH


# -- kernel/printk/printk.c -------------------------------------------------------------------

SYSLOG_ACTION_CLOSE, SYSLOG_ACTION_OPEN, SYSLOG_ACTION_READ = 0, 1, 2
SYSLOG_ACTION_READ_ALL, SYSLOG_ACTION_READ_CLEAR, SYSLOG_ACTION_CLEAR = 3, 4, 5
SYSLOG_ACTION_CONSOLE_OFF, SYSLOG_ACTION_CONSOLE_ON, SYSLOG_ACTION_CONSOLE_LEVEL = 6, 7, 8
SYSLOG_ACTION_SIZE_UNREAD, SYSLOG_ACTION_SIZE_BUFFER = 9, 10
LOG_BUF_LEN = 1 << 17                  # CONFIG_LOG_BUF_SHIFT=17
DMESG_RESTRICT = 0                     # kernel.dmesg_restrict's default


def kernel_log(kernel):
    """The board's printk ring: the boot banner (what `dmesg` shows)."""
    log = getattr(kernel, "printk_log", None)
    if log is None:
        from kernel.fs.proc import Ctx, proc_version
        banner = proc_version(Ctx(kernel, None)).rstrip("\n")
        log = kernel.printk_log = {"text": b"<5>[    0.000000] " + banner.encode() + b"\n",
                                   "read": 0, "cleared": 0}
    return log


@syscall("syslog", "d p d")
def sys_syslog(task, action, buf, length):
    """do_syslog(): the kernel log of the board.  Reading all of it and its
    size is open to everyone (dmesg_restrict 0); the rest needs CAP_SYSLOG
    (or CAP_SYS_ADMIN); reads check the buffer (EINVAL for NULL or a
    negative length) before the copy (EFAULT)."""
    action, length = s32(action), s32(length)
    # check_syslog_permissions() comes first: an unknown action from an
    # unprivileged task is EPERM, from a privileged one EINVAL.
    if action not in (SYSLOG_ACTION_READ_ALL, SYSLOG_ACTION_SIZE_BUFFER) or DMESG_RESTRICT:
        if action not in (SYSLOG_ACTION_CLOSE, SYSLOG_ACTION_OPEN) and not (
                capable(task, CAP_SYSLOG) or capable(task, CAP_SYS_ADMIN)):
            return -errno.EPERM
    if action not in range(SYSLOG_ACTION_SIZE_BUFFER + 1):
        return -errno.EINVAL
    log = kernel_log(task.kernel)
    text = log["text"]
    if action in (SYSLOG_ACTION_READ, SYSLOG_ACTION_READ_ALL, SYSLOG_ACTION_READ_CLEAR):
        if not buf or length < 0:
            return -errno.EINVAL
        if length == 0:
            return 0
        if action == SYSLOG_ACTION_READ:
            data = text[log["read"]:log["read"] + length]
            if not data:
                return 0        # Linux would sleep for new messages; the board prints none
            log["read"] += len(data)
        else:
            data = text[log["cleared"]:][-length:]
        task.uaccess.copy_to_user(buf, data)
        if action == SYSLOG_ACTION_READ_CLEAR:
            log["cleared"] = len(text)
        return len(data)
    if action == SYSLOG_ACTION_CLEAR:
        log["cleared"] = len(text)
        return 0
    if action == SYSLOG_ACTION_CONSOLE_LEVEL:
        return 0 if 1 <= length <= 8 else -errno.EINVAL
    if action == SYSLOG_ACTION_SIZE_UNREAD:
        return len(text) - log["read"]
    if action == SYSLOG_ACTION_SIZE_BUFFER:
        return LOG_BUF_LEN
    return 0


# -- kernel/membarrier.c -----------------------------------------------------------------------

MEMBARRIER_CMD_QUERY = 0
MEMBARRIER_CMD_SHARED = 1
MEMBARRIER_CMD_PRIVATE_EXPEDITED = 1 << 3
MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4
MEMBARRIER_CMDS_4_14 = (MEMBARRIER_CMD_SHARED | MEMBARRIER_CMD_PRIVATE_EXPEDITED
                        | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)


@syscall("membarrier", "d d")
def sys_membarrier(task, cmd, flags):
    """membarrier() of 4.14: QUERY lists SHARED, PRIVATE_EXPEDITED and its
    registration.  The cores take turns on one host thread, so every core
    has passed a full barrier whenever another runs: the barrier itself has
    nothing left to wait for.  PRIVATE_EXPEDITED before the process
    registered is EPERM; flags must be 0."""
    if s32(flags):
        return -errno.EINVAL
    cmd = s32(cmd)
    if cmd == MEMBARRIER_CMD_QUERY:
        return MEMBARRIER_CMDS_4_14
    if cmd == MEMBARRIER_CMD_SHARED:
        return 0
    if cmd == MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
        task.mm.membarrier_registered = True
        return 0
    if cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED:
        return 0 if getattr(task.mm, "membarrier_registered", False) else -errno.EPERM
    return -errno.EINVAL


# -- block/ioprio.c ----------------------------------------------------------------------------

IOPRIO_CLASS_SHIFT = 13
IOPRIO_CLASS_NONE, IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE = 0, 1, 2, 3
IOPRIO_BE_NR = 8
IOPRIO_NORM = 4
IOPRIO_WHO_PROCESS, IOPRIO_WHO_PGRP, IOPRIO_WHO_USER = 1, 2, 3
IOPRIO_DEFAULT = (IOPRIO_CLASS_NONE << IOPRIO_CLASS_SHIFT) | IOPRIO_NORM


def _ioprio_targets(task, which, who):
    """The tasks `which`/`who` name, or None for a bad `which`."""
    live = [t for t in task.kernel.tasks.values() if t.exit_state is None]
    if which == IOPRIO_WHO_PROCESS:
        if who == 0:
            return [task]
        return [t for t in live if t.pid == who]
    if which == IOPRIO_WHO_PGRP:
        pgrp = task.signal.pgrp if who == 0 else who
        return [t for t in live if t.signal.pgrp == pgrp]
    if which == IOPRIO_WHO_USER:
        uid = task.kernel.uid_of(task) if who == 0 else who
        return [t for t in live if t.kernel.uid_of(t) == uid]
    return None


def _ioprio_rank(prio):
    """ioprio_best()'s order: RT before BE before IDLE; NONE counts as BE/4."""
    cls = prio >> IOPRIO_CLASS_SHIFT
    if cls == IOPRIO_CLASS_NONE:
        cls, prio = IOPRIO_CLASS_BE, (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | IOPRIO_NORM
    return (cls, prio & ((1 << IOPRIO_CLASS_SHIFT) - 1))


@syscall("ioprio_set", "d d x")
def sys_ioprio_set(task, which, who, ioprio):
    """ioprio_set(): ioprio_check_cap() (RT needs CAP_SYS_ADMIN, levels
    0..7, NONE takes no level), then every named task gets it (ESRCH if none)."""
    which, who, ioprio = s32(which), s32(who), s32(ioprio)
    cls, data = ioprio >> IOPRIO_CLASS_SHIFT, ioprio & ((1 << IOPRIO_CLASS_SHIFT) - 1)
    if cls == IOPRIO_CLASS_RT:
        if not capable(task, CAP_SYS_ADMIN):
            return -errno.EPERM
        if data >= IOPRIO_BE_NR:
            return -errno.EINVAL
    elif cls == IOPRIO_CLASS_BE:
        if data >= IOPRIO_BE_NR:
            return -errno.EINVAL
    elif cls == IOPRIO_CLASS_NONE:
        if data:
            return -errno.EINVAL
    elif cls != IOPRIO_CLASS_IDLE:
        return -errno.EINVAL
    targets = _ioprio_targets(task, which, who)
    if targets is None:
        return -errno.EINVAL
    if not targets:
        return -errno.ESRCH
    for t in targets:
        t.ioprio = ioprio
    return 0


@syscall("ioprio_get", "d d")
def sys_ioprio_get(task, which, who):
    """ioprio_get(): a task's I/O priority (NONE/4 until set); for a group
    or a user, the best of theirs."""
    targets = _ioprio_targets(task, s32(which), s32(who))
    if targets is None:
        return -errno.EINVAL
    if not targets:
        return -errno.ESRCH
    prios = [getattr(t, "ioprio", IOPRIO_DEFAULT) for t in targets]
    if len(prios) == 1:
        return prios[0]
    return min(prios, key=_ioprio_rank)


# -- kernel/fork.c: unshare(), kernel/nsproxy.c: setns() ------------------------------------------

CLONE_NEW_ANY = (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUSER
                 | CLONE_NEWPID | CLONE_NEWCGROUP)
UNSHARE_VALID = (CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES
                 | CLONE_SYSVSEM | CLONE_NEW_ANY)


@syscall("unshare", "x")
def sys_unshare(task, flags):
    """unshare(): check_unshare_flags() (EINVAL for unknown bits, and for
    CLONE_THREAD/SIGHAND/VM while they are shared), then private copies of
    the fd table (CLONE_FILES) and fs_struct (CLONE_FS).  CONFIG_NAMESPACES
    is not set, so every CLONE_NEW* is EINVAL, as in such a kernel."""
    flags &= 0xFFFFFFFF
    if flags & ~UNSHARE_VALID:
        return -errno.EINVAL
    if flags & CLONE_NEW_ANY:
        return -errno.EINVAL
    if flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM):
        others = [t for t in task.thread_group_live() if t is not task]
        if flags & CLONE_THREAD and others:
            return -errno.EINVAL
        if flags & CLONE_SIGHAND and any(t.sighand is task.sighand
                                         for t in task.kernel.tasks.values()
                                         if t is not task and t.exit_state is None):
            return -errno.EINVAL
        if flags & CLONE_VM and task.mm.mm_users > 1:
            return -errno.EINVAL
    if flags & CLONE_FS and task.fs.users > 1:
        new = task.fs.copy()
        task.fs.put()
        task.fs = new
    if flags & CLONE_FILES and task.files.users > 1:
        new = task.files.copy()
        task.files.put()
        task.files = new
    return 0


@syscall("setns", "fd x")
def sys_setns(task, fd, nstype):
    """setns(): the descriptor must be a namespace file (proc_ns_fget());
    CONFIG_NAMESPACES is not set, there are none: EBADF for a bad fd,
    EINVAL for any other."""
    if task.files.get(s32(fd)) is None:
        return -errno.EBADF
    return -errno.EINVAL


# -- mm/mprotect.c: protection keys on an architecture without them --------------------------

PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE = 0x1, 0x2
PKEY_ACCESS_MASK = PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE


@syscall("pkey_mprotect", "p u prot d")
def sys_pkey_mprotect(task, addr, length, prot, pkey):
    """pkey_mprotect(): arm64 4.14 has no protection keys; key 0 (the
    default, always "allocated") and -1 act as mprotect(), any other EINVAL."""
    from kernel.mm.mprotect import do_mprotect_pkey
    pkey = s32(pkey)
    if pkey not in (-1, 0):
        return -errno.EINVAL
    return do_mprotect_pkey(task.mm, addr, length, prot & 0xFFFFFFFF)


@syscall("pkey_alloc", "x x")
def sys_pkey_alloc(task, flags, init_val):
    """pkey_alloc(): flags must be 0 and the rights known (EINVAL); then
    mm_pkey_alloc() finds no key to give: ENOSPC."""
    if flags or init_val & ~PKEY_ACCESS_MASK:
        return -errno.EINVAL
    return -errno.ENOSPC


@syscall("pkey_free", "d")
def sys_pkey_free(task, pkey):
    """pkey_free(): no key was ever allocated: EINVAL."""
    return -errno.EINVAL
