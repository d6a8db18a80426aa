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


# -- faulting fresh RAM in ahead (issue 8) ---------------------------------------

def test_fresh_frames_ask_for_the_next_block_to_be_faulted_in():
    """Half-way through each block of PREFAULT_FRAMES fresh frames, the block
    after it is asked for (a program of a few MiB asks nothing); reused
    frames ask nothing."""
    from kernel.mm.page_alloc import PREFAULT_FRAMES
    memory = PhysicalMemory(4 * PREFAULT_FRAMES * PAGE_SIZE)
    pages = PageAllocator(memory)
    asked = []
    memory.prefault = lambda pa, length: asked.append((pa, length))
    half = PREFAULT_FRAMES // 2
    got = [pages.alloc_page(zero=False) for _ in range(half)]
    assert asked == []
    pages.alloc_page(zero=False)
    block = PREFAULT_FRAMES * PAGE_SIZE
    assert asked == [(memory.base + block, block)]
    for pa in got:
        pages.put_page(pa)
    for _ in range(PREFAULT_FRAMES):
        pages.alloc_page(zero=False)
    assert len(asked) == 1
    for _ in range(PREFAULT_FRAMES):
        pages.alloc_page(zero=False)
    assert asked[1:] == [(memory.base + 2 * block, block)]


def _resident_kib(address):
    """Rss of the host mapping that starts at address (/proc/self/smaps)."""
    with open("/proc/self/smaps") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if line.split("-")[0] == "%x" % address:
            for field in lines[i + 1:]:
                if field.startswith("Rss:"):
                    return int(field.split()[1])
    raise AssertionError("no mapping at %#x" % address)


def test_prefault_maps_the_range_and_changes_no_byte():
    memory = PhysicalMemory(64 * PAGE_SIZE)
    memory.write(memory.base + 5 * PAGE_SIZE + 7, b"kept")
    memory.prefault(memory.base + 4 * PAGE_SIZE, 60 * PAGE_SIZE)
    thread = memory._prefaulting
    thread.join()
    if memory._prefaulting is False:
        pytest.skip("the host has no MADV_POPULATE_WRITE (Linux < 5.14)")
    assert memory.prefaults == 1
    assert _resident_kib(memory.host_address) >= 60 * PAGE_SIZE // 1024
    assert memory.read(memory.base + 5 * PAGE_SIZE, 16) == bytes(7) + b"kept" + bytes(5)
    assert memory.read(memory.base + 63 * PAGE_SIZE, PAGE_SIZE) == bytes(PAGE_SIZE)


def test_prefault_drops_a_request_while_one_runs_and_an_old_host_is_asked_once(monkeypatch):
    import threading
    import emu.memory as memory_mod
    release = threading.Event()
    calls = []

    def slow_then_refused(address, length, advice):
        calls.append((address, length, advice))
        release.wait(10)
        return -1                       # EINVAL: a host before Linux 5.14
    monkeypatch.setattr(memory_mod, "_host_madvise", lambda: slow_then_refused)
    memory = PhysicalMemory(16 * PAGE_SIZE)
    memory.prefault(memory.base, 4 * PAGE_SIZE)
    thread = memory._prefaulting
    memory.prefault(memory.base + 4 * PAGE_SIZE, 4 * PAGE_SIZE)     # the first still runs
    release.set()
    thread.join()
    assert calls == [(memory.host_address, 4 * PAGE_SIZE, memory_mod.MADV_POPULATE_WRITE)]
    assert memory._prefaulting is False
    memory.prefault(memory.base + 8 * PAGE_SIZE, 4 * PAGE_SIZE)
    assert memory.prefaults == 1 and len(calls) == 1
    memory.prefault(memory.base + 15 * PAGE_SIZE, 4 * PAGE_SIZE)    # (clipped at the end)
    assert len(calls) == 1
