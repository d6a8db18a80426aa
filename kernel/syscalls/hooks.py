"""System-call hooks: Python code of the board's user run on entry to and on
exit from chosen system calls — what a ptrace tracer does at its
syscall-enter and syscall-exit stops (change the arguments, skip the call,
change the result: PTRACE_SETREGSET, PTRACE_SYSEMU, seccomp's
SECCOMP_RET_ERRNO), without a tracer process.  The Python API (a53emu/)
and `a53emu walk` use them.

el0_svc() (kernel/syscalls/table.py) reads SyscallTable.hooks once per call:
None, the default, is the whole cost while nothing is hooked.  Removing the
last hook sets it back to None.

The rules, which the API documents (docs/api.md):

- Enter hooks run before the handler, in the order they were registered
  (hooks for one call and hooks for every call, ALL, interleaved by that
  order; a priority below 0 runs first, for the API's own stops).  Each
  sees call.args as the previous hook left them and may assign
  call.args[i]; the handler then sees the new values.  The guest's
  registers are not changed (x0 gets the result as always; x1-x5 keep the
  program's values).  call.skip(value) ends the enter phase: the handler
  does not run and the call returns value (a negative errno for a failure).
- Exit hooks run after the handler (or the skip), in registration order
  too, before the result reaches x0 and the syscall trace; each sees
  call.result as the previous left it and may assign a new one.
- A call that sleeps (WouldBlock: the SVC runs again when the task wakes)
  runs its enter hooks once, at its first entry; the re-executions use the
  arguments the hooks gave, and the exit hooks run once, when it returns.
  A call ended by a signal returns -ERESTART* (what the exit hooks see);
  when the signal handler restarts it, that is a new call, as strace shows
  it.  exit, exit_group and rt_sigreturn never return: no exit hooks.  A
  successful execve returns 0 in the new program; clone returns through
  here in the parent only (the child starts at EL0 with x0 = 0).
"""

from kernel.syscalls.table import SyscallDef, syscall_name
from kernel.syscalls.unistd import SYSCALL_NUMBERS

ALL = "*"           # hook every system call
_REG_MASK = (1 << 64) - 1
NARGS = 6           # x0-x5


class SyscallCall:
    """One system call as its hooks see it.

    task: the calling task; nr and name: which call; args: the six argument
    registers (a list the enter hooks may change); result: None during the
    enter phase, then the value x0 will get; skipped: True once an enter
    hook called skip()."""

    __slots__ = ("task", "nr", "name", "args", "result", "skipped", "regs", "d")

    def __init__(self, task, nr, args):
        self.task = task
        self.nr = nr
        self.name = syscall_name(nr)
        self.args = list(args)
        self.result = None
        self.skipped = False

    def skip(self, result):
        """Do not run the handler: the call returns `result` (an int; a
        negative errno for a failure, as the kernel's own handlers return)."""
        if self.result is not None and not self.skipped:
            raise RuntimeError("skip() is for enter hooks; an exit hook sets call.result")
        self.skipped = True
        self.result = int(result)

    def __repr__(self):
        return "<SyscallCall %s%s pid %d -> %r>" % (
            self.name, tuple(hex(a) for a in self.args[:3]), self.task.pid, self.result)


class HookHandle:
    """What add_hook() returns; remove_hook() takes it."""

    __slots__ = ("nr", "enter", "exit", "priority", "seq")

    def __init__(self, nr, enter, exit, priority, seq):
        self.nr, self.enter, self.exit, self.priority, self.seq = nr, enter, exit, priority, seq


