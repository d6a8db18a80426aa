"""mm/mmap.c: the VMA set of an address space and the calls that change it.

VMAs live twice, as in Linux 4.14: in a list sorted by address (vm_next,
vm_prev; mm.mmap is the first) for walking neighbours, and in a red-black
tree (mm.mm_rb) for O(log n) lookup.  The tree is augmented: each node keeps
rb_subtree_gap, the largest free gap just below any VMA in its subtree, so
get_unmapped_area() can find a hole of a given size in O(log n) too.

Errors are returned the way Linux returns them: a negative errno.
"""

import errno
import stat

from emu.arch import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE
from kernel.mm.overcommit import OVERCOMMIT_NEVER, policy, vm_enough_memory
from kernel.mm.mm import (
    VM_ACCOUNT, VM_DATA_DEFAULT_FLAGS, VM_EXEC, VM_GROWSDOWN, VM_LOCKED,
    VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NORESERVE, VM_READ,
    VM_SHARED, VM_STACK, VM_WRITE, calc_vm_flag_bits, calc_vm_prot_bits,
    vm_get_page_prot,
)
from kernel.cred import CAP_IPC_LOCK, CAP_SYS_RAWIO
from kernel.mm.mm_types import VmAreaStruct
from kernel.mm.rmap import AnonVma, anon_vma_chain_link, anon_vma_clone, unlink_anon_vmas
from kernel.mm.shmem import is_dev_zero, mapping_map_writable, mmap_zero
from kernel.mm.rbtree import (
    RbAugmentCallbacks, rb_erase_augmented, rb_insert_augmented, rb_link_node,
)
from kernel.uapi import (
    MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_FIXED_NOREPLACE,
    MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE,
    MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_TYPE, MAP_UNINITIALIZED,
    PROT_WRITE,
    RLIM_INFINITY, RLIMIT_AS, RLIMIT_DATA, RLIMIT_MEMLOCK, RLIMIT_STACK,
)

U64_MASK = (1 << 64) - 1

# include/linux/mman.h: the flags every MAP_SHARED has always accepted
# (MAP_SHARED_VALIDATE refuses the others with -EOPNOTSUPP).
LEGACY_MAP_MASK = (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE
                   | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED
                   | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB)

# mm/mmap.c: stack_guard_gap, 256 pages: no mapping may come this close
# below a stack (the 2017 "stack clash" fix, in 4.14).
STACK_GUARD_GAP = 256 << PAGE_SHIFT
# vm.max_map_count and vm.mmap_min_addr defaults.
DEFAULT_MAX_MAP_COUNT = 65530
MMAP_MIN_ADDR = 4096


def PAGE_ALIGN(x):
    return (x + PAGE_SIZE - 1) & PAGE_MASK


def offset_in_page(x):
    return x & (PAGE_SIZE - 1)


def is_err(value):
    """IS_ERR_VALUE(): a negative errno rather than an address."""
    return value < 0


# -- gaps and the augmented tree ----------------------------------------------

def vm_start_gap(vma):
    """include/linux/mm.h: vm_start_gap() — a stack's start, less its guard gap."""
    start = vma.vm_start
    if vma.vm_flags & VM_GROWSDOWN:
        start = start - STACK_GUARD_GAP if start > STACK_GUARD_GAP else 0
    return start


def vm_end_gap(vma):
    """include/linux/mm.h: vm_end_gap() — end (no VM_GROWSUP on arm64)."""
    return vma.vm_end


def vma_compute_subtree_gap(vma):
    """vma_compute_subtree_gap() — max of the gap below vma and its children's.

    vm_start_gap() and vm_end_gap() are written out: every mmap and munmap
    recomputes a dozen gaps (vma_gap_update up the tree, rotations)."""
    gap = vma.vm_start
    if vma.vm_flags & VM_GROWSDOWN:
        gap = gap - STACK_GUARD_GAP if gap > STACK_GUARD_GAP else 0
    prev = vma.vm_prev
    if prev is not None:
        prev_end = prev.vm_end          # vm_end_gap(): no VM_GROWSUP on arm64
        gap = gap - prev_end if gap > prev_end else 0
    left = vma.rb_left
    if left is not None and left.rb_subtree_gap > gap:
        gap = left.rb_subtree_gap
    right = vma.rb_right
    if right is not None and right.rb_subtree_gap > gap:
        gap = right.rb_subtree_gap
    return gap


def _vma_gap_propagate(vma, stop):
    """vma_gap_callbacks_propagate (RB_DECLARE_CALLBACKS): recompute the
    gaps from vma up to stop, ending early at one that is unchanged."""
    while vma is not stop:
        gap = vma_compute_subtree_gap(vma)
        if vma.rb_subtree_gap == gap:
            break
        vma.rb_subtree_gap = gap
        vma = vma.rb_parent


def _vma_gap_copy(old, new):
    """vma_gap_callbacks_copy: new takes old's place and its gap."""
    new.rb_subtree_gap = old.rb_subtree_gap


def _vma_gap_rotate(old, new):
    """vma_gap_callbacks_rotate: new roots old's subtree; old's gap is
    recomputed from its new children."""
    new.rb_subtree_gap = old.rb_subtree_gap
    old.rb_subtree_gap = vma_compute_subtree_gap(old)


# Written out rather than built by rb_declare_callbacks(): field access
# instead of getattr()/setattr() on the hot path of mmap and munmap.
vma_gap_callbacks = RbAugmentCallbacks(_vma_gap_propagate, _vma_gap_copy, _vma_gap_rotate)


def vma_gap_update(vma):
    """vma_gap_update() — vma's gap changed: recompute it and its ancestors'."""
    vma_gap_callbacks.propagate(vma, None)


# -- lookup -------------------------------------------------------------------

