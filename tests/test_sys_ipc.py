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

from conftest import ROOT, emu_env, run_a53emu, run_qemu, userland_path
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


# --- the board's temporary directory, in-process --------------------------------

def _namespace(monkeypatch, tmp_path):
    import tempfile

    from kernel.ipc.namespace import IpcNamespace
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return IpcNamespace()


def test_namespace_directory_is_made_on_first_use_and_removed(monkeypatch, tmp_path):
    """A board that never touches /dev/shm or memfd makes no directory; one
    that does gets a private one (0700) that shutdown() removes, with
    everything in it."""
    ns = _namespace(monkeypatch, tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert not ns.owns(b"/tmp")
    root = ns.host_root()
    assert os.path.dirname(root) == os.fsencode(tmp_path)
    assert os.stat(root).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(root, b"shm")).st_mode & 0o7777 == 0o1777
    with open(ns.shm_path(b"/dev/shm/left-behind"), "w") as f:
        f.write("x")
    assert ns.owns(ns.shm_path(b"/dev/shm/left-behind"))
    assert ns.host_root() == root
    ns.shutdown()
    assert list(tmp_path.iterdir()) == []
    ns.shutdown()                       # twice is harmless


def test_dev_shm_names_map_into_the_board(monkeypatch, tmp_path):
    """Only /dev/shm and what is under it is the board's tmpfs."""
    ns = _namespace(monkeypatch, tmp_path)
    root = os.fsencode(tmp_path)
    assert ns.shm_path(b"/dev/zero") is None
    assert ns.shm_path(b"/dev/shmem") is None
    assert list(tmp_path.iterdir()) == []       # asking about other names makes nothing
    shm = ns.shm_path(b"/dev/shm")
    assert shm.startswith(root) and shm.endswith(b"/shm")
    assert ns.shm_path(b"/dev/shm/a/b") == shm + b"/a/b"
    ns.shutdown()


def test_namespace_directory_goes_with_the_namespace(monkeypatch, tmp_path):
    """If the kernel never shuts down (a crash of the emulator itself), the
    directory still goes when the namespace is collected or Python exits."""
    import gc
    ns = _namespace(monkeypatch, tmp_path)
    ns.host_root()
    assert len(list(tmp_path.iterdir())) == 1
    del ns
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_ipc_ids_reuse_the_lowest_index_with_a_new_sequence():
    """ipc_addid(): ids are seq * 32768 + index; a freed index is reused with
    the next sequence number, so the old id stays invalid."""
    from kernel.ipc.namespace import IpcIds
    from kernel.ipc.util import ipc_addid, ipc_obtain_object_check, ipc_rmid

    class Obj:
        def __init__(self):
            self.perm = type("P", (), {"deleted": False})()

    ids = IpcIds()
    a, b = Obj(), Obj()
    assert ipc_addid(ids, a, 10) == 0
    assert ipc_addid(ids, b, 10) == 32768 + 1
    assert ids.max_id == 1
    ipc_rmid(ids, a)
    assert a.perm.deleted and ids.in_use == 1
    c = Obj()
    assert ipc_addid(ids, c, 10) == 2 * 32768
    assert ipc_obtain_object_check(ids, 0) == -22
    assert ipc_obtain_object_check(ids, 2 * 32768) is c
    assert ipc_addid(ids, Obj(), 2) == -28        # ENOSPC: the class is full


# --- bad input: random arguments to every call of this part -----------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

IPC_CALLS = ("shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
             "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
             "mq_timedreceive", "mq_getsetattr", "mq_notify", "memfd_create",
             "remap_file_pages")
BUF = 0x10000000                        # a mapped, writable page run in the fuzz task


def _fuzz_env(tmp_path_factory):
    import tempfile

    from kernel.fs.file import FdTable
    from kernel.mm.mmap import do_mmap
    from kernel.sched.task import FsStruct
    from kernel.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE
    from test_vma import Env
    tempfile.tempdir = str(tmp_path_factory.mktemp("fuzz-tmp"))
    env = Env()
    env.task.files = FdTable()
    env.task.fs = FsStruct(str(tmp_path_factory.mktemp("fuzz-cwd")))
    do_mmap(env.mm, None, BUF, 4 << 12, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0)
    return env


ARG = st.one_of(st.sampled_from([0, 1, 2, 3, 11, 12, 13, 14, 15, 16, 17, 0x1000, 0x800,
                                 0o1000, 0o2000, 0o1600, (1 << 32) - 1, (1 << 64) - 1,
                                 1 << 63, BUF, BUF + 8, BUF + 0x3FF0, 8, 32768]),
                st.integers(0, (1 << 64) - 1))


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    import tempfile
    old = tempfile.tempdir
    env = _fuzz_env(tmp_path_factory)
    yield env
    env.k.ipc_ns.shutdown()
    env.task.files.close_all()
    tempfile.tempdir = old


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(IPC_CALLS), args=st.lists(ARG, min_size=6, max_size=6))
def test_random_arguments_give_errnos_not_tracebacks(fuzz_env, name, args):
    """Any arguments: a result or a Linux errno (EFAULT from a bad pointer,
    a sleep), never a Python exception."""
    from kernel.sched.wait import WouldBlock
    from kernel.syscalls.table import _DEFS
    from kernel.uaccess import Efault
    d = next(d for d in _DEFS if d.name == name)
    task = fuzz_env.task
    task.restart = None
    try:
        ret = d.func(task, *args[:d.nargs])
    except (Efault, WouldBlock):
        return
    assert isinstance(ret, int)
    assert ret >= 0 or -4095 <= ret < 0
