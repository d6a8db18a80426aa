"""The Python API's Machine: a board, its kernel and a program, driven
from Python (docs/api.md is the manual; tests/test_api.py runs its
examples).

It sits where emu/cli.py sits: above both emu/ (the hardware) and kernel/
(the mini-kernel), composing them as the CLI does — the one layer allowed
to import both (DESIGN.md: emu.arch <- emu.* <- kernel.* <- emu.cli, and
a53emu beside emu.cli).  Nothing in emu/ or kernel/ imports it.

What is stable: the names exported by a53emu/__init__.py and the attributes
documented on them.  Machine.board, Machine.kernel, Task.kernel_task and
Event.fields hand out the emulator's own objects, which change as it grows.

How a run stops at an event: the board runs in a thread of its own (the
kernel thread); run() hands it the turn and waits.  At an event — a hook
of the API, the exit hook, the scheduler's between-slices call — the kernel
thread hands the turn back and waits in turn, in the middle of whatever it
was doing: the caller then looks at a board that is frozen at that exact
moment (a system call not yet executed, a fault just handled, a process
whose mm is about to go), and the next run() carries on from there.  Only
one of the two threads ever runs, so nothing needs a lock.
"""

import os
import tempfile
import threading
import time

from a53emu.stops import Exit, Fault, HookError, Instructions, Stop, Syscall
from a53emu.views import Call, Event, Frame, Handle, Task, event_class
from emu.board import DEFAULT_CORES, Board
from emu.memory import DEFAULT_RAM_SIZE
from kernel.main import Kernel, exit_status
from kernel.syscalls.hooks import add_hook, remove_hook
from kernel.trace import EVENT_CLASSES, Tracer


def parse_mem(mem):
    """RAM size: an int (bytes) or '512M', '1G', '65536' (as --mem)."""
    if isinstance(mem, int):
        return mem
    from emu.cli import parse_size
    try:
        return parse_size(str(mem))
    except Exception as e:          # argparse's error type, as a plain ValueError
        raise ValueError(str(e)) from None


class _Turns:
    """The hand-over between the caller's thread and the kernel thread: the
    scheduler's `debugger` slot (kernel/sched/core.py calls service()
    between slices, slice_count() and after_slice() around each), which is
    where timeouts and instruction counts stop the board."""

    pending = None          # the scheduler's all-stop test: never set, we stop in place

    def __init__(self, machine):
        self.machine = machine
        self.insn_target = None
        self.pause_requested = False
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.conn = _WakeFd(r)          # polled by an idle scheduler: a wake-up
        self._w = w

    def wake(self):
        try:
            os.write(self._w, b"x")
        except BlockingIOError:
            pass

    def close(self):
        os.close(self.conn.fd)
        os.close(self._w)

    def service(self):
        try:
            while os.read(self.conn.fd, 64):
                pass
        except BlockingIOError:
            pass
        if self.pause_requested:
            self.pause_requested = False
            self.machine._pause(Stop("timeout"))

    def slice_count(self, task, count):
        if self.insn_target is None:
            return count
        left = max(1, self.insn_target - self.machine.instructions)
        return left if not count else min(count, left)

    def after_slice(self, core, task):
        if self.insn_target is not None and self.machine.instructions >= self.insn_target:
            cond, self.insn_target = self._insn_cond, None
            self.machine._pause(Stop("instructions", self.machine.task_of(task),
                                     condition=cond, instructions=self.machine.instructions))


class _WakeFd:
    def __init__(self, fd):
        self.fd = fd

    def fileno(self):
        return self.fd


