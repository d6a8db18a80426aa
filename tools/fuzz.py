"""The fuzz suite (issue 10 part 7, issue 9 "Bad input"): random raw system
calls from a guest program, seeded ELF mutations, and the resource cases, each
run through `python -m emu run` and classified:

  clean           the run ended as Linux would let it end
  internal error  exit 134 with an "a53emu: internal error" (or "deadlock")
                  line — also one from a forked child of the guest
  traceback       a Python traceback on stderr
  hang            the emulator process passed its wall-clock timeout
  wrong status    a status or report Linux would not give (see classify_*)

    python tools/fuzz.py                      the long budget (`make fuzz`)
    python tools/fuzz.py --calls 400 --elf 50 a short one (tests/test_fuzz.py)

Each case runs in a fresh temporary directory (the guest's cwd, removed
afterwards), with --net none, stdin from /dev/null, host RLIMIT_FSIZE 64 MiB
and RLIMIT_AS capped at what a trivial run needs plus HOST_SLACK (a guest
request that makes the emulator allocate in proportion to a guest length
becomes a MemoryError, so an internal error, not a swapped host).  The peak
resident size of every case (ru_maxrss) is reported and checked against
--mem + HOST_SLACK.  Cases run in forked children of this process, which has
imported the emulator once (the same code path as `python -m emu run`, without
paying the start-up each time); each failure is printed with the one-line
command that reproduces it.
"""

import argparse
import os
import random
import resource
import shutil
import signal
import stat
import struct
import sys
import tempfile
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from emu.arch import PAGE_SIZE  # noqa: E402

MIB = 1 << 20
HOST_SLACK = 150 * MIB          # issue 10's bound: --mem + 150 MiB per case
FSIZE_LIMIT = 64 * MIB          # no case may write more than this to the host's disk
DEFAULT_MEM = "256M"
OUTCOMES = ("clean", "internal error", "traceback", "hang", "wrong status", "host harm")

# The cases whose fix is a later piece: recorded, with a short timeout.
RESOURCE_EXPECTED = {}


def musl(name):
    return os.path.join(ROOT, "userland", "build", "musl", name)


