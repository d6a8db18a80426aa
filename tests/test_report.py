"""`a53emu run --report FILE` (kernel/report/): the HTML report of a run.

Structure (the figures exist; the VMA bands are the run's /proc/PID/maps;
the descriptors listed are the ones the MMU walks; a descriptor decodes to
the bits it was built from), byte-stability, a saved reference of a tiny
program, aggregation past --report-limit, usage errors, that recording
changes nothing the guest sees, and the page in headless Chromium.
"""

import os
import re
import shutil
import subprocess
import sys
from html import unescape

import pytest

from conftest import ROOT, emu_env, run_a53emu, userland_path
import report_tiny

from emu.arch import (
    MAIR_ATTR_NAMES, PTE_AF, PTE_NG, PTE_PXN, PTE_RDONLY, PTE_SHARED, PTE_USER, PTE_UXN,
)
from kernel.mm.mm import PTE_DIRTY, VM_GROWSDOWN
from kernel.mm.mmap import STACK_GUARD_GAP

REFERENCE = ROOT / "tests" / "report" / "tiny.html"
MAPS_LINE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) ", re.M)


def report_of(tmp_path, args, name="r.html", env=None, cwd=None):
    out = tmp_path / name
    r = run_a53emu(["--deterministic", "--report", out] + list(args), env=env, cwd=cwd)
    assert r.returncode == 0, r.stderr.decode()
    return out.read_text(encoding="utf-8"), r


def malloc_story(libc):
    return userland_path(libc, "malloc_story")


def snapshot_rows(html, anchor):
    """[(start, end, perms)] of the VMA table of snapshot `anchor`."""
    rows = re.findall(r'<tr id="%s-vma-\d+"[^>]*><td>\d+</td><td>0x([0-9a-f]+)-0x([0-9a-f]+)'
                      r"</td><td>([^<]+)</td>" % anchor, html)
    return [(int(s, 16), int(e, 16), p) for s, e, p in rows]


def section(html, start, end):
    i = html.index(start)
    return html[i:html.index(end, i)]


def test_figures_exist_and_vmas_match_maps(libc, tmp_path):
    html, r = report_of(tmp_path, ["--maps", malloc_story(libc)])
    maps = [(int(s, 16), int(e, 16), p) for s, e, p in MAPS_LINE.findall(r.stderr.decode())]
    assert len(maps) >= 5
    # (3) at exit, the VMA list is the run's final /proc/self/maps
    assert snapshot_rows(html, "snap0") == maps
    # (1) the layout at exit: one band per VMA
    layout = section(html, '<h2 id="layout">', "</figure>")
    bands = re.findall(r"<title>0x([0-9a-f]+)-0x([0-9a-f]+) ([rwxsp-]{4}) ", layout)
    assert [(int(s, 16), int(e, 16), p) for s, e, p in bands] == maps
    # (2) over time: the bands alive at the end are the same VMAs
    over = section(html, '<h2 id="over-time">', "</figure>")
    end = int(re.search(r"(\d+) system calls", html).group(1)) + 1
    last = re.findall(r"<title>0x([0-9a-f]+)-0x([0-9a-f]+) ([rwxsp-]{4}) [^<]*, system calls "
                      r"\d+-%d</title>" % end, over)
    assert sorted((int(s, 16), int(e, 16), p) for s, e, p in last) == maps
    # the story: brk grew the heap (several heap bands), a munmap removed the big block
    heap_bands = re.findall(r"<title>0x[0-9a-f]+-0x[0-9a-f]+ rw-p \[heap\]", over)
    assert len(heap_bands) >= 2
    assert re.search(r'class="op op-remove"><title>system call \d+ \(munmap\)', over)
    assert 'class="brk"' in over
    # (3) and (4): the rbtree, the tables, the bit fields, the fault lanes
    for needle in ('class="rbnode"', "L0 table at", "L3 table at", "bits 47:12 output address",
                   "VA bit split of", 'class="fault k-anonymous"', 'class="fault k-file"',
                   "Resident pages per VMA at exit", "<h4>struct mm_struct</h4>"):
        assert needle in html, needle
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_rbtree_nodes_are_the_vmas(libc, tmp_path):
    """Every VMA is a node; colours and rb_subtree_gap are those of the kernel's tree:
    the gap of a node is the largest free gap in its subtree (augmented rbtree)."""
    html, _ = report_of(tmp_path, [malloc_story(libc)])
    rows = re.findall(r'<tr id="snap0-vma-(\d+)"[^>]*><td>\d+</td><td>0x([0-9a-f]+)-0x([0-9a-f]+)'
                      r"</td><td>[^<]+</td><td>0x([0-9a-f]+)</td><td>[^<]+</td><td>[^<]*</td>"
                      r"<td>(red|black)</td><td>([^<]+)</td><td>([^<]+)</td><td>0x([0-9a-f]+)</td>",
                      html)
    # vm_start_gap(): a stack's gap ends stack_guard_gap below it
    vmas = {int(i): (int(s, 16) - (STACK_GUARD_GAP if int(f, 16) & VM_GROWSDOWN else 0),
                     int(e, 16), c, l, rr, int(g, 16))
            for i, s, e, f, c, l, rr, g in rows}
    prev_end = {i: vmas[i - 1][1] if i else 0 for i in vmas}

    def check(i):
        if i is None:
            return 0, 0
        s, e, colour, left, right, gap = vmas[i]
        kids = [int(x[1:]) if x != "-" else None for x in (left, right)]
        sub = [check(k) for k in kids]
        own = s - prev_end[i]
        assert gap == max([own] + [g for g, _ in sub]), i
        return gap, 1 + sum(n for _, n in sub)

    children = {int(x[1:]) for v in vmas.values() for x in v[3:5] if x != "-"}
    roots = [i for i in vmas if i not in children]
    assert len(roots) == 1 and vmas[roots[0]][2] == "black"
    assert check(roots[0])[1] == len(vmas)
    assert html.count('class="rbnode"') >= len(vmas)


