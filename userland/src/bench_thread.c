/*
 * bench_thread.c - thread creation cost: pthread_create() + pthread_join().
 *
 * Each cycle maps a stack (mmap + guard page), clone()s with CLONE_VM |
 * CLONE_THREAD | CLONE_SETTLS | CLONE_CHILD_CLEARTID ..., runs the thread,
 * which returns at once, and joins it (a futex wait on the tid word the
 * kernel clears at exit).
 * Usage: bench_thread [cycles]   (default 1000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_timing.h"

static void *body(void *arg)
{
    return (void *)((long)arg + 1);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long ok = 0;

    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        pthread_t t;
        void *ret;
        if (pthread_create(&t, NULL, body, (void *)i) == 0 && pthread_join(t, &ret) == 0 &&
            (long)ret == i + 1)
            ok++;
    }
    double t1 = bench_now();
    printf("bench_thread: %ld create+join cycles, %s\n", n,
           ok == n ? "every thread returned its value" : "some thread failed!");
    bench_rate(n, t1 - t0, "threads/s");
    return ok != n;
}
