"""arch/arm64/mm/fault.c: do_page_fault() — an abort from EL0 becomes a
page-table update, or a signal.

The syndrome says what was attempted (ESR_EL1: instruction or data abort,
WnR) and FAR_EL1 where.  The VMA decides whether that is allowed; then
handle_mm_fault() makes it so.  What cannot be allowed becomes SIGSEGV
(SEGV_MAPERR: nothing mapped there; SEGV_ACCERR: mapped, but not for this)
or SIGBUS (past the end of a mapped file).
"""

from emu.arch import EC_IABT_LOW, ESR_EC_SHIFT, ESR_WNR
from kernel.mm.memory import VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, handle_mm_fault
from kernel.mm.mm import VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE
from kernel.mm.mmap import expand_stack, find_vma
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


def fault_signal(fault):
    """The (signal, si_code) __do_user_fault() sends for a failed fault."""
    if fault & VM_FAULT_SIGBUS:
        return SIGBUS, BUS_ADRERR
    if fault & (VM_FAULT_BADACCESS | VM_FAULT_SIGSEGV):
        return SIGSEGV, SEGV_ACCERR
    return SIGSEGV, SEGV_MAPERR


__all__ = ["do_page_fault", "fault_signal", "VM_FAULT_OOM", "VM_FAULT_BADMAP",
           "VM_FAULT_BADACCESS"]
