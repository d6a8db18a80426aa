/*
 * ltp_proc.c - what the LTP process/signal/time/IPC tests found a53emu
 * doing unlike Linux 4.14 (issue 9, "real test suites run"), checked
 * without LTP: CI has no LTP checkout.
 *
 *  - kill permission (LTP kill05): a signal from user space to another
 *    process needs the sender's real or effective uid to be the target's
 *    real or saved uid, or CAP_KILL; SIGCONT may go anywhere in the
 *    sender's session (kernel/signal.c check_kill_permission()).
 *  - futex keys (LTP futex_wake05): a shared (non-private) futex is keyed
 *    by its page, which get_futex_key() must fault in: FUTEX_WAKE on a
 *    PROT_NONE word or a shared file page past EOF is EFAULT; a private
 *    futex needs no page (0).
 *
 * Self-checking; run as root (the host test runs as root, a53emu's guest
 * with --root): non-root senders are children that setresuid() away.
 */
#include "proc.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
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

static const char *wake(void *addr, int private)
{
    return result(syscall(SYS_futex, addr, FUTEX_WAKE | (private ? FUTEX_PRIVATE_FLAG : 0), 1,
                          NULL, NULL, 0));
}

static void futex_keys(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char name[] = "ltp_proc.futex";
    void *none, *file, *gone;
    int fd;

    printf("futex keys (get_futex_key):\n");
    none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    gone = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap((char *)gone + page, page);          /* a hole between two mappings */
    fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0 && ftruncate(fd, page) == 0, "a one-page file");
    file = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(ftruncate(fd, 0) == 0, "truncated to 0 under its mapping");
    close(fd);
    unlink(name);
    CHECK(strcmp(wake(none, 0), "EFAULT") == 0, "shared wake on PROT_NONE: %s", wake(none, 0));
    CHECK(strcmp(wake(none, 1), "0") == 0, "private wake on PROT_NONE: %s", wake(none, 1));
    CHECK(strcmp(wake(file, 0), "EFAULT") == 0, "shared wake past EOF: %s", wake(file, 0));
    CHECK(strcmp(wake(file, 1), "0") == 0, "private wake past EOF: %s", wake(file, 1));
    CHECK(strcmp(wake((char *)gone + page, 0), "EFAULT") == 0, "shared wake unmapped: %s",
          wake((char *)gone + page, 0));
    CHECK(strcmp(wake(gone, 0), "0") == 0, "shared wake on a fresh anonymous page: %s",
          wake(gone, 0));
    munmap(none, page);
    munmap(file, page);
    munmap(gone, page);
    munmap((char *)gone + 2 * page, page);
}

int main(void)
{
    proc_init();
    kill_permission();
    futex_keys();
    return proc_finish("ltp_proc");
}
