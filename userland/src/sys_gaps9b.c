/*
 * sys_gaps9b.c - more of issue 9's gaps, each as Linux 4.14 answers:
 *   1. epoll/poll/select on /proc files: proc_create() files poll through
 *      proc_reg_poll() (DEFAULT_POLLMASK), /proc/sys through proc_sys_poll(),
 *      /proc/PID/mounts through mounts_poll() (POLLIN|POLLRDNORM); the
 *      other /proc/PID files have no ->poll (epoll_ctl: EPERM);
 *   2. a running program's file is ETXTBSY for writing and truncating;
 *   3. pselect6/ppoll with a timeout, stopped and continued under the
 *      STICKY_TIMEOUTS personality, are EINTR (without it they restart);
 *   4. a new POSIX message queue belongs to the creator's fsuid/fsgid;
 *   5. /proc/self/fd/N of an unlinked file or directory ends in " (deleted)";
 *   6. a pty's slave belongs to the opener (devpts_pty_new()), who can
 *      open it after dropping root;
 *   7. statx() reports STATX_BTIME when the file system keeps a birth time.
 * Parts 4 and 6 need root (they change fsuid/uid); without it they say so
 * and pass, on either kernel.  Self-checking; built for the host too.
 * Leaves the working directory as it found it.
 */
#include "common.h"
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define STICKY_TIMEOUTS_ 0x4000000
#define STATX_BTIME_ 0x800U
#define O_TMPFILE_ (020000000 | O_DIRECTORY)
#define DEFAULT_POLLMASK_ (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
#define OTHER_UID 1234
#define OTHER_GID 4321
#define MQ_NAME "/sys_gaps9b.mq"

/* 1. epoll_ctl(ADD) on path: 0 or -errno; with 0, the events epoll_wait reports. */
static int epoll_add(const char *path, unsigned *events)
{
    int fd = open(path, O_RDONLY), ep = epoll_create1(0), ret;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM };

    if (fd < 0 || ep < 0)
        return -1000;
    ret = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
    if (!ret)
        *events = epoll_wait(ep, &ev, 1, 0) == 1 ? ev.events : 0;
    close(ep);
    close(fd);
    return ret;
}

static short poll_one(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM };
    short r = poll(&p, 1, 0) == 1 ? p.revents : 0;

    close(fd);
    return r;
}

/* proc_sys_poll()'s event: sethostname() (to the name it has: nothing
 * changes) makes the hostname sysctl POLLERR|POLLPRI once per open. */
static void hostname_event(void)
{
    char name[65] = "";
    int fd = open("/proc/sys/kernel/hostname", O_RDONLY);
    struct pollfd p = { .fd = fd, .events = POLLPRI };

    if (geteuid() != 0 || fd < 0 || gethostname(name, sizeof name - 1)) {
        printf("  not root: the hostname event is not checked\n");
        close(fd);
        return;
    }
    expect_ret("poll(hostname sysctl, POLLPRI) before a change", poll(&p, 1, 0), 0);
    expect_ret("sethostname(the same name)", sethostname(name, strlen(name)), 0);
    p.revents = 0;
    expect_ret("poll(hostname sysctl, POLLPRI) after it", poll(&p, 1, 0), 1);
    CHECK(p.revents == (POLLPRI | POLLERR), "  revents POLLPRI|POLLERR (%#x)", p.revents);
    expect_ret("poll again: the event was seen", poll(&p, 1, 0), 0);
    close(fd);
}

/* kernfs_fop_poll(): a sysfs file reports POLLERR|POLLPRI until it has been
 * read (sysfs_notify()'s protocol: read, then poll for the next change). */
