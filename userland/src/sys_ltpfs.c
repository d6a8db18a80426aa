/*
 * sys_ltpfs.c - what the Linux Test Project's file-system tests found
 * (issue 9, docs/ltp-fs.md): lseek's SEEK_DATA/SEEK_HOLE (lseek11),
 * newfstatat's and statx's flag checks and a NULL path (fstatat01,
 * lstat02), and linkat of /proc/self/fd/N with AT_SYMLINK_FOLLOW, which is
 * how an O_TMPFILE file gets a name (openat03); a write lease breaking
 * for a writer cannot become a read lease (fcntl33); truncate(2) past
 * RLIMIT_FSIZE is EFBIG (truncate03).
 *
 * Every call is made with syscall(2), so the kernel answers and not the C
 * library.  Nothing printed depends on the machine (no inode number, time
 * or block size), so the host build on the real kernel and the AArch64
 * build under a53emu print the same lines.  Everything happens in a
 * scratch directory under the current one, removed at the end.
 *
 *   sys_ltpfs           all checks
 *   sys_ltpfs 4.14      the answers where 4.14 and newer kernels differ
 *                       (compared with 4.14's by the test, not the host's)
 */
#define _GNU_SOURCE
#include "proc.h"

#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define DIR_NAME "sys_ltpfs.d"
#define SPARSE_SIZE (1L << 20)        /* far past any file system's block */

#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#define AT_STATX_FORCE_SYNC_ 0x2000
#define AT_STATX_DONT_SYNC_ 0x4000
#define STATX_BASIC_STATS_ 0x7ff
#define STATX_RESERVED_ 0x80000000U
#define STATX_BUF_SIZE 256             /* struct statx */
#define HIGH_FD 200

static long sys_lseek(int fd, long off, int whence)
{
    return syscall(SYS_lseek, fd, off, whence);
}

static long fpos(int fd)
{
    return sys_lseek(fd, 0, SEEK_CUR);
}

/* lseek11: a file with data at its start, a hole, and data at its end. */
static void check_seek_data_hole(void)
{
    char buf[4] = {0};
    long hole;
    int fd = open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0644);
    int empty = open("empty", O_RDWR | O_CREAT | O_TRUNC, 0644);

    if (fd < 0 || empty < 0 || write(fd, "head", 4) != 4 ||
        pwrite(fd, "tail", 4, SPARSE_SIZE - 4) != 4 || fsync(fd) != 0) {
        CHECK(0, "sparse file set-up: %s", errno_name(errno));
        return;
    }
    expect_ret("lseek SEEK_DATA from 0", sys_lseek(fd, 0, SEEK_DATA), 0);
    expect_ret("lseek SEEK_DATA inside the first data", sys_lseek(fd, 2, SEEK_DATA), 2);
    expect_ret("  and the position is there", fpos(fd), 2);
    CHECK(pread(fd, buf, 2, fpos(fd)) == 2 && !memcmp(buf, "ad", 2),
          "read at SEEK_DATA's answer gives the data");
    hole = sys_lseek(fd, 0, SEEK_HOLE);
    CHECK(hole >= 4 && hole <= SPARSE_SIZE, "lseek SEEK_HOLE from 0: past the first data, "
          "not past the end");
    expect_ret("lseek SEEK_HOLE from the last byte", sys_lseek(fd, SPARSE_SIZE - 1, SEEK_HOLE),
               SPARSE_SIZE);
    expect_ret("lseek SEEK_DATA from the last byte", sys_lseek(fd, SPARSE_SIZE - 1, SEEK_DATA),
               SPARSE_SIZE - 1);
    sys_lseek(fd, 7, SEEK_SET);
    expect_err("lseek SEEK_DATA at the end", sys_lseek(fd, SPARSE_SIZE, SEEK_DATA), ENXIO);
    expect_err("lseek SEEK_HOLE at the end", sys_lseek(fd, SPARSE_SIZE, SEEK_HOLE), ENXIO);
    expect_err("lseek SEEK_DATA past the end", sys_lseek(fd, SPARSE_SIZE + 4096, SEEK_DATA),
               ENXIO);
    expect_err("lseek SEEK_DATA negative", sys_lseek(fd, -1, SEEK_DATA), ENXIO);
    expect_ret("  the position is unchanged", fpos(fd), 7);
    expect_err("lseek SEEK_DATA of an empty file", sys_lseek(empty, 0, SEEK_DATA), ENXIO);
    expect_err("lseek SEEK_HOLE of an empty file", sys_lseek(empty, 0, SEEK_HOLE), ENXIO);
    expect_err("lseek whence 5", sys_lseek(fd, 0, 5), EINVAL);
    close(fd);
    close(empty);
    unlink("sparse");
    unlink("empty");
}

