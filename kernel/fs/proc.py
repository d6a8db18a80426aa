"""fs/proc: the files under /proc that describe a task, generated from the
kernel's own structures (never from the host's /proc)."""

import os

from emu.arch import DESC_ADDR_MASK, HWCAP_BITS, MIDR_CORTEX_A53, PAGE_SHIFT
from kernel.mm.mm import (
    PTE_DIRTY, PTE_PRESENT_MASK, PTE_SPECIAL, VM_EXEC, VM_LOCKED, VM_MAYSHARE, VM_READ,
    VM_WRITE,
)
from kernel.ipc.util import sysvipc_proc_show
from kernel.mm.page_alloc import PG_anon
from kernel.sched.task import STATE_NAMES


def vma_perms(vma):
    """The 'rwxp' column: VM_MAYSHARE decides s/p, as show_map_vma()."""
    f = vma.vm_flags
    return ("r" if f & VM_READ else "-") + ("w" if f & VM_WRITE else "-") + \
           ("x" if f & VM_EXEC else "-") + ("s" if f & VM_MAYSHARE else "p")


def vma_name(vma):
    """The name column: file path, [heap], [stack], or None."""
    file = vma.vm_file
    if file is not None:
        return file.path
    mm = vma.vm_mm
    if vma.vm_start <= mm.brk and vma.vm_end >= mm.start_brk:
        return "[heap]"
    if vma.vm_start <= mm.start_stack <= vma.vm_end:
        return "[stack]"
    return None


def show_map_vma(vma):
    """fs/proc/task_mmu.c: show_map_vma() — one line of /proc/PID/maps."""
    file = vma.vm_file
    dev = ino = 0
    if file is not None and file.host_fd is not None and file.mapping is not None \
            and file.mapping.host_fd is not None:
        st = os.fstat(file.host_fd)
        dev, ino = st.st_dev, st.st_ino
    pgoff = vma.vm_pgoff << PAGE_SHIFT if file is not None else 0
    line = "%08x-%08x %s %08x %02x:%02x %d " % (
        vma.vm_start, vma.vm_end, vma_perms(vma), pgoff, os.major(dev), os.minor(dev), ino)
    name = vma_name(vma)
    if name is not None:
        # seq_pad(): the name starts at column 73 on a 64-bit kernel.
        line = line.ljust(72) + " " + name if len(line) < 72 else line + name
    return line + "\n"


def proc_pid_maps(mm):
    return "".join(show_map_vma(v) for v in mm.vmas())


# fs/proc/task_mmu.c: show_smap_vma_flags() mnemonics, by vm_flags bit.
_VMFLAG_MNEMONICS = ((0x1, "rd"), (0x2, "wr"), (0x4, "ex"), (0x8, "sh"), (0x10, "mr"),
                     (0x20, "mw"), (0x40, "me"), (0x80, "ms"), (0x100, "gd"), (0x400, "pf"),
                     (0x800, "dw"), (0x2000, "lo"), (0x4000, "io"), (0x8000, "sr"),
                     (0x10000, "rr"), (0x20000, "dc"), (0x40000, "de"), (0x100000, "ac"),
                     (0x200000, "nr"), (0x400000, "ht"), (0x1000000, "ar"),
                     (0x4000000, "dd"), (0x10000000, "mm"), (0x20000000, "hg"),
                     (0x40000000, "nh"), (0x80000000, "mg"))


def smaps_counts(vma):
    """smaps_pte_entry() over the VMA: (rss, pss*PAGE, shared_clean,
    shared_dirty, private_clean, private_dirty, anonymous) in pages."""
    mm = vma.vm_mm
    kernel = mm.kernel
    pt, pages = kernel.pgtable, kernel.pages
    mapping = vma.vm_file.mapping if vma.vm_file is not None else None
    rss = pss = sc = sd = pc = pd = anon = 0
    for addr in range(vma.vm_start, vma.vm_end, 1 << PAGE_SHIFT):
        ptep = pt.pte_offset(mm, addr)
        if ptep is None:
            continue
        pte = pt.read_pte(ptep)
        if not pte & PTE_PRESENT_MASK or pte & PTE_SPECIAL:
            continue                    # vm_normal_page(): the zero page is not counted
        frame = pte & DESC_ADDR_MASK
        is_anon = pages.flags[pages.index(frame)] & PG_anon
        mapcount = pages.page_mapcount(frame)
        pgoff = vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT)
        dirty = bool(pte & PTE_DIRTY) or (mapping is not None and pgoff in mapping.dirty)
        rss += 1
        pss += (1 << PAGE_SHIFT) // max(mapcount, 1)
        anon += 1 if is_anon else 0
        if mapcount >= 2:
            sd, sc = (sd + 1, sc) if dirty else (sd, sc + 1)
        else:
            pd, pc = (pd + 1, pc) if dirty else (pd, pc + 1)
    return rss, pss, sc, sd, pc, pd, anon


