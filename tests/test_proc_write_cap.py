"""A guest write to a /proc file copies only what the file's handler
accepts (issue 10): 4.14's comm_write() reads TASK_COMM_LEN - 1 bytes of a
write of any length and returns the whole count, so a 1 GiB write to
/proc/self/comm costs the emulator no host memory in proportion to it."""

import struct
import subprocess
import sys

from conftest import ROOT, emu_env
from elf_forge import (
    A64_SVC0, AT_FDCWD, BASE, DATA_OFF, NR_EXIT_GROUP, NR_MMAP, NR_OPENAT, NR_WRITE,
    a64_mov64, a64_str, a64_syscall, program,
)

GIB = 1 << 30
MIB = 1 << 20
O_WRONLY = 1
PROT_READ = 1
MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE = 0x02, 0x20, 0x4000
A64_MOV_X19_X0 = 0xAA0003F3
A64_MOV_X20_X0 = 0xAA0003F4
A64_MOV_X0_X19 = 0xAA1303E0
A64_MOV_X1_X20 = 0xAA1403E1
RESULT = BASE + DATA_OFF + 64


def _comm_writer(path, length):
    """open(path, O_WRONLY); mmap `length` bytes PROT_READ; write them all;
    print write's 8-byte result."""
    words = a64_syscall(NR_OPENAT, AT_FDCWD, BASE + DATA_OFF, O_WRONLY) + [A64_MOV_X19_X0]
    words += a64_syscall(NR_MMAP, 0, length, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, (1 << 64) - 1, 0)
    words += [A64_MOV_X20_X0, A64_MOV_X0_X19, A64_MOV_X1_X20] + a64_mov64(2, length)
    words += a64_mov64(8, NR_WRITE) + [A64_SVC0]
    words += a64_mov64(9, RESULT) + [a64_str(0, 9)]
    words += a64_syscall(NR_WRITE, 1, RESULT, 8) + a64_syscall(NR_EXIT_GROUP, 0)
    img = program(words, path + b"\0" + bytes(64 + 8))
    img.set_load(p_flags=7)
    return img


# Runs a53emu as its only child, so RUSAGE_CHILDREN is that run's peak.
_MEASURE = """
import resource, subprocess, sys
p = subprocess.run([sys.executable, "-m", "emu", "run", "--mem", "64M", sys.argv[1]],
                   capture_output=True)
sys.stdout.buffer.write(p.stdout)
sys.stderr.write("%d %d" % (p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
"""


def test_host_kernel_takes_whole_count():
    """What Linux answers: the whole count (a child writes its own comm)."""
    code = ("import mmap, os\n"
            "m = mmap.mmap(-1, %d, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x4000, "
            "prot=mmap.PROT_READ)\n"
            "fd = os.open('/proc/self/comm', os.O_WRONLY)\n"
            "print(os.write(fd, memoryview(m)))\n" % GIB)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert int(out) == GIB


def test_comm_write_of_a_gib(tmp_path):
    prog = _comm_writer(b"/proc/self/comm", GIB).write(tmp_path / "prog")
    p = subprocess.run([sys.executable, "-c", _MEASURE, str(prog)], cwd=ROOT, env=emu_env(None),
                       capture_output=True, timeout=120)
    status, maxrss_kib = map(int, p.stderr.decode().split()[-2:])
    assert status == 0, p.stderr
    assert struct.unpack("<q", p.stdout)[0] == GIB
    # A copy of the write would be 1 GiB on its own.
    assert maxrss_kib * 1024 < 400 * MIB
