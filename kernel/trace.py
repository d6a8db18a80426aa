"""The event bus and its printers.

The kernel emits events (syscall enter/exit, page fault, vma changes, pte
set/clear, TLB flush); printers subscribe and turn them into text.  Nothing
in mm/ prints.  Each event class has a flag (`trace.pte`, ...) checked before
the event is even built, so tracing costs one attribute test when off.
"""

import errno
import os

from emu.arch import (
    DESC_ADDR_MASK, MAIR_ATTR_NAMES, PAGE_SHIFT, PTE_AF, PTE_ATTRINDX_MASK,
    PTE_ATTRINDX_SHIFT, PTE_NG, PTE_PXN, PTE_RDONLY, PTE_USER, PTE_UXN,
    esr_describe,
)
from kernel.mm.mm import PTE_DIRTY, PTE_PROT_NONE, PTE_SPECIAL

EVENT_CLASSES = ("syscall", "fault", "vma", "pte", "tlb", "sched")
# Classes `all` leaves out, named one by one: kmem is every frame allocated
# and freed (kmem:mm_page_alloc/mm_page_free), more lines than the rest.
EXTRA_CLASSES = ("kmem",)


class Tracer:
    """One bus per kernel: enable classes, add sinks, emit events."""

    def __init__(self):
        for cls in EVENT_CLASSES + EXTRA_CLASSES:
            setattr(self, cls, False)
        self._sinks = []

    def enable(self, classes):
        for cls in classes:
            if cls not in EVENT_CLASSES + EXTRA_CLASSES:
                raise ValueError("unknown trace class %r (choose from %s)"
                                 % (cls, ", ".join(EVENT_CLASSES + EXTRA_CLASSES)))
            setattr(self, cls, True)

    def subscribe(self, sink):
        """sink(kind, fields) is called for every event emitted."""
        self._sinks.append(sink)

    def emit(self, kind, **fields):
        for sink in self._sinks:
            sink(kind, fields)

    # Issue 8: a hot path that folds a class flag into a flag of its own
    # (el0_svc's `instrumented`) asks to be told when the class switches.
    def watch(self, cls, fn):
        """Call fn() after class `cls` is switched on or off."""
        self.__dict__.setdefault("_watchers", {}).setdefault(cls, []).append(fn)

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        for fn in self.__dict__.get("_watchers", {}).get(name, ()):
            fn()


# -- decoding helpers shared by printers ------------------------------------------

def describe_pte(pte):
    """'pa=0x... AF nG RW/RO EL0 UXN ...' for a level-3 descriptor."""
    if pte & PTE_PROT_NONE and not pte & 1:
        return "pa=%#x PROT_NONE (invalid to the MMU)" % (pte & DESC_ADDR_MASK)
    bits = ["pa=%#x" % (pte & DESC_ADDR_MASK)]
    bits.append("EL0:" + ("r" if pte & PTE_USER else "-")
                + ("w" if pte & PTE_USER and not pte & PTE_RDONLY else "-")
                + ("-" if pte & PTE_UXN else "x"))
    bits.append("RO" if pte & PTE_RDONLY else "RW")
    for flag, name in ((PTE_AF, "AF"), (PTE_NG, "nG"), (PTE_PXN, "PXN"), (PTE_UXN, "UXN"),
                       (PTE_DIRTY, "dirty"), (PTE_SPECIAL, "special")):
        if pte & flag:
            bits.append(name)
    attr = (pte & PTE_ATTRINDX_MASK) >> PTE_ATTRINDX_SHIFT
    bits.append("Attr%d(%s)" % (attr, MAIR_ATTR_NAMES.get(attr, "?")))
    return " ".join(bits)


def vma_line(vma):
    """'start-end rw-p offset name' — a maps-like one-liner of a VMA; the
    offset is 0 for anonymous memory, as /proc/PID/maps prints it
    (show_map_vma()), though vm_pgoff holds vm_start >> PAGE_SHIFT there."""
    from kernel.fs.proc import vma_name, vma_perms
    offset = vma.vm_pgoff << PAGE_SHIFT if vma.vm_file is not None else 0
    return "%#x-%#x %s %08x %s" % (vma.vm_start, vma.vm_end, vma_perms(vma), offset,
                                   vma_name(vma) or "")


