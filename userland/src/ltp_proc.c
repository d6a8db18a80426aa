/*
 * ltp_proc.c - what the LTP process/signal/time/IPC tests found a53emu
 * doing unlike Linux 4.14 (issue 9, "real test suites run"), checked
 * without LTP: CI has no LTP checkout.
 *
 *  - kill permission (LTP kill05): a signal from user space to another
 *    process needs the sender's real or effective uid to be the target's
 *    real or saved uid, or CAP_KILL; SIGCONT may go anywhere in the
 *    sender's session (kernel/signal.c check_kill_permission()).
 *
 * Self-checking; run as root (the host test runs as root, a53emu's guest
 * with --root): non-root senders are children that setresuid() away.
 */
#include "proc.h"

#include <sys/syscall.h>

#define UID_A 4242              /* the target's user */
#define UID_B 4343              /* a stranger */

/* A child that becomes uid, in its own process group, and waits to be killed. */
static pid_t target(uid_t uid, int ready)
{
    pid_t pid = xfork();

    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGUSR1, SIG_IGN);       /* survives the senders that may */
        if (setresuid(uid, uid, uid) < 0)
            _exit(2);
        if (write(ready, "x", 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    return pid;
}

static const char *result(long r)
{
    return r == 0 ? "0" : errno_name(errno);
}

/* In a child that becomes (ruid, euid, suid): try each way to signal pid. */
static void sender(pid_t pid, uid_t r, uid_t e, uid_t s, const char *who, int allowed)
{
    int p[2];
    char buf[256];
    pid_t child;
    ssize_t n;

    if (pipe(p) < 0)
        exit(1);
    child = xfork();
    if (child == 0) {
        siginfo_t si;

        close(p[0]);
        if (setresuid(r, e, s) < 0)
            _exit(2);
        memset(&si, 0, sizeof si);
        si.si_code = SI_QUEUE;
        si.si_pid = getpid();
        {
            const char *want = allowed ? "0" : "EPERM";
            const char *got[] = {
                result(kill(pid, 0)), result(kill(pid, SIGUSR1)), result(kill(-pid, 0)),
                result(syscall(SYS_tgkill, pid, pid, 0)), result(syscall(SYS_tkill, pid, 0)),
                result(syscall(SYS_rt_sigqueueinfo, pid, 0, &si)),
                result(kill(pid, SIGCONT)),     /* same session: always allowed */
            };
            int bad = strcmp(got[6], "0") != 0;
            unsigned i;

            for (i = 0; i < 6; i++)
                bad |= strcmp(got[i], want) != 0;
            n = snprintf(buf, sizeof buf,
                         "  %s: %s: kill 0 %s, kill SIGUSR1 %s, kill -pgrp 0 %s, "
                         "tgkill 0 %s, tkill 0 %s, sigqueue 0 %s, kill SIGCONT %s\n",
                         bad ? "FAILED" : "ok", who,
                         got[0], got[1], got[2], got[3], got[4], got[5], got[6]);
            if (write(p[1], buf, (size_t)n) != n)
                _exit(3);
            _exit(bad);
        }
    }
    close(p[1]);
    n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    buf[n > 0 ? n : 0] = 0;
    fputs(buf, stdout);
    CHECK(wait_for(child) == 0, "%s: the sender exits 0", who);
}

static void kill_permission(void)
{
    int p[2];
    char c;
    pid_t a;

    printf("kill permission (check_kill_permission):\n");
    if (pipe(p) < 0)
        exit(1);
    a = target(UID_A, p[1]);
    CHECK(read(p[0], &c, 1) == 1, "the target is uid %d", UID_A);
    sender(a, UID_B, UID_B, UID_B, "stranger", 0);
    sender(a, UID_A, UID_B, UID_B, "real uid = target's", 1);
    sender(a, UID_B, UID_A, UID_B, "effective uid = target's", 1);
    sender(a, UID_B, UID_B, UID_A, "saved uid only = target's", 0);
    sender(a, 0, 0, 0, "root", 1);
    kill(a, SIGKILL);
    CHECK(WIFSIGNALED(wait_for(a)), "the target is still alive for root's SIGKILL");
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    proc_init();
    kill_permission();
    return proc_finish("ltp_proc");
}
