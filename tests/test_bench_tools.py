"""The bench's own tools do what bench/run.py relies on.

bench/bare.py runs a static program on bare Unicorn (the engine's floor
for issue 8's "compute vs bare Unicorn" row) and must produce the program's
own output; bench_store must compute the same checksum everywhere, so the
store-loop rows compare like with like.
"""

import subprocess
import sys

from conftest import ROOT, run_a53emu, run_qemu, userland_path

BARE = [sys.executable, str(ROOT / "bench" / "bare.py")]


def test_bare_unicorn_runs_a_static_program(tmp_path):
    compute = [str(userland_path("musl", "bench_compute")), "100000"]
    b = subprocess.run(BARE + compute, capture_output=True, cwd=tmp_path, timeout=120)
    a = run_a53emu(compute, cwd=tmp_path)
    assert b.returncode == a.returncode == 0, b.stderr.decode(errors="replace")
    assert b.stdout == a.stdout
    assert b.stdout.startswith(b"bench_compute: 100000 iterations, result ")


def test_bare_unicorn_refuses_no_program():
    b = subprocess.run(BARE, capture_output=True, timeout=60)
    assert b.returncode == 1 and b"usage:" in b.stderr


def test_store_loop_checksum_matches_qemu(tmp_path):
    store = [str(userland_path("musl", "bench_store")), "4", "2"]
    a = run_a53emu(store, cwd=tmp_path)
    q = run_qemu(store, cwd=tmp_path)
    assert a.returncode == q.returncode == 0
    first = a.stdout.splitlines()[0]
    assert first == q.stdout.splitlines()[0] == b"bench_store: 4 MiB x 2 passes, checksum " \
        b"00000003fffd0000"
    assert a.stdout.splitlines()[1].startswith(b"rate: ")
