"""ipc/mqueue.c: POSIX message queues.

A queue is an inode of the board's mqueue file system (one per IPC
namespace, so two boards never share a name); mq_open() gives a descriptor
of it, which read() describes ("QSIZE:..."), close() drops, and which keeps
an unlinked queue alive.  Messages come out highest priority first, FIFO
within a priority.  mq_timedsend/mq_timedreceive sleep (WouldBlock) while
the queue is full/empty, until CLOCK_REALTIME reaches abs_timeout
(-ETIMEDOUT); O_NONBLOCK says -EAGAIN.  mq_notify() registers one process
to be told (SIGEV_SIGNAL: a signal with si_code SI_MESGQ and the
sigev_value; SIGEV_NONE: nothing) when a message arrives in an empty queue
with no receiver waiting; the registration is then dropped.

SIGEV_THREAD names a netlink socket (kernel/net/netlink.py) and a 32-byte
cookie: the cookie goes back on that socket, its last byte NOTIFY_WOKENUP
when a message arrives, NOTIFY_REMOVED when the owner unregisters — what
glibc's and musl's helper threads wait for.

Omits: RLIMIT_MSGQUEUE accounting, the mqueue mount (/dev/mqueue), and
mqueue_flush_file(): the owner closing a queue descriptor does not drop
its registration.
"""

import errno
import stat
import struct
from types import SimpleNamespace

from kernel.fs.file import File
from kernel.cred import CAP_FOWNER, CAP_SYS_RESOURCE
from kernel.fs.namei import generic_permission
from kernel.ipc import mq_sysctl  # noqa: F401  (/proc/sys/fs/mqueue)
from kernel.ipc.uapi import HARD_MSGMAX, HARD_MSGSIZEMAX
from kernel.ipc.util import capable, s32
from kernel.sched.wait import ERESTARTSYS, WaitQueue, WouldBlock
from kernel.signal import SIGINFO_SIZE, SigInfo, send_signal
from kernel.syscalls.table import syscall
from kernel.time.timekeeping import NSEC_PER_SEC, real_to_mono
from kernel.uapi import NSIG, O_ACCMODE, O_CLOEXEC, O_CREAT, O_EXCL, O_NONBLOCK, O_RDWR, O_WRONLY

MQ_ATTR = struct.Struct("<4q32x")               # mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs
SIGEVENT = struct.Struct("<Qii")                # sigev_value, sigev_signo, sigev_notify
SIGEVENT_SIZE = 64
TIMESPEC = struct.Struct("<qq")
MQ_PRIO_MAX = 32768
MQUEUE_ROOT_UID = 0             # mqueue_fill_super(): the root, made at boot by root
NAME_MAX = 255
PATH_MAX = 4096
SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD = 0, 1, 2
SI_MESGQ = -3
MAY_READ, MAY_WRITE = 4, 2


class MqueueInode:
    """struct mqueue_inode_info."""

    def __init__(self, task, mode, maxmsg, msgsize):
        self.maxmsg = maxmsg
        self.msgsize = msgsize
        self.mode = mode
        # mqueue_get_inode(): the creator's fsuid and fsgid, as any new inode.
        self.uid, self.gid = task.cred.fsuid, task.cred.fsgid
        self.messages = []              # (prio, bytes), highest priority first
        self.wait = WaitQueue("mqueue")
        self.notify_owner = None        # tgid to notify
        self.notify = None              # (sigev_notify, signo, value)
        self.receivers = 0              # tasks asleep in mq_timedreceive

    def status(self):
        """What read() of a queue descriptor says (mqueue_read_file())."""
        signo = self.notify[1] if self.notify and self.notify[0] == SIGEV_SIGNAL else 0
        return ("QSIZE:%-10u NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n" % (
            sum(len(m) for _p, m in self.messages),
            self.notify[0] if self.notify else 0, signo, self.notify_owner or 0)).encode()


