/*
 * sys_gaps9.c - the gaps LTP found in a53emu's issue 9 work (docs/ltp-proc.md):
 * RLIMIT_SIGPENDING (tgkill02), the wall clock and adjtimex() (leapsec01),
 * system time in times() (times03), /proc/sys's tainted, pid_max and
 * pipe-user-pages-* (wait403, fork13, pipe15), packet pipes (pipe2_01),
 * epoll on an O_PATH descriptor (epoll_ctl06), writing a 0444 sysctl as
 * root, vhangup() and TIOCSTI.
 *
 *   sys_gaps9           the checks whose answers the host kernel shares
 *                       (the host build runs them on the real kernel)
 *   sys_gaps9 board     as root, on a board only: set the board's clock,
 *                       change its NTP state and its /proc/sys values
 *                       (never run on a host: it would change the host)
 *
 * Nothing printed depends on the machine: no pid, time or address.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <grp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <termios.h>

#ifndef O_PATH
#define O_PATH 010000000
#endif
#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#endif
#ifndef ADJ_SETOFFSET
#define ADJ_SETOFFSET 0x0100
#endif
#ifndef ADJ_TAI
#define ADJ_TAI 0x0080
#endif
#ifndef ADJ_NANO
#define ADJ_NANO 0x2000
#define ADJ_MICRO 0x1000
#endif
#ifndef ADJ_OFFSET_SS_READ
#define ADJ_OFFSET_SS_READ 0xa001
#endif
#define ADJ_ADJTIME_ 0x8000
#define NOBODY 65534
#define TICK_USEC_ 10000                /* 1e6 / USER_HZ */
#define NTP_PHASE_LIMIT_ 16000000L
#define TOLERANCE_ (500L << 16)         /* MAXFREQ_SCALED / PPM_SCALE */
#define WALL_T 2000000000L              /* a wall clock the board is set to: 2033 */

/* A child's checks start from none failed... */
static void child_start(void)
{
    check_failures = 0;
}

/* ... and it exits 1 if any failed; the parent counts that. */
static void child_done(void)
{
    fflush(stdout);
    _exit(check_failures ? 1 : 0);
}

static void reap(pid_t pid, const char *what)
{
    int st = wait_for(pid);

    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: child %s", what, status_str(st));
}

/* Become an unprivileged user (uid/gid NOBODY: no capabilities left). */
static void drop_root(void)
{
    if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 ||
                           setuid(NOBODY) != 0))
        CHECK(0, "dropping root: %s", errno_name(errno));
}

/* ---- RLIMIT_SIGPENDING ------------------------------------------------- */

/* This user's queued signals, as /proc/self/status's SigQ says. */
static long sigq_now(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    char *p;

    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strstr(buf, "SigQ:");
    return p ? strtol(p + 5, NULL, 10) : -1;
}

static long sys_sigqueue(int sig, int value)
{
    siginfo_t si;

    memset(&si, 0, sizeof(si));
    si.si_signo = sig;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = value;
    return syscall(SYS_rt_sigqueueinfo, getpid(), sig, &si);
}

static int take(int sig, siginfo_t *si)
{
    sigset_t set;
    struct timespec zero = {0, 0};

    sigemptyset(&set);
    sigaddset(&set, sig);
    memset(si, 0, sizeof(*si));
    return (int)syscall(SYS_rt_sigtimedwait, &set, si, &zero, 8);
}

static long sys_timer_create(clockid_t clock, int sig, timer_t *id)
{
    struct sigevent ev;

    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = sig;
    return syscall(SYS_timer_create, clock, &ev, id);
}

