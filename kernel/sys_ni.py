"""kernel/sys_ni.c: the system calls of arm64 Linux 4.14 that this board
answers deliberately rather than by doing the work — each with the answer
Linux itself gives in a comparable configuration, and why:

  * ENOSYS for a feature configured out of the modelled kernel (the
    CONFIG_ option is named, and /proc/config.gz says "is not set");
  * EPERM for what needs a privilege the board does not model (mounts,
    modules, rebooting, kexec, accounting, chroot): the answer a
    task without that capability gets.

Also the bookkeeping for the whole table (tools/syscall_table.py turns it
into docs/syscalls.md): PENDING names the calls other parts of issue 9
implement, NEWER the numbers that arrived after 4.14 (ENOSYS, as on 4.14),
and kernel_config() the configuration /proc/config.gz shows.
"""

import errno

from kernel.syscalls.table import _DEFS, load_handlers, syscall

# The last system call of arm64's 4.14 table (include/uapi/asm-generic/
# unistd.h: __NR_statx 291, __NR_syscalls 292); 244..259 are the
# arch-specific slots, which arm64 leaves empty.
NR_SYSCALLS_4_14 = 292
ARCH_SPECIFIC_FIRST, ARCH_SPECIFIC_LAST = 244, 259

NI = {}         # name -> (negative errno, reason, CONFIG_ option or None)


def ni_syscall(name, err, reason, config=None):
    """Register the deliberate answer for `name` (cond_syscall() of sys_ni.c
    when config is named, else a capability check that always fails)."""
    NI[name] = (-err, reason, config)

    def handler(task, *args):
        return -err
    handler.__name__ = "sys_" + name
    handler.__doc__ = reason
    syscall(name)(handler)


# -- configured out (ENOSYS) --------------------------------------------------------------

_CONFIGURED_OUT = (
    (("io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents"), "CONFIG_AIO",
     "native asynchronous I/O is configured out (libc's POSIX AIO uses threads instead)"),
    (("lookup_dcookie",), "CONFIG_PROFILING", "no profiling support (oprofile's dcookies)"),
    (("nfsservctl",), None, "removed from Linux in v3.1: sys_ni_syscall on every kernel since"),
    (("quotactl",), "CONFIG_QUOTACTL", "disk quotas are configured out"),
    (("add_key", "request_key", "keyctl"), "CONFIG_KEYS", "no kernel key retention service"),
    (("swapon", "swapoff"), "CONFIG_SWAP", "the board has no swap (SwapTotal is 0)"),
    (("mbind", "get_mempolicy", "set_mempolicy", "migrate_pages", "move_pages"),
     "CONFIG_NUMA", "one memory node: NUMA policies are configured out"),
    (("perf_event_open",), "CONFIG_PERF_EVENTS", "no performance-counter subsystem"),
    (("fanotify_init", "fanotify_mark"), "CONFIG_FANOTIFY", "no fanotify"),
    (("kcmp",), "CONFIG_CHECKPOINT_RESTORE", "checkpoint/restore support is configured out"),
    (("seccomp",), "CONFIG_SECCOMP", "no seccomp filters (/proc/PID/status has no Seccomp: "
     "line and prctl(PR_GET_SECCOMP) is EINVAL, as in such a kernel)"),
    (("bpf",), "CONFIG_BPF_SYSCALL", "no eBPF"),
    (("userfaultfd",), "CONFIG_USERFAULTFD", "no userfaultfd"),
)

# -- privileges the board does not model (EPERM) --------------------------------------

_PRIVILEGED = (
    (("mount", "umount2", "pivot_root"), "CAP_SYS_ADMIN",
     "the board's mount table is fixed (/proc/mounts): answered as to a task without "
     "CAP_SYS_ADMIN"),
    (("acct",), "CAP_SYS_PACCT", "no process accounting files: answered as to a task without "
     "CAP_SYS_PACCT"),
    (("reboot",), "CAP_SYS_BOOT", "the board cannot be rebooted from inside: answered as to a "
     "task without CAP_SYS_BOOT (checked before the magic numbers, as in 4.14)"),
    (("kexec_load",), "CAP_SYS_BOOT", "no second kernel to load: answered as to a task "
     "without CAP_SYS_BOOT"),
    (("init_module", "finit_module", "delete_module"), "CAP_SYS_MODULE",
     "no loadable modules: answered as to a task without CAP_SYS_MODULE"),
)

