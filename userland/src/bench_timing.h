/*
 * bench_timing.h - how the bench programs time themselves.
 *
 * Each benchmark times only its measured loop with CLOCK_MONOTONIC, so the
 * emulator's start-up (loading the ELF, building the first page tables) is
 * not counted, and prints one line "rate: <number> <unit>" that
 * bench/run.py reads.
 */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stdio.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void bench_rate(double count, double seconds, const char *unit)
{
    printf("rate: %.0f %s\n", seconds > 0 ? count / seconds : 0.0, unit);
}

#endif
