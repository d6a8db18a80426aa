"""arch/arm64/kernel/vdso.c + vdso/: the page every process gets, a small
ELF shared object announced by AT_SYSINFO_EHDR.

It exports what arm64 Linux's vDSO exports, version LINUX_2.6.39:
__kernel_rt_sigreturn (where a handler installed without SA_RESTORER —
glibc's way — returns), __kernel_clock_gettime, __kernel_gettimeofday and
__kernel_clock_getres.  The clock functions read the virtual counter
(CNTVCT_EL0, which the kernel lets EL0 read and which counts ns since boot
at NSEC_PER_CNT ns a tick) and the vDSO data the kernel wrote into the page
(linux's vdso_data, reduced to what the board needs: whether to fall back
to the system call, and CLOCK_REALTIME's offset from CLOCK_MONOTONIC).
Clocks they do not handle, and everything under --deterministic (where
the counter traps: the system call is the same answer, cheaper), go to the
real system call, as Linux's vDSO does when vdso_data->use_syscall is set.

The image is built here rather than linked from assembly: a few dozen
instructions (emu/a64.py), the dynamic symbol table with its SysV hash,
version definitions and the dynamic section — what glibc's setup_vdso()
and musl's __vdsosym() read.
"""

import struct

from emu import a64
from emu.arch import NSEC_PER_CNT, PAGE_SIZE, SYSREG_CNTVCT_EL0
from kernel.fs.file import File
from kernel.mm.filemap import AddressSpace
from kernel.mm.mm import VM_EXEC, VM_MAYEXEC, VM_MAYREAD, VM_READ
from kernel.mm.mmap import find_vma, get_unmapped_area, insert_vm_struct, is_err, vm_stat_account
from kernel.mm.mm import vm_get_page_prot
from kernel.mm.mm_types import VmAreaStruct
from kernel.syscalls.unistd import SYSCALL_NUMBERS
from kernel.time.timekeeping import NSEC_PER_SEC, NSEC_PER_USEC, TICK_NSEC
from kernel.uapi import (
    CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME,
    CLOCK_REALTIME_COARSE,
)

VDSO_NAME = "[vdso]"
VDSO_SONAME = b"linux-vdso.so.1"
VDSO_VERSION = b"LINUX_2.6.39"

# ELF64 (include/uapi/linux/elf.h).
_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")
_SYM = struct.Struct("<IBBHQQ")
_DYN = struct.Struct("<qQ")
_VERDEF = struct.Struct("<HHHHIII")
_VERDAUX = struct.Struct("<II")
ELF_IDENT = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)   # 64-bit, little-endian, SysV
ET_DYN, EM_AARCH64, EV_CURRENT = 3, 183, 1
PT_LOAD, PT_DYNAMIC = 1, 2
PF_X, PF_R = 1, 4
STB_GLOBAL, STT_FUNC = 1, 2
VDSO_TEXT_SHNDX = 1             # any defined section: there are no section headers
DT_NULL, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_SONAME = 0, 4, 5, 6, 10, 11, 14
DT_VERSYM, DT_VERDEF, DT_VERDEFNUM = 0x6FFFFFF0, 0x6FFFFFFC, 0x6FFFFFFD
VER_DEF_CURRENT, VER_FLG_BASE = 1, 1
VER_NDX_GLOBAL = 1
VER_NDX_LINUX = 2

# The functions' registers (AAPCS64: x0-x7 arguments, x9-x15 scratch, x8 the syscall number).
X0, X1, X8, X9, X10, X11, X12, X13 = 0, 1, 8, 9, 10, 11, 12, 13
XZR = 31
_REALTIME_CLOCKS = (CLOCK_REALTIME, CLOCK_REALTIME_COARSE)
_MONOTONIC_CLOCKS = (CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE)
_COARSE_CLOCKS = (CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE)
CNT_SHIFT = NSEC_PER_CNT.bit_length() - 1
assert 1 << CNT_SHIFT == NSEC_PER_CNT


def elf_hash(name):
    """The SysV ELF symbol hash (DT_HASH, vd_hash)."""
    h = 0
    for c in name:
        h = ((h << 4) + c) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h


