"""madvise() (kernel/mm/madvise.py) against Linux 4.14's mm/madvise.c.

In process: a kernel, a task and its mm, no guest program.  Each advice's
vm_flags, the range rules (errno order, holes, wrap-around) and the
splitting and re-merging of VMAs the flag advices cause.
"""

import errno

import pytest

from kernel.mm.madvise import do_madvise, madvise_behavior_flags
from kernel.mm.mm import (
    VM_DONTCOPY, VM_DONTDUMP, VM_IO, VM_RAND_READ, VM_SEQ_READ, VM_WIPEONFORK,
)
from kernel.mm.mlock import do_mlock
from kernel.uapi import (
    MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_FREE,
    MADV_KEEPONFORK, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
    MADV_WIPEONFORK, MAP_ANONYMOUS, MAP_FIXED, MAP_SHARED, PROT_READ, PROT_WRITE,
)
from test_vma import B, P, Env, check_mm

RW = PROT_READ | PROT_WRITE
U64 = 1 << 64


@pytest.fixture
def env():
    return Env()


def flags_after(env, advice, start=0):
    """vm_flags madvise_behavior_flags() computes for the VMA at B with start flags."""
    env.mmap(B, 1)
    vma = env.vmas()[0]
    vma.vm_flags |= start
    return madvise_behavior_flags(vma, advice), vma.vm_flags


@pytest.mark.parametrize("advice, start, set_, cleared", [
    (MADV_NORMAL, VM_RAND_READ | VM_SEQ_READ, 0, VM_RAND_READ | VM_SEQ_READ),
    (MADV_SEQUENTIAL, VM_RAND_READ, VM_SEQ_READ, VM_RAND_READ),
    (MADV_RANDOM, VM_SEQ_READ, VM_RAND_READ, VM_SEQ_READ),
    (MADV_DONTFORK, 0, VM_DONTCOPY, 0),
    (MADV_DOFORK, VM_DONTCOPY, 0, VM_DONTCOPY),
    (MADV_WIPEONFORK, 0, VM_WIPEONFORK, 0),
    (MADV_KEEPONFORK, VM_WIPEONFORK, 0, VM_WIPEONFORK),
    (MADV_DONTDUMP, 0, VM_DONTDUMP, 0),
    (MADV_DODUMP, VM_DONTDUMP, 0, VM_DONTDUMP),
])
def test_behavior_flags(env, advice, start, set_, cleared):
    new, old = flags_after(env, advice, start)
    assert new == (old | set_) & ~cleared


@pytest.mark.parametrize("advice", [MADV_NORMAL, MADV_SEQUENTIAL, MADV_RANDOM, MADV_DONTFORK,
                                    MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK,
                                    MADV_DONTDUMP, MADV_DODUMP])
def test_behavior_flags_leave_other_bits_alone(env, advice):
    other = VM_DONTDUMP if advice not in (MADV_DONTDUMP, MADV_DODUMP) else VM_DONTCOPY
    new, old = flags_after(env, advice, other)
    assert new & other == other
    assert new & 0xFF == old & 0xFF                 # rwx, shared and the VM_MAY* bits


def test_dofork_refused_on_vm_io(env):
    assert flags_after(env, MADV_DOFORK, VM_IO | VM_DONTCOPY)[0] == -errno.EINVAL


def test_wipeonfork_only_on_private_anonymous_memory(env, tmp_path):
    assert env.mmap(B, 1, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED) == B
    assert do_madvise(env.mm, B, P, MADV_WIPEONFORK) == -errno.EINVAL
    assert not env.vmas()[0].vm_flags & VM_WIPEONFORK
    assert env.mmap(B + 4 * P, 1) == B + 4 * P
    assert do_madvise(env.mm, B + 4 * P, P, MADV_WIPEONFORK) == 0
    assert env.vmas()[1].vm_flags & VM_WIPEONFORK


# -- the range -----------------------------------------------------------------------

def test_bad_advice_and_unaligned_start(env):
    env.mmap(B, 1)
    assert do_madvise(env.mm, B, P, 5) == -errno.EINVAL         # not an advice here
    assert do_madvise(env.mm, B, P, 12) == -errno.EINVAL        # MADV_MERGEABLE: no KSM
    assert do_madvise(env.mm, B + 1, P, MADV_NORMAL) == -errno.EINVAL
    # Checked before the range: even a zero length is refused.
    assert do_madvise(env.mm, B + 1, 0, MADV_NORMAL) == -errno.EINVAL
    assert do_madvise(env.mm, B, 0, 5) == -errno.EINVAL