def find_vma(mm, addr):
    """find_vma() — the first VMA with addr < vm_end, or None.

    Linux keeps a small per-thread vmacache; we keep the last hit per mm
    (the pre-3.15 mmap_cache), which catches the runs of faults on one VMA.
    """
    vma = mm.mmap_cache
    if vma is not None and vma.vm_start <= addr < vma.vm_end:
        return vma
    node = mm.mm_rb.rb_node
    vma = None
    while node is not None:
        if node.vm_end > addr:
            vma = node
            if node.vm_start <= addr:
                break
            node = node.rb_left
        else:
            node = node.rb_right
    if vma is not None:
        mm.mmap_cache = vma
    return vma


def find_vma_prev(mm, addr):
    """find_vma_prev() — (find_vma(addr), the VMA before it or the last VMA)."""
    vma = find_vma(mm, addr)
    if vma is not None:
        return vma, vma.vm_prev
    node = mm.mm_rb.rb_node
    last = None
    while node is not None:
        last = node
        node = node.rb_right
    return None, last


def find_vma_intersection(mm, start, end):
    """find_vma_intersection() — the first VMA overlapping [start, end), or None."""
    vma = find_vma(mm, start)
    if vma is not None and end <= vma.vm_start:
        return None
    return vma


def find_vma_links(mm, addr, end):
    """find_vma_links() — where a VMA [addr, end) would go in the tree.

    Returns (prev, rb_parent, left) or None if [addr, end) overlaps a VMA
    (Linux returns -ENOMEM).  prev is the VMA that would precede it.
    """
    node = mm.mm_rb.rb_node
    parent = prev = None
    left = True
    while node is not None:
        parent = node
        if node.vm_end > addr:
            if node.vm_start < end:
                return None
            node = node.rb_left
            left = True
        else:
            prev = node
            node = node.rb_right
            left = False
    return prev, parent, left


# -- linking and unlinking ----------------------------------------------------

def __vma_link_list(mm, vma, prev):
    """__vma_link_list() — put vma after prev (or first) in the sorted list."""
    vma.vm_prev = prev
    if prev is not None:
        nxt = prev.vm_next
        prev.vm_next = vma
    else:
        nxt = mm.mmap
        mm.mmap = vma
    vma.vm_next = nxt
    if nxt is not None:
        nxt.vm_prev = vma


def __vma_link_rb(mm, vma, parent, left):
    """__vma_link_rb() — insert vma into the tree and fix the gaps around it."""
    nxt = vma.vm_next
    if nxt is not None:
        vma_gap_update(nxt)
    else:
        mm.highest_vm_end = vm_end_gap(vma)
    rb_link_node(vma, parent, left, mm.mm_rb)
    vma.rb_subtree_gap = 0
    vma_gap_update(vma)
    rb_insert_augmented(vma, mm.mm_rb, vma_gap_callbacks)


def vma_link(mm, vma, prev, parent, left):
    """vma_link() — link vma into list and tree (i_mmap linking omitted)."""
    __vma_link_list(mm, vma, prev)
    __vma_link_rb(mm, vma, parent, left)
    mm.map_count += 1
    trace = mm.kernel.trace
    if trace.vma:  # pragma: no mutate block (tracing only)
        trace.emit("vma_insert", mm=mm, vma=vma)
    stats = mm.kernel.stats
    if stats is not None:   # --stats: the VMAs peak
        stats.runtimes.vma_linked(mm)


def __insert_vm_struct(mm, vma):
    """__insert_vm_struct() — link a VMA whose range is known to be free."""
    links = find_vma_links(mm, vma.vm_start, vma.vm_end)
    if links is None:
        raise RuntimeError("__insert_vm_struct: %r overlaps" % vma)
    vma_link(mm, vma, *links)


def insert_vm_struct(mm, vma):
    """insert_vm_struct() — link vma; -ENOMEM if it overlaps an existing VMA.

    An anonymous VMA gets vm_pgoff = vm_start >> PAGE_SHIFT, as in Linux, so
    that it can later merge with its neighbours.
    """
    links = find_vma_links(mm, vma.vm_start, vma.vm_end)
    if links is None:
        return -errno.ENOMEM
    if vma.vm_file is None and vma.vm_flags & VM_SHARED == 0:
        vma.vm_pgoff = vma.vm_start >> PAGE_SHIFT
    vma_link(mm, vma, *links)
    return 0


def __vma_unlink(mm, vma):
    """__vma_unlink_prev() — remove vma from the tree and the list."""
    nxt = vma.vm_next
    prev = vma.vm_prev
    rb_erase_augmented(vma, mm.mm_rb, vma_gap_callbacks)
    if prev is not None:
        prev.vm_next = nxt
    else:
        mm.mmap = nxt
    if nxt is not None:
        nxt.vm_prev = prev
        vma_gap_update(nxt)
    else:
        mm.highest_vm_end = vm_end_gap(prev) if prev is not None else 0
    if mm.mmap_cache is vma:
        mm.mmap_cache = None
    mm.map_count -= 1


def _remove_merged(mm, vma):
    """The VMA a merge swallowed: unlink it, unchain it from its anon_vmas
    (anon_vma_merge(): the survivor has the same anon_vma) and drop its
    file (fput)."""
    __vma_unlink(mm, vma)
    unlink_anon_vmas(vma)
    if vma.vm_file is not None:
        vma.vm_file.put()
    trace = mm.kernel.trace
    if trace.vma:  # pragma: no mutate block (tracing only)
        trace.emit("vma_remove", mm=mm, vma=vma, reason="merged")