class MqFile(File):
    """An open queue: its body is the status line, made at each read."""

    def __init__(self, kernel, info, name, flags):
        super().__init__(kernel, None, "/" + name, flags, body=b"")
        self.info = info
        self.mode = stat.S_IFREG | info.mode

    def getattr(self):
        """The queue inode as fstat() shows it: its mode and owner
        (the size and times omitted: the status line's, zero)."""
        from kernel.fs.stat import SyntheticStat
        st = SyntheticStat(0, self.mode)
        st.st_uid, st.st_gid = self.info.uid, self.info.gid
        return st

    @property
    def body(self):
        return self.info.status() if getattr(self, "info", None) is not None else b""

    @body.setter
    def body(self, value):
        pass                            # File.__init__ sets it; the status is live

    def f_flush(self, files):
        """mqueue_flush_file(): when the process registered for notification
        closes any descriptor of the queue, the registration goes.  Linux
        compares the closing task's tgid; the board's close knows the
        files_struct, which is the owner process's own unless it shares it
        with another process (CLONE_FILES without CLONE_THREAD: then a close
        by the other process drops the registration too)."""
        info = self.info
        if info.notify_owner is None:
            return
        owner = self.kernel.tasks.get(info.notify_owner)
        if owner is None or owner.files is files:
            remove_notification(info)


def mqueues(task):
    return task.kernel.ipc_ns.mqueues


def _name(task, u_name):
    """getname() + lookup_one_len(): the queue's name (the libc strips the
    leading '/'); -ENOENT for "", -ENAMETOOLONG, -EACCES for "/", "." or ".."."""
    name = task.uaccess.strncpy_from_user(u_name, PATH_MAX)
    if not name:
        return -errno.ENOENT
    if len(name) >= PATH_MAX or len(name) > NAME_MAX:
        return -errno.ENAMETOOLONG
    if b"/" in name or name in (b".", b".."):
        return -errno.EACCES
    return name.decode("latin-1")


def mq_queues_count(kernel):
    """ipc_ns->mq_queues_count: the queues that exist — named ones and
    unlinked ones still open (an inode lives until mqueue_evict_inode())."""
    alive = {id(info) for info in kernel.ipc_ns.mqueues.values()}
    for task in kernel.tasks.values():
        if task.files is not None:
            alive.update(id(f.info) for f in task.files.fds.values() if isinstance(f, MqFile))
    return len(alive)


def mq_attr_ok(task, maxmsg, msgsize):
    """mq_attr_ok(): -EINVAL for sizes not positive or above the limits
    (the board's msg_max/msgsize_max, or the hard ones with CAP_SYS_RESOURCE),
    -EOVERFLOW if the queue's size would not fit a long."""
    if maxmsg <= 0 or msgsize <= 0:
        return -errno.EINVAL
    if capable(task, CAP_SYS_RESOURCE):
        if maxmsg > HARD_MSGMAX or msgsize > HARD_MSGSIZEMAX:
            return -errno.EINVAL
    elif maxmsg > task.kernel.ipc_ns.mq_msg_max or msgsize > task.kernel.ipc_ns.mq_msgsize_max:
        return -errno.EINVAL
    if msgsize > ((1 << 64) - 1) // maxmsg:
        return -errno.EOVERFLOW
    return 0


def _may_open(task, info, oflag):
    """do_open(): O_WRONLY|O_RDWR is -EINVAL; then inode_permission() for
    the access mode (-EACCES): generic_permission() by fsuid, fsgid and the
    groups, CAP_DAC_READ_SEARCH/CAP_DAC_OVERRIDE."""
    acc = oflag & O_ACCMODE
    if acc == O_RDWR | O_WRONLY:
        return -errno.EINVAL
    want = {0: MAY_READ, 1: MAY_WRITE, 2: MAY_READ | MAY_WRITE}[acc]
    inode = SimpleNamespace(st_mode=stat.S_IFREG | info.mode, st_uid=info.uid, st_gid=info.gid)
    return generic_permission(task.cred, inode, want)


