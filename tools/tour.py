"""docs/tour.md: the seed article walked with real runs, generated.

    python tools/tour.py --write     regenerate docs/tour.md and docs/tour/*.svg
                                     (and docs/report-screenshot.png when
                                     chromium is installed)
    python tools/tour.py --check     regenerate in memory and compare (the test)

Each step is a command run from the checkout's root, and its output or a
figure cut out of the HTML report of the run (kernel/report/).  The runs are
--deterministic, in a fixed small environment, with the checkout's path
taken out of the text, so the same userland builds give the same tour on
any machine.  The glibc builds are used (the article's allocator).
"""

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
FIGS = os.path.join(DOCS, "tour")
PROG = "userland/build/glibc/"
# The environment of every run, the guest's included: nothing of the host's.
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": "/"}

STEPS = [
    ("The two structures",
     "A process's address space is one `struct mm_struct`; each region of it is a "
     "`struct vm_area_struct` (a VMA), kept twice: in the sorted list `mm->mmap` "
     "(`vm_next`) and in the red-black tree `mm->mm_rb`, whose nodes also carry "
     "`rb_subtree_gap`, the largest free gap below them, for `get_unmapped_area()`. "
     "Here are the VMAs of the smallest program as it exits, as /proc/PID/maps prints "
     "them (the host file's device and inode numbers left out):",
     "a53emu run --deterministic --maps --report {tmp}/hello.html " + PROG + "hello",
     "stderr", None,
     [("hello.html", "mm_struct, VMA list, vm_file and anon_vma", "structures.svg",
       "mm_struct → the VMA list → vm_file (the program's text and data, the vdso) "
       "and anon_vma (the pages written)"),
      ("hello.html", "rbtree of the VMAs", "rbtree.svg",
       "the same VMAs in the rbtree: node colours and rb_subtree_gap as the kernel keeps them")]),
    ("The VMA operations",
     "Inserting, merging, splitting and removing VMAs are what `mmap`, `munmap`, "
     "`mprotect` and `brk` do to these structures. Punching a one-page hole in a "
     "five-page mapping splits its VMA twice and removes the middle piece:",
     "a53emu run --deterministic --trace vma --report {tmp}/split.html " + PROG
     + "munmap_split",
     "stderr", r"0xfffff7ff[0-9a-f]{3}000-",
     [("split.html", "VMAs over time", "munmap_split-vmas.svg",
       "the VMAs of munmap_split over time: each band a VMA; the split appears where "
       "one band becomes two")]),
    ("malloc: brk or mmap",
     "`malloc()` takes small blocks from the heap, whose end is the program break "
     "(`sys_brk` → `do_brk_flags()` grows the heap VMA; shrinking it unmaps its top), "
     "and large ones (above glibc's 128 KiB threshold) from a private anonymous "
     "`mmap()`, which `free()` gives back with `munmap()`. `tools/story.py` keeps the "
     "calls that change the address space and the VMA operations they made:",
     "python tools/story.py --report {tmp}/malloc.html " + PROG + "malloc_story",
     "stdout", r"^(?!report: )",
     [("malloc.html", "VMAs over time", "malloc-vmas.svg",
       "malloc_story's VMAs over time: the heap (orange) grows and shrinks with brk, "
       "the 1 MiB block (yellow, top) lives from its mmap to its munmap")]),
    ("The four kinds of mapping",
     "Private or shared, anonymous or backed by a file: a private anonymous page "
     "starts as the zero page and is copied on the first write; shared anonymous "
     "memory is a shmem file (`/dev/zero (deleted)`); a private file mapping reads "
     "the page cache and copies a page when written; a shared file mapping writes "
     "the page-cache page itself, which `msync` writes back:",
     "python tools/story.py " + PROG + "mmap_kinds",
     "stdout", None,
     []),
    ("The first fault on a page",
     "Nothing is mapped until it is touched: `load_elf_binary()` only creates the "
     "VMAs, and the first instruction fetch faults (a translation fault at level 3, "
     "or higher while the tables are still missing). `do_page_fault()` finds the VMA "
     "and `handle_mm_fault()` writes the descriptor. The hardware's walk of that "
     "address as the program exits:",
     "a53emu walk --deterministic --at exit --report {tmp}/walk.html " + PROG
     + "hello -- 0x400000",
     "stdout", None,
     [("walk.html", "VA bit split of", "va-split.svg",
       "the VA split: one 9-bit index per level, then the offset in the page"),
      ("walk.html", "descriptor L3[", "descriptor.svg",
       "a level-3 descriptor as the MMU reads it: output address, AP, UXN/PXN, AF, SH, "
       "nG, AttrIndx, and the bits Linux keeps for itself (55: dirty, 56: special)")]),
    ("Copy-on-write",
     "After `fork()` parent and child share every private page read-only; the first "
     "write by either is a permission fault that `do_wp_page()` resolves by copying "
     "the page (the pte before and after):",
     "a53emu run --deterministic --trace fault " + PROG + "fork_cow 2>&1 >/dev/null "
     "| grep -m 3 copy-on-write",
     "stdout", None, []),
]