def test_length_rules(env):
    env.mmap(B, 1)
    assert do_madvise(env.mm, B, 0, MADV_DONTFORK) == 0
    assert do_madvise(env.mm, 0, 0, MADV_DONTFORK) == 0              # nothing there: still 0
    assert do_madvise(env.mm, B, U64 - 1, MADV_DONTFORK) == -errno.EINVAL   # rounds to 0
    assert do_madvise(env.mm, B, U64 - B, MADV_DONTFORK) == -errno.EINVAL   # end wraps
    assert not env.vmas()[0].vm_flags & VM_DONTCOPY
    assert do_madvise(env.mm, B, 1, MADV_DONTFORK) == 0              # rounded up to a page
    assert env.vmas()[0].vm_flags & VM_DONTCOPY


def test_unmapped_range_is_enomem(env):
    assert do_madvise(env.mm, B, P, MADV_NORMAL) == -errno.ENOMEM       # no vma at all
    env.mmap(B + 2 * P, 1)
    assert do_madvise(env.mm, B, P, MADV_NORMAL) == -errno.ENOMEM       # hole below a vma
    assert do_madvise(env.mm, B + 3 * P, P, MADV_NORMAL) == -errno.ENOMEM   # above the last


def test_holes_are_enomem_but_mapped_parts_are_advised(env):
    env.mmap(B, 1)
    env.mmap(B + 2 * P, 1)
    env.mmap(B + 4 * P, 1)
    assert do_madvise(env.mm, B, 5 * P, MADV_DONTFORK) == -errno.ENOMEM
    assert [bool(v.vm_flags & VM_DONTCOPY) for v in env.vmas()] == [True, True, True]
    # Starting in a hole: the vmas above it are still advised.
    assert do_madvise(env.mm, B + P, 4 * P, MADV_DOFORK) == -errno.ENOMEM
    assert [bool(v.vm_flags & VM_DONTCOPY) for v in env.vmas()] == [True, False, False]
    # A range ending in a hole after the last vma it touches.
    assert do_madvise(env.mm, B, 2 * P, MADV_DOFORK) == -errno.ENOMEM
    assert not env.vmas()[0].vm_flags & VM_DONTCOPY
    check_mm(env.mm)


def test_advice_on_the_middle_splits_and_reverting_it_merges(env):
    env.mmap(B, 3)
    assert do_madvise(env.mm, B + P, P, MADV_DONTFORK) == 0
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P), (B + 2 * P, B + 3 * P)]
    assert [bool(v.vm_flags & VM_DONTCOPY) for v in env.vmas()] == [False, True, False]
    assert do_madvise(env.mm, B + P, P, MADV_DOFORK) == 0
    assert env.ranges() == [(B, B + 3 * P)]
    check_mm(env.mm)


def test_advice_on_a_tail_then_the_head_merges(env):
    env.mmap(B, 3)
    assert do_madvise(env.mm, B + P, 2 * P, MADV_DONTDUMP) == 0
    assert env.ranges() == [(B, B + P), (B + P, B + 3 * P)]
    assert do_madvise(env.mm, B, P, MADV_DONTDUMP) == 0
    assert env.ranges() == [(B, B + 3 * P)]
    assert env.vmas()[0].vm_flags & VM_DONTDUMP
    check_mm(env.mm)


def test_advice_over_several_vmas_merges_them(env):
    env.mmap(B, 2)
    env.mmap(B + 2 * P, 2, prot=PROT_READ)
    env.mmap(B + 4 * P, 2)
    assert do_madvise(env.mm, B + P, 4 * P, MADV_RANDOM) == 0
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P), (B + 2 * P, B + 4 * P),
                            (B + 4 * P, B + 5 * P), (B + 5 * P, B + 6 * P)]
    assert [bool(v.vm_flags & VM_RAND_READ) for v in env.vmas()] == [
        False, True, True, True, False]
    assert do_madvise(env.mm, B, 6 * P, MADV_NORMAL) == 0
    assert env.ranges() == [(B, B + 2 * P), (B + 2 * P, B + 4 * P), (B + 4 * P, B + 6 * P)]
    check_mm(env.mm)


