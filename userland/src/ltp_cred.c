/*
 * ltp_cred.c - what LTP's credential, scheduling, limit, signal, message
 * queue and socket tests (tools/ltp.py; docs/ltp-cred.md) found a53emu doing
 * unlike Linux 4.14 (issue 9, "real test suites run"), checked without LTP:
 * CI has no LTP checkout.
 *
 *  - SA_RESETHAND (LTP sigaction01): delivering the signal resets only the
 *    handler to SIG_DFL (get_signal(): ka->sa.sa_handler = SIG_DFL); the
 *    flags (SA_SIGINFO) stay, and sigaction() reports them.
 *  - STICKY_TIMEOUTS (LTP personality02): pselect6/ppoll write the time
 *    left back to the timeout (poll_select_copy_remaining()) unless the
 *    personality has STICKY_TIMEOUTS.
 *  - kill()/rt_sigqueueinfo() to a thread's id (LTP rt_sigqueueinfo01):
 *    kill_pid_info() takes any thread's pid and signals its thread group.
 *  - sched_setaffinity (LTP sched_setaffinity01): the mask is copied before
 *    the task is looked up (EFAULT before ESRCH), and another user's task
 *    needs CAP_SYS_NICE (EPERM).
 *  - PR_SET_TIMERSLACK (LTP prctl08, prctl09): set, read back, 0 restores
 *    the default, and a child's default is its parent's current slack;
 *    /proc/PID/timerslack_ns shows and sets it (another user's: EPERM).
 *  - SCHED_DEADLINE (LTP sched_setattr01, sched_getattr01): sched_setattr
 *    with runtime <= deadline <= period is taken by root, sched_getattr
 *    gives them back, __checkparam_dl()'s EINVALs, a -deadline task cannot
 *    fork (EAGAIN) nor leave a core (EBUSY), its RR interval is 0.
 *  - /proc/sys/fs/mqueue (LTP mq_open01): queues_max, msg_max,
 *    msgsize_max, msg_default, msgsize_default; `ltp_cred mq-write` (run in
 *    a53emu only: it changes the IPC namespace's limits) lowers them and
 *    checks that mq_open() obeys (ENOSPC, EINVAL, the default size).
 *  - zombies (LTP sched_setscheduler04, racy): sched_getscheduler() and
 *    the other scheduling calls, getpgid() and getsid() find a zombie.
 *  - sockets: getsockname() with a NULL address is EFAULT; an O_PATH
 *    descriptor is EBADF (fdget()); MSG_ERRQUEUE with nothing queued is
 *    EAGAIN at once; recvfrom() with fromlen -1 is EINVAL, with a bad
 *    address but no name to give (TCP) it succeeds; recvmsg() with
 *    msg_namelen -1 is EINVAL (copy_msghdr_from_user()); a connected TCP
 *    socket's sendto() ignores the address (LTP getsockname01, accept03,
 *    recv01, recvfrom01, recvmsg01, sendto01).
 *  - SIOCGIFFLAGS/SIOCSIFFLAGS on a socket (LTP sendmsg01's `ip link set
 *    lo up`): lo's flags, ENODEV for no such interface, EPERM without
 *    CAP_NET_ADMIN, setting the flags lo has is a no-op.
 *  - mq_unlink() of another user's queue: EPERM (LTP mq_unlink01).
 *  - kill() of a process whose main thread exited but another lives: the
 *    live thread takes the signal (seen while reading kill_pid_info()).
 *  - ETXTBSY (LTP execve04): a file open for writing cannot be executed
 *    (deny_write_access() in do_open_execat()).
 *
 * Self-checking; run as root (the host test runs as root, a53emu's guest
 * with --root): a non-root caller is a child that setresuid()s away.
 */
#include "proc.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#define UID_OTHER 4242          /* a user that is not root */

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef PR_SET_TIMERSLACK
#define PR_SET_TIMERSLACK 29
#define PR_GET_TIMERSLACK 30
#endif

/* include/uapi/linux/sched/types.h: struct sched_attr, SCHED_ATTR_SIZE_VER0 */
struct dl_attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
};

/* A user pointer that faults: the last page of the lower half. */
#define BAD_PTR ((void *)-4096L)

static volatile sig_atomic_t in_handler_dfl, in_handler_siginfo, handled;

