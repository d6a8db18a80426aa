"""fs/eventfd.c: a 64-bit counter behind a descriptor.

write() adds to the counter (sleeping while the sum would pass
EVENTFD_MAX), read() takes it all, or 1 with EFD_SEMAPHORE (sleeping
while it is 0).  Both readers and writers sleep on the one ctx->wqh, and
every change wakes it, as eventfd_read()/eventfd_write() do with
wake_up_locked_poll().
"""

import errno
import struct

from kernel.fs.anon_inodes import AnonFile
from kernel.fs.poll import POLLERR, POLLIN, POLLOUT
from kernel.sched.wait import WouldBlock
from kernel.syscalls.table import syscall
from kernel.uapi import O_CLOEXEC, O_NONBLOCK, O_RDWR

EFD_SEMAPHORE = 1
EFD_CLOEXEC = O_CLOEXEC
EFD_NONBLOCK = O_NONBLOCK
EFD_SHARED_FCNTL_FLAGS = EFD_CLOEXEC | EFD_NONBLOCK
EFD_FLAGS_SET = EFD_SHARED_FCNTL_FLAGS | EFD_SEMAPHORE
ULLONG_MAX = (1 << 64) - 1
EVENTFD_MAX = ULLONG_MAX - 1     # the largest value the counter may hold
_U64 = struct.Struct("<Q")


class EventFd(AnonFile):
    """struct eventfd_ctx with its file."""

    def __init__(self, kernel, count, flags):
        super().__init__(kernel, "eventfd", O_RDWR | (flags & O_NONBLOCK))
        self.count = count
        self.semaphore = bool(flags & EFD_SEMAPHORE)

    def poll(self, pt):
        """eventfd_poll()."""
        if pt is not None:
            pt.poll_wait(self.wqh)
        mask = 0
        if self.count > 0:
            mask |= POLLIN
        if self.count == ULLONG_MAX:
            mask |= POLLERR
        if EVENTFD_MAX > self.count:
            mask |= POLLOUT
        return mask

    def read(self, task, buf, count):
        """eventfd_read(): the counter (or 1), sleeping while it is 0.  The
        value is consumed before it is stored, so a bad buffer loses it (as
        put_user() failing after eventfd_ctx_read())."""
        if count < 8:
            return -errno.EINVAL
        if self.count == 0:
            if self.flags & O_NONBLOCK:
                return -errno.EAGAIN
            self.wqh_sleep()
        value = 1 if self.semaphore else self.count
        self.count -= value
        self.wake_up(POLLOUT)
        task.uaccess.copy_to_user(buf, _U64.pack(value))
        return 8

    def write(self, task, buf, count):
        """eventfd_write(): add to the counter, sleeping while it would pass
        EVENTFD_MAX; ULLONG_MAX itself is EINVAL."""
        if count < 8:
            return -errno.EINVAL
        value = _U64.unpack(task.uaccess.copy_from_user(buf, 8))[0]
        if value == ULLONG_MAX:
            return -errno.EINVAL
        if ULLONG_MAX - self.count <= value:
            if self.flags & O_NONBLOCK:
                return -errno.EAGAIN
            self.wqh_sleep()
        self.count += value
        self.wake_up(POLLIN)            # even for 0: an edge for EPOLLET watchers
        return 8

    def wqh_sleep(self):
        """__add_wait_queue() + schedule(): the call runs again when woken."""
        raise WouldBlock(queues=(self.wqh,))

    def show_fdinfo(self):
        """eventfd_show_fdinfo(): the counter, in /proc/PID/fdinfo/N."""
        return "eventfd-count: %16x\n" % self.count


def do_eventfd(task, count, flags):
    """do_eventfd(): a new eventfd at the lowest free descriptor."""
    if flags & ~EFD_FLAGS_SET:
        return -errno.EINVAL
    file = EventFd(task.kernel, count & 0xFFFFFFFF, flags)
    fd = task.files.alloc_fd(file, cloexec=bool(flags & EFD_CLOEXEC))
    if fd < 0:
        file.put()
    return fd


@syscall("eventfd2", "u efdflags")
def sys_eventfd2(task, count, flags):
    """eventfd2(initval, flags): initval is an unsigned int."""
    return do_eventfd(task, count, flags & 0xFFFFFFFF)
