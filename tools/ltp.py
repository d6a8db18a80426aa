"""Run the Linux Test Project's memory-management system-call tests on a53emu
and on qemu-aarch64, and compare (issue 9: "real test suites run").

    python tools/ltp.py --ltp ~/src/ltp --build        configure and build them
    python tools/ltp.py --ltp ~/src/ltp                 run, print the table
    python tools/ltp.py --ltp ~/src/ltp --write docs/ltp.md

LTP is not vendored (it is large and GPL-2.0): bring a checkout of
https://github.com/linux-test-project/ltp.  --build runs its autotools and
configure for aarch64-linux-gnu with static linking (the glibc cross compiler
of .ci/run), then builds only the test directories of TEST_DIRS.

Each test runs under a shell of the Debian arm64 root that tests/test_distro.py
uses (`--sysroot` it, /bin/sh is busybox): LTP's library needs /bin/sh (it
reads /proc/config.gz through zcat), and its test process must not be the
child of pid 1 — LTP takes a parent pid of 1 as "the main test process has
exited" — so the program cannot be init itself.  (qemu-aarch64 runs the test
directly: it is not pid 1, and it could not follow its shell's execve.)  Both
runs get the same
environment, a fresh TMPDIR, and LTP_TIMEOUT_MUL so LTP's own per-test
timeout allows for an emulator; both start in the test's own directory with
it first on PATH, where LTP's installed layout would have the test's helper
programs and resource files (execve_child, ...).  A run that takes longer
than TIMEOUT is killed with its whole session.

A test's result is LTP's summary (passed/failed/broken/skipped/warnings) and
its exit status.  The table marks each test `same` when a53emu and qemu-aarch64
agree, else `differs`; qemu-aarch64 runs on the host's kernel (newer than
4.14), so a difference is read against 4.14 in the note column, not assumed
to be a53emu's bug.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

TEST_DIRS = ("brk", "sbrk", "mmap", "munmap", "mprotect", "mremap", "madvise", "mincore",
             "mlock", "mlock2", "mlockall", "munlock", "munlockall", "msync",
             "remap_file_pages", "getpagesize")
COUNTS = ("passed", "failed", "broken", "skipped", "warnings")
TIMEOUT = 300                   # wall seconds a run may take here
LTP_TIMEOUT_MUL = "10"          # LTP's own 30 s per test, times this


def build(ltp, dirs=TEST_DIRS):
    """Configure LTP for static aarch64 glibc binaries and build dirs."""
    env = dict(os.environ, CFLAGS="-O2", LDFLAGS="-static")
    steps = [["make", "autotools"],
             ["./configure", "--host=aarch64-linux-gnu"],
             ["make", "-C", "lib", "-j2"]]
    if os.path.exists(os.path.join(ltp, "include", "config.h")):
        steps = steps[2:]               # configured and lib built already
    steps += [["make", "-C", "testcases/kernel/syscalls/" + d, "-j2"] for d in dirs]
    for step in steps:
        if subprocess.run(step, cwd=ltp, env=env, stdout=subprocess.DEVNULL).returncode:
            sys.exit("ltp: %s failed in %s" % (" ".join(step), ltp))


def tests(ltp, dirs=TEST_DIRS):
    """The built test binaries: (dir, name, path), in the order of dirs."""
    out = []
    for d in dirs:
        base = os.path.join(ltp, "testcases", "kernel", "syscalls", d)
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base), key=lambda n: (len(n), n)):
            path = os.path.join(base, name)
            if os.path.isfile(path) and os.access(path, os.X_OK) and "." not in name:
                out.append((d, name, path))
    return out


# An old-API test prints no summary, one line per result: "mmap11  1  TPASS  :  ..."
OLD_API_RESULT = re.compile(r"^\S+\s+\d+\s+T(PASS|FAIL|BROK|CONF|WARN)\s", re.M)
OLD_API_COUNT = {"PASS": 0, "FAIL": 1, "BROK": 2, "CONF": 3, "WARN": 4}


def summary(text):
    """LTP's summary counts, or None when the run printed none (it died)."""
    found = dict(re.findall(r"^(%s)\s+(\d+)$" % "|".join(COUNTS), text, re.M))
    if len(found) == len(COUNTS):
        return tuple(int(found[c]) for c in COUNTS)
    results = OLD_API_RESULT.findall(text)
    if not results:
        return None
    counts = [0] * len(COUNTS)
    for kind in results:
        counts[OLD_API_COUNT[kind]] += 1
    return tuple(counts)


