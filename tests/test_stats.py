"""`--stats`: the counters printed at exit, perf stat style.

The instruction counts are checked exactly on hand-assembled programs whose
instruction count is known, on both cores of a threads program, and against
the deterministic clock they drive.
"""

import re
import struct

import pytest

from conftest import drain_pty, run_a53emu, userland_path

LOAD_ADDR = 0x400000
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")

NOP = 0xD503201F
SVC_0 = 0xD4000001
SUBS_X1_X1_1 = 0xF1000421
B_NE_BACK_1 = 0x54FFFFE1           # b.ne .-4
MRS_X1_CNTVCT = 0xD53BE041          # mrs x1, cntvct_el0
MRS_X2_CNTFRQ = 0xD53BE002          # mrs x2, cntfrq_el0
MRS_X3_CNTVCT = 0xD53BE043
ADD_X1_X1_X2 = 0x8B020021
CMP_X3_X1 = 0xEB01007F              # subs xzr, x3, x1
B_LO_BACK_2 = 0x54FFFFC3            # b.lo .-8


def movz(rd, imm16, shift=0):
    """MOVZ Xd, #imm16, LSL #shift."""
    return 0xD2800000 | (shift // 16) << 21 | imm16 << 5 | rd


EXIT_0 = [movz(0, 0), movz(8, 93), SVC_0]     # exit(0): three instructions
# Spin on the virtual counter until two seconds (2 x CNTFRQ ticks) have
# passed, then exit(0): a run of a fixed wall time, however fast the host.
SPIN_TWO_SECONDS = [MRS_X1_CNTVCT, MRS_X2_CNTFRQ, ADD_X1_X1_X2, ADD_X1_X1_X2,
                    MRS_X3_CNTVCT, CMP_X3_X1, B_LO_BACK_2] + EXIT_0


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


# -- issue 7 part 5: TLB fills, peaks, where the time went, the live line --------------

def seconds_of(stderr, name):
    return float(re.search(r"^ +([\d.]+) +%s " % name, stderr.decode(), re.M).group(1))


def test_tlb_fills_peaks_and_time_split(tmp_path):
    """2000 NOPs over three pages, one core: every code page is at least one
    fill; one VMA (the code) plus the stack at most; the time split adds up
    to the wall time; no status line on a pipe."""
    prog = write_elf(tmp_path / "nops", [NOP] * 2000 + EXIT_0)
    r = run_a53emu(["--stats", "--cores", "1", prog])
    assert r.returncode == 0, r.stderr
    s = stats_of(r.stderr)
    code_pages = (EHDR.size + PHDR.size + 4 * 2003 + 4095) // 4096
    assert s[("tlb-fills", 0)] >= code_pages
    assert 2 <= s[("vmas-peak", None)] <= 4, s      # code, stack (and the vDSO)
    assert 0 < s[("frames-peak", None)] <= s[("frames-touched", None)]
    guest, kernel = seconds_of(r.stderr, "seconds-guest"), seconds_of(r.stderr, "seconds-kernel")
    wall = float(re.search(rb"^ +([\d.]+) seconds time elapsed", r.stderr, re.M).group(1))
    assert abs(guest + kernel - wall) < 0.01 and guest >= 0 and kernel > 0
    assert b"\x1b[K" not in r.stderr


def test_tlb_fills_on_both_cores():
    r = run_a53emu(["--stats", "--deterministic", userland_path("musl", "threads")])
    assert r.returncode == 0, r.stderr
    s = stats_of(r.stderr)
    assert s[("tlb-fills", 0)] > 0 and s[("tlb-fills", 1)] > 0


def test_vmas_peak_sees_a_split_undone(tmp_path):
    """munmap_split splits a mapping in three and unmaps them: the peak is
    above the VMAs left at exit."""
    r = run_a53emu(["--stats", "--maps", userland_path("musl", "munmap_split")], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    maps = [ln for ln in r.stderr.decode().splitlines() if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", ln)]
    assert stats_of(r.stderr)[("vmas-peak", None)] >= len(maps) + 1


def test_frames_peak_is_the_true_peak():
    """PageAllocator under watch: the peak counts frames in use at once,
    not frames ever used (freed frames are reused first)."""
    from emu.memory import PhysicalMemory
    from kernel.mm.page_alloc import PageAllocator
    pages = PageAllocator(PhysicalMemory(4 << 20))
    pages.watched, pages.low_water = True, pages.nr_free
    held = [pages.alloc_page() for _ in range(10)]
    for pa in held:
        pages.put_page(pa)
    again = [pages.alloc_page() for _ in range(5)]
    assert pages.frames_peak() == 10 and pages.nr_touched() == 10
    assert len(set(again) & set(held)) == 5
    unwatched = PageAllocator(PhysicalMemory(4 << 20))
    unwatched.alloc_page()
    assert unwatched.frames_peak() == 0          # nothing kept without --stats


def test_live_status_on_a_terminal(tmp_path):
    """stderr on a pseudo-terminal: the status line is redrawn while the run
    lasts and erased at the end.  The guest spins on the virtual counter for
    two seconds of wall time (four status periods), so the test does not
    depend on how fast the host runs a counted loop."""
    import os
    import pty
    import subprocess
    import sys
    from conftest import ROOT, emu_env
    prog = write_elf(tmp_path / "spin", SPIN_TWO_SECONDS)
    master, slave = pty.openpty()
    try:
        p = subprocess.run([sys.executable, "-m", "emu", "run", "--stats", "--cores", "1", prog],
                           cwd=ROOT, env=emu_env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=slave, timeout=120)
    finally:
        os.close(slave)
    out = drain_pty(master)
    os.close(master)
    assert p.returncode == 0
    draws = re.findall(rb"\r\x1b\[Ka53emu: [\d.]+ s  [\d,]+ instructions  [\d,]+ syscalls  "
                       rb"[\d,]+ faults  1 tasks", out)
    assert len(draws) >= 1, out[:500]
    # erased before the report: the report's first line follows an erase
    assert re.search(rb"\r\x1b\[K\r?\n? Performance counter stats", out), out[-2000:]


def test_nothing_wrapped_without_stats():
    """Without --stats the hardware's entry points are the plain methods
    (no wrapper, no counting) and allocations are not watched."""
    from emu.board import Board
    from kernel.main import Kernel
    from kernel.stats import RunStats
    kernel = Kernel(Board(ram_size=32 << 20, cores=2))
    mmu, core = kernel.board.mmu, kernel.board.cores[0]
    assert "tlb_fill" not in vars(mmu) and "run" not in vars(core)
    assert "el0_sync" not in vars(kernel.vectors)
    assert kernel.pages.watched is False
    RunStats(kernel)
    assert "tlb_fill" in vars(mmu) and "run" in vars(core) and kernel.pages.watched


def test_no_live_status_on_the_programs_own_terminal(tmp_path):
    """stdout and stderr on one terminal: the program's lines would tear the
    status line, so it is not drawn."""
    import os
    import pty
    import subprocess
    import sys
    from conftest import ROOT, emu_env
    prog = write_elf(tmp_path / "spin", SPIN_TWO_SECONDS)     # four status periods
    master, slave = pty.openpty()
    try:
        p = subprocess.run([sys.executable, "-m", "emu", "run", "--stats", "--cores", "1", prog],
                           cwd=ROOT, env=emu_env(), stdin=subprocess.DEVNULL,
                           stdout=slave, stderr=slave, timeout=120)
    finally:
        os.close(slave)
    out = drain_pty(master)
    os.close(master)
    assert p.returncode == 0
    assert b"Performance counter stats" in out and b"\x1b[K" not in out
