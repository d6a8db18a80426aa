"""Hand-made ELF programs for the loader, signal and death tests.

An Image is a small static ELF64 built field by field (struct, no
toolchain), so a test can break exactly one field of it.  The same image
exists for AArch64 (what the board runs) and for x86-64 (what the host
kernel runs): binfmt_elf's checks are the same on every architecture except
elf_check_arch() and TASK_SIZE, so the host kernel's execve() tells what
Linux does with the malformation.

Layout: the ELF header at 0, the program headers at e_phoff (64), the
interpreter name (if any) at INTERP_OFF, the code at CODE_OFF, all in one
PT_LOAD of the whole file at `base`.
"""

import collections
import struct

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
EM_X86_64, EM_AARCH64, EM_ARM = 62, 183, 40
ET_REL, ET_EXEC, ET_DYN, ET_CORE = 1, 2, 3, 4
PT_NULL, PT_LOAD, PT_INTERP = 0, 1, 3
PF_X, PF_W, PF_R = 1, 2, 4
INTERP_OFF = 0x1800
CODE_OFF = 0x2000               # room for a program header table of 4 KiB
DATA_OFF = 0x3000               # the data page of programs that have one
BASE = 0x400000
PAGE = 4096

Phdr = collections.namedtuple("Phdr", "p_type p_flags p_offset p_vaddr p_paddr p_filesz "
                                      "p_memsz p_align")


# -- AArch64 instructions ------------------------------------------------------------------

