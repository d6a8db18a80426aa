"""Faults on file mappings and the page cache behind them, in process
(kernel/mm/memory.py do_fault / do_wp_page / wp_page_copy, kernel/mm/filemap.py).

Linux 4.14 is the spec (mm/memory.c, mm/filemap.c, mm/truncate.c): a private
mapping reads the cache page and copies it on the first write; a shared one
writes the cache page itself, marked dirty, written back on msync/munmap and
write-protected again; past the end of the file is SIGBUS; rss is counted
per kind (MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES).  (tests/test_filemap.py
holds the end-to-end side.)
"""

import os

import pytest

from emu.arch import DESC_ADDR_MASK, PAGE_SIZE, PTE_RDONLY
from kernel.fs.file import File
from kernel.mm.filemap import READAHEAD_PAGES
from kernel.mm.mm import PTE_PRESENT_MASK
from kernel.mm.mmap import do_mmap, do_munmap
from kernel.uaccess import Efault
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, O_RDONLY, O_RDWR, PROT_READ,
    PROT_WRITE,
)
from test_vma import B, Env

P = PAGE_SIZE
RW = PROT_READ | PROT_WRITE


@pytest.fixture
def env():
    e = Env()
    e.k.tasks[e.task.pid] = e.task          # page_mkclean() looks for mappings by task
    return e


@pytest.fixture
def datafile(tmp_path):
    """Four pages, page i all the byte ord('a') + i."""
    path = tmp_path / "data"
    path.write_bytes(b"".join(bytes([ord("a") + i]) * P for i in range(4)))
    return path


def open_file(env, path, flags=O_RDWR):
    return File(env.k, os.open(path, flags), str(path), flags)


def map_file(env, file, addr, npages, prot, flags, pgoff=0):
    got = do_mmap(env.mm, file, addr, npages * P, prot, flags | MAP_FIXED, pgoff)
    assert got == addr
    return addr


def frame(env, addr):
    return env.pte(addr) & DESC_ADDR_MASK


def rss(env):
    mm = env.mm
    return mm.rss_file, mm.rss_anon, mm.rss_shmem


# -- private file mappings ----------------------------------------------------------------------

def test_private_read_maps_the_cache_page(env, datafile):
    f = open_file(env, datafile)
    map_file(env, f, B, 2, RW, MAP_PRIVATE, pgoff=1)
    assert env.read(B, 2) == b"bb" and env.read(B + P, 2) == b"cc"
    assert rss(env) == (2, 0, 0)
    cache = f.mapping.pages
    assert frame(env, B) == cache[1] and frame(env, B + P) == cache[2]
    assert env.pte(B) & PTE_RDONLY             # read-only until written


def test_private_write_copies_the_page(env, datafile):
    f = open_file(env, datafile)
    map_file(env, f, B, 2, RW, MAP_PRIVATE)
    env.write(B + 1, b"X")                      # first touch is a write: do_cow_fault
    assert rss(env) == (0, 1, 0)
    assert frame(env, B) != f.mapping.pages[0]
    assert env.read(B, 3) == b"aXa"
    assert not env.pte(B) & PTE_RDONLY
    # Read first, then write: the file page is replaced (wp_page_copy).
    assert env.read(B + P, 1) == b"b"
    assert rss(env) == (1, 1, 0)
    env.write(B + P, b"Y")
    assert rss(env) == (0, 2, 0)
    assert frame(env, B + P) != f.mapping.pages[1]
    assert env.read(B + P, 2) == b"Yb"
    # The cache and the file are untouched.
    assert f.mapping.read(0, 2) == b"aa" and datafile.read_bytes()[P:P + 2] == b"bb"
    assert f.mapping.dirty == set()
    # The copies are private: a second private mapping still sees the file.
    map_file(env, f, B + 8 * P, 2, PROT_READ, MAP_PRIVATE)
    assert env.read(B + 8 * P, 1) == b"a" and env.read(B + 9 * P, 1) == b"b"


def test_private_copy_drops_the_cache_reference(env, datafile):
    f = open_file(env, datafile)
    map_file(env, f, B, 1, RW, MAP_PRIVATE)
    env.read(B, 1)
    cached = f.mapping.pages[0]
    pages = env.k.pages
    before = pages.page_count(cached)
    env.write(B, b"z")
    assert pages.page_count(cached) == before - 1
    assert pages.page_mapcount(cached) == 0
    assert pages.page_mapcount(frame(env, B)) == 1


