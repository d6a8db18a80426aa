"""Jumps through wild pointers (issue 10): what an A53 under Linux 4.14 does.

A misaligned pc is a PC alignment fault (EC 0x22), taken before the fetch is
translated: el0_sp_pc → do_sp_pc_abort() sends SIGBUS BUS_ADRALN with si_addr
= the pc, whatever is mapped there.  An aligned pc at a kernel or unmapped
address is an instruction abort: SIGSEGV SEGV_MAPERR at the pc — also the
board's own boot ROM, and the top page (0xfffffffffffff000, where the CPU
emulator's stop address used to be).  0xffffffffffffffff is misaligned.

Each program installs an SA_SIGINFO handler for SIGBUS and SIGSEGV that
writes the first 24 bytes of its siginfo (si_signo, si_errno, si_code, the
padding, si_addr) to stdout, then jumps (BR) to the target; the same binary
under qemu-aarch64 (which checks PC alignment since 6.2) gives the same
bytes.
"""

import struct
import subprocess

import pytest

from conftest import qemu_path, run_a53emu
from elf_forge import (
    A64_SVC0, BASE, CODE_OFF, DATA_OFF, NR_EXIT_GROUP, NR_GETPID, NR_KILL, NR_RT_SIGACTION,
    NR_WRITE, Image, a64_mov64, a64_syscall, program,
)
from emu.cpu import ROM_VA

A64_BR_X0 = 0xD61F0000          # br x0
SA_SIGINFO = 4
SIGBUS, SIGSEGV, SIGUSR1 = 7, 11, 10
BUS_ADRALN, SEGV_MAPERR = 1, 1
SIGINFO_HEAD = struct.Struct("<iiiiQ")     # si_signo, si_errno, si_code, pad, si_addr
CODE = BASE + CODE_OFF

TARGETS = {
    "code+1": (CODE + 1, SIGBUS, BUS_ADRALN),
    "code+2": (CODE + 2, SIGBUS, BUS_ADRALN),
    "unmapped+1": (0x1001, SIGBUS, BUS_ADRALN),
    "all ones": ((1 << 64) - 1, SIGBUS, BUS_ADRALN),
    "unmapped": (0x10000, SIGSEGV, SEGV_MAPERR),
    "kernel": (0xFFFF_FFFF_FFFF_FFF0, SIGSEGV, SEGV_MAPERR),
    "top page": (0xFFFF_FFFF_FFFF_F000, SIGSEGV, SEGV_MAPERR),
    "boot ROM": (ROM_VA, SIGSEGV, SEGV_MAPERR),
    "boot ROM+4": (ROM_VA + 4, SIGSEGV, SEGV_MAPERR),
}


def _handler():
    """write(1, siginfo, 24); exit_group(0)."""
    return (a64_mov64(2, SIGINFO_HEAD.size) + a64_mov64(0, 1) + a64_mov64(8, NR_WRITE)
            + [A64_SVC0] + a64_syscall(NR_EXIT_GROUP, 0))


def jump_program(target):
    """sigaction(SIGBUS and SIGSEGV, the handler, SA_SIGINFO); br target."""
    main = []
    for sig in (SIGBUS, SIGSEGV):
        main += a64_syscall(NR_RT_SIGACTION, sig, BASE + DATA_OFF, 0, 8)
    main += a64_mov64(0, target) + [A64_BR_X0]
    # The handler follows main; main's length does not depend on its address.
    handler = CODE + 4 * len(main)
    act = struct.pack("<QQQQ", handler, SA_SIGINFO, 0, 0)
    return program(main + _handler(), act)


