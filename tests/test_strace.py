"""Issue 7 part 4: the syscall trace is strace's, structure for structure.

userland/src/strace_calls.c makes calls whose arguments strace decodes as
structures (stat, statx, statfs, iovec, sigaction, sigset, timespec,
rlimit, pollfd, msghdr, wait status, clone), with strings to escape and to
cut, octal modes, flags, descriptors and errors.  It is built for the host
(`make host`) and run under the real strace (/usr/bin/strace), and built
for AArch64 (glibc, as the host's libc) and run under `a53emu run` with the
same strace options.  From the marker call (write(-1, "strace-marker", 13))
on, the two traces must be the same line for line after normalise(), which
removes only what legitimately differs between the two machines; each
rule says why.  Both runs use the same scratch directory, so the paths
printed are the same.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import IN_CI, emu_env, run_a53emu, userland_path
from kernel.syscalls.strace_opts import SyscallSummary, UsageError, parse_signal_set, \
    parse_trace_set

PROGRAM = "strace_calls"
MARKER = 'write(-1, "strace-marker", 13)'
TIMEOUT = 600


def strace_path():
    path = shutil.which("strace")
    if path is None:
        if IN_CI:
            pytest.fail("strace is required in CI (apt-get install strace)")
        pytest.skip("strace not installed: the comparison with the real strace is skipped")
    return path


def binaries(program=PROGRAM):
    host, guest = userland_path("host", program), userland_path("glibc", program)
    for path in (host, guest):
        if not path.exists():
            pytest.fail("%s missing: run `make -C userland all-libcs` (glibc and host)" % path)
    return host, guest


def run_host(options, args, cwd, program=PROGRAM):
    """The host build under the real strace; its trace (stderr) as lines."""
    p = subprocess.run([strace_path()] + options + [str(binaries(program)[0])] + args, cwd=cwd,
                       capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-3000:]
    # strace's own message about a new child is not the trace; written to
    # the same stream, it may cut a line in two.
    return statx_btime_4_14(re.sub(r"(?:%s|strace): Process \d+ attached\n?"
                                   % re.escape(strace_path()), "",
                                   p.stderr.decode(errors="replace")).splitlines(), cwd)


def statx_btime_4_14(lines, cwd):
    """4.14's ext4_getattr() sets STATX_BTIME in stx_mask whatever was
    asked; later kernels only when asked, so the host's trace says
    STATX_BASIC_STATS where 4.14 (and a53emu) say STATX_ALL.  Where the host
    file system keeps a birth time, the host's statx lines get 4.14's mask."""
    from kernel.fs.stat import host_statx_attributes
    if host_statx_attributes(None, str(cwd), True)[2] is None:
        return lines
    out = []
    for line in lines:
        if "statx" in line and re.search(r"stx_mask=STATX_BASIC_STATS(?=[,}|])", line):
            line = re.sub(r"stx_mask=STATX_BASIC_STATS(?=[,}|])", "stx_mask=STATX_ALL", line)
            # -v shows the birth time the mask now has (its value is TIME
            # after normalise())
            line = line.replace(", stx_ctime=", ", stx_btime=TIME, stx_ctime=")
        out.append(line)
    return out


def run_board(options, args, cwd, program=PROGRAM):
    """The AArch64 build under a53emu with the same options."""
    p = run_a53emu(options + [binaries(program)[1]] + args, cwd=cwd, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-3000:]
    # (strace's attach messages are taken out as run_host() does; see
    # test_attach_messages_as_strace for them)
    return re.sub(r"strace: Process \d+ attached\n?", "",
                  p.stderr.decode(errors="replace")).splitlines()


def from_marker(lines):
    """Before the marker are execve, the C library's start-up (x86's
    arch_prctl, glibc's own choices per architecture) and a53emu's loader:
    nothing this program asked for."""
    for i, line in enumerate(lines):
        if MARKER in line:
            return lines[i:]
    raise AssertionError("no marker in the trace:\n" + "\n".join(lines[-40:]))


def normalise(lines):
    out = []
    pids = {}

    ipc_ids = {}

    def ipc_id(kind, number):
        # (msg, sem and shm identifiers are three spaces)
        return ipc_ids.setdefault((kind, number), "%s%d" % (kind.upper(), len(ipc_ids) + 1))

    def pid(number):
        # Process ids: each machine hands out its own; they are named in
        # the order they first appear (the program's, then its child's).
        return pids.setdefault(number, "PID%d" % (len(pids) + 1))

    for line in lines:
        # SIGCHLD with the default action is ignored and never queued
        # (sig_ignored()), unless the task is ptraced: only the real strace
        # sees it.
        if re.search(r"--- SIGCHLD ", line):
            continue
        # Addresses: the two architectures lay out the address space
        # differently (x86's 0x7ffc... stack and 0x55... PIE, AArch64's
        # 0xffff... stack and 0x400000 static text).  Flag values are
        # at most 5 hex digits and stay.
        line = re.sub(r"0x[0-9a-f]{6,}", "ADDR", line)
        # The value F_GETFL returns: O_LARGEFILE is 0100000 on x86-64 and
        # 0400000 on AArch64 (asm/fcntl.h); strace prints the raw number
        # before the decoded names, which are compared.
        line = re.sub(r"= 0x[0-9a-f]+ \(flags ", "= VALUE (flags ", line)
        # SA_RESTORER: x86-64's glibc gives every handler a restorer (the
        # kernel needs one there); AArch64's kernel returns through its own
        # trampoline in the vDSO and glibc sets none.
        line = line.replace("SA_RESTORER|", "").replace("|SA_RESTORER", "")
        line = line.replace("sa_flags=SA_RESTORER", "sa_flags=0")
        line = re.sub(r", sa_restorer=ADDR", "", line)
        # statx's mask: kernels since 5.8 also report STATX_MNT_ID; a53emu
        # is 4.14, which does not.  A kernel-version difference, not an
        # architecture's, and the only one these calls show.
        line = line.replace("|STATX_MNT_ID", "")
        line = re.sub(r", stx_mnt_id=0x[0-9a-f]+", "", line)    # (-v prints the field)
        # Pipe and socket inode numbers are each machine's own.
        line = re.sub(r"(pipe|socket):\[\d+\]", r"\1:[INO]", line)
        # -yy: newer kernels name AF_UNIX stream sockets UNIX-STREAM (their
        # own struct proto since the sockmap work of 5.15); 4.14 calls every
        # AF_UNIX socket UNIX.  Their inode
        # numbers (and their peers') are each machine's own.
        line = line.replace("<UNIX-STREAM:[", "<UNIX:[")
        line = re.sub(r"<(UNIX|TCP|UDP|TCPv6|UDPv6|NETLINK):\[\d+(?=\]|->|,)(->\d+)?",
                      lambda m: "<%s:[INO%s" % (m.group(1), "->INO" if m.group(2) else ""), line)
        # -v: inode numbers, the times of files each run creates, the
        # directory offsets (hash cookies of the host's file system) and
        # statx's attributes_mask (what each kernel version's file system
        # can report) are each machine's own.
        line = re.sub(r"\b(st_ino|stx_ino|d_ino)=\d+", r"\1=INO", line)
        line = re.sub(r"\bd_off=-?\d+", "d_off=OFF", line)
        line = re.sub(r"\b(st_[amc]time)=\d+ /\* [^*]+ \*/, \1_nsec=\d+", r"\1=TIME", line)
        line = re.sub(r"\b(stx_[abcm]time)=\{tv_sec=\d+, tv_nsec=\d+\} /\* [^*]+ \*/",
                      r"\1=TIME", line)
        line = re.sub(r"\bstx_attributes_mask=[\w|]+", "stx_attributes_mask=MASK", line)
        # capabilities Linux added after 4.14 (CAP_PERFMON and CAP_BPF in
        # 5.8, CAP_CHECKPOINT_RESTORE in 5.9): a root host has them, the
        # board's 4.14 kernel does not know them
        line = re.sub(r"\|1<<CAP_(PERFMON|BPF|CHECKPOINT_RESTORE)\b", "", line)
        # sched_getattr's sched_runtime for SCHED_OTHER/BATCH: 6.12's EEVDF
        # reports the task's slice (custom slices, 6.12); 4.14 reports 0
        line = re.sub(r"^(sched_getattr\(.*sched_runtime=)\d+", r"\g<1>0", line)
        # SysV IPC_STAT: the creation/change times are each machine's clock
        line = re.sub(r"\b((?:shm|msg|sem)_ctime)=\d+", r"\1=TIME", line)
        # the time a call with a timeout has left (recvmmsg's "left {...}")
        line = re.sub(r"\(left \{tv_sec=(\d+), tv_nsec=\d+\}\)", r"(left {tv_sec=\1, tv_nsec=NS})",
                      line)
        # -T: the time a call took (Python is slower than silicon).
        line = re.sub(r" <\d+\.\d+>$", " <T>", line)
        line = re.sub(r"^\[pid +(\d+)\] ", lambda m: "[pid %s] " % pid(m.group(1)), line)
        for pattern in (r"(getpid\(\) += )(\d+)", r"(kill\()(\d+)", r"(rt_sigqueueinfo\()(\d+)", r"(si_pid=)(\d+)",
                        # (the pids IPC_STAT reports)
                        r"(shm_cpid=)(\d+)", r"(shm_lpid=)([1-9]\d*)",
                        r"(msg_l[sr]pid=)([1-9]\d*)",
                        r"(wait4\()(\d+)", r"^((?:\[pid \w+\] )?(?:clone|wait4)\(.*\) += )(\d+)"):
            line = re.sub(pattern, lambda m: m.group(1) + pid(m.group(2)), line)
        # getrandom's bytes are random: their form is compared, not their values.
        if line.startswith("getrandom("):
            line = re.sub(r"\\x[0-9a-f]{2}", r"\\xXX", line)
        # SysV IPC identifiers: each machine's own (ipc/util.c's ipc_addid()
        # mixes in a sequence number), named in the order they appear.
        line = re.sub(r"^((?:msg|sem|shm)get\(.*\) += )(\d+)",
                      lambda m: m.group(1) + ipc_id(m.group(1)[:3], m.group(2)), line)
        line = re.sub(r"^((?:msgsnd|msgrcv|msgctl|semop|semtimedop|semctl|shmat|shmctl)\()(\d+)",
                      lambda m: m.group(1) + ipc_id(m.group(1)[:3], m.group(2)), line)
        # The padding before "= " (strace -a 40): a number of another
        # width (a pid) moves it; check_alignment() checks the column.
        line = re.sub(r"^((?:\[pid \w+\] )?\w+\(.*\)) +(= )", r"\1 \2", line)
        out.append(line)
    return out


def check_alignment(lines, column=40):
    """strace's tabto(): the result of a call starts at `column` unless the
    call is longer, then after one space."""
    for line in lines:
        m = re.match(r"^((?:\[pid +\d+\] )?\w+\(.*\)) += ", line)
        if m is None or line.startswith("---"):
            continue
        head = m.group(1) + " "
        want = max(column, len(head))
        assert line.index("= ", len(m.group(1))) == want, line


def test_trace_matches_strace(tmp_path):
    """strace's defaults (no -f, results at column 40) against a53emu with
    `-a 40`: every line from the marker on is the same."""
    host = normalise(from_marker(run_host([], [], tmp_path)))
    assert list(tmp_path.iterdir()) == []
    raw = from_marker(run_board(["-a", "40"], [], tmp_path))
    assert list(tmp_path.iterdir()) == []
    check_alignment(raw)
    assert normalise(raw) == host


def rejoin(lines):
    """-f: strace splits a call that another task's line interrupts into
    `<unfinished ...>` and `<... NAME resumed>`; when that happens depends
    on how the two machines schedule the tasks.  The halves are joined."""
    out = []
    open_call = {}
    for line in lines:
        m = re.match(r"(\[pid +\d+\] )?(.*)", line)
        who, text = m.group(1) or "", m.group(2)
        if text.endswith(" <unfinished ...>"):
            open_call[who.strip() or "main"] = len(out)
            out.append(who + text[:-len(" <unfinished ...>")])
            continue
        r = re.match(r"<\.\.\. \w+ resumed>(.*)", text)
        if r is not None:
            key = who.strip() or "main"
            if key not in open_call and open_call:
                key = next(iter(open_call))      # the prefix changed as the child left
            i = open_call.pop(key)
            out[i] = out[i] + r.group(1)
            continue
        out.append(line)
    return out


def _by_task(lines):
    """Each task's lines in order: the interleaving of two tasks that run
    at once is each machine's scheduler's."""
    tasks = {}
    for line in lines:
        m = re.match(r"\[pid (\w+)\] (.*)", line)
        who, text = (m.group(1), m.group(2)) if m else ("PID1", line)
        tasks.setdefault(who, []).append(text)
    return tasks


def test_follow_fd_paths_and_times_match_strace(tmp_path):
    """-f -y -T -e trace=... -e signal=...: the child's lines with [pid N],
    descriptors with their paths, a time after each call that returns."""
    options = ["-f", "-y", "-T", "-e", "trace=%desc,%process,socketpair,kill",
               "-e", "signal=!SIGUSR2"]
    host = from_marker(run_host(options, ["fork"], tmp_path))
    board = from_marker(run_board(options + ["-a", "40"], ["fork"], tmp_path))
    assert list(tmp_path.iterdir()) == []
    assert _by_task(normalise(rejoin(board))) == _by_task(normalise(rejoin(host)))
    # a53emu's prefixes: [pid N] exactly while two tasks are traced (from
    # the child's first line to its exit), as strace's printleader() does.
    child = [i for i, line in enumerate(board) if line.startswith("[pid ")]
    assert child, board
    first = min(i for i, line in enumerate(board) if line.startswith("[pid     2]"))
    last = max(i for i, line in enumerate(board) if "+++ exited with 3 +++" in line)
    assert all(board[i].startswith("[pid ") for i in range(first, last + 1))
    assert not any(line.startswith("[pid ") for line in board[last + 1:])
    assert any('write(3</' in line and '/f>, "hello\\n", 6) = 6 <' in line for line in board)


def test_filters_select_calls_and_signals(tmp_path):
    """-e trace=%file with negated signals against the real strace."""
    options = ["-e", "trace=%file,umask", "-e", "signal=none"]
    host = normalise(run_host(options, [], tmp_path))
    board = normalise(run_board(options, [], tmp_path))
    # the C library's start-up opens different files on each machine; from
    # the program's first %file call (getcwd) on they are the same
    start = next(i for i, line in enumerate(host) if line.startswith("umask("))
    bstart = next(i for i, line in enumerate(board) if line.startswith("umask("))
    assert board[bstart:] == host[start:]
    assert not any(line.startswith(("write(", "---")) for line in board)
    negated = run_board(["-e", "trace=!%file,%desc,%signal,%network,%memory"], [], tmp_path)
    negated = negated[next(i for i, line in enumerate(negated) if line.startswith("umask(")):]
    assert {line.split("(")[0] for line in negated} == {
        "clock_nanosleep", "clock_getres", "nanosleep", "prlimit64", "getpid", "exit_group",
        "setitimer", "getitimer", "futex", "getresuid", "getrusage", "getuid", "prctl",
        "getgroups", "timer_create", "timer_settime", "timer_delete", "getrandom", "msgget",
        "msgsnd",
        "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl", "shmget", "shmctl",
        "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=%d} ---" % os.getuid(),
        "umask", "+++ exited with 0 +++"}


def test_summary_counts_calls_and_errors_as_strace(tmp_path):
    """-c: strace's table; the calls and errors per name are the same as
    the real strace's (the times are each machine's own, the order follows
    them)."""
    def rows(lines):
        i = lines.index("% time     seconds  usecs/call     calls    errors syscall")
        table = {}
        for line in lines[i + 2:]:
            if line.startswith("------"):
                break
            f = line.split()
            table[f[-1]] = (int(f[3]), int(f[4]) if len(f) == 6 else 0)
        return table
    options = ["-c", "-e", "trace=%desc,%file,%signal,%network,umask"]
    host = rows(run_host(options, [], tmp_path))
    board_lines = run_board(options, [], tmp_path)
    board = rows(board_lines)
    # start-up calls (before the marker) differ per C library: compare the
    # calls only this program makes (the dynamic loader on the host preads
    # its libraries, static glibc on AArch64 reads /proc/self/exe: pread64
    # and readlinkat are not among them)
    for name in ("umask", "getcwd", "writev", "preadv", "fchmod", "dup3",
                 "symlinkat", "mkdirat", "unlinkat", "faccessat", "statx",
                 "statfs", "fstatfs", "rt_sigprocmask", "ppoll", "pipe2", "socketpair",
                 "sendmsg", "recvmsg", "kill", "lseek"):
        assert board.get(name) == host.get(name), name
    assert board_lines[-2].startswith("------ ----------- ")
    assert re.match(r"100\.00 +\d+\.\d{6} +\d+ +\d+ +\d+ total$", board_lines[-1])
    assert not any(line.startswith(("write(", "+++ ", "--- ")) for line in board_lines)


def test_strings_escaped_and_cut_as_strace():
    """string_quote(): three octal digits only before an octal digit; -s."""
    from kernel.syscalls.strace_decode import octal, quote, sigset_text
    assert quote(b"\x018\x019\x01a\x7f7\x80 \x1b[0m") == '"\\18\\19\\1a\\1777\\200 \\33[0m"'
    assert quote(b"x" * 33) == '"' + "x" * 32 + '"...'
    assert quote(b"x" * 32) == '"' + "x" * 32 + '"'
    assert octal(0) == "000" and octal(0o22) == "022" and octal(0o4755) == "04755"
    assert sigset_text((1 << 64) - 1 - (1 << 8)) == "~[KILL]"


def test_bad_filters_are_one_line_usage_errors(tmp_path):
    for args, word in ((["-e", "trace=open"], "open"), (["-e", "trace=%bogus"], "%bogus"),
                       (["-e", "signal=SIGBOGUS"], "SIGBOGUS"), (["-e", "verbose=all"], "verbose"),
                       (["-s", "-1"], "-s"), (["-s", "many"], "-s"), (["-a", "x"], "-a")):
        p = run_a53emu(args + [userland_path("musl", "hello")], cwd=tmp_path)
        err = p.stderr.decode().strip().splitlines()
        assert p.returncode == 2 and len(err) == 1 and word in err[0], (args, err)
    with pytest.raises(UsageError):
        parse_trace_set("/(")
    assert parse_trace_set("!%memory") >= {"read", "openat"}
    assert "brk" not in parse_trace_set("!%memory")
    assert parse_signal_set("USR1,9") == {10, 9}
    assert parse_trace_set("file") == parse_trace_set("%file")


def test_summary_format():
    s = SyscallSummary()
    s.add("write", 0.000009, False)
    s.add("write", 0.000003, True)
    s.add("close", 0.000037, False)
    text = s.format().splitlines()
    assert text[2] == " 75.51    0.000037          37         1           close"
    assert text[3] == " 24.49    0.000012           6         2         1 write"
    assert text[5] == "100.00    0.000049          16         3         1 total"


def _on_pty(command, cwd):
    """Run `command` with stdin on a new pseudo-terminal; its stderr."""
    import pty
    master, slave = pty.openpty()
    try:
        p = subprocess.run(command, cwd=cwd, stdin=slave, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=TIMEOUT, env=emu_env())
    finally:
        os.close(slave)
        os.close(master)
    assert p.returncode == 0, p.stderr
    return p.stderr.decode(errors="replace").splitlines()


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["abbreviated", "verbose"])
def test_terminal_ioctls_match_strace(tmp_path, verbose):
    """TCGETS's termios, TIOCGWINSZ's winsize, FIONREAD's count on a fresh
    pty (the board's terminal calls reach the host's pty, so both see one
    with the same settings); with -v termios' c_line and c_cc too."""
    host_bin, guest_bin = binaries()
    options = verbose + ["-e", "trace=ioctl,exit_group"]
    host = _on_pty([strace_path()] + options + [str(host_bin), "tty"], tmp_path)
    board = _on_pty([sys.executable, "-m", "emu", "run", "-a", "40"] + options
                    + [str(guest_bin), "tty"], tmp_path)
    # the C library's start-up asks about its terminal differently per libc
    start = next(i for i, line in enumerate(host) if line.startswith("ioctl(0, TCGETS, {"))
    bstart = next(i for i, line in enumerate(board) if line.startswith("ioctl(0, TCGETS, {"))
    assert normalise(board[bstart:]) == normalise(host[start:])
    assert any(line.startswith("ioctl(3, TCGETS, ") and "EBADF" in line for line in board)
    if verbose:
        assert any("c_line=N_TTY, c_cc=[[VINTR]=0x3, " in line for line in board), board


