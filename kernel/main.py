"""init/main.c: start_kernel() — the kernel object that owns a board.

A Kernel is Linux's global state gathered into one object (so two kernels
can run side by side): the frame allocator, the page-table writer, the TLB
flusher, the page cache, the syscall table, the tracer and the tasks.  It
installs its exception vector on every core and runs the init task.
"""

import errno
import fcntl
import os
import time
import traceback

from capstone import CS_ARCH_ARM64, CS_MODE_ARM, Cs

from emu.arch import PAGE_SHIFT, PTE_RDONLY
from emu.cpu import CoreStopped
from kernel.binfmt_elf import ExecError, load_elf_binary
from kernel.entry import Vectors
from kernel.fs.file import FdTable, File
from kernel.mm.fault import VM_FAULT_BADACCESS, VM_FAULT_BADMAP
from kernel.mm.filemap import AddressSpace
from kernel.mm.memory import mm_populate, zap_vma_range
from kernel.mm.mm import PTE_PRESENT_MASK, VM_SHARED
from kernel.mm.mm_types import MmStruct
from kernel.mm.mmap import DEFAULT_MAX_MAP_COUNT, exit_mmap
from kernel.mm.page_alloc import OutOfMemory, PageAllocator
from kernel.mm.pgtable import PageTables
from kernel.mm.tlb import TlbFlusher
from kernel.sched.task import TASK_DEAD, FsStruct, Task
from kernel.signal import SI_TKILL, Death, SigInfo, do_signal, send_signal
from kernel.syscalls.table import SyscallTable, syscall_name
from kernel.trace import Tracer, describe_pte
from kernel.uaccess import UserMemory
from kernel.uapi import NSIG, SIGABRT, SIGKILL, SIGPIPE

# arch/arm64/include/asm/processor.h: the user address space, and the gap
# left below the stack for it to grow (mmap_base = STACK_TOP - 128 MiB).
MMAP_MIN_GAP = 128 << 20

