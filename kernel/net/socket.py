"""net/socket.c + net/unix/af_unix.c + net/ipv4: sockets over the host's.

Every board socket is a host socket of the same family and type, always
non-blocking on the host: the host kernel keeps the buffers, message
boundaries, connection state, EPIPE and ECONNREFUSED; a call that would
block puts only its task to sleep (WouldBlock on the host descriptor, as
pipes do).  What the board must decide itself:

  - names.  AF_UNIX path names go through the board's path lookup (the
    sysroot, the task's working directory or dirfd) and are bound on the
    host at the resolved place.  Abstract names (sun_path[0] == 0) are the
    board's own: a table per board maps each to a socket file in a private
    temporary directory (removed when the board goes), so neither the host
    nor another board sees them, and getsockname()/getpeername()/accept()
    translate back to the names the guest used.
  - descriptors passed with SCM_RIGHTS are board files, not host ones: the
    sender's files are parked in a per-board table, and a host pipe's
    read end travels in their place through the host socket as a "token"
    (so the host keeps the message boundaries and order); the receiver
    swaps each token back for its file.  A message dropped unread (its
    socket closed, a control buffer too small) lets its files go when the
    next AF_UNIX socket is released (the token's pipe then has no reader).
  - AF_INET/AF_INET6 reach the host's network only as `--net` allows:
      none      the board's kernel has no IPv4/IPv6 (a kernel built without
                CONFIG_INET/CONFIG_IPV6): socket() is EAFNOSUPPORT;
      loopback  (default) the board's network namespace has only `lo`:
                binding a non-loopback address is EADDRNOTAVAIL, reaching
                one ENETUNREACH (no route); the wildcard address is bound
                as the loopback address on the host, but shown as given;
      host      the host's interfaces, unfiltered.
  - SO_PEERCRED and the credentials of accept()ed peers are the board's
    tasks', not the host process's.
"""

import ctypes
import errno
import os
import select
import shutil
import socket as pysocket
import stat
import struct
import tempfile
import weakref

from kernel.cred import CAP_NET_BIND_SERVICE, capable
from kernel.fs.file import File
from kernel.fs.namei import PathError, host_path
from kernel.fs.permission import inode_init_owner, may_mkobj, may_write_socket
from kernel.iov_iter import IovIter, readable_prefix
from kernel.net.scm import (
    SO_PASSCRED, UCRED, CredToken, maybe_add_creds, peer_ucred, receiver_of, scm_check_creds,
    scm_recv_ucred, take_cred_tokens,
)
from kernel.fs.poll import POLLERR, POLLIN, POLLOUT, host_poll_mask
from kernel.sched.wait import ERESTARTSYS, WouldBlock
from kernel.signal import signal_pending
from kernel.syscalls.table import syscall
from kernel.time.timekeeping import timespec_valid
from kernel.uaccess import Efault, s32
from kernel.uapi import AT_FDCWD, O_CLOEXEC, O_NONBLOCK, O_PATH, O_RDWR

AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6 = 0, 1, 2, 10
AF_NETLINK = 16                             # kernel/net/netlink.py
AF_MAX = 44                                 # 4.14's NPROTO
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET = 1, 2, 3, 5
SOCK_MAX = 11
SOCK_TYPE_MASK = 0xF
SOCK_NONBLOCK, SOCK_CLOEXEC = O_NONBLOCK, O_CLOEXEC
SOL_SOCKET = 1
SCM_RIGHTS, SCM_CREDENTIALS = 1, 2
SO_TYPE, SO_ERROR, SO_PEERCRED = 3, 4, 17
SO_RCVTIMEO, SO_SNDTIMEO, SO_PROTOCOL, SO_DOMAIN = 20, 21, 38, 39
MSG_OOB, MSG_PEEK, MSG_DONTROUTE, MSG_CTRUNC, MSG_TRUNC = 0x1, 0x2, 0x4, 0x8, 0x20
MSG_DONTWAIT, MSG_EOR, MSG_WAITALL, MSG_NOSIGNAL, MSG_MORE = 0x40, 0x80, 0x100, 0x4000, 0x8000
MSG_ERRQUEUE = 0x2000
MSG_CMSG_CLOEXEC = 0x40000000
SHUT_RDWR = 2
UNIX_PATH_MAX = 108
SCM_MAX_FD = 253
# struct sockaddr_un / sockaddr_in / sockaddr_in6 and struct msghdr (arm64).
SOCKADDR_UN_SIZE = 2 + UNIX_PATH_MAX
SOCKADDR_IN_SIZE = 16
SIN6_LEN_RFC2133 = 24
SOCKADDR_IN6_SIZE = 28
SOCKADDR_STORAGE_SIZE = 128
_MSGHDR = struct.Struct("<QI4xQQQQi4x")     # name, namelen, iov, iovlen, control, controllen, flags
_CMSGHDR = struct.Struct("<Qii")            # cmsg_len, cmsg_level, cmsg_type
_IOVEC = struct.Struct("<QQ")
_TIMEVAL = struct.Struct("<qq")
UIO_MAXIOV = 1024
MAX_RW_COUNT = 0x7FFFF000          # INT_MAX & PAGE_MASK: the most one call moves
# The most we ask the host for in one receive: more than any host socket
# buffer holds, and a short read is always allowed on a stream.
HOST_RECV_MAX = 1 << 22
# CMSG_SPACE(sizeof(int)) on the host: room for one more descriptor (a
# credentials token, kernel/net/scm.py) beyond what the guest asked for.
HOST_CRED_TOKEN_SPACE = 24
# A send copies at most this much of the guest's buffer at a time.
SEND_WINDOW = 1 << 20
# A datagram no host socket takes (unix: sk_sndbuf - 32 with sk_sndbuf at most
# 2 * net.core.wmem_max, 212992 by default; UDP: 65507): EMSGSIZE at once,
# without copying it.
DGRAM_MAX = HOST_RECV_MAX
# net.core.optmem_max (sysctl_optmem_max): the most ancillary data one
# sendmsg() may carry.
OPTMEM_MAX = 20480
# The most of a setsockopt() value handed to the host (the largest option
# value Linux reads is far smaller: a filter program is a pointer).
SETSOCKOPT_MAX = 1 << 16
NET_MODES = ("none", "loopback", "host")     # --net; the default is loopback


def cmsg_align(n):
    return (n + 7) & ~7


# -- the board's socket state ------------------------------------------------------------

class NetNamespace:
    """What one board's network stack keeps: the --net policy, the abstract
    AF_UNIX names, the names bound by path, SCM_RIGHTS files in flight and
    the credentials of connections not yet accepted."""

    def __init__(self, kernel):
        self.mode = getattr(kernel, "net_mode", "loopback")
        self.abstract = {}              # abstract name -> Socket bound to it
        self.host_names = {}            # host address (bytes) -> guest sun_path bytes
        self.bound = {}                 # host address (bytes) -> Socket bound to it
        self.inflight = {}              # token pipe inode -> (File, the pipe's write end)
        self.backlog_creds = {}         # host address of a listener -> [(pid, uid, gid)]
        self.backlog_peers = {}         # host address of a listener -> [weakref to the connector]
        self._dir = None

    def park(self, file):
        """A file going out with SCM_RIGHTS: a host token to send in its
        place — the read end of a new pipe.  We keep the write end, which
        says (POLLERR) when every copy of the token is gone: the message
        was dropped unread (its socket closed, or the receiver's control
        buffer was too small), and the file must be let go, as
        unix_destruct_scm() does."""
        r, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self.inflight[os.fstat(r).st_ino] = (file.get(), w)
        return r

    def unpark(self, token, peek=False):
        """The file a received token stands for (None if unknown), with a
        reference for the receiver; the token is closed.  A peek leaves the
        message, and so the parked file, in flight."""
        ino = os.fstat(token).st_ino
        os.close(token)
        if peek:
            entry = self.inflight.get(ino)
            return entry[0].get() if entry is not None else None
        entry = self.inflight.pop(ino, None)
        if entry is None:
            return None
        os.close(entry[1])
        return entry[0]

    def drop(self, token):
        """A send that failed: its token never left."""
        file = self.unpark(token)
        if file is not None:
            file.put()

    def collect(self):
        """unix_gc() for us: release the files of messages dropped unread."""
        for ino, (file, w) in list(self.inflight.items()):
            if host_poll_mask(w, POLLOUT) & POLLERR and self.inflight.pop(ino, None):
                os.close(w)
                file.put()

    def private_dir(self):
        """The temporary directory where abstract names live on the host."""
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="a53emu-unix-")
            weakref.finalize(self, shutil.rmtree, self._dir, True)
        return self._dir

    def abstract_host_path(self, name):
        """A short host path for abstract name (sun_path is only 108 bytes)."""
        import hashlib      # here, not at start-up (issue 8)
        digest = hashlib.sha256(name).hexdigest()[:32]
        return os.fsencode(os.path.join(self.private_dir(), digest))


