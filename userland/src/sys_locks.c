/*
 * sys_locks.c - fcntl() record locks: POSIX (F_GETLK/F_SETLK/F_SETLKW) and
 * open-file-description locks (F_OFD_*), between processes and threads
 * (issue 9 part 2).
 *
 * Built for AArch64 (musl, glibc) and for the host; the outputs must be
 * the same byte for byte (tests/test_sys_locks.py).  Only relative facts
 * are printed: a lock's owner is "parent", "child", "ofd" (-1) or "gone".
 *
 * fcntl is called through syscall(2), so that both C libraries pass the
 * struct flock pointer to the kernel untouched (EFAULT cases included).
 */
#include "proc.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <mqueue.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

static char path[64];
static pid_t parent_pid, child_pid;

static const char *ename(int e)
{
    return e == EOVERFLOW ? "EOVERFLOW" : errno_name(e);
}

/* fcntl(fd, cmd, &fl) with a struct flock filled in; "0" or the errno name. */
static const char *lk(int fd, int cmd, int type, int whence, long long start, long long len,
                      int pid)
{
    struct flock fl;

    memset(&fl, 0, sizeof fl);
    fl.l_type = (short)type;
    fl.l_whence = (short)whence;
    fl.l_start = (off_t)start;
    fl.l_len = (off_t)len;
    fl.l_pid = pid;
    return syscall(SYS_fcntl, fd, cmd, &fl) < 0 ? ename(errno) : "0";
}

static const char *who(pid_t pid)
{
    if (pid == -1)
        return "ofd";
    if (pid == parent_pid)
        return "parent";
    if (pid == child_pid)
        return "child";
    if (pid == 0)
        return "gone";
    return "other";
}

static const char *tname(int t)
{
    return t == F_RDLCK ? "RD" : t == F_WRLCK ? "WR" : t == F_UNLCK ? "UN" : "??";
}

/* Every lock another owner holds, as F_GETLK finds them walking the file
 * from 0: "[RD 0-9 parent] [WR 20-end ofd]", or "none". */
static const char *lock_map(int fd, int cmd)
{
    static char buf[512];
    long long pos = 0;
    size_t n = 0;

    buf[0] = 0;
    for (int i = 0; i < 16; i++) {
        struct flock fl;

        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = (off_t)pos;
        if (syscall(SYS_fcntl, fd, cmd, &fl) < 0) {
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", ename(errno));
            return buf;
        }
        if (fl.l_type == F_UNLCK)
            break;
        if (fl.l_whence != SEEK_SET)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "whence %d?", fl.l_whence);
        if (fl.l_len == 0) {
            n += (size_t)snprintf(buf + n, sizeof buf - n, "[%s %lld-end %s]", tname(fl.l_type),
                                  (long long)fl.l_start, who(fl.l_pid));
            return buf;
        }
        n += (size_t)snprintf(buf + n, sizeof buf - n, "[%s %lld-%lld %s]", tname(fl.l_type),
                              (long long)fl.l_start, (long long)(fl.l_start + fl.l_len - 1),
                              who(fl.l_pid));
        pos = fl.l_start + fl.l_len;
    }
    return n ? buf : "none";
}

/* Run fn(arg) in a forked child that reports one line through a pipe;
 * the parent prints it after the child exits. */
static void in_child(const char *what, void (*fn)(int out, int fd), int fd)
{
    int p[2];
    char line[512];
    ssize_t r;
    pid_t pid;

    if (pipe(p) < 0)
        exit(1);
    pid = xfork();
    if (pid == 0) {
        close(p[0]);
        child_pid = getpid();
        fn(p[1], fd);
        _exit(0);
    }
    child_pid = pid;
    close(p[1]);
    memset(line, 0, sizeof line);
    r = read(p[0], line, sizeof line - 1);
    close(p[0]);
    wait_for(pid);
    printf("%s: %s\n", what, r > 0 ? line : "(nothing)");
}

static void say(int out, const char *s)
{
    write_full(out, s, strlen(s));
}

static void child_map(int out, int fd)
{
    say(out, lock_map(fd, F_GETLK));
}

static void child_map_ofd(int out, int fd)
{
    say(out, lock_map(fd, F_OFD_GETLK));
}

static void child_try_wr_0_9(int out, int fd)
{
    char buf[128];

    snprintf(buf, sizeof buf, "WR 0-9 %s, RD 0-9 %s, WR 100-109 %s",
             lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0),
             lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10, 0),
             lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 100, 10, 0));
    say(out, buf);
}

static int reopen(int flags)
{
    int fd = open(path, flags);

    if (fd < 0) {
        printf("FAILED: open: %s\n", ename(errno));
        exit(1);
    }
    return fd;
}

static void unlock_all(int fd)
{
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0, 0);
}

