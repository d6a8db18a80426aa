"""kernel/groups.c: the supplementary groups, getgroups() and setgroups().

The list is kept sorted (groups_sort()), so getgroups() returns the groups
in ascending order whatever order setgroups() gave them in.
"""

import errno
import struct

from kernel.cred import CAP_SETGID, NGROUPS_MAX, capable, commit_creds, prepare_creds, uid_valid
from kernel.syscalls.table import syscall
from kernel.uaccess import s32


@syscall("getgroups", "i groups")
def sys_getgroups(task, gidsetsize, grouplist):
    """getgroups(): the number of groups; with a non-zero size also the
    list, -EINVAL if it does not fit."""
    gidsetsize = s32(gidsetsize)
    if gidsetsize < 0:
        return -errno.EINVAL
    groups = task.cred.group_info
    if gidsetsize:
        if len(groups) > gidsetsize:
            return -errno.EINVAL
        task.uaccess.copy_to_user(grouplist, struct.pack("<%dI" % len(groups), *groups))
    return len(groups)


@syscall("setgroups", "i groups")
def sys_setgroups(task, gidsetsize, grouplist):
    """setgroups(): CAP_SETGID (-EPERM first), at most NGROUPS_MAX entries
    (-EINVAL), each a valid gid (-EINVAL), read from the user (-EFAULT)."""
    if not capable(task, CAP_SETGID):
        return -errno.EPERM
    gidsetsize = gidsetsize & 0xFFFFFFFF
    if gidsetsize > NGROUPS_MAX:
        return -errno.EINVAL
    groups = []
    for i in range(gidsetsize):             # groups_from_user(): fault or bad gid, in order
        gid = struct.unpack("<I", task.uaccess.copy_from_user(grouplist + 4 * i, 4))[0]
        if not uid_valid(gid):
            return -errno.EINVAL
        groups.append(gid)
    new = prepare_creds(task)
    new.group_info = tuple(sorted(groups))
    return commit_creds(task, new)
