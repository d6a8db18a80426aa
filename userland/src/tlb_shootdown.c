/*
 * tlb_shootdown.c - one thread changes a mapping while others read it.
 *
 * Every core caches translations in its TLB; when munmap, mprotect,
 * mmap(MAP_FIXED) or madvise(MADV_DONTNEED) changes a page table of an mm
 * that runs on several cores, Linux flushes the other cores' TLBs before
 * the call returns (flush_tlb_range: TLBI ...IS, broadcast in the inner
 * shareable domain on arm64).  A reader that keeps using a stale entry
 * would go on seeing the old data, or a freed frame.
 *
 * Each case: reader threads spin reading the page (no system calls, so on
 * a two-core board they sit on the other core with a warm TLB); the main
 * thread waits until each has read it many times, changes the mapping,
 * and the readers must see exactly the old value and then the new state:
 *   munmap           -> SIGSEGV (SEGV_MAPERR) inside that page;
 *   mprotect(NONE)   -> SIGSEGV (SEGV_ACCERR) in all 8 readers;
 *   mmap(MAP_FIXED) of a file over it -> the file's value, never a fault
 *                       or a zero (the replacement is atomic for readers);
 *   MADV_DONTNEED    -> zeros (a fresh zero page), nothing else.
 * A reader catches SIGSEGV with a handler and siglongjmp()s out.  If a
 * reader never sees the change, the program says so after 20 s and fails.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <sys/mman.h>

#define OLD_VALUE 42
#define NEW_VALUE 7
#define WARM_READS 20000
#define DEADLINE_S 20.0

static __thread sigjmp_buf fault_env;
static __thread void *fault_addr;
static __thread int fault_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(fault_env, 1);
}

struct reader {
    pthread_t thread;
    volatile int *page;
    int next_value;                 /* the value that ends the loop, or -1: a fault must */
    unsigned long reads;
    /* written by the reader, polled by the main thread */
    volatile int bad_value, saw_bad;
    volatile int faulted, code;
    volatile long fault_off;
    volatile int saw_next;
};

static void *reader_loop(void *arg)
{
    struct reader *r = arg;
    volatile int *page = r->page;

    if (sigsetjmp(fault_env, 1)) {
        r->faulted = 1;
        r->code = fault_code;
        r->fault_off = (long)((char *)fault_addr - (char *)page);
        return NULL;
    }
    for (unsigned long i = 0;; i++) {
        int v = page[(i * 17) % (PAGE / sizeof(int))];
        __atomic_store_n(&r->reads, i + 1, __ATOMIC_RELEASE);
        if (v == OLD_VALUE)
            continue;
        if (v == r->next_value) {
            r->saw_next = 1;
            return NULL;
        }
        r->bad_value = v;
        r->saw_bad = 1;
        return NULL;
    }
}

static void start_readers(struct reader *r, int n, volatile int *page, int next_value)
{
    for (int i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].page = page;
        r[i].next_value = next_value;
        pthread_create(&r[i].thread, NULL, reader_loop, &r[i]);
    }
    double t0 = now_mono();
    for (int i = 0; i < n; i++)
        while (__atomic_load_n(&r[i].reads, __ATOMIC_ACQUIRE) < WARM_READS) {
            if (now_mono() - t0 > DEADLINE_S) {
                printf("FAIL: reader %d did not start reading within %.0f s\n", i, DEADLINE_S);
                exit(1);
            }
            sched_yield();
        }
}

/* Join, but fail (instead of hanging) if a reader never sees the change. */
static void join_readers(struct reader *r, int n, const char *what)
{
    double t0 = now_mono();
    for (int i = 0; i < n; i++) {
        for (;;) {
            if (r[i].faulted || r[i].saw_next || r[i].saw_bad)
                break;
            if (now_mono() - t0 > DEADLINE_S) {
                printf("FAIL: %s: reader %d still sees the old page after %.0f s "
                       "(stale TLB entry?)\n", what, i, DEADLINE_S);
                exit(1);
            }
            sched_yield();
        }
        pthread_join(r[i].thread, NULL);
    }
}

static volatile int *new_page(void)
{
    volatile int *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
    for (size_t i = 0; i < PAGE / sizeof(int); i++)
        p[i] = OLD_VALUE;
    return p;
}

static void check_munmap(void)
{
    struct reader r[1];
    volatile int *p = new_page();

    start_readers(r, 1, p, -1);
    munmap((void *)p, PAGE);
    join_readers(r, 1, "munmap");
    CHECK(!r[0].saw_bad && r[0].faulted && r[0].code == SEGV_MAPERR &&
          r[0].fault_off >= 0 && r[0].fault_off < (long)PAGE,
          "munmap under a reader: it saw only the old value, then SIGSEGV SEGV_MAPERR in the "
          "page: %s", YESNO(!r[0].saw_bad && r[0].faulted && r[0].code == SEGV_MAPERR));
}

static void check_mprotect(void)
{
    enum { N = 8 };
    struct reader r[N];
    volatile int *p = new_page();
    int all = 1;

    start_readers(r, N, p, -1);
    mprotect((void *)p, PAGE, PROT_NONE);
    join_readers(r, N, "mprotect");
    for (int i = 0; i < N; i++)
        all &= !r[i].saw_bad && r[i].faulted && r[i].code == SEGV_ACCERR;
    CHECK(all, "mprotect(PROT_NONE) under %d readers: each saw only the old value, then "
          "SIGSEGV SEGV_ACCERR: %s", N, YESNO(all));
    munmap((void *)p, PAGE);
}

static void check_map_fixed(void)
{
    struct reader r[2];
    volatile int *p = new_page();
    const char *name = "tlb_shootdown.tmp";
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int vals[PAGE / sizeof(int)];

    for (size_t i = 0; i < PAGE / sizeof(int); i++)
        vals[i] = NEW_VALUE;
    write_full(fd, vals, sizeof vals);
    start_readers(r, 2, p, NEW_VALUE);
    void *m = mmap((void *)p, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    join_readers(r, 2, "mmap(MAP_FIXED)");
    int ok = m == (void *)p;
    for (int i = 0; i < 2; i++)
        ok &= !r[i].saw_bad && !r[i].faulted && r[i].saw_next;
    CHECK(ok, "mmap(MAP_FIXED) of a file over it, 2 readers: the old value, then the file's, "
          "nothing else: %s", YESNO(ok));
    munmap((void *)p, PAGE);
    close(fd);
    unlink(name);
}

static void check_dontneed(void)
{
    struct reader r[2];
    volatile int *p = new_page();

    start_readers(r, 2, p, 0);
    madvise((void *)p, PAGE, MADV_DONTNEED);
    join_readers(r, 2, "MADV_DONTNEED");
    int ok = 1;
    for (int i = 0; i < 2; i++)
        ok &= !r[i].saw_bad && !r[i].faulted && r[i].saw_next;
    CHECK(ok, "MADV_DONTNEED, 2 readers: the old value, then zeros, nothing else: %s",
          YESNO(ok));
    munmap((void *)p, PAGE);
}

int main(void)
{
    struct sigaction sa;

    proc_init();
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    printf("changing a mapping under reading threads:\n");
    check_munmap();
    check_mprotect();
    check_map_fixed();
    check_dontneed();
    return proc_finish("tlb_shootdown");
}
