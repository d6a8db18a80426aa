"""The ELF loader as 4.14's binfmt_elf: each malformation gets Linux's answer.

Every case builds the same hand-made program twice (tests/elf_forge.py):
for AArch64, run by a53emu, and for x86-64, run by the host kernel.
binfmt_elf's checks are arch-independent except elf_check_arch() (the
e_machine each builds for) and TASK_SIZE (2^48 on arm64 with 48-bit VAs,
2^47 - 4096 on x86-64), so the host's execve() is the reference: its errno
(a refusal before exec's point of no return), or the process killed by
SIGSEGV (a failure after it: force_sigsegv), or the program's own exit.
qemu-aarch64 is no reference here: its loader is not Linux's.

The outcome is checked three ways: on the host, by the CLI (status 126 or
127 with one line naming the field, 139 past the point of no return, or
the program's own status) and by a guest program calling execve() (its
errno, or its death by SIGSEGV).

Where the host kernel (newer than 4.14) differs, the case says which change
and the 4.14 answer is asserted for a53emu only.
"""

import errno
import os
import signal
import socket
import subprocess

import pytest

from conftest import run_a53emu
from elf_forge import (
    BASE, CODE_OFF, EM_AARCH64, EM_ARM, EM_X86_64, ET_CORE, ET_DYN, ET_REL, PAGE,
    PF_R, PF_W, PF_X, PT_LOAD, PT_NULL, Phdr, Image, execve_probe,
)
from kernel.binfmt_elf import PT_GNU_STACK

HOST_IS_X86_64 = os.uname().machine == "x86_64"
EXIT, ERRNO, KILLED = "exit", "errno", "killed"
SEGV = (KILLED, signal.SIGSEGV)
TASK_SIZE_ARM64 = 1 << 48
INTERP_EXIT = 7


def host_outcome(path):
    """What the host kernel's execve() does with path."""
    try:
        p = subprocess.run([str(path)], capture_output=True, timeout=20,
                           stdin=subprocess.DEVNULL)
    except OSError as e:
        return (ERRNO, e.errno)
    return (KILLED, -p.returncode) if p.returncode < 0 else (EXIT, p.returncode)


def cli_status(outcome):
    """The shell status a53emu's CLI gives for a Linux outcome."""
    kind, value = outcome
    if kind == ERRNO:
        return 127 if value == errno.ENOENT else 126
    if kind == KILLED:
        return 128 + value
    return value


def guest_execve_outcome(tmp_path, target):
    """A guest program's execve() of target: its errno (it exits with it),
    the new program's exit, or its death."""
    probe = execve_probe(os.fsencode(target)).write(tmp_path / "probe")
    p = run_a53emu([probe], timeout=60)
    if p.returncode > 128:
        return (KILLED, p.returncode - 128), p
    return p.returncode, p


# -- the cases ----------------------------------------------------------------------------

def write_interp(tmp_path, machine, exit_code=INTERP_EXIT, name="interp", mutate=None):
    """A static ET_DYN "interpreter" that exits with exit_code.  Its one
    segment is writable: 4.14's load_elf_interp() zeroes the rest of the
    page after its file data (padzero) unconditionally."""
    interp = Image(machine, e_type=ET_DYN, exit_code=exit_code)
    interp.set_load(p_flags=PF_R | PF_W | PF_X)
    if mutate:
        mutate(interp)
    return interp.write(tmp_path / ("%s-%d" % (name, machine)))


def _phnum(n, fill=True):
    """e_phnum n; with fill, the table really has n entries (PT_NULL after the load)."""
    def mutate(img, tmp, m):
        if fill:
            img.phdrs += [Phdr(PT_NULL, 0, 0, 0, 0, 0, 0, 0)] * (n - len(img.phdrs))
        else:
            img.e_phnum = n
    return mutate


def _set(**fields):
    def mutate(img, tmp, m):
        for k, v in fields.items():
            setattr(img, k, v)
    return mutate


def _load(**fields):
    def mutate(img, tmp, m):
        img.set_load(**fields)
    return mutate


