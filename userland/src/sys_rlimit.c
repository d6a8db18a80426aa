/*
 * sys_rlimit.c - resource limits (issue 9, part 3): getrlimit/setrlimit/
 * prlimit64 for every limit with their errors, and each limit the kernel
 * enforces: NOFILE, FSIZE (SIGXFSZ), NPROC, CPU (SIGXCPU, then SIGKILL),
 * AS, DATA, MEMLOCK.
 *
 * Self-checking; run as root.  Each part runs in a child (limits only
 * ever go down without CAP_SYS_RESOURCE, so each part starts from the
 * parent's), which the parent waits for at once.  Non-root behaviour is
 * reached by setresuid() to a uid no other process has.  Nothing printed
 * depends on the machine except whether the host's root has
 * CAP_SYS_RESOURCE (a container's root often has not).
 *
 * `sys_rlimit cpu0` prints what getrlimit() says after setrlimit(RLIMIT_CPU,
 * {0, RLIM_INFINITY}): 4.14 stores 1 (kernel/sys.c do_prlimit(): "we use
 * the zero value to mean it was never set, so let's cheat and make it one
 * second"); newer kernels store 0.
 */
#include "proc.h"

#include <stdint.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

/* A uid no other process on the machine has: one per run, so two runs at
 * once (the tests run the host build for each libc, in parallel) never
 * count each other's processes against RLIMIT_NPROC. */
static uid_t LONE;
#define NO_SUCH_PID 0x7ffffff0
#define NR_OPEN 1048576         /* fs/file.c: sysctl_nr_open's default */
#define MB (1024UL * 1024)
#define SCRATCH "sys_rlimit.tmp"

struct k_rlimit { uint64_t cur, max; };

static volatile sig_atomic_t got_xfsz, got_xcpu;

static const char *ename(int e)
{
    switch (e) {
    case EMFILE: return "EMFILE";
    case EFBIG: return "EFBIG";
    default: return errno_name(e);
    }
}

static long k_getrlimit(int r, struct k_rlimit *rl) { return syscall(SYS_getrlimit, r, rl); }
static long k_setrlimit(int r, const struct k_rlimit *rl) { return syscall(SYS_setrlimit, r, rl); }
static long k_prlimit(pid_t pid, int r, const struct k_rlimit *n, struct k_rlimit *o)
{
    return syscall(SYS_prlimit64, pid, r, n, o);
}

static int cap_sys_resource(void)
{
    struct { uint32_t version; int pid; } h = {0x20080522u, 0};
    struct { uint32_t e, p, i; } d[2];

    syscall(SYS_capget, &h, d);
    return (d[0].e >> 24) & 1;
}

static void set_both(int r, uint64_t v)
{
    struct k_rlimit rl = {v, v};

    if (k_setrlimit(r, &rl) < 0)
        printf("  FAILED: setrlimit(%d, %llu): %s\n", r, (unsigned long long)v, ename(errno));
}

/* Run fn in a child whose output comes back through a pipe (so that a
 * child's RLIMIT_FSIZE never applies to our stdout, which may be a file). */
static void part(const char *title, void (*fn)(void))
{
    pid_t pid;
    int status, out[2];
    char buf[512];
    ssize_t n;

    printf("%s\n", title);
    if (pipe(out) < 0) {
        printf("FAILED: pipe: %s\n", ename(errno));
        exit(1);
    }
    pid = xfork();
    if (pid == 0) {
        check_failures = 0;
        close(out[0]);
        dup2(out[1], 1);
        close(out[1]);
        fn();
        fflush(stdout);
        _exit(check_failures ? 1 : 0);
    }
    close(out[1]);
    while ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            fwrite(buf, 1, n, stdout);
    close(out[0]);
    status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child %s", title, status_str(status));
}

