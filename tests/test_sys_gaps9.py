"""Issue 9: the gaps LTP left open (docs/ltp-proc.md), checked against the
real kernel without LTP.

userland/src/sys_gaps9.c asks RLIMIT_SIGPENDING's questions (tgkill02:
a53emu queued without limit), times()'s system time (times03: always 0),
the clock's privileges and errors, packet pipes (pipe2_01: O_DIRECT was
EINVAL), epoll_ctl on O_PATH descriptors (epoll_ctl06: EPERM for EBADF),
/proc/sys's permission rule for root, vhangup() and TIOCSTI.  Its `board`
mode, for a guest root only, sets the board's clock and NTP state
(leapsec01: clock_settime was always EPERM) and writes /proc/sys's
kernel.tainted, kernel.pid_max and fs.pipe-user-pages-* (wait403, fork13,
pipe15: missing or read-only) — what no test may do to the host.

* the host build passes on the host kernel;
* the AArch64 builds print, under a53emu, exactly what the host printed;
* board mode passes under a53emu --root, and the host's clock is untouched.

qemu-aarch64 is not compared: its system-call translation reads some
arguments itself first (clock_settime(CLOCK_MONOTONIC, NULL) is EFAULT
there, EINVAL on Linux).
"""

import time

from hypothesis import given, strategies as st

from conftest import run_a53emu, userland_path
from test_processes import (
    assert_passed, check_a53emu_matches_host_kernel, check_host_kernel, clean_env, scratch_dir,
)

PROGRAM = "sys_gaps9"


def test_host_kernel(tmp_path):
    check_host_kernel(PROGRAM, tmp_path)


def test_a53emu_matches_host_kernel(libc, tmp_path):
    check_a53emu_matches_host_kernel(PROGRAM, libc, tmp_path)


def test_board_clock_and_sysctls_as_guest_root(libc, tmp_path):
    """Board mode: the board's wall clock, NTP state and /proc/sys values
    change; the host's wall clock does not (it stays with its monotonic
    clock, while the board's was set to 2033)."""
    cwd = scratch_dir(tmp_path, "board")
    wall0, mono0 = time.time(), time.monotonic()
    a = run_a53emu(["--root", userland_path(libc, PROGRAM), "board"], cwd=cwd, env=clean_env())
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert_passed(a, PROGRAM + " board", "a53emu --root")
    assert a.stderr == b""
    assert abs((time.time() - wall0) - (time.monotonic() - mono0)) < 5
    assert list(cwd.iterdir()) == []


# -- the pure parts, against 4.14's formulas ----------------------------------------


@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 50), st.integers(0, 50)),
                min_size=1, max_size=20))
def test_cputime_adjust_splits_exactly_and_never_goes_back(steps):
    """cputime_adjust(): utime + stime is the runtime, and neither part
    decreases while the runtime and the tick counts grow."""
    from kernel.cputime import PrevCputime, cputime_adjust
    prev = PrevCputime()
    rtime = utick = stick = 0
    last = (0, 0)
    for dr, du, ds in steps:
        rtime, utick, stick = rtime + dr, utick + du, stick + ds
        ut, stt = cputime_adjust(rtime, utick, stick, prev)
        assert ut + stt == max(rtime, sum(last))
        assert ut >= last[0] and stt >= last[1]
        last = (ut, stt)


class _Sched:
    def __init__(self, real_s):
        self.boot_real_ns = real_s * 10**9
        self.now = 0
        self.timers = None              # no task: no timer to move

    def clock_ns(self):
        return self.now


class _Kernel:
    def __init__(self, real_s):
        self.sched = _Sched(real_s)
        self.tasks = {}


def test_leap_second_state_machine_across_midnight():
    """second_overflow() caught up by the second: STA_INS announces the
    leap (TIME_INS) at the next second, midnight starts it (TIME_OOP), the
    second after ends it (TIME_WAIT), clearing STA_INS returns to TIME_OK;
    maxerror grows by 500 us a second meanwhile."""
    from kernel.time import ntp
    day = 86400
    k = _Kernel(20 * day - 10)                  # ten seconds before a midnight
    state = ntp.ntp_catch_up(k)
    state.time_status = ntp.STA_INS
    state.time_maxerror = 0
    k.sched.now = 1 * 10**9
    ntp.ntp_catch_up(k)
    assert state.time_state == ntp.TIME_INS and state.next_leap_sec == 20 * day
    k.sched.now = 9 * 10**9                     # 23:59:59
    ntp.ntp_catch_up(k)
    assert state.time_state == ntp.TIME_INS
    k.sched.now = 10 * 10**9                    # midnight
    ntp.ntp_catch_up(k)
    assert state.time_state == ntp.TIME_OOP
    k.sched.now = 3600 * 10**9                  # an hour later, in one look
    ntp.ntp_catch_up(k)
    assert state.time_state == ntp.TIME_WAIT
    assert state.time_maxerror == 3600 * 500
    state.time_status = 0
    k.sched.now += 10**9
    ntp.ntp_catch_up(k)
    assert state.time_state == ntp.TIME_OK


def test_maxerror_past_the_phase_limit_unsynchronises():
    from kernel.time import ntp
    k = _Kernel(1000)
    state = ntp.ntp_catch_up(k)
    state.time_status = ntp.STA_PLL
    state.time_maxerror = ntp.NTP_PHASE_LIMIT - 1000
    k.sched.now = 2 * 10**9                     # at the limit: still synchronised
    ntp.ntp_catch_up(k)
    assert not state.time_status & ntp.STA_UNSYNC
    k.sched.now = 3 * 10**9                     # past it
    ntp.ntp_catch_up(k)
    assert state.time_status & ntp.STA_UNSYNC and state.time_maxerror == ntp.NTP_PHASE_LIMIT


def test_settime_moves_the_offset_and_refuses_before_monotonic():
    """do_settimeofday64(): CLOCK_REALTIME may not go before CLOCK_MONOTONIC."""
    from kernel.time import ntp
    import errno
    k = _Kernel(1000)
    k.sched.now = 50 * 10**9
    assert ntp.do_settimeofday64(k, 49 * 10**9) == -errno.EINVAL
    assert ntp.do_settimeofday64(k, 2_000_000_000 * 10**9) == 0
    assert k.sched.boot_real_ns + k.sched.now == 2_000_000_000 * 10**9
    assert ntp.timekeeping_inject_offset(k, -2_000_000_000 * 10**9) == -errno.EINVAL
    assert ntp.timekeeping_inject_offset(k, 10**9) == 0
    assert k.sched.boot_real_ns + k.sched.now == 2_000_000_001 * 10**9


def test_config_gz_says_tmpfs_and_tick_accounting():
    """/proc/config.gz: the board's /dev/shm is a tmpfs (LTP's epoll_wait10
    looks for CONFIG_TMPFS), times are tick-sampled, no PPS."""
    from test_sys_proc import _config_kernel
    from kernel.sys_ni import kernel_config
    text = kernel_config(_config_kernel())
    assert "\nCONFIG_TMPFS=y\n" in text
    assert "\nCONFIG_TICK_CPU_ACCOUNTING=y\n" in text
    assert "\n# CONFIG_NTP_PPS is not set\n" in text
