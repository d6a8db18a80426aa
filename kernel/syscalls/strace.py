"""The strace printer: syscall events as `name(args) = result` lines.

Argument formats (given where each handler is registered):
  d signed long   i signed int (pid_t, an exit code: the low 32 bits)
  u unsigned   x hex   p pointer (NULL or hex)   fd, dirfd
  path           a NUL-terminated string
  ibuf:N         bytes the call reads, length in argument N
  obuf:ret       bytes the call wrote, length = the result
  iov:N          an iovec array of N entries (shown by its total length)
  mode (octal), oflags, atflags, prot, mflags, madv, whence, sig, sighow,
  clock, rlimit, rusage, grnd, fcntlcmd, ioctlcmd   decoded flags and names
User memory is only peeked: a buffer not resident is shown as its address.
"""

import os
import stat
import sys
import time
import weakref

from kernel.sched.wait import RESTART_NAMES
from kernel.syscalls import strace_decode
from kernel.syscalls.table import syscall_name
from kernel.trace import errno_text
from kernel.uapi import (
    AT_FDCWD, MAP_FLAG_NAMES, MAP_TYPE, MAP_TYPE_NAMES, O_ACCMODE, O_CREAT, O_TMPFILE,
    OPEN_FLAG_NAMES,
    PROT_NAMES, SIGNAL_NAMES,
)

