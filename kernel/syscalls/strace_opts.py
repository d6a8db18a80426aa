"""Issue 7 part 4: the strace options of `a53emu run` and strace -c's table.

    -e trace=SET     the calls to show: names, %classes, /regex, ?name,
                     all, none; a leading ! negates the set (strace's syntax;
                     a bare `-e SET` means trace=SET)
    -e signal=SET    the signals whose delivery is shown (names, numbers)
    -f               follow every task ([pid N] once more than one is traced)
    -y               descriptors with their paths: 3</tmp/f>
    -T               the time spent in each call: <0.000012>
    -c               no lines: a table of counts and times at exit
    -s N             strings and buffers cut after N bytes (default 32)
    -a N             align the results at column N (strace's default is 40;
                     a53emu's is 0, the compact form its trace always had)
    -v               structures unabbreviated (stat's every field, execve's
                     environment, getrusage's and uname's every field)
    -yy              -y, and sockets with their endpoints, devices with
                     their numbers: 3<UNIX:[12345->12346]>, </dev/null<char 1:3>>
    -o FILE          the trace to FILE (with -ff: FILE.PID, one per task)
    -ff              -f, and with -o each task's lines in their own file
    -p PID           trace only these guest tasks (with -f their children too)
    -C               the lines and, at exit, -c's table
    -r               the time since the previous line, before each line
    -t, -tt, -ttt    the wall-clock time before each line (seconds; with
                     microseconds; since the epoch); under --deterministic
                     the board's clock, counted from its boot (and -T's and
                     -c's times are the board's too)
    -q, -qq          -qq leaves out the `+++ exited with N +++` lines (-q:
                     a53emu prints no attach/detach messages anyway)

The classes are strace's (TRACE_FILE, TRACE_DESC, ... in its syscall
tables), for the calls an AArch64 kernel has.
"""

import re

from kernel.syscalls.unistd import SYSCALL_NUMBERS
from kernel.uapi import SIGNAL_NAMES

# strace's -a default is 40; a53emu keeps its compact lines unless asked.
DEFAULT_COLUMN = 0
DEFAULT_STRSIZE = 32

_AT_CALLS = ("openat faccessat faccessat2 mknodat mkdirat unlinkat symlinkat linkat "
             "renameat renameat2 readlinkat fchmodat fchownat utimensat newfstatat statx "
             "name_to_handle_at execveat openat2 fchmodat2")
SYSCALL_CLASSES = {
    "file": set((_AT_CALLS + " getcwd chdir chroot truncate statfs setxattr lsetxattr "
                 "getxattr lgetxattr listxattr llistxattr removexattr lremovexattr "
                 "inotify_add_watch umount2 mount pivot_root quotactl acct swapon swapoff "
                 "execve fanotify_mark open_tree move_mount fsconfig fspick "
                 "mount_setattr").split()),
    "desc": set((_AT_CALLS + " read write readv writev pread64 pwrite64 preadv pwritev "
                 "preadv2 pwritev2 close dup dup3 fcntl ioctl flock fsync fdatasync ftruncate "
                 "fallocate fchdir fchmod fchown fstat fstatfs lseek getdents64 epoll_create1 "
                 "epoll_ctl epoll_pwait epoll_pwait2 eventfd2 signalfd4 timerfd_create "
                 "timerfd_settime timerfd_gettime inotify_init1 inotify_add_watch "
                 "inotify_rm_watch pipe2 ppoll pselect6 splice tee vmsplice sendfile "
                 "copy_file_range sync_file_range syncfs fadvise64 readahead mmap memfd_create "
                 "fgetxattr fsetxattr flistxattr fremovexattr open_by_handle_at fanotify_init "
                 "perf_event_open bpf userfaultfd mq_open mq_timedsend mq_timedreceive "
                 "mq_notify mq_getsetattr pidfd_open pidfd_getfd pidfd_send_signal "
                 "io_uring_setup io_uring_enter io_uring_register").split()),
    "memory": set(("brk mmap munmap mremap mprotect madvise mlock mlock2 munlock mlockall "
                   "munlockall mincore msync remap_file_pages mbind get_mempolicy "
                   "set_mempolicy migrate_pages move_pages shmat shmdt pkey_mprotect "
                   "pkey_alloc pkey_free io_setup io_destroy process_madvise "
                   "io_uring_register").split()),
    "process": set(("clone clone3 execve execveat exit exit_group wait4 waitid kill tkill "
                    "tgkill rt_sigqueueinfo rt_tgsigqueueinfo pidfd_send_signal "
                    "unshare").split()),
    "signal": set(("kill tkill tgkill rt_sigaction rt_sigprocmask rt_sigpending "
                   "rt_sigtimedwait rt_sigqueueinfo rt_tgsigqueueinfo rt_sigsuspend "
                   "rt_sigreturn sigaltstack signalfd4 pidfd_send_signal "
                   "io_uring_enter").split()),
    "network": set(("socket socketpair bind listen accept accept4 connect getsockname "
                    "getpeername sendto recvfrom setsockopt getsockopt shutdown sendmsg "
                    "recvmsg sendmmsg recvmmsg").split()),
    "ipc": set(("msgget msgsnd msgrcv msgctl semget semop semtimedop semctl shmget shmat "
                "shmctl shmdt").split()),
    "creds": set(("getuid getgid geteuid getegid setuid setgid setreuid setregid "
                  "setresuid setresgid getresuid getresgid setfsuid setfsgid getgroups "
                  "setgroups capget capset prctl").split()),
    "clock": set(("clock_gettime clock_settime clock_getres clock_adjtime adjtimex "
                  "gettimeofday settimeofday").split()),
    "stat": {"newfstatat", "statx"},
    "fstat": {"fstat", "newfstatat", "statx"},
    "%stat": {"fstat", "newfstatat", "statx"},
    "statfs": {"statfs"},
    "fstatfs": {"fstatfs"},
    "%statfs": {"statfs", "fstatfs"},
}


