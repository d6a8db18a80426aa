"""ASIDs (kernel/mm/context.py, arch/arm64/mm/context.c) and the anon_vma
shape fork gives (kernel/mm/rmap.py): in process, without running code."""

from emu.arch import TTBR_ASID_SHIFT
from kernel.mm.context import AsidAllocator
from kernel.mm.mmap import AnonVma
from kernel.mm.mm_types import VmAreaStruct
from kernel.mm.rmap import anon_vma_fork, mapping_vmas

from test_vma import Env


class FakeCore:
    def __init__(self):
        self.active_mm = None
        self.flushes = 0

    def flush_tlb(self):
        self.flushes += 1


class FakeBoard:
    def __init__(self, n):
        self.cores = [FakeCore() for _ in range(n)]


class FakeMm:
    def __init__(self):
        self.asid = 0
        self.asid_generation = 0


def test_asids_are_handed_out_from_1_at_first_switch():
    alloc = AsidAllocator(FakeBoard(2))
    mms = [FakeMm() for _ in range(3)]
    for mm in mms:
        alloc.check_and_switch_context(mm, None)
    assert [mm.asid for mm in mms] == [1, 2, 3]
    assert all(mm.asid_generation == alloc.generation == 1 for mm in mms)
    # A second switch to a current-generation mm changes nothing.
    alloc.check_and_switch_context(mms[0], None)
    assert mms[0].asid == 1 and alloc.rollovers == 0


def test_rollover_flushes_every_core_and_keeps_live_asids():
    board = FakeBoard(2)
    alloc = AsidAllocator(board, bits=2)        # ASIDs 1..3
    mms = [FakeMm() for _ in range(3)]
    for mm in mms:
        alloc.check_and_switch_context(mm, None)
    board.cores[0].active_mm = mms[1]           # running now: keeps ASID 2
    fourth = FakeMm()
    alloc.check_and_switch_context(fourth, None)
    assert alloc.rollovers == 1 and alloc.generation == 2
    assert [c.flushes for c in board.cores] == [1, 1]
    assert mms[1].asid_generation == 2          # the live one is reserved
    assert fourth.asid in (1, 3) and fourth.asid != mms[1].asid
    assert fourth.asid_generation == 2
    # An old-generation mm whose ASID is still free gets it back.
    stale = mms[0] if mms[0].asid != fourth.asid else mms[2]
    old = stale.asid
    alloc.check_and_switch_context(stale, None)
    assert stale.asid == old and stale.asid_generation == 2


def test_old_asid_taken_means_a_new_one():
    alloc = AsidAllocator(FakeBoard(1), bits=3)     # ASIDs 1..7
    a, b = FakeMm(), FakeMm()
    alloc.check_and_switch_context(a, None)
    alloc.flush_context()                            # new generation, nothing live
    b.asid = a.asid                                  # b claims a's old number first
    alloc.check_and_switch_context(b, None)
    alloc.check_and_switch_context(a, None)
    assert b.asid == 1 and a.asid != b.asid and a.asid_generation == alloc.generation


def test_ttbr0_holds_asid_and_pgd():
    env = Env()
    env.mm.asid = 0x1234
    assert env.mm.ttbr0() == (0x1234 << TTBR_ASID_SHIFT) | env.mm.pgd


def _vma(env, start):
    return VmAreaStruct(env.mm, start, start + 4096, 0, 0)


def test_anon_vma_fork_links_child_to_parent():
    env = Env()
    parent, child = _vma(env, 0x10000), _vma(env, 0x10000)
    parent.anon_vma = AnonVma()
    assert anon_vma_fork(child, parent) == 0
    assert child.anon_vma is not parent.anon_vma
    assert child.anon_vma.parent is parent.anon_vma
    assert child.anon_vma.root is parent.anon_vma.root is parent.anon_vma
    assert parent.anon_vma.degree == 2 and child.anon_vma.degree == 1
    grandchild = _vma(env, 0x10000)
    anon_vma_fork(grandchild, child)
    assert grandchild.anon_vma.root is parent.anon_vma
    assert grandchild.anon_vma.parent is child.anon_vma


def test_anon_vma_fork_without_anon_pages():
    env = Env()
    parent, child = _vma(env, 0x10000), _vma(env, 0x10000)
    child.anon_vma = AnonVma()
    anon_vma_fork(child, parent)
    assert child.anon_vma is None


def test_mapping_vmas_sees_each_mm_once(tmp_path):
    """Threads share an mm: its VMAs are listed once; a freed mm not at all."""
    import os
    from kernel.fs.file import File
    from kernel.mm.mmap import do_mmap
    from kernel.sched.task import Task
    from kernel.uapi import MAP_SHARED, O_RDWR, PROT_READ
    env = Env()
    path = tmp_path / "f"
    path.write_bytes(b"x" * 8192)
    f = File(env.k, os.open(path, os.O_RDWR), str(path), O_RDWR)
    addr = do_mmap(env.mm, f, 0, 8192, PROT_READ, MAP_SHARED, 0)
    thread = Task(env.k, 2, "t", ["t"])
    thread.mm = env.mm
    env.k.tasks[2] = thread
    found = list(mapping_vmas(env.k, f.mapping))
    assert [(v.vm_start, v.vm_end) for v in found] == [(addr, addr + 8192)]
    env.mm.pgd = 0                          # as exit_mmap leaves it
    assert list(mapping_vmas(env.k, f.mapping)) == []
