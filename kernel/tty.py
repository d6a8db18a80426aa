"""drivers/tty/tty_io.c, tty_ioctl.c, tty_jobctrl.c, n_tty.c: the terminal
ioctls, and the board's job control.

A guest's terminal is always one of the host's (the user's terminal that
a53emu runs on, or a pty the guest opened through the host's /dev/ptmx):
its line discipline, termios, window size and buffers are the host
kernel's, so those ioctls pass through to the host descriptor, as
qemu-user does (emu/cli.py puts the user's terminal back as it found it
when a53emu exits).  What the host cannot know is the board's own job
control — which guest session a terminal controls and which guest process
group is in its foreground — so that half of struct tty_struct (session,
pgrp) lives here, one TtyStruct per host terminal device, and TIOCGPGRP,
TIOCSPGRP, TIOCSCTTY, TIOCNOTTY and TIOCGSID are answered from it, with
tty_check_change()'s SIGTTOU for a background process group.

The board's console: when a53emu's own controlling terminal is among the
descriptors init inherits, it is the controlling terminal of init's
session with init's process group in the foreground (a login shell's
situation); kernel/sched/core.py sends a Ctrl-C to that foreground group.

A read of the controlling terminal from a background group gets SIGTTIN
(n_tty_read()'s job_control()), a write SIGTTOU when TOSTOP is set.

Omits: /dev/tty opens the host's, a53emu's own, which is the console
whatever the guest's session; the hangup
of a non-pty terminal at its session leader's exit (its foreground group
gets SIGHUP); TIOCGPTPEER and the modem-line ioctls.  A guest's
pty master writing ^C makes the host, not the board, send SIGINT (to
nobody): the host's job control of a guest pty is not the board's.
"""

import errno
import fcntl as host_fcntl
import os
import stat
import struct

from kernel.signal import SIG_IGN, SigInfo, _bit, send_signal, sig_handler
from kernel.uaccess import s32
from kernel.uapi import SI_KERNEL, SIGCONT, SIGHUP, SIGTTIN, SIGTTOU, SIGWINCH

# include/uapi/asm-generic/ioctls.h (arm64 uses the generic numbers; so does
# x86-64, which is why the host can be handed them unchanged).
TCGETS, TCSETS, TCSETSW, TCSETSF = 0x5401, 0x5402, 0x5403, 0x5404
TCGETA, TCSETA, TCSETAW, TCSETAF = 0x5405, 0x5406, 0x5407, 0x5408
TCSBRK, TCXONC, TCFLSH = 0x5409, 0x540A, 0x540B
TIOCEXCL, TIOCNXCL, TIOCSCTTY = 0x540C, 0x540D, 0x540E
TIOCGPGRP, TIOCSPGRP, TIOCOUTQ = 0x540F, 0x5410, 0x5411
TIOCGWINSZ, TIOCSWINSZ = 0x5413, 0x5414
TIOCINQ = FIONREAD = 0x541B
TIOCPKT = 0x5420
TIOCSTI = 0x5412                # kernel/tty_hangup.py
TIOCNOTTY = 0x5422
TCSBRKP = 0x5425
TIOCGSID = 0x5429
TCGETS2, TCSETS2, TCSETSW2, TCSETSF2 = 0x802C542A, 0x402C542B, 0x402C542C, 0x402C542D
TIOCGPTN, TIOCSPTLCK = 0x80045430, 0x40045431
TIOCGPKT, TIOCGPTLCK, TIOCGEXCL = 0x80045438, 0x80045439, 0x80045440

# The sizes of what they copy (asm-generic/termbits.h, termios.h): struct
# termios is four u32 flags, c_line and c_cc[NCCS = 19]; termios2 adds
# c_ispeed and c_ospeed; the old struct termio has u16 flags and c_cc[8].
TERMIOS_SIZE, TERMIOS2_SIZE, TERMIO_SIZE, WINSIZE_SIZE, INT_SIZE = 36, 44, 18, 8, 4

