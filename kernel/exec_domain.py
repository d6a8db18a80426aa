"""kernel/exec_domain.c + arch/arm64/kernel/sys.c: personality().

The personality is stored per task, inherited by fork and kept across
execve (no set-id exec here, so PER_CLEAR_ON_SETID never applies).
0xffffffff only queries.  arm64 refuses PER_LINUX32 when the system cannot
run AArch32 at EL0 — and the board cannot (Unicorn runs one instruction
set per core), so that is -EINVAL, where an x86-64 host accepts it.  The
flags are recorded, not acted on: ADDR_NO_RANDOMIZE changes nothing since
the board does not randomise its layout, READ_IMPLIES_EXEC is not applied
by mmap (see kernel/mm/mmap.py), and ADDR_LIMIT_32BIT/3GB do not move
TASK_SIZE.
"""

import errno

from kernel.syscalls.table import syscall

PER_LINUX32 = 0x0008
PER_MASK = 0x00FF
PERSONALITY_QUERY = 0xFFFFFFFF
# arm64: system_supports_32bit_el0() — no AArch32 EL0 on this board.
SUPPORTS_32BIT_EL0 = False


@syscall("personality", "x")
def sys_arm64_personality(task, personality):
    """arm64_personality() → sys_personality(): the old value."""
    personality &= 0xFFFFFFFF
    if personality & PER_MASK == PER_LINUX32 and not SUPPORTS_32BIT_EL0:
        return -errno.EINVAL
    old = task.personality
    if personality != PERSONALITY_QUERY:
        task.personality = personality
    return old
