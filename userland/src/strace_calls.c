/* strace_calls.c - system calls whose arguments strace decodes as structures.
 *
 * tests/test_strace.py runs this built for the host under the real strace
 * and built for AArch64 under `a53emu run --trace syscall`, and compares the
 * two traces from the marker call (write(-1, "strace-marker", 13)) onwards.
 * Every call here is one both architectures have under the same name (the
 * *at forms, pipe2, dup3, ppoll, prlimit64): where a libc wrapper would pick
 * a different call per architecture, syscall(2) names the call.  Each call's
 * result is deterministic (no times, no inode numbers, no sizes of the host's
 * disks), so the traces can be compared line for line.
 *
 * Run it in an empty scratch directory: it makes and removes "f", "l" and "d".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MARKER "strace-marker"

static void on_usr1(int sig) { (void)sig; }

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "strace_calls: %s failed (errno %d)\n", what, errno);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    char buf[300];
    int fd, p[2], sv[2];

    /* The marker: the traces are compared from here on. */
    syscall(SYS_write, -1, MARKER, sizeof MARKER - 1);

    /* On a terminal (tests/test_strace.py gives it a pty): its ioctls. */
    if (argc > 1 && strcmp(argv[1], "tty") == 0) {
        struct termios tio;
        struct winsize ws;
        int avail;
        syscall(SYS_ioctl, 0, TCGETS, &tio);
        syscall(SYS_ioctl, 0, TIOCGWINSZ, &ws);
        syscall(SYS_ioctl, 0, FIONREAD, &avail);
        syscall(SYS_ioctl, 0, FIOCLEX);
        syscall(SYS_ioctl, 3, TCGETS, &tio);
        syscall(SYS_exit_group, 0);
    }

    /* umask's result is octal; getcwd's string has no terminator. */
    syscall(SYS_umask, 022);
    syscall(SYS_umask, 022);
    check(syscall(SYS_getcwd, buf, sizeof buf) > 0, "getcwd");

    /* open, write (short, long, escaped), stat, statx, read back. */
    fd = syscall(SYS_openat, AT_FDCWD, "f", O_RDWR | O_CREAT | O_TRUNC, 0640);
    check(fd == 3, "openat");
    syscall(SYS_write, fd, "hello\n", 6);
    syscall(SYS_write, fd, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
    syscall(SYS_write, fd, "\0\0011\a\b\t\n\v\f\r\033\"\\\177\200\377z", 18);
    struct iovec iov[2] = {{"ab", 2}, {"cdefghijklmnopqrstuvwxyz0123456789ABCD", 38}};
    syscall(SYS_writev, fd, iov, 2);
    syscall(SYS_lseek, fd, 0, SEEK_SET);
    syscall(SYS_read, fd, buf, 6);
    syscall(SYS_read, fd, buf, sizeof buf);
    syscall(SYS_read, fd, buf, sizeof buf);
    char a[4], b[8];
    struct iovec riov[2] = {{a, sizeof a}, {b, sizeof b}};
    syscall(SYS_pread64, fd, buf, 4, 2);
    syscall(SYS_preadv, fd, riov, 2, 1);
    struct stat st;
    syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH);
    syscall(SYS_newfstatat, AT_FDCWD, "f", &st, 0);
    syscall(SYS_newfstatat, AT_FDCWD, "no-such-file", &st, AT_SYMLINK_NOFOLLOW);
    syscall(SYS_newfstatat, AT_FDCWD, "/dev/null", &st, 0);
    struct statx stx;
    syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx);
    syscall(SYS_statx, AT_FDCWD, "/dev/null", AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE, &stx);
    struct statfs sfs;
    syscall(SYS_statfs, "/proc", &sfs);
    syscall(SYS_fstatfs, -1, &sfs);
    struct timespec times[2] = {{1, 5}, {0, UTIME_NOW}};
    syscall(SYS_utimensat, AT_FDCWD, "f", times, 0);
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = 1700000000;
    times[1].tv_nsec = 7;
    syscall(SYS_utimensat, AT_FDCWD, "f", times, 0);
    syscall(SYS_fchmod, fd, 0604);
    int devnull = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY);
    off_t offset = 3;
    syscall(SYS_sendfile, devnull, fd, &offset, 10);
    syscall(SYS_fcntl, devnull, F_SETFL, O_WRONLY | O_NONBLOCK);
    syscall(SYS_fcntl, devnull, F_SETFL, 0);
    syscall(SYS_close, devnull);
    syscall(SYS_fcntl, fd, F_GETFL);
    syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
    syscall(SYS_fcntl, fd, F_GETFD);
    syscall(SYS_dup3, fd, 10, O_CLOEXEC);
    syscall(SYS_close, 10);
    syscall(SYS_close, 10);

    /* links and directories */
    syscall(SYS_symlinkat, "f", AT_FDCWD, "l");
    syscall(SYS_readlinkat, AT_FDCWD, "l", buf, 64);
    syscall(SYS_mkdirat, AT_FDCWD, "d", 0750);
    syscall(SYS_mkdirat, AT_FDCWD, "d", 0750);
    int dfd = syscall(SYS_openat, AT_FDCWD, "d", O_RDONLY | O_DIRECTORY);
    char dents[4096];
    syscall(SYS_getdents64, dfd, dents, sizeof dents);
    syscall(SYS_getdents64, dfd, dents, sizeof dents);
    syscall(SYS_close, dfd);
    syscall(SYS_unlinkat, AT_FDCWD, "d", AT_REMOVEDIR);
    syscall(SYS_unlinkat, AT_FDCWD, "l", 0);
    syscall(SYS_faccessat, AT_FDCWD, "f", R_OK | W_OK);
    syscall(SYS_unlinkat, AT_FDCWD, "f", 0);
    syscall(SYS_close, fd);

    /* signals: sigaction, sigprocmask, kill, delivery */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGUSR1, &sa, NULL);
    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, &old);
    sigset_t set, oset;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGCHLD);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &oset, 8);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &oset, NULL, 8);
    syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
    /* pid_t is an int: the kernel and strace read the low 32 bits only */
    syscall(SYS_kill, (unsigned long)(unsigned int)-2147483000, 0);

    /* a blocked signal: pending, then taken by sigtimedwait */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
    syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
    sigset_t pending;
    syscall(SYS_rt_sigpending, &pending, 8);
    siginfo_t si;
    struct timespec none = {0, 0};
    syscall(SYS_rt_sigtimedwait, &set, &si, &none, 8);
    syscall(SYS_rt_sigtimedwait, &set, &si, &none, 8);
    si.si_code = SI_QUEUE;
    si.si_pid = syscall(SYS_getpid);
    si.si_uid = syscall(SYS_getuid);
    si.si_value.sival_int = 42;
    syscall(SYS_rt_sigqueueinfo, si.si_pid, SIGUSR1, &si);
    syscall(SYS_rt_sigtimedwait, &set, &si, &none, 8);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8);
    stack_t oss;
    syscall(SYS_sigaltstack, NULL, &oss);

    /* interval timers */
    struct itimerval it = {{0, 0}, {5, 500}}, oit;
    syscall(SYS_setitimer, ITIMER_REAL, &it, &oit);
    memset(&it, 0, sizeof it);
    syscall(SYS_setitimer, ITIMER_REAL, &it, NULL);
    syscall(SYS_getitimer, ITIMER_REAL, &oit);

    /* POSIX timers and timerfds, armed and disarmed */
    timer_t timer;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    sev.sigev_value.sival_int = 5;
    syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &timer);
    struct itimerspec its = {{0, 0}, {100, 0}}, oits;
    syscall(SYS_timer_settime, timer, 0, &its, &oits);
    memset(&its, 0, sizeof its);
    syscall(SYS_timer_settime, timer, 0, &its, NULL);    /* the time left varies */
    syscall(SYS_timer_delete, timer);
    int tfd = syscall(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    its.it_value.tv_sec = 100;
    syscall(SYS_timerfd_settime, tfd, TFD_TIMER_ABSTIME, &its, NULL);
    syscall(SYS_close, tfd);

    /* prctl and the groups */
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
    int deathsig;
    syscall(SYS_prctl, PR_GET_PDEATHSIG, &deathsig, 0, 0, 0);
    syscall(SYS_prctl, PR_SET_NAME, "strace-calls", 0, 0, 0);
    char comm[16];
    syscall(SYS_prctl, PR_GET_NAME, comm, 0, 0, 0);
    syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0);
    gid_t groups[64];
    int ngroups = syscall(SYS_getgroups, 64, groups);
    syscall(SYS_getgroups, 0, NULL);
    (void)ngroups;

    /* futexes: a wake with no waiter, waits whose value is not there */
    int word = 0;
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL,
            FUTEX_BITSET_MATCH_ANY);

    /* random bytes (their values are not compared, their form is) */
    char rnd[40];
    syscall(SYS_getrandom, rnd, 8, GRND_NONBLOCK);
    syscall(SYS_getrandom, rnd, sizeof rnd, 0);

    /* identities and unknown values */
    uid_t r, e, sv_uid;
    syscall(SYS_getresuid, &r, &e, &sv_uid);
    syscall(SYS_getresuid, &r, (uid_t *)16, &sv_uid);
    struct rusage ru;
    syscall(SYS_getrusage, 99, &ru);
    char *av[] = {"/nonexistent/strace-calls", "an argument", NULL};
    char *ev[] = {"A=1", "B=2", NULL};
    syscall(SYS_execve, av[0], av, ev);

    /* times and limits */
    struct timespec ts = {0, 1000}, res;
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
    syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res);
    ts.tv_nsec = 1000000000;
    syscall(SYS_nanosleep, &ts, NULL);
    struct rlimit rl = {1024 * 1024, RLIM_INFINITY}, orl;
    syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, &rl, &orl);
    syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, &rl);
    rl.rlim_cur = 12345;
    syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, &rl, NULL);
    syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, &orl, NULL);

    /* a pipe, polled */
    syscall(SYS_pipe2, p, O_CLOEXEC);
    struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    struct timespec zero = {0, 0};
    syscall(SYS_ppoll, pf, 2, &zero, NULL, 8);
    syscall(SYS_write, p[1], "x", 1);
    syscall(SYS_ppoll, pf, 1, &zero, NULL, 8);
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(p[0], &rd);
    FD_SET(p[1], &wr);
    syscall(SYS_pselect6, p[1] + 1, &rd, &wr, NULL, &zero, NULL);
    int ep = syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
    struct epoll_event pev = {EPOLLIN, {.u64 = 7}}, evs[4];
    syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], &pev);
    syscall(SYS_epoll_pwait, ep, evs, 4, 0, NULL, 8);
    syscall(SYS_close, ep);
    syscall(SYS_close, p[0]);
    syscall(SYS_close, p[1]);

    /* a message on a socket pair */
    syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
    struct iovec miov[2] = {{"hi ", 3}, {"there", 5}};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = miov;
    mh.msg_iovlen = 2;
    syscall(SYS_sendmsg, sv[0], &mh, MSG_DONTWAIT);
    char r1[4], r2[16];
    struct iovec rv[2] = {{r1, sizeof r1}, {r2, sizeof r2}};
    mh.msg_iov = rv;
    syscall(SYS_recvmsg, sv[1], &mh, 0);
    /* a descriptor passed (SCM_RIGHTS), socket options, the local name */
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct iovec one = {"!", 1};
    mh.msg_iov = &one;
    mh.msg_iovlen = 1;
    mh.msg_control = control.buf;
    mh.msg_controllen = sizeof control.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    int passed = 0;
    memcpy(CMSG_DATA(cm), &passed, sizeof passed);
    syscall(SYS_sendmsg, sv[0], &mh, 0);
    memset(&control, 0, sizeof control);
    struct iovec back = {r2, sizeof r2};
    mh.msg_iov = &back;
    mh.msg_controllen = sizeof control.buf;
    syscall(SYS_recvmsg, sv[1], &mh, MSG_CMSG_CLOEXEC);
    int got = -1;
    memcpy(&got, CMSG_DATA(cm), sizeof got);
    syscall(SYS_close, got);
    int val;
    socklen_t vlen = sizeof val;
    syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, &val, &vlen);
    val = 1;
    syscall(SYS_setsockopt, sv[0], SOL_SOCKET, SO_PASSCRED, &val, sizeof val);
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    syscall(SYS_getsockname, sv[0], &ss, &sslen);
    syscall(SYS_close, sv[0]);
    syscall(SYS_close, sv[1]);

    /* SysV IPC: a message, semaphore operations, a shared memory segment */
    int q = syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0640);
    struct { long mtype; char mtext[16]; } msg = {5, "hello"};
    syscall(SYS_msgsnd, q, &msg, 5, IPC_NOWAIT);
    syscall(SYS_msgrcv, q, &msg, 16, 0, MSG_NOERROR | IPC_NOWAIT);
    syscall(SYS_msgrcv, q, &msg, 16, 0, IPC_NOWAIT);
    syscall(SYS_msgctl, q, IPC_RMID, NULL);
    int sem = syscall(SYS_semget, IPC_PRIVATE, 2, 0600);
    struct sembuf ops[2] = {{0, 1, 0}, {1, -1, IPC_NOWAIT | SEM_UNDO}};
    syscall(SYS_semop, sem, ops, 1);
    syscall(SYS_semtimedop, sem, ops, 2, &zero);
    syscall(SYS_semctl, sem, 0, SETVAL, 3);
    syscall(SYS_semctl, sem, 0, GETVAL, 0);
    syscall(SYS_semctl, sem, 0, IPC_RMID, 0);
    int shm = syscall(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    void *seg = (void *)syscall(SYS_shmat, shm, NULL, SHM_RDONLY);
    syscall(SYS_shmdt, seg);
    syscall(SYS_shmctl, shm, IPC_RMID, NULL);

    /* a child (strace -f: [pid N] lines) */
    if (argc > 1 && strcmp(argv[1], "fork") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            syscall(SYS_write, -1, "child", 5);
            syscall(SYS_exit_group, 3);
        }
        int status;
        syscall(SYS_wait4, pid, &status, 0, NULL);
    }
    syscall(SYS_exit_group, 0);
    return 0;
}
