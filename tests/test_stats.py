"""`--stats`: the counters printed at exit, perf stat style.

The instruction counts are checked exactly on hand-assembled programs whose
instruction count is known, on both cores of a threads program, and against
the deterministic clock they drive.
"""

import re
import struct

import pytest

from conftest import run_a53emu, userland_path

LOAD_ADDR = 0x400000
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")

NOP = 0xD503201F
SVC_0 = 0xD4000001
SUBS_X1_X1_1 = 0xF1000421
B_NE_BACK_1 = 0x54FFFFE1           # b.ne .-4


def movz(rd, imm16, shift=0):
    """MOVZ Xd, #imm16, LSL #shift."""
    return 0xD2800000 | (shift // 16) << 21 | imm16 << 5 | rd


EXIT_0 = [movz(0, 0), movz(8, 93), SVC_0]     # exit(0): three instructions


def write_elf(path, insns):
    """A static AArch64 ET_EXEC whose only segment is `insns` (no sections)."""
    code = b"".join(struct.pack("<I", i) for i in insns)
    header = EHDR.size + PHDR.size
    ident = b"\x7fELF\x02\x01\x01".ljust(16, b"\0")
    ehdr = EHDR.pack(ident, 2, 183, 1, LOAD_ADDR + header, EHDR.size, 0, 0,
                     EHDR.size, PHDR.size, 1, 0, 0, 0)
    size = header + len(code)
    phdr = PHDR.pack(1, 5, 0, LOAD_ADDR, LOAD_ADDR, size, size, 0x1000)
    path.write_bytes(ehdr + phdr + code)
    path.chmod(0o755)
    return str(path)


def stats_of(stderr):
    """{(counter, core or None): value} from the report."""
    stderr = stderr.decode()
    found = {}
    for m in re.finditer(r"^ +([\d,]+) +(\S+) *(?:# core (\d))?", stderr, re.M):
        core = int(m.group(3)) if m.group(3) else None
        found.setdefault((m.group(2), core), int(m.group(1).replace(",", "")))
    return found


@pytest.mark.parametrize("nops", [0, 1, 2000])
def test_straight_line_code_counts_exactly(tmp_path, nops):
    """nops NOPs (crossing pages: each new page is an instruction abort,
    taken before the instruction runs) then exit: nops + 3 instructions."""
    prog = write_elf(tmp_path / "nops", [NOP] * nops + EXIT_0)
    r = run_a53emu(["--stats", "--cores", "1", prog])
    assert r.returncode == 0, r.stderr
    s = stats_of(r.stderr)
    assert s[("instructions", 0)] == nops + 3
    assert s[("syscalls", None)] == 1
    assert s[("exit", None)] == 1


def test_loop_counts_every_iteration(tmp_path):
    """mov x1, #N; 1: subs x1, x1, #1; b.ne 1b; exit — 1 + 2N + 3, on a
    quantum boundary too (N is larger than a --deterministic slice)."""
    n = 300_000
    prog = write_elf(tmp_path / "loop", [movz(1, n & 0xFFFF), 0xF2A00001 | (n >> 16) << 5,
                                          SUBS_X1_X1_1, B_NE_BACK_1] + EXIT_0)
    for mode in ([], ["--deterministic"]):
        r = run_a53emu(["--stats", "--cores", "1"] + mode + [prog])
        assert r.returncode == 0, r.stderr
        assert stats_of(r.stderr)[("instructions", 0)] == 2 + 2 * n + 3, mode


def test_threads_retire_instructions_on_both_cores():
    """Two computing threads on two cores: each core retires a share of the
    work (the compute loop dwarfs everything else)."""
    r = run_a53emu(["--stats", "--deterministic", userland_path("musl", "bench_threads_compute")])
    assert r.returncode == 0, r.stderr
    s = stats_of(r.stderr)
    c0, c1 = s[("instructions", 0)], s[("instructions", 1)]
    assert c0 > 10**8 and c1 > 10**8, (c0, c1)
    assert s[("tasks", None)] == 3
    assert s[("clone", None)] == 2
    assert s[("context-switches", 0)] + s[("context-switches", 1)] >= 3


def test_no_stats_no_report():
    r = run_a53emu([userland_path("musl", "hello")])
    assert r.returncode == 0
    assert b"Performance counter stats" not in r.stderr


def test_faults_by_kind_and_syscall_times():
    """fork's copy-on-write shows as writes to write-protected pages, its
    old child ptes as access-flag faults, the program's text as fetches
    from a private file mapping; every call named has a time."""
    r = run_a53emu(["--stats", userland_path("musl", "fork_cow"), "cow"])
    assert r.returncode == 0, r.stderr
    text = r.stderr.decode()
    kinds = dict((m.group(2), int(m.group(1).replace(",", ""))) for m in re.finditer(
        r"^ +([\d,]+) {26}(.+)$", text, re.M))
    assert kinds["write to a write-protected page (copy-on-write, dirty tracking)"] > 0
    assert kinds["access flag"] > 0
    assert kinds["not present: instruction fetch, private file mapping"] > 0
    total = stats_of(r.stderr)[("page-faults", None)]
    assert total == sum(kinds.values())
    assert re.search(r"^ +\d+ +clone +# [\d.]+ us each$", text, re.M)
    # Each switch to another address space flushes the core's TLB.
    for core in (0, 1):
        changed = int(re.search(r"# core %d, (\d+) changed mm" % core, text).group(1))
        assert stats_of(r.stderr)[("tlb-flushes", core)] >= changed > 0
