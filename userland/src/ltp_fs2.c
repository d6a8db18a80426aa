/*
 * ltp_fs2.c - what the second run of the Linux Test Project's file-system
 * tests found (issue 9, docs/ltp-fs2.md): readlinkat() of "" names the
 * symlink its descriptor was opened on (readlinkat01); sendfile() writes
 * its offset back even when nothing moved, so a read-only offset is
 * EFAULT (sendfile04); fsync() and fdatasync() are EINVAL on a file with
 * no f_op->fsync — a pipe, a socket, /dev/null, an eventfd, a /proc file
 * (fsync03, fdatasync02); and getcwd() after chdir() or fchdir() through a
 * symlink names the directory, not the link (getcwd03); FS_IOC_GETFLAGS
 * and FS_IOC_SETFLAGS on a file of the (host's) disk file system, an
 * immutable file refusing writes and unlinks, and the owner and
 * CAP_LINUX_IMMUTABLE rules for setting them (setxattr03).
 *
 * Every call is made with syscall(2), so the kernel answers and not the C
 * library.  Nothing printed depends on the machine, so the host build on
 * the real kernel and the AArch64 builds under a53emu print the same
 * lines.  Everything happens in a scratch directory under the current
 * one, removed at the end.
 *
 *   ltp_fs2           all checks
 *   ltp_fs2 4.14      the answers where 4.14 and newer kernels differ
 *                     (compared with 4.14's by the test, not the host's);
 *                     run as root
 *   ltp_fs2 board     the checks a real kernel's machine-wide state
 *                     would make harmful (a53emu only, as root)
 */
#define _GNU_SOURCE
#include "proc.h"

#include <limits.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define DIR_NAME "ltp_fs2.d"
#define LINK_TARGET "target"
#define DATA "0123456789"
#define DATA_LEN 10

#define FS_IOC_GETFLAGS_ 0x80086601UL   /* _IOR('f', 1, long), an int passed */
#define FS_IOC_SETFLAGS_ 0x40086602UL
#define FS_IMMUTABLE_FL_ 0x00000010
#define NOBODY 65534

#ifndef O_PATH
#define O_PATH 010000000
#endif

static long sys_readlinkat(int dirfd, const char *path, char *buf, long size)
{
    return syscall(SYS_readlinkat, dirfd, path, buf, size);
}

/* readlinkat01: "" with LOOKUP_EMPTY is the descriptor's own file. */
static void check_readlinkat_empty(void)
{
    char buf[64];
    long n;
    int lfd, dfd, ffd;

    if (symlink(LINK_TARGET, "link") != 0) {
        CHECK(0, "symlink set-up: %s", errno_name(errno));
        return;
    }
    lfd = open("link", O_PATH | O_NOFOLLOW);
    dfd = open(".", O_RDONLY | O_DIRECTORY);
    ffd = open("f", O_RDONLY);
    memset(buf, 0, sizeof(buf));
    n = sys_readlinkat(lfd, "", buf, sizeof(buf));
    CHECK(n == (long)strlen(LINK_TARGET) && !strcmp(buf, LINK_TARGET),
          "readlinkat(O_PATH|O_NOFOLLOW link, \"\") reads the link: %ld %s", n,
          n < 0 ? errno_name(errno) : buf);
    expect_ret("readlinkat(link, \"\", size 3) truncates", sys_readlinkat(lfd, "", buf, 3), 3);
    expect_err("readlinkat(link, \"\", size 0)", sys_readlinkat(lfd, "", buf, 0), EINVAL);
    expect_err("readlinkat(directory, \"\")", sys_readlinkat(dfd, "", buf, sizeof(buf)), ENOENT);
    expect_err("readlinkat(regular file, \"\")", sys_readlinkat(ffd, "", buf, sizeof(buf)),
               ENOENT);
    expect_err("readlinkat(AT_FDCWD, \"\")", sys_readlinkat(AT_FDCWD, "", buf, sizeof(buf)),
               ENOENT);
    expect_err("readlinkat(closed fd, \"\")", sys_readlinkat(999, "", buf, sizeof(buf)), EBADF);
    expect_err("readlinkat(directory, \"f\")", sys_readlinkat(dfd, "f", buf, sizeof(buf)),
               EINVAL);
    close(lfd);
    close(dfd);
    close(ffd);
    unlink("link");
}

