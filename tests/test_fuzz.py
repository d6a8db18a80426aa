"""The fuzz suite's short budget (issue 10 part 7; `make fuzz` runs the long
one) and the regressions of what it found in the syscall layer.

tools/fuzz.py runs each case in a forked child with the host limits (RLIMIT_AS
at what a trivial run needs + 150 MiB, RLIMIT_FSIZE, nobody when root) in a
temporary directory it removes; see its docstring for the classes.
"""

import errno
import os
import sys
import time
import tracemalloc

import pytest

from kernel.fs.file import FdTable
from kernel.syscalls import mm as sc
from kernel.uaccess import Efault
from test_vma import B, FIXED, P, RW, Env
from kernel.uapi import MAP_NORESERVE

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
import fuzz  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(fuzz.musl("fuzz_syscalls")),
                                reason="userland not built (make userland)")


@pytest.fixture(scope="module")
def runner():
    r = fuzz.Runner()
    r.calibrate()
    return r


def _fail_text(report):
    import io
    out = io.StringIO()
    report.print_failures(out)
    return out.getvalue()


# -- the short budget ----------------------------------------------------------------------

def test_random_syscalls_short_budget(runner):
    """400 random raw system calls (4 batches of 100, seed 1): no internal
    error, traceback, hang or wrong status, and the host stays within
    --mem + 150 MiB."""
    report = fuzz.Report()
    argv = fuzz.syscall_case(1, 4, 100)
    r = runner.run(argv, timeout=60)
    fuzz.classify_syscalls(r, 100)
    report.add(r)
    assert not report.failures, _fail_text(report)
    assert r.stdout.count("batch ") == 4
    assert r.maxrss <= fuzz.parse_mem(fuzz.DEFAULT_MEM) + fuzz.HOST_SLACK


def test_elf_mutations_short_budget(runner):
    """50 seeded ELF mutants: no traceback, hang, internal error or wrong
    status (the loader is 4.14's binfmt_elf: kernel/binfmt_elf.py)."""
    report = fuzz.Report()
    for i in range(50):
        report.add(fuzz.elf_case(runner, 1, i))
    unexpected = [r for r in report.failures if r.expected is None]
    assert not unexpected, _fail_text(report)


@pytest.mark.parametrize("case", ["mincore_huge", "badfd_mode", "huge_lengths",
                                                     "huge_buffers", "partial_writes", "open_many",
                                                     "pipe_fill", "reparent_signal",
                                                     "stack_overflow", "sparse_read",
                                                     "mprotect_huge", "mremap_huge"])
def test_resource_case(runner, case):
    r = fuzz.resource_case(runner, case)
    assert r.outcome == "clean", "%s: %s\n%s%s" % (r.outcome, r.why, r.stdout, r.stderr)
    assert "ok" in r.stdout and "FAILED" not in r.stdout


def test_a_fifo_as_program_is_refused_at_once(runner):
    """binfmt_elf never opens a FIFO: EACCES, status 126, one line."""
    r = fuzz.resource_case(runner, "fifo_program")
    assert r.outcome == "clean", "%s: %s\n%s" % (r.outcome, r.why, r.stderr)
    assert r.status == 126


# The same cases on the host's kernel: Linux's answers, not ours.
# (ranges_huge is AArch64's TASK_SIZE; open_many's limit is the host's.)
HOST_CASES = ["mincore_huge", "badfd_mode", "huge_lengths", "huge_buffers", "partial_writes",
              "pipe_fill", "reparent_signal", "stack_overflow", "sparse_read"]


