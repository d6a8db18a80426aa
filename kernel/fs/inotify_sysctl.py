"""fs/notify/inotify/inotify_user.c's sysctls, /proc/sys/fs/inotify, and
the per-user instance count they limit (user_struct->inotify_devs).

fs.inotify.max_user_instances (4.14's default 128, 0644) is the board's
own: kernel/fs/inotify.py counts each user's instances and inotify_init1()
is EMFILE at the limit (the host's limit still applies beneath it, the
board's instances being host ones).  max_queued_events and
max_user_watches are the host's values, read-only: the host's queue and
watches are the ones that fill, and the board cannot change the host's.
Kept apart from kernel/fs/inotify.py, which loads ctypes, so that /proc
registering these costs nothing at start-up.
"""

import errno

INOTIFY_MAX_USER_INSTANCES = 128
INT_MAX = (1 << 31) - 1


def inotify_devs(kernel):
    """user_struct->inotify_devs for every uid: {uid: instances}."""
    devs = getattr(kernel, "inotify_devs", None)
    if devs is None:
        devs = kernel.inotify_devs = {}
    return devs


def max_user_instances(kernel):
    return getattr(kernel, "inotify_max_user_instances", INOTIFY_MAX_USER_INSTANCES)


def show_max_user_instances(ctx):
    return str(max_user_instances(ctx.kernel))


def write_max_user_instances(p, pos, data):
    """proc_dointvec_minmax(), 0..INT_MAX (root only by the file's mode)."""
    try:
        value = int(data.split()[0])
    except (ValueError, IndexError):
        return -errno.EINVAL
    if not 0 <= value <= INT_MAX:
        return -errno.EINVAL
    p.ctx.kernel.inotify_max_user_instances = value
    return len(data)


def host_limit(name):
    """fs.inotify.max_queued_events and max_user_watches: the host's queue
    and watches are the ones that fill, so the host's values are the
    board's, read-only (the board cannot change the host's)."""
    def show(ctx):
        with open("/proc/sys/fs/inotify/" + name) as f:
            return f.read().strip()
    return show