@syscall("mq_open", "path oflags mode mqattr")
def sys_mq_open(task, u_name, oflag, mode, u_attr):
    """SYSCALL mq_open(): a descriptor of the named queue, made with O_CREAT
    (attributes from u_attr or the defaults, mode less the umask)."""
    oflag = s32(oflag)
    attr = None
    if u_attr:
        attr = MQ_ATTR.unpack(task.uaccess.copy_from_user(u_attr, MQ_ATTR.size))
    name = _name(task, u_name)
    if isinstance(name, int):
        return name
    queues = mqueues(task)
    info = queues.get(name)
    if info is None and oflag & O_CREAT:
        # do_create(): the new queue's own opener is not checked against its
        # mode, nor is O_WRONLY|O_RDWR refused (that descriptor can do nothing).
        ns = task.kernel.ipc_ns
        maxmsg, msgsize = ns.mq_msg_default, ns.mq_msgsize_default
        if attr is not None:
            err = mq_attr_ok(task, attr[1], attr[2])
            if err:
                return err
            maxmsg, msgsize = attr[1], attr[2]
        if mq_queues_count(task.kernel) >= ns.mq_queues_max and \
                not capable(task, CAP_SYS_RESOURCE):
            return -errno.ENOSPC        # mqueue_create_attr(): queues_max reached
        info = MqueueInode(task, mode & 0o7777 & ~task.fs.umask, maxmsg, msgsize)
        queues[name] = info
    elif info is None:
        return -errno.ENOENT
    elif oflag & O_CREAT and oflag & O_EXCL:
        return -errno.EEXIST
    else:
        err = _may_open(task, info, oflag)
        if err:
            return err
    file = MqFile(task.kernel, info, name, oflag & ~(O_CREAT | O_EXCL | O_CLOEXEC))
    fd = task.files.alloc_fd(file, cloexec=bool(oflag & O_CLOEXEC))
    if fd < 0:
        file.put()
    return fd


@syscall("mq_unlink", "path")
def sys_mq_unlink(task, u_name):
    """SYSCALL mq_unlink(): the name goes; open descriptors keep the queue.
    vfs_unlink()'s may_delete(): the mqueue root is sticky (1777, owned by
    root), so only the queue's owner, root or CAP_FOWNER may remove it,
    else EPERM (which the C libraries turn into EACCES)."""
    name = _name(task, u_name)
    if isinstance(name, int):
        return name
    info = mqueues(task).get(name)
    if info is None:
        return -errno.ENOENT
    fsuid = task.cred.fsuid
    if fsuid not in (info.uid, MQUEUE_ROOT_UID) and not capable(task, CAP_FOWNER):
        return -errno.EPERM             # check_sticky()
    del mqueues(task)[name]
    return 0


def _deadline(task, u_timeout):
    """prepare_timeout(): (0, the kernel-clock time an absolute CLOCK_REALTIME
    timeout falls at, or None), or (-EINVAL, None) for an invalid timespec.
    A retry after a sleep keeps the deadline the first attempt computed."""
    state = task.restart
    if state is not None and state.get("mq") is not None:
        if state["receiving"]:
            state["mq"].receivers -= 1
            state["receiving"] = False
        return 0, state["deadline"]
    if not u_timeout:
        return 0, None
    sec, nsec = TIMESPEC.unpack(task.uaccess.copy_from_user(u_timeout, TIMESPEC.size))
    if sec < 0 or not 0 <= nsec < NSEC_PER_SEC:
        return -errno.EINVAL, None
    # an absolute CLOCK_REALTIME instant, on the kernel clock's base
    return 0, real_to_mono(task.kernel, sec * NSEC_PER_SEC + nsec) / NSEC_PER_SEC


def _mq_fget(task, mqdes):
    file = task.files.get(s32(mqdes))
    return file if isinstance(file, MqFile) else None


