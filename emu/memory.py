"""The board's RAM: one host buffer, seen by every core and by the kernel.

The buffer is a private anonymous host mapping (so untouched RAM costs the
host nothing).  Private, not shared: the cores and the kernel live in one
host process, and the host's first touch of a private anonymous page is
cheaper than of a shared one, which goes through shmem (measured: 2.2-2.6
against 3.2 us of CPU per 4 KiB page).  Transparent huge pages
(MADV_HUGEPAGE) were measured too: 0.7 us a page when the host has a huge
page at hand, 5-12 us when it has to compact memory first, so they are
not asked for.  The host's first touch still costs ~1.1 us a page, a
quarter of a guest's anonymous fault (issue 8), so RAM the kernel is about
to hand out is faulted in ahead, on a thread of its own (prefault()): the
board runs on one host thread and the host has other cores.
Cores see it through Unicorn's mem_map_ptr at the physical base;
the kernel reads and writes it directly through a memoryview, which costs no
call into Unicorn at all.
"""

import ctypes
import mmap
import struct
import threading

from emu.arch import PAGE_SIZE

RAM_BASE = 0x4000_0000
DEFAULT_RAM_SIZE = 512 << 20

# madvise(2) advice of Linux 5.14: fault the range in, writable, as a write
# to each page would, without writing (the bytes stay what they are).
MADV_POPULATE_WRITE = 23

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


def _host_madvise():
    """The host C library's madvise(), called through ctypes (which releases
    the GIL; mmap.madvise() does not)."""
    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    return madvise


class PhysicalMemory:
    """A range [base, base + size) of physical addresses backed by host memory."""

    def __init__(self, size=DEFAULT_RAM_SIZE, base=RAM_BASE):
        if size <= 0 or size % PAGE_SIZE or base % PAGE_SIZE:
            raise ValueError("RAM size and base must be positive multiples of %d" % PAGE_SIZE)
        self.base = base
        self.size = size
        self.end = base + size
        self._map = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
        self.view = memoryview(self._map)
        self.host_address = ctypes.addressof(ctypes.c_char.from_buffer(self._map))
        self._prefaulting = None        # the thread faulting a range in, if any
        self.prefaults = 0              # ranges faulted in ahead (tests look)

    def prefault(self, pa, length):
        """Have the host fault [pa, pa + length) in, on another thread,
        without changing a byte: the kernel's page allocator asks for the
        frames it will hand out next, so the guest's first store to one
        does not wait for the host's page fault.  A request while the last
        one still runs is dropped (those pages are touched as before), and
        a host without MADV_POPULATE_WRITE (before Linux 5.14) is not asked
        again.  ctypes lets go of the GIL for the madvise(), so the board
        runs on meanwhile."""
        if self._prefaulting is False:
            return
        if self._prefaulting is not None and self._prefaulting.is_alive():
            return
        off = pa - self.base
        length = min(length, self.size - off)
        if length <= 0:
            return
        self._prefaulting = threading.Thread(target=self._populate, args=(off, length),
                                             name="a53emu-prefault", daemon=True)
        self._prefaulting.start()
        self.prefaults += 1

    def _populate(self, off, length):
        """The prefault thread: one madvise() over the range (the thread
        holds self, so the mapping outlives the call)."""
        madvise = _host_madvise()
        if madvise(self.host_address + off, length, MADV_POPULATE_WRITE) != 0:
            self._prefaulting = False   # EINVAL (a host before 5.14) or ENOMEM: stop asking

    def read(self, pa, length):
        """Bytes at physical address pa."""
        off = pa - self.base
        return bytes(self.view[off:off + length])

    def write(self, pa, data):
        """Store data at physical address pa."""
        off = pa - self.base
        self.view[off:off + len(data)] = data

    def read_u64(self, pa):
        return _U64.unpack_from(self.view, pa - self.base)[0]

    def read_u32(self, pa):
        return _U32.unpack_from(self.view, pa - self.base)[0]

    def write_u64(self, pa, value):
        _U64.pack_into(self.view, pa - self.base, value)

    def zero(self, pa, length):
        off = pa - self.base
        self.view[off:off + length] = bytes(length)