static void errors(int fd)
{
    int ro = reopen(O_RDONLY), wo = reopen(O_WRONLY);

    printf("errors:\n");
    printf("SETLK type 7: %s\n", lk(fd, F_SETLK, 7, SEEK_SET, 0, 1, 0));
    printf("SETLK whence 3: %s\n", lk(fd, F_SETLK, F_WRLCK, 3, 0, 1, 0));
    printf("SETLK whence 3, type 7: %s\n", lk(fd, F_SETLK, 7, 3, 0, 1, 0));
    printf("GETLK F_UNLCK: %s\n", lk(fd, F_GETLK, F_UNLCK, SEEK_SET, 0, 1, 0));
    printf("GETLK type 7: %s\n", lk(fd, F_GETLK, 7, SEEK_SET, 0, 1, 0));
    printf("GETLK whence 3: %s\n", lk(fd, F_GETLK, F_RDLCK, 3, 0, 1, 0));
    printf("SETLK RD on O_WRONLY: %s\n", lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1, 0));
    printf("SETLK WR on O_RDONLY: %s\n", lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1, 0));
    printf("SETLKW WR on O_RDONLY: %s\n", lk(ro, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1, 0));
    printf("SETLK UN on O_RDONLY: %s\n", lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 1, 0));
    printf("SETLK UN on O_WRONLY: %s\n", lk(wo, F_SETLK, F_UNLCK, SEEK_SET, 0, 1, 0));
    printf("GETLK WR on O_RDONLY: %s\n", lk(ro, F_GETLK, F_WRLCK, SEEK_SET, 0, 1, 0));
    printf("SETLK RD on O_RDONLY, whence 9: %s\n", lk(wo, F_SETLK, F_RDLCK, 9, 0, 1, 0));
    printf("SETLK start -1: %s\n", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1, 0));
    printf("SETLK start 5 len -6: %s\n", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, -6, 0));
    printf("SETLK start 5 len -5: %s\n", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, -5, 0));
    printf("SETLK start LLONG_MAX len 2: %s\n",
           lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 2, 0));
    printf("SETLK start LLONG_MAX len 1: %s\n",
           lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 1, 0));
    printf("SETLK start LLONG_MAX len 0: %s\n",
           lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 0, 0));
    printf("SETLK SEEK_END start LLONG_MAX: %s\n",
           lk(fd, F_SETLK, F_WRLCK, SEEK_END, LLONG_MAX, 1, 0));
    printf("SETLK SEEK_END start -201: %s\n", lk(fd, F_SETLK, F_WRLCK, SEEK_END, -201, 1, 0));
    printf("GETLK start LLONG_MAX len 2: %s\n",
           lk(fd, F_GETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 2, 0));
    printf("SETLK type 7 start -1 (whence first, then range, then type): %s\n",
           lk(fd, F_SETLK, 7, SEEK_SET, -1, 1, 0));
    printf("OFD_SETLK l_pid 1: %s\n", lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1, 1));
    printf("OFD_SETLKW l_pid -1: %s\n", lk(fd, F_OFD_SETLKW, F_WRLCK, SEEK_SET, 0, 1, -1));
    printf("OFD_GETLK l_pid 1: %s\n", lk(fd, F_OFD_GETLK, F_WRLCK, SEEK_SET, 0, 1, 1));
    printf("OFD_SETLK UN l_pid 1: %s\n", lk(fd, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 1, 1));
    printf("OFD_SETLK WR on O_RDONLY, l_pid 1: %s\n",
           lk(ro, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1, 1));
    printf("GETLK NULL: %s\n", syscall(SYS_fcntl, fd, F_GETLK, NULL) < 0 ? ename(errno) : "0");
    printf("SETLK NULL: %s\n", syscall(SYS_fcntl, fd, F_SETLK, NULL) < 0 ? ename(errno) : "0");
    printf("SETLKW bad pointer: %s\n",
           syscall(SYS_fcntl, fd, F_SETLKW, (void *)16) < 0 ? ename(errno) : "0");
    printf("OFD_GETLK bad pointer: %s\n",
           syscall(SYS_fcntl, fd, F_OFD_GETLK, (void *)16) < 0 ? ename(errno) : "0");
    printf("SETLK bad fd: %s\n", lk(-1, F_SETLK, F_WRLCK, SEEK_SET, 0, 1, 0));
    printf("SETLK bad fd, NULL: %s\n",
           syscall(SYS_fcntl, 999, F_SETLK, NULL) < 0 ? ename(errno) : "0");
    {
        /* GETLK writes the struct back: a read-only page is EFAULT even with no conflict. */
        struct flock *ro_fl = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ro_fl->l_type = F_WRLCK;
        mprotect(ro_fl, PAGE, PROT_READ);
        printf("GETLK read-only struct: %s\n",
               syscall(SYS_fcntl, fd, F_GETLK, ro_fl) < 0 ? ename(errno) : "0");
        printf("SETLK read-only struct: %s\n",
               syscall(SYS_fcntl, fd, F_SETLK, ro_fl) < 0 ? ename(errno) : "0");
        unlock_all(fd);
        munmap(ro_fl, PAGE);
    }
    {
        int opath = open(path, O_PATH);
        printf("SETLK on O_PATH: %s\n", lk(opath, F_SETLK, F_UNLCK, SEEK_SET, 0, 1, 0));
        printf("GETLK on O_PATH: %s\n", lk(opath, F_GETLK, F_RDLCK, SEEK_SET, 0, 1, 0));
        close(opath);
    }
    unlock_all(fd);
    close(ro);
    close(wo);
}

static void ranges(int fd)
{
    struct flock fl;

    printf("ranges:\n");
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 100, 0);
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 40, 20, 0);
    in_child("WR 0-99, UN 40-59", child_map, fd);
    lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 45, 5, 0);
    in_child("+ RD 45-49", child_map, fd);
    lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 50, 10, 0);
    in_child("+ RD 50-59 (merges)", child_map, fd);
    lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 40, 5, 0);
    in_child("+ RD 40-44 (merges)", child_map, fd);
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 40, 20, 0);
    in_child("+ WR 40-59 (upgrade, all merge)", child_map, fd);
    lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 10, 10, 0);
    in_child("+ RD 10-19 (downgrade splits)", child_map, fd);
    in_child("child tries", child_try_wr_0_9, fd);
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 5, 0, 0);
    in_child("UN 5-end", child_map, fd);
    lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 200, 0, 0);
    lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 6, 4, 0);
    in_child("RD 200-end, RD 6-9", child_map, fd);
    lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 5, 1, 0);
    in_child("+ RD 5-5 (joins 0-4? no: WR)", child_map, fd);
    unlock_all(fd);
    in_child("UN 0-end", child_map, fd);

    /* whence and negative lengths */
    lseek(fd, 100, SEEK_SET);
    lk(fd, F_SETLK, F_WRLCK, SEEK_CUR, -10, 5, 0);
    lk(fd, F_SETLK, F_RDLCK, SEEK_CUR, 20, -5, 0);
    lk(fd, F_SETLK, F_WRLCK, SEEK_END, -10, 0, 0);
    in_child("SEEK_CUR(100) -10 len 5, SEEK_CUR 20 len -5, SEEK_END(200) -10 len 0",
             child_map, fd);
    lk(fd, F_SETLK, F_UNLCK, SEEK_END, -10, -85, 0);
    in_child("UN SEEK_END -10 len -85", child_map, fd);
    unlock_all(fd);
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 1, 0);
    lk(fd, F_SETLK, F_RDLCK, SEEK_SET, LLONG_MAX - 10, 5, 0);
    in_child("WR at LLONG_MAX, RD LLONG_MAX-10..-6",
             child_map, fd);
    unlock_all(fd);

    /* F_GETLK with no conflict changes only l_type */
    memset(&fl, 0x55, sizeof fl);
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_CUR;
    fl.l_start = 3;
    fl.l_len = 7;
    fl.l_pid = 1234;
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1000, 0);
    printf("GETLK own lock: %ld", syscall(SYS_fcntl, fd, F_GETLK, &fl));
    printf(" -> %s whence %d start %lld len %lld pid %d\n", tname(fl.l_type), fl.l_whence,
           (long long)fl.l_start, (long long)fl.l_len, fl.l_pid);
    unlock_all(fd);
    lseek(fd, 0, SEEK_SET);
}

