"""kernel/time/ntp.c + the setting half of timekeeping.c: the board's own
wall clock, which a guest root (CAP_SYS_TIME) may set and whose NTP state
adjtimex() reads and changes.

CLOCK_REALTIME is the board's monotonic clock plus an offset
(sched.boot_real_ns, Linux's -wall_to_monotonic); setting the clock
changes that offset only — never the host's clock.  Then, as 4.14's
clock_was_set(): the vDSO's copy of the offset, and the timers of the
realtime clock (POSIX timers, timerfds: kept as monotonic instants here,
so they are moved by the step) and realtime sleepers (woken to look at the
clock again).

The NTP state (time_status, time_offset, time_freq, ...) is kept and read
back as ntp.c keeps it, and second_overflow()'s once-a-second work (the
maxerror growth that sets STA_UNSYNC again, the leap-second state machine)
is caught up whenever the state is read.  What a board does not model: the
clock's rate never changes (no slewing by time_offset, time_freq, tick or
adjtime()'s time_adjust: tick_length is not applied), and a leap second is
announced by the state (TIME_INS, TIME_OOP, TIME_WAIT) but not inserted
into CLOCK_REALTIME.  No PPS (CONFIG_NTP_PPS is off in 4.14's defconfig).
"""

import errno
import struct

from kernel.time.timekeeping import (
    NSEC_PER_SEC, NSEC_PER_USEC, REALTIME_CLOCKS, TIMEVAL, USEC_PER_SEC, USER_HZ, HZ,
    ktime_get, ktime_get_real,
)

TIMEX = struct.Struct("<I4xqqqqi4xqqq16sqqqi4xqqqqqi44x")

# include/uapi/linux/timex.h
ADJ_OFFSET, ADJ_FREQUENCY, ADJ_MAXERROR, ADJ_ESTERROR = 0x0001, 0x0002, 0x0004, 0x0008
ADJ_STATUS, ADJ_TIMECONST, ADJ_TAI, ADJ_SETOFFSET = 0x0010, 0x0020, 0x0080, 0x0100
ADJ_MICRO, ADJ_NANO, ADJ_TICK = 0x1000, 0x2000, 0x4000
ADJ_OFFSET_SINGLESHOT, ADJ_OFFSET_READONLY, ADJ_ADJTIME = 0x0001, 0x2000, 0x8000
STA_PLL, STA_PPSFREQ, STA_PPSTIME, STA_FLL = 0x0001, 0x0002, 0x0004, 0x0008
STA_INS, STA_DEL, STA_UNSYNC, STA_FREQHOLD = 0x0010, 0x0020, 0x0040, 0x0080
STA_PPSSIGNAL, STA_PPSJITTER, STA_PPSWANDER, STA_PPSERROR = 0x0100, 0x0200, 0x0400, 0x0800
STA_CLOCKERR, STA_NANO, STA_MODE, STA_CLK = 0x1000, 0x2000, 0x4000, 0x8000
STA_RONLY = (STA_PPSSIGNAL | STA_PPSJITTER | STA_PPSWANDER | STA_PPSERROR | STA_CLOCKERR
             | STA_NANO | STA_MODE | STA_CLK)
TIME_OK, TIME_INS, TIME_DEL, TIME_OOP, TIME_WAIT, TIME_ERROR = 0, 1, 2, 3, 4, 5

