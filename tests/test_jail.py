"""`a53emu run --jail DIR` (issue 10 part 5): every guest path resolves
below DIR as after chroot(DIR), and nothing outside DIR is read, written
or made.

* userland/src/jail_escape.c tries every escape it knows (".." chains,
  absolute and relative symlinks, loops and the 40-link limit,
  /proc/self/root and /proc/self/cwd, directory descriptors, renames
  racing a walk, link/symlink/mkdir/rename/bind across the boundary,
  the nested chroot() and the classic chroot escape) and checks each
  answer; here it runs with both resolvers (openat2 RESOLVE_IN_ROOT and
  the checked walk), as the host's user and as the guest's root, and the
  host tree around the jail is compared before and after;
* the same source runs under a real chroot(8) on the host (as root, in a
  private mount namespace with /proc and a tmpfs /dev/shm) and must give
  the same answers — except the classic escape, which a real chroot lets
  through (that is why --jail is more than chroot);
* kernel/fs/jail.py's lookup() is tested in-process with both resolvers,
  and with an openat2 that answers ENOSYS (an older host);
* a dynamically linked glibc program runs in a jail holding its ld.so and
  libc: PT_INTERP is looked up inside the jail.
"""

import ctypes
import errno
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD, run_a53emu, userland_path
from kernel.fs import jail
from test_processes import clean_env

SECRET = b"SECRET\n"
SYSROOT = Path("/usr/aarch64-linux-gnu/lib")


def _make_jail(tmp_path):
    """tmp_path/jail (the guest's /) and tmp_path/outside/secret."""
    root = tmp_path / "jail"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("jail passwd\n")
    (root / "JAIL_MARK").write_text("")
    outside = tmp_path / "outside"
    (outside / "sentinel").mkdir(parents=True)
    (outside / "secret").write_bytes(SECRET)
    (outside / "sentinel" / "file").write_bytes(b"untouched\n")
    return root, outside / "secret"


