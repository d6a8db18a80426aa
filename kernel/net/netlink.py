"""net/netlink/af_netlink.c, as far as a board needs it: AF_NETLINK
sockets that the board's kernel writes to.

The one user is mq_notify(SIGEV_THREAD): glibc and musl open a
NETLINK_ROUTE socket, hand it to the kernel with a 32-byte cookie, and a
helper thread recv()s the cookie back when a message arrives
(NOTIFY_WOKENUP) or the registration goes (NOTIFY_REMOVED) — ipc/mqueue.c's
netlink_sendskb().

A board netlink socket is a board Socket (kernel/net/socket.py) over one
end of a host AF_UNIX datagram pair; the kernel's end is the other, so the
host keeps the queue, message boundaries, blocking, MSG_PEEK/MSG_TRUNC and
poll.  Its address is struct sockaddr_nl: bind() takes a port id (0: one
is chosen, netlink_autobind(): the tgid if free, else -4096 downwards),
sending autobinds.

Messages to the kernel (port id 0) reach the board's rtnetlink, which has
no handlers (the board's network is not described over netlink): every
request is answered as rtnetlink_rcv_msg() answers a type it has no
handler for — an NLMSG_ERROR of -EOPNOTSUPP echoing the request
(netlink_ack()); messages without NLM_F_REQUEST or below NLMSG_MIN_TYPE
are acked only when NLM_F_ACK asks.  Messages to another port id go to
the board socket bound to it (ECONNREFUSED if none); the receiver sees
the sender as the kernel (port 0).  Only NETLINK_ROUTE exists (other
protocols: EPROTONOSUPPORT, as for a family not built in); multicast
groups are omitted (EPERM to send, as for a protocol without
NL_CFG_F_NONROOT_SEND and no CAP_NET_ADMIN; bind() to groups: EPERM
likewise, unless root).
"""

import errno
import socket as pysocket
import struct

from kernel.cred import capable
# This module is imported by kernel/net/socket.py's calls, after it loaded.
from kernel.net.socket import SOCK_MAX, Socket, _Borrowed

AF_NETLINK = 16
NETLINK_ROUTE = 0
MAX_LINKS = 32
SOCK_DGRAM, SOCK_RAW = 2, 3
SOCKADDR_NL = struct.Struct("<HHIi")        # nl_family, nl_pad, nl_pid, nl_groups
NLMSGHDR = struct.Struct("<IHHII")          # len, type, flags, seq, pid
NLMSG_HDRLEN = NLMSGHDR.size
NLMSG_ERROR = 2
NLMSG_MIN_TYPE = 0x10
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
CAP_NET_ADMIN = 12


def nlmsg_align(n):
    return (n + 3) & ~3


def _table(kernel):
    """The board's bound netlink port ids -> sockets (nl_table[].hash)."""
    table = getattr(kernel, "netlink_ports", None)
    if table is None:
        table = kernel.netlink_ports = {}
    return table


def netlink_create(task, type_, protocol, flags):
    """netlink_create(): (NetlinkSocket) or -errno — ESOCKTNOSUPPORT for a
    type other than SOCK_RAW/SOCK_DGRAM, EPROTONOSUPPORT for a protocol the
    board has not (only NETLINK_ROUTE)."""
    if type_ < 0 or type_ >= SOCK_MAX:
        return -errno.EINVAL
    if type_ not in (SOCK_RAW, SOCK_DGRAM):
        return -errno.ESOCKTNOSUPPORT
    if protocol < 0 or protocol >= MAX_LINKS or protocol != NETLINK_ROUTE:
        return -errno.EPROTONOSUPPORT
    return NetlinkSocket(task.kernel, type_, protocol, flags)


class NetlinkSocket(Socket):
    """A board netlink socket: our end of a host datagram pair; kernel_end
    is where the board's kernel puts the messages for it."""

    def __init__(self, kernel, type_, protocol, flags):
        mine, theirs = pysocket.socketpair(
            pysocket.AF_UNIX, pysocket.SOCK_DGRAM | pysocket.SOCK_NONBLOCK | pysocket.SOCK_CLOEXEC)
        super().__init__(kernel, mine, AF_NETLINK, type_, protocol, flags)
        self.external = False
        self.kernel_end = theirs
        self.portid = 0                 # nlk->portid; 0 until bound
        self.dst_portid = 0             # connect()'s destination

    def borrow(self):
        return _Borrowed(self.host_fd, pysocket.AF_UNIX, pysocket.SOCK_DGRAM, 0)

    def put(self):
        super().put()
        if self.refcount == 0 and self.kernel_end is not None:
            table = _table(self.kernel)
            if table.get(self.portid) is self:
                del table[self.portid]
            self.kernel_end.close()
            self.kernel_end = None

    def sendskb(self, data):
        """netlink_sendskb(): queue one message (dropped when the receive
        buffer is full, as netlink_overrun() would)."""
        if self.kernel_end is None:
            return
        try:
            self.kernel_end.send(data)
        except OSError:
            pass


