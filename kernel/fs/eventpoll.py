"""fs/eventpoll.c: epoll — an interest list, a ready list, and waiting on both.

An epoll file keeps one epitem per (file, fd) added with epoll_ctl().  How
readiness reaches it depends on who keeps the watched file's state:

  - files the host serves (pipes, sockets, terminals) are watched by a
    host epoll instance of the board's epoll file, through a dup of their
    host descriptor, with the same EPOLLET/EPOLLONESHOT flags: the host
    kernel's ep_poll_callback then decides edges exactly as Linux does;
  - the board's own files (eventfd, signalfd, another epoll, timerfd...)
    are polled with vfs_poll() at each epoll_wait(); an edge-triggered
    item is reported when the file woke its queue with a key meeting the
    item's events since the last report (AnonFile.wake_seq), which is what
    ep_poll_callback() queuing the item on the ready list amounts to.

epoll_wait() sleeps on the host epoll descriptor and the wait queues of
the board's files together (kernel/fs/poll.py).  As in Linux, an item
belongs to the open file, not to the descriptor number: closing one of two
descriptors of a file leaves it watched; the last reference removes it
(eventpoll_release()).
"""

import errno
import os
import select
import struct

from kernel.fs.anon_inodes import AnonFile
from kernel.fs.epoll_exclusive import get_host_wait_queue, put_host_wait_queue
from kernel.fs.epoll_paths import reverse_path_check, tfile_check_list
from kernel.fs.open import fdget
from kernel.uaccess import s32
from kernel.fs.poll import (
    POLLERR, POLLHUP, POLLIN, POLLRDNORM, PollTable, file_can_poll, host_external, vfs_poll,
)
from kernel.fs.select import _done, _set_sigmask
from kernel.sched.wait import ExclusiveWait
from kernel.syscalls.table import syscall
from kernel.uapi import O_CLOEXEC, O_RDWR

EPOLL_CLOEXEC = O_CLOEXEC
EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD = 1, 2, 3
EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP = 0x1, 0x2, 0x4, 0x8, 0x10
EPOLLRDNORM, EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND, EPOLLMSG = 0x40, 0x80, 0x100, 0x200, 0x400
EPOLLRDHUP = 0x2000
EPOLLEXCLUSIVE = 1 << 28
EPOLLWAKEUP = 1 << 29
EPOLLONESHOT = 1 << 30
EPOLLET = 1 << 31
# Bits epoll keeps for itself; a fired EPOLLONESHOT item keeps only these.
EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE
# What may go with EPOLLEXCLUSIVE (4.14: EPOLLEXCLUSIVE_OK_BITS).
EPOLLEXCLUSIVE_OK_BITS = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | \
    EPOLLEXCLUSIVE
EP_MAX_NESTS = 4
# struct epoll_event: __u32 events; __u64 data (packed only on x86-64; 16 bytes here).
EPOLL_EVENT = struct.Struct("<I4xQ")
EP_MAX_EVENTS = 0x7FFFFFFF // EPOLL_EVENT.size
# What a host descriptor's epoll registration may carry.
_HOST_EVENT_BITS = 0xFFFF | EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE


class EpItem:
    """struct epitem: one watched (file, fd) of one epoll."""

    __slots__ = ("ep", "file", "fd", "events", "data", "host_fd", "seen", "hwq")

    def __init__(self, ep, file, fd, events, data):
        self.ep, self.file, self.fd = ep, file, fd
        self.events, self.data = events, data
        self.host_fd = None             # our dup of the file's host fd, in ep.host_ep
        self.seen = -1                  # last wake seq looked at (edge-triggered)
        # EPOLLEXCLUSIVE on a host-served file: the item is in ep.excl_ep
        # and epoll_wait() sleeps on this (kernel/fs/epoll_exclusive.py).
        self.hwq = None