def _snapshot(top, skip):
    """Every name under top but skip, with what a write, chmod, rename or
    new link would change."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        if Path(dirpath) == skip:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p == skip:
                continue
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
            out[str(p.relative_to(top))] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_nlink,
                                            digest)
    st = Path(top).stat()
    out["."] = (st.st_mode, st.st_mtime_ns, st.st_nlink)
    return out


def _run_jailed(tmp_path, libc, opts=(), env=None):
    root, secret = _make_jail(tmp_path)
    before = _snapshot(tmp_path, root)
    etc_before = sorted(os.listdir("/etc"))
    shm_before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    run = run_a53emu(list(opts) + ["--jail", root, userland_path(libc, "jail_escape"), secret],
                     cwd=tmp_path, env=env or clean_env(), timeout=300)
    out = run.stdout.decode(errors="replace")
    assert run.returncode == 0, out + run.stderr.decode(errors="replace")
    assert "passed: 0 failure(s)" in out
    assert "FAIL" not in out
    # Nothing outside the jail was read into, written, made, renamed or linked.
    assert _snapshot(tmp_path, root) == before
    assert (secret.parent / "secret").read_bytes() == SECRET
    assert sorted(os.listdir("/etc")) == etc_before
    if os.path.isdir("/dev/shm"):
        assert "jail_escape_shm" not in set(os.listdir("/dev/shm")) - shm_before
    # ... and what the guest made is in the jail.
    for name in ("abs", "rel", "hl", "sym", "sock", "fifo", "made_through_link", "d1", "sub"):
        assert os.path.lexists(root / name), name
    return out


@pytest.mark.parametrize("resolver", ["openat2", "walk"])
def test_escapes(libc, tmp_path, resolver):
    """Every escape fails, with RESOLVE_IN_ROOT and with the checked walk."""
    env = clean_env()
    if resolver == "walk":
        env["A53EMU_JAIL_WALK"] = "1"
    _run_jailed(tmp_path, libc, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("resolver", ["openat2", "walk"])
def test_escapes_as_guest_root(libc, tmp_path, resolver):
    """The guest's root (--root: every capability, chroot() allowed, and on
    a host run by root no permission check left but the host's) escapes
    no better."""
    env = clean_env()
    if resolver == "walk":
        env["A53EMU_JAIL_WALK"] = "1"
    out = _run_jailed(tmp_path, libc, opts=["--root"], env=env)
    assert "ok   the classic chroot escape" in out


def _real_chroot_tools():
    return os.geteuid() == 0 and shutil.which("unshare") and shutil.which("gcc") and \
        shutil.which("chroot")


@pytest.mark.skipif(not _real_chroot_tools(), reason="needs root, unshare, chroot and gcc")
def test_same_answers_as_a_real_chroot(tmp_path):
    """jail_escape built for the host and run by chroot(8) (Linux's own
    chroot, /proc and a tmpfs /dev/shm mounted in a private namespace)
    passes the same checks; a53emu's run prints every line it prints."""
    host = tmp_path / "host"
    host.mkdir()
    root, secret = _make_jail(host)
    exe = root / "jail_escape"
    subprocess.run(["gcc", "-static", "-O2", "-o", str(exe),
                    str(BUILD.parent / "src" / "jail_escape.c")], check=True)
    for d in ("proc", "dev/shm"):
        (root / d).mkdir(parents=True)
    for dev in ("null", "zero"):
        (root / "dev" / dev).touch()
    script = ("mount --bind /dev/null {r}/dev/null && mount --bind /dev/zero {r}/dev/zero && "
              "mount -t proc proc {r}/proc && mount -t tmpfs tmpfs {r}/dev/shm && "
              "chroot {r} /jail_escape {s} --real-chroot").format(r=root, s=secret)
    linux = subprocess.run(["unshare", "-m", "-p", "-f", "--mount-proc", "sh", "-c", script],
                           capture_output=True, timeout=120)
    linux_out = linux.stdout.decode(errors="replace")
    assert linux.returncode == 0, linux_out + linux.stderr.decode(errors="replace")
    emu = tmp_path / "emu"
    emu.mkdir()
    ours = _run_jailed(emu, "musl")
    missing = set(linux_out.splitlines()) - set(ours.splitlines())
    assert missing == set(), missing


def test_glibc_dynamic_program_in_a_jail(tmp_path):
    """A dynamically linked glibc program runs in a jail that holds its
    ld.so and libc.so.6: PT_INTERP is looked up inside the jail (here
    through an absolute symlink, as Debian installs it), and so are the
    libraries ld.so opens.  Without them in the jail: 127, as Linux's
    ENOENT for a missing interpreter."""
    prog = userland_path("glibc", "hello-dyn")
    if not prog.exists() or not (SYSROOT / "libc.so.6").exists():
        pytest.skip("glibc userland or /usr/aarch64-linux-gnu not present")
    root, _ = _make_jail(tmp_path)
    empty = run_a53emu(["--jail", root, prog], cwd=tmp_path, env=clean_env())
    assert empty.returncode == 127, empty.stderr
    assert b"cannot load interpreter '/lib/ld-linux-aarch64.so.1'" in empty.stderr
    libdir = root / "lib" / "aarch64-linux-gnu"
    libdir.mkdir(parents=True)
    shutil.copy(SYSROOT / "ld-linux-aarch64.so.1", libdir / "ld-linux-aarch64.so.1")
    shutil.copy(SYSROOT / "libc.so.6", libdir / "libc.so.6")
    os.symlink("/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", root / "lib" /
               "ld-linux-aarch64.so.1")
    run = run_a53emu(["--jail", root, prog], cwd=tmp_path, env=clean_env())
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(b"hello, world\n")


