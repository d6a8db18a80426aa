"""getrusage() and wait4()'s rusage against the host kernel.

userland/src/sys_rusage.c checks what k_getrusage() (kernel/sys.c) sums:
an exited thread's faults stay in RUSAGE_SELF, RUSAGE_THREAD is one
thread, RUSAGE_CHILDREN and wait4() count the reaped child with its peak
rss (signal_struct->maxrss, set at exit and exec), a sleep is a voluntary
switch, CPU time covers the process CPU clock.  The host build must pass on
the host kernel and the AArch64 builds print the same under a53emu, also
with --deterministic (CPU time from retired instructions).
"""

from conftest import run_a53emu, userland_path
from test_processes import assert_passed, clean_env, run_host, scratch_dir

PROGRAM = "sys_rusage"


def test_a53emu_matches_host_kernel(libc, tmp_path):
    h = run_host(PROGRAM, scratch_dir(tmp_path, "host"))
    assert_passed(h, PROGRAM, "host")
    a = run_a53emu([userland_path(libc, PROGRAM)], cwd=scratch_dir(tmp_path, "a53emu"),
                   env=clean_env(), timeout=300)
    assert a.stderr == b"", a.stderr.decode(errors="replace")
    assert a.stdout.decode(errors="replace") == h.stdout.decode()
    assert a.returncode == 0


def test_deterministic(tmp_path):
    h = run_host(PROGRAM, scratch_dir(tmp_path, "host"))
    a = run_a53emu(["--deterministic", userland_path("musl", PROGRAM)],
                   cwd=scratch_dir(tmp_path, "a53emu"), env=clean_env(), timeout=300)
    assert a.stdout.decode(errors="replace") == h.stdout.decode()
    assert a.returncode == 0
