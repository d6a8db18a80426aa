"""mm/shmem.c + drivers/char/mem.c: shared memory with no file behind it.

Shared anonymous memory, a MAP_SHARED mapping of /dev/zero, SysV shm
segments and memfds are all shmem in Linux: pages of an in-memory file's
page cache.  Here that file is an AddressSpace with no host descriptor
(kernel/mm/filemap.py): its pages start zeroed, are shared by every VMA
that maps them (fork, a second shmat), and are freed when the last user
of the mapping goes.
"""

import errno
import os
import stat

from kernel.ipc.uapi import F_SEAL_SEAL, F_SEAL_WRITE
from kernel.mm.mm import VM_SHARED

# include/uapi/linux/major.h: MEM_MAJOR; drivers/char/mem.c: devlist[] minor of "zero".
MEM_MAJOR = 1
ZERO_MINOR = 5


def is_dev_zero(file):
    """Is file an open /dev/zero (the char device 1:5, whatever its name)?"""
    if file.host_fd is None or not stat.S_ISCHR(file.mode):
        return False
    return os.fstat(file.host_fd).st_rdev == os.makedev(MEM_MAJOR, ZERO_MINOR)


def mmap_zero(vma):
    """drivers/char/mem.c: mmap_zero() — a shared mapping of /dev/zero is
    shmem (shmem_zero_setup(), which replaces vm_file with a shmem file of
    the VMA's size, "/dev/zero (deleted)"); a private one is anonymous
    memory.  Linux 4.14 keeps /dev/zero as the private VMA's vm_file with no
    vm_ops (vma_is_anonymous()); a53emu's fault path tells anonymous VMAs by
    vm_file None, so the private VMA drops the file (and /proc/PID/maps
    shows it unnamed)."""
    file = vma.vm_file
    if vma.vm_flags & VM_SHARED:
        vma.vm_mm.kernel.shmem_zero_setup(vma)
    else:
        vma.vm_file = None
    file.put()


def shmem_seals(file):
    """SHMEM_I(inode)->seals, or None when the file is not shmem."""
    mapping = file.mapping
    if mapping is None:
        return None
    if mapping.seals is None and file.host_fd is not None and \
            file.kernel.ipc_ns.owns(b"/proc/self/fd/%d" % file.host_fd):
        mapping.seals = F_SEAL_SEAL     # a /dev/shm file: shmem_get_inode()
    return mapping.seals


def mapping_map_writable(file):
    """mapping_map_writable(): a VM_SHARED mapping of a F_SEAL_WRITE file is
    refused with -EPERM (i_mmap_writable < 0); 0 otherwise."""
    seals = shmem_seals(file)
    return -errno.EPERM if seals and seals & F_SEAL_WRITE else 0
