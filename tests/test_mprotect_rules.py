"""mprotect() rules, in process (kernel/mm/mprotect.py), against Linux 4.14's
mm/mprotect.c: every pte of the range and none outside it is rewritten,
VM_ACCOUNT is gained only by private memory becoming writable for the first
time, a locked read-only range made writable is populated for writing,
PROT_GROWSDOWN's range checks, and -EACCES for a permission the VMA may
never have (VM_MAY*).
"""

import errno
import os

import pytest

from emu.arch import DESC_ADDR_MASK, PAGE_SIZE, PTE_RDONLY, PTE_UXN
from kernel.fs.file import File
from kernel.mm.mlock import do_mlock
from kernel.mm.mm import VM_ACCOUNT, VM_EXEC, VM_WRITE, vm_get_page_prot
from kernel.mm.mmap import do_mmap
from kernel.mm.mprotect import change_protection, do_mprotect_pkey
from kernel.uaccess import Efault
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED,
    O_RDONLY, PROT_EXEC, PROT_GROWSDOWN, PROT_NONE, PROT_READ, PROT_WRITE,
)
from test_vma import B, Env

P = PAGE_SIZE
RW = PROT_READ | PROT_WRITE
FIXED = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED


@pytest.fixture
def env():
    return Env()


def mprotect(env, addr, length, prot):
    return do_mprotect_pkey(env.mm, addr, length, prot)


def test_every_pte_of_the_range_and_none_after_it(env):
    env.mmap(B, 6)
    for i in range(6):
        env.write(B + i * P, b"%d" % i)
    assert mprotect(env, B + P, 4 * P, PROT_READ) == 0
    for i in range(1, 5):
        assert env.pte(B + i * P) & PTE_RDONLY, i
        with pytest.raises(Efault):
            env.write(B + i * P, b"x")
    for i in (0, 5):
        assert not env.pte(B + i * P) & PTE_RDONLY, i
        env.write(B + i * P, b"ok")
    assert env.read(B + 2 * P, 1) == b"2"


def test_change_protection_counts_the_present_ptes(env):
    env.mmap(B, 4)
    env.write(B, b"a")
    env.write(B + 2 * P, b"c")
    vma = env.vmas()[0]
    prot = vm_get_page_prot(vma.vm_flags & ~VM_WRITE)
    assert change_protection(vma, B, B + 4 * P, prot) == 2
    assert change_protection(vma, B + P, B + 2 * P, prot) == 0
    assert change_protection(vma, B, B + 3 * P, prot) == 2


def test_exec_bit_follows_prot_exec(env):
    env.mmap(B, 2)
    env.write(B, b"a")
    assert env.pte(B) & PTE_UXN
    assert mprotect(env, B, P, RW | PROT_EXEC) == 0
    assert not env.pte(B) & PTE_UXN
    assert env.vmas()[0].vm_flags & VM_EXEC


def test_vm_account_only_for_private_memory_first_made_writable(env, tmp_path):
    env.mmap(B, 1, prot=PROT_READ)
    assert not env.vmas()[0].vm_flags & VM_ACCOUNT
    assert mprotect(env, B, P, PROT_READ | PROT_EXEC) == 0    # not writable: no charge
    assert not env.vmas()[0].vm_flags & VM_ACCOUNT
    assert mprotect(env, B, P, RW) == 0
    assert env.vmas()[0].vm_flags & VM_ACCOUNT
    # Shared and MAP_NORESERVE memory is never charged.
    env.mmap(B + 4 * P, 1, prot=PROT_READ, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    env.mmap(B + 8 * P, 1, prot=PROT_READ, flags=FIXED | MAP_NORESERVE)
    assert mprotect(env, B + 4 * P, P, RW) == 0
    assert mprotect(env, B + 8 * P, P, RW) == 0
    assert not env.vmas()[1].vm_flags & VM_ACCOUNT
    assert not env.vmas()[2].vm_flags & VM_ACCOUNT
    # Writable already (an ELF segment's vma is made without the charge): unchanged.
    env.mmap(B + 12 * P, 1)
    w = env.vmas()[3]
    w.vm_flags &= ~VM_ACCOUNT
    assert mprotect(env, B + 12 * P, P, RW | PROT_EXEC) == 0
    assert not w.vm_flags & VM_ACCOUNT


def test_locked_read_only_memory_made_writable_is_populated_for_writing(env):
    env.mmap(B, 2, prot=PROT_READ)
    assert do_mlock(env.mm, B, 2 * P) == 0
    zero = env.k.zero_page
    assert env.pte(B) & DESC_ADDR_MASK == zero           # populated by reading
    assert mprotect(env, B, 2 * P, RW) == 0
    for i in range(2):
        pte = env.pte(B + i * P)
        assert pte & DESC_ADDR_MASK != zero, i
        assert not pte & PTE_RDONLY, i
    assert env.mm.rss_anon == 2
    # Unlocked memory is left alone.
    env.mmap(B + 4 * P, 1, prot=PROT_READ)
    env.read(B + 4 * P, 1)
    assert mprotect(env, B + 4 * P, P, RW) == 0
    assert env.pte(B + 4 * P) & DESC_ADDR_MASK == zero


def test_growsdown_checks(env):
    stack = B + 8 * P
    assert env.mmap(stack, 2, flags=FIXED | MAP_GROWSDOWN) == stack
    # The range ends exactly where the stack starts: nothing to extend.
    assert mprotect(env, stack - 2 * P, 2 * P, PROT_READ | PROT_GROWSDOWN) == -errno.ENOMEM
    assert mprotect(env, stack, P, PROT_READ | PROT_GROWSDOWN) == 0
    assert env.vmas()[0].vm_flags & VM_WRITE == 0
    env.mmap(B, 1)
    assert mprotect(env, B, P, PROT_READ | PROT_GROWSDOWN) == -errno.EINVAL


def test_eacces_for_a_permission_the_vma_may_not_have(env, tmp_path):
    path = tmp_path / "ro"
    path.write_bytes(b"r" * P)
    f = File(env.k, os.open(path, O_RDONLY), str(path), O_RDONLY)
    assert do_mmap(env.mm, f, B, P, PROT_READ, MAP_SHARED | MAP_FIXED, 0) == B
    f.put()
    assert mprotect(env, B, P, RW) == -errno.EACCES
    assert mprotect(env, B, P, PROT_READ | PROT_EXEC) == 0
    assert mprotect(env, B, P, PROT_NONE) == 0
    assert mprotect(env, B, P, PROT_READ) == 0
    vma = env.vmas()[0]
    vma.vm_flags &= ~(VM_EXEC << 4)                   # no VM_MAYEXEC (noexec mount)
    assert mprotect(env, B, P, PROT_READ | PROT_EXEC) == -errno.EACCES


def test_locked_populate_stays_inside_the_range(env):
    env.mmap(B, 2, prot=PROT_READ)
    env.mmap(B + 2 * P, 2, prot=PROT_READ | PROT_EXEC)
    assert do_mlock(env.mm, B, 2 * P) == 0
    assert mprotect(env, B, 2 * P, RW) == 0
    assert env.pte(B + 2 * P) == 0 and env.pte(B + 3 * P) == 0
