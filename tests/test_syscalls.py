"""System-call edge cases: userland/src/syscalls.c and efault.c under a53emu
and under qemu-aarch64.

Both programs print one line per call (an errno name, a value or yes/no,
never an address).  We check three things:

1. a53emu's output is exactly what Linux prints (EXPECTED_* below; the
   values are Linux's, independent of the libc, with a53emu's defaults:
   2 cores, an 8 MiB stack limit);
2. a53emu and qemu agree byte for byte, except on the lines where qemu-user
   is known not to behave like Linux (QEMU_IS_NOT_LINUX: masked in both
   outputs, with the reason);
3. each masked line separately, against the Linux value.

Nothing is masked for a53emu's sake: a line where a53emu is wrong fails.
"""

import os
import resource

import pytest

from conftest import run_a53emu, run_qemu, userland_path

EXPECTED_SYSCALLS = """\
-- brk --
brk(0) twice gives the same break: yes
brk(address of main) leaves the break unchanged: yes
brk(break + 4096) returns the new break: yes
brk(old break) shrinks it back: yes
-- mmap errors --
mmap(len 0): EINVAL
mmap(file, offset 100): EINVAL
mmap(fd 1000, not open): EBADF
mmap(neither MAP_SHARED nor MAP_PRIVATE): EINVAL
mmap(PROT_WRITE, MAP_SHARED, O_RDONLY fd): EACCES
mmap(MAP_FIXED_NOREPLACE over an existing mapping): EEXIST
-- munmap, mprotect, madvise --
munmap(p + 1, 4096): EINVAL
mprotect(unmapped range): ENOMEM
madvise(MADV_DONTNEED): succeeded
the page reads back as zero: yes
-- getrusage --
ru_minflt after touching 100 new pages: increased by >= 100
-- limits and identity --
prlimit64(RLIMIT_STACK): soft limit 8192 KiB
prlimit64(RLIMIT_STACK): hard >= soft: yes
sched_getaffinity: 2 cpus
uname: machine aarch64
-- descriptors --
ioctl(1, TCGETS): ENOTTY
fcntl(F_GETFL) of an O_RDWR|O_CREAT|O_TRUNC open: 0x20002 (O_ACCMODE is O_RDWR)
dup3(fd, fd, 0): EINVAL
getcwd(buf, 1): ERANGE
syscall(999): ENOSYS
done
"""

EXPECTED_EFAULT = """\
efault: passing bad pointers to the kernel
write(1, (void *)16, 5): EFAULT
write(1, <kernel address>, 5): EFAULT
read(fd, (void *)16, 5): EFAULT
file offset after the failed read: 0
fstat(fd, (void *)16): EFAULT
newfstatat(AT_FDCWD, ".", (void *)16, 0): EFAULT
openat(AT_FDCWD, (char *)16, O_RDONLY): EFAULT
openat(AT_FDCWD, NULL, O_RDONLY): EFAULT
getcwd((char *)16, 4096): EFAULT
uname((void *)16): EFAULT
clock_gettime(CLOCK_MONOTONIC, (void *)16): EFAULT
still alive: every bad pointer became EFAULT, none a SIGSEGV
"""

EXPECTED = {"syscalls": EXPECTED_SYSCALLS, "efault": EXPECTED_EFAULT}


def _host_stack_limit_is_8m():
    return resource.getrlimit(resource.RLIMIT_STACK)[0] == 8 << 20


