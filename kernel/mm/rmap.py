"""mm/rmap.c: reverse mapping of anonymous memory across fork.

Linux chains each VMA to every anon_vma its pages may belong to (the
anon_vma_chain), so that page_referenced()/try_to_unmap() can find every pte
of a page.  a53emu has no swap and no page reclaim, so nothing walks from a
page to its ptes; what remains visible is the shape fork gives the anon_vmas:
the child's VMA gets an anon_vma of its own whose parent (and root) is the
parent VMA's, so pages the child copies on write belong to the child.
Omitted: the chains themselves and anon_vma reuse (anon_vma_clone's
"degree < 2" reuse of an unused anon_vma).
"""

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
