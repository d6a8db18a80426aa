"""mlock, munlock, mlockall and mincore (kernel/mm/mlock.py) against Linux
4.14's mm/mlock.c and mm/mincore.c: the range rules, the VM_LOCKED bits,
locked_vm, and which pages are populated.  In process, no guest program.
(tests/test_mlock.py holds the end-to-end side.)
"""

import errno

import pytest

from kernel.mm import mlock as mlock_mod
from kernel.mm.madvise import do_madvise
from kernel.mm.mlock import (
    MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, do_mincore, do_mlock, do_mlockall,
    do_munlock, do_munlockall,
)
from kernel.mm.mm import VM_LOCKED
from kernel.fs.file import FdTable
from kernel.syscalls import mm as sc
from kernel.uapi import MADV_DONTNEED, MAP_ANONYMOUS, MAP_FIXED, MAP_SHARED, RLIMIT_MEMLOCK
from test_vma import ANON_RW_FLAGS, B, P, Env, check_mm

U64 = 1 << 64


@pytest.fixture
def env():
    return Env()


def locked(env):
    return [bool(v.vm_flags & VM_LOCKED) for v in env.vmas()]


def present(env, addr, npages):
    return [env.peek_page(addr + i * P) is not None for i in range(npages)]


# -- mlock / munlock ---------------------------------------------------------------------

def test_mlock_locks_splits_and_populates(env):
    env.mmap(B, 4)
    assert do_mlock(env.mm, B + P, 2 * P) == 0
    assert env.ranges() == [(B, B + P), (B + P, B + 3 * P), (B + 3 * P, B + 4 * P)]
    assert locked(env) == [False, True, False]
    assert env.mm.locked_vm == 2
    assert present(env, B, 4) == [False, True, True, False]
    check_mm(env.mm)


def test_mlock_rounds_the_range_out_to_pages(env):
    env.mmap(B, 4)
    assert do_mlock(env.mm, B + P + 100, P) == 0      # bytes P+100 .. 2P+100: two pages
    assert env.ranges() == [(B, B + P), (B + P, B + 3 * P), (B + 3 * P, B + 4 * P)]
    assert env.mm.locked_vm == 2
    assert do_munlock(env.mm, B + 2 * P + 1, 1) == 0   # one byte: its whole page
    # The unlocked page (populated: it has the anon_vma) does not merge into
    # the never-touched VMA after it: 4.14's is_mergeable_anon_vma() wants
    # that VMA's anon_vma_chain to be singular, and it is empty.  (v6.16,
    # "mm/vma: fix incorrectly disallowed anonymous VMA merges", lets it merge.)
    assert locked(env) == [False, True, False, False]
    assert env.ranges() == [(B, B + P), (B + P, B + 2 * P), (B + 2 * P, B + 3 * P),
                            (B + 3 * P, B + 4 * P)]
    assert env.mm.locked_vm == 1


def test_mlock_onfault_does_not_populate(env):
    env.mmap(B, 2)
    assert do_mlock(env.mm, B, 2 * P, MLOCK_ONFAULT) == 0
    assert locked(env) == [True] and env.mm.locked_vm == 2
    assert present(env, B, 2) == [False, False]
    assert do_mlock(env.mm, B, P, MLOCK_ONFAULT | 2) == -errno.EINVAL


def test_mlock_of_a_zero_length_range_is_0_mapped_or_not(env):
    """apply_vma_lock_flags(): end == start returns 0 before looking for a vma;
    and a length that rounds up past 2**64 wraps to 0 (size_t)."""
    env.mmap(B, 2)
    assert do_mlock(env.mm, B, 0) == 0
    assert do_mlock(env.mm, B + 8 * P, 0) == 0
    assert do_munlock(env.mm, B + 8 * P, 0) == 0
    assert do_mlock(env.mm, B, U64 - 1) == 0
    assert env.ranges() == [(B, B + 2 * P)] and locked(env) == [False]
    assert env.mm.locked_vm == 0
    check_mm(env.mm)


def test_mlock_range_past_2_64_is_einval(env):
    env.mmap(B, 2)
    assert do_mlock(env.mm, B, U64 - B + P) == -errno.EINVAL      # end wraps to P
    assert do_munlock(env.mm, B, U64 - B + P) == -errno.EINVAL
    assert do_mlock(env.mm, B, U64 - B - P) == -errno.ENOMEM      # no wrap: a hole


