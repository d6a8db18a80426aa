/*
 * harness.c - a test harness of the kind kernel test suites use (LTP's
 * tst_test, kselftest's harness): every test case runs in a child of its
 * own, under a time limit, and the parent reports each child's fate from
 * its wait status — passed, failed with an exit code, killed by a signal
 * (a crash), or stopped by the harness's timeout — then a summary in TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_SECONDS 2

static int case_pass(void) { return 0; }

static int case_fail(void)
{
    fprintf(stderr, "case_fail: 2 + 2 != 5\n");
    return 1;
}

static int case_segv(void)
{
    volatile int *volatile nowhere = (int *)16;
    *nowhere = 1;
    return 0;
}

static int case_abort(void)
{
    abort();
    return 0;
}

static int case_hang(void)
{
    while (pause() < 0 || 1)
        ;
    return 0;
}

static int case_mm(void)
{
    char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 2;
    memset(p, 0x5a, 1 << 20);
    int ok = p[12345] == 0x5a && mprotect(p, 4096, PROT_READ) == 0 && munmap(p, 1 << 20) == 0;
    return ok ? 0 : 3;
}

static int case_exit_code(void)
{
    exit(42);
    return 0;
}

static const struct { const char *name; int (*fn)(void); } cases[] = {
    {"pass", case_pass}, {"fail", case_fail}, {"segv", case_segv}, {"abort", case_abort},
    {"hang", case_hang}, {"mm", case_mm}, {"exit_code", case_exit_code},
};

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

int main(void)
{
    int n = sizeof cases / sizeof cases[0], passed = 0;
    struct sigaction sa = {0};

    setvbuf(stdout, NULL, _IOLBF, 0);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    printf("TAP version 13\n1..%d\n", n);
    for (int i = 0; i < n; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            printf("Bail out! fork: %s\n", strerror(errno));
            return 2;
        }
        if (pid == 0) {
            signal(SIGALRM, SIG_DFL);
            _exit(cases[i].fn());
        }
        int status;
        timed_out = 0;
        alarm(TIMEOUT_SECONDS);
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR)
                return 2;
            if (timed_out) {
                kill(pid, SIGKILL);
                timed_out = 2;
            }
        }
        alarm(0);
        if (timed_out == 2)
            printf("not ok %d %s # timed out after %d s\n", i + 1, cases[i].name,
                   TIMEOUT_SECONDS);
        else if (WIFSIGNALED(status))
            printf("not ok %d %s # killed by signal %d (%s)\n", i + 1, cases[i].name,
                   WTERMSIG(status), strsignal(WTERMSIG(status)));
        else if (WEXITSTATUS(status))
            printf("not ok %d %s # exit status %d\n", i + 1, cases[i].name,
                   WEXITSTATUS(status));
        else {
            printf("ok %d %s\n", i + 1, cases[i].name);
            passed++;
        }
    }
    printf("# %d passed, %d failed\n", passed, n - passed);
    return passed == 2 ? 0 : 1;     /* pass and mm pass; the others fail on purpose */
}
