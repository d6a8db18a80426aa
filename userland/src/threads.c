/*
 * threads.c - pthreads on clone(CLONE_VM|CLONE_THREAD|...): the libc's
 * mutexes, condition variables, barriers, semaphores and atomics all sit on
 * futexes; TLS (__thread) on CLONE_SETTLS (TPIDR_EL0); pthread_join on
 * CLONE_CHILD_CLEARTID (the kernel zeroes the tid word and futex-wakes it).
 *
 * Checks: 8 threads x N increments under a mutex and with atomics; TLS
 * initialised per thread and private; join return values and
 * pthread_exit(); a detached thread; a producer/consumer queue on two
 * condition variables and a broadcast; 8 threads alive at once on 2 cores
 * (a barrier they all must reach, 50 rounds); distinct tids; and in forked
 * children: one thread's exit (SYS_exit) leaves the others running, any
 * thread's exit_group() ends them all with its code, and a main thread that
 * pthread_exit()s leaves the process alive until the last thread exits.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <pthread.h>
#include <semaphore.h>

#define NTHREADS 8
#define NINC 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long atomic_counter;
static __thread int tls_var = 7;
static __thread char tls_buf[64] = "initial";

struct targ {
    int id;
    int tls_ok;
    pid_t tid;
};

static void *incrementer(void *arg)
{
    struct targ *a = arg;

    a->tls_ok = tls_var == 7 && strcmp(tls_buf, "initial") == 0;
    tls_var = a->id * 10;
    snprintf(tls_buf, sizeof tls_buf, "thread %d", a->id);
    a->tid = sys_gettid();
    for (int i = 0; i < NINC; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        __atomic_fetch_add(&atomic_counter, 1, __ATOMIC_RELAXED);
        if ((i & 1023) == 0)
            sched_yield();
    }
    char want[64];
    snprintf(want, sizeof want, "thread %d", a->id);
    a->tls_ok &= tls_var == a->id * 10 && strcmp(tls_buf, want) == 0;
    return (void *)(long)(a->id * 3);
}

static void check_counters(void)
{
    pthread_t t[NTHREADS];
    struct targ a[NTHREADS];
    int joined_ok = 1, tls_ok = 1, distinct = 1;

    printf("%d threads, %d increments each:\n", NTHREADS, NINC);
    for (int i = 0; i < NTHREADS; i++) {
        a[i].id = i + 1;
        a[i].tls_ok = 0;
        a[i].tid = 0;
        if (pthread_create(&t[i], NULL, incrementer, &a[i]) != 0) {
            printf("FAILED: pthread_create\n");
            exit(1);
        }
    }
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        joined_ok &= (long)ret == (long)(a[i].id * 3);
        tls_ok &= a[i].tls_ok;
    }
    for (int i = 0; i < NTHREADS; i++)
        for (int j = 0; j < i; j++)
            distinct &= a[i].tid != a[j].tid && a[i].tid != getpid();
    CHECK(counter == NTHREADS * NINC, "mutex-protected counter: %ld", counter);
    CHECK(atomic_counter == NTHREADS * NINC, "atomic counter: %ld", atomic_counter);
    CHECK(joined_ok, "pthread_join returns each thread's value: %s", YESNO(joined_ok));
    CHECK(tls_ok, "__thread variables start at their initialisers and stay private: %s",
          YESNO(tls_ok));
    CHECK(tls_var == 7 && strcmp(tls_buf, "initial") == 0,
          "main thread's __thread variables untouched: %s",
          YESNO(tls_var == 7 && strcmp(tls_buf, "initial") == 0));
    CHECK(distinct, "%d distinct tids, none equal to the pid: %s", NTHREADS, YESNO(distinct));
}

/* A bounded queue on two condition variables: 2 producers, 2 consumers. */
#define QCAP 4
#define ITEMS 2000
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static int queue[QCAP], qhead, qlen;
static long consumed_sum, consumed_count;

static void *producer(void *arg)
{
    int base = (int)(long)arg;

    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&qlock);
        while (qlen == QCAP)
            pthread_cond_wait(&not_full, &qlock);
        queue[(qhead + qlen++) % QCAP] = base + i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&qlock);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (qlen == 0)
            pthread_cond_wait(&not_empty, &qlock);
        int v = queue[qhead];
        qhead = (qhead + 1) % QCAP;
        qlen--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&qlock);
        if (v < 0)
            return NULL;
        __atomic_fetch_add(&consumed_sum, v, __ATOMIC_RELAXED);
        __atomic_fetch_add(&consumed_count, 1, __ATOMIC_RELAXED);
    }
}

static void check_condvar_queue(void)
{
    pthread_t p[2], c[2];

    printf("condition variables:\n");
    for (int i = 0; i < 2; i++) {
        pthread_create(&c[i], NULL, consumer, NULL);
        pthread_create(&p[i], NULL, producer, (void *)(long)(i * 100000));
    }
    for (int i = 0; i < 2; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < 2; i++) {           /* one poison pill per consumer */
        pthread_mutex_lock(&qlock);
        while (qlen == QCAP)
            pthread_cond_wait(&not_full, &qlock);
        queue[(qhead + qlen++) % QCAP] = -1;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&qlock);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(c[i], NULL);
    long want = 2L * ITEMS * (ITEMS + 1) / 2 + 100000L * ITEMS;
    CHECK(consumed_count == 2 * ITEMS && consumed_sum == want,
          "bounded queue (capacity %d): %ld items consumed, sum correct: %s", QCAP,
          consumed_count, YESNO(consumed_sum == want));
}