def test_mlock_holes_are_enomem(env):
    env.mmap(B, 1)
    env.mmap(B + 2 * P, 2)
    assert do_mlock(env.mm, B + 4 * P, P) == -errno.ENOMEM        # nothing mapped
    assert do_mlock(env.mm, B + P, 2 * P) == -errno.ENOMEM        # starts in a hole
    assert locked(env) == [False, False]
    # Across a hole: the part before it is locked, then -ENOMEM.
    assert do_mlock(env.mm, B, 4 * P) == -errno.ENOMEM
    assert locked(env) == [True, False]
    assert env.mm.locked_vm == 1
    # Ending exactly at the end of the last vma is fine; one page past is not.
    assert do_mlock(env.mm, B + 2 * P, 2 * P) == 0
    assert do_munlock(env.mm, B + 2 * P, 3 * P) == -errno.ENOMEM
    assert locked(env) == [True, False]
    assert env.mm.locked_vm == 1


def test_mlock_across_vmas_merges_them_back(env):
    env.mmap(B, 2)
    env.mmap(B + 2 * P, 2)
    assert env.ranges() == [(B, B + 4 * P)]
    assert do_mlock(env.mm, B + P, P) == 0
    assert do_mlock(env.mm, B + 2 * P, 2 * P) == 0
    assert env.ranges() == [(B, B + P), (B + P, B + 4 * P)]
    assert do_mlock(env.mm, B, 4 * P) == 0                       # already locked: no change
    assert env.ranges() == [(B, B + 4 * P)] and env.mm.locked_vm == 4
    assert do_munlock(env.mm, B, 4 * P) == 0
    assert env.ranges() == [(B, B + 4 * P)] and locked(env) == [False]
    assert env.mm.locked_vm == 0
    check_mm(env.mm)


def test_mlock_over_locked_and_unlocked_vmas_counts_each_page_once(env):
    env.mmap(B, 1)
    env.mmap(B + P, 1, prot=1)                  # PROT_READ: a separate vma
    env.mmap(B + 2 * P, 1)
    assert do_mlock(env.mm, B + P, P) == 0
    assert env.mm.locked_vm == 1
    assert do_mlock(env.mm, B, 3 * P) == 0
    assert env.mm.locked_vm == 3 and locked(env) == [True, True, True]
    assert do_munlock(env.mm, B + P, 2 * P) == 0
    assert env.mm.locked_vm == 1 and locked(env) == [True, False, False]


def test_mlock_split_refused_at_max_map_count():
    env = Env(max_map_count=1)
    env.mmap(B, 3)
    assert do_mlock(env.mm, B + P, P) == -errno.ENOMEM
    assert env.ranges() == [(B, B + 3 * P)] and locked(env) == [False]
    assert env.mm.locked_vm == 0


def test_rlimit_memlock_applies_without_cap_ipc_lock(env, monkeypatch):
    """can_do_mlock(): locked_vm + the new pages within RLIMIT_MEMLOCK, unless
    the caller has CAP_IPC_LOCK (here: is root)."""
    env.mmap(B, 8)
    env.task.rlim[RLIMIT_MEMLOCK] = (2 * P, 2 * P)
    monkeypatch.setattr(mlock_mod, "capable_ipc_lock", lambda mm: False)
    assert do_mlock(env.mm, B, 3 * P) == -errno.ENOMEM
    assert env.mm.locked_vm == 0
    assert do_mlock(env.mm, B, 2 * P) == 0
    assert do_mlock(env.mm, B + 2 * P, P) == -errno.ENOMEM
    assert env.mm.locked_vm == 2
    monkeypatch.setattr(mlock_mod, "capable_ipc_lock", lambda mm: True)
    assert do_mlock(env.mm, B + 2 * P, 6 * P) == 0
    assert env.mm.locked_vm == 8


# -- mlockall / munlockall ------------------------------------------------------------------

def test_mlockall_einval(env):
    for flags in (0, MCL_ONFAULT, 8, MCL_CURRENT | 8):
        assert do_mlockall(env.mm, flags) == -errno.EINVAL, flags
    assert env.mm.def_flags == 0


