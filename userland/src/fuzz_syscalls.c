/*
 * fuzz_syscalls.c - random raw system calls with adversarial arguments
 * (issue 10 part 7, issue 9 "Bad input").
 *
 *   fuzz_syscalls SEED [BATCHES [CALLS [FIRST_BATCH [DEADLINE_MS]]]]
 *
 * From SEED, each batch b (FIRST_BATCH .. FIRST_BATCH+BATCHES-1) runs in a
 * forked child that makes CALLS raw system calls: a number from every entry
 * of arm64's 4.14 table (0..291) plus numbers past its end, with arguments
 * drawn from adversarial classes (0, -1, small ints, INT_MIN/MAX, huge
 * lengths, unaligned pointers into random scratch memory, pointers at the end
 * of the scratch before a PROT_NONE guard page, unmapped and kernel
 * addresses, its own descriptors, random flag words); odd batches draw
 * mostly plausible arguments (own descriptors, mapped addresses — those the
 * batch's own mmap calls returned —, small sizes) to get past the first
 * check into the code behind it.  Batch b's calls depend
 * only on (SEED, b), so one batch is replayed with
 *   fuzz_syscalls SEED 1 CALLS b
 * The parent kills a child whose current call has not returned after
 * DEADLINE_MS (guest clock) with SIGKILL and reports that call as "blocked":
 * a read of an empty pipe or a pause() blocks on Linux too.  One line per
 * batch and a summary line go to stdout; tools/fuzz.py classifies them (the
 * emulator's own failures show on its stderr and in its exit status).
 *
 * SAFE FOR THE HOST: the emulator may run as host root in CI and the guest's
 * file calls reach the host's file system, so
 *   - the driver runs us in a fresh temporary directory (our cwd) that it
 *     removes afterwards, with --net none;
 *   - the child closes fds 0-2 and opens files of its own in their place, so
 *     no call touches the driver's terminal or pipes;
 *   - before every call the scratch memory is rewritten so that it holds no
 *     '/' and no '.' byte (a call may have written one, e.g. getcwd): no path
 *     a call reads can name anything outside the cwd, nothing like ".." or
 *     "/etc"; the only directory descriptor we open is "." (our cwd);
 *   - the child's RLIMIT_FSIZE is 8 MiB (soft and hard), so fallocate or a
 *     write at a huge offset cannot fill the host's disk (the driver sets the
 *     same host limit on the emulator process).
 * Calls constrained or excluded, and why:
 *   - exit (93) and exit_group (94) end the batch, so they are not drawn at
 *     random; every batch ends with exit_group(0);
 *   - clone (220): the new child exits at once (exit, 93, in assembly, on
 *     whatever stack it got), so a random stack pointer or CLONE_VM cannot
 *     make it run the fuzzer on a shared or bogus stack;
 *   - rt_sigreturn (139) runs with sp pointing into the random scratch, so
 *     the frame it reads is random (a bad frame: SIGSEGV), never our own
 *     stack, which would resume at an arbitrary pc of ours;
 *   - a pid argument (kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo,
 *     ptrace, prlimit64, process_vm_writev, setpgid) that names the parent
 *     (its pid, its group, or 1), or -1 (every process), is replaced by the
 *     child's own pid: killing, tracing or limiting the parent would end the
 *     whole run, which proves nothing about the call.
 * Nothing else is excluded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SIZE 4096UL
#define NR_SYSCALLS_414 292         /* arm64 4.14: __NR_syscalls */
#define SCRATCH_PAGES 16
#define SCRATCH_SIZE (SCRATCH_PAGES * PAGE_SIZE)
#define FSIZE_LIMIT (8UL << 20)

/* arm64 (asm-generic) numbers the fuzzer treats specially. */
#define NR_setpgid 154
#define NR_kill 129
#define NR_tkill 130
#define NR_tgkill 131
#define NR_rt_sigqueueinfo 138
#define NR_rt_sigreturn 139
#define NR_exit 93
#define NR_exit_group 94
#define NR_ptrace 117
#define NR_clone 220
#define NR_rt_tgsigqueueinfo 240
#define NR_prlimit64 261
#define NR_process_vm_writev 271

