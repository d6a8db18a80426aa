"""mm/mprotect.c: changing the protection of a range of VMAs."""

import errno

from emu.arch import PAGE_SHIFT
from kernel.mm.mm import (
    VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_HUGETLB, VM_LOCKED,
    PTE_DIRTY, VM_NORESERVE, VM_READ, VM_SHARED, VM_WRITE, calc_vm_prot_bits, pte_mkwrite,
    pte_modify,
)
from kernel.mm.mmap import (
    PAGE_ALIGN, U64_MASK, find_vma, may_expand_vm, offset_in_page, vm_stat_account, vma_modify,
    vma_set_page_prot, vma_wants_writenotify,
)
from kernel.mm.memory import mm_populate
from kernel.mm.overcommit import vm_enough_memory
from kernel.uapi import PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE


def change_protection(vma, start, end, newprot, dirty_accountable=False):
    """change_protection() — rewrite every present pte of [start, end) with
    newprot's permission bits (pte_modify), then flush the range.  With
    dirty_accountable (a shared writable file mapping, whose template is
    read-only for dirty tracking) a page already dirty stays writable, as
    change_pte_range() does: its write was noticed already."""
    mm = vma.vm_mm
    kernel = mm.kernel
    pt = kernel.pgtable
    changed = 0
    for addr, ptep, pte in pt.present_ptes(mm, start, end):
        new = pte_modify(pte, newprot)
        if dirty_accountable and pte & PTE_DIRTY:
            new = pte_mkwrite(new)
        pt.set_pte_at(mm, addr, ptep, new)
        changed += 1
    if changed:
        kernel.tlb.flush_tlb_range(mm, start, end)
    return changed


def mprotect_fixup(mm, vma, prev, start, end, newflags):
    """mprotect_fixup() — give [start, end) of vma the flags newflags,
    merging with neighbours or splitting vma as needed.

    Returns (error, prev) where prev is the VMA now ending the processed
    part (Linux's *pprev).
    """
    oldflags = vma.vm_flags
    if newflags == oldflags:
        return 0, vma
    nrpages = (end - start) >> PAGE_SHIFT
    if newflags & VM_WRITE:
        if not may_expand_vm(mm, newflags, nrpages) and may_expand_vm(mm, oldflags, nrpages):
            return -errno.ENOMEM, prev
        if not oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE):
            # A private mapping made writable is charged now.
            if vm_enough_memory(mm.kernel, nrpages, mm):
                return -errno.ENOMEM, prev
            newflags |= VM_ACCOUNT
    err, vma = vma_modify(mm, vma, prev, start, end, newflags)
    if err:
        return err, vma
    vma.vm_flags = newflags
    dirty_accountable = vma_wants_writenotify(vma)
    vma_set_page_prot(vma)
    change_protection(vma, start, end, vma.vm_page_prot, dirty_accountable)
    if oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED) == VM_LOCKED and newflags & VM_WRITE:
        mm_populate(mm, start, end - start)
    vm_stat_account(mm, oldflags, -nrpages)
    vm_stat_account(mm, newflags, nrpages)
    trace = mm.kernel.trace
    if trace.vma:  # pragma: no mutate block (tracing only)
        trace.emit("vma_mprotect", mm=mm, vma=vma, start=start, end=end)
    return 0, vma


def do_mprotect_pkey(mm, start, length, prot):
    """do_mprotect_pkey() — SYSCALL mprotect: 0 or -EINVAL/-ENOMEM/-EACCES."""
    if offset_in_page(start):
        return -errno.EINVAL
    if not length:
        return 0
    length = PAGE_ALIGN(length) & U64_MASK          # unsigned long: may wrap to 0
    end = (start + length) & U64_MASK
    if end <= start:
        return -errno.ENOMEM
    grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP)
    prot &= ~grows
    if grows == PROT_GROWSDOWN | PROT_GROWSUP:
        return -errno.EINVAL
    if prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM):
        return -errno.EINVAL
    vma = find_vma(mm, start)
    if vma is None:
        return -errno.ENOMEM
    prev = vma.vm_prev
    if grows & PROT_GROWSDOWN:
        if vma.vm_start >= end:
            return -errno.ENOMEM
        start = vma.vm_start
        if not vma.vm_flags & VM_GROWSDOWN:
            return -errno.EINVAL
    else:
        if vma.vm_start > start:
            return -errno.ENOMEM
        if grows & PROT_GROWSUP:
            return -errno.EINVAL            # no VM_GROWSUP VMAs on arm64
    if start > vma.vm_start:
        prev = vma
    nstart = start
    while True:
        newflags = calc_vm_prot_bits(prot) | (vma.vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC))
        # VM_MAY* sit four bits above the VM_* they permit.
        if newflags & ~(newflags >> 4) & (VM_READ | VM_WRITE | VM_EXEC):
            return -errno.EACCES
        tmp = min(vma.vm_end, end)
        err, prev = mprotect_fixup(mm, vma, prev, nstart, tmp, newflags)
        if err:
            return err
        nstart = max(tmp, prev.vm_end)
        if nstart >= end:
            return 0
        vma = prev.vm_next
        if vma is None or vma.vm_start != nstart:
            return -errno.ENOMEM
