"""Issue 9 part 5: shared memory and IPC, checked against the real kernel.

userland/src/sys_memfd.c (/dev/zero MAP_SHARED, memfd_create and seals,
POSIX shm under /dev/shm, MADV_REMOVE), sys_shm.c (SysV shm,
/proc/sysvipc/shm, remap_file_pages) and sys_ipc.c (SysV semaphores and
message queues, POSIX message queues) are
self-checking and print only facts that are the same on every Linux; each
is built for the host and for AArch64 (musl, glibc) and compared the way
tests/test_processes.py does.  The host build runs in the host's IPC
namespace: it must remove every object it made (checked here).

A board is an IPC namespace with a tmpfs of its own: two a53emu runs
making the same key and the same /dev/shm name at the same time both
succeed, and when they end (normally or killed) nothing is left on the
host — not the objects, not the board's temporary directory.
"""

import os
import subprocess
import sys

import pytest

from conftest import emu_env, run_a53emu, run_qemu, userland_path
from test_processes import assert_passed, clean_env, host_path, scratch_dir, shell_status

PROGRAMS = ("sys_memfd", "sys_shm", "sys_ipc")
TIMEOUT = 600

# Where qemu-user 7.2 is not Linux, the program runs only its other sections.
QEMU_ARGS = {
    "sys_memfd": (["zero,memfd,seals,shm,no-remove"],
                  "qemu-user 7.2 answers madvise() itself and does nothing for MADV_REMOVE "
                  "(0, the pages stay); the MADV_REMOVE checks are left out."),
    "sys_shm": (["shmget,rmid,shmctl"],
                "qemu-user implements shmat() itself: it ignores SHM_REMAP, adds a mapping of "
                "its own to nattch, and remap_file_pages() of a segment crashes it; the "
                "shmat and remap sections are left out."),
    "sys_ipc": (["semget,semop,undo"],
                "qemu-user 7.2 aborts (cpu_exec assertion) when a forked child sleeps in "
                "msgrcv(), and has no mq_notify() (ENOSYS); the SysV message-queue and POSIX "
                "mqueue sections are left out."),
}

ISOLATION_KEY = 0x5A53E901
ISOLATION_FILE = "/dev/shm/a53emu-isolation"


def host_ipc_keys():
    """Keys of every SysV object on the host (the first column of /proc/sysvipc/*)."""
    keys = set()
    for name in ("shm", "sem", "msg"):
        with open("/proc/sysvipc/" + name) as f:
            for line in f.read().splitlines()[1:]:
                keys.add(int(line.split()[0]) & 0xFFFFFFFF)
    return keys


def program_keys(pid):
    """The keys a program run as pid makes (key_base in sys_shm.c / sys_ipc.c)."""
    keys = set()
    for base in (0x53000000, 0x53100000):
        first = base | ((pid & 0xFFFF) << 4)
        keys.update(range(first, first + 16))
    return keys


def run_host(program, cwd, args=()):
    proc = subprocess.Popen([str(host_path(program))] + list(args), cwd=cwd, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    out, err = proc.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), proc.pid


def board_env(tmpdir):
    """clean_env() with TMPDIR pointing where the board's directory must go (and go away)."""
    env = clean_env()
    env["TMPDIR"] = str(tmpdir)
    return env


@pytest.mark.parametrize("program", PROGRAMS)
def test_host_kernel(program, tmp_path):
    """The host build passes on the host kernel and removes every object it made."""
    cwd = scratch_dir(tmp_path, "host")
    h, pid = run_host(program, cwd)
    assert_passed(h, program, "host")
    assert h.stderr == b""
    assert list(cwd.iterdir()) == []
    assert not host_ipc_keys() & program_keys(pid)
    assert not [n for n in os.listdir("/dev/shm") if n.startswith("a53emu-sys-memfd-")]
    if os.path.isdir("/dev/mqueue"):
        assert not [n for n in os.listdir("/dev/mqueue") if n.startswith("a53emu-sys-ipc-")]


@pytest.mark.parametrize("program", PROGRAMS)
def test_a53emu_matches_host_kernel(libc, program, tmp_path):
    """a53emu prints what the host kernel printed, and leaves nothing behind."""
    h, _pid = run_host(program, scratch_dir(tmp_path, "host"))
    assert_passed(h, program, "host")
    cwd = scratch_dir(tmp_path, "a53emu")
    tmpdir = scratch_dir(tmp_path, "tmp")
    a = run_a53emu([userland_path(libc, program)], cwd=cwd, env=board_env(tmpdir),
                   timeout=TIMEOUT)
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert a.stdout.decode(errors="replace") == h.stdout.decode()
    assert a.stderr.decode(errors="replace") == h.stderr.decode()
    assert a.returncode == h.returncode == 0
    assert list(cwd.iterdir()) == []
    assert list(tmpdir.iterdir()) == []


