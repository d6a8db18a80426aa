"""The overcommit policy (issue 10): mmap_region's accountable_mapping,
mprotect_fixup, mremap's growth, fork and brk charge VM_ACCOUNT memory to
__vm_enough_memory() and Committed_AS follows (userland/src/overcommit.c).

Mode 0 (the heuristic) is compared with the host kernel running the same
source (a request bigger than RAM + swap fails there too).  The Committed_AS
deltas are exact only on a quiet machine, and mode 2 needs writing the
system's sysctl: both run on the board only (never on the host)."""

import subprocess

from conftest import run_a53emu, userland_path

PROG = "overcommit"


def _lines(p):
    out = p.stdout.decode()
    assert p.returncode == 0, (out, p.stderr.decode())
    assert "FAILED" not in out
    return out.splitlines()


def test_guess_as_the_host_kernel(libc):
    host = subprocess.run([str(userland_path("host", PROG)), "guess"], capture_output=True,
                          timeout=60)
    board = run_a53emu([userland_path(libc, PROG), "guess"], timeout=120)
    assert _lines(board) == _lines(host)


def test_committed_as_follows_the_charges():
    lines = _lines(run_a53emu([userland_path("musl", PROG), "account"], timeout=120))
    assert len(lines) == 14, lines


def test_overcommit_never():
    lines = _lines(run_a53emu(["--root", userland_path("musl", PROG), "never"], timeout=120))
    assert len(lines) == 9, lines