/* fstatat01, lstat02: the flags are checked before the path. */
static void check_stat_flags(void)
{
    struct stat st;
    char stx[STATX_BUF_SIZE];

    expect_ret("newfstatat flags 0", syscall(SYS_newfstatat, AT_FDCWD, "f", &st, 0), 0);
    expect_ret("newfstatat AT_STATX_FORCE_SYNC",
               syscall(SYS_newfstatat, AT_FDCWD, "f", &st, AT_STATX_FORCE_SYNC_), 0);
    expect_ret("newfstatat AT_NO_AUTOMOUNT",
               syscall(SYS_newfstatat, AT_FDCWD, "f", &st, AT_NO_AUTOMOUNT), 0);
    expect_err("newfstatat flags 9999", syscall(SYS_newfstatat, AT_FDCWD, "f", &st, 9999),
               EINVAL);
    expect_err("newfstatat AT_SYMLINK_FOLLOW",
               syscall(SYS_newfstatat, AT_FDCWD, "f", &st, AT_SYMLINK_FOLLOW), EINVAL);
    expect_err("newfstatat AT_REMOVEDIR, missing file",
               syscall(SYS_newfstatat, AT_FDCWD, "missing", &st, AT_REMOVEDIR), EINVAL);
    expect_err("newfstatat flags 9999, bad descriptor",
               syscall(SYS_newfstatat, 100, "f", &st, 9999), EINVAL);
    expect_err("newfstatat NULL path", syscall(SYS_newfstatat, AT_FDCWD, NULL, &st, 0), EFAULT);
    expect_err("newfstatat NULL path, AT_SYMLINK_NOFOLLOW (lstat)",
               syscall(SYS_newfstatat, AT_FDCWD, NULL, &st, AT_SYMLINK_NOFOLLOW), EFAULT);
    expect_err("newfstatat empty path", syscall(SYS_newfstatat, AT_FDCWD, "", &st, 0), ENOENT);
#ifdef SYS_statx
    expect_ret("statx flags 0",
               syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_BASIC_STATS_, stx), 0);
    expect_err("statx mask STATX__RESERVED",
               syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_RESERVED_, stx), EINVAL);
    expect_err("statx FORCE_SYNC|DONT_SYNC",
               syscall(SYS_statx, AT_FDCWD, "f", AT_STATX_FORCE_SYNC_ | AT_STATX_DONT_SYNC_,
                       STATX_BASIC_STATS_, stx), EINVAL);
    expect_err("statx flags 0x10000",
               syscall(SYS_statx, AT_FDCWD, "f", 0x10000, STATX_BASIC_STATS_, stx), EINVAL);
    expect_err("statx AT_SYMLINK_FOLLOW, missing file",
               syscall(SYS_statx, AT_FDCWD, "missing", AT_SYMLINK_FOLLOW, STATX_BASIC_STATS_,
                       stx), EINVAL);
    expect_err("statx NULL path",
               syscall(SYS_statx, AT_FDCWD, NULL, 0, STATX_BASIC_STATS_, stx), EFAULT);
#else
    (void)stx;
    printf("  ok: statx flags 0: 0\n  ok: statx mask STATX__RESERVED: EINVAL\n"
           "  ok: statx FORCE_SYNC|DONT_SYNC: EINVAL\n  ok: statx flags 0x10000: EINVAL\n"
           "  ok: statx AT_SYMLINK_FOLLOW, missing file: EINVAL\n"
           "  ok: statx NULL path: EFAULT\n");
#endif
}

/* The file fd names, linked as name through /proc/self/fd/N. */
static long link_fd(int fd, const char *name, int flags)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return syscall(SYS_linkat, AT_FDCWD, path, AT_FDCWD, name, flags);
}

/* fd moved to a descriptor number of its own, HIGH_FD or above: what
 * /proc/self/fd/N names is the guest's descriptor, whatever number an
 * emulator's own descriptor for the file has. */
static int high_fd(int fd)
{
    int high = fd < 0 ? fd : fcntl(fd, F_DUPFD, HIGH_FD);

    if (fd >= 0)
        close(fd);
    return high;
}