# -- the printer in-process: strace -f's split lines -------------------------------------

class _Memory:
    """User memory for the printer: a dict of address -> bytes."""

    def __init__(self, blocks):
        self.blocks = blocks

    def peek(self, addr, length):
        for base, data in self.blocks.items():
            if base <= addr and addr + length <= base + len(data):
                return data[addr - base:addr - base + length]
        return None

    def peek_string(self, addr, limit=256):
        data = self.peek(addr, 1)
        if data is None:
            return None
        for base, block in self.blocks.items():
            if base <= addr < base + len(block):
                return block[addr - base:].split(b"\0", 1)[0]
        return None


def _task(pid, kernel, memory):
    import types
    return types.SimpleNamespace(pid=pid, kernel=kernel, uaccess=memory, files=None, fs=None,
                                 mm=None, core=None)


def test_a_line_cut_by_another_task_is_unfinished_then_resumed():
    """strace -f: A enters read(), B runs write() to the end, A returns:
    A's line is cut as `<unfinished ...>`, B's line follows, then A's
    `<... read resumed>` with what read() filled."""
    import io
    import types
    from kernel.syscalls.strace import StracePrinter
    from kernel.syscalls.strace_opts import StraceOptions
    from kernel.syscalls import read_write  # noqa: F401  (registers read and write)
    from kernel.syscalls.table import _DEFS
    from kernel.syscalls.unistd import SYSCALL_NUMBERS
    read = next(d for d in _DEFS if d.name == "read")
    write = next(d for d in _DEFS if d.name == "write")
    kernel = types.SimpleNamespace()
    memory = _Memory({0x1000: b"data!", 0x2000: b"hi"})
    a, b = _task(1, kernel, memory), _task(2, kernel, memory)
    kernel.init_task = a
    out = io.StringIO()
    printer = StracePrinter(out, StraceOptions.from_args(follow=True))
    rd = dict(nr=SYSCALL_NUMBERS["read"], d=read, args=(3, 0x1000, 64, 0, 0, 0))
    wr = dict(nr=SYSCALL_NUMBERS["write"], d=write, args=(1, 0x2000, 2, 0, 0, 0))
    printer("sys_enter", dict(rd, task=a))
    printer("sys_enter", dict(wr, task=b))
    printer("syscall", dict(wr, task=b, ret=2))
    printer("syscall", dict(rd, task=a, ret=5))
    printer("sys_enter", dict(rd, task=a))
    printer("syscall", dict(rd, task=a, ret=5))
    printer("exit", dict(task=b, status=0))
    printer("sys_enter", dict(rd, task=a))
    printer("syscall", dict(rd, task=a, ret=-9))
    assert out.getvalue().splitlines() == [
        "read(3,  <unfinished ...>",
        '[pid     2] write(1, "hi", 2) = 2',
        '[pid     1] <... read resumed>"data!", 64) = 5',
        '[pid     1] read(3, "data!", 64) = 5',
        "[pid     2] +++ exited with 0 +++",
        "read(3, 0x1000, 64) = -1 EBADF (Bad file descriptor)",
    ]


