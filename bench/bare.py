"""The engine's floor: a static AArch64 ELF run on bare Unicorn, no kernel.

`python bench/bare.py PROGRAM ARGS...` maps the program's PT_LOAD segments
flat (Unicorn's own soft MMU, no translation tables, no fill hook), builds
the initial stack Linux would (argc, argv, envp, auxv), and answers the few
system calls a benchmark's C library start-up, timing and exit make: write
and writev go to the host, clock_gettime reads the host's clock, mmap hands
out pre-mapped memory, exit and exit_group stop; every other call returns
-ENOSYS.  `make bench` runs the
compute workload this way too, so each run shows how far a53emu sits above
the engine it is built on.  Not an emulator: anything beyond that fails.
"""

import os
import struct
import sys
import time

from unicorn import (
    UC_ARCH_ARM64, UC_HOOK_INTR, UC_HOOK_TLB_FILL, UC_MODE_ARM, UC_PROT_EXEC, UC_PROT_READ,
    UC_PROT_WRITE, UC_TLB_VIRTUAL, Uc,
)
from unicorn import arm64_const as A

from emu.arch import PAGE_SIZE
from emu.cpu import _make_stops_precise

ENOSYS = 38
# include/uapi/asm-generic/unistd.h
NR_WRITE, NR_WRITEV, NR_EXIT, NR_EXIT_GROUP, NR_CLOCK_GETTIME = 64, 66, 93, 94, 113
NR_MUNMAP, NR_MMAP = 215, 222
# include/uapi/linux/auxvec.h
AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_RANDOM = 0, 3, 4, 5, 6, 9, 25
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4
DATA_PROT = UC_PROT_READ | UC_PROT_WRITE       # stack and mmap: no EXEC (see segment_prot)
STACK_TOP = 0x7f0000000000
STACK_SIZE = 8 << 20
HEAP_BASE = 0x7e0000000000          # where mmap hands out memory, bump-allocated
HEAP_SIZE = 256 << 20
ARG_REGS = [A.UC_ARM64_REG_X0 + i for i in range(6)]


def page_down(v):
    return v & ~(PAGE_SIZE - 1)


def page_up(v):
    return page_down(v + PAGE_SIZE - 1)


def segment_prot(p_flags):
    """The segment's own permissions, as a53emu's ptes grant them.

    Unicorn 2.1.4 starts every writable TLB entry "not dirty" and makes it
    clean after the first store only if the entry is not executable
    (notdirty_write: tlbe->addr_code == -1).  With UC_PROT_ALL regions every
    store went through notdirty_write and tb_invalidate_phys_page_fast; with
    the segment's permissions but Unicorn's own MMU (off: it grants RWX to
    every page), through notdirty_write still.  So the regions get these
    permissions and the TLB is filled with them (Bare._fill), as a53emu's
    cores fill theirs: that made this loop ~2.5x slower than a53emu's
    cores before, and as fast now."""
    prot = UC_PROT_READ if p_flags & PF_R else 0
    if p_flags & PF_W:
        prot |= UC_PROT_WRITE
    if p_flags & PF_X:
        prot |= UC_PROT_EXEC
    return prot


def load(uc, image):
    """Map every PT_LOAD segment of a static ELF; returns (entry, phdr VA, phnum, phentsize)."""
    (entry, phoff, phentsize, phnum) = (struct.unpack_from("<Q", image, 24)[0],
                                        struct.unpack_from("<Q", image, 32)[0],
                                        struct.unpack_from("<H", image, 54)[0],
                                        struct.unpack_from("<H", image, 56)[0])
    phdr_va = 0
    for i in range(phnum):
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", image, phoff + i * phentsize)
        if p_type != PT_LOAD:
            continue
        start, end = page_down(p_vaddr), page_up(p_vaddr + p_memsz)
        uc.mem_map(start, end - start, segment_prot(p_flags))
        uc.mem_write(p_vaddr, image[p_offset:p_offset + p_filesz])
        if p_offset <= phoff < p_offset + p_filesz:
            phdr_va = p_vaddr + phoff - p_offset
    return entry, phdr_va, phnum, phentsize


