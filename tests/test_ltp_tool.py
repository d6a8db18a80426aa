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