def is_netlink(file):
    return isinstance(file, NetlinkSocket)


def netlink_insert(task, sock, portid):
    """netlink_insert(): bind sock to portid; -EADDRINUSE if taken."""
    table = _table(task.kernel)
    if portid in table:
        return -errno.EADDRINUSE
    table[portid] = sock
    sock.portid = portid
    return 0


def netlink_autobind(task, sock):
    """netlink_autobind(): the tgid if free, else -4096, -4097, ..."""
    if sock.portid:
        return 0
    table = _table(task.kernel)
    portid = task.tgid
    rover = -4096
    while portid in table:
        portid = rover
        rover -= 1
    return netlink_insert(task, sock, portid)


def parse_sockaddr_nl(raw):
    """(nl_pid, nl_groups) of a sockaddr_nl, or -EINVAL (short, or not
    AF_NETLINK)."""
    if len(raw) < SOCKADDR_NL.size:
        return -errno.EINVAL
    family, _pad, pid, groups = SOCKADDR_NL.unpack_from(raw)
    if family != AF_NETLINK:
        return -errno.EINVAL
    return pid & 0xFFFFFFFF, groups & 0xFFFFFFFF


def netlink_bind(task, sock, raw):
    """netlink_bind(): groups need CAP_NET_ADMIN for NETLINK_ROUTE here
    (EPERM); a bound socket may only bind its own port id again (EINVAL);
    port id 0 autobinds."""
    parsed = parse_sockaddr_nl(raw)
    if isinstance(parsed, int):
        return parsed
    pid, groups = parsed
    if groups and not capable(task, CAP_NET_ADMIN):
        return -errno.EPERM
    if sock.portid:
        return 0 if pid in (0, sock.portid) else -errno.EINVAL
    if pid:
        return netlink_insert(task, sock, pid - (1 << 32) if pid >= 1 << 31 else pid)
    return netlink_autobind(task, sock)


def netlink_getname(sock, peer):
    """netlink_getname(): our port id, or the connected destination."""
    return SOCKADDR_NL.pack(AF_NETLINK, 0, (sock.dst_portid if peer else sock.portid) & 0xFFFFFFFF,
                            0)


def kernel_sockaddr():
    """The source address of what the kernel sent: port 0, no groups."""
    return SOCKADDR_NL.pack(AF_NETLINK, 0, 0, 0)


def netlink_connect(task, sock, raw):
    """netlink_connect(): AF_UNSPEC disconnects; else the destination,
    after an autobind."""
    if len(raw) >= 2 and struct.unpack_from("<H", raw)[0] == 0:
        sock.dst_portid = 0
        return 0
    parsed = parse_sockaddr_nl(raw)
    if isinstance(parsed, int):
        return parsed
    pid, groups = parsed
    if groups:
        return -errno.EPERM
    err = netlink_autobind(task, sock)
    if err:
        return err
    sock.dst_portid = pid
    return 0


def netlink_ack(sock, body, err):
    """netlink_ack(): NLMSG_ERROR with err; an error echoes the whole
    request (no NETLINK_CAP_ACK), a plain ack its header."""
    length, _type, _flags, seq, _pid = NLMSGHDR.unpack_from(body)
    echoed = body[:length] if err else body[:NLMSG_HDRLEN]
    payload = struct.pack("<i", err) + echoed
    sock.sendskb(NLMSGHDR.pack(NLMSG_HDRLEN + len(payload), NLMSG_ERROR, 0, seq,
                               sock.portid & 0xFFFFFFFF) + payload)


def rtnetlink_rcv(sock, data):
    """netlink_rcv_skb() + rtnetlink_rcv_msg() with no handlers."""
    while len(data) >= NLMSG_HDRLEN:
        length, type_, flags, _seq, _pid = NLMSGHDR.unpack_from(data)
        if length < NLMSG_HDRLEN or len(data) < length:
            return
        err = 0
        if flags & NLM_F_REQUEST and type_ >= NLMSG_MIN_TYPE:
            err = -errno.EOPNOTSUPP
        if flags & NLM_F_ACK or err:
            netlink_ack(sock, data, err)
        data = data[min(nlmsg_align(length), len(data)):]


def netlink_sendmsg(task, sock, data, dst):
    """netlink_sendmsg(): dst is (port id, groups) or None (connected);
    groups need CAP_NET_ADMIN (EPERM); autobind; then the kernel (port 0)
    or the board socket bound to the port id (ECONNREFUSED if none)."""
    if dst is None:
        pid, groups = sock.dst_portid, 0
    else:
        pid, groups = dst
    if groups and not capable(task, CAP_NET_ADMIN):
        return -errno.EPERM
    err = netlink_autobind(task, sock)
    if err:
        return err
    if pid == 0:
        rtnetlink_rcv(sock, data)
        return len(data)
    target = _table(task.kernel).get(pid - (1 << 32) if pid >= 1 << 31 else pid)
    if target is None:
        return -errno.ECONNREFUSED
    target.sendskb(data)
    return len(data)
