"""A new mm_struct and vm_area_struct (kernel/mm/mm_types.py) start as
Linux's mm_init() and vm_area_alloc() leave them: no VMAs, every counter
zero, one user and one reference; a VMA unlinked, red, with no gap yet."""

from kernel.mm.mm_types import MmStruct, VmAreaStruct


def test_new_mm_struct():
    mm = MmStruct(kernel=None, task_size=1 << 48, mmap_base=1 << 40, pgd=0x1000)
    assert (mm.mmap, mm.mm_rb.rb_node, mm.mmap_cache) == (None, None, None)
    assert (mm.mm_users, mm.mm_count, mm.asid) == (1, 1, 0)
    assert (mm.task_size, mm.mmap_base, mm.pgd) == (1 << 48, 1 << 40, 0x1000)
    counters = ("highest_vm_end", "nr_ptes", "map_count", "hiwater_rss", "hiwater_vm",
                "total_vm", "locked_vm", "pinned_vm", "data_vm", "exec_vm", "stack_vm",
                "def_flags", "start_code", "end_code", "start_data", "end_data",
                "start_brk", "brk", "start_stack", "arg_start", "arg_end", "env_start",
                "env_end", "rss_file", "rss_anon", "rss_shmem", "load_bias", "vdso_base")
    assert {name: getattr(mm, name) for name in counters} == dict.fromkeys(counters, 0)
    assert mm.pte_table_cache == (None, 0)
    assert mm.saved_auxv == [] and mm.exe_file is None and mm.owner is None
    assert mm.cpu_vm_mask == set() and mm.get_mm_rss() == 0


def test_new_vma():
    vma = VmAreaStruct(None, 0x1000, 0x3000, 0x73, 0xabc)
    assert (vma.rb_parent, vma.rb_left, vma.rb_right) == (None, None, None)
    assert vma.rb_red is True
    assert (vma.vm_next, vma.vm_prev, vma.rb_subtree_gap) == (None, None, 0)
    assert (vma.vm_pgoff, vma.vm_file, vma.anon_vma, vma.vm_private_data) == (0, None, None, None)
    assert vma.vm_rb is vma
