"""Machine-readable traces: `--trace-format json|chrome|ftrace`.

The event bus (kernel/trace.py) carries Python objects; these sinks turn
every event class into something other programs read:

  json    one JSON object a line (JSON Lines): every event of the bus with
          its fields made plain (a VMA as start/end/perms/name, a task as
          pid/tid/comm, an ESR decoded), a sequence number and a timestamp;
  chrome  the Chrome Trace Event format (a JSON object with "traceEvents")
          that chrome://tracing and ui.perfetto.dev open: one track per
          core and one per task, system calls as complete ("X") events with
          their durations, faults, VMA, PTE and TLB events as instants;
  ftrace  lines like /sys/kernel/tracing/trace_pipe as perf script prints
          them: `comm-pid [cpu] secs.usecs: system:event: fields`, with
          Linux's tracepoint names and print formats where Linux has one
          (syscalls:sys_enter_brk, exceptions:page_fault_user,
          kmem:mm_page_alloc, mmap:vm_unmapped_area, tlb:tlb_flush,
          sched:sched_switch, task:task_newtask ...) and `a53emu:` events for
          what Linux has no tracepoint for (VMA insert/merge/split, PTEs).

Timestamps come from the kernel's clock (ktime_get(), kernel.sched.clock_ns):
the virtual clock under --deterministic, so those traces are the same run
after run.  Where two events would share a nanosecond (the virtual clock
only moves between slices) the later one is put 1 ns after the earlier, so
every timestamp is distinct and the order of the bus is the order of time.

System calls come as two events: `sys_enter`, which el0_svc emits before
the call runs (kernel/syscalls/table.py), and `syscall` at its exit.
"""

import json

from emu.arch import PAGE_SHIFT, esr_describe
from kernel.trace import describe_pte, errno_text

FORMATS = ("text", "json", "chrome", "ftrace")

# The chrome format has no tracks of their own for hardware: the cores are
# the threads of a pseudo-process whose pid no Linux task can have (one
# above include/linux/threads.h's PID_MAX_LIMIT on 64-bit).
PID_MAX_LIMIT = 4 * 1024 * 1024
CORES_PID = PID_MAX_LIMIT + 1

# sched.h: a SCHED_NORMAL task's prio is MAX_RT_PRIO + 20 + nice.
MAX_RT_PRIO = 100
DEFAULT_PRIO_OFFSET = 20

# arch/x86/include/asm/trace/tlb.h's reasons (the only tlb:tlb_flush there is).
TLB_FLUSH_ON_TASK_SWITCH = 0
TLB_LOCAL_MM_SHOOTDOWN = 3
TLB_FLUSH_REASONS = {TLB_FLUSH_ON_TASK_SWITCH: "flush on task switch",
                     TLB_LOCAL_MM_SHOOTDOWN: "local mm shootdown"}
TLB_FLUSH_ALL = -1

# include/linux/mm.h: vm_unmapped_area_info.flags
VM_UNMAPPED_AREA_TOPDOWN = 1

NS_PER_US = 1000
NS_PER_SEC = 1000 * 1000 * 1000
U64_MASK = (1 << 64) - 1


# -- plain values ------------------------------------------------------------------

def task_json(task):
    """A task as Linux's user space names it: pid is the tgid, tid the pid."""
    if task is None:
        return None
    return {"pid": task.tgid, "tid": task.pid, "comm": task.comm}


def vma_json(vma):
    """A VMA as /proc/PID/maps shows it."""
    from kernel.fs.proc import vma_name, vma_perms
    return {"start": vma.vm_start, "end": vma.vm_end, "perms": vma_perms(vma),
            "pgoff": vma.vm_pgoff << PAGE_SHIFT if vma.vm_file is not None else 0,
            "name": vma_name(vma) or ""}


def esr_json(esr):
    """ESR_EL1 with its exception class and the decoded text."""
    return {"value": esr, "ec": esr >> 26, "text": esr_describe(esr)}