/* sendfile04: sys_sendfile64() put_user()s the offset whatever happened. */
static void check_sendfile_offset(void)
{
    int in = open("f", O_RDONLY);
    int empty = open("empty", O_RDWR | O_CREAT | O_TRUNC, 0600);
    int out = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    off_t *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    off_t *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct stat st;

    if (in < 0 || empty < 0 || out < 0 || ro == MAP_FAILED || rw == MAP_FAILED) {
        CHECK(0, "sendfile set-up: %s", errno_name(errno));
        return;
    }
    expect_err("sendfile(empty file, read-only offset)",
               syscall(SYS_sendfile, out, empty, ro, 1), EFAULT);
    expect_err("sendfile(data, read-only offset, 4 bytes)",
               syscall(SYS_sendfile, out, in, ro, 4), EFAULT);
    CHECK(fstat(out, &st) == 0 && st.st_size == 4,
          "  the 4 bytes were written all the same: size %ld", (long)st.st_size);
    expect_err("sendfile(bad input, read-only offset)",
               syscall(SYS_sendfile, out, 999, ro, 1), EFAULT);
    expect_err("sendfile(bad input, writable offset)",
               syscall(SYS_sendfile, out, 999, rw, 1), EBADF);
    *rw = 2;
    expect_ret("sendfile(data, offset 2, 3 bytes)", syscall(SYS_sendfile, out, in, rw, 3), 3);
    expect_ret("  the offset is written back", *rw, 5);
    expect_ret("  the input's position is not moved", lseek(in, 0, SEEK_CUR), 0);
    munmap(ro, PAGE);
    munmap(rw, PAGE);
    close(in);
    close(empty);
    close(out);
    unlink("empty");
    unlink("out");
}

/* fsync03, fdatasync02: vfs_fsync_range() without f_op->fsync. */
static void check_fsync_kinds(void)
{
    int p[2], sv[2];
    int fd, i;
    struct { const char *what; int fd; int want; } t[8];
    int n = 0;

    if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        CHECK(0, "fsync set-up: %s", errno_name(errno));
        return;
    }
    t[n].what = "pipe"; t[n].fd = p[0]; t[n++].want = EINVAL;
    t[n].what = "socket"; t[n].fd = sv[0]; t[n++].want = EINVAL;
    t[n].what = "/dev/null"; t[n].fd = open("/dev/null", O_RDWR); t[n++].want = EINVAL;
    t[n].what = "eventfd"; t[n].fd = eventfd(0, 0); t[n++].want = EINVAL;
    t[n].what = "/proc/self/status"; t[n].fd = open("/proc/self/status", O_RDONLY);
    t[n++].want = EINVAL;
    t[n].what = "regular file"; t[n].fd = open("f", O_RDWR); t[n++].want = 0;
    t[n].what = "directory"; t[n].fd = open(".", O_RDONLY | O_DIRECTORY); t[n++].want = 0;
    t[n].what = "O_PATH file"; t[n].fd = open("f", O_PATH); t[n++].want = EBADF;
    for (i = 0; i < n; i++) {
        char what[64];

        snprintf(what, sizeof(what), "fsync(%s)", t[i].what);
        if (t[i].want)
            expect_err(what, syscall(SYS_fsync, t[i].fd), t[i].want);
        else
            expect_ret(what, syscall(SYS_fsync, t[i].fd), 0);
        snprintf(what, sizeof(what), "fdatasync(%s)", t[i].what);
        if (t[i].want)
            expect_err(what, syscall(SYS_fdatasync, t[i].fd), t[i].want);
        else
            expect_ret(what, syscall(SYS_fdatasync, t[i].fd), 0);
        if (t[i].fd != p[0] && t[i].fd != sv[0])
            close(t[i].fd);
    }
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
    fd = open("f", O_RDONLY);
    expect_ret("fsync(regular file open read-only)", syscall(SYS_fsync, fd), 0);
    close(fd);
}

