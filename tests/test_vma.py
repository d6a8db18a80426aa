"""Unit tests for the VMA set of an address space (kernel/mm/mmap.py, mprotect.py).

Every expectation is Linux 4.14's (mm/mmap.c, mm/mprotect.c; for
MAP_FIXED_NOREPLACE, 4.17's).  A test that catches a divergence asserts
Linux's behaviour and fails until a53emu is fixed.

No guest program runs: each test builds a Board + Kernel + Task and calls
the mm functions directly.  `check_mm()` verifies the structural invariants
of an mm_struct (list, augmented rbtree, rb_subtree_gap, map_count,
highest_vm_end, vm_stat counters) and is shared with test_mm_model.py.
"""

import errno

import pytest

from emu.arch import DESC_ADDR_MASK, PAGE_SHIFT, PAGE_SIZE
from emu.board import Board
from kernel.main import Kernel
from kernel.mm.mm import (
    PTE_PRESENT_MASK, PTE_SPECIAL, VM_ACCOUNT, VM_DATA_DEFAULT_FLAGS, VM_EXEC,
    VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_READ,
    VM_SHARED, VM_STACK, VM_WRITE, vm_get_page_prot,
)
from kernel.mm.mm_types import VmAreaStruct
from kernel.mm.mmap import (
    MMAP_MIN_ADDR, STACK_GUARD_GAP, do_mmap, do_munmap, find_vma, find_vma_intersection,
    find_vma_prev, get_unmapped_area, insert_vm_struct, split_vma, sys_brk,
    unmapped_area_topdown, vm_end_gap, vm_start_gap, vma_wants_writenotify,
)
from kernel.mm.mprotect import do_mprotect_pkey
from kernel.sched.task import Task
from kernel.uaccess import Efault
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_NORESERVE, MAP_PRIVATE,
    MAP_SHARED,
    MAP_POPULATE, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_NONE, PROT_READ, PROT_SEM,
    PROT_WRITE, RLIM_INFINITY, RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK,
)

P = PAGE_SIZE
B = 0x10000000                      # where the fixed mappings of these tests go
RW = PROT_READ | PROT_WRITE
RX = PROT_READ | PROT_EXEC
ANON = MAP_PRIVATE | MAP_ANONYMOUS
SHARED = MAP_SHARED | MAP_ANONYMOUS
FIXED = ANON | MAP_FIXED
# vm_flags of a private anonymous mapping made by do_mmap (VM_ACCOUNT when writable).
MAY = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC
ANON_RW_FLAGS = VM_READ | VM_WRITE | MAY | VM_ACCOUNT


# -- harness ------------------------------------------------------------------------


class Env:
    """A kernel with one task and its (empty) address space."""

    def __init__(self, ram_size=16 << 20, max_map_count=None):
        self.board = Board(ram_size=ram_size, cores=1)
        self.k = Kernel(self.board)
        if max_map_count is not None:
            self.k.max_map_count = max_map_count
        self.task = Task(self.k, 1, "t", ["t"])
        self.task.mm = self.k.mm_alloc(self.task)
        self.k.tasks[1] = self.task         # so the rmap walks find this mm
        self.uaccess = self.task.uaccess
        self.mm = self.task.mm

    # Thin wrappers returning what the kernel functions return.
    def mmap(self, addr, npages, prot=RW, flags=FIXED):
        return do_mmap(self.mm, None, addr, npages * P, prot, flags, 0)

    def munmap(self, addr, length):
        return do_munmap(self.mm, addr, length)

    def mprotect(self, addr, length, prot):
        return do_mprotect_pkey(self.mm, addr, length, prot)

    def write(self, addr, data):
        self.uaccess.copy_to_user(addr, data)

    def read(self, addr, length):
        return self.uaccess.copy_from_user(addr, length)

    def ranges(self):
        return [(v.vm_start, v.vm_end) for v in self.mm.vmas()]

    def vmas(self):
        return list(self.mm.vmas())

    def pte(self, addr):
        """The level-3 descriptor mapping addr, or 0 if there is none."""
        pt = self.k.pgtable
        ptep = pt.pte_offset(self.mm, addr)
        return pt.read_pte(ptep) if ptep is not None else 0

    def peek_page(self, addr):
        """The contents of the frame mapping the page at addr, without faulting
        (whatever its protection), or None if no pte is present."""
        pte = self.pte(addr)
        if not pte & PTE_PRESENT_MASK:
            return None
        frame = pte & DESC_ADDR_MASK
        return self.k.memory.read(frame, P)

    def check(self, accounting=True):
        check_mm(self.mm, accounting=accounting)


@pytest.fixture
def env():
    return Env()


def pages(vma):
    return (vma.vm_end - vma.vm_start) >> PAGE_SHIFT


def _rb_check(node, parent):
    """Red-black properties and parent links; returns (black height, in-order list)."""
    if node is None:
        return 1, []
    assert node.rb_parent is parent, "broken rb_parent at %r" % (node,)
    if node.rb_red:
        for child in (node.rb_left, node.rb_right):
            assert child is None or not child.rb_red, "red %r has a red child" % (node,)
    lh, left = _rb_check(node.rb_left, node)
    rh, right = _rb_check(node.rb_right, node)
    assert lh == rh, "black heights differ below %r" % (node,)
    return lh + (0 if node.rb_red else 1), left + [node] + right


def _own_gap(vma):
    """The gap just below vma, as mm/mmap.c counts it (vma_compute_subtree_gap)."""
    start = vm_start_gap(vma)
    prev_end = vm_end_gap(vma.vm_prev) if vma.vm_prev is not None else 0
    return start - prev_end if start > prev_end else 0


def _subtree_gap_check(node):
    """Assert every node's rb_subtree_gap is the brute-force max over its subtree."""
    if node is None:
        return 0
    best = max(_own_gap(node), _subtree_gap_check(node.rb_left),
               _subtree_gap_check(node.rb_right))
    assert node.rb_subtree_gap == best, \
        "rb_subtree_gap of %r is %#x, brute force says %#x" % (node, node.rb_subtree_gap, best)
    return best


def check_mm(mm, accounting=True):
    """The invariants mm/mmap.c's validate_mm() / validate_mm_rb() check, and more."""
    vmas = []
    prev = None
    vma = mm.mmap
    while vma is not None:
        assert len(vmas) < 1 << 20, "VMA list loops"
        assert vma.vm_prev is prev, "vm_prev of %r is %r, not %r" % (vma, vma.vm_prev, prev)
        assert vma.vm_mm is mm
        assert vma.vm_start < vma.vm_end, "empty or inverted %r" % (vma,)
        assert vma.vm_start % P == 0 and vma.vm_end % P == 0, "unaligned %r" % (vma,)
        assert vma.vm_end <= mm.task_size
        if prev is not None:
            assert prev.vm_end <= vma.vm_start, "%r overlaps or is out of order after %r" % (
                vma, prev)
        # a shared writable file mapping is write-protected for dirty tracking
        flags = vma.vm_flags & ~VM_SHARED if vma_wants_writenotify(vma) else vma.vm_flags
        assert vma.vm_page_prot == vm_get_page_prot(flags), \
            "vm_page_prot of %r does not follow its vm_flags" % (vma,)
        vmas.append(vma)
        prev = vma
        vma = vma.vm_next
    assert mm.map_count == len(vmas), "map_count %d, list has %d" % (mm.map_count, len(vmas))
    root = mm.mm_rb.rb_node
    assert root is None or (root.rb_parent is None and not root.rb_red)
    _, inorder = _rb_check(root, None)
    assert [id(v) for v in inorder] == [id(v) for v in vmas], "rbtree and list disagree"
    _subtree_gap_check(root)
    assert mm.highest_vm_end == (vm_end_gap(vmas[-1]) if vmas else 0), \
        "highest_vm_end %#x" % mm.highest_vm_end
    assert mm.mmap_cache is None or any(v is mm.mmap_cache for v in vmas), "stale mmap_cache"
    if accounting:
        total = sum(pages(v) for v in vmas)
        data = sum(pages(v) for v in vmas
                   if v.vm_flags & (VM_WRITE | VM_SHARED | VM_STACK) == VM_WRITE)
        exe = sum(pages(v) for v in vmas
                  if v.vm_flags & (VM_WRITE | VM_EXEC | VM_STACK) == VM_EXEC)
        stack = sum(pages(v) for v in vmas
                    if v.vm_flags & (VM_WRITE | VM_EXEC | VM_STACK) != VM_EXEC
                    and v.vm_flags & VM_STACK == VM_STACK)
        assert (mm.total_vm, mm.data_vm, mm.exec_vm, mm.stack_vm) == (total, data, exe, stack), \
            "vm_stat counters (total, data, exec, stack) disagree with the VMAs"
    return vmas


