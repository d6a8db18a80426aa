"""fs/locks.c: leases (fcntl F_SETLEASE/F_GETLEASE) and their break.

A lease belongs to an open file (fl_owner = the File) of a regular file.
Opening the file in a way that conflicts with it (any open for a write
lease, an open for writing for a read lease) "breaks" it: the holder gets
SIGIO (or its F_SETSIG signal, si_code POLL_MSG), and the opener waits until
the holder gives the lease up or downgrades it (F_SETLEASE), or until
lease-break-time (45 s) has passed, when the kernel does it for the holder;
a non-blocking opener gets EWOULDBLOCK at once, the break still under way.

The board's files are counted from the board's own tables (every task's
descriptors and mappings), since the host's counts include other
processes and are never the guest's.  truncate(2) breaks leases as an
open for writing does (vfs_truncate()); ftruncate(2) does not (4.14's
do_sys_ftruncate() only breaks delegations).  Omitted: delegations and
layouts (nfsd's),
and /proc/sys/fs/leases-enable (1, fixed).  /proc/sys/fs/lease-break-time
(kernel.lease_break_time) sets the wait; 0 or less means none: the opener
waits until the holder gives the lease up.
"""

import errno
import os
import stat

from kernel.cred import capable
from kernel.fs.attr import guest_stat
from kernel.fs.locks import F_RDLCK, F_UNLCK, F_WRLCK, locks_inode_key
from kernel.sched.wait import WaitQueue, WouldBlock
from kernel.uapi import O_ACCMODE, O_NONBLOCK, O_RDONLY

CAP_LEASE = 28                      # include/uapi/linux/capability.h
LEASE_BREAK_TIME = 45               # seconds: /proc/sys/fs/lease-break-time's default
FL_UNLOCK_PENDING, FL_DOWNGRADE_PENDING = 512, 2048     # include/linux/fs.h


class Lease:
    """struct file_lock with FL_LEASE: its file (and owner), type, the
    break under way (fl_flags' *_PENDING) and when the kernel ends it."""

    __slots__ = ("fl_file", "fl_type", "fl_flags", "fl_break_time", "fl_downgrade_time",
                 "fa_fd")

    def __init__(self, file, type_, fd):
        self.fl_file = file
        self.fl_type = type_
        self.fl_flags = 0
        self.fl_break_time = self.fl_downgrade_time = None
        self.fa_fd = fd                 # fl_fasync's descriptor: si_fd of the break's signal


def _leases(kernel):
    """inode key -> [Lease] (ctx->flc_lease), and the queue breakers sleep on."""
    table = kernel.__dict__.get("file_leases")
    if table is None:
        table = kernel.file_leases = {}
        kernel.lease_wait = WaitQueue("lease")
    return table


def board_files(kernel, key):
    """The distinct open files of the inode key on the board: what 4.14's
    d_count (one per struct file) and i_writecount (one per file open for
    writing) count."""
    seen = {}
    for task in kernel.tasks.values():
        if task.files is not None:
            for file in task.files.fds.values():
                seen[id(file)] = file
        mm = task.mm
        if mm is not None:
            for vma in mm.vmas():
                if vma.vm_file is not None:
                    seen[id(vma.vm_file)] = vma.vm_file
    return [f for f in seen.values()
            if f.host_fd is not None and locks_inode_key(f) == key]


def target_leasetype(fl):
    """target_leasetype(): what the lease becomes once its break is over."""
    if fl.fl_flags & FL_UNLOCK_PENDING:
        return F_UNLCK
    if fl.fl_flags & FL_DOWNGRADE_PENDING:
        return F_RDLCK
    return fl.fl_type


