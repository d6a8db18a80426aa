"""ipc/namespace.c + the board's tmpfs: what one board's IPC objects live in.

Linux gives every IPC namespace its own SysV id tables and POSIX message
queues, and a tmpfs at /dev/shm holds POSIX shared memory.  Each a53emu
board is such a namespace: its SysV objects are Python objects of this
kernel (nothing on the host), and its /dev/shm and the files behind
memfds are a private host temporary directory, made on first use and
removed when the kernel shuts down (or, failing that, when the Python
process exits), so two boards never see each other's objects and nothing
is left on the host.
"""

import os
import weakref

from kernel.ipc.uapi import MSGMAX, MSGMNB, MSGMNI, SEMMNI, SEMMNS, SEMMSL, SEMOPM, SHMALL, SHMMAX, SHMMNI
from kernel.ipc.uapi import DFLT_MSGMAX, DFLT_MSGSIZEMAX, DFLT_QUEUESMAX

# The guest path of the board's tmpfs mount.
DEV_SHM = b"/dev/shm"


class IpcIds:
    """struct ipc_ids: one class of SysV objects (shm, sem or msg)."""

    def __init__(self):
        self.entries = {}       # index -> object (the idr)
        self.seq = 0            # sequence number of the next object
        self.in_use = 0

    @property
    def max_id(self):
        """ids->max_id: the highest index in use, -1 if none."""
        return max(self.entries) if self.entries else -1


class IpcNamespace:
    """struct ipc_namespace of one board, and its /dev/shm."""

    def __init__(self):
        self.ids = {"shm": IpcIds(), "sem": IpcIds(), "msg": IpcIds()}
        self.shm_tot = 0                # pages of all SysV segments
        self.used_sems = 0              # semaphores in all sets
        self.sem_undo = {}              # tgid -> {set: [semadj]} (ipc/sem.py)
        self.msg_hdrs = 0               # messages queued in all queues
        self.msg_bytes = 0              # their bytes
        self.mqueues = {}               # POSIX message queue name -> queue
        # The limits /proc/sys/kernel shows and root may change (ipc/ipc_sysctl.py)
        self.shm_ctlmax, self.shm_ctlall, self.shm_ctlmni = SHMMAX, SHMALL, SHMMNI
        self.msg_ctlmax, self.msg_ctlmnb, self.msg_ctlmni = MSGMAX, MSGMNB, MSGMNI
        self.sem_ctls = [SEMMSL, SEMMNS, SEMOPM, SEMMNI]
        # mq_init_ns(): /proc/sys/fs/mqueue (ipc/mq_sysctl.py)
        self.mq_queues_max = DFLT_QUEUESMAX
        self.mq_msg_max = self.mq_msg_default = DFLT_MSGMAX
        self.mq_msgsize_max = self.mq_msgsize_default = DFLT_MSGSIZEMAX
        self.root = None                # the host temporary directory (bytes)
        self._finalizer = None

    def host_root(self):
        """The board's temporary directory on the host: made on first use,
        mode 0700, removed by shutdown() or at the latest when Python exits."""
        if self.root is None:
            # Imported here, on first use: with what they import (random,
            # math, zlib, bz2, lzma...) ~3 ms of every start (issue 8).
            import shutil
            import tempfile
            root = os.fsencode(tempfile.mkdtemp(prefix="a53emu-ipc-"))
            os.mkdir(os.path.join(root, b"shm"), 0o1777)
            os.chmod(os.path.join(root, b"shm"), 0o1777)
            os.mkdir(os.path.join(root, b"memfd"), 0o700)
            self._finalizer = weakref.finalize(self, shutil.rmtree, root, True)
            self.root = root
        return self.root

    def shm_path(self, path):
        """The host path of a guest path on /dev/shm (bytes), or None if the
        path is not on it."""
        if path != DEV_SHM and not path.startswith(DEV_SHM + b"/"):
            return None
        return os.path.join(self.host_root(), b"shm") + path[len(DEV_SHM):]

    def owns(self, host_path):
        """Is this host path inside the board's tmpfs (shmem, not a host file)?"""
        if self.root is None:
            return False
        return os.path.realpath(host_path).startswith(os.path.realpath(self.root) + b"/")

    def shutdown(self):
        """Remove the temporary directory (every object in it is gone with
        the board)."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