def net_ns(kernel):
    ns = getattr(kernel, "net_ns", None)
    if ns is None:
        ns = kernel.net_ns = NetNamespace(kernel)
    return ns


class Socket(File):
    """struct socket + its file: a host socket of the same family and type."""

    def __init__(self, kernel, sock, family, type_, protocol, flags):
        fd = sock.detach()
        super().__init__(kernel, fd, "socket:", O_RDWR | (flags & O_NONBLOCK),
                         mode=stat.S_IFSOCK | 0o777)
        self.owned_nonblock = True
        self.family, self.type, self.protocol = family, type_, protocol
        ino = os.fstat(fd).st_ino
        self.path = self.d_name = "socket:[%d]" % ino
        self.guest_name = None          # the address the guest bound, as it gave it
        self.abstract = None            # our abstract name, if bound to one
        self.host_bound = None          # the host address bound (path sockets)
        self.peer_cred = None           # (pid, uid, gid) of the peer, for SO_PEERCRED
        self.listen_cred = None
        self.peer = None                # weakref to the connected board socket (kernel/net/scm.py)
        self.passcred = False           # SO_PASSCRED, the board's (kernel/net/scm.py)
        self.bound_ino = None           # (dev, ino) of the socket file bound to
        self.external = family != AF_UNIX   # may the host's processes make it ready?
        self.timeo = {SO_RCVTIMEO: 0, SO_SNDTIMEO: 0}
        self.wildcard = False           # bound to INADDR_ANY/in6addr_any under --net loopback

    def borrow(self):
        return _Borrowed(self.host_fd, self.family, self.type, self.protocol)

    def put(self):
        super().put()
        if self.refcount == 0 and self.family == AF_UNIX:
            net_ns(self.kernel).collect()       # its queue may have held files
        if self.refcount == 0 and self.abstract is not None:
            ns = net_ns(self.kernel)
            if ns.bound.get(self.host_bound) is self:
                del ns.bound[self.host_bound]
            if ns.abstract.get(self.abstract) is self:
                del ns.abstract[self.abstract]
                hp = ns.abstract_host_path(self.abstract)
                ns.host_names.pop(hp, None)
                try:
                    os.unlink(hp)
                except OSError:
                    pass

    # file_operations: read()/write() are recv()/send() without flags.
    def read(self, task, buf, count):
        return sock_recv(task, self, buf, count, 0, 0, 0)

    def write(self, task, buf, count):
        return sock_send(task, self, buf, count, 0, None)

    # ->read_iter/->write_iter: readv()/writev() move one message over all
    # the iovecs (a datagram is scattered, not one per iovec).
    def read_iter(self, task, vecs):
        return sock_recv(task, self, vecs, sum(n for _, n in vecs), 0, 0, 0)

    def write_iter(self, task, vecs):
        return sock_send(task, self, vecs, 0, 0, None)


class _Borrowed:
    """A Python socket object over our host fd for one operation (detached
    after, so it never closes the descriptor)."""

    def __init__(self, fd, family, type_, protocol):
        # With the kind given, Python asks the host nothing (and changes no flag).
        self.sock = pysocket.socket(family, type_, protocol, fileno=fd)

    def __enter__(self):
        return self.sock

    def __exit__(self, *exc):
        self.sock.detach()


def cred_of(task):
    """The board credentials a peer sees with SO_PEERCRED (struct ucred:
    the tgid and the effective ids, as cred_to_ucred() gives them)."""
    return peer_ucred(task)


def sockfd_lookup(task, fd):
    """sockfd_lookup_light(): the Socket of fd, or -EBADF / -ENOTSOCK.
    fdget() does not see an O_PATH descriptor (FMODE_PATH): EBADF."""
    file = task.files.get(s32(fd))
    if file is None or file.flags & O_PATH:
        return -errno.EBADF
    if not isinstance(file, Socket):
        return -errno.ENOTSOCK
    return file


def _install(task, sock_file, flags):
    fd = task.files.alloc_fd(sock_file, cloexec=bool(flags & SOCK_CLOEXEC))
    if fd < 0:
        sock_file.put()
    return fd


# -- addresses ------------------------------------------------------------------------------

class AddrError(Exception):
    def __init__(self, err):
        super().__init__(err)
        self.err = err


def _unix_mkname(raw):
    """unix_mkname(): ("abstract", name) or ("path", bytes) of a sockaddr_un."""
    if len(raw) <= 2 or len(raw) > SOCKADDR_UN_SIZE:
        raise AddrError(-errno.EINVAL)
    if struct.unpack_from("<H", raw)[0] != AF_UNIX:
        raise AddrError(-errno.EINVAL)
    if raw[2] == 0:
        return "abstract", bytes(raw[2:])
    return "path", bytes(raw[2:]).split(b"\0", 1)[0]


class _HostDir:
    """Run a host call on a path relative to the directory a guest path
    resolved into (sun_path is short, the host path may be long)."""

    def __init__(self, dir_fd, path):
        self.dir_fd, self.path = dir_fd, path

    def __enter__(self):
        self.saved = os.open(".", os.O_RDONLY | os.O_CLOEXEC)
        head, tail = os.path.split(self.path)
        try:
            if self.dir_fd is not None:
                os.fchdir(self.dir_fd)
            if head:
                os.chdir(head)
        except OSError:
            self.__exit__()             # never leave the emulator elsewhere
            raise
        return tail

    def __exit__(self, *exc):
        os.fchdir(self.saved)
        os.close(self.saved)


PROT_SOCK = 1024                # include/net/sock.h: ports below are privileged


