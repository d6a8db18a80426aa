"""fs/exec.c + fs/binfmt_script.c: execve() — a process gets a new program.

do_execveat_common() copies the argument and environment strings out of
the old address space, finds a format that recognises the file (`#!`
scripts: binfmt_script, which execs the interpreter instead; ELF:
load_elf_binary into a *new* mm), and only then, past the point of no
return, throws the old program away: other threads die (de_thread), the
old mm is released with every frame and table (exec_mmap → mmput),
close-on-exec descriptors are closed, caught signals revert to SIG_DFL,
and the registers are those of the new program's first instruction.
Before that point every failure is an errno for the old program.
"""

import errno
import os

from emu.cpu import initial_context
from kernel.binfmt_elf import ExecError, check_exec_file, load_elf_binary, open_exec_error
from kernel.cred import commit_creds, prepare_exec_creds, user_processes
from kernel.exit import (
    complete_vfork_done, do_exit, mm_release, mmput, release_task, setmax_mm_hiwater_rss,
)
from kernel.fs.leases import board_files
from kernel.fs.namei import PathError, guest_absolute, host_path, task_root, user_path
from kernel.fs.permission import may_exec, may_exec_file
from kernel.fs.proc import guest_name, proc_pid_task
from kernel.mm.page_alloc import OutOfMemory
from kernel.sched.task import EXIT_ZOMBIE, SigHand
from kernel.signal import SIG_IGN, force_sig_fault
from kernel.time.posix_timers import exit_itimers
from kernel.syscalls.table import syscall
from kernel.uaccess import Efault, s32
from kernel.uapi import (
    AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, RLIMIT_NPROC, RLIMIT_STACK, SI_KERNEL, SIGCHLD,
    SIGSEGV,
)

# include/uapi/linux/binfmts.h
MAX_ARG_STRLEN = 32 * 4096          # one string
MAX_ARG_STRINGS = 0x7FFFFFFF
BINPRM_BUF_SIZE = 128               # what binfmt_script sees of a `#!` line (4.14)
MAX_INTERP_DEPTH = 4                # search_binary_handler's recursion limit (ELOOP)


def copy_strings(task, addr):
    """The NULL-terminated array of strings at user addr, as bytes objects.
    Raises Efault, or ExecError(E2BIG) for a string longer than
    MAX_ARG_STRLEN."""
    out = []
    if not addr:
        return out
    um = task.uaccess
    while True:
        ptr = int.from_bytes(um.copy_from_user(addr + 8 * len(out), 8), "little")
        if not ptr:
            return out
        s = um.strncpy_from_user(ptr, MAX_ARG_STRLEN)
        if len(s) >= MAX_ARG_STRLEN:
            raise ExecError(126, "Argument list too long", errno.E2BIG)
        out.append(s)
        if len(out) >= MAX_ARG_STRINGS:
            raise ExecError(126, "Argument list too long", errno.E2BIG)


def _check_size(task, argv, envp):
    """bprm_stack_limits(): argv + envp may use a quarter of RLIMIT_STACK."""
    size = sum(len(s) + 1 + 8 for s in argv + envp)
    if size > task.rlim[RLIMIT_STACK][0] // 4:
        raise ExecError(126, "Argument list too long", errno.E2BIG)


def load_script(head, filename, argv):
    """load_script(): for a `#!interp [arg]` file, the interpreter's guest
    path and the new argv (interp, [arg], filename, argv[1:]); None if the
    file is not a script.  The line is cut at BINPRM_BUF_SIZE as 4.14 does."""
    if head[:2] != b"#!":
        return None
    line = head[:BINPRM_BUF_SIZE - 1]
    nl = line.find(b"\n")
    if nl >= 0:
        line = line[:nl]
    line = line[2:].strip(b" \t")
    if not line:
        raise ExecError(126, "exec format error: empty #! line", errno.ENOEXEC)
    parts = line.split(None, 1)
    interp = parts[0]
    new_argv = [interp]
    if len(parts) > 1:
        new_argv.append(parts[1].strip(b" \t"))
    return interp, new_argv + [filename] + argv[1:]


