/*
 * coredump.c - a child killed by SIGSEGV dumps core when RLIMIT_CORE lets it.
 *
 *   coredump none    RLIMIT_CORE 0 (the default): no core, WCOREDUMP clear
 *   coredump dump    unlimited: WCOREDUMP set, ./core written
 *   coredump small   8192 bytes: WCOREDUMP set, ./core cut at 8192 bytes
 *   coredump self    unlimited, and the program itself (no child) faults
 *   coredump filter  /proc/self/coredump_filter: 0x33 by default, kept by
 *                    fork; with 0 a core holds no memory, so it is smaller
 *   coredump pattern (as root) core_pattern "core.%e.%p.%s.%%": the name is
 *                    expanded; a "|helper" pattern writes no core; an old
 *                    ./core symlink is replaced, its target never written
 *
 * The child has a second thread (parked in pause()) when it faults, and
 * leaves markers the test finds in the core: a heap string, a .data word
 * and a register value.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

volatile unsigned long data_marker = 0x1234;
char *volatile heap_marker;
volatile unsigned long bad_address = 16;     /* escapes, so the compiler keeps the string */

static void *parked(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void set_pattern(const char *pattern)
{
    FILE *f = fopen("/proc/sys/kernel/core_pattern", "w");
    if (!f || fputs(pattern, f) < 0 || fclose(f) != 0)
        perror("core_pattern");
}

/* Fork a child that faults; its wait status's WCOREDUMP. */
static int child_dumps(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        *(volatile int *)bad_address = 0;
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WCOREDUMP(st) ? (int)pid : 0;
}

static int patterns(void)
{
    struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
    char name[64], now[256];
    struct stat sb;
    setrlimit(RLIMIT_CORE, &rl);
    FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");
    if (!f || !fgets(now, sizeof now, f))
        return 1;
    fclose(f);
    printf("default: %s", now);

    set_pattern("core.%e.%p.%s.%%\n");
    int pid = child_dumps();
    snprintf(name, sizeof name, "core.coredump.%d.11.%%", pid);
    printf("templated: WCOREDUMP=%d file=%s\n", pid != 0, stat(name, &sb) == 0 ? "yes" : "no");
    unlink(name);

    set_pattern("|/bin/false");
    printf("helper: WCOREDUMP=%d\n", child_dumps() != 0);

    set_pattern("core");
    unlink("core");
    unlink("victim");
    symlink("victim", "core");
    pid = child_dumps();
    printf("over a symlink: WCOREDUMP=%d core regular=%d victim=%s\n", pid != 0,
           lstat("core", &sb) == 0 && S_ISREG(sb.st_mode), stat("victim", &sb) == 0 ? "yes" : "no");
    unlink("core");
    set_pattern(now);
    return 0;
}

static void read_filter(const char *what)
{
    char buf[32] = "";
    FILE *f = fopen("/proc/self/coredump_filter", "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
    }
    printf("%s: %s", what, buf[0] ? buf : "(none)\n");
}

static void write_filter(const char *value)
{
    FILE *f = fopen("/proc/self/coredump_filter", "w");
    if (!f || fputs(value, f) < 0 || fclose(f) != 0)
        perror("coredump_filter");
}

/* The size of ./core a faulting child leaves. */
static long long core_size(void)
{
    struct stat sb;
    unlink("core");
    child_dumps();
    long long size = stat("core", &sb) == 0 ? (long long)sb.st_size : -1;
    unlink("core");
    return size;
}

static int filters(void)
{
    struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
    setrlimit(RLIMIT_CORE, &rl);
    read_filter("default");
    long long full = core_size();
    write_filter("0x7");
    read_filter("after 0x7");
    write_filter("063");
    read_filter("after 063 (octal)");
    fflush(stdout);
    if (fork() == 0) {
        read_filter("in a child");
        fflush(stdout);
        _exit(0);
    }
    wait(NULL);
    write_filter("0");
    long long none = core_size();
    printf("core with filter 0 smaller: %s\n", none > 0 && none < full ? "yes" : "no");
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "none";
    struct rlimit rl = { 0, RLIM_INFINITY };

    if (strcmp(mode, "pattern") == 0)
        return patterns();
    if (strcmp(mode, "filter") == 0)
        return filters();
    if (strcmp(mode, "dump") == 0 || strcmp(mode, "self") == 0)
        rl.rlim_cur = RLIM_INFINITY;
    else if (strcmp(mode, "small") == 0)
        rl.rlim_cur = 8192;
    if (setrlimit(RLIMIT_CORE, &rl) != 0) {
        perror("setrlimit");
        return 1;
    }
    unlink("core");
    fflush(stdout);
    pid_t pid = strcmp(mode, "self") == 0 ? 0 : fork();
    if (pid == 0) {
        heap_marker = malloc(64);
        strcpy(heap_marker, "heap-marker-a53emu-core");
        data_marker = 0xC0DEDC0DEUL;
        pthread_t t;
        pthread_create(&t, NULL, parked, NULL);
        usleep(10000);
#ifdef __aarch64__
        register unsigned long x19 __asm__("x19") = 0xA53A53A53UL;
        __asm__ volatile("str xzr, [%0]" : : "r"(16UL), "r"(x19) : "memory");
#else
        *(volatile int *)16 = 0;
#endif
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    struct stat sb;
    int have = stat("core", &sb) == 0;
    printf("%s: signaled=%d sig=%d WCOREDUMP=%d core=%s size=%lld\n", mode,
           WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0,
           WIFSIGNALED(st) && WCOREDUMP(st) ? 1 : 0, have ? "yes" : "no",
           have ? (long long)sb.st_size : 0LL);
    return 0;
}
