"""kernel/exit.c, kernel/sys.c, kernel/time/*.c, kernel/sched/core.c,
drivers/char/random.c: process identity, limits, time and system facts."""

import errno
import os
import resource
import struct
import time

from emu.arch import PAGE_SHIFT
from kernel.fs.namei import s32
from kernel.syscalls.table import NORETURN, syscall
from kernel.uapi import (
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_COARSE,
    CLOCK_THREAD_CPUTIME_ID, GRND_NONBLOCK, GRND_RANDOM, RLIM_NLIMITS,
    RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD, TIMER_ABSTIME,
)

_TIMESPEC = struct.Struct("<qq")
_RLIMIT = struct.Struct("<QQ")
UTS_RELEASE = "4.14.0-a53emu"
UTS_VERSION = "#1 SMP a53emu"

# Python's clock ids are the host's; these guest clocks map to them.
_HOST_CLOCK = {
    CLOCK_REALTIME: time.CLOCK_REALTIME, CLOCK_MONOTONIC: time.CLOCK_MONOTONIC,
    CLOCK_PROCESS_CPUTIME_ID: time.CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_THREAD_CPUTIME_ID: time.CLOCK_THREAD_CPUTIME_ID,
    CLOCK_MONOTONIC_RAW: time.CLOCK_MONOTONIC_RAW,
    CLOCK_REALTIME_COARSE: time.CLOCK_REALTIME, CLOCK_MONOTONIC_COARSE: time.CLOCK_MONOTONIC,
    CLOCK_BOOTTIME: time.CLOCK_BOOTTIME,
}


@syscall("exit", "d", ret="n")
def sys_exit(task, code):
    task.kernel.do_exit(task, (code & 0xFF) << 8)
    return NORETURN


@syscall("exit_group", "d", ret="n")
def sys_exit_group(task, code):
    task.kernel.do_exit(task, (code & 0xFF) << 8)
    return NORETURN


@syscall("getpid")
def sys_getpid(task):
    return task.tgid


@syscall("getppid")
def sys_getppid(task):
    return task.ppid


@syscall("gettid")
def sys_gettid(task):
    return task.pid


@syscall("getuid")
def sys_getuid(task):
    return os.getuid()


@syscall("geteuid")
def sys_geteuid(task):
    return os.geteuid()


@syscall("getgid")
def sys_getgid(task):
    return os.getgid()


@syscall("getegid")
def sys_getegid(task):
    return os.getegid()


@syscall("set_tid_address", "p")
def sys_set_tid_address(task, tidptr):
    task.clear_child_tid = tidptr
    return task.pid


@syscall("set_robust_list", "p u")
def sys_set_robust_list(task, head, length):
    if length != 24:                # sizeof(struct robust_list_head)
        return -errno.EINVAL
    task.robust_list = (head, length)
    return 0


@syscall("prlimit64", "d rlimit p p")
def sys_prlimit64(task, pid, resource_, new, old):
    """kernel/sys.c: prlimit64() on ourselves (pid 0 or our pid)."""
    pid = s32(pid)
    if pid not in (0, task.pid):
        return -errno.ESRCH
    if resource_ >= RLIM_NLIMITS:
        return -errno.EINVAL
    cur = task.rlim[resource_]
    newval = None
    if new:
        newval = _RLIMIT.unpack(task.uaccess.copy_from_user(new, 16))
        if newval[0] > newval[1]:
            return -errno.EINVAL
        if newval[1] > cur[1] and os.geteuid() != 0:
            return -errno.EPERM
    if old:
        task.uaccess.copy_to_user(old, _RLIMIT.pack(*cur))
    if newval is not None:
        task.rlim[resource_] = list(newval)
    return 0


@syscall("getrlimit", "rlimit p")
def sys_getrlimit(task, resource_, old):
    return sys_prlimit64(task, 0, resource_, 0, old)


@syscall("setrlimit", "rlimit p")
def sys_setrlimit(task, resource_, new):
    return sys_prlimit64(task, 0, resource_, new, 0)


@syscall("getrandom", "p u grnd")
def sys_getrandom(task, buf, count, flags):
    if flags & ~(GRND_NONBLOCK | GRND_RANDOM | 4):
        return -errno.EINVAL
    count = min(count, 33554431)            # Linux caps one call at 32 MiB - 1
    task.uaccess.copy_to_user(buf, os.urandom(count))
    return count


def _clock(clockid):
    clockid = s32(clockid)
    return _HOST_CLOCK.get(clockid)


