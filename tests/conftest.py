"""Shared fixtures: the userland binaries, a53emu and qemu-aarch64 runners.

Every end-to-end test runs a program built by `make userland` (musl via zig,
glibc via aarch64-linux-gnu-gcc when present).  Comparisons against
qemu-aarch64 skip with a reason when it is missing, except in CI (CI=true),
where a missing qemu is a failure, and where Hypothesis is derandomized.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "userland" / "build"
LIBCS = ("musl", "glibc")
IN_CI = os.environ.get("CI", "").lower() == "true"

# In CI the property tests draw the same examples every run (derandomize), so
# a landing is judged on the code, not on the luck of the draw; runs on a
# developer's machine keep exploring new examples.
settings.register_profile("ci", derandomize=True)
if IN_CI:
    settings.load_profile("ci")


def userland_path(libc, name):
    return BUILD / libc / name


@pytest.fixture(params=LIBCS)
def libc(request):
    """Each libc flavour that was built; glibc skips without the cross gcc."""
    if not (BUILD / request.param / "hello").exists():
        if request.param == "glibc" and not IN_CI:
            pytest.skip("glibc userland not built (needs aarch64-linux-gnu-gcc)")
        pytest.fail("userland/build/%s missing: run `make userland`" % request.param)
    return request.param


def emu_env(env=None):
    """env (default: ours) with this checkout first on PYTHONPATH: with a cwd
    other than ROOT, `python -m emu` would otherwise import whatever copy of
    a53emu the interpreter has installed, not the code under test."""
    env = dict(os.environ if env is None else env)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + path if path else "")
    return env


def run_a53emu(args, cwd=None, env=None, timeout=120, stdin=None, preexec_fn=None):
    """Run `python -m emu run ARGS` and return the CompletedProcess (bytes)."""
    return subprocess.run([sys.executable, "-m", "emu", "run"] + [str(a) for a in args],
                          cwd=cwd or ROOT, env=emu_env(env), capture_output=True,
                          timeout=timeout,
                          stdin=stdin if stdin is not None else subprocess.DEVNULL,
                          preexec_fn=preexec_fn)


def drain_pty(master):
    """Everything a pseudo-terminal's master can still read once the other
    side is closed (EOF, or EIO once it is closed and drained)."""
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:             # EIO: the slave side is closed and drained
            break
        if not chunk:
            break
        out += chunk
    return out


def qemu_path():
    path = shutil.which("qemu-aarch64")
    if path is None:
        if IN_CI:
            pytest.fail("qemu-aarch64 is required in CI (apt-get install qemu-user)")
        pytest.skip("qemu-aarch64 not installed: comparisons against it are skipped")
    return path


def run_qemu(args, cwd=None, env=None, timeout=120):
    return subprocess.run([qemu_path()] + [str(a) for a in args], cwd=cwd or ROOT, env=env,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def debian_arm64_root():
    """The unpacked Debian bookworm arm64 root (busybox-static, coreutils and
    its libraries) made by tests/debian_arm64.py, cached in build/debian-arm64.
    Skips with the reason when apt, the network or a package is unavailable,
    except in CI (CI=true), where that is a failure."""
    import debian_arm64
    try:
        return debian_arm64.ensure_root()
    except debian_arm64.Unavailable as e:
        if IN_CI:
            pytest.fail("the Debian arm64 packages are required in CI: %s" % e)
        pytest.skip("Debian arm64 packages unavailable: %s" % e)
