"""arch/arm64/kernel/syscall.c + include/uapi/asm-generic/unistd.h: the
system-call table and el0_svc(), which dispatches through it.

Handlers are registered with @syscall(name, argument formats, return format);
the formats are what the strace printer shows (kernel/syscalls/strace.py).
A number without a handler returns -ENOSYS and still shows in the trace.

A table made with lazy=True (the a53emu command's) imports a handler's
module on the first call of its number, as named by the generated
kernel/syscalls/handler_map.py (issue 8: start-up; `python
tools/syscall_table.py --write` regenerates it, a test fails when it is
stale); any other table imports every handler module at once.
"""

import errno
import struct
import sys
import time

from kernel.syscalls.unistd import SYSCALL_NAMES, SYSCALL_NUMBERS
from kernel.mm.page_alloc import OutOfMemory
from kernel.sched.wait import ERESTART_RESTARTBLOCK, RESTART_CODES, WouldBlock
from kernel.signal import signal_pending
from kernel.uapi import SIGKILL
from kernel.uaccess import Efault

NORETURN = object()     # exit/exit_group: x0 is not written back
_RESTART_CODES = frozenset(RESTART_CODES)   # one hash probe per call, not four compares
# Every -ERESTART* code is at or below this: a return above it needs no
# look at _RESTART_CODES (el0_svc's fast path; a constant, not -min(...)
# at each call).
_RESTART_MAX = -min(RESTART_CODES)
_U64 = (1 << 64) - 1
# struct unpackers of x0..x(n-1) (little-endian, as QEMU keeps env->xregs),
# by the number of arguments n (SyscallDef.read_args).
_ARG_READERS = tuple(struct.Struct("<%dQ" % n).unpack_from for n in range(7))


class SyscallDef:
    __slots__ = ("name", "nr", "func", "nargs", "args", "ret", "module", "read_args")

    def __init__(self, name, func, args, ret, module=None):
        self.name = name
        self.nr = SYSCALL_NUMBERS[name]
        self.func = func
        self.args = tuple(args.split()) if args else ()
        self.nargs = len(self.args)
        self.read_args = _ARG_READERS[self.nargs]   # its arguments out of QEMU's x0..x5
        self.ret = ret
        self.module = module    # the module whose import registered it (handler_map.py)


_DEFS = []

# The modules whose import registers the handlers (their @syscall lines):
# every one of them is imported by load_handlers(), and by
# tools/syscall_table.py to write kernel/syscalls/handler_map.py.
HANDLER_MODULES = (
    "kernel.exit", "kernel.fork", "kernel.futex", "kernel.sys",
    "kernel.fs.exec", "kernel.fs.pipe", "kernel.fs.select", "kernel.fs.xattr",
    "kernel.syscalls.fs", "kernel.syscalls.mm", "kernel.syscalls.process",
    "kernel.syscalls.signal",
    "kernel.sys_ni",                    # (issue 9 parts 1 and 7, and their modules)
    "kernel.fs.fhandle", "kernel.fs.locks", "kernel.fs.namei", "kernel.fs.open",
    "kernel.fs.read_write",
    "kernel.fs.splice", "kernel.fs.statfs", "kernel.fs.sync", "kernel.fs.utimes",
    "kernel.mm.fadvise", "kernel.mm.readahead",
    "kernel.capability", "kernel.exec_domain", "kernel.groups",     # (part 3: credentials)
    "kernel.fs.attr",
    "kernel.sched.syscalls",
    "kernel.time.itimer", "kernel.time.posix_timers", "kernel.time.time",
    "kernel.time.timerfd",
    "kernel.fs.eventfd", "kernel.fs.eventpoll", "kernel.fs.inotify",
    "kernel.fs.signalfd",               # (issue 9 part 6)
    "kernel.net.socket",                # (issue 9 part 6)
    "kernel.ipc.shm", "kernel.ipc.sem", "kernel.ipc.msg", "kernel.ipc.mqueue",   # (part 5)
    "kernel.mm.fremap", "kernel.mm.memfd",
    "kernel.fs.chroot",                 # (issue 10 part 5: chroot nests in --jail)
    # (issue 8, start-up: split out of kernel.syscalls.fs, so a hello imports only these two)
    "kernel.syscalls.read_write", "kernel.fs.ioctl", "kernel.fs.fcntl",
)


