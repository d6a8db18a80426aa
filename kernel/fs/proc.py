"""fs/proc (and the part of fs/sysfs a board has): the files under /proc and
/sys, generated from the kernel's own structures — never from the host's.

A small pseudo file system: every name under /proc or /sys is an Entry (a
dentry and its inode in one), either a file, a directory or a symlink.

  * global files are registered by path in PSEUDO_FILES with proc_create()
    (Linux's proc_create()/sysctl tables); other parts of the kernel add
    theirs the same way, e.g. proc_create("/proc/sysvipc/shm", show);
  * /proc/PID and /proc/PID/task/TID are made on lookup from the task
    (fs/proc/base.c: tgid_base_stuff / tid_base_stuff);
  * /proc/self, /proc/thread-self, and the "magic" links exe, cwd, root and
    fd/N resolve to what they name.  A magic link that leads outside the
    pseudo file system names a host file by its open descriptor, so opening
    /proc/self/fd/3 reopens the very file fd 3 refers to, as Linux's
    nd_jump_link() does.

Reads follow seq_file: the text is made when a read starts at offset 0 (so a
reader that seeks back and reads again sees fresh numbers), and SEEK_END is
-EINVAL.  /proc/PID/mem and pagemap are read at an offset that is a user
address (mem_lseek()).
"""

import errno
import os
import stat as pystat
import struct
import zlib

from emu.arch import (
    DESC_ADDR_MASK, DESC_TYPE_MASK, DESC_TYPE_TABLE, HWCAP_BITS, MIDR_CORTEX_A53, PAGE_SHIFT,
    PAGE_SIZE, PTE_AF, PTE_RDONLY,
)
from kernel.mm.mm import (
    PTE_DIRTY, PTE_PRESENT_MASK, PTE_SPECIAL, VM_ACCOUNT, VM_EXEC, VM_LOCKED, VM_MAYSHARE,
    VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE,
)
from kernel.ipc.util import sysvipc_proc_show
from kernel.cred import CAP_DAC_OVERRIDE, CAP_SYS_ADMIN, CAP_SYS_NICE, capable
from kernel.cputime import task_cputime_adjusted, thread_group_cputime_adjusted
from kernel.mm.overcommit import OVERCOMMIT_GUESS, OVERCOMMIT_NEVER, policy, vm_commit_limit
from kernel.mm.page_alloc import PG_anon, PG_exec
from kernel.sched.task import EXIT_ZOMBIE, STATE_NAMES
from kernel.sigpending import user_sigpending
from kernel.time.timekeeping import NSEC_PER_SEC
from kernel.uapi import (
    O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOCTTY, O_RDONLY,
    O_TRUNC, RLIM_INFINITY, RLIMIT_RSS, SEEK_CUR, SEEK_SET, sigset_of,
)
from kernel.uaccess import Efault


# include/linux/proc_fs.h etc.: where the pseudo file systems' inodes live.
PROC_SUPER_MAGIC_DEV = os.makedev(0, 4)     # proc is the first anonymous super block
SYSFS_DEV = os.makedev(0, 17)
PM_ENTRY_BYTES = 8
# One pagemap read() returns at most this many entries (16 MiB): a short
# read, where Linux would go on filling a larger buffer.
PAGEMAP_MAX_ENTRIES = 1 << 21
MEM_RW_MAX = 16 << 20                   # the same bound for one read() of /proc/PID/mem
# fs/proc/task_mmu.c: the bits of a /proc/PID/pagemap entry.
PM_PFRAME_MASK = (1 << 55) - 1
PM_SOFT_DIRTY = 1 << 55
PM_MMAP_EXCLUSIVE = 1 << 56
PM_FILE = 1 << 61
PM_SWAP = 1 << 62
PM_PRESENT = 1 << 63
# include/asm-generic/param.h: USER_HZ, the unit of /proc/PID/stat and /proc/stat times.
USER_HZ = 100
# The board's generic timer runs at 50 MHz; arm64 computes loops_per_jiffy
# from it, so BogoMIPS = rate / 500000 (arch/arm64/kernel/cpuinfo.c c_show()).
BOARD_TIMER_HZ = 50_000_000
# arch/arm64/include/asm/memory.h (4.14, 4 KiB pages, no KASAN): the vmalloc
# area between the modules and the vmemmap, reported by /proc/meminfo.
MODULES_VSIZE = 128 << 20
PUD_SIZE_4K = 1 << 30
STRUCT_PAGE_SIZE = 64
# fs/file.c: NR_OPEN_DEFAULT (BITS_PER_LONG) and the fdtable growth unit
# (1024 / sizeof(struct file *)), for FDSize.
NR_OPEN_DEFAULT = 64
FDTABLE_UNIT = 1024 // 8
PTE_LEVEL = 3                           # level-3 tables hold the ptes
RLIMIT_SIGPENDING = 11                  # asm-generic/resource.h
# The static priority and nice value of a SCHED_OTHER task (do_task_stat()).
DEFAULT_PRIO_FIELD, DEFAULT_NICE = 20, 0
# include/linux/sched.h: TASK_COMM_LEN.
TASK_COMM_LEN = 16

# -- the registry of global files -------------------------------------------------------

PSEUDO_FILES = {}       # absolute path -> Entry (files of /proc and /sys)
PSEUDO_DIRS = {}        # absolute path -> children(ctx): directories whose entries vary


class Entry:
    """A dentry and inode of procfs/sysfs.

    kind is "file", "dir" or "link".  A file has show(ctx) -> str|bytes (a
    seq_file's show) or read(ctx, opened, pos, count) -> bytes|-errno (a
    raw file like mem), and optionally write(ctx, opened, pos, data).  A
    directory has children() -> [(name, Entry)]; lookup defaults to a scan.
    A link has target() -> str, and host() -> (host path, guest name) when
    it is a magic link to a host file.  seek is "seq" or "mem"."""

    def __init__(self, kind, path, mode, show=None, read=None, write=None, children=None,
                 lookup=None, target=None, host=None, uid=0, seek="seq", size=0):
        self.kind, self.path, self.mode = kind, path, mode
        self.show, self.read, self.write = show, read, write
        self.children, self.lookup_fn = children, lookup
        self.target, self.host = target, host
        self.uid, self.seek, self.size = uid, seek, size

    # A magic link's task (exe, cwd, root, fd/N): proc_pid_get_link() lets
    # only who may ptrace-read it follow the link (kernel/ptrace_access.py).
    owner = None

    @property
    def ino(self):
        """A stable inode number per path (Linux numbers /proc/PID inodes
        from the pid; any stable number serves stat()'s callers)."""
        return zlib.crc32(self.path.encode()) | 1

    def lookup(self, name):
        if self.lookup_fn is not None:
            return self.lookup_fn(name)
        for child_name, child in self.children():
            if child_name == name:
                return child
        return None

    def dtype(self):
        return {"file": 8, "dir": 4, "link": 10}[self.kind]


def proc_create(path, show, mode=0o444, write=None, **kw):
    """proc_create()/register_sysctl(): a global file at an absolute path
    under /proc or /sys; show(ctx) makes its text, ctx being the Ctx of the
    reader.  Directories on the way exist implicitly."""
    PSEUDO_FILES[path] = Entry("file", path, pystat.S_IFREG | (mode & 0o7777), show=show,
                               write=write, **kw)


class Ctx:
    """Who is looking: the kernel and the calling task (current)."""

    def __init__(self, kernel, current):
        self.kernel = kernel
        self.current = current


def task_euid(task):
    return task.cred.euid


def task_ids(task):
    """(uid, euid, suid, fsuid), (gid, egid, sgid, fsgid) and the groups."""
    c = task.cred
    return ((c.uid, c.euid, c.suid, c.fsuid), (c.gid, c.egid, c.sgid, c.fsgid),
            list(c.group_info))


# -- directories ---------------------------------------------------------------------------

def _children_of_registered(prefix, ctx):
    """The names directly below prefix among the registered global files
    and directories."""
    out = {}
    for path in list(PSEUDO_FILES) + list(PSEUDO_DIRS):
        if not path.startswith(prefix + "/"):
            continue
        rest = path[len(prefix) + 1:]
        name = rest.split("/")[0]
        if "/" in rest or path in PSEUDO_DIRS:
            out.setdefault(name, _registered_dir(prefix + "/" + name, ctx))
        else:
            out[name] = PSEUDO_FILES[path]
    if prefix in PSEUDO_DIRS:
        out.update(PSEUDO_DIRS[prefix](ctx))
    return list(out.items())


def _registered_dir(path, ctx):
    return Entry("dir", path, pystat.S_IFDIR | 0o555,
                 children=lambda: _children_of_registered(path, ctx))


def proc_root(ctx):
    """/proc: the registered files and directories, self, thread-self, and
    one directory per process (proc_root_readdir + proc_pid_readdir)."""
    kernel = ctx.kernel

    def children():
        out = _children_of_registered("/proc", ctx)
        out.append(("self", _self_link(ctx)))
        out.append(("thread-self", _thread_self_link(ctx)))
        for pid in sorted(kernel.tasks):
            t = kernel.tasks[pid]
            if t is t.group_leader and _visible(t):
                out.append((str(pid), pid_dir(ctx, t)))
        return out

    def lookup(name):
        if name == "self":
            return _self_link(ctx)
        if name == "thread-self":
            return _thread_self_link(ctx)
        if name.isdigit() and str(int(name)) == name:
            t = kernel.tasks.get(int(name))
            # proc_pid_lookup(): a thread's directory exists (unlisted) too.
            return pid_dir(ctx, t) if t is not None and _visible(t) else None
        return dict(_children_of_registered("/proc", ctx)).get(name)

    return Entry("dir", "/proc", pystat.S_IFDIR | 0o555, children=children, lookup=lookup)


def sys_root(ctx):
    """/sys: only what the board has (devices/system/cpu)."""
    return _registered_dir("/sys", ctx)


def _visible(task):
    return task.exit_state is None or task.exit_state == EXIT_ZOMBIE


def _self_link(ctx):
    cur = ctx.current
    return Entry("link", "/proc/self", pystat.S_IFLNK | 0o777, target=lambda: str(cur.tgid))


