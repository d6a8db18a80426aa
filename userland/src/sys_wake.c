/*
 * sys_wake.c - who is woken (issue 9): EPOLLEXCLUSIVE wakes one of the
 * epoll_wait()s watching a file that way, not all of them.
 *
 * Three threads each sleep in epoll_wait() on an epoll of their own, all
 * watching one eventfd; the main thread writes it once.  With EPOLLIN
 * alone every thread wakes at once; with EPOLLIN|EPOLLEXCLUSIVE one does,
 * the others sleep on to their timeout.  (What those timeouts return is
 * not compared: 4.14 answers 0, the item never reached their ready lists;
 * a53emu polls the level again and answers 1.)
 *
 * mq_notify(SIGEV_THREAD): through the C library (a helper thread on a
 * netlink socket starts the function when a message arrives in the empty
 * queue), and the kernel's side of it by hand — the 32-byte cookie comes
 * back on the netlink socket, its last byte 1 (NOTIFY_WOKENUP) or 2
 * (NOTIFY_REMOVED) — with the errors of a bad socket.  Self-checking;
 * built for the host too.
 */
#include "proc.h"

#include <mqueue.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#ifndef EPOLLEXCLUSIVE
#define EPOLLEXCLUSIVE (1u << 28)
#endif

#define WAITERS 3
#define WAIT_MS 3000

static int efd;
static volatile int waiting, got[WAITERS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* errno_name() (common.h) and the few it does not know. */
static const char *ename(int e)
{
    switch (e) {
    case EBUSY: return "EBUSY";
    case ENOTSOCK: return "ENOTSOCK";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    default: return errno_name(e);
    }
}

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
    /* Woken by the write, not by the timeout (which returns at WAIT_MS:
     * anything well before it was the write, however loaded the machine). */
    got[w->index] = n == 1 && now_mono() - t0 < WAIT_MS * 0.9 / 1000.0;
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
            printf("FAILED: epoll set-up: %s\n", ename(errno));
        got[i] = -1;
    }
    for (i = 0; i < WAITERS; i++)
        pthread_create(&t[i], NULL, waiter, &w[i]);
    while (waiting < WAITERS)
        msleep(1);
    msleep(300);            /* every thread is asleep in epoll_wait() */
    if (write(efd, &one, sizeof one) != sizeof one)
        printf("FAILED: eventfd write\n");
    /* The counter is read back only once every waiter has returned: read
     * earlier, it would race the waiters still on their way out of
     * epoll_wait(), which re-poll the eventfd before reporting it (4.14's
     * ep_send_events()) and would find it empty. */
    for (i = 0; i < WAITERS; i++) {
        pthread_join(t[i], NULL);
        woken += got[i];
        close(w[i].ep);
    }
    if (read(efd, &one, sizeof one) != sizeof one)
        printf("FAILED: eventfd read\n");
    return woken;
}

/* One name per process: the host's queues are shared by every run. */
static char qname[64];
#define QNAME qname
#define COOKIE_LEN 32

static volatile int notified;

static void notify_fn(union sigval v)
{
    notified = v.sival_int;
}

static mqd_t new_queue(void)
{
    struct mq_attr attr = {0, 4, 16, 0};

    mq_unlink(QNAME);
    return mq_open(QNAME, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
}

static void mq_thread_libc(void)
{
    mqd_t q = new_queue();
    struct sigevent sev;
    char buf[16];
    int i;

    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_notify_function = notify_fn;
    sev.sigev_value.sival_int = 42;
    CHECK(q != (mqd_t)-1, "a queue");
    i = mq_notify(q, &sev);
    CHECK(i == 0, "libc mq_notify(SIGEV_THREAD): %s", i ? ename(errno) : "0");
    CHECK(mq_send(q, "m", 1, 0) == 0, "a message arrives in the empty queue");
    for (i = 0; i < 300 && !notified; i++)
        msleep(10);
    CHECK(notified == 42, "the function ran with its sigev_value: %d", notified);
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1, "receive it");
    mq_close(q);
    mq_unlink(QNAME);
}