def test_fault_past_the_end_of_the_file_is_sigbus(env, tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"s" * 100)
    f = open_file(env, path)
    map_file(env, f, B, 3, RW, MAP_PRIVATE)
    assert env.read(B + 99, 2) == b"s\0"        # the rest of the last page reads zero
    with pytest.raises(Efault):
        env.read(B + P, 1)
    with pytest.raises(Efault):
        env.write(B + 2 * P, b"x")
    assert env.pte(B + P) == 0


# -- shared file mappings --------------------------------------------------------------------------

def test_shared_write_dirties_the_cache_page(env, datafile):
    f = open_file(env, datafile)
    map_file(env, f, B, 2, RW, MAP_SHARED, pgoff=2)
    assert env.read(B, 1) == b"c"
    assert env.pte(B) & PTE_RDONLY              # clean: write-protected for dirty tracking
    assert f.mapping.dirty == set()
    env.write(B + 1, b"W")
    assert f.mapping.dirty == {2}
    assert not env.pte(B) & PTE_RDONLY
    assert frame(env, B) == f.mapping.pages[2]
    assert rss(env) == (1, 0, 0)
    # First touch is a write (do_shared_fault).
    env.write(B + P, b"V")
    assert f.mapping.dirty == {2, 3}
    assert rss(env) == (2, 0, 0)
    assert datafile.read_bytes()[2 * P:2 * P + 2] == b"cc"      # not written back yet


def test_writeback_writes_dirty_pages_and_write_protects_them(env, datafile):
    f = open_file(env, datafile)
    map_file(env, f, B, 4, RW, MAP_SHARED)
    env.write(B, b"0")
    env.write(B + 2 * P, b"2")
    env.write(B + 3 * P, b"3")
    done = f.mapping.writeback()
    assert done == [0, 2, 3]
    data = datafile.read_bytes()
    assert [data[i * P:i * P + 2] for i in range(4)] == [b"0a", b"bb", b"2c", b"3d"]
    assert len(data) == 4 * P
    for i in (0, 2, 3):
        assert env.pte(B + i * P) & PTE_RDONLY, i
    assert f.mapping.dirty == set()
    assert f.mapping.writeback() == []
    # The next write is noticed again.
    env.write(B + 2 * P + 1, b"!")
    assert f.mapping.dirty == {2}


def test_writeback_of_a_range(env, datafile):
    f = open_file(env, datafile)
    map_file(env, f, B, 4, RW, MAP_SHARED)
    for i in range(4):
        env.write(B + i * P, b"%d" % i)
    assert f.mapping.writeback(1, 2) == [1, 2]
    assert f.mapping.dirty == {0, 3}
    data = datafile.read_bytes()
    assert [data[i * P:i * P + 1] for i in range(4)] == [b"a", b"1", b"2", b"d"]
    assert f.mapping.writeback(3) == [3]
    assert f.mapping.dirty == {0}


def test_writeback_does_not_extend_the_file(env, tmp_path):
    path = tmp_path / "odd"
    path.write_bytes(b"o" * (P + 10))
    f = open_file(env, path)
    map_file(env, f, B, 2, RW, MAP_SHARED)
    env.write(B + P + 5, b"X")
    env.write(B, b"Y")
    f.mapping.writeback()
    assert path.read_bytes() == b"Y" + b"o" * (P - 1) + b"ooooo" + b"X" + b"oooo"


def test_munmap_writes_back_a_shared_mapping(env, datafile):
    f = open_file(env, datafile)
    map_file(env, f, B, 2, RW, MAP_SHARED)
    env.write(B + P, b"gone")
    assert do_munmap(env.mm, B, 2 * P) == 0
    assert datafile.read_bytes()[P:P + 4] == b"gone"
    assert rss(env) == (0, 0, 0)


def test_shared_mapping_of_a_read_only_file_cannot_be_written(env, datafile):
    f = open_file(env, datafile, O_RDONLY)
    map_file(env, f, B, 1, PROT_READ, MAP_SHARED)
    assert env.read(B, 1) == b"a"
    with pytest.raises(Efault):
        env.write(B, b"x")


# -- shmem ------------------------------------------------------------------------------------

