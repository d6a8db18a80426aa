"""Issue 9 parts 7 and 1: /proc and /sys as programs read them, and the
status of every system call of arm64 Linux 4.14.

* userland/src/sys_proc.c reads /proc and /sys and checks them against the
  system calls (status against what it touched, pagemap against its pages,
  fd/ against its files, limits against getrlimit(), meminfo and uptime
  against sysinfo() ...).  It prints only facts true on any Linux, so the
  host build on the real kernel and the AArch64 builds on a53emu must print
  the same text (as tests/test_processes.py compares).  qemu-user is left
  out: it answers /proc/self/{maps,exe,auxv,cmdline} itself and passes the
  rest (pagemap, mem, status) to the host kernel, which describes qemu.
* Facts only the board has: the PFN pagemap reports for a page is the
  frame the fault trace shows the walk mapping it to; the board's
  cpuinfo, meminfo, /sys cpu list and config.gz; the hostname set with
  sethostname() shows in uname() and /proc/sys/kernel/hostname.
* userland/src/sys_table.c asks the deliberate answers of kernel/sys_ni.py
  and the small calls by number: 4.14's answers for the board's
  configuration, held below.
* docs/syscalls.md is what tools/syscall_table.py generates from the
  dispatch table, and every 4.14 number has a status.
"""

import errno
import gzip
import os
import re
import sys
import types

from conftest import BUILD, ROOT, run_a53emu, userland_path
from test_processes import assert_passed, clean_env, run_host

sys.path.insert(0, str(ROOT / "tools"))

import syscall_table  # noqa: E402

TIMEOUT = 300


# -- the table ---------------------------------------------------------------------------

def test_docs_syscalls_md_is_generated_from_the_table():
    """docs/syscalls.md is exactly what the dispatch table gives now."""
    assert (ROOT / "docs" / "syscalls.md").read_text() == syscall_table.render(), \
        "docs/syscalls.md is stale: run python tools/syscall_table.py --write"


def test_every_4_14_entry_has_a_status():
    table, later = syscall_table.rows()
    assert len(table) == 292 - 16           # 0..291 less the 16 arch-specific slots
    missing = [(nr, name) for nr, name, status, _ in table + later if status == "MISSING"]
    assert not missing
    for nr, name, status, reason in table:
        assert reason.strip(), (nr, name)
        assert status in ("implemented", "host", "EPERM", "ENOSYS") or \
            re.match(r"not yet implemented \(issue 9 part [2-6]\)$", status), status


def test_no_number_is_registered_twice():
    _by_nr, dups = syscall_table.dispatch_table()
    assert dups == []


def test_deliberate_answers_name_their_reason():
    """ENOSYS answers of 4.14 name the CONFIG_ option (or the release that
    removed the call); EPERM answers name the capability."""
    from kernel.sys_ni import NI, PENDING
    for name, (err, reason, config) in NI.items():
        assert name not in PENDING, name
        if err == -errno.ENOSYS:
            assert (config and reason.startswith(config + " is not set")) or "removed" in reason
        else:
            assert err == -errno.EPERM and re.match(r"needs CAP_[A-Z_]+: ", reason), reason


def test_pending_calls_get_no_answer_here():
    """Calls other parts of issue 9 implement are not given a sys_ni answer;
    once one is registered, the table calls it implemented."""
    from kernel.sys_ni import PENDING
    table, _ = syscall_table.rows()
    status = {name: st for _, name, st, _ in table}
    for name, part in PENDING.items():
        assert status[name] in ("not yet implemented (issue 9 part %d)" % part,
                                "implemented", "host"), (name, status[name])


def _config_kernel(va_bits=48, ncpus=2):
    return types.SimpleNamespace(board=types.SimpleNamespace(mmu=types.SimpleNamespace(
        va_bits=va_bits)), ncpus=ncpus)


