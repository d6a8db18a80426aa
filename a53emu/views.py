"""The API's views of the kernel's objects (docs/api.md, "Looking"): a
system call as hooks see it, a trace event, a task, its mm_struct, VMAs,
table walks and frames.  A view reads the kernel's object when asked (Vma
and Walk are taken when made); the kernel's own objects stay reachable
(Task.kernel_task, Event.fields) but are not the stable API."""

from emu.arch import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE
from emu.cpu import CTX_PC, CTX_SP
from kernel.fs.proc import proc_pid_maps, vma_name, vma_perms
from kernel.main import exit_status
from kernel.mm.mmap import find_vma
from kernel.sched.task import TASK_RUNNING
from kernel.trace import describe_pte
from kernel.walk import describe_walk


# The mm_struct fields Mm shows (include/linux/mm_types.h names).
MM_FIELDS = ("start_code", "end_code", "start_data", "end_data", "start_brk", "brk",
             "start_stack", "arg_start", "arg_end", "env_start", "env_end", "mmap_base",
             "task_size", "highest_vm_end", "total_vm", "locked_vm", "pinned_vm", "data_vm",
             "exec_vm", "stack_vm", "hiwater_rss", "hiwater_vm", "map_count", "nr_ptes",
             "rss_anon", "rss_file", "rss_shmem", "mm_users", "mm_count", "pgd", "asid",
             "def_flags")

# Events whose kind does not name its class (kernel/trace.py EVENT_CLASSES).
_KIND_CLASS = {"printk": "syscall", "exit": "syscall", "exec": "syscall", "fork": "syscall",
               "signal": "syscall", "switch_mm": "tlb", "writeback": "vma"}


def event_class(kind):
    """The trace class an event kind belongs to ('vma_merge' -> 'vma')."""
    cls = _KIND_CLASS.get(kind)
    if cls is None:
        cls = kind.split("_")[0]
    return cls


class Call:
    """A system call as hooks and syscall stops see it.

    nr, name; args: the six argument registers x0-x5, a list that enter
    hooks may change (the handler sees the new values; the program's
    registers are not changed); result: None on entry, the value x0 will
    get on exit (exit hooks may assign it); skip(value): on entry, do not
    run the handler, return value (a negative errno for a failure);
    skipped; task: the calling Task; pid."""

    __slots__ = ("_c", "_m")

    def __init__(self, machine, call):
        self._m, self._c = machine, call

    nr = property(lambda self: self._c.nr)
    name = property(lambda self: self._c.name)
    args = property(lambda self: self._c.args)
    skipped = property(lambda self: self._c.skipped)
    pid = property(lambda self: self._c.task.pid)

    @property
    def task(self):
        return self._m.task_of(self._c.task)

    @property
    def result(self):
        return self._c.result

    @result.setter
    def result(self, value):
        if self._c.result is None:
            raise RuntimeError("%s: the result is set on exit (use skip() on entry)"
                               % self._c.name)
        self._c.result = int(value)

    def skip(self, value):
        self._c.skip(value)

    def __repr__(self):
        return "<Call %s(%s) pid %d%s>" % (self.name, ", ".join(hex(a) for a in self.args),
                                           self.pid, "" if self.result is None
                                           else " = %d" % self.result)


class Event:
    """One event of the kernel's trace bus: kind ('syscall', 'fault',
    'vma_insert', 'pte_set', 'tlb_flush', 'sched_switch', ...), cls (its
    class: syscall, fault, vma, pte, tlb, sched) and fields (what the kernel
    emitted, kernel objects included: see kernel/trace.py)."""

    __slots__ = ("kind", "cls", "fields")

    def __init__(self, kind, fields):
        self.kind, self.cls, self.fields = kind, event_class(kind), fields

    def __getitem__(self, name):
        return self.fields[name]

    def __repr__(self):
        return "<Event %s>" % self.kind


class Handle:
    """What hook() and subscribe() return: remove() undoes them."""

    def __init__(self, remove):
        self._remove = remove

    def remove(self):
        if self._remove is not None:
            self._remove()
            self._remove = None


class Vma:
    """A VMA as /proc/PID/maps shows it, taken when asked: start, end,
    perms ('rw-p'), flags (vm_flags), pgoff (in pages), name ('[heap]',
    '[stack]', a path, or '' for anonymous memory), anonymous (no file)."""

    __slots__ = ("start", "end", "perms", "flags", "pgoff", "name", "anonymous")

    def __init__(self, vma):
        self.start, self.end = vma.vm_start, vma.vm_end
        self.perms = vma_perms(vma)
        self.flags = vma.vm_flags
        self.pgoff = vma.vm_pgoff
        self.name = vma_name(vma) or ""
        self.anonymous = vma.vm_file is None

    @property
    def size(self):
        return self.end - self.start

    def __contains__(self, addr):
        return self.start <= addr < self.end

    def __repr__(self):
        return "<Vma %#x-%#x %s %s>" % (self.start, self.end, self.perms, self.name)


class Walk:
    """The MMU's walk of one VA through a task's tables (emu/mmu.py
    walk_steps): steps, a list of (level, index, table_pa, desc_pa, desc)
    from TTBR0 to the leaf or to the descriptor that ends it; pa, the
    physical address (None when an access would fault); pte, the leaf
    descriptor (0 if none) and its decoding; vma, the Vma there (or None);
    lines(), what `a53emu walk` prints."""

    def __init__(self, kernel, task, va):
        mm = task.mm
        mmu = kernel.board.mmu
        self._kernel, self._task, self.va = kernel, task, va
        self.steps = mmu.walk_steps(mm.ttbr0(), va) if not va >> mmu.va_bits else []
        self.pa = mmu.translate(mm.ttbr0(), va) if self.steps else None
        last = self.steps[-1] if self.steps else None
        self.pte = last[4] if last is not None and self.pa is not None else 0
        self.level = last[0] if last is not None else None
        vma = find_vma(mm, va)
        self.vma = Vma(vma) if vma is not None and vma.vm_start <= va else None

    def describe_pte(self):
        return describe_pte(self.pte) if self.pte else "none"

    def lines(self):
        return describe_walk(self._kernel, self._task, self.va)


