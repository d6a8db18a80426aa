"""Unicorn's TLB grows with the working set (emu/cpu.py, TLB_INITIAL_ENTRIES).

QEMU resizes its software TLB only on a flush.  A core flushes itself once
TLB_GROW_USED of the slots it thinks the TLB has are taken and the fill was
a page fault or fills have evicted enough pages (TLB_GROW_CONFLICTS), so a
store loop over a 4 MiB buffer (1024 pages, four times the initial 256
entries) stops missing instead of refilling every page on every pass.
Counted in fills, not timed.
"""

import re

from emu.board import Board
from emu.mmu import Mmu
from kernel.main import Kernel
from conftest import run_a53emu, userland_path

PAGES = 1024            # bench_store's 4 MiB
PASSES = 16


def count_fills(monkeypatch, name, args):
    fills = []
    real = Mmu.tlb_fill

    def counted(self, core, va, access):
        fills.append(va)
        return real(self, core, va, access)
    monkeypatch.setattr(Mmu, "tlb_fill", counted)
    board = Board(ram_size=64 << 20, cores=1)
    kernel = Kernel(board)
    prog = str(userland_path("musl", name))
    task = kernel.exec_init(prog, [prog] + args, [])
    kernel.run(task)
    assert task.exit_code == 0
    return len(fills), board.cores[0]


def test_a_big_working_set_stops_missing(monkeypatch):
    fills, core = count_fills(monkeypatch, "bench_store", ["4", str(PASSES)])
    # Without growth: one fill per page per pass, PAGES * PASSES.  With it:
    # the first touch, the refills after each growing flush, and start-up.
    assert fills < 4 * PAGES, fills
    assert core.tlb_entries >= PAGES


def test_the_faults_grow_the_tlb_before_the_passes(monkeypatch):
    """bench_store faults its buffer in first: those faults grow the TLB
    to hold it, so the passes after them refill (almost) nothing.  The old
    schedule (a flush every 1.5 n fills) grew it during the passes, and
    refilled every page once more after the last growth."""
    pages = 4 * PAGES           # bench_store's 16 MiB: the old schedule refilled 1651
    untimed, _ = count_fills(monkeypatch, "bench_store", ["16", "0"])
    timed, core = count_fills(monkeypatch, "bench_store", ["16", "2"])
    assert timed - untimed < pages // 8, (untimed, timed)
    assert core.tlb_entries >= pages


def test_a_small_working_set_never_flushes(monkeypatch):
    fills, core = count_fills(monkeypatch, "hello", [])
    assert core.tlb_entries == 256
    assert fills < 256



def test_the_tlb_grows_under_stats():
    """`--stats` counts instructions on every core (Unicorn's counter is
    found by a run of the ROM) and times every fill.  Measured before the
    cores started from a flushed TLB (Core._probe_tlb_flush_page ends with
    a flush): 8720 fills here under --stats against 2577 without, the TLB
    never grew; the exact cause inside Unicorn was not pinned down."""
    p = run_a53emu(["--stats", userland_path("musl", "bench_store"), "4", str(PASSES)])
    assert p.returncode == 0, p.stderr
    fills = re.search(rb"^\s*([\d,]+)\s+tlb-fills\s+# core 0", p.stderr, re.M)
    assert int(fills.group(1).replace(b",", b"")) < 4 * PAGES, fills.group(0)
