"""No translation outlives munmap or mprotect (issue 8, "Bad input").

userland/src/tlb_stale.c maps, touches and unmaps pages at the same
addresses thousands of times, handing the freed frames to other pages in
between, so a stale TLB entry reads another page's bytes; then it checks
mprotect(PROT_READ) and files mapped in turn at one address.  It runs under
a53emu with the per-page TLB invalidate (QEMU's tlb_flush_page, found at
start-up: emu/cpu.py _find_tlb_flush_page) and with the whole-TLB fallback
used when that is not available, and prints what the host kernel prints.
"""

import os
import subprocess

import pytest

from conftest import run_a53emu, userland_path
from emu.board import Board
from kernel.main import Kernel

ROUNDS = "1500"


def host_output(tmp_path):
    host = userland_path("host", "tlb_stale")
    if not host.exists():
        pytest.skip("host build missing: make -C userland host")
    p = subprocess.run([str(host), ROUNDS], cwd=tmp_path, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stdout
    return p.stdout


def test_no_stale_translation_matches_the_host(libc, tmp_path):
    expected = host_output(tmp_path)
    p = run_a53emu([userland_path(libc, "tlb_stale"), ROUNDS], cwd=tmp_path, timeout=300)
    assert (p.returncode, p.stdout) == (0, expected), p.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("per_page", [True, False], ids=["tlb_flush_page", "whole_tlb"])
def test_no_stale_translation_on_either_flush_path(per_page, tmp_path, monkeypatch, capfd):
    board = Board(ram_size=128 << 20, cores=2)
    for core in board.cores:
        if per_page:
            assert core._tlb_flush_page is not None     # the pinned Unicorn has it
        else:
            core._tlb_flush_page = None
    kernel = Kernel(board)
    prog = str(userland_path("musl", "tlb_stale"))
    monkeypatch.chdir(tmp_path)
    task = kernel.exec_init(prog, [prog, ROUNDS], [])
    kernel.run(task)
    out = capfd.readouterr().out
    assert task.exit_code == 0, out
    assert out.encode() == host_output(tmp_path)
