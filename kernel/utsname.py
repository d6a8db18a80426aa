"""kernel/utsname.c + kernel/sys.c: the board's struct new_utsname, which
uname(), sethostname()/setdomainname() and /proc/sys/kernel/{ostype,
osrelease,version,hostname,domainname} all read and write.

The node name starts as the host's (what uname() has always reported); the
domain name is "(none)" as on a kernel nobody configured.
"""

import errno
import os

from kernel.syscalls.table import syscall

UTS_RELEASE = "4.14.0-a53emu"
UTS_VERSION = "#1 SMP a53emu"
__NEW_UTS_LEN = 64
CAP_SYS_ADMIN = 21


def utsname(kernel):
    """init_uts_ns.name of this kernel (made on first use)."""
    uts = getattr(kernel, "uts", None)
    if uts is None:
        uts = kernel.uts = {"sysname": "Linux", "nodename": os.uname().nodename,
                            "release": UTS_RELEASE, "version": UTS_VERSION,
                            "machine": "aarch64", "domainname": "(none)"}
    return uts


def set_uts(kernel, field, value):
    utsname(kernel)[field] = value
    uts_proc_notify(kernel, field)


def uts_poll(kernel, field):
    """The ctl_table_poll of the hostname or domainname sysctl: [event
    count, WaitQueue] (kernel/utsname_sysctl.c DEFINE_CTL_TABLE_POLL)."""
    from kernel.sched.wait import WaitQueue
    polls = kernel.__dict__.setdefault("uts_polls", {})
    if field not in polls:
        polls[field] = [0, WaitQueue("uts " + field)]
    return polls[field]


def uts_proc_notify(kernel, field):
    """uts_proc_notify() → proc_sys_poll_notify(): a new name is an event
    for pollers of its sysctl file."""
    poll = uts_poll(kernel, field)
    poll[0] += 1
    poll[1].wake_up()


def _set_name(task, field, addr, length):
    """sethostname()/setdomainname(): CAP_SYS_ADMIN first, then the length
    (0..64), then the copy (EFAULT)."""
    from kernel.fs.proc import capable
    if not capable(task, CAP_SYS_ADMIN):
        return -errno.EPERM
    length &= 0xFFFFFFFF
    if length >= 1 << 31:
        length -= 1 << 32
    if length < 0 or length > __NEW_UTS_LEN:
        return -errno.EINVAL
    data = task.uaccess.copy_from_user(addr, length)
    set_uts(task.kernel, field, data.decode("latin-1"))
    return 0


@syscall("sethostname", "ibuf:1 u")
def sys_sethostname(task, name, length):
    """sethostname(): the board's node name (uname, /proc/sys/kernel/hostname)."""
    return _set_name(task, "nodename", name, length)


@syscall("setdomainname", "ibuf:1 u")
def sys_setdomainname(task, name, length):
    """setdomainname(): the board's NIS domain name."""
    return _set_name(task, "domainname", name, length)