class _Asm:
    """Instructions at known page offsets, with branches to labels."""

    def __init__(self, base, labels):
        self.base = base
        self.words = []
        self.labels = labels
        self.fixups = []

    @property
    def pc(self):
        return self.base + 4 * len(self.words)

    def label(self, name):
        self.labels[name] = self.pc

    def emit(self, *words):
        self.words.extend(words)

    def to(self, name, encode):
        """An instruction whose offset to `name` is resolved at the end."""
        self.fixups.append((len(self.words), name, encode))
        self.words.append(0)

    def assemble(self):
        for i, name, encode in self.fixups:
            self.words[i] = encode(self.labels[name] - (self.base + 4 * i))
        return struct.pack("<%dI" % len(self.words), *self.words)


def _clock_ns(asm, rd, realtime):
    """rd = the clock in ns: CNTVCT_EL0 << CNT_SHIFT (+ the realtime offset).
    The ISB keeps the counter read from being hoisted (arch_counter_get_cntvct)."""
    asm.emit(a64.isb(), a64.mrs(rd, *SYSREG_CNTVCT_EL0), a64.lsl(rd, rd, CNT_SHIFT))
    if realtime:
        asm.to("realtime_offset", lambda off: a64.ldr_literal(X10, off))
        asm.emit(a64.add(rd, rd, X10))


def _split_ns(asm, ns, sec, rem):
    """sec = ns / NSEC_PER_SEC, rem = ns % NSEC_PER_SEC (x10 is clobbered)."""
    asm.to("nsec_per_sec", lambda off: a64.ldr_literal(X10, off))
    asm.emit(a64.udiv(sec, ns, X10), a64.msub(rem, sec, X10, ns))


def _syscall(asm, name):
    asm.emit(a64.movz(X8, SYSCALL_NUMBERS[name]), a64.svc(), a64.ret())


def _dispatch(asm, clocks, target):
    for clock in clocks:
        asm.emit(a64.cmp_imm(X0, clock))
        asm.to(target, lambda off: a64.b_cond(a64.COND_EQ, off))


def _text(asm):
    """The four functions; returns {symbol: offset}."""
    syms = {}
    syms["__kernel_rt_sigreturn"] = asm.pc
    asm.emit(a64.movz(X8, SYSCALL_NUMBERS["rt_sigreturn"]), a64.svc())

    # int __kernel_clock_gettime(clockid_t clock, struct timespec *ts)
    syms["__kernel_clock_gettime"] = asm.pc
    asm.to("use_syscall", lambda off: a64.ldr_literal(X9, off, sf=0))
    asm.to("cgt_syscall", lambda off: a64.cbnz(X9, off, sf=0))
    _dispatch(asm, _MONOTONIC_CLOCKS, "cgt_mono")
    _dispatch(asm, _REALTIME_CLOCKS, "cgt_real")
    asm.label("cgt_syscall")
    _syscall(asm, "clock_gettime")
    asm.label("cgt_real")
    _clock_ns(asm, X9, realtime=True)
    asm.to("cgt_store", a64.b)
    asm.label("cgt_mono")
    _clock_ns(asm, X9, realtime=False)
    asm.label("cgt_store")
    _split_ns(asm, X9, X11, X12)
    asm.emit(a64.stp(X11, X12, X1), a64.movz(X0, 0, sf=0), a64.ret())

    # int __kernel_gettimeofday(struct timeval *tv, struct timezone *tz)
    syms["__kernel_gettimeofday"] = asm.pc
    asm.to("use_syscall", lambda off: a64.ldr_literal(X9, off, sf=0))
    asm.to("gtod_syscall", lambda off: a64.cbnz(X9, off, sf=0))
    asm.to("gtod_tz", lambda off: a64.cbz(X0, off))
    _clock_ns(asm, X9, realtime=True)
    _split_ns(asm, X9, X11, X12)
    asm.emit(a64.movz(X13, NSEC_PER_USEC), a64.udiv(X12, X12, X13), a64.stp(X11, X12, X0))
    asm.label("gtod_tz")
    asm.to("gtod_done", lambda off: a64.cbz(X1, off))
    asm.to("sys_tz", lambda off: a64.ldr_literal(X13, off))
    asm.emit(a64.str_x(X13, X1))            # sys_tz: tz_minuteswest, tz_dsttime
    asm.label("gtod_done")
    asm.emit(a64.movz(X0, 0, sf=0), a64.ret())
    asm.label("gtod_syscall")
    _syscall(asm, "gettimeofday")

    # int __kernel_clock_getres(clockid_t clock, struct timespec *res)
    syms["__kernel_clock_getres"] = asm.pc
    _dispatch(asm, (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW), "cgr_hres")
    _dispatch(asm, _COARSE_CLOCKS, "cgr_coarse")
    _syscall(asm, "clock_getres")
    asm.label("cgr_hres")
    asm.emit(a64.movz(X9, 1))
    asm.to("cgr_store", a64.b)
    asm.label("cgr_coarse")
    asm.to("tick_nsec", lambda off: a64.ldr_literal(X9, off))
    asm.label("cgr_store")
    asm.to("cgr_done", lambda off: a64.cbz(X1, off))
    asm.emit(a64.stp(XZR, X9, X1))
    asm.label("cgr_done")
    asm.emit(a64.movz(X0, 0, sf=0), a64.ret())
    return syms