# include/linux/timex.h
NTP_SCALE_SHIFT = 32
NTP_INTERVAL_FREQ = HZ
SHIFT_USEC = 16
PPM_SCALE = NSEC_PER_USEC << (NTP_SCALE_SHIFT - SHIFT_USEC)
PPM_SCALE_INV_SHIFT = 19
PPM_SCALE_INV = (1 << (PPM_SCALE_INV_SHIFT + NTP_SCALE_SHIFT)) // PPM_SCALE + 1
MAXPHASE = 500_000_000                  # ns
MAXFREQ = 500_000                       # ns/s
MAXFREQ_SCALED = MAXFREQ << NTP_SCALE_SHIFT
MINSEC, MAXSEC = 256, 2048
MAXTC = 10
SHIFT_PLL, SHIFT_FLL = 2, 2
NTP_PHASE_LIMIT = (MAXPHASE // NSEC_PER_USEC) << 5
# 4.14.y's "ntp: Limit TAI-UTC offset" (d897a4ab11dc, v5.1, for stable):
# ADJ_TAI takes 0..MAX_TAI_OFFSET.
MAX_TAI_OFFSET = 100_000
SECS_PER_DAY = 86400
LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)
TIME64_MAX = LLONG_MAX
TICK_USEC = (USEC_PER_SEC + USER_HZ // 2) // USER_HZ
_TZ = struct.Struct("<ii")              # struct timezone
TZ_MINUTES_MAX = 15 * 60


class NtpData:
    """ntp.c's file-scope state, per board (ntp_clear() at boot)."""

    def __init__(self):
        self.time_state = TIME_OK
        self.time_status = STA_UNSYNC
        self.time_offset = 0            # scaled ns, as ntp.c's
        self.time_constant = 2
        self.time_maxerror = NTP_PHASE_LIMIT
        self.time_esterror = NTP_PHASE_LIMIT
        self.time_freq = 0              # scaled ns/s
        self.time_reftime = 0
        self.time_adjust = 0            # adjtime()'s remaining µs
        self.tick_usec = TICK_USEC
        self.time_tai = 0
        self.next_leap_sec = TIME64_MAX
        self.last_second = None         # the last second second_overflow() has seen


def ntp_data(kernel):
    ntp = getattr(kernel, "ntp", None)
    if ntp is None:
        ntp = kernel.ntp = NtpData()
    return ntp


def _shift_right(value, shift):
    """shift_right(): an arithmetic shift that rounds toward zero for negatives."""
    return -((-value) >> shift) if value < 0 else value >> shift


def _div_trunc(a, b):
    """C's signed division (div_s64, div64_long): truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _second_overflow(ntp, secs):
    """second_overflow(): the leap-second state machine and the maxerror
    growth, for the second `secs` that just began."""
    state, status = ntp.time_state, ntp.time_status
    if state == TIME_OK:
        if status & STA_INS:
            ntp.time_state = TIME_INS
            ntp.next_leap_sec = secs + SECS_PER_DAY - secs % SECS_PER_DAY
        elif status & STA_DEL:
            ntp.time_state = TIME_DEL
            ntp.next_leap_sec = secs + SECS_PER_DAY - (secs + 1) % SECS_PER_DAY
    elif state == TIME_INS:
        if not status & STA_INS:
            ntp.next_leap_sec, ntp.time_state = TIME64_MAX, TIME_OK
        elif secs % SECS_PER_DAY == 0:
            ntp.time_state = TIME_OOP           # the board's clock does not repeat it
    elif state == TIME_DEL:
        if not status & STA_DEL:
            ntp.next_leap_sec, ntp.time_state = TIME64_MAX, TIME_OK
        elif (secs + 1) % SECS_PER_DAY == 0:
            ntp.next_leap_sec, ntp.time_state = TIME64_MAX, TIME_WAIT
    elif state == TIME_OOP:
        ntp.next_leap_sec, ntp.time_state = TIME64_MAX, TIME_WAIT
    elif state == TIME_WAIT:
        if not status & (STA_INS | STA_DEL):
            ntp.time_state = TIME_OK
    _bump_maxerror(ntp, 1)


def _bump_maxerror(ntp, seconds):
    """second_overflow(): maxerror grows by MAXFREQ a second; past the
    phase limit the clock is unsynchronised again."""
    ntp.time_maxerror += seconds * (MAXFREQ // NSEC_PER_USEC)
    if ntp.time_maxerror > NTP_PHASE_LIMIT:
        ntp.time_maxerror = NTP_PHASE_LIMIT
        ntp.time_status |= STA_UNSYNC


def _next_event(ntp, now):
    """The next second at which second_overflow() can change the state
    (until then only maxerror grows): the leap while one is announced,
    else none before now + 1."""
    status = ntp.time_status
    if ntp.time_state == TIME_INS and status & STA_INS:
        return ntp.next_leap_sec
    if ntp.time_state == TIME_DEL and status & STA_DEL:
        return ntp.next_leap_sec - 1
    if ntp.time_state == TIME_OK and not status & (STA_INS | STA_DEL) or (
            ntp.time_state == TIME_WAIT and status & (STA_INS | STA_DEL)):
        return now + 1
    return None                         # it changes at the very next second


def ntp_catch_up(kernel):
    """Run second_overflow() for every second the board's wall clock began
    since the last look (Linux runs it from the tick); a stretch where
    nothing but maxerror can change is done in one step."""
    ntp = ntp_data(kernel)
    now = ktime_get_real(kernel) // NSEC_PER_SEC
    last = ntp.last_second
    ntp.last_second = now
    if last is None or now <= last:
        return ntp
    secs = last + 1
    while secs <= now:
        event = _next_event(ntp, now)
        skip = 0 if event is None else min(event, now + 1) - secs
        if skip > 0:
            _bump_maxerror(ntp, skip)
            secs += skip
            continue
        _second_overflow(ntp, secs)
        secs += 1
    return ntp


def is_error_status(status):
    """is_error_status(): the clock is unsynchronised or its PPS source bad."""
    return bool(status & (STA_UNSYNC | STA_CLOCKERR)
                or (status & (STA_PPSFREQ | STA_PPSTIME) and not status & STA_PPSSIGNAL)
                or status & (STA_PPSTIME | STA_PPSJITTER) == STA_PPSTIME | STA_PPSJITTER
                or (status & STA_PPSFREQ and status & (STA_PPSWANDER | STA_PPSERROR)))


def _ntp_update_offset(ntp, offset, now_sec):
    """ntp_update_offset(): a phase offset for the PLL (or FLL): the
    frequency is steered and time_offset holds what is left to slew."""
    if not ntp.time_status & STA_PLL:
        return
    if not ntp.time_status & STA_NANO:
        offset = max(-USEC_PER_SEC, min(offset, USEC_PER_SEC)) * NSEC_PER_USEC
    offset = max(-MAXPHASE, min(offset, MAXPHASE))
    secs = now_sec - ntp.time_reftime
    if ntp.time_status & STA_FREQHOLD:
        secs = 0
    ntp.time_reftime = now_sec
    # ntp_update_offset_fll()
    ntp.time_status &= ~STA_MODE
    freq_adj = 0
    if secs >= MINSEC and (ntp.time_status & STA_FLL or secs > MAXSEC):
        ntp.time_status |= STA_MODE
        freq_adj = _div_trunc(offset << (NTP_SCALE_SHIFT - SHIFT_FLL), secs)
    secs = min(secs, 1 << (SHIFT_PLL + 1 + ntp.time_constant))
    freq_adj += (offset * secs) << (NTP_SCALE_SHIFT - 2 * (SHIFT_PLL + 2 + ntp.time_constant))
    freq_adj = min(freq_adj + ntp.time_freq, MAXFREQ_SCALED)
    ntp.time_freq = max(freq_adj, -MAXFREQ_SCALED)
    ntp.time_offset = _div_trunc(offset << NTP_SCALE_SHIFT, NTP_INTERVAL_FREQ)


def _process_adj_status(ntp, status, now_sec):
    """process_adj_status(): leaving PLL mode resets the state; entering it
    starts the reference time; only the writable bits change."""
    if ntp.time_status & STA_PLL and not status & STA_PLL:
        ntp.time_state = TIME_OK
        ntp.time_status = STA_UNSYNC
        ntp.next_leap_sec = TIME64_MAX
    if not ntp.time_status & STA_PLL and status & STA_PLL:
        ntp.time_reftime = now_sec
    ntp.time_status &= STA_RONLY
    ntp.time_status |= status & ~STA_RONLY


def _process_adjtimex_modes(ntp, t, now_sec):
    """process_adjtimex_modes(): apply the fields modes names, in ntp.c's order."""
    modes = t["modes"]
    if modes & ADJ_STATUS:
        _process_adj_status(ntp, t["status"], now_sec)
    if modes & ADJ_NANO:
        ntp.time_status |= STA_NANO
    if modes & ADJ_MICRO:
        ntp.time_status &= ~STA_NANO
    if modes & ADJ_FREQUENCY:
        ntp.time_freq = max(-MAXFREQ_SCALED, min(t["freq"] * PPM_SCALE, MAXFREQ_SCALED))
    if modes & ADJ_MAXERROR:
        ntp.time_maxerror = t["maxerror"]
    if modes & ADJ_ESTERROR:
        ntp.time_esterror = t["esterror"]
    if modes & ADJ_TIMECONST:
        constant = t["constant"] + (0 if ntp.time_status & STA_NANO else 4)
        ntp.time_constant = max(0, min(constant, MAXTC))
    if modes & ADJ_TAI and 0 <= t["constant"] <= MAX_TAI_OFFSET:
        ntp.time_tai = t["constant"]
    if modes & ADJ_OFFSET:
        _ntp_update_offset(ntp, t["offset"], now_sec)
    if modes & ADJ_TICK:
        ntp.tick_usec = t["tick"]


_FIELDS = ("modes", "offset", "freq", "maxerror", "esterror", "status", "constant",
           "precision", "tolerance", "time", "tick", "ppsfreq", "jitter", "shift", "stabil",
           "jitcnt", "calcnt", "errcnt", "stbcnt", "tai")


def ntp_validate_timex(task, t):
    """ntp_validate_timex(): adjtime() must be the single-shot mode and
    needs CAP_SYS_TIME unless it only reads; any other change needs it;
    ADJ_TICK within 10%; ADJ_SETOFFSET needs it and a valid offset; a
    frequency whose scaling would overflow.  0 or -errno."""
    from kernel.cred import CAP_SYS_TIME, capable
    modes = t["modes"]
    if modes & ADJ_ADJTIME:
        if not modes & ADJ_OFFSET_SINGLESHOT:
            return -errno.EINVAL
        if not modes & ADJ_OFFSET_READONLY and not capable(task, CAP_SYS_TIME):
            return -errno.EPERM
    else:
        if modes and not capable(task, CAP_SYS_TIME):
            return -errno.EPERM
        if modes & ADJ_TICK and not 900000 // USER_HZ <= t["tick"] <= 1100000 // USER_HZ:
            return -errno.EINVAL
    if modes & ADJ_SETOFFSET:
        if not capable(task, CAP_SYS_TIME):
            return -errno.EPERM
        sec, frac = t["time"]
        limit = NSEC_PER_SEC if modes & ADJ_NANO else USEC_PER_SEC
        if not 0 <= frac < limit:       # time{spec,val}_inject_offset_valid()
            return -errno.EINVAL
    if modes & ADJ_FREQUENCY:
        freq = t["freq"]
        if _div_trunc(LLONG_MIN, PPM_SCALE) > freq or _div_trunc(LLONG_MAX, PPM_SCALE) < freq:
            return -errno.EINVAL
    return 0


def do_adjtimex(task, addr):
    """sys_adjtimex() → do_adjtimex(): copy in (EFAULT), validate, inject
    an ADJ_SETOFFSET step, then __do_adjtimex(): apply the modes and
    write the whole state back (EFAULT).  Returns the clock state:
    TIME_ERROR while unsynchronised."""
    kernel = task.kernel
    values = TIMEX.unpack(task.uaccess.copy_from_user(addr, TIMEX.size))
    t = dict(zip(_FIELDS, values))
    t["time"] = TIMEVAL.unpack(t["time"])
    modes = t["modes"]
    err = ntp_validate_timex(task, t)
    if err:
        return err
    if modes & ADJ_SETOFFSET:
        sec, frac = t["time"]
        delta = sec * NSEC_PER_SEC + frac * (1 if modes & ADJ_NANO else NSEC_PER_USEC)
        err = timekeeping_inject_offset(kernel, delta)
        if err:
            return err
    ntp = ntp_catch_up(kernel)
    now = ktime_get_real(kernel)
    now_sec = now // NSEC_PER_SEC
    if modes & ADJ_ADJTIME:
        save_adjust = ntp.time_adjust
        if not modes & ADJ_OFFSET_READONLY:
            ntp.time_adjust = t["offset"]
        t["offset"] = save_adjust
    else:
        if modes:
            _process_adjtimex_modes(ntp, t, now_sec)
        offset = _shift_right(ntp.time_offset * NTP_INTERVAL_FREQ, NTP_SCALE_SHIFT)
        t["offset"] = offset if ntp.time_status & STA_NANO else _div_trunc(offset, NSEC_PER_USEC)
    result = TIME_ERROR if is_error_status(ntp.time_status) else ntp.time_state
    sec, nsec = divmod(now, NSEC_PER_SEC)
    usec = nsec if ntp.time_status & STA_NANO else nsec // NSEC_PER_USEC
    tai = ntp.time_tai
    if sec >= ntp.next_leap_sec:
        if ntp.time_state == TIME_INS and ntp.time_status & STA_INS:
            result, tai, sec = TIME_OOP, tai + 1, sec - 1
        if ntp.time_state == TIME_DEL and ntp.time_status & STA_DEL:
            result, tai, sec = TIME_WAIT, tai - 1, sec + 1
        if ntp.time_state == TIME_OOP and sec == ntp.next_leap_sec:
            result = TIME_WAIT
    freq = _shift_right((ntp.time_freq >> PPM_SCALE_INV_SHIFT) * PPM_SCALE_INV, NTP_SCALE_SHIFT)
    task.uaccess.copy_to_user(addr, TIMEX.pack(
        modes, t["offset"], freq, ntp.time_maxerror, ntp.time_esterror, ntp.time_status,
        ntp.time_constant, 1, MAXFREQ_SCALED // PPM_SCALE, TIMEVAL.pack(sec, usec),
        ntp.tick_usec, 0, 0, 0, 0, 0, 0, 0, 0, tai))
    return result


# -- setting the clock (timekeeping.c) ---------------------------------------------


def _set_wall_offset(kernel, offset):
    """The step itself and clock_was_set(): the new CLOCK_REALTIME offset
    goes to the vDSO, realtime timers move, realtime sleepers look again."""
    sched = kernel.sched
    delta = offset - sched.boot_real_ns
    sched.boot_real_ns = offset
    from kernel.vdso import update_vsyscall
    update_vsyscall(kernel)
    _retrigger_realtime_timers(kernel, delta)


def _retrigger_realtime_timers(kernel, delta):
    """clock_was_set(): timers and sleeps on CLOCK_REALTIME expire at an
    instant of that clock, so on the monotonic base they move by -delta;
    a timerfd armed with TFD_TIMER_CANCEL_ON_SET is cancelled instead
    (timerfd_clock_was_set())."""
    from kernel.time.timerfd import TimerFd
    timers = kernel.sched.timers
    seen = set()
    for task in list(kernel.tasks.values()):
        sig = task.signal
        if id(sig) not in seen:
            seen.add(id(sig))
            for timer in sig.posix_timers.values():
                if timer.clockid in REALTIME_CLOCKS and timer.expires is not None \
                        and timer.cpu_clock is None and timer.hrtimer.armed:
                    timer.expires -= delta
                    timers.start(timer.hrtimer, timer.expires)
        files = task.files
        if files is not None and id(files) not in seen:
            seen.add(id(files))
            for file in files.fds.values():
                if isinstance(file, TimerFd) and id(file) not in seen:
                    seen.add(id(file))
                    if file.clockid in REALTIME_CLOCKS and file.expires is not None:
                        file.expires -= delta
                        timers.start(file.tmr, file.expires)
                    file.clock_was_set(kernel.sched.boot_real_ns)
        restart = task.restart
        if restart is not None and restart.get("realtime"):
            kernel.sched.wake_up_process(task)      # hrtimer on the realtime base


def do_settimeofday64(kernel, ns):
    """do_settimeofday64(): EINVAL if the new time would put CLOCK_REALTIME
    before CLOCK_MONOTONIC (wall_to_monotonic may not become positive)."""
    if ns < ktime_get(kernel):
        return -errno.EINVAL
    ntp_catch_up(kernel)
    _set_wall_offset(kernel, ns - ktime_get(kernel))
    ntp_data(kernel).last_second = ns // NSEC_PER_SEC
    return 0


def timekeeping_inject_offset(kernel, delta):
    """timekeeping_inject_offset(): step the clock by delta ns; EINVAL if
    that would put it before CLOCK_MONOTONIC."""
    if ktime_get_real(kernel) + delta < ktime_get(kernel):
        return -errno.EINVAL
    _set_wall_offset(kernel, kernel.sched.boot_real_ns + delta)
    return 0


def do_sys_settimeofday64(task, ns, tz):
    """do_sys_settimeofday64(): the time checked (EINVAL), CAP_SYS_TIME
    (security_settime64: EPERM), the timezone's range (EINVAL, only now),
    then sys_tz and the clock.  tz is (minuteswest, dsttime) or None.
    The first timezone set without a time would warp a local-time RTC
    (timekeeping_warp_clock()): arm64 keeps its RTC in UTC."""
    from kernel.cred import CAP_SYS_TIME, capable
    if ns is not None and ns < 0:
        return -errno.EINVAL
    if not capable(task, CAP_SYS_TIME):
        return -errno.EPERM
    kernel = task.kernel
    if tz is not None:
        minuteswest, dsttime = tz
        if not -TZ_MINUTES_MAX <= minuteswest <= TZ_MINUTES_MAX:
            return -errno.EINVAL
        kernel.sys_tz = struct.unpack("<Q", _TZ.pack(minuteswest, dsttime))[0]
        from kernel.vdso import update_vsyscall
        update_vsyscall(kernel)
    if ns is not None:
        return do_settimeofday64(kernel, ns)
    return 0


def sys_tz(kernel):
    """sys_tz as (tz_minuteswest, tz_dsttime): UTC until settimeofday() sets it."""
    return _TZ.unpack(struct.pack("<Q", getattr(kernel, "sys_tz", 0)))