def _wait(task, info, deadline, receiving):
    """wq_sleep(): sleep on the queue until woken or the deadline."""
    state = task.restart
    if state is not None and state.get("mq") is info and deadline is not None \
            and task.kernel.sched.clock() >= deadline:
        task.restart = None
        return -errno.ETIMEDOUT
    if receiving:
        info.receivers += 1
    task.restart = {"mq": info, "deadline": deadline, "receiving": receiving}

    def cancel():
        task.restart = None
    raise WouldBlock(queues=(info.wait,), deadline=deadline, cancel=cancel, restart=ERESTARTSYS)


def __do_notify(task, info):
    """__do_notify(): a message arrived in an empty queue and no receiver
    waits: the registered process gets its notification, once."""
    if info.notify_owner is not None and len(info.messages) == 1 and not info.receivers:
        kind, signo, value = info.notify
        if kind == SIGEV_THREAD:
            _send_cookie(info.notify, NOTIFY_WOKENUP)
        elif kind == SIGEV_SIGNAL:
            owner = task.kernel.tasks.get(info.notify_owner)
            if owner is not None and owner.exit_state is None:
                sig = SigInfo(signo, SI_MESGQ, pid=task.tgid, uid=task.cred.uid)
                sig.raw = struct.pack("<iii4xiIQ", signo, 0, SI_MESGQ, task.tgid,
                                      task.cred.uid, value).ljust(SIGINFO_SIZE, b"\0")
                send_signal(owner, sig, group=True)
        info.notify_owner = info.notify = None
    info.wait.wake_up()


@syscall("mq_timedsend", "fd ibuf:2 u u p")
def sys_mq_timedsend(task, mqdes, u_msg_ptr, msg_len, msg_prio, u_abs_timeout):
    """SYSCALL mq_timedsend(): -EINVAL (timeout, priority >= MQ_PRIO_MAX),
    -EBADF (not a queue, not open for writing), -EMSGSIZE, -EFAULT,
    -EAGAIN (full, O_NONBLOCK), -ETIMEDOUT."""
    err, deadline = _deadline(task, u_abs_timeout)
    if err:
        return err
    msg_prio &= 0xFFFFFFFF
    if msg_prio >= MQ_PRIO_MAX:
        return -errno.EINVAL
    file = _mq_fget(task, mqdes)
    if file is None or not file.writable:
        return -errno.EBADF
    info = file.info
    if msg_len > info.msgsize:
        return -errno.EMSGSIZE
    data = task.uaccess.copy_from_user(u_msg_ptr, msg_len)
    if len(info.messages) >= info.maxmsg:
        if file.flags & O_NONBLOCK:
            return -errno.EAGAIN
        return _wait(task, info, deadline, False)
    task.restart = None
    i = 0
    while i < len(info.messages) and info.messages[i][0] >= msg_prio:
        i += 1
    info.messages.insert(i, (msg_prio, data))
    __do_notify(task, info)
    return 0


@syscall("mq_timedreceive", "fd obuf:ret u intout timespec")
def sys_mq_timedreceive(task, mqdes, u_msg_ptr, msg_len, u_msg_prio, u_abs_timeout):
    """SYSCALL mq_timedreceive(): the oldest message of the highest priority;
    -EBADF, -EMSGSIZE (msg_len below mq_msgsize), -EAGAIN (empty,
    O_NONBLOCK), -ETIMEDOUT, -EFAULT (the message is gone then)."""
    err, deadline = _deadline(task, u_abs_timeout)
    if err:
        return err
    file = _mq_fget(task, mqdes)
    if file is None or not file.readable:
        return -errno.EBADF
    info = file.info
    if msg_len < info.msgsize:
        return -errno.EMSGSIZE
    if not info.messages:
        if file.flags & O_NONBLOCK:
            return -errno.EAGAIN
        return _wait(task, info, deadline, True)
    task.restart = None
    prio, data = info.messages.pop(0)
    info.wait.wake_up()                 # a sender may fit now
    if u_msg_prio:
        task.uaccess.copy_to_user(u_msg_prio, struct.pack("<I", prio))
    task.uaccess.copy_to_user(u_msg_ptr, data)
    return len(data)


