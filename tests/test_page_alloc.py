"""The frame allocator (kernel/mm/page_alloc.py): every frame can be handed
out once and no more (then OutOfMemory, Linux's -ENOMEM / OOM), freed frames
come back zeroed unless asked not to be, reference counts, and the code-cache
flush before a frame that held executable code is reused."""

import pytest

from emu.arch import PAGE_SIZE
from emu.memory import PhysicalMemory
from kernel.mm.page_alloc import PG_exec, OutOfMemory, PageAllocator

NPAGES = 8


def allocator(flush=None):
    memory = PhysicalMemory(NPAGES * PAGE_SIZE)
    return memory, PageAllocator(memory, flush)


def test_every_frame_once_then_out_of_memory():
    memory, pages = allocator()
    got = [pages.alloc_page() for _ in range(NPAGES)]
    assert sorted(got) == [memory.base + i * PAGE_SIZE for i in range(NPAGES)]
    assert pages.nr_free == 0
    with pytest.raises(OutOfMemory):
        pages.alloc_page()
    pages.put_page(got[3])
    assert pages.nr_free == 1
    assert pages.alloc_page() == got[3]
    with pytest.raises(OutOfMemory):
        pages.alloc_page()


def test_reference_counts():
    memory, pages = allocator()
    pa = pages.alloc_page()
    assert pages.page_count(pa) == 1 and pages.page_mapcount(pa) == 0
    pages.get_page(pa)
    pages.put_page(pa)
    assert pages.page_count(pa) == 1 and pages.nr_free == NPAGES - 1
    pages.put_page(pa)
    assert pages.page_count(pa) == 0 and pages.nr_free == NPAGES
    with pytest.raises(RuntimeError):
        pages.put_page(pa)


def test_recycled_frames_are_zeroed_unless_not_wanted():
    memory, pages = allocator()
    pa = pages.alloc_page()
    memory.write(pa, b"\xff" * PAGE_SIZE)
    pages.put_page(pa)
    assert pages.alloc_page() == pa
    assert memory.read(pa, PAGE_SIZE) == bytes(PAGE_SIZE)
    memory.write(pa, b"\xee" * PAGE_SIZE)
    pages.put_page(pa)
    assert pages.alloc_page(zero=False) == pa
    assert memory.read(pa, 2) == b"\xee\xee"
    assert pages.flags[pages.index(pa)] == 0


def test_code_cache_flushed_before_an_exec_frame_is_reused():
    calls = []
    memory, pages = allocator(lambda: calls.append(1))
    a, b = pages.alloc_page(), pages.alloc_page()
    pages.flags[pages.index(a)] |= PG_exec
    pages.put_page(b)
    assert pages.alloc_page() == b
    assert calls == []                      # b never held code
    pages.put_page(a)
    assert pages.alloc_page() == a
    assert calls == [1]
    assert not pages.flags[pages.index(a)] & PG_exec
    # Without a CPU emulator to tell, nothing is called.
    memory2, pages2 = allocator()
    c = pages2.alloc_page()
    pages2.flags[pages2.index(c)] |= PG_exec
    pages2.put_page(c)
    assert pages2.alloc_page() == c
