"""fs/fcntl.c: fcntl(), and the owner of a file that SIGIO goes to.

sys_fcntl() dispatches as do_fcntl() does; record locks are fs/locks.c's
(kernel/fs/locks.py), leases too (kernel/fs/leases.py), F_NOTIFY is
dnotify's (kernel/fs/dnotify.py).

O_ASYNC: a file with the flag set sits on its inode's fasync list
(fasync_helper()); when the board makes the file readable or writable —
a guest write into a pipe, a guest read out of one, the release of a pipe
end, a guest send to a board socket, a guest receive that frees room a
connected writer found full — kill_fasync() sends the owner
(F_SETOWN, F_SETOWN_EX) SIGIO, or the F_SETSIG signal with si_code
POLL_IN/POLL_OUT/..., si_band and si_fd, as send_sigio() does.  Data that
the host puts into a descriptor (a terminal, a socket of a host process)
sends nothing: the board sees no event for it.
"""

import errno
import fcntl as host_fcntl
import os
import stat
import struct

from emu.arch import PAGE_SHIFT
from kernel.fs.locks import (
    F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, fcntl_getlk, fcntl_setlk, locks_inode_key,
)
from kernel.fs.leases import fcntl_getlease, fcntl_setlease
from kernel.ipc.uapi import F_ADD_SEALS, F_GET_SEALS
from kernel.mm.memfd import shmem_fcntl
from kernel.syscalls.table import syscall
from kernel.uaccess import s32
from kernel.uapi import (
    F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK, F_GETPIPE_SZ, F_SETFD, F_SETFL,
    F_SETLK, F_SETLKW, F_SETPIPE_SZ, FD_CLOEXEC, NSIG, O_APPEND, O_CLOEXEC, O_DIRECT,
    O_NOATIME, O_NONBLOCK, O_PATH,
)

# include/uapi/asm-generic/fcntl.h
FASYNC = 0o20000                        # O_ASYNC
F_SETOWN, F_GETOWN, F_SETSIG, F_GETSIG = 8, 9, 10, 11
F_SETOWN_EX, F_GETOWN_EX, F_GETOWNER_UIDS = 15, 16, 17
F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP = 0, 1, 2
F_SETLEASE, F_GETLEASE, F_NOTIFY = 1024, 1025, 1026
F_OWNER_EX_FORMAT = "<ii"               # struct f_owner_ex: type, pid
# include/linux/pid.h: how f_owner.pid is read
PIDTYPE_PID, PIDTYPE_PGID, PIDTYPE_MAX = "pid", "pgid", "tid"
# include/uapi/asm-generic/siginfo.h: SIGIO's si_code, and the band of each
POLL_IN, POLL_OUT, POLL_MSG, POLL_ERR, POLL_PRI, POLL_HUP = 1, 2, 3, 4, 5, 6
BAND_TABLE = {POLL_IN: 0x1 | 0x40,            # POLLIN | POLLRDNORM
              POLL_OUT: 0x4 | 0x100 | 0x200,   # POLLOUT | POLLWRNORM | POLLWRBAND
              POLL_MSG: 0x1 | 0x40 | 0x400,
              POLL_ERR: 0x8,                   # POLLERR
              POLL_PRI: 0x2 | 0x80,            # POLLPRI | POLLRDBAND
              POLL_HUP: 0x10 | 0x8}            # POLLHUP | POLLERR
SIGIO = 29
SI_KERNEL = 0x80
INT_MIN = -(1 << 31)
SETFL_MASK = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME    # FASYNC is ->fasync()'s


class FownStruct:
    """struct fown_struct: who gets the file's SIGIO, with the credentials
    of whoever set it (sigio_perm() checks them), and which signal."""

    __slots__ = ("pid", "pid_type", "uid", "euid", "signum")

    def __init__(self):
        self.pid = 0
        self.pid_type = PIDTYPE_PID
        self.uid = self.euid = 0
        self.signum = 0