def test_filters_and_summary_in_process():
    """-e trace= drops the other calls' lines, -c prints no line at all."""
    import io
    import types
    from kernel.syscalls.strace import StracePrinter
    from kernel.syscalls.strace_opts import StraceOptions
    from kernel.syscalls import read_write  # noqa: F401  (registers read and write)
    from kernel.syscalls.table import _DEFS
    from kernel.syscalls.unistd import SYSCALL_NUMBERS
    write = next(d for d in _DEFS if d.name == "write")
    kernel = types.SimpleNamespace()
    a = _task(1, kernel, _Memory({0x2000: b"hi"}))
    kernel.init_task = a
    wr = dict(nr=SYSCALL_NUMBERS["write"], d=write, args=(1, 0x2000, 2, 0, 0, 0), task=a)
    out = io.StringIO()
    printer = StracePrinter(out, StraceOptions.from_args(["trace=!write"]))
    printer("sys_enter", wr)
    printer("syscall", dict(wr, ret=2))
    assert out.getvalue() == ""
    printer = StracePrinter(out, StraceOptions.from_args(summary=True))
    printer("sys_enter", wr)
    printer("syscall", dict(wr, ret=-9))
    assert out.getvalue() == ""
    assert printer.summary.rows["write"][1:] == [1, 1]