static void check_sigpending(void)
{
    pid_t pid;
    siginfo_t si;
    sigset_t block;
    struct rlimit rl;
    timer_t tid;
    long base;
    int rt = SIGRTMIN;

    printf("RLIMIT_SIGPENDING:\n");
    pid = xfork();
    if (pid == 0) {
        child_start();
        sigemptyset(&block);
        sigaddset(&block, rt);
        sigaddset(&block, rt + 1);
        sigaddset(&block, SIGUSR1);
        sigprocmask(SIG_BLOCK, &block, NULL);
        base = sigq_now();
        CHECK(base >= 0, "SigQ is in /proc/self/status");
        rl.rlim_cur = rl.rlim_max = (rlim_t)base + 2;
        expect_ret("setrlimit(RLIMIT_SIGPENDING, queued + 2)", setrlimit(RLIMIT_SIGPENDING, &rl), 0);
        expect_ret("sigqueue RT #1", sys_sigqueue(rt, 1), 0);
        expect_ret("sigqueue RT #2", sys_sigqueue(rt, 2), 0);
        CHECK(sigq_now() == base + 2, "SigQ counts both");
        expect_err("sigqueue RT #3 over the limit", sys_sigqueue(rt, 3), EAGAIN);
        expect_err("tgkill RT over the limit", syscall(SYS_tgkill, getpid(), sys_gettid(), rt + 1),
                   EAGAIN);
        expect_err("timer_create over the limit", sys_timer_create(CLOCK_MONOTONIC, rt, &tid),
                   EAGAIN);
        /* kill() may not fail: the RT signal is set without a siginfo, and
         * with instances queued already it is merged into them. */
        expect_ret("kill RT over the limit", kill(getpid(), rt), 0);
        /* A standard signal from sigqueue() loses its siginfo... */
        expect_ret("sigqueue SIGUSR1 over the limit", sys_sigqueue(SIGUSR1, 7), 0);
        expect_ret("SIGUSR1 pending", take(SIGUSR1, &si), SIGUSR1);
        CHECK(si.si_code == SI_USER && si.si_pid == 0 && si.si_value.sival_int == 0,
              "its siginfo was lost: SI_USER, no sender, no value");
        /* ... one from kill() overrides the limit and keeps it. */
        expect_ret("kill SIGUSR1 over the limit", kill(getpid(), SIGUSR1), 0);
        expect_ret("SIGUSR1 pending", take(SIGUSR1, &si), SIGUSR1);
        CHECK(si.si_code == SI_USER && si.si_pid == getpid(), "kill()'s siginfo kept");
        CHECK(take(rt, &si) == rt && si.si_code == SI_QUEUE && si.si_value.sival_int == 1,
              "first RT: value 1");
        CHECK(take(rt, &si) == rt && si.si_code == SI_QUEUE && si.si_value.sival_int == 2,
              "second RT: value 2");
        expect_err("no third RT (kill's was merged)", take(rt, &si), EAGAIN);
        CHECK(sigq_now() == base, "SigQ back to where it was");
        expect_ret("timer_create within the limit",
                   sys_timer_create(CLOCK_MONOTONIC, rt, &tid), 0);
        CHECK(sigq_now() == base + 1, "a POSIX timer holds a sigqueue");
        expect_ret("sigqueue RT with the timer's", sys_sigqueue(rt, 4), 0);
        expect_err("and one more", sys_sigqueue(rt, 5), EAGAIN);
        expect_ret("timer_delete", syscall(SYS_timer_delete, tid), 0);
        expect_ret("room again", sys_sigqueue(rt, 6), 0);
        take(rt, &si);
        take(rt, &si);
        CHECK(sigq_now() == base, "SigQ back again");
        child_done();
    }
    reap(pid, "RLIMIT_SIGPENDING");
}

/* ---- times() and getrusage() ------------------------------------------- */

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile unsigned long sink;

/* Burn `secs` of CPU time in user space, then as much in system calls. */
static void burn(double secs)
{
    double t0 = cpu_now();
    unsigned long i;

    while (cpu_now() - t0 < secs)
        for (i = 0; i < 100000; i++)
            sink += i * i;
    t0 = cpu_now();
    while (cpu_now() - t0 < 2 * secs)
        for (i = 0; i < 100; i++)
            syscall(SYS_getppid);
}

