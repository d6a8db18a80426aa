"""mremap() (kernel/mm/mremap.py) in process, against Linux 4.14's mm/mremap.c:
the argument and range rules (which errno, in which order), growing in
place, moving (the ptes move, the data stays, the old range goes), the
pgoff a moved VMA gets and the accounting fields.  (tests/test_mremap.py
holds the end-to-end side.)
"""

import errno

import pytest

from kernel.mm.mm import VM_DONTEXPAND, VM_LOCKED
from kernel.mm.mlock import do_mlock
from kernel.mm.mremap import sys_mremap
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MREMAP_FIXED, MREMAP_MAYMOVE,
    PROT_READ, RLIMIT_AS,
)
from kernel.uaccess import Efault
from test_vma import B, P, Env, check_mm

MAYMOVE = MREMAP_MAYMOVE
FIXED = MREMAP_MAYMOVE | MREMAP_FIXED
SHARED = MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED
U64 = 1 << 64


@pytest.fixture
def env():
    return Env()


def fill(env, addr, npages, tag):
    for i in range(npages):
        env.write(addr + i * P, b"%s%d" % (tag, i))


def assert_filled(env, addr, npages, tag):
    for i in range(npages):
        want = b"%s%d" % (tag, i)
        assert env.read(addr + i * P, len(want)) == want, i


def mremap(env, addr, old, new, flags=0, new_addr=0):
    return sys_mremap(env.mm, addr, old, new, flags, new_addr)


# -- arguments -----------------------------------------------------------------------------

def test_flag_and_address_checks(env):
    env.mmap(B, 2)
    assert mremap(env, B, P, 2 * P, 4) == -errno.EINVAL
    assert mremap(env, B, P, 2 * P, MREMAP_FIXED, B + 8 * P) == -errno.EINVAL   # without MAYMOVE
    assert mremap(env, B + 1, P, P) == -errno.EINVAL
    assert mremap(env, B, P, 0) == -errno.EINVAL
    assert mremap(env, B, P, U64 - 1) == -errno.EINVAL         # rounds up to 2**64: 0
    assert env.ranges() == [(B, B + 2 * P)]


def test_lengths_are_rounded_up_to_pages(env):
    env.mmap(B, 4)
    assert mremap(env, B, 3 * P + 1, 2 * P + 1) == B          # 4 pages -> 3 pages
    assert env.ranges() == [(B, B + 3 * P)]
    assert mremap(env, B, 3 * P, 3 * P + 1, MAYMOVE) == B     # grows in place by one page
    assert env.ranges() == [(B, B + 4 * P)]


def test_same_length_is_a_no_op(env):
    env.mmap(B, 2)
    assert mremap(env, B, 2 * P, 2 * P) == B
    assert mremap(env, B + P, P, P) == B + P
    assert env.ranges() == [(B, B + 2 * P)]
    # Even over a hole: do_munmap of nothing succeeds.
    assert mremap(env, B + 8 * P, P, P) == B + 8 * P


def test_shrinking_unmaps_the_tail(env):
    env.mmap(B, 4)
    fill(env, B, 4, b"s")
    total = env.mm.total_vm
    assert mremap(env, B, 4 * P, P) == B
    assert env.ranges() == [(B, B + P)]
    assert env.mm.total_vm == total - 3
    assert_filled(env, B, 1, b"s")
    assert env.pte(B + P) == 0
    check_mm(env.mm)


def test_growing_a_hole_is_efault(env):
    env.mmap(B + 2 * P, 1)
    assert mremap(env, B, P, 2 * P, MAYMOVE) == -errno.EFAULT       # no vma at addr
    assert mremap(env, B + 3 * P, P, 2 * P, MAYMOVE) == -errno.EFAULT
    # old_len running past the end of the vma
    assert mremap(env, B + 2 * P, 2 * P, 3 * P, MAYMOVE) == -errno.EFAULT


