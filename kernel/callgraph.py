"""Call graphs as they ran (`--callgraph brk,mmap,fault`, `--trace call`).

For each chosen system call and page fault, the tree of kernel functions
that actually ran — el0_svc → sys_brk_call → do_brk_flags → vma_merge … —
with each call's arguments and result.  CodeViz draws every path the source
allows; this is the one path this run took, in the order it took it.

How: the exception vector's el0_svc (and do_mem_abort, for faults) is
wrapped, only when call graphs are asked for, so a run without them pays
nothing.  The wrapper installs a profile function (sys.setprofile; Python
3.11 has no sys.monitoring) for the chosen call only and removes it after.
The profiler records frames of the kernel/ package alone (minus the
tracing modules themselves), summarises arguments (ints in hex, a VMA as
its range, a task as pid and comm, other objects by class name) and stops
descending at a depth limit, counting what it left out — the count is
shown, never dropped silently.

The trees are data first: `CallGraphs.trees` (and `callgraph_data(kernel)`)
is a list of plain dicts and lists, JSON-able, for the HTML report:

    {"seq": 1, "kind": "syscall" | "fault", "name": "brk", "pid": 1, "tid": 1,
     "comm": "malloc_story", "depth_limit": 16, "cut": 0, "nodes": 23,
     "max_nodes_hit": False, "errors": [],
     "nr": 214, "args": ["0x0"], "ret": "0x1058000",        (a system call)
     "addr": "0x1013000", "esr": "0x82000007", "ec": "0x20", (a fault)
     "root": {"func": "el0_svc", "module": "kernel.syscalls.table",
              "args": [["self", "SyscallTable"], ["core", "Core"]],
              "result": "None", "cut": 0, "children": [ ...same shape... ]}}

`cut` on a node counts the calls below it that the depth limit (or the
node budget of one tree) left out; on the tree it is their total.
"""

import os
import sys

from emu.arch import ESR_EC_SHIFT

# Deepest call level recorded below the tree's root (el0_svc or do_mem_abort).
DEFAULT_DEPTH = 16
# Most nodes one tree keeps; a pathological call stays printable.
MAX_NODES = 4000
# Longest summary of one value (strings, lists) in characters.
MAX_VALUE_CHARS = 48

_KERNEL_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# The tracing machinery runs inside the recorded calls but is not their
# story.  Wrappers around the kernel's entry points are transparent (not
# recorded, what they call is); the event bus, its printers and the
# counters are opaque (nothing they call is recorded).
_TRANSPARENT_FILES = {os.path.join(_KERNEL_DIR, name) for name in (
    "callgraph.py", "trace_formats.py", "runtime_stats.py")}
_OPAQUE_FILES = {os.path.join(_KERNEL_DIR, name) for name in (
    "trace.py", "stats.py", os.path.join("syscalls", "strace.py"),
    # the syscall hooks' dispatch (the API's hooks, the report's on_enter)
    os.path.join("syscalls", "hooks.py"))}
# The report's recorder (kernel/report/), fed by the hooks and the bus.
_OPAQUE_DIR = os.path.join(_KERNEL_DIR, "report") + os.sep
# Functions elsewhere that run only for a tracer or --stats.
_OPAQUE_FUNCS = {"PageAllocator.watch_alloc", "Kernel.describe_fault_result"}
# el0_svc's own pieces (issue 8: its fast path and the full one): the tree
# shows what they call under el0_svc, whichever path a call took.
_TRANSPARENT_FUNCS = {"SyscallTable.el0_svc_full", "handler_raised", "syscall_restart"}
_OPAQUE = "opaque"

FAULT = "fault"
DEFAULT_TARGETS = ("brk", "mmap", "munmap", "mprotect", "mremap", FAULT)


def parse_targets(text):
    """'brk,mmap,fault' -> frozenset of names; ValueError names a bad one."""
    from kernel.syscalls.table import SYSCALL_NUMBERS
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ValueError("--callgraph wants system call names and/or 'fault', e.g. brk,fault")
    for name in names:
        if name != FAULT and name not in SYSCALL_NUMBERS:
            raise ValueError("--callgraph: %r is neither a system call nor 'fault'" % name)
    return frozenset(names)


