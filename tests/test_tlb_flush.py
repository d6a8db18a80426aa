"""TLB maintenance (kernel/mm/tlb.py): which cores are told to flush, and what.

Linux broadcasts TLBI ... IS to every core; with ASIDs only the cores that
have run the mm (mm_cpumask) can hold its entries, so only they must drop
them.  Fake cores record the calls.
"""

from kernel.mm.tlb import MAX_TLB_RANGE, TlbFlusher


class FakeCore:
    def __init__(self, index):
        self.index = index
        self.calls = []

    def flush_tlb(self):
        self.calls.append("all")

    def flush_tlb_page(self, va):
        self.calls.append(va)


class FakeBoard:
    def __init__(self, n):
        self.cores = [FakeCore(i) for i in range(n)]


class Trace:
    tlb = False


class Mm:
    def __init__(self, cpus):
        self.cpu_vm_mask = set(cpus)


def flusher(n=3):
    board = FakeBoard(n)
    return board, TlbFlusher(board, Trace())


def test_flush_tlb_mm_only_on_cores_that_ran_the_mm():
    board, tlb = flusher()
    tlb.flush_tlb_mm(Mm([0, 2]))
    assert [c.calls for c in board.cores] == [["all"], [], ["all"]]


def test_flush_tlb_range_only_on_cores_that_ran_the_mm():
    board, tlb = flusher()
    tlb.flush_tlb_range(Mm([1]), 0x1000, 0x5000)
    assert [c.calls for c in board.cores] == [[], [0x1000, 0x2000, 0x3000, 0x4000], []]


def test_flush_tlb_range_past_max_tlb_range_flushes_the_whole_tlb():
    """4.14's __flush_tlb_range(): page by page up to MAX_TLB_RANGE (1024
    pages), flush_tlb_mm() beyond."""
    board, tlb = flusher()
    tlb.flush_tlb_range(Mm([0]), 0, MAX_TLB_RANGE)
    assert len(board.cores[0].calls) == 1024 and "all" not in board.cores[0].calls
    tlb.flush_tlb_range(Mm([2]), 0, MAX_TLB_RANGE + 0x1000)
    assert board.cores[2].calls == ["all"]


def test_flush_tlb_page_flushes_that_page_on_cores_that_ran_the_mm():
    board, tlb = flusher()
    tlb.flush_tlb_page(Mm([0, 1]), 0x7000)
    assert [c.calls for c in board.cores] == [[0x7000], [0x7000], []]
    tlb.flush_tlb_page(Mm([]), 0x8000)
    assert [c.calls for c in board.cores] == [[0x7000], [0x7000], []]