def _thread_self_link(ctx):
    cur = ctx.current
    return Entry("link", "/proc/thread-self", pystat.S_IFLNK | 0o777,
                 target=lambda: "%d/task/%d" % (cur.tgid, cur.pid))


def pid_dir(ctx, task, tid_dir=False):
    """/proc/PID (tgid_base_stuff) or /proc/PID/task/TID (tid_base_stuff)."""
    base = "/proc/%d/task/%d" % (task.tgid, task.pid) if tid_dir else "/proc/%d" % task.pid
    uid = task_ids(task)[0][1]

    def f(name, show, mode=0o444, **kw):
        return name, Entry("file", base + "/" + name, pystat.S_IFREG | mode, uid=uid,
                           show=show, **kw)

    def link(name, target, host):
        entry = Entry("link", base + "/" + name, pystat.S_IFLNK | 0o777, uid=uid,
                      target=target, host=host)
        entry.owner = task
        return name, entry

    def d(name, children, lookup=None, mode=0o555):
        return name, Entry("dir", base + "/" + name, pystat.S_IFDIR | mode, uid=uid,
                           children=children, lookup=lookup)

    def children():
        out = []
        if not tid_dir:
            out.append(d("task", lambda: task_dir_children(ctx, task)))
        out += [d("fd", lambda: fd_children(ctx, task, base), mode=0o500),
                d("fdinfo", lambda: fdinfo_children(ctx, task, base), mode=0o500),
                f("environ", lambda c: proc_pid_environ(task), 0o400),
                f("auxv", lambda c: proc_pid_auxv(task), 0o400),
                f("status", lambda c: proc_pid_status(task)),
                f("limits", lambda c: proc_pid_limits(task)),
                f("comm", lambda c: task.comm + "\n", 0o644, write=comm_write(task)),
                f("cmdline", lambda c: proc_pid_cmdline(task)),
                f("stat", lambda c: proc_pid_stat(task, whole=not tid_dir)),
                f("statm", lambda c: proc_pid_statm(task.mm)),
                f("maps", lambda c: proc_pid_maps(task.mm) if task.mm else ""),
                f("mem", None, 0o600, read=mem_read(task), write=mem_write(task), seek="mem"),
                link("cwd", lambda: _cwd_name(task),
                     lambda: ("/proc/self/fd/%d" % _need(task.fs).cwd_fd, _need(task.fs).cwd)),
                link("root", lambda: "/", lambda: (_root_host(ctx.kernel, task), "/")),
                link("exe", lambda: _exe_name(ctx.kernel, task),
                     lambda: (_exe_host(ctx.kernel, task), _exe_name(ctx.kernel, task))),
                f("mounts", lambda c: proc_mounts(c)),
                f("mountinfo", lambda c: proc_mountinfo(c)),
                f("smaps", lambda c: proc_pid_smaps(task.mm) if task.mm else ""),
                f("pagemap", None, 0o400, read=pagemap_read(ctx, task), seek="mem"),
                f("wchan", lambda c: "0"),
                f("coredump_filter", lambda c: "%08x\n" % _need(task.mm).coredump_filter,
                  0o644, write=coredump_filter_write(task))]
        if not tid_dir:     # tgid_base_stuff only
            out.append(f("timerslack_ns", timerslack_ns_show(task), 0o666,
                         write=timerslack_ns_write(task)))
        return out

    return Entry("dir", base, pystat.S_IFDIR | 0o555, uid=uid, children=children)


def _need(value):
    """A link whose object is gone (a zombie's mm, cwd): ENOENT."""
    if not value:
        raise PseudoError(-errno.ENOENT)
    return value


def _cwd_name(task):
    """d_path() of the task's working directory: where it is now below its
    root (--jail, chroot: kernel/fs/namei.py rooted_cwd()), else its name."""
    fs = _need(task.fs)
    if getattr(fs, "root_fd", None) is None:
        return fs.cwd
    from kernel.fs.namei import rooted_cwd      # imports the fs layer
    return rooted_cwd(task) or fs.cwd


def _root_host(kernel, task=None):
    """The host directory that is the task's "/": its chroot() or --jail
    root (kernel/fs/jail.py), else the sysroot or the host's /."""
    root_fd = getattr(getattr(task, "fs", None), "root_fd", None)
    if root_fd is not None:
        return os.fsdecode(os.readlink("/proc/self/fd/%d" % root_fd))
    return os.fsdecode(kernel.sysroot) if kernel.sysroot is not None else "/"


def _exe_name(kernel, task):
    return guest_name(kernel, _need(task.mm and task.mm.exe_file))


def _exe_host(kernel, task):
    return os.fsdecode(kernel.resolve_sysroot(os.fsencode(_need(task.mm and task.mm.exe_file))))


def task_dir_children(ctx, task):
    return [(str(t.pid), pid_dir(ctx, t, tid_dir=True)) for t in task.thread_group
            if _visible(t)]


def fd_children(ctx, task, base):
    """proc_readfd(): one link per open descriptor."""
    files = task.files
    if files is None:
        return []
    out = []
    for fd in sorted(files.fds):
        file = files.fds[fd]
        # tid_fd_update_inode(): the link's mode says how the file is open.
        mode = 0o100 | (0o400 if file.readable else 0) | (0o200 if file.writable else 0)
        entry = Entry("link", "%s/fd/%d" % (base, fd), pystat.S_IFLNK | mode,
                      target=lambda file=file: fd_link_name(file, ctx.current),
                      host=lambda file=file: fd_link_host(file, ctx.current))
        entry.owner = task
        entry.file = file               # proc_fd_link(): the open file itself
        out.append((str(fd), entry))
    return out


def fd_link_name(file, reader=None):
    """d_path() of an open file: its name, pipe:[ino], or, for a descriptor
    the board inherited (its stdin/stdout/stderr), inherited_fd_name();
    " (deleted)" after an unlinked file's name (kernel/fs/dpath.py)."""
    from kernel.fs.dpath import d_path_deleted
    return d_path_deleted(file, fd_path_name(file, reader))


def fd_path_name(file, reader=None):
    """The board's name of an open file, without d_path()'s marks: what a
    file reopened through /proc/PID/fd/N is named."""
    if file.path.startswith("/dev/fd/") and file.host_fd is not None:
        return inherited_fd_name(file.kernel, file.host_fd, reader)
    return file.path


def inherited_fd_name(kernel, host_fd, reader=None):
    """d_path() of a host descriptor the board inherited, as the reader (the
    task reading the link: d_path() uses current's root) sees it.

    Without a root: the host's name, as Linux gives it.  A name that is no
    path (pipe:[N], socket:[N], anon_inode:...) is the host's too.  Below
    a root: the path from the reader's root (chroot()), else from the
    --jail root, as 4.14's prepend_path() walks up to the root.  A board
    device (/dev/null, /dev/tty, ... which a jailed guest opens by those
    names) keeps its name.  A file outside --jail (the user's terminal
    /dev/pts/N, a host file given as stdin): 4.14's d_path() would give its
    path from the global root (prepend_path()'s "reached the global root"
    is not an error for d_path(), only getcwd() marks "(unreachable)").
    Under --jail the jail is the board's global root and the host's names
    are none of the board's, so the name is getcwd()'s mark and the last
    component only: "(unreachable)/3" for /dev/pts/3."""
    from kernel.fs import jail
    from kernel.fs.namei import BOARD_DEVICES, task_root
    host = os.readlink("/proc/self/fd/%d" % host_fd)
    root_fd = task_root(reader) if reader is not None else None
    if not host.startswith("/") or (root_fd is None and kernel.jail_fd is None):
        return host
    for fd in (root_fd, kernel.jail_fd):
        below = jail.path_below(fd, host_fd) if fd is not None else None
        if below is not None:
            return os.fsdecode(below)
    if host in BOARD_DEVICES:
        return host
    if kernel.jail_fd is None:
        return host                     # a chroot() on the board's own (the host's) tree
    return "(unreachable)/" + host.rsplit("/", 1)[-1]


def fd_link_host(file, reader=None):
    if file.host_fd is None:
        return None                 # a pseudo file: the name is followed instead
    return "/proc/self/fd/%d" % file.host_fd, fd_path_name(file, reader)


def fdinfo_children(ctx, task, base):
    files = task.files
    if files is None:
        return []
    return [(str(fd), Entry("file", "%s/fdinfo/%d" % (base, fd), pystat.S_IFREG | 0o444,
                            show=lambda c, fd=fd: proc_fdinfo(task, fd)))
            for fd in sorted(files.fds)]


# -- resolution ------------------------------------------------------------------------------

class PseudoError(Exception):
    """A lookup or read under /proc or /sys that fails: a negative errno."""

    def __init__(self, err):
        super().__init__(err)
        self.err = err


class HostTarget:
    """A magic link's destination outside the pseudo file systems."""

    def __init__(self, host_path, guest_name, base=None, rest=""):
        self.host_path = host_path
        self.guest_name = guest_name
        # Below a root (kernel/fs/namei.py host_target()): the link's own
        # host object (None: a link to a guest name) and the rest of the path.
        self.base, self.rest = base, rest
        self.file = None                # the open file of a /proc/PID/fd/N link


MAXSYMLINKS = 40


