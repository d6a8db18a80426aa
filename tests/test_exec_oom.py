"""Running out of board RAM while exec loads init (issue 10): past exec's
point of no return the page allocator's OOM killer ends the process —
SIGKILL, status 137, the kernel's "Out of memory: Killed process N (comm)"
— as a fault that finds no frame does at run time; not a 126 refusal."""

import errno

import pytest

from conftest import userland_path
from emu.board import Board
from kernel.binfmt_elf import ExecError
from kernel.main import Kernel
from kernel.mm.page_alloc import OutOfMemory


def _drained_kernel(leave):
    """A 4 MiB board whose allocator has `leave` free frames left."""
    k = Kernel(Board(ram_size=4 << 20, cores=1))
    held = []
    while k.pages.nr_free > leave:
        held.append(k.pages.alloc_page())
    return k, held


def test_exec_init_without_a_frame_for_the_mm():
    """No frame for the new mm's pgd: bprm_mm_init() fails, before the
    point of no return: execve() says ENOMEM (status 126)."""
    prog = userland_path("musl", "hello")
    k, _ = _drained_kernel(0)
    with pytest.raises(ExecError) as info:
        k.exec_init(str(prog), [str(prog)], [])
    assert (info.value.status, info.value.errno, info.value.fatal) == (126, errno.ENOMEM, False)


def test_exec_init_segment_not_committed():
    """A frame or two free: mmap_region()'s vm_enough_memory() (the
    overcommit heuristic) refuses the writable segment before any frame is
    asked for, past the point of no return: SIGSEGV (139), not the OOM
    killer, as elf_map() fails in 4.14."""
    prog = userland_path("musl", "hello")
    k, _ = _drained_kernel(1)
    with pytest.raises(ExecError) as info:
        k.exec_init(str(prog), [str(prog)], [])
    e = info.value
    assert (e.status, e.errno, e.fatal, e.oom) == (139, errno.ENOMEM, True, False)
    assert e.reason.startswith("cannot map PT_LOAD"), e.reason


@pytest.mark.parametrize("leave", [3, 8, 20, 40])
def test_exec_init_out_of_memory_is_an_oom_kill(leave):
    prog = userland_path("musl", "hello")
    k, _ = _drained_kernel(leave)
    with pytest.raises(ExecError) as info:
        k.exec_init(str(prog), [str(prog)], [])
    e = info.value
    assert (e.status, e.fatal, e.oom) == (137, True, True)
    assert e.reason.startswith("killed by SIGKILL (SI_KERNEL: sent by the kernel): "
                               "Out of memory: Killed process 1 (hello) total-vm:"), e.reason
    assert "\n" not in e.reason


def test_exec_init_with_enough_memory_runs():
    """The same board with RAM to spare: exec succeeds (the drain above is
    what fails it)."""
    prog = userland_path("musl", "hello")
    k, _ = _drained_kernel(64)
    task = k.exec_init(str(prog), [str(prog)], [])
    assert task.pid == 1
