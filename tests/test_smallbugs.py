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
* /proc/self/fd/N of an inherited descriptor under --jail: no host path
  (userland/src/sb_fdlink.c; kernel/fs/proc.py inherited_fd_name()).
* pause() with a terminal on stdin waits for Ctrl-C, as on Linux; without
  one the deadlock report ends the run (userland/src/sb_pause.c, a pty).
* O_NONBLOCK on an inherited descriptor is the guest's only: the user's
  terminal or pipe keeps its file status (userland/src/sb_nonblock_tty.c).
"""

import fcntl
import os
import pty
import select
import signal
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import ROOT, run_a53emu, userland_path
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


def _fdlink(cmd, stdin, cwd):
    with open(stdin, "rb") as f:
        return subprocess.run(cmd, stdin=f, cwd=cwd, env=clean_env(), capture_output=True,
                              timeout=120)


def _emu(opts, libc, want):
    return [sys.executable, "-m", "emu", "run"] + opts + [str(userland_path(libc, "sb_fdlink")), want]


def test_fdlink_host_kernel_and_board(libc, open_dir, tmp_path):
    """Without a root the host's name, on the host kernel and on the board."""
    outside = tmp_path / "outside-file"
    outside.write_bytes(b"")
    assert_passed(_fdlink([str(host_path("sb_fdlink")), str(outside)], outside, open_dir),
                  "sb_fdlink", "host")
    assert_passed(_fdlink(_emu([], libc, str(outside)), outside, ROOT), "sb_fdlink", "a53emu")


@pytest.mark.parametrize("case", ["inside", "outside", "devnull"])
def test_fdlink_jail(libc, open_dir, tmp_path, case):
    """Under --jail: a file in the jail by its name there, a board device by
    its name, a host file outside by "(unreachable)/" and its last
    component only (no host path)."""
    stdin, want = {
        "inside": (os.path.join(open_dir, "in-jail"), "/in-jail"),
        "outside": (str(tmp_path / "host-secret"), "(unreachable)/host-secret"),
        "devnull": ("/dev/null", "/dev/null"),
    }[case]
    if case != "devnull":
        open(stdin, "wb").close()
    try:
        run = _fdlink(_emu(["--jail", open_dir], libc, want), stdin, ROOT)
    finally:
        if case == "inside":
            os.unlink(stdin)
    assert str(tmp_path) not in run.stdout.decode(errors="replace")
    assert_passed(run, "sb_fdlink", "a53emu")


def _read_until(fd, marker, timeout):
    """What the pty's master gives until marker appears (or EOF/timeout)."""
    out = b""
    end = time.monotonic() + timeout
    while marker not in out and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:             # EIO: the slave side is closed
            break
        if not chunk:
            break
        out += chunk
    return out


def test_pause_waits_for_ctrl_c_on_a_terminal(libc):
    """a53emu on a pty (its controlling terminal and stdin): the guest's
    pause() is not a deadlock; Ctrl-C typed at the terminal (the line
    discipline's SIGINT to the foreground group, forwarded by a53emu) ends
    it with 128 + SIGINT."""
    cmd = [sys.executable, "-m", "emu", "run", str(userland_path(libc, "sb_pause"))]
    pid, master = pty.fork()
    if pid == 0:                    # the child: session leader on the pty
        os.chdir(ROOT)
        os.execve(sys.executable, cmd, clean_env())
    try:
        out = _read_until(master, b"pausing", 60)
        assert b"pausing" in out, out
        out += _read_until(master, b"deadlock", 2.0)    # the detector would have fired by now
        assert b"deadlock" not in out, out
        os.write(master, b"\x03")                       # VINTR: Ctrl-C
        out += _read_until(master, b"\0never", 30)
        _, status = os.waitpid(pid, 0)
        pid = None
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(master)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signal.SIGINT, (status, out)
    assert b"deadlock" not in out, out


def test_pause_without_a_terminal_is_a_deadlock(libc):
    """stdin not a terminal: nothing outside can wake it; the report."""
    run = run_a53emu([userland_path(libc, "sb_pause")], env=clean_env(), timeout=60)
    assert run.returncode == 134, run.stderr
    # AArch64 has no pause system call: both libcs use ppoll(NULL, 0, NULL, NULL).
    assert b"deadlock: every task sleeps forever: 1 (sb_pause) in ppoll()" in run.stderr, run.stderr


def _nonblock_run(cmd, stdin_fd):
    return subprocess.run(cmd, stdin=stdin_fd, cwd=ROOT, env=clean_env(), capture_output=True,
                          timeout=120)


@pytest.mark.parametrize("where", ["host", "board"])
def test_nonblock_on_a_terminal(libc, where):
    """stdin a pty nobody types at: a non-blocking read is EAGAIN, on the
    host kernel and on the board; a53emu leaves the pty's flags alone."""
    master, slave = os.openpty()
    try:
        before = fcntl.fcntl(slave, fcntl.F_GETFL)
        cmd = [str(host_path("sb_nonblock_tty"))] if where == "host" else \
            [sys.executable, "-m", "emu", "run", str(userland_path(libc, "sb_nonblock_tty"))]
        run = _nonblock_run(cmd, slave)
        if where == "board":
            assert fcntl.fcntl(slave, fcntl.F_GETFL) == before
    finally:
        os.close(master)
        os.close(slave)
    assert_passed(run, "sb_nonblock_tty", where)


def test_nonblock_leaves_an_inherited_pipe_alone(libc):
    """stdin an empty pipe (its writer open here): the guest's O_NONBLOCK
    reads EAGAIN, and the pipe's file status, shared with this process,
    is as before when a53emu has exited (no terminal: nothing restores it)."""
    r, w = os.pipe()
    try:
        before = fcntl.fcntl(r, fcntl.F_GETFL)
        run = _nonblock_run([sys.executable, "-m", "emu", "run",
                             str(userland_path(libc, "sb_nonblock_tty"))], r)
        after = fcntl.fcntl(r, fcntl.F_GETFL)
    finally:
        os.close(r)
        os.close(w)
    assert_passed(run, "sb_nonblock_tty", "a53emu")
    assert after == before, (hex(before), hex(after))
