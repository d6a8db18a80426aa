"""ipc/msg.c: System V message queues.

A queue holds typed messages up to q_qbytes bytes (MSGMNB by default) and
as many messages.  msgsnd() sleeps while the queue is full, msgrcv() while
no message matches msgtyp (0: the first; > 0: the first of that type, or
with MSG_EXCEPT of another; < 0: the first of the lowest type <= |msgtyp|);
both are woken by a change to the queue, -EIDRM if it is removed
meanwhile, and give -EAGAIN / -ENOMSG at once with IPC_NOWAIT.

Omits: MSG_COPY (CONFIG_CHECKPOINT_RESTORE is off: -ENOSYS), pipelined
sends to a waiting receiver (the receiver takes the message when it runs).
"""

import errno
import struct

from kernel.cred import CAP_SYS_RESOURCE
from kernel.ipc.uapi import (
    IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, MSG_COPY, MSG_EXCEPT, MSG_INFO,
    MSG_NOERROR, MSG_STAT, MSGMAP, MSGPOOL, MSGSEG, MSGSSZ, MSGTQL,
)
from kernel.ipc.util import (
    IPC64_PERM, SYSVIPC_PROC, KernIpcPerm, S_IRUGO, S_IWUGO, capable, get_seconds, ipc_addid,
    ipc_obtain_object_check, ipc_obtain_for_stat, ipc_rmid, ipc_update_perm,
    ipcctl_pre_down, ipcget, ipcperms, s32,
)
from kernel.sched.wait import ERESTARTNOHAND, WaitQueue, WouldBlock
from kernel.syscalls.table import syscall

MSQID64_DS_TAIL = struct.Struct("<qqqQQQiiQQ")  # stime rtime ctime cbytes qnum qbytes lspid lrpid
MSGINFO = struct.Struct("<7iH2x")
LONG = struct.Struct("<q")
LONG_MIN, LONG_MAX = -(1 << 63), (1 << 63) - 1
MSQ_QBYTES_OFFSET = IPC64_PERM.size + 40        # msqid64_ds.msg_qbytes


class MsgQueue:
    """struct msg_queue."""

    def __init__(self, task, key, msgflg):
        self.perm = KernIpcPerm(task, key, msgflg)
        self.stime = self.rtime = 0
        self.ctime = get_seconds(task.kernel)
        self.cbytes = 0
        self.qbytes = task.kernel.ipc_ns.msg_ctlmnb
        self.lspid = self.lrpid = 0
        self.messages = []              # (mtype, bytes), oldest first
        self.wait = WaitQueue("msg")    # senders and receivers asleep on it

    def fits(self, msgsz):
        """msg_fits_inqueue()."""
        return self.cbytes + msgsz <= self.qbytes and len(self.messages) + 1 <= self.qbytes


def newque(task, key, msgflg):
    ns = task.kernel.ipc_ns
    return ipc_addid(ns.ids["msg"], MsgQueue(task, key, msgflg), ns.msg_ctlmni)


@syscall("msgget", "ipckey ipcflags")
def sys_msgget(task, key, msgflg):
    """SYSCALL msgget(): find or make the queue of key (see ipcget)."""
    key, msgflg = s32(key), s32(msgflg)
    return ipcget(task, task.kernel.ipc_ns.ids["msg"], key, msgflg,
                  lambda: newque(task, key, msgflg))


def _resume(task):
    """The queue a sleeping msgsnd/msgrcv waited on, if this is its retry:
    (queue, -EIDRM if it was removed meanwhile, else 0)."""
    state = task.restart
    task.restart = None
    if state is None or state.get("msq") is None:
        return None, 0
    msq = state["msq"]
    return msq, (-errno.EIDRM if msq.perm.deleted else 0)


def _sleep(task, msq):
    task.restart = {"msq": msq}

    def cancel():
        msq.wait.remove(task)
        task.restart = None
    raise WouldBlock(queues=(msq.wait,), cancel=cancel, restart=ERESTARTNOHAND)


