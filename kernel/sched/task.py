"""include/linux/sched.h: struct task_struct, the kernel's view of a thread,
and the structures threads share (include/linux/sched/signal.h,
include/linux/fs_struct.h).

A process is a thread group: every thread has its own task (pid, saved
registers, signal mask, pending signals), while the group shares what
clone(CLONE_VM|CLONE_FILES|CLONE_FS|CLONE_SIGHAND|CLONE_THREAD) shares:

    task_struct ──mm──────► mm_struct       (CLONE_VM)
                ──files───► FdTable         (CLONE_FILES)
                ──fs──────► FsStruct        (CLONE_FS: cwd, umask)
                ──sighand─► SigHand         (CLONE_SIGHAND: the actions)
                ──signal──► SignalStruct    (CLONE_THREAD: shared pending
                                             signals, rlimits, pgrp/session,
                                             group exit, children's rusage)
"""

import os

from kernel.cputime import PrevCputime
from kernel.cred import host_cred
from kernel.sched.wait import WaitQueue
from kernel.uapi import (
    RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_CORE, RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE, RLIMIT_NICE,
    RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_RTPRIO, RLIMIT_SIGPENDING, RLIMIT_STACK,
)

# Task states (include/linux/sched.h), as /proc/PID/status letters.
DEFAULT_TIMER_SLACK_NS = 50000  # init_task's timer_slack_ns (include/linux/init_task.h)
PID_MAX_DEFAULT = 0x8000        # include/linux/threads.h (CONFIG_BASE_SMALL=0)
RESERVED_PIDS = 300             # kernel/pid.c: where the pid allocator wraps to

TASK_RUNNING = "R"
TASK_INTERRUPTIBLE = "S"        # asleep in a system call; a signal wakes it
TASK_STOPPED = "T"              # SIGSTOP and friends
EXIT_ZOMBIE = "Z"               # exited, waiting for its parent's wait()
TASK_DEAD = "X"                 # reaped (or a thread, which nobody waits for)

STATE_NAMES = {TASK_RUNNING: "R (running)", TASK_INTERRUPTIBLE: "S (sleeping)",
               TASK_STOPPED: "T (stopped)", EXIT_ZOMBIE: "Z (zombie)", TASK_DEAD: "X (dead)"}

# The board's RLIMIT_NPROC default: init_task's is max_threads / 2, which
# Linux derives from RAM; ours is sized for a board, not a server.
NPROC_DEFAULT = 4096


# include/uapi/linux/resource.h (4.14): MLOCK_LIMIT 64 KiB (8 MiB since
# v5.16, commit 9dcc38e2813e); include/linux/mqueue.h: MQ_BYTES_MAX.
MLOCK_LIMIT = 64 << 10
MQ_BYTES_MAX = 819200


def default_rlimits():
    """init_task's limits (include/asm-generic/resource.h), stack 8 MiB;
    SIGPENDING is max_threads/2 like NPROC (fork_init())."""
    rlim = [[RLIM_INFINITY, RLIM_INFINITY] for _ in range(RLIM_NLIMITS)]
    rlim[RLIMIT_STACK] = [8 << 20, RLIM_INFINITY]
    rlim[RLIMIT_CORE] = [0, RLIM_INFINITY]
    rlim[RLIMIT_NOFILE] = [1024, 4096]
    rlim[RLIMIT_NPROC] = [NPROC_DEFAULT, NPROC_DEFAULT]
    rlim[RLIMIT_MEMLOCK] = [MLOCK_LIMIT, MLOCK_LIMIT]
    rlim[RLIMIT_SIGPENDING] = [NPROC_DEFAULT, NPROC_DEFAULT]
    rlim[RLIMIT_MSGQUEUE] = [MQ_BYTES_MAX, MQ_BYTES_MAX]
    rlim[RLIMIT_NICE] = [0, 0]
    rlim[RLIMIT_RTPRIO] = [0, 0]
    return rlim


