"""mm/filemap.c: the page cache — one AddressSpace of frames per file (inode).

Every mapping of a file, private or shared, and (through the fs layer) read()
and write() meet in the same frames, as in Linux: a MAP_PRIVATE page is the
cache page mapped read-only until the first write copies it; a MAP_SHARED
page is the cache page itself.  Shared anonymous memory (shmem) is an
AddressSpace with no backing file, whose pages start zeroed.

Omits: dirty bits per page (pages mapped shared and writable are written
back whole), readahead, eviction (no memory pressure reclaim).
"""

import os

from emu.arch import PAGE_SHIFT, PAGE_SIZE


class AddressSpace:
    """struct address_space: the cached pages of one inode, by page index."""

    def __init__(self, kernel, host_fd=None, name=""):
        self.kernel = kernel
        self.host_fd = host_fd          # None for shmem
        self.name = name
        self.pages = {}                 # pgoff -> frame (the cache's own reference)
        self.writable_maps = 0          # VMAs mapping it shared and writable
        self.users = 0

    def size(self):
        """i_size: the file's length (shmem: unbounded)."""
        if self.host_fd is None:
            return 1 << 62
        return os.fstat(self.host_fd).st_size

    def find_get_page(self, pgoff):
        """find_or_create_page() + readpage: the cache frame for pgoff, with a
        reference for the caller.  Returns None past the end of the file."""
        frame = self.pages.get(pgoff)
        if frame is None:
            if pgoff << PAGE_SHIFT >= self.size():
                return None
            frame = self.kernel.pages.alloc_page()
            if self.host_fd is not None:
                data = os.pread(self.host_fd, PAGE_SIZE, pgoff << PAGE_SHIFT)
                self.kernel.memory.write(frame, data)
            self.pages[pgoff] = frame
        self.kernel.pages.get_page(frame)
        return frame

    def writeback(self, first=0, last=None):
        """filemap_write_and_wait_range(): copy cached pages [first, last] to the file."""
        if self.host_fd is None or not self.pages:
            return
        size = self.size()
        for pgoff in sorted(self.pages):
            if pgoff < first or (last is not None and pgoff > last):
                continue
            off = pgoff << PAGE_SHIFT
            if off >= size:
                continue
            data = self.kernel.memory.read(self.pages[pgoff], min(PAGE_SIZE, size - off))
            os.pwrite(self.host_fd, data, off)

    def update_from_file(self, offset, length):
        """After write(): refresh cached pages overlapping [offset, offset+length)."""
        if not self.pages or length <= 0:
            return
        for pgoff in range(offset >> PAGE_SHIFT, ((offset + length - 1) >> PAGE_SHIFT) + 1):
            frame = self.pages.get(pgoff)
            if frame is not None:
                data = os.pread(self.host_fd, PAGE_SIZE, pgoff << PAGE_SHIFT)
                self.kernel.memory.write(frame, data.ljust(PAGE_SIZE, b"\0"))

    def truncate_pages(self):
        """truncate_inode_pages(): drop every cached page (no mapping may remain)."""
        for frame in self.pages.values():
            self.kernel.pages.put_page(frame)
        self.pages.clear()
