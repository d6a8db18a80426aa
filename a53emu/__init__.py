"""a53emu: an emulated dual Cortex-A53 board running real AArch64 Linux
programs on a Linux-4.14-like mini-kernel — the Python API.

    import a53emu
    r = a53emu.run("userland/build/musl/hello")      # start to end: a Result
    m = a53emu.Machine(cores=2, mem="64M")           # or step by step
    m.load("userland/build/musl/hello")
    stop = m.run(until=a53emu.Syscall("brk"))

The manual is docs/api.md; the names below are the stable API.
"""

from a53emu.api import (  # noqa: F401
    ALL, MM_FIELDS, Call, Event, ExecError, Exit, Fault, Frame, HookError, Instructions,
    Machine, Mm, Result, Stop, Syscall, Task, Vma, Walk, run,
)

__all__ = ["run", "Result", "Machine", "Task", "Mm", "Vma", "Walk", "Frame", "Call",
           "Event", "Stop", "Syscall", "Fault", "Exit", "Instructions", "HookError",
           "ExecError", "ALL", "MM_FIELDS"]
