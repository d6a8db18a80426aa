"""ipc/shm.c: System V shared memory — segments that are shmem files.

A segment is an in-memory file (an AddressSpace with no host file, its
pages zeroed on first touch, kept in the page cache until the segment is
destroyed).  shmat() maps it with do_mmap(MAP_SHARED), so attaching is
exactly an mmap of that file: two processes (or a forked child) attached
to one segment map the same frames, mincore() sees its cache, MADV_DONTNEED
drops only ptes.  Each attach is a file of its own (Linux's shm_file_data):
every VMA mapping it holds a reference, so shm_nattch counts VMAs as
Linux's shm_open()/shm_close() do — a fork or a split adds one, an unmap,
exec or exit takes one away — and a segment marked for removal
(IPC_RMID) is destroyed when the last goes.

Omits: SHM_HUGETLB (no hugetlbfs: EINVAL, as 4.14 without CONFIG_HUGETLB_PAGE), shm_rmid_forced (the sysctl is 0),
per-user SHM_LOCK accounting beyond RLIMIT_MEMLOCK, the lpid a fork or an
exit would record (only shmat/shmdt set it).
"""

import errno
import struct

from emu.arch import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE
from kernel.cred import CAP_IPC_LOCK
from kernel.fs.file import File
from kernel.ipc.uapi import (
    IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, SHM_DEST, SHM_EXEC, SHM_INFO, SHM_LOCK, SHM_LOCKED,
    SHM_HUGETLB, SHM_RDONLY, SHM_REMAP, SHM_RND, SHM_STAT, SHM_UNLOCK, SHMMIN,
)
from kernel.ipc import ipc_sysctl  # noqa: F401  (/proc/sys/kernel/shm*, msg*, sem)
from kernel.ipc.util import (
    IPC64_PERM, KernIpcPerm, S_IRUGO, S_IWUGO, capable, current_euid, get_seconds, ipc_addid,
    ipc_obtain_object_check, ipc_obtain_for_stat, ipc_rmid, ipc_update_perm, ipcctl_pre_down,
    SYSVIPC_PROC, ipcget, ipcperms, s32,
)
from kernel.mm.filemap import AddressSpace
from kernel.mm.mmap import do_mmap, do_munmap, find_vma, find_vma_intersection, is_err
from kernel.syscalls.table import syscall
from kernel.uapi import (
    MAP_FIXED, MAP_SHARED, O_RDONLY, O_RDWR, PROT_EXEC, PROT_READ, PROT_WRITE, RLIMIT_MEMLOCK,
)

SHMLBA = PAGE_SIZE              # arm64 (and __ARCH_FORCE_SHMLBA: misaligned is EINVAL)
U64_MASK = (1 << 64) - 1

# struct shmid64_ds after its ipc64_perm: segsz, atime, dtime, ctime, cpid,
# lpid, nattch, two unused longs.
SHMID64_DS_TAIL = struct.Struct("<QqqqiiQQQ")
SHMID64_DS_SIZE = IPC64_PERM.size + SHMID64_DS_TAIL.size
SHMINFO64 = struct.Struct("<9Q")                # shmmax, shmmin, shmmni, shmseg, shmall, 4 unused
SHM_INFO_STRUCT = struct.Struct("<i4x5Q")       # used_ids, shm_tot, shm_rss, shm_swp, 2 swap counts


class ShmidKernel:
    """struct shmid_kernel: one segment."""

    def __init__(self, kernel, task, key, shmflg, size):
        self.perm = KernIpcPerm(task, key, shmflg)
        self.kernel = kernel
        self.segsz = size
        self.atime = self.dtime = 0
        self.ctime = get_seconds(kernel)
        self.cprid = task.tgid
        self.lprid = 0
        self.nattch = 0
        self.mapping = AddressSpace(kernel, None, "SYSV%08x" % (key & 0xFFFFFFFF), size=size)
        self.mapping.users = 1          # the segment's own reference (shp->shm_file)

    @property
    def npages(self):
        return (self.segsz + PAGE_SIZE - 1) >> PAGE_SHIFT


