"""__vm_enough_memory() under OVERCOMMIT_GUESS (4.14 mm/util.c): a single
brk() (or the loader's bss, through vm_brk_flags) larger than what could be
made free — the free frames plus the page cache — is ENOMEM; anything
smaller is committed lazily, however little is free afterwards."""

import errno

from kernel.mm.mmap import do_brk_flags, sys_brk
from kernel.mm.overcommit import vm_enough_memory
from test_vma import Env, P

HEAP = 0x20000000


def test_guess_compares_with_what_is_free():
    env = Env()
    free = env.k.pages.nr_free
    assert vm_enough_memory(env.k, free - 1) == 0
    assert vm_enough_memory(env.k, free) == -errno.ENOMEM
    assert vm_enough_memory(env.k, 1 << 34) == -errno.ENOMEM


def test_brk_larger_than_the_board_is_refused():
    env = Env()
    mm = env.mm
    mm.start_data = mm.end_data = HEAP
    mm.start_brk = mm.brk = HEAP
    free = env.k.pages.nr_free
    assert sys_brk(mm, HEAP + (free + 1) * P) == HEAP
    assert do_brk_flags(mm, HEAP, 1 << 46) == -errno.ENOMEM
    assert mm.map_count == 0
    # Half the free memory is granted, and again: each request is judged alone.
    assert sys_brk(mm, HEAP + free // 2 * P) == HEAP + free // 2 * P
    assert sys_brk(mm, HEAP + (free - 2) * P) == HEAP + (free - 2) * P