def test_shared_anonymous_memory_counts_as_shmem(env):
    env.mmap(B, 2, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    assert env.read(B, 1) == b"\0"
    assert rss(env) == (0, 0, 1)
    env.write(B + P, b"s")
    assert rss(env) == (0, 0, 2)
    mapping = env.vmas()[0].vm_file.mapping
    assert mapping.dirty == set()               # never written back: nowhere to
    assert env.munmap(B, 2 * P) == 0
    assert rss(env) == (0, 0, 0)


# -- the page cache itself -------------------------------------------------------------------------

def test_readahead_reads_the_window_a_fault_asks_for(env, tmp_path):
    """4.14's do_sync_mmap_readahead(): READAHEAD_PAGES centred on the page
    (mmap read-around), from the page on under VM_SEQ_READ, the page alone
    under VM_RAND_READ; pages already cached are not read again, and the
    window stops at the end of the file."""
    from kernel.mm.mm import VM_RAND_READ, VM_SEQ_READ
    assert READAHEAD_PAGES == 32
    path = tmp_path / "big"
    n = 64
    path.write_bytes(b"".join(bytes([i]) * P for i in range(n)))
    mapping = open_file(env, path).mapping
    fr = mapping.find_get_page(40)
    assert env.k.memory.read(fr, 1) == bytes([40])
    assert sorted(mapping.pages) == list(range(24, 56))
    mapping.find_get_page(20)                           # window 4..35: 4..23 are new
    assert sorted(mapping.pages) == list(range(4, 56))
    mapping.find_get_page(60, VM_SEQ_READ)              # 60..91, cut at 64
    mapping.find_get_page(57, VM_RAND_READ)
    assert sorted(mapping.pages) == list(range(4, 56)) + [57] + list(range(60, 64))
    mapping.find_get_page(1)                            # window 0..31
    assert sorted(mapping.pages) == list(range(56)) + [57] + list(range(60, 64))
    for i in mapping.pages:
        assert env.k.memory.read(mapping.pages[i], 1) == bytes([i]), i
    assert mapping.find_get_page(n) is None


def test_a_read_fault_reads_around_the_page(env, tmp_path):
    """The fault passes its VMA's flags (do_fault -> filemap_fault): a read
    of page 40 of a mapped file caches pages 24..55 and maps page 40 (the
    fault-around ran before, on an empty cache); the next read fault, at
    page 33, maps the cached pages of its 64 KiB block (32..47)."""
    path = tmp_path / "big"
    path.write_bytes(b"".join(bytes([i]) * P for i in range(64)))
    f = open_file(env, path)
    map_file(env, f, B, 64, PROT_READ, MAP_PRIVATE)
    assert env.read(B + 40 * P, 1) == bytes([40])
    assert sorted(f.mapping.pages) == list(range(24, 56))
    assert [i for i in range(64) if env.pte(B + i * P)] == [40]
    assert env.read(B + 33 * P, 1) == bytes([33])
    assert [i for i in range(64) if env.pte(B + i * P)] == list(range(32, 48))


def test_find_get_page_takes_a_reference(env, datafile):
    mapping = open_file(env, datafile).mapping
    fr = mapping.find_get_page(1)
    assert env.k.pages.page_count(fr) == 2              # the cache's and ours
    assert mapping.find_get_page(1) == fr
    assert env.k.pages.page_count(fr) == 3


def test_cache_size_boundaries(env, tmp_path):
    path = tmp_path / "exact"
    path.write_bytes(b"e" * (2 * P))
    mapping = open_file(env, path).mapping
    assert mapping.size() == 2 * P
    assert mapping.find_get_page(1) is not None
    assert mapping.find_get_page(2) is None
    path.write_bytes(b"e" * (2 * P + 1))
    assert mapping.find_get_page(2) is not None


def test_read_prefers_cached_pages_and_stops_at_eof(env, datafile):
    f = open_file(env, datafile)
    mapping = f.mapping
    from kernel.mm.mm import VM_RAND_READ
    map_file(env, f, B, 2, RW, MAP_SHARED, pgoff=1)
    env.vmas()[0].vm_flags |= VM_RAND_READ      # madvise(MADV_RANDOM): no read-around
    env.write(B + P - 2, b"XYZW")               # straddles file pages 1 and 2
    assert mapping.read(2 * P - 2, 4) == b"XYZW"
    assert datafile.read_bytes()[2 * P - 2:2 * P + 2] == b"bbcc"
    assert 0 not in mapping.pages
    assert mapping.read(P - 1, 2) == b"ab"      # page 0 from the file, page 1 cached
    assert mapping.read(4 * P - 1, 10) == b"d"
    assert mapping.read(4 * P, 10) == b""


def test_write_cached_updates_the_cached_pages(env, datafile):
    f = open_file(env, datafile)
    mapping = f.mapping
    map_file(env, f, B, 4, PROT_READ, MAP_SHARED)
    assert env.read(B + P, 1) == b"b" and env.read(B + 2 * P, 1) == b"c"
    # A write() of 6 bytes across pages 1 and 2 (written to the file first).
    os.pwrite(f.host_fd, b"123456", 2 * P - 3)
    mapping.write_cached(2 * P - 3, b"123456")
    assert env.read(2 * P - 3 + B, 6) == b"123456"
    assert env.read(B + 2 * P + 3, 1) == b"c"
    assert env.read(B + 3 * P, 1) == b"d"


def test_truncate_zaps_past_the_end_and_zeroes_the_tail(env, datafile):
    f = open_file(env, datafile)
    mapping = f.mapping
    map_file(env, f, B, 4, RW, MAP_SHARED)
    map_file(env, f, B + 8 * P, 4, RW, MAP_PRIVATE)
    for i in range(4):
        env.read(B + i * P, 1)
    env.write(B + 11 * P, b"private copy")
    env.write(B + 2 * P, b"dirty")
    os.truncate(datafile, P + 10)
    mapping.truncate(P + 10)
    assert sorted(mapping.pages) == [0, 1]
    assert mapping.dirty == set()
    assert env.pte(B + 2 * P) == 0 and env.pte(B + 3 * P) == 0
    assert env.pte(B + 11 * P) == 0             # private copies go too (even_cows)
    assert env.read(B + P + 8, 4) == b"bb\0\0"
    with pytest.raises(Efault):
        env.read(B + 2 * P, 1)
    with pytest.raises(Efault):
        env.read(B + 11 * P, 1)
    assert env.pte(B) & PTE_PRESENT_MASK        # page 0 stays mapped


def test_truncate_to_a_page_boundary_keeps_the_last_page_whole(env, datafile):
    f = open_file(env, datafile)
    mapping = f.mapping
    map_file(env, f, B, 2, PROT_READ, MAP_SHARED)
    env.read(B, 1)
    os.truncate(datafile, P)
    mapping.truncate(P)
    assert sorted(mapping.pages) == [0]
    assert env.read(B, P)[-2:] == b"aa"


def test_writeback_of_a_last_page_past_the_start_stops_at_eof(env, tmp_path):
    path = tmp_path / "tail"
    path.write_bytes(b"t" * (P + 10))
    f = open_file(env, path)
    map_file(env, f, B, 2, RW, MAP_SHARED)
    env.write(B + P + 1, b"Z")               # only the last, partial page is dirty
    assert f.mapping.writeback() == [1]
    assert path.read_bytes() == b"t" * (P + 1) + b"Z" + b"t" * 8


def cache_in_reverse(env, path, npages):
    """A mapping whose pages are cached last first, so that neighbouring file
    pages do not sit in neighbouring frames."""
    from kernel.mm.mm import VM_RAND_READ
    f = open_file(env, path)
    for pgoff in reversed(range(npages)):
        f.mapping.find_get_page(pgoff, VM_RAND_READ)    # one page a read
    frames = [f.mapping.pages[i] for i in range(npages)]
    assert all(frames[i] + P != frames[i + 1] for i in range(npages - 1))
    return f


def test_read_across_cached_pages_in_scattered_frames(env, tmp_path):
    path = tmp_path / "r"
    path.write_bytes(bytes(range(256)) * (3 * P // 256))
    f = cache_in_reverse(env, path, 3)
    data = path.read_bytes()
    for off, n in ((1, 3), (P - 3, 7), (2 * P - 1, P + 1), (5, 3 * P)):
        assert f.mapping.read(off, n) == data[off:off + n], (off, n)


def test_write_cached_across_scattered_frames(env, tmp_path):
    path = tmp_path / "w"
    path.write_bytes(b"." * (3 * P))
    f = cache_in_reverse(env, path, 3)
    payload = bytes(range(1, 200))
    os.pwrite(f.host_fd, payload, P - 51)
    f.mapping.write_cached(P - 51, payload)
    assert f.mapping.read(0, 3 * P) == path.read_bytes()


def test_truncate_to_an_odd_size_zeroes_from_that_byte(env, tmp_path):
    path = tmp_path / "odd"
    path.write_bytes(b"q" * (2 * P))
    f = open_file(env, path)
    map_file(env, f, B, 2, PROT_READ, MAP_SHARED)
    env.read(B, 1)
    os.truncate(path, P + 1)
    f.mapping.truncate(P + 1)
    assert sorted(f.mapping.pages) == [0, 1]
    assert env.read(B + P, 3) == b"q\0\0"
    os.truncate(path, 11)
    f.mapping.truncate(11)
    assert env.read(B + 10, 2) == b"q\0"


def test_hiwater_rss_counts_every_kind(env, datafile):
    f = open_file(env, datafile)
    map_file(env, f, B, 2, PROT_READ, MAP_PRIVATE)
    env.mmap(B + 4 * P, 3, flags=MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
    env.mmap(B + 8 * P, 1)
    env.read(B, 1)
    env.read(B + P, 1)                          # 2 file pages
    for i in range(3):
        env.write(B + (4 + i) * P, b"s")        # 3 shmem pages
    env.write(B + 8 * P, b"a")                  # 1 anonymous page
    assert rss(env) == (2, 1, 3)
    # As in 4.14, faults only add to the rss and leave the peak alone: it is
    # recorded where the rss falls (unmap_region()'s update_hiwater_rss()),
    # and VmHWM / ru_maxrss take the larger of it and the rss now.
    assert env.mm.hiwater_rss == 0
    env.munmap(B, 2 * P)
    assert env.mm.hiwater_rss == 6
    assert rss(env) == (0, 1, 3)


def test_write_to_a_private_copy_made_read_only_reuses_it(env, datafile):
    from kernel.mm.mprotect import do_mprotect_pkey
    f = open_file(env, datafile)
    map_file(env, f, B, 1, RW, MAP_PRIVATE)
    env.write(B, b"c")                          # the private copy
    copy = frame(env, B)
    assert do_mprotect_pkey(env.mm, B, P, PROT_READ) == 0
    assert do_mprotect_pkey(env.mm, B, P, RW) == 0
    assert env.pte(B) & PTE_RDONLY
    env.write(B + 1, b"d")                      # do_wp_page: ours alone, reused
    assert frame(env, B) == copy
    assert rss(env) == (0, 1, 0)
    assert f.mapping.dirty == set()
    assert env.read(B, 3) == b"cda"


def test_copy_of_a_mapped_file_page_flushes_it_on_cores_that_ran_the_mm(env, datafile):
    core = env.board.cores[0]
    flushed = []
    core.flush_tlb_page = flushed.append
    env.mm.cpu_vm_mask.add(core.index)
    f = open_file(env, datafile)
    map_file(env, f, B, 2, RW, MAP_PRIVATE)
    env.write(B, b"x")                          # not mapped before: no flush
    assert flushed == []
    env.read(B + P, 1)
    env.write(B + P, b"y")                      # replaces a present pte
    assert flushed == [B + P]


def test_shared_writable_file_pages_are_not_executable(env, datafile):
    from emu.arch import PTE_UXN
    f = open_file(env, datafile)
    map_file(env, f, B, 1, RW, MAP_SHARED)
    env.read(B, 1)
    assert env.pte(B) & PTE_UXN and env.pte(B) & PTE_RDONLY
    env.write(B, b"x")
    assert env.pte(B) & PTE_UXN and not env.pte(B) & PTE_RDONLY


def test_executable_frames_are_marked_pg_exec(env, datafile):
    from kernel.mm.page_alloc import PG_exec
    f = open_file(env, datafile)
    map_file(env, f, B, 1, PROT_READ | 4, MAP_PRIVATE)      # PROT_EXEC
    map_file(env, f, B + 4 * P, 1, RW, MAP_PRIVATE, pgoff=2)
    env.read(B, 1)
    env.read(B + 4 * P, 1)
    pages = env.k.pages
    assert pages.flags[pages.index(frame(env, B))] & PG_exec
    assert not pages.flags[pages.index(frame(env, B + 4 * P))] & PG_exec


def test_page_cache_fills_stay_inside_their_frames(env, tmp_path):
    """Readahead into recycled frames, and truncating a partial page, write
    exactly one frame each: the live page in the frame after them is intact."""
    env.mmap(B, 4)
    for i in range(4):
        env.write(B + i * P, b"%d" % i * (P // 2))
    keep = frame(env, B + 3 * P)
    env.munmap(B, 3 * P)                        # three frames back on the free list
    path = tmp_path / "ra"
    path.write_bytes(b"r" * (3 * P))
    f = open_file(env, path)
    assert f.mapping.find_get_page(0) is not None
    assert set(f.mapping.pages) == {0, 1, 2}
    assert env.read(B + 3 * P, P) == b"3" * (P // 2) + b"\0" * (P // 2)
    assert keep in {f.mapping.pages[i] + P for i in range(3)}    # a neighbour frame
    map_file(env, f, B + 8 * P, 3, PROT_READ, MAP_SHARED)
    os.truncate(path, P + 100)
    f.mapping.truncate(P + 100)
    assert env.read(B + 3 * P, P) == b"3" * (P // 2) + b"\0" * (P // 2)
    assert env.read(B + 8 * P, P) == b"r" * P                   # page 0, in a neighbour frame
    assert env.read(B + 9 * P, P) == b"r" * 100 + b"\0" * (P - 100)
