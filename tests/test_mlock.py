"""mlock, munlock, mlock2, mlockall, munlockall: errors and locked_vm.

Every expectation is Linux 4.14's (mm/mlock.c: do_mlock, apply_vma_lock_flags,
mlock_fixup, count_mm_mlocked_page_nr, apply_mlockall_flags,
__mlock_posix_error_return; mm/mmap.c: mlock_future_check, do_munmap's
locked_vm; mm/mremap.c: vma_to_resize's RLIMIT_MEMLOCK check, move_vma).
locked_vm is what /proc/self/status shows as VmLck.  The RLIMIT_MEMLOCK
cases run as an unprivileged user (no CAP_IPC_LOCK): Kernel.mm_capable is faked.
"""

import errno
import os

import pytest

from kernel.mm.madvise import do_madvise
from kernel.mm.mlock import (
    MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, do_mincore, do_mlock, do_mlockall,
    do_munlock, do_munlockall,
)
from kernel.mm.mm import PTE_PRESENT_MASK, VM_LOCKED
from kernel.mm.mmap import do_mmap, sys_brk
from kernel.mm.mremap import sys_mremap
from kernel.uapi import (
    MAP_LOCKED, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_NONE, PROT_READ, RLIMIT_MEMLOCK,
)
from kernel.main import Kernel
from test_vma import Env, FIXED, P, RW

B = 0x10000000
MADV_DONTNEED = 4


@pytest.fixture
def user(monkeypatch):
    """Run as an unprivileged user: RLIMIT_MEMLOCK applies."""
    monkeypatch.setattr(Kernel, "mm_capable", lambda self, mm, cap: False)


def memlock(env, pages):
    env.task.rlim[RLIMIT_MEMLOCK] = [pages * P, pages * P]


def locked(env):
    """[(start page, pages)] of the VM_LOCKED VMAs, relative to B."""
    return [((v.vm_start - B) // P, (v.vm_end - v.vm_start) // P) for v in env.vmas()
            if v.vm_flags & VM_LOCKED]


def present(env, addr, pages):
    return [bool(env.pte(addr + i * P) & PTE_PRESENT_MASK) for i in range(pages)]


def check(env):
    """locked_vm is the size of the VM_LOCKED VMAs, and the mm is sound."""
    assert env.mm.locked_vm == sum(n for _, n in locked(env))
    env.check()


# -- errors -------------------------------------------------------------------------------


def test_mlock_over_a_hole_is_enomem_and_keeps_what_came_before():
    env = Env()
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 3 * P, 2) == B + 3 * P
    assert do_mlock(env.mm, B, 5 * P) == -errno.ENOMEM
    assert locked(env) == [(0, 2)]
    assert do_mlock(env.mm, B + 2 * P, P) == -errno.ENOMEM      # all hole
    assert do_munlock(env.mm, B, 5 * P) == -errno.ENOMEM
    assert locked(env) == []
    check(env)


def test_mlock_unmapped_start_is_enomem():
    env = Env()
    assert env.mmap(B + P, 2) == B + P
    assert do_mlock(env.mm, B, 2 * P) == -errno.ENOMEM
    assert locked(env) == []
    check(env)


def test_mlock_zero_length_is_nothing_even_unmapped():
    env = Env()
    assert do_mlock(env.mm, B, 0) == 0
    assert do_munlock(env.mm, B, 0) == 0
    assert env.mmap(B, 1) == B
    assert do_mlock(env.mm, B, 0) == 0 and locked(env) == []


def test_mlock_unaligned_start_rounds_out():
    env = Env()
    assert env.mmap(B, 4) == B
    assert do_mlock(env.mm, B + P + 100, P) == 0                 # pages 1 and 2
    assert locked(env) == [(1, 2)]
    assert present(env, B, 4) == [False, True, True, False]
    check(env)


def test_mlock_range_that_wraps_is_einval():
    env = Env()
    assert env.mmap(B, 1) == B
    assert do_mlock(env.mm, B, (1 << 64) - B) == -errno.EINVAL
    assert do_munlock(env.mm, B, (1 << 64) - B) == -errno.EINVAL


def test_mlock2_flags():
    env = Env()
    assert env.mmap(B, 2) == B
    assert do_mlock(env.mm, B, P, 2) == -errno.EINVAL
    assert do_mlock(env.mm, B, 2 * P, MLOCK_ONFAULT) == 0
    assert locked(env) == [(0, 2)]
    assert present(env, B, 2) == [False, False]                  # on fault only
    check(env)