# -- find_vma and friends -------------------------------------------------------------


def three_vmas(env):
    """[B, B+2P) rw, [B+4P, B+5P) r, [B+8P, B+10P) rx — separated by holes."""
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 4 * P, 1, PROT_READ) == B + 4 * P
    assert env.mmap(B + 8 * P, 2, RX) == B + 8 * P
    env.check()
    return env.vmas()


def test_find_vma_empty(env):
    assert find_vma(env.mm, 0) is None
    assert find_vma(env.mm, B) is None
    assert find_vma_prev(env.mm, B) == (None, None)
    assert find_vma_intersection(env.mm, 0, env.mm.task_size) is None


def test_find_vma_first_vma_ending_above(env):
    a, b, c = three_vmas(env)
    mm = env.mm
    # The first VMA with addr < vm_end, whether or not it contains addr.
    for addr, want in [(0, a), (B - 1, a), (B, a), (B + 2 * P - 1, a), (B + 2 * P, b),
                       (B + 4 * P - 1, b), (B + 4 * P, b), (B + 5 * P - 1, b), (B + 5 * P, c),
                       (B + 10 * P - 1, c), (B + 10 * P, None), (mm.task_size - 1, None)]:
        assert find_vma(mm, addr) is want, hex(addr)
    # The one-entry cache must not answer for addresses outside its VMA.
    assert find_vma(mm, B + 9 * P) is c
    assert find_vma(mm, B + 3 * P) is b
    assert find_vma(mm, B + P) is a


def test_find_vma_prev(env):
    a, b, c = three_vmas(env)
    mm = env.mm
    assert find_vma_prev(mm, 0) == (a, None)
    assert find_vma_prev(mm, B + P) == (a, None)
    assert find_vma_prev(mm, B + 2 * P) == (b, a)
    assert find_vma_prev(mm, B + 4 * P) == (b, a)
    assert find_vma_prev(mm, B + 6 * P) == (c, b)
    assert find_vma_prev(mm, B + 9 * P) == (c, b)
    # Past the last VMA: no vma, and prev is the last one (the rightmost node).
    assert find_vma_prev(mm, B + 10 * P) == (None, c)
    assert find_vma_prev(mm, mm.task_size - 1) == (None, c)


def test_find_vma_intersection_edges(env):
    a, b, c = three_vmas(env)
    mm = env.mm
    cases = [
        ((0, B), None),                      # ends exactly where a starts
        ((0, B + 1), a),
        ((B + 2 * P, B + 4 * P), None),      # the whole hole, touching both sides
        ((B + 2 * P - 1, B + 4 * P), a),
        ((B + 2 * P, B + 4 * P + 1), b),
        ((B + 3 * P, B + 9 * P), b),         # the first of several
        ((B + 5 * P, B + 8 * P), None),
        ((B + 9 * P, B + 9 * P + 1), c),
        ((B + 10 * P, B + 11 * P), None),    # starts where c ends
        ((0, mm.task_size), a),
    ]
    for (start, end), want in cases:
        assert find_vma_intersection(mm, start, end) is want, (hex(start), hex(end))


def test_find_vma_after_unmap_does_not_return_stale_cache(env):
    a, b, c = three_vmas(env)
    assert find_vma(env.mm, B + 4 * P) is b          # now cached
    assert env.munmap(B + 4 * P, P) == 0
    assert find_vma(env.mm, B + 4 * P) is c
    env.check()


# -- insert_vm_struct -------------------------------------------------------------------


def new_vma(env, start, end, flags=ANON_RW_FLAGS):
    return VmAreaStruct(env.mm, start, end, flags, vm_get_page_prot(flags), pgoff=12345)


def test_insert_vm_struct_links_and_sets_anon_pgoff(env):
    mm = env.mm
    v = new_vma(env, B, B + 2 * P)
    assert insert_vm_struct(mm, v) == 0
    assert v.vm_pgoff == B >> PAGE_SHIFT              # vma_is_anonymous(): pgoff = start
    assert env.ranges() == [(B, B + 2 * P)]
    env.check(accounting=False)
    # Touching on either side is fine (and insert_vm_struct never merges).
    w = new_vma(env, B + 2 * P, B + 3 * P)
    u = new_vma(env, B - P, B)
    assert insert_vm_struct(mm, w) == 0
    assert insert_vm_struct(mm, u) == 0
    assert env.ranges() == [(B - P, B), (B, B + 2 * P), (B + 2 * P, B + 3 * P)]
    assert mm.map_count == 3
    env.check(accounting=False)


@pytest.mark.parametrize("start,end", [
    (B, B + 2 * P),            # identical
    (B + P, B + 3 * P),        # overlaps the top
    (B - P, B + P),            # overlaps the bottom
    (B - P, B + 3 * P),        # covers
    (B + P, B + 2 * P),        # inside
    (B + 2 * P - 1, B + 3 * P),
])
def test_insert_vm_struct_overlap_is_enomem(env, start, end):
    mm = env.mm
    assert insert_vm_struct(mm, new_vma(env, B, B + 2 * P)) == 0
    assert insert_vm_struct(mm, new_vma(env, start, end)) == -errno.ENOMEM
    assert env.ranges() == [(B, B + 2 * P)]
    assert mm.map_count == 1
    env.check(accounting=False)


# -- vma_merge cases 1-8, through mmap and mprotect ---------------------------------------
#
# mm/mmap.c's diagram (AAAA: the range, PPPP: prev, NNNN: next, XXXX: next's next):
#
#     AAAA             AAAA                AAAA          AAAA
#    PPPPPPNNNNNN    PPPPPPNNNNNN    PPPPPPNNNNNN    PPPPNNNNXXXX
#    cannot merge    might become    might become    might become
#                    PPNNNNNNNNNN    PPPPPPPPPPNN    PPPPPPPPPPPP 6 or
#    mmap, brk or    case 4 below    case 5 below    PPPPPPPPXXXX 7 or
#    mremap move:                                    PPPPXXXXXXXX 8
#        AAAA
#    PPPP    NNNN    PPPPPPPPPPPP    PPPPPPPPNNNN    PPPPNNNNNNNN
#    might become    case 1 below    case 2 below    case 3 below


def pattern(tag, addr):
    return bytes([tag, (addr >> PAGE_SHIFT) & 0xFF]) * 8


def fill(env, start, npages, tag):
    """Write a distinct byte pattern into each page (they must be writable)."""
    for i in range(npages):
        env.write(start + i * P, pattern(tag, start + i * P))


def assert_filled(env, start, npages, tag):
    """The pattern of fill() is still in each page (read through the pte: any prot)."""
    for i in range(npages):
        data = env.peek_page(start + i * P)
        assert data is not None, "page %#x lost its pte" % (start + i * P)
        assert data[:16] == pattern(tag, start + i * P), "page %#x lost its data" % (start + i * P)


def test_merge_case1_mmap_fills_hole_between_prev_and_next(env):
    assert env.mmap(B, 1) == B
    assert env.mmap(B + 2 * P, 1) == B + 2 * P
    first = env.vmas()[0]
    fill(env, B + 2 * P, 1, 3)             # next has an anon_vma, prev none yet
    assert env.mmap(B + P, 1) == B + P
    assert env.ranges() == [(B, B + 3 * P)]
    (v,) = env.vmas()
    assert v is first                      # prev grew over the range and next
    assert v.vm_pgoff == B >> PAGE_SHIFT
    assert v.vm_flags == ANON_RW_FLAGS
    assert_filled(env, B + 2 * P, 1, 3)
    env.check()


def test_merge_case1_refused_between_different_anon_vmas(env):
    # Both neighbours have (different) anon_vmas: is_mergeable_anon_vma(prev,
    # next) fails, so only case 2 applies.
    assert env.mmap(B, 1) == B
    assert env.mmap(B + 2 * P, 1) == B + 2 * P
    fill(env, B, 1, 1)
    fill(env, B + 2 * P, 1, 3)
    assert env.vmas()[0].anon_vma is not env.vmas()[1].anon_vma
    assert env.mmap(B + P, 1) == B + P
    assert env.ranges() == [(B, B + 2 * P), (B + 2 * P, B + 3 * P)]
    assert_filled(env, B, 1, 1)
    assert_filled(env, B + 2 * P, 1, 3)
    env.check()


