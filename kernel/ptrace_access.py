"""kernel/ptrace.c: __ptrace_may_access() — may the current task look into
another's (its /proc/PID/fd, exe, cwd and root magic links)?

The board has no ptrace(); the check is what procfs asks of it
(proc_fd_access_allowed(): PTRACE_MODE_READ_FSCREDS).  Omits: user
namespaces (every cred is in the initial one) and the LSM hook (Yama's
ptrace_scope restricts only PTRACE_MODE_ATTACH).
"""

import errno

from kernel.cred import capable

CAP_SYS_PTRACE = 19
PTRACE_MODE_READ, PTRACE_MODE_ATTACH = 0x01, 0x02
PTRACE_MODE_NOAUDIT, PTRACE_MODE_FSCREDS, PTRACE_MODE_REALCREDS = 0x04, 0x08, 0x10
PTRACE_MODE_READ_FSCREDS = PTRACE_MODE_READ | PTRACE_MODE_FSCREDS
SUID_DUMP_USER = 1


def ptrace_may_access(current, task, mode=PTRACE_MODE_READ_FSCREDS):
    """__ptrace_may_access(): 0 or -EPERM.  The same thread group always
    may; otherwise the caller's fsuid/fsgid (FSCREDS) or real ids must be
    all of the target's uid/euid/suid and gid/egid/sgid, or the caller has
    CAP_SYS_PTRACE; and a target that is not dumpable needs CAP_SYS_PTRACE."""
    if task.tgid == current.tgid:
        return 0
    cred, tcred = current.cred, task.cred
    if mode & PTRACE_MODE_FSCREDS:
        uid, gid = cred.fsuid, cred.fsgid
    else:
        uid, gid = cred.uid, cred.gid
    same = (uid == tcred.euid == tcred.suid == tcred.uid and
            gid == tcred.egid == tcred.sgid == tcred.gid)
    if not same and not capable(current, CAP_SYS_PTRACE):
        return -errno.EPERM
    if task.mm is not None and task.signal.dumpable != SUID_DUMP_USER and \
            not capable(current, CAP_SYS_PTRACE):
        return -errno.EPERM
    return 0


def proc_fd_access_allowed(current, task):
    """proc_fd_access_allowed(): may current follow task's magic links?"""
    return task is not None and ptrace_may_access(current, task) == 0