class _RandomMemory:
    """User memory where every readable byte is random (and some reads fail)."""

    def __init__(self, rng):
        self.rng = rng

    def peek(self, addr, length):
        if addr < 0x1000 or self.rng.random() < 0.1:
            return None
        return self.rng.randbytes(length)

    def peek_string(self, addr, limit=256):
        data = self.peek(addr, min(limit, 64))
        return None if data is None else data.split(b"\0", 1)[0]


def test_every_format_survives_random_arguments_and_memory():
    """Each registered call, with random registers, random memory and each
    kind of result: one line, never an exception (a tracer must not kill
    the run it watches)."""
    import random
    import types
    from kernel.syscalls.table import SyscallTable, _DEFS
    SyscallTable(types.SimpleNamespace(trace=None))     # imports every handler module
    for seed in range(6):
        _random_round(random.Random(seed), _DEFS)


def _random_round(rng, defs):
    import io
    import types
    from kernel.syscalls.strace import StracePrinter
    from kernel.syscalls.strace_opts import StraceOptions
    kernel = types.SimpleNamespace()
    task = _task(1, kernel, _RandomMemory(rng))
    kernel.init_task = task
    for opts in (StraceOptions(), StraceOptions.from_args(follow=True, fd_paths=True,
                                                          timing=True, strsize=4, column=40),
                 StraceOptions.from_args(verbose=True, fd_paths=2, timestamps=3,
                                         relative=True, quiet=2, summary_too=True)):
        out = io.StringIO()
        printer = StracePrinter(out, opts)
        for d in defs:
            for ret in (0, 1, 7, 4096, -9, -22, -512, None):
                args = tuple(rng.choice((0, 1, 3, -1 & (2 ** 64 - 1), 0x2000,
                                         rng.getrandbits(64), rng.getrandbits(32)))
                             for _ in range(6))
                f = dict(task=task, nr=d.nr, d=d, args=args)
                printer("sys_enter", f)
                printer("syscall", dict(f, ret=ret))
        lines = out.getvalue().splitlines()
        assert len(lines) == 8 * len(defs)
        assert all(" = " in line or line.endswith("= ?") for line in lines)