static void sysfs_event(void)
{
    char buf[64];
    unsigned ev = 0;
    int fd = open("/sys/devices/system/cpu/online", O_RDONLY);
    struct pollfd p = { .fd = fd, .events = POLLPRI };

    expect_ret("epoll_ctl(/sys/devices/system/cpu/online) (kernfs_fop_poll)",
               epoll_add("/sys/devices/system/cpu/online", &ev), 0);
    CHECK(ev == (DEFAULT_POLLMASK_ | POLLERR), "  epoll_wait before a read, POLLPRI not asked: "
          "DEFAULT_POLLMASK|POLLERR (%#x)", ev);
    expect_ret("poll(sysfs file, POLLPRI) before a read", poll(&p, 1, 0), 1);
    CHECK(p.revents == (POLLPRI | POLLERR), "  revents POLLPRI|POLLERR (%#x)", p.revents);
    CHECK(read(fd, buf, sizeof buf) > 0, "read it");
    expect_ret("poll(sysfs file, POLLPRI) after the read", poll(&p, 1, 0), 0);
    close(fd);
}

static void proc_polls(void)
{
    unsigned ev = 0;
    int fd;
    fd_set rd, wr;
    struct timeval tv = { 0, 0 };

    printf("1. poll on /proc\n");
    expect_ret("epoll_ctl(/proc/meminfo) (proc_reg_poll)", epoll_add("/proc/meminfo", &ev), 0);
    CHECK(ev == DEFAULT_POLLMASK_, "  epoll_wait: DEFAULT_POLLMASK (%#x)", ev);
    ev = 0;
    expect_ret("epoll_ctl(/proc/sys/vm/overcommit_memory) (proc_sys_poll)",
               epoll_add("/proc/sys/vm/overcommit_memory", &ev), 0);
    CHECK(ev == DEFAULT_POLLMASK_, "  epoll_wait: DEFAULT_POLLMASK (%#x)", ev);
    ev = 0;
    expect_ret("epoll_ctl(/proc/self/mounts) (mounts_poll)", epoll_add("/proc/self/mounts", &ev), 0);
    CHECK(ev == (EPOLLIN | EPOLLRDNORM), "  epoll_wait: POLLIN|POLLRDNORM (%#x)", ev);
    ev = 0;
    expect_ret("epoll_ctl(/proc/mounts)", epoll_add("/proc/mounts", &ev), 0);
    CHECK(ev == (EPOLLIN | EPOLLRDNORM), "  epoll_wait: POLLIN|POLLRDNORM (%#x)", ev);
    expect_ret("epoll_ctl(/proc/self/status) (no ->poll)", epoll_add("/proc/self/status", &ev),
               -EPERM);
    expect_ret("epoll_ctl(/proc/self/maps) (no ->poll)", epoll_add("/proc/self/maps", &ev),
               -EPERM);
    CHECK(poll_one("/proc/self/status") == DEFAULT_POLLMASK_,
          "poll(/proc/self/status): DEFAULT_POLLMASK");
    CHECK(poll_one("/proc/self/mounts") == (POLLIN | POLLRDNORM),
          "poll(/proc/self/mounts): POLLIN|POLLRDNORM, not writable");
    hostname_event();
    sysfs_event();
    fd = open("/proc/meminfo", O_RDONLY);
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(fd, &rd);
    FD_SET(fd, &wr);
    expect_ret("select(/proc/meminfo) readable and writable", select(fd + 1, &rd, &wr, NULL, &tv), 2);
    close(fd);
}

/* 2. */
static void running_program(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    struct stat st;

    printf("2. ETXTBSY\n");
    if (n <= 0 || stat("/proc/self/exe", &st)) {
        CHECK(0, "readlink/stat /proc/self/exe");
        return;
    }
    exe[n] = 0;
    expect_err("open(own program, O_WRONLY)", open(exe, O_WRONLY), ETXTBSY);
    expect_err("open(own program, O_RDWR)", open(exe, O_RDWR), ETXTBSY);
    expect_err("open(/proc/self/exe, O_WRONLY)", open("/proc/self/exe", O_WRONLY), ETXTBSY);
    expect_err("truncate(own program)", truncate(exe, st.st_size), ETXTBSY);
    int fd = open(exe, O_RDONLY);
    CHECK(fd >= 0, "open(own program, O_RDONLY) is allowed");
    close(fd);
}

/* 3. The child sleeps in pselect6 (which=0) or ppoll (1) for 400 ms; the
 * parent stops and continues it.  Its exit status is what the call gave. */
