"""Issue 9 parts 4 and 8: time and timers, and what EL0 may do on the CPU.

userland/src/sys_time.c exercises every time call (clocks, EPERM for
setting them, nanosleep/clock_nanosleep with EINTR and the time left,
itimers, POSIX timers, timerfd, times) and its errors; it prints no time,
only facts that hold on any Linux within generous tolerances.  It is built
for the host and run on the host kernel, and its AArch64 builds must print
the same on a53emu, byte for byte — with and without --deterministic; two
--deterministic runs give identical output and identical syscall traces.
(qemu-user 7.2 is not compared: it cannot re-execute the program after
dropping CAP_SYS_TIME, and several of its EFAULT answers are not Linux's.)

userland/src/sys_cpu_el0.c is AArch64 only.  Its default mode prints what
holds on any arm64 Linux; `a53` prints the values a Cortex-A53 shows under
Linux 4.14 and checks what it refuses.  Both are compared with qemu-aarch64
-cpu cortex-a53 (whose A53 model has the same CTR_EL0, DCZID_EL0 and MIDR,
and whose user mode answers ID register reads the way Linux does), except
where qemu's A53 is not an A53 (QEMU_DIFFERS, QEMU_A53_DIFFERS).
"""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import run_a53emu, run_qemu, userland_path
from test_processes import assert_passed, clean_env, run_host, scratch_dir

TIMEOUT = 300
QEMU_CPU = ["-cpu", "cortex-a53"]

# Lines of `sys_cpu_el0 a53` where qemu-aarch64 7.2's cortex-a53 model is
# not the silicon: line -> (a53emu's line, reason).
QEMU_A53_DIFFERS = {
    "LDADD": ("  ok: LDADD (ARMv8.1 LSE) is SIGILL",
              "qemu-user 7.2 runs ARMv8.1 LSE atomics even with -cpu cortex-a53 "
              "(its user-mode CPU models keep every implemented feature); the A53 "
              "is ARMv8.0 and has none, so Linux delivers SIGILL."),
    "DC CIVAC of an unmapped": ("  ok: DC CIVAC of an unmapped address is SIGSEGV (SEGV_MAPERR)",
                                "qemu-user 7.2 treats data cache maintenance as a no-op and "
                                "never faults; Linux executes it on the user's address in "
                                "user_cache_maint_handler() (or the CPU does) and a fault is "
                                "SIGSEGV."),
    "ILL_ILLOPC": ("  ok: mrs SCTLR_EL1 is SIGILL with ILL_ILLOPC (do_undefinstr)",
                   "qemu-user 7.2 reports an EL1 register read at EL0 with si_code 2 "
                   "(ILL_ILLOPN); Linux's do_undefinstr() sends ILL_ILLOPC (1)."),
}

# Lines of `sys_cpu_el0` (the portable checks) where qemu-user is not Linux.
QEMU_DIFFERS = {
    "through an RX view": ("  ok: a shared page written through an RW view runs through an RX "
                           "view, 50 times",
                           "qemu-user 7.2 keeps the code it translated when the page is "
                           "rewritten through another virtual mapping (its self-modifying-code "
                           "check does not see that write), so a dual-mapped JIT runs stale "
                           "code; on an A53 the IC IVAU of __clear_cache makes the new code "
                           "visible, and a53emu drops its translations there."),
}

# What a Cortex-A53 r0p4 under Linux 4.14 shows EL0 (ARM DDI 0500 for
# CTR/DCZID/MIDR; arch/arm64/kernel/cpufeature.c for the emulated ID
# registers: visible fields as the CPU has them, hidden ones at their
# safe value, MPIDR_EL1 as SYS_MPIDR_SAFE_VAL).
A53_VALUES = """\
  CTR_EL0 = 0x84448004
  DCZID_EL0 = 0x4
  CNTFRQ_EL0 = 62500000
  MIDR_EL1 = 0x410fd034
  MPIDR_EL1 = 0x80000000
  REVIDR_EL1 = 0
  ID_AA64PFR0_EL1 = 0x11
  ID_AA64PFR1_EL1 = 0
  ID_AA64DFR0_EL1 = 0x6
  ID_AA64ISAR0_EL1 = 0x11120
  ID_AA64ISAR1_EL1 = 0
  ID_AA64MMFR0_EL1 = 0xff000000
  ID_AA64MMFR1_EL1 = 0
  untracked ID_AA64AFR0_EL1 = 0
"""


