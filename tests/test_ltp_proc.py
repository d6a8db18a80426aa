"""Issue 9, "real test suites run": what LTP's process, signal, time and IPC
tests (tools/ltp.py --dirs ...; docs/ltp-proc.md) found a53emu doing unlike
Linux 4.14, checked without LTP (CI has no LTP checkout).

userland/src/ltp_proc.c is self-checking and built for the host and for
AArch64 (musl, glibc).  It needs root (non-root senders are children that
setresuid() away from root): the host comparison runs when the test runs as
root; under a53emu the guest is root through --root.
"""

import os
import subprocess
import sys

import pytest

from conftest import BUILD, userland_path
from test_processes import assert_passed, clean_env, scratch_dir

PROGRAM = "ltp_proc"
TIMEOUT = 300

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the program needs root on the host (setresuid from root)")


def run_host(cwd, program=PROGRAM):
    """The host build of program (default ltp_proc), run in cwd."""
    return subprocess.run([str(BUILD / "host" / program)], cwd=cwd, env=clean_env(),
                          capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def run_emu(libc, cwd, args=(), program=PROGRAM):
    """The libc build of program (default ltp_proc) on a53emu as a guest root."""
    return subprocess.run([sys.executable, "-m", "emu", "run", "--root",
                           str(userland_path(libc, program))] + list(args),
                          cwd=cwd, env=clean_env(), capture_output=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)


@needs_root
def test_host_kernel(tmp_path):
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(cwd)
    assert_passed(h, PROGRAM, "host")
    assert h.stderr == b""
    assert list(cwd.iterdir()) == []


def test_a53emu_passes(libc, tmp_path):
    """check_kill_permission(): the guest's checks pass (LTP kill05)."""
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_emu(libc, cwd)
    assert b"internal error" not in a.stderr, a.stderr.decode(errors="replace")
    assert_passed(a, PROGRAM, "a53emu --root")
    assert list(cwd.iterdir()) == []


@needs_root
def test_a53emu_matches_host_kernel(libc, tmp_path):
    h = run_host(scratch_dir(tmp_path, "host"))
    assert_passed(h, PROGRAM, "host")
    a = run_emu(libc, scratch_dir(tmp_path, "a53emu"))
    assert a.stdout == h.stdout
    assert a.returncode == 0


def test_ipc_sysctls_written(libc, tmp_path):
    """ipc/ipc_sysctl.c: root lowers shmmax, msgmax, msgmni and sem, and
    shmget/msgget/msgsnd/semget/semop obey the board's new limits (in the
    guest only: on the host it would change the host's IPC namespace)."""
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_emu(libc, cwd, ["ipc-write"])
    assert b"internal error" not in a.stderr, a.stderr.decode(errors="replace")
    assert_passed(a, PROGRAM, "a53emu --root")
    assert list(cwd.iterdir()) == []
