/* jail_escape: every way out of a chroot()-like jail a program can try,
 * each one checked (issue 10 part 5).  Run it as the init of
 * `a53emu run --jail DIR jail_escape SECRET`, with SECRET the host's
 * absolute path of a file outside DIR that holds "SECRET", and in DIR:
 * etc/passwd holding "jail passwd\n" and an empty file JAIL_MARK.
 * It may also run under chroot(DIR) on a real Linux as root (the same
 * answers).  Prints one line per check, "FAIL ..." for a broken one, and
 * exits 1 if any broke.  It makes its own symlinks, directories and links
 * inside the jail (the test throws DIR away).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
static const char *secret;
/* --real-chroot: run by chroot(8) on Linux, whose chroot is no jail: the
 * classic escape works there, so it is not tried. */
static int real_chroot;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        failures++;
}

/* What a path reads as: the first line of the file, or "-ERRNO". */
static const char *readfile_at(int dirfd, const char *path)
{
    static char buf[256];
    int fd = openat(dirfd, path, O_RDONLY);
    if (fd < 0) {
        int e = errno;
        snprintf(buf, sizeof buf, "-%s", e == ENOENT ? "ENOENT" : e == ELOOP ? "ELOOP" :
                 e == ENOTDIR ? "ENOTDIR" : e == EACCES ? "EACCES" : "other");
        return buf;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
    return buf;
}

static const char *readfile(const char *path) { return readfile_at(AT_FDCWD, path); }

static int is(const char *got, const char *want) { return strcmp(got, want) == 0; }

/* The secret must never be read: any answer but its contents will do for
 * the escapes below (ENOENT mostly), "SECRET" is the escape. */
static void never_secret(const char *got, const char *what)
{
    char line[512];
    snprintf(line, sizeof line, "%s (got %s)", what, got);
    check(strcmp(got, "SECRET") != 0 && got[0] == '-', line);
}

static void check_cwd(const char *want, const char *what)
{
    char buf[PATH_MAX], line[PATH_MAX + 128];
    const char *got = getcwd(buf, sizeof buf) ? buf : "(error)";
    snprintf(line, sizeof line, "%s: getcwd() = %s, want %s", what, got, want);
    check(strcmp(got, want) == 0, line);
}

static void same_inode(const char *a, const char *b, const char *what)
{
    struct stat sa, sb;
    check(stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
          sa.st_dev == sb.st_dev, what);
}

static void root_is_jail(void)
{
    DIR *d = opendir("/");
    int mark = 0, etc = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        mark |= strcmp(e->d_name, "JAIL_MARK") == 0;
        etc |= strcmp(e->d_name, "etc") == 0;
    }
    if (d)
        closedir(d);
    check(mark && etc, "/ lists the jail (JAIL_MARK, etc)");
    check_cwd("/", "the jail starts at its root");
    check(is(readfile("/etc/passwd"), "jail passwd"), "/etc/passwd is the jail's");
}

static void dotdot(void)
{
    char path[PATH_MAX];
    never_secret(readfile(secret), "the secret by its host path");
    snprintf(path, sizeof path, "/../../../../../../..%s", secret);
    never_secret(readfile(path), "/../../..SECRET");
    snprintf(path, sizeof path, "../../../../../../../../..%s", secret);
    never_secret(readfile(path), "../../..SECRET from the root");
    check(chdir("..") == 0, "chdir(\"..\") at the root");
    check_cwd("/", "chdir(\"..\") at the root stays there");
    check(chdir("/../../..") == 0, "chdir(\"/../../..\")");
    check_cwd("/", "chdir(\"/../../..\")");
    same_inode("/..", "/", "/.. is /");
    same_inode("..", "/", ".. at the root is /");
}