def parse_mem(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


# -- running one case -----------------------------------------------------------------------

class Result:
    def __init__(self, argv):
        self.argv = argv
        self.status = None
        self.stdout = self.stderr = ""
        self.hung = False
        self.maxrss = 0
        self.wall = 0.0
        self.outcome = "clean"
        self.why = ""
        self.expected = None        # a reason when the failure is a known one
        self.cases = 1              # how many fuzz cases the run stands for

    def repro(self):
        """The one-line command that reproduces this case."""
        args = " ".join(_quote(a) if not a.startswith("FUZZ_SIG=") else
                        '"FUZZ_SIG=$(%s %s --sig)"' % (sys.executable, os.path.join(ROOT, "tools",
                                                                                   "fuzz.py"))
                        for a in self.argv)
        return "cd $(mktemp -d) && PYTHONPATH=%s %s -m emu %s" % (ROOT, sys.executable, args)


def _quote(a):
    return a if a and all(c.isalnum() or c in "/._-=:," for c in a) else "'%s'" % a.replace("'", "'\\''")


class Runner:
    """Runs `a53emu ARGV` in a forked child with the host limits, in a fresh
    temporary directory, and waits for it with a wall-clock timeout."""

    def __init__(self, mem=DEFAULT_MEM):
        self.mem = mem
        self.as_limit = None
        self.peak = 0

    def calibrate(self):
        """Import the emulator once (every case is a fork of this process),
        and measure RLIMIT_AS for every case: the address space a trivial run reserves
        (board RAM, the CPU emulator's translation buffers, Python) plus
        HOST_SLACK."""
        preimport()
        self._calibrate()

    def _calibrate(self):
        """RLIMIT_AS for every case: the address space a trivial run reserves
        (board RAM, the CPU emulator's translation buffers, Python) plus
        HOST_SLACK."""
        # A program with threads: the second core (and its translation
        # buffer) is made only when a second task runs.
        r = self.run(["run", "--mem", self.mem, musl("threads")], timeout=60, vmpeak=True)
        if r.status != 0:
            raise SystemExit("fuzz: cannot run threads: %s %s" % (r.status, r.stderr))
        self.as_limit = r.vmpeak + HOST_SLACK

    def run(self, argv, timeout, setup=None, vmpeak=False):
        """One case.  Its directory holds cwd/ (the guest's cwd, which setup
        fills), tmp/ (the emulator's TMPDIR: its private /dev/shm, IPC and
        socket directories, which must be gone when it exits) and the
        output files, out of the guest's reach."""
        res = Result(argv)
        base = tempfile.mkdtemp(prefix="a53fuzz-")
        cwd, hosttmp = os.path.join(base, "cwd"), os.path.join(base, "tmp")
        os.mkdir(cwd)
        os.mkdir(hosttmp)
        out_path, err_path, peak_path = (os.path.join(base, n) for n in ("out", "err", "peak"))
        t0 = time.monotonic()
        try:
            if setup is not None:
                setup(cwd)
            pid = os.fork()
            if pid == 0:
                self._child(argv, base, out_path, err_path, peak_path if vmpeak else None)
            deadline = t0 + timeout
            while True:
                wpid, status, usage = os.wait4(pid, os.WNOHANG)
                if wpid == pid:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    wpid, status, usage = os.wait4(pid, 0)
                    res.hung = True
                    break
                time.sleep(0.01)
            res.wall = time.monotonic() - t0
            res.maxrss = usage.ru_maxrss * 1024
            self.peak = max(self.peak, res.maxrss)
            res.status = os.waitstatus_to_exitcode(status)
            res.stdout = _read(out_path)
            res.stderr = _read(err_path)
            # What the emulator left in its TMPDIR after a normal exit is
            # left on the host (a killed emulator cannot clean up).
            res.left = sorted(os.listdir(hosttmp)) if not res.hung else []
            if vmpeak:
                res.vmpeak = int(_read(peak_path) or 0)
        finally:
            _rmtree(base)
        return res

    def _child(self, argv, base, out_path, err_path, peak_path):
        """In the forked child: the limits, the cwd, fds 0-2, then the CLI."""
        code = 1
        try:
            tempfile.tempdir = os.path.join(base, "tmp")
            os.environ["TMPDIR"] = tempfile.tempdir
            os.chdir(os.path.join(base, "cwd"))
            os.setsid()                 # no terminal: Ctrl-C of the driver is not the guest's
            fd = os.open(os.devnull, os.O_RDONLY)
            os.dup2(fd, 0)
            os.dup2(os.open(out_path, os.O_WRONLY | os.O_CREAT, 0o600), 1)
            os.dup2(os.open(err_path, os.O_WRONLY | os.O_CREAT, 0o600), 2)
            sys.stdout = os.fdopen(1, "w")
            sys.stderr = os.fdopen(2, "w")
            resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if self.as_limit is not None:
                resource.setrlimit(resource.RLIMIT_AS, (self.as_limit, self.as_limit))
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            drop_root(base)
            from emu.cli import main
            code = main(argv)
            sys.stdout.flush()
            sys.stderr.flush()
            if peak_path is not None:
                with open(peak_path, "w") as f:
                    f.write(str(_vmpeak()))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:           # an escaped traceback: what the class looks for
            import traceback
            traceback.print_exc()
            code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:
                pass
            os._exit(code if isinstance(code, int) else 1)


# Who runs the emulator when the driver is root (CI): nobody.  The guest's
# credentials start from the host process's (kernel/cred.py host_cred), so
# the guest is no root either, and whatever the guest kernel's model might
# let through, the host kernel refuses to nobody (no device nodes, no
# chown, no files outside the case's directory).
UNPRIVILEGED = 65534


def preimport():
    """Import every module the emulator imports anywhere, also inside
    functions: a case's child may run as UNPRIVILEGED, which cannot read a
    Python installed under a private home directory."""
    import ast
    import importlib
    names = set()
    for pkg in ("emu", "kernel"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, pkg)):
            for fn in files:
                if not fn.endswith(".py"):
                    continue
                path = os.path.join(dirpath, fn)
                mod = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                names.add(mod[:-len(".__init__")] if mod.endswith(".__init__") else mod)
                with open(path) as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        names.update(a.name for a in node.names)
                    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                        names.add(node.module)
                        names.update("%s.%s" % (node.module, a.name) for a in node.names)
    for name in sorted(names):
        if name.endswith("__main__"):
            continue            # runs the CLI
        try:
            importlib.import_module(name)
        except Exception:
            pass                # a name imported from a module, not a module


