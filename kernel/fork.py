"""kernel/fork.c: clone() — a new thread, or a new process with a copy of
the caller's address space.

copy_process() builds the child task, sharing or copying each part the
clone flags name (CLONE_VM: the mm; CLONE_FILES: the descriptor table;
CLONE_FS: cwd and umask; CLONE_SIGHAND: the actions; CLONE_THREAD: the
thread group).  Without CLONE_VM, dup_mm() → dup_mmap() copies every VMA
and copy_page_range() copies the page tables: a private writable page is
write-protected in *both* tables and its frame gains a reference, so the
first write on either side takes a permission fault that do_wp_page()
resolves by copying (or by reusing the frame when it is mapped only once).
Shared mappings stay shared.  arm64 has no fork/vfork system calls: libc's
fork() is clone(SIGCHLD) and vfork() clone(CLONE_VM|CLONE_VFORK|SIGCHLD).
"""

import errno
import struct

from emu.arch import DESC_ADDR_MASK, PAGE_SHIFT, PTE_AF, PTE_RDONLY
from emu.cpu import CTX_SP, CTX_TPIDR
from kernel.cred import (
    CAP_SYS_ADMIN, CAP_SYS_RESOURCE, ROOT_UID, capable, copy_creds, user_processes,
)
from kernel.mm.mm import (
    PTE_DIRTY, PTE_SPECIAL, VM_ACCOUNT, VM_DONTCOPY, VM_LOCKED, VM_SHARED,
    VM_WIPEONFORK, VM_WRITE,
)
from kernel.mm.mmap import vm_stat_account
from kernel.mm.overcommit import vm_enough_memory
from kernel.mm.page_alloc import PG_anon, OutOfMemory
from kernel.mm.rmap import anon_vma_fork
from kernel.sched.syscalls import check_dl_fork, sched_fork
from kernel.sched.task import SigHand, SignalStruct, Task
from kernel.sched.wait import WouldBlock, ERESTARTNOINTR
from kernel.syscalls.table import syscall
from kernel.uapi import (
    CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_FILES, CLONE_FS, CLONE_NEW_MASK,
    CLONE_NEWUSER, CLONE_NEWNS, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_SETTLS,
    CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK, CLONE_VM, CSIGNAL, NSIG, RLIMIT_NPROC,
)

_S32 = struct.Struct("<i")
# kernel/fork.c: set_max_threads() — RAM / (8 * THREAD_SIZE): 16 KiB kernel
# stacks on arm64, so one task per 32 pages of the board's RAM.
PAGES_PER_THREAD = 32


# -- the address space -----------------------------------------------------------

def copy_page_range(dst, src, vma, new):
    """copy_page_range() → copy_one_pte() for every present pte of vma.

    A private writable page becomes read-only in both tables (the COW
    break comes on the first write); the child's copy is old (AF clear,
    as pte_mkold) and, for shared mappings, clean.  Each normal frame
    gains a reference and a map count; the zero page is shared as is."""
    kernel = src.kernel
    pt = kernel.pgtable
    pages = kernel.pages
    cow = vma.vm_flags & (VM_SHARED | VM_WRITE) == VM_WRITE
    for addr, sptep, pte in pt.present_ptes(src, vma.vm_start, vma.vm_end):
        if cow and not pte & PTE_RDONLY:
            pt.set_pte_at(src, addr, sptep, pte | PTE_RDONLY)
            pte |= PTE_RDONLY
        if vma.vm_flags & VM_SHARED:
            pte = (pte & ~PTE_DIRTY)
        child = pte & ~PTE_AF
        if not pte & PTE_SPECIAL:
            frame = pte & DESC_ADDR_MASK
            pages.get_page(frame)
            if pages.flags[pages.index(frame)] & PG_anon:
                dst.rss_anon += 1
            elif vma.vm_file is not None and vma.vm_file.mapping.host_fd is None:
                dst.rss_shmem += 1
            else:
                dst.rss_file += 1
        pt.set_pte_at(dst, addr, pt.pte_offset_alloc(dst, addr), child)


