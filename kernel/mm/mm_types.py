"""include/linux/mm_types.h: struct mm_struct and struct vm_area_struct.

Only the 4.14 fields that carry meaning here are kept; each keeps its Linux
name so a reader can hold this file next to the C one.  A VMA *is* its
red-black node (Linux embeds `struct rb_node vm_rb`; subclassing makes
rb_entry() the identity), so `vma.vm_rb` is just the VMA itself.
"""

from emu.arch import TTBR_ASID_SHIFT
from kernel.mm.rbtree import RbNode, RbRoot

# include/linux/sched/coredump.h: the coredump_filter bits a new mm starts
# with (anonymous private and shared memory, ELF headers, private hugetlb).
MMF_DUMP_FILTER_DEFAULT = 0x33


class VmAreaStruct(RbNode):
    """struct vm_area_struct: one virtual memory area [vm_start, vm_end)."""

    __slots__ = ("vm_start", "vm_end", "vm_next", "vm_prev", "rb_subtree_gap",
                 "vm_mm", "vm_page_prot", "vm_flags", "vm_pgoff", "vm_file",
                 "anon_vma", "anon_vma_chain", "vm_private_data")

    def __init__(self, mm, start, end, flags, page_prot, pgoff=0, file=None):
        self.rb_parent = self.rb_left = self.rb_right = None
        self.rb_red = True
        self.vm_start = start
        self.vm_end = end
        self.vm_next = self.vm_prev = None
        self.rb_subtree_gap = 0
        self.vm_mm = mm
        self.vm_page_prot = page_prot
        self.vm_flags = flags
        self.vm_pgoff = pgoff
        self.vm_file = file
        # The anon_vma this VMA's new anonymous pages go to, and the chain of
        # every anon_vma its pages may belong to (kernel/mm/rmap.py).
        self.anon_vma = None
        self.anon_vma_chain = []
        self.vm_private_data = None

    @property
    def vm_rb(self):
        return self

    def copy(self):
        """`*new = *vma` in __split_vma(): same fields, unlinked, and an empty
        anon_vma_chain (the caller clones it: anon_vma_clone/anon_vma_fork)."""
        new = VmAreaStruct(self.vm_mm, self.vm_start, self.vm_end, self.vm_flags,
                           self.vm_page_prot, self.vm_pgoff, self.vm_file)
        new.anon_vma = self.anon_vma
        new.vm_private_data = self.vm_private_data
        return new

    def __repr__(self):  # pragma: no mutate block (debug output)
        return "<vma %#x-%#x flags=%#x pgoff=%#x>" % (
            self.vm_start, self.vm_end, self.vm_flags, self.vm_pgoff)


class MmStruct:
    """struct mm_struct: an address space — its VMAs, page tables and counters."""

    def __init__(self, kernel, task_size, mmap_base, pgd):
        # Linux has one kernel, reached through globals; we allow several, so
        # an address space knows the kernel (allocator, tables, tracer) it is in.
        self.kernel = kernel
        self.mmap = None                # first VMA of the sorted list
        self.mm_rb = RbRoot()           # the same VMAs, in an augmented rbtree
        self.mmap_cache = None          # last find_vma() hit (see find_vma)
        self.mmap_base = mmap_base
        self.task_size = task_size
        self.highest_vm_end = 0
        self.pgd = pgd                  # physical address of the top-level table
        self.pte_table_cache = (None, 0)  # (addr >> PMD_SHIFT, level-3 table) of the last fault
        self.asid = 0                   # mm->context.id: ASID (kernel/mm/context.py)
        self.asid_generation = 0
        self.uaccess = None             # copy_{from,to}_user through these tables
        self.last_cow = None            # (page, old pte) of a COW break, for the trace
        self.mm_users = 1
        self.mm_count = 1
        self.nr_ptes = 0                # page-table pages in use (all levels below pgd)
        self.map_count = 0
        self.hiwater_rss = 0
        self.hiwater_vm = 0
        self.total_vm = 0
        self.locked_vm = 0
        self.pinned_vm = 0
        self.data_vm = 0
        self.exec_vm = 0
        self.stack_vm = 0
        self.def_flags = 0
        # mm->flags' coredump_filter bits (/proc/PID/coredump_filter; kernel/coredump.py)
        self.coredump_filter = MMF_DUMP_FILTER_DEFAULT
        self.start_code = self.end_code = self.start_data = self.end_data = 0
        self.start_brk = self.brk = self.start_stack = 0
        self.arg_start = self.arg_end = self.env_start = self.env_end = 0
        self.saved_auxv = []
        self.rss_file = 0               # mm_rss_stat: MM_FILEPAGES
        self.rss_anon = 0               # MM_ANONPAGES
        self.rss_shmem = 0              # MM_SHMEMPAGES
        self.exe_file = None            # path of the executable (/proc/self/exe)
        self.load_bias = 0              # where an ET_DYN executable was placed
        self.vdso_base = 0              # mm->context.vdso: the signal trampoline page
        self.cpu_vm_mask = set()        # mm_cpumask(): cores that have run this mm
        self.owner = None               # the task whose limits apply (CONFIG_MEMCG's mm->owner)
        self.exec_loading = False       # load_elf_binary() is building it (no process runs in it)

    def vmas(self):
        """Iterate the VMA list in address order."""
        vma = self.mmap
        while vma is not None:
            yield vma
            vma = vma.vm_next

    def ttbr0(self):
        """TTBR0_EL1 while this mm runs: the ASID in [63:48], then the pgd."""
        return (self.asid << TTBR_ASID_SHIFT) | self.pgd

    def get_mm_rss(self):
        return self.rss_file + self.rss_anon + self.rss_shmem
