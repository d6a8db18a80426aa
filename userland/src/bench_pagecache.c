/*
 * bench_pagecache.c - the page cache under a shared file mapping.
 *
 * Maps a file of N MiB (default 64) MAP_SHARED, writes one byte in every
 * page (each first write is a fault that reads the page into the cache and
 * marks it dirty), then msync(MS_SYNC) writes the dirty pages back.
 * Prints "rate: <pages per second> pages/s" for touch + msync.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_timing.h"

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 64;
    size_t len = (size_t)mib << 20;
    const char *path = "bench_pagecache.tmp";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, len) != 0) {
        perror(path);
        return 1;
    }
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    double t0 = bench_now();
    for (size_t off = 0; off < len; off += 4096)
        p[off] = (char)(off >> 12);
    if (msync((void *)p, len, MS_SYNC) != 0)
        perror("msync");
    double t1 = bench_now();
    printf("bench_pagecache: %zu pages written and synced\n", len / 4096);
    bench_rate(len / 4096, t1 - t0, "pages/s");
    munmap((void *)p, len);
    close(fd);
    unlink(path);
    return 0;
}
