"""arch/arm64/mm/context.c: ASIDs — which address space a TLB entry belongs to.

TTBR0_EL1 carries a 16-bit ASID beside the table address, and non-global
(nG) TLB entries are tagged with it, so switching between address spaces
needs no TLB flush.  ASIDs are handed out lazily, at the first switch to an
mm, with a generation number in the upper bits of mm->context.id: when
they run out, the generation is bumped, every core's TLB is flushed, and
each mm gets a fresh ASID the next time it is switched to.  ASID 0 is
reserved (Linux uses it for the idle and kernel-only contexts).

Unicorn's software TLB has no ASID tag, so our cores still flush on every
switch between address spaces (kernel/sched/core.py); the ASID is what
TTBR0 holds, what the walker's cache is keyed by and what traces show.
"""

ASID_BITS = 16


class AsidAllocator:
    """asid_generation + asid_map of one board."""

    def __init__(self, board, bits=ASID_BITS):
        self.board = board
        self.generation = 1
        self.limit = 1 << bits
        self.used = set()
        self.cur_idx = 1
        self.rollovers = 0

    def check_and_switch_context(self, mm, core):
        """check_and_switch_context(): make sure mm has an ASID of the current
        generation before core switches to it."""
        if mm.asid_generation != self.generation:
            self.new_context(mm)

    def new_context(self, mm):
        """new_context(): keep mm's old ASID if it is still free in the new
        generation, else take the next free one, rolling over when none is."""
        if mm.asid and mm.asid not in self.used:
            self.used.add(mm.asid)
            mm.asid_generation = self.generation
            return
        asid = self._find_free()
        if asid is None:
            self.flush_context()
            asid = self._find_free()
        self.used.add(asid)
        self.cur_idx = asid + 1
        mm.asid = asid
        mm.asid_generation = self.generation

    def _find_free(self):
        for start, stop in ((self.cur_idx, self.limit), (1, self.cur_idx)):
            for asid in range(start, stop):
                if asid not in self.used:
                    return asid
        return None

    def flush_context(self):
        """flush_context(): a new generation; the ASIDs live on the cores stay
        reserved, and every TLB is flushed."""
        self.generation += 1
        self.rollovers += 1
        self.used = {core.active_mm.asid for core in self.board.cores
                     if core.active_mm is not None}
        for core in self.board.cores:
            if core.active_mm is not None:
                core.active_mm.asid_generation = self.generation
            core.flush_tlb()
        self.cur_idx = 1

