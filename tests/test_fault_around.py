"""Fault-around (kernel/mm/memory.py do_fault_around), in process.

Linux 4.14's do_read_fault() first lets filemap_map_pages() map every page
of the fault_around_bytes (64 KiB) block around the fault that the page
cache already holds, clipped to the VMA and to the page table, into ptes
that are none; only then does the fault read its own page.  A read fault
in a cold cache therefore maps one page (and reads ahead); the next one in
the same block maps the block.  Write faults never fault around.
"""

import pytest

from emu.arch import DESC_ADDR_MASK, PAGE_SIZE, PTE_RDONLY
from kernel.mm.filemap import READAHEAD_PAGES
from kernel.mm.memory import FAULT_AROUND_BYTES
from kernel.uapi import MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE
from test_file_faults import map_file, open_file, rss
from test_vma import B, Env

P = PAGE_SIZE
BLOCK = FAULT_AROUND_BYTES // P
NPAGES = 40
assert B % FAULT_AROUND_BYTES == 0 and READAHEAD_PAGES >= 2 * BLOCK


@pytest.fixture
def env():
    e = Env()
    e.k.tasks[e.task.pid] = e.task
    return e


@pytest.fixture
def bigfile(tmp_path):
    """NPAGES pages, page i filled with the byte i."""
    path = tmp_path / "big"
    path.write_bytes(b"".join(bytes([i]) * P for i in range(NPAGES)))
    return path


def mapped(env, start, npages):
    """Indexes of the pages of [start, start + npages pages) with a pte."""
    return [i for i in range(npages) if env.pte(start + i * P)]


def test_a_cold_read_maps_one_page_the_next_maps_its_block(env, bigfile):
    f = open_file(env, bigfile)
    map_file(env, f, B, NPAGES, PROT_READ, MAP_PRIVATE)
    assert env.read(B, 1) == b"\x00"
    assert mapped(env, B, NPAGES) == [0]            # the cache was empty
    assert rss(env) == (1, 0, 0)
    assert env.read(B + P, 1) == b"\x01"
    assert mapped(env, B, NPAGES) == list(range(BLOCK))
    assert rss(env) == (BLOCK, 0, 0)
    cache = f.mapping.pages
    for i in range(BLOCK):                          # each the cache page, read-only
        pte = env.pte(B + i * P)
        assert pte & DESC_ADDR_MASK == cache[i] and pte & PTE_RDONLY
        assert env.read(B + i * P + 7, 1) == bytes([i])
    assert env.read(B + (BLOCK + 4) * P, 1) == bytes([BLOCK + 4])
    assert mapped(env, B, NPAGES) == list(range(2 * BLOCK))
    assert rss(env) == (2 * BLOCK, 0, 0)


def test_fault_around_stays_inside_the_vma(env, bigfile):
    f = open_file(env, bigfile)
    start = B + 3 * P                               # 3 pages into a block, 4 long
    map_file(env, f, start, 4, PROT_READ, MAP_PRIVATE, pgoff=10)
    assert env.read(start, 1) == bytes([10])        # cold: reads ahead, maps one
    assert env.read(start + 2 * P, 1) == bytes([12])
    assert mapped(env, B, BLOCK) == [3, 4, 5, 6]
    assert env.pte(start + 4 * P) == 0


def test_present_ptes_are_kept_and_writes_do_not_fault_around(env, bigfile):
    f = open_file(env, bigfile)
    map_file(env, f, B, NPAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE)
    assert env.read(B, 1) == b"\x00"                # warms the cache
    env.write(B + 5 * P, b"X")                      # do_cow_fault: this page only
    assert mapped(env, B, NPAGES) == [0, 5]
    assert rss(env) == (1, 1, 0)
    assert env.read(B + P, 1) == b"\x01"            # maps the rest of the block
    assert mapped(env, B, NPAGES) == list(range(BLOCK))
    assert env.read(B + 5 * P, 2) == b"X\x05"       # the private copy stayed
    assert rss(env) == (BLOCK - 1, 1, 0)


def test_a_shared_mapping_faults_around_clean_pages_read_only(env, bigfile):
    f = open_file(env, bigfile)
    map_file(env, f, B, BLOCK, PROT_READ | PROT_WRITE, MAP_SHARED)
    env.read(B, 1)
    env.read(B + P, 1)
    assert mapped(env, B, BLOCK) == list(range(BLOCK))
    assert all(env.pte(B + i * P) & PTE_RDONLY for i in range(BLOCK))
    env.write(B + 2 * P, b"Z")                      # the first write dirties it
    assert f.mapping.dirty == {2}
    assert not env.pte(B + 2 * P) & PTE_RDONLY


def test_fault_around_stops_at_the_end_of_the_file(env, tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"s" * (2 * P + 100))          # 3 pages, the last partly
    f = open_file(env, path)
    map_file(env, f, B, BLOCK, PROT_READ, MAP_PRIVATE)
    env.read(B, 1)
    env.read(B + P, 1)
    assert mapped(env, B, BLOCK) == [0, 1, 2]
