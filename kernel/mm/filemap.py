"""mm/filemap.c + mm/truncate.c + mm/page-writeback.c: the page cache.

One AddressSpace of frames per file (inode).  Every mapping of the file,
private or shared, and read()/write() meet in the same frames, as in Linux:
a MAP_PRIVATE page is the cache page mapped read-only until the first write
copies it; a MAP_SHARED page is the cache page itself.  Shared anonymous
memory (shmem) is an AddressSpace with no backing file, whose pages start
zeroed and are never written back.

Dirty tracking is an ARMv8.0 core's (no hardware dirty bit): a clean page
is mapped read-only even in a writable shared mapping; the first write is a
permission fault that marks it dirty and makes the pte writable.  Writeback
(msync, munmap, exit, fsync) writes only dirty pages, then write-protects
them again (page_mkclean) so the next write is seen too.

A miss reads a window of READAHEAD_PAGES (Linux's default 128 KiB
read_ahead_kb) placed as 4.14's do_sync_mmap_readahead() places it for a
fault: centred on the page (mmap read-around), from the page on under
MADV_SEQUENTIAL, the page alone under MADV_RANDOM; each run of uncached
pages in it is one host read.  Writeback coalesces runs of adjacent dirty
pages into one host write.

Omits: readahead window sizing and the mmap_miss heuristic (read-around
stops after 100 misses without a hit), eviction (no reclaim), per-page
locking.
"""

import ctypes
import errno
import fcntl
import os

from emu.arch import PAGE_SHIFT, PAGE_SIZE
from kernel.mm.memory import unmap_mapping_range, zap_mapping_pages
from kernel.mm.mm import VM_RAND_READ, VM_SEQ_READ
from kernel.mm.rmap import page_mkclean

READAHEAD_PAGES = 32

# include/uapi/linux/falloc.h
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 0x01, 0x02
_libc = ctypes.CDLL(None, use_errno=True)


def readahead_window(pgoff, vm_flags):
    """do_sync_mmap_readahead(): the pages [first, last) a fault at pgoff
    reads into the cache — the page alone under VM_RAND_READ (MADV_RANDOM),
    READAHEAD_PAGES from it under VM_SEQ_READ (page_cache_sync_readahead()),
    else READAHEAD_PAGES centred on it (mmap read-around: ra->start =
    offset - ra_pages / 2, not below 0)."""
    if vm_flags & VM_RAND_READ:
        return pgoff, pgoff + 1
    if vm_flags & VM_SEQ_READ:
        return pgoff, pgoff + READAHEAD_PAGES
    first = max(0, pgoff - READAHEAD_PAGES // 2)
    return first, first + READAHEAD_PAGES


def host_punch_hole(fd, offset, length):
    """fallocate(PUNCH_HOLE|KEEP_SIZE) on a host descriptor: 0 or -errno."""
    if _libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                       ctypes.c_long(offset), ctypes.c_long(length)) == 0:
        return 0
    return -(ctypes.get_errno() or errno.EIO)


