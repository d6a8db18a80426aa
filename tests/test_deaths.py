"""Each way a program can die gets its own exact one-line report.

The programs are a few hand-encoded AArch64 instructions (tests/elf_forge.py),
so each dies of exactly one thing: the signal's si_code is named as the
kernel set it (looked up per signal: SEGV_ACCERR and BUS_ADRERR are both 2),
and no field of the line is ever empty.
"""

import re
import signal
import struct

import pytest

from conftest import run_a53emu
from elf_forge import (
    A64_ADD_X0_X0_X2, A64_BRK0, A64_MOV_X1_X0, A64_MOV_X4_X0,
    A64_SVC0, A64_UDF, AT_FDCWD, BASE, DATA_OFF, NR_GETPID, NR_GETTID,
    NR_KILL, NR_MMAP, NR_OPENAT, NR_RT_SIGACTION, NR_RT_SIGRETURN, NR_TGKILL, Image,
    a64_ldr, a64_mov64, a64_mov_sp, a64_str, a64_syscall, execve_probe, program,
)

UNMAPPED = 0x10000              # below the program, never mapped
PC = r"at pc 0x[0-9a-f]+"


def _sigaction_data():
    """struct sigaction {handler, flags, restorer, mask} for a handler that
    never gets to run."""
    return struct.pack("<QQQQ", BASE + 0x2000, 0, 0, 0)


def _getpid_kill(sig):
    return a64_syscall(NR_GETPID) + a64_mov64(1, sig) + a64_mov64(8, NR_KILL) + [A64_SVC0]


def _self_path_bus(path):
    """mmap 64 KiB of the program's own (12 KiB) file and read past its end."""
    words = a64_syscall(NR_OPENAT, AT_FDCWD, BASE + DATA_OFF, 0)
    words += [A64_MOV_X4_X0]
    words += a64_mov64(0, 0) + a64_mov64(1, 0x10000) + a64_mov64(2, 1) + a64_mov64(3, 2)
    words += a64_mov64(5, 0) + a64_mov64(8, NR_MMAP) + [A64_SVC0]
    words += a64_mov64(2, 0x8000) + [A64_ADD_X0_X0_X2, a64_ldr(1, 0)]
    return program(words, path + b"\0")


def _past_no_return(tmp_path):
    bad = Image()
    size = bad.load().p_filesz
    bad.set_load(p_memsz=size - 0x100)
    target = bad.write(tmp_path / "bad")
    return execve_probe(str(target).encode())


CASES = {
    "SEGV_MAPERR": (lambda tmp: program(a64_mov64(1, 0x10) + [a64_ldr(0, 1)]), 139,
                    r"Segmentation fault \(SEGV_MAPERR: no mapping\) on DABT_LOW read, "
                    r"translation fault at level \d at address 0x10 " + PC),
    "SEGV_ACCERR": (lambda tmp: program(a64_mov64(1, BASE) + [a64_str(0, 1)]), 139,
                    r"Segmentation fault \(SEGV_ACCERR: not permitted\) on DABT_LOW write, "
                    r"(translation|permission) fault at level \d at address 0x400000 " + PC),
    "BUS_ADRERR": (lambda tmp: _self_path_bus(str(tmp / "prog").encode()), 135,
                   r"Bus error \(BUS_ADRERR: past the end of the file\) on DABT_LOW read, "
                   r"translation fault at level \d at address 0x[0-9a-f]+000 " + PC),
    "ILL_ILLOPC": (lambda tmp: program([A64_UDF]), 132,
                   r"killed by SIGILL \(ILL_ILLOPC: illegal opcode\): undefined instruction "
                   r"00000000 \(udf #0\) " + PC),
    "TRAP_BRKPT": (lambda tmp: program([A64_BRK0]), 133,
                   r"killed by SIGTRAP \(TRAP_BRKPT: breakpoint\): brk instruction " + PC),
    "bad rt_sigreturn frame": (
        lambda tmp: program(a64_mov64(0, UNMAPPED) + [a64_mov_sp(31, 0)]
                            + a64_syscall(NR_RT_SIGRETURN)), 139,
        r"Segmentation fault \(SI_KERNEL: sent by the kernel\) on bad rt_sigreturn frame "
        + PC),
    "unwritable signal frame": (
        lambda tmp: program(a64_syscall(NR_RT_SIGACTION, signal.SIGUSR1, BASE + DATA_OFF, 0, 8)
                            + a64_mov64(0, UNMAPPED) + [a64_mov_sp(31, 0)]
                            + _getpid_kill(signal.SIGUSR1), _sigaction_data()), 139,
        r"Segmentation fault \(SI_KERNEL: sent by the kernel\) on cannot build the signal "
        r"frame for SIGUSR1 " + PC),
    "kill()": (lambda tmp: program(_getpid_kill(signal.SIGTERM)), 143,
               r"killed by SIGTERM \(SI_USER: sent as by kill\(\)\)$"),
    "tgkill()": (lambda tmp: program(a64_syscall(NR_GETTID) + [A64_MOV_X1_X0]
                                     + a64_syscall(NR_GETPID)[:-1] + [A64_SVC0]
                                     + a64_mov64(2, signal.SIGABRT) + a64_mov64(8, NR_TGKILL)
                                     + [A64_SVC0]), 134,
                 r"killed by SIGABRT \(SI_TKILL: sent by tkill\(\)/tgkill\(\)\)$"),
    "exec past the point of no return": (
        _past_no_return, 139,
        r"Segmentation fault \(SI_KERNEL: sent by the kernel\) on execve: PT_LOAD 0 \(.*\): "
        r"p_filesz 0x[0-9a-f]+ > p_memsz 0x[0-9a-f]+ \(EINVAL after exec's point of no "
        r"return: the process is killed by SIGSEGV\) " + PC),
}


@pytest.mark.parametrize("name", list(CASES))
def test_death_line(name, tmp_path):
    make, status, pattern = CASES[name]
    prog = make(tmp_path).write(tmp_path / "prog")
    p = run_a53emu([prog], timeout=60)
    lines = p.stderr.decode().splitlines()
    assert p.returncode == status, lines
    assert len(lines) == 1, lines
    line = lines[0]
    head = "a53emu: %s: " % prog
    assert line.startswith(head), line
    assert re.fullmatch(pattern, line[len(head):]), line
    assert "()" not in line.replace("kill()", "").replace("tkill()/tgkill()", ""), line
    assert "None" not in line, line
