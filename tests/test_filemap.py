"""File mappings in unit tests: copy-on-write, the page cache shared with
read()/write(), writeback, SIGBUS past EOF, and the permission errors.

Linux 4.14: mm/mmap.c do_mmap (EACCES, ENODEV, EOPNOTSUPP), mm/mprotect.c
(VM_MAYWRITE: EACCES), mm/memory.c (do_read_fault, do_cow_fault,
do_shared_fault, wp_page_copy), mm/filemap.c (filemap_fault: SIGBUS past
i_size), mm/msync.c.  The syscalls run through their handlers with a task
whose descriptor table holds real host files in a temporary directory.
"""

import errno
import os

import pytest

from emu.arch import DESC_ADDR_MASK, EC_DABT_LOW, ESR_EC_SHIFT, ESR_WNR
from kernel.fs.file import FdTable, File
from kernel.mm.fault import do_page_fault
from kernel.mm.memory import VM_FAULT_SIGBUS
from kernel.mm.mlock import do_mlock
from kernel.mm.mmap import find_vma
from kernel.syscalls.fs import sys_ftruncate
from kernel.syscalls.read_write import sys_pread64, sys_pwrite64
from kernel.syscalls.mm import sys_mmap, sys_mprotect, sys_msync, sys_munmap
from kernel.uapi import (
    MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, PROT_EXEC, PROT_READ,
    PROT_WRITE,
)
from test_vma import Env, P, RW

B = 0x10000000
BUF = 0x20000000                    # a scratch buffer for read()/write()
MS_SYNC = 4
MAP_SYNC = 0x80000
PAGES = 4


def pattern(pages):
    return b"".join(bytes([0x10 + i]) * P for i in range(pages))


