"""kernel/signal.c: the signal system calls — dispositions, masks, waiting."""

import errno
import struct

from kernel.sched.wait import ERESTARTNOHAND, WouldBlock
from kernel.signal import SIG_DFL, SIG_IGN, SIG_KERNEL_IGNORE, dequeue_signal, sys_rt_sigreturn
from kernel.syscalls.table import NORETURN, syscall
from kernel.time.timekeeping import timespec_valid
from kernel.uapi import NSIG, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSTOP, sigset_of
from kernel.uaccess import s32

_TIMESPEC = struct.Struct("<qq")

# struct sigaction (AArch64 kernel ABI): handler, flags, restorer, mask.
_SIGACTION = struct.Struct("<QQQQ")
_UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))


@syscall("rt_sigaction", "sig sigaction sigaction:out u")
def sys_rt_sigaction(task, sig, act, oact, sigsetsize):
    sig = s32(sig)
    if sigsetsize != 8 or not 1 <= sig <= NSIG:
        return -errno.EINVAL
    if act and sig in (SIGKILL, SIGSTOP):
        return -errno.EINVAL
    old = task.sighand.get(sig, (0, 0, 0, 0))
    new = None
    if act:
        new = _SIGACTION.unpack(task.uaccess.copy_from_user(act, 32))
    if oact:
        task.uaccess.copy_to_user(oact, _SIGACTION.pack(*old))
    if new is not None:
        task.sighand[sig] = (new[0], new[1], new[2], new[3] & ~_UNBLOCKABLE)
        if new[0] == SIG_IGN or (new[0] == SIG_DFL and sig in SIG_KERNEL_IGNORE):
            # do_sigaction(): a signal now ignored is discarded even if pending.
            task.signal.shared_pending.pop(sig, None)
            for t in task.thread_group:
                t.pending.pop(sig, None)
    return 0


@syscall("rt_sigprocmask", "sighow sigset sigset:out u")
def sys_rt_sigprocmask(task, how, nset, oset, sigsetsize):
    if sigsetsize != 8:
        return -errno.EINVAL
    old = task.blocked
    if nset:
        mask = struct.unpack("<Q", task.uaccess.copy_from_user(nset, 8))[0] & ~_UNBLOCKABLE
        if how == SIG_BLOCK:
            new = old | mask
        elif how == SIG_UNBLOCK:
            new = old & ~mask
        elif how == SIG_SETMASK:
            new = mask
        else:
            return -errno.EINVAL
    if oset:
        task.uaccess.copy_to_user(oset, struct.pack("<Q", old))
    if nset:
        task.blocked = new
    return 0


@syscall("sigaltstack", "stack_t stack_t:out")
def sys_sigaltstack(task, ss, oss):
    if oss:
        sp, flags, size = task.sas
        task.uaccess.copy_to_user(oss, struct.pack("<Qi4xQ", sp, flags, size))
    if ss:
        sp, flags, size = struct.unpack("<Qi4xQ", task.uaccess.copy_from_user(ss, 24))
        if flags & ~(2 | (1 << 31)):
            return -errno.EINVAL
        if not flags & 2 and size < 2048:       # MINSIGSTKSZ
            return -errno.ENOMEM
        task.sas = (sp, flags, size)
    return 0


@syscall("rt_sigreturn", "", ret="n")
def sys_rt_sigreturn_call(task):
    sys_rt_sigreturn(task, task.core)
    return NORETURN


@syscall("rt_sigsuspend", "sigset u")
def sys_rt_sigsuspend(task, mask, sigsetsize):
    """sigsuspend(): sleep with a temporary mask until a signal is taken;
    always -EINTR (ERESTARTNOHAND), the old mask back after the handler."""
    if sigsetsize != 8:
        return -errno.EINVAL
    if task.restart is None or "sigsuspend" not in task.restart:
        new = struct.unpack("<Q", task.uaccess.copy_from_user(mask, 8))[0] & ~_UNBLOCKABLE
        task.saved_sigmask = task.blocked
        task.blocked = new
        task.restart = {"sigsuspend": True}
    raise WouldBlock(restart=ERESTARTNOHAND)


@syscall("rt_sigpending", "sigsetlen u")
def sys_rt_sigpending(task, uset, sigsetsize):
    """sigpending(): the blocked signals waiting, the thread's and the group's."""
    if sigsetsize > 8:
        return -errno.EINVAL
    pending = sigset_of(task.pending) | sigset_of(task.signal.shared_pending)
    task.uaccess.copy_to_user(uset, struct.pack("<Q", pending & task.blocked)[:sigsetsize])
    return 0


@syscall("rt_sigtimedwait", "sigset siginfo timespec u")
def sys_rt_sigtimedwait(task, uthese, uinfo, uts, sigsetsize):
    """do_sigtimedwait(): take one of the signals in the set, waiting for it
    up to the timeout (EAGAIN); another signal's handler makes it EINTR."""
    if sigsetsize != 8:
        return -errno.EINVAL
    these = struct.unpack("<Q", task.uaccess.copy_from_user(uthese, 8))[0] & ~_UNBLOCKABLE
    state = task.restart
    if state is None or "sigwait" not in state:
        deadline = None
        if uts:
            sec, nsec = _TIMESPEC.unpack(task.uaccess.copy_from_user(uts, 16))
            if not timespec_valid(sec, nsec):
                return -errno.EINVAL
            deadline = task.kernel.sched.clock() + sec + nsec / 1e9
        state = task.restart = {"sigwait": these, "deadline": deadline}
    saved = task.blocked
    task.blocked = ~these & ((1 << 64) - 1)         # only the set may be taken here
    info = dequeue_signal(task)
    task.blocked = saved
    if info is not None:
        task.sigwait_set = 0
        if uinfo:
            task.uaccess.copy_to_user(uinfo, info.pack())
        return info.signo
    deadline = state["deadline"]
    if deadline is not None and task.kernel.sched.clock() >= deadline:
        task.sigwait_set = 0
        return -errno.EAGAIN

    def cancel():
        task.sigwait_set = 0
    task.sigwait_set = these
    raise WouldBlock(deadline=deadline, restart=errno.EINTR, cancel=cancel)