def __vma_adjust(mm, vma, start, end, pgoff, insert=None, expand=None):
    """__vma_adjust() — move vma's bounds to [start, end) at pgoff.

    The neighbours follow, as vma_merge() and split_vma() need:
      * VMAs after vma that [start, end) now covers are removed (merge
        cases 1, 6, 7);
      * a following VMA partly covered is trimmed from below (case 5);
      * with expand == the next VMA and end < vm_end, the next VMA grows
        down to end (case 4);
      * with expand == the next VMA and end reaching its end, vma itself is
        the one removed and the next VMA takes [start, end) (case 8);
      * `insert` (from split_vma) is linked into the space vma gives up.
    The VMA that takes over another's pages (the importer) is first given
    the exporter's anon_vma and chain, or those pages would lose their
    reverse mapping.  Omits: the i_mmap tree, uprobes, the locking.
    """
    nxt = vma.vm_next
    if insert is None and nxt is not None and expand is nxt and expand is not vma \
            and end >= nxt.vm_end:
        # Case 8: vma disappears into its successor, which takes its pages;
        # is_mergeable_anon_vma() let this happen only if the successor
        # already has vma's anon_vma (or vma has none).
        _remove_merged(mm, vma)
        nxt.vm_start = start
        nxt.vm_pgoff = pgoff
        vma_gap_update(nxt)
        return nxt
    removed = []
    while insert is None and nxt is not None and nxt.vm_end <= end and nxt is not vma:
        removed.append(nxt)
        nxt = nxt.vm_next
    if removed:                                         # cases 1, 6, 7
        # The first removed VMA exports its anon_vma, or (case 6) the one
        # after it if it has none.
        exporter = removed[0]
        if exporter.anon_vma is None and len(removed) > 1:
            exporter = removed[1]
        _import_anon_vma(vma, exporter)
    if insert is None and nxt is not None:
        if nxt.vm_start < end:                          # case 5: trim next
            _import_anon_vma(vma, nxt)
            nxt.vm_pgoff += (end - nxt.vm_start) >> PAGE_SHIFT
            nxt.vm_start = end
        elif expand is nxt and end < vma.vm_end:        # case 4: next grows down
            _import_anon_vma(nxt, vma)
            nxt.vm_pgoff -= (nxt.vm_start - end) >> PAGE_SHIFT
            nxt.vm_start = end
    for dead in removed:
        _remove_merged(mm, dead)
    vma.vm_start = start
    vma.vm_end = end
    vma.vm_pgoff = pgoff
    vma_gap_update(vma)
    if vma.vm_next is not None:
        vma_gap_update(vma.vm_next)
    else:
        mm.highest_vm_end = vm_end_gap(vma)
    if insert is not None:
        __insert_vm_struct(mm, insert)
    return vma


def _import_anon_vma(importer, exporter):
    """__vma_adjust()'s "easily overlooked" step: the VMA growing over
    another's pages takes its anon_vma and chain if it has none."""
    if exporter.anon_vma is not None and importer.anon_vma is None:
        importer.anon_vma = exporter.anon_vma
        anon_vma_clone(importer, exporter)


# -- merging and splitting ----------------------------------------------------

def is_mergeable_vma(vma, file, vm_flags):
    """is_mergeable_vma() — same flags and same file (the struct file, not the
    path), and no vm_ops->close (a SysV shm attach counts its VMAs)."""
    return vma.vm_flags == vm_flags and vma.vm_file is file and \
        not getattr(file, "vm_ops_close", False)


def is_mergeable_anon_vma(anon_vma1, anon_vma2, vma):
    """is_mergeable_anon_vma() — two set anon_vmas must be the same; an
    unset one merges with anything, except into a VMA (when one is given)
    whose chain is not exactly one anon_vma: a VMA a forked child inherited
    never grows by merging (nor does one that has no anon_vma at all)."""
    if (anon_vma1 is None or anon_vma2 is None) and (
            vma is None or len(vma.anon_vma_chain) == 1):
        return True
    return anon_vma1 is anon_vma2


def can_vma_merge_before(vma, vm_flags, anon_vma, file, vm_pgoff):
    """can_vma_merge_before() — may a region ending at vma.vm_start join vma?"""
    return (is_mergeable_vma(vma, file, vm_flags)
            and is_mergeable_anon_vma(anon_vma, vma.anon_vma, vma)
            and vma.vm_pgoff == vm_pgoff)


def can_vma_merge_after(vma, vm_flags, anon_vma, file, vm_pgoff):
    """can_vma_merge_after() — may a region starting at vma.vm_end join vma?"""
    if not (is_mergeable_vma(vma, file, vm_flags)
            and is_mergeable_anon_vma(anon_vma, vma.anon_vma, vma)):
        return False
    return vma.vm_pgoff + ((vma.vm_end - vma.vm_start) >> PAGE_SHIFT) == vm_pgoff


def vma_merge(mm, prev, addr, end, vm_flags, anon_vma, file, pgoff):
    """vma_merge() — make [addr, end) part of prev and/or the next VMA.

    The region either is new (a hole between prev and next: cases 1-3) or
    is exactly the part of an existing VMA being changed (mprotect: cases
    4-8).  Returns the VMA now covering [addr, end), or None if nothing
    could merge.  Omits: mempolicy and userfaultfd contexts (always equal).
    """
    nxt = prev.vm_next if prev is not None else mm.mmap
    area = nxt
    if area is not None and area.vm_end == end:     # cases 6, 7, 8
        nxt = nxt.vm_next
    pglen = (end - addr) >> PAGE_SHIFT
    trace = mm.kernel.trace

    if prev is not None and prev.vm_end == addr and \
            can_vma_merge_after(prev, vm_flags, anon_vma, file, pgoff):
        if nxt is not None and end == nxt.vm_start and \
                can_vma_merge_before(nxt, vm_flags, anon_vma, file, pgoff + pglen) and \
                is_mergeable_anon_vma(prev.anon_vma, nxt.anon_vma, None):
            case = "1" if area is nxt else "6"  # pragma: no mutate (tracing)
            __vma_adjust(mm, prev, prev.vm_start, nxt.vm_end, prev.vm_pgoff, expand=prev)
        else:
            case = "2/5/7"  # pragma: no mutate (tracing)
            __vma_adjust(mm, prev, prev.vm_start, end, prev.vm_pgoff, expand=prev)
        if trace.vma:  # pragma: no mutate block (tracing only)
            trace.emit("vma_merge", mm=mm, vma=prev, case=case, start=addr, end=end)
        return prev

    if nxt is not None and end == nxt.vm_start and \
            can_vma_merge_before(nxt, vm_flags, anon_vma, file, pgoff + pglen):
        if prev is not None and addr < prev.vm_end:   # case 4
            __vma_adjust(mm, prev, prev.vm_start, addr, prev.vm_pgoff, expand=nxt)
            case = "4"  # pragma: no mutate (tracing)
        else:                                          # cases 3, 8
            __vma_adjust(mm, area, addr, nxt.vm_end, nxt.vm_pgoff - pglen, expand=nxt)
            case = "3/8"  # pragma: no mutate (tracing)
        if trace.vma:  # pragma: no mutate block (tracing only)
            trace.emit("vma_merge", mm=mm, vma=nxt, case=case, start=addr, end=end)
        return nxt
    return None


