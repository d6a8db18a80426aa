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
import time

from emu import _exit_on_sigint
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


class HelpFormatter(argparse.HelpFormatter):
    """argparse's HelpFormatter, measuring the terminal only when it formats
    help or usage: add_argument() makes one for every argument just to check
    its metavar, and the measure (shutil, which imports zlib, bz2 and lzma)
    costs every start ~3 ms (issue 8).  The width and help position are
    then argparse's own (a HelpFormatter made with the same arguments)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position,
                         width=0 if width is None else width)
        if width is None:
            self._asked_help_position = max_help_position
            del self._width, self._max_help_position

    def __getattr__(self, name):
        if name not in ("_width", "_max_help_position"):
            raise AttributeError(name)
        measured = argparse.HelpFormatter(self._prog, self._indent_increment,
                                          self._asked_help_position)
        self._width, self._max_help_position = measured._width, measured._max_help_position
        return getattr(self, name)


class OneLineErrors(argparse.ArgumentParser):
    """A bad option is one line on stderr (issue 7, "Bad input"), not
    argparse's usage of every option of `run` before it; -h shows that."""

    def error(self, message):
        self.exit(2, "%s: %s (%s -h for the options)\n" % (self.prog, message, self.prog))


def untranslated_argparse():
    """argparse looks each of its messages up in gettext's catalog for the
    current domain, at every call: ~20 lookups building this parser, each
    a search of the locale directories (~2.2 ms of every start of ~95,
    issue 8).  When that domain has no catalog, every lookup returns the
    message itself, so argparse's lookup is made the identity once, which
    answers the same."""
    import gettext
    if gettext.find(gettext.textdomain()) is None:
        argparse._ = str


