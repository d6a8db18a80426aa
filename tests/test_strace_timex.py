"""Issue 7 part 4, against the real strace: userland/src/strace_timex.c's
struct timex (adjtimex and clock_adjtime: decoded when the call returns,
its address when the call failed, the result named by its clock state),
the remaining time of a nanosleep and clock_nanosleep a signal cut (the
ERESTART_RESTARTBLOCK the tracer sees) and prctl's PR_SET_CHILD_SUBREAPER
(its argument) and PR_GET_CHILD_SUBREAPER (the int it wrote).  The host
build runs under /usr/bin/strace, the AArch64 one under `a53emu run`,
same options."""

import re

from test_strace_vis7 import board_trace, host_trace

CALLS = "adjtimex,clock_adjtime,nanosleep,clock_nanosleep,prctl"
_TIMEX_NUMBERS = re.compile(r"(?<=[{ ])(offset|freq|maxerror|esterror|constant|precision|"
                            r"tolerance|tv_sec|tv_usec|tick|ppsfreq|jitter|shift|stabil|"
                            r"jitcnt|calcnt|errcnt|stbcnt|tai)=-?\d+")


def _lines(text):
    """The program's calls (not the C library's start-up prctl calls, if
    any), with what depends on the machine masked: addresses, the clock's
    numbers and status (the host's NTP state), the clock state the result
    names, the time a cut sleep had left."""
    out = []
    for line in text.splitlines():
        if not re.match(r"(\w+\(|--- )", line):
            continue
        line = re.sub(r"0x[0-9a-f]{6,}", "ADDR", line)
        if re.match(r"(adjtimex|clock_adjtime)\(", line):
            line = _TIMEX_NUMBERS.sub(r"\1=N", line)
            line = re.sub(r"status=[A-Z_|0-9x]+", "status=S", line)
            line = re.sub(r"= \d \(TIME_[A-Z]+\)$", "= N (TIME_X)", line)
        line = re.sub(r"\{tv_sec=\d+, tv_nsec=\d+\}\) = \? ERESTART",
                      "{tv_sec=N, tv_nsec=N}) = ? ERESTART", line)
        out.append(line)
    return out


def test_timex_rem_subreaper_match_strace(tmp_path):
    opts = ["-e", "trace=" + CALLS]
    board_text = board_trace(opts + ["-a", "40"], "strace_timex", tmp_path)
    host = _lines(host_trace(opts, "strace_timex", tmp_path))
    board = _lines(board_text)
    assert list(tmp_path.iterdir()) == []
    assert board == host
    text = "\n".join(board)
    assert text.count("modes=0, offset=N, freq=N, maxerror=N") == 2
    assert "{modes=ADJ_OFFSET_SS_READ, " in text and "tai=N}) = N (TIME_X)" in text
    assert "adjtimex(NULL)" in text and "clock_adjtime(CLOCK_MONOTONIC, ADDR) = -1 EOPNOTSUPP" \
        in text
    assert text.count("{tv_sec=N, tv_nsec=N}) = ? ERESTART_RESTARTBLOCK") == 2
    assert "prctl(PR_SET_CHILD_SUBREAPER, 1)" in text and \
        "prctl(PR_GET_CHILD_SUBREAPER, [1])" in text
    # the board's own clock is unsynchronised: STA_UNSYNC, TIME_ERROR
    assert board_text.count("status=STA_UNSYNC, ") == 3
    assert board_text.count("= 5 (TIME_ERROR)") == 3
