/* getrusage() and wait4()'s rusage, as kernel/sys.c's k_getrusage() sums
 * them: the group's exited threads stay in RUSAGE_SELF, RUSAGE_THREAD is
 * one thread, RUSAGE_CHILDREN counts reaped children only, peak rss in KiB,
 * a sleep is a voluntary switch.  Self-checking: prints only what every
 * Linux prints the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGES 2000
#define PAGE 4096

static int failures;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failures++;
}

static void touch_pages(int n)
{
    char *p = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < n; i++)
        p[(size_t)i * PAGE] = 1;
    munmap(p, (size_t)n * PAGE);
}

static long minflt(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return ru.ru_minflt;
}

static void *thread_touches(void *arg)
{
    touch_pages(PAGES);
    return arg;
}

static long cpu_ms(const struct timeval *u, const struct timeval *s)
{
    return (u->tv_sec + s->tv_sec) * 1000L + (u->tv_usec + s->tv_usec) / 1000;
}

int main(void)
{
    struct rusage ru;

    long before = minflt(RUSAGE_SELF);
    touch_pages(PAGES);
    check(minflt(RUSAGE_SELF) - before >= PAGES, "RUSAGE_SELF counts this thread's faults");

    long self0 = minflt(RUSAGE_SELF), thread0 = minflt(RUSAGE_THREAD);
    pthread_t t;
    pthread_create(&t, NULL, thread_touches, NULL);
    pthread_join(t, NULL);
    check(minflt(RUSAGE_SELF) - self0 >= PAGES, "an exited thread's faults stay in RUSAGE_SELF");
    check(minflt(RUSAGE_THREAD) - thread0 < PAGES / 2, "RUSAGE_THREAD leaves them out");

    getrusage(RUSAGE_SELF, &ru);
    check(ru.ru_maxrss >= PAGES * (PAGE / 1024), "ru_maxrss is the peak, in KiB");

    check(minflt(RUSAGE_CHILDREN) == 0, "no child reaped: RUSAGE_CHILDREN is zero");
    pid_t pid = fork();
    if (pid == 0) {
        touch_pages(PAGES);
        for (int i = 0; i < 3; i++) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        _exit(0);
    }
    int status;
    check(wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status), "wait4 reaps the child");
    check(ru.ru_minflt >= PAGES, "wait4's rusage counts the child's faults");
    check(ru.ru_maxrss >= PAGES * (PAGE / 1024), "wait4's rusage has the child's peak rss");
    check(ru.ru_nvcsw >= 3, "a sleep is a voluntary context switch");
    getrusage(RUSAGE_CHILDREN, &ru);
    check(ru.ru_minflt >= PAGES, "RUSAGE_CHILDREN counts the reaped child");
    check(ru.ru_maxrss >= PAGES * (PAGE / 1024), "RUSAGE_CHILDREN has its peak rss");

    /* 50 ms of CPU, by this process's own CPU clock. */
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    do {
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    } while ((c1.tv_sec - c0.tv_sec) * 1000000000L + (c1.tv_nsec - c0.tv_nsec) < 50000000L);
    getrusage(RUSAGE_SELF, &ru);
    check(cpu_ms(&ru.ru_utime, &ru.ru_stime) >= 50, "ru_utime + ru_stime cover the CPU clock");
    check(ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec < 1000000, "tv_usec < 1000000");

    errno = 0;
    check(syscall(SYS_getrusage, 2, &ru) == -1 && errno == EINVAL, "who 2: EINVAL");
    errno = 0;
    check(syscall(SYS_getrusage, RUSAGE_SELF, (void *)8) == -1 && errno == EFAULT,
          "a bad pointer: EFAULT");

    if (failures)
        return 1;
    printf("all checks passed\n");
    return 0;
}
