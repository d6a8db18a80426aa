"""The a53emu command line: bad input, resource exhaustion, and the trace and
inspection options.

Every failure must be one clear line on stderr and a shell-like exit status
(127: not found, 126: cannot execute, 137: killed by SIGKILL, 2: usage), and
no output may ever contain a Python traceback unless --debug asks for one.
"""

import os
import pty
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, drain_pty, run_a53emu, userland_path

MAPS_LINE = re.compile(r"^[0-9a-f]{8,}-[0-9a-f]{8,} [r-][w-][x-][ps] [0-9a-f]{8} "
                       r"[0-9a-f]{2}:[0-9a-f]{2} \d+ ")


def musl(name):
    """A musl userland binary (the CLI tests use musl where any program will do)."""
    path = userland_path("musl", name)
    if not path.exists():
        pytest.fail("%s missing: run `make userland`" % path)
    return path


def check_clean(proc):
    """No traceback anywhere; returns stderr's lines."""
    out = proc.stdout + proc.stderr
    assert b"Traceback" not in out, proc.stderr.decode(errors="replace")
    return proc.stderr.decode().splitlines()


def one_line_error(proc, status):
    lines = check_clean(proc)
    assert proc.returncode == status, (proc.returncode, lines)
    assert proc.stdout == b""
    assert len(lines) == 1, lines
    assert lines[0].startswith("a53emu: "), lines
    return lines[0]


# ---------------------------------------------------------------------------
# Programs that cannot be run
# ---------------------------------------------------------------------------

def test_missing_program(tmp_path):
    missing = tmp_path / "no-such-program"
    p = run_a53emu([missing])
    line = one_line_error(p, 127)
    assert line == "a53emu: %s: No such file or directory" % missing