class EventPoll(AnonFile):
    """struct eventpoll with its file."""

    def __init__(self, kernel, flags):
        super().__init__(kernel, "eventpoll", O_RDWR)
        self.items = {}                 # (file, fd) -> EpItem, in insertion order
        self.by_host_fd = {}            # our host dup -> EpItem
        self.host_ep = None             # select.epoll for host-served files
        self.edge_ep = None             # watches host_ep edge-triggered (see wake_seq)
        self.host_edges = 0
        self.excl_ep = None             # ... for those watched with EPOLLEXCLUSIVE
        self.host_shared = 0            # host-served items without EPOLLEXCLUSIVE

    # -- the interest list ------------------------------------------------------

    def _host(self):
        if self.host_ep is None:
            self.host_ep = select.epoll(flags=select.EPOLL_CLOEXEC)
            # Every event the host queues on host_ep is an edge of this epoll
            # for an epoll watching it (ep_poll_callback() -> ep->poll_wait).
            self.edge_ep = select.epoll(flags=select.EPOLL_CLOEXEC)
            self.edge_ep.register(self.host_ep.fileno(), select.EPOLLIN | select.EPOLLET)
        return self.host_ep

    def _host_for(self, item):
        """The host epoll an item of a host-served file is in."""
        if item.hwq is None:
            return self._host()
        if self.excl_ep is None:
            self.excl_ep = select.epoll(flags=select.EPOLL_CLOEXEC)
            self._host()
            self.edge_ep.register(self.excl_ep.fileno(), select.EPOLLIN | select.EPOLLET)
        return self.excl_ep

    def _host_ready(self, maxevents):
        """(host dup fd, revents) of the host-served items ready now."""
        out = self._host().poll(0, maxevents) if self.host_shared else []
        if self.excl_ep is not None and len(out) < maxevents:
            out += self.excl_ep.poll(0, maxevents - len(out))
        return out

    def wake_seq(self, events):
        """For an epoll watching this one edge-triggered: a count that moves
        whenever an item here had a new event — our own wake-ups, the board
        files' wake-ups, and the host's events on host_ep."""
        seq = super().wake_seq(events)
        for item in self.items.values():
            if item.host_fd is None:
                wake_seq = getattr(item.file, "wake_seq", None)
                if wake_seq is not None:
                    seq += wake_seq(item.events | POLLERR | POLLHUP)
        if self.edge_ep is not None and self.edge_ep.poll(0):
            self.host_edges += 1
        return seq + self.host_edges

    def insert(self, file, fd, events, data):
        """ep_insert(): watch (file, fd); 0 or -errno (the host may refuse
        a file it cannot poll: EPERM, as Linux for a file without ->poll)."""
        item = EpItem(self, file, fd, events, data)
        if getattr(file, "poll", None) is None and file.host_fd is not None:
            item.host_fd = os.dup(file.host_fd)
            if events & EPOLLEXCLUSIVE:
                item.hwq = get_host_wait_queue(self.kernel, file, events, host_external(file))
            try:
                self._host_for(item).register(item.host_fd, events & _HOST_EVENT_BITS)
            except OSError as e:
                os.close(item.host_fd)
                if item.hwq is not None:
                    put_host_wait_queue(self.kernel, item.hwq)
                return -(e.errno or errno.EINVAL)
            self.by_host_fd[item.host_fd] = item
            self.host_shared += item.hwq is None
        self.items[(file, fd)] = item
        if file.f_ep_links is None:
            file.f_ep_links = []
        file.f_ep_links.append(item)
        self.wake_up(POLLIN)            # a ready item makes the epoll readable
        return 0

    def modify(self, item, events, data):
        """ep_modify(): new events and data; an item ready now is reported."""
        item.events, item.data = events, data
        item.seen = -1
        if item.host_fd is not None:
            self._host_for(item).modify(item.host_fd, events & _HOST_EVENT_BITS)
        self.wake_up(POLLIN)
        return 0

    def remove(self, item):
        """ep_remove()."""
        self.items.pop((item.file, item.fd), None)
        links = item.file.f_ep_links
        if links and item in links:
            links.remove(item)
        if item.host_fd is not None:
            self.by_host_fd.pop(item.host_fd, None)
            try:
                self._host_for(item).unregister(item.host_fd)
            except OSError:
                pass
            os.close(item.host_fd)
            item.host_fd = None
            if item.hwq is not None:
                put_host_wait_queue(self.kernel, item.hwq)
                item.hwq = None
            else:
                self.host_shared -= 1
        return 0

    def release(self):
        """ep_free(): drop every item, close the host epoll."""
        for item in list(self.items.values()):
            self.remove(item)
        if self.host_ep is not None:
            self.edge_ep.close()
            self.host_ep.close()
            self.host_ep = self.edge_ep = None
        if self.excl_ep is not None:
            self.excl_ep.close()
            self.excl_ep = None

    # -- readiness --------------------------------------------------------------

    def _board_ready(self, item, consume):
        """The events of a board-kept file to report now (0: none)."""
        if item.host_fd is not None or not item.events & ~EP_PRIVATE_BITS:
            return 0
        want = item.events | POLLERR | POLLHUP
        revents = vfs_poll(item.file, None) & want & 0xFFFF
        if item.events & EPOLLET:
            wake_seq = getattr(item.file, "wake_seq", None)
            seq = wake_seq(want) if wake_seq is not None else item.file.poll_seq or 0
            if seq == item.seen:
                return 0
            if consume:
                item.seen = seq
        return revents

    def ready_events(self, maxevents):
        """ep_send_events(): up to maxevents (events, data) pairs, applying
        EPOLLONESHOT (disarm) and EPOLLET (report each edge once)."""
        out = []
        for item in list(self.items.values()):
            if len(out) >= maxevents:
                break
            revents = self._board_ready(item, True)
            if revents:
                out.append((revents, item.data))
                if item.events & EPOLLONESHOT:
                    item.events &= EP_PRIVATE_BITS
        if len(out) < maxevents and self.by_host_fd:
            for hfd, revents in self._host_ready(maxevents - len(out)):
                item = self.by_host_fd.get(hfd)
                if item is not None:
                    out.append((revents, item.data))
                    if item.events & EPOLLONESHOT:
                        item.events &= EP_PRIVATE_BITS
        return out

    def any_ready(self):
        """ep_events_available() without consuming an edge."""
        if any(self._board_ready(item, False) for item in self.items.values()):
            return True
        if not self.by_host_fd:
            return False
        fds = [self.host_ep.fileno()] if self.host_shared else []
        if self.excl_ep is not None:
            fds.append(self.excl_ep.fileno())
        return bool(select.select(fds, [], [], 0)[0])

    def wait_table(self, pt):
        """Where an epoll_wait() on this epoll sleeps.  The queues of an
        EPOLLEXCLUSIVE item are joined exclusively (ep_ptable_queue_proc()'s
        add_wait_queue_exclusive()): an event wakes one of the epoll_wait()s
        watching the file that way, not all; for the files the host serves,
        the file's HostWaitQueue is (kernel/fs/epoll_exclusive.py)."""
        for item in self.items.values():
            if item.host_fd is None:
                if item.events & EPOLLEXCLUSIVE:
                    sub = PollTable()
                    vfs_poll(item.file, sub)
                    for queue in sub.queues:
                        pt.poll_wait(ExclusiveWait(queue))
                    for fd, events in sub.fds:
                        pt.poll_wait_host(fd, events, sub.external)
                    if sub.deadline is not None:
                        pt.poll_wait_until(sub.deadline)
                else:
                    vfs_poll(item.file, pt)
        if self.host_shared:
            external = any(host_external(i.file) for i in self.by_host_fd.values()
                           if i.hwq is None)
            pt.poll_wait_host(self.host_ep.fileno(), POLLIN, external)
        for item in self.by_host_fd.values():
            if item.hwq is not None:
                pt.poll_wait_host_exclusive(item.hwq)
        pt.poll_wait(self.wqh)

    def poll(self, pt):
        """ep_eventpoll_poll(): readable while an item is ready."""
        if pt is not None:
            self.wait_table(pt)
        return POLLIN | POLLRDNORM if self.any_ready() else 0

    def show_fdinfo(self):
        """ep_show_fdinfo()."""
        return "".join("tfd: %8d events: %8x data: %16x  pos:0 ino:0 sdev:0\n"
                       % (i.fd, i.events, i.data) for i in self.items.values())


