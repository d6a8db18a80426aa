"""a53emu.run(): one program start to end on a new Machine, and the
Result the pytest fixture hands back (docs/api.md, "One program")."""

import collections

from a53emu.machine import Machine
from a53emu.stops import Exit
from kernel.syscalls.hooks import ALL, add_hook


class Result:
    """How a program run by run() (or the pytest fixture) went.

    exit_status ($?: the code, or 128 + the signal), wait_status, signal
    (the killing signal or None), stdout and stderr (text; stdout_bytes and
    stderr_bytes as written), syscalls (a Counter: name -> calls, for every
    task), calls (every system call in order: (pid, name, args, result),
    result None for one that never returned), mm (MM_FIELDS of init's
    mm_struct as it exited), vmas (its Vma list then), maps (its
    /proc/PID/maps then), faults (the page faults the MMU raised, by
    result: 'SIGSEGV (SEGV_MAPERR)', or the pte made), log (the kernel's
    printk lines)."""

    def __init__(self):
        self.syscalls = collections.Counter()
        self.calls = []
        self.faults = 0
        self.mm = self.vmas = self.maps = None

    @property
    def stdout(self):
        return self.stdout_bytes.decode("utf-8", "replace")

    @property
    def stderr(self):
        return self.stderr_bytes.decode("utf-8", "replace")

    def __repr__(self):
        return "<Result exit_status %d, %d system calls>" % (self.exit_status,
                                                             sum(self.syscalls.values()))


def run(program, args=(), env=None, cwd=None, stdin=b"", timeout=None, hooks=(), **machine):
    """Run one program from start to end on a new Machine(**machine) and
    return its Result.  hooks: (syscall, enter, exit) triples installed
    before it starts.  timeout: seconds of wall time, then TimeoutError
    (the program is killed)."""
    result = Result()
    with Machine(**machine) as m:
        m.load(program, args=args, env=env, cwd=cwd, stdin=stdin)

        # Every call is counted before any hook can skip it; what it was
        # given and got is noted after every hook has had its say.  These
        # two see the kernel's SyscallCall (no Call view: they run on every
        # call, and cannot fail).
        record = {}

        def on_enter(call):
            entry = [call.task.pid, call.name, tuple(call.args), None]
            result.syscalls[call.name] += 1
            result.calls.append(entry)
            record[call.task] = entry

        def on_exit(call):
            entry = record.pop(call.task, None)
            if entry is not None:
                entry[2], entry[3] = tuple(call.args), call.result
        table = m.kernel.syscalls
        add_hook(table, ALL, enter=on_enter, priority=-1)
        add_hook(table, ALL, exit=on_exit, priority=1)
        for which, enter, exit in hooks:
            m.hook(which, enter=enter, exit=exit)
        m.subscribe(lambda ev: setattr(result, "faults", result.faults + 1), ("fault",))
        stop = m.run(until=Exit(), timeout=timeout)
        if stop.kind == "exit":
            mm = stop.task.mm
            if mm is not None:
                result.mm, result.vmas, result.maps = mm.fields(), mm.vmas(), mm.maps()
            stop = m.run(timeout=timeout)
        if stop.kind == "timeout":
            raise TimeoutError("%s: still running after %s s" % (program, timeout))
        result.calls = [tuple(c) for c in result.calls]
        result.exit_status = m.exit_status
        result.wait_status = m.wait_status
        result.signal = result.wait_status & 0x7F or None
        result.stdout_bytes, result.stderr_bytes = m.stdout, m.stderr
        result.log = m.log
    return result