class Machine:
    """A board (cores, RAM) with its kernel booted: the API's front door.

    Machine(cores=2, mem='512M', va_bits=48, sysroot=None,
    deterministic=False, root=False, net='loopback') takes the options of
    `a53emu run` (--cores, --mem, --va-bits, -L, --deterministic, --root,
    --net); count_instructions=True counts from the start (Instructions
    stops need it; without it the first such stop turns it on, which it
    can only do at the start or after a 'timeout' or 'instructions' stop).
    load() starts a program as init, run() runs it (to its end or to an
    event), the rest looks and listens.  A Machine is a context manager;
    close() ends what still runs."""

    def __init__(self, cores=DEFAULT_CORES, mem=DEFAULT_RAM_SIZE, va_bits=48, sysroot=None,
                 deterministic=False, root=False, net="loopback", count_instructions=False):
        if not 1 <= cores <= 8:
            raise ValueError("cores must be between 1 and 8")
        if va_bits not in (39, 48):
            raise ValueError("va_bits is 48 (4-level tables) or 39 (3-level)")
        if net not in ("none", "loopback", "host"):
            raise ValueError("net is 'none', 'loopback' or 'host'")
        self.trace = Tracer()
        # As the command's (issue 8): secondary cores get their engine when
        # they first run a task, a handler's module is imported at its first call.
        self.board = Board(ram_size=parse_mem(mem), cores=cores, va_bits=va_bits,
                           lazy_cores=True)
        self.kernel = Kernel(self.board, sysroot=sysroot, trace=self.trace,
                             deterministic=deterministic, root=root, lazy_syscalls=True)
        self.kernel.net_mode = net
        self._turns = _Turns(self)
        self.kernel.sched.debugger = self._turns
        self._views = {}
        self._subscribers = []          # [(classes, callback)]
        self._stop_classes = set()      # trace classes the current until= needs
        self._fault_conds = []          # the Fault conditions of the current until=
        self._bus_on = False
        self._init = None
        self._files = []
        self._final = None              # (stdout, stderr) kept by close()
        self._thread = None
        self._cv = threading.Condition()
        self._turn = "user"
        self._stop = None
        self._done = False
        self._closed = False
        self._error = None
        self._counting = self.kernel.sched.counted      # --deterministic counts already
        if count_instructions:
            self._count_instructions()

    # -- loading ----------------------------------------------------------------

    def load(self, program, args=(), env=None, cwd=None, stdin=b"", capture=True, argv0=None):
        """Start `program` (a host path to an AArch64 ELF) as init, pid 1,
        with argv [argv0 or program, *args] and environment env (a dict;
        default empty, as `env -i`).  cwd: its working directory (default
        the caller's).  capture=True: stdin reads the bytes `stdin`, stdout
        and stderr go to files read by Machine.stdout/stderr; False: the
        host's own 0, 1 and 2.  Returns its Task; raises ExecError (status
        126 or 127, and a reason) when it cannot run."""
        if self._init is not None:
            raise RuntimeError("this machine already runs a program (one per machine)")
        envp = ["%s=%s" % kv for kv in (env or {}).items()]
        stdio = (0, 1, 2)
        if capture:
            files = [tempfile.TemporaryFile() for _ in range(3)]
            files[0].write(stdin or b"")
            files[0].seek(0)
            self._files = files
            stdio = tuple(f.fileno() for f in files)
        argv = [argv0 if argv0 is not None else program] + [str(a) for a in args]
        try:
            task = self.kernel.exec_init(program, argv, envp, cwd=cwd, stdio=stdio)
        except BaseException:
            for f in self._files:           # a load that failed holds nothing
                f.close()
            self._files = []
            raise
        self._init = task
        return self.task_of(task)

    def _captured(self, fd):
        if self._final is not None:
            return self._final[fd - 1]
        if not self._files:
            raise RuntimeError("output is captured only with load(capture=True)")
        fd = self._files[fd].fileno()
        # pread: the guest shares the file offset, which must not move.
        return os.pread(fd, os.fstat(fd).st_size, 0)

    @property
    def stdout(self):
        """What the program (and its children) wrote to fd 1 so far, bytes."""
        return self._captured(1)

    @property
    def stderr(self):
        return self._captured(2)

    # -- running ----------------------------------------------------------------

    def run(self, until=None, timeout=None):
        """Run until one of `until` (a Syscall, Fault, Exit or Instructions
        condition, or a list of them) happens, `timeout` seconds of wall
        time pass, or the program ends.  Returns a Stop.  Raises HookError
        when a hook or subscriber raised."""
        if self._init is None:
            raise RuntimeError("load() a program first")
        self._not_from_inside("run")
        if self._closed:
            raise RuntimeError("this machine is closed")
        if self._done:
            return Stop("finished", self.task_of(self._init))
        conds = [] if until is None else list(until) if isinstance(until, (list, tuple)) \
            else [until]
        undo = self._arm(conds)
        try:
            stop = self._resume(timeout)
        finally:
            undo()
        if stop.kind == "error":
            err, self._error = self._error, None
            if self._done:
                raise err                   # the kernel itself failed: its own exception
            raise HookError("%s: %s" % (type(err).__name__, err)) from err
        return stop

    def _not_from_inside(self, what):
        if threading.current_thread() is self._thread:
            raise RuntimeError("%s() from a hook or a subscriber: they run inside the "
                               "board's run; stop it with until= instead" % what)

    def _resume(self, timeout):
        with self._cv:
            self._stop = None
            self._turn = "kernel"
            if self._thread is None:
                self._thread = threading.Thread(target=self._main, name="a53emu-kernel",
                                                daemon=True)
                self._thread.start()
            else:
                self._cv.notify_all()
            deadline = None if timeout is None else time.monotonic() + timeout
            try:
                while self._turn != "user":
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        self._request_pause()
                        deadline = None
                        continue
                    self._cv.wait(left)
            except KeyboardInterrupt:
                # Ctrl-C: the board must not run on behind the caller's back.
                self._request_pause()
                while self._turn != "user":
                    self._cv.wait()
                self._turns.pause_requested = False
                raise
            self._turns.pause_requested = False
            return self._stop

    def _request_pause(self):
        """Ask the kernel thread to stop at its next slice boundary: end the
        running slice, wake an idle scheduler."""
        self._turns.pause_requested = True
        core = self.kernel.sched.running_core
        if core is not None:
            core.preempt()
        self._turns.wake()

    def _main(self):
        """The kernel thread: the whole run, paused at each event."""
        with self._cv:
            while self._turn != "kernel":
                self._cv.wait()
        try:
            self.kernel.run(self._init)
            stop = Stop("finished", self.task_of(self._init))
        except BaseException as e:          # a kernel bug: the caller sees it
            self._error = e
            stop = Stop("error")
        with self._cv:
            self._done = True
            self._stop = stop
            self._turn = "user"
            self._cv.notify_all()

    def _pause(self, stop):
        """In the kernel thread: give the turn to the caller and wait for it
        to come back (run() again, or close()).  Stopped inside a slice, the
        task on that core is not charged the time stopped (the scheduler's
        frozen; the CPU clocks' run_start moves on by as much)."""
        sched = self.kernel.sched
        core = sched.running_core
        t0 = time.monotonic()
        with self._cv:
            self._stop = stop
            self._turn = "user"
            self._cv.notify_all()
            while self._turn != "kernel":
                self._cv.wait()
        if core is not None and not sched.deterministic:
            stood = time.monotonic() - t0
            sched.frozen += stood
            task = core.current
            if task is not None and task.run_start is not None:
                task.run_start += stood

    def _guard(self, fn):
        """fn, called from the kernel thread: an exception stops the run
        (HookError in the caller) instead of killing the guest."""
        def guarded(*args):
            try:
                return fn(*args)
            except Exception as e:
                self._error = e
                self._pause(Stop("error"))
        return guarded

    def _arm(self, conds):
        """Install what the conditions need for one run(); returns the undo
        (or, when one cannot be installed, undoes the others and raises)."""
        for cond in conds:
            if not isinstance(cond, (Syscall, Fault, Exit, Instructions)):
                raise TypeError("until= takes Syscall, Fault, Exit or Instructions, not %r"
                                % (cond,))
        undo = []
        try:
            self._arm_each(conds, undo)
        except BaseException:
            for fn in undo:
                fn()
            raise
        self._fault_conds = [c for c in conds if isinstance(c, Fault)]
        self._update_bus()

        def undo_all():
            for fn in undo:
                fn()
            self._fault_conds = []
            self._update_bus()
        return undo_all

    def _arm_each(self, conds, undo):
        for cond in conds:
            if isinstance(cond, Syscall):
                undo.append(self._arm_syscall(cond))
            elif isinstance(cond, Fault):
                self._stop_classes.add("fault")
                undo.append(lambda: self._stop_classes.discard("fault"))
            elif isinstance(cond, Exit):
                undo.append(self._arm_exit(cond))
            elif isinstance(cond, Instructions):
                self._count_instructions()
                self._turns.insn_target = self.instructions + cond.n
                for core in self.board.cores:
                    if core.running:        # frozen in a run whose count is not capped:
                        core.preempt()      # end it at the next block, count from there
                self._turns._insn_cond = cond
                undo.append(lambda: setattr(self._turns, "insn_target", None))

    def _count_instructions(self):
        """Turn on the cores' instruction counters (cpu.py count_instructions),
        which takes a run of its own on each core: not possible while one is
        frozen inside a run (a stop in a system call, a fault, an exit)."""
        if self._counting:
            return
        if any(c.running for c in self.board.cores):
            raise RuntimeError("the cores cannot start counting instructions while stopped "
                               "inside a run: use Machine(count_instructions=True)")
        if not all(c.count_instructions() for c in self.board.cores):
            raise RuntimeError("this Unicorn cannot count instructions")
        self._counting = True

    def _arm_syscall(self, cond):
        def stop(call):
            if cond.pid is None or call.task.pid == cond.pid:
                kind = "syscall" if cond.phase == "enter" else "syscall-exit"
                self._pause(Stop(kind, self.task_of(call.task), Call(self, call), cond))
        hook = {cond.phase: stop}
        handle = add_hook(self.kernel.syscalls, cond.which, priority=-1, **hook)
        return lambda: remove_hook(self.kernel.syscalls, handle)

    def _arm_exit(self, cond):
        def on_exit(task):
            target = self._init.tgid if cond.pid is None else cond.pid
            if task.pid == target:
                self._pause(Stop("exit", self.task_of(task), condition=cond))
        self.kernel.exit_hooks.append(on_exit)
        return lambda: self.kernel.exit_hooks.remove(on_exit)

    # -- hooks and events ---------------------------------------------------------

    def hook(self, syscall, enter=None, exit=None, _priority=0):
        """Hook a system call (name, number, or ALL): enter(call) runs on
        entry, exit(call) on exit, each with a Call (see docs/api.md for
        the order of several hooks).  Returns a Handle; .remove() unhooks."""
        table = self.kernel.syscalls

        def wrap(fn):
            if fn is None:
                return None
            if not callable(fn):
                raise TypeError("a hook must be callable, not %r" % (fn,))

            def checked(call):
                before = list(call.args)
                fn(Call(self, call))
                if len(call.args) != len(before):
                    call.args[:] = before
                    raise ValueError("a hook of %s changed the number of arguments "
                                     "(there are always six: x0-x5)" % call.name)
            return self._guard(checked)
        handle = add_hook(table, syscall, enter=wrap(enter), exit=wrap(exit),
                          priority=_priority)
        return Handle(lambda: remove_hook(table, handle))

    def subscribe(self, callback, classes=("syscall", "fault", "vma")):
        """callback(Event) for every event of these trace classes (syscall,
        fault, vma, pte, tlb, sched, or 'all'), as the kernel emits it.
        Returns a Handle; .remove() unsubscribes."""
        if isinstance(classes, str):
            classes = classes.split(",")
        classes = set(classes)
        if "all" in classes:
            classes = None                  # every event, of any kind the kernel adds
        else:
            bad = classes - set(EVENT_CLASSES)
            if bad:
                raise ValueError("unknown trace class %s (choose from %s, or all)" % (
                    ", ".join(sorted(bad)), ", ".join(EVENT_CLASSES)))
        entry = (classes, self._guard(callback))
        self._subscribers.append(entry)
        self._update_bus()

        def remove():
            self._subscribers.remove(entry)
            self._update_bus()
        return Handle(remove)

    def _update_bus(self):
        """The trace classes on are those someone listens to: tracing costs
        nothing in the classes nobody asked for."""
        wanted = set(self._stop_classes)
        for classes, _ in self._subscribers:
            wanted |= set(EVENT_CLASSES) if classes is None else classes
        for cls in EVENT_CLASSES:
            setattr(self.trace, cls, cls in wanted)
        if wanted and not self._bus_on:
            self.trace.subscribe(self._dispatch)
            self._bus_on = True

    def _dispatch(self, kind, fields):
        """The API's one sink on the bus: fault stops, then subscribers."""
        cls = event_class(kind)
        if kind == "fault" and self._fault_conds:
            for cond in self._fault_conds:
                if cond.matches(fields["addr"]):
                    core = self.kernel.sched.running_core
                    task = self.task_of(core.current) if core is not None else None
                    self._pause(Stop("fault", task, condition=cond, addr=fields["addr"],
                                     pc=fields["pc"], esr=fields["esr"],
                                     result=fields["result"]))
                    break
        if self._subscribers:
            event = None
            for classes, callback in list(self._subscribers):
                if classes is None or cls in classes:
                    if event is None:
                        event = Event(kind, fields)
                    callback(event)

    # -- looking ------------------------------------------------------------------

    def task_of(self, task):
        """The Task view of a kernel task (one view per task)."""
        view = self._views.get(task)
        if view is None:
            view = self._views[task] = Task(self, task)
        return view

    @property
    def init(self):
        """The program's first task (pid 1), or None before load()."""
        return self.task_of(self._init) if self._init is not None else None

    @property
    def tasks(self):
        """Every task the kernel knows now (threads included), by pid."""
        return [self.task_of(t) for _, t in sorted(self.kernel.tasks.items())]

    def task(self, pid):
        t = self.kernel.tasks.get(pid)
        if t is None:
            raise KeyError("no task %d" % pid)
        return self.task_of(t)

    @property
    def done(self):
        """True once the program has ended (run() returned 'finished')."""
        return self._done

    @property
    def exit_status(self):
        """The shell's $? of the program (128 + signal if killed), once done."""
        return exit_status(self._init) if self._done else None

    @property
    def wait_status(self):
        return self._init.exit_code if self._done else None

    @property
    def instructions(self):
        """Guest instructions executed so far, all cores (0 unless counted:
        see Instructions)."""
        return sum(c.insns_so_far for c in self.board.cores)

    def read_phys(self, pa, length):
        """Bytes of the board's RAM at physical address pa."""
        mem = self.kernel.memory
        if not (mem.base <= pa and pa + length <= mem.end):
            raise ValueError("[%#x, %#x) is not in the board's RAM" % (pa, pa + length))
        return mem.read(pa, length)

    def frame(self, pa):
        """The Frame holding physical address pa."""
        return Frame(self.kernel, pa)

    @property
    def free_frames(self):
        return self.kernel.pages.nr_free

    @property
    def log(self):
        """The kernel log (printk lines), oldest first."""
        return list(self.kernel.log)

    # -- the end -------------------------------------------------------------------

    def close(self):
        """Kill what still runs, let the board finish, free its host files."""
        if self._closed:
            return
        self._not_from_inside("close")
        if self._init is not None and not self._done:
            from kernel.signal import kill_info, send_signal
            from kernel.uapi import SIGKILL
            for t in list(self.kernel.tasks.values()):
                if t is t.group_leader and t.exit_state is None:
                    send_signal(t, kill_info(t, SIGKILL), group=True)
            for handle in list(self.kernel.syscalls.hooks.handles
                               if self.kernel.syscalls.hooks else ()):
                remove_hook(self.kernel.syscalls, handle)
            self._subscribers.clear()
            self._stop_classes.clear()
            self._fault_conds = []
            self._update_bus()
            while not self._done:
                self._resume(None)
        elif self._init is None:
            self.kernel.ipc_ns.shutdown()
        self._closed = True
        self._turns.close()
        if self._files:             # what it wrote stays readable after close()
            self._final = (self._captured(1), self._captured(2))
        for f in self._files:
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