def _check_inet(ns, family, host, binding):
    """--net loopback: only the loopback addresses exist (and the wildcard,
    which binds to loopback)."""
    if ns.mode == "host":
        return host
    import ipaddress        # here, not at start-up (issue 8)
    ip = ipaddress.ip_address(host.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return host
    if ip.is_unspecified:
        return "127.0.0.1" if family == AF_INET else "::1"
    raise AddrError(-errno.EADDRNOTAVAIL if binding else -errno.ENETUNREACH)


def _inet_addr(ns, family, raw, binding):
    """A sockaddr_in/in6 as a host address tuple, after --net's check."""
    fam = struct.unpack_from("<H", raw)[0] if len(raw) >= 2 else None
    if family == AF_INET:
        if len(raw) < SOCKADDR_IN_SIZE:
            raise AddrError(-errno.EINVAL)
        if fam != AF_INET and not (fam == AF_UNSPEC and binding):
            raise AddrError(-errno.EAFNOSUPPORT)
        port = struct.unpack_from(">H", raw, 2)[0]
        host = pysocket.inet_ntop(pysocket.AF_INET, bytes(raw[4:8]))
        return (_check_inet(ns, family, host, binding), port)
    if len(raw) < SIN6_LEN_RFC2133:
        raise AddrError(-errno.EINVAL)
    if fam != AF_INET6:
        raise AddrError(-errno.EAFNOSUPPORT)
    port, flow = struct.unpack_from(">HI", raw, 2)
    host = pysocket.inet_ntop(pysocket.AF_INET6, bytes(raw[8:24]))
    scope = struct.unpack_from("<I", raw, 24)[0] if len(raw) >= SOCKADDR_IN6_SIZE else 0
    return (_check_inet(ns, family, host, binding), port, flow, scope)


def _is_wildcard(family, raw):
    """Is the sockaddr_in/in6 raw the unspecified address?"""
    if family == AF_INET:
        return bytes(raw[4:8]) == bytes(4)
    return bytes(raw[8:24]) == bytes(16)


def _inet_sockaddr(family, addr):
    """A host address tuple as the guest's sockaddr bytes."""
    if family == AF_INET:
        return struct.pack("<H", AF_INET) + struct.pack(">H", addr[1]) + \
            pysocket.inet_pton(pysocket.AF_INET, addr[0]) + bytes(8)
    return struct.pack("<H", AF_INET6) + struct.pack(">HI", addr[1], addr[2]) + \
        pysocket.inet_pton(pysocket.AF_INET6, addr[0].split("%")[0]) + struct.pack("<I", addr[3])


def _unix_sockaddr(name):
    """sun_path bytes (abstract names start with NUL) as a sockaddr_un the
    length unix_getname() gives: family + path + NUL, or family + name."""
    if not name:
        return struct.pack("<H", AF_UNIX)
    if name[0] == 0:
        return struct.pack("<H", AF_UNIX) + name
    return struct.pack("<H", AF_UNIX) + name + b"\0"


def _guest_unix_name(ns, host_addr):
    """The guest's name of a host AF_UNIX address (bytes or str)."""
    if isinstance(host_addr, str):
        host_addr = os.fsencode(host_addr)
    if not host_addr:
        return b""
    return ns.host_names.get(host_addr, host_addr)


def sockaddr_of(sock, host_addr):
    """The guest sockaddr of an address the host reported for sock."""
    if sock.family == AF_UNIX:
        return _unix_sockaddr(_guest_unix_name(net_ns(sock.kernel), host_addr))
    return _inet_sockaddr(sock.family, host_addr)


def move_addr_to_user(task, data, uaddr, ulen):
    """move_addr_to_user(): copy min(len, *ulen) bytes, store the full length.
    A negative *ulen is EINVAL; the callers that allow a NULL uaddr
    (accept, recvfrom) test it themselves — getsockname() does not."""
    length = min(s32(struct.unpack("<I", task.uaccess.copy_from_user(ulen, 4))[0]), len(data))
    if length < 0:
        return -errno.EINVAL
    if length:
        task.uaccess.copy_to_user(uaddr, data[:length])
    task.uaccess.copy_to_user(ulen, struct.pack("<i", len(data)))
    return 0


def _resolve_unix(task, sock, kind, name, binding):
    """(host address, guest name, dir context) for an AF_UNIX name."""
    ns = net_ns(task.kernel)
    if kind == "abstract":
        if not binding and name not in ns.abstract:
            raise AddrError(-errno.ECONNREFUSED)
        return ns.abstract_host_path(name), name, None
    try:
        dir_fd, hpath = host_path(task, AT_FDCWD, name, follow=not binding)
    except PathError as e:
        raise AddrError(e.err)
    # The guest's rights (kernel/fs/permission.py): unix_mknod()'s
    # may_create() to bind, unix_find_other()'s MAY_WRITE to reach.
    err = may_mkobj(task, dir_fd, hpath) if binding else may_write_socket(task, dir_fd, hpath)
    if err:
        raise AddrError(err)
    return hpath, name, (dir_fd, hpath)


def _host_call(ctx, func, host_addr):
    """Call func(address) on the host, from the right directory for paths."""
    if ctx is None:
        return func(host_addr)
    with _HostDir(*ctx) as tail:
        return func(tail)


# -- the calls --------------------------------------------------------------------------------

def _new_socket(task, family, type_, protocol):
    """__sock_create(): a host socket, or -errno."""
    family, type_, protocol = s32(family), s32(type_), s32(protocol)
    if family < 0 or family >= AF_MAX:
        return -errno.EAFNOSUPPORT
    if type_ < 0 or type_ >= SOCK_MAX:
        return -errno.EINVAL
    if family == AF_UNIX:
        if type_ == SOCK_RAW:
            type_ = SOCK_DGRAM          # unix_create(): SOCK_RAW is a datagram socket
        if type_ not in (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET):
            return -errno.ESOCKTNOSUPPORT
        if protocol and protocol != AF_UNIX:
            return -errno.EPROTONOSUPPORT
    elif family in (AF_INET, AF_INET6):
        if net_ns(task.kernel).mode == "none":
            return -errno.EAFNOSUPPORT
    else:
        return -errno.EAFNOSUPPORT      # families the board does not model
    try:
        sock = pysocket.socket(family, type_ | pysocket.SOCK_NONBLOCK | pysocket.SOCK_CLOEXEC,
                               protocol)
    except OSError as e:
        return -(e.errno or errno.EINVAL)
    return sock, family, type_, protocol


@syscall("socket", "sockfamily socktype d")
def sys_socket(task, family, type_, protocol):
    """socket(): a new socket; SOCK_NONBLOCK/SOCK_CLOEXEC ride in type;
    AF_NETLINK is the board's own (kernel/net/netlink.py)."""
    flags = s32(type_) & ~SOCK_TYPE_MASK
    if flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK):
        return -errno.EINVAL
    if s32(family) == AF_NETLINK:
        from kernel.net import netlink          # imports this module
        made = netlink.netlink_create(task, s32(type_) & SOCK_TYPE_MASK, s32(protocol), flags)
        return made if isinstance(made, int) else _install(task, made, flags)
    made = _new_socket(task, family, s32(type_) & SOCK_TYPE_MASK, protocol)
    if isinstance(made, int):
        return made
    sock, family, type_, protocol = made
    return _install(task, Socket(task.kernel, sock, family, type_, protocol, flags), flags)


@syscall("socketpair", "sockfamily socktype d fdpair")
def sys_socketpair(task, family, type_, protocol, usv):
    """socketpair(): two connected AF_UNIX sockets (other families:
    EOPNOTSUPP, as inet's ->socketpair)."""
    flags = s32(type_) & ~SOCK_TYPE_MASK
    if flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK):
        return -errno.EINVAL
    made = _new_socket(task, family, s32(type_) & SOCK_TYPE_MASK, protocol)
    if isinstance(made, int):
        return made
    sock, family, type_, protocol = made
    sock.close()
    if family != AF_UNIX:
        return -errno.EOPNOTSUPP
    a, b = pysocket.socketpair(AF_UNIX, type_ | pysocket.SOCK_NONBLOCK | pysocket.SOCK_CLOEXEC)
    sa = Socket(task.kernel, a, family, type_, protocol, flags)
    sb = Socket(task.kernel, b, family, type_, protocol, flags)
    sa.peer_cred = sb.peer_cred = cred_of(task)
    sa.peer, sb.peer = weakref.ref(sb), weakref.ref(sa)
    fd1 = _install(task, sa, flags)
    if fd1 < 0:
        sb.put()
        return fd1
    fd2 = _install(task, sb, flags)
    if fd2 < 0:
        task.files.close(fd1)
        return fd2
    try:
        task.uaccess.copy_to_user(usv, struct.pack("<ii", fd1, fd2))
    except Efault:
        task.files.close(fd1)
        task.files.close(fd2)
        raise
    return 0