/* Closing any descriptor of the file drops the process's POSIX locks. */
static void closing(int fd)
{
    int fd2, fd3;

    printf("close:\n");
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0);
    fd2 = reopen(O_RDONLY);
    fd3 = dup(fd);
    close(fd3);
    in_child("after closing a dup", child_map, fd);
    close(fd2);
    in_child("after closing another open of the file", child_map, fd);
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0);
    fd2 = reopen(O_RDWR);
    dup2(fd2, 100);
    close(fd2);
    in_child("after closing another open of the file (2)", child_map, fd);
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0);
    fd2 = open("/dev/null", O_RDONLY);
    dup2(fd2, 100);
    close(fd2);
    in_child("after dup2 over another descriptor of the file", child_map, fd);
    close(100);
    {
        int ready[2], go[2];
        char c;
        pid_t pid;

        if (pipe(ready) < 0 || pipe(go) < 0)
            exit(1);
        pid = xfork();
        if (pid == 0) {
            lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0);
            write_full(ready[1], "r", 1);
            read_full(go[0], &c, 1);
            _exit(0);
        }
        child_pid = pid;
        read_full(ready[0], &c, 1);
        printf("a child's lock while it lives: %s\n", lock_map(fd, F_GETLK));
        write_full(go[1], "g", 1);
        wait_for(pid);
        printf("after it exits: %s\n", lock_map(fd, F_GETLK));
        close(ready[0]); close(ready[1]); close(go[0]); close(go[1]);
    }
}

static void forked_lock_map(int out, int fd)
{
    char buf[256];

    snprintf(buf, sizeof buf, "sees %s; own WR 0-0: %s", lock_map(fd, F_GETLK),
             lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1, 0));
    say(out, buf);
}

static void fork_case(int fd)
{
    printf("fork:\n");
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0);
    in_child("the child of a lock holder", forked_lock_map, fd);
    printf("parent still: %s\n", lock_map(fd, F_GETLK));
    unlock_all(fd);
}

struct thread_arg {
    int fd;
    const char *r1, *r2, *r3;
    char map[256];
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;

    a->r1 = lk(a->fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 10, 0);
    snprintf(a->map, sizeof a->map, "%s", lock_map(a->fd, F_GETLK));
    a->r2 = lk(a->fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 20, 0);
    a->r3 = lk(a->fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1, 0);
    return NULL;
}

static void *thread_close(void *p)
{
    close(*(int *)p);
    return NULL;
}

static void threads(int fd)
{
    pthread_t t;
    struct thread_arg a = {.fd = fd};
    int fd2;

    printf("threads:\n");
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0);
    pthread_create(&t, NULL, thread_main, &a);
    pthread_join(t, NULL);
    printf("thread WR 5-14 over main's WR 0-9: %s; it sees %s; SETLKW 0-19 %s; "
           "OFD WR 0-0 %s\n", a.r1, a.map[0] ? a.map : "none", a.r2, a.r3);
    in_child("the process's locks", child_map, fd);
    fd2 = reopen(O_RDONLY);
    pthread_create(&t, NULL, thread_close, &fd2);
    pthread_join(t, NULL);
    in_child("after a thread closes another descriptor", child_map, fd);
    unlock_all(fd);
}

static volatile sig_atomic_t got_alarm;

static void on_alarm(int sig)
{
    (void)sig;
    got_alarm = 1;
}

static void child_hold(int fd, int ready, int go, int type)
{
    char c;

    lk(fd, F_SETLK, type, SEEK_SET, 0, 10, 0);
    write_full(ready, "r", 1);
    read_full(go, &c, 1);
}

static void waiting(int fd)
{
    int ready[2], go[2], done[2];
    pid_t pid;
    char c;
    struct sigaction sa;
    /* repeating: a first alarm that comes before the call sleeps is not the end */
    struct itimerval it = {{0, 100000}, {0, 100000}}, off = {{0, 0}, {0, 0}};
    const char *r;

    printf("F_SETLKW:\n");
    if (pipe(ready) < 0 || pipe(go) < 0 || pipe(done) < 0)
        exit(1);
    pid = xfork();
    if (pid == 0) {
        child_hold(fd, ready[1], go[0], F_WRLCK);
        msleep(100);
        write_full(done[1], "u", 1);
        _exit(0);           /* exit releases the lock */
    }
    child_pid = pid;
    read_full(ready[0], &c, 1);
    printf("SETLK while the child holds it: %s\n", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 5, 1, 0));
    write_full(go[1], "g", 1);
    r = lk(fd, F_SETLKW, F_RDLCK, SEEK_SET, 5, 1, 0);
    fcntl(done[0], F_SETFL, O_NONBLOCK);
    printf("SETLKW: %s, after the child let go: %s\n", r,
           YESNO(read(done[0], &c, 1) == 1));
    wait_for(pid);
    unlock_all(fd);

    /* OFD: the same through another open file description */
    {
        int ofd1 = reopen(O_RDWR), ofd2 = reopen(O_RDWR);
        pid = xfork();
        if (pid == 0) {
            lk(ofd1, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0);
            write_full(ready[1], "r", 1);
            read_full(go[0], &c, 1);
            msleep(100);
            write_full(done[1], "u", 1);
            lk(ofd1, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0, 0);
            read_full(go[0], &c, 1);
            _exit(0);
        }
        child_pid = pid;
        read_full(ready[0], &c, 1);
        printf("OFD_SETLK while the child holds it: %s\n",
               lk(ofd2, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1, 0));
        write_full(go[1], "g", 1);
        r = lk(ofd2, F_OFD_SETLKW, F_WRLCK, SEEK_SET, 0, 1, 0);
        printf("OFD_SETLKW: %s, after the child let go: %s\n", r,
               YESNO(read(done[0], &c, 1) == 1));
        write_full(go[1], "g", 1);
        wait_for(pid);
        close(ofd1);
        close(ofd2);
    }

    /* a signal ends the wait: EINTR without SA_RESTART */
    pid = xfork();
    if (pid == 0) {
        child_hold(fd, ready[1], go[0], F_RDLCK);
        _exit(0);
    }
    child_pid = pid;
    read_full(ready[0], &c, 1);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1, 0);
    setitimer(ITIMER_REAL, &off, NULL);
    printf("SETLKW with a SIGALRM handler: %s, handler ran: %s\n", r, YESNO(got_alarm));
    got_alarm = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    r = lk(fd, F_OFD_SETLKW, F_WRLCK, SEEK_SET, 0, 1, 0);
    setitimer(ITIMER_REAL, &off, NULL);
    printf("OFD_SETLKW with a SIGALRM handler: %s, handler ran: %s\n", r, YESNO(got_alarm));
    printf("no lock left behind by the interrupted waits: %s\n",
           lock_map(fd, F_OFD_GETLK));
    got_alarm = 0;
    /* SA_RESTART: the wait goes on until the lock is free */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    {
        pid_t releaser = xfork();
        if (releaser == 0) {
            msleep(300);
            write_full(go[1], "g", 1);
            _exit(0);
        }
        r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1, 0);
        setitimer(ITIMER_REAL, &off, NULL);
        printf("SETLKW with an SA_RESTART handler: %s, handler ran: %s\n", r,
               YESNO(got_alarm));
        wait_for(releaser);
    }
    wait_for(pid);
    signal(SIGALRM, SIG_DFL);
    unlock_all(fd);
    close(ready[0]); close(ready[1]); close(go[0]); close(go[1]);
    close(done[0]); close(done[1]);
}