static void every_limit(void)
{
    struct k_rlimit rl, old;
    int r, all = 1;

    for (r = 0; r < RLIM_NLIMITS; r++) {
        if (k_getrlimit(r, &rl) < 0 || k_setrlimit(r, &rl) < 0 || k_prlimit(0, r, &rl, &old) < 0
            || old.cur != rl.cur || old.max != rl.max || rl.cur > rl.max)
            all = 0;
    }
    CHECK(all, "each of the 16 limits: get, set to itself, prlimit64 round trip");
    CHECK(k_getrlimit(RLIM_NLIMITS, &rl) < 0 && errno == EINVAL, "getrlimit(RLIM_NLIMITS): EINVAL");
    CHECK(k_setrlimit(RLIM_NLIMITS, &rl) < 0 && errno == EINVAL, "setrlimit(RLIM_NLIMITS): EINVAL");
    CHECK(k_prlimit(0, RLIM_NLIMITS, NULL, &old) < 0 && errno == EINVAL, "prlimit64(RLIM_NLIMITS): EINVAL");
    CHECK(k_getrlimit(RLIMIT_NOFILE, (void *)8) < 0 && errno == EFAULT, "getrlimit(bad pointer): EFAULT");
    CHECK(k_setrlimit(RLIMIT_NOFILE, (void *)8) < 0 && errno == EFAULT, "setrlimit(bad pointer): EFAULT");
    CHECK(k_setrlimit(RLIM_NLIMITS, (void *)8) < 0 && errno == EFAULT,
          "setrlimit(RLIM_NLIMITS, bad pointer): EFAULT first");
    CHECK(k_prlimit(0, RLIM_NLIMITS, (void *)8, NULL) < 0 && errno == EFAULT,
          "prlimit64(RLIM_NLIMITS, bad new): EFAULT first");
    CHECK(k_prlimit(NO_SUCH_PID, RLIM_NLIMITS, NULL, &old) < 0 && errno == ESRCH,
          "prlimit64(no such pid, RLIM_NLIMITS): ESRCH first");
    k_getrlimit(RLIMIT_NOFILE, &rl);
    old = rl;
    rl.cur = rl.max + 1;
    CHECK(k_setrlimit(RLIMIT_NOFILE, &rl) < 0 && errno == EINVAL, "soft above hard: EINVAL");
    rl.cur = 64;
    rl.max = old.max;
    CHECK(k_prlimit(0, RLIMIT_NOFILE, &rl, (void *)8) < 0 && errno == EFAULT,
          "prlimit64(bad old): EFAULT ...");
    CHECK(k_getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.cur == 64, "... and the new limit is set anyway");
    rl.cur = rl.max = NR_OPEN + 1;
    CHECK(k_setrlimit(RLIMIT_NOFILE, &rl) < 0 && errno == EPERM, "NOFILE above nr_open: EPERM");
    rl.cur = 32;
    rl.max = old.max - 1;
    CHECK(k_setrlimit(RLIMIT_NOFILE, &rl) == 0, "lower the hard NOFILE limit: 0");
    rl.max = old.max;
    printf("  root has CAP_SYS_RESOURCE: %s\n", YESNO(cap_sys_resource()));
    CHECK(cap_sys_resource() ? k_setrlimit(RLIMIT_NOFILE, &rl) == 0
                             : k_setrlimit(RLIMIT_NOFILE, &rl) < 0 && errno == EPERM,
          "raise it again: 0 with CAP_SYS_RESOURCE, else EPERM");
    CHECK(setresuid(LONE, LONE, LONE) == 0, "drop to an unprivileged uid");
    rl.max = old.max;
    rl.cur = 16;
    k_setrlimit(RLIMIT_NOFILE, &rl);
    rl.max = old.max - 2;
    CHECK(k_setrlimit(RLIMIT_NOFILE, &rl) == 0, "unprivileged: lower a hard limit: 0");
    rl.max = old.max - 1;
    CHECK(k_setrlimit(RLIMIT_NOFILE, &rl) < 0 && errno == EPERM, "unprivileged: raise it: EPERM");
    rl.cur = rl.max = old.max - 2;
    CHECK(k_setrlimit(RLIMIT_NOFILE, &rl) == 0, "unprivileged: soft up to the hard limit: 0");
}