def lease_modify(kernel, key, fl, arg):
    """lease_modify(): change fl to arg, ending the break it answers; F_UNLCK
    removes it and also clears its file's owner and F_SETSIG signal."""
    if arg == F_UNLCK:                  # lease_clear_pending(): an upgrade clears nothing
        fl.fl_flags &= ~FL_UNLOCK_PENDING
    if arg in (F_UNLCK, F_RDLCK):
        fl.fl_flags &= ~FL_DOWNGRADE_PENDING
    fl.fl_type = arg
    if arg == F_UNLCK:
        fown = fl.fl_file.__dict__.get("f_owner")
        if fown is not None:            # f_delown(); f_owner.signum = 0
            fown.pid = 0
            fown.signum = 0
        table = kernel.file_leases
        table[key].remove(fl)
        if not table[key]:
            del table[key]
    kernel.lease_wait.wake_up()


def time_out_leases(kernel, key):
    """time_out_leases(): breaks past their time are finished by the kernel."""
    now = kernel.sched.clock()
    for fl in list(kernel.file_leases.get(key, ())):
        if fl.fl_downgrade_time is not None and now >= fl.fl_downgrade_time:
            lease_modify(kernel, key, fl, F_RDLCK)
        if fl.fl_break_time is not None and now >= fl.fl_break_time:
            lease_modify(kernel, key, fl, F_UNLCK)


def check_conflicting_open(kernel, key, arg, file):
    """check_conflicting_open() of 4.14: a read lease needs nobody to have
    the file open for writing (the caller included), a write lease needs
    the caller's to be its only open file.  (v5.3's commit 387e3746d01c
    "locks: eliminate false positive conflicts for write lease" counts
    readers and writers instead of files.)"""
    files = board_files(kernel, key)
    if arg == F_RDLCK and (any(f.writable for f in files) or pending_writer(kernel, key)):
        return -errno.EAGAIN
    if arg == F_WRLCK and any(f is not file for f in files):
        return -errno.EAGAIN
    return 0


def pending_writer(kernel, key):
    """A task asleep in break_lease() opening (or truncating) the inode key
    for writing: 4.14's do_dentry_open() and vfs_truncate() take the write
    access (i_writecount) before break_lease(), so it counts as open for
    writing while it waits (a holder cannot downgrade to a read lease)."""
    writers = kernel.__dict__.get("lease_writers")
    return bool(writers) and any(k == key and t in kernel.lease_wait.tasks
                                 for t, k in writers.items())


def generic_setlease_checks(task, file):
    """generic_setlease(): EACCES unless the caller's fsuid owns the file
    (or CAP_LEASE), then EINVAL for anything but a regular file."""
    st = guest_stat(task.kernel, os.fstat(file.host_fd)) if file.host_fd is not None else None
    uid = st.st_uid if st is not None else 0
    if task.cred.fsuid != uid and not capable(task, CAP_LEASE):
        return -errno.EACCES
    if st is None or not stat.S_ISREG(file.mode):
        return -errno.EINVAL
    return 0


def fcntl_setlease(task, fd, file, arg):
    """fcntl_setlease(): F_UNLCK gives the file's lease up (EAGAIN if it has
    none); F_RDLCK/F_WRLCK take or change it (generic_add_lease()): EINVAL
    for another type, EAGAIN for a conflicting open or, for a write lease,
    a lease of another file; lease_setup() makes the caller the file's
    owner if it has none, and puts it on the lease's fasync list."""
    from kernel.fs.fcntl import PIDTYPE_PID, f_modown
    arg = arg & 0xFFFFFFFF
    if arg not in (F_RDLCK, F_WRLCK, F_UNLCK):
        return -errno.EINVAL            # lease_alloc(): assign_type()
    err = generic_setlease_checks(task, file)
    if err:
        return err
    kernel = task.kernel
    table = _leases(kernel)
    key = locks_inode_key(file)
    if arg == F_UNLCK:
        mine = [fl for fl in table.get(key, ()) if fl.fl_file is file]
        if not mine:
            return -errno.EAGAIN        # generic_delete_lease()
        lease_modify(kernel, key, mine[0], F_UNLCK)
        return 0
    err = check_conflicting_open(kernel, key, arg, file)
    if err:
        return err
    my_fl = None
    for fl in table.get(key, ()):
        if fl.fl_file is file:
            my_fl = fl
            continue
        if arg == F_WRLCK or fl.fl_flags & FL_UNLOCK_PENDING:
            return -errno.EAGAIN
    if my_fl is not None:
        lease_modify(kernel, key, my_fl, arg)
        my_fl.fa_fd = fd
    else:
        table.setdefault(key, []).append(Lease(file, arg, fd))
    f_modown(task, file, task.pid, PIDTYPE_PID, False)
    return 0


