"""kernel/futex.c: fast user-space mutexes — the kernel half.

A futex is a 32-bit word in user memory.  Threads agree on it without the
kernel while uncontended; the kernel only keeps the queue of sleepers:

    FUTEX_WAIT(uaddr, val)   sleep if *uaddr is still val (else EAGAIN)
    FUTEX_WAKE(uaddr, n)     wake up to n sleepers on uaddr

Sleepers hang in a hash of queues keyed like get_futex_key(): a private
futex (FUTEX_PRIVATE_FLAG, or any futex in a private mapping) by (mm,
address); a futex in a shared mapping by the page-cache page behind it
(the mapping and its offset), so two processes mapping the same file or
shared memory at different addresses meet on the same queue.  Omitted:
priority-inheritance futexes (FUTEX_*_PI return ENOSYS) and FUTEX_FD
(removed in 2.6.26; ENOSYS in 4.14 too).
"""

import errno
import struct

from emu.arch import PAGE_SHIFT
from kernel.mm.mm import VM_SHARED
from kernel.mm.mmap import find_vma
from kernel.sched.wait import ERESTART_RESTARTBLOCK, ERESTARTSYS, WouldBlock
from kernel.syscalls.table import syscall
from kernel.time.timekeeping import ktime_get, ktime_get_real, timespec_valid
from kernel.uaccess import Efault
from kernel.uapi import (
    FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMD_MASK, FUTEX_CMP_REQUEUE,
    FUTEX_OWNER_DIED, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_TID_MASK, FUTEX_WAIT,
    FUTEX_WAIT_BITSET, FUTEX_WAITERS, FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP,
)

_U32 = struct.Struct("<I")
_TIMESPEC = struct.Struct("<qq")
_ROBUST_HEAD = struct.Struct("<QqQ")      # list, futex_offset, list_op_pending
ROBUST_LIST_LIMIT = 2048
FUTEX_OP_OPARG_SHIFT = 8


class FutexQ:
    """struct futex_q: one sleeping waiter."""

    __slots__ = ("task", "key", "bitset", "woken")

    def __init__(self, task, key, bitset):
        self.task = task
        self.key = key
        self.bitset = bitset
        self.woken = False


def _queues(kernel):
    return kernel.futex_queues


def get_futex_key(task, uaddr, private):
    """get_futex_key(): what identifies the futex word at uaddr.  Raises
    Efault when no VMA covers it or, for a shared futex, the page cannot be
    faulted in; -EINVAL for a misaligned address is the
    caller's check.  A waiter and a waker meet only with equal keys: the
    private flag must agree (4.14's keys differ by FUT_OFF_MMSHARED)."""
    mm = task.mm
    if private:
        return ("private", mm, uaddr)
    vma = find_vma(mm, uaddr)
    if vma is None or vma.vm_start > uaddr:
        raise Efault()
    # get_user_pages_fast(): a shared key needs the page itself, so a word
    # that cannot be faulted in (PROT_NONE, a file page past EOF) is EFAULT
    # (4.14 tries for writing, then, for a wake, for reading: readable is enough).
    task.uaccess.copy_from_user(uaddr, 4)
    if vma.vm_flags & VM_SHARED and vma.vm_file is not None:
        pgoff = vma.vm_pgoff + ((uaddr - vma.vm_start) >> PAGE_SHIFT)
        return ("inode", vma.vm_file.mapping, pgoff, uaddr & 0xFFF)
    # A shared futex in private memory: keyed by mm and address like a
    # private one, but flagged (FUT_OFF_MMSHARED) so the two never meet.
    return ("mmshared", mm, uaddr)


def _get_user_u32(task, uaddr):
    return _U32.unpack(task.uaccess.copy_from_user(uaddr, 4))[0]


def _unqueue(kernel, q):
    queue = _queues(kernel).get(q.key)
    if queue is not None and q in queue:
        queue.remove(q)
        if not queue:
            del _queues(kernel)[q.key]


def _deadline(task, timeout, op, flags):
    """The kernel-clock time a FUTEX_WAIT* times out at, or None; raises
    ValueError for an invalid timespec.  FUTEX_WAIT's timeout is relative,
    FUTEX_WAIT_BITSET's absolute (CLOCK_MONOTONIC, or CLOCK_REALTIME)."""
    if not timeout:
        return None
    sec, nsec = _TIMESPEC.unpack(task.uaccess.copy_from_user(timeout, 16))
    if not timespec_valid(sec, nsec):
        raise ValueError()
    value = sec + nsec / 1e9
    now = task.kernel.sched.clock()
    if op == FUTEX_WAIT:
        return now + value
    # The absolute time is on the guest's clock (kernel/time/timekeeping.py).
    kernel = task.kernel
    clock_now = ktime_get_real(kernel) if flags & FUTEX_CLOCK_REALTIME else ktime_get(kernel)
    return now + (value - clock_now / 1e9)


