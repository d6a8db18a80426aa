/*
 * futex.c - the futex(2) system call, raw (kernel/futex.c in 4.14).
 *
 * A test of FUTEX_WAKE's count is only deterministic if the waiters are
 * known to be asleep.  park() makes sure of it: FUTEX_CMP_REQUEUE with
 * nr_wake 0 moves every waiter that is asleep on one word to another and
 * returns how many it moved; repeating it until all n were moved proves
 * all n sleep on the second word (a waiter that had not yet reached
 * futex_wait() is moved by a later round).  Everything below builds on it.
 *
 * Checks: WAIT (EAGAIN on a changed value, relative timeouts, ETIMEDOUT,
 * EINVAL for bad timespecs), WAKE counts, WAIT_BITSET/WAKE_BITSET (a
 * disjoint bitset wakes nobody; absolute CLOCK_MONOTONIC and
 * FUTEX_CLOCK_REALTIME deadlines), REQUEUE and CMP_REQUEUE (EAGAIN on a
 * changed value), WAKE_OP (the operation and the comparison), the private
 * flag (a shared wake does not find a private waiter), a shared futex in a
 * MAP_SHARED page between two processes, EINTR and restart when a signal
 * handler runs, set_tid_address() and clone(CLONE_CHILD_CLEARTID), on which
 * pthread_join() relies.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

static long futex(int *uaddr, int op, int val, const struct timespec *ts, int *uaddr2, int val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* The 4th argument of the requeue/wake_op commands is a count, not a pointer. */
#define VAL2(n) ((const struct timespec *)(long)(n))

static const char *ret_str(long r)
{
    static char buf[32];

    if (r < 0)
        return errno_name(errno);
    snprintf(buf, sizeof buf, "%ld", r);
    return buf;
}

struct waiter {
    pthread_t thread;
    int *uaddr;
    int op;
    int val;
    const struct timespec *ts;
    int bitset;
    long ret;
    int err;
    int handler_seen;
};

static volatile int handler_runs;

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;

    errno = 0;
    w->ret = futex(w->uaddr, w->op, w->val, w->ts, NULL, w->bitset);
    w->err = errno;
    w->handler_seen = handler_runs;
    return NULL;
}

static void start_waiter(struct waiter *w, int *uaddr, int op, int bitset)
{
    memset(w, 0, sizeof *w);
    w->uaddr = uaddr;
    w->op = op;
    w->bitset = bitset;
    pthread_create(&w->thread, NULL, wait_thread, w);
}

/* Move n sleepers from *src to *dst (both private); see the comment at the top. */
static void park(int *src, int *dst, int n)
{
    int moved = 0;

    while (moved < n) {
        long r = futex(src, FUTEX_CMP_REQUEUE_PRIVATE, 0, VAL2(INT_MAX), dst, *src);
        if (r > 0)
            moved += (int)r;
        else
            sched_yield();
    }
}

static int f_a, f_b, f_c, f_d;

