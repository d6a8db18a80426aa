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


class _Memory:
    """A task whose user memory is one struct timex at TIMEX_AT."""
    TIMEX_AT = 0x1000

    def __init__(self, raw):
        self.uaccess = self
        self.raw = raw

    def peek(self, addr, length):
        return self.raw[:length] if addr == self.TIMEX_AT else None


def test_timex_flags_and_signs_as_strace():
    """What the host's strace 6.1 printed for these struct timex contents
    (`strace -e inject=adjtimex:retval=0`, so the host's clock was left
    alone): the composite ADJ_OFFSET_SS_READ taking its bits first, the
    unknown bits in hex (commented only when no name matched), tv_usec
    unsigned, the other fields signed."""
    import struct
    from kernel.syscalls import strace_decode

    def text(modes, status, offset=-5, tv_sec=0, usec=-1, precision=0, stbcnt=0, tai=0):
        raw = bytearray(208)
        struct.pack_into("<i", raw, 0, modes)
        struct.pack_into("<q", raw, 8, offset)
        struct.pack_into("<i", raw, 40, status)
        struct.pack_into("<q", raw, 56, precision)
        struct.pack_into("<qq", raw, 72, tv_sec, usec)
        struct.pack_into("<q", raw, 152, stbcnt)
        struct.pack_into("<i", raw, 160, tai)
        return strace_decode.timex(_Memory(bytes(raw)), _Memory.TIMEX_AT, None)

    rest = (", constant=0, precision=0, tolerance=0, time={tv_sec=0, "
            "tv_usec=18446744073709551615}, tick=0, ppsfreq=0, jitter=0, shift=0, stabil=0, "
            "jitcnt=0, calcnt=0, errcnt=0, stbcnt=0, tai=0}")
    head = ", offset=-5, freq=0, maxerror=0, esterror=0, status="
    assert text(-1, -1) == (
        "{modes=ADJ_OFFSET_SS_READ|ADJ_FREQUENCY|ADJ_MAXERROR|ADJ_ESTERROR|ADJ_STATUS|"
        "ADJ_TIMECONST|ADJ_TAI|ADJ_SETOFFSET|ADJ_MICRO|ADJ_TICK|0xffff0e40" + head
        + "STA_PLL|STA_PPSFREQ|STA_PPSTIME|STA_FLL|STA_INS|STA_DEL|STA_UNSYNC|STA_FREQHOLD|"
        "STA_PPSSIGNAL|STA_PPSJITTER|STA_PPSWANDER|STA_PPSERROR|STA_CLOCKERR|STA_NANO|"
        "STA_MODE|STA_CLK|0xffff0000" + rest)
    assert text(0x8001, 1) == "{modes=ADJ_OFFSET_SINGLESHOT" + head + "STA_PLL" + rest
    assert text(0xe001, 0x10000) == ("{modes=ADJ_OFFSET_SS_READ|ADJ_TICK" + head
                                     + "0x10000 /* STA_??? */" + rest)
    assert text(0x40, 0x12345) == ("{modes=0x40 /* ADJ_??? */" + head
                                   + "STA_PLL|STA_PPSTIME|STA_UNSYNC|STA_PPSSIGNAL|"
                                   "STA_PPSJITTER|STA_NANO|0x10000" + rest)
    assert text(0, 0, tv_sec=-2, precision=-7, stbcnt=-4, tai=-3) == (
        "{modes=0" + head + "0, constant=0, precision=-7, tolerance=0, time={tv_sec=-2, "
        "tv_usec=18446744073709551615}, tick=0, ppsfreq=0, jitter=0, shift=0, stabil=0, "
        "jitcnt=0, calcnt=0, errcnt=0, stbcnt=-4, tai=-3}")
    assert strace_decode.timex(_Memory(b""), 0, None) == "NULL"
    assert strace_decode.timex(_Memory(b""), 0x2000, None) == "0x2000"
