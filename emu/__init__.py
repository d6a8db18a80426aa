"""The board (see DESIGN.md).  Importing the package as the a53emu program
(the console script, or `python -m emu`) first makes SIGINT end the process
quietly: a Ctrl-C during the interpreter's imports, before the CLI installs
its own handlers, would otherwise print a KeyboardInterrupt traceback.
Imported as a library (tests, tools), nothing changes."""

import os               # already loaded by the interpreter's site
import sys

# The C module, not `signal`: that one imports enum, long enough for a
# Ctrl-C to land in it before the handler below is installed.
import _signal


def _exit_on_sigint(signum, frame):
    """SIGINT before the CLI started: nothing ran, nothing to undo; the
    status a shell gives a job ended by Ctrl-C (128 + SIGINT)."""
    os._exit(128 + signum)


def _as_program():
    """True while the a53emu program itself is starting: argv[0] is the
    console script, or "-m" while `python -m emu` imports this package."""
    argv0 = sys.argv[0] if sys.argv else ""
    return argv0 == "-m" or os.path.basename(argv0) == "a53emu"


if _as_program() and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _exit_on_sigint)