def test_same_advice_twice_changes_nothing(env):
    env.mmap(B, 3)
    assert do_madvise(env.mm, B + P, P, MADV_NORMAL) == 0
    assert env.ranges() == [(B, B + 3 * P)]
    assert env.mm.map_count == 1


def test_split_refused_at_max_map_count():
    env = Env(max_map_count=1)
    env.mmap(B, 3)
    assert do_madvise(env.mm, B + P, P, MADV_DONTFORK) == -errno.ENOMEM
    assert env.ranges() == [(B, B + 3 * P)]
    assert not env.vmas()[0].vm_flags & VM_DONTCOPY


# -- dropping pages --------------------------------------------------------------------

@pytest.mark.parametrize("advice", [MADV_DONTNEED, MADV_FREE])
def test_dontneed_and_free_zero_private_anonymous_pages(env, advice):
    env.mmap(B, 3)
    for i in range(3):
        env.write(B + i * P, b"page%d" % i)
    rss = env.mm.rss_anon
    assert do_madvise(env.mm, B + P, P, advice) == 0
    assert env.mm.rss_anon == rss - 1
    assert env.peek_page(B + P) is None
    assert env.read(B, 5) == b"page0" and env.read(B + 2 * P, 5) == b"page2"
    assert env.read(B + P, 5) == b"\0" * 5
    assert env.ranges() == [(B, B + 3 * P)]


def test_dontneed_of_shared_memory_keeps_the_data(env):
    env.mmap(B, 1, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    env.write(B, b"kept")
    assert do_madvise(env.mm, B, P, MADV_DONTNEED) == 0
    assert env.peek_page(B) is None
    assert env.read(B, 4) == b"kept"
    assert do_madvise(env.mm, B, P, MADV_FREE) == -errno.EINVAL


def test_dontneed_refused_on_locked_memory(env):
    env.mmap(B, 2)
    env.write(B, b"locked")
    assert do_mlock(env.mm, B, P) == 0
    for advice in (MADV_DONTNEED, MADV_FREE):
        assert do_madvise(env.mm, B, 2 * P, advice) == -errno.EINVAL
    assert env.read(B, 6) == b"locked"
    # The unlocked page after it may go.
    env.write(B + P, b"x")
    assert do_madvise(env.mm, B + P, P, MADV_DONTNEED) == 0
    assert env.peek_page(B + P) is None


def test_willneed_is_only_checked(env):
    env.mmap(B, 2)
    assert do_madvise(env.mm, B, 2 * P, MADV_WILLNEED) == 0
    assert env.peek_page(B) is None and env.ranges() == [(B, B + 2 * P)]
    assert do_madvise(env.mm, B, 3 * P, MADV_WILLNEED) == -errno.ENOMEM


def test_private_file_mappings_refuse_wipeonfork_and_free(env, tmp_path):
    import os
    from kernel.fs.file import File
    from kernel.mm.mmap import do_mmap
    from kernel.uapi import MAP_PRIVATE, O_RDWR
    path = tmp_path / "f"
    path.write_bytes(b"f" * P)
    f = File(env.k, os.open(path, O_RDWR), str(path), O_RDWR)
    assert do_mmap(env.mm, f, B, P, RW, MAP_PRIVATE | MAP_FIXED, 0) == B
    env.write(B, b"copy")
    assert do_madvise(env.mm, B, P, MADV_WIPEONFORK) == -errno.EINVAL
    assert do_madvise(env.mm, B, P, MADV_FREE) == -errno.EINVAL
    assert env.read(B, 4) == b"copy"
    assert do_madvise(env.mm, B, P, MADV_DONTNEED) == 0
    assert env.read(B, 4) == b"ffff"                # back to the file's page


def test_range_ending_where_the_first_vma_starts(env):
    env.mmap(B + P, 2)
    assert do_madvise(env.mm, B, P, MADV_DONTFORK) == -errno.ENOMEM
    assert env.ranges() == [(B + P, B + 3 * P)]
    assert not env.vmas()[0].vm_flags & VM_DONTCOPY
