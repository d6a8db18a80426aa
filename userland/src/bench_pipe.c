/*
 * bench_pipe.c - pipe throughput between two processes.
 *
 * The child writes MiB megabytes in 64 KiB writes; the parent reads them
 * (64 KiB reads) and checks a running sum.  Both block and wake each other
 * through the pipe's wait queues (pipe_write/pipe_read), so this measures
 * copying plus the sleep/wake-up path, on two cores when there are two.
 * Usage: bench_pipe [MiB]   (default 32)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_timing.h"

#define CHUNK (64 * 1024)

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 32;
    long total = mib << 20;
    static unsigned char buf[CHUNK];
    int p[2];

    if (pipe(p) < 0)
        return 1;
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        for (long sent = 0; sent < total; sent += CHUNK) {
            memset(buf, (int)(sent / CHUNK) & 0xff, CHUNK);
            for (long off = 0; off < CHUNK;) {
                ssize_t w = write(p[1], buf + off, CHUNK - off);
                if (w <= 0)
                    _exit(1);
                off += w;
            }
        }
        _exit(0);
    }
    close(p[1]);
    long got = 0;
    unsigned long sum = 0;
    ssize_t r;
    while ((r = read(p[0], buf, CHUNK)) > 0) {
        sum += buf[0] + buf[r - 1];
        for (long i = 0; i < r; i += 4096)
            sum += buf[i];
        got += r;
    }
    int st;
    waitpid(pid, &st, 0);
    double t1 = bench_now();
    int ok = got == total && WIFEXITED(st) && WEXITSTATUS(st) == 0 && sum > 0;
    printf("bench_pipe: %ld MiB through a pipe between two processes, %s\n", mib,
           ok ? "all bytes arrived" : "transfer failed!");
    bench_rate(got / 1048576.0, t1 - t0, "MB/s");
    return !ok;
}
