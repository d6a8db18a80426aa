/*
 * bench_store.c - stores over a working set bigger than a small TLB.
 *
 * The buffer is touched once first (its page faults are not timed), then
 * PASSES sweeps store one 64-bit word per 64-byte cache line over all of
 * it.  Every page is visited on every pass, so an emulator whose software
 * TLB holds fewer pages than the buffer refills it throughout: the rate
 * shows what a big working set costs beyond the instructions themselves.
 * Usage: bench_store [MiB] [passes]   (default 16 MiB, 8 passes)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "bench_timing.h"

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 16;
    long passes = argc > 2 ? atol(argv[2]) : 8;
    size_t len = (size_t)mib << 20;
    uint64_t sum = 0;

    volatile uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t off = 0; off < len / 8; off += 512)
        p[off] = 0;                         /* the faults, untimed */
    double t0 = bench_now();
    for (long pass = 0; pass < passes; pass++)
        for (size_t i = 0; i < len / 8; i += 8)
            p[i] = i + pass;
    double t1 = bench_now();
    for (size_t i = 0; i < len / 8; i += 8)
        sum += p[i];
    printf("bench_store: %ld MiB x %ld passes, checksum %016llx\n", mib, passes,
           (unsigned long long)sum);
    bench_rate((double)mib * passes, t1 - t0, "MiB/s");
    munmap((void *)p, len);
    return 0;
}