def a64_movz(rd, imm16, shift=0):
    return 0xD2800000 | (shift // 16) << 21 | (imm16 & 0xFFFF) << 5 | rd


def a64_movk(rd, imm16, shift):
    return 0xF2800000 | (shift // 16) << 21 | (imm16 & 0xFFFF) << 5 | rd


def a64_mov64(rd, value):
    """movz + movk: any 64-bit constant into xd."""
    words = [a64_movz(rd, value & 0xFFFF)]
    for shift in (16, 32, 48):
        if (value >> shift) & 0xFFFF:
            words.append(a64_movk(rd, value >> shift, shift))
    return words


A64_SVC0 = 0xD4000001
A64_B_SELF = 0x14000000         # b .
A64_UDF = 0x00000000            # udf #0
A64_BRK0 = 0xD4200000           # brk #0
A64_RET = 0xD65F03C0


def a64_str(rt, rn, imm=0):
    """str xt, [xn, #imm] (imm a multiple of 8)."""
    return 0xF9000000 | (imm // 8) << 10 | rn << 5 | rt


def a64_ldr(rt, rn, imm=0):
    """ldr xt, [xn, #imm]."""
    return 0xF9400000 | (imm // 8) << 10 | rn << 5 | rt


def a64_mov_sp(rd, rn):
    """mov xd|sp, xn|sp (add xd, xn, #0)."""
    return 0x91000000 | rn << 5 | rd


def a64_syscall(nr, *args):
    """x0.. = args, x8 = nr, svc #0."""
    words = []
    for i, a in enumerate(args):
        words += a64_mov64(i, a)
    return words + a64_mov64(8, nr) + [A64_SVC0]


def a64_code(words):
    return b"".join(struct.pack("<I", w) for w in words)


NR_EXIT_GROUP = 94
NR_RT_SIGACTION = 134
NR_RT_SIGRETURN = 139
NR_WRITE = 64
NR_NANOSLEEP = 101


def a64_exit(code):
    return a64_code(a64_syscall(NR_EXIT_GROUP, code))


# -- x86-64 instructions (the host's twin) ------------------------------------------------

def x86_exit(code):
    """mov edi, code; mov eax, 60 (exit); syscall."""
    return b"\xbf" + struct.pack("<I", code) + b"\xb8\x3c\x00\x00\x00\x0f\x05"


def exit_code_for(machine, code):
    return a64_exit(code) if machine == EM_AARCH64 else x86_exit(code)


class Image:
    """A static ELF64 with one PT_LOAD covering the file; fields editable."""

    def __init__(self, machine=EM_AARCH64, code=None, e_type=ET_EXEC, base=BASE, exit_code=42):
        self.machine = machine
        self.code = code if code is not None else exit_code_for(machine, exit_code)
        self.base = base if e_type == ET_EXEC else 0
        self.ident = bytearray(b"\x7fELF" + bytes([2, 1, 1]) + bytes(9))
        self.e_type = e_type
        self.e_machine = machine
        self.e_entry = self.base + CODE_OFF
        self.e_phoff = EHDR.size
        self.e_shoff = 0
        self.e_phentsize = PHDR.size
        self.e_phnum = None             # None: len(phdrs)
        self.e_shentsize = 64
        self.e_shnum = 0
        self.e_shstrndx = 0
        self.extra = {}                 # file offset -> bytes placed there
        size = CODE_OFF + len(self.code)
        self.phdrs = [Phdr(PT_LOAD, PF_R | PF_X, 0, self.base, self.base, size, size, PAGE)]
        self.truncate = None            # cut the file to this many bytes

    def load(self, i=0):
        return self.phdrs[i]

    def set_load(self, i=0, **fields):
        self.phdrs[i] = self.phdrs[i]._replace(**fields)

    def add_interp(self, name, first=True, offset=INTERP_OFF, filesz=None):
        """A PT_INTERP naming `name` (bytes, written as is: add the NUL)."""
        off = offset + sum(len(v) for k, v in self.extra.items() if INTERP_OFF <= k < CODE_OFF)
        self.extra[off] = name
        ph = Phdr(PT_INTERP, PF_R, off, self.base + off, self.base + off,
                  len(name) if filesz is None else filesz, len(name), 1)
        if first:
            self.phdrs.insert(0, ph)
        else:
            self.phdrs.append(ph)
        return ph

    def build(self):
        phnum = len(self.phdrs) if self.e_phnum is None else self.e_phnum
        ehdr = EHDR.pack(bytes(self.ident), self.e_type, self.e_machine, 1, self.e_entry,
                         self.e_phoff, self.e_shoff, 0, EHDR.size, self.e_phentsize,
                         phnum & 0xFFFF, self.e_shentsize, self.e_shnum, self.e_shstrndx)
        table = b"".join(PHDR.pack(*ph) for ph in self.phdrs)
        size = max([CODE_OFF + len(self.code)] + [k + len(v) for k, v in self.extra.items()])
        data = bytearray(size)
        data[0:len(ehdr)] = ehdr
        if self.e_phoff < size:
            data[self.e_phoff:self.e_phoff + len(table)] = table
        for off, blob in self.extra.items():
            data[off:off + len(blob)] = blob
        data[CODE_OFF:CODE_OFF + len(self.code)] = self.code
        if self.truncate is not None:
            del data[self.truncate:]
        return bytes(data)

    def write(self, path):
        path.write_bytes(self.build())
        path.chmod(0o755)
        return path


NR_EXECVE = 221
A64_NEG_X0 = 0xCB0003E0         # neg x0, x0 (sub x0, xzr, x0)


def execve_probe(target):
    """An AArch64 program that execve()s `target` (bytes, absolute) and, if
    execve returns, exits with the errno as its status."""
    img = Image()
    path_addr = BASE + DATA_OFF
    argv_addr = path_addr + ((len(target) + 8) & ~7)
    img.extra[DATA_OFF] = target + b"\0"
    img.extra[argv_addr - BASE] = struct.pack("<QQ", path_addr, 0)
    words = a64_syscall(NR_EXECVE, path_addr, argv_addr, 0)
    words += [A64_NEG_X0] + a64_mov64(8, NR_EXIT_GROUP) + [A64_SVC0]
    img.code = a64_code(words)
    size = argv_addr + 16 - BASE
    img.set_load(p_filesz=size, p_memsz=size)
    return img


NR_GETPID, NR_KILL, NR_TGKILL, NR_GETTID = 172, 129, 131, 178
NR_OPENAT, NR_MMAP = 56, 222
AT_FDCWD = (1 << 64) - 100
A64_MOV_X4_X0 = 0xAA0003E4      # mov x4, x0
A64_MOV_X2_X0 = 0xAA0003E2      # mov x2, x0
A64_MOV_X1_X0 = 0xAA0003E1      # mov x1, x0
A64_ADD_X0_X0_X2 = 0x8B020000   # add x0, x0, x2


def program(words, data=None):
    """An AArch64 ET_EXEC running words, with data (bytes) at BASE + DATA_OFF."""
    img = Image()
    img.code = a64_code(words)
    if data is not None:
        img.extra[DATA_OFF] = data
    size = max(CODE_OFF + len(img.code), DATA_OFF + len(data or b""))
    img.set_load(p_filesz=size, p_memsz=size)
    return img