# program -> {line prefix: reason}.  Prefixes are matched against whole lines.
QEMU_IS_NOT_LINUX = {
    "syscalls": {
        "mmap(MAP_FIXED_NOREPLACE over an existing mapping): ":
            "qemu-aarch64 7.2 does not know MAP_FIXED_NOREPLACE (Linux 4.17) and "
            "treats the address as a plain hint: it maps elsewhere and succeeds.  "
            "Linux refuses to replace an existing mapping: EEXIST.",
        "fcntl(F_GETFL) of an O_RDWR|O_CREAT|O_TRUNC open: ":
            "Linux forces O_LARGEFILE (0x20000 on arm64) on every open of a 64-bit "
            "process and F_GETFL reports it; qemu translates the host's flags back with "
            "its own table, and on a 64-bit x86 host glibc defines O_LARGEFILE as 0, so "
            "the bit is lost (qemu prints 0x2).",
        "sched_getaffinity: ":
            "qemu reports the host's CPUs; a53emu's board has --cores (default 2).",
    },
    "efault": {},
}
if not _host_stack_limit_is_8m():
    QEMU_IS_NOT_LINUX["syscalls"]["prlimit64(RLIMIT_STACK): soft limit "] = (
        "qemu reports the host's `ulimit -s`; a53emu's first process starts with "
        "the kernel's default _STK_LIM, 8 MiB.")

_cache = {}


def outputs(libc, program, tmp_path_factory, runner="a53emu", opts=()):
    """(stdout, stderr, returncode) of program, run once per session and key."""
    key = (libc, program, runner, tuple(opts))
    if key not in _cache:
        cwd = tmp_path_factory.mktemp("%s-%s-%s" % (program, libc, runner))
        env = {k: v for k, v in os.environ.items() if not k.startswith("QEMU_")}
        args = list(opts) + [userland_path(libc, program)]
        run = run_a53emu if runner == "a53emu" else run_qemu
        p = run(args, cwd=cwd, env=env, timeout=60)
        _cache[key] = (p.stdout.decode(), p.stderr.decode(), p.returncode)
        assert list(cwd.iterdir()) == [], "%s left files behind" % program
    return _cache[key]


def _mask(text, prefixes):
    out = []
    for line in text.splitlines():
        for prefix in prefixes:
            if line.startswith(prefix):
                line = "<masked> " + prefix
                break
        out.append(line)
    return out


def _line(text, prefix):
    lines = [ln for ln in text.splitlines() if ln.startswith(prefix)]
    assert len(lines) == 1, (prefix, text)
    return lines[0]


PROGRAMS = ("syscalls", "efault")


@pytest.mark.parametrize("program", PROGRAMS)
def test_a53emu_prints_what_linux_prints(libc, program, tmp_path_factory):
    out, err, rc = outputs(libc, program, tmp_path_factory)
    assert "Traceback" not in out + err
    assert rc == 0 and err == ""
    assert out == EXPECTED[program]


@pytest.mark.parametrize("program", PROGRAMS)
def test_matches_qemu(libc, program, tmp_path_factory):
    a_out, a_err, a_rc = outputs(libc, program, tmp_path_factory)
    q_out, q_err, q_rc = outputs(libc, program, tmp_path_factory, runner="qemu")
    masked = list(QEMU_IS_NOT_LINUX[program])
    assert _mask(a_out, masked) == _mask(q_out, masked)
    assert a_err == q_err
    assert a_rc == q_rc


@pytest.mark.parametrize("program,prefix", [
    (prog, prefix) for prog in PROGRAMS
    for prefix in sorted(QEMU_IS_NOT_LINUX[prog])])
def test_linux_value(libc, program, prefix, tmp_path_factory):
    """The masked lines one by one: a53emu must print Linux's value."""
    out, _, _ = outputs(libc, program, tmp_path_factory)
    mine = _line(out, prefix)
    assert mine == _line(EXPECTED[program], prefix), QEMU_IS_NOT_LINUX[program].get(prefix)


def test_one_core(libc, tmp_path_factory):
    """--cores 1: sched_getaffinity sees the board's single CPU."""
    out, err, rc = outputs(libc, "syscalls", tmp_path_factory, opts=("--cores", "1"))
    assert rc == 0 and err == ""
    assert _line(out, "sched_getaffinity: ") == "sched_getaffinity: 1 cpus"