class Kernel:
    """The mini-kernel of one board."""

    def __init__(self, board, sysroot=None, trace=None, max_map_count=DEFAULT_MAX_MAP_COUNT):
        self.board = board
        self.memory = board.memory
        self.ncpus = len(board.cores)
        self.trace = trace if trace is not None else Tracer()
        self.sysroot = os.fsencode(os.path.abspath(sysroot)) if sysroot else None
        self.pages = PageAllocator(board.memory, board.flush_code_cache_all)
        self.pgtable = PageTables(board.memory, self.pages, board.mmu.va_bits, self.trace)
        self.tlb = TlbFlusher(board, self.trace)
        self.zero_page = self.pages.alloc_page()    # ZERO_PAGE(0): never written
        self.max_map_count = max_map_count
        self.task_size = 1 << board.mmu.va_bits
        self.page_cache = {}                        # (st_dev, st_ino) -> AddressSpace
        self.syscalls = SyscallTable(self)
        self.vectors = Vectors(self)
        board.install_vector(self.vectors)
        self.boot_time = time.monotonic()
        self.next_pid = 1
        self.tasks = {}
        self.exit_hooks = []                        # called with a task before its mm goes
        self._disasm = Cs(CS_ARCH_ARM64, CS_MODE_ARM)

    # -- services the mm code calls back into -------------------------------------

    def current_rlimits(self, mm):
        return mm.owner.rlim

    def zap_vma_range(self, vma, start, end):
        return zap_vma_range(vma, start, end)

    def mm_populate(self, mm, start, length):
        mm_populate(mm, start, length)

    def shmem_zero_setup(self, vma):
        """mm/shmem.c: shmem_zero_setup() — a shared anonymous mapping is a
        deleted /dev/zero-like file of its own, so it never merges."""
        file = File(self, None, "/dev/zero (deleted)", 2, body=b"")
        file.mapping = AddressSpace(self, None, "/dev/zero (deleted)",
                                    size=vma.vm_end - vma.vm_start)
        file.mapping.users = 1
        vma.vm_file = file

    def page_cache_for(self, file):
        """The AddressSpace of file's inode, shared by every open of it."""
        st = os.fstat(file.host_fd)
        key = (st.st_dev, st.st_ino)
        mapping = self.page_cache.get(key)
        if mapping is None:
            try:
                hfd = os.open("/proc/self/fd/%d" % file.host_fd, os.O_RDWR | os.O_CLOEXEC)
            except OSError:
                hfd = os.dup(file.host_fd)
            mapping = AddressSpace(self, hfd, file.path)
            mapping.key = key
            self.page_cache[key] = mapping
        mapping.users += 1
        return mapping

    def page_cache_release(self, file):
        mapping = file.mapping
        mapping.users -= 1
        if mapping.users == 0:
            mapping.writeback()
            mapping.truncate_pages()
            if mapping.host_fd is not None:
                os.close(mapping.host_fd)
                del self.page_cache[mapping.key]

    def mapping_vmas(self, mapping):
        """The VMAs of every address space that map `mapping` (Linux walks
        the i_mmap interval tree; we look at each task's VMAs)."""
        for task in self.tasks.values():
            if task.mm is None or task.mm.pgd == 0:
                continue
            for vma in task.mm.vmas():
                if vma.vm_file is not None and vma.vm_file.mapping is mapping:
                    yield vma

    def page_mkclean(self, mapping, pgoffs):
        """mm/rmap.c: page_mkclean() — write-protect every pte mapping these
        pages of mapping shared, so the next write marks them dirty again."""
        wanted = set(pgoffs)
        pt = self.pgtable
        for vma in self.mapping_vmas(mapping):
            if not vma.vm_flags & VM_SHARED:
                continue
            mm = vma.vm_mm
            for pgoff in wanted:
                addr = vma.vm_start + ((pgoff - vma.vm_pgoff) << PAGE_SHIFT)
                if not vma.vm_start <= addr < vma.vm_end:
                    continue
                ptep = pt.pte_offset(mm, addr)
                if ptep is not None:
                    pte = pt.read_pte(ptep)
                    if pte & PTE_PRESENT_MASK and not pte & PTE_RDONLY:
                        pt.set_pte_at(mm, addr, ptep, pte | PTE_RDONLY)
                        self.tlb.flush_tlb_page(mm, addr)

    def unmap_mapping_range(self, mapping, first_pgoff):
        """mm/memory.c: unmap_mapping_range(even_cows=1) — zap every pte,
        shared or privately copied, of pages from first_pgoff on."""
        for vma in list(self.mapping_vmas(mapping)):
            start = max(vma.vm_start, vma.vm_start + ((first_pgoff - vma.vm_pgoff) << PAGE_SHIFT))
            if start < vma.vm_end:
                zap_vma_range(vma, start, vma.vm_end)
                self.tlb.flush_tlb_range(vma.vm_mm, start, vma.vm_end)

    def resolve_sysroot(self, path):
        """An absolute guest path as a host path (inside --sysroot if it exists there)."""
        if self.sysroot is not None and os.path.lexists(self.sysroot + path):
            return self.sysroot + path
        return path

    # -- processes ---------------------------------------------------------------

    def create_mm(self, task):
        pgd = self.pgtable.pgd_alloc()
        mm = MmStruct(self, self.task_size, self.task_size - MMAP_MIN_GAP, pgd)
        mm.owner = task
        mm.asid = task.pid & 0xFFFF
        return mm

    def exec_init(self, path, argv, envp, cwd=None):
        """Create the first task running the program at host path `path`.

        Raises ExecError (status 126/127 and a reason) if it cannot run.
        """
        pid = self.next_pid
        self.next_pid += 1
        argv = [os.fsencode(a) for a in argv]
        task = Task(self, pid, os.path.basename(os.fsdecode(argv[0] if argv else path)),
                    [os.fsdecode(a) for a in argv])
        task.mm = self.create_mm(task)
        task.uaccess = UserMemory(self, task.mm)
        task.fs = FsStruct(cwd or os.getcwd())
        task.files = FdTable()
        for fd in (0, 1, 2):
            try:
                hfd = os.dup(fd)
            except OSError:
                continue            # closed on the host: closed in the guest too
            os.set_inheritable(hfd, False)
            access = fcntl.fcntl(hfd, fcntl.F_GETFL) & os.O_ACCMODE
            task.files.install(fd, File(self, hfd, "/dev/fd/%d" % fd, access))
        try:
            load_elf_binary(self, task, os.fsencode(path), argv,
                            [os.fsencode(e) for e in envp])
        except OutOfMemory:
            raise ExecError(126, "out of memory while loading (board RAM %d MiB)"
                            % (self.memory.size >> 20))
        self.tasks[pid] = task
        return task

    def do_exit(self, task, status, death=None):
        """kernel/exit.c: do_exit() — release the mm and files, stop the core."""
        if task.state == TASK_DEAD:
            return
        task.state = TASK_DEAD
        task.exit_code = status
        task.death = death
        if self.trace.syscall:
            self.trace.emit("exit", task=task, status=status)
        for hook in self.exit_hooks:
            hook(task)
        if task.core is not None:
            task.core.stop()
            task.core.ttbr0 = 0         # its tables are about to be freed
        task.files.close_all()
        exit_mmap(task.mm)

    def send_signal(self, task, sig):
        """kill()/tgkill() to ourselves: 0, or -EINVAL for a bad number."""
        if sig == 0:
            return 0
        if not 1 <= sig <= NSIG:
            return -errno.EINVAL
        send_signal(task, SigInfo(sig, SI_TKILL, pid=task.tgid, uid=os.getuid(),
                                  pc=None))
        return 0

    def send_sigpipe(self, task):
        """A write to a pipe with no reader: SIGPIPE (the write says EPIPE)."""
        self.send_signal(task, SIGPIPE)

    def oom_kill(self, mm):
        """mm/oom_kill.c: out_of_memory() — the only task is the victim."""
        task = mm.owner
        self.do_exit(task, SIGKILL, Death(
            SIGKILL, reason="Out of memory: Killed process %d (%s) total-vm:%dkB, "
            "anon-rss:%dkB, file-rss:%dkB; the board has %d MiB of RAM (--mem)" % (
                task.pid, task.comm, mm.total_vm << (PAGE_SHIFT - 10),
                mm.rss_anon << (PAGE_SHIFT - 10), mm.rss_file << (PAGE_SHIFT - 10),
                self.memory.size >> 20)))

    def internal_error(self, task, what, sig=SIGABRT, code=0):
        """Kill task for a kernel bug or an unemulatable state (exit 134).

        Also when the task was already dying: a bug on the way out must not
        hide behind the signal that was killing it."""
        pc = task.core.elr_el1 if task.core is not None else None
        last = syscall_name(task.last_syscall) if task.last_syscall is not None else "none"
        death = Death(sig, code, None, pc, "%s (last syscall: %s)" % (what, last), internal=True)
        if task.state == TASK_DEAD:
            task.death = death
        else:
            self.do_exit(task, SIGABRT, death)

    def disassemble(self, task, pc):
        data = task.uaccess.peek(pc, 4)
        if data is None:
            return "at an unmapped pc"
        for insn in self._disasm.disasm(data, pc):
            return "%08x (%s %s)" % (int.from_bytes(data, "little"), insn.mnemonic, insn.op_str)
        return "%08x" % int.from_bytes(data, "little")

    def describe_fault_result(self, mm, addr, fault):
        """For the fault trace: the pte now mapping addr, or why there is none."""
        if fault == VM_FAULT_BADMAP:
            return "SIGSEGV (SEGV_MAPERR)"
        if fault == VM_FAULT_BADACCESS:
            return "SIGSEGV (SEGV_ACCERR)"
        if fault:
            return "fault %#x" % fault
        ptep = self.pgtable.pte_offset(mm, addr)
        return describe_pte(self.pgtable.read_pte(ptep)) if ptep else "?"

    # -- running -------------------------------------------------------------------

    def run(self, task):
        """Run task on core 0 until it exits; returns its wait status.

        The second core stays idle (WFI) until there are threads to give it.
        """
        core = self.board.cores[0]
        core.current = task
        task.core = core
        core.ttbr0 = (task.mm.asid << 48) | task.mm.pgd
        core.flush_tlb()
        task.mm.cpu_vm_mask.add(core.index)
        core.sp = task.sp
        pc = task.entry
        while task.state != TASK_DEAD:
            try:
                core.run(pc)
                if task.pending:
                    do_signal(task, core)       # do_notify_resume()
            except CoreStopped as e:
                self.internal_error(task, "the CPU emulator stopped: %s" % e)
                break
            except Exception as e:      # a kernel bug: report it with the guest's state
                self.internal_error(task, "%s: %s" % (type(e).__name__, e))
                task.death.traceback = traceback.format_exc()
                break
            pc = core.pc
        core.current = None
        return task.exit_code


def exit_status(task):
    """The shell's $? for a finished task: code, or 128 + fatal signal."""
    status = task.exit_code
    if status & 0x7F:
        return 128 + (status & 0x7F)
    return (status >> 8) & 0xFF

