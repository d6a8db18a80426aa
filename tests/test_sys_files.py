"""Issue 9 part 2: files and directories, checked against the real kernel.

userland/src/sys_files.c calls truncate, fallocate, statfs/fstatfs,
utimensat, linkat, symlinkat, mknodat, sync/syncfs/sync_file_range,
fadvise64, readahead, flock, preadv/pwritev/preadv2/pwritev2,
copy_file_range, sendfile, splice/tee/vmsplice, openat's flags and
name_to_handle_at with syscall(2), each with its error cases, and prints
only what is the same on every Linux (no inode, time or disk size).  It is
built for the host and for AArch64 (musl, glibc), as the issue 6 programs
are (tests/test_processes.py):

* the host build passes on the host kernel, and leaves nothing behind;
* the AArch64 build under a53emu prints exactly what the host build
  printed, byte for byte.  Where the host kernel's answer differs from
  4.14's, the program does not ask (the differences are listed in
  HOST_NEWER_THAN_4_14 below, with the reason), since the answer would
  depend on the host's version;
* the AArch64 build under qemu-aarch64 prints what the host build printed,
  in the `no-rwf2` mode (qemu-user 7.2 has no preadv2/pwritev2).

name_to_handle_at on an existing file gives the host file system's
handle (kernel/fs/fhandle.py; the board opens only the handles it
issued); the `handles` mode prints that one answer, which depends on the
host's file system.

Then in-process checks of what the program cannot reach from a root
shell: a guest that is not root (mknodat of a device node, linkat with
AT_EMPTY_PATH, open_by_handle_at), copy_file_range across two host file
systems, and the strace formats.
"""

import errno
import os
import stat
import types

import pytest

from conftest import run_a53emu, run_qemu, userland_path
from kernel.sched.task import default_rlimits
from kernel.cred import Cred
from test_processes import (
    assert_passed, check_a53emu_matches_host_kernel, check_host_kernel, clean_env,
    host_kernel_version, run_host, scratch_dir,
)

PROGRAM = "sys_files"
TIMEOUT_EMU = 600

O_CREAT_DIRECTORY = (
    "4.14 creates a regular file for a missing name and refuses existing ones "
    "(ENOTDIR, EISDIR, EEXIST with O_EXCL); v6.4, commit 43b450632676 'open: return "
    "EINVAL for O_DIRECTORY | O_CREAT', refuses the combination (v5.7-v6.3 differ again)")

# Where the host kernel (6.x) answers differently from 4.14, which a53emu
# follows, the main run does not ask; the `4.14` mode asks each of these and
# prints one line.  (line, 4.14's answer, newer kernels' answer, why.)  a53emu
# must print 4.14's; the host must print one of the two (so each line still
# asks what it says it asks).
KERNEL_4_14 = (
    ("utimensat bad nsec, missing path", "EINVAL", "ENOENT",
     "4.14's do_utimes() checks the times before the lookup; newer kernels look the "
     "path up first"),
    ("utimensat AT_EMPTY_PATH", "EINVAL", "0",
     "4.14 allows only AT_SYMLINK_NOFOLLOW; AT_EMPTY_PATH came later"),
    ("sync_file_range bad fd, bad flags", "EINVAL", "EBADF",
     "4.14 checks the flags before fdget(); newer kernels split out ksys_sync_file_range()"),
    ("preadv write-only fd, bad iovec array", "EFAULT", "EBADF",
     "4.14's vfs_readv() imports the iovec before checking FMODE_READ"),
    ("preadv2 RWF_APPEND", "EOPNOTSUPP", "4", "RWF_APPEND came in v4.16"),
    ("pwritev2 RWF_APPEND", "EOPNOTSUPP", "4", "RWF_APPEND came in v4.16"),
    ("pwritev2 0x100", "EOPNOTSUPP", "4", "4.14 knows RWF_HIPRI..RWF_NOWAIT only"),
    ("copy_file_range flags 1, bad fd", "EINVAL", "EBADF",
     "4.14 checks the flags before the descriptors"),
    ("copy_file_range negative offset", "EINVAL", "EOVERFLOW",
     "4.14's rw_verify_area() says EINVAL; newer generic_copy_file_checks() EOVERFLOW"),
    ("fallocate COLLAPSE_RANGE|KEEP_SIZE", "EINVAL", "EOPNOTSUPP",
     "4.14's vfs_fallocate() refuses COLLAPSE_RANGE with other bits as EINVAL; the "
     "fallocate mode rework of v6.12 answers EOPNOTSUPP"),
    ("splice flags 0x100", "5", "EINVAL", "4.14 ignores unknown SPLICE_F_* bits"),
    ("tee flags 0x100", "5", "EINVAL", "4.14 ignores unknown SPLICE_F_* bits"),
    ("vmsplice flags 0x100", "4", "EINVAL", "4.14 ignores unknown SPLICE_F_* bits"),
    ("sendfile from a pipe", "EINVAL", "EINVAL",
     "the same: a pipe input into a regular file"),
    ("openat O_CREAT|O_DIRECTORY of a missing name: a regular file (1)", "1", "EINVAL",
     O_CREAT_DIRECTORY),
    ("openat O_CREAT|O_DIRECTORY of a file", "ENOTDIR", "EINVAL", O_CREAT_DIRECTORY),
    ("openat O_CREAT|O_DIRECTORY of a directory", "EISDIR", "EINVAL", O_CREAT_DIRECTORY),
    ("openat O_CREAT|O_EXCL|O_DIRECTORY of a file", "EEXIST", "EINVAL", O_CREAT_DIRECTORY),
    ("readahead of a /proc file", "EINVAL", "0",
     "4.14's force_page_cache_readahead() refuses a mapping without readpage; newer "
     "kernels accept any regular file (ksys_readahead() through vfs_fadvise())"),
    ("sendfile of 200000 bytes into a pipe, one call", "200000", "65536",
     "4.14's do_splice_direct() loops until the count is done; newer kernels return "
     "once the pipe is full (splice_file_to_pipe())"),
)