def _emu(libc, name, tmp_path, args=(), flags=(), where="a53emu"):
    cwd = scratch_dir(tmp_path, where)
    a = run_a53emu(list(flags) + [userland_path(libc, name)] + list(args), cwd=cwd,
                   env=clean_env(), timeout=TIMEOUT)
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert list(cwd.iterdir()) == []
    return a


def test_sys_time_host_kernel(tmp_path):
    """The host build passes on the host kernel, leaving nothing behind."""
    cwd = scratch_dir(tmp_path, "host")
    h = run_host("sys_time", cwd)
    assert_passed(h, "sys_time", "host")
    assert h.stderr == b""
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("flags", [(), ("--deterministic",)], ids=["host-clock", "deterministic"])
def test_sys_time_matches_host_kernel(libc, flags, tmp_path):
    """a53emu prints what the host kernel printed, on either time base."""
    h = run_host("sys_time", scratch_dir(tmp_path, "host"))
    assert_passed(h, "sys_time", "host")
    a = _emu(libc, "sys_time", tmp_path, flags=flags)
    assert a.stdout.decode(errors="replace") == h.stdout.decode()
    assert a.stderr == b""
    assert a.returncode == 0


def test_sys_time_deterministic_twice(tmp_path):
    """Two --deterministic runs of the timer program: the same output and
    the same system-call trace (every timer fires at the same instruction)."""
    runs = []
    for i in range(2):
        trace = tmp_path / ("trace%d" % i)
        a = _emu("musl", "sys_time", tmp_path, where="run%d" % i,
                 flags=("--deterministic", "--trace", "syscall", "--trace-file", str(trace)))
        assert_passed(a, "sys_time", "a53emu --deterministic")
        # The trace decodes times and buffers as strace does: the wall
        # clocks (CLOCK_REALTIME*, CLOCK_TAI) start from the host's time, and
        # getrandom's bytes are the host's; neither is shared by two
        # deterministic runs.  A time of 10^9 s or more is a wall-clock time
        # (the board's other clocks start near 0).
        runs.append((a.stdout, re.sub(
            rb'getrandom\("[^"]*"', b'getrandom("..."', re.sub(
                rb"\{tv_sec=1\d{9}, tv_nsec=\d+\}", b"{...}", trace.read_bytes()))))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1] == runs[1][1]
    assert b"timer_settime(" in runs[0][1] and b"timerfd_settime(" in runs[0][1]


def _qemu_a53(libc, args, tmp_path):
    cwd = scratch_dir(tmp_path, "qemu")
    return run_qemu(QEMU_CPU + [userland_path(libc, "sys_cpu_el0")] + list(args), cwd=cwd,
                    env=clean_env(), timeout=TIMEOUT)


@pytest.mark.parametrize("flags", [(), ("--deterministic",)], ids=["host-clock", "deterministic"])
def test_cpu_el0_matches_qemu(libc, flags, tmp_path):
    """What any arm64 Linux lets EL0 do: a53emu passes and prints what
    qemu-aarch64 -cpu cortex-a53 prints (a JIT's rewritten code runs after
    __clear_cache, DC ZVA zeroes one block, CNTVCT agrees with
    CLOCK_MONOTONIC — under --deterministic too, where the counter traps)."""
    a = _emu(libc, "sys_cpu_el0", tmp_path, flags=flags)
    assert_passed(a, "sys_cpu_el0", "a53emu")
    q = _qemu_a53(libc, [], tmp_path)
    _compare_with_qemu(a.stdout.decode(), q.stdout.decode(), QEMU_DIFFERS)
    assert a.stderr == q.stderr == b""


def _compare_with_qemu(out, qout, differs):
    """Line by line; where qemu is known not to be Linux (differs), a53emu's
    line must be Linux's and qemu's is only expected to fail that check."""
    alines, qlines = out.split("\n"), qout.split("\n")
    assert len(qlines) == len(alines)
    for aline, qline in zip(alines, qlines):
        key = next((k for k in differs if k in aline), None)
        if key is not None:
            assert aline == differs[key][0]
        elif "checks FAILED" in qline:
            assert aline == "all checks passed"
        else:
            assert aline == qline


