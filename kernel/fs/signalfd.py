"""fs/signalfd.c: reading pending signals from a descriptor.

A signalfd holds a mask; read() dequeues, from the *reading* task's
pending sets (its own, then its process's), the signals in that mask and
returns one struct signalfd_siginfo (128 bytes) per signal.  A signal
taken this way is no longer pending: it is never delivered.  poll() is
ready while such a signal is pending for the polling task.  Linux wakes
the signalfds of a sighand when a signal is queued (signalfd_notify());
here send_signal() calls notify() on every live signalfd, which wakes
those whose sighand is the target's.
"""

import errno
import struct

from kernel.fs.anon_inodes import AnonFile
from kernel.uaccess import s32
from kernel.fs.poll import POLLIN
from kernel.sched.wait import WouldBlock
from kernel.signal import SYNCHRONOUS
from kernel.syscalls.table import syscall
from kernel.uaccess import Efault
from kernel.uapi import (
    O_CLOEXEC, O_NONBLOCK, O_RDWR, SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGSTOP,
    SIGTRAP,
)

SFD_CLOEXEC = O_CLOEXEC
SFD_NONBLOCK = O_NONBLOCK
SIGNALFD_SIGINFO_SIZE = 128
_SIGSET_SIZE = 8
_UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))
# struct signalfd_siginfo up to ssi_addr; the rest (addr_lsb, syscall,
# call_addr, arch) stays 0 for the signals a board sends.
_SSI = struct.Struct("<IiiIIiIIIIiiQQQQ")


def current_task(kernel):
    """`current`: the task whose system call is running."""
    core = kernel.sched.running_core
    return core.current if core is not None else None


class SignalFd(AnonFile):
    """struct signalfd_ctx with its file."""

    def __init__(self, kernel, sigmask, flags, sighand):
        super().__init__(kernel, "signalfd", O_RDWR | (flags & O_NONBLOCK))
        self.sigmask = sigmask          # the signals it reads (not inverted as Linux keeps it)
        self.sighand = sighand          # whose queue-wakeups reach it
        if not hasattr(kernel, "signalfds"):
            kernel.signalfds = set()
        kernel.signalfds.add(self)

    def release(self):
        self.kernel.signalfds.discard(self)

    def notify(self, task):
        """A signal was queued for task: wake our sleepers if they would see
        it — Linux sleeps on the *sleeper's* sighand->signalfd_wqh, so a
        child reading an inherited signalfd is woken by its own signals."""
        if task.sighand is self.sighand or any(t.sighand is task.sighand
                                               for t in self.wqh.tasks):
            self.wake_up(POLLIN)

    def poll(self, pt):
        """signalfd_poll(): readable while a signal of the mask is pending
        for the polling task."""
        if pt is not None:
            pt.poll_wait(self.wqh)
        task = current_task(self.kernel)
        if task is not None and next_signal(task, self.sigmask) is not None:
            return POLLIN
        return 0

    def read(self, task, buf, count):
        """signalfd_read(): as many signalfd_siginfo as fit; only the first
        may wait."""
        n = count // SIGNALFD_SIGINFO_SIZE
        if not n:
            return -errno.EINVAL
        total = 0
        while n:
            info = dequeue_masked(task, self.sigmask)
            if info is None:
                if total:
                    break
                if self.flags & O_NONBLOCK:
                    return -errno.EAGAIN
                raise WouldBlock(queues=(self.wqh,))
            task.uaccess.copy_to_user(buf + total, signalfd_copyinfo(info))
            total += SIGNALFD_SIGINFO_SIZE
            n -= 1
        return total


def next_signal(task, mask):
    """next_signal(): (pending set, signal) of the first signal in mask —
    task's own before its process's, synchronous faults first, then the
    lowest number."""
    for pending in (task.pending, task.signal.shared_pending):
        sigs = [s for s in pending if mask & (1 << (s - 1))]
        if sigs:
            sync = [s for s in sigs if s in SYNCHRONOUS]
            return pending, (min(sync) if sync else min(sigs))
    return None


def dequeue_masked(task, mask):
    """dequeue_signal(current, ~mask): take the next signal in mask off
    the pending sets (so it is never delivered), or None."""
    found = next_signal(task, mask)
    if found is None:
        return None
    pending, sig = found
    queue = pending[sig]
    info = queue.pop(0)
    if not queue:
        del pending[sig]
    return info


def signalfd_copyinfo(info):
    """signalfd_copyinfo(): the siginfo as struct signalfd_siginfo, with the
    fields of its si_code class."""
    pid = uid = status = ptr = sival = addr = 0
    utime = stime = 0
    if info.raw is not None:            # sigqueue(): pid, uid, and the value as given
        pid, uid, ptr = struct.unpack_from("<IIQ", info.raw, 16)
        sival = ptr & 0xFFFFFFFF
    elif info.signo in (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) and info.addr is not None:
        addr = info.addr
    elif info.signo == SIGCHLD and info.code > 0:
        pid, uid, status = info.pid, info.uid, info.status
        utime, stime = info.utime, info.stime
    else:
        pid, uid = info.pid, info.uid
    sival = sival - (1 << 32) if sival >> 31 else sival
    head = _SSI.pack(info.signo, 0, info.code, pid & 0xFFFFFFFF, uid & 0xFFFFFFFF, 0, 0, 0, 0,
                     0, status, sival, ptr, utime & (2**64 - 1), stime & (2**64 - 1), addr)
    return head.ljust(SIGNALFD_SIGINFO_SIZE, b"\0")


@syscall("signalfd4", "fd sigset u sfdflags")
def sys_signalfd4(task, ufd, user_mask, sizemask, flags):
    """signalfd4(): a new signalfd (ufd -1) or a new mask for one.  A bad
    mask pointer is EINVAL, not EFAULT, in 4.14."""
    ufd = s32(ufd)
    if flags & ~(SFD_CLOEXEC | SFD_NONBLOCK):
        return -errno.EINVAL
    if sizemask != _SIGSET_SIZE:
        return -errno.EINVAL
    try:
        mask = struct.unpack("<Q", task.uaccess.copy_from_user(user_mask, _SIGSET_SIZE))[0]
    except Efault:
        return -errno.EINVAL
    mask &= ~_UNBLOCKABLE
    if ufd == -1:
        file = SignalFd(task.kernel, mask, flags, task.sighand)
        fd = task.files.alloc_fd(file, cloexec=bool(flags & SFD_CLOEXEC))
        if fd < 0:
            file.put()
        return fd
    file = task.files.get(ufd)
    if file is None:
        return -errno.EBADF
    if not isinstance(file, SignalFd):
        return -errno.EINVAL
    file.sigmask = mask
    file.wake_up(POLLIN)
    return ufd

