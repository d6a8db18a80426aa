/*
 * fuzz_resources.c - the resource-exhaustion cases of issue 10 (part 7), one
 * per run:   fuzz_resources CASE      (fuzz_resources list: the names)
 *
 * Each case makes the hostile request, checks Linux 4.14's answer and prints
 * one line "CASE: ok ..." (exit 0) or "CASE: FAILED ..." (exit 1).  The
 * emulator's host memory and time are what tools/fuzz.py watches: a case
 * must never cost the host memory in proportion to a guest-supplied length.
 * Files are made in the cwd, which the driver creates and removes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__GNUC__) && !defined(__clang__)
/* The huge lengths and bad buffers are the point. */
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif

#define PAGE_SIZE 4096UL
#define TIB (1UL << 40)

static const char *name;
static int failed;

static void check(int ok, const char *fmt, long a, long b)
{
    printf("%s: %s ", name, ok ? "ok" : "FAILED");
    printf(fmt, a, b);
    putchar('\n');
    if (!ok)
        failed = 1;
}

static long sc(long r)
{
    return r < 0 ? -errno : r;
}

/* mincore(0, 0x500000000000): no VMA at 0, so ENOMEM before anything is
 * copied; the kernel's buffer is one page whatever the length (4.14
 * sys_mincore allocates a single page and walks 512 entries at a time). */