def drop_root(tmp):
    """In a case's child: if root, become UNPRIVILEGED, owning the case's
    directory and its output files."""
    if os.geteuid() != 0:
        return
    for dirpath, dirs, files in os.walk(tmp):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in files]:
            os.chown(name, UNPRIVILEGED, UNPRIVILEGED)
    os.setgroups([])
    os.setresgid(UNPRIVILEGED, UNPRIVILEGED, UNPRIVILEGED)
    os.setresuid(UNPRIVILEGED, UNPRIVILEGED, UNPRIVILEGED)


def _vmpeak():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024
    return 0


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _rmtree(path):
    """Remove a case's directory even if the guest took our rights away."""
    def onerror(func, p, exc):
        for d in (os.path.dirname(p), p):
            try:
                os.chmod(d, stat.S_IRWXU)
            except OSError:
                pass
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)
        except OSError:
            pass
    shutil.rmtree(path, onerror=onerror)


# -- classification -------------------------------------------------------------------------

def classify_common(r):
    """The classes every kind of case shares; True if one applied."""
    if getattr(r, "left", None):
        r.outcome, r.why = "host harm", "left in the emulator's TMPDIR: %s" % ", ".join(r.left[:5])
    elif r.hung:
        r.outcome, r.why = "hang", "no exit after %.0f s" % r.wall
    elif "Traceback (most recent call last)" in r.stderr:
        r.outcome, r.why = "traceback", _last_line(r.stderr, "Error")
    elif "a53emu: internal error" in r.stderr or "a53emu: deadlock" in r.stderr or r.status == 134 \
            and "killed by SIGABRT" not in r.stderr:
        r.outcome, r.why = "internal error", _last_line(r.stderr, "a53emu:")
    else:
        return False
    return True


def _last_line(text, marker):
    lines = [ln for ln in text.splitlines() if marker in ln]
    return (lines[-1] if lines else (text.strip().splitlines() or [""])[-1])[:300]


# -- 1. random system calls -----------------------------------------------------------------

# The guest's FUZZ_SIG: one character per argument of every call, from the
# kernel's own table of argument formats (kernel/syscalls/strace.py's): it
# steers the typed batches' choices (a path where a path goes), nothing more.
SIG_KINDS = {"fd": "f", "dirfd": "f", "path": "s", "iov": "i", "u": "n"}
SIG_POINTERS = ("p", "ibuf", "obuf", "sockaddr", "msghdr", "rusage", "sigset", "epollevent",
                "fdpair", "argv", "envp", "rlimit", "itimer")
NR_SYSCALLS_414 = 292


def syscall_signature():
    """FUZZ_SIG for fuzz_syscalls: six characters per number 0..291."""
    from kernel.syscalls import table
    if not table._DEFS:
        table.SyscallTable.__init__(table.SyscallTable.__new__(table.SyscallTable),
                                    type("K", (), {"trace": None}))
    sig = ["------"] * NR_SYSCALLS_414
    for d in table._DEFS:
        if d.nr < NR_SYSCALLS_414:
            kinds = [a.split(":")[0] for a in d.args]
            sig[d.nr] = "".join(SIG_KINDS.get(k, "p" if k in SIG_POINTERS else "x")
                                for k in kinds).ljust(6, "-")
    return "".join(sig)


def syscall_case(seed, batches, calls, first=0, mem=DEFAULT_MEM, deadline_ms=200, root=False):
    """The argv of one run.  root: the guest runs as root in the guest
    kernel's model (--root), reaching the privileged paths (mknod, mount,
    sethostname...); the host process is still nobody when the driver is
    root, so nothing of that reaches the host."""
    return ["run", "--net", "none", "--mem", mem] + (["--root"] if root else []) + [
        "-E", "FUZZ_SIG=" + syscall_signature(),
        musl("fuzz_syscalls"), str(seed), str(batches), str(calls), str(first), str(deadline_ms)]