def eventpoll_release(file):
    """eventpoll_release(): the file's last reference is gone; every epoll
    watching it forgets it."""
    for item in list(file.f_ep_links or ()):
        item.ep.remove(item)
    file.f_ep_links = None


def is_file_epoll(file):
    return isinstance(file, EventPoll)


def ep_loop_check(ep, target, depth=0):
    """ep_loop_check(): would watching target from ep make a cycle, or nest
    deeper than EP_MAX_NESTS?"""
    if depth > EP_MAX_NESTS:
        return True
    for item in target.items.values():
        if is_file_epoll(item.file):
            if item.file is ep or ep_loop_check(ep, item.file, depth + 1):
                return True
    return False


@syscall("epoll_create1", "epollflags")
def sys_epoll_create1(task, flags):
    """epoll_create1(): only EPOLL_CLOEXEC may be given."""
    flags = s32(flags)
    if flags & ~EPOLL_CLOEXEC:
        return -errno.EINVAL
    file = EventPoll(task.kernel, flags)
    fd = task.files.alloc_fd(file, cloexec=bool(flags & EPOLL_CLOEXEC))
    if fd < 0:
        file.put()
    return fd


@syscall("epoll_ctl", "fd epollop fd epollevent")
def sys_epoll_ctl(task, epfd, op, fd, event):
    """epoll_ctl(): checks in 4.14's order — the event copied first
    (EFAULT), the descriptors (EBADF), a target without poll (EPERM), the
    epoll itself or a non-epoll epfd (EINVAL), EPOLLEXCLUSIVE's rules
    (EINVAL), loops (ELOOP), then EEXIST/ENOENT."""
    epfd, op, fd = s32(epfd), s32(op), s32(fd)
    has_event = op != EPOLL_CTL_DEL
    events = data = 0
    if has_event:
        events, data = EPOLL_EVENT.unpack(task.uaccess.copy_from_user(event, EPOLL_EVENT.size))
    ep = fdget(task, epfd)              # fdget(): an O_PATH descriptor is EBADF
    if ep is None:
        return -errno.EBADF
    tf = fdget(task, fd)
    if tf is None:
        return -errno.EBADF
    if not file_can_poll(tf):
        return -errno.EPERM
    if has_event:
        events &= ~EPOLLWAKEUP          # ep_take_care_of_epollwakeup(): no CAP_BLOCK_SUSPEND
    if ep is tf or not is_file_epoll(ep):
        return -errno.EINVAL
    if has_event and events & EPOLLEXCLUSIVE:
        if op == EPOLL_CTL_MOD:
            return -errno.EINVAL
        if op == EPOLL_CTL_ADD and (is_file_epoll(tf) or events & ~EPOLLEXCLUSIVE_OK_BITS):
            return -errno.EINVAL
    if op == EPOLL_CTL_ADD and is_file_epoll(tf) and ep_loop_check(ep, tf):
        return -errno.ELOOP
    item = ep.items.get((tf, fd))
    if op == EPOLL_CTL_ADD:
        if item is not None:
            return -errno.EEXIST
        # full_check: the chain of epolls may grow (fs/eventpoll.c)
        full_check = bool(ep.f_ep_links) or is_file_epoll(tf)
        err = ep.insert(tf, fd, events | POLLERR | POLLHUP, data)
        if not err and full_check and reverse_path_check(tfile_check_list(tf, is_file_epoll)):
            ep.remove(ep.items[(tf, fd)])       # ep_insert()'s error_remove_epi
            return -errno.EINVAL
        return err
    if op == EPOLL_CTL_DEL:
        return ep.remove(item) if item is not None else -errno.ENOENT
    if op == EPOLL_CTL_MOD:
        if item is None:
            return -errno.ENOENT
        if item.events & EPOLLEXCLUSIVE:
            return -errno.EINVAL
        return ep.modify(item, events | POLLERR | POLLHUP, data)
    return -errno.EINVAL