def dup_mmap(mm, oldmm):
    """dup_mmap(): copy oldmm's VMAs into mm (linked in the same order) and
    their page tables.  VM_DONTCOPY VMAs are left out; VM_WIPEONFORK ones
    come empty; mlock does not survive fork."""
    from kernel.mm.mmap import __vma_link_list, __vma_link_rb, find_vma_links
    for name in ("start_code", "end_code", "start_data", "end_data", "start_brk", "brk",
                 "start_stack", "arg_start", "arg_end", "env_start", "env_end",
                 "mmap_base", "load_bias", "vdso_base", "exe_file", "def_flags", "coredump_filter",
                 "total_vm", "data_vm", "exec_vm", "stack_vm", "hiwater_vm", "pinned_vm"):
        setattr(mm, name, getattr(oldmm, name))
    mm.saved_auxv = list(oldmm.saved_auxv)
    mm.def_flags &= ~VM_LOCKED
    # Each VM_ACCOUNT copy is charged (security_vm_enough_memory_mm per
    # VMA; the charges only add up, so one check of their sum is the same).
    charge = sum((v.vm_end - v.vm_start) >> PAGE_SHIFT for v in oldmm.vmas()
                 if v.vm_flags & VM_ACCOUNT and not v.vm_flags & VM_DONTCOPY)
    if charge and vm_enough_memory(oldmm.kernel, charge, oldmm):
        raise OutOfMemory()
    prev = None
    for mpnt in list(oldmm.vmas()):
        if mpnt.vm_flags & VM_DONTCOPY:
            vm_stat_account(mm, mpnt.vm_flags, -((mpnt.vm_end - mpnt.vm_start) >> 12))
            continue
        tmp = mpnt.copy()
        tmp.vm_mm = mm
        tmp.vm_flags &= ~VM_LOCKED
        tmp.vm_next = tmp.vm_prev = None
        if mpnt.vm_flags & VM_WIPEONFORK:
            tmp.anon_vma = None         # as if freshly mapped: no chain either
        else:
            anon_vma_fork(tmp, mpnt)
        if tmp.vm_file is not None:
            tmp.vm_file.get()
        links = find_vma_links(mm, tmp.vm_start, tmp.vm_end)
        __vma_link_list(mm, tmp, prev)
        __vma_link_rb(mm, tmp, links[1], links[2])
        mm.map_count += 1
        prev = tmp
        # Linux skips what a fault would fill the same way: shared and
        # file mappings that never had anonymous pages.
        if not mpnt.vm_flags & VM_WIPEONFORK and mpnt.anon_vma is not None:
            copy_page_range(mm, oldmm, mpnt, tmp)
    kernel = oldmm.kernel
    kernel.tlb.flush_tlb_mm(oldmm)      # its writable ptes just became read-only
    mm.hiwater_rss = mm.get_mm_rss()


def dup_mm(task, oldmm):
    """dup_mm(): a new mm_struct holding a copy of oldmm.  Raises OutOfMemory."""
    kernel = oldmm.kernel
    mm = kernel.mm_alloc(task)
    try:
        dup_mmap(mm, oldmm)
    except OutOfMemory:
        from kernel.exit import mmput
        mmput(mm)
        raise
    return mm


# -- the task ------------------------------------------------------------------

def _check_flags(task, flags):
    """copy_process()'s refusals of impossible flag combinations."""
    if flags & (CLONE_NEWNS | CLONE_FS) == CLONE_NEWNS | CLONE_FS:
        return -errno.EINVAL
    if flags & (CLONE_NEWUSER | CLONE_FS) == CLONE_NEWUSER | CLONE_FS:
        return -errno.EINVAL
    if flags & CLONE_THREAD and not flags & CLONE_SIGHAND:
        return -errno.EINVAL
    if flags & CLONE_SIGHAND and not flags & CLONE_VM:
        return -errno.EINVAL
    if flags & CLONE_PARENT and task.tgid == 1:
        return -errno.EINVAL        # init is SIGNAL_UNKILLABLE
    if flags & CLONE_NEW_MASK:
        return -errno.EPERM         # namespaces need CAP_SYS_ADMIN the board does not model
    if flags & CSIGNAL >= NSIG + 1:
        return -errno.EINVAL
    return 0


def check_nproc(task):
    """copy_process()'s RLIMIT_NPROC check: the real user's tasks (threads
    included) may not reach the limit unless the user is root or the caller
    has CAP_SYS_RESOURCE or CAP_SYS_ADMIN.  Passing it clears
    PF_NPROC_EXCEEDED."""
    if user_processes(task.kernel, task.cred.uid) >= task.rlim[RLIMIT_NPROC][0]:
        if task.cred.uid != ROOT_UID and not capable(task, CAP_SYS_RESOURCE) \
                and not capable(task, CAP_SYS_ADMIN):
            return -errno.EAGAIN
    task.nproc_exceeded = False
    return 0


