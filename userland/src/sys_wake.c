/*
 * sys_wake.c - who is woken (issue 9): EPOLLEXCLUSIVE wakes one of the
 * epoll_wait()s watching a file that way, not all of them.
 *
 * Three threads each sleep in epoll_wait() on an epoll of their own, all
 * watching one eventfd; the main thread writes it once.  With EPOLLIN
 * alone every thread wakes at once; with EPOLLIN|EPOLLEXCLUSIVE one does,
 * the others sleep on to their timeout.  (What those timeouts return is
 * not compared: 4.14 answers 0, the item never reached their ready lists;
 * a53emu polls the level again and answers 1.)  Self-checking; built for
 * the host too.
 */
#include "proc.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#ifndef EPOLLEXCLUSIVE
#define EPOLLEXCLUSIVE (1u << 28)
#endif

#define WAITERS 3
#define WAIT_MS 1500

static int efd;
static volatile int waiting, got[WAITERS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct waiter { int ep, index; };

static void *waiter(void *arg)
{
    struct waiter *w = arg;
    struct epoll_event ev;
    int n;

    pthread_mutex_lock(&lock);
    waiting++;
    pthread_mutex_unlock(&lock);
    double t0 = now_mono();

    n = epoll_wait(w->ep, &ev, 1, WAIT_MS);
    /* Woken by the write, not by the timeout. */
    got[w->index] = n == 1 && now_mono() - t0 < WAIT_MS / 2000.0;
    return NULL;
}

static int round_woken(unsigned events)
{
    pthread_t t[WAITERS];
    struct waiter w[WAITERS];
    struct epoll_event ev = {0};
    uint64_t one = 1;
    int i, woken = 0;

    waiting = 0;
    for (i = 0; i < WAITERS; i++) {
        w[i].ep = epoll_create1(EPOLL_CLOEXEC);
        w[i].index = i;
        ev.events = events;
        ev.data.u32 = (uint32_t)i;
        if (w[i].ep < 0 || epoll_ctl(w[i].ep, EPOLL_CTL_ADD, efd, &ev) < 0)
            printf("FAILED: epoll set-up: %s\n", errno_name(errno));
        got[i] = -1;
    }
    for (i = 0; i < WAITERS; i++)
        pthread_create(&t[i], NULL, waiter, &w[i]);
    while (waiting < WAITERS)
        msleep(1);
    msleep(300);            /* every thread is asleep in epoll_wait() */
    if (write(efd, &one, sizeof one) != sizeof one)
        printf("FAILED: eventfd write\n");
    for (i = 0; i < WAITERS; i++) {
        pthread_join(t[i], NULL);
        if (i == 0 && read(efd, &one, sizeof one) != sizeof one)
            printf("FAILED: eventfd read\n");
        woken += got[i];
        close(w[i].ep);
    }
    return woken;
}

int main(void)
{
    int woken;
    struct epoll_event ev = {EPOLLIN | EPOLLEXCLUSIVE, {0}};
    int ep;

    proc_init();
    efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(efd >= 0, "an eventfd");
    woken = round_woken(EPOLLIN);
    CHECK(woken == WAITERS, "EPOLLIN: one write wakes every epoll_wait(): %d of %d", woken, WAITERS);
    woken = round_woken(EPOLLIN | EPOLLEXCLUSIVE);
    CHECK(woken == 1, "EPOLLIN|EPOLLEXCLUSIVE: one write wakes one: %d of %d", woken, WAITERS);
    ep = epoll_create1(0);
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0, "EPOLL_CTL_ADD with EPOLLEXCLUSIVE: 0");
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev) < 0 && errno == EINVAL,
          "EPOLL_CTL_MOD of an exclusive item: %s", errno_name(errno));
    close(ep);
    close(efd);
    printf("%s\n", check_failures ? "some checks FAILED" : "all checks passed");
    return check_failures ? 1 : 0;
}
