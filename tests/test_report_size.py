"""The report of a run with thousands of VMAs stays under the README's bound
(3 MB) and still says what a teacher needs (kernel/report/render.py):

- past --report-limit unmapped stretches, VMAs of one kind with the
  smallest holes between them are one hatched band (figures 1 and 2), whose
  title counts the VMAs and the holes, and the page says so;
- holes between VMAs of different kinds are never bridged: past the limit
  the largest stay breaks with their size, the others plain lines;
- a zigzag is written once per figure and drawn with <use>;
- a crowded column of figure 2 merges its records as a plain merge of
  every record would (the runs are kept as records come and go).
"""

import re
import struct

import pytest
from hypothesis import given, strategies as st

from conftest import run_a53emu, userland_path
import report_tiny
from report_tiny import MAP_PRIVATE_ANONYMOUS, PAGE, PROT_RW, SYS_EXIT_GROUP, SYS_MMAP, XZR, call

from emu import a64
from kernel.report.render import BRIDGED_NAME, _joined, _SortedRecords, size_text

BOUND = 3 << 20                     # README, "The report of a run"
MAP_SHARED, MAP_FIXED, MAP_ANONYMOUS = 0x01, 0x10, 0x20
FAULT_VMAS_BASE = 0x100000000       # userland/src/bench_fault_vmas.c: base + i * 8192


