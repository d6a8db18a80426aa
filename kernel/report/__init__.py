"""`a53emu run --report FILE`: one self-contained HTML file of a run.

This package sits in kernel/ because it reads kernel objects (mm_struct,
VMAs, the rbtree, anon_vma, the page tables the kernel wrote); emu/ is the
hardware and knows none of them, and emu/cli.py only composes the two.

    record.py  the event-bus subscriber and the snapshots (what happened)
    render.py  the figures and the page (how it looks)
    svg.py     a small SVG writer (why not a library: see its docstring)
"""

from kernel.report.record import DEFAULT_LIMIT, Recorder, moment_text, parse_moment

__all__ = ["DEFAULT_LIMIT", "Recorder", "ReportRequest", "moment_text", "parse_moment"]

USAGE = "expected syscall:N, fault:N or exit (N >= 1)"


class ReportRequest:
    """What --report, --snapshot-at and --report-limit asked for."""

    def __init__(self, path, moments, limit):
        self.path = path
        self.moments = moments or [("exit", 0)]
        self.limit = limit
        self.recorder = None

    @classmethod
    def from_options(cls, opts):
        """The request, or raise ValueError with the one-line usage error."""
        texts = getattr(opts, "snapshot_at", None) or []
        if texts and not opts.report:
            raise ValueError("--snapshot-at needs --report FILE")
        moments = []
        for text in texts:
            m = parse_moment(text)
            if m is None:
                raise ValueError("--snapshot-at %r: %s" % (text, USAGE))
            if m not in moments:
                moments.append(m)
        limit = str(opts.report_limit)
        if not limit.isdigit() or int(limit) < 10:
            raise ValueError("--report-limit %r: expected a number, at least 10" % limit)
        return cls(opts.report, moments, int(limit)) if opts.report else None

    def start(self, kernel):
        self.recorder = Recorder(kernel, self.moments, self.limit)

    def write(self, out, argv, status_text):
        """Draw the report into the open file out."""
        from kernel.report.render import render
        out.write(render(self.recorder, argv, status_text))
        return [moment_text(m) for m in self.recorder.missed()]
