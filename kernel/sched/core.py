"""kernel/sched/core.c: the run queue, schedule(), context_switch(), the tick.

The board's cores are separate Unicorn instances, but they take turns on
one host thread: two host threads would run them truly in parallel, and
Unicorn's LDXR/STXR are then not atomic across instances (DESIGN.md), so
guest spinlocks and atomics would break.  Each turn, every core that has a
task runs it for a slice; a slice ends when the timer thread stops the core
(`--deterministic`: after a fixed number of instructions), when the task
sleeps in a system call, or when a signal must be delivered.

One run queue serves every core.  Linux keeps one per CPU to avoid lock
contention and cache traffic between CPUs; here the cores interleave on one
thread, so there is no contention to avoid, and a single FIFO balances the
load by construction.  A task's cpus_allowed (sched_setaffinity) is honoured
when a core picks from it.

A core whose task changes address space drops its whole TLB: Unicorn's
software TLB carries no ASID tag, so entries of the old mm would otherwise
be used for the new one.  Threads of one mm switch without a flush.
"""

import collections
import os
import select
import threading
import time

from emu.arch import NSEC_PER_CNT
from emu.cpu import CoreStopped
from kernel.cputime import account_process_tick
from kernel.sched.task import TASK_INTERRUPTIBLE, TASK_RUNNING
from kernel.signal import SigInfo, do_signal, send_signal, signal_pending
from kernel.time.hrtimer import HrTimerBase
from kernel.time.itimer import account_cpu_time
from kernel.uapi import RLIM_INFINITY, RLIMIT_CPU, SI_KERNEL, SIGKILL, SIGNAL_NAMES, SIGXCPU

# CONFIG_HZ=250's tick, the length of a slice in wall-clock time.
SLICE_SECONDS = 0.004
DETERMINISTIC_BOOT_REAL_NS = 1510444800 * 1_000_000_000
# --deterministic: a slice is this many guest instructions, and the kernel
# clock advances by this many nanoseconds per slice (1 instruction = 1 ns).
QUANTUM_INSNS = 200_000



class Deadlock(Exception):
    """Every task sleeps and nothing can wake any of them."""