class FsStruct:
    """struct fs_struct: the working directory (a host O_PATH fd), umask,
    and the root (root_fd: a host O_PATH fd of the directory chroot() or
    --jail made the task's "/", kernel/fs/jail.py; None: the board's
    root, the host's tree seen through --sysroot)."""

    def __init__(self, cwd, cwd_fd=None, umask=0o022, root_fd=None):
        self.cwd = cwd
        self.cwd_fd = os.open(cwd, os.O_RDONLY | os.O_DIRECTORY) if cwd_fd is None else cwd_fd
        self.umask = umask
        self.root_fd = root_fd
        self.users = 1

    def chdir(self, fd, path):
        os.close(self.cwd_fd)
        self.cwd_fd = fd
        self.cwd = path

    def set_root(self, fd):
        """set_fs_root(): fd (owned from now on) is the new root."""
        if self.root_fd is not None:
            os.close(self.root_fd)
        self.root_fd = fd

    def copy(self):
        """copy_fs_struct(): a private copy for a child without CLONE_FS."""
        return FsStruct(self.cwd, os.dup(self.cwd_fd), self.umask,
                        None if self.root_fd is None else os.dup(self.root_fd))

    def put(self):
        """free_fs_struct() when the last user goes."""
        self.users -= 1
        if self.users == 0 and self.cwd_fd is not None:
            os.close(self.cwd_fd)
            self.cwd_fd = None
            if self.root_fd is not None:
                os.close(self.root_fd)
                self.root_fd = None


class SigHand:
    """struct sighand_struct: the signal actions, shared by CLONE_SIGHAND.

    `action[sig]` is (handler, flags, restorer, mask); absent means SIG_DFL.
    """

    def __init__(self, action=None):
        self.action = dict(action or {})

    def get(self, sig, default=None):
        return self.action.get(sig, default)

    def pop(self, sig, default=None):
        return self.action.pop(sig, default)

    def __setitem__(self, sig, value):
        self.action[sig] = value

    def __contains__(self, sig):
        return sig in self.action


class SignalStruct:
    """struct signal_struct: what a whole thread group shares."""

    tty = None                          # the controlling terminal (kernel/tty.py TtyStruct)

    def __init__(self, rlim=None, pgrp=0, session=0):
        self.shared_pending = {}        # signal -> SigInfo, for any thread of the group
        self.rlim = rlim if rlim is not None else default_rlimits()
        self.pgrp = pgrp
        self.session = session
        self.group_exit = False         # SIGNAL_GROUP_EXIT: exit_group() or a fatal signal
        self.group_exit_code = 0
        self.group_stop = False         # SIGNAL_STOP_STOPPED
        self.stop_reported = False      # the stop has not been seen by wait(WUNTRACED)
        self.cont_reported = True       # the continue has been seen by wait(WCONTINUED)
        self.live = 1                   # threads not yet exited
        self.cutime = self.cstime = 0.0
        self.utime_dead = 0.0           # time of the group's threads already released
        self.utick_dead = self.stick_dead = 0   # ... and their sampled ticks (kernel/cputime.py)
        self.prev_cputime = PrevCputime()   # the group's last user/system split handed out
        # What exited threads leave behind (__exit_signal) and what reaped
        # children add up to (wait_task_zombie): getrusage()'s sums.
        self.min_flt = self.maj_flt = self.nvcsw = self.nivcsw = 0
        self.cmin_flt = self.cmaj_flt = self.cnvcsw = self.cnivcsw = 0
        self.maxrss = 0                 # peak rss of the group's address spaces, pages
        self.cmaxrss = 0                # the same of reaped children, pages
        self.wait_chldexit = WaitQueue("wait_chldexit")    # wait4() sleeps here
        self.group_exit_code_stop = 0   # the signal that stopped the group
        self.is_child_subreaper = False  # PR_SET_CHILD_SUBREAPER
        self.dumpable = 1
        # Timers of the group (kernel/time, issue 9 part 4): not inherited by fork.
        self.real_timer = None          # ITIMER_REAL's hrtimer (itimer.py)
        self.it_real_incr = 0           # ... and its interval in ns
        self.it = {}                    # ITIMER_VIRTUAL/PROF -> [ns left, interval ns]
        self.posix_timers = {}          # timer id -> PosixTimer (posix_timers.py)
        self.next_posix_timer_id = 0
        self.cpu_timers = False         # a timer counts this group's CPU time


