"""ipc/sem.c: System V semaphores.

A set is an array of semaphores (semval, sempid).  semop() applies its
operations all or none (perform_atomic_semop): if one would block, the
caller sleeps (WouldBlock, kernel/sched/wait.py) until a change to the set
wakes it, then tries again; -EAGAIN with IPC_NOWAIT or when semtimedop's
timeout passes, -EINTR when a signal comes, -EIDRM when the set is removed
meanwhile.  GETNCNT/GETZCNT count the sleepers by the operation that
blocked them.  SEM_UNDO records the opposite of each operation in the
process's undo list; exit_sem() applies it (clamped to 0..SEMVMX) when the
last thread of the process exits, and SETVAL/SETALL reset it.

Omits: the "simple operation" fast paths and the exact wake-up order of
update_queue() (every sleeper of a changed set retries, oldest first).
"""

import errno
import struct

from kernel.ipc.uapi import (
    GETALL, GETNCNT, GETPID, GETVAL, GETZCNT, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET,
    IPC_STAT, SEM_INFO, SEM_STAT, SEM_UNDO, SEMAEM, SEMMAP, SEMMNU, SEMUME, SEMUSZ, SEMVMX,
    SETALL, SETVAL,
)
from kernel.ipc.util import (
    IPC64_PERM, SYSVIPC_PROC, KernIpcPerm, S_IRUGO, S_IWUGO, get_seconds, ipc_addid,
    ipc_obtain_object_check, ipc_obtain_for_stat, ipc_rmid, ipc_update_perm,
    ipcctl_pre_down, ipcget, ipcperms, s32,
)
from kernel.sched.wait import WouldBlock
from kernel.syscalls.table import syscall
from kernel.time.timekeeping import NSEC_PER_SEC

SEMID64_DS_TAIL = struct.Struct("<qqQQQ")       # otime, ctime, nsems, two unused
SEMINFO = struct.Struct("<10i")
SC_SEMMSL, SC_SEMMNS, SC_SEMOPM, SC_SEMMNI = range(4)     # ns->sem_ctls[]
SEMBUF = struct.Struct("<HhH")                  # sem_num, sem_op, sem_flg
TIMESPEC = struct.Struct("<qq")
BITS_PER_LONG = 64


class Sem:
    """struct sem: one semaphore."""

    __slots__ = ("semval", "sempid")

    def __init__(self):
        self.semval = 0
        self.sempid = 0


class SemQueue:
    """struct sem_queue: a task asleep in semop(), and the operation that
    blocked it (for GETNCNT/GETZCNT)."""

    def __init__(self, task, sma, blocking):
        self.task = task
        self.sma = sma
        self.blocking = blocking        # (sem_num, sem_op, sem_flg)
        self.status = 0                 # -EIDRM once the set is removed


class SemArray:
    """struct sem_array: one set."""

    def __init__(self, task, key, semflg, nsems):
        self.perm = KernIpcPerm(task, key, semflg)
        self.sems = [Sem() for _ in range(nsems)]
        self.otime = 0
        self.ctime = get_seconds(task.kernel)
        self.pending = []               # SemQueues, oldest first

    @property
    def nsems(self):
        return len(self.sems)


def sem_ids(task):
    return task.kernel.ipc_ns.ids["sem"]


def undo_lists(ns):
    """tgid -> {SemArray: [semadj...]}: every process's sem_undo list."""
    return ns.sem_undo


def newary(task, key, semflg, nsems):
    """newary(): a new set of nsems semaphores, all zero; its id, or -EINVAL
    (no semaphores), -ENOSPC (SEMMNS semaphores or SEMMNI sets in use)."""
    ns = task.kernel.ipc_ns
    if not nsems:
        return -errno.EINVAL
    if ns.used_sems + nsems > ns.sem_ctls[SC_SEMMNS]:
        return -errno.ENOSPC
    sma = SemArray(task, key, semflg, nsems)
    ident = ipc_addid(ns.ids["sem"], sma, ns.sem_ctls[SC_SEMMNI])
    if ident >= 0:
        ns.used_sems += nsems
    return ident