def test_kernel_config_follows_the_table():
    """/proc/config.gz: every option a deliberate ENOSYS names is "not set",
    the ones of served calls are "=y", and the board's VA size and cores."""
    from kernel.sys_ni import NI, kernel_config
    syscall_table.dispatch_table()
    text = kernel_config(_config_kernel())
    for _name, (err, _reason, config) in NI.items():
        if config:
            assert "# %s is not set\n" % config in text
    assert "\nCONFIG_FUTEX=y\n" in text and "\nCONFIG_CROSS_MEMORY_ATTACH=y\n" in text
    assert "\nCONFIG_ARM64_VA_BITS=48\n" in text and "\nCONFIG_NR_CPUS=2\n" in text
    text39 = kernel_config(_config_kernel(39, 1))
    assert "\nCONFIG_PGTABLE_LEVELS=3\n" in text39 and "\nCONFIG_NR_CPUS=1\n" in text39
    assert "# CONFIG_SECCOMP is not set\n" in text


# -- sys_proc.c: the host kernel and the board agree ------------------------------------

def test_sys_proc_host_kernel(tmp_path):
    h = run_host("sys_proc", tmp_path)
    assert_passed(h, "sys_proc", "host")
    assert list(tmp_path.iterdir()) == []


def test_sys_proc_a53emu_matches_host_kernel(libc, tmp_path):
    hdir, adir = tmp_path / "host", tmp_path / "a53emu"
    hdir.mkdir()
    adir.mkdir()
    h = run_host("sys_proc", hdir)
    assert_passed(h, "sys_proc", "host")
    a = run_a53emu([userland_path(libc, "sys_proc")], cwd=adir, env=clean_env(), timeout=TIMEOUT)
    assert b"Traceback" not in a.stdout + a.stderr, a.stderr.decode(errors="replace")
    assert a.stdout.decode() == h.stdout.decode()
    assert a.returncode == 0 and a.stderr == b""
    assert list(adir.iterdir()) == []


# -- facts only the board has ----------------------------------------------------------------

def test_pagemap_pfn_is_the_frame_of_the_walk(libc, tmp_path):
    """The PFN /proc/self/pagemap gives for a written page is the physical
    frame the page tables map it to: the pa of the fault that mapped it
    (PFN = pa >> 12 of the board's RAM)."""
    a = run_a53emu(["--trace", "fault", userland_path(libc, "sys_proc"), "board"],
                   cwd=tmp_path, env=clean_env(), timeout=TIMEOUT)
    assert a.returncode == 0, a.stderr.decode(errors="replace")
    m = re.search(r"^touched (0x[0-9a-f]+) pfn (0x[0-9a-f]+) present 1$", a.stdout.decode(), re.M)
    assert m, a.stdout
    assert "config.gz" in a.stdout.decode() and "gzip magic yes" in a.stdout.decode()
    addr, pfn = int(m.group(1), 16), int(m.group(2), 16)
    if os.geteuid() != 0:
        # The guest has the host's ids: without CAP_SYS_ADMIN the PFN reads
        # 0 (test_pagemap_pfns_are_the_walks checks the walk in-process).
        assert pfn == 0
        return
    faults = re.findall(r"^\[fault\] user at (0x[0-9a-f]+) .*=> pa=(0x[0-9a-f]+) ",
                        a.stderr.decode(), re.M)
    pas = [int(pa, 16) for at, pa in faults if int(at, 16) >> 12 == addr >> 12]
    assert pas, "no fault mapped the touched page"
    assert pas[-1] >> 12 == pfn


