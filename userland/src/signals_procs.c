/*
 * signals_procs.c - signals between processes and threads (kernel/signal.c:
 * kill_pid_info, __kill_pgrp_info, do_tkill, complete_signal choosing a
 * thread, the per-thread and shared pending sets, do_sigtimedwait,
 * sys_rt_sigsuspend; the restart logic of do_signal).
 *
 * Checks: kill() from a child reaches the parent's handler with SI_USER and
 * the sender's pid; sigqueue() carries a value (SI_QUEUE); real-time
 * signals queue every instance, in order, while a standard one coalesces;
 * kill(-pgid) reaches a whole process group and nobody outside it; ESRCH
 * for an empty group; a fork()ed child inherits handlers and the mask but
 * not pending signals; tgkill() runs the handler on the targeted thread; a
 * process-directed signal goes to the only thread not blocking it; a
 * thread's pending signal is invisible to another thread's sigpending();
 * a blocking read interrupted by a handler without SA_RESTART fails with
 * EINTR and with SA_RESTART is restarted; sigsuspend() returns EINTR after
 * the handler and restores the mask; sigtimedwait() times out with EAGAIN.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <pthread.h>
#include <sched.h>

/* sizeof the kernel's sigset_t (64 signals), the last rt_sig* argument */
#define KERNEL_SIGSET_SIZE 8

static volatile int handled;
static volatile pid_t last_sender, last_handler_tid;
static volatile int last_code, last_value;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    last_sender = si->si_pid;
    last_code = si->si_code;
    last_value = si->si_value.sival_int;
    last_handler_tid = sys_gettid();
    /* last: another thread polls `handled`, then reads the fields above */
    __atomic_fetch_add(&handled, 1, __ATOMIC_RELEASE);
}

static void set_handler(int sig, int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static sigset_t one_sig(int sig)
{
    sigset_t s;

    sigemptyset(&s);
    sigaddset(&s, sig);
    return s;
}

static void check_kill_and_queue(void)
{
    printf("kill, sigqueue, queuing:\n");
    sigset_t usr1 = one_sig(SIGUSR1), old;
    sigprocmask(SIG_BLOCK, &usr1, &old);
    set_handler(SIGUSR1, 0);
    pid_t me = getpid();
    pid_t child = xfork();
    if (child == 0) {
        kill(me, SIGUSR1);
        _exit(0);
    }
    wait_for(child);
    handled = 0;
    sigsuspend(&old);               /* unblocks SIGUSR1: the handler runs */
    CHECK(handled == 1 && last_sender == child && last_code == SI_USER,
          "kill() from a child: handler ran, si_pid the child, SI_USER: %s",
          YESNO(handled == 1 && last_sender == child && last_code == SI_USER));
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1), "sigsuspend restored the mask: %s",
          YESNO(sigismember(&now, SIGUSR1)));

    /* sigqueue with a value; sigwaitinfo takes it synchronously */
    child = xfork();
    if (child == 0) {
        union sigval v = {.sival_int = 42};
        sigqueue(me, SIGUSR1, v);
        _exit(0);
    }
    wait_for(child);
    siginfo_t si;
    int s = sigwaitinfo(&usr1, &si);
    CHECK(s == SIGUSR1 && si.si_code == SI_QUEUE && si.si_value.sival_int == 42 &&
          si.si_pid == child, "sigqueue(42) from a child, sigwaitinfo: SI_QUEUE, value %d: %s",
          si.si_value.sival_int, YESNO(si.si_pid == child));

    /* three instances of a standard signal coalesce; of a real-time one, they queue */
    int rt = SIGRTMIN + 2;
    sigset_t both = one_sig(SIGUSR1);
    sigaddset(&both, rt);
    sigprocmask(SIG_BLOCK, &both, NULL);
    child = xfork();
    if (child == 0) {
        for (int i = 1; i <= 3; i++) {
            union sigval v = {.sival_int = i};
            sigqueue(me, rt, v);
            kill(me, SIGUSR1);
        }
        _exit(0);
    }
    wait_for(child);
    int order_ok = 1, usr1_count = 0, rt_count = 0;
    struct timespec zero = {0, 0};
    while ((s = sigtimedwait(&both, &si, &zero)) > 0) {
        if (s == SIGUSR1) {
            usr1_count++;
        } else {
            rt_count++;
            order_ok &= si.si_value.sival_int == rt_count;
        }
    }
    CHECK(usr1_count == 1, "SIGUSR1 sent 3 times while blocked: delivered %d time(s)",
          usr1_count);
    CHECK(rt_count == 3 && order_ok, "SIGRTMIN+2 sent 3 times: %d queued, values in order: %s",
          rt_count, YESNO(order_ok));
    CHECK(s < 0 && errno == EAGAIN, "then sigtimedwait with a zero timeout: %s",
          errno_name(errno));
    struct timespec twenty = {0, 20 * 1000000L};
    double t0 = now_mono();
    errno = 0;
    s = sigtimedwait(&both, &si, &twenty);
    CHECK(s < 0 && errno == EAGAIN && now_mono() - t0 >= 0.020,
          "sigtimedwait 20 ms with nothing pending: %s after the timeout", errno_name(errno));
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
}