def show_smap(vma):
    """show_smap(): the maps line, then the memory accounting of the VMA."""
    rss, pss, sc, sd, pc, pd, anon = smaps_counts(vma)
    size_kb = (vma.vm_end - vma.vm_start) >> 10
    rows = [("Size", size_kb), ("KernelPageSize", 4), ("MMUPageSize", 4),
            ("Rss", _kb(rss)), ("Pss", pss >> 10), ("Shared_Clean", _kb(sc)),
            ("Shared_Dirty", _kb(sd)), ("Private_Clean", _kb(pc)), ("Private_Dirty", _kb(pd)),
            ("Referenced", _kb(rss)), ("Anonymous", _kb(anon)), ("LazyFree", 0),
            ("AnonHugePages", 0), ("ShmemPmdMapped", 0), ("Shared_Hugetlb", 0),
            ("Private_Hugetlb", 0), ("Swap", 0), ("SwapPss", 0),
            ("Locked", pss >> 10 if vma.vm_flags & VM_LOCKED else 0)]
    text = show_map_vma(vma) + "".join("%-16s%8d kB\n" % (k + ":", v) for k, v in rows)
    flags = " ".join(m for bit, m in _VMFLAG_MNEMONICS if vma.vm_flags & bit)
    return text + "VmFlags: %s \n" % flags


def proc_pid_smaps(mm):
    return "".join(show_smap(v) for v in mm.vmas())


def _kb(pages):
    return pages << (PAGE_SHIFT - 10)


def proc_pid_status(task):
    """fs/proc/array.c + task_mmu.c: the memory part of /proc/PID/status."""
    mm = task.mm
    lines = [
        ("Name", task.comm), ("Umask", "%04o" % task.fs.umask),
        ("State", STATE_NAMES.get(task.state, task.state)),
        ("Tgid", task.tgid), ("Ngid", 0), ("Pid", task.pid), ("PPid", task.ppid),
        ("TracerPid", 0), ("Uid", "\t".join([str(os.getuid())] * 4)),
        ("Gid", "\t".join([str(os.getgid())] * 4)), ("FDSize", 64),
        ("VmPeak", "%8d kB" % _kb(mm.hiwater_vm)), ("VmSize", "%8d kB" % _kb(mm.total_vm)),
        ("VmLck", "%8d kB" % _kb(mm.locked_vm)), ("VmPin", "%8d kB" % _kb(mm.pinned_vm)),
        ("VmHWM", "%8d kB" % _kb(mm.hiwater_rss)), ("VmRSS", "%8d kB" % _kb(mm.get_mm_rss())),
        ("RssAnon", "%8d kB" % _kb(mm.rss_anon)), ("RssFile", "%8d kB" % _kb(mm.rss_file)),
        ("RssShmem", "%8d kB" % _kb(mm.rss_shmem)), ("VmData", "%8d kB" % _kb(mm.data_vm)),
        ("VmStk", "%8d kB" % _kb(mm.stack_vm)),
        ("VmExe", "%8d kB" % ((mm.end_code - mm.start_code) >> 10)),
        ("VmLib", "%8d kB" % max(0, _kb(mm.exec_vm) - ((mm.end_code - mm.start_code) >> 10))),
        ("VmPTE", "%8d kB" % (mm.nr_ptes * 4)), ("VmSwap", "%8d kB" % 0),
        ("Threads", len(task.thread_group_live())),
        ("Cpus_allowed", "%x" % task.cpus_allowed),
        ("Cpus_allowed_list", ",".join(str(c) for c in range(task.kernel.ncpus)
                                       if task.cpus_allowed >> c & 1)),
    ]
    return "".join("%s:\t%s\n" % kv for kv in lines)


