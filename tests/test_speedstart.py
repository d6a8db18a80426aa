"""Issue 8, start-up: what `a53emu run` imports and builds before the first
guest instruction.

* The a53emu command's system-call table is lazy: a handler's module is
  imported on the first call of its number, as the generated
  kernel/syscalls/handler_map.py names it.  The map is what
  tools/syscall_table.py makes from the dispatch table now; every number
  in it resolves, in a fresh interpreter, to the same handler an eager
  table has; a stale entry still finds its handler (every module is then
  imported), a number without a handler is still ENOSYS.
* Things the handler modules registered at import (/proc/sysvipc files,
  /proc/config.gz's CONFIG_ lines) are the same under a lazy table.
* Unicorn's binding is imported without pathlib (emu/fast_import.py): its
  stand-in spells the loader's paths as pathlib does.
"""

import json
import os
import subprocess
import sys
import textwrap

from hypothesis import given, settings, strategies as st

from conftest import ROOT, emu_env, run_a53emu, userland_path

sys.path.insert(0, str(ROOT / "tools"))

import syscall_table  # noqa: E402

TIMEOUT = 120


def run_python(code):
    """Run code in a fresh interpreter (nothing imported yet) with this
    checkout first on the path; its stdout, parsed as JSON."""
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                       env=emu_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


# A lazy kernel on a small board, in a fresh interpreter.
LAZY_KERNEL = """
    import json, sys
    from emu.board import Board
    from kernel.main import Kernel
    from kernel.syscalls import table
    k = Kernel(Board(ram_size=16 << 20, cores=1), lazy_syscalls=True)
"""


def test_the_handler_map_is_generated_from_the_table():
    path = ROOT / "kernel" / "syscalls" / "handler_map.py"
    assert path.read_text() == syscall_table.render_handler_map(), \
        "kernel/syscalls/handler_map.py is stale: run python tools/syscall_table.py --write"


def test_the_map_names_every_handler_and_only_handlers():
    from kernel.syscalls.handler_map import SYSCALL_MODULES
    by_nr, _dups = syscall_table.dispatch_table()
    assert sorted(SYSCALL_MODULES) == sorted(by_nr)
    for nr, d in by_nr.items():
        assert SYSCALL_MODULES[nr] == d.module, d.name


def test_a_lazy_table_imports_a_module_on_its_first_call_only():
    """Each number of the map, looked up in turn in a fresh interpreter:
    before it, its module may or may not be loaded (a neighbour's import
    may have brought it); after it, it is, and the handler is the one the
    eager table has (same function, formats and module)."""
    got = run_python(LAZY_KERNEL + """
    from kernel.syscalls.handler_map import SYSCALL_MODULES
    before = sorted(set(table.HANDLER_MODULES) & set(sys.modules))
    out = {}
    for nr, module in SYSCALL_MODULES.items():
        d = k.syscalls.lookup(nr)
        out[nr] = [d.name, d.func.__module__, d.func.__qualname__, list(d.args), d.ret,
                   d.module, module in sys.modules]
    print(json.dumps({"before": before, "defs": out}))
    """)
    # Only what the kernel itself needs is loaded before any call: none of
    # the modules that exist for their calls alone.
    for module in ("kernel.net.socket", "kernel.syscalls.fs", "kernel.ipc.msg",
                   "kernel.fs.xattr", "kernel.sys_ni", "kernel.fs.eventpoll"):
        assert module not in got["before"]
    by_nr, _dups = syscall_table.dispatch_table()
    assert len(got["defs"]) == len(by_nr)
    for nr, (name, mod, qualname, args, ret, module, loaded) in got["defs"].items():
        d = by_nr[int(nr)]
        assert (name, mod, qualname, tuple(args), ret, module) == (
            d.name, d.func.__module__, d.func.__qualname__, d.args, d.ret, d.module)
        assert loaded, name


def test_a_stale_map_entry_still_finds_the_handler_and_no_handler_is_enosys():
    got = run_python(LAZY_KERNEL + """
    from kernel.syscalls.unistd import SYSCALL_NUMBERS
    from kernel.syscalls.handler_map import SYSCALL_MODULES
    nr = SYSCALL_NUMBERS["socketpair"]
    # As if the map were older than a move of socketpair to another module.
    table._SYSCALL_MODULES = dict(SYSCALL_MODULES)
    table._SYSCALL_MODULES[nr] = "kernel.uapi"
    d = k.syscalls.lookup(nr)
    missing = [n for n in range(300) if n not in SYSCALL_MODULES]
    print(json.dumps({"name": d.name, "all": all(m in sys.modules for m in table.HANDLER_MODULES),
                      "missing": [k.syscalls.lookup(n) for n in missing],
                      "nmissing": len(missing)}))
    """)
    assert got["name"] == "socketpair" and got["all"]
    assert got["nmissing"] > 0 and got["missing"] == [None] * got["nmissing"]


def test_what_handler_modules_register_is_there_under_a_lazy_table():
    """/proc/sysvipc/{shm,sem,msg} (registered by kernel/ipc's modules) and
    /proc/config.gz (which asks which calls are served) read the same as
    with every module imported."""
    code = """
    from kernel.ipc.util import sysvipc_proc_show
    from kernel.sys_ni import kernel_config
    print(json.dumps({"ipc": {n: sysvipc_proc_show(k, n) for n in ("shm", "sem", "msg")},
                      "config": kernel_config(k)}))
    """
    lazy = run_python(LAZY_KERNEL + code)
    eager = run_python(LAZY_KERNEL.replace("lazy_syscalls=True", "lazy_syscalls=False") + code)
    assert lazy == eager
    assert lazy["ipc"]["msg"].startswith("       key      msqid")
    assert "CONFIG_SYSVIPC=y" in lazy["config"]