class ShmFile(File):
    """The file of one shmat() (shm_file_data): its mapping is the segment's.
    Each reference a VMA takes is an attach (shm_open), each it drops a
    detach (shm_close)."""

    vm_ops_close = True                 # shm_vm_ops.close: its VMAs never merge

    def __init__(self, kernel, shp, flags):
        name = "/SYSV%08x (deleted)" % (shp.perm.key & 0xFFFFFFFF)
        super().__init__(kernel, None, name, flags, body=b"")
        self.body = None
        self.mmap_capable = True
        self.mapping = shp.mapping
        self.mapping.users += 1
        self.shp = shp
        shp.nattch += 1                 # do_shmat()'s own hold during the mmap

    def get(self):
        self.shp.nattch += 1            # shm_open()
        self.shp.atime = get_seconds(self.kernel)
        return super().get()

    def put(self):
        """shm_close(): one attach fewer; the last of a segment marked
        SHM_DEST destroys it."""
        shp = self.shp
        shp.nattch -= 1
        shp.dtime = get_seconds(self.kernel)
        super().put()
        if shp.nattch == 0 and shp.perm.mode & SHM_DEST and not shp.perm.deleted:
            shm_destroy(self.kernel.ipc_ns, shp)


def shm_ids(task):
    return task.kernel.ipc_ns.ids["shm"]


def shm_destroy(ns, shp):
    """shm_destroy(): the segment leaves the namespace and its pages are freed."""
    ipc_rmid(ns.ids["shm"], shp)
    ns.shm_tot -= shp.npages
    mapping = shp.mapping
    mapping.users -= 1
    if mapping.users == 0:
        mapping.truncate_pages()


def newseg(task, key, shmflg, size):
    """newseg(): a new segment of size bytes; its id, or -EINVAL (size below
    SHMMIN or above SHMMAX), -ENOSPC (SHMALL pages or SHMMNI segments)."""
    ns = task.kernel.ipc_ns
    if size < SHMMIN or size > ns.shm_ctlmax:
        return -errno.EINVAL
    numpages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT
    if ns.shm_tot + numpages > ns.shm_ctlall:
        return -errno.ENOSPC
    if shmflg & SHM_HUGETLB:
        return -errno.EINVAL        # hstate_sizelog(): no huge page size without CONFIG_HUGETLB_PAGE
    shp = ShmidKernel(task.kernel, task, key, shmflg, size)
    ident = ipc_addid(ns.ids["shm"], shp, ns.shm_ctlmni)
    if ident < 0:
        return ident
    ns.shm_tot += numpages
    return ident


@syscall("shmget", "ipckey u ipcflags")
def sys_shmget(task, key, size, shmflg):
    """SYSCALL shmget(): find or make the segment of key (see ipcget)."""
    key, shmflg = s32(key), s32(shmflg)

    def more_checks(shp):               # shm_more_checks()
        return -errno.EINVAL if shp.segsz < size else 0

    return ipcget(task, shm_ids(task), key, shmflg,
                  lambda: newseg(task, key, shmflg, size), more_checks)


