"""`a53emu`: the front door.  Composes a Board (emu/) and a Kernel (kernel/),
runs one program, and reports how it ended the way a shell would.

    a53emu run [options] PROGRAM [ARGS...]
"""

import argparse
import contextlib
import os
import signal
import sys
import threading
import traceback

from emu.board import DEFAULT_CORES, Board
from emu.memory import DEFAULT_RAM_SIZE

EXIT_INTERNAL = 134


def parse_size(text):
    """'512M', '1G', '65536' -> bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().rstrip("B").rstrip("I")
    mult = units.get(t[-1:], 1)
    if t[-1:] in units:
        t = t[:-1]
    try:
        value = int(t, 0) * mult
    except ValueError:
        raise argparse.ArgumentTypeError("not a size: %r (try 512M or 1G)" % text)
    if value < 4 << 20 or value % 4096 or value > 64 << 30:
        raise argparse.ArgumentTypeError("RAM must be a multiple of 4 KiB between 4 MiB and 64 GiB")
    return value


def build_parser():
    p = argparse.ArgumentParser(
        prog="a53emu",
        description="Run a static AArch64 Linux program on an emulated dual Cortex-A53 board "
                    "with a Linux-like mini-kernel.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run PROGRAM [ARGS...]",
                       description="Run an AArch64 Linux ELF program.")
    r.add_argument("--mem", type=parse_size, default=DEFAULT_RAM_SIZE,
                   help="board RAM (default 512M)")
    r.add_argument("--cores", type=int, default=DEFAULT_CORES, help="number of cores (default 2)")
    r.add_argument("--va-bits", type=int, choices=(39, 48), default=48,
                   help="user virtual address bits: 48 (4-level tables) or 39 (3-level)")
    r.add_argument("-L", "--sysroot", metavar="DIR",
                   help="resolve absolute paths inside DIR first (like qemu -L)")
    r.add_argument("-E", dest="setenv", action="append", default=[], metavar="VAR=VALUE",
                   help="set VAR in the program's environment")
    r.add_argument("-U", dest="unsetenv", action="append", default=[], metavar="VAR",
                   help="remove VAR from the program's environment")
    r.add_argument("--trace", default="", metavar="CLASSES",
                   help="comma-separated: syscall, fault, vma, pte, tlb, sched, or all")
    r.add_argument("--trace-file", metavar="FILE", help="write traces here instead of stderr")
    r.add_argument("--maps", action="store_true",
                   help="print the program's final /proc/self/maps when it exits")
    r.add_argument("--deterministic", action="store_true",
                   help="switch tasks every fixed number of instructions (not on a timer), "
                        "so runs are repeatable")
    r.add_argument("--stats", action="store_true",
                   help="print counters at exit, perf stat style (instructions per core, "
                        "context switches, page faults, system calls); counting "
                        "instructions slows compute-bound programs about 2x")
    r.add_argument("--gdb", type=int, metavar="PORT",
                   help="wait for gdb on 127.0.0.1:PORT (0: any free port) with the program "
                        "stopped at its first instruction")
    r.add_argument("--root", action="store_true",
                   help="run the guest as root (uid/gid 0, every capability) in the guest "
                        "kernel's view; the host process keeps its own rights")
    r.add_argument("--net", choices=("none", "loopback", "host"), default="loopback",
                   help="AF_INET/AF_INET6: none (no IP), loopback (only lo, the default) "
                        "or host (the host's network)")
    r.add_argument("--debug", action="store_true", help="show Python tracebacks of internal errors")
    r.add_argument("program", help="the AArch64 ELF to run")
    r.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    w = sub.add_parser(
        "walk", parents=[r], add_help=False,
        usage="a53emu walk [run options] --at exit|syscall:N PROGRAM [ARGS...] -- ADDR...",
        help="show the MMU's walk of addresses at a moment of a run",
        description="Run PROGRAM until the moment given by --at, then show, for each "
                    "ADDR, the table walk through the task's translation tables, its VMA "
                    "and what a read, a write and an instruction fetch would do.  The "
                    "program is stopped there.")
    w.add_argument("--at", required=True, type=parse_moment, metavar="exit|syscall:N",
                   help="when: as the program exits, or on entry to the Nth system call "
                        "(counted over all tasks, from 1)")
    return p


def parse_moment(text):
    """'exit' -> ('exit', 0); 'syscall:N' -> ('syscall', N) with N >= 1."""
    if text == "exit":
        return "exit", 0
    kind, _, n = text.partition(":")
    if kind == "syscall" and n.isdigit() and int(n) >= 1:
        return "syscall", int(n)
    raise argparse.ArgumentTypeError("%r: expected exit or syscall:N (N >= 1)" % text)


def split_walk_args(parser, argv):
    """argv without the addresses after its last '--', and the addresses
    (argparse would drop the '--' itself from PROGRAM's arguments)."""
    if "--" not in argv:
        parser.error("walk: give the addresses after --, e.g. -- 0x400000")
    cut = len(argv) - 1 - argv[::-1].index("--")
    addrs = []
    for text in argv[cut + 1:]:
        try:
            addr = int(text, 0)
        except ValueError:
            addr = -1
        if not 0 <= addr < 1 << 64:
            parser.error("walk: %r is not an address (e.g. 0x400000)" % text)
        addrs.append(addr)
    if not addrs:
        parser.error("walk: give at least one address after --")
    return argv[:cut], addrs


def guest_environment(setenv, unsetenv):
    env = dict(os.environ)
    for item in setenv:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit("a53emu: -E wants VAR=VALUE, got %r" % item)
        env[name] = value
    for name in unsetenv:
        env.pop(name, None)
    return ["%s=%s" % kv for kv in env.items()]


def symbolize(path, pc, load_bias):
    """'<func+0x14>' for pc if the ELF has a symbol table, else ''."""
    from elftools.elf.elffile import ELFFile
    try:
        with open(path, "rb") as f:
            symtab = ELFFile(f).get_section_by_name(".symtab")
            if symtab is None:
                return ""
            target = pc - load_bias
            for sym in symtab.iter_symbols():
                if sym["st_info"]["type"] == "STT_FUNC" and \
                        sym["st_value"] <= target < sym["st_value"] + max(sym["st_size"], 1):
                    off = target - sym["st_value"]
                    return " <%s+%#x>" % (sym.name, off) if off else " <%s>" % sym.name
    except Exception:       # a symbol is a courtesy; never fail the report for it
        return ""
    return ""


def describe_death(task, program):
    """The one line printed when the program dies of a signal."""
    from kernel.uapi import (
        BUS_ADRERR, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP,
    )
    d = task.death
    where = ""
    if d.pc is not None:
        where = " at pc %#x%s" % (d.pc, symbolize(program, d.pc, task.mm.load_bias))
    if d.internal:
        return "a53emu: %s: %s%s" % (d.title, d.reason, where)
    if d.sig in (SIGSEGV, SIGBUS):
        code = {SEGV_MAPERR: "SEGV_MAPERR: no mapping", SEGV_ACCERR: "SEGV_ACCERR: not permitted",
                BUS_ADRERR: "BUS_ADRERR: past the end of the file"}.get(d.code, "")
        at = " at address %#x" % d.addr if d.addr is not None else ""
        return "a53emu: %s: %s (%s) on %s%s%s%s" % (
            program, "Segmentation fault" if d.sig == SIGSEGV else "Bus error", code,
            d.reason or "access", at, where, core_dumped(task))
    text = "a53emu: %s: killed by %s" % (program, d.name)
    if d.reason:
        text += ": " + d.reason
    if d.sig in (SIGILL, SIGFPE, SIGTRAP):     # the instruction itself was the cause
        text += where
    return text + core_dumped(task)


def core_dumped(task):
    """' (core dumped)' when the wait status has WCOREDUMP, as shells say."""
    from kernel.coredump import WCOREFLAG
    return " (core dumped)" if task.exit_code & WCOREFLAG else ""


@contextlib.contextmanager
def forward_sigint(kernel):
    """Ctrl-C on the host becomes SIGINT for the guest's foreground process
    group, as a terminal's line discipline would send it.  Python runs
    signal handlers only between bytecodes, so the scheduler's tick watches
    the wake-up fd and stops the running core to let the handler in."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    old_handler = signal.signal(signal.SIGINT, lambda signum, frame: kernel.host_interrupt())
    old_fd = signal.set_wakeup_fd(w)
    kernel.sched.wakeup_fd = r
    try:
        yield
    finally:
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGINT, old_handler)
        kernel.sched.wakeup_fd = None
        os.close(r)
        os.close(w)


def cmd_run(opts):
    from kernel.binfmt_elf import ExecError
    from kernel.fs.proc import proc_pid_maps
    from kernel.main import Kernel, exit_status
    from kernel.stats import RunStats
    from kernel.syscalls.strace import StracePrinter
    from kernel.trace import EVENT_CLASSES, MmPrinter, Tracer

    if opts.cores < 1 or opts.cores > 8:
        print("a53emu: --cores must be between 1 and 8", file=sys.stderr)
        return 2
    trace = Tracer()
    classes = [c for c in opts.trace.split(",") if c]
    if "all" in classes:
        classes = list(EVENT_CLASSES)
    try:
        trace.enable(classes)
    except ValueError as e:
        print("a53emu: %s" % e, file=sys.stderr)
        return 2
    out = sys.stderr
    if opts.trace_file:
        try:
            out = open(opts.trace_file, "w", buffering=1)
        except OSError as e:
            print("a53emu: %s: %s" % (opts.trace_file, e.strerror), file=sys.stderr)
            return 2
    if trace.syscall:
        trace.subscribe(StracePrinter(out))
    if any(getattr(trace, c) for c in ("fault", "vma", "pte", "tlb", "sched")):
        trace.subscribe(MmPrinter(out))

    if opts.gdb is not None and not 0 <= opts.gdb < 65536:
        print("a53emu: --gdb wants a TCP port (0-65535)", file=sys.stderr)
        return 2
    board = Board(ram_size=opts.mem, cores=opts.cores, va_bits=opts.va_bits,
                  precise_stops=opts.gdb is None)
    kernel = Kernel(board, sysroot=opts.sysroot, trace=trace, deterministic=opts.deterministic,
                    root=opts.root)
    walk = getattr(opts, "walk", None)
    if walk is not None:
        install_walk(kernel, walk)
    stats = RunStats(kernel) if opts.stats else None
    kernel.net_mode = opts.net          # read by kernel/net/socket.py's NetNamespace
    if opts.maps:
        kernel.exit_hooks.append(
            lambda task: task is kernel.init_task and out.write(proc_pid_maps(task.mm)))
    envp = guest_environment(opts.setenv, opts.unsetenv)
    try:
        task = kernel.exec_init(opts.program, [opts.program] + opts.args, envp)
    except ExecError as e:
        print("a53emu: %s: %s" % (opts.program, e.reason), file=sys.stderr)
        return e.status
    if opts.gdb is not None:
        from kernel.debug.gdbstub import GdbStub
        try:
            stub = GdbStub(kernel, opts.gdb, os.path.abspath(opts.program))
        except OSError as e:
            print("a53emu: --gdb %d: %s" % (opts.gdb, e.strerror), file=sys.stderr)
            return 2
        print("a53emu: waiting for gdb on 127.0.0.1:%d (target remote :%d)" % (
            stub.port, stub.port), file=sys.stderr, flush=True)
        stub.wait_for_gdb(task)
        kernel.sched.debugger = stub
    with forward_sigint(kernel):
        kernel.run(task)
    if opts.gdb is not None:
        stub.program_exited(task.exit_code)
    if stats is not None:
        out.write(stats.format(opts.program))
    out.flush()
    if walk is not None and walk.done and walk.kind != "exit":
        return 0        # the board was stopped after the walk: no death to report
    if task.death is not None:
        if opts.debug and task.death.traceback:
            sys.stderr.write(task.death.traceback)
        print(describe_death(task, opts.program), file=sys.stderr)
        if task.death.internal:
            return EXIT_INTERNAL
    if report_internal_errors(kernel, task, opts.debug):
        return EXIT_INTERNAL
    if walk is not None:
        return walk.status()
    return exit_status(task)


def report_internal_errors(kernel, init, debug=False):
    """One line for each internal error of a process other than init (init's
    own is its death line), after its traceback under --debug: a kernel bug
    in a forked child ends that child with SIGABRT, and the run's status
    says the board failed."""
    others = [e for e in kernel.internal_errors if e[0] != init.tgid]
    for pid, comm, death in others:
        if debug and death.traceback:
            sys.stderr.write(death.traceback)
        print("a53emu: internal error in process %d (%s): %s" % (pid, comm, death.reason),
              file=sys.stderr)
    return bool(others)


class WalkRequest:
    """`a53emu walk`: the moment, the addresses, and whether it was reached."""

    def __init__(self, moment, addrs):
        self.kind, self.n = moment
        self.addrs = addrs
        self.done = False
        self.calls = 0

    def status(self):
        if self.done:
            return 0
        print("a53emu: walk: the program ended after %d system calls, before %s" % (
            self.calls, "syscall:%d" % self.n), file=sys.stderr)
        return 1


def install_walk(kernel, walk):
    """Print the walks at the moment asked for; then stop the board."""
    from kernel.signal import kill_info, send_signal
    from kernel.uapi import SIGKILL
    from kernel.walk import describe_walk

    def show(task, where):
        print("walk %s:" % where)
        for addr in walk.addrs:
            print("\n".join(describe_walk(kernel, task, addr)))
        sys.stdout.flush()
        walk.done = True

    if walk.kind == "exit":
        kernel.exit_hooks.append(
            lambda task: task is kernel.init_task and not walk.done and show(task, "at exit"))
        return

    def on_enter(task, nr):
        walk.calls += 1
        if walk.calls == walk.n and not walk.done:
            from kernel.syscalls.table import syscall_name
            show(task, "on entry to system call %d (%s)" % (walk.n, syscall_name(nr)))
            for t in list(kernel.tasks.values()):
                if t is t.group_leader and t.exit_state is None:
                    send_signal(t, kill_info(t, SIGKILL), group=True)
    kernel.syscalls.on_enter = on_enter


def main(argv=None):
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    addrs = None
    if argv[:1] == ["walk"]:
        argv, addrs = split_walk_args(parser, argv)
    opts = parser.parse_args(argv)
    if addrs is not None:
        opts.walk = WalkRequest(opts.at, addrs)
    try:
        return cmd_run(opts)
    except KeyboardInterrupt:
        return 130
    except Exception as e:                     # a kernel bug: one line, no traceback
        if opts.debug:
            traceback.print_exc()
        print("a53emu: internal error: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