def pseudo_resolve(kernel, task, path, follow=True, depth=0):
    """path_lookupat() within /proc and /sys for an absolute guest path,
    normalised except for ".." after a link (a ".." walks up from the
    link's target, and from /proc or /sys to the root).  Returns None when the path is not in them, an Entry, or a
    HostTarget; raises PseudoError(-ENOENT/-ENOTDIR/-ELOOP)."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("proc", "sys"):
        return None
    ctx = Ctx(kernel, task)
    node = proc_root(ctx) if parts[0] == "proc" else sys_root(ctx)
    done = "/" + parts[0]
    above = []                          # (node, done) of the directories walked through
    for i, name in enumerate(parts[1:], 1):
        if node.kind != "dir":
            raise PseudoError(-errno.ENOTDIR)
        if name == "..":                # follow_dotdot(): after a link (/proc/self/..)
            if not above:               # /proc/..: the root, and on from there
                return pseudo_resolve(kernel, task, os.path.normpath(
                    "/" + "/".join(parts[i + 1:])), follow, depth)
            node, done = above.pop()
            continue
        child = node.lookup(name)
        if child is None:
            raise PseudoError(-errno.ENOENT)
        last = i == len(parts) - 1
        if child.kind == "link" and (follow or not last):
            rest = "/".join(parts[i + 1:])
            return _follow(kernel, task, child, done, rest, follow, depth)
        above.append((node, done))
        node = child
        done += "/" + name
    return node


def _follow(kernel, task, link, base, rest, follow, depth):
    if depth >= MAXSYMLINKS:
        raise PseudoError(-errno.ELOOP)
    if link.owner is not None and task is not None:
        from kernel.ptrace_access import proc_fd_access_allowed
        if not proc_fd_access_allowed(task, link.owner):
            raise PseudoError(-errno.EACCES)        # proc_pid_get_link()
    host = link.host() if link.host is not None else None
    if host is not None:
        host_path, guest = host
        if guest == "/" and rest:
            rest = os.path.normpath("/" + rest).lstrip("/")     # the root's ".." is itself
        if guest == "/" and is_pseudo_path("/" + rest):
            # /proc/self/root/proc/...: the board's /proc and /sys are
            # mounted in every root, never the host's own.
            return pseudo_resolve(kernel, task, os.path.normpath("/" + rest), follow, depth + 1)
        if rest:
            # rest may start with ".." (kernel/syscalls/fs.py _lookup_name()):
            # the host walks it from the target; the guest name is for show.
            return HostTarget(host_path + "/" + rest, os.path.normpath(guest + "/" + rest),
                              host_path, rest)
        target = HostTarget(host_path, guest, host_path)
        target.file = getattr(link, "file", None)
        return target
    target = link.target()
    full = os.path.normpath(target if target.startswith("/") else base + "/" + target)
    # rest is walked from the target: a ".." in it is the target's parent.
    full = full.rstrip("/") + ("/" + rest if rest else "")
    found = pseudo_resolve(kernel, task, full, follow, depth + 1)
    if found is None:
        return HostTarget(os.fsdecode(kernel.resolve_sysroot(os.fsencode(full))), full, None)
    return found


def is_pseudo_path(path):
    parts = [p for p in path.split("/") if p]
    return bool(parts) and parts[0] in ("proc", "sys")


def proc_pid_task(kernel, task, who):
    """The task /proc/<who> names: self, thread-self, or a live pid (for
    callers that only need the task, e.g. exec of /proc/self/exe)."""
    if who in ("self", "thread-self"):
        return task
    if who.isdigit():
        t = kernel.tasks.get(int(who))
        if t is not None and t.mm is not None and t.exit_state is None:
            return t
    return None


# -- an open pseudo file ---------------------------------------------------------------

class PseudoOpen:
    """The private state of an open /proc or /sys file (seq_file's buffer,
    pagemap's show_pfn decided at open)."""

    def __init__(self, entry, ctx, flags):
        self.entry = entry
        self.ctx = ctx
        self.flags = flags
        self.buf = None
        self.show_pfn = capable(ctx.current, CAP_SYS_ADMIN)
        self.shown = False

    def stat(self):
        return pseudo_stat(self.entry)

    def text(self):
        self.shown = True       # kernfs_seq_show(): of->event catches up (kernel/fs/proc_poll.py)
        data = self.entry.show(self.ctx)
        return data.encode("latin-1") if isinstance(data, str) else data


def pseudo_stat(entry):
    """proc_getattr()/kernfs_iop_getattr(): what stat() shows of an Entry."""
    from kernel.fs.stat import SyntheticStat
    st = SyntheticStat(entry.size, entry.mode, entry.ino)
    st.st_dev = SYSFS_DEV if entry.path.startswith("/sys") else PROC_SUPER_MAGIC_DEV
    st.st_uid = st.st_gid = entry.uid
    st.st_nlink = 2 if entry.kind == "dir" else 1
    return st


def may_open(task, entry, flags):
    """may_open() + inode_permission(): -errno or 0.  Owner bits for the
    owner, other bits for the rest; CAP_DAC_OVERRIDE passes, except that
    nobody writes a directory or a file without a write method in /sys."""
    acc = flags & O_ACCMODE
    if entry.kind == "dir":
        return -errno.EISDIR if acc != O_RDONLY else 0
    if flags & O_DIRECTORY:
        return -errno.ENOTDIR
    want = {O_RDONLY: 4, 1: 2, 2: 6}.get(acc, 6)
    euid = task_euid(task)
    if entry.path.startswith("/proc/sys/"):
        return sysctl_perm(task, entry.mode, want)
    bits = (entry.mode >> 6) & 7 if euid == entry.uid else entry.mode & 7
    if want & bits == want:
        return 0
    if capable(task, CAP_DAC_OVERRIDE):
        return 0
    return -errno.EACCES


def sysctl_perm(task, mode, want):
    """proc_sys_permission() → sysctl_perm() → test_perm(): a /proc/sys
    file's own rule, not generic_permission(): euid 0 gets the owner's
    bits, a member of group 0 the group's, anyone else the other bits —
    and no capability overrides them (root cannot write a 0444 sysctl)."""
    cred = task.cred
    if cred.euid == 0:
        mode >>= 6
    elif cred.egid == 0 or 0 in cred.group_info:    # in_egroup_p(GLOBAL_ROOT_GID)
        mode >>= 3
    return 0 if not want & ~mode & 7 else -errno.EACCES


def pseudo_open(kernel, task, entry, flags, guest_name):
    """The File for an opened Entry (the caller installs the descriptor)."""
    from kernel.fs.file import File
    # do_dentry_open(): the open-time-only bits go, O_LARGEFILE is forced on 64-bit.
    f_flags = (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE
    file = File(kernel, None, guest_name, f_flags, body=b"")
    file.mode = entry.mode
    file.pseudo = PseudoOpen(entry, Ctx(kernel, task), flags)
    from kernel.fs.proc_poll import proc_file_poll
    poll = proc_file_poll(entry, kernel, file.pseudo)
    if poll is not None:
        file.poll = poll            # proc_reg_poll()/proc_sys_poll()/mounts_poll()
    return file


def pseudo_read(file, count, offset=None):
    """seq_read() / mem_read(): bytes read at the file position (or offset)."""
    p = file.pseudo
    entry = p.entry
    pos = file.pos if offset is None else offset
    if entry.kind == "dir":
        return -errno.EISDIR
    try:
        if entry.read is not None:
            data = entry.read(p, pos, count)
        else:
            if p.buf is None or pos == 0:
                p.buf = p.text()
            data = p.buf[pos:pos + count]
    except PseudoError as e:
        return e.err                    # what it describes is gone (a closed fd's fdinfo)
    if isinstance(data, int):
        return data
    if offset is None:
        file.pos += len(data)
    return data


def pseudo_write(file, data, offset=None):
    p = file.pseudo
    if p.entry.write is None:
        return -errno.EINVAL            # vfs_write(): no write method
    pos = file.pos if offset is None else offset
    ret = p.entry.write(p, pos, data)
    if ret > 0 and offset is None and p.entry.seek == "mem":
        file.pos += ret
    return ret


def pseudo_lseek(file, offset, whence):
    """seq_lseek() (SEEK_SET/SEEK_CUR, no negative result) or mem_lseek()
    (any 64-bit position: an offset in mem and pagemap is an address)."""
    if whence == SEEK_SET:
        new = offset
    elif whence == SEEK_CUR:
        new = file.pos + offset
    else:
        return -errno.EINVAL
    if file.pseudo.entry.seek == "mem":
        file.pos = new & ((1 << 64) - 1)
        return file.pos
    if new < 0:
        return -errno.EINVAL
    file.pos = new
    if file.is_dir:
        file.dir_entries = None
    return new


def pseudo_dir_entries(file):
    """The getdents64 snapshot of an open pseudo directory."""
    entry = file.pseudo.entry
    parent = os.path.dirname(entry.path)
    out = [(entry.ino, 4, b"."), (zlib.crc32(parent.encode()) | 1, 4, b"..")]
    for name, child in entry.children():
        out.append((child.ino, child.dtype(), name.encode()))
    return out


# -- access to another address space ----------------------------------------------------

def access_remote_vm(mm, addr, length=0, data=None, force=False):
    """mm/memory.c: __access_remote_vm() — read length bytes at addr (or
    write data there) through mm's page tables, faulting pages in as the
    owner's own access would; force (FOLL_FORCE, /proc/PID/mem) may also
    write a private page the mapping keeps read-only.  Stops at the first
    page that cannot be reached: returns the bytes read, or the count
    written."""
    write = data is not None
    total = len(data) if write else length
    mem = mm.kernel.memory
    view, base = mem.view, mem.base
    out = bytearray()
    done = 0
    while done < total:
        a = addr + done
        n = min(total - done, PAGE_SIZE - (a & (PAGE_SIZE - 1)))
        if a >= mm.task_size:
            break
        try:
            pa = mm.uaccess._translate(a, write)
        except Efault:
            frame = force_cow(mm, a) if write and force else None
            if frame is None:
                break
            pa = frame | (a & (PAGE_SIZE - 1))
        if write:
            view[pa - base:pa - base + n] = data[done:done + n]
            _flush_if_code(mm.kernel, pa)
        else:
            out += view[pa - base:pa - base + n]
        done += n
    return done if write else bytes(out)


def force_cow(mm, addr):
    """get_user_pages(FOLL_WRITE | FOLL_FORCE) on a page the mapping does not
    let its owner write: allowed only in a private mapping that could be
    made writable (is_cow_mapping(): VM_MAYWRITE without VM_SHARED).  The
    page is faulted in for reading, then broken out of sharing as
    do_wp_page() would — reused if it is an anonymous page nobody else
    holds, else copied — and left read-only (maybe_mkwrite() adds no write
    permission to a VMA without VM_WRITE).  Returns the frame to write, or
    None (the access is -EFAULT, which mem_rw() reports as EIO)."""
    from kernel.mm.memory import _install_copy, handle_mm_fault
    from kernel.mm.mmap import find_vma
    vma = find_vma(mm, addr)
    if vma is None or vma.vm_start > addr or \
            vma.vm_flags & (VM_SHARED | VM_MAYWRITE) != VM_MAYWRITE:
        return None
    page = addr & ~(PAGE_SIZE - 1)
    if handle_mm_fault(vma, page, False):
        return None
    kernel = mm.kernel
    pt, pages = kernel.pgtable, kernel.pages
    ptep = pt.pte_offset(mm, page)
    pte = pt.read_pte(ptep)
    frame = pte & DESC_ADDR_MASK
    special = bool(pte & PTE_SPECIAL)
    anon = not special and pages.flags[pages.index(frame)] & PG_anon
    if anon and pages.page_count(frame) == 1:
        return frame                    # wp_page_reuse()
    if anon:
        mm.rss_anon -= 1
    elif not special:
        mm.rss_file -= 1
    _install_copy(vma, page, ptep, None if special else frame, present=True)
    pte = pt.read_pte(ptep)
    pt.set_pte_at(mm, page, ptep, pte | PTE_RDONLY)
    kernel.tlb.flush_tlb_page(mm, page)
    return pte & DESC_ADDR_MASK


def _flush_if_code(kernel, pa):
    """A kernel store into a frame the CPU has run code from: the emulator's
    translations of it must go (as flush_icache_range() after
    access_process_vm() writes text, e.g. a debugger's breakpoint)."""
    pages = kernel.pages
    if pages.flags[pages.index(pa & ~(PAGE_SIZE - 1))] & PG_exec and \
            pages.flush_code_cache is not None:
        pages.flush_code_cache()


def mem_read(task):
    """fs/proc/base.c: mem_rw() reading — -EIO if nothing could be read."""
    def read(p, pos, count):
        mm = task.mm
        if mm is None:
            return b""
        data = access_remote_vm(mm, pos, min(count, MEM_RW_MAX))
        return data if data or not count else -errno.EIO
    return read


def mem_write(task):
    def write(p, pos, data):
        mm = task.mm
        if mm is None:
            return 0
        n = access_remote_vm(mm, pos, data=data, force=True)
        return n if n or not data else -errno.EIO
    return write


# -- /proc/PID files -----------------------------------------------------------------------

def vma_perms(vma):
    """The 'rwxp' column: VM_MAYSHARE decides s/p, as show_map_vma()."""
    f = vma.vm_flags
    return ("r" if f & VM_READ else "-") + ("w" if f & VM_WRITE else "-") + \
           ("x" if f & VM_EXEC else "-") + ("s" if f & VM_MAYSHARE else "p")


def guest_name(kernel, path):
    """d_path() as the board sees it: a host path inside --sysroot loses the
    sysroot (or --jail) prefix (the loader opens programs by their host paths)."""
    root = kernel.sysroot if getattr(kernel, "jail", None) is None else kernel.jail
    if root is not None:
        root = os.fsdecode(root).rstrip("/")
        if path.startswith(root + "/"):
            return path[len(root):]
    return path


def vma_name(vma):
    """The name column: file path, [heap], [stack], or None."""
    file = vma.vm_file
    if file is not None:
        return guest_name(vma.vm_mm.kernel, file.path)
    mm = vma.vm_mm
    if vma.vm_start <= mm.brk and vma.vm_end >= mm.start_brk:
        return "[heap]"
    if vma.vm_start <= mm.start_stack <= vma.vm_end:
        return "[stack]"
    return None


def show_map_vma(vma):
    """fs/proc/task_mmu.c: show_map_vma() — one line of /proc/PID/maps."""
    file = vma.vm_file
    dev = ino = 0
    if file is not None and file.host_fd is not None and file.mapping is not None \
            and file.mapping.host_fd is not None:
        st = os.fstat(file.host_fd)
        dev, ino = st.st_dev, st.st_ino
    pgoff = vma.vm_pgoff << PAGE_SHIFT if file is not None else 0
    line = "%08x-%08x %s %08x %02x:%02x %d " % (
        vma.vm_start, vma.vm_end, vma_perms(vma), pgoff, os.major(dev), os.minor(dev), ino)
    name = vma_name(vma)
    if name is not None:
        # seq_pad(): the name starts at column 73 on a 64-bit kernel.
        line = line.ljust(72) + " " + name if len(line) < 72 else line + name
    return line + "\n"


def proc_pid_maps(mm):
    return "".join(show_map_vma(v) for v in mm.vmas())


# fs/proc/task_mmu.c: show_smap_vma_flags() mnemonics of 4.14, by vm_flags bit
# (no "sd": arm64 has no soft-dirty tracking in 4.14).
_VMFLAG_MNEMONICS = ((0x1, "rd"), (0x2, "wr"), (0x4, "ex"), (0x8, "sh"), (0x10, "mr"),
                     (0x20, "mw"), (0x40, "me"), (0x80, "ms"), (0x100, "gd"), (0x200, "um"),
                     (0x400, "pf"), (0x800, "dw"), (0x1000, "uw"), (0x2000, "lo"),
                     (0x4000, "io"), (0x8000, "sr"), (0x10000, "rr"), (0x20000, "dc"),
                     (0x40000, "de"), (0x100000, "ac"), (0x200000, "nr"), (0x400000, "ht"),
                     (0x1000000, "ar"), (0x2000000, "wf"), (0x4000000, "dd"),
                     (0x10000000, "mm"), (0x20000000, "hg"), (0x40000000, "nh"),
                     (0x80000000, "mg"))


def _present_pages(vma):
    """(addr, pte) of each present pte of the VMA."""
    mm = vma.vm_mm
    pt = mm.kernel.pgtable
    addr = vma.vm_start
    while addr < vma.vm_end:
        ptep, span = pt.pte_lookup(mm, addr)
        if ptep is None:
            addr = (addr + span) & ~(span - 1) if span else addr + PAGE_SIZE
            continue
        pte = pt.read_pte(ptep)
        if pte & PTE_PRESENT_MASK:
            yield addr, pte
        addr += PAGE_SIZE


def smaps_counts(vma):
    """smaps_pte_entry() over the VMA: (rss, pss*PAGE, shared_clean,
    shared_dirty, private_clean, private_dirty, referenced, anonymous) in pages."""
    kernel = vma.vm_mm.kernel
    pages = kernel.pages
    mapping = vma.vm_file.mapping if vma.vm_file is not None else None
    rss = pss = sc = sd = pc = pd = ref = anon = 0
    for addr, pte in _present_pages(vma):
        if pte & PTE_SPECIAL:
            continue                    # vm_normal_page(): the zero page is not counted
        frame = pte & DESC_ADDR_MASK
        is_anon = pages.flags[pages.index(frame)] & PG_anon
        mapcount = pages.page_mapcount(frame)
        pgoff = vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT)
        dirty = bool(pte & PTE_DIRTY) or (mapping is not None and pgoff in mapping.dirty)
        rss += 1
        pss += (1 << PAGE_SHIFT) // max(mapcount, 1)
        ref += 1 if pte & PTE_AF else 0
        anon += 1 if is_anon else 0
        if mapcount >= 2:
            sd, sc = (sd + 1, sc) if dirty else (sd, sc + 1)
        else:
            pd, pc = (pd + 1, pc) if dirty else (pd, pc + 1)
    return rss, pss, sc, sd, pc, pd, ref, anon


def show_smap(vma):
    """show_smap(): the maps line, then the memory accounting of the VMA."""
    rss, pss, sc, sd, pc, pd, ref, anon = smaps_counts(vma)
    size_kb = (vma.vm_end - vma.vm_start) >> 10
    page_kb = PAGE_SIZE >> 10
    rows = [("Size", size_kb), ("KernelPageSize", page_kb), ("MMUPageSize", page_kb),
            ("Rss", _kb(rss)), ("Pss", pss >> 10), ("Shared_Clean", _kb(sc)),
            ("Shared_Dirty", _kb(sd)), ("Private_Clean", _kb(pc)), ("Private_Dirty", _kb(pd)),
            ("Referenced", _kb(ref)), ("Anonymous", _kb(anon)), ("LazyFree", 0),
            ("AnonHugePages", 0), ("ShmemPmdMapped", 0), ("Shared_Hugetlb", 0),
            ("Private_Hugetlb", 0), ("Swap", 0), ("SwapPss", 0),
            ("Locked", pss >> 10 if vma.vm_flags & VM_LOCKED else 0)]
    text = show_map_vma(vma) + "".join("%-16s%8d kB\n" % (k + ":", v) for k, v in rows)
    flags = "".join(m + " " for bit, m in _VMFLAG_MNEMONICS if vma.vm_flags & bit)
    return text + "VmFlags: %s\n" % flags


def proc_pid_smaps(mm):
    return "".join(show_smap(v) for v in mm.vmas())


def _kb(pages):
    return pages << (PAGE_SHIFT - 10)


def count_page_tables(mm):
    """(pmd tables, pte tables) below mm's pgd: mm_nr_pmds() and
    atomic_long_read(&mm->nr_ptes) of 4.14, counted by walking them."""
    pt = mm.kernel.pgtable
    view, base = pt.view, pt.ram_base
    counts = {1: 0, 2: 0, 3: 0}

    def walk(table, level):
        descs = struct.unpack_from("<512Q", view, table - base)
        for desc in descs:
            if desc & DESC_TYPE_MASK == DESC_TYPE_TABLE:
                counts[level + 1] += 1
                if level + 1 < PTE_LEVEL:
                    walk(desc & DESC_ADDR_MASK, level + 1)
    walk(mm.pgd, pt.top_level)
    return counts[2], counts[3]


def task_mem(mm):
    """fs/proc/task_mmu.c: task_mem() of 4.14 (VmPMD is still there)."""
    text = min(_page_align(mm.end_code) - (mm.start_code & ~(PAGE_SIZE - 1)),
               mm.exec_vm << PAGE_SHIFT)
    lib = (mm.exec_vm << PAGE_SHIFT) - text
    rss = mm.get_mm_rss()
    pmds, ptes = count_page_tables(mm)
    rows = [("VmPeak", _kb(max(mm.hiwater_vm, mm.total_vm))), ("VmSize", _kb(mm.total_vm)),
            ("VmLck", _kb(mm.locked_vm)), ("VmPin", _kb(mm.pinned_vm)),
            ("VmHWM", _kb(max(mm.hiwater_rss, rss))), ("VmRSS", _kb(rss)),
            ("RssAnon", _kb(mm.rss_anon)), ("RssFile", _kb(mm.rss_file)),
            ("RssShmem", _kb(mm.rss_shmem)), ("VmData", _kb(mm.data_vm)),
            ("VmStk", _kb(mm.stack_vm)), ("VmExe", text >> 10), ("VmLib", lib >> 10),
            ("VmPTE", ptes * PAGE_SIZE >> 10), ("VmPMD", pmds * PAGE_SIZE >> 10),
            ("VmSwap", 0), ("HugetlbPages", 0)]
    return "".join("%s:\t%8d kB\n" % kv for kv in rows)


def _page_align(addr):
    return (addr + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


def _sigset(bits):
    return "%016x" % bits




def _sig_ign_cgt(task):
    """collect_sigign_sigcatch(): signals ignored and signals with handlers."""
    ign = cgt = 0
    for sig, action in task.sighand.action.items():
        handler = action[0]
        if handler == 1:                # SIG_IGN
            ign |= 1 << (sig - 1)
        elif handler not in (0, 1):     # SIG_DFL is 0
            cgt |= 1 << (sig - 1)
    return ign, cgt


def fd_table_size(files):
    """files_fdtable()->max_fds: 64, then grown in 128-descriptor steps to a
    power of two times 128 (fs/file.c: alloc_fdtable())."""
    if files is None or not files.fds or max(files.fds) < NR_OPEN_DEFAULT:
        return NR_OPEN_DEFAULT
    units = (max(files.fds) // FDTABLE_UNIT) + 1
    return FDTABLE_UNIT * (1 << (units - 1).bit_length())


def proc_pid_status(task):
    """fs/proc/array.c: proc_pid_status() of 4.14 — task_state(), task_mem(),
    task_sig(), task_cap(), task_seccomp(), task_cpus_allowed(),
    cpuset_task_status_allowed(), task_context_switch_counts()."""
    uids, gids, groups = task_ids(task)
    name = task.comm.replace("\\", "\\\\").replace("\n", "\\n")
    tracer = 0
    umask = "Umask:\t%04o\n" % task.fs.umask if task.fs is not None else ""
    state = STATE_NAMES.get(task.state, task.state)
    if task.exit_state is not None:
        state = STATE_NAMES[task.exit_state]
    out = ["Name:\t%s\n" % name, umask,
           "State:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t%d\n"
           % (state, task.tgid, task.pid, task.ppid, tracer),
           "Uid:\t%d\t%d\t%d\t%d\n" % uids, "Gid:\t%d\t%d\t%d\t%d\n" % gids,
           "FDSize:\t%d\n" % fd_table_size(task.files),
           "Groups:\t%s \n" % " ".join(str(g) for g in groups),
           "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n"
           % (task.tgid, task.pid, task.signal.pgrp, task.signal.session)]
    if task.mm is not None:
        out.append(task_mem(task.mm))
    ign, cgt = _sig_ign_cgt(task)
    sigq = user_sigpending(task.kernel, task.cred.uid)     # the user's, as 4.14's task_sig()
    out.append("Threads:\t%d\nSigQ:\t%d/%d\n" % (
        len(task.thread_group_live()), sigq, task.rlim[RLIMIT_SIGPENDING][0]))
    out += ["SigPnd:\t%s\n" % _sigset(sigset_of(task.pending)),
            "ShdPnd:\t%s\n" % _sigset(sigset_of(task.signal.shared_pending)),
            "SigBlk:\t%s\n" % _sigset(task.blocked), "SigIgn:\t%s\n" % _sigset(ign),
            "SigCgt:\t%s\n" % _sigset(cgt)]
    c = task.cred
    out.append("CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\n"
               "CapAmb:\t%016x\n" % (c.cap_inheritable, c.cap_permitted, c.cap_effective,
                                      c.cap_bset, c.cap_ambient))
    # task_seccomp(): CONFIG_SECCOMP is not set (no Seccomp: line); the
    # 4.14.y backport of the SSB report says an A53 is not affected.
    out.append("NoNewPrivs:\t%d\nSpeculation_Store_Bypass:\tnot vulnerable\n"
               % int(task.no_new_privs))
    cpus = task.cpus_allowed
    out.append("Cpus_allowed:\t%x\nCpus_allowed_list:\t%s\n" % (cpus, cpu_list(cpus)))
    out.append("voluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n"
               % (task.nvcsw, task.nivcsw))
    return "".join(out)


def cpu_list(mask):
    """bitmap_print_to_pagebuf(list=true): "0-1", "0,2", "1"."""
    cpus = [i for i in range(mask.bit_length()) if mask >> i & 1]
    runs = []
    for c in cpus:
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ",".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in runs)


def proc_pid_statm(mm):
    """task_statm(): size resident shared text lib data 0, in pages."""
    if mm is None:
        return "0 0 0 0 0 0 0\n"
    text = (_page_align(mm.end_code) - (mm.start_code & ~(PAGE_SIZE - 1))) >> PAGE_SHIFT
    shared = mm.rss_file + mm.rss_shmem
    return "%d %d %d %d 0 %d 0\n" % (mm.total_vm, shared + mm.rss_anon, shared, text,
                                      mm.data_vm + mm.stack_vm)


def _ticks(seconds):
    return int(seconds * USER_HZ)


def proc_pid_stat(task, whole=True):
    """fs/proc/array.c: do_task_stat() — the 52 fields of 4.14.  Times are
    in USER_HZ ticks; whole (the /proc/PID file) sums the thread group."""
    mm = task.mm
    sig = task.signal
    threads = task.thread_group if whole else [task]
    # do_task_stat(): thread_group_cputime_adjusted() or task_cputime_adjusted()
    utime, stime = (ns / NSEC_PER_SEC for ns in (
        thread_group_cputime_adjusted(task) if whole else task_cputime_adjusted(task)))
    min_flt = sum(t.min_flt for t in threads)
    maj_flt = sum(t.maj_flt for t in threads)
    core = task.core.index if task.core is not None else task.last_cpu
    state = task.exit_state or task.state
    ign, cgt = _sig_ign_cgt(task)
    pending = sigset_of(task.pending) | sigset_of(sig.shared_pending)
    start = task.start_time
    rsslim = task.rlim[RLIMIT_RSS][0]
    if mm is not None:
        vm = [mm.total_vm << PAGE_SHIFT, mm.get_mm_rss(), rsslim, mm.start_code, mm.end_code,
              mm.start_stack]
        tail = [mm.start_data, mm.end_data, mm.start_brk, mm.arg_start, mm.arg_end,
                mm.env_start, mm.env_end]
    else:
        vm = [0, 0, rsslim, 0, 0, 0]
        tail = [0] * 7
    exit_code = task.exit_code if task.exit_state is not None else 0
    fields = ([task.pid, "(%s)" % task.comm, state, task.ppid, sig.pgrp, sig.session,
               0, -1, 0, min_flt, sig.cmin_flt, maj_flt, sig.cmaj_flt,
               _ticks(utime), _ticks(stime), _ticks(sig.cutime), _ticks(sig.cstime),
               DEFAULT_PRIO_FIELD,
               DEFAULT_NICE,
               len(task.thread_group_live()), 0, _ticks(start)] + vm +
              [0, 0, pending, task.blocked, ign, cgt, 0, 0, 0,
               task.exit_signal if task.exit_signal > 0 else 0, core, 0, 0, 0, 0, 0] +
              tail + [exit_code])
    return " ".join(str(f) for f in fields) + "\n"


def _remote_string(mm, start, end):
    if mm is None or end <= start:
        return b""
    return access_remote_vm(mm, start, end - start)


def proc_pid_cmdline(task):
    """proc_pid_cmdline_read(): the argument area as the process left it;
    if its final NUL was overwritten (setproctitle()), up to the first NUL
    of the environment that follows."""
    mm = task.mm
    if mm is None:
        return b""
    args = _remote_string(mm, mm.arg_start, mm.arg_end)
    if args[-1:] == b"\0":
        return args
    env = _remote_string(mm, mm.env_start, mm.env_end)
    nul = env.find(b"\0")
    return args + (env[:nul] if nul >= 0 else env)


def proc_pid_environ(task):
    mm = task.mm
    return _remote_string(mm, mm.env_start, mm.env_end) if mm is not None else b""


def proc_pid_auxv(task):
    """proc_pid_auxv(): mm->saved_auxv up to and including AT_NULL."""
    if task.mm is None:
        return b""
    return b"".join(struct.pack("<QQ", k, v & ((1 << 64) - 1)) for k, v in task.mm.saved_auxv)


def coredump_filter_write(task):
    """proc_coredump_filter_write(): a number (base 0: 0x33, 51, 063) whose
    low MMF_DUMP_FILTER_BITS bits become the mm's filter."""
    def write(p, pos, data):
        from kernel.coredump import MMF_DUMP_FILTER_BITS
        text = data.split(b"\0")[0].strip().lower()
        try:        # kstrtouint(base 0): 0x hex, a leading 0 octal, else decimal
            value = int(text, 16 if text.startswith(b"0x") else 8 if text[:1] == b"0" else 10)
        except ValueError:
            return -errno.EINVAL
        if not 0 <= value <= 0xFFFFFFFF:
            return -errno.EINVAL
        mm = _need(task.mm)
        mask = (1 << MMF_DUMP_FILTER_BITS) - 1
        mm.coredump_filter = (mm.coredump_filter & ~mask) | (value & mask)
        return len(data)
    return write


def _timerslack_ns_perm(current, task):
    """timerslack_ns_show()/_write(): another task's slack needs CAP_SYS_NICE."""
    if current is not task and not capable(current, CAP_SYS_NICE):
        raise PseudoError(-errno.EPERM)


def timerslack_ns_show(task):
    """timerslack_ns_show(): the task's timer slack (PR_SET_TIMERSLACK)."""
    def show(c):
        _timerslack_ns_perm(c.current, task)
        return "%d\n" % task.timer_slack_ns
    return show


def timerslack_ns_write(task):
    """timerslack_ns_write(): kstrtoull_from_user() (EINVAL, ERANGE), then
    CAP_SYS_NICE for another task (EPERM); 0 restores the default slack."""
    def write(p, pos, data):
        text = data.split(b"\0")[0]
        text = text[:-1] if text.endswith(b"\n") else text
        text = text[1:] if text.startswith(b"+") else text
        if not text.isdigit():
            return -errno.EINVAL
        value = int(text, 10)
        if value >> 64:
            return -errno.ERANGE
        try:
            _timerslack_ns_perm(p.ctx.current, task)
        except PseudoError as e:
            return e.err
        task.timer_slack_ns = value or task.default_timer_slack_ns
        return len(data)
    return write


def comm_write(task):
    """comm_write(): at most TASK_COMM_LEN-1 bytes, kept as written (a
    newline too); another process's comm: EINVAL."""
    def write(p, pos, data):
        if p.ctx.current.tgid != task.tgid:
            return -errno.EINVAL
        task.comm = data[:TASK_COMM_LEN - 1].split(b"\0")[0].decode("latin-1")
        return len(data)
    return write


# fs/proc/base.c: lnames[], the rows of /proc/PID/limits.
_LIMIT_NAMES = (("Max cpu time", "seconds"), ("Max file size", "bytes"),
                ("Max data size", "bytes"), ("Max stack size", "bytes"),
                ("Max core file size", "bytes"), ("Max resident set", "bytes"),
                ("Max processes", "processes"), ("Max open files", "files"),
                ("Max locked memory", "bytes"), ("Max address space", "bytes"),
                ("Max file locks", "locks"), ("Max pending signals", "signals"),
                ("Max msgqueue size", "bytes"), ("Max nice priority", None),
                ("Max realtime priority", None), ("Max realtime timeout", "us"))


def proc_pid_limits(task):
    """proc_pid_limits(): the table of the task's rlimits."""
    out = ["%-25s %-20s %-20s %-10s\n" % ("Limit", "Soft Limit", "Hard Limit", "Units")]
    for i, (name, unit) in enumerate(_LIMIT_NAMES):
        cur, lim = task.rlim[i]
        row = "%-25s %-20s " % (name, "unlimited" if cur == RLIM_INFINITY else cur)
        row += "%-20s " % ("unlimited" if lim == RLIM_INFINITY else lim)
        if unit:
            row += "%-10s" % unit
        out.append(row + "\n")
    return "".join(out)


def proc_fdinfo(task, fd):
    """seq_show() of fs/proc/fd.c: pos, flags (with O_CLOEXEC), mnt_id."""
    files = task.files
    file = files.fds.get(fd) if files is not None else None
    if file is None:
        raise PseudoError(-errno.ENOENT)
    pos = file.pos
    if file.host_fd is not None and getattr(file, "pseudo", None) is None:
        try:
            pos = os.lseek(file.host_fd, 0, os.SEEK_CUR)
        except OSError:
            pos = 0
    flags = file.flags | (O_CLOEXEC if fd in files.cloexec else 0)
    text = "pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\n" % (pos, flags, mnt_id_of(file))
    # f_op->show_fdinfo(): a descriptor kind adds its own lines (eventfd-count, ...).
    show = getattr(file, "show_fdinfo", None)
    return text + (show() if show is not None else "")


# -- pagemap ---------------------------------------------------------------------------------

def pte_to_pagemap_entry(kernel, vma, pte, show_pfn):
    """pte_to_pagemap_entry(): one 64-bit entry for a present or absent pte."""
    if not pte & PTE_PRESENT_MASK:
        return 0
    frame = pte & DESC_ADDR_MASK
    entry = PM_PRESENT | ((frame >> PAGE_SHIFT) & PM_PFRAME_MASK if show_pfn else 0)
    if pte & PTE_SPECIAL:
        return entry                    # the zero page: no struct page to describe
    pages = kernel.pages
    if not pages.flags[pages.index(frame)] & PG_anon:
        entry |= PM_FILE
    if pages.page_mapcount(frame) == 1:
        entry |= PM_MMAP_EXCLUSIVE
    return entry


def pagemap_entries(kernel, mm, start_vpn, count, show_pfn):
    """pagemap_read()'s walk_page_range(): count entries from virtual page
    start_vpn; addresses outside every VMA (pagemap_pte_hole()) and ranges
    without a page table read as 0, filled a run at a time."""
    from kernel.mm.mmap import find_vma
    pt = kernel.pgtable
    out = [0] * count
    addr = start_vpn << PAGE_SHIFT
    end = addr + (count << PAGE_SHIFT)
    while addr < end:
        vma = find_vma(mm, addr)
        if vma is None or vma.vm_start >= end:
            break
        addr = max(addr, vma.vm_start)
        while addr < min(vma.vm_end, end):
            ptep, span = pt.pte_lookup(mm, addr)
            if ptep is None:
                addr = (addr + span) & ~(span - 1) if span else addr + PAGE_SIZE
                continue
            out[(addr >> PAGE_SHIFT) - start_vpn] = pte_to_pagemap_entry(
                kernel, vma, pt.read_pte(ptep), show_pfn)
            addr += PAGE_SIZE
        addr = max(addr, vma.vm_end)
    return out


def pagemap_read(ctx, task):
    """fs/proc/task_mmu.c: pagemap_read() — the offset and the count must
    be multiples of 8 (EINVAL), reading past TASK_SIZE gives 0 bytes; the
    PFN field is zero unless the opener had CAP_SYS_ADMIN (4.2+, commit
    1c90308e7a77 "pagemap: hide physical addresses from non-privileged
    users")."""
    def read(p, pos, count):
        mm = task.mm
        if mm is None:
            return b""
        if pos % PM_ENTRY_BYTES or count % PM_ENTRY_BYTES:
            return -errno.EINVAL
        svpfn = pos // PM_ENTRY_BYTES
        last = mm.task_size >> PAGE_SHIFT
        n = min(count // PM_ENTRY_BYTES, max(0, last - svpfn), PAGEMAP_MAX_ENTRIES)
        values = pagemap_entries(ctx.kernel, mm, svpfn, n, p.show_pfn)
        return struct.pack("<%dQ" % len(values), *values)
    return read


# -- mounts ------------------------------------------------------------------------------------

class Mount:
    """struct mount as /proc/PID/mounts and mountinfo show it."""

    def __init__(self, mnt_id, parent, source, point, fstype, opts, dev):
        self.mnt_id, self.parent, self.source, self.point = mnt_id, parent, source, point
        self.fstype, self.opts, self.dev = fstype, opts, dev


ROOT_MNT_ID, PROC_MNT_ID, SYSFS_MNT_ID, PIPEFS_MNT_ID = 15, 16, 17, 12


def board_mounts(kernel):
    """The board's mount table: its root is the host's file tree (seen as
    User-Mode Linux's hostfs sees it: a file system of host files), with
    proc and sysfs over it.  Other parts append theirs to kernel.mounts."""
    root = kernel.sysroot if kernel.sysroot is not None else b"/"
    if getattr(kernel, "jail", None) is not None:
        root = kernel.jail
    dev = os.stat(root).st_dev
    base = [Mount(ROOT_MNT_ID, 1, "hostfs", "/", "hostfs", "rw,relatime", dev),
            Mount(PROC_MNT_ID, ROOT_MNT_ID, "proc", "/proc", "proc",
                  "rw,nosuid,nodev,noexec,relatime", PROC_SUPER_MAGIC_DEV),
            Mount(SYSFS_MNT_ID, ROOT_MNT_ID, "sysfs", "/sys", "sysfs",
                  "rw,nosuid,nodev,noexec,relatime", SYSFS_DEV)]
    return base + list(getattr(kernel, "mounts", []))


def mnt_id_of(file):
    if getattr(file, "pseudo", None) is not None:
        return SYSFS_MNT_ID if file.path.startswith("/sys") else PROC_MNT_ID
    if file.path.startswith("pipe:"):
        return PIPEFS_MNT_ID
    return ROOT_MNT_ID


def proc_mounts(ctx):
    """show_vfsmnt(): device mountpoint type options 0 0."""
    return "".join("%s %s %s %s 0 0\n" % (m.source, m.point, m.fstype, m.opts)
                   for m in board_mounts(ctx.kernel))


def proc_mountinfo(ctx):
    """show_mountinfo(): id parent major:minor root point options - type source super-options."""
    return "".join("%d %d %d:%d / %s %s - %s %s %s\n" % (
        m.mnt_id, m.parent, os.major(m.dev), os.minor(m.dev), m.point, m.opts, m.fstype,
        m.source, "rw") for m in board_mounts(ctx.kernel))


# -- global files ------------------------------------------------------------------------------

def proc_cpuinfo(ctx):
    """arch/arm64/kernel/cpuinfo.c: c_show() for each online Cortex-A53."""
    features = "".join(" " + name for name, _ in HWCAP_BITS)
    rate = BOARD_TIMER_HZ // 5000
    out = []
    for cpu in range(ctx.kernel.ncpus):
        out.append("processor\t: %d\nBogoMIPS\t: %d.%02d\nFeatures\t:%s\n"
                   "CPU implementer\t: 0x%02x\nCPU architecture: 8\nCPU variant\t: 0x%x\n"
                   "CPU part\t: 0x%03x\nCPU revision\t: %d\n\n"
                   % (cpu, rate // 100, rate % 100, features, MIDR_CORTEX_A53 >> 24,
                      (MIDR_CORTEX_A53 >> 20) & 0xF, (MIDR_CORTEX_A53 >> 4) & 0xFFF,
                      MIDR_CORTEX_A53 & 0xF))
    return "".join(out)


def _vmalloc_total_kb(va_bits):
    """VMALLOC_END - VMALLOC_START of arm64 4.14 (4 KiB pages, no KASAN)."""
    va_start = (1 << 64) - (1 << va_bits)
    page_offset = (1 << 64) - (1 << (va_bits - 1))
    vmemmap_size = (1 << (va_bits - PAGE_SHIFT - 1)) * STRUCT_PAGE_SIZE
    vmalloc_end = page_offset - PUD_SIZE_4K - vmemmap_size - (64 << 10)
    return (vmalloc_end - (va_start + MODULES_VSIZE)) >> 10


def _live_mms(kernel):
    seen = {}
    for t in kernel.tasks.values():
        if t.mm is not None and t.exit_state is None:
            seen[id(t.mm)] = t.mm
    return list(seen.values())


def meminfo_counts(kernel):
    """The page counters /proc/meminfo and sysinfo() read, from the frames."""
    pages = kernel.pages
    anon = mapped = 0
    for idx in range(pages._fresh):
        if pages._refcount[idx] <= 0 or pages.mapcount[idx] <= 0:
            continue
        if pages.flags[idx] & PG_anon:
            anon += 1
        else:
            mapped += 1
    cached = shmem = dirty = 0
    for mapping in kernel.page_cache.values():
        cached += len(mapping.pages)
        dirty += len(mapping.dirty)
    mms = _live_mms(kernel)
    for mm in mms:
        for vma in mm.vmas():
            f = vma.vm_file
            if f is not None and f.mapping is not None and f.mapping.host_fd is None:
                shmem += len(f.mapping.pages)
    tables = sum(sum(count_page_tables(mm)) + 1 for mm in mms)
    committed = sum((v.vm_end - v.vm_start) >> PAGE_SHIFT for mm in mms for v in mm.vmas()
                    if v.vm_flags & VM_ACCOUNT)
    return {"anon": anon, "mapped": mapped, "cached": cached, "shmem": shmem,
            "dirty": dirty, "tables": tables, "committed": committed}




def proc_meminfo(ctx):
    """fs/proc/meminfo.c: meminfo_proc_show() of 4.14 with this board's
    configuration (no swap, no highmem, no huge pages, no CMA)."""
    kernel = ctx.kernel
    pages = kernel.pages
    c = meminfo_counts(kernel)
    total, free = pages.nr_pages, pages.nr_free
    cached = c["cached"] + c["shmem"]
    rows = [("MemTotal", total), ("MemFree", free), ("MemAvailable", free + c["cached"]),
            ("Buffers", 0), ("Cached", cached), ("SwapCached", 0),
            ("Active", c["anon"] + cached), ("Inactive", 0),
            ("Active(anon)", c["anon"] + c["shmem"]), ("Inactive(anon)", 0),
            ("Active(file)", c["cached"]), ("Inactive(file)", 0), ("Unevictable", 0),
            ("Mlocked", sum(mm.locked_vm for mm in _live_mms(kernel))),
            ("SwapTotal", 0), ("SwapFree", 0), ("Dirty", c["dirty"]), ("Writeback", 0),
            ("AnonPages", c["anon"]), ("Mapped", c["mapped"]), ("Shmem", c["shmem"]),
            ("Slab", 0), ("SReclaimable", 0), ("SUnreclaim", 0)]
    out = "".join("%-16s%8d kB\n" % (k + ":", _kb(v)) for k, v in rows)
    out += "%-16s%8d kB\n" % ("KernelStack:", 0)
    rows = [("PageTables", c["tables"]), ("NFS_Unstable", 0), ("Bounce", 0),
            ("WritebackTmp", 0), ("CommitLimit", vm_commit_limit(kernel)),
            ("Committed_AS", c["committed"])]
    out += "".join("%-16s%8d kB\n" % (k + ":", _kb(v)) for k, v in rows)
    out += "%-16s%8d kB\n%-16s%8d kB\n%-16s%8d kB\n" % (
        "VmallocTotal:", _vmalloc_total_kb(kernel.board.mmu.va_bits), "VmallocUsed:", 0,
        "VmallocChunk:", 0)
    return out


def board_uptime(kernel):
    """Seconds since boot, by the kernel's clock (host time, or retired
    instructions under --deterministic)."""
    return kernel.sched.clock()


def cpu_times(kernel):
    """Per core (user, idle) in seconds: the time tasks ran on it, and the
    rest of the uptime."""
    up = board_uptime(kernel)
    user = [0.0] * kernel.ncpus
    for t in kernel.tasks.values():
        user[min(t.last_cpu, kernel.ncpus - 1)] += t.utime
    return [(u, max(0.0, up - u)) for u in user]


def proc_stat(ctx):
    """fs/proc/stat.c: show_stat() — the cpu lines in USER_HZ ticks, then
    intr, ctxt, btime, processes, procs_running, procs_blocked, softirq."""
    kernel = ctx.kernel
    times = cpu_times(kernel)

    def line(name, user, idle):
        return "%s %d 0 0 %d 0 0 0 0 0 0\n" % (name, _ticks(user), _ticks(idle))
    out = [line("cpu ", sum(u for u, _ in times), sum(i for _, i in times))]
    out += [line("cpu%d" % i, u, idle) for i, (u, idle) in enumerate(times)]
    btime = kernel.sched.boot_real_ns // NSEC_PER_SEC
    running = sum(1 for t in kernel.tasks.values() if t.exit_state is None and t.state == "R")
    out.append("intr 0\nctxt %d\nbtime %d\nprocesses %d\nprocs_running %d\n"
               "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"
               % (sum(kernel.sched.nr_switches), btime, kernel.total_forks, running))
    return "".join(out)


def proc_uptime(ctx):
    """uptime_proc_show(): uptime and the idle time summed over the cores."""
    up = board_uptime(ctx.kernel)
    idle = sum(i for _, i in cpu_times(ctx.kernel))
    return "%d.%02d %d.%02d\n" % (int(up), int(up * 100) % 100, int(idle), int(idle * 100) % 100)


# kernel/sched/loadavg.c: fixed-point load averages, updated every LOAD_FREQ.
FSHIFT = 11
FIXED_1 = 1 << FSHIFT
EXP_1, EXP_5, EXP_15 = 1884, 2014, 2037
LOAD_FREQ = (5 * 250 + 1) / 250             # 5*HZ+1 ticks at CONFIG_HZ=250, in seconds
MAX_LOAD_PERIODS = 4096                     # enough for EXP_15 to forget everything


def calc_load(load, exp, active):
    """calc_load(): one step of the exponential average (rounding up while rising)."""
    newload = load * exp + active * (FIXED_1 - exp)
    if active >= load:
        newload += FIXED_1 - 1
    return newload // FIXED_1


def nr_active(kernel):
    """calc_load_fold_active(): runnable threads (the board has no
    uninterruptible sleep)."""
    return sum(1 for t in kernel.tasks.values() if t.exit_state is None and t.state == "R")


def calc_global_load(kernel):
    """calc_global_load(), run lazily: every LOAD_FREQ period since the last
    update is applied with the number of runnable threads now, as
    calc_global_nohz() does for the periods a tickless kernel slept through.
    Returns avenrun[3] (fixed point); /proc/loadavg and sysinfo() read it."""
    now = board_uptime(kernel)
    state = getattr(kernel, "avenrun", None)
    if state is None:
        state = kernel.avenrun = {"load": [0, 0, 0], "next": LOAD_FREQ}
    periods = 0
    while now >= state["next"]:
        state["next"] += LOAD_FREQ
        periods += 1
    if periods:
        active = nr_active(kernel) * FIXED_1
        load = state["load"]
        for _ in range(min(periods, MAX_LOAD_PERIODS)):
            load = [calc_load(v, e, active) for v, e in zip(load, (EXP_1, EXP_5, EXP_15))]
        state["load"] = load
    return list(state["load"])


def proc_loadavg(ctx):
    """loadavg_proc_show(): the three averages, runnable/total threads, the
    last pid given out."""
    kernel = ctx.kernel
    loads = [v + FIXED_1 // 200 for v in calc_global_load(kernel)]
    live = [t for t in kernel.tasks.values() if t.exit_state is None]
    text = " ".join("%d.%02d" % (v >> FSHIFT, ((v & (FIXED_1 - 1)) * 100) >> FSHIFT)
                    for v in loads)
    return "%s %d/%d %d\n" % (text, nr_active(kernel), len(live), kernel.last_pid)


def proc_version(ctx):
    """version_proc_show(): linux_proc_banner with the uname fields."""
    from kernel.utsname import utsname
    uts = utsname(ctx.kernel)
    return "Linux version %s (a53emu@a53emu) (a53emu mini-kernel, Python) %s\n" % (
        uts["release"], uts["version"])


FILESYSTEMS = (("nodev", "sysfs"), ("nodev", "rootfs"), ("nodev", "tmpfs"),
               ("nodev", "proc"), ("nodev", "pipefs"), ("nodev", "hostfs"))


def proc_filesystems(ctx):
    """filesystems_proc_show(): "nodev" for the ones without a device."""
    return "".join("%s\t%s\n" % fs for fs in FILESYSTEMS)


def proc_config_gz(ctx):
    """kernel/configs.c: ikconfig_read_current() — the gzipped .config."""
    import gzip         # here, not at start-up (issue 8)
    from kernel.sys_ni import kernel_config
    return gzip.compress(kernel_config(ctx.kernel).encode(), mtime=0)


def _sysctl(path, show, write=None, mode=0o444):
    proc_create(path, lambda c: show(c) + "\n", mode=pystat.S_IFREG | mode, write=write)


def _uts_write(field):
    """proc_do_uts_string(): a new name (to the first newline), CAP_SYS_ADMIN."""
    def write(p, pos, data):
        from kernel.utsname import set_uts
        if not capable(p.ctx.current, CAP_SYS_ADMIN):
            return -errno.EPERM
        value = data.split(b"\n")[0].split(b"\0")[0]
        set_uts(p.ctx.kernel, field, value.decode("latin-1")[:64])
        return len(data)
    return write


INT_MAX = (1 << 31) - 1
ULONG_MAX = (1 << 64) - 1


def _overcommit_write(field, lo, hi, clears=None):
    """kernel/sysctl.c's vm.overcommit_* entries: proc_dointvec_minmax
    (overcommit_memory, 0..2), overcommit_ratio_handler and
    overcommit_kbytes_handler (setting one clears the other)."""
    def write(p, pos, data):
        try:
            value = int(data.split()[0])
        except (ValueError, IndexError):
            return -errno.EINVAL
        if not lo <= value <= hi:
            return -errno.EINVAL
        pol = policy(p.ctx.kernel)
        setattr(pol, field, value)
        if clears is not None:
            setattr(pol, clears, 0)
        return len(data)
    return write


def _max_map_count_write(p, pos, data):
    """proc_dointvec_minmax() for vm.max_map_count (root only by its mode)."""
    try:
        value = int(data.split()[0])
    except (ValueError, IndexError):
        return -errno.EINVAL
    if value < 0:
        return -errno.EINVAL
    p.ctx.kernel.max_map_count = value
    return len(data)


def _core_pattern_write(p, pos, data):
    """proc_dostring_coredump(): the new pattern, to the first newline,
    cut to CORENAME_MAX_SIZE - 1 bytes (root only by its mode)."""
    from kernel.coredump import CORENAME_MAX_SIZE
    p.ctx.kernel.core_pattern = data.split(b"\n")[0].split(b"\0")[0][:CORENAME_MAX_SIZE - 1]
    return len(data)


def _core_uses_pid_write(p, pos, data):
    """proc_dointvec() for kernel.core_uses_pid."""
    try:
        p.ctx.kernel.core_uses_pid = int(data.split()[0])
    except (ValueError, IndexError):
        return -errno.EINVAL
    return len(data)


def _lease_break_time(ctx):
    from kernel.fs.leases import lease_break_time     # leases imports locks, attr
    return str(lease_break_time(ctx.kernel))


def _lease_break_time_write(p, pos, data):
    """proc_dointvec() for fs.lease-break-time (root only by its mode)."""
    try:
        value = int(data.split()[0])
    except (ValueError, IndexError):
        return -errno.EINVAL
    if not -INT_MAX - 1 <= value <= INT_MAX:
        return -errno.EINVAL
    p.ctx.kernel.lease_break_time = value
    return len(data)


def _pipe_max_size(ctx):
    """fs.pipe-max-size: F_SETPIPE_SZ sizes the host's own pipe
    (kernel/fs/fcntl.py), so the host's limit is the board's; read-only
    here, as the board cannot change the host's (4.14's file is 0644)."""
    try:
        with open("/proc/sys/fs/pipe-max-size") as f:
            return f.read().strip()
    except OSError:
        from kernel.fs.pipe import HOST_READ_MAX      # 4.14's default, 1 MiB
        return str(HOST_READ_MAX)


def _uts(field):
    def show(c):
        from kernel.utsname import utsname
        return utsname(c.kernel)[field]
    return show


def cpu_online_mask(kernel):
    return (1 << kernel.ncpus) - 1


def _register_globals():
    for name in ("shm", "sem", "msg"):          # kernel/ipc (issue 9 part 5)
        proc_create("/proc/sysvipc/" + name,
                    lambda ctx, name=name: sysvipc_proc_show(ctx.kernel, name),
                    mode=pystat.S_IFREG | 0o444)
    proc_create("/proc/cpuinfo", proc_cpuinfo, mode=pystat.S_IFREG | 0o444)
    proc_create("/proc/meminfo", proc_meminfo, mode=pystat.S_IFREG | 0o444)
    proc_create("/proc/stat", proc_stat, mode=pystat.S_IFREG | 0o444)
    proc_create("/proc/uptime", proc_uptime, mode=pystat.S_IFREG | 0o444)
    proc_create("/proc/loadavg", proc_loadavg, mode=pystat.S_IFREG | 0o444)
    proc_create("/proc/version", proc_version, mode=pystat.S_IFREG | 0o444)
    proc_create("/proc/filesystems", proc_filesystems, mode=pystat.S_IFREG | 0o444)
    proc_create("/proc/mounts", proc_mounts, mode=pystat.S_IFREG | 0o444)
    proc_create("/proc/config.gz", proc_config_gz, mode=pystat.S_IFREG | 0o444)
    # /proc/sys/vm: the overcommit policy (kernel/mm/overcommit.py).
    _sysctl("/proc/sys/vm/overcommit_memory", lambda c: str(policy(c.kernel).memory),
            write=_overcommit_write("memory", OVERCOMMIT_GUESS, OVERCOMMIT_NEVER), mode=0o644)
    _sysctl("/proc/sys/vm/overcommit_ratio", lambda c: str(policy(c.kernel).ratio),
            write=_overcommit_write("ratio", 0, INT_MAX, clears="kbytes"), mode=0o644)
    _sysctl("/proc/sys/vm/overcommit_kbytes", lambda c: str(policy(c.kernel).kbytes),
            write=_overcommit_write("kbytes", 0, ULONG_MAX, clears="ratio"), mode=0o644)
    _sysctl("/proc/sys/vm/admin_reserve_kbytes",
            lambda c: str(policy(c.kernel).admin_reserve_kbytes))
    _sysctl("/proc/sys/vm/user_reserve_kbytes",
            lambda c: str(policy(c.kernel).user_reserve_kbytes))
    _sysctl("/proc/sys/vm/max_map_count", lambda c: str(c.kernel.max_map_count),
            write=_max_map_count_write, mode=0o644)
    _sysctl("/proc/sys/vm/mmap_min_addr", lambda c: str(_mmap_min_addr()))
    _sysctl("/proc/sys/vm/swappiness", lambda c: "60")
    _sysctl("/proc/sys/kernel/core_pattern", lambda c: os.fsdecode(c.kernel.core_pattern),
            write=_core_pattern_write, mode=0o644)
    _sysctl("/proc/sys/kernel/core_uses_pid", lambda c: str(c.kernel.core_uses_pid),
            write=_core_uses_pid_write, mode=0o644)
    _sysctl("/proc/sys/kernel/threads-max", lambda c: str(c.kernel.max_threads))
    _sysctl("/proc/sys/kernel/ostype", _uts("sysname"))
    _sysctl("/proc/sys/kernel/osrelease", _uts("release"))
    _sysctl("/proc/sys/kernel/version", _uts("version"))
    _sysctl("/proc/sys/kernel/hostname", _uts("nodename"), write=_uts_write("nodename"),
            mode=0o644)
    _sysctl("/proc/sys/kernel/domainname", _uts("domainname"),
            write=_uts_write("domainname"), mode=0o644)
    _sysctl("/proc/sys/kernel/yama/ptrace_scope", lambda c: "3")
    # /proc/sys/fs (fs/locks.c, fs/pipe.c)
    _sysctl("/proc/sys/fs/lease-break-time", _lease_break_time,
            write=_lease_break_time_write, mode=0o644)
    _sysctl("/proc/sys/fs/pipe-max-size", _pipe_max_size)
    # fs/notify/inotify/inotify_user.c (kernel/fs/inotify.py)
    from kernel.fs import inotify_sysctl as inotify
    _sysctl("/proc/sys/fs/inotify/max_user_instances", inotify.show_max_user_instances,
            write=inotify.write_max_user_instances, mode=0o644)
    for name in ("max_queued_events", "max_user_watches"):
        _sysctl("/proc/sys/fs/inotify/" + name, inotify.host_limit(name))
    # drivers/char/random.c: proc_do_uuid() — a fresh version-4 UUID per
    # read of uuid, one fixed for the whole boot in boot_id.
    _sysctl("/proc/sys/kernel/random/uuid", lambda c: _uuid4())
    _sysctl("/proc/sys/kernel/random/boot_id", _boot_id)
    proc_create("/proc/cmdline", proc_cmdline, mode=pystat.S_IFREG | 0o444)
    _sysctl("/proc/sys/kernel/randomize_va_space", lambda c: "0")
    # /sys/devices/system/cpu (drivers/base/cpu.c): the board's cores.
    for name in ("online", "possible", "present"):
        proc_create("/sys/devices/system/cpu/" + name,
                    lambda c: cpu_list(cpu_online_mask(c.kernel)) + "\n",
                    mode=pystat.S_IFREG | 0o444)
    proc_create("/sys/devices/system/cpu/offline", lambda c: "\n", mode=pystat.S_IFREG | 0o444)
    proc_create("/sys/devices/system/cpu/kernel_max", lambda c: str(c.kernel.ncpus - 1) + "\n",
                mode=pystat.S_IFREG | 0o444)


def _uuid4():
    import uuid         # here, not at start-up: uuid imports platform (issue 8)
    return str(uuid.uuid4())


def _boot_id(ctx):
    kernel = ctx.kernel
    if getattr(kernel, "boot_id", None) is None:
        kernel.boot_id = _uuid4()
    return kernel.boot_id


def proc_cmdline(ctx):
    """cmdline_proc_show(): the board's boot parameters, as the kernel
    parameters that would give a real kernel this board (mem=, nr_cpus=)."""
    kernel = ctx.kernel
    return "mem=%dM nr_cpus=%d\n" % (kernel.memory.size >> 20, kernel.ncpus)


def _mmap_min_addr():
    from kernel.mm.mmap import MMAP_MIN_ADDR
    return MMAP_MIN_ADDR


def sys_cpu_dirs(ctx):
    """/sys/devices/system/cpu/cpuN (drivers/base/cpu.c register_cpu()):
    one directory per core of this board."""
    out = []
    for cpu in range(ctx.kernel.ncpus):
        base = "/sys/devices/system/cpu/cpu%d" % cpu
        files = {"online": "1\n",
                 "regs/identification/midr_el1": "0x%016x\n" % MIDR_CORTEX_A53,
                 "topology/core_id": "%d\n" % cpu,
                 "topology/physical_package_id": "0\n"}
        out.append(("cpu%d" % cpu, _static_tree(base, files)))
    return out


def _static_tree(base, files):
    """A directory of fixed texts, {relative path: text}."""
    def children():
        out = {}
        for rel, text in files.items():
            name, _, rest = rel.partition("/")
            if rest:
                sub = {r.partition("/")[2]: t for r, t in files.items()
                       if r.partition("/")[0] == name}
                out[name] = _static_tree(base + "/" + name, sub)
            else:
                out[name] = Entry("file", base + "/" + name, pystat.S_IFREG | 0o444,
                                  show=lambda c, text=text: text)
        return list(out.items())
    return Entry("dir", base, pystat.S_IFDIR | 0o555, children=children)


PSEUDO_DIRS["/sys/devices/system/cpu"] = sys_cpu_dirs
_register_globals()
# /proc/sys/kernel's IPC limits register themselves (ipc_sysctl_init()); a
# lazy system-call table may not have imported kernel/ipc yet.
from kernel.ipc import ipc_sysctl  # noqa: E402,F401
# kernel.tainted, kernel.pid_max, fs.pipe-user-pages-* (kernel/sysctl.py).
from kernel import sysctl  # noqa: E402,F401