_SYSCALL_MODULES = None     # handler_map.SYSCALL_MODULES, read at the first miss


def load_handlers():
    """Import every handler module: their @syscall lines fill _DEFS."""
    for module in HANDLER_MODULES:
        if module not in sys.modules:
            __import__(module)


def _registering_module():
    """The module whose body is running (being imported) below syscall()'s
    register(): the one a lazy table must import for this handler, even
    when a helper of another module made the @syscall call (sys_ni's
    loops)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_name != "<module>":
        frame = frame.f_back
    return frame.f_globals.get("__name__") if frame is not None else None


def syscall(name, args="", ret="d"):
    """Register a handler for the AArch64 system call `name`.

    `args` lists one format per argument (see strace.py); `ret` is "d"
    (decimal, negative = errno), "x" (hex, e.g. mmap) or "n" (no return).
    """
    def register(func):
        _DEFS.append(SyscallDef(name, func, args, ret, _registering_module()))
        return func
    return register


class SyscallTable:
    """sys_call_table for one kernel: number -> SyscallDef."""

    def __init__(self, kernel, lazy=False):
        """lazy: import a handler's module on the first call of its number
        (handler_map.py); otherwise every handler module now."""
        if not lazy:
            load_handlers()     # importing them runs their @syscall registrations
        self.kernel = kernel
        self.trace = kernel.trace
        self.by_nr = {}         # the handlers registered so far, by number
        self._known = 0         # how many of _DEFS are in by_nr
        self._add_registered()
        self._counts = None     # a Counter of calls by number under --stats
        self.times = None       # and the seconds spent in them (the handlers' time)
        self._hooks = None      # SyscallHooks (kernel/syscalls/hooks.py), None: none
        self._on_enter = None
        # el0_svc's one test: does anything count, hook or trace calls?
        self.instrumented = False
        self.cputime_sample = None      # (task, tick time): measure the next call (cputime.py)
        if self.trace is not None:      # (None: a table made only to list the calls)
            self.trace.watch("syscall", self._instrumentation_changed)
            self._instrumentation_changed()

    def _add_registered(self):
        """Put the handlers registered since the last look into by_nr (in
        order: a number registered twice keeps its last handler)."""
        for d in _DEFS[self._known:]:
            self.by_nr[d.nr] = d
        self._known = len(_DEFS)

    def lookup(self, nr):
        """sys_call_table[nr]: the SyscallDef of number nr, or None (ENOSYS)."""
        d = self.by_nr.get(nr)
        return d if d is not None else self._first_call(nr)

    def _first_call(self, nr):
        """by_nr has no handler for nr: import the module that registers
        it (handler_map.py), or every handler module if that one did not
        (a stale map); None if no module registers one (ENOSYS)."""
        global _SYSCALL_MODULES
        if _SYSCALL_MODULES is None:
            from kernel.syscalls.handler_map import SYSCALL_MODULES as _SYSCALL_MODULES
        module = _SYSCALL_MODULES.get(nr)
        if module is None:
            return None
        if module not in sys.modules:
            __import__(module)
        self._add_registered()
        if nr not in self.by_nr:
            load_handlers()
            self._add_registered()
        return self.by_nr.get(nr)

    def _instrumentation_changed(self):
        self.instrumented = bool(self.trace.syscall or self._counts is not None
                                 or self._hooks is not None or self.cputime_sample is not None)

    def request_cputime_sample(self, task, t_tick):
        """The timer tick asks for the next call to be timed (kernel/cputime.py)."""
        self.cputime_sample = (task, t_tick)
        self.instrumented = True

    def _cputime_sampled(self, task, sample, t_entry):
        from kernel.cputime import account_sampled_tick
        self.cputime_sample = None
        self._instrumentation_changed()
        account_sampled_tick(task, sample, t_entry, time.perf_counter())

    @property
    def counts(self):
        """A Counter of calls by number under --stats (kernel/stats.py), or None."""
        return self._counts

    @counts.setter
    def counts(self, counter):
        self._counts = counter
        self._instrumentation_changed()

    @property
    def hooks(self):
        """SyscallHooks (kernel/syscalls/hooks.py), or None: none."""
        return self._hooks

    @hooks.setter
    def hooks(self, hooks):
        self._hooks = hooks
        self._instrumentation_changed()

    @property
    def on_enter(self):
        """A callable(task, nr) run on entry to every call (`a53emu walk`):
        an enter hook for ALL calls (kernel/syscalls/hooks.py)."""
        return self._on_enter and self._on_enter.enter.__wrapped__

    @on_enter.setter
    def on_enter(self, fn):
        from kernel.syscalls.hooks import ALL, add_hook, remove_hook
        if self._on_enter is not None:
            remove_hook(self, self._on_enter)
            self._on_enter = None
        if fn is not None:
            def enter(call):
                fn(call.task, call.nr)
            enter.__wrapped__ = fn
            self._on_enter = add_hook(self, ALL, enter=enter)

    def el0_svc(self, core):
        """el0_svc(): x8 selects the call, x0-x5 are its arguments, x0 its result.

        The common case, whole, in this one function (issue 8: a getppid
        went from ~17,300 host instructions to ~7,600); el0_svc_full() does
        every case.  The common case: nothing counts, hooks or traces calls
        (`instrumented`, the one test tracing costs when off), the core's
        registers are a view of QEMU's array (core.xregs), and the number's
        handler is imported already.  What it skips, and why that is safe:
        - the tuple of all seven registers: the handler's arguments are
          read, as many as it takes, and passed by position (a call with
          *args enters the interpreter again from C: ~4x a plain call);
        - orig_x0 at entry: only a restart (do_signal) reads it, so it is
          read from x0 when the call returns -ERESTART* — a handler that
          returns leaves its caller's x0 alone (exec and rt_sigreturn,
          which write it, are NORETURN);
        - the tests of what traces or counts, all false.
        Everything else is el0_svc_full()'s, in the same order (a test
        runs programs both ways and compares)."""
        xregs = core.xregs
        if self.instrumented or xregs is None:
            self.el0_svc_full(core)
            return
        nr = xregs[8]
        d = self.by_nr.get(nr)
        if d is None:           # no handler yet (its module is not imported) or ENOSYS
            self.el0_svc_full(core)
            return
        task = core.current
        task.last_syscall = nr
        task.sleep_restart = None
        func, nargs = d.func, d.nargs
        try:
            if nargs == 0:
                ret = func(task)
            elif nargs == 1:
                ret = func(task, xregs[0])
            elif nargs == 2:
                ret = func(task, xregs[0], xregs[1])
            elif nargs == 3:
                ret = func(task, xregs[0], xregs[1], xregs[2])
            else:               # one unpack of x0..x5 beats as many reads
                a = d.read_args(core.xregs_bytes)
                if nargs == 4:
                    ret = func(task, a[0], a[1], a[2], a[3])
                elif nargs == 5:
                    ret = func(task, a[0], a[1], a[2], a[3], a[4])
                else:
                    ret = func(task, a[0], a[1], a[2], a[3], a[4], a[5])
        except (WouldBlock, Efault, OutOfMemory) as exc:
            ret = handler_raised(task, core, exc)
            if ret is None:     # asleep, or killed
                return
        if ret is NORETURN:
            if task.pending or task.signal.shared_pending:
                signal_pending_stop(task, core)
            return
        if ret <= _RESTART_MAX and -ret in _RESTART_CODES:
            task.orig_x0 = xregs[0]     # still the program's (see above)
            syscall_restart(task, -ret)
        else:
            task.restart = None
        xregs[0] = ret & _U64
        if task.pending or task.signal.shared_pending or task.signal.group_exit:
            signal_pending_stop(task, core)

    def el0_svc_full(self, core):
        """el0_svc() for every case: the counts of --stats, the hooks, the
        syscall trace, a number met for the first time (or unknown), the
        registers through ctypes.  (Transparent in call graphs: its calls
        show under el0_svc, as if el0_svc had made them.)

        A handler that must sleep raises WouldBlock: the task sleeps and the
        SVC runs again when it is woken — unless a signal is already
        pending, when the call returns -ERESTART* for do_signal() to turn
        into a restart or -EINTR."""
        regs = core.syscall_regs()
        nr = regs[0]
        task = core.current
        d = self.by_nr.get(nr)
        if d is None:           # no handler yet: its module is not imported, or ENOSYS
            d = self._first_call(nr)
        task.orig_x0 = regs[1]  # the program's x0, even if a hook changes the argument
        # Tested once; the rest test this local.
        watched = self.instrumented
        if watched:
            counts, hooks = self._counts, self._hooks
            sample = self.cputime_sample
            if sample is not None:
                t_svc = time.perf_counter()
            if counts is not None:
                counts[nr] += 1
                t0 = time.perf_counter()
            if hooks is not None:
                call, regs, d = hooks.enter(task, regs, d)
        task.last_syscall = nr
        task.sleep_restart = None
        if watched and self.trace.syscall:
            # Linux's raw_syscalls:sys_enter, for every number (d is None for
            # one the board does not know): strace decodes what a call reads
            # on entry (issue 7 part 4), the machine formats write the entry.
            self.trace.emit("sys_enter", task=task, nr=nr, d=d, args=tuple(regs[1:]))
            if d is not None and d.ret == "n":
                # A call that does not return is shown at its entry too.
                self.trace.emit("syscall", task=task, nr=nr, d=d, args=regs[1:], ret=None)
        if d is None:
            ret = -errno.ENOSYS
        else:
            try:
                ret = d.func(task, *regs[1:1 + d.nargs])
            except (WouldBlock, Efault, OutOfMemory) as exc:
                ret = handler_raised(task, core, exc)
                if ret is None:
                    return
            if watched and counts is not None:
                self.times[nr] += time.perf_counter() - t0
            if watched and sample is not None:
                self._cputime_sampled(task, sample, t_svc)
            if ret is NORETURN:
                if task.pending or task.signal.shared_pending:
                    signal_pending_stop(task, core)
                return
        if watched and hooks is not None:
            ret = hooks.exit(call, ret)
        if -ret in _RESTART_CODES:
            syscall_restart(task, -ret)
        else:
            task.restart = None
        if watched and self.trace.syscall:
            self.trace.emit("syscall", task=task, nr=nr, d=d, args=regs[1:], ret=ret)
        core.set_return(ret)
        if task.pending or task.signal.shared_pending or task.signal.group_exit:
            signal_pending_stop(task, core)


def handler_raised(task, core, exc):
    """What a handler's WouldBlock, Efault or OutOfMemory makes of the call:
    its return value, or None when there is none to write (the task went to
    sleep, or the OOM killer ended it).  (Transparent in call graphs.)"""
    if isinstance(exc, WouldBlock):
        fatal = task.signal.group_exit or SIGKILL in task.pending
        if not ((exc.interruptible or fatal) and signal_pending(task)):
            task.kernel.sched.sleep(task, core, exc)
            return None
        # cancel() may end the call with an error of its own
        # (nanosleep_copyout(): -EFAULT when rem cannot be written)
        err = exc.cancel() if exc.cancel is not None else None
        return -exc.restart if err is None else err
    if isinstance(exc, Efault):
        return -errno.EFAULT
    task.kernel.oom_kill(task.mm)
    return None


def syscall_restart(task, code):
    """The call returns -code, an ERESTART* code: do_signal() restarts it
    or makes it -EINTR; only ERESTART_RESTARTBLOCK keeps task.restart (the
    state restart_syscall() resumes from).  (Transparent in call graphs.)"""
    task.syscall_restart = code
    if code != ERESTART_RESTARTBLOCK:
        task.restart = None


def signal_pending_stop(task, core):
    """ret_to_user's _TIF_SIGPENDING check: leave the run loop if a pending
    signal is no longer blocked, so do_signal() delivers it."""
    if signal_pending(task):
        core.stop()


def syscall_name(nr):
    return SYSCALL_NAMES.get(nr, "syscall_%#x" % nr)
