"""PROT_EXEC added to and removed from pages that are already present.

mprotect() rewrites the ptes of present pages (change_pte_range ->
pte_modify with PTE_PROT_MASK, which includes PTE_UXN); pages faulted in
later take their protection from the VMA.  Each test makes the access an
EL0 core would make: Mmu.tlb_fill (what Unicorn calls on a TLB miss) with a
core whose abort handler is the kernel's do_page_fault(), so an access
either completes -- possibly after the kernel fixed the page tables -- or
ends in the signal Linux would send.

Linux 4.14: mm/mprotect.c (mprotect_fixup, change_protection),
arch/arm64/include/asm/pgtable.h (pte_modify, PTE_PROT_MASK),
arch/arm64/mm/fault.c (do_page_fault: VM_EXEC for an instruction abort).
"""

import errno
import os

import pytest

from emu.arch import PTE_PXN, PTE_UXN
from emu.mmu import UC_MEM_FETCH, UC_MEM_READ, UC_MEM_WRITE, UC_PROT_EXEC, UC_PROT_WRITE
from kernel.fs.file import File
from kernel.mm.fault import do_page_fault, fault_signal
from kernel.mm.mm import PTE_PRESENT_MASK, VM_EXEC
from kernel.mm.mmap import do_mmap, find_vma
from kernel.uapi import (
    MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_NONE, PROT_READ,
    SEGV_ACCERR, SIGSEGV,
)
from test_vma import Env, P, RW, SHARED

B = 0x10000000
RX = PROT_READ | PROT_EXEC
RWX = RW | PROT_EXEC


class KernelCore:
    """A core as far as Mmu.tlb_fill sees it, whose aborts go to the kernel's
    do_page_fault(); a fault it cannot fix is the signal, and the core stops."""

    def __init__(self, env):
        self.env = env
        self.ttbr0 = env.mm.pgd
        self.walk_cache = [None, None, 0]
        self.stop_requested = False
        self.signal = None
        self.aborts = 0

    def take_abort(self, esr, far):
        self.aborts += 1
        fault, _ = do_page_fault(self.env.mm, far, esr)
        if fault:
            self.signal = fault_signal(fault)
            self.stop_requested = True


def access(env, addr, kind):
    """An EL0 access: ("ok", perms, aborts taken) or ("signal", (sig, code))."""
    core = KernelCore(env)
    answer = env.board.mmu.tlb_fill(core, addr, kind)
    if answer is None:
        return "signal", core.signal
    return "ok", answer[1], core.aborts


def runs(env, addr):
    return access(env, addr, UC_MEM_FETCH)[0] == "ok"


def pte_exec(env, addr):
    pte = env.pte(addr)
    assert pte & PTE_PRESENT_MASK, "page %#x not present" % addr
    assert pte & PTE_PXN, "user pages never run at EL1"
    return not pte & PTE_UXN


ACCERR = ("signal", (SIGSEGV, SEGV_ACCERR))


def test_adding_exec_to_present_anonymous_pages():
    env = Env()
    assert env.mmap(B, 3) == B
    env.write(B, b"\x01")
    env.write(B + P, b"\x02")                   # pages 0 and 1 present, 2 not
    assert not pte_exec(env, B)
    assert access(env, B, UC_MEM_FETCH) == ACCERR
    assert env.mprotect(B, 3 * P, RWX) == 0
    assert pte_exec(env, B) and pte_exec(env, B + P)
    result = access(env, B + 8, UC_MEM_FETCH)
    assert result[0] == "ok" and result[1] & UC_PROT_EXEC and result[2] == 0, result
    assert runs(env, B + 2 * P)                 # faulted in with the VMA's protection
    assert pte_exec(env, B + 2 * P)
    # still writable, and the data is there
    assert access(env, B, UC_MEM_WRITE)[0] == "ok"
    assert env.read(B, 1) == b"\x01" and env.read(B + P, 1) == b"\x02"
    env.check()


def test_removing_exec_from_present_pages():
    env = Env()
    assert env.mmap(B, 2, RWX) == B
    env.write(B, b"\x01")
    assert runs(env, B) and runs(env, B + P)
    assert pte_exec(env, B + P)
    assert env.mprotect(B, 2 * P, RW) == 0
    assert not pte_exec(env, B) and not pte_exec(env, B + P)
    assert access(env, B, UC_MEM_FETCH) == ACCERR
    assert access(env, B + P + 4, UC_MEM_FETCH) == ACCERR
    assert access(env, B, UC_MEM_WRITE)[0] == "ok"
    # and back: exec again without a new fault
    assert env.mprotect(B, P, RX) == 0
    assert pte_exec(env, B) and not pte_exec(env, B + P)
    assert access(env, B, UC_MEM_FETCH)[:1] == ("ok",)
    assert access(env, B, UC_MEM_WRITE) == ACCERR
    assert [v.vm_flags & VM_EXEC != 0 for v in env.vmas()] == [True, False]
    env.check()


