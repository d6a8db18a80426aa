"""What Machine.run() stops at (docs/api.md, "Running until an event"):
the conditions given as until=, and the Stop it returns."""

from emu.arch import PAGE_MASK, PAGE_SIZE
from kernel.syscalls.hooks import ALL, resolve_nr


class HookError(Exception):
    """A hook or a subscriber raised: run() raises this, from that exception.
    The board is frozen where the hook ran; run() again carries on as if
    the hook had returned, close() ends it."""


class Syscall:
    """Stop at a system call (a name such as 'brk', a number, or ALL for
    any): on entry (before the handler and every hook; stop.call.args may be
    changed, or stop.call.skip(value) called) or, with phase='exit', after
    it (before the exit hooks; stop.call.result may be changed).  pid: only
    that task's calls."""

    def __init__(self, which=ALL, phase="enter", pid=None):
        if phase not in ("enter", "exit"):
            raise ValueError("phase is 'enter' or 'exit', not %r" % (phase,))
        resolve_nr(which)               # ValueError for a name arm64 does not have
        self.which, self.phase, self.pid = which, phase, pid


class Fault:
    """Stop after the kernel handled an abort the MMU raised (demand paging,
    copy-on-write, access flag, or a SIGSEGV it decided on): any fault, a
    fault on the page holding `addr`, or one with start <= address < end."""

    def __init__(self, addr=None, start=None, end=None):
        if addr is not None and (start is not None or end is not None):
            raise ValueError("Fault(addr) or Fault(start=, end=), not both")
        if addr is not None:
            start, end = addr & PAGE_MASK, (addr & PAGE_MASK) + PAGE_SIZE
        self.start = 0 if start is None else start
        self.end = 1 << 64 if end is None else end

    def matches(self, addr):
        return self.start <= addr < self.end


class Exit:
    """Stop as a process exits, before its mm goes (do_exit's exit hooks):
    the VMAs and the page tables are still there to look at.  pid: which
    process (default: the program run, init)."""

    def __init__(self, pid=None):
        self.pid = pid


class Instructions:
    """Stop after n more guest instructions (all cores together), at the end
    of the translated block that reaches n: a few instructions past it at
    most.  Counting instructions halves the speed of compute-bound code;
    the machine turns it on at the first such stop and keeps it."""

    def __init__(self, n):
        if n < 1:
            raise ValueError("Instructions(n) wants n >= 1")
        self.n = n


class Stop:
    """Why run() returned.

    kind: 'syscall' (entry), 'syscall-exit', 'fault', 'exit' (a process
    exiting, mm still there), 'instructions', 'timeout', or 'finished' (the
    program has ended; the board is done).  task: the task concerned (a
    Task), call: the Call for a system call, addr/pc/esr/result for a fault,
    condition: the until= object that matched."""

    def __init__(self, kind, task=None, call=None, condition=None, **fields):
        self.kind, self.task, self.call, self.condition = kind, task, call, condition
        self.addr = fields.get("addr")
        self.pc = fields.get("pc")
        self.esr = fields.get("esr")
        self.result = fields.get("result")
        self.instructions = fields.get("instructions")

    def __repr__(self):
        what = self.kind
        if self.call is not None:
            what += " " + self.call.name
        if self.addr is not None:
            what += " at %#x" % self.addr
        if self.task is not None:
            what += " (pid %d)" % self.task.pid
        return "<Stop %s>" % what