static void symlinks(void)
{
    char path[PATH_MAX];
    check(symlink("/etc", "/abs") == 0, "symlink /abs -> /etc");
    check(is(readfile("/abs/passwd"), "jail passwd"), "an absolute symlink resolves in the jail");
    check(symlink("../../../../../../../..", "/rel") == 0, "symlink /rel -> ../../../..");
    check(is(readfile("/rel/etc/passwd"), "jail passwd"), "a ../.. symlink stops at the root");
    snprintf(path, sizeof path, "/rel%s", secret);
    never_secret(readfile(path), "/rel/..SECRET");
    check(symlink("/../../../../..", "/up") == 0, "symlink /up -> /../../..");
    snprintf(path, sizeof path, "/up%s", secret);
    never_secret(readfile(path), "/up/SECRET");
    /* A dangling absolute symlink: O_CREAT makes its target inside the jail. */
    check(symlink("/made_through_link", "/dangling") == 0, "symlink /dangling");
    int fd = open("/dangling", O_WRONLY | O_CREAT, 0644);
    check(fd >= 0 && write(fd, "inside\n", 7) == 7, "open(O_CREAT) through a dangling link");
    if (fd >= 0)
        close(fd);
    check(is(readfile("/made_through_link"), "inside"), "... made the target in the jail");
    /* Loops and the 40-link limit (include/linux/namei.h MAXSYMLINKS). */
    check(symlink("loop2", "/loop1") == 0 && symlink("loop1", "/loop2") == 0, "a symlink loop");
    check(is(readfile("/loop1"), "-ELOOP"), "the loop is ELOOP");
    check(is(readfile("/loop1/x"), "-ELOOP"), "a loop in the middle is ELOOP");
    char name[32], target[32];
    for (int i = 0; i <= 40; i++) {
        snprintf(name, sizeof name, "/chain%d", i);
        if (i == 40)
            snprintf(target, sizeof target, "/etc/passwd");
        else
            snprintf(target, sizeof target, "chain%d", i + 1);
        if (symlink(target, name) != 0)
            check(0, "symlink chain");
    }
    check(is(readfile("/chain1"), "jail passwd"), "40 links are followed");
    check(is(readfile("/chain0"), "-ELOOP"), "41 links are ELOOP");
    char buf[64];
    ssize_t n = readlink("/abs", buf, sizeof buf);
    check(n == 4 && memcmp(buf, "/etc", 4) == 0, "readlink(/abs) is the link's text");
    struct stat st;
    check(lstat("/abs", &st) == 0 && S_ISLNK(st.st_mode), "lstat(/abs) is the link");
    check(stat("/abs", &st) == 0 && S_ISDIR(st.st_mode), "stat(/abs) is the jail's /etc");
}

