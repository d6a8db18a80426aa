"""Issue 9: what the second run of the Linux Test Project's file-system
tests found (docs/ltp-fs2.md, tools/ltp.py), checked against the real
kernel without LTP (CI has none).

userland/src/ltp_fs2.c asks, with syscall(2): readlinkat(fd, "") on a
symlink opened O_PATH|O_NOFOLLOW (LTP's readlinkat01: a53emu answered
ENOENT); sendfile() with a read-only offset, EFAULT from the put_user()
4.14 makes after every transfer (sendfile04: a53emu wrote the offset back
only when bytes moved); fsync() and fdatasync() on files without
f_op->fsync — a pipe, a socket, /dev/null, an eventfd, a /proc file —
EINVAL (fsync03, fdatasync02: a53emu answered 0); and getcwd() after
chdir() or fchdir() through a symlink, which names the directory and not
the link (getcwd03: a53emu kept the name it was given); FS_IOC_GETFLAGS
and FS_IOC_SETFLAGS on a disk file (setxattr03: a53emu answered ENOTTY),
an immutable file refusing writes, unlinks and links, and the owner and
CAP_LINUX_IMMUTABLE rules; /proc/sys/fs/inotify (inotify05, inotify06:
missing), whose max_user_instances is the board's own limit; an inotify
descriptor's fdinfo lines (inotify12: missing), 4.14's mask in them;
name_to_handle_at() and open_by_handle_at() of the host file system's
handles, the board's issued ones only (name_to_handle_at01/02,
open_by_handle_at01/02: a53emu answered EOPNOTSUPP and ESTALE).

* the host build passes on the host kernel and leaves nothing behind;
* the AArch64 builds print, under a53emu and under qemu-aarch64, exactly
  what the host build printed;
* the `board` mode (a53emu only: on a real kernel the limit is the whole
  machine's) lowers fs.inotify.max_user_instances and meets EMFILE;
* the `4.14` mode asks what 4.14 and newer kernels answer differently.
"""

import os

import pytest

from conftest import run_a53emu, run_qemu, userland_path
from test_processes import (
    assert_passed, check_a53emu_matches_host_kernel, check_host_kernel, clean_env,
    host_kernel_version, run_host, scratch_dir,
)

PROGRAM = "ltp_fs2"


def test_host_kernel(tmp_path):
    check_host_kernel(PROGRAM, tmp_path)


def test_a53emu_matches_host_kernel(libc, tmp_path):
    check_a53emu_matches_host_kernel(PROGRAM, libc, tmp_path)


# (line qemu-aarch64 fails, what it answers, why): qemu-user's own
# emulation of the call differs from every kernel's.
QEMU_USER = (
    ("sendfile(bad input, read-only offset)", "EBADF",
     "qemu-user's do_syscall() writes sendfile's offset back only when the "
     "host call succeeded; the kernel's sys_sendfile64() always does"),
)


def test_qemu_matches_host_kernel(libc, tmp_path):
    """qemu-aarch64 prints the host's lines but for QEMU_USER's, which it
    does fail (a line qemu fixes must leave the table)."""
    h = run_host(PROGRAM, scratch_dir(tmp_path, "host"))
    cwd = scratch_dir(tmp_path, "qemu")
    q = run_qemu([userland_path(libc, PROGRAM)], cwd=cwd, env=clean_env())
    want = h.stdout.decode().splitlines()
    for what, answer, _why in QEMU_USER:
        want = [("  FAILED: %s: want EFAULT, got -1 (%s)" % (what, answer)
                 if line.startswith("  ok: %s:" % what) else line) for line in want]
    want[-1] = "FAIL: %s: %d check(s) failed" % (PROGRAM, len(QEMU_USER))
    assert q.stdout.decode(errors="replace").splitlines() == want
    assert q.returncode == 1
    assert list(cwd.iterdir()) == []


# (line, 4.14's answer, newer kernels' answer, why)
KERNEL_4_14 = (
    ("FS_IOC_SETFLAGS, not the owner", "EACCES", "EPERM",
     "4.14's ext4_ioctl() answers -EACCES for !inode_owner_or_capable(); v5.13's "
     "vfs_fileattr_set() (\"vfs: add fileattr ops\") made it -EPERM"),
    ("FS_IOC_GETFLAGS, memfd", "ENOTTY", "0",
     "tmpfs has no ->unlocked_ioctl in 4.14; v6.0 (\"shmem: support FS_IOC_[SG]ETFLAGS "
     "in tmpfs\") added the flags"),
    ("FS_IOC_GETFLAGS, /dev/shm file", "ENOTTY", "0", "the same: /dev/shm is tmpfs"),
    ("inotify fdinfo mask, IN_MODIFY|IN_ONESHOT", "2", "80000002",
     "4.14's inotify_fdinfo() shows mark->mask & IN_ALL_EVENTS; v5.19's a32e697cda27 "
     "(\"inotify: show inotify mask flags in proc fdinfo\") the flags too (LTP inotify12)"),
)
NEEDS_ROOT = "the 4.14 answers are asked as nobody, dropping root"


def _answers(stdout):
    return dict(line.rsplit(": ", 1) for line in stdout.decode().splitlines())


@pytest.mark.skipif(os.geteuid() != 0, reason=NEEDS_ROOT)
def test_a53emu_gives_4_14_answers(tmp_path):
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu([userland_path("musl", PROGRAM), "4.14"], cwd=cwd, env=clean_env())
    assert a.returncode == 0, a.stderr
    assert _answers(a.stdout) == {line: old for line, old, _new, _why in KERNEL_4_14}
    assert list(cwd.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason=NEEDS_ROOT)
def test_host_gives_4_14_or_newer_answers(tmp_path):
    """Each line is 4.14's answer or the newer one the table names."""
    if host_kernel_version() < (6, 0):
        pytest.skip("the table's newer answers are v6.0's; this host runs %d.%d"
                    % host_kernel_version())
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(PROGRAM, cwd, ["4.14"])
    assert h.returncode == 0
    got = _answers(h.stdout)
    assert set(got) == {row[0] for row in KERNEL_4_14}
    for line, old, new, why in KERNEL_4_14:
        assert got[line] in (old, new), (line, got[line], why)
    assert list(cwd.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="fs.inotify.max_user_instances is root's")
def test_a53emu_inotify_instance_limit(tmp_path):
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu([userland_path("musl", PROGRAM), "board"], cwd=cwd, env=clean_env())
    assert_passed(a, PROGRAM, "a53emu board")
    assert "EMFILE" in a.stdout.decode()
    assert list(cwd.iterdir()) == []
