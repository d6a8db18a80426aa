"""Recording a run for `a53emu run --report`: a subscriber of the event bus
(kernel/trace.py) that keeps what the report draws, and snapshots of the
kernel's structures at chosen moments.

It only reads: the VMAs through their list (mm->mmap, vm_next) and rbtree,
the page tables straight from the board's RAM (never through uaccess,
which could fault pages in), so the guest sees the same run with or
without it.  The classes it needs (syscall, fault, vma, pte) are enabled
only when a report is asked for; the other subscribers keep seeing only
the classes the user asked for (filter_sinks).

One address space is followed through time: init's (the program the user
ran; a new one after execve).  Syscalls and faults of every task are
counted and listed.  Beyond `limit` items of a kind the details are not
kept: they are counted (by name, by kind, by position), and the report says
how many were summarised.
"""

import bisect
from array import array
from collections import Counter

from emu.arch import (
    DESC_ADDR_MASK, DESC_TABLE, DESC_VALID, EC_DABT_LOW, ESR_EC_SHIFT, ESR_WNR,
    FSC_ACCESS_FLAG, FSC_PERMISSION, FSC_TYPE_MASK, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE,
    PTRS_PER_TABLE,
    TTBR_ASID_SHIFT, TTBR_BADDR_MASK, esr_describe, level_shift,
)
from kernel.mm.mm import (
    PTE_PRESENT_MASK, PTE_SPECIAL, VM_EXEC, VM_GROWSDOWN, VM_MAYSHARE, VM_SHARED,
)

# Which class flag of the Tracer guards each kind of event (kernel/trace.py).
EVENT_CLASS = {
    "syscall": "syscall", "exec": "syscall", "exit": "syscall", "fork": "syscall",
    "signal": "syscall", "printk": "syscall", "fault": "fault",
    "vma_insert": "vma", "vma_merge": "vma", "vma_split": "vma", "vma_remove": "vma",
    "vma_expand": "vma", "vma_mprotect": "vma", "writeback": "vma",
    "pte_set": "pte", "pte_clear": "pte", "tlb_flush": "tlb", "switch_mm": "tlb",
    "sched_switch": "sched",
}
REPORT_CLASSES = ("syscall", "fault", "vma", "pte")

# Items of each kind drawn or listed one by one before the rest is summarised.
DEFAULT_LIMIT = 1000
# Bit-field diagrams drawn per snapshot (every descriptor is listed decoded).
MAX_DIAGRAMS = 24

# The kinds a VMA is coloured by.
VMA_KINDS = ("text", "data", "bss", "heap", "anon", "stack", "shmem", "vdso")
FAULT_KINDS = ("zero page", "anonymous", "file", "COW", "permission", "access flag", "signal")


def parse_moment(text):
    """'exit' -> ('exit', 0); 'syscall:N' / 'fault:N' -> (kind, N), N >= 1; else None."""
    if text == "exit":
        return "exit", 0
    kind, _, n = text.partition(":")
    if kind in ("syscall", "fault") and n.isdigit() and int(n) >= 1:
        return kind, int(n)
    return None


def moment_text(moment):
    kind, n = moment
    return kind if kind == "exit" else "%s:%d" % (kind, n)


def filter_sinks(trace, wanted):
    """Let the subscribers already on the bus see only the event classes in
    `wanted` (what --trace asked for), before the report enables more."""
    def only(sink):
        def filtered(kind, fields):
            if EVENT_CLASS.get(kind) in wanted:
                sink(kind, fields)
        return filtered
    trace._sinks[:] = [only(s) for s in trace._sinks]