def test_duplicating_a_private_mapping_is_einval(env):
    """old_len 0 duplicates a mapping: only shared ones (VM_SHARED or VM_MAYSHARE)."""
    env.mmap(B, 1)
    assert mremap(env, B, 0, P, MAYMOVE) == -errno.EINVAL
    env.mmap(B + 4 * P, 1, flags=SHARED)
    env.write(B + 4 * P, b"dup")
    new = mremap(env, B + 4 * P, 0, P, MAYMOVE)
    assert new > 0 and new != B + 4 * P
    assert env.read(new, 3) == b"dup"
    assert env.read(B + 4 * P, 3) == b"dup"          # the original stays
    env.write(new, b"DUP")
    assert env.read(B + 4 * P, 3) == b"DUP"          # one page, two mappings


def test_vm_dontexpand_cannot_grow(env):
    env.mmap(B, 1)
    env.vmas()[0].vm_flags |= VM_DONTEXPAND
    assert mremap(env, B, P, 2 * P, MAYMOVE) == -errno.EFAULT
    env.mmap(B + 4 * P, 2)
    env.vmas()[1].vm_flags |= VM_DONTEXPAND
    assert mremap(env, B + 4 * P, 2 * P, P) == B + 4 * P        # shrinking is fine


def test_growth_limited_by_rlimit_as(env):
    env.mmap(B, 2)
    env.task.rlim[RLIMIT_AS] = [(env.mm.total_vm + 1) * P] * 2
    assert mremap(env, B, 2 * P, 4 * P, MAYMOVE) == -errno.ENOMEM
    assert mremap(env, B, 2 * P, 3 * P, MAYMOVE) == B
    assert env.ranges() == [(B, B + 3 * P)]


# -- growing in place ------------------------------------------------------------------------

def test_grow_in_place_when_the_next_page_is_free(env):
    env.mmap(B, 2)
    fill(env, B, 2, b"g")
    total, data = env.mm.total_vm, env.mm.data_vm
    assert mremap(env, B, 2 * P, 4 * P) == B
    assert env.ranges() == [(B, B + 4 * P)]
    assert (env.mm.total_vm, env.mm.data_vm) == (total + 2, data + 2)
    assert_filled(env, B, 2, b"g")
    check_mm(env.mm)


def test_grow_in_place_needs_the_whole_gap(env):
    env.mmap(B, 2)
    env.mmap(B + 4 * P, 1, prot=PROT_READ)
    assert mremap(env, B, 2 * P, 4 * P) == B                   # exactly up to the next vma
    assert env.ranges() == [(B, B + 4 * P), (B + 4 * P, B + 5 * P)]
    assert mremap(env, B, 4 * P, 5 * P) == -errno.ENOMEM       # no MAYMOVE: stuck
    assert env.ranges() == [(B, B + 4 * P), (B + 4 * P, B + 5 * P)]


def test_grow_in_place_only_from_the_end_of_the_vma(env):
    env.mmap(B, 4)
    # [B, B+2P) is not the tail of the vma: it must move.
    assert mremap(env, B, 2 * P, 3 * P) == -errno.ENOMEM
    new = mremap(env, B, 2 * P, 3 * P, MAYMOVE)
    assert new > 0 and new not in (B, B + 2 * P)
    assert (B + 2 * P, B + 4 * P) in env.ranges()


def test_grow_in_place_not_past_task_size(env):
    top = env.mm.task_size
    env.mmap(top - 2 * P, 1)
    assert mremap(env, top - 2 * P, P, 2 * P) == top - 2 * P       # up to the very top
    assert mremap(env, top - 2 * P, 2 * P, 3 * P) == -errno.ENOMEM


def test_grow_in_place_ignores_the_stack_guard_gap(env):
    """vma_expandable() compares with the next vma's vm_start, not its
    vm_start_gap(): growing right up to a stack is allowed (4.14)."""
    from kernel.uapi import MAP_GROWSDOWN
    env.mmap(B + 2 * P, 1, flags=MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN)
    env.mmap(B, 1)
    assert mremap(env, B, P, 2 * P) == B
    assert env.ranges() == [(B, B + 2 * P), (B + 2 * P, B + 3 * P)]
    assert mremap(env, B, 2 * P, 3 * P) == -errno.ENOMEM


def test_grow_in_place_locked_counts_locked_vm(env):
    env.mmap(B, 2)
    assert do_mlock(env.mm, B, 2 * P) == 0
    assert mremap(env, B, 2 * P, 3 * P) == B
    assert env.mm.locked_vm == 3
    assert env.vmas()[0].vm_flags & VM_LOCKED


