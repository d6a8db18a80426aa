"""Issue 9: what the Linux Test Project's file-system tests found
(docs/ltp-fs.md, tools/ltp.py), checked against the real kernel without LTP.

userland/src/sys_ltpfs.c asks, with syscall(2): lseek's SEEK_DATA and
SEEK_HOLE on a sparse file (LTP's lseek11: a53emu answered EINVAL);
newfstatat's and statx's flag checks, made before the path is looked up,
and a NULL path, EFAULT (fstatat01, lstat02: a53emu ignored unknown flags
and took NULL for ""); and linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N,
which names an O_TMPFILE file (openat03: a53emu linked whatever the
emulator's own descriptor N was).  The descriptors it links sit at 200
and above, so the guest's numbers are not the emulator's.  And a write
lease breaking for an opener for writing cannot be downgraded to a read
lease, the opener holding write access while it waits (fcntl33: a53emu
allowed it), with /proc/sys/fs/lease-break-time (missing before); and
truncate(2) growing a file past RLIMIT_FSIZE is EFBIG and SIGXFSZ
(truncate03: a53emu grew it).

* the host build passes on the host kernel and leaves nothing behind;
* the AArch64 builds print, under a53emu and under qemu-aarch64, exactly
  what the host build printed;
* the `4.14` mode asks what 4.14 and newer kernels answer differently.
"""

import pytest

from conftest import run_a53emu, run_qemu, userland_path
from test_processes import (
    check_a53emu_matches_host_kernel, check_host_kernel, clean_env, host_kernel_version,
    run_host, scratch_dir,
)

PROGRAM = "sys_ltpfs"

# (line, 4.14's answer, newer kernels' answer, why)
KERNEL_4_14 = (
    ("newfstatat fd, NULL path, AT_EMPTY_PATH", "EFAULT", "0",
     "4.14's getname_flags() copies the path first: NULL is EFAULT; v6.11 "
     "(vfs_empty_path() in statx and fstatat) lets a NULL path with AT_EMPTY_PATH "
     "stand for the descriptor"),
)


def test_host_kernel(tmp_path):
    check_host_kernel(PROGRAM, tmp_path)


def test_a53emu_matches_host_kernel(libc, tmp_path):
    check_a53emu_matches_host_kernel(PROGRAM, libc, tmp_path)


def test_qemu_matches_host_kernel(libc, tmp_path):
    h = run_host(PROGRAM, scratch_dir(tmp_path, "host"))
    cwd = scratch_dir(tmp_path, "qemu")
    q = run_qemu([userland_path(libc, PROGRAM)], cwd=cwd, env=clean_env())
    assert q.stdout.decode(errors="replace") == h.stdout.decode()
    assert q.returncode == 0
    assert list(cwd.iterdir()) == []


def _answers(stdout):
    return dict(line.rsplit(": ", 1) for line in stdout.decode().splitlines())


def test_a53emu_gives_4_14_answers(tmp_path):
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu([userland_path("musl", PROGRAM), "4.14"], cwd=cwd, env=clean_env())
    assert a.returncode == 0, a.stderr
    assert _answers(a.stdout) == {line: old for line, old, _new, _why in KERNEL_4_14}
    assert list(cwd.iterdir()) == []


def test_host_gives_4_14_or_newer_answers(tmp_path):
    """Each line is 4.14's answer or the newer one the table names."""
    if host_kernel_version() < (6, 11):
        pytest.skip("the table's newer answers are v6.11's; this host runs %d.%d"
                    % host_kernel_version())
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(PROGRAM, cwd, ["4.14"])
    assert h.returncode == 0
    got = _answers(h.stdout)
    assert set(got) == {row[0] for row in KERNEL_4_14}
    for line, old, new, why in KERNEL_4_14:
        assert got[line] in (old, new), (line, got[line], why)
    assert list(cwd.iterdir()) == []


def test_config_says_dnotify():
    """fcntl(F_NOTIFY) is served (kernel/fs/dnotify.py), so /proc/config.gz
    says CONFIG_DNOTIFY=y (LTP's fcntl38/39 need it, TCONF otherwise)."""
    import types
    from kernel.fs import dnotify  # noqa: F401  (the feature the line claims)
    from kernel.sys_ni import kernel_config
    kernel = types.SimpleNamespace(board=types.SimpleNamespace(mmu=types.SimpleNamespace(
        va_bits=48)), ncpus=2)
    assert "\nCONFIG_DNOTIFY=y\n" in kernel_config(kernel)