def _open_exec(task, dirfd, name, flags):
    """open_exec(): the host path of the program name (relative to dirfd,
    absolute ones inside --sysroot), after the checks that give ENOENT /
    EACCES / ENOTDIR."""
    if not name and flags & AT_EMPTY_PATH:
        file = task.files.get(s32(dirfd))
        if file is None:
            raise ExecError(126, "Bad file descriptor", errno.EBADF)
        err = may_exec_file(task, file.host_fd) if file.host_fd is not None else 0
        if err:
            raise ExecError(126, os.strerror(-err), -err)
        return "/proc/self/fd/%d" % file.host_fd
    guest = guest_absolute(task, dirfd, name).split("/")
    if len(guest) == 4 and guest[1] == "proc" and guest[3] == "exe":
        target = proc_pid_task(task.kernel, task, guest[2])
        if target is not None:
            exe = os.fsencode(target.mm.exe_file)     # /proc/self/exe: the program itself
            inside = guest_name(task.kernel, target.mm.exe_file)
            if task_root(task) is None or inside == target.mm.exe_file:
                return exe
            name, dirfd = os.fsencode(inside), AT_FDCWD   # below the root: looked up again
    follow = not flags & AT_SYMLINK_NOFOLLOW
    try:
        dir_fd, path = host_path(task, dirfd, name, follow)
    except PathError as e:
        raise ExecError(126, os.strerror(-e.err), -e.err)
    err = may_exec(task, dir_fd, path, follow=follow)
    if err:
        raise ExecError(126, os.strerror(-err), -err)
    if dir_fd is not None:
        path = os.path.join(b"/proc/self/fd/%d" % dir_fd, path)
        if not follow and os.path.islink(path):
            raise ExecError(126, "Too many levels of symbolic links", errno.ELOOP)
        # The name the loader opens: below a root, the last component is
        # no symlink (host_path() followed it there), so nothing the guest
        # made is followed by the host from here on.
        path = os.path.realpath(path)
    if not follow and os.path.islink(path):
        raise ExecError(126, "Too many levels of symbolic links", errno.ELOOP)
    return path


def deny_write_access(task, host):
    """deny_write_access() in do_open_execat(): a file that a process of the
    board has open for writing cannot be executed (ETXTBSY; i_writecount > 0).
    Omits the converse (the running program's i_writecount < 0, which makes
    an open for writing ETXTBSY): the board's opens do not check it."""
    try:
        st = os.stat(host)
    except OSError:
        return                          # the open that follows reports it
    if any(f.writable for f in board_files(task.kernel, (st.st_dev, st.st_ino))):
        raise ExecError(126, os.strerror(errno.ETXTBSY), errno.ETXTBSY)


def do_execveat_common(task, core, dirfd, filename, argv, envp, flags):
    """do_execveat_common(): 0 (the task now runs the new program) or -errno."""
    kernel = task.kernel
    if task.nproc_exceeded and \
            user_processes(kernel, task.cred.uid) > task.rlim[RLIMIT_NPROC][0]:
        raise ExecError(126, "Resource temporarily unavailable", errno.EAGAIN)
    task.nproc_exceeded = False
    name = filename
    for _ in range(MAX_INTERP_DEPTH + 1):
        host = _open_exec(task, dirfd, name, flags)
        check_exec_file(host)           # EACCES for a FIFO, never opened (it would block)
        deny_write_access(task, host)
        try:
            with open(host, "rb") as f:
                head = f.read(BINPRM_BUF_SIZE)
        except OSError as e:
            raise open_exec_error(e)
        script = load_script(head, name, argv)
        if script is None:
            break
        if not os.access(host, os.X_OK):
            raise ExecError(126, "Permission denied", errno.EACCES)
        name, argv = script
        dirfd, flags = -100, 0          # the interpreter is looked up from /, or the cwd
    else:
        raise ExecError(126, "Too many levels of interpreters", errno.ELOOP)
    _check_size(task, argv, envp)
    old_mm = task.mm
    new_mm = kernel.mm_alloc(task)
    if old_mm is not None:
        new_mm.coredump_filter = old_mm.coredump_filter     # mm_init(): MMF_INIT_MASK kept
    task.mm = new_mm
    cred, secureexec = prepare_exec_creds(task)
    fatal = None
    try:
        load_elf_binary(kernel, task, host, argv, envp, execfn=filename,
                        cred=cred, secureexec=secureexec)
    except ExecError as e:
        if not e.fatal:
            task.mm = old_mm
            mmput(new_mm)
            raise
        fatal = e
    except BaseException:
        task.mm = old_mm
        mmput(new_mm)
        raise
    # The point of no return.
    task.mm = old_mm
    de_thread(task)
    mm_release(task)
    task.mm = new_mm
    kernel.sched.switch_mm(core, new_mm)
    setmax_mm_hiwater_rss(task.signal, old_mm)      # exec_mmap()
    mmput(old_mm)
    install_exec_creds(task, cred, secureexec)
    setup_new_exec(task, name, argv)
    if fatal is not None and fatal.oom:
        kernel.oom_kill(task.mm)        # the allocator's OOM killer: SIGKILL
        return -fatal.errno
    if fatal is not None:
        # search_binary_handler(): a failure past flush_old_exec() is
        # force_sigsegv(); the errno returned is never seen.
        force_sig_fault(task, SIGSEGV, SI_KERNEL, None, "execve: " + fatal.reason)
        return -fatal.errno
    core.load_context(initial_context(task.entry, task.sp))
    trace = kernel.trace
    if trace.syscall:
        trace.emit("exec", task=task, filename=filename)
    return 0


