"""Issue 7 part 4, against the real strace: its attach messages (`strace:
Process N attached` under -f and -p, none with -q or with -o FILE and a
command) and the decodings a comparison of userland/src/sys_time.c's and
fork_cow.c's traces found different (siginfo of SI_KERNEL and SI_TIMER,
sigevent, PR_CAPBSET_*, CLOCK_SGI_CYCLE, ERESTART* texts, rt_sigreturn's
result as an errno).  Each program is built for the host and for AArch64
(glibc) and run under /usr/bin/strace and `a53emu run` with the same
options, in the same scratch directory."""

import re
import subprocess

import pytest

from conftest import run_a53emu, userland_path
from test_strace import binaries, rejoin, strace_path

ATTACHED = re.compile(r"strace: Process (\d+) attached\n")


def host_trace(options, program, cwd):
    p = subprocess.run([strace_path()] + options + [str(binaries(program)[0])], cwd=cwd,
                       capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-3000:]
    return p.stderr.decode(errors="replace").replace(strace_path() + ": ", "strace: ")


def board_trace(options, program, cwd):
    p = run_a53emu(options + [binaries(program)[1]], cwd=cwd, timeout=300)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-3000:]
    return p.stderr.decode(errors="replace")


def assert_same_lines(host, board, patterns, lines, tmp_path):
    """The runs left nothing in tmp_path, and for each pattern the lines
    lines(text, pattern) picks from the host's trace are some, and the
    board's are the same."""
    assert list(tmp_path.iterdir()) == []
    for pattern in patterns:
        want = lines(host, pattern)
        assert want, pattern
        assert lines(board, pattern) == want, pattern


def test_attach_messages_as_strace(tmp_path):
    """-f: one `strace: Process N attached` per child, written where
    strace's error_msg() writes it: after the part of the parent's clone
    line written so far, the line going on after it."""
    opts = ["-f", "-e", "trace=clone,exit_group"]
    host, board = host_trace(opts, "fork_cow", tmp_path), board_trace(opts, "fork_cow", tmp_path)
    assert list(tmp_path.iterdir()) == []
    clones = len(re.findall(r"^(?:\[pid +\d+\] )?clone\(", board, re.M))
    assert clones >= 2
    assert len(ATTACHED.findall(board)) == len(ATTACHED.findall(host)) == clones
    children = [int(n) for n in ATTACHED.findall(board)]
    assert children == sorted(children) and 1 not in children
    # glued to the clone line's entry part, as strace prints it
    for m in ATTACHED.finditer(board):
        line_start = board.rfind("\n", 0, m.start()) + 1
        assert re.match(r"(\[pid +\d+\] )?clone\(child_stack=\w+, flags=[A-Z_|]+SIGCHLD$",
                        board[line_start:m.start()]), board[line_start:m.end()]
    # taken out, the lines are whole again: `..., child_tidptr=0x...) = N`
    # (a vfork's line is cut by its child's, as strace cuts it)
    rest = "\n".join(rejoin(ATTACHED.sub("", board).splitlines()))
    assert re.findall(r"clone\(child_stack=\w+, flags=[A-Z_|]+(?:, child_tidptr=0x[0-9a-f]+)?\)"
                      r" = (\d+)$", rest, re.M) == [str(n) for n in children]