def test_text_file(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("just some text\n")
    f.chmod(0o755)
    one_line_error(run_a53emu([f]), 126)


def test_wrong_architecture():
    true = shutil.which("true") or "/bin/true"
    with open(true, "rb") as fh:
        head = fh.read(20)
    if head[:4] != b"\x7fELF" or head[18:20] == b"\xb7\x00":
        pytest.skip("%s is not a non-AArch64 ELF on this host" % true)
    line = one_line_error(run_a53emu([true]), 126)
    assert "machine" in line, line
    machine = int.from_bytes(head[18:20], "little")
    # named by number (e_machine) or by name (x86-64 is EM_X86_64 = 62)
    assert str(machine) in line or (machine == 62 and re.search(r"x86[-_]64", line)), line


def test_32bit_elf(tmp_path):
    """A 32-bit ARM ELF: refused by elf_check_arch (e_machine EM_ARM), the
    line says it is 32-bit.  (EI_CLASS alone is not checked by 4.14: see
    tests/test_binfmt_elf.py.)"""
    f = tmp_path / "hello32"
    data = bytearray(musl("hello").read_bytes())
    data[4] = 1                 # EI_CLASS: ELFCLASS32
    data[18:20] = (40).to_bytes(2, "little")    # e_machine: EM_ARM
    f.write_bytes(bytes(data))
    f.chmod(0o755)
    line = one_line_error(run_a53emu([f]), 126)
    assert "32" in line, line


@pytest.mark.parametrize("size,status", [(200, 126), (4000, 139)])
def test_truncated_elf(tmp_path, size, status):
    """Cut in its program headers: ENOEXEC (126).  Cut after them, in the
    segments: the loader maps past the end of the file and padzero() then
    faults (EFAULT past exec's point of no return: SIGSEGV, 139), as the
    host kernel does with an x86-64 program cut the same way."""
    f = tmp_path / ("hello-%d" % size)
    f.write_bytes(musl("hello").read_bytes()[:size])
    f.chmod(0o755)
    one_line_error(run_a53emu([f]), status)


def test_empty_file(tmp_path):
    f = tmp_path / "empty"
    f.write_bytes(b"")
    f.chmod(0o755)
    one_line_error(run_a53emu([f]), 126)


def test_directory(tmp_path):
    one_line_error(run_a53emu([tmp_path]), 126)


def test_not_executable(tmp_path):
    """execve() needs execute permission: EACCES, which a shell reports as 126
    "Permission denied" (qemu-aarch64 refuses too)."""
    f = tmp_path / "hello-noexec"
    f.write_bytes(musl("hello").read_bytes())
    f.chmod(0o644)
    line = one_line_error(run_a53emu([f]), 126)
    assert "Permission denied" in line, line


def test_out_of_memory():
    """8 MiB of board RAM cannot hold the pages a program keeps touching
    (mapped in steps the overcommit heuristic allows; one 64 MiB mmap is
    refused with ENOMEM): the OOM killer kills the program (SIGKILL, 137)
    with one line, like the kernel's "Out of memory: Killed process ..."."""
    p = run_a53emu(["--mem", "8M", musl("overcommit"), "fill"])
    line = one_line_error(p, 137)
    assert "Out of memory" in line, line
    assert "SIGKILL" in line, line


# ---------------------------------------------------------------------------
# Usage errors
# ---------------------------------------------------------------------------

def test_unknown_trace_class():
    p = run_a53emu(["--trace", "syscall,bogus", musl("hello")])
    line = one_line_error(p, 2)
    assert "bogus" in line and "trace" in line, line


@pytest.mark.parametrize("cores", ["0", "9"])
def test_bad_core_count(cores):
    one_line_error(run_a53emu(["--cores", cores, musl("hello")]), 2)


def test_unwritable_trace_file(tmp_path):
    p = run_a53emu(["--trace", "syscall", "--trace-file", tmp_path / "no" / "dir" / "f",
                    musl("hello")])
    one_line_error(p, 2)


# ---------------------------------------------------------------------------
# Running options
# ---------------------------------------------------------------------------

HELLO_OUT = "hello, world\nargc = 1\nargv[0] = hello (basename)\nA53_DEMO = (unset)\n"


def env_without_demo(**extra):
    env = {k: v for k, v in os.environ.items() if k != "A53_DEMO"}
    env.update(extra)
    return env


@pytest.mark.parametrize("opts", [["--va-bits", "39"], ["--cores", "1"], ["--va-bits", "48"]])
def test_runs_hello_with(libc, opts):
    p = run_a53emu(opts + [userland_path(libc, "hello")], env=env_without_demo())
    check_clean(p)
    assert p.returncode == 0
    assert p.stdout.decode() == HELLO_OUT
    assert p.stderr == b""


def test_unset_env(libc):
    hello = userland_path(libc, "hello")
    env = env_without_demo(A53_DEMO="from-host")
    p = run_a53emu([hello], env=env)
    assert (p.returncode, p.stderr) == (0, b"")
    assert "A53_DEMO = from-host\n" in p.stdout.decode()
    p = run_a53emu(["-U", "A53_DEMO", hello], env=env)
    assert (p.returncode, p.stdout.decode(), p.stderr) == (0, HELLO_OUT, b"")
    p = run_a53emu(["-E", "A53_DEMO=set-here", hello], env=env_without_demo())
    assert (p.returncode, p.stderr) == (0, b"")
    assert "A53_DEMO = set-here\n" in p.stdout.decode()
    # -E then -U of the same variable: -U wins (it is applied last)
    p = run_a53emu(["-E", "A53_DEMO=x", "-U", "A53_DEMO", hello], env=env)
    assert (p.returncode, p.stdout.decode(), p.stderr) == (0, HELLO_OUT, b"")


def test_maps(libc):
    p = run_a53emu(["--maps", userland_path(libc, "hello")], env=env_without_demo())
    lines = check_clean(p)
    assert p.returncode == 0
    assert p.stdout.decode() == HELLO_OUT          # --maps goes to stderr, not stdout
    assert lines, "no maps printed"
    for line in lines:
        assert MAPS_LINE.match(line), line
    stack = [ln for ln in lines if ln.endswith(" [stack]")]
    assert len(stack) == 1, lines
    assert any(ln.endswith(str(userland_path(libc, "hello"))) for ln in lines), lines
    # the stack is at the top of the 48-bit user address space (no ASLR)
    assert stack[0].split()[0].endswith("-1000000000000"), stack


def test_maps_va_bits_39(libc):
    p = run_a53emu(["--maps", "--va-bits", "39", userland_path(libc, "hello")],
                   env=env_without_demo())
    lines = check_clean(p)
    assert p.returncode == 0
    stack = [ln for ln in lines if ln.endswith(" [stack]")]
    assert len(stack) == 1 and MAPS_LINE.match(stack[0]), lines
    start, end = (int(x, 16) for x in stack[0].split()[0].split("-"))
    assert end == 1 << 39, stack


# ---------------------------------------------------------------------------
# --trace
# ---------------------------------------------------------------------------

def trace(args, libc, program, cwd=None, trace_classes="syscall"):
    p = run_a53emu(["--trace", trace_classes] + [userland_path(libc, program)] + args,
                   cwd=cwd, env=env_without_demo())
    check_clean(p)
    return p, p.stderr.decode().splitlines()


def run_on_pty(args):
    """Run `python -m emu run ARGS` with stdout on a pseudo-terminal (so stdio
    is line buffered) and return (returncode, terminal output, stderr)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.run([sys.executable, "-m", "emu", "run"] + [str(a) for a in args],
                           cwd=ROOT, env=env_without_demo(), stdin=subprocess.DEVNULL,
                           stdout=slave, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(slave)
    out = drain_pty(master)
    os.close(master)
    return p.returncode, out, p.stderr


def test_trace_write_line_on_a_terminal(libc, tmp_path):
    """On a terminal stdio is line buffered: one write per line."""
    tf = tmp_path / "trace"
    rc, out, err = run_on_pty(["--trace", "syscall", "--trace-file", tf,
                               userland_path(libc, "hello")])
    assert rc == 0 and err == b""
    assert out.replace(b"\r\n", b"\n").decode() == HELLO_OUT
    lines = tf.read_text().splitlines()
    if libc == "glibc":
        assert 'write(1, "hello, world\\n", 13) = 13' in lines, lines
    else:   # musl's stdio writes with writev (the buffer and the new data)
        assert any(re.match(r'^writev\(1, \[\{iov_base="[^"]*", iov_len=\d+\}, '
                            r'\{iov_base="[^"]*", iov_len=\d+\}\], 2\) = 13$', ln)
                   for ln in lines), lines
    assert "exit_group(0) = ?" in lines, lines


def test_trace_write_strings(libc):
    """efault's raw write()s: a long string is cut at 32 characters with
    `...`; an unreadable buffer shows as its address, the error by name."""
    p, lines = trace([], libc, "efault")
    assert p.returncode == 0
    assert 'write(1, "efault: passing bad pointers to "..., 43) = 43' in lines, lines
    assert "write(1, 0x10, 5) = -1 EFAULT (Bad address)" in lines, lines
    assert any(re.match(r'^openat\(AT_FDCWD, NULL, O_RDONLY\S*(, \S+)?\) = -1 EFAULT '
                        r'\(Bad address\)$', ln) for ln in lines), lines


def test_trace_openat(libc):
    p, lines = trace([], libc, "malloc_story")
    assert p.returncode == 0
    opens = [ln for ln in lines if ln.startswith('openat(AT_FDCWD, "/proc/self/maps", O_RDONLY')]
    assert opens, lines
    for ln in opens:
        assert re.match(r'^openat\(AT_FDCWD, "/proc/self/maps", O_RDONLY[A-Z_|]*(, 0\d*)?\) = 3$',
                        ln), ln
    # and the trace did not leak into the program's stdout
    assert b"openat(" not in p.stdout


def test_trace_enosys(libc, tmp_path):
    p, lines = trace([], libc, "hello")
    assert p.returncode == 0
    if libc == "glibc":
        # glibc registers restartable sequences at start-up; the kernel has none
        rseq = [ln for ln in lines if ln.startswith("rseq(")]
        assert len(rseq) == 1, lines
        assert rseq[0].endswith(" = -1 ENOSYS (Function not implemented)"), rseq
    p, lines = trace([], libc, "syscalls", cwd=tmp_path)     # it makes a scratch file
    assert any(re.match(r"^syscall_0x3e7\(.*\) = -1 ENOSYS \(Function not implemented\)$", ln)
               for ln in lines), [ln for ln in lines if "999" in ln]


def test_trace_mmap(libc):
    p, lines = trace([], libc, "malloc_story")
    assert p.returncode == 0
    anon = re.compile(r"^mmap\(NULL, \d+, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, "
                      r"-1, (0|0x0)\) = 0x[0-9a-f]+$")
    mine = [ln for ln in lines if anon.match(ln)]
    assert mine, [ln for ln in lines if ln.startswith("mmap(")]
    # strace prints a zero offset as `0` (C's %#lx), not Python's `0x0`
    assert all(ln.split(", -1, ")[1].startswith("0)") for ln in mine), mine


def test_trace_file(libc, tmp_path):
    tf = tmp_path / "trace.txt"
    p = run_a53emu(["--trace", "syscall", "--trace-file", tf, userland_path(libc, "hello")],
                   env=env_without_demo())
    check_clean(p)
    assert p.returncode == 0
    assert p.stdout.decode() == HELLO_OUT
    assert p.stderr == b""                      # nothing on stderr ...
    lines = tf.read_text().splitlines()         # ... it all went to the file
    assert "exit_group(0) = ?" in lines, lines
    assert any(ln.startswith(("write(1, ", "writev(1, ")) for ln in lines), lines


def test_trace_mm_events(libc, tmp_path):
    """fault, vma, pte and tlb events each have their own prefix, and say what
    happened: munmap_split maps 5 pages at A, writes each (five write
    faults, each mapping a dirty writable page), unmaps page 2 (two splits,
    its pte cleared, its TLB range flushed, its VMA removed), then all."""
    p, lines = trace([], libc, "munmap_split", cwd=tmp_path,
                     trace_classes="syscall,fault,vma,pte,tlb")
    assert p.returncode == 0
    assert b"[fault]" not in p.stdout
    kinds = {ln.split()[0] for ln in lines if ln.startswith("[")}
    assert kinds == {"[fault]", "[vma]", "[pte]", "[tlb]"}, kinds
    (mmap_line,) = [ln for ln in lines if ln.startswith("mmap(NULL, 20480, ")]
    a = int(mmap_line.rsplit(" = ", 1)[1], 16)
    P = 4096

    def r(x):
        return "0x%x-0x%x" % x

    def at(text):
        assert text in lines, (text, [ln for ln in lines if "%x" % a in ln])
        return lines.index(text)

    anon = "rw-p 00000000 "     # an anonymous VMA's offset, as /proc/PID/maps shows it
    i_insert = at("[vma] insert %s %s" % (r((a, a + 5 * P)), anon))
    assert lines.index(mmap_line) == i_insert + 1
    rw_dirty = r"=> pa=0x[0-9a-f]+ EL0:rw- RW AF nG PXN UXN dirty Attr4\(Normal\)$"
    for i in range(5):
        faults = [ln for ln in lines if ln.startswith("[fault] user at 0x%x " % (a + i * P))]
        assert len(faults) == 1, faults
        assert re.match(r"^\[fault\] user at 0x%x pc=0x[0-9a-f]+: DABT_LOW write, translation "
                        r"fault at level [23] -> %s %s " % (a + i * P, r((a, a + 5 * P)), anon)
                        + rw_dirty, faults[0]), faults[0]
    mid = a + 2 * P
    i_split1 = at("[vma] split at 0x%x: %s %s | %s %s" % (
        mid, r((a, mid)), anon, r((mid, a + 5 * P)), anon))
    i_split2 = at("[vma] split at 0x%x: %s %s | %s %s" % (
        mid + P, r((mid + P, a + 5 * P)), anon, r((mid, mid + P)), anon))
    clear = [i for i, ln in enumerate(lines) if ln.startswith("[pte] clear va=0x%x " % mid)]
    assert len(clear) == 1 and re.search(r"\(was pa=0x[0-9a-f]+ EL0:rw- RW AF nG PXN UXN "
                                         r"dirty Attr4\(Normal\)\)$", lines[clear[0]])
    i_flush = at("[tlb] flush [0x%x-0x%x)" % (mid, mid + P))
    i_remove = at("[vma] remove (unmapped) %s %s" % (r((mid, mid + P)), anon))
    i_munmap = at("munmap(0x%x, 4096) = 0" % mid)
    assert i_split1 < i_split2 < clear[0] < i_flush < i_remove < i_munmap
    # the final munmap: the four other ptes, one flush, the two VMAs
    i_all = at("munmap(0x%x, 20480) = 0" % a)
    tail = lines[i_munmap + 1:i_all]
    assert sorted(ln.split()[2] for ln in tail if ln.startswith("[pte] clear ")) == \
        sorted("va=0x%x" % (a + i * P) for i in (0, 1, 3, 4))
    assert "[tlb] flush [0x%x-0x%x)" % (a, a + 5 * P) in tail
    assert [ln for ln in tail if ln.startswith("[vma] ")] == [
        "[vma] remove (unmapped) %s %s" % (r((a, mid)), anon),
        "[vma] remove (unmapped) %s %s" % (r((mid + P, a + 5 * P)), anon)]


def test_no_fault_events_after_exit(libc):
    """Once the program has called exit_group, nothing of it runs any more: no
    page fault may be traced after that line."""
    p, lines = trace([], libc, "hello", trace_classes="syscall,fault")
    assert p.returncode == 0
    exits = [i for i, ln in enumerate(lines) if ln.startswith("exit_group(")]
    assert len(exits) == 1, lines
    assert lines[exits[0] + 1:] == ["+++ exited with 0 +++"], lines[exits[0]:]
    # and the faults before it were real ones: each names its address and pc
    faults = [ln for ln in lines if ln.startswith("[fault]")]
    assert faults, lines
    for ln in faults:
        assert re.match(r"^\[fault\] user at 0x[0-9a-f]+ pc=0x[0-9a-f]+: ", ln), ln


def test_trace_all(libc, tmp_path):
    tf = tmp_path / "t"
    p = run_a53emu(["--trace", "all", "--trace-file", tf, userland_path(libc, "munmap_split")],
                   cwd=tmp_path, env=env_without_demo())
    check_clean(p)
    assert p.returncode == 0 and p.stderr == b""
    lines = tf.read_text().splitlines()
    # all five classes, interleaved in the order things happened: the munmap
    # of the middle page is traced after its VMA split, pte clear, TLB flush
    # and VMA removal, and the last line is the exit
    (i_mid,) = [i for i, ln in enumerate(lines)
                if re.match(r"^munmap\(0x[0-9a-f]+, 4096\) = 0$", ln)]
    mid = lines[i_mid][len("munmap("):].split(",")[0]
    before = lines[:i_mid]
    assert any(ln.startswith("[vma] split at %s: " % mid) for ln in before)
    assert any(ln.startswith("[pte] clear va=%s " % mid) for ln in before)
    assert "[tlb] flush [%s-0x%x)" % (mid, int(mid, 16) + 4096) in before
    assert any(ln.startswith("[vma] remove (unmapped) %s-" % mid) for ln in before)
    assert any(ln.startswith("[fault] user at %s " % mid) for ln in before)
    # after exit_group only exit_mmap's teardown: ptes cleared, VMAs
    # removed, the whole ASID flushed; no fault, no system call
    (i_exit,) = [i for i, ln in enumerate(lines) if ln.startswith("exit_group(")]
    assert lines[i_exit] == "exit_group(0) = ?"
    after = lines[i_exit + 1:]
    assert after, "no teardown traced"
    for ln in after:
        assert ln.startswith(("[pte] clear ", "[vma] remove ", "[tlb] flush ", "+++ exited")), ln
    assert "[tlb] flush asid (whole mm)" in after


def test_debug_is_accepted(libc):
    p = run_a53emu(["--debug", userland_path(libc, "hello")], env=env_without_demo())
    check_clean(p)
    assert p.returncode == 0 and p.stdout.decode() == HELLO_OUT and p.stderr == b""