def __split_vma(mm, vma, addr, new_below):
    """__split_vma() — cut vma at addr; the new VMA takes the part below
    (new_below) or above addr.  Returns 0 (no failure mode without memory
    policies)."""
    new = vma.copy()
    anon_vma_clone(new, vma)
    if new.vm_file is not None:
        new.vm_file.get()
    if new_below:
        new.vm_end = addr
        __vma_adjust(mm, vma, addr, vma.vm_end,
                     vma.vm_pgoff + ((addr - new.vm_start) >> PAGE_SHIFT), insert=new)
    else:
        new.vm_start = addr
        new.vm_pgoff += (addr - vma.vm_start) >> PAGE_SHIFT
        __vma_adjust(mm, vma, vma.vm_start, addr, vma.vm_pgoff, insert=new)
    trace = mm.kernel.trace
    if trace.vma:  # pragma: no mutate block (tracing only)
        trace.emit("vma_split", mm=mm, vma=vma, new=new, addr=addr)
    return 0


def vma_modify(mm, vma, prev, start, end, vm_flags):
    """The VMA that will cover exactly [start, end) of vma once it has
    vm_flags: a neighbour it merges into (vma_merge), or vma split at start
    and end.  Returns (0, that VMA) or (-ENOMEM, vma) if a split is refused.
    (The common part of mprotect_fixup() and mlock_fixup(); Linux 6.x calls
    it vma_modify_flags().)"""
    pgoff = vma.vm_pgoff + ((start - vma.vm_start) >> PAGE_SHIFT)
    merged = vma_merge(mm, prev, start, end, vm_flags, vma.anon_vma, vma.vm_file, pgoff)
    if merged is not None:
        return 0, merged
    if start != vma.vm_start:
        err = split_vma(mm, vma, start, 1)
        if err:
            return err, vma
    if end != vma.vm_end:
        err = split_vma(mm, vma, end, 0)
        if err:
            return err, vma
    return 0, vma


def vma_spans(mm, start, end):
    """The VMAs over [start, end) as (vma, from, to) pieces, and whether part
    of the range is unmapped (madvise and msync then report -ENOMEM after
    doing the mapped parts)."""
    spans = []
    covered = start
    unmapped = False
    vma = find_vma(mm, start)
    while vma is not None and vma.vm_start < end:
        lo = max(start, vma.vm_start)
        unmapped |= lo > covered
        spans.append((vma, lo, min(end, vma.vm_end)))
        covered = vma.vm_end
        vma = vma.vm_next
    return spans, unmapped or covered < end


def split_vma(mm, vma, addr, new_below):
    """split_vma() — __split_vma() unless the map count is at its limit (-ENOMEM)."""
    if mm.map_count >= mm.kernel.max_map_count:
        return -errno.ENOMEM
    return __split_vma(mm, vma, addr, new_below)


def anon_vma_prepare(vma):
    """anon_vma_prepare() — give vma an anon_vma before its first anonymous
    page: a neighbour's it could merge with (find_mergeable_anon_vma), else
    a new one, which counts the vma and its own self-parent link in its
    degree.  (mm/rmap.c's; here beside find_mergeable_anon_vma.)"""
    if vma.anon_vma is not None:
        return
    anon_vma = find_mergeable_anon_vma(vma)
    if anon_vma is None:
        anon_vma = AnonVma()
    vma.anon_vma = anon_vma
    anon_vma_chain_link(vma, anon_vma)
    anon_vma.degree += 1


def find_mergeable_anon_vma(vma):
    """find_mergeable_anon_vma() — the next VMA's anon_vma, else the
    previous one's, if that VMA could merge with vma (reusable_anon_vma():
    compatible and chained to that anon_vma alone); else None."""
    for near in (vma.vm_next, vma.vm_prev):
        if near is not None and near.anon_vma is not None and \
                len(near.anon_vma_chain) == 1 and anon_vma_compatible(vma, near):
            return near.anon_vma
    return None


def anon_vma_compatible(a, b):
    """anon_vma_compatible() — adjacent, same file, same flags but rwx, pgoff contiguous."""
    if a.vm_start > b.vm_start:
        a, b = b, a
    ignore = VM_READ | VM_WRITE | VM_EXEC
    return (a.vm_end == b.vm_start and a.vm_file is b.vm_file
            and (a.vm_flags ^ b.vm_flags) & ~ignore == 0
            and b.vm_pgoff == a.vm_pgoff + ((b.vm_start - a.vm_start) >> PAGE_SHIFT))


# -- accounting ----------------------------------------------------------------

def is_data_mapping(flags):
    """is_data_mapping() — private writable, not stack."""
    return flags & (VM_WRITE | VM_SHARED | VM_STACK) == VM_WRITE


