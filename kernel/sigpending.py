"""kernel/signal.c's __sigqueue_alloc()/__sigqueue_free() and struct
user_struct's sigpending count: RLIMIT_SIGPENDING.

Linux charges every queued siginfo (a struct sigqueue) to the user_struct
of the target's real uid, and refuses one more than the target's
RLIMIT_SIGPENDING unless the sender asked to override the limit.  A POSIX
timer's sigqueue is allocated (and charged to the creator) at
timer_create() and stays charged until the timer is deleted.

a53emu's queued siginfo is a SigInfo in a pending list; its charge is a
SigqueueCharge object it holds.  The count drops when the charge is freed,
which CPython does as soon as the last reference goes: when the signal is
dequeued, flushed (SIG_IGN, a stop or SIGCONT, exit) or its task is
reaped — the places where Linux calls __sigqueue_free().  Counting the
objects this way cannot miss a path that drops a pending signal.
"""

from kernel.uapi import RLIMIT_SIGPENDING, SI_USER, SIGKILL, SIGRTMIN


class SigqueueCharge:
    """One sigqueue's share of user_struct->sigpending (atomic_inc in
    __sigqueue_alloc(), atomic_dec + free_uid() in __sigqueue_free())."""

    __slots__ = ("counts", "uid")

    def __init__(self, counts, uid):
        self.counts = counts
        self.uid = uid
        counts[uid] = counts.get(uid, 0) + 1

    def __del__(self):
        self.counts[self.uid] -= 1


def user_sigpending(kernel, uid):
    """atomic_read(&user->sigpending): the siginfos queued for (and the
    POSIX timers held by) tasks of real uid `uid`, as /proc/PID/status's
    SigQ shows."""
    return getattr(kernel, "user_sigpending", {}).get(uid, 0)


def sigqueue_alloc(task, override_rlimit):
    """__sigqueue_alloc(): charge one sigqueue to task's real user; None
    (nothing charged) if that user would then have more than task's
    RLIMIT_SIGPENDING queued and the limit is not overridden.  Omitted:
    print_dropped_signal() (the log line under print-fatal-signals)."""
    kernel = task.kernel
    counts = getattr(kernel, "user_sigpending", None)
    if counts is None:
        counts = kernel.user_sigpending = {}
    uid = task.cred.uid
    if not override_rlimit and counts.get(uid, 0) + 1 > task.rlim[RLIMIT_SIGPENDING][0]:
        return None
    return SigqueueCharge(counts, uid)


def send_override_rlimit(info):
    """__send_signal()'s override_rlimit: a standard signal may exceed the
    limit unless user space sent it with a negative si_code (sigqueue,
    tkill, mq_notify); a real-time one never may."""
    return info.signo < SIGRTMIN and info.code >= 0


def overflow_fails(info):
    """__send_signal() when __sigqueue_alloc() failed: a real-time signal
    not sent by kill() (si_code != SI_USER) fails with EAGAIN; anything
    else is still made pending, without its siginfo."""
    return info.signo >= SIGRTMIN and info.code != SI_USER


def needs_sigqueue(info):
    """SIGKILL is made pending without a sigqueue (__send_signal's
    `goto out_set`); a POSIX timer's preallocated one is charged already."""
    return info.signo != SIGKILL and info.charge is None
