"""The mm system calls as the syscall table calls them (kernel/syscalls/mm.py).

In process: each test builds a kernel and a task with a descriptor table and
calls the handlers directly, so that every argument rule of the syscall
shell (what is masked to 32 bits, which errno comes first, what msync writes
back) is checked without a guest program.  The expectations are Linux
4.14's (arch/arm64/kernel/sys.c, mm/mmap.c, mm/msync.c, mm/mlock.c).
"""

import errno
import os

import pytest

from emu.arch import PAGE_SIZE
from kernel.fs.file import FdTable, File
from kernel.mm.mm import VM_DENYWRITE, VM_LOCKED, VM_READ, VM_SHARED, VM_WRITE
from kernel.mm.mmap import find_vma
from kernel.syscalls import mm as sc
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_HUGETLB, MAP_PRIVATE,
    MAP_SHARED, MREMAP_MAYMOVE, MS_ASYNC, MS_INVALIDATE, MS_SYNC, O_RDONLY, O_RDWR,
    PROT_READ, PROT_WRITE,
)
from test_vma import B, Env

P = PAGE_SIZE
RW = PROT_READ | PROT_WRITE
ANON = MAP_PRIVATE | MAP_ANONYMOUS
HIGH = 1 << 32          # a bit the int arguments lose on the way in


@pytest.fixture
def env():
    e = Env()
    e.task.files = FdTable()
    yield e
    e.task.files.close_all()


@pytest.fixture
def datafile(tmp_path):
    """A host file of four pages, page i filled with the byte ord('a') + i."""
    path = tmp_path / "data"
    path.write_bytes(b"".join(bytes([ord("a") + i]) * P for i in range(4)))
    return path


def open_fd(env, path, flags=O_RDWR):
    """open() in the guest: a File on a host descriptor, installed in the table."""
    file = File(env.k, os.open(path, flags), str(path), flags)
    return env.task.files.alloc_fd(file)


# -- mmap --------------------------------------------------------------------------

def test_mmap_unaligned_offset_is_einval_before_the_fd_is_looked_at(env):
    assert sc.sys_mmap(env.task, 0, P, RW, MAP_PRIVATE, 99, 1) == -errno.EINVAL
    assert sc.sys_mmap(env.task, 0, P, RW, ANON, -1, P - 1) == -errno.EINVAL


def test_mmap_of_a_closed_fd_is_ebadf(env):
    assert sc.sys_mmap(env.task, 0, P, RW, MAP_PRIVATE, 5, 0) == -errno.EBADF
    # The fd is an int: 0xffffffff is -1, not descriptor 4294967295.
    assert sc.sys_mmap(env.task, 0, P, RW, MAP_PRIVATE, 0xFFFFFFFF, 0) == -errno.EBADF


def test_mmap_fd_is_taken_as_a_32_bit_int(env, datafile):
    fd = open_fd(env, datafile)
    addr = sc.sys_mmap(env.task, 0, P, PROT_READ, MAP_PRIVATE, fd | HIGH, 0)
    assert addr > 0
    assert env.read(addr, 1) == b"a"


def test_mmap_hugetlb(env, datafile):
    """MAP_HUGETLB: on a file it is -EINVAL; anonymous, hugetlb_file_setup()
    finds no huge pages reserved (vm.nr_hugepages = 0): -ENOMEM."""
    fd = open_fd(env, datafile)
    assert sc.sys_mmap(env.task, 0, P, RW, MAP_PRIVATE | MAP_HUGETLB, fd, 0) == -errno.EINVAL
    assert sc.sys_mmap(env.task, 0, P, RW, ANON | MAP_HUGETLB, -1, 0) == -errno.ENOMEM
    # Anonymous: the fd is ignored, even a bad one.
    assert sc.sys_mmap(env.task, 0, P, RW, ANON, 1234, 0) > 0
    assert env.mm.map_count == 1


