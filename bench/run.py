"""`make bench`: a53emu against qemu-aarch64 on the same binaries, in one run.

Each workload is a userland program; the rate ones time their own loop and
print `rate: N unit`, so start-up is not counted.  Ratios are a53emu/qemu
for times and qemu/a53emu for rates (bigger = a53emu slower).  Targets are
those of the issues; the exit status is 1 if one is missed.
"""

import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "userland" / "build" / "musl"
A53EMU = [sys.executable, "-m", "emu", "run"]


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit("bench: %s failed (%d): %s" % (" ".join(map(str, cmd)), p.returncode,
                                                        p.stderr.strip()[-500:]))
    return elapsed, p.stdout


def rate_of(stdout):
    m = re.search(r"^rate: (\d+) (\S+)", stdout, re.M)
    return int(m.group(1)), m.group(2)


def main():
    qemu = shutil.which("qemu-aarch64")
    if qemu is None:
        raise SystemExit("bench: qemu-aarch64 is needed (apt-get install qemu-user)")
    rows = []
    failed = False

    def report(name, ours, theirs, unit, ratio, target, ok):
        nonlocal failed
        failed |= not ok
        rows.append((name, ours, theirs, unit, ratio, target, "ok" if ok else "MISSED"))

    # A compute-bound loop: whole-program wall time.
    prog = [str(BIN / "bench_compute"), "150000000"]
    ours = min(run(A53EMU + prog)[0] for _ in range(2))
    theirs = min(run([qemu] + prog)[0] for _ in range(2))
    report("compute (wall)", "%.2f" % ours, "%.2f" % theirs, "s", ours / theirs,
           "<= 2.0x qemu", ours / theirs <= 2.0)

    for name, args, target in (("syscalls (getppid)", ["bench_syscall", "500000"], 150_000),
                               ("anonymous page faults", ["bench_fault", "128"], 100_000),
                               ("mmap+touch+munmap", ["bench_mmap_churn", "100000"], None)):
        prog = [str(BIN / args[0])] + args[1:]
        ours, unit = rate_of(run(A53EMU + prog)[1])
        theirs, _ = rate_of(run([qemu] + prog)[1])
        report(name, ours, theirs, unit, theirs / ours,
               ">= %d %s" % (target, unit) if target else "(reported)",
               target is None or ours >= target)

    hello = [str(BIN / "hello")]
    ours = statistics.median(run(A53EMU + hello)[0] for _ in range(5))
    theirs = statistics.median(run([qemu] + hello)[0] for _ in range(5))
    report("run hello (wall)", "%.3f" % ours, "%.3f" % theirs, "s", ours / theirs,
           "< 0.5 s", ours < 0.5)

    head = ("workload", "a53emu", "qemu-aarch64", "unit", "slowdown", "target", "")
    widths = [max(len(str(r[i])) if i != 4 else 6 for r in rows + [head]) for i in range(7)]
    fmt = "  ".join("%%-%ds" % w for w in widths)
    print(fmt % head)
    for r in rows:
        print(fmt % (r[0], r[1], r[2], r[3], "%.2fx" % r[4], r[5], r[6]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
