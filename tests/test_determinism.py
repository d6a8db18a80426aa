"""--deterministic: what a program reads from outside itself repeats from run
to run — the wall clock starts at a fixed date (Linux 4.14's release,
2017-11-12 00:00 UTC) and advances with the instructions run, and
getrandom/AT_RANDOM come from a seeded generator (kernel/random.py).
Without it, they are the host's."""
import time

from conftest import run_a53emu, userland_path

DETERMINISTIC_EPOCH = 1510444800


def values(libc, *opts):
    p = run_a53emu(list(opts) + [userland_path(libc, "determinism")])
    assert p.returncode == 0, p.stderr
    return dict(line.split(" ", 1) for line in p.stdout.decode().splitlines())


def test_two_deterministic_runs_read_the_same_world(libc):
    first, second = values(libc, "--deterministic"), values(libc, "--deterministic")
    assert first == second
    for clock in ("CLOCK_REALTIME", "CLOCK_TAI", "gettimeofday", "time", "btime", "shm_ctime"):
        assert int(first[clock]) == DETERMINISTIC_EPOCH, clock
    assert first["getrandom"] != first["AT_RANDOM"]


def test_without_it_the_world_is_the_hosts(libc):
    before = time.time()
    first, second = values(libc), values(libc)
    after = time.time()
    for clock in ("CLOCK_REALTIME", "gettimeofday", "time", "shm_ctime"):
        assert before - 1 <= int(first[clock]) <= after + 1, clock
    assert int(first["btime"]) <= int(first["time"])
    assert first["getrandom"] != second["getrandom"]
    assert first["AT_RANDOM"] != second["AT_RANDOM"]


def test_the_clock_advances_inside_a_slice():
    """Under --deterministic the clock counts the running core's instructions
    as they run, not only at slice ends: bench_fault's timed loop (far less
    than a slice of 200,000 instructions for 16 pages) reads two different
    times, and the same two in every run."""
    def rate():
        p = run_a53emu(["--deterministic", userland_path("musl", "bench_fault"), "1"])
        assert p.returncode == 0, p.stderr
        return [line for line in p.stdout.decode().splitlines() if line.startswith("rate: ")]
    first = rate()
    assert first == rate()
    assert first and first[0] != "rate: 0 faults/s"