def summarize(value, depth=0):
    """A short text for one argument or result."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return "%#x" % value if value >= 0 else "-%#x" % -value
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 4] + "...'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "%s[%d]" % (type(value).__name__, len(value))
    if isinstance(value, (tuple, list)):
        if depth or len(value) > 4:
            return "%s[%d]" % (type(value).__name__, len(value))
        text = ", ".join(summarize(v, depth + 1) for v in value)
        text = "(%s)" % text if isinstance(value, tuple) else "[%s]" % text
        return text if len(text) <= MAX_VALUE_CHARS else "%s[%d]" % (
            type(value).__name__, len(value))
    cls = type(value).__name__
    if cls == "VmAreaStruct" and hasattr(value, "vm_end"):     # not while __init__ runs
        return "vma[%#x-%#x)" % (value.vm_start, value.vm_end)
    if cls == "Task" and hasattr(value, "comm"):
        return "task %d (%s)" % (value.pid, value.comm)
    if cls == "function":
        return value.__qualname__
    return cls


def _node(frame):
    code = frame.f_code
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount
                             + bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)]
    local = frame.f_locals
    return {"func": code.co_qualname, "module": frame.f_globals.get("__name__", "?"),
            "args": [[n, summarize(local.get(n))] for n in names],
            "result": None, "cut": 0, "children": []}


class _Recorder:
    """The profile function of one recorded call: a stack of open nodes."""

    def __init__(self, depth_limit):
        self.depth_limit = depth_limit
        self.root = None
        self.stack = []             # (frame, node or None when cut)
        self.nodes = 0
        self.cut = 0
        self.errors = []            # the recorder's own failures, kept with the tree
        self.full = False           # calls were left out for the node budget

    def __call__(self, frame, event, arg):
        try:
            self.event(frame, event, arg)
        except Exception as e:      # never into the kernel's code: keep the tree going
            self.errors.append("%s: %s" % (type(e).__name__, e))

    def event(self, frame, event, arg):
        if event == "call":
            if self.stack and self.stack[-1][1] is _OPAQUE:
                self.stack.append((frame, _OPAQUE))
                return
            fname = frame.f_code.co_filename
            if (fname in _OPAQUE_FILES or frame.f_code.co_qualname in _OPAQUE_FUNCS
                    or fname.startswith(_OPAQUE_DIR)):
                self.stack.append((frame, _OPAQUE))
                return
            if (not fname.startswith(_KERNEL_DIR) or fname in _TRANSPARENT_FILES
                    or frame.f_code.co_qualname in _TRANSPARENT_FUNCS):
                return
            parent = None
            for _, node in reversed(self.stack):
                parent = node
                break
            depth = len(self.stack)
            if self.stack and (parent is None or depth > self.depth_limit
                               or self.nodes >= MAX_NODES):
                self.cut += 1
                if parent is not None and depth <= self.depth_limit:
                    self.full = True
                for _, node in reversed(self.stack):
                    if node is not None:
                        node["cut"] += 1
                        break
                self.stack.append((frame, None))
                return
            node = _node(frame)
            self.nodes += 1
            if parent is None:
                if self.root is None:
                    self.root = node
                else:               # a second top-level call: keep it beside the first
                    self.root.setdefault("after", []).append(node)
            else:
                parent["children"].append(node)
            self.stack.append((frame, node))
        elif event == "return":
            if self.stack and self.stack[-1][0] is frame:
                _, node = self.stack.pop()
                if node is not None and node is not _OPAQUE:
                    node["result"] = summarize(arg)


class CallGraphs:
    """Record the trees of the chosen calls of one kernel.

    targets: system call names and/or 'fault'.  out: where each tree is
    printed as it is recorded (None: keep them as data only).  bus: also
    emit each tree as a `callgraph` event (tree=...) for the machine
    formats of kernel/trace_formats.py."""

    def __init__(self, kernel, targets=DEFAULT_TARGETS, out=None, depth=None, bus=False):
        from kernel.syscalls.table import SYSCALL_NUMBERS
        self.kernel = kernel
        self.out = out
        self.bus = bus
        self.depth_limit = DEFAULT_DEPTH if depth is None else depth
        self.numbers = frozenset(SYSCALL_NUMBERS[n] for n in targets if n != FAULT)
        self.trees = []
        self.listeners = []         # fn(tree) after each tree (the report links them)
        self.active = False
        kernel.callgraphs = self
        vectors = kernel.vectors
        if self.numbers:
            inner_svc = vectors.el0_svc

            def el0_svc(core):
                if not self.active and core.syscall_regs()[0] in self.numbers:
                    self.record("syscall", core, inner_svc)
                else:
                    inner_svc(core)
            vectors.el0_svc = el0_svc
        if FAULT in targets:
            inner_abort = vectors.do_mem_abort

            def do_mem_abort(core):
                if self.active:
                    inner_abort(core)
                else:
                    self.record(FAULT, core, inner_abort)
            vectors.do_mem_abort = do_mem_abort

    def record(self, kind, core, call):
        """Run call(core) under the profiler and keep its tree."""
        from kernel.syscalls.table import syscall_name
        task = core.current
        if kind == "syscall":
            regs = core.syscall_regs()
            label = syscall_name(regs[0])
            d = self.kernel.syscalls.lookup(regs[0])
            nargs = d.nargs if d is not None else len(regs) - 1
            detail = {"nr": regs[0], "args": [summarize(a) for a in regs[1:1 + nargs]]}
        else:
            label = FAULT
            detail = {"addr": summarize(core.far_page), "esr": summarize(core.esr_el1),
                      "ec": summarize(core.esr_el1 >> ESR_EC_SHIFT)}
        rec = _Recorder(self.depth_limit)
        self.active = True
        old = sys.getprofile()
        sys.setprofile(rec)
        try:
            call(core)
        finally:
            sys.setprofile(old)
            self.active = False
        if kind == "syscall":
            # x0 holds the result, unless the call went to sleep (it runs
            # again when woken, and that run is a tree of its own)
            from kernel.sched.task import TASK_RUNNING
            x0 = core.syscall_regs()[1]
            x0 = x0 - (1 << 64) if x0 >> 63 else x0         # -errno
            detail["ret"] = (summarize(x0) if task is None or task.state == TASK_RUNNING
                             else "? (slept)")
        tree = {"seq": len(self.trees) + 1, "kind": kind, "name": label,
                "pid": task.tgid if task is not None else 0,
                "tid": task.pid if task is not None else 0,
                "comm": task.comm if task is not None else "",
                "depth_limit": self.depth_limit, "cut": rec.cut, "nodes": rec.nodes,
                "errors": rec.errors, "max_nodes_hit": rec.full,
                "root": rec.root}
        tree.update(detail)
        self.trees.append(tree)
        for listener in self.listeners:
            listener(tree)
        if self.out is not None:
            self.out.write(format_tree(tree))
        if self.bus:
            self.kernel.trace.emit("callgraph", task=task, tree=tree)

    def close(self):
        if self.out is not None:
            self.out.flush()

    def write_dot(self, path):
        with open(path, "w") as f:
            f.write(format_dot(self.trees))


def callgraph_data(kernel):
    """The trees recorded on kernel so far (plain data), [] when none were asked for."""
    graphs = getattr(kernel, "callgraphs", None)
    return list(graphs.trees) if graphs is not None else []


# -- text ---------------------------------------------------------------------------

def _call_text(node):
    args = ", ".join("%s=%s" % (n, v) for n, v in node["args"] if n != "self")
    return "%s(%s) = %s" % (node["func"], args, node["result"])


def format_tree(tree):
    """The tree as indented text, headed by the call it is the story of."""
    if tree["kind"] == "syscall":
        head = "%s(%s) = %s" % (tree["name"], ", ".join(tree["args"]), tree["ret"])
    else:
        head = "fault at %s esr=%s" % (tree["addr"], tree["esr"])
    cut = ""
    if tree["cut"]:
        cut = ", %d more below depth %d%s not shown" % (
            tree["cut"], tree["depth_limit"],
            " or past %d calls" % MAX_NODES if tree["max_nodes_hit"] else "")
    lines = ["[call] #%d %s  (pid %d %s, %d calls%s)" % (
        tree["seq"], head, tree["tid"], tree["comm"], tree["nodes"], cut)]

    def walk(node, indent):
        lines.append("[call] " + "  " * indent + _call_text(node))
        for child in node["children"]:
            walk(child, indent + 1)
        if node["cut"]:
            lines.append("[call] " + "  " * (indent + 1) + "... %d calls not shown" % node["cut"])
        for later in node.get("after", ()):
            walk(later, indent)
    if tree["root"] is not None:
        walk(tree["root"], 1)
    return "\n".join(lines) + "\n"


# -- DOT ----------------------------------------------------------------------------

def _dot_quote(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def format_dot(trees):
    """All trees as one Graphviz digraph, a cluster per tree; node names
    are positional (t<tree>n<node>), so the same run gives the same file."""
    out = ["digraph callgraphs {", "  rankdir=LR;",
           '  node [shape=box, fontname="monospace", fontsize=10];']
    for tree in trees:
        t = tree["seq"]
        if tree["kind"] == "syscall":
            title = "#%d %s(%s) = %s, pid %d" % (t, tree["name"], ", ".join(tree["args"]),
                                                 tree["ret"], tree["tid"])
        else:
            title = "#%d fault at %s pid %d" % (t, tree["addr"], tree["tid"])
        if tree["cut"]:
            title += " (%d calls below depth %d not shown)" % (tree["cut"], tree["depth_limit"])
        out.append("  subgraph cluster_%d {" % t)
        out.append("    label=%s;" % _dot_quote(title))
        counter = [0]

        def emit(node, parent):
            counter[0] += 1
            name = "t%dn%d" % (t, counter[0])
            label = "%s\\n= %s" % (_call_text(node).rsplit(" = ", 1)[0], node["result"])
            if node["cut"]:
                label += "\\n(+%d calls not shown)" % node["cut"]
            out.append("    %s [label=%s];" % (name, _dot_quote(label).replace("\\\\n", "\\n")))
            if parent is not None:
                out.append("    %s -> %s;" % (parent, name))
            for child in node["children"]:
                emit(child, name)
            for later in node.get("after", ()):
                emit(later, parent)
        if tree["root"] is not None:
            emit(tree["root"], None)
        out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"
