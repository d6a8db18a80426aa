"""The board as a place where several programs live: the scheduler's answers
to programs that misbehave (a deadlock, a fork bomb, Ctrl-C), frames given
back by exit and exec, repeatable --deterministic runs, and the two cores
both doing work."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, run_a53emu, userland_path


def env_clean():
    return {k: v for k, v in os.environ.items() if not k.startswith("A53_")}


def test_deadlock_is_reported(libc, tmp_path):
    """Two processes that read a pipe only they could write: the run ends
    with one line naming each task and what it waits in, exit 134."""
    p = run_a53emu([userland_path(libc, "hostile_procs"), "deadlock"], cwd=tmp_path,
                   env=env_clean(), timeout=60)
    assert p.returncode == 134, p.stderr
    lines = p.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert re.match(r"a53emu: deadlock: every task sleeps forever: 1 \(hostile_procs\) in "
                    r"read\(\); 2 \(hostile_procs\) in read\(\)", lines[0]), lines[0]


def test_fork_bomb_stops_at_the_task_limit(libc, tmp_path):
    """fork() fails with EAGAIN once the board's task limit (max_threads,
    from its RAM as Linux sizes it) is reached; every child is reaped."""
    p = run_a53emu(["--mem", "16M", userland_path(libc, "hostile_procs"), "forkbomb"],
                   cwd=tmp_path, env=env_clean(), timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == ("fork failed after some children: EAGAIN\n"
                                 "reaped every child: yes\n")


def test_exec_and_exit_give_every_frame_back(libc, tmp_path):
    """MemFree is the same after each exec of a program by itself (the old
    mm's frames and tables are all freed), and after 10 or 60 processes
    that touched 1 MiB each and were reaped."""
    p = run_a53emu([userland_path(libc, "hostile_procs"), "frames", "4"], cwd=tmp_path,
                   env=env_clean(), timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 7, lines
    execs = {ln for ln in lines[:5]}
    assert len(execs) == 1, lines
    assert lines[5] == lines[6] and lines[5].endswith("after forks"), lines


def test_ctrl_c_interrupts_the_guest(libc, tmp_path):
    """SIGINT to a53emu becomes SIGINT for the guest: a program spinning in
    user space dies of it (status 130), promptly."""
    cmd = [sys.executable, "-m", "emu", "run", str(userland_path(libc, "hostile_procs")), "spin"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_clean())
    try:
        assert proc.stdout.readline() == b"spinning\n"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert time.monotonic() - t0 < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGINT, err
    assert b"killed by SIGINT" in err
    assert b"Traceback" not in err


def test_deterministic_runs_are_identical(libc, tmp_path):
    """--deterministic switches tasks every fixed number of instructions and
    keeps time by them: two runs of a threaded program give the same output
    and the same syscall trace, byte for byte."""
    runs = []
    for i in range(2):
        trace = tmp_path / ("trace%d" % i)
        p = run_a53emu(["--deterministic", "--trace", "syscall,sched", "--trace-file", trace,
                        userland_path(libc, "threads")], cwd=tmp_path, env=env_clean(),
                       timeout=120)
        assert p.returncode == 0, p.stderr
        # The trace decodes times and buffers as strace does: the wall
        # clock (CLOCK_REALTIME: clock_gettime's result, an absolute futex
        # timeout) starts from the host's, and getrandom's bytes are the
        # host's; neither is shared by two deterministic runs.
        runs.append((p.stdout, b"\n".join(
            re.sub(rb'getrandom\("[^"]*"', b'getrandom("..."',
                   re.sub(rb"\{tv_sec=\d+, tv_nsec=\d+\}", b"{...}", line)
                   if b"CLOCK_REALTIME" in line else line)
            for line in trace.read_bytes().split(b"\n"))))
        trace.unlink()
    assert runs[0] == runs[1]
    assert b"clone(" in runs[0][1]
    assert b"[sched] core 1: prev_comm=swapper/1 prev_pid=0 ==> next_comm=threads" in runs[0][1]


def test_sched_trace_shows_which_core_runs_which_task(tmp_path):
    """--trace sched prints a sched_switch line whenever a core takes up a
    different task: the first task on each core comes after the idle task
    (swapper/N, pid 0), a dead task is never a prev, and each line's prev
    is the task the same core ran last."""
    p = run_a53emu(["--trace", "sched", userland_path("musl", "threads")], cwd=tmp_path,
                   env=env_clean(), timeout=120)
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stderr.decode().splitlines() if ln.startswith("[sched]")]
    assert lines[0] == ("[sched] core 0: prev_comm=swapper/0 prev_pid=0 ==> "
                        "next_comm=threads next_pid=1")
    last = {}
    for ln in lines:
        m = re.match(r"\[sched\] core (\d): prev_comm=\S+ prev_pid=(\d+) ==> "
                     r"next_comm=\S+ next_pid=(\d+)$", ln)
        assert m, ln
        core, prev, nxt = m.groups()
        assert prev != nxt
        assert prev == last.get(core, "0") or prev == "0", (ln, last)
        last[core] = nxt
    assert set(last) == {"0", "1"}


@pytest.mark.parametrize("cores,seen", [(1, "0"), (2, "0 1")])
def test_threads_use_every_core(libc, cores, seen, tmp_path):
    """Two spinning threads ask getcpu() where they run: with two cores both
    are used, with --cores 1 only core 0."""
    p = run_a53emu(["--cores", str(cores), userland_path(libc, "cores")], cwd=tmp_path,
                   env=env_clean(), timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == "cores seen: %s\n" % seen


@pytest.mark.parametrize("cores", [1, 2])
def test_threads_program_on_any_number_of_cores(libc, cores, tmp_path):
    p = run_a53emu(["--cores", str(cores), userland_path(libc, "threads")], cwd=tmp_path,
                   env=env_clean(), timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.decode().endswith("threads: all checks passed\n")


def test_a_slice_that_ends_at_once_leaves_a_woken_sleeper_at_its_call(monkeypatch, capfd):
    """A task woken from a sleeping call by a signal first runs the SVC
    again (which returns -ERESTART*), then takes the signal.  The tick may
    end its slice before that first instruction (its preempt may come as
    the slice starts): the signal must wait for the SVC all the same.  Taken at the SVC, the handler returned into the call, which
    started over: sys_tty's job slept again in sigsuspend() after its
    SIGHUP, and the run ended in a deadlock (CI, ~2% of runs).  Here every
    such slice is made to end at once."""
    from emu.board import Board
    from kernel.main import Kernel
    from kernel.sched.core import Scheduler
    from kernel.signal import signal_pending
    run_slice = Scheduler.run_slice
    forced = []

    def preempted_at_once(self, core, task, count):
        # (once a wake-up: the slice after it runs the SVC)
        if task.sleep_restart is not None and signal_pending(task) and \
                forced[-1:] != [task.pid]:
            forced.append(task.pid)
            core.run = lambda pc, count: None       # no instruction runs
            try:
                return run_slice(self, core, task, count)
            finally:
                del core.run
        return run_slice(self, core, task, count)
    monkeypatch.setattr(Scheduler, "run_slice", preempted_at_once)
    kernel = Kernel(Board(ram_size=64 << 20, cores=2))
    prog = str(userland_path("musl", "sys_tty"))
    task = kernel.exec_init(prog, [prog], [])
    kernel.run(task)
    out = capfd.readouterr().out
    assert forced                                    # the case was met
    assert task.exit_code == 0, out[-2000:]
    assert "its foreground job got SIGHUP: h" in out