class Task:
    """struct task_struct: one thread."""

    wait_excl = ()                      # HostWaitQueues we sleep on exclusively (epoll)

    def __init__(self, kernel, pid, comm, argv):
        self.kernel = kernel
        self.pid = self.tgid = pid
        self.comm = comm[:15]
        self.argv = argv
        self.real_parent = None         # the task that wait()s for us (None: the host)
        self.children = []              # tasks whose real_parent we are (group leaders)
        self.group_leader = self
        self.thread_group = [self]      # shared list: every thread of the group
        self.mm = None
        self.files = None
        self.fs = None
        self.sighand = SigHand()
        self.signal = SignalStruct(pgrp=pid, session=pid)
        self.blocked = 0                # this thread's signal mask
        self.pending = {}               # signal -> SigInfo, for this thread only
        self.saved_sigmask = None       # sigsuspend/ppoll: restored after the handler
        self.sigwait_set = 0            # signals rt_sigtimedwait() sleeps for
        self.sas = (0, 2, 0)            # sigaltstack: sp, flags (SS_DISABLE), size
        self.set_child_tid = 0
        self.clear_child_tid = 0
        self.robust_list = (0, 0)
        self.exit_signal = 0            # sent to the parent at exit (SIGCHLD for fork)
        self.min_flt = 0
        self.maj_flt = 0
        self.nvcsw = 0
        self.nivcsw = 0
        self.utime = 0.0                # host seconds spent running this task
        self.utick = self.stick = 0     # ticks sampled in EL0 / in the kernel (kernel/cputime.py)
        self.prev_cputime = PrevCputime()
        # real_start_time: the kernel clock at fork (/proc/PID/stat field 22).
        sched = getattr(kernel, "sched", None)
        self.start_time = sched.clock() if sched is not None else 0.0
        self.state = TASK_RUNNING
        self.exit_state = None          # EXIT_ZOMBIE / TASK_DEAD once exited
        self.exit_code = 0              # wait status: (code << 8) | signal
        self.death = None               # why a fatal signal came (for the CLI)
        self.entry = 0
        self.sp = 0
        self.context = None             # saved EL0 registers while not on a core
        self.last_syscall = None        # number of the last system call, for reports
        self.core = None                # the core running us right now
        self.last_cpu = 0               # task_cpu(): where we last ran
        self.cpus_allowed = (1 << kernel.ncpus) - 1 if kernel is not None else 1
        # Sleeping (kernel/sched/core.py): what wakes us and when.
        self.wait_queues = []           # WaitQueues we are on
        self.wait_fds = ()              # (host fd, poll events) we wait for
        self.wait_external = False      # ... and the host may make one ready
        self.wait_deadline = None       # time.monotonic() at which we time out
        self.restart = None             # state of a sleeping syscall, kept until it returns
        self.vfork_done = None          # the parent sleeping until we exec or exit
        self.vfork_child = None         # the vfork child we sleep for
        self.sleep_restart = None       # how a signal ends our sleep (ERESTART*)
        self.syscall_restart = None     # -ERESTART* code of an interrupted syscall
        self.orig_x0 = 0                # x0 at syscall entry, for restarts
        self.slice_start = 0.0
        self.run_start = None           # host time the current slice began (CPU clocks)
        self.yielded = False            # sched_yield(): give the core up now
        self.did_exec = False           # setpgid() may no longer move us (EACCES)
        self.pdeath_signal = 0          # PR_SET_PDEATHSIG: sent when the parent exits
        self.no_new_privs = False
        # struct cred (kernel/cred.py): shared with the parent until either
        # commits a new one, as get_cred() shares it in Linux.
        self.cred = kernel.init_cred if kernel is not None else host_cred()
        # Scheduling attributes (kernel/sched/syscalls.py): nice, policy,
        # rt_priority, sched_reset_on_fork; personality (exec_domain.py).
        self.nice = 0
        self.policy = 0                 # SCHED_NORMAL
        self.rt_priority = 0
        self.sched_reset_on_fork = False
        self.dl_params = (0, 0, 0)      # SCHED_DEADLINE: runtime, deadline, period (ns)
        self.dl_flags = 0
        self.personality = 0            # PER_LINUX
        # PR_SET_TIMERSLACK (kernel/sys.py); 0 there restores the default,
        # which fork sets to the parent's current slack (copy_process()).
        self.timer_slack_ns = self.default_timer_slack_ns = DEFAULT_TIMER_SLACK_NS
        self.nproc_exceeded = False     # PF_NPROC_EXCEEDED: set_user() went over RLIMIT_NPROC

    @property
    def uaccess(self):
        """copy_{from,to}_user for our address space."""
        return self.mm.uaccess

    @property
    def rlim(self):
        return self.signal.rlim

    @property
    def ppid(self):
        """getppid(): the group leader's parent's tgid (0 for the first task)."""
        parent = self.group_leader.real_parent
        return parent.tgid if parent is not None else 0

    def thread_group_live(self):
        return [t for t in self.thread_group if t.exit_state is None]

    def __repr__(self):
        return "<task %d (%s) %s>" % (self.pid, self.comm, self.state)
