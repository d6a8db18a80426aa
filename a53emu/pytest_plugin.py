"""The `a53emu` pytest fixture: test a cross-compiled AArch64 program in a
few lines.

    def test_hello(a53emu):
        r = a53emu.run("build/hello", "a", "b")
        assert r.exit_status == 2
        assert "brk" in r.syscalls

Installed a53emu registers this plugin with pytest (the pytest11 entry
point in pyproject.toml); elsewhere, put `pytest_plugins =
["a53emu.pytest_plugin"]` in the top-level conftest.py, or run pytest with
`-p a53emu.pytest_plugin`.  The emulator is imported only when a test asks
for the fixture, so the plugin costs other test runs nothing.
"""

import os

import pytest


class A53emuFixture:
    """What the fixture hands a test: run() a program start to end, or
    machine() for a Machine of its own (both closed after the test).

    A relative program path is looked up in the current directory, then
    beside the test file.  The program runs in the test's tmp_path (the
    files it writes stay there), with an empty environment unless env= is
    given; Machine options (cores=, mem=, sysroot=, deterministic=, ...)
    pass through."""

    def __init__(self, request, tmp_path):
        self._base = request.path.parent
        self._cwd = str(tmp_path)
        self._machines = []

    def path(self, program):
        """Where a program path given to run() or load() is found."""
        program = os.fspath(program)
        if os.path.isabs(program) or os.path.exists(program):
            return os.path.abspath(program)
        return str(self._base / program)

    def run(self, program, *args, env=None, stdin=b"", timeout=60, hooks=(), cwd=None,
            **machine):
        """Run program with args; returns an a53emu.Result (exit_status,
        stdout, stderr, syscalls, calls, mm, vmas, maps, faults, log)."""
        from a53emu.result import run
        return run(self.path(program), args=args, env=env, cwd=cwd or self._cwd,
                   stdin=stdin, timeout=timeout, hooks=hooks, **machine)

    def machine(self, **options):
        """A new a53emu.Machine, closed when the test ends."""
        from a53emu.machine import Machine
        m = Machine(**options)
        self._machines.append(m)
        return m

    def close(self):
        for m in self._machines:
            m.close()


@pytest.fixture
def a53emu(request, tmp_path):
    """Run AArch64 programs on an a53emu board (see a53emu.pytest_plugin)."""
    fixture = A53emuFixture(request, tmp_path)
    yield fixture
    fixture.close()