def fcntl_getlease(task, file):
    """fcntl_getlease(): the type this file's lease has, or will have once
    its break is over; F_UNLCK without one."""
    table = task.kernel.__dict__.get("file_leases")
    if not table or file.host_fd is None:
        return F_UNLCK
    key = locks_inode_key(file)
    time_out_leases(task.kernel, key)
    for fl in table.get(key, ()):
        if fl.fl_file is file:
            return target_leasetype(fl)
    return F_UNLCK


def lease_break_callback(kernel, fl):
    """lease_break_callback(): kill_fasync(fl_fasync, SIGIO, POLL_MSG)."""
    from kernel.fs.fcntl import POLL_MSG, file_owner, send_sigio
    send_sigio(kernel, file_owner(fl.fl_file), fl.fa_fd, POLL_MSG)


def break_lease(task, key, flags):
    """__break_lease(): an open with flags of the inode key.  Every lease it
    conflicts with (any, for a write; write leases, for a read) starts to
    break — its holder is signalled once — and the opener gets
    -EWOULDBLOCK (O_NONBLOCK) or sleeps until none conflicts (the open
    then runs again, as Linux's restart: loop does).  One dict test when
    the board has no lease."""
    table = task.kernel.__dict__.get("file_leases")
    if not table or key not in table:
        return 0
    kernel = task.kernel
    writers = kernel.__dict__.setdefault("lease_writers", {})
    writers.pop(task, None)             # this task's last sleep here is over
    time_out_leases(kernel, key)
    want_write = flags & O_ACCMODE != O_RDONLY

    def conflicts(fl):
        return want_write or fl.fl_type == F_WRLCK
    leases = table.get(key, ())
    if not any(conflicts(fl) for fl in leases):
        return 0
    seconds = lease_break_time(kernel)
    break_time = kernel.sched.clock() + seconds if seconds > 0 else None
    for fl in list(leases):
        if not conflicts(fl):
            continue
        if want_write:
            if fl.fl_flags & FL_UNLOCK_PENDING:
                continue
            fl.fl_flags |= FL_UNLOCK_PENDING
            fl.fl_break_time = break_time
        else:
            if fl.fl_flags & (FL_UNLOCK_PENDING | FL_DOWNGRADE_PENDING):
                continue
            fl.fl_flags |= FL_DOWNGRADE_PENDING
            fl.fl_downgrade_time = break_time
        lease_break_callback(kernel, fl)
    if flags & O_NONBLOCK:
        return -errno.EWOULDBLOCK
    if want_write:
        writers[task] = key             # pending_writer(): it holds write access
    first = table[key][0]
    deadline = first.fl_break_time if first.fl_break_time is not None \
        else first.fl_downgrade_time
    raise WouldBlock(queues=(kernel.lease_wait,), deadline=deadline)


def lease_break_time(kernel):
    """fs/locks.c's lease_break_time: seconds a lease holder is given
    (/proc/sys/fs/lease-break-time, proc_dointvec)."""
    return kernel.__dict__.get("lease_break_time", LEASE_BREAK_TIME)


def locks_remove_lease(file):
    """locks_remove_file()'s lease part: the last close of a file ends its lease."""
    table = file.kernel.__dict__.get("file_leases")
    if not table or file.host_fd is None:
        return
    key = locks_inode_key(file)
    for fl in list(table.get(key, ())):
        if fl.fl_file is file:
            lease_modify(file.kernel, key, fl, F_UNLCK)