def vma_kind(vma):
    """The colour class of a VMA: what a textbook figure would call it."""
    from kernel.vdso import VDSO_NAME
    mm = vma.vm_mm
    file = vma.vm_file
    if file is not None:
        if file.path == VDSO_NAME:
            return "vdso"
        if file.mapping is not None and file.mapping.host_fd is None:
            return "shmem"
        return "text" if vma.vm_flags & VM_EXEC else "data"
    if vma.vm_flags & VM_SHARED:
        return "shmem"
    if vma.vm_start <= mm.brk and vma.vm_end >= mm.start_brk and mm.start_brk:
        return "heap"
    if vma.vm_flags & VM_GROWSDOWN or vma.vm_start <= mm.start_stack <= vma.vm_end:
        return "stack"
    if mm.end_code <= vma.vm_start and vma.vm_end <= mm.start_brk:
        return "bss"
    return "anon"


def vma_perms(vma):
    from kernel.fs.proc import vma_perms as perms
    return perms(vma)


def vma_label(vma):
    from kernel.fs.proc import vma_name
    return vma_name(vma) or ""


def vma_list(mm):
    """mm->mmap, vm_next by vm_next."""
    out = []
    vma = mm.mmap
    while vma is not None:
        out.append(vma)
        vma = vma.vm_next
    return out


def vma_record(vma):
    """(start, end, perms, kind, name): a VMA as the report draws it."""
    return (vma.vm_start, vma.vm_end, vma_perms(vma), vma_kind(vma), vma_label(vma))


def classify_fault(esr, vma, before, after, result):
    """(kind, detail) of a handled page fault, from what the pte was
    before and after it (None: not known), its VMA and the ESR."""
    if result.startswith("SIGSEGV") or result.startswith("fault"):
        return "signal", result
    write = esr >> ESR_EC_SHIFT == EC_DABT_LOW and bool(esr & ESR_WNR)
    fsc = esr & FSC_TYPE_MASK
    if before is None:
        before = 0 if fsc not in (FSC_PERMISSION, FSC_ACCESS_FLAG) else after
    if not before & PTE_PRESENT_MASK:
        if after & PTE_SPECIAL:
            return "zero page", "do_anonymous_page: read of new anonymous memory maps the zero page"
        if vma is None or vma.vm_file is None:
            return "anonymous", "do_anonymous_page: a new zeroed frame"
        if vma.vm_flags & VM_SHARED:
            return "file", "do_shared_fault: the page-cache page itself%s" % (
                ", dirtied" if write else "")
        if write:
            return "COW", "do_cow_fault: a private copy of the page-cache page"
        return "file", "do_read_fault: the page-cache page, read-only"
    if (before ^ after) & DESC_ADDR_MASK:
        if before & PTE_SPECIAL:
            return "COW", "do_wp_page: write to the zero page, a new zeroed frame"
        return "COW", "do_wp_page: wp_page_copy, the frame copied"
    if fsc == FSC_ACCESS_FLAG:
        return "access flag", "the access flag set"
    return "permission", "do_wp_page: the frame reused, made writable"


class Snapshot:
    """The kernel's structures at one moment, copied out as plain values."""

    def __init__(self, kernel, task, moment, title, pte_limit):
        self.moment = moment
        self.title = title
        self.pid = task.pid
        self.comm = task.comm
        mm = task.mm
        self.mm = mm_fields(mm)
        vmas = vma_list(mm)
        index = {id(v): i for i, v in enumerate(vmas)}
        files, anons = [], []
        self.vmas = []
        for i, v in enumerate(vmas):
            file = None
            if v.vm_file is not None:
                name = v.vm_file.path
                if name not in files:
                    files.append(name)
                file = files.index(name)
            anon = None
            if v.anon_vma is not None:
                root = v.anon_vma
                if not any(a is root for a in anons):
                    anons.append(root)
                anon = next(k for k, a in enumerate(anons) if a is root)
            self.vmas.append(dict(
                idx=i, start=v.vm_start, end=v.vm_end, perms=vma_perms(v), flags=v.vm_flags,
                pgoff=v.vm_pgoff, name=vma_label(v), kind=vma_kind(v), file=file, anon=anon,
                red=v.rb_red, gap=v.rb_subtree_gap,
                left=index.get(id(v.rb_left)) if v.rb_left is not None else None,
                right=index.get(id(v.rb_right)) if v.rb_right is not None else None,
                resident=resident_pages(kernel, mm, v)))
        root = mm.mm_rb.rb_node
        self.rb_root = index.get(id(root)) if root is not None else None
        from kernel.fs.proc import guest_name
        self.files = [guest_name(kernel, f) for f in files]
        self.anon_vmas = [(a.degree, len(a.rb_root)) for a in anons]
        mmu = kernel.board.mmu
        self.va_bits = mmu.va_bits
        self.start_level = mmu.start_level
        self.ttbr0 = mm.ttbr0()
        self.tables, self.omitted = walk_tables(kernel, mm, self.vmas, pte_limit)


