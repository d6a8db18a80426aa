/*
 * sys_epollexcl.c - EPOLLEXCLUSIVE on pipes and sockets (issue 9): one
 * write to the watched file wakes one of the epoll_wait()s watching it
 * exclusively, every one of those watching it without the flag.
 *
 * WAITERS threads (or processes) each sleep in epoll_wait() on an epoll of
 * their own, all watching one pipe's read end (or one end of an AF_UNIX
 * stream or datagram socketpair); the main thread writes once.  A waiter
 * counts as woken if epoll_wait() returned 1 well before its timeout.
 * With EPOLLIN every waiter wakes; with EPOLLIN|EPOLLEXCLUSIVE (and with
 * EPOLLET too) one does; two writes a while apart wake two.  (What the
 * others' timeouts return is not compared.)  Self-checking; built for the
 * host too.
 */
#include "proc.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#ifndef EPOLLEXCLUSIVE
#define EPOLLEXCLUSIVE (1u << 28)
#endif

#define WAITERS 3
#define WAIT_MS 1500

struct shared {
    int waiting;
    int got[WAITERS];
};
static struct shared *sh;       /* MAP_SHARED: seen by threads and processes */

struct waiter { int ep, index; };

static void wait_once(struct waiter *w)
{
    struct epoll_event ev;
    double t0;
    int n;

    __atomic_add_fetch(&sh->waiting, 1, __ATOMIC_SEQ_CST);
    t0 = now_mono();
    n = epoll_wait(w->ep, &ev, 1, WAIT_MS);
    /* Woken by a write (the last comes ~700 ms in), not by the timeout. */
    sh->got[w->index] = n == 1 && now_mono() - t0 < (WAIT_MS - 300) / 1000.0;
}

static void *waiter_thread(void *arg)
{
    wait_once(arg);
    return NULL;
}

/* One round: returns how many waiters a write (two writes if `writes` is
 * 2, 400 ms apart) woke. */
static int round_woken(int rfd, int wfd, unsigned events, int processes, int writes)
{
    pthread_t t[WAITERS];
    pid_t pid[WAITERS];
    struct waiter w[WAITERS];
    struct epoll_event ev = {0};
    char buf[64];
    int i, woken = 0;

    sh->waiting = 0;
    for (i = 0; i < WAITERS; i++) {
        w[i].ep = epoll_create1(EPOLL_CLOEXEC);
        w[i].index = i;
        ev.events = events;
        ev.data.u32 = (uint32_t)i;
        if (w[i].ep < 0 || epoll_ctl(w[i].ep, EPOLL_CTL_ADD, rfd, &ev) < 0)
            printf("FAILED: epoll set-up: %s\n", errno_name(errno));
        sh->got[i] = -1;
    }
    for (i = 0; i < WAITERS; i++) {
        if (processes) {
            pid[i] = xfork();
            if (pid[i] == 0) {
                wait_once(&w[i]);
                _exit(0);
            }
        } else {
            pthread_create(&t[i], NULL, waiter_thread, &w[i]);
        }
    }
    while (__atomic_load_n(&sh->waiting, __ATOMIC_SEQ_CST) < WAITERS)
        msleep(1);
    msleep(300);            /* every waiter is asleep in epoll_wait() */
    for (i = 0; i < writes; i++) {
        if (write(wfd, "x", 1) != 1)
            printf("FAILED: write\n");
        if (i + 1 < writes) {
            msleep(400);
            if (read(rfd, buf, sizeof buf) != 1)    /* as the woken one would */
                printf("FAILED: read\n");
        }
    }
    for (i = 0; i < WAITERS; i++) {
        if (processes)
            wait_for(pid[i]);
        else
            pthread_join(t[i], NULL);
        woken += sh->got[i] == 1;
        close(w[i].ep);
    }
    if (read(rfd, buf, sizeof buf) != 1)
        printf("FAILED: read the last write\n");
    return woken;
}

static void file_kind(const char *what, int rfd, int wfd)
{
    int n;

    n = round_woken(rfd, wfd, EPOLLIN, 0, 1);
    CHECK(n == WAITERS, "%s: EPOLLIN: one write wakes every epoll_wait(): %d of %d", what, n,
          WAITERS);
    n = round_woken(rfd, wfd, EPOLLIN | EPOLLEXCLUSIVE, 0, 1);
    CHECK(n == 1, "%s: EPOLLIN|EPOLLEXCLUSIVE: one write wakes one: %d of %d", what, n, WAITERS);
}

int main(void)
{
    int p[2], s[2], d[2], n;

    proc_init();
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED, "shared memory");
    CHECK(pipe2(p, O_NONBLOCK) == 0, "a pipe");
    file_kind("pipe", p[0], p[1]);
    n = round_woken(p[0], p[1], EPOLLIN | EPOLLET | EPOLLEXCLUSIVE, 0, 1);
    CHECK(n == 1, "pipe: EPOLLIN|EPOLLET|EPOLLEXCLUSIVE: one write wakes one: %d", n);
    n = round_woken(p[0], p[1], EPOLLIN | EPOLLEXCLUSIVE, 0, 2);
    CHECK(n == 2, "pipe: EPOLLEXCLUSIVE: two writes apart wake two: %d", n);
    n = round_woken(p[0], p[1], EPOLLIN | EPOLLEXCLUSIVE, 1, 1);
    CHECK(n == 1, "pipe: EPOLLEXCLUSIVE in %d processes: one write wakes one: %d", WAITERS, n);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s) == 0, "a stream socketpair");
    file_kind("stream socket", s[0], s[1]);
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, d) == 0, "a datagram socketpair");
    file_kind("datagram socket", d[0], d[1]);
    return proc_finish("sys_epollexcl");
}
