"""Issue 8, the system-call path: registers moved without the binding's
argtypes, or straight through QEMU's register array, and el0_svc's one test
of --stats, hooks and the syscall trace.

Both register paths (the direct view of env->xregs, and the ctypes calls
it falls back to) must move the same values; the programs must see the
same results through either.
"""

import os

import pytest
import unicorn
from hypothesis import given, settings, strategies as st

import emu.cpu as cpu
from emu.board import Board
from emu.cpu import REG_X0, UNICORN_PINNED, X_REGS, Core
from kernel.main import Kernel
from kernel.syscalls.hooks import ALL, add_hook, remove_hook
from kernel.trace import Tracer
from conftest import userland_path

U64 = (1 << 64) - 1


@pytest.fixture(scope="module", params=["direct", "ctypes"])
def core(request):
    """A core using each register path (Core(direct_regs=False): ctypes)."""
    board = Board(ram_size=16 << 20, cores=1)
    core = Core(1, board.memory, board.mmu, direct_regs=request.param == "direct")
    assert (core.xregs is not None) == (
        request.param == "direct" and unicorn.__version__ == UNICORN_PINNED)
    return core


def test_the_direct_view_is_found_on_the_pinned_unicorn():
    cores = Board(ram_size=16 << 20, cores=2).cores
    for core in cores:
        assert (core.xregs is not None) == (unicorn.__version__ == UNICORN_PINNED)
        # The search leaves the registers as a reset core has them.
        assert [core.read_reg(r) for r in X_REGS] == [0] * 31


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.integers(0, U64), min_size=9, max_size=9))
def test_syscall_regs_reads_x8_then_x0_to_x5(core, values):
    for n, value in enumerate(values):
        core.set_x(n, value)
    assert core.syscall_regs() == (values[8],) + tuple(values[:6])


@settings(max_examples=50, deadline=None)
@given(ret=st.integers(-(1 << 63), U64))
def test_set_return_writes_x0_as_two_s_complement(core, ret):
    core.set_x(1, 0x1234)
    core.set_return(ret)
    assert core.read_reg(REG_X0) == ret & U64
    assert core.x(1) == 0x1234          # nothing but x0


@pytest.mark.parametrize("program", ["signals", "sys_files", "pipes", "futex"])
def test_programs_see_the_same_through_both_paths(monkeypatch, tmp_path, program):
    """Self-checking programs (restarts, EINTR, EFAULT, blocking pipes and
    futexes) pass with either register path, and print the same."""
    outputs = []
    for direct in (True, False):
        with monkeypatch.context() as m:
            if not direct:
                m.setattr(cpu, "_direct_xregs", lambda core: None)
            out = tmp_path / ("out-%s" % direct)
            workdir = tmp_path / ("cwd-%s" % direct)
            workdir.mkdir()
            board = Board(ram_size=64 << 20, cores=2)
            kernel = Kernel(board)
            prog = str(userland_path("musl", program))
            with open(out, "wb") as f:
                task = kernel.exec_init(prog, [prog], [], cwd=str(workdir),
                                        stdio=(0, f.fileno(), f.fileno()))
                kernel.run(task)
            assert (board.cores[0].xregs is not None) == (
                direct and unicorn.__version__ == UNICORN_PINNED)
            assert task.exit_code == 0, out.read_text()
            outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_instrumented_follows_the_trace_stats_and_hooks():
    """el0_svc tests one flag; every switch that feeds it updates it."""
    trace = Tracer()
    kernel = Kernel(Board(ram_size=16 << 20, cores=1), trace=trace)
    table = kernel.syscalls
    assert table.instrumented is False
    trace.enable(["syscall"])
    assert table.instrumented is True
    trace.syscall = False
    assert table.instrumented is False
    table.counts = {}
    assert table.instrumented is True
    table.counts = None
    assert table.instrumented is False
    handle = add_hook(table, ALL, enter=lambda call: None)
    assert table.instrumented is True
    remove_hook(table, handle)
    assert table.instrumented is False
    trace.fault = True                  # another class: not the syscall path's business
    assert table.instrumented is False
    # A trace switched on before the kernel is made (the CLI's order).
    early = Tracer()
    early.enable(["syscall"])
    assert Kernel(Board(ram_size=16 << 20, cores=1), trace=early).syscalls.instrumented is True


def test_a_trace_switched_on_mid_run_sees_the_calls(tmp_path):
    """The Python API switches classes while a program runs (Machine's
    subscribers): the syscall trace must start at once."""
    trace = Tracer()
    board = Board(ram_size=64 << 20, cores=1)
    kernel = Kernel(board, trace=trace)
    seen = []
    trace.subscribe(lambda kind, f: seen.append(f["nr"]) if kind == "syscall" else None)
    prog = str(userland_path("musl", "hello"))
    with open(os.devnull, "wb") as null:
        task = kernel.exec_init(prog, [prog], [], stdio=(0, null.fileno(), null.fileno()))
        trace.syscall = True
        kernel.run(task)
    assert task.exit_code == 0
    assert {66, 94} <= set(seen)        # writev, exit_group