def test_host_kernel(tmp_path):
    check_host_kernel(PROGRAM, tmp_path)


def test_a53emu_matches_host_kernel(libc, tmp_path):
    check_a53emu_matches_host_kernel(PROGRAM, libc, tmp_path)


def test_deterministic_run_matches_host_kernel(tmp_path):
    """Under --deterministic (time from retired instructions) the sleeping
    calls — a blocked flock polling the host, sendfile into a full pipe,
    splice/tee waiting for a writer — still end, and the output is the same."""
    h = run_host(PROGRAM, scratch_dir(tmp_path, "host"))
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu(["--deterministic", userland_path("musl", PROGRAM)], cwd=cwd,
                   env=clean_env(), timeout=TIMEOUT_EMU)
    assert a.stdout.decode(errors="replace") == h.stdout.decode()
    assert a.returncode == 0
    assert list(cwd.iterdir()) == []


def test_qemu_matches_host_kernel(libc, tmp_path):
    h = run_host(PROGRAM, scratch_dir(tmp_path, "host"), ["no-rwf2"])
    assert_passed(h, PROGRAM, "host")
    cwd = scratch_dir(tmp_path, "qemu")
    q = run_qemu([userland_path(libc, PROGRAM), "no-rwf2"], cwd=cwd, env=clean_env(),
                 timeout=TIMEOUT_EMU)
    assert q.stdout.decode(errors="replace") == h.stdout.decode()
    assert q.returncode == 0
    assert list(cwd.iterdir()) == []


def test_handles_are_exported(libc, tmp_path):
    """name_to_handle_at on an existing file: the host file system's handle
    (kernel/fs/fhandle.py), as the host gives it — or its EOPNOTSUPP where
    the host's file system has no export operations."""
    h = run_host(PROGRAM, scratch_dir(tmp_path, "host"), ["handles"])
    assert h.returncode == 0
    assert h.stdout.decode() in ('name_to_handle_at("."): a handle\n',
                                 'name_to_handle_at("."): EOPNOTSUPP\n')
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu([userland_path(libc, PROGRAM), "handles"], cwd=cwd, env=clean_env())
    assert a.stdout.decode() == h.stdout.decode()
    assert a.returncode == 0
    assert list(cwd.iterdir()) == []


def _answers(stdout):
    lines = stdout.decode().splitlines()
    return dict(line.rsplit(": ", 1) for line in lines)


def test_a53emu_gives_4_14_answers(libc, tmp_path):
    """Each line of the `4.14` mode is 4.14's answer under a53emu."""
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu([userland_path(libc, PROGRAM), "4.14"], cwd=cwd, env=clean_env())
    assert a.returncode == 0, a.stderr
    assert _answers(a.stdout) == {line: old for line, old, _new, _why in KERNEL_4_14}
    assert list(cwd.iterdir()) == []