/* Wait until pid sleeps (state S in /proc/PID/stat): the only sleep its
 * code has left is the one the caller waits for. */
static void wait_sleeping(pid_t pid)
{
    char name[64], buf[512];

    snprintf(name, sizeof name, "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 2000; i++) {
        int f = open(name, O_RDONLY);
        ssize_t n = f < 0 ? -1 : read(f, buf, sizeof buf - 1);
        char *p;

        if (f >= 0)
            close(f);
        if (n > 0) {
            buf[n] = 0;
            p = strrchr(buf, ')');
            if (p && p[1] == ' ' && p[2] == 'S')
                return;
        }
        msleep(5);
    }
    printf("FAILED: %d never slept\n", (int)pid);
    check_failures++;
}

/* Two processes, each holding what the other wants. */
static void deadlock(int fd)
{
    int ready[2], go[2];
    pid_t pid;
    char c;
    int status;

    printf("deadlock:\n");
    if (pipe(ready) < 0 || pipe(go) < 0)
        exit(1);
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1, 0);         /* parent: byte 0 */
    pid = xfork();
    if (pid == 0) {
        const char *r;
        lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1, 0);     /* child: byte 1 */
        write_full(ready[1], "r", 1);
        r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1, 0);  /* sleeps on the parent */
        _exit(strcmp(r, "0") == 0 ? 0 : 1);
    }
    child_pid = pid;
    read_full(ready[0], &c, 1);
    wait_sleeping(pid);                                  /* in its F_SETLKW */
    printf("SETLKW on the sleeping child's byte: %s\n",
           lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1, 0));
    printf("OFD_SETLKW would not be checked; OFD_SETLK: %s\n",
           lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 1, 1, 0));
    printf("SETLKW on a byte nobody waits for (2): %s\n",
           lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 2, 1, 0));
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1, 0);         /* the child gets byte 0 */
    status = wait_for(pid);
    printf("child: %s\n", status_str(status));
    unlock_all(fd);

    /* a longer cycle: B waits for us, C for B, and we ask for C's byte */
    {
        pid_t b, cc;
        const char *r;

        lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1, 0);
        b = xfork();
        if (b == 0) {
            lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1, 0);
            write_full(ready[1], "r", 1);
            r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1, 0);
            _exit(strcmp(r, "0") == 0 ? 0 : 1);
        }
        read_full(ready[0], &c, 1);
        cc = xfork();
        if (cc == 0) {
            lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2, 1, 0);
            write_full(ready[1], "r", 1);
            r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1, 0);
            _exit(strcmp(r, "0") == 0 ? 0 : 1);
        }
        read_full(ready[0], &c, 1);
        wait_sleeping(b);
        wait_sleeping(cc);
        printf("three processes: SETLKW on the byte of the last: %s\n",
               lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 2, 1, 0));
        printf("F_SETLK on it: %s\n", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2, 1, 0));
        lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1, 0);
        status = wait_for(b);
        printf("B: %s\n", status_str(status));
        status = wait_for(cc);
        printf("C: %s\n", status_str(status));
        unlock_all(fd);
    }
    close(ready[0]); close(ready[1]); close(go[0]); close(go[1]);
}

static void child_ofd(int out, int fd)
{
    char buf[256];

    snprintf(buf, sizeof buf, "OFD WR 0-9 through the shared description: %s; "
             "POSIX WR 0-0: %s; OFD_GETLK sees %s",
             lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0),
             lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1, 0),
             lock_map(fd, F_OFD_GETLK));
    say(out, buf);
}

static void ofd(int fd)
{
    int a = reopen(O_RDWR), b = reopen(O_RDWR), c;

    printf("ofd:\n");
    printf("OFD WR 0-9 on a: %s\n", lk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10, 0));
    printf("OFD WR 5-5 on b: %s\n", lk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1, 0));
    printf("OFD RD 5-5 on b: %s\n", lk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 5, 1, 0));
    printf("OFD WR 10-19 on b: %s\n", lk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 10, 10, 0));
    printf("POSIX WR 0-0 on fd: %s\n", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1, 0));
    printf("POSIX WR 20-29 on fd: %s\n", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 20, 10, 0));
    printf("OFD WR 25-25 on a: %s\n", lk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 25, 1, 0));
    printf("POSIX GETLK sees: %s\n", lock_map(fd, F_GETLK));
    printf("OFD_GETLK on a sees: %s\n", lock_map(a, F_OFD_GETLK));
    c = dup(a);
    printf("OFD WR 0-4 on a dup of a: %s\n", lk(c, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 5, 0));
    close(c);
    printf("after closing a dup of a: %s\n", lock_map(fd, F_OFD_GETLK));
    in_child("a child sharing a", child_ofd, a);
    close(b);
    printf("after closing b: %s\n", lock_map(fd, F_OFD_GETLK));
    close(a);
    printf("after closing a: %s\n", lock_map(fd, F_OFD_GETLK));
    unlock_all(fd);
    c = reopen(O_RDONLY);
    printf("after unlocking fd: %s\n", lock_map(c, F_OFD_GETLK));
    close(c);
}

/* A pipe is an inode too: locks on it work like any other. */
static void pipes(void)
{
    int p[2];

    printf("pipe:\n");
    if (pipe(p) < 0)
        exit(1);
    printf("RD on the read end: %s\n", lk(p[0], F_SETLK, F_RDLCK, SEEK_SET, 0, 0, 0));
    printf("WR on the read end: %s\n", lk(p[0], F_SETLK, F_WRLCK, SEEK_SET, 0, 0, 0));
    printf("WR on the write end: %s\n", lk(p[1], F_SETLK, F_WRLCK, SEEK_SET, 0, 0, 0));
    in_child("a child sees", child_map_ofd, p[1]);
    close(p[0]);
    close(p[1]);
}

/* -- F_SETOWN, F_SETSIG, O_ASYNC -------------------------------------------------------- */

static const char *signame(int sig)
{
    static char buf[16];

    if (sig == SIGIO)
        return "SIGIO";
    if (sig == SIGRTMIN + 1)
        return "SIGRTMIN+1";
    if (sig == 0)
        return "none";
    snprintf(buf, sizeof buf, "%s", sig_name(sig));
    return buf;
}

static const char *code_name(int code)
{
    static char buf[16];

    switch (code) {
    case SI_KERNEL: return "SI_KERNEL";
    case POLL_IN: return "POLL_IN";
    case POLL_OUT: return "POLL_OUT";
    case POLL_HUP: return "POLL_HUP";
    case POLL_MSG: return "POLL_MSG";
    }
    snprintf(buf, sizeof buf, "code %d", code);
    return buf;
}

static sigset_t io_set;