static void proc_links(void)
{
    char buf[PATH_MAX], path[PATH_MAX];
    ssize_t n = readlink("/proc/self/root", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    check(is(buf, "/"), "readlink(/proc/self/root) is /");
    check(is(readfile("/proc/self/root/etc/passwd"), "jail passwd"),
          "/proc/self/root/etc/passwd is the jail's");
    check(is(readfile("/proc/self/root/abs/passwd"), "jail passwd"),
          "/proc/self/root/abs/passwd: the symlink stays in the jail");
    snprintf(path, sizeof path, "/proc/self/root/rel%s", secret);
    never_secret(readfile(path), "/proc/self/root/rel/..SECRET");
    snprintf(path, sizeof path, "/proc/self/root%s", secret);
    never_secret(readfile(path), "/proc/self/root/SECRET");
    check(mkdir("/d1", 0755) == 0 && mkdir("/d1/d2", 0755) == 0, "mkdir /d1/d2");
    check(symlink("../../../../../..", "/d1/d2/up") == 0, "symlink /d1/d2/up");
    check(chdir("/d1/d2") == 0, "chdir /d1/d2");
    check_cwd("/d1/d2", "getcwd in /d1/d2");
    n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    check(is(buf, "/d1/d2"), "readlink(/proc/self/cwd) is /d1/d2");
    check(is(readfile("/proc/self/cwd/up/etc/passwd"), "jail passwd"),
          "/proc/self/cwd/up/etc/passwd stays in the jail");
    snprintf(path, sizeof path, "/proc/self/cwd/up%s", secret);
    never_secret(readfile(path), "/proc/self/cwd/up/SECRET");
    snprintf(path, sizeof path, "up%s", secret);
    never_secret(readfile(path), "up/SECRET from the cwd");
    check(is(readfile("../../etc/passwd"), "jail passwd"), "../../etc/passwd from /d1/d2");
    int fd = open("/proc/self/cwd", O_RDONLY | O_DIRECTORY);
    check(fd >= 0, "open(/proc/self/cwd)");
    struct stat a, b;
    check(fd >= 0 && fstat(fd, &a) == 0 && stat("/d1/d2", &b) == 0 && a.st_ino == b.st_ino,
          "/proc/self/cwd opens the cwd");
    if (fd >= 0)
        close(fd);
    check(chdir("/") == 0, "chdir /");
    check(is(readfile("/proc/self/root/proc/self/root/etc/passwd"), "jail passwd"),
          "/proc/self/root/proc/self/root: /proc inside the jail is the board's");
}

static void dirfds(void)
{
    char path[PATH_MAX];
    int dfd = open("/d1/d2", O_RDONLY | O_DIRECTORY);
    check(dfd >= 0, "open /d1/d2 as a directory");
    snprintf(path, sizeof path, "../../../../../..%s", secret);
    never_secret(readfile_at(dfd, path), "openat(dirfd, ../../..SECRET)");
    check(is(readfile_at(dfd, "../../etc/passwd"), "jail passwd"), "openat(dirfd, ../../etc/passwd)");
    check(is(readfile_at(dfd, "/etc/passwd"), "jail passwd"), "openat(dirfd, /etc/passwd)");
    check(is(readfile_at(dfd, "up/etc/passwd"), "jail passwd"), "openat(dirfd, up/etc/passwd)");
    /* The directory moves while the fd is held: lookups follow it, and
     * ".." from it is its new parent, still below the root. */
    check(rename("/d1", "/moved") == 0, "rename /d1 -> /moved under the open dirfd");
    check(is(readfile_at(dfd, "../../etc/passwd"), "jail passwd"), "openat after the move");
    check(fchdir(dfd) == 0, "fchdir(dirfd)");
    check_cwd("/moved/d2", "getcwd follows the moved directory");
    char link[PATH_MAX];
    ssize_t n = readlink("/proc/self/cwd", link, sizeof link - 1);
    link[n < 0 ? 0 : n] = 0;
    check(is(link, "/moved/d2"), "so does /proc/self/cwd");
    check(chdir("/") == 0, "chdir /");
    check(rename("/moved", "/d1") == 0, "rename back");
    close(dfd);
}

/* A child renames a directory to and fro while the parent resolves ".."
 * chains from inside it: no answer may ever be the secret. */
static void rename_race(void)
{
    char path[PATH_MAX];
    check(mkdir("/r1", 0755) == 0 && mkdir("/r1/r2", 0755) == 0, "mkdir /r1/r2");
    int dfd = open("/r1/r2", O_RDONLY | O_DIRECTORY);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 300; i++) {
            rename("/r1", "/r1x");
            rename("/r1x", "/r1");
        }
        _exit(0);
    }
    int escaped = 0, seen = 0;
    snprintf(path, sizeof path, "../../../../../../..%s", secret);
    for (int i = 0; i < 300; i++) {
        const char *got = readfile_at(dfd, path);
        escaped |= strcmp(got, "SECRET") == 0;
        seen |= is(readfile_at(dfd, "../../etc/passwd"), "jail passwd");
    }
    int status;
    waitpid(pid, &status, 0);
    check(!escaped, "no .. walk reached the secret while /r1 was renamed");
    check(seen, "the .. walks found the jail's /etc/passwd");
    close(dfd);
}

