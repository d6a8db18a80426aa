"""`a53emu walk`: the MMU's walk of addresses at a moment of a run, checked
line by line for consistency (each table pointer is the next level's
table, the VA's indices are its bits) and against the kernel's answers."""

import re
import subprocess
import sys

import pytest

from conftest import ROOT, emu_env, userland_path

TEXT = 0x400000          # glibc's static programs load here


def a53emu(args):
    """`python -m emu ARGS` (any subcommand)."""
    return subprocess.run([sys.executable, "-m", "emu"] + [str(a) for a in args], cwd=ROOT,
                          env=emu_env(), capture_output=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def run_walk(args, addrs):
    r = a53emu(args + ["--"] + ["%#x" % a for a in addrs])
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def blocks(out):
    """{address: [lines]} from the walk's output."""
    found = {}
    current = None
    for line in out.splitlines():
        m = re.match(r"(0x[0-9a-f]+) in pid \d+ ", line)
        if m:
            current = found.setdefault(int(m.group(1), 16), [line])
        elif current is not None and line.startswith("  "):
            current.append(line)
    return found


def check_chain(lines, va, va_bits):
    """The steps: one per level from the start level, each table the one
    the previous step pointed at, each index the VA's bits for that level."""
    start = 0 if va_bits == 48 else 1
    steps = [ln for ln in lines if re.match(r"  L\d table", ln)]
    table = None
    for i, ln in enumerate(steps):
        m = re.match(r"  L(\d) table (0x[0-9a-f]+) \[\s*(\d+)\] @(0x[0-9a-f]+): (0x[0-9a-f]+)  (.*)",
                     ln)
        assert m, ln
        level, tab, index, at, desc = int(m.group(1)), int(m.group(2), 16), int(m.group(3)), \
            int(m.group(4), 16), int(m.group(5), 16)
        assert level == start + i
        assert index == (va >> (12 + 9 * (3 - level))) & 511
        assert at == tab + 8 * index
        if table is not None:
            assert tab == table
        table = desc & 0xFFFFFFFFF000 if m.group(6).startswith("table") else None
    return steps


def test_walk_at_exit_text_stack_and_nothing(libc):
    prog = userland_path(libc, "hello")
    status, out, err = run_walk(["walk", "--at", "exit", prog], [TEXT, 0, 0xFFFFFFFFF000])
    assert status == 0, err
    assert "walk at exit:" in out
    b = blocks(out)
    if libc == "glibc":
        text = b[TEXT]
        assert len(check_chain(text, TEXT, 48)) == 4
        assert text[-3].startswith("  read  ok: pa ")
        assert text[-1].startswith("  exec  ok: pa ")
        assert "SEGV_ACCERR" in text[-2] and "permission fault at level 3" in text[-2]
    null = b[0]
    check_chain(null, 0, 48)
    assert "  VMA none" in null
    assert all("SEGV_MAPERR" in ln for ln in null[-3:])
    stack = b[0xFFFFFFFFF000]
    assert len(check_chain(stack, 0xFFFFFFFFF000, 48)) == 4
    assert any("[stack]" in ln for ln in stack)
    assert stack[-2].startswith("  write ok: pa ")


def test_walk_on_entry_to_a_syscall_stops_the_program():
    """At syscall:1 nothing has been printed yet, and the program never
    prints: the board stops after the walk (exit status 0)."""
    prog = userland_path("musl", "hello")
    status, out, err = run_walk(["walk", "--at", "syscall:1", prog], [0x1000000])
    assert status == 0, err
    assert out.startswith("walk on entry to system call 1 (")
    assert "hello, world" not in out
    assert err == ""


def test_walk_with_39_bit_addresses_has_three_levels():
    prog = userland_path("glibc", "hello")
    status, out, err = run_walk(["walk", "--va-bits", "39", "--at", "exit", prog], [TEXT])
    assert status == 0, err
    lines = blocks(out)[TEXT]
    assert lines[1] == "  VA [38:30] 0 | [29:21] 2 | [20:12] 0 | [11:0] 0x000"
    assert len(check_chain(lines, TEXT, 39)) == 3


def test_walk_outside_the_address_space():
    status, out, _ = run_walk(["walk", "--at", "exit", userland_path("musl", "hello")],
                              [1 << 50])
    assert status == 0
    assert "outside the 48-bit user address space" in out


def test_walk_a_demand_paged_page_before_and_after():
    """A page of the stack VMA nobody touched: invalid at level 3 (or
    above), and the kernel would map it."""
    prog = userland_path("musl", "hello")
    status, out, _ = run_walk(["walk", "--at", "exit", prog], [0xFFFFFFFDF000])
    assert status == 0
    lines = blocks(out)[0xFFFFFFFDF000]
    assert any("invalid: translation fault" in ln for ln in lines)
    assert lines[-3].endswith("the kernel maps the page (demand paging)")


@pytest.mark.parametrize("args,message", [
    (["walk", "--at", "sometime"], "expected exit or syscall:N"),
    (["walk", "--at", "syscall:0"], "expected exit or syscall:N"),
])
def test_walk_bad_moment(args, message):
    r = a53emu(args + [userland_path("musl", "hello"), "--", "0x1000"])
    assert r.returncode == 2
    assert message in r.stderr.decode()


def test_walk_bad_or_missing_addresses():
    prog = str(userland_path("musl", "hello"))
    for tail, message in ((["--", "nowhere"], "is not an address"),
                          ([], "give the addresses after --"),
                          (["--"], "at least one address"),
                          (["--", "-5"], "is not an address")):
        r = a53emu(["walk", "--at", "exit", prog] + tail)
        assert r.returncode == 2, tail
        assert message in r.stderr.decode(), tail
        # one line, naming walk's own help as argparse's walk errors do
        assert r.stderr.decode().startswith("a53emu walk: "), tail
        assert r.stderr.decode().endswith(" (a53emu walk -h for the options)\n"), tail


def test_walk_moment_never_reached():
    status, _, err = run_walk(["walk", "--at", "syscall:100000", userland_path("musl", "hello")],
                              [0x1000])
    assert status == 1
    assert "before syscall:100000" in err
