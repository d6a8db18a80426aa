"""tools/ltp.py's own bookkeeping: a test killed at its timeout under
qemu-aarch64 leaves LTP's results page in the host's /dev/shm, and the
runner removes it (only the pages that run made)."""

import os
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import ltp  # noqa: E402


def test_run_one_removes_the_results_pages_it_left(tmp_path):
    old = os.path.join(ltp.HOST_SHM, "ltp_a53emu_test_old_%d" % os.getpid())
    new = os.path.join(ltp.HOST_SHM, "ltp_a53emu_test_new_%d" % os.getpid())
    open(old, "w").close()
    try:
        status = ltp.run_one(["sh", "-c", "touch %s" % new], dict(os.environ), cwd=tmp_path)[1]
        assert status == 0
        assert not os.path.exists(new)
        assert os.path.exists(old)          # not this run's: left alone
    finally:
        for path in (old, new):
            if os.path.exists(path):
                os.unlink(path)


def test_a_test_that_would_step_the_hosts_clock_is_not_run_on_it_as_root():
    """leapsec01 under qemu-aarch64 as root inserts a leap second into the
    host's own clock (its adjtimex() is the host's); as another user it
    only gets EPERM, and on a53emu it changes the board's clock."""
    assert "leap second" in ltp.host_run_refused("leapsec01", 0)
    assert ltp.host_run_refused("leapsec01", 1000) is None
    assert ltp.host_run_refused("mmap01", 0) is None
    assert ltp.fmt((None, ltp.host_run_refused("leapsec01", 0), "")).startswith(
        "no summary (not run on the host")