def _ident(index, value):
    def mutate(img, tmp, m):
        img.ident[index] = value
    return mutate


def _interp(*names, filesz=None):
    """PT_INTERPs naming each of names (a callable gets (tmp, machine))."""
    def mutate(img, tmp, m):
        for name in names:
            if callable(name):
                name = name(tmp, m)
            img.add_interp(name, first=False, filesz=filesz)
    return mutate


def _good_interp(tmp, m):
    return os.fsencode(write_interp(tmp, m)) + b"\0"


def _bad_interp(**fields):
    def name(tmp, m):
        def mutate(interp):
            for k, v in fields.items():
                setattr(interp, k, v)
        return os.fsencode(write_interp(tmp, m, name="bad", mutate=mutate)) + b"\0"
    return name


def _second_load(**fields):
    """A second PT_LOAD (data, rw-) after the code's."""
    def mutate(img, tmp, m):
        base = img.base
        ph = Phdr(PT_LOAD, PF_R | PF_W, 0, base + 0x10000, base + 0x10000, PAGE, PAGE, PAGE)
        img.phdrs.append(ph._replace(**fields))
    return mutate


def _text_interp(size):
    """An executable text file of size bytes as the interpreter."""
    def name(tmp, m):
        f = tmp / "interp.sh"
        f.write_bytes((b"#!/bin/sh\nexit 3\n" + b"#" * size)[:size])
        f.chmod(0o755)
        return os.fsencode(f) + b"\0"
    return name


def _interp_past_eof(img, tmp, m):
    ph = img.add_interp(b"/x\0", first=False)
    img.phdrs[-1] = ph._replace(p_offset=0x100000)


def _noexec_interp(tmp, m):
    f = write_interp(tmp, m, name="noexec")
    f.chmod(0o644)
    return os.fsencode(f) + b"\0"


def _machine_zero(img, tmp, m):
    img.e_machine = 0


def _wrong_machine(img, tmp, m):
    img.e_machine = EM_ARM if m == EM_AARCH64 else 3     # EM_386


def _truncated_tail(img, tmp, m):
    """Section headers past the loaded data, then the file cut inside them."""
    img.extra[CODE_OFF + 0x400] = b"\xee" * 0x400
    img.e_shoff = CODE_OFF + 0x400
    img.e_shnum = 40
    img.truncate = CODE_OFF + 0x500


def _dyn(img, tmp, m):
    """A static PIE: the same program as ET_DYN at vaddr 0."""
    fresh = Image(m, e_type=ET_DYN)
    img.__dict__.update(fresh.__dict__)


def _dyn_out_of_order(img, tmp, m):
    """ET_DYN whose last PT_LOAD lies below its first: total_mapping_size wraps."""
    _dyn(img, tmp, m)
    img.phdrs.insert(0, Phdr(PT_LOAD, PF_R, 0, 0x100000, 0x100000, PAGE, PAGE, PAGE))


def _overlap(img, tmp, m):
    """Two PT_LOADs on the same pages: elf_map's MAP_FIXED replaces the first."""
    img.phdrs.append(img.phdrs[0])


def _no_load(img, tmp, m):
    img.phdrs[0] = img.phdrs[0]._replace(p_type=PT_NULL)