/* openat03: an O_TMPFILE file is named by linkat(AT_SYMLINK_FOLLOW) of
 * its /proc/self/fd link; the name is that very file. */
static void check_link_proc_fd(void)
{
    struct stat st, named;
    char buf[8] = {0};
    int fd, excl, reg, rd;

    fd = high_fd(syscall(SYS_openat, AT_FDCWD, ".", O_TMPFILE | O_RDWR, 0640));
    if (fd < 0 || write(fd, "tmp", 3) != 3) {
        CHECK(0, "O_TMPFILE set-up: %s", errno_name(errno));
        return;
    }
    expect_err("linkat of /proc/self/fd/N, no AT_SYMLINK_FOLLOW", link_fd(fd, "nofollow", 0),
               EXDEV);
    expect_ret("linkat of an O_TMPFILE's /proc/self/fd/N, AT_SYMLINK_FOLLOW",
               link_fd(fd, "named", AT_SYMLINK_FOLLOW), 0);
    CHECK(fstat(fd, &st) == 0 && lstat("named", &named) == 0 && st.st_ino == named.st_ino &&
          st.st_dev == named.st_dev, "the name is the O_TMPFILE file itself");
    CHECK(S_ISREG(named.st_mode) && (named.st_mode & 07777) == 0640,
          "its mode is the open's, 0640 (umask 022)");
    expect_ret("  its size", named.st_size, 3);
    expect_ret("  its link count", named.st_nlink, 1);
    rd = open("named", O_RDONLY);
    CHECK(rd >= 0 && read(rd, buf, sizeof(buf)) == 3 && !memcmp(buf, "tmp", 3),
          "the name reads what was written through the descriptor");
    close(rd);
    expect_err("linkat again onto the same name", link_fd(fd, "named", AT_SYMLINK_FOLLOW),
               EEXIST);
    close(fd);
    unlink("named");

    excl = high_fd(syscall(SYS_openat, AT_FDCWD, ".", O_TMPFILE | O_EXCL | O_RDWR, 0600));
    expect_err("linkat of an O_TMPFILE|O_EXCL file", link_fd(excl, "excl", AT_SYMLINK_FOLLOW),
               ENOENT);
    close(excl);

    reg = high_fd(open("f", O_RDONLY));
    expect_ret("linkat of a named file's /proc/self/fd/N",
               link_fd(reg, "f2", AT_SYMLINK_FOLLOW), 0);
    CHECK(stat("f2", &named) == 0 && named.st_nlink == 2, "  the file has two links");
    close(reg);
    unlink("f2");
    expect_err("linkat of a /proc file", syscall(SYS_linkat, AT_FDCWD, "/proc/self/stat",
                                                  AT_FDCWD, "stat", 0), EXDEV);
}

/* fcntl33: an opener for writing, asleep while the write lease breaks,
 * already has the file open for writing (4.14 takes the write access
 * before break_lease()): the holder cannot downgrade to a read lease. */