def test_mmap_flags_and_prot_are_32_bit(env):
    addr = sc.sys_mmap(env.task, 0, P, RW | HIGH, ANON | HIGH, -1, 0)
    assert addr > 0
    vma = find_vma(env.mm, addr)
    assert vma.vm_flags & (VM_READ | VM_WRITE) == VM_READ | VM_WRITE
    assert not vma.vm_flags & VM_SHARED


def test_mmap_ignores_map_denywrite_and_map_executable(env, datafile):
    fd = open_fd(env, datafile)
    addr = sc.sys_mmap(env.task, 0, P, PROT_READ,
                       MAP_PRIVATE | MAP_DENYWRITE | MAP_EXECUTABLE, fd, 0)
    assert addr > 0
    assert not find_vma(env.mm, addr).vm_flags & VM_DENYWRITE


def test_mmap_offset_is_passed_in_pages(env, datafile):
    fd = open_fd(env, datafile)
    addr = sc.sys_mmap(env.task, 0, 2 * P, PROT_READ, MAP_PRIVATE, fd, 2 * P)
    vma = find_vma(env.mm, addr)
    assert vma.vm_pgoff == 2
    assert env.read(addr, 1) + env.read(addr + P, 1) == b"cd"


# -- munmap, mprotect, mremap, madvise ----------------------------------------------

def test_munmap_passes_through(env):
    addr = sc.sys_mmap(env.task, 0, 3 * P, RW, ANON, -1, 0)
    assert sc.sys_munmap(env.task, addr + P, P) == 0
    assert [(v.vm_start, v.vm_end) for v in env.vmas()] == [
        (addr, addr + P), (addr + 2 * P, addr + 3 * P)]
    assert sc.sys_munmap(env.task, addr + 1, P) == -errno.EINVAL


def test_mprotect_prot_is_32_bit(env):
    addr = sc.sys_mmap(env.task, 0, P, RW, ANON, -1, 0)
    assert sc.sys_mprotect(env.task, addr, P, PROT_READ | HIGH) == 0
    assert find_vma(env.mm, addr).vm_flags & (VM_READ | VM_WRITE) == VM_READ
    assert sc.sys_mprotect(env.task, addr, P, PROT_READ | 0x80000000) == -errno.EINVAL


def test_mremap_flags_are_32_bit(env):
    addr = sc.sys_mmap(env.task, B, P, RW, ANON | MAP_FIXED, -1, 0)
    sc.sys_mmap(env.task, B + P, P, RW, ANON | MAP_FIXED, -1, 0)   # blocks growth in place
    new = sc.sys_mremap_call(env.task, addr, P, 2 * P, MREMAP_MAYMOVE | HIGH, 0)
    assert new > 0 and new != addr
    assert sc.sys_mremap_call(env.task, new, 2 * P, 4 * P, 4, 0) == -errno.EINVAL


def test_madvise_passes_through(env):
    addr = sc.sys_mmap(env.task, 0, P, RW, ANON, -1, 0)
    env.write(addr, b"x")
    assert sc.sys_madvise(env.task, addr, P, 4) == 0        # MADV_DONTNEED
    assert env.read(addr, 1) == b"\0"
    assert sc.sys_madvise(env.task, addr, P, 12345) == -errno.EINVAL


def test_brk_call_returns_the_break(env):
    mm = env.mm
    mm.start_brk = mm.brk = mm.end_data = B
    assert sc.sys_brk_call(env.task, B + 3 * P) == B + 3 * P
    assert sc.sys_brk_call(env.task, 0) == B + 3 * P


# -- msync -----------------------------------------------------------------------------

def test_msync_einval_cases(env):
    addr = sc.sys_mmap(env.task, 0, P, RW, ANON, -1, 0)
    assert sc.sys_msync(env.task, addr, P, 8) == -errno.EINVAL
    assert sc.sys_msync(env.task, addr + 1, P, MS_SYNC) == -errno.EINVAL
    assert sc.sys_msync(env.task, addr, P, MS_ASYNC | MS_SYNC) == -errno.EINVAL
    for flags in (0, MS_ASYNC, MS_SYNC, MS_INVALIDATE, MS_SYNC | MS_INVALIDATE,
                  MS_ASYNC | MS_INVALIDATE):
        assert sc.sys_msync(env.task, addr, P, flags) == 0, flags