@syscall("mq_getsetattr", "fd mqattr mqattr:out")
def sys_mq_getsetattr(task, mqdes, u_mqstat, u_omqstat):
    """SYSCALL mq_getsetattr(): only O_NONBLOCK of mq_flags can change
    (-EINVAL for other flags); the old attributes go to u_omqstat."""
    new = None
    if u_mqstat:
        new = MQ_ATTR.unpack(task.uaccess.copy_from_user(u_mqstat, MQ_ATTR.size))
        if new[0] & ~O_NONBLOCK:
            return -errno.EINVAL
    file = _mq_fget(task, mqdes)
    if file is None:
        return -errno.EBADF
    info = file.info
    old = MQ_ATTR.pack(file.flags & O_NONBLOCK, info.maxmsg, info.msgsize, len(info.messages))
    if new is not None:
        file.flags = (file.flags & ~O_NONBLOCK) | (new[0] & O_NONBLOCK)
    if u_omqstat:
        task.uaccess.copy_to_user(u_omqstat, old)
    return 0


NOTIFY_COOKIE_LEN = 32


NOTIFY_NONE, NOTIFY_WOKENUP, NOTIFY_REMOVED = 0, 1, 2     # the cookie's last byte


def _sigev_thread(task, cookie, sockfd):
    """SIGEV_THREAD's set-up: the cookie is read (-EFAULT), sigev_signo must
    be a netlink socket (netlink_getsockbyfilp(): -EBADF, -ENOTSOCK, or
    -EINVAL for another socket).  Returns (cookie, the socket with a
    reference) or -errno."""
    data = task.uaccess.copy_from_user(cookie, NOTIFY_COOKIE_LEN)
    file = task.files.get(s32(sockfd))
    if file is None:
        return -errno.EBADF
    if not stat.S_ISSOCK(file.mode):
        return -errno.ENOTSOCK
    from kernel.net.netlink import is_netlink
    if not is_netlink(file):
        return -errno.EINVAL
    return data, file.get()


def _send_cookie(notify, code):
    """set_cookie() + netlink_sendskb(): the registration's cookie, its
    last byte saying why, goes to its netlink socket, which is let go."""
    _kind, sock, cookie = notify
    sock.sendskb(cookie[:-1] + bytes([code]))
    sock.put()


def remove_notification(info):
    """remove_notification(): a SIGEV_THREAD registration tells its helper
    thread it is gone (NOTIFY_REMOVED)."""
    if info.notify_owner is not None and info.notify[0] == SIGEV_THREAD:
        _send_cookie(info.notify, NOTIFY_REMOVED)
    info.notify_owner = info.notify = None


@syscall("mq_notify", "fd sigevent")
def sys_mq_notify(task, mqdes, u_notification):
    """SYSCALL mq_notify(): register (SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD
    with a netlink socket and a cookie) or, with NULL, unregister the
    caller's process; -EBUSY if another is registered, -EINVAL for a bad
    sigev_notify or signal."""
    notification = None
    if u_notification:
        value, signo, kind = SIGEVENT.unpack(task.uaccess.copy_from_user(
            u_notification, SIGEVENT.size))
        if kind not in (SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD):
            return -errno.EINVAL
        if kind == SIGEV_SIGNAL and not 0 <= signo <= NSIG:
            return -errno.EINVAL
        if kind == SIGEV_THREAD:
            got = _sigev_thread(task, value, signo)
            if isinstance(got, int):
                return got
            notification = (kind, got[1], got[0])
        else:
            notification = (kind, signo, value)
    file = _mq_fget(task, mqdes)
    if file is None:
        if notification is not None and notification[0] == SIGEV_THREAD:
            notification[1].put()
        return -errno.EBADF
    info = file.info
    if notification is None:
        if info.notify_owner == task.tgid:
            remove_notification(info)
        return 0
    if info.notify_owner is not None:
        if notification[0] == SIGEV_THREAD:
            notification[1].put()       # the skb is freed, the socket put
        return -errno.EBUSY
    info.notify_owner = task.tgid
    info.notify = notification
    return 0