def test_host_gives_4_14_or_newer_answers(tmp_path):
    """The host kernel gives, on each line, either 4.14's answer or the newer
    one the table names — never a third (the line asks what it says).  The
    newer answers are those of v6.12 on (the fallocate mode rework is the
    latest change in the table); kernels in between give mixtures."""
    if host_kernel_version() < (6, 12):
        pytest.skip("the table's newer answers are v6.12's; this host runs %d.%d"
                    % host_kernel_version())
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(PROGRAM, cwd, ["4.14"])
    assert h.returncode == 0
    got = _answers(h.stdout)
    assert set(got) == {row[0] for row in KERNEL_4_14}
    for line, old, new, why in KERNEL_4_14:
        assert got[line] in (old, new), (line, got[line], why)
    assert list(cwd.iterdir()) == []


# --- in-process: a task whose guest is not root, and what a root shell cannot show ---

from kernel.fs import fhandle, locks, namei, read_write, statfs  # noqa: E402
from kernel.fs import open as fs_open  # noqa: E402
from kernel.fs.file import FdTable, File  # noqa: E402
from kernel.sched.wait import WouldBlock  # noqa: E402
from kernel.syscalls import strace  # noqa: E402
from kernel.uaccess import Efault  # noqa: E402
from kernel.uapi import AT_EMPTY_PATH, AT_FDCWD, O_RDONLY, O_RDWR  # noqa: E402

USER_BASE = 0x10000


class FakeUser:
    """User memory for a handler called directly: one flat buffer at USER_BASE;
    anything else is EFAULT."""

    def __init__(self, size=1 << 16):
        self.mem = bytearray(size)

    def _off(self, addr, n):
        off = addr - USER_BASE
        if off < 0 or off + n > len(self.mem):
            raise Efault()
        return off

    def copy_from_user(self, addr, n):
        off = self._off(addr, n)
        return bytes(self.mem[off:off + n])

    def copy_to_user(self, addr, data):
        off = self._off(addr, len(data))
        self.mem[off:off + len(data)] = data

    def strncpy_from_user(self, addr, limit=4096):
        off = self._off(addr, 1)
        end = self.mem.index(0, off)
        return bytes(self.mem[off:end])

    def writable_prefix(self, addr, n):
        try:
            self._off(addr, n)
            return n
        except Efault:
            return 0


class FakeTask:
    def __init__(self, cwd, uid):
        self.kernel = types.SimpleNamespace(uid_of=lambda task: uid, sysroot=None, tasks={},
                                            page_cache={}, sched=types.SimpleNamespace(
                                                clock=lambda: 100.0),
                                            ipc_ns=types.SimpleNamespace(shm_path=lambda p: None,
                                                                         root=None),
                                            attr_overlay={})
        self.fs = types.SimpleNamespace(cwd_fd=os.open(cwd, os.O_PATH), cwd=str(cwd),
                                        umask=0o022)
        self.files = FdTable()
        self.uaccess = FakeUser()
        self.restart = None
        self.strings = USER_BASE
        self.cred = Cred(uid, uid)      # root has every capability, others none
        self.rlim = default_rlimits()   # RLIMIT_FSIZE for the write paths

    def string(self, text):
        """A NUL-terminated string in user memory; returns its address."""
        data = os.fsencode(text) + b"\0"
        addr = self.strings
        self.uaccess.copy_to_user(addr, data)
        self.strings += len(data)
        return addr

    def open(self, path, flags):
        hfd = os.open(path, flags | os.O_CLOEXEC)
        return self.files.alloc_fd(File(self.kernel, hfd, str(path), flags))

    def close(self):
        self.files.close_all()
        os.close(self.fs.cwd_fd)


@pytest.fixture
def user_task(tmp_path):
    tmp_path.chmod(0o777)       # the guest's uid 1000 may create files here (fs/permission.py)
    task = FakeTask(tmp_path, uid=1000)
    yield task
    task.close()


@pytest.fixture
def root_task(tmp_path):
    task = FakeTask(tmp_path, uid=0)
    yield task
    task.close()


