/*
 * bench_threads_compute.c - two threads computing, no system calls.
 *
 * Each thread runs bench_compute's integer hash loop for n iterations on
 * its own table; on a two-core board they should run in parallel, one per
 * core (a53emu's --stats line shows the instructions each core retired).
 * The main thread only waits.  The printed results are deterministic.
 * Usage: bench_threads_compute [iterations-per-thread]   (default 50000000)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_timing.h"

struct work {
    long n;
    uint64_t seed, result;
    uint32_t table[1024];
};

static void *compute(void *arg)
{
    struct work *w = arg;
    uint64_t h = w->seed;

    for (long i = 0; i < w->n; i++) {
        h ^= (uint64_t)i;
        h *= 0x100000001b3ULL;              /* FNV prime */
        h ^= h >> 29;
        if (h & 1)
            w->table[h & 1023] += (uint32_t)h;
        else
            h += w->table[(h >> 7) & 1023];
    }
    w->result = h;
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 50000000L;
    static struct work w[2];
    pthread_t t[2];

    double t0 = bench_now();
    for (int i = 0; i < 2; i++) {
        w[i].n = n;
        w[i].seed = 0xcbf29ce484222325ULL + (uint64_t)i;
        pthread_create(&t[i], NULL, compute, &w[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double t1 = bench_now();
    printf("bench_threads_compute: 2 threads x %ld iterations, results %016llx %016llx\n", n,
           (unsigned long long)w[0].result, (unsigned long long)w[1].result);
    bench_rate(2.0 * n, t1 - t0, "iterations/s");
    return 0;
}
