"""fs/eventpoll.c's EPOLLEXCLUSIVE on the files the host serves (pipes,
AF_UNIX and IP sockets, terminals): one wake-up of the file wakes one of
the epoll_wait()s watching it exclusively.

In Linux every epitem hangs an entry on the watched file's wait queue
(ep_ptable_queue_proc()); an EPOLLEXCLUSIVE item's entry is exclusive,
and __wake_up_common(nr_exclusive = 1) stops at the first exclusive entry
whose ep_poll_callback() woke an epoll_wait() (4.14: ewake is 1 only when
the epoll had a waiter and the event is one the item asked for).

A file the host serves has its wait queue in the host kernel, which sees
one process.  So the board keeps, per watched host file (its inode: a
pipe's two ends share one, as they share pipe->wait) and direction, a
HostWaitQueue: a WaitQueue the sleeping epoll_wait()s join exclusively,
and an edge-triggered host epoll on the file whose every event is one
wake-up of the file — the host's pipe_write() and sk_data_ready() wake
an EPOLLET watcher on every write (Linux 5.14's 3a34b13a88ca made that so
for pipes again; 4.14 woke readers on every write too).  The scheduler
polls the watcher while someone sleeps on the queue and calls edge(),
which wakes the first sleeper only (kernel/sched/wait.py add_exclusive()).

The watcher lives as long as an exclusive item watches the file, so a
wake-up that comes while nobody sleeps is not lost: it ends the next
sleep (at worst a sleep that finds nothing and sleeps again).
Omits: wake-ups the host coalesces between two looks of the scheduler
wake one sleeper, where Linux woke one per write.
"""

import os
import select

from kernel.sched.wait import WaitQueue

POLLIN, POLLOUT = select.POLLIN, select.POLLOUT


class HostWaitQueue:
    """The exclusive side of a host-served file's wait queue."""

    __slots__ = ("key", "queue", "watch", "fd", "users", "external")

    def __init__(self, key, fd, events, external):
        self.key = key
        self.queue = WaitQueue("host file %d:%d" % key[:2])
        self.fd = os.dup(fd)
        self.watch = select.epoll(flags=select.EPOLL_CLOEXEC)
        self.watch.register(self.fd, events | select.EPOLLET)
        self.watch.poll(0)              # the state at registration is no wake-up
        self.users = 0
        self.external = external        # the host's processes may wake it too

    def fileno(self):
        return self.watch.fileno()

    def edge(self):
        """The watcher is readable: the file was woken; wake one sleeper."""
        if self.watch.poll(0):
            self.queue.wake_up()

    def close(self):
        self.watch.close()
        os.close(self.fd)


def get_host_wait_queue(kernel, file, events, external):
    """The HostWaitQueue of file for events (IN or OUT side), made on
    first use; one more user."""
    st = os.fstat(file.host_fd)
    want = events & (POLLIN | POLLOUT) or POLLIN
    key = (st.st_dev, st.st_ino, want)
    queues = getattr(kernel, "host_wait_queues", None)
    if queues is None:
        queues = kernel.host_wait_queues = {}
    hwq = queues.get(key)
    if hwq is None:
        hwq = queues[key] = HostWaitQueue(key, file.host_fd, want, external)
    hwq.users += 1
    return hwq


def put_host_wait_queue(kernel, hwq):
    """One user less; the last closes the watcher."""
    hwq.users -= 1
    if hwq.users == 0:
        kernel.host_wait_queues.pop(hwq.key, None)
        hwq.close()