@pytest.mark.parametrize("case", HOST_CASES)
def test_resource_case_on_the_host_kernel(case, tmp_path):
    import subprocess
    exe = os.path.join(fuzz.ROOT, "userland", "build", "host", "fuzz_resources")
    if not os.path.exists(exe):
        pytest.skip("make -C userland host")
    p = subprocess.run([exe, case], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0 and "FAILED" not in p.stdout, p.stdout + p.stderr


@pytest.mark.slow
@pytest.mark.parametrize("case", ["ranges_huge", "oom", "fork_limit", "threads", "map_count"])
def test_resource_case_slow(runner, case):
    r = fuzz.resource_case(runner, case)
    assert r.outcome == "clean", "%s: %s\n%s%s" % (r.outcome, r.why, r.stdout, r.stderr)
    assert r.maxrss <= fuzz.parse_mem(fuzz.DEFAULT_MEM) + fuzz.HOST_SLACK


def test_the_driver_sees_an_internal_error_in_a_child(runner):
    """A kernel bug in a forked guest child is reported (one line, exit 134)
    and classified, though init lives on."""
    r = fuzz.Result(fuzz.syscall_case(1, 20, 100, 0))
    r.status = 134
    r.stderr = ("a53emu: internal error in process 3 (fuzz_syscalls): MemoryError:  "
                "(last syscall: mincore)\n")
    r.stdout = "batch 0: signal 6 at call 5: nr 232 (0, 0, 0, 0, 0, 0)\nfuzz_syscalls: seed 1\n"
    fuzz.classify_syscalls(r, 100)
    assert r.outcome == "internal error" and "batch 0" in r.why
    assert r.repro().endswith("fuzz_syscalls 1 1 100 0 200")        # that batch alone


def test_cli_reports_internal_errors_of_other_processes(capsys):
    from emu.cli import report_internal_errors

    from types import SimpleNamespace as NS

    class K:
        internal_errors = [(1, "init", NS(reason="ignored: init's own death line says it",
                                          traceback=None)),
                           (7, "child", NS(reason="ValueError: x (last syscall: read)",
                                           traceback="Traceback: here\n"))]

    class Init:
        tgid = 1

    assert report_internal_errors(K, Init) is True
    err = capsys.readouterr().err
    assert err == "a53emu: internal error in process 7 (child): ValueError: x (last syscall: read)\n"
    assert report_internal_errors(K, Init, debug=True) is True
    assert capsys.readouterr().err.startswith("Traceback: here\na53emu: internal error in process 7")
    K.internal_errors = K.internal_errors[:1]
    assert report_internal_errors(K, Init) is False


# -- regressions, in process ------------------------------------------------------------------

@pytest.fixture
def env():
    e = Env()
    e.task.files = FdTable()
    return e


def test_mincore_huge_length_allocates_nothing_on_the_host(env):
    """mincore(0, 0x500000000000): 4.14 allocates one page and returns
    -ENOMEM at the first missing VMA; the emulator made a bytearray of
    len/4096 bytes first (MemoryError: issue 10)."""
    vec = B
    env.mmap(vec, 1)
    tracemalloc.start()
    try:
        assert sc.sys_mincore(env.task, 0, 0x500000000000, vec) == -errno.ENOMEM
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (1 << 20)


def test_mincore_checks_the_vector_before_the_range_walk(env):
    """access_ok(vec, pages): a vector that would run past TASK_SIZE is
    EFAULT before any VMA is looked at (even an unmapped start)."""
    top = env.mm.task_size
    assert sc.sys_mincore(env.task, 0, 0x500000000000, top - P) == -errno.EFAULT
    assert sc.sys_mincore(env.task, B + 1, P, top - P) == -errno.EINVAL      # the start first


def test_mincore_of_a_huge_mapping_copies_chunk_by_chunk(env):
    """A 64 GiB mapping with a one-page vector: the first chunk (a page of
    vector) is copied, the second faults: EFAULT, quickly, with the empty
    page tables skipped."""
    n = 16 << 20                                    # 64 GiB of pages
    env.mmap(B, n, RW, FIXED | MAP_NORESERVE)       # more than the board: not committed
    env.write(B + 5 * P, b"x")
    vec = B + n * P + 16 * P
    env.mmap(vec, 1)
    t0 = time.monotonic()
    with pytest.raises(Efault):             # el0_svc() makes it -EFAULT
        sc.sys_mincore(env.task, B, n * P, vec)
    assert time.monotonic() - t0 < 2
    assert env.read(vec, 8) == b"\0\0\0\0\0\1\0\0"


def test_mincore_chunks_cross_vmas(env):
    """More than a page of vector, over two VMAs: every byte is right."""
    env.mmap(B, 5000, RW, FIXED | MAP_NORESERVE)    # 20 MiB on a 16 MiB board
    env.mmap(B + 5000 * P, 10, RW, FIXED | MAP_NORESERVE)   # merges or not: one answer a page
    env.write(B + 4097 * P, b"y")
    env.write(B + 5005 * P, b"z")
    vec = B + 8192 * P
    env.mmap(vec, 2)
    assert sc.sys_mincore(env.task, B, 5010 * P, vec) == 0
    got = env.read(vec, 5010)
    assert [i for i, v in enumerate(got) if v] == [4097, 5005]
