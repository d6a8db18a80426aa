"""A tiny static AArch64 program for the report's saved reference, made
here instruction by instruction (emu/a64.py), so the reference does not
depend on a C compiler or a C library: each run of it is the same run.

It grows the break (brk), touches the heap, maps five anonymous pages,
reads one (the zero page) and writes it (a copy-on-write of the zero
page), unmaps the middle page (a split) and write-protects the first (a
split and an mprotect), then exits.
"""

import struct

from emu import a64

SYS_BRK, SYS_MUNMAP, SYS_MMAP, SYS_MPROTECT, SYS_EXIT_GROUP = 214, 215, 222, 226, 94
PROT_READ, PROT_RW = 1, 3
MAP_PRIVATE_ANONYMOUS = 0x22
XZR = 31
LOAD_ADDR = 0x400000
PAGE = 0x1000


def ldr_x(rt, rn, offset=0):
    """LDR Xt, [Xn, #offset] (unsigned offset form, ARM DDI 0487 C6.2)."""
    return 0xF9400000 | ((offset // 8) << 10) | (rn << 5) | rt


def call(nr, *args):
    """Set x0.. from args (None: leave that register as it is), then svc."""
    return [a64.movz(i, a) for i, a in enumerate(args) if a is not None] + \
        [a64.movz(8, nr), a64.svc()]


def program():
    code = call(SYS_BRK, 0)
    code += [a64.add(19, 0, XZR), a64.movz(10, 2, hw=1), a64.add(0, 19, 10),
             a64.movz(8, SYS_BRK), a64.svc(), a64.str_x(XZR, 19)]
    code += call(SYS_MMAP, 0, 5 * PAGE, PROT_RW, MAP_PRIVATE_ANONYMOUS, 0, 0)
    code += [a64.add(20, 0, XZR), a64.movz(10, PAGE), a64.add(21, 20, 10), ldr_x(1, 21),
             a64.str_x(XZR, 21)]
    code += [a64.movz(10, 2 * PAGE), a64.add(0, 20, 10)] + call(SYS_MUNMAP, None, PAGE)
    code += [a64.add(0, 20, XZR)] + call(SYS_MPROTECT, None, PAGE, PROT_READ)
    code += call(SYS_EXIT_GROUP, 0)
    return b"".join(struct.pack("<I", insn) for insn in code)


def elf(text=None):
    """ET_EXEC, one PT_LOAD (r-x) holding the headers and the code
    (default: program())."""
    ehdr = struct.Struct("<16sHHIQQQIHHHHHH")
    phdr = struct.Struct("<IIQQQQQQ")
    text = program() if text is None else text
    start = ehdr.size + phdr.size
    size = start + len(text)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    et_exec, em_aarch64, pt_load, pf_rx = 2, 183, 1, 5
    return (ehdr.pack(ident, et_exec, em_aarch64, 1, LOAD_ADDR + start, ehdr.size, 0, 0,
                      ehdr.size, phdr.size, 1, 0, 0, 0)
            + phdr.pack(pt_load, pf_rx, 0, LOAD_ADDR, LOAD_ADDR, size, size, PAGE) + text)



def many_vmas_program(n):
    """mmap 2n pages, then mprotect every other one read-only, one call
    each: 2n VMAs at the end (a report's worst case, many VMAs at once)."""
    two_pages_shift = 13
    code = [a64.movz(11, n), a64.lsl(1, 11, two_pages_shift)]
    code += call(SYS_MMAP, 0, None, PROT_RW, MAP_PRIVATE_ANONYMOUS, 0, 0)
    code += [a64.add(21, 0, XZR), a64.movz(22, n), a64.movz(23, 1), a64.movz(24, 2 * PAGE)]
    loop = len(code)
    code += [a64.add(0, 21, XZR)] + call(SYS_MPROTECT, None, PAGE, PROT_READ)
    code += [a64.add(21, 21, 24), a64.msub(22, 23, 23, 22)]     # next pair; x22 -= 1
    code.append(a64.cbnz(22, (loop - len(code)) * 4))
    code += call(SYS_EXIT_GROUP, 0)
    return b"".join(struct.pack("<I", insn) for insn in code)