@syscall("clock_gettime", "clock p")
def sys_clock_gettime(task, clockid, tp):
    host = _clock(clockid)
    if host is None:
        return -errno.EINVAL
    ns = time.clock_gettime_ns(host)
    task.uaccess.copy_to_user(tp, _TIMESPEC.pack(ns // 10**9, ns % 10**9))
    return 0


@syscall("clock_getres", "clock p")
def sys_clock_getres(task, clockid, tp):
    host = _clock(clockid)
    if host is None:
        return -errno.EINVAL
    if tp:
        task.uaccess.copy_to_user(tp, _TIMESPEC.pack(0, 1))
    return 0


@syscall("gettimeofday", "p p")
def sys_gettimeofday(task, tv, tz):
    if tv:
        ns = time.time_ns()
        task.uaccess.copy_to_user(tv, _TIMESPEC.pack(ns // 10**9, (ns % 10**9) // 1000))
    if tz:
        task.uaccess.copy_to_user(tz, bytes(8))
    return 0


def _read_timespec(task, addr):
    sec, nsec = _TIMESPEC.unpack(task.uaccess.copy_from_user(addr, 16))
    if sec < 0 or not 0 <= nsec < 10**9:
        return None
    return sec * 10**9 + nsec


@syscall("nanosleep", "p p")
def sys_nanosleep(task, req, rem):
    ns = _read_timespec(task, req)
    if ns is None:
        return -errno.EINVAL
    time.sleep(ns / 1e9)
    return 0


@syscall("clock_nanosleep", "clock d p p")
def sys_clock_nanosleep(task, clockid, flags, req, rem):
    host = _clock(clockid)
    if host is None or s32(clockid) in (CLOCK_THREAD_CPUTIME_ID,):
        return -errno.EINVAL
    ns = _read_timespec(task, req)
    if ns is None:
        return -errno.EINVAL
    if flags & TIMER_ABSTIME:
        ns -= time.clock_gettime_ns(host)
    if ns > 0:
        time.sleep(ns / 1e9)
    return 0


@syscall("sched_getaffinity", "d u p")
def sys_sched_getaffinity(task, pid, size, mask):
    """Every core of the board; returns the bytes written (a long's worth)."""
    ncpus = task.kernel.ncpus
    if s32(pid) not in (0, task.pid):
        return -errno.ESRCH
    if size * 8 < ncpus or size & 7:
        return -errno.EINVAL
    out = ((1 << ncpus) - 1).to_bytes(8, "little")
    task.uaccess.copy_to_user(mask, out)
    return len(out)


@syscall("sched_yield")
def sys_sched_yield(task):
    task.nvcsw += 1
    return 0


@syscall("getrusage", "rusage p")
def sys_getrusage(task, who, usage):
    """kernel/sys.c: getrusage() — fault counts are the kernel's own."""
    who = s32(who)
    if who not in (RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD):
        return -errno.EINVAL
    if who == RUSAGE_CHILDREN:
        fields = [0] * 18
    else:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        ut, st = ru.ru_utime, ru.ru_stime
        maxrss = task.mm.hiwater_rss << (PAGE_SHIFT - 10)
        fields = [int(ut), int(ut % 1 * 1e6), int(st), int(st % 1 * 1e6), maxrss, 0, 0, 0,
                  task.min_flt, task.maj_flt, 0, 0, 0, 0, 0, 0, task.nvcsw, 0]
    task.uaccess.copy_to_user(usage, struct.pack("<18q", *fields))
    return 0


@syscall("sysinfo", "p")
def sys_sysinfo(task, info):
    """kernel/sys.c: do_sysinfo() — RAM is the board's."""
    pages = task.kernel.pages
    uptime = int(time.monotonic() - task.kernel.boot_time)
    data = struct.pack("<q3QQQQQQQHH4xQQI", uptime, 0, 0, 0,
                       pages.nr_pages << PAGE_SHIFT, pages.nr_free << PAGE_SHIFT, 0, 0, 0, 0,
                       1, 0, 0, 0, 1)
    task.uaccess.copy_to_user(info, data.ljust(112, b"\0"))
    return 0


@syscall("uname", "p")
def sys_uname(task, buf):
    fields = ("Linux", os.uname().nodename, UTS_RELEASE, UTS_VERSION, "aarch64", "(none)")
    data = b"".join(f.encode()[:64].ljust(65, b"\0") for f in fields)
    task.uaccess.copy_to_user(buf, data)
    return 0


@syscall("kill", "d sig")
def sys_kill(task, pid, sig):
    pid = s32(pid)
    if pid not in (0, -1, task.pid):
        return -errno.ESRCH
    return task.kernel.send_signal(task, sig)


@syscall("tgkill", "d d sig")
def sys_tgkill(task, tgid, tid, sig):
    if s32(tgid) != task.tgid or s32(tid) != task.pid:
        return -errno.ESRCH if s32(tgid) > 0 and s32(tid) > 0 else -errno.EINVAL
    return task.kernel.send_signal(task, sig)


@syscall("tkill", "d sig")
def sys_tkill(task, tid, sig):
    if s32(tid) != task.pid:
        return -errno.ESRCH if s32(tid) > 0 else -errno.EINVAL
    return task.kernel.send_signal(task, sig)

