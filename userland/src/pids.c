/*
 * pids.c - process and thread identities, groups, sessions, scheduling.
 *
 * getpid/gettid/getppid across fork and in a thread (a thread shares the
 * tgid, has its own tid); setpgid/getpgid and setsid/getsid (the errors
 * Linux's sys_setpgid and sys_setsid return); kill(pid, 0) on a live
 * child, a zombie and a reaped pid; tgkill's checks; sched_yield,
 * sched_getaffinity/sched_setaffinity and getcpu agreeing with the mask.
 * Only relations are printed, never a number that differs between runs.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <pthread.h>
#include <sched.h>

static pid_t thread_pid, thread_tid;

static void *thread_ids(void *arg)
{
    (void)arg;
    thread_pid = getpid();
    thread_tid = sys_gettid();
    return NULL;
}

/* The child's view of its ids, sent to the parent through a pipe. */
struct ids {
    pid_t pid, ppid, pgid, sid, tid;
    pid_t setsid_ret, sid_after, pgid_after;
    int setsid_again_errno, setpgid_after_setsid_errno;
};

static void check_fork_ids(void)
{
    int fds[2];
    struct ids c;
    pid_t me = getpid(), child;

    printf("fork:\n");
    if (pipe(fds) < 0)
        exit(1);
    child = xfork();
    if (child == 0) {
        struct ids m;
        memset(&m, 0, sizeof m);
        m.pid = getpid();
        m.ppid = getppid();
        m.pgid = getpgid(0);
        m.sid = getsid(0);
        m.tid = sys_gettid();
        m.setsid_ret = setsid();
        m.sid_after = getsid(0);
        m.pgid_after = getpgrp();
        errno = 0;
        setsid();
        m.setsid_again_errno = errno;
        errno = 0;
        setpgid(0, me);             /* a session leader cannot move */
        m.setpgid_after_setsid_errno = errno;
        write_full(fds[1], &m, sizeof m);
        _exit(0);
    }
    close(fds[1]);
    if (read_full(fds[0], &c, sizeof c) < 0)
        exit(1);
    close(fds[0]);
    CHECK(c.pid == child, "child's getpid() == fork() return: %s", YESNO(c.pid == child));
    CHECK(c.ppid == me, "child's getppid() == parent's getpid(): %s", YESNO(c.ppid == me));
    CHECK(c.tid == c.pid, "child's gettid() == its getpid(): %s", YESNO(c.tid == c.pid));
    CHECK(c.pgid == getpgrp(), "child inherits the process group: %s",
          YESNO(c.pgid == getpgrp()));
    CHECK(c.sid == getsid(0), "child inherits the session: %s", YESNO(c.sid == getsid(0)));
    CHECK(c.setsid_ret == child && c.sid_after == child && c.pgid_after == child,
          "setsid() in the child: new session and group, both == child pid: %s",
          YESNO(c.setsid_ret == child && c.sid_after == child && c.pgid_after == child));
    CHECK(c.setsid_again_errno == EPERM, "setsid() again (already a group leader): %s",
          errno_name(c.setsid_again_errno));
    CHECK(c.setpgid_after_setsid_errno == EPERM,
          "setpgid() of a session leader: %s", errno_name(c.setpgid_after_setsid_errno));
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s", status_str(st));
}

static void check_pgid_from_parent(void)
{
    int go[2];
    pid_t child;
    char b = 0;

    printf("setpgid from the parent:\n");
    if (pipe(go) < 0)
        exit(1);
    child = xfork();
    if (child == 0) {
        close(go[1]);
        read(go[0], &b, 1);         /* wait until the parent has moved us */
        _exit(getpgrp() == getpid() ? 0 : 1);
    }
    close(go[0]);
    int r = setpgid(child, child);
    CHECK(r == 0, "setpgid(child, child) from the parent: %s", r == 0 ? "0" : errno_name(errno));
    CHECK(getpgid(child) == child, "getpgid(child) == child pid: %s",
          YESNO(getpgid(child) == child));
    CHECK(getpgrp() != child, "the parent's group is unchanged: %s",
          YESNO(getpgrp() != child));
    errno = 0;
    setpgid(child, 0x7ffffff0);
    CHECK(errno == EPERM, "setpgid(child, group in no session of ours): %s", errno_name(errno));
    errno = 0;
    setpgid(0, -1);
    CHECK(errno == EINVAL, "setpgid(0, -1): %s", errno_name(errno));
    errno = 0;
    setpgid(0x7ffffff0, 0);
    CHECK(errno == ESRCH, "setpgid(no such pid): %s", errno_name(errno));
    errno = 0;
    getpgid(0x7ffffff0);
    CHECK(errno == ESRCH, "getpgid(no such pid): %s", errno_name(errno));
    errno = 0;
    getsid(0x7ffffff0);
    CHECK(errno == ESRCH, "getsid(no such pid): %s", errno_name(errno));
    write(go[1], &b, 1);
    close(go[1]);
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child saw its new group: %s", status_str(st));
}