# -- moving ------------------------------------------------------------------------------------

def test_move_carries_the_pages_and_unmaps_the_old_range(env):
    env.mmap(B, 3)
    env.mmap(B + 3 * P, 1, prot=PROT_READ)        # blocks growth in place
    fill(env, B, 3, b"m")
    frames = [env.pte(B + i * P) for i in range(3)]
    free = env.k.pages.nr_free
    new = mremap(env, B, 3 * P, 5 * P, MAYMOVE)
    assert new > 0 and new != B
    assert env.ranges()[0] == (B + 3 * P, B + 4 * P)
    assert all(env.pte(B + i * P) == 0 for i in range(3))
    assert [env.pte(new + i * P) for i in range(3)] == frames      # same frames, moved
    assert env.pte(new + 3 * P) == 0
    assert env.k.pages.nr_free <= free                             # nothing copied or freed
    assert_filled(env, new, 3, b"m")
    assert env.read(new + 4 * P, 2) == b"\0\0"
    check_mm(env.mm)


def test_move_of_part_of_a_vma_keeps_the_rest(env):
    env.mmap(B, 4)
    fill(env, B, 4, b"p")
    new = mremap(env, B + P, P, 2 * P, MAYMOVE)
    assert new > 0
    assert (B, B + P) in env.ranges() and (B + 2 * P, B + 4 * P) in env.ranges()
    assert env.read(new, 2) == b"p1"
    assert env.read(B, 2) == b"p0" and env.read(B + 2 * P, 2) == b"p2"
    assert env.pte(B + P) == 0
    check_mm(env.mm)


def test_moved_untouched_anonymous_memory_takes_its_new_address_as_pgoff(env):
    env.mmap(B, 1)
    env.mmap(B + P, 1, prot=PROT_READ)
    new = mremap(env, B, P, 2 * P, MAYMOVE)
    moved = [v for v in env.vmas() if v.vm_start == new][0]
    assert moved.vm_pgoff == new // P


def test_moved_touched_anonymous_memory_keeps_its_pgoff(env):
    env.mmap(B, 2)
    env.mmap(B + 2 * P, 1, prot=PROT_READ)
    env.write(B + P, b"t")
    new = mremap(env, B + P, P, 2 * P, MAYMOVE)
    moved = [v for v in env.vmas() if v.vm_start == new][0]
    assert moved.vm_pgoff == B // P + 1
    assert moved.anon_vma is env.vmas()[0].anon_vma is not None
    assert env.read(new, 1) == b"t"


def test_moved_shared_mapping_keeps_its_offset(env):
    env.mmap(B, 3, flags=SHARED)
    env.mmap(B + 3 * P, 1, prot=PROT_READ)
    fill(env, B, 3, b"f")
    vma = env.vmas()[0]
    file = vma.vm_file
    refs = file.refcount
    new = mremap(env, B + P, 2 * P, 3 * P, MAYMOVE)
    moved = [v for v in env.vmas() if v.vm_start == new][0]
    assert moved.vm_file is file and moved.vm_pgoff == vma.vm_pgoff + 1
    assert file.refcount == refs + 1            # [B, B+P) stays: one more vma
    assert env.read(new, 2) == b"f1" and env.read(new + P, 2) == b"f2"
    # The shmem object is as long as the first mmap: past it is SIGBUS.
    with pytest.raises(Efault):
        env.read(new + 2 * P, 2)


def test_move_accounting(env):
    env.mmap(B, 2)
    env.mmap(B + 2 * P, 1, prot=PROT_READ)
    mm = env.mm
    total, data, hiwater = mm.total_vm, mm.data_vm, mm.hiwater_vm
    count = mm.map_count
    new = mremap(env, B, 2 * P, 3 * P, MAYMOVE)
    assert new > 0
    assert (mm.total_vm, mm.data_vm) == (total + 1, data + 1)
    # The moment both ranges are mapped is not a high-water mark (VmPeak
    # is the larger of hiwater_vm and total_vm).
    assert max(mm.hiwater_vm, mm.total_vm) == max(hiwater, total + 1)
    assert mm.map_count == count


