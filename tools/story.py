"""The seed article's story of a run, in a screenful (`make demo`).

    python tools/story.py [--report FILE] [--title TEXT] PROGRAM [ARGS...]

Runs PROGRAM on the board (--deterministic, a fixed small environment) and
prints the trace filtered to what the article is about: the calls that
change the address space (brk, mmap, munmap, mprotect, ...) in strace's
form, each VMA operation they cause, and the first page fault of each kind.
Everything else is counted and summarised at the end, never dropped
silently.  With --report, the HTML report of the same run is written too.

It composes the board and the kernel as emu/cli.py does, and reads the
events from the bus (kernel/trace.py), not the printed trace.
"""

import argparse
import collections
import io
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from emu.board import Board                                    # noqa: E402
from kernel.main import Kernel, exit_status                    # noqa: E402
from kernel.report import ReportRequest                        # noqa: E402
from kernel.report.record import short_vma, vma_kind                    # noqa: E402
from kernel.syscalls.strace import StracePrinter               # noqa: E402
from kernel.syscalls.table import syscall_name                 # noqa: E402
from kernel.trace import Tracer                                # noqa: E402

# The calls the article is about: each is shown with the VMA operations it made.
TOLD = ("brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "msync", "mlock", "munlock",
        "mlockall", "munlockall", "mlock2", "shmat", "shmdt", "execve", "clone", "exit_group")
# The guest's environment: fixed, so the story is the same on every machine
# (glibc's first mallocs depend on it).
ENVIRONMENT = ["PATH=/usr/bin:/bin", "HOME=/", "LANG=C"]


class Story:
    """A sink after the report's recorder: prints what matters, counts the rest."""

    def __init__(self, out, rec, root):
        """root: a directory whose name is left out of the paths printed
        (and so is the working directory's)."""
        self.out = out
        self.exec_vmas = []                     # until the first call: execve's VMAs
        self.pending = None                     # an insert that a split may explain
        self.rec = rec
        self.roots = (root, os.getcwd())
        self.strace = StracePrinter(None)
        self.quiet = collections.Counter()      # calls not shown, by name
        self.kinds_seen = set()
        self.brk = None

    def say(self, text):
        """Print a line (after the insert it may have been waiting for)."""
        self.say_pending()
        for root in self.roots:
            text = text.replace(root + "/", "")
        self.out.write(text + "\n")

    def end_exec(self):
        """The first system call: what came before was execve's load_elf_binary."""
        inserted, self.exec_vmas = self.exec_vmas, None
        if inserted:
            self.say("execve: load_elf_binary() inserts %d VMAs: %s" % (
                len(inserted), ", ".join(inserted)))

    def __call__(self, kind, f):
        handler = getattr(self, "_" + kind, None)
        if handler is not None:
            handler(f)

    def _syscall(self, f):
        d = f["d"]
        if f["ret"] is None and (d is None or d.ret != "n"):
            return
        name = syscall_name(f["nr"])
        if self.exec_vmas is not None:
            self.end_exec()
        if name not in TOLD or (name == "brk" and f["args"][0] == 0):
            self.quiet["brk(NULL)" if name == "brk" else name] += 1
            if name == "brk" and self.brk is None:
                self.brk = f["ret"]
            return
        self.say(self.strace.line(f) + self.note(name, f))

    def note(self, name, f):
        """Why the line matters, in the article's words."""
        ret, args = f["ret"], f["args"]
        if name == "brk" and isinstance(ret, int):
            before, self.brk = self.brk, ret
            if before is not None and ret > before:
                return "    <- the heap grows %s (do_brk_flags)" % kib(ret - before)
            if before is not None and ret < before:
                return "    <- the heap shrinks %s (do_munmap of its top)" % kib(before - ret)
        if name == "mmap" and isinstance(ret, int) and ret > 0:
            return "    <- %s mapped (do_mmap)" % kib(args[1])
        if name == "munmap" and ret == 0:
            return "    <- %s unmapped (do_munmap)" % kib(args[1])
        return ""

    def _vma(self, text):
        self.say("    [vma] " + text)

    def _vma_insert(self, f):
        """__split_vma() inserts the new piece before it says "split": the
        split line tells both, so an insert waits to see whether a split follows."""
        if self.exec_vmas is not None:
            self.exec_vmas.append(vma_kind(f["vma"]))
            return
        self.say_pending()
        self.pending = ("insert", "    [vma] insert %s" % short_vma(f["vma"]), f["vma"])

    def say_pending(self):
        if self.pending is not None:
            line, self.pending = self.pending[1], None
            self.say(line)

    def _vma_merge(self, f):
        self._vma("merge [%#x-%#x) into %s" % (f["start"], f["end"], short_vma(f["vma"])))

    def _vma_split(self, f):
        if self.pending is not None and self.pending[2] in (f["vma"], f["new"]):
            self.pending = None
        self.say_pending()
        # a split is often the first half of an unmap: it waits for the remove
        self.pending = ("split", "    [vma] split at %#x: %s | %s" % (
            f["addr"], short_vma(f["vma"]), short_vma(f["new"])), f["addr"])

    def _vma_remove(self, f):
        pending, vma = self.pending, f["vma"]
        if pending is not None and pending[0] == "split" and f["reason"] == "unmapped" and \
                pending[2] in (vma.vm_start, vma.vm_end):
            self.pending = None
            self._vma("split at %#x, remove (unmapped) %s" % (pending[2], short_vma(vma)))
            return
        self._vma("remove (%s) %s" % (f["reason"], short_vma(vma)))

    def _vma_expand(self, f):
        what = "mremap grows it in place" if f.get("why") == "mremap" else "the stack grows"
        self._vma("%s: %s" % (what, short_vma(f["vma"])))

    def _vma_mprotect(self, f):
        self._vma("mprotect [%#x-%#x): %s" % (f["start"], f["end"], short_vma(f["vma"])))

    def _fault(self, f):
        if self.exec_vmas is not None:
            self.end_exec()
        rec = self.rec
        if not rec.faults or rec.faults[-1]["n"] != rec.nfault:
            return          # past the recorder's limit: counted there
        last = rec.faults[-1]
        vma = last["vma"]
        where = (vma[4] or vma[3]).rsplit("/", 1)[-1] if vma else "no VMA"
        key = (last["kind"], where, vma[2] if vma else "")
        if key in self.kinds_seen:
            return
        self.kinds_seen.add(key)
        self.say("    [fault] first %r fault: %#x in %s, %s -> %s" % (
            last["kind"], last["va"], where, last["esr_text"], last["detail"]))

    def summary(self):
        self.say_pending()
        rec = self.rec
        kinds = collections.Counter()
        for (kind, _), n in rec.fault_counts.items():
            kinds[kind] += n
        self.say("not shown: %s" % ", ".join(
            "%d %s" % (n, name) for name, n in sorted(self.quiet.items(),
                                                      key=lambda kv: (-kv[1], kv[0]))))
        self.say("page faults: %d (%s); the first of each kind in each mapping is shown" % (
            rec.nfault, ", ".join("%s %d" % (k, n) for k, n in sorted(
                kinds.items(), key=lambda kv: (-kv[1], kv[0])))))


