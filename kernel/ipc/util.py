"""ipc/util.c: what SysV shm, sem and msg share — ids, keys, permissions.

An object's id is SEQ_MULTIPLIER * seq + index: the index is the lowest
free slot of its class (idr_alloc), seq counts the objects ever made, so a
stale id of a destroyed object does not name its slot's next tenant.
"""

import errno
import struct

from kernel.cred import CAP_IPC_OWNER, CAP_SYS_ADMIN, capable as cred_capable, in_group_p
from kernel.ipc.uapi import IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPCMNI
from kernel.time.timekeeping import NSEC_PER_SEC, ktime_get_real

SEQ_MULTIPLIER = IPCMNI
IPCID_SEQ_MAX = 0x7FFFFFFF // SEQ_MULTIPLIER        # INT_MAX / SEQ_MULTIPLIER
S_IRWXUGO = 0o777
S_IRUGO, S_IWUGO = 0o444, 0o222

# struct ipc64_perm (asm-generic, 64-bit): key, uid, gid, cuid, cgid, mode,
# seq, __pad2, two unused longs.
IPC64_PERM = struct.Struct("<iIIIIIHH4xQQ")


def s32(value):
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def get_seconds(kernel):
    """ktime_get_real_seconds(): the board's wall clock, in seconds."""
    return ktime_get_real(kernel) // NSEC_PER_SEC


class KernIpcPerm:
    """struct kern_ipc_perm: what every SysV object starts with."""

    def __init__(self, task, key, mode):
        uid, gid = task.cred.euid, task.cred.egid
        self.key = key
        self.uid = self.cuid = uid
        self.gid = self.cgid = gid
        self.mode = mode & S_IRWXUGO
        self.id = -1
        self.seq = 0
        self.deleted = False

    def pack(self):
        return IPC64_PERM.pack(self.key, self.uid, self.gid, self.cuid, self.cgid, self.mode,
                               self.seq & 0xFFFF, 0, 0, 0)


def current_euid(task):
    """current_euid(): the guest's effective uid (kernel/cred.py)."""
    return task.cred.euid


def capable(task, cap):
    """ns_capable(cap) in the initial IPC namespace (kernel/cred.py)."""
    return cred_capable(task, cap)


def ipcperms(task, perm, flag):
    """ipcperms(): 0 if the caller may access perm as flag's low nine bits
    ask (owner, then group, then other bits decide), else -1."""
    requested = (flag >> 6) | (flag >> 3) | flag
    granted = perm.mode
    euid = current_euid(task)
    if euid in (perm.cuid, perm.uid):
        granted >>= 6
    elif in_group_p(task.cred, perm.cgid) or in_group_p(task.cred, perm.gid):
        granted >>= 3
    if requested & ~granted & 0o7 and not capable(task, CAP_IPC_OWNER):
        return -1
    return 0


def ipc_addid(ids, obj, limit):
    """ipc_addid(): give obj the lowest free index and the next sequence
    number; its id, or -ENOSPC when the class is full."""
    if ids.in_use >= limit:
        return -errno.ENOSPC
    idx = 0
    while idx in ids.entries:
        idx += 1
    perm = obj.perm
    perm.seq = ids.seq
    ids.seq = 0 if ids.seq + 1 > IPCID_SEQ_MAX else ids.seq + 1
    perm.id = SEQ_MULTIPLIER * perm.seq + idx
    ids.entries[idx] = obj
    ids.in_use += 1
    return perm.id


def ipc_rmid(ids, obj):
    """ipc_rmid(): the object leaves its class; its id names nothing now."""
    del ids.entries[obj.perm.id % SEQ_MULTIPLIER]
    ids.in_use -= 1
    obj.perm.deleted = True


def ipc_findkey(ids, key):
    for obj in ids.entries.values():
        if obj.perm.key == key:
            return obj
    return None


def ipc_obtain_for_stat(task, ids, ident, by_index):
    """The object an IPC_STAT (by id) or *_STAT (by index) command reads:
    -EINVAL if there is none, -EACCES without read permission (ipcperms)."""
    obj = ipc_obtain_object_idr(ids, ident) if by_index else ipc_obtain_object_check(ids, ident)
    if isinstance(obj, int):
        return obj
    return -errno.EACCES if ipcperms(task, obj.perm, S_IRUGO) else obj


def ipc_obtain_object_idr(ids, ident):
    """ipc_obtain_object_idr(): the object at the id's index (the sequence
    number is not checked: *_STAT commands take an index), or -EINVAL."""
    obj = ids.entries.get(ident % SEQ_MULTIPLIER) if ident >= 0 else None
    return obj if obj is not None else -errno.EINVAL


def ipc_obtain_object_check(ids, ident):
    """ipc_obtain_object_check(): the object the id names, sequence number
    included, or -EINVAL."""
    obj = ipc_obtain_object_idr(ids, ident)
    if isinstance(obj, int):
        return obj
    if ident // SEQ_MULTIPLIER != obj.perm.seq:
        return -errno.EINVAL
    return obj


def ipcget(task, ids, key, flg, newobj, more_checks=None):
    """ipcget(): IPC_PRIVATE always makes a new object; a key finds its
    object (-EEXIST with IPC_CREAT|IPC_EXCL, then the class's own checks,
    then -EACCES) or makes one with IPC_CREAT (-ENOENT without)."""
    if key == IPC_PRIVATE:
        return newobj()
    obj = ipc_findkey(ids, key)
    if obj is None:
        if not flg & IPC_CREAT:
            return -errno.ENOENT
        return newobj()
    if flg & IPC_CREAT and flg & IPC_EXCL:
        return -errno.EEXIST
    if more_checks is not None:
        err = more_checks(obj)
        if err:
            return err
    if ipcperms(task, obj.perm, flg):
        return -errno.EACCES
    return obj.perm.id


def ipcctl_pre_down(task, ids, ident):
    """ipcctl_pre_down_nolock(): the object for IPC_SET/IPC_RMID, which only
    its owner, its creator or root may change; else -EINVAL / -EPERM."""
    obj = ipc_obtain_object_check(ids, ident)
    if isinstance(obj, int):
        return obj
    euid = current_euid(task)
    if euid in (obj.perm.cuid, obj.perm.uid) or capable(task, CAP_SYS_ADMIN):
        return obj
    return -errno.EPERM


def ipc_update_perm(perm, data):
    """ipc_update_perm(): IPC_SET takes uid, gid and the nine mode bits from
    the user's ipc64_perm; -EINVAL for an invalid (-1) uid or gid."""
    _key, uid, gid, _cuid, _cgid, mode, *_ = IPC64_PERM.unpack_from(data)
    if uid == 0xFFFFFFFF or gid == 0xFFFFFFFF:
        return -errno.EINVAL
    perm.uid, perm.gid = uid, gid
    perm.mode = (perm.mode & ~S_IRWXUGO) | (mode & S_IRWXUGO)
    return 0


# /proc/sysvipc/NAME -> function(kernel) giving its text; each class registers
# its file (ipc_init_proc_interface()).
SYSVIPC_PROC = {}


def sysvipc_proc_show(kernel, name):
    """The text of /proc/sysvipc/NAME; KeyError if there is no such file."""
    # Each class's module registers its file when imported; a lazy system-call
    # table (kernel/syscalls/table.py) may not have imported them yet.
    from kernel.ipc import msg, sem, shm  # noqa: F401
    return SYSVIPC_PROC[name](kernel)
