"""Core dumps (kernel/coredump.py): a process killed by a core-dumping
signal writes ./core when RLIMIT_CORE allows, and WCOREDUMP is set.

The host's answer depends on its core_pattern (often a pipe to a crash
collector), so the facts are checked on the board against Linux 4.14's
rules: no dump below one page of RLIMIT_CORE (binfmt->min_coredump), a dump
cut at the limit still counts (elf_core_dump sets has_dumped before the
first write), and the file is an ELF core gdb can read.
"""

import struct

import pytest
from elftools.elf.elffile import ELFFile

from conftest import run_a53emu, userland_path

NT_PRSTATUS, NT_SIGINFO, NT_FILE = 1, 0x53494749, 0x46494C45
PRSTATUS_REGS = 112          # offsetof(struct elf_prstatus, pr_reg) on arm64
X19_MARKER = 0xA53A53A53
DATA_MARKER = 0xC0DEDC0DE
SIGSEGV, SEGV_MAPERR = 11, 1


def run(libc, mode, cwd):
    r = run_a53emu([userland_path(libc, "coredump"), mode], cwd=cwd)
    return r, r.stdout.decode()


def notes_of(core):
    out = []
    for seg in core.iter_segments():
        if seg.header.p_type == "PT_NOTE":
            for n in seg.iter_notes():
                out.append((n["n_name"], n["n_type"], n["n_descdata"]))
    return out


@pytest.mark.parametrize("libc_name", ["musl", "glibc"])
def test_no_core_when_rlimit_core_is_zero(tmp_path, libc_name):
    r, out = run(libc_name, "none", tmp_path)
    assert r.returncode == 0, r.stderr
    assert out == "none: signaled=1 sig=11 WCOREDUMP=0 core=no size=0\n"
    assert not (tmp_path / "core").exists()


def test_core_of_a_two_thread_process(tmp_path, libc):
    r, out = run(libc, "dump", tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.startswith("dump: signaled=1 sig=11 WCOREDUMP=1 core=yes size=")
    path = tmp_path / "core"
    with open(path, "rb") as f:
        core = ELFFile(f)
        assert core["e_type"] == "ET_CORE" and core["e_machine"] == "EM_AARCH64"
        notes = notes_of(core)
        prstatus = [d for name, t, d in notes if t == "NT_PRSTATUS"]
        assert len(prstatus) == 2                       # the faulting thread first
        raw = prstatus[0] if isinstance(prstatus[0], bytes) else prstatus[0].encode("latin-1")
        cursig = struct.unpack_from("<h", raw, 12)[0]
        regs = struct.unpack_from("<34Q", raw, PRSTATUS_REGS)
        assert cursig == SIGSEGV
        assert regs[19] == X19_MARKER
        assert regs[0] == 16 or 16 in regs[:31]         # the address it stored to
        types = [t for _, t, _ in notes]
        for wanted in ("NT_PRPSINFO", "NT_AUXV", "NT_FPREGSET"):
            assert wanted in types
        memory = b"".join(seg.data() for seg in core.iter_segments()
                          if seg.header.p_type == "PT_LOAD")
    assert b"heap-marker-a53emu-core" in memory
    assert struct.pack("<Q", DATA_MARKER) in memory
    # the siginfo of the fault
    with open(path, "rb") as f:
        data = f.read()
    i = data.index(b"CORE\0\0\0\0", data.index(struct.pack("<I", NT_SIGINFO)) - 8)
    signo, _errno, code = struct.unpack_from("<iii", data, i + 8)
    assert (signo, code) == (SIGSEGV, SEGV_MAPERR)


def test_core_cut_at_rlimit_core(tmp_path):
    r, out = run("musl", "small", tmp_path)
    assert r.returncode == 0, r.stderr
    assert out == "small: signaled=1 sig=11 WCOREDUMP=1 core=yes size=8192\n"


def test_cli_says_core_dumped(tmp_path):
    r, _ = run("musl", "self", tmp_path)
    assert r.returncode == 128 + SIGSEGV
    assert r.stderr.decode().rstrip().endswith("(core dumped)"), r.stderr
    assert (tmp_path / "core").stat().st_size > 0


def test_core_pattern_names_the_file(tmp_path, libc):
    """kernel.core_pattern (a guest root writes it): its templates expand
    as format_corename() does, a |helper pattern dumps nothing (the board
    runs no usermode helper), and an old ./core symlink is unlinked, never
    followed (4.14 unlinks, then creates O_EXCL)."""
    r = run_a53emu(["--root", userland_path(libc, "coredump"), "pattern"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == (
        "default: core\n"
        "templated: WCOREDUMP=1 file=yes\n"
        "helper: WCOREDUMP=0\n"
        "over a symlink: WCOREDUMP=1 core regular=1 victim=no\n")
    assert list(tmp_path.iterdir()) == []


def test_coredump_filter(tmp_path, libc):
    """/proc/PID/coredump_filter: 4.14's default 0x33, written as a number in
    base 0 (kstrtouint), kept by fork, and obeyed by vma_dump_size(): with 0
    the core holds no memory.  (The host build of the same program prints
    the same lines on a kernel booted with the default filter.)"""
    r = run_a53emu([userland_path(libc, "coredump"), "filter"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == (
        "default: 00000033\n"
        "after 0x7: 00000007\n"
        "after 063 (octal): 00000033\n"
        "in a child: 00000033\n"
        "core with filter 0 smaller: yes\n")
    assert list(tmp_path.iterdir()) == []