def test_merge_case2_mmap_after_prev(env):
    assert env.mmap(B, 2) == B
    first = env.vmas()[0]
    assert env.mmap(B + 2 * P, 3) == B + 2 * P
    assert env.ranges() == [(B, B + 5 * P)]
    assert env.vmas()[0] is first
    env.check()


def test_merge_case3_mmap_before_next(env):
    assert env.mmap(B + 2 * P, 2) == B + 2 * P
    nxt = env.vmas()[0]
    fill(env, B + 2 * P, 2, 7)
    assert env.mmap(B, 2) == B
    assert env.ranges() == [(B, B + 4 * P)]
    assert env.vmas()[0] is nxt
    assert nxt.vm_pgoff == B >> PAGE_SHIFT
    assert_filled(env, B + 2 * P, 2, 7)
    env.check()


@pytest.mark.parametrize("prot2", [PROT_READ, RX, PROT_NONE, PROT_WRITE, RW | PROT_EXEC])
def test_adjacent_mmaps_with_different_prot_do_not_merge(env, prot2):
    assert env.mmap(B, 1) == B
    assert env.mmap(B + P, 1, prot2) == B + P
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P)]
    env.check()


def test_adjacent_read_only_mmap_and_read_only_mprotect_differ_by_vm_account(env):
    # A private mapping once writable keeps VM_ACCOUNT after mprotect(PROT_READ)
    # (mprotect_fixup never unaccounts), so a fresh PROT_READ mapping beside it
    # has different vm_flags and stays separate.
    assert env.mmap(B, 1) == B
    assert env.mprotect(B, P, PROT_READ) == 0
    assert env.vmas()[0].vm_flags == VM_READ | MAY | VM_ACCOUNT
    assert env.mmap(B + P, 1, PROT_READ) == B + P
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P)]
    env.check()


def test_shared_anonymous_mappings_never_merge(env):
    assert env.mmap(B, 1, RW, SHARED | MAP_FIXED) == B
    assert env.mmap(B + P, 1, RW, SHARED | MAP_FIXED) == B + P
    assert env.mmap(B + 2 * P, 1, RW, FIXED) == B + 2 * P
    assert env.mmap(B - P, 1, RW, FIXED) == B - P
    assert len(env.vmas()) == 4
    a, b = env.vmas()[1:3]
    assert a.vm_flags & (VM_SHARED | VM_MAYSHARE) == VM_SHARED | VM_MAYSHARE
    assert a.vm_file is not None and a.vm_file is not b.vm_file
    assert a.vm_pgoff == 0 and b.vm_pgoff == 0
    env.check()


def three_flag_vmas(env):
    """PPPP NNNN XXXX: [B, B+P) rw, [B+P, B+2P) r, [B+2P, B+3P) r-x, all accounted."""
    assert env.mmap(B, 3) == B
    fill(env, B, 3, 9)
    assert env.mprotect(B + P, 2 * P, PROT_READ) == 0
    assert env.mprotect(B + 2 * P, P, RX) == 0
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P), (B + 2 * P, B + 3 * P)]
    env.check()
    return env.vmas()


def test_merge_case4_mprotect_tail_of_prev_joins_next(env):
    assert env.mmap(B, 4) == B
    fill(env, B, 4, 4)
    assert env.mprotect(B + 2 * P, 2 * P, PROT_READ) == 0      # split: PP|NN
    prev, nxt = env.vmas()
    assert env.mprotect(B + P, P, PROT_READ) == 0              # PPPP's tail -> NNNN
    assert env.ranges() == [(B, B + P), (B + P, B + 4 * P)]
    assert env.vmas() == [prev, nxt]
    assert nxt.vm_pgoff == (B + P) >> PAGE_SHIFT
    assert nxt.vm_flags == VM_READ | MAY | VM_ACCOUNT
    assert prev.vm_flags == ANON_RW_FLAGS
    assert_filled(env, B, 4, 4)
    with pytest.raises(Efault):
        env.write(B + P, b"x")
    env.write(B, b"y")
    env.check()


def test_merge_case5_mprotect_head_of_next_joins_prev(env):
    assert env.mmap(B, 4) == B
    fill(env, B, 4, 5)
    assert env.mprotect(B + 2 * P, 2 * P, PROT_READ) == 0
    prev, nxt = env.vmas()
    assert env.mprotect(B + 2 * P, P, RW) == 0
    assert env.ranges() == [(B, B + 3 * P), (B + 3 * P, B + 4 * P)]
    assert env.vmas() == [prev, nxt]
    assert nxt.vm_pgoff == (B + 3 * P) >> PAGE_SHIFT
    assert_filled(env, B, 4, 5)
    env.write(B + 2 * P, b"z")                                 # writable again
    assert env.read(B + 2 * P, 1) == b"z"
    env.check()


def test_merge_case6_mprotect_middle_splits_then_merges_back(env):
    assert env.mmap(B, 3) == B
    fill(env, B, 3, 6)
    original = env.vmas()[0]
    assert env.mprotect(B + P, P, PROT_READ) == 0
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P), (B + 2 * P, B + 3 * P)]
    lo, mid, hi = env.vmas()
    # split_vma(vma, start, new_below=1) then split_vma(vma, end, 0): the
    # original struct keeps the changed range; new ones take either side.
    assert mid is original
    assert [v.vm_pgoff for v in (lo, mid, hi)] == [(B + i * P) >> PAGE_SHIFT for i in range(3)]
    assert mid.vm_flags == VM_READ | MAY | VM_ACCOUNT
    assert lo.vm_flags == hi.vm_flags == ANON_RW_FLAGS
    env.check()
    assert env.mprotect(B + P, P, RW) == 0                     # PPPP + NNNN + XXXX
    assert env.ranges() == [(B, B + 3 * P)]
    assert env.vmas()[0] is lo
    assert lo.vm_pgoff == B >> PAGE_SHIFT
    assert_filled(env, B, 3, 6)
    env.check()


def test_merge_case7_mprotect_whole_next_joins_prev(env):
    p, n, x = three_flag_vmas(env)
    assert env.mprotect(B + P, P, RW) == 0
    assert env.ranges() == [(B, B + 2 * P), (B + 2 * P, B + 3 * P)]
    assert env.vmas() == [p, x]
    assert_filled(env, B, 3, 9)
    env.check()


def test_merge_case8_mprotect_whole_next_joins_its_successor(env):
    p, n, x = three_flag_vmas(env)
    assert env.mprotect(B + P, P, RX) == 0
    assert env.ranges() == [(B, B + P), (B + P, B + 3 * P)]
    assert env.vmas() == [p, x]             # NNNN is removed, XXXX extended down
    assert x.vm_pgoff == (B + P) >> PAGE_SHIFT
    assert x.vm_flags == VM_READ | VM_EXEC | MAY | VM_ACCOUNT
    assert_filled(env, B, 3, 9)
    env.check()


def test_mprotect_across_three_vmas_merges_all(env):
    p, n, x = three_flag_vmas(env)
    assert env.mprotect(B, 3 * P, PROT_READ) == 0
    assert env.ranges() == [(B, B + 3 * P)]
    assert env.vmas()[0].vm_flags == VM_READ | MAY | VM_ACCOUNT
    assert_filled(env, B, 3, 9)
    env.check()


def test_mprotect_same_prot_is_a_no_op(env):
    assert env.mmap(B, 3) == B
    v = env.vmas()[0]
    assert env.mprotect(B + P, P, RW) == 0
    assert env.vmas() == [v] and env.ranges() == [(B, B + 3 * P)]
    env.check()