def test_mlockall_current_locks_and_populates_every_vma(env):
    env.mmap(B, 2)
    env.mmap(B + 4 * P, 1, prot=1)
    assert do_mlockall(env.mm, MCL_CURRENT) == 0
    assert locked(env) == [True, True] and env.mm.locked_vm == 3
    assert present(env, B, 2) == [True, True] and present(env, B + 4 * P, 1) == [True]
    assert env.mm.def_flags & VM_LOCKED == 0
    # Later mappings are not locked.
    env.mmap(B + 8 * P, 1)
    assert locked(env) == [True, True, False]


def test_mlockall_onfault_does_not_populate(env):
    env.mmap(B, 2)
    assert do_mlockall(env.mm, MCL_CURRENT | MCL_ONFAULT) == 0
    assert locked(env) == [True] and present(env, B, 2) == [False, False]


def test_mlockall_future_locks_later_mappings(env):
    env.mmap(B, 1)
    assert do_mlockall(env.mm, MCL_FUTURE) == 0
    assert locked(env) == [False]
    assert env.mm.def_flags & VM_LOCKED
    env.mmap(B + 4 * P, 2)
    assert locked(env) == [False, True]
    assert env.mm.locked_vm == 2
    assert present(env, B + 4 * P, 2) == [True, True]     # MAP_LOCKED-like: populated
    # mlockall(MCL_CURRENT) alone turns MCL_FUTURE off again.
    assert do_mlockall(env.mm, MCL_CURRENT) == 0
    assert env.mm.def_flags & VM_LOCKED == 0
    env.mmap(B + 8 * P, 1)
    assert locked(env) == [True, True, False]


