"""mm/rmap.c: reverse mapping — from a page back to the ptes that map it.

An anonymous page belongs to the anon_vma of the VMA it was first faulted in
(page->mapping).  After fork the parent's pages are mapped by the child too,
so each VMA is chained (vma->anon_vma_chain, one AnonVmaChain per link) to
every anon_vma whose pages it may map: its own and its ancestors'.  Each
anon_vma keeps the chains that reach it (rb_root, an interval tree in Linux;
a set here, as nothing looks pages up by range) and a `degree`: its VMAs plus
its child anon_vmas, which decides whether fork may reuse it.  The chain is
visible in one place a program can see: is_mergeable_anon_vma() refuses to
merge a new region into a VMA with a chain of more than one anon_vma, so a
forked child's inherited VMAs do not grow by merging (mm/mmap.c).

a53emu has no swap and no reclaim, so no walk starts from a page; the
structure is kept as 4.14 keeps it for that shape and for --trace.

File pages are found through their mapping: Linux keeps the VMAs of a file
in the i_mmap interval tree; mapping_vmas() looks at every address space
instead, which on a board of a few processes costs little.
"""

from emu.arch import PAGE_SHIFT, PTE_RDONLY
from kernel.mm.mm import PTE_PRESENT_MASK, VM_SHARED


class AnonVma:
    """struct anon_vma: where anonymous pages point back to.  A new one is
    its own root and parent (the self-parent link counts in its degree)."""
    __slots__ = ("root", "parent", "degree", "rb_root")

    def __init__(self):
        self.root = self
        self.parent = self
        self.degree = 1         # anon_vma_alloc(): the reference for the first vma
        self.rb_root = set()    # the AnonVmaChains that link VMAs here


class AnonVmaChain:
    """struct anon_vma_chain: one link between a VMA and an anon_vma."""
    __slots__ = ("vma", "anon_vma")

    def __init__(self, vma, anon_vma):
        self.vma = vma
        self.anon_vma = anon_vma


def anon_vma_chain_link(vma, anon_vma):
    """anon_vma_chain_link(): chain vma to anon_vma (newest first, as list_add)."""
    avc = AnonVmaChain(vma, anon_vma)
    vma.anon_vma_chain.insert(0, avc)
    anon_vma.rb_root.add(avc)


def anon_vma_clone(dst, src):
    """anon_vma_clone(): chain dst to every anon_vma src is chained to.

    When dst has no anon_vma yet (fork), it reuses one of them that no VMA
    uses any more and that has at most one child (degree < 2) — never src's
    own, or every first child would take its parent's.  Returns 0."""
    for pavc in reversed(src.anon_vma_chain):
        anon_vma = pavc.anon_vma
        anon_vma_chain_link(dst, anon_vma)
        if dst.anon_vma is None and anon_vma is not src.anon_vma and anon_vma.degree < 2:
            dst.anon_vma = anon_vma
    if dst.anon_vma is not None:
        dst.anon_vma.degree += 1
    return 0


def anon_vma_fork(vma, pvma):
    """anon_vma_fork(): chain the child's copy `vma` of `pvma` to pvma's
    anon_vmas and give it one of its own (or a reusable one), whose parent
    is pvma's.  Pages the child copies on write go there.  Returns 0."""
    vma.anon_vma = None
    if pvma.anon_vma is None:
        return 0
    anon_vma_clone(vma, pvma)
    if vma.anon_vma is not None:
        return 0
    anon_vma = AnonVma()
    anon_vma.root = pvma.anon_vma.root
    anon_vma.parent = pvma.anon_vma
    vma.anon_vma = anon_vma
    anon_vma_chain_link(vma, anon_vma)
    anon_vma.parent.degree += 1
    return 0


def unlink_anon_vmas(vma):
    """unlink_anon_vmas(): vma goes away (unmapped, or merged into a
    neighbour that already has the same anon_vma: anon_vma_merge()).  An
    anon_vma left with no VMA no longer counts in its parent's degree."""
    for avc in vma.anon_vma_chain:
        anon_vma = avc.anon_vma
        anon_vma.rb_root.discard(avc)
        if not anon_vma.rb_root:
            anon_vma.parent.degree -= 1
    vma.anon_vma_chain = []
    if vma.anon_vma is not None:
        vma.anon_vma.degree -= 1


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