def jsonable(value):
    """Any field of the bus as JSON: kernel objects by what identifies them,
    anything unknown by its class name."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):      # paths: text, odd bytes escaped
        return bytes(value).decode("utf-8", "backslashreplace")
    cls = type(value).__name__
    if cls == "Task":
        return task_json(value)
    if cls == "VmAreaStruct":
        return vma_json(value)
    if cls == "MmStruct":
        return {"pgd": value.pgd, "asid": value.asid}
    if cls == "AddressSpace":
        return {"mapping": getattr(value, "name", cls)}
    if cls == "SigInfo":
        return {"signo": value.signo, "code": value.code, "addr": value.addr,
                "pid": value.pid, "uid": value.uid}
    return {"class": cls}


def syscall_def(kernel, nr):
    return kernel.syscalls.lookup(nr)


def syscall_label(kernel, nr):
    from kernel.syscalls.table import syscall_name
    return syscall_name(nr)


def syscall_arg_names(d):
    """The handler's parameter names after `task`: they follow Linux's
    SYSCALL_DEFINE argument names (brk, addr, len ...)."""
    code = getattr(d.func, "__code__", None)
    names = code.co_varnames[1:1 + d.nargs] if code is not None else ()
    if len(names) < d.nargs:
        names = tuple(names) + tuple("arg%d" % i for i in range(len(names), d.nargs))
    return names


# -- the common part of the writers ---------------------------------------------------

class EventWriter:
    """Timestamps, the core and task of an event, and system calls paired
    (an exit knows when its call entered)."""

    def __init__(self, kernel, out):
        self.kernel = kernel
        self.out = out
        self.last_ns = -1
        self.seq = 0
        self.pending = {}       # task -> (nr, entry ns) of its system call in progress

    def now(self):
        t = self.kernel.sched.clock_ns()
        if t <= self.last_ns:
            t = self.last_ns + 1
        self.last_ns = t
        return t

    def where(self, f):
        """(core index, task) the event happened on: the fields' own, else
        the core running right now and its task."""
        running = self.kernel.sched.running_core
        # sched_switch happens in the context of the task leaving the core
        task = f["prev"] if "prev" in f else f.get("task")
        if task is None and running is not None:
            task = running.current
        cpu = f.get("core")
        if cpu is None:
            if running is not None:
                cpu = running.index
            elif task is not None and task.core is not None:
                cpu = task.core.index
            elif task is not None:
                cpu = getattr(task, "last_cpu", 0) or 0
            else:
                cpu = 0
        return cpu, task

    def __call__(self, kind, f):
        task_key = f.get("task")
        enter_ns = None
        if kind == "sys_enter":
            busy = self.pending.get(task_key)
            if busy is not None and busy[0] == f["nr"]:
                return                  # the same call run again after a sleep
        ts = self.now()
        if kind == "sys_enter":
            self.pending[task_key] = (f["nr"], ts)
        elif kind == "syscall":
            entry = self.pending.pop(task_key, None)
            enter_ns = entry[1] if entry is not None else ts
            if f["ret"] is None:        # exit, exit_group, rt_sigreturn: no return
                self.unfinished(task_key, (f["nr"], enter_ns), ts)
                enter_ns = None
        elif kind == "exit":
            entry = self.pending.pop(task_key, None)
            if entry is not None:
                self.unfinished(task_key, entry, ts)
        cpu, task = self.where(f)
        self.seq += 1
        self.write(kind, f, ts, cpu, task, enter_ns)

    def unfinished(self, task, entry, ts):
        """A call that does not return (exit, exit_group, rt_sigreturn) or
        never did (a sleeper killed, the end of the run)."""

    def close(self):
        """The end of the run: what is still open is closed."""
        ts = self.now()
        for task, entry in list(self.pending.items()):
            self.unfinished(task, entry, ts)
        self.pending.clear()
        self.out.flush()

    def write(self, kind, f, ts, cpu, task, enter_ns):
        raise NotImplementedError


# -- json ---------------------------------------------------------------------------

class JsonWriter(EventWriter):
    """One event a line: {"seq", "ts_ns", "cpu", "event", "task", fields...}."""

    def write(self, kind, f, ts, cpu, task, enter_ns):
        rec = {"seq": self.seq, "ts_ns": ts, "cpu": cpu, "event": kind, "task": task_json(task)}
        for key, value in f.items():
            if key in ("task", "d", "ptep"):
                continue
            rec[key] = jsonable(value)
        if kind in ("syscall", "sys_enter"):
            d = syscall_def(self.kernel, f["nr"])
            rec["name"] = syscall_label(self.kernel, f["nr"])
            rec["args"] = list(f["args"][:d.nargs if d is not None else len(f["args"])])
            if kind == "syscall" and f["ret"] is not None:
                rec["enter_ns"] = enter_ns
                if f["ret"] < 0:
                    rec["error"] = errno_text(f["ret"])[3:]      # "ENOENT (No such ...)"
        elif kind == "fault":
            rec["esr"] = esr_json(f["esr"])
        elif kind in ("pte_set", "pte_clear"):
            rec["pte_text"] = describe_pte(f["pte"])
        self.out.write(json.dumps(rec, sort_keys=True) + "\n")


# -- chrome -------------------------------------------------------------------------

def us(ns):
    """Chrome's timestamps are microseconds (fractions allowed)."""
    return ns / NS_PER_US