# (name, mutation(img, tmp_path, machine), Linux 4.14's outcome, line must contain,
#  host differs: None, or why the host kernel cannot be the reference)
CASES = [
    ("good", None, (EXIT, 42), None, None),
    ("bad magic", _ident(1, ord("X")), (ERRNO, errno.ENOEXEC), "not an ELF", None),
    ("ET_REL", _set(e_type=ET_REL), (ERRNO, errno.ENOEXEC), "e_type 1", None),
    ("ET_CORE", _set(e_type=ET_CORE), (ERRNO, errno.ENOEXEC), "e_type 4", None),
    ("e_machine 0", _machine_zero, (ERRNO, errno.ENOEXEC), "e_machine 0 (EM_NONE)", None),
    ("wrong e_machine", _wrong_machine, (ERRNO, errno.ENOEXEC), "e_machine", None),
    # 4.14 reads no e_ident byte but the magic: the 64-bit header is used as is.
    ("EI_CLASS 32-bit only", _ident(4, 1), (EXIT, 42), None, None),
    ("EI_DATA big-endian only", _ident(5, 2), (EXIT, 42), None, None),
    ("e_phentsize 32", _set(e_phentsize=32), (ERRNO, errno.ENOEXEC), "e_phentsize 32", None),
    ("e_phnum 0", _set(e_phnum=0), (ERRNO, errno.ENOEXEC), "e_phnum 0", None),
    ("e_phnum 73", _phnum(73), (EXIT, 42), None, None),
    ("e_phnum 74", _phnum(74), (ERRNO, errno.ENOEXEC), "e_phnum 74",
     "later kernels dropped the bound of one page (ELF_MIN_ALIGN) on the program headers"),
    ("e_phnum 1171", _phnum(1171, fill=False), (ERRNO, errno.ENOEXEC), "e_phnum 1171", None),
    ("e_phnum 0xffff", _phnum(0xFFFF, fill=False), (ERRNO, errno.ENOEXEC), "e_phnum 65535",
     None),
    ("e_phoff past EOF", _set(e_phoff=0x100000), (ERRNO, errno.ENOEXEC), "e_phoff 0x100000",
     None),
    ("e_phoff 2^63", _set(e_phoff=1 << 63), (ERRNO, errno.ENOEXEC), "e_phoff", None),
    ("damaged section headers", _set(e_shoff=0xDEADBEEF, e_shnum=0xFFFF, e_shentsize=3),
     (EXIT, 42), None, None),
    ("truncated tail after the loaded data", _truncated_tail, (EXIT, 42), None, None),
    # mmap past the end of the file is allowed; only a touch there is SIGBUS.
    ("p_filesz past EOF", _load(p_filesz=0x10000, p_memsz=0x10000), (EXIT, 42), None, None),
    ("p_filesz > p_memsz", _load(p_memsz=CODE_OFF), SEGV, "p_filesz", None),
    ("p_offset misaligned", _load(p_offset=0x10), SEGV, "PT_LOAD 0", None),
    ("PT_LOAD p_offset and p_vaddr out of step", _load(p_vaddr=BASE + 0x800), SEGV,
     "PT_LOAD 0", None),
    ("PT_LOAD past TASK_SIZE", _load(p_vaddr=TASK_SIZE_ARM64 + 0x800, p_offset=0x800), SEGV,
     "ENOMEM", None),
    ("p_memsz past TASK_SIZE", _second_load(p_memsz=TASK_SIZE_ARM64), SEGV, "PT_LOAD 1", None),
    ("a bss of 2^46 bytes", _second_load(p_memsz=1 << 46), SEGV, "ENOMEM", None),
    ("overlapping PT_LOADs", _overlap, (EXIT, 42), None, None),
    ("no PT_LOAD", _no_load, SEGV, None, None),
    ("e_entry past TASK_SIZE", _set(e_entry=TASK_SIZE_ARM64 + CODE_OFF), SEGV, "e_entry",
     None),
    ("static PIE", _dyn, (EXIT, 42), None, None),
    ("ET_DYN PT_LOADs out of order", _dyn_out_of_order, SEGV, "PT_LOAD",
     "total_mapping_size() spans the lowest to the highest PT_LOAD since 5.18"),
    ("interpreter", _interp(_good_interp), (EXIT, INTERP_EXIT), None, None),
    ("two PT_INTERPs: the first is missing", _interp(b"/nonexistent/ld.so\0", _good_interp),
     (ERRNO, errno.ENOENT), "/nonexistent/ld.so", None),
    ("two PT_INTERPs: the first is good", _interp(_good_interp, b"/nonexistent/ld.so\0"),
     (EXIT, INTERP_EXIT), None, None),
    ("PT_INTERP p_filesz 1", _interp(b"\0"), (ERRNO, errno.ENOEXEC), "p_filesz 1", None),
    # open_exec(""): getname_kernel() takes "" as the working directory.
    ("PT_INTERP empty string", _interp(b"\0\0"), (ERRNO, errno.EACCES), None, None),
    ("PT_INTERP p_filesz 4097", _interp(b"/" * 4096 + b"\0"), (ERRNO, errno.ENOEXEC),
     "p_filesz 4097", None),
    ("PT_INTERP without a NUL", _interp(lambda t, m: _good_interp(t, m)[:-1] + b"x"),
     (ERRNO, errno.ENOEXEC), "NUL", None),
    ("PT_INTERP past EOF", _interp_past_eof, (ERRNO, errno.EIO), "PT_INTERP p_offset 0x100000",
     None),
    ("interpreter shorter than an ELF header", _interp(_text_interp(17)), (ERRNO, errno.EIO),
     "ELF header", None),
    ("interpreter not an ELF", _interp(_text_interp(100)), (ERRNO, errno.ELIBBAD), "not an ELF",
     None),
    ("interpreter not executable", _interp(_noexec_interp), (ERRNO, errno.EACCES),
     "Permission denied", None),
    ("interpreter e_phnum 0", _interp(_bad_interp(e_phnum=0)), (ERRNO, errno.ELIBBAD),
     "e_phnum 0", None),
    ("interpreter ET_REL", _interp(_bad_interp(e_type=ET_REL)), SEGV, "e_type 1", None),
    # padzero() of a bss in a page that cannot be written: EFAULT in 4.14;
    # 6.7's "binfmt_elf: Only report padzero() errors when PROT_WRITE" lets it run.
    ("bss in a read-only page", _load(p_memsz=0x10000), SEGV, "zero",
     "padzero() errors are ignored without PROT_WRITE since 6.7"),
]

