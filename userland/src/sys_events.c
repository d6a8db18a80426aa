/*
 * sys_events.c - eventfd, epoll, signalfd and poll/ppoll/pselect6 over every
 * descriptor kind (fs/eventfd.c, fs/eventpoll.c, fs/signalfd.c,
 * fs/select.c in 4.14).  Issue 9 part 6.
 *
 * Checks: eventfd2 flags (EINVAL, CLOEXEC, NONBLOCK), the 8-byte rules
 * (EINVAL for short reads and writes and for the value 2^64-1), the
 * counter and EFD_SEMAPHORE, overflow at 0xfffffffffffffffe (EAGAIN; a
 * blocked writer woken by a reader in another process), poll masks,
 * fstat/lseek/EFAULT; epoll_create1 and every epoll_ctl errno in 4.14's
 * order, level- and edge-triggered reports for pipes and eventfds,
 * EPOLLONESHOT and re-arming, an item outliving one of two descriptors,
 * nested epolls, blocking waits woken by another process, epoll_pwait's
 * signal mask (EINTR, never restarted); signalfd4 errors, reading
 * signalfd_siginfo (the signal is no longer pending), sigqueue values,
 * mask updates, a blocked read woken by a signal from another process;
 * ppoll and pselect6 on all of these at once; inotify_init1/add_watch/
 * rm_watch errors, create/close-write/delete events with names, IN_IGNORED,
 * EINVAL for a buffer too small for the next event, FIONREAD, a blocked
 * read woken by another process's file creation, epoll on inotify.
 */
#define _GNU_SOURCE
#include "events.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

static int ev_read(int fd, uint64_t *v)
{
    return (int)read(fd, v, sizeof *v);
}

static int ev_write(int fd, uint64_t v)
{
    return (int)write(fd, &v, sizeof v);
}

static short poll_mask(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static void check_eventfd(void)
{
    uint64_t v = 0;
    struct stat st;
    int fd;

    printf("eventfd\n");
    errno = 0;
    CHECK(eventfd(0, 0x10) < 0 && errno == EINVAL, "eventfd2(flags 0x10): %s", ename(errno));
    fd = eventfd(3, EFD_CLOEXEC | EFD_NONBLOCK);
    CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC && (fcntl(fd, F_GETFL) & O_NONBLOCK)
          && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR,
          "EFD_CLOEXEC|EFD_NONBLOCK: close-on-exec, O_NONBLOCK, O_RDWR");
    char small[8] = {0};
    CHECK(read(fd, small, 4) < 0 && errno == EINVAL, "read of 4 bytes: %s", ename(errno));
    CHECK(write(fd, small, 7) < 0 && errno == EINVAL, "write of 7 bytes: %s", ename(errno));
    CHECK(ev_write(fd, UINT64_MAX) < 0 && errno == EINVAL, "write of 2^64-1: %s", ename(errno));
    CHECK(ev_write(fd, 4) == 8 && ev_write(fd, 0) == 8, "writes add (8 bytes each)");
    char big[16];
    CHECK(read(fd, big, 16) == 8 && memcpy(&v, big, 8) && v == 7,
          "a 16-byte read returns 8 bytes: the counter 7 (initial 3 + 4)");
    CHECK(ev_read(fd, &v) < 0 && errno == EAGAIN, "read of 0 (non-blocking): %s", ename(errno));
    CHECK(poll_mask(fd, POLLIN | POLLOUT) == POLLOUT, "poll at 0: POLLOUT only");
    CHECK(ev_write(fd, 0xfffffffffffffffeULL) == 8, "write up to 0xfffffffffffffffe");
    CHECK(poll_mask(fd, POLLIN | POLLOUT) == POLLIN, "poll at the maximum: POLLIN only");
    CHECK(ev_write(fd, 1) < 0 && errno == EAGAIN, "one more: %s", ename(errno));
    CHECK(ev_write(fd, 0) == 8, "adding 0 at the maximum still succeeds");
    CHECK(ev_read(fd, &v) == 8 && v == 0xfffffffffffffffeULL, "read takes it all");
    CHECK(fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0 && (st.st_mode & 0777) == 0600,
          "fstat: anon inode, no file type, mode 0600 (got 0%o)", (unsigned)st.st_mode);
    CHECK(lseek(fd, 100, SEEK_SET) == 0, "lseek: noop_llseek, always 0");
    CHECK(pread(fd, &v, 8, 0) < 0 && errno == ESPIPE, "pread: %s", ename(errno));
    CHECK(syscall(SYS_write, fd, BADPTR, 8) < 0 && errno == EFAULT, "write from a bad pointer: %s",
          ename(errno));
    ev_write(fd, 5);
    CHECK(syscall(SYS_read, fd, BADPTR, 8) < 0 && errno == EFAULT, "read into a bad pointer: %s",
          ename(errno));
    CHECK(ev_read(fd, &v) < 0 && errno == EAGAIN,
          "the value was consumed before the copy failed (as eventfd_read): %s", ename(errno));
    close(fd);

    fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    CHECK(ev_read(fd, &v) == 8 && v == 1 && ev_read(fd, &v) == 8 && v == 1,
          "EFD_SEMAPHORE: each read takes 1");
    CHECK(ev_read(fd, &v) < 0 && errno == EAGAIN, "then empty: %s", ename(errno));
    close(fd);

    errno = 0;
    CHECK(read(-1, &v, 8) < 0 && errno == EBADF, "read(-1): %s", ename(errno));

    /* Across fork: a blocked reader woken by the parent's write. */
    fd = eventfd(0, 0);
    pid_t pid = xfork();
    if (pid == 0) {
        uint64_t got = 0;
        if (ev_read(fd, &got) != 8)
            _exit(100);
        _exit((int)got);
    }
    msleep(50);
    ev_write(fd, 42);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42,
          "a child blocked in read wakes with the parent's 42");
    /* A blocked writer (at the maximum) woken by a read in another process. */
    ev_write(fd, 0xfffffffffffffffeULL);
    pid = xfork();
    if (pid == 0)
        _exit(ev_write(fd, 9) == 8 ? 0 : 1);
    msleep(50);
    CHECK(ev_read(fd, &v) == 8 && v == 0xfffffffffffffffeULL, "parent drains the counter");
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && ev_read(fd, &v) == 8 && v == 9,
          "the child's blocked write of 9 completed");
    close(fd);
}