static void creating(void)
{
    char path[PATH_MAX];
    struct stat st;
    check(link(secret, "/hardlink") == -1 && errno == ENOENT, "link(SECRET, ...) is ENOENT");
    check(link("/etc/passwd", "/../../../hl") == 0, "link to /../../../hl");
    check(stat("/hl", &st) == 0 && st.st_nlink == 2, "... made /hl in the jail");
    check(symlink("/etc/passwd", "/../../sym") == 0 && lstat("/sym", &st) == 0,
          "symlink at /../../sym made /sym");
    check(mkdir("/../../../newdir", 0755) == 0 && stat("/newdir", &st) == 0, "mkdir /../../newdir");
    check(rename("/newdir", "/../../../renamed") == 0 && stat("/renamed", &st) == 0,
          "rename to /../../renamed stays in");
    snprintf(path, sizeof path, "/../../..%s", secret);
    check(rename(path, "/stolen") == -1 && errno == ENOENT, "rename(SECRET) is ENOENT");
    check(unlink(path) == -1 && errno == ENOENT, "unlink(SECRET) is ENOENT");
    check(chmod(path, 0) == -1 && errno == ENOENT, "chmod(SECRET) is ENOENT");
    check(truncate(path, 0) == -1 && errno == ENOENT, "truncate(SECRET) is ENOENT");
    check(access(path, F_OK) == -1 && errno == ENOENT, "access(SECRET) is ENOENT");
    check(chown(path, 0, 0) == -1 && errno == ENOENT, "chown(SECRET) is ENOENT");
    check(utimensat(AT_FDCWD, path, NULL, 0) == -1 && errno == ENOENT, "utimensat(SECRET) is ENOENT");
    char xbuf[16];
    check(getxattr(path, "user.x", xbuf, sizeof xbuf) == -1 && errno == ENOENT,
          "getxattr(SECRET) is ENOENT");
    check(getxattr("/abs/passwd", "user.none", xbuf, sizeof xbuf) == -1 &&
          (errno == ENODATA || errno == ENOTSUP), "getxattr of a jail file asks the jail's file");
    check(lgetxattr("/abs", "user.none", xbuf, sizeof xbuf) == -1 &&
          (errno == ENODATA || errno == ENOTSUP || errno == EPERM), "lgetxattr of a symlink");
    check(readlink(path, xbuf, sizeof xbuf) == -1 && errno == ENOENT, "readlink(SECRET) is ENOENT");
    struct statx stx;
    check(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx) == -1 && errno == ENOENT,
          "statx(SECRET) is ENOENT");
    int in = inotify_init1(0);
    check(in >= 0 && inotify_add_watch(in, path, IN_ALL_EVENTS) == -1 && errno == ENOENT,
          "inotify_add_watch(SECRET) is ENOENT");
    check(inotify_add_watch(in, "/../../etc", IN_ALL_EVENTS) >= 0, "... and the jail's /etc is watched");
    close(in);
    check(execl(path, path, (char *)NULL) == -1 && errno == ENOENT, "execve(SECRET) is ENOENT");
    check(mknod("/../fifo", S_IFIFO | 0600, 0) == 0 && stat("/fifo", &st) == 0 &&
          S_ISFIFO(st.st_mode), "mknod /../fifo");
    int fd = open("/../../created", O_WRONLY | O_CREAT | O_EXCL, 0644);
    check(fd >= 0 && stat("/created", &st) == 0, "open(O_CREAT) /../../created");
    if (fd >= 0)
        close(fd);
    check(rmdir("/..") == -1 && errno == ENOTEMPTY, "rmdir(\"/..\") is ENOTEMPTY");
    check(rmdir("/etc/.") == -1 && errno == EINVAL, "rmdir(\"/etc/.\") is EINVAL");
    check(rmdir("/renamed") == 0 && unlink("/created") == 0, "rmdir and unlink inside");
    check(chmod("/abs", 0700) == 0 && stat("/etc", &st) == 0 && (st.st_mode & 0777) == 0700,
          "chmod through /abs changes the jail's /etc");
    chmod("/etc", 0755);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, "/../../sock");
    check(s >= 0 && bind(s, (struct sockaddr *)&sun, sizeof sun) == 0 && stat("/sock", &st) == 0
          && S_ISSOCK(st.st_mode), "bind(/../../sock) made /sock in the jail");
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    listen(s, 1);
    check(connect(c, (struct sockaddr *)&sun, sizeof sun) == 0, "connect to it");
    close(c);
    close(s);
    struct statfs sf;
    check(statfs("/", &sf) == 0, "statfs(/)");
    check(statfs(path, &sf) == -1 && errno == ENOENT, "statfs(SECRET) is ENOENT");
}

static void devices(void)
{
    int fd = open("/dev/null", O_WRONLY);
    check(fd >= 0 && write(fd, "x", 1) == 1, "/dev/null is the board's");
    if (fd >= 0)
        close(fd);
    char z[4] = {1, 1, 1, 1};
    fd = open("/dev/zero", O_RDONLY);
    check(fd >= 0 && read(fd, z, 4) == 4 && !z[0] && !z[3], "/dev/zero reads zeros");
    if (fd >= 0)
        close(fd);
    fd = open("/dev/shm/jail_escape_shm", O_RDWR | O_CREAT, 0600);
    check(fd >= 0, "a file in the board's /dev/shm");
    if (fd >= 0)
        close(fd);
    check(access("/dev/shm/jail_escape_shm", F_OK) == 0, "... is there");
    struct stat st;
    check(stat("/proc/self/status", &st) == 0 && is(readfile("/proc/self/comm"), "jail_escape"),
          "/proc is the board's");
    unlink("/dev/shm/jail_escape_shm");
    check(open("/proc/self/exe", O_WRONLY) == -1 && errno == ETXTBSY,
          "the running program is not opened for writing (ETXTBSY)");
    /* A device node made in the jail opens nothing: --jail is nodev
     * (a real chroot is not: there it would be the host's disk). */
    if (!real_chroot && mknod("/mem", S_IFCHR | 0600, makedev(1, 1)) == 0) {
        check(open("/mem", O_RDONLY) == -1 && errno == EACCES, "a device node in the jail: EACCES");
        unlink("/mem");
    }
}