static void oneshot(int sig, siginfo_t *si, void *uc)
{
    struct sigaction now;

    (void)si;
    (void)uc;
    if (sigaction(sig, NULL, &now) == 0) {
        in_handler_dfl = now.sa_handler == SIG_DFL;
        in_handler_siginfo = !!(now.sa_flags & SA_SIGINFO);
    }
    handled = 1;
}

static void resethand(void)
{
    struct sigaction sa, after;

    printf("SA_RESETHAND:\n");
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = oneshot;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    expect_ret("sigaction(SIGUSR1, SA_SIGINFO|SA_RESETHAND)", sigaction(SIGUSR1, &sa, NULL), 0);
    raise(SIGUSR1);
    CHECK(handled, "the handler ran");
    CHECK(in_handler_dfl, "in the handler, SIGUSR1's handler is SIG_DFL");
    CHECK(in_handler_siginfo, "in the handler, SA_SIGINFO is still set");
    sigaction(SIGUSR1, NULL, &after);
    CHECK(after.sa_handler == SIG_DFL && (after.sa_flags & SA_SIGINFO)
          && (after.sa_flags & SA_RESETHAND), "after it: SIG_DFL, SA_SIGINFO|SA_RESETHAND kept");
    CHECK(sigismember(&after.sa_mask, SIGUSR2) == 1, "after it: sa_mask kept");
    signal(SIGUSR1, SIG_DFL);
}

/* pselect6/ppoll on a readable pipe with a 5 s timeout: ready at once, so
 * Linux writes back about 5 s left (4.x s), or leaves 5 s under
 * STICKY_TIMEOUTS.  Raw system calls: libc's select() may copy. */
static void timeouts(void)
{
    int p[2];
    struct timespec ts;
    struct pollfd pfd;
    fd_set rd;
    int old = personality(0xffffffff);

    printf("ppoll/pselect6 timeouts:\n");
    if (pipe(p) < 0 || write(p[1], "x", 1) != 1) {
        CHECK(0, "pipe");
        return;
    }
    pfd.fd = p[0];
    pfd.events = POLLIN;
    ts.tv_sec = 5;
    ts.tv_nsec = 0;
    expect_ret("ppoll(readable, 5 s)", syscall(SYS_ppoll, &pfd, 1, &ts, NULL, 8), 1);
    CHECK(ts.tv_sec == 4, "ppoll wrote the time left back (4.x s)");
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    ts.tv_sec = 5;
    ts.tv_nsec = 0;
    expect_ret("pselect6(readable, 5 s)", syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts,
                                                  NULL), 1);
    CHECK(ts.tv_sec == 4, "pselect6 wrote the time left back (4.x s)");

    expect_ret("personality(PER_LINUX | STICKY_TIMEOUTS)",
               personality(PER_LINUX | STICKY_TIMEOUTS) == old ? 0 : -1, 0);
    ts.tv_sec = 5;
    ts.tv_nsec = 0;
    expect_ret("ppoll(readable, 5 s), sticky", syscall(SYS_ppoll, &pfd, 1, &ts, NULL, 8), 1);
    CHECK(ts.tv_sec == 5 && ts.tv_nsec == 0, "ppoll left the timeout alone");
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    ts.tv_sec = 0;
    ts.tv_nsec = 10000;
    expect_ret("pselect6(readable, 10 us), sticky",
               syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, NULL), 1);
    CHECK(ts.tv_sec == 0 && ts.tv_nsec == 10000, "pselect6 left the timeout alone");
    personality(old);
    close(p[0]);
    close(p[1]);
}

static volatile pid_t thread_tid;
static volatile sig_atomic_t thread_done, got_usr2, got_value;

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    got_usr2++;
    if (si->si_code == SI_QUEUE && si->si_value.sival_int == 777)
        got_value = 1;
}

static void *sleeper(void *arg)
{
    (void)arg;
    thread_tid = sys_gettid();
    while (!thread_done)
        msleep(1);
    return NULL;
}

static void wait_usr2(int n)
{
    for (int i = 0; i < 2000 && got_usr2 < n; i++)
        msleep(1);
}

