"""Issue 9: terminal ioctls and job control (kernel/tty.py, kernel/fs/ioctl.py).

userland/src/sys_tty.c checks the terminal requests on files that are not
terminals (ENOTTY), FIONREAD/FIONBIO/FIOASYNC/FIOQSIZE on each kind of
file, a pty's termios, window size and queues (the host's /dev/ptmx: a
guest's pty is the host's), and job control in a session of its own
(TIOCSCTTY, TIOCGPGRP/TIOCSPGRP/TIOCGSID, SIGTTOU, EIO, TIOCNOTTY's
SIGHUP).  Self-checking; the host build on the host kernel prints what
the AArch64 builds print under a53emu.

userland/src/sys_epollexcl.c checks that EPOLLEXCLUSIVE wakes one of the
epoll_wait()s watching a pipe or an AF_UNIX socket per write
(kernel/fs/epoll_exclusive.py), every one of them without the flag.

The termios path on the user's own terminal: a53emu runs on a pty that
is its controlling terminal (as in a shell), the guest reads its termios,
window size and job control, sets raw mode and O_NONBLOCK and exits (or
is killed): the guest saw what the host build sees, and the terminal is
as it was once a53emu has exited.
"""

import fcntl
import os
import pathlib
import pty
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time

import pytest

from conftest import BUILD, userland_path
from test_processes import assert_passed, clean_env, scratch_dir

PROGRAM = "sys_tty"
TIMEOUT = 120


def run(argv, cwd):
    return subprocess.run(argv, cwd=cwd, env=clean_env(), capture_output=True,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)


PROGRAMS = (PROGRAM, "sys_epollexcl")


@pytest.mark.parametrize("program", PROGRAMS)
def test_host_kernel(program, tmp_path):
    cwd = scratch_dir(tmp_path, "host")
    h = run([str(BUILD / "host" / program)], cwd)
    assert_passed(h, program, "host")
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("program", PROGRAMS)
def test_a53emu_matches_host_kernel(libc, program, tmp_path):
    h = run([str(BUILD / "host" / program)], scratch_dir(tmp_path, "host"))
    assert_passed(h, program, "host")
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run([sys.executable, "-m", "emu", "run", str(userland_path(libc, program))], cwd)
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert a.stdout == h.stdout, a.stderr.decode(errors="replace")
    assert a.returncode == 0
    assert list(cwd.iterdir()) == []