for _names, _config, _why in _CONFIGURED_OUT:
    for _name in _names:
        _reason = "%s%s" % (("%s is not set: " % _config) if _config else "", _why)
        ni_syscall(_name, errno.ENOSYS, _reason, _config)
for _names, _cap, _why in _PRIVILEGED:
    for _name in _names:
        ni_syscall(_name, errno.EPERM, "needs %s: %s" % (_cap, _why))

# -- implemented by other parts of issue 9 (not answered here) ----------------------------

PENDING = {}
for _part, _names in (
        (2, "flock mknodat symlinkat linkat statfs fstatfs truncate fallocate fchmod fchmodat "
            "fchownat fchown preadv pwritev sendfile vmsplice splice tee sync sync_file_range "
            "utimensat readahead fadvise64 syncfs name_to_handle_at open_by_handle_at "
            "copy_file_range preadv2 pwritev2"),
        (3, "capget capset personality setpriority getpriority setregid setgid setreuid setuid "
            "setresuid getresuid setresgid getresgid setfsuid setfsgid getgroups setgroups "
            "sched_setparam sched_setscheduler sched_getscheduler sched_getparam "
            "sched_get_priority_max sched_get_priority_min sched_rr_get_interval "
            "sched_setattr sched_getattr"),
        (4, "timerfd_create timerfd_settime timerfd_gettime getitimer setitimer timer_create "
            "timer_gettime timer_getoverrun timer_settime timer_delete clock_settime times "
            "settimeofday adjtimex clock_adjtime"),
        (5, "mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr msgget "
            "msgctl msgrcv msgsnd semget semctl semtimedop semop shmget shmctl shmat shmdt "
            "remap_file_pages memfd_create"),
        (6, "eventfd2 epoll_create1 epoll_ctl epoll_pwait inotify_init1 inotify_add_watch "
            "inotify_rm_watch signalfd4 socket socketpair bind listen accept connect "
            "getsockname getpeername sendto recvfrom setsockopt getsockopt shutdown sendmsg "
            "recvmsg accept4 recvmmsg sendmmsg")):
    for _name in _names.split():
        PENDING[_name] = _part

# -- after 4.14 (ENOSYS on 4.14 arm64, so here) -------------------------------------------

NEWER = {
    "io_pgetevents": "v4.18", "rseq": "v4.18", "kexec_file_load": "v5.0 (arm64)",
    "pidfd_send_signal": "v5.1", "io_uring_setup": "v5.1", "io_uring_enter": "v5.1",
    "io_uring_register": "v5.1", "open_tree": "v5.2", "move_mount": "v5.2",
    "fsopen": "v5.2", "fsconfig": "v5.2", "fsmount": "v5.2", "fspick": "v5.2",
    "pidfd_open": "v5.3", "clone3": "v5.3", "close_range": "v5.9", "openat2": "v5.6",
    "pidfd_getfd": "v5.6", "faccessat2": "v5.8", "process_madvise": "v5.10",
    "epoll_pwait2": "v5.11", "mount_setattr": "v5.12", "quotactl_fd": "v5.14",
    "landlock_create_ruleset": "v5.13", "landlock_add_rule": "v5.13",
    "landlock_restrict_self": "v5.13", "memfd_secret": "v5.14", "process_mrelease": "v5.15",
    "futex_waitv": "v5.16", "set_mempolicy_home_node": "v5.17",
}
# 403..423: the *_time64 calls exist only for 32-bit ABIs (v5.1); a 64-bit
# arm64 kernel never has them.
TIME64_ONLY_32BIT = "v5.1, 32-bit ABIs only: never on a 64-bit arm64 kernel"
TIME64_FIRST, TIME64_LAST = 403, 423

# -- /proc/config.gz ---------------------------------------------------------------------

# The options a system call of the table depends on (kernel/sys_ni.c's
# cond_syscall() groups): "=y" when the call is served, "is not set" otherwise.
SYSCALL_CONFIG = {
    "eventfd2": "CONFIG_EVENTFD", "epoll_create1": "CONFIG_EPOLL",
    "inotify_init1": "CONFIG_INOTIFY_USER", "signalfd4": "CONFIG_SIGNALFD",
    "timerfd_create": "CONFIG_TIMERFD", "flock": "CONFIG_FILE_LOCKING",
    "mq_open": "CONFIG_POSIX_MQUEUE", "shmget": "CONFIG_SYSVIPC", "socket": "CONFIG_NET",
    "futex": "CONFIG_FUTEX", "membarrier": "CONFIG_MEMBARRIER",
    "process_vm_readv": "CONFIG_CROSS_MEMORY_ATTACH", "madvise": "CONFIG_ADVISE_SYSCALLS",
    "name_to_handle_at": "CONFIG_FHANDLE", "syslog": "CONFIG_PRINTK",
    "ioprio_get": "CONFIG_BLOCK", "memfd_create": "CONFIG_SHMEM",
}