static int nl_socket(void)
{
    return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

static long notify_raw(mqd_t q, int sockfd, void *cookie)
{
    struct sigevent sev;

    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_signo = sockfd;
    sev.sigev_value.sival_ptr = cookie;
    return syscall(SYS_mq_notify, q, &sev);
}

static void mq_thread_kernel(void)
{
    mqd_t q = new_queue();
    int nl = nl_socket(), us = socket(AF_UNIX, SOCK_DGRAM, 0), p[2];
    unsigned char cookie[COOKIE_LEN], got[64];
    struct sockaddr_nl sa;
    socklen_t len = sizeof sa;
    ssize_t n;

    memset(cookie, 0, sizeof cookie);
    memcpy(cookie, "a53emu cookie", 13);
    CHECK(q != (mqd_t)-1 && nl >= 0 && us >= 0 && pipe(p) == 0, "a queue, a netlink socket");
    CHECK(notify_raw(q, -1, cookie) < 0 && errno == EBADF, "sigev_signo -1: %s", ename(errno));
    CHECK(notify_raw(q, p[0], cookie) < 0 && errno == ENOTSOCK, "a pipe: %s", ename(errno));
    CHECK(notify_raw(q, us, cookie) < 0 && errno == EINVAL, "an AF_UNIX socket: %s", ename(errno));
    CHECK(notify_raw(q, nl, NULL) < 0 && errno == EFAULT, "a NULL cookie: %s", ename(errno));
    CHECK(notify_raw(q, nl, cookie) == 0, "the netlink socket: 0");
    CHECK(notify_raw(q, nl, cookie) < 0 && errno == EBUSY, "again: %s", ename(errno));
    CHECK(recv(nl, got, sizeof got, MSG_DONTWAIT) < 0 && errno == EAGAIN, "nothing queued yet");
    CHECK(mq_send(q, "m", 1, 0) == 0, "a message arrives");
    n = recvfrom(nl, got, sizeof got, MSG_DONTWAIT, (struct sockaddr *)&sa, &len);
    CHECK(n == COOKIE_LEN && memcmp(got, cookie, COOKIE_LEN - 1) == 0 && got[COOKIE_LEN - 1] == 1,
          "the cookie comes back, last byte NOTIFY_WOKENUP: %zd bytes, %d", n,
          n == COOKIE_LEN ? got[COOKIE_LEN - 1] : -1);
    CHECK(len == sizeof sa && sa.nl_family == AF_NETLINK && sa.nl_pid == 0,
          "from the kernel (nl_pid 0)");
    CHECK(notify_raw(q, nl, cookie) == 0, "register again (the first was used up)");
    CHECK(syscall(SYS_mq_notify, q, NULL) == 0, "unregister");
    n = recv(nl, got, sizeof got, MSG_DONTWAIT);
    CHECK(n == COOKIE_LEN && got[COOKIE_LEN - 1] == 2, "the cookie, last byte NOTIFY_REMOVED: %d",
          n == COOKIE_LEN ? got[COOKIE_LEN - 1] : -1);
    CHECK(socket(AF_NETLINK, SOCK_STREAM, 0) < 0 && errno == ESOCKTNOSUPPORT,
          "netlink SOCK_STREAM: %s", ename(errno));
    close(nl);
    close(us);
    close(p[0]);
    close(p[1]);
    mq_close(q);
    mq_unlink(QNAME);
}

int main(void)
{
    int woken;
    struct epoll_event ev = {EPOLLIN | EPOLLEXCLUSIVE, {0}};
    int ep;

    proc_init();
    snprintf(qname, sizeof qname, "/a53emu-sys_wake-%d", (int)getpid());
    efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(efd >= 0, "an eventfd");
    woken = round_woken(EPOLLIN);
    CHECK(woken == WAITERS, "EPOLLIN: one write wakes every epoll_wait(): %d of %d", woken, WAITERS);
    woken = round_woken(EPOLLIN | EPOLLEXCLUSIVE);
    CHECK(woken == 1, "EPOLLIN|EPOLLEXCLUSIVE: one write wakes one: %d of %d", woken, WAITERS);
    ep = epoll_create1(0);
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0, "EPOLL_CTL_ADD with EPOLLEXCLUSIVE: 0");
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev) < 0 && errno == EINVAL,
          "EPOLL_CTL_MOD of an exclusive item: %s", ename(errno));
    close(ep);
    close(efd);
    mq_thread_libc();
    mq_thread_kernel();
    printf("%s\n", check_failures ? "some checks FAILED" : "all checks passed");
    return check_failures ? 1 : 0;
}
