"""--trace-format json|chrome|ftrace (kernel/trace_formats.py), from real runs.

Each format is parsed as its readers parse it (json.loads a line, json.load
the Chrome file, a regex per ftrace line) and checked for content and
order: a system call's entry before the faults on the memory it made, its
exit after, the VMA events between them; tracks named for every task.
"""

import json
import re
from collections import defaultdict

from conftest import run_a53emu, userland_path

PAGE = 4096


def traced(tmp_path, fmt, program, extra=(), libc="musl", args=()):
    tf = tmp_path / ("trace." + fmt)
    p = run_a53emu(["--deterministic", "--trace-format", fmt, "--trace-file", tf]
                   + list(extra) + [userland_path(libc, program)] + list(args), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    return p, tf.read_text()


# -- json -------------------------------------------------------------------------------

def json_events(tmp_path, program="malloc_story", extra=()):
    p, text = traced(tmp_path, "json", program, extra)
    return p, [json.loads(line) for line in text.splitlines()]


def test_json_every_line_an_event_in_time_order(tmp_path):
    p, events = json_events(tmp_path)
    kinds = {e["event"] for e in events}
    # every class of the bus that this program exercises
    assert {"sys_enter", "syscall", "fault", "vma_insert", "vma_split", "vma_remove",
            "pte_set", "pte_clear", "tlb_flush", "sched_switch", "switch_mm", "exit",
            "vm_unmapped_area"} <= kinds, kinds
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(events) + 1))
    stamps = [e["ts_ns"] for e in events]
    assert all(a < b for a, b in zip(stamps, stamps[1:])), "timestamps must increase"
    for e in events:
        assert e["cpu"] in (0, 1)
        if e["task"] is not None:
            assert set(e["task"]) == {"pid", "tid", "comm"}
            assert e["task"]["comm"] == "malloc_story"


def test_json_fields_are_plain(tmp_path):
    _, events = json_events(tmp_path)
    perms = re.compile(r"^[r-][w-][x-][ps]$")
    for e in events:
        for key in ("vma", "new"):
            if key in e and e[key] is not None:
                v = e[key]
                assert v["start"] < v["end"] and v["start"] % PAGE == 0 == v["end"] % PAGE
                assert perms.match(v["perms"]), v
        if e["event"] == "fault":
            assert e["esr"]["text"] and e["esr"]["value"] >> 26 == e["esr"]["ec"]
            assert e["esr"]["ec"] in (0x20, 0x24)       # instruction / data abort from EL0
            if e["vma"] is not None:
                assert e["vma"]["start"] <= e["addr"] < e["vma"]["end"]
        if e["event"] == "syscall" and e["ret"] is not None:
            assert e["enter_ns"] <= e["ts_ns"]
        if e["event"] in ("pte_set", "pte_clear"):
            assert e["pte_text"].startswith("pa=0x")


def test_json_brk_enter_exit_then_its_faults(tmp_path):
    """malloc_story grows the heap with brk: the entry, the VMA change and
    the exit come in that order, and the first touch of the new page is a
    fault after the exit (none before the entry)."""
    _, events = json_events(tmp_path)
    exits = [e for e in events if e["event"] == "syscall" and e["name"] == "brk"]
    old = exits[0]["ret"]
    grow = next(e for e in exits if e["args"][0] > old and e["ret"] == e["args"][0])
    enter = next(e for e in reversed(events[:grow["seq"] - 1])
                 if e["event"] == "sys_enter" and e["task"]["tid"] == grow["task"]["tid"])
    assert enter["name"] == "brk" and enter["args"] == grow["args"]
    assert enter["ts_ns"] == grow["enter_ns"]
    between = events[enter["seq"]:grow["seq"] - 1]
    assert any(e["event"] in ("vma_insert", "vma_merge") for e in between), between
    lo, hi = grow["args"][0] - PAGE, grow["args"][0]
    faults = [e for e in events if e["event"] == "fault" and lo <= e["addr"] < hi]
    assert faults, "the new heap page was never touched"
    assert faults[0]["seq"] > grow["seq"]
    assert faults[0]["vma"]["end"] >= hi


