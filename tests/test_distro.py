"""A real distribution on the board: Debian bookworm's arm64 busybox and coreutils.

The arm64 packages come from tests/debian_arm64.py (the `debian_arm64_root`
fixture: downloaded once with apt, cached in build/debian-arm64/root).  Every
case runs twice, in two working directories populated identically:

* on the board: `a53emu run --sysroot ROOT ROOT/bin/busybox sh -c SCRIPT`,
  so /bin/sh, /bin/busybox and the dynamic loader resolve inside ROOT;
* natively: the same command with Debian's amd64 busybox-static (/bin/busybox)
  or the host's coreutils, on the real kernel;

and stdout, stderr, exit status and the files left in the working directory
must be identical.  Nothing is masked: commands whose output legitimately
differs between the board and the host (uname -m, pids) are kept out of the
compared scripts, and what the board alone must print is asserted against
Linux's answer in test_board_identity / test_foreign_elf_is_not_executable.
(The host's coreutils get the board's program path as argv[0], which they
print in error messages.)

Nothing may run through the host's binfmt_misc (qemu-user-binfmt may be
installed): the native side checks that its programs are ELF files for the
host's own machine, and the board checks that a program it exec()s reports
a53emu's kernel release (qemu-user would report the host's).

Debian's busybox-static is built with FEATURE_PREFER_APPLETS and
FEATURE_SH_STANDALONE, so `cat`, `sort`, ... in a script are busybox applets,
never programs found in $PATH: the shell fork()s and runs the applet in the
child, for most of them without an exec (NOEXEC applets), for the others by
execve() of /proc/self/exe.
"""

import os
import platform
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

import debian_arm64
from conftest import IN_CI, ROOT as REPO, run_a53emu

# The environment of both sides: the C locale, and a $PATH in which nothing is
# found, on the host or in ROOT.  Every command is then a busybox applet or an
# explicit path: when busybox's exec of /proc/self/exe for an applet fails, ash
# falls back to a $PATH search, and that must not find the host's or ROOT's
# coreutils (whose output could hide the failure).  PYTHONPATH makes `python
# -m emu` import this checkout's emulator while its cwd is a test directory;
# -U keeps it out of the guest's environment.
NO_PATH = "/nonexistent-a53emu-test-path"
ENV = {"PATH": NO_PATH, "LC_ALL": "C"}
A53EMU_ENV = dict(ENV, PYTHONPATH=str(REPO))

NATIVE_BUSYBOX = "/bin/busybox"     # where Debian's busybox-static installs it
HOST_ELF_MACHINE = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}
TIMEOUT = 60          # the slowest case takes a few seconds; a hang must not stall the suite

# Every working directory starts with these files (and the dirs they imply),
# all with one fixed mtime so `ls -l` prints the same dates on both sides.
TREE = {
    "data.txt": "".join("%s %d\n" % (w, n) for w, n in
                        [("pear", 3), ("apple", 10), ("fig", 7), ("kiwi", 1), ("date", 22),
                         ("apple", 10), ("banana", 5)]),
    "words": "b\na\nc\nb\na\n",
    "utf8.txt": "na\u00efve caf\u00e9\n\u00fcber \u00e5ngstr\u00f6m\n",
    "tree/x.txt": "x1\nx2\n",
    "tree/y.log": "y\n",
    "tree/a/one.txt": "1\n",
    "tree/a/b/two.txt": "2\n2\n",
    "tree/a/b/c/three.txt": "3\n3\n3\n",
    "tree/e/.hidden": "h\n",
}
HOST_C_UTF8 = "/usr/lib/locale/C.utf8"     # Debian's libc-bin
FIXED_MTIME = 1700000000            # 2023-11-14, any fixed time will do


# --- fixtures -----------------------------------------------------------------

def _unavailable(reason):
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def elf_machine(path):
    """e_machine of an ELF file as pyelftools names it, or None."""
    try:
        with open(path, "rb") as f:
            return ELFFile(f)["e_machine"]
    except Exception:
        return None


def is_dynamic(path):
    with open(path, "rb") as f:
        return any(seg["p_type"] == "PT_INTERP" for seg in ELFFile(f).iter_segments())


def upstream_version(debian_version):
    """'1:1.35.0-4+deb12u1' -> '1.35.0' (no epoch, no Debian revision)."""
    return debian_version.split(":", 1)[-1].rsplit("-", 1)[0]