class Mm:
    """A task's mm_struct, read live: every name in MM_FIELDS is an
    attribute (start_brk, brk, mmap_base, total_vm in pages, ...); vmas(),
    find_vma(addr), maps() (the /proc/PID/maps text), walk(va),
    translate(va), read(va, n)."""

    def __init__(self, machine, task):
        self._m, self._task = machine, task
        self._mm = task.mm

    def __getattr__(self, name):
        if name in MM_FIELDS:
            return getattr(self._mm, name)
        raise AttributeError("Mm has no field %r (see a53emu.MM_FIELDS)" % name)

    def fields(self):
        """{field: value} for every name in MM_FIELDS."""
        return {name: getattr(self._mm, name) for name in MM_FIELDS}

    def vmas(self):
        return [Vma(v) for v in self._mm.vmas()]

    def find_vma(self, addr):
        """The Vma containing addr, or None (not find_vma()'s 'next above')."""
        vma = find_vma(self._mm, addr)
        return Vma(vma) if vma is not None and vma.vm_start <= addr else None

    def maps(self):
        return proc_pid_maps(self._mm)

    def walk(self, va):
        return Walk(self._m.kernel, self._task, va)

    def translate(self, va):
        """The physical address va maps to now, or None."""
        return self.walk(va).pa

    def read(self, va, length):
        """Bytes at va, from the frames mapped now; never faults a page in
        (raises ValueError for a page not present)."""
        data = self._mm.uaccess.peek(va, length)
        if data is None:
            raise ValueError("%#x: not mapped (no present page); Mm.read never faults" % va)
        return data

    def read_string(self, va, limit=4096):
        data = self.read(va, min(limit, PAGE_SIZE - (va & ~PAGE_MASK)))
        nul = data.find(b"\0")
        if nul < 0 and len(data) < limit:
            return data + self.read_string(va + len(data), limit - len(data))
        return data if nul < 0 else data[:nul]


class Task:
    """A task (thread) of the board: pid, tgid, ppid, comm, argv, alive,
    state ('running', 'sleeping', 'zombie', 'dead'), wait_status and
    exit_status (once it has exited), mm (an Mm, None after exit), regs()
    and pc, kernel_task (the kernel's own object)."""

    def __init__(self, machine, task):
        self._m, self.kernel_task = machine, task

    pid = property(lambda self: self.kernel_task.pid)
    tgid = property(lambda self: self.kernel_task.tgid)
    comm = property(lambda self: self.kernel_task.comm)
    argv = property(lambda self: list(self.kernel_task.argv))
    alive = property(lambda self: self.kernel_task.exit_state is None)

    @property
    def ppid(self):
        parent = self.kernel_task.real_parent
        return parent.tgid if parent is not None else 0

    @property
    def state(self):
        t = self.kernel_task
        if t.exit_state is not None:        # reaped (released): gone from the pid table
            return "dead" if self._m.kernel.tasks.get(t.pid) is not t else "zombie"
        return "running" if t.state == TASK_RUNNING else "sleeping"

    @property
    def wait_status(self):
        return None if self.alive else self.kernel_task.exit_code

    @property
    def exit_status(self):
        return None if self.alive else exit_status(self.kernel_task)

    @property
    def mm(self):
        """Its Mm; None once it has exited (exit_mm() in Linux; an Exit stop
        comes before that)."""
        t = self.kernel_task
        return Mm(self._m, t) if t.mm is not None and t.exit_state is None else None

    def regs(self):
        """{'x': [x0..x30], 'sp', 'pc'}: live on its core, or as saved."""
        t = self.kernel_task
        if t.core is not None:
            gp, _ = t.core.save_context()
        elif t.context is not None:
            gp = t.context[0]
        else:
            raise ValueError("pid %d has no registers (it has exited)" % t.pid)
        return {"x": list(gp[:31]), "sp": gp[CTX_SP], "pc": gp[CTX_PC]}

    @property
    def pc(self):
        return self.regs()["pc"]

    def __eq__(self, other):
        return isinstance(other, Task) and other.kernel_task is self.kernel_task

    def __hash__(self):
        return id(self.kernel_task)

    def __repr__(self):
        return "<Task %d (%s) %s>" % (self.pid, self.comm, self.state)


class Frame:
    """A physical page frame: pa (its first byte), pfn, refcount (users:
    mappings, the page cache, page tables), mapcount (ptes mapping it),
    read(offset, n)."""

    def __init__(self, kernel, pa):
        pages = kernel.pages
        memory = kernel.memory
        if not memory.base <= pa < memory.end:
            raise ValueError("%#x is not in the board's RAM [%#x, %#x)"
                             % (pa, memory.base, memory.end))
        self._memory = memory
        self.pa = pa & PAGE_MASK
        self.pfn = self.pa >> PAGE_SHIFT
        self.refcount = pages.page_count(self.pa)
        self.mapcount = pages.page_mapcount(self.pa)

    def read(self, offset=0, length=None):
        length = PAGE_SIZE - offset if length is None else length
        return self._memory.read(self.pa + offset, length)

    def __repr__(self):
        return "<Frame pfn %#x refcount %d mapcount %d>" % (self.pfn, self.refcount,
                                                              self.mapcount)
