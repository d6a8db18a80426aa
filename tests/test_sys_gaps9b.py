"""Issue 9: more gaps found by the LTP runs, each checked against the real
kernel (userland/src/sys_gaps9b.c):

1. epoll/poll/select on /proc files (epoll_wait10: epoll_ctl was EPERM for
   every /proc file; 4.14 polls proc_create() files through proc_reg_poll(),
   /proc/sys through proc_sys_poll(), /proc/PID/mounts through mounts_poll());
   (and the hostname sysctl's POLLPRI event after sethostname());
2. ETXTBSY for opening or truncating a running program (its image is
   mapped MAP_DENYWRITE: kernel/fs/denywrite.py);
3. pselect6/ppoll under STICKY_TIMEOUTS: EINTR after a stop, not a restart;
4. a message queue belongs to the creator's fsuid/fsgid;
5. " (deleted)" after the /proc/PID/fd link of an unlinked file;
6. a pty slave belongs to its opener (devpts_pty_new());
7. statx()'s STATX_BTIME from the host's file system.

* the host build passes on the host kernel;
* the AArch64 builds print, under a53emu, exactly what the host printed.
"""

import errno
import os
import stat

import pytest

from conftest import run_a53emu, userland_path
from test_processes import assert_passed, clean_env, run_host, scratch_dir

PROGRAM = "sys_gaps9b"


def test_host_kernel(tmp_path):
    """The host build passes on the host kernel, leaving nothing behind."""
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(PROGRAM, cwd)
    assert_passed(h, PROGRAM, "host")
    assert h.stderr == b""
    assert list(cwd.iterdir()) == []


def test_a53emu_matches_host_kernel(libc, tmp_path):
    h = run_host(PROGRAM, scratch_dir(tmp_path, "host"))
    assert_passed(h, PROGRAM, "host")
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu([userland_path(libc, PROGRAM)], cwd=cwd, env=clean_env())
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert a.stdout.decode(errors="replace") == h.stdout.decode()
    assert a.stderr == b""
    assert a.returncode == 0
    assert list(cwd.iterdir()) == []


# -- the pure parts -----------------------------------------------------------------------

def _entry(path, kind="file"):
    from kernel.fs.proc import Entry
    return Entry(kind, path, stat.S_IFREG | 0o444, show=lambda c: "")


def test_which_proc_files_poll():
    """proc_poll_mask(): proc_create() files and /proc/sys DEFAULT_POLLMASK,
    mounts and mountinfo POLLIN|POLLRDNORM, sysfs files DEFAULT_POLLMASK
    once read, other /proc/PID files none (no ->poll: epoll_ctl's EPERM)."""
    from kernel.fs.poll import DEFAULT_POLLMASK, POLLIN, POLLRDNORM
    from kernel.fs.proc import PSEUDO_FILES
    from kernel.fs.proc_poll import proc_poll_mask
    import kernel.fs.proc  # noqa: F401  (registers the global files)
    assert proc_poll_mask(PSEUDO_FILES["/proc/meminfo"]) == DEFAULT_POLLMASK
    assert proc_poll_mask(_entry("/proc/sys/vm/anything")) == DEFAULT_POLLMASK
    assert proc_poll_mask(_entry("/proc/12/mounts")) == POLLIN | POLLRDNORM
    assert proc_poll_mask(_entry("/proc/12/task/13/mountinfo")) == POLLIN | POLLRDNORM
    assert proc_poll_mask(_entry("/proc/12/status")) is None
    assert proc_poll_mask(_entry("/proc/12", "dir")) is None
    assert proc_poll_mask(_entry("/sys/devices/system/cpu/online")) == DEFAULT_POLLMASK
    # A file of the same name that is not the registered one is a pid file.
    assert proc_poll_mask(_entry("/proc/meminfo")) is None


def test_d_path_deleted_only_for_unlinked(tmp_path):
    """d_path_deleted(): the name as it is while a link remains; the mark
    once the last one goes."""
    from types import SimpleNamespace
    from kernel.fs.dpath import d_path_deleted
    name = tmp_path / "f"
    fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        file = SimpleNamespace(host_fd=fd, flags=os.O_RDWR)
        assert d_path_deleted(file, "/x/f") == "/x/f"
        os.link(name, tmp_path / "g")
        os.unlink(name)
        assert d_path_deleted(file, "/x/f") == "/x/f"     # still linked as g
        os.unlink(tmp_path / "g")
        assert d_path_deleted(file, "/x/f") == "/x/f (deleted)"
    finally:
        os.close(fd)


def test_devpts_mount_opts_of_a_non_devpts_device():
    """devpts_mount_opts(): no options for a device no devpts mount has."""
    from kernel.devpts import devpts_mount_opts
    assert devpts_mount_opts(os.makedev(4095, 4095)) == (None, None)


@pytest.mark.parametrize("flags,want", [
    (os.O_RDONLY, 0), (os.O_WRONLY, -errno.ETXTBSY), (os.O_RDWR, -errno.ETXTBSY),
    (os.O_RDONLY | os.O_TRUNC, -errno.ETXTBSY)])
def test_open_write_access_modes(flags, want, monkeypatch):
    """open_write_access(): write access is taken for writing and for
    O_TRUNC (handle_truncate()), not for reading."""
    from types import SimpleNamespace
    from kernel.fs import denywrite
    monkeypatch.setattr(denywrite, "inode_write_denied", lambda kernel, key: True)
    task = SimpleNamespace(kernel=None)
    st = os.stat(__file__)
    assert denywrite.open_write_access(task, st, flags) == want