EXPECTED_SYS_TABLE = """\
io_setup: ENOSYS
lookup_dcookie: ENOSYS
quotactl: ENOSYS
add_key: ENOSYS
swapon: ENOSYS
mbind: ENOSYS
perf_event_open: ENOSYS
fanotify_init: ENOSYS
kcmp: ENOSYS
seccomp: ENOSYS
bpf: ENOSYS
userfaultfd: ENOSYS
mount: EPERM
umount2: EPERM
pivot_root: EPERM
chroot: 0
vhangup: 0
acct: EPERM
reboot: EPERM
kexec_load: EPERM
init_module: EPERM
delete_module: EPERM
rseq: ENOSYS
clone3: ENOSYS
faccessat2: ENOSYS
number 1000: ENOSYS
restart_syscall: EINTR
ptrace(PTRACE_TRACEME): EPERM
ptrace(PTRACE_PEEKDATA, 1): ESRCH
membarrier(QUERY): 25
membarrier(PRIVATE_EXPEDITED) unregistered: EPERM
membarrier(REGISTER_PRIVATE_EXPEDITED): 0
membarrier(PRIVATE_EXPEDITED): 0
membarrier(SHARED, flags 1): EINVAL
ioprio_get(PROCESS, 0): 4
ioprio_set(PROCESS, 0, BE/7): 0
ioprio_get(PROCESS, 0) after: 16391
ioprio_set(PROCESS, 0, BE/8): EINVAL
ioprio_set(PROCESS, 0, class 5): EINVAL
ioprio_get(which 9): EINVAL
unshare(0): 0
unshare(CLONE_FILES|CLONE_FS): 0
unshare(CLONE_NEWNS): EINVAL
unshare(0x1): EINVAL
setns(1000, 0): EBADF
setns(1, 0): EINVAL
pkey_alloc(0, 0): ENOSPC
pkey_alloc(1, 0): EINVAL
pkey_free(1): EINVAL
pkey_mprotect(key 0): 0
pkey_mprotect(key 1): EINVAL
get_robust_list(0): 0
  len 24
get_robust_list(no such pid): ESRCH
syslog(SIZE_BUFFER): 131072
syslog(READ_ALL, NULL): EINVAL
syslog(99): EINVAL
sethostname(65 bytes): EINVAL
sethostname(board-host): 0
setdomainname(bad pointer): EFAULT
uname nodename: board-host, domainname: (none)
"""


def expected_sys_table(root):
    """EXPECTED_SYS_TABLE for a root task; an unprivileged one (the guest
    has the host's ids) is refused sethostname, setdomainname and syslog's
    restricted actions with EPERM, before any other check."""
    if root:
        return EXPECTED_SYS_TABLE
    out = EXPECTED_SYS_TABLE
    for line, unprivileged in (
            ("syslog(99): EINVAL", "syslog(99): EPERM"),
            ("chroot: 0", "chroot: EPERM"),     # CAP_SYS_CHROOT (kernel/fs/chroot.py)
            ("vhangup: 0", "vhangup: EPERM"),   # CAP_SYS_TTY_CONFIG (kernel/tty_hangup.py)
            ("sethostname(65 bytes): EINVAL", "sethostname(65 bytes): EPERM"),
            ("sethostname(board-host): 0", "sethostname(board-host): EPERM"),
            ("setdomainname(bad pointer): EFAULT", "setdomainname(bad pointer): EPERM"),
            ("uname nodename: board-host,", "uname nodename: %s," % os.uname().nodename)):
        assert line in out
        out = out.replace(line, unprivileged)
    return out


def test_sys_table_answers(libc, tmp_path):
    """The deliberate answers and the small calls, by number."""
    a = run_a53emu([userland_path(libc, "sys_table")], cwd=tmp_path, env=clean_env(),
                   timeout=TIMEOUT)
    assert a.returncode == 0, a.stderr.decode(errors="replace")
    assert a.stdout.decode() == expected_sys_table(os.geteuid() == 0)


def _busybox(root, script, *opts, cwd=None):
    return run_a53emu(list(opts) + ["-L", root, str(root) + "/bin/busybox", "sh", "-c", script],
                      cwd=cwd, env=clean_env(), timeout=TIMEOUT)