def test_mlock_prot_none_locks_but_reports_enomem():
    """populate_vma_page_range() cannot fault PROT_NONE pages in: the VMA is
    locked, and mlock() says ENOMEM (__mlock_posix_error_return of EFAULT)."""
    env = Env()
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 2 * P, 2, PROT_NONE) == B + 2 * P
    assert env.mmap(B + 4 * P, 2) == B + 4 * P
    assert do_mlock(env.mm, B, 6 * P) == -errno.ENOMEM
    assert locked(env) == [(0, 2), (2, 2), (4, 2)]
    assert present(env, B, 6) == [True, True, False, False, False, False]
    check(env)


def test_mlock_of_a_file_hole_past_eof_is_enomem(tmp_path):
    from kernel.fs.file import File
    path = tmp_path / "f"
    path.write_bytes(b"x" * P)
    env = Env()
    f = File(env.k, os.open(path, os.O_RDWR | os.O_CLOEXEC), str(path), os.O_RDWR)
    from kernel.uapi import MAP_FIXED, MAP_PRIVATE
    assert do_mmap(env.mm, f, B, 2 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, 0) == B
    assert do_mlock(env.mm, B, 2 * P) == -errno.ENOMEM           # page 1 is past EOF
    assert locked(env) == [(0, 2)]
    assert present(env, B, 2) == [True, False]
    env.munmap(B, 2 * P)
    f.put()
    check(env)


def test_madvise_dontneed_refuses_locked():
    env = Env()
    assert env.mmap(B, 2) == B
    assert do_mlock(env.mm, B, P) == 0
    assert do_madvise(env.mm, B, 2 * P, MADV_DONTNEED) == -errno.EINVAL
    assert do_madvise(env.mm, B + P, P, MADV_DONTNEED) == 0


# -- RLIMIT_MEMLOCK ---------------------------------------------------------------------


def test_zero_memlock_limit_is_eperm(user):
    env = Env()
    memlock(env, 0)
    assert env.mmap(B, 1) == B
    assert do_mlock(env.mm, B, P) == -errno.EPERM
    assert do_mlockall(env.mm, MCL_CURRENT) == -errno.EPERM
    assert do_mmap(env.mm, None, B + 4 * P, P, RW, FIXED | MAP_LOCKED, 0) == -errno.EPERM


def test_memlock_limit_counts_pages_already_locked_once(user):
    env = Env()
    memlock(env, 4)
    assert env.mmap(B, 8) == B
    assert do_mlock(env.mm, B, 5 * P) == -errno.ENOMEM
    assert locked(env) == []
    assert do_mlock(env.mm, B, 4 * P) == 0
    assert do_mlock(env.mm, B, 4 * P) == 0                        # again: counted once
    assert do_mlock(env.mm, B + 2 * P, 2 * P) == 0
    assert do_mlock(env.mm, B + 3 * P, 2 * P) == -errno.ENOMEM    # one new page too many
    assert env.mm.locked_vm == 4
    assert do_munlock(env.mm, B, P) == 0
    assert do_mlock(env.mm, B + 3 * P, 2 * P) == 0
    assert locked(env) == [(1, 4)]
    check(env)


def test_mlockall_current_over_the_limit_changes_nothing(user):
    env = Env()
    memlock(env, 3)
    assert env.mmap(B, 4) == B
    assert do_mlockall(env.mm, MCL_CURRENT | MCL_FUTURE) == -errno.ENOMEM
    assert env.mm.def_flags & VM_LOCKED == 0
    assert locked(env) == []
    assert do_mlockall(env.mm, MCL_FUTURE) == 0                  # no size check
    assert env.mm.def_flags & VM_LOCKED


def test_map_locked_and_mcl_future_past_the_limit_are_eagain(user):
    env = Env()
    memlock(env, 3)
    assert do_mmap(env.mm, None, B, 4 * P, RW, FIXED | MAP_LOCKED, 0) == -errno.EAGAIN
    assert do_mmap(env.mm, None, B, 2 * P, RW, FIXED | MAP_LOCKED, 0) == B
    assert do_mlockall(env.mm, MCL_FUTURE) == 0
    assert env.mmap(B + 4 * P, 2) == -errno.EAGAIN
    assert env.mmap(B + 4 * P, 1) == B + 4 * P
    assert env.mm.locked_vm == 3
    check(env)


def test_mremap_growing_locked_past_the_limit_is_eagain(user):
    env = Env()
    memlock(env, 3)
    assert env.mmap(B, 2) == B
    assert do_mlock(env.mm, B, 2 * P) == 0
    assert sys_mremap(env.mm, B, 2 * P, 4 * P, 0, 0) == -errno.EAGAIN
    assert sys_mremap(env.mm, B, 2 * P, 3 * P, 0, 0) == B
    assert env.mm.locked_vm == 3 and present(env, B, 3) == [True] * 3
    check(env)


