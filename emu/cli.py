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
                   help="comma-separated: syscall, fault, vma, pte, tlb, or all")
    r.add_argument("--trace-file", metavar="FILE", help="write traces here instead of stderr")
    r.add_argument("--maps", action="store_true",
                   help="print the program's final /proc/self/maps when it exits")
    r.add_argument("--deterministic", action="store_true",
                   help="switch tasks every fixed number of instructions (not on a timer), "
                        "so runs are repeatable")
    r.add_argument("--net", choices=("none", "loopback", "host"), default="loopback",
                   help="AF_INET/AF_INET6: none (no IP), loopback (only lo, the default) "
                        "or host (the host's network)")
    r.add_argument("--debug", action="store_true", help="show Python tracebacks of internal errors")
    r.add_argument("program", help="the AArch64 ELF to run")
    r.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    return p


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
        return "a53emu: %s: %s (%s) on %s%s%s" % (
            program, "Segmentation fault" if d.sig == SIGSEGV else "Bus error", code,
            d.reason or "access", at, where)
    text = "a53emu: %s: killed by %s" % (program, d.name)
    if d.reason:
        text += ": " + d.reason
    if d.sig in (SIGILL, SIGFPE, SIGTRAP):     # the instruction itself was the cause
        text += where
    return text


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
    if any(getattr(trace, c) for c in ("fault", "vma", "pte", "tlb")):
        trace.subscribe(MmPrinter(out))

    board = Board(ram_size=opts.mem, cores=opts.cores, va_bits=opts.va_bits)
    kernel = Kernel(board, sysroot=opts.sysroot, trace=trace, deterministic=opts.deterministic)
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
    with forward_sigint(kernel):
        kernel.run(task)
    out.flush()
    if task.death is not None:
        if opts.debug and task.death.traceback:
            sys.stderr.write(task.death.traceback)
        print(describe_death(task, opts.program), file=sys.stderr)
        if task.death.internal:
            return EXIT_INTERNAL
    return exit_status(task)


def main(argv=None):
    opts = build_parser().parse_args(argv)
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
