"""include/linux/sched.h: struct task_struct, the kernel's view of a thread.

With no clone() yet a task is also its process (tgid == pid): it owns its
mm, descriptor table, cwd, resource limits and signal dispositions.
"""

import os

from kernel.uapi import (
    RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_CORE, RLIMIT_NOFILE, RLIMIT_STACK,
)

TASK_RUNNING = "R"
TASK_DEAD = "X"


def default_rlimits():
    """init_task's limits (include/asm-generic/resource.h), stack 8 MiB."""
    rlim = [[RLIM_INFINITY, RLIM_INFINITY] for _ in range(RLIM_NLIMITS)]
    rlim[RLIMIT_STACK] = [8 << 20, RLIM_INFINITY]
    rlim[RLIMIT_CORE] = [0, RLIM_INFINITY]
    rlim[RLIMIT_NOFILE] = [1024, 4096]
    return rlim


class FsStruct:
    """struct fs_struct: the working directory (a host O_PATH fd) and umask."""

    def __init__(self, cwd):
        self.cwd = cwd
        self.cwd_fd = os.open(cwd, os.O_RDONLY | os.O_DIRECTORY)
        self.umask = 0o022

    def chdir(self, fd, path):
        os.close(self.cwd_fd)
        self.cwd_fd = fd
        self.cwd = path


class Task:
    """struct task_struct (one thread, which is its own thread group)."""

    def __init__(self, kernel, pid, comm, argv):
        self.kernel = kernel
        self.pid = self.tgid = pid
        self.ppid = os.getpid()         # the host process stands in for our parent
        self.comm = comm[:15]
        self.argv = argv
        self.mm = None
        self.uaccess = None
        self.files = None
        self.fs = None
        self.rlim = default_rlimits()
        self.sighand = {}               # signal -> (handler, flags, restorer, mask)
        self.blocked = 0                # the signal mask
        self.pending = {}               # signal -> SigInfo, delivered on return to EL0
        self.sas = (0, 2, 0)            # sigaltstack: sp, flags (SS_DISABLE), size
        self.clear_child_tid = 0
        self.robust_list = (0, 0)
        self.min_flt = 0
        self.maj_flt = 0
        self.nvcsw = 0
        self.state = TASK_RUNNING
        self.exit_code = 0              # wait status: (code << 8) | signal
        self.death = None               # why a fatal signal came (for the CLI)
        self.entry = 0
        self.last_syscall = None        # (name, args), for internal-error reports
        self.core = None