@syscall("shmat", "d p shmatflags", ret="x")
def sys_shmat(task, shmid, shmaddr, shmflg):
    """SYSCALL shmat() → do_shmat(): map the segment MAP_SHARED (MAP_FIXED at
    shmaddr, rounded down to SHMLBA with SHM_RND), read-only with
    SHM_RDONLY; the address, or -EINVAL (bad id or address, an overlap
    without SHM_REMAP), -EACCES, -EIDRM, or do_mmap()'s error."""
    shmid, shmflg = s32(shmid), s32(shmflg)
    addr = shmaddr
    flags = MAP_SHARED
    if shmid < 0:
        return -errno.EINVAL
    if addr:
        if addr & (SHMLBA - 1):
            if not shmflg & SHM_RND:
                return -errno.EINVAL
            addr &= ~(SHMLBA - 1)
            if not addr and shmflg & SHM_REMAP:
                return -errno.EINVAL
        flags |= MAP_FIXED
    elif shmflg & SHM_REMAP:
        return -errno.EINVAL
    if shmflg & SHM_RDONLY:
        prot, acc_mode, f_flags = PROT_READ, S_IRUGO, O_RDONLY
    else:
        prot, acc_mode, f_flags = PROT_READ | PROT_WRITE, S_IRUGO | S_IWUGO, O_RDWR
    if shmflg & SHM_EXEC:
        prot |= PROT_EXEC
        acc_mode |= 0o111
    shp = ipc_obtain_object_check(shm_ids(task), shmid)
    if isinstance(shp, int):
        return shp
    if ipcperms(task, shp.perm, acc_mode):
        return -errno.EACCES
    file = ShmFile(task.kernel, shp, f_flags)
    size = shp.segsz
    mm = task.mm
    if addr and not shmflg & SHM_REMAP and (
            addr + size > U64_MASK or find_vma_intersection(mm, addr, addr + size)):
        ret = -errno.EINVAL
    else:
        ret = do_mmap(mm, file, addr, size, prot, flags, 0)
    if not is_err(ret):
        shp.lprid = task.tgid
    file.put()                          # do_shmat()'s hold; the VMA keeps its own
    return ret


def _is_shm(vma):
    return isinstance(vma.vm_file, ShmFile)


@syscall("shmdt", "p")
def sys_shmdt(task, shmaddr):
    """SYSCALL shmdt(): unmap the segment attached at shmaddr — the shm VMA
    whose start is shmaddr's offset into the segment, and then every VMA
    of the same attach within the segment's size (pieces a partial munmap
    or mprotect left).  -EINVAL if no segment starts there."""
    addr = shmaddr
    if addr & ~PAGE_MASK:
        return -errno.EINVAL
    mm = task.mm
    vma = find_vma(mm, addr)
    retval = -errno.EINVAL
    size = 0
    file = None
    while vma is not None:
        nxt = vma.vm_next
        if _is_shm(vma) and ((vma.vm_start - addr) & U64_MASK) >> PAGE_SHIFT == vma.vm_pgoff:
            file = vma.vm_file
            size = file.shp.segsz
            file.shp.lprid = task.tgid
            do_munmap(mm, vma.vm_start, vma.vm_end - vma.vm_start)
            retval = 0
            vma = nxt
            break
        vma = nxt
    size = (size + PAGE_SIZE - 1) & PAGE_MASK
    while vma is not None and vma.vm_end - addr <= size:
        nxt = vma.vm_next
        if _is_shm(vma) and (vma.vm_start - addr) >> PAGE_SHIFT == vma.vm_pgoff and \
                vma.vm_file is file:
            do_munmap(mm, vma.vm_start, vma.vm_end - vma.vm_start)
        vma = nxt
    return retval


def shm_rss(shp):
    """Pages of the segment in the page cache (shm_get_stat()'s rss)."""
    return len(shp.mapping.pages)


def fill_shmid64_ds(shp):
    perm = shp.perm
    return perm.pack() + SHMID64_DS_TAIL.pack(shp.segsz, shp.atime, shp.dtime, shp.ctime,
                                              shp.cprid, shp.lprid, shp.nattch, 0, 0)