static void thread_ids(void)
{
    pthread_t t;
    struct sigaction sa;
    siginfo_t si;

    printf("kill/rt_sigqueueinfo to a thread's id:\n");
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    if (pthread_create(&t, NULL, sleeper, NULL)) {
        CHECK(0, "pthread_create");
        return;
    }
    while (!thread_tid)
        msleep(1);
    expect_ret("kill(thread's tid, SIGUSR2)", kill(thread_tid, SIGUSR2), 0);
    wait_usr2(1);
    CHECK(got_usr2 == 1, "the thread group took it");
    memset(&si, 0, sizeof(si));
    si.si_signo = SIGUSR2;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = 777;
    expect_ret("rt_sigqueueinfo(thread's tid, SIGUSR2)",
               syscall(SYS_rt_sigqueueinfo, thread_tid, SIGUSR2, &si), 0);
    wait_usr2(2);
    CHECK(got_usr2 == 2 && got_value, "its value arrived");
    expect_ret("kill(thread's tid, 0)", kill(thread_tid, 0), 0);
    thread_done = 1;
    pthread_join(t, NULL);
    signal(SIGUSR2, SIG_DFL);
}

/* A pid nobody has: a child's, after it is reaped. */
static pid_t unused_pid(void)
{
    pid_t pid = xfork();

    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

static void affinity(void)
{
    cpu_set_t set;
    pid_t parent = getpid(), pid;
    int status;

    printf("sched_setaffinity:\n");
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof(set), &set);
    expect_err("sched_setaffinity(no such pid, bad mask)",
               syscall(SYS_sched_setaffinity, unused_pid(), sizeof(set), BAD_PTR), EFAULT);
    expect_err("sched_setaffinity(no such pid, mask)",
               sched_setaffinity(unused_pid(), sizeof(set), &set), ESRCH);
    pid = xfork();
    if (pid == 0) {
        if (setresuid(UID_OTHER, UID_OTHER, UID_OTHER) < 0)
            _exit(2);
        if (sched_setaffinity(parent, sizeof(set), &set) == 0)
            _exit(3);
        _exit(errno == EPERM ? 0 : 4);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "another user's sched_setaffinity(root's process): EPERM");
    expect_ret("sched_setaffinity(self, own mask)", sched_setaffinity(0, sizeof(set), &set), 0);
}

/* Read (value < 0: returns it) or write /proc/.../timerslack_ns (returns 0). */
static long proc_slack(const char *path, long value)
{
    char buf[32];
    long n;
    int fd = open(path, value < 0 ? O_RDONLY : O_WRONLY);

    if (fd < 0)
        return -1;
    if (value < 0) {
        n = read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = 0;
        n = n > 0 ? strtol(buf, NULL, 10) : -1;
    } else {
        int len = snprintf(buf, sizeof(buf), "%ld\n", value);

        n = write(fd, buf, len) == len ? 0 : -1;
    }
    int saved = errno;

    close(fd);
    errno = saved;
    return n;
}

static void timerslack(void)
{
    long orig = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    pid_t pid;
    int status;

    printf("PR_SET_TIMERSLACK:\n");
    CHECK(orig > 0, "PR_GET_TIMERSLACK: a slack");
    expect_ret("PR_SET_TIMERSLACK 1", prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0), 0);
    expect_ret("PR_GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 1);
    expect_ret("PR_SET_TIMERSLACK 70000", prctl(PR_SET_TIMERSLACK, 70000, 0, 0, 0), 0);
    expect_ret("PR_GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 70000);
    pid = xfork();
    if (pid == 0) {
        long inherited = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);

        prctl(PR_SET_TIMERSLACK, 5, 0, 0, 0);
        prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);
        _exit(inherited == 70000 && prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == 70000 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "a child inherits 70000, and 0 restores that as its default");
    expect_ret("PR_SET_TIMERSLACK 0", prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0), 0);
    CHECK(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == orig, "0 restored the original slack");

    /* /proc/PID/timerslack_ns: the same value, writable; another user's: EPERM */
    CHECK(proc_slack("/proc/self/timerslack_ns", -1) == orig, "/proc/self/timerslack_ns shows it");
    CHECK(proc_slack("/proc/self/timerslack_ns", 60000) == 0
          && prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == 60000, "writing 60000 sets it");
    CHECK(proc_slack("/proc/self/timerslack_ns", 0) == 0
          && prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == orig, "writing 0 restores the default");
    pid = xfork();
    if (pid == 0) {
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/timerslack_ns", (int)getppid());
        if (setresuid(UID_OTHER, UID_OTHER, UID_OTHER) < 0)
            _exit(2);
        _exit(proc_slack(path, 1000) == -1 && errno == EPERM ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "another user writing root's timerslack_ns: EPERM");
}