def file_owner(file):
    """filp->f_owner, made on first use."""
    fown = file.__dict__.get("f_owner")
    if fown is None:
        fown = file.f_owner = FownStruct()
    return fown


def f_modown(task, file, pid, pid_type, force):
    """f_modown(): set the owner; force (F_SETOWN) or a file without one
    also records the caller's uid and euid."""
    fown = file_owner(file)
    if force or not fown.pid:
        fown.pid, fown.pid_type = pid, pid_type
        if pid:
            fown.uid, fown.euid = task.cred.uid, task.cred.euid


def f_setown(task, file, arg):
    """f_setown(): a positive argument is a process, a negative one a
    process group; EINVAL for INT_MIN.  4.14 sets an owner that does not
    exist without complaint (find_vpid() gives NULL: no owner); commit
    f73127356f34 ("fs/fcntl: return -ESRCH in f_setown when pid/pgid can't
    be found", v5.x) made that ESRCH."""
    who = s32(arg)
    pid_type = PIDTYPE_PID
    if who < 0:
        if who == INT_MIN:
            return -errno.EINVAL
        pid_type = PIDTYPE_PGID
        who = -who
    if not _pid_exists(task.kernel, who, pid_type):
        who = 0
    f_modown(task, file, who, pid_type, True)
    return 0


def _pid_exists(kernel, nr, pid_type):
    """find_vpid() != NULL: some task (a zombie too) has the number as its
    pid, or as its process group or session — whatever pid_type asks for,
    as find_vpid() only looks the number up."""
    if nr <= 0:
        return False
    if nr in kernel.tasks:
        return True
    return any(t.signal.pgrp == nr or t.signal.session == nr for t in kernel.tasks.values())


def f_getown(file):
    """f_getown(): the owner's number, negative for a process group."""
    fown = file.__dict__.get("f_owner")
    if fown is None:
        return 0
    return -fown.pid if fown.pid_type == PIDTYPE_PGID else fown.pid


def f_setown_ex(task, file, arg):
    """f_setown_ex(): EFAULT, EINVAL for an unknown type, ESRCH for a
    number no task has (0 clears the owner)."""
    kind, nr = struct.unpack(F_OWNER_EX_FORMAT, task.uaccess.copy_from_user(arg, 8))
    pid_type = {F_OWNER_TID: PIDTYPE_MAX, F_OWNER_PID: PIDTYPE_PID,
                F_OWNER_PGRP: PIDTYPE_PGID}.get(kind)
    if pid_type is None:
        return -errno.EINVAL
    exists = _pid_exists(task.kernel, nr, pid_type)
    if nr and not exists:
        return -errno.ESRCH
    f_modown(task, file, nr if exists else 0, pid_type, True)
    return 0


def f_getown_ex(task, file, arg):
    """f_getown_ex(): {type, pid}; a file never given an owner is
    {F_OWNER_PID, 0}."""
    fown = file.__dict__.get("f_owner") or FownStruct()
    kind = {PIDTYPE_MAX: F_OWNER_TID, PIDTYPE_PID: F_OWNER_PID,
            PIDTYPE_PGID: F_OWNER_PGRP}[fown.pid_type]
    task.uaccess.copy_to_user(arg, struct.pack(F_OWNER_EX_FORMAT, kind, fown.pid))
    return 0


# -- fasync ----------------------------------------------------------------------------------

def fasync_helper(kernel, fd, file, on):
    """fasync_helper(): put file on (or take it off) its inode's fasync
    list, remembering the descriptor that si_fd reports."""
    lists = kernel.__dict__.setdefault("fasync_lists", {})
    key = locks_inode_key(file)
    entries = lists.setdefault(key, {})
    if on:
        entries[file] = fd
    else:
        entries.pop(file, None)
        if not entries:
            del lists[key]