def copy_process(task, core, flags, newsp, tls):
    """copy_process(): the child task, registered and ready to run (not yet
    queued).  Returns the task or a negative errno."""
    kernel = task.kernel
    err = _check_flags(task, flags)
    if err:
        return err
    live = sum(1 for t in kernel.tasks.values() if t.exit_state is None)
    if live >= kernel.max_threads:
        return -errno.EAGAIN
    err = check_nproc(task) or check_dl_fork(task)
    if err:
        return err
    pid = kernel.alloc_pid()
    if pid is None:
        return -errno.EAGAIN
    child = Task(kernel, pid, task.comm, task.argv)
    child.blocked = task.blocked
    child.sas = task.sas if flags & CLONE_VM and not flags & CLONE_VFORK else task.sas
    child.cpus_allowed = task.cpus_allowed
    copy_creds(child, task)
    sched_fork(child, task)
    if flags & CLONE_VM:
        child.mm = task.mm
        task.mm.mm_users += 1
    else:
        try:
            child.mm = dup_mm(child, task.mm)
        except OutOfMemory:
            kernel.free_pid(pid)
            return -errno.ENOMEM
        child.sas = task.sas
    if flags & CLONE_FILES:
        child.files = task.files
        task.files.users += 1
    else:
        child.files = task.files.copy()
    if flags & CLONE_FS:
        child.fs = task.fs
        task.fs.users += 1
    else:
        child.fs = task.fs.copy()
    child.sighand = task.sighand if flags & CLONE_SIGHAND else SigHand(task.sighand.action)
    if flags & CLONE_THREAD:
        child.signal = task.signal
        child.signal.live += 1
        child.tgid = task.tgid
        child.group_leader = task.group_leader
        child.thread_group = task.thread_group
        child.thread_group.append(child)
        child.exit_signal = -1          # threads are not waited for
    else:
        sig = task.signal
        child.signal = SignalStruct([list(r) for r in sig.rlim], sig.pgrp, sig.session)
        child.signal.tty = sig.tty      # copy_signal(): the controlling terminal (kernel/tty.py)
        child.signal.dumpable = sig.dumpable    # dup_mm() copies mm->flags' MMF_DUMPABLE
        child.thread_group = [child]
        child.exit_signal = flags & CSIGNAL
        parent = task.group_leader
        if flags & CLONE_PARENT:
            parent = parent.real_parent
            child.exit_signal = task.group_leader.exit_signal
        child.real_parent = parent
        if parent is not None:
            parent.children.append(child)
    # The register file: the parent's at the SVC, returning 0 in the child.
    gp, v = core.save_context()
    gp[0] = 0
    if newsp:
        gp[CTX_SP] = newsp
    if flags & CLONE_SETTLS:
        gp[CTX_TPIDR] = tls
    child.context = (gp, v)
    if flags & CLONE_CHILD_CLEARTID:
        child.clear_child_tid = 0   # set by the caller once the pointer is known
    kernel.tasks[pid] = child
    trace = kernel.trace
    if trace.syscall:
        trace.emit("fork", task=task, child=child, flags=flags)
    return child


@syscall("clone", "cloneflags p p p p")
def sys_clone(task, flags, newsp, parent_tidptr, tls, child_tidptr):
    """_do_fork(): arm64 passes (flags, newsp, parent_tid, tls, child_tid).

    CLONE_PARENT_SETTID stores the child's tid in the parent's memory,
    CLONE_CHILD_SETTID in the child's (its own copy, after fork), and
    CLONE_CHILD_CLEARTID records where to zero it at exit.  CLONE_VFORK
    makes the parent sleep until the child execs or exits."""
    state = task.restart
    if state is not None and "vfork_child" in state:
        # The vfork parent is woken: the child has exec'd or exited.
        if task.vfork_child is not None:
            raise WouldBlock(restart=ERESTARTNOINTR, interruptible=False)
        return state["vfork_child"]
    flags &= 0xFFFFFFFFFFFFFFFF
    child = copy_process(task, task.core, flags, newsp, tls)
    if isinstance(child, int):
        return child
    pid = child.pid
    try:
        if flags & CLONE_PARENT_SETTID:
            task.uaccess.copy_to_user(parent_tidptr, _S32.pack(pid))
        if flags & CLONE_CHILD_SETTID:
            child.uaccess.copy_to_user(child_tidptr, _S32.pack(pid))
    except Exception:       # Linux ignores a bad tid pointer here (put_user's result)
        pass
    if flags & CLONE_CHILD_SETTID:
        child.set_child_tid = child_tidptr
    if flags & CLONE_CHILD_CLEARTID:
        child.clear_child_tid = child_tidptr
    kernel = task.kernel
    kernel.sched.enqueue_new(child)
    if flags & CLONE_VFORK:
        child.vfork_done = task
        task.vfork_child = child
        task.restart = {"vfork_child": pid}
        raise WouldBlock(restart=ERESTARTNOINTR, interruptible=False)
    return pid

