"""mm/process_vm_access.c: process_vm_readv()/process_vm_writev() — copying
between the caller's memory and another process's, through the other
address space's page tables (faulting its pages in as its own access
would; kernel/fs/proc.py access_remote_vm(), the same path /proc/PID/mem
takes).  Every task of the board has the same credentials, so the ptrace
access check (mm_access(PTRACE_MODE_ATTACH_REALCREDS)) always passes.
"""

import errno
import struct

from emu.arch import PAGE_SIZE
from kernel.fs.proc import access_remote_vm
from kernel.syscalls.table import syscall
from kernel.uaccess import Efault, s32

UIO_MAXIOV = 1024
_IOVEC = struct.Struct("<QQ")
MAX_RW_COUNT = (1 << 31) - 4096          # INT_MAX & PAGE_MASK
# process_vm_rw_single_vec() pins at most this many pages a loop (two
# pages of page pointers): the host never holds more of a copy than that.
PVM_MAX_KMALLOC_PAGES = PAGE_SIZE * 2 // 8


def _import_iovec(task, addr, count):
    """rw_copy_check_uvector(): the iovecs, EINVAL for a bad count or a
    total that overflows ssize_t, EFAULT for a bad array."""
    count = s32(count)
    if count < 0 or count > UIO_MAXIOV:
        raise _Err(-errno.EINVAL)
    if count == 0:
        return []
    raw = task.uaccess.copy_from_user(addr, count * _IOVEC.size)
    vecs = [_IOVEC.unpack_from(raw, i * _IOVEC.size) for i in range(count)]
    total = 0
    for base, length in vecs:
        if length >> 63:
            raise _Err(-errno.EINVAL)
        total += length
        if total >> 63:
            raise _Err(-errno.EINVAL)
    return vecs


class _Err(Exception):
    def __init__(self, err):
        super().__init__(err)
        self.err = err


def process_vm_rw(task, pid, lvec, liovcnt, rvec, riovcnt, flags, write):
    """process_vm_rw(): bytes copied, or -errno if nothing was."""
    if flags:
        return -errno.EINVAL
    try:
        local = _import_iovec(task, lvec, liovcnt)
        remote = _import_iovec(task, rvec, riovcnt)
    except _Err as e:
        return e.err
    if sum(n for _, n in local) == 0:
        return 0
    target = task.kernel.tasks.get(s32(pid))
    if target is None or target.exit_state is not None:
        return -errno.ESRCH
    mm = target.mm
    if mm is None:
        return -errno.ESRCH
    return _copy(task, mm, local, remote, write)


def _copy(task, mm, local, remote, write):
    """process_vm_rw_core(): walk both iovec lists side by side."""
    done = 0
    li, loff = 0, 0
    for rbase, rlen in remote:
        roff = 0
        while roff < rlen:
            while li < len(local) and loff >= local[li][1]:
                li, loff = li + 1, 0
            if li == len(local):
                return done
            n = min(rlen - roff, local[li][1] - loff, MAX_RW_COUNT - done,
                    PVM_MAX_KMALLOC_PAGES * PAGE_SIZE)
            if n <= 0:
                return done
            laddr = local[li][0] + loff
            try:
                if write:
                    data = task.uaccess.copy_from_user(laddr, n)
                    got = access_remote_vm(mm, rbase + roff, data=data)
                else:
                    data = access_remote_vm(mm, rbase + roff, n)
                    task.uaccess.copy_to_user(laddr, data)
                    got = len(data)
            except Efault:
                return done if done else -errno.EFAULT
            done += got
            if got < n:
                return done if done else -errno.EFAULT
            roff += n
            loff += n
    return done


@syscall("process_vm_readv", "d iov:2 u iovaddr:4 u u")
def sys_process_vm_readv(task, pid, lvec, liovcnt, rvec, riovcnt, flags):
    """process_vm_readv(): another process's memory into ours."""
    return process_vm_rw(task, pid, lvec, liovcnt, rvec, riovcnt, flags, False)


@syscall("process_vm_writev", "d iov:2 u iovaddr:4 u u")
def sys_process_vm_writev(task, pid, lvec, liovcnt, rvec, riovcnt, flags):
    """process_vm_writev(): our memory into another process's."""
    return process_vm_rw(task, pid, lvec, liovcnt, rvec, riovcnt, flags, True)
