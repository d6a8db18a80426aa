/*
 * sysinfo.c - the "who am I, what time is it" syscalls.
 *
 * Prints only facts that are the same on every run (no pids, times,
 * random bytes), so the output can be compared byte for byte.
 * sysconf(_SC_PAGESIZE) comes from the AT_PAGESZ entry of the auxiliary
 * vector the kernel put on the initial stack at execve time.
 */
#include "common.h"
#include <sched.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>

static long long ns_of(const struct timespec *t)
{
    return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(void)
{
    struct utsname u;
    struct timespec t1, t2, t3, ten_ms = { 0, 10 * 1000 * 1000 };
    unsigned char rnd[16];
    cpu_set_t set;
    struct rusage ru;
    struct rlimit rl;

    CHECK(uname(&u) == 0, "uname: sysname=%s machine=%s", u.sysname, u.machine);
    CHECK(getpid() > 0, "getpid() > 0");
    CHECK(getppid() >= 0, "getppid() >= 0");
    CHECK(getuid() == geteuid(), "getuid() == geteuid()");
    CHECK(getgid() == getegid(), "getgid() == getegid()");

    CHECK(clock_gettime(CLOCK_MONOTONIC, &t1) == 0, "clock_gettime(CLOCK_MONOTONIC)");
    CHECK(clock_gettime(CLOCK_MONOTONIC, &t2) == 0 && ns_of(&t2) >= ns_of(&t1),
          "the monotonic clock does not go backwards");
    CHECK(nanosleep(&ten_ms, NULL) == 0, "nanosleep(10 ms)");
    clock_gettime(CLOCK_MONOTONIC, &t3);
    CHECK(ns_of(&t3) - ns_of(&t2) >= 10000000LL, "at least 10 ms passed");
    CHECK(clock_gettime(CLOCK_REALTIME, &t1) == 0 && t1.tv_sec >= 1510444800,
          "the real-time clock is at or after 2017-11-12 (--deterministic starts there)");

    CHECK(getrandom(rnd, sizeof(rnd), 0) == 16, "getrandom returned 16");

    CPU_ZERO(&set);
    CHECK(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 1,
          "sched_getaffinity: cpus>=1");
    CHECK(sysconf(_SC_PAGESIZE) == 4096, "sysconf(_SC_PAGESIZE) = %ld",
          sysconf(_SC_PAGESIZE));
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0, "getrusage(RUSAGE_SELF)");
    CHECK(getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur > 0, "getrlimit(RLIMIT_STACK)");

    printf("%s\n", check_failures ? "SOME CHECKS FAILED" : "ok");
    return check_failures != 0;
}
