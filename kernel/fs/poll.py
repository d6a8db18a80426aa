"""include/linux/poll.h: the polling interface every open file offers.

Linux's file_operations->poll(file, poll_table) does two things: it
returns the mask of events ready now, and it calls poll_wait() on each
wait queue whose wake-up could change that mask, so that poll(), select()
and epoll can sleep on all of them at once.  Here a file kind implements
`poll(pt)` the same way; `pt` (a PollTable, or None when the caller only
wants the mask) collects two kinds of things to sleep on:

  - WaitQueues of the board's own objects (an eventfd's counter, a
    signalfd's task), woken by the kernel code that changes them;
  - host descriptors with the events that matter, for files whose state
    the host kernel keeps (pipes, sockets, terminals): kernel/sched/core.py
    polls those while the task sleeps;
  - kernel-clock deadlines, for files that become ready at a time (a timer
    file): the sleep ends then and the poll is done again.

A file without a poll method is one Linux serves from the host descriptor
(default_host_poll below) or a synthetic /proc body, which is always
ready.  A file kind that wants edge-triggered epoll to see every change of
its own state (not only changes of the mask) counts them in `poll_seq`,
incremented wherever it wakes its queue (ep_poll_callback's role).
"""

import select
import stat

from kernel.sched.wait import WouldBlock

# include/uapi/linux/poll.h (asm-generic/poll.h values, arm64 uses them).
POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND = 0x40, 0x80, 0x100, 0x200
POLLMSG, POLLRDHUP = 0x400, 0x2000
# What poll() reports whether asked for or not.
POLL_ALWAYS = POLLERR | POLLHUP | POLLNVAL
ALL_EVENTS = 0xFFFF


class PollTable:
    """poll_table: where a poller would sleep, collected by poll_wait()."""

    __slots__ = ("queues", "fds", "external", "deadline", "key", "excl")

    def __init__(self):
        self.queues = []
        self.excl = []                  # HostWaitQueues (kernel/fs/epoll_exclusive.py)
        self.fds = []
        self.external = False
        self.deadline = None
        # poll_table._key: the events the caller waits for on the file being
        # polled now.  A host descriptor is watched for these only, or a
        # socket always writable would end every wait for input at once.
        self.key = ALL_EVENTS

    def poll_wait(self, queue):
        """poll_wait(): sleep on a wait queue of the board."""
        if queue not in self.queues:
            self.queues.append(queue)

    def poll_wait_host(self, fd, events, external=False):
        """Sleep until the host says fd has one of events (POLLERR/POLLHUP are
        always reported by the host).  external: the host's own processes may
        make it ready (a terminal, an inherited pipe, an INET socket)."""
        self.fds.append((fd, events))
        self.external = self.external or external

    def poll_wait_host_exclusive(self, hwq):
        """Sleep, exclusively, until the host file of hwq is woken
        (EPOLLEXCLUSIVE on a file the host serves)."""
        if hwq not in self.excl:
            self.excl.append(hwq)

    def poll_wait_until(self, when):
        """Sleep no later than kernel clock time `when` (a timer's expiry)."""
        if self.deadline is None or when < self.deadline:
            self.deadline = when

    def sleep(self, deadline=None, restart=None):
        """Raise WouldBlock on everything collected, until the caller's
        deadline or the earliest one a file asked for."""
        if self.deadline is not None and (deadline is None or self.deadline < deadline):
            deadline = self.deadline
        kw = {} if restart is None else {"restart": restart}
        raise WouldBlock(queues=tuple(self.queues), fds=tuple(self.fds), deadline=deadline,
                         external=self.external, excl=tuple(self.excl), **kw)


def host_poll_mask(fd, events=POLLIN | POLLPRI | POLLOUT | POLLRDHUP):
    """The host kernel's ready mask of fd now (0 if none of events)."""
    p = select.poll()
    p.register(fd, events)
    ready = p.poll(0)
    return ready[0][1] if ready else 0


def default_host_poll(file, pt):
    """The poll of a file the host serves, with the RDNORM/WRNORM bits a
    Linux pipe or socket sets alongside IN/OUT.  Regular files and
    directories are always ready (they have no ->poll: DEFAULT_POLLMASK)."""
    mask = host_poll_mask(file.host_fd)
    if mask & POLLIN:
        mask |= POLLRDNORM
    if mask & POLLOUT:
        mask |= POLLWRNORM
    if pt is not None:
        pt.poll_wait_host(file.host_fd, (POLLIN | POLLPRI | POLLOUT | POLLRDHUP) & pt.key,
                          external=host_external(file))
    return mask


def host_external(file):
    """Can the host's own processes make file ready?  Yes for descriptors
    the board did not make itself (a terminal, an inherited pipe), and for
    those that say so (an IP socket, a path-named AF_UNIX socket, inotify);
    not for the board's pipes and socketpairs."""
    return getattr(file, "external", not file.owned_nonblock)


DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM


def vfs_poll(file, pt=None):
    """vfs_poll(): the ready mask of file; with pt, also where to sleep."""
    poll = getattr(file, "poll", None)
    if poll is not None:
        return poll(pt)
    if file.host_fd is None:
        return DEFAULT_POLLMASK
    return default_host_poll(file, pt)


def file_can_poll(file):
    """file_can_poll(): does the file have its own ->poll (epoll needs one)?
    Regular files, directories, /dev/null-like devices and /proc bodies do
    not; epoll_ctl() refuses them with EPERM."""
    if getattr(file, "poll", None) is not None:
        return True
    if file.host_fd is None:
        return False
    return not (stat.S_ISREG(file.mode) or stat.S_ISDIR(file.mode) or stat.S_ISBLK(file.mode))


def poll_seq(file):
    """The file's count of wake-ups (see module docstring); None if the file
    has no own state (a host file: the host's epoll sees its edges)."""
    return getattr(file, "poll_seq", None)
