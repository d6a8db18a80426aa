"""The strace printer: syscall events as `name(args) = result` lines.

Argument formats (given where each handler is registered):
  d signed int   u unsigned   x hex   p pointer (NULL or hex)   fd, dirfd
  path           a NUL-terminated string
  ibuf:N         bytes the call reads, length in argument N
  obuf:ret       bytes the call wrote, length = the result
  iov:N          an iovec array of N entries (shown by its total length)
  mode (octal), oflags, atflags, prot, mflags, madv, whence, sig, sighow,
  clock, rlimit, rusage, grnd, fcntlcmd, ioctlcmd   decoded flags and names
User memory is only peeked: a buffer not resident is shown as its address.
"""

from kernel.sched.wait import RESTART_NAMES
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


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _flags(value, names, zero="0"):
    parts = [name for name, bit in names if value & bit == bit and bit]
    rest = value
    for name, bit in names:
        if value & bit == bit:
            rest &= ~bit
    if rest:
        parts.append("%#x" % rest)
    return "|".join(parts) or zero


def quote(data, limit=_MAX_STR):
    """strace's string quoting: C escapes, cut at `limit` with '...'."""
    out = []
    for b in data[:limit]:
        c = chr(b)
        if c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == '"' or c == "\\":
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append("\\%o" % b)
    return '"' + "".join(out) + '"' + ("..." if len(data) > limit else "")


class StracePrinter:
    """Sink for "syscall" events, writing strace lines to `out`."""

    def __init__(self, out):
        self.out = out

    def __call__(self, kind, f):
        task = f.get("task")
        # strace -f: once there is more than one task, each line says whose.
        prefix = "" if task is None or task.kernel.next_pid <= 2 else "[pid %5d] " % task.pid
        if kind == "syscall":
            self.out.write(prefix + self.line(f) + "\n")
        elif kind == "signal":
            info = f["info"]
            name = SIGNAL_NAMES.get(info.signo, str(info.signo))
            extra = (", si_addr=%#x" % info.addr) if info.addr is not None else (
                ", si_pid=%d" % info.pid)
            self.out.write(prefix + "--- %s {si_signo=%s, si_code=%d%s} ---\n"
                           % (name, name, info.code, extra))
        elif kind == "printk":                 # the kernel log, as dmesg would show it
            self.out.write("[kernel] %s\n" % f["text"])
        elif kind == "exit":
            status = f["status"]
            if status & 0x7F:
                self.out.write(prefix + "+++ killed by %s +++\n"
                               % SIGNAL_NAMES.get(status & 0x7F, status & 0x7F))
            else:
                self.out.write(prefix + "+++ exited with %d +++\n" % (status >> 8))

    def line(self, f):
        task, d, args, ret = f["task"], f["d"], f["args"], f["ret"]
        if d is None:
            text = "%s(%s)" % (syscall_name(f["nr"]),
                               ", ".join("%#x" % a for a in args[:6]))
            return text + " = " + errno_text(ret)
        shown = [self.arg(task, fmt, args, i, ret) for i, fmt in enumerate(d.args)]
        if d.name == "openat" and not args[2] & (O_CREAT | O_TMPFILE):
            shown.pop()         # strace shows the mode only when a file may be created
        text = "%s(%s)" % (d.name, ", ".join(shown))
        if ret is None:
            return text + " = ?"
        if isinstance(ret, int) and -ret in RESTART_NAMES:
            return text + " = ? " + RESTART_NAMES[-ret]
        if isinstance(ret, int) and ret < 0 and ret > -4096:
            return text + " = " + errno_text(ret)
        return text + " = " + (("%#x" % ret) if d.ret == "x" else str(ret))

    def arg(self, task, fmt, args, i, ret):
        v = args[i]
        kind, _, extra = fmt.partition(":")
        if kind in ("d", "fd"):
            return str(_s32(v)) if kind == "fd" else str(v - (1 << 64) if v >> 63 else v)
        if kind == "u":
            return str(v)
        if kind == "x":
            return "%#x" % v if v else "0"
        if kind == "p":
            return "NULL" if v == 0 else "%#x" % v
        if kind == "dirfd":
            return "AT_FDCWD" if _s32(v) == AT_FDCWD else str(_s32(v))
        if kind == "path":
            s = task.uaccess.peek_string(v) if v else None
            return quote(s, 4096) if s is not None else ("NULL" if v == 0 else "%#x" % v)
        if kind in ("ibuf", "obuf"):
            n = args[int(extra)] if extra != "ret" else (ret if isinstance(ret, int) else 0)
            if kind == "obuf" and (not isinstance(ret, int) or ret < 0):
                return "%#x" % v
            data = task.uaccess.peek(v, min(n, _MAX_STR + 1)) if n > 0 else b""
            return quote(data) if data is not None else "%#x" % v
        if kind == "iov":
            return "[%#x, %d]" % (v, args[int(extra)])
        if kind == "mode":
            return "0%o" % v
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
        if kind in _NAMED:
            return _NAMED[kind].get(v, str(v))
        return "%#x" % v


# -- issue 9 part 5 (shared memory and IPC): SysV command names ------------------
_IPC_CMDS = {0: "IPC_RMID", 1: "IPC_SET", 2: "IPC_STAT", 3: "IPC_INFO"}
_NAMED["shmcmd"] = {**_IPC_CMDS, 11: "SHM_LOCK", 12: "SHM_UNLOCK", 13: "SHM_STAT", 14: "SHM_INFO"}
_NAMED["semcmd"] = {**_IPC_CMDS, 11: "GETPID", 12: "GETVAL", 13: "GETALL", 14: "GETNCNT",
                    15: "GETZCNT", 16: "SETVAL", 17: "SETALL", 18: "SEM_STAT", 19: "SEM_INFO"}
_NAMED["msgcmd"] = {**_IPC_CMDS, 11: "MSG_STAT", 12: "MSG_INFO"}
_NAMED["madv"][9] = "MADV_REMOVE"
