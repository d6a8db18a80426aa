"""Issue 9 part 2: fcntl() record locks, checked against the real kernel.

userland/src/sys_locks.c takes POSIX (F_GETLK/F_SETLK/F_SETLKW) and OFD
(F_OFD_*) locks from processes and threads: every errno (EINVAL for a bad
type or whence or an OFD l_pid, EBADF for the access mode, EFAULT for bad
structs, EOVERFLOW), splitting, merging, upgrade and downgrade, SEEK_CUR
and SEEK_END, negative lengths, the locks a close of ANY descriptor of the
file drops, fork (POSIX locks are not inherited, OFD locks are the
description's), threads (one owner), F_SETLKW sleeping until the holder
lets go, EINTR and SA_RESTART, EDEADLK.  It prints only relative facts,
so the host build on the host kernel and the AArch64 builds (musl, glibc)
under a53emu must print the same bytes.  No line differs between 4.14 and
the host kernels this was checked on (6.x): l_pid -1 for OFD locks is
4.14's (commit cff2fce58b2b "locks: Fix l_pid for OFD locks", v4.14-rc1).

Then the range arithmetic of posix_lock_inode() against a model that
keeps one owner per byte (hypothesis).
"""

import types

import pytest
from hypothesis import given, settings, strategies as st

from conftest import run_a53emu, userland_path
from kernel.fs import locks
from kernel.fs.locks import F_RDLCK, F_UNLCK, F_WRLCK, FL_POSIX, FileLock, FileLockContext
from test_processes import assert_passed, run_host, scratch_dir

PROGRAM = "sys_locks"


@pytest.fixture(scope="module")
def host_output(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("host")
    proc = run_host(PROGRAM, cwd)
    assert_passed(proc, PROGRAM, "host")
    assert proc.stderr == b""
    assert list(cwd.iterdir()) == []
    return proc.stdout.decode()


def test_same_as_host_kernel(libc, host_output, tmp_path):
    """The AArch64 build under a53emu prints what the host build printed."""
    cwd = scratch_dir(tmp_path, libc)
    proc = run_a53emu([userland_path(libc, PROGRAM)], cwd=cwd, timeout=300)
    assert_passed(proc, PROGRAM, "a53emu " + libc)
    assert proc.stdout.decode() == host_output
    assert list(cwd.iterdir()) == []


def test_host_output_shows_the_cases(host_output):
    """The comparison is meaningful: the run met conflicts, sleeps, EDEADLK..."""
    for line in ("SETLKW on the sleeping child's byte: EDEADLK",
                 "SETLKW with a SIGALRM handler: EINTR, handler ran: yes",
                 "SETLKW: 0, after the child let go: yes",
                 "the child of a lock holder: sees [WR 0-9 parent]; own WR 0-0: EAGAIN",
                 "POSIX GETLK sees: [WR 0-9 ofd][WR 10-19 ofd]"):
        assert line in host_output


# -- the range arithmetic --------------------------------------------------------------------

SIZE = 24
OWNERS = ("a", "b")

requests = st.lists(st.tuples(st.sampled_from(OWNERS),
                              st.sampled_from((F_RDLCK, F_WRLCK, F_UNLCK)),
                              st.integers(0, SIZE - 1), st.integers(0, SIZE - 1)),
                    max_size=12)



@settings(max_examples=300, deadline=None)
@given(requests)
def test_posix_lock_inode_matches_a_byte_model(reqs):
    """posix_lock_inode() grants, refuses (EAGAIN) and records exactly what a
    map byte -> {owner: type} says; each owner's locks stay disjoint, sorted,
    and coalesced (no two adjacent locks of one type)."""
    ctx = FileLockContext("k")
    task = types.SimpleNamespace(kernel=types.SimpleNamespace(tasks={}))
    model = [dict() for _ in range(SIZE)]
    for owner, type_, a, b in reqs:
        start, end = min(a, b), max(a, b)
        req = FileLock(owner, 1, FL_POSIX, type_, start, end, None)
        conflict = type_ != F_UNLCK and any(
            o != owner and (type_ == F_WRLCK or t == F_WRLCK)
            for byte in model[start:end + 1] for o, t in byte.items())
        assert locks.posix_lock_inode(task, ctx, req) == (-11 if conflict else 0)
        if not conflict:
            for byte in model[start:end + 1]:
                if type_ == F_UNLCK:
                    byte.pop(owner, None)
                else:
                    byte[owner] = type_
        for o in OWNERS:
            mine = [fl for fl in ctx.flc_posix if fl.fl_owner == o]
            got = [None] * SIZE
            for fl in mine:
                for i in range(fl.fl_start, fl.fl_end + 1):
                    assert got[i] is None
                    got[i] = fl.fl_type
            assert got == [byte.get(o) for byte in model]
            for x, y in zip(mine, mine[1:]):
                assert x.fl_end < y.fl_start
                assert not (x.fl_end + 1 == y.fl_start and x.fl_type == y.fl_type)
        # Linux's order: owners grouped, each in the order of its first lock.
        owners_seen = [fl.fl_owner for fl in ctx.flc_posix]
        groups = [o for i, o in enumerate(owners_seen) if i == 0 or owners_seen[i - 1] != o]
        assert len(groups) == len(set(groups))