# -- issue 7 part 4, continued: more structures and strace's other options -----------------

MORE = "strace_more"


def _compare(options, args, tmp_path, program=PROGRAM, board_options=("-a", "40")):
    """The host under strace and the board with the same options, from the
    marker on, normalised: (host lines, board lines)."""
    host = normalise(from_marker(run_host(options, args, tmp_path, program)))
    board = normalise(from_marker(run_board(options + list(board_options), args, tmp_path,
                                            program)))
    assert list(tmp_path.iterdir()) == []
    return host, board


def test_more_structures_match_strace(tmp_path):
    """capget/capset's header and data, sched_attr, the IPC_STAT and IPC_SET
    buffers, sendmmsg/recvmmsg's vectors, terminal ioctls refused by a pipe
    (their arguments decoded all the same), socket()'s IPPROTO_IP."""
    host, board = _compare([], ["caps", "sched", "ipc", "mmsg", "ioctl", "inet"], tmp_path, MORE)
    # the port bind(0) picked: each run's own (the host kernel's choice both times)
    host, board = ([re.sub(r"htons\(\d+\)", "htons(PORT)", line) for line in lines]
                   for lines in (host, board))
    assert board == host
    text = "\n".join(board)
    for shown in ("capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=",
                  "capget({version=0 /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}, NULL) = 0",
                  "sched_setattr(0, {size=48, sched_policy=SCHED_BATCH, sched_flags=0, "
                  "sched_nice=5,",
                  "shmctl(SHM1, IPC_SET, {shm_perm={uid=", "msg_qbytes=8192}) = 0",
                  "sem_nsems=2}) = 0", ", msg_len=36}], 3, MSG_DONTWAIT) = 3",
                  "ioctl(3, TCFLSH, TCIFLUSH) = -1 ENOTTY", "ioctl(3, FIONREAD, [1]) = 0",
                  "socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3"):
        assert shown in text, shown