def test_mknodat_device_needs_guest_root(user_task, tmp_path):
    """A guest that is not root gets EPERM for a device node (CAP_MKNOD) —
    after EEXIST and ENOENT, which user_path_create() found first — and
    nothing is created; a FIFO needs no privilege."""
    chr_mode = stat.S_IFCHR | 0o600
    assert namei.sys_mknodat(user_task, AT_FDCWD, user_task.string("c"), chr_mode,
                             os.makedev(1, 3)) == -errno.EPERM
    assert not os.path.lexists(tmp_path / "c")
    (tmp_path / "e").write_bytes(b"")
    assert namei.sys_mknodat(user_task, AT_FDCWD, user_task.string("e"), chr_mode, 0) == \
        -errno.EEXIST
    assert namei.sys_mknodat(user_task, AT_FDCWD, user_task.string("no/c"), chr_mode, 0) == \
        -errno.ENOENT
    assert namei.sys_mknodat(user_task, AT_FDCWD, user_task.string("p"),
                             stat.S_IFIFO | 0o666, 0) == 0
    st = os.lstat(tmp_path / "p")
    assert stat.S_ISFIFO(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o644


def test_linkat_empty_path_needs_guest_root(user_task, root_task, tmp_path):
    """AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH: ENOENT for anyone else (4.14)."""
    (tmp_path / "f").write_bytes(b"x")
    fd = user_task.open(tmp_path / "f", O_RDONLY)
    assert namei.sys_linkat(user_task, fd, user_task.string(""), AT_FDCWD,
                            user_task.string("g"), AT_EMPTY_PATH) == -errno.ENOENT
    assert not (tmp_path / "g").exists()
    fd = root_task.open(tmp_path / "f", O_RDONLY)
    ret = namei.sys_linkat(root_task, fd, root_task.string(""), AT_FDCWD,
                           root_task.string("g"), AT_EMPTY_PATH)
    if os.geteuid() == 0:
        assert ret == 0 and (tmp_path / "g").read_bytes() == b"x"
    else:
        assert ret == -errno.ENOENT     # the host refuses what the guest root may do


def test_open_by_handle_at(user_task, root_task):
    """EPERM without privilege; then the mount fd (EBADF), the header
    (EFAULT, EINVAL for 0 or > MAX_HANDLE_SZ bytes), then ESTALE: no handle
    of the board's file system can be decoded."""
    assert fhandle.sys_open_by_handle_at(user_task, AT_FDCWD, USER_BASE, 0) == -errno.EPERM
    handle = root_task.strings
    root_task.uaccess.copy_to_user(handle, (8).to_bytes(4, "little") + bytes(12))
    assert fhandle.sys_open_by_handle_at(root_task, 55, handle, 0) == -errno.EBADF
    with pytest.raises(Efault):
        fhandle.sys_open_by_handle_at(root_task, AT_FDCWD, 16, 0)
    assert fhandle.sys_open_by_handle_at(root_task, AT_FDCWD, handle, 0) == -errno.ESTALE
    for nbytes in (0, fhandle.MAX_HANDLE_SZ + 1):
        root_task.uaccess.copy_to_user(handle, nbytes.to_bytes(4, "little"))
        assert fhandle.sys_open_by_handle_at(root_task, AT_FDCWD, handle, 0) == -errno.EINVAL


def test_name_to_handle_at_then_open_by_handle_at(root_task, tmp_path):
    """A handle the board issued opens its file; one it did not is ESTALE;
    a missing name is the lookup's ENOENT."""
    (tmp_path / "f").write_bytes(b"data")
    assert fhandle.sys_name_to_handle_at(root_task, AT_FDCWD, root_task.string("nope"),
                                         USER_BASE, USER_BASE, 0) == -errno.ENOENT
    name = root_task.string("f")
    handle = root_task.strings
    root_task.uaccess.copy_to_user(handle, (fhandle.MAX_HANDLE_SZ).to_bytes(4, "little"))
    assert fhandle.sys_name_to_handle_at(root_task, AT_FDCWD, name, handle,
                                         USER_BASE + 0x8000, 0) == 0
    nbytes = int.from_bytes(root_task.uaccess.copy_from_user(handle, 4), "little")
    assert 0 < nbytes <= fhandle.MAX_HANDLE_SZ
    fd = fhandle.sys_open_by_handle_at(root_task, AT_FDCWD, handle, os.O_RDONLY)
    assert fd >= 0
    assert os.pread(root_task.files.get(fd).host_fd, 4, 0) == b"data"
    last = handle + 8 + nbytes - 1
    byte = root_task.uaccess.copy_from_user(last, 1)[0]
    root_task.uaccess.copy_to_user(last, bytes([byte ^ 0xFF]))
    assert fhandle.sys_open_by_handle_at(root_task, AT_FDCWD, handle, os.O_RDONLY) == \
        -errno.ESTALE


def test_copy_file_range_across_file_systems(root_task, tmp_path):
    """Two host file systems are two file systems to the guest: EXDEV (4.14
    never copies between two)."""
    other = "/dev/shm"
    if not os.path.isdir(other) or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system (/dev/shm) next to the test's tmp directory")
    (tmp_path / "in").write_bytes(b"data")
    fin = root_task.open(tmp_path / "in", O_RDONLY)
    out_path = os.path.join(other, "a53emu-test-%d" % os.getpid())
    try:
        fout = root_task.open(out_path, O_RDWR | os.O_CREAT)
        assert read_write.sys_copy_file_range(root_task, fin, 0, fout, 0, 4, 0) == -errno.EXDEV
        assert os.path.getsize(out_path) == 0
    finally:
        root_task.files.close_all()
        os.unlink(out_path)


def test_blocking_flock_sleeps_and_unlock_wakes(root_task, tmp_path):
    """A held lock puts only the caller to sleep: WouldBlock on the board's
    flock queue with a poll deadline (for holders the board cannot see);
    LOCK_UN by the holder wakes the queue."""
    (tmp_path / "f").write_bytes(b"")
    a = root_task.open(tmp_path / "f", O_RDONLY)
    b = root_task.open(tmp_path / "f", O_RDONLY)
    assert locks.sys_flock(root_task, a, locks.LOCK_EX) == 0
    with pytest.raises(WouldBlock) as info:
        locks.sys_flock(root_task, b, locks.LOCK_EX)
    wq = locks.flock_wait_queue(root_task.kernel)
    assert info.value.queues == (wq,)
    assert info.value.deadline == 100.0 + locks.FLOCK_POLL_SECONDS
    woken = []
    wq.tasks.append(types.SimpleNamespace(kernel=types.SimpleNamespace(
        sched=types.SimpleNamespace(wake_up_process=woken.append))))
    assert locks.sys_flock(root_task, a, locks.LOCK_UN) == 0
    assert len(woken) == 1
    assert locks.sys_flock(root_task, b, locks.LOCK_EX) == 0


def test_sysroot_paths_stay_inside(root_task, tmp_path):
    """With --sysroot, an absolute guest path that exists in the sysroot is
    the sysroot's file: truncate, statfs and utimensat change or read that
    one, never the host's file of the same name."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_bytes(b"guest-name\n")
    root_task.kernel.sysroot = os.fsencode(root)
    host_before = os.stat("/etc/hostname") if os.path.exists("/etc/hostname") else None
    assert fs_open.sys_truncate(root_task, root_task.string("/etc/hostname"), 5) == 0
    assert (root / "etc" / "hostname").read_bytes() == b"guest"
    if host_before is not None:
        after = os.stat("/etc/hostname")
        assert (after.st_size, after.st_mtime_ns) == (host_before.st_size, host_before.st_mtime_ns)
    buf = root_task.strings
    assert statfs.sys_statfs(root_task, root_task.string("/etc/hostname"), buf) == 0


def test_build_open_flags():
    """O_TMPFILE wants O_DIRECTORY, no O_CREAT and write access; O_PATH keeps
    only O_DIRECTORY and O_NOFOLLOW."""
    from kernel.uapi import O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_TMPFILE, O_TRUNC
    assert fs_open.build_open_flags(O_TMPFILE | O_RDWR) == (O_TMPFILE | O_RDWR, 0)
    assert fs_open.build_open_flags(O_TMPFILE | O_RDONLY)[1] == -errno.EINVAL
    assert fs_open.build_open_flags(O_TMPFILE | O_CREAT | O_RDWR)[1] == -errno.EINVAL
    assert fs_open.build_open_flags((O_TMPFILE & ~O_DIRECTORY) | O_RDWR)[1] == -errno.EINVAL
    assert fs_open.build_open_flags(O_PATH | O_RDWR | O_TRUNC | O_NOFOLLOW) == \
        (O_PATH | O_NOFOLLOW, 0)


@pytest.mark.parametrize("kind,value,text", [
    ("falloc", 3, "FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE"),
    ("falloc", 0, "0"),
    ("falloc", 0x100, "0x100"),
    ("flockop", 6, "LOCK_EX|LOCK_NB"),
    ("rwf", 9, "RWF_HIPRI|RWF_NOWAIT"),
    ("splice", 2, "SPLICE_F_NONBLOCK"),
    ("syncrange", 7, "SYNC_FILE_RANGE_WAIT_BEFORE|SYNC_FILE_RANGE_WRITE|"
                     "SYNC_FILE_RANGE_WAIT_AFTER"),
    ("nodmode", stat.S_IFIFO | 0o644, "S_IFIFO|0644"),
    ("nodmode", 0o600, "0600"),
    ("nodmode", 0o170644, "0170000|0644"),
    ("dev", os.makedev(7, 200) & 0xFFFFFFFF, "makedev(0x7, 0xc8)"),
])
def test_strace_formats(kind, value, text):
    assert strace._files_arg(kind, value) == text


def test_strace_mknodat_shows_dev_only_for_devices(root_task):
    """strace prints mknodat's dev argument for S_IFCHR/S_IFBLK only."""
    from kernel.syscalls.table import _DEFS
    d = next(d for d in _DEFS if d.name == "mknodat")
    root_task.uaccess.peek_string = lambda addr: b"n"
    printer = strace.StracePrinter(None)
    fifo = printer.line({"task": root_task, "d": d, "ret": 0,
                         "args": (AT_FDCWD & 0xFFFFFFFF, 1, stat.S_IFIFO | 0o644, 0, 0, 0)})
    assert fifo == 'mknodat(AT_FDCWD, "n", S_IFIFO|0644) = 0'
    dev = printer.line({"task": root_task, "d": d, "ret": 0,
                        "args": (AT_FDCWD & 0xFFFFFFFF, 1, stat.S_IFCHR | 0o600,
                                 os.makedev(1, 3), 0, 0)})
    assert dev == 'mknodat(AT_FDCWD, "n", S_IFCHR|0600, makedev(0x1, 0x3)) = 0'


# --- bad input: any register values give an errno or a result, never a crash ---

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kernel.fs import splice, sync, utimes  # noqa: E402
from kernel.mm import fadvise, readahead  # noqa: E402

HANDLERS = {
    "truncate": (fs_open.sys_truncate, 2), "fallocate": (fs_open.sys_fallocate, 4),
    "statfs": (statfs.sys_statfs, 2), "fstatfs": (statfs.sys_fstatfs, 2),
    "utimensat": (utimes.sys_utimensat, 4), "linkat": (namei.sys_linkat, 5),
    "symlinkat": (namei.sys_symlinkat, 3), "mknodat": (namei.sys_mknodat, 4),
    "syncfs": (sync.sys_syncfs, 1), "sync_file_range": (sync.sys_sync_file_range, 4),
    "fadvise64": (fadvise.sys_fadvise64, 4), "readahead": (readahead.sys_readahead, 3),
    "flock": (locks.sys_flock, 2), "preadv": (read_write.sys_preadv, 5),
    "pwritev": (read_write.sys_pwritev, 5), "preadv2": (read_write.sys_preadv2, 6),
    "pwritev2": (read_write.sys_pwritev2, 6),
    "copy_file_range": (read_write.sys_copy_file_range, 6),
    "sendfile": (read_write.sys_sendfile, 4), "splice": (splice.sys_splice, 6),
    "tee": (splice.sys_tee, 4), "vmsplice": (splice.sys_vmsplice, 4),
    "name_to_handle_at": (fhandle.sys_name_to_handle_at, 5),
    "open_by_handle_at": (fhandle.sys_open_by_handle_at, 3),
}
U64 = (1 << 64) - 1
# Register values: descriptors 0-7 (files, a directory, pipes), AT_FDCWD,
# user addresses (strings, iovecs, loff_t), bad pointers, flag bits, sizes
# (never a large allocation: fallocate lengths stay small), negatives.
REGISTER = st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 3000, AT_FDCWD & U64, U64,
                            USER_BASE, USER_BASE + 0x100, USER_BASE + 0x200, 16,
                            (1 << 63) - 1, 1 << 63, 0x1000, 0x100, 0x400, 0x7F, 0x10,
                            4096, 65536, stat.S_IFIFO | 0o644, stat.S_IFCHR | 0o600])


