"""ipc/mq_sysctl.c: the POSIX message-queue limits under /proc/sys/fs/mqueue.

Each board's IPC namespace (kernel/ipc/namespace.py) keeps queues_max,
msg_max, msgsize_max, msg_default and msgsize_default (struct
ipc_namespace's mq_queues_max, mq_msg_max, ...), starting from 4.14's
DFLT_QUEUESMAX, DFLT_MSGMAX and DFLT_MSGSIZEMAX; mq_open()
(kernel/ipc/mqueue.py) checks against them and root may change them by
writing the files (mode 0644).  The message limits
are proc_ipc_dointvec_minmax() between MIN_* and HARD_*; queues_max is a
plain proc_ipc_dointvec().
"""

import errno
import stat as pystat

from kernel.fs.proc import proc_create
from kernel.ipc.uapi import HARD_MSGMAX, HARD_MSGSIZEMAX, MIN_MSGMAX, MIN_MSGSIZEMAX

INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1

# name -> (namespace attribute, lowest, highest)
MQ_SYSCTLS = {
    "queues_max": ("mq_queues_max", INT_MIN, INT_MAX),
    "msg_max": ("mq_msg_max", MIN_MSGMAX, HARD_MSGMAX),
    "msgsize_max": ("mq_msgsize_max", MIN_MSGSIZEMAX, HARD_MSGSIZEMAX),
    "msg_default": ("mq_msg_default", MIN_MSGMAX, HARD_MSGMAX),
    "msgsize_default": ("mq_msgsize_default", MIN_MSGSIZEMAX, HARD_MSGSIZEMAX),
}


def _write(attr, lo, hi):
    """proc_ipc_dointvec_minmax(): one decimal value in [lo, hi], else EINVAL."""
    def write(p, pos, data):
        words = data.split(b"\0")[0].split()
        try:
            value = int(words[0], 10)
        except (IndexError, ValueError):
            return -errno.EINVAL
        if not lo <= value <= hi:
            return -errno.EINVAL
        setattr(p.ctx.kernel.ipc_ns, attr, value)
        return len(data)
    return write


def register_mq_sysctls():
    """mq_register_sysctl_table(): the files, each showing this board's value."""
    mode = pystat.S_IFREG | 0o644
    for name, (attr, lo, hi) in MQ_SYSCTLS.items():
        proc_create("/proc/sys/fs/mqueue/" + name,
                    lambda c, attr=attr: "%d\n" % getattr(c.kernel.ipc_ns, attr),
                    mode=mode, write=_write(attr, lo, hi))


register_mq_sysctls()
