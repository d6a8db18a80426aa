"""The call graphs in the run report (`--report FILE --callgraph ...`,
kernel/report/calltrees.py): each tree is the path the kernel took for its
call or fault, read back from the HTML and checked against the rest of
the report (the call's arguments and result, the fault's pte after), and
linked both ways with the timeline and the tables."""

import re
import subprocess
from html import unescape

from conftest import run_a53emu, userland_path

from emu.arch import PAGE_MASK, PAGE_SIZE

TREE = re.compile(r'<details class="cg" id="cg-(\d+)"><summary>#\d+ <code>(.*?)</code>.*?'
                  r'</summary>(?: <a href="#([a-z]+-\d+)">[^<]*</a>)?<ul class="tree">(.*?)'
                  r"</ul>(?:<p[^>]*>[^<]*</p>)?</details>\n", re.S)
TOKEN = re.compile(r'<li>|</li>|<li class="cut">([^<]*)</li>|<code title="([^"]+)"><b>([^<]+)</b>'
                   r"\((.*?)\) = <span class=\"cr\">([^<]*)</span></code>", re.S)
ARG = re.compile(r'([A-Za-z_0-9.]+)=<span class="cv">([^<]*)</span>')


class Node:
    def __init__(self, module, func, args, result, parent):
        self.module, self.func, self.result, self.parent = module, func, result, parent
        self.args = {n: unescape(v) for n, v in ARG.findall(args)}
        self.children = []
        self.cut = 0

    def find(self, func):
        """The first call named func in this subtree (depth first), or None."""
        if self.func == func:
            return self
        for c in self.children:
            found = c.find(func)
            if found is not None:
                return found
        return None

    def path(self):
        node, names = self, []
        while node is not None:
            names.append(node.func)
            node = node.parent
        return names[::-1]


def parse_tree(body):
    """The root Node of one tree's <ul class="tree"> body."""
    stack = [None]          # the node each open <li> level belongs to
    roots = []
    last = None
    for m in TOKEN.finditer(body):
        tok = m.group(0)
        if tok == "<li>":
            stack.append(last)
        elif tok == "</li>":
            last = stack.pop()
        elif m.group(1) is not None:
            stack[-1].cut += int(re.search(r"(\d+)", m.group(1)).group(1))
        else:
            parent = stack[-2] if len(stack) >= 2 else None
            node = Node(m.group(2), unescape(m.group(3)), m.group(4), unescape(m.group(5)),
                        parent)
            (parent.children if parent is not None else roots).append(node)
            stack[-1] = node
            last = node
    assert len(roots) >= 1
    return roots[0]


def trees_of(html):
    """{seq: (title, back anchor, root)}."""
    section = html[html.index('<h2 id="callgraphs">'):]
    return {int(seq): (unescape(title), back, parse_tree(body))
            for seq, title, back, body in TREE.findall(section)}


def report(tmp_path, args, name="r.html"):
    out = tmp_path / name
    r = run_a53emu(["--deterministic", "--report", out] + list(args), cwd=tmp_path)
    assert r.returncode == 0, r.stderr.decode()
    return out.read_text(encoding="utf-8"), r


def syscall_rows(html):
    """{n: (name, [raw args], result text, tree anchor)} of the linked rows."""
    rows = re.findall(r'<tr id="sys-(\d+)"><td>\d+</td><td>\d+</td><td>([a-z_0-9]+) '
                      r'<a href="#(cg-\d+)">call graph</a></td><td>([^<]*)</td><td>([^<]*)</td>',
                      html)
    return {int(n): (name, args.split(", "), unescape(ret), link)
            for n, name, link, args, ret in rows}


def test_brk_trees_are_the_path_sys_brk_took(tmp_path):
    """Each brk's tree: el0_svc -> sys_brk_call -> sys_brk; one that grows
    the heap calls do_brk_flags(old break, the growth) = 0; the tree's
    head, its call's row and sys_brk's own result agree."""
    html, r = report(tmp_path, ["--callgraph", "brk", userland_path("musl", "malloc_story")])
    assert b"[call]" not in r.stderr            # the trees went into the report only
    trees = trees_of(html)
    rows = syscall_rows(html)
    assert rows and len(rows) == len(trees)
    brk_now = None
    grew = 0
    for n in sorted(rows):
        name, args, ret, link = rows[n]
        assert name == "brk"
        seq = int(link[3:])
        title, back, root = trees[seq]
        assert back == "sys-%d" % n                 # and the tree links back to its row
        assert title == "brk(%#x) = %s" % (int(args[0], 16), ret)
        assert root.func == "SyscallTable.el0_svc"
        call = root.children[0]
        assert call.func == "sys_brk_call" and call.args["brk"] == "%#x" % int(args[0], 16)
        sys_brk = call.children[0]
        assert sys_brk.func == "sys_brk" and sys_brk.result == ret
        new = int(args[0], 16)
        flags = [c for c in sys_brk.children if c.func == "do_brk_flags"]
        if brk_now is not None and new > brk_now and int(ret, 16) == new:
            old_top = (brk_now + PAGE_SIZE - 1) & PAGE_MASK
            new_top = (new + PAGE_SIZE - 1) & PAGE_MASK
            if new_top > old_top:
                (do_brk,) = flags
                assert do_brk.args["addr"] == "%#x" % old_top
                assert do_brk.args["request"] == "%#x" % (new_top - old_top)
                assert do_brk.result == "0x0"
                # it merged with the heap below: vma_merge's result ends at the new top
                merge = do_brk.find("vma_merge")
                assert merge is not None and merge.result.endswith("-%#x)" % new_top)
                grew += 1
        else:
            assert not flags, n
        brk_now = int(ret, 16)
        # the timeline's mark for the call is a link to the same tree
        assert re.search(r'<a href="#%s" class="cgl">\s*<rect [^>]*><title>%d: brk = ' % (link, n),
                         html)
    assert grew >= 1