def kill_session(sid):
    """SIGKILL every process of the session sid: a test's children may have
    process groups of their own (qemu-aarch64 runs each guest process as
    a host one) and would keep the output pipes open."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:           # stat's 6th field, after pid and (comm)
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


# Tests that change the host itself when qemu-aarch64 runs them as root
# (its guest's system calls are the host's): under a53emu they change only
# the board.  With root, they run on a53emu alone.
HOST_UNSAFE = {
    "leapsec01": "adjtimex() would insert a leap second into the host's clock",
}


def host_run_refused(name, euid):
    """Why qemu-aarch64 must not run test `name` for a host user euid, or None."""
    reason = HOST_UNSAFE.get(name)
    return "not run on the host: %s" % reason if reason and euid == 0 else None


# LTP's library keeps its results page in /dev/shm/ltp_<test>_<pid> and
# unlinks it when the test exits.  Under qemu-aarch64 that is the host's
# /dev/shm (a53emu's board has its own), so a test killed at its timeout
# leaves the page behind.
HOST_SHM = "/dev/shm"
LTP_SHM_PREFIX = "ltp_"


def ltp_shm_pages():
    """The names of LTP's results pages in the host's /dev/shm."""
    try:
        return {n for n in os.listdir(HOST_SHM) if n.startswith(LTP_SHM_PREFIX)}
    except OSError:
        return set()


def run_one(argv, env, cwd=None):
    """Run argv in cwd (default: a fresh TMPDIR) with a fresh TMPDIR;
    (summary, status, output).  Whatever results page of LTP's the run
    left in the host's /dev/shm is removed."""
    tmp = tempfile.mkdtemp(prefix="ltp-")
    shm_before = ltp_shm_pages()
    try:
        # A session of its own: a test that times out is killed with every
        # process it forked (qemu-aarch64 runs each guest process as one).
        p = subprocess.Popen(argv, cwd=cwd or tmp, env=dict(env, TMPDIR=tmp),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        try:
            out, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            kill_session(p.pid)
            out, err = p.communicate()
            return None, "timeout", (out + err).decode(errors="replace")
        text = (out + err).decode(errors="replace")
        return summary(text), p.returncode, text
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for name in ltp_shm_pages() - shm_before:
            try:
                os.unlink(os.path.join(HOST_SHM, name))
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ltp", required=True, help="an LTP checkout")
    ap.add_argument("--build", action="store_true", help="configure and build the tests first")
    ap.add_argument("--write", metavar="FILE", help="also write the table as markdown")
    ap.add_argument("-k", metavar="NAME", help="only the tests whose name contains NAME")
    ap.add_argument("--dirs", metavar="A,B", help="these testcases/kernel/syscalls directories "
                    "instead of the memory-management ones")
    ap.add_argument("--show", action="store_true", help="print a53emu's output of each test")
    ap.add_argument("--root", action="store_true", help="run a53emu's guest as root (--root), "
                    "as qemu-aarch64's is when the host runs as root: the process, signal and "
                    "IPC tests check privileged calls")
    args = ap.parse_args()
    ltp = os.path.abspath(args.ltp)
    dirs = tuple(args.dirs.split(",")) if args.dirs else TEST_DIRS
    if args.build:
        build(ltp, dirs)
    from debian_arm64 import Unavailable, ensure_root
    try:
        root = str(ensure_root())
    except Unavailable as e:
        sys.exit("ltp: no Debian arm64 root for /bin/sh: %s" % e)
    qemu = shutil.which("qemu-aarch64")
    if qemu is None:
        sys.exit("ltp: qemu-aarch64 is needed (apt-get install qemu-user)")
    env = {"PATH": "/usr/bin:/bin", "LTP_TIMEOUT_MUL": LTP_TIMEOUT_MUL, "LTPROOT": ltp}
    sh = os.path.join(root, "bin", "sh")
    rows = []
    for d, name, path in tests(ltp, dirs):
        if args.k and args.k not in name:
            continue
        script = "%s; exit $?" % path
        # LTP's own runner installs a test's helpers (execve_child, ...) in
        # $LTPROOT/testcases/bin, on PATH; here they stay next to the test:
        # PATH finds them for execlp/execvp, and the test starts in its own
        # directory, where LTP's resource copy looks last (tst_get_startwd()).
        here = os.path.dirname(path)
        tenv = dict(env, PATH=here + ":" + env["PATH"])
        ours = run_one([sys.executable, "-m", "emu", "run"] + (["--root"] if args.root else [])
                       + ["-L", root, sh, "-c", script],
                       dict(tenv, PYTHONPATH=ROOT), here)
        # qemu-user is no pid 1, and cannot follow an execve from its shell
        refused = host_run_refused(name, os.geteuid())
        theirs = (None, refused, "") if refused else run_one([qemu, "-L", root, path], tenv, here)
        same = ours[:2] == theirs[:2]
        rows.append((d, name, ours, theirs, same))
        print("%-20s a53emu %-28s qemu %-28s %s" % (name, fmt(ours), fmt(theirs),
                                                    "same" if same else "DIFFERS"), flush=True)
        if args.show or not same:
            for line in ours[2].splitlines():
                if re.search(r"T(FAIL|BROK|WARN|CONF)|a53emu:", line):
                    print("    " + line)
    agree = sum(r[4] for r in rows)
    print("%d tests, %d give the same result on a53emu and qemu-aarch64" % (len(rows), agree))
    if args.write:
        with open(args.write, "w") as f:
            f.write(markdown(rows, agree, None if dirs == TEST_DIRS else dirs, args.root))


def fmt(result):
    counts, status, _ = result
    if counts is None:
        return "no summary (%s)" % status
    return "%s, exit %s" % ("/".join(map(str, counts)), status)


def markdown(rows, agree, dirs=None, root=False):
    out = ["# LTP's memory-management tests on a53emu",
           "",
           "Generated by `python tools/ltp.py --ltp LTP --write docs/ltp.md` (see its",
           "docstring).  Counts are LTP's passed/failed/broken/skipped/warnings.",
           "qemu-aarch64 runs the same static binaries on the host's kernel.",
           ""]
    if dirs:
        # another set of directories: say which, and how they were run
        out[0] = "# LTP's %s tests on a53emu" % ", ".join(dirs)
        out[2] = "Generated by `python tools/ltp.py --ltp LTP%s --dirs %s --write FILE`" % (
            " --root" if root else "", ",".join(dirs))
        out[3] = "(see its docstring).  Counts are LTP's passed/failed/broken/skipped/warnings."
    out += [
           "%d tests; %d give the same result on both." % (len(rows), agree),
           "",
           "| test | a53emu | qemu-aarch64 | |",
           "| --- | --- | --- | --- |"]
    for d, name, ours, theirs, same in rows:
        out.append("| %s | %s | %s | %s |" % (name, fmt(ours), fmt(theirs),
                                            "same" if same else "**differs**"))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
