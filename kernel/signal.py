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

import struct

from kernel.uaccess import Efault
from kernel.vdso import sigtramp
from kernel.uapi import (
    SIGBUS, SIGFPE, SIGILL, SIGKILL, SIGNAL_NAMES, SIGSEGV, SIGSTOP, SIGTRAP,
)

SIG_DFL, SIG_IGN = 0, 1
SA_SIGINFO = 0x00000004
SA_RESTORER = 0x04000000
SA_ONSTACK = 0x08000000
SA_RESTART = 0x10000000
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000
SS_ONSTACK, SS_DISABLE = 1, 2
SI_USER, SI_TKILL = 0, -6

# Default actions (kernel/signal.c: sig_kernel_ignore / sig_kernel_stop).
SIG_KERNEL_IGNORE = {17, 23, 28, 18}        # SIGCHLD, SIGURG, SIGWINCH, SIGCONT
SIG_KERNEL_STOP = {19, 20, 21, 22}          # no job control here: treated as ignored
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

    def __init__(self, sig, code=0, addr=None, pc=None, reason="", internal=False):
        self.sig = sig
        self.internal = internal        # a kernel bug or an unemulatable state
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
    __slots__ = ("signo", "code", "addr", "pid", "uid", "esr", "reason", "pc")

    def __init__(self, signo, code, addr=None, pid=0, uid=0, esr=None, reason="", pc=None):
        self.signo, self.code, self.addr = signo, code, addr
        self.pid, self.uid, self.esr, self.reason, self.pc = pid, uid, esr, reason, pc

    def pack(self):
        """copy_siginfo_to_user(): 128 bytes; faults carry si_addr, kills the sender."""
        head = struct.pack("<iii4x", self.signo, 0, self.code)
        if self.signo in (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) and self.addr is not None:
            body = struct.pack("<Q", self.addr)
        else:
            body = struct.pack("<iI", self.pid, self.uid)
        return (head + body).ljust(SIGINFO_SIZE, b"\0")


def _bit(sig):
    return 1 << (sig - 1)


def send_signal(task, info):
    """__send_signal(): make info.signo pending (standard signals do not queue)."""
    if info.signo not in task.pending:
        task.pending[info.signo] = info
    if task.core is not None:
        task.core.stop()            # deliver on the way back to EL0


def force_sig_fault(task, sig, code, addr, reason="", esr=None):
    """force_sig_fault(): a synchronous fault signal that cannot be blocked or
    ignored — if it is, the handler is reset to SIG_DFL and it kills."""
    action = task.sighand.get(sig)
    if task.blocked & _bit(sig) or (action is not None and action[0] == SIG_IGN):
        task.blocked &= ~_bit(sig)
        task.sighand.pop(sig, None)
    pc = task.core.elr_el1 if task.core is not None else None
    send_signal(task, SigInfo(sig, code, addr, esr=esr, reason=reason, pc=pc))


def do_signal(task, core):
    """do_signal(): deliver the lowest pending, unblocked signal, if any."""
    deliverable = [s for s in task.pending if not task.blocked & _bit(s) or s == SIGKILL]
    if not deliverable:
        return
    sig = min(deliverable)
    info = task.pending.pop(sig)
    action = task.sighand.get(sig, (SIG_DFL, 0, 0, 0))
    handler = action[0]
    if handler == SIG_IGN and sig != SIGKILL:
        return
    if handler == SIG_DFL or sig == SIGKILL:
        if sig in SIG_KERNEL_IGNORE or sig in SIG_KERNEL_STOP:
            return
        pc = info.pc if info.pc is not None else core.pc
        task.kernel.do_exit(task, sig, Death(sig, info.code, info.addr, pc, info.reason))
        return
    try:
        setup_rt_frame(task, core, info, action)
    except Efault:
        # force_sigsegv(): the frame could not be written.
        task.kernel.do_exit(task, SIGSEGV, Death(
            SIGSEGV, 0, None, core.pc, "cannot build the signal frame for %s"
            % SIGNAL_NAMES.get(sig, sig)))


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
    struct.pack_into("<Q", uc, UC_SIGMASK, task.blocked)
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
        task.sighand.pop(info.signo, None)
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
        force_sig_fault(task, SIGSEGV, 0, None, "bad rt_sigreturn frame")
        return
    head = _SC_HEAD.unpack_from(uc, UC_MCONTEXT)
    x, sp, pc, pstate = head[1:32], head[32], head[33], head[34]
    if pstate & 0xF or pc & 3:              # must return to EL0t, aligned
        force_sig_fault(task, SIGSEGV, 0, None, "bad rt_sigreturn frame")
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