def test_jail_option_errors(tmp_path):
    """--jail wants a directory, and is not combined with -L."""
    hello = userland_path("musl", "hello")
    r = run_a53emu(["--jail", tmp_path / "missing", hello], cwd=tmp_path, env=clean_env())
    assert r.returncode == 2 and b"--jail" in r.stderr
    r = run_a53emu(["--jail", tmp_path, "-L", tmp_path, hello], cwd=tmp_path, env=clean_env())
    assert r.returncode == 2 and b"exclude each other" in r.stderr


# -- kernel/fs/jail.py in-process --------------------------------------------------------

@pytest.fixture
def tree(tmp_path):
    """A root with the links the lookups below follow, and a file outside."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("jail passwd\n")
    (tmp_path / "outside").write_bytes(SECRET)
    os.symlink("/etc", root / "abs")
    os.symlink("../../../..", root / "etc" / "up")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    for i in range(41):
        os.symlink("chain%d" % (i + 1) if i < 40 else "/etc/passwd", root / ("chain%d" % i))
    fd = jail.open_root(bytes(root))
    yield root, fd
    os.close(fd)


@pytest.fixture(params=["openat2", "walk"])
def resolver(request, monkeypatch):
    monkeypatch.setattr(jail, "use_openat2", request.param == "openat2")
    return request.param


def _where(root, found):
    """(directory below root, name) of a lookup's answer."""
    fd, name = found
    return os.readlink("/proc/self/fd/%d" % fd)[len(str(root)):] or "/", name


def test_lookup(tree, resolver):
    root, fd = tree
    assert _where(root, jail.lookup(fd, b"/abs/passwd", True)) == ("/etc", b"passwd")
    assert _where(root, jail.lookup(fd, b"/../../../etc/passwd", True)) == ("/etc", b"passwd")
    assert _where(root, jail.lookup(fd, b"etc/up/etc/up/outside", True)) == ("/", b"outside")
    assert _where(root, jail.lookup(fd, b"/abs", True)) == ("/", b"etc")
    assert _where(root, jail.lookup(fd, b"/abs", False)) == ("/", b"abs")
    assert _where(root, jail.lookup(fd, b"/abs/", False)) == ("/", b"etc/")
    assert _where(root, jail.lookup(fd, b"/../..", True)) == ("/", b".")
    assert _where(root, jail.lookup(fd, b"/etc/up/..", True)) == ("/", b".")
    assert _where(root, jail.lookup(fd, b"/chain1", True)) == ("/etc", b"passwd")
    for path in (b"/chain0", b"/loop1", b"/loop1/x"):
        with pytest.raises(OSError) as e:
            jail.lookup(fd, path, True)
        assert e.value.errno == errno.ELOOP, path
    with pytest.raises(OSError) as e:
        jail.lookup(fd, b"/etc/passwd/x", True)
    assert e.value.errno == errno.ENOTDIR
    with pytest.raises(OSError) as e:
        jail.lookup(fd, b"/missing/x", True)
    assert e.value.errno == errno.ENOENT


def test_lookup_drops_its_descriptors(tree, resolver):
    """A PathFd closes with its last reference (path_put()): a thousand
    lookups leave no host descriptor behind."""
    _, fd = tree
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(1000):
        jail.lookup(fd, b"/abs/up/etc/passwd", True)
    assert len(os.listdir("/proc/self/fd")) == before


def test_lookup_checks_search_permission(tree, resolver):
    """may_lookup() is asked about every directory walked (the guest's
    search permission), the root's too — the checked walk runs then."""
    root, fd = tree
    seen = []
    jail.lookup(fd, b"/abs/up/etc/passwd", True, lambda d: seen.append(
        os.readlink("/proc/self/fd/%d" % d)[len(str(root)):] or "/"))
    assert seen[0] == "/" and "/etc" in seen