static long setattr(struct dl_attr *a)
{
    return syscall(SYS_sched_setattr, 0, a, 0);
}

static struct dl_attr dl(uint64_t runtime, uint64_t deadline, uint64_t period)
{
    struct dl_attr a;

    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.policy = SCHED_DEADLINE;
    a.runtime = runtime;
    a.deadline = deadline;
    a.period = period;
    return a;
}

static void deadline(void)
{
    struct dl_attr a, got, normal;
    struct timespec ts;
    cpu_set_t one, all;
    pid_t pid;
    int status;

    printf("SCHED_DEADLINE:\n");
    a = dl(500, 30000000, 30000000);
    expect_err("sched_setattr(runtime 500 ns < 2^DL_SCALE)", setattr(&a), EINVAL);
    a = dl(20000000, 10000000, 30000000);
    expect_err("sched_setattr(runtime > deadline)", setattr(&a), EINVAL);
    a = dl(10000000, 30000000, 20000000);
    expect_err("sched_setattr(deadline > period)", setattr(&a), EINVAL);
    a = dl(10000000, 0, 30000000);
    expect_err("sched_setattr(deadline 0)", setattr(&a), EINVAL);
    a = dl(10000000, 30000000, 30000000);
    a.priority = 1;
    expect_err("sched_setattr(priority 1)", setattr(&a), EINVAL);

    pid = xfork();
    if (pid == 0) {
        a = dl(10000000, 30000000, 30000000);
        if (setresuid(UID_OTHER, UID_OTHER, UID_OTHER) < 0)
            _exit(2);
        _exit(setattr(&a) < 0 && errno == EPERM ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a non-root caller: EPERM");

    a = dl(10000000, 30000000, 30000000);
    expect_ret("sched_setattr(10 ms / 30 ms / 30 ms)", setattr(&a), 0);
    memset(&got, 0xff, sizeof(got));
    expect_ret("sched_getattr", syscall(SYS_sched_getattr, 0, &got, sizeof(got), 0), 0);
    CHECK(got.size == sizeof(got) && got.policy == SCHED_DEADLINE && got.runtime == 10000000
          && got.deadline == 30000000 && got.period == 30000000 && got.priority == 0
          && got.nice == 0 && got.flags == 0, "sched_getattr gives them back");
    /* musl's sched_getscheduler() is ENOSYS by design: the call itself */
    expect_ret("sched_getscheduler", syscall(SYS_sched_getscheduler, 0), SCHED_DEADLINE);
    expect_ret("sched_rr_get_interval", sched_rr_get_interval(0, &ts), 0);
    CHECK(ts.tv_sec == 0 && ts.tv_nsec == 0, "its RR interval is 0");
    pid = fork();
    if (pid == 0)
        _exit(0);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    expect_err("fork() of a -deadline task", pid, EAGAIN);
    sched_getaffinity(0, sizeof(all), &all);
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    if (CPU_COUNT(&all) > 1) {
        long ret = sched_setaffinity(0, sizeof(one), &one);

        CHECK(ret == -1 && errno == EBUSY, "sched_setaffinity(a -deadline task, one core): "
              "EBUSY");
    } else {
        expect_ret("sched_setaffinity(a -deadline task, its only core)",
                   sched_setaffinity(0, sizeof(one), &one), 0);
    }
    a = dl(5000000, 30000000, 0);
    expect_ret("sched_setattr(new runtime, period 0 = deadline)", setattr(&a), 0);
    memset(&normal, 0, sizeof(normal));
    normal.size = sizeof(normal);
    expect_ret("sched_setattr(SCHED_OTHER)", setattr(&normal), 0);
    expect_ret("sched_getscheduler", syscall(SYS_sched_getscheduler, 0), SCHED_OTHER);
    pid = xfork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status), "fork() works again");
}

