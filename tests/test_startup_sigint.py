"""Ctrl-C at any moment of a53emu's start-up (issue 10): never a traceback
from a53emu.  Before the interpreter installs its own SIGINT handler the
default action ends the process (a shell reports 130); from emu's first
import to the CLI's handlers it exits 130 quietly; later, one line and 130,
or the guest's own death by SIGINT.

One window is the interpreter's own, before any of a53emu's code runs: a
SIGINT while CPython initialises (imports its `site` module, sets up the
standard streams, after it has installed its SIGINT handler) makes CPython
itself print "Fatal Python error: init_import_site" (init_sys_streams, ...)
with the KeyboardInterrupt and abort.  No code of a
package can run earlier; the test tells that case apart (it names
init_import_site) and counts it, and fails on any other traceback.  The
same holds for `python -m`'s import of runpy ("Could not import runpy
module") and for runpy finding the package before its first line runs: a
traceback whose every frame is the interpreter's frozen code, or the
import hook setuptools installs in every virtualenv through a .pth file
(`_distutils_hack`, which runpy's search for `emu` consults first).  A
traceback with a frame of the interpreter's library or of a53emu fails the
test.
"""

import random
import signal
import subprocess
import sys
import time

from conftest import ROOT, emu_env

SPAWNS = 40
# CPython's own initialisation steps (init_import_site, init_sys_streams,
# ...) report a SIGINT as a fatal error of that step.
INTERPRETER_WINDOWS = {"init": "Fatal Python error: init_",
                       "runpy": "Could not import runpy module\n"}


def _frozen_only(err):
    """A KeyboardInterrupt traceback from the interpreter's frozen start-up
    code alone (runpy, and the virtualenv's `_distutils_hack` import hook it
    calls), before any file of a53emu or the library ran."""
    frames = [ln for ln in err.splitlines() if ln.startswith("  File ")]
    return (err.startswith("Traceback") and err.rstrip().endswith("KeyboardInterrupt")
            and frames and all(ln.startswith('  File "<frozen ')
                               or "/_distutils_hack/" in ln for ln in frames))


def _spawn_and_interrupt(delay, argv):
    p = subprocess.Popen(argv, cwd=ROOT, env=emu_env(None), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    return p.returncode, err.decode()


def test_sigint_during_startup_never_traceback():
    rng = random.Random(10)
    prog = str(ROOT / "userland" / "build" / "musl" / "hello")
    # How long a whole run takes, so that the delays cover the start-up.
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "emu", "run", prog], cwd=ROOT, env=emu_env(None),
                   capture_output=True, check=True, timeout=60)
    whole = time.monotonic() - t0
    seen = set()
    for _ in range(SPAWNS):
        delay = rng.uniform(0, whole)
        status, err = _spawn_and_interrupt(delay, [sys.executable, "-m", "emu", "run", prog])
        window = next((w for w, text in INTERPRETER_WINDOWS.items() if err.startswith(text)), None)
        if window is None and _frozen_only(err):
            window = "runpy"
        if window is not None:
            seen.add(window)
            continue
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, (delay, err)
        assert status in (0, 128 + signal.SIGINT, -signal.SIGINT), (delay, status, err)
        assert len(err.splitlines()) <= 1, (delay, err)
        seen.add(status)
    # The delays reached the start-up (not all after the run ended).
    assert seen != {0}