static int ep_add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = events;
    e.data.u64 = data;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int ep_mod(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = events;
    e.data.u64 = data;
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

/* epoll_wait with timeout 0: how many events; the first one's events/data. */
static int ep_wait0(int ep, uint32_t *events, uint64_t *data)
{
    struct epoll_event e[8];
    int n = epoll_wait(ep, e, 8, 0);
    if (n > 0) {
        if (events) *events = e[0].events;
        if (data) *data = e[0].data.u64;
    }
    return n;
}

static volatile sig_atomic_t usr1_count;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_count++;
}

static void check_epoll_errors(void)
{
    struct epoll_event e = {EPOLLIN, {0}};
    int p[2];
    char tmpl[] = "sys_events.XXXXXX";

    printf("epoll_ctl errors\n");
    CHECK(epoll_create1(1) < 0 && errno == EINVAL, "epoll_create1(1): %s", ename(errno));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0 && fcntl(ep, F_GETFD) == FD_CLOEXEC, "EPOLL_CLOEXEC");
    pipe(p);
    int reg = mkstemp(tmpl);
    unlink(tmpl);
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], BADPTR) < 0 && errno == EFAULT,
          "a bad event pointer: %s", ename(errno));
    CHECK(epoll_ctl(-1, EPOLL_CTL_ADD, p[0], BADPTR) < 0 && errno == EFAULT,
          "the event is copied before the descriptors are looked up: %s", ename(errno));
    CHECK(epoll_ctl(99, EPOLL_CTL_ADD, p[0], &e) < 0 && errno == EBADF, "bad epfd: %s",
          ename(errno));
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, 99, &e) < 0 && errno == EBADF, "bad fd: %s",
          ename(errno));
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &e) < 0 && errno == EPERM, "a regular file: %s",
          ename(errno));
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e) < 0 && errno == EINVAL, "the epoll itself: %s",
          ename(errno));
    CHECK(epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &e) < 0 && errno == EINVAL,
          "epfd not an epoll: %s", ename(errno));
    CHECK(epoll_ctl(ep, 7, p[0], &e) < 0 && errno == EINVAL, "op 7: %s", ename(errno));
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) < 0 && errno == ENOENT,
          "DEL of an unwatched fd (NULL event is fine for DEL): %s", ename(errno));
    CHECK(ep_mod(ep, p[0], EPOLLIN, 0) < 0 && errno == ENOENT, "MOD of an unwatched fd: %s",
          ename(errno));
    CHECK(ep_add(ep, p[0], EPOLLIN, 1) == 0, "ADD");
    CHECK(ep_add(ep, p[0], EPOLLIN, 1) < 0 && errno == EEXIST, "ADD again: %s", ename(errno));
    int d = dup(p[0]);
    CHECK(ep_add(ep, d, EPOLLIN, 2) == 0, "ADD of a dup (another fd, same file) is allowed");
    CHECK(ep_add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 0) < 0 && errno == EINVAL,
          "EPOLLEXCLUSIVE with EPOLLONESHOT: %s", ename(errno));
    CHECK(ep_add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 0) == 0, "EPOLLEXCLUSIVE with EPOLLOUT");
    CHECK(ep_mod(ep, p[1], EPOLLOUT, 0) < 0 && errno == EINVAL,
          "MOD of an EPOLLEXCLUSIVE item: %s", ename(errno));
    CHECK(ep_mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0) < 0 && errno == EINVAL,
          "MOD with EPOLLEXCLUSIVE: %s", ename(errno));
    int ep2 = epoll_create1(0), ep3 = epoll_create1(0);
    CHECK(ep_add(ep, ep2, EPOLLIN | EPOLLEXCLUSIVE, 0) < 0 && errno == EINVAL,
          "EPOLLEXCLUSIVE on an epoll: %s", ename(errno));
    CHECK(ep_add(ep, ep2, EPOLLIN, 0) == 0 && ep_add(ep2, ep3, EPOLLIN, 0) == 0,
          "ep -> ep2 -> ep3");
    CHECK(ep_add(ep3, ep, EPOLLIN, 0) < 0 && errno == ELOOP, "ep3 -> ep closes a loop: %s",
          ename(errno));
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL) == 0, "DEL");
    struct epoll_event out[2];
    CHECK(epoll_wait(ep, out, 0, 0) < 0 && errno == EINVAL, "maxevents 0: %s", ename(errno));
    CHECK(epoll_wait(p[0], out, 2, 0) < 0 && errno == EINVAL, "epoll_wait on a pipe: %s",
          ename(errno));
    CHECK(epoll_wait(99, out, 2, 0) < 0 && errno == EBADF, "epoll_wait on fd 99: %s",
          ename(errno));
    CHECK(syscall(SYS_epoll_pwait, ep, out, 2, 0, NULL, 8) >= 0,
          "epoll_pwait without a mask");
    sigset_t none;
    sigemptyset(&none);
    CHECK(syscall(SYS_epoll_pwait, ep, out, 2, 0, &none, 4) < 0 && errno == EINVAL,
          "epoll_pwait sigsetsize 4: %s", ename(errno));
    struct stat st;
    CHECK(fstat(ep, &st) == 0 && (st.st_mode & S_IFMT) == 0, "fstat of an epoll: anon inode");
    close(ep3);
    close(ep2);
    close(d);
    close(reg);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void check_epoll_triggers(void)
{
    int p[2];
    uint32_t ev = 0;
    uint64_t data = 0, v;
    char buf[8];

    printf("epoll: level, edge, one-shot\n");
    int ep = epoll_create1(0);
    pipe(p);
    ep_add(ep, p[0], EPOLLIN, 10);
    CHECK(ep_wait0(ep, NULL, NULL) == 0, "an empty pipe: nothing");
    write(p[1], "ab", 2);
    CHECK(ep_wait0(ep, &ev, &data) == 1 && ev == EPOLLIN && data == 10,
          "level-triggered: EPOLLIN with its data");
    CHECK(ep_wait0(ep, &ev, &data) == 1, "and again while data is left");
    read(p[0], buf, 2);
    CHECK(ep_wait0(ep, NULL, NULL) == 0, "drained: nothing");

    ep_mod(ep, p[0], EPOLLIN | EPOLLET, 11);
    write(p[1], "a", 1);
    CHECK(ep_wait0(ep, &ev, &data) == 1 && data == 11, "edge-triggered: reported once");
    CHECK(ep_wait0(ep, NULL, NULL) == 0, "not again while nothing new comes");
    write(p[1], "b", 1);
    CHECK(ep_wait0(ep, NULL, NULL) == 1, "a new write is a new edge");
    read(p[0], buf, 2);

    ep_mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 12);
    write(p[1], "c", 1);
    CHECK(ep_wait0(ep, &ev, &data) == 1 && data == 12, "EPOLLONESHOT: reported once");
    write(p[1], "d", 1);
    CHECK(ep_wait0(ep, NULL, NULL) == 0, "then disarmed, even with new data");
    CHECK(ep_mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 13) == 0 && ep_wait0(ep, &ev, &data) == 1
          && data == 13, "MOD re-arms it");
    read(p[0], buf, 2);

    close(p[1]);
    ep_mod(ep, p[0], EPOLLIN, 14);
    CHECK(ep_wait0(ep, &ev, NULL) == 1 && (ev & EPOLLHUP), "the writer gone: EPOLLHUP");
    epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
    close(p[0]);

    int efd = eventfd(0, EFD_NONBLOCK);
    ep_add(ep, efd, EPOLLIN | EPOLLET, 20);
    CHECK(ep_wait0(ep, NULL, NULL) == 0, "eventfd at 0: nothing");
    ev_write(efd, 1);
    CHECK(ep_wait0(ep, &ev, &data) == 1 && ev == EPOLLIN && data == 20, "eventfd ET: an edge");
    CHECK(ep_wait0(ep, NULL, NULL) == 0, "once");
    ev_write(efd, 1);
    CHECK(ep_wait0(ep, NULL, NULL) == 1, "every write is an edge, even with the counter > 0");
    ev_read(efd, &v);
    CHECK(ep_wait0(ep, NULL, NULL) == 0, "a read wakes only POLLOUT watchers");
    ep_mod(ep, efd, EPOLLOUT, 21);
    CHECK(ep_wait0(ep, &ev, &data) == 1 && ev == EPOLLOUT && data == 21, "eventfd LT EPOLLOUT");
    ep_mod(ep, efd, EPOLLIN, 22);
    CHECK(ep_wait0(ep, NULL, NULL) == 0, "EPOLLIN at 0: nothing");

    /* The item belongs to the file: closing one of two descriptors keeps it. */
    int d = dup(efd);
    close(efd);
    ev_write(d, 1);
    CHECK(ep_wait0(ep, &ev, &data) == 1 && data == 22,
          "closing the added fd while a dup lives: still reported");
    CHECK(ep_add(ep, d, EPOLLIN, 23) == 0 && ep_wait0(ep, NULL, NULL) == 2,
          "the dup added too: two items");
    close(d);
    CHECK(ep_wait0(ep, NULL, NULL) == 0, "the last descriptor closed: both items gone");

    /* Nested: an inner epoll with a ready item makes the outer one readable. */
    int inner = epoll_create1(0);
    efd = eventfd(0, 0);
    ep_add(inner, efd, EPOLLIN, 30);
    ep_add(ep, inner, EPOLLIN, 31);
    CHECK(ep_wait0(ep, NULL, NULL) == 0 && poll_mask(inner, POLLIN) == 0, "inner idle");
    ev_write(efd, 1);
    CHECK(ep_wait0(ep, &ev, &data) == 1 && data == 31 && poll_mask(inner, POLLIN) == POLLIN,
          "inner ready: the outer reports it, poll() says POLLIN");
    close(efd);
    close(inner);

    /* Edge-triggered on an epoll: each new event inside is an edge. */
    inner = epoll_create1(0);
    int q[2];
    pipe(q);
    efd = eventfd(0, 0);
    ep_add(inner, q[0], EPOLLIN, 0);
    ep_add(inner, efd, EPOLLIN, 0);
    int outer = epoll_create1(0);
    ep_add(outer, inner, EPOLLIN | EPOLLET, 32);
    CHECK(ep_wait0(outer, NULL, NULL) == 0, "ET on an idle epoll: nothing");
    write(q[1], "a", 1);
    CHECK(ep_wait0(outer, NULL, NULL) == 1 && ep_wait0(outer, NULL, NULL) == 0,
          "a pipe write inside: one edge");
    write(q[1], "b", 1);
    CHECK(ep_wait0(outer, NULL, NULL) == 1 && ep_wait0(outer, NULL, NULL) == 0,
          "another write (the inner epoll stays ready): another edge");
    ev_write(efd, 1);
    CHECK(ep_wait0(outer, NULL, NULL) == 1 && ep_wait0(outer, NULL, NULL) == 0,
          "an eventfd write inside: another edge");
    close(outer);
    close(inner);
    close(efd);
    close(q[0]);
    close(q[1]);
    close(ep);
}

