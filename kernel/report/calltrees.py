"""The call graphs of a run in its report (`--report FILE --callgraph brk,mmap,fault`).

kernel/callgraph.py records, for each chosen system call and page fault,
the tree of kernel functions that ran, with arguments and results.  Here
each tree becomes nested HTML: a <details> per tree (closed, so a page of
a thousand faults stays short), a <details open> per call that made calls
of its own, so a reader folds away what does not interest them.  No
script is needed to fold; the report's few lines of script only open the
tree a link (from the timeline, the call's row, the fault's row) points at.

Trees are data (plain dicts, hex strings): the same run gives the same
bytes.  Past --report-limit trees, or past a node budget (a page must stay
readable), the rest are counted by call, never dropped silently.
"""

from html import escape

# Calls of all drawn trees together, per --report-limit item: at the
# default limit 1000, 20,000 calls (~2 MB of HTML) before the rest of the
# trees are only counted.
NODES_PER_LIMIT = 20


def h(text):
    return escape(str(text), quote=True)


def tree_anchor(seq):
    return "cg-%d" % seq


def tree_title(tree):
    """'brk(0x0) = 0x4b9000' / 'fault at 0x4b9000 esr=0x92000047'."""
    if tree["kind"] == "syscall":
        return "%s(%s) = %s" % (tree["name"], ", ".join(tree["args"]), tree["ret"])
    return "fault at %s esr=%s" % (tree["addr"], tree["esr"])


def node_html(node, out):
    """One call as <li>: name(args) = result; its children nested inside."""
    args = ", ".join('%s=<span class="cv">%s</span>' % (h(n), h(v))
                     for n, v in node["args"] if n != "self")
    text = ('<code title="%s"><b>%s</b>(%s) = <span class="cr">%s</span></code>' % (
        h(node["module"]), h(node["func"]), args, h(node["result"])))
    kids = node["children"]
    if kids or node["cut"]:
        out.append("<li><details open><summary>%s</summary><ul>" % text)
        for child in kids:
            node_html(child, out)
        if node["cut"]:
            out.append('<li class="cut">... %d calls below not shown</li>' % node["cut"])
        out.append("</ul></details></li>")
    else:
        out.append("<li>%s</li>" % text)
    for later in node.get("after", ()):
        node_html(later, out)


def tree_html(tree, back):
    """The <details> of one tree; `back` is (anchor, text) of what it is the
    tree of in the report's tables, or None."""
    cut = ""
    if tree["cut"]:
        cut = ", %d more below depth %d%s not shown" % (
            tree["cut"], tree["depth_limit"],
            " or past the node budget" if tree["max_nodes_hit"] else "")
    link = ' <a href="#%s">%s</a>' % (back[0], h(back[1])) if back else ""
    out = ['<details class="cg" id="%s"><summary>#%d <code>%s</code> (pid %d %s, %d calls%s)'
           "</summary>%s<ul class=\"tree\">" % (
               tree_anchor(tree["seq"]), tree["seq"], h(tree_title(tree)), tree["tid"],
               h(tree["comm"]), tree["nodes"], h(cut), link)]
    if tree["root"] is not None:
        node_html(tree["root"], out)
    out.append("</ul>")
    if tree["errors"]:
        out.append('<p class="agg">the recorder failed inside this call: %s</p>'
                   % h("; ".join(tree["errors"])))
    out.append("</details>")
    return "".join(out)


# Only in a report with call graphs: the default report's bytes stay as they were.
CSS = """
ul.tree,ul.tree ul{list-style:none;margin:0;padding-left:1.2em;border-left:1px dotted #bbb}
ul.tree li{margin:1px 0}ul.tree details{margin:0}ul.tree summary{font:inherit}
ul.tree code{font-size:12px}.cv{color:#1f5fa8}.cr{color:#a8321f}.cut{color:#777}
details.cg{margin:.3em 0}details.cg:target>summary{background:#ffc}
a.cgl{text-decoration:none}
"""

# A link to a tree (from figure 4 or a table) opens it: browsers open a
# closed <details> for a fragment inside it, not for the <details> itself.
SCRIPT = """
function openTree() {
  var t = document.getElementById(location.hash.slice(1));
  if (t && t.classList.contains('cg')) { t.open = true; t.scrollIntoView(); }
}
window.addEventListener('hashchange', openTree);
openTree();
"""


class CallTrees:
    """Which trees the report draws (the first --report-limit, within the
    node budget) and the links between them and the calls and faults."""

    def __init__(self, rec):
        self.rec = rec
        graphs = rec.callgraphs
        self.trees = graphs.trees
        self.depth_limit = graphs.depth_limit
        budget = NODES_PER_LIMIT * rec.limit
        self.drawn = []
        self.left = {}
        for tree in self.trees:
            if len(self.drawn) < rec.limit and tree["nodes"] <= budget:
                self.drawn.append(tree)
                budget -= tree["nodes"]
            else:
                self.left[tree["name"]] = self.left.get(tree["name"], 0) + 1
        seqs = {t["seq"] for t in self.drawn}
        self.of_sys = {n: seq for n, seq in rec.tree_of_sys.items() if seq in seqs}
        self.of_fault = {n: seq for n, seq in rec.tree_of_fault.items() if seq in seqs}
        # the way back: to the rows the tables list (the first --report-limit)
        listed = {s[0] for s in rec.syscalls}
        self.sys_of = {seq: n for n, seq in self.of_sys.items() if n in listed}
        listed = {f["n"] for f in rec.faults}
        self.fault_of = {seq: n for n, seq in self.of_fault.items() if n in listed}

    def sys_link(self, n):
        """The anchor of system call n's tree, or None."""
        seq = self.of_sys.get(n)
        return tree_anchor(seq) if seq is not None else None

    def fault_link(self, n):
        seq = self.of_fault.get(n)
        return tree_anchor(seq) if seq is not None else None

    def section(self):
        """The report's part 5: the trees, each linked back to its call or fault."""
        rec = self.rec
        parts = ["<style>%s</style>" % CSS,
                 '<h2 id="callgraphs">5. Call graphs</h2>',
                 '<p class="note">The kernel functions that ran for each chosen call and fault '
                 "(--callgraph), in the order they ran, with their arguments and results (a "
                 "VMA as its range, other objects by class). Click a call or a fault in figure "
                 "4 or in the tables to open its tree; hover a function for its module. Depth "
                 "limit %d.</p>" % self.depth_limit]
        for tree in self.drawn:
            seq = tree["seq"]
            if seq in self.sys_of:
                back = ("sys-%d" % self.sys_of[seq], "system call %d" % self.sys_of[seq])
            elif seq in self.fault_of:
                back = ("fault-%d" % self.fault_of[seq], "page fault %d" % self.fault_of[seq])
            else:
                back = None
            parts.append(tree_html(tree, back))
        if self.left:
            parts.append('<p class="agg">%d more trees not drawn (--report-limit %d, or more '
                         "than %d calls in all): %s</p>" % (
                             sum(self.left.values()), rec.limit, NODES_PER_LIMIT * rec.limit,
                             h(", ".join("%s %d" % kv for kv in sorted(self.left.items())))))
        if not self.trees:
            parts.append("<p>None of the chosen calls ran.</p>")
        parts.append("<script>%s</script>" % SCRIPT)
        return "\n".join(parts)