IDS = [c[0] for c in CASES]


def build(case, machine, tmp_path):
    name, mutate, *_ = case
    img = Image(machine)
    if mutate is not None:
        mutate(img, tmp_path, machine)
    return img.write(tmp_path / ("prog-%d" % machine))


@pytest.mark.skipif(not HOST_IS_X86_64, reason="the reference programs are x86-64")
@pytest.mark.parametrize("case", [c for c in CASES if c[4] is None], ids=lambda c: c[0])
def test_host_kernel_agrees(case, tmp_path):
    """The reference: the host kernel gives the outcome the table says."""
    assert host_outcome(build(case, EM_X86_64, tmp_path)) == case[2]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cli(case, tmp_path):
    """`a53emu run` gives the shell's status and, when it refuses, one line
    naming the field."""
    name, mutate, outcome, words, _ = case
    prog = build(case, EM_AARCH64, tmp_path)
    p = run_a53emu([prog], timeout=60)
    err = p.stderr.decode()
    assert p.returncode == cli_status(outcome), (p.returncode, err)
    assert "Traceback" not in err and "internal error" not in err, err
    if outcome[0] != EXIT:
        lines = err.splitlines()
        assert len(lines) == 1, lines
        if words is not None:
            assert words in lines[0], lines[0]
    else:
        assert err == "", err


# One case of each outcome runs by default; the rest are marked slow.
GUEST_FAST = {"good", "e_phnum 1171", "two PT_INTERPs: the first is missing",
              "PT_INTERP empty string", "PT_INTERP past EOF", "interpreter not an ELF",
              "p_filesz > p_memsz", "a bss of 2^46 bytes"}


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c[0], marks=() if c[0] in GUEST_FAST else pytest.mark.slow)
    for c in CASES if c[2][0] != EXIT or c[0] == "good"])
