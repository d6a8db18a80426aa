"""mm/page_alloc.c: the physical frame allocator (one zone, order-0 pages only).

Every frame of the board's RAM has a reference count (struct page's
_refcount: every holder, the page cache included), a map count (_mapcount
+ 1: how many ptes map it, kept by set_pte_at and zap) and a flags byte
(struct page's flags): PG_anon, the frame is
anonymous memory rather than a file's page cache; PG_exec, it has been
mapped executable, so the CPU emulator may hold code translated from it.
Frames never handed out yet are taken from the top of a "fresh" watermark,
so start-up costs nothing; freed frames go on a LIFO free list, which keeps
recently used (host-cache-warm) frames in use.  Half-way through each
PREFAULT_FRAMES block, the watermark asks the host to fault the next block
in (PhysicalMemory.prefault()): a program that keeps taking fresh frames
then finds them faulted in already.  There is no buddy system:
the kernel never needs contiguous runs of frames.
"""

from array import array

from emu.arch import PAGE_SHIFT, PAGE_SIZE

PG_anon = 1
PG_exec = 2

# 8 MiB (measured against 2 and 32 MiB on bench_fault): the prefault of a
# block (~2 ms on another host core) takes about half the time the guest's
# ~1,000 faults of the half block before it take; no program below 4 MiB
# of RAM (hello, start-up) asks.
PREFAULT_FRAMES = 2048
_PREFAULT_AT = PREFAULT_FRAMES // 2    # the frame of a block that asks for the next


class OutOfMemory(Exception):
    """No free frame: the caller turns this into ENOMEM or an OOM kill."""


class _NoTrace:
    """The bus of an allocator no kernel has attached (tests build bare ones)."""
    kmem = False


class PageAllocator:
    """Frames of one PhysicalMemory, with reference counts."""

    def __init__(self, memory, flush_code_cache=None):
        self.memory = memory
        # Called before a PG_exec frame is reused: translated code from its
        # old contents must not run again (QEMU sees guest stores to code,
        # not the kernel's writes through the host buffer).
        self.flush_code_cache = flush_code_cache
        self.base_pfn = memory.base >> PAGE_SHIFT
        self.nr_pages = memory.size >> PAGE_SHIFT
        self._refcount = array("i", bytes(4 * self.nr_pages))
        self.mapcount = array("i", bytes(4 * self.nr_pages))
        self.flags = bytearray(self.nr_pages)
        self._free = []
        self._fresh = 0                 # frames [0, _fresh) have been handed out once
        self._view = memory.view
        self._zero_page = bytes(PAGE_SIZE)
        self.nr_free = self.nr_pages
        self.trace = _NoTrace           # the kernel's bus (kmem:mm_page_alloc/free)
        # Allocations are watched (one test on the fault path) only for
        # --stats, which wants the fewest free frames there ever were, and
        # for the kmem trace class.
        self.watched = False
        self.low_water = self.nr_pages

    def alloc_page(self, zero=True, flags=0):
        """alloc_page(GFP_HIGHUSER | __GFP_ZERO): a frame with refcount 1 and
        the page flags `flags` (PG_anon for an anonymous page: what
        page_add_new_anon_rmap sets, given here to save a second look-up on
        the fault path).

        Returns its physical address; raises OutOfMemory when none is left.
        """
        if self._free:
            idx = self._free.pop()
            if self.flags[idx] & PG_exec and self.flush_code_cache is not None:
                self.flush_code_cache()
            if zero:
                # Through the memoryview: 0.27 us a page, against 1.4 us
                # for ctypes.memset (its argument conversion).
                off = idx << PAGE_SHIFT
                self._view[off:off + PAGE_SIZE] = self._zero_page
        elif self._fresh < self.nr_pages:
            idx = self._fresh               # never used: the host gave it zeroed
            self._fresh += 1
            if idx % PREFAULT_FRAMES == _PREFAULT_AT:
                block = idx - _PREFAULT_AT + PREFAULT_FRAMES
                self.memory.prefault(self.memory.base + (block << PAGE_SHIFT),
                                     PREFAULT_FRAMES << PAGE_SHIFT)
        else:
            raise OutOfMemory()
        self._refcount[idx] = 1
        self.flags[idx] = flags
        self.nr_free -= 1
        pa = (self.base_pfn + idx) << PAGE_SHIFT
        if self.watched:
            self.watch_alloc(pa, zero)
        return pa

    def watch_alloc(self, pa, zero):
        """The low-water mark of free frames (--stats) and trace_mm_page_alloc()."""
        if self.nr_free < self.low_water:
            self.low_water = self.nr_free
        if self.trace.kmem:
            self.trace.emit("mm_page_alloc", pa=pa, zero=zero)

    def get_page(self, pa):
        """get_page(): one more reference to the frame at pa."""
        self._refcount[(pa >> PAGE_SHIFT) - self.base_pfn] += 1

    def put_page(self, pa):
        """put_page(): drop a reference; the frame is freed at zero."""
        idx = (pa >> PAGE_SHIFT) - self.base_pfn
        count = self._refcount[idx] - 1
        self._refcount[idx] = count
        if count == 0:
            self._free.append(idx)
            self.nr_free += 1
            if self.trace.kmem:
                self.trace.emit("mm_page_free", pa=pa)
        elif count < 0:
            raise RuntimeError("put_page on free frame %#x" % pa)

    def release_pages(self, frames):
        """release_pages(): put_page() on each frame of a list (the pages
        one zap cleared), in one loop."""
        refcount, base_pfn, free = self._refcount, self.base_pfn, self._free
        freed = 0
        for pa in frames:
            idx = (pa >> PAGE_SHIFT) - base_pfn
            count = refcount[idx] - 1
            refcount[idx] = count
            if count == 0:
                free.append(idx)
                freed += 1
                if self.trace.kmem:
                    self.trace.emit("mm_page_free", pa=pa)
            elif count < 0:
                raise RuntimeError("put_page on free frame %#x" % pa)
        self.nr_free += freed

    def frames_peak(self):
        """The most frames allocated at once (watched allocations only)."""
        return self.nr_pages - self.low_water

    def nr_touched(self):
        """How many frames have been handed out at least once (a high-water
        mark: freed frames are reused before fresh ones)."""
        return self._fresh

    def index(self, pa):
        """Frame number within this RAM (for the flags array)."""
        return (pa >> PAGE_SHIFT) - self.base_pfn

    def page_mapcount(self, pa):
        """page_mapcount(): how many ptes map the frame at pa."""
        return self.mapcount[(pa >> PAGE_SHIFT) - self.base_pfn]

    def page_count(self, pa):
        """page_count(): the frame's reference count."""
        return self._refcount[(pa >> PAGE_SHIFT) - self.base_pfn]