def test_cpu_el0_a53_values(libc, tmp_path):
    """The A53's registers as Linux 4.14 shows them, and SIGILL for what
    the A53 lacks or Linux keeps from EL0 — checked against the datasheet
    values and against qemu's cortex-a53 (except QEMU_A53_DIFFERS)."""
    a = _emu(libc, "sys_cpu_el0", tmp_path, args=["a53"])
    assert_passed(a, "sys_cpu_el0 a53", "a53emu")
    out = a.stdout.decode()
    assert A53_VALUES in out
    q = _qemu_a53(libc, ["a53"], tmp_path)
    _compare_with_qemu(out, q.stdout.decode(), QEMU_A53_DIFFERS)


def test_hrtimer_base_order_cancel_rearm():
    """kernel/time/hrtimer.py: timers run in expiry order, a cancelled one
    never runs, a re-armed one runs at its new time, a function's return
    value re-arms it."""
    from kernel.time.hrtimer import HrTimer, HrTimerBase
    base = HrTimerBase()
    fired = []
    a = HrTimer(lambda now: fired.append(("a", now)))
    b = HrTimer(lambda now: fired.append(("b", now)))
    c = HrTimer(lambda now: fired.append(("c", now)))
    base.start(a, 30)
    base.start(b, 10)
    base.start(c, 20)
    base.cancel(c)
    base.start(a, 40)                       # re-armed: the old expiry is void
    assert base.next_expiry() == 10
    base.run(35)
    assert fired == [("b", 35)]
    assert base.next_expiry() == 40 and not c.armed
    count = []
    periodic = HrTimer(lambda now: (count.append(now), None if len(count) == 3 else now + 5)[1])
    base.start(periodic, 50)
    for t in range(40, 80):
        base.run(t)
    assert fired[-1] == ("a", 40)
    assert count == [50, 55, 60]
    assert not base


def test_emulate_mrs_answers_as_4_14():
    """emulate_sys_reg(): MIDR as the core's, MPIDR without affinity, other
    CRm=0 registers and non-ID space are None (SIGILL), untracked CRm 4-7 RAZ."""
    from kernel.entry import emulate_sys_reg

    class Core:
        midr_el1 = 0x410FD034
    core = Core()
    assert emulate_sys_reg(core, 3, 0, 0, 0, 0) == 0x410FD034
    assert emulate_sys_reg(core, 3, 0, 0, 0, 5) == 1 << 31
    assert emulate_sys_reg(core, 3, 0, 0, 0, 6) == 0
    assert emulate_sys_reg(core, 3, 0, 0, 0, 1) is None
    assert emulate_sys_reg(core, 3, 0, 0, 1, 0) is None      # AArch32 ID_PFR0_EL1
    assert emulate_sys_reg(core, 3, 0, 0, 6, 0) == 0x11120
    assert emulate_sys_reg(core, 3, 0, 0, 6, 3) == 0
    assert emulate_sys_reg(core, 3, 0, 1, 0, 0) is None      # SCTLR_EL1
    assert emulate_sys_reg(core, 3, 3, 0, 0, 1) is None      # CTR_EL0 is not emulated


def test_sys_cpu_el0_is_aarch64_only_in_makefile():
    """The host build list holds sys_time, not the AArch64-only program."""
    out = subprocess.run(["make", "-s", "-C", "userland", "--eval",
                          "print-host-bins: ; @echo $(HOST_BINS)", "print-host-bins"],
                         capture_output=True, text=True).stdout.split()
    assert "build/host/sys_time" in out and "build/host/sys_cpu_el0" not in out


def test_a64_encoders_match_capstone():
    """emu/a64.py: every encoder disassembles to the instruction it names."""
    from capstone import CS_ARCH_ARM64, CS_MODE_ARM, Cs
    from emu import a64
    cs = Cs(CS_ARCH_ARM64, CS_MODE_ARM)
    cases = [
        (a64.movz(8, 113), "mov x8, #0x71"), (a64.movz(0, 0, sf=0), "mov w0, #0"),
        (a64.svc(), "svc #0"), (a64.ret(), "ret"), (a64.isb(), "isb"),
        (a64.mrs(9, 3, 3, 14, 0, 2), "mrs x9, cntvct_el0"),
        (a64.ldr_literal(10, -8), "ldr x10, #0xff8"), (a64.ldr_literal(9, 16, sf=0), "ldr w9, #0x1010"),
        (a64.cbz(1, 8), "cbz x1, #0x1008"), (a64.cbnz(9, -4, sf=0), "cbnz w9, #0xffc"),
        (a64.cmp_imm(0, 6), "cmp w0, #6"), (a64.b_cond(a64.COND_EQ, 12), "b.eq #0x100c"),
        (a64.b(-16), "b #0xff0"), (a64.lsl(9, 9, 4), "lsl x9, x9, #4"),
        (a64.add(9, 9, 10), "add x9, x9, x10"), (a64.udiv(11, 9, 10), "udiv x11, x9, x10"),
        (a64.msub(12, 11, 10, 9), "msub x12, x11, x10, x9"),
        (a64.stp(11, 12, 1), "stp x11, x12, [x1]"), (a64.str_x(31, 1), "str xzr, [x1]"),
    ]
    for word, text in cases:
        insn = next(cs.disasm(word.to_bytes(4, "little"), 0x1000))
        assert ("%s %s" % (insn.mnemonic, insn.op_str)).strip() == text


