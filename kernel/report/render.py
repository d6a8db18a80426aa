"""Drawing the run report: one self-contained HTML file, inline SVG.

Four parts, as the seed article's lost figures: (1) the process layout,
(2) the VMAs over time, (3) the structures at chosen moments (mm_struct,
the VMA list and rbtree, vm_file and anon_vma, the translation tables with
each descriptor's bit fields), (4) the fault timeline beside the system
call timeline, and resident pages per VMA.  Nothing depends on the clock
or on object identities: the same run gives the same bytes.
"""

import bisect
import math
from html import escape

from emu.arch import (
    DESC_ADDR_MASK, DESC_TABLE, DESC_VALID, MAIR_ATTR_NAMES, PAGE_SHIFT, PAGE_SIZE,
    PTE_AF, PTE_ATTRINDX_MASK, PTE_ATTRINDX_SHIFT, PTE_NG, PTE_PXN, PTE_RDONLY, PTE_USER,
    PTE_SHARED, PTE_UXN, PTRS_PER_TABLE, level_shift,
)
from kernel.mm.mm import PTE_DIRTY, PTE_PRESENT_MASK, PTE_PROT_NONE, PTE_SPECIAL
from kernel.report.record import FAULT_KINDS, MAX_DIAGRAMS, VMA_KINDS, moment_text, ttbr_parts
from kernel.report.svg import Svg, num
from kernel.trace import describe_pte

KIND_COLOURS = {"text": "#4e79a7", "data": "#59a14f", "bss": "#8cd17d", "heap": "#f28e2b",
                "anon": "#edc948", "stack": "#e15759", "shmem": "#b07aa1", "vdso": "#9c755f"}
FAULT_COLOURS = {"zero page": "#bab0ac", "anonymous": "#edc948", "file": "#4e79a7",
                 "COW": "#e15759", "permission": "#b07aa1", "access flag": "#76b7b2",
                 "signal": "#222222"}
OP_COLOURS = {"insert": "#59a14f", "merge": "#4e79a7", "split": "#f28e2b",
              "remove": "#e15759", "expand": "#b07aa1", "mprotect": "#9c755f"}
# The system calls that change an address space, highlighted on the timeline.
MM_SYSCALLS = ("brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "mlock", "munlock",
               "mlockall", "munlockall", "shmat", "shmdt", "execve", "clone", "msync",
               "remap_file_pages", "mlock2", "pkey_mprotect")

PLOT_X = 120            # where the plots start (room for the address labels)
PLOT_W = 860            # width of the time plots
RB_MAX_NODES = 127      # rbtree nodes drawn (deeper ones are counted)
CHAIN_MAX = 48          # VMAs drawn in the mm_struct -> VMA list diagram

CSS = """
body{font:14px/1.4 sans-serif;margin:1em 2em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;font:12px monospace;margin:.5em 0}
td,th{border:1px solid #ddd;padding:1px 5px;text-align:left;vertical-align:top}
th{background:#f4f4f4}tr:target{background:#ffc}
.note{color:#555;font-style:italic}
.agg{background:#fff3e0;padding:2px 6px;border-left:3px solid #f28e2b}
.figs{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
figure{margin:0}figcaption{font-size:12px;color:#444;max-width:700px}
.legend span{display:inline-block;margin-right:1em;cursor:pointer}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
.hidden{display:none}.band:hover{stroke:#000;stroke-width:1.5}
details{margin:.2em 0 .2em 1.2em}summary{cursor:pointer;font:12px monospace}
code{font-size:12px}
"""

# Clicking a legend entry hides or shows the bands of that kind.
SCRIPT = """
document.querySelectorAll('.legend span[data-kind]').forEach(function (s) {
  s.addEventListener('click', function () {
    document.querySelectorAll('.k-' + s.dataset.kind.replace(' ', '_')).forEach(function (e) {
      e.classList.toggle('hidden'); });
    s.style.opacity = s.style.opacity === '0.4' ? '1' : '0.4'; }); });
document.body.setAttribute('data-ready', '1');
"""


def size_text(n):
    """4096 -> '4 KiB'; exact when it can be."""
    for unit, name in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= unit:
            v = n / unit
            return ("%d %s" if v == int(v) else "%.1f %s") % (v, name)
    return "%d B" % n


def h(text):
    return escape(str(text), quote=True)


def kind_class(kind):
    return "k-" + kind.replace(" ", "_")


