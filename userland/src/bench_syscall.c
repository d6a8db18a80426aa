/*
 * bench_syscall.c - syscall round-trip cost.
 *
 * getppid() does almost nothing in the kernel, so this measures the cost of
 * trapping (svc #0), dispatching and returning.  We call it through
 * syscall() so that libc cannot cache the answer.
 * Usage: bench_syscall [count]   (default 200000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "bench_timing.h"
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000L;
    long first = syscall(SYS_getppid), same = 0;

    double t0 = bench_now();
    for (long i = 0; i < n; i++)
        same += syscall(SYS_getppid) == first;
    double t1 = bench_now();
    printf("bench_syscall: %ld getppid() syscalls, %s\n", n,
           same == n ? "all returned the same value" : "values changed!");
    bench_rate(n, t1 - t0, "syscalls/s");
    return same != n;
}
