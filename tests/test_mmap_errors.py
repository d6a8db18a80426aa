"""do_mmap()'s errno for each bad request (kernel/mm/mmap.py), Linux 4.14's
mm/mmap.c order: EINVAL, ENOMEM, EOVERFLOW, EOPNOTSUPP, EACCES, ENODEV,
EPERM; plus the limits behind ENOMEM (RLIMIT_AS, RLIMIT_DATA soft and hard)
and page 0 for root.  In process."""

import errno
import os

import pytest

from emu.arch import PAGE_SHIFT
from kernel.fs.file import File
from kernel.mm.mm_types import VmAreaStruct
from kernel.mm.mmap import (
    MAX_LFS_FILESIZE, MMAP_MIN_ADDR, STACK_GUARD_GAP, do_mmap, get_unmapped_area, vm_start_gap,
)
from kernel.mm.mm import VM_GROWSDOWN
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE,
    O_RDONLY, O_RDWR, O_WRONLY, PROT_READ, PROT_WRITE, RLIMIT_AS, RLIMIT_DATA,
)
from test_vma import B, P, Env

RW = PROT_READ | PROT_WRITE
UNKNOWN_FLAG = 0x800000          # no MAP_* flag 4.14 knows


@pytest.fixture
def env():
    return Env()


def open_file(env, path, flags):
    return File(env.k, os.open(path, flags), str(path), flags)


@pytest.fixture
def datafile(tmp_path):
    path = tmp_path / "d"
    path.write_bytes(b"d" * P)
    return path


def test_file_mapping_errnos(env, datafile, tmp_path):
    rw = open_file(env, datafile, O_RDWR)
    ro = open_file(env, datafile, O_RDONLY)
    wo = open_file(env, datafile, O_WRONLY)
    mm = env.mm
    # MAP_SHARED_VALIDATE refuses flags it does not know; MAP_SHARED ignores them.
    assert do_mmap(mm, rw, 0, P, RW, MAP_SHARED_VALIDATE | UNKNOWN_FLAG, 0) == -errno.EOPNOTSUPP
    assert do_mmap(mm, rw, 0, P, RW, MAP_SHARED | UNKNOWN_FLAG, 0) > 0
    assert do_mmap(mm, rw, 0, P, RW, MAP_SHARED_VALIDATE, 0) > 0
    # Writable shared mapping of a file not open for writing.
    assert do_mmap(mm, ro, 0, P, RW, MAP_SHARED, 0) == -errno.EACCES
    assert do_mmap(mm, ro, 0, P, PROT_READ, MAP_SHARED, 0) > 0
    assert do_mmap(mm, ro, 0, P, RW, MAP_PRIVATE, 0) > 0
    # Any mapping of a file not open for reading.
    assert do_mmap(mm, wo, 0, P, PROT_READ, MAP_PRIVATE, 0) == -errno.EACCES
    assert do_mmap(mm, wo, 0, P, PROT_WRITE, MAP_SHARED, 0) == -errno.EACCES
    # A file that cannot be mapped (a directory).
    d = File(env.k, os.open(tmp_path, os.O_RDONLY), str(tmp_path), O_RDONLY)
    assert do_mmap(mm, d, 0, P, PROT_READ, MAP_PRIVATE, 0) == -errno.ENODEV
    # MAP_GROWSDOWN is for anonymous memory; an unknown mapping type is EINVAL.
    assert do_mmap(mm, rw, 0, P, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, 0) == -errno.EINVAL
    assert do_mmap(mm, rw, 0, P, PROT_READ, 0, 0) == -errno.EINVAL
    assert do_mmap(mm, None, 0, P, PROT_READ, MAP_ANONYMOUS, 0) == -errno.EINVAL
    assert do_mmap(mm, None, 0, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN,
                   0) == -errno.EINVAL
    for f in (rw, ro, wo, d):
        f.put()