def _fuzz_task(tmp_path):
    task = FakeTask(tmp_path, uid=1000)
    task.kernel.send_sigpipe = lambda t: None
    (tmp_path / "a").write_bytes(b"0123456789" * 100)
    (tmp_path / "sub").mkdir()
    task.string("a")                        # USER_BASE: a file name
    task.uaccess.copy_to_user(USER_BASE + 0x100, (USER_BASE + 0x300).to_bytes(8, "little")
                              + (16).to_bytes(8, "little"))      # an iovec
    task.uaccess.copy_to_user(USER_BASE + 0x200, (5).to_bytes(8, "little"))   # a loff_t
    task.open(tmp_path / "a", O_RDWR)                            # fd 0
    task.open(tmp_path / "a", O_RDONLY)                          # fd 1
    task.open(tmp_path / "sub", O_RDONLY)                        # fd 2
    for _ in range(2):                                           # fds 3-6
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        for fd, flags in ((r, O_RDONLY), (w, os.O_WRONLY)):
            f = File(task.kernel, fd, "pipe", flags)
            f.owned_nonblock = True
            task.files.alloc_fd(f)
    return task


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_bad_input_never_crashes(name, tmp_path_factory):
    func, nargs = HANDLERS[name]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(REGISTER, min_size=nargs, max_size=nargs))
    def check(regs):
        tmp = tmp_path_factory.mktemp(name)
        task = _fuzz_task(tmp)
        try:
            ret = func(task, *regs)
            assert isinstance(ret, int) and (ret >= 0 or -ret in errno.errorcode), ret
        except (Efault, WouldBlock):
            pass
        finally:
            task.close()

    check()