/* The last component of the working directory's name. */
static const char *cwd_base(char *buf, size_t size)
{
    const char *slash;

    if (syscall(SYS_getcwd, buf, size) < 0)
        return "(getcwd failed)";
    slash = strrchr(buf, '/');
    return slash ? slash + 1 : buf;
}

/* getcwd03: d_path() of the directory, whatever name reached it. */
static void check_getcwd_symlink(void)
{
    char before[PATH_MAX], buf[PATH_MAX];
    int fd;

    if (mkdir(LINK_TARGET, 0755) != 0 || symlink(LINK_TARGET, "dirlink") != 0 ||
        syscall(SYS_getcwd, before, sizeof(before)) < 0) {
        CHECK(0, "getcwd set-up: %s", errno_name(errno));
        return;
    }
    CHECK(syscall(SYS_chdir, "dirlink") == 0 && !strcmp(cwd_base(buf, sizeof(buf)), LINK_TARGET),
          "getcwd() after chdir(\"dirlink\") names the target: %s", cwd_base(buf, sizeof(buf)));
    CHECK(syscall(SYS_chdir, "..") == 0 && syscall(SYS_getcwd, buf, sizeof(buf)) > 0 &&
          !strcmp(buf, before), "chdir(\"..\") from it is back where we were");
    fd = open("dirlink", O_RDONLY | O_DIRECTORY);
    CHECK(syscall(SYS_fchdir, fd) == 0 && !strcmp(cwd_base(buf, sizeof(buf)), LINK_TARGET),
          "getcwd() after fchdir(open(\"dirlink\")) names the target: %s",
          cwd_base(buf, sizeof(buf)));
    close(fd);
    CHECK(syscall(SYS_chdir, before) == 0, "back to the scratch directory");
    unlink("dirlink");
    rmdir(LINK_TARGET);
}

static long getflags(int fd, int *flags)
{
    return syscall(SYS_ioctl, fd, FS_IOC_GETFLAGS_, flags);
}

static long setflags(int fd, int flags)
{
    return syscall(SYS_ioctl, fd, FS_IOC_SETFLAGS_, &flags);
}

/* As nobody: the owner rule (EACCES) and CAP_LINUX_IMMUTABLE (EPERM). */
static void setflags_unprivileged(int flags)
{
    int before = check_failures, status;
    pid_t pid = xfork();

    if (pid == 0) {
        int mine = open("nobodys", O_RDONLY), roots = open("f", O_RDONLY);

        if (syscall(SYS_setresuid, NOBODY, NOBODY, NOBODY) != 0)
            _exit(2);
        expect_ret("  nobody: FS_IOC_SETFLAGS, own file, flags unchanged",
                   setflags(mine, flags), 0);
        expect_err("  nobody: FS_IOC_SETFLAGS, own file, immutable",
                   setflags(mine, flags | FS_IMMUTABLE_FL_), EPERM);
        expect_err("  nobody: FS_IOC_GETFLAGS, NULL", syscall(SYS_ioctl, roots,
                   FS_IOC_GETFLAGS_, NULL), EFAULT);
        fflush(stdout);
        _exit(check_failures != before);
    }
    status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "  nobody's checks passed: %s",
          status_str(status));
}

