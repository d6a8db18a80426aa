"""net/core/scm.c + af_unix's credential passing: SCM_CREDENTIALS.

Every board socket is a host socket (kernel/net/socket.py), and the host
would stamp each message with the host process's pid and ids — the same
for every guest task.  So the board passes credentials itself:

* SO_PASSCRED is the board's flag (never set on the host socket: the host
  would add its own credentials, and autobind the socket in the host's
  abstract namespace);
* a message gets credentials when the sender gave SCM_CREDENTIALS
  (checked by scm_check_creds() with the guest's cred: EINVAL, EPERM,
  ESRCH), or — maybe_add_creds() — when the sending or the receiving
  socket has SO_PASSCRED: the sender's tgid and *real* uid and gid
  (current_uid()/current_gid());
* they travel as a token among the message's SCM_RIGHTS descriptors (the
  mechanism the board's descriptors already use), so the host keeps them
  with their message, in order;
* a receiver with SO_PASSCRED gets an SCM_CREDENTIALS message first
  (scm_recv()); one queued without credentials reads pid 0 and the
  overflow ids (65534: from_kuid_munged() of INVALID_UID).

SO_PEERCRED (cred_to_ucred()) is the tgid and the *effective* ids of the
task that connected, listened or made the pair.  Omitted: the autobind
that SO_PASSCRED causes on an unbound sender, and stream reads stopping at
a change of writer (the host merges stream data from different guest
writers).
"""

import errno
import os
import struct

from kernel.cred import CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN, INVALID_ID, capable

SO_PASSCRED = 16
OVERFLOW_ID = 65534                 # include/linux/highuid.h DEFAULT_OVERFLOWUID
UCRED = struct.Struct("<iII")       # struct ucred: pid, uid, gid


class CredToken:
    """Credentials in flight: parked like a file (NetNamespace.park())."""

    __slots__ = ("ucred",)

    def __init__(self, ucred):
        self.ucred = ucred

    def get(self):
        return self

    def put(self):
        pass


def peer_ucred(task):
    """cred_to_ucred(): SO_PEERCRED's (tgid, euid, egid)."""
    cred = task.cred
    return (task.tgid, cred.euid, cred.egid)


def scm_ucred(task):
    """scm_set_cred(current): (tgid, real uid, real gid)."""
    cred = task.cred
    return (task.tgid, cred.uid, cred.gid)


def scm_check_creds(task, ucred):
    """scm_check_creds() + __scm_send()'s pid lookup: 0 or -errno.  Ids must
    be valid (EINVAL); the pid must be ours unless CAP_SYS_ADMIN, the uid
    one of real/effective/saved unless CAP_SETUID, the gid likewise with
    CAP_SETGID (EPERM); and the pid must exist (ESRCH)."""
    pid, uid, gid = ucred
    cred = task.cred
    if uid == INVALID_ID or gid == INVALID_ID:
        return -errno.EINVAL
    if not ((pid == task.tgid or capable(task, CAP_SYS_ADMIN))
            and (uid in (cred.uid, cred.euid, cred.suid) or capable(task, CAP_SETUID))
            and (gid in (cred.gid, cred.egid, cred.sgid) or capable(task, CAP_SETGID))):
        return -errno.EPERM
    if pid not in task.kernel.tasks:            # find_get_pid(): zombies count
        return -errno.ESRCH
    return 0


def receiver_of(ns, sock, addr):
    """The board socket a message goes to, when the board knows it: the
    bound socket at a datagram's destination, or the connected peer."""
    if addr is not None:
        key = addr if isinstance(addr, bytes) else os.fsencode(addr)
        found = ns.bound.get(key)
        if found is None and key.startswith(b"/"):
            # A path name as another directory spelled it: the socket file.
            try:
                st = os.stat(key)
            except OSError:
                return None
            ino = (st.st_dev, st.st_ino)
            found = next((s for s in ns.bound.values() if s.bound_ino == ino), None)
        return found
    return sock.peer() if sock.peer is not None else None


def maybe_add_creds(task, ns, sock, addr, explicit):
    """The credentials a message carries (or None): the sender's explicit
    SCM_CREDENTIALS, else its own when either end has SO_PASSCRED."""
    if explicit is not None:
        return explicit
    if sock.passcred:
        return scm_ucred(task)
    other = receiver_of(ns, sock, addr)
    if other is not None and other.passcred:
        return scm_ucred(task)
    return None


def take_cred_tokens(ns, body, peek):
    """Split a received SCM_RIGHTS body: (the file tokens' body, the
    credentials a cred token carried or None).  A peek leaves the token's
    credentials in flight."""
    keep, ucred = [], None
    for (tok,) in struct.iter_unpack("<i", body[:len(body) // 4 * 4]):
        entry = ns.inflight.get(os.fstat(tok).st_ino)
        if entry is not None and isinstance(entry[0], CredToken):
            ucred = ns.unpark(tok, peek=peek).ucred
        else:
            keep.append(tok)
    return struct.pack("<%di" % len(keep), *keep), ucred


def scm_recv_ucred(ucred):
    """scm_recv()'s struct ucred for a receiver with SO_PASSCRED."""
    if ucred is None:
        return UCRED.pack(0, OVERFLOW_ID, OVERFLOW_ID)
    return UCRED.pack(*ucred)