def is_exec_mapping(flags):
    return flags & (VM_WRITE | VM_EXEC | VM_STACK) == VM_EXEC


def is_stack_mapping(flags):
    return flags & VM_STACK == VM_STACK


def vma_wants_writenotify(vma):
    """vma_wants_writenotify() — a shared writable mapping of a real file
    must see each first write to a clean page (dirty tracking without a
    hardware dirty bit)."""
    file = vma.vm_file
    return (vma.vm_flags & (VM_SHARED | VM_WRITE) == VM_SHARED | VM_WRITE
            and file is not None and file.mapping is not None
            and file.mapping.host_fd is not None)


def vma_set_page_prot(vma):
    """vma_set_page_prot() — the pte template; read-only when writes must be noticed."""
    flags = vma.vm_flags
    if vma_wants_writenotify(vma):
        flags &= ~VM_SHARED
    vma.vm_page_prot = vm_get_page_prot(flags)


def vm_stat_account(mm, flags, npages):
    """vm_stat_account() — total_vm, exec_vm, stack_vm, data_vm."""
    mm.total_vm += npages
    if is_exec_mapping(flags):
        mm.exec_vm += npages
    elif is_stack_mapping(flags):
        mm.stack_vm += npages
    elif is_data_mapping(flags):
        mm.data_vm += npages
    if mm.total_vm > mm.hiwater_vm:
        mm.hiwater_vm = mm.total_vm


def capable_ipc_lock(mm):
    """capable(CAP_IPC_LOCK) of the guest's credentials (those of the mm's
    owner: a thread that changed its own cred alone is not told apart)."""
    return mm.kernel.mm_capable(mm, CAP_IPC_LOCK)


def mlock_future_check(mm, flags, length):
    """mlock_future_check() — a VM_LOCKED mapping of length (MAP_LOCKED, or
    any mapping after mlockall(MCL_FUTURE)) must fit in RLIMIT_MEMLOCK with
    what is locked already: 0 or -EAGAIN."""
    if flags & VM_LOCKED and not capable_ipc_lock(mm):
        limit = mm.kernel.current_rlimits(mm)[RLIMIT_MEMLOCK][0] >> PAGE_SHIFT
        if (length >> PAGE_SHIFT) + mm.locked_vm > limit:
            return -errno.EAGAIN
    return 0


def may_expand_vm(mm, flags, npages):
    """may_expand_vm() — RLIMIT_AS, and RLIMIT_DATA for data mappings."""
    limits = mm.kernel.current_rlimits(mm)
    if mm.total_vm + npages > limits[RLIMIT_AS][0] >> PAGE_SHIFT:
        return False
    if is_data_mapping(flags) and mm.data_vm + npages > limits[RLIMIT_DATA][0] >> PAGE_SHIFT:
        # Valgrind sets RLIMIT_DATA to 0 and still maps data below the hard limit.
        return limits[RLIMIT_DATA][0] == 0 and \
            mm.data_vm + npages <= limits[RLIMIT_DATA][1] >> PAGE_SHIFT
    return True


# -- get_unmapped_area -----------------------------------------------------------

def unmapped_area_topdown(mm, length, low_limit, high_limit):
    """unmapped_area_topdown() — the highest hole of `length` in
    [low_limit, high_limit), found through rb_subtree_gap; -ENOMEM if none."""
    if high_limit < length:
        return -errno.ENOMEM
    top = high_limit - length
    if low_limit > top:
        return -errno.ENOMEM
    low_end = low_limit + length

    # The gap above the highest VMA is in no node's rb_subtree_gap.
    gap_start = mm.highest_vm_end
    if gap_start <= top:
        return high_limit - length

    vma = mm.mm_rb.rb_node
    if vma is None or vma.rb_subtree_gap < length:
        return -errno.ENOMEM
    while True:
        # Right subtree first: it holds the higher addresses.
        gap_start = vm_end_gap(vma.vm_prev) if vma.vm_prev is not None else 0
        right = vma.rb_right
        if gap_start <= top and right is not None and right.rb_subtree_gap >= length:
            vma = right
            continue
        while True:
            # The gap just below the current VMA.
            gap_end = vm_start_gap(vma)
            if gap_end < low_end:
                return -errno.ENOMEM
            if gap_start <= top and gap_end > gap_start and gap_end - gap_start >= length:
                return min(gap_end, high_limit) - length
            left = vma.rb_left
            if left is not None and left.rb_subtree_gap >= length:
                vma = left
                break
            # Climb until we arrive from a right child: its parent is next.
            while True:
                parent = vma.rb_parent
                if parent is None:
                    return -errno.ENOMEM
                came_from_right = parent.rb_right is vma
                vma = parent
                if came_from_right:
                    break
            gap_start = vm_end_gap(vma.vm_prev) if vma.vm_prev is not None else 0


def arch_get_unmapped_area_topdown(mm, addr, length, flags):
    """arch_get_unmapped_area_topdown() — the hint if free, else top-down search.

    Omits the bottom-up fallback: the top-down search already spans
    [PAGE_SIZE, mmap_base), and the fallback would only add the sliver
    between mmap_base and the stack.
    """
    if length > mm.task_size - MMAP_MIN_ADDR:
        return -errno.ENOMEM
    if flags & MAP_FIXED:
        return addr
    if addr:
        addr = PAGE_ALIGN(addr)
        vma, prev = find_vma_prev(mm, addr)
        if (mm.task_size - length >= addr and addr >= MMAP_MIN_ADDR
                and (vma is None or addr + length <= vm_start_gap(vma))
                and (prev is None or addr >= vm_end_gap(prev))):
            return addr
    low_limit = max(PAGE_SIZE, MMAP_MIN_ADDR)
    addr = unmapped_area_topdown(mm, length, low_limit, mm.mmap_base)
    trace = mm.kernel.trace
    if trace.vma:  # pragma: no mutate block (tracing only)
        # vm_unmapped_area()'s tracepoint (mmap:vm_unmapped_area, Linux 5.8)
        trace.emit("vm_unmapped_area", mm=mm, addr=addr, length=length,
                   low_limit=low_limit, high_limit=mm.mmap_base)
    return addr