def _run(prog, timeout=60):
    p = run_a53emu([prog], timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode()


@pytest.mark.parametrize("name", list(TARGETS))
def test_wild_jump_siginfo(name, tmp_path):
    target, sig, code = TARGETS[name]
    prog = jump_program(target).write(tmp_path / "prog")
    status, out, err = _run(prog, timeout=30)
    assert status == 0, err
    assert len(out) == SIGINFO_HEAD.size, (out, err)
    signo, errno, si_code, _, addr = SIGINFO_HEAD.unpack(out)
    assert (signo, errno, si_code, addr) == (sig, 0, code, target)


@pytest.mark.parametrize("name", ["code+1", "code+2", "unmapped", "kernel", "top page"])
def test_wild_jump_as_qemu(name, tmp_path):
    """qemu-aarch64 gives the same siginfo.  Not compared: the board's ROM
    (qemu's own reserved addresses differ), and a misaligned pc in an
    unmapped page: qemu 7.2 translates the page before its alignment check
    (SIGSEGV), where the architecture orders the PC alignment fault before
    the instruction abort (ARM DDI 0487, synchronous exception
    prioritization) and Linux on an A53 gives SIGBUS."""
    target = TARGETS[name][0]
    prog = jump_program(target).write(tmp_path / "prog")
    ref = subprocess.run([qemu_path(), str(prog)], capture_output=True, timeout=60)
    status, out, _ = _run(prog)
    assert (status, out) == (ref.returncode, ref.stdout)


def test_wild_jump_death_line(tmp_path):
    """Without a handler: status 135 and the line naming BUS_ADRALN and the pc."""
    prog = program(a64_mov64(0, (1 << 64) - 1) + [A64_BR_X0]).write(tmp_path / "prog")
    status, out, err = _run(prog, timeout=30)
    lines = err.splitlines()
    assert status == 128 + SIGBUS, lines
    assert len(lines) == 1, lines
    assert "BUS_ADRALN: misaligned address" in lines[0], lines
    assert "0xffffffffffffffff" in lines[0], lines


def test_misaligned_entry_point(tmp_path):
    """An e_entry with bit 1 set: exec succeeds (4.14's start_thread()
    sets regs->pc = e_entry as it is), the first fetch is a PC alignment
    fault: SIGBUS.  (qemu-aarch64 masks the entry's low bits, elfload.c
    init_thread(), and runs the program.)"""
    img = Image()
    img.e_entry = CODE + 2
    prog = img.write(tmp_path / "prog")
    status, _, err = _run(prog)
    assert status == 128 + SIGBUS, err
    assert "BUS_ADRALN" in err and hex(CODE + 2) in err, err


def test_misaligned_signal_handler(tmp_path):
    """A handler at a misaligned address: delivering the signal sets the pc
    there, and the fetch faults: SIGBUS (SIGUSR1 never runs its handler)."""
    act = struct.pack("<QQQQ", CODE + 1, 0, 0, 0)
    words = a64_syscall(NR_RT_SIGACTION, SIGUSR1, BASE + DATA_OFF, 0, 8)
    words += a64_syscall(NR_GETPID) + a64_mov64(1, SIGUSR1) + a64_mov64(8, NR_KILL) + [A64_SVC0]
    words += a64_syscall(NR_EXIT_GROUP, 3)
    prog = program(words, act).write(tmp_path / "prog")
    ref = subprocess.run([qemu_path(), str(prog)], capture_output=True, timeout=60)
    status, _, err = _run(prog)
    assert ref.returncode == -SIGBUS
    assert status == 128 + SIGBUS, err


SA_NODEFER = 0x40000000


def test_misaligned_jump_repeated(tmp_path):
    """The block translated at a misaligned pc never runs, the second time
    either: a SIGBUS handler (SA_NODEFER) that jumps to the same misaligned
    pc again faults again, three times, then exits with its count."""
    target = CODE + 1
    counter = BASE + DATA_OFF + 32
    main = a64_syscall(NR_RT_SIGACTION, SIGBUS, BASE + DATA_OFF, 0, 8)
    main += a64_mov64(0, target) + [A64_BR_X0]
    handler = a64_mov64(9, counter)
    handler += [0xF940012A,                 # ldr x10, [x9]
                0x9100054A,                 # add x10, x10, #1
                0xF900012A,                 # str x10, [x9]
                0xF1000D5F]                 # cmp x10, #3
    jump = a64_mov64(0, target) + [A64_BR_X0]
    handler += [0x5400000A | (1 + len(jump)) << 5]      # b.ge past the jump
    handler += jump
    handler += [0xAA0A03E0] + a64_mov64(8, NR_EXIT_GROUP) + [A64_SVC0]  # exit_group(x10)
    act = struct.pack("<QQQQ", CODE + 4 * len(main), SA_NODEFER, 0, 0) + bytes(8)
    img = program(main + handler, act)
    img.set_load(p_flags=7)
    prog = img.write(tmp_path / "prog")
    status, _, err = _run(prog, timeout=30)
    assert status == 3, err
