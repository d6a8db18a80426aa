"""kernel/capability.c: capget() and capset().

The header names a version: _LINUX_CAPABILITY_VERSION_1 moves one 32-bit
word per set, versions 2 and 3 two (the 64-bit sets).  An unknown version
is -EINVAL with the kernel's preferred version written back into the
header (and a NULL data pointer then makes capget() a version probe that
returns 0).  capset() changes only the caller (another pid is -EPERM) and
follows cap_capset(): no new inheritable bits beyond inheritable|permitted
without CAP_SETPCAP nor beyond the bounding set, permitted may only
shrink, effective must lie within permitted; ambient bits no longer both
permitted and inheritable are dropped.
"""

import errno
import struct

from kernel.cred import CAP_FULL_SET, CAP_SETPCAP, capable, commit_creds, prepare_creds
from kernel.syscalls.table import syscall
from kernel.uaccess import s32

_LINUX_CAPABILITY_VERSION_1 = 0x19980330
_LINUX_CAPABILITY_VERSION_2 = 0x20071026
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_KERNEL_CAPABILITY_VERSION = _LINUX_CAPABILITY_VERSION_3
_HEADER = struct.Struct("<Ii")                  # __user_cap_header_struct: version, pid
_DATA = struct.Struct("<III")                   # __user_cap_data_struct: eff, perm, inh
_U32_MASK = 0xFFFFFFFF


def cap_validate_magic(task, header):
    """cap_validate_magic(): how many 32-bit words each set has, or -errno
    (EFAULT reading the version; EINVAL for an unknown one, after writing
    the kernel's version back)."""
    version = struct.unpack("<I", task.uaccess.copy_from_user(header, 4))[0]
    if version == _LINUX_CAPABILITY_VERSION_1:
        return 1
    if version in (_LINUX_CAPABILITY_VERSION_2, _LINUX_CAPABILITY_VERSION_3):
        return 2
    task.uaccess.copy_to_user(header, struct.pack("<I", _KERNEL_CAPABILITY_VERSION))
    return -errno.EINVAL


def _find(task, pid):
    if pid == 0 or pid == task.pid:
        return task
    t = task.kernel.tasks.get(pid)
    return t if t is not None and t.exit_state is None else None


@syscall("capget", "p p")
def sys_capget(task, header, dataptr):
    tocopy = cap_validate_magic(task, header)
    if not dataptr or tocopy < 0:
        return 0 if not dataptr and tocopy == -errno.EINVAL else min(tocopy, 0)
    pid = struct.unpack("<i", task.uaccess.copy_from_user(header + 4, 4))[0]
    if pid < 0:
        return -errno.EINVAL
    target = _find(task, pid)
    if target is None:
        return -errno.ESRCH
    c = target.cred
    out = b"".join(_DATA.pack(c.cap_effective >> (32 * i) & _U32_MASK,
                              c.cap_permitted >> (32 * i) & _U32_MASK,
                              c.cap_inheritable >> (32 * i) & _U32_MASK) for i in range(tocopy))
    task.uaccess.copy_to_user(dataptr, out)
    return 0


def cap_capset(task, new, effective, inheritable, permitted):
    """cap_capset(): the security checks, then the new sets."""
    old = task.cred
    if not capable(task, CAP_SETPCAP) and \
            inheritable & ~(old.cap_inheritable | old.cap_permitted):
        return -errno.EPERM
    if inheritable & ~(old.cap_inheritable | old.cap_bset):
        return -errno.EPERM
    if permitted & ~old.cap_permitted:
        return -errno.EPERM
    if effective & ~permitted:
        return -errno.EPERM
    new.cap_effective, new.cap_inheritable, new.cap_permitted = effective, inheritable, permitted
    new.cap_ambient &= permitted & inheritable
    return 0


@syscall("capset", "p p")
def sys_capset(task, header, data):
    tocopy = cap_validate_magic(task, header)
    if tocopy < 0:
        return tocopy
    pid = s32(struct.unpack("<i", task.uaccess.copy_from_user(header + 4, 4))[0])
    if pid != 0 and pid != task.pid:
        return -errno.EPERM
    raw = task.uaccess.copy_from_user(data, tocopy * _DATA.size)
    sets = [0, 0, 0]
    for i in range(tocopy):
        for j, word in enumerate(_DATA.unpack_from(raw, i * _DATA.size)):
            sets[j] |= word << (32 * i)
    effective, permitted, inheritable = (v & CAP_FULL_SET for v in sets)
    new = prepare_creds(task)
    err = cap_capset(task, new, effective, inheritable, permitted)
    if err:
        return err
    return commit_creds(task, new)