/* A program open for writing, even by the caller itself, cannot be run. */
static void text_busy(void)
{
    static const char script[] = "#!/bin/sh\nexit 0\n";
    char *argv[] = {"ltp_cred_busy", NULL};
    int fd;

    printf("execve of a file open for writing:\n");
    fd = open("ltp_cred_busy", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0 || write(fd, script, sizeof(script) - 1) != sizeof(script) - 1) {
        CHECK(0, "create ltp_cred_busy");
        return;
    }
    long ret = execve("ltp_cred_busy", argv, NULL);

    CHECK(ret == -1 && errno == ETXTBSY, "execve(a script we hold open O_WRONLY): ETXTBSY");
    close(fd);
    unlink("ltp_cred_busy");
}

/* mq_open/mq_unlink/mq_getsetattr as system calls: glibc may want -lrt.
 * The kernel takes the name without libc's leading '/'. */
struct mq_attr_k {
    long flags, maxmsg, msgsize, curmsgs, pad[4];
};

static long mq_open_k(const char *name, int oflag, struct mq_attr_k *attr)
{
    return syscall(SYS_mq_open, name, oflag, 0600, attr);
}

static const char *const mq_files[] = {"queues_max", "msg_max", "msgsize_max", "msg_default",
                                       "msgsize_default"};

static long read_mq(const char *name)
{
    char path[64], buf[32];
    long n;
    int fd;

    snprintf(path, sizeof(path), "/proc/sys/fs/mqueue/%s", name);
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return strtol(buf, NULL, 10);
}

static long write_mq(const char *name, long value)
{
    char path[64], buf[32];
    long n;
    int fd, len;

    snprintf(path, sizeof(path), "/proc/sys/fs/mqueue/%s", name);
    fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    len = snprintf(buf, sizeof(buf), "%ld\n", value);
    n = write(fd, buf, len);
    close(fd);
    return n;
}

/* LTP mq_open01: /proc/sys/fs/mqueue exists and is readable. */
static void mq_sysctls(void)
{
    printf("/proc/sys/fs/mqueue:\n");
    for (unsigned i = 0; i < sizeof(mq_files) / sizeof(mq_files[0]); i++)
        CHECK(read_mq(mq_files[i]) > 0, "%s: a positive value", mq_files[i]);
}

/* `ltp_cred mq-write` (a53emu only: on the host it would change the host's
 * IPC namespace): the limits root writes are obeyed by mq_open(). */
static void mq_write(void)
{
    long queues_max = read_mq("queues_max"), msg_max = read_mq("msg_max");
    long msg_default = read_mq("msg_default");
    struct mq_attr_k attr;
    long fd, fd2;
    pid_t pid;
    int status;

    printf("/proc/sys/fs/mqueue written:\n");
    expect_err("msg_max = 0 (below MIN_MSGMAX)", write_mq("msg_max", 0), EINVAL);
    expect_err("msgsize_max = 127 (below MIN_MSGSIZEMAX)", write_mq("msgsize_max", 127), EINVAL);
    fd = mq_open_k("ltp_cred_q1", O_CREAT | O_RDWR, NULL);
    CHECK(fd >= 0, "mq_open(ltp_cred_q1, O_CREAT)");
    CHECK(write_mq("queues_max", 1) > 0, "queues_max = 1");
    CHECK(write_mq("msg_max", 5) > 0, "msg_max = 5");
    CHECK(write_mq("msg_default", 3) > 0, "msg_default = 3");
    pid = xfork();
    if (pid == 0) {
        struct mq_attr_k big = {0, 6, 128, 0, {0}};

        if (setresuid(UID_OTHER, UID_OTHER, UID_OTHER) < 0)
            _exit(2);
        if (mq_open_k("ltp_cred_q2", O_CREAT | O_RDWR, NULL) >= 0 || errno != ENOSPC)
            _exit(3);
        if (mq_open_k("ltp_cred_q2", O_CREAT | O_RDWR, &big) >= 0 || errno != EINVAL)
            _exit(4);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "non-root: ENOSPC past queues_max, EINVAL past msg_max");
    fd2 = mq_open_k("ltp_cred_q2", O_CREAT | O_RDWR, NULL);
    CHECK(fd2 >= 0, "root (CAP_SYS_RESOURCE) may pass queues_max");
    memset(&attr, 0, sizeof(attr));
    if (fd2 >= 0)
        syscall(SYS_mq_getsetattr, fd2, NULL, &attr);
    expect_ret("the new queue's mq_maxmsg (msg_default)", attr.maxmsg, 3);
    write_mq("queues_max", queues_max);
    write_mq("msg_max", msg_max);
    write_mq("msg_default", msg_default);
    CHECK(read_mq("queues_max") == queues_max && read_mq("msg_max") == msg_max,
          "the limits restored");
    syscall(SYS_mq_unlink, "ltp_cred_q1");
    syscall(SYS_mq_unlink, "ltp_cred_q2");
    close(fd);
    close(fd2);
}