@syscall("msgsnd", "d msgbuf:2 u msgflags_ipc")
def sys_msgsnd(task, msqid, msgp, msgsz, msgflg):
    """SYSCALL msgsnd() → do_msgsnd(): -EINVAL (size above MSGMAX, bad id,
    mtype < 1), -EFAULT, -EACCES, -EAGAIN (full, IPC_NOWAIT), -EIDRM."""
    waited, err = _resume(task)
    if err:
        return err
    msqid, msgflg = s32(msqid), s32(msgflg)
    ns = task.kernel.ipc_ns
    mtype = LONG.unpack(task.uaccess.copy_from_user(msgp, LONG.size))[0]
    if msgsz > ns.msg_ctlmax or msgsz >> 63 or msqid < 0:
        return -errno.EINVAL
    if mtype < 1:
        return -errno.EINVAL
    text = task.uaccess.copy_from_user(msgp + LONG.size, msgsz)
    msq = ipc_obtain_object_check(ns.ids["msg"], msqid)
    if isinstance(msq, int):
        return msq
    if ipcperms(task, msq.perm, S_IWUGO):
        return -errno.EACCES
    if not msq.fits(msgsz):
        if msgflg & IPC_NOWAIT:
            return -errno.EAGAIN
        _sleep(task, msq)
    msq.lspid = task.tgid
    msq.stime = get_seconds(task.kernel)
    msq.messages.append((mtype, text))
    msq.cbytes += msgsz
    ns.msg_hdrs += 1
    ns.msg_bytes += msgsz
    msq.wait.wake_up()
    return 0


def find_msg(msq, msgtyp, msgflg):
    """find_msg() + convert_mode(): the index of the message msgtyp selects."""
    if msgtyp == 0:
        return 0 if msq.messages else None
    if msgtyp < 0:
        limit = LONG_MAX if msgtyp == LONG_MIN else -msgtyp
        best = None
        for i, (mtype, _text) in enumerate(msq.messages):
            if mtype <= limit and (best is None or mtype < msq.messages[best][0]):
                best = i
        return best
    for i, (mtype, _text) in enumerate(msq.messages):
        if (mtype != msgtyp) if msgflg & MSG_EXCEPT else (mtype == msgtyp):
            return i
    return None


@syscall("msgrcv", "d msgbuf_out:2 u d msgflags_ipc")
def sys_msgrcv(task, msqid, msgp, msgsz, msgtyp, msgflg):
    """SYSCALL msgrcv() → do_msgrcv(): the length of the message text
    copied, or -EINVAL, -EACCES, -E2BIG (longer than msgsz without
    MSG_NOERROR: the message stays), -ENOMSG (IPC_NOWAIT), -EIDRM,
    -EFAULT (the message is gone then, as in Linux)."""
    waited, err = _resume(task)
    if err:
        return err
    msqid, msgflg = s32(msqid), s32(msgflg)
    msgtyp = msgtyp - (1 << 64) if msgtyp >> 63 else msgtyp
    ns = task.kernel.ipc_ns
    if msqid < 0 or msgsz >> 63:
        return -errno.EINVAL
    if msgflg & MSG_COPY:
        if msgflg & MSG_EXCEPT or not msgflg & IPC_NOWAIT:
            return -errno.EINVAL
        return -errno.ENOSYS
    msq = ipc_obtain_object_check(ns.ids["msg"], msqid)
    if isinstance(msq, int):
        return msq
    if ipcperms(task, msq.perm, S_IRUGO):
        return -errno.EACCES
    i = find_msg(msq, msgtyp, msgflg)
    if i is None:
        if msgflg & IPC_NOWAIT:
            return -errno.ENOMSG
        _sleep(task, msq)
    mtype, text = msq.messages[i]
    if msgsz < len(text) and not msgflg & MSG_NOERROR:
        return -errno.E2BIG
    del msq.messages[i]
    msq.rtime = get_seconds(task.kernel)
    msq.lrpid = task.tgid
    msq.cbytes -= len(text)
    ns.msg_hdrs -= 1
    ns.msg_bytes -= len(text)
    msq.wait.wake_up()                  # ss_wakeup(): a sender may fit now
    n = min(msgsz, len(text))
    task.uaccess.copy_to_user(msgp, LONG.pack(mtype))
    task.uaccess.copy_to_user(msgp + LONG.size, text[:n])
    return n