def proc_pid_statm(mm):
    """task_statm(): size resident shared text lib data 0, in pages."""
    text = (mm.end_code - mm.start_code) >> PAGE_SHIFT
    return "%d %d %d %d 0 %d 0\n" % (mm.total_vm, mm.get_mm_rss(), mm.rss_file + mm.rss_shmem,
                                      text, mm.data_vm + mm.stack_vm)


def proc_cpuinfo(ncpus):
    """arch/arm64/kernel/cpuinfo.c: c_show() for each Cortex-A53 core."""
    features = " ".join(name for name, _ in HWCAP_BITS)
    out = []
    for cpu in range(ncpus):
        out.append("processor\t: %d\nBogoMIPS\t: 100.00\nFeatures\t: %s\n"
                   "CPU implementer\t: %#04x\nCPU architecture: 8\nCPU variant\t: %#x\n"
                   "CPU part\t: %#05x\nCPU revision\t: %d\n\n"
                   % (cpu, features, MIDR_CORTEX_A53 >> 24, (MIDR_CORTEX_A53 >> 20) & 0xF,
                      (MIDR_CORTEX_A53 >> 4) & 0xFFF, MIDR_CORTEX_A53 & 0xF))
    return "".join(out)


def proc_meminfo(pages):
    total = _kb(pages.nr_pages)
    free = _kb(pages.nr_free)
    return "MemTotal:       %8d kB\nMemFree:        %8d kB\nMemAvailable:   %8d kB\n" % (
        total, free, free)


def proc_file(kernel, task, path):
    """The body of a synthetic /proc file, None if path is not one we make,
    or "" with found=False semantics via KeyError for missing per-pid files."""
    parts = path.strip("/").split("/")
    if parts[0] != "proc" or len(parts) < 2:
        return None
    if len(parts) == 2:
        if parts[1] == "cpuinfo":
            return proc_cpuinfo(kernel.ncpus)
        if parts[1] == "meminfo":
            return proc_meminfo(kernel.pages)
        return None
    if parts[1] == "sysvipc" and len(parts) == 3:
        return sysvipc_proc_show(kernel, parts[2])     # kernel/ipc (issue 9 part 5)
    target = proc_pid_task(kernel, task, parts[1])
    if target is None:
        return None
    task = target
    name = "/".join(parts[2:])
    makers = {"maps": lambda: proc_pid_maps(task.mm), "status": lambda: proc_pid_status(task),
              "smaps": lambda: proc_pid_smaps(task.mm),
              "statm": lambda: proc_pid_statm(task.mm),
              "cmdline": lambda: "".join(a + "\0" for a in task.argv),
              "comm": lambda: task.comm + "\n", "stat": lambda: proc_pid_stat(task)}
    if name not in makers:
        raise KeyError(name)
    return makers[name]()


def proc_pid_task(kernel, task, who):
    """The task /proc/<who> names: self, thread-self, or a live pid."""
    if who in ("self", "thread-self"):
        return task
    if who.isdigit():
        t = kernel.tasks.get(int(who))
        if t is not None and t.mm is not None and t.exit_state is None:
            return t
    return None


def is_proc_pid_path(task, path):
    parts = path.strip("/").split("/")
    return len(parts) >= 2 and parts[0] == "proc" and \
        proc_pid_task(task.kernel, task, parts[1]) is not None


def proc_pid_stat(task):
    """fs/proc/array.c: do_task_stat() — the fields tools read: pid, comm,
    state, ppid, pgrp, session, fault counts, threads, vsize, rss, and
    `processor` (field 39), the core that ran the task last."""
    mm = task.mm
    sig = task.signal
    core = task.core.index if task.core is not None else task.last_cpu
    fields = [task.pid, "(%s)" % task.comm, task.state, task.ppid, sig.pgrp, sig.session,
              0, -1, 0, task.min_flt, 0, task.maj_flt, 0, int(task.utime * 100), 0, 0, 0,
              20, 0, len(task.thread_group_live()), 0, 0, mm.total_vm << PAGE_SHIFT,
              mm.get_mm_rss(), (1 << 64) - 1, mm.start_code, mm.end_code, mm.start_stack,
              0, 0, 0, 0, 0, 0, 0, 0, 0, task.exit_signal if task.exit_signal > 0 else 0,
              core, 0, 0, 0, 0, 0, mm.start_data, mm.end_data, mm.start_brk, mm.arg_start,
              mm.arg_end, mm.env_start, mm.env_end, 0]
    return " ".join(str(f) for f in fields) + "\n"