# The requests the host's line discipline answers: request -> (bytes read
# from the guest, bytes written back to it).  An argument passed by value
# (TCFLSH's queue, TCSBRK's duration) is (None, 0).
HOST_TTY_IOCTLS = {
    TCGETS: (0, TERMIOS_SIZE), TCGETS2: (0, TERMIOS2_SIZE), TCGETA: (0, TERMIO_SIZE),
    TCSETS: (TERMIOS_SIZE, 0), TCSETSW: (TERMIOS_SIZE, 0), TCSETSF: (TERMIOS_SIZE, 0),
    TCSETS2: (TERMIOS2_SIZE, 0), TCSETSW2: (TERMIOS2_SIZE, 0), TCSETSF2: (TERMIOS2_SIZE, 0),
    TCSETA: (TERMIO_SIZE, 0), TCSETAW: (TERMIO_SIZE, 0), TCSETAF: (TERMIO_SIZE, 0),
    TIOCGWINSZ: (0, WINSIZE_SIZE), TIOCSWINSZ: (WINSIZE_SIZE, 0),
    TIOCOUTQ: (0, INT_SIZE), TIOCINQ: (0, INT_SIZE),
    TCSBRK: (None, 0), TCSBRKP: (None, 0), TCXONC: (None, 0), TCFLSH: (None, 0),
    TIOCEXCL: (0, 0), TIOCNXCL: (0, 0), TIOCGEXCL: (0, INT_SIZE),
    TIOCPKT: (INT_SIZE, 0), TIOCGPKT: (0, INT_SIZE),
    TIOCGPTN: (0, INT_SIZE), TIOCSPTLCK: (INT_SIZE, 0), TIOCGPTLCK: (0, INT_SIZE),
}
# The ones that change the terminal: tty_check_change() first (tty_ioctl(),
# set_termios(), n_tty_ioctl_helper()).
CHECK_CHANGE = {TCSETS, TCSETSW, TCSETSF, TCSETS2, TCSETSW2, TCSETSF2,
                TCSETA, TCSETAW, TCSETAF, TCSBRK, TCSBRKP, TCXONC, TCFLSH}
# The ones that wait for the output to drain first (tty_wait_until_sent()).
WAIT_UNTIL_SENT = {TCSETSW, TCSETSF, TCSETSW2, TCSETSF2, TCSETAW, TCSETAF, TCSBRK, TCSBRKP}
# How often a task waiting for the output to drain looks again (the host's
# tty cannot wake it when its queue empties), in seconds.
DRAIN_POLL = 0.01

ERESTARTSYS = 512
PTMX_RDEV = os.makedev(5, 2)            # /dev/ptmx: every pty master's device
CONSOLE_RDEV = os.makedev(5, 1)         # /dev/console: never a controlling terminal by open
DEV_TTY_RDEV = os.makedev(5, 0)         # /dev/tty: the host's name for a53emu's own terminal


class TtyStruct:
    """The job-control half of struct tty_struct: the session it is the
    controlling terminal of and its foreground process group (0: none)."""

    __slots__ = ("rdev", "session", "pgrp")

    def __init__(self, rdev):
        self.rdev = rdev
        self.session = 0
        self.pgrp = 0

    def __repr__(self):
        return "<tty %d:%d session %d pgrp %d>" % (os.major(self.rdev), os.minor(self.rdev),
                                                   self.session, self.pgrp)


def _ttys(kernel):
    ttys = getattr(kernel, "ttys", None)
    if ttys is None:
        ttys = kernel.ttys = {}
    return ttys


def host_isatty(file):
    """Is the file's host descriptor a terminal (the host answers TCGETS)?"""
    return file.host_fd is not None and stat.S_ISCHR(file.mode) and os.isatty(file.host_fd)