/* setxattr03: chattr +i on a file of a disk file system. */
static void check_inode_flags(void)
{
    int flags, fd = open("f", O_RDONLY), nfd;
    void *bad = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (getflags(fd, &flags) != 0) {
        /* the file system here has no flags: so the host said too */
        printf("FS_IOC_GETFLAGS here: %s\n", errno_name(errno));
        close(fd);
        return;
    }
    CHECK(1, "FS_IOC_GETFLAGS on a regular file: 0");
    munmap(bad, PAGE);
    expect_err("FS_IOC_SETFLAGS from an unmapped page", syscall(SYS_ioctl, fd,
               FS_IOC_SETFLAGS_, bad), EFAULT);
    expect_err("FS_IOC_GETFLAGS on fd -1", getflags(-1, &flags), EBADF);
    nfd = open("nobodys", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (geteuid() == 0) {
        int dfd = open(".", O_RDONLY | O_DIRECTORY), dflags;

        expect_ret("FS_IOC_GETFLAGS on a directory", getflags(dfd, &dflags), 0);
        close(dfd);
        CHECK(fchown(nfd, NOBODY, NOBODY) == 0, "a file of nobody's");
        setflags_unprivileged(flags);
        expect_ret("FS_IOC_SETFLAGS immutable (root)", setflags(fd, flags | FS_IMMUTABLE_FL_), 0);
        CHECK(getflags(fd, &dflags) == 0 && dflags & FS_IMMUTABLE_FL_,
              "  FS_IOC_GETFLAGS shows it");
        expect_err("  open for writing", open("f", O_WRONLY), EPERM);
        expect_err("  unlink", unlink("f"), EPERM);
        expect_err("  link", link("f", "f2"), EPERM);
        expect_ret("FS_IOC_SETFLAGS back (root)", setflags(fd, flags), 0);
        CHECK(getflags(fd, &dflags) == 0 && !(dflags & FS_IMMUTABLE_FL_),
              "  FS_IOC_GETFLAGS shows it gone");
    }
    close(nfd);
    unlink("nobodys");
    close(fd);
}

/*
 * Where 4.14 and newer kernels differ (the test compares with 4.14's
 * answers): FS_IOC_SETFLAGS by one who does not own the file (as nobody,
 * so run as root); FS_IOC_GETFLAGS on tmpfs, which had no flags before
 * v6.0.
 */
static long watch_mask(unsigned int mask);

static void answers_4_14(void)
{
    int flags = 0, fd;
    pid_t pid = xfork();

    if (pid == 0) {
        fd = open("f", O_RDONLY);
        if (syscall(SYS_setresuid, NOBODY, NOBODY, NOBODY) != 0)
            _exit(2);
        print_answer("FS_IOC_SETFLAGS, not the owner", setflags(fd, flags));
        _exit(0);
    }
    wait_for(pid);
    fd = syscall(SYS_memfd_create, "ltp_fs2", 0);
    print_answer("FS_IOC_GETFLAGS, memfd", getflags(fd, &flags));
    close(fd);
    fd = open("/dev/shm/ltp_fs2", O_RDWR | O_CREAT | O_EXCL, 0600);
    print_answer("FS_IOC_GETFLAGS, /dev/shm file", getflags(fd, &flags));
    close(fd);
    unlink("/dev/shm/ltp_fs2");
    printf("inotify fdinfo mask, IN_MODIFY|IN_ONESHOT: %lx\n",
           watch_mask(IN_MODIFY | IN_ONESHOT));
}

#define MAX_USER_INSTANCES "/proc/sys/fs/inotify/max_user_instances"

static long read_sysctl(const char *path)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY);
    long n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

    if (fd >= 0)
        close(fd);
    return n > 0 ? atol(buf) : -1;
}

static long write_sysctl(const char *path, long value)
{
    char buf[32];
    int fd = open(path, O_WRONLY), len = snprintf(buf, sizeof(buf), "%ld\n", value);
    long n = fd < 0 ? -1 : write(fd, buf, len);

    if (fd >= 0)
        close(fd);
    return n;
}

struct handle_buf {
    unsigned int handle_bytes;
    int handle_type;
    unsigned char f_handle[128];
};

