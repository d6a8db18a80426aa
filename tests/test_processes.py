"""Issue 6: processes and threads, checked against the real kernel.

Every program in userland/src/{pids,threads,futex,fork_cow,fork_shared,exec,
wait,pipes,signals_procs,tlb_shootdown}.c is self-checking (it prints
`ok:`/`FAILED:` lines and exits 0 only if every check held) and prints only
facts that are the same on every Linux: no pid, tid, address or time.  The
same source is built three times: for the host (`userland/build/host`, run
natively on the machine's kernel), and for AArch64 with musl and glibc.

For each program and libc:

* the host build, run on the host kernel, must pass (this keeps the
  programs honest: each check holds on real Linux);
* the AArch64 build under a53emu must print exactly what the host build
  printed, byte for byte, with the same exit status; where Linux changed
  after 4.14, the host's line is replaced by 4.14's (KERNEL_4_14 below:
  the line, 4.14's answer, the commit that changed it);
* the AArch64 build under qemu-aarch64 (whose system calls are the host
  kernel's, translated) must also print what the host printed, except the
  parts where qemu-user is not Linux: those are left out by running the
  program in a mode that skips them (QEMU_ARGS below, with the reason).

The programs run in a fresh tmp directory (some make scratch files there
and must remove them) with the same environment.  a53emu is run with the
worktree on PYTHONPATH, so the code under test is this checkout's.
"""

import os
import re
import subprocess

import pytest

from conftest import BUILD, ROOT, run_a53emu, run_qemu, userland_path

PROGRAMS = ("pids", "threads", "futex", "fork_cow", "fork_shared", "exec", "wait", "pipes",
            "signals_procs", "tlb_shootdown")

TIMEOUT_HOST = 120
TIMEOUT_EMU = 600

# Lines where Linux 4.14 (a53emu's model) answers differently from a newer
# host kernel.  program -> [(line prefix, 4.14's line, newer kernels' line,
# first version with the newer answer, reason)].
KERNEL_4_14 = {
    "exec": [
        ("  argv NULL image: argc=", "  argv NULL image: argc=0",
         "  argv NULL image: argc=1 argv[0]=''", (5, 18),
         "execve(path, NULL, envp): 4.14 starts the program with argc 0 and argv[0] NULL. "
         "Since v5.18 (commit dcd46d897adb, 'exec: Force single empty string when argv is "
         "empty') the kernel inserts one empty string, so argc is 1."),
    ],
}

# Where qemu-user 7.2 is not Linux, the program is run in a mode that
# leaves that part out: program -> (argv, reason).
QEMU_ARGS = {
    "fork_cow": (["cow"],
                 "qemu-user implements vfork() as a plain fork() (it drops CLONE_VM|CLONE_VFORK): "
                 "the child's stores are not the parent's and the parent does not wait. "
                 "`cow` runs the fork checks only."),
    "exec": (["errors"],
             "qemu-user passes execve() to the host kernel, which cannot run an AArch64 ELF "
             "without a binfmt_misc entry (ENOEXEC), so exec of itself, from a thread, of "
             "#! scripts and with argv NULL cannot run; `errors` runs the error checks only."),
    "wait": (["no-orphans"],
             "qemu-user 7.2 does not implement prctl(PR_SET_CHILD_SUBREAPER) (EINVAL), so an "
             "orphan goes to the host's reaper, not to the test; `no-orphans` leaves that out."),
}


def host_path(name):
    path = BUILD / "host" / name
    if not path.exists():
        pytest.fail("userland/build/host/%s missing: run `make userland`" % name)
    return path


def clean_env():
    """The host environment minus what changes the programs' or qemu's behaviour,
    with this worktree first on PYTHONPATH (for `python -m emu` in a tmp cwd)."""
    env = {k: v for k, v in os.environ.items()
           if k != "A53_DEMO" and not k.startswith("QEMU_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"]
                                     if env.get("PYTHONPATH") else "")
    return env