def tty_pair_get_tty(kernel, file):
    """tty_pair_get_tty(): (tty, real_tty) of a terminal file — the same
    TtyStruct, except for a pty master, whose job control is its slave's."""
    rdev = os.fstat(file.host_fd).st_rdev
    console = getattr(kernel, "console_tty", None)
    if rdev == DEV_TTY_RDEV and console is not None:
        return console, console         # the host's /dev/tty is the console
    ttys = _ttys(kernel)
    tty = ttys.setdefault(rdev, TtyStruct(rdev))
    if rdev != PTMX_RDEV:
        return tty, tty
    # Every master is /dev/ptmx on the host: tell them apart by their slave.
    try:
        index = struct.unpack("<I", host_fcntl.ioctl(file.host_fd, TIOCGPTN, bytes(INT_SIZE)))[0]
        slave = os.stat("/dev/pts/%d" % index).st_rdev
    except OSError:
        return tty, tty                 # a master whose slave the host does not show
    return None, ttys.setdefault(slave, TtyStruct(slave))


def tty_attach_console(kernel, init):
    """The console: a53emu's own controlling terminal, if init inherited it,
    controls init's session with init's group in the foreground (what a
    login's proc_set_tty() leaves a shell)."""
    for fd in range(3):
        file = init.files.get(fd)
        if file is None or not host_isatty(file):
            continue
        try:                                # only a53emu's controlling tty answers
            host_fcntl.ioctl(file.host_fd, TIOCGSID, bytes(INT_SIZE))
        except OSError:
            continue
        _, tty = tty_pair_get_tty(kernel, file)
        proc_set_tty(init, tty)
        kernel.console_tty = tty
        return tty
    return None


def console_pgrp(kernel):
    """The foreground process group of the board's console, or None."""
    init = getattr(kernel, "init_task", None)
    tty = getattr(init.signal, "tty", None) if init is not None else None
    return tty.pgrp if tty is not None and tty.pgrp else None


def proc_set_tty(task, tty):
    """__proc_set_tty(): tty becomes the controlling terminal of task's
    session, its group the foreground."""
    tty.session = task.signal.session
    tty.pgrp = task.signal.pgrp
    task.signal.tty = tty
    hooks = task.kernel.exit_hooks
    if tty_exit_hook not in hooks:
        hooks.append(tty_exit_hook)


def tty_open_proc_set_tty(task, file, flags):
    """tty_open(): a session leader without a controlling terminal that
    opens a terminal no session holds, without O_NOCTTY, takes it (not a
    pty master, nor /dev/console).  (The FMODE_READ requirement came in
    4.20, 0c55627167ac.)  A /dev/ptmx open first makes its slave the
    opener's (ptmx_open()'s devpts_pty_new(), kernel/devpts.py)."""
    from kernel.uapi import O_NOCTTY
    if file.host_fd is not None and os.fstat(file.host_fd).st_rdev == PTMX_RDEV:
        from kernel.devpts import devpts_pty_new
        devpts_pty_new(task, file.host_fd)
    if flags & O_NOCTTY or not host_isatty(file):
        return
    sig = task.signal
    if sig.session != task.tgid or getattr(sig, "tty", None) is not None:
        return
    rdev = os.fstat(file.host_fd).st_rdev
    if rdev in (PTMX_RDEV, CONSOLE_RDEV):
        return
    tty, _ = tty_pair_get_tty(task.kernel, file)
    if tty is not None and not tty.session:
        proc_set_tty(task, tty)


def tty_exit_hook(task):
    """do_exit(): `if (group_dead && current->signal->leader)
    disassociate_ctty(1)` — a session leader's death sends SIGHUP to its
    terminal's foreground group, and the terminal is free for another
    session.  (Not for init, whose death ends the board; and the host's
    terminal is never hung up: for a non-pty 4.14 hangs up the session.)"""
    sig = task.signal
    tty = getattr(sig, "tty", None)
    if tty is None or sig.live != 1 or sig.session != task.tgid or task.tgid == 1:
        return
    if tty.pgrp:
        kill_pgrp(task.kernel, tty.pgrp, SIGHUP, exiting=task.group_leader)
    if tty.session == sig.session:
        tty.session = tty.pgrp = 0
    session_clear_tty(task.kernel, sig.session)