class AddrAxis:
    """A broken, log-ish address axis: each stretch between two VMA
    boundaries is as tall as log2 of its page count (so a one-page VMA
    and a 1 GiB one are both visible), a stretch no VMA covers is a short
    break labelled with its size.  Higher addresses are drawn higher."""

    def __init__(self, intervals, marks=(), top=10, min_h=8, log_h=4, gap_h=18, max_h=900):
        intervals = sorted(set(intervals))
        bounds = sorted({a for iv in intervals for a in iv} | set(marks))
        self.bounds = bounds
        covered = []
        merged = []
        for s, e in intervals:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        starts = [m[0] for m in merged]
        for a, b in zip(bounds, bounds[1:]):
            i = bisect.bisect_right(starts, a) - 1
            covered.append(i >= 0 and b <= merged[i][1])
        self.covered = covered
        heights = [(min_h + log_h * math.log2(max(1, (b - a) >> PAGE_SHIFT))) if c else gap_h
                   for a, b, c in zip(bounds, bounds[1:], covered)]
        total = sum(heights) or 1
        scale = min(1.0, max_h / total)
        self.heights = [x * scale for x in heights]
        self.top = top
        self.height = sum(self.heights)
        # y of each bound, from the top (the highest address) down.
        self.ys = []
        y = top + self.height
        for hgt in [0] + self.heights:
            y -= hgt
            self.ys.append(y)

    def y(self, addr):
        b = self.bounds
        if not b:
            return self.top
        if addr <= b[0]:
            return self.ys[0]
        if addr >= b[-1]:
            return self.ys[-1]
        i = bisect.bisect_right(b, addr) - 1
        frac = (addr - b[i]) / (b[i + 1] - b[i])
        return self.ys[i] + (self.ys[i + 1] - self.ys[i]) * frac

    def gaps(self):
        """(y_low, y_high, size) of every break."""
        for i, c in enumerate(self.covered):
            if not c:
                yield self.ys[i], self.ys[i + 1], self.bounds[i + 1] - self.bounds[i]

    def draw_breaks(self, svg, x0, x1, ident, limit=None):
        """A zigzag over [x0, x1) and the size of each unmapped stretch.
        The zigzag is defined once (id `ident`, unique in the page) and
        each break is a <use> of it.  Past `limit` breaks only the `limit`
        largest are drawn so (the file must stay small with thousands of
        holes); the others are a plain line.  Returns how many were drawn
        plain."""
        gaps = list(self.gaps())
        full = None
        if limit is not None and len(gaps) > limit:
            biggest = sorted(range(len(gaps)), key=lambda i: (-gaps[i][2], i))[:limit]
            full = set(biggest)
        zigzag = "".join(" l6 %d l6 %d" % ((-3, 3) if i % 2 == 0 else (3, -3))
                         for i in range(int((x1 - x0) // 12)))
        plain = 0
        for i, (ylo, yhi, size) in enumerate(gaps):
            mid = (ylo + yhi) / 2
            if full is not None and i not in full:
                svg.line(x0, mid, x1, mid, stroke="#ddd", class_="gap")
                plain += 1
                continue
            svg.define(ident, '<path id="%s" d="M0 0%s" fill="none" stroke="#bbb"/>' % (
                ident, zigzag))
            svg.use(ident, x0, mid, class_="gap")
            svg.text(x0 + 4, mid - 4, "unmapped %s" % size_text(size), fill="#777",
                     font_size=9)
        return plain


def holes_between(intervals):
    """[(size, same kind)] of the unmapped stretches between (start, end,
    kind) intervals, in address order; the intervals may overlap (figure
    2 holds every VMA of the run).  A stretch is `same kind` when the
    intervals on both sides of it are of one kind."""
    out = []
    reach = kind = None
    for s, e, k in sorted(intervals):
        if reach is not None and s > reach:
            out.append((s - reach, k == kind))
        if reach is None or e >= reach:
            reach, kind = e, k
    return out


def bridge_size(intervals, limit):
    """How large an unmapped stretch between two VMAs of one kind a figure
    bridges (draws them as one band over it), so that at most `limit`
    stretches are left as breaks: 0 (none) within the limit, else the
    smallest size that bridges enough of them, the smallest first (all
    such stretches when that is not enough).  Thousands of one-page holes
    between one-page VMAs are one hatched band, not thousands of breaks."""
    holes = holes_between(intervals)
    if len(holes) <= limit:
        return 0
    sizes = sorted(size for size, same in holes if same)
    if not sizes:
        return 0
    return sizes[min(len(holes) - limit, len(sizes)) - 1]


def bridged(intervals, gap):
    """(start, end) of runs of address-consecutive intervals of one kind,
    no more than `gap` unmapped between neighbours: the address axis of a
    figure that draws each run as one band."""
    out = []
    kind = None
    for s, e, k in sorted(intervals):
        if out and k == kind and s - out[-1][1] <= gap:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
            kind = k
    return [tuple(iv) for iv in out]


def hatched(svg, ident, kind):
    """The fill of a band of `kind` that bridges unmapped stretches: the
    kind's colour with white stripes (the holes between the VMAs it stands
    for), a pattern defined in `svg` the first time it is asked for."""
    ref = "%s-holes-%s" % (ident, kind_class(kind))
    svg.define(ref, '<pattern id="%s" width="6" height="6" patternUnits="userSpaceOnUse" '
               'patternTransform="rotate(45)"><rect width="6" height="6" fill="%s"/>'
               '<rect width="2" height="6" fill="#fff"/></pattern>' % (ref, KIND_COLOURS[kind]))
    return "url(#%s)" % ref


# -- (1) the layout ------------------------------------------------------------------------

def layout_figure(snap, caption, limit, ident):
    """The address space at one moment, textbook style: stack on top.
    Past `limit` VMAs, adjacent ones of one kind are drawn as one band;
    past `limit` unmapped stretches, VMAs of one kind with small ones
    between them too (bridge_size), hatched.  `ident` prefixes the ids
    of the figure's shared shapes."""
    mm = dict(snap.mm)
    vmas = snap.vmas
    if len(vmas) > limit:
        vmas = merge_adjacent_vmas(vmas)
        caption += " (%d VMAs; adjacent ones of one kind drawn as one band)" % len(snap.vmas)
    gap = bridge_size([(v["start"], v["end"], v["kind"]) for v in vmas], limit)
    if gap:
        nholes = len(holes_between([(v["start"], v["end"], v["kind"]) for v in vmas]))
        vmas = merge_adjacent_vmas(vmas, gap)
        caption += (" (%d unmapped stretches, more than the limit of %d: VMAs of one kind with "
                    "at most %s unmapped between them drawn as one hatched band, its "
                    "title says how many; part 3 lists the first %d VMAs)" % (
                        nholes, limit, size_text(gap), limit))
    marks = [mm["mmap_base"]] if mm["mmap_base"] else []
    axis = AddrAxis([(v["start"], v["end"]) for v in vmas], marks, top=20, min_h=16,
                    log_h=3, gap_h=22, max_h=1400)
    width = 660
    svg = Svg(width, int(axis.height + 40), "process layout " + caption)
    bx, bw = 150, 120
    for v in vmas:
        y0, y1 = axis.y(v["end"]), axis.y(v["start"])
        size = size_text(v["end"] - v["start"])
        if v.get("holes"):
            title = "%#x-%#x %d %s VMAs (%s) and the %d unmapped stretches between them (%s)" % (
                v["start"], v["end"], v["merged"], v["kind"], size_text(v["mapped"]),
                v["holes"], size_text(v["end"] - v["start"] - v["mapped"]))
        else:
            title = "%#x-%#x %s %s (%s)" % (v["start"], v["end"], v["perms"],
                                           v["name"] or v["kind"], size)
        fill = hatched(svg, ident, v["kind"]) if v.get("holes") else KIND_COLOURS[v["kind"]]
        svg.rect(bx, y0, bw, max(1, y1 - y0), title=title, fill=fill, stroke="#fff",
                 class_="band " + kind_class(v["kind"]))
        label = v["kind"] if v["kind"] != "data" or "w" in v["perms"] else "rodata"
        svg.text(bx + 4, (y0 + y1) / 2 + 4, label, font_size=10, fill="#000")
        if v.get("holes"):
            text = "%s in %d VMAs, %d holes" % (size_text(v["mapped"]), v["merged"], v["holes"])
        else:
            text = "%s %s %s" % (v["perms"], size, short_name(v["name"]))
        svg.text(bx + bw + 8, (y0 + y1) / 2 + 4, text, font_size=10)
        svg.text(bx - 6, y1, "%#x" % v["start"], font_size=9, text_anchor="end", fill="#555")
    plain = axis.draw_breaks(svg, bx, bx + bw, ident + "-zz", limit)
    if plain:
        caption += " (%d unmapped stretches past the %d largest drawn as plain lines)" % (
            plain, limit)
    marks = {}
    for name in ("start_brk", "brk", "mmap_base", "start_stack"):
        if mm[name]:
            marks.setdefault(mm[name], []).append(name)
    for value, names in sorted(marks.items()):
        y = axis.y(value)
        svg.line(bx, y, width - 4, y, stroke="#000", stroke_dasharray="3,2", stroke_width=0.7)
        svg.text(width - 4, y - 2, "%s %#x" % (" = ".join(names), value), font_size=9,
                 text_anchor="end")
    return figure(str(svg), caption)


def merge_adjacent_vmas(vmas, gap=0):
    """Snapshot VMAs with runs of address-consecutive ones of one kind made
    one, those with at most `gap` bytes unmapped between neighbours (0:
    only adjacent ones); a run counts its VMAs (merged), their bytes
    (mapped) and the unmapped stretches it bridges (holes)."""
    out = []
    for v in vmas:
        last = out[-1] if out else None
        if last is not None and last["kind"] == v["kind"] and \
                0 <= v["start"] - last["end"] <= gap:
            n = last.get("merged", 1) + v.get("merged", 1)
            holes = last.get("holes", 0) + v.get("holes", 0) + (v["start"] > last["end"])
            mapped = last.get("mapped", last["end"] - last["start"]) + \
                v.get("mapped", v["end"] - v["start"])
            name = "%d VMAs" % n
            out[-1] = dict(last, end=v["end"], merged=n, holes=holes, mapped=mapped, perms="",
                           name=name)
        else:
            out.append(v)
    return out


def short_name(name):
    """A path too long for a figure label: its last component."""
    return name if len(name) <= 40 else "…/" + name.rsplit("/", 1)[-1][-38:]


def figure(svg, caption):
    return "<figure>%s<figcaption>%s</figcaption></figure>" % (svg, h(caption))


# -- (2) VMAs over time ---------------------------------------------------------------------

class TimeAxis:
    """x = system call number (entry order over all tasks); faults between
    two calls are spread inside their interval."""

    def __init__(self, end):
        self.end = max(1, end)

    def x(self, n):
        return PLOT_X + PLOT_W * n / self.end


def band_runs(spans, end, limit, gap=0):
    """The rectangles of figure 2: (record, x from, x to).  Up to `limit`
    VMA lifetimes, one each.  Beyond, the time axis is cut into `limit`
    columns and a VMA fills every column it lived in (a VMA that lived an
    instant still shows); a column with more than limit/4 VMAs draws runs
    of adjacent VMAs of one kind as one band (and of VMAs of one kind with
    at most `gap` bytes unmapped between them, see bridge_size).  Returns
    the runs and the notes that say so."""
    if len(spans) <= limit:
        return spans, []
    ncols = limit
    width = end / ncols
    # A column's VMAs change only where a lifetime starts or ends: sweep
    # the columns, and look again only at those (a column like the one
    # before it opens and closes no run).
    starts = [[] for _ in range(ncols)]
    stops = [[] for _ in range(ncols + 1)]
    for i, (r, x0, x1) in enumerate(spans):
        c0 = min(ncols - 1, int(x0 / width))
        c1 = max(c0, min(ncols - 1, int(math.ceil(x1 / width)) - 1))
        starts[c0].append(i)
        stops[c1 + 1].append(i)
    cap = max(1, limit // 4)
    merged_cols = 0
    merged_now = False
    active = set()                      # indices of the spans in this column
    count = {}                          # record -> spans of it in this column
    column = _SortedRecords(gap)        # the column's distinct records, sorted
    runs, open_runs, opened = [], {}, {}    # record -> column it opened in, its order
    tick = 0
    here = set()
    for c in range(ncols):
        if starts[c] or stops[c]:
            for i in stops[c]:
                active.discard(i)
                r = spans[i][0]
                count[r] -= 1
                if not count[r]:
                    del count[r]
                    column.remove(r)
            for i in starts[c]:
                active.add(i)
                r = spans[i][0]
                count[r] = count.get(r, 0) + 1
                if count[r] == 1:
                    column.add(r)
            merged_now = len(column.items) > cap
            if merged_now:
                records = column.merged()
            else:
                # in the order of spans, each record once (as a dict of them would)
                records = list(dict.fromkeys([spans[i][0] for i in sorted(active)]))
            was, here = here, set(records)
            gone = was - here
            for r in sorted(gone, key=opened.__getitem__) if len(gone) > 1 else gone:
                runs.append((r, open_runs.pop(r) * width, c * width))
                del opened[r]
            # merged records come sorted: the new ones, sorted, are in their order
            for r in sorted(here - was) if merged_now else records:
                if r not in open_runs:
                    open_runs[r] = c
                    opened[r] = tick
                    tick += 1
        merged_cols += merged_now
    runs.extend((r, c * width, end) for r, c in open_runs.items())
    notes = ["%d VMA lifetimes, more than the limit of %d: the time axis is cut into %d "
             "columns of %s system calls, and a VMA fills each column it lived in" % (
                 len(spans), limit, ncols, num(width))]
    if merged_cols:
        notes.append("%d columns had more than %d VMAs: adjacent VMAs of one kind are drawn "
                     "there as one band (its title says how many)" % (merged_cols, cap))
        if gap:
            notes[-1] += (", and so are VMAs of one kind with at most %s unmapped between "
                          "them (hatched)" % size_text(gap))
    return runs, notes


def _joined(a, b, gap):
    """Do two records, a just below b, merge in a crowded column?  When
    they are of one kind and at most `gap` bytes apart."""
    return a[3] == b[3] and 0 <= b[0] - a[1] <= gap


# The name of a merged record that bridges unmapped stretches (hatched).
BRIDGED_TAIL = " unmapped stretches between them"
BRIDGED_NAME = "%d VMAs and the %d" + BRIDGED_TAIL


class _SortedRecords:
    """A column's VMA records, kept sorted as records come and go, with the
    runs a crowded column draws as one band each (records joined to the
    one below them, _joined): the records that head a run and those joined
    across unmapped bytes, so that merging costs the runs, not the records."""

    def __init__(self, gap):
        self.items = []
        self.heads = []             # not joined to the record below, sorted
        self.bridges = []           # joined to the record below across a hole, sorted
        self.gap = gap

    def _link(self, below, r, sign):
        """Count r (sign 1) or stop counting it (-1) as a head or a bridge,
        with `below` the record under it (None: r is the lowest)."""
        if below is not None and _joined(below, r, self.gap):
            if r[0] == below[1]:
                return
            marks = self.bridges
        else:
            marks = self.heads
        if sign > 0:
            bisect.insort(marks, r)
        else:
            del marks[bisect.bisect_left(marks, r)]

    def add(self, r):
        items = self.items
        i = bisect.bisect_left(items, r)
        left = items[i - 1] if i else None
        if i < len(items):
            self._link(left, items[i], -1)
            self._link(r, items[i], 1)
        self._link(left, r, 1)
        items.insert(i, r)

    def remove(self, r):
        items = self.items
        i = bisect.bisect_left(items, r)
        left = items[i - 1] if i else None
        if i + 1 < len(items):
            self._link(r, items[i + 1], -1)
            self._link(left, items[i + 1], 1)
        self._link(left, r, -1)
        del items[i]

    def merged(self):
        """The records, each run of joined ones made one record (from its
        lowest start to its highest end, named by how many VMAs and holes
        it holds)."""
        items, heads, bridges = self.items, self.heads, self.bridges
        if len(heads) == len(items):
            return list(items)
        out = []
        i = 0
        for k, head in enumerate(heads):
            j = bisect.bisect_left(items, heads[k + 1], i) if k + 1 < len(heads) else len(items)
            if j - i == 1:
                out.append(head)
            else:
                last = items[j - 1]
                holes = bisect.bisect_right(bridges, last) - bisect.bisect_right(bridges, head)
                name = BRIDGED_NAME % (j - i, holes) if holes else "%d VMAs" % (j - i)
                out.append((head[0], last[1], "", head[3], name))
            i = j
        return out


def vmas_over_time(rec, axis_t):
    end = rec.nsys + 1
    spans = rec.lifetimes + [(r, x0, end) for r, x0 in rec.alive.items()]
    kinded = {(r[0], r[1], r[3]) for r, _, _ in spans}
    gap = bridge_size(kinded, rec.limit)
    runs, notes = band_runs(spans, end, rec.limit, gap)
    intervals = bridged(kinded, gap) if gap else {(r[0], r[1]) for r, _, _ in spans}
    marks = {b for _, start_brk, brk in rec.brks for b in (start_brk, brk) if b}
    axis = AddrAxis(intervals, marks, top=30, min_h=8, log_h=3, gap_h=16, max_h=900)
    height = int(axis.height + 100)
    svg = Svg(PLOT_X + PLOT_W + 20, height, "VMAs over time")
    if gap:
        notes.append("%d unmapped stretches, more than the limit of %d: those of at most %s "
                     "between VMAs of one kind are not breaks of the address axis" % (
                         len(holes_between(kinded)), rec.limit, size_text(gap)))
    svg.open_group(id="bands")
    for r, x0, x1 in runs:
        start, stop, perms, kind, name = r
        y0, y1 = axis.y(stop), axis.y(start)
        bridges = not perms and name.endswith(BRIDGED_TAIL)
        svg.rect(axis_t.x(x0), y0, max(0.5, axis_t.x(x1) - axis_t.x(x0)), max(1, y1 - y0),
                 title="%#x-%#x %s %s (%s), system calls %s-%s" % (
                     start, stop, perms, name or kind, size_text(stop - start), num(x0),
                     num(x1)),
                 fill=hatched(svg, "over-time", kind) if bridges else KIND_COLOURS[kind],
                 # a crowded column's band is a column wide: a white edge would pale it
                 stroke=None if bridges else "#fff", stroke_width=None if bridges else 0.5,
                 class_="band " + kind_class(kind))
    svg.close_group()
    plain = axis.draw_breaks(svg, PLOT_X, PLOT_X + PLOT_W, "over-time-zz", rec.limit)
    if plain:
        notes.append("%d unmapped stretches, more than the limit of %d: the %d largest are "
                     "drawn as breaks with their size, the others as plain lines" % (
                         plain + rec.limit, rec.limit, rec.limit))
    # brk over time: a step line (past the limit, its value at the end of each column)
    brks = sample_steps(rec.brks, end, rec.limit)
    pts = []
    for i, (x0, _, brk) in enumerate(brks):
        if brk:
            x1 = brks[i + 1][0] if i + 1 < len(brks) else end
            pts.append("%s %s H%s" % (num(axis_t.x(x0)), num(axis.y(brk)), num(axis_t.x(x1))))
    if pts:
        svg.path("M" + " L".join(pts), fill="none", stroke="#000", stroke_width=1.2,
                 stroke_dasharray="4,2", class_="brk")
        svg.text(axis_t.x(end) + 2, axis.y(brks[-1][2]) + 4, "brk", font_size=10)
    # the addresses of the boundaries, on the left.
    last = None
    for b, y in zip(axis.bounds, axis.ys):
        if last is None or abs(last - y) >= 9:
            svg.text(PLOT_X - 4, y + 3, "%#x" % b, font_size=8, text_anchor="end", fill="#555")
            last = y
    # VMA operations on the top strip.
    from kernel.syscalls.table import syscall_name
    for n, op, text in rec.vma_ops:
        x = axis_t.x(n)
        call = syscall_name(rec.sys_nr[n - 1]) if 0 < n <= len(rec.sys_nr) else "startup"
        svg.rect(x - 1, 4, 2, 18, title="system call %d (%s): %s" % (n, call, text),
                 fill=OP_COLOURS[op], class_="op op-" + op)
    x_ticks(svg, axis_t, height - 60)
    svg.text(PLOT_X, height - 26, "system call number (entry order, all tasks) — the top strip "
             "marks each VMA operation", font_size=10)
    kinds = [k for k in VMA_KINDS if any(r[3] == k for r, _, _ in spans)]
    x = PLOT_X
    for k in kinds:
        svg.rect(x, height - 14, 10, 10, fill=KIND_COLOURS[k])
        svg.text(x + 13, height - 5, k, font_size=10)
        x += 20 + 7 * len(k)
    for op in sorted(OP_COLOURS):
        svg.rect(x, height - 14, 3, 10, fill=OP_COLOURS[op])
        svg.text(x + 6, height - 5, op, font_size=10)
        x += 14 + 7 * len(op)
    skipped = sum(rec.vma_op_counts.values()) - len(rec.vma_ops)
    if skipped:
        notes.append("%d VMA operations after the first %d are counted, not marked: %s" % (
            skipped, rec.limit, counts_text(rec.vma_op_counts)))
    return str(svg), notes


def sample_steps(steps, end, limit):
    """At most `limit` steps of a step function: the last value in each
    of `limit` columns (the function itself when it has fewer steps)."""
    if len(steps) <= limit:
        return steps
    width = end / limit
    out = {}
    for step in steps:
        out[int(step[0] / width)] = step
    return [(c * width,) + step[1:] for c, step in sorted(out.items())]


def x_ticks(svg, axis_t, y):
    svg.line(PLOT_X, y, PLOT_X + PLOT_W, y, stroke="#000")
    step = nice_step(axis_t.end)
    n = 0
    while n <= axis_t.end:
        x = axis_t.x(n)
        svg.line(x, y, x, y + 4, stroke="#000")
        svg.text(x, y + 15, str(n), font_size=9, text_anchor="middle")
        n += step


def nice_step(end):
    raw = end / 10
    p = 10 ** int(math.floor(math.log10(raw))) if raw >= 1 else 1
    for m in (1, 2, 5, 10):
        if m * p >= raw:
            return max(1, m * p)
    return max(1, 10 * p)


def counts_text(counter):
    """'name n, name n': the most frequent first."""
    items = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return ", ".join("%s %d" % (k, v) for k, v in items)


def legend(kinds, colours):
    return '<p class="legend">%s</p>' % "".join(
        '<span data-kind="%s"><i style="background:%s"></i>%s</span>' % (h(k), colours[k], h(k))
        for k in kinds)


# -- (3) the structures at a moment ------------------------------------------------------------

def snapshot_section(snap, anchor, limit):
    out = ['<h3 id="%s">%s: %s (pid %d, %s)</h3>' % (
        anchor, h(moment_text(snap.moment)), h(snap.title), snap.pid, h(snap.comm))]
    out.append(structures_figure(snap, anchor))    # its layout is in part 1
    out.append("<h4>struct mm_struct</h4>" + mm_table(snap))
    out.append("<h4>The VMAs (mm-&gt;mmap list order) and their rbtree links</h4>")
    out.append(vma_table(snap, anchor, limit))
    out.append("<h4>The rbtree mm-&gt;mm_rb</h4>")
    out.append(figure(rb_figure(snap), "red-black tree of the VMAs keyed by vm_start; each node "
                      "shows vm_start and rb_subtree_gap (the largest free gap below it, "
                      "which get_unmapped_area searches)"))
    out.append("<h4>The translation tables</h4>")
    out.append(tables_section(snap, anchor))
    return "\n".join(out)


def mm_table(snap):
    rows = "".join("<tr><td>%s</td><td>%s</td></tr>" % (
        h(k), h("%#x" % v if isinstance(v, int) and v >= 4096 else v)) for k, v in snap.mm)
    return '<table class="mm"><tr><th>field</th><th>value</th></tr>%s</table>' % rows


def vma_table(snap, anchor, limit):
    rows = []
    for v in snap.vmas[:limit]:
        rows.append(
            '<tr id="%s-vma-%d" class="%s"><td>%d</td><td>%#x-%#x</td><td>%s</td><td>%#x</td>'
            "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%#x</td>"
            "<td>%d / %d</td><td>%s</td></tr>" % (
                anchor, v["idx"], kind_class(v["kind"]), v["idx"], v["start"], v["end"],
                h(v["perms"]), v["flags"], h(v["kind"]), h(v["name"]),
                "red" if v["red"] else "black", ref(v["left"]), ref(v["right"]),
                "%#x" % v["gap"], v["pgoff"], v["resident"], (v["end"] - v["start"]) >> PAGE_SHIFT,
                ("vm_file #%d " % v["file"] if v["file"] is not None else "")
                + ("anon_vma #%d" % v["anon"] if v["anon"] is not None else "")))
    # numbered in the order the VMAs first point to them: the first `limit`
    # are all those the listed VMAs name
    files = "".join("<li>vm_file #%d: %s</li>" % (i, h(f))
                    for i, f in enumerate(snap.files[:limit]))
    anons = "".join("<li>anon_vma #%d: degree %d, %d anon_vma_chain links</li>" % (i, d, c)
                    for i, (d, c) in enumerate(snap.anon_vmas[:limit]))
    for n, what in ((len(snap.files), "vm_files"), (len(snap.anon_vmas), "anon_vmas")):
        if n > limit:
            anons += "<li>%d %s after the first %d are not listed</li>" % (n - limit, what, limit)
    return ("<table><tr><th>#</th><th>vm_start-vm_end</th><th>perms</th><th>vm_flags</th>"
            "<th>kind</th><th>name</th><th>rb colour</th><th>rb_left</th><th>rb_right</th>"
            "<th>rb_subtree_gap</th><th>vm_pgoff</th><th>resident / pages</th>"
            "<th>vm_file / anon_vma</th></tr>%s</table>%s<ul>%s%s</ul>" % (
                "".join(rows), more_rows(len(snap.vmas), limit, "VMAs"), files, anons))


def ref(i):
    return "-" if i is None else "#%d" % i


def structures_figure(snap, anchor):
    """mm_struct -> the VMA list (vm_next) -> vm_file / anon_vma."""
    vmas = snap.vmas[:CHAIN_MAX]
    # the vm_files and anon_vmas the drawn VMAs point to (numbered in the
    # order VMAs first point to them, so the first ones)
    files = snap.files[:1 + max([v["file"] for v in vmas if v["file"] is not None], default=-1)]
    anons = snap.anon_vmas[:1 + max([v["anon"] for v in vmas if v["anon"] is not None],
                                    default=-1)]
    row = 26
    height = max(60 + row * len(vmas), 30 * (len(files) + len(anons)) + 40) + 30
    svg = Svg(640, height, "mm_struct, VMA list, vm_file and anon_vma")
    svg.rect(4, 20, 110, 64, fill="#f4f4f4", stroke="#000")
    svg.text(10, 36, "mm_struct", font_weight="bold")
    svg.text(10, 52, "mmap ->")
    svg.text(10, 66, "mm_rb (tree)")
    svg.text(10, 80, "pgd %#x" % dict(snap.mm)["pgd"], font_size=9)
    files_y = {}
    anons_y = {}
    for i, f in enumerate(files):
        files_y[i] = 20 + i * 30
    base = 20 + 30 * len(files) + 10
    for i in range(len(anons)):
        anons_y[i] = base + i * 30
    for i, v in enumerate(vmas):
        y = 20 + i * row
        svg.rect(160, y, 220, row - 6, fill=KIND_COLOURS[v["kind"]], stroke="#000",
                 title="vm_area_struct #%d" % v["idx"], class_="band " + kind_class(v["kind"]))
        svg.text(164, y + 14, "#%d %#x-%#x %s" % (v["idx"], v["start"], v["end"], v["perms"]),
                 font_size=9)
        if i:
            svg.line(270, y - 6, 270, y, stroke="#000")
        if v["file"] is not None:
            svg.line(380, y + 10, 450, files_y[v["file"]] + 10, stroke="#4e79a7")
        if v["anon"] is not None:
            svg.line(380, y + 10, 450, anons_y[v["anon"]] + 10, stroke="#f28e2b")
    if vmas:
        svg.line(114, 48, 160, 30, stroke="#000")
    for i, f in enumerate(files):
        svg.rect(450, files_y[i], 186, 22, fill="#dde6f0", stroke="#4e79a7",
                 title="struct file: " + f)
        svg.text(454, files_y[i] + 15, "vm_file #%d %s" % (i, short_name(f.rsplit("/", 1)[-1])),
                 font_size=9)
    for i, (degree, chains) in enumerate(anons):
        svg.rect(450, anons_y[i], 186, 22, fill="#fdebd3", stroke="#f28e2b")
        svg.text(454, anons_y[i] + 15, "anon_vma #%d (%d chains)" % (i, chains), font_size=9)
    if len(snap.vmas) > CHAIN_MAX:
        more = "... %d more VMAs" % (len(snap.vmas) - CHAIN_MAX)
        for n, what in ((len(snap.files) - len(files), "vm_files"),
                        (len(snap.anon_vmas) - len(anons), "anon_vmas")):
            if n:
                more += ", %d more %s" % (n, what)
        svg.text(160, height - 10, more + ", listed in the table", font_size=10)
    return figure(str(svg), "mm->mmap: the VMAs in address order (vm_next), each pointing to "
                  "its vm_file (file mappings) or anon_vma (anonymous pages)")


def rb_figure(snap):
    """The rbtree laid out by in-order position and depth."""
    vmas = snap.vmas
    pos, depth = {}, {}
    hidden = [0]

    def walk(i, d):
        if i is None:
            return
        if len(pos) >= RB_MAX_NODES:
            hidden[0] += subtree_size(i)
            return
        walk(vmas[i]["left"], d + 1)
        pos[i] = len(pos)
        depth[i] = d
        walk(vmas[i]["right"], d + 1)

    def subtree_size(i):
        if i is None:
            return 0
        return 1 + subtree_size(vmas[i]["left"]) + subtree_size(vmas[i]["right"])

    walk(snap.rb_root, 0)
    dx, dy = 64, 50
    width = max(200, dx * len(pos) + 40)
    height = dy * (max(depth.values()) + 1 if depth else 1) + 40
    svg = Svg(width, height, "rbtree of the VMAs")

    def xy(i):
        return 30 + dx * pos[i], 24 + dy * depth[i]
    for i in pos:
        for child in (vmas[i]["left"], vmas[i]["right"]):
            if child in pos:
                (x0, y0), (x1, y1) = xy(i), xy(child)
                svg.line(x0, y0, x1, y1, stroke="#888")
    for i in pos:
        x, y = xy(i)
        v = vmas[i]
        svg.circle(x, y, 12, title="#%d %#x-%#x %s, rb_subtree_gap %#x" % (
            i, v["start"], v["end"], v["perms"], v["gap"]),
            fill="#d62728" if v["red"] else "#222", class_="rbnode")
        svg.text(x, y + 4, "#%d" % i, fill="#fff", font_size=9, text_anchor="middle")
        svg.text(x, y + 24, "%#x" % v["start"], font_size=8, text_anchor="middle")
        svg.text(x, y + 33, "gap %s" % size_text(v["gap"]) if v["gap"] else "gap 0",
                 font_size=8, text_anchor="middle", fill="#555")
    if hidden[0]:
        svg.text(10, height - 6, "%d deeper nodes not drawn (the table lists them)" % hidden[0],
                 font_size=10)
    return str(svg)


# -- translation tables -------------------------------------------------------------------------

def desc_fields(desc, level):
    """[(hi, lo, name, value text)] from bit 63 down: the bit fields of a
    table or page/block descriptor (ARM DDI 0487, D5.3), with the software
    bits Linux keeps in 58:55."""
    if not desc & DESC_VALID and not desc & PTE_PROT_NONE:
        return [(63, 1, "ignored", "%#x" % (desc >> 1)), (0, 0, "valid", "0")]
    if level < 3 and desc & DESC_TABLE:
        return [(63, 63, "NSTable", bit(desc, 63)), (62, 61, "APTable", "%d" % ((desc >> 61) & 3)),
                (60, 60, "UXNTable", bit(desc, 60)), (59, 59, "PXNTable", bit(desc, 59)),
                (58, 48, "ignored/res0", "%#x" % ((desc >> 48) & 0x7FF)),
                (47, 12, "next-level table address", "%#x" % (desc & DESC_ADDR_MASK)),
                (11, 2, "ignored", "%#x" % ((desc >> 2) & 0x3FF)), (1, 1, "table", bit(desc, 1)),
                (0, 0, "valid", bit(desc, 0))]
    attr = (desc & PTE_ATTRINDX_MASK) >> PTE_ATTRINDX_SHIFT
    sw = []
    for b, name in ((58, "PROT_NONE"), (56, "SPECIAL"), (55, "DIRTY")):
        if desc >> b & 1:
            sw.append(name)
    return [(63, 59, "ignored", "%#x" % (desc >> 59)),
            (58, 55, "software", "|".join(sw) or "0"),
            (54, 54, "UXN", bit(desc, 54)), (53, 53, "PXN", bit(desc, 53)),
            (52, 52, "Cont", bit(desc, 52)), (51, 48, "res0", "%#x" % ((desc >> 48) & 0xF)),
            (47, 12, "output address", "%#x" % (desc & DESC_ADDR_MASK)),
            (11, 11, "nG", bit(desc, 11)), (10, 10, "AF", bit(desc, 10)),
            (9, 8, "SH", "%d%d" % ((desc >> 9) & 1, (desc >> 8) & 1)),
            (7, 6, "AP", "%d%d" % ((desc >> 7) & 1, (desc >> 6) & 1)),
            (5, 5, "NS", bit(desc, 5)),
            (4, 2, "AttrIndx", "%d %s" % (attr, MAIR_ATTR_NAMES.get(attr, "?"))),
            (1, 1, "page" if level == 3 else "table", bit(desc, 1)), (0, 0, "valid", bit(desc, 0))]


def bit(v, b):
    return "%d" % ((v >> b) & 1)


def bitfield_svg(desc, level, title):
    fields = desc_fields(desc, level)
    widths = [max(34, 6 * len(name) + 8) if hi == lo else min(170, 30 + 12 * (hi - lo))
              for hi, lo, name, _ in fields]
    width = sum(widths) + 10
    svg = Svg(width, 78, "descriptor " + title)
    x = 5
    for (hi, lo, name, value), w in zip(fields, widths):
        svg.rect(x, 16, w, 30, fill="#f8f8f8", stroke="#333",
                 title="bits %d:%d %s = %s" % (hi, lo, name, value))
        svg.text(x + 2, 12, str(hi) if hi == lo else "%d:%d" % (hi, lo), font_size=8, fill="#666")
        svg.text(x + w / 2, 29, name if len(name) * 6 < w else name[:max(1, w // 6)],
                 font_size=9, text_anchor="middle")
        svg.text(x + w / 2, 42, value if len(value) * 6 < w + 10 else value[:max(1, w // 6)],
                 font_size=9, text_anchor="middle", fill="#06c")
        x += w
    svg.text(5, 66, "%s = %#018x" % (title, desc), font_size=10)
    return str(svg)


PTE_SH_SHIFT = 8       # SH[1:0], bits 9:8 (PTE_SHARED is both set)


def decode_cells(desc, level):
    """The table columns of one descriptor."""
    if level < 3 and desc & DESC_VALID and desc & DESC_TABLE:
        return ["table", "%#x" % (desc & DESC_ADDR_MASK)] + [""] * 7
    if not desc & DESC_VALID and not desc & PTE_PROT_NONE:
        return ["invalid", ""] + [""] * 7
    attr = (desc & PTE_ATTRINDX_MASK) >> PTE_ATTRINDX_SHIFT
    ap = ("EL0 " if desc & PTE_USER else "EL1 ") + ("RO" if desc & PTE_RDONLY else "RW")
    sw = [n for b, n in ((PTE_DIRTY, "DIRTY"), (PTE_SPECIAL, "SPECIAL"),
                         (PTE_PROT_NONE, "PROT_NONE")) if desc & b]
    kind = ("page" if level == 3 else "block") if desc & DESC_VALID else "PROT_NONE"
    return [kind, "%#x" % (desc & DESC_ADDR_MASK), ap,
            ("UXN " if desc & PTE_UXN else "") + ("PXN" if desc & PTE_PXN else ""),
            "AF" if desc & PTE_AF else "", "%d" % ((desc & PTE_SHARED) >> PTE_SH_SHIFT),
            "nG" if desc & PTE_NG else "", "%d (%s)" % (attr, MAIR_ATTR_NAMES.get(attr, "?")),
            " ".join(sw)]


def example_va(snap):
    """The address the worked walk follows: the heap's first resident
    page, else the first resident page of any VMA."""
    for want in ("heap", None):
        for level, table, base, entries in snap.tables:
            if level != 3:
                continue
            for index, slot, desc, va, vi in entries:
                if vi is not None and desc & PTE_PRESENT_MASK and \
                        (want is None or snap.vmas[vi]["kind"] == want):
                    return va
    return None


def va_split_svg(snap, va):
    levels = list(range(snap.start_level, 4))
    parts = []
    for level in levels:
        lo = level_shift(level)
        hi = snap.va_bits - 1 if level == snap.start_level else lo + 8
        parts.append(("L%d index [%d:%d]" % (level, hi, lo),
                      (va >> lo) & ((1 << (hi - lo + 1)) - 1)))
    parts.append(("offset [11:0]", va & (PAGE_SIZE - 1)))
    svg = Svg(130 * len(parts) + 10, 60, "VA bit split of %#x" % va)
    for i, (name, value) in enumerate(parts):
        x = 5 + 130 * i
        svg.rect(x, 8, 126, 36, fill="#eef" if i < len(levels) else "#efe", stroke="#333")
        svg.text(x + 63, 22, name, font_size=10, text_anchor="middle")
        svg.text(x + 63, 38, ("%d" if i < len(levels) else "%#05x") % value, font_size=12,
                 text_anchor="middle", font_weight="bold")
    svg.text(5, 56, "VA %#x" % va, font_size=10)
    return str(svg)


def tables_section(snap, anchor):
    asid, baddr = ttbr_parts(snap.ttbr0)
    out = ["<p>TTBR0_EL1 = <code>%#018x</code>: ASID %d, level-%d table at <code>%#x</code> "
           "(%d-bit VAs, %d levels)</p>" % (snap.ttbr0, asid, snap.start_level, baddr,
                                           snap.va_bits, 4 - snap.start_level)]
    va = example_va(snap)
    path = set()
    if va is not None:
        out.append(figure(va_split_svg(snap, va), "the VA split of %#x: one 9-bit index per "
                          "level, then the offset in the page (highlighted rows below)" % va))
        for level in range(snap.start_level, 4):
            path.add((level, index_of(va, level)))
    diagrams = []
    seen_vma = set()
    html = []
    depth_open = []
    for level, table, base, entries in snap.tables:
        while depth_open and depth_open[-1] >= level:
            html.append("</details>")
            depth_open.pop()
        on_path = va is not None and all(
            index_of(va, lv) == index_of(base, lv)
            for lv in range(snap.start_level, level))
        html.append('<details%s><summary>L%d table at %#x (VA from %#x), %d entries in use%s'
                    '</summary>' % (" open" if level < 3 or on_path else "", level, table, base,
                                    len(entries), omitted_text(snap.omitted.get(table, 0))))
        depth_open.append(level)
        rows = []
        for index, slot, desc, eva, vi in entries:
            cells = decode_cells(desc, level)
            hot = on_path and (level, index) in path
            vma_cell = ('<a href="#%s-vma-%d">#%d %s</a>' % (
                anchor, vi, vi, h(snap.vmas[vi]["name"] or snap.vmas[vi]["kind"]))
                if vi is not None else "")
            rows.append('<tr%s><td>%d</td><td>%#x</td><td>%#018x</td>%s<td>%#x</td><td>%s</td>'
                        "</tr>" % (' style="background:#ffc"' if hot else "", index, slot, desc,
                                   "".join("<td>%s</td>" % h(c) for c in cells), eva, vma_cell))
            want = hot or (level == 3 and vi is not None and vi not in seen_vma)
            if want and len(diagrams) < MAX_DIAGRAMS:
                if level == 3:
                    seen_vma.add(vi)
                diagrams.append(figure(bitfield_svg(desc, level, "L%d[%d] for VA %#x" % (
                    level, index, eva)), "L%d[%d] at %#x, VA %#x%s: %s" % (
                        level, index, slot, eva,
                        " in VMA #%d" % vi if vi is not None else "",
                        "table" if level < 3 and desc & DESC_TABLE else describe_pte(desc))))
        html.append("<table><tr><th>index</th><th>at</th><th>descriptor</th><th>type</th>"
                    "<th>address</th><th>AP</th><th>XN</th><th>AF</th><th>SH</th><th>nG</th>"
                    "<th>AttrIndx</th><th>software</th><th>VA</th><th>VMA</th></tr>%s</table>"
                    % "".join(rows))
    html.extend("</details>" for _ in depth_open)
    out.append("\n".join(html))
    out.append("<h4>Descriptors as bit fields</h4><p class=\"note\">The walk's descriptors and "
               "the first resident page of each VMA (at most %d).</p>" % MAX_DIAGRAMS)
    out.append('<div class="figs">%s</div>' % "\n".join(diagrams))
    return "\n".join(out)


def index_of(va, level):
    """va's index into a level-`level` table."""
    return (va >> level_shift(level)) & (PTRS_PER_TABLE - 1)


def omitted_text(n):
    return ' <span class="agg">+%d valid entries not listed (limit)</span>' % n if n else ""


# -- (4) faults and system calls -----------------------------------------------------------------

def timeline(rec, axis_t, cg=None):
    """The syscall lane, one lane per fault kind, and the rss, on the
    same x as the VMA figure.  With call graphs (cg), a call or fault that
    has a tree is a link to it."""
    from kernel.syscalls.table import syscall_name
    lanes = ["system calls"] + list(FAULT_KINDS)
    lane_h = 22
    rss_h = 80
    top = 10
    height = top + lane_h * len(lanes) + rss_h + 60
    svg = Svg(PLOT_X + PLOT_W + 20, height, "faults beside system calls")
    for i, name in enumerate(lanes):
        y = top + lane_h * i
        svg.text(PLOT_X - 4, y + 15, name, font_size=10, text_anchor="end")
        svg.line(PLOT_X, y + lane_h, PLOT_X + PLOT_W, y + lane_h, stroke="#eee")
    notes = []
    n = len(rec.sys_nr)
    names = [syscall_name(nr) for nr in rec.sys_nr] if n <= rec.limit else None
    if names is not None:
        detail = {s[0]: s for s in rec.syscalls}
        for i, name in enumerate(names):
            x = axis_t.x(i + 1)
            mmcall = name in MM_SYSCALLS
            s = detail.get(i + 1)
            title = "%d: %s" % (i + 1, name) + (" = %s" % ret_text(s[4]) if s else "")
            link = cg.sys_link(i + 1) if cg is not None else None
            if link is not None:
                svg.add('<a href="#%s" class="cgl">' % link)
                title += " (click: its call graph)"
            svg.rect(x - 0.5, top + (2 if mmcall else 8), 1.5, 18 if mmcall else 12, title=title,
                     fill="#d62728" if mmcall else "#888", class_="sys")
            if link is not None:
                svg.add("</a>")
    else:
        bins = histogram([i + 1 for i in range(n)], axis_t.end, rec.limit // 4)
        mm_bins = histogram([i + 1 for i, nr in enumerate(rec.sys_nr)
                             if syscall_name(nr) in MM_SYSCALLS], axis_t.end, rec.limit // 4)
        draw_bins(svg, axis_t, bins, top, lane_h, "#888", "system calls")
        draw_bins(svg, axis_t, mm_bins, top, lane_h, "#d62728", "address-space calls")
        notes.append("%d system calls, more than the limit of %d: drawn as counts per bin" % (
            n, rec.limit))
    nf = len(rec.fault_x)
    if nf <= rec.limit:
        # spread the faults between two calls over that interval
        groups = {}
        for x in rec.fault_x:
            groups[x] = groups.get(x, 0) + 1
        seen = {}
        details = rec.faults
        for i, (x, k) in enumerate(zip(rec.fault_x, rec.fault_kind)):
            j = seen.get(x, 0)
            seen[x] = j + 1
            pos = x + (j + 1) / (groups[x] + 1)
            kind = FAULT_KINDS[k]
            lane = 1 + k
            d = details[i] if i < len(details) else None
            title = "fault %d at %#x: %s (%s)" % (i + 1, d["va"], kind, d["esr_text"]) if d \
                else "fault %d: %s" % (i + 1, kind)
            link = cg.fault_link(i + 1) if cg is not None else None
            if link is not None:
                svg.add('<a href="#%s" class="cgl">' % link)
                title += " (click: its call graph)"
            svg.rect(axis_t.x(pos) - 0.5, top + lane_h * lane + 4, 1.5, 14, title=title,
                     fill=FAULT_COLOURS[kind], class_="fault " + kind_class(kind))
            if link is not None:
                svg.add("</a>")
    else:
        for k, kind in enumerate(FAULT_KINDS):
            xs = [x + 0.5 for x, kk in zip(rec.fault_x, rec.fault_kind) if kk == k]
            if xs:
                draw_bins(svg, axis_t, histogram(xs, axis_t.end, rec.limit // 4),
                          top + lane_h * (1 + k), lane_h, FAULT_COLOURS[kind], kind + " faults")
        notes.append("%d page faults, more than the limit of %d: drawn as counts per bin "
                     "(each lane scaled to its fullest bin)" % (nf, rec.limit))
    # resident set of the followed process
    y0 = top + lane_h * len(lanes) + rss_h
    svg.text(PLOT_X - 4, y0 - rss_h / 2, "rss (pages)", font_size=10, text_anchor="end")
    peak = max([sum(r[1:]) for r in rec.rss] + [1])
    pts = sample(rec.rss, rec.limit)
    colours = (("anon", 1, "#edc948"), ("file", 2, "#4e79a7"), ("shmem", 3, "#b07aa1"))
    for name, col, colour in colours:
        if not pts:
            break
        d = "M%s %s" % (num(axis_t.x(pts[0][0])), num(y0))
        for r in pts:
            d += " H%s V%s" % (num(axis_t.x(r[0])), num(y0 - rss_h * r[col] / peak))
        d += " H%s" % num(axis_t.x(axis_t.end))
        svg.path(d, fill="none", stroke=colour, stroke_width=1.5, class_="rss-" + name)
    svg.text(PLOT_X + PLOT_W + 2, y0 - rss_h + 8, str(peak), font_size=9)
    x_ticks(svg, axis_t, y0 + 4)
    svg.text(PLOT_X, height - 8, "system call number; rss: anon (yellow), file (blue), shmem "
             "(purple) pages of the program", font_size=10)
    return str(svg), notes


def sample(points, limit):
    if len(points) <= limit:
        return points
    step = math.ceil(len(points) / limit)
    return points[::step] + [points[-1]]


def histogram(xs, end, nbins):
    nbins = max(1, nbins)
    bins = [0] * nbins
    for x in xs:
        bins[min(nbins - 1, int(x * nbins / end))] += 1
    return bins


def draw_bins(svg, axis_t, bins, y, lane_h, colour, what):
    peak = max(bins) or 1
    w = PLOT_W / len(bins)
    for i, c in enumerate(bins):
        if c:
            hgt = max(1, (lane_h - 4) * c / peak)
            svg.rect(PLOT_X + w * i, y + lane_h - hgt, max(0.5, w - 0.2), hgt,
                     title="%d %s" % (c, what), fill=colour, class_="bin")


def ret_text(ret):
    if ret is None:
        return "?"
    if ret < 0 and ret > -4096:
        from kernel.trace import errno_text
        return errno_text(ret)
    return "%#x" % ret if ret > 4096 else str(ret)


def fault_table(rec, cg=None):
    rows = []
    for f in rec.faults:
        v = f["vma"]
        link = cg.fault_link(f["n"]) if cg is not None else None
        tree = (' id="fault-%d"' % f["n"], ' <a href="#%s">call graph</a>' % link) if link \
            else ("", "")
        rows.append("<tr class=\"%s\"%s><td>%d</td><td>%d</td><td>%#x</td><td>%#x</td><td>%#x</td>"
                    "<td>%s</td><td>%s</td><td>%s%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                        kind_class(f["kind"]), tree[0], f["n"], f["x"], f["va"], f["pc"], f["esr"],
                        h(f["esr_text"]), h(f["kind"]), h(f["detail"]), tree[1],
                        h("%#x-%#x %s %s" % (v[0], v[1], v[2], v[4] or v[3])) if v else "none",
                        pte_cell(f["before"]), pte_cell(f["after"])))
    out = ("<table><tr><th>#</th><th>after call</th><th>VA</th><th>pc</th><th>ESR</th>"
           "<th>ESR decoded</th><th>kind</th><th>what the kernel did</th><th>VMA</th>"
           "<th>pte before</th><th>pte after</th></tr>%s</table>" % "".join(rows))
    rest = len(rec.fault_x) - len(rec.faults)
    if rest:
        out += '<p class="agg">%d faults after the first %d are not listed one by one.</p>' % (
            rest, len(rec.faults))
    out += "<h4>All faults by kind and VMA</h4><table><tr><th>kind</th><th>VMA</th>" \
           "<th>faults</th></tr>%s</table>" % "".join(
               "<tr><td>%s</td><td>%s</td><td>%d</td></tr>" % (h(k), h(v), c)
               for (k, v), c in sorted(rec.fault_counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def pte_cell(pte):
    if pte is None:
        return "(another process: not followed)"
    if not pte:
        return "0 (none)"
    return "<code>%#x</code> %s" % (pte, h(describe_pte(pte)))


def syscall_table(rec, cg=None):
    from kernel.syscalls.table import syscall_name

    def tree(n):
        link = cg.sys_link(n) if cg is not None else None
        return (' id="sys-%d"' % n, ' <a href="#%s">call graph</a>' % link) if link else ("", "")
    rows = "".join(
        "<tr%s><td>%d</td><td>%d</td><td>%s%s</td><td>%s</td><td>%s</td></tr>" % (
            tree(n)[0], n, pid, h(syscall_name(nr)), tree(n)[1],
            h(", ".join("%#x" % a for a in args)), h(ret_text(ret)))
        for n, pid, nr, args, ret in rec.syscalls)
    out = ("<table><tr><th>#</th><th>pid</th><th>call</th><th>raw arguments</th>"
           "<th>result</th></tr>%s</table>" % rows)
    rest = len(rec.sys_nr) - len(rec.syscalls)
    if rest:
        out += ('<p class="agg">%d system calls after the first %d are not listed one by '
                "one.</p>" % (rest, len(rec.syscalls)))
    counts = {}
    for nr in rec.sys_nr:
        name = syscall_name(nr)
        counts[name] = counts.get(name, 0) + 1
    out += "<h4>All system calls by name</h4><p>%s</p>" % h(counts_text(counts))
    return out


def resident_table(snap, limit):
    rows = []
    for v in snap.vmas[:limit]:
        pages = (v["end"] - v["start"]) >> PAGE_SHIFT
        w = int(200 * v["resident"] / pages) if pages else 0
        rows.append('<tr><td>%#x-%#x %s %s</td><td>%d</td><td>%d</td><td><svg width="202" '
                    'height="10"><rect width="202" height="10" fill="#eee"/><rect width="%d" '
                    'height="10" fill="%s"/></svg></td></tr>' % (
                        v["start"], v["end"], h(v["perms"]), h(v["name"] or v["kind"]), pages,
                        v["resident"], w, KIND_COLOURS[v["kind"]]))
    return ("<table><tr><th>VMA</th><th>pages</th><th>resident</th><th></th></tr>%s</table>%s"
            % ("".join(rows), more_rows(len(snap.vmas), limit, "VMAs")))


def more_rows(n, limit, what):
    """The line under a table cut at `limit` rows."""
    if n <= limit:
        return ""
    return '<p class="agg">%d %s after the first %d are not listed (--report-limit).</p>' % (
        n - limit, what, limit)


# -- the page -----------------------------------------------------------------------------------

def render(rec, argv, status_text):
    axis_t = TimeAxis(rec.nsys + 1)
    title = "a53emu report: " + " ".join(argv)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>%s</title><style>%s</style></head><body>" % (h(title), CSS),
             "<h1>%s</h1>" % h(title)]
    parts.append("<p>%s; %d system calls, %d page faults, %d VMA operations on the program's "
                 "address space. Moments: %s.</p>" % (
                     h(status_text), rec.nsys, rec.nfault, sum(rec.vma_op_counts.values()),
                     h(", ".join(moment_text(m) for m in rec.moments))))
    for m in rec.missed():
        parts.append('<p class="agg">%s was not reached: the run made %d system calls and %d '
                     "page faults.</p>" % (h(moment_text(m)), rec.nsys, rec.nfault))
    cg = None
    if rec.callgraphs is not None:
        from kernel.report.calltrees import CallTrees
        cg = CallTrees(rec)
    parts.append('<nav><a href="#layout">1. layout</a> · <a href="#over-time">2. VMAs over '
                 'time</a> · <a href="#structures">3. structures</a> · <a href="#faults">4. '
                 'faults and system calls</a>%s</nav>' % (
                     ' · <a href="#callgraphs">5. call graphs</a>' if cg is not None else ""))
    parts.append(legend(VMA_KINDS, KIND_COLOURS))
    parts.append('<h2 id="layout">1. The process layout</h2>')
    parts.append('<p class="note">Address axis broken at unmapped gaps and log-scaled inside '
                 "mapped stretches, so one-page VMAs are visible beside large ones.</p>")
    parts.append('<div class="figs">')
    if rec.exit_snapshot is not None:
        parts.append(layout_figure(rec.exit_snapshot, "at exit", rec.limit, "layout"))
    for i, m in enumerate(rec.moments):
        snap = rec.snapshots.get(m)
        if snap is not None and m != ("exit", 0):
            parts.append(layout_figure(snap, moment_text(m) + ": " + snap.title, rec.limit,
                                       "layout%d" % i))
    parts.append("</div>")
    parts.append('<h2 id="over-time">2. VMAs over time</h2>')
    if rec.lifetimes or rec.alive:
        svg, notes = vmas_over_time(rec, axis_t)
        parts.append(figure(svg, "each VMA of the program a band from vm_start to vm_end, "
                            "coloured by kind; a new band where it was created, merged, split, "
                            "re-protected or grown; the dashed line is brk"))
        parts.extend('<p class="agg">%s</p>' % h(n) for n in notes)
    parts.append(legend(sorted(OP_COLOURS), OP_COLOURS))
    parts.append(vma_ops_table(rec))
    parts.append('<h2 id="structures">3. The structures at chosen moments</h2>')
    for i, m in enumerate(rec.moments):
        snap = rec.snapshots.get(m)
        if snap is not None:
            parts.append(snapshot_section(snap, "snap%d" % i, rec.limit))
    parts.append('<h2 id="faults">4. Faults and system calls</h2>')
    svg, notes = timeline(rec, axis_t, cg)
    parts.append(legend(FAULT_KINDS, FAULT_COLOURS))
    parts.append(figure(svg, "every system call (red: those that change an address space) and "
                        "every page fault by kind, on the x axis of figure 2"))
    parts.extend('<p class="agg">%s</p>' % h(n) for n in notes)
    if rec.exit_snapshot is not None:
        parts.append("<h3>Resident pages per VMA at exit</h3>")
        parts.append(resident_table(rec.exit_snapshot, rec.limit))
    parts.append("<h3>The page faults</h3>")
    parts.append(fault_table(rec, cg))
    parts.append("<h3>The system calls</h3>")
    parts.append(syscall_table(rec, cg))
    if cg is not None:
        parts.append(cg.section())
    parts.append("<script>%s</script></body></html>\n" % SCRIPT)
    return "\n".join(parts)


def vma_ops_table(rec):
    from kernel.syscalls.table import syscall_name
    rows = "".join("<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
        n, h(syscall_name(rec.sys_nr[n - 1]) if 0 < n <= len(rec.sys_nr) else "-"), h(op),
        h(text)) for n, op, text in rec.vma_ops)
    out = ("<details><summary>The VMA operations, in order (%d)</summary><table><tr><th>call #"
           "</th><th>call</th><th>operation</th><th>detail</th></tr>%s</table></details>" % (
               len(rec.vma_ops), rows))
    rest = sum(rec.vma_op_counts.values()) - len(rec.vma_ops)
    if rest:
        out += '<p class="agg">%d more VMA operations: %s</p>' % (
            rest, h(counts_text(rec.vma_op_counts)))
    return out