def test_sendfile_onto_its_own_input(tmp_path):
    """sendfile(0, 0, NULL, 1): one byte of fd 0 written back into the same
    file (found by the fuzz: the write path asked the page cache for frames
    it did not have)."""
    func, _ = HANDLERS["sendfile"]
    task = _fuzz_task(tmp_path)
    try:
        assert func(task, 0, 0, 0, 1) == 1
    finally:
        task.close()


def test_strace_openat_mode_only_when_creating(root_task):
    """strace shows openat's mode for O_CREAT and O_TMPFILE (__O_TMPFILE |
    O_DIRECTORY), not for O_DIRECTORY alone."""
    from kernel.syscalls.table import _DEFS
    from kernel.uapi import O_CREAT, O_DIRECTORY, O_TMPFILE
    d = next(d for d in _DEFS if d.name == "openat")
    root_task.uaccess.peek_string = lambda addr: b"x"
    printer = strace.StracePrinter(None)

    def line(flags):
        return printer.line({"task": root_task, "d": d, "ret": 3,
                             "args": (AT_FDCWD & 0xFFFFFFFF, 1, flags, 0o600, 0, 0)})
    assert line(O_RDONLY | O_DIRECTORY) == 'openat(AT_FDCWD, "x", O_RDONLY|O_DIRECTORY) = 3'
    assert line(O_RDWR | O_CREAT).endswith(", 0600) = 3")
    assert line(O_RDWR | O_TMPFILE).endswith(", 0600) = 3")


def test_capabilities_come_from_the_cred_when_there_is_one(root_task, tmp_path):
    """With a credential (kernel/cred.py's struct cred), capable() reads its
    effective set: a root whose CAP_MKNOD is dropped cannot make devices,
    one that holds CAP_DAC_READ_SEARCH may link by descriptor."""
    root_task.cred = Cred(0, 0)
    root_task.cred.cap_effective = 1 << namei.CAP_DAC_READ_SEARCH
    assert namei.sys_mknodat(root_task, AT_FDCWD, root_task.string("c"),
                             stat.S_IFCHR | 0o600, 0) == -errno.EPERM
    assert not os.path.lexists(tmp_path / "c")
    assert namei.capable(root_task, namei.CAP_DAC_READ_SEARCH)
    root_task.cred = Cred(0, 0)
    root_task.cred.cap_effective = 1 << namei.CAP_MKNOD
    assert not namei.capable(root_task, namei.CAP_DAC_READ_SEARCH)
    assert fhandle.sys_open_by_handle_at(root_task, AT_FDCWD, USER_BASE, 0) == -errno.EPERM
