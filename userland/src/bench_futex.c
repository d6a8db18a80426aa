/*
 * bench_futex.c - futex ping-pong between two threads.
 *
 * Two threads hand a token back and forth through one word: each waits
 * with FUTEX_WAIT_PRIVATE until the word holds its number, the other sets
 * it and FUTEX_WAKE_PRIVATEs.  Every round trip is two waits and two wakes
 * (futex_wait_queue_me / futex_wake and the scheduler's wake-up path).
 * Usage: bench_futex [round-trips]   (default 20000)
 */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_timing.h"

static int word;                    /* whose turn: 0 = main, 1 = partner */
static long rounds;

static void wait_for_turn(int me)
{
    int v;
    while ((v = __atomic_load_n(&word, __ATOMIC_ACQUIRE)) != me)
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void give_turn(int to)
{
    __atomic_store_n(&word, to, __ATOMIC_RELEASE);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *partner(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        wait_for_turn(1);
        give_turn(0);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t;

    rounds = argc > 1 ? atol(argv[1]) : 20000;
    pthread_create(&t, NULL, partner, NULL);
    double t0 = bench_now();
    for (long i = 0; i < rounds; i++) {
        give_turn(1);
        wait_for_turn(0);
    }
    double t1 = bench_now();
    pthread_join(t, NULL);
    printf("bench_futex: %ld round trips between two threads\n", rounds);
    bench_rate(rounds, t1 - t0, "round-trips/s");
    return 0;
}
