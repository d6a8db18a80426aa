"""kernel/signal.c: the signal system calls.  Dispositions and the mask are
recorded exactly; delivery to handlers is not implemented yet."""

import errno
import struct

from kernel.fs.namei import s32
from kernel.signal import sys_rt_sigreturn
from kernel.syscalls.table import NORETURN, syscall
from kernel.uapi import NSIG, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSTOP

# struct sigaction (AArch64 kernel ABI): handler, flags, restorer, mask.
_SIGACTION = struct.Struct("<QQQQ")
_UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))


@syscall("rt_sigaction", "sig p p u")
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
    return 0


@syscall("rt_sigprocmask", "sighow p p u")
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


@syscall("sigaltstack", "p p")
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