# -- start-up: the binding imported without importlib.resources and inspect ---------

_PROBE = """
import sys
{before}
from emu.fast_import import import_unicorn
import_unicorn()        # what emu/unicorn_lib.py does when it must use the binding
from unicorn.unicorn_py3.unicorn import uclib
print(uclib._name)
print("inspect" in sys.modules, "importlib.resources" in sys.modules)
import inspect
print(inspect.getfile(inspect.getfile))
"""


def _probe(before=""):
    import subprocess
    import sys
    from conftest import ROOT
    out = subprocess.run([sys.executable, "-c", _PROBE.format(before=before)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    return out


def test_unicorn_is_loaded_from_the_same_file_without_the_loader_s_imports():
    import inspect
    fast = _probe()
    ordinary = _probe("import inspect, importlib.resources")   # nothing to save: not used
    assert fast[0] == ordinary[0]                   # the same libunicorn
    assert fast[1] == "False False" and ordinary[1] == "True True"
    assert fast[2] == ordinary[2] == inspect.getfile(inspect)   # the real inspect afterwards


def test_a_binding_that_asks_more_is_imported_the_ordinary_way():
    broken = ("import emu.fast_import as f, types\n"
              "f._stand_ins = lambda d: {'inspect': types.ModuleType('inspect'),\n"
              "                          'importlib.resources': types.ModuleType('r')}")
    out = _probe(broken)
    assert out[0] == _probe()[0]
    assert out[1] == "True True"                    # the ordinary import ran


def test_a_second_run_is_preempted_too():
    """Scheduler.run() after another (the Python API runs a board in
    steps) has its tick: the first run's end had set the tick's stop, and
    the second run's tick thread used to exit at once, leaving every slice
    to run until its task made a system call.  Two compute threads on one
    core: the tick must end their slices in both runs."""
    kernel = Kernel(Board(ram_size=64 << 20, cores=1))
    prog = str(userland_path("musl", "bench_threads_compute"))
    preempted = []
    with open(os.devnull, "wb") as null:
        for _ in range(2):
            task = kernel.exec_init(prog, [prog, "3000000"], [],
                                    stdio=(0, null.fileno(), null.fileno()))
            tasks = []
            kernel.exit_hooks.append(lambda t: tasks.append(t.nivcsw))
            kernel.run(task)
            kernel.exit_hooks.pop()
            assert task.exit_code == 0
            preempted.append(sum(tasks))
    assert preempted[0] > 0 and preempted[1] > 0, preempted


def test_the_fast_path_takes_every_call_but_the_first_of_each_number():
    """el0_svc's fast path (issue 8): with nothing tracing, a number goes to
    el0_svc_full() at most once, the first time, if its handler's module
    is not imported yet; every later call stays on the fast path."""
    kernel = Kernel(Board(ram_size=64 << 20, cores=1), lazy_syscalls=True)
    table = kernel.syscalls
    full = []
    inner = table.el0_svc_full

    def el0_svc_full(core):
        full.append(core.syscall_regs()[0])
        inner(core)
    table.el0_svc_full = el0_svc_full
    prog = str(userland_path("musl", "bench_syscall"))
    with open(os.devnull, "wb") as null:
        task = kernel.exec_init(prog, [prog, "1000"], [], stdio=(0, null.fileno(), null.fileno()))
        kernel.run(task)
    assert task.exit_code == 0
    if kernel.board.cores[0].xregs is None:
        pytest.skip("no direct register view on this Unicorn: every call takes the full path")
    assert len(full) == len(set(full)), full       # getppid: 1001 calls, at most one there


def test_argparse_untranslated_says_what_gettext_says():
    """emu/cli.py makes argparse's message lookup the identity when the
    domain has no catalog: help and errors read exactly as gettext made
    them (a fresh interpreter each way)."""
    import subprocess
    import sys
    from conftest import ROOT, emu_env
    code = ("import emu.cli, sys\n"
            "%s\n"
            "p = emu.cli.build_parser() if %r else None\n"
            "sys.stdout.write(p.format_help() + p._subparsers._group_actions[0]"
            ".choices['run'].format_help())\n"
            "p.parse_args(['run', '--cores'])\n")
    outs = []
    for patched in (True, False):
        setup = "" if patched else "emu.cli.untranslated_argparse = lambda: None"
        p = subprocess.run([sys.executable, "-c", code % (setup, True)], cwd=ROOT, env=emu_env(),
                           capture_output=True, text=True)
        assert p.returncode == 2
        outs.append((p.stdout, p.stderr))
    assert outs[0] == outs[1] and "expected one argument" in outs[0][1]