/* The signals of the O_ASYNC files that are pending now, in order. */
static const char *took(int expect_fd)
{
    static char buf[256];
    struct timespec zero = {0, 0};
    siginfo_t si;
    size_t n = 0;

    buf[0] = 0;
    for (int i = 0; i < 8; i++) {
        int sig = sigtimedwait(&io_set, &si, &zero);
        if (sig < 0)
            break;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s %s", n ? ", " : "",
                              signame(sig), code_name(si.si_code));
        if (si.si_code != SI_KERNEL)
            n += (size_t)snprintf(buf + n, sizeof buf - n, " band %#lx fd %s",
                                  (long)si.si_band,
                                  si.si_fd == expect_fd ? "ok" : "wrong");
    }
    return n ? buf : "nothing";
}

static long fc(int fd, int cmd, long arg)
{
    return syscall(SYS_fcntl, fd, cmd, arg);
}

static const char *rc(long r)
{
    static char bufs[2][32];
    static int n;
    char *buf = bufs[n++ & 1];

    if (r < 0)
        return ename(errno);
    snprintf(buf, 32, "%ld", r);
    return buf;
}

static const char *getown_ex(int fd)
{
    static char buf[64];
    struct f_owner_ex o = {-1, -1};

    if (syscall(SYS_fcntl, fd, F_GETOWN_EX, &o) < 0)
        return ename(errno);
    snprintf(buf, sizeof buf, "{%s, %s}",
             o.type == F_OWNER_TID ? "F_OWNER_TID" : o.type == F_OWNER_PID ? "F_OWNER_PID" :
             o.type == F_OWNER_PGRP ? "F_OWNER_PGRP" : "?",
             o.pid == 0 ? "0" : o.type == F_OWNER_PGRP ? (o.pid == getpgrp() ? "pgrp" : "other")
             : o.pid == getpid() ? "self" : "other");
    return buf;
}

static const char *setown_ex(int fd, int type, pid_t pid)
{
    struct f_owner_ex o = {type, pid};

    return syscall(SYS_fcntl, fd, F_SETOWN_EX, &o) < 0 ? ename(errno) : "0";
}

static void owners(void)
{
    int p[2], s[2];
    pid_t gone;
    char c;
    const char *r;

    printf("owners:\n");
    if (pipe(p) < 0)
        exit(1);
    gone = xfork();
    if (gone == 0)
        _exit(0);
    wait_for(gone);
    printf("F_GETOWN of a new file: %s\n", rc(fc(p[0], F_GETOWN, 0)));
    printf("F_GETOWN_EX of a new file: %s\n", getown_ex(p[0]));
    printf("F_GETSIG of a new file: %s\n", rc(fc(p[0], F_GETSIG, 0)));
    r = rc(fc(p[0], F_SETOWN, getpid()));
    printf("F_SETOWN self: %s, F_GETOWN is self: %s\n", r,
           YESNO(fc(p[0], F_GETOWN, 0) == getpid()));
    printf("F_SETOWN INT_MIN: %s\n", rc(fc(p[0], F_SETOWN, INT_MIN)));
    r = rc(fc(p[0], F_SETOWN, -getpgrp()));
    printf("F_SETOWN -pgrp: %s, F_GETOWN_EX: %s\n", r, getown_ex(p[0]));
    r = rc(fc(p[0], F_SETOWN, 0));
    printf("F_SETOWN 0: %s, F_GETOWN_EX: %s\n", r, getown_ex(p[0]));
    r = rc(fc(p[0], F_SETOWN, gone));
    printf("F_SETOWN a reaped pid: %s, F_GETOWN: %s\n", r, rc(fc(p[0], F_GETOWN, 0)));
    r = setown_ex(p[0], F_OWNER_TID, (pid_t)syscall(SYS_gettid));
    printf("F_SETOWN_EX TID self: %s, F_GETOWN_EX: %s\n", r, getown_ex(p[0]));
    r = setown_ex(p[0], F_OWNER_PGRP, getpgrp());
    printf("F_SETOWN_EX PGRP: %s, F_GETOWN_EX: %s\n", r, getown_ex(p[0]));
    printf("F_SETOWN_EX type 3: %s\n", setown_ex(p[0], 3, getpid()));
    printf("F_SETOWN_EX a reaped pid: %s\n", setown_ex(p[0], F_OWNER_PID, gone));
    r = setown_ex(p[0], F_OWNER_PID, 0);
    printf("F_SETOWN_EX pid 0: %s, F_GETOWN_EX: %s\n", r, getown_ex(p[0]));
    printf("F_SETOWN_EX NULL: %s\n", rc(fc(p[0], F_SETOWN_EX, 0)));
    printf("F_GETOWN_EX NULL: %s\n", rc(fc(p[0], F_GETOWN_EX, 0)));
    printf("F_SETSIG 65: %s\n", rc(fc(p[0], F_SETSIG, 65)));
    printf("F_SETSIG -1: %s\n", rc(fc(p[0], F_SETSIG, -1)));
    printf("F_SETSIG 64: %s\n", rc(fc(p[0], F_SETSIG, 64)));
    r = rc(fc(p[0], F_SETSIG, SIGUSR1));
    printf("F_SETSIG SIGUSR1: %s, F_GETSIG is SIGUSR1: %s\n", r,
           YESNO(fc(p[0], F_GETSIG, 0) == SIGUSR1));
    r = rc(fc(p[0], F_SETFL, O_ASYNC));
    printf("F_SETFL O_ASYNC on a pipe: %s, F_GETFL has it: %s\n", r,
           YESNO(fc(p[0], F_GETFL, 0) & O_ASYNC));
    {
        int f = open(path, O_RDONLY);
        r = rc(fc(f, F_SETFL, O_ASYNC));
        printf("F_SETFL O_ASYNC on a regular file: %s, F_GETFL has it: %s\n", r,
               YESNO(fc(f, F_GETFL, 0) & O_ASYNC));
        close(f);
    }
    close(p[0]);
    close(p[1]);

    /* signals */
    sigemptyset(&io_set);
    sigaddset(&io_set, SIGIO);
    sigaddset(&io_set, SIGUSR1);
    sigaddset(&io_set, SIGUSR2);
    sigaddset(&io_set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &io_set, NULL);
    if (pipe(p) < 0)
        exit(1);
    fc(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);
    write(p[1], "a", 1);
    printf("write, O_ASYNC without an owner: %s\n", took(p[0]));
    read(p[0], &c, 1);
    fc(p[0], F_SETOWN, getpid());
    write(p[1], "a", 1);
    printf("write, owner self: %s\n", took(p[0]));
    read(p[0], &c, 1);
    printf("read from the read end: %s\n", took(p[0]));
    fc(p[0], F_SETSIG, SIGUSR1);
    gone = xfork();
    if (gone == 0) {
        write(p[1], "b", 1);
        _exit(0);
    }
    wait_for(gone);
    printf("a child writes, F_SETSIG SIGUSR1: %s\n", took(p[0]));
    fc(p[1], F_SETOWN, getpid());
    fc(p[1], F_SETSIG, SIGUSR2);
    fc(p[1], F_SETFL, O_ASYNC);
    read(p[0], &c, 1);
    printf("read, the write end O_ASYNC with SIGUSR2: %s\n", took(p[1]));
    fc(p[1], F_SETFL, 0);
    write(p[1], "a", 1);
    printf("write after the write end dropped O_ASYNC: %s\n", took(p[0]));
    read(p[0], &c, 1);
    fc(p[0], F_SETFL, O_NONBLOCK);
    write(p[1], "a", 1);
    printf("write after the read end dropped O_ASYNC: %s\n", took(p[0]));
    fc(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);
    read(p[0], &c, 1);
    close(p[1]);
    printf("the write end closes: %s\n", took(p[0]));
    close(p[0]);

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
        exit(1);
    fc(s[0], F_SETOWN, getpid());
    fc(s[0], F_SETSIG, SIGRTMIN + 1);
    fc(s[0], F_SETFL, O_ASYNC);
    printf("socket F_GETFL has O_ASYNC: %s\n", YESNO(fc(s[0], F_GETFL, 0) & O_ASYNC));
    write(s[1], "a", 1);
    write(s[1], "b", 1);
    printf("two sends to a stream socket: %s\n", took(s[0]));
    {
        int on = 1, off = 0, who = 0;
        int f = open(path, O_RDONLY);
        const char *r = rc(ioctl(s[0], FIOASYNC, &off));

        printf("FIOASYNC 0 on a socket with O_ASYNC: %s, F_GETFL has it: %s\n", r,
               YESNO(fc(s[0], F_GETFL, 0) & O_ASYNC));
        write(s[1], "c", 1);
        printf("a send after it: %s\n", took(s[0]));
        printf("FIOASYNC 1: %s\n", rc(ioctl(s[0], FIOASYNC, &on)));
        printf("FIOASYNC NULL: %s\n", rc(ioctl(s[0], FIOASYNC, NULL)));
        printf("FIOASYNC 1 on a regular file: %s\n", rc(ioctl(f, FIOASYNC, &on)));
        printf("FIOASYNC 0 on a regular file: %s\n", rc(ioctl(f, FIOASYNC, &off)));
        printf("FIOSETOWN on a regular file: %s\n", rc(ioctl(f, FIOSETOWN, &who)));
        close(f);
        printf("FIOSETOWN 0 on the socket: %s\n", rc(ioctl(s[0], FIOSETOWN, &who)));
        write(s[1], "d", 1);
        printf("a send with no owner: %s\n", took(s[0]));
        who = getpid();
        printf("SIOCSPGRP self: %s\n", rc(ioctl(s[0], SIOCSPGRP, &who)));
        who = 0;
        ioctl(s[0], FIOGETOWN, &who);
        printf("FIOGETOWN is self: %s\n", YESNO(who == getpid()));
        printf("SIOCGPGRP NULL: %s\n", rc(ioctl(s[0], SIOCGPGRP, NULL)));
        write(s[1], "e", 1);
        printf("a send: %s\n", took(s[0]));
    }
    {
        /* POLL_OUT when the peer's reads free a buffer the writer found full */
        static char big[4096];
        const char *r;

        fc(s[0], F_SETFL, O_ASYNC | O_NONBLOCK);
        memset(big, 'x', sizeof big);
        while (write(s[0], big, sizeof big) > 0)
            ;
        r = ename(errno);
        printf("s[0] filled up: %s, signals: %s\n", r, took(s[0]));
        fc(s[1], F_SETFL, O_NONBLOCK);
        while (read(s[1], big, sizeof big) > 0)
            ;
        printf("the peer reads it all: %s\n", took(s[0]));
    }
    close(s[0]);
    close(s[1]);
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, s) < 0)
        exit(1);
    fc(s[1], F_SETOWN, getpid());
    fc(s[1], F_SETFL, O_ASYNC);
    send(s[0], "a", 1, 0);
    printf("a datagram: %s\n", took(s[1]));
    close(s[0]);
    close(s[1]);

    /* a process group owner: in a group of its own, so no one else is hit */
    gone = xfork();
    if (gone == 0) {
        char line[256];
        setpgid(0, 0);
        if (pipe(p) < 0)
            _exit(1);
        fc(p[0], F_SETOWN, -getpid());
        fc(p[0], F_SETFL, O_ASYNC);
        write(p[1], "a", 1);
        snprintf(line, sizeof line, "a process group owner: %s\n", took(p[0]));
        fputs(line, stdout);
        fflush(stdout);
        _exit(0);
    }
    wait_for(gone);
    sigprocmask(SIG_UNBLOCK, &io_set, NULL);
}

