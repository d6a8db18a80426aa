"""Rules of kernel/mm/mmap.py the other VMA tests leave loose: which
anon_vma a VMA gets (anon_vma_prepare / anon_vma_compatible), merges an
mprotect-like change must refuse, the pages MAP_FIXED replaces under
RLIMIT_AS (count_vma_pages_range), brk's accounting and limits, and
expand_stack's errnos.  Linux 4.14's mm/mmap.c; in process.
"""

import errno

import pytest

from kernel.mm.madvise import do_madvise
from kernel.mm.mlock import MCL_FUTURE, do_mlockall
from kernel.mm.mm import VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_READ, VM_SHARED
from kernel.mm.mm_types import VmAreaStruct
from kernel.mm.mmap import (
    STACK_GUARD_GAP, do_brk_flags, do_mmap, expand_stack, insert_vm_struct, sys_brk,
)
from kernel.mm.mremap import sys_mremap
from kernel.uapi import (
    MADV_DOFORK, MADV_DONTFORK, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE,
    MAP_SHARED, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_EXEC, PROT_READ, PROT_WRITE,
    RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK,
)
from test_vma import B, P, Env, check_mm

RW = PROT_READ | PROT_WRITE
FIXED = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
GROWS = FIXED | MAP_GROWSDOWN
HEAP = 0x20000000
STACK = 0x30000000


@pytest.fixture
def env():
    return Env()


# -- anon_vma --------------------------------------------------------------------------------

def test_touching_reuses_a_compatible_neighbours_anon_vma(env):
    env.mmap(B, 1)
    env.mmap(B + P, 1, prot=RW | PROT_EXEC)           # differs only in rwx: compatible
    lo, hi = env.vmas()
    env.write(B, b"a")
    env.write(B + P, b"b")
    assert lo.anon_vma is not None and hi.anon_vma is lo.anon_vma
    # From above too: the lower vma takes the upper one's.
    env.mmap(B + 8 * P, 1, prot=RW | PROT_EXEC)
    env.mmap(B + 9 * P, 1)
    lo2, hi2 = env.vmas()[2:]
    env.write(B + 9 * P, b"c")
    env.write(B + 8 * P, b"d")
    assert lo2.anon_vma is hi2.anon_vma is not None
    assert lo2.anon_vma is not lo.anon_vma


def test_touching_does_not_reuse_an_incompatible_anon_vma(env):
    # Not adjacent.
    env.mmap(B, 1)
    env.mmap(B + 2 * P, 1, prot=RW | PROT_EXEC)
    env.write(B, b"a")
    env.write(B + 2 * P, b"b")
    a, b = env.vmas()
    assert a.anon_vma is not b.anon_vma
    # Adjacent, but the flags differ in more than rwx (VM_DONTCOPY).
    env.mmap(B + 8 * P, 2)
    assert do_madvise(env.mm, B + 9 * P, P, MADV_DONTFORK) == 0
    env.write(B + 8 * P, b"c")
    env.write(B + 9 * P, b"d")
    c, d = env.vmas()[2:]
    assert c.anon_vma is not d.anon_vma


def test_touching_does_not_reuse_across_a_pgoff_jump(env):
    # A touched vma moved next to another keeps its old pgoff: not contiguous.
    env.mmap(B + 20 * P, 1)
    env.write(B + 20 * P, b"m")
    moved = sys_mremap(env.mm, B + 20 * P, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, B + P)
    assert moved == B + P
    env.mmap(B, 1, prot=RW | PROT_EXEC)
    low = env.vmas()[0]
    env.write(B, b"x")
    assert low.anon_vma is not None and low.anon_vma is not env.vmas()[1].anon_vma


def test_flag_change_does_not_merge_vmas_with_different_anon_vmas(env):
    env.mmap(B, 3)
    assert do_madvise(env.mm, B + P, P, MADV_DONTFORK) == 0
    for i in range(3):
        env.write(B + i * P, b"%d" % i)
    assert len({id(v.anon_vma) for v in env.vmas()}) == 3
    assert do_madvise(env.mm, B + P, P, MADV_DOFORK) == 0
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P), (B + 2 * P, B + 3 * P)]
    check_mm(env.mm)


