"""Issue 9: path permission checks with the guest's credentials, and the
guest's credentials on AF_UNIX sockets.

userland/src/sys_perm.c makes a tree as root, then in children that become
uid 54321 (or a root without its DAC capabilities) checks what open,
mkdir, mknod, symlink, link, unlink, rmdir, rename, execve, chdir, fchdir
and truncate refuse.  Self-checking, built for the host and for AArch64
(musl, glibc):

* the host build passes on the host kernel and leaves nothing behind;
* under a53emu — which runs as host root here, so only the guest kernel's
  own checks (kernel/fs/permission.py) can refuse — the AArch64 build
  prints what the host printed, but for protected_hardlinks: 0 by default
  in 4.14 (commit 561ec64ae67e, v3.7), which a53emu follows, where the
  host's distribution may set 1.

userland/src/sys_wake.c checks that EPOLLEXCLUSIVE wakes one waiter.

userland/src/sys_scm.c checks SCM_CREDENTIALS (implicit with SO_PASSCRED,
explicit with its EINVAL/EPERM/ESRCH) and SO_PEERCRED between tasks with
different real and effective ids: under a53emu (kernel/net/scm.py) they
name guest pids and guest ids, never the host process's.

The reverse — a guest root run by a host user that is not root — is run
in a forked pytest process that drops its host ids before starting the
emulator (the interpreter of this venv may sit where another uid cannot
read it, so a fresh `python -m emu` as that user is not an option).
"""

import errno
import json
import os
import subprocess
import sys
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from conftest import BUILD, userland_path
from test_processes import assert_passed, clean_env, scratch_dir

PROGRAM = "sys_perm"
PROGRAMS = ("sys_perm", "sys_scm")
TIMEOUT = 300
HOST_USER = 54322               # the unprivileged host uid of the reverse test

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the program needs root on the host (setresuid from root)")


def protected_hardlinks():
    try:
        with open("/proc/sys/fs/protected_hardlinks") as f:
            return int(f.read())
    except OSError:
        return 0


def as_4_14(program, text):
    """The host's output as 4.14 with its default sysctls prints it."""
    if program != "sys_perm":
        return text
    value = protected_hardlinks()
    host_line = ("  ok: protected_hardlinks %d: link of root's 0644 file into a 0777 directory: %s"
                 % (value, "EPERM" if value else "0"))
    assert host_line in text.split("\n"), text
    return text.replace(host_line, "  ok: protected_hardlinks 0: link of root's 0644 file into "
                                   "a 0777 directory: 0")


def run_host(cwd, args=(), program=PROGRAM):
    return subprocess.run([str(BUILD / "host" / program)] + list(args), cwd=cwd,
                          env=clean_env(), capture_output=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)


def run_emu(libc, cwd, args=(), flags=(), program=PROGRAM):
    return subprocess.run([sys.executable, "-m", "emu", "run"] + list(flags) +
                          [str(userland_path(libc, program))] + list(args),
                          cwd=cwd, env=clean_env(), capture_output=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)


@needs_root
@pytest.mark.parametrize("program", PROGRAMS)
def test_host_kernel(program, tmp_path):
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(cwd, program=program)
    assert_passed(h, program, "host")
    assert h.stderr == b""
    assert list(cwd.iterdir()) == []


@needs_root
@pytest.mark.parametrize("program", PROGRAMS)
def test_a53emu_matches_host_kernel(libc, program, tmp_path):
    h = run_host(scratch_dir(tmp_path, "host"), program=program)
    assert_passed(h, program, "host")
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_emu(libc, cwd, program=program)
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert a.stdout.decode(errors="replace") == as_4_14(program, h.stdout.decode())
    assert a.returncode == 0
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("program", ["sys_wake"])
def test_wake_ups_match_host_kernel(libc, program, tmp_path):
    """EPOLLEXCLUSIVE: one write to an eventfd wakes every epoll_wait()
    watching it with EPOLLIN, one of those watching it with EPOLLEXCLUSIVE
    (kernel/sched/wait.py add_exclusive())."""
    h = run_host(scratch_dir(tmp_path, "host"), program=program)
    assert_passed(h, program, "host")
    a = run_emu(libc, scratch_dir(tmp_path, "a53emu"), program=program)
    assert a.stdout == h.stdout, a.stderr.decode(errors="replace")
    assert a.returncode == 0


def _run_as_host_user(argv, cwd, out_path):
    """cli.main(argv) in a forked child with host uid/gid HOST_USER and no
    supplementary groups; its stdout goes to out_path.  Returns the exit
    status."""
    from emu import cli
    import resource  # noqa: F401
    # Everything the emulator imports on the way, loaded while this venv is
    # still readable: one run of the program's no-op mode.
    assert cli.main(["run", "--root", argv[-2], "true"]) == 0
    out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    os.fchown(out, HOST_USER, HOST_USER)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.dup2(out, 1)
            os.setgroups([])
            os.setresgid(HOST_USER, HOST_USER, HOST_USER)
            os.setresuid(HOST_USER, HOST_USER, HOST_USER)
            os.chdir(cwd)
            status = cli.main(argv)
        finally:
            sys.stdout.flush()
            os._exit(status if isinstance(status, int) else 1)
    os.close(out)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@needs_root