@syscall("semget", "ipckey d ipcflags")
def sys_semget(task, key, nsems, semflg):
    """SYSCALL semget(): find or make the set of key; -EINVAL for nsems
    below 0 or above SEMMSL, or above the existing set's size."""
    key, nsems, semflg = s32(key), s32(nsems), s32(semflg)
    if nsems < 0 or nsems > task.kernel.ipc_ns.sem_ctls[SC_SEMMSL]:
        return -errno.EINVAL

    def more_checks(sma):               # sem_more_checks()
        return -errno.EINVAL if nsems > sma.nsems else 0

    return ipcget(task, sem_ids(task), key, semflg,
                  lambda: newary(task, key, semflg, nsems), more_checks)


def wake_pending(task, sma):
    """update_queue(), simplified: every sleeper of the set tries again."""
    for q in list(sma.pending):
        sma.pending.remove(q)
        task.kernel.sched.wake_up_process(q.task)


def perform_atomic_semop(task, sma, sops, undo):
    """perform_atomic_semop(): apply every operation or none.  0 when done,
    the index of the operation that must wait (as a positive int + 1), or
    -EAGAIN (it would wait, IPC_NOWAIT) / -ERANGE (above SEMVMX, or an undo
    value out of range)."""
    vals = {}
    adj = {}
    for i, (num, op, flg) in enumerate(sops):
        cur = vals.get(num, sma.sems[num].semval)
        if op == 0 and cur or cur + op < 0:
            return -errno.EAGAIN if flg & IPC_NOWAIT else i + 1
        cur += op
        if cur > SEMVMX:
            return -errno.ERANGE
        if flg & SEM_UNDO:
            new = adj.get(num, undo[num]) - op
            if new < -SEMAEM - 1 or new > SEMAEM:
                return -errno.ERANGE
            adj[num] = new
        vals[num] = cur
    for num, val in vals.items():
        sma.sems[num].semval = val
        sma.sems[num].sempid = task.tgid
    for num, val in adj.items():
        undo[num] = val
    return 0


def _timeout_deadline(task, timeout):
    """The kernel-clock time semtimedop's timeout ends at, None, or -EINVAL."""
    if not timeout:
        return None
    sec, nsec = TIMESPEC.unpack(task.uaccess.copy_from_user(timeout, TIMESPEC.size))
    if sec < 0 or nsec < 0 or nsec >= NSEC_PER_SEC:
        return -errno.EINVAL
    return task.kernel.sched.clock() + sec + nsec / NSEC_PER_SEC


def do_semtimedop(task, semid, tsops, nsops, timeout):
    """do_semtimedop(): checks in 4.14's order (-EINVAL, -E2BIG, -EFAULT,
    the timeout, -EINVAL for the id, -EFBIG for a sem_num past the set,
    -EACCES), then the operations, sleeping until they can all be done."""
    state = task.restart
    task.restart = None
    if state is not None and state.get("sem_q") is not None:
        q = state["sem_q"]
        if q in q.sma.pending:
            q.sma.pending.remove(q)
        if q.status:
            return q.status
        deadline = state["deadline"]
    else:
        deadline = None
    semid, nsops = s32(semid), nsops & 0xFFFFFFFF      # unsigned nsops
    ns = task.kernel.ipc_ns
    if nsops < 1 or semid < 0:
        return -errno.EINVAL
    if nsops > ns.sem_ctls[SC_SEMOPM]:
        return -errno.E2BIG
    raw = task.uaccess.copy_from_user(tsops, nsops * SEMBUF.size)
    sops = [SEMBUF.unpack_from(raw, i * SEMBUF.size) for i in range(nsops)]
    if state is None:
        deadline = _timeout_deadline(task, timeout)
        if isinstance(deadline, int):
            return deadline
    top = max(num for num, _op, _flg in sops)
    undos = any(flg & SEM_UNDO for _num, _op, flg in sops)
    alter = any(op for _num, op, _flg in sops)
    sma = ipc_obtain_object_check(ns.ids["sem"], semid)
    if isinstance(sma, int):
        return sma
    if top >= sma.nsems:
        return -errno.EFBIG
    if ipcperms(task, sma.perm, S_IWUGO if alter else S_IRUGO):
        return -errno.EACCES
    undo = [0] * sma.nsems
    if undos:
        undo = undo_lists(ns).setdefault(task.tgid, {}).setdefault(sma, undo)
    err = perform_atomic_semop(task, sma, sops, undo)
    if err == 0:
        sma.otime = get_seconds(task.kernel)
        if alter:
            wake_pending(task, sma)
        return 0
    if err < 0:
        return err
    if deadline is not None and task.kernel.sched.clock() >= deadline:
        return -errno.EAGAIN
    q = SemQueue(task, sma, sops[err - 1])
    sma.pending.append(q)
    task.restart = {"sem_q": q, "deadline": deadline}

    def cancel():
        if q in sma.pending:
            sma.pending.remove(q)
        task.restart = None
    raise WouldBlock(deadline=deadline, cancel=cancel, restart=errno.EINTR)


