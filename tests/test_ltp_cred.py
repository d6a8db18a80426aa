"""Issue 9, "real test suites run": what LTP's credential, scheduling,
limit, signal, message-queue and socket tests (tools/ltp.py --dirs ...;
docs/ltp-cred.md) found a53emu doing unlike Linux 4.14, checked without LTP
(CI has no LTP checkout).

userland/src/ltp_cred.c is self-checking and built for the host and for
AArch64 (musl, glibc): SA_RESETHAND keeps sa_flags, ppoll/pselect6 write
the time left back unless STICKY_TIMEOUTS, kill/rt_sigqueueinfo take a
thread's id, sched_setaffinity's EFAULT/EPERM, PR_SET_TIMERSLACK and
SCHED_DEADLINE, ETXTBSY, /proc/sys/fs/mqueue, the socket calls' errnos and
mq_unlink's permission.  It needs root (SCHED_DEADLINE; non-root callers are
children that setresuid() away): the host comparison runs when the test
runs as root; under a53emu the guest is root through --root.
"""

import os

import pytest

import test_ltp_proc
from test_processes import assert_passed, scratch_dir

PROGRAM = "ltp_cred"

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the program needs root on the host (SCHED_DEADLINE, "
                                       "setresuid from root)")


def run_host(cwd):
    return test_ltp_proc.run_host(cwd, PROGRAM)


def run_emu(libc, cwd, args=()):
    return test_ltp_proc.run_emu(libc, cwd, args, PROGRAM)


@needs_root
def test_host_kernel(tmp_path):
    """The checks are Linux's answers: the host kernel passes them."""
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(cwd)
    assert_passed(h, PROGRAM, "host")
    assert h.stderr == b""
    assert list(cwd.iterdir()) == []


def test_a53emu_passes(libc, tmp_path):
    """LTP sigaction01, personality02, rt_sigqueueinfo01, sched_setaffinity01,
    prctl08/09, sched_setattr01 and sched_getattr01, without LTP."""
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


def test_mq_sysctls_written(libc, tmp_path):
    """ipc/mq_sysctl.c: root lowers queues_max, msg_max and msg_default, and
    mq_open() obeys the board's new limits (in the guest only: on the host
    it would change the host's IPC namespace)."""
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_emu(libc, cwd, ["mq-write"])
    assert b"internal error" not in a.stderr, a.stderr.decode(errors="replace")
    assert_passed(a, PROGRAM, "a53emu --root")
    assert list(cwd.iterdir()) == []