def report(tmp_path, args):
    out = tmp_path / "r.html"
    r = run_a53emu(["--deterministic", "--report", out] + [str(a) for a in args], timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return out.read_text(encoding="utf-8"), r


def parts(html):
    layout = html[html.index('<h2 id="layout">'):html.index('<h2 id="over-time">')]
    over = html[html.index('<h2 id="over-time">'):html.index('<h2 id="structures">')]
    return layout, over


def breaks(part):
    """The sizes written beside the zigzags of a figure, and its plain lines."""
    sizes = re.findall(r'<use href="#[^"]+-zz" x="[\d.]+" y="[\d.]+" class="gap"/>\s*'
                       r"<text [^>]*>unmapped ([^<]+)</text>", part)
    return sizes, len(re.findall(r'<line [^>]*class="gap"/>', part))


def fault_vmas_band(n):
    """The title of the band bench_fault_vmas N's VMAs make in figure 1."""
    end = FAULT_VMAS_BASE + (n - 1) * 2 * PAGE + PAGE
    return "%#x-%#x %d anon VMAs (%s) and the %d unmapped stretches between them (%s)" % (
        FAULT_VMAS_BASE, end, n, size_text(n * PAGE), n - 1, size_text((n - 1) * PAGE))


def check_fault_vmas(html, n, limit=1000):
    """What the report of bench_fault_vmas N says about its N VMAs."""
    layout, over = parts(html)
    assert fault_vmas_band(n) in layout
    assert ("unmapped stretches, more than the limit of %d: VMAs of one kind with at most "
            "4 KiB unmapped between them drawn as one hatched band" % limit) in layout
    assert "%s in %d VMAs, %d holes" % (size_text(n * PAGE), n, n - 1) in layout
    # the one-page holes are no break of either figure, the others still are
    for part in (layout, over):
        sizes, plain = breaks(part)
        assert sizes and "4 KiB" not in sizes and plain == 0
        assert len(re.findall(r'<path id="[^"]+-zz" ', part)) == 1
    # figure 2: crowded columns draw the VMAs and their holes as hatched bands
    assert re.search(r'<p class="agg">\d+ unmapped stretches, more than the limit of %d: those '
                     r"of at most 4 KiB between VMAs of one kind are not breaks" % limit, over)
    hatched = re.findall(r'fill="url\(#over-time-holes-k-anon\)"[^>]*><title>(0x[0-9a-f]+)-0x'
                         r"[0-9a-f]+  (\d+) VMAs and the (\d+)" + re.escape(
                             BRIDGED_NAME[BRIDGED_NAME.index(" unmapped"):]), over)
    assert hatched and all(int(s, 16) == FAULT_VMAS_BASE for s, _, _ in hatched)
    assert max(int(v) for _, v, _ in hatched) == n
    assert all(int(holes) == int(v) - 1 for _, v, holes in hatched)
    # part 3 lists the first `limit` VMAs and counts the rest
    assert "%d VMAs after the first %d are not listed" % (n + 7 - limit, limit) in html


def test_one_page_holes_are_bridged(tmp_path):
    """bench_fault_vmas 100 at limit 40: its 100 VMAs and the 99 one-page
    holes between them are one hatched band; larger holes stay breaks."""
    html, r = report(tmp_path, ["--report-limit", "40", "--maps",
                                userland_path("musl", "bench_fault_vmas"), "100"])
    maps = [ln for ln in r.stderr.decode().splitlines()
            if re.match(r"1[0-9a-f]{8}-", ln)]
    assert len(maps) == 100 and maps[0].startswith("100000000-100001000 rw-p")
    check_fault_vmas(html, 100, limit=40)


def test_many_vmas_stay_under_the_bound(tmp_path):
    """bench_fault_vmas 3000 (3,000 one-page VMAs, a hole above each): 4.9 MB
    before the holes were bridged and the zigzags shared."""
    html, _ = report(tmp_path, [userland_path("musl", "bench_fault_vmas"), "3000"])
    assert len(html.encode()) < BOUND
    check_fault_vmas(html, 3000)


@pytest.mark.slow
def test_ten_thousand_vmas_stay_under_the_bound(tmp_path):
    """bench_fault_vmas 10000: 10 MB before, now about as large as 3000's."""
    html, _ = report(tmp_path, [userland_path("musl", "bench_fault_vmas"), "10000"])
    assert len(html.encode()) < BOUND
    check_fault_vmas(html, 10000)


def alternating_program(n):
    """n pairs of one-page mappings, private then shared anonymous (kinds
    anon and shmem), each followed by a one-page hole: 2n VMAs whose holes
    all lie between VMAs of different kinds."""
    code = [a64.movz(21, 1, hw=2), a64.movz(22, n), a64.movz(23, 1), a64.movz(24, 2 * PAGE)]
    loop = len(code)
    for flags in (MAP_PRIVATE_ANONYMOUS | MAP_FIXED, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED):
        code += [a64.add(0, 21, XZR)] + call(SYS_MMAP, None, PAGE, PROT_RW, flags, 0, 0)
        code += [a64.add(21, 21, 24)]
    code.append(a64.msub(22, 23, 23, 22))                       # x22 -= 1
    code.append(a64.cbnz(22, (loop - len(code)) * 4))
    code += call(SYS_EXIT_GROUP, 0)
    return b"".join(struct.pack("<I", insn) for insn in code)


def test_holes_between_kinds_are_breaks(tmp_path):
    """Anon and shmem VMAs in turn, a one-page hole after each: nothing is
    bridged; past the limit the largest holes are breaks with their size
    (the one below the stack's guard gap among them), the others plain."""
    prog = tmp_path / "alternating"
    prog.write_bytes(report_tiny.elf(alternating_program(50)))
    prog.chmod(0o755)
    html, r = report(tmp_path, ["--report-limit", "40", "--maps", prog])
    maps = r.stderr.decode()
    assert maps.count(" rw-p ") >= 50 and maps.count(" rw-s ") == 50
    layout, over = parts(html)
    assert "hatched" not in layout and "url(#" not in html
    for part in (layout, over):
        sizes, plain = breaks(part)
        assert len(sizes) == 40 and plain >= 100 - 40
        assert any(z.endswith(("MiB", "GiB", "TiB")) for z in sizes)
    assert "unmapped stretches past the 40 largest drawn as plain lines" in layout
    n = int(re.search(r"(\d+) unmapped stretches, more than the limit of 40", over).group(1))
    assert n == 40 + breaks(over)[1]


def plain_merge(records, gap):
    """A crowded column's bands, from every record (what _SortedRecords
    keeps as records come and go)."""
    out = []
    count = holes = 0
    for r in sorted(records):
        if out and _joined(out[-1], r, gap):
            count += 1
            holes += r[0] > out[-1][1]
            name = BRIDGED_NAME % (count, holes) if holes else "%d VMAs" % count
            out[-1] = (out[-1][0], r[1], "", r[3], name)
        else:
            count, holes = 1, 0
            out.append(r)
    return out


RECORD = st.tuples(st.integers(0, 40), st.integers(1, 3), st.sampled_from(["anon", "shmem"]))


@given(st.lists(st.tuples(st.booleans(), RECORD), max_size=60), st.sampled_from([0, 1, 2]))
def test_column_runs_are_a_plain_merge(ops, gap):
    column = _SortedRecords(gap)
    alive = set()
    for add, (start, pages, kind) in ops:
        r = (start, start + pages, "rw-p", kind, "")
        if add and r not in alive:
            column.add(r)
            alive.add(r)
        elif not add and r in alive:
            column.remove(r)
            alive.discard(r)
        assert column.items == sorted(alive)
        assert column.merged() == plain_merge(alive, gap)


def touching_program(n):
    """n one-page private anonymous mappings a hole apart, each written
    once: n VMAs with an anon_vma each."""
    code = [a64.movz(21, 1, hw=2), a64.movz(22, n), a64.movz(23, 1), a64.movz(24, 2 * PAGE)]
    loop = len(code)
    code += [a64.add(0, 21, XZR)] + call(SYS_MMAP, None, PAGE, PROT_RW,
                                         MAP_PRIVATE_ANONYMOUS | MAP_FIXED, 0, 0)
    code += [a64.str_x(XZR, 21), a64.add(21, 21, 24), a64.msub(22, 23, 23, 22)]
    code.append(a64.cbnz(22, (loop - len(code)) * 4))
    code += call(SYS_EXIT_GROUP, 0)
    return b"".join(struct.pack("<I", insn) for insn in code)


def test_anon_vmas_are_cut_like_the_vmas(tmp_path):
    """300 written VMAs at limit 100: the structures figure draws the
    anon_vmas of the VMAs it draws, inside its frame, and counts the others;
    the list under the VMA table stops at the limit and counts the rest (a
    report of 3,000 such VMAs drew 3,000 anon_vma boxes, all but a few
    outside the figure, and was 2.7 MB; 10,000 made 4.2 MB)."""
    prog = tmp_path / "touching"
    prog.write_bytes(report_tiny.elf(touching_program(300)))
    prog.chmod(0o755)
    html, _ = report(tmp_path, ["--report-limit", "100", prog])
    snap = html[html.index('<h3 id="snap0">'):html.index("<h4>The rbtree")]
    fig = re.search(r'<svg [^>]*viewBox="0 0 640 (\d+)"[^>]*>\s*<title>mm_struct, VMA list.*?'
                    r"</svg>", snap, re.S)
    height = int(fig.group(1))
    boxes = re.findall(r'<text x="454" y="([\d.]+)" font-size="9">anon_vma #(\d+) ', fig.group(0))
    drawn = re.findall(r"<title>vm_area_struct #\d+</title>", fig.group(0))
    assert boxes and all(float(y) < height for y, _ in boxes)
    assert len(boxes) <= len(drawn) < 300
    assert [int(i) for _, i in boxes] == list(range(len(boxes)))
    listed = re.findall(r"<li>anon_vma #(\d+): ", snap)
    assert [int(i) for i in listed] == list(range(100))
    rest = int(re.search(r"<li>(\d+) anon_vmas after the first 100 are not listed</li>",
                         snap).group(1))
    assert rest >= 200                  # the stack's, the 300 VMAs' (one each)
    assert "%d more anon_vmas, listed in the table" % (100 + rest - len(boxes)) in fig.group(0)