def shell_status(returncode):
    """$? as a shell reports it (qemu re-raises a guest's fatal signal: -SIG)."""
    return 128 - returncode if returncode < 0 else returncode


def run_host(name, cwd, args=()):
    return subprocess.run([str(host_path(name))] + list(args), cwd=cwd, env=clean_env(),
                          capture_output=True, timeout=TIMEOUT_HOST, stdin=subprocess.DEVNULL)


def host_kernel_version():
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return (int(m.group(1)), int(m.group(2)))


def as_4_14(program, host_stdout):
    """The host's output with each line where 4.14 differs replaced by 4.14's.
    Also checks that the host printed the newer line it is documented to print
    (on a kernel older than the change, it must print 4.14's line itself)."""
    out = []
    seen = set()
    for line in host_stdout.decode().split("\n"):
        for prefix, old, new, since, reason in KERNEL_4_14.get(program, []):
            if line.startswith(prefix):
                expected = new if host_kernel_version() >= since else old
                assert line == expected, "host printed %r, expected %r: %s" % (
                    line, expected, reason)
                line = old
                seen.add(prefix)
                break
        out.append(line)
    missing = {p for p, *_ in KERNEL_4_14.get(program, [])} - seen
    assert not missing, "the host never printed %s" % missing
    return "\n".join(out)