static double tv_s(struct timeval tv)
{
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* times() and getrusage() tell the same story within a clock tick. */
static int near(double a, double b)
{
    double d = a - b;

    return d < 0.02 && d > -0.02;
}

static void check_times(void)
{
    struct tms t0, t1, t2;
    struct rusage ru, rc;
    double hz = (double)sysconf(_SC_CLK_TCK);
    sigset_t chld;
    siginfo_t si;
    pid_t pid;

    printf("times():\n");
    CHECK(times(&t0) != (clock_t)-1, "times()");
    burn(0.3);
    times(&t1);
    getrusage(RUSAGE_SELF, &ru);
    CHECK(t1.tms_utime > t0.tms_utime, "user time grew");
    CHECK(t1.tms_stime > t0.tms_stime, "system time grew with system calls");
    if (t1.tms_stime <= t0.tms_stime || t1.tms_utime <= t0.tms_utime)
        printf("    utime %ld -> %ld, stime %ld -> %ld\n", (long)t0.tms_utime, (long)t1.tms_utime,
               (long)t0.tms_stime, (long)t1.tms_stime);
    CHECK(near(t1.tms_utime / hz, tv_s(ru.ru_utime)) && near(t1.tms_stime / hz, tv_s(ru.ru_stime)),
          "times() agrees with getrusage(RUSAGE_SELF)");
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    pid = xfork();
    if (pid == 0) {
        burn(0.2);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    CHECK(take(SIGCHLD, &si) == SIGCHLD && si.si_utime + si.si_stime > 0,
          "SIGCHLD's siginfo carries the child's times");
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    times(&t2);
    getrusage(RUSAGE_CHILDREN, &rc);
    CHECK(t2.tms_cutime > t1.tms_cutime && t2.tms_cstime > t1.tms_cstime,
          "a reaped child's user and system time are added");
    CHECK(near(t2.tms_cutime / hz, tv_s(rc.ru_utime)) && near(t2.tms_cstime / hz, tv_s(rc.ru_stime)),
          "times() agrees with getrusage(RUSAGE_CHILDREN)");
    errno = 0;
    CHECK(syscall(SYS_times, (void *)8) == -1 && errno == EFAULT, "times(bad pointer): EFAULT");
}

/* ---- the clock, unprivileged ------------------------------------------- */

static void check_clock_unprivileged(void)
{
    struct timespec now, bad = {0, 2000000000L};
    struct timeval tv;
    struct timezone tz = {24 * 60, 0};
    struct timex tx;
    pid_t pid;

    printf("the clock, unprivileged:\n");
    pid = xfork();
    if (pid == 0) {
        child_start();
        drop_root();
        clock_gettime(CLOCK_REALTIME, &now);
        expect_err("clock_settime(REALTIME)", syscall(SYS_clock_settime, CLOCK_REALTIME, &now),
                   EPERM);
        expect_err("clock_settime(REALTIME, bad nsec)",
                   syscall(SYS_clock_settime, CLOCK_REALTIME, &bad), EINVAL);
        expect_err("clock_settime(REALTIME, NULL)",
                   syscall(SYS_clock_settime, CLOCK_REALTIME, NULL), EFAULT);
        expect_err("clock_settime(MONOTONIC)", syscall(SYS_clock_settime, CLOCK_MONOTONIC, &now),
                   EINVAL);
        expect_err("clock_settime(MONOTONIC, NULL)",
                   syscall(SYS_clock_settime, CLOCK_MONOTONIC, NULL), EINVAL);
        gettimeofday(&tv, NULL);
        expect_err("settimeofday", syscall(SYS_settimeofday, &tv, NULL), EPERM);
        tv.tv_usec = 1000000;
        expect_err("settimeofday(usec 1e6)", syscall(SYS_settimeofday, &tv, NULL), EINVAL);
        expect_err("settimeofday(NULL, 24h zone)", syscall(SYS_settimeofday, NULL, &tz), EPERM);
        expect_err("settimeofday(NULL, NULL)", syscall(SYS_settimeofday, NULL, NULL), EPERM);
        memset(&tx, 0, sizeof(tx));
        CHECK(syscall(SYS_adjtimex, &tx) >= 0, "adjtimex(0) reads the state");
        tx.modes = ADJ_OFFSET;
        expect_err("adjtimex(ADJ_OFFSET)", syscall(SYS_adjtimex, &tx), EPERM);
        tx.modes = ADJ_TICK;
        tx.tick = 1;
        expect_err("adjtimex(ADJ_TICK, 1): EPERM first", syscall(SYS_adjtimex, &tx), EPERM);
        tx.modes = ADJ_OFFSET_SS_READ;
        CHECK(syscall(SYS_adjtimex, &tx) >= 0, "adjtimex(ADJ_OFFSET_SS_READ) only reads");
        tx.modes = ADJ_OFFSET_SINGLESHOT;
        expect_err("adjtimex(ADJ_OFFSET_SINGLESHOT)", syscall(SYS_adjtimex, &tx), EPERM);
        tx.modes = ADJ_ADJTIME_;
        expect_err("adjtimex(ADJ_ADJTIME alone)", syscall(SYS_adjtimex, &tx), EINVAL);
        tx.modes = ADJ_SETOFFSET;
        expect_err("adjtimex(ADJ_SETOFFSET)", syscall(SYS_adjtimex, &tx), EPERM);
        expect_err("adjtimex(NULL)", syscall(SYS_adjtimex, NULL), EFAULT);
        tx.modes = 0;
        expect_err("clock_adjtime(MONOTONIC)", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx),
                   EOPNOTSUPP);
        child_done();
    }
    reap(pid, "the clock");
}

/* ---- packet pipes ------------------------------------------------------- */

static void check_packet_pipes(void)
{
    int p[2], q[2];
    char buf[2 * PAGE];

    printf("pipe2(O_DIRECT):\n");
    expect_ret("pipe2(O_DIRECT|O_NONBLOCK)", pipe2(p, O_DIRECT | O_NONBLOCK), 0);
    CHECK((fcntl(p[1], F_GETFL) & O_DIRECT) && !(fcntl(p[0], F_GETFL) & O_DIRECT),
          "only the write end shows O_DIRECT");
    write(p[1], "abc", 3);
    write(p[1], "defgh", 5);
    expect_ret("a read takes one packet", read(p[0], buf, sizeof(buf)), 3);
    expect_ret("then the next", read(p[0], buf, sizeof(buf)), 5);
    write(p[1], "123456", 6);
    expect_ret("a short read of a packet", read(p[0], buf, 2), 2);
    expect_err("drops the rest of it", read(p[0], buf, sizeof(buf)), EAGAIN);
    memset(buf, 'x', sizeof(buf));
    expect_ret("a write of a page and a bit", write(p[1], buf, PAGE + 10), (long)PAGE + 10);
    expect_ret("is a page packet", read(p[0], buf, sizeof(buf)), (long)PAGE);
    expect_ret("and a small one", read(p[0], buf, sizeof(buf)), 10);
    close(p[0]);
    close(p[1]);
    expect_err("pipe2(O_APPEND)", pipe2(p, O_APPEND), EINVAL);
    expect_ret("pipe2(O_NONBLOCK)", pipe2(q, O_NONBLOCK), 0);
    expect_ret("F_SETFL O_DIRECT on the write end",
               fcntl(q[1], F_SETFL, fcntl(q[1], F_GETFL) | O_DIRECT), 0);
    write(q[1], "ab", 2);
    write(q[1], "cd", 2);
    expect_ret("packets now", read(q[0], buf, sizeof(buf)), 2);
    read(q[0], buf, sizeof(buf));
    fcntl(q[1], F_SETFL, O_NONBLOCK);
    write(q[1], "ab", 2);
    write(q[1], "cd", 2);
    expect_ret("a byte stream again without it", read(q[0], buf, sizeof(buf)), 4);
    close(q[0]);
    close(q[1]);
}

/* ---- epoll and O_PATH ---------------------------------------------------- */

/* A pipe under `depth` epolls, each watching the one below; the top's fd. */
static int epoll_chain(int depth, int pipe_rd)
{
    struct epoll_event ev = {EPOLLIN, {0}};
    int below = pipe_rd, i, ep = -1;

    for (i = 0; i < depth; i++) {
        ep = epoll_create1(0);
        if (epoll_ctl(ep, EPOLL_CTL_ADD, below, &ev) != 0)
            return -1;
        below = ep;
    }
    return ep;
}

/* reverse_path_check(): a sixth epoll over five is refused (4.14: EINVAL;
 * v5.x+ kernels say ELOOP, as LTP's epoll_ctl04 accepts).  Returns the errno. */
static int epoll_too_deep(void)
{
    struct epoll_event ev = {EPOLLIN, {0}};
    int p[2], top, ep, err = 0;

    pipe(p);
    top = epoll_chain(5, p[0]);
    ep = epoll_create1(0);
    CHECK(top >= 0, "five nested epolls over a pipe");
    if (epoll_ctl(ep, EPOLL_CTL_ADD, top, &ev) != 0)
        err = errno;
    close(p[0]);
    close(p[1]);
    return err;
}

static void check_epoll_opath(void)
{
    struct epoll_event ev = {EPOLLIN, {0}};
    int ep = epoll_create1(0), path = open(".", O_PATH), p[2], n;

    printf("epoll and O_PATH:\n");
    pipe(p);
    expect_err("epoll_ctl(ADD, O_PATH target)", epoll_ctl(ep, EPOLL_CTL_ADD, path, &ev), EBADF);
    expect_err("epoll_ctl(O_PATH epfd)", epoll_ctl(path, EPOLL_CTL_ADD, p[0], &ev), EBADF);
    expect_err("epoll_pwait(O_PATH epfd)", syscall(SYS_epoll_pwait, path, &ev, 1, 0, NULL, 8),
               EBADF);
    n = epoll_too_deep();
    CHECK(n == EINVAL || n == ELOOP, "a sixth epoll over them is refused");
    close(p[0]);
    close(p[1]);
    close(path);
    close(ep);
}

/* ---- /proc/sys permissions, vhangup, TIOCSTI --------------------------- */

static int open_err(const char *path, int flags)
{
    int fd = open(path, flags);

    if (fd >= 0) {
        close(fd);
        return 0;
    }
    return errno;
}

static int legacy_tiocsti(void)
{
    /* dev.tty.legacy_tiocsti (v6.2): 0 forbids TIOCSTI to the unprivileged;
     * 4.14 has no such switch (the file is absent). */
    char c = '1';
    int fd = open("/proc/sys/dev/tty/legacy_tiocsti", O_RDONLY);

    if (fd >= 0) {
        if (read(fd, &c, 1) != 1)
            c = '1';
        close(fd);
    }
    return c != '0';
}

static void check_tty_and_sysctl_perms(void)
{
    pid_t pid;
    int m, s, n;
    char buf[16];

    printf("/proc/sys, vhangup, TIOCSTI:\n");
    expect_ret("/proc/sys/kernel/tainted is there", open_err("/proc/sys/kernel/tainted", O_RDONLY),
               0);
    expect_ret("/proc/sys/fs/pipe-user-pages-soft is there",
               open_err("/proc/sys/fs/pipe-user-pages-soft", O_RDONLY), 0);
    expect_ret("/proc/sys/fs/pipe-user-pages-hard is there",
               open_err("/proc/sys/fs/pipe-user-pages-hard", O_RDONLY), 0);
    pid = xfork();
    if (pid == 0) {
        child_start();
        /* root, then nobody: a 0444 sysctl is read-only even to root */
        setsid();
        signal(SIGHUP, SIG_IGN);        /* the pty's hangup when its master closes */
        if (geteuid() == 0) {
            expect_ret("root: write-open of 0444 kernel/ostype is EACCES",
                       open_err("/proc/sys/kernel/ostype", O_WRONLY), EACCES);
            expect_err("root: access(kernel/ostype, W_OK)", access("/proc/sys/kernel/ostype", W_OK),
                       EACCES);
            expect_ret("root: access(kernel/pid_max, W_OK)", access("/proc/sys/kernel/pid_max", W_OK),
                       0);
            expect_err("root: access(kernel/pid_max, X_OK)", access("/proc/sys/kernel/pid_max", X_OK),
                       EACCES);
            expect_ret("root: no controlling tty: vhangup() is 0", syscall(SYS_vhangup), 0);
        } else {
            printf("  (not root: the root checks are left out)\n");
        }
        /* a pty whose slave becomes our controlling terminal (we lead a session) */
        m = posix_openpt(O_RDWR | O_NOCTTY);
        CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0, "a pty");
        s = open(ptsname(m), O_RDWR);
        CHECK(s >= 0, "open the slave");
        drop_root();
        expect_ret("nobody: write-open of 0644 kernel/pid_max is EACCES",
                   open_err("/proc/sys/kernel/pid_max", O_WRONLY), EACCES);
        expect_err("nobody: vhangup()", syscall(SYS_vhangup), EPERM);
        expect_err("TIOCSTI on a non-terminal (stdin)", ioctl(0, TIOCSTI, "x"), ENOTTY);
        if (legacy_tiocsti()) {
            expect_err("TIOCSTI to the master (not our terminal)", ioctl(m, TIOCSTI, "x"),
                       EPERM);
            expect_ret("TIOCSTI to our controlling terminal", ioctl(s, TIOCSTI, "y"), 0);
            ioctl(s, TIOCSTI, "\n");
            n = (int)read(s, buf, sizeof(buf));
            CHECK(n == 2 && buf[0] == 'y', "the slave reads what was pushed");
            expect_err("TIOCSTI bad pointer", ioctl(s, TIOCSTI, (char *)8), EFAULT);
        } else {
            printf("  (the host forbids TIOCSTI: dev.tty.legacy_tiocsti = 0)\n");
        }
        close(s);
        close(m);
        child_done();
    }
    reap(pid, "permissions");
}