def _read_addr(task, uaddr, addrlen):
    addrlen = s32(addrlen)
    if addrlen < 0 or addrlen > SOCKADDR_STORAGE_SIZE:
        raise AddrError(-errno.EINVAL)
    return task.uaccess.copy_from_user(uaddr, addrlen) if addrlen else b""


def _unix_autobind(ns, sock):
    """unix_autobind(): an unused abstract name of five hex digits."""
    for n in range(1 << 20):
        name = b"\0" + b"%05x" % n
        if name not in ns.abstract:
            return name
    raise AddrError(-errno.ENOSPC)


def _bind_unix_abstract(task, sock, name):
    ns = net_ns(task.kernel)
    if sock.guest_name is not None:
        raise AddrError(-errno.EINVAL)
    if name in ns.abstract:
        raise AddrError(-errno.EADDRINUSE)
    hp = ns.abstract_host_path(name)
    with sock.borrow() as s:
        s.bind(hp)
    ns.abstract[name] = sock
    ns.bound[hp] = sock
    ns.host_names[hp] = name
    sock.abstract = name
    sock.guest_name = name
    sock.host_bound = hp


@syscall("bind", "fd sockaddr:2 u")
def sys_bind(task, fd, uaddr, addrlen):
    """bind(): AF_UNIX names through the board's lookup (abstract ones in
    its private table), IP addresses as --net allows."""
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    try:
        raw = _read_addr(task, uaddr, addrlen)
        ns = net_ns(task.kernel)
        if sock.family == AF_NETLINK:
            from kernel.net import netlink      # imports this module
            return netlink.netlink_bind(task, sock, raw)
        if sock.family == AF_UNIX:
            if len(raw) < 2 or struct.unpack_from("<H", raw)[0] != AF_UNIX:
                return -errno.EINVAL
            if len(raw) == 2:
                if sock.guest_name is None:
                    _bind_unix_abstract(task, sock, _unix_autobind(ns, sock))
                return 0
            kind, name = _unix_mkname(raw)
            if kind == "abstract":
                _bind_unix_abstract(task, sock, name)
                return 0
            # 4.14's unix_bind() makes the name first (EADDRINUSE if it
            # exists), then finds the socket already named (EINVAL): the
            # host's bind keeps that order.
            hpath, name, ctx = _resolve_unix(task, sock, kind, name, True)
            with sock.borrow() as s:
                _host_call(ctx, s.bind, hpath)
                bound = s.getsockname()
            sock.guest_name = name
            sock.host_bound = os.fsencode(bound)
            st = os.stat(hpath, dir_fd=ctx[0])
            inode_init_owner(task, st, ctx[0], hpath)
            sock.bound_ino = (st.st_dev, st.st_ino)     # kernel/net/scm.py receiver_of()
            ns.host_names[sock.host_bound] = name
            ns.bound[sock.host_bound] = sock
            sock.external = True
            return 0
        addr = _inet_addr(ns, sock.family, raw, True)
        # inet_bind()/inet6_bind(): a port below PROT_SOCK needs
        # CAP_NET_BIND_SERVICE in the guest, whatever the host allows.
        if 0 < addr[1] < PROT_SOCK and not capable(task, CAP_NET_BIND_SERVICE):
            return -errno.EACCES
        with sock.borrow() as s:
            if (ns.mode == "loopback" and sock.family == AF_INET6 and _is_wildcard(AF_INET6, raw)
                    and not s.getsockopt(pysocket.IPPROTO_IPV6, pysocket.IPV6_V6ONLY)):
                # A dual-stack wildcard: the clients that reach it through lo
                # are mostly IPv4 (127.0.0.1, or "localhost" after ::1 is
                # refused); one host socket cannot hold ::1 and 127.0.0.1.
                addr = ("::ffff:127.0.0.1",) + addr[1:]
            s.bind(addr)
        # Bound to the wildcard (on the host: to loopback): shown as bound.
        sock.wildcard = ns.mode != "host" and _is_wildcard(sock.family, raw)
        return 0
    except AddrError as e:
        return e.err
    except OSError as e:
        return -(e.errno or errno.EINVAL)


@syscall("listen", "fd d")
def sys_listen(task, fd, backlog):
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    try:
        with sock.borrow() as s:
            s.listen(max(0, min(s32(backlog), 4096)))
    except OSError as e:
        return -(e.errno or errno.EINVAL)
    sock.listen_cred = cred_of(task)
    return 0


def _block(task, sock, events, flags, which, state=None):
    """Sleep until the host fd has events; -EAGAIN if the call may not
    sleep or its SO_*TIMEO ran out."""
    if sock.flags & O_NONBLOCK or flags & MSG_DONTWAIT:
        return -errno.EAGAIN
    restart = task.restart if task.restart is not None else {}
    if state:
        restart.update(state)
    timeo = sock.timeo.get(which, 0)
    if timeo and "deadline" not in restart:
        restart["deadline"] = task.kernel.sched.clock() + timeo
    deadline = restart.get("deadline")
    if deadline is not None and task.kernel.sched.clock() >= deadline:
        return -errno.EAGAIN
    task.restart = restart
    # sock_intr_errno(): a wait with a timeout is not restarted after a handler.
    raise WouldBlock(fds=((sock.host_fd, events | POLLERR),), deadline=deadline,
                     external=sock.external, restart=errno.EINTR if timeo else ERESTARTSYS)


@syscall("accept", "fd sockaddr_out:2 socklen")
def sys_accept(task, fd, upeer, upeer_len):
    return do_accept4(task, fd, upeer, upeer_len, 0)


@syscall("accept4", "fd sockaddr_out:2 socklen sockflags")
def sys_accept4(task, fd, upeer, upeer_len, flags):
    return do_accept4(task, fd, upeer, upeer_len, flags)


def do_accept4(task, fd, upeer, upeer_len, flags):
    """accept4(): the next connection, sleeping for one."""
    flags = s32(flags)
    if flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK):
        return -errno.EINVAL
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    try:
        with sock.borrow() as s:
            conn, addr = s._accept()
    except BlockingIOError:
        return _block(task, sock, POLLIN, 0, SO_RCVTIMEO)
    except OSError as e:
        return -(e.errno or errno.EINVAL)
    new = Socket(task.kernel, pysocket.socket(fileno=conn), sock.family, sock.type,
                 sock.protocol, flags)
    os.set_blocking(new.host_fd, False)
    new.external = sock.external
    ns = net_ns(task.kernel)
    if sock.family == AF_UNIX:
        queue = ns.backlog_creds.get(sock.host_bound)
        if queue:
            new.peer_cred = queue.pop(0)
        peers = ns.backlog_peers.get(sock.host_bound)
        if peers:
            connector = peers.pop(0)()
            if connector is not None:
                new.peer, connector.peer = weakref.ref(connector), weakref.ref(new)
        new.guest_name = sock.guest_name
        new.host_bound = sock.host_bound
    try:
        ret = move_addr_to_user(task, sockaddr_of(new, addr), upeer, upeer_len) \
            if upeer else 0
    except Efault:
        new.put()
        raise
    if ret < 0:
        new.put()
        return ret
    return _install(task, new, flags)