static pthread_mutex_t block = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int go, ready, woke;

static void *broadcast_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&block);
    ready++;
    pthread_cond_signal(&ready_cond);
    while (!go)
        pthread_cond_wait(&go_cond, &block);
    woke++;
    pthread_mutex_unlock(&block);
    return NULL;
}

static void check_broadcast(void)
{
    pthread_t t[4];

    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, broadcast_waiter, NULL);
    pthread_mutex_lock(&block);
    while (ready < 4)
        pthread_cond_wait(&ready_cond, &block);
    go = 1;
    pthread_cond_broadcast(&go_cond);
    pthread_mutex_unlock(&block);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(woke == 4, "pthread_cond_broadcast wakes all %d waiters: %d", 4, woke);

    /* pthread_cond_timedwait with nobody signalling times out */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&block);
    int r = pthread_cond_timedwait(&go_cond, &block, &ts);
    pthread_mutex_unlock(&block);
    CHECK(r == ETIMEDOUT, "pthread_cond_timedwait with no signal: %s", errno_name(r));
}

/* All 8 threads must be alive at once to pass each barrier round. */
static pthread_barrier_t barrier;
static int serial_count;

static void *barrier_thread(void *arg)
{
    (void)arg;
    for (int round = 0; round < 50; round++) {
        int r = pthread_barrier_wait(&barrier);
        if (r == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_fetch_add(&serial_count, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void check_barrier(void)
{
    pthread_t t[NTHREADS];

    pthread_barrier_init(&barrier, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, barrier_thread, NULL);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(serial_count == 50, "%d threads through a barrier 50 times, one serial thread "
          "per round: %d", NTHREADS, serial_count);
    pthread_barrier_destroy(&barrier);
}

static sem_t detached_done;
static int detached_ran;

static void *detached(void *arg)
{
    (void)arg;
    detached_ran = 1;
    sem_post(&detached_done);
    return NULL;
}

static void *exits_early(void *arg)
{
    (void)arg;
    pthread_exit((void *)42L);
    return NULL;
}

static void check_detach_and_exit(void)
{
    pthread_t t;
    pthread_attr_t attr;
    void *ret;

    printf("detach, pthread_exit:\n");
    sem_init(&detached_done, 0, 0);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&t, &attr, detached, NULL);
    pthread_attr_destroy(&attr);
    sem_wait(&detached_done);
    CHECK(detached_ran, "detached thread ran and posted a semaphore: %s", YESNO(detached_ran));
    pthread_create(&t, NULL, exits_early, NULL);
    pthread_join(t, &ret);
    CHECK((long)ret == 42, "pthread_exit(42) value seen by join: %ld", (long)ret);
}

/* --- exit of one thread versus exit_group, in forked children --- */

static int report_fd;

static void *raw_exit_thread(void *arg)
{
    (void)arg;
    syscall(SYS_exit, 0);           /* this thread only */
    return NULL;
}

static void *exit_group_thread(void *arg)
{
    (void)arg;
    msleep(10);
    exit(3);                        /* exit_group: the whole process */
}

static void *last_thread(void *arg)
{
    (void)arg;
    msleep(20);
    write_full(report_fd, "alive", 5);
    exit(5);
}

static void check_exit_kinds(void)
{
    int fds[2];
    pthread_t t;
    char buf[8] = {0};
    pid_t child;
    int st;

    printf("thread exit versus exit_group:\n");
    child = xfork();
    if (child == 0) {
        pthread_create(&t, NULL, raw_exit_thread, NULL);
        msleep(20);                 /* the thread is gone; we are not */
        _exit(9);
    }
    st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9,
          "one thread's SYS_exit leaves the process running: %s", status_str(st));

    child = xfork();
    if (child == 0) {
        pthread_create(&t, NULL, exit_group_thread, NULL);
        for (;;)
            pause();                /* killed by the other thread's exit_group */
    }
    st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3,
          "another thread's exit(3) ends the process: %s", status_str(st));

    if (pipe(fds) < 0)
        exit(1);
    child = xfork();
    if (child == 0) {
        close(fds[0]);
        report_fd = fds[1];
        pthread_create(&t, NULL, last_thread, NULL);
        pthread_exit(NULL);         /* the main thread goes; the process stays */
    }
    close(fds[1]);
    int got = read_full(fds[0], buf, 5) == 0;
    close(fds[0]);
    st = wait_for(child);
    CHECK(got && strcmp(buf, "alive") == 0,
          "after the main thread's pthread_exit the other thread still runs: %s",
          YESNO(got && strcmp(buf, "alive") == 0));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5, "and its exit(5) is the status: %s",
          status_str(st));
}

int main(void)
{
    proc_init();
    check_counters();
    check_condvar_queue();
    check_broadcast();
    check_barrier();
    check_detach_and_exit();
    check_exit_kinds();
    return proc_finish("threads");
}
