"""net/core/dev_ioctl.c: the interface ioctls a socket answers for its
network namespace — SIOCGIFFLAGS and SIOCSIFFLAGS (what `ip link set lo up`
and `ifconfig lo up` use).

The board's interfaces are the host's as `--net` allows (kernel/net/socket.py):
under `loopback` only `lo` exists (any other name is ENODEV), under `host`
every host interface, under `none` none.  Their flags are the host's, read
through the socket's host descriptor.  Setting flags needs CAP_NET_ADMIN
(EPERM); flags equal to the current ones are a no-op, as dev_change_flags()
makes them; a change is EPERM: the board shares the host's interfaces and
does not model taking one up or down (a privilege it does not have).
"""

import errno
import fcntl as host_fcntl
import struct

from kernel.cred import CAP_NET_ADMIN, capable

SIOCGIFFLAGS, SIOCSIFFLAGS = 0x8913, 0x8914
IFNAMSIZ = 16
IFREQ_SIZE = 40                 # struct ifreq on a 64-bit kernel
LOOPBACK_IFNAME = b"lo"
_FLAGS = struct.Struct("<H")    # ifr_flags, a short after the name
# dev_change_flags(): the bits a caller may change (include/uapi/linux/if.h:
# UP, DEBUG, NOTRAILERS, NOARP, PROMISC, ALLMULTI, MULTICAST, PORTSEL,
# AUTOMEDIA, DYNAMIC); RUNNING, LOOPBACK... are the device's.
IFF_CHANGEABLE = 0x1 | 0x4 | 0x20 | 0x80 | 0x100 | 0x200 | 0x1000 | 0x2000 | 0x4000 | 0x8000


def _dev_get_by_name(task, name):
    """dev_get_by_name(): is there an interface of this name in the board's
    namespace?  (The host's answer for the flags comes later.)"""
    from kernel.net.socket import net_ns        # socket.py imports the fs layer
    mode = net_ns(task.kernel).mode
    if mode == "none":
        return False
    return mode == "host" or name == LOOPBACK_IFNAME


def dev_ioctl(task, file, cmd, arg):
    """dev_ioctl(): SIOCGIFFLAGS/SIOCSIFFLAGS on a socket; None for other
    commands.  The ifreq is copied in first (EFAULT), its name cut at
    IFNAMSIZ - 1, then the interface is looked up (ENODEV)."""
    if cmd not in (SIOCGIFFLAGS, SIOCSIFFLAGS):
        return None
    ifr = bytearray(task.uaccess.copy_from_user(arg, IFREQ_SIZE))
    ifr[IFNAMSIZ - 1] = 0
    name = bytes(ifr[:IFNAMSIZ]).split(b"\0")[0]
    if cmd == SIOCSIFFLAGS and not capable(task, CAP_NET_ADMIN):
        return -errno.EPERM
    if not _dev_get_by_name(task, name):
        return -errno.ENODEV
    try:
        host = host_fcntl.ioctl(file.host_fd, SIOCGIFFLAGS, bytes(ifr))
    except OSError as e:
        return -(e.errno or errno.ENODEV)
    current = _FLAGS.unpack_from(host, IFNAMSIZ)[0]
    if cmd == SIOCSIFFLAGS:
        wanted = _FLAGS.unpack_from(ifr, IFNAMSIZ)[0]
        return 0 if not (wanted ^ current) & IFF_CHANGEABLE else -errno.EPERM
    _FLAGS.pack_into(ifr, IFNAMSIZ, current)
    task.uaccess.copy_to_user(arg, bytes(ifr))
    return 0