def host_elf_check(path):
    """Assert that path is an ELF for this machine: the kernel runs it itself,
    never through binfmt_misc (which would run an AArch64 file under qemu)."""
    want = HOST_ELF_MACHINE.get(platform.machine())
    if want is None:
        pytest.skip("unknown host machine %s" % platform.machine())
    got = elf_machine(os.path.realpath(path))
    assert got == want, "%s is an ELF for %s, not for this %s host" % (path, got, platform.machine())


@pytest.fixture(scope="session")
def arm64_root(debian_arm64_root):
    """The root, with the assertions the comparisons rely on."""
    root = Path(debian_arm64_root)
    assert not os.path.exists(NO_PATH) and not (root / NO_PATH.lstrip("/")).exists()
    assert elf_machine(root / "bin" / "busybox") == "EM_AARCH64"
    assert not is_dynamic(root / "bin" / "busybox")
    assert elf_machine(root / "bin" / "ls") == "EM_AARCH64"
    assert is_dynamic(root / "bin" / "ls"), "coreutils' ls should be dynamically linked"
    return root


@pytest.fixture(scope="session")
def native_busybox(arm64_root):
    """Debian's amd64 busybox-static, the same version as the arm64 one."""
    if not os.path.exists(NATIVE_BUSYBOX):
        _unavailable("no native %s: apt-get install busybox-static" % NATIVE_BUSYBOX)
    host_elf_check(NATIVE_BUSYBOX)
    banner = subprocess.run([NATIVE_BUSYBOX, "--help"], capture_output=True, text=True,
                            env=ENV).stdout.splitlines()[0]
    want = debian_arm64.package_versions(arm64_root)["busybox-static"]
    if "(Debian %s)" % want not in banner:
        _unavailable("native busybox is %r, not Debian's %s like the arm64 one: "
                     "apt-get install busybox-static from bookworm" % (banner, want))
    return NATIVE_BUSYBOX


@pytest.fixture(scope="session")
def host_coreutils(arm64_root):
    """{name: path} of the host's coreutils, the same upstream version as the arm64 ones."""
    want = upstream_version(debian_arm64.package_versions(arm64_root)["coreutils"])
    paths = {}
    for name in ("cat", "ls", "sort", "wc", "echo"):
        path = shutil.which(name, path="/usr/bin:/bin")
        if path is None:
            _unavailable("host coreutils has no %s" % name)
        host_elf_check(path)
        first = subprocess.run([path, "--version"], capture_output=True, text=True,
                               env=ENV).stdout.splitlines()[0]
        if not first.endswith("(GNU coreutils) " + want):
            _unavailable("host %s is %r, not GNU coreutils %s like the arm64 one"
                         % (path, first, want))
        paths[name] = path
    return paths


# --- running both sides -------------------------------------------------------

def populate(top, extra=None):
    """Write TREE (and extra {relpath: (text, mode)}) under top, then fix mtimes."""
    top.mkdir()
    files = {rel: (text, 0o644) for rel, text in TREE.items()}
    files.update(extra or {})
    for rel, (text, mode) in files.items():
        path = top / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        for name in filenames + dirnames + [""]:
            os.utime(os.path.join(dirpath, name), (FIXED_MTIME, FIXED_MTIME))


def snapshot(top, ignore=()):
    """{relpath: contents or 'dir'} of everything under top (what a script left)."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, top)
            if rel in ignore:
                continue
            mode = os.lstat(path).st_mode
            tree[rel] = "dir" if stat.S_ISDIR(mode) else Path(path).read_bytes()
    return tree


def shell_status(returncode):
    """$? as a shell reports it: a natively killed process is -SIG to subprocess."""
    return 128 - returncode if returncode < 0 else returncode


def outcome(proc):
    return {"status": shell_status(proc.returncode),
            "stdout": proc.stdout.decode(errors="replace"),
            "stderr": proc.stderr.decode(errors="replace")}


def on_board(root, argv, cwd, env=None):
    """a53emu run --sysroot ROOT ARGV in cwd, with ENV (+ env) as the guest's environment."""
    return outcome(run_a53emu(["-U", "PYTHONPATH", "-L", root] + list(argv), cwd=cwd,
                              env=dict(A53EMU_ENV, **(env or {})), timeout=TIMEOUT))


