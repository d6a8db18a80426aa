"""mremap(): every path of mm/mremap.c (Linux 4.14), as unit tests.

sys_mremap: flag and argument checks; shrink (in place, do_munmap of the
tail); grow in place (vma_expandable + vma_adjust); move (MREMAP_MAYMOVE:
get_unmapped_area + move_vma); mremap_to (MREMAP_FIXED: unmap the
destination, then the shrunk tail, then vma_to_resize + move_vma);
vma_to_resize's errors; old_len 0 (duplicate a shared mapping); copy_vma's
pgoff and merging; move_page_tables carrying the very frames over; the
vm_stat counters.  The differential test (test_mm_differential.py) checks
the same against the real kernel; these pin 4.14 where Linux later changed
(see its DIVERGENCES) and look inside (frames, counters, pgoff).
"""

import errno
import os

import pytest

from emu.arch import DESC_ADDR_MASK
from kernel.fs.file import File
from kernel.mm.mm import VM_DONTEXPAND, VM_LOCKED
from kernel.mm.mlock import do_mlock
from kernel.mm.mmap import do_mmap, find_vma
from kernel.mm.mremap import sys_mremap
from kernel.uapi import (
    MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ, RLIMIT_AS,
)
from test_vma import Env, P, RW, SHARED

B = 0x10000000
MOVE = MREMAP_MAYMOVE
FIXED = MREMAP_MAYMOVE | MREMAP_FIXED


def mremap(env, addr, old, new, flags=0, new_addr=0):
    return sys_mremap(env.mm, addr, old, new, flags, new_addr)


def layout(env):
    """[(start page, pages)] relative to B."""
    return [((v.vm_start - B) // P, (v.vm_end - v.vm_start) // P) for v in env.vmas()]


def frame(env, addr):
    return env.pte(addr) & DESC_ADDR_MASK


def fill(env, addr, pages):
    for i in range(pages):
        env.write(addr + i * P, bytes([0x40 + i]) * 8)


def contents(env, addr, pages):
    return [env.read(addr + i * P, 1)[0] for i in range(pages)]


# -- argument checks ------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    (B, P, P, 4, 0),                        # an unknown flag
    (B, P, P, MREMAP_FIXED, B + 8 * P),     # FIXED without MAYMOVE
    (B + 1, P, P, 0, 0),                    # unaligned addr
    (B, P, 0, 0, 0),                        # new_len 0
    (B, P, P, FIXED, B + 8 * P + 1),        # unaligned new_addr
    (B, 2 * P, 2 * P, FIXED, B + P),        # overlapping ranges
    (B, P, 1 << 48, FIXED, B + 8 * P),      # past TASK_SIZE
])
def test_einval(args):
    env = Env()
    assert env.mmap(B, 2) == B
    assert mremap(env, *args) == -errno.EINVAL
    assert layout(env) == [(0, 2)]


def test_source_not_mapped_or_too_long_is_efault():
    env = Env()
    assert env.mmap(B, 2) == B
    assert mremap(env, B + 4 * P, P, 2 * P, MOVE) == -errno.EFAULT
    assert mremap(env, B, 3 * P, 4 * P, MOVE) == -errno.EFAULT      # past the VMA's end
    assert env.mmap(B + 2 * P, 2, PROT_READ) == B + 2 * P
    assert mremap(env, B, 4 * P, 5 * P, MOVE) == -errno.EFAULT      # across two VMAs
    assert layout(env) == [(0, 2), (2, 2)]
    env.check()


# -- shrink and same size --------------------------------------------------------------------


def test_shrink_in_place_unmaps_the_tail():
    env = Env()
    assert env.mmap(B, 4) == B
    fill(env, B, 4)
    assert mremap(env, B, 4 * P, 2 * P + 1) == B                     # rounds up to 3 pages
    assert layout(env) == [(0, 3)]
    assert contents(env, B, 3) == [0x40, 0x41, 0x42]
    assert env.mm.total_vm == 3 and env.mm.data_vm == 3
    env.check()


def test_shrink_or_same_size_of_nothing_returns_addr_in_4_14():
    """4.14 does the do_munmap of the tail before looking up the VMA; Linux
    5.16 (550a7d60bd5e) looks the VMA up first and says -EFAULT."""
    env = Env()
    assert mremap(env, B, 4 * P, 2 * P, MOVE) == B
    assert mremap(env, B, P, P) == B
    assert layout(env) == []


def test_same_size_is_a_no_op():
    env = Env()
    assert env.mmap(B, 2) == B
    fill(env, B, 2)
    assert mremap(env, B, 2 * P, 2 * P, MOVE) == B
    assert layout(env) == [(0, 2)] and contents(env, B, 2) == [0x40, 0x41]


# -- grow in place ---------------------------------------------------------------------------