@syscall("semtimedop", "d sembufs u timespec")
def sys_semtimedop(task, semid, tsops, nsops, timeout):
    return do_semtimedop(task, semid, tsops, nsops, timeout)


@syscall("semop", "d sembufs u")
def sys_semop(task, semid, tsops, nsops):
    return do_semtimedop(task, semid, tsops, nsops, 0)


def count_semcnt(sma, semnum, count_zero):
    """count_semcnt(): sleepers whose blocking operation on semnum waits for
    zero (GETZCNT) or for an increase (GETNCNT)."""
    n = 0
    for q in sma.pending:
        num, op, _flg = q.blocking
        if num == semnum and (op == 0 if count_zero else op < 0):
            n += 1
    return n


def _clear_undo(ns, sma, semnum=None):
    """SETVAL/SETALL forget the recorded adjustments (of one semaphore, or all)."""
    for lists in undo_lists(ns).values():
        undo = lists.get(sma)
        if undo is not None:
            for i in range(len(undo)) if semnum is None else (semnum,):
                undo[i] = 0


def freeary(task, ns, sma):
    """freeary(): remove the set; its sleepers wake with -EIDRM."""
    for q in list(sma.pending):
        q.status = -errno.EIDRM
        task.kernel.sched.wake_up_process(q.task)
    sma.pending.clear()
    for lists in undo_lists(ns).values():
        lists.pop(sma, None)
    ipc_rmid(ns.ids["sem"], sma)
    ns.used_sems -= sma.nsems


@syscall("semctl", "d d semcmd semarg")
def sys_semctl(task, semid, semnum, cmd, arg):
    """SYSCALL semctl(): arg is union semun, passed by value (val, or a
    pointer to the buffer / array)."""
    semid, semnum, cmd = s32(semid), s32(semnum), s32(cmd)
    ns = task.kernel.ipc_ns
    ids = ns.ids["sem"]
    if semid < 0:
        return -errno.EINVAL
    if cmd in (IPC_INFO, SEM_INFO):
        msl, mns, opm, mni = ns.sem_ctls
        info = [SEMMAP, mni, mns, SEMMNU, msl, opm, SEMUME, SEMUSZ, SEMVMX, SEMAEM]
        if cmd == SEM_INFO:
            info[7], info[9] = ids.in_use, ns.used_sems
        task.uaccess.copy_to_user(arg, SEMINFO.pack(*info))
        return max(ids.max_id, 0)
    if cmd in (IPC_STAT, SEM_STAT):
        sma = ipc_obtain_for_stat(task, ids, semid, cmd == SEM_STAT)
        if isinstance(sma, int):
            return sma
        task.uaccess.copy_to_user(arg, sma.perm.pack() + SEMID64_DS_TAIL.pack(
            sma.otime, sma.ctime, sma.nsems, 0, 0))
        return sma.perm.id if cmd == SEM_STAT else 0
    if cmd in (GETALL, GETVAL, GETPID, GETNCNT, GETZCNT, SETALL):
        return semctl_main(task, ns, semid, semnum, cmd, arg)
    if cmd == SETVAL:
        return semctl_setval(task, ns, semid, semnum, s32(arg))
    if cmd in (IPC_RMID, IPC_SET):
        data = task.uaccess.copy_from_user(arg, IPC64_PERM.size + SEMID64_DS_TAIL.size) \
            if cmd == IPC_SET else None
        sma = ipcctl_pre_down(task, ids, semid)
        if isinstance(sma, int):
            return sma
        if cmd == IPC_RMID:
            freeary(task, ns, sma)
            return 0
        err = ipc_update_perm(sma.perm, data)
        if not err:
            sma.ctime = get_seconds(task.kernel)
        return err
    return -errno.EINVAL