def classify_syscalls(r, calls):
    """The guest prints a line per batch and a summary; the run is clean if
    the summary is there, the status 0, and no process hit a kernel bug."""
    batches = [ln for ln in r.stdout.splitlines() if ln.startswith("batch ")]
    r.cases = max(1, calls * len(batches))
    if classify_common(r):
        # The batch whose child died with SIGABRT is the one to replay alone.
        aborted = [b for b in batches if "signal 6 " in b]
        r.why += "; " + "; ".join(aborted)[:400]
        if aborted:
            argv = list(r.argv)
            b = aborted[0].split()[1].rstrip(":")
            argv[-4:-1] = ["1", argv[-3], b]        # BATCHES=1, CALLS, FIRST_BATCH=b
            r.argv = argv
        return
    if r.status != 0 or "fuzz_syscalls: seed" not in r.stdout:
        r.outcome = "wrong status"
        r.why = "status %s, stderr %r" % (r.status, r.stderr.strip()[-200:])


def syscall_blocked(r):
    """The calls the guest's parent killed after its deadline: nr -> count."""
    blocked = Counter()
    for ln in r.stdout.splitlines():
        if ": blocked at call" in ln:
            blocked[int(ln.split(": nr ")[1].split()[0])] += 1
    return blocked


# -- 2. ELF mutation ------------------------------------------------------------------------

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
EHDR_FIELDS = ("e_type", "e_machine", "e_version", "e_entry", "e_phoff", "e_shoff", "e_flags",
               "e_ehsize", "e_phentsize", "e_phnum", "e_shentsize", "e_shnum", "e_shstrndx")
PHDR_FIELDS = ("p_type", "p_flags", "p_offset", "p_vaddr", "p_paddr", "p_filesz", "p_memsz",
               "p_align")
PT_LOAD, PT_INTERP, PT_NOTE = 1, 3, 4
ET_EXEC, ET_DYN, EM_AARCH64 = 2, 3, 183
PF_X = 1
TASK_SIZE_48 = 1 << 48
INTERESTING = (0, 1, 2, 3, 7, 0x38, 0x40, 0xff, 0x100, 0x493, 0xfff, 0x1000, 0x7fff, 0x8000,
               0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32, 1 << 46,
               0xffffffff0800, 1 << 47, 1 << 48, (1 << 63) - 1, 1 << 63, (1 << 64) - 1,
               (1 << 64) - PAGE_SIZE)


def elf_seeds():
    names = [os.path.join("musl", n) for n in ("hello", "hello-pie", "syscalls")]
    names += [os.path.join("glibc", n) for n in ("hello", "hello-pie")]
    paths = [os.path.join(ROOT, "userland", "build", n) for n in names]
    return [p for p in paths if os.path.exists(p)]


EHDR_BITS = (16, 16, 32, 64, 64, 64, 32, 16, 16, 16, 16, 16, 16)    # after e_ident


def _value(rng, old, bits):
    mask = (1 << bits) - 1
    pick = rng.randrange(4)
    if pick == 0:
        return rng.choice(INTERESTING) & mask
    if pick == 1:
        return (old + rng.choice((-PAGE_SIZE, -1, 1, PAGE_SIZE, 1 << 20, -(1 << 20)))) & mask
    if pick == 2:
        return (old ^ (1 << rng.randrange(bits))) & mask
    return rng.getrandbits(bits)