def futex_wait(task, uaddr, private, val, deadline, bitset):
    """futex_wait(): sleep on uaddr while it holds val.

    The first attempt compares and queues; when the task runs again it
    finds its FutexQ in task.restart: woken → 0, timed out → -ETIMEDOUT."""
    kernel = task.kernel
    state = task.restart
    if state is not None and state.get("futex_q") is not None:
        q = state["futex_q"]
        if q.woken:
            return 0
        if state["deadline"] is not None and kernel.sched.clock() >= state["deadline"]:
            _unqueue(kernel, q)
            return -errno.ETIMEDOUT
        return _sleep(task, q, state["deadline"])
    key = get_futex_key(task, uaddr, private)
    if _get_user_u32(task, uaddr) != val:
        return -errno.EAGAIN
    if deadline is not None and deadline <= kernel.sched.clock():
        return -errno.ETIMEDOUT
    q = FutexQ(task, key, bitset)
    _queues(kernel).setdefault(key, []).append(q)
    task.restart = {"futex_q": q, "deadline": deadline}
    return _sleep(task, q, deadline)


def _sleep(task, q, deadline):
    kernel = task.kernel

    def cancel():
        # A signal ends the wait: leave the queue, start afresh if restarted.
        _unqueue(kernel, q)
        task.restart = None
    raise WouldBlock(deadline=deadline, cancel=cancel,
                     restart=ERESTART_RESTARTBLOCK if deadline is not None else ERESTARTSYS)


def _wake_key(kernel, key, nr, bitset=FUTEX_BITSET_MATCH_ANY):
    """Wake up to nr waiters of key whose bitset matches; returns how many."""
    queue = _queues(kernel).get(key)
    if not queue:
        return 0
    woken = 0
    for q in list(queue):
        if woken >= nr:
            break
        if not q.bitset & bitset:
            continue
        queue.remove(q)
        q.woken = True
        kernel.sched.wake_up_process(q.task)
        woken += 1
    if not queue:
        del _queues(kernel)[key]
    return woken


def futex_wake(task, uaddr, nr, shared=True, bitset=FUTEX_BITSET_MATCH_ANY):
    """futex_wake(): wake up to nr waiters on uaddr; returns how many."""
    key = get_futex_key(task, uaddr, not shared)
    return _wake_key(task.kernel, key, nr, bitset)


def futex_requeue(task, uaddr, private, uaddr2, nr_wake, nr_requeue, cmpval):
    """futex_requeue(): wake nr_wake waiters of uaddr and move up to
    nr_requeue of the rest to uaddr2 (FUTEX_CMP_REQUEUE first checks that
    *uaddr == cmpval, else EAGAIN)."""
    kernel = task.kernel
    key1 = get_futex_key(task, uaddr, private)
    key2 = get_futex_key(task, uaddr2, private)
    if cmpval is not None and _get_user_u32(task, uaddr) != cmpval:
        return -errno.EAGAIN
    woken = _wake_key(kernel, key1, nr_wake)
    queue = _queues(kernel).get(key1, [])
    moved = 0
    for q in list(queue):
        if moved >= nr_requeue:
            break
        queue.remove(q)
        q.key = key2
        _queues(kernel).setdefault(key2, []).append(q)
        moved += 1
    if key1 in _queues(kernel) and not _queues(kernel)[key1]:
        del _queues(kernel)[key1]
    return woken + moved


_WAKE_OPS = {0: lambda old, arg: arg, 1: lambda old, arg: old + arg,
             2: lambda old, arg: old | arg, 3: lambda old, arg: old & ~arg,
             4: lambda old, arg: old ^ arg}
_WAKE_CMPS = {0: lambda a, b: a == b, 1: lambda a, b: a != b, 2: lambda a, b: a < b,
              3: lambda a, b: a <= b, 4: lambda a, b: a > b, 5: lambda a, b: a >= b}


