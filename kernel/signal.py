"""kernel/signal.c: signal dispositions and fatal signals.

Handlers are recorded (rt_sigaction) but not yet delivered: a synchronous
fault signal (SIGSEGV, SIGBUS, SIGILL) takes its default action — the task
dies, as Linux's force_sig_fault() does when the signal cannot be handled.
"""

from kernel.uapi import SIGNAL_NAMES


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


def force_sig_fault(task, sig, code, addr, reason=""):
    """force_sig_fault() with no deliverable handler: kill the task."""
    pc = task.core.elr_el1 if task.core is not None else None
    task.kernel.do_exit(task, sig, Death(sig, code, addr, pc, reason))
