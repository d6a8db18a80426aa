"""Issue 8, mmap+touch+munmap: the fault paths a cycle takes.

An anonymous fault at an empty pte of a level-3 table that exists is
mapped from the TLB fill (Mmu.anon_fault) whether the walk cache held the
table or a full walk found it: munmap's TLB flush empties the walk cache,
so every cycle of bench_mmap_churn starts with a full walk.  Both faults
of a cycle (the read that maps the zero page, the write that copies it)
take the fast path; the guest sees the same: every fresh page reads zero
and the program checks it.
"""

from emu.board import Board
from kernel.main import Kernel
from conftest import userland_path
from test_speedfault import count_fast_path_faults

CYCLES = 300


def test_every_fault_of_a_churn_cycle_is_mapped_from_the_fill(monkeypatch):
    mapped = count_fast_path_faults(monkeypatch)
    board = Board(ram_size=64 << 20, cores=1)
    kernel = Kernel(board)
    prog = str(userland_path("musl", "bench_mmap_churn"))
    task = kernel.exec_init(prog, [prog, str(CYCLES)], [])
    kernel.run(task)
    assert task.exit_code == 0
    # Two faults a cycle, both from the fill (the few of start-up aside);
    # the walk-cache-only fast path mapped one a cycle.
    assert sum(mapped) >= 2 * CYCLES
    assert task.min_flt >= sum(mapped)