static void check_inheritance(void)
{
    printf("fork and signals:\n");
    set_handler(SIGUSR2, 0);
    sigset_t usr2 = one_sig(SIGUSR2), old;
    sigprocmask(SIG_BLOCK, &usr2, &old);
    raise(SIGUSR2);                 /* pending in the parent */
    pid_t child = xfork();
    if (child == 0) {
        sigset_t pend, mask;
        struct sigaction sa;
        sigpending(&pend);
        sigprocmask(SIG_BLOCK, NULL, &mask);
        sigaction(SIGUSR2, NULL, &sa);
        int code = (sigismember(&pend, SIGUSR2) ? 1 : 0) |
                   (sigismember(&mask, SIGUSR2) ? 0 : 2) |
                   (sa.sa_sigaction == on_sig ? 0 : 4);
        _exit(code);
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "the child has the handler and the mask, but not the pending signal: %s",
          WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : status_str(st));
    sigset_t pend;
    sigpending(&pend);
    CHECK(sigismember(&pend, SIGUSR2), "still pending in the parent: %s",
          YESNO(sigismember(&pend, SIGUSR2)));
    handled = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK(handled == 1, "delivered when unblocked: %d", handled);
    signal(SIGUSR2, SIG_DFL);
}

static void check_pgrp_kill(void)
{
    enum { N = 3 };
    pid_t kids[N], outsider;
    int ready[2];
    char b;

    printf("kill(-pgid):\n");
    if (pipe(ready) < 0)
        exit(1);
    for (int i = 0; i < N; i++) {
        kids[i] = xfork();
        if (kids[i] == 0) {
            setpgid(0, i == 0 ? 0 : kids[0]);
            write(ready[1], "r", 1);
            for (;;)
                pause();
        }
        setpgid(kids[i], kids[0]);  /* from both sides: no race with the kill */
    }
    outsider = xfork();
    if (outsider == 0) {
        write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    for (int i = 0; i < N + 1; i++)
        read(ready[0], &b, 1);
    int r = kill(-kids[0], SIGTERM);
    CHECK(r == 0, "kill(-pgid, SIGTERM): 0");
    int all = 1;
    for (int i = 0; i < N; i++) {
        int st = wait_for(kids[i]);
        all &= WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM;
    }
    CHECK(all, "all %d members killed by SIGTERM: %s", N, YESNO(all));
    int st;
    CHECK(waitpid(outsider, &st, WNOHANG) == 0, "the child outside the group still runs");
    kill(outsider, SIGKILL);
    st = wait_for(outsider);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "until we kill it: %s", status_str(st));
    errno = 0;
    kill(-kids[0], SIGTERM);
    CHECK(errno == ESRCH, "kill(-pgid) of an empty group: %s", errno_name(errno));
    close(ready[0]);
    close(ready[1]);
}

/* --- threads --- */

enum { NT = 3 };
static pid_t tids[NT];
static volatile int stop_threads;
static volatile int thread_saw_pending[NT];
static int unblocked_thread = 2;

static void *sig_thread(void *arg)
{
    int i = (int)(long)arg;

    if (i == unblocked_thread) {
        sigset_t s = one_sig(SIGUSR2);
        pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    }
    __atomic_store_n(&tids[i], sys_gettid(), __ATOMIC_RELEASE);
    while (!stop_threads) {
        sigset_t pend;
        sigpending(&pend);
        if (sigismember(&pend, SIGTERM))
            thread_saw_pending[i] = 1;
        sched_yield();
    }
    return NULL;
}

