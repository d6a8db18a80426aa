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
 *  - IPC limits (LTP shmget02/03, shmctl03, msg*, sem*): /proc/sys/kernel
 *    shmmax, shmall, shmmni, msgmax, msgmnb, msgmni and sem show what
 *    IPC_INFO reports; shmget(SHM_HUGETLB) is EINVAL on a kernel without
 *    huge pages (hstate_sizelog()), which the host may have: ipc-write.  `ltp_proc ipc-write` (run in a53emu only: it
 *    changes the limits of the IPC namespace, the host's for a host run)
 *    lowers them and checks that shmget/msgget/msgsnd/semget/semop obey.
 *  - clock_nanosleep (LTP clock_nanosleep01): CLOCK_THREAD_CPUTIME_ID
 *    cannot sleep (EOPNOTSUPP: 4.14's clock_thread has no nsleep), and a
 *    sleep a signal interrupts with an unwritable rem is EFAULT
 *    (nanosleep_copyout()), not EINTR.
 *  - bind (LTP bind02): a port below 1024 needs CAP_NET_BIND_SERVICE: a
 *    non-root caller gets EACCES (the port is never reached on the host).
 *  - connect (LTP connect01): connect() again on a connected TCP socket is
 *    EISCONN.
 *
 * Self-checking; run as root (the host test runs as root, a53emu's guest
 * with --root): non-root senders are children that setresuid() away.
 */
#include "proc.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <sys/ipc.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/time.h>
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

/* The numbers in /proc/sys/kernel/NAME, up to n of them; how many were read. */
static int sysctl_read(const char *name, unsigned long long *v, int n)
{
    char path[64];
    FILE *f;
    int i = 0;

    snprintf(path, sizeof path, "/proc/sys/kernel/%s", name);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (i < n && fscanf(f, "%llu", &v[i]) == 1)
        i++;
    fclose(f);
    return i;
}

/* Write text to /proc/sys/kernel/NAME: 0 or the errno. */
static int sysctl_write(const char *name, const char *text)
{
    char path[64];
    int fd, err = 0;

    snprintf(path, sizeof path, "/proc/sys/kernel/%s", name);
    fd = open(path, O_WRONLY);
    if (fd < 0)
        return errno;
    if (write(fd, text, strlen(text)) < 0)
        err = errno;
    close(fd);
    return err;
}

#ifndef SEM_INFO_STRUCT
union semun { int val; struct semid_ds *buf; unsigned short *array; struct seminfo *__buf; };
#endif

static void ipc_limits(void)
{
    unsigned long long v[4];
    struct shminfo shm;
    struct msginfo msg;
    struct seminfo sem;
    union semun arg;

    printf("IPC limits (ipc/ipc_sysctl.c):\n");
    CHECK(shmctl(0, IPC_INFO, (struct shmid_ds *)&shm) >= 0, "shmctl IPC_INFO");
    CHECK(msgctl(0, IPC_INFO, (struct msqid_ds *)&msg) >= 0, "msgctl IPC_INFO");
    arg.__buf = &sem;
    CHECK(semctl(0, 0, IPC_INFO, arg) >= 0, "semctl IPC_INFO");
    CHECK(sysctl_read("shmmax", v, 1) == 1 && v[0] == shm.shmmax, "shmmax = IPC_INFO's");
    CHECK(sysctl_read("shmall", v, 1) == 1 && v[0] == shm.shmall, "shmall = IPC_INFO's");
    CHECK(sysctl_read("shmmni", v, 1) == 1 && v[0] == shm.shmmni, "shmmni = IPC_INFO's");
    CHECK(sysctl_read("msgmax", v, 1) == 1 && v[0] == (unsigned)msg.msgmax, "msgmax = IPC_INFO's");
    CHECK(sysctl_read("msgmnb", v, 1) == 1 && v[0] == (unsigned)msg.msgmnb, "msgmnb = IPC_INFO's");
    CHECK(sysctl_read("msgmni", v, 1) == 1 && v[0] == (unsigned)msg.msgmni, "msgmni = IPC_INFO's");
    CHECK(sysctl_read("sem", v, 4) == 4 && v[0] == (unsigned)sem.semmsl &&
          v[1] == (unsigned)sem.semmns && v[2] == (unsigned)sem.semopm &&
          v[3] == (unsigned)sem.semmni, "sem = IPC_INFO's semmsl semmns semopm semmni");
}

static void ipc_write(void)
{
    struct sembuf ops[4] = {{0, 1, 0}, {0, -1, 0}, {0, 1, 0}, {0, -1, 0}};
    struct { long mtype; char text[32]; } m = {1, "0123456789abcdefg"};
    unsigned long long v[4];
    int q, s;

    printf("IPC limits written (ipc/ipc_sysctl.c):\n");
    CHECK(sysctl_write("shmmni", "40000\n") == EINVAL, "shmmni above IPCMNI: EINVAL");
    CHECK(sysctl_write("msgmax", "abc\n") == EINVAL, "msgmax not a number: EINVAL");
    CHECK(sysctl_write("sem", "1 2 3\n") == EINVAL, "sem with three numbers: EINVAL");
    CHECK(sysctl_write("shmmax", "4096\n") == 0, "shmmax = 4096");
    CHECK(shmget(IPC_PRIVATE, 8192, 0600) < 0 && errno == EINVAL, "shmget 8192: EINVAL");
    s = shmget(IPC_PRIVATE, 4096, 0600);
    CHECK(s >= 0, "shmget 4096");
    shmctl(s, IPC_RMID, NULL);
    CHECK(shmget(IPC_PRIVATE, 4096, IPC_CREAT | SHM_HUGETLB | 0600) < 0 && errno == EINVAL,
          "shmget SHM_HUGETLB, no huge pages: EINVAL");
    CHECK(sysctl_write("msgmax", "16") == 0 && sysctl_write("msgmni", "1") == 0,
          "msgmax = 16, msgmni = 1");
    q = msgget(IPC_PRIVATE, 0600);
    CHECK(q >= 0, "the first queue");
    CHECK(msgget(IPC_PRIVATE, 0600) < 0 && errno == ENOSPC, "a second queue: ENOSPC");
    CHECK(msgsnd(q, &m, 17, IPC_NOWAIT) < 0 && errno == EINVAL, "17 bytes: EINVAL");
    CHECK(msgsnd(q, &m, 16, IPC_NOWAIT) == 0, "16 bytes sent");
    msgctl(q, IPC_RMID, NULL);
    CHECK(sysctl_write("sem", "2 10 3 1") == 0, "sem = 2 10 3 1");
    CHECK(sysctl_read("sem", v, 4) == 4 && v[0] == 2 && v[1] == 10 && v[2] == 3 && v[3] == 1,
          "sem reads back 2 10 3 1");
    CHECK(semget(IPC_PRIVATE, 3, 0600) < 0 && errno == EINVAL, "3 semaphores: EINVAL");
    s = semget(IPC_PRIVATE, 2, 0600);
    CHECK(s >= 0, "a set of 2");
    CHECK(semop(s, ops, 4) < 0 && errno == E2BIG, "4 operations: E2BIG");
    CHECK(semop(s, ops, 2) == 0, "2 operations");
    CHECK(semget(IPC_PRIVATE, 1, 0600) < 0 && errno == ENOSPC, "a second set: ENOSPC");
    semctl(s, 0, IPC_RMID);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void nanosleeps(void)
{
    struct timespec req = {0, 100000000}, big = {5, 0};
    struct itimerval it = {{0, 0}, {0, 20000}};
    long page = sysconf(_SC_PAGESIZE);
    void *gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long r;

    printf("clock_nanosleep (kernel/time/posix-timers.c):\n");
    munmap(gone, page);
    r = syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL);
    CHECK(r < 0 && errno == EOPNOTSUPP, "CLOCK_THREAD_CPUTIME_ID: EOPNOTSUPP");
    r = syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, gone, NULL);
    CHECK(r < 0 && errno == EOPNOTSUPP, "CLOCK_THREAD_CPUTIME_ID, bad request: EOPNOTSUPP");
    signal(SIGALRM, on_alarm);
    setitimer(ITIMER_REAL, &it, NULL);
    r = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &big, gone);
    CHECK(r < 0 && errno == EFAULT, "interrupted, rem unwritable: %s", result(r));
    setitimer(ITIMER_REAL, &it, NULL);
    r = syscall(SYS_nanosleep, &big, gone);
    CHECK(r < 0 && errno == EFAULT, "nanosleep interrupted, rem unwritable: %s", result(r));
    signal(SIGALRM, SIG_DFL);
}

