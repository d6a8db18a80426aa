"""Print the mutation score of `make mutate` per file and overall.

Reads mutmut's results (mutants/<file>.py.meta, written by `mutmut run`) and
tools/mutate_equivalent.txt, the mutants judged equivalent (one per line:
the mutant's name, then `#` and why).  A mutant counts as killed when a test
failed (or ran out of time, or crashed) with it in place; the score of a file
is killed / (mutants - equivalent).  Exits 1 when the overall score is below
--target (default 90), or when an equivalent mutant listed no longer exists
(the code moved: the list must be checked again), so `make mutate` fails.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KILLED = {1, 3, 24, -24, 152, 255, 36, -11, -9, 37}     # mutmut's exit codes: killed,
#   pytest internal error, SIGXCPU / timeout, segfault / SIGKILL, type check
SURVIVED = {0}
NO_TESTS = {5, 33}


def load_equivalent(path):
    names = {}
    for line in path.read_text().splitlines():
        name, _, why = line.partition("#")
        name = name.strip()
        if name:
            names[name] = why.strip()
    return names


def load_results(root):
    """{source file: {mutant name: exit code}} for every mutated file."""
    results = {}
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if codes:
            rel = meta.relative_to(root / "mutants").as_posix()[:-len(".meta")]
            results[rel] = codes
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--target", type=float, default=90.0)
    ap.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    args = ap.parse_args(argv)
    equivalent = load_equivalent(args.root / "tools" / "mutate_equivalent.txt")
    results = load_results(args.root)
    if not results:
        print("no results: run `make mutate` (mutmut run) first")
        return 1
    seen = set()
    rows = []
    total = [0, 0, 0, 0, 0]     # mutants, equivalent, killed, survived, untested/unchecked
    for path, codes in results.items():
        n = len(codes)
        eq = sum(1 for name in codes if name in equivalent)
        seen.update(name for name in codes if name in equivalent)
        killed = sum(1 for name, c in codes.items() if c in KILLED and name not in equivalent)
        survived = [name for name, c in codes.items() if c in SURVIVED and name not in equivalent]
        other = n - eq - killed - len(survived)
        rows.append((path, n, eq, killed, len(survived), other))
        for i, v in enumerate((n, eq, killed, len(survived), other)):
            total[i] += v
        if args.survivors:
            for name in survived:
                print("survived", name)
            for name, c in codes.items():
                if c not in KILLED and c not in SURVIVED and name not in equivalent:
                    print("not killed (exit %s)" % c, name)

    def score(n, eq, killed):
        return 100.0 * killed / (n - eq) if n > eq else 100.0

    print("%-26s %7s %5s %7s %8s %6s %7s" % ("file", "mutants", "equiv", "killed", "survived",
                                            "other", "score"))
    for path, n, eq, killed, surv, other in rows:
        print("%-26s %7d %5d %7d %8d %6d %6.1f%%" % (path, n, eq, killed, surv, other,
                                                     score(n, eq, killed)))
    overall = score(total[0], total[1], total[2])
    print("%-26s %7d %5d %7d %8d %6d %6.1f%%" % ("overall", *total, overall))
    print("(other: no test calls the function, or not run/interrupted)")
    stale = sorted(set(equivalent) - seen)
    if stale:
        print("equivalent mutants that no longer exist (re-check the list):")
        for name in stale:
            print("  " + name)
        return 1
    return 0 if overall >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