# What the board is, whatever the table says (the configuration the rest of
# the kernel models: arm64, 4 KiB pages, SMP, procfs/sysfs, no swap/THP/hugetlb).
BASE_CONFIG = (
    ("CONFIG_ARM64", "y"), ("CONFIG_64BIT", "y"), ("CONFIG_MMU", "y"), ("CONFIG_SMP", "y"),
    ("CONFIG_ARM64_4K_PAGES", "y"),
    ("CONFIG_HZ_250", "y"), ("CONFIG_HZ", "250"), ("CONFIG_LOCALVERSION", '"-a53emu"'),
    ("CONFIG_MULTIUSER", "y"), ("CONFIG_PROC_FS", "y"), ("CONFIG_PROC_SYSCTL", "y"),
    ("CONFIG_PROC_PAGE_MONITOR", "y"), ("CONFIG_SYSFS", "y"), ("CONFIG_IKCONFIG", "y"),
    ("CONFIG_IKCONFIG_PROC", "y"), ("CONFIG_SECURITY_YAMA", "y"), ("CONFIG_ELF_CORE", None),
    ("CONFIG_DNOTIFY", "y"),        # fcntl(F_NOTIFY): kernel/fs/dnotify.py
    ("CONFIG_TMPFS", "y"),          # the board's /dev/shm (kernel/ipc/namespace.py)
    ("CONFIG_TICK_CPU_ACCOUNTING", "y"),    # user/system time: kernel/cputime.py
    ("CONFIG_NTP_PPS", None),       # kernel/time/ntp.py
    ("CONFIG_COREDUMP", None), ("CONFIG_NAMESPACES", None), ("CONFIG_CPUSETS", None),
    ("CONFIG_TRANSPARENT_HUGEPAGE", None), ("CONFIG_HUGETLBFS", None),
    ("CONFIG_HUGETLB_PAGE", None), ("CONFIG_MEM_SOFT_DIRTY", None), ("CONFIG_KSM", None),
    ("CONFIG_CMA", None), ("CONFIG_MEMORY_FAILURE", None), ("CONFIG_KASAN", None),
)


def served(name):
    """Is `name` answered by a handler doing the work (not an ENOSYS)?
    (Every handler module is imported first: a lazy table may not have.)"""
    load_handlers()
    for d in _DEFS:
        if d.name == name:
            ni = NI.get(name)
            return ni is None or ni[0] != -errno.ENOSYS
    return False


def kernel_config(kernel):
    """The .config text of the modelled kernel, for /proc/config.gz."""
    va_bits = kernel.board.mmu.va_bits
    lines = ["#", "# Automatically generated file; DO NOT EDIT.",
             "# Linux/arm64 4.14.0 Kernel Configuration (a53emu board)", "#"]
    opts = list(BASE_CONFIG) + [
        ("CONFIG_ARM64_VA_BITS_%d" % va_bits, "y"), ("CONFIG_ARM64_VA_BITS", str(va_bits)),
        ("CONFIG_PGTABLE_LEVELS", "4" if va_bits == 48 else "3"),
        ("CONFIG_NR_CPUS", str(kernel.ncpus))]
    configs = {}
    for name, cfg in SYSCALL_CONFIG.items():
        configs[cfg] = configs.get(cfg, False) or served(name)
    for name, (err, _reason, cfg) in NI.items():
        if cfg is not None:
            configs.setdefault(cfg, False)
    for cfg in sorted(configs):
        opts.append((cfg, "y" if configs[cfg] else None))
    for name, value in opts:
        lines.append("%s=%s" % (name, value) if value is not None else "# %s is not set" % name)
    return "\n".join(lines) + "\n"


# The calls of parts 1 and 7 that do the work (registered on import).
from kernel import task_misc, utsname  # noqa: E402,F401
from kernel import tty_hangup  # noqa: E402,F401       vhangup (issue 9)
from kernel.mm import process_vm_access  # noqa: E402,F401
