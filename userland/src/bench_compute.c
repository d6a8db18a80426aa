/*
 * bench_compute.c - pure user-mode CPU work, no syscalls in the loop.
 *
 * Measures how fast the emulator executes ordinary integer code
 * (arithmetic, shifts, multiplies, a data-dependent branch, loads and
 * stores to a small table that stays in a few already-faulted pages).
 * Usage: bench_compute [iterations]   (default 150000000, ~1.5 s under qemu-aarch64)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 150000000L;
    static uint32_t table[1024];
    uint64_t h = 0xcbf29ce484222325ULL;     /* FNV offset basis */

    for (long i = 0; i < n; i++) {
        h ^= (uint64_t)i;
        h *= 0x100000001b3ULL;              /* FNV prime */
        h ^= h >> 29;
        if (h & 1)
            table[h & 1023] += (uint32_t)h;
        else
            h += table[(h >> 7) & 1023];
    }
    printf("bench_compute: %ld iterations, result %016llx\n", n,
           (unsigned long long)h);
    return 0;
}