def test_grow_in_place_keeps_the_frames():
    env = Env()
    assert env.mmap(B, 2) == B
    fill(env, B, 2)
    frames = [frame(env, B), frame(env, B + P)]
    assert mremap(env, B, 2 * P, 5 * P) == B
    assert layout(env) == [(0, 5)]
    assert [frame(env, B), frame(env, B + P)] == frames
    assert contents(env, B, 5) == [0x40, 0x41, 0, 0, 0]
    assert env.mm.total_vm == 5 and env.mm.data_vm == 5
    env.check()


def test_grow_in_place_up_to_the_next_vma_does_not_merge_in_4_14():
    """4.14's vma_adjust() only extends; ca3d76b0aa80 (6.1) merges."""
    env = Env()
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 3 * P, 2) == B + 3 * P
    assert mremap(env, B, 2 * P, 3 * P) == B
    assert layout(env) == [(0, 3), (3, 2)]
    env.check()


def test_grow_blocked_without_maymove_is_enomem():
    env = Env()
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 3 * P, 1) == B + 3 * P
    assert mremap(env, B, 2 * P, 4 * P) == -errno.ENOMEM
    # not the whole VMA (old_len short of its end): no growing in place either
    assert mremap(env, B, P, 2 * P) == -errno.ENOMEM
    assert layout(env) == [(0, 2), (3, 1)]
    env.check()


def test_grow_past_rlimit_as_is_enomem():
    env = Env()
    env.task.rlim[RLIMIT_AS] = [4 * P, 4 * P]
    assert env.mmap(B, 2) == B
    assert mremap(env, B, 2 * P, 5 * P, MOVE) == -errno.ENOMEM
    assert mremap(env, B, 2 * P, 4 * P, MOVE) == B
    env.check()


def test_dontexpand_cannot_grow():
    env = Env()
    assert env.mmap(B, 2) == B
    find_vma(env.mm, B).vm_flags |= VM_DONTEXPAND
    assert mremap(env, B, 2 * P, 3 * P, MOVE) == -errno.EFAULT
    assert mremap(env, B, 2 * P, P) == B                             # shrinking is fine


# -- move (MREMAP_MAYMOVE) -------------------------------------------------------------------


def test_move_carries_the_frames_and_unmaps_the_source():
    env = Env()
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 2 * P, 1, PROT_READ) == B + 2 * P        # blocks growing in place
    fill(env, B, 2)
    frames = [frame(env, B), frame(env, B + P)]
    hiwater = env.mm.hiwater_vm
    new = mremap(env, B, 2 * P, 4 * P, MOVE)
    assert new > 0 and new not in (B, B + 3 * P) and new % P == 0
    assert find_vma(env.mm, B).vm_start == B + 2 * P                # the source is gone
    assert [frame(env, new), frame(env, new + P)] == frames       # ptes moved, not copied
    assert contents(env, new, 4) == [0x40, 0x41, 0, 0]
    # move_vma() restores hiwater_vm after the do_munmap() of the source, so
    # the moment both ranges were accounted leaves no mark (VmPeak shows
    # max(total_vm, hiwater_vm))
    assert env.mm.total_vm == 5 and env.mm.hiwater_vm == hiwater
    env.check()


def test_moving_part_of_a_vma_splits_it():
    env = Env()
    assert env.mmap(B, 4) == B
    fill(env, B, 4)
    assert mremap(env, B + P, 2 * P, 2 * P, FIXED, B + 8 * P) == B + 8 * P
    assert layout(env) == [(0, 1), (3, 1), (8, 2)]
    assert contents(env, B + 8 * P, 2) == [0x41, 0x42]
    assert contents(env, B, 1) == [0x40] and contents(env, B + 3 * P, 1) == [0x43]
    env.check()


def test_move_untouched_anonymous_memory_takes_its_new_pgoff_and_merges():
    """copy_vma(): an anonymous VMA that never faulted (no anon_vma) gets
    pgoff = new_addr >> PAGE_SHIFT, so it merges with a neighbour there."""
    env = Env()
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 8 * P, 2) == B + 8 * P
    assert mremap(env, B, 2 * P, 2 * P, FIXED, B + 10 * P) == B + 10 * P
    assert layout(env) == [(8, 4)]
    env.check()


def test_move_faulted_anonymous_memory_keeps_its_pgoff():
    env = Env()
    assert env.mmap(B, 2) == B
    fill(env, B, 2)
    assert env.mmap(B + 8 * P, 2) == B + 8 * P
    assert mremap(env, B, 2 * P, 2 * P, FIXED, B + 10 * P) == B + 10 * P
    assert layout(env) == [(8, 2), (10, 2)]                         # anon_vma differs
    assert find_vma(env.mm, B + 10 * P).vm_pgoff == B // P
    env.check()