def test_insert_vm_struct_sets_pgoff_of_private_anonymous_only(env):
    mm = env.mm
    anon = VmAreaStruct(mm, B, B + P, VM_READ, 0, pgoff=7)
    assert insert_vm_struct(mm, anon) == 0
    assert anon.vm_pgoff == B // P
    env.mmap(B + 4 * P, 1, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    file = env.vmas()[1].vm_file
    for i, flags in enumerate((VM_READ, VM_READ | VM_SHARED)):    # private, shared
        start = B + (8 + 2 * i) * P
        vma = VmAreaStruct(mm, start, start + P, flags, 0, pgoff=7, file=file.get())
        assert insert_vm_struct(mm, vma) == 0
        assert vma.vm_pgoff == 7


# -- count_vma_pages_range under RLIMIT_AS -----------------------------------------------------

def test_map_fixed_over_two_vmas_counts_both_under_rlimit_as(env):
    env.mmap(B, 1)
    env.mmap(B + 2 * P, 2, prot=PROT_READ)
    total = env.mm.total_vm
    assert total == 3
    # Mapping [B, B+5P) replaces 3 mapped pages: it needs 2 more.
    env.task.rlim[RLIMIT_AS] = [(total + 1) * P] * 2
    assert env.mmap(B, 5) == -errno.ENOMEM
    env.task.rlim[RLIMIT_AS] = [(total + 2) * P] * 2
    assert env.mmap(B, 5) == B
    assert env.mm.total_vm == 5


def test_map_fixed_counts_only_the_overlap(env):
    env.mmap(B, 4)
    env.mmap(B + 8 * P, 1)
    env.task.rlim[RLIMIT_AS] = [5 * P] * 2
    # [B+2P, B+6P) overlaps 2 pages of the first vma and none of the second.
    assert env.mmap(B + 2 * P, 4) == -errno.ENOMEM
    env.task.rlim[RLIMIT_AS] = [7 * P] * 2
    assert env.mmap(B + 2 * P, 4) == B + 2 * P


# -- brk ---------------------------------------------------------------------------------------

def brk_env(max_map_count=None):
    env = Env(max_map_count=max_map_count)
    mm = env.mm
    mm.start_data = HEAP - 0x3000
    mm.end_data = HEAP - 0x800
    mm.start_brk = mm.brk = HEAP
    return env


def test_brk_refused_by_rlimit_as_leaves_the_break():
    env = brk_env()
    env.task.rlim[RLIMIT_AS] = [2 * P] * 2
    assert sys_brk(env.mm, HEAP + 2 * P) == HEAP + 2 * P
    assert sys_brk(env.mm, HEAP + 3 * P) == HEAP + 2 * P
    assert env.ranges() == [(HEAP, HEAP + 2 * P)]
    assert env.mm.total_vm == 2 and env.mm.data_vm == 2


def test_brk_rlimit_data_soft_limit_applies():
    env = brk_env()
    used = env.mm.end_data - env.mm.start_data
    env.task.rlim[RLIMIT_DATA] = [used + 2 * P, 1 << 40]
    assert sys_brk(env.mm, HEAP + 3 * P) == HEAP
    assert sys_brk(env.mm, HEAP + 2 * P) == HEAP + 2 * P


def test_brk_allowed_at_exactly_max_map_count():
    """do_brk_flags() refuses only when map_count > sysctl_max_map_count."""
    env = brk_env(max_map_count=2)
    env.mmap(B, 1)
    env.mmap(B + 4 * P, 1, prot=PROT_READ)
    assert env.mm.map_count == 2
    assert sys_brk(env.mm, HEAP + P) == HEAP + P
    assert env.mm.map_count == 3
    # Now above the limit: refused even though it would merge.
    assert sys_brk(env.mm, HEAP + 2 * P) == HEAP + P
    assert do_brk_flags(env.mm, HEAP + P, P) == -errno.ENOMEM


def test_brk_of_a_locked_mm_counts_locked_vm():
    env = brk_env()
    assert do_mlockall(env.mm, MCL_FUTURE) == 0
    assert sys_brk(env.mm, HEAP + 3 * P) == HEAP + 3 * P
    assert env.vmas()[0].vm_flags & VM_LOCKED
    assert env.mm.locked_vm == 3
    env2 = brk_env()
    assert sys_brk(env2.mm, HEAP + 3 * P) == HEAP + 3 * P
    assert env2.mm.locked_vm == 0


def test_brk_flags_argument_is_kept():
    env = brk_env()
    assert do_brk_flags(env.mm, HEAP, P, VM_EXEC) == 0
    assert env.vmas()[0].vm_flags & VM_EXEC
    assert do_brk_flags(env.mm, HEAP + P, 0) == 0
    assert env.ranges() == [(HEAP, HEAP + P)]


def test_brk_shrink_leaves_mappings_above_the_heap():
    env = brk_env()
    assert sys_brk(env.mm, HEAP + 4 * P) == HEAP + 4 * P
    env.mmap(HEAP + 12 * P, 1)
    env.write(HEAP + 12 * P, b"above")
    assert sys_brk(env.mm, HEAP + P) == HEAP + P
    assert env.ranges() == [(HEAP, HEAP + P), (HEAP + 12 * P, HEAP + 13 * P)]
    assert env.read(HEAP + 12 * P, 5) == b"above"


# -- expand_stack --------------------------------------------------------------------------------

def stack(env, npages=2, at=STACK):
    assert env.mmap(at, npages, RW, GROWS) == at
    return [v for v in env.vmas() if v.vm_start == at][0]


def test_expand_stack_returns_0_and_grows(env):
    s = stack(env)
    assert expand_stack(s, STACK - 2 * P + 5) == 0
    assert s.vm_start == STACK - 2 * P and s.vm_pgoff == (STACK - 2 * P) // P
    assert env.mm.stack_vm == 4 and env.mm.total_vm == 4
    assert expand_stack(s, STACK) == 0                  # already covered
    assert expand_stack(s, STACK + P) == 0
    assert s.vm_start == STACK - 2 * P


def test_expand_stack_to_its_own_start_ignores_rlimit_stack(env):
    s = stack(env, 4)
    env.task.rlim[RLIMIT_STACK] = [2 * P, 2 * P]        # smaller than the vma already
    assert expand_stack(s, STACK) == 0
    assert expand_stack(s, STACK - P) == -errno.ENOMEM


def test_expand_stack_uses_the_soft_rlimit_stack(env):
    s = stack(env, 2)
    env.task.rlim[RLIMIT_STACK] = [3 * P, 1 << 40]
    assert expand_stack(s, STACK - 2 * P) == -errno.ENOMEM
    assert expand_stack(s, STACK - P) == 0
    assert s.vm_start == STACK - P


def test_expand_stack_guard_gap_counts_any_accessible_mapping_below(env):
    for prot in (PROT_EXEC, PROT_WRITE, PROT_READ):
        e = Env()
        low = STACK - STACK_GUARD_GAP - 2 * P
        assert e.mmap(low, 1, prot) == low
        s = stack(e)
        assert expand_stack(s, low + P + STACK_GUARD_GAP - P) == -errno.ENOMEM, prot
        assert expand_stack(s, low + P + STACK_GUARD_GAP) == 0, prot


def test_expand_stack_below_mmap_min_addr_is_eperm(env):
    s = stack(env, 1, at=2 * P)
    assert expand_stack(s, P) == 0                       # down to mmap_min_addr
    assert s.vm_start == P
    assert expand_stack(s, 0) == -errno.EPERM


def test_expand_stack_may_take_pgoff_down_to_zero_not_below(env):
    s = stack(env, 1)
    s.vm_pgoff = 2
    assert expand_stack(s, STACK - 3 * P) == -errno.ENOMEM
    assert expand_stack(s, STACK - 2 * P) == 0
    assert s.vm_pgoff == 0


def test_expand_stack_rlimit_as(env):
    s = stack(env, 2)
    env.task.rlim[RLIMIT_AS] = [3 * P, 3 * P]
    assert expand_stack(s, STACK - 2 * P) == -errno.ENOMEM
    assert expand_stack(s, STACK - P) == 0


def test_expand_stack_of_a_locked_stack_counts_locked_vm(env):
    s = stack(env, 1)
    s.vm_flags |= VM_LOCKED
    env.mm.locked_vm = 5
    assert expand_stack(s, STACK - 2 * P) == 0
    assert env.mm.locked_vm == 7
    t = stack(env, 1, at=STACK + 64 * P)
    assert not t.vm_flags & VM_LOCKED
    assert expand_stack(t, STACK + 62 * P) == 0
    assert env.mm.locked_vm == 7


def test_do_mmap_growsdown_flag(env):
    assert do_mmap(env.mm, None, STACK, P, RW, GROWS, 0) == STACK
    assert env.vmas()[0].vm_flags & VM_GROWSDOWN


def test_brk_over_a_mapping_it_cannot_unmap_is_enomem():
    env = brk_env(max_map_count=1)
    env.mmap(B, 3)
    # Unmapping the middle page would need a split past max_map_count.
    assert do_brk_flags(env.mm, B + P, P) == -errno.ENOMEM
    assert env.ranges() == [(B, B + 3 * P)]


def test_munmap_of_an_unlocked_vma_keeps_locked_vm(env):
    from kernel.mm.mlock import do_mlock
    env.mmap(B, 2)
    env.mmap(B + 4 * P, 2)
    assert do_mlock(env.mm, B, 2 * P) == 0
    assert env.munmap(B + 4 * P, 2 * P) == 0
    assert env.mm.locked_vm == 2
    assert env.munmap(B, P) == 0
    assert env.mm.locked_vm == 1


def test_munmap_frees_the_tables_above_a_lower_vma(env):
    env.mmap(B, 1)
    env.write(B, b"low")
    base = env.mm.nr_ptes
    far = B + (1 << 39)                      # its own level-1..3 tables
    env.mmap(far, 1)
    env.write(far, b"far")
    assert env.mm.nr_ptes > base
    assert env.munmap(far, P) == 0
    assert env.mm.nr_ptes == base
    assert env.read(B, 3) == b"low"


def test_write_only_and_read_write_neighbours_share_an_anon_vma(env):
    env.mmap(B, 1)
    env.mmap(B + P, 1, prot=PROT_WRITE)      # differs only in VM_READ
    env.write(B, b"a")
    env.write(B + P, b"b")
    lo, hi = env.vmas()
    assert lo.anon_vma is hi.anon_vma is not None


def test_split_parts_keep_the_anon_vma(env):
    env.mmap(B, 3)
    env.write(B, b"x")
    anon = env.vmas()[0].anon_vma
    assert anon is not None
    assert do_madvise(env.mm, B + P, P, MADV_DONTFORK) == 0
    assert [v.anon_vma for v in env.vmas()] == [anon, anon, anon]


def test_brk_locked_adds_to_locked_vm():
    from kernel.mm.mlock import do_mlock
    env = brk_env()
    env.mmap(B, 2)
    assert do_mlock(env.mm, B, 2 * P) == 0
    assert do_mlockall(env.mm, MCL_FUTURE) == 0
    assert sys_brk(env.mm, HEAP + 3 * P) == HEAP + 3 * P
    assert env.mm.locked_vm == 5


def test_map_locked_and_map_denywrite_flags(env):
    from kernel.mm.mlock import do_mlock
    from kernel.mm.mm import VM_DENYWRITE, calc_vm_flag_bits
    from kernel.uapi import MAP_DENYWRITE, MAP_LOCKED
    assert calc_vm_flag_bits(MAP_DENYWRITE) == VM_DENYWRITE
    assert calc_vm_flag_bits(MAP_LOCKED) == VM_LOCKED
    assert calc_vm_flag_bits(MAP_GROWSDOWN | MAP_LOCKED) == VM_GROWSDOWN | VM_LOCKED
    assert calc_vm_flag_bits(0) == 0
    env.mmap(B + 8 * P, 1)
    assert do_mlock(env.mm, B + 8 * P, P) == 0
    assert env.mmap(B, 2, flags=FIXED | MAP_LOCKED) == B
    assert env.vmas()[0].vm_flags & VM_LOCKED
    assert env.mm.locked_vm == 3
    assert env.peek_page(B) is not None and env.peek_page(B + P) is not None


def test_mmap_fixed_needing_a_refused_split_is_enomem():
    env = Env(max_map_count=1)
    env.mmap(B, 3)
    assert env.mmap(B + P, 1, prot=PROT_READ) == -errno.ENOMEM
    assert env.ranges() == [(B, B + 3 * P)]


def test_a_file_mapping_never_merges_with_anonymous_memory(env, tmp_path):
    import os
    from kernel.fs.file import File
    from kernel.uapi import O_RDWR
    path = tmp_path / "f"
    path.write_bytes(b"f" * P)
    f = File(env.k, os.open(path, O_RDWR), str(path), O_RDWR)
    env.mmap(B, 1)                                   # anonymous: vm_pgoff B >> 12
    # Same flags, and the pgoff that would continue the anonymous vma's.
    assert do_mmap(env.mm, f, B + P, P, RW, MAP_PRIVATE | MAP_FIXED, B // P + 1) == B + P
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P)]
    assert env.vmas()[1].vm_file is f