# The class names strace still takes without the % (and "net").
_OLD_CLASS_NAMES = {"file": "file", "process": "process", "network": "network",
                    "net": "network", "signal": "signal", "ipc": "ipc", "desc": "desc",
                    "memory": "memory"}


class UsageError(ValueError):
    """A bad strace option: `a53emu run` prints it as a one-line usage error."""


def _negated(text):
    if text.startswith("!"):
        return True, text[1:]
    return False, text


def parse_trace_set(text, known=SYSCALL_NUMBERS):
    """qualify_trace(): the set of call names `text` selects, or None for all."""
    neg, text = _negated(text)
    chosen = set()
    everything = set(known)
    for item in text.split(","):
        if not item:
            continue
        if item == "all":
            chosen |= everything
        elif item == "none":
            pass
        elif item.startswith("%"):
            cls = SYSCALL_CLASSES.get(item[1:])
            if cls is None:
                raise UsageError("invalid system call class '%s'" % item)
            chosen |= cls & everything
        elif item.startswith("/"):
            try:
                pattern = re.compile(item[1:])
            except re.error as e:
                raise UsageError("invalid regular expression '%s': %s" % (item[1:], e))
            chosen |= {n for n in everything if pattern.search(n)}
        elif item.startswith("?"):
            chosen |= {item[1:]} & everything
        elif item in everything:
            chosen.add(item)
        elif item in _OLD_CLASS_NAMES:      # strace's names from before the %
            chosen |= SYSCALL_CLASSES[_OLD_CLASS_NAMES[item]] & everything
        else:
            raise UsageError("invalid system call '%s'" % item)
    return everything - chosen if neg else chosen


_SIGNAL_NUMBERS = {name: sig for sig, name in SIGNAL_NAMES.items()}


def parse_signal_set(text):
    """qualify_signals(): the signal numbers `text` selects."""
    neg, text = _negated(text)
    chosen = set()
    for item in text.split(","):
        if not item:
            continue
        if item == "all":
            chosen |= set(range(1, 65))
        elif item == "none":
            pass
        elif item.isdigit() and 1 <= int(item) <= 64:
            chosen.add(int(item))
        else:
            name = item.upper()
            name = name if name.startswith("SIG") else "SIG" + name
            if name not in _SIGNAL_NUMBERS:
                raise UsageError("invalid signal '%s'" % item)
            chosen.add(_SIGNAL_NUMBERS[name])
    return set(range(1, 65)) - chosen if neg else chosen


