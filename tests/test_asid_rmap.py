"""ASIDs (kernel/mm/context.py, arch/arm64/mm/context.c) and the anon_vma
shape fork gives (kernel/mm/rmap.py): in process, without running code."""

from emu.arch import TTBR_ASID_SHIFT
from kernel.mm.context import AsidAllocator
from kernel.mm.mm_types import VmAreaStruct
from kernel.mm.mmap import anon_vma_prepare, split_vma
from kernel.mm.rmap import AnonVma, anon_vma_fork, mapping_vmas, unlink_anon_vmas

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


def _chain(vma):
    return [avc.anon_vma for avc in vma.anon_vma_chain]


def _prepared(env, start):
    """A VMA that got its first anonymous page: anon_vma_prepare()."""
    vma = _vma(env, start)
    anon_vma_prepare(vma)
    return vma


def test_anon_vma_prepare_counts_the_vma_and_the_self_parent_link():
    env = Env()
    vma = _prepared(env, 0x10000)
    av = vma.anon_vma
    assert av.root is av.parent is av
    assert av.degree == 2
    assert _chain(vma) == [av] and [c.vma for c in av.rb_root] == [vma]


def test_anon_vma_fork_links_child_to_parent():
    env = Env()
    parent = _prepared(env, 0x10000)
    child = _vma(env, 0x10000)
    pav = parent.anon_vma
    assert anon_vma_fork(child, parent) == 0
    cav = child.anon_vma
    assert cav is not pav
    assert cav.parent is pav and cav.root is pav
    assert pav.degree == 3 and cav.degree == 1     # + the child anon_vma; its vma
    assert _chain(child) == [cav, pav]             # newest first, as list_add
    assert {c.vma for c in pav.rb_root} == {parent, child}
    grandchild = _vma(env, 0x10000)
    anon_vma_fork(grandchild, child)
    gav = grandchild.anon_vma
    assert gav.root is pav and gav.parent is cav
    assert _chain(grandchild) == [gav, cav, pav]


def test_anon_vma_clone_reuses_an_anon_vma_no_vma_uses():
    """The chain-explosion fix (7a3ef208e662, v3.19): parent P forks C, C
    forks G, C exits.  C's anon_vma then has no VMA and one child (degree
    1), so when G forks, G's child takes it instead of a new one."""
    env = Env()
    p = _prepared(env, 0x10000)
    c = _vma(env, 0x10000)
    anon_vma_fork(c, p)
    g = _vma(env, 0x10000)
    anon_vma_fork(g, c)
    cav, gav = c.anon_vma, g.anon_vma
    assert cav.degree == 2                         # its VMA and gav
    unlink_anon_vmas(c)                            # C exits
    assert cav.degree == 1 and {x.vma for x in cav.rb_root} == {g}
    gg = _vma(env, 0x10000)
    anon_vma_fork(gg, g)
    assert gg.anon_vma is cav and cav.degree == 2
    assert _chain(gg) == _chain(g) == [gav, cav, p.anon_vma]
    # The parent's own anon_vma is never reused: a second child gets a new one.
    c2 = _vma(env, 0x10000)
    anon_vma_fork(c2, p)
    assert c2.anon_vma not in (p.anon_vma, cav)


def test_split_and_unmap_keep_the_chain():
    env = Env()
    assert env.mmap(0x10000000, 4) == 0x10000000
    env.write(0x10000000, b"x")
    (vma,) = env.vmas()
    av = vma.anon_vma
    assert split_vma(env.mm, vma, 0x10002000, 0) == 0
    lo, hi = env.vmas()
    assert _chain(lo) == _chain(hi) == [av]
    assert av.degree == 3                          # self link + two VMAs
    assert {c.vma for c in av.rb_root} == {lo, hi}
    assert env.munmap(0x10002000, 0x2000) == 0
    assert av.degree == 2 and {c.vma for c in av.rb_root} == {lo}
    assert env.munmap(0x10000000, 0x2000) == 0
    assert av.degree == 0 and not av.rb_root       # the self link went with the last VMA