def get_unmapped_area(mm, file, addr, length, pgoff, flags):
    """get_unmapped_area() — where a new mapping of `length` bytes may go."""
    if length > mm.task_size:
        return -errno.ENOMEM
    addr = arch_get_unmapped_area_topdown(mm, addr, length, flags)
    if is_err(addr):
        return addr
    if addr > mm.task_size - length:
        return -errno.ENOMEM
    if offset_in_page(addr):
        return -errno.EINVAL
    if addr < MMAP_MIN_ADDR and not mm.kernel.mm_capable(mm, CAP_SYS_RAWIO):
        return -errno.EPERM             # security_mmap_addr(): needs CAP_SYS_RAWIO
    return addr


# -- mmap ------------------------------------------------------------------------

def round_hint_to_min(hint):
    """round_hint_to_min() — a hint is page-aligned down and kept above
    mmap_min_addr (NULL stays NULL: no hint)."""
    hint &= PAGE_MASK
    if hint and hint < MMAP_MIN_ADDR:
        return PAGE_ALIGN(MMAP_MIN_ADDR)
    return hint


# include/linux/fs.h: the largest file offset on a 64-bit kernel (LLONG_MAX).
MAX_LFS_FILESIZE = (1 << 63) - 1


def file_mmap_ok(file, pgoff, length):
    """file_mmap_ok() + file_mmap_size_max() — does [pgoff, pgoff+len) stay
    within the largest offset the file can have?  Added by be83bbf80682
    ("mmap: introduce sane default mmap limits", 4.17) and relaxed to
    MAX_LFS_FILESIZE for regular files by 423913ad4ae5; both are in 4.14.y.
    Only regular files reach here with a limit: the other kinds a53emu can
    open fail the mmap with -ENODEV, and ULONG_MAX never binds."""
    if not stat.S_ISREG(file.mode):
        return True
    maxsize = MAX_LFS_FILESIZE
    if length > maxsize:
        return False
    return pgoff <= (maxsize - length) >> PAGE_SHIFT


def do_mmap(mm, file, addr, length, prot, flags, pgoff):
    """do_mmap() — validate, choose the address, compute vm_flags, map.

    `file` is a kernel File (or None for anonymous).  Returns the address
    or a negative errno; MAP_POPULATE/MAP_LOCKED prefault here as
    mm_populate() would.  Omits: personality READ_IMPLIES_EXEC, pkeys,
    the file-system mmap hooks beyond "can this file be mapped".
    """
    if flags & MAP_FIXED_NOREPLACE:
        flags |= MAP_FIXED
    if not length:
        return -errno.EINVAL
    if not flags & MAP_FIXED:
        addr = round_hint_to_min(addr)
    length = PAGE_ALIGN(length)
    if not length or length > mm.task_size:
        return -errno.ENOMEM
    if pgoff + (length >> PAGE_SHIFT) >= 1 << (64 - PAGE_SHIFT):
        return -errno.EOVERFLOW
    if mm.map_count > mm.kernel.max_map_count:
        return -errno.ENOMEM

    addr = get_unmapped_area(mm, file, addr, length, pgoff, flags)
    if is_err(addr):
        return addr
    if flags & MAP_FIXED_NOREPLACE and find_vma_intersection(mm, addr, addr + length):
        return -errno.EEXIST

    vm_flags = (calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | mm.def_flags
                | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC)
    if flags & MAP_LOCKED and not capable_ipc_lock(mm) and \
            not mm.kernel.current_rlimits(mm)[RLIMIT_MEMLOCK][0]:
        return -errno.EPERM                             # can_do_mlock()
    if mlock_future_check(mm, vm_flags, length):
        return -errno.EAGAIN
    map_type = flags & MAP_TYPE
    if file is not None:
        if not file_mmap_ok(file, pgoff, length):
            return -errno.EOVERFLOW
        if map_type == MAP_SHARED:
            flags &= LEGACY_MAP_MASK            # MAP_SHARED ignores newer flags
        if map_type in (MAP_SHARED, MAP_SHARED_VALIDATE):
            if flags & ~LEGACY_MAP_MASK:
                return -errno.EOPNOTSUPP
            if prot & PROT_WRITE and not file.writable:
                return -errno.EACCES
            vm_flags |= VM_SHARED | VM_MAYSHARE
            if not file.writable:
                vm_flags &= ~(VM_MAYWRITE | VM_SHARED)
        elif map_type != MAP_PRIVATE:
            return -errno.EINVAL
        if not file.readable:
            return -errno.EACCES
        if not file.mmap_capable and not is_dev_zero(file):
            return -errno.ENODEV
        if vm_flags & VM_GROWSDOWN:
            return -errno.EINVAL
    else:
        if map_type == MAP_SHARED:
            if vm_flags & VM_GROWSDOWN:
                return -errno.EINVAL
            pgoff = 0
            vm_flags |= VM_SHARED | VM_MAYSHARE
        elif map_type == MAP_PRIVATE:
            pgoff = addr >> PAGE_SHIFT
        else:
            return -errno.EINVAL
    if flags & MAP_NORESERVE:
        # MAP_NORESERVE is honoured only where overcommit is allowed.
        if policy(mm.kernel).memory != OVERCOMMIT_NEVER:
            vm_flags |= VM_NORESERVE

    addr = mmap_region(mm, file, addr, length, vm_flags, pgoff)
    if not is_err(addr) and (vm_flags & VM_LOCKED
                             or flags & (MAP_POPULATE | MAP_NONBLOCK) == MAP_POPULATE):
        mm.kernel.mm_populate(mm, addr, length)
    return addr