def _anon_vma_case(env, case):
    """Arrange a merge in which the VMA that would survive had no anon_vma
    and the one giving up pages had one.  Returns that anon_vma."""
    if case == "1":             # mmap between P (never written) and N (written)
        env.mmap(B, 1)
        env.mmap(B + 2 * P, 1)
        env.write(B + 2 * P, b"n")
        want = env.vmas()[1].anon_vma
        env.mmap(B + P, 1)
    elif case == "4":           # P written, N not; the tail of P would join N
        env.mmap(B, 3)
        env.mprotect(B + 2 * P, P, PROT_READ)    # N: r, accounted, no anon_vma
        env.write(B, b"p")
        want = env.vmas()[0].anon_vma
        env.mprotect(B + P, P, PROT_READ)
    elif case == "5":           # N written, P not; the head of N would join P
        env.mmap(B, 1, PROT_READ)
        env.mprotect(B, P, RW)
        env.mprotect(B, P, PROT_READ)        # P: r, accounted, no anon_vma
        env.mmap(B + P, 2)
        env.write(B + P, b"n")
        want = env.vmas()[1].anon_vma
        env.mprotect(B + P, P, PROT_READ)
    elif case == "8":           # N written, X not; the whole of N would join X
        # MAP_NORESERVE keeps VM_ACCOUNT off both, so N's flags can become X's.
        env.mmap(B + P, 1, RW, FIXED | MAP_NORESERVE)
        env.write(B + P, b"n")
        want = env.vmas()[0].anon_vma
        env.mmap(B + 2 * P, 1, PROT_READ, FIXED | MAP_NORESERVE)
        env.mprotect(B + P, P, PROT_READ)
    assert want is not None
    env.check()
    return want


def test_merge_imports_anon_vma_into_the_expanding_vma(env):
    """__vma_adjust(): "Easily overlooked: ... make sure the expanding vma
    has anon_vma set if the shrinking vma had, to cover any anon pages
    imported" — exporter/importer and anon_vma_clone, in case 1 (the new
    region has no anon_vma, so the anon_vma-less P may take it and N)."""
    want = _anon_vma_case(env, "1")
    (survivor,) = env.vmas()
    assert survivor.anon_vma is want
    assert [avc.anon_vma for avc in survivor.anon_vma_chain] == [want]


@pytest.mark.parametrize("case", ["4", "5", "8"])
def test_written_pages_never_merge_into_an_unwritten_vma(env, case):
    """4.14's is_mergeable_anon_vma(anon_vma, vma->anon_vma, vma) lets an
    unset anon_vma match only when `vma`'s chain holds exactly one anon_vma;
    the chain of a VMA that has no anon_vma is empty, so pages with an
    anon_vma never merge into it (965f55dea0e3 "mmap: avoid merging cloned
    VMAs", v3.0).  The mprotect is done by splitting instead.  Linux v6.16
    ("mm/vma: fix incorrectly disallowed anonymous VMA merges", Fixes:
    965f55dea0e3) applies the test to the VMA that has the anon_vma instead,
    and a 6.16+ kernel merges case 8."""
    want = _anon_vma_case(env, case)
    vmas = env.vmas()
    assert len(vmas) == (2 if case == "8" else 3)
    # The unwritten neighbour is untouched; every other piece keeps `want`.
    assert [v.anon_vma for v in vmas].count(None) == 1
    assert all(v.anon_vma is want for v in vmas if v.anon_vma is not None)


def test_merge_after_anon_vma_import_respects_anon_vma_identity(env):
    """Why the import matters: after it, a later case-1 merge between two
    different anon_vmas is refused (without it, the merged VMA looks
    anon_vma-less and merges with anything)."""
    env.mmap(B, 1)
    env.mmap(B + 2 * P, 1)
    env.write(B + 2 * P, b"a")           # anon_vma A
    env.mmap(B + P, 1)                   # case 1: [B, B+3P), anon_vma A in Linux
    env.mmap(B + 4 * P, 1)
    env.write(B + 4 * P, b"b")           # anon_vma B (not adjacent when prepared)
    env.mmap(B + 3 * P, 1)               # prev has A, next has B: case 2 only
    assert env.ranges() == [(B, B + 4 * P), (B + 4 * P, B + 5 * P)]
    env.check()


# -- split_vma -----------------------------------------------------------------------------


def test_split_vma_above_gives_upper_half_its_own_pgoff(env):
    assert env.mmap(B, 4) == B
    (v,) = env.vmas()
    assert split_vma(env.mm, v, B + P, 0) == 0
    lo, hi = env.vmas()
    assert lo is v
    assert (lo.vm_start, lo.vm_end, lo.vm_pgoff) == (B, B + P, B >> PAGE_SHIFT)
    assert (hi.vm_start, hi.vm_end, hi.vm_pgoff) == (B + P, B + 4 * P, (B + P) >> PAGE_SHIFT)
    assert hi.vm_flags == lo.vm_flags and hi.anon_vma is lo.anon_vma
    env.check()


def test_split_vma_below(env):
    assert env.mmap(B, 4) == B
    (v,) = env.vmas()
    assert split_vma(env.mm, v, B + 3 * P, 1) == 0
    lo, hi = env.vmas()
    assert hi is v
    assert (lo.vm_start, lo.vm_end, lo.vm_pgoff) == (B, B + 3 * P, B >> PAGE_SHIFT)
    assert (hi.vm_start, hi.vm_end, hi.vm_pgoff) == (B + 3 * P, B + 4 * P,
                                                    (B + 3 * P) >> PAGE_SHIFT)
    env.check()


def test_split_shared_anonymous_mapping_pgoff_and_file_references(env):
    assert env.mmap(B, 3, RW, SHARED | MAP_FIXED) == B
    (v,) = env.vmas()
    f = v.vm_file
    fill(env, B, 3, 2)
    assert f.refcount == 1
    assert env.mprotect(B + P, P, PROT_READ) == 0
    lo, mid, hi = env.vmas()
    assert [x.vm_pgoff for x in (lo, mid, hi)] == [0, 1, 2]   # offsets into the shmem file
    assert all(x.vm_file is f for x in (lo, mid, hi))
    assert f.refcount == 3                                    # get_file() per split
    env.check()
    assert env.mprotect(B + P, P, RW) == 0                   # merges back: fput() per removal
    assert env.ranges() == [(B, B + 3 * P)]
    assert f.refcount == 1
    assert_filled(env, B, 3, 2)
    assert env.munmap(B, P) == 0
    assert f.refcount == 1 and f.mapping.pages                # the rest still maps it
    assert_filled(env, B + P, 2, 2)
    assert env.munmap(B + P, 2 * P) == 0
    assert f.refcount == 0 and not f.mapping.pages
    env.check()


def test_shared_pages_survive_unmapping_another_part(env):
    """shmem keeps pages in its page cache while any VMA maps the file."""
    free0 = env.k.pages.nr_free
    assert env.mmap(B, 2, RW, SHARED | MAP_FIXED) == B
    assert env.mmap(B, 1, RW, FIXED) == B            # MAP_FIXED over the first page
    env.write(B + P, b"late")                        # first touch after the split
    assert env.read(B + P, 4) == b"late"
    assert env.munmap(B, 2 * P) == 0
    assert env.k.pages.nr_free == free0               # nothing leaked
    env.check()


def test_split_vma_refused_at_max_map_count():
    env = Env(max_map_count=2)
    assert env.mmap(B, 4) == B
    assert env.mmap(B + 8 * P, 1) == B + 8 * P
    v = env.vmas()[0]
    assert split_vma(env.mm, v, B + P, 0) == -errno.ENOMEM
    assert env.ranges() == [(B, B + 4 * P), (B + 8 * P, B + 9 * P)]
    env.check()


# -- do_munmap -----------------------------------------------------------------------------


def test_munmap_spanning_three_vmas(env):
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 2 * P, 2, PROT_READ) == B + 2 * P
    assert env.mmap(B + 4 * P, 2, RX) == B + 4 * P
    fill(env, B, 2, 1)
    env.read(B + 2 * P, 2 * P)                           # zero page, no frames
    env.mprotect(B + 4 * P, 2 * P, RW)
    fill(env, B + 4 * P, 2, 3)
    env.mprotect(B + 4 * P, 2 * P, RX)
    assert len(env.vmas()) == 3
    free = env.k.pages.nr_free
    rss = env.mm.rss_anon
    assert env.munmap(B + P, 4 * P) == 0
    assert env.ranges() == [(B, B + P), (B + 5 * P, B + 6 * P)]
    lo, hi = env.vmas()
    assert lo.vm_pgoff == B >> PAGE_SHIFT and hi.vm_pgoff == (B + 5 * P) >> PAGE_SHIFT
    assert hi.vm_flags & (VM_READ | VM_WRITE | VM_EXEC) == VM_READ | VM_EXEC
    for i in range(1, 5):
        assert not env.pte(B + i * P) & PTE_PRESENT_MASK
    # Two frames freed (B+P and B+4P); the page tables stay (still in use).
    assert env.k.pages.nr_free == free + 2
    assert env.mm.rss_anon == rss - 2
    assert env.peek_page(B)[:16] == pattern(1, B)
    assert env.peek_page(B + 5 * P)[:16] == pattern(3, B + 5 * P)
    env.check()