def test_verbose_matches_strace(tmp_path):
    """-v: stat's every field, execve's environment, the directory entries
    of getdents64 (inode numbers, file times and directory offsets are
    each machine's own: see normalise())."""
    host, board = _compare(["-v"], [], tmp_path)
    assert board == host
    assert any(line.startswith('execve("/nonexistent/strace-calls", ["/nonexistent/strace-calls",'
                               ' "an argument"], ["A=1", "B=2"])') for line in board)
    assert any("st_nlink=1, st_uid=" in line and "st_atime=TIME" in line for line in board)
    assert any('d_type=DT_DIR, d_name=".."}]' in line for line in board)


def test_decode_fds_all_matches_strace(tmp_path):
    """-yy: a socket pair as UNIX:[ino->peer], /dev/null with its device
    numbers (stdin here), pipes as -y shows them."""
    host, board = _compare(["-yy"], [], tmp_path)
    assert board == host
    assert any("socketpair(AF_UNIX, SOCK_STREAM, 0, [3<UNIX:[INO->INO]>, 4<UNIX:[INO->INO]>])"
               in line for line in board)
    assert any("cmsg_data=[0</dev/null<char 1:3>>]" in line for line in board)


def test_decode_fds_all_shows_inet_endpoints(tmp_path):
    """-yy on the board's TCP sockets: the inode until sock_diag would list
    the socket (4.14 lists listening and connected ones), then the
    endpoints; the host's loopback ports are the board's under --net
    loopback."""
    p = run_a53emu(["-yy", "-e", "trace=listen,accept4,connect,getsockname,write,close",
                    userland_path("glibc", MORE), "inet"], cwd=tmp_path, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    lines = from_marker(p.stderr.decode().splitlines())
    listen = next(line for line in lines if line.startswith("listen("))
    assert re.match(r"listen\(3<TCP:\[\d+\]>, 1\) = 0$", listen), listen
    port = int(re.search(r"htons\((\d+)\)", next(
        line for line in lines if line.startswith("getsockname("))).group(1))
    accept = next(line for line in lines if line.startswith("accept4("))
    m = re.match(r"accept4\(3<TCP:\[127\.0\.0\.1:%d\]>, NULL, NULL, 0\) = "
                 r"5<TCP:\[127\.0\.0\.1:%d->127\.0\.0\.1:(\d+)\]>$" % (port, port), accept)
    assert m, accept
    assert any(line.startswith('write(4<TCP:[127.0.0.1:%s->127.0.0.1:%d]>, "y", 1) = 1'
                               % (m.group(1), port)) for line in lines), lines
    assert any(re.match(r"write\(6<UDP:\[\d+\]>, \"\", 0\) = -1 EDESTADDRREQ", line)
               for line in lines), lines


TIMESTAMP_FORMS = {"-t": r"\d\d:\d\d:\d\d ", "-tt": r"\d\d:\d\d:\d\d\.\d{6} ",
                   "-ttt": r"\d{10}\.\d{6} ", "-r": r" *\d+\.\d{6} "}


@pytest.mark.parametrize("option", sorted(TIMESTAMP_FORMS))
def test_timestamps_match_strace(tmp_path, option):
    """-t, -tt, -ttt, -r: a time before every line in strace's form (the
    times are each machine's own; the rest of the line is compared)."""
    form = TIMESTAMP_FORMS[option]

    def strip(lines):
        for line in lines:
            assert re.match(form, line), (option, line)
        return [re.sub("^" + form, "", line) for line in lines]
    options = [option, "-e", "trace=%desc,%signal,umask"]
    host = normalise(strip(from_marker(run_host(options, [], tmp_path))))
    board = normalise(strip(from_marker(run_board(options + ["-a", "40"], [], tmp_path))))
    assert board == host


def test_deterministic_timestamps_repeat(tmp_path):
    """Under --deterministic -tt, -r and -T come from the board's clock: two
    runs print the same trace, counted from the board's boot."""
    runs = []
    for _ in range(2):
        p = run_a53emu(["--deterministic", "-ttt", "-T", "-e", "trace=write,exit_group",
                        userland_path("glibc", MORE)], cwd=tmp_path, timeout=TIMEOUT)
        assert p.returncode == 0, p.stderr
        runs.append(p.stderr.decode().splitlines())
    assert runs[0] == runs[1]
    assert re.match(r"0\.\d{6} write\(-1, \"strace-marker\", 13\) = -1 EBADF "
                    r"\(Bad file descriptor\) <0\.000000>$", runs[0][0]), runs[0]
    p = run_a53emu(["--deterministic", "-r", "-e", "trace=write,exit_group",
                    userland_path("glibc", MORE)], cwd=tmp_path, timeout=TIMEOUT)
    lines = p.stderr.decode().splitlines()
    assert lines[0].startswith("     0.000000 write(-1, ") and len(lines) == 3, lines


def test_output_file_matches_strace(tmp_path):
    """-o FILE: the trace in FILE (nothing on stderr), as strace writes it."""
    run_host(["-o", "host.trace"], [], tmp_path)
    board_err = run_board(["-o", "board.trace", "-a", "40"], [], tmp_path)
    assert not any(MARKER in line for line in board_err)
    host = normalise(from_marker(statx_btime_4_14(
        (tmp_path / "host.trace").read_text().splitlines(), tmp_path)))
    board = normalise(from_marker((tmp_path / "board.trace").read_text().splitlines()))
    assert board == host


def test_output_separately_matches_strace(tmp_path):
    """-ff -o FILE: FILE.PID for each process, without [pid N] prefixes."""
    options = ["-ff", "-e", "trace=%process,write"]
    host_dir, board_dir = tmp_path / "host", tmp_path / "board"
    host_dir.mkdir()
    board_dir.mkdir()
    run_host(options + ["-o", str(host_dir / "t")], ["fork"], tmp_path)
    run_board(options + ["-o", str(board_dir / "t"), "-a", "40"], ["fork"], tmp_path)

    def traces(d):
        files = sorted(d.iterdir(), key=lambda f: int(f.name.split(".")[1]))
        return [normalise(rejoin(f.read_text().splitlines())) for f in files]
    host, board = traces(host_dir), traces(board_dir)
    assert len(board) == len(host) == 2
    assert normalise(from_marker(board[0])) == normalise(from_marker(host[0]))
    assert board[1] == host[1]
    assert not any(line.startswith("[pid") for t in board for line in t)
    assert board[1][-1] == "+++ exited with 3 +++"


def test_summary_with_lines_matches_strace(tmp_path):
    """-C: the lines, then -c's table (the calls and errors per name the
    real strace's)."""
    options = ["-C", "-e", "trace=%desc,umask"]
    host = run_host(options, [], tmp_path)
    board = run_board(options + ["-a", "40"], [], tmp_path)
    head = "% time     seconds  usecs/call     calls    errors syscall"
    h, b = host.index(head), board.index(head)
    assert normalise(from_marker(board[:b])) == normalise(from_marker(host[:h]))

    def rows(lines):
        table = {}
        for line in lines[2:]:
            if line.startswith("------"):
                break
            f = line.split()
            table[f[-1]] = (int(f[3]), int(f[4]) if len(f) == 6 else 0)
        return table
    for name in ("umask", "writev", "preadv", "dup3", "ppoll", "pipe2", "lseek", "getdents64"):
        assert rows(board[b:]).get(name) == rows(host[h:]).get(name), name


def test_quiet_exit_lines_match_strace(tmp_path):
    """-qq: no `+++ exited with N +++` line for either process."""
    options = ["-f", "-qq", "-e", "trace=%process,write"]
    host = normalise(rejoin(from_marker(run_host(options, ["fork"], tmp_path))))
    board = normalise(rejoin(from_marker(run_board(options + ["-a", "40"], ["fork"], tmp_path))))
    assert _by_task(board) == _by_task(host)
    assert not any("+++" in line for line in board)


def test_trace_only_chosen_pids(tmp_path):
    """-p PID: only that guest task (no execve line: the trace starts as
    if strace attached); with -f its children too."""
    def lines(options):
        p = run_a53emu(options + ["-e", "trace=write,exit_group,wait4",
                                  userland_path("glibc", PROGRAM), "fork"],
                       cwd=tmp_path, timeout=TIMEOUT)
        assert p.returncode == 0, p.stderr
        return p.stderr.decode().splitlines()
    child = lines(["-p", "2"])
    assert child == ["strace: Process 2 attached",
                     'write(-1, "child", 5) = -1 EBADF (Bad file descriptor)',
                     "exit_group(3) = ?", "+++ exited with 3 +++"]
    parent = lines(["-p", "1"])
    assert not any("child" in line or line.startswith("execve(") for line in parent)
    assert parent[-1] == "+++ exited with 0 +++"
    both = lines(["-p", "1", "-f"])
    assert any(line.startswith("[pid     2] write(-1, \"child\"") for line in both)
    p = run_a53emu(["-p", "x", userland_path("musl", "hello")], cwd=tmp_path)
    assert p.returncode == 2 and b"-p" in p.stderr


def test_small_printers():
    """makedev() prints a 0 as C's %#x does; the capability sets and the
    -p list as strace reads them."""
    from kernel.syscalls.strace_decode import cap_set_text, makedev
    from kernel.syscalls.strace_opts import StraceOptions, parse_pids
    assert makedev(0) == "makedev(0, 0)" and makedev(6) == "makedev(0, 0x6)"
    assert makedev(os.makedev(1, 3)) == "makedev(0x1, 0x3)"
    assert cap_set_text(0) == "0"
    assert cap_set_text(1 << 0 | 1 << 5) == "1<<CAP_CHOWN|1<<CAP_KILL"
    assert cap_set_text(1 << 45) == "0x200000000000"
    assert parse_pids(["1,2", "3 4"]) == {1, 2, 3, 4}
    with pytest.raises(UsageError):
        parse_pids(["0"])
    with pytest.raises(UsageError):
        StraceOptions.from_args(summary=True, summary_too=True)      # -c with -C
    with pytest.raises(UsageError):
        StraceOptions.from_args(follow=2, summary=True)             # -ff with -c


def test_options_in_process(tmp_path):
    """-ff -o: a file per task, no [pid N], a line never cut by another
    task's; -qq: no exit line; -r/-ttt under --deterministic: the board's
    clock; -p: only the chosen task and, with -f, its descendants."""
    import io
    import types
    from kernel.syscalls.strace import StracePrinter
    from kernel.syscalls.strace_opts import StraceOptions
    from kernel.syscalls import read_write  # noqa: F401  (registers read and write)
    from kernel.syscalls.table import _DEFS
    from kernel.syscalls.unistd import SYSCALL_NUMBERS
    read = next(d for d in _DEFS if d.name == "read")
    write = next(d for d in _DEFS if d.name == "write")
    now = [2_500_000]
    kernel = types.SimpleNamespace(sched=types.SimpleNamespace(deterministic=True,
                                                               clock_ns=lambda: now[0]))
    memory = _Memory({0x1000: b"data!", 0x2000: b"hi"})
    a, b = _task(1, kernel, memory), _task(2, kernel, memory)
    c = _task(3, kernel, memory)
    for t, parent in ((a, None), (b, a), (c, None)):
        t.group_leader, t.real_parent = t, parent
    kernel.init_task = a
    rd = dict(nr=SYSCALL_NUMBERS["read"], d=read, args=(3, 0x1000, 64, 0, 0, 0))
    wr = dict(nr=SYSCALL_NUMBERS["write"], d=write, args=(1, 0x2000, 2, 0, 0, 0))

    def run(opts):
        now[0] = 2_500_000
        out = io.StringIO()
        printer = StracePrinter(out, opts)
        printer("sys_enter", dict(rd, task=a))
        now[0] += 1_000_000
        for t in (b, c):
            printer("sys_enter", dict(wr, task=t))
            printer("syscall", dict(wr, task=t, ret=2))
        printer("syscall", dict(rd, task=a, ret=5))
        for t in (b, c, a):
            printer("exit", dict(task=t, status=0))
        printer.close()
        return printer, out.getvalue().splitlines()

    base = str(tmp_path / "t")
    printer, lines = run(StraceOptions.from_args(follow=2, output=base, quiet=2))
    assert lines == []
    assert (tmp_path / "t.1").read_text().splitlines() == ['read(3, "data!", 64) = 5']
    assert (tmp_path / "t.2").read_text().splitlines() == ['write(1, "hi", 2) = 2']
    _, lines = run(StraceOptions.from_args(timestamps=3, relative=True, follow=True))
    assert lines[0] == "0.002500      0.000000 read(3,  <unfinished ...>"
    assert lines[1] == '[pid     2] 0.003500      0.001000 write(1, "hi", 2) = 2'
    _, lines = run(StraceOptions.from_args(pids=["2"]))
    assert lines == ['write(1, "hi", 2) = 2', "+++ exited with 0 +++"]
    _, lines = run(StraceOptions.from_args(pids=["1"], follow=True))
    assert not any("pid     3" in line for line in lines)
    assert any(line.startswith("[pid     2] write(") for line in lines)


def test_verbose_uname_and_rusage_in_process():
    """-v: uname's six names (without: two, then ...), getrusage's fourteen
    counters after the two times, as strace prints them."""
    import struct
    import types
    from kernel.syscalls import strace_decode
    from kernel.syscalls.strace_opts import StraceOptions
    names = [b"Linux", b"board", b"4.14.336", b"#1 SMP", b"aarch64", b"(none)"]
    uts = b"".join(n.ljust(65, b"\0") for n in names)
    ru = struct.pack("<4q14q", 0, 1391, 0, 0, *range(1, 15))
    task = _task(1, types.SimpleNamespace(), _Memory({0x1000: uts, 0x2000: ru}))
    brief, full = StraceOptions(), StraceOptions.from_args(verbose=True)
    assert strace_decode.utsname(task, 0x1000, brief) == \
        '{sysname="Linux", nodename="board", ...}'
    assert strace_decode.utsname(task, 0x1000, full) == (
        '{sysname="Linux", nodename="board", release="4.14.336", version="#1 SMP", '
        'machine="aarch64", domainname="(none)"}')
    assert strace_decode.rusage(task, 0x2000, brief) == \
        "{ru_utime={tv_sec=0, tv_usec=1391}, ru_stime={tv_sec=0, tv_usec=0}, ...}"
    assert strace_decode.rusage(task, 0x2000, full).endswith(
        "ru_msgrcv=11, ru_nsignals=12, ru_nvcsw=13, ru_nivcsw=14}")
    assert strace_decode.rusage(task, 0x3000, full) == "0x3000"