def mm_fields(mm):
    """The mm_struct fields the article lists, in its order."""
    names = ("pgd", "mmap_base", "task_size", "highest_vm_end", "map_count", "mm_users",
             "mm_count", "nr_ptes", "total_vm", "locked_vm", "data_vm", "exec_vm", "stack_vm",
             "start_code", "end_code", "start_data", "end_data", "start_brk", "brk",
             "start_stack", "arg_start", "arg_end", "env_start", "env_end", "hiwater_rss",
             "rss_file", "rss_anon", "rss_shmem", "asid")
    return [(n, getattr(mm, n)) for n in names]


def resident_pages(kernel, mm, vma):
    """Present ptes in [vm_start, vm_end): the VMA's resident pages (the
    zero page counts, as /proc/PID/smaps' Rss does not; we say so)."""
    pt = kernel.pgtable
    n = 0
    addr = vma.vm_start
    while addr < vma.vm_end:
        ptep, span = pt.pte_lookup(mm, addr)
        if ptep is None:
            addr = (addr | (span - 1)) + 1
            continue
        stop = min(vma.vm_end, (addr | (span - 1)) + 1)
        while addr < stop:
            if pt.read_pte(ptep) & PTE_PRESENT_MASK:
                n += 1
            addr += PAGE_SIZE
            ptep += 8
    return n


def walk_tables(kernel, mm, vmas, pte_limit):
    """Every table reachable from mm->pgd, depth first: a list of
    (level, table pa, va base, [(index, slot pa, desc, va, vma idx)]),
    listing at most pte_limit level-3 descriptors in all; the number of
    valid ones left out per table is in `omitted` (table pa -> count)."""
    mmu = kernel.board.mmu
    pt = kernel.pgtable
    starts = [v["start"] for v in vmas]
    tables, omitted = [], {}
    budget = [pte_limit]

    def vma_at(va):
        i = bisect.bisect_right(starts, va) - 1
        return i if i >= 0 and va < vmas[i]["end"] else None

    def visit(level, table, va_base):
        shift = level_shift(level)
        entries = []
        tables.append((level, table, va_base, entries))
        for index in range(PTRS_PER_TABLE):
            slot = table + index * 8
            desc = pt.read_pte(slot)
            if not desc:
                continue
            va = va_base + (index << shift)
            if level == 3:
                if budget[0] <= 0:
                    omitted[table] = omitted.get(table, 0) + 1
                    continue
                budget[0] -= 1
            leaf = level == 3 or not desc & DESC_TABLE
            entries.append((index, slot, desc, va, vma_at(va) if leaf else None))
            if not leaf and desc & DESC_VALID:
                visit(level + 1, desc & DESC_ADDR_MASK, va)

    visit(mmu.start_level, mm.pgd, 0)
    return tables, omitted