def _live_groups(kernel):
    return [t for t in kernel.tasks.values() if t is t.group_leader]


def _session_of_pgrp(kernel, pgrp):
    """find_vpid() + session_of_pgrp(): the session of a process group —
    or, when no process is in it, of the task with that pid (4.14 finds
    any pid) — 0 if neither exists."""
    for t in _live_groups(kernel):
        if t.signal.pgrp == pgrp:
            return t.signal.session
    task = kernel.tasks.get(pgrp)
    return task.signal.session if task is not None else 0


def kill_pgrp(kernel, pgrp, sig, exiting=None):
    """kill_pgrp(pgrp, sig, 1): a privileged signal to every process of the
    group (but `exiting`, a group on its way out)."""
    for t in _live_groups(kernel):
        if t.exit_state is None and t.signal.pgrp == pgrp and t is not exiting:
            send_signal(t, SigInfo(sig, SI_KERNEL), group=True)


def will_become_orphaned_pgrp(kernel, pgrp):
    """will_become_orphaned_pgrp(pgrp, NULL): no process of the group has a
    parent in another group of the same session (POSIX 2.2.2.52)."""
    for t in _live_groups(kernel):
        if t.exit_state is not None or t.signal.pgrp != pgrp:
            continue
        parent = t.real_parent
        if parent is None or parent.tgid == 1:
            continue                    # the host, or init: not a job's parent
        if parent.signal.pgrp != pgrp and parent.signal.session == t.signal.session:
            return False
    return True


def tty_check_change(task, tty, sig=SIGTTOU):
    """__tty_check_change(tty, sig): a process of a background group that
    changes its controlling terminal (SIGTTOU) or reads it (SIGTTIN, from
    n_tty_read()'s job_control()) stops: sig to its group, -ERESTARTSYS.
    One that blocks or ignores sig goes on (-EIO for SIGTTIN); an orphaned
    group, which no shell would continue, gets -EIO."""
    if getattr(task.signal, "tty", None) is not tty:
        return 0
    if not tty.pgrp or task.signal.pgrp == tty.pgrp:
        return 0
    if task.blocked & _bit(sig) or sig_handler(task, sig) == SIG_IGN:
        return -errno.EIO if sig == SIGTTIN else 0
    if will_become_orphaned_pgrp(task.kernel, task.signal.pgrp):
        return -errno.EIO
    kill_pgrp(task.kernel, task.signal.pgrp, sig)
    return -ERESTARTSYS


TOSTOP = 0o400                          # c_lflag (asm-generic/termbits.h)
LFLAG_OFFSET = 12                       # struct termios: c_iflag, c_oflag, c_cflag, c_lflag


def tty_write_job_control(task, file):
    """n_tty_write(): with TOSTOP set, a write to the controlling terminal
    from a background group is tty_check_change()'s (SIGTTOU)."""
    ctty = getattr(task.signal, "tty", None)
    if ctty is None or ctty.pgrp in (0, task.signal.pgrp) or not host_isatty(file):
        return 0                        # (the foreground pays no host call)
    tty, _ = tty_pair_get_tty(task.kernel, file)
    if tty is not ctty or not tty.pgrp or tty.pgrp == task.signal.pgrp:
        return 0
    try:
        termios = host_fcntl.ioctl(file.host_fd, TCGETS, bytes(TERMIOS_SIZE))
    except OSError:
        return 0
    if not struct.unpack_from("<I", termios, LFLAG_OFFSET)[0] & TOSTOP:
        return 0
    return tty_check_change(task, tty, SIGTTOU)


