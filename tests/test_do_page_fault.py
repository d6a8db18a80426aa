"""do_page_fault() (kernel/mm/fault.py): which access a syndrome asks for and
whether the VMA allows it (arch/arm64/mm/fault.c, Linux 4.14): an
instruction abort needs VM_EXEC, a write VM_WRITE, a read VM_READ or
VM_WRITE (arm64 has no write-only pages); nothing mapped is BADMAP."""

from emu.arch import (
    DESC_ADDR_MASK, EC_DABT_LOW, EC_IABT_LOW, FSC_PERMISSION, FSC_TRANSLATION, PTE_RDONLY,
)
from kernel.mm.fault import VM_FAULT_BADACCESS, VM_FAULT_BADMAP, do_page_fault
from emu.arch import esr_abort
from kernel.uapi import PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE
from test_vma import B, P, Env

FETCH = esr_abort(EC_IABT_LOW, FSC_TRANSLATION, 3, False)
READ = esr_abort(EC_DABT_LOW, FSC_TRANSLATION, 3, False)
WRITE = esr_abort(EC_DABT_LOW, FSC_TRANSLATION, 3, True)


def fault(env, addr, esr):
    return do_page_fault(env.mm, addr, esr)[0]


def test_fetch_needs_vm_exec():
    env = Env()
    env.mmap(B, 1, prot=PROT_READ)
    env.mmap(B + P, 1, prot=PROT_READ | PROT_EXEC)
    env.mmap(B + 2 * P, 1, prot=PROT_EXEC)
    assert fault(env, B, FETCH) == VM_FAULT_BADACCESS
    assert fault(env, B + P, FETCH) == 0
    assert fault(env, B + 2 * P, FETCH) == 0
    # A fetch is not a write: the page is mapped read-only.
    assert env.pte(B + P) & PTE_RDONLY


def test_reads_and_writes():
    env = Env()
    env.mmap(B, 1, prot=PROT_NONE)
    env.mmap(B + P, 1, prot=PROT_READ)
    env.mmap(B + 2 * P, 1, prot=PROT_WRITE)
    env.mmap(B + 3 * P, 1, prot=PROT_EXEC)
    assert fault(env, B, READ) == VM_FAULT_BADACCESS
    assert fault(env, B, WRITE) == VM_FAULT_BADACCESS
    assert fault(env, B, FETCH) == VM_FAULT_BADACCESS
    assert fault(env, B + P, READ) == 0
    assert fault(env, B + P, WRITE) == VM_FAULT_BADACCESS
    assert fault(env, B + 2 * P, READ) == 0                 # write implies read on arm64
    assert fault(env, B + 2 * P, WRITE) == 0
    assert not env.pte(B + 2 * P) & PTE_RDONLY
    assert fault(env, B + 3 * P, READ) == VM_FAULT_BADACCESS
    assert fault(env, B + 8 * P, READ) == VM_FAULT_BADMAP
    perm = esr_abort(EC_DABT_LOW, FSC_PERMISSION, 3, True)
    assert fault(env, B + P, perm) == VM_FAULT_BADACCESS


def test_fetch_from_an_untouched_page_maps_the_zero_page():
    env = Env()
    env.mmap(B, 1, prot=PROT_READ | PROT_EXEC)
    assert fault(env, B, FETCH) == 0
    assert env.pte(B) & DESC_ADDR_MASK == env.k.zero_page


def test_handle_mm_fault_on_a_present_page():
    from kernel.mm.memory import handle_mm_fault
    env = Env()
    env.mmap(B, 2)
    env.read(B, 1)                                   # the zero page
    env.write(B + P, b"w")
    vma = env.vmas()[0]
    pte0, pte1 = env.pte(B), env.pte(B + P)
    assert handle_mm_fault(vma, B, False) == 0       # a read of the zero page: kept
    assert env.pte(B) == pte0
    assert handle_mm_fault(vma, B + P, False) == 0
    assert handle_mm_fault(vma, B + P, True) == 0
    assert env.pte(B + P) == pte1