class Recorder:
    """The event-bus subscriber behind --report."""

    def __init__(self, kernel, moments, limit=DEFAULT_LIMIT):
        self.kernel = kernel
        self.limit = limit
        self.moments = list(moments)
        self.wanted = {m for m in self.moments}
        self.snapshots = {}                 # moment -> Snapshot
        self.exit_snapshot = None
        self.nsys = 0                       # system calls entered (all tasks)
        self.nfault = 0                     # user page faults (all tasks)
        self.sys_nr = array("H")            # the number of each call, in order
        self.syscalls = []                  # (n, pid, nr, args, ret) of the first `limit`
        self.sys_enter = {}                 # pid -> n of the call it is in
        self.fault_x = array("I")           # nsys at each fault, for the timeline
        self.fault_kind = array("B")        # FAULT_KINDS index of each fault
        self.faults = []                    # details of the first `limit`
        self.fault_counts = Counter()       # (kind, vma name) of every fault
        self.vma_ops = []                   # (x, op, text) of the first `limit`
        self.vma_op_counts = Counter()
        self.lifetimes = []                 # (vma record, x created, x gone) of the followed mm
        self.alive = {}                     # vma record -> x created, of the VMAs there now
        self.alive_seq = {}                 # vma record -> its order of birth (alive's order)
        self.alive_starts = []              # vm_start of the alive records, sorted
        self.alive_at = {}                  # vm_start -> alive record
        self.births = 0
        self.changed = []                   # [start, end) the vma events touched since the last look
        self.rescan = True                  # look at every VMA next time (a new mm, an exec)
        self.layout_now = None              # (start_brk, start_stack, end_code) of the last look
        self.nstates = 0                    # how many times the VMAs changed
        self.brks = []                      # (x, start_brk, brk) when the break moved
        self.brk_now = None
        self.rss = []                       # (x, anon, file, shmem) when it changed
        self.mm = None                      # the followed mm (init's)
        self.retired = []                   # the mms init had before an execve
        self.pte_now = {}                   # va -> pte of the followed mm, from pte events
        self.pte_old = {}                   # va -> pte before the current fault/syscall
        self.dirty = False
        self.exit_status = None
        self.exit_task = None
        self._interned = {}
        self.callgraphs = None              # kernel/callgraph.py's CallGraphs, if asked for
        self.tree_of_sys = {}               # call n -> seq of its call graph
        self.tree_of_fault = {}             # fault n -> seq of its call graph
        self.last_fault = None              # n of the fault event the tree being recorded saw
        self.chain = kernel.syscalls.on_enter
        kernel.syscalls.on_enter = self.on_enter
        kernel.exit_hooks.append(self.on_exit)
        trace = kernel.trace
        filter_sinks(trace, {c for c in REPORT_CLASSES + ("tlb", "sched") if getattr(trace, c)})
        trace.enable(REPORT_CLASSES)
        trace.subscribe(self)

    # -- following init's address space --------------------------------------------

    def followed(self):
        """init's address space, the one drawn over time (a new one after execve)."""
        task = self.kernel.init_task
        mm = task.mm if task is not None else None
        if mm is not None and mm is not self.mm and not any(mm is r for r in self.retired):
            self.switch(mm)
        return self.mm

    def switch(self, mm):
        if self.mm is not None:
            self.retired.append(self.mm)
        self.mm = mm
        self.pte_now = {}
        self.pte_old = {}
        self.dirty = True
        self.rescan = True

    def ours(self, mm):
        """Is mm the followed address space, or the one init's exec is
        building (its VMAs are inserted before task->mm points to it)?"""
        if mm is self.followed():
            return True
        if any(mm is r for r in self.retired):
            return False
        init = self.kernel.init_task
        if (init is None and self.mm is None) or (init is not None and mm.owner is init):
            self.switch(mm)
            return True
        return False

    def capture_state(self, x):
        """If the followed mm's VMAs changed since the last look: end the
        lifetimes of the VMAs gone, start those of the new ones (a VMA
        whose bounds, protection or kind changed is a new one), and note
        the break.  Kept as lifetimes, not states, so memory grows with
        the changes, not with changes x VMAs.  Only the VMAs in the ranges
        the vma events since the last look touched are read again (and
        those whose kind the break's move changed), so a call costs what
        it changed, not what the address space holds."""
        mm = self.followed()
        if mm is None:
            return
        brk = (mm.start_brk, mm.brk)
        if not self.dirty and brk == self.brk_now:
            return                      # (a break moved inside its page changes no VMA)
        self.dirty = False
        layout = (mm.start_brk, mm.start_stack, mm.end_code)
        if layout != self.layout_now:       # an exec: every VMA's kind may differ
            self.layout_now = layout
            self.rescan = True
        changed, self.changed = self.changed, []
        if self.rescan:
            self.rescan = False
            old = list(self.alive)
            records = [self.record_of(v, mm) for v in vma_list(mm)]
        else:
            if self.brk_now is not None and brk != self.brk_now:
                # vma_kind()/vma_name(): [heap] is vm_start <= brk, so the
                # VMAs starting between the old break and the new one
                low, high = sorted((self.brk_now[1], mm.brk))
                changed.append((low, high + 1))
            old, records = self.changed_records(mm, changed)
        born_now = set(records)
        gone = [r for r in old if r not in born_now]
        born = [r for r in records if r not in self.alive]
        if not gone and not born and brk == self.brk_now:
            return
        self.nstates += 1
        alive = self.alive
        if len(gone) > 1:
            gone.sort(key=self.alive_seq.__getitem__)   # the order they were born in
        for r in gone:
            self.lifetimes.append((r, alive.pop(r), x))
            del self.alive_seq[r]
            i = bisect.bisect_left(self.alive_starts, r[0])
            del self.alive_starts[i]
            del self.alive_at[r[0]]
        for r in born:
            alive[r] = x
            self.births += 1
            self.alive_seq[r] = self.births
            bisect.insort(self.alive_starts, r[0])
            self.alive_at[r[0]] = r
        if brk != self.brk_now:
            self.brk_now = brk
            self.brks.append((x,) + brk)

    def changed_records(self, mm, ranges):
        """(alive records, records of the VMAs now) over the ranges, each
        widened until no record, old or new, sticks out of it: a VMA that
        changed is in a range before or after the change, and its old and
        new extents overlap, so both are found."""
        from kernel.mm.mmap import find_vma
        starts = self.alive_starts
        old, new = {}, {}
        for lo, hi in sorted(ranges):
            while True:
                i = bisect.bisect_right(starts, lo) - 1
                if i < 0 or self.alive_at[starts[i]][1] <= lo:
                    i += 1
                olds = []
                while i < len(starts) and starts[i] < hi:
                    olds.append(self.alive_at[starts[i]])
                    i += 1
                news = []
                vma = find_vma(mm, lo)
                while vma is not None and vma.vm_start < hi:
                    news.append(vma)
                    vma = vma.vm_next
                wide_lo = min([lo] + [r[0] for r in olds[:1]] + [v.vm_start for v in news[:1]])
                wide_hi = max([hi] + [r[1] for r in olds[-1:]] + [v.vm_end for v in news[-1:]])
                if (wide_lo, wide_hi) == (lo, hi):
                    break
                lo, hi = wide_lo, wide_hi
            for r in olds:
                old[r] = None
            for v in news:
                new[v.vm_start] = self.record_of(v, mm)
        return list(old), [new[k] for k in sorted(new)]

    def record_of(self, vma, mm):
        """vma_record(vma), shared between the states that hold the same VMA
        (a long run keeps one tuple per distinct VMA, and computes it once)."""
        key = (vma.vm_start, vma.vm_end, vma.vm_flags, vma.vm_file, mm.start_brk, mm.brk,
               mm.start_stack)
        record = self._interned.get(key)
        if record is None:
            record = self._interned[key] = vma_record(vma)
        return record

    def note_rss(self, x):
        mm = self.mm
        if mm is None:
            return
        now = (mm.rss_anon, mm.rss_file, mm.rss_shmem)
        if not self.rss or self.rss[-1][1:] != now:
            self.rss.append((x,) + now)

    # -- moments ------------------------------------------------------------------------

    def snapshot(self, task, moment, title):
        if moment in self.wanted and moment not in self.snapshots and task.mm is not None:
            self.snapshots[moment] = Snapshot(self.kernel, task, moment, title, self.limit)

    def on_enter(self, task, nr):
        self.nsys += 1
        self.sys_enter[task.pid] = self.nsys
        self.sys_nr.append(nr & 0xFFFF)
        from kernel.syscalls.table import syscall_name
        self.snapshot(task, ("syscall", self.nsys),
                      "on entry to system call %d (%s)" % (self.nsys, syscall_name(nr)))
        if self.chain is not None:
            self.chain(task, nr)

    def on_exit(self, task):
        if task is not self.kernel.init_task:
            return
        self.capture_state(self.nsys + 1)
        self.exit_status = task.exit_code
        self.exit_snapshot = Snapshot(self.kernel, task, ("exit", 0), "as the program exits",
                                      self.limit)
        if ("exit", 0) in self.wanted:
            self.snapshots[("exit", 0)] = self.exit_snapshot

    # -- call graphs (--callgraph) -------------------------------------------------------

    def attach_callgraphs(self, graphs):
        """Link the trees CallGraphs records to the calls and faults of the
        timeline.  A tree is recorded around el0_svc or do_mem_abort, which
        never nest, and its call's on_enter (or its fault event) runs inside
        it: the newest call of its task (the newest fault) is its own."""
        self.callgraphs = graphs
        graphs.listeners.append(self.on_tree)

    def on_tree(self, tree):
        if tree["kind"] == "syscall":
            n = self.sys_enter.get(tree["tid"])
            if n is not None and n not in self.tree_of_sys and self.sys_nr[n - 1] == \
                    tree["nr"] & 0xFFFF:
                self.tree_of_sys[n] = tree["seq"]
        else:
            n, self.last_fault = self.last_fault, None
            if n is not None:
                self.tree_of_fault[n] = tree["seq"]

    # -- the bus -----------------------------------------------------------------------

    def __call__(self, kind, f):
        handler = getattr(self, "_" + kind, None)
        if handler is not None:
            handler(f)

    def _syscall(self, f):
        task = f["task"]
        n = self.sys_enter.get(task.pid, self.nsys)
        if f["ret"] is not None or f["d"].ret == "n":
            if len(self.syscalls) < self.limit:
                # the call's own arguments: the other registers hold leftovers
                # (a stack canary, say) that would make the report differ
                nargs = f["d"].nargs if f["d"] is not None else 6
                self.syscalls.append((n, task.pid, f["nr"], tuple(f["args"][:nargs]), f["ret"]))
        if task is self.kernel.init_task:
            self.capture_state(n)
            self.note_rss(n)
        self.pte_old.clear()

    def _fault(self, f):
        self.nfault += 1
        self.last_fault = self.nfault
        addr = f["addr"]
        page = addr & PAGE_MASK
        vma = f.get("vma")
        mm = vma.vm_mm if vma is not None else None
        ours = mm is not None and self.ours(mm)
        if ours:
            after = self.pte_now.get(page, 0)
            before = self.pte_old.get(page, after)
        else:
            before = None
            after = 0
            if mm is not None:
                ptep = self.kernel.pgtable.pte_offset(mm, page)
                after = self.kernel.pgtable.read_pte(ptep) if ptep else 0
        self.pte_old.clear()
        kind, detail = classify_fault(f["esr"], vma, before, after, f["result"])
        name = (vma_label(vma) or vma_kind(vma)) if vma is not None else "no VMA"
        self.fault_x.append(self.nsys)
        self.fault_kind.append(FAULT_KINDS.index(kind))
        self.fault_counts[(kind, name)] += 1
        if len(self.faults) < self.limit:
            self.faults.append(dict(
                n=self.nfault, x=self.nsys, va=addr, pc=f["pc"], esr=f["esr"],
                esr_text=esr_describe(f["esr"]), kind=kind, detail=detail,
                vma=vma_record(vma) if vma is not None else None, before=before,
                after=after, result=f["result"], ours=ours))
        if ours:
            self.capture_state(self.nsys)
            self.note_rss(self.nsys)
        moment = ("fault", self.nfault)
        if moment in self.wanted and mm is not None:
            owner = next((t for t in self.kernel.tasks.values() if t.mm is mm), None)
            if owner is not None:
                self.snapshot(owner, moment, "after page fault %d (at %#x)" % (self.nfault, addr))

    def _vma_op(self, f, op, text, *vmas):
        """Count the operation, keep its text (text(f), made only for the
        first `limit`), and note the ranges it touched for capture_state."""
        if not self.ours(f["mm"]):
            return
        self.dirty = True
        changed = self.changed
        for vma in vmas:
            changed.append((vma.vm_start, vma.vm_end))
        if "start" in f:
            changed.append((f["start"], f["end"]))
        self.vma_op_counts[op] += 1
        if len(self.vma_ops) < self.limit:
            self.vma_ops.append((self.nsys, op, text(f)))

    def _vma_insert(self, f):
        self._vma_op(f, "insert", lambda f: "insert %s" % short_vma(f["vma"]), f["vma"])

    def _vma_merge(self, f):
        self._vma_op(f, "merge", lambda f: "merge (case %s) [%#x-%#x) into %s" % (
            f["case"], f["start"], f["end"], short_vma(f["vma"])), f["vma"])

    def _vma_split(self, f):
        self._vma_op(f, "split", lambda f: "split at %#x: %s | %s" % (
            f["addr"], short_vma(f["vma"]), short_vma(f["new"])), f["vma"], f["new"])

    def _vma_remove(self, f):
        self._vma_op(f, "remove", lambda f: "remove (%s) %s" % (
            f["reason"], short_vma(f["vma"])), f["vma"])

    def _vma_expand(self, f):
        self._vma_op(f, "expand", lambda f: "%s: %s" % (
            expand_text(f), short_vma(f["vma"])), f["vma"])

    def _vma_mprotect(self, f):
        self._vma_op(f, "mprotect", lambda f: "mprotect [%#x-%#x) now %s" % (
            f["start"], f["end"], short_vma(f["vma"])), f["vma"])

    def _pte_set(self, f):
        if not self.ours(f["mm"]):
            return
        addr = f["addr"]
        old = self.pte_now.get(addr, 0)
        self.pte_old.setdefault(addr, old)
        self.pte_now[addr] = f["pte"]

    def _pte_clear(self, f):
        if not self.ours(f["mm"]):
            return
        addr = f["addr"]
        self.pte_old.setdefault(addr, self.pte_now.pop(addr, f["pte"]))

    # -- the end -------------------------------------------------------------------------

    def missed(self):
        """The moments asked for that the run never reached."""
        return [m for m in self.moments if m not in self.snapshots]


def expand_text(f):
    """What a vma_expand event grew: the stack (expand_downwards) or a
    mapping mremap() grew in place."""
    return "mremap grows in place" if f.get("why") == "mremap" else "stack grows"


def short_vma(vma):
    return "%#x-%#x %s %s" % (vma.vm_start, vma.vm_end, vma_perms(vma),
                              vma_label(vma) or vma_kind(vma))


def page_count(start, end):
    return (end - start) >> PAGE_SHIFT


def ttbr_parts(ttbr0):
    return ttbr0 >> TTBR_ASID_SHIFT, ttbr0 & TTBR_BADDR_MASK


def is_shared(flags):
    return bool(flags & VM_MAYSHARE)