class AddressSpace:
    """struct address_space: the cached pages of one inode, by page index."""

    def __init__(self, kernel, host_fd=None, name="", size=0):
        self.kernel = kernel
        self.host_fd = host_fd          # None for shmem and special mappings
        self.name = name
        self.memory_size = size         # i_size of a file with no host file behind it
        self.pages = {}                 # pgoff -> frame (the cache's own reference)
        self.dirty = set()              # pgoffs written through a shared mapping
        self.users = 0
        self.host_files = []            # the open Files of a host-backed inode (host_fd is one's)
        self.seals = None               # shmem_inode_info->seals; None: not shmem (memfd.py)

    def size(self):
        """i_size: the file's length."""
        if self.host_fd is None:
            return self.memory_size
        return os.fstat(self.host_fd).st_size

    def find_get_page(self, pgoff, vm_flags=0):
        """find_or_create_page() + readpage: the cache frame for pgoff, with a
        reference for the caller; a miss reads the window that the faulting
        VMA's flags choose (readahead_window()).  Returns None past the end
        of the file."""
        frame = self.pages.get(pgoff)
        if frame is None:
            size = self.size()
            if pgoff << PAGE_SHIFT >= size:
                return None
            if self.host_fd is None:
                frame = self.pages[pgoff] = self.kernel.pages.alloc_page()
            else:
                self._read_pages(*readahead_window(pgoff, vm_flags), size)
                frame = self.pages[pgoff]
        self.kernel.pages.get_page(frame)
        return frame

    def _read_pages(self, first, last, size):
        """__do_page_cache_readahead(): read the uncached pages of [first,
        last), cut at the end of the file, each run of them in one host
        read.  Frames are zeroed, so a short read leaves the tail of the
        last page zero, as past EOF must read."""
        last = min(last, (size + PAGE_SIZE - 1) >> PAGE_SHIFT)
        memory = self.kernel.memory
        pgoff = first
        while pgoff < last:
            if pgoff in self.pages:
                pgoff += 1
                continue
            count = 1
            while pgoff + count < last and pgoff + count not in self.pages:
                count += 1
            data = os.pread(self.host_fd, count << PAGE_SHIFT, pgoff << PAGE_SHIFT)
            for i in range(count):
                frame = self.kernel.pages.alloc_page()
                memory.write(frame, data[i << PAGE_SHIFT:(i + 1) << PAGE_SHIFT])
                self.pages[pgoff + i] = frame
            pgoff += count

    def set_page_dirty(self, pgoff):
        """set_page_dirty(): the page differs from the file now."""
        if self.host_fd is not None:
            self.dirty.add(pgoff)

    def writeback(self, first=0, last=None):
        """filemap_write_and_wait_range() + page_mkclean(): write the dirty
        pages with pgoff in [first, last] to the file and write-protect every
        pte mapping them.  Returns the pgoffs written."""
        if not self.dirty:
            return []
        size = self.size()
        done = sorted(p for p in self.dirty if p >= first and (last is None or p <= last))
        memory = self.kernel.memory
        run = []
        fd = None
        for i, pgoff in enumerate(done):
            self.dirty.discard(pgoff)
            if pgoff << PAGE_SHIFT < size:
                run.append(memory.read(self.pages[pgoff], PAGE_SIZE))
            if run and (i + 1 == len(done) or done[i + 1] != pgoff + 1
                        or done[i + 1] << PAGE_SHIFT >= size):
                start = (pgoff - len(run) + 1) << PAGE_SHIFT
                if fd is None:
                    fd = _pwrite_fd(self.host_fd)
                os.pwrite(fd, b"".join(run)[:size - start], start)
                run = []
        if fd is not None and fd != self.host_fd:
            os.close(fd)
        if done:
            page_mkclean(self.kernel, self, done)
            trace = self.kernel.trace
            if trace.vma:  # pragma: no mutate block (tracing only)
                trace.emit("writeback", mapping=self, pgoffs=done)
        return done

    def read(self, offset, count):
        """Bytes [offset, offset+count) of the file as the cache sees them:
        cached pages (which may be newer than the file) and the file
        elsewhere, never past i_size."""
        end = min(offset + count, self.size())
        out = []
        pos = offset
        while pos < end:
            pgoff = pos >> PAGE_SHIFT
            n = min(end, (pgoff + 1) << PAGE_SHIFT) - pos
            frame = self.pages.get(pgoff)
            if frame is not None:
                out.append(self.kernel.memory.read(frame + (pos & (PAGE_SIZE - 1)), n))
            else:
                out.append(os.pread(self.host_fd, n, pos))
            pos += n
        return b"".join(out)

    def write_cached(self, offset, data):
        """After write() has put data in the file at offset: copy it into the
        cached pages it covers too, so mappings see it.  (Linux writes into
        the page-cache page itself; a cached page may hold stores through a
        shared mapping not yet written back, which a re-read would lose.)"""
        if not self.pages:
            return                      # nothing cached: nothing to keep in step
        memory = self.kernel.memory
        pos, end = offset, offset + len(data)
        while pos < end and self.pages:
            pgoff = pos >> PAGE_SHIFT
            n = min(end, (pgoff + 1) << PAGE_SHIFT) - pos
            frame = self.pages.get(pgoff)
            if frame is not None:
                memory.write(frame + (pos & (PAGE_SIZE - 1)), data[pos - offset:pos - offset + n])
            pos += n

    def truncate(self, new_size):
        """truncate_pagecache(): the file is now new_size bytes.  Pages wholly
        past the end are unmapped from every VMA (even private copies, as
        Linux's even_cows) and dropped; the tail of the last page is zeroed.
        A later access past the end finds no page: SIGBUS."""
        first_gone = (new_size + PAGE_SIZE - 1) >> PAGE_SHIFT
        unmap_mapping_range(self.kernel, self, first_gone)
        for pgoff in [p for p in self.pages if p >= first_gone]:
            self.dirty.discard(pgoff)
            self.kernel.pages.put_page(self.pages.pop(pgoff))
        partial = new_size & (PAGE_SIZE - 1)
        frame = self.pages.get(new_size >> PAGE_SHIFT)
        if partial and frame is not None:
            self.kernel.memory.zero(frame + partial, PAGE_SIZE - partial)

    def punch_hole(self, first, last):
        """shmem_fallocate(FALLOC_FL_PUNCH_HOLE) / a file system's punch hole
        for whole pages [first, last]: every pte mapping them from the cache
        is zapped (privately copied pages stay: unmap_mapping_range() with
        even_cows=0), the pages are dropped without writeback, and a host
        file gets the hole too.  Returns 0 or a negative errno (the host's
        file system cannot punch holes: -EOPNOTSUPP)."""
        if self.host_fd is not None:
            err = host_punch_hole(self.host_fd, first << PAGE_SHIFT,
                                  (last - first + 1) << PAGE_SHIFT)
            if err:
                return err
        for pgoff in range(first, last + 1):
            self.dirty.discard(pgoff)
        zap_mapping_pages(self.kernel, self, first, last)
        for pgoff in [p for p in self.pages if first <= p <= last]:
            self.kernel.pages.put_page(self.pages.pop(pgoff))
        return 0

    def truncate_pages(self):
        """truncate_inode_pages(): drop every cached page (no mapping may remain)."""
        for frame in self.pages.values():
            self.kernel.pages.put_page(frame)
        self.pages.clear()
        self.dirty.clear()