def mutate_elf(data, rng):
    """One seeded mutation of the ELF image: a header field, a program header
    field, a truncation, bytes of a non-executable segment, or a PT_INTERP.
    Returns (new bytes, a description)."""
    data = bytearray(data)
    if len(data) < EHDR.size:
        return bytes(data[:rng.randrange(len(data) + 1)]), "truncated again"
    ehdr = list(EHDR.unpack_from(data, 0))
    phoff = ehdr[5]
    # The program headers an earlier mutation left inside the file.
    phnum = next((i for i in range(min(ehdr[10], 256)) if phoff + (i + 1) * PHDR.size > len(data)),
                 min(ehdr[10], 256))
    kind = rng.choice(("ehdr", "phdr", "phdr", "phdr", "truncate", "bytes", "interp", "ident"))
    if kind == "ident":
        i = rng.choice((4, 5, 6, 7, 8))
        data[i] = rng.choice((0, 1, 2, 3, 0xff))
        return bytes(data), "e_ident[%d]=%d" % (i, data[i])
    if kind == "ehdr":
        k = rng.randrange(len(EHDR_FIELDS))
        bits = EHDR_BITS[k]
        ehdr[k + 1] = _value(rng, ehdr[k + 1], bits)
        EHDR.pack_into(data, 0, *ehdr)
        return bytes(data), "%s=%#x" % (EHDR_FIELDS[k], ehdr[k + 1])
    if kind in ("phdr", "interp") and phnum:
        i = rng.randrange(phnum)
        off = phoff + i * PHDR.size
        ph = list(PHDR.unpack_from(data, off))
        if kind == "interp":
            return _interp(data, rng, off, ph, i)
        k = rng.randrange(len(PHDR_FIELDS))
        ph[k] = _value(rng, ph[k], 32 if k < 2 else 64)
        PHDR.pack_into(data, off, *ph)
        return bytes(data), "phdr[%d].%s=%#x" % (i, PHDR_FIELDS[k], ph[k])
    if kind == "bytes":
        loads = [PHDR.unpack_from(data, phoff + i * PHDR.size) for i in range(phnum)]
        spans = [(p[2], p[2] + p[5]) for p in loads if p[0] == PT_LOAD and not p[1] & PF_X
                 and p[5] > 0]
        # The tail: what no PT_LOAD maps (section headers, symbols).  Code
        # is never changed: a mutated instruction may loop for ever, as it
        # would under Linux (a hang that is the guest's, not the board's).
        ends = [p[2] + p[5] for p in loads if p[0] == PT_LOAD] or [phoff + phnum * PHDR.size]
        spans.append((min(max(ends), len(data) - 1), len(data)))
        spans = [(lo, min(hi, len(data))) for lo, hi in spans if 0 <= lo < min(hi, len(data))]
        lo, hi = rng.choice(spans or [(0, len(data))])
        n = rng.randint(1, 16)
        for _ in range(n):
            j = rng.randrange(lo, hi)
            data[j] = rng.getrandbits(8)
        return bytes(data), "%d bytes in [%#x, %#x)" % (n, lo, hi)
    cut = rng.choice((rng.randrange(0, 64), rng.randrange(64, phoff + phnum * PHDR.size + 1),
                      rng.randrange(len(data) // 2, len(data)), rng.randrange(len(data))))
    return bytes(data[:cut]), "truncated to %d bytes" % cut


def _interp(data, rng, off, ph, i):
    """Turn program header i into a PT_INTERP naming a bad interpreter: empty,
    unterminated, missing, or absurdly long."""
    name = rng.choice((b"", b"no-such-interp\0", b"unterminated", b"x" * 5000 + b"\0",
                       b"\0", b"fuzz-interp\0"))
    where = len(data)
    data += name
    ph[0], ph[2], ph[5] = PT_INTERP, where, rng.choice((len(name), len(name) + 1, 0, 1 << 40))
    PHDR.pack_into(data, off, *ph)
    return bytes(data), "phdr[%d]=PT_INTERP %r size %#x" % (i, name[:20], ph[5])


def linux_refuses(data):
    """A few checks 4.14's load_elf_binary surely makes (ENOEXEC/EINVAL,
    status 126): True when one fails.  Not the loader's whole validation
    (issue 10 part 1 writes that); only what the classifier can be sure of."""
    # (EI_CLASS and EI_DATA are not checked: 4.14's binfmt_elf trusts
    # elf_check_arch(), e_machine alone; tests/test_binfmt_elf.py shows the
    # host kernel agreeing.)
    if len(data) < EHDR.size or data[:4] != b"\x7fELF":
        return True
    ehdr = EHDR.unpack_from(data, 0)
    e_type, e_machine, phoff, phentsize, phnum = ehdr[1], ehdr[2], ehdr[5], ehdr[9], ehdr[10]
    if e_type not in (ET_EXEC, ET_DYN) or e_machine != EM_AARCH64 or phentsize != PHDR.size:
        return True
    if phnum < 1 or phnum > 65536 // PHDR.size or phoff + phnum * PHDR.size > len(data):
        return True
    # (p_filesz > p_memsz and the other elf_map/set_brk failures come after
    # exec's point of no return: Linux kills the process with SIGSEGV.)
    return False


def classify_elf(r, data):
    """A mutated ELF may run (any status: its code may be mutated too), die
    of a signal, or be refused (126/127 with one a53emu line); a run of a
    program Linux surely refuses is a wrong status."""
    if classify_common(r):
        if r.outcome == "internal error" and "a53emu: deadlock:" in r.stderr:
            # A mutated program may wait for itself forever (a lock word in
            # its data changed): Linux would hang; the board says so.
            r.expected = "the mutated guest deadlocked (not the board's failure)"
        return
    ours = [ln for ln in r.stderr.splitlines() if ln.startswith("a53emu: ")]
    # Refused by the loader: 126/127 and the CLI's line.  A 127 without it is
    # the guest's own exit (glibc's static-PIE start-up reports its failures
    # so); any status of a guest that ran is the guest's business.
    refused = r.status in (126, 127) and bool(ours)
    if refused and len(ours) != 1:
        r.outcome, r.why = "wrong status", "refused (%d) with %d a53emu lines: %r" % (
            r.status, len(ours), r.stderr[-200:])
    elif linux_refuses(r.elf) and not refused:
        r.outcome, r.why = "wrong status", "ran (status %d) where Linux 4.14 refuses to exec" % (
            r.status)


def elf_case(runner, seed, index, mem=DEFAULT_MEM, timeout=20, keep_dir=None):
    """Mutant `index` of run `seed`: deterministic from the two numbers."""
    seeds = elf_seeds()
    rng = random.Random("%d:%d" % (seed, index))
    src = rng.choice(seeds)
    with open(src, "rb") as f:
        data = f.read()
    whats = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        data, what = mutate_elf(data, rng)
        whats.append(what)
        if len(data) < EHDR.size:
            break
    name = "mutant-%d-%d" % (seed, index)

    def setup(tmp):
        # In the case's own directory: it belongs to whoever runs the case.
        for d in (tmp, keep_dir) if keep_dir else (tmp,):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(d, name), 0o755)
    r = runner.run(["run", "--net", "none", "--mem", mem, name], timeout=timeout, setup=setup)
    r.elf = data
    classify_elf(r, data)
    r.why = "%s: %s; %s" % (os.path.relpath(src, ROOT), ", ".join(whats), r.why)
    r.argv = ["fuzz-elf"]
    r.repro_text = "%s %s --elf-only %d %d   # %s" % (sys.executable, os.path.join(ROOT, "tools",
                                                                                    "fuzz.py"),
                                                    seed, index, r.why[:200])
    return r


# -- 3. resource cases ----------------------------------------------------------------------

RESOURCE_CASES = ("mincore_huge", "open_many", "badfd_mode", "ranges_huge", "oom", "fork_limit",
                  "threads", "stack_overflow", "huge_lengths", "huge_buffers", "partial_writes",
                  "pipe_fill", "map_count", "reparent_signal", "sparse_read", "mprotect_huge",
                  "mremap_huge", "wild_jumps")


def resource_case(runner, name, mem=DEFAULT_MEM, timeout=60):
    if name == "fifo_program":
        r = runner.run(["run", "--net", "none", "--mem", mem, "fifo"], timeout=min(timeout, 10),
                       setup=lambda d: os.mkfifo(os.path.join(d, "fifo")))
        if not classify_common(r) and r.status != 126:
            r.outcome, r.why = "wrong status", "status %s (Linux: EACCES, 126)" % r.status
    else:
        r = runner.run(["run", "--net", "none", "--mem", mem, musl("fuzz_resources"), name],
                       timeout=timeout)
        if not classify_common(r) and (r.status != 0 or "FAILED" in r.stdout):
            r.outcome = "wrong status"
            r.why = "status %s: %s" % (r.status, " | ".join(
                ln for ln in (r.stdout + r.stderr).splitlines() if "FAILED" in ln or "a53emu" in ln))
    if r.outcome != "clean" and name in RESOURCE_EXPECTED:
        r.expected = RESOURCE_EXPECTED[name]
    r.why = "%s: %s" % (name, r.why)
    if name == "fifo_program":
        r.repro_text = "cd $(mktemp -d) && mkfifo fifo && PYTHONPATH=%s %s -m emu run fifo" % (
            ROOT, sys.executable)
    return r


# -- the whole run --------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.counts = Counter()
        self.failures = []
        self.blocked = Counter()
        self.runs = 0

    def add(self, r):
        self.runs += 1
        bad = r.outcome != "clean"
        self.counts["clean"] += r.cases - (1 if bad else 0)
        if bad:
            self.counts[r.outcome] += 1
            self.failures.append(r)

    def unexpected(self, outcome):
        return [r for r in self.failures if r.outcome == outcome and r.expected is None]

    def summary(self, peak, limit):
        total = sum(self.counts.values())
        parts = ", ".join("%s %d" % (o, self.counts[o]) for o in OUTCOMES)
        expected = sum(1 for r in self.failures if r.expected)
        return ("fuzz: %d cases in %d runs: %s (%d of the failures expected for now); "
                "blocked calls %d; peak host RSS %d MiB (limit %d MiB)" % (
                    total, self.runs, parts, expected, sum(self.blocked.values()), peak // MIB,
                    limit // MIB))

    def print_failures(self, out):
        from kernel.syscalls.unistd import SYSCALL_NAMES
        for r in self.failures:
            tag = " [%s]" % r.expected if r.expected else ""
            out.write("  %s%s: %s\n    %s\n" % (r.outcome, tag, r.why,
                                                 getattr(r, "repro_text", None) or r.repro()))
        if self.blocked:
            out.write("  blocked (killed by the guest after its deadline; not failures): %s\n" % (
                ", ".join("%s %d" % (SYSCALL_NAMES.get(nr, nr), n)
                          for nr, n in self.blocked.most_common())))


def run_fuzz(seed=1, calls=20000, calls_per_batch=100, batches_per_run=20, elf=400,
             resources=True, mem=DEFAULT_MEM, out=sys.stdout, progress=False):
    runner = Runner(mem)
    runner.calibrate()
    report = Report()
    nbatches = max(1, calls // calls_per_batch)
    for first in range(0, nbatches, batches_per_run):
        n = min(batches_per_run, nbatches - first)
        # Every other run as the guest's root (--root).
        argv = syscall_case(seed, n, calls_per_batch, first, mem,
                            root=(first // batches_per_run) % 2 == 1)
        r = runner.run(argv, timeout=60 + n * 2)
        classify_syscalls(r, calls_per_batch)
        report.add(r)
        report.blocked.update(syscall_blocked(r))
        if progress:
            out.write("\r%s" % report.summary(runner.peak, parse_mem(mem) + HOST_SLACK))
            out.flush()
    for i in range(elf):
        report.add(elf_case(runner, seed, i, mem))
        if progress and i % 10 == 0:
            out.write("\r%s" % report.summary(runner.peak, parse_mem(mem) + HOST_SLACK))
            out.flush()
    if resources:
        for name in RESOURCE_CASES + ("fifo_program",):
            timeout = 10 if name in RESOURCE_EXPECTED else 120
            report.add(resource_case(runner, name, mem, timeout=timeout))
    if progress:
        out.write("\n")
    report.peak = runner.peak
    report.limit = parse_mem(mem) + HOST_SLACK
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--calls", type=int, default=20000, help="random system calls in all")
    ap.add_argument("--batch", type=int, default=100, help="calls per forked guest child")
    ap.add_argument("--elf", type=int, default=400, help="ELF mutants")
    ap.add_argument("--no-resources", action="store_true")
    ap.add_argument("--mem", default=DEFAULT_MEM)
    ap.add_argument("--elf-only", nargs=2, type=int, metavar=("SEED", "INDEX"),
                    help="run one ELF mutant and keep it in the cwd")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--sig", action="store_true", help="print fuzz_syscalls' FUZZ_SIG and exit")
    opts = ap.parse_args(argv)
    if opts.sig:
        print(syscall_signature())
        return 0
    if opts.elf_only:
        runner = Runner(opts.mem)
        runner.calibrate()
        r = elf_case(runner, opts.elf_only[0], opts.elf_only[1], opts.mem, keep_dir=os.getcwd())
        print("%s: %s\nstatus %s\n%s%s" % (r.outcome, r.why, r.status, r.stdout, r.stderr))
        return 0 if r.outcome == "clean" else 1
    report = run_fuzz(opts.seed, opts.calls, opts.batch, elf=opts.elf,
                      resources=not opts.no_resources, mem=opts.mem, progress=opts.progress)
    report.print_failures(sys.stdout)
    print(report.summary(report.peak, report.limit))
    bad = sum(len(report.unexpected(o)) for o in OUTCOMES[1:])
    return 1 if bad or report.peak > report.limit else 0


if __name__ == "__main__":
    sys.exit(main())