/* What the parent learns about the child's progress (a MAP_SHARED page). */
struct progress {
    volatile long index;            /* the call under way, or CALLS when done */
    volatile long nr;
    volatile unsigned long args[6];
};

static uint64_t rng;

static uint64_t next_random(void)
{
    /* splitmix64: good enough, and the same on every libc */
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned long below(unsigned long n)
{
    return n ? next_random() % n : 0;
}

static long raw_syscall(long nr, const unsigned long *a)
{
    register long x8 __asm__("x8") = nr;
    register unsigned long x0 __asm__("x0") = a[0];
    register unsigned long x1 __asm__("x1") = a[1];
    register unsigned long x2 __asm__("x2") = a[2];
    register unsigned long x3 __asm__("x3") = a[3];
    register unsigned long x4 __asm__("x4") = a[4];
    register unsigned long x5 __asm__("x5") = a[5];
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory", "cc");
    return (long)x0;
}

/* clone: the new task exits at once, touching neither stack nor memory. */
static long raw_clone(const unsigned long *a)
{
    register long x8 __asm__("x8") = NR_clone;
    register unsigned long x0 __asm__("x0") = a[0];
    register unsigned long x1 __asm__("x1") = a[1];
    register unsigned long x2 __asm__("x2") = a[2];
    register unsigned long x3 __asm__("x3") = a[3];
    register unsigned long x4 __asm__("x4") = a[4];
    __asm__ volatile("svc #0\n\t"
                     "cbnz x0, 1f\n\t"
                     "mov x8, #93\n\t"          /* exit(0): this thread only */
                     "mov x0, #0\n\t"
                     "svc #0\n"
                     "1:"
                     : "+r"(x0), "+r"(x8)
                     : "r"(x1), "r"(x2), "r"(x3), "r"(x4)
                     : "memory", "cc");
    return (long)x0;
}

/* rt_sigreturn with the signal frame in the random scratch at `frame`. */
static long raw_sigreturn(unsigned long frame)
{
    register long x8 __asm__("x8") = NR_rt_sigreturn;
    register unsigned long x0 __asm__("x0") = frame;
    __asm__ volatile("mov x19, sp\n\t"
                     "mov sp, x0\n\t"
                     "svc #0\n\t"
                     "mov sp, x19"
                     : "+r"(x0)
                     : "r"(x8)
                     : "x19", "memory", "cc");
    return (long)x0;
}

static unsigned char *scratch;     /* SCRATCH_SIZE bytes, a PROT_NONE page after */
static int max_fd = 16;
static pid_t parent_pid, parent_pgrp, self_pid;

/* Random bytes with neither '/' nor '.', and a NUL now and then (strings end). */
static unsigned char safe_byte(void)
{
    unsigned char c = (unsigned char)next_random();
    if ((c & 15) == 0)
        return 0;
    if (c == '/' || c == '.')
        return 'a' + (c & 7);
    return c;
}

static void fill_scratch(void)
{
    for (unsigned long i = 0; i < SCRATCH_SIZE; i++)
        scratch[i] = safe_byte();
}

/* Before each call: no '/' or '.' anywhere (a call may have written them),
 * and a stretch of fresh random bytes. */
static void sanitize_scratch(void)
{
    for (unsigned long i = 0; i < SCRATCH_SIZE; i++)
        if (scratch[i] == '/' || scratch[i] == '.')
            scratch[i] = 'x';
    unsigned long start = below(SCRATCH_SIZE), len = below(256);
    for (unsigned long i = start; i < start + len && i < SCRATCH_SIZE; i++)
        scratch[i] = safe_byte();
}

static const unsigned long special[] = {
    0x7fffffffUL, 0x80000000UL, 0xffffffffUL, 0xffffffff80000000UL,
    0x7fffffffffffffffUL, 0x8000000000000000UL, 0xfffffffffffff000UL,
    0xffffffffffffff9cUL /* AT_FDCWD: our cwd is the temporary directory */,
    0x100000000UL, 0xffffUL, 0x10000UL, 4095, 4096, 4097,
};

/* Addresses that mmap, mremap, shmat or brk returned in this batch: real
 * mappings of every kind to hand back to munmap, mprotect, madvise... */
#define NR_mmap 222
#define NR_mremap 216
#define NR_shmat 196
#define NR_brk 214
#define MAPPED_POOL 8
static unsigned long mapped[MAPPED_POOL];
static int nmapped;

static void remember_result(long nr, long ret)
{
    if ((nr == NR_mmap || nr == NR_mremap || nr == NR_shmat || nr == NR_brk) &&
        ret > 0 && !(ret & (PAGE_SIZE - 1)))
        mapped[nmapped++ % MAPPED_POOL] = (unsigned long)ret;
    else if (ret > max_fd && ret < 64 && nr != NR_brk)
        max_fd = (int)ret;      /* a new descriptor, most likely */
}

/* Odd batches: arguments a call is likely to accept, so the calls get past
 * their first check and into the code behind it. */
static int plausible;

static unsigned long plausible_arg(void)
{
    switch (below(8)) {
    case 0: return 0;
    case 1: return below(max_fd + 1);
    case 2: return below(16);
    case 3: return 1UL << below(20);
    case 4: return PAGE_SIZE * (1 + below(8));
    case 5: return nmapped ? mapped[below(nmapped < MAPPED_POOL ? nmapped : MAPPED_POOL)]
                           : (unsigned long)scratch;
    default: return (unsigned long)scratch + below(SCRATCH_PAGES) * PAGE_SIZE + 8 * below(4);
    }
}

static unsigned long random_arg(void)
{
    if (plausible && below(5))
        return plausible_arg();
    switch (below(12)) {
    case 0: return 0;
    case 1: return -1UL;
    case 2: return below(65);
    case 3: return special[below(sizeof special / sizeof special[0])];
    case 4: return (1UL << (20 + below(44))) - below(2);   /* huge length */
    case 5: return (unsigned long)scratch + below(SCRATCH_SIZE);  /* often unaligned */
    case 6: return (unsigned long)scratch + SCRATCH_SIZE - below(64);  /* at the guard */
    case 7: {                                   /* unmapped, kernel, or non-canonical */
        static const unsigned long bad[] = {
            0x1000, 0xfff, 0x0000800000000000UL, 0xffff000000000000UL,
            0xffff800008000000UL, 0x0000ffffffffffffUL, 0x0000fffffffff000UL,
        };
        return bad[below(sizeof bad / sizeof bad[0])] + below(8);
    }
    case 8: return below(max_fd + 2);          /* our own descriptors (and one past) */
    case 9: return next_random();
    case 10: {                                  /* a flags word: a few random bits */
        unsigned long v = 0;
        for (unsigned long n = 1 + below(3); n; n--)
            v |= 1UL << below(32);
        return v;
    }
    default: return (unsigned long)scratch + below(SCRATCH_PAGES) * PAGE_SIZE; /* aligned */
    }
}

/* Typed batches (every third, when FUZZ_SIG is set): FUZZ_SIG holds six
 * characters per system call number, one per argument — f a descriptor,
 * s a path, p a pointer to a structure, i an iovec array, n a length,
 * x anything else, - none (tools/fuzz.py makes it from the kernel's table
 * of argument formats: it only steers the choice, it judges nothing). */
static const char *signature;
static int typed;
#define NAMES_OFF (SCRATCH_SIZE - 2 * PAGE_SIZE)    /* "fz0".."fz7", NUL-terminated */
#define IOV_OFF (SCRATCH_SIZE - PAGE_SIZE)          /* four iovecs into the scratch */

static void typed_setup(void)
{
    for (int i = 0; i < 8; i++) {
        char *n = (char *)scratch + NAMES_OFF + 8 * i;
        n[0] = 'f';
        n[1] = 'z';
        n[2] = (char)('0' + i);
        n[3] = 0;
    }
    /* The only pointers we write into memory: a path read from here must
     * not find a '/' or '.' either, so an iovec with one becomes empty. */
    unsigned long *iov = (unsigned long *)(scratch + IOV_OFF);
    for (int i = 0; i < 4; i++) {
        iov[2 * i] = (unsigned long)scratch + below(8) * PAGE_SIZE + 8 * below(8);
        iov[2 * i + 1] = below(3) ? below(512) : below(2 * PAGE_SIZE);
        const unsigned char *b = (const unsigned char *)&iov[2 * i];
        for (int k = 0; k < 16; k++)
            if (b[k] == '/' || b[k] == '.') {
                iov[2 * i] = iov[2 * i + 1] = 0;
                break;
            }
    }
}

static unsigned long typed_arg(char kind)
{
    if (!below(8))
        return random_arg();                /* now and then a bad one anyway */
    switch (kind) {
    case 'f': return below(4) ? below(max_fd + 1) : 0xffffffffffffff9cUL;    /* AT_FDCWD */
    case 's': return (unsigned long)scratch + NAMES_OFF + 8 * below(8);
    case 'p': return (unsigned long)scratch + below(8) * PAGE_SIZE + 8 * below(64);
    case 'i': return (unsigned long)scratch + IOV_OFF;
    case 'n': return below(4) ? below(513) : below(4) ? PAGE_SIZE * (1 + below(4)) : below(1 << 20);
    default: return plausible_arg();
    }
}

static long random_nr(void)
{
    unsigned long r = below(100);
    if (r < 94) {
        long nr;
        do
            nr = (long)below(NR_SYSCALLS_414);
        while (nr == NR_exit || nr == NR_exit_group);
        return nr;
    }
    if (r < 97)
        return NR_SYSCALLS_414 + (long)below(64);   /* just past the table (and 244..) */
    static const long out[] = { 1024, 4096, 0x7fffffff, -1, -2, 0x80000000L, 1L << 40 };
    return out[below(sizeof out / sizeof out[0])];
}

/* A pid naming the parent, its group or everyone becomes our own pid. */
static unsigned long tame_pid(unsigned long v)
{
    int pid = (int)v;
    if (pid == parent_pid || pid == 1 || pid == -1 || pid == -parent_pgrp ||
        (parent_pgrp == self_pid && pid == 0))
        return (unsigned long)self_pid;
    return v;
}

static void tame_args(long nr, unsigned long *a)
{
    switch (nr) {
    case NR_kill: case NR_tkill: case NR_rt_sigqueueinfo: case NR_prlimit64:
    case NR_process_vm_writev:
        a[0] = tame_pid(a[0]);
        break;
    case NR_setpgid:            /* never into the parent's group */
        a[0] = tame_pid(a[0]);
        a[1] = tame_pid(a[1]);
        break;
    case NR_ptrace:
        a[1] = tame_pid(a[1]);
        break;
    case NR_tgkill: case NR_rt_tgsigqueueinfo:
        a[0] = tame_pid(a[0]);
        a[1] = tame_pid(a[1]);
        break;
    }
}

/* The child's own descriptors in place of 0-2, and a few of every kind. */
static void open_own_fds(void)
{
    close(0);
    close(1);
    close(2);
    open("in", O_RDWR | O_CREAT | O_TRUNC, 0600);      /* 0 */
    open("out", O_RDWR | O_CREAT | O_TRUNC, 0600);     /* 1 */
    open("err", O_RDWR | O_CREAT | O_TRUNC, 0600);     /* 2 */
    int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0 && write(fd, scratch, 2 * PAGE_SIZE) < 0)
        close(fd);
    open("data", O_RDONLY);
    open("data", O_WRONLY);
    open(".", O_RDONLY | O_DIRECTORY);
    int p[2];
    if (pipe(p) == 0 && write(p[1], scratch, 100) < 0)
        close(p[1]);
    int s[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
    max_fd = 16;
}

static void run_batch(struct progress *pr, long calls, long batch)
{
    plausible = batch & 1;
    typed = signature != NULL && batch % 3 == 2;
    signal(SIGXFSZ, SIG_IGN);      /* EFBIG instead of a death */
    struct rlimit fs = { FSIZE_LIMIT, FSIZE_LIMIT };
    setrlimit(RLIMIT_FSIZE, &fs);
    setpgid(0, 0);
    self_pid = getpid();
    fill_scratch();
    open_own_fds();
    for (long i = 0; i < calls; i++) {
        long nr = random_nr();
        unsigned long a[6];
        const char *sig = typed && nr >= 0 && nr < NR_SYSCALLS_414 &&
            strlen(signature) >= 6 * NR_SYSCALLS_414 ? signature + 6 * nr : NULL;
        for (int k = 0; k < 6; k++)
            a[k] = sig && sig[k] != '-' ? typed_arg(sig[k]) : random_arg();
        tame_args(nr, a);
        sanitize_scratch();
        if (typed)
            typed_setup();
        pr->nr = nr;
        for (int k = 0; k < 6; k++)
            pr->args[k] = a[k];
        pr->index = i;
        long ret;
        if (nr == NR_clone)
            ret = raw_clone(a);
        else if (nr == NR_rt_sigreturn)
            ret = raw_sigreturn(((unsigned long)scratch + below(SCRATCH_SIZE - 4 * PAGE_SIZE)) & ~15UL);
        else
            ret = raw_syscall(nr, a);
        remember_result(nr, ret);
    }
    pr->index = calls;
    unsigned long z[6] = { 0 };
    raw_syscall(NR_exit_group, z);
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SEED [BATCHES [CALLS [FIRST_BATCH [DEADLINE_MS]]]]\n", argv[0]);
        return 2;
    }
    unsigned long seed = strtoul(argv[1], NULL, 0);
    long batches = argc > 2 ? atol(argv[2]) : 10;
    long calls = argc > 3 ? atol(argv[3]) : 100;
    long first = argc > 4 ? atol(argv[4]) : 0;
    long deadline = argc > 5 ? atol(argv[5]) : 200;
    signature = getenv("FUZZ_SIG");
    parent_pid = getpid();
    parent_pgrp = getpgrp();
    setvbuf(stdout, NULL, _IOLBF, 0);

    scratch = mmap(NULL, SCRATCH_SIZE + PAGE_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct progress *pr = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (scratch == MAP_FAILED || pr == MAP_FAILED ||
        mprotect(scratch + SCRATCH_SIZE, PAGE_SIZE, PROT_NONE) != 0) {
        perror("fuzz_syscalls: set-up");
        return 1;
    }
    long done = 0, exited = 0, signalled = 0, blocked = 0;
    for (long b = first; b < first + batches; b++) {
        rng = seed * 0x100000001b3ULL ^ (unsigned long)b * 0x9e3779b97f4a7c15ULL;
        next_random();
        pr->index = -1;
        pr->nr = -1;
        pid_t child = fork();
        if (child < 0) {
            perror("fuzz_syscalls: fork");
            return 1;
        }
        if (child == 0) {
            run_batch(pr, calls, b);
            _exit(0);
        }
        long last = -2, since = now_ms();
        int st = 0, killed = 0;
        for (;;) {
            /* Reap everything: clones with CLONE_PARENT and orphans are ours too. */
            int s2;
            pid_t w;
            int gone = 0;
            while ((w = waitpid(-1, &s2, WNOHANG | __WALL)) > 0)
                if (w == child) {
                    st = s2;
                    gone = 1;
                }
            if (gone)
                break;
            long idx = pr->index, t = now_ms();
            if (idx != last) {
                last = idx;
                since = t;
            } else if (!killed && t - since > deadline) {
                kill(child, SIGKILL);
                kill(-child, SIGKILL);
                killed = 1;
            }
            struct timespec ts = { 0, 2000000 };
            nanosleep(&ts, NULL);
        }
        kill(-child, SIGKILL);          /* what its clones left behind */
        {
            int s2;
            while (waitpid(-1, &s2, WNOHANG | __WALL) > 0)
                ;
        }
        long idx = pr->index;
        done += idx < 0 ? 0 : idx;
        const char *how;
        char buf[64];
        if (killed) {
            blocked++;
            how = "blocked";
        } else if (WIFEXITED(st) && idx == calls) {
            exited++;
            how = "done";
        } else if (WIFSIGNALED(st)) {
            signalled++;
            snprintf(buf, sizeof buf, "signal %d", WTERMSIG(st));
            how = buf;
        } else {
            signalled++;
            snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
            how = buf;
        }
        if (idx == calls)
            printf("batch %ld: %ld calls, %s\n", b, calls, how);
        else
            printf("batch %ld: %s at call %ld: nr %ld (%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)\n",
                   b, how, idx, pr->nr, pr->args[0], pr->args[1], pr->args[2],
                   pr->args[3], pr->args[4], pr->args[5]);
    }
    printf("fuzz_syscalls: seed %lu batches %ld calls %ld done %ld signalled %ld blocked %ld\n",
           seed, batches, done, exited, signalled, blocked);
    return 0;
}
