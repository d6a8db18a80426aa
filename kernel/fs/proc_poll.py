"""The ->poll methods of procfs files (fs/proc/inode.c, fs/proc/proc_sysctl.c,
fs/proc_namespace.c as of 4.14).

Which /proc files have a poll decides whether epoll_ctl() takes them
(ep_insert()'s file_can_poll(): no ->poll is EPERM); poll() and select()
take every file and give DEFAULT_POLLMASK to one without.  In 4.14:

  - a file made by proc_create() (a proc_dir_entry: /proc/meminfo,
    /proc/sysvipc/shm, ...) is opened through proc_reg_file_ops, whose
    proc_reg_poll() calls the entry's own poll or answers DEFAULT_POLLMASK;
  - a /proc/sys file has proc_sys_poll(): DEFAULT_POLLMASK, plus an event
    for the few tables with a ctl_table_poll (kernel/hostname and
    kernel/domainname, bumped by sethostname()) — that event is omitted:
    the board's uts names change only through the guest, which knows;
  - /proc/PID/mounts and mountinfo have mounts_poll(): POLLIN|POLLRDNORM,
    plus POLLERR|POLLPRI after a mount-table change (the board's table
    does not change while it runs, so that event never fires);
  - the other /proc/PID files (status, maps, stat, ...: proc_pid_* and
    proc_single_file_operations) have no poll.
"""

from kernel.fs.poll import DEFAULT_POLLMASK, POLLIN, POLLRDNORM

# mounts_poll()'s answer with no mount event pending.
MOUNTS_POLLMASK = POLLIN | POLLRDNORM
# tgid_base_stuff entries whose file_operations have mounts_poll().
MOUNTS_POLL_NAMES = ("mounts", "mountinfo")


def proc_poll_mask(entry):
    """The mask entry's ->poll answers, or None when the file has no ->poll
    (see the module docstring for which 4.14 files have one)."""
    from kernel.fs.proc import PSEUDO_FILES
    if entry.kind != "file" or not entry.path.startswith("/proc/"):
        return None
    if entry.path.startswith("/proc/sys/"):
        return DEFAULT_POLLMASK                     # proc_sys_poll()
    if entry.path.rsplit("/", 1)[-1] in MOUNTS_POLL_NAMES:
        # mounts_poll(); the board's /proc/mounts is a file of its own, 4.14's
        # the symlink self/mounts (proc_root_init()): the same poll.
        return MOUNTS_POLLMASK
    if PSEUDO_FILES.get(entry.path) is entry:
        return DEFAULT_POLLMASK                     # proc_reg_poll(), no pde poll
    return None


def proc_file_poll(entry):
    """The poll(pt) method of an open /proc file, or None; its mask never
    changes while the board runs, so there is nothing to wait on."""
    mask = proc_poll_mask(entry)
    if mask is None:
        return None
    return lambda pt=None: mask
