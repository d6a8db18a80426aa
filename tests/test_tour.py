"""docs/tour.md and its figures are what tools/tour.py makes of real runs
today: regenerated and compared (after a deliberate change to the kernel
or the report: `python tools/tour.py --write`)."""

import subprocess
import sys

import pytest

from conftest import IN_CI, ROOT, userland_path


@pytest.mark.slow
def test_tour_is_up_to_date():
    if not userland_path("glibc", "malloc_story").exists():
        if IN_CI:
            pytest.fail("the tour needs the glibc userland (aarch64-linux-gnu-gcc)")
        pytest.skip("glibc userland not built: the tour is made of glibc runs")
    r = subprocess.run([sys.executable, "tools/tour.py", "--check"], cwd=ROOT,
                       capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout.decode()[-4000:] + r.stderr.decode()[-2000:]


def test_tour_steps_are_the_articles():
    """The six steps of the article, each a command and its output."""
    text = (ROOT / "docs" / "tour.md").read_text(encoding="utf-8")
    titles = [line[3:].split(". ", 1)[1] for line in text.splitlines() if line.startswith("## ")]
    assert titles == ["The two structures", "The VMA operations", "malloc: brk or mmap",
                      "The four kinds of mapping", "The first fault on a page", "Copy-on-write"]
    assert text.count("\n$ ") == 6
    for name in ("structures", "rbtree", "munmap_split-vmas", "malloc-vmas", "va-split",
                 "descriptor"):
        svg = (ROOT / "docs" / "tour" / (name + ".svg")).read_text(encoding="utf-8")
        assert svg.startswith("<svg ") and "](tour/%s.svg)" % name in text
