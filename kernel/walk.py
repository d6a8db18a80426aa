"""What `a53emu walk` prints: the hardware walk of a user address through a
task's translation tables, descriptor by descriptor, beside the kernel's
view of the same address (its VMA), and what each kind of access would do.

The walk is the MMU's own (emu/mmu.py walk_steps): TTBR0_EL1 points at the
level-0 table (level 1 with 39-bit VAs); each level takes 9 bits of the VA
as an index into a table of 512 8-byte descriptors:

    VA [47:39] L0 index | [38:30] L1 index | [29:21] L2 index | [20:12] L3 index | [11:0] offset

A descriptor with bit 0 clear is invalid (a translation fault at that
level); bits 1:0 = 0b11 above level 3 point at the next table; at level 3
0b11 is a page, whose bits 47:12 are the frame and whose other bits are
the attributes (describe_pte in kernel/trace.py).
"""

from emu.arch import (
    DESC_ADDR_MASK, DESC_TABLE, DESC_VALID, EC_DABT_LOW, EC_IABT_LOW, FSC_ACCESS_FLAG,
    FSC_PERMISSION, FSC_TRANSLATION, PAGE_MASK, PTE_AF, TTBR_ASID_SHIFT, TTBR_BADDR_MASK,
    esr_abort, esr_describe, level_shift,
)
from emu.mmu import UC_PROT_EXEC, UC_PROT_READ, UC_PROT_WRITE, el0_permissions
from kernel.mm.mm import VM_EXEC, VM_READ, VM_WRITE
from kernel.mm.mmap import find_vma
from kernel.trace import describe_pte, vma_line

# The three ways EL0 can touch a page: (name, the permission it needs, the
# VMA flag the kernel checks, the exception class, WnR).
ACCESSES = (("read", UC_PROT_READ, VM_READ, EC_DABT_LOW, False),
            ("write", UC_PROT_WRITE, VM_WRITE, EC_DABT_LOW, True),
            ("exec", UC_PROT_EXEC, VM_EXEC, EC_IABT_LOW, False))


def va_split(mmu, va):
    """'[47:39] 0x0 | [38:30] ...': the VA's index at each level and its offset."""
    parts = []
    for level in range(mmu.start_level, 4):
        lo = level_shift(level)
        hi = mmu.va_bits - 1 if level == mmu.start_level else lo + 8
        parts.append("[%d:%d] %d" % (hi, lo, (va >> lo) & ((1 << (hi - lo + 1)) - 1)))
    parts.append("[11:0] %#05x" % (va & ~PAGE_MASK))
    return " | ".join(parts)


def describe_walk(kernel, task, va):
    """The lines `a53emu walk` prints for va in task's address space."""
    mm = task.mm
    mmu = kernel.board.mmu
    ttbr0 = mm.ttbr0()
    lines = ["%#x in pid %d (%s): TTBR0_EL1 = %#018x (ASID %d, table at %#x)" % (
        va, task.pid, task.comm, ttbr0, ttbr0 >> TTBR_ASID_SHIFT, ttbr0 & TTBR_BADDR_MASK)]
    if va >> mmu.va_bits:
        lines.append("  outside the %d-bit user address space: a translation fault at "
                     "level 0 for any access" % mmu.va_bits)
        return lines
    lines.append("  VA " + va_split(mmu, va))
    leaf_level, leaf = 0, 0
    steps = mmu.walk_steps(ttbr0, va)
    for level, index, table, desc_pa, desc in steps:
        where = "L%d table %#x [%3d]" % (level, table, index)
        if desc_pa is None:
            lines.append("  %s: the table is outside RAM" % where)
            break
        if not desc & DESC_VALID:
            meaning = "invalid: translation fault at level %d" % level
            if desc:
                meaning += " (" + describe_pte(desc) + ")"
        elif level < 3 and desc & DESC_TABLE:
            meaning = "table -> %#x" % (desc & DESC_ADDR_MASK)
        elif level == 3 and not desc & DESC_TABLE:
            meaning = "reserved encoding at level 3: translation fault"
        else:
            leaf_level, leaf = level, desc
            meaning = ("page " if level == 3 else "block ") + describe_pte(desc)
        lines.append("  %s @%#x: %#018x  %s" % (where, desc_pa, desc, meaning))
        if level == 3 or not desc & DESC_VALID:
            break
    vma = find_vma(mm, va)
    if vma is not None and vma.vm_start > va:
        vma = None
    lines.append("  VMA " + (vma_line(vma) if vma is not None else "none"))
    level = leaf_level if leaf else steps[-1][0]
    for name, need, vm_flag, ec, write in ACCESSES:
        lines.append("  %-5s %s" % (name, access_outcome(mmu, va, leaf, level,
                                                         need, vma, vm_flag, ec, write)))
    return lines


def access_outcome(mmu, va, leaf, level, need, vma, vm_flag, ec, write):
    """What one access does: the physical address, or the abort the MMU
    raises at `level` (its ESR) and what do_page_fault() makes of it."""
    if leaf and leaf & PTE_AF and el0_permissions(leaf) & need:
        return "ok: pa %#x" % (mmu.output_address(level, leaf, va) | (va & ~PAGE_MASK))
    if not leaf:
        fsc = FSC_TRANSLATION
    elif not leaf & PTE_AF:
        fsc = FSC_ACCESS_FLAG
    else:
        fsc = FSC_PERMISSION
    esr = esr_abort(ec, fsc, level, write)
    if vma is None:
        verdict = "SIGSEGV (SEGV_MAPERR: no VMA)"
    elif not vma.vm_flags & vm_flag:
        verdict = "SIGSEGV (SEGV_ACCERR: the VMA does not allow it)"
    elif fsc == FSC_PERMISSION:
        verdict = "the kernel resolves it (copy-on-write or a dirty shared page)"
    else:
        verdict = "the kernel maps the page (demand paging)"
    return "abort: ESR %#x (%s) -> %s" % (esr, esr_describe(esr), verdict)