/* -- F_SETLEASE / F_GETLEASE ------------------------------------------------------------ */

static char lpath[64];

static const char *lease_name(long r)
{
    if (r < 0)
        return ename(errno);
    return r == F_RDLCK ? "F_RDLCK" : r == F_WRLCK ? "F_WRLCK" : r == F_UNLCK ? "F_UNLCK" : "?";
}

static const char *open_rc(int flags)
{
    int fd = open(lpath, flags);

    if (fd < 0)
        return ename(errno);
    close(fd);
    return "opened";
}

static void leases(void)
{
    int fd, fd2, p[2], ready[2];
    pid_t pid;
    const char *r;
    char c, line[128];
    sigset_t set;
    siginfo_t si;

    printf("leases:\n");
    snprintf(lpath, sizeof lpath, "/tmp/a53emu-sys_locks-lease.XXXXXX");
    fd = mkstemp(lpath);
    close(fd);
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    io_set = set;

    if (pipe(p) < 0 || pipe(ready) < 0)
        exit(1);
    printf("F_SETLEASE on a pipe: %s\n", rc(fc(p[0], F_SETLEASE, F_RDLCK)));
    fd = open(lpath, O_RDONLY);
    printf("F_GETLEASE of a new file: %s\n", lease_name(fc(fd, F_GETLEASE, 0)));
    printf("F_SETLEASE 7: %s\n", rc(fc(fd, F_SETLEASE, 7)));
    printf("F_SETLEASE F_UNLCK without a lease: %s\n", rc(fc(fd, F_SETLEASE, F_UNLCK)));
    r = rc(fc(fd, F_SETLEASE, F_RDLCK));
    printf("F_SETLEASE F_RDLCK: %s, F_GETLEASE: %s\n", r, lease_name(fc(fd, F_GETLEASE, 0)));
    printf("F_GETOWN is self: %s\n", YESNO(fc(fd, F_GETOWN, 0) == getpid()));
    r = open_rc(O_RDONLY);
    printf("another read-only open: %s, signals: %s\n", r, took(fd));
    fd2 = open(lpath, O_RDONLY);
    printf("F_SETLEASE F_WRLCK with another open: %s\n", rc(fc(fd, F_SETLEASE, F_WRLCK)));
    printf("F_SETLEASE F_RDLCK on the other open: %s\n", rc(fc(fd2, F_SETLEASE, F_RDLCK)));
    printf("F_SETLEASE F_WRLCK with another lease: %s\n", rc(fc(fd, F_SETLEASE, F_WRLCK)));
    close(fd2);
    printf("F_SETLEASE F_WRLCK alone: %s\n", rc(fc(fd, F_SETLEASE, F_WRLCK)));
    printf("F_GETLEASE: %s\n", lease_name(fc(fd, F_GETLEASE, 0)));
    r = open_rc(O_RDONLY | O_NONBLOCK);
    printf("O_RDONLY|O_NONBLOCK open: %s, signals: %s\n", r, took(fd));
    printf("F_GETLEASE while it breaks: %s\n", lease_name(fc(fd, F_GETLEASE, 0)));
    r = open_rc(O_RDONLY | O_NONBLOCK);
    printf("O_RDONLY|O_NONBLOCK open again: %s, signals: %s\n", r, took(fd));
    r = open_rc(O_RDWR | O_NONBLOCK);
    printf("O_RDWR|O_NONBLOCK open: %s, signals: %s\n", r, took(fd));
    printf("F_GETLEASE while it breaks: %s\n", lease_name(fc(fd, F_GETLEASE, 0)));
    printf("F_SETLEASE F_UNLCK: %s\n", rc(fc(fd, F_SETLEASE, F_UNLCK)));
    r = rc(fc(fd, F_GETOWN, 0));
    printf("F_GETOWN, F_GETSIG after: %s, %s\n", r, rc(fc(fd, F_GETSIG, 0)));
    r = open_rc(O_RDWR | O_NONBLOCK);
    printf("O_RDWR|O_NONBLOCK open: %s, signals: %s\n", r, took(fd));
    close(fd);

    /* a blocking opener waits for the holder */
    fd = open(lpath, O_RDONLY);
    fc(fd, F_SETSIG, SIGUSR1);
    r = rc(fc(fd, F_SETLEASE, F_WRLCK));
    printf("F_SETSIG SIGUSR1, F_SETLEASE F_WRLCK: %s\n", r);
    pid = xfork();
    if (pid == 0) {
        write_full(ready[1], "r", 1);
        r = open_rc(O_RDONLY);
        write_full(p[1], r, strlen(r));
        _exit(0);
    }
    child_pid = pid;
    read_full(ready[0], &c, 1);
    {
        int sig = sigwaitinfo(&set, &si);
        printf("the holder gets: %s %s band %#lx fd %s\n", signame(sig),
               si.si_code == POLL_MSG ? "POLL_MSG" : code_name(si.si_code), (long)si.si_band,
               si.si_fd == fd ? "ok" : "wrong");
    }
    printf("F_GETLEASE: %s\n", lease_name(fc(fd, F_GETLEASE, 0)));
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    msleep(100);
    memset(line, 0, sizeof line);
    printf("the opener, before the holder acts: %s\n",
           read(p[0], line, sizeof line - 1) > 0 ? line : "waiting");
    printf("F_SETLEASE F_RDLCK (downgrade): %s\n", rc(fc(fd, F_SETLEASE, F_RDLCK)));
    fcntl(p[0], F_SETFL, 0);
    memset(line, 0, sizeof line);
    read(p[0], line, sizeof line - 1);
    printf("the opener: %s\n", line);
    wait_for(pid);
    r = lease_name(fc(fd, F_GETLEASE, 0));
    printf("F_GETLEASE: %s, signals: %s\n", r, took(fd));

    /* a writer against the read lease; a signal ends its wait */
    pid = xfork();
    if (pid == 0) {
        struct sigaction sa;
        struct itimerval it = {{0, 200000}, {0, 200000}};     /* repeating, as above */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        setitimer(ITIMER_REAL, &it, NULL);
        write_full(ready[1], "r", 1);
        r = open_rc(O_WRONLY);
        write_full(p[1], r, strlen(r));
        _exit(0);
    }
    child_pid = pid;
    read_full(ready[0], &c, 1);
    sigwaitinfo(&set, &si);
    printf("a writer: the holder gets %s; F_GETLEASE: %s\n", signame(si.si_signo),
           lease_name(fc(fd, F_GETLEASE, 0)));
    memset(line, 0, sizeof line);
    read(p[0], line, sizeof line - 1);
    printf("the writer, interrupted by SIGALRM: %s\n", line);
    wait_for(pid);
    printf("F_GETLEASE after: %s\n", lease_name(fc(fd, F_GETLEASE, 0)));
    close(fd);

    /* truncate(2) breaks a lease as an open for writing does */
    fd = open(lpath, O_RDONLY);
    fc(fd, F_SETSIG, SIGUSR1);
    printf("F_SETLEASE F_RDLCK: %s\n", rc(fc(fd, F_SETLEASE, F_RDLCK)));
    pid = xfork();
    if (pid == 0) {
        write_full(ready[1], "r", 1);
        r = truncate(lpath, 1) == 0 ? "truncated" : ename(errno);
        write_full(p[1], r, strlen(r));
        _exit(0);
    }
    child_pid = pid;
    read_full(ready[0], &c, 1);
    sigwaitinfo(&set, &si);
    printf("truncate: the holder gets %s; F_GETLEASE: %s\n", signame(si.si_signo),
           lease_name(fc(fd, F_GETLEASE, 0)));
    printf("F_SETLEASE F_UNLCK: %s\n", rc(fc(fd, F_SETLEASE, F_UNLCK)));
    memset(line, 0, sizeof line);
    read(p[0], line, sizeof line - 1);
    printf("the truncate: %s\n", line);
    wait_for(pid);
    close(fd);
    r = open_rc(O_RDWR | O_NONBLOCK);
    printf("after close, O_RDWR|O_NONBLOCK open: %s, signals: %s\n", r, took(fd));
    fd = open(lpath, O_RDWR);
    printf("F_SETLEASE F_RDLCK on an O_RDWR file: %s\n", rc(fc(fd, F_SETLEASE, F_RDLCK)));
    close(fd);
    close(p[0]); close(p[1]); close(ready[0]); close(ready[1]);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    unlink(lpath);
}

