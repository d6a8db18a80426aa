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

from emu.arch import PAGE_SHIFT
from emu.cpu import initial_context
from kernel.binfmt_elf import ExecError, load_elf_binary
from kernel.cred import capable, host_cred
from kernel.entry import Vectors
from kernel.exit import do_group_exit, exit_files, exit_fs
from kernel.fork import PAGES_PER_THREAD
from kernel.fs.file import FdTable, File, raise_host_nofile
from kernel.ipc.namespace import IpcNamespace
from kernel.ipc.sem import exit_sem
from kernel.mm.context import AsidAllocator
from kernel.mm.fault import VM_FAULT_BADACCESS, VM_FAULT_BADMAP
from kernel.mm.filemap import AddressSpace
from kernel.mm.memory import mm_populate, zap_vma_range
from kernel.mm.mm_types import MmStruct
from kernel.mm.mmap import DEFAULT_MAX_MAP_COUNT
from kernel.mm.page_alloc import OutOfMemory, PageAllocator
from kernel.mm.pgtable import PageTables
from kernel.mm.tlb import TlbFlusher
from kernel.coredump import CORE_PATTERN_DEFAULT
from kernel.random import EntropyPool
from kernel.sched.core import Deadlock, Scheduler
from kernel.sched.task import PID_MAX_DEFAULT, RESERVED_PIDS, FsStruct, Task
from kernel.signal import Death, kill_info, send_signal
from kernel.syscalls.table import SyscallTable, syscall_name
from kernel.trace import Tracer, describe_pte
from kernel.uaccess import UserMemory
from kernel.signal_codes import describe_si_code
from kernel.uapi import SI_KERNEL, SIGABRT, SIGINT, SIGKILL, SIGPIPE

# kernel/fork.c: MIN_THREADS, the floor of max_threads.
MIN_THREADS = 20
# The first pid after init's (kernel/pid.c hands out pids upward from 1).
INIT_PID = 1

# arch/arm64/include/asm/processor.h: the user address space, and the gap
# left below the stack for it to grow (mmap_base = STACK_TOP - 128 MiB).
MMAP_MIN_GAP = 128 << 20