def test_json_deterministic_runs_are_identical(tmp_path):
    a = traced(tmp_path, "json", "malloc_story")[1]
    b = traced(tmp_path, "json", "malloc_story")[1]
    assert a == b


def test_tracing_does_not_change_what_the_guest_sees(tmp_path):
    plain = run_a53emu(["--deterministic", userland_path("musl", "malloc_story")],
                       cwd=tmp_path)
    p, _ = traced(tmp_path, "json", "malloc_story")
    assert p.stdout == plain.stdout and plain.returncode == 0


# -- chrome -----------------------------------------------------------------------------

def test_chrome_trace_structure(tmp_path):
    _, text = traced(tmp_path, "chrome", "threads", extra=["--trace", "syscall,fault,sched,vma"])
    doc = json.loads(text)
    events = doc["traceEvents"]
    assert doc["displayTimeUnit"] == "ns"
    names = {}
    for e in events:
        assert e["ph"] in ("M", "X", "i"), e
        assert isinstance(e["pid"], int) and isinstance(e["name"], str)
        if e["ph"] == "M":
            if e["name"] == "thread_name":
                names[(e["pid"], e["tid"])] = e["args"]["name"]
            continue
        assert isinstance(e["tid"], int) and e["ts"] >= 0
        if e["ph"] == "X":
            assert e["dur"] >= 0
        else:
            assert e["s"] in ("t", "g")
    # every track that has events is named, cores included
    used = {(e["pid"], e["tid"]) for e in events if e["ph"] != "M"}
    assert used <= set(names), used - set(names)
    core_tracks = {name for key, name in names.items() if name.startswith("core ")}
    assert core_tracks == {"core 0", "core 1"}
    # one track per task: the threads program made several, all named for it
    task_tracks = [key for key, name in names.items() if name == "threads"]
    assert len(task_tracks) > 2
    # a task runs one system call at a time: its X events do not overlap
    per_task = defaultdict(list)
    for e in events:
        if e["ph"] == "X" and e["cat"] == "syscall":
            per_task[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"], e["name"]))
    assert set(per_task) <= set(task_tracks)
    for spans in per_task.values():
        spans.sort()
        for (s1, e1, n1), (s2, e2, n2) in zip(spans, spans[1:]):
            assert e1 <= s2, (n1, n2)
    calls = {n for spans in per_task.values() for _, _, n in spans}
    assert {"clone", "futex", "exit", "exit_group"} & calls and "mmap" in calls
    # faults are instants on task tracks; the cores' tracks show who ran
    assert any(e["ph"] == "i" and e["cat"] == "fault" for e in events)
    ran = [e for e in events if e["ph"] == "X" and e["cat"] == "sched"]
    assert ran and all(e["pid"] == ran[0]["pid"] for e in ran)


# -- ftrace -------------------------------------------------------------------------------

LINE = re.compile(r"^ *(?P<comm>\S+)-(?P<pid>\d+) +\[(?P<cpu>\d{3})\] +(?P<s>\d+)\.(?P<us>\d{6}): "
                  r"(?P<sys>\w+):(?P<event>\w+): (?P<fields>.*)$")


def ftrace_lines(tmp_path, program="malloc_story", extra=()):
    _, text = traced(tmp_path, "ftrace", program, extra)
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, line
        out.append(m)
    return out


def test_ftrace_lines_and_order(tmp_path):
    lines = ftrace_lines(tmp_path, extra=["--trace", "all,kmem"])
    stamps = [int(m["s"]) * 10**6 + int(m["us"]) for m in lines]
    assert stamps == sorted(stamps)
    names = {"%s:%s" % (m["sys"], m["event"]) for m in lines}
    assert {"syscalls:sys_enter_brk", "syscalls:sys_exit_brk", "exceptions:page_fault_user",
            "kmem:mm_page_alloc", "kmem:mm_page_free", "mmap:vm_unmapped_area",
            "tlb:tlb_flush", "sched:sched_switch", "sched:sched_process_exit"} <= names, names
    for m in lines:
        name, fields = "%s:%s" % (m["sys"], m["event"]), m["fields"]
        if name == "syscalls:sys_enter_brk":
            assert re.fullmatch(r"brk: 0x[0-9a-f]{8,}", fields), fields
        elif name.startswith("syscalls:sys_exit_"):
            assert re.fullmatch(r"0x[0-9a-f]+", fields), fields
        elif name == "exceptions:page_fault_user":
            assert re.fullmatch(r"address=0x[0-9a-f]+ ip=0x[0-9a-f]+ error_code=0x[0-9a-f]+",
                                fields)
        elif name == "kmem:mm_page_alloc":
            f = re.fullmatch(r"page=0x([0-9a-f]+) pfn=(\d+) order=0 migratetype=0 "
                             r"gfp_flags=GFP_HIGHUSER(\|__GFP_ZERO)?", fields)
            assert f and int(f[1], 16) >> 12 == int(f[2]), fields
        elif name == "tlb:tlb_flush":
            assert re.fullmatch(r"pages:-?\d+ reason:[a-z ]+ \(\d\)", fields), fields
        elif name == "sched:sched_switch":
            assert re.fullmatch(r"prev_comm=\S+ prev_pid=\d+ prev_prio=\d+ prev_state=\S+ ==> "
                                r"next_comm=\S+ next_pid=\d+ next_prio=\d+", fields), fields
    # every mmap: enter, then the search for a hole, the VMA, the exit with its address
    text = ["%s:%s: %s" % (m["sys"], m["event"], m["fields"]) for m in lines]
    for i, ln in enumerate(text):
        if ln.startswith("syscalls:sys_enter_mmap: addr: 0x00000000,"):
            j = next(k for k in range(i, len(text)) if text[k].startswith("syscalls:sys_exit_mmap"))
            ret = text[j].split()[-1]
            hole = [t for t in text[i:j] if t.startswith("mmap:vm_unmapped_area: addr=%s " % ret)]
            assert hole, text[i:j + 1]
            assert any(t.startswith("a53emu:vma_") for t in text[i:j]), text[i:j + 1]


def test_ftrace_fork_and_exec(tmp_path):
    lines = ftrace_lines(tmp_path, program="exec", extra=["--trace", "syscall,sched"])
    text = ["%s:%s: %s" % (m["sys"], m["event"], m["fields"]) for m in lines]
    assert any(re.fullmatch(r"task:task_newtask: pid=\d+ comm=\S+ clone_flags=[0-9a-f]+ "
                            r"oom_score_adj=0", t) for t in text), text
    assert any(t.startswith("sched:sched_process_exec: filename=") for t in text), text
    pids = {int(m["pid"]) for m in lines}
    assert len(pids) >= 2


def test_bad_trace_format_is_a_usage_error(tmp_path):
    p = run_a53emu(["--trace-format", "xml", userland_path("musl", "hello")], cwd=tmp_path)
    assert p.returncode == 2 and b"--trace-format" in p.stderr


def test_signal_delivery_follows_its_fault(tmp_path):
    """signals.c catches a SIGSEGV of its own: the fault (no VMA) comes first,
    then the delivery to the handler, in both formats."""
    _, text = traced(tmp_path, "json", "signals", extra=["--trace", "syscall,fault"])
    events = [json.loads(ln) for ln in text.splitlines()]
    (i, sig) = next((i, e) for i, e in enumerate(events) if e["event"] == "signal")
    assert sig["info"]["signo"] == 11 and sig["handler"] > 0
    fault = events[i - 1]
    assert fault["event"] == "fault" and fault["addr"] == sig["info"]["addr"]
    # find_vma() gives the first VMA ending above the address: here one above it
    assert fault["vma"] is None or fault["addr"] < fault["vma"]["start"]
    assert fault["task"] == sig["task"]
    lines = [m for m in ftrace_lines(tmp_path, "signals", extra=["--trace", "syscall,fault"])]
    names = ["%s:%s" % (m["sys"], m["event"]) for m in lines]
    k = names.index("signal:signal_deliver")
    assert names[k - 1] == "exceptions:page_fault_user"
    assert re.fullmatch(r"sig=11 errno=0 code=1 sa_handler=[0-9a-f]+ sa_flags=[0-9a-f]+",
                        lines[k]["fields"])


def test_chrome_deterministic_runs_are_identical(tmp_path):
    a = traced(tmp_path, "chrome", "fork_cow", args=["cow"])[1]
    b = traced(tmp_path, "chrome", "fork_cow", args=["cow"])[1]
    assert a == b and json.loads(a)["traceEvents"]


def test_chrome_every_call_is_one_complete_event(tmp_path):
    """signals.c: handlers return through rt_sigreturn (no return value) and
    the process ends in exit_group: each call entered is one X event, as
    many per name as the json trace of the same run has entries."""
    _, text = traced(tmp_path, "json", "signals", extra=["--trace", "syscall"])
    entered = defaultdict(int)
    for ln in text.splitlines():
        e = json.loads(ln)
        if e["event"] == "sys_enter":
            entered[e["name"]] += 1
    _, text = traced(tmp_path, "chrome", "signals", extra=["--trace", "syscall"])
    drawn = defaultdict(int)
    for e in json.loads(text)["traceEvents"]:
        if e["ph"] == "X" and e["cat"] == "syscall":
            drawn[e["name"]] += 1
    assert entered["rt_sigreturn"] >= 2 and entered["exit_group"] == 1
    assert drawn == entered


def test_kmem_is_named_not_all(tmp_path):
    """`all` leaves kmem out (every frame is a line); named, the text trace
    shows each frame allocated and freed, as many frees as allocations of
    the frames the process let go at exit."""
    tf = tmp_path / "t"
    p = run_a53emu(["--trace", "all", "--trace-file", tf, userland_path("musl", "hello")],
                   cwd=tmp_path)
    assert p.returncode == 0 and "[kmem]" not in tf.read_text()
    p = run_a53emu(["--trace", "kmem", "--trace-file", tf, userland_path("musl", "hello")],
                   cwd=tmp_path)
    assert p.returncode == 0
    lines = tf.read_text().splitlines()
    allocs = [ln.split()[3] for ln in lines if ln.startswith("[kmem] alloc frame pa=0x")]
    frees = [ln.split()[3] for ln in lines if ln.startswith("[kmem] free  frame pa=0x")]
    assert allocs and frees and set(frees) <= set(allocs)
    assert all(ln.startswith("[kmem] ") for ln in lines)


def test_reports_stay_out_of_machine_traces(tmp_path):
    """--stats and --maps print to stderr when the trace file is json or
    chrome: the file stays one document its readers load."""
    tf = tmp_path / "t.json"
    p = run_a53emu(["--stats", "--maps", "--callgraph", "brk", "--trace-format", "chrome",
                    "--trace-file", tf, userland_path("musl", "malloc_story")], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    events = json.loads(tf.read_text())["traceEvents"]
    assert any(e.get("cat") == "callgraph" for e in events)
    assert b"Performance counter stats" in p.stderr and b"[heap]" in p.stderr
    tf = tmp_path / "t.jsonl"
    p = run_a53emu(["--stats", "--maps", "--trace-format", "json", "--trace-file", tf,
                    userland_path("musl", "hello")], cwd=tmp_path)
    assert p.returncode == 0 and b"Performance counter stats" in p.stderr
    assert all(json.loads(ln) for ln in tf.read_text().splitlines())