_MAX_STR = 32
_ACC = {0: "O_RDONLY", 1: "O_WRONLY", 2: "O_RDWR"}
_NAMED = {
    "whence": {0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"},
    "madv": {0: "MADV_NORMAL", 1: "MADV_RANDOM", 2: "MADV_SEQUENTIAL", 3: "MADV_WILLNEED",
             4: "MADV_DONTNEED", 8: "MADV_FREE"},
    "sighow": {0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK"},
    "clock": {0: "CLOCK_REALTIME", 1: "CLOCK_MONOTONIC", 2: "CLOCK_PROCESS_CPUTIME_ID",
              3: "CLOCK_THREAD_CPUTIME_ID", 4: "CLOCK_MONOTONIC_RAW",
              5: "CLOCK_REALTIME_COARSE", 6: "CLOCK_MONOTONIC_COARSE", 7: "CLOCK_BOOTTIME"},
    "rlimit": {0: "RLIMIT_CPU", 1: "RLIMIT_FSIZE", 2: "RLIMIT_DATA", 3: "RLIMIT_STACK",
               4: "RLIMIT_CORE", 5: "RLIMIT_RSS", 6: "RLIMIT_NPROC", 7: "RLIMIT_NOFILE",
               8: "RLIMIT_MEMLOCK", 9: "RLIMIT_AS"},
    "rusage": {0: "RUSAGE_SELF", 0xFFFFFFFF: "RUSAGE_CHILDREN", 1: "RUSAGE_THREAD"},
    "fcntlcmd": {0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL",
                 1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ"},
    "mremapflags": {0: "0", 1: "MREMAP_MAYMOVE", 2: "MREMAP_FIXED", 3: "MREMAP_MAYMOVE|MREMAP_FIXED"},
    "ioctlcmd": {0x5401: "TCGETS", 0x5413: "TIOCGWINSZ", 0x541B: "FIONREAD"},
}

# -- issue 9 part 2 (files and directories): flag sets of the file calls --------------
# (format name -> (flag names, what 0 prints)); fadvice names one value.
_FILES_FLAGS = {
    "falloc": ((("FALLOC_FL_KEEP_SIZE", 0x01), ("FALLOC_FL_PUNCH_HOLE", 0x02),
                ("FALLOC_FL_NO_HIDE_STALE", 0x04), ("FALLOC_FL_COLLAPSE_RANGE", 0x08),
                ("FALLOC_FL_ZERO_RANGE", 0x10), ("FALLOC_FL_INSERT_RANGE", 0x20),
                ("FALLOC_FL_UNSHARE_RANGE", 0x40)), "0"),
    "flockop": ((("LOCK_SH", 1), ("LOCK_EX", 2), ("LOCK_NB", 4), ("LOCK_UN", 8),
                 ("LOCK_MAND", 32)), "0"),
    "rwf": ((("RWF_HIPRI", 1), ("RWF_DSYNC", 2), ("RWF_SYNC", 4), ("RWF_NOWAIT", 8)), "0"),
    "splice": ((("SPLICE_F_MOVE", 1), ("SPLICE_F_NONBLOCK", 2), ("SPLICE_F_MORE", 4),
                ("SPLICE_F_GIFT", 8)), "0"),
    "syncrange": ((("SYNC_FILE_RANGE_WAIT_BEFORE", 1), ("SYNC_FILE_RANGE_WRITE", 2),
                   ("SYNC_FILE_RANGE_WAIT_AFTER", 4)), "0"),
}
_NAMED["fadvice"] = {0: "POSIX_FADV_NORMAL", 1: "POSIX_FADV_RANDOM", 2: "POSIX_FADV_SEQUENTIAL",
                     3: "POSIX_FADV_WILLNEED", 4: "POSIX_FADV_DONTNEED", 5: "POSIX_FADV_NOREUSE"}
_S_IFMT_NAMES = {0o010000: "S_IFIFO", 0o020000: "S_IFCHR", 0o040000: "S_IFDIR",
                 0o060000: "S_IFBLK", 0o100000: "S_IFREG", 0o140000: "S_IFSOCK"}


def _files_arg(kind, v):
    """The file calls' formats: flag sets, nodmode (S_IFIFO|0644) and dev
    (makedev(major, minor), new_decode_dev()'s split); None if kind is not one."""
    if kind in _FILES_FLAGS:
        names, zero = _FILES_FLAGS[kind]
        return _flags(v & 0xFFFFFFFF, names, zero)
    if kind == "nodmode":
        fmt = v & 0o170000
        perm = "0%o" % (v & 0o7777)
        if not fmt:
            return perm
        return _S_IFMT_NAMES.get(fmt, "0%o" % fmt) + "|" + perm
    if kind == "dev":                   # (a 0 is printed "0", as C's %#x prints it)
        return strace_decode.makedev(v & 0xFFFFFFFF)
    return None
# -- issue 9 part 3 (credentials and limits) ------------------------------------------
_NAMED["rlimit"].update({10: "RLIMIT_LOCKS", 11: "RLIMIT_SIGPENDING", 12: "RLIMIT_MSGQUEUE",
                         13: "RLIMIT_NICE", 14: "RLIMIT_RTPRIO", 15: "RLIMIT_RTTIME"})
_NAMED["prio"] = {0: "PRIO_PROCESS", 1: "PRIO_PGRP", 2: "PRIO_USER"}
_NAMED["schedpol"] = {0: "SCHED_OTHER", 1: "SCHED_FIFO", 2: "SCHED_RR", 3: "SCHED_BATCH",
                      5: "SCHED_IDLE", 6: "SCHED_DEADLINE",
                      0x40000001: "SCHED_FIFO|SCHED_RESET_ON_FORK",
                      0x40000002: "SCHED_RR|SCHED_RESET_ON_FORK"}
_NAMED["prctlopt"] = {1: "PR_SET_PDEATHSIG", 2: "PR_GET_PDEATHSIG", 3: "PR_GET_DUMPABLE",
                      4: "PR_SET_DUMPABLE", 7: "PR_GET_KEEPCAPS", 8: "PR_SET_KEEPCAPS",
                      15: "PR_SET_NAME", 16: "PR_GET_NAME", 23: "PR_CAPBSET_READ",
                      24: "PR_CAPBSET_DROP", 27: "PR_GET_SECUREBITS", 28: "PR_SET_SECUREBITS",
                      36: "PR_SET_CHILD_SUBREAPER", 37: "PR_GET_CHILD_SUBREAPER",
                      38: "PR_SET_NO_NEW_PRIVS", 39: "PR_GET_NO_NEW_PRIVS", 47: "PR_CAP_AMBIENT"}
# Issue 9 part 4 (time): the interval timers, and the clocks after CLOCK_BOOTTIME.
_NAMED["itimer"] = {0: "ITIMER_REAL", 1: "ITIMER_VIRTUAL", 2: "ITIMER_PROF"}
_NAMED["clock"].update({8: "CLOCK_REALTIME_ALARM", 9: "CLOCK_BOOTTIME_ALARM", 10: "CLOCK_SGI_CYCLE",
                        11: "CLOCK_TAI"})


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _flags(value, names, zero="0"):
    """printflags(): each name whose bits are all still set takes them (so
    O_SYNC, listed first, leaves no O_DSYNC), then what is left in hex."""
    parts = []
    rest = value
    for name, bit in names:
        if bit and rest & bit == bit:
            parts.append(name)
            rest &= ~bit
    if rest:
        parts.append("%#x" % rest)
    return "|".join(parts) or zero


class _Pending:
    """A call entered and not yet returned."""
    __slots__ = ("nr", "start", "entry", "prefix", "partial", "cut", "shown")

    def __init__(self, nr, start):
        self.nr, self.start = nr, start
        self.entry = None       # the arguments decoded on entry
        self.prefix = ""        # printleader() on entry
        self.partial = None     # what strace wrote on entry
        self.cut = False        # written with <unfinished ...>
        self.shown = False      # partial written, the line left open (see attached())


def quote(data, limit=_MAX_STR):
    """strace's string quoting: C escapes, cut at `limit` with '...'."""
    return strace_decode.quote(data, limit)


class StracePrinter:
    """Sink for "sys_enter", "syscall", "signal" and "exit" events,
    writing strace's lines to `out` (issue 7 part 4: strace 6.1's format).

    Arguments a call takes are decoded when it enters, what it gives back
    when it returns, as strace does.  A call's line is written when the call
    returns, unless a line of another traced task (or a signal, an exit)
    comes first: then, as strace, its first part ends in `<unfinished ...>`
    and the rest follows as `<... NAME resumed>`.  `opts`
    (kernel/syscalls/strace_opts.py) holds -e trace=/signal=, -f, -y, -T,
    -c, -s, -a, -v, -yy, -o, -ff, -p, -C, -r, -t and -q.  With -o FILE the
    lines go to FILE (opened here: OSError if it cannot be), with -ff to
    FILE.PID, one per task, as strace's -ff writes them."""

    def __init__(self, out, opts=None):
        self.opts = opts if opts is not None else StraceOptions()
        self.out = out
        if self.opts.output is not None and not self.opts.separately:
            # line-buffered, as --trace-file: a53emu may leave with os._exit()
            self.out = open(self.opts.output, "w", buffering=1)
        self.files = {}         # -ff: pid -> its FILE.PID
        self.pending = {}       # pid -> _Pending, a call entered and not yet returned
        self.open = None        # the pid whose line strace would have left open
        self.live = set()       # the tasks traced and not yet exited (strace's nprocs)
        self.deferred = {}      # leader pid -> its exit line, until its threads are gone
        self.summary = SyscallSummary() if self.opts.summary else None
        # -c alone prints no line; -C prints them and the table
        self.lines = not self.opts.summary or self.opts.summary_too
        self.last_ns = None     # -r: when the previous line was led

    def traced(self, task):
        """Without -f strace follows only the process it started; -p PID
        only those tasks (with -f their threads and descendants too, as
        strace -f -p attaches to the children the process makes)."""
        if task is None:
            return True
        pids = self.opts.pids
        if pids is not None:
            if task.pid in pids:
                return True
            if not self.opts.follow:
                return False
            t = task
            while t is not None:
                if t.pid in pids or t.group_leader.pid in pids:
                    return True
                t = t.group_leader.real_parent
            return False
        if self.opts.follow:
            return True
        return task is task.kernel.init_task

    def stream(self, pid):
        """Where a task's lines go: FILE.PID under -o FILE -ff, else out."""
        if not self.opts.separately or pid is None:
            return self.out
        f = self.files.get(pid)
        if f is None:
            name = "%s.%d" % (self.opts.output, pid)
            try:
                f = open(name, "w", buffering=1)
            except OSError as e:
                # a tracer must not end the run it watches: this task's
                # lines go where the others' would without -ff
                self.out.write("a53emu: -ff: %s: %s\n" % (name, e.strerror))
                f = self.out
            self.files[pid] = f
        return f

    def write(self, pid, text):
        self.stream(pid).write(text)

    def close(self):
        """The files -o opened (the run is over)."""
        for f in self.files.values():
            if f is not self.out:
                f.close()
        self.files.clear()
        if self.opts.output is not None and not self.opts.separately:
            self.out.flush()

    def clock(self, task):
        """(wall-clock ns, monotonic ns) for -t and -r: the host's clocks,
        or under --deterministic the board's monotonic clock for both
        (the wall clock then counts from the board's boot), so that the
        trace of a repeated run is the same."""
        sched = getattr(getattr(task, "kernel", None), "sched", None)
        if sched is not None and getattr(sched, "deterministic", False):
            now = sched.clock_ns()
            return now, now
        return time.time_ns(), time.monotonic_ns()

    def seconds(self, task):
        """The clock of -T and -c: the host's, or under --deterministic the
        board's (a call that does not sleep then takes no time at all, and
        a repeated run prints the same times)."""
        sched = getattr(getattr(task, "kernel", None), "sched", None)
        if sched is not None and getattr(sched, "deterministic", False):
            return sched.clock_ns() / 1e9
        return time.perf_counter()

    def leader(self, task):
        """printleader(): [pid N] (see prefix()), then -t/-tt/-ttt's time
        of day and -r's time since the previous line."""
        head = self.prefix(task)
        opts = self.opts
        if not opts.timestamps and not opts.relative:
            return head
        wall, mono = self.clock(task)
        if opts.timestamps:
            sec, ns = divmod(wall, 1_000_000_000)
            if opts.timestamps >= 3:
                head += "%d.%06d " % (sec, ns // 1000)
            else:
                sched = getattr(getattr(task, "kernel", None), "sched", None)
                tm = time.gmtime(sec) if getattr(sched, "deterministic", False) \
                    else time.localtime(sec)
                head += time.strftime("%H:%M:%S", tm)
                head += ".%06d " % (ns // 1000) if opts.timestamps == 2 else " "
        if opts.relative:
            delta = mono - self.last_ns if self.last_ns is not None else 0
            self.last_ns = mono
            head += "%6d.%06d " % divmod(delta // 1000, 1_000_000)
        return head

    def prefix(self, task):
        """printleader(): [pid N] while -f traces more than one task (a task
        counts from its first event, when strace would see it attached)."""
        if task is None:
            return ""
        self.live.add(task.pid)
        if self.opts.follow and len(self.live) > 1 and not self.opts.separately:
            return "[pid %5d] " % task.pid
        return ""

    def interrupt(self, pid=None):
        """Another line is about to be written: the open line of another
        task, if any, ends in ` <unfinished ...>`."""
        if self.open is None or self.open == pid:
            return
        if self.opts.separately:
            return          # -ff: each task's line is in a file of its own
        pending = self.pending.get(self.open)
        self.open = None
        if pending is not None and not pending.cut and pending.partial is not None:
            lead = "" if pending.shown else pending.prefix + pending.partial
            self.out.write(lead + " <unfinished ...>\n")
            pending.cut = True

    def __call__(self, kind, f):
        task = f.get("task")
        if kind == "fork":
            self.attached(f["child"])
            return
        if not self.traced(task):
            return
        if kind == "sys_enter":
            self.enter(f)
        elif kind == "syscall":
            self.exit(f)
        elif kind == "signal":
            info = f["info"]
            if not self.lines or not self.opts.wants_signal(info.signo):
                return
            self.interrupt(task.pid if self.opts.separately else None)
            self.write(task.pid, self.leader(task) + "--- %s %s ---\n"
                           % (strace_decode.signame(info.signo),
                              strace_decode.siginfo_text(info)))
        elif kind == "printk":                 # the kernel log, as dmesg would show it
            if self.lines:
                self.out.write("[kernel] %s\n" % f["text"])
        elif kind == "exit":
            self.prefix(task)
            pending = self.pending.pop(task.pid, None)
            if not self.lines:
                self.live.discard(task.pid)
                return
            if pending is not None and pending.partial is not None:
                # the task died inside a call (another thread's exit_group)
                self.interrupt(task.pid)
                if pending.cut:
                    name = pending.partial.split("(", 1)[0]
                    head = self.leader(task) + "<... %s resumed>) " % name
                else:
                    head = pending.prefix + pending.partial + " <unfinished ...>) "
                text = head.ljust(self.opts.column) + "= ?\n"
                if pending.shown and not pending.cut:
                    text = text[len(pending.prefix + pending.partial):]
                self.write(task.pid, text)
            if self.open == task.pid:
                self.open = None
            self.interrupt(task.pid if self.opts.separately else None)
            status = f["status"]
            if status & 0x7F:
                text = "+++ killed by %s%s +++\n" % (strace_decode.signame(status & 0x7F),
                                                     " (core dumped)" if status & 0x80 else "")
            else:
                text = "+++ exited with %d +++\n" % (status >> 8)
            self.exited(task, text)

    def exited(self, task, text):
        """`+++ exited with N +++`.  A thread group's leader is reported
        when its last thread has gone (strace learns it from waitpid(), which
        reports a leader only then); the others as they go."""
        leader = getattr(task, "group_leader", task)
        others = [t.pid for t in getattr(task, "thread_group", ())
                  if t is not task and t.pid in self.live]
        if leader is task and others:
            self.deferred[task.pid] = text
            return
        if self.opts.quiet < 2:             # -qq: no exit lines
            self.write(task.pid, self.leader(task) + text)
        self.live.discard(task.pid)
        if leader is not task and leader.pid in self.deferred and not [
                t for t in task.thread_group if t is not leader and t.pid in self.live]:
            text = self.deferred.pop(leader.pid)
            if self.opts.quiet < 2:
                self.write(leader.pid, self.leader(leader) + text)
            self.live.discard(leader.pid)

    def enter(self, f):
        """syscall_entering_trace(): note the time, decode the inputs, and
        open the call's line (written later, see interrupt())."""
        task, d = f["task"], f.get("d")
        if d is None:           # no handler (ENOSYS), or an event without the definition
            d = task.kernel.syscalls.lookup(f["nr"])
            if d is None:
                self.live.add(task.pid)
                return          # shown whole when it returns
        self.live.add(task.pid)     # strace sees the task even if -e hides this call
        old = self.pending.get(task.pid)
        if old is not None and old.nr == f["nr"]:
            return              # the same call run again after a sleep (WouldBlock)
        if not self.opts.wants_call(d.name):
            self.pending.pop(task.pid, None)
            return
        pending = _Pending(f["nr"], self.seconds(task))
        if self.lines:
            entry = pending.entry = [None] * len(d.args)
            for i, fmt in enumerate(d.args):
                if not decoded_on_exit(d.name, fmt):
                    entry[i] = self.arg(task, fmt, f["args"], i, None, d)
            if d.name in ENTRY_SPECIALS:    # their own decoders read the inputs now
                entry = pending.entry = list(SPECIAL_CALLS[d.name](self, task, f["args"],
                                                                   None, None))
            self.interrupt(task.pid)
            pending.prefix = self.leader(task)
            pending.partial = self.partial(task, d, f["args"], entry)
            self.open = task.pid
        self.live.add(task.pid)
        self.pending[task.pid] = pending

    def exit(self, f):
        task, d, nr, ret = f["task"], f["d"], f["nr"], f["ret"]
        name = d.name if d is not None else syscall_name(nr)
        pending = self.pending.pop(task.pid, None) if task is not None else None
        if pending is not None and pending.nr != nr:
            pending = None
        if not self.opts.wants_call(name):
            return
        elapsed = self.seconds(task) - pending.start if pending is not None else 0.0
        if self.summary is not None and ret is not None:
            self.summary.add(name, elapsed, isinstance(ret, int) and -4096 < ret < 0)
        if not self.lines:
            return
        call, result = self.parts(f, pending.entry if pending is not None else None)
        self.interrupt(task.pid if task is not None else None)
        if pending is not None and pending.cut:
            # syscall_exiting_trace() after another line: "<... NAME resumed>"
            head = self.leader(task)
            if call.startswith(pending.partial):
                head += "<... %s resumed>%s" % (name, call[len(pending.partial):])
            else:
                head += call
        else:
            head = (pending.prefix if pending is not None else self.leader(task)) + call
        self.open = None
        head += " "
        if len(head) < self.opts.column:            # tabto(): strace -a COLUMN
            head = head.ljust(self.opts.column)
        text = head + "= " + result
        if self.opts.timing and f["ret"] is not None:
            text += " <%.6f>" % elapsed
        if pending is not None and pending.shown and not pending.cut:
            # the entry was written before an attach message: strace goes on with its line
            lead = pending.prefix + pending.partial
            if text.startswith(lead):
                text = text[len(lead):]
        self.write(task.pid if task is not None else None, text + "\n")

    def attached(self, child):
        """A new task (the "fork" event, inside its parent's clone): under -f,
        strace's maybe_allocate_tcb() counts it (nprocs: `[pid N]` from now
        on) and says `strace: Process N attached`; -p names a task strace
        would attach to, with the same message."""
        if not self.traced(child) or (self.opts.pids is None and not self.opts.follow):
            return
        self.live.add(child.pid)
        self.attach_message(child)

    def attach_message(self, task):
        """strace's `Process N attached` (error_msg(): on stderr, after
        whatever its own line had so far, with no newline before it: the
        parent's clone line goes on after it, or ends in <unfinished ...>).
        Not with -q, nor when strace runs a command with -o FILE (init()
        then quiets attach messages: the lines here go to -o or --trace-file
        without -p), nor with the defaults of a bare `--trace syscall`."""
        if not getattr(self.opts, "attach_messages", False):
            return
        text = "strace: Process %d attached\n" % task.pid
        if self.opts.output is not None or self.out is not sys.stderr:
            if self.opts.pids is not None:
                sys.stderr.write(text)
            return
        pending = self.pending.get(self.open) if self.open is not None else None
        if pending is not None and not pending.cut and not pending.shown \
                and pending.partial is not None:
            self.out.write(pending.prefix + pending.partial)
            pending.shown = True
        self.out.write(text)

    def initial_execve(self, task, path, elapsed):
        """strace's first line, the execve() of the program it starts: here
        the kernel's exec of init (which took `elapsed` seconds), shown with
        the argv and the environment on its new stack (argc at sp, then
        argv[], NULL, envp[])."""
        import struct
        if getattr(getattr(task.kernel, "sched", None), "deterministic", False):
            elapsed = 0.0       # (no board time passes before init's first instruction)
        if self.opts.pids is not None and self.traced(task):
            self.attach_message(task)       # strace -p attaching to the program
        if not self.traced(task) or not self.opts.wants_call("execve") \
                or self.opts.pids is not None:      # -p: attached after the exec
            return
        if self.summary is not None:
            self.summary.add("execve", elapsed, False)
        if not self.lines:
            return
        raw = strace_decode.peek(task, task.sp, 8)
        if raw is None:
            return
        argc = struct.unpack("<Q", raw)[0]
        argv = task.sp + 8
        envp = argv + 8 * (argc + 1)
        call = "execve(%s, %s, %s)" % (
            strace_decode.quote(os.fsencode(path), 4096),
            strace_decode.string_array(task, argv, self.opts),
            strace_decode.envp_count(task, envp, self.opts))
        head = self.leader(task) + call + " "
        if len(head) < self.opts.column:
            head = head.ljust(self.opts.column)
        self.write(task.pid, head + "= 0" + (" <%.6f>" % elapsed if self.opts.timing else "")
                   + "\n")

    def partial(self, task, d, args, entry):
        """What strace writes when the call enters: the name and the
        arguments up to the first one the call fills."""
        special = SPECIAL_CALLS.get(d.name)
        if special is not None:
            shown = special(self, task, args, None, entry)
            if isinstance(shown, tuple):
                cut = SPECIAL_PARTIALS.get(d.name)
                return cut(args, shown[0][:-1]) if cut is not None else shown[0][:-1]
            split = SPECIAL_SPLITS.get(d.name)
            k = split(args) if split is not None else len(shown)
        else:
            shown = self.shown(task, d, args, None, entry)
            k = next((i for i, fmt in enumerate(d.args) if decoded_on_exit(d.name, fmt)),
                     len(d.args))
        k = min(k, len(shown))
        return "%s(%s%s" % (d.name, ", ".join(shown[:k]), ", " if k < len(shown) else "")

    def line(self, f, entry=None):
        """One call as `name(args) = result` (no prefix, no alignment)."""
        call, result = self.parts(f, entry)
        return call + " = " + result

    def parts(self, f, entry=None):
        """(`name(args)`, the result as strace prints it after `= `)."""
        task, d, args, ret = f["task"], f["d"], f["args"], f["ret"]
        if d is None:
            name = syscall_name(f["nr"])
            fmts = UNIMPLEMENTED_FORMATS.get(name)
            if fmts is not None:
                text = "%s(%s)" % (name, ", ".join(
                    self.arg(task, fmt, args, i, ret) for i, fmt in enumerate(fmts.split())))
            else:
                text = "%s(%s)" % (name, ", ".join("%#x" % a for a in args[:6]))
            return text, errno_text(ret)
        special = SPECIAL_CALLS.get(d.name)
        if special is not None:
            shown = special(self, task, args, ret, entry)
        else:
            shown = self.shown(task, d, args, ret, entry)
        if isinstance(shown, tuple):
            return shown            # (call, result) of a call printed its own way
        text = "%s(%s)" % (d.name, ", ".join(shown))
        if ret is None:
            return text, "?"
        if isinstance(ret, int) and -ret in RESTART_NAMES:
            return text, "? %s (%s)" % (RESTART_NAMES[-ret], _RESTART_TEXT[-ret])
        if isinstance(ret, int) and ret < 0 and ret > -4096:
            return text, errno_text(ret)
        return text, self.result(task, d, args, ret)

    def shown(self, task, d, args, ret, entry):
        """The arguments as strace shows them (those decoded on entry from
        `entry`), without the ones strace leaves out."""
        shown = [entry[i] if entry is not None and entry[i] is not None
                 and not entry[i].startswith("0x")
                 else self.arg(task, fmt, args, i, ret, d) for i, fmt in enumerate(d.args)]
        if d.name == "openat" and not (args[2] & O_CREAT or args[2] & O_TMPFILE == O_TMPFILE):
            shown.pop()         # strace shows the mode only when a file may be created
        if d.name == "mknodat" and args[2] & 0o170000 not in (0o020000, 0o060000):
            shown.pop()         # and mknodat's dev only for a device node
        for i, fmt in enumerate(d.args):
            if fmt in ("socklen", "loff") and ret is not None and entry is not None and entry[i] \
                    and entry[i].startswith("[") and not _failed(ret):
                after = self.arg(task, fmt, args, i, ret, d)
                if fmt == "loff":               # an offset: [0] => [10]
                    shown[i] = entry[i] + " => " + after
                elif after != entry[i]:         # a length the kernel rewrote: [110 => 2]
                    shown[i] = entry[i][:-1] + " => " + after[1:]
        if d.name in ("preadv", "pwritev", "preadv2", "pwritev2"):
            del shown[4]        # a 64-bit kernel's pos_h: strace shows one offset
        if d.name == "socket" and args[0] & 0xFFFFFFFF in _PROTOCOL_NAMES:
            # IPPROTO_IP, NETLINK_ROUTE, ... (socketpair's stays a number, as in strace)
            shown[2] = _named(_PROTOCOL_NAMES[args[0] & 0xFFFFFFFF], args[2] & 0xFFFFFFFF)
        return shown

    def result(self, task, d, args, ret):
        """The return value as strace prints it: hex (mmap), octal (umask),
        a descriptor with its path under -y, and the decoded extras."""
        extra = RESULT_EXTRAS.get(d.name)
        if extra is not None:
            text = extra(self, task, args, ret)
            if text is not None:
                return text
        if d.ret == "x":
            return "%#x" % ret
        if d.name in FD_RETURNING:
            return self.fd(task, ret)
        return str(ret)

    def fd(self, task, fd):
        """printfd(): the number, and under -y the file's path in <>."""
        fd = _s32(fd)
        if not self.opts.fd_paths or fd < 0 or task is None or task.files is None:
            return str(fd)
        file = task.files.get(fd)
        if file is None:
            return str(fd)
        return "%d%s" % (fd, fd_path(file, self.opts.fd_paths > 1))

    def arg(self, task, fmt, args, i, ret, d=None):
        v = args[i]
        kind, _, extra = fmt.partition(":")
        decoder = STRUCT_FORMATS.get(kind)
        if decoder is not None:
            return decoder(self, task, v, args, extra, ret, d)
        if kind in PART6_FORMATS:
            return PART6_FORMATS[kind](task, v, args, extra, ret)
        if kind == "fd":
            return self.fd(task, v)
        if kind == "d":
            return str(v - (1 << 64) if v >> 63 else v)
        if kind == "i":
            return str(_s32(v))
        if kind == "u":
            return str(v)
        if kind == "x":
            return "%#x" % v if v else "0"
        if kind == "p":
            return "NULL" if v == 0 else "%#x" % v
        if kind == "dirfd":
            if _s32(v) == AT_FDCWD:
                if self.opts.fd_paths and task is not None and task.fs is not None:
                    return "AT_FDCWD<%s>" % os.fsdecode(task.fs.cwd)
                return "AT_FDCWD"
            return self.fd(task, v)
        if kind == "path":
            return strace_decode.cstring(task, v, self.opts)
        if kind in ("ibuf", "obuf"):
            n = args[int(extra)] if extra != "ret" else (ret if isinstance(ret, int) else 0)
            if kind == "obuf" and (not isinstance(ret, int) or ret < 0):
                return "%#x" % v
            return strace_decode.buffer(task, v, n, self.opts)
        if kind == "iov":
            return _iov(self, task, v, args, extra, ret, d)
        if kind == "mode":
            return strace_decode.octal(v & 0xFFFFFFFF)
        if kind == "oflags":
            return _ACC.get(v & O_ACCMODE, "%#x" % (v & O_ACCMODE)) + (
                "|" + _flags(v & ~O_ACCMODE, OPEN_FLAG_NAMES) if v & ~O_ACCMODE else "")
        if kind == "atflags":
            return _flags(v, (("AT_SYMLINK_NOFOLLOW", 0x100), ("AT_REMOVEDIR", 0x200),
                              ("AT_SYMLINK_FOLLOW", 0x400), ("AT_EMPTY_PATH", 0x1000)))
        if kind == "prot":
            return _flags(v, PROT_NAMES, "PROT_NONE")
        if kind == "mflags":
            head = MAP_TYPE_NAMES.get(v & MAP_TYPE, "%#x" % (v & MAP_TYPE))
            rest = _flags(v & ~MAP_TYPE, MAP_FLAG_NAMES, "")
            return head + ("|" + rest if rest else "")
        if kind == "sig":
            return SIGNAL_NAMES.get(_s32(v), str(_s32(v)))
        if kind == "grnd":
            return _flags(v, (("GRND_NONBLOCK", 1), ("GRND_RANDOM", 2)))
        files = _files_arg(kind, v)
        if files is not None:
            return files
        if kind in _NAMED:
            return _named(_NAMED[kind], v)
        return "%#x" % v


def _named(table, v):
    """printxval(): the name, or for a value the table lacks strace's
    `0x63 /* RUSAGE_??? */`."""
    if v in table:
        return table[v]
    if v & 0xFFFFFFFF in table:
        return table[v & 0xFFFFFFFF]
    first = next(iter(table.values()))
    head = first.split("_", 1)[0] + "_" if "_" in first else ""
    if not head or not all(name.startswith(head) for name in table.values()):
        return str(v)
    return "%#x /* %s??? */" % (v & 0xFFFFFFFF, head)


# -- issue 9 part 6: events, polling and sockets ---------------------------------------
# Formats as strace prints them: flags by name, socket addresses decoded
# ({sa_family=AF_UNIX, sun_path="sock"}, abstract names as @"name",
# inet_addr("127.0.0.1"), htons(port)), epoll_event, socketpair's result.

_SOCK_FAMILIES = {0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK",
                  17: "AF_PACKET"}
_SOCK_TYPES = {1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM",
               5: "SOCK_SEQPACKET", 6: "SOCK_DCCP", 10: "SOCK_PACKET"}
_SOCK_FLAGS = (("SOCK_CLOEXEC", 0o2000000), ("SOCK_NONBLOCK", 0o4000))
_MSG_FLAGS = (("MSG_OOB", 0x1), ("MSG_PEEK", 0x2), ("MSG_DONTROUTE", 0x4), ("MSG_CTRUNC", 0x8),
              ("MSG_TRUNC", 0x20), ("MSG_DONTWAIT", 0x40), ("MSG_EOR", 0x80),
              ("MSG_WAITALL", 0x100), ("MSG_NOSIGNAL", 0x4000), ("MSG_MORE", 0x8000),
              ("MSG_CMSG_CLOEXEC", 0x40000000))
_EPOLL_EVENTS = (("EPOLLIN", 0x1), ("EPOLLPRI", 0x2), ("EPOLLOUT", 0x4), ("EPOLLERR", 0x8),
                 ("EPOLLHUP", 0x10), ("EPOLLRDNORM", 0x40), ("EPOLLRDBAND", 0x80),
                 ("EPOLLWRNORM", 0x100), ("EPOLLWRBAND", 0x200), ("EPOLLMSG", 0x400),
                 ("EPOLLRDHUP", 0x2000), ("EPOLLEXCLUSIVE", 1 << 28), ("EPOLLWAKEUP", 1 << 29),
                 ("EPOLLONESHOT", 1 << 30), ("EPOLLET", 1 << 31))
# socket()'s protocol as strace names it, per family (AF_INET, AF_INET6,
# AF_NETLINK).
_IPPROTO_NAMES = {0: "IPPROTO_IP", 1: "IPPROTO_ICMP", 2: "IPPROTO_IGMP", 6: "IPPROTO_TCP",
                  17: "IPPROTO_UDP", 41: "IPPROTO_IPV6", 58: "IPPROTO_ICMPV6",
                  132: "IPPROTO_SCTP", 136: "IPPROTO_UDPLITE", 255: "IPPROTO_RAW"}
_NETLINK_NAMES = {0: "NETLINK_ROUTE", 2: "NETLINK_USERSOCK", 4: "NETLINK_SOCK_DIAG",
                  5: "NETLINK_NFLOG", 6: "NETLINK_XFRM", 7: "NETLINK_SELINUX",
                  9: "NETLINK_AUDIT", 11: "NETLINK_CONNECTOR", 12: "NETLINK_NETFILTER",
                  15: "NETLINK_KOBJECT_UEVENT", 16: "NETLINK_GENERIC", 21: "NETLINK_CRYPTO"}
_PROTOCOL_NAMES = {2: _IPPROTO_NAMES, 10: _IPPROTO_NAMES, 16: _NETLINK_NAMES}
_SOL_LEVELS = {0: "SOL_IP", 1: "SOL_SOCKET", 6: "SOL_TCP", 17: "SOL_UDP", 41: "SOL_IPV6"}
_SO_NAMES = {1: "SO_DEBUG", 2: "SO_REUSEADDR", 3: "SO_TYPE", 4: "SO_ERROR", 5: "SO_DONTROUTE",
             6: "SO_BROADCAST", 7: "SO_SNDBUF", 8: "SO_RCVBUF", 9: "SO_KEEPALIVE",
             10: "SO_OOBINLINE", 13: "SO_LINGER", 15: "SO_REUSEPORT", 16: "SO_PASSCRED",
             17: "SO_PEERCRED", 18: "SO_RCVLOWAT", 19: "SO_SNDLOWAT", 20: "SO_RCVTIMEO",
             21: "SO_SNDTIMEO", 30: "SO_ACCEPTCONN", 38: "SO_PROTOCOL", 39: "SO_DOMAIN"}
_TCP_NAMES = {1: "TCP_NODELAY", 2: "TCP_MAXSEG", 4: "TCP_KEEPIDLE", 5: "TCP_KEEPINTVL",
              6: "TCP_KEEPCNT"}


def _fmt_sockaddr(task, v, args, extra, ret):
    """A struct sockaddr as strace decodes it (length in argument `extra`)."""
    import socket as pysocket
    import struct
    if not v:
        return "NULL"
    n = args[int(extra)] & 0xFFFFFFFF if extra else 16
    raw = strace_decode.peek(task, v, min(n, 128))   # (an untouched page too)
    if raw is None or len(raw) < 2:
        return "%#x" % v
    fam = struct.unpack_from("<H", raw)[0]
    name = _SOCK_FAMILIES.get(fam, str(fam))
    if fam == 1:
        path = raw[2:]
        if path[:1] == b"\0":
            return '{sa_family=AF_UNIX, sun_path=@%s}' % quote(path[1:], 108)
        return '{sa_family=AF_UNIX, sun_path=%s}' % quote(path.split(b"\0", 1)[0], 108)
    if fam == 2 and len(raw) >= 8:
        port = struct.unpack_from(">H", raw, 2)[0]
        return '{sa_family=AF_INET, sin_port=htons(%d), sin_addr=inet_addr("%s")}' % (
            port, pysocket.inet_ntop(pysocket.AF_INET, raw[4:8]))
    if fam == 10 and len(raw) >= 24:
        port, flow = struct.unpack_from(">HI", raw, 2)
        scope = struct.unpack_from("<I", raw, 24)[0] if len(raw) >= 28 else 0
        return ('{sa_family=AF_INET6, sin6_port=htons(%d), sin6_flowinfo=htonl(%d), '
                'inet_pton(AF_INET6, "%s", &sin6_addr), sin6_scope_id=%d}'
                % (port, flow, pysocket.inet_ntop(pysocket.AF_INET6, raw[8:24]), scope))
    return "{sa_family=%s, sa_data=%s}" % (name, quote(raw[2:]))


def _fmt_socktype(task, v, args, extra, ret):
    head = _SOCK_TYPES.get(v & 0xF, str(v & 0xF))
    rest = _flags(v & ~0xF, _SOCK_FLAGS, "")
    return head + ("|" + rest if rest else "")


def _fmt_epollevent(task, v, args, extra, ret):
    return _epoll_event(task, v, None)


@strace_decode.struct_at(16)
def _epoll_event(task, v, raw, opts):
    """struct epoll_event: {events=EPOLLIN, data={u32=7, u64=7}}."""
    import struct
    events, value = struct.unpack("<I4xQ", raw)
    return "{events=%s, data={u32=%d, u64=%d}}" % (_flags(events, _EPOLL_EVENTS),
                                                  value & 0xFFFFFFFF, value)


def _fmt_sockopt(task, v, args, extra, ret):
    level = args[1] & 0xFFFFFFFF
    names = _SO_NAMES if level == 1 else _TCP_NAMES if level == 6 else {}
    return names.get(v & 0xFFFFFFFF, str(_s32(v)))


# (pipe2/socketpair's pair, msghdr and sigset are STRUCT_FORMATS' below, which
# StracePrinter.arg() looks up first.)
PART6_FORMATS = {
    "sockaddr": _fmt_sockaddr,
    "sockfamily": lambda t, v, a, e, r: _SOCK_FAMILIES.get(v & 0xFFFFFFFF, str(_s32(v))),
    "socktype": _fmt_socktype,
    "sockflags": lambda t, v, a, e, r: _flags(v, _SOCK_FLAGS),
    "msgflags": lambda t, v, a, e, r: _flags(v & 0xFFFFFFFF, _MSG_FLAGS),
    "sockoptlevel": lambda t, v, a, e, r: _SOL_LEVELS.get(v & 0xFFFFFFFF, str(_s32(v))),
    "sockopt": _fmt_sockopt,
    "shuthow": lambda t, v, a, e, r: {0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR"}.get(
        v & 0xFFFFFFFF, str(_s32(v))),
    "efdflags": lambda t, v, a, e, r: _flags(v & 0xFFFFFFFF, (
        ("EFD_SEMAPHORE", 1), ("EFD_CLOEXEC", 0o2000000), ("EFD_NONBLOCK", 0o4000))),
    "sfdflags": lambda t, v, a, e, r: _flags(v & 0xFFFFFFFF, (
        ("SFD_CLOEXEC", 0o2000000), ("SFD_NONBLOCK", 0o4000))),
    "epollflags": lambda t, v, a, e, r: _flags(v & 0xFFFFFFFF, (("EPOLL_CLOEXEC", 0o2000000),)),
    "epollop": lambda t, v, a, e, r: {1: "EPOLL_CTL_ADD", 2: "EPOLL_CTL_DEL",
                                      3: "EPOLL_CTL_MOD"}.get(v & 0xFFFFFFFF, str(_s32(v))),
    "epollevent": _fmt_epollevent,
    "inflags": lambda t, v, a, e, r: _flags(v & 0xFFFFFFFF, (
        ("IN_CLOEXEC", 0o2000000), ("IN_NONBLOCK", 0o4000))),
    "inmask": lambda t, v, a, e, r: _flags(v & 0xFFFFFFFF, (
        ("IN_ACCESS", 0x1), ("IN_MODIFY", 0x2), ("IN_ATTRIB", 0x4), ("IN_CLOSE_WRITE", 0x8),
        ("IN_CLOSE_NOWRITE", 0x10), ("IN_OPEN", 0x20), ("IN_MOVED_FROM", 0x40),
        ("IN_MOVED_TO", 0x80), ("IN_CREATE", 0x100), ("IN_DELETE", 0x200),
        ("IN_DELETE_SELF", 0x400), ("IN_MOVE_SELF", 0x800), ("IN_ONLYDIR", 0x01000000),
        ("IN_DONT_FOLLOW", 0x02000000), ("IN_EXCL_UNLINK", 0x04000000),
        ("IN_MASK_ADD", 0x20000000), ("IN_ONESHOT", 0x80000000))),
}
# -- issue 9 part 5 (shared memory and IPC): SysV command names ------------------
_IPC_CMDS = {0: "IPC_RMID", 1: "IPC_SET", 2: "IPC_STAT", 3: "IPC_INFO"}
_NAMED["shmcmd"] = {**_IPC_CMDS, 11: "SHM_LOCK", 12: "SHM_UNLOCK", 13: "SHM_STAT", 14: "SHM_INFO"}
_NAMED["semcmd"] = {**_IPC_CMDS, 11: "GETPID", 12: "GETVAL", 13: "GETALL", 14: "GETNCNT",
                    15: "GETZCNT", 16: "SETVAL", 17: "SETALL", 18: "SEM_STAT", 19: "SEM_INFO"}
_NAMED["msgcmd"] = {**_IPC_CMDS, 11: "MSG_STAT", 12: "MSG_INFO"}
_NAMED["madv"][9] = "MADV_REMOVE"


# -- issue 7 part 4: strace's structures, results and options ------------------------
# The decoders are in kernel/syscalls/strace_decode.py, the options (-e, -f,
# -y, -T, -c, -s, -a) and the -c table in kernel/syscalls/strace_opts.py.
from kernel.syscalls.strace_opts import StraceOptions, SyscallSummary  # noqa: E402

# strace reads what a call takes when the call enters (a descriptor's file
# before close() ends it, a path before execve() replaces the memory, a
# timeout ppoll() overwrites) and what it gives back when it returns.  A
# page not yet touched is read as its fault would fill it (strace_decode.peek):
# the tracer never faults one in, the guest must see no change.
_EXIT_KINDS = {"obuf", "fdpair", "stat", "statx", "statfs", "cwd", "msghdr", "wstatus",
               "sockaddr_out", "siginfo", "tms", "sigsetlen"}
# The vectored reads fill their iovecs.
_READ_IOV_CALLS = {"readv", "preadv", "preadv2"}


def decoded_on_exit(name, fmt):
    """Whether strace decodes this argument when the call returns."""
    kind, _, extra = fmt.partition(":")
    return (kind in _EXIT_KINDS or extra in ("out", "rem")
            or (kind == "iov" and name in _READ_IOV_CALLS)
            or (kind == "cpuset" and name == "sched_getaffinity"))


def _failed(ret):
    return not isinstance(ret, int) or -4096 < ret < 0


def _out(decode):
    """An output structure: its address until the call has succeeded."""
    def fmt(printer, task, v, args, extra, ret, d):
        if extra == "out" and _failed(ret) or not v:
            return strace_decode.address(v)
        return decode(task, v, printer.opts)
    return fmt


def _filled(decode):
    """A structure the call fills in (stat, statx, statfs): its address
    unless the call succeeded."""
    def fmt(printer, task, v, args, extra, ret, d):
        if _failed(ret) or not v:
            return strace_decode.address(v)
        return decode(task, v, printer.opts)
    return fmt


def _cwd(printer, task, v, args, extra, ret, d):
    """getcwd's buffer: the string the call wrote (its length counts the NUL)."""
    if _failed(ret) or not v:
        return strace_decode.address(v)
    data = strace_decode.peek(task, v, max(ret - 1, 0))
    return strace_decode.quote(data, 4096) if data is not None else "%#x" % v


def _iov(printer, task, v, args, extra, ret, d):
    count = args[int(extra)] & 0xFFFFFFFF
    if d is not None and d.name in _READ_IOV_CALLS:
        if _failed(ret):
            return strace_decode.address(v)
        return strace_decode.iovec_array(task, v, count, printer.opts, data_len=ret)
    return strace_decode.iovec_array(task, v, count, printer.opts)


def _rem(decode):
    """nanosleep's remaining time: decoded only for the ERESTART_* result a
    tracer sees when a signal cut the sleep (strace's is_erestart()); the
    -EINTR a handler's return turns it into is never decoded."""
    def fmt(printer, task, v, args, extra, ret, d):
        if not v or not isinstance(ret, int) or -ret not in RESTART_NAMES:
            return strace_decode.address(v)
        return decode(task, v, printer.opts)
    return fmt


def _rlim(printer, task, v, args, extra, ret, d):
    if extra == "out" and _failed(ret) or not v:
        return strace_decode.address(v)
    inf = "RLIM64_INFINITY" if d is not None and d.name == "prlimit64" else "RLIM_INFINITY"
    return strace_decode.rlimit_struct(task, v, printer.opts, inf)


def _pollfd(printer, task, v, args, extra, ret, d):
    return strace_decode.pollfd_array(task, v, args[1] & 0xFFFFFFFF, printer.opts,
                                      lambda fd: printer.fd(task, fd))


def _fdpair(printer, task, v, args, extra, ret, d):
    """pipe2's and socketpair's int[2], once the call filled it."""
    import struct
    data = strace_decode.peek(task, v, 8) if v and ret == 0 else None
    if data is None or len(data) < 8:
        return strace_decode.address(v)
    a, b = struct.unpack("<ii", data)
    return "[%s, %s]" % (printer.fd(task, a), printer.fd(task, b))


def _msghdr(printer, task, v, args, extra, ret, d):
    receiving = d is not None and d.name == "recvmsg"
    if receiving and _failed(ret):
        return strace_decode.address(v)
    return strace_decode.msghdr(
        task, v, printer.opts, ret if receiving else None,
        lambda name, n: PART6_FORMATS["sockaddr"](task, name, [n], "0", ret),
        lambda fl: _flags(fl, _MSG_FLAGS), lambda fd: printer.fd(task, fd))


def _wstatus(printer, task, v, args, extra, ret, d):
    import struct
    if _failed(ret) or not v or ret == 0:
        return strace_decode.address(v)
    raw = strace_decode.peek(task, v, 4)
    if raw is None:
        return "%#x" % v
    return strace_decode.wait_status(struct.unpack("<i", raw)[0])


def _simple(fn):
    return lambda printer, task, v, args, extra, ret, d: fn(v)


STRUCT_FORMATS = {
    "stat": _filled(strace_decode.stat_struct),
    "statx": _filled(strace_decode.statx_struct),
    "statfs": _filled(strace_decode.statfs_struct),
    "statxmask": _simple(strace_decode.statx_mask),
    "statxflags": _simple(strace_decode.statx_flags),
    "cwd": _cwd,
    "sigaction": _out(strace_decode.sigaction),
    "sigset": _out(strace_decode.sigset),
    "timespec": lambda p, t, v, a, e, r, d: (_rem(strace_decode.timespec) if e == "rem"
                                             else _out(strace_decode.timespec))(p, t, v, a, e, r, d),
    "timeval": _out(strace_decode.timeval),
    "rlim": _rlim,
    "pollfd": _pollfd,
    "fdpair": _fdpair,
    "msghdr": _msghdr,
    "wstatus": _wstatus,
    "waitopts": _simple(strace_decode.wait_options),
    "accmode": _simple(strace_decode.access_mode),
    "fdflags": _simple(lambda v: _flags(v & 0xFFFFFFFF, strace_decode.CLOEXEC_NAMES)),
    "sig": _simple(lambda v: strace_decode.signame(_s32(v))),
}


# strace's syscall.c: what it says after each ERESTART* name.
_RESTART_TEXT = {512: "To be restarted if SA_RESTART is set", 513: "To be restarted",
                 514: "To be restarted if no handler", 516: "Interrupted by signal"}


def _rt_sigreturn(printer, task, args, ret, entry):
    """rt_sigreturn({mask=[...]}) = the restored x0 (AArch64's frame: the
    siginfo, then the ucontext with uc_sigmask and the saved registers)."""
    import struct
    from kernel.signal import SIGINFO_SIZE, UC_MCONTEXT, UC_SIGMASK
    frame = task.core.sp if task.core is not None else None
    raw = strace_decode.peek(task, frame + SIGINFO_SIZE, UC_MCONTEXT + 16) if frame else None
    if raw is None:
        return "rt_sigreturn()", "?"
    mask = struct.unpack_from("<Q", raw, UC_SIGMASK)[0]
    x0 = struct.unpack_from("<q", raw, UC_MCONTEXT + 8)[0]     # after fault_address
    # the restored x0 is the call's result to strace: an errno when in range
    return ("rt_sigreturn({mask=%s})" % strace_decode.sigset_text(mask),
            errno_text(x0) if -4096 < x0 < 0 else str(x0))


def _clone(printer, task, args, ret, entry):
    text = "clone(%s)" % strace_decode.clone_args(args)
    if ret is None:
        return text, "?"
    if _failed(ret):
        return text, errno_text(ret)
    return text, str(ret)


# fcntl commands whose third argument strace does not show, and those that
# take flags.
_FCNTL_NO_ARG = {1, 3, 9, 11, 1025, 1032, 1034}  # F_GETFD F_GETFL F_GETOWN F_GETSIG ...
_FCNTL_FDFLAGS, _FCNTL_FLFLAGS = {2}, {4}
_NAMED["fcntlcmd"].update({5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN",
                           9: "F_GETOWN", 10: "F_SETSIG", 11: "F_GETSIG", 15: "F_SETOWN_EX",
                           16: "F_GETOWN_EX", 36: "F_OFD_GETLK", 37: "F_OFD_SETLK",
                           38: "F_OFD_SETLKW", 1024: "F_SETLEASE", 1025: "F_GETLEASE",
                           1026: "F_NOTIFY", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS"})
_FCNTL_LOCK_IN, _FCNTL_LOCK_OUT = {6, 7, 37, 38}, {5, 36}
_SEALS = (("F_SEAL_SEAL", 1), ("F_SEAL_SHRINK", 2), ("F_SEAL_GROW", 4), ("F_SEAL_WRITE", 8))
_LOCK_TYPES = {0: "F_RDLCK", 1: "F_WRLCK", 2: "F_UNLCK"}
_DN_FLAGS = (("DN_ACCESS", 1), ("DN_MODIFY", 2), ("DN_CREATE", 4), ("DN_DELETE", 8),
             ("DN_RENAME", 0x10), ("DN_ATTRIB", 0x20), ("DN_MULTISHOT", 0x80000000))


@strace_decode.struct_at(32)
def _flock(task, v, raw, opts, with_pid):
    """print_struct_flock64(): {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=10}."""
    import struct
    ltype, whence, start, length, pid = struct.unpack("<hhxxxxqqi4x", raw)
    text = "{l_type=%s, l_whence=%s, l_start=%d, l_len=%d" % (
        _LOCK_TYPES.get(ltype, "%#x /* F_??? */" % (ltype & 0xFFFF)),
        _NAMED["whence"].get(whence, "%#x /* SEEK_??? */" % (whence & 0xFFFF)),
        start, length)
    return text + (", l_pid=%d}" % pid if with_pid else "}")


def _fcntl(printer, task, args, ret, entry):
    """SYS_FUNC(fcntl): the command by name and its argument as it takes it."""
    cmd = args[1] & 0xFFFFFFFF
    shown = [entry[0] if entry and entry[0] else printer.fd(task, args[0]),
             _named(_NAMED["fcntlcmd"], cmd)]
    v = args[2] & 0xFFFFFFFF
    if cmd in _FCNTL_FDFLAGS:
        shown.append(_flags(v, strace_decode.FD_FLAGS))
    elif cmd in _FCNTL_FLFLAGS:                     # tprint_open_modes()
        acc = _ACC.get(v & O_ACCMODE, "%#x" % (v & O_ACCMODE))
        rest = _flags(v & ~O_ACCMODE, OPEN_FLAG_NAMES, "")
        shown.append(acc + ("|" + rest if rest else ""))
    elif cmd in _FCNTL_LOCK_IN:
        shown.append(_flock(task, args[2], printer.opts, False))
    elif cmd in _FCNTL_LOCK_OUT:                    # decoded on exit, with l_pid
        shown.append(strace_decode.address(args[2]) if _failed(ret)
                     else _flock(task, args[2], printer.opts, True))
    elif cmd == 1033:
        shown.append(_flags(v, _SEALS))
    elif cmd == 10:
        shown.append(strace_decode.signame(_s32(v)) if v else "0")
    elif cmd == 1024:                               # F_SETLEASE: printxval(lockfcmds)
        shown.append(_LOCK_TYPES.get(v, "%#x /* F_??? */" % v))
    elif cmd == 1026:
        shown.append(_flags(v, _DN_FLAGS))
    elif cmd not in _FCNTL_NO_ARG:
        shown.append(str(_s32(v)))
    return shown


def _fcntl_result(printer, task, args, ret):
    """F_GETFD: `= 0x1 (flags FD_CLOEXEC)`; F_GETFL: `= 0x8002 (flags O_RDWR|O_LARGEFILE)`."""
    cmd = args[1] & 0xFFFFFFFF
    if cmd == 1:
        return "%#x (flags %s)" % (ret, _flags(ret, strace_decode.FD_FLAGS)) if ret else "0"
    if cmd == 3:
        acc = _ACC.get(ret & O_ACCMODE, "%#x" % (ret & O_ACCMODE))
        rest = _flags(ret & ~O_ACCMODE, OPEN_FLAG_NAMES, "")
        return "%#x (flags %s)" % (ret, acc + ("|" + rest if rest else ""))
    if cmd in (0, 1030):            # F_DUPFD, F_DUPFD_CLOEXEC
        return printer.fd(task, ret)
    if cmd == 1034 and ret:         # F_GET_SEALS
        return "%#x (seals %s)" % (ret, _flags(ret, _SEALS))
    if cmd == 1025:                 # F_GETLEASE
        return "%s (%s)" % (_hex0(ret), _LOCK_TYPES.get(ret, "?"))   # (RVAL_HEX)
    if cmd == 11 and ret:           # F_GETSIG
        return "%d (%s)" % (ret, strace_decode.signame(ret))
    return None


def _ppoll_result(printer, task, args, ret):
    return str(ret) + strace_decode.poll_result(
        task, args[0], args[1] & 0xFFFFFFFF, args[2], ret, printer.opts)


SPECIAL_CALLS = {
    "rt_sigreturn": _rt_sigreturn,
    "clone": _clone,
    "fcntl": _fcntl,
}
RESULT_EXTRAS = {
    "umask": lambda printer, task, args, ret: strace_decode.octal(ret),
    "fcntl": _fcntl_result,
    "ppoll": _ppoll_result,
}
# Calls that return a new descriptor (printed with its path under -y).
FD_RETURNING = {"openat", "dup", "dup3", "socket", "accept", "accept4", "eventfd2",
                "epoll_create1", "signalfd4", "timerfd_create", "inotify_init1",
                "memfd_create", "open_by_handle_at", "perf_event_open", "userfaultfd",
                "mq_open", "fanotify_init", "pidfd_open", "bpf"}


def fd_path(file, detail=False):
    """What /proc/PID/fd/N names (kernel/fs/proc.py's fd_link_name), with
    Linux's "(deleted)" mark after the name of an unlinked file, outside
    the brackets as strace prints it: <name> or <name>(deleted).  With
    `detail` (-yy) a socket is shown by its protocol and endpoints and a
    device with its numbers, as strace's printfd() does."""
    from kernel.fs.proc import fd_link_name
    name = fd_link_name(file)
    if detail:
        endpoints = socket_endpoints(file)
        if endpoints is not None:
            return "<%s>" % endpoints
        if stat.S_ISCHR(file.mode) or stat.S_ISBLK(file.mode):
            dev = _host_rdev(file)
            if dev is not None:
                return "<%s<%s %d:%d>>" % (name, "char" if stat.S_ISCHR(file.mode)
                                           else "block", os.major(dev), os.minor(dev))
    from kernel.fs.dpath import DELETED_SUFFIX
    if name.endswith(DELETED_SUFFIX):       # d_path()'s mark (kernel/fs/dpath.py)
        return "<%s>(deleted)" % name[:-len(DELETED_SUFFIX)]
    return "<%s>" % name


def _host_rdev(file):
    """st_rdev of a device file the board opened on the host (None if not)."""
    if file.host_fd is None:
        return None
    try:
        return os.fstat(file.host_fd).st_rdev
    except OSError:
        return None


# -yy: the protocol names Linux 4.14 gives its sockets (struct proto's
# name, which strace reads from the socket's system.sockprotoname xattr).
# Newer kernels give AF_UNIX stream sockets a struct proto of their own,
# "UNIX-STREAM" (the sockmap work of 5.15); 4.14 names every AF_UNIX
# socket "UNIX", and so does a53emu.
_PROTO_NAMES = {(1, 1): "UNIX", (1, 2): "UNIX", (1, 5): "UNIX", (2, 1): "TCP", (2, 2): "UDP",
                (2, 3): "RAW", (10, 1): "TCPv6", (10, 2): "UDPv6", (10, 3): "RAWv6",
                (16, 3): "NETLINK", (16, 2): "NETLINK"}
_SOCK_TYPE_MASK = 0xF


_PEER_INO = weakref.WeakKeyDictionary()     # socket -> its peer's inode, once seen


def _sock_ino(sock):
    """The inode number of a board socket: its host socket's (socket:[N])."""
    text = sock.path
    return text[text.index("[") + 1:-1] if "[" in text else "?"


def socket_endpoints(file):
    """strace -yy's view of a socket (print_sockaddr_by_inode()): UNIX:[ino],
    UNIX:[ino->peer], with its bound name UNIX:[ino,"path"]; TCP/UDP:[ino]
    when 4.14's sock_diag would not list it (a TCP socket bound but neither
    listening nor connected: newer kernels list those too), TCP:[127.0.0.1:80]
    listening or bound (UDP), TCP:[a:p->b:p] connected.  The inode numbers are those of the
    host sockets that carry the board's (as -y's socket:[N] and
    /proc/PID/fd show them).  None if the file is not a socket."""
    from kernel.net.socket import Socket
    if not isinstance(file, Socket):
        return None
    family, type_ = file.family, file.type & _SOCK_TYPE_MASK
    proto = _PROTO_NAMES.get((family, type_))
    if proto is None:
        return "socket:[%s]" % _sock_ino(file)
    ino = _sock_ino(file)
    if family == 1:
        peer = file.peer() if file.peer is not None else None
        text = "%s:[%s" % (proto, ino)
        if peer is not None:
            _PEER_INO[file] = _sock_ino(peer)
        if file in _PEER_INO:
            # Linux keeps unix_peer() after the peer is closed; the board
            # keeps a weak reference, so the tracer remembers what it saw
            text += "->%s" % _PEER_INO[file]
        name = file.guest_name
        if name:
            text += "," + (("@" + quote(name[1:], 108)) if name[:1] == b"\0"
                           else quote(name, 108))
        return text + "]"
    if family not in (2, 10) or type_ not in (1, 2):
        return "%s:[%s]" % (proto, ino)
    import socket as pysocket
    try:
        with file.borrow() as s:
            local = s.getsockname()
            listening = type_ == 1 and s.getsockopt(pysocket.SOL_SOCKET,
                                                    pysocket.SO_ACCEPTCONN)
            try:
                remote = s.getpeername()
            except OSError:
                remote = None
    except OSError:
        return "%s:[%s]" % (proto, ino)
    if file.wildcard:
        local = ("0.0.0.0" if family == 2 else "::",) + tuple(local[1:])

    def endpoint(addr):
        return ("%s:%d" if family == 2 else "[%s]:%d") % (addr[0], addr[1])
    if listening or (type_ == 2 and local[1] and remote is None):
        return "%s:[%s]" % (proto, endpoint(local))
    if remote is not None:
        return "%s:[%s->%s]" % (proto, endpoint(local), endpoint(remote))
    return "%s:[%s]" % (proto, ino)


STRUCT_FORMATS["timerflags"] = _simple(lambda v: _flags(v & 0xFFFFFFFF, (("TIMER_ABSTIME", 1),)))


# -- issue 7 part 4, continued: processes, signals, timers, futexes, select ------------

def _after(decode):
    """A structure the call writes: shown once it succeeded."""
    def fmt(printer, task, v, args, extra, ret, d):
        if _failed(ret) or not v:
            return strace_decode.address(v)
        return decode(task, v, printer.opts)
    return fmt


def _epoll_pwait(printer, task, args, ret, entry):
    fd = entry[0] if entry and entry[0] else printer.fd(task, args[0])
    if _failed(ret):
        events = strace_decode.address(args[1])
    else:
        events = strace_decode.epoll_events(task, args[1], ret, printer.opts, _EPOLL_EVENTS)
    return [fd, events, str(_s32(args[2])), str(_s32(args[3])),
            printer.arg(task, "sigset", args, 4, ret), str(args[5])]


def _pselect6(printer, task, args, ret, entry):
    """pselect6(): the sets as given on entry, the timeout, and the
    {sigmask, sigsetsize} pair glibc passes."""
    import struct
    nfds = _s32(args[0])
    sets = entry[1:4] if entry and entry[1] is not None else [
        strace_decode.fd_set(task, args[i], nfds) for i in (1, 2, 3)]
    tmo = entry[4] if entry and entry[4] is not None else \
        strace_decode.timespec(task, args[4], printer.opts)
    if args[5]:
        raw = strace_decode.peek(task, args[5], 16)
        if raw is None:
            sig = "%#x" % args[5]
        else:
            ss, size = struct.unpack("<QQ", raw)
            sig = "{sigmask=%s, sigsetsize=%d}" % (
                strace_decode.sigset(task, ss, printer.opts), size)
    else:
        sig = "NULL"
    return [str(nfds)] + list(sets) + [tmo, sig]


def _pselect6_result(printer, task, args, ret):
    if ret == 0:
        return "0 (Timeout)"
    nfds = _s32(args[0])
    parts = []
    for name, v in (("in", args[1]), ("out", args[2]), ("except", args[3])):
        if v:
            fds = strace_decode.fd_set(task, v, nfds)
            if fds != "[]":
                parts.append("%s %s" % (name, fds))
    if args[4]:
        parts.append("left " + strace_decode.timespec(task, args[4], printer.opts))
    return "%d (%s)" % (ret, ", ".join(parts))


def _futex(printer, task, args, ret, entry):
    return strace_decode.futex_args(task, args, printer.opts)


def _clone_exit(printer, task, args, ret, entry):
    """clone(): parent_tid is shown as the tid the kernel stored there."""
    text = "clone(%s)" % strace_decode.clone_args(args)
    if args[0] & 0x100000 and not _failed(ret) and ret is not None:
        text = text.replace("parent_tid=%s" % strace_decode.address(args[2]),
                            "parent_tid=%s" % strace_decode.int_array(task, args[2], 1))
    if ret is None:
        return text, "?"
    return text, errno_text(ret) if _failed(ret) else str(ret)


def _getdents64(printer, task, args, ret, entry):
    """getdents64(): without -v the buffer's address and /* N entries */,
    with -v the entries."""
    import struct
    fd = entry[0] if entry and entry[0] else printer.fd(task, args[0])
    buf = "%#x" % args[1]
    if printer.opts.verbose and ret is not None and not _failed(ret):
        return [fd, strace_decode.dirents64(task, args[1], ret, printer.opts),
                str(args[2] & 0xFFFFFFFF)]
    if not _failed(ret):
        n, off = 0, 0
        raw = strace_decode.peek(task, args[1], ret) or b""
        while off + 19 <= len(raw):
            reclen = struct.unpack_from("<H", raw, off + 16)[0]
            if not reclen:
                break
            n, off = n + 1, off + reclen
        buf += " /* %d entries */" % n
    return [fd, buf, str(args[2] & 0xFFFFFFFF)]


def _rt_sigtimedwait_result(printer, task, args, ret):
    return "%d (%s)" % (ret, strace_decode.signame(ret))


SPECIAL_CALLS.update({
    "clone": _clone_exit,
    "futex": _futex,
    "epoll_pwait": _epoll_pwait,
    "pselect6": _pselect6,
    "getdents64": _getdents64,
})
RESULT_EXTRAS.update({
    "pselect6": _pselect6_result,
    "rt_sigtimedwait": _rt_sigtimedwait_result,
})
STRUCT_FORMATS.update({
    "argv": lambda p, t, v, a, e, r, d: strace_decode.string_array(t, v, p.opts),
    "envp": lambda p, t, v, a, e, r, d: strace_decode.envp_count(t, v, p.opts),
    "itimerval": lambda p, t, v, a, e, r, d: (
        _after(strace_decode.itimerval) if e == "out" else
        lambda p2, t2, v2, a2, e2, r2, d2: strace_decode.itimerval(t2, v2, p2.opts))(
            p, t, v, a, e, r, d),
    "tms": _after(strace_decode.tms),
    "siginfo": _after(strace_decode.siginfo_user),
    "stack_t": lambda p, t, v, a, e, r, d: (
        _after(strace_decode.stack_t)(p, t, v, a, e, r, d) if e == "out"
        else strace_decode.stack_t(t, v, p.opts)),
    "utsname": _after(strace_decode.utsname),
    "rusage_s": _after(strace_decode.rusage),
    "intout": lambda p, t, v, a, e, r, d: (
        strace_decode.address(v) if _failed(r) else strace_decode.int_array(t, v, 1)),
    "sigsetlen": _after(strace_decode.sigset),
    "fdset": lambda p, t, v, a, e, r, d: strace_decode.fd_set(t, v, _s32(a[0]),
                                                              lambda fd: p.fd(t, fd)),
    "cpuset": lambda p, t, v, a, e, r, d: (
        strace_decode.address(v) if _failed(r) else
        strace_decode.cpu_set(t, v, r if d is not None and d.name == "sched_getaffinity"
                              else a[1])),
})
_EXIT_KINDS.update({"utsname", "rusage_s", "intout"})


# Calls a53emu's kernel does not have (ENOSYS): the arguments strace would show.
UNIMPLEMENTED_FORMATS = {"rseq": "p x d x"}


# ioctl: the requests strace decodes that a53emu's programs make.
_IOCTL_OUT = {0x5401: strace_decode.termios, 0x5413: strace_decode.winsize,
              0x541B: lambda t, v, o: strace_decode.int_array(t, v, 1),
              0x540F: lambda t, v, o: strace_decode.int_array(t, v, 1)}   # TIOCGPGRP
_IOCTL_IN = {0x5414: strace_decode.winsize,                             # TIOCSWINSZ
             0x5421: lambda t, v, o: strace_decode.int_array(t, v, 1),  # FIONBIO
             0x5410: lambda t, v, o: strace_decode.int_array(t, v, 1)}  # TIOCSPGRP
_NAMED["ioctlcmd"].update({0x540F: "TIOCGPGRP", 0x5410: "TIOCSPGRP", 0x5414: "TIOCSWINSZ",
                           # the numbers OSS's sound ioctls share, as strace names them
                           0x5421: "FIONBIO", 0x5402: "SNDCTL_TMR_START or TCSETS",
                           0x5403: "SNDCTL_TMR_STOP or TCSETSW",
                           0x5404: "SNDCTL_TMR_CONTINUE or TCSETSF", 0x5451: "FIOCLEX", 0x5450: "FIONCLEX"})


def _ioctl(printer, task, args, ret, entry):
    """SYS_FUNC(ioctl): the request by name, its argument decoded (what the
    call fills only if it succeeded)."""
    cmd = args[1] & 0xFFFFFFFF
    shown = [entry[0] if entry and entry[0] else printer.fd(task, args[0]),
             _NAMED["ioctlcmd"].get(cmd, "%#x" % cmd)]
    if cmd in (0x5451, 0x5450):             # FIOCLEX, FIONCLEX: no argument
        return shown
    if cmd in _IOCTL_OUT:
        shown.append(strace_decode.address(args[2]) if _failed(ret)
                     else _IOCTL_OUT[cmd](task, args[2], printer.opts))
    elif cmd in _IOCTL_IN or cmd in (0x5402, 0x5403, 0x5404):
        decode = _IOCTL_IN.get(cmd, strace_decode.termios)
        shown.append(decode(task, args[2], printer.opts))
    else:
        shown.append("%#x" % args[2] if args[2] else "0")
    return shown


SPECIAL_CALLS["ioctl"] = _ioctl


# Where strace stops a special call's line on entry (the first argument the
# call fills); the others are written whole on entry.
def _clone_partial(args, text):
    """SYS_FUNC(clone) entering writes child_stack and flags, and stops
    there when parent_tid, tls or child_tidptr follow (it prints those on
    exiting, after `<... clone resumed>`)."""
    for name in (", parent_tid=", ", tls=", ", child_tidptr="):
        at = text.find(name)
        if at >= 0:
            return text[:at]
    return text


# Where strace stops the entry part of a call whose decoder gives whole text.
SPECIAL_PARTIALS = {"clone": _clone_partial}


SPECIAL_SPLITS = {
    "fcntl": lambda args: 2 if args[1] & 0xFFFFFFFF in _FCNTL_LOCK_OUT else 3,
    "ioctl": lambda args: 2 if args[1] & 0xFFFFFFFF in _IOCTL_OUT else 3,
    "epoll_pwait": lambda args: 1,
    "getdents64": lambda args: 1,
}


# -- sockets: addresses the call fills, their lengths, socket options -------------------

def _socklen(printer, task, v, args, extra, ret, d):
    """A socklen_t the call reads and writes: [110] on entry; after the
    call, [110 => 2] when it changed (see StracePrinter.shown)."""
    if not v:
        return "NULL"
    return strace_decode.int_array(task, v, 1)


def _sockaddr_out(printer, task, v, args, extra, ret, d):
    """The struct sockaddr accept()/getsockname()/recvfrom() filled, as
    long as the length the kernel wrote back (strace: {sa_family=AF_UNIX}
    for an unnamed socket)."""
    import struct
    if not v:
        return "NULL"
    if _failed(ret):
        return "%#x" % v
    raw = strace_decode.peek(task, args[int(extra)], 4) if args[int(extra)] else None
    if raw is None:
        return "%#x" % v
    n = struct.unpack("<I", raw)[0]
    fam = strace_decode.peek(task, v, 2)
    if fam == b"\x01\x00" and n <= 2:
        return "{sa_family=AF_UNIX}"
    return PART6_FORMATS["sockaddr"](task, v, [min(n, 128)], "0", ret)


def _sockoptval(printer, task, v, args, extra, ret, d):
    """An option's value: [N] for an int, else the bytes."""
    import struct
    if not v:
        return "NULL"
    out = d is not None and d.name == "getsockopt"
    if out and _failed(ret):
        return "%#x" % v
    if out:
        raw = strace_decode.peek(task, args[4], 4) if args[4] else None
        n = struct.unpack("<I", raw)[0] if raw is not None else 0
    else:
        n = args[4] & 0xFFFFFFFF
    if n == 4:
        return strace_decode.int_array(task, v, 1)
    return strace_decode.buffer(task, v, n, printer.opts)


STRUCT_FORMATS.update({
    "socklen": _socklen,
    "sockaddr_out": _sockaddr_out,
    "sockoptval": _sockoptval,
    "utimens": lambda p, t, v, a, e, r, d: strace_decode.utimens_pair(t, v, p.opts),
})


# -- timers, queued signals, prctl, groups, sendfile, sysinfo ----------------------------

def _loff(printer, task, v, args, extra, ret, d):
    """An offset the call reads and advances: [0] on entry, [0] => [10]
    after (see StracePrinter.shown)."""
    import struct
    if not v:
        return "NULL"
    raw = strace_decode.peek(task, v, 8)
    return "[%d]" % struct.unpack("<q", raw)[0] if raw is not None else "%#x" % v


def _groups(printer, task, v, args, extra, ret, d):
    """getgroups' list (as many as it returned), setgroups' (as many as given)."""
    if d is not None and d.name == "getgroups":
        if _failed(ret) or _s32(args[0]) == 0:
            return strace_decode.address(v)
        return strace_decode.int_list(task, v, ret)
    return strace_decode.int_list(task, v, _s32(args[0]))


def _timerid(printer, task, v, args, extra, ret, d):
    return strace_decode.address(v) if _failed(ret) else strace_decode.int_array(task, v, 1)


# prctl: what each option takes (strace's SYS_FUNC(prctl)).
_PR_SIG_IN, _PR_SIG_OUT = {1}, {2}                  # PR_SET_PDEATHSIG, PR_GET_PDEATHSIG
_PR_NAME = {15: "in", 16: "out"}                    # PR_SET_NAME, PR_GET_NAME
_SUID_DUMP = {0: "SUID_DUMP_DISABLE", 1: "SUID_DUMP_USER", 2: "SUID_DUMP_ROOT"}


def _prctl(printer, task, args, ret, entry):
    option = args[0] & 0xFFFFFFFF
    shown = [_named(_NAMED["prctlopt"], option)]
    if option in _PR_SIG_IN:
        shown.append(strace_decode.signame(_s32(args[1])))
    elif option in _PR_SIG_OUT:
        import struct
        raw = None if _failed(ret) else strace_decode.peek(task, args[1], 4)
        shown.append("[%s]" % strace_decode.signame(struct.unpack("<i", raw)[0])
                     if raw is not None else strace_decode.address(args[1]))
    elif option in _PR_NAME:
        if _PR_NAME[option] == "out" and _failed(ret):
            shown.append(strace_decode.address(args[1]))
        else:
            s = strace_decode.peek_string(task, args[1], 16) if args[1] else None
            # printstr_ex(TASK_COMM_LEN, QUOTE_0_TERMINATED): 15 bytes, then "..."
            shown.append(strace_decode.quote(s, 15) if s is not None
                         else strace_decode.address(args[1]))
    elif option in (3, 7, 27, 39):                 # the GET_ options without arguments
        pass
    elif option == 36:                              # PR_SET_CHILD_SUBREAPER: arg2 unsigned
        shown.append(str(args[1]))
    elif option == 37:                              # PR_GET_CHILD_SUBREAPER: printnum_int()
        shown.append(strace_decode.address(args[1]) if ret is None or _failed(ret)
                     else strace_decode.int_array(task, args[1], 1))
    elif option in (23, 24):                        # PR_CAPBSET_READ, PR_CAPBSET_DROP
        cap = args[1] & 0xFFFFFFFF                  # printxval(cap, arg2, "CAP_???")
        names = strace_decode.CAP_NAMES
        shown.append(names[cap] if cap < len(names) else "%#x /* CAP_??? */" % cap)
    elif option == 4:                               # PR_SET_DUMPABLE
        shown.append(_SUID_DUMP.get(args[1] & 0xFFFFFFFF, str(args[1])))
    else:
        shown += ["%#x" % a if a > 9 else str(a) for a in args[1:5]]
    return shown


def _prctl_result(printer, task, args, ret):
    if args[0] & 0xFFFFFFFF == 3 and ret in _SUID_DUMP:      # PR_GET_DUMPABLE
        return "%d (%s)" % (ret, _SUID_DUMP[ret])
    return None


SPECIAL_CALLS["prctl"] = _prctl
RESULT_EXTRAS["prctl"] = _prctl_result
STRUCT_FORMATS.update({
    "loff": _loff,
    "groups": _groups,
    "timerid": _timerid,
    "itimerspec": lambda p, t, v, a, e, r, d: (
        strace_decode.address(v) if e == "out" and (_failed(r) or not v)
        else strace_decode.itimerspec(t, v, p.opts)),
    "sigevent": lambda p, t, v, a, e, r, d: strace_decode.sigevent(t, v, p.opts),
    "sysinfo": _after(strace_decode.sysinfo_struct),
    "siginfo_in": lambda p, t, v, a, e, r, d: strace_decode.siginfo_user(t, v, p.opts),
    "tfdflags": _simple(lambda v: _flags(v & 0xFFFFFFFF, (("TFD_TIMER_ABSTIME", 1),
                                                          ("TFD_TIMER_CANCEL_ON_SET", 2)))),
    "tfdcreate": _simple(lambda v: _flags(v & 0xFFFFFFFF, (("TFD_CLOEXEC", 0o2000000),
                                                           ("TFD_NONBLOCK", 0o4000)))),
})
_EXIT_KINDS.update({"timerid", "sysinfo"})

STRUCT_FORMATS["mfdflags"] = _simple(lambda v: _flags(v & 0xFFFFFFFF, (
    ("MFD_CLOEXEC", 1), ("MFD_ALLOW_SEALING", 2), ("MFD_HUGETLB", 4))))


# -- waitid, scheduling parameters, message queue attributes -----------------------------

@strace_decode.struct_at(32)
def _mq_attr(task, v, raw, opts):
    """printmqattr(): {mq_flags=O_NONBLOCK, mq_maxmsg=10, mq_msgsize=8192, mq_curmsgs=0}."""
    import struct
    fl, maxmsg, msgsize, cur = struct.unpack("<qqqq", raw)
    return "{mq_flags=%s, mq_maxmsg=%d, mq_msgsize=%d, mq_curmsgs=%d}" % (
        "O_NONBLOCK" if fl & 0o4000 else ("%#x" % fl if fl else "0"), maxmsg, msgsize, cur)


_NAMED["idtype"] = {0: "P_ALL", 1: "P_PID", 2: "P_PGID", 3: "P_PIDFD"}
STRUCT_FORMATS.update({
    "schedparam": lambda p, t, v, a, e, r, d: (
        strace_decode.address(v) if e == "out" and _failed(r) or not v
        else strace_decode.int_array(t, v, 1)),
    "mqattr": lambda p, t, v, a, e, r, d: (
        strace_decode.address(v) if e == "out" and _failed(r) or not v
        else _mq_attr(t, v, p.opts)),
    "waitidopts": _simple(lambda v: _flags(v & 0xFFFFFFFF, strace_decode.WAIT_NAMES)),
    "timespec_out": _after(strace_decode.timespec),
})


# -- SysV messages and semaphores, clone3 --------------------------------------------------

_MSG_IPC_FLAGS = (("MSG_NOERROR", 0o10000), ("MSG_EXCEPT", 0o20000), ("MSG_COPY", 0o40000),
                  ("IPC_NOWAIT", 0o4000))
_SEM_FLAGS = (("SEM_UNDO", 0x1000), ("IPC_NOWAIT", 0o4000))


def _msgbuf(printer, task, v, args, extra, ret, d):
    """tprint_msgbuf(): {mtype=5, mtext="hello"}; msgrcv's shows msgsz
    bytes, as strace does, once the call succeeded."""
    import struct
    if not v or (d is not None and d.name == "msgrcv" and _failed(ret)):
        return strace_decode.address(v)
    raw = strace_decode.peek(task, v, 8)
    if raw is None:
        return "%#x" % v
    size = args[int(extra)] & 0xFFFFFFFFFFFFFFFF
    return "{mtype=%d, mtext=%s}" % (struct.unpack("<q", raw)[0],
                                     strace_decode.buffer(task, v + 8, size, printer.opts))


def _sembufs(printer, task, v, args, extra, ret, d):
    """tprint_sembuf_array(): [{sem_num=0, sem_op=1, sem_flg=SEM_UNDO}, ...]."""
    import struct
    n = args[2] & 0xFFFFFFFF
    raw = strace_decode.peek(task, v, 6 * min(n, 1024)) if v and n else None
    if raw is None:
        return strace_decode.address(v)
    out = []
    for i in range(min(n, printer.opts.strsize)):
        num, op, flg = struct.unpack_from("<Hhh", raw, 6 * i)
        out.append("{sem_num=%d, sem_op=%d, sem_flg=%s}" % (num, op,
                                                             _flags(flg & 0xFFFF, _SEM_FLAGS)))
    if n > printer.opts.strsize:
        out.append("...")
    return "[" + ", ".join(out) + "]"


_CLONE_ARGS = __import__("struct").Struct("<QQQQQQQQ")


def _clone_args(printer, task, v, args, extra, ret, d):
    """clone3's struct clone_args (the first 64 bytes: flags to tls)."""
    return _clone_args_struct(task, v, printer.opts)


@strace_decode.struct_at(_CLONE_ARGS.size)
def _clone_args_struct(task, v, raw, opts):
    fl, pidfd, child_tid, parent_tid, exit_signal, stack, size, tls = _CLONE_ARGS.unpack(raw)
    parts = ["flags=%s" % _flags(fl, strace_decode.CLONE_NAMES)]
    if fl & 0x1000:
        parts.append("pidfd=%s" % strace_decode.address(pidfd))
    if fl & (0x200000 | 0x1000000):
        parts.append("child_tid=%s" % strace_decode.address(child_tid))
    if fl & 0x100000:
        parts.append("parent_tid=%s" % strace_decode.address(parent_tid))
    parts.append("exit_signal=%s" % (strace_decode.signame(exit_signal) if exit_signal else "0"))
    parts.append("stack=%s" % strace_decode.address(stack))
    parts.append("stack_size=%#x" % size)
    if fl & 0x80000:
        parts.append("tls=%s" % strace_decode.address(tls))
    return "{" + ", ".join(parts) + "}"


STRUCT_FORMATS.update({
    "msgbuf": _msgbuf,
    "sembufs": _sembufs,
    "msgflags_ipc": _simple(lambda v: _flags(v & 0xFFFFFFFF, _MSG_IPC_FLAGS)),
    "clone_args": _clone_args,
})
_EXIT_KINDS.add("msgbuf_out")
STRUCT_FORMATS["msgbuf_out"] = _msgbuf
UNIMPLEMENTED_FORMATS["clone3"] = "clone_args u"


def _ipc_key(v):
    v &= 0xFFFFFFFF
    return "IPC_PRIVATE" if v == 0 else "%#x" % v


def _ipc_getflags(v):
    """IPC_CREAT|IPC_EXCL|0640: the flags, then the permissions in octal."""
    v &= 0xFFFFFFFF
    names = _flags(v & ~0o777, (("IPC_CREAT", 0o1000), ("IPC_EXCL", 0o2000),
                                ("SHM_HUGETLB", 0o4000), ("SHM_NORESERVE", 0o10000)), "")
    return (names + "|" if names else "") + strace_decode.octal(v & 0o777)


STRUCT_FORMATS.update({
    "ipckey": _simple(_ipc_key),
    "ipcflags": _simple(_ipc_getflags),
    "shmatflags": _simple(lambda v: _flags(v & 0xFFFFFFFF, (
        ("SHM_RDONLY", 0o10000), ("SHM_RND", 0o20000), ("SHM_REMAP", 0o40000),
        ("SHM_EXEC", 0o100000)))),
    "semarg": _simple(lambda v: "%#x" % v if v else "NULL"),
})


STRUCT_FORMATS["randbuf"] = lambda p, t, v, a, e, r, d: (
    strace_decode.address(v) if _failed(r) else strace_decode.hex_buffer(t, v, r, p.opts))
_EXIT_KINDS.add("randbuf")


# -- issue 7 part 4: capabilities, sched_attr, SysV IPC buffers, mmsghdr vectors ----------

def _capget(printer, task, args, ret, entry):
    """SYS_FUNC(capget): the header on entry, the data the call filled."""
    header = entry[0] if entry and entry[0] else strace_decode.cap_header(task, args[0],
                                                                        printer.opts)
    if ret is None or _failed(ret) or not args[1]:
        data = strace_decode.address(args[1])
    else:
        data = strace_decode.cap_data(task, args[1], printer.opts,
                                      strace_decode.cap_header_version(task, args[0]))
    return [header, data]


def _capset(printer, task, args, ret, entry):
    """SYS_FUNC(capset): the header and the data, both read on entry."""
    if entry and entry[1]:
        return entry[:2]
    return [strace_decode.cap_header(task, args[0], printer.opts),
            strace_decode.cap_data(task, args[1], printer.opts,
                                   strace_decode.cap_header_version(task, args[0]))]


def _sched_setattr(printer, task, args, ret, entry):
    if entry and entry[1]:
        return entry[:3]
    return [str(_s32(args[0])),
            strace_decode.sched_attr(task, args[1], printer.opts, _NAMED["schedpol"]),
            str(args[2] & 0xFFFFFFFF)]


def _sched_getattr(printer, task, args, ret, entry):
    attr = strace_decode.address(args[1]) if ret is None or _failed(ret) else \
        strace_decode.sched_attr(task, args[1], printer.opts, _NAMED["schedpol"])
    return [str(_s32(args[0])), attr, str(args[2] & 0xFFFFFFFF), str(args[3] & 0xFFFFFFFF)]


# The IPC commands whose buffer the call fills (decoded on exit) and the
# one that reads it; IPC_64 (0x100) is the flag a libc may add.
_IPC_64 = 0x100
_IPC_STAT_CMDS = {"shmctl": {2, 13}, "msgctl": {2, 11}, "semctl": {2, 18}}
_IPC_SET = 1
_IPC_DS = {"shmctl": strace_decode.shmid_ds, "msgctl": strace_decode.msqid_ds,
           "semctl": strace_decode.semid_ds}


def _ipc_ctl(name):
    """SYS_FUNC(shmctl/msgctl/semctl): the *_STAT buffer when the call
    filled it, IPC_SET's as given; other commands as before."""
    cmd_at = 2 if name == "semctl" else 1
    cmdkind = name[:3] + "cmd"

    def fmt(printer, task, args, ret, entry):
        cmd = args[cmd_at] & 0xFFFFFFFF & ~_IPC_64
        shown = [str(_s32(args[0]))] + ([str(_s32(args[1]))] if name == "semctl" else [])
        shown.append(_named(_NAMED[cmdkind], args[cmd_at] & 0xFFFFFFFF))
        buf = args[cmd_at + 1]
        if cmd in _IPC_STAT_CMDS[name]:
            shown.append(strace_decode.address(buf) if ret is None or _failed(ret)
                         else _IPC_DS[name](task, buf, printer.opts, True))
        elif cmd == _IPC_SET:
            shown.append(entry[cmd_at + 1] if entry and entry[cmd_at + 1]
                         else _IPC_DS[name](task, buf, printer.opts, False))
        elif name == "semctl":
            shown.append(printer.arg(task, "semarg", args, 3, ret))
        else:
            shown.append(strace_decode.address(buf))
        return shown
    return fmt


def _mmsg_sockaddr(task, ret):
    return lambda name, n: PART6_FORMATS["sockaddr"](task, name, [n], "0", ret)


def _sendmmsg(printer, task, args, ret, entry):
    """SYS_FUNC(sendmmsg): the vector on exit, msg_len of those sent."""
    fd = entry[0] if entry and entry[0] else printer.fd(task, args[0])
    vlen = args[2] & 0xFFFFFFFF
    sent = 0 if ret is None or _failed(ret) else ret
    vec = strace_decode.mmsghdr_array(task, args[1], vlen, printer.opts, sent, False,
                                      _mmsg_sockaddr(task, ret),
                                      lambda fl: _flags(fl, _MSG_FLAGS),
                                      lambda fd: printer.fd(task, fd))
    return [fd, vec, str(vlen), _flags(args[3] & 0xFFFFFFFF, _MSG_FLAGS)]


def _recvmmsg(printer, task, args, ret, entry):
    """SYS_FUNC(recvmmsg): the messages received (their data cut at
    msg_len), vlen, flags and the timeout as it was on entry."""
    fd = entry[0] if entry and entry[0] else printer.fd(task, args[0])
    tmo = entry[4] if entry and entry[4] else strace_decode.timespec(task, args[4],
                                                                     printer.opts)
    if ret is None or _failed(ret):
        vec = strace_decode.address(args[1])
    else:
        vec = strace_decode.mmsghdr_array(task, args[1], ret, printer.opts, ret, True,
                                          _mmsg_sockaddr(task, ret),
                                          lambda fl: _flags(fl, _MSG_FLAGS),
                                          lambda fd: printer.fd(task, fd))
    return [fd, vec, str(args[2] & 0xFFFFFFFF), _flags(args[3] & 0xFFFFFFFF, _MSG_FLAGS), tmo]


def _recvmmsg_result(printer, task, args, ret):
    if ret == 0:
        return "0 (Timeout)"
    if args[4]:
        return "%d (left %s)" % (ret, strace_decode.timespec(task, args[4], printer.opts))
    return None


SPECIAL_CALLS.update({
    "capget": _capget,
    "capset": _capset,
    "sched_setattr": _sched_setattr,
    "sched_getattr": _sched_getattr,
    "shmctl": _ipc_ctl("shmctl"),
    "msgctl": _ipc_ctl("msgctl"),
    "semctl": _ipc_ctl("semctl"),
    "sendmmsg": _sendmmsg,
    "recvmmsg": _recvmmsg,
})
RESULT_EXTRAS["recvmmsg"] = _recvmmsg_result
# The special calls above whose `entry` is their own arguments as decoded
# when the call entered (the others get the registered formats').
ENTRY_SPECIALS = {"capget", "capset", "sched_setattr", "sched_getattr", "shmctl", "msgctl",
                  "semctl", "sendmmsg", "recvmmsg"}


def _ipc_split(name):
    cmd_at = 2 if name == "semctl" else 1
    return lambda args: cmd_at + 1 if args[cmd_at] & 0xFFFFFFFF & ~_IPC_64 in \
        _IPC_STAT_CMDS[name] else cmd_at + 2


SPECIAL_SPLITS.update({
    "capget": lambda args: 1,
    "sched_getattr": lambda args: 1,
    "shmctl": _ipc_split("shmctl"),
    "msgctl": _ipc_split("msgctl"),
    "semctl": _ipc_split("semctl"),
    "sendmmsg": lambda args: 1,
    "recvmmsg": lambda args: 1,
})

# ioctl: more of the requests strace decodes (asm-generic/ioctls.h), the
# terminal ones kernel/fs/ioctl.py handles or refuses with ENOTTY.
_IOCTL_INT_IN = lambda t, v, o: strace_decode.int_array(t, v, 1)        # noqa: E731
_IOCTL_OUT.update({0x5411: _IOCTL_INT_IN,          # TIOCOUTQ
                   0x5429: _IOCTL_INT_IN,          # TIOCGSID
                   0x80045430: _IOCTL_INT_IN})     # TIOCGPTN
_IOCTL_IN.update({0x5452: _IOCTL_INT_IN,           # FIOASYNC
                  0x40045431: _IOCTL_INT_IN})      # TIOCSPTLCK
_NAMED["ioctlcmd"].update({0x5411: "TIOCOUTQ", 0x5429: "TIOCGSID", 0x80045430: "TIOCGPTN",
                           0x5452: "FIOASYNC", 0x40045431: "TIOCSPTLCK",
                           0x5409: "TCSBRK", 0x540A: "TCXONC", 0x540B: "TCFLSH",
                           0x540C: "TIOCEXCL", 0x540D: "TIOCNXCL", 0x540E: "TIOCSCTTY",
                           0x5422: "TIOCNOTTY", 0x5425: "TCSBRKP", 0x5427: "TIOCSBRK",
                           0x5428: "TIOCCBRK"})
# requests whose argument is a value (TCFLSH's queue, TCXONC's action), or none
_IOCTL_VALUES = {0x540B: {0: "TCIFLUSH", 1: "TCOFLUSH", 2: "TCIOFLUSH"},
                 0x540A: {0: "TCOOFF", 1: "TCOON", 2: "TCIOFF", 3: "TCION"}}
_IOCTL_INT_VALUE = {0x5409, 0x540E, 0x5425}        # TCSBRK, TIOCSCTTY, TCSBRKP
_IOCTL_NO_ARG = {0x540C, 0x540D, 0x5422, 0x5427, 0x5428}


def _ioctl_more(printer, task, args, ret, entry):
    """SYS_FUNC(ioctl) for the requests above, then the others as before."""
    cmd = args[1] & 0xFFFFFFFF
    if cmd in _IOCTL_VALUES or cmd in _IOCTL_INT_VALUE or cmd in _IOCTL_NO_ARG:
        shown = [entry[0] if entry and entry[0] else printer.fd(task, args[0]),
                 _NAMED["ioctlcmd"][cmd]]
        if cmd in _IOCTL_VALUES:
            shown.append(_named(_IOCTL_VALUES[cmd], args[2] & 0xFFFFFFFF))
        elif cmd in _IOCTL_INT_VALUE:
            shown.append(str(_s32(args[2])))
        return shown
    return _ioctl(printer, task, args, ret, entry)


SPECIAL_CALLS["ioctl"] = _ioctl_more


# -- issue 7 part 4: the mm calls' flags and mincore's vector, as strace 6.1 ----------
# prints them (compared with the host's strace: msync(..., MS_SYNC), mlockall(MCL_...),
# mincore(..., [1, 0])).

def _xflags(names, unknown):
    """printflags(): the names, then the unknown bits; with no name at all
    the value and a `/* MS_??? */` comment."""
    def fmt(v):
        v &= 0xFFFFFFFF
        text = _flags(v, names)
        if v and not any(v & bit for _, bit in names):
            text += " /* %s??? */" % unknown
        return text
    return _simple(fmt)


def _mincore_vec(printer, task, v, args, extra, ret, d):
    """mincore()'s vector on exit: a byte a page, [1, 0, ...] with at most
    -s entries before `...` (print_array's max_strlen); its address when the
    call failed."""
    from emu.arch import PAGE_SIZE
    if _failed(ret) or not v:
        return strace_decode.address(v)
    pages = (args[1] + PAGE_SIZE - 1) // PAGE_SIZE
    shown = min(pages, printer.opts.strsize)
    raw = strace_decode.peek(task, v, shown)
    if raw is None:
        return strace_decode.address(v)
    items = [str(b) for b in raw]
    if pages > shown:
        items.append("...")
    return "[%s]" % ", ".join(items)


STRUCT_FORMATS.update({
    "msflags": _xflags((("MS_ASYNC", 1), ("MS_SYNC", 4), ("MS_INVALIDATE", 2)), "MS_"),
    "mlock2flags": _xflags((("MLOCK_ONFAULT", 1),), "MLOCK_"),
    "mclflags": _xflags((("MCL_CURRENT", 1), ("MCL_FUTURE", 2), ("MCL_ONFAULT", 4)), "MCL_"),
    "mincorevec": _mincore_vec,
})
# madvise's advice past MADV_FREE (uapi/asm-generic/mman-common.h, as strace 6.1 names them)
_NAMED["madv"].update({
    9: "MADV_REMOVE", 10: "MADV_DONTFORK", 11: "MADV_DOFORK", 12: "MADV_MERGEABLE",
    13: "MADV_UNMERGEABLE", 14: "MADV_HUGEPAGE", 15: "MADV_NOHUGEPAGE", 16: "MADV_DONTDUMP",
    17: "MADV_DODUMP", 18: "MADV_WIPEONFORK", 19: "MADV_KEEPONFORK", 20: "MADV_COLD",
    21: "MADV_PAGEOUT", 22: "MADV_POPULATE_READ", 23: "MADV_POPULATE_WRITE",
    24: "MADV_DONTNEED_LOCKED", 25: "MADV_COLLAPSE", 100: "MADV_HWPOISON",
    101: "MADV_SOFT_OFFLINE"})


# -- issue 7 part 4: what comparing sys_files, sys_events and pipes with the host's ------
# strace 6.1 found: printflags()/printxval() name an unknown value `0x1 /* AT_??? */`,
# pipe2's flags are open_mode_flags, a mode of no known file type is plain octal,
# print_sigset_addr_len() shows a set of a size other than NSIG_BYTES by its address,
# and C's %#x prints 0 as "0".

_NSIG_BYTES = 8         # sizeof(kernel_sigset_t) on both AArch64 and x86-64


def _hex0(v):
    """C's %#x: 0 is "0", never "0x0"."""
    return "%#x" % v if v else "0"


def _commented(decode, prefix):
    """A flags decoder whose answer is a bare number when no name matched:
    strace adds `/* PREFIX??? */` (printflags' dflt)."""
    def fmt(printer, task, v, args, extra, ret, d):
        text = decode(printer, task, v, args, extra, ret, d)
        if text.startswith("0x") and "|" not in text and " " not in text:
            text += " /* %s??? */" % prefix
        return text
    return fmt


def _part6(kind):
    fn = PART6_FORMATS[kind]
    return lambda printer, task, v, args, extra, ret, d: fn(task, v, args, extra, ret)


def _xval(table, prefix):
    """printxval(): the name, or `0x7 /* EPOLL_CTL_??? */`."""
    return _simple(lambda v: table.get(v & 0xFFFFFFFF)
                   or "%#x /* %s??? */" % (v & 0xFFFFFFFF, prefix))


_AT_FLAG_NAMES = (("AT_SYMLINK_NOFOLLOW", 0x100), ("AT_REMOVEDIR", 0x200),
                  ("AT_SYMLINK_FOLLOW", 0x400), ("AT_EMPTY_PATH", 0x1000))
STRUCT_FORMATS.update({
    "atflags": _commented(_simple(lambda v: _flags(v, _AT_FLAG_NAMES)), "AT_"),
    "falloc": _commented(_simple(lambda v: _flags(v & 0xFFFFFFFF, _FILES_FLAGS["falloc"][0])),
                         "FALLOC_FL_"),
    "syncrange": _commented(_simple(lambda v: _flags(v & 0xFFFFFFFF,
                                                     _FILES_FLAGS["syncrange"][0])),
                            "SYNC_FILE_RANGE_"),
    "fadvice": _xval(_NAMED["fadvice"], "POSIX_FADV_"),
    "efdflags": _commented(_part6("efdflags"), "EFD_"),
    "sfdflags": _commented(_part6("sfdflags"), "SFD_"),
    "epollflags": _commented(_part6("epollflags"), "EPOLL_"),
    "inflags": _commented(_part6("inflags"), "IN_"),
    "epollop": _xval({1: "EPOLL_CTL_ADD", 2: "EPOLL_CTL_DEL", 3: "EPOLL_CTL_MOD"}, "EPOLL_CTL_"),
    # pipe2(), dup3(): printflags(open_mode_flags, flags, "O_???")
    "fdflags": _commented(_simple(lambda v: _flags(v & 0xFFFFFFFF, OPEN_FLAG_NAMES)), "O_"),
})


def _nodmode_or_octal(printer, task, v, args, extra, ret, d):
    """print_symbolic_mode_t(): S_IFREG|0644, or the whole mode in octal
    when its type is none of the S_IF* (0170644)."""
    if v & 0o170000 and v & 0o170000 not in _S_IFMT_NAMES:
        return "0%o" % (v & 0xFFFFFFFF)
    return _files_arg("nodmode", v)


STRUCT_FORMATS["nodmode"] = _nodmode_or_octal


def _fcntl_result_c(printer, task, args, ret):
    """_fcntl_result(), with F_GETFL's 0 written as C writes it."""
    text = _fcntl_result(printer, task, args, ret)
    if text is not None and text.startswith("0x0 "):
        text = "0" + text[3:]
    return text


RESULT_EXTRAS["fcntl"] = _fcntl_result_c
_epoll_pwait_sets = SPECIAL_CALLS["epoll_pwait"]


def _epoll_pwait_sized(printer, task, args, ret, entry):
    """epoll_pwait(): the signal set by its address when sigsetsize is not
    NSIG_BYTES (print_sigset_addr_len)."""
    shown = _epoll_pwait_sets(printer, task, args, ret, entry)
    if args[5] != _NSIG_BYTES and isinstance(shown, list) and len(shown) > 4:
        shown[4] = strace_decode.address(args[4])
    return shown


SPECIAL_CALLS["epoll_pwait"] = _epoll_pwait_sized


def _sembufs_as_read(printer, task, v, args, extra, ret, d):
    """tprint_sembuf_array(): print_array() reads entries one by one, at
    most -s of them, so a huge nsops shows its first 32 and `...`; 0 is
    `[]`; a flag of no known name `0x3 /* SEM_??? */`."""
    import struct
    n = args[2] & 0xFFFFFFFF
    if not v:
        return "NULL"
    if not n:
        return "[]"
    shown = min(n, printer.opts.strsize)
    raw = strace_decode.peek(task, v, 6 * shown)
    if raw is None:
        return strace_decode.address(v)
    out = []
    for i in range(shown):
        num, op, flg = struct.unpack_from("<Hhh", raw, 6 * i)
        flg &= 0xFFFF
        text = _flags(flg, _SEM_FLAGS)
        if flg and not any(flg & bit for _, bit in _SEM_FLAGS):
            text += " /* SEM_??? */"
        out.append("{sem_num=%d, sem_op=%d, sem_flg=%s}" % (num, op, text))
    if n > shown:
        out.append("...")
    return "[" + ", ".join(out) + "]"


STRUCT_FORMATS["sembufs"] = _sembufs_as_read


# The *_INFO commands of the IPC ctl calls: the limits the kernel wrote (strace's
# print_ipc_info: struct seminfo, msginfo, shminfo64, shm_info), decoded on exit.
_IPC_INFO = 3
_IPC_INFO_LAYOUTS = {
    ("semctl", _IPC_INFO): ("<10i", ("semmap", "semmni", "semmns", "semmnu", "semmsl",
                                     "semopm", "semume", "semusz", "semvmx", "semaem")),
    ("semctl", 19): None,                                               # SEM_INFO
    ("msgctl", _IPC_INFO): ("<7iH", ("msgpool", "msgmap", "msgmax", "msgmnb", "msgmni",
                                     "msgssz", "msgtql", "msgseg")),
    ("msgctl", 12): None,                                               # MSG_INFO
    ("shmctl", _IPC_INFO): ("<5Q", ("shmmax", "shmmin", "shmmni", "shmseg", "shmall")),
    ("shmctl", 14): ("<i4x5Q", ("used_ids", "shm_tot", "shm_rss", "shm_swp",
                                "swap_attempts", "swap_successes")),   # SHM_INFO
}
_IPC_INFO_LAYOUTS[("semctl", 19)] = _IPC_INFO_LAYOUTS[("semctl", _IPC_INFO)]
_IPC_INFO_LAYOUTS[("msgctl", 12)] = _IPC_INFO_LAYOUTS[("msgctl", _IPC_INFO)]


def _ipc_info(name, fmt, split):
    """SYS_FUNC(shmctl/msgctl/semctl) for *_INFO: the buffer the call
    filled, as {field=value, ...}; its address until it has."""
    import struct
    cmd_at = 2 if name == "semctl" else 1

    def layout(args):
        return _IPC_INFO_LAYOUTS.get((name, args[cmd_at] & 0xFFFFFFFF & ~_IPC_64))

    def decode(printer, task, args, ret, entry):
        shown = fmt(printer, task, args, ret, entry)
        lay = layout(args)
        if lay is None or not isinstance(shown, list) or ret is None or _failed(ret):
            return shown
        pack, names = lay
        raw = strace_decode.peek(task, args[cmd_at + 1], struct.calcsize(pack))
        if raw is not None:
            shown[-1] = "{%s}" % ", ".join("%s=%d" % (n, v) for n, v in
                                           zip(names, struct.unpack(pack, raw)))
        return shown

    def cut(args):
        return cmd_at + 1 if layout(args) is not None else split(args)
    return decode, cut


for _name in ("semctl", "msgctl", "shmctl"):
    SPECIAL_CALLS[_name], SPECIAL_SPLITS[_name] = _ipc_info(_name, SPECIAL_CALLS[_name],
                                                            SPECIAL_SPLITS[_name])


# -- issue 7 part 4: what comparing sys_sockets and sys_memfd with the host's strace ----
# found: more `/* X??? */` values, a short sockaddr as sa_data, recvfrom's buffer
# no longer than itself, SO_PEERCRED's struct ucred, memfd_create's name cut at -s.

def _hex_only(text):
    return text.startswith("0x") and "|" not in text and " " not in text


def _comment_rest(head_and_rest, prefix):
    """`SOCK_STREAM|0x80000 /* SOCK_??? */`: strace prints the flags part
    with its own printflags(), so the comment goes after a part of no name."""
    head, sep, rest = head_and_rest.partition("|")
    if sep and _hex_only(rest):
        return head_and_rest + " /* %s??? */" % prefix
    return head_and_rest


def _socktype_commented(printer, task, v, args, extra, ret, d):
    return _comment_rest(_fmt_socktype(task, v, args, extra, ret), "SOCK_")


def _sockopt_commented(printer, task, v, args, extra, ret, d):
    text = _fmt_sockopt(task, v, args, extra, ret)
    level = args[1] & 0xFFFFFFFF
    prefix = {1: "SO_", 6: "TCP_"}.get(level)
    if prefix and text.lstrip("-").isdigit():
        return "%#x /* %s??? */" % (v & 0xFFFFFFFF, prefix)
    return text


_SOCKADDR_IN_SIZE, _SOCKADDR_IN6_SIZE = 16, 24      # sizeof(struct sockaddr_in/_in6)


def _sockaddr_by_length(printer, task, v, args, extra, ret, d):
    """print_sockaddr(): AF_UNIX of only its family is `{sa_family=AF_UNIX}`;
    an AF_INET/AF_INET6 address shorter than its structure shows sa_data."""
    import struct
    n = args[int(extra)] & 0xFFFFFFFF if extra and v else 0
    raw = strace_decode.peek(task, v, min(n, 128)) if n >= 2 else None
    if raw is not None and len(raw) >= 2:
        fam = struct.unpack_from("<H", raw)[0]
        if fam == 1 and n == 2:
            return "{sa_family=AF_UNIX}"
        if (fam == 2 and n < _SOCKADDR_IN_SIZE) or (fam == 10 and n < _SOCKADDR_IN6_SIZE):
            return "{sa_family=%s, sa_data=%s}" % (_SOCK_FAMILIES[fam], quote(raw[2:n]))
    return _fmt_sockaddr(task, v, args, extra, ret)


def _obuf_within(printer, task, v, args, extra, ret, d):
    """A buffer the call filled: `ret` bytes, but never more than the buffer
    (recvfrom with MSG_TRUNC returns the datagram's whole length)."""
    if not isinstance(ret, int) or ret < 0:
        return "%#x" % v
    n = ret if extra == "ret" else args[int(extra)]
    if d is not None and d.name == "recvfrom":
        n = min(n, args[2])
    return strace_decode.buffer(task, v, n, printer.opts)


_SOL_SOCKET, _SO_PEERCRED = 1, 17


def _sockoptval_ucred(printer, task, v, args, extra, ret, d):
    """getsockopt(SO_PEERCRED): struct ucred as {pid=N, uid=N, gid=N}."""
    import struct
    if (d is not None and d.name == "getsockopt" and not _failed(ret) and v
            and args[1] & 0xFFFFFFFF == _SOL_SOCKET and args[2] & 0xFFFFFFFF == _SO_PEERCRED):
        raw = strace_decode.peek(task, v, 12)
        if raw is not None:
            return "{pid=%d, uid=%d, gid=%d}" % struct.unpack("<iII", raw)
    return _sockoptval(printer, task, v, args, extra, ret, d)


def _mfdname(printer, task, v, args, extra, ret, d):
    """memfd_create()'s name: printstr, so cut at -s (not a path)."""
    if not v:
        return "NULL"
    s = strace_decode.peek_string(task, v, printer.opts.strsize + 1)
    return quote(s, printer.opts.strsize) if s is not None else "%#x" % v


STRUCT_FORMATS.update({
    "sockfamily": _xval(_SOCK_FAMILIES, "AF_"),
    "socktype": _socktype_commented,
    "sockflags": _commented(_simple(lambda v: _flags(v, _SOCK_FLAGS)), "SOCK_"),
    "shuthow": _xval({0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR"}, "SHUT_"),
    "sockopt": _sockopt_commented,
    "sockaddr": _sockaddr_by_length,
    "obuf": _obuf_within,
    "sockoptval": _sockoptval_ucred,
    "mfdflags": _commented(STRUCT_FORMATS["mfdflags"], "MFD_"),
    "mfdname": _mfdname,
})
_fcntl_args = SPECIAL_CALLS["fcntl"]
_F_ADD_SEALS = 1033


def _fcntl_seals_commented(printer, task, args, ret, entry):
    """F_ADD_SEALS of no known seal: `0x100 /* F_SEAL_??? */`."""
    shown = _fcntl_args(printer, task, args, ret, entry)
    if args[1] & 0xFFFFFFFF == _F_ADD_SEALS and isinstance(shown, list) and len(shown) > 2 \
            and _hex_only(shown[2]):
        shown[2] += " /* F_SEAL_??? */"
    return shown


SPECIAL_CALLS["fcntl"] = _fcntl_seals_commented
# strace 6.1 names these values as Linux 5.1 renamed them when it added the y2038
# SO_RCVTIMEO_NEW/SO_SNDTIMEO_NEW: the same options as 4.14's SO_RCVTIMEO/SO_SNDTIMEO,
# printed as strace prints them.
_SO_NAMES.update({20: "SO_RCVTIMEO_OLD", 21: "SO_SNDTIMEO_OLD"})


# -- futex, as the comparison with the host's strace (userland/src/futex.c) found it --
_FUTEX_CMD_MASK, _FUTEX_WAKE_BITSET, _FUTEX_WAKE_OP = 0x7F, 10, 5
_FUTEX_WAKE_OPS = {0: "FUTEX_OP_SET", 1: "FUTEX_OP_ADD", 2: "FUTEX_OP_OR", 3: "FUTEX_OP_ANDN",
                   4: "FUTEX_OP_XOR"}
_FUTEX_WAKE_CMPS = {0: "FUTEX_OP_CMP_EQ", 1: "FUTEX_OP_CMP_NE", 2: "FUTEX_OP_CMP_LT",
                    3: "FUTEX_OP_CMP_LE", 4: "FUTEX_OP_CMP_GT", 5: "FUTEX_OP_CMP_GE"}
_FUTEX_OP_OPARG_SHIFT = 8


def _futex_wake_op(v):
    """FUTEX_WAKE_OP's encoded operation: FUTEX_OP_SET<<28|0x5<<12|FUTEX_OP_CMP_EQ<<24|0."""
    op, cmp_, oparg, cmparg = v >> 28 & 0xF, v >> 24 & 0xF, v >> 12 & 0xFFF, v & 0xFFF
    text = "FUTEX_OP_OPARG_SHIFT<<28|" if op & _FUTEX_OP_OPARG_SHIFT else ""
    text += _FUTEX_WAKE_OPS.get(op & 7, "%#x /* FUTEX_OP_??? */" % (op & 7)) + "<<28"
    text += "|%s<<12|" % _hex0(oparg)
    text += _FUTEX_WAKE_CMPS.get(cmp_, "%#x /* FUTEX_OP_CMP_??? */" % cmp_) + "<<24"
    return text + "|" + _hex0(cmparg)


def _futex_as_strace(printer, task, args, ret, entry):
    """SYS_FUNC(futex): an unknown command as `0xe3 /* FUTEX_??? */` with all
    six arguments, a bitset of 0 as C's %#x prints it, WAKE_OP's operation
    decoded."""
    op = args[1] & 0xFFFFFFFF
    cmd = op & _FUTEX_CMD_MASK
    if cmd not in strace_decode.FUTEX_OPS:
        return [strace_decode.address(args[0]), "%#x /* FUTEX_??? */" % op,
                str(_s32(args[2])), strace_decode.address(args[3]),
                strace_decode.address(args[4]), _hex0(args[5] & 0xFFFFFFFF)]
    shown = strace_decode.futex_args(task, args, printer.opts)
    if cmd == _FUTEX_WAKE_BITSET and shown[-1] == "0x0":
        shown[-1] = "0"
    elif cmd == _FUTEX_WAKE_OP:
        shown[-1] = _futex_wake_op(args[5] & 0xFFFFFFFF)
    return shown


SPECIAL_CALLS["futex"] = _futex_as_strace


# -- ioctl: a request of no name as strace decodes its number (ioctl_print_code) ------
_IOC_NRBITS, _IOC_TYPEBITS, _IOC_SIZEBITS = 8, 8, 14      # asm-generic/ioctl.h
_IOC_DIRS = {0: "_IOC_NONE", 1: "_IOC_WRITE", 2: "_IOC_READ", 3: "_IOC_READ|_IOC_WRITE"}
_NAMED["ioctlcmd"].update({
    0x5460: "FIOQSIZE", 0x802C542A: "TCGETS2", 0x402C542B: "TCSETS2", 0x402C542C: "TCSETSW2",
    0x402C542D: "TCSETSF2", 0x80045430: "TIOCGPTN", 0x80045432: "TIOCGDEV",
    0x40045436: "TIOCSIG", 0x5437: "TIOCVHANGUP", 0x80045438: "TIOCGPKT",
    0x80045439: "TIOCGPTLCK", 0x80045440: "TIOCGEXCL", 0x5441: "TIOCGPTPEER"})
_ioctl_named = SPECIAL_CALLS["ioctl"]


def _ioc_text(cmd):
    """_IOC(_IOC_NONE, 0x54, 0xff, 0): direction, type, number and size."""
    nr = cmd & ((1 << _IOC_NRBITS) - 1)
    typ = cmd >> _IOC_NRBITS & ((1 << _IOC_TYPEBITS) - 1)
    size = cmd >> (_IOC_NRBITS + _IOC_TYPEBITS) & ((1 << _IOC_SIZEBITS) - 1)
    direction = cmd >> (_IOC_NRBITS + _IOC_TYPEBITS + _IOC_SIZEBITS)
    return "_IOC(%s, %s, %s, %s)" % (_IOC_DIRS[direction & 3], _hex0(typ), _hex0(nr),
                                     _hex0(size))


def _ioctl_ioc(printer, task, args, ret, entry):
    shown = _ioctl_named(printer, task, args, ret, entry)
    if isinstance(shown, list) and len(shown) > 1 and _hex_only(shown[1]):
        shown[1] = _ioc_text(args[1] & 0xFFFFFFFF)
    return shown


SPECIAL_CALLS["ioctl"] = _ioctl_ioc


# -- issue 7 part 4 (s14): termios2, signal sets of another size ----------------------
_IOCTL_OUT[0x802C542A] = strace_decode.termios2                         # TCGETS2
for _cmd in (0x402C542B, 0x402C542C, 0x402C542D):                       # TCSETS{,W,F}2
    _IOCTL_IN[_cmd] = strace_decode.termios2

# print_sigset_addr_len()'s callers: which argument is the set's size
_SIGSET_SIZE_ARG = {"rt_sigprocmask": 3, "rt_sigsuspend": 1, "rt_sigpending": 1,
                    "rt_sigtimedwait": 3, "ppoll": 4, "signalfd4": 2}


def _sigset_sized(decode):
    """print_sigset_addr_len(): a set whose size is not the kernel's
    sigset_t (NSIG_BYTES) is shown by its address (the call fails)."""
    def fmt(printer, task, v, args, extra, ret, d):
        at = _SIGSET_SIZE_ARG.get(d.name) if d is not None else None
        if at is not None and args[at] != _NSIG_BYTES:
            return strace_decode.address(v)
        return decode(printer, task, v, args, extra, ret, d)
    return fmt


STRUCT_FORMATS["sigset"] = _sigset_sized(STRUCT_FORMATS["sigset"])
STRUCT_FORMATS["sigsetlen"] = _sigset_sized(STRUCT_FORMATS["sigsetlen"])
_pselect6_sets = SPECIAL_CALLS["pselect6"]


def _pselect6_sized(printer, task, args, ret, entry):
    """pselect6(): {sigmask=ADDRESS, sigsetsize=N} when N is not
    NSIG_BYTES (print_sigset_addr_len)."""
    import struct
    shown = _pselect6_sets(printer, task, args, ret, entry)
    raw = strace_decode.peek(task, args[5], 16) if args[5] else None
    if raw is not None:
        ss, size = struct.unpack("<QQ", raw)
        if size != _NSIG_BYTES:
            shown[-1] = "{sigmask=%s, sigsetsize=%d}" % (strace_decode.address(ss), size)
    return shown


SPECIAL_CALLS["pselect6"] = _pselect6_sized


# -- issue 7 part 4 (s14): what comparing sys_files, sys_proc and sys_ipc with the ----
# host's strace 6.1 found: a failed vectored read's iovecs with their
# addresses, process_vm_*'s vectors, splice's and copy_file_range's offsets
# read on entry, RWF_/SPLICE_F_/IN_ flags as printflags() names them,
# mq_open's mode and attributes only with O_CREAT, mq_timedreceive's message
# and priority, mq_attr's unknown flags.
_READ_IOV_CALLS.add("process_vm_readv")
_iov_filled = _iov


def _iov(printer, task, v, args, extra, ret, d):
    """do_preadv() and friends: a failed read's vector as IOV_DECODE_ADDR
    (each iov_base's address), a successful one with what it read."""
    if d is not None and d.name in _READ_IOV_CALLS and _failed(ret) and v:
        return strace_decode.iovec_addresses(task, v, args[int(extra)] & 0xFFFFFFFF,
                                             printer.opts)
    return _iov_filled(printer, task, v, args, extra, ret, d)


def _mq_open_args(printer, task, args, ret, entry):
    """SYS_FUNC(mq_open): the mode and the attributes only with O_CREAT."""
    shown = [printer.arg(task, fmt, args, i, ret)
             for i, fmt in enumerate(("path", "oflags", "mode", "mqattr"))]
    return shown if args[1] & O_CREAT else shown[:2]


_mq_attr_plain = _mq_attr.__wrapped__


@strace_decode.struct_at(32)
def _mq_attr(task, v, raw, opts):
    """printmqattr(): mq_flags by open_mode_flags, an unknown bit as
    `0x1 /* O_??? */`."""
    text = _mq_attr_plain(task, v, raw, opts)
    head, _, rest = text.partition(", ")
    if head.startswith("{mq_flags=0x"):
        head += " /* O_??? */"
    return head + ", " + rest


SPECIAL_CALLS["mq_open"] = _mq_open_args
STRUCT_FORMATS.update({
    "iovaddr": lambda p, t, v, a, e, r, d: strace_decode.iovec_addresses(
        t, v, a[int(e)] & 0xFFFFFFFF, p.opts),
    "rwf": _commented(_simple(lambda v: _flags(v & 0xFFFFFFFF, _FILES_FLAGS["rwf"][0])), "RWF_"),
    "splice": _commented(_simple(lambda v: _flags(v & 0xFFFFFFFF, _FILES_FLAGS["splice"][0])),
                         "SPLICE_F_"),
    # (inotify_init_flags: strace lists IN_NONBLOCK first)
    "inflags": _commented(_simple(lambda v: _flags(v & 0xFFFFFFFF, (
        ("IN_NONBLOCK", 0o4000), ("IN_CLOEXEC", 0o2000000)))), "IN_"),
})


# -- issue 7 part 4 (s14): what comparing sys_time, sys_tty, sys_shm and sys_locks ----
# with the host's strace found: TFD_ flags and TC??? values commented,
# termios's zero flag words as strace 6.1 prints them (nothing, and a `|`
# after the delays and the speed/size), times' clock ticks with their
# seconds, settimeofday's timeval, remap_file_pages' protection and MAP_FILE,
# the socket ioctls FIOSETOWN/SIOCSPGRP/FIOGETOWN/SIOCGPGRP and TIOCGEXCL's int,
# clock_nanosleep's remainder only for a relative sleep.
_clock_t = strace_decode.clock_t_text


@strace_decode.struct_at(32)
def _tms_ticks(task, v, raw, opts):
    """print_tms(): {tms_utime=15 /* 0.15 s */, ...}."""
    import struct
    return "{tms_utime=%s, tms_stime=%s, tms_cutime=%s, tms_cstime=%s}" % tuple(
        _clock_t(t) for t in struct.unpack("<QQQQ", raw))


def _remap_flags(printer, task, v, args, extra, ret, d):
    """print_mmap_flags(): a map type of 0 is MAP_FILE."""
    text = printer.arg(task, "mflags", args, 4, ret)
    if v & MAP_TYPE == 0:
        text = "MAP_FILE" + text[len("%#x" % 0):]
    return text


_rem_any = STRUCT_FORMATS["timespec"]


def _timespec_rem(printer, task, v, args, extra, ret, d):
    """SYS_FUNC(clock_nanosleep): the remainder only when flags is 0 (a
    TIMER_ABSTIME sleep leaves it alone), else its address."""
    if (extra == "rem" and d is not None and d.name == "clock_nanosleep"
            and args[1] & 0xFFFFFFFF):
        return strace_decode.address(v)
    return _rem_any(printer, task, v, args, extra, ret, d)


STRUCT_FORMATS.update({
    "tfdflags": _commented(STRUCT_FORMATS["tfdflags"], "TFD_"),
    "tfdcreate": _commented(STRUCT_FORMATS["tfdcreate"], "TFD_"),
    "tms": _after(_tms_ticks),
    "rfpflags": _remap_flags,
    "timespec": _timespec_rem,
})
_NAMED["ioctlcmd"].update({0x8901: "FIOSETOWN", 0x8902: "SIOCSPGRP", 0x8903: "FIOGETOWN",
                           0x8904: "SIOCGPGRP"})
for _cmd in (0x8901, 0x8902):                           # FIOSETOWN, SIOCSPGRP
    _IOCTL_IN[_cmd] = lambda t, v, o: strace_decode.int_array(t, v, 1)
for _cmd in (0x8903, 0x8904, 0x80045440):               # FIOGETOWN, SIOCGPGRP, TIOCGEXCL
    _IOCTL_OUT[_cmd] = lambda t, v, o: strace_decode.int_array(t, v, 1)
_ioctl_before_tc = SPECIAL_CALLS["ioctl"]


def _ioctl_tc_values(printer, task, args, ret, entry):
    """TCFLSH/TCXONC of no known value: `0x7 /* TC??? */` (printxval's
    dflt "TC???")."""
    shown = _ioctl_before_tc(printer, task, args, ret, entry)
    cmd = args[1] & 0xFFFFFFFF
    if cmd in _IOCTL_VALUES and isinstance(shown, list) and len(shown) > 2 \
            and args[2] & 0xFFFFFFFF not in _IOCTL_VALUES[cmd]:
        shown[2] = "%#x /* TC??? */" % (args[2] & 0xFFFFFFFF)
    return shown


SPECIAL_CALLS["ioctl"] = _ioctl_tc_values


# -- issue 7 part 4 (s14): what comparing sys_cred with the host's strace found: ----
# uids and gids by printuid() (-1 as -1), int arguments as C ints, the
# group lists by print_groups() (at most NGROUPS_MAX, cut at -s).
_NGROUPS_MAX = 65536
_NO_ID = 0xFFFFFFFF


def _uid_text(v):
    """printuid(): (uid_t) -1 is -1, any other id unsigned."""
    v &= 0xFFFFFFFF
    return "-1" if v == _NO_ID else str(v)


def _group_list(printer, task, v, args, extra, ret, d):
    """print_groups(): the list's address when longer than NGROUPS_MAX,
    else print_array() of print_gid(): at most -s entries, then `...`."""
    import struct
    if d is not None and d.name == "getgroups":
        if _failed(ret) or _s32(args[0]) == 0:
            return strace_decode.address(v)
        n = ret
    else:
        n = args[0] & 0xFFFFFFFF
    if not v:
        return "NULL"
    if n > _NGROUPS_MAX:
        return strace_decode.address(v)
    shown = min(n, printer.opts.strsize)
    raw = strace_decode.peek(task, v, 4 * shown) if shown else b""
    if raw is None:
        return strace_decode.address(v)
    items = [_uid_text(g) for g in struct.unpack("<%dI" % shown, raw)]
    return "[" + ", ".join(items + (["..."] if n > shown else [])) + "]"


STRUCT_FORMATS.update({
    "uid": _simple(_uid_text),
    "groups": _group_list,
})
# printxval(schedulers, ..., "SCHED_???"): strace 6.1 names no policy with
# SCHED_RESET_ON_FORK set (`0x40000002 /* SCHED_??? */`)
for _policy in (0x40000001, 0x40000002):
    del _NAMED["schedpol"][_policy]
RESULT_EXTRAS["sched_getscheduler"] = lambda printer, task, args, ret: (
    "%d (%s)" % (ret, _NAMED["schedpol"][ret]) if ret in _NAMED["schedpol"] else None)


# prctl as strace 6.1's SYS_FUNC(prctl) (compared on sys_cred): PR_SET_KEEPCAPS's
# one argument, PR_GET_NO_NEW_PRIVS's four (print_prctl_args), PR_GET_SECUREBITS'
# result as SECBIT_ flags.
_PR_SET_KEEPCAPS, _PR_GET_SECUREBITS, _PR_GET_NO_NEW_PRIVS = 8, 27, 39
_SECBITS = (("SECBIT_NOROOT", 1 << 0), ("SECBIT_NOROOT_LOCKED", 1 << 1),
            ("SECBIT_NO_SETUID_FIXUP", 1 << 2), ("SECBIT_NO_SETUID_FIXUP_LOCKED", 1 << 3),
            ("SECBIT_KEEP_CAPS", 1 << 4), ("SECBIT_KEEP_CAPS_LOCKED", 1 << 5),
            ("SECBIT_NO_CAP_AMBIENT_RAISE", 1 << 6),
            ("SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED", 1 << 7))
_prctl_before = SPECIAL_CALLS["prctl"]
_prctl_result_before = RESULT_EXTRAS["prctl"]


_PR_SET_SECUREBITS, _PR_SET_NO_NEW_PRIVS, _PR_CAP_AMBIENT = 28, 38, 47
_PR_CAP_AMBIENT_OPS = {1: "PR_CAP_AMBIENT_IS_SET", 2: "PR_CAP_AMBIENT_RAISE",
                       3: "PR_CAP_AMBIENT_LOWER", 4: "PR_CAP_AMBIENT_CLEAR_ALL"}
_PR_CAP_AMBIENT_CLEAR_ALL = 4


def _cap_name(cap):
    """printxval(cap, ..., "CAP_???")."""
    names = strace_decode.CAP_NAMES
    return names[cap] if cap < len(names) else "%#x /* CAP_??? */" % cap


def _prctl_more(printer, task, args, ret, entry):
    option = args[0] & 0xFFFFFFFF
    name = _NAMED["prctlopt"].get(option, str(option))
    rest = [_hex0(a) for a in args[1:5]]            # print_prctl_args(): arg2.. in hex
    if option == _PR_SET_KEEPCAPS:
        return [name, str(args[1])]
    if option == _PR_GET_NO_NEW_PRIVS:
        return [name] + rest
    if option == _PR_SET_NO_NEW_PRIVS:
        return [name, str(args[1])] + rest[1:]
    if option == _PR_SET_SECUREBITS:
        text = _flags(args[1], _SECBITS)
        return [name, text + " /* SECBIT_??? */" if text.startswith("0x") else text]
    if option == _PR_CAP_AMBIENT:
        op = args[1] & 0xFFFFFFFF
        shown = [name, _PR_CAP_AMBIENT_OPS.get(op, "%#x /* PR_CAP_AMBIENT_??? */" % op)]
        if op in _PR_CAP_AMBIENT_OPS and op != _PR_CAP_AMBIENT_CLEAR_ALL:
            return shown + [_cap_name(args[2] & 0xFFFFFFFF)] + rest[2:]
        return shown + rest[1:]
    return _prctl_before(printer, task, args, ret, entry)


def _prctl_result_more(printer, task, args, ret):
    if args[0] & 0xFFFFFFFF == _PR_GET_SECUREBITS and isinstance(ret, int) and ret > 0:
        return "%#x (%s)" % (ret, _flags(ret, _SECBITS))
    return _prctl_result_before(printer, task, args, ret)


SPECIAL_CALLS["prctl"] = _prctl_more
RESULT_EXTRAS["prctl"] = _prctl_result_more


# decode_rlimit(): a 64-bit process's struct rlimit is print_rlimit64()'s, so
# getrlimit and setrlimit say RLIM64_INFINITY as prlimit64 does (compared on
# sys_rlimit); FUTEX_WAIT_BITSET's bitset of 0 as C's %#x prints it (futex).
_FUTEX_WAIT_BITSET = 9


def _rlim64(printer, task, v, args, extra, ret, d):
    if extra == "out" and _failed(ret) or not v:
        return strace_decode.address(v)
    return strace_decode.rlimit_struct(task, v, printer.opts, "RLIM64_INFINITY")


STRUCT_FORMATS["rlim"] = _rlim64
_futex_before_wait = SPECIAL_CALLS["futex"]


def _futex_wait_bitset(printer, task, args, ret, entry):
    shown = _futex_before_wait(printer, task, args, ret, entry)
    if args[1] & _FUTEX_CMD_MASK == _FUTEX_WAIT_BITSET and shown and shown[-1] == "0x0":
        shown[-1] = "0"
    return shown


SPECIAL_CALLS["futex"] = _futex_wait_bitset


# What comparing sys_gaps9 and sys_ltpfs with the host's strace found: AT_NO_AUTOMOUNT,
# statx's sync types as flags and an unknown mask commented, TIOCSTI's
# character, settimeofday's struct timezone, setxattr's value.
_TIOCSTI = 0x5412


def _statx_sync_flags(v):
    """statx's flags: AT_STATX_SYNC_AS_STAT for a sync type of 0, else the
    AT_STATX_* bits as printflags() names them, then the AT_* bits."""
    v &= 0xFFFFFFFF
    sync = _flags(v & 0x6000, (("AT_STATX_FORCE_SYNC", 0x2000), ("AT_STATX_DONT_SYNC", 0x4000)),
                  "AT_STATX_SYNC_AS_STAT")
    rest = _flags(v & ~0x6000, strace_decode.AT_FLAG_NAMES, "")
    return sync + ("|" + rest if rest else "")


@strace_decode.struct_at(8)
def _timezone(task, v, raw, opts):
    """print_timezone(): {tz_minuteswest=-60, tz_dsttime=0}."""
    import struct
    return "{tz_minuteswest=%d, tz_dsttime=%d}" % struct.unpack("<ii", raw)


STRUCT_FORMATS.update({
    "atflags": _commented(_simple(lambda v: _flags(v, strace_decode.AT_FLAG_NAMES)), "AT_"),
    "statxflags": _simple(_statx_sync_flags),
    "statxmask": _commented(STRUCT_FORMATS["statxmask"], "STATX_"),
    "timezone": lambda p, t, v, a, e, r, d: (
        strace_decode.address(v) if e == "out" and _failed(r) or not v
        else _timezone(t, v, p.opts)),
})
_NAMED["ioctlcmd"][_TIOCSTI] = "TIOCSTI"
_IOCTL_IN[_TIOCSTI] = lambda t, v, o: strace_decode.buffer(t, v, 1, o)


# name_to_handle_at and open_by_handle_at as strace 6.1's file_handle.c
# (compared on sys_files): struct file_handle's handle_bytes read on entry,
# `=> N` when the call changed it, handle_type and f_handle on success.
_MAX_HANDLE_SZ = 128
_FILE_HANDLE_HEADER = 8                 # handle_bytes, handle_type
_NAME_TO_HANDLE_FLAGS = (("AT_SYMLINK_FOLLOW", 0x400), ("AT_EMPTY_PATH", 0x1000))
_EOVERFLOW = 75


def _file_handle_bytes(task, v):
    """handle_bytes, or None when the header cannot be read."""
    import struct
    raw = strace_decode.peek(task, v, _FILE_HANDLE_HEADER) if v else None
    return None if raw is None else struct.unpack("<Ii", raw)


def _f_handle(task, v, handle_bytes):
    """print_f_handle(): the handle's bytes in hex (at most MAX_HANDLE_SZ,
    then `...`), `???` when they cannot be read."""
    n = min(handle_bytes, _MAX_HANDLE_SZ)
    data = strace_decode.peek(task, v + _FILE_HANDLE_HEADER, n) if n else b""
    if data is None:
        return "???"
    return '"' + "".join("\\x%02x" % b for b in data) + '"' + (
        "..." if handle_bytes > n else "")


def _name_to_handle_at(printer, task, args, ret, entry):
    """SYS_FUNC(name_to_handle_at)."""
    import struct
    flags = _flags(args[4] & 0xFFFFFFFF, _NAME_TO_HANDLE_FLAGS)
    if flags.startswith("0x") and "|" not in flags:
        flags += " /* AT_??? */"
    head = entry[:2] if entry and entry[0] is not None else [
        printer.arg(task, "dirfd", args, 0, None), printer.arg(task, "path", args, 1, None)]
    if entry and entry[2] is not None:
        given = entry[2]
    else:
        header = _file_handle_bytes(task, args[2])
        given = strace_decode.address(args[2]) if header is None else \
            "{handle_bytes=%d" % header[0]
    if not given.startswith("{"):
        return head + [given, strace_decode.address(args[3]), flags]
    if ret is None:                                 # entering: what strace has so far
        return head + [given, strace_decode.address(args[3]), flags]
    text = given
    header = _file_handle_bytes(task, args[2])
    if header is not None and (not _failed(ret) or ret == -_EOVERFLOW):
        if "%d" % header[0] != given[len("{handle_bytes="):]:
            text += " => %d" % header[0]
        if not _failed(ret):
            text += ", handle_type=%d, f_handle=%s" % (header[1],
                                                     _f_handle(task, args[2], header[0]))
    mount_id = strace_decode.address(args[3])
    if not _failed(ret) and args[3]:
        raw = strace_decode.peek(task, args[3], 4)
        if raw is not None:
            mount_id = "[%d]" % struct.unpack("<i", raw)[0]
    return head + [text + "}", mount_id, flags]


def _open_by_handle_at(printer, task, args, ret, entry):
    """SYS_FUNC(open_by_handle_at): the mount fd as a number, the handle
    whole, the open flags."""
    header = _file_handle_bytes(task, args[1])
    handle = strace_decode.address(args[1]) if header is None else \
        "{handle_bytes=%d, handle_type=%d, f_handle=%s}" % (
            header[0], header[1], _f_handle(task, args[1], header[0]))
    return [printer.fd(task, args[0]), handle, printer.arg(task, "oflags", args, 2, ret)]


SPECIAL_CALLS["name_to_handle_at"] = _name_to_handle_at
SPECIAL_CALLS["open_by_handle_at"] = _open_by_handle_at
SPECIAL_SPLITS["name_to_handle_at"] = lambda args: 2
ENTRY_SPECIALS.add("name_to_handle_at")


# personality as strace 6.1's SYS_FUNC(personality) (compared on sys_cred):
# the type by name, then the flags; the result so too, in hex.
_PER_MASK = 0xFF
_PER_QUERY = 0xFFFFFFFF
_PER_TYPES = {0: "PER_LINUX", 1: "PER_SVR4", 2: "PER_SVR3", 3: "PER_SCOSVR3",
              4: "PER_WYSEV386", 5: "PER_ISCR4", 6: "PER_BSD", 7: "PER_XENIX",
              8: "PER_LINUX32", 9: "PER_IRIX32", 0xA: "PER_IRIXN32", 0xB: "PER_IRIX64",
              0xC: "PER_RISCOS", 0xD: "PER_SOLARIS", 0xE: "PER_UW7", 0xF: "PER_OSF4",
              0x10: "PER_HPUX"}
_PER_FLAGS = (("UNAME26", 0x20000), ("ADDR_NO_RANDOMIZE", 0x40000),
              ("FDPIC_FUNCPTRS", 0x80000), ("MMAP_PAGE_ZERO", 0x100000),
              ("ADDR_COMPAT_LAYOUT", 0x200000), ("READ_IMPLIES_EXEC", 0x400000),
              ("ADDR_LIMIT_32BIT", 0x800000), ("SHORT_INODE", 0x1000000),
              ("WHOLE_SECONDS", 0x2000000), ("STICKY_TIMEOUTS", 0x4000000),
              ("ADDR_LIMIT_3GB", 0x8000000))


def _personality_text(pers):
    """The type (printxval(personality_types, ..., "PER_???")), then `|`
    and the flags (printflags(personality_flags)) when there are any."""
    kind = pers & _PER_MASK
    text = _PER_TYPES.get(kind, "%#x /* PER_??? */" % kind)
    if pers & ~_PER_MASK:
        text += "|" + _flags(pers & ~_PER_MASK, _PER_FLAGS)
    return text


def _personality(printer, task, args, ret, entry):
    pers = args[0] & 0xFFFFFFFF
    return ["%#x" % pers if pers == _PER_QUERY else _personality_text(pers)]


SPECIAL_CALLS["personality"] = _personality
RESULT_EXTRAS["personality"] = lambda printer, task, args, ret: (
    "%s (%s)" % (_hex0(ret), _personality_text(ret)) if isinstance(ret, int) and ret >= 0
    else None)


# adjtimex and clock_adjtime as strace 6.1's SYS_FUNC(adjtimex) and
# SYS_FUNC(clock_adjtime) (compared on strace_timex): the struct timex is
# decoded when the call returns (print_timex64(), its address if the call
# failed) and a known clock state names the result (adjtimex_state).
def _timex_arg(task, v, ret, opts):
    return strace_decode.address(v) if ret is None or _failed(ret) else \
        strace_decode.timex(task, v, opts)


def _adjtimex(printer, task, args, ret, entry):
    return [_timex_arg(task, args[0], ret, printer.opts)]


def _clock_adjtime(printer, task, args, ret, entry):
    return [printer.arg(task, "clock", args, 0, ret, None),
            _timex_arg(task, args[1], ret, printer.opts)]


def _adjtimex_result(printer, task, args, ret):
    states = strace_decode.ADJTIMEX_STATE
    return "%d (%s)" % (ret, states[ret]) if isinstance(ret, int) and 0 <= ret < len(states) \
        else None


SPECIAL_CALLS.update({"adjtimex": _adjtimex, "clock_adjtime": _clock_adjtime})
SPECIAL_SPLITS.update({"adjtimex": lambda args: 0, "clock_adjtime": lambda args: 1})
RESULT_EXTRAS.update({"adjtimex": _adjtimex_result, "clock_adjtime": _adjtimex_result})
