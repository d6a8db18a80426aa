"""Issue 9 part 6: events, polling and sockets, checked against the real kernel.

userland/src/sys_events.c (eventfd2, epoll, signalfd4, poll/ppoll/pselect6
on every descriptor kind) and sys_sockets.c (AF_UNIX socketpairs, names,
SCM_RIGHTS, options; AF_INET on loopback) are self-checking and built for
the host and for AArch64 (musl, glibc), as tests/test_processes.py does:

* the host build passes on the host kernel;
* the AArch64 build under a53emu prints exactly what the host build printed,
  with 4.14's line where the host kernel is newer and answers differently
  (KERNEL_4_14: the line, both answers, the change);
* under qemu-aarch64 the same, except the checks where qemu-user is not
  Linux (QEMU_GAPS, with the reason).

Then what only the board decides: the `--net` policies, abstract AF_UNIX
names private to the board (a host socket bound to the same abstract name
does not disturb the guest) with nothing left on the host, and the strace
lines of the new calls.
"""

import glob
import os
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, run_a53emu, run_qemu, userland_path

PROGRAMS = ("sys_events", "sys_sockets")
TIMEOUT = 300

# program -> [(line, 4.14's line, newer kernels' line, reason)]
KERNEL_4_14 = {
    "sys_events": [
        ("  signalfd4 with a bad mask pointer: EINVAL",
         "  signalfd4 with a bad mask pointer: EFAULT",
         "4.14's signalfd4() folds a failing copy_from_user() of the mask into EINVAL "
         "(`if (sizemask != sizeof(sigset_t) || copy_from_user(...)) return -EINVAL`). "
         "Commit a089e3fd5a82 ('fs/signalfd.c: fix inconsistent return codes for "
         "signalfd4', v5.8) made it EFAULT; it was backported to 5.7.18, 5.4.y and "
         "4.19.142 but not to 4.14.y (4.14.195, which took that stable batch, has no "
         "fs/signalfd.c change)."),
    ],
}

# program -> [(line prefix, reason)]: checks where qemu-user 7.2 is not Linux.
QEMU_GAPS = {
    "sys_events": [
        ("the value was consumed before the copy failed",
         "qemu-user checks the guest buffer before calling read(), so a bad buffer is EFAULT "
         "without the eventfd counter being consumed."),
        ("sizemask 4",
         "qemu-user converts the guest sigset itself and does not pass sizemask through."),
    ],
    "sys_sockets": [
        ("a flag other than SOCK_CLOEXEC/SOCK_NONBLOCK",
         "qemu-user strips the type flags it knows and passes the rest as the type."),
        ("room for two of three",
         "qemu-user converts control messages itself: truncation and MSG_CMSG_CLOEXEC in "
         "msg_flags differ."),
    ],
}


def host_binary(name):
    path = BUILD / "host" / name
    if not path.exists():
        pytest.fail("userland/build/host/%s missing: run `make userland`" % name)
    return path