def test_anonymous_first_touch_tree(tmp_path):
    """The tree of an anonymous first-touch fault runs do_page_fault ->
    handle_mm_fault -> __handle_mm_fault -> handle_pte_fault ->
    do_anonymous_page, Linux 4.14's chain, and the pte it sets is the fault
    row's 'pte after'."""
    html, _ = report(tmp_path, ["--callgraph", "fault", userland_path("musl", "malloc_story")])
    trees = trees_of(html)
    rows = []
    for kind, n, cells in re.findall(r'<tr class="k-([A-Za-z_]+)" id="fault-(\d+)">(.*?)</tr>', html):
        cells = re.findall(r"<td>(.*?)</td>", cells)
        # columns: #, after call, VA, pc, ESR, decoded, kind, what (+ link), VMA, before, after
        seq = re.search(r'<a href="#cg-(\d+)">call graph</a>', cells[7]).group(1)
        after = re.match(r"(?:<code>)?(0x[0-9a-f]+|0)", cells[10]).group(1)
        rows.append((kind, n, cells[2], cells[4], seq, after))
    assert len(rows) == len(trees) >= 10
    kinds = set()
    for kind, n, va, esr, seq, after in rows:
        title, back, root = trees[int(seq)]
        assert back == "fault-%s" % n
        page = int(va, 16) & PAGE_MASK
        assert title == "fault at %#x esr=%s" % (page, esr)
        assert root.func == "Vectors.do_mem_abort"
        dpf = root.children[0]
        assert dpf.func == "do_page_fault" and dpf.args["addr"] == "%#x" % page
        assert dpf.result.startswith("(0x0, vma[")     # handled, in a VMA
        if kind == "anonymous":
            anon = dpf.find("do_anonymous_page")
            assert anon is not None, n
            assert anon.path()[-5:] == ["do_page_fault", "handle_mm_fault", "__handle_mm_fault",
                                        "handle_pte_fault", "do_anonymous_page"]
            assert anon.args["write"] == "True" and anon.result == "0x0"
            (set_pte,) = [c for c in anon.children if c.func == "PageTables.set_pte_at"]
            assert set_pte.args["addr"] == "%#x" % page
            assert int(set_pte.args["pte"], 16) == int(after, 16)
            kinds.add(kind)
        elif kind == "file":
            assert dpf.find("do_anonymous_page") is None
            assert dpf.find("do_fault").path()[-3:] == ["__handle_mm_fault", "handle_pte_fault",
                                                        "do_fault"]
            kinds.add(kind)
    assert kinds == {"anonymous", "file"}


def test_links_resolve_and_the_default_report_has_no_trees(tmp_path):
    prog = userland_path("musl", "malloc_story")
    html, _ = report(tmp_path, ["--callgraph", "brk,mmap,munmap,fault", prog])
    ids = set(re.findall(r' id="([a-z]+-\d+)"', html))
    links = set(re.findall(r'href="#([a-z]+-\d+)"', html))
    assert links and links <= ids
    assert {i for i in ids if i.startswith("cg-")} <= links     # every tree is reachable
    assert '<a href="#callgraphs">5. call graphs</a>' in html
    again, _ = report(tmp_path, ["--callgraph", "brk,mmap,munmap,fault", prog], "b.html")
    assert again == html                                           # byte-stable
    plain, _ = report(tmp_path, [prog], "c.html")
    assert "callgraphs" not in plain and "cg-" not in plain and 'id="sys-' not in plain


def test_trees_past_the_limit_are_counted(tmp_path):
    html, r = report(tmp_path, ["--report-limit", "10", "--callgraph", "fault,brk",
                                "--trace", "call", userland_path("musl", "malloc_story")])
    drawn = trees_of(html)
    assert len(drawn) == 10
    ids = set(re.findall(r' id="([a-z]+-\d+)"', html))
    assert set(re.findall(r'href="#([a-z]+-\d+)"', html)) <= ids
    text_trees = [ln for ln in r.stderr.decode().splitlines() if re.match(r"\[call\] #\d+ ", ln)]
    left = re.search(r"(\d+) more trees not drawn \(--report-limit 10[^:]*: ([^<]*)</p>", html)
    assert int(left.group(1)) == len(text_trees) - 10
    counts = dict((k, int(v)) for k, v in (p.split() for p in left.group(2).split(", ")))
    assert sum(counts.values()) == int(left.group(1)) and set(counts) <= {"brk", "fault"}


def test_a_link_opens_its_tree_in_chromium(tmp_path):
    """Following a link to a tree opens it (the report's few lines of
    script), with no console message."""
    from test_report import chromium
    browser = chromium()
    html, _ = report(tmp_path, ["--callgraph", "brk", userland_path("musl", "malloc_story")])
    seq = min(trees_of(html))
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PATH": "/usr/bin:/bin"}
    url = (tmp_path / "r.html").as_uri() + "#cg-%d" % seq
    r = subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                        "--user-data-dir=%s" % (tmp_path / "profile"), "--enable-logging=stderr",
                        "--v=0", "--dump-dom", url],
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
    dom = r.stdout.decode()
    assert [ln for ln in r.stderr.decode().splitlines() if ":CONSOLE" in ln] == []
    assert re.search(r'<details class="cg" id="cg-%d" open="">' % seq, dom)
    assert len(re.findall(r'<details class="cg" id="cg-\d+" open="">', dom)) == 1
    assert 'data-ready="1"' in dom