def natively(argv, cwd, env=None, argv0=None):
    """ARGV on the host kernel; argv0 replaces argv[0] (the program is still argv[0])."""
    args = [str(a) for a in argv]
    if argv0 is not None:
        args[0] = str(argv0)
    return outcome(subprocess.run(args, executable=str(argv[0]), cwd=cwd,
                                  env=dict(ENV, **(env or {})), capture_output=True,
                                  timeout=TIMEOUT, stdin=subprocess.DEVNULL))


def compare(board, native, board_dir, native_dir, ignore=()):
    """The board's run must be the native one: status, stdout, stderr, files."""
    assert native["stdout"], "the native run printed nothing: a comparison would prove nothing"
    assert board == native
    assert snapshot(board_dir, ignore) == snapshot(native_dir, ignore)


# --- busybox sh: the shell and its applets --------------------------------------

SHELL_CASES = {
    # No fork at all: builtins, a redirection, a signal to itself.
    "builtins": r'''
        echo hi; x=$((6 * 7)); echo $x; test -d tree && echo isdir
        [ -f data.txt ] && echo isfile; read -r l < data.txt; echo "first: $l"
        printf "%05d|%s\n" 42 "$x"; set -- a "b c"; echo $# "$2"
        ''',
    "trap_and_kill_self": r'''
        trap "echo got-usr1" USR1; kill -USR1 $$; echo after
        trap "echo bye" EXIT; exit 2
        ''',
    "pipe": "echo a | cat",
    "pipeline": r'''
        seq 1 20 | sort -rn | head -n 5
        seq 1 1000 | tr 0-9 a-j | tail -n 2 | rev
        seq 1 30000 | cat | cat | md5sum
        seq 1 20000 | wc -c
        false | true; echo "last true: $?"; true | false; echo "last false: $?"
        set -o pipefail; false | true; echo "pipefail: $?"
        echo "a b" | { read x y; echo "y=$y"; }
        ''',
    "subshell": r'''
        x=1; (x=2; echo in $x); echo out $x
        (exit 7); echo $?
        (cd tree && ls); [ "$(pwd)" = "$PWD" ] && echo cwd-kept
        { echo grouped; echo braces; } | cat
        [ "$(sh -c 'echo $PPID')" = "$$" ] && echo child-ppid-is-us
        (echo sub-out; echo sub-err >&2) 2>&1 | sort
        ''',
    "command_substitution": r'''
        echo "n=$(seq 1 3 | wc -l)"; a=$(echo x; echo y); echo "$a"
        echo $(echo $(echo deep)); echo `echo back`
        x=$(seq 1 10000); echo ${#x}
        y=$(exit 4); echo "status $?"
        echo "$(head -n 2 data.txt)"
        ''',
    "background_and_wait": r'''
        for i in 1 2 3; do (echo job$i > out.$i) & done; wait; cat out.1 out.2 out.3; rm out.*
        (exit 5) & wait $!; echo "wait \$! -> $?"
        false & wait $!; echo "false & -> $?"
        sleep 0.1 & p=$!; wait $p; echo "sleep -> $?"
        wait; echo "nothing left -> $?"
        (sleep 0.2; echo late > late.txt) & echo early; wait; cat late.txt; rm late.txt
        ''',
    # The background job's "Terminated" notice goes to stderr at a moment
    # that depends on when SIGCHLD arrives (on the host too): an inner
    # shell keeps it out of the compared output.
    "exit_status": r'''
        false; echo $?; true; echo $?; (exit 3); echo $?
        sh -c 'exit 4'; echo $?; ! false; echo $?
        nosuchcmd; echo $?
        ./data.txt; echo $?
        sh -c 'sleep 5 & kill -TERM $!; wait $!; echo "TERM -> $?"' 2>/dev/null  # see below
        sh -c 'kill -TERM $$'; echo "self TERM -> $?"
        sh -c 'kill -KILL $$'; echo "self KILL -> $?"
        sh -c 'echo to-stderr >&2; exit 3'
        ''',
    "loops": r'''
        for i in 1 2 3; do echo $i; done
        i=0; while [ $i -lt 5 ]; do i=$((i + 1)); echo w$i; done
        until [ $i -eq 0 ]; do i=$((i - 1)); done; echo u$i
        for f in a b c; do echo $f | tr a-z A-Z; done
        seq 3 | while read l; do echo "<$l>"; done
        for w in $(seq 4 6); do printf "%s," $w; done; echo
        n=0; for f in $(find tree -type f | sort); do n=$((n + 1)); done; echo files=$n
        ''',
    "redirection": r'''
        echo one > f; echo two >> f; cat < f; wc -l < f
        cat f nosuch 2> err; echo rc=$?; cat err
        exec 3> g; echo three >&3; exec 3>&-; cat g
        cat nosuch 2> /dev/null || echo missing
        cat <<EOF
heredoc $((1 + 2))
EOF
        echo kept > kept.txt
        rm f g err; ls
        ''',
    "file_tools": r'''
        ls; ls -R tree; ls -l tree; ls -a tree/e
        wc data.txt; wc -l tree/x.txt tree/a/one.txt
        sort data.txt; sort -n -r -k2 data.txt; sort -u words
        find tree -type f | sort
        find tree -name '*.txt' | sort | xargs wc -l
        find tree -type d | sort
        echo a b c | xargs -n 1 echo item
        find tree -type f -print0 | sort -z | xargs -0 cat
        ''',
    # A real execve() replacing the shell itself, no fork.
    "exec": "exec /bin/busybox echo replaced; echo not-reached",
}


