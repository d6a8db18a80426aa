/*
 * bench_fault.c - page-fault cost.
 *
 * mmap() of N MiB only creates a VMA: no memory is allocated.  Each first
 * touch of a 4 KiB page traps into the fault handler (do_anonymous_page),
 * which allocates a zeroed page and installs a page-table entry.  So this
 * loop performs exactly one page fault per iteration.
 * Usage: bench_fault [MiB]   (default 64)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "bench_timing.h"

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 64;
    size_t len = (size_t)mib << 20;
    unsigned long pages = 0, sum = 0;
    volatile unsigned char *p;

    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    double t0 = bench_now();
    for (size_t off = 0; off < len; off += 4096) {
        p[off] = 1;             /* write fault: do_anonymous_page() maps a zeroed frame */
        pages++;
    }
    double t1 = bench_now();
    getrusage(RUSAGE_SELF, &after);
    for (size_t off = 0; off < len; off += 4096)
        sum += p[off];          /* no faults now: pages are present */
    printf("bench_fault: touched %lu pages (%ld MiB), checksum %lu\n", pages, mib, sum);
    bench_rate(after.ru_minflt - before.ru_minflt, t1 - t0, "faults/s");
    munmap((void *)p, len);
    return sum != pages;
}