def test_munmap_middle_of_vma(env):
    assert env.mmap(B, 5) == B
    assert env.munmap(B + 2 * P, P) == 0
    assert env.ranges() == [(B, B + 2 * P), (B + 3 * P, B + 5 * P)]
    assert env.vmas()[1].vm_pgoff == (B + 3 * P) >> PAGE_SHIFT
    env.check()


def test_munmap_rounds_length_up(env):
    assert env.mmap(B, 3) == B
    assert env.munmap(B, 1) == 0
    assert env.ranges() == [(B + P, B + 3 * P)]
    assert env.munmap(B + P, P + 1) == 0
    assert env.ranges() == []
    env.check()


def test_munmap_of_a_hole_returns_0(env):
    assert env.mmap(B, 1) == B
    assert env.mmap(B + 3 * P, 1) == B + 3 * P
    before = env.ranges()
    assert env.munmap(B + P, 2 * P) == 0
    assert env.munmap(B + 10 * P, 100 * P) == 0
    assert env.munmap(P, B - P) == 0
    assert env.ranges() == before
    env.check()


@pytest.mark.parametrize("start,length", [
    (B + 1, P),                 # unaligned start
    (B + P - 1, P),
    (B, 0),                     # zero length
    (1 << 48, P),               # start above TASK_SIZE (48-bit VAs)
    ((1 << 48) + P, P),
    (B, (1 << 48) - B + 1),     # len > TASK_SIZE - start
    (B, 1 << 64),
])
def test_munmap_einval(env, start, length):
    assert env.mmap(B, 2) == B
    assert env.munmap(start, length) == -errno.EINVAL
    assert env.ranges() == [(B, B + 2 * P)]
    env.check()


def test_munmap_whole_address_space(env):
    assert env.mmap(B, 2) == B
    assert env.mmap(0, 3, RW, ANON) > B
    assert env.munmap(0, env.mm.task_size) == 0
    assert env.ranges() == []
    assert env.mm.highest_vm_end == 0
    env.check()


def test_munmap_frees_frames_and_page_tables(env):
    free0 = env.k.pages.nr_free
    assert env.mmap(B, 8) == B
    fill(env, B, 8, 1)
    assert env.k.pages.nr_free < free0 - 8           # 8 frames + 3 table levels
    assert env.munmap(B, 8 * P) == 0
    assert env.k.pages.nr_free == free0
    assert env.mm.nr_ptes == 0
    assert env.mm.get_mm_rss() == 0
    env.check()


def test_munmap_split_refused_at_max_map_count():
    env = Env(max_map_count=2)
    assert env.mmap(B, 4) == B
    assert env.mmap(B + 8 * P, 1) == B + 8 * P
    # A hole in the middle would make three VMAs.
    assert env.munmap(B + P, P) == -errno.ENOMEM
    assert env.ranges() == [(B, B + 4 * P), (B + 8 * P, B + 9 * P)]
    # Trimming an end does not add a VMA: allowed at the limit.
    assert env.munmap(B + 3 * P, P) == 0
    assert env.munmap(B, P) == 0
    assert env.ranges() == [(B + P, B + 3 * P), (B + 8 * P, B + 9 * P)]
    env.check()


# -- get_unmapped_area and do_mmap placement --------------------------------------------------


def test_first_mmap_lands_just_below_mmap_base(env):
    mm = env.mm
    a = env.mmap(0, 2, RW, ANON)
    assert a == mm.mmap_base - 2 * P
    b = env.mmap(0, 1, PROT_READ, ANON)
    assert b == a - P
    c = env.mmap(0, 3, RW, ANON)
    assert c == b - 3 * P
    assert env.ranges() == [(c, b), (b, a), (a, mm.mmap_base)]
    env.check()


def test_topdown_fills_the_highest_hole_that_fits(env):
    mm = env.mm
    top = mm.mmap_base
    assert env.mmap(top - 10 * P, 5, PROT_READ) == top - 10 * P
    assert env.mmap(top - 3 * P, 3, PROT_READ) == top - 3 * P
    # Hole [top-5P, top-3P) of two pages: a 3-page mapping goes below everything.
    assert env.mmap(0, 3, RW, ANON) == top - 13 * P
    assert env.mmap(0, 2, RX, ANON) == top - 5 * P
    assert env.mmap(0, 1, RX, ANON) == top - 14 * P
    env.check()


def test_topdown_search_matches_brute_force_over_many_gaps(env):
    """unmapped_area_topdown() descends the rbtree by rb_subtree_gap; with many
    VMAs and holes of many sizes its answer must be the highest hole that fits."""
    mm = env.mm
    low = B
    addr = low
    layout = []
    for i in range(120):
        hole = ((i * 37) % 11) * P          # 0..10 pages
        size = (1 + (i * 13) % 3) * P
        addr += hole
        assert env.mmap(addr, size >> PAGE_SHIFT, PROT_READ if i % 2 else RX) == addr
        layout.append((addr, addr + size))
        addr += size
    high = addr
    env.check()

    def brute(length):
        best = -errno.ENOMEM
        prev_end = 0
        for s, e in layout:
            lo, hi = max(prev_end, low), min(s, high)
            if hi - lo >= length:
                best = hi - length
            prev_end = e
        return best

    for npages in range(1, 13):
        got = unmapped_area_topdown(mm, npages * P, low, high)
        assert got == brute(npages * P), npages


def test_unmapped_area_topdown_limits(env):
    mm = env.mm
    assert env.mmap(B + P, 1) == B + P
    # Holes [B, B+P) and [B+2P, B+4P) inside [B, B+4P).
    assert unmapped_area_topdown(mm, 2 * P, B, B + 4 * P) == B + 2 * P
    assert unmapped_area_topdown(mm, P, B, B + 4 * P) == B + 3 * P
    assert unmapped_area_topdown(mm, 3 * P, B, B + 4 * P) == -errno.ENOMEM
    assert unmapped_area_topdown(mm, P, B, B + P) == B
    assert unmapped_area_topdown(mm, P, B + P, B + 2 * P) == -errno.ENOMEM
    assert unmapped_area_topdown(mm, 5 * P, B, B + 4 * P) == -errno.ENOMEM


def test_hint_is_honoured_when_free(env):
    assert env.mmap(B, 2, RW, ANON) == B
    assert env.mmap(B + 4 * P, 2, RW, ANON) == B + 4 * P
    # Exactly filling the hole is still "free".
    assert env.mmap(B + 2 * P, 2, PROT_READ, ANON) == B + 2 * P
    env.check()


@pytest.mark.parametrize("hint_page", [-1, 0, 1])
def test_hint_overlapping_a_mapping_goes_topdown(env, hint_page):
    assert env.mmap(B, 2) == B
    got = env.mmap(B + hint_page * P, 2, PROT_READ, ANON)
    assert got == env.mm.mmap_base - 2 * P
    env.check()


def test_hint_past_task_size_goes_topdown(env):
    mm = env.mm
    assert env.mmap(mm.task_size - P, 2, RW, ANON) == mm.mmap_base - 2 * P


def test_hint_at_mmap_min_addr_and_null_hint(env):
    # NULL means "no hint": top-down.  mmap_min_addr itself is a valid hint.
    assert MMAP_MIN_ADDR == P
    assert env.mmap(0, 1, RW, ANON) == env.mm.mmap_base - P
    assert env.mmap(MMAP_MIN_ADDR, 1, RW, ANON) == MMAP_MIN_ADDR
    env.check()


def test_hint_unaligned_is_rounded_down():
    """round_hint_to_min() does `hint &= PAGE_MASK` first; the hint then passes
    arch_get_unmapped_area_topdown()'s PAGE_ALIGN() unchanged."""
    env = Env()
    assert env.mmap(B + 0x800, 1, RW, ANON) == B
    # A sub-page non-NULL hint masks to NULL: no hint at all.
    env = Env()
    assert env.mmap(0x123, 1, RW, ANON) == env.mm.mmap_base - P