# -- locked_vm through split, merge, munmap, mremap -----------------------------------------


def test_locked_vm_through_split_merge_and_munmap():
    env = Env()
    assert env.mmap(B, 6) == B
    assert do_mlock(env.mm, B + P, 3 * P) == 0
    assert locked(env) == [(1, 3)] and len(env.vmas()) == 3
    assert do_munlock(env.mm, B + 2 * P, P) == 0
    assert locked(env) == [(1, 1), (3, 1)] and len(env.vmas()) == 5
    assert do_mlock(env.mm, B, 6 * P) == 0                       # everything merges back
    assert locked(env) == [(0, 6)] and len(env.vmas()) == 1
    assert env.munmap(B + 2 * P, 2 * P) == 0
    assert locked(env) == [(0, 2), (4, 2)]
    assert env.mm.locked_vm == 4
    # mapping over a locked page with MAP_FIXED unmaps (and unlocks) it
    assert env.mmap(B + 5 * P, 1) == B + 5 * P
    assert locked(env) == [(0, 2), (4, 1)]
    check(env)


def test_locked_vm_through_mremap():
    env = Env()
    assert env.mmap(B, 4) == B
    assert do_mlock(env.mm, B, 4 * P) == 0
    assert sys_mremap(env.mm, B, 4 * P, 6 * P, 0, 0) == B        # grow in place
    assert env.mm.locked_vm == 6 and present(env, B, 6) == [True] * 6
    assert sys_mremap(env.mm, B, 6 * P, 3 * P, 0, 0) == B        # shrink
    assert env.mm.locked_vm == 3
    new = B + 16 * P
    assert sys_mremap(env.mm, B, 3 * P, 5 * P, MREMAP_MAYMOVE | MREMAP_FIXED, new) == new
    assert locked(env) == [(16, 5)] and env.mm.locked_vm == 5
    assert present(env, new, 5) == [True] * 5                    # the new tail populated
    # part of a locked VMA moved: the rest stays locked
    assert sys_mremap(env.mm, new + 3 * P, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED,
                      B) == B
    assert locked(env) == [(0, 2), (16, 3)] and env.mm.locked_vm == 5
    check(env)


def test_mlockall_and_munlockall():
    env = Env()
    assert env.mmap(B, 2) == B
    assert env.mmap(B + 4 * P, 2, PROT_READ) == B + 4 * P
    assert do_mlockall(env.mm, 0) == -errno.EINVAL
    assert do_mlockall(env.mm, 8) == -errno.EINVAL
    assert do_mlockall(env.mm, MCL_CURRENT) == 0
    assert locked(env) == [(0, 2), (4, 2)] and env.mm.def_flags & VM_LOCKED == 0
    assert present(env, B, 2) == [True, True]
    assert env.mmap(B + 8 * P, 1) == B + 8 * P                   # not locked: no MCL_FUTURE
    assert locked(env) == [(0, 2), (4, 2)]
    assert do_mlockall(env.mm, MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0
    assert env.mmap(B + 10 * P, 2) == B + 10 * P                 # locked from the start
    assert locked(env) == [(0, 2), (4, 2), (8, 1), (10, 2)]
    assert do_munlockall(env.mm) == 0
    assert locked(env) == [] and env.mm.locked_vm == 0 and env.mm.def_flags & VM_LOCKED == 0
    assert env.mmap(B + 14 * P, 1) == B + 14 * P
    assert locked(env) == []
    check(env)


def test_mcl_future_populates_new_mappings_and_brk():
    env = Env()
    mm = env.mm
    mm.start_brk = mm.brk = mm.end_data = B + 64 * P
    assert do_mlockall(env.mm, MCL_FUTURE) == 0
    assert env.mmap(B, 3) == B
    assert present(env, B, 3) == [True] * 3 and env.mm.locked_vm == 3
    top = sys_brk(mm, mm.brk + 2 * P + 10)
    assert top == B + 66 * P + 10
    assert present(env, B + 64 * P, 3) == [True] * 3
    assert env.mm.locked_vm == 6
    assert sys_brk(mm, B + 64 * P) == B + 64 * P                 # shrinking unlocks
    assert env.mm.locked_vm == 3
    check(env)


def test_mincore_sees_locked_pages():
    env = Env()
    assert env.mmap(B, 3) == B
    assert do_mlock(env.mm, B + P, P) == 0
    assert do_mincore(env.mm, B, 3 * P) == b"\x00\x01\x00"
    assert do_mincore(env.mm, B, 4 * P) == -errno.ENOMEM
    assert do_mincore(env.mm, B + 1, P) == -errno.EINVAL
