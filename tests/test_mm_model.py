"""Model-based tests of the mm: random mmap/munmap/mprotect/brk/read/write
sequences checked against a brute-force page-level model.

The model is a dict page -> (prot, shared, contents) plus the program break.
It knows nothing of VMAs: it predicts, from Linux 4.14's rules, which pages
are mapped with which protection, what every syscall returns (including the
errno cases that follow with certainty from mm/mmap.c and mm/mprotect.c),
where a non-MAP_FIXED mapping lands (the highest free range below
mmap_base, or the hint if free), and what every byte reads back.

After every step the kernel must agree with the model, and the mm must pass
check_mm() (sorted non-overlapping list == in-order rbtree, rb_subtree_gap,
map_count, highest_vm_end, vm_stat counters).  Also checked after every step:
  * no present pte outside the VMAs (munmap zapped everything it should);
  * rss equals the present, non-zero-page ptes;
  * a private anonymous VMA has vm_pgoff == vm_start >> PAGE_SHIFT;
  * no two adjacent VMAs that Linux would certainly have merged: same
    vm_flags (VM_ACCOUNT included: a once-writable private mapping keeps it
    after mprotect), same file, contiguous pgoff and compatible anon_vmas.
    Linux does not merge across different anon_vmas, and nothing here
    models anon_vma identity, so over-merging is not detected;
and at the end, after unmapping everything, that every frame came back.
"""

import errno

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from emu.arch import PAGE_SHIFT, PAGE_SIZE
from kernel.mm.mm import PTE_PRESENT_MASK, PTE_SPECIAL, VM_SHARED
from kernel.mm.mmap import MMAP_MIN_ADDR, sys_brk
from kernel.uaccess import Efault
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, PROT_EXEC,
    PROT_READ, PROT_SEM, PROT_WRITE,
)

from test_vma import Env, check_mm

P = PAGE_SIZE
WIN = 0x10000000                    # the window the fixed/hinted operations aim at
NWIN = 64                           # pages in it
HEAP = WIN + 40 * P                 # start_brk, inside the window so brk meets mmaps
END_DATA = HEAP - 0x300
START_DATA = WIN + 36 * P
RWX = PROT_READ | PROT_WRITE | PROT_EXEC


class Page:
    __slots__ = ("prot", "shared", "data")

    def __init__(self, prot, shared):
        self.prot = prot
        self.shared = shared
        self.data = None            # None: never written, reads as zeroes


class Model:
    """What Linux would hold: pages, their protection and contents, the break."""

    def __init__(self, mmap_base, task_size):
        self.pages = {}
        self.ever = set()           # every page ever mapped (to look for stale ptes)
        self.brk = HEAP
        self.mmap_base = mmap_base
        self.task_size = task_size

    def map(self, addr, npages, prot, shared):
        for i in range(npages):
            page = addr + i * P
            self.pages[page] = Page(prot, shared)
            self.ever.add(page)

    def unmap(self, start, end):
        for page in [page for page in self.pages if start <= page < end]:
            del self.pages[page]

    def is_free(self, addr, length):
        return all(page not in self.pages for page in range(addr, addr + length, P))

    def topdown(self, length):
        """unmapped_area_topdown() over [max(PAGE_SIZE, mmap_min_addr), mmap_base):
        the highest free range of `length` bytes."""
        cand = self.mmap_base - length
        for page in sorted(self.pages, reverse=True):
            if page >= cand + length:
                continue
            if page + P <= cand:
                break
            cand = page - length
        assert cand >= max(P, MMAP_MIN_ADDR)
        return cand

    # -- the syscalls, as Linux 4.14 answers them ---------------------------------

    def mmap(self, mode, addr, npages, prot, shared):
        length = npages * P
        if mode == "noreplace" and not self.is_free(addr, length):
            return -errno.EEXIST
        if mode in ("fixed", "noreplace"):
            where = addr
        elif (mode == "hint" and addr >= MMAP_MIN_ADDR and addr + length <= self.task_size
              and self.is_free(addr, length)):
            where = addr
        else:
            where = self.topdown(length)
        self.unmap(where, where + length)
        self.map(where, npages, prot, shared)
        return where

    def munmap(self, start, length):
        if start % P or length == 0:
            return -errno.EINVAL
        end = start + ((length + P - 1) & -P)
        self.unmap(start, end)
        return 0

    def mprotect(self, start, length, prot):
        if start % P:
            return -errno.EINVAL
        if length == 0:
            return 0
        if prot & ~(RWX | PROT_SEM):
            return -errno.EINVAL
        end = start + ((length + P - 1) & -P)
        # VMA by VMA up to the first hole: what precedes the hole is changed.
        page = start
        while page < end:
            if page not in self.pages:
                return -errno.ENOMEM
            self.pages[page].prot = prot & RWX
            page += P
        return 0

    def sys_brk(self, brk):
        if brk < END_DATA:
            return self.brk
        newbrk = (brk + P - 1) & -P
        oldbrk = (self.brk + P - 1) & -P
        if newbrk != oldbrk:
            if brk <= self.brk:
                self.unmap(newbrk, oldbrk)
            else:
                above = [page for page in self.pages if page >= oldbrk]
                if above and newbrk + P > min(above):
                    return self.brk
                self.map(oldbrk, (newbrk - oldbrk) >> PAGE_SHIFT, PROT_READ | PROT_WRITE, False)
        self.brk = brk
        return brk

    def writable(self, page):
        pg = self.pages.get(page)
        return pg is not None and pg.prot & PROT_WRITE

    def readable(self, page):
        # arm64 (4.14): a read needs VM_READ or VM_WRITE; exec-only is not readable.
        pg = self.pages.get(page)
        return pg is not None and pg.prot & (PROT_READ | PROT_WRITE)

    def contents(self, page):
        data = self.pages[page].data
        return bytes(P) if data is None else bytes(data)


