"""lib/iov_iter.c, the part the write paths need: a list of user buffers
(an iovec array, or one buffer) copied a bounded piece at a time.

Linux's generic_perform_write() copies a page at a time from the iterator
and stops at the first page that cannot be read, returning what it wrote; a
write of 2 GiB from a mapping of zero pages never holds 2 GiB anywhere.  The
board copies WRITE_CHUNK at a time the same way, so no host allocation
follows a guest-supplied length (issue 10 part 2).
"""

from emu.arch import PAGE_SIZE
from kernel.uaccess import Efault

# The most of one write the host holds at a time.
WRITE_CHUNK = 64 * PAGE_SIZE


class IovIter:
    """struct iov_iter over user memory: the (base, length) segments and
    how far the copy has come (iov_offset within the current one)."""

    def __init__(self, task, vecs):
        self.task = task
        self.vecs = [(base, length) for base, length in vecs if length]
        self.index = 0
        self.offset = 0

    def count(self):
        """iov_iter_count(): the bytes not yet copied."""
        left = sum(length for _, length in self.vecs[self.index:])
        return left - self.offset

    def advance(self, n):
        """iov_iter_advance(): skip n bytes (what an interrupted call sent)."""
        while n > 0 and self.index < len(self.vecs):
            step = min(n, self.vecs[self.index][1] - self.offset)
            self.offset += step
            n -= step
            if self.offset == self.vecs[self.index][1]:
                self.index += 1
                self.offset = 0

    def copy_from_iter(self, limit):
        """copy_from_iter(): up to limit bytes, advancing; short at the first
        page that cannot be read (nothing at all: b"")."""
        parts, got = [], 0
        while got < limit and self.index < len(self.vecs):
            base, length = self.vecs[self.index]
            addr = base + self.offset
            want = min(limit - got, length - self.offset)
            data = readable_prefix(self.task, addr, want)
            parts.append(data)
            got += len(data)
            self.offset += len(data)
            if self.offset == length:
                self.index += 1
                self.offset = 0
            if len(data) < want:
                break
        return b"".join(parts)


def readable_prefix(task, addr, length):
    """The bytes at addr up to the first page that cannot be read
    (iov_iter_fault_in_readable + copy_from_user in page steps)."""
    try:
        return task.uaccess.copy_from_user(addr, length)
    except Efault:
        pass
    parts = []
    end = addr + length
    while addr < end:
        n = min(end - addr, PAGE_SIZE - (addr & (PAGE_SIZE - 1)))
        try:
            parts.append(task.uaccess.copy_from_user(addr, n))
        except Efault:
            break
        addr += n
    return b"".join(parts)
