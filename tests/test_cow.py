"""Copy-on-write of anonymous memory (kernel/mm/memory.py wp_page_copy):
the copy of the zero page is a zeroed frame even when the frame is recycled,
and the cores that ran the mm drop the old translation of that page
(flush_tlb_page), as Linux 4.14's wp_page_copy does (ptep_clear_flush)."""

from emu.arch import DESC_ADDR_MASK
from test_vma import B, P, Env


def test_writing_a_zero_page_mapping_gets_a_zeroed_frame_even_if_recycled():
    env = Env()
    env.mmap(B, 4)
    for i in range(4):
        env.write(B + i * P, b"\xaa" * P)             # dirty frames ...
    assert env.munmap(B, 4 * P) == 0                  # ... back on the free list
    env.mmap(B + 8 * P, 2)
    assert env.read(B + 8 * P, 4) == b"\0" * 4        # the zero page, read-only
    assert env.pte(B + 8 * P) & DESC_ADDR_MASK == env.k.zero_page
    env.write(B + 8 * P + 5, b"w")                    # COW of the zero page
    assert env.read(B + 8 * P, P) == b"\0" * 5 + b"w" + b"\0" * (P - 6)
    env.write(B + 9 * P, b"v")                        # first touch is a write
    assert env.read(B + 9 * P, P) == b"v" + b"\0" * (P - 1)


def test_cow_flushes_the_page_on_cores_that_ran_the_mm():
    env = Env()
    core = env.board.cores[0]
    flushed = []
    core.flush_tlb_page = flushed.append
    env.mm.cpu_vm_mask.add(core.index)
    env.mmap(B, 2)
    env.read(B + P, 1)
    assert flushed == []                              # a new pte: nothing to flush
    env.write(B + P + 3, b"x")
    assert flushed == [B + P]