# -- comparing kernel and model ------------------------------------------------------------


def verify(env, model):
    mm = env.mm
    vmas = check_mm(mm)
    # Pages and their protection.
    layout = {}
    for v in vmas:
        for page in range(v.vm_start, v.vm_end, P):
            layout[page] = (v.vm_flags & RWX, bool(v.vm_flags & VM_SHARED))
    want = {page: (pg.prot, pg.shared) for page, pg in model.pages.items()}
    if layout != want:
        diff = sorted(set(layout.items()) ^ set(want.items()))
        raise AssertionError("layout differs from the model (kernel ^ model): %s\nVMAs: %r" % (
            ["%#x:%r" % d for d in diff[:12]], vmas))
    for a, b in zip(vmas, vmas[1:]):
        if a.vm_file is None and not a.vm_flags & VM_SHARED:
            assert a.vm_pgoff == a.vm_start >> PAGE_SHIFT, "anonymous %r has a stray pgoff" % a
        # Identical flags, same file, contiguous pgoff and no anon_vma on
        # either: every path that makes two such VMAs adjacent runs
        # vma_merge(), which merges them.  Not so with anon_vmas: with one
        # unset the answer depends on which side is merged into which
        # (is_mergeable_anon_vma() wants the VMA merged into to be chained to
        # exactly one anon_vma), and a first write fault then gives the
        # unset side its neighbour's anon_vma (find_mergeable_anon_vma())
        # without merging: the two then share one and stay apart, in 4.14 too
        # (the last regression below).
        if (a.vm_end == b.vm_start and a.vm_flags == b.vm_flags and a.vm_file is b.vm_file
                and a.anon_vma is None and b.anon_vma is None
                and b.vm_pgoff == a.vm_pgoff + ((a.vm_end - a.vm_start) >> PAGE_SHIFT)):
            raise AssertionError("%r and %r were left unmerged" % (a, b))
    # Contents (through the ptes, whatever the protection) and rss.
    present = 0
    for page, pg in model.pages.items():
        pte = env.pte(page)
        if pte & PTE_PRESENT_MASK:
            if not pte & PTE_SPECIAL:
                present += 1
            got = env.peek_page(page)
            assert got == model.contents(page), "contents of page %#x differ" % page
        else:
            assert pg.data is None, "page %#x lost its pte and its data" % page
    assert mm.get_mm_rss() == present, "rss %d, present ptes %d" % (mm.get_mm_rss(), present)
    for page in model.ever.difference(model.pages):
        assert not env.pte(page) & PTE_PRESENT_MASK, "stale pte at unmapped %#x" % page


# -- operations ------------------------------------------------------------------------------

PROTS = st.sampled_from([0, PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE, PROT_EXEC,
                         PROT_READ | PROT_EXEC, PROT_WRITE | PROT_EXEC, RWX])
NPAGES = st.integers(1, 8)
SEED = st.integers(0, 1 << 16)