def _align(buf, n):
    buf.extend(bytes(-len(buf) % n))


def vdso_image(use_syscall, realtime_offset, sys_tz=0):
    """The page: ELF header, program headers, hash, symbols, strings,
    versions, dynamic section, vdso data, text."""
    return _vdso_build(use_syscall, realtime_offset, sys_tz)[:2]


def _vdso_build(use_syscall, realtime_offset, sys_tz):
    """vdso_image()'s work; also returns the page offsets of the data."""
    names = ("__kernel_rt_sigreturn", "__kernel_clock_gettime", "__kernel_gettimeofday",
             "__kernel_clock_getres")
    strtab = bytearray(b"\0")
    stroff = {}
    for s in (VDSO_SONAME, VDSO_VERSION) + tuple(n.encode() for n in names):
        stroff[s] = len(strtab)
        strtab += s + b"\0"
    nsyms = len(names) + 1
    phnum = 2
    buf = bytearray(_EHDR.size + phnum * _PHDR.size)
    hash_off = len(buf)
    buf += struct.pack("<II", 1, nsyms) + struct.pack("<I", 1)      # one bucket, chained
    buf += struct.pack("<%dI" % nsyms, *([0] + [i + 1 for i in range(1, nsyms - 1)] + [0]))
    _align(buf, 8)
    sym_off = len(buf)
    buf += bytes(nsyms * _SYM.size)
    str_off = len(buf)
    buf += strtab
    _align(buf, 2)
    versym_off = len(buf)
    buf += struct.pack("<%dH" % nsyms, 0, *([VER_NDX_LINUX] * len(names)))
    _align(buf, 8)
    verdef_off = len(buf)
    step = _VERDEF.size + _VERDAUX.size
    buf += _VERDEF.pack(VER_DEF_CURRENT, VER_FLG_BASE, VER_NDX_GLOBAL, 1,
                        elf_hash(VDSO_SONAME), _VERDEF.size, step)
    buf += _VERDAUX.pack(stroff[VDSO_SONAME], 0)
    buf += _VERDEF.pack(VER_DEF_CURRENT, 0, VER_NDX_LINUX, 1, elf_hash(VDSO_VERSION),
                        _VERDEF.size, 0)
    buf += _VERDAUX.pack(stroff[VDSO_VERSION], 0)
    _align(buf, 8)
    dyn_off = len(buf)
    dyn = [(DT_HASH, hash_off), (DT_STRTAB, str_off), (DT_SYMTAB, sym_off),
           (DT_STRSZ, len(strtab)), (DT_SYMENT, _SYM.size), (DT_SONAME, stroff[VDSO_SONAME]),
           (DT_VERSYM, versym_off), (DT_VERDEF, verdef_off), (DT_VERDEFNUM, 2), (DT_NULL, 0)]
    for tag, val in dyn:
        buf += _DYN.pack(tag, val)
    dyn_size = len(buf) - dyn_off
    labels = {}
    labels["use_syscall"] = len(buf)
    buf += struct.pack("<I4x", int(use_syscall))
    labels["realtime_offset"] = len(buf)
    buf += struct.pack("<q", realtime_offset)
    labels["sys_tz"] = len(buf)
    buf += struct.pack("<Q", sys_tz)
    labels["nsec_per_sec"] = len(buf)
    buf += struct.pack("<Q", NSEC_PER_SEC)
    labels["tick_nsec"] = len(buf)
    buf += struct.pack("<Q", TICK_NSEC)
    _align(buf, 16)
    asm = _Asm(len(buf), labels)
    syms = _text(asm)
    buf += asm.assemble()
    assert len(buf) <= PAGE_SIZE
    for i, name in enumerate(names, 1):
        _SYM.pack_into(buf, sym_off + i * _SYM.size, stroff[name.encode()],
                       (STB_GLOBAL << 4) | STT_FUNC, 0, VDSO_TEXT_SHNDX, syms[name], 0)
    _EHDR.pack_into(buf, 0, ELF_IDENT, ET_DYN, EM_AARCH64, EV_CURRENT, 0, _EHDR.size, 0, 0,
                    _EHDR.size, _PHDR.size, phnum, 0, 0, 0)
    _PHDR.pack_into(buf, _EHDR.size, PT_LOAD, PF_R | PF_X, 0, 0, 0, PAGE_SIZE, PAGE_SIZE,
                    PAGE_SIZE)
    _PHDR.pack_into(buf, _EHDR.size + _PHDR.size, PT_DYNAMIC, PF_R, dyn_off, dyn_off,
                    dyn_off, dyn_size, dyn_size, 8)
    return bytes(buf.ljust(PAGE_SIZE, b"\0")), syms, labels