def freeque(task, ns, msq):
    """freeque(): remove the queue; its sleepers wake and find -EIDRM."""
    ipc_rmid(ns.ids["msg"], msq)
    ns.msg_hdrs -= len(msq.messages)
    ns.msg_bytes -= msq.cbytes
    msq.wait.wake_up()


@syscall("msgctl", "d msgcmd p")
def sys_msgctl(task, msqid, cmd, buf):
    """SYSCALL msgctl(): IPC_INFO, MSG_INFO, IPC_STAT, MSG_STAT, IPC_SET
    (raising msg_qbytes above MSGMNB needs CAP_SYS_RESOURCE: -EPERM),
    IPC_RMID; anything else -EINVAL."""
    msqid, cmd = s32(msqid), s32(cmd)
    ns = task.kernel.ipc_ns
    ids = ns.ids["msg"]
    if msqid < 0 or cmd < 0:
        return -errno.EINVAL
    if cmd in (IPC_INFO, MSG_INFO):
        info = [MSGPOOL, MSGMAP, ns.msg_ctlmax, ns.msg_ctlmnb, ns.msg_ctlmni, MSGSSZ, MSGTQL,
                MSGSEG]
        if cmd == MSG_INFO:
            info[0], info[1], info[6] = ids.in_use, ns.msg_hdrs, ns.msg_bytes
        task.uaccess.copy_to_user(buf, MSGINFO.pack(*info))
        return max(ids.max_id, 0)
    if cmd in (IPC_STAT, MSG_STAT):
        msq = ipc_obtain_for_stat(task, ids, msqid, cmd == MSG_STAT)
        if isinstance(msq, int):
            return msq
        task.uaccess.copy_to_user(buf, msq.perm.pack() + MSQID64_DS_TAIL.pack(
            msq.stime, msq.rtime, msq.ctime, msq.cbytes, len(msq.messages), msq.qbytes,
            msq.lspid, msq.lrpid, 0, 0))
        return msq.perm.id if cmd == MSG_STAT else 0
    if cmd in (IPC_SET, IPC_RMID):
        data = task.uaccess.copy_from_user(buf, IPC64_PERM.size + MSQID64_DS_TAIL.size) \
            if cmd == IPC_SET else None
        msq = ipcctl_pre_down(task, ids, msqid)
        if isinstance(msq, int):
            return msq
        if cmd == IPC_RMID:
            freeque(task, ns, msq)
            return 0
        qbytes = struct.unpack_from("<Q", data, MSQ_QBYTES_OFFSET)[0]
        if qbytes > ns.msg_ctlmnb and not capable(task, CAP_SYS_RESOURCE):
            return -errno.EPERM
        err = ipc_update_perm(msq.perm, data)
        if err:
            return err
        msq.qbytes = qbytes
        msq.ctime = get_seconds(task.kernel)
        msq.wait.wake_up()
        return 0
    return -errno.EINVAL


def sysvipc_msg_proc_show(kernel):
    """/proc/sysvipc/msg, as sysvipc_msg_proc_show() formats it."""
    lines = ["       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  "
             "cgid      stime      rtime      ctime\n"]
    ids = kernel.ipc_ns.ids["msg"]
    for idx in sorted(ids.entries):
        msq = ids.entries[idx]
        p = msq.perm
        lines.append("%10d %10d  %4o  %10u %10u %5u %5u %5u %5u %5u %5u %10d %10d %10d\n" % (
            p.key, p.id, p.mode, msq.cbytes, len(msq.messages), msq.lspid, msq.lrpid,
            p.uid, p.gid, p.cuid, p.cgid, msq.stime, msq.rtime, msq.ctime))
    return "".join(lines)


SYSVIPC_PROC["msg"] = sysvipc_msg_proc_show