def test_move_locked_counts_locked_vm(env):
    env.mmap(B, 2)
    env.mmap(B + 2 * P, 1, prot=PROT_READ)
    assert do_mlock(env.mm, B, 2 * P) == 0
    new = mremap(env, B, 2 * P, 3 * P, MAYMOVE)
    assert new > 0
    assert env.mm.locked_vm == 3
    assert [v for v in env.vmas() if v.vm_start == new][0].vm_flags & VM_LOCKED


def test_move_refused_near_max_map_count():
    env = Env(max_map_count=5)
    env.mmap(B, 1)
    env.mmap(B + P, 1, prot=PROT_READ)
    assert mremap(env, B, P, 2 * P, MAYMOVE) == -errno.ENOMEM      # 2 >= 5 - 3
    env2 = Env(max_map_count=6)
    env2.mmap(B, 1)
    env2.mmap(B + P, 1, prot=PROT_READ)
    assert mremap(env2, B, P, 2 * P, MAYMOVE) > 0


def test_move_merges_with_a_neighbour_at_the_target(env):
    env.mmap(B, 1)
    env.mmap(B + P, 1, prot=PROT_READ)
    env.mmap(B + 8 * P, 1)
    new = mremap(env, B, P, P, FIXED, B + 7 * P)
    assert new == B + 7 * P
    # An untouched anonymous vma moved right below another: one vma.
    assert (B + 7 * P, B + 9 * P) in env.ranges()
    check_mm(env.mm)


# -- MREMAP_FIXED --------------------------------------------------------------------------------

def test_fixed_checks(env):
    env.mmap(B, 2)
    top = env.mm.task_size
    assert mremap(env, B, P, P, FIXED, B + 8 * P + 1) == -errno.EINVAL
    assert mremap(env, B, P, P, FIXED, top - P) == top - P              # fits exactly
    assert mremap(env, B + P, P, 2 * P, FIXED, top - P) == -errno.EINVAL
    assert mremap(env, B, P, top + P, FIXED, 0) == -errno.EINVAL
    # Overlapping old and new ranges.
    assert mremap(env, B + 8 * P, 2 * P, 2 * P, FIXED, B + 9 * P) == -errno.EINVAL
    assert mremap(env, B + 8 * P, 2 * P, 2 * P, FIXED, B + 7 * P) == -errno.EINVAL
    assert mremap(env, B + 8 * P, P, P, FIXED, B + 7 * P) == -errno.EFAULT   # touching is fine


def test_fixed_replaces_what_is_at_the_target(env):
    env.mmap(B, 2)
    fill(env, B, 2, b"o")
    env.mmap(B + 8 * P, 4)
    fill(env, B + 8 * P, 4, b"x")
    assert mremap(env, B, 2 * P, 2 * P, FIXED, B + 9 * P) == B + 9 * P
    assert env.ranges() == [(B + 8 * P, B + 9 * P), (B + 9 * P, B + 11 * P),
                            (B + 11 * P, B + 12 * P)]
    assert env.read(B + 8 * P, 2) == b"x0"
    assert_filled(env, B + 9 * P, 2, b"o")
    assert env.read(B + 11 * P, 2) == b"x3"
    check_mm(env.mm)


def test_fixed_shrinking_move(env):
    env.mmap(B, 3)
    fill(env, B, 3, b"k")
    assert mremap(env, B, 3 * P, P, FIXED, B + 8 * P) == B + 8 * P
    assert env.ranges() == [(B + 8 * P, B + 9 * P)]
    assert env.read(B + 8 * P, 2) == b"k0"
    assert env.mm.total_vm == 1


def test_fixed_target_is_unmapped_even_when_the_move_fails(env):
    """mremap_to() unmaps the target before it looks at the source."""
    env.mmap(B + 8 * P, 1)
    assert mremap(env, B, P, P, FIXED, B + 8 * P) == -errno.EFAULT
    assert env.ranges() == []


def test_fixed_growing_move_of_a_locked_vma(env):
    env.mmap(B, 1)
    assert do_mlock(env.mm, B, P) == 0
    assert mremap(env, B, P, 2 * P, FIXED, B + 8 * P) == B + 8 * P
    assert env.mm.locked_vm == 2