def test_descriptors_are_what_the_mmu_walks(libc, tmp_path):
    """The level-3 descriptor the report lists for a VA is the one `a53emu
    walk --at exit` reads for it, and the descriptor links its VMA."""
    html, _ = report_of(tmp_path, [malloc_story(libc)])
    rows = re.findall(r"<tr[^>]*><td>\d+</td><td>0x[0-9a-f]+</td><td>0x([0-9a-f]{16})</td>"
                      r"<td>page</td>.*?<td>0x([0-9a-f]+)</td><td><a href=\"#snap0-vma-(\d+)\">",
                      html)
    assert len(rows) >= 5
    picked = rows[:: max(1, len(rows) // 4)][:4]
    addrs = ["%#x" % int(va, 16) for _, va, _ in picked]
    walk = subprocess.run([sys.executable, "-m", "emu", "walk", "--deterministic", "--at", "exit",
                           str(malloc_story(libc)), "--"] + addrs, cwd=ROOT, env=emu_env(),
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    text = walk.stdout.decode()
    maps = snapshot_rows(html, "snap0")
    for (desc, va, vma), addr in zip(picked, addrs):
        block = text[text.index(addr + " in pid"):]
        leaf = re.search(r"L3 table 0x[0-9a-f]+ \[ *\d+\] @0x[0-9a-f]+: 0x([0-9a-f]{16})", block)
        assert leaf.group(1) == desc, addr
        start, end, _ = maps[int(vma)]
        assert start <= int(va, 16) < end


def test_descriptor_bit_fields_decode():
    """A page descriptor built from named bits comes back field by field."""
    from kernel.report.render import desc_fields
    frame = 0x4003A000
    attr = 4
    desc = (frame | PTE_UXN | PTE_PXN | PTE_DIRTY | PTE_NG | PTE_AF | PTE_SHARED | PTE_USER
            | (attr << 2) | 3)
    fields = {name: value for _, _, name, value in desc_fields(desc, 3)}
    assert fields["output address"] == "%#x" % frame
    assert fields["UXN"] == fields["PXN"] == fields["nG"] == fields["AF"] == "1"
    assert fields["SH"] == "11" and fields["AP"] == "01"
    assert fields["AttrIndx"] == "4 %s" % MAIR_ATTR_NAMES[4]
    assert fields["software"] == "DIRTY" and fields["page"] == "1" and fields["valid"] == "1"
    ro = {name: value for _, _, name, value in desc_fields(frame | PTE_RDONLY | PTE_AF | 3, 3)}
    assert ro["AP"] == "10" and ro["UXN"] == "0" and ro["nG"] == "0"
    table = {name: value for _, _, name, value in desc_fields(0x40002000 | 3, 0)}
    assert table["next-level table address"] == "0x40002000"
    fields = desc_fields(desc, 3)
    assert [hi for hi, _, _, _ in fields][0] == 63 and fields[-1][:2] == (0, 0)
    assert all(a[1] == b[0] + 1 for a, b in zip(fields, fields[1:]))   # no bit left out


def test_byte_stable(libc, tmp_path):
    """Two runs of the same program give the same bytes."""
    args = ["--snapshot-at", "syscall:3", "--snapshot-at", "fault:2", malloc_story(libc)]
    a, _ = report_of(tmp_path, args, "a.html")
    b, _ = report_of(tmp_path, args, "b.html")
    assert a == b
    assert "syscall:3: on entry to system call 3" in a and "fault:2: after page fault 2" in a


def tiny_report(tmp_path, extra=()):
    prog = tmp_path / "tiny"
    prog.write_bytes(report_tiny.elf())
    prog.chmod(0o755)
    # A fixed guest environment and a relative program path: the stack
    # layout (strings, auxv) must not depend on the checkout or the tmp dir.
    env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin")}
    html, _ = report_of(tmp_path, ["-U", "PYTHONPATH", "-U", "PATH", "--snapshot-at",
                                   "syscall:3", "--snapshot-at", "exit"] + list(extra)
                        + ["./tiny"], env=env, cwd=tmp_path)
    return html.replace(str(tmp_path), "TMP")


def test_saved_reference(tmp_path):
    """The report of tests/report_tiny.py's program is the saved one.  After
    a deliberate change: A53EMU_REGEN_REPORT=1 pytest -k saved_reference."""
    html = tiny_report(tmp_path)
    if os.environ.get("A53EMU_REGEN_REPORT"):
        REFERENCE.write_text(html, encoding="utf-8")
    assert html == REFERENCE.read_text(encoding="utf-8")
    # what the program did is in it: the five kinds of event it causes
    for needle in ("zero page", "COW", "anonymous", "split at", "mprotect [",
                   "(brk)"):
        assert needle in html, needle


def test_saved_reference_with_call_graphs(tmp_path):
    """--callgraph adds part 5 and the links to it, and changes nothing else:
    without them the page is the saved reference.  Its trees are the
    tiny program's: brk grows the break by 128 KiB from the page after
    the program (do_brk_flags), the read of fresh anonymous memory maps
    the zero page, the write after it copies (do_wp_page)."""
    html = tiny_report(tmp_path, ["--callgraph", "brk,mmap,munmap,mprotect,fault"])
    part5 = html.index("<style>\nul.tree")
    rest = html[:part5] + html[html.index("<script>\ndocument.querySelectorAll", part5):]
    for pattern in (r' id="(sys|fault)-\d+"', r' <a href="#cg-\d+">call graph</a>',
                    r'<a href="#cg-\d+" class="cgl">\n', r'\n</a>(?=\n)',
                    r" \(click: its call graph\)", r' · <a href="#callgraphs">5. call graphs</a>'):
        rest = re.sub(pattern, "", rest)
    assert rest == REFERENCE.read_text(encoding="utf-8")
    trees = html[part5:]
    assert "<code>brk(0x0) = 0x401000</code>" in trees
    assert re.search(r"<b>do_brk_flags</b>\(mm=<span class=\"cv\">MmStruct</span>, addr=<span "
                     r'class="cv">0x401000</span>, request=<span class="cv">0x20000</span>', trees)
    assert trees.count('<details class="cg" id="cg-') == 5 + 4     # five calls, four faults
    assert "<b>do_wp_page</b>" in trees and "<b>do_anonymous_page</b>" in trees


@pytest.mark.parametrize("bad", ["foo", "syscall:0", "syscall:", "fault:x", "exit:1",
                                 "syscall:-1", "Syscall:3"])
def test_bad_snapshot_at(tmp_path, bad):
    r = run_a53emu(["--report", tmp_path / "r.html", "--snapshot-at", bad,
                    userland_path("musl", "hello")])
    assert r.returncode == 2
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "--snapshot-at" in err and "syscall:N" in err


@pytest.mark.parametrize("bad", ["3", "x", "-5", ""])
def test_bad_report_limit(tmp_path, bad):
    r = run_a53emu(["--report", tmp_path / "r.html", "--report-limit", bad,
                    userland_path("musl", "hello")])
    assert r.returncode == 2 and r.stderr.decode().count("\n") == 1


def test_snapshot_at_needs_report():
    r = run_a53emu(["--snapshot-at", "exit", userland_path("musl", "hello")])
    assert r.returncode == 2 and r.stderr.decode().count("\n") == 1


def test_no_report_when_nothing_ran(tmp_path):
    r = run_a53emu(["--report", tmp_path / "r.html", tmp_path / "missing"])
    assert r.returncode == 127 and not (tmp_path / "r.html").exists()


def test_unreached_moment_is_said(tmp_path):
    html, r = report_of(tmp_path, ["--snapshot-at", "syscall:100000",
                                   userland_path("musl", "hello")])
    assert "syscall:100000 was not reached" in html
    assert "--snapshot-at syscall:100000 was not reached" in r.stderr.decode()


def test_aggregation_past_the_limit(libc, tmp_path):
    """Past --report-limit nothing is dropped silently: what is not drawn
    one by one is counted, and the counts add up to the totals."""
    html, _ = report_of(tmp_path, ["--report-limit", "10", malloc_story(libc)])
    nsys, nfault = map(int, re.search(r"(\d+) system calls, (\d+) page faults", html).groups())
    assert nsys > 10 and nfault > 10
    assert "system calls after the first 10 are not listed" in html
    assert "faults after the first 10 are not listed" in html
    assert "drawn as counts per bin" in html
    assert "VMA lifetimes, more than the limit of 10" in html
    byname = re.search(r"<h4>All system calls by name</h4><p>([^<]*)</p>", html).group(1)
    assert sum(int(n) for n in re.findall(r" (\d+)(?:,|$)", unescape(byname))) == nsys
    kinds = re.findall(r"<tr><td>[^<]+</td><td>[^<]*</td><td>(\d+)</td></tr>",
                       section(html, "All faults by kind and VMA", "</table>"))
    assert sum(map(int, kinds)) == nfault


def test_recording_changes_nothing(libc, tmp_path):
    """The guest's output and the --trace lines are the same with a report."""
    prog = userland_path(libc, "mmap_kinds")
    plain = run_a53emu(["--deterministic", "--trace", "fault", "--trace-file", tmp_path / "a",
                        prog])
    html, rep = report_of(tmp_path, ["--trace", "fault", "--trace-file", tmp_path / "b", prog])
    assert plain.returncode == rep.returncode == 0
    assert plain.stdout == rep.stdout and plain.stdout
    traced = (tmp_path / "b").read_text(encoding="utf-8")
    assert (tmp_path / "a").read_text(encoding="utf-8") == traced
    assert "[vma]" not in traced        # the report's classes stay its own


def chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium not installed")
    return path


def test_renders_in_chromium(libc, tmp_path):
    """Headless Chromium loads the report with no console message, runs its
    script (which marks the body), and the figures are in the DOM."""
    browser = chromium()
    _, _ = report_of(tmp_path, ["--snapshot-at", "syscall:4", malloc_story(libc)])
    url = (tmp_path / "r.html").as_uri()
    common = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
              "--user-data-dir=%s" % (tmp_path / "profile")]
    # its caches and settings go to tmp_path too: the test leaves nothing behind
    env = dict(os.environ, HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    r = subprocess.run(common + ["--enable-logging=stderr", "--v=0", "--dump-dom", url],
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
    dom = r.stdout.decode()
    console = [line for line in r.stderr.decode().splitlines() if ":CONSOLE" in line]
    assert console == []
    assert 'data-ready="1"' in dom
    assert dom.count("<svg") >= 8 and 'class="rbnode"' in dom
    shot = tmp_path / "shot.png"
    subprocess.run(common + ["--hide-scrollbars", "--window-size=1250,1600",
                             "--screenshot=%s" % shot, url], capture_output=True, timeout=120,
                   stdin=subprocess.DEVNULL, env=env)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_long_run_stays_under_the_bound(tmp_path):
    """Ten thousand mmap/munmap calls and their faults: everything past the
    limit is aggregated, and the file stays under the README's bound."""
    html, _ = report_of(tmp_path, [userland_path("musl", "bench_mmap_churn"), "5000"])
    assert len(html.encode()) < 3 << 20
    nsys = int(re.search(r"(\d+) system calls", html).group(1))
    assert nsys > 10000
    assert "%d system calls, more than the limit of 1000" % nsys in html
    assert "VMA lifetimes, more than the limit of 1000" in html


def test_tiny_program_faults_and_bands(tmp_path):
    """What tests/report_tiny.py's program does, read back from its report:
    the four faults and their kinds, the pte before and after each, the heap
    band growing with brk, and the munmap'd page missing at exit."""
    from kernel.mm.mm import PTE_SPECIAL
    html = tiny_report(tmp_path)
    table = section(html, "<h3>The page faults</h3>", "</table>")
    rows = [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r'<tr class="k-[^"]+">(.*?)</tr>', table)]
    # columns: #, after call, VA, pc, ESR, decoded, kind, what, VMA, before, after
    assert [r[6] for r in rows] == ["file", "anonymous", "zero page", "COW"]
    # the heap write comes after brk (call 2), the zero-page read after mmap (call 3)
    assert [int(r[1]) for r in rows] == [0, 2, 3, 3]
    cow_before = re.search(r'<tr class="k-COW">.*?</td><td><code>0x([0-9a-f]+)</code>[^<]*</td>'
                           r"<td><code>0x([0-9a-f]+)</code>", html)
    before, after = (int(v, 16) for v in cow_before.groups())
    assert before & PTE_SPECIAL and not after & PTE_SPECIAL        # zero page -> own frame
    assert before & PTE_RDONLY and not after & PTE_RDONLY
    over = section(html, '<h2 id="over-time">', "</figure>")
    heap = re.findall(r"<title>0x401000-0x([0-9a-f]+) rw-p \[heap\]", over)
    assert heap == ["421000"]           # brk(0) made no VMA; brk(+128 KiB) made this one
    exit_rows = snapshot_rows(html, "snap1")
    starts = [s for s, _, _ in exit_rows]
    mapped = [(s, e, p) for s, e, p in exit_rows if 0xfffff7ffa000 <= s < 0xfffff7fff000]
    assert [p for _, _, p in mapped] == ["r--p", "rw-p", "rw-p"]
    hole = mapped[1][1]
    assert hole not in starts and mapped[2][0] == hole + report_tiny.PAGE


@pytest.mark.slow
def test_many_vmas_stay_under_the_bound(tmp_path):
    """3000 VMAs alive at once (tests/report_tiny.py's many_vmas_program):
    the tables are cut at the limit, the figures merge adjacent VMAs, and
    the file stays under the README's bound."""
    prog = tmp_path / "many"
    prog.write_bytes(report_tiny.elf(report_tiny.many_vmas_program(1500)))
    prog.chmod(0o755)
    html, r = report_of(tmp_path, ["--maps", prog])
    maps = MAPS_LINE.findall(r.stderr.decode())
    assert len(maps) > 3000
    assert len(html.encode()) < 3 << 20
    assert "%d VMAs after the first 1000 are not listed" % (len(maps) - 1000) in html
    assert "adjacent ones of one kind drawn as one band" in html
    assert "adjacent VMAs of one kind are drawn there as one band" in html
