"""Small fixes found by other helpers, each compared with the host kernel
(the same C source built for x86-64) where it can be.

* renameat2()'s flags: userland/src/sb_rename.c, on the host, on the board
  and on the board under --jail (the names resolve below the jail root).
* getdents64()'s ".." entry: userland/src/sb_dotdot.c (the parent's inode;
  at the root, under --jail too, the root's own).
* statx()'s stx_attributes and stx_attributes_mask: userland/src/sb_statx.c
  (a file made NODUMP with chattr +d on the host, where chattr works).
* ".." after a magic link (/proc/self/cwd/../x, /proc/self/fd/N/..):
  userland/src/sb_magicdotdot.c.
"""

import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import run_a53emu, userland_path
from test_processes import assert_passed, clean_env, host_path


@pytest.fixture
def open_dir():
    """A scratch directory every uid can search (sb_rename's unprivileged
    child walks into it; pytest's tmp_path is 0700), removed afterwards."""
    d = tempfile.mkdtemp(prefix="a53emu-sb-")
    os.chmod(d, 0o755)
    yield d
    assert os.listdir(d) == []
    shutil.rmtree(d)


def run_host(program, cwd):
    return subprocess.run([str(host_path(program))], cwd=cwd, env=clean_env(),
                          capture_output=True, timeout=60)


def test_rename_host_kernel(open_dir):
    assert_passed(run_host("sb_rename", open_dir), "sb_rename", "host")


@pytest.mark.parametrize("jail", [False, True])
def test_rename_board(libc, open_dir, jail):
    opts = ["--jail", open_dir] if jail else []
    run = run_a53emu(opts + [userland_path(libc, "sb_rename")], cwd=open_dir, env=clean_env())
    assert_passed(run, "sb_rename", "a53emu")


def test_dotdot_host_kernel(open_dir):
    assert_passed(run_host("sb_dotdot", open_dir), "sb_dotdot", "host")


@pytest.mark.parametrize("jail", [False, True])
def test_dotdot_board(libc, open_dir, jail):
    opts = ["--jail", open_dir] if jail else []
    run = run_a53emu(opts + [userland_path(libc, "sb_dotdot")], cwd=open_dir, env=clean_env())
    assert_passed(run, "sb_dotdot", "a53emu")


def _nodump_file(d):
    """A file in d with the NODUMP attribute (chattr +d), or None where the
    host's file system does not take it."""
    path = os.path.join(d, "nodump")
    open(path, "w").close()
    if shutil.which("chattr") and subprocess.run(["chattr", "+d", path],
                                                 capture_output=True).returncode == 0:
        return "nodump"
    os.unlink(path)
    return None


@pytest.mark.parametrize("where", ["host", "board", "jail"])
def test_statx_attributes(libc, open_dir, where):
    nodump = _nodump_file(open_dir)
    args = [nodump] if nodump else []
    try:
        if where == "host":
            run = subprocess.run([str(host_path("sb_statx"))] + args, cwd=open_dir,
                                 env=clean_env(), capture_output=True, timeout=60)
        else:
            opts = ["--jail", open_dir] if where == "jail" else []
            run = run_a53emu(opts + [userland_path(libc, "sb_statx")] + args, cwd=open_dir,
                             env=clean_env())
    finally:
        if nodump:
            os.unlink(os.path.join(open_dir, nodump))
    assert_passed(run, "sb_statx", where)


def test_magic_dotdot_host_kernel(open_dir):
    assert_passed(run_host("sb_magicdotdot", open_dir), "sb_magicdotdot", "host")


@pytest.mark.parametrize("jail", [False, True])
def test_magic_dotdot_board(libc, open_dir, jail):
    opts = ["--jail", open_dir] if jail else []
    run = run_a53emu(opts + [userland_path(libc, "sb_magicdotdot")], cwd=open_dir, env=clean_env())
    assert_passed(run, "sb_magicdotdot", "a53emu")
