"""Issue 8, start-up: a program that only writes imports only the write path.

kernel/syscalls/fs.py was split by Linux's layout: read()/write()/
writev()/lseek() are kernel/syscalls/read_write.py's (fs/read_write.c),
ioctl() kernel/fs/ioctl.py's (fs/ioctl.c), and do_vfs_ioctl() imports
fcntl's FIOASYNC handling and the FS_IOC_*FLAGS requests only for those
requests.  A musl hello (set_tid_address, ioctl(TIOCGWINSZ), writev,
exit_group) must then run without the open/stat/namei calls, the path
walk, locks, leases, memfd, fs_flags or /proc being imported; a test of the
import list under `python -X importtime`, with the program's output
checked too (the split must not change what it does).
"""

import os
import pty
import subprocess
import sys

import pytest

from conftest import ROOT, drain_pty, emu_env, userland_path

# Modules a hello's calls do not need (their calls are not made).
NOT_FOR_A_HELLO = ("kernel.syscalls.fs", "kernel.fs.fcntl", "kernel.fs.locks",
                   "kernel.fs.leases", "kernel.mm.memfd", "kernel.fs.fs_flags",
                   "kernel.fs.namei", "kernel.fs.open", "kernel.net.dev_ioctl",
                   "kernel.fs.proc", "kernel.sysctl")
# And the ones its calls do need (the lazy table imports them on the first call).
FOR_A_HELLO = ("kernel.syscalls.read_write", "kernel.fs.ioctl")


def imported(stderr):
    """The module names of `-X importtime`'s lines."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def run_hello(stdout):
    hello = userland_path("musl", "hello")
    if not hello.exists():
        pytest.skip("userland not built (make userland)")
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "emu", "run", str(hello)],
                          cwd=ROOT, env=emu_env(), stdout=stdout, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True, timeout=120)


def check(stderr, returncode, out):
    assert returncode == 0, stderr[-2000:]
    assert "hello, world" in out
    names = imported(stderr)
    for module in FOR_A_HELLO:
        assert module in names, module
    for module in NOT_FOR_A_HELLO:
        assert module not in names, module


def test_a_hello_into_a_pipe_imports_only_its_calls():
    """stdout a pipe: the ioctl is ENOTTY (not a terminal), writev waits as a pipe write."""
    p = run_hello(subprocess.PIPE)
    check(p.stderr, p.returncode, p.stdout)


def test_a_hello_on_a_terminal_imports_only_its_calls():
    """stdout a terminal: TIOCGWINSZ goes to tty_ioctl() (kernel/tty.py)."""
    master, slave = pty.openpty()
    try:
        p = run_hello(slave)
        os.close(slave)
        slave = None
        out = drain_pty(master)
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    check(p.stderr, p.returncode, out.decode())