def test_anon_vma_fork_without_anon_pages():
    env = Env()
    parent, child = _vma(env, 0x10000), _vma(env, 0x10000)
    child.anon_vma = AnonVma()
    anon_vma_fork(child, parent)
    assert child.anon_vma is None and child.anon_vma_chain == []


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


def _shared_file(env, tmp_path, pages):
    import os
    from kernel.fs.file import File
    from kernel.uapi import O_RDWR
    path = tmp_path / "shared"
    path.write_bytes(b"\0" * (pages * 4096))
    return File(env.k, os.open(path, os.O_RDWR), str(path), O_RDWR)


def test_mapping_vmas_skips_threads_not_other_processes(tmp_path):
    """A thread's mm was seen already; a later process's own mm still counts."""
    from kernel.mm.mmap import do_mmap
    from kernel.sched.task import Task
    from kernel.uapi import MAP_SHARED, PROT_READ
    env = Env()
    f = _shared_file(env, tmp_path, 2)
    a = do_mmap(env.mm, f, 0, 8192, PROT_READ, MAP_SHARED, 0)
    thread = Task(env.k, 2, "t", ["t"])
    thread.mm = env.mm
    env.k.tasks[2] = thread
    other = Task(env.k, 3, "o", ["o"])
    other.mm = env.k.mm_alloc(other)
    env.k.tasks[3] = other
    b = do_mmap(other.mm, f, 0, 4096, PROT_READ, MAP_SHARED, 4096 >> 12)
    found = sorted((v.vm_mm is other.mm, v.vm_start) for v in mapping_vmas(env.k, f.mapping))
    assert found == [(False, a), (True, b)]


def test_page_mkclean_write_protects_only_shared_dirty_ptes(tmp_path):
    """Writeback write-protects the ptes of the written pages in every shared
    mapping (at the right offset, whatever the mapping's pgoff), flushing
    each from the TLBs; absent ptes stay absent, and a private mapping of the
    file (here the first VMA met) is left alone."""
    from emu.arch import PTE_RDONLY
    from kernel.mm.mm import PTE_PRESENT_MASK
    from kernel.mm.mmap import do_mmap
    from kernel.mm.rmap import page_mkclean
    from kernel.uapi import MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE
    env = Env()
    f = _shared_file(env, tmp_path, 6)
    rw = PROT_READ | PROT_WRITE
    shared = do_mmap(env.mm, f, 0, 4 * 4096, rw, MAP_SHARED, 1)    # file pages 1..4
    private = do_mmap(env.mm, f, 0, 4 * 4096, rw, MAP_PRIVATE, 1)  # below it (top-down)
    assert private < shared
    env.write(private + 4096, b"p")           # a private copy of file page 2
    for i in range(3):
        env.write(shared + i * 4096, b"s")    # dirties file pages 1, 2, 3; 4 untouched
    pt = env.k.pgtable

    def pte(addr):
        return pt.read_pte(pt.pte_offset(env.mm, addr))
    assert all(not pte(shared + i * 4096) & PTE_RDONLY for i in range(3))
    assert pte(shared + 3 * 4096) == 0
    flushed = []
    env.mm.cpu_vm_mask.add(0)
    env.board.cores[0].flush_tlb_page = flushed.append
    # page 0 lies before both mappings, 5 after; 4 is mapped but absent
    page_mkclean(env.k, f.mapping, [0, 2, 3, 4, 5])
    assert not pte(shared) & PTE_RDONLY           # file page 1: not asked for
    for i in (1, 2):
        p = pte(shared + i * 4096)
        assert p & PTE_RDONLY and p & PTE_PRESENT_MASK
    assert pte(shared + 3 * 4096) == 0
    assert sorted(flushed) == [shared + 4096, shared + 2 * 4096]
    assert not pte(private + 4096) & PTE_RDONLY   # the private copy is untouched
    flushed.clear()
    page_mkclean(env.k, f.mapping, [2, 3])        # already clean: nothing to do
    assert flushed == []