static void check_epoll_blocking(void)
{
    int p[2], status;
    struct epoll_event out[4];

    printf("epoll: sleeping\n");
    int ep = epoll_create1(0);
    pipe(p);
    ep_add(ep, p[0], EPOLLIN, 40);
    pid_t pid = xfork();
    if (pid == 0) {
        msleep(50);
        write(p[1], "x", 1);
        _exit(0);
    }
    int n = epoll_wait(ep, out, 4, -1);
    CHECK(n == 1 && out[0].data.u64 == 40, "a wait woken by another process's write");
    waitpid(pid, &status, 0);
    char c;
    read(p[0], &c, 1);
    CHECK(epoll_wait(ep, out, 4, 30) == 0, "a 30 ms timeout with nothing: 0");

    /* epoll_pwait's mask lets SIGUSR1 in; the call says EINTR (never restarted). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, old, none;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    sigemptyset(&none);
    usr1_count = 0;
    pid_t parent = getpid();
    pid = xfork();
    if (pid == 0) {
        msleep(50);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    errno = 0;
    n = epoll_pwait(ep, out, 4, -1, &none);
    CHECK(n < 0 && errno == EINTR && usr1_count == 1,
          "epoll_pwait: the signal is handled, EINTR even with SA_RESTART: %s", ename(errno));
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1), "the mask is restored after epoll_pwait");
    waitpid(pid, &status, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void check_signalfd(void)
{
    sigset_t mask, pend;
    struct signalfd_siginfo si;
    int status;

    printf("signalfd\n");
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    sigaddset(&mask, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    CHECK(syscall(SYS_signalfd4, -1, &mask, 8, 1) < 0 && errno == EINVAL, "flags 1: %s",
          ename(errno));
    CHECK(syscall(SYS_signalfd4, -1, &mask, 4, 0) < 0 && errno == EINVAL, "sizemask 4: %s",
          ename(errno));
    /* 4.14: EINVAL (copy_from_user failing counts as a bad mask); newer
     * kernels say EFAULT (tests/test_sys_events.py names the change). */
    errno = 0;
    printf("  signalfd4 with a bad mask pointer: %s\n", FAILS(syscall(SYS_signalfd4, -1, BADPTR, 8, 0)));
    CHECK(syscall(SYS_signalfd4, 99, &mask, 8, 0) < 0 && errno == EBADF, "fd 99: %s",
          ename(errno));
    int efd = eventfd(0, 0);
    CHECK(syscall(SYS_signalfd4, efd, &mask, 8, 0) < 0 && errno == EINVAL,
          "updating an eventfd: %s", ename(errno));
    close(efd);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK(sfd >= 0 && fcntl(sfd, F_GETFD) == FD_CLOEXEC, "SFD_CLOEXEC|SFD_NONBLOCK");
    char small[64];
    CHECK(read(sfd, small, sizeof small) < 0 && errno == EINVAL, "read of 64 bytes: %s",
          ename(errno));
    CHECK(read(sfd, &si, sizeof si) < 0 && errno == EAGAIN, "nothing pending: %s",
          ename(errno));
    CHECK(poll_mask(sfd, POLLIN) == 0, "poll: nothing");
    kill(getpid(), SIGUSR1);
    CHECK(poll_mask(sfd, POLLIN) == POLLIN, "SIGUSR1 pending: POLLIN");
    CHECK(read(sfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_signo == SIGUSR1 &&
          si.ssi_code == SI_USER && si.ssi_pid == (uint32_t)getpid() &&
          si.ssi_uid == (uint32_t)getuid(), "read: SIGUSR1, SI_USER, our pid and uid");
    sigpending(&pend);
    CHECK(!sigismember(&pend, SIGUSR1), "read took it: no longer pending");
    union sigval val = {.sival_int = 1234};
    sigqueue(getpid(), SIGRTMIN, val);
    sigqueue(getpid(), SIGRTMIN, val);
    raise(SIGUSR2);
    struct signalfd_siginfo many[4];
    ssize_t got = read(sfd, many, sizeof many);
    CHECK(got == 3 * (ssize_t)sizeof si && many[0].ssi_signo == SIGUSR2 &&
          many[0].ssi_code == SI_TKILL && many[1].ssi_signo == (uint32_t)SIGRTMIN &&
          many[1].ssi_code == SI_QUEUE && many[1].ssi_int == 1234 &&
          many[2].ssi_signo == (uint32_t)SIGRTMIN,
          "one read, three signals: SIGUSR2 (SI_TKILL) first, then both queued SIGRTMIN "
          "with sival 1234");
    /* A new mask: SIGUSR2 only. */
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    CHECK(signalfd(sfd, &only2, 0) == sfd, "signalfd(fd, new mask) returns fd");
    kill(getpid(), SIGUSR1);
    CHECK(read(sfd, &si, sizeof si) < 0 && errno == EAGAIN,
          "SIGUSR1 is no longer read (the file is still non-blocking): %s", ename(errno));
    sigpending(&pend);
    CHECK(sigismember(&pend, SIGUSR1), "and stays pending");
    signal(SIGUSR1, SIG_IGN);       /* discard it */
    signal(SIGUSR1, SIG_DFL);
    close(sfd);

    /* A blocking read woken by another process's signal; also via epoll. */
    sfd = signalfd(-1, &mask, 0);
    int ep = epoll_create1(0);
    ep_add(ep, sfd, EPOLLIN, 50);
    pid_t parent = getpid();
    pid_t pid = xfork();
    if (pid == 0) {
        msleep(50);
        kill(parent, SIGUSR2);
        _exit(0);
    }
    struct epoll_event out;
    CHECK(epoll_wait(ep, &out, 1, -1) == 1 && out.data.u64 == 50,
          "epoll on a signalfd wakes for the child's signal");
    CHECK(read(sfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_signo == SIGUSR2 &&
          si.ssi_pid == (uint32_t)pid, "it is SIGUSR2 from the child's pid");
    waitpid(pid, &status, 0);
    pid = xfork();
    if (pid == 0) {
        msleep(50);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    CHECK(read(sfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_signo == SIGUSR1,
          "a blocking read sleeps until the child's SIGUSR1");
    waitpid(pid, &status, 0);
    /* A child reading the inherited signalfd gets its own signals. */
    pid = xfork();
    if (pid == 0) {
        struct signalfd_siginfo mine;
        if (read(sfd, &mine, sizeof mine) != (ssize_t)sizeof mine)
            _exit(100);
        _exit((int)mine.ssi_signo);
    }
    msleep(50);
    kill(pid, SIGUSR2);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == SIGUSR2,
          "a child blocked reading the inherited signalfd wakes for its SIGUSR2");
    close(ep);
    close(sfd);
    sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

static void check_poll_all_kinds(void)
{
    int sv[2], p[2];
    sigset_t mask;

    printf("poll, ppoll, pselect6 on every kind\n");
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int efd = eventfd(0, 0);
    int sfd = signalfd(-1, &mask, 0);
    int ep = epoll_create1(0);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    ep_add(ep, p[0], EPOLLIN, 0);
    struct pollfd pf[6] = {
        {efd, POLLIN, 0}, {sfd, POLLIN, 0}, {ep, POLLIN, 0}, {sv[0], POLLIN, 0},
        {p[0], POLLIN, 0}, {-1, POLLIN, 0},
    };
    struct timespec zero = {0, 0};
    CHECK(ppoll(pf, 6, &zero, NULL) == 0, "nothing ready anywhere");
    CHECK(poll_mask(sv[0], POLLOUT) == POLLOUT && poll_mask(efd, POLLOUT) == POLLOUT,
          "a socket and an eventfd are writable");
    ev_write(efd, 1);
    kill(getpid(), SIGUSR1);
    write(sv[1], "s", 1);
    write(p[1], "p", 1);
    int n = ppoll(pf, 6, &zero, NULL);
    CHECK(n == 5 && pf[0].revents == POLLIN && pf[1].revents == POLLIN &&
          pf[2].revents == POLLIN && pf[3].revents == POLLIN && pf[4].revents == POLLIN &&
          pf[5].revents == 0, "all five ready, fd -1 ignored (n=%d)", n);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(efd, &r);
    FD_SET(sfd, &r);
    FD_SET(ep, &r);
    FD_SET(sv[0], &r);
    int maxfd = efd > sfd ? efd : sfd;
    maxfd = maxfd > ep ? maxfd : ep;
    maxfd = maxfd > sv[0] ? maxfd : sv[0];
    CHECK(pselect(maxfd + 1, &r, NULL, NULL, &zero, NULL) == 4, "pselect6 counts the four");
    close(sv[1]);
    CHECK(poll_mask(sv[0], POLLIN | POLLRDHUP) == (POLLIN | POLLRDHUP | POLLHUP),
          "the peer closed: POLLIN|POLLRDHUP|POLLHUP (data still there)");
    /* A sleeping ppoll woken by another process's eventfd write. */
    uint64_t v;
    ev_read(efd, &v);
    pid_t pid = xfork();
    if (pid == 0) {
        msleep(50);
        ev_write(efd, 1);
        _exit(0);
    }
    struct pollfd one = {efd, POLLIN, 0};
    CHECK(poll(&one, 1, -1) == 1 && one.revents == POLLIN,
          "poll sleeps until the child's eventfd write");
    int status;
    waitpid(pid, &status, 0);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(ep);
    close(sfd);
    close(efd);
    struct signalfd_siginfo si;
    (void)si;
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR1, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

/* The events in buf[0:n]: "MASK:name" joined by spaces. */
static const char *inotify_events(const char *buf, ssize_t n)
{
    static char out[256];
    out[0] = 0;
    for (ssize_t off = 0; off < n;) {
        const struct inotify_event *e = (const void *)(buf + off);
        const char *what = e->mask & IN_CREATE ? "CREATE" : e->mask & IN_DELETE ? "DELETE" :
            e->mask & IN_CLOSE_WRITE ? "CLOSE_WRITE" : e->mask & IN_IGNORED ? "IGNORED" :
            e->mask & IN_MODIFY ? "MODIFY" : "other";
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s:%s", out[0] ? " " : "",
                 what, e->len ? e->name : "");
        off += (ssize_t)sizeof *e + e->len;
    }
    return out;
}

static void check_inotify(void)
{
    char buf[1024] __attribute__((aligned(8)));
    int status;

    printf("inotify\n");
    CHECK(inotify_init1(1) < 0 && errno == EINVAL, "inotify_init1(1): %s", ename(errno));
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    CHECK(in >= 0 && fcntl(in, F_GETFD) == FD_CLOEXEC && (fcntl(in, F_GETFL) & O_NONBLOCK),
          "IN_NONBLOCK|IN_CLOEXEC");
    mkdir("inotify.d", 0755);
    CHECK(inotify_add_watch(99, "inotify.d", 0) < 0 && errno == EINVAL,
          "mask 0 is EINVAL before the fd is looked at: %s", ename(errno));
    CHECK(inotify_add_watch(99, "inotify.d", IN_CREATE) < 0 && errno == EBADF, "fd 99: %s",
          ename(errno));
    int efd = eventfd(0, 0);
    CHECK(inotify_add_watch(efd, "inotify.d", IN_CREATE) < 0 && errno == EINVAL,
          "an eventfd: %s", ename(errno));
    close(efd);
    CHECK(inotify_add_watch(in, "no-such-dir", IN_CREATE) < 0 && errno == ENOENT,
          "a missing path: %s", ename(errno));
    CHECK(inotify_add_watch(in, BADPTR, IN_CREATE) < 0 && errno == EFAULT, "a bad path: %s",
          ename(errno));
    int wd = inotify_add_watch(in, "inotify.d", IN_CREATE | IN_DELETE | IN_CLOSE_WRITE);
    CHECK(wd == 1, "the first watch is 1");
    CHECK(inotify_add_watch(in, "inotify.d", IN_CREATE | IN_DELETE | IN_CLOSE_WRITE) == wd,
          "watching it again gives the same watch");
    CHECK(read(in, buf, sizeof buf) < 0 && errno == EAGAIN, "nothing yet: %s", ename(errno));
    int f = open("inotify.d/f", O_CREAT | O_WRONLY, 0644);
    write(f, "x", 1);
    close(f);
    unlink("inotify.d/f");
    int avail = 0;
    CHECK(ioctl(in, FIONREAD, &avail) == 0 && avail == 3 * (int)(sizeof(struct inotify_event) + 16),
          "FIONREAD: three events with 16-byte names (%d bytes)", avail);
    CHECK(read(in, buf, sizeof(struct inotify_event)) < 0 && errno == EINVAL,
          "a buffer too small for the next event: %s", ename(errno));
    ssize_t n = read(in, buf, sizeof buf);
    CHECK(n > 0 && strcmp(inotify_events(buf, n), "CREATE:f CLOSE_WRITE:f DELETE:f") == 0,
          "events: %s", n > 0 ? inotify_events(buf, n) : ename(errno));
    CHECK(inotify_rm_watch(in, 7) < 0 && errno == EINVAL, "rm_watch of watch 7: %s",
          ename(errno));
    CHECK(inotify_rm_watch(in, wd) == 0, "rm_watch");
    n = read(in, buf, sizeof buf);
    CHECK(n > 0 && strcmp(inotify_events(buf, n), "IGNORED:") == 0, "then IN_IGNORED: %s",
          n > 0 ? inotify_events(buf, n) : ename(errno));
    close(in);

    /* Sleeping: a blocking read and epoll, woken by a child's file creation. */
    in = inotify_init1(0);
    inotify_add_watch(in, "inotify.d", IN_CREATE);
    int ep = epoll_create1(0);
    ep_add(ep, in, EPOLLIN, 60);
    pid_t pid = xfork();
    if (pid == 0) {
        msleep(50);
        close(open("inotify.d/g", O_CREAT | O_WRONLY, 0644));
        _exit(0);
    }
    struct epoll_event out;
    CHECK(epoll_wait(ep, &out, 1, -1) == 1 && out.data.u64 == 60,
          "epoll wakes for the child's creation");
    n = read(in, buf, sizeof buf);
    CHECK(n > 0 && strcmp(inotify_events(buf, n), "CREATE:g") == 0, "CREATE:g");
    waitpid(pid, &status, 0);
    pid = xfork();
    if (pid == 0) {
        msleep(50);
        close(open("inotify.d/h", O_CREAT | O_WRONLY, 0644));
        _exit(0);
    }
    n = read(in, buf, sizeof buf);
    CHECK(n > 0 && strcmp(inotify_events(buf, n), "CREATE:h") == 0,
          "a blocking read sleeps until the child creates h");
    waitpid(pid, &status, 0);
    close(ep);
    close(in);
    unlink("inotify.d/g");
    unlink("inotify.d/h");
    rmdir("inotify.d");
}

int main(void)
{
    proc_init();
    check_eventfd();
    check_epoll_errors();
    check_epoll_triggers();
    check_epoll_blocking();
    check_signalfd();
    check_poll_all_kinds();
    check_inotify();
    return proc_finish("sys_events");
}