def test_map_fixed_noreplace(env):
    assert env.mmap(B, 2) == B
    fill(env, B, 2, 8)
    flags = ANON | MAP_FIXED_NOREPLACE
    for addr, npages in [(B, 1), (B + P, 1), (B - P, 2), (B - 4 * P, 10), (B + P, 5)]:
        assert env.mmap(addr, npages, RW, flags) == -errno.EEXIST, hex(addr)
    assert env.ranges() == [(B, B + 2 * P)]
    assert_filled(env, B, 2, 8)
    # Free ranges touching the mapping are fine (and merge).
    assert env.mmap(B + 2 * P, 1, RW, flags) == B + 2 * P
    assert env.mmap(B - P, 1, RW, flags) == B - P
    assert env.ranges() == [(B - P, B + 3 * P)]
    # Unaligned: EINVAL like MAP_FIXED.
    assert env.mmap(B + 10 * P + 1, 1, RW, flags) == -errno.EINVAL
    env.check()


def test_map_fixed_noreplace_low_unaligned_address():
    """Linux sets MAP_FIXED for MAP_FIXED_NOREPLACE *before* round_hint_to_min(),
    so a sub-page address is never rounded: EINVAL, as for MAP_FIXED."""
    env = Env()
    assert env.mmap(0x800, 1, RW, ANON | MAP_FIXED_NOREPLACE) == -errno.EINVAL
    assert env.ranges() == []


def test_map_fixed_replaces_and_zeroes(env):
    assert env.mmap(B, 3) == B
    fill(env, B, 3, 4)
    free = env.k.pages.nr_free
    assert env.mmap(B + P, 1, PROT_READ) == B + P
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P), (B + 2 * P, B + 3 * P)]
    assert env.read(B + P, 16) == bytes(16)
    assert env.k.pages.nr_free == free + 1
    # Mapping rw again over it merges everything back, still zero in the middle.
    assert env.mmap(B + P, 1) == B + P
    assert env.ranges() == [(B, B + 3 * P)]
    assert env.read(B + P, 16) == bytes(16)
    assert env.read(B, 16) == pattern(4, B)
    env.check()


@pytest.mark.parametrize("addr,length,flags,want", [
    (B, 0, FIXED, -errno.EINVAL),                       # zero length
    (B + 1, P, FIXED, -errno.EINVAL),                   # MAP_FIXED unaligned
    (B, P, MAP_ANONYMOUS | MAP_FIXED, -errno.EINVAL),   # no MAP_PRIVATE/MAP_SHARED
    (B, P, MAP_ANONYMOUS | 0xf | MAP_FIXED, -errno.EINVAL),
    (B, P, SHARED | MAP_GROWSDOWN | MAP_FIXED, -errno.EINVAL),
    ((1 << 48) - P, 2 * P, FIXED, -errno.ENOMEM),       # past TASK_SIZE
    (0, 1 << 49, ANON, -errno.ENOMEM),                  # longer than TASK_SIZE
    (0, (1 << 64) - 1, ANON, -errno.ENOMEM),            # PAGE_ALIGN overflows
])
def test_mmap_errors(env, addr, length, flags, want):
    assert do_mmap(env.mm, None, addr, length, RW, flags, 0) == want
    assert env.ranges() == []
    env.check()


def test_get_unmapped_area_fixed_checks(env):
    mm = env.mm
    assert get_unmapped_area(mm, None, B, P, 0, MAP_FIXED) == B
    assert get_unmapped_area(mm, None, B + 1, P, 0, MAP_FIXED) == -errno.EINVAL
    assert get_unmapped_area(mm, None, mm.task_size - P, 2 * P, 0, MAP_FIXED) == -errno.ENOMEM
    assert get_unmapped_area(mm, None, 0, mm.task_size + P, 0, 0) == -errno.ENOMEM


def test_stack_guard_gap_keeps_mappings_away_from_a_grows_down_vma(env):
    mm = env.mm
    stack = B + 1024 * P
    assert env.mmap(stack, 4, RW, FIXED | MAP_GROWSDOWN) == stack
    (s,) = env.vmas()
    assert s.vm_flags & VM_GROWSDOWN
    assert vm_start_gap(s) == stack - STACK_GUARD_GAP
    env.check()                              # rb_subtree_gap counts from vm_start_gap
    # A hint inside the guard gap is refused...
    assert env.mmap(stack - 2 * P, 1, RW, ANON) == mm.mmap_base - P
    # ...just below it is fine.
    hint = stack - STACK_GUARD_GAP - P
    assert env.mmap(hint, 1, RW, ANON) == hint
    # And the top-down search does not place anything in the guard gap either.
    assert unmapped_area_topdown(mm, P, stack - STACK_GUARD_GAP, stack + 8 * P) == stack + 7 * P
    assert unmapped_area_topdown(mm, P, stack - STACK_GUARD_GAP, stack) == -errno.ENOMEM
    env.check()


# -- expand_stack -----------------------------------------------------------------------------


STACK = 0x30000000


def test_fault_below_a_grows_down_vma_expands_it(env):
    mm = env.mm
    assert env.mmap(STACK, 4, RW, FIXED | MAP_GROWSDOWN) == STACK
    (s,) = env.vmas()
    env.write(STACK - 3 * P + 8, b"deep")
    assert env.vmas() == [s]
    assert (s.vm_start, s.vm_end) == (STACK - 3 * P, STACK + 4 * P)
    assert s.vm_pgoff == (STACK - 3 * P) >> PAGE_SHIFT
    assert mm.stack_vm == 7 and mm.total_vm == 7
    assert env.read(STACK - 3 * P + 8, 4) == b"deep"
    env.check()


def test_expand_stack_keeps_the_guard_gap_to_the_mapping_below(env):
    low = STACK - STACK_GUARD_GAP - 6 * P
    assert env.mmap(low, 1, PROT_READ) == low
    assert env.mmap(STACK, 2, RW, FIXED | MAP_GROWSDOWN) == STACK
    s = env.vmas()[1]
    # address - prev->vm_end must stay >= stack_guard_gap.
    limit = low + P + STACK_GUARD_GAP
    assert limit < STACK
    with pytest.raises(Efault):
        env.write(limit - P, b"x")
    assert s.vm_start == STACK
    env.write(limit, b"x")
    assert s.vm_start == limit
    env.check()


def test_expand_stack_ignores_a_prot_none_mapping_below(env):
    low = STACK - 8 * P
    assert env.mmap(low, 1, PROT_NONE) == low
    assert env.mmap(STACK, 2, RW, FIXED | MAP_GROWSDOWN) == STACK
    env.write(low + P, b"x")                    # right up to the PROT_NONE page
    assert env.ranges() == [(low, low + P), (low + P, STACK + 2 * P)]
    env.check()


def test_expand_stack_respects_rlimit_stack(env):
    env.task.rlim[RLIMIT_STACK] = [8 * P, 8 * P]
    assert env.mmap(STACK, 2, RW, FIXED | MAP_GROWSDOWN) == STACK
    env.write(STACK - 6 * P, b"x")              # size 8 pages: allowed
    with pytest.raises(Efault):
        env.write(STACK - 7 * P, b"x")          # 9 pages
    assert env.ranges() == [(STACK - 6 * P, STACK + 2 * P)]
    env.check()


def test_fault_below_an_ordinary_vma_is_not_growth(env):
    assert env.mmap(STACK, 2) == STACK
    with pytest.raises(Efault):
        env.write(STACK - P, b"x")
    assert env.ranges() == [(STACK, STACK + 2 * P)]


# -- mprotect ------------------------------------------------------------------------------------


def test_mprotect_einval_and_zero_length(env):
    assert env.mmap(B, 2) == B
    assert env.mprotect(B + 1, P, PROT_READ) == -errno.EINVAL
    assert env.mprotect(B, P, 0x10) == -errno.EINVAL                 # unknown prot bit
    assert env.mprotect(B, P, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP) == -errno.EINVAL
    assert env.mprotect(B, P, PROT_READ | PROT_GROWSUP) == -errno.EINVAL    # no VM_GROWSUP
    assert env.mprotect(B, P, PROT_READ | PROT_GROWSDOWN) == -errno.EINVAL  # not a stack
    assert env.mprotect(B, 0, PROT_READ) == 0
    assert env.mprotect(B + 10 * P, 0, PROT_READ) == 0                # even over a hole
    assert env.vmas()[0].vm_flags == ANON_RW_FLAGS
    assert env.mprotect(B, P, PROT_READ | PROT_SEM) == 0               # PROT_SEM accepted
    assert env.vmas()[0].vm_flags == VM_READ | MAY | VM_ACCOUNT
    env.check()


