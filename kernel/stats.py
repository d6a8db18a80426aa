"""What `perf stat -a` would count for a whole run of the board (`--stats`).

The counters live where the events happen: the cores count instructions
(Core.count_instructions), the scheduler counts switches per core, and the
exception entry counts system calls and page faults here — only when a
RunStats is attached, so a run without --stats pays one test per event.
"""

import collections
import time

from emu.arch import PAGE_SIZE

from kernel.syscalls.table import syscall_name

# How many system calls are named one by one (the rest are summed).
TOP_SYSCALLS = 12


class RunStats:
    """The counters of one run."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.syscalls = kernel.syscalls.counts = collections.Counter()    # number -> calls
        self.faults = 0                             # aborts from EL0 (page faults)
        self.fault_errors = 0                       # of those, the ones that raised a signal
        self.start = time.monotonic()
        self.counting = all(core.count_instructions() for core in kernel.board.cores)
        kernel.stats = self

    def format(self, program):
        """The report printed at exit, one counter per line as perf stat prints."""
        kernel = self.kernel
        sched = kernel.sched
        lines = ["", " Performance counter stats for '%s' (a53emu, %d cores):" % (
            program, len(kernel.board.cores)), ""]

        def row(value, name, note=""):
            lines.append(("%18s      %-18s%s" % (value, name, note)).rstrip())

        for core in kernel.board.cores:
            insns = "{:,}".format(core.insns) if self.counting else "<not counted>"
            row(insns, "instructions", "# core %d" % core.index)
        for core in kernel.board.cores:
            row("{:,}".format(sched.nr_switches[core.index]), "context-switches",
                "# core %d, %d changed mm (a TLB flush each)" % (
                    core.index, sched.nr_mm_switches[core.index]))
        row("{:,}".format(kernel.next_pid - 1), "tasks", "# processes and threads created")
        row("{:,}".format(self.faults), "page-faults",
            "# %d of them raised a signal" % self.fault_errors)
        touched = kernel.pages.nr_touched()
        row("{:,}".format(touched), "frames-touched",
            "# frames ever handed out: the peak is at most %d KiB" % (touched * PAGE_SIZE >> 10))
        total = sum(self.syscalls.values())
        row("{:,}".format(total), "syscalls")
        common = self.syscalls.most_common()
        for nr, n in common[:TOP_SYSCALLS]:
            row("{:,}".format(n), "  " + syscall_name(nr))
        rest = sum(n for _, n in common[TOP_SYSCALLS:])
        if rest:
            row("{:,}".format(rest), "  (%d others)" % (len(common) - TOP_SYSCALLS))
        lines.append("")
        lines.append("%18.6f seconds time elapsed" % (time.monotonic() - self.start))
        lines.append("")
        return "\n".join(lines) + "\n"