def test_shrinking_leaves_the_next_mapping_alone(env):
    env.mmap(B, 4)
    env.mmap(B + 4 * P, 4, prot=PROT_READ)
    assert mremap(env, B, 4 * P, P) == B
    assert env.ranges() == [(B, B + P), (B + 4 * P, B + 8 * P)]


def test_shrinking_that_needs_a_refused_split_is_enomem():
    env = Env(max_map_count=1)
    env.mmap(B, 3)
    assert mremap(env, B, 2 * P, P) == -errno.ENOMEM
    assert env.ranges() == [(B, B + 3 * P)]


def test_grow_in_place_keeps_pgoff_and_does_not_lock(env):
    env.mmap(B, 2)
    pgoff = env.vmas()[0].vm_pgoff
    assert mremap(env, B, 2 * P, 3 * P) == B
    assert env.vmas()[0].vm_pgoff == pgoff
    assert env.mm.locked_vm == 0 and not env.vmas()[0].vm_flags & VM_LOCKED


def test_move_carries_pages_after_holes_in_the_old_range(env):
    """move_page_tables() skips missing tables and absent ptes, and goes on."""
    big = 1 << 21                                   # one level-3 table's span
    old = B + 4 * big
    env.mmap(old, 2 * big // P)
    env.write(old + P, b"after an absent pte")
    env.write(old + big + 3 * P, b"after a missing table")
    env.mmap(old + 2 * big, 1, prot=PROT_READ)      # no growth in place
    new = mremap(env, old, 2 * big, 2 * big + P, MAYMOVE)
    assert new > 0 and new != old
    assert env.read(new + P, 19) == b"after an absent pte"
    assert env.read(new + big + 3 * P, 21) == b"after a missing table"
    assert env.pte(new) == 0


def test_move_when_the_first_table_is_missing(env):
    big = 1 << 21
    old = B + 8 * big
    env.mmap(old, 2 * big // P)
    env.write(old + big + P, b"late")              # only the second table exists
    assert env.k.pgtable.pte_offset(env.mm, old) is None
    new = mremap(env, old, 2 * big, 2 * big, FIXED, old + 4 * big)
    assert new == old + 4 * big
    assert env.read(new + big + P, 4) == b"late"


def test_fixed_target_right_after_the_old_range_is_allowed(env):
    env.mmap(B, 2)
    fill(env, B, 2, b"t")
    assert mremap(env, B, 2 * P, 2 * P, FIXED, B + 2 * P) == B + 2 * P
    assert env.ranges() == [(B + 2 * P, B + 4 * P)]
    assert_filled(env, B + 2 * P, 2, b"t")


def test_fixed_shrinking_move_leaves_the_next_mapping_alone(env):
    env.mmap(B, 3)
    env.mmap(B + 3 * P, 4, prot=PROT_READ)
    assert mremap(env, B, 3 * P, P, FIXED, B + 16 * P) == B + 16 * P
    assert env.ranges() == [(B + 3 * P, B + 7 * P), (B + 16 * P, B + 17 * P)]


def test_move_of_an_unlocked_vma_keeps_locked_vm(env):
    env.mmap(B, 1)
    assert do_mlock(env.mm, B, P) == 0
    env.mmap(B + 2 * P, 1)
    env.mmap(B + 3 * P, 1, prot=PROT_READ)
    new = mremap(env, B + 2 * P, P, 2 * P, MAYMOVE)
    assert new > 0
    assert env.mm.locked_vm == 1
    assert not [v for v in env.vmas() if v.vm_start == new][0].vm_flags & VM_LOCKED


def test_move_locked_adds_to_the_locked_vm_of_other_vmas(env):
    env.mmap(B + 8 * P, 3)
    assert do_mlock(env.mm, B + 8 * P, 3 * P) == 0
    env.mmap(B, 1)
    assert do_mlock(env.mm, B, P) == 0
    env.mmap(B + P, 1, prot=PROT_READ)
    new = mremap(env, B, P, 2 * P, MAYMOVE)
    assert new > 0
    assert env.mm.locked_vm == 5
