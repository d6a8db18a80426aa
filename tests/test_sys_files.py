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

The one call where a53emu deliberately is not the host is
name_to_handle_at on an existing file: the host's file systems export
handles, the board's file system has no export operations (EOPNOTSUPP);
the `handles` mode prints that one answer.

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
from test_processes import assert_passed, clean_env, host_path, run_host, scratch_dir

PROGRAM = "sys_files"
TIMEOUT_EMU = 600

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
    ("sendfile of 200000 bytes into a pipe, one call", "200000", "65536",
     "4.14's do_splice_direct() loops until the count is done; newer kernels return "
     "once the pipe is full (splice_file_to_pipe())"),
)


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
    a = run_a53emu([userland_path(libc, PROGRAM)], cwd=cwd, env=clean_env(),
                   timeout=TIMEOUT_EMU)
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert a.stdout.decode(errors="replace") == h.stdout.decode()
    assert a.stderr == h.stderr == b""
    assert a.returncode == h.returncode == 0
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


def test_handles_are_not_exported(libc, tmp_path):
    """name_to_handle_at on an existing file: EOPNOTSUPP on the board (no
    export operations), while the host's file system gives a handle."""
    h = run_host(PROGRAM, scratch_dir(tmp_path, "host"), ["handles"])
    assert h.returncode == 0
    assert h.stdout.decode() in ('name_to_handle_at("."): a handle\n',
                                 'name_to_handle_at("."): EOPNOTSUPP\n')
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu([userland_path(libc, PROGRAM), "handles"], cwd=cwd, env=clean_env())
    assert a.stdout.decode() == 'name_to_handle_at("."): EOPNOTSUPP\n'
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
    one the table names — never a third (the line asks what it says)."""
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(PROGRAM, cwd, ["4.14"])
    assert h.returncode == 0
    got = _answers(h.stdout)
    assert set(got) == {row[0] for row in KERNEL_4_14}
    for line, old, new, why in KERNEL_4_14:
        assert got[line] in (old, new), (line, got[line], why)
    assert list(cwd.iterdir()) == []
