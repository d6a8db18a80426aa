"""fs/timerfd.c: timers delivered through a file descriptor.

A timerfd's read returns the number of expirations since the last read (a
u64), sleeping while there are none.  It is pollable the way pipes are:
the file's host_fd is the read end of a host pipe that holds one byte
while expirations are pending, so ppoll/pselect6 (kernel/fs/select.py,
file_poll) and anything else that polls host_fd see POLLIN exactly when a
read would not block.  A reader sleeps on the file's wait queue, which
the timer wakes.
"""

import errno
import os
import struct

from kernel.fs.file import File
from kernel.sched.wait import WaitQueue, WouldBlock
from kernel.syscalls.table import syscall
from kernel.time.hrtimer import HrTimer
from kernel.time.timekeeping import (
    CLOCK_BOOTTIME_ALARM, CLOCK_REALTIME_ALARM, NSEC_PER_SEC, REALTIME_CLOCKS, ktime_get,
    real_to_mono, timespec_valid,
)
from kernel.uapi import (
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME, O_CLOEXEC, O_NONBLOCK, O_RDWR,
)

TFD_TIMER_ABSTIME = 1
TFD_TIMER_CANCEL_ON_SET = 2
TFD_CREATE_FLAGS = O_CLOEXEC | O_NONBLOCK
TFD_SETTIME_FLAGS = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
TIMERFD_CLOCKS = (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME,
                  CLOCK_BOOTTIME_ALARM)
_ITIMERSPEC = struct.Struct("<qqqq")        # it_interval, it_value
_TICKS = struct.Struct("<Q")


class TimerFd(File):
    """struct timerfd_ctx behind an anonymous-inode file."""

    def __init__(self, kernel, clockid, flags):
        r, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        super().__init__(kernel, r, "anon_inode:[timerfd]", O_RDWR | (flags & O_NONBLOCK))
        self.owned_nonblock = True
        self.wake_fd = w
        self.clockid = clockid
        self.ticks = 0
        self.interval = 0
        self.expires = None             # monotonic ns while armed
        self.wqh = WaitQueue("timerfd")
        self.tmr = HrTimer(self._tmrproc)
        # TFD_TIMER_CANCEL_ON_SET: the wall clock's offset when last looked
        # at (ctx->moffs; None: KTIME_MAX, the clock was set since)
        self.might_cancel = False
        self.moffs = kernel.sched.boot_real_ns

    def _set_ticks(self, ticks):
        """ticks, and the byte in the pipe that makes host_fd readable."""
        if ticks and not self.ticks:
            os.write(self.wake_fd, b"\1")
        elif not ticks and self.ticks:
            try:
                os.read(self.host_fd, 1)
            except BlockingIOError:
                pass
        self.ticks = ticks

    def _tmrproc(self, now):
        """timerfd_tmrproc(): one more expiry (and those a periodic timer
        missed); wake readers and pollers."""
        missed = 0
        nxt = None
        if self.interval:
            missed = (now - self.expires) // self.interval
            nxt = self.expires + (missed + 1) * self.interval
        self.expires = nxt
        self._set_ticks(self.ticks + missed + 1)
        self.wqh.wake_up()
        return nxt

    def f_read(self, task, count, block=True):
        """timerfd_read(): EINVAL below 8 bytes; the expiry count, reset."""
        if count < _TICKS.size:
            return -errno.EINVAL
        if self.ticks and self.might_cancel and self.moffs is None:
            # timerfd_canceled(): the wall clock was set under an
            # absolute CANCEL_ON_SET timer
            self.moffs = self.kernel.sched.boot_real_ns
            self._set_ticks(0)
            return -errno.ECANCELED
        if not self.ticks:
            if self.flags & O_NONBLOCK or not block:
                return -errno.EAGAIN
            raise WouldBlock(queues=(self.wqh,))
        ticks = self.ticks
        self._set_ticks(0)
        return _TICKS.pack(ticks)

    def remaining(self):
        """timerfd_get_remaining(): ns to the next expiry, 0 if disarmed."""
        if self.expires is None:
            return 0
        return max(0, self.expires - ktime_get(self.kernel))

    def settime(self, flags, value, interval):
        """timerfd_setup(): forget pending expiries, arm or disarm."""
        timers = self.kernel.sched.timers
        timers.cancel(self.tmr)
        self._set_ticks(0)
        # timerfd_setup_cancel()
        self.might_cancel = bool(self.clockid in (CLOCK_REALTIME, CLOCK_REALTIME_ALARM)
                                 and flags & TFD_TIMER_ABSTIME
                                 and flags & TFD_TIMER_CANCEL_ON_SET)
        self.interval = interval
        self.expires = None
        if not value:
            return
        if flags & TFD_TIMER_ABSTIME:
            expires = real_to_mono(self.kernel, value) if self.clockid in REALTIME_CLOCKS \
                else value
        else:
            expires = ktime_get(self.kernel) + value
        self.expires = expires
        timers.start(self.tmr, expires)

    def clock_was_set(self, offset):
        """timerfd_clock_was_set(): a CANCEL_ON_SET timer whose clock moved
        becomes readable, and its next read is ECANCELED."""
        if self.might_cancel and self.moffs != offset:
            self.moffs = None
            self._set_ticks(self.ticks + 1)
            self.wqh.wake_up()

    def put(self):
        super().put()
        if self.refcount == 0:
            self.kernel.sched.timers.cancel(self.tmr)
            os.close(self.wake_fd)


