"""ipc/ipc_sysctl.c: the SysV IPC limits under /proc/sys/kernel.

Each board's IPC namespace keeps its own copy of the limits (struct
ipc_namespace's shm_ctlmax, shm_ctlall, shm_ctlmni, msg_ctlmax, msg_ctlmnb,
msg_ctlmni and sem_ctls[4]), starting from the defaults of
include/uapi/linux/{shm,msg,sem}.h; shmget(), msgget(), msgsnd(),
msgctl(), semget() and semop() check against them, and root may change
them by writing the files (mode 0644).  Omitted: shm_rmid_forced,
msg_next_id/sem_next_id/shm_next_id, auto_msgmni (a no-op in 4.14).
"""

import errno
import stat as pystat

from kernel.fs.proc import proc_create
from kernel.ipc.uapi import IPCMNI

INT_MAX = (1 << 31) - 1
ULONG_MAX = (1 << 64) - 1

# name -> (namespace attribute, lowest, highest): proc_doulongvec_minmax for
# the two shm sizes, proc_dointvec_minmax (ipc_mni or int_max) for the rest.
_SCALARS = {
    "shmmax": ("shm_ctlmax", 0, ULONG_MAX),
    "shmall": ("shm_ctlall", 0, ULONG_MAX),
    "shmmni": ("shm_ctlmni", 0, IPCMNI),
    "msgmax": ("msg_ctlmax", 0, INT_MAX),
    "msgmnb": ("msg_ctlmnb", 0, INT_MAX),
    "msgmni": ("msg_ctlmni", 0, IPCMNI),
}
SEM_CTLS = 4                    # semmsl, semmns, semopm, semmni


def _parse(data, count):
    """proc_get_long() for count values: decimal integers separated by
    white space; None when one is missing or is not a number."""
    words = data.split(b"\0")[0].split()
    if len(words) < count:
        return None
    try:
        return [int(w, 10) for w in words[:count]]
    except ValueError:
        return None


def _scalar_write(attr, lo, hi):
    """proc_ipc_dointvec_minmax() / proc_ipc_doulongvec_minmax(): one value
    in [lo, hi], else EINVAL."""
    def write(p, pos, data):
        values = _parse(data, 1)
        if values is None or not lo <= values[0] <= hi:
            return -errno.EINVAL
        setattr(p.ctx.kernel.ipc_ns, attr, values[0])
        return len(data)
    return write


def _sem_write(p, pos, data):
    """proc_ipc_sem_dointvec(): four ints; semmni at most IPCMNI (EINVAL)."""
    values = _parse(data, SEM_CTLS)
    if values is None or any(not -INT_MAX - 1 <= v <= INT_MAX for v in values):
        return -errno.EINVAL
    if not 0 <= values[3] <= IPCMNI:
        return -errno.EINVAL
    p.ctx.kernel.ipc_ns.sem_ctls = values
    return len(data)


def register_ipc_sysctls():
    """ipc_sysctl_init(): the files, each showing this board's value."""
    mode = pystat.S_IFREG | 0o644
    for name, (attr, lo, hi) in _SCALARS.items():
        proc_create("/proc/sys/kernel/" + name,
                    lambda c, attr=attr: "%d\n" % getattr(c.kernel.ipc_ns, attr),
                    mode=mode, write=_scalar_write(attr, lo, hi))
    proc_create("/proc/sys/kernel/sem",
                lambda c: "%d\t%d\t%d\t%d\n" % tuple(c.kernel.ipc_ns.sem_ctls),
                mode=mode, write=_sem_write)


register_ipc_sysctls()
# ipc/mq_sysctl.c's /proc/sys/fs/mqueue, registered with these (proc.py
# imports this module so that the files exist before any IPC call).
from kernel.ipc import mq_sysctl  # noqa: E402,F401