def test_guest_execve(case, tmp_path):
    """A guest's execve() of the file: the errno Linux returns, or (past the
    point of no return) the caller killed by SIGSEGV."""
    prog = build(case, EM_AARCH64, tmp_path)
    got, p = guest_execve_outcome(tmp_path, prog)
    kind, value = case[2]
    if kind == ERRNO:
        assert got == value, (got, p.stderr)
    elif kind == KILLED:
        assert got == (KILLED, value), (got, p.stderr)
        if case[3] is not None:         # killed by the loader, not by a fault of the program
            assert b"point of no return" in p.stderr and case[3].encode() in p.stderr, p.stderr
    else:
        assert got == value, (got, p.stderr)


# -- what only the board can show ---------------------------------------------------------

@pytest.mark.parametrize("va_bits,status", [(48, 42), (39, 139)])
def test_load_at_0xffffffff0800(tmp_path, va_bits, status):
    """A PT_LOAD at 0xffffffff0800 lies below arm64's 48-bit TASK_SIZE: 4.14
    maps it (MAP_FIXED, into the stack's range; argv at the very top is not
    touched) and the program runs; with 39-bit VAs it is past TASK_SIZE
    (ENOMEM after the point of no return: SIGSEGV).  The host cannot say:
    x86-64's TASK_SIZE is 2^47."""
    img = Image()
    vaddr = 0xFFFFFFFF0800
    img.set_load(p_vaddr=vaddr - 0x800 + 0x800, p_paddr=vaddr, p_offset=0x800,
                 p_filesz=CODE_OFF - 0x800 + len(img.code), p_memsz=CODE_OFF - 0x800 + len(img.code))
    img.e_entry = vaddr + CODE_OFF - 0x800
    prog = img.write(tmp_path / "high")
    p = run_a53emu(["--va-bits", str(va_bits), prog], timeout=60)
    assert p.returncode == status, p.stderr
    assert b"internal error" not in p.stderr and b"Traceback" not in p.stderr


@pytest.mark.parametrize("kind", ["fifo", "socket", "chardev"])
def test_program_not_a_regular_file(tmp_path, kind):
    """A FIFO, socket or device as PROGRAM: EACCES (126) at once — a FIFO is
    never opened, so no writer is waited for.  The host says EACCES too."""
    if kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path, 0o755)
    elif kind == "socket":
        path = tmp_path / "sock"
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
        os.chmod(path, 0o755)
    else:
        path = "/dev/null"
    if HOST_IS_X86_64 and kind != "chardev":
        assert host_outcome(path) == (ERRNO, errno.EACCES)
    p = run_a53emu([path], timeout=20)
    assert p.returncode == 126, p.stderr
    lines = p.stderr.decode().splitlines()
    assert len(lines) == 1 and "Permission denied" in lines[0], lines
    got, p = guest_execve_outcome(tmp_path, path)
    assert got == errno.EACCES, p.stderr


def test_real_interpreter_without_nul(tmp_path):
    """A PT_INTERP naming a real ld.so but lacking its NUL: ENOEXEC (126),
    never a crash."""
    ld = b"/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1"
    if not os.path.exists(ld):
        pytest.skip("no AArch64 ld.so on this host")
    img = Image()
    img.add_interp(ld)
    p = run_a53emu([img.write(tmp_path / "p")], timeout=60)
    assert p.returncode == 126, p.stderr
    assert b"NUL" in p.stderr


@pytest.mark.parametrize("flags,perms", [(None, "rw-p"), (PF_R | PF_W, "rw-p"),
                                         (PF_R | PF_W | PF_X, "rwxp")])
def test_pt_gnu_stack(tmp_path, flags, perms):
    """PT_GNU_STACK with PF_X makes the stack VMA executable (EXSTACK_ENABLE_X);
    without it, or without PF_X, arm64's stack is rw-."""
    img = Image()
    if flags is not None:
        img.phdrs.append(Phdr(PT_GNU_STACK, flags, 0, 0, 0, 0, 0, 16))
    p = run_a53emu(["--maps", img.write(tmp_path / "p")], timeout=60)
    assert p.returncode == 42, p.stderr
    stack = [ln for ln in p.stderr.decode().splitlines() if ln.endswith("[stack]")]
    assert len(stack) == 1 and stack[0].split()[1] == perms, stack