def _timeout_deadline(task, timeout_ms):
    """ep_set_mstimeout(): the deadline of a positive timeout, kept across
    the call's re-executions; None for a negative one (wait forever)."""
    if task.restart is not None and "deadline" in task.restart:
        return task.restart["deadline"]
    if timeout_ms < 0:
        return None
    return task.kernel.sched.clock() + timeout_ms / 1000.0


@syscall("epoll_pwait", "fd p d d p u")
def sys_epoll_pwait(task, epfd, events, maxevents, timeout, sigmask, sigsetsize):
    """epoll_pwait() = epoll_wait() under a temporary signal mask.  A
    signal ends the wait with -EINTR, never restarted (ep_poll())."""
    epfd, maxevents, timeout = s32(epfd), s32(maxevents), s32(timeout)
    if sigmask:
        if sigsetsize != 8:
            return -errno.EINVAL
        _set_sigmask(task, sigmask, sigsetsize)
    if maxevents <= 0 or maxevents > EP_MAX_EVENTS:
        _done(task)
        return -errno.EINVAL
    if events + maxevents * EPOLL_EVENT.size > task.uaccess.mm.task_size:
        _done(task)
        return -errno.EFAULT            # access_ok()
    ep = fdget(task, epfd)
    if ep is None:
        _done(task)
        return -errno.EBADF
    if not is_file_epoll(ep):
        _done(task)
        return -errno.EINVAL
    ready = ep.ready_events(maxevents)
    if not ready and timeout != 0:
        deadline = _timeout_deadline(task, timeout)
        if deadline is None or task.kernel.sched.clock() < deadline:
            state = task.restart if task.restart is not None else {}
            state["deadline"] = deadline
            state["mask_set"] = True
            task.restart = state
            pt = PollTable()
            ep.wait_table(pt)
            pt.sleep(deadline, errno.EINTR)
    out = b"".join(EPOLL_EVENT.pack(ev & 0xFFFFFFFF, data) for ev, data in ready)
    try:
        task.uaccess.copy_to_user(events, out)
    finally:
        _done(task)
    return len(ready)
