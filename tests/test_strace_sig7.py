"""Issue 7 part 4, against the real strace: userland/src/strace_sig7.c's
struct termios2 (TCGETS2 and the three TCSETS*2, with and without -v),
signal sets of a size other than the kernel's 8 bytes (by their address:
rt_sigprocmask and its EINVAL, ppoll, pselect6's pair, rt_sigpending,
rt_sigtimedwait, rt_sigsuspend; rt_sigaction's mask stays decoded) and
struct sigevent's SIGEV_THREAD function and attributes and SIGEV_THREAD_ID
thread id (timer_create, mq_notify).  The host build runs under
/usr/bin/strace, the AArch64 one under `a53emu run`, same options."""

import re

import pytest

from test_strace_vis7 import board_trace, host_trace

CALLS = ("ioctl,rt_sigprocmask,rt_sigaction,ppoll,pselect6,rt_sigpending,rt_sigtimedwait,"
         "rt_sigsuspend,timer_create,mq_notify")


def _lines(text):
    """The program's own calls (not the C library's start-up sets of 8
    bytes), addresses, the host's tid and sival_int (a pointer's low half)
    masked."""
    out = []
    for line in text.splitlines():
        if re.match(r"rt_sig\w+\(SIG\w+, .*, 8\)", line) or not re.match(r"\w+\(", line):
            continue
        line = re.sub(r"0x[0-9a-f]{6,}", "ADDR", line)
        line = re.sub(r"sigev_notify_thread_id=(?!2147483647)\d+", "sigev_notify_thread_id=TID",
                      line)
        out.append(re.sub(r"sival_int=-?\d+", "sival_int=N", line))
    return out


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["plain", "verbose"])
def test_sig7_decodings_match_strace(tmp_path, verbose):
    opts = verbose + ["-e", "trace=" + CALLS]
    host = _lines(host_trace(opts, "strace_sig7", tmp_path))
    board = _lines(board_trace(opts + ["-a", "40"], "strace_sig7", tmp_path))
    assert list(tmp_path.iterdir()) == []
    assert len(host) == 17 and board == host
    # what each part checks is there (the program made the calls)
    text = "\n".join(board)
    assert text.count("TCGETS2, {c_iflag=") == 1 and "ioctl(3, TCGETS2, NULL)" in text
    assert ("c_ispeed=" in text) == bool(verbose)
    assert "rt_sigprocmask(SIG_BLOCK, ADDR, ADDR, 16) = -1 EINVAL" in text
    assert "{sigmask=ADDR, sigsetsize=16}" in text
    assert text.count("sigev_notify_function=0x1234, sigev_notify_attributes=") == 2
    assert "sigev_notify_thread_id=TID}, [1]) = 0" in text