def test_guest_root_never_widens_the_host_users_rights(tmp_path):
    """a53emu --root run by a host user that is not root: the host's EACCES
    for the host root's 0600 file stands; a file the guest makes is root's
    in the guest's view and its chown succeeds there, while on the host the
    file was the host user's (and nothing is left behind)."""
    program = userland_path("musl", PROGRAM)
    cwd = tempfile.mkdtemp(prefix="a53emu-perm-")      # reachable by the host user
    try:
        os.chmod(cwd, 0o777)
        secret = os.path.join(cwd, "secret")
        with open(secret, "w") as f:
            f.write("root only\n")
        os.chmod(secret, 0o600)
        out = tmp_path / "out"
        status = _run_as_host_user(["run", "--root", str(program), "host-refuses"], cwd, out)
        text = out.read_text()
        assert status == 0, text
        assert text.endswith("all checks passed\n"), text
        assert "  ok: open the host root's 0600: EACCES\n" in text
        assert sorted(os.listdir(cwd)) == ["secret"]
        assert os.stat(secret).st_uid == 0 and os.stat(secret).st_mode & 0o777 == 0o600
    finally:
        for name in os.listdir(cwd):
            os.unlink(os.path.join(cwd, name))
        os.rmdir(cwd)


def test_no_walk_when_the_guest_is_the_host(monkeypatch, tmp_path):
    """A guest whose ids and capabilities are the host process's, with an
    empty overlay, gets the host's answers: no lookup is made at all."""
    from emu.board import Board
    from kernel.fs import permission
    from kernel.main import Kernel
    kernel = Kernel(Board(ram_size=16 << 20, cores=1))

    class Task:
        pass
    task = Task()
    task.kernel = kernel
    task.cred = permission._host_cred().copy()

    def no_walk(*args):
        raise AssertionError("walked")
    monkeypatch.setattr(permission, "path_lookup", no_walk)
    assert permission.host_equivalent(task)
    assert permission.may_open_path(task, None, str(tmp_path).encode(), os.O_RDONLY) == 0
    permission.may_walk(task, None, str(tmp_path).encode() + b"/x")
    task.cred.fsuid += 1
    assert not permission.host_equivalent(task)
    with pytest.raises(AssertionError):
        permission.may_open_path(task, None, str(tmp_path).encode(), os.O_RDONLY)


def test_path_lookup_follows_links_and_checks_search(tmp_path):
    """path_lookup(): a symlink in the middle is followed (its target's
    directories are searched), a missing component stops the walk for the
    host to report, a search refusal is EACCES."""
    from emu.board import Board
    from kernel.cred import Cred
    from kernel.fs import permission
    from kernel.main import Kernel

    class Task:
        pass
    task = Task()
    task.kernel = Kernel(Board(ram_size=16 << 20, cores=1))
    task.cred = Cred(54321, 54321)
    base = tmp_path / "t"
    (base / "open" / "sub").mkdir(parents=True)
    (base / "shut").mkdir(mode=0o700)
    (base / "shut" / "f").write_text("x")
    (base / "link").symlink_to("shut")
    (base / "open" / "sub" / "f").write_text("x")
    os.chmod(base, 0o755)
    fd = os.open(base, os.O_PATH | os.O_DIRECTORY)      # the walk starts here
    try:
        nd = permission.path_lookup(task, fd, b"open/sub/f", follow=True)
        assert (nd.err, nd.complete, nd.last) == (0, True, b"f") and nd.st is not None
        nd = permission.path_lookup(task, fd, b"link/f", follow=True)
        assert nd.err == -errno.EACCES
        nd = permission.path_lookup(task, fd, b"link", follow=False)
        assert nd.err == 0 and nd.st is not None        # the link itself: no search of shut
        nd = permission.path_lookup(task, fd, b"open/none/f", follow=True)
        assert (nd.err, nd.complete) == (0, False)
        nd = permission.path_lookup(task, fd, b"open/none", follow=True)
        assert (nd.err, nd.complete, nd.st) == (0, True, None)
        nd = permission.path_lookup(task, fd, b"open/sub/..", follow=True)
        assert nd.last_type == permission.LAST_DOTDOT
        os.chmod(base, 0o700)
        nd = permission.path_lookup(task, fd, b"open", follow=True)
        assert nd.err == -errno.EACCES                  # the start is searched too
    finally:
        os.chmod(base, 0o755)
        os.close(fd)