class ChromeWriter(EventWriter):
    """The Trace Event format's JSON object form, streamed: tracks are
    (pid, tid) pairs; a task's track is (tgid, pid); core N's is
    (CORES_PID, N).  "M" events name them."""

    def __init__(self, kernel, out):
        super().__init__(kernel, out)
        self.first = True
        self.names = {}             # (pid, tid) or pid -> the name it was last given
        self.running = {}           # core -> (task, since ns): the slice on the core track
        out.write('{"displayTimeUnit": "ns", "otherData": {"producer": "a53emu", '
                  '"clock": "%s"}, "traceEvents": [\n'
                  % ("virtual (--deterministic)" if kernel.sched.deterministic
                     else "monotonic"))
        for core in kernel.board.cores:
            self.name_track(CORES_PID, core.index, "core %d" % core.index)
        self.meta("process_name", CORES_PID, None, "cores")
        self.meta("process_sort_index", CORES_PID, None, -1, key="sort_index")

    def event(self, ev):
        self.out.write(("" if self.first else ",\n") + json.dumps(ev, sort_keys=True))
        self.first = False

    def meta(self, name, pid, tid, value, key="name"):
        ev = {"ph": "M", "name": name, "pid": pid, "args": {key: value}}
        if tid is not None:
            ev["tid"] = tid
        self.event(ev)

    def name_track(self, pid, tid, name):
        if self.names.get((pid, tid)) != name:
            self.names[(pid, tid)] = name
            self.meta("thread_name", pid, tid, name)

    def task_track(self, task):
        """(pid, tid) of task's track, named when first seen or renamed by exec."""
        if task is None:
            return CORES_PID, 0
        pid, tid = task.tgid, task.pid
        leader = task.group_leader if task.group_leader is not None else task
        if self.names.get(pid) != leader.comm:
            self.names[pid] = leader.comm
            self.meta("process_name", pid, None, leader.comm)
        self.name_track(pid, tid, task.comm)
        return pid, tid

    def instant(self, name, cat, ts, pid, tid, args):
        self.event({"ph": "i", "s": "t", "name": name, "cat": cat, "ts": us(ts),
                    "pid": pid, "tid": tid, "args": args})

    def complete(self, name, cat, start, end, pid, tid, args):
        self.event({"ph": "X", "name": name, "cat": cat, "ts": us(start),
                    "dur": us(end - start), "pid": pid, "tid": tid, "args": args})

    def end_slice(self, cpu, ts):
        slot = self.running.pop(cpu, None)
        if slot is not None:
            task, since = slot
            self.complete(task.comm, "sched", since, ts, CORES_PID, cpu,
                          {"pid": task.tgid, "tid": task.pid})

    def unfinished(self, task, entry, ts):
        if task is None:
            return
        pid, tid = self.task_track(task)
        nr, start = entry
        self.complete(syscall_label(self.kernel, nr), "syscall", start, ts, pid, tid,
                      {"ret": "?"})

    def write(self, kind, f, ts, cpu, task, enter_ns):
        pid, tid = self.task_track(task)
        if kind == "sys_enter":
            return                      # drawn at its exit, as one complete event
        if kind == "syscall":
            if f["ret"] is None:
                return                  # no return: drawn by unfinished()
            d = f.get("d")
            args = f["args"][:d.nargs] if d is not None else f["args"]
            self.complete(syscall_label(self.kernel, f["nr"]), "syscall", enter_ns, ts,
                          pid, tid, {"args": ["%#x" % a for a in args],
                                     "ret": ("%#x" % (f["ret"] & U64_MASK)
                                             if d is not None and d.ret == "x" and f["ret"] >= 0
                                             else f["ret"])})
            return
        if kind == "sched_switch":
            self.end_slice(cpu, ts)
            self.running[cpu] = (f["next"], ts)
            self.task_track(f["next"])
            return
        if kind == "exit":
            for core, (t, _) in list(self.running.items()):
                if t is task:
                    self.end_slice(core, ts)
            self.instant("exit", "task", ts, pid, tid, {"status": f["status"]})
            return
        if kind == "exec":
            self.names.pop(pid, None)           # exec renames the process and its thread
            self.task_track(task)
        if kind in ("tlb_flush", "switch_mm"):
            pid, tid = CORES_PID, cpu
        args = {}
        for key, value in f.items():
            if key in ("task", "ptep", "core"):
                continue
            args[key] = ("%#x" % value if isinstance(value, int) and not isinstance(value, bool)
                         and key in ("addr", "pc", "pte", "start", "end", "pa", "handler",
                                     "frame", "flags")
                         else jsonable(value))
        if kind == "fault":
            args["esr"] = esr_json(f["esr"])
            name = "page fault"
        elif kind == "callgraph":
            name = "call graph: %s" % f["tree"]["name"]
        else:
            name = kind
        cat = {"fault": "fault", "callgraph": "callgraph", "tlb_flush": "tlb",
               "switch_mm": "tlb", "pte_set": "pte",
               "pte_clear": "pte", "mm_page_alloc": "kmem", "mm_page_free": "kmem"}.get(
                   kind, "vma" if kind.startswith("vma") or kind == "vm_unmapped_area"
                   else "task")
        if kind == "printk":
            self.event({"ph": "i", "s": "g", "name": "printk", "cat": "printk",
                        "ts": us(ts), "pid": pid, "tid": tid, "args": args})
            return
        self.instant(name, cat, ts, pid, tid, args)

    def close(self):
        super().close()
        ts = self.last_ns
        for cpu in list(self.running):
            self.end_slice(cpu, ts)
        self.out.write("\n]}\n")
        self.out.flush()


