"""Issue 7, "Bad input": a bad --snapshot-at, walk or filter argument is a
one-line usage error (status 2), whichever part of a53emu checks it:
argparse's types and choices, the strace options, the report's request,
the walk's addresses."""

import subprocess
import sys

import pytest

from conftest import ROOT, emu_env, userland_path

HELLO = str(userland_path("musl", "hello"))
CASES = [
    ["run", "--report", "R.html", "--snapshot-at", "syscall:x", HELLO],
    ["run", "--report", "R.html", "--snapshot-at", "fault:0", HELLO],
    ["run", "--report", "R.html", "--snapshot-at", "later", HELLO],
    ["run", "--snapshot-at", "exit", HELLO],
    ["run", "--report", "R.html", "--report-limit", "3", HELLO],
    ["walk", "--at", "bogus", HELLO, "--", "0x400000"],
    ["walk", "--at", "syscall:0", HELLO, "--", "0x400000"],
    ["walk", "--at", "exit", HELLO, "--", "zz"],
    ["walk", "--at", "exit", HELLO],
    ["walk", HELLO, "--", "0x400000"],
    ["run", "-e", "trace=nosuchcall", HELLO],
    ["run", "-e", "trace=%nosuchclass", HELLO],
    ["run", "-e", "signal=SIGNOPE", HELLO],
    ["run", "-e", "verbose=all", HELLO],
    ["run", "-p", "x", HELLO],
    ["run", "-s", "-1", HELLO],
    ["run", "--callgraph", "nosuchcall", HELLO],
    ["run", "--callgraph-depth", "-1", "--callgraph", "brk", HELLO],
    ["run", "--trace", "nosuchclass", HELLO],
    ["run", "--trace-format", "xml", HELLO],
    ["run", "--cores", "two", HELLO],
    ["run"],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(a[:3]) for a in CASES])
def test_bad_argument_is_one_line(tmp_path, args):
    p = subprocess.run([sys.executable, "-m", "emu"] + args, cwd=tmp_path, env=emu_env(),
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert p.stdout == b"" and err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("a53emu"), err
    assert list(tmp_path.iterdir()) == []           # no report file begun


def test_help_still_lists_the_options():
    p = subprocess.run([sys.executable, "-m", "emu", "run", "-h"], cwd=ROOT, env=emu_env(),
                       capture_output=True, timeout=60)
    assert p.returncode == 0 and b"--snapshot-at" in p.stdout and b"usage:" in p.stdout
