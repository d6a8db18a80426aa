"""The ->poll methods of procfs files (fs/proc/inode.c, fs/proc/proc_sysctl.c,
fs/proc_namespace.c as of 4.14).

Which /proc files have a poll decides whether epoll_ctl() takes them
(ep_insert()'s file_can_poll(): no ->poll is EPERM); poll() and select()
take every file and give DEFAULT_POLLMASK to one without.  In 4.14:

  - a file made by proc_create() (a proc_dir_entry: /proc/meminfo,
    /proc/sysvipc/shm, ...) is opened through proc_reg_file_ops, whose
    proc_reg_poll() calls the entry's own poll or answers DEFAULT_POLLMASK;
  - a /proc/sys file has proc_sys_poll(): DEFAULT_POLLMASK; the two with a
    ctl_table_poll (kernel/hostname and kernel/domainname, whose event
    sethostname()/setdomainname() and writes to them bump) add
    POLLIN|POLLRDNORM|POLLERR|POLLPRI once per open after a change;
  - /proc/PID/mounts and mountinfo have mounts_poll(): POLLIN|POLLRDNORM,
    plus POLLERR|POLLPRI after a mount-table change (the board's table
    does not change while it runs, so that event never fires);
  - the other /proc/PID files (status, maps, stat, ...: proc_pid_* and
    proc_single_file_operations) have no poll.

A sysfs file (fs/kernfs/file.c) has kernfs_fop_poll(): DEFAULT_POLLMASK,
plus POLLERR|POLLPRI while the open file has not caught up with the
node's event count — which starts at 1 (kernfs_get_open_node()) while the
file's starts at 0 and catches up when it is read (kernfs_seq_show()), the
read-then-poll protocol of sysfs_notify(); the board never notifies.
"""

from kernel.fs.poll import DEFAULT_POLLMASK, POLLERR, POLLIN, POLLPRI, POLLRDNORM

# mounts_poll()'s answer with no mount event pending.
MOUNTS_POLLMASK = POLLIN | POLLRDNORM
# tgid_base_stuff entries whose file_operations have mounts_poll().
MOUNTS_POLL_NAMES = ("mounts", "mountinfo")


def proc_poll_mask(entry):
    """The mask entry's ->poll answers, or None when the file has no ->poll
    (see the module docstring for which 4.14 files have one).  For sysfs,
    the mask once the file has been read."""
    from kernel.fs.proc import PSEUDO_FILES
    if entry.kind == "file" and entry.path.startswith("/sys/"):
        return DEFAULT_POLLMASK                     # kernfs_fop_poll()
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


# The sysctls with a ctl_table_poll, and the uts field each watches.
UTS_POLL_SYSCTLS = {"/proc/sys/kernel/hostname": "nodename",
                    "/proc/sys/kernel/domainname": "domainname"}
UTS_EVENT_MASK = POLLIN | POLLRDNORM | POLLERR | POLLPRI


KERNFS_EVENT_MASK = DEFAULT_POLLMASK | POLLERR | POLLPRI


def proc_file_poll(entry, kernel=None, opened=None):
    """The poll(pt) method of an open /proc file, or None.  Only the uts
    sysctls' mask ever changes while the board runs (proc_sys_poll_event()
    at open, then once per change); the others have nothing to wait on."""
    mask = proc_poll_mask(entry)
    if mask is None:
        return None
    if entry.path.startswith("/sys/") and opened is not None:
        # kernfs_fop_poll(): an event until the file is read (opened.shown).
        return lambda pt=None: mask if opened.shown else KERNFS_EVENT_MASK
    field = UTS_POLL_SYSCTLS.get(entry.path)
    if field is None or kernel is None:
        return lambda pt=None: mask
    from kernel.utsname import uts_poll
    table_poll = uts_poll(kernel, field)
    seen = [table_poll[0]]                  # filp->private_data at proc_sys_open()

    def proc_sys_poll(pt=None):
        if pt is not None:
            pt.poll_wait(table_poll[1])
        if seen[0] != table_poll[0]:
            seen[0] = table_poll[0]
            return UTS_EVENT_MASK
        return mask
    return proc_sys_poll