class SyscallHooks:
    """The hooks of one kernel, and the calls in progress that have hooks."""

    def __init__(self, table):
        self.table = table
        self.handles = []
        self._seq = 0
        self._cache = {}            # nr -> (enter fns, exit fns), rebuilt on change
        self._in_call = {}          # task -> its hooked call (kept while it sleeps)

    def _lookup(self, nr):
        found = self._cache.get(nr)
        if found is None:
            mine = sorted((h for h in self.handles if h.nr == nr or h.nr == ALL),
                          key=lambda h: (h.priority, h.seq))
            found = (tuple(h.enter for h in mine if h.enter is not None),
                     tuple(h.exit for h in mine if h.exit is not None))
            self._cache[nr] = found
        return found

    def enter(self, task, regs, d):
        """el0_svc()'s entry: (call or None, regs, d) — the registers and the
        handler to use, after the enter hooks (d may become a handler that
        returns the skip value)."""
        if task.sleep_restart is not None:          # the SVC again, after a sleep
            call = self._in_call.get(task)
            if call is None or call.nr != regs[0]:
                return None, regs, d
            return call, call.regs, call.d
        nr = regs[0]
        enters, exits = self._lookup(nr)
        if not enters and not exits:
            return None, regs, d
        call = SyscallCall(task, nr, regs[1:1 + NARGS])
        for fn in enters:
            fn(call)
            if call.skipped:
                break
        if len(call.args) != NARGS:
            raise ValueError("a hook of %s changed the number of arguments" % call.name)
        call.regs = (nr,) + tuple(int(a) & _REG_MASK for a in call.args)
        call.d = skip_def(nr, d, call.result) if call.skipped else d
        call.result = None
        self._in_call[task] = call
        return call, call.regs, call.d

    def exit(self, call, ret):
        """el0_svc()'s exit: the result after the exit hooks (call None: a
        call that has none)."""
        if call is None:
            return ret
        self._in_call.pop(call.task, None)
        call.result = ret
        for fn in self._lookup(call.nr)[1]:
            fn(call)
        if not self.handles and not self._in_call and self.table.hooks is self:
            self.table.hooks = None         # the last hook went while this call ran
        return int(call.result)


def skip_def(nr, d, value):
    """A handler for this one call that returns value, with d's name and
    argument formats (so the syscall trace prints the call as usual)."""
    s = SyscallDef.__new__(SyscallDef)
    if d is not None:
        for field in SyscallDef.__slots__:
            setattr(s, field, getattr(d, field))
    else:       # an unimplemented number: the trace shows it without arguments
        s.name, s.nr, s.args, s.nargs, s.ret = syscall_name(nr), nr, (), 0, "d"
    s.func = lambda task, *args: value
    return s


def resolve_nr(which):
    """A system call given by name ('brk'), number (214) or ALL -> its key."""
    if which == ALL:
        return ALL
    if isinstance(which, str):
        try:
            return SYSCALL_NUMBERS[which]
        except KeyError:
            raise ValueError("no AArch64 system call named %r" % which) from None
    if isinstance(which, int) and which >= 0:
        return which
    raise ValueError("a system call is a name, a number or %r, not %r" % (ALL, which))


def add_hook(table, which, enter=None, exit=None, priority=0):
    """Hook `which` (name, number or ALL) of a SyscallTable: enter(call)
    and/or exit(call).  Returns a handle for remove_hook()."""
    if enter is None and exit is None:
        raise ValueError("a hook needs an enter or an exit function")
    for fn in (enter, exit):
        if fn is not None and not callable(fn):
            raise TypeError("a hook must be callable, not %r" % (fn,))
    nr = resolve_nr(which)
    hooks = table.hooks
    if hooks is None:
        hooks = table.hooks = SyscallHooks(table)
    hooks._seq += 1
    handle = HookHandle(nr, enter, exit, priority, hooks._seq)
    hooks.handles.append(handle)
    hooks._cache.clear()
    return handle


def remove_hook(table, handle):
    """Undo add_hook(); the last one gone, el0_svc() is back to no cost."""
    hooks = table.hooks
    if hooks is None or handle not in hooks.handles:
        raise ValueError("this hook is not registered")
    hooks.handles.remove(handle)
    hooks._cache.clear()
    # A call asleep keeps its record until it returns; records of tasks that
    # died in a call, or of calls that never return (exit_group,
    # rt_sigreturn), are dropped here.
    hooks._in_call = {t: c for t, c in hooks._in_call.items()
                      if t.exit_state is None and t.sleep_restart is not None}
    if not hooks.handles and not hooks._in_call:
        table.hooks = None