static void case_mincore_huge(void)
{
    /* In .bss, low: access_ok(vec, len / 4096) passes (a vector on the
     * stack, near the top of user space, would fail it: EFAULT). */
    static unsigned char vec[16];
    long r = sc(syscall(SYS_mincore, 0UL, 0x500000000000UL, vec));
    check(r == -ENOMEM, "mincore(0, 0x500000000000) = %ld (want %ld)", r, -ENOMEM);
    r = sc(syscall(SYS_mincore, 0UL, 0xfffffffffffff000UL, vec));
    check(r == -ENOMEM, "mincore(0, ~0xfff) = %ld (want %ld)", r, -ENOMEM);
    unsigned char stackvec[16];
    r = sc(syscall(SYS_mincore, 0UL, 0x500000000000UL, stackvec));
    check(r == -EFAULT, "mincore(0, 0x500000000000, vector on the stack) = %ld (want %ld)", r, -EFAULT);
    /* A real 64 GiB mapping, the vector's last 16 bytes before an unmapped
     * page: EFAULT when the first chunk (a page of vector) is copied. */
    char *p = mmap(NULL, 64UL << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    unsigned char *v = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    munmap(v + PAGE_SIZE, PAGE_SIZE);
    r = sc(syscall(SYS_mincore, p, 64UL << 30, v + PAGE_SIZE - 16));
    check(p != MAP_FAILED && r == -EFAULT, "mincore(64 GiB mapping, 16-byte vector) = %ld (want %ld)",
          r, -EFAULT);
}

/* open() until EMFILE: RLIMIT_NOFILE descriptors, not fewer (each guest
 * file must not cost the host two descriptors). */
static void case_open_many(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int fd = open("many", O_RDWR | O_CREAT, 0600);
    long last = fd;
    for (;;) {
        int f = open("many", O_RDONLY);
        if (f < 0)
            break;
        last = f;
    }
    int e = errno;
    check(e == EMFILE && last == (long)rl.rlim_cur - 1, "EMFILE after fd %ld (RLIMIT_NOFILE %ld)",
          last, (long)rl.rlim_cur);
}

/* The access mode is checked before the buffer: EBADF, not EFAULT. */
static void case_badfd_mode(void)
{
    int w = open("wo", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int r = open("wo", O_RDONLY);
    long x = sc(read(w, (void *)1, 10));
    check(x == -EBADF, "read(O_WRONLY fd, bad buffer) = %ld (want %ld)", x, -EBADF);
    x = sc(pread(w, (void *)1, 10, 0));
    check(x == -EBADF, "pread(O_WRONLY fd, bad buffer) = %ld (want %ld)", x, -EBADF);
    x = sc(write(r, (void *)1, 10));
    check(x == -EBADF, "write(O_RDONLY fd, bad buffer) = %ld (want %ld)", x, -EBADF);
    x = sc(pwrite(r, (void *)1, 10, 0));
    check(x == -EBADF, "pwrite(O_RDONLY fd, bad buffer) = %ld (want %ld)", x, -EBADF);
    /* readv/writev: 4.14's vfs_readv/vfs_writev import the iovec before
     * do_iter_read/do_iter_write check the mode (EFAULT first); later
     * kernels check the mode first (EBADF). */
    struct utsname u;
    uname(&u);
    long want = strncmp(u.release, "4.", 2) == 0 ? -EFAULT : -EBADF;
    x = sc(readv(w, (void *)1, 1));
    check(x == want, "readv(O_WRONLY fd, bad iovec) = %ld (want %ld for this kernel)", x, want);
    x = sc(writev(r, (void *)1, 1));
    check(x == want, "writev(O_RDONLY fd, bad iovec) = %ld (want %ld for this kernel)", x, want);
    /* ftruncate: a negative length before the descriptor; only a regular
     * file open for writing (an eventfd was an internal error). */
    x = sc(ftruncate(-1, -1));
    check(x == -EINVAL, "ftruncate(-1, -1) = %ld (want %ld)", x, -EINVAL);
    x = sc(ftruncate(eventfd(0, 0), 100));
    check(x == -EINVAL, "ftruncate(eventfd) = %ld (want %ld)", x, -EINVAL);
    x = sc(ftruncate(r, 100));
    check(x == -EINVAL, "ftruncate(O_RDONLY fd) = %ld (want %ld)", x, -EINVAL);
    /* A buffer past the end of user space: access_ok(), EFAULT. */
    x = sc(write(w, (void *)0xfffffffff000UL, 0x2000));
    check(x == -EFAULT, "write(buffer across TASK_SIZE) = %ld (want %ld)", x, -EFAULT);
    x = sc(read(r, (void *)0xfffffffff000UL, 0x2000));
    check(x == -EFAULT, "read(buffer across TASK_SIZE) = %ld (want %ld)", x, -EFAULT);
}

/* A 1 TiB PROT_NONE mapping made readable, and moved: both in proportion to
 * what is populated (nothing), not to the length. */
static void case_mprotect_huge(void)
{
    char *p = mmap(NULL, TIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    long r = sc(mprotect(p, TIB, PROT_READ));
    check(p != MAP_FAILED && r == 0, "mprotect(1 TiB, PROT_READ) = %ld (want %ld)", r, 0);
}

static void case_mremap_huge(void)
{
    char *p = mmap(NULL, TIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    p[0] = 1;
    p[TIB - 1] = 2;
    char *q = mremap(p, TIB, 2 * TIB, MREMAP_MAYMOVE);
    check(q != MAP_FAILED && q[0] == 1 && q[TIB - 1] == 2, "mremap(1 TiB -> 2 TiB) moved=%ld, ok=%ld",
          q != p, q != MAP_FAILED);
}

/* munmap / madvise / mlock / msync of a huge mostly empty range. */
static void case_ranges_huge(void)
{
    char *p = mmap(NULL, TIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    long r = sc(madvise(p, TIB, MADV_DONTNEED));
    check(r == 0, "madvise(1 TiB, DONTNEED) = %ld (want %ld)", r, 0);
    r = sc(msync(p, TIB, MS_ASYNC));
    check(r == 0, "msync(1 TiB, MS_ASYNC) = %ld (want %ld)", r, 0);
    r = sc(munmap(p, TIB));
    check(r == 0, "munmap(1 TiB) = %ld (want %ld)", r, 0);
    /* Unmapping everything (the code too): the return from the call faults. */
    pid_t c = fork();
    if (c == 0) {
        syscall(SYS_munmap, 0UL, 0x0000fffffffff000UL);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "munmap(0, TASK_SIZE - 4096): status %#lx (want signal %ld)",
          st, SIGSEGV);
}

/* Fill the board's RAM: the OOM killer ends the child, the host stays bounded.
 * In small steps: under the default overcommit heuristic (4.14's
 * __vm_enough_memory) a mapping larger than the free memory plus the page
 * cache is refused with ENOMEM before any page is touched. */
#define OOM_STEP (64 << 10)
static void case_oom(void)
{
    pid_t c = fork();
    if (c == 0) {
        for (;;) {
            char *p = mmap(NULL, OOM_STEP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED)
                _exit(3);
            for (unsigned long i = 0; i < OOM_STEP; i += PAGE_SIZE)
                p[i] = 1;
        }
    }
    int st;
    waitpid(c, &st, 0);
    check(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child filling RAM: status %#lx (want signal %ld)",
          st, SIGKILL);
}

/* fork() until RLIMIT_NPROC says EAGAIN. */
static void case_fork_limit(void)
{
    struct rlimit rl = { 40, 40 };
    setrlimit(RLIMIT_NPROC, &rl);
    pid_t kids[64];
    int n = 0;
    long e = 0;
    while (n < 64) {
        pid_t c = fork();
        if (c == 0) {
            pause();
            _exit(0);
        }
        if (c < 0) {
            e = errno;
            break;
        }
        kids[n++] = c;
    }
    for (int i = 0; i < n; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    check(e == EAGAIN && n < 40, "fork: %ld children, then errno %ld", n, e);
}

static void *idle(void *arg)
{
    pause();
    return arg;
}

static void case_threads(void)
{
    int n = 0;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    for (; n < 200; n++) {
        pthread_t t;
        if (pthread_create(&t, &a, idle, NULL) != 0)
            break;
    }
    check(n == 200, "created %ld threads (want %ld)", n, 200);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int depth(int n)
{
    volatile char pad[4096];
    pad[0] = (char)n;
    return depth(n + 1) + pad[0];
}

static void case_stack_overflow(void)
{
    pid_t c = fork();
    if (c == 0)
        _exit(depth(0));
    int st;
    waitpid(c, &st, 0);
    check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "endless recursion: status %#lx (want signal %ld)",
          st, SIGSEGV);
}

/* Huge lengths and counts on small buffers. */
static void case_huge_lengths(void)
{
    static char page[PAGE_SIZE] __attribute__((aligned(4096)));
    int fd = open("big", O_RDWR | O_CREAT | O_TRUNC, 0600);
    long r = sc(write(fd, page, 1UL << 40));
    check(r > 0 && r < (1L << 31), "write(1 page buffer, 1 TiB) = %ld (partial, > %ld)", r, 0);
    lseek(fd, 0, SEEK_SET);
    r = sc(read(fd, page, 1UL << 40));
    check(r >= 0, "read(small buffer, 1 TiB) = %ld (want >= %ld)", r, 0);
    struct iovec iov[1025];
    for (int i = 0; i < 1025; i++) {
        iov[i].iov_base = page;
        iov[i].iov_len = 1;
    }
    r = sc(readv(fd, iov, 1025));
    check(r == -EINVAL, "readv(1025 iovecs) = %ld (want %ld)", r, -EINVAL);
    struct pollfd pf = { fd, POLLIN, 0 };
    /* nfds and getdents64's count are unsigned ints: 2^40 is 0. */
    r = sc(poll(&pf, 1UL << 40, 0));
    check(r == 0, "poll(nfds 2^40: 0 as an unsigned int) = %ld (want %ld)", r, 0);
    r = sc(poll(&pf, (1UL << 40) | (2UL << 20), 0));      /* more than NR_OPEN */
    check(r == -EINVAL, "poll(nfds 2^40 + 2^21: over RLIMIT_NOFILE) = %ld (want %ld)", r, -EINVAL);
    int ep = epoll_create1(0);
    struct epoll_event ev;
    r = sc(epoll_wait(ep, &ev, 0x7fffffff, 0));
    check(r == -EINVAL, "epoll_wait(maxevents INT_MAX) = %ld (want %ld)", r, -EINVAL);
    r = sc(syscall(SYS_getdents64, open(".", O_RDONLY | O_DIRECTORY), page, 1UL << 40));
    check(r == -EINVAL, "getdents64(count 2^40: 0, no room) = %ld (want %ld)", r, -EINVAL);
    r = sc(syscall(SYS_getdents64, open(".", O_RDONLY | O_DIRECTORY), page, (1UL << 40) | 4096));
    check(r > 0, "getdents64(count 2^40 + 4096) = %ld (want > %ld)", r, 0);
    r = sc(ftruncate(fd, 1L << 50));
    check(r == 0 || r == -EFBIG, "ftruncate(2^50) = %ld (0 or %ld)", r, -EFBIG);
}

/* A pipe filled to its capacity, non-blocking. */
static void case_pipe_fill(void)
{
    int p[2];
    pipe2(p, O_NONBLOCK);
    static char buf[PAGE_SIZE];
    long total = 0, r;
    while ((r = write(p[1], buf, sizeof buf)) > 0)
        total += r;
    check(total == 65536 && errno == EAGAIN, "pipe took %ld bytes, then errno %ld", total, errno);
}

/* Many mappings: vm.max_map_count (65530) is the limit, ENOMEM after it. */
static void case_map_count(void)
{
    char *p = mmap(NULL, 70000 * 2 * PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    long n = 0, r = 0;
    for (long i = 0; i < 70000; i++) {
        r = sc(mprotect(p + 2 * i * PAGE_SIZE, PAGE_SIZE, PROT_NONE));
        if (r)
            break;
        n++;
    }
    check(r == -ENOMEM && n > 32000 && n < 33000, "%ld split mprotects, then %ld (ENOMEM)", n, r);
}

/* Buffers of 1 GiB (mapped, never touched: the zero page) handed to the
 * calls that copy from or to the user: each takes what Linux takes (the file
 * size limit, the pipe's or the socket's room), and the host never holds the
 * whole buffer. */
static void case_huge_buffers(void)
{
    const unsigned long len = 1UL << 30;
    struct rlimit fs = { 1 << 20, 1 << 20 };
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &fs);
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    struct iovec iov = { p, len };
    int f1 = open("w1", O_RDWR | O_CREAT | O_TRUNC, 0600);
    int f2 = open("w2", O_RDWR | O_CREAT | O_TRUNC, 0600);
    int f3 = open("w3", O_RDWR | O_CREAT | O_TRUNC, 0600);
    long r = sc(write(f1, p, len));
    check(r == 1 << 20, "write(1 GiB) under a 1 MiB RLIMIT_FSIZE = %ld (want %ld)", r, 1 << 20);
    r = sc(writev(f2, &iov, 1));
    check(r == 1 << 20, "writev(1 GiB) under a 1 MiB RLIMIT_FSIZE = %ld (want %ld)", r, 1 << 20);
    r = sc(pwritev(f3, &iov, 1, 0));
    check(r == 1 << 20, "pwritev(1 GiB) under a 1 MiB RLIMIT_FSIZE = %ld (want %ld)", r, 1 << 20);
    lseek(f1, 0, SEEK_SET);
    r = sc(read(f1, p, len));
    check(r == 1 << 20, "read(1 GiB buffer, 1 MiB file) = %ld (want %ld)", r, 1 << 20);
    r = sc(preadv2(f2, &iov, 1, 0, RWF_NOWAIT));
    check(r == 1 << 20 || r == -EAGAIN, "preadv2(RWF_NOWAIT, 1 GiB) = %ld (1 MiB or %ld)", r, -EAGAIN);
    int pp[2];
    pipe(pp);
    r = sc(vmsplice(pp[1], &iov, 1, SPLICE_F_NONBLOCK));
    check(r == 65536, "vmsplice(1 GiB into an empty pipe) = %ld (want %ld)", r, 65536);
    int pw[2];
    pipe2(pw, O_NONBLOCK);
    r = sc(write(pw[1], p, len));
    check(r == 65536, "write(1 GiB into an empty non-blocking pipe) = %ld (want %ld)", r, 65536);
    r = sc(write(pw[1], p, len));
    check(r == -EAGAIN, "write(1 GiB into a full non-blocking pipe) = %ld (want %ld)", r, -EAGAIN);
    static char drain[PAGE_SIZE];
    read(pw[0], drain, sizeof drain);
    r = sc(writev(pw[1], &iov, 1));
    check(r == PAGE_SIZE, "writev(1 GiB, room for a page) = %ld (want %ld)", r, PAGE_SIZE);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    r = sc(send(sv[0], p, len, MSG_DONTWAIT));
    check(r > 0 && r < (long)len, "send(1 GiB, MSG_DONTWAIT) = %ld (some, < %ld)", r, (long)len);
    /* setsockopt reads the int it needs, whatever optlen says. */
    int one = 1;
    r = sc(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, 1 << 30));
    check(r == 0, "setsockopt(SO_PASSCRED, optlen 1 GiB) = %ld (want %ld)", r, 0);
    /* Ancillary data past net.core.optmem_max: ENOBUFS before it is read. */
    struct iovec one_byte = { p, 1 };
    struct msghdr mh = { .msg_iov = &one_byte, .msg_iovlen = 1, .msg_control = p,
                         .msg_controllen = len };
    r = sc(syscall(SYS_sendmsg, sv[0], &mh, MSG_DONTWAIT));      /* musl's says ENOMEM itself */
    check(r == -ENOBUFS, "sendmsg(controllen 1 GiB) = %ld (want %ld)", r, -ENOBUFS);
    /* process_vm_writev of 1 GiB into a read-only mapping of our own. */
    char *ro = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    struct iovec remote = { ro, len };
    r = sc(syscall(SYS_process_vm_writev, getpid(), &iov, 1UL, &remote, 1UL, 0UL));
    check(r == -EFAULT, "process_vm_writev(1 GiB into read-only memory) = %ld (want %ld)", r, -EFAULT);
    int sw[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sw);
    fcntl(sw[0], F_SETFL, O_NONBLOCK);
    off_t o = 0;
    r = sc(sendfile(sw[0], f1, &o, len));
    check(r > 0 && r <= 1 << 20 && o == r, "sendfile(count 1 GiB, 1 MiB file, non-blocking) = %ld, "
          "offset %ld", r, (long)o);
}

/* Reads of a sparse file (no disk behind it) into a big buffer: read,
 * pread and a read that runs into an unmapped page (short at the fault). */
static void case_sparse_read(void)
{
    const unsigned long len = 48UL << 20;       /* under the fuzz's host RLIMIT_FSIZE */
    int fd = open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0600);
    long r = sc(ftruncate(fd, len));
    pwrite(fd, "hello", 5, len - 5);
    char *p = mmap(NULL, len + PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + len - 2 * PAGE_SIZE, 3 * PAGE_SIZE);
    r = sc(pread(fd, p, len, 0));
    check(r == (long)(len - 2 * PAGE_SIZE), "pread(48 MiB, the buffer's last 2 pages unmapped) = %ld "
          "(want %ld)", r, (long)(len - 2 * PAGE_SIZE));
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    r = sc(read(fd, p, len));
    check(r == (long)len && !memcmp(p + len - 5, "hello", 5), "read(48 MiB sparse file) = %ld "
          "(want %ld, \"hello\" at the end)", r, (long)len);
    unlink("sparse");
}

/* A write whose buffer runs into an unmapped page, or whose second iovec
 * is bad: generic_perform_write() writes up to the fault and returns that
 * count; nothing readable at all is EFAULT.  (Checked against the host
 * kernel: gcc -o fr fuzz_resources.c && ./fr partial_writes.) */
static void case_partial_writes(void)
{
    char *p = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + PAGE_SIZE, PAGE_SIZE);
    memset(p, 'a', PAGE_SIZE);
    int f = open("pw", O_RDWR | O_CREAT | O_TRUNC, 0600);
    long r = sc(write(f, p + PAGE_SIZE - 100, 300));
    check(r == 100, "write(100 readable bytes of 300) = %ld (want %ld)", r, 100);
    struct iovec iov[2] = { { p, 10 }, { p + PAGE_SIZE, 10 } };
    r = sc(writev(f, iov, 2));
    check(r == 10, "writev(good 10, bad 10) = %ld (want %ld)", r, 10);
    r = sc(pwritev(f, iov, 2, 0));
    check(r == 10, "pwritev(good 10, bad 10) = %ld (want %ld)", r, 10);
    r = sc(writev(f, iov + 1, 1));
    check(r == -EFAULT, "writev(bad 10) = %ld (want %ld)", r, -EFAULT);
    r = sc(lseek(f, 0, SEEK_END));
    check(r == 110, "file size %ld (want %ld)", r, 110);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    /* A socket copies a message (an skb) whole: a fault in it fails it. */
    r = sc(send(sv[0], p + PAGE_SIZE - 100, 300, 0));
    check(r == -EFAULT, "send(stream, 100 readable bytes of 300) = %ld (want %ld)", r, -EFAULT);
    r = sc(send(sv[0], p + PAGE_SIZE, 300, 0));
    check(r == -EFAULT, "send(stream, nothing readable) = %ld (want %ld)", r, -EFAULT);
    int dv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, dv);
    r = sc(send(dv[0], p + PAGE_SIZE - 100, 300, 0));
    check(r == -EFAULT, "send(datagram, 100 readable bytes of 300) = %ld (want %ld)", r, -EFAULT);
}

/* A child cloned with SIGKILL as its exit signal, orphaned: its new parent
 * (init, us) hears SIGCHLD — reparent_leader(): "We don't want people
 * slaying init" — nor a subreaper. */
static void case_reparent_signal(void)
{
    /* A subreaper, so that the same holds under qemu-aarch64 (not init there). */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t c = (pid_t)syscall(SYS_clone, (unsigned long)SIGKILL, 0UL, 0UL, 0UL, 0UL);
        if (c == 0) {
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);   /* let the middle process exit first */
            _exit(7);
        }
        _exit(0);
    }
    waitpid(mid, NULL, 0);
    /* The orphan is ours now; __WALL: its exit signal was not SIGCHLD. */
    int st = 0;
    pid_t w = waitpid(-1, &st, __WALL);
    check(w > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7, "orphan reaped by init: status %#lx, pid %ld",
          st, w);
}