def fput_fasync(file):
    """__fput() while some file has O_ASYNC: a file with FASYNC leaves its
    list (->fasync(-1, file, 0)); then pipe_release() tells the pipe's
    other users, readers POLL_IN and writers POLL_OUT."""
    if file.flags & FASYNC:
        fasync_helper(file.kernel, -1, file, False)
    if file.host_fd is not None and stat.S_ISFIFO(file.mode):
        kill_fasync_file(file, POLL_IN, readers=True)
        kill_fasync_file(file, POLL_OUT, readers=False)


def kill_fasync(kernel, key, band, readers=None):
    """kill_fasync(): SIGIO (the F_SETSIG signal) with band to the owner of
    each file on key's fasync list; readers True/False limits it to the
    files open for reading/writing (a pipe's fasync_readers/_writers).
    One dict test when no file on the board has O_ASYNC."""
    lists = kernel.__dict__.get("fasync_lists")
    if not lists:
        return
    entries = lists.get(key)
    if not entries:
        return
    for file, fd in list(entries.items()):
        if readers is None or (file.readable if readers else file.writable):
            send_sigio(kernel, file_owner(file), fd, band)


def kill_fasync_file(file, band, readers=None):
    """kill_fasync() on the list of file's inode (nothing unless O_ASYNC is in use)."""
    lists = file.kernel.__dict__.get("fasync_lists")
    if lists:
        kill_fasync(file.kernel, locks_inode_key(file), band, readers)


def sigio_perm(task, fown):
    """sigio_perm(): the owner's setter was root, or shares a uid with the target."""
    cred = task.cred
    return (fown.euid == 0 or fown.euid in (cred.suid, cred.uid)
            or fown.uid in (cred.suid, cred.uid))


def send_sigio_to_task(task, fown, fd, reason, group):
    """send_sigio_to_task(): the F_SETSIG signal with si_code reason,
    si_band and si_fd; with no F_SETSIG (0), a plain SIGIO (SEND_SIG_PRIV:
    si_code SI_KERNEL), which is also the fallback when RLIMIT_SIGPENDING
    refuses the F_SETSIG one."""
    from kernel.signal import SigInfo, send_signal
    if not sigio_perm(task, fown):
        return
    signum = fown.signum
    if signum:
        info = SigInfo(signum, reason)
        raw = struct.pack("<iiiiqi", signum, 0, reason, 0, BAND_TABLE[reason], fd)
        info.raw = raw.ljust(128, b"\0")
        if not send_signal(task, info, group=group):
            return
    send_signal(task, SigInfo(SIGIO, SI_KERNEL), group=group)


def send_sigio(kernel, fown, fd, band):
    """send_sigio(): to the owning thread (F_OWNER_TID), process, or each
    process of the owning group."""
    if not fown.pid:
        return
    if fown.pid_type == PIDTYPE_PGID:
        targets = [t for t in kernel.tasks.values()
                   if t.exit_state is None and t.signal.pgrp == fown.pid and t.tgid == t.pid]
    else:
        t = kernel.tasks.get(fown.pid)
        targets = [t] if t is not None and t.exit_state is None else []
    for t in targets:
        send_sigio_to_task(t, fown, fd, band, fown.pid_type != PIDTYPE_MAX)


def _fasync_capable(file):
    """Does the file have ->fasync (pipes, FIFOs, sockets)?"""
    return file.host_fd is not None and (stat.S_ISFIFO(file.mode) or stat.S_ISSOCK(file.mode))


# -- the ioctls of the same things ----------------------------------------------------------

# FIOASYNC (asm-generic/ioctls.h), FIOSETOWN... (sockios.h): kernel/uapi.py, which
# do_vfs_ioctl() reads without importing this module (issue 8: start-up).
from kernel.uapi import FIOASYNC, FIOGETOWN, FIOSETOWN, SIOCGPGRP, SIOCSPGRP  # noqa: E402