def test_board_rtnetlink_answers_every_request_eopnotsupp():
    """The board's rtnetlink has no handlers: a request is answered with
    NLMSG_ERROR -EOPNOTSUPP echoing it (netlink_ack()); a non-request is
    acked only with NLM_F_ACK (error 0, the header alone).  Sending
    autobinds: the tgid, then -4096 for a second socket of the process."""
    import struct
    import types
    from emu.board import Board
    from kernel.cred import Cred
    from kernel.main import Kernel
    from kernel.net import netlink
    kernel = Kernel(Board(ram_size=16 << 20, cores=1))
    task = types.SimpleNamespace(kernel=kernel, tgid=77, cred=Cred(1000, 1000))
    a = netlink.netlink_create(task, netlink.SOCK_RAW, netlink.NETLINK_ROUTE, 0)
    b = netlink.netlink_create(task, netlink.SOCK_DGRAM, netlink.NETLINK_ROUTE, 0)
    assert netlink.netlink_create(task, 1, 0, 0) == -errno.ESOCKTNOSUPPORT
    assert netlink.netlink_create(task, netlink.SOCK_RAW, 9, 0) == -errno.EPROTONOSUPPORT
    try:
        getlink = netlink.NLMSGHDR.pack(20, 18, netlink.NLM_F_REQUEST | 0x300, 7, 0) + bytes(4)
        assert netlink.netlink_sendmsg(task, a, getlink, (0, 0)) == len(getlink)
        assert a.portid == 77
        with a.borrow() as s:
            reply = s.recv(256)
        length, type_, flags, seq, pid = netlink.NLMSGHDR.unpack_from(reply)
        assert (length, type_, flags, seq, pid) == (16 + 4 + 20, netlink.NLMSG_ERROR, 0, 7, 77)
        assert struct.unpack_from("<i", reply, 16)[0] == -errno.EOPNOTSUPP
        assert reply[20:] == getlink
        ack_only = netlink.NLMSGHDR.pack(16, 18, netlink.NLM_F_ACK, 8, 0)
        assert netlink.netlink_sendmsg(task, b, ack_only, (0, 0)) == 16
        assert b.portid == -4096
        with b.borrow() as s:
            reply = s.recv(256)
        assert struct.unpack_from("<i", reply, 16)[0] == 0 and reply[20:] == ack_only
        assert netlink.netlink_sendmsg(task, b, ack_only, (12345, 0)) == -errno.ECONNREFUSED
        assert netlink.netlink_sendmsg(task, b, ack_only, (0, 1)) == -errno.EPERM
    finally:
        a.put()
        b.put()
    assert kernel.netlink_ports == {}


# -- the walk against the host kernel, as a property ----------------------------------

_WALK_USER, _WALK_GROUP = 54323, 654
_WALK_PATHS = (b"a/f", b"a/b/f", b"l1/f", b"c/f", b"a/../c/f", b"a/b/../../c/f", b"a/l2/f",
               b"l1/../f", b"a/b/none/f", b"c/none", b"l3", b"a/b/f/x")


def _host_verdicts(base_fd, paths):
    """errno of stat() of each path (0 if it worked), as the unprivileged
    user on the host kernel, in a forked child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(_WALK_GROUP, _WALK_GROUP, _WALK_GROUP)
            os.setresuid(_WALK_USER, _WALK_USER, _WALK_USER)
            out = []
            for p in paths:
                try:
                    os.stat(p, dir_fd=base_fd)
                    out.append(0)
                except OSError as e:
                    out.append(e.errno)
            os.write(w, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


@needs_root
@settings(max_examples=25, deadline=None)
@given(modes=st.lists(st.sampled_from([0o700, 0o711, 0o750, 0o755, 0o705, 0o701, 0o710, 0o644]),
                      min_size=3, max_size=3),
       groups=st.lists(st.sampled_from([0, _WALK_GROUP]), min_size=3, max_size=3))
def test_walk_refuses_what_the_host_kernel_refuses(modes, groups):
    """path_lookup() with a user's cred says EACCES exactly where the host
    kernel, asked by that user, says EACCES: random modes and groups on a
    tree with symlinks and "..", relative to a directory descriptor."""
    import shutil
    from emu.board import Board
    from kernel.cred import Cred
    from kernel.fs import permission
    from kernel.main import Kernel
    top = tempfile.mkdtemp(prefix="a53emu-walk-")
    try:
        for d in ("a", "a/b", "c"):
            os.mkdir(os.path.join(top, d))
        for d in ("a/b", "c", ""):
            with open(os.path.join(top, d, "f"), "w") as f:
                f.write("x")
        os.symlink("a/b", os.path.join(top, "l1"))
        os.symlink("../c", os.path.join(top, "a", "l2"))
        os.symlink("c/f", os.path.join(top, "l3"))
        for d, mode, gid in zip(("a", "a/b", "c"), modes, groups):
            os.chown(os.path.join(top, d), 0, gid)
            os.chmod(os.path.join(top, d), mode)
        os.chmod(top, 0o755)
        base = os.open(top, os.O_PATH | os.O_DIRECTORY)
        try:
            host = _host_verdicts(base, _WALK_PATHS)

            class Task:
                pass
            task = Task()
            task.kernel = Kernel(Board(ram_size=16 << 20, cores=1))
            task.cred = Cred(_WALK_USER, _WALK_GROUP)
            for path, want in zip(_WALK_PATHS, host):
                nd = permission.path_lookup(task, base, path, follow=True)
                assert (nd.err == -errno.EACCES) == (want == errno.EACCES), (path, modes, groups,
                                                                             want, nd.err)
        finally:
            os.close(base)
    finally:
        shutil.rmtree(top)
