"""kernel/cred.c + security/commoncap.c: a task's credentials.

struct cred holds who a task is (real, effective, saved and filesystem user
and group ids, supplementary groups) and what it may do (the capability
sets).  As in Linux a cred is never changed in place once a task uses it:
prepare_creds() copies it, the caller edits the copy, commit_creds()
installs it.  Every task has its own (threads too: Linux keeps a cred per
task_struct; glibc's setuid() reaches every thread by signalling them, and
so does it here, since it is the same guest code).

The guest's credentials are the kernel's bookkeeping only: they decide what
the guest kernel allows, never what the host process may do.  The first
task starts from the host's ids (`--root` makes it uid 0 with every
capability).  Omitted: user namespaces, keyrings, LSMs, file capabilities
and set-user-ID bits on exec (no binary is ever privilege-raising here).
"""

import os

# include/uapi/linux/capability.h: the capabilities 4.14 knows.
CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID = 0, 1, 2, 3, 4
CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_LINUX_IMMUTABLE = 5, 6, 7, 8, 9
CAP_NET_BIND_SERVICE = 10
CAP_NET_ADMIN = 12
CAP_IPC_LOCK, CAP_IPC_OWNER = 14, 15
CAP_SYS_RAWIO = 17
CAP_SYS_ADMIN, CAP_SYS_NICE, CAP_SYS_RESOURCE, CAP_SYS_TIME = 21, 23, 24, 25
CAP_MKNOD = 27
CAP_MAC_OVERRIDE = 32
CAP_LAST_CAP = 37                   # CAP_AUDIT_READ
CAP_FULL_SET = (1 << (CAP_LAST_CAP + 1)) - 1

# include/linux/capability.h: CAP_FS_MASK, the rights fsuid 0 carries.
CAP_FS_SET = sum(1 << c for c in (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
                                  CAP_FOWNER, CAP_FSETID, CAP_LINUX_IMMUTABLE, CAP_MKNOD,
                                  CAP_MAC_OVERRIDE))

# include/uapi/linux/securebits.h: each flag has a lock bit above it.
SECURE_NOROOT, SECURE_NO_SETUID_FIXUP, SECURE_KEEP_CAPS, SECURE_NO_CAP_AMBIENT_RAISE = 0, 2, 4, 6
SECURE_ALL_BITS = sum(1 << b for b in (SECURE_NOROOT, SECURE_NO_SETUID_FIXUP,
                                       SECURE_KEEP_CAPS, SECURE_NO_CAP_AMBIENT_RAISE))
SECURE_ALL_LOCKS = SECURE_ALL_BITS << 1

# include/linux/security.h: which set*id call asks cap_task_fix_setuid().
LSM_SETID_ID, LSM_SETID_RE, LSM_SETID_RES, LSM_SETID_FS = 1, 2, 4, 8

# include/uapi/linux/limits.h
NGROUPS_MAX = 65536
# The id that means "unchanged" to set*id() and is never a valid id
# (init_user_ns maps 0..4294967294).
INVALID_ID = 0xFFFFFFFF
ROOT_UID = 0


class Cred:
    """struct cred.  Treat as read-only once committed; change a copy."""

    __slots__ = ("uid", "gid", "suid", "sgid", "euid", "egid", "fsuid", "fsgid",
                 "securebits", "cap_inheritable", "cap_permitted", "cap_effective",
                 "cap_bset", "cap_ambient", "group_info")

    def __init__(self, uid, gid, groups=()):
        self.uid = self.suid = self.euid = self.fsuid = uid
        self.gid = self.sgid = self.egid = self.fsgid = gid
        self.securebits = 0
        self.group_info = tuple(sorted(set(groups)))
        self.cap_inheritable = 0
        self.cap_bset = CAP_FULL_SET
        self.cap_ambient = 0
        # What a root login shell has (cap_bprm_set_creds for uid 0).
        self.cap_permitted = self.cap_effective = CAP_FULL_SET if uid == ROOT_UID else 0

    def copy(self):
        new = Cred.__new__(Cred)
        for name in Cred.__slots__:
            setattr(new, name, getattr(self, name))
        return new

    def __repr__(self):
        return "<cred uid=%d/%d/%d/%d gid=%d/%d/%d/%d caps=%#x>" % (
            self.uid, self.euid, self.suid, self.fsuid, self.gid, self.egid, self.sgid,
            self.fsgid, self.cap_effective)


_HOST_CAP_FIELDS = {"CapInh": "cap_inheritable", "CapPrm": "cap_permitted",
                    "CapEff": "cap_effective", "CapBnd": "cap_bset", "CapAmb": "cap_ambient"}