def test_mprotect_over_a_hole_is_enomem_after_changing_what_precedes_it(env):
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 3 * P, 1) == B + 3 * P
    # Starting in the hole: nothing changes.
    assert env.mprotect(B + 2 * P, 2 * P, PROT_READ) == -errno.ENOMEM
    assert all(v.vm_flags == ANON_RW_FLAGS for v in env.vmas())
    # Starting above every VMA.
    assert env.mprotect(B + 10 * P, P, PROT_READ) == -errno.ENOMEM
    # Starting in a VMA and running into the hole: Linux has already changed
    # the first VMA when it finds the hole.
    assert env.mprotect(B + P, 3 * P, PROT_READ) == -errno.ENOMEM
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P), (B + 3 * P, B + 4 * P)]
    assert env.vmas()[1].vm_flags == VM_READ | MAY | VM_ACCOUNT
    assert env.vmas()[2].vm_flags == ANON_RW_FLAGS
    env.check()


def test_mprotect_end_wraps_is_enomem(env):
    """do_mprotect_pkey(): len = PAGE_ALIGN(len); end = start + len; if (end <= start)
    return -ENOMEM — in 64-bit arithmetic, before any VMA is looked at."""
    assert env.mmap(B, 2) == B
    assert env.mprotect(B, (1 << 64) - B, PROT_READ) == -errno.ENOMEM
    assert env.mprotect(B, (1 << 64) - 1, PROT_READ) == -errno.ENOMEM
    assert env.vmas()[0].vm_flags == ANON_RW_FLAGS
    env.check()


def test_mprotect_refused_split_at_max_map_count():
    env = Env(max_map_count=1)
    assert env.mmap(B, 3) == B
    assert env.mprotect(B + P, P, PROT_READ) == -errno.ENOMEM
    assert env.mprotect(B + 2 * P, P, PROT_READ) == -errno.ENOMEM
    assert env.ranges() == [(B, B + 3 * P)]
    assert env.vmas()[0].vm_flags == ANON_RW_FLAGS
    assert env.mprotect(B, 3 * P, PROT_READ) == 0        # whole VMA: no split needed
    env.check()


def test_mprotect_growsdown_extends_to_the_vma_start(env):
    assert env.mmap(B, 4, RW, FIXED | MAP_GROWSDOWN) == B
    assert env.mprotect(B + 2 * P, P, PROT_READ | PROT_GROWSDOWN) == 0
    assert env.ranges() == [(B, B + 3 * P), (B + 3 * P, B + 4 * P)]
    lo, hi = env.vmas()
    assert lo.vm_flags & (VM_READ | VM_WRITE) == VM_READ
    assert hi.vm_flags & (VM_READ | VM_WRITE) == VM_READ | VM_WRITE
    env.check()


def test_mprotect_prot_none_keeps_data(env):
    assert env.mmap(B, 2) == B
    fill(env, B, 2, 5)
    assert env.mprotect(B, 2 * P, PROT_NONE) == 0
    with pytest.raises(Efault):
        env.read(B, 1)
    with pytest.raises(Efault):
        env.write(B, b"x")
    assert_filled(env, B, 2, 5)
    assert env.mprotect(B, 2 * P, PROT_READ) == 0
    assert env.read(B, 16) == pattern(5, B)
    with pytest.raises(Efault):
        env.write(B, b"x")
    assert env.mprotect(B, 2 * P, RW) == 0
    env.write(B, b"x")
    assert env.read(B, 2) == b"x" + pattern(5, B)[1:2]
    env.check()


def test_exec_only_is_not_readable(env):
    assert env.mmap(B, 1, PROT_EXEC) == B
    with pytest.raises(Efault):
        env.read(B, 1)
    assert env.mmap(B + P, 1, PROT_WRITE) == B + P       # write implies read on arm64
    assert env.read(B + P, 1) == b"\0"


# -- brk ---------------------------------------------------------------------------------------------


HEAP = 0x20000000


def brk_env():
    env = Env()
    mm = env.mm
    mm.start_data = HEAP - 0x3000
    mm.end_data = HEAP - 0x800            # PAGE_ALIGN(end_data) == HEAP
    mm.start_brk = mm.brk = HEAP
    return env


def test_brk_grows_page_rounded_and_merges():
    env = brk_env()
    mm = env.mm
    assert sys_brk(mm, 0) == HEAP                       # the query idiom
    assert env.ranges() == []
    assert sys_brk(mm, HEAP + 1) == HEAP + 1
    assert env.ranges() == [(HEAP, HEAP + P)]
    (heap,) = env.vmas()
    assert heap.vm_flags == VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT
    assert heap.vm_pgoff == HEAP >> PAGE_SHIFT
    assert mm.brk == HEAP + 1
    assert sys_brk(mm, HEAP + P) == HEAP + P            # same page: no new VMA
    assert env.ranges() == [(HEAP, HEAP + P)]
    assert sys_brk(mm, HEAP + P + 1) == HEAP + P + 1
    assert sys_brk(mm, HEAP + 10 * P - 7) == HEAP + 10 * P - 7
    assert env.ranges() == [(HEAP, HEAP + 10 * P)]
    assert env.vmas() == [heap]
    env.write(HEAP + 10 * P - 8, b"12345678")
    env.check()


def test_brk_shrinking_unmaps_and_frees():
    env = brk_env()
    mm = env.mm
    free0 = env.k.pages.nr_free
    assert sys_brk(mm, HEAP + 10 * P) == HEAP + 10 * P
    fill(env, HEAP, 10, 3)
    free1 = env.k.pages.nr_free
    assert sys_brk(mm, HEAP + 3 * P + 5) == HEAP + 3 * P + 5
    assert env.ranges() == [(HEAP, HEAP + 4 * P)]
    assert env.k.pages.nr_free == free1 + 6
    assert_filled(env, HEAP, 4, 3)
    for i in range(4, 10):
        assert not env.pte(HEAP + i * P) & PTE_PRESENT_MASK
    assert sys_brk(mm, HEAP) == HEAP
    assert env.ranges() == []
    assert env.k.pages.nr_free == free0                  # frames and page tables
    assert mm.total_vm == mm.data_vm == 0
    # Growing again gives zeroed memory.
    assert sys_brk(mm, HEAP + P) == HEAP + P
    assert env.read(HEAP, 16) == bytes(16)
    env.check()


def test_brk_may_not_go_below_end_data():
    env = brk_env()
    mm = env.mm
    assert sys_brk(mm, HEAP + 2 * P) == HEAP + 2 * P
    assert sys_brk(mm, mm.end_data - 1) == HEAP + 2 * P
    assert env.ranges() == [(HEAP, HEAP + 2 * P)]
    assert sys_brk(mm, mm.start_data) == HEAP + 2 * P
    # CONFIG_COMPAT_BRK: min_brk is end_data, so brk may sit between end_data
    # and start_brk.
    assert sys_brk(mm, mm.end_data) == mm.end_data
    assert mm.brk == mm.end_data
    assert env.ranges() == []
    env.check()


def test_brk_keeps_a_page_away_from_the_next_mapping():
    env = brk_env()
    mm = env.mm
    assert env.mmap(HEAP + 4 * P, 1, PROT_READ) == HEAP + 4 * P
    assert sys_brk(mm, HEAP + 3 * P) == HEAP + 3 * P      # newbrk + PAGE_SIZE == vm_start
    assert sys_brk(mm, HEAP + 3 * P + 1) == HEAP + 3 * P  # would leave no page between
    assert sys_brk(mm, HEAP + 9 * P) == HEAP + 3 * P      # would run over it
    assert env.ranges() == [(HEAP, HEAP + 3 * P), (HEAP + 4 * P, HEAP + 5 * P)]
    env.check()


def test_brk_refused_when_the_break_page_is_mapped():
    env = brk_env()
    mm = env.mm
    assert env.mmap(HEAP, 1, PROT_READ) == HEAP
    assert sys_brk(mm, HEAP + P) == HEAP
    assert env.ranges() == [(HEAP, HEAP + P)]
    env.check()


