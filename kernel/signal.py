"""kernel/signal.c + arch/arm64/kernel/signal.c: sending and delivering signals.

A signal is made pending (send_signal / force_sig_fault) and the core is
stopped; on the way back to EL0 (do_notify_resume → do_signal) the kernel
either takes the default action or builds an rt_sigframe on the user stack
and enters the handler:

    sp ->  struct rt_sigframe {            (16-byte aligned)
               siginfo_t info;             128 bytes
               struct ucontext uc;         uc_flags, uc_link, uc_stack,
                                           uc_sigmask, pad, uc_mcontext:
                                             fault_address, regs[31], sp, pc,
                                             pstate, __reserved[4096] holding
                                             fpsimd_context, esr_context, 0
           }
           struct frame_record { fp, lr }  so backtraces walk through it

with x0 = signo, x1 = &info, x2 = &uc, x29 = &frame_record, x30 = the
sa_restorer (libc's trampoline that calls rt_sigreturn), pc = the handler.
rt_sigreturn restores everything from uc.
"""

import errno
import struct

from kernel.coredump import WCOREFLAG, do_coredump
from kernel.sched.task import TASK_RUNNING, TASK_STOPPED
from kernel.sched.wait import ERESTARTNOINTR, ERESTARTSYS
from kernel.sigpending import (
    needs_sigqueue, overflow_fails, send_override_rlimit, sigqueue_alloc,
)
from kernel.uaccess import Efault
from kernel.vdso import sigtramp
from kernel.uapi import (
    CLD_CONTINUED, CLD_STOPPED, SI_KERNEL, SI_USER, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGILL, SIGKILL, SIGNAL_NAMES,
    SIGRTMIN, SIGSEGV, SIGSTOP, SIGSYS, SIGTRAP, SIGTSTP, SIGTTIN, SIGTTOU,
)

SIG_DFL, SIG_IGN = 0, 1
SA_NOCLDSTOP = 0x00000001
SA_NOCLDWAIT = 0x00000002
SA_SIGINFO = 0x00000004
SA_RESTORER = 0x04000000
SA_ONSTACK = 0x08000000
SA_RESTART = 0x10000000
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000
SS_ONSTACK, SS_DISABLE = 1, 2

# Default actions (kernel/signal.c: sig_kernel_ignore / stop / coredump).
SIG_KERNEL_IGNORE = {17, 23, 28, 18}        # SIGCHLD, SIGURG, SIGWINCH, SIGCONT
SIG_KERNEL_STOP = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU}
SIG_KERNEL_COREDUMP = {3, 4, 5, 6, 7, 8, 11, 24, 25, 31}   # QUIT ILL TRAP ABRT BUS FPE SEGV XCPU XFSZ SYS
# Synchronous faults are dequeued first (kernel/signal.c: SYNCHRONOUS_MASK).
SYNCHRONOUS = (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS)
_UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))

# Layout (arch/arm64/include/uapi/asm/{sigcontext,ucontext}.h).
SIGINFO_SIZE = 128
UC_SIGMASK = 40
UC_MCONTEXT = 176                           # sigcontext, 16-byte aligned
SC_RESERVED = 288                           # __reserved[], 16-byte aligned
SC_RESERVED_SIZE = 4096
UCONTEXT_SIZE = UC_MCONTEXT + SC_RESERVED + SC_RESERVED_SIZE
SIGFRAME_SIZE = (SIGINFO_SIZE + UCONTEXT_SIZE + 15) & ~15
FPSIMD_MAGIC, FPSIMD_SIZE = 0x46508001, 528
ESR_MAGIC, ESR_SIZE = 0x45535201, 16
_SC_HEAD = struct.Struct("<Q31QQQQ")        # fault_address, regs, sp, pc, pstate


class Death:
    """Why a task was killed: what the CLI prints and the wait status."""

    def __init__(self, sig, code=0, addr=None, pc=None, reason="", internal=False,
                 title="internal error"):
        self.sig = sig
        self.internal = internal        # the board, not the guest, ended it (exit 134)
        self.title = title
        self.traceback = None
        self.code = code
        self.addr = addr
        self.pc = pc
        self.reason = reason

    @property
    def name(self):
        return SIGNAL_NAMES.get(self.sig, "signal %d" % self.sig)


