"""End-to-end: every userland program under a53emu and under qemu-aarch64.

For each libc flavour and each program we compare stdout, stderr and the
exit status byte for byte.  Two things are never compared:

* the line an emulator prints itself when the program dies of a signal
  (a53emu's `a53emu: PROG: Segmentation fault ...` versus qemu's
  `qemu: uncaught target signal 11 ...`): the program's stderr is only
  compared when it exits normally; a53emu's own line is checked separately;
* the few lines where qemu-user is *not* Linux and a53emu follows Linux.
  Each is listed in QEMU_IS_NOT_LINUX below with the reason; the line is
  masked in both outputs and a53emu's own value is asserted against what
  Linux prints.

Programs run in a per-test tmp_path (some create scratch files in their
working directory), with absolute program paths and the same environment
for both emulators (glibc's start-up mallocs depend on the environment and
the program path, which shifts the brk numbers malloc_story prints).
"""

import os
import re
import signal

import pytest

from conftest import run_a53emu, run_qemu, userland_path


def shell_status(returncode):
    """$? as a shell reports it: qemu-aarch64 re-raises the guest's fatal
    signal on itself, so subprocess sees -SIG; a53emu exits 128 + SIG."""
    return 128 - returncode if returncode < 0 else returncode


def clean_env(**extra):
    """The host environment minus anything that would change the programs'
    output (A53_DEMO) or qemu's behaviour (QEMU_*), plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k != "A53_DEMO" and not k.startswith("QEMU_")}
    env.update(extra)
    return env


# Lines where qemu-user does not behave like Linux.  Key: (program, libc or
# None for both) -> list of (line prefix, a53emu's expected line, reason).
_VDSO_HEAP = ("(d) qemu-user 7.2 gives AArch64 programs no vDSO (no AT_SYSINFO_EHDR); "
              "Linux does, and static glibc's startup registers it with calloc(), so "
              "malloc's heap starts before main and the break offsets differ by a page.")
QEMU_IS_NOT_LINUX = {
    ("malloc_story", None): [
        ("lines named [heap]: ", "lines named [heap]: 1",
         "(a) qemu-aarch64 never labels the guest heap in its emulated "
         "/proc/self/maps, so it prints 0.  Linux's show_map_vma() labels the VMA "
         "that overlaps [start_brk, brk] as [heap]; with no brk randomisation (a53emu "
         "has no ASLR) that VMA exists for both libcs: glibc's grown heap, and for "
         "zig-musl (which never grows the heap) the .bss VMA that ends exactly at "
         "start_brk == brk."),
    ],
    ("malloc_story", "glibc"): [
        ("anonymous mapping present: ", "anonymous mapping present: no",
         "(b) on Linux the .bss VMA and the brk heap VMA have the same flags and are "
         "adjacent, so vma_merge() folds them into one VMA, which is labelled [heap]: "
         "no unnamed anonymous line remains.  qemu keeps them apart and unlabelled."),
        # (d) the vDSO (issue 9 part 4).  qemu-user 7.2 passes AArch64 programs no
        # AT_SYSINFO_EHDR; Linux and a53emu do, and static glibc's startup then
        # registers the vDSO (setup_vdso() -> _dl_new_object() -> calloc), which
        # starts malloc's heap before main: every break offset below is a53emu's
        # (Linux's), where qemu's are one page different.
        ("  the break moved by +", "  the break moved by +208896 bytes (sys_brk grew the heap "
         "VMA), now at start+208896", _VDSO_HEAP),
        ("free(small #", [
            "free(small #4): the break moved by -102400 bytes (the allocator trimmed the top of "
            "the heap with sys_brk), now at start+106496",
            "free(small #3): the break moved by -102400 bytes (the allocator trimmed the top of "
            "the heap with sys_brk), now at start+4096",
            "free(small #2): the break moved by -4096 bytes (the allocator trimmed the top of "
            "the heap with sys_brk), now at start+0",
            "free(small #1): the break did not move (now at start+0)"], _VDSO_HEAP),
        ("  ok: the break is back at", "  ok: the break is back at start+0", _VDSO_HEAP),
        ("  the break did not move (now at start", ["  the break did not move (now at start+0)"]
         * 4, _VDSO_HEAP),
    ],
    ("fileio", None): [
        ('  ok: readlink("/proc/self/exe")', '  ok: readlink("/proc/self/exe") ends in "fileio"',
         "(c) qemu-user answers readlink(\"/proc/self/exe\") itself instead of the "
         "kernel, and (depending on version and how it was started) may return the "
         "path of the qemu binary rather than of the guest program.  On Linux it is "
         "the program; a53emu must say so."),
    ],
}


def masks_for(program, libc):
    return QEMU_IS_NOT_LINUX.get((program, None), []) + QEMU_IS_NOT_LINUX.get((program, libc), [])


def mask(text, masks):
    """Replace every line starting with one of the masked prefixes."""
    out = []
    for line in text.split(b"\n"):
        for prefix, _, _ in masks:
            if line.decode(errors="replace").startswith(prefix):
                line = b"<masked: qemu is not Linux here> " + prefix.encode()
                break
        out.append(line)
    return b"\n".join(out)


def run_both(libc, program, tmp_path, args=(), a53_opts=(), qemu_opts=(), env=None):
    path = userland_path(libc, program)
    env = env if env is not None else clean_env()
    (tmp_path / "a53emu").mkdir()
    (tmp_path / "qemu").mkdir()
    a = run_a53emu(list(a53_opts) + [path] + list(args), cwd=tmp_path / "a53emu", env=env,
                   timeout=60)
    q = run_qemu(list(qemu_opts) + [path] + list(args), cwd=tmp_path / "qemu", env=env,
                 timeout=60)
    return a, q


def assert_no_traceback(proc):
    assert b"Traceback" not in proc.stdout + proc.stderr, proc.stderr.decode(errors="replace")


# Programs that exit normally: (program, args, a53emu options, qemu options).
NORMAL_RUNS = {
    "hello-args-env": ("hello", ["a", "b c"], ["-E", "A53_DEMO=x"], ["-E", "A53_DEMO=x"]),
    "hello": ("hello", [], [], []),
    "hello-pie": ("hello-pie", ["one", "two", "three"], [], []),
    "malloc_story": ("malloc_story", [], [], []),
    "mmap_kinds": ("mmap_kinds", [], [], []),
    "munmap_split": ("munmap_split", [], [], []),
    "mprotect": ("mprotect", [], [], []),
    "fileio": ("fileio", [], [], []),
    "sysinfo": ("sysinfo", [], [], []),
    "code_reuse": ("code_reuse", [], [], []),
    "page_cache": ("page_cache", [], [], []),
    "mlock_mincore": ("mlock_mincore", [], [], []),
    "signals": ("signals", [], [], []),
    # a frame that cannot be written becomes a SIGSEGV a handler can catch
    # (signal_setup_done -> force_sigsegv), not an immediate death
    "signals-badframe": ("signals", ["badframe"], [], []),
}


@pytest.mark.parametrize("case", sorted(NORMAL_RUNS))
def test_matches_qemu(libc, case, tmp_path):
    program, args, a53_opts, qemu_opts = NORMAL_RUNS[case]
    a, q = run_both(libc, program, tmp_path, args, a53_opts, qemu_opts)
    assert_no_traceback(a)
    masks = masks_for(program, libc)
    assert mask(a.stdout, masks).decode() == mask(q.stdout, masks).decode()
    # both exit normally here, so stderr is entirely the program's own
    assert a.stderr.decode() == q.stderr.decode()
    assert shell_status(a.returncode) == shell_status(q.returncode)
    # the masked lines: a53emu must print what Linux prints
    lines = a.stdout.decode().splitlines()
    for prefix, expected, reason in masks:
        mine = [ln for ln in lines if ln.startswith(prefix)]
        assert mine == (expected if isinstance(expected, list) else [expected]), reason
    # and the scratch files are gone again
    assert list((tmp_path / "a53emu").iterdir()) == []


def test_hello_exit_status_and_env(libc, tmp_path):
    """hello exits argc - 1 and sees -E variables (checked without qemu too)."""
    a = run_a53emu(["-E", "A53_DEMO=x", userland_path(libc, "hello"), "a", "b c"],
                   cwd=tmp_path, env=clean_env())
    assert a.returncode == 2
    assert a.stdout.decode() == ("hello, world\nargc = 3\nargv[0] = hello (basename)\n"
                                 "argv[1] = a\nargv[2] = b c\nA53_DEMO = x\n")
    assert a.stderr == b""


def test_segfault(libc, tmp_path):
    a, q = run_both(libc, "segfault", tmp_path)
    assert_no_traceback(a)
    assert shell_status(q.returncode) == 128 + signal.SIGSEGV == 139
    assert a.returncode == 139
    # stdout is the program's own and must match
    assert a.stdout == q.stdout == b"about to fault\n"
    # stderr: a53emu's own report, exactly one line
    lines = a.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert "Segmentation fault" in line and "SEGV_MAPERR" in line, line
    assert re.search(r"\bat pc 0x[0-9a-f]+ <main\+0x[0-9a-f]+>", line), line
    m = re.search(r"\baddress (0x[0-9a-f]+)", line)
    assert m, line
    assert m.group(1) == "0x10", line


def test_sigsegv_while_blocked_kills(libc, tmp_path):
    """A fault signal that is blocked cannot be delivered: Linux (force_sig_info)
    unblocks it, resets the handler and the program dies, exit 139."""
    a, q = run_both(libc, "signals", tmp_path, args=["blocked"])
    assert_no_traceback(a)
    assert shell_status(q.returncode) == a.returncode == 139
    assert a.stdout == q.stdout == b"SIGSEGV blocked; faulting now\n"


def test_udf_is_sigill(libc, tmp_path):
    """An undefined instruction: do_undefinstr() sends SIGILL (ILL_ILLOPC), as
    Linux and qemu do: exit 132, and one line naming the instruction and the
    pc in main."""
    a = run_a53emu([userland_path(libc, "udf")], cwd=tmp_path, env=clean_env())
    q = run_qemu([userland_path(libc, "udf")], cwd=tmp_path, env=clean_env())
    assert_no_traceback(a)
    assert shell_status(q.returncode) == a.returncode == 128 + signal.SIGILL
    assert a.stdout == q.stdout == b"about to execute an undefined instruction\n"
    lines = a.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert "killed by SIGILL" in lines[0], lines[0]
    assert re.search(r"\bpc 0x[0-9a-f]+ <main\+0x[0-9a-f]+>", lines[0]), lines[0]
    assert "udf" in lines[0] or "00000000" in lines[0], lines[0]


def test_dynamic_glibc_program_with_sysroot(tmp_path):
    """A dynamically linked program: load_elf_binary() maps PT_INTERP's
    ld-linux-aarch64.so.1 from --sysroot, which then mmaps libc.so.6 with
    the same syscalls a real kernel sees.  Compared with qemu -L."""
    import shutil
    import subprocess
    sysroot = "/usr/aarch64-linux-gnu"
    gcc = shutil.which("aarch64-linux-gnu-gcc")
    if gcc is None or not os.path.isdir(sysroot):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("aarch64-linux-gnu-gcc and its sysroot are required in CI")
        pytest.skip("needs aarch64-linux-gnu-gcc and /usr/aarch64-linux-gnu")
    src = userland_path("musl", "hello").parent.parent.parent / "src" / "hello.c"
    prog = tmp_path / "hello-dyn"
    subprocess.run([gcc, "-O1", "-o", str(prog), str(src)], check=True)
    a = run_a53emu(["-L", sysroot, prog, "x", "y"], cwd=tmp_path, env=clean_env())
    q = run_qemu(["-L", sysroot, prog, "x", "y"], cwd=tmp_path, env=clean_env())
    assert_no_traceback(a)
    assert (a.returncode, a.stdout, a.stderr) == (q.returncode, q.stdout, q.stderr) == (
        2, q.stdout, b"")
    assert b"hello, world" in a.stdout
