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
    opts = ["-e", "trace=mincore,msync,mlock2,munlock,mlockall,munlockall,madvise"]

    def lines(text):
        body = text.split("\n")
        return [re.sub(r"0x[0-9a-f]{6,}", "ADDR", line) for line in body
                if line and not line.startswith("+++")]
    host = lines(host_trace(opts, "strace_mm", tmp_path))
    board = lines(board_trace(opts + ["-a", "40"], "strace_mm", tmp_path))
    assert list(tmp_path.iterdir()) == []
    assert len(host) == 14 and board == host