def _pwrite_fd(fd):
    """A host descriptor that writes where pwrite() says: fd itself, or a
    fresh one of the same file when fd cannot write or appends (on Linux a
    pwrite() to an O_APPEND descriptor goes to the end: pwrite(2), BUGS)."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    if flags & os.O_APPEND or flags & os.O_ACCMODE == os.O_RDONLY:
        return os.open("/proc/self/fd/%d" % fd, os.O_WRONLY | os.O_CLOEXEC)
    return fd


def _host_fd_of(files):
    """The descriptor the page cache reads and writes through: an open File
    that can both read and write if there is one, else one that reads.  The
    cache borrows it, so a guest open costs one host descriptor, not two."""
    if not files:
        return None
    return max(files, key=lambda f: (f.readable, f.writable)).host_fd


def filemap_get_mapping(kernel, file):
    """The AddressSpace of file's inode (inode->i_mapping), shared by every
    open of the file: found by the host's (st_dev, st_ino), made on first
    use.  It owns no host descriptor: it reads and writes through the best
    of its open files' (_host_fd_of)."""
    st = os.fstat(file.host_fd)
    key = (st.st_dev, st.st_ino)
    mapping = kernel.page_cache.get(key)
    if mapping is None:
        mapping = AddressSpace(kernel, file.host_fd, file.path)
        mapping.key = key
        kernel.page_cache[key] = mapping
    mapping.users += 1
    mapping.host_files.append(file)
    mapping.host_fd = _host_fd_of(mapping.host_files)
    return mapping


def filemap_put_mapping(kernel, file):
    """An open file of the inode is going, its host descriptor still open.
    If the cache was using that descriptor, dirty pages are written back
    through it now and the cache moves to another open file's; the last one
    gone (iput()) drops the cache."""
    mapping = file.mapping
    mapping.users -= 1
    if file in mapping.host_files:
        mapping.host_files.remove(file)
    if mapping.users == 0 or file.host_fd == mapping.host_fd:
        mapping.writeback()
    if mapping.users == 0:
        mapping.truncate_pages()
        if mapping.host_fd is not None:
            del kernel.page_cache[mapping.key]
    elif mapping.host_fd is not None and file.host_fd == mapping.host_fd:
        mapping.host_fd = _host_fd_of(mapping.host_files)