/* ---- board only, as root: the clock --------------------------------------- */

static long adjx(struct timex *tx, unsigned modes)
{
    tx->modes = modes;
    return syscall(SYS_adjtimex, tx);
}

static void check_board_clock(void)
{
    struct timespec ts = {WALL_T, 0}, now, before, target;
    struct timeval tv;
    struct timezone tz = {-60, 0}, tzr;
    struct timex tx;
    timer_t tid;
    struct itimerspec its;
    sigset_t set;
    siginfo_t si;
    struct timespec wait3 = {3, 0};
    pid_t pid;
    double t0;
    int tfd, tfd2;
    uint64_t ticks;

    printf("board: setting the clock:\n");
    expect_ret("clock_settime(REALTIME, 2033)", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts), 0);
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK(now.tv_sec >= WALL_T && now.tv_sec < WALL_T + 5, "clock_gettime reads it (vDSO)");
    gettimeofday(&tv, NULL);
    CHECK(tv.tv_sec >= WALL_T && tv.tv_sec < WALL_T + 5, "gettimeofday reads it");
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &now);
    CHECK(now.tv_sec >= WALL_T && now.tv_sec < WALL_T + 5, "the system call reads it");
    pid = xfork();
    if (pid == 0) {
        child_start();
        clock_gettime(CLOCK_REALTIME, &now);
        CHECK(now.tv_sec >= WALL_T && now.tv_sec < WALL_T + 5, "a new process reads it");
        child_done();
    }
    reap(pid, "clock in a child");
    ts.tv_sec = 0;
    expect_err("clock_settime before CLOCK_MONOTONIC", syscall(SYS_clock_settime, CLOCK_REALTIME,
                                                                &ts), EINVAL);
    expect_ret("settimeofday(NULL, UTC+1)", syscall(SYS_settimeofday, NULL, &tz), 0);
    syscall(SYS_gettimeofday, &tv, &tzr);
    CHECK(tzr.tz_minuteswest == -60, "gettimeofday's zone (system call)");
    gettimeofday(&tv, &tzr);
    CHECK(tzr.tz_minuteswest == -60, "gettimeofday's zone (libc)");
    tz.tz_minuteswest = 15 * 60 + 1;
    expect_err("settimeofday(NULL, 15h01)", syscall(SYS_settimeofday, NULL, &tz), EINVAL);
    tz.tz_minuteswest = 0;
    syscall(SYS_settimeofday, NULL, &tz);

    printf("board: adjtimex:\n");
    memset(&tx, 0, sizeof(tx));
    expect_ret("adjtimex(0): not synchronised", adjx(&tx, 0), TIME_ERROR);
    CHECK((tx.status & STA_UNSYNC) && tx.maxerror == NTP_PHASE_LIMIT_ && tx.tick == TICK_USEC_ &&
          tx.constant == 2 && tx.precision == 1 && tx.tolerance == TOLERANCE_,
          "the state of a clock nobody synchronised");
    tx.status = STA_PLL;
    tx.maxerror = 0;
    expect_ret("ADJ_STATUS STA_PLL + ADJ_MAXERROR 0: synchronised", adjx(&tx, ADJ_STATUS |
                                                                         ADJ_MAXERROR), TIME_OK);
    CHECK(tx.status == STA_PLL, "status reads back");
    tx.offset = 1000;
    adjx(&tx, ADJ_OFFSET);
    CHECK(tx.offset == 1000, "ADJ_OFFSET 1000 us reads back");
    tx.freq = 10 << 16;
    adjx(&tx, ADJ_FREQUENCY);
    CHECK(tx.freq == 10 << 16, "ADJ_FREQUENCY 10 ppm reads back");
    tx.maxerror = 1234;
    tx.esterror = 56;
    adjx(&tx, ADJ_MAXERROR | ADJ_ESTERROR);
    CHECK(tx.maxerror >= 1234 && tx.maxerror < 1234 + 5 * 500 && tx.esterror == 56,
          "ADJ_MAXERROR/ESTERROR read back");
    tx.constant = 3;
    adjx(&tx, ADJ_TIMECONST);
    CHECK(tx.constant == 7, "ADJ_TIMECONST 3 in microseconds mode is 7");
    adjx(&tx, ADJ_NANO);
    CHECK(tx.status & STA_NANO, "ADJ_NANO");
    tx.constant = 3;
    adjx(&tx, ADJ_TIMECONST);
    CHECK(tx.constant == 3, "ADJ_TIMECONST 3 in nanoseconds mode is 3");
    adjx(&tx, ADJ_MICRO);
    CHECK(!(tx.status & STA_NANO), "ADJ_MICRO");
    tx.tick = 9000;
    expect_ret("ADJ_TICK 9000", adjx(&tx, ADJ_TICK) >= 0, 1);
    CHECK(tx.tick == 9000, "tick reads back");
    tx.tick = 8999;
    expect_err("ADJ_TICK 8999", adjx(&tx, ADJ_TICK), EINVAL);
    tx.tick = 11001;
    expect_err("ADJ_TICK 11001", adjx(&tx, ADJ_TICK), EINVAL);
    tx.tick = TICK_USEC_;
    adjx(&tx, ADJ_TICK);
    tx.constant = 37;
    adjx(&tx, ADJ_TAI);
    CHECK(tx.tai == 37, "ADJ_TAI 37");
    tx.offset = 5000;
    adjx(&tx, ADJ_OFFSET_SINGLESHOT);
    CHECK(tx.offset == 0, "adjtime(): the old adjustment, none");
    adjx(&tx, ADJ_OFFSET_SS_READ);
    CHECK(tx.offset > 0 && tx.offset <= 5000, "adjtime() reads what is left to slew");
    clock_gettime(CLOCK_REALTIME, &before);
    tx.time.tv_sec = 10;
    tx.time.tv_usec = 0;
    CHECK(adjx(&tx, ADJ_SETOFFSET) >= 0, "ADJ_SETOFFSET +10 s");
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK(now.tv_sec - before.tv_sec >= 10 && now.tv_sec - before.tv_sec <= 11,
          "the clock stepped 10 s");
    tx.time.tv_usec = 1000000;
    expect_err("ADJ_SETOFFSET usec 1e6", adjx(&tx, ADJ_SETOFFSET), EINVAL);
    tx.status = 0;
    adjx(&tx, ADJ_STATUS);
    /* process_adj_status(): leaving PLL mode resets the status to
     * STA_UNSYNC, but then only the read-only bits of it are kept */
    expect_ret("leaving PLL mode with status 0", adjx(&tx, 0), TIME_OK);
    CHECK(tx.status == 0, "the status is 0: STA_UNSYNC did not survive");
    tx.status = STA_UNSYNC;
    expect_ret("ADJ_STATUS STA_UNSYNC", adjx(&tx, ADJ_STATUS), TIME_ERROR);

    printf("board: timers of the realtime clock:\n");
    clock_gettime(CLOCK_REALTIME, &target);
    target.tv_nsec += 300000000L;
    if (target.tv_nsec >= 1000000000L) {
        target.tv_sec++;
        target.tv_nsec -= 1000000000L;
    }
    t0 = now_mono();
    expect_ret("clock_nanosleep(REALTIME, ABSTIME, +0.3 s)",
               clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &target, NULL), 0);
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK(now.tv_sec > target.tv_sec || (now.tv_sec == target.tv_sec &&
                                         now.tv_nsec >= target.tv_nsec), "not woken early");
    CHECK(now_mono() - t0 < 2.0, "nor late");
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    expect_ret("timer_create(REALTIME)", sys_timer_create(CLOCK_REALTIME, SIGRTMIN, &tid), 0);
    clock_gettime(CLOCK_REALTIME, &now);
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = now.tv_sec + 100;
    syscall(SYS_timer_settime, tid, TIMER_ABSTIME, &its, NULL);
    now.tv_sec += 100;
    now.tv_nsec = 0;
    now.tv_sec -= 1;
    expect_ret("clock set to a second before the timer",
               syscall(SYS_clock_settime, CLOCK_REALTIME, &now), 0);
    t0 = now_mono();
    expect_ret("the timer fires at the new time",
               syscall(SYS_rt_sigtimedwait, &set, &si, &wait3, 8), SIGRTMIN);
    CHECK(now_mono() - t0 < 2.5, "within its second");
    syscall(SYS_timer_delete, tid);

    /* TFD_TIMER_CANCEL_ON_SET: setting the clock cancels the absolute timer */
    tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    tfd2 = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    clock_gettime(CLOCK_REALTIME, &now);
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = now.tv_sec + 1000;
    expect_ret("timerfd_settime(ABSTIME | CANCEL_ON_SET)",
               timerfd_settime(tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL), 0);
    timerfd_settime(tfd2, TFD_TIMER_ABSTIME, &its, NULL);
    expect_err("not expired yet", read(tfd, &ticks, sizeof(ticks)), EAGAIN);
    now.tv_sec += 10;
    syscall(SYS_clock_settime, CLOCK_REALTIME, &now);
    expect_err("the clock was set: ECANCELED", read(tfd, &ticks, sizeof(ticks)), ECANCELED);
    expect_err("once", read(tfd, &ticks, sizeof(ticks)), EAGAIN);
    expect_err("a timer without CANCEL_ON_SET is not cancelled", read(tfd2, &ticks, sizeof(ticks)),
               EAGAIN);
    close(tfd);
    close(tfd2);
}

