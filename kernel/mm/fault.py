"""arch/arm64/mm/fault.c: do_page_fault() — an abort from EL0 becomes a
page-table update, or a signal.

The syndrome says what was attempted (ESR_EL1: instruction or data abort,
WnR) and FAR_EL1 where.  The VMA decides whether that is allowed; then
handle_mm_fault() makes it so.  What cannot be allowed becomes SIGSEGV
(SEGV_MAPERR: nothing mapped there; SEGV_ACCERR: mapped, but not for this)
or SIGBUS (past the end of a mapped file).
"""

from emu.arch import EC_IABT_LOW, ESR_EC_SHIFT, ESR_WNR, PTE_RDONLY
from kernel.mm.memory import (
    VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, _install_copy, handle_mm_fault,
)
from kernel.mm.mm import PTE_SPECIAL, VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE, pte_mkwrite
from kernel.mm.mmap import anon_vma_prepare, expand_stack, find_vma
from kernel.mm.page_alloc import PG_anon, OutOfMemory
from kernel.uapi import BUS_ADRERR, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGSEGV

# arch/arm64/mm/fault.c: what do_page_fault() concluded, besides VM_FAULT_*.
VM_FAULT_BADMAP = 0x010000
VM_FAULT_BADACCESS = 0x020000


def do_page_fault(mm, addr, esr):
    """do_page_fault() for a user access.

    Returns (fault, vma): fault is 0 when the access can be retried, or one
    of VM_FAULT_BADMAP / BADACCESS / OOM / SIGBUS / SIGSEGV; vma is the VMA
    holding addr, None when none does (find_vma's answer for an address
    below every VMA is the next one up, which the fault is not in).
    """
    if esr >> ESR_EC_SHIFT == EC_IABT_LOW:
        vm_flags, write = VM_EXEC, False
    elif esr & ESR_WNR:
        vm_flags, write = VM_WRITE, True
    else:
        vm_flags, write = VM_READ | VM_WRITE, False
    vma = find_vma(mm, addr)
    if vma is None:
        return VM_FAULT_BADMAP, None
    if vma.vm_start > addr:
        if not vma.vm_flags & VM_GROWSDOWN or expand_stack(vma, addr):
            return VM_FAULT_BADMAP, None
    if not vma.vm_flags & vm_flags:
        return VM_FAULT_BADACCESS, vma
    return handle_mm_fault(vma, addr, write), vma


def do_anonymous_fault_fast(core, addr, write, ptep, pte=0):
    """do_mem_abort() -> do_page_fault() -> handle_mm_fault() ->
    do_anonymous_page() in one frame, for the fault most programs take most
    often: a data access to private anonymous memory whose pte is empty
    (pte_none) in a level-3 table that exists; and -> do_wp_page() for the
    one after it when the first access was a read: a write to the zero
    page (pte, present, special and read-only), copied as wp_page_copy()
    does (_install_copy, with its TLB flush).  The MMU calls it from its
    fill (emu/mmu.py) with addr's page and ptep, found through its walk
    cache, instead of taking the abort, while nothing watches faults
    (Vectors.anon_fault is None while the fault or pte tracer, --stats, a
    call graph or any other wrapper of the vector is on).

    Returns the pte once it is written (the fill answers from it); 0,
    having changed nothing that the slow path would not change the same
    way, for the ordinary abort to handle it (a file or shared VMA, an
    access the VMA forbids, a stack to grow, no memory: do_page_fault
    decides those).  What it
    leaves out and why that is safe: ESR_EL1/FAR_EL1/ELR_EL1 are not
    written (EL0 cannot read them and every abort writes them anew), the
    el0_sync dispatch (the fill knows it is a data abort), the table
    allocation (the tables exist: the walk reached level 3).
    """
    task = core.current
    mm = task.mm
    vma = mm.mmap_cache
    if vma is None or not vma.vm_start <= addr < vma.vm_end:
        vma = find_vma(mm, addr)
        if vma is None or vma.vm_start > addr:
            return 0
    if vma.vm_file is not None:
        return 0
    kernel = mm.kernel
    if pte:
        if not (write and pte & PTE_SPECIAL and pte & PTE_RDONLY and vma.vm_flags & VM_WRITE):
            return 0
        try:
            _install_copy(vma, addr, ptep, None, present=True)
        except OutOfMemory:
            return 0
        pte = kernel.pgtable.read_pte(ptep)
    elif write:
        if not vma.vm_flags & VM_WRITE:
            return 0
        if vma.anon_vma is None:
            anon_vma_prepare(vma)
        try:
            frame = kernel.pages.alloc_page(True, PG_anon)
        except OutOfMemory:
            return 0
        pte = pte_mkwrite(vma.vm_page_prot | frame)
        kernel.pgtable.set_pte_at(mm, addr, ptep, pte)
        mm.rss_anon += 1
    else:
        if not vma.vm_flags & (VM_READ | VM_WRITE):
            return 0
        pte = vma.vm_page_prot | kernel.zero_page | PTE_SPECIAL | PTE_RDONLY
        kernel.pgtable.set_pte_at(mm, addr, ptep, pte)
    task.min_flt += 1
    return pte


def fault_signal(fault):
    """The (signal, si_code) __do_user_fault() sends for a failed fault."""
    if fault & VM_FAULT_SIGBUS:
        return SIGBUS, BUS_ADRERR
    if fault & (VM_FAULT_BADACCESS | VM_FAULT_SIGSEGV):
        return SIGSEGV, SEGV_ACCERR
    return SIGSEGV, SEGV_MAPERR


__all__ = ["do_page_fault", "do_anonymous_fault_fast", "fault_signal", "VM_FAULT_OOM", "VM_FAULT_BADMAP",
           "VM_FAULT_BADACCESS"]