@syscall("connect", "fd sockaddr:2 u")
def sys_connect(task, fd, uaddr, addrlen):
    """connect(): sleeps until the host connection completes (stream), or
    just sets the default destination (datagram)."""
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    state = task.restart or {}
    if state.get("connecting"):
        # The re-executed call after the wait: the outcome is SO_ERROR's.
        if not host_poll_mask(sock.host_fd, POLLOUT | POLLERR):
            return _block(task, sock, POLLOUT, 0, SO_SNDTIMEO)
        with sock.borrow() as s:
            err = s.getsockopt(SOL_SOCKET, SO_ERROR)
            if not err:
                # The host socket stays SS_CONNECTING until connect() is
                # called again; the guest's blocking connect ends connected
                # (SS_CONNECTED), so that the next connect() is EISCONN.
                try:
                    s.connect_ex(s.getpeername())
                except OSError:
                    pass
        return -err if err else 0
    try:
        raw = _read_addr(task, uaddr, addrlen)
        ns = net_ns(task.kernel)
        if sock.family == AF_NETLINK:
            from kernel.net import netlink      # imports this module
            return netlink.netlink_connect(task, sock, raw)
        if sock.family == AF_UNIX:
            kind, name = _unix_mkname(raw)
            hpath, name, ctx = _resolve_unix(task, sock, kind, name, False)
            with sock.borrow() as s:
                _host_call(ctx, s.connect, hpath)
            _note_connect(task, sock, hpath)
            if ctx is not None:
                sock.external = True
            return 0
        if len(raw) >= 2 and struct.unpack_from("<H", raw)[0] == AF_UNSPEC \
                and sock.type == SOCK_DGRAM:
            with sock.borrow() as s:
                _disconnect(s)
            return 0
        addr = _inet_addr(ns, sock.family, raw, False)
        with sock.borrow() as s:
            err = s.connect_ex(addr)
        if err in (errno.EINPROGRESS, errno.EAGAIN):
            if sock.flags & O_NONBLOCK:
                return -errno.EINPROGRESS
            return _block(task, sock, POLLOUT, 0, SO_SNDTIMEO, {"connecting": True})
        return -err if err else 0
    except AddrError as e:
        return e.err
    except BlockingIOError:
        # An AF_UNIX listener with a full backlog: wait for room.
        return _block(task, sock, POLLOUT, 0, SO_SNDTIMEO)
    except OSError as e:
        return -(e.errno or errno.EINVAL)


def _disconnect(s):
    """connect(AF_UNSPEC) on a datagram socket: forget the peer (Python's
    connect() takes no AF_UNSPEC address, the C library's does)."""
    libc = ctypes.CDLL(None, use_errno=True)
    unspec = struct.pack("<H", AF_UNSPEC) + bytes(14)
    libc.connect(s.fileno(), ctypes.c_char_p(unspec), len(unspec))


def _note_connect(task, sock, host_addr):
    """Remember the connector's credentials for the listener's accept(), and
    the listener's for our SO_PEERCRED."""
    ns = net_ns(task.kernel)
    key = host_addr if isinstance(host_addr, bytes) else os.fsencode(host_addr)
    if sock.type == SOCK_DGRAM:
        target = ns.bound.get(key)
        sock.peer = weakref.ref(target) if target is not None else None
    else:
        with sock.borrow() as s:
            peer = s.getpeername()
        peer = os.fsencode(peer) if isinstance(peer, str) else peer
        listener = ns.bound.get(peer) or ns.bound.get(key)
        if listener is not None and listener.listen_cred is not None:
            sock.peer_cred = listener.listen_cred
        ns.backlog_creds.setdefault(peer, []).append(cred_of(task))
        ns.backlog_peers.setdefault(peer, []).append(weakref.ref(sock))


def _getname(task, fd, uaddr, ulen, peer):
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    if sock.family == AF_NETLINK:
        from kernel.net import netlink          # imports this module
        return move_addr_to_user(task, netlink.netlink_getname(sock, peer), uaddr, ulen)
    try:
        with sock.borrow() as s:
            addr = s.getpeername() if peer else s.getsockname()
    except OSError as e:
        return -(e.errno or errno.EINVAL)
    if sock.family == AF_UNIX:
        name = sock.guest_name if not peer else _guest_unix_name(net_ns(task.kernel), addr)
        data = _unix_sockaddr(name or b"")
    else:
        if not peer and sock.wildcard:
            addr = ("0.0.0.0" if sock.family == AF_INET else "::",) + tuple(addr[1:])
        data = _inet_sockaddr(sock.family, addr)
    return move_addr_to_user(task, data, uaddr, ulen)


@syscall("getsockname", "fd sockaddr_out:2 socklen")
def sys_getsockname(task, fd, uaddr, ulen):
    return _getname(task, fd, uaddr, ulen, False)


@syscall("getpeername", "fd sockaddr_out:2 socklen")
def sys_getpeername(task, fd, uaddr, ulen):
    return _getname(task, fd, uaddr, ulen, True)


@syscall("shutdown", "fd shuthow")
def sys_shutdown(task, fd, how):
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    how = s32(how)
    if how < 0 or how > SHUT_RDWR:
        return -errno.EINVAL
    try:
        with sock.borrow() as s:
            s.shutdown(how)
    except OSError as e:
        return -(e.errno or errno.EINVAL)
    return 0


# -- data ---------------------------------------------------------------------------------------

def _user_iov(task, iov, iovlen):
    if iovlen > UIO_MAXIOV:
        raise AddrError(-errno.EMSGSIZE)
    raw = task.uaccess.copy_from_user(iov, iovlen * _IOVEC.size) if iovlen else b""
    vecs = [_IOVEC.unpack_from(raw, i * _IOVEC.size) for i in range(iovlen)]
    out, total = [], 0
    for base, length in vecs:
        if length >> 63:
            raise AddrError(-errno.EINVAL)      # rw_copy_check_uvector(): negative length
        if base + length > task.uaccess.mm.task_size:
            raise AddrError(-errno.EFAULT)
        length = min(length, MAX_RW_COUNT - total)     # the total is capped, not refused
        total += length
        out.append((base, length))
    return out


def _pack_rights(task, sock, data):
    """SCM_RIGHTS: board files parked, host tokens sent in their place."""
    n = len(data) // 4
    if n == 0 or n > SCM_MAX_FD or len(data) % 4:
        raise AddrError(-errno.EINVAL)
    files = []
    for (fd,) in struct.iter_unpack("<i", data[:n * 4]):
        f = task.files.get(fd)
        if f is None:
            raise AddrError(-errno.EBADF)
        files.append(f)
    ns = net_ns(task.kernel)
    return [ns.park(f) for f in files]


def _parse_control(task, sock, control, controllen):
    """The guest's ancillary data as host (level, type, data) items; the
    fds it holds (tokens, to close after sending)."""
    # ___sys_sendmsg(): INT_MAX, then sock_kmalloc() of the buffer, which
    # fails (ENOBUFS) past net.core.optmem_max — before anything is copied.
    if controllen > 0x7FFFFFFF or controllen >= OPTMEM_MAX:
        raise AddrError(-errno.ENOBUFS)
    raw = task.uaccess.copy_from_user(control, controllen) if controllen else b""
    items, tokens = [], []
    off = 0
    while off + _CMSGHDR.size <= len(raw):
        clen, level, ctype = _CMSGHDR.unpack_from(raw, off)
        if clen < _CMSGHDR.size or off + clen > len(raw):
            raise AddrError(-errno.EINVAL)
        body = raw[off + _CMSGHDR.size:off + clen]
        if level == SOL_SOCKET and ctype == SCM_RIGHTS:
            if sock.family != AF_UNIX:
                raise AddrError(-errno.EINVAL)
            toks = _pack_rights(task, sock, body)
            tokens.extend(toks)
            items.append((SOL_SOCKET, SCM_RIGHTS, struct.pack("<%di" % len(toks), *toks)))
        elif level == SOL_SOCKET and ctype == SCM_CREDENTIALS:
            if sock.family == AF_UNIX:          # __scm_send(); other families ignore it
                if clen != _CMSGHDR.size + UCRED.size:
                    raise AddrError(-errno.EINVAL)
                ucred = UCRED.unpack(body)
                err = scm_check_creds(task, ucred)
                if err:
                    raise AddrError(err)
                items.append((SOL_SOCKET, SCM_CREDENTIALS, ucred))
        elif level == SOL_SOCKET:
            raise AddrError(-errno.EINVAL)
        else:
            items.append((level, ctype, body))
        off += cmsg_align(clen)
    return items, tokens