class StraceOptions:
    """What the strace options chose; a53emu's defaults when none are given."""

    def __init__(self):
        self.calls = None           # -e trace=: a set of names, None for every call
        self.signals = None         # -e signal=: a set of numbers, None for every signal
        self.follow = True          # see from_args: `--trace syscall` alone follows all
        self.fd_paths = False       # -y
        self.timing = False         # -T
        self.summary = False        # -c
        self.strsize = DEFAULT_STRSIZE
        self.column = DEFAULT_COLUMN
        self.verbose = False        # -v
        self.output = None          # -o FILE
        self.separately = False     # -ff with -o: FILE.PID
        self.pids = None            # -p: a set of guest pids, None for the program
        self.summary_too = False    # -C: the lines as well as the table
        self.relative = False       # -r
        self.timestamps = 0         # -t, -tt, -ttt
        self.quiet = 0              # -q, -qq, -qqq
        self.attach_messages = False  # "strace: Process N attached" (from_args)

    def wants_call(self, name):
        return self.calls is None or name in self.calls

    def wants_signal(self, signo):
        return self.signals is None or signo in self.signals

    def qualify(self, expr):
        """One -e EXPR: trace=SET, signal=SET (or signals=), or a bare SET."""
        key, eq, value = expr.partition("=")
        if not eq:
            key, value = "trace", expr
        if key in ("trace", "t"):
            calls = parse_trace_set(value)
            self.calls = calls if self.calls is None else self.calls | calls
        elif key in ("signal", "signals", "s"):
            sigs = parse_signal_set(value)
            self.signals = sigs if self.signals is None else self.signals | sigs
        else:
            raise UsageError("-e %s: a53emu supports trace= and signal=" % expr)

    @classmethod
    def from_args(cls, exprs=(), follow=False, fd_paths=False, timing=False, summary=False,
                  strsize=None, column=None, verbose=False, output=None, pids=(),
                  summary_too=False, relative=False, timestamps=0, quiet=0):
        """The options of `a53emu run` (follow, fd_paths, timestamps and
        quiet count their letters: -ff is 2, -yy is 2).  With none of them
        the trace follows every task, as a53emu's trace always did; any of
        them asks for strace's own behaviour, where only -f follows the
        children."""
        opts = cls()
        given = bool(exprs) or fd_paths or timing or summary or strsize is not None \
            or column is not None or verbose or output is not None or bool(pids) \
            or summary_too or relative or timestamps or quiet
        opts.follow = bool(follow) or not given
        if summary_too and summary:
            raise UsageError("-c and -C are mutually exclusive")
        if follow and follow > 1 and (summary or summary_too):
            raise UsageError("(-c or -C) and -ff are mutually exclusive")
        opts.verbose, opts.output = bool(verbose), output
        opts.separately = bool(follow) and follow > 1 and output is not None
        opts.summary_too, opts.relative = bool(summary_too), bool(relative)
        opts.timestamps, opts.quiet = min(int(timestamps or 0), 3), int(quiet or 0)
        # strace's "Process N attached" lines: asked for by any strace option, off with -q
        opts.attach_messages = (given or bool(follow)) and not opts.quiet
        if pids:
            opts.pids = parse_pids(pids)
        for expr in exprs:
            opts.qualify(expr)
        opts.fd_paths, opts.timing = int(fd_paths or 0), timing
        opts.summary = summary or opts.summary_too
        if strsize is not None:
            opts.strsize = _count(strsize, "-s wants a size of 0 or more")
        if column is not None:
            opts.column = _count(column, "-a wants a column of 0 or more")
        return opts


def parse_pids(texts):
    """-p: process ids separated by commas or spaces, in one or more -p."""
    pids = set()
    for text in texts:
        for item in re.split(r"[,\s]+", str(text).strip()):
            if not item.isdigit() or int(item) <= 0:
                raise UsageError("-p wants process ids, not %r" % text)
            pids.add(int(item))
    return pids


def _count(value, usage):
    """A number of 0 or more, from the command line (a string) or a caller."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise UsageError("%s, not %r" % (usage, value))
    if n < 0:
        raise UsageError("%s, not %r" % (usage, value))
    return n


class SyscallSummary:
    """strace -c: calls, errors and time per call name, printed as strace's
    call_summary() table, sorted by time (most first)."""

    def __init__(self):
        self.rows = {}          # name -> [seconds, calls, errors]

    def add(self, name, seconds, error):
        row = self.rows.setdefault(name, [0.0, 0, 0])
        row[0] += seconds
        row[1] += 1
        row[2] += 1 if error else 0

    def format(self):
        line = "------ ----------- ----------- --------- --------- ----------------\n"
        out = ["% time     seconds  usecs/call     calls    errors syscall\n", line]
        total = sum(r[0] for r in self.rows.values())
        calls = sum(r[1] for r in self.rows.values())
        errors = sum(r[2] for r in self.rows.values())
        for name, (secs, n, errs) in sorted(self.rows.items(), key=lambda kv: -kv[1][0]):
            out.append(_summary_row(100.0 * secs / total if total else 0.0, secs, n, errs, name))
        out.append(line)
        out.append(_summary_row(100.0, total, calls, errors, "total"))
        return "".join(out)


def _summary_row(percent, secs, calls, errors, name):
    """One row: `%6.2f %11.6f %11lu %9u %9.u %s` (errors blank when none)."""
    usecs = int(secs * 1e6 / calls) if calls else 0
    return "%6.2f %11.6f %11d %9d %9s %s\n" % (percent, secs, usecs, calls,
                                                 str(errors) if errors else "", name)