# The cases that start more than twenty processes (native strace -f counts
# 21 and 23 forks); the others start at most a dozen.
SLOW_SHELL_CASES = {"pipeline", "file_tools"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_SHELL_CASES
                                  else n for n in sorted(SHELL_CASES)])
def test_busybox_sh(name, arm64_root, native_busybox, tmp_path):
    script = SHELL_CASES[name]
    board_dir, native_dir = tmp_path / "board", tmp_path / "native"
    populate(board_dir)
    populate(native_dir)
    board = on_board(arm64_root, [arm64_root / "bin" / "busybox", "sh", "-c", script], board_dir)
    native = natively([native_busybox, "sh", "-c", script], native_dir)
    compare(board, native, board_dir, native_dir)


SCRIPT_BODY = r'''echo "script $0 $# $*"
for a in "$@"; do echo "arg <$a>"; done
echo "lines $(wc -l < data.txt)"
exit 3
'''


def test_shebang_script(arm64_root, native_busybox, tmp_path):
    """A `#!/bin/sh` script and an executable file without `#!` run from the
    shell: binfmt_script on the first (/bin/sh is ROOT/bin/sh, busybox, on the
    board); on the second execve() fails with ENOEXEC and the shell runs it.

    Natively /bin/sh is the host's shell (dash), so the native script names the
    same busybox as its interpreter: `#!/bin/busybox sh`.  The script files
    themselves are the one thing the two sides do not share."""
    cmd = r'''./script.sh a "b c"; echo rc=$?
              ./noshebang.sh; echo rc=$?
              sh ./script.sh x; echo rc=$?
              v=$(./script.sh q | head -n 1); echo "[$v]"'''
    noshebang = ("echo from-noshebang $#\n", 0o755)
    board_dir, native_dir = tmp_path / "board", tmp_path / "native"
    populate(board_dir, {"script.sh": ("#!/bin/sh\n" + SCRIPT_BODY, 0o755),
                         "noshebang.sh": noshebang})
    populate(native_dir, {"script.sh": ("#!%s sh\n" % native_busybox + SCRIPT_BODY, 0o755),
                          "noshebang.sh": noshebang})
    board = on_board(arm64_root, [arm64_root / "bin" / "busybox", "sh", "-c", cmd], board_dir)
    native = natively([native_busybox, "sh", "-c", cmd], native_dir)
    compare(board, native, board_dir, native_dir, ignore={"script.sh"})


def test_board_identity(arm64_root, native_busybox, tmp_path):
    """What only the board prints, asserted against Linux's answer rather than
    compared: uname on an ARM64 machine running a53emu's kernel, also from a
    program the shell exec()s by path.  Under qemu-user (binfmt_misc) the
    release would be the host's; natively the machine is the host's."""
    from kernel.syscalls.process import UTS_RELEASE
    script = "uname -m; uname -r; /bin/busybox uname -m; /bin/busybox uname -r; " \
             "echo \"$(/bin/busybox uname -r)\""
    board = on_board(arm64_root, [arm64_root / "bin" / "busybox", "sh", "-c", script], tmp_path)
    assert board == {"status": 0, "stderr": "",
                     "stdout": "aarch64\n{r}\naarch64\n{r}\n{r}\n".format(r=UTS_RELEASE)}
    native = natively([native_busybox, "sh", "-c", "uname -m"], tmp_path)
    assert native == {"status": 0, "stderr": "", "stdout": platform.machine() + "\n"}