def run_host(name, cwd, args=()):
    return subprocess.run([str(host_binary(name))] + list(args), cwd=cwd, capture_output=True,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def passed(proc, what):
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, "%s exited %d:\n%s\n%s" % (
        what, proc.returncode, out, proc.stderr.decode(errors="replace"))
    assert "FAILED" not in out, out
    assert out.rstrip("\n").split("\n")[-1].endswith("all checks passed"), out
    return out


def as_4_14(program, host_out):
    """The host's lines with 4.14's answer where the host kernel is newer."""
    lines = host_out.split("\n")
    for old, new, _reason in KERNEL_4_14.get(program, []):
        assert new in lines or old in lines, "the host printed neither %r nor %r" % (old, new)
        lines = [old if line == new else line for line in lines]
    return "\n".join(lines)


def scratch(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    return d


@pytest.mark.parametrize("program", PROGRAMS)
def test_host_kernel(program, tmp_path):
    cwd = scratch(tmp_path, "host")
    passed(run_host(program, cwd), "host " + program)
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("program", PROGRAMS)
def test_a53emu_matches_host_kernel(libc, program, tmp_path):
    """a53emu prints what the host kernel printed (4.14's answer where they differ)."""
    host = passed(run_host(program, scratch(tmp_path, "host")), "host")
    cwd = scratch(tmp_path, "a53emu")
    a = run_a53emu([userland_path(libc, program)], cwd=cwd, timeout=TIMEOUT)
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    out = passed(a, "a53emu " + program)
    assert out == as_4_14(program, host)
    assert a.stderr == b""
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("program", PROGRAMS)
def test_qemu_matches_host_kernel(libc, program, tmp_path):
    """qemu-aarch64 prints what the host printed, except its documented gaps
    (which must really fail there: a gap that passes is a stale entry)."""
    host = passed(run_host(program, scratch(tmp_path, "host")), "host").split("\n")
    cwd = scratch(tmp_path, "qemu")
    q = run_qemu([userland_path(libc, program)], cwd=cwd, timeout=TIMEOUT)
    qemu = q.stdout.decode(errors="replace").split("\n")
    gaps = [prefix for prefix, _ in QEMU_GAPS.get(program, [])]

    def is_gap(line):
        return any(prefix in line for prefix in gaps)
    for prefix in gaps:
        assert any(prefix in line and "FAILED" in line for line in qemu), \
            "qemu passes %r now: drop it from QEMU_GAPS" % prefix
    keep = [line for line in host[:-2] if not is_gap(line)]
    assert [line for line in qemu[:-2] if not is_gap(line)] == keep
    assert list(cwd.iterdir()) == []


# --- the --net policies -------------------------------------------------------------------

NET_EXPECTED = {
    # A kernel without CONFIG_INET/CONFIG_IPV6.
    "none": ["socket(AF_INET): EAFNOSUPPORT", "socket(AF_INET6): EAFNOSUPPORT"],
    # A network namespace with only lo: foreign addresses are not local
    # (EADDRNOTAVAIL) and have no route (ENETUNREACH); the wildcard binds to
    # loopback on the host but reads back as the wildcard.
    "loopback": ["socket(AF_INET): ok", "socket(AF_INET6): ok",
                 "bind 192.0.2.1: EADDRNOTAVAIL", "connect 192.0.2.1: ENETUNREACH",
                 "bind 0.0.0.0: succeeded", "getsockname: 0.0.0.0",
                 "bind ::1: succeeded", "sendto 2001:db8::1: ENETUNREACH",
                 "127.0.0.1 to a [::] listener: succeeded", "its name: ::"],
}


@pytest.mark.parametrize("mode", sorted(NET_EXPECTED))
def test_net_policy(mode, tmp_path):
    a = run_a53emu(["--net", mode, userland_path("musl", "sys_sockets"), "net"], cwd=tmp_path,
                   timeout=TIMEOUT)
    assert a.returncode == 0, a.stderr.decode(errors="replace")
    assert a.stdout.decode().split("\n")[:-1] == NET_EXPECTED[mode]


def test_net_host_is_the_hosts(tmp_path):
    """--net host answers as the host kernel does (IPv6 to a documentation
    address may or may not have a route: both sides must agree)."""
    h = run_host("sys_sockets", tmp_path, ["net"])
    a = run_a53emu(["--net", "host", userland_path("musl", "sys_sockets"), "net"],
                   cwd=tmp_path, timeout=TIMEOUT)
    assert a.returncode == h.returncode == 0
    assert a.stdout == h.stdout


def test_default_net_is_loopback(tmp_path):
    a = run_a53emu([userland_path("musl", "sys_sockets"), "net"], cwd=tmp_path,
                   timeout=TIMEOUT)
    assert a.stdout.decode().split("\n")[:-1] == NET_EXPECTED["loopback"]


def test_a_host_client_wakes_a_board_server(tmp_path):
    """A board task sleeping in poll() and accept() on 127.0.0.1 is woken by a
    connection from the host (the board does not call that a deadlock)."""
    from conftest import emu_env
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "emu", "run",
                             str(userland_path("musl", "sys_sockets")), "serve"],
                            cwd=tmp_path, env=emu_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("port "), line + proc.stderr.read().decode()
        time.sleep(0.5)                 # let the board go to sleep in poll() first
        with socket.create_connection(("127.0.0.1", int(line.split()[1])), timeout=60) as c:
            c.sendall(b"hello board")
            assert c.recv(64) == b"hello board"
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err.decode()
    assert out == b"echoed 11 bytes\n"


# --- abstract names are the board's own ------------------------------------------------

def test_abstract_names_private_to_the_board(tmp_path):
    """The program binds "\\0a53emu-sys-sockets-1" (it runs as pid 1).  A host
    socket holding that abstract name does not make the guest's bind fail,
    and the board leaves no temporary directory behind."""
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "a53emu-unix-*")))
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        holder.bind(b"\0a53emu-sys-sockets-1")
        a = run_a53emu([userland_path("musl", "sys_sockets")], cwd=tmp_path, timeout=TIMEOUT)
    finally:
        holder.close()
    out = passed(a, "a53emu sys_sockets")
    assert "  ok: bind an abstract name" in out
    after = set(glob.glob(os.path.join(tempfile.gettempdir(), "a53emu-unix-*")))
    assert after == before


# --- strace lines --------------------------------------------------------------------------