def mmap_region(mm, file, addr, length, vm_flags, pgoff):
    """mmap_region() — clear what was at [addr, addr+len), then merge or link.

    Returns addr or a negative errno.  A private writable mapping
    (accountable_mapping) is charged to the overcommit policy and marked
    VM_ACCOUNT (kernel/mm/overcommit.py).  Omits: file mmap hooks.
    """
    npages = length >> PAGE_SHIFT
    if not may_expand_vm(mm, vm_flags, npages):
        overlap = count_vma_pages_range(mm, addr, addr + length)
        if not may_expand_vm(mm, vm_flags, npages - overlap):
            return -errno.ENOMEM
    links = munmap_vma_range(mm, addr, length)
    if links is None:
        return -errno.ENOMEM
    prev, parent, left = links
    if file is not None and vm_flags & VM_SHARED:
        err = mapping_map_writable(file)
        if err:
            return err
    if vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE) == VM_WRITE:   # accountable_mapping()
        if vm_enough_memory(mm.kernel, npages, mm):         # security_vm_enough_memory_mm()
            return -errno.ENOMEM
        vm_flags |= VM_ACCOUNT

    vma = vma_merge(mm, prev, addr, addr + length, vm_flags, None, file, pgoff)
    if vma is None:
        vma = VmAreaStruct(mm, addr, addr + length, vm_flags, vm_get_page_prot(vm_flags),
                           pgoff, file)
        if file is not None:
            file.get()
            if is_dev_zero(file):
                mmap_zero(vma)              # file->f_op->mmap()
        elif vm_flags & VM_SHARED:
            mm.kernel.shmem_zero_setup(vma)
        vma_set_page_prot(vma)
        vma_link(mm, vma, prev, parent, left)
    vm_stat_account(mm, vm_flags, npages)
    if vm_flags & VM_LOCKED:
        mm.locked_vm += npages
    return addr


def munmap_vma_range(mm, addr, length):
    """munmap_vma_range() (Linux 5.x's name for the loop 4.14 writes out twice):
    clear whatever maps [addr, addr+len) and return where a new VMA links in
    (find_vma_links), or None if the unmap failed."""
    while True:
        links = find_vma_links(mm, addr, addr + length)
        if links is not None:
            return links
        if do_munmap(mm, addr, length):
            return None


def count_vma_pages_range(mm, addr, end):
    """count_vma_pages_range() — pages of [addr, end) already mapped."""
    vma = find_vma_intersection(mm, addr, end)
    pages = 0
    while vma is not None and vma.vm_start < end:
        pages += (min(end, vma.vm_end) - max(addr, vma.vm_start)) >> PAGE_SHIFT
        vma = vma.vm_next
    return pages


# -- munmap ------------------------------------------------------------------------

def do_munmap(mm, start, length):
    """do_munmap() — unmap [start, start+len), splitting VMAs at the edges.

    Returns 0 or a negative errno (EINVAL for a bad range, ENOMEM if a split
    would pass max_map_count).
    """
    if offset_in_page(start) or start > mm.task_size or length > mm.task_size - start:
        return -errno.EINVAL
    length = PAGE_ALIGN(length)
    if length == 0:
        return -errno.EINVAL
    end = start + length
    vma = find_vma(mm, start)
    if vma is None or vma.vm_start >= end:
        return 0
    prev = vma.vm_prev
    if start > vma.vm_start:
        if end < vma.vm_end and mm.map_count >= mm.kernel.max_map_count:
            return -errno.ENOMEM
        err = __split_vma(mm, vma, start, 0)
        if err:
            return err
        prev = vma
    last = find_vma(mm, end)
    if last is not None and end > last.vm_start:
        err = __split_vma(mm, last, end, 1)
        if err:
            return err
    vma = prev.vm_next if prev is not None else mm.mmap

    # detach_vmas_to_be_unmapped(): every VMA now lies wholly inside or outside.
    detached = []
    while vma is not None and vma.vm_start < end:
        detached.append(vma)
        vma = vma.vm_next
    for v in detached:
        if v.vm_flags & VM_LOCKED:
            mm.locked_vm -= (v.vm_end - v.vm_start) >> PAGE_SHIFT
        __vma_unlink(mm, v)
    unmap_region(mm, detached, prev, start, end)
    for v in detached:
        remove_vma(mm, v)
    return 0


def unmap_region(mm, vmas, prev, start, end):
    """unmap_region() — zap the pages of the detached VMAs, free the tables
    that mapped only them, and flush the TLBs."""
    kernel = mm.kernel
    for v in vmas:
        kernel.zap_vma_range(v, v.vm_start, v.vm_end)
    nxt = prev.vm_next if prev is not None else mm.mmap
    floor = prev.vm_end if prev is not None else 0
    ceiling = nxt.vm_start if nxt is not None else mm.task_size
    kernel.pgtable.free_pgd_range(mm, start, end, floor, ceiling)
    kernel.tlb.flush_tlb_range(mm, start, end)


def remove_vma(mm, vma):
    """remove_vma() — account the VMA's pages away, unchain it from its
    anon_vmas (free_pgtables()'s unlink_anon_vmas) and drop its file."""
    vm_stat_account(mm, vma.vm_flags, -((vma.vm_end - vma.vm_start) >> PAGE_SHIFT))
    unlink_anon_vmas(vma)
    trace = mm.kernel.trace
    if trace.vma:  # pragma: no mutate block (tracing only)
        trace.emit("vma_remove", mm=mm, vma=vma, reason="unmapped")
    if vma.vm_file is not None:
        vma.vm_file.put()


# -- brk -------------------------------------------------------------------------------

