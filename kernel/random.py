"""drivers/char/random.c, the part the board needs: get_random_bytes() for
getrandom(2) and the AT_RANDOM bytes of every exec.

The bytes are the host's (os.urandom), or under --deterministic a generator's
seeded with a fixed value, so that two runs are the same byte for byte (glibc
takes its stack protector and pointer guard from AT_RANDOM, and programs seed
their hash tables from getrandom).  /dev/urandom itself is the host's file."""

import os

DETERMINISTIC_SEED = 414        # any fixed value: 4.14


class EntropyPool:
    """The board's random source (one per kernel; no global state)."""

    def __init__(self, deterministic=False):
        self._rng = None
        if deterministic:
            import random       # only here: ~1 ms of every start otherwise (issue 8)
            self._rng = random.Random(DETERMINISTIC_SEED)

    def get_random_bytes(self, nbytes):
        """get_random_bytes(): nbytes of randomness (the host's CSPRNG, or
        the seeded generator under --deterministic)."""
        if self._rng is None:
            return os.urandom(nbytes)
        return self._rng.randbytes(nbytes)