/* chroot(2) nests: a sub-root, then the classic escape (chroot into a
 * subdirectory without chdir, walk up from the cwd, chroot(".")) which
 * Linux allows a root — but only up to the jail's root. */
static void nested_chroot(void)
{
    char path[PATH_MAX];
    check(mkdir("/sub", 0755) == 0 && mkdir("/sub/etc", 0755) == 0, "mkdir /sub/etc");
    int fd = open("/sub/etc/passwd", O_WRONLY | O_CREAT, 0644);
    check(fd >= 0 && write(fd, "sub passwd\n", 11) == 11, "/sub/etc/passwd");
    if (fd >= 0)
        close(fd);
    pid_t pid = fork();
    if (pid == 0) {
        if (geteuid() != 0) {
            check(chroot("/sub") == -1 && errno == EPERM, "chroot without CAP_SYS_CHROOT: EPERM");
            _exit(failures ? 1 : 0);
        }
        check(chroot("/nonexistent") == -1 && errno == ENOENT, "chroot(missing): ENOENT");
        check(chroot("/etc/passwd") == -1 && errno == ENOTDIR, "chroot(file): ENOTDIR");
        check(chroot("/sub") == 0, "chroot(/sub)");
        check(is(readfile("/etc/passwd"), "sub passwd"), "/etc/passwd in the chroot");
        check(is(readfile("/../../etc/passwd"), "sub passwd"), "/../.. in the chroot");
        /* The libcs turn "(unreachable)..." into ENOENT (glibc 2.27, musl):
         * the system call itself shows what 4.14's getcwd() returns. */
        char cwd[PATH_MAX];
        long n = syscall(SYS_getcwd, cwd, sizeof cwd);
        check(n > 0 && strncmp(cwd, "(unreachable)/", 14) == 0 &&
              (real_chroot || is(cwd, "(unreachable)/")), "getcwd() of a cwd outside the new root");
        check(is(readfile("etc/passwd"), "jail passwd"), "relative names from that cwd");
        if (real_chroot)
            _exit(failures ? 1 : 0);
        check(chdir("../../../..") == 0 && chroot(".") == 0, "the classic chroot escape");
        check(is(readfile("/etc/passwd"), "jail passwd"), "... ends at the jail's root");
        check(is(readfile("/JAIL_MARK"), ""), "... which is the jail");
        snprintf(path, sizeof path, "/../../..%s", secret);
        never_secret(readfile(path), "SECRET after the chroot escape");
        check_cwd("/", "getcwd after the escape");
        _exit(failures ? 1 : 0);
    }
    int status;
    waitpid(pid, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the chroot child's checks");
    check(is(readfile("/etc/passwd"), "jail passwd"), "the parent's root is unchanged");
}

/* The guest's own search permission on the way (a task that is not the
 * host process's twin is checked directory by directory). */
static void search_permission(void)
{
    check(mkdir("/private", 0700) == 0, "mkdir /private 0700");
    int fd = open("/private/f", O_WRONLY | O_CREAT, 0644);
    check(fd >= 0, "/private/f");
    if (fd >= 0)
        close(fd);
    check(mkdir("/private/sub", 0755) == 0, "mkdir /private/sub 0755");
    fd = open("/private/sub/g", O_WRONLY | O_CREAT, 0644);
    if (fd >= 0)
        close(fd);
    check(symlink("/private/f", "/to_private") == 0, "symlink /to_private");
    if (geteuid() != 0)
        return;                 /* only root can become someone else to be refused */
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0)
            _exit(3);
        check(is(readfile("/private/f"), "-EACCES"), "no search permission: EACCES");
        check(is(readfile("/to_private"), "-EACCES"), "... through a symlink too");
        check(is(readfile("/private/sub/g"), "-EACCES"), "... two directories down");
        check(is(readfile("/abs/passwd"), "jail passwd"), "a searchable path still opens");
        _exit(failures ? 1 : 0);
    }
    int status;
    waitpid(pid, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the unprivileged child's checks");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: jail_escape HOST-PATH-OF-SECRET\n");
        return 2;
    }
    secret = argv[1];
    real_chroot = argc > 2 && strcmp(argv[2], "--real-chroot") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    root_is_jail();
    dotdot();
    symlinks();
    proc_links();
    dirfds();
    rename_race();
    creating();
    devices();
    search_permission();
    nested_chroot();
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}