static volatile sig_atomic_t leader_gone_got;

static void leader_gone_handler(int sig)
{
    (void)sig;
    leader_gone_got = 1;
}

static void *leader_gone_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5000 && !leader_gone_got; i++)
        msleep(1);
    _exit(leader_gone_got ? 0 : 1);
}

/* kill() of a process whose main thread has exited (a zombie leader) while
 * another thread lives: the signal reaches that thread (complete_signal()). */
static void zombie_leader(void)
{
    int status;
    pid_t pid = xfork();

    if (pid == 0) {
        pthread_t t;

        signal(SIGUSR1, leader_gone_handler);
        if (pthread_create(&t, NULL, leader_gone_thread, NULL))
            _exit(2);
        pthread_exit(NULL);
    }
    printf("a process whose main thread exited:\n");
    msleep(200);
    expect_ret("kill(its pid, SIGUSR1)", kill(pid, SIGUSR1), 0);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "its live thread took the signal");
}

/* LTP getsockname01, accept03, recv01, recvfrom01, recvmsg01, sendto01 */
static void sockets(void)
{
    struct sockaddr_in a, zero;
    socklen_t len;
    char buf[16];
    int l, c, s, p, o;

    printf("sockets:\n");
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l = socket(AF_INET, SOCK_STREAM, 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    len = sizeof(a);
    if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0
        || getsockname(l, (struct sockaddr *)&a, &len) < 0
        || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 || (s = accept(l, NULL, NULL)) < 0) {
        CHECK(0, "a loopback TCP connection");
        return;
    }
    len = sizeof(a);
    expect_err("getsockname(NULL address)", getsockname(l, NULL, &len), EFAULT);
    o = open("/", O_PATH);
    expect_err("accept(an O_PATH descriptor)", accept(o, NULL, NULL), EBADF);
    expect_err("getsockname(an O_PATH descriptor)", getsockname(o, (struct sockaddr *)&a, &len),
               EBADF);
    close(o);
    alarm(20);                  /* a recv that waited would hang: die instead */
    expect_err("recv(MSG_ERRQUEUE), nothing queued", recv(c, buf, sizeof(buf), MSG_ERRQUEUE),
               EAGAIN);
    alarm(0);
    memset(&zero, 0, sizeof(zero));
    expect_ret("sendto(connected TCP, a zeroed sockaddr)",
               sendto(s, "hello", 5, 0, (struct sockaddr *)&zero, sizeof(zero)), 5);
    len = (socklen_t)-1;
    expect_err("recvfrom(fromlen -1)", recvfrom(c, buf, sizeof(buf), 0, (struct sockaddr *)&a,
                                                &len), EINVAL);
    expect_ret("sendto(connected TCP)", send(s, "again", 5, 0), 5);
    len = sizeof(a);
    expect_ret("recvfrom(TCP, a bad from: TCP gives no name, nothing copied)",
               recvfrom(c, buf, 5, MSG_WAITALL, (struct sockaddr *)-1, &len), 5);
    {
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr mh;

        memset(&mh, 0, sizeof(mh));
        mh.msg_name = &a;
        mh.msg_namelen = (socklen_t)-1;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        expect_err("recvmsg(msg_namelen -1)", recvmsg(c, &mh, MSG_DONTWAIT), EINVAL);
    }
    p = socket(AF_INET, SOCK_STREAM, 0);
    expect_err("sendto(unconnected TCP, an address)",
               sendto(p, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof(a)), EPIPE);
    close(p);
    close(s);
    close(c);
    close(l);
}

/* LTP sendmsg01 brings lo up with `ip link set lo up`: SIOCGIFFLAGS and
 * SIOCSIFFLAGS on a socket (dev_ioctl()). */