def run(command, tmp):
    """The command's output as a reader would see it (the checkout's path and
    the temporary directory taken out)."""
    shell = command.format(tmp=tmp)
    # bash exports PWD, SHLVL and _ (the interpreter's path): the guest's
    # stack would hold them, and its addresses move with the checkout's path.
    shell = re.sub(r"^a53emu ", 'env -u PWD -u SHLVL -u _ "%s" -m emu ' % sys.executable, shell)
    shell = re.sub(r"^python ", '"%s" ' % sys.executable, shell)
    r = subprocess.run(["bash", "-c", shell], cwd=ROOT, env=ENV, capture_output=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    return r.stdout.decode(), r.stderr.decode()


# /proc/PID/maps's device and inode of a host file: the host's, not the run's.
MAPS_DEV_INO = re.compile(
    r"^([0-9a-f]+-[0-9a-f]+ \S{4} [0-9a-f]{8}) [0-9a-f]{2}:[0-9a-f]{2} [1-9]\d*", re.M)


def clean(text, tmp):
    text = MAPS_DEV_INO.sub(r"\1 DEV:DEV INODE", text)
    return text.replace(ROOT + "/", "").replace(tmp, "/tmp/tour")


def extract_svg(html, title):
    """The <svg> whose <title> starts with `title`."""
    at = html.index("<title>" + title)
    start = html.rindex("<svg", 0, at)
    return html[start:html.index("</svg>", at) + len("</svg>")] + "\n"


def generate():
    """{path relative to docs/: text} of the tour."""
    files = {}
    tmp = tempfile.mkdtemp(prefix="a53emu-tour-")
    try:
        md = ["# A tour of the seed article, with real runs",
              "",
              "Generated by `python tools/tour.py --write` from real runs of the programs in "
              "`userland/` (glibc builds, `--deterministic`); `tests/test_tour.py` regenerates "
              "it and compares. Each step is a command and its output, or a figure cut out of "
              "the HTML report of the same run (`a53emu run --report FILE`). The article is "
              "`../shared/seed/` (Linux 4.14 on a dual Cortex-A53); `a53emu` is shown as "
              "installed by `make setup` (`.venv/bin/a53emu`).", ""]
        for i, (title, prose, command, stream, keep, figs) in enumerate(STEPS, 1):
            out, err = run(command, tmp)
            text = clean(out if stream == "stdout" else err, tmp)
            if keep is not None:
                text = "".join(line + "\n" for line in text.splitlines() if re.search(keep, line))
            md += ["## %d. %s" % (i, title), "", prose, "", "```", "$ " + command.format(
                tmp="/tmp/tour"), text.rstrip("\n"), "```", ""]
            for report, svg_title, name, caption in figs:
                with open(os.path.join(tmp, report), encoding="utf-8") as f:
                    html = f.read()
                files["tour/" + name] = clean(extract_svg(html, svg_title), tmp)
                md += ["![%s](tour/%s)" % (caption, name), "", "*%s*" % caption, ""]
        md += ["The whole report of a run has these figures and more: the layout at exit, "
               "the page-table tree with every descriptor decoded and linked to its VMA, and "
               "the fault timeline beside the system calls. `make demo` writes one to "
               "`build/demo/malloc_story.html`.", ""]
        files["tour.md"] = "\n".join(md)
        files["_report"] = os.path.join(tmp, "malloc.html")
        screenshot(files["_report"], files)
    finally:
        shutil.rmtree(tmp)
    return files


def screenshot(report, files):
    """docs/report-screenshot.png of the malloc report, when chromium is here
    (not compared by --check: a browser's pixels are its own)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return
    with tempfile.TemporaryDirectory() as d:
        shot = os.path.join(d, "shot.png")
        subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                        "--user-data-dir=" + os.path.join(d, "profile"), "--hide-scrollbars",
                        "--window-size=1250,1500", "--screenshot=" + shot,
                        "file://" + report], capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL,
                       env=dict(os.environ, HOME=d, XDG_CACHE_HOME=d, XDG_CONFIG_HOME=d))
        if os.path.exists(shot):
            with open(shot, "rb") as f:
                files["_png"] = f.read()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    opts = p.parse_args(argv)
    files = generate()
    png = files.pop("_png", None)
    files.pop("_report")
    if opts.write:
        os.makedirs(FIGS, exist_ok=True)
        for name, text in files.items():
            with open(os.path.join(DOCS, name), "w", encoding="utf-8") as f:
                f.write(text)
        if png is not None:
            with open(os.path.join(DOCS, "report-screenshot.png"), "wb") as f:
                f.write(png)
        return 0
    status = 0
    for name, text in files.items():
        path = os.path.join(DOCS, name)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
        if old != text:
            status = 1
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), text.splitlines(True), "docs/" + name, "regenerated",
                n=1))
    if status:
        print("docs/ differs from the runs: python tools/tour.py --write", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
