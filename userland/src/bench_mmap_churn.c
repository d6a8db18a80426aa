/*
 * bench_mmap_churn.c - VMA create/destroy cost.
 *
 * Each cycle: mmap one anonymous page (do_mmap: find a free range, insert a
 * VMA), touch it (one page fault), munmap it (do_munmap: zap the PTE, free
 * the page, remove the VMA).  Stresses the VMA tree and page allocator.
 * Usage: bench_mmap_churn [cycles]   (default 100000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "bench_timing.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000L;
    long ok = 0;

    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        ok += p[0] == 0;        /* a fresh page is always zero */
        p[0] = (char)i;
        if (munmap((void *)p, 4096) != 0) {
            perror("munmap");
            return 1;
        }
    }
    double t1 = bench_now();
    printf("bench_mmap_churn: %ld mmap/touch/munmap cycles, %s\n", n,
           ok == n ? "every page started zeroed" : "saw a non-zero fresh page!");
    bench_rate(n, t1 - t0, "cycles/s");
    return ok != n;
}