static void other_process(void)
{
    int ready[2], go[2];
    pid_t pid;
    char c;
    int status;
    struct k_rlimit rl, old;

    if (pipe(ready) < 0 || pipe(go) < 0)
        return;
    pid = xfork();
    if (pid == 0) {
        struct k_rlimit mine;
        if (setresuid(LONE, LONE, LONE) < 0)
            _exit(9);
        write(ready[1], "r", 1);
        read(go[0], &c, 1);
        k_getrlimit(RLIMIT_NOFILE, &mine);
        _exit(mine.cur == 77 ? 0 : 1);
    }
    read(ready[0], &c, 1);
    CHECK(k_prlimit(pid, RLIMIT_NOFILE, NULL, &old) == (cap_sys_resource() ? 0 : -1),
          "prlimit64 on another user's process: 0 with CAP_SYS_RESOURCE, else EPERM");
    rl.cur = 77;
    rl.max = 77;
    if (cap_sys_resource())
        k_prlimit(pid, RLIMIT_NOFILE, &rl, NULL);
    write(go[1], "g", 1);
    status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == (cap_sys_resource() ? 0 : 1),
          "the child sees the limit set for it (when it could be)");

    pid = xfork();
    if (pid == 0) {
        read(go[0], &c, 1);
        _exit(0);
    }
    rl.cur = rl.max = 55;
    CHECK(k_prlimit(pid, RLIMIT_CORE, &rl, &old) == 0, "prlimit64 on a child of the same user: 0");
    CHECK(k_prlimit(pid, RLIMIT_CORE, NULL, &old) == 0 && old.cur == 55 && old.max == 55,
          "and reads back 55");
    write(go[1], "g", 1);
    wait_for(pid);
    CHECK(setresuid(LONE, LONE, LONE) == 0, "drop to an unprivileged uid");
    CHECK(k_prlimit(getppid(), RLIMIT_CORE, NULL, &old) < 0 && errno == EPERM,
          "unprivileged prlimit64 on root's process: EPERM");
}

static void nofile(void)
{
    struct k_rlimit rl;
    int fd, last = -1, fds[2];

    k_getrlimit(RLIMIT_NOFILE, &rl);
    rl.cur = 10;
    CHECK(k_setrlimit(RLIMIT_NOFILE, &rl) == 0, "RLIMIT_NOFILE soft 10");
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        last = fd;
    CHECK(errno == EMFILE && last == 9, "open until it fails: the last fd is 9, then %s", ename(errno));
    CHECK(open(SCRATCH, O_RDWR | O_CREAT, 0600) < 0 && errno == EMFILE &&
          access(SCRATCH, F_OK) < 0 && errno == ENOENT, "open(O_CREAT): EMFILE, nothing created");
    CHECK(dup(0) < 0 && errno == EMFILE, "dup: EMFILE");
    CHECK(pipe(fds) < 0 && errno == EMFILE, "pipe: EMFILE");
    CHECK(dup2(0, 10) < 0 && errno == EBADF, "dup2(0, 10): EBADF");
    CHECK(fcntl(0, F_DUPFD, 10) < 0 && errno == EINVAL, "fcntl(F_DUPFD, 10): EINVAL");
    close(9);
    CHECK(fcntl(0, F_DUPFD, 5) == 9, "a free slot below the limit: fcntl(F_DUPFD, 5) gives 9");
    rl.cur = 4;
    CHECK(k_setrlimit(RLIMIT_NOFILE, &rl) == 0, "lower the limit below open descriptors: 0");
    CHECK(fcntl(9, F_GETFD) == 0, "descriptors above it stay open");
    close(3);
    CHECK(dup(0) == 3, "a free slot below it is still usable");
}

static void on_xfsz(int sig)
{
    got_xfsz++;
}

static void fsize(void)
{
    int fd, afd, p[2];
    char buf[256];
    struct iovec iov[2] = {{buf, 10}, {buf, 10}};

    memset(buf, 'x', sizeof buf);
    signal(SIGXFSZ, on_xfsz);
    set_both(RLIMIT_FSIZE, 100);
    fd = open(SCRATCH, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0, "scratch file");
    CHECK(write(fd, buf, 150) == 100, "write 150 bytes from 0: 100 written");
    CHECK(write(fd, buf, 1) < 0 && errno == EFBIG && got_xfsz == 1, "write at the limit: EFBIG, SIGXFSZ");
    CHECK(pwrite(fd, buf, 100, 50) == 50, "pwrite 100 bytes at 50: 50 written");
    CHECK(pwrite(fd, buf, 1, 100) < 0 && errno == EFBIG && got_xfsz == 2, "pwrite at 100: EFBIG, SIGXFSZ");
    CHECK(write(fd, buf, 0) == 0, "a write of 0 bytes at the limit: 0, no signal");
    CHECK(writev(fd, iov, 2) < 0 && errno == EFBIG && got_xfsz == 3, "writev at the limit: EFBIG, SIGXFSZ");
    CHECK(ftruncate(fd, 200) < 0 && errno == EFBIG && got_xfsz == 4, "ftruncate(200): EFBIG, SIGXFSZ");
    CHECK(ftruncate(fd, 100) == 0 && ftruncate(fd, 60) == 0, "ftruncate to 100, then 60: 0");
    afd = open(SCRATCH, O_WRONLY | O_APPEND);
    CHECK(write(afd, buf, 80) == 40, "O_APPEND at 60: 40 written");
    CHECK(write(afd, buf, 1) < 0 && errno == EFBIG && got_xfsz == 5, "O_APPEND at the limit: EFBIG");
    close(afd);
    CHECK(pipe(p) == 0 && write(p[1], buf, 200) == 200, "a pipe is not limited: 200 written");
    close(fd);
    unlink(SCRATCH);
}