def scratch_dir(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    return d


def assert_passed(proc, program, what):
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, "%s: %s exited %d:\n%s\n%s" % (
        what, program, proc.returncode, out, proc.stderr.decode(errors="replace"))
    assert "FAILED" not in out and "FAIL:" not in out, out
    assert out.rstrip("\n").split("\n")[-1].endswith("all checks passed"), out


def check_host_kernel(program, tmp_path):
    """The host build of program passes on the host kernel, printing nothing
    on stderr and leaving nothing behind in its scratch directory."""
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(program, cwd)
    assert_passed(h, program, "host")
    assert h.stderr == b""
    assert list(cwd.iterdir()) == []


def check_a53emu_matches_host_kernel(program, libc, tmp_path, args=()):
    """The libc build of program on a53emu prints what the host build printed
    on the host kernel, with no stderr, status 0 and nothing left behind."""
    h = run_host(program, scratch_dir(tmp_path, "host"))
    assert_passed(h, program, "host")
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu(list(args) + [userland_path(libc, program)], cwd=cwd, env=clean_env(),
                   timeout=TIMEOUT_EMU)
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert a.stdout.decode(errors="replace") == h.stdout.decode()
    assert a.stderr == b""
    assert a.returncode == 0
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("program", PROGRAMS)
def test_host_kernel(program, tmp_path):
    """The host build passes on the host kernel, leaving nothing behind."""
    cwd = scratch_dir(tmp_path, "host")
    h = run_host(program, cwd)
    assert_passed(h, program, "host")
    assert h.stderr == b""
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("program", PROGRAMS)
def test_a53emu_matches_host_kernel(libc, program, tmp_path):
    """a53emu prints what the host kernel printed (4.14's answer where they differ)."""
    h = run_host(program, scratch_dir(tmp_path, "host"))
    assert_passed(h, program, "host")
    cwd = scratch_dir(tmp_path, "a53emu")
    a = run_a53emu([userland_path(libc, program)], cwd=cwd, env=clean_env(),
                   timeout=TIMEOUT_EMU)
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert a.stdout.decode(errors="replace") == as_4_14(program, h.stdout)
    assert a.stderr.decode(errors="replace") == h.stderr.decode()
    assert a.returncode == h.returncode == 0
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("program", PROGRAMS)
def test_qemu_matches_host_kernel(libc, program, tmp_path):
    """qemu-aarch64 (the host kernel behind a translator) prints what the host
    build printed; the parts where qemu-user is not Linux are left out."""
    args, _reason = QEMU_ARGS.get(program, ([], None))
    h = run_host(program, scratch_dir(tmp_path, "host"), args)
    assert_passed(h, program, "host")
    cwd = scratch_dir(tmp_path, "qemu")
    q = run_qemu([userland_path(libc, program)] + args, cwd=cwd, env=clean_env(),
                 timeout=TIMEOUT_EMU)
    assert q.stdout.decode(errors="replace") == h.stdout.decode()
    assert q.stderr.decode(errors="replace") == h.stderr.decode()
    assert shell_status(q.returncode) == h.returncode == 0
    assert list(cwd.iterdir()) == []


def test_4_14_table_names_real_lines():
    """Every 4.14 difference names a line its program really prints."""
    for program, rows in KERNEL_4_14.items():
        src = (ROOT / "userland" / "src" / (program + ".c")).read_text()
        for prefix, old, new, since, reason in rows:
            assert prefix.strip().split(":")[0] in src, (program, prefix)
            assert old.startswith(prefix) and new.startswith(prefix)
            assert re.search(r"v\d+\.\d+", reason) and "commit" in reason


# --- the benchmark workloads: they run and say what they did ---

BENCH = {
    "bench_fork": (["20"], r"^bench_fork: 20 fork\+exit\+wait cycles, every child exited 7$",
                   "cycles/s"),
    "bench_thread": (["20"], r"^bench_thread: 20 create\+join cycles, every thread returned "
                     r"its value$", "threads/s"),
    "bench_pipe": (["2"], r"^bench_pipe: 2 MiB through a pipe between two processes, all "
                   r"bytes arrived$", "MB/s"),
    "bench_futex": (["200"], r"^bench_futex: 200 round trips between two threads$",
                    "round-trips/s"),
    "bench_threads_compute": (["100000"], r"^bench_threads_compute: 2 threads x 100000 "
                              r"iterations, results [0-9a-f]{16} [0-9a-f]{16}$", "iterations/s"),
}


def check_bench_output(proc, name):
    args, first, unit = BENCH[name]
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 0, proc.stderr
    assert len(lines) == 2, lines
    assert re.match(first, lines[0]), lines[0]
    assert re.match(r"^rate: [1-9]\d* %s$" % re.escape(unit), lines[1]), lines[1]
    return lines[0]


@pytest.mark.parametrize("name", sorted(BENCH))
def test_bench_workloads(libc, name, tmp_path):
    """Each workload runs on the host kernel, under qemu and under a53emu, and
    reports the same work (the compute results are deterministic)."""
    args = BENCH[name][0]
    h = subprocess.run([str(host_path(name))] + args, cwd=tmp_path, capture_output=True,
                       timeout=TIMEOUT_HOST)
    first = check_bench_output(h, name)
    q = run_qemu([userland_path(libc, name)] + args, cwd=tmp_path, env=clean_env())
    assert check_bench_output(q, name) == first
    a = run_a53emu([userland_path(libc, name)] + args, cwd=tmp_path, env=clean_env(),
                   timeout=TIMEOUT_EMU)
    assert check_bench_output(a, name) == first


def test_test_harness_matches_host_kernel(libc, tmp_path):
    """userland/src/harness.c: a harness of the kind kernel test suites use
    runs each case in a forked child under an alarm() timeout and reports
    its wait status in TAP — a pass, a failure, SIGSEGV, SIGABRT, a hang it
    kills, mm calls, an exit code: the board reports what the host kernel
    reported, byte for byte."""
    h = run_host("harness", scratch_dir(tmp_path, "host"))
    assert h.returncode == 0, h.stdout + h.stderr
    assert b"not ok 5 hang # timed out after 2 s" in h.stdout
    a = run_a53emu([userland_path(libc, "harness")], cwd=scratch_dir(tmp_path, "a53emu"),
                   env=clean_env(), timeout=TIMEOUT_EMU)
    assert (a.returncode, a.stdout, a.stderr) == (0, h.stdout, h.stderr)