def tty_read_job_control(task, file):
    """n_tty_read()'s job_control(): a read of the caller's controlling
    terminal from a background group: 0 or -errno (see tty_check_change)."""
    ctty = getattr(task.signal, "tty", None)
    if ctty is None or ctty.pgrp in (0, task.signal.pgrp) or not host_isatty(file):
        return 0                        # (the foreground pays no host call)
    tty, _ = tty_pair_get_tty(task.kernel, file)
    if tty is not ctty:
        return 0
    return tty_check_change(task, tty, SIGTTIN)


def tiocgpgrp(task, tty, real_tty, arg):
    """tiocgpgrp(): the foreground group; ENOTTY unless it is the caller's
    controlling terminal (a pty master may always ask)."""
    if tty is real_tty and getattr(task.signal, "tty", None) is not real_tty:
        return -errno.ENOTTY
    task.uaccess.copy_to_user(arg, struct.pack("<i", real_tty.pgrp))
    return 0


def tiocspgrp(task, tty, real_tty, arg):
    """tiocspgrp(): another group of the caller's session to the
    foreground: ENOTTY if not its controlling terminal, EFAULT, EINVAL for
    a negative group, ESRCH for an empty one, EPERM for another session's."""
    ret = tty_check_change(task, real_tty)
    if ret == -errno.EIO:
        return -errno.ENOTTY
    if ret:
        return ret
    if getattr(task.signal, "tty", None) is not real_tty or \
            real_tty.session != task.signal.session:
        return -errno.ENOTTY
    pgrp = struct.unpack("<i", task.uaccess.copy_from_user(arg, INT_SIZE))[0]
    if pgrp < 0:
        return -errno.EINVAL
    session = _session_of_pgrp(task.kernel, pgrp)
    if not session:
        return -errno.ESRCH
    if session != task.signal.session:
        return -errno.EPERM
    real_tty.pgrp = pgrp
    return 0


def tiocgsid(task, tty, real_tty, arg):
    """tiocgsid(): the session the terminal controls; ENOTTY unless it is
    the caller's controlling terminal, or it controls none."""
    if tty is real_tty and getattr(task.signal, "tty", None) is not real_tty:
        return -errno.ENOTTY
    if not real_tty.session:
        return -errno.ENOTTY
    task.uaccess.copy_to_user(arg, struct.pack("<i", real_tty.session))
    return 0


def session_clear_tty(kernel, session):
    """session_clear_tty(): no process of the session keeps a terminal."""
    for t in _live_groups(kernel):
        if t.signal.session == session:
            t.signal.tty = None


def tiocsctty(task, tty, arg):
    """tiocsctty(): a session leader without a controlling terminal takes
    this one (a no-op if it already controls the leader's session); EPERM
    for a non-leader, a leader that has one, or a terminal another session
    holds (unless arg is 1 and the caller has CAP_SYS_ADMIN: it is stolen).
    The FMODE_READ requirement came in 4.20 (0c55627167ac), after 4.14."""
    from kernel.cred import CAP_SYS_ADMIN, capable
    leader = task.signal.session == task.tgid
    if leader and task.signal.session == tty.session:
        return 0
    if not leader or getattr(task.signal, "tty", None) is not None:
        return -errno.EPERM
    if tty.session:
        if s32(arg) == 1 and capable(task, CAP_SYS_ADMIN):
            session_clear_tty(task.kernel, tty.session)
        else:
            return -errno.EPERM
    proc_set_tty(task, tty)
    return 0


def disassociate_ctty(task):
    """disassociate_ctty(0), TIOCNOTTY of a session leader: SIGHUP and
    SIGCONT to the foreground group, and the whole session loses its
    controlling terminal."""
    tty = task.signal.tty
    if tty.pgrp:
        kill_pgrp(task.kernel, tty.pgrp, SIGHUP)
        kill_pgrp(task.kernel, tty.pgrp, SIGCONT)
    session_clear_tty(task.kernel, task.signal.session)
    tty.session = tty.pgrp = 0