def _timerfd_fget(task, fd):
    """timerfd_fget(): EBADF for no file, EINVAL for one that is not a timerfd."""
    file = task.files.get(fd if fd < 1 << 31 else fd - (1 << 32))
    if file is None:
        return -errno.EBADF
    if not isinstance(file, TimerFd):
        return -errno.EINVAL
    return file


@syscall("timerfd_create", "clock tfdcreate")
def sys_timerfd_create(task, clockid, flags):
    """timerfd_create(): EINVAL for other flags or clocks; the alarm clocks
    need CAP_WAKE_ALARM (EPERM)."""
    clockid = clockid - (1 << 32) if clockid >= 1 << 31 else clockid
    if flags & ~TFD_CREATE_FLAGS or clockid not in TIMERFD_CLOCKS:
        return -errno.EINVAL
    if clockid in (CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM):
        return -errno.EPERM
    file = TimerFd(task.kernel, clockid, flags)
    fd = task.files.alloc_fd(file, cloexec=bool(flags & O_CLOEXEC))
    if fd < 0:
        file.put()
    return fd


def _pack(interval, value):
    return _ITIMERSPEC.pack(*divmod(interval, NSEC_PER_SEC), *divmod(value, NSEC_PER_SEC))


@syscall("timerfd_settime", "fd tfdflags itimerspec itimerspec:out")
def sys_timerfd_settime(task, fd, flags, new, old):
    """timerfd_settime(): EFAULT reading the new value, EINVAL for flags or
    an invalid timespec, then EBADF/EINVAL for the descriptor."""
    isec, insec, vsec, vnsec = _ITIMERSPEC.unpack(
        task.uaccess.copy_from_user(new, _ITIMERSPEC.size))
    if flags & ~TFD_SETTIME_FLAGS or not (timespec_valid(isec, insec)
                                          and timespec_valid(vsec, vnsec)):
        return -errno.EINVAL
    file = _timerfd_fget(task, fd)
    if isinstance(file, int):
        return file
    kold = _pack(file.interval, file.remaining())
    file.settime(flags, vsec * NSEC_PER_SEC + vnsec, isec * NSEC_PER_SEC + insec)
    if old:
        task.uaccess.copy_to_user(old, kold)
    return 0


@syscall("timerfd_gettime", "fd itimerspec:out")
def sys_timerfd_gettime(task, fd, cur):
    file = _timerfd_fget(task, fd)
    if isinstance(file, int):
        return file
    task.uaccess.copy_to_user(cur, _pack(file.interval, file.remaining()))
    return 0