def de_thread(task):
    """de_thread(): the other threads of the group die at once, and a
    non-leader that execs takes over the leader's pid."""
    for t in list(task.thread_group):
        if t is not task and t.exit_state is None:
            t.pending.clear()
            do_exit(t, 0)
    leader = task.group_leader
    if leader is task:
        return
    kernel = task.kernel
    # The exec'ing thread becomes the leader, under the leader's pid.
    old_pid = task.pid
    kernel.tasks.pop(old_pid, None)
    task.pid = leader.pid
    kernel.tasks[task.pid] = task
    task.real_parent = leader.real_parent
    task.children = leader.children
    for child in task.children:
        child.real_parent = task
    parent = task.real_parent
    if parent is not None and leader in parent.children:
        parent.children[parent.children.index(leader)] = task
    task.exit_signal = SIGCHLD
    task.group_leader = task
    for t in task.thread_group:
        t.group_leader = task
    if leader in task.thread_group:
        task.thread_group.remove(leader)
    leader.exit_state = EXIT_ZOMBIE
    leader.real_parent = None
    leader.pid = old_pid
    release_task(leader)
    kernel.tasks[task.pid] = task


def install_exec_creds(task, cred, secureexec):
    """install_exec_creds() + setup_new_exec(): the new program is dumpable
    unless its effective ids differ from its real ones; a secure exec
    forgets the parent-death signal."""
    commit_creds(task, cred)
    c = task.cred
    task.signal.dumpable = int(c.euid == c.uid and c.egid == c.gid)
    if secureexec:
        task.pdeath_signal = 0


def setup_new_exec(task, name, argv):
    """setup_new_exec() + flush_signal_handlers() + do_close_on_exec()."""
    task.comm = os.path.basename(os.fsdecode(name))[:15]
    task.argv = [os.fsdecode(a) for a in argv]
    task.did_exec = True
    task.sas = (0, 2, 0)
    if task.files.users > 1:
        shared = task.files
        task.files = shared.copy()      # unshare_files()
        shared.put()
    task.files.do_close_on_exec()
    # Caught signals revert to SIG_DFL; ignored ones stay ignored.
    task.sighand = SigHand({sig: (SIG_IGN, 0, 0, 0) for sig, act in task.sighand.action.items()
                            if act[0] == SIG_IGN})
    task.robust_list = (0, 0)
    task.clear_child_tid = 0
    exit_itimers(task.signal, task.kernel)     # de_thread(): POSIX timers do not survive exec
    complete_vfork_done(task)


def _execve(task, dirfd, filename_addr, argv_addr, envp_addr, flags):
    try:
        filename = user_path(task, filename_addr) if filename_addr or not flags & AT_EMPTY_PATH \
            else b""
    except PathError as e:
        return e.err
    if not filename and not flags & AT_EMPTY_PATH:
        return -errno.ENOENT
    try:
        argv = copy_strings(task, argv_addr)
        envp = copy_strings(task, envp_addr)
        return do_execveat_common(task, task.core, dirfd, filename, argv, envp, flags)
    except ExecError as e:
        return -e.errno
    except OutOfMemory:
        return -errno.ENOMEM
    except Efault:
        return -errno.EFAULT


@syscall("execve", "path argv envp")
def sys_execve(task, filename, argv, envp):
    return _execve(task, -100, filename, argv, envp, 0)


@syscall("execveat", "dirfd path argv envp atflags")
def sys_execveat(task, dirfd, filename, argv, envp, flags):
    if flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW):
        return -errno.EINVAL
    return _execve(task, dirfd, filename, argv, envp, flags)