/* name_to_handle_at01/02, open_by_handle_at01/02: the board's handles. */
static void check_file_handles(void)
{
    struct handle_buf h, small;
    int mnt = -1, fd, dfd;
    char buf[DATA_LEN + 1] = "";

    memset(&h, 0, sizeof(h));
    h.handle_bytes = sizeof(h.f_handle);
    expect_ret("name_to_handle_at(\"f\")",
               syscall(SYS_name_to_handle_at, AT_FDCWD, "f", &h, &mnt, 0), 0);
    CHECK(h.handle_bytes > 0 && h.handle_bytes <= 128, "  a handle of 1..128 bytes");
    small = h;
    small.handle_bytes = 0;
    expect_err("name_to_handle_at, handle_bytes 0",
               syscall(SYS_name_to_handle_at, AT_FDCWD, "f", &small, &mnt, 0), EOVERFLOW);
    CHECK(small.handle_bytes == h.handle_bytes && small.handle_type == 255,
          "  the size needed and FILEID_INVALID written back");
    small.handle_bytes = 129;
    expect_err("name_to_handle_at, handle_bytes 129",
               syscall(SYS_name_to_handle_at, AT_FDCWD, "f", &small, &mnt, 0), EINVAL);
    small.handle_bytes = sizeof(small.f_handle);
    expect_err("name_to_handle_at, bad flags",
               syscall(SYS_name_to_handle_at, AT_FDCWD, "f", &small, &mnt, 0x8000), EINVAL);
    expect_err("name_to_handle_at, NULL handle",
               syscall(SYS_name_to_handle_at, AT_FDCWD, "f", NULL, &mnt, 0), EFAULT);
    expect_err("name_to_handle_at(\"/proc/self/status\")", syscall(SYS_name_to_handle_at,
               AT_FDCWD, "/proc/self/status", &small, &mnt, 0), EOPNOTSUPP);
    dfd = open(".", O_RDONLY | O_DIRECTORY);
    fd = syscall(SYS_open_by_handle_at, dfd, &h, O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, DATA_LEN) == DATA_LEN && !strcmp(buf, DATA),
          "open_by_handle_at opens the file: %s", fd < 0 ? errno_name(errno) : buf);
    if (fd >= 0)
        close(fd);
    fd = syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY);
    CHECK(fd >= 0, "  AT_FDCWD as the mount: %s", fd < 0 ? errno_name(errno) : "ok");
    if (fd >= 0)
        close(fd);
    small = h;
    small.f_handle[0] ^= 0xff;
    expect_err("open_by_handle_at, a handle of no file", syscall(SYS_open_by_handle_at, dfd,
               &small, O_RDONLY), ESTALE);
    small.handle_bytes = 0;
    expect_err("open_by_handle_at, handle_bytes 0", syscall(SYS_open_by_handle_at, dfd,
               &small, O_RDONLY), EINVAL);
    expect_err("open_by_handle_at, bad mount fd", syscall(SYS_open_by_handle_at, 999,
               &h, O_RDONLY), EBADF);
    small.handle_bytes = sizeof(small.f_handle);
    if (symlink("f", "hlink") == 0 && syscall(SYS_name_to_handle_at, AT_FDCWD, "hlink", &small,
                                              &mnt, 0) == 0) {
        expect_err("open_by_handle_at, a symlink's", syscall(SYS_open_by_handle_at, dfd,
                   &small, O_RDONLY), ELOOP);
        unlink("hlink");
        expect_err("open_by_handle_at, a deleted file's", syscall(SYS_open_by_handle_at, dfd,
                   &small, O_RDONLY | O_PATH), ESTALE);
    } else {
        CHECK(0, "a symlink's handle: %s", errno_name(errno));
    }
    close(dfd);
}

/* expect_err() for EMFILE, which common.h's errno_name() does not name. */
static void expect_emfile(const char *what, long ret)
{
    CHECK(ret == -1 && errno == EMFILE, "%s: %s", what, ret == -1 && errno == EMFILE ?
          "EMFILE" : "want EMFILE");
    if (ret >= 0)
        close(ret);
}

