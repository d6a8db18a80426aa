"""Issue 10 part 2: one host descriptor per guest open file.

The guest's RLIMIT_NOFILE (1024) is what stops it opening files, not the
host's: a53emu raises its own soft limit to the hard one, and the page
cache borrows an open file's descriptor instead of opening one of its own
(kernel/mm/filemap.py, _host_fd_of).  userland/src/host_fds.c opens files
until refused, then checks that writeback still reaches the file when the
descriptor the cache was using is closed, and through an O_APPEND
descriptor (where a host pwrite() would append).
"""

import resource
import subprocess

from conftest import run_a53emu, userland_path
from test_processes import assert_passed, clean_env, host_path, scratch_dir

PROGRAM = "host_fds"
GUEST_NOFILE = 1024
# The host's hard limit for a53emu: room for the guest's 1021 files and
# a53emu's own few, but not for two host descriptors per guest file.
HOST_HARD = 1100


def limit_nofile(soft, hard):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_host_kernel(tmp_path):
    cwd = scratch_dir(tmp_path, "host")
    h = subprocess.run([str(host_path(PROGRAM))], cwd=cwd, env=clean_env(), capture_output=True,
                       timeout=60, preexec_fn=limit_nofile(GUEST_NOFILE, GUEST_NOFILE))
    assert_passed(h, PROGRAM, "host")
    assert h.stdout.startswith(b"opened 1021 files, then EMFILE\n"), h.stdout
    assert list(cwd.iterdir()) == []


def test_guest_limit_not_host_limit(libc, tmp_path):
    """A host soft limit of 256 (and a hard limit short of two descriptors
    per file) still lets the guest reach its own 1024."""
    cwd = scratch_dir(tmp_path, "a53emu")
    h = subprocess.run([str(host_path(PROGRAM))], cwd=scratch_dir(tmp_path, "host"),
                       env=clean_env(), capture_output=True, timeout=60,
                       preexec_fn=limit_nofile(GUEST_NOFILE, GUEST_NOFILE))
    a = run_a53emu([userland_path(libc, PROGRAM)], cwd=cwd, env=clean_env(), timeout=300,
                   preexec_fn=limit_nofile(256, HOST_HARD))
    assert a.stderr == b"", a.stderr.decode(errors="replace")
    assert a.stdout == h.stdout
    assert a.returncode == 0
    assert list(cwd.iterdir()) == []
