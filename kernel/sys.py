"""kernel/sys.c: prctl() — the per-process knobs a board can honour.

PR_SET_NAME/PR_GET_NAME (the comm), PR_SET_PDEATHSIG/PR_GET_PDEATHSIG,
PR_SET_DUMPABLE/PR_GET_DUMPABLE, PR_SET_CHILD_SUBREAPER/PR_GET_CHILD_SUBREAPER
(orphans go to the nearest subreaper ancestor instead of init),
PR_SET_NO_NEW_PRIVS/PR_GET_NO_NEW_PRIVS, PR_GET_TIMERSLACK.  Any other option
is -EINVAL, which is what 4.14 answers for options it does not know.
"""

import errno
import struct

from kernel.syscalls.table import syscall
from kernel.uapi import NSIG

PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2
PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4
PR_SET_NAME, PR_GET_NAME = 15, 16
PR_GET_TIMERSLACK = 30
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 38, 39
TASK_COMM_LEN = 16
DEFAULT_TIMER_SLACK_NS = 50000


@syscall("prctl", "d x x x x")
def sys_prctl(task, option, arg2, arg3, arg4, arg5):
    option &= 0xFFFFFFFF
    um = task.uaccess
    if option == PR_SET_NAME:
        name = um.strncpy_from_user(arg2, TASK_COMM_LEN - 1)
        task.comm = name[:TASK_COMM_LEN - 1].decode("latin-1")
        return 0
    if option == PR_GET_NAME:
        um.copy_to_user(arg2, task.comm.encode("latin-1")[:TASK_COMM_LEN - 1].ljust(
            TASK_COMM_LEN, b"\0"))
        return 0
    if option == PR_SET_PDEATHSIG:
        if not 0 <= arg2 <= NSIG:
            return -errno.EINVAL
        task.pdeath_signal = arg2
        return 0
    if option == PR_GET_PDEATHSIG:
        um.copy_to_user(arg2, struct.pack("<i", task.pdeath_signal))
        return 0
    if option == PR_GET_DUMPABLE:
        return task.signal.dumpable
    if option == PR_SET_DUMPABLE:
        if arg2 not in (0, 1):
            return -errno.EINVAL
        task.signal.dumpable = arg2
        return 0
    if option == PR_SET_CHILD_SUBREAPER:
        task.signal.is_child_subreaper = bool(arg2)
        return 0
    if option == PR_GET_CHILD_SUBREAPER:
        um.copy_to_user(arg2, struct.pack("<i", int(task.signal.is_child_subreaper)))
        return 0
    if option == PR_SET_NO_NEW_PRIVS:
        if arg2 != 1 or arg3 or arg4 or arg5:
            return -errno.EINVAL
        task.no_new_privs = True
        return 0
    if option == PR_GET_NO_NEW_PRIVS:
        if arg2 or arg3 or arg4 or arg5:
            return -errno.EINVAL
        return int(task.no_new_privs)
    if option == PR_GET_TIMERSLACK:
        return DEFAULT_TIMER_SLACK_NS
    return -errno.EINVAL