def build_parser():
    untranslated_argparse()
    p = OneLineErrors(
        prog="a53emu", formatter_class=HelpFormatter,
        description="Run a static AArch64 Linux program on an emulated dual Cortex-A53 board "
                    "with a Linux-like mini-kernel.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run PROGRAM [ARGS...]", formatter_class=HelpFormatter,
                       description="Run an AArch64 Linux ELF program.")
    r.add_argument("--mem", type=parse_size, default=DEFAULT_RAM_SIZE,
                   help="board RAM (default 512M)")
    r.add_argument("--cores", type=int, default=DEFAULT_CORES, help="number of cores (default 2)")
    r.add_argument("--va-bits", type=int, choices=(39, 48), default=48,
                   help="user virtual address bits: 48 (4-level tables) or 39 (3-level)")
    r.add_argument("-L", "--sysroot", metavar="DIR",
                   help="resolve absolute paths inside DIR first (like qemu -L)")
    r.add_argument("--jail", metavar="DIR",
                   help="confine the guest's file system to DIR, as after chroot(DIR): "
                        "/proc, /sys and /dev/shm are the board's own (see README)")
    r.add_argument("-E", dest="setenv", action="append", default=[], metavar="VAR=VALUE",
                   help="set VAR in the program's environment")
    r.add_argument("-U", dest="unsetenv", action="append", default=[], metavar="VAR",
                   help="remove VAR from the program's environment")
    r.add_argument("--trace", default="", metavar="CLASSES",
                   help="comma-separated: syscall, fault, vma, pte, tlb, sched, or all; "
                        "kmem (frames allocated and freed) and call (call graphs of the "
                        "mm system calls and faults) only when named")
    r.add_argument("--trace-file", metavar="FILE", help="write traces here instead of stderr")
    # -- issue 7 parts 2 and 4 (kernel/trace_formats.py, kernel/callgraph.py) --
    r.add_argument("--trace-format", choices=("text", "json", "chrome", "ftrace"),
                   default="text",
                   help="text (strace-like, the default), json (an event a line), chrome "
                        "(Trace Event JSON for Perfetto / chrome://tracing) or ftrace "
                        "(trace_pipe lines with Linux's tracepoint names); without --trace "
                        "the machine formats trace all classes (add kmem for frames)")
    r.add_argument("--callgraph", metavar="CALLS", type=parse_callgraph,
                   help="comma-separated system call names and/or 'fault': print the tree "
                        "of kernel functions each of them ran, with arguments and results")
    r.add_argument("--callgraph-dot", metavar="FILE",
                   help="also write those trees as one Graphviz DOT file")
    from kernel.callgraph import DEFAULT_DEPTH
    r.add_argument("--callgraph-depth", metavar="N", type=int, default=DEFAULT_DEPTH,
                   help="deepest call level recorded below el0_svc or do_mem_abort "
                        "(default %(default)s); the calls left out are counted")
    # Issue 7 part 4: strace's own options for the syscall trace (any of them
    # turns it on); kernel/syscalls/strace_opts.py says what each does.
    r.add_argument("-e", dest="strace_exprs", action="append", default=[],
                   metavar="trace=SET|signal=SET",
                   help="strace -e: the calls shown (names, %%file, %%desc, %%memory, "
                        "%%process, %%signal, %%network, %%ipc, ..., !negation) and the "
                        "signals shown")
    r.add_argument("-f", dest="strace_follow", action="count", default=0,
                   help="strace -f: trace every task, [pid N] once there are several "
                        "(-ff with -o: a file per task)")
    r.add_argument("-y", dest="strace_fd_paths", action="count", default=0,
                   help="strace -y: print descriptors with their paths, 3</tmp/f> "
                        "(-yy: sockets with their endpoints too)")
    r.add_argument("-T", dest="strace_timing", action="store_true",
                   help="strace -T: the time spent in each call")
    r.add_argument("-c", dest="strace_summary", action="store_true",
                   help="strace -c: a table of calls, errors and times at exit, no lines")
    r.add_argument("-s", dest="strace_strsize", metavar="N",
                   help="strace -s: cut strings after N bytes (default 32)")
    r.add_argument("-a", dest="strace_column", metavar="COLUMN",
                   help="strace -a: align results at COLUMN (strace's default is 40, "
                        "a53emu's 0)")
    # strace's other output options (kernel/syscalls/strace_opts.py)
    r.add_argument("-v", dest="strace_verbose", action="store_true",
                   help="strace -v: structures unabbreviated")
    r.add_argument("-o", dest="strace_output", metavar="FILE",
                   help="strace -o: the syscall trace to FILE (with -ff: FILE.PID)")
    r.add_argument("-p", dest="strace_pids", action="append", default=[], metavar="PID",
                   help="strace -p: trace only these guest pids (with -f their children)")
    r.add_argument("-C", dest="strace_summary_too", action="store_true",
                   help="strace -C: the lines and -c's table")
    r.add_argument("-r", dest="strace_relative", action="store_true",
                   help="strace -r: the time since the previous line before each")
    r.add_argument("-t", dest="strace_timestamps", action="count", default=0,
                   help="strace -t/-tt/-ttt: the time of day before each line")
    r.add_argument("-q", dest="strace_quiet", action="count", default=0,
                   help="strace -q/-qq: -qq leaves out the +++ exit lines")
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
    # -- the run report (kernel/report/) --
    r.add_argument("--report", metavar="FILE",
                   help="write an HTML report of the run (layout, VMAs over time, structures, "
                        "faults) to FILE")
    r.add_argument("--snapshot-at", action="append", metavar="syscall:N|fault:N|exit",
                   help="with --report: draw mm_struct, the VMA rbtree and the page tables at "
                        "this moment (repeatable; default exit)")
    r.add_argument("--report-limit", default="1000", metavar="N",
                   help="with --report: items of each kind drawn one by one before the rest "
                        "is summarised with counts (default 1000)")
    r.add_argument("program", help="the AArch64 ELF to run")
    r.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    w = sub.add_parser(
        "walk", parents=[r], add_help=False, formatter_class=HelpFormatter,
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


def parse_callgraph(text):
    """'brk,mmap,fault' -> a set of names, checked against the syscall table."""
    from kernel.callgraph import parse_targets
    try:
        return parse_targets(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def parse_moment(text):
    """'exit' -> ('exit', 0); 'syscall:N' -> ('syscall', N) with N >= 1."""
    if text == "exit":
        return "exit", 0
    kind, _, n = text.partition(":")
    if kind == "syscall" and n.isdigit() and int(n) >= 1:
        return "syscall", int(n)
    raise argparse.ArgumentTypeError("%r: expected exit or syscall:N (N >= 1)" % text)


def walk_error(parser, message):
    """An error in walk's addresses, worded as argparse's walk subparser
    words its own: `a53emu walk: ... (a53emu walk -h for the options)`."""
    prog = parser.prog + " walk"
    parser.exit(2, "%s: %s (%s -h for the options)\n" % (prog, message, prog))


def split_walk_args(parser, argv):
    """argv without the addresses after its last '--', and the addresses
    (argparse would drop the '--' itself from PROGRAM's arguments)."""
    if "--" not in argv:
        walk_error(parser, "give the addresses after --, e.g. -- 0x400000")
    cut = len(argv) - 1 - argv[::-1].index("--")
    addrs = []
    for text in argv[cut + 1:]:
        try:
            addr = int(text, 0)
        except ValueError:
            addr = -1
        if not 0 <= addr < 1 << 64:
            walk_error(parser, "%r is not an address (e.g. 0x400000)" % text)
        addrs.append(addr)
    if not addrs:
        walk_error(parser, "give at least one address after --")
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


def describe_death(task, program, load_bias):
    """The one line printed when the program dies of a signal: the signal,
    its si_code by name (looked up per signal: SEGV_ACCERR and BUS_ADRERR
    are both 2), what happened, where."""
    from kernel.signal_codes import describe_si_code
    from kernel.uapi import SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP
    d = task.death
    where = ""
    # Symbolizing reads the ELF's symbol table: only for the deaths whose
    # line shows the pc (not for a terminal's SIGINT, which must be prompt).
    if d.pc is not None and (d.internal or d.sig in (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP)):
        where = " at pc %#x%s" % (d.pc, symbolize(program, d.pc, load_bias))
    if d.internal:
        return "a53emu: %s: %s%s" % (d.title, d.reason or "no reason given", where)
    code = describe_si_code(d.sig, d.code)
    if d.sig in (SIGSEGV, SIGBUS):
        at = " at address %#x" % d.addr if d.addr is not None else ""
        return "a53emu: %s: %s (%s) on %s%s%s%s" % (
            program, "Segmentation fault" if d.sig == SIGSEGV else "Bus error", code,
            d.reason or "an access", at, where, core_dumped(task))
    text = "a53emu: %s: killed by %s (%s)" % (program, d.name, code)
    if d.reason:
        text += ": " + d.reason
    if d.sig in (SIGILL, SIGFPE, SIGTRAP):     # the instruction itself was the cause
        text += where
    return text + core_dumped(task)


def core_dumped(task):
    """' (core dumped)' when the wait status has WCOREDUMP, as shells say."""
    from kernel.coredump import WCOREFLAG
    return " (core dumped)" if task.exit_code & WCOREFLAG else ""


# The signals a terminal sends its foreground job (Ctrl-C, Ctrl-\\, a hangup),
# and SIGTERM, the usual request to stop: all go to the guest.
TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM)


@contextlib.contextmanager
def forward_terminal_signals(kernel):
    """SIGINT, SIGQUIT, SIGHUP and SIGTERM to a53emu become the same signal
    for the guest's foreground process group, as a terminal's line
    discipline (or kill of the whole job) would send them: a handler runs if
    the guest has one, else the default action ends it.

    Python runs signal handlers only between bytecodes, and a guest busy
    loop keeps the main thread inside Unicorn.  The C-level handler writes
    to the wake-up fd at once; the scheduler's tick thread watches it and
    stops the running core (uc_emu_stop, safe from another thread), so the
    handler runs within a block of guest code; a sleeping board polls the
    same fd."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    old_handlers = {sig: signal.signal(sig, lambda signum, frame: kernel.host_interrupt(signum))
                    for sig in TERMINAL_SIGNALS}
    old_fd = signal.set_wakeup_fd(w)
    kernel.sched.wakeup_fd = r
    try:
        yield
    finally:
        signal.set_wakeup_fd(old_fd)
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
        kernel.sched.wakeup_fd = None
        os.close(r)
        os.close(w)




# -- the user's terminal, put back as it was (kernel/tty.py passes termios through) --

def save_host_terminal(fds=(0, 1, 2)):
    """Remember the state of each terminal among fds (termios, window size,
    TIOCEXCL, the file status flags) and put it back when a53emu exits, by
    whatever path: a guest that sets raw mode or O_NONBLOCK on its terminal
    and dies must not leave the user's shell broken.  Returns the number
    of terminals saved."""
    import atexit
    import fcntl
    import struct
    import termios
    from kernel.tty import TIOCGEXCL
    seen, saved = set(), []
    for fd in fds:
        try:
            if not os.isatty(fd):
                continue
            st = os.fstat(fd)
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            attrs = termios.tcgetattr(fd)
            winsize = fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(8))
            excl = struct.unpack("i", fcntl.ioctl(fd, TIOCGEXCL, bytes(4)))[0]
        except OSError:
            continue
        if (st.st_ino, flags & os.O_NONBLOCK) in seen:
            continue
        seen.add((st.st_ino, flags & os.O_NONBLOCK))
        saved.append((fd, flags, attrs, winsize, excl))
    if saved:
        atexit.register(restore_host_terminal, saved)
    return len(saved)


def restore_host_terminal(saved):
    """save_host_terminal()'s exit handler: what changed is set back, with
    SIGTTOU blocked (a53emu may be a background job by now)."""
    import fcntl
    import termios
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
    try:
        for fd, flags, attrs, winsize, excl in saved:
            try:
                if fcntl.fcntl(fd, fcntl.F_GETFL) != flags:
                    fcntl.fcntl(fd, fcntl.F_SETFL, flags)
                if termios.tcgetattr(fd) != attrs:
                    termios.tcsetattr(fd, termios.TCSANOW, attrs)
                if fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(8)) != winsize:
                    fcntl.ioctl(fd, termios.TIOCSWINSZ, winsize)
                if not excl:
                    fcntl.ioctl(fd, termios.TIOCNXCL)
            except OSError:
                pass                    # the terminal is gone (a hangup)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def exit_now(status):
    """Leave at once with status, as a process killed by a signal would:
    the report is out and the board has been shut down (its host files and
    directories removed by Kernel.run and the atexit handlers run here), so
    the interpreter's teardown of the board's RAM and cores (tens of ms
    under load) is skipped.  A stdout whose reader has gone is not an error
    of ours: the guest already got EPIPE/SIGPIPE for it."""
    import atexit
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass
    atexit._run_exitfuncs()
    os._exit(status)


def cmd_run(opts):
    from kernel.binfmt_elf import ExecError
    from kernel.main import Kernel, exit_status
    from kernel.stats import RunStats
    from kernel.trace import EVENT_CLASSES, MmPrinter, Tracer

    if opts.cores < 1 or opts.cores > 8:
        print("a53emu: --cores must be between 1 and 8", file=sys.stderr)
        return 2
    if opts.callgraph_depth < 0:
        print("a53emu: --callgraph-depth must be 0 or more", file=sys.stderr)
        return 2
    trace = Tracer()
    classes = [c for c in opts.trace.split(",") if c]
    if "call" in classes:       # call graphs (kernel/callgraph.py), not a bus class
        classes = [c for c in classes if c != "call"]
        if not opts.callgraph:
            from kernel.callgraph import DEFAULT_TARGETS
            opts.callgraph = frozenset(DEFAULT_TARGETS)
    if opts.trace_format != "text" and not classes:
        classes = ["all"]
    if "all" in classes:
        classes = list(EVENT_CLASSES) + [c for c in classes if c != "all"]
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
    strace_opts = strace_options(opts)
    if strace_opts is False:
        return 2
    if strace_opts is not None:
        trace.syscall = True            # a strace option asks for the syscall trace
    printer = None
    if trace.syscall and opts.trace_format == "text":
        from kernel.syscalls.strace import StracePrinter     # ~3 ms: only when tracing
        try:
            printer = StracePrinter(out, strace_opts)   # -o FILE: its own file
        except OSError as e:
            print("a53emu: %s: %s" % (strace_opts.output, e.strerror), file=sys.stderr)
            return 2
        trace.subscribe(printer)
    if any(getattr(trace, c) for c in ("fault", "vma", "pte", "tlb", "sched", "kmem")) \
            and opts.trace_format == "text":
        trace.subscribe(MmPrinter(out))

    from kernel.report import ReportRequest
    try:
        report = ReportRequest.from_options(opts)
        report_out = open(report.path, "w", encoding="utf-8") if report is not None else None
    except ValueError as e:
        print("a53emu: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("a53emu: %s: %s" % (opts.report, e.strerror), file=sys.stderr)
        return 2

    if opts.gdb is not None and not 0 <= opts.gdb < 65536:
        print("a53emu: --gdb wants a TCP port (0-65535)", file=sys.stderr)
        return 2
    board = Board(ram_size=opts.mem, cores=opts.cores, va_bits=opts.va_bits,
                  precise_stops=opts.gdb is None, lazy_cores=True)
    kernel = Kernel(board, sysroot=opts.sysroot, trace=trace, deterministic=opts.deterministic,
                    root=opts.root, lazy_syscalls=True)
    if getattr(opts, "jail", None) is not None:
        if opts.sysroot is not None:
            print("a53emu: --jail and -L/--sysroot exclude each other (put the libraries "
                  "in the jail)", file=sys.stderr)
            return 2
        try:
            kernel.set_jail(opts.jail)
        except OSError as e:
            print("a53emu: --jail %s: %s" % (opts.jail, e.strerror), file=sys.stderr)
            return 2
    walk = getattr(opts, "walk", None)
    if walk is not None:
        install_walk(kernel, walk)
    if report is not None:
        report.start(kernel)
    stats = RunStats(kernel) if opts.stats else None
    writer = callgraph = None
    # --maps and --stats reports go with a text trace, never into a json,
    # chrome or ftrace file (its readers would choke on them)
    summary_out = out if opts.trace_format == "text" else sys.stderr
    if opts.trace_format != "text":
        from kernel.trace_formats import attach
        writer = attach(kernel, opts.trace_format, out)
    dot_only = opts.callgraph_dot and not opts.callgraph
    if dot_only:                # --callgraph-dot alone: the default calls, drawn only
        from kernel.callgraph import DEFAULT_TARGETS
        opts.callgraph = frozenset(DEFAULT_TARGETS)
    if opts.callgraph:
        from kernel.callgraph import CallGraphs
        # text: the trees go with the trace; json and chrome: into it, as
        # events; ftrace: to stderr, so the trace stays lines of one shape
        callgraph = CallGraphs(kernel, opts.callgraph, depth=opts.callgraph_depth,
                               out=None if dot_only else
                               {"text": out, "ftrace": sys.stderr}.get(opts.trace_format),
                               bus=opts.trace_format in ("json", "chrome"))
        if report is not None:          # the trees go into the report, linked to the calls
            report.recorder.attach_callgraphs(callgraph)
            if "call" not in opts.trace.split(","):
                callgraph.out = None    # and, unless --trace call asks, only there
    kernel.net_mode = opts.net          # read by kernel/net/socket.py's NetNamespace
    if opts.maps:
        from kernel.fs.proc import proc_pid_maps     # only here: ~2 ms of a start (issue 8)
        kernel.exit_hooks.append(
            lambda task: task is kernel.init_task and summary_out.write(proc_pid_maps(task.mm)))
    # The death line symbolizes the pc with init's load bias, read while its
    # mm still exists (do_exit drops it after the exit hooks).
    init_load_bias = [0]

    def remember_load_bias(task):
        if task is kernel.init_task and task.mm is not None:
            init_load_bias[0] = task.mm.load_bias
    kernel.exit_hooks.append(remember_load_bias)
    envp = guest_environment(opts.setenv, opts.unsetenv)
    exec_start = time.perf_counter()
    try:
        task = kernel.exec_init(opts.program, [opts.program] + opts.args, envp)
    except ExecError as e:
        print("a53emu: %s: %s" % (opts.program, e.reason), file=sys.stderr)
        if report is not None:          # nothing ran: no report
            report_out.close()
            os.unlink(report.path)
        return e.status
    if printer is not None:
        printer.initial_execve(task, opts.program, time.perf_counter() - exec_start)
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
    if stats is not None and (out is not sys.stderr or not (classes or opts.callgraph)):
        # (traces written to stderr would tear the status line)
        stats.runtimes.start_status(sys.stderr, stats.start, stats, program_out=1)
    save_host_terminal()        # the guest's termios are the user's terminal's
    with forward_terminal_signals(kernel):
        try:
            kernel.run(task)
        finally:
            if stats is not None:
                stats.runtimes.stop_status()
            if writer is not None:
                writer.close()
            if callgraph is not None:
                callgraph.close()
                if opts.callgraph_dot:
                    callgraph.write_dot(opts.callgraph_dot)
    if opts.gdb is not None:
        stub.program_exited(task.exit_code)
    if printer is not None and printer.summary is not None:
        printer.out.write(printer.summary.format())     # strace -c
    if stats is not None:
        summary_out.write(stats.format(opts.program))
    if report is not None:
        with report_out:
            for missed in report.write(report_out, [opts.program] + opts.args,
                                       "exit status %d" % exit_status(task)):
                print("a53emu: report: --snapshot-at %s was not reached" % missed,
                      file=sys.stderr)
    out.flush()
    if printer is not None:
        printer.close()
    if walk is not None and walk.done and walk.kind != "exit":
        return 0        # the board was stopped after the walk: no death to report
    if task.death is not None:
        if opts.debug and task.death.traceback:
            sys.stderr.write(task.death.traceback)
        print(describe_death(task, opts.program, init_load_bias[0]), file=sys.stderr)
        if task.death.internal:
            return EXIT_INTERNAL
    if report_internal_errors(kernel, task, opts.debug):
        return EXIT_INTERNAL
    if walk is not None:
        return walk.status()
    return exit_status(task)


def strace_options(opts):
    """The StraceOptions the strace flags of `run` ask for (None if no flag
    was given; False after printing a usage error)."""
    from kernel.syscalls.strace_opts import StraceOptions, UsageError
    try:
        chosen = StraceOptions.from_args(
            opts.strace_exprs, opts.strace_follow, opts.strace_fd_paths, opts.strace_timing,
            opts.strace_summary, opts.strace_strsize, opts.strace_column,
            opts.strace_verbose, opts.strace_output, opts.strace_pids,
            opts.strace_summary_too, opts.strace_relative, opts.strace_timestamps,
            opts.strace_quiet)
    except UsageError as e:
        print("a53emu: %s" % e, file=sys.stderr)
        return False
    given = (opts.strace_exprs or opts.strace_follow or opts.strace_fd_paths
             or opts.strace_timing or opts.strace_summary or opts.strace_strsize is not None
             or opts.strace_column is not None or opts.strace_verbose
             or opts.strace_output is not None or opts.strace_pids or opts.strace_summary_too
             or opts.strace_relative or opts.strace_timestamps or opts.strace_quiet)
    return chosen if given else None
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
    """The a53emu command.  Run as the program (argv None: the console
    script, python -m emu) it exits the process itself (exit_now); called
    with argv it returns the status."""
    as_program = argv is None
    opts = None
    if as_program and signal.getsignal(signal.SIGINT) is _exit_on_sigint:
        # From here a SIGINT outside the guest's run ends a53emu at once with
        # one line.  Not a KeyboardInterrupt: raised inside a ctypes callback,
        # a weakref callback or an atexit function, Python prints it as
        # "Exception ignored" with a traceback and goes on.
        def interrupted(signum, frame):
            print("a53emu: %s: interrupted by SIGINT" % getattr(opts, "program", "a53emu"),
                  file=sys.stderr, flush=True)
            os._exit(128 + signum)
        signal.signal(signal.SIGINT, interrupted)
    try:
        parser = build_parser()
        argv = sys.argv[1:] if argv is None else list(argv)
        addrs = None
        if argv[:1] == ["walk"]:
            argv, addrs = split_walk_args(parser, argv)
        opts = parser.parse_args(argv)
        if addrs is not None:
            opts.walk = WalkRequest(opts.at, addrs)
        status = cmd_run(opts)
    except KeyboardInterrupt:
        # SIGINT before the guest ran (or after it ended): nobody to forward to.
        print("a53emu: %s: interrupted by SIGINT" % getattr(opts, "program", "a53emu"),
              file=sys.stderr)
        status = 128 + signal.SIGINT
    except BrokenPipeError:
        status = 128 + signal.SIGPIPE          # our own report's reader has gone
    except Exception as e:                     # a kernel bug: one line, no traceback
        if getattr(opts, "debug", False):
            import traceback    # only here: ~5 ms of every start otherwise (issue 8)
            traceback.print_exc()
        print("a53emu: internal error: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        status = EXIT_INTERNAL
    if as_program:
        exit_now(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
