"""kernel/uaccess.py: the tracer's peek_string across page boundaries, next to
strncpy_from_user (which faults pages in) on the same strings."""
from emu.arch import PAGE_SIZE
from emu.board import Board
from kernel.main import Kernel
from kernel.mm.memory import handle_mm_fault
from kernel.mm.mmap import do_mmap, find_vma
from kernel.sched.task import Task
from kernel.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE

BASE = 0x10000000


def make_task(pages):
    kernel = Kernel(Board(ram_size=16 << 20, cores=1))
    task = Task(kernel, 1, "t", ["t"])
    task.mm = kernel.mm_alloc(task)
    do_mmap(task.mm, None, BASE, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0)
    return task


def touch(task, addr):
    handle_mm_fault(find_vma(task.mm, addr), addr, True)


def test_peek_string_crosses_a_page_boundary():
    task = make_task(2)
    touch(task, BASE)
    touch(task, BASE + PAGE_SIZE)
    addr = BASE + PAGE_SIZE - 3
    task.uaccess.copy_to_user(addr, b"abcdef\0")
    assert task.uaccess.peek_string(addr) == b"abcdef"
    assert task.uaccess.strncpy_from_user(addr) == b"abcdef"
    assert task.uaccess.peek_string(addr, limit=4) == b"abcd"


def test_peek_string_stops_where_residency_ends():
    task = make_task(2)
    touch(task, BASE)                   # the second page is never faulted in
    addr = BASE + PAGE_SIZE - 3
    task.uaccess.copy_to_user(addr, b"abc")
    assert task.uaccess.peek_string(addr) == b"abc"
    assert task.uaccess.peek_string(BASE + PAGE_SIZE) is None
    assert task.mm.get_mm_rss() == 1    # peeking faulted nothing in


def test_an_exited_task_has_no_mm():
    """exit_mm(): do_exit clears task->mm before mmput, so nothing reaches the
    freed address space through a zombie."""
    import a53emu
    m = a53emu.Machine(mem="64M")
    m.load("userland/build/musl/api_probe", args=["0"])
    m.run(until=a53emu.Exit())
    task = m.kernel.init_task
    assert task.mm is not None          # the exit hooks still see it
    m.run()
    assert task.mm is None