def test_move_over_the_map_count_limit_is_enomem():
    env = Env(max_map_count=4)
    for i in range(3):
        assert env.mmap(B + 4 * i * P, 2, PROT_READ if i % 2 else RW) == B + 4 * i * P
    assert mremap(env, B, P, P, FIXED, B + 20 * P) == -errno.ENOMEM
    assert layout(env) == [(0, 2), (4, 2), (8, 2)]


# -- MREMAP_FIXED (mremap_to) ----------------------------------------------------------------


def test_fixed_replaces_the_destination():
    env = Env()
    assert env.mmap(B, 2) == B
    fill(env, B, 2)
    assert env.mmap(B + 8 * P, 4, PROT_READ) == B + 8 * P
    assert mremap(env, B, 2 * P, 3 * P, FIXED, B + 9 * P) == B + 9 * P
    assert layout(env) == [(8, 1), (9, 3)]
    assert contents(env, B + 9 * P, 3) == [0x40, 0x41, 0]
    env.check()


def test_fixed_shrink_moves_only_what_is_kept():
    env = Env()
    assert env.mmap(B, 4) == B
    fill(env, B, 4)
    assert mremap(env, B, 4 * P, 2 * P, FIXED, B + 8 * P) == B + 8 * P
    assert layout(env) == [(8, 2)]
    assert contents(env, B + 8 * P, 2) == [0x40, 0x41]
    env.check()


def test_fixed_with_unmapped_source_unmaps_the_destination_in_4_14():
    """4.14's mremap_to() unmaps [new_addr, +new_len) before vma_to_resize()
    finds nothing at addr (-EFAULT); 5.16 looks the source up first."""
    env = Env()
    assert env.mmap(B + 8 * P, 2) == B + 8 * P
    assert mremap(env, B, P, P, FIXED, B + 8 * P) == -errno.EFAULT
    assert layout(env) == [(9, 1)]
    env.check()


# -- old_len 0 -------------------------------------------------------------------------------


def test_old_len_zero_duplicates_a_shared_mapping():
    env = Env()
    assert env.mmap(B, 2, RW, SHARED | MAP_FIXED) == B
    env.write(B, b"shared")
    assert mremap(env, B, 0, 2 * P, FIXED, B + 8 * P) == B + 8 * P
    assert layout(env) == [(0, 2), (8, 2)]
    assert env.read(B + 8 * P, 6) == b"shared"
    env.write(B + 8 * P, b"SHARED")
    assert env.read(B, 6) == b"SHARED"
    env.check()


def test_old_len_zero_of_a_private_mapping_is_einval():
    env = Env()
    assert env.mmap(B, 2) == B
    assert mremap(env, B, 0, 2 * P, MOVE) == -errno.EINVAL
    assert mremap(env, B, 0, 2 * P, FIXED, B + 8 * P) == -errno.EINVAL
    assert layout(env) == [(0, 2)]


# -- file mappings ---------------------------------------------------------------------------


@pytest.fixture
def datafile(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"".join(bytes([i]) * P for i in range(8)))
    return path


def test_moving_a_file_mapping_keeps_its_file_offset(datafile):
    env = Env()
    f = File(env.k, os.open(datafile, os.O_RDWR | os.O_CLOEXEC), str(datafile), os.O_RDWR)
    assert do_mmap(env.mm, f, B, 3 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, 2) == B
    assert mremap(env, B + P, 2 * P, 4 * P, FIXED, B + 8 * P) == B + 8 * P
    moved = find_vma(env.mm, B + 8 * P)
    assert moved.vm_pgoff == 3 and moved.vm_file is f
    assert contents(env, B + 8 * P, 4) == [3, 4, 5, 6]              # 5, 6: read from the file
    assert f.refcount == 3                                          # the fd, two VMAs
    env.munmap(B, 16 * P)
    assert f.refcount == 1
    f.put()
    env.check()


def test_growing_a_shared_file_mapping_in_place(datafile):
    env = Env()
    f = File(env.k, os.open(datafile, os.O_RDWR | os.O_CLOEXEC), str(datafile), os.O_RDWR)
    assert do_mmap(env.mm, f, B, 2 * P, RW, MAP_SHARED | MAP_FIXED, 1) == B
    assert mremap(env, B, 2 * P, 3 * P) == B
    assert contents(env, B, 3) == [1, 2, 3]
    env.munmap(B, 3 * P)
    f.put()


def test_locked_mapping_moved_is_populated_and_counted():
    env = Env()
    assert env.mmap(B, 2) == B
    assert do_mlock(env.mm, B, 2 * P) == 0
    assert mremap(env, B, 2 * P, 3 * P, FIXED, B + 8 * P) == B + 8 * P
    assert env.mm.locked_vm == 3
    assert find_vma(env.mm, B + 8 * P).vm_flags & VM_LOCKED
    assert all(env.pte(B + 8 * P + i * P) for i in range(3))     # moved, and the new tail
    env.check()