class SigInfo:
    """The kernel's siginfo: what happened, for the handler or the report."""
    __slots__ = ("signo", "code", "addr", "pid", "uid", "esr", "reason", "pc", "status",
                 "utime", "stime", "raw", "charge")

    def __init__(self, signo, code, addr=None, pid=0, uid=0, esr=None, reason="", pc=None,
                 status=0):
        self.signo, self.code, self.addr = signo, code, addr
        self.pid, self.uid, self.esr, self.reason, self.pc = pid, uid, esr, reason, pc
        self.status = status
        self.utime = self.stime = 0
        self.raw = None                 # a siginfo given by sigqueue(), passed on as is
        self.charge = None              # its share of RLIMIT_SIGPENDING (kernel/sigpending.py)

    def pack(self):
        """copy_siginfo_to_user(): 128 bytes; faults carry si_addr, SIGCHLD
        the child's pid, uid, status and times, kills the sender."""
        if self.raw is not None:
            return struct.pack("<i", self.signo) + self.raw[4:SIGINFO_SIZE]
        head = struct.pack("<iii4x", self.signo, 0, self.code)
        if self.signo in (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) and self.addr is not None:
            body = struct.pack("<Q", self.addr)
        elif self.signo == SIGCHLD and self.code > 0:
            body = struct.pack("<iIi4xqq", self.pid, self.uid, self.status,
                               self.utime, self.stime)
        else:
            body = struct.pack("<iI", self.pid, self.uid)
        return (head + body).ljust(SIGINFO_SIZE, b"\0")


def _bit(sig):
    return 1 << (sig - 1)


def sig_handler(task, sig):
    return task.sighand.get(sig, (SIG_DFL, 0, 0, 0))[0]


def sig_ignored(task, sig):
    """sig_ignored(): a signal nobody would see is dropped when sent —
    unless it is blocked (the handler may change before it is unblocked)."""
    if task.blocked & _bit(sig) or sig == SIGKILL:
        return False
    handler = sig_handler(task, sig)
    return handler == SIG_IGN or (handler == SIG_DFL and sig in SIG_KERNEL_IGNORE)


def signal_pending(task):
    """signal_pending(): is there a signal this thread would take now?"""
    if task.signal.group_exit and task.exit_state is None:
        return True
    blocked = task.blocked
    for sig in task.pending:
        if not blocked & _bit(sig) or sig == SIGKILL:
            return True
    for sig in task.signal.shared_pending:
        if not blocked & _bit(sig) or sig == SIGKILL:
            return True
    return False


def prepare_signal(task, sig):
    """prepare_signal(): SIGCONT resumes a stopped group and cancels pending
    stops; a stop signal cancels a pending SIGCONT.  False if the signal is
    to be dropped."""
    signal = task.signal
    if sig in SIG_KERNEL_STOP:
        for t in task.thread_group:
            t.pending.pop(SIGCONT, None)
        signal.shared_pending.pop(SIGCONT, None)
    elif sig == SIGCONT:
        for s in SIG_KERNEL_STOP:
            signal.shared_pending.pop(s, None)
            for t in task.thread_group:
                t.pending.pop(s, None)
        if signal.group_stop:
            do_continue(task.group_leader)
    elif sig == SIGKILL:
        if signal.group_stop:
            do_continue(task.group_leader)
    return not sig_ignored(task, sig)


def send_signal(task, info, group=False):
    """__send_signal() + complete_signal(): make info.signo pending for the
    thread (tkill, faults) or its whole group (kill), and wake a thread that
    can take it.  Standard signals do not queue: a second one is merged.
    0, or -EAGAIN when RLIMIT_SIGPENDING refuses a real-time siginfo."""
    sig = info.signo
    if group and task.exit_state is not None:
        # A leader that exited before its threads: the group's signal is
        # still queued, and complete_signal() hands it to a live thread.
        live = task.thread_group_live()
        task = live[0] if live else task
    if task.exit_state is not None or not prepare_signal(task, sig):
        return 0
    if not queue_signal(task, task.signal.shared_pending if group else task.pending, info):
        return -errno.EAGAIN
    for sfd in list(getattr(task.kernel, "signalfds", ())):    # signalfd_notify()
        sfd.notify(task)
    target = task
    if group and task.blocked & _bit(sig):
        for t in task.thread_group:
            if t.exit_state is None and not t.blocked & _bit(sig):
                target = t
                break
    sched = task.kernel.sched
    if sig == SIGKILL or (_is_fatal(target, sig) and not target.blocked & _bit(sig)):
        # complete_signal(): a fatal signal takes the whole group down now.
        for t in target.thread_group:
            if t.exit_state is None:
                sched.kick(t)
        return 0
    if not target.blocked & _bit(sig):
        sched.kick(target)
    for t in (target.thread_group if group else (target,)):
        if t.sigwait_set & _bit(sig):
            sched.wake_up_process(t)       # sigtimedwait() takes it itself
    return 0