def test_msync_enomem_cases(env):
    addr = sc.sys_mmap(env.task, B + 2 * P, P, RW, ANON | MAP_FIXED, -1, 0)
    # end wraps past 2**64: -ENOMEM
    assert sc.sys_msync(env.task, addr, (1 << 64) - addr, MS_SYNC) == -errno.ENOMEM
    # a length that rounds up to 2**64 wraps to 0: nothing to do
    assert sc.sys_msync(env.task, addr, (1 << 64) - 1, MS_SYNC) == 0
    assert sc.sys_msync(env.task, addr, 0, MS_SYNC) == 0
    assert sc.sys_msync(env.task, B, P, MS_SYNC) == -errno.ENOMEM           # hole
    assert sc.sys_msync(env.task, B, 3 * P, MS_SYNC) == -errno.ENOMEM       # hole, then vma
    assert sc.sys_msync(env.task, addr, 2 * P, MS_SYNC) == -errno.ENOMEM    # vma, then hole
    assert sc.sys_msync(env.task, addr + P, P, MS_SYNC) == -errno.ENOMEM    # past the last vma
    assert sc.sys_msync(env.task, addr, P, MS_SYNC) == 0


def test_msync_invalidate_of_a_locked_range_is_ebusy(env):
    """mm/msync.c: MS_INVALIDATE over a VM_LOCKED vma is -EBUSY, even after a
    hole (the error beats the hole's -ENOMEM)."""
    addr = sc.sys_mmap(env.task, B + P, 2 * P, RW, ANON | MAP_FIXED, -1, 0)
    assert sc.sys_mlock(env.task, addr + P, P) == 0
    assert find_vma(env.mm, addr + P).vm_flags & VM_LOCKED
    assert sc.sys_msync(env.task, addr + P, P, MS_INVALIDATE) == -errno.EBUSY
    assert sc.sys_msync(env.task, B, 3 * P, MS_SYNC | MS_INVALIDATE) == -errno.EBUSY
    assert sc.sys_msync(env.task, addr, P, MS_INVALIDATE) == 0      # not locked
    assert sc.sys_msync(env.task, addr + P, P, MS_SYNC) == 0


def test_msync_writes_back_shared_file_pages_of_the_range_only(env, datafile):
    fd = open_fd(env, datafile)
    # File pages 1..3 at addr (pgoff 1).
    addr = sc.sys_mmap(env.task, 0, 3 * P, RW, MAP_SHARED, fd, P)
    for i in range(3):
        env.write(addr + i * P, b"X%d" % i)
    assert datafile.read_bytes()[P:P + 2] == b"bb"      # nothing written back yet
    # msync of the middle page writes file page 2 only.
    assert sc.sys_msync(env.task, addr + P, P, MS_SYNC) == 0
    data = datafile.read_bytes()
    assert data[P:P + 2] == b"bb"
    assert data[2 * P:2 * P + 2] == b"X1"
    assert data[3 * P:3 * P + 2] == b"dd"
    # The rest goes with an msync of the whole mapping, page 0 is untouched.
    assert sc.sys_msync(env.task, addr, 3 * P, MS_ASYNC) == 0
    data = datafile.read_bytes()
    assert data[:2] == b"aa"
    assert [data[i * P:i * P + 2] for i in (1, 2, 3)] == [b"X0", b"X1", b"X2"]


def test_msync_does_not_write_a_private_mapping(env, datafile):
    fd = open_fd(env, datafile)
    addr = sc.sys_mmap(env.task, 0, P, RW, MAP_PRIVATE, fd, 0)
    env.write(addr, b"private")
    assert sc.sys_msync(env.task, addr, P, MS_SYNC) == 0
    assert datafile.read_bytes()[:7] == b"a" * 7