static void check_wait_errors(void)
{
    struct timespec ts;
    long r;

    printf("FUTEX_WAIT without a waker:\n");
    f_a = 1;
    r = futex(&f_a, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    CHECK(r < 0 && errno == EAGAIN, "value differs: %s", ret_str(r));
    ts.tv_sec = 0;
    ts.tv_nsec = 30 * 1000000L;
    double t0 = now_mono();
    r = futex(&f_a, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0);
    double dt = now_mono() - t0;
    CHECK(r < 0 && errno == ETIMEDOUT, "relative timeout 30 ms: %s", ret_str(r));
    CHECK(dt >= 0.030, "slept at least the timeout: %s", YESNO(dt >= 0.030));
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 30 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    struct timespec deadline = ts;
    r = futex(&f_a, FUTEX_WAIT_BITSET_PRIVATE, 1, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int after = ts.tv_sec > deadline.tv_sec ||
                (ts.tv_sec == deadline.tv_sec && ts.tv_nsec >= deadline.tv_nsec);
    CHECK(r < 0 && errno == ETIMEDOUT, "WAIT_BITSET, absolute CLOCK_MONOTONIC deadline: %s",
          ret_str(r));
    CHECK(after, "returned after the deadline: %s", YESNO(after));
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    r = futex(&f_a, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &ts, NULL,
              FUTEX_BITSET_MATCH_ANY);
    CHECK(r < 0 && errno == ETIMEDOUT,
          "WAIT_BITSET|FUTEX_CLOCK_REALTIME, absolute deadline: %s", ret_str(r));
    ts.tv_sec = 1;                  /* long past on CLOCK_MONOTONIC */
    ts.tv_nsec = 0;
    r = futex(&f_a, FUTEX_WAIT_BITSET_PRIVATE, 1, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
    CHECK(r < 0 && errno == ETIMEDOUT, "absolute deadline in the past: %s", ret_str(r));
    ts.tv_sec = 0;
    ts.tv_nsec = 1000000000L;
    r = futex(&f_a, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0);
    CHECK(r < 0 && errno == EINVAL, "tv_nsec = 1e9: %s", ret_str(r));
    ts.tv_sec = -1;
    ts.tv_nsec = 0;
    r = futex(&f_a, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0);
    CHECK(r < 0 && errno == EINVAL, "negative tv_sec: %s", ret_str(r));
    r = futex(&f_a, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, NULL, 0);
    CHECK(r < 0 && errno == EINVAL, "WAIT_BITSET with bitset 0: %s", ret_str(r));
    r = futex(&f_a, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0);
    CHECK(r < 0 && errno == EINVAL, "WAKE_BITSET with bitset 0: %s", ret_str(r));
    r = futex((int *)((char *)&f_a + 1), FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    CHECK(r < 0 && errno == EINVAL, "unaligned address: %s", ret_str(r));
    r = futex(NULL, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    CHECK(r < 0 && errno == EFAULT, "WAIT on address 0: %s", ret_str(r));
    r = futex(&f_a, 99 | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
    CHECK(r < 0 && errno == ENOSYS, "unknown command: %s", ret_str(r));
    r = futex(&f_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    CHECK(r == 0, "WAKE with no waiters: %s", ret_str(r));
}

static void check_wake_counts(void)
{
    struct waiter w[8];
    long r;

    printf("FUTEX_WAKE counts (8 waiters, parked first):\n");
    f_a = f_b = 0;
    for (int i = 0; i < 8; i++)
        start_waiter(&w[i], &f_a, FUTEX_WAIT_PRIVATE, 0);
    park(&f_a, &f_b, 8);
    r = futex(&f_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    CHECK(r == 0, "WAKE on the word they left: %s", ret_str(r));
    r = futex(&f_b, FUTEX_WAKE_PRIVATE, 3, NULL, NULL, 0);
    CHECK(r == 3, "WAKE 3: %s", ret_str(r));
    r = futex(&f_b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    CHECK(r == 5, "WAKE all: %s", ret_str(r));
    int all_zero = 1;
    for (int i = 0; i < 8; i++) {
        pthread_join(w[i].thread, NULL);
        all_zero &= w[i].ret == 0;
    }
    CHECK(all_zero, "every woken FUTEX_WAIT returned 0: %s", YESNO(all_zero));

    printf("FUTEX_REQUEUE / FUTEX_CMP_REQUEUE (4 waiters):\n");
    f_a = f_b = f_c = 0;
    for (int i = 0; i < 4; i++)
        start_waiter(&w[i], &f_a, FUTEX_WAIT_PRIVATE, 0);
    park(&f_a, &f_b, 4);
    r = futex(&f_b, FUTEX_CMP_REQUEUE_PRIVATE, 1, VAL2(2), &f_c, 1);
    CHECK(r < 0 && errno == EAGAIN, "CMP_REQUEUE with a stale value: %s", ret_str(r));
    r = futex(&f_b, FUTEX_REQUEUE_PRIVATE, 1, VAL2(2), &f_c, 0);
    CHECK(r == 3, "REQUEUE wake 1, move 2: returns woken + moved = %s", ret_str(r));
    r = futex(&f_b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    CHECK(r == 1, "one left on the first word: %s", ret_str(r));
    r = futex(&f_c, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    CHECK(r == 2, "two on the second word: %s", ret_str(r));
    for (int i = 0; i < 4; i++)
        pthread_join(w[i].thread, NULL);
}

static void check_bitset_and_private(void)
{
    struct waiter w;
    long r;

    printf("bitsets and the private flag:\n");
    f_a = f_b = 0;
    start_waiter(&w, &f_a, FUTEX_WAIT_BITSET_PRIVATE, 0x2);
    park(&f_a, &f_b, 1);            /* a requeued waiter keeps its bitset */
    r = futex(&f_b, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x1);
    CHECK(r == 0, "WAKE_BITSET 0x1 for a waiter with bitset 0x2: %s", ret_str(r));
    r = futex(&f_b, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    CHECK(r == 0, "shared (non-private) WAKE for a private waiter: %s", ret_str(r));
    r = futex(&f_b, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x6);
    CHECK(r == 1, "WAKE_BITSET 0x6: %s", ret_str(r));
    pthread_join(w.thread, NULL);
    CHECK(w.ret == 0, "the waiter returned 0: %s", YESNO(w.ret == 0));
}

static void check_wake_op(void)
{
    struct waiter a, b;
    long r;

    printf("FUTEX_WAKE_OP:\n");
    f_a = f_b = f_c = f_d = 0;
    start_waiter(&a, &f_a, FUTEX_WAIT_PRIVATE, 0);
    start_waiter(&b, &f_b, FUTEX_WAIT_PRIVATE, 0);
    park(&f_a, &f_c, 1);
    park(&f_b, &f_d, 1);
    /* *f_d = 5; wake 1 on f_c; and 1 on f_d if the old *f_d == 0 */
    r = futex(&f_c, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &f_d,
              FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0));
    CHECK(r == 2, "SET 5, old value == 0: woke %s", ret_str(r));
    CHECK(f_d == 5, "second word is now %d", f_d);
    pthread_join(a.thread, NULL);
    pthread_join(b.thread, NULL);

    f_a = f_b = 0;
    start_waiter(&a, &f_a, FUTEX_WAIT_PRIVATE, 0);
    start_waiter(&b, &f_b, FUTEX_WAIT_PRIVATE, 0);
    park(&f_a, &f_c, 1);
    park(&f_b, &f_d, 1);
    r = futex(&f_c, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &f_d,
              FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0));
    CHECK(r == 1, "ADD 1, old value 5 != 0: woke %s", ret_str(r));
    CHECK(f_d == 6, "second word is now %d", f_d);
    r = futex(&f_d, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    CHECK(r == 1, "the second waiter was left asleep: %s", ret_str(r));
    pthread_join(a.thread, NULL);
    pthread_join(b.thread, NULL);
    r = futex(&f_c, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &f_d,
              FUTEX_OP((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_GT, 0));
    CHECK(r == 0 && f_d == (6 | 16), "OR with OPARG_SHIFT (1 << 4), nobody waiting: %s, word %d",
          ret_str(r), f_d);
}

static void on_usr1(int sig)
{
    (void)sig;
    handler_runs++;
}

static void set_usr1(int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}

static pid_t tids[2];

static void *tid_wait_thread(void *arg)
{
    struct waiter *w = arg;

    tids[0] = sys_gettid();
    return wait_thread(w);
}

static void check_signals(void)
{
    struct waiter w;
    long r;

    printf("signals during FUTEX_WAIT:\n");
    /* no SA_RESTART: EINTR */
    set_usr1(0);
    f_a = f_b = 0;
    memset(&w, 0, sizeof w);
    w.uaddr = &f_a;
    w.op = FUTEX_WAIT_PRIVATE;
    tids[0] = 0;
    pthread_create(&w.thread, NULL, tid_wait_thread, &w);
    park(&f_a, &f_b, 1);
    handler_runs = 0;
    syscall(SYS_tgkill, getpid(), tids[0], SIGUSR1);
    pthread_join(w.thread, NULL);
    CHECK(w.ret < 0 && w.err == EINTR && w.handler_seen == 1,
          "handler without SA_RESTART: %s, after the handler ran: %s",
          w.ret < 0 ? errno_name(w.err) : "0", YESNO(w.handler_seen == 1));

    /* SA_RESTART, no timeout: the wait restarts (it is back on f_a) */
    set_usr1(SA_RESTART);
    f_a = f_b = 0;
    memset(&w, 0, sizeof w);
    w.uaddr = &f_a;
    w.op = FUTEX_WAIT_PRIVATE;
    pthread_create(&w.thread, NULL, tid_wait_thread, &w);
    park(&f_a, &f_b, 1);
    handler_runs = 0;
    syscall(SYS_tgkill, getpid(), tids[0], SIGUSR1);
    park(&f_a, &f_b, 1);            /* only possible if it waits on f_a again */
    r = futex(&f_b, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_join(w.thread, NULL);
    CHECK(r == 1 && w.ret == 0 && w.handler_seen == 1,
          "handler with SA_RESTART: the wait restarted on the original word and "
          "returned %s after one wake: %s",
          w.ret < 0 ? errno_name(w.err) : "0", YESNO(r == 1 && w.ret == 0));

    /* SA_RESTART with a timeout: -ERESTART_RESTARTBLOCK becomes EINTR */
    struct timespec ten = {10, 0};
    f_a = f_b = 0;
    memset(&w, 0, sizeof w);
    w.uaddr = &f_a;
    w.op = FUTEX_WAIT_PRIVATE;
    w.ts = &ten;
    pthread_create(&w.thread, NULL, tid_wait_thread, &w);
    park(&f_a, &f_b, 1);
    handler_runs = 0;
    syscall(SYS_tgkill, getpid(), tids[0], SIGUSR1);
    pthread_join(w.thread, NULL);
    CHECK(w.ret < 0 && w.err == EINTR,
          "handler with SA_RESTART, 10 s relative timeout: %s",
          w.ret < 0 ? errno_name(w.err) : "0");
    signal(SIGUSR1, SIG_DFL);
}

static void check_shared_across_fork(void)
{
    int *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *word = &page[0], *parked = &page[16];
    long r;
    int moved = 0;

    printf("a shared futex between two processes:\n");
    *word = 0;
    *parked = 0;
    pid_t child = xfork();
    if (child == 0) {
        long cr = futex(word, FUTEX_WAIT, 0, NULL, NULL, 0);
        _exit(cr == 0 && *word == 7 ? 0 : 1);
    }
    while (moved < 1) {             /* park(), with shared keys */
        r = futex(word, FUTEX_CMP_REQUEUE, 0, VAL2(INT_MAX), parked, 0);
        if (r > 0)
            moved += (int)r;
        else
            sched_yield();
    }
    r = futex(parked, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    CHECK(r == 0, "a private WAKE from another process finds nobody: %s", ret_str(r));
    *word = 7;
    r = futex(parked, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    CHECK(r == 1, "a shared WAKE wakes the child: %s", ret_str(r));
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child saw the value and returned 0: %s",
          status_str(st));
    munmap(page, PAGE);
}

/*
 * clone() with CLONE_CHILD_CLEARTID: what pthread_join() is built on.
 *
 * A raw clone, not the libc wrapper: musl's clone() refuses CLONE_THREAD
 * (EINVAL).  The child starts with the parent's registers on the new stack,
 * calls fn(arg) and makes SYS_exit (one thread) with no libc in between.
 */
static volatile int clone_child_tid_seen;

static int clone_fn(void *arg)
{
    (void)arg;
    clone_child_tid_seen = (int)syscall(SYS_gettid);
    return 0;
}

static long raw_clone_thread(unsigned long flags, void *stack_top, int *ptid, int *ctid,
                             int (*fn)(void *), void *arg)
{
#if defined(__aarch64__)
    /* arm64 order: flags, newsp, parent_tidptr, tls, child_tidptr */
    register long x0 __asm__("x0") = (long)flags;
    register void *x1 __asm__("x1") = stack_top;
    register int *x2 __asm__("x2") = ptid;
    register long x3 __asm__("x3") = 0;
    register int *x4 __asm__("x4") = ctid;
    register long x8 __asm__("x8") = SYS_clone;
    register void *x10 __asm__("x10") = (void *)fn;
    register void *x11 __asm__("x11") = arg;
    __asm__ volatile("svc #0\n\t"
                     "cbnz x0, 1f\n\t"
                     "mov x0, x11\n\t"
                     "blr x10\n\t"
                     "mov x8, %[nr_exit]\n\t"
                     "svc #0\n"
                     "1:"
                     : "+r"(x0)
                     : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x8), "r"(x10), "r"(x11),
                       [nr_exit] "i"(SYS_exit)
                     : "memory");
    return x0;
#elif defined(__x86_64__)
    /* x86-64 order: flags, newsp, parent_tidptr, child_tidptr, tls */
    register long rax __asm__("rax") = SYS_clone;
    register long rdi __asm__("rdi") = (long)flags;
    register void *rsi __asm__("rsi") = stack_top;
    register int *rdx __asm__("rdx") = ptid;
    register int *r10 __asm__("r10") = ctid;
    register long r8 __asm__("r8") = 0;
    register void *r12 __asm__("r12") = (void *)fn;
    register void *r13 __asm__("r13") = arg;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov %%r13, %%rdi\n\t"
                     "call *%%r12\n\t"
                     "mov %[nr_exit], %%eax\n\t"
                     "syscall\n"
                     "1:"
                     : "+r"(rax)
                     : "r"(rdi), "r"(rsi), "r"(rdx), "r"(r10), "r"(r8), "r"(r12), "r"(r13),
                       [nr_exit] "i"(SYS_exit)
                     : "rcx", "r11", "memory");
    return rax;
#else
#error "raw_clone_thread: add this architecture"
#endif
}

static void check_cleartid(void)
{
    static int ctid, ptid;
    size_t stack_size = 1 << 16;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                          CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
                          CLONE_CHILD_CLEARTID;

    printf("set_tid_address and CLONE_CHILD_CLEARTID:\n");
    ctid = -1;
    ptid = -1;
    long tid = raw_clone_thread(flags, stack + stack_size, &ptid, &ctid, clone_fn, NULL);
    CHECK(tid > 0, "raw clone(CLONE_THREAD|...) returned a tid: %s",
          tid > 0 ? "yes" : errno_name((int)-tid));
    if (tid < 0)
        return;
    CHECK(ptid == tid, "CLONE_PARENT_SETTID stored it: %s", YESNO(ptid == tid));
    int v;
    while ((v = __atomic_load_n(&ctid, __ATOMIC_ACQUIRE)) != 0)
        futex(&ctid, FUTEX_WAIT, v, NULL, NULL, 0);
    CHECK(clone_child_tid_seen == tid, "the thread's gettid() == clone() return: %s",
          YESNO(clone_child_tid_seen == tid));
    CHECK(ctid == 0, "CLONE_CHILD_CLEARTID zeroed the word and woke us at exit: %s",
          YESNO(ctid == 0));
    munmap(stack, stack_size);

    pid_t child = xfork();
    if (child == 0) {
        static int word = 1;
        long r = syscall(SYS_set_tid_address, &word);
        _exit(r == getpid() ? 0 : 1);
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "set_tid_address() returns the tid: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));
}

int main(void)
{
    proc_init();
    check_wait_errors();
    check_wake_counts();
    check_bitset_and_private();
    check_wake_op();
    check_signals();
    check_shared_across_fork();
    check_cleartid();
    return proc_finish("futex");
}