def queue_signal(task, pending, info):
    """legacy_queue() + __sigqueue_alloc() + list_add_tail(): a standard
    signal is pending once however often it is sent; real-time signals
    queue every instance, each charged to RLIMIT_SIGPENDING.  False when
    the limit refuses it and the send fails (EAGAIN); when only the
    siginfo is lost, the signal is pending with a zeroed one (as
    collect_signal() makes up) unless an instance is queued already."""
    queue = pending.get(info.signo)
    if queue is not None and info.signo < SIGRTMIN:
        return True
    if needs_sigqueue(info):
        charge = sigqueue_alloc(task, send_override_rlimit(info))
        if charge is None:
            if overflow_fails(info):
                return False
            if queue is None:
                pending[info.signo] = [SigInfo(info.signo, SI_USER)]
            return True
        info.charge = charge
    if queue is None:
        pending[info.signo] = [info]
    else:
        queue.append(info)
    return True


def _is_fatal(task, sig):
    return (sig_handler(task, sig) == SIG_DFL and sig not in SIG_KERNEL_IGNORE
            and sig not in SIG_KERNEL_STOP)


def reset_handler(task, sig):
    """ka->sa.sa_handler = SIG_DFL, as get_signal() does for SA_ONESHOT and
    force_sig_info() for a blocked or ignored fault: only the handler is
    reset; sa_flags (SA_SIGINFO, SA_NOCLDWAIT, ...), the restorer and the
    mask stay, and sigaction() reports them."""
    action = task.sighand.get(sig)
    if action is not None:
        task.sighand[sig] = (SIG_DFL,) + tuple(action[1:])


def force_sig_fault(task, sig, code, addr, reason="", esr=None):
    """force_sig_fault(): a synchronous fault signal that cannot be blocked or
    ignored — if it is, the handler is reset to SIG_DFL and it kills."""
    action = task.sighand.get(sig)
    if task.blocked & _bit(sig) or (action is not None and action[0] == SIG_IGN):
        task.blocked &= ~_bit(sig)
        reset_handler(task, sig)
    pc = task.core.elr_el1 if task.core is not None else None
    send_signal(task, SigInfo(sig, code, addr, esr=esr, reason=reason, pc=pc))


def force_sigsegv(task, sig, reason):
    """force_sigsegv(): the frame for sig could not be written.  A failing
    SIGSEGV handler is reset to SIG_DFL first, so the next SIGSEGV kills."""
    if sig == SIGSEGV:
        reset_handler(task, SIGSEGV)
    force_sig_fault(task, SIGSEGV, SI_KERNEL, None, reason)


def kill_info(sender, sig, code=SI_USER):
    """The siginfo of kill()/tgkill() from sender."""
    return SigInfo(sig, code, pid=sender.tgid, uid=sender.kernel.uid_of(sender))


def dequeue_signal(task):
    """dequeue_signal(): the next deliverable signal, synchronous faults
    first, then the lowest number; private pending before shared."""
    for pending in (task.pending, task.signal.shared_pending):
        deliverable = [s for s in pending if not task.blocked & _bit(s) or s == SIGKILL]
        if deliverable:
            sync = [s for s in deliverable if s in SYNCHRONOUS]
            sig = min(sync) if sync else min(deliverable)
            queue = pending[sig]
            info = queue.pop(0)
            if not queue:
                del pending[sig]
            return info
    return None


