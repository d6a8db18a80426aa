"""The rest of `--stats` (issue 7 part 5): TLB fills per core, the peaks of
frames and VMAs, where the wall time went, and a live status line.

Nothing here costs anything without --stats: the counters are wrappers put
around the hardware's entry points only when a RunTimes is made —

  mmu.tlb_fill   every Unicorn TLB miss the MMU answers (a table walk; the
                 aborts it raises are handled inside it), counted per core;
  core.run       the core inside uc_emu_start;
  vectors.el0_sync  system calls, faults, trapped instructions (and
  vectors.el0_svc   where a core sends its system calls directly).

The kernel runs inside uc_emu_start (Unicorn calls its hooks), so the time
in translated code is the time inside uc_emu_start minus the time in those
hooks; the kernel's is the hooks' plus everything outside uc_emu_start
(the scheduler, exec, signal delivery, the timers).

The frames peak is the page allocator's low-water mark of free frames
(PageAllocator.watched, one test per allocation); the VMAs peak is the most
VMAs one address space held, updated where vma_link() counts them.
"""

import threading
import time

# How often the live status line is redrawn (seconds).
STATUS_PERIOD = 0.5
# ANSI: back to the start of the line, erase it.
_CLEAR_LINE = "\r\x1b[K"


class RunTimes:
    """The wrappers and counters of one run."""

    def __init__(self, kernel):
        self.kernel = kernel
        cores = kernel.board.cores
        self.tlb_fills = [0] * len(cores)
        self.emu_seconds = 0.0          # inside uc_emu_start
        self.hook_seconds = 0.0         # of which in the kernel's hooks
        self.hook_depth = 0             # an abort inside a fill is one stay in the kernel
        self.vmas_peak = 0
        pages = kernel.pages
        pages.low_water = pages.nr_free
        pages.watched = True
        self._wrap_tlb_fill(kernel.board.mmu)
        self._wrap_vectors(kernel.vectors)
        for core in cores:
            self._wrap_run(core)
        self.status = None

    # -- the wrappers ------------------------------------------------------------

    def _hook(self, inner):
        """inner, timed when it is the outermost kernel entry."""
        clock = time.perf_counter

        def timed(*args):
            if self.hook_depth:
                return inner(*args)
            self.hook_depth = 1
            t0 = clock()
            try:
                return inner(*args)
            finally:
                self.hook_seconds += clock() - t0
                self.hook_depth = 0
        return timed

    def _wrap_tlb_fill(self, mmu):
        fills = self.tlb_fills
        timed = self._hook(mmu.tlb_fill)

        def tlb_fill(core, va, access):
            fills[core.index] += 1
            return timed(core, va, access)
        mmu.tlb_fill = tlb_fill

    def _wrap_vectors(self, vectors):
        vectors.el0_sync = self._hook(vectors.el0_sync)
        vectors.el0_svc = self._hook(vectors.el0_svc)   # a core's SVC enters here directly

    def _wrap_run(self, core):
        inner = core.run
        clock = time.perf_counter

        def run(pc, count=0):
            t0 = clock()
            try:
                return inner(pc, count)
            finally:
                self.emu_seconds += clock() - t0
        core.run = run

    def vma_linked(self, mm):
        """vma_link() added a VMA to mm: the peak may have moved."""
        if mm.map_count > self.vmas_peak:
            self.vmas_peak = mm.map_count

    # -- the report ----------------------------------------------------------------

    def split(self, wall):
        """(seconds in translated code, seconds in the kernel) of `wall`."""
        guest = max(self.emu_seconds - self.hook_seconds, 0.0)
        return guest, max(wall - guest, 0.0)

    def format(self, row, n, wall):
        from emu.arch import PAGE_SIZE
        pages = self.kernel.pages
        peak = pages.frames_peak()
        row(n(peak), "frames-peak", "# the most frames in use at once: %d KiB" % (
            peak * PAGE_SIZE >> 10))
        row(n(self.vmas_peak), "vmas-peak", "# the most VMAs one address space had")
        guest, kernel = self.split(wall)
        share = (lambda s: 100.0 * s / wall) if wall > 0 else (lambda s: 0.0)
        row("%.3f" % guest, "seconds-guest",
            "# %.1f%% in translated code (inside uc_emu_start, hooks excluded)" % share(guest))
        row("%.3f" % kernel, "seconds-kernel",
            "# %.1f%% in the kernel: its hooks (%.3f s) and the rest" % (
                share(kernel), self.hook_seconds))

    # -- the live status line ----------------------------------------------------------

    def start_status(self, stream, start, stats, program_out=None):
        """Redraw a one-line status on stream about twice a second while the
        run lasts — only when stream is a terminal, and not the terminal the
        program writes its output to (program_out, a file descriptor): the
        program's lines would tear it."""
        try:
            if not stream.isatty():
                return
            if program_out is not None and same_terminal(stream.fileno(), program_out):
                return
        except (AttributeError, ValueError, OSError):
            return
        self.status = LiveStatus(self.kernel, stream, start, stats)
        self.status.start()

    def stop_status(self):
        if self.status is not None:
            self.status.stop()
            self.status = None


def same_terminal(fd1, fd2):
    """Do two descriptors lead to the same terminal device?"""
    import os
    try:
        a, b = os.fstat(fd1), os.fstat(fd2)
    except OSError:
        return False
    return os.isatty(fd2) and (a.st_rdev, a.st_dev) == (b.st_rdev, b.st_dev)


class LiveStatus(threading.Thread):
    """The status line: elapsed time, instructions, system calls, faults,
    tasks.  It reads counters the main thread updates; a torn read only
    makes one redraw a little off."""

    def __init__(self, kernel, stream, start, stats):
        super().__init__(name="a53emu-status", daemon=True)
        self.kernel = kernel
        self.stream = stream
        self.start_time = start
        self.stats = stats
        self.done = threading.Event()
        self.drawn = False

    def line(self):
        k = self.kernel
        insns = sum(core.insns for core in k.board.cores)
        try:
            calls = sum(self.stats.syscalls.values())
            faults = sum(self.stats.faults.values())
        except RuntimeError:            # a counter grew while it was summed
            calls = faults = 0
        live = sum(1 for t in list(k.tasks.values()) if t.exit_state is None)
        return "a53emu: %.1f s  %s instructions  %s syscalls  %s faults  %d tasks" % (
            time.monotonic() - self.start_time, "{:,}".format(insns), "{:,}".format(calls),
            "{:,}".format(faults), live)

    def run(self):
        while not self.done.wait(STATUS_PERIOD):
            try:
                text = self.line()
            except Exception:       # noqa: BLE001 -- a courtesy; it never ends the run
                continue
            try:
                self.stream.write(_CLEAR_LINE + text)
                self.stream.flush()
                self.drawn = True
            except (OSError, ValueError):
                return

    def stop(self):
        self.done.set()
        self.join()
        if self.drawn:
            try:
                self.stream.write(_CLEAR_LINE)
                self.stream.flush()
            except (OSError, ValueError):
                pass