def kib(n):
    return "%d KiB" % (n >> 10) if n >= 1024 and not n % 1024 else "%d bytes" % n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--report", metavar="FILE", help="also write the HTML report of the run")
    p.add_argument("--title", help="a heading line to print first")
    p.add_argument("program")
    p.add_argument("args", nargs=argparse.REMAINDER)
    opts = p.parse_args(argv)
    trace = Tracer()
    board = Board(cores=2)
    kernel = Kernel(board, trace=trace, deterministic=True)
    request = ReportRequest(opts.report, [("exit", 0)], 1000)
    request.start(kernel)
    out = sys.stdout
    told = io.StringIO()
    story = Story(told, request.recorder, os.path.dirname(os.path.abspath(opts.program)))
    trace.subscribe(story)
    if opts.title:
        out.write(opts.title + "\n")
    out.flush()
    with tempfile.TemporaryFile() as guest:
        # the program's own output is not the story: exec_init hands the
        # guest a copy of fd 1, so point fd 1 elsewhere around it
        saved = os.dup(1)
        os.dup2(guest.fileno(), 1)
        try:
            task = kernel.exec_init(opts.program, [opts.program] + opts.args, ENVIRONMENT)
            kernel.run(task)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        guest.seek(0)
        printed = guest.read().count(b"\n")
    story.summary()
    out.write(told.getvalue())
    status = exit_status(task)
    if task.death is not None and task.death.internal:
        sys.stderr.write(task.death.traceback or task.death.reason)
    out.write("exit status %d; the program printed %d lines of its own (run it alone to read "
              "them)\n" % (status, printed))
    if opts.report:
        with open(opts.report, "w", encoding="utf-8") as f:
            request.write(f, [opts.program] + opts.args, "exit status %d" % status)
        out.write("report: %s\n" % opts.report)
    return status


if __name__ == "__main__":
    sys.exit(main())