def tiocnotty(task, tty):
    """TIOCNOTTY: the caller gives up its controlling terminal (no_tty());
    ENOTTY if this is not it."""
    if getattr(task.signal, "tty", None) is not tty:
        return -errno.ENOTTY
    if task.signal.session == task.tgid:
        disassociate_ctty(task)
    else:
        task.signal.tty = None          # proc_clear_tty(current)
    return 0


def host_tty_ioctl(task, file, cmd, arg):
    """The requests the host's tty answers: the guest's argument in, the
    host's out; -errno as the host gives it.  TIOCSWINSZ that changes the
    size sends SIGWINCH to the foreground group (tty_do_resize())."""
    size_in, size_out = HOST_TTY_IOCTLS[cmd]
    old_size = None
    if cmd == TIOCSWINSZ:
        old_size = host_fcntl.ioctl(file.host_fd, TIOCGWINSZ, bytes(WINSIZE_SIZE))
    try:
        if size_in is None:
            host_fcntl.ioctl(file.host_fd, cmd, s32(arg))
            out = b""
        elif size_in:
            data = task.uaccess.copy_from_user(arg, size_in)
            host_fcntl.ioctl(file.host_fd, cmd, data)
            out = b""
        elif size_out:
            out = host_fcntl.ioctl(file.host_fd, cmd, bytes(size_out))
        else:
            host_fcntl.ioctl(file.host_fd, cmd, 0)
            out = b""
    except OSError as e:
        return -(e.errno or errno.EIO)
    if out:
        task.uaccess.copy_to_user(arg, out)
    if old_size is not None and old_size != data:
        _, real_tty = tty_pair_get_tty(task.kernel, file)
        if real_tty.pgrp:
            kill_pgrp(task.kernel, real_tty.pgrp, SIGWINCH)
    return 0


def tty_wait_until_sent(task, file):
    """tty_wait_until_sent(): sleep (interruptibly) while the host's tty
    still holds output; the host cannot wake the board when it drains, so
    the task looks again every DRAIN_POLL seconds.  A pty never waits."""
    from kernel.sched.wait import WouldBlock
    try:
        left = struct.unpack("<i", host_fcntl.ioctl(file.host_fd, TIOCOUTQ, bytes(INT_SIZE)))[0]
    except OSError:
        return
    if left > 0:
        raise WouldBlock(deadline=task.kernel.sched.clock() + DRAIN_POLL)


def tty_ioctl(task, file, cmd, arg):
    """tty_ioctl(): a request to a terminal; None if it is not one of the
    terminal's (the caller answers ENOTTY)."""
    tty, real_tty = tty_pair_get_tty(task.kernel, file)
    if cmd == TIOCGPGRP:
        return tiocgpgrp(task, tty, real_tty, arg)
    if cmd == TIOCSPGRP:
        return tiocspgrp(task, tty, real_tty, arg)
    if cmd == TIOCGSID:
        return tiocgsid(task, tty, real_tty, arg)
    if cmd == TIOCSCTTY:
        return tiocsctty(task, real_tty, arg)
    if cmd == TIOCNOTTY:
        return tiocnotty(task, real_tty) if tty is real_tty else -errno.ENOTTY
    if cmd == TIOCSTI:
        from kernel.tty_hangup import tiocsti
        return tiocsti(task, file, tty, arg)
    if cmd not in HOST_TTY_IOCTLS:
        return None
    if cmd in CHECK_CHANGE and tty is not None:      # a master is nobody's ctty
        ret = tty_check_change(task, tty)
        if ret:
            return ret
    if cmd in WAIT_UNTIL_SENT:
        tty_wait_until_sent(task, file)                 # not the whole board
    return host_tty_ioctl(task, file, cmd, arg)