def _sext(value, bits):
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def futex_wake_op(task, uaddr, private, uaddr2, nr_wake, nr_wake2, encoded):
    """futex_wake_op(): *uaddr2 = op(*uaddr2, oparg), wake nr_wake waiters of
    uaddr, and nr_wake2 of uaddr2 if cmp(old *uaddr2, cmparg) held.

    encoded: op[31:28] cmp[27:24] oparg[23:12] cmparg[11:0]; op bit 3
    (FUTEX_OP_OPARG_SHIFT) makes oparg a shift count (masked to 0..31, as
    4.14.y does since the backport of 30d6e0a4190d)."""
    op = (encoded >> 28) & 0xF
    cmp = (encoded >> 24) & 0xF
    oparg = _sext(encoded >> 12, 12)
    cmparg = _sext(encoded, 12)
    if op & FUTEX_OP_OPARG_SHIFT:
        oparg = 1 << (oparg & 31)
        op &= ~FUTEX_OP_OPARG_SHIFT
    if op not in _WAKE_OPS or cmp not in _WAKE_CMPS:
        return -errno.ENOSYS
    kernel = task.kernel
    key1 = get_futex_key(task, uaddr, private)
    key2 = get_futex_key(task, uaddr2, private)
    old = _get_user_u32(task, uaddr2)
    task.uaccess.copy_to_user(uaddr2, _U32.pack(_WAKE_OPS[op](old, oparg) & 0xFFFFFFFF))
    woken = _wake_key(kernel, key1, nr_wake)
    if _WAKE_CMPS[cmp](_sext(old, 32), cmparg):
        woken += _wake_key(kernel, key2, nr_wake2)
    return woken


def handle_futex_death(task, uaddr):
    """handle_futex_death(): a lock the dying thread held is marked
    FUTEX_OWNER_DIED and one waiter is woken to recover it."""
    try:
        val = _get_user_u32(task, uaddr)
        if val & FUTEX_TID_MASK != task.pid:
            return
        task.uaccess.copy_to_user(uaddr, _U32.pack((val & FUTEX_WAITERS) | FUTEX_OWNER_DIED))
        if val & FUTEX_WAITERS:
            futex_wake(task, uaddr, 1, shared=True)
    except Efault:
        pass


def exit_robust_list(task):
    """exit_robust_list(): walk the thread's list of held robust locks."""
    head, _ = task.robust_list
    try:
        entry, offset, pending = _ROBUST_HEAD.unpack(task.uaccess.copy_from_user(head, 24))
        limit = ROBUST_LIST_LIMIT
        entry &= ~1
        while entry != head and limit:
            nxt = struct.unpack("<Q", task.uaccess.copy_from_user(entry, 8))[0] & ~1
            if entry != pending & ~1:
                handle_futex_death(task, (entry + offset) & 0xFFFFFFFFFFFFFFFF)
            entry = nxt
            limit -= 1
        if pending & ~1:
            handle_futex_death(task, ((pending & ~1) + offset) & 0xFFFFFFFFFFFFFFFF)
    except Efault:
        pass
    task.robust_list = (0, 0)


@syscall("futex", "p futexop d p p d")
def sys_futex(task, uaddr, op, val, utime, uaddr2, val3):
    """do_futex(): dispatch on the command in op's low bits."""
    cmd = op & FUTEX_CMD_MASK & 0x7F
    private = bool(op & FUTEX_PRIVATE_FLAG)
    if op & FUTEX_CLOCK_REALTIME and cmd not in (FUTEX_WAIT_BITSET,):
        return -errno.ENOSYS
    val &= 0xFFFFFFFF
    val3 &= 0xFFFFFFFF
    if uaddr & 3:
        return -errno.EINVAL
    if cmd in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAIT else val3
        if not bitset:
            return -errno.EINVAL
        try:
            deadline = _deadline(task, utime, cmd, op)
        except ValueError:
            return -errno.EINVAL
        return futex_wait(task, uaddr, private, val, deadline, bitset)
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAKE else val3
        if not bitset:
            return -errno.EINVAL
        return _wake_key(task.kernel, get_futex_key(task, uaddr, private),
                         min(val, 0x7FFFFFFF), bitset)
    nr2 = utime & 0xFFFFFFFF             # val2 travels in the timeout argument
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP) and uaddr2 & 3:
        return -errno.EINVAL
    if cmd == FUTEX_REQUEUE:
        return futex_requeue(task, uaddr, private, uaddr2, val, nr2, None)
    if cmd == FUTEX_CMP_REQUEUE:
        if val > 0x7FFFFFFF or nr2 > 0x7FFFFFFF:
            return -errno.EINVAL
        return futex_requeue(task, uaddr, private, uaddr2, val, nr2, val3)
    if cmd == FUTEX_WAKE_OP:
        return futex_wake_op(task, uaddr, private, uaddr2, val, nr2, val3)
    return -errno.ENOSYS