def test_munlockall(env):
    env.mmap(B, 1)
    env.mmap(B + 2 * P, 1, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    assert do_mlockall(env.mm, MCL_CURRENT | MCL_FUTURE) == 0
    assert env.mm.locked_vm == 2
    assert do_munlockall(env.mm) == 0
    assert locked(env) == [False, False] and env.mm.locked_vm == 0
    assert env.mm.def_flags & VM_LOCKED == 0
    env.mmap(B + 4 * P, 1)
    assert locked(env) == [False, False, False]


def test_mlockall_rlimit_counts_total_vm(env, monkeypatch):
    env.mmap(B, 3)
    env.task.rlim[RLIMIT_MEMLOCK] = (2 * P, 2 * P)
    monkeypatch.setattr(mlock_mod, "capable_ipc_lock", lambda mm: False)
    assert do_mlockall(env.mm, MCL_CURRENT) == -errno.ENOMEM
    assert locked(env) == [False]
    env.task.rlim[RLIMIT_MEMLOCK] = (3 * P, 3 * P)
    assert do_mlockall(env.mm, MCL_CURRENT) == 0
    assert locked(env) == [True]


# -- mincore -------------------------------------------------------------------------------

def test_mincore_reports_mapped_pages(env):
    env.mmap(B, 4)
    env.write(B + P, b"x")
    env.read(B + 3 * P, 1)                   # the zero page is mapped: resident
    assert do_mincore(env.mm, B, 4 * P) == b"\0\1\0\1"
    assert do_mincore(env.mm, B + P, 1) == b"\1"           # length rounded up
    assert do_mincore(env.mm, B, 0) == b""
    assert do_mincore(env.mm, B + 8 * P, 0) == b""        # nothing to check: no error


def test_mincore_errors(env):
    env.mmap(B, 2)
    assert do_mincore(env.mm, B + 1, P) == -errno.EINVAL
    assert do_mincore(env.mm, B + 2 * P, P) == -errno.ENOMEM
    assert do_mincore(env.mm, B - P, 2 * P) == -errno.ENOMEM
    assert do_mincore(env.mm, B, 3 * P) == -errno.ENOMEM
    top = env.mm.task_size
    assert do_mincore(env.mm, top - P, 2 * P) == -errno.ENOMEM


def test_mincore_of_a_shared_mapping_sees_the_page_cache(env):
    env.mmap(B, 2, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    env.mmap(B + 4 * P, 2, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    env.write(B, b"x")
    assert do_mincore(env.mm, B, 2 * P) == b"\1\0"
    # Dropping the pte keeps the page in the cache (shmem): still resident.
    assert do_madvise(env.mm, B, P, MADV_DONTNEED) == 0
    assert env.peek_page(B) is None
    assert do_mincore(env.mm, B, 2 * P) == b"\1\0"
    assert do_mincore(env.mm, B + 4 * P, 2 * P) == b"\0\0"


def test_mincore_syscall_copies_the_pages_before_a_hole(env):
    """mm/mincore.c copies the vector out a VMA at a time: the bytes of the
    pages before the hole are written, then -ENOMEM."""
    env.task.files = FdTable()
    env.mmap(B, 2)
    vec = B + 16 * P
    env.mmap(vec, 1)
    env.write(B, b"x")
    env.write(vec, b"\x09" * 4)
    assert sc.sys_mincore(env.task, B, 4 * P, vec) == -errno.ENOMEM
    assert env.read(vec, 4) == b"\1\0\x09\x09"
    assert sc.sys_mincore(env.task, B + 4 * P, P, vec) == -errno.ENOMEM
    assert env.read(vec, 4) == b"\1\0\x09\x09"


def test_mlock_populates_a_range_ending_inside_the_merged_vma(env):
    """Locking [B, B+P) next to a locked [B+P, B+2P) merges them; populating
    [B, B+P) must stop at B+P, inside the merged vma."""
    env.mmap(B, 2)
    assert do_mlock(env.mm, B + P, P) == 0
    assert do_mlock(env.mm, B, P) == 0
    assert env.ranges() == [(B, B + 2 * P)] and locked(env) == [True]
    assert present(env, B, 2) == [True, True]
    assert env.mm.locked_vm == 2


def test_mincore_at_the_top_of_the_address_space(env):
    env.task.files = FdTable()
    top = env.mm.task_size
    env.mmap(top - P, 1)
    assert do_mincore(env.mm, top - P, P) == b"\0"
    vec = B
    env.mmap(vec, 1)
    env.write(vec, b"\x07\x07")
    # Past TASK_SIZE: -ENOMEM before anything is looked at or copied.
    assert sc.sys_mincore(env.task, top - P, 2 * P, vec) == -errno.ENOMEM
    assert sc.sys_mincore(env.task, top + P, P, vec) == -errno.ENOMEM
    assert env.read(vec, 2) == b"\x07\x07"


def test_mincore_of_pages_without_a_page_table(env):
    far = B + (1 << 30)
    env.mmap(far, 2)                         # nothing touched: no level-3 table
    assert env.k.pgtable.pte_offset(env.mm, far) is None
    assert do_mincore(env.mm, far, 2 * P) == b"\0\0"


def test_mincore_of_a_file_mapping_at_an_offset(env, tmp_path):
    import os
    from kernel.fs.file import File
    from kernel.mm.mmap import do_mmap
    from kernel.uapi import O_RDWR, PROT_READ
    path = tmp_path / "f"
    path.write_bytes(b"x" * (8 * P))
    f = File(env.k, os.open(path, O_RDWR), str(path), O_RDWR)
    assert do_mmap(env.mm, f, B, 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED, 4) == B
    f.mapping.find_get_page(5)               # file page 5 (and readahead after it)
    for pgoff in list(f.mapping.pages):
        if pgoff != 5:
            env.k.pages.put_page(f.mapping.pages.pop(pgoff))
    assert do_mincore(env.mm, B, 2 * P) == b"\0\1"


def test_rlimit_memlock_soft_limit(env, monkeypatch):
    env.mmap(B, 4)
    env.task.rlim[RLIMIT_MEMLOCK] = (P, 8 * P)
    monkeypatch.setattr(mlock_mod, "capable_ipc_lock", lambda mm: False)
    assert do_mlock(env.mm, B, 2 * P) == -errno.ENOMEM
    assert do_mlock(env.mm, B, P) == 0


def test_mlockall_leaves_the_other_def_flags_alone(env):
    assert do_mlockall(env.mm, MCL_CURRENT) == 0
    assert env.mm.def_flags == 0
    assert do_mlockall(env.mm, MCL_FUTURE) == 0
    assert env.mm.def_flags == VM_LOCKED
    assert do_munlockall(env.mm) == 0
    assert env.mm.def_flags == 0
    env.mmap(B, 1)
    assert env.vmas()[0].vm_flags == ANON_RW_FLAGS
