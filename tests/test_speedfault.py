"""Issue 8's fault-path fast paths change nothing a guest sees.

- An anonymous fault at an empty pte is mapped from the TLB fill
  (Mmu.anon_fault = do_anonymous_fault_fast) while nothing watches faults;
  with the fault tracer on it takes the abort as before.  Both give the
  same faults, counts and memory (userland/src/fault_paths.c).
- Each core hooks FETCH_UNMAPPED outside RAM's physical range so that
  Unicorn does not scan its whole TLB for every translated block: code a
  program writes still runs as written (fault_paths.c's RWX and W^X parts).
- A running core is a Core, whose class has no __getattr__ (it would cost
  CPython's specialised attribute loads); a lazy one is an OfflineCore
  until it is brought up.
"""

import pytest

from emu.board import Board
from emu.cpu import Core, OfflineCore
from kernel.main import Kernel
from kernel.mm import fault as fault_mod
from kernel.mm.fault import do_anonymous_fault_fast
from conftest import run_a53emu, userland_path

EXPECTED_LINES = (
    "ok: 4096 first writes are 4096 minor faults",
    "ok: 64 first reads see zeroes in 64 faults",
    "ok: 64 writes after them are 64 more faults",
    "ok: an RWX page rewritten in place runs its new code (200/200)",
    "ok: a W^X page flipped with mprotect runs its new code (200/200)",
)


def count_fast_path_faults(monkeypatch):
    """A list that gets, for each call of the fault fast path from now on,
    whether it mapped the page (True: it returned the pte it wrote) or
    handed the fault back (False: it returned 0)."""
    mapped = []

    def counted(core, addr, write, ptep, pte=0):
        done = do_anonymous_fault_fast(core, addr, write, ptep, pte)
        mapped.append(bool(done))
        return done
    monkeypatch.setattr(fault_mod, "do_anonymous_fault_fast", counted)
    monkeypatch.setattr("kernel.entry.do_anonymous_fault_fast", counted)
    return mapped


def _run_in_process(monkeypatch, trace_fault):
    """fault_paths on a board of our own: (task, fast-path calls that mapped a page)."""
    mapped = count_fast_path_faults(monkeypatch)
    board = Board(ram_size=64 << 20, cores=1)
    kernel = Kernel(board)
    events = []
    if trace_fault:
        kernel.trace.subscribe(lambda kind, fields: events.append(kind))
        kernel.trace.enable(["fault"])
    prog = str(userland_path("musl", "fault_paths"))
    task = kernel.exec_init(prog, [prog], [])
    kernel.run(task)
    return task, sum(mapped), events, kernel


@pytest.mark.parametrize("libc_name", ["musl", "glibc"])
def test_fault_paths_program(libc_name):
    prog = userland_path(libc_name, "fault_paths")
    if not prog.exists():
        pytest.skip("%s userland not built" % libc_name)
    r = run_a53emu([prog])
    out = r.stdout.decode()
    assert r.returncode == 0, out + r.stderr.decode()
    for line in EXPECTED_LINES:
        assert line in out


def test_traced_faults_take_the_abort_and_count_the_same():
    """With --trace fault, every fault is an abort the tracer sees; the
    program's own counts (exact here) are the same as without it."""
    prog = userland_path("musl", "fault_paths")
    plain = run_a53emu([prog])
    traced = run_a53emu(["--trace", "fault", prog])
    assert plain.returncode == traced.returncode == 0
    assert plain.stdout == traced.stdout
    fault_lines = [ln for ln in traced.stderr.decode().splitlines() if "fault" in ln]
    # 4096 + 64 + 64 anonymous faults at least, each traced.
    assert len(fault_lines) >= 4096 + 128


def test_fast_path_maps_the_faults_only_while_unwatched(monkeypatch):
    task, fast, _, kernel = _run_in_process(monkeypatch, trace_fault=False)
    assert task.exit_code == 0
    # The 4096 first writes, the 64 first reads (zero page) and the 64
    # writes after them (copy of the zero page) are mapped by the fill,
    # but for the first fault in each 2 MiB region, which walks the tables
    # (and any whose walk cache a TLB flush emptied).
    assert 4096 + 64 + 64 - 16 <= fast <= task.min_flt
    task, fast, events, kernel = _run_in_process(monkeypatch, trace_fault=True)
    assert task.exit_code == 0
    assert fast == 0
    assert events.count("fault") >= 4096 + 128


def test_anon_fault_follows_the_watchers():
    board = Board(ram_size=16 << 20, cores=1)
    kernel = Kernel(board)
    mmu = board.mmu
    assert mmu.anon_fault is do_anonymous_fault_fast
    kernel.trace.fault = True
    assert mmu.anon_fault is None
    kernel.trace.fault = False
    assert mmu.anon_fault is do_anonymous_fault_fast
    kernel.trace.pte = True
    assert mmu.anon_fault is None
    kernel.trace.pte = False
    inner = kernel.vectors.do_mem_abort
    kernel.vectors.do_mem_abort = lambda core: inner(core)      # a call graph's wrapper
    assert mmu.anon_fault is None


def test_running_cores_have_no_getattr():
    assert "__getattr__" not in Core.__dict__
    board = Board(ram_size=16 << 20, cores=2, lazy_cores=True)
    lazy = board.cores[1]
    assert type(lazy) is OfflineCore and not lazy.online
    lazy.uc                                     # asking for the engine brings it up
    assert type(lazy) is Core and lazy.online
    assert type(board.cores[0]) is Core


def test_fill_hook_answers_through_the_entry_address():
    """The boot ROM's fills go through the raw entry view too: a core
    brought up probes its per-page flush with them (Core._probe_tlb_flush_page)."""
    board = Board(ram_size=16 << 20, cores=1)
    core = board.cores[0]
    assert core._rom_fills >= 2
    assert 1 <= len(core._tlb_entries) <= 8
    assert all(isinstance(addr, int) for addr in core._tlb_entries)