def semctl_main(task, ns, semid, semnum, cmd, arg):
    """semctl_main(): GETALL/SETALL (the whole set, unsigned shorts at arg),
    GETVAL/GETPID/GETNCNT/GETZCNT (one semaphore: -EINVAL for a bad semnum)."""
    sma = ipc_obtain_object_check(ns.ids["sem"], semid)
    if isinstance(sma, int):
        return sma
    if ipcperms(task, sma.perm, S_IWUGO if cmd == SETALL else S_IRUGO):
        return -errno.EACCES
    fmt = struct.Struct("<%dH" % sma.nsems)
    if cmd == GETALL:
        task.uaccess.copy_to_user(arg, fmt.pack(*(s.semval for s in sma.sems)))
        return 0
    if cmd == SETALL:
        values = fmt.unpack(task.uaccess.copy_from_user(arg, fmt.size))
        if any(v > SEMVMX for v in values):
            return -errno.ERANGE
        for sem, v in zip(sma.sems, values):
            sem.semval = v
            sem.sempid = task.tgid
        _clear_undo(ns, sma)
        sma.ctime = get_seconds(task.kernel)
        wake_pending(task, sma)
        return 0
    if semnum < 0 or semnum >= sma.nsems:
        return -errno.EINVAL
    if cmd == GETVAL:
        return sma.sems[semnum].semval
    if cmd == GETPID:
        return sma.sems[semnum].sempid
    return count_semcnt(sma, semnum, cmd == GETZCNT)


def semctl_setval(task, ns, semid, semnum, val):
    """semctl_setval(): -ERANGE first (val outside 0..SEMVMX), then the id,
    semnum and write permission."""
    if val > SEMVMX or val < 0:
        return -errno.ERANGE
    sma = ipc_obtain_object_check(ns.ids["sem"], semid)
    if isinstance(sma, int):
        return sma
    if semnum < 0 or semnum >= sma.nsems:
        return -errno.EINVAL
    if ipcperms(task, sma.perm, S_IWUGO):
        return -errno.EACCES
    sma.sems[semnum].semval = val
    sma.sems[semnum].sempid = task.tgid
    _clear_undo(ns, sma, semnum)
    sma.ctime = get_seconds(task.kernel)
    wake_pending(task, sma)
    return 0


def exit_sem(task):
    """exit_sem(): the last thread of a process is leaving: apply its undo
    list to every set still there, clamped to 0..SEMVMX, and wake sleepers."""
    if task.signal.live > 1:
        return
    ns = task.kernel.ipc_ns
    lists = undo_lists(ns).pop(task.tgid, None)
    if not lists:
        return
    for sma, undo in lists.items():
        if sma.perm.deleted:
            continue
        for sem, adj in zip(sma.sems, undo):
            if adj:
                sem.semval = min(max(sem.semval + adj, 0), SEMVMX)
                sem.sempid = task.tgid
        sma.otime = get_seconds(task.kernel)
        wake_pending(task, sma)


def sysvipc_sem_proc_show(kernel):
    """/proc/sysvipc/sem, as sysvipc_sem_proc_show() formats it."""
    lines = ["       key      semid perms      nsems   uid   gid  cuid  cgid      otime"
             "      ctime\n"]
    ids = kernel.ipc_ns.ids["sem"]
    for idx in sorted(ids.entries):
        sma = ids.entries[idx]
        p = sma.perm
        lines.append("%10d %10d  %4o %10u %5u %5u %5u %5u %10d %10d\n" % (
            p.key, p.id, p.mode, sma.nsems, p.uid, p.gid, p.cuid, p.cgid, sma.otime, sma.ctime))
    return "".join(lines)


SYSVIPC_PROC["sem"] = sysvipc_sem_proc_show