def test_foreign_elf_is_not_executable(arm64_root, native_busybox, tmp_path):
    """The host's own busybox (an x86-64 ELF) exec()ed on the board must never
    run, neither on the host nor through binfmt_misc: Linux's binfmt_elf
    refuses another machine's ELF and execve() fails with ENOEXEC.

    busybox env calls glibc's execvp(), which on ENOEXEC retries the file as
    a script of /bin/sh.  Run without --sysroot, /bin/sh is the host's shell,
    also a foreign ELF, so that execve() fails with ENOEXEC too and env
    reports it (exit 126).  The copy in the working directory is reached by
    a relative path."""
    host_elf_check("/bin/sh")
    shutil.copy(native_busybox, tmp_path / "busybox-host")
    argv = ["env", "./busybox-host", "echo", "ran"]
    board = outcome(run_a53emu(["-U", "PYTHONPATH", arm64_root / "bin" / "busybox"] + argv,
                               cwd=tmp_path, env=A53EMU_ENV, timeout=TIMEOUT))
    assert board == {"status": 126, "stdout": "",
                     "stderr": "env: can't execute './busybox-host': Exec format error\n"}
    native = natively([native_busybox] + argv, tmp_path)
    assert native == {"status": 0, "stdout": "ran\n", "stderr": ""}


def test_dynamic_from_shell(arm64_root, native_busybox, host_coreutils, tmp_path):
    """The shell exec()s dynamically linked coreutils by path: on the board
    /bin/ls and its loader and libraries resolve inside ROOT (after execve,
    not only for the first program); natively they are the host's, the same
    coreutils version."""
    script = r'''
        /bin/ls -1 tree | /usr/bin/sort -r
        /bin/cat words data.txt | /usr/bin/wc -l
        /bin/echo $(/bin/ls tree/a) "$(/usr/bin/sort -u words)"
        /bin/ls nosuch; echo "ls -> $?"
        '''
    board_dir, native_dir = tmp_path / "board", tmp_path / "native"
    populate(board_dir)
    populate(native_dir)
    board = on_board(arm64_root, [arm64_root / "bin" / "busybox", "sh", "-c", script], board_dir)
    native = natively([native_busybox, "sh", "-c", script], native_dir)
    assert native["stdout"].startswith("y.log\n")      # the comparison is not vacuous
    compare(board, native, board_dir, native_dir)


def test_busybox_without_fork(arm64_root):
    """The static arm64 busybox runs an applet directly (no fork, no exec)."""
    board = on_board(arm64_root, [arm64_root / "bin" / "busybox", "echo", "hi"], REPO)
    assert board == {"status": 0, "stdout": "hi\n", "stderr": ""}


# --- coreutils: dynamically linked programs through --sysroot -------------------

COREUTILS_CASES = {
    "cat": ["cat", "data.txt", "words"],
    "cat_n": ["cat", "-n", "data.txt"],
    "cat_missing": ["cat", "words", "nosuch"],
    "ls_1": ["ls", "-1", "tree"],
    "ls_l": ["ls", "-l", "tree"],
    "ls_R": ["ls", "-R", "tree"],
    "ls_la": ["ls", "-la", "tree/e"],
    "sort": ["sort", "data.txt"],
    "sort_nrk2": ["sort", "-n", "-r", "-k2", "data.txt"],
    "sort_u": ["sort", "-u", "words"],
    "wc_l": ["wc", "-l", "data.txt"],
    "wc": ["wc", "data.txt", "words", "tree/x.txt"],
    "echo": ["echo", "hello", "world"],
    "echo_e": ["echo", "-e", r"a\tb\n"],
}

# Where coreutils puts each program in the package (Debian's /bin or /usr/bin).
COREUTILS_DIR = {"cat": "bin", "ls": "bin", "echo": "bin", "sort": "usr/bin", "wc": "usr/bin"}


