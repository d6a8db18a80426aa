"""mm/rmap.c: reverse mapping — from a page back to the ptes that map it.

Linux chains each VMA to every anon_vma its pages may belong to (the
anon_vma_chain), so that page_referenced()/try_to_unmap() can find every pte
of a page.  a53emu has no swap and no page reclaim, so nothing walks from a
page to its ptes; what remains visible is the shape fork gives the anon_vmas:
the child's VMA gets an anon_vma of its own whose parent (and root) is the
parent VMA's, so pages the child copies on write belong to the child.
Omitted: the chains themselves and anon_vma reuse (anon_vma_clone's
"degree < 2" reuse of an unused anon_vma).

File pages are found through their mapping: Linux keeps the VMAs of a file
in the i_mmap interval tree; mapping_vmas() looks at every address space
instead, which on a board of a few processes costs little.
"""

from emu.arch import PAGE_SHIFT, PTE_RDONLY
from kernel.mm.mm import PTE_PRESENT_MASK, VM_SHARED
from kernel.mm.mmap import AnonVma


def anon_vma_fork(vma, pvma):
    """anon_vma_fork(): give the child's copy `vma` of `pvma` its own
    anon_vma, linked to the parent's.  Returns 0."""
    if pvma.anon_vma is None:
        vma.anon_vma = None
        return 0
    vma.anon_vma = AnonVma(parent=pvma.anon_vma)
    pvma.anon_vma.degree += 1
    return 0


def mapping_vmas(kernel, mapping):
    """vma_interval_tree_foreach() over mapping->i_mmap: every VMA, of every
    address space, that maps `mapping`."""
    seen = set()
    for task in list(kernel.tasks.values()):
        mm = task.mm
        if mm is None or mm.pgd == 0 or id(mm) in seen:
            continue
        seen.add(id(mm))
        for vma in mm.vmas():
            if vma.vm_file is not None and vma.vm_file.mapping is mapping:
                yield vma


def page_mkclean(kernel, mapping, pgoffs):
    """page_mkclean(): write-protect every pte mapping these pages of mapping
    shared, so the next write marks them dirty again."""
    wanted = set(pgoffs)
    pt = kernel.pgtable
    for vma in mapping_vmas(kernel, mapping):
        if not vma.vm_flags & VM_SHARED:
            continue
        mm = vma.vm_mm
        for pgoff in wanted:
            addr = vma.vm_start + ((pgoff - vma.vm_pgoff) << PAGE_SHIFT)
            if not vma.vm_start <= addr < vma.vm_end:
                continue
            ptep = pt.pte_offset(mm, addr)
            if ptep is not None:
                pte = pt.read_pte(ptep)
                if pte & PTE_PRESENT_MASK and not pte & PTE_RDONLY:
                    pt.set_pte_at(mm, addr, ptep, pte | PTE_RDONLY)
                    kernel.tlb.flush_tlb_page(mm, addr)
