"""exit_mmap() (kernel/mm/mmap.py): tearing a whole address space down gives
back every frame, every page table and every file reference, and flushes the
cores that ran the mm (Linux 4.14 mm/mmap.c exit_mmap, free_pgtables,
tlb_finish_mmu).  fault_signal(): which signal a failed fault becomes.
"""

import os

from kernel.fs.file import File
from kernel.mm.fault import VM_FAULT_BADACCESS, VM_FAULT_BADMAP, fault_signal
from kernel.mm.memory import VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV
from kernel.mm.mmap import do_mmap, exit_mmap
from kernel.uapi import (
    BUS_ADRERR, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, O_RDWR, PROT_READ,
    PROT_WRITE, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGSEGV,
)
from test_vma import B, P, Env

RW = PROT_READ | PROT_WRITE


def test_exit_mmap_frees_everything(tmp_path):
    env = Env()
    pages = env.k.pages
    free0 = pages.nr_free
    path = tmp_path / "f"
    path.write_bytes(b"f" * 2 * P)
    f = File(env.k, os.open(path, O_RDWR), str(path), O_RDWR)
    assert do_mmap(env.mm, f, B, 2 * P, RW, MAP_SHARED | MAP_FIXED, 0) == B
    assert do_mmap(env.mm, f, B + 4 * P, 2 * P, RW, MAP_PRIVATE | MAP_FIXED, 0) == B + 4 * P
    refs = f.refcount
    assert refs == 3
    env.mmap(B + (1 << 30), 3)                       # far away: tables of its own
    env.mmap(B + 16 * P, 1, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    for addr in (B, B + 4 * P, B + (1 << 30), B + (1 << 30) + 2 * P, B + 16 * P):
        env.write(addr, b"x")
    assert env.mm.nr_ptes > 0
    mm = env.mm
    flushed = []
    env.k.tlb.flush_tlb_mm = lambda m: flushed.append(m)
    f.put()                                           # the "close(fd)"
    exit_mmap(mm)
    assert flushed == [mm]
    assert mm.mmap is None and mm.mm_rb.rb_node is None and mm.mmap_cache is None
    assert mm.map_count == 0 and mm.nr_ptes == 0 and mm.pgd == 0
    assert f.refcount == 0
    assert path.read_bytes()[:1] == b"x"              # the shared page was written back
    # Everything but the page cache of nothing (gone with the last reference)
    # and the pgd counted at start is free again.
    assert pages.nr_free == free0 + 1


def test_fault_signal():
    assert fault_signal(VM_FAULT_SIGBUS) == (SIGBUS, BUS_ADRERR)
    assert fault_signal(VM_FAULT_BADACCESS) == (SIGSEGV, SEGV_ACCERR)
    assert fault_signal(VM_FAULT_SIGSEGV) == (SIGSEGV, SEGV_ACCERR)
    assert fault_signal(VM_FAULT_BADMAP) == (SIGSEGV, SEGV_MAPERR)
