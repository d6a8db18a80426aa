/*
 * syscalls.c - edge cases of the memory and process system calls.
 *
 * Each line prints what the kernel answered (an errno name, a value, or a
 * yes/no), never an address, so the output can be compared byte for byte.
 * The comment above each call says what Linux does and why.  Most calls are
 * made with syscall() so that libc cannot answer (or refuse) in the
 * kernel's place.  The program creates ./syscalls.tmp and removes it again,
 * so run it in a writable directory.  Exit status 0 unless setup failed.
 */
#include "common.h"
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/ioctl.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define TMP_NAME "syscalls.tmp"

/* errno_name() from common.h, plus the few this program adds. */
static const char *ename(int e)
{
    switch (e) {
    case ERANGE: return "ERANGE";
    case EOVERFLOW: return "EOVERFLOW";
    default: return errno_name(e);
    }
}

/* "what: ERRNO" for a call expected to fail, "what: succeeded" otherwise. */
static void report(const char *what, long rc)
{
    int e = errno;
    printf("%s: %s\n", what, rc == -1 ? ename(e) : "succeeded");
}

/* The same for mmap(), whose failure value is MAP_FAILED. */
static void report_mmap(const char *what, void *p, size_t len)
{
    int e = errno;
    if (p == MAP_FAILED) {
        printf("%s: %s\n", what, ename(e));
    } else {
        printf("%s: succeeded\n", what);
        munmap(p, len);
    }
}

static long raw_brk(unsigned long addr)
{
    return syscall(SYS_brk, addr);
}