static void if_flags(void)
{
    struct ifreq ifr;
    pid_t pid;
    int status, s = socket(AF_INET, SOCK_DGRAM, 0);

    printf("interface flags:\n");
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    expect_ret("ioctl(SIOCGIFFLAGS, lo)", ioctl(s, SIOCGIFFLAGS, &ifr), 0);
    CHECK((ifr.ifr_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING))
          == (IFF_UP | IFF_LOOPBACK | IFF_RUNNING), "lo: IFF_UP|IFF_LOOPBACK|IFF_RUNNING");
    ifr.ifr_flags |= IFF_UP;
    expect_ret("ioctl(SIOCSIFFLAGS, lo, already up)", ioctl(s, SIOCSIFFLAGS, &ifr), 0);
    pid = xfork();
    if (pid == 0) {
        if (setresuid(UID_OTHER, UID_OTHER, UID_OTHER) < 0)
            _exit(2);
        _exit(ioctl(s, SIOCSIFFLAGS, &ifr) < 0 && errno == EPERM ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "non-root SIOCSIFFLAGS: EPERM");
    strcpy(ifr.ifr_name, "nosuch0");
    expect_err("ioctl(SIOCGIFFLAGS, nosuch0)", ioctl(s, SIOCGIFFLAGS, &ifr), ENODEV);
    expect_err("ioctl(SIOCGIFFLAGS, bad pointer)", ioctl(s, SIOCGIFFLAGS, BAD_PTR), EFAULT);
    close(s);
}

/* A queue another user made: only its owner, root or CAP_FOWNER may unlink
 * it (the mqueue root is sticky): EPERM from the kernel (the C libraries
 * make it EACCES, so the call itself). */
static void mq_unlink_perm(void)
{
    pid_t pid;
    int status;
    long fd = mq_open_k("ltp_cred_u", O_CREAT | O_RDWR, NULL);

    printf("mq_unlink permission:\n");
    CHECK(fd >= 0, "root: mq_open(ltp_cred_u, O_CREAT)");
    pid = xfork();
    if (pid == 0) {
        if (setresuid(UID_OTHER, UID_OTHER, UID_OTHER) < 0)
            _exit(2);
        if (syscall(SYS_mq_unlink, "ltp_cred_u") == 0 || errno != EPERM)
            _exit(3);
        if (mq_open_k("ltp_cred_v", O_CREAT | O_RDWR, NULL) < 0)
            _exit(4);
        _exit(syscall(SYS_mq_unlink, "ltp_cred_v") == 0 ? 0 : 5);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "another user: EPERM; the owner of a queue may unlink it");
    expect_ret("root: mq_unlink(ltp_cred_u)", syscall(SYS_mq_unlink, "ltp_cred_u"), 0);
    close(fd);
}

/* A zombie keeps its pid until it is reaped: the scheduling calls and
 * getpgid/getsid still find it (find_process_by_pid/find_task_by_vpid). */
static void zombie(void)
{
    struct sched_param sp;
    struct timespec ts;
    cpu_set_t set;
    siginfo_t si;
    pid_t pid = xfork();

    if (pid == 0)
        _exit(0);
    printf("a zombie child:\n");
    memset(&si, 0, sizeof(si));
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    expect_ret("sched_getscheduler(zombie)", syscall(SYS_sched_getscheduler, pid), SCHED_OTHER);
    expect_ret("sched_getparam(zombie)", syscall(SYS_sched_getparam, pid, &sp), 0);
    expect_ret("sched_rr_get_interval(zombie)", sched_rr_get_interval(pid, &ts), 0);
    CHECK(sched_getaffinity(pid, sizeof(set), &set) == 0, "sched_getaffinity(zombie): 0");
    CHECK(getpgid(pid) == getpgid(0), "getpgid(zombie): ours");
    CHECK(getsid(pid) == getsid(0), "getsid(zombie): ours");
    waitpid(pid, NULL, 0);
    expect_err("sched_getscheduler(reaped)", syscall(SYS_sched_getscheduler, pid), ESRCH);
}

int main(int argc, char **argv)
{
    proc_init();
    if (argc > 1 && strcmp(argv[1], "mq-write") == 0) {
        mq_write();
        return proc_finish("ltp_cred");
    }
    resethand();
    timeouts();
    thread_ids();
    affinity();
    timerslack();
    deadline();
    text_busy();
    mq_sysctls();
    zombie();
    zombie_leader();
    sockets();
    if_flags();
    mq_unlink_perm();
    return proc_finish("ltp_cred");
}