def fasync_ioctl(task, fd, file, cmd, arg):
    """do_vfs_ioctl()'s FIOASYNC (ioctl_fioasync(): O_ASYNC on or off, EFAULT,
    ENOTTY for a file without ->fasync when the flag would change) and
    sock_ioctl()'s FIOSETOWN/SIOCSPGRP and FIOGETOWN/SIOCGPGRP (f_setown(),
    f_getown() through an int; ENOTTY on anything but a socket).  None for
    another command."""
    if cmd == FIOASYNC:
        on = struct.unpack("<i", task.uaccess.copy_from_user(arg, 4))[0]
        if ((FASYNC if on else 0) ^ file.flags) & FASYNC:
            if not _fasync_capable(file):
                return -errno.ENOTTY
            fasync_helper(task.kernel, fd, file, bool(on))
            file.flags ^= FASYNC
        return 0
    if cmd not in (FIOSETOWN, SIOCSPGRP, FIOGETOWN, SIOCGPGRP):
        return None
    if not stat.S_ISSOCK(file.mode):
        return -errno.ENOTTY
    if cmd in (FIOSETOWN, SIOCSPGRP):
        who = struct.unpack("<i", task.uaccess.copy_from_user(arg, 4))[0]
        return f_setown(task, file, who & 0xFFFFFFFF)
    task.uaccess.copy_to_user(arg, struct.pack("<i", f_getown(file)))
    return 0


# -- fcntl -----------------------------------------------------------------------------------

def setfl(task, fd, file, arg):
    """setfl(): the SETFL_MASK flags; a change of FASYNC puts the file on
    its fasync list or takes it off, and sets or clears the flag, for a
    file with ->fasync (pipes and sockets); other files ignore it."""
    if (arg ^ file.flags) & FASYNC and _fasync_capable(file):
        fasync_helper(task.kernel, fd, file, bool(arg & FASYNC))
        file.flags ^= FASYNC
    if (arg ^ file.flags) & O_DIRECT and file.owned_nonblock and file.host_fd is not None \
            and stat.S_ISFIFO(file.mode):
        # A board pipe's packet mode (is_packetized(): the file's O_DIRECT)
        # is the host pipe's: its kernel splits and reads the packets.
        host = host_fcntl.fcntl(file.host_fd, host_fcntl.F_GETFL)
        host_fcntl.fcntl(file.host_fd, host_fcntl.F_SETFL,
                         host | os.O_DIRECT if arg & O_DIRECT else host & ~os.O_DIRECT)
    file.flags = (file.flags & ~SETFL_MASK) | (arg & SETFL_MASK)
    # A host descriptor of the board's own (pipes, sockets) stays
    # non-blocking on the host: a guest sleeps through WouldBlock instead.
    # One a53emu inherited (stdin/stdout/stderr) shares its file status
    # with the user's shell: its O_NONBLOCK stays the guest's alone (reads
    # and writes poll first and honour file.flags: kernel/fs/pipe.py).
    if file.host_fd is not None and not file.owned_nonblock:
        host = host_fcntl.fcntl(file.host_fd, host_fcntl.F_GETFL)
        bits = ((O_APPEND, os.O_APPEND),) if file.inherited else \
            ((O_APPEND, os.O_APPEND), (O_NONBLOCK, os.O_NONBLOCK))
        for guest_bit, host_bit in bits:
            host = host | host_bit if arg & guest_bit else host & ~host_bit
        host_fcntl.fcntl(file.host_fd, host_fcntl.F_SETFL, host)
    return 0


def _pipe_set_size(task, file, acct, size):
    """pipe_set_size() of a board pipe: the host sizes its ring (rounding,
    pipe-max-size), the board charges the pages to the pipe's user
    (fs.pipe-user-pages-*: EPERM, and the old size is put back)."""
    from kernel.sysctl import pipe_set_size_account
    old = host_fcntl.fcntl(file.host_fd, F_GETPIPE_SZ)
    try:
        new = host_fcntl.fcntl(file.host_fd, F_SETPIPE_SZ, size)
    except OSError as e:
        return -(e.errno or errno.EIO)
    err = pipe_set_size_account(task, acct, new >> PAGE_SHIFT)
    if err:
        host_fcntl.fcntl(file.host_fd, F_SETPIPE_SZ, old)
        return err
    return new


