"""drivers/tty/tty_io.c: vhangup() and TIOCSTI, the two terminal requests
that need a privilege or the controlling terminal (kernel/tty.py has the
rest of the board's job control).
"""

import errno

from kernel.cred import CAP_SYS_ADMIN, capable
from kernel.signal import SigInfo, send_signal
from kernel.syscalls.table import syscall
from kernel.tty import _live_groups
from kernel.uapi import SI_KERNEL, SIGCONT, SIGHUP

CAP_SYS_TTY_CONFIG = 26         # include/uapi/linux/capability.h
TIOCSTI = 0x5412                # include/uapi/asm-generic/ioctls.h


def tty_signal_session_leader(kernel, tty):
    """tty_signal_session_leader(): every process of the terminal's
    session that has it as its controlling terminal loses it, and the
    session leader gets SIGHUP then SIGCONT (SEND_SIG_PRIV)."""
    session = tty.session
    for t in _live_groups(kernel):
        if not session or t.signal.session != session:
            continue
        if getattr(t.signal, "tty", None) is tty:
            t.signal.tty = None
        if t.tgid == session:
            send_signal(t, SigInfo(SIGHUP, SI_KERNEL), group=True)
            send_signal(t, SigInfo(SIGCONT, SI_KERNEL), group=True)


def tty_vhangup(kernel, tty):
    """__tty_hangup() as far as the board holds the terminal: the session
    is signalled and forgets it, and it controls no session or foreground
    group any more.  Omitted: the open files' hung-up file operations
    (reads 0, writes EIO): the terminal is the host's — the user's — and
    a53emu does not hang it up."""
    tty_signal_session_leader(kernel, tty)
    tty.session = tty.pgrp = 0


@syscall("vhangup")
def sys_vhangup(task):
    """vhangup(): CAP_SYS_TTY_CONFIG (EPERM), then tty_vhangup_self():
    the caller's controlling terminal, if it has one, is hung up."""
    if not capable(task, CAP_SYS_TTY_CONFIG):
        return -errno.EPERM
    tty = getattr(task.signal, "tty", None)
    if tty is not None:
        tty_vhangup(task.kernel, tty)
    return 0


def tiocsti(task, file, tty, arg):
    """tiocsti(): push one byte into the terminal's input as if typed —
    only into the caller's controlling terminal, unless it has
    CAP_SYS_ADMIN (EPERM); the byte is read first (EFAULT).  The host's
    line discipline takes it (its own TIOCSTI; a host that forbids it,
    dev.tty.legacy_tiocsti = 0 since v6.2, answers EIO)."""
    import fcntl as host_fcntl
    if (tty is None or getattr(task.signal, "tty", None) is not tty) \
            and not capable(task, CAP_SYS_ADMIN):
        return -errno.EPERM
    ch = task.uaccess.copy_from_user(arg, 1)
    try:
        host_fcntl.ioctl(file.host_fd, TIOCSTI, ch)
    except OSError as e:
        return -(e.errno or errno.EIO)
    return 0