def _take_ctty():
    """preexec_fn after setsid(): the pty (stdin) becomes the controlling
    terminal of the new session, as a login's terminal is a shell's."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def on_pty(argv, cwd, rows=31, cols=101):
    """Run argv with stdin, stdout and stderr on a new pty that is its
    controlling terminal.  Returns (exit status, output without \\r, the
    slave's termios after the exit, its file status flags after the exit)."""
    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        proc = subprocess.Popen(argv, cwd=cwd, env=clean_env(), stdin=slave, stdout=slave,
                                stderr=slave, start_new_session=True, preexec_fn=_take_ctty)
        out = b""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                out += os.read(master, 4096)
            elif proc.poll() is not None:
                break
        status = proc.wait(timeout=10)
        attrs = termios.tcgetattr(slave)
        flags = fcntl.fcntl(slave, fcntl.F_GETFL)
        return status, out.replace(b"\r", b"").decode(errors="replace"), attrs, flags
    finally:
        os.close(master)
        os.close(slave)


LFLAG = 3


@pytest.mark.parametrize("how", ["exit", "die"])
def test_termios_on_the_users_terminal(libc, tmp_path, how):
    """The guest's TCGETS/TCSETS/TIOCGWINSZ are the pty's; it controls the
    terminal in the foreground (the board's console); whatever it changed
    is put back when a53emu exits, even when the guest was killed."""
    args = ["termios"] + (["die"] if how == "die" else [])
    h_status, h_out, h_attrs, _ = on_pty([str(BUILD / "host" / PROGRAM)] + args,
                                         scratch_dir(tmp_path, "host"))
    assert h_status == (-9 if how == "die" else 0), h_out
    assert "icanon 1 echo 1\nwinsize 31x101\nforeground is ours 1, session is ours 1\n" \
           "/dev/tty: foreground is ours 1\nnow icanon 0 echo 0\n" in h_out
    assert not h_attrs[LFLAG] & termios.ICANON          # the host build leaves it raw
    status, out, attrs, flags = on_pty(
        [sys.executable, "-m", "emu", "run", str(userland_path(libc, PROGRAM))] + args,
        scratch_dir(tmp_path, "a53emu"))
    assert "Traceback" not in out, out
    assert out.startswith(h_out), out
    assert status == (128 + 9 if how == "die" else 0), out
    assert attrs[LFLAG] & termios.ICANON and attrs[LFLAG] & termios.ECHO, \
        "a53emu left the terminal raw"
    assert not flags & os.O_NONBLOCK, "a53emu left the terminal non-blocking"


# -- /proc magic links and PT_INTERP with the guest's credentials -------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the program needs root on the host (setresuid from root)")


@needs_root
def test_magic_links_host_kernel(tmp_path):
    h = run([str(BUILD / "host" / "sys_magiclink")], scratch_dir(tmp_path, "host"))
    assert_passed(h, "sys_magiclink", "host")


@needs_root
def test_magic_links_match_host_kernel(libc, tmp_path):
    """/proc/self/fd/N reopens with the opener's rights on the inode;
    another process's links need ptrace-read access (same ids, dumpable)."""
    h = run([str(BUILD / "host" / "sys_magiclink")], scratch_dir(tmp_path, "host"))
    assert_passed(h, "sys_magiclink", "host")
    a = run([sys.executable, "-m", "emu", "run", str(userland_path(libc, "sys_magiclink"))],
            scratch_dir(tmp_path, "a53emu"))
    assert a.stdout == h.stdout, a.stderr.decode(errors="replace")
    assert a.returncode == 0


PT_INTERP = 3
ELF64_PHDR = struct.Struct("<IIQQQQQQ")


def patch_interp(path, name):
    """Point the ELF at path to interpreter `name` (no longer than the
    old one: the rest of PT_INTERP is NULs)."""
    data = bytearray(path.read_bytes())
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz, _, _ = ELF64_PHDR.unpack_from(data, phoff + i * phentsize)
        if p_type == PT_INTERP:
            assert len(name) < p_filesz
            data[p_offset:p_offset + p_filesz] = name.ljust(p_filesz, b"\0")
            path.write_bytes(bytes(data))
            return
    raise AssertionError("%s has no PT_INTERP" % path)


def interp_of(path):
    data = path.read_bytes()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz, _, _ = ELF64_PHDR.unpack_from(data, phoff + i * phentsize)
        if p_type == PT_INTERP:
            return data[p_offset:p_offset + p_filesz].split(b"\0")[0]
    return None


SYSROOT = "/usr/aarch64-linux-gnu"


@needs_root
@pytest.mark.parametrize("mode", [0o700, 0o755])
def test_pt_interp_may_exec_with_guest_credentials(mode):
    """open_exec() of the interpreter checks MAY_EXEC with the credentials
    of the process that execs: uid 54321 cannot run a program whose
    interpreter only root may execute (mode 0700), as on the host kernel
    — although a53emu itself runs as root on the host."""
    guest_prog = BUILD / "glibc" / "hello-dyn"
    if not guest_prog.exists() or not os.path.isdir(SYSROOT):
        pytest.skip("needs the glibc build and %s" % SYSROOT)
    host_prog = BUILD / "host" / PROGRAM
    host_interp = os.path.realpath(os.fsdecode(interp_of(host_prog)))
    guest_interp = os.path.realpath(SYSROOT + os.fsdecode(interp_of(guest_prog)))
    outcomes = []
    for machine, prog, interp, runner in (
            ("host", host_prog, host_interp, [str(BUILD / "host" / "sys_magiclink")]),
            ("guest", guest_prog, guest_interp,
             [sys.executable, "-m", "emu", "run", "-L", SYSROOT,
              str(userland_path("musl", "sys_magiclink"))])):
        d = tempfile.mkdtemp(prefix="a53emu-interp-", dir="/tmp")
        try:
            os.chmod(d, 0o755)
            target = pathlib.Path(d) / "prog"
            shutil.copyfile(prog, target)
            os.chmod(target, 0o755)
            patch_interp(target, b"ld.so")           # relative: looked up from the cwd
            shutil.copyfile(interp, os.path.join(d, "ld.so"))
            os.chmod(os.path.join(d, "ld.so"), mode)
            env = clean_env()
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            p = subprocess.run(runner + ["exec-as-user", "./prog", "termios"], cwd=d, env=env,
                               capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
            outcomes.append((machine, p.stdout.decode(errors="replace"), p.stderr))
        finally:
            shutil.rmtree(d)
    (_, host_out, _), (_, guest_out, guest_err) = outcomes
    if mode == 0o700:
        assert host_out == "execve: EACCES\n"
        assert guest_out == "execve: EACCES\n", guest_err.decode(errors="replace")
    else:
        assert host_out == "TCGETS: ENOTTY\n"          # sys_tty ran
        assert "hello, world" in guest_out, guest_err.decode(errors="replace")


def on_pty_typing(argv, cwd, typed, after=b"ready\n"):
    """Run argv on a new pty that is its controlling terminal, type `typed`
    once it printed `after`; returns (exit status, output without \\r)."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=clean_env(), stdin=slave, stdout=slave,
                                stderr=slave, start_new_session=True, preexec_fn=_take_ctty)
        out = b""
        sent = False
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
            elif proc.poll() is not None:
                break
            if not sent and after in out.replace(b"\r", b""):
                time.sleep(0.2)
                os.write(master, typed)
                sent = True
        status = proc.wait(timeout=10)
        return status, out.replace(b"\r", b"").decode(errors="replace")
    finally:
        os.close(master)
        os.close(slave)


def test_ctrl_c_goes_to_the_foreground_job(libc, tmp_path):
    """A guest job put in the foreground with TIOCSPGRP gets the ^C typed
    on the terminal (kernel/sched/core.py sends it to the console's
    foreground group), not the shell-like init that started it."""
    expected = "ready\n^Cjob: killed by SIGINT\ntake the terminal back: succeeded\n"
    h_status, h_out = on_pty_typing([str(BUILD / "host" / PROGRAM), "fg-job"],
                                    scratch_dir(tmp_path, "host"), b"\x03")
    assert (h_status, h_out) == (0, expected)
    status, out = on_pty_typing(
        [sys.executable, "-m", "emu", "run", str(userland_path(libc, PROGRAM)), "fg-job"],
        scratch_dir(tmp_path, "a53emu"), b"\x03")
    assert (status, out) == (0, expected)
