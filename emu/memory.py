"""The board's RAM: one host buffer, seen by every core and by the kernel.

The buffer is a private anonymous host mapping (so untouched RAM costs the
host nothing).  Private, not shared: the cores and the kernel live in one
host process, and the host's first touch of a private anonymous page is
cheaper than of a shared one, which goes through shmem (measured: 2.2-2.6
against 3.2 us of CPU per 4 KiB page).  Transparent huge pages
(MADV_HUGEPAGE) were measured too: 0.7 us a page when the host has a huge
page at hand, 5-12 us when it has to compact memory first, so they are
not asked for.  Cores see it through Unicorn's mem_map_ptr at the physical base;
the kernel reads and writes it directly through a memoryview, which costs no
call into Unicorn at all.
"""

import ctypes
import mmap
import struct

from emu.arch import PAGE_SIZE

RAM_BASE = 0x4000_0000
DEFAULT_RAM_SIZE = 512 << 20

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


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