def test_board_files_describe_the_board(debian_arm64_root, tmp_path):
    """cpuinfo for the board's Cortex-A53 cores as arm64's c_show() prints
    them, MemTotal = --mem, the /sys cpu list = --cores, config.gz a gzip
    of the modelled .config, ls of /proc/self/task."""
    from kernel.utsname import UTS_RELEASE
    a = _busybox(debian_arm64_root,
                 "cat /proc/cpuinfo; grep MemTotal /proc/meminfo; "
                 "cat /sys/devices/system/cpu/online /proc/sys/kernel/osrelease; "
                 "zcat /proc/config.gz | grep -c 'is not set'; ls /proc/self/task | wc -l; "
                 "hostname proc-test; uname -n; cat /proc/sys/kernel/hostname",
                 "--mem", "64M", "--cores", "1", cwd=tmp_path)
    out = a.stdout.decode()
    assert a.returncode == 0, a.stderr.decode(errors="replace")
    cpuinfo = ("processor\t: 0\nBogoMIPS\t: 100.00\n"
               "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n"
               "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\n"
               "CPU part\t: 0xd03\nCPU revision\t: 4\n\n")
    assert out.startswith(cpuinfo)
    rest = out[len(cpuinfo):].split("\n")
    assert rest[0] == "MemTotal:          65536 kB"
    assert rest[1:3] == ["0", UTS_RELEASE]
    assert int(rest[3]) >= 10
    name = "proc-test" if os.geteuid() == 0 else os.uname().nodename   # EPERM for a user
    assert rest[4:7] == ["1", name, name]