def test_strace_formats(tmp_path):
    a = run_a53emu(["--trace", "syscall", userland_path("musl", "sys_sockets")], cwd=tmp_path,
                   timeout=TIMEOUT)
    trace = a.stderr.decode(errors="replace")
    for line in (
        "socket(AF_UNIX, SOCK_STREAM|0x100000 /* SOCK_??? */, 0) = -1 EINVAL (Invalid argument)",
        "socket(0x10e1 /* AF_??? */, SOCK_STREAM, 0) = -1 EAFNOSUPPORT",
        "socketpair(AF_INET, SOCK_STREAM, 0, ",
        ") = -1 EOPNOTSUPP (Operation not supported)",
        "socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0, [3, 4]) = 0",
        'bind(3, {sa_family=AF_UNIX, sun_path="sock"}, 7) = 0',
        'connect(4, {sa_family=AF_UNIX, sun_path="no-such-sock"}, 15) = -1 ENOENT',
        "bind(3, {sa_family=AF_UNIX, sun_path=@\"a53emu-sys-sockets-1\"}, 23) = 0",
        'sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        "recvfrom(3, \"ab\", 2, MSG_PEEK, NULL, NULL) = 2",
        "getsockopt(3, SOL_SOCKET, SO_DOMAIN, ",
        "setsockopt(3, SOL_SOCKET, SO_RCVTIMEO_OLD, ",
        "shutdown(3, 0x7 /* SHUT_??? */) = -1 EINVAL",
        "sendmsg(",
    ):
        assert line in trace, line
    e = run_a53emu(["--trace", "syscall", userland_path("musl", "sys_events")], cwd=tmp_path,
                   timeout=TIMEOUT)
    trace = e.stderr.decode(errors="replace")
    for line in (
        "eventfd2(3, EFD_CLOEXEC|EFD_NONBLOCK) = 3",
        "epoll_create1(EPOLL_CLOEXEC) = 3",
        "epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN, data={u32=1, u64=1}}) = 0",
        "epoll_ctl(3, EPOLL_CTL_ADD, 3, {events=EPOLLIN, data={u32=0, u64=0}}) = -1 EINVAL",
        "signalfd4(-1, [USR1 USR2 ",
        "], 8, SFD_CLOEXEC|SFD_NONBLOCK) = ",
    ):
        assert line in trace, line


# --- bad input: random arguments to every new call ------------------------------------

def _fuzz_env(tmp_path):
    """An in-process kernel and task (as tests/test_mm_syscalls.py) with a
    page of random bytes at BUF and one descriptor of every kind."""
    from kernel.fs.file import FdTable
    from kernel.sched.task import FsStruct
    from test_vma import Env
    e = Env()
    e.task.files = FdTable()
    e.task.fs = FsStruct(str(tmp_path))
    return e


_NEW_CALLS = ("eventfd2", "epoll_create1", "epoll_ctl", "epoll_pwait", "signalfd4",
              "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "socket", "socketpair",
              "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
              "shutdown", "sendto", "recvfrom", "sendmsg", "recvmsg", "setsockopt",
              "getsockopt", "sendmmsg", "recvmmsg", "read", "write", "readv", "writev", "ppoll", "pselect6",
              "fstat", "lseek", "fcntl", "close")