def test_exec_through_prot_none_and_back():
    env = Env()
    assert env.mmap(B, 1, RX) == B
    assert runs(env, B)
    assert env.mprotect(B, P, PROT_NONE) == 0
    assert access(env, B, UC_MEM_FETCH) == ACCERR
    assert access(env, B, UC_MEM_READ) == ACCERR
    assert env.mprotect(B, P, RX) == 0
    assert runs(env, B) and pte_exec(env, B)
    env.check()


def test_exec_only_is_refused_at_el0_like_4_14():
    """4.14's protection_map maps PROT_EXEC alone to PAGE_EXECONLY (EL0
    execute, no read): fetches run, loads fault."""
    env = Env()
    assert env.mmap(B, 1, RW) == B
    env.write(B, b"\x07")
    assert env.mprotect(B, P, PROT_EXEC) == 0
    assert runs(env, B)
    assert access(env, B, UC_MEM_READ) == ACCERR


@pytest.fixture
def datafile(tmp_path):
    path = tmp_path / "code.bin"
    path.write_bytes(bytes(range(256)) * (2 * P // 256))
    return path


def open_file(env, path, flags=os.O_RDWR):
    return File(env.k, os.open(path, flags | os.O_CLOEXEC), str(path), flags)


def test_file_mapping_exec_changes(datafile):
    env = Env()
    f = open_file(env, datafile)
    assert do_mmap(env.mm, f, B, 2 * P, RX, MAP_PRIVATE | MAP_FIXED, 0) == B
    assert runs(env, B) and pte_exec(env, B)
    assert env.mprotect(B, 2 * P, PROT_READ) == 0
    assert not pte_exec(env, B)
    assert access(env, B, UC_MEM_FETCH) == ACCERR
    assert access(env, B + P, UC_MEM_FETCH) == ACCERR          # not present: from the VMA
    assert env.mprotect(B, 2 * P, RX) == 0
    assert runs(env, B) and runs(env, B + P)
    # a private COW copy keeps exec through mprotect rwx -> rx
    assert env.mprotect(B, P, RWX) == 0
    assert access(env, B, UC_MEM_WRITE)[0] == "ok"               # COW
    assert env.read(B, 1) == b"\x00"
    assert env.mprotect(B, P, RX) == 0
    assert runs(env, B) and pte_exec(env, B)
    assert access(env, B, UC_MEM_WRITE) == ACCERR
    env.munmap(B, 2 * P)
    f.put()
    env.check()


def test_shared_writable_file_pages_gain_exec(datafile):
    env = Env()
    f = open_file(env, datafile)
    assert do_mmap(env.mm, f, B, P, RW, MAP_SHARED | MAP_FIXED, 0) == B
    assert access(env, B, UC_MEM_WRITE)[0] == "ok"
    assert env.mprotect(B, P, RWX) == 0
    assert pte_exec(env, B)
    result = access(env, B, UC_MEM_FETCH)
    assert result[0] == "ok" and result[1] & UC_PROT_WRITE, result   # still dirty-writable
    env.munmap(B, P)
    f.put()


def test_mprotect_exec_on_shared_anonymous():
    env = Env()
    assert env.mmap(B, 2, RW, SHARED | MAP_FIXED) == B
    env.write(B, b"\x05")
    assert env.mprotect(B, 2 * P, RX) == 0
    assert runs(env, B) and pte_exec(env, B)
    assert env.mprotect(B, 2 * P, PROT_READ) == 0
    assert access(env, B, UC_MEM_FETCH) == ACCERR
    env.check()


def test_mprotect_exec_errors():
    env = Env()
    assert env.mmap(B, 2) == B
    assert env.mprotect(B + 1, P, RWX) == -errno.EINVAL
    assert env.mprotect(B, 4 * P, RWX) == -errno.ENOMEM       # runs into a hole
    # the part before the hole did change (4.14 does not roll back)
    assert find_vma(env.mm, B).vm_flags & VM_EXEC
    assert runs(env, B)
    env.check()
