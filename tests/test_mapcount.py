"""Map counts (struct page's _mapcount): how many ptes map each frame.

They are kept by set_pte_at() and the zap, so every path that installs,
replaces or clears a pte must leave them exact.  Checked against a
brute-force count over every pte of the address space.
"""

from collections import Counter

from emu.arch import DESC_ADDR_MASK, PAGE_SIZE
from emu.board import Board
from kernel.main import Kernel
from kernel.mm.mm import PTE_PRESENT_MASK, PTE_SPECIAL
from kernel.mm.mmap import do_mmap, do_munmap
from kernel.mm.mprotect import do_mprotect_pkey
from kernel.mm.mremap import sys_mremap
from kernel.sched.task import Task
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MREMAP_FIXED, MREMAP_MAYMOVE,
    PROT_READ, PROT_WRITE,
)

P = PAGE_SIZE
BASE = 0x10000000
RW = PROT_READ | PROT_WRITE


def make_task():
    kernel = Kernel(Board(ram_size=16 << 20, cores=1))
    task = Task(kernel, 1, "t", ["t"])
    task.mm = kernel.mm_alloc(task)
    return kernel, task


def counted(kernel, mm):
    """Frame -> number of ptes mapping it, walking every VMA's ptes."""
    pt = kernel.pgtable
    seen = Counter()
    for vma in mm.vmas():
        for addr in range(vma.vm_start, vma.vm_end, P):
            ptep = pt.pte_offset(mm, addr)
            pte = pt.read_pte(ptep) if ptep is not None else 0
            if pte & PTE_PRESENT_MASK and not pte & PTE_SPECIAL:
                seen[pte & DESC_ADDR_MASK] += 1
    return seen


def assert_exact(kernel, mm):
    seen = counted(kernel, mm)
    pages = kernel.pages
    for idx in range(pages.nr_pages):
        frame = (pages.base_pfn + idx) * P
        assert pages.mapcount[idx] == seen.get(frame, 0), hex(frame)


def test_shared_page_mapped_twice_then_unmapped():
    kernel, task = make_task()
    mm, um = task.mm, task.uaccess
    assert do_mmap(mm, None, BASE, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, 0) == BASE
    um.copy_to_user(BASE, b"x" * (2 * P))
    # mremap(old_len=0) of a shared mapping maps the same pages a second time.
    dup = BASE + 8 * P
    assert sys_mremap(mm, BASE, 0, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, dup) == dup
    assert um.copy_from_user(dup, 2) == b"xx"
    frame = kernel.board.mmu.translate(mm.pgd, BASE) & ~(P - 1)
    assert kernel.pages.page_mapcount(frame) == 2
    assert_exact(kernel, mm)
    assert do_munmap(mm, BASE, 2 * P) == 0
    assert kernel.pages.page_mapcount(frame) == 1
    assert do_munmap(mm, dup, 2 * P) == 0
    assert kernel.pages.page_mapcount(frame) == 0
    assert_exact(kernel, mm)


def test_cow_mprotect_and_move_keep_counts_exact():
    kernel, task = make_task()
    mm, um = task.mm, task.uaccess
    flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
    assert do_mmap(mm, None, BASE, 4 * P, RW, flags, 0) == BASE
    um.copy_from_user(BASE, 4 * P)                  # zero page: not counted
    assert_exact(kernel, mm)
    um.copy_to_user(BASE + P, b"y")                 # COW of the zero page
    assert do_mprotect_pkey(mm, BASE, 4 * P, PROT_READ) == 0
    assert do_mprotect_pkey(mm, BASE, 4 * P, RW) == 0
    um.copy_to_user(BASE + 2 * P, b"z")
    assert_exact(kernel, mm)
    new = BASE + 64 * P
    assert sys_mremap(mm, BASE, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, new) == new
    assert um.copy_from_user(new + P, 1) == b"y"
    assert_exact(kernel, mm)