# Where two names share a number, the one strace prints (Python's table has
# ENOTSUP for 95; Linux's errno.h and strace say EOPNOTSUPP).
_STRACE_ERRNO_NAMES = {errno.EOPNOTSUPP: "EOPNOTSUPP"}


def errno_text(value):
    """' = -1 ENOENT (No such file or directory)' style, for a negative return."""
    code = -value
    name = _STRACE_ERRNO_NAMES.get(code) or errno.errorcode.get(code, "E%d" % code)
    return "-1 %s (%s)" % (name, os.strerror(code))


class MmPrinter:
    """Prints fault/vma/pte/tlb/sched events, one line each, prefixed by their class."""

    def __init__(self, out):
        self.out = out

    def __call__(self, kind, f):
        line = getattr(self, "_" + kind, None)
        if line is not None:
            self.out.write(line(f) + "\n")

    def _fault(self, f):
        s = "[fault] %s at %#x pc=%#x: %s" % (
            "user" if f.get("user", True) else "kernel", f["addr"], f["pc"], esr_describe(f["esr"]))
        vma = f.get("vma")
        s += " -> " + (vma_line(vma) if vma is not None else "no vma")
        return s + " => " + f["result"]

    def _vma_insert(self, f):
        return "[vma] insert %s" % vma_line(f["vma"])

    def _vma_merge(self, f):
        return "[vma] merge (case %s) [%#x-%#x) into %s" % (
            f["case"], f["start"], f["end"], vma_line(f["vma"]))

    def _vma_split(self, f):
        return "[vma] split at %#x: %s | %s" % (f["addr"], vma_line(f["vma"]), vma_line(f["new"]))

    def _vma_remove(self, f):
        return "[vma] remove (%s) %s" % (f["reason"], vma_line(f["vma"]))

    def _vma_expand(self, f):
        what = "mremap grows in place" if f.get("why") == "mremap" else "stack grows"
        return "[vma] %s: %s" % (what, vma_line(f["vma"]))

    def _vma_mprotect(self, f):
        return "[vma] mprotect [%#x-%#x) now %s" % (f["start"], f["end"], vma_line(f["vma"]))

    def _writeback(self, f):
        return "[vma] writeback %s: dirty pages %s" % (
            f["mapping"].name, ",".join(str(p) for p in f["pgoffs"]))

    def _pte_set(self, f):
        return "[pte] set   va=%#x pte=%#018x %s" % (f["addr"], f["pte"], describe_pte(f["pte"]))

    def _pte_clear(self, f):
        return "[pte] clear va=%#x (was %s)" % (f["addr"], describe_pte(f["pte"]))

    def _switch_mm(self, f):
        mm = f["mm"]
        return "[tlb] core %d switch_mm to asid %d (pgd %#x): whole TLB flushed" % (
            f["core"], mm.asid, mm.pgd)

    def _sched_switch(self, f):
        """Linux's sched_switch tracepoint; the idle task is swapper/N, pid 0."""
        core, prev, nxt = f["core"], f["prev"], f["next"]
        prev_comm, prev_pid = (prev.comm, prev.pid) if prev is not None else ("swapper/%d" % core, 0)
        return "[sched] core %d: prev_comm=%s prev_pid=%d ==> next_comm=%s next_pid=%d" % (
            core, prev_comm, prev_pid, nxt.comm, nxt.pid)

    def _mm_page_alloc(self, f):
        return "[kmem] alloc frame pa=%#x%s" % (f["pa"], " (zeroed)" if f["zero"] else "")

    def _mm_page_free(self, f):
        return "[kmem] free  frame pa=%#x" % f["pa"]

    def _tlb_flush(self, f):
        if f["start"] is None:
            return "[tlb] flush asid (whole mm)"
        return "[tlb] flush [%#x-%#x)" % (f["start"], f["end"])