def _unpark_rights(task, data, flags, room):
    """Received tokens back into board files at new descriptors; as many as
    room allows (scm_detach_fds()), the rest closed with MSG_CTRUNC."""
    ns = net_ns(task.kernel)
    fds, truncated = [], False
    for (tok,) in struct.iter_unpack("<i", data[:len(data) // 4 * 4]):
        f = ns.unpark(tok, peek=bool(flags & MSG_PEEK))
        if f is None:
            continue
        if len(fds) >= room:
            truncated = True
            f.put()
            continue
        fd = task.files.alloc_fd(f, cloexec=bool(flags & MSG_CMSG_CLOEXEC))
        if fd < 0:
            f.put()
            truncated = True
            continue
        fds.append(fd)
    return fds, truncated


def sock_send(task, sock, buf_or_vecs, count, flags, addr, control=()):
    """sock_sendmsg(): send, sleeping while the host buffer is full; a
    stream send of a blocking socket completes (or ends early on a signal
    with what went).  EPIPE raises SIGPIPE unless MSG_NOSIGNAL."""
    flags = s32(flags)
    if not isinstance(buf_or_vecs, list):
        count = min(count, MAX_RW_COUNT)
    vecs = buf_or_vecs if isinstance(buf_or_vecs, list) else [(buf_or_vecs, count)]
    restart = task.restart if task.restart is not None else {}
    done = restart.get("sent", 0)
    # The host holds one window of the buffer at a time, never a guest's
    # whole 2 GiB (issue 10 part 2); a stream send goes on window by window.
    it = IovIter(task, vecs)
    total = it.count()
    stream = sock.type == SOCK_STREAM
    if not stream and total > DGRAM_MAX:
        return -errno.EMSGSIZE
    it.advance(done)
    want = min(SEND_WINDOW if stream else total, total - done)
    # A fault anywhere in what is copied at once (an skb: the whole message
    # of a datagram, a window of a stream) fails that piece: unix_*_sendmsg
    # return what went before it, or -EFAULT.
    pending = it.copy_from_iter(want)
    if len(pending) < want:
        return done or -errno.EFAULT
    if sock.family == AF_NETLINK:
        from kernel.net import netlink          # imports this module
        return netlink.netlink_sendmsg(task, sock, pending, addr)
    cred_token = None
    if sock.family == AF_UNIX and done == 0:
        control, cred_token = _attach_creds(task, sock, addr, control)
    ret = None
    try:
        ret = _sock_send(task, sock, it, pending, total, flags, addr, control, done)
        if ret > 0 and task.kernel.__dict__.get("fasync_lists"):
            _sock_def_readable(task, sock, addr)
        return ret
    finally:
        if cred_token is not None:
            if ret is None or ret < 0:
                net_ns(task.kernel).drop(cred_token)     # it never left
            else:
                os.close(cred_token)    # the host's message holds its own copy


def _sock_def_readable(task, sock, addr):
    """sock_def_readable() -> sk_wake_async(POLL_IN): the board socket the
    data went to tells its O_ASYNC owner (fs/fcntl.c kill_fasync())."""
    from kernel.fs.fcntl import POLL_IN, kill_fasync_file
    receiver = receiver_of(net_ns(task.kernel), sock, addr)
    if receiver is not None:
        kill_fasync_file(receiver, POLL_IN)


def _sock_write_space(sock):
    """unix_write_space() -> sk_wake_async(SOCK_WAKE_SPACE, POLL_OUT): what
    a receive took frees the sender's buffer; a sender that found it full
    (SOCKWQ_ASYNC_NOSPACE) and can write again (the host's own
    unix_writable(), asked through poll) tells its O_ASYNC owner, once."""
    from kernel.fs.fcntl import POLL_OUT, kill_fasync_file
    peer = sock.peer() if sock.peer is not None else None
    if peer is None or not peer.__dict__.get("async_nospace") or peer.host_fd is None:
        return
    poller = select.poll()
    poller.register(peer.host_fd, select.POLLOUT)
    if poller.poll(0):
        peer.async_nospace = False
        kill_fasync_file(peer, POLL_OUT)


def _attach_creds(task, sock, addr, control):
    """The message's credentials (kernel/net/scm.py) as a token among its
    SCM_RIGHTS descriptors: (control to send, our copy of the token)."""
    explicit = None
    rest = []
    for item in control:
        if item[:2] == (SOL_SOCKET, SCM_CREDENTIALS):
            explicit = item[2]
        else:
            rest.append(item)
    ns = net_ns(task.kernel)
    if receiver_of(ns, sock, addr) is None:
        return rest, None               # a host process's socket: no board token goes there
    ucred = maybe_add_creds(task, ns, sock, addr, explicit)
    if ucred is None:
        return rest, None
    token = ns.park(CredToken(ucred))
    return rest + [(SOL_SOCKET, SCM_RIGHTS, struct.pack("<i", token))], token


def _sock_send(task, sock, it, pending, total, flags, addr, control, done):
    """The host side of sock_send: pending is the first piece copied from
    it; a stream goes on a window at a time until total bytes went."""
    stream = sock.type == SOCK_STREAM
    host_flags = (flags & (MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_MORE)) | MSG_NOSIGNAL
    try:
        while True:
            with sock.borrow() as s:
                try:
                    if control and done == 0:
                        n = s.sendmsg([pending], list(control), host_flags, *(
                            (addr,) if addr is not None else ()))
                    elif addr is not None:
                        n = s.sendto(pending, host_flags, addr)
                    else:
                        n = s.send(pending, host_flags)
                except BlockingIOError:
                    n = None
            if n is None:
                sock.async_nospace = True       # SOCKWQ_ASYNC_NOSPACE: the writer found it full
                if done and (signal_pending(task) or sock.flags & O_NONBLOCK
                             or flags & MSG_DONTWAIT):
                    return done
                ret = _block(task, sock, POLLOUT, flags, SO_SNDTIMEO, {"sent": done})
                return done or ret              # SO_SNDTIMEO ran out: what went
            done += n
            if not stream:
                return done
            pending = pending[n:]
            if not pending:
                if done >= total:
                    return done
                want = min(SEND_WINDOW, total - done)
                pending = it.copy_from_iter(want)
                if len(pending) < want:
                    return done                 # a page that cannot be read: what went
    except BrokenPipeError:
        if not flags & MSG_NOSIGNAL:
            task.kernel.send_sigpipe(task)
        return done or -errno.EPIPE
    except OSError as e:
        return done or -(e.errno or errno.EINVAL)


def sock_recv(task, sock, buf, count, flags, uaddr, ulen, msg=None):
    """sock_recvmsg(): receive, sleeping while nothing is there;
    MSG_WAITALL keeps a stream read going until count bytes came.  buf is
    an address or a list of iovecs.  With MSG_TRUNC a datagram's full
    length is returned.  msg (recvmsg): gets "flags", "anc", "addr"."""
    flags = s32(flags)
    if not isinstance(buf, list):
        if buf + count > task.uaccess.mm.task_size:
            return -errno.EFAULT        # import_single_range(): access_ok()
        count = min(count, MAX_RW_COUNT)
    restart = task.restart if task.restart is not None else {}
    got = restart.get("got", b"")
    host_flags = flags & (MSG_OOB | MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE)
    # inet_recv_error(): the error queue is read without waiting (EAGAIN when
    # empty); AF_UNIX ignores the flag and reads its data.
    errqueue = flags & MSG_ERRQUEUE and sock.family in (AF_INET, AF_INET6)
    ancsize = min(msg["controllen"], HOST_RECV_MAX) if msg is not None else 0
    if msg is not None and sock.family == AF_UNIX:
        ancsize += HOST_CRED_TOKEN_SPACE        # a credentials token (kernel/net/scm.py)
    room = bytearray(min(max(count - len(got), 0), HOST_RECV_MAX))
    try:
        with sock.borrow() as s:
            n, anc, mflags, addr = s.recvmsg_into([room], ancsize, host_flags)
    except BlockingIOError:
        if errqueue:
            return -errno.EAGAIN
        if got and (signal_pending(task) or sock.flags & O_NONBLOCK or flags & MSG_DONTWAIT):
            n, anc, mflags, addr = 0, [], 0, None
        else:
            ret = _block(task, sock, POLLIN, flags, SO_RCVTIMEO, {"got": got})
            if not got:
                return ret
            n, anc, mflags, addr = 0, [], 0, None   # timed out: what came so far
    except OSError as e:
        return -(e.errno or errno.EINVAL)
    data = got + bytes(room[:min(n, len(room))])
    if n and not flags & MSG_PEEK and task.kernel.__dict__.get("fasync_lists"):
        _sock_write_space(sock)
    if (flags & MSG_WAITALL and sock.type == SOCK_STREAM and n and len(data) < count
            and not flags & (MSG_PEEK | MSG_DONTWAIT) and not sock.flags & O_NONBLOCK):
        _block(task, sock, POLLIN, flags, SO_RCVTIMEO, {"got": data})
        # SO_RCVTIMEO ran out: what came so far.
    ret = len(data)
    if flags & MSG_TRUNC and sock.type != SOCK_STREAM:
        ret = n                         # the datagram's real length
    if isinstance(buf, list):
        off = 0
        for base, length in buf:
            part = data[off:off + length]
            if part:
                task.uaccess.copy_to_user(base, part)
            off += length
    elif data:
        task.uaccess.copy_to_user(buf, data)
    name = sockaddr_of(sock, addr) if addr not in (None, "", b"") or (
        sock.family == AF_UNIX and sock.type != SOCK_STREAM and addr is not None) else None
    if sock.family == AF_NETLINK:
        from kernel.net import netlink          # imports this module
        name = netlink.kernel_sockaddr()        # netlink_recvmsg(): always a sockaddr_nl
    if msg is not None:
        # ___sys_recvmsg() leaves MSG_CMSG_CLOEXEC of the call in msg_flags.
        msg["flags"] = mflags | (flags & MSG_CMSG_CLOEXEC)
        msg["anc"] = anc
        msg["addr"] = name
    elif uaddr:
        # __sys_recvfrom(): a name the protocol gave (none for TCP: length 0)
        err = move_addr_to_user(task, name or b"", uaddr, ulen)
        if err < 0:
            return err
    return ret


@syscall("sendto", "fd ibuf:2 u msgflags sockaddr:5 u")
def sys_sendto(task, fd, buf, length, flags, uaddr, addrlen):
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    try:
        addr = _send_addr(task, sock, uaddr, addrlen)
    except AddrError as e:
        return e.err
    return sock_send(task, sock, buf, length, flags, addr)


def _send_addr(task, sock, uaddr, addrlen):
    """The destination of sendto/sendmsg as a host address (None: connected)."""
    if not uaddr:
        return None
    raw = _read_addr(task, uaddr, addrlen)
    if sock.family in (AF_INET, AF_INET6) and sock.type == SOCK_STREAM:
        return None         # tcp_sendmsg() does not look at msg_name (no fastopen here)
    if sock.family == AF_NETLINK:
        from kernel.net import netlink          # imports this module
        dst = netlink.parse_sockaddr_nl(raw)
        if isinstance(dst, int):
            raise AddrError(dst)
        return dst
    if sock.family == AF_UNIX:
        kind, name = _unix_mkname(raw)
        if sock.type == SOCK_STREAM:
            # unix_stream_sendmsg(): a stream socket takes no destination.
            with sock.borrow() as s:
                try:
                    s.getpeername()
                    connected = True
                except OSError:
                    connected = False
            raise AddrError(-errno.EISCONN if connected else -errno.EOPNOTSUPP)
        hpath, _, ctx = _resolve_unix(task, sock, kind, name, False)
        if ctx is not None:
            # A path destination: the host needs it absolute.
            dir_fd, p = ctx
            if dir_fd is not None and not p.startswith(b"/"):
                p = os.path.join(os.fsencode(os.readlink("/proc/self/fd/%d" % dir_fd)), p)
            return p
        return hpath
    return _inet_addr(net_ns(task.kernel), sock.family, raw, False)


@syscall("recvfrom", "fd obuf:ret u msgflags sockaddr_out:5 socklen")
def sys_recvfrom(task, fd, buf, size, flags, uaddr, ulen):
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    return sock_recv(task, sock, buf, size, flags, uaddr, ulen)


def _read_msghdr(task, umsg):
    """copy_msghdr_from_user(): the msghdr, or -EINVAL for a negative
    msg_namelen (0 without a msg_name; at most a sockaddr_storage)."""
    name, namelen, iov, iovlen, control, controllen, mflags = _MSGHDR.unpack(
        task.uaccess.copy_from_user(umsg, _MSGHDR.size))
    namelen = s32(namelen) if name else 0
    if namelen < 0:
        return -errno.EINVAL
    namelen = min(namelen, SOCKADDR_STORAGE_SIZE)
    return {"name": name, "namelen": namelen, "iov": iov, "iovlen": iovlen,
            "control": control, "controllen": controllen, "flags": mflags}


@syscall("sendmsg", "fd msghdr msgflags")
def sys_sendmsg(task, fd, umsg, flags):
    """sendmsg(): iovecs, a destination, SCM_RIGHTS."""
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    msg = _read_msghdr(task, umsg)
    if isinstance(msg, int):
        return msg
    try:
        vecs = _user_iov(task, msg["iov"], msg["iovlen"])
        addr = _send_addr(task, sock, msg["name"], msg["namelen"]) if msg["name"] else None
        state = task.restart or {}
        if state.get("sent"):
            control, tokens = [], []
        else:
            control, tokens = _parse_control(task, sock, msg["control"], msg["controllen"])
    except AddrError as e:
        return e.err
    ret = -errno.EINTR
    try:
        ret = sock_send(task, sock, vecs, 0, flags, addr, control)
        return ret
    finally:
        # Our token descriptors go; the host's message holds its own.  A send
        # that failed (or sleeps, to make them again) takes back the files.
        ns = net_ns(task.kernel)
        for tok in tokens:
            if ret < 0:
                ns.drop(tok)
            else:
                os.close(tok)


@syscall("recvmsg", "fd msghdr msgflags")
def sys_recvmsg(task, fd, umsg, flags):
    """recvmsg(): iovecs, the sender's name, SCM_RIGHTS as board fds."""
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    msg = _read_msghdr(task, umsg)
    if isinstance(msg, int):
        return msg
    try:
        vecs = _user_iov(task, msg["iov"], msg["iovlen"])
    except AddrError as e:
        return e.err
    count = sum(n for _, n in vecs)
    info = {"controllen": msg["controllen"]}
    ret = sock_recv(task, sock, vecs, count, flags, 0, 0, info)
    if ret < 0:
        return ret
    # msg_name gets what fits; msg_namelen (in the msghdr) the real length.
    name = info.get("addr") or b""
    if msg["name"]:
        if name:
            task.uaccess.copy_to_user(msg["name"], name[:msg["namelen"]])
        task.uaccess.copy_to_user(umsg + 8, struct.pack("<i", len(name)))
    out = b""
    mflags = info.get("flags", 0)
    room_total = msg["controllen"]
    anc = info.get("anc", [])
    if sock.family == AF_UNIX:
        anc, ucred = _take_creds(task, anc, flags)
        if sock.passcred:           # scm_recv(): the credentials come first
            anc = [(SOL_SOCKET, SCM_CREDENTIALS, scm_recv_ucred(ucred))] + anc
    for level, ctype, body in anc:
        if level == SOL_SOCKET and ctype == SCM_RIGHTS:
            room = max(0, (room_total - len(out) - _CMSGHDR.size) // 4)
            fds, trunc = _unpark_rights(task, body, flags, room)
            if trunc:
                mflags |= MSG_CTRUNC
            if not fds:
                continue
            body = struct.pack("<%di" % len(fds), *fds)
        clen = _CMSGHDR.size + len(body)
        piece = (_CMSGHDR.pack(clen, level, ctype) + body).ljust(cmsg_align(clen), b"\0")
        if len(out) + clen > room_total:
            mflags |= MSG_CTRUNC
            break
        out += piece[:room_total - len(out)]
    if out:
        task.uaccess.copy_to_user(msg["control"], out)
    task.uaccess.copy_to_user(umsg + 40, struct.pack("<Q", len(out)))
    task.uaccess.copy_to_user(umsg + 48, struct.pack("<i", mflags))
    return ret


def _take_creds(task, anc, flags):
    """The received ancillary items without the credentials token, and the
    credentials it carried (None if the message has none)."""
    ns = net_ns(task.kernel)
    out, ucred = [], None
    for level, ctype, body in anc:
        if level == SOL_SOCKET and ctype == SCM_RIGHTS:
            body, got = take_cred_tokens(ns, body, bool(flags & MSG_PEEK))
            ucred = got if got is not None else ucred
            if not body:
                continue
        out.append((level, ctype, body))
    return out, ucred


# -- options ------------------------------------------------------------------------------------

@syscall("setsockopt", "fd sockoptlevel sockopt sockoptval u")
def sys_setsockopt(task, fd, level, optname, optval, optlen):
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    level, optname, optlen = s32(level), s32(optname), s32(optlen)
    if optlen < 0:
        return -errno.EINVAL
    if level == SOL_SOCKET and optname == SO_PASSCRED:
        # sock_setsockopt(): an int; the board's flag (kernel/net/scm.py).
        if optlen < 4:
            return -errno.EINVAL
        sock.passcred = struct.unpack("<i", task.uaccess.copy_from_user(optval, 4))[0] != 0
        return 0
    # Each option's handler reads what it needs (an int, a struct), not
    # optlen bytes: the host gets at most SETSOCKOPT_MAX of them, as far as
    # they can be read, and decides with its own handler.
    value = readable_prefix(task, optval, min(optlen, SETSOCKOPT_MAX)) if optlen else b""
    if optlen and not value:
        return -errno.EFAULT
    if level == SOL_SOCKET and optname in (SO_RCVTIMEO, SO_SNDTIMEO):
        # sock_set_timeout(): a timeval; kept by the board (host sockets never block).
        if optlen < _TIMEVAL.size:
            return -errno.EINVAL
        sec, usec = _TIMEVAL.unpack_from(value)
        if usec < 0 or usec >= 1000000:
            return -errno.EDOM
        sock.timeo[optname] = 0 if sec < 0 else sec + usec / 1e6
        return 0
    try:
        with sock.borrow() as s:
            s.setsockopt(level, optname, value)
    except OSError as e:
        return -(e.errno or errno.EINVAL)
    return 0


@syscall("getsockopt", "fd sockoptlevel sockopt sockoptval socklen")
def sys_getsockopt(task, fd, level, optname, optval, uoptlen):
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    level, optname = s32(level), s32(optname)
    length = s32(struct.unpack("<I", task.uaccess.copy_from_user(uoptlen, 4))[0])
    if length < 0:
        return -errno.EINVAL
    value = None
    if level == SOL_SOCKET:
        if optname in (SO_RCVTIMEO, SO_SNDTIMEO):
            t = sock.timeo[optname]
            value = _TIMEVAL.pack(int(t), int(round((t - int(t)) * 1e6)))
        elif optname == SO_PEERCRED:
            if sock.family != AF_UNIX:
                value = struct.pack("<iII", 0, 0xFFFFFFFF, 0xFFFFFFFF)
            else:
                cred = sock.peer_cred or (0, 0xFFFFFFFF, 0xFFFFFFFF)
                value = struct.pack("<iII", *cred)
        elif optname == SO_PASSCRED:
            value = struct.pack("<i", int(sock.passcred))
        elif optname == SO_TYPE:
            value = struct.pack("<i", sock.type)
        elif optname == SO_DOMAIN:
            value = struct.pack("<i", sock.family)
        elif optname == SO_PROTOCOL:
            value = struct.pack("<i", sock.protocol)
    if value is None:
        try:
            with sock.borrow() as s:
                value = s.getsockopt(level, optname, max(length, 4))
        except OSError as e:
            return -(e.errno or errno.EINVAL)
    value = value[:length]
    if value:
        task.uaccess.copy_to_user(optval, value)
    task.uaccess.copy_to_user(uoptlen, struct.pack("<i", len(value)))
    return 0



# -- several messages per call --------------------------------------------------------------

_MMSGHDR_SIZE = _MSGHDR.size + 8        # struct mmsghdr: msghdr, unsigned msg_len, padding
MSG_WAITFORONE = 0x10000


def _mmsg_loop(task, fd, msgvec, vlen, flags, one, after=None):
    """__sys_sendmmsg()/do_recvmmsg(): one message per entry, its length in
    msg_len; the count of messages done, or the first error if none was.
    Progress survives a sleep in task.restart (the call runs again)."""
    sock = sockfd_lookup(task, fd)
    if isinstance(sock, int):
        return sock
    vlen = min(vlen & 0xFFFFFFFF, UIO_MAXIOV)
    state = task.restart if task.restart is not None else {}
    done = state.get("mmsg_done", 0)
    err = 0
    while done < vlen:
        entry = msgvec + done * _MMSGHDR_SIZE
        f = flags | MSG_DONTWAIT if (done and flags & MSG_WAITFORONE) else flags
        try:
            err = one(task, fd, entry, f & ~MSG_WAITFORONE)
        except WouldBlock:
            if done and signal_pending(task):
                break
            state = task.restart if task.restart is not None else {}
            state["mmsg_done"] = done
            task.restart = state
            raise
        except Efault:
            err = -errno.EFAULT
        if err < 0:
            break
        # The message is done: only the batch's own progress stays.
        task.restart = {k: v for k, v in (task.restart or {}).items() if k.startswith("mmsg_")}
        task.uaccess.copy_to_user(entry + _MSGHDR.size, struct.pack("<I", err))
        done += 1
        if after is not None and after():
            break
    if done:
        return done
    return err


@syscall("sendmmsg", "fd p u msgflags")
def sys_sendmmsg(task, fd, msgvec, vlen, flags):
    return _mmsg_loop(task, fd, msgvec, vlen, s32(flags), sys_sendmsg)


@syscall("recvmmsg", "fd p u msgflags p")
def sys_recvmmsg(task, fd, msgvec, vlen, flags, timeout):
    """recvmmsg(): as 4.14, the timeout is looked at only after each
    message (a wait for the first one is not limited by it)."""
    deadline = None
    if timeout:
        sec, nsec = _TIMEVAL.unpack(task.uaccess.copy_from_user(timeout, 16))
        if not timespec_valid(sec, nsec):
            return -errno.EINVAL
        state = task.restart or {}
        deadline = state.get("mmsg_deadline") or task.kernel.sched.clock() + sec + nsec / 1e9
        task.restart = dict(state, mmsg_deadline=deadline)

    def expired():
        return deadline is not None and task.kernel.sched.clock() >= deadline
    ret = _mmsg_loop(task, fd, msgvec, vlen, s32(flags), sys_recvmsg, expired)
    if timeout and ret >= 0:
        left = max(0, int((deadline - task.kernel.sched.clock()) * 1e9))
        task.uaccess.copy_to_user(timeout, _TIMEVAL.pack(left // 10**9, left % 10**9))
    return ret