def sequences(first, last):
    """Lists of operations aimed at window pages [first, last] (page indexes)."""
    idx = st.integers(first, last)
    mmap = st.tuples(st.just("mmap"),
                     st.sampled_from(["fixed", "fixed", "noreplace", "hint", "none"]),
                     idx, NPAGES, PROTS, st.booleans())
    munmap = st.tuples(st.just("munmap"), idx, NPAGES,
                       st.sampled_from(["ok", "ok", "short", "unaligned", "zero"]))
    munmap_any = st.tuples(st.just("munmap_any"), SEED, NPAGES)
    mprotect = st.tuples(st.just("mprotect"), idx, NPAGES, PROTS,
                         st.sampled_from(["ok", "ok", "ok", "unaligned", "zero", "badprot"]))
    mprotect_any = st.tuples(st.just("mprotect_any"), SEED, NPAGES, PROTS)
    brk = st.tuples(st.just("brk"), st.integers(-3 * P, 16 * P))
    write = st.tuples(st.just("write"), st.booleans(), SEED, st.integers(0, P - 16),
                      st.binary(min_size=1, max_size=16))
    read = st.tuples(st.just("read"), st.booleans(), SEED, st.integers(0, P - 16),
                     st.integers(1, 16))
    # Weighted towards creating mappings, so that sequences build up many VMAs.
    ops = st.sampled_from([mmap, mmap, mmap, mmap, munmap, munmap_any, mprotect, mprotect,
                           mprotect_any, brk, write, write, write, read, read])
    return st.lists(ops.flatmap(lambda s: s), min_size=12, max_size=40)


# The whole 64-page window; and a dense 20-page stretch around the heap,
# where mappings, the break and each other collide all the time.
SEQUENCES = sequences(0, NWIN - 1)
DENSE = sequences(34, 53)


def pick_page(model, anywhere, seed):
    """A mapped page (any of them) or a window page (mapped or not)."""
    if anywhere and model.pages:
        pages = sorted(model.pages)
        return pages[seed % len(pages)]
    return WIN + (seed % NWIN) * P


def step(env, model, op):
    kind = op[0]
    mm = env.mm
    if kind == "mmap":
        _, mode, idx, npages, prot, shared = op
        addr = WIN + idx * P
        flags = (MAP_SHARED if shared else MAP_PRIVATE) | MAP_ANONYMOUS
        if mode == "fixed":
            flags |= MAP_FIXED
        elif mode == "noreplace":
            flags |= MAP_FIXED_NOREPLACE
        elif mode == "none":
            addr = 0
        got = env.mmap(addr, npages, prot, flags)
        want = model.mmap(mode, addr, npages, prot, shared)
        assert got == want, "mmap%r returned %#x, Linux %#x" % (op, got, want)
    elif kind in ("munmap", "munmap_any"):
        if kind == "munmap":
            _, idx, npages, variant = op
            start, length = WIN + idx * P, npages * P
            if variant == "short":
                length -= P // 2 + idx          # rounded up by PAGE_ALIGN
            elif variant == "unaligned":
                start += 8 + idx
            elif variant == "zero":
                length = 0
        else:
            _, seed, npages = op
            start, length = pick_page(model, True, seed), npages * P
        got = env.munmap(start, length)
        want = model.munmap(start, length)
        assert got == want, "munmap(%#x, %#x) returned %d, Linux %d" % (start, length, got, want)
    elif kind in ("mprotect", "mprotect_any"):
        if kind == "mprotect":
            _, idx, npages, prot, variant = op
            start, length = WIN + idx * P, npages * P
            if variant == "unaligned":
                start += 16
            elif variant == "zero":
                length = 0
            elif variant == "badprot":
                prot |= 0x10
        else:
            _, seed, npages, prot = op
            start, length = pick_page(model, True, seed), npages * P - 100
        got = env.mprotect(start, length, prot)
        want = model.mprotect(start, length, prot)
        assert got == want, "mprotect(%#x, %#x, %#x) returned %d, Linux %d" % (
            start, length, prot, got, want)
    elif kind == "brk":
        brk = HEAP + op[1]
        got = sys_brk(mm, brk)
        want = model.sys_brk(brk)
        assert got == want, "brk(%#x) returned %#x, Linux %#x" % (brk, got, want)
        assert mm.brk == model.brk
    elif kind == "write":
        _, anywhere, seed, offset, data = op
        page = pick_page(model, anywhere, seed)
        if model.writable(page):
            env.write(page + offset, data)
            pg = model.pages[page]
            if pg.data is None:
                pg.data = bytearray(P)
            pg.data[offset:offset + len(data)] = data
        else:
            with pytest.raises(Efault):
                env.write(page + offset, data)
    elif kind == "read":
        _, anywhere, seed, offset, length = op
        page = pick_page(model, anywhere, seed)
        if model.readable(page):
            assert env.read(page + offset, length) == \
                model.contents(page)[offset:offset + length], "read at %#x" % (page + offset)
        else:
            with pytest.raises(Efault):
                env.read(page + offset, length)
    else:
        raise AssertionError(kind)