/* Jumps through wild pointers: a kernel address is SIGSEGV (do_bad_area),
 * a misaligned pc SIGBUS BUS_ADRALN (do_sp_pc_abort: the PC alignment fault
 * comes before the instruction abort), 0xffffffffffffffff included. */
static void case_wild_jumps(void)
{
    static const struct { unsigned long to; int sig; } jumps[] = {
        { 0xfffffffffffffff0UL, SIGSEGV },
        { 0xfffffffffffff000UL, SIGSEGV },
        { 0x1001UL, SIGBUS },
        { 0xffffffffffffffffUL, SIGBUS },
    };
    for (unsigned i = 0; i < sizeof jumps / sizeof jumps[0]; i++) {
        pid_t c = fork();
        if (c == 0) {
            void (*f)(void) = (void (*)(void))jumps[i].to;
            f();
            _exit(0);
        }
        int st;
        waitpid(c, &st, 0);
        check(WIFSIGNALED(st) && WTERMSIG(st) == jumps[i].sig, "jump to %#lx: status %#lx",
              (long)jumps[i].to, st);
    }
}

static const struct {
    const char *name;
    void (*run)(void);
} cases[] = {
    { "mincore_huge", case_mincore_huge },
    { "open_many", case_open_many },
    { "badfd_mode", case_badfd_mode },
    { "mprotect_huge", case_mprotect_huge },
    { "mremap_huge", case_mremap_huge },
    { "ranges_huge", case_ranges_huge },
    { "oom", case_oom },
    { "fork_limit", case_fork_limit },
    { "threads", case_threads },
    { "stack_overflow", case_stack_overflow },
    { "huge_lengths", case_huge_lengths },
    { "pipe_fill", case_pipe_fill },
    { "map_count", case_map_count },
    { "reparent_signal", case_reparent_signal },
    { "huge_buffers", case_huge_buffers },
    { "partial_writes", case_partial_writes },
    { "wild_jumps", case_wild_jumps },
    { "sparse_read", case_sparse_read },
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || !strcmp(argv[1], "list")) {
        for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
            printf("%s\n", cases[i].name);
        return argc < 2 ? 2 : 0;
    }
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!strcmp(argv[1], cases[i].name)) {
            name = cases[i].name;
            cases[i].run();
            return failed;
        }
    fprintf(stderr, "fuzz_resources: no case %s\n", argv[1]);
    return 2;
}