# -- ftrace -------------------------------------------------------------------------

def _prio(task):
    return MAX_RT_PRIO + DEFAULT_PRIO_OFFSET + getattr(task, "nice", 0)


def _sched_state(task):
    """sched_switch's prev_state (__trace_sched_switch_state): R+ for a
    preempted task, else its state letter (S, T; Z or X once it exited)."""
    from kernel.sched.task import TASK_RUNNING
    if task.exit_state is not None:
        return task.exit_state
    if task.state == TASK_RUNNING:
        return "R+"
    return task.state


class FtraceWriter(EventWriter):
    """perf script / trace_pipe lines."""

    def line(self, task, cpu, ts, name, text):
        if task is None:
            comm, pid = "<idle>", 0
        else:
            comm, pid = task.comm, task.pid
        self.out.write("%16s-%-5d [%03d] %5d.%06d: %s: %s\n" % (
            comm, pid, cpu, ts // NS_PER_SEC, ts % NS_PER_SEC // NS_PER_US, name, text))

    def write(self, kind, f, ts, cpu, task, enter_ns):
        fmt = getattr(self, "_" + kind, None)
        if fmt is None:
            return
        for name, text in fmt(f, task):
            self.line(task, cpu, ts, name, text)

    def _sys_enter(self, f, task):
        d = syscall_def(self.kernel, f["nr"])
        if d is None:       # no syscalls:sys_enter_* for a number Linux does not know
            yield "raw_syscalls:sys_enter", "NR %d (%s)" % (
                f["nr"], ", ".join("%x" % a for a in f["args"]))
            return
        yield "syscalls:sys_enter_%s" % d.name, ", ".join(
            "%s: 0x%08x" % (n, a) for n, a in zip(syscall_arg_names(d), f["args"]))

    def _syscall(self, f, task):
        ret = f["ret"]
        if ret is None:
            return
        d = f.get("d")
        if d is None:
            yield "raw_syscalls:sys_exit", "NR %d = %d" % (f["nr"], ret)
            return
        yield "syscalls:sys_exit_%s" % d.name, "0x%x" % (ret & U64_MASK)

    def _fault(self, f, task):
        # x86's exceptions:page_fault_user; error_code carries ESR_EL1 here.
        yield "exceptions:page_fault_user", "address=0x%x ip=0x%x error_code=0x%x" % (
            f["addr"], f["pc"], f["esr"])

    def _mm_page_alloc(self, f, task):
        yield "kmem:mm_page_alloc", \
            "page=0x%x pfn=%d order=0 migratetype=0 gfp_flags=%s" % (
                f["pa"], f["pa"] >> PAGE_SHIFT,
                "GFP_HIGHUSER|__GFP_ZERO" if f["zero"] else "GFP_HIGHUSER")

    def _mm_page_free(self, f, task):
        yield "kmem:mm_page_free", "page=0x%x pfn=%d order=0" % (f["pa"], f["pa"] >> PAGE_SHIFT)

    def _vm_unmapped_area(self, f, task):
        addr = f["addr"]
        err = addr < 0
        yield "mmap:vm_unmapped_area", (
            "addr=0x%x err=%d total_vm=0x%x flags=0x%x len=0x%x lo=0x%x hi=0x%x "
            "mask=0x%x ofs=0x%x" % (0 if err else addr, addr if err else 0,
                                    f["mm"].total_vm, VM_UNMAPPED_AREA_TOPDOWN,
                                    f["length"], f["low_limit"], f["high_limit"], 0, 0))

    def _tlb_flush(self, f, task):
        pages = TLB_FLUSH_ALL if f["start"] is None else (f["end"] - f["start"]) >> PAGE_SHIFT
        yield "tlb:tlb_flush", "pages:%d reason:%s (%d)" % (
            pages, TLB_FLUSH_REASONS[TLB_LOCAL_MM_SHOOTDOWN], TLB_LOCAL_MM_SHOOTDOWN)

    def _switch_mm(self, f, task):
        yield "tlb:tlb_flush", "pages:%d reason:%s (%d)" % (
            TLB_FLUSH_ALL, TLB_FLUSH_REASONS[TLB_FLUSH_ON_TASK_SWITCH],
            TLB_FLUSH_ON_TASK_SWITCH)

    def _sched_switch(self, f, task):
        prev, nxt, core = f["prev"], f["next"], f["core"]
        if prev is None:
            prev_text = "prev_comm=swapper/%d prev_pid=0 prev_prio=%d prev_state=R" % (
                core, MAX_RT_PRIO + DEFAULT_PRIO_OFFSET)
        else:
            prev_text = "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s" % (
                prev.comm, prev.pid, _prio(prev), _sched_state(prev))
        yield "sched:sched_switch", "%s ==> next_comm=%s next_pid=%d next_prio=%d" % (
            prev_text, nxt.comm, nxt.pid, _prio(nxt))

    def _fork(self, f, task):
        child = f["child"]
        yield "task:task_newtask", "pid=%d comm=%s clone_flags=%x oom_score_adj=%d" % (
            child.pid, child.comm, f["flags"], getattr(child, "oom_score_adj", 0))
        yield "sched:sched_process_fork", "comm=%s pid=%d child_comm=%s child_pid=%d" % (
            task.comm, task.pid, child.comm, child.pid)

    def _exec(self, f, task):
        name = f["filename"]
        if isinstance(name, bytes):
            name = name.decode("utf-8", "backslashreplace")
        yield "sched:sched_process_exec", "filename=%s pid=%d old_pid=%d" % (
            name, task.pid, task.pid)

    def _exit(self, f, task):
        yield "sched:sched_process_exit", "comm=%s pid=%d prio=%d" % (
            task.comm, task.pid, _prio(task))

    def _signal(self, f, task):
        info = f["info"]
        act = task.sighand.get(info.signo)      # (handler, flags, restorer, mask)
        flags = act[1] if act is not None else 0
        yield "signal:signal_deliver", "sig=%d errno=0 code=%d sa_handler=%x sa_flags=%x" % (
            info.signo, info.code, f["handler"], flags)

    def _printk(self, f, task):
        yield "printk:console", f["text"].rstrip("\n")

    # a53emu's own: Linux has no tracepoint for these.
    def _vma_insert(self, f, task):
        yield "a53emu:vma_insert", _vma_text(f["vma"])

    def _vma_remove(self, f, task):
        yield "a53emu:vma_remove", "%s reason=%s" % (_vma_text(f["vma"]), f["reason"])

    def _vma_merge(self, f, task):
        yield "a53emu:vma_merge", "case=%s range=0x%x-0x%x into %s" % (
            f["case"], f["start"], f["end"], _vma_text(f["vma"]))

    def _vma_split(self, f, task):
        yield "a53emu:vma_split", "addr=0x%x %s | %s" % (
            f["addr"], _vma_text(f["vma"]), _vma_text(f["new"]))

    def _vma_expand(self, f, task):
        yield "a53emu:vma_expand", _vma_text(f["vma"])

    def _vma_mprotect(self, f, task):
        yield "a53emu:vma_mprotect", "range=0x%x-0x%x %s" % (
            f["start"], f["end"], _vma_text(f["vma"]))

    def _pte_set(self, f, task):
        yield "a53emu:pte_set", "addr=0x%x pte=0x%016x" % (f["addr"], f["pte"])

    def _pte_clear(self, f, task):
        yield "a53emu:pte_clear", "addr=0x%x pte=0x%016x" % (f["addr"], f["pte"])

    def _writeback(self, f, task):
        yield "a53emu:writeback", "mapping=%s pgoffs=%s" % (
            getattr(f["mapping"], "name", "?"), ",".join(str(p) for p in f["pgoffs"]))


def _vma_text(vma):
    v = vma_json(vma)
    return "start=0x%x end=0x%x perms=%s pgoff=0x%x name=%s" % (
        v["start"], v["end"], v["perms"], v["pgoff"], v["name"] or "-")


WRITERS = {"json": JsonWriter, "chrome": ChromeWriter, "ftrace": FtraceWriter}


def attach(kernel, fmt, out):
    """Subscribe the writer of `fmt` to kernel's bus; returns it (call its
    close() when the run ends)."""
    writer = WRITERS[fmt](kernel, out)
    kernel.trace.subscribe(writer)
    return writer