/* ---- board only, as root: /proc/sys ------------------------------------------ */

static long write_sysctl(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY);
    long n;

    if (fd < 0)
        return -1;
    n = write(fd, value, strlen(value));
    close(fd);
    return n;
}

static long read_sysctl(const char *path)
{
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    long n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

    if (fd >= 0)
        close(fd);
    return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static void check_board_sysctl(void)
{
    pid_t pid;
    int p[5][2], i, ok;
    pid_t last = 0;

    printf("board: epoll nesting:\n");
    expect_ret("a sixth epoll over five: EINVAL (reverse_path_check)", epoll_too_deep(), EINVAL);

    printf("board: /proc/sys:\n");
    expect_ret("kernel.tainted", read_sysctl("/proc/sys/kernel/tainted"), 0);
    expect_ret("write 1 to tainted", write_sysctl("/proc/sys/kernel/tainted", "1\n"), 2);
    expect_ret("write 0 to tainted", write_sysctl("/proc/sys/kernel/tainted", "0\n"), 2);
    expect_ret("a taint stays", read_sysctl("/proc/sys/kernel/tainted"), 1);
    expect_ret("fs.pipe-user-pages-soft", read_sysctl("/proc/sys/fs/pipe-user-pages-soft"), 16384);
    expect_ret("fs.pipe-user-pages-hard", read_sysctl("/proc/sys/fs/pipe-user-pages-hard"), 0);
    expect_ret("kernel.pid_max", read_sysctl("/proc/sys/kernel/pid_max"), 32768);
    expect_err("pid_max 300", write_sysctl("/proc/sys/kernel/pid_max", "300"), EINVAL);
    expect_err("pid_max 4194305", write_sysctl("/proc/sys/kernel/pid_max", "4194305"), EINVAL);
    expect_err("pid_max abc", write_sysctl("/proc/sys/kernel/pid_max", "abc"), EINVAL);
    expect_ret("pid_max 301", write_sysctl("/proc/sys/kernel/pid_max", "301"), 3);
    expect_ret("reads back", read_sysctl("/proc/sys/kernel/pid_max"), 301);
    ok = 1;
    for (i = 0; i < 400 && ok; i++) {
        pid = xfork();
        if (pid == 0)
            _exit(0);
        waitpid(pid, NULL, 0);
        if (pid >= 301)
            ok = 0;
        if (pid == 300 && last == 300)
            break;
        last = pid;
    }
    CHECK(ok, "no pid reaches pid_max");
    CHECK(last == 300 && pid == 300, "after 300 the allocator wraps to RESERVED_PIDS");
    write_sysctl("/proc/sys/kernel/pid_max", "32768");

    /* pipe-user-pages: soft 32, hard 20 (pages), for an unprivileged user */
    expect_ret("soft limit 32", write_sysctl("/proc/sys/fs/pipe-user-pages-soft", "32"), 2);
    expect_ret("hard limit 20", write_sysctl("/proc/sys/fs/pipe-user-pages-hard", "20"), 2);
    pid = xfork();
    if (pid == 0) {
        child_start();
        drop_root();
        expect_ret("pipe 1", pipe(p[0]), 0);
        expect_ret("a full-size pipe", fcntl(p[0][1], F_GETPIPE_SZ), 16 * PAGE);
        expect_ret("pipe 2 (at the soft limit)", pipe(p[1]), 0);
        expect_ret("gets one page", fcntl(p[1][1], F_GETPIPE_SZ), PAGE);
        expect_ret("pipe 3", pipe(p[2]), 0);
        expect_ret("pipe 4", pipe(p[3]), 0);
        expect_err("pipe 5 at the hard limit", pipe(p[4]), ENFILE);
        expect_err("F_SETPIPE_SZ growing over the limits", fcntl(p[1][1], F_SETPIPE_SZ, 2 * PAGE),
                   EPERM);
        close(p[0][0]);
        close(p[0][1]);
        expect_ret("pipe 1 freed: a new one", pipe(p[4]), 0);
        expect_ret("is full-size again", fcntl(p[4][1], F_GETPIPE_SZ), 16 * PAGE);
        child_done();
    }
    reap(pid, "pipe-user-pages");
    write_sysctl("/proc/sys/fs/pipe-user-pages-soft", "16384");
    write_sysctl("/proc/sys/fs/pipe-user-pages-hard", "0");
}

int main(int argc, char **argv)
{
    proc_init();
    if (argc > 1 && !strcmp(argv[1], "board")) {
        if (geteuid() != 0) {
            printf("FAILED: the board checks need a guest root (--root)\n");
            return 1;
        }
        check_board_clock();
        check_board_sysctl();
        return proc_finish("sys_gaps9 board");
    }
    check_sigpending();
    check_times();
    check_clock_unprivileged();
    check_packet_pipes();
    check_epoll_opath();
    check_tty_and_sysctl_perms();
    return proc_finish("sys_gaps9");
}