class Scheduler:
    """The scheduler of one kernel: a run queue shared by the board's cores."""

    def __init__(self, kernel, deterministic=False):
        self.kernel = kernel
        self.cores = kernel.board.cores
        self.deterministic = deterministic
        # Slices end on a timer when the cores can be stopped exactly from
        # another thread (emu/cpu.py _make_stops_precise); otherwise, and
        # under --deterministic, after a count of instructions.
        self.quantum = 0 if not deterministic and all(c.precise_stop for c in self.cores) \
            else QUANTUM_INSNS
        # The deterministic clock advances by the instructions each slice ran
        # when the cores count them, else by a whole quantum per slice.
        self.counted = deterministic and all(c.count_instructions() for c in self.cores)
        self.runqueue = collections.deque()
        self.sleepers = set()           # tasks with a deadline or host fds to watch
        self.running_core = None        # the core inside uc_emu_start right now
        self.virtual_ns = 0             # the kernel clock under --deterministic
        self._slice_insns = 0           # the running core's count when its slice began
        # Per core: tasks switched in, and those switches that changed the
        # address space (each one flushes the core's untagged Unicorn TLB).
        self.nr_switches = [0] * len(self.cores)
        self.nr_mm_switches = [0] * len(self.cores)
        self.busy_time = [0.0] * len(self.cores)     # seconds each core spent in run()
        # The board boots now: its monotonic clock counts from here, and so
        # does every core's virtual counter (CNTVCT_EL0, CNTVOFF_EL2 set to
        # the host count at boot), so the two agree.  Under --deterministic
        # EL0's counter reads trap and are answered from virtual_ns.
        self._epoch_ns = time.monotonic_ns() // NSEC_PER_CNT * NSEC_PER_CNT
        for core in self.cores:
            core.set_counter(not deterministic, self._epoch_ns // NSEC_PER_CNT)
        self.timers = HrTimerBase()     # itimers, POSIX timers, timerfds
        # CLOCK_REALTIME when the board booted: the host's wall clock, or a
        # fixed date under --deterministic (Linux 4.14's release, 2017-11-12).
        self.boot_real_ns = DETERMINISTIC_BOOT_REAL_NS if deterministic else time.time_ns()
        self._ticker = None
        self._ticker_stop = threading.Event()
        self.debugger = None            # a GdbStub (kernel/debug/gdbstub.py) under --gdb
        self.frozen = 0.0               # seconds this slice stood stopped (the Python API)
        self.wakeup_fd = None           # readable when the host got a signal (Ctrl-C)
        self.host_signals = []          # signals the host asked to forward

    # -- time ---------------------------------------------------------------------

    def clock(self):
        """The kernel's monotonic clock in seconds: host time, or under
        --deterministic a count of instructions run (1 ns each)."""
        return self.clock_ns() / 1e9

    def clock_ns(self):
        """ktime_get(): the monotonic clock in ns since the board booted."""
        if self.deterministic:
            # Within a slice, the instructions the running core has executed
            # so far count too: two readings in one slice differ (a program
            # timing its own loop), and still the same in every run.
            core = self.running_core
            if core is not None and self.counted:
                return self.virtual_ns + core.insns_so_far - self._slice_insns
            return self.virtual_ns
        # The cores' counter ticks every NSEC_PER_CNT ns; so does this clock,
        # so the vDSO's reading and the system call's never disagree.
        return (time.monotonic_ns() - self._epoch_ns) // NSEC_PER_CNT * NSEC_PER_CNT

    def run_timers(self):
        """hrtimer_run_queues(): fire the timers that are due."""
        if self.timers:
            self.timers.run(self.clock_ns())

    def _next_deadline(self):
        """The earliest sleeper deadline or timer expiry (seconds), or None."""
        deadlines = [t.wait_deadline for t in self.sleepers if t.wait_deadline is not None]
        nxt = self.timers.next_expiry()
        if nxt is not None:
            deadlines.append(nxt / 1e9)
        return min(deadlines) if deadlines else None

    # -- waking and sleeping ------------------------------------------------------

    def wake_up_process(self, task):
        """try_to_wake_up(): a sleeping task becomes runnable (no-op otherwise)."""
        if task.state != TASK_INTERRUPTIBLE:
            return False
        self._dequeue_sleep(task)
        task.state = TASK_RUNNING
        if task.core is None:
            self.runqueue.append(task)
        return True

    def _dequeue_sleep(self, task):
        for wq in task.wait_queues:
            wq.remove(task)
        task.wait_queues = []
        task.wait_fds = ()
        task.wait_excl = ()
        task.wait_deadline = None
        self.sleepers.discard(task)

    def sleep(self, task, core, wb):
        """The task's system call raised WouldBlock: rewind to the SVC so it is
        executed again when woken, put the task to sleep, end the slice."""
        core.pc = core.pc - 4
        task.sleep_restart = wb.restart
        task.state = TASK_INTERRUPTIBLE
        for wq in wb.queues:
            wq.add(task)
        task.wait_fds = wb.fds
        task.wait_external = wb.external
        task.wait_deadline = wb.deadline
        if wb.excl:                     # EPOLLEXCLUSIVE on host files (fs/epoll_exclusive.py)
            for hwq in wb.excl:
                hwq.queue.add_exclusive(task)
            task.wait_excl = wb.excl
            task.wait_external = wb.external or any(h.external for h in wb.excl)
        if wb.fds or wb.deadline is not None or wb.excl:
            self.sleepers.add(task)
        core.stop()

    def enqueue_new(self, task):
        """wake_up_new_task(): a task made by clone() joins the run queue."""
        task.state = TASK_RUNNING
        self.runqueue.append(task)

    def remove(self, task):
        """A task that exits leaves every queue."""
        self._dequeue_sleep(task)
        try:
            self.runqueue.remove(task)
        except ValueError:
            pass

    def stop_task(self, task):
        """The task stops (SIGSTOP): off the run queue, off its core."""
        try:
            self.runqueue.remove(task)
        except ValueError:
            pass
        if task.core is not None:
            task.core.stop()

    def continue_task(self, task):
        """SIGCONT: a stopped task is runnable again."""
        if task.core is None and task not in self.runqueue:
            self.runqueue.append(task)

    def kick(self, task):
        """signal_wake_up(): a task with a new signal leaves its sleep or its
        slice, so the signal is seen on the way back to EL0."""
        if task.state == TASK_INTERRUPTIBLE:
            self.wake_up_process(task)
        elif task.core is not None:
            task.core.stop()

    def _poll_sleepers(self, timeout):
        """Wake the sleepers whose host fds are ready or whose deadline has
        passed, waiting up to timeout seconds (0: just look; None: until an
        fd is ready).  A signal to the host process (Ctrl-C) ends the wait."""
        if not self.sleepers and (timeout == 0 or not self.timers):
            return
        events = {}
        excl = {}
        for task in self.sleepers:
            for fd, ev in task.wait_fds:
                events[fd] = events.get(fd, 0) | ev
            for hwq in task.wait_excl:
                excl[hwq.fileno()] = hwq
                events[hwq.fileno()] = select.POLLIN
        if timeout and not self.deterministic:
            deadline = self._next_deadline()
            if deadline is not None:
                timeout = max(0.0, min(timeout, deadline - self.clock()))
        if timeout != 0 and self.wakeup_fd is not None:
            events[self.wakeup_fd] = select.POLLIN
        if timeout != 0 and self.debugger is not None and self.debugger.conn is not None:
            events[self.debugger.conn.fileno()] = select.POLLIN     # gdb's interrupt
        ready = set()
        if events:
            poller = select.poll()
            for fd, ev in events.items():
                poller.register(fd, ev)
            ready = {fd for fd, _ in poller.poll(None if timeout is None else timeout * 1000)}
        elif timeout and not self.deterministic:
            time.sleep(timeout)
        self.run_timers()
        for fd in ready.intersection(excl):
            excl[fd].edge()             # wakes one exclusive sleeper
        now = self.clock()
        for task in list(self.sleepers):
            if task.wait_deadline is not None and task.wait_deadline <= now:
                self.wake_up_process(task)
            elif any(fd in ready for fd, _ in task.wait_fds):
                self.wake_up_process(task)

    # -- choosing and switching ---------------------------------------------------

    def pick_next_task(self, core):
        """The first runnable task allowed on core (FIFO), or None."""
        bit = 1 << core.index
        for i, task in enumerate(self.runqueue):
            if task.cpus_allowed & bit:
                del self.runqueue[i]
                return task
        return None

    def context_switch(self, core, prev, nxt):
        """context_switch(): save prev's registers, switch_mm() if the address
        space changes, load nxt's registers."""
        if prev is not None:
            if prev.exit_state is None:
                prev.context = core.save_context()
            prev.core = None
            prev.last_cpu = core.index
        core.current = nxt
        if nxt is None:
            return
        self.nr_switches[core.index] += 1
        nxt.core = core
        mm = nxt.mm
        if core.active_mm is not mm:
            self.switch_mm(core, mm)
        core.load_context(nxt.context)
        if core.last_task is not nxt:
            core.clear_exclusive()      # the exception return into another task
            trace = self.kernel.trace
            if trace.sched:
                last = core.last_task
                trace.emit("sched_switch", core=core.index, next=nxt,
                           prev=last if last is not None and last.exit_state is None else None)
        core.last_task = nxt
        nxt.context = None
        nxt.slice_start = time.monotonic()

    def switch_mm(self, core, mm):
        """switch_mm() → check_and_switch_context(): the core now translates
        through mm's tables with mm's ASID; Unicorn's untagged TLB is flushed."""
        old = core.active_mm
        if old is not None:
            old.cpu_vm_mask.discard(core.index)
        self.kernel.asids.check_and_switch_context(mm, core)
        core.active_mm = mm
        core.ttbr0 = mm.ttbr0()
        core.flush_tlb()
        mm.cpu_vm_mask.add(core.index)
        self.nr_mm_switches[core.index] += 1
        trace = self.kernel.trace
        if trace.tlb:
            trace.emit("switch_mm", core=core.index, mm=mm)

    def drop_mm(self, mm):
        """An mm is going away: no core may keep translating through it."""
        for core in self.cores:
            if core.active_mm is mm:
                core.active_mm = None
                core.ttbr0 = 0
                core.flush_tlb()
        mm.cpu_vm_mask.clear()

    # -- the loop -------------------------------------------------------------------

    def run(self, init):
        """Run every task until init has exited.  Raises Deadlock when all
        tasks sleep with nothing to wake them."""
        if not self.quantum:
            # A run after another (the Python API runs a board in steps):
            # the last one's finally set the stop, which would end this
            # run's tick at once and leave its slices unpreempted.
            self._ticker_stop.clear()
            # Written once, at the end: the tick's select() returns at once
            # instead of after its slice (up to 4 ms more of every run).
            self._ticker_wake = os.pipe()
            self._ticker = threading.Thread(target=self._tick, name="a53emu-tick", daemon=True)
            self._ticker.start()
        try:
            while init.exit_state is None:
                if self.host_signals:
                    self._forward_host_signals(init)
                self.run_timers()
                dbg = self.debugger
                if dbg is not None:
                    dbg.service()           # gdb holds the board while the program is stopped
                ran = False
                for core in self.cores:
                    if self._run_core(core):
                        ran = True
                    if init.exit_state is not None:
                        break
                    if dbg is not None and dbg.pending is not None:
                        break               # all-stop: nothing else runs after a stop
                if init.exit_state is not None:
                    break
                if dbg is not None and dbg.pending is not None:
                    continue
                if ran:
                    if self.sleepers:
                        self._poll_sleepers(0)
                elif self.sleepers or self.timers:
                    self._idle()
                elif self._outside_can_wake():
                    self._wait_for_host_signal()
                else:
                    raise Deadlock()
        finally:
            self._ticker_stop.set()
            self.running_core = None
            if self._ticker is not None:
                os.write(self._ticker_wake[1], b"x")
                self._ticker.join()
                for fd in self._ticker_wake:
                    os.close(fd)

    def _forward_host_signals(self, init):
        """Deliver what the host's terminal sent (Ctrl-C, Ctrl-\\, a hangup;
        a kill of a53emu) to init's process group, the foreground job of the
        board's console, as the tty layer does: kill_pgrp(pgrp, sig, 1), a
        privileged send whose si_code is SI_KERNEL."""
        self._drain_wakeup_fd()
        sigs, self.host_signals = self.host_signals, []
        from kernel.tty import console_pgrp
        pgrp = console_pgrp(self.kernel) or init.signal.pgrp     # the console's foreground
        for sig in sigs:
            for t in list(self.kernel.tasks.values()):
                if t is t.group_leader and t.exit_state is None and t.signal.pgrp == pgrp:
                    info = SigInfo(sig, SI_KERNEL, reason="%s sent to a53emu, forwarded to the "
                                   "foreground process group as a terminal's"
                                   % SIGNAL_NAMES.get(sig, sig))
                    send_signal(t, info, group=True)

    def _drain_wakeup_fd(self):
        """Empty the wake-up fd the host's signal handler made readable."""
        fd = self.wakeup_fd
        if fd is None:
            return
        try:
            while os.read(fd, 64):
                pass
        except BlockingIOError:
            pass

    def _idle(self):
        """Every core is idle (WFI): wait for a host fd or the next deadline.
        Under --deterministic, time jumps to the next deadline instead (host
        descriptors are only looked at, never waited for, while one is due).
        Pipes of the board become ready only through its own tasks, which all
        sleep: only the host's descriptors and the clock can end this."""
        external = any(t.wait_external for t in self.sleepers)
        deadline = self._next_deadline()
        if not external and deadline is None:
            if not self._outside_can_wake():
                raise Deadlock()
            self._wait_for_host_signal()
            return
        if self.deterministic and deadline is not None:
            self._poll_sleepers(0)
            if not self.runqueue:
                self.virtual_ns = max(self.virtual_ns, int(deadline * 1e9) + 1)
                self._poll_sleepers(0)
            return
        self._poll_sleepers(3600.0 if deadline is not None else None)

    def _outside_can_wake(self):
        """Can something outside the board still wake a task when no host fd
        is polled and no timer is due?  A terminal's signal: a53emu's own
        handlers forward SIGINT/SIGQUIT/SIGHUP/SIGTERM (emu/cli.py
        forward_terminal_signals(): the wake-up fd is set) and its stdin is
        a terminal, where the user can press Ctrl-C.  Linux keeps such a
        task waiting (pause() until Ctrl-C); without a terminal on stdin
        (tests, pipelines, the Python API) nothing but a kill from another
        shell could wake it, and the run ends with the deadlock report."""
        if self.wakeup_fd is None:
            return False
        try:
            return os.isatty(0)
        except OSError:
            return False

    def _wait_for_host_signal(self):
        """Sleep until the host's signal handler (or gdb's interrupt) makes
        its fd readable; run() then forwards the signal into the board.
        A byte left by a signal that forwarded nothing (one with another
        handler of Python's) is drained first, or the poll would spin."""
        if not self.host_signals:
            self._drain_wakeup_fd()
        events = [self.wakeup_fd]
        if self.debugger is not None and self.debugger.conn is not None:
            events.append(self.debugger.conn.fileno())
        poller = select.poll()
        for fd in events:
            poller.register(fd, select.POLLIN)
        poller.poll()

    def _run_core(self, core):
        """One turn of one core: pick a task if it has none, run a slice.
        Returns True if guest code ran."""
        task = core.current
        if task is not None and (task.state != TASK_RUNNING or task.exit_state is not None):
            self.context_switch(core, task, None)
            task = None
        if task is None:
            task = self.pick_next_task(core)
            if task is None:
                return False
            self.context_switch(core, None, task)
        insns = self._slice_insns = core.insns
        dbg = self.debugger
        self.run_slice(core, task, self.quantum if dbg is None else
                       dbg.slice_count(task, self.quantum))
        if dbg is not None:
            dbg.after_slice(core, task)
        if self.deterministic:
            self.virtual_ns += core.insns - insns if self.counted else QUANTUM_INSNS
        if task.exit_state is not None or task.state != TASK_RUNNING:
            if task.exit_state is None:
                task.nvcsw += 1         # __schedule(): it sleeps, a voluntary switch
            self.context_switch(core, task, None)
        elif not task.cpus_allowed >> core.index & 1:
            self.context_switch(core, task, None)       # sched_setaffinity moved it
            self.runqueue.append(task)
        elif self.runqueue and (self.quantum or task.yielded or
                                time.monotonic() - task.slice_start >= SLICE_SECONDS):
            # The slice is over and someone waits: to the back of the queue.
            task.nivcsw += 1
            task.yielded = False
            self.context_switch(core, task, None)
            self.runqueue.append(task)
        return True

    def run_slice(self, core, task, count):
        """Run task on core until the core stops; signals are delivered
        before it enters EL0 and when it leaves (ret_to_user's
        do_notify_resume).  A kernel bug ends the task, not the board."""
        kernel = self.kernel
        if signal_due(task):
            do_signal(task, core)
            if task.exit_state is not None or task.state != TASK_RUNNING:
                return
        self.running_core = core
        t0 = time.monotonic()
        insns = core.insns
        task.run_start = None if self.deterministic else t0
        try:
            core.run(core.pc, count)
        except CoreStopped as e:
            kernel.internal_error(task, "the CPU emulator stopped: %s" % e)
        except Exception as e:      # a kernel bug: report it with the guest's state
            kernel.internal_error(task, "%s: %s" % (type(e).__name__, e))
            import traceback    # only for a kernel bug: ~5 ms of every start otherwise
            task.death.traceback = traceback.format_exc()
        finally:
            self.running_core = None
            task.run_start = None
            if not self.deterministic:
                # Time the board stood frozen (a53emu's stops) is nobody's CPU time.
                ran = time.monotonic() - t0 - self.frozen
                self.frozen = 0.0
            elif self.counted:
                ran = (core.insns - insns) / 1e9      # 1 ns an instruction
            else:
                ran = QUANTUM_INSNS / 1e9
            task.utime += ran
            self.busy_time[core.index] += ran
            if task.signal.cpu_timers:
                account_cpu_time(task, ran)
        if cpu_limited(task):
            check_process_timers(task)
        if task.exit_state is None and task.state == TASK_RUNNING and signal_due(task):
            do_signal(task, core)

    def _tick(self):
        """The timer interrupt: every SLICE_SECONDS, stop the running core if
        anything else could use the CPU (another core's task, a waiting
        task, a sleeper whose time may have come) — or at once when the host
        delivered a signal, so the main thread can run its handler."""
        while not self._ticker_stop.is_set():
            fd = self.wakeup_fd
            if fd is not None:
                ready, _, _ = select.select([fd, self._ticker_wake[0]], [], [], SLICE_SECONDS)
            else:
                ready = ()
                self._ticker_stop.wait(SLICE_SECONDS)
            core = self.running_core
            if core is None:
                continue
            account_process_tick(core)      # kernel/cputime.py: user or system time
            nxt = self.timers.peek()
            if ready or self.host_signals or self.runqueue or self.sleepers or any(
                    c.current is not None for c in self.cores if c is not core) or (
                    nxt is not None and nxt <= self.clock_ns()) or (
                    core.current is not None and core.current.signal.cpu_timers) \
                    or cpu_limited(core.current):
                core.preempt()


def signal_due(task):
    """Is it time for do_signal() on the way to or from EL0: a signal
    pending, and the task not still at the SVC it slept in?  A task woken
    from a sleeping call runs that SVC again first: the call returns
    -ERESTART* when a signal woke it, and do_signal() then knows what the
    signal interrupted.  Entered at the SVC, a handler would return to it
    and run the call again from scratch instead of ending it with -EINTR
    (a sigsuspend() or pause() woken by its signal slept again: sys_tty,
    seen in CI) -- and a slice may end before its first instruction (the
    tick's preempt may come as it starts), so the test is made at both
    ends of a slice."""
    return task.sleep_restart is None and signal_pending(task)


def cpu_limited(task):
    """Has the task an RLIMIT_CPU to watch?  Then its slices end on every
    tick even when nothing else wants the core, so its time is accounted
    (and check_process_timers() runs) as Linux's tick would."""
    return task is not None and task.signal.rlim[RLIMIT_CPU][0] != RLIM_INFINITY


def check_process_timers(task):
    """check_process_timers()'s RLIMIT_CPU part: once the process's CPU time
    (every thread's, in whole seconds) reaches the soft limit, SIGXCPU —
    and again each second, the soft limit moving up by one until it meets
    the hard one; at the hard limit, SIGKILL.  CPU time here is the host
    time spent running the guest (user and system time together)."""
    rlim = task.signal.rlim[RLIMIT_CPU]
    soft, hard = rlim
    psecs = int(sum(t.utime for t in task.thread_group) + task.signal.utime_dead)
    if psecs >= hard:
        send_signal(task, SigInfo(SIGKILL, SI_KERNEL), group=True)
    elif psecs >= soft:
        send_signal(task, SigInfo(SIGXCPU, SI_KERNEL), group=True)
        if soft < hard:
            rlim[0] = soft + 1