@pytest.mark.slow
def test_fuzz_new_calls_never_raise(tmp_path):
    """Random arguments (descriptors of every kind, good and bad pointers,
    random flags) give an errno or a result, never a Python exception other
    than the two the syscall entry turns into a sleep or EFAULT."""
    import random
    from hypothesis import given, settings, strategies as st, HealthCheck
    from kernel.mm.mmap import do_mmap
    from kernel.sched.wait import WouldBlock
    from kernel.syscalls.table import _DEFS, SyscallTable
    from kernel.uaccess import Efault
    from kernel.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE

    env = _fuzz_env(tmp_path)
    SyscallTable(env.k)                     # imports every handler module
    defs = {d.name: d for d in _DEFS if d.name in _NEW_CALLS}
    assert set(defs) == set(_NEW_CALLS)
    buf = 0x400000
    do_mmap(env.mm, None, buf, 4096, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0)
    task = env.task
    # One of each kind to aim at: eventfd, epoll, signalfd, inotify, sockets, pipe.
    for name, args in (("eventfd2", (0, 0)), ("epoll_create1", (0,)), ("inotify_init1", (0,)),
                       ("socket", (1, 1, 0)), ("socket", (1, 2, 0)), ("socket", (2, 2, 0))):
        defs[name].func(task, *args)
    task.uaccess.copy_to_user(buf, bytes(8))
    defs["signalfd4"].func(task, 2**64 - 1, buf, 8, 0)
    defs["socketpair"].func(task, 1, 5, 0, buf)
    next(d for d in _DEFS if d.name == "pipe2").func(task, buf, 0)     # fds 9, 10
    # No '/' anywhere in user memory: no name the calls make can leave tmp_path.
    alphabet = bytes(b for b in range(256) if b != ord("/"))
    pointers = st.sampled_from([0, 16, buf, buf + 8, buf + 4090, buf + 4096, 1 << 47,
                                (1 << 64) - 8])
    fds = st.sampled_from([-1 & (2**64 - 1), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99, 2**32 - 1])
    ints = st.one_of(st.integers(0, 16), st.sampled_from([2**31, 2**32 - 1, 2**63, 2**64 - 1]),
                     st.integers(0, 2**64 - 1))

    def arg(fmt):
        kind = fmt.partition(":")[0]
        if kind in ("fd", "dirfd"):
            return fds
        if kind in ("p", "path", "ibuf", "obuf", "iov", "sockaddr", "msghdr", "epollevent",
                    "sigset", "fdpair"):
            return pointers
        return ints

    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data(), st.integers(0, 2**32 - 1))
    def run(data, seed):
        rng = random.Random(seed)
        task.uaccess.copy_to_user(buf, bytes(rng.choice(alphabet) for _ in range(4096)))
        d = defs[data.draw(st.sampled_from(sorted(defs)))]
        args = [data.draw(arg(fmt)) for fmt in d.args]
        if d.name == "close" and args[0] <= 10:
            return                          # keep the descriptors to aim at
        task.restart = None
        try:
            ret = d.func(task, *args)
        except (WouldBlock, Efault):
            return
        assert isinstance(ret, int), (d.name, args, ret)
        assert ret >= -4095 or d.name in ("lseek",), (d.name, args, ret)
    try:
        run()
    finally:
        task.files.close_all()


# --- the polling interface ---------------------------------------------------------------

def test_poll_table_sleeps_until_the_earliest_deadline():
    """A file that becomes ready at a time (a timer) bounds the sleep of
    ppoll/epoll; the call's own timeout still counts when it is earlier."""
    from kernel.fs.poll import PollTable
    from kernel.sched.wait import WaitQueue, WouldBlock

    def deadline_of(pt, own):
        with pytest.raises(WouldBlock) as wb:
            pt.sleep(own)
        return wb.value.deadline
    pt = PollTable()
    assert deadline_of(pt, None) is None
    pt.poll_wait_until(5.0)
    pt.poll_wait_until(7.0)
    assert deadline_of(pt, None) == 5.0
    assert deadline_of(pt, 10.0) == 5.0
    assert deadline_of(pt, 3.0) == 3.0
    q = WaitQueue("q")
    pt.poll_wait(q)
    pt.poll_wait(q)
    pt.poll_wait_host(9, 1, external=True)
    with pytest.raises(WouldBlock) as wb:
        pt.sleep()
    assert wb.value.queues == (q,) and wb.value.fds == ((9, 1),) and wb.value.external


def test_a_wait_for_input_does_not_watch_output(tmp_path):
    """ppoll/pselect6 for input on a socket (always writable) sleep on the
    host descriptor for input only: watching POLLOUT too would end the sleep
    at once, again and again (a busy loop instead of a sleep)."""
    import struct
    from kernel.fs.poll import POLLIN, POLLOUT
    from kernel.mm.mmap import do_mmap
    from kernel.sched.wait import WouldBlock
    from kernel.syscalls.table import _DEFS, SyscallTable
    from kernel.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE
    env = _fuzz_env(tmp_path)
    SyscallTable(env.k)
    defs = {d.name: d.func for d in _DEFS}
    task, buf = env.task, 0x400000
    do_mmap(env.mm, None, buf, 4096, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0)
    try:
        assert defs["socketpair"](task, 1, 1, 0, buf) == 0
        fd = struct.unpack("<i", task.uaccess.copy_from_user(buf, 4))[0]
        task.uaccess.copy_to_user(buf, struct.pack("<ihh", fd, POLLIN, 0))
        with pytest.raises(WouldBlock) as wb:
            defs["ppoll"](task, buf, 1, 0, 0, 8)
        assert [ev & (POLLIN | POLLOUT) for _, ev in wb.value.fds] == [POLLIN]
        task.restart = None
        task.uaccess.copy_to_user(buf, (1 << fd).to_bytes(8, "little"))
        with pytest.raises(WouldBlock) as wb:
            defs["pselect6"](task, fd + 1, buf, 0, 0, 0, 0)
        assert [ev & (POLLIN | POLLOUT) for _, ev in wb.value.fds] == [POLLIN]
    finally:
        task.restart = None
        task.files.close_all()
