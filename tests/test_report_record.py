"""The report's recorder follows the VMAs by their events (kernel/report/record.py):
after every call and fault, what it believes is alive is what a full look at
the VMA list finds — which fails as soon as a change of a VMA emits no vma
event (mremap growing in place did not).  And the mremap event itself."""

import re
import struct

import pytest

from conftest import run_a53emu, userland_path
import report_tiny
from report_tiny import MAP_PRIVATE_ANONYMOUS, PAGE, PROT_RW, SYS_EXIT_GROUP, SYS_MMAP, \
    SYS_MUNMAP, XZR, call

from emu import a64
from emu.board import Board
from kernel.main import Kernel
from kernel.report.record import Recorder, vma_list

SYS_MREMAP = 216


def mremap_program():
    """Map four pages, unmap the top three, write the first, grow it back to
    three pages in place with mremap (no MREMAP_MAYMOVE), write the third."""
    code = call(SYS_MMAP, 0, 4 * PAGE, PROT_RW, MAP_PRIVATE_ANONYMOUS, 0, 0)
    code += [a64.add(20, 0, XZR), a64.movz(10, PAGE), a64.add(0, 20, 10)]
    code += call(SYS_MUNMAP, None, 3 * PAGE)
    code += [a64.str_x(XZR, 20), a64.add(0, 20, XZR)]
    code += call(SYS_MREMAP, None, PAGE, 3 * PAGE, 0)
    code += [a64.movz(10, 2 * PAGE), a64.add(21, 0, 10), a64.str_x(XZR, 21)]
    code += call(SYS_EXIT_GROUP, 0)
    return b"".join(struct.pack("<I", insn) for insn in code)


class CheckedRecorder(Recorder):
    """After each look, the alive VMAs are those of the whole list."""

    looks = 0

    def capture_state(self, x):
        super().capture_state(x)
        mm = self.mm
        if mm is None or self.dirty:
            return
        now = {self.record_of(v, mm) for v in vma_list(mm)}
        assert set(self.alive) == now, (x, set(self.alive) ^ now)
        assert self.alive_starts == sorted(r[0] for r in now)
        CheckedRecorder.looks += 1


def run_checked(path, argv):
    kernel = Kernel(Board(ram_size=64 << 20, cores=1), deterministic=True)
    rec = CheckedRecorder(kernel, [("exit", 0)])
    task = kernel.exec_init(str(path), argv, [])
    kernel.run(task)
    assert task.exit_code == 0
    return rec


@pytest.mark.parametrize("prog,args", [
    ("malloc_story", []), ("munmap_split", []), ("mprotect", []), ("mlock_mincore", []),
    ("fuzz_syscalls", ["1", "2", "100"]), ("fuzz_syscalls", ["4", "2", "100"])])
def test_events_tell_every_change(prog, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)         # the guest's files (fuzz_syscalls writes some)
    before = CheckedRecorder.looks
    rec = run_checked(userland_path("musl", prog), [prog] + args)
    assert CheckedRecorder.looks - before > 5 and rec.nstates > 3


def test_mremap_in_place_is_an_event(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prog = tmp_path / "grow"
    prog.write_bytes(report_tiny.elf(mremap_program()))
    prog.chmod(0o755)
    rec = run_checked(prog, ["grow"])
    # the three-page VMA was born at the mremap (call 3), the one-page one died there
    spans = {(r[0], r[1]): (born, gone) for r, born, gone in rec.lifetimes}
    spans.update({(r[0], r[1]): (born, None) for r, born in rec.alive.items()})
    (grown,) = [s for s in spans if s[1] - s[0] == 3 * PAGE]
    assert spans[grown] == (3, None) and spans[(grown[0], grown[0] + PAGE)][1] == 3
    r = run_a53emu(["--trace", "vma", prog])
    assert r.returncode == 0
    lines = [ln for ln in r.stderr.decode().splitlines() if "mremap grows in place" in ln]
    assert lines == ["[vma] mremap grows in place: %#x-%#x rw-p 00000000 " % grown]


def test_fault_below_every_vma_is_in_no_vma(tmp_path):
    """segfault.c writes to 0x10, below every VMA: find_vma() answers with the
    lowest VMA, which the fault is not in — the trace and the report say no VMA."""
    out = tmp_path / "r.html"
    r = run_a53emu(["--deterministic", "--trace", "fault", "--report", out,
                    userland_path("musl", "segfault")])
    assert r.returncode == 139
    (line,) = [ln for ln in r.stderr.decode().splitlines() if ln.startswith("[fault] user at 0x10 ")]
    assert line.endswith(" -> no vma => SIGSEGV (SEGV_MAPERR)"), line
    row = re.search(r'<tr class="k-signal"><td>\d+</td><td>\d+</td><td>0x10</td>(.*?)</tr>',
                    out.read_text(encoding="utf-8")).group(1)
    assert "<td>none</td>" in row


def test_break_moving_inside_its_page_is_noted(tmp_path, monkeypatch):
    """brk(+2 KiB) maps the heap's first page; brk(+3 KiB) moves the break
    inside it (no VMA changes): figure 2's brk line moves at that call."""
    monkeypatch.chdir(tmp_path)
    code = call(report_tiny.SYS_BRK, 0)
    code += [a64.add(19, 0, XZR), a64.movz(10, 0x800), a64.add(0, 19, 10)]
    code += call(report_tiny.SYS_BRK, None)
    code += [a64.movz(10, 0xC00), a64.add(0, 19, 10)]
    code += call(report_tiny.SYS_BRK, None)
    code += call(SYS_EXIT_GROUP, 0)
    prog = tmp_path / "brk"
    prog.write_bytes(report_tiny.elf(b"".join(struct.pack("<I", i) for i in code)))
    prog.chmod(0o755)
    rec = run_checked(prog, ["brk"])
    start = rec.brks[0][1]
    assert [(x, brk - start) for x, _, brk in rec.brks] == [(0, 0), (2, 0x800), (3, 0xC00)]