class FileEnv(Env):
    """Env with a descriptor table and a scratch buffer."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.task.files = FdTable()
        assert self.mmap(BUF, 2) == BUF

    def open(self, flags):
        fd = os.open(self.path, flags | os.O_CLOEXEC)
        return self.task.files.alloc_fd(File(self.k, fd, str(self.path), flags))

    def map(self, addr, pages, prot, flags, fd, pgoff=0):
        return sys_mmap(self.task, addr, pages * P, prot, flags | MAP_FIXED, fd, pgoff * P)

    def pwrite(self, fd, data, pos):
        self.write(BUF, data)
        return sys_pwrite64(self.task, fd, BUF, len(data), pos)

    def pread(self, fd, count, pos):
        n = sys_pread64(self.task, fd, BUF, count, pos)
        assert n >= 0, n
        return self.read(BUF, n)

    def host(self, offset, count):
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            return fh.read(count)

    def frame(self, addr):
        return self.pte(addr) & DESC_ADDR_MASK

    def close_all(self):
        self.munmap(B, 64 * P)
        self.task.files.close_all()


@pytest.fixture
def fenv(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(pattern(PAGES))
    env = FileEnv(path)
    yield env
    env.close_all()


def test_private_mapping_copies_on_write(fenv):
    fd = fenv.open(os.O_RDWR)
    assert fenv.map(B, 2, RW, MAP_PRIVATE, fd) == B
    assert fenv.map(B + 4 * P, 2, PROT_READ, MAP_PRIVATE, fd) == B + 4 * P
    assert fenv.map(B + 8 * P, 2, RW, MAP_SHARED, fd) == B + 8 * P
    assert fenv.read(B + P, 2) == b"\x11\x11"
    shared = fenv.frame(B + P)
    assert fenv.read(B + 5 * P, 1) == b"\x11"
    assert fenv.frame(B + 5 * P) == shared            # both map the page cache page
    fenv.write(B + P, b"private")                    # COW: a frame of its own
    assert fenv.frame(B + P) != shared
    assert fenv.read(B + P, 7) == b"private"
    assert fenv.read(B + 5 * P, 7) == b"\x11" * 7     # the others still see the file
    assert fenv.read(B + 9 * P, 7) == b"\x11" * 7
    assert sys_msync(fenv.task, B, 2 * P, MS_SYNC) == 0
    assert fenv.host(P, 7) == b"\x11" * 7             # never written back
    fenv.check()


def test_private_mapping_sees_write_until_its_copy(fenv):
    fd = fenv.open(os.O_RDWR)
    assert fenv.map(B, 2, RW, MAP_PRIVATE, fd) == B
    assert fenv.read(B, 1) == b"\x10"                  # page 0 mapped read-only
    assert fenv.pwrite(fd, b"AB", 0) == 2
    assert fenv.read(B, 2) == b"AB"                    # the page cache page itself
    fenv.write(B, b"x")                                # copied now
    assert fenv.pwrite(fd, b"CD", 0) == 2
    assert fenv.read(B, 2) == b"xB"
    assert fenv.pread(fd, 2, 0) == b"CD"
    fenv.check()


def test_shared_mapping_is_the_page_cache_and_written_back(fenv):
    fd = fenv.open(os.O_RDWR)
    assert fenv.map(B, 2, RW, MAP_SHARED, fd, 1) == B
    fenv.write(B + 5, b"mapped")
    assert fenv.pread(fd, 6, P + 5) == b"mapped"       # read() sees it at once
    assert fenv.host(P + 5, 6) == b"\x11" * 6          # the disk does not, yet
    assert sys_msync(fenv.task, B, 2 * P, MS_SYNC) == 0
    assert fenv.host(P + 5, 6) == b"mapped"
    assert fenv.pwrite(fd, b"written", 2 * P) == 7
    assert fenv.read(B + P, 7) == b"written"
    fenv.write(B + P + 100, b"late")
    assert sys_munmap(fenv.task, B, 2 * P) == 0        # unmapping writes back too
    fenv.task.files.close(fd)
    assert fenv.host(2 * P + 100, 4) == b"late"


def test_past_end_of_file_is_sigbus_and_the_last_page_is_zero_filled(fenv):
    fd = fenv.open(os.O_RDWR)
    assert sys_ftruncate(fenv.task, fd, P + 10) == 0
    assert fenv.map(B, 3, PROT_READ, MAP_SHARED, fd) == B
    assert fenv.read(B + P, 10) == b"\x11" * 10
    assert fenv.read(B + P + 10, 10) == bytes(10)
    esr = EC_DABT_LOW << ESR_EC_SHIFT
    fault, _ = do_page_fault(fenv.mm, B + 2 * P, esr)
    assert fault & VM_FAULT_SIGBUS
    # growing the file makes the page reachable
    assert sys_ftruncate(fenv.task, fd, 3 * P) == 0
    fault, _ = do_page_fault(fenv.mm, B + 2 * P, esr)
    assert fault == 0 and fenv.read(B + 2 * P, 1) == b"\x00"


def test_mapping_a_file_without_read_access_or_writably_read_only(fenv):
    ro, wo = fenv.open(os.O_RDONLY), fenv.open(os.O_WRONLY)
    assert fenv.map(B, 1, PROT_READ | PROT_WRITE, MAP_SHARED, ro) == -errno.EACCES
    assert fenv.map(B, 1, PROT_READ, MAP_SHARED, wo) == -errno.EACCES
    assert fenv.map(B, 1, PROT_READ, MAP_PRIVATE, wo) == -errno.EACCES
    assert fenv.map(B, 1, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro) == B  # copies: fine
    fenv.write(B, b"mine")
    assert fenv.host(0, 4) == b"\x10" * 4
    # a shared read-only mapping of a read-only descriptor has no VM_MAYWRITE
    assert fenv.map(B + 2 * P, 1, PROT_READ, MAP_SHARED, ro) == B + 2 * P
    assert sys_mprotect(fenv.task, B + 2 * P, P, PROT_READ | PROT_WRITE) == -errno.EACCES
    assert sys_mprotect(fenv.task, B + 2 * P, P, PROT_READ | PROT_EXEC) == 0
    fenv.check()


def test_mapping_what_is_not_a_regular_file(fenv, tmp_path):
    dfd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    d = fenv.task.files.alloc_fd(File(fenv.k, dfd, str(tmp_path), os.O_RDONLY))
    assert fenv.map(B, 1, PROT_READ, MAP_PRIVATE, d) == -errno.ENODEV
    assert fenv.map(B, 1, PROT_READ, MAP_PRIVATE, 99) == -errno.EBADF


def test_map_shared_validate_checks_flags(fenv):
    fd = fenv.open(os.O_RDWR)
    assert fenv.map(B, 1, PROT_READ, MAP_SHARED | MAP_SYNC, fd) == B          # ignored
    assert fenv.map(B + P, 1, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd) == \
        -errno.EOPNOTSUPP
    assert fenv.map(B + P, 1, PROT_READ, MAP_SHARED_VALIDATE, fd) == B + P


def test_offsets(fenv):
    fd = fenv.open(os.O_RDWR)
    assert sys_mmap(fenv.task, B, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 100) == \
        -errno.EINVAL                                                      # unaligned
    assert fenv.map(B, 1, PROT_READ, MAP_PRIVATE, fd, 3) == B
    assert fenv.read(B, 1) == b"\x13"
    # file_mmap_ok() (be83bbf80682, in 4.14.y): past MAX_LFS_FILESIZE
    assert sys_mmap(fenv.task, B, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd,
                    (1 << 63) - P) == -errno.EOVERFLOW
    assert sys_mmap(fenv.task, B, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd,
                    (1 << 63) - 2 * P) == B


def test_private_write_fault_past_eof_still_prepares_the_anon_vma(fenv):
    """do_cow_fault() calls anon_vma_prepare() before __do_fault() finds no
    page: the SIGBUS leaves the VMA an anon_vma of its own, so it no longer
    merges with a neighbour that has another one."""
    fd = fenv.open(os.O_RDWR)
    assert fenv.map(B, 3, RW, MAP_PRIVATE, fd, PAGES - 1) == B       # pages 1, 2 past EOF
    assert do_mlock(fenv.mm, B + P, P) == -errno.ENOMEM               # locked, SIGBUS inside
    first = find_vma(fenv.mm, B + P).anon_vma
    assert first is not None
    fault, vma = do_page_fault(fenv.mm, B + 2 * P, EC_DABT_LOW << ESR_EC_SHIFT | ESR_WNR)
    assert fault & VM_FAULT_SIGBUS and vma.anon_vma is not None and vma.anon_vma is not first
    assert do_mlock(fenv.mm, B + P, 2 * P) == -errno.ENOMEM
    assert [(v.vm_start, v.vm_end) for v in fenv.vmas() if B <= v.vm_start < BUF] == [
        (B, B + P), (B + P, B + 2 * P), (B + 2 * P, B + 3 * P)]
    fenv.check()
