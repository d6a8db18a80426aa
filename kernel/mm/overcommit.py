"""mm/util.c: __vm_enough_memory() and the overcommit policy — may a mapping
of `pages` more pages be committed?

vm.overcommit_memory (writable by root in /proc/sys/vm, as in 4.14):

  0  OVERCOMMIT_GUESS (the default): a single request larger than what could
     be made free fails — the free frames plus the page cache (the board
     has no swap and no slab to reclaim; 4.14 subtracts NR_SHMEM, which the
     board keeps in the same cache).  Omits totalreserve_pages and the
     admin reserve (a few MiB).  (5.x compares with total RAM + swap.)
  1  OVERCOMMIT_ALWAYS: never refuses.
  2  OVERCOMMIT_NEVER: the committed total after the request must stay
     below CommitLimit (overcommit_kbytes, or RAM * overcommit_ratio / 100;
     no swap), less the admin reserve for a caller without CAP_SYS_ADMIN
     and a user reserve of total_vm / 32.

What is committed (vm_committed_as, Committed_AS in /proc/meminfo) is the
size of every VM_ACCOUNT mapping of every live address space: the
private writable mappings (mmap_region's accountable_mapping, brk, the
stack, a private mapping mprotect made writable, mremap's growth, fork's
copies), each charged when it is made or grows and uncharged when it is
unmapped (vm_unacct_memory in remove_vma_list/exit_mmap).  Linux keeps a
percpu counter in step with exactly those charges; the board sums the
VMAs instead when it needs the total, which cannot drift.  Not counted:
shmem objects (SysV shm segments, shared anonymous memory), which 4.14
charges by size at setup (shmem_acct_size) unless VM_NORESERVE.
"""

import errno

from emu.arch import PAGE_SHIFT

OVERCOMMIT_GUESS, OVERCOMMIT_ALWAYS, OVERCOMMIT_NEVER = 0, 1, 2
OVERCOMMIT_RATIO = 50           # sysctl_overcommit_ratio's default
# mm/util.c init_admin_reserve()/init_user_reserve(): min(free / 32, 8 MiB / 128 MiB).
ADMIN_RESERVE_MAX_KB = 1 << 13
USER_RESERVE_MAX_KB = 1 << 17
RESERVE_FRACTION = 32


class OvercommitPolicy:
    """The vm.overcommit_* sysctls of one kernel (mm/util.c's globals)."""

    def __init__(self, nr_pages):
        self.memory = OVERCOMMIT_GUESS
        self.ratio = OVERCOMMIT_RATIO
        self.kbytes = 0
        free_kb = nr_pages << (PAGE_SHIFT - 10)     # at boot nearly all of RAM is free
        self.admin_reserve_kbytes = min(free_kb // RESERVE_FRACTION, ADMIN_RESERVE_MAX_KB)
        self.user_reserve_kbytes = min(free_kb // RESERVE_FRACTION, USER_RESERVE_MAX_KB)


def policy(kernel):
    """The kernel's OvercommitPolicy, made on first use."""
    p = getattr(kernel, "overcommit", None)
    if p is None:
        p = kernel.overcommit = OvercommitPolicy(kernel.pages.nr_pages)
    return p


def _live_mms(kernel):
    seen = {}
    for t in kernel.tasks.values():
        if t.mm is not None and t.exit_state is None:
            seen[id(t.mm)] = t.mm
    return seen.values()


def vm_committed_pages(kernel):
    """vm_committed_as: the pages of every VM_ACCOUNT mapping of every live mm."""
    from kernel.mm.mm import VM_ACCOUNT
    return sum((v.vm_end - v.vm_start) >> PAGE_SHIFT for mm in _live_mms(kernel)
               for v in mm.vmas() if v.vm_flags & VM_ACCOUNT)


def vm_commit_limit(kernel):
    """vm_commit_limit(): overcommit_kbytes, else RAM * overcommit_ratio / 100
    (no huge pages, no swap)."""
    p = policy(kernel)
    if p.kbytes:
        return p.kbytes >> (PAGE_SHIFT - 10)
    return kernel.pages.nr_pages * p.ratio // 100


def _cap_sys_admin(mm):
    """cap_vm_enough_memory(): CAP_SYS_ADMIN of the task the charge is for."""
    from kernel.cred import CAP_SYS_ADMIN, capable
    task = getattr(mm, "owner", None) if mm is not None else None
    return task is not None and capable(task, CAP_SYS_ADMIN)


def vm_enough_memory(kernel, pages, mm=None):
    """security_vm_enough_memory_mm(mm, pages) → __vm_enough_memory(): 0,
    or -ENOMEM when the policy refuses to commit `pages` more pages (which
    are not yet part of any VM_ACCOUNT mapping)."""
    p = policy(kernel)
    if p.memory == OVERCOMMIT_ALWAYS:
        return 0
    if p.memory == OVERCOMMIT_GUESS:
        free = kernel.pages.nr_free
        if free > pages:
            # The page cache only adds to free: the answer is already 0,
            # without a sum over every cached file (each mmap's charge).
            return 0
        free += sum(len(m.pages) for m in kernel.page_cache.values())
        return 0 if free > pages else -errno.ENOMEM
    allowed = vm_commit_limit(kernel)
    if not _cap_sys_admin(mm):
        allowed -= p.admin_reserve_kbytes >> (PAGE_SHIFT - 10)
    if mm is not None:
        allowed -= min(mm.total_vm // RESERVE_FRACTION, p.user_reserve_kbytes >> (PAGE_SHIFT - 10))
    if vm_committed_pages(kernel) + pages < allowed:
        return 0
    return -errno.ENOMEM