/* -- F_NOTIFY ---------------------------------------------------------------------------- */

static char dpath[64];

static const char *in_dir(const char *name)
{
    static char buf[2][128];
    static int n;
    char *b = buf[n++ & 1];

    snprintf(b, 128, "%s/%s", dpath, name);
    return b;
}

static void dnotify(void)
{
    int dfd, fd, d2;
    const char *r;
    pid_t pid;
    char buf[8];
    sigset_t set;
    struct timespec ts[2] = {{1, 0}, {2, 0}};

    printf("dnotify:\n");
    snprintf(dpath, sizeof dpath, "/tmp/a53emu-sys_locks-dir.XXXXXX");
    if (!mkdtemp(dpath))
        exit(1);
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    io_set = set;
    dfd = open(dpath, O_RDONLY | O_DIRECTORY);
    fd = open(path, O_RDONLY);
    printf("F_NOTIFY DN_CREATE on a regular file: %s\n", rc(fc(fd, F_NOTIFY, DN_CREATE)));
    printf("F_NOTIFY 0 on a regular file: %s\n", rc(fc(fd, F_NOTIFY, 0)));
    printf("F_NOTIFY DN_MULTISHOT on a regular file: %s\n",
           rc(fc(fd, F_NOTIFY, (long)DN_MULTISHOT)));
    close(fd);
    printf("F_NOTIFY 0x100 (no event of dnotify's) on the directory: %s\n",
           rc(fc(dfd, F_NOTIFY, 0x100)));
    r = rc(fc(dfd, F_NOTIFY, DN_CREATE));
    printf("F_NOTIFY DN_CREATE: %s, F_GETOWN is self: %s\n", r,
           YESNO(fc(dfd, F_GETOWN, 0) == getpid()));
    fd = open(in_dir("a"), O_RDWR | O_CREAT, 0600);
    printf("create a: %s\n", took(dfd));
    close(open(in_dir("b"), O_RDWR | O_CREAT, 0600));
    printf("create b (one shot): %s\n", took(dfd));

    fc(dfd, F_SETSIG, SIGRTMIN + 1);    /* queued: every event counts */
    fc(dfd, F_NOTIFY, DN_MODIFY | DN_MULTISHOT);
    fc(dfd, F_NOTIFY, DN_ACCESS | DN_ATTRIB | DN_CREATE | DN_DELETE | DN_RENAME);
    write(fd, "data", 4);
    printf("write a: %s\n", took(dfd));
    pread(fd, buf, 4, 0);
    printf("read a: %s\n", took(dfd));
    fchmod(fd, 0640);
    printf("fchmod a: %s\n", took(dfd));
    ftruncate(fd, 2);
    printf("ftruncate a: %s\n", took(dfd));
    utimensat(AT_FDCWD, in_dir("a"), ts, 0);
    printf("utimensat a: %s\n", took(dfd));
    rename(in_dir("a"), in_dir("c"));
    printf("rename a c: %s\n", took(dfd));
    unlink(in_dir("c"));
    printf("unlink c: %s\n", took(dfd));
    mkdir(in_dir("d"), 0700);
    printf("mkdir d: %s\n", took(dfd));
    rmdir(in_dir("d"));
    printf("rmdir d: %s\n", took(dfd));
    close(open(in_dir("b"), O_RDONLY));
    printf("open and close b: %s\n", took(dfd));
    pid = xfork();
    if (pid == 0) {
        close(open(in_dir("e"), O_RDWR | O_CREAT, 0600));
        _exit(0);
    }
    wait_for(pid);
    printf("a child creates e: %s\n", took(dfd));
    d2 = dup(dfd);
    fc(d2, F_NOTIFY, DN_CREATE | DN_DELETE | DN_MULTISHOT);
    close(d2);
    unlink(in_dir("e"));
    printf("after closing a dup: unlink e: %s\n", took(dfd));
    write(fd, "x", 1);
    printf("write a (moved to c, unlinked, still open): %s\n", took(dfd));
    close(fd);
    unlink(in_dir("b"));
    close(dfd);
    rmdir(dpath);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* -- mq_notify and close: mqueue_flush_file() ------------------------------------------- */

static const char *child_mq_notify(mqd_t q, struct sigevent *sev)
{
    pid_t pid = xfork();
    int st;

    if (pid == 0)
        _exit(mq_notify(q, sev) == 0 ? 0 : errno == EBUSY ? 1 : 2);
    st = wait_for(pid);
    return WEXITSTATUS(st) == 0 ? "0" : WEXITSTATUS(st) == 1 ? "EBUSY" : "?";
}

static void mqueue_flush(void)
{
    char name[64];
    mqd_t q;
    int d;
    pid_t pid;
    struct sigevent sev;

    printf("mqueue:\n");
    snprintf(name, sizeof name, "/a53emu-sys_locks.%d", (int)getpid());
    q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
    if (q == (mqd_t)-1) {
        printf("FAILED: mq_open: %s\n", ename(errno));
        check_failures++;
        return;
    }
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_NONE;
    printf("mq_notify: %s\n", mq_notify(q, &sev) == 0 ? "0" : ename(errno));
    pid = xfork();
    if (pid == 0) {
        close((int)q);
        _exit(0);
    }
    wait_for(pid);
    printf("after a child closes its descriptor, another process registering: %s\n",
           child_mq_notify(q, &sev));
    d = dup((int)q);
    close(d);
    printf("after we close a dup, another process registering: %s\n",
           child_mq_notify(q, &sev));
    mq_close(q);
    mq_unlink(name);
}

/* An unlinked file keeps its owner while it is open (run as root: a child
 * becomes uid/gid 1234 and makes the file). */
static int unlinked_owner(void)
{
    pid_t pid = xfork();

    if (pid == 0) {
        char name[64];
        struct stat st;
        int fd;

        if (setgid(1234) < 0 || setuid(1234) < 0) {
            printf("setuid: %s\n", ename(errno));
            _exit(0);
        }
        snprintf(name, sizeof name, "/tmp/a53emu-sys_locks-owner.XXXXXX");
        fd = mkstemp(name);
        fstat(fd, &st);
        printf("owner while linked: %s\n", YESNO(st.st_uid == 1234 && st.st_gid == 1234));
        unlink(name);
        fstat(fd, &st);
        printf("owner once unlinked, still open: %s\n",
               YESNO(st.st_uid == 1234 && st.st_gid == 1234 && st.st_nlink == 0));
        close(fd);
        _exit(0);
    }
    wait_for(pid);
    return 0;
}

int main(int argc, char **argv)
{
    int fd;

    proc_init();
    if (argc > 1 && !strcmp(argv[1], "unlinked-owner"))
        return unlinked_owner();
    parent_pid = getpid();
    /* mkstemp: a board's init is always pid 1, and runs go on in parallel. */
    snprintf(path, sizeof path, "/tmp/a53emu-sys_locks.XXXXXX");
    fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 200) < 0) {
        printf("FAILED: %s: %s\n", path, ename(errno));
        return 1;
    }
    errors(fd);
    ranges(fd);
    closing(fd);
    fork_case(fd);
    threads(fd);
    waiting(fd);
    deadlock(fd);
    ofd(fd);
    pipes();
    owners();
    leases();
    dnotify();
    mqueue_flush();
    unlink(path);
    return proc_finish("sys_locks");
}