/* The mask: field of the first inotify line of fd's fdinfo, or -1. */
static long fdinfo_mask(int fd)
{
    char path[64], buf[1024] = "", *line;
    int pfd, n;
    unsigned int mask;

    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
    pfd = open(path, O_RDONLY);
    n = pfd < 0 ? -1 : read(pfd, buf, sizeof(buf) - 1);
    if (pfd >= 0)
        close(pfd);
    line = n > 0 ? strstr(buf, "\ninotify wd:") : NULL;
    if (!line || !(line = strstr(line, " mask:")) || sscanf(line, " mask:%x", &mask) != 1)
        return -1;
    return mask;
}

/* inotify12: one fdinfo line per watch, the mask in it. */
static long watch_mask(unsigned int mask)
{
    int fd = syscall(SYS_inotify_init1, 0);
    long ret;

    if (fd < 0 || syscall(SYS_inotify_add_watch, fd, ".", mask) != 1) {
        CHECK(0, "inotify set-up: %s", errno_name(errno));
        return -1;
    }
    ret = fdinfo_mask(fd);
    close(fd);
    return ret;
}

/* inotify05, inotify06: the three files are there. */
static void check_inotify_sysctls(void)
{
    CHECK(read_sysctl(MAX_USER_INSTANCES) > 0, "fs.inotify.max_user_instances is readable");
    CHECK(read_sysctl("/proc/sys/fs/inotify/max_queued_events") > 0,
          "fs.inotify.max_queued_events is readable");
    CHECK(read_sysctl("/proc/sys/fs/inotify/max_user_watches") > 0,
          "fs.inotify.max_user_watches is readable");
    expect_ret("fdinfo of an IN_MODIFY watch: mask", watch_mask(IN_MODIFY), IN_MODIFY);
}

/*
 * inotify06 raises fs.inotify.max_user_instances: the limit is the board's
 * and inotify_init1() is EMFILE at it.  Run as root under a53emu only: on
 * a real kernel the limit is the whole machine's, shared with every other
 * process of the user.
 */
static void check_inotify_limit(void)
{
    long old = read_sysctl(MAX_USER_INSTANCES);
    int a, b;

    CHECK(old > 0, "fs.inotify.max_user_instances: %ld", old);
    expect_err("write -1", write_sysctl(MAX_USER_INSTANCES, -1), EINVAL);
    CHECK(write_sysctl(MAX_USER_INSTANCES, 1) > 0 && read_sysctl(MAX_USER_INSTANCES) == 1,
          "write 1, read back 1");
    a = syscall(SYS_inotify_init1, 0);
    CHECK(a >= 0, "inotify_init1: the first instance");
    expect_emfile("inotify_init1: a second one", syscall(SYS_inotify_init1, 0));
    b = dup(a);
    close(a);
    expect_emfile("  still, while a dup holds the first", syscall(SYS_inotify_init1, 0));
    close(b);
    a = syscall(SYS_inotify_init1, 0);
    CHECK(a >= 0, "inotify_init1 once the first is closed");
    close(a);
    CHECK(write_sysctl(MAX_USER_INSTANCES, old) > 0 && read_sysctl(MAX_USER_INSTANCES) == old,
          "the old limit back");
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
    if (fd < 0 || write(fd, DATA, DATA_LEN) != DATA_LEN) {
        printf("FAILED: set-up: %s\n", errno_name(errno));
        return 1;
    }
    close(fd);
    if (argc > 1 && !strcmp(argv[1], "4.14")) {
        answers_4_14();
    } else if (argc > 1 && !strcmp(argv[1], "board")) {
        check_inotify_limit();
    } else {
        check_readlinkat_empty();
        check_sendfile_offset();
        check_fsync_kinds();
        check_getcwd_symlink();
        check_inode_flags();
        check_inotify_sysctls();
        check_file_handles();
    }
    unlink("f");
    if (chdir("..") != 0 || rmdir(DIR_NAME) != 0) {
        printf("FAILED: %s left behind: %s\n", DIR_NAME, errno_name(errno));
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "board"))
        return 0;
    return proc_finish("ltp_fs2");
}