def test_no_attach_messages_when_quiet_or_to_a_file(tmp_path):
    """-q quiets them; so does -o FILE when strace runs the command (its
    init() sets QUIET_ATTACH then); a bare --trace syscall prints none."""
    prog = binaries("fork_cow")
    for opts in (["-f", "-q"], ["-f", "-o", str(tmp_path / "t")]):
        host = subprocess.run([strace_path()] + opts + [str(prog[0])], cwd=tmp_path,
                              capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        board = run_a53emu(opts + [prog[1]], cwd=tmp_path, timeout=300)
        assert host.returncode == board.returncode == 0
        assert b"attached" not in host.stderr and b"attached" not in board.stderr, opts
        if "-o" in opts:
            assert "attached" not in (tmp_path / "t").read_text()
            (tmp_path / "t").unlink()
    bare = run_a53emu(["--trace", "syscall", prog[1]], cwd=tmp_path, timeout=300)
    assert bare.returncode == 0 and b"attached" not in bare.stderr
    assert list(tmp_path.iterdir()) == []


def test_p_says_attached_first(tmp_path):
    """-p PID: strace attaches, says so, and prints no execve; -p of a
    child says so when the child appears; with -o the message stays on
    stderr."""
    prog = userland_path("glibc", "fork_cow")
    p = run_a53emu(["-p", "1", prog], cwd=tmp_path)
    lines = p.stderr.decode().splitlines()
    assert p.returncode == 0 and lines[0] == "strace: Process 1 attached"
    assert not any(line.startswith("execve(") for line in lines)
    assert sum("attached" in line for line in lines) == 1          # no -f: no children
    p = run_a53emu(["-p", "2", "-o", tmp_path / "t", prog], cwd=tmp_path)
    assert p.returncode == 0 and "strace: Process 2 attached\n" in p.stderr.decode()
    trace = (tmp_path / "t").read_text()
    assert "attached" not in trace and trace.rstrip().endswith("+++ exited with 0 +++")
    (tmp_path / "t").unlink()


def _lines(text, pattern):
    return [re.sub(r"0x[0-9a-f]{6,}", "ADDR", line) for line in text.splitlines()
            if re.search(pattern, line)]


def test_time_decodings_match_strace(tmp_path):
    """sys_time's calls whose decoding the comparison found different:
    each kind of line is the same on both machines (timing-dependent
    numbers masked: the overrun count, a timer's left-over time)."""
    opts = ["-e", "trace=clock_gettime,clock_getres,timer_create,rt_sigtimedwait,prctl",
            "-e", "signal=SIGALRM,SIGUSR1"]
    host = host_trace(opts, "sys_time", tmp_path)
    board = board_trace(opts + ["-a", "40"], "sys_time", tmp_path)
    assert list(tmp_path.iterdir()) == []
    for pattern in (r"CLOCK_SGI_CYCLE", r"^prctl\(PR_CAPBSET_", r"^--- SIGALRM ",
                    r"sigev_notify=SIGEV_NONE", r"sigev_notify=SIGEV_SIGNAL"):
        want = _lines(host, pattern)
        assert want, pattern
        # (as sets: strace sees the SIGALRM the program ignores, a53emu
        # never queues it -- a ptrace-only signal, see test_strace.normalise)
        assert set(_lines(board, pattern)) == set(want), pattern
    for pattern in (r"si_code=SI_TIMER",):
        def mask(lines):
            return [re.sub(r"si_overrun=\d+", "si_overrun=N", line) for line in lines]
        want = mask(_lines(host, pattern))
        assert want and set(mask(_lines(board, pattern))) == set(want)


def test_restart_texts_and_sigreturn_errno(tmp_path):
    """A handled signal interrupting a sleep: `= ? ERESTART... (text)` as
    strace's syscall.c words it, and rt_sigreturn's result, the restored
    -EINTR, as `-1 EINTR (Interrupted system call)`."""
    opts = ["-e", "trace=clock_nanosleep,nanosleep,rt_sigreturn", "-e", "signal=SIGALRM"]
    board = board_trace(opts, "sys_time", tmp_path)
    assert re.search(r"= \? ERESTART_RESTARTBLOCK \(Interrupted by signal\)$|"
                     r"= \? ERESTARTNOHAND \(To be restarted if no handler\)$", board, re.M)
    assert re.search(r"^rt_sigreturn\(\{mask=\[\]\}\) = -1 EINTR \(Interrupted system call\)$",
                     board, re.M)
    assert not re.search(r"= -4$", board, re.M)


def test_memory_call_flags_match_strace(tmp_path):
    """userland/src/strace_mm.c: msync's MS_*, mlock2's MLOCK_ONFAULT,
    mlockall's MCL_*, madvise's advice and mincore's vector, each unknown
    bit as `0x8 /* MS_??? */`: the same lines as the host's strace."""
    opts = ["-e", "trace=mincore,msync,mlock2,munlock,mlockall,munlockall,madvise,openat"]

    def lines(text):
        body = text.split("\n")
        # (openat: from the program's own calls on, past the C library's start-up)
        return [re.sub(r"0x[0-9a-f]{6,}", "ADDR", line) for line in body
                if line and not line.startswith("+++")
                and not (line.startswith("openat(") and "strace_mm." not in line)]
    host = lines(host_trace(opts, "strace_mm", tmp_path))
    board = lines(board_trace(opts + ["-a", "40"], "strace_mm", tmp_path))
    assert list(tmp_path.iterdir()) == []
    assert len(host) == 16 and board == host
    assert "O_RDONLY|O_SYNC|O_NOFOLLOW|O_CLOEXEC|O_PATH" in board[-2]


# (program, strace options, the line patterns whose lines must be the same on
# both machines: what differs by architecture -- pids, ipc ids, unlink vs
# unlinkat, epoll_wait vs epoll_pwait -- is outside the patterns)
FOUND = [
    ("sys_files", "truncate,ftruncate,fallocate,linkat,mknodat,sync_file_range,fadvise64",
     [r"^truncate\(", r"^fallocate\(\d, 0x100 ", r"^linkat\(.*0x1 /\* AT_", r"^mknodat\(.*, 0[17]",
      r"^sync_file_range\(", r"^fadvise64\("]),
    ("sys_events", "eventfd2,epoll_create1,epoll_ctl,epoll_pwait",
     [r"/\* (EFD|EPOLL|EPOLL_CTL)_\?\?\? \*/", r"^epoll_pwait\(3, ADDR, 2, 0, ADDR, 4\)"]),
    ("pipes", "fcntl,pipe2", [r"^fcntl\(\d+, F_GETFL\) += 0 ", r"^pipe2\(ADDR, O_APPEND\)"]),
    ("sys_proc", "prctl,openat", [r"^prctl\(PR_SET_NAME", r"O_DIRECTORY"]),
    ("sys_ipc", "semtimedop", [r"^semtimedop\(\w+, \[\], 0,", r"sem_flg=IPC_NOWAIT\}\], 2,"]),
    ("sys_ipc", "semctl,msgctl", [r"^semctl\(.*IPC_INFO", r"^msgctl\(.*IPC_INFO"]),
    ("sys_shm", "shmctl", [r"^shmctl\(.*IPC_INFO"]),
    ("sys_sockets", "socket,shutdown,accept4,getsockopt,setsockopt,bind,recvfrom",
     [r"/\* (AF|SOCK|SHUT|SO)_\?\?\? \*/", r"^recvfrom\(.*MSG_TRUNC", r"SO_RCVTIMEO",
      r"^bind\(3, \{sa_family=AF_UNIX\}, 2\)", r"^bind\(3, \{sa_family=AF_INET, sa_data=",
      r"SO_PEERCRED, \{"]),
    ("sys_memfd", "memfd_create,fcntl", [r"^memfd_create\(", r"F_SEAL_\?\?\?"]),
    ("futex", "futex", [r"FUTEX_\?\?\?", r"FUTEX_WAKE_BITSET_PRIVATE, 1, 0\)", r"FUTEX_WAKE_OP"]),
    ("sys_time", "rt_sigaction", [r"sa_flags=SA_RESTART\|SA_SIGINFO"]),
    ("wait", "waitid", [r"WNOHANG\|WEXITED"]),
    ("sys_locks", "fcntl", [r"/\* (F|SEEK)_\?\?\? \*/"]),
    ("sys_tty", "ioctl,fcntl", [r"_IOC\(_IOC_NONE", r"FIOQSIZE", r"FASYNC"]),
]


@pytest.mark.parametrize("program,calls,patterns", FOUND, ids=[f[0] for f in FOUND])
def test_more_decodings_match_strace(tmp_path, program, calls, patterns):
    """What comparing these programs' traces with the host's strace found:
    unknown flags as `0x1 /* AT_??? */`, unsigned lengths, a mode of no file
    type in octal, F_GETFL's 0, pipe2's open flags, a signal set of the
    wrong size by its address, PR_SET_NAME's 15 bytes and `...`, open flags
    in strace's order, an empty sembuf array, the IPC_INFO structures."""
    opts = ["-e", "trace=" + calls]

    def lines(text, pattern):
        out = []
        for line in text.splitlines():
            line = re.sub(r"0x[0-9a-f]{6,}", "ADDR", line)
            line = re.sub(r"^(semtimedop|semctl|msgctl|shmctl)\(\d+", r"\1(ID", line)  # ipc ids
            line = re.sub(r"^(waitid\(P_PID, )\d+", r"\1PID", line)
            line = re.sub(r"(_INFO, \{.*\}\)) += \d+$", r"\1 = N", line)   # the highest index
            line = re.sub(r"/tmp/[^/\"]+", "TMP", line)
            line = re.sub(r"SO_PEERCRED, \{pid=\d+", "SO_PEERCRED, {pid=PID", line)
            # (x86-64's glibc gives each handler a restorer, AArch64's none)
            line = re.sub(r"SA_RESTORER\||, sa_restorer=ADDR", "", line)
            line = re.sub(r"\) +(= )", r") \1", line)      # (the column moves with an id's width)
            if re.search(pattern, line):
                out.append(line)
        return out
    host = host_trace(opts, program, tmp_path)
    board = board_trace(opts + ["-a", "40"], program, tmp_path)
    assert_same_lines(host, board, patterns, lines, tmp_path)