# The a53emu command with an eager table (every handler module imported first).
EAGER_COMMAND = """
import sys
import kernel.syscalls.table as table
lazy_init = table.SyscallTable.__init__
table.SyscallTable.__init__ = lambda self, kernel, lazy=False: lazy_init(self, kernel)
from emu.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_command_s_trace_is_the_same_as_an_eager_table_s(tmp_path):
    """The syscall trace of runs of the a53emu command (lazy: modules
    imported mid-run) and of the same command with every module imported
    first are the same, unknown numbers (ENOSYS) included."""
    for name in ("syscalls", "strace_calls"):
        args = ["run", "--deterministic", "--trace", "syscall", str(userland_path("musl", name))]
        lazy = subprocess.run([sys.executable, "-m", "emu"] + args, cwd=tmp_path, env=emu_env(),
                              capture_output=True, timeout=TIMEOUT)
        eager = subprocess.run([sys.executable, "-c", EAGER_COMMAND, *args], cwd=tmp_path,
                               env=emu_env(), capture_output=True, timeout=TIMEOUT)
        assert lazy.returncode == eager.returncode == 0, lazy.stderr[-2000:]
        assert lazy.stdout == eager.stdout
        assert lazy.stderr.decode().splitlines() == eager.stderr.decode().splitlines()
        if name == "syscalls":
            assert "syscall_0x3e7(" in lazy.stderr.decode()


# -- the binding's loader joins its directories without pathlib -----------------------

@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.text(alphabet="/.ab", max_size=6), min_size=1, max_size=4),
       name=st.text(alphabet=".ab", min_size=1, max_size=3))
def test_the_loader_s_path_stand_in_spells_paths_as_pathlib(parts, name):
    import pathlib
    from emu.fast_import import _PurePosixPath
    ours, theirs = _PurePosixPath(*parts), pathlib.PurePosixPath(*parts)
    assert str(ours) == str(theirs) == os.fspath(ours)
    assert str(ours.parent) == str(theirs.parent)
    assert str(ours.parent.parent) == str(theirs.parent.parent)
    assert str(ours / name) == str(theirs / name)
    assert str(_PurePosixPath(ours, name)) == str(pathlib.PurePosixPath(theirs, name))


def test_unicorn_is_loaded_without_pathlib():
    """A fresh interpreter imports the board (emu.cpu) without pathlib and
    what it brings; the binding loaded the same libunicorn as an ordinary
    import of unicorn does, and a later import gets the real pathlib."""
    code = """
    import sys, json
    {before}
    from emu.fast_import import import_unicorn
    import_unicorn()    # what emu/unicorn_lib.py does when it must use the binding
    from unicorn.unicorn_py3.unicorn import uclib
    loaded = [m for m in ("pathlib", "urllib.parse", "ipaddress", "fnmatch") if m in sys.modules]
    import pathlib
    print(json.dumps([uclib._name, loaded, pathlib.PurePath.__module__]))
    """
    fast = run_python(code.format(before=""))
    ordinary = run_python(code.format(before="import unicorn"))
    assert fast[0] == ordinary[0]
    assert fast[1] == [] and "pathlib" in ordinary[1]
    assert fast[2] == ordinary[2] == "pathlib"


# -- the second core comes up when it first runs a task -------------------------------

def test_an_offline_core_comes_up_with_what_it_was_told():
    """Board(lazy_cores=True): the secondary core has no engine until asked;
    flushes before then are counted and need nothing; the generic timer
    set while it was offline is its setting once up, as an eager core's;
    its stops are as precise as the boot core's."""
    from emu.arch import SYSREG_CNTKCTL_EL1, SYSREG_CNTVOFF_EL2
    from emu.board import Board
    lazy = Board(ram_size=16 << 20, cores=2, lazy_cores=True)
    eager = Board(ram_size=16 << 20, cores=2)
    core = lazy.cores[1]
    assert lazy.cores[0].online and not core.online and "uc" not in vars(core)
    core.flush_tlb()
    core.flush_tlb_page(0x400000)
    core.flush_code_cache()
    assert core.nr_tlb_flushes == 2 and not core.online
    for c in (core, eager.cores[1]):
        c.set_counter(False, 0x1234)
    assert not core.online
    assert core.pc == eager.cores[1].pc          # asking for a register brings it up
    assert core.online
    for sysreg in (SYSREG_CNTVOFF_EL2, SYSREG_CNTKCTL_EL1):
        assert core.uc.cpr_read(*sysreg) == eager.cores[1].uc.cpr_read(*sysreg)
    assert core.precise_stop == lazy.cores[0].precise_stop == eager.cores[1].precise_stop
    assert (core.xregs is None) == (eager.cores[1].xregs is None)


def test_the_command_brings_the_second_core_up_only_for_a_second_task(tmp_path):
    """hello (one task) never needs core 1; cores (threads on both) does."""
    result = tmp_path / "result.json"
    code = """
    import json, emu.cli, emu.board
    boards = []
    class Board(emu.board.Board):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            boards.append(self)
    emu.cli.Board = Board
    out = []
    for prog in ("hello", "cores"):
        status = emu.cli.main(["run", "userland/build/musl/" + prog])
        out.append([status, [c.online for c in boards[-1].cores]])
    with open(%r, "w") as f:
        json.dump(out, f)
    """ % str(result)
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=emu_env(),
                       capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert b"cores seen: 0 1" in p.stdout
    assert json.loads(result.read_text()) == [[0, [True, False]], [0, [True, True]]]