@syscall("fcntl", "fd fcntlcmd x")
def sys_fcntl(task, fd, cmd, arg):
    """sys_fcntl() + do_fcntl(): descriptors, flags, record locks, owners and
    signals of SIGIO, leases, dnotify, pipe sizes, seals; EBADF for an
    O_PATH descriptor beyond what check_fcntl_cmd() allows, EINVAL for an
    unknown command."""
    fd = s32(fd)
    file = task.files.get(fd)
    if file is None:
        return -errno.EBADF
    if file.flags & O_PATH and cmd not in (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL):
        return -errno.EBADF         # check_fcntl_cmd(): all an O_PATH descriptor allows
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        start = s32(arg)
        if start < 0 or start >= task.files.max_fds:
            return -errno.EINVAL
        newfd = task.files.alloc_fd(file.get(), start, cmd == F_DUPFD_CLOEXEC)
        if newfd < 0:
            file.put()
        return newfd
    if cmd == F_GETFD:
        return FD_CLOEXEC if fd in task.files.cloexec else 0
    if cmd == F_SETFD:
        if arg & FD_CLOEXEC:
            task.files.cloexec.add(fd)
        else:
            task.files.cloexec.discard(fd)
        return 0
    if cmd in (F_SETPIPE_SZ, F_GETPIPE_SZ):
        # fs/pipe.c: pipe_fcntl() — the host pipe's ring is the pipe's.
        if file.host_fd is None or not stat.S_ISFIFO(file.mode):
            return -errno.EBADF
        acct = getattr(file, "pipe_bufs", None)
        if cmd == F_SETPIPE_SZ and acct is not None:
            return _pipe_set_size(task, file, acct, arg & 0xFFFFFFFF)
        try:
            return host_fcntl.fcntl(file.host_fd, cmd, arg & 0xFFFFFFFF)
        except OSError as e:
            return -(e.errno or errno.EIO)
    if cmd == F_GETFL:
        return file.flags & ~O_CLOEXEC
    if cmd == F_SETFL:
        return setfl(task, fd, file, arg)
    if cmd in (F_ADD_SEALS, F_GET_SEALS):
        return shmem_fcntl(file, cmd, arg)
    if cmd in (F_GETLK, F_OFD_GETLK):
        return fcntl_getlk(task, file, cmd, arg)
    if cmd in (F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW):
        return fcntl_setlk(task, file, cmd, arg)
    if cmd == F_GETOWN:
        return f_getown(file)
    if cmd == F_SETOWN:
        return f_setown(task, file, arg)
    if cmd == F_GETOWN_EX:
        return f_getown_ex(task, file, arg)
    if cmd == F_SETOWN_EX:
        return f_setown_ex(task, file, arg)
    if cmd == F_GETSIG:
        return file_owner(file).signum
    if cmd == F_SETSIG:
        if not 0 <= arg <= NSIG:             # valid_signal()
            return -errno.EINVAL
        file_owner(file).signum = arg
        return 0
    if cmd == F_GETLEASE:
        return fcntl_getlease(task, file)
    if cmd == F_SETLEASE:
        return fcntl_setlease(task, fd, file, arg)
    if cmd == F_NOTIFY:
        from kernel.fs.dnotify import fcntl_dirnotify
        return fcntl_dirnotify(task, fd, file, arg)
    # F_GETOWNER_UIDS needs CONFIG_CHECKPOINT_RESTORE, which the board's
    # kernel is built without: EINVAL, the unknown command's answer.
    return -errno.EINVAL
