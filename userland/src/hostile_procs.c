/*
 * hostile_procs.c - processes that misbehave, for the board's defences.
 *
 *   hostile_procs deadlock    two processes each wait for the other: a pipe
 *                             nobody will ever write, read by both
 *   hostile_procs forkbomb    fork until fork fails; print how it failed
 *                             (EAGAIN: the task limit, ENOMEM: RAM), then
 *                             let every child go and reap them all
 *   hostile_procs frames N    exec itself N times, printing MemFree from
 *                             /proc/meminfo each time (a released mm gives
 *                             back every frame and table), then fork, touch
 *                             1 MiB and reap 10 children, and 50 more,
 *                             printing it after each round
 *   hostile_procs spin        loop forever (for Ctrl-C)
 */
#include "proc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long memfree_kb(void)
{
    char buf[4096];
    FILE *f = fopen("/proc/meminfo", "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "MemFree: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int deadlock(void)
{
    int fds[2];
    char c;
    if (pipe(fds))
        return 1;
    pid_t pid = xfork();
    if (pid == 0) {
        read(fds[0], &c, 1);        /* the parent still holds the write end */
        _exit(0);
    }
    read(fds[0], &c, 1);            /* and so does the child */
    return 0;
}

static int forkbomb(void)
{
    int go[2];
    long n = 0;
    if (pipe(go))
        return 1;
    for (;;) {
        pid_t pid = fork();
        if (pid < 0) {
            printf("fork failed after %s children: %s\n", n > 0 ? "some" : "no",
                   errno == EAGAIN ? "EAGAIN" : errno == ENOMEM ? "ENOMEM" : strerror(errno));
            break;
        }
        if (pid == 0) {
            char c;
            close(go[1]);
            read(go[0], &c, 1);     /* EOF once the parent lets go */
            _exit(0);
        }
        n++;
    }
    close(go[1]);
    long reaped = 0;
    while (wait(NULL) > 0)
        reaped++;
    printf("reaped every child: %s\n", YESNO(reaped == n));
    return reaped == n ? 0 : 1;
}

static int frames(int argc, char **argv)
{
    int left = argc > 2 ? atoi(argv[2]) : 0;
    printf("MemFree %ld\n", memfree_kb());
    if (left > 0) {
        char num[16];
        snprintf(num, sizeof num, "%d", left - 1);
        execl("/proc/self/exe", argv[0], "frames", num, (char *)NULL);
        printf("execl failed: %s\n", strerror(errno));
        return 1;
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < (round ? 50 : 10); i++) {
            pid_t pid = xfork();
            if (pid == 0) {
                char *p = malloc(1 << 20);
                memset(p, 1, 1 << 20);
                _exit(0);
            }
            waitpid(pid, NULL, 0);
        }
        printf("MemFree %ld after forks\n", memfree_kb());
    }
    return 0;
}

int main(int argc, char **argv)
{
    proc_init();
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "deadlock"))
        return deadlock();
    if (!strcmp(mode, "forkbomb"))
        return forkbomb();
    if (!strcmp(mode, "frames"))
        return frames(argc, argv);
    if (!strcmp(mode, "spin")) {
        printf("spinning\n");
        for (volatile unsigned long i = 0;; i++)
            ;
    }
    fprintf(stderr, "usage: hostile_procs deadlock|forkbomb|frames N|spin\n");
    return 2;
}