def test_brk_merges_with_an_adjacent_anonymous_mapping_below():
    env = brk_env()
    mm = env.mm
    assert env.mmap(HEAP - 2 * P, 2) == HEAP - 2 * P      # a bss-like rw mapping
    assert sys_brk(mm, HEAP + P) == HEAP + P
    assert env.ranges() == [(HEAP - 2 * P, HEAP + P)]
    env.check()


def test_brk_shrink_unmaps_whatever_is_there():
    env = brk_env()
    mm = env.mm
    assert sys_brk(mm, HEAP + 4 * P) == HEAP + 4 * P
    assert env.mmap(HEAP + 2 * P, 1, PROT_READ) == HEAP + 2 * P     # MAP_FIXED into the heap
    assert sys_brk(mm, HEAP + P) == HEAP + P
    assert env.ranges() == [(HEAP, HEAP + P)]
    env.check()


def test_brk_respects_rlimit_data():
    env = brk_env()
    mm = env.mm
    env.task.rlim[RLIMIT_DATA] = [0x2000 + 4 * P, 0x2000 + 4 * P]
    # (brk - start_brk) + (end_data - start_data) > rlimit  ->  refused
    assert sys_brk(mm, HEAP + 4 * P - 0x800) == HEAP + 4 * P - 0x800
    assert sys_brk(mm, HEAP + 4 * P - 0x800 + 1) == HEAP + 4 * P - 0x800
    assert env.ranges() == [(HEAP, HEAP + 4 * P)]
    env.check()


def test_brk_refused_above_max_map_count():
    env = brk_env()
    env.k.max_map_count = 1
    assert env.mmap(B, 1) == B
    assert env.mmap(B + 2 * P, 1) == B + 2 * P        # map_count 1 is not > 1
    assert env.mm.map_count == 2
    assert sys_brk(env.mm, HEAP + P) == HEAP           # do_brk_flags: map_count > max
    assert env.ranges() == [(B, B + P), (B + 2 * P, B + 3 * P)]
    env.check()


def test_brk_rlimit_data_check_is_unsigned():
    """check_data_rlimit() computes (brk - start_brk) + (end_data - start_data) in
    unsigned long: a break below start_brk by more than the data size wraps to
    a huge value and is refused whenever RLIMIT_DATA is finite."""
    env = brk_env()
    mm = env.mm
    mm.start_data = mm.end_data - 0x100          # .data smaller than the bss gap
    env.task.rlim[RLIMIT_DATA] = [1 << 30, 1 << 30]
    assert sys_brk(mm, mm.end_data) == HEAP
    assert mm.brk == HEAP


# -- resource limits -----------------------------------------------------------------------------


def test_rlimit_as_counts_pages_map_fixed_replaces():
    env = Env()
    env.task.rlim[RLIMIT_AS] = [10 * P, 10 * P]
    assert env.mmap(B, 8) == B
    assert env.mmap(0, 3, RW, ANON) == -errno.ENOMEM
    assert env.mmap(B + 20 * P, 3) == -errno.ENOMEM
    # MAP_FIXED over 2 mapped + 2 new pages: 8 - 2 + 4 = 10 pages, allowed
    # (mmap_region() subtracts count_vma_pages_range()).
    assert env.mmap(B + 6 * P, 4, PROT_READ) == B + 6 * P
    assert env.mm.total_vm == 10
    assert env.mmap(B + 20 * P, 1) == -errno.ENOMEM
    env.check()


def test_rlimit_data_limits_private_writable_mappings_only():
    env = Env()
    env.task.rlim[RLIMIT_DATA] = [4 * P, 4 * P]
    assert env.mmap(B, 4) == B
    assert env.mmap(B + 8 * P, 1) == -errno.ENOMEM           # data
    assert env.mmap(B + 8 * P, 8, PROT_READ) == B + 8 * P    # not data
    assert env.mmap(B + 20 * P, 8, RW, SHARED | MAP_FIXED) == B + 20 * P
    # mprotect() turning it into data is refused (may_expand_vm on newflags).
    assert env.mprotect(B + 8 * P, 8 * P, RW) == -errno.ENOMEM
    assert env.mm.data_vm == 4
    env.check()


def test_rlimit_data_zero_soft_limit_valgrind_workaround():
    """may_expand_vm(): "Workaround for Valgrind" — RLIMIT_DATA soft limit 0 is
    let through while data_vm stays within the hard limit."""
    env = Env()
    env.task.rlim[RLIMIT_DATA] = [0, 8 * P]
    assert env.mmap(B, 4) == B
    assert env.mmap(B + 8 * P, 4) == B + 8 * P                  # data_vm 8: the hard limit
    assert env.mm.data_vm == 8
    assert env.mmap(B + 16 * P, 1) == -errno.ENOMEM             # past it
    assert env.mprotect(B + 32 * P, P, RW) == -errno.ENOMEM      # nothing mapped there
    assert env.mmap(B + 32 * P, 1, PROT_READ) == B + 32 * P     # not data
    assert env.mprotect(B + 32 * P, P, RW) == -errno.ENOMEM      # would make it data
    assert env.mm.data_vm == 8
    env.check()
    # only a zero soft limit gets the workaround: soft 1 page refuses 4
    env = Env()
    env.task.rlim[RLIMIT_DATA] = [P, RLIM_INFINITY]
    assert env.mmap(B, 4) == -errno.ENOMEM
    assert env.mmap(B, 1) == B
    env.check()


# -- populate --------------------------------------------------------------------------------------


def test_map_populate_prefaults(env):
    assert env.mmap(B, 4, RW, FIXED | MAP_POPULATE) == B
    assert all(env.pte(B + i * P) & PTE_PRESENT_MASK for i in range(4))
    assert env.mm.rss_anon == 4                       # written: private writable
    assert env.mmap(B + 8 * P, 2, PROT_READ, FIXED | MAP_POPULATE) == B + 8 * P
    for i in range(8, 10):
        pte = env.pte(B + i * P)
        assert pte & PTE_PRESENT_MASK and pte & PTE_SPECIAL   # the zero page
    assert env.mm.rss_anon == 4
    env.check()


# -- max_map_count -------------------------------------------------------------------------------------


def test_max_map_count_refuses_new_mappings():
    env = Env(max_map_count=3)
    for i in range(3):
        assert env.mmap(B + 2 * i * P, 1) == B + 2 * i * P
    # do_mmap() checks map_count > sysctl_max_map_count: one more is allowed...
    assert env.mmap(B + 6 * P, 1) == B + 6 * P
    assert env.mm.map_count == 4
    # ...and then nothing, not even a mapping that would merge.
    assert env.mmap(B + 8 * P, 1) == -errno.ENOMEM
    assert env.mmap(B + P, 1) == -errno.ENOMEM
    assert env.mmap(0, 1, RW, ANON) == -errno.ENOMEM
    assert env.mm.map_count == 4
    # Unmapping whole VMAs always works and makes room again.
    assert env.munmap(B, 2 * P) == 0
    assert env.mmap(B + 8 * P, 1) == B + 8 * P
    env.check()


# -- invariants survive a long deterministic mix -----------------------------------------------------


def test_invariants_after_many_operations(env):
    """Hundreds of interleaved operations; the rbtree gaps are checked after each."""
    state = 12345

    def rnd(n):
        nonlocal state
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        return (state >> 8) % n

    prots = [PROT_NONE, PROT_READ, RW, RX, PROT_EXEC, PROT_WRITE]
    for _ in range(600):
        op = rnd(4)
        addr = B + rnd(256) * P
        n = 1 + rnd(8)
        if op == 0:
            ret = env.mmap(addr, n, prots[rnd(len(prots))], FIXED if rnd(2) else ANON)
            assert ret > 0
        elif op == 1:
            assert env.munmap(addr, n * P) == 0
        elif op == 2:
            assert env.mprotect(addr, n * P, prots[rnd(len(prots))]) in (0, -errno.ENOMEM)
        else:
            vma = find_vma(env.mm, addr)
            if vma is not None and vma.vm_start <= addr and vma.vm_flags & VM_WRITE:
                env.write(addr, b"w")
        env.check()
    assert env.munmap(0, env.mm.task_size) == 0
    env.check()
    assert env.mm.get_mm_rss() == 0
