"""kernel/sysctl.c entries LTP asked for (issue 9), with what they govern:
kernel.tainted (panic.c's proc_taint), kernel.pid_max (pid.c's allocator,
kernel/main.py alloc_pid) and fs.pipe-user-pages-soft/-hard (fs/pipe.c's
per-user accounting of pipe buffers, which board pipes are charged to).

Each board has its own values; a guest root writes them (the files are
0644, and /proc/sys's test_perm() gives root the owner's bits).
"""

import errno
import stat as pystat

from kernel.cred import CAP_SYS_ADMIN, CAP_SYS_RESOURCE, capable
from kernel.fs.proc import proc_create
from kernel.sched.task import PID_MAX_DEFAULT, RESERVED_PIDS

# include/linux/threads.h (64-bit, CONFIG_BASE_SMALL=0)
PID_MAX_LIMIT = 4 * 1024 * 1024
PID_MAX_MIN = RESERVED_PIDS + 1         # pid.c's pid_max_min
# fs/pipe.c: 4.14's defaults (include/linux/pipe_fs_i.h, include/linux/fs.h)
PIPE_DEF_BUFFERS = 16
INR_OPEN_CUR = 1024
PIPE_USER_PAGES_SOFT = PIPE_DEF_BUFFERS * INR_OPEN_CUR
PIPE_USER_PAGES_HARD = 0
ULONG_MAX = (1 << 64) - 1
SYSCTL_MODE = pystat.S_IFREG | 0o644


def _first_value(data):
    """proc_get_long() of the first value: a decimal integer, optionally
    signed, before white space; None if there is none (EINVAL)."""
    words = data.split(b"\0")[0].split()
    if not words:
        return None
    try:
        return int(words[0], 10)
    except ValueError:
        return None


def pid_max(kernel):
    return getattr(kernel, "pid_max", PID_MAX_DEFAULT)


def _pid_max_write(p, pos, data):
    """proc_dointvec_minmax() with pid_max_min..pid_max_max: EINVAL outside."""
    value = _first_value(data)
    if value is None or not PID_MAX_MIN <= value <= PID_MAX_LIMIT:
        return -errno.EINVAL
    p.ctx.kernel.pid_max = value
    return len(data)


def _tainted_write(p, pos, data):
    """proc_taint(): CAP_SYS_ADMIN, then each bit set is added with
    add_taint() — a taint is never taken away."""
    if not capable(p.ctx.current, CAP_SYS_ADMIN):
        return -errno.EPERM
    value = _first_value(data)
    if value is None or not 0 <= value <= ULONG_MAX:
        return -errno.EINVAL
    kernel = p.ctx.kernel
    kernel.tainted_mask = getattr(kernel, "tainted_mask", 0) | value
    return len(data)


def _ulong_write(attr):
    """proc_doulongvec_minmax() without bounds: an unsigned long (a
    negative value is EINVAL)."""
    def write(p, pos, data):
        value = _first_value(data)
        if value is None or not 0 <= value <= ULONG_MAX:
            return -errno.EINVAL
        setattr(p.ctx.kernel, attr, value)
        return len(data)
    return write


def pipe_user_pages(kernel):
    """(soft, hard): fs.pipe-user-pages-soft and -hard of this board."""
    return (getattr(kernel, "pipe_user_pages_soft", PIPE_USER_PAGES_SOFT),
            getattr(kernel, "pipe_user_pages_hard", PIPE_USER_PAGES_HARD))


class PipeBuffers:
    """A pipe's share of user_struct->pipe_bufs (account_pipe_buffers()),
    held by both ends' File: given back when the pipe is freed
    (free_pipe_info(), when CPython frees the last end)."""

    __slots__ = ("counts", "uid", "n")

    def __init__(self, counts, uid, n):
        self.counts, self.uid, self.n = counts, uid, 0
        self.set(n)

    def set(self, n):
        """account_pipe_buffers(user, old, new)."""
        self.counts[self.uid] = self.counts.get(self.uid, 0) + n - self.n
        self.n = n

    def __del__(self):
        self.set(0)


def is_unprivileged_user(task):
    return not capable(task, CAP_SYS_RESOURCE) and not capable(task, CAP_SYS_ADMIN)


def too_many_pipe_buffers_soft(kernel, user_bufs):
    """4.14: at or above the soft limit (`>` since v4.16, b0b91d18e2e9)."""
    soft = pipe_user_pages(kernel)[0]
    return soft and user_bufs >= soft


def too_many_pipe_buffers_hard(kernel, user_bufs):
    hard = pipe_user_pages(kernel)[1]
    return hard and user_bufs >= hard


def alloc_pipe_info(task):
    """alloc_pipe_info()'s accounting: a new pipe charges PIPE_DEF_BUFFERS
    pages to the caller's user; an unprivileged user over the soft limit
    gets a pipe of one page, over the hard limit none (ENFILE).  Returns
    (PipeBuffers, pages) or -ENFILE.  The pipe-max-size cap on the default
    (a 4.14 admin may set it below 64 KiB) is the host's."""
    kernel = task.kernel
    counts = getattr(kernel, "user_pipe_bufs", None)
    if counts is None:
        counts = kernel.user_pipe_bufs = {}
    acct = PipeBuffers(counts, task.cred.uid, PIPE_DEF_BUFFERS)
    if too_many_pipe_buffers_soft(kernel, counts[acct.uid]) and is_unprivileged_user(task):
        acct.set(1)
    if too_many_pipe_buffers_hard(kernel, counts[acct.uid]) and is_unprivileged_user(task):
        acct.set(0)
        return -errno.ENFILE
    return acct, acct.n


def pipe_set_size_account(task, acct, nr_pages):
    """pipe_set_size()'s accounting: growing a pipe while over either limit
    is EPERM for an unprivileged user; the charge follows the new size."""
    kernel = task.kernel
    old = acct.n
    acct.set(nr_pages)
    user_bufs = acct.counts[acct.uid]
    if nr_pages > old and (too_many_pipe_buffers_hard(kernel, user_bufs)
                           or too_many_pipe_buffers_soft(kernel, user_bufs)) \
            and is_unprivileged_user(task):
        acct.set(old)
        return -errno.EPERM
    return 0


def register_sysctls():
    proc_create("/proc/sys/kernel/tainted",
                lambda c: "%d\n" % getattr(c.kernel, "tainted_mask", 0),
                mode=SYSCTL_MODE, write=_tainted_write)
    proc_create("/proc/sys/kernel/pid_max", lambda c: "%d\n" % pid_max(c.kernel),
                mode=SYSCTL_MODE, write=_pid_max_write)
    for name, attr, idx in (("soft", "pipe_user_pages_soft", 0),
                            ("hard", "pipe_user_pages_hard", 1)):
        proc_create("/proc/sys/fs/pipe-user-pages-" + name,
                    lambda c, idx=idx: "%d\n" % pipe_user_pages(c.kernel)[idx],
                    mode=SYSCTL_MODE, write=_ulong_write(attr))


register_sysctls()
