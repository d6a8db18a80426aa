"""arch/arm64/include/asm/tlbflush.h: TLB maintenance after changing descriptors.

Linux issues TLBI ... IS instructions that every core in the inner-shareable
domain obeys: one per page of a range, or one for the whole ASID when the
range is longer than MAX_TLB_RANGE.  A core drops one page where Unicorn
lets it (Core.flush_tlb_page), else its whole TLB; the range asked for is
what the trace shows, because that is what the kernel said.  The cores concerned are
those that have run the mm (mm_cpumask): others hold none of its entries
(with ASIDs, Linux flushes only by ASID; a core that switches to the mm
later starts from an empty TLB, see Kernel.run).
"""

from emu.arch import PAGE_SIZE

# arch/arm64/include/asm/tlbflush.h (4.14): a range longer than this is
# flushed by ASID (flush_tlb_mm) rather than page by page.
MAX_TLB_RANGE = 1024 * PAGE_SIZE


class TlbFlusher:
    """Broadcast TLB invalidation over a board's cores."""

    def __init__(self, board, trace):
        self.board = board
        self.trace = trace

    def flush_tlb_mm(self, mm):
        """flush_tlb_mm(): TLBI ASIDE1IS — every entry of mm's ASID."""
        if self.trace.tlb:  # pragma: no mutate block (tracing only)
            self.trace.emit("tlb_flush", mm=mm, start=None, end=None)
        for core in self.board.cores:
            if core.index in mm.cpu_vm_mask:
                core.flush_tlb()

    def flush_tlb_range(self, mm, start, end):
        """__flush_tlb_range(): TLBI VAE1IS for each page of [start, end), or
        the whole ASID past MAX_TLB_RANGE."""
        if self.trace.tlb:  # pragma: no mutate block (tracing only)
            self.trace.emit("tlb_flush", mm=mm, start=start, end=end)
        whole = end - start > MAX_TLB_RANGE
        for core in self.board.cores:
            if core.index in mm.cpu_vm_mask:
                if whole:
                    core.flush_tlb()
                else:
                    for addr in range(start & -PAGE_SIZE, end, PAGE_SIZE):
                        core.flush_tlb_page(addr)

    def flush_tlb_page(self, mm, addr):
        """flush_tlb_page(): TLBI VALE1IS for one page."""
        if self.trace.tlb:  # pragma: no mutate block (tracing only)
            self.trace.emit("tlb_flush", mm=mm, start=addr, end=addr + PAGE_SIZE)
        for core in self.board.cores:
            if core.index in mm.cpu_vm_mask:
                core.flush_tlb_page(addr)