class Kernel:
    """The mini-kernel of one board."""

    def __init__(self, board, sysroot=None, trace=None, max_map_count=DEFAULT_MAX_MAP_COUNT,
                 deterministic=False, root=False, lazy_syscalls=False):
        """lazy_syscalls: import each system call's module on its first
        call (the a53emu command's start-up, kernel/syscalls/table.py);
        otherwise all of them now."""
        self.board = board
        self.init_cred = host_cred(root)            # init's credentials (kernel/cred.py)
        self.attr_overlay = {}                      # owners/modes the host refused (fs/attr.py)
        self.memory = board.memory
        self.ncpus = len(board.cores)
        self.trace = trace if trace is not None else Tracer()
        self.sysroot = os.fsencode(os.path.abspath(sysroot)) if sysroot else None
        self.jail = self.jail_fd = None             # --jail: host path and O_PATH fd (set_jail)
        self.pages = PageAllocator(board.memory, board.flush_code_cache_all)
        self.pages.trace = self.trace
        self.pages.watched = self.trace.kmem
        self.pgtable = PageTables(board.memory, self.pages, board.mmu.va_bits, self.trace)
        self.tlb = TlbFlusher(board, self.trace)
        self.zero_page = self.pages.alloc_page()    # ZERO_PAGE(0): never written
        self.max_map_count = max_map_count
        self.task_size = 1 << board.mmu.va_bits
        self.page_cache = {}                        # (st_dev, st_ino) -> AddressSpace
        raise_host_nofile()                         # one host descriptor per guest open file
        self.syscalls = SyscallTable(self, lazy=lazy_syscalls)
        self.vectors = Vectors(self)
        board.install_vector(self.vectors)
        self.boot_time = time.monotonic()
        self.last_pid = INIT_PID - 1                # the last pid handed out
        self.total_forks = 0                        # tasks ever created (/proc/stat processes)
        self.tasks = {}                             # pid -> task (threads included)
        self.max_threads = max(MIN_THREADS, self.pages.nr_pages // PAGES_PER_THREAD)
        self.sched = Scheduler(self, deterministic)
        self.entropy = EntropyPool(deterministic)   # getrandom, AT_RANDOM (kernel/random.py)
        self.core_pattern = CORE_PATTERN_DEFAULT    # kernel.core_pattern (kernel/coredump.py)
        self.core_uses_pid = 0                      # kernel.core_uses_pid
        self.asids = AsidAllocator(board)
        self.futex_queues = {}                      # futex key -> [FutexQ] (kernel/futex.py)
        self.exit_hooks = [exit_sem]                # called with a task before its mm goes
        self.ipc_ns = IpcNamespace()                # SysV IPC, /dev/shm, memfds (kernel/ipc)
        self.warned_once = set()                    # pr_warn_once() lines already logged
        self.log = []                               # the kernel log (printk), oldest first
        self.internal_errors = []                   # (pid, comm, Death): every process's, not only init's
        self.init_task = None
        self.stats = None                           # a RunStats under --stats (kernel/stats.py)
        self._disasm = None                         # capstone, made when first needed

    # -- services the mm code calls back into -------------------------------------

    def current_rlimits(self, mm):
        return mm.owner.rlim

    def mm_capable(self, mm, cap):
        """capable(cap) for the task whose mm this is (the mm's owner)."""
        return capable(mm.owner, cap)

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

    def printk(self, text):
        """printk(): a line for the kernel log, shown in the syscall trace."""
        self.log.append(text)
        if self.trace.syscall:
            self.trace.emit("printk", text=text)

    def set_jail(self, path):
        """--jail DIR: every task's root is DIR (kernel/fs/jail.py); init
        starts in it.  Raises OSError when DIR is not a directory."""
        from kernel.fs.jail import open_root
        self.jail = os.fsencode(os.path.realpath(path))
        self.jail_fd = open_root(self.jail)

    def resolve_sysroot(self, path):
        """An absolute guest path as a host path (inside --sysroot if it exists there)."""
        if self.sysroot is not None and os.path.lexists(self.sysroot + path):
            return self.sysroot + path
        return path

    # -- processes ---------------------------------------------------------------

    def uid_of(self, task):
        """The task's real user id (what siginfo's si_uid carries)."""
        return task.cred.uid

    def alloc_pid(self):
        """alloc_pid() → alloc_pidmap(): the first free pid after the last
        one handed out, wrapping from pid_max to RESERVED_PIDS as Linux's
        cyclic allocator does; None when all are taken (fork: EAGAIN).
        Omits: a dead leader's pid stays taken while its process group or
        session lives on (struct pid's references)."""
        pid_max = getattr(self, "pid_max", PID_MAX_DEFAULT)     # the sysctl (kernel/sysctl.py)
        pid = self.last_pid
        for _ in range(pid_max):
            pid = pid + 1 if pid + 1 < pid_max else RESERVED_PIDS
            if pid not in self.tasks:
                self.last_pid = pid
                self.total_forks += 1
                return pid
        return None

    def free_pid(self, pid):
        self.tasks.pop(pid, None)

    def mm_alloc(self, owner):
        """mm_alloc(): an empty address space with its own pgd."""
        pgd = self.pgtable.pgd_alloc()
        mm = MmStruct(self, self.task_size, self.task_size - MMAP_MIN_GAP, pgd)
        mm.owner = owner
        mm.uaccess = UserMemory(self, mm)
        return mm

    def exec_init(self, path, argv, envp, cwd=None, stdio=(0, 1, 2)):
        """Create init (pid 1) running the program at host path `path`, its
        fds 0, 1 and 2 copies of the host's fds `stdio`.

        Raises ExecError (status 126/127 and a reason) if it cannot run.
        """
        pid = self.alloc_pid()
        argv = [os.fsencode(a) for a in argv]
        task = Task(self, pid, os.path.basename(os.fsdecode(argv[0] if argv else path)),
                    [os.fsdecode(a) for a in argv])
        try:
            task.mm = self.mm_alloc(task)   # bprm_mm_init(): ENOMEM before no return
        except OutOfMemory:
            raise ExecError(126, "out of memory while loading (board RAM %d MiB)"
                            % (self.memory.size >> 20), errno.ENOMEM) from None
        if self.jail_fd is not None:        # chroot(DIR) + chdir("/") before the exec
            task.fs = FsStruct("/", os.open(self.jail, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC),
                               root_fd=os.dup(self.jail_fd))
        else:
            task.fs = FsStruct(cwd or os.getcwd())
        task.files = FdTable()
        for fd, host_fd in zip((0, 1, 2), stdio):
            try:
                hfd = os.dup(host_fd)
            except OSError:
                continue            # closed on the host: closed in the guest too
            os.set_inheritable(hfd, False)
            access = fcntl.fcntl(hfd, fcntl.F_GETFL) & os.O_ACCMODE
            inherited = File(self, hfd, "/dev/fd/%d" % fd, access)
            inherited.inherited = True      # its host file status is the user's shell's too
            task.files.install(fd, inherited)
        try:
            load_elf_binary(self, task, os.fsencode(path), argv,
                            [os.fsencode(e) for e in envp])
        except OutOfMemory:         # before the point of no return: ENOMEM
            exit_files(task)
            exit_fs(task)
            raise ExecError(126, "out of memory while loading (board RAM %d MiB)"
                            % (self.memory.size >> 20), errno.ENOMEM)
        except ExecError as e:
            exit_files(task)        # a program that cannot run holds no host descriptor
            exit_fs(task)           # (the Python API's machine lives on after it)
            if e.oom:               # past it: the OOM killer's SIGKILL, as at run time
                e.reason = "killed by SIGKILL (%s): %s" % (
                    describe_si_code(SIGKILL, SI_KERNEL), self.oom_reason(task, task.mm))
            raise
        task.context = initial_context(task.entry, task.sp)
        self.tasks[pid] = task
        self.init_task = task
        from kernel.tty import tty_attach_console
        tty_attach_console(self, task)      # a53emu's terminal controls init's session
        self.sched.enqueue_new(task)
        return task

    def host_interrupt(self, sig=SIGINT):
        """The host's handler of a terminal's signal (SIGINT, SIGQUIT,
        SIGHUP; SIGTERM too): forward it into the board, where the
        scheduler sends it to the foreground process group."""
        # The wake-up fd stays readable until the scheduler has forwarded
        # the signal: a poll() that Python retries after this handler
        # (PEP 475) must still return at once.
        self.sched.host_signals.append(sig)

    def send_sigpipe(self, task):
        """A write to a pipe with no reader: SIGPIPE (the write says EPIPE)."""
        info = kill_info(task, SIGPIPE)     # send_sig(SIGPIPE, current, 0): SI_USER
        info.reason = "write to a pipe (or socket) with no reader"
        send_signal(task, info)

    def oom_kill(self, mm):
        """mm/oom_kill.c: out_of_memory() — the victim is the process whose
        address space needed the page (Linux picks the largest rss; this is
        the one asking, which on a board of a few processes usually is)."""
        task = mm.owner
        if task.exit_state is not None:
            return
        # oom_kill_process(): do_send_sig_info(SIGKILL, SEND_SIG_FORCED): the kernel's.
        do_group_exit(task, SIGKILL, Death(SIGKILL, SI_KERNEL, reason=self.oom_reason(task, mm)))

    def oom_reason(self, task, mm):
        """oom_kill_process()'s message: "Out of memory: Killed process N (comm)
        total-vm:...kB, anon-rss:...kB, file-rss:...kB", and the board's RAM."""
        return ("Out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, "
                "file-rss:%dkB; the board has %d MiB of RAM (--mem)" % (
                    task.tgid, task.comm, mm.total_vm << (PAGE_SHIFT - 10),
                    mm.rss_anon << (PAGE_SHIFT - 10), mm.rss_file << (PAGE_SHIFT - 10),
                    self.memory.size >> 20))

    def internal_error(self, task, what, sig=SIGABRT, code=0, title="internal error"):
        """Kill task's process for a kernel bug or an unemulatable state (exit
        134).  Also when it was already dying: a bug on the way out must not
        hide behind the signal that was killing it."""
        pc = task.core.elr_el1 if task.core is not None else None
        last = syscall_name(task.last_syscall) if task.last_syscall is not None else "none"
        death = Death(sig, code, None, pc, "%s (last syscall: %s)" % (what, last), internal=True,
                      title=title)
        task.death = death
        task.group_leader.death = death
        # An oops in any process is the board's failure: the CLI reports it
        # even when init, which it watches, lives on (issue 10 part 7).
        self.internal_errors.append((task.tgid, task.comm, death))
        if task.exit_state is None:
            do_group_exit(task, SIGABRT, death)

    def disassemble(self, task, pc):
        data = task.uaccess.peek(pc, 4)
        if data is None:
            return "at an unmapped pc"
        if self._disasm is None:        # imported only now: ~25 ms of start-up otherwise
            from capstone import CS_ARCH_ARM64, CS_MODE_ARM, Cs
            self._disasm = Cs(CS_ARCH_ARM64, CS_MODE_ARM)
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
        now = describe_pte(self.pgtable.read_pte(ptep)) if ptep else "?"
        cow, mm.last_cow = mm.last_cow, None
        if cow is not None and cow[0] == addr:
            return "copy-on-write: %s => %s" % (describe_pte(cow[1]), now)
        return now

    # -- running -------------------------------------------------------------------

    def run(self, init):
        """Run until init exits; returns its wait status.  What is still
        running then is killed (Linux would panic: init must not die).
        Every task asleep with nothing to wake it is a deadlock: reported
        in init's death, as an internal error."""
        try:
            self._run(init)
        finally:
            self.ipc_ns.shutdown()              # nothing of the board stays on the host
        return init.exit_code

    def _run(self, init):
        try:
            self.sched.run(init)
        except Deadlock:
            waits = "; ".join("%d (%s) in %s()" % (t.pid, t.comm, syscall_name(t.last_syscall)
                                                   if t.last_syscall is not None else "nothing")
                              for t in self.tasks.values() if t.exit_state is None)
            self.internal_error(init, "every task sleeps forever: " + waits, title="deadlock")
            for t in list(self.tasks.values()):
                if t.exit_state is None:
                    do_group_exit(t, SIGKILL)
        for t in list(self.tasks.values()):
            if t.exit_state is None:
                do_group_exit(t, SIGKILL)


def exit_status(task):
    """The shell's $? for a finished task: code, or 128 + fatal signal."""
    status = task.exit_code
    if status & 0x7F:
        return 128 + (status & 0x7F)
    return (status >> 8) & 0xFF