def do_signal(task, core):
    """do_signal(): on the way back to EL0, take the pending signals.

    A system call that was interrupted (x0 is an -ERESTART* code) is first
    either restarted — the pc goes back to the SVC with x0 = orig_x0 — or
    made to return -EINTR, as arm64's do_signal() decides."""
    from kernel.exit import do_group_exit, do_group_exit_now     # exit.c needs us too
    restart = task.syscall_restart
    task.syscall_restart = None
    while task.exit_state is None:
        if task.signal.group_exit:
            do_group_exit_now(task)
            return
        info = dequeue_signal(task)
        if info is None:
            break
        sig = info.signo
        action = task.sighand.get(sig, (SIG_DFL, 0, 0, 0))
        handler = action[0]
        if sig != SIGKILL and handler == SIG_IGN:
            continue
        if handler == SIG_DFL or sig == SIGKILL:
            if sig in SIG_KERNEL_IGNORE:
                continue
            if task.kernel.trace.syscall:
                # strace's "--- SIGSEGV {...} ---" for a default action too
                task.kernel.trace.emit("signal", task=task, info=info, handler=SIG_DFL,
                                       frame=None)
            if sig in SIG_KERNEL_STOP:
                do_signal_stop(task, sig)
                break
            pc = info.pc if info.pc is not None else core.pc
            code = sig
            if sig in SIG_KERNEL_COREDUMP and do_coredump(task, info):
                code |= WCOREFLAG
            do_group_exit(task, code, Death(sig, info.code, info.addr, pc, info.reason))
            return
        if restart is not None:
            _handle_restart(task, core, restart, action[1])
            restart = None
        task.restart = None
        try:
            setup_rt_frame(task, core, info, action)
        except Efault:
            # signal_setup_done(failed): a SIGSEGV the next round takes, which
            # a SIGSEGV handler may catch (on an alternate stack).
            force_sigsegv(task, sig, "cannot build the signal frame for %s"
                          % SIGNAL_NAMES.get(sig, sig))
            continue
        return
    if restart is not None and task.exit_state is None:
        # No handler ran: every interrupted call is restarted.
        core.set_x(0, task.orig_x0)
        core.pc = core.pc - 4
    if task.saved_sigmask is not None and task.exit_state is None:
        task.blocked = task.saved_sigmask       # restore_saved_sigmask()
        task.saved_sigmask = None


def _handle_restart(task, core, code, sa_flags):
    """A handler will run: restart the interrupted call or return -EINTR."""
    if code == ERESTARTNOINTR or (code == ERESTARTSYS and sa_flags & SA_RESTART):
        core.set_x(0, task.orig_x0)
        core.pc = core.pc - 4
    else:
        core.set_return(-errno.EINTR)


# -- stop and continue ------------------------------------------------------------------

def do_signal_stop(task, sig):
    """do_signal_stop(): the whole group stops; the parent hears CLD_STOPPED."""
    signal = task.signal
    sched = task.kernel.sched
    signal.group_stop = True
    signal.group_exit_code_stop = sig
    signal.stop_reported = False
    for t in task.thread_group:
        if t.exit_state is None:
            if t.state != TASK_RUNNING:
                sched.remove(t)
            t.state = TASK_STOPPED
            sched.stop_task(t)
    _notify_parent_cldstop(task.group_leader, CLD_STOPPED, sig)


def do_continue(leader):
    """SIGCONT to a stopped group: every thread runs again; the parent hears
    CLD_CONTINUED."""
    signal = leader.signal
    sched = leader.kernel.sched
    signal.group_stop = False
    signal.cont_reported = False
    for t in leader.thread_group:
        if t.exit_state is None and t.state == TASK_STOPPED:
            t.state = TASK_RUNNING
            sched.continue_task(t)
    _notify_parent_cldstop(leader, CLD_CONTINUED, 0)


def _notify_parent_cldstop(leader, why, sig):
    parent = leader.real_parent
    if parent is None:
        return
    action = parent.sighand.get(SIGCHLD, (0, 0, 0, 0))
    if not action[1] & SA_NOCLDSTOP:
        info = SigInfo(SIGCHLD, why, pid=leader.tgid, uid=leader.kernel.uid_of(leader),
                       status=sig if why == CLD_STOPPED else 18)
        send_signal(parent, info, group=True)
    parent.signal.wait_chldexit.wake_up()


def on_sig_stack(task, sp):
    ss_sp, flags, size = task.sas
    return not flags & SS_DISABLE and size and ss_sp < sp <= ss_sp + size


