"""Signals sent to a53emu reach the guest as a terminal's signals reach its
foreground job: SIGINT (Ctrl-C), SIGQUIT (Ctrl-\\), SIGHUP (hangup) and
SIGTERM go to the guest's foreground process group; a handler runs if the
guest installed one, otherwise the default action ends it and a53emu exits
with 128 + N and one line.  Promptly even when the guest spins without a
system call: the scheduler's tick thread stops the core as soon as the
signal arrives.  And a guest writing to a closed stdout gets EPIPE and
SIGPIPE, never a traceback of a53emu's own.
"""

import signal
import struct
import subprocess
import sys
import time

import pytest

from conftest import ROOT, emu_env
from elf_forge import (
    A64_B_SELF, BASE, DATA_OFF, NR_EXIT_GROUP, NR_NANOSLEEP, NR_RT_SIGACTION, NR_WRITE,
    a64_syscall, program,
)

# The bound the test holds a53emu to, generous for a loaded CI machine;
# the goal (issue 10) is 50 ms, measured by hand on an idle one.
PROMPT = 0.5
READY = b"ready\n"
SIG_IGN = 1


def _ready():
    return a64_syscall(NR_WRITE, 1, BASE + DATA_OFF, len(READY))


def spinner():
    """Says ready, then spins in user space forever (no system call)."""
    return program(_ready() + [A64_B_SELF], READY)


def sleeper():
    """Says ready, then sleeps 100 s in nanosleep()."""
    ts = BASE + DATA_OFF + 8
    return program(_ready() + a64_syscall(NR_NANOSLEEP, ts, 0) + a64_syscall(NR_EXIT_GROUP, 0),
                   READY.ljust(8, b"\0") + struct.pack("<QQ", 100, 0))


def handler_program(sig, handler):
    """Installs handler (SIG_IGN, or None: a handler that writes "handled"
    and exits 3) for sig, says ready, spins."""
    data = BASE + DATA_OFF
    act, msg = data + 8, data + 48
    main = a64_syscall(NR_RT_SIGACTION, sig, act, 0, 8) + _ready() + [A64_B_SELF]
    entry = BASE + 0x2000 + 4 * len(main)
    on_signal = a64_syscall(NR_WRITE, 1, msg, 8) + a64_syscall(NR_EXIT_GROUP, 3)
    sa_handler = SIG_IGN if handler == SIG_IGN else entry
    blob = READY.ljust(8, b"\0") + struct.pack("<QQQQ", sa_handler, 0, 0, 0).ljust(40, b"\0")
    img = program(main + on_signal, blob + b"handled\n")
    return img


def start(prog_path, **kw):
    p = subprocess.Popen([sys.executable, "-m", "emu", "run", str(prog_path)], cwd=ROOT,
                         env=emu_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, **kw)
    assert p.stdout.readline() == READY
    return p


def signal_and_time(p, sig):
    """Send sig, return (seconds until a53emu exited, stdout, stderr)."""
    time.sleep(0.2)                     # inside the loop or the sleep for sure
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return time.monotonic() - t0, p.stdout.read(), p.stderr.read().decode()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT],
                         ids=lambda s: s.name)
@pytest.mark.parametrize("make", [spinner, sleeper], ids=["busy loop", "nanosleep"])
def test_default_action_is_prompt(tmp_path, sig, make):
    prog = make().write(tmp_path / "prog")
    elapsed, out, err = signal_and_time(start(prog), sig)
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0] == ("a53emu: %s: killed by %s (SI_KERNEL: sent by the kernel): %s sent to "
                        "a53emu, forwarded to the foreground process group as a terminal's"
                        % (prog, sig.name, sig.name)), lines
    assert elapsed < PROMPT, elapsed


def test_handler_runs(tmp_path):
    """A guest that catches SIGINT runs its handler (which exits 3)."""
    prog = handler_program(signal.SIGINT, None).write(tmp_path / "prog")
    p = start(prog)
    elapsed, out, err = signal_and_time(p, signal.SIGINT)
    assert p.returncode == 3, err
    assert out == b"handled\n" and err == ""
    assert elapsed < PROMPT, elapsed


def test_ignored_signal_is_ignored(tmp_path):
    """SIG_IGN'd SIGINT does nothing (as Ctrl-C to such a program); SIGTERM
    still ends it."""
    prog = handler_program(signal.SIGINT, SIG_IGN).write(tmp_path / "prog")
    p = start(prog)
    p.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert p.poll() is None
    elapsed, out, err = signal_and_time(p, signal.SIGTERM)
    assert p.returncode == 128 + signal.SIGTERM, err
    assert "killed by SIGTERM" in err


def test_closed_stdout_is_sigpipe(tmp_path):
    """A guest writing to a stdout nobody reads gets EPIPE and SIGPIPE and
    dies of it (141) with one line; a53emu prints no traceback."""
    data = BASE + DATA_OFF
    loop = a64_syscall(NR_WRITE, 1, data, 2)
    prog = program(loop + [0x14000000 | ((-len(loop)) & 0x3FFFFFF)], b"y\n").write(
        tmp_path / "yes")
    p = subprocess.Popen([sys.executable, "-m", "emu", "run", str(prog)], cwd=ROOT,
                         env=emu_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    assert p.stdout.read(4) == b"y\ny\n"
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(30) == 128 + signal.SIGPIPE, err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert "killed by SIGPIPE (SI_USER" in lines[0] and "no reader" in lines[0], lines
