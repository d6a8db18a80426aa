"""Range operations cost what the page tables hold, not what the range spans.

Issue 10 part 2: a guest asking mprotect, mremap, munmap, madvise or fork to
cover a TiB of sparse memory must not make the kernel step through 2^28
page slots.  Linux's walkers (change_pmd_range, move_page_tables,
zap_pmd_range, copy_pmd_range) skip an empty upper-level entry in one step;
PageTables.present_ptes does the same, and these tests count its table
lookups to prove it — counting, not timing, so they cannot flake.
"""

import pytest

from emu.arch import PAGE_SIZE, PTE_RDONLY
from kernel.fork import dup_mmap
from kernel.mm.madvise import do_madvise
from kernel.mm.mremap import sys_mremap
from kernel.uapi import (
    MADV_DONTNEED, MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, MREMAP_FIXED,
    MREMAP_MAYMOVE, PROT_READ, PROT_WRITE,
)
from test_vma import B, Env

P = PAGE_SIZE
TIB = 1 << 40
SPARSE = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE
# The three pages touched: the first, one in the middle, the last.
OFFSETS = (0, TIB // 2 + 5 * P, TIB - P)
# Each present page costs one lookup; each empty upper-level slot one more.
# A TiB spans 2 level-0 slots, 1024 level-1 slots: a few thousand lookups
# at most, where a page-by-page walk makes 2^28.
MAX_LOOKUPS = 4096


@pytest.fixture
def env():
    e = Env()
    assert e.mmap(B, TIB // P, flags=SPARSE) == B
    for off in OFFSETS:
        e.write(B + off, b"%x" % off)
    return e


@pytest.fixture
def lookups(env, monkeypatch):
    """Counts PageTables.pte_lookup calls."""
    pt = env.k.pgtable
    real = pt.pte_lookup
    calls = []

    def counted(mm, addr):
        calls.append(addr)
        return real(mm, addr)
    monkeypatch.setattr(pt, "pte_lookup", counted)
    return calls


def test_mprotect_of_a_tib_touches_only_present_ptes(env, lookups):
    assert env.mprotect(B, TIB, PROT_READ) == 0
    assert len(lookups) < MAX_LOOKUPS
    for off in OFFSETS:
        assert env.pte(B + off) & PTE_RDONLY, hex(off)
        assert env.read(B + off, len(b"%x" % off)) == b"%x" % off


def test_munmap_of_a_tib_touches_only_present_ptes(env, lookups):
    rss = env.mm.rss_anon
    assert env.munmap(B, TIB) == 0
    assert len(lookups) < MAX_LOOKUPS
    assert env.mm.rss_anon == rss - len(OFFSETS)


def test_madvise_dontneed_of_a_tib(env, lookups):
    assert do_madvise(env.mm, B, TIB, MADV_DONTNEED) == 0
    assert len(lookups) < MAX_LOOKUPS
    assert env.read(B + OFFSETS[1], 4) == b"\0" * 4


def test_mremap_moves_a_tib_by_its_present_ptes(env, lookups):
    dest = B + 2 * TIB
    got = sys_mremap(env.mm, B, TIB, TIB, MREMAP_MAYMOVE | MREMAP_FIXED, dest)
    assert got == dest
    assert len(lookups) < MAX_LOOKUPS
    for off in OFFSETS:
        assert env.read(dest + off, len(b"%x" % off)) == b"%x" % off
    assert env.ranges() == [(dest, dest + TIB)]


def test_fork_copies_a_tib_by_its_present_ptes(env, lookups):
    child = env.k.mm_alloc(env.task)
    dup_mmap(child, env.mm)
    assert len(lookups) < MAX_LOOKUPS
    assert child.rss_anon == len(OFFSETS)
    pt = env.k.pgtable
    for off in OFFSETS:
        assert pt.read_pte(pt.pte_offset(child, B + off)) & PTE_RDONLY, hex(off)