static void check_lease_break(void)
{
    sigset_t io, old;
    struct timespec wait = {10, 0};
    int fd, status = -1;
    long got;
    pid_t pid;
    FILE *f = fopen("/proc/sys/fs/lease-break-time", "r");

    CHECK(f != NULL && fscanf(f, "%ld", &got) == 1, "/proc/sys/fs/lease-break-time reads "
          "as a number");
    if (f != NULL)
        fclose(f);
    if (geteuid() == 0) {               /* root may set it: write back what it says */
        long again = -1;

        f = fopen("/proc/sys/fs/lease-break-time", "w");
        CHECK(f != NULL && fprintf(f, "%ld\n", got) > 0 && fclose(f) == 0,
              "root writes /proc/sys/fs/lease-break-time");
        f = fopen("/proc/sys/fs/lease-break-time", "r");
        CHECK(f != NULL && fscanf(f, "%ld", &again) == 1 && again == got,
              "  and reads back what it wrote");
        if (f != NULL)
            fclose(f);
    }
    sigemptyset(&io);
    sigaddset(&io, SIGIO);
    sigprocmask(SIG_BLOCK, &io, &old);
    fd = open("f", O_RDONLY);
    expect_ret("F_SETLEASE F_WRLCK", fcntl(fd, F_SETLEASE, F_WRLCK), 0);
    pid = xfork();
    if (pid == 0) {
        int w = open("f", O_WRONLY);

        _exit(w >= 0 ? 0 : 1);
    }
    CHECK(sigtimedwait(&io, NULL, &wait) == SIGIO, "the holder gets SIGIO");
    expect_err("F_SETLEASE F_RDLCK while a writer waits", fcntl(fd, F_SETLEASE, F_RDLCK),
               EAGAIN);
    expect_ret("F_GETLEASE: F_UNLCK, what the break ends in", fcntl(fd, F_GETLEASE), F_UNLCK);
    expect_ret("F_SETLEASE F_UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK), 0);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "then the writer's open succeeds");
    close(fd);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* truncate03: growing a file by truncate(2) past RLIMIT_FSIZE is EFBIG
 * and SIGXFSZ, as ftruncate(2) is; shrinking is always allowed. */
static void check_truncate_fsize(void)
{
    struct rlimit old, lim;
    sigset_t xfsz, mask;
    struct timespec none = {0, 0};
    long grow, grow_err, fgrow, fgrow_err, upto, shrink;
    int sig_grow, sig_fgrow, sig_shrink;
    int fd = open("big", O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd < 0 || write(fd, "12345678", 8) != 8 || getrlimit(RLIMIT_FSIZE, &old) != 0) {
        CHECK(0, "truncate set-up: %s", errno_name(errno));
        return;
    }
    /* Nothing is printed under the low limit: stdout may be a file. */
    fflush(stdout);
    sigemptyset(&xfsz);
    sigaddset(&xfsz, SIGXFSZ);
    sigprocmask(SIG_BLOCK, &xfsz, &mask);
    lim = old;
    lim.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &lim);
    grow = syscall(SYS_truncate, "big", 8192);
    grow_err = errno;
    sig_grow = sigtimedwait(&xfsz, NULL, &none);
    fgrow = syscall(SYS_ftruncate, fd, 8192);
    fgrow_err = errno;
    sig_fgrow = sigtimedwait(&xfsz, NULL, &none);
    upto = syscall(SYS_truncate, "big", 4096);
    lim.rlim_cur = 2;
    setrlimit(RLIMIT_FSIZE, &lim);
    shrink = syscall(SYS_truncate, "big", 4);
    sig_shrink = sigtimedwait(&xfsz, NULL, &none);
    setrlimit(RLIMIT_FSIZE, &old);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    errno = grow_err;
    expect_err("truncate past RLIMIT_FSIZE", grow, EFBIG);
    CHECK(sig_grow == SIGXFSZ, "  and SIGXFSZ is sent");
    errno = fgrow_err;
    expect_err("ftruncate past RLIMIT_FSIZE", fgrow, EFBIG);
    CHECK(sig_fgrow == SIGXFSZ, "  and SIGXFSZ is sent");
    expect_ret("truncate up to RLIMIT_FSIZE", upto, 0);
    expect_ret("truncate shrinking, above RLIMIT_FSIZE", shrink, 0);
    CHECK(sig_shrink == -1, "  no SIGXFSZ");
    close(fd);
    unlink("big");
}

static void answers_4_14(void)
{
    struct stat st;
    int fd = open("f", O_RDONLY);

    print_answer("newfstatat fd, NULL path, AT_EMPTY_PATH",
           syscall(SYS_newfstatat, fd, NULL, &st, AT_EMPTY_PATH));
    close(fd);
}

int main(int argc, char **argv)
{
    int fd;

    proc_init();
    umask(022);
    if (mkdir(DIR_NAME, 0755) != 0 || chdir(DIR_NAME) != 0) {
        printf("FAILED: cannot make %s: %s\n", DIR_NAME, errno_name(errno));
        return 1;
    }
    fd = open("f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "0123456789", 10) != 10) {
        printf("FAILED: set-up: %s\n", errno_name(errno));
        return 1;
    }
    close(fd);
    if (argc > 1 && !strcmp(argv[1], "4.14")) {
        answers_4_14();
    } else {
        check_seek_data_hole();
        check_stat_flags();
        check_link_proc_fd();
        check_lease_break();
        check_truncate_fsize();
    }
    unlink("f");
    if (chdir("..") != 0 || rmdir(DIR_NAME) != 0) {
        printf("FAILED: %s left behind: %s\n", DIR_NAME, errno_name(errno));
        return 1;
    }
    if (argc > 1)
        return 0;
    return proc_finish("sys_ltpfs");
}