def new_env():
    env = Env()
    mm = env.mm
    mm.start_data = START_DATA
    mm.end_data = END_DATA
    mm.start_brk = mm.brk = HEAP
    return env


def run_sequence(ops):
    env = new_env()
    mm = env.mm
    free0 = env.k.pages.nr_free
    model = Model(mm.mmap_base, mm.task_size)
    verify(env, model)
    for op in ops:
        step(env, model, op)
        verify(env, model)
    # Tear everything down: every frame (data, page tables, shmem cache) returns.
    assert env.munmap(0, mm.task_size) == 0
    model.unmap(0, mm.task_size)
    verify(env, model)
    assert mm.map_count == 0 and mm.mmap is None
    assert (mm.total_vm, mm.data_vm, mm.exec_vm, mm.stack_vm) == (0, 0, 0, 0)
    assert mm.get_mm_rss() == 0
    assert mm.nr_ptes == 0
    assert env.k.pages.nr_free == free0, "%d frames leaked" % (free0 - env.k.pages.nr_free)


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SEQUENCES)
def test_mm_matches_page_model(ops):
    run_sequence(ops)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DENSE)
def test_mm_matches_page_model_dense(ops):
    run_sequence(ops)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(SEQUENCES, DENSE))
def test_mm_matches_page_model_long(ops):
    run_sequence(ops)


# Regressions: sequences worth keeping regardless of what hypothesis draws.

@pytest.mark.parametrize("ops", [
    # Split a shared mapping by MAP_FIXED, touch the rest, unmap: no leak.
    [("mmap", "fixed", 0, 4, PROT_READ | PROT_WRITE, True),
     ("mmap", "fixed", 1, 1, PROT_READ, False),
     ("write", False, 3, 0, b"abc"),
     ("mprotect", 2, 2, PROT_READ, "ok"),
     ("read", False, 3, 0, 3)],
    # brk grows into, and shrinks over, a MAP_FIXED mapping in the heap.
    [("brk", 6 * P), ("write", False, 41, 7, b"heap"),
     ("mmap", "fixed", 44, 1, PROT_READ, False),
     ("brk", 10 * P), ("brk", P + 1), ("read", False, 40, 0, 16), ("brk", 12 * P),
     ("read", False, 41, 7, 4)],
    # Data survives split/merge by mprotect, is gone after munmap + remap.
    [("mmap", "fixed", 0, 6, PROT_READ | PROT_WRITE, False),
     ("write", False, 2, 100, b"keep"), ("mprotect", 1, 3, PROT_READ, "ok"),
     ("mprotect", 2, 1, 0, "ok"), ("mprotect", 0, 6, PROT_READ | PROT_WRITE, "ok"),
     ("read", False, 2, 100, 4), ("munmap", 2, 1, "ok"),
     ("mmap", "hint", 2, 1, PROT_READ | PROT_WRITE, False), ("read", False, 2, 100, 4)],
    # Top-down placement around holes near mmap_base.
    [("mmap", "none", 0, 3, PROT_READ, False), ("mmap", "none", 0, 2, PROT_WRITE, True),
     ("munmap_any", 3, 1), ("mmap", "none", 0, 1, PROT_EXEC, False),
     ("mmap", "none", 0, 2, PROT_READ, False), ("mprotect_any", 1, 8, 0)],
    # mprotect makes a VMA without anon_vma (PROT_NONE, never written) and
    # a written one alike; the first is processed first, when the second
    # still differs, and the second cannot merge back into it (its empty
    # anon_vma_chain is not singular); a write then lends it the second's
    # anon_vma.  Two VMAs, one anon_vma: as in 4.14.
    [("mmap", "fixed", 0, 1, 0, False), ("mmap", "fixed", 0, 1, 0, False),
     ("munmap", 0, 1, "ok"), ("mmap", "fixed", 0, 1, 0, False),
     ("mmap", "fixed", 33, 3, 3, False), ("munmap", 0, 1, "ok"), ("munmap", 1, 1, "ok"),
     ("write", False, 0, 0, b"\0"), ("write", True, 0, 0, b"\0")]
    + [("mmap", "fixed", 0, 1, 0, False)] * 6
    + [("mmap", "fixed", 30, 3, 0, False), ("munmap", 29, 3, "ok"),
       ("write", False, 0, 0, b"\0"), ("mmap", "fixed", 1, 1, 0, False),
       ("mprotect_any", 890, 4, 6), ("write", True, 2, 0, b"\0")],
])
def test_model_regressions(ops):
    run_sequence(ops)