def test_status_fields_are_4_14s(debian_arm64_root, tmp_path):
    """/proc/self/status has 4.14's fields in 4.14's order (fs/proc/array.c:
    VmPMD still there, no CoreDumping (4.15), no Seccomp (CONFIG_SECCOMP
    not set), Speculation_Store_Bypass from the 4.14.y backport)."""
    a = _busybox(debian_arm64_root, "cat /proc/self/status", cwd=tmp_path)
    keys = [line.split(":")[0] for line in a.stdout.decode().splitlines()]
    assert keys == [
        "Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid",
        "FDSize", "Groups", "NStgid", "NSpid", "NSpgid", "NSsid", "VmPeak", "VmSize", "VmLck",
        "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk",
        "VmExe", "VmLib", "VmPTE", "VmPMD", "VmSwap", "HugetlbPages", "Threads", "SigQ",
        "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff",
        "CapBnd", "CapAmb", "NoNewPrivs", "Speculation_Store_Bypass", "Cpus_allowed",
        "Cpus_allowed_list", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"]


def test_stat_has_52_fields(debian_arm64_root, tmp_path):
    a = _busybox(debian_arm64_root, "cat /proc/self/stat; cat /proc/self/statm", cwd=tmp_path)
    stat, statm = a.stdout.decode().splitlines()
    fields = stat.split(") ")[1].split()
    assert len(fields) + 2 == 52
    assert len(statm.split()) == 7


def test_pagemap_pfn_hidden_without_cap_sys_admin(monkeypatch):
    """4.14 zeroes the PFN for an opener without CAP_SYS_ADMIN (the rest of
    the entry stays): pte_to_pagemap_entry() with show_pfn false."""
    from kernel.fs import proc
    kernel = types.SimpleNamespace(pages=types.SimpleNamespace(
        flags=bytearray(4), index=lambda pa: 1, page_mapcount=lambda pa: 1))
    pte = 0x40001000 | 0x3 | (1 << 10)
    shown = proc.pte_to_pagemap_entry(kernel, None, pte, True)
    hidden = proc.pte_to_pagemap_entry(kernel, None, pte, False)
    assert shown & proc.PM_PFRAME_MASK == 0x40001
    assert hidden & proc.PM_PFRAME_MASK == 0
    assert shown & ~proc.PM_PFRAME_MASK == hidden & ~proc.PM_PFRAME_MASK
    assert hidden & proc.PM_PRESENT and hidden & proc.PM_MMAP_EXCLUSIVE and \
        hidden & proc.PM_FILE


def test_config_gz_roundtrip():
    from kernel.fs.proc import Ctx, proc_config_gz
    from kernel.sys_ni import kernel_config
    kernel = _config_kernel()
    assert gzip.decompress(proc_config_gz(Ctx(kernel, None))).decode() == kernel_config(kernel)


def test_host_build_present():
    assert (BUILD / "host" / "sys_proc").exists(), "run `make userland`"


def _load_kernel(running, clock):
    tasks = {i + 1: types.SimpleNamespace(exit_state=None, state="R") for i in range(running)}
    return types.SimpleNamespace(tasks=tasks, last_pid=running,
                                 sched=types.SimpleNamespace(clock=lambda: clock[0]))


def test_load_average_of_one_busy_thread():
    """kernel/sched/loadavg.c: one runnable thread for a minute brings the
    1-minute average to 1 - 1/e (0.63), the 5- and 15-minute ones less;
    idle, they decay again.  /proc/loadavg prints them with two decimals."""
    from kernel.fs.proc import Ctx, FIXED_1, calc_global_load, proc_loadavg
    clock = [60.1]
    kernel = _load_kernel(1, clock)
    load1, load5, load15 = (v / FIXED_1 for v in calc_global_load(kernel))
    assert abs(load1 - 0.63) < 0.02 and load5 < load1 and load15 < load5
    assert re.match(r"^0\.6\d 0\.\d\d 0\.\d\d 1/1 1\n$", proc_loadavg(Ctx(kernel, None)))
    kernel.tasks[1].state = "S"
    clock[0] = 600.0
    assert calc_global_load(kernel)[0] < FIXED_1 // 100


# -- in-process: the walk, and random arguments -------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from emu.arch import PAGE_SIZE  # noqa: E402
from emu.board import Board  # noqa: E402
from kernel.fs.file import FdTable  # noqa: E402
from kernel.main import Kernel  # noqa: E402
from kernel.mm.mmap import do_mmap  # noqa: E402
from kernel.sched.task import FsStruct, Task  # noqa: E402
from kernel.uaccess import Efault  # noqa: E402
from kernel.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE  # noqa: E402

BASE = 0x10000000


class Board1:
    """A kernel with one task: 16 pages mapped read-write at BASE."""

    def __init__(self, tmp_path):
        self.board = Board(ram_size=16 << 20, cores=2)
        self.k = Kernel(self.board)
        self.task = t = Task(self.k, 1, "t", ["t"])
        t.mm = self.k.mm_alloc(t)
        t.fs = FsStruct(str(tmp_path))
        t.files = FdTable()
        self.k.tasks[1] = t
        assert do_mmap(t.mm, None, BASE, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0) == BASE

    def call(self, name, *args):
        """el0_svc()'s dispatch of one handler: -EFAULT for a bad pointer."""
        d = next(d for d in self.k.syscalls.by_nr.values() if d.name == name)
        try:
            return d.func(self.task, *args[:d.nargs])
        except Efault:
            return -errno.EFAULT


def test_pagemap_pfns_are_the_walks(tmp_path):
    """For each page written, read or left alone, pagemap's entry is what
    the MMU's walk of the task's tables finds: present exactly when the walk
    gives a descriptor, and then PFN = its output address >> 12."""
    from kernel.fs.proc import PM_PFRAME_MASK, PM_PRESENT, pagemap_entries
    b = Board1(tmp_path)
    uaccess = b.task.uaccess
    uaccess.copy_to_user(BASE, b"x")
    uaccess.copy_to_user(BASE + 5 * PAGE_SIZE, b"y")
    uaccess.copy_from_user(BASE + 7 * PAGE_SIZE, 1)         # the zero page
    entries = pagemap_entries(b.k, b.task.mm, BASE >> 12, 16, show_pfn=True)
    mmu = b.board.mmu
    for i, entry in enumerate(entries):
        addr = BASE + i * PAGE_SIZE
        level, desc, _ = mmu.walk(b.task.mm.pgd, addr)
        if not desc:
            assert not entry & PM_PRESENT, i
            continue
        assert entry & PM_PRESENT, i
        assert entry & PM_PFRAME_MASK == mmu.output_address(level, desc, addr) >> 12, i
    assert [bool(e & PM_PRESENT) for e in entries].count(True) == 3
    assert entries[7] & PM_PFRAME_MASK == b.k.zero_page >> 12


_FUZZED = ("io_setup", "lookup_dcookie", "quotactl", "add_key", "swapon", "mbind", "bpf",
           "mount", "umount2", "reboot", "kexec_load", "init_module", "chroot", "acct",
           "restart_syscall", "get_robust_list", "ptrace", "syslog", "membarrier",
           "ioprio_set", "ioprio_get", "unshare", "setns", "pkey_alloc", "pkey_free",
           "sethostname", "setdomainname", "process_vm_readv", "process_vm_writev")

_ARG = st.one_of(st.integers(0, (1 << 64) - 1), st.integers(-5, 70),
                 st.integers(BASE - 16, BASE + 17 * PAGE_SIZE),
                 st.sampled_from([0, 1, 1 << 63, (1 << 64) - 1, 0xFFFFFFFF, 1 << 31]))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(_FUZZED), args=st.lists(_ARG, min_size=6, max_size=6))