def test_msync_of_a_read_only_shared_mapping(env, datafile):
    fd = open_fd(env, datafile, O_RDONLY)
    addr = sc.sys_mmap(env.task, 0, P, PROT_READ, MAP_SHARED, fd, 0)
    assert env.read(addr, 1) == b"a"
    assert sc.sys_msync(env.task, addr, P, MS_SYNC) == 0


# -- mincore, mlock --------------------------------------------------------------------

def test_mincore_copies_the_vector_to_user_memory(env):
    addr = sc.sys_mmap(env.task, 0, 3 * P, RW, ANON, -1, 0)
    vec = sc.sys_mmap(env.task, 0, P, RW, ANON, -1, 0)
    env.write(vec, b"\xff" * 4)
    env.write(addr + P, b"x")
    assert sc.sys_mincore(env.task, addr, 3 * P, vec) == 0
    assert env.read(vec, 4) == b"\0\1\0\xff"
    assert sc.sys_mincore(env.task, addr + 1, P, vec) == -errno.EINVAL
    assert env.read(vec, 4) == b"\0\1\0\xff"


def test_mlock_calls(env):
    mm = env.mm
    addr = sc.sys_mmap(env.task, 0, 4 * P, RW, ANON, -1, 0)
    assert sc.sys_mlock(env.task, addr, P) == 0
    assert mm.locked_vm == 1
    assert sc.sys_mlock2(env.task, addr + P, P, 1) == 0          # MLOCK_ONFAULT
    assert mm.locked_vm == 2
    assert sc.sys_mlock2(env.task, addr, P, 2) == -errno.EINVAL
    assert sc.sys_munlock(env.task, addr, 2 * P) == 0
    assert mm.locked_vm == 0
    assert sc.sys_mlockall(env.task, 1) == 0                     # MCL_CURRENT
    assert mm.locked_vm == 4 and all(v.vm_flags & VM_LOCKED for v in env.vmas())
    assert sc.sys_munlockall(env.task) == 0
    assert mm.locked_vm == 0 and not any(v.vm_flags & VM_LOCKED for v in env.vmas())
    assert sc.sys_mlockall(env.task, 0) == -errno.EINVAL


def test_msync_of_a_private_file_mapping_writes_nothing_back(env, datafile):
    """Only VM_SHARED file vmas are written: a dirty page of a shared mapping
    of the same file stays dirty when a private mapping of it is msync()ed."""
    fd = open_fd(env, datafile)
    shared = sc.sys_mmap(env.task, 0, P, RW, MAP_SHARED, fd, 0)
    private = sc.sys_mmap(env.task, 0, P, RW, MAP_PRIVATE, fd, 0)
    env.write(shared, b"S")
    assert sc.sys_msync(env.task, private, P, MS_SYNC) == 0
    assert datafile.read_bytes()[:1] == b"a"
    assert sc.sys_msync(env.task, shared, P, MS_SYNC) == 0
    assert datafile.read_bytes()[:1] == b"S"


def test_mremap_call_passes_new_addr(env):
    addr = sc.sys_mmap(env.task, B, P, RW, ANON | MAP_FIXED, -1, 0)
    env.write(addr, b"moved")
    target = B + 16 * P
    assert sc.sys_mremap_call(env.task, addr, P, P, MREMAP_MAYMOVE | 2, target) == target
    assert env.read(target, 5) == b"moved"


def test_msync_hole_before_adjacent_vmas_is_enomem(env):
    sc.sys_mmap(env.task, B, P, RW, ANON | MAP_FIXED, -1, 0)
    sc.sys_mmap(env.task, B + 2 * P, P, RW, ANON | MAP_FIXED, -1, 0)
    sc.sys_mmap(env.task, B + 3 * P, P, PROT_READ, ANON | MAP_FIXED, -1, 0)
    assert sc.sys_msync(env.task, B, 4 * P, MS_SYNC) == -errno.ENOMEM
    assert sc.sys_msync(env.task, B + 2 * P, 2 * P, MS_SYNC) == 0
