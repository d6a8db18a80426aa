"""What `perf stat -a` would count for a whole run of the board (`--stats`).

The counters live where the events happen: the cores count instructions
(Core.count_instructions) and TLB flushes, the scheduler counts switches
and busy time per core, and the exception entry counts system calls (with
the time their handlers took) and page faults by kind — only when a
RunStats is attached, so a run without --stats pays one test per event.
"""

import collections
import time

from emu.arch import (
    EC_IABT_LOW, ESR_EC_SHIFT, ESR_WNR, FSC_ACCESS_FLAG, FSC_PERMISSION, FSC_TYPE_MASK,
    PAGE_SIZE,
)
from kernel.mm.fault import VM_FAULT_OOM
from kernel.mm.mm import VM_SHARED
from kernel.syscalls.table import syscall_name

# How many system calls are named one by one (the rest are summed).
TOP_SYSCALLS = 12


def fault_kind(esr, vma, fault):
    """A page fault's kind, from its syndrome, its VMA and the outcome."""
    if fault == VM_FAULT_OOM:
        return "out of memory"
    if fault:
        return "signal (SIGSEGV/SIGBUS)"
    fsc = esr & FSC_TYPE_MASK
    if fsc == FSC_PERMISSION:
        return "write to a write-protected page (copy-on-write, dirty tracking)"
    if fsc == FSC_ACCESS_FLAG:
        return "access flag"
    what = "instruction fetch" if esr >> ESR_EC_SHIFT == EC_IABT_LOW else \
        "write" if esr & ESR_WNR else "read"
    if vma.vm_flags & VM_SHARED:
        where = "shared mapping"
    elif vma.vm_file is not None:
        where = "private file mapping"
    else:
        where = "anonymous memory"
    return "not present: %s, %s" % (what, where)


class RunStats:
    """The counters of one run."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.syscalls = kernel.syscalls.counts = collections.Counter()    # number -> calls
        self.syscall_time = kernel.syscalls.times = collections.Counter()  # number -> seconds
        self.faults = collections.Counter()                                # kind -> faults
        self.start = time.monotonic()
        self.counting = all(core.count_instructions() for core in kernel.board.cores)
        kernel.stats = self
        # issue 7 part 5: TLB fills, peaks, where the time went (kernel/runtime_stats.py)
        from kernel.runtime_stats import RunTimes
        self.runtimes = RunTimes(kernel)

    def count_fault(self, esr, vma, fault):
        self.faults[fault_kind(esr, vma, fault)] += 1

    def format(self, program):
        """The report printed at exit, one counter per line as perf stat prints."""
        kernel = self.kernel
        sched = kernel.sched
        cores = kernel.board.cores
        lines = ["", " Performance counter stats for '%s' (a53emu, %d cores):" % (
            program, len(cores)), ""]

        def row(value, name, note=""):
            lines.append(("%18s      %-18s%s" % (value, name, note)).rstrip())

        def n(value):
            return "{:,}".format(value)

        for core in cores:
            row(n(core.insns) if self.counting else "<not counted>", "instructions",
                "# core %d" % core.index)
        for core in cores:
            row(n(sched.nr_switches[core.index]), "context-switches",
                "# core %d, %d changed mm" % (core.index, sched.nr_mm_switches[core.index]))
        for core in cores:
            row(n(core.nr_tlb_flushes), "tlb-flushes",
                "# core %d, each drops its whole TLB" % core.index)
        for core in cores:
            row(n(self.runtimes.tlb_fills[core.index]), "tlb-fills",
                "# core %d, misses the MMU answered by a table walk" % core.index)
        for core in cores:
            row("%.3f" % sched.busy_time[core.index], "seconds-busy",
                "# core %d, guest code and the kernel's work for it" % core.index)
        row(n(kernel.total_forks), "tasks", "# processes and threads created")
        touched = kernel.pages.nr_touched()
        row(n(touched), "frames-touched",
            "# frames ever handed out: the peak is at most %d KiB" % (touched * PAGE_SIZE >> 10))
        row(n(sum(self.faults.values())), "page-faults")
        for kind, count in sorted(self.faults.items(), key=lambda kv: (-kv[1], kv[0])):
            row(n(count), "", "  " + kind)
        total = sum(self.syscalls.values())
        row(n(total), "syscalls", "# %.3f s in their handlers" % sum(self.syscall_time.values()))
        common = sorted(self.syscalls.items(), key=lambda kv: (-kv[1], kv[0]))
        for nr, count in common[:TOP_SYSCALLS]:
            row(n(count), "  " + syscall_name(nr),
                "# %.1f us each" % (1e6 * self.syscall_time[nr] / count))
        rest = sum(count for _, count in common[TOP_SYSCALLS:])
        if rest:
            row(n(rest), "  (%d others)" % (len(common) - TOP_SYSCALLS))
        wall = time.monotonic() - self.start
        self.runtimes.format(row, n, wall)
        lines.append("")
        lines.append("%18.6f seconds time elapsed" % wall)
        lines.append("")
        return "\n".join(lines) + "\n"
