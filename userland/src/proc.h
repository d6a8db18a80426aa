/*
 * proc.h - helpers for the process/thread programs (issue 6).
 *
 * The same source is built for AArch64 (musl, glibc) and for the host, and
 * the outputs are compared byte for byte, so nothing here prints a pid, a
 * tid, an address or a time: only relative facts ("child pid == fork
 * return: yes") and symbolic names.
 *
 * Rules the programs follow so that output order is deterministic:
 *  - only the original process prints (children report through exit
 *    statuses or pipes), except an exec'd image, which prints while its
 *    parent is blocked in waitpid();
 *  - stdout is line buffered (proc_init()), so fork() never duplicates
 *    unflushed output, and children leave with _exit().
 */
#ifndef A53_PROC_H
#define A53_PROC_H

#include "common.h"

#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#define YESNO(c) ((c) ? "yes" : "no")

__attribute__((unused))
static void proc_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* fork(); on failure the program cannot go on. */
__attribute__((unused))
static pid_t xfork(void)
{
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        printf("FAILED: fork: %s\n", errno_name(errno));
        exit(1);
    }
    return pid;
}

__attribute__((unused))
static pid_t sys_gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

__attribute__((unused))
static void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

__attribute__((unused))
static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Name of a signal our programs use: the output must not depend on
 * numbers (SIGRTMIN differs between glibc and musl), and names read better. */
__attribute__((unused))
static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGCHLD: return "SIGCHLD";
    case SIGCONT: return "SIGCONT";
    case SIGSTOP: return "SIGSTOP";
    case SIGTSTP: return "SIGTSTP";
    case SIGTTIN: return "SIGTTIN";
    case SIGTTOU: return "SIGTTOU";
    default: return "SIG?";
    }
}

/* A wait status in words: "exited 7", "killed by SIGTERM", "killed by
 * SIGSEGV (core dumped)", "stopped by SIGSTOP", "continued". */
__attribute__((unused))
static const char *status_str(int status)
{
    static char buf[64];

    if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, sizeof buf, "killed by %s%s", sig_name(WTERMSIG(status)),
                 WCOREDUMP(status) ? " (core dumped)" : "");
    else if (WIFSTOPPED(status))
        snprintf(buf, sizeof buf, "stopped by %s", sig_name(WSTOPSIG(status)));
    else if (WIFCONTINUED(status))
        snprintf(buf, sizeof buf, "continued");
    else
        snprintf(buf, sizeof buf, "status 0x%x?", status);
    return buf;
}

/* waitpid() for one child, retrying EINTR; returns the status, or -1. */
__attribute__((unused))
static int wait_for(pid_t pid)
{
    int status;
    pid_t r;

    do
        r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    return r == pid ? status : -1;
}

/* Read exactly n bytes (a pipe may return less); 0 on success. */
__attribute__((unused))
static int read_full(int fd, void *buf, size_t n)
{
    char *p = buf;

    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

__attribute__((unused))
static int write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Every program ends the same way: a summary line, exit 0 or 1. */
__attribute__((unused))
static int proc_finish(const char *prog)
{
    if (check_failures) {
        printf("FAIL: %s: %d check(s) failed\n", prog, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", prog);
    return 0;
}

#endif /* A53_PROC_H */