@pytest.mark.parametrize("program", PROGRAMS)
def test_qemu_matches_host_kernel(libc, program, tmp_path):
    """qemu-aarch64 (the host kernel behind a translator) prints what the host
    build printed, in the sections where qemu-user is Linux."""
    args, _reason = QEMU_ARGS.get(program, ([], None))
    h, _pid = run_host(program, scratch_dir(tmp_path, "host"), args)
    assert_passed(h, program, "host")
    q = run_qemu([userland_path(libc, program)] + args, cwd=scratch_dir(tmp_path, "qemu"),
                 env=clean_env(), timeout=TIMEOUT)
    assert q.stdout.decode(errors="replace") == h.stdout.decode()
    assert shell_status(q.returncode) == h.returncode == 0


def _start_board(tmpdir, args):
    return subprocess.Popen([sys.executable, "-m", "emu", "run",
                             str(userland_path("musl", "sys_shm"))] + args,
                            cwd=tmpdir, env=emu_env(board_env(tmpdir)),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


@pytest.mark.parametrize("kill", [False, True], ids=["exit", "sigkill"])
def test_two_boards_do_not_see_each_other(kill, tmp_path):
    """Two boards at once each make a SysV segment, semaphore set and message
    queue under the same key, and the same /dev/shm file, with IPC_EXCL /
    O_EXCL: both succeed (neither sees the other's).  They exit without
    removing anything (or are killed by SIGKILL), and nothing is left: not in
    the host's IPC namespace, not in its /dev/shm, not in TMPDIR."""
    if not userland_path("musl", "sys_shm").exists():
        pytest.fail("userland/build/musl/sys_shm missing: run `make userland`")
    args = ["isolation"] + (["kill"] if kill else [])
    boards = [_start_board(tmp_path, args) for _ in range(2)]
    try:
        # Both boards hold their objects at the same time before either goes on.
        lines = [b.stdout.readline().decode() for b in boards]
        assert lines == ["shm created, sem created, msg created, /dev/shm file created\n"] * 2
        assert ISOLATION_KEY not in host_ipc_keys()
        assert not os.path.exists(ISOLATION_FILE)
        results = [b.communicate(b"\n", timeout=TIMEOUT) for b in boards]
    finally:
        for b in boards:
            if b.poll() is None:
                b.kill()
                b.wait()
    for b, (out, err) in zip(boards, results):
        assert b"Traceback" not in err, err.decode(errors="replace")
        assert b.returncode == (137 if kill else 0), err.decode(errors="replace")
    assert list(tmp_path.iterdir()) == []
    assert ISOLATION_KEY not in host_ipc_keys()
    assert not os.path.exists(ISOLATION_FILE)


def test_remap_file_pages_warns_once_in_the_trace(tmp_path):
    """4.14's remap_file_pages() logs its deprecation once per boot (pr_warn_once):
    the line shows in the syscall trace, after the first call only."""
    if not userland_path("musl", "sys_shm").exists():
        pytest.fail("userland/build/musl/sys_shm missing: run `make userland`")
    a = run_a53emu(["--trace", "syscall", userland_path("musl", "sys_shm"), "remap"],
                   cwd=tmp_path, env=board_env(tmp_path), timeout=TIMEOUT)
    assert a.returncode == 0, a.stdout.decode(errors="replace")
    err = a.stderr.decode(errors="replace").splitlines()
    warn = [i for i, line in enumerate(err) if line.startswith("[kernel] ")]
    assert len(warn) == 1
    assert err[warn[0]] == ("[kernel] sys_shm (1) uses deprecated remap_file_pages() syscall. "
                            "See Documentation/vm/remap_file_pages.txt.")
    calls = [i for i, line in enumerate(err) if line.startswith("remap_file_pages(")]
    assert len(calls) == 5 and warn[0] < calls[0]
    assert any(line.startswith("shmctl(") and ", IPC_RMID, NULL) = 0" in line for line in err)
    assert any(line.startswith("shmat(") and line.endswith(", NULL, 0) = " + line.split()[-1])
               for line in err)
    assert list(tmp_path.iterdir()) == []

