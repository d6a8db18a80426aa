/*
 * bench_fork.c - process creation cost: fork() + _exit() + waitpid().
 *
 * Each cycle copies the address space (dup_mm: VMAs copied, private pages
 * write-protected for copy-on-write), schedules the child, which exits at
 * once (exit_mm, exit_notify, SIGCHLD), and reaps it.  The parent has a few
 * hundred KiB touched so that copying page tables is part of the cost.
 * Usage: bench_fork [cycles]   (default 300)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_timing.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 300;
    size_t touched = 256 * 1024;
    char *mem = malloc(touched);
    long ok = 0;

    memset(mem, 1, touched);
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(mem[i % touched] == 1 ? 7 : 1);
        int st;
        if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7)
            ok++;
    }
    double t1 = bench_now();
    printf("bench_fork: %ld fork+exit+wait cycles, %s\n", n,
           ok == n ? "every child exited 7" : "some child failed!");
    bench_rate(n, t1 - t0, "cycles/s");
    free(mem);
    return ok != n;
}