static void check_kill_zero(void)
{
    pid_t child;
    int go[2];
    char b = 0;

    printf("kill(pid, 0):\n");
    if (pipe(go) < 0)
        exit(1);
    child = xfork();
    if (child == 0) {
        close(go[1]);
        read(go[0], &b, 1);
        _exit(0);
    }
    close(go[0]);
    CHECK(kill(child, 0) == 0, "live child: 0");
    write(go[1], &b, 1);
    close(go[1]);
    /* wait until it is a zombie without reaping it */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, child, &si, WEXITED | WNOWAIT);
    CHECK(r == 0 && si.si_pid == child, "waitid(WNOWAIT) sees it exit: %s",
          YESNO(r == 0 && si.si_pid == child));
    CHECK(kill(child, 0) == 0, "zombie child: 0");
    wait_for(child);
    errno = 0;
    r = kill(child, 0);
    CHECK(r < 0 && errno == ESRCH, "reaped child: %s", errno_name(errno));
}

static void check_threads(void)
{
    pthread_t t;

    printf("threads:\n");
    CHECK(sys_gettid() == getpid(), "main thread: gettid() == getpid(): %s",
          YESNO(sys_gettid() == getpid()));
    pthread_create(&t, NULL, thread_ids, NULL);
    pthread_join(t, NULL);
    CHECK(thread_pid == getpid(), "second thread: getpid() is the process's: %s",
          YESNO(thread_pid == getpid()));
    CHECK(thread_tid != getpid() && thread_tid > 0, "second thread: its own tid: %s",
          YESNO(thread_tid != getpid() && thread_tid > 0));
    CHECK(syscall(SYS_tgkill, getpid(), sys_gettid(), 0) == 0, "tgkill(self, self, 0): 0");
    /* pthread_join returns when the kernel clears the tid word (mm_release),
     * which is before the task is released: poll until it is gone */
    double t0 = now_mono();
    long r;
    do {
        errno = 0;
        r = syscall(SYS_tgkill, getpid(), thread_tid, 0);
    } while (r == 0 && now_mono() - t0 < 10.0 && sched_yield() == 0);
    CHECK(r < 0 && errno == ESRCH, "tgkill to a thread that has exited: %s",
          r < 0 ? errno_name(errno) : "0");
    errno = 0;
    syscall(SYS_tgkill, getpid(), 0, 0);
    CHECK(errno == EINVAL, "tgkill(tid 0): %s", errno_name(errno));
    errno = 0;
    syscall(SYS_tgkill, getpid(), sys_gettid(), 1000);
    CHECK(errno == EINVAL, "tgkill(bad signal): %s", errno_name(errno));
    errno = 0;
    syscall(SYS_tkill, 0x7ffffff0, 0);
    CHECK(errno == ESRCH, "tkill(no such tid): %s", errno_name(errno));
}

static void check_sched(void)
{
    cpu_set_t orig, one, empty;
    int first = -1, last = -1, cpu, node;

    printf("scheduling:\n");
    CHECK(sched_yield() == 0, "sched_yield(): 0");
    CPU_ZERO(&orig);
    CHECK(sched_getaffinity(0, sizeof orig, &orig) == 0, "sched_getaffinity(): 0");
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &orig)) {
            if (first < 0)
                first = i;
            last = i;
        }
    CHECK(CPU_COUNT(&orig) >= 1, "the mask has at least one cpu: %s",
          YESNO(CPU_COUNT(&orig) >= 1));
    long ret = syscall(SYS_sched_getaffinity, 0, sizeof orig, &orig);
    CHECK(ret > 0 && ret % sizeof(long) == 0,
          "raw sched_getaffinity returns the mask size in bytes, a multiple of a long: %s",
          YESNO(ret > 0 && ret % sizeof(long) == 0));
    errno = 0;
    syscall(SYS_sched_getaffinity, 0, 1, &orig);
    CHECK(errno == EINVAL, "raw sched_getaffinity with a 1-byte buffer: %s",
          errno_name(errno));

    int pins[2] = {first, last};
    for (int k = 0; k < 2; k++) {
        CPU_ZERO(&one);
        CPU_SET(pins[k], &one);
        int r = sched_setaffinity(0, sizeof one, &one);
        sched_yield();
        cpu = node = -1;
        syscall(SYS_getcpu, &cpu, &node, NULL);
        CHECK(r == 0 && cpu == pins[k], "pinned to the %s cpu of the mask: getcpu() agrees: %s",
              k ? "last" : "first", YESNO(r == 0 && cpu == pins[k]));
        CHECK(node == 0, "getcpu() node: %d", node);
    }
    CPU_ZERO(&empty);
    errno = 0;
    sched_setaffinity(0, sizeof empty, &empty);
    CHECK(errno == EINVAL, "sched_setaffinity(empty mask): %s", errno_name(errno));
    errno = 0;
    sched_setaffinity(0x7ffffff0, sizeof orig, &orig);
    CHECK(errno == ESRCH, "sched_setaffinity(no such pid): %s", errno_name(errno));
    CHECK(sched_setaffinity(0, sizeof orig, &orig) == 0, "mask restored: 0");
    /* a forked child inherits the mask */
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    sched_setaffinity(0, sizeof one, &one);
    pid_t child = xfork();
    if (child == 0) {
        cpu_set_t m;
        CPU_ZERO(&m);
        sched_getaffinity(0, sizeof m, &m);
        _exit(CPU_EQUAL(&m, &one) ? 0 : 1);
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork() child inherits the affinity mask: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));
    sched_setaffinity(0, sizeof orig, &orig);
}

int main(void)
{
    proc_init();
    check_fork_ids();
    check_pgid_from_parent();
    check_kill_zero();
    check_threads();
    check_sched();
    return proc_finish("pids");
}