static void fsize_default(void)
{
    pid_t pid;
    int status;

    pid = xfork();
    if (pid == 0) {
        int fd;
        set_both(RLIMIT_CORE, 0);
        set_both(RLIMIT_FSIZE, 10);
        fd = open(SCRATCH, O_RDWR | O_CREAT | O_TRUNC, 0600);
        unlink(SCRATCH);
        if (write(fd, "0123456789", 10) != 10)
            _exit(3);
        write(fd, "!", 1);
        _exit(4);
    }
    status = wait_for(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ, "SIGXFSZ's default action ends the writer");
}

static void nproc(void)
{
    int go[2];
    pid_t a, b;
    char c;

    set_both(RLIMIT_NPROC, 2);
    a = xfork();
    if (a == 0)
        _exit(0);
    CHECK(wait_for(a) == 0, "root is not limited by RLIMIT_NPROC 2 (root runs more): fork works");
    CHECK(setresuid(LONE, LONE, LONE) == 0, "drop to an unprivileged uid");
    if (pipe(go) < 0)
        return;
    a = fork();
    if (a == 0) {
        read(go[0], &c, 1);
        _exit(0);
    }
    CHECK(a > 0, "RLIMIT_NPROC 2: a first child: ok");
    b = fork();
    if (b == 0)
        _exit(0);
    CHECK(b < 0 && errno == EAGAIN, "a second child: EAGAIN");
    write(go[1], "g", 1);
    wait_for(a);
    b = fork();
    if (b == 0)
        _exit(0);
    CHECK(b > 0, "after the first is reaped: fork works again");
    a = fork();
    if (a == 0)
        _exit(0);
    CHECK(a < 0 && errno == EAGAIN, "an unreaped zombie still counts: EAGAIN");
    wait_for(b);
}

static char *self_path;

/*
 * set_user() notes PF_NPROC_EXCEEDED when the new user already has
 * RLIMIT_NPROC tasks, and execve() then fails with EAGAIN until the user is
 * back under the limit.  4.14 notes it whoever calls; since v5.17 (commit
 * 2863643fb8b9, "set_user: add capability check when rlimit(RLIMIT_NPROC)
 * exceeds") not when the caller has CAP_SYS_RESOURCE or CAP_SYS_ADMIN — as
 * root calling setresuid() has.  The exec'd image says which happened.
 */
static void nproc_exec(void)
{
    int go[2], ready[2];
    pid_t a;
    char c;
    char *at_once[] = {self_path, "exec-ok", "runs at once", NULL};
    char *after[] = {self_path, "exec-ok", "EAGAIN, then runs once back under it", NULL};

    if (pipe(go) < 0 || pipe(ready) < 0)
        return;
    a = xfork();
    if (a == 0) {
        struct pollfd p = {go[0], POLLIN, 0};
        if (setresuid(LONE, LONE, LONE) < 0)
            _exit(9);
        write(ready[1], "r", 1);
        poll(&p, 1, 3000);          /* released by the parent, or gone by itself */
        _exit(0);
    }
    read(ready[0], &c, 1);
    set_both(RLIMIT_NPROC, 1);
    CHECK(setresuid(LONE, LONE, LONE) == 0, "setresuid to a user already at RLIMIT_NPROC: 0");
    fflush(stdout);
    execv(self_path, at_once);
    if (errno != EAGAIN) {          /* refused, it must be for the limit */
        printf("  FAILED: execve: %s\n", ename(errno));
        check_failures++;
    }
    write(go[1], "g", 1);
    wait_for(a);
    execv(self_path, after);
    CHECK(0, "execve once back under the limit: %s", ename(errno));
}

static void on_xcpu(int sig)
{
    got_xcpu++;
}

static void cpu(void)
{
    int report[2];
    pid_t pid;
    int status;
    char c = '?';

    if (pipe(report) < 0)
        return;
    pid = xfork();
    if (pid == 0) {
        struct k_rlimit rl = {1, 2};
        double start = now_mono();
        volatile unsigned long spin = 0;

        signal(SIGXCPU, on_xcpu);
        k_setrlimit(RLIMIT_CPU, &rl);
        while (!got_xcpu && now_mono() - start < 60)
            spin++;
        k_getrlimit(RLIMIT_CPU, &rl);
        c = got_xcpu && rl.cur == 2 ? 'y' : 'n';
        write(report[1], &c, 1);
        while (now_mono() - start < 60)
            spin++;
        _exit(5);
    }
    close(report[1]);
    read(report[0], &c, 1);
    status = wait_for(pid);
    CHECK(c == 'y', "at the 1 s soft limit: SIGXCPU, and the soft limit moves to 2");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "at the 2 s hard limit: %s",
          status_str(status));
}

