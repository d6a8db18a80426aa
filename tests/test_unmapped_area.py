"""unmapped_area_topdown() (kernel/mm/mmap.py) against a brute-force search.

Linux 4.14's rule: the highest gap between VMAs that holds `length` bytes
inside [low_limit, high_limit), placed as high as it can be.  (No stacks
here: with a guard gap reaching below lower VMAs, Linux's descent may stop
early, a quirk only the algorithm itself describes; test_vma.py covers
the guard gap.)  Windows cut through
the layout, so that the rb_subtree_gap descent must skip gaps above
high_limit and climb back up the tree, and exact fits must be found.
"""

import errno
import random

from kernel.mm.mmap import unmapped_area_topdown, vm_end_gap, vm_start_gap
from kernel.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ
from test_vma import B, P, Env, check_mm


def brute(mm, length, low, high):
    if high < length or low > high - length:
        return -errno.ENOMEM
    top = high - length
    gaps = []
    prev_end = 0
    for vma in mm.vmas():
        gaps.append((prev_end, vm_start_gap(vma)))
        prev_end = vm_end_gap(vma)
    gaps.append((prev_end, 1 << 64))
    for start, end in reversed(gaps):
        if end < low + length:
            return -errno.ENOMEM
        if start <= top and end > start and end - start >= length:
            return min(end, high) - length
    return -errno.ENOMEM


def layout(seed):
    env = Env()
    rnd = random.Random(seed)
    addr = B
    for i in range(rnd.randrange(1, 40)):
        addr += rnd.choice((0, 1, 1, 2, 3, 5, 8)) * P
        npages = rnd.randrange(1, 4)
        flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
        prot = PROT_READ if i % 2 else PROT_READ | 4
        assert env.mmap(addr, npages, prot, flags) == addr
        addr += npages * P
    return env, addr


def test_matches_brute_force_over_windows():
    for seed in range(30):
        env, end = layout(seed)
        mm = env.mm
        check_mm(mm)
        rnd = random.Random(seed + 1000)
        for _ in range(25):
            low = B - 4 * P + rnd.randrange(0, (end - B) // P + 8) * P
            high = low + rnd.randrange(0, (end - B) // P + 8) * P
            length = rnd.randrange(1, 9) * P
            want = brute(mm, length, low, high)
            got = unmapped_area_topdown(mm, length, low, high)
            assert got == want, (seed, hex(low), hex(high), length // P)


def test_exact_fit_and_limits():
    env = Env()
    env.mmap(B, 1)
    env.mmap(B + 3 * P, 1)                            # a hole of exactly two pages
    env.mmap(B + 6 * P, 1)
    mm = env.mm
    assert unmapped_area_topdown(mm, 2 * P, B, B + 3 * P) == B + P
    assert unmapped_area_topdown(mm, 3 * P, B, B + 6 * P) == -errno.ENOMEM
    assert unmapped_area_topdown(mm, 2 * P, B, P) == -errno.ENOMEM      # high < length
    assert unmapped_area_topdown(mm, 2 * P, B + 5 * P, B + 6 * P) == -errno.ENOMEM


def test_exact_fit_is_the_largest_gap():
    env = Env()
    env.mmap(P, 1)                                    # the gap below it: one page
    env.mmap(4 * P, 1)                                # [2P, 4P): two pages
    env.mmap(5 * P, 1)
    mm = env.mm
    assert unmapped_area_topdown(mm, 2 * P, P, 5 * P) == 2 * P
    assert unmapped_area_topdown(mm, 3 * P, P, 5 * P) == -errno.ENOMEM
    assert unmapped_area_topdown(mm, P, P, 5 * P) == 3 * P