def test_vdso_image_is_a_shared_object_with_the_linux_symbols():
    """kernel/vdso.py: ET_DYN for AArch64 whose dynamic symbols, found
    through DT_HASH and versioned LINUX_2.6.39 as libc looks them up, are
    arm64 Linux's; the sigreturn trampoline is where sigtramp() says."""
    import struct as st
    from kernel import vdso
    img, syms = vdso.vdso_image(False, 0)
    assert img[:4] == b"\x7fELF" and st.unpack_from("<HH", img, 16) == (vdso.ET_DYN,
                                                                          vdso.EM_AARCH64)
    phoff, = st.unpack_from("<Q", img, 32)
    phnum, = st.unpack_from("<H", img, 56)
    phdrs = [vdso._PHDR.unpack_from(img, phoff + i * vdso._PHDR.size) for i in range(phnum)]
    dyn_off = next(p[2] for p in phdrs if p[0] == vdso.PT_DYNAMIC)
    dyn = {}
    off = dyn_off
    while True:
        tag, val = vdso._DYN.unpack_from(img, off)
        if tag == vdso.DT_NULL:
            break
        dyn[tag] = val
        off += vdso._DYN.size
    nbucket, nchain = st.unpack_from("<II", img, dyn[vdso.DT_HASH])
    strtab = img[dyn[vdso.DT_STRTAB]:dyn[vdso.DT_STRTAB] + dyn[vdso.DT_STRSZ]]
    found = {}
    for i in range(1, nchain):
        name_off, info, _, shndx, value, _ = vdso._SYM.unpack_from(
            img, dyn[vdso.DT_SYMTAB] + i * vdso._SYM.size)
        name = strtab[name_off:strtab.index(b"\0", name_off)].decode()
        ver = st.unpack_from("<H", img, dyn[vdso.DT_VERSYM] + 2 * i)[0]
        assert info == 0x12 and shndx != 0 and ver == vdso.VER_NDX_LINUX
        found[name] = value
    assert found == syms
    assert set(found) == {"__kernel_rt_sigreturn", "__kernel_clock_gettime",
                          "__kernel_gettimeofday", "__kernel_clock_getres"}
    assert vdso.SIGTRAMP_OFFSET == found["__kernel_rt_sigreturn"]
    assert vdso.elf_hash(b"LINUX_2.6.39") == 0x75FCB89


@pytest.mark.parametrize("flags,calls", [((), False), (("--deterministic",), True)],
                         ids=["vdso", "deterministic-syscalls"])
def test_libc_reads_the_clock_through_the_vdso(libc, flags, calls, tmp_path):
    """With the host clock, libc's clock_gettime never enters the kernel
    (the vDSO reads CNTVCT_EL0); under --deterministic the vDSO falls back
    to the system call.  sys_time's own raw calls are the only ones left."""
    trace = tmp_path / "trace"
    a = _emu(libc, "sysinfo", tmp_path, flags=tuple(flags) + ("--trace", "syscall",
                                                             "--trace-file", str(trace)))
    assert a.returncode == 0
    assert (b"clock_gettime(" in trace.read_bytes()) == calls


def test_coreutils_timeout_kills_a_sleep(debian_arm64_root, tmp_path):
    """Debian's `timeout` (timer_create + SIGALRM, then SIGTERM to its child)
    ends a 30 s sleep after 0.3 s with status 124, as on Linux."""
    import time
    root = Path(debian_arm64_root)
    t0 = time.monotonic()
    a = run_a53emu(["-L", root, root / "usr/bin/timeout", "0.3", root / "bin/sleep", "30"],
                   cwd=tmp_path, env=clean_env(), timeout=TIMEOUT)
    assert a.returncode == 124, a.stderr.decode(errors="replace")
    assert time.monotonic() - t0 < 20
    assert a.stdout == a.stderr == b""