@syscall("shmctl", "d shmcmd p")
def sys_shmctl(task, shmid, cmd, buf):
    """SYSCALL shmctl() (arm64: IPC_64 is not parsed, the layouts are the
    64-bit ones): IPC_INFO, SHM_INFO, IPC_STAT, SHM_STAT, IPC_SET, IPC_RMID,
    SHM_LOCK, SHM_UNLOCK; anything else -EINVAL."""
    shmid, cmd = s32(shmid), s32(cmd)
    ns = task.kernel.ipc_ns
    ids = ns.ids["shm"]
    if cmd < 0 or shmid < 0:
        return -errno.EINVAL
    if cmd == IPC_INFO:
        task.uaccess.copy_to_user(buf, SHMINFO64.pack(ns.shm_ctlmax, SHMMIN, ns.shm_ctlmni,
                                                      ns.shm_ctlmni, ns.shm_ctlall,
                                                      0, 0, 0, 0))
        return max(ids.max_id, 0)
    if cmd == SHM_INFO:
        rss = sum(shm_rss(shp) for shp in ids.entries.values())
        task.uaccess.copy_to_user(buf, SHM_INFO_STRUCT.pack(ids.in_use, ns.shm_tot, rss,
                                                            0, 0, 0))
        return max(ids.max_id, 0)
    if cmd in (IPC_STAT, SHM_STAT):
        shp = ipc_obtain_for_stat(task, ids, shmid, cmd == SHM_STAT)
        if isinstance(shp, int):
            return shp
        task.uaccess.copy_to_user(buf, fill_shmid64_ds(shp))
        return shp.perm.id if cmd == SHM_STAT else 0
    if cmd in (IPC_SET, IPC_RMID):
        data = task.uaccess.copy_from_user(buf, SHMID64_DS_SIZE) if cmd == IPC_SET else None
        shp = ipcctl_pre_down(task, ids, shmid)
        if isinstance(shp, int):
            return shp
        if cmd == IPC_SET:
            err = ipc_update_perm(shp.perm, data)
            if err:
                return err
            shp.ctime = get_seconds(task.kernel)
            return 0
        do_shm_rmid(ns, shp)
        return 0
    if cmd in (SHM_LOCK, SHM_UNLOCK):
        return shmctl_do_lock(task, ids, shmid, cmd)
    return -errno.EINVAL


def do_shm_rmid(ns, shp):
    """do_shm_rmid(): destroy now if nothing is attached; else mark the
    segment SHM_DEST and make its key private, so shmget() no longer finds
    it, and let the last detach destroy it."""
    if shp.nattch:
        shp.perm.mode |= SHM_DEST
        shp.perm.key = 0
    else:
        shm_destroy(ns, shp)


def shmctl_do_lock(task, ids, shmid, cmd):
    """shmctl_do_lock(): SHM_LOCK/SHM_UNLOCK set or clear SHM_LOCKED (its
    pages would never be swapped: there is no swap).  The owner or creator
    may; locking needs a nonzero RLIMIT_MEMLOCK big enough for the segment
    (user_shm_lock(): -ENOMEM), without CAP_IPC_LOCK."""
    shp = ipc_obtain_object_check(ids, shmid)
    if isinstance(shp, int):
        return shp
    limit = task.rlim[RLIMIT_MEMLOCK][0]
    if not capable(task, CAP_IPC_LOCK):
        if current_euid(task) not in (shp.perm.uid, shp.perm.cuid):
            return -errno.EPERM
        if cmd == SHM_LOCK and not limit:
            return -errno.EPERM
    if cmd == SHM_LOCK:
        if not shp.perm.mode & SHM_LOCKED:
            if shp.npages << PAGE_SHIFT > limit and not capable(task, CAP_IPC_LOCK):
                return -errno.ENOMEM
            shp.perm.mode |= SHM_LOCKED
        return 0
    shp.perm.mode &= ~SHM_LOCKED
    return 0


def sysvipc_shm_proc_show(kernel):
    """/proc/sysvipc/shm: one line per segment, as sysvipc_shm_proc_show()
    formats it on a 64-bit kernel."""
    lines = ["       key      shmid perms                  size  cpid  lpid nattch   uid   gid "
             " cuid  cgid      atime      dtime      ctime                   rss"
             "                  swap\n"]
    ids = kernel.ipc_ns.ids["shm"]
    for idx in sorted(ids.entries):
        shp = ids.entries[idx]
        p = shp.perm
        fields = (p.key, p.id, p.mode, shp.segsz, shp.cprid, shp.lprid, shp.nattch, p.uid,
                  p.gid, p.cuid, p.cgid, shp.atime, shp.dtime, shp.ctime,
                  shm_rss(shp) << PAGE_SHIFT, 0)
        lines.append("%10d %10d  %4o %21u %5u %5u  %5u %5u %5u %5u %5u %10d %10d %10d %21u %21u\n"
                     % fields)
    return "".join(lines)


SYSVIPC_PROC["shm"] = sysvipc_shm_proc_show