def test_openat2_missing_falls_back(tree, monkeypatch):
    """A host whose openat2 answers ENOSYS (Linux < 5.6) gets the checked
    walk, from that call on."""
    root, fd = tree

    def enosys(*args):
        ctypes.set_errno(errno.ENOSYS)
        return -1
    monkeypatch.setattr(jail, "_syscall", enosys)
    monkeypatch.setattr(jail, "use_openat2", True)
    assert _where(root, jail.lookup(fd, b"/abs/passwd", True)) == ("/etc", b"passwd")
    assert jail.use_openat2 is False


def test_openat2_resolves_in_root(tree):
    """The host's openat2 itself keeps ".." and absolute symlinks in the
    root (the premise of the fast path)."""
    if jail._NR_OPENAT2 is None:
        pytest.skip("no openat2 number for this host architecture")
    root, fd = tree
    try:
        dfd = jail._openat2(fd, b"abs/up/abs/up/etc")
    except OSError as e:
        pytest.fail("openat2: %s" % e)
    if dfd is None:
        pytest.skip("the host kernel has no openat2 (older than 5.6)")
    try:
        assert os.readlink("/proc/self/fd/%d" % dfd) == str(root / "etc")
    finally:
        os.close(dfd)


# -- chroot(2) without --jail, in-process ------------------------------------------------

BASE = 0x10000000          # test_sys_proc.Board1's 16 mapped pages


def _read_at(b, path):
    """openat(AT_FDCWD, path) + read() on Board1's task: the bytes or -errno."""
    b.task.uaccess.copy_to_user(BASE, path + b"\0")
    fd = b.call("openat", -100, BASE, 0, 0)
    if fd < 0:
        return fd
    n = b.call("read", fd, BASE + 4096, 64)
    b.call("close", fd)
    return b.task.uaccess.copy_from_user(BASE + 4096, n) if n >= 0 else n


def test_chroot_without_jail(tmp_path):
    """A guest's chroot() on a board without --jail: 4.14's order of checks
    (ENOENT, ENOTDIR, then CAP_SYS_CHROOT's EPERM), then every absolute
    name resolves below the new root and ".." stops there; the working
    directory stays where it was, outside the root, and relative names
    still walk from it (Linux lets them)."""
    from kernel.cred import CAP_FULL_SET
    from test_sys_proc import Board1
    new = tmp_path / "newroot"
    (new / "etc").mkdir(parents=True)
    (new / "etc" / "passwd").write_text("new root\n")
    (tmp_path / "here").write_text("cwd file\n")
    b = Board1(tmp_path)
    cred = b.task.cred.copy()
    cred.cap_effective = 0
    b.task.cred = cred
    b.task.uaccess.copy_to_user(BASE, bytes(new / "missing") + b"\0")
    assert b.call("chroot", BASE) == -errno.ENOENT
    b.task.uaccess.copy_to_user(BASE, bytes(new / "etc" / "passwd") + b"\0")
    assert b.call("chroot", BASE) == -errno.ENOTDIR
    b.task.uaccess.copy_to_user(BASE, bytes(new) + b"\0")
    assert b.call("chroot", BASE) == -errno.EPERM
    cred = cred.copy()
    cred.cap_effective = CAP_FULL_SET
    b.task.cred = cred
    assert b.call("chroot", BASE) == 0
    assert _read_at(b, b"/etc/passwd") == b"new root\n"
    assert _read_at(b, b"/../../../etc/passwd") == b"new root\n"
    assert _read_at(b, b"here") == b"cwd file\n"             # the cwd, outside the root
    assert _read_at(b, bytes(tmp_path / "here")) == -errno.ENOENT
    want = b"(unreachable)" + bytes(tmp_path) + b"\0"        # 4.14's getcwd() of it
    assert b.call("getcwd", BASE, 4096) == len(want)
    assert b.task.uaccess.copy_from_user(BASE, len(want)) == want
    b.task.uaccess.copy_to_user(BASE, b"/etc\0")
    assert b.call("chdir", BASE) == 0
    assert b.call("getcwd", BASE, 256) == len(b"/etc\0")
    assert b.task.uaccess.copy_from_user(BASE, 5) == b"/etc\0"
