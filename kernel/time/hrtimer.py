"""kernel/time/hrtimer.c: timers on the kernel's monotonic clock.

Linux keeps hrtimers in a red-black tree per CPU and the timer interrupt
(hrtimer_interrupt) runs the expired ones.  Here one heap serves the board:
the scheduler runs the expired timers between slices and while idle, and
its tick stops a running core when one is due (kernel/sched/core.py), so a
timer fires within a tick of its expiry even while a task spins.  Under
--deterministic the clock is the instruction count, so timers fire at the
same guest instruction every run.

A timer's function may re-arm it (hrtimer_forward + HRTIMER_RESTART):
it returns the next expiry in ns, or None.
"""

import heapq
import itertools

_seq = itertools.count()


class HrTimer:
    """struct hrtimer: a function to run at `expires` (kernel clock, ns)."""

    __slots__ = ("function", "expires", "armed", "_key")

    def __init__(self, function):
        self.function = function
        self.expires = None
        self.armed = False
        self._key = None


class HrTimerBase:
    """hrtimer_clock_base: the armed timers, earliest first."""

    def __init__(self):
        self._heap = []

    def start(self, timer, expires):
        """hrtimer_start(): arm (or re-arm) timer for `expires` ns."""
        timer.expires = expires
        timer.armed = True
        timer._key = next(_seq)
        heapq.heappush(self._heap, (expires, timer._key, timer))

    def cancel(self, timer):
        """hrtimer_cancel(): disarm; its heap entry is dropped lazily."""
        timer.armed = False
        timer._key = None

    def next_expiry(self):
        """The earliest armed expiry in ns, or None (hrtimer_get_next_event)."""
        heap = self._heap
        while heap and heap[0][2]._key != heap[0][1]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def peek(self):
        """An expiry at least as early as every armed timer's, without
        tidying the heap: what the tick thread may look at (a cancelled
        timer's entry can only cause one early stop)."""
        try:
            return self._heap[0][0]
        except IndexError:
            return None

    def run(self, now):
        """hrtimer_run_queues(): run every timer whose expiry is <= now."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            expires, key, timer = heapq.heappop(heap)
            if timer._key != key:
                continue
            timer.armed = False
            timer._key = None
            nxt = timer.function(now)
            if nxt is not None and not timer.armed:
                self.start(timer, nxt)

    def __bool__(self):
        return self.next_expiry() is not None
