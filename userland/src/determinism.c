/*
 * determinism.c - print what a program can learn from outside itself:
 * the wall clock (time, gettimeofday, CLOCK_REALTIME and TAI), getrandom,
 * the AT_RANDOM bytes, /proc/stat's btime and a SysV segment's ctime.
 * Under `a53emu run --deterministic` two runs print the same lines.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ipc.h>
#include <sys/random.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <time.h>

static void hex(const char *what, const unsigned char *p, int n)
{
    printf("%s ", what);
    for (int i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

int main(void)
{
    struct timespec ts;
    struct timeval tv;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("CLOCK_REALTIME %lld\n", (long long)ts.tv_sec);
    clock_gettime(CLOCK_TAI, &ts);
    printf("CLOCK_TAI %lld\n", (long long)ts.tv_sec);
    gettimeofday(&tv, NULL);
    printf("gettimeofday %lld\n", (long long)tv.tv_sec);
    printf("time %lld\n", (long long)time(NULL));

    unsigned char buf[16];
    if (getrandom(buf, sizeof buf, 0) != sizeof buf)
        return 1;
    hex("getrandom", buf, sizeof buf);
    hex("AT_RANDOM", (const unsigned char *)getauxval(AT_RANDOM), 16);

    char line[256];
    FILE *f = fopen("/proc/stat", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0)
            printf("%s", line);
    if (f)
        fclose(f);

    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    struct shmid_ds ds;
    if (id < 0 || shmctl(id, IPC_STAT, &ds) < 0)
        return 1;
    printf("shm_ctime %lld\n", (long long)ds.shm_ctime);
    shmctl(id, IPC_RMID, NULL);
    return 0;
}
