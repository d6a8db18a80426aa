"""a53emu: an emulated dual Cortex-A53 board running real AArch64 Linux
programs on a Linux-4.14-like mini-kernel — the Python API.

    import a53emu
    r = a53emu.run("userland/build/musl/hello")      # start to end: a Result
    m = a53emu.Machine(cores=2, mem="64M")           # or step by step
    m.load("userland/build/musl/hello")
    stop = m.run(until=a53emu.Syscall("brk"))

The manual is docs/api.md; the names below are the stable API.  The
package composes emu/ (the hardware) and kernel/ (the mini-kernel) as
emu/cli.py does, and nothing in either imports it: machine.py (Machine),
stops.py (the until= conditions, Stop), views.py (Task, Mm, Vma, Walk,
Frame, Call, Event), result.py (run, Result), pytest_plugin.py (the
fixture).
"""

from a53emu.machine import Machine
from a53emu.result import Result, run
from a53emu.stops import Exit, Fault, HookError, Instructions, Stop, Syscall
from a53emu.views import MM_FIELDS, Call, Event, Frame, Mm, Task, Vma, Walk
from kernel.binfmt_elf import ExecError
from kernel.syscalls.hooks import ALL

__all__ = ["run", "Result", "Machine", "Task", "Mm", "Vma", "Walk", "Frame", "Call",
           "Event", "Stop", "Syscall", "Fault", "Exit", "Instructions", "HookError",
           "ExecError", "ALL", "MM_FIELDS"]
