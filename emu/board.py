"""The board: RAM, the MMU that walks its tables, and N Cortex-A53 cores."""

from emu.cpu import Core, SvcThroughSync
from emu.memory import DEFAULT_RAM_SIZE, PhysicalMemory
from emu.mmu import Mmu

DEFAULT_CORES = 2


class Board:
    """RAM + MMU + cores.  Two boards are independent objects."""

    def __init__(self, ram_size=DEFAULT_RAM_SIZE, cores=DEFAULT_CORES, va_bits=48,
                 precise_stops=True, lazy_cores=False):
        """lazy_cores: the secondary cores get their engine when they first
        run a task (Core.bring_up: ~3 ms each of a start that may never
        need them, issue 8); otherwise now."""
        if cores < 1:
            raise ValueError("a board needs at least one core")
        self.memory = PhysicalMemory(ram_size)
        self.mmu = Mmu(self.memory, va_bits)
        # precise_stops=False: a stop takes effect at the next instruction,
        # not the next block (see emu/cpu.py); a debugger needs that.
        self.cores = [Core(0, self.memory, self.mmu, precise_stops)]
        self.cores += [Core(i, self.memory, self.mmu,
                            self.cores[0].precise_stop if lazy_cores else precise_stops,
                            online=not lazy_cores) for i in range(1, cores)]

    def install_vector(self, vector):
        """Point every core's VBAR_EL1 at `vector` (an object with el0_sync,
        and el0_svc if it has a system-call entry of its own: see
        Core.svc_vector)."""
        for core in self.cores:
            core.vbar = vector
            core.svc_vector = vector if hasattr(vector, "el0_svc") else SvcThroughSync(vector)

    def flush_code_cache_all(self):
        """IC IALLUIS: every core forgets its translated code."""
        for core in self.cores:
            core.flush_code_cache()
