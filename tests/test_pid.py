"""alloc_pid(): Linux's cyclic pid allocator (kernel/pid.c alloc_pidmap).

Pids are handed out in increasing order, never reusing a freed one until
pid_max (32768) is reached; then the search wraps to RESERVED_PIDS (300),
skipping pids still in use; with every pid taken, fork fails with EAGAIN.
"""

from emu.board import Board
from kernel.main import Kernel
from kernel.sched.task import PID_MAX_DEFAULT, RESERVED_PIDS


def kernel():
    return Kernel(Board(ram_size=16 << 20, cores=1))


def test_pids_increase_and_are_not_reused_at_once():
    k = kernel()
    assert [k.alloc_pid() for _ in range(3)] == [1, 2, 3]
    k.free_pid(2)
    assert k.alloc_pid() == 4
    assert k.total_forks == 4


def test_wraps_to_reserved_pids_skipping_pids_in_use():
    k = kernel()
    k.last_pid = PID_MAX_DEFAULT - 2
    assert k.alloc_pid() == PID_MAX_DEFAULT - 1
    k.tasks[RESERVED_PIDS] = object()
    assert k.alloc_pid() == RESERVED_PIDS + 1
    assert k.last_pid == RESERVED_PIDS + 1


def test_every_pid_taken():
    k = kernel()
    for pid in range(1, PID_MAX_DEFAULT):
        k.tasks[pid] = object()
    assert k.alloc_pid() is None