static void wait_handled(int n)
{
    while (handled < n)
        sched_yield();
}

static void check_threads(void)
{
    pthread_t t[NT];

    printf("signals and threads:\n");
    set_handler(SIGUSR1, 0);
    set_handler(SIGUSR2, 0);
    sigset_t usr2 = one_sig(SIGUSR2), old;
    pthread_sigmask(SIG_BLOCK, &usr2, &old);   /* inherited by the threads */
    for (int i = 0; i < NT; i++)
        pthread_create(&t[i], NULL, sig_thread, (void *)(long)i);
    for (int i = 0; i < NT; i++)
        while (__atomic_load_n(&tids[i], __ATOMIC_ACQUIRE) == 0)
            sched_yield();

    handled = 0;
    last_handler_tid = 0;
    syscall(SYS_tgkill, getpid(), tids[1], SIGUSR1);
    wait_handled(1);
    CHECK(last_handler_tid == tids[1], "tgkill(thread 1): the handler ran on thread 1: %s",
          YESNO(last_handler_tid == tids[1]));
    handled = 0;
    last_handler_tid = 0;
    kill(getpid(), SIGUSR2);
    wait_handled(1);
    CHECK(last_handler_tid == tids[unblocked_thread],
          "kill(getpid()) of a signal only thread 2 does not block: it ran on thread 2: %s",
          YESNO(last_handler_tid == tids[unblocked_thread]));

    /* a thread-directed signal is pending on that thread only */
    sigset_t term = one_sig(SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, NULL);
    syscall(SYS_tgkill, getpid(), sys_gettid(), SIGTERM);
    sigset_t pend;
    sigpending(&pend);
    CHECK(sigismember(&pend, SIGTERM), "tgkill(self) of a blocked SIGTERM: pending here: %s",
          YESNO(sigismember(&pend, SIGTERM)));
    msleep(20);
    stop_threads = 1;
    for (int i = 0; i < NT; i++)
        pthread_join(t[i], NULL);
    int seen = thread_saw_pending[0] | thread_saw_pending[1] | thread_saw_pending[2];
    CHECK(!seen, "and not in the other threads' sigpending(): %s", YESNO(!seen));
    siginfo_t si;
    /* raw rt_sigtimedwait: glibc's sigwaitinfo() rewrites SI_TKILL as SI_USER */
    long got = syscall(SYS_rt_sigtimedwait, &term, &si, NULL, KERNEL_SIGSET_SIZE);
    CHECK(got == SIGTERM && si.si_code == SI_TKILL,
          "rt_sigtimedwait takes it: SI_TKILL: %s", YESNO(si.si_code == SI_TKILL));
    signal(SIGTERM, SIG_IGN);       /* if it was not taken, do not die of it below */
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

/* --- EINTR and SA_RESTART on a blocking read --- */

static void check_restart(void)
{
    int p[2];
    char b;
    pid_t me = getpid();

    printf("a blocking read and a signal handler:\n");
    if (pipe(p) < 0)
        exit(1);
    set_handler(SIGUSR1, 0);
    /* the child keeps signalling until the read has failed (then we kill it) */
    pid_t child = xfork();
    if (child == 0) {
        for (;;) {
            kill(me, SIGUSR1);
            msleep(5);
        }
    }
    handled = 0;
    errno = 0;
    ssize_t n = read(p[0], &b, 1);
    int err = errno;
    kill(child, SIGKILL);
    wait_for(child);
    CHECK(n < 0 && err == EINTR && handled >= 1, "without SA_RESTART: read gives %s",
          errno_name(err));

    set_handler(SIGUSR1, SA_RESTART);
    child = xfork();
    if (child == 0) {
        for (int i = 0; i < 3; i++) {
            kill(me, SIGUSR1);
            msleep(10);
        }
        write(p[1], "r", 1);
        _exit(0);
    }
    handled = 0;
    n = read(p[0], &b, 1);
    wait_for(child);
    CHECK(n == 1 && b == 'r' && handled >= 1,
          "with SA_RESTART: the handler ran and read went on to return the byte: %s",
          YESNO(n == 1 && b == 'r' && handled >= 1));
    signal(SIGUSR1, SIG_DFL);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    proc_init();
    check_kill_and_queue();
    check_inheritance();
    check_pgrp_kill();
    check_threads();
    check_restart();
    return proc_finish("signals_procs");
}