static void privileged_port(void)
{
    pid_t pid;

    printf("bind (inet_bind):\n");
    pid = xfork();
    if (pid == 0) {
        struct sockaddr_in sin;
        int fd, ok;

        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(463);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (setresuid(UID_B, UID_B, UID_B) < 0)
            _exit(2);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 && errno == EACCES;
        _exit(ok ? 0 : 1);
    }
    CHECK(wait_for(pid) == 0, "a non-root bind to port 463: EACCES");
}

static void connect_twice(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int l, c;

    printf("connect (__inet_stream_connect):\n");
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l >= 0 && bind(l, (struct sockaddr *)&sin, sizeof sin) == 0 && listen(l, 1) == 0 &&
          getsockname(l, (struct sockaddr *)&sin, &len) == 0, "a listener on loopback");
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&sin, sizeof sin) == 0, "connected");
    CHECK(connect(c, (struct sockaddr *)&sin, sizeof sin) < 0 && errno == EISCONN,
          "connect again: EISCONN");
    close(c);
    close(l);
}

int main(int argc, char **argv)
{
    proc_init();
    if (argc > 1 && strcmp(argv[1], "ipc-write") == 0) {
        ipc_write();
        return proc_finish("ltp_proc");
    }
    kill_permission();
    futex_keys();
    ipc_limits();
    nanosleeps();
    privileged_port();
    connect_twice();
    return proc_finish("ltp_proc");
}