def vdso_page_bytes(kernel):
    """The vDSO page for this kernel: the counter is used directly unless
    EL0's counter reads trap (--deterministic)."""
    page = getattr(kernel, "vdso_page", None)
    if page is None:
        sched = kernel.sched
        page = kernel.vdso_page = vdso_image(sched.deterministic, sched.boot_real_ns,
                                             getattr(kernel, "sys_tz", 0))[0]
    return page


def update_vsyscall(kernel):
    """update_vsyscall() + update_vsyscall_tz(): the wall clock was set or
    the timezone changed — rewrite CLOCK_REALTIME's offset and sys_tz in the
    vDSO data of every address space (each mm has its own copy of the
    page, Linux shares one) and in the page new ones will get."""
    kernel.vdso_page = None
    data = struct.pack("<qQ", kernel.sched.boot_real_ns, getattr(kernel, "sys_tz", 0))
    assert _VDSO_DATA["sys_tz"] == _VDSO_DATA["realtime_offset"] + 8
    seen = set()
    for task in list(kernel.tasks.values()):
        mm = task.mm
        if mm is None or not mm.vdso_base or id(mm) in seen:
            continue
        seen.add(id(mm))
        vma = find_vma(mm, mm.vdso_base)
        if vma is None or vma.vm_start != mm.vdso_base or vma.vm_file is None:
            continue
        frame = vma.vm_file.mapping.pages.get(0)
        if frame is not None:
            kernel.memory.write(frame + _VDSO_DATA["realtime_offset"], data)


_, _SYMS, _VDSO_DATA = _vdso_build(True, 0, 0)     # where the code and the data sit
SIGTRAMP_OFFSET = _SYMS["__kernel_rt_sigreturn"]


def arch_setup_additional_pages(kernel, mm):
    """Map the vDSO page top-down like any mmap; sets mm.vdso_base.
    Returns 0 or a negative errno."""
    addr = get_unmapped_area(mm, None, 0, PAGE_SIZE, 0, 0)
    if is_err(addr):
        return addr
    file = File(kernel, None, VDSO_NAME, 0, body=b"")
    file.mapping = AddressSpace(kernel, None, VDSO_NAME, size=PAGE_SIZE)
    file.mapping.users = 1
    frame = kernel.pages.alloc_page()
    kernel.memory.write(frame, vdso_page_bytes(kernel))
    file.mapping.pages[0] = frame
    flags = VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYEXEC
    vma = VmAreaStruct(mm, addr, addr + PAGE_SIZE, flags, vm_get_page_prot(flags), 0, file)
    err = insert_vm_struct(mm, vma)
    if err:
        file.put()
        return err
    vm_stat_account(mm, flags, 1)
    mm.vdso_base = addr
    return 0


def sigtramp(mm):
    """Where a handler without SA_RESTORER returns to."""
    return mm.vdso_base + SIGTRAMP_OFFSET