def initial_stack(uc, argv, auxv):
    """create_elf_tables(): argc, argv[], NULL, envp[] (empty), NULL, auxv; returns sp."""
    uc.mem_map(STACK_TOP - STACK_SIZE, STACK_SIZE, DATA_PROT)
    strings = b"".join(os.fsencode(a) + b"\0" for a in argv)
    str_at = page_down(STACK_TOP - len(strings) - 64)
    uc.mem_write(str_at, strings)
    random_at = str_at - 16
    uc.mem_write(random_at, os.urandom(16))
    ptrs, at = [], str_at
    for a in argv:
        ptrs.append(at)
        at += len(os.fsencode(a)) + 1
    auxv = auxv + [(AT_RANDOM, random_at), (AT_NULL, 0)]
    words = [len(argv)] + ptrs + [0, 0] + [w for pair in auxv for w in pair]
    sp = (random_at - 8 * len(words)) & ~15
    uc.mem_write(sp, struct.pack("<%dQ" % len(words), *words))
    return sp


class Bare:
    """One core, flat memory, a handful of system calls."""

    def __init__(self, path, argv):
        self.uc = uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        uc.ctl_set_cpu_model(A.UC_CPU_ARM64_A53)
        uc.ctl_set_page_size(PAGE_SIZE)     # as a53emu's cores: ARM's default is 1 KiB
        with open(path, "rb") as f:
            image = f.read()
        entry, phdr, phnum, phent = load(uc, image)
        sp = initial_stack(uc, argv, [(AT_PHDR, phdr), (AT_PHENT, phent), (AT_PHNUM, phnum),
                                      (AT_PAGESZ, PAGE_SIZE), (AT_ENTRY, entry)])
        uc.mem_map(HEAP_BASE, HEAP_SIZE, DATA_PROT)
        self.heap = HEAP_BASE
        self.status = None
        uc.reg_write(A.UC_ARM64_REG_SP, sp)
        # FP/SIMD at EL0 (CPACR_EL1.FPEN = 0b11), as Linux's fpsimd_flush_task_state leaves it.
        uc.reg_write(A.UC_ARM64_REG_CPACR_EL1, 3 << 20)
        uc.hook_add(UC_HOOK_INTR, self.svc)
        self.regions = [(start, end, prot) for start, end, prot in uc.mem_regions()]
        uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        uc.hook_add(UC_HOOK_TLB_FILL, self._fill)
        self.entry = entry
        # As a53emu's cores: no exit-request check after every load and
        # store (emu/cpu.py _make_stops_precise; nothing stops this run
        # from another thread).  Set before any code is translated.
        if os.environ.get("A53EMU_BARE_EXIT_CHECKS") is None:
            _make_stops_precise(uc, uc._uch)

    def _fill(self, uc, va, access, entry, _):
        """Flat translation with the region's permissions (see segment_prot)."""
        for start, end, prot in self.regions:
            if start <= va <= end:
                entry.paddr, entry.perms = va, prot
                return True
        return False

    def svc(self, uc, intno, _):
        nr = uc.reg_read(A.UC_ARM64_REG_X8)
        args = [uc.reg_read(r) for r in ARG_REGS]
        if nr in (NR_EXIT, NR_EXIT_GROUP):
            self.status = args[0] & 0xFF
            uc.emu_stop()
            return
        ret = -ENOSYS
        if nr == NR_WRITE:
            ret = os.write(args[0], bytes(uc.mem_read(args[1], args[2])))
        elif nr == NR_WRITEV:
            data = b""
            for i in range(args[2]):
                base, length = struct.unpack("<QQ", uc.mem_read(args[1] + 16 * i, 16))
                data += bytes(uc.mem_read(base, length))
            ret = os.write(args[0], data)
        elif nr == NR_MMAP and args[0] == 0:
            length = page_up(args[1])
            if self.heap + length <= HEAP_BASE + HEAP_SIZE:
                ret, self.heap = self.heap, self.heap + length
        elif nr == NR_CLOCK_GETTIME:
            ns = time.clock_gettime_ns(args[0])
            uc.mem_write(args[1], struct.pack("<qq", ns // 10**9, ns % 10**9))
            ret = 0
        elif nr == NR_MUNMAP:
            ret = 0                     # the bump allocator never reuses
        uc.reg_write(A.UC_ARM64_REG_X0, ret & (2**64 - 1))

    def run(self):
        self.uc.emu_start(self.entry, 0)
        return self.status


def main(argv):
    if len(argv) < 2:
        raise SystemExit("usage: python bench/bare.py PROGRAM [ARGS...]")
    status = Bare(argv[1], argv[1:]).run()
    return 1 if status is None else status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
