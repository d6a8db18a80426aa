/*
 * bench_fault_vmas.c - does the fault path slow down with many VMAs?
 *
 * First creates N (argv[1], default 10) one-page mappings that cannot merge
 * (each is followed by a hole), so the address space has N more VMAs in its
 * red-black tree; then times write faults over a fresh 32 MiB mapping.
 * find_vma() is O(log N) and cached, so the rate should barely change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "bench_timing.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10;
    char *base = (char *)0x100000000UL;
    for (long i = 0; i < n; i++) {
        char *p = mmap(base + i * 8192, 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
    }
    size_t len = 32 << 20;
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    double t0 = bench_now();
    for (size_t off = 0; off < len; off += 4096)
        p[off] = 1;
    double t1 = bench_now();
    getrusage(RUSAGE_SELF, &after);
    printf("bench_fault_vmas: %ld extra VMAs\n", n);
    bench_rate(after.ru_minflt - before.ru_minflt, t1 - t0, "faults/s");
    return 0;
}
