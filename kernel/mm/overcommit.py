"""mm/util.c: __vm_enough_memory() — may a mapping of `pages` pages be
committed?  Only the default policy, OVERCOMMIT_GUESS (vm.overcommit_memory
= 0), whose 4.14 heuristic refuses a single request larger than what could
be made free: the free frames plus the page cache (the board has no swap
and no slab to reclaim; shmem pages live in the same cache and are counted
with it, where 4.14 subtracts NR_SHMEM).  Nothing is charged: the guess
policy keeps no running total (vm_committed_as only matters to
OVERCOMMIT_NEVER, which the board does not offer).

Omits totalreserve_pages and the admin reserve (a few MiB).  Later kernels
(5.x) compare with total RAM + swap instead of what is free; either way a
request larger than the board's RAM fails.
"""

import errno


def vm_enough_memory(kernel, pages):
    """__vm_enough_memory(mm, pages, cap_sys_admin) under OVERCOMMIT_GUESS:
    0, or -ENOMEM when pages exceeds the free frames plus the page cache."""
    free = kernel.pages.nr_free
    free += sum(len(m.pages) for m in kernel.page_cache.values())
    if free > pages:
        return 0
    return -errno.ENOMEM
