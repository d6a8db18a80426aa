"""Call graphs as they ran (kernel/callgraph.py): `--callgraph`, `--trace call`,
`--callgraph-dot`, and the trees as data for the report."""

import json
import re
import sys

from conftest import run_a53emu, userland_path

from emu.board import Board
from kernel.callgraph import CallGraphs, callgraph_data, format_dot, format_tree
from kernel.main import Kernel


def call_lines(stderr):
    return [ln[len("[call] "):] for ln in stderr.decode().splitlines() if ln.startswith("[call] ")]


def trees_of(lines):
    """[(header, [body lines])] from the text output."""
    trees = []
    for ln in lines:
        if ln.startswith("#"):
            trees.append((ln, []))
        else:
            trees[-1][1].append(ln)
    return trees


def test_brk_tree_shows_the_path_that_ran(tmp_path):
    p = run_a53emu(["--deterministic", "--callgraph", "brk", userland_path("musl", "malloc_story")],
                   cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    trees = trees_of(call_lines(p.stderr))
    assert trees and all(re.match(r"#\d+ brk\(0x[0-9a-f]+\) = 0x[0-9a-f]+ ", h) for h, _ in trees)
    for header, body in trees:
        # el0_svc -> the handler -> sys_brk, each one level deeper
        assert body[0].startswith("  SyscallTable.el0_svc(")
        assert body[1].startswith("    sys_brk_call(task=task 1 (malloc_story), brk=0x")
        assert body[2].startswith("      sys_brk(")
    # a growing brk runs do_brk_flags, whose result is 0 (success)
    grows = [(h, b) for h, b in trees
             if any(ln.strip().startswith("do_brk_flags(") for ln in b)]
    assert grows, trees
    header, body = grows[0]
    (line,) = [ln for ln in body if ln.strip().startswith("do_brk_flags(")]
    assert line.endswith(" = 0x0") and "mm=MmStruct" in line
    # the result in the header is the heap's new end, also sys_brk's result
    assert header.split(" = ")[1].split()[0] == body[2].rsplit(" = ", 1)[1]


def test_fault_trees_and_the_depth_limit(tmp_path):
    p = run_a53emu(["--deterministic", "--callgraph", "fault,mmap", "--callgraph-depth", "2",
                    userland_path("musl", "malloc_story")], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    trees = trees_of(call_lines(p.stderr))
    faults = [t for t in trees if " fault at 0x" in t[0]]
    mmaps = [t for t in trees if re.match(r"#\d+ mmap\(", t[0])]
    assert faults and mmaps
    for header, body in faults:
        assert body[0].startswith("  Vectors.do_mem_abort(")
        assert body[1].startswith("    do_page_fault(mm=MmStruct, addr=0x")
        # nothing deeper than depth 2 (three levels: 0, 1, 2) is printed as a call
        for ln in body:
            assert (len(ln) - len(ln.lstrip())) // 2 <= 4
    header, body = mmaps[0]
    cut = int(re.search(r"(\d+) more below depth 2 not shown", header).group(1))
    shown = sum(int(m.group(1)) for ln in body for m in [re.search(r"\.\.\. (\d+) calls", ln)] if m)
    assert cut > 0 and shown == cut


def test_trace_call_uses_the_mm_calls(tmp_path):
    p = run_a53emu(["--trace", "call", userland_path("musl", "malloc_story")], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    heads = [h for h, _ in trees_of(call_lines(p.stderr))]
    assert any(" brk(" in h for h in heads) and any(" munmap(" in h for h in heads)
    assert any(" fault at " in h for h in heads)
    assert not any(" writev(" in h for h in heads)


def test_dot_file(tmp_path):
    dot = tmp_path / "g.dot"
    p = run_a53emu(["--callgraph", "munmap", "--callgraph-dot", dot,
                    userland_path("musl", "malloc_story")], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    text = dot.read_text()
    assert text.startswith("digraph callgraphs {") and text.rstrip().endswith("}")
    declared = set(re.findall(r"^    (t\d+n\d+) \[label=", text, re.M))
    edges = re.findall(r"^    (t\d+n\d+) -> (t\d+n\d+);", text, re.M)
    assert edges and all(a in declared and b in declared for a, b in edges)
    clusters = re.findall(r"subgraph cluster_(\d+)", text)
    assert len(clusters) == len(trees_of(call_lines(p.stderr)))
    assert text.count("{") == text.count("}")
    assert 'label="do_munmap(' in text


def test_bad_callgraph_name_is_a_usage_error(tmp_path):
    p = run_a53emu(["--callgraph", "brk,nosuchcall", userland_path("musl", "hello")],
                   cwd=tmp_path)
    assert p.returncode == 2 and b"nosuchcall" in p.stderr


def test_trees_as_data_and_nothing_left_installed():
    """The report's API: plain JSON-able trees; no profiler outlives a call,
    and a kernel without call graphs has its vector untouched."""
    plain = Kernel(Board(ram_size=32 << 20, cores=1))
    assert plain.vectors.el0_svc == plain.syscalls.el0_svc     # the bound method itself
    assert callgraph_data(plain) == []
    kernel = Kernel(Board(ram_size=32 << 20, cores=1))
    graphs = CallGraphs(kernel, {"brk", "fault"}, out=None)
    task = kernel.exec_init(userland_path("musl", "malloc_story"), ["malloc_story"], [])
    kernel.run(task)
    assert sys.getprofile() is None
    trees = callgraph_data(kernel)
    assert trees == graphs.trees and len(trees) > 3
    assert json.loads(json.dumps(trees)) == trees
    kinds = {t["kind"] for t in trees}
    assert kinds == {"syscall", "fault"}
    for t in trees:
        root = t["root"]
        assert root["func"] in ("SyscallTable.el0_svc", "Vectors.do_mem_abort")
        assert all(set(n) >= {"func", "module", "args", "result", "cut", "children"}
                   for n in root["children"])
    assert format_dot(trees).count("subgraph cluster_") == len(trees)


def test_tracing_adds_nothing_to_the_trees(tmp_path):
    """The event bus and its printers run inside the recorded calls but are
    not part of their story: the trees are the same with every tracer on
    (in any format) as with none."""
    def trees(extra):
        out = tmp_path / "out"
        p = run_a53emu(["--deterministic", "--callgraph", "munmap,mmap,fault", "--trace-file", out]
                       + extra + [userland_path("musl", "malloc_story")], cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        lines = call_lines(out.read_bytes())       # the trees go where the traces go
        return [ln for ln in lines if not ln.startswith("#")]
    plain = trees([])
    assert plain
    assert trees(["--trace", "all,kmem"]) == plain
    # json: each tree is an event of the trace, the same tree
    out = tmp_path / "j"
    p = run_a53emu(["--deterministic", "--callgraph", "munmap,mmap,fault", "--trace-format", "json",
                    "--trace-file", out, userland_path("musl", "malloc_story")], cwd=tmp_path)
    assert p.returncode == 0 and b"[call]" not in p.stderr
    events = [json.loads(ln) for ln in out.read_text().splitlines()]
    graphs = [e["tree"] for e in events if e["event"] == "callgraph"]
    text = "".join(format_tree(t) for t in graphs).encode()
    assert [ln for ln in call_lines(text) if not ln.startswith("#")] == plain
    # each after the exit of its call
    for e in events:
        if e["event"] == "callgraph":
            before = events[e["seq"] - 2]
            if e["tree"]["kind"] == "fault":
                assert before["event"] == "fault"
                assert before["addr"] & ~0xFFF == int(e["tree"]["addr"], 16)
            else:
                assert before["event"] == "syscall" and before["name"] == e["tree"]["name"]


def test_dot_alone_and_a_bad_depth(tmp_path):
    """--callgraph-dot alone draws the default calls and prints no tree;
    a negative depth is a usage error."""
    dot = tmp_path / "g.dot"
    p = run_a53emu(["--callgraph-dot", dot, userland_path("musl", "malloc_story")], cwd=tmp_path)
    assert p.returncode == 0 and b"[call]" not in p.stderr
    titles = re.findall(r'label="#\d+ (\w+)[( ]', dot.read_text())
    assert {"brk", "mmap", "munmap", "fault"} <= set(titles) <= {
        "brk", "mmap", "munmap", "mprotect", "mremap", "fault"}
    p = run_a53emu(["--callgraph-depth", "-1", "--callgraph", "brk",
                    userland_path("musl", "hello")], cwd=tmp_path)
    assert p.returncode == 2 and b"--callgraph-depth" in p.stderr


def test_node_budget_is_counted_not_dropped(monkeypatch):
    import kernel.callgraph as callgraph
    monkeypatch.setattr(callgraph, "MAX_NODES", 5)
    kernel = Kernel(Board(ram_size=32 << 20, cores=1))
    graphs = CallGraphs(kernel, {"mmap"}, out=None)
    task = kernel.exec_init(userland_path("musl", "malloc_story"), ["malloc_story"], [])
    kernel.run(task)
    assert graphs.trees
    for tree in graphs.trees:
        assert tree["nodes"] == 5 and tree["max_nodes_hit"] and tree["cut"] > 0

        def count(node):
            return 1 + sum(count(c) for c in node["children"])

        def cut(node):
            return node["cut"] + sum(cut(c) for c in node["children"])
        assert count(tree["root"]) == 5 and cut(tree["root"]) == tree["cut"]
        assert "or past 5 calls not shown" in format_tree(tree).splitlines()[0]