def host_cred(root=False):
    """The first task's credentials: the host process's ids, groups and
    capability sets (limited to the capabilities 4.14 knows) — so a guest
    started by a container's root lacks what that root lacks — or, for
    --root, a guest root: uid/gid 0 with every capability.  Either way the
    host process keeps exactly its own rights."""
    if root:
        return Cred(ROOT_UID, 0, (0,))
    cred = Cred(os.getuid(), os.getgid(), os.getgroups())
    cred.suid, cred.euid = os.getresuid()[2], os.geteuid()
    cred.sgid, cred.egid = os.getresgid()[2], os.getegid()
    cred.fsuid, cred.fsgid = cred.euid, cred.egid
    try:
        with open("/proc/self/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in _HOST_CAP_FIELDS:
                    setattr(cred, _HOST_CAP_FIELDS[name], int(value, 16) & CAP_FULL_SET)
    except OSError:
        pass                        # no procfs: the uid-0-has-everything default
    return cred


def prepare_creds(task):
    """prepare_creds(): a private copy of the task's cred to edit."""
    return task.cred.copy()


def commit_creds(task, new):
    """commit_creds(): install new.  A change of effective or filesystem ids,
    or a loss of permitted capabilities, makes the process non-dumpable
    (suid_dumpable = 0) and forgets its parent-death signal."""
    old = task.cred
    if (old.euid != new.euid or old.egid != new.egid or old.fsuid != new.fsuid
            or old.fsgid != new.fsgid or new.cap_permitted & ~old.cap_permitted):
        task.signal.dumpable = 0
        task.pdeath_signal = 0
    task.cred = new
    return 0


def copy_creds(child, parent):
    """copy_creds(): a new task shares its parent's cred (get_cred())."""
    child.cred = parent.cred


def capable(task, cap):
    """capable()/ns_capable() in the initial namespace: cap is effective."""
    return bool(task.cred.cap_effective >> cap & 1)


def cap_valid(cap):
    return 0 <= cap <= CAP_LAST_CAP


def issecure(cred, bit):
    return bool(cred.securebits >> bit & 1)


def uid_valid(uid):
    """uid_valid(make_kuid(&init_user_ns, uid))."""
    return uid != INVALID_ID


def in_group_p(cred, gid):
    """in_group_p(): gid is the fsgid or a supplementary group."""
    return gid == cred.fsgid or gid in cred.group_info


def user_processes(kernel, uid):
    """atomic_read(&user->processes): the tasks (threads included) whose
    real uid is uid, from fork until release_task() — a zombie counts until
    it is reaped.  What RLIMIT_NPROC limits."""
    return sum(1 for t in kernel.tasks.values() if t.cred.uid == uid)


def cap_emulate_setxuid(new, old):
    """cap_emulate_setxuid(): leaving uid 0 in all of real/effective/saved
    clears permitted and effective (unless SECURE_KEEP_CAPS) and ambient;
    leaving euid 0 clears effective; gaining euid 0 restores it."""
    old_root = ROOT_UID in (old.uid, old.euid, old.suid)
    new_root = ROOT_UID in (new.uid, new.euid, new.suid)
    if old_root and not new_root:
        if not issecure(old, SECURE_KEEP_CAPS):
            new.cap_permitted = new.cap_effective = 0
        new.cap_ambient = 0
    if old.euid == ROOT_UID and new.euid != ROOT_UID:
        new.cap_effective = 0
    if old.euid != ROOT_UID and new.euid == ROOT_UID:
        new.cap_effective = new.cap_permitted


def cap_task_fix_setuid(new, old, flags):
    """cap_task_fix_setuid(): the capability sets follow uid changes unless
    SECURE_NO_SETUID_FIXUP; fsuid 0 carries the filesystem capabilities."""
    if issecure(old, SECURE_NO_SETUID_FIXUP):
        return 0
    if flags in (LSM_SETID_RE, LSM_SETID_ID, LSM_SETID_RES):
        cap_emulate_setxuid(new, old)
    elif flags == LSM_SETID_FS:
        if old.fsuid == ROOT_UID and new.fsuid != ROOT_UID:
            new.cap_effective &= ~CAP_FS_SET
        if old.fsuid != ROOT_UID and new.fsuid == ROOT_UID:
            new.cap_effective |= new.cap_permitted & CAP_FS_SET
    return 0


def prepare_exec_creds(task):
    """prepare_exec_creds() + cap_bprm_set_creds() for a binary with no file
    capabilities and no set-id bits (none are honoured here):

      root (euid or uid 0, unless SECURE_NOROOT): pP' = bset | pI,
          and pE' = pP' if euid is 0;
      everyone: pP' |= pA', pE' = pP' if "effective" else pA';
      suid = fsuid = euid, sgid = fsgid = egid; SECURE_KEEP_CAPS cleared.

    Returns (new cred, secureexec) — AT_SECURE is set when a non-root uid
    gains capabilities beyond its ambient ones, or an effective set
    (4.14's bprm->cap_elevated)."""
    old = task.cred
    new = old.copy()
    new.cap_permitted = 0               # get_file_caps(): no file capabilities
    effective = False
    if not issecure(new, SECURE_NOROOT):
        if new.euid == ROOT_UID or new.uid == ROOT_UID:
            new.cap_permitted = old.cap_bset | old.cap_inheritable
        if new.euid == ROOT_UID:
            effective = True
    new.suid = new.fsuid = new.euid
    new.sgid = new.fsgid = new.egid
    new.cap_permitted |= new.cap_ambient
    new.cap_effective = new.cap_permitted if effective else new.cap_ambient
    secureexec = new.uid != ROOT_UID and (effective or
                                          bool(new.cap_permitted & ~new.cap_ambient))
    new.securebits &= ~(1 << SECURE_KEEP_CAPS)
    return new, secureexec