def test_offset_overflow_is_eoverflow(env, datafile):
    """file_mmap_ok() (4.14.y has be83bbf80682 and 423913ad4ae5): a regular
    file's mapping must end at or below MAX_LFS_FILESIZE."""
    rw = open_file(env, datafile, O_RDWR)
    last = (MAX_LFS_FILESIZE - P) >> PAGE_SHIFT     # the last page that fits
    assert do_mmap(env.mm, rw, 0, P, PROT_READ, MAP_PRIVATE, last) > 0
    assert do_mmap(env.mm, rw, 0, P, PROT_READ, MAP_PRIVATE, last + 1) == -errno.EOVERFLOW
    assert do_mmap(env.mm, rw, 0, 2 * P, PROT_READ, MAP_PRIVATE, last) == -errno.EOVERFLOW
    rw.put()


def test_length_limits(env):
    top = env.mm.task_size
    assert do_mmap(env.mm, None, 0, top + 1, RW, MAP_PRIVATE | MAP_ANONYMOUS, 0) == -errno.ENOMEM
    # At most TASK_SIZE - mmap_min_addr, even with MAP_FIXED.
    assert get_unmapped_area(env.mm, None, P, top - MMAP_MIN_ADDR, 0, MAP_FIXED) == P
    assert get_unmapped_area(env.mm, None, 0, top - MMAP_MIN_ADDR + P, 0,
                             MAP_FIXED) == -errno.ENOMEM
    assert get_unmapped_area(env.mm, None, 2 * P, top - MMAP_MIN_ADDR, 0,
                             MAP_FIXED) == -errno.ENOMEM        # runs past TASK_SIZE
    assert get_unmapped_area(env.mm, None, 0, top - MMAP_MIN_ADDR, 0, 0) == -errno.ENOMEM
    assert get_unmapped_area(env.mm, None, top - 2 * P, 2 * P, 0, 0) == top - 2 * P


def test_page_zero_needs_cap_sys_rawio(env, monkeypatch):
    fixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
    assert do_mmap(env.mm, None, 0, P, RW, fixed, 0) == 0          # root may
    assert env.ranges() == [(0, P)]
    assert do_mmap(env.mm, None, MMAP_MIN_ADDR, P, RW, fixed, 0) == MMAP_MIN_ADDR
    monkeypatch.setattr(type(env.mm.kernel), "mm_capable", lambda self, mm, cap: False)
    assert do_mmap(env.mm, None, 0, P, RW, fixed, 0) == -errno.EPERM
    assert do_mmap(env.mm, None, MMAP_MIN_ADDR, P, RW, fixed, 0) == MMAP_MIN_ADDR


def test_rlimit_as_and_data_soft_and_hard_limits(env):
    env.task.rlim[RLIMIT_AS] = [2 * P, 8 * P]
    assert env.mmap(B, 3) == -errno.ENOMEM
    assert env.mmap(B, 2) == B
    env2 = Env()
    env2.task.rlim[RLIMIT_DATA] = [2 * P, 8 * P]
    assert env2.mmap(B, 3) == -errno.ENOMEM
    assert env2.mmap(B, 3, prot=PROT_READ) == B              # not a data mapping
    assert env2.mmap(B + 8 * P, 2) == B + 8 * P
    # A zero soft limit (valgrind) still allows data up to the hard limit.
    env3 = Env()
    env3.task.rlim[RLIMIT_DATA] = [0, 3 * P]
    assert env3.mmap(B, 3) == B
    assert env3.mmap(B + 8 * P, 1) == -errno.ENOMEM


def test_stack_guard_gap_is_clamped_at_zero(env):
    low = VmAreaStruct(env.mm, 16 * P, 20 * P, VM_GROWSDOWN, 0)
    assert vm_start_gap(low) == 0
    at = VmAreaStruct(env.mm, STACK_GUARD_GAP + P, STACK_GUARD_GAP + 2 * P, VM_GROWSDOWN, 0)
    assert vm_start_gap(at) == P