def test_random_arguments(tmp_path, name, args):
    """Random registers to the calls of parts 1 and 7: an errno or a result,
    never a Python exception (the bad-input rule of issue 9)."""
    b = _fuzz_board(tmp_path)
    ret = b.call(name, *args)
    assert isinstance(ret, int) and ret >= -4095, (name, args, ret)


_BOARDS = {}


def _fuzz_board(tmp_path):
    """One board per test run (making one costs more than the calls)."""
    if "b" not in _BOARDS:
        _BOARDS["b"] = Board1(tmp_path)
    return _BOARDS["b"]


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(["proc", "sys", "self", "thread-self", "1", "2", "task",
                                       "fd", "fdinfo", "0", "..", ".", "status", "exe", "cwd",
                                       "root", "maps", "devices", "system", "cpu", "cpu0",
                                       "online", "kernel", "vm", "x", "random", "uuid",
                                       "mem", "pagemap", "environ", "cmdline", "auxv",
                                       "smaps", "limits", "stat", "statm", "config.gz",
                                       "meminfo", "loadavg", "mounts", "mountinfo", "comm",
                                       "uptime", "cpuinfo", "version", "wchan"]),
                      min_size=1, max_size=6),
       follow=st.booleans())
def test_random_pseudo_paths(tmp_path, parts, follow):
    """Any path under /proc or /sys resolves to an Entry, a host target or
    an errno, and every file found reads without a Python exception."""
    from kernel.fs.proc import HostTarget, PseudoError, PseudoOpen, Ctx, pseudo_resolve
    b = _fuzz_board(tmp_path)
    path = "/" + "/".join(["proc"] + parts)
    try:
        found = pseudo_resolve(b.k, b.task, os.path.normpath(path), follow)
    except PseudoError as e:
        assert e.err in (-errno.ENOENT, -errno.ENOTDIR, -errno.ELOOP)
        return
    if found is None or isinstance(found, HostTarget):
        return
    if found.kind == "dir":
        assert all(isinstance(n, str) for n, _ in found.children())
    elif found.kind == "file":
        p = PseudoOpen(found, Ctx(b.k, b.task), 0)
        if found.read is not None:
            found.read(p, BASE, 64)
        else:
            try:
                assert isinstance(p.text(), bytes)
            except PseudoError:
                pass
