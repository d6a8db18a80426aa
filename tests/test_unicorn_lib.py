"""Issue 8, start-up: the cores open libunicorn through ctypes alone
(emu/unicorn_lib.py), not through Unicorn's Python binding.

Its constants, structures and Engine must be the binding's to the letter,
and a core must run programs the same on either (the binding is what the
module falls back to on another version of the library).
"""

import ctypes
import os

import pytest
import unicorn
from unicorn import arm64_const, unicorn_const
from unicorn.unicorn_py3 import unicorn as binding
from unicorn.unicorn_py3.arch.arm64 import UcRegCP64 as BindingCP64

import emu.cpu as cpu
import emu.unicorn_lib as lib
from emu.board import Board
from kernel.main import Kernel
from conftest import userland_path
from test_speedstart import run_python

pytestmark = pytest.mark.skipif(
    not lib.THIN, reason="libunicorn is not the version emu/unicorn_lib.py was written for: "
                         "the module uses the binding itself")


def test_every_constant_is_the_binding_s():
    assert len(lib.CONSTANTS) > 40
    for name in lib.CONSTANTS:
        theirs = getattr(unicorn_const, name, getattr(arm64_const, name, None))
        assert getattr(lib, name) == theirs, name


def test_the_structures_have_the_binding_s_layout():
    for ours, theirs in ((lib.uc_tb, binding.uc_tb), (lib.uc_tlb_entry, binding.uc_tlb_entry),
                         (lib.UcRegCP64, BindingCP64)):
        assert ctypes.sizeof(ours) == ctypes.sizeof(theirs)
        assert [(f[0], getattr(ours, f[0]).offset) for f in ours._fields_] == \
               [(f[0], getattr(theirs, f[0]).offset) for f in theirs._fields_]


def test_it_is_the_binding_s_library_and_version():
    assert os.path.realpath(lib.library_path()) == os.path.realpath(binding.uclib._name)
    assert lib.LIBRARY_VERSION == unicorn.__version__


def test_the_engine_reads_and_writes_as_the_binding_does():
    """Two engines, ours and the binding's Uc, set up alike, agree on every
    register kind the cores touch: 64-bit, V (128-bit), system registers."""
    engines = [lib.Engine(lib.UC_ARCH_ARM64, lib.UC_MODE_ARM),
               unicorn.Uc(unicorn.UC_ARCH_ARM64, unicorn.UC_MODE_ARM)]
    for uc in engines:
        uc.ctl_set_cpu_model(lib.UC_CPU_ARM64_A53)
        uc.ctl_set_page_size(4096)
        uc.reg_write(lib.UC_ARM64_REG_X0 + 5, 0x1122334455667788)
        uc.reg_write(lib.UC_ARM64_REG_V0 + 3, (1 << 127) | 0xABCDEF)
        uc.cpr_write(3, 0, 13, 0, 2, 0x5EED)             # TPIDR_EL0 by encoding
    ours, theirs = engines
    for reg in (lib.UC_ARM64_REG_X0 + 5, lib.UC_ARM64_REG_V0 + 3, lib.UC_ARM64_REG_TPIDR_EL0,
                lib.UC_ARM64_REG_PSTATE, lib.UC_ARM64_REG_CPACR_EL1):
        assert ours.reg_read(reg) == theirs.reg_read(reg), reg
    assert ours.reg_read(lib.UC_ARM64_REG_V0 + 3) == (1 << 127) | 0xABCDEF
    assert ours.cpr_read(3, 0, 1, 0, 0) == theirs.cpr_read(3, 0, 1, 0, 0)    # SCTLR_EL1
    with pytest.raises(lib.UcError):
        ours.mem_map(0x1001, 4096)      # not page-aligned: UC_ERR_ARG, as the binding's


def test_a_board_starts_without_the_binding_or_typing():
    loaded = run_python("""
        import json, sys
        import emu.cpu, kernel.main
        print(json.dumps([m for m in ("unicorn", "typing", "inspect") if m in sys.modules]))
        """)
    assert loaded == []


@pytest.mark.parametrize("program", ["signals", "pipes"])
def test_programs_run_the_same_on_the_binding_s_engine(monkeypatch, tmp_path, program):
    """The fallback: a core whose engine is the binding's Uc runs a program
    as one on ours does (same output, same exit)."""
    outputs = []
    for engine in (lib.Engine, unicorn.Uc):
        with monkeypatch.context() as m:
            m.setattr(cpu, "Uc", engine)
            board = Board(ram_size=64 << 20, cores=2)
            assert isinstance(board.cores[0].uc, engine)
            kernel = Kernel(board)
            prog = str(userland_path("musl", program))
            out = tmp_path / ("out-%s" % engine.__name__)
            workdir = tmp_path / ("cwd-%s" % engine.__name__)
            workdir.mkdir()
            with open(out, "wb") as f:
                task = kernel.exec_init(prog, [prog], [], cwd=str(workdir),
                                        stdio=(0, f.fileno(), f.fileno()))
                kernel.run(task)
            assert task.exit_code == 0, out.read_text()
            outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_the_fallback_takes_everything_from_the_binding():
    names = lib._from_binding()
    assert names["Engine"] is unicorn.Uc and names["THIN"] is False
    for name in lib.CONSTANTS:
        assert names[name] == getattr(lib, name), name