def do_brk_flags(mm, addr, request, flags=0):
    """do_brk_flags() — a private anonymous rw- mapping at [addr, addr+len),
    merged into the heap VMA when it can be.  Returns 0 or a negative errno."""
    length = PAGE_ALIGN(request)
    if length < request:
        return -errno.ENOMEM
    if not length:
        return 0
    flags |= VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT | mm.def_flags
    err = get_unmapped_area(mm, None, addr, length, 0, MAP_FIXED)
    if is_err(err):
        return err
    err = mlock_future_check(mm, mm.def_flags, length)
    if err:
        return err
    links = munmap_vma_range(mm, addr, length)
    if links is None:
        return -errno.ENOMEM
    if not may_expand_vm(mm, flags, length >> PAGE_SHIFT):
        return -errno.ENOMEM
    if mm.map_count > mm.kernel.max_map_count:
        return -errno.ENOMEM
    if vm_enough_memory(mm.kernel, length >> PAGE_SHIFT, mm):     # security_vm_enough_memory_mm()
        return -errno.ENOMEM
    prev, parent, left = links
    pgoff = addr >> PAGE_SHIFT
    vma = vma_merge(mm, prev, addr, addr + length, flags, None, None, pgoff)
    if vma is None:
        vma = VmAreaStruct(mm, addr, addr + length, flags, vm_get_page_prot(flags), pgoff)
        vma_link(mm, vma, prev, parent, left)
    mm.total_vm += length >> PAGE_SHIFT
    mm.data_vm += length >> PAGE_SHIFT
    if mm.total_vm > mm.hiwater_vm:
        mm.hiwater_vm = mm.total_vm
    if flags & VM_LOCKED:
        mm.locked_vm += length >> PAGE_SHIFT
    return 0


def sys_brk(mm, brk):
    """SYSCALL_DEFINE1(brk) — move the program break; returns the new break,
    or the unchanged one on any failure (brk never returns an errno).

    With CONFIG_COMPAT_BRK and no brk randomisation the break may not go
    below the end of the data segment; shrinking always succeeds and unmaps.
    """
    min_brk = mm.end_data
    if brk < min_brk:
        return mm.brk
    limit = mm.kernel.current_rlimits(mm)[RLIMIT_DATA][0]
    if limit < RLIM_INFINITY and \
            (brk - mm.start_brk + mm.end_data - mm.start_data) & U64_MASK > limit:
        return mm.brk                                   # check_data_rlimit()
    newbrk = PAGE_ALIGN(brk)
    oldbrk = PAGE_ALIGN(mm.brk)
    if oldbrk != newbrk:
        if brk <= mm.brk:
            if do_munmap(mm, newbrk, oldbrk - newbrk):
                return mm.brk
        else:
            nxt = find_vma(mm, oldbrk)
            if nxt is not None and newbrk + PAGE_SIZE > vm_start_gap(nxt):
                return mm.brk
            if do_brk_flags(mm, oldbrk, newbrk - oldbrk) < 0:
                return mm.brk
    mm.brk = brk
    if newbrk > oldbrk and mm.def_flags & VM_LOCKED:
        mm.kernel.mm_populate(mm, oldbrk, newbrk - oldbrk)     # mlockall(MCL_FUTURE)
    return brk


# -- exit -----------------------------------------------------------------------------

def exit_mmap(mm):
    """exit_mmap() — tear the whole address space down: pages, VMAs, tables."""
    kernel = mm.kernel
    vma = mm.mmap
    while vma is not None:
        kernel.zap_vma_range(vma, vma.vm_start, vma.vm_end)
        vma = vma.vm_next
    kernel.pgtable.free_pgd_range(mm, 0, mm.task_size, 0, mm.task_size)
    kernel.tlb.flush_tlb_mm(mm)
    vma = mm.mmap
    while vma is not None:
        nxt = vma.vm_next
        if vma.vm_file is not None:
            vma.vm_file.put()
        vma = nxt
    mm.mmap = None
    mm.mm_rb.rb_node = None
    mm.mmap_cache = None
    mm.map_count = 0
    kernel.pgtable.free_pgd(mm)


# -- stack growth -----------------------------------------------------------------------

def expand_stack(vma, address):
    """expand_downwards() — grow a VM_GROWSDOWN vma down to cover address.

    Refuses (-ENOMEM) to come within stack_guard_gap of the mapping below,
    to pass RLIMIT_STACK, or to pass RLIMIT_AS.  Returns 0 on success.
    """
    mm = vma.vm_mm
    address &= PAGE_MASK
    anon_vma_prepare(vma)           # the grown part's pages belong to the stack's anon_vma
    prev = vma.vm_prev
    if prev is not None and not prev.vm_flags & VM_GROWSDOWN \
            and prev.vm_flags & (VM_READ | VM_WRITE | VM_EXEC):
        if address - prev.vm_end < STACK_GUARD_GAP:
            return -errno.ENOMEM
    if address < MMAP_MIN_ADDR:
        return -errno.EPERM
    if address >= vma.vm_start:
        return 0
    size = vma.vm_end - address
    grow = (vma.vm_start - address) >> PAGE_SHIFT
    if grow > vma.vm_pgoff:
        return -errno.ENOMEM
    # acct_stack_growth()
    if size > mm.kernel.current_rlimits(mm)[RLIMIT_STACK][0]:
        return -errno.ENOMEM
    if not may_expand_vm(mm, vma.vm_flags, grow):
        return -errno.ENOMEM
    if vm_enough_memory(mm.kernel, grow, mm):          # security_vm_enough_memory_mm()
        return -errno.ENOMEM
    if vma.vm_flags & VM_LOCKED:
        mm.locked_vm += grow
    vm_stat_account(mm, vma.vm_flags, grow)
    vma.vm_start = address
    vma.vm_pgoff -= grow
    vma_gap_update(vma)
    trace = mm.kernel.trace
    if trace.vma:  # pragma: no mutate block (tracing only)
        trace.emit("vma_expand", mm=mm, vma=vma)
    return 0
