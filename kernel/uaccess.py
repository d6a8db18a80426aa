"""arch/arm64/include/asm/uaccess.h: the kernel touching user memory.

Linux's copy_from_user() is a load through the MMU with an exception-table
fixup: a missing page is faulted in exactly as a user access would be, and
an access no VMA allows returns -EFAULT instead of oopsing.  We translate
with the board's walker (the same hardware the user's loads go through),
fault in through do_page_fault(), and raise Efault where Linux's fixup
would return -EFAULT.
"""

from emu.arch import EC_DABT_LOW, ESR_EC_SHIFT, ESR_WNR, PAGE_SIZE, PTE_AF, PTE_RDONLY, PTE_USER
from kernel.mm.fault import VM_FAULT_OOM, do_page_fault
from kernel.mm.mm import VM_WRITE
from kernel.mm.mmap import find_vma


class Efault(Exception):
    """A user pointer into nowhere: the syscall returns -EFAULT."""


class EfaultOom(Efault):
    """A user access that found no free frame (VM_FAULT_OOM): the OOM
    killer has run, unless the mm is still being built by exec."""


_ESR_READ = EC_DABT_LOW << ESR_EC_SHIFT
_ESR_WRITE = _ESR_READ | ESR_WNR


class UserMemory:
    """copy_{from,to}_user for one address space (a task's mm)."""

    def __init__(self, kernel, mm):
        self.kernel = kernel
        self.mm = mm
        self.mmu = kernel.board.mmu
        self.memory = kernel.memory

    def _translate(self, addr, write):
        """Physical address of user addr, faulting the page in; raises Efault."""
        mm = self.mm
        for _ in range(3):
            level, desc, _ = self.mmu.walk(mm.pgd, addr)
            if desc and desc & PTE_AF and desc & PTE_USER and not (write and desc & PTE_RDONLY):
                return self.mmu.output_address(level, desc, addr) | (addr & (PAGE_SIZE - 1))
            fault, _ = do_page_fault(mm, addr, _ESR_WRITE if write else _ESR_READ)
            if fault == VM_FAULT_OOM:
                # The loader's own mm has no process running in it yet:
                # exec reports the OOM itself (binfmt_elf.past_no_return_oom).
                if not mm.exec_loading:
                    self.kernel.oom_kill(mm)
                raise EfaultOom()
            if fault:
                raise Efault()
        raise Efault()

    def _chunks(self, addr, length, write):
        if addr < 0 or addr + length > self.mm.task_size:
            raise Efault()
        while length > 0:
            n = min(length, PAGE_SIZE - (addr & (PAGE_SIZE - 1)))
            yield self._translate(addr, write), n
            addr += n
            length -= n

    def copy_from_user(self, addr, length):
        """Bytes at user addr; raises Efault."""
        if length <= 0:
            return b""
        view, base = self.memory.view, self.memory.base
        parts = [bytes(view[pa - base:pa - base + n]) for pa, n in self._chunks(addr, length, False)]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def copy_to_user(self, addr, data):
        """Store data at user addr; raises Efault (part may be written, as in Linux)."""
        view, base = self.memory.view, self.memory.base
        off = 0
        for pa, n in self._chunks(addr, len(data), True):
            view[pa - base:pa - base + n] = data[off:off + n]
            off += n

    def writable_prefix(self, addr, length):
        """How many bytes from addr on lie in writable VMAs, up to length."""
        end = addr + length
        if addr >= self.mm.task_size:
            return 0
        pos = addr
        while pos < end:
            vma = find_vma(self.mm, pos)
            if vma is None or vma.vm_start > pos or not vma.vm_flags & VM_WRITE:
                break
            pos = vma.vm_end
        return min(pos, end) - addr

    def clear_user(self, addr, length):
        self.copy_to_user(addr, bytes(length))

    def strncpy_from_user(self, addr, limit=4096):
        """The NUL-terminated string at addr (without the NUL); Efault on a bad
        pointer, ENAMETOOLONG-worthy strings come back `limit` bytes long."""
        out = bytearray()
        view, base = self.memory.view, self.memory.base
        while len(out) < limit:
            n = min(limit - len(out), PAGE_SIZE - (addr & (PAGE_SIZE - 1)))
            pa = self._translate(addr, False)
            chunk = bytes(view[pa - base:pa - base + n])
            nul = chunk.find(b"\0")
            if nul >= 0:
                out += chunk[:nul]
                return bytes(out)
            out += chunk
            addr += n
        return bytes(out)

    def peek(self, addr, length):
        """Bytes at addr if resident, else None — never faults (for tracers)."""
        out = bytearray()
        view, base = self.memory.view, self.memory.base
        while length > 0:
            level, desc, _ = self.mmu.walk(self.mm.pgd, addr)
            if not desc or not desc & PTE_USER:
                return None
            pa = self.mmu.output_address(level, desc, addr) | (addr & (PAGE_SIZE - 1))
            n = min(length, PAGE_SIZE - (addr & (PAGE_SIZE - 1)))
            out += view[pa - base:pa - base + n]
            addr += n
            length -= n
        return bytes(out)

    def peek_string(self, addr, limit=256):
        """The string at addr if resident, else None; cut at limit, or where
        the next page is not resident (a tracer may not fault pages in)."""
        out = b""
        while len(out) < limit:
            data = self.peek(addr, min(limit - len(out), PAGE_SIZE - (addr & (PAGE_SIZE - 1))))
            if data is None:
                return out if out else None
            nul = data.find(b"\0")
            if nul >= 0:
                return out + data[:nul]
            out += data
            addr += len(data)
        return out


def s32(value):
    """An int argument register (the low 32 bits, signed)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value