def run_coreutils(arm64_root, host_coreutils, tmp_path, argv, env=None):
    """argv[0] from ROOT on the board and from the host natively.  Both get the
    board's path as argv[0] (coreutils prints it in error messages)."""
    name = argv[0]
    guest = arm64_root / COREUTILS_DIR[name] / name
    board_dir, native_dir = tmp_path / "board", tmp_path / "native"
    populate(board_dir)
    populate(native_dir)
    board = on_board(arm64_root, [guest] + argv[1:], board_dir, env)
    native = natively([host_coreutils[name]] + argv[1:], native_dir, env, argv0=guest)
    return board, native, board_dir, native_dir


@pytest.mark.parametrize("name", sorted(COREUTILS_CASES))
def test_coreutils_dynamic(name, arm64_root, host_coreutils, tmp_path):
    compare(*run_coreutils(arm64_root, host_coreutils, tmp_path, COREUTILS_CASES[name]))


def test_coreutils_utf8_locale(arm64_root, host_coreutils, tmp_path):
    """wc -m counts characters of the locale's charset: in C.UTF-8 glibc loads
    the locale (and its gconv cache) from the file system, so the count
    differs from the C locale's byte count only if that worked.  The locale
    is the host's /usr/lib/locale/C.utf8 on both sides (ROOT has none, so the
    board's lookup falls through --sysroot to it, as with qemu's -L)."""
    if not os.path.isdir(HOST_C_UTF8):
        _unavailable("the host has no C.UTF-8 locale (%s)" % HOST_C_UTF8)
    env = {"LC_ALL": "C.UTF-8"}
    board, native, board_dir, native_dir = run_coreutils(
        arm64_root, host_coreutils, tmp_path, ["wc", "-m", "utf8.txt"], env)
    c_count = len(TREE["utf8.txt"].encode())
    utf8_count = len(TREE["utf8.txt"])
    assert c_count != utf8_count
    assert native["stdout"] == "%d utf8.txt\n" % utf8_count
    compare(board, native, board_dir, native_dir)


# --- make: a build tool forking its recipes' shells, two at a time ------------------

MAKEFILE = """\
SRCS := $(sort $(wildcard *.in))
OUTS := $(SRCS:.in=.out)
all: summary.txt
%.out: %.in
\ttr a-z A-Z < $< > $@
summary.txt: $(OUTS)
\tcat $^ > $@
\techo "files: $(words $^) lines: $$(wc -l < $@)" >> $@
.PHONY: all clean
clean:
\trm -f $(OUTS) summary.txt
"""
MAKE_SCRIPT = "make -j2; echo $?; make; echo $?; make nosuchtarget; echo $?; make clean; ls"


@pytest.fixture(scope="session")
def host_make(arm64_root):
    """The host's GNU make, the same upstream version as Debian's arm64 one."""
    want = upstream_version(debian_arm64.package_versions(arm64_root)["make"])
    path = shutil.which("make", path="/usr/bin:/bin")
    if path is None:
        _unavailable("the host has no make")
    first = subprocess.run([path, "--version"], capture_output=True, text=True,
                           env=ENV).stdout.splitlines()[0]
    if first != "GNU Make " + want:
        _unavailable("host make is %r, not GNU Make %s like the arm64 one" % (first, want))
    return path


def test_make_builds_in_parallel(arm64_root, native_busybox, host_make, host_coreutils,
                                 tmp_path):
    """Debian's arm64 make (dynamically linked) runs a Makefile with pattern
    rules and -j2 under busybox sh on the board, exactly as the host's make
    does natively: the commands it prints, the errors, the files it leaves."""
    extra = {"Makefile": (MAKEFILE, 0o644), "a.in": ("alpha\nbeta\n", 0o644),
             "b.in": ("gamma\n", 0o644)}
    board_dir, native_dir = tmp_path / "board", tmp_path / "native"
    populate(board_dir, extra)
    populate(native_dir, extra)
    # make and the recipes' tools come from PATH: the root's on the board
    # (--sysroot resolves /usr/bin there), the host's natively.
    path = {"PATH": "/usr/bin:/bin"}
    board = on_board(arm64_root, [arm64_root / "bin" / "busybox", "sh", "-c", MAKE_SCRIPT],
                     board_dir, env=path)
    native = natively([native_busybox, "sh", "-c", MAKE_SCRIPT], native_dir, env=path)
    compare(board, native, board_dir, native_dir)
    assert "tr a-z A-Z < a.in > a.out" in board["stdout"]
    assert "No rule to make target 'nosuchtarget'" in board["stderr"]