int main(int argc, char **argv)
{
    char *p, buf[64];
    unsigned long b0, b;
    int fd, rofd, minflt_before;
    long rc;
    struct rusage ru;
    struct rlimit rl;
    struct utsname u;
    char tio[64];               /* the kernel's struct termios is 36 bytes */
    cpu_set_t set;

    /* ---- brk: it never fails with an errno, it returns the break ---- */
    printf("-- brk --\n");
    /* brk(0) is an invalid request: it simply returns the current break */
    b0 = (unsigned long)raw_brk(0);
    printf("brk(0) twice gives the same break: %s\n",
           (unsigned long)raw_brk(0) == b0 ? "yes" : "no");
    /* a break below the end of the data segment is refused (min_brk):
     * the call "succeeds" but returns the unchanged break */
    printf("brk(address of main) leaves the break unchanged: %s\n",
           (unsigned long)raw_brk((unsigned long)&main) == b0 ? "yes" : "no");
    /* growing by a page returns exactly the requested value ... */
    b = (unsigned long)raw_brk(b0 + PAGE);
    printf("brk(break + 4096) returns the new break: %s\n", b == b0 + PAGE ? "yes" : "no");
    /* ... and giving it back works too */
    printf("brk(old break) shrinks it back: %s\n",
           (unsigned long)raw_brk(b0) == b0 ? "yes" : "no");

    /* ---- mmap argument checks (do_mmap / ksys_mmap_pgoff) ---- */
    printf("-- mmap errors --\n");
    rofd = open(argv[0], O_RDONLY);     /* any readable file will do */
    if (rofd < 0) {
        perror("open argv[0]");
        return 1;
    }
    /* a zero length is meaningless */
    report_mmap("mmap(len 0)",
                mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 0);
    /* the file offset must be a multiple of the page size */
    report_mmap("mmap(file, offset 100)",
                mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, rofd, 100), PAGE);
    /* a file mapping needs an open file */
    report_mmap("mmap(fd 1000, not open)",
                mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 1000, 0), PAGE);
    /* every mapping is either MAP_SHARED or MAP_PRIVATE */
    report_mmap("mmap(neither MAP_SHARED nor MAP_PRIVATE)",
                mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0), PAGE);
    /* writing through a shared mapping would write the file: the file must
     * have been opened for writing */
    report_mmap("mmap(PROT_WRITE, MAP_SHARED, O_RDONLY fd)",
                mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, rofd, 0), PAGE);
    close(rofd);

    /* MAP_FIXED_NOREPLACE (Linux 4.17): like MAP_FIXED, but instead of
     * silently replacing what is there it fails with EEXIST */
    p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    {
        char *q = mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                       -1, 0);
        int e = errno;
        if (q == MAP_FAILED)
            printf("mmap(MAP_FIXED_NOREPLACE over an existing mapping): %s\n", ename(e));
        else if (q == p)
            printf("mmap(MAP_FIXED_NOREPLACE over an existing mapping): replaced it\n");
        else {
            printf("mmap(MAP_FIXED_NOREPLACE over an existing mapping): "
                   "succeeded elsewhere (flag ignored)\n");
            munmap(q, PAGE);
        }
    }

    /* ---- munmap / mprotect ---- */
    printf("-- munmap, mprotect, madvise --\n");
    /* the start of the range must be page aligned */
    report("munmap(p + 1, 4096)", munmap(p + 1, PAGE));
    /* mprotect on a range with a hole (or nothing) in it: ENOMEM */
    munmap(p, 2 * PAGE);
    report("mprotect(unmapped range)", mprotect(p, PAGE, PROT_READ));

    /* madvise(MADV_DONTNEED) drops the pages of a private anonymous
     * mapping: the next touch faults in a fresh zero page */
    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    p[0] = 'x';
    report("madvise(MADV_DONTNEED)", madvise(p, PAGE, MADV_DONTNEED));
    printf("the page reads back as zero: %s\n", p[0] == 0 ? "yes" : "no");
    munmap(p, PAGE);

    /* ---- getrusage: every first touch of a page is a minor fault ---- */
    printf("-- getrusage --\n");
    p = mmap(NULL, 100 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    getrusage(RUSAGE_SELF, &ru);
    minflt_before = (int)ru.ru_minflt;
    for (int i = 0; i < 100; i++)
        ((volatile char *)p)[i * PAGE] = 1;
    getrusage(RUSAGE_SELF, &ru);
    printf("ru_minflt after touching 100 new pages: %s\n",
           ru.ru_minflt - minflt_before >= 100 ? "increased by >= 100" : "increased by < 100");
    munmap(p, 100 * PAGE);

    /* ---- limits, CPUs, identity ---- */
    printf("-- limits and identity --\n");
    rc = syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &rl);
    if (rc == 0 && rl.rlim_cur == RLIM_INFINITY)
        printf("prlimit64(RLIMIT_STACK): soft limit unlimited\n");
    else if (rc == 0)
        printf("prlimit64(RLIMIT_STACK): soft limit %lu KiB\n",
               (unsigned long)(rl.rlim_cur >> 10));
    else
        report("prlimit64(RLIMIT_STACK)", rc);
    printf("prlimit64(RLIMIT_STACK): hard >= soft: %s\n",
           rc == 0 && rl.rlim_max >= rl.rlim_cur ? "yes" : "no");

    CPU_ZERO(&set);
    rc = sched_getaffinity(0, sizeof(set), &set);
    if (rc == 0)
        printf("sched_getaffinity: %d cpus\n", CPU_COUNT(&set));
    else
        report("sched_getaffinity", rc);

    uname(&u);
    printf("uname: machine %s\n", u.machine);

    /* ---- descriptors ---- */
    printf("-- descriptors --\n");
    /* TCGETS asks for terminal settings: a pipe or file is no terminal */
    rc = syscall(SYS_ioctl, 1, TCGETS, tio);
    if (rc == 0)
        printf("ioctl(1, TCGETS): succeeded (stdout is a terminal)\n");
    else
        report("ioctl(1, TCGETS)", rc);

    fd = open(TMP_NAME, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror("open " TMP_NAME);
        return 1;
    }
    /* F_GETFL returns the file's status flags.  The kernel forgets the
     * open-time-only flags (O_CREAT, O_TRUNC, O_EXCL, O_NOCTTY) and adds
     * O_LARGEFILE (0x20000 on arm64) on every 64-bit open: O_RDWR gives
     * 0x20002. */
    rc = fcntl(fd, F_GETFL);
    printf("fcntl(F_GETFL) of an O_RDWR|O_CREAT|O_TRUNC open: %#lx (O_ACCMODE is %s)\n",
           rc, (rc & O_ACCMODE) == O_RDWR ? "O_RDWR" : "not O_RDWR");
    /* dup3 (unlike dup2) refuses oldfd == newfd */
    report("dup3(fd, fd, 0)", syscall(SYS_dup3, fd, fd, 0));
    close(fd);
    unlink(TMP_NAME);

    /* getcwd needs room for the whole path and its NUL */
    report("getcwd(buf, 1)", syscall(SYS_getcwd, buf, 1));

    /* a number no system call has */
    report("syscall(999)", syscall(999));

    printf("done\n");
    return 0;
}