static void memory(void)
{
    void *p;
    long cur, got;
    char *page;

    set_both(RLIMIT_AS, 1024 * MB);
    p = mmap(NULL, 2048 * MB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(p == MAP_FAILED && errno == ENOMEM, "RLIMIT_AS 1 GiB: mmap 2 GiB: ENOMEM");
    p = mmap(NULL, 16 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap 16 MiB: ok");
    munmap(p, 16 * MB);
    set_both(RLIMIT_DATA, 64 * MB);
    p = mmap(NULL, 128 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p == MAP_FAILED && errno == ENOMEM, "RLIMIT_DATA 64 MiB: private writable 128 MiB: ENOMEM");
    p = mmap(NULL, 128 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "read-only 128 MiB is not data: ok");
    munmap(p, 128 * MB);
    cur = syscall(SYS_brk, 0);
    got = syscall(SYS_brk, cur + 128 * MB);
    CHECK(got == cur, "brk 128 MiB past the limit: the break stays");
    got = syscall(SYS_brk, cur + MB);
    CHECK(got == cur + (long)MB, "brk 1 MiB: moves");
    syscall(SYS_brk, cur);
    page = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    set_both(RLIMIT_MEMLOCK, PAGE);
    CHECK(mlock(page, 2 * PAGE) == 0, "root (CAP_IPC_LOCK): mlock past RLIMIT_MEMLOCK: 0");
    munlock(page, 2 * PAGE);
    CHECK(setresuid(LONE, LONE, LONE) == 0, "drop to an unprivileged uid");
    CHECK(mlock(page, PAGE) == 0, "unprivileged: mlock one page (the limit): 0");
    CHECK(mlock(page + PAGE, PAGE) < 0 && errno == ENOMEM, "one more: ENOMEM");
    p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    CHECK(p == MAP_FAILED && errno == EAGAIN, "MAP_LOCKED past the limit: EAGAIN");
    munlock(page, PAGE);
    set_both(RLIMIT_MEMLOCK, PAGE - 1);
    CHECK(mlock(page, PAGE) < 0 && errno == ENOMEM,
          "RLIMIT_MEMLOCK below a page: mlock: ENOMEM (can_do_mlock() reads bytes)");
    set_both(RLIMIT_MEMLOCK, 0);
    CHECK(mlock(page, PAGE) < 0 && errno == EPERM, "RLIMIT_MEMLOCK 0: mlock: EPERM");
}

static void cpu0(void)
{
    struct k_rlimit rl = {0, RLIM_INFINITY};

    signal(SIGXCPU, SIG_IGN);
    k_setrlimit(RLIMIT_CPU, &rl);
    k_getrlimit(RLIMIT_CPU, &rl);
    printf("RLIMIT_CPU soft after setting 0: %llu\n", (unsigned long long)rl.cur);
}

int main(int argc, char **argv)
{
    LONE = 50000 + (uid_t)(getpid() % 10000);
    proc_init();
    self_path = argv[0];
    if (argc > 1 && strcmp(argv[1], "exec-ok") == 0) {
        printf("  execve over RLIMIT_NPROC: %s\n", argc > 2 ? argv[2] : "?");
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "cpu0") == 0) {
        cpu0();
        return 0;
    }
    if (geteuid() != 0) {
        printf("sys_rlimit: run me as root (a53emu: --root)\n");
        return 2;
    }
    part("every limit", every_limit);
    part("another process's limits", other_process);
    part("RLIMIT_NOFILE", nofile);
    part("RLIMIT_FSIZE", fsize);
    part("RLIMIT_FSIZE, SIGXFSZ not caught", fsize_default);
    part("RLIMIT_NPROC", nproc);
    part("RLIMIT_NPROC and execve", nproc_exec);
    part("RLIMIT_CPU", cpu);
    part("RLIMIT_AS, RLIMIT_DATA, RLIMIT_MEMLOCK", memory);
    printf("%s\n", check_failures ? "some checks FAILED" : "all checks passed");
    return check_failures ? 1 : 0;
}