def setup_rt_frame(task, core, info, action):
    """setup_rt_frame(): save the interrupted context, enter the handler."""
    handler, flags, restorer, mask = action
    regs = core.user_regs()
    sp = regs["sp"]
    ss_sp, ss_flags, ss_size = task.sas
    if flags & SA_ONSTACK and not ss_flags & SS_DISABLE and ss_size and not on_sig_stack(task, sp):
        sp = ss_sp + ss_size
    next_frame = (sp - 16) & ~15
    frame = (next_frame - SIGFRAME_SIZE) & ~15

    uc = bytearray(UCONTEXT_SIZE)
    on_stack = SS_ONSTACK if on_sig_stack(task, regs["sp"]) else 0
    struct.pack_into("<QQQi4xQ", uc, 0, 0, 0, ss_sp, (ss_flags if ss_size else SS_DISABLE)
                     | on_stack, ss_size)
    # sigsuspend()/ppoll() ran with a temporary mask: the handler's frame
    # keeps the one to restore at sigreturn (restore_saved_sigmask).
    saved = task.saved_sigmask if task.saved_sigmask is not None else task.blocked
    task.saved_sigmask = None
    task.blocked = saved
    struct.pack_into("<Q", uc, UC_SIGMASK, saved)
    _SC_HEAD.pack_into(uc, UC_MCONTEXT, info.addr or 0, *regs["x"], regs["sp"], regs["pc"],
                       regs["pstate"])
    res = UC_MCONTEXT + SC_RESERVED
    struct.pack_into("<IIII", uc, res, FPSIMD_MAGIC, FPSIMD_SIZE, regs["fpsr"], regs["fpcr"])
    for i, v in enumerate(regs["v"]):
        uc[res + 16 + 16 * i:res + 32 + 16 * i] = v.to_bytes(16, "little")
    res += FPSIMD_SIZE
    if info.esr is not None:
        struct.pack_into("<IIQ", uc, res, ESR_MAGIC, ESR_SIZE, info.esr)

    um = task.uaccess
    um.copy_to_user(frame, info.pack() + bytes(uc))
    um.copy_to_user(next_frame, struct.pack("<QQ", regs["x"][29], regs["x"][30]))
    core.set_x(0, info.signo)
    core.set_x(1, frame)
    core.set_x(2, frame + SIGINFO_SIZE)
    core.set_x(29, next_frame)
    core.set_x(30, restorer if flags & SA_RESTORER else sigtramp(task.mm))
    core.sp = frame
    core.pc = handler
    task.blocked |= (mask | (0 if flags & SA_NODEFER else _bit(info.signo))) & ~_UNBLOCKABLE
    if flags & SA_RESETHAND:
        reset_handler(task, info.signo)
    trace = task.kernel.trace
    if trace.syscall:
        trace.emit("signal", task=task, info=info, handler=handler, frame=frame)


def sys_rt_sigreturn(task, core):
    """rt_sigreturn(): restore the context saved by setup_rt_frame().

    A frame that is unreadable or would return anywhere but EL0 is SIGSEGV.
    """
    frame = core.sp
    try:
        if frame & 15:
            raise Efault()
        uc = task.uaccess.copy_from_user(frame + SIGINFO_SIZE, UCONTEXT_SIZE)
    except Efault:
        force_sig_fault(task, SIGSEGV, SI_KERNEL, None, "bad rt_sigreturn frame")
        return
    head = _SC_HEAD.unpack_from(uc, UC_MCONTEXT)
    x, sp, pc, pstate = head[1:32], head[32], head[33], head[34]
    if pstate & 0xF or pc & 3:              # must return to EL0t, aligned
        force_sig_fault(task, SIGSEGV, SI_KERNEL, None, "bad rt_sigreturn frame")
        return
    res = UC_MCONTEXT + SC_RESERVED
    magic, size, fpsr, fpcr = struct.unpack_from("<IIII", uc, res)
    v = None
    if magic == FPSIMD_MAGIC and size == FPSIMD_SIZE:
        v = [int.from_bytes(uc[res + 16 + 16 * i:res + 32 + 16 * i], "little") for i in range(32)]
    core.set_user_regs(list(x), sp, pc, pstate, v, fpsr, fpcr)
    task.blocked = struct.unpack_from("<Q", uc, UC_SIGMASK)[0] & ~_UNBLOCKABLE
    ss_sp, ss_flags, ss_size = struct.unpack_from("<Qi4xQ", uc, 16)
    if not ss_flags & SS_DISABLE and ss_size >= 2048:     # restore_altstack()
        task.sas = (ss_sp, ss_flags & ~SS_ONSTACK, ss_size)