static int stopped_call(int sticky, int which)
{
    int ready[2];
    char c;
    pid_t pid;
    int status;

    if (pipe(ready))
        return -1;
    pid = fork();
    if (pid == 0) {
        int idle[2];
        struct timespec ts = { 0, 400 * 1000 * 1000 };
        long r;

        if (pipe(idle) || (sticky && personality(PER_LINUX | STICKY_TIMEOUTS_) == -1))
            _exit(100);
        write(ready[1], "r", 1);
        if (which == 0) {
            fd_set rd;
            FD_ZERO(&rd);
            FD_SET(idle[0], &rd);
            r = syscall(SYS_pselect6, idle[0] + 1, &rd, NULL, NULL, &ts, NULL);
        } else {
            struct pollfd p = { .fd = idle[0], .events = POLLIN };
            r = syscall(SYS_ppoll, &p, 1, &ts, NULL, 0);
        }
        _exit(r == -1 ? (errno == EINTR ? 1 : 2) : r == 0 ? 0 : 3);
    }
    close(ready[1]);
    read(ready[0], &c, 1);
    close(ready[0]);
    usleep(100 * 1000);                 /* into the call */
    kill(pid, SIGSTOP);
    waitpid(pid, &status, WUNTRACED);
    kill(pid, SIGCONT);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void sticky_timeouts(void)
{
    printf("3. STICKY_TIMEOUTS\n");
    CHECK(stopped_call(0, 0) == 0, "pselect6 stopped and continued: restarts, times out (0)");
    CHECK(stopped_call(1, 0) == 1, "pselect6 under STICKY_TIMEOUTS: EINTR");
    CHECK(stopped_call(0, 1) == 0, "ppoll stopped and continued: restarts, times out (0)");
    CHECK(stopped_call(1, 1) == 1, "ppoll under STICKY_TIMEOUTS: EINTR");
}

/* 4. */
static void mqueue_owner(void)
{
    struct mq_attr attr = { .mq_maxmsg = 2, .mq_msgsize = 16 };
    struct stat st;
    mqd_t q;

    printf("4. mqueue owner\n");
    if (geteuid() != 0) {
        printf("  not root: fsuid cannot change\n");
        return;
    }
    mq_unlink(MQ_NAME);
    setfsgid(OTHER_GID);
    setfsuid(OTHER_UID);
    q = mq_open(MQ_NAME, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    CHECK(q != (mqd_t)-1, "mq_open(O_CREAT) with fsuid %d", OTHER_UID);
    CHECK(q != (mqd_t)-1 && fstat((int)q, &st) == 0 && st.st_uid == OTHER_UID && st.st_gid == OTHER_GID,
          "its owner is fsuid:fsgid (%d:%d), not euid 0", (int)st.st_uid, (int)st.st_gid);
    mqd_t again = mq_open(MQ_NAME, O_RDWR);
    CHECK(again != (mqd_t)-1, "the owner (by fsuid) opens it O_RDWR (mode 0600)");
    if (again != (mqd_t)-1)
        mq_close(again);
    setfsuid(OTHER_UID + 1);
    expect_err("another fsuid (euid still 0, fs capabilities dropped): EACCES",
               (long)mq_open(MQ_NAME, O_RDWR), EACCES);
    setfsuid(0);
    setfsgid(0);
    if (q != (mqd_t)-1)
        mq_close(q);
    expect_ret("mq_unlink", mq_unlink(MQ_NAME), 0);
}

/* 5. readlink of /proc/self/fd/fd; does it end in suffix? */
static int link_ends(int fd, const char *suffix, char *buf, size_t size)
{
    char name[64];
    ssize_t n;
    size_t len = strlen(suffix);

    snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
    n = readlink(name, buf, size - 1);
    if (n < 0)
        return 0;
    buf[n] = 0;
    return (size_t)n >= len && !strcmp(buf + n - len, suffix);
}

static void deleted_links(void)
{
    char buf[4096];
    int fd, dfd, tfd;

    printf("5. (deleted)\n");
    fd = open("gaps9b.f", O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(link_ends(fd, "/gaps9b.f", buf, sizeof buf), "an open file's link is its name");
    unlink("gaps9b.f");
    CHECK(link_ends(fd, "/gaps9b.f (deleted)", buf, sizeof buf),
          "unlinked: ends in \"gaps9b.f (deleted)\"");
    close(fd);
    mkdir("gaps9b.d", 0700);
    dfd = open("gaps9b.d", O_RDONLY | O_DIRECTORY);
    rmdir("gaps9b.d");
    CHECK(link_ends(dfd, "/gaps9b.d (deleted)", buf, sizeof buf),
          "a removed directory: ends in \"gaps9b.d (deleted)\"");
    close(dfd);
    tfd = open(".", O_TMPFILE_ | O_RDWR, 0600);
    if (tfd < 0) {
        printf("  O_TMPFILE: %s here\n", errno_name(errno));
        return;
    }
    struct stat st;
    char want[64];
    fstat(tfd, &st);
    snprintf(want, sizeof want, "/#%llu (deleted)", (unsigned long long)st.st_ino);
    CHECK(link_ends(tfd, want, buf, sizeof buf), "O_TMPFILE: ends in \"/#<ino> (deleted)\"");
    close(tfd);
}

/* 6. Open a pty master; its slave's owner and, as that owner, a slave open. */
static int new_pty(int *master, char *slave, size_t size)
{
    int n, unlock = 0;

    *master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (*master < 0 || ioctl(*master, TIOCSPTLCK, &unlock) || ioctl(*master, TIOCGPTN, &n))
        return -1;
    snprintf(slave, size, "/dev/pts/%d", n);
    return 0;
}

static void pty_owner(void)
{
    char slave[64];
    int master, status;
    struct stat st;

    printf("6. pty owner\n");
    if (new_pty(&master, slave, sizeof slave)) {
        printf("  /dev/ptmx: %s\n", errno_name(errno));
        return;
    }
    CHECK(stat(slave, &st) == 0 && st.st_uid == geteuid(), "the slave is the opener's (uid %d)",
          (int)st.st_uid);
    close(master);
    if (geteuid() != 0) {
        printf("  not root: no uid to drop to\n");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int s;
        if (setgid(OTHER_GID) || setuid(OTHER_UID) || new_pty(&master, slave, sizeof slave))
            _exit(10);
        if (stat(slave, &st) || st.st_uid != OTHER_UID)
            _exit(11);
        s = open(slave, O_RDWR | O_NOCTTY);
        _exit(s < 0 ? 12 : 0);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "after setuid(%d): a new pty's slave is uid %d and opens (status %d)", OTHER_UID,
          OTHER_UID, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* 7. struct statx (linux/stat.h): the mask and the four timestamps. */
struct statx_ts { int64_t sec; uint32_t nsec; int32_t pad; };
struct statx_ {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare0;
    uint64_t ino, size, blocks, attributes_mask;
    struct statx_ts atime, btime, ctime, mtime;
    char rest[256 - 128];
};

static void statx_btime(void)
{
    struct statx_ sx;
    int fd;

    printf("7. statx btime\n");
    fd = open("gaps9b.b", O_WRONLY | O_CREAT | O_EXCL, 0600);
    close(fd);
    memset(&sx, 0, sizeof sx);
    expect_ret("statx(STATX_BTIME)",
               syscall(SYS_statx, AT_FDCWD, "gaps9b.b", 0, 0x7ffU | STATX_BTIME_, &sx), 0);
    printf("  stx_mask has STATX_BTIME: %d\n", !!(sx.mask & STATX_BTIME_));
    if (sx.mask & STATX_BTIME_)
        CHECK(sx.btime.sec > 0 && sx.btime.sec <= time(NULL) && sx.btime.sec + 60 >= time(NULL)
              && sx.btime.nsec < 1000000000U && sx.btime.sec <= sx.mtime.sec,
              "stx_btime is the file's birth, just now");
    else
        CHECK(sx.btime.sec == 0 && sx.btime.nsec == 0, "no STATX_BTIME: stx_btime is zero");
    unlink("gaps9b.b");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    proc_polls();
    running_program();
    sticky_timeouts();
    mqueue_owner();
    deleted_links();
    pty_owner();
    statx_btime();
    printf(check_failures ? "%d checks FAILED\n" : "all checks passed\n", check_failures);
    return check_failures != 0;
}
