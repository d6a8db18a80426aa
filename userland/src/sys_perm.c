/*
 * sys_perm.c - path permission checks (issue 9): what the kernel refuses
 * a process because of its credentials, whoever runs the emulator.
 *
 * Run as root.  A root part makes a tree in the working directory; each
 * other part runs in a child that becomes uid 54321 (gid 600, groups 700)
 * with setresuid(), or stays root and drops capabilities with capset(),
 * and checks the errno of open (read, write, O_TRUNC, O_CREAT, O_NOATIME,
 * O_PATH), search permission on the directories walked, mkdir, mknod,
 * symlink, link, unlink, rmdir, rename (the sticky bit, moving a
 * directory), execve, chdir, fchdir and truncate.  Self-checking; the
 * output names errnos only, so the host build on the real kernel prints
 * the same lines (with one exception the test harness knows:
 * protected_hardlinks, see hardlink()).  Only relative paths are used:
 * the directories above the working directory are the harness's.
 */
#include "proc.h"

#include <stdint.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/xattr.h>

#define U 54321             /* a uid no other process on the machine has */
#define G 600
#define G2 700
#define OTHER 1000

#define TOP "sys_perm.d"
#define ERR(call) (errno = 0, (call) < 0 ? errno : 0)

struct cap_hdr { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };
#define CAP_V3 0x20080522u
#define C_DAC_OVERRIDE 1
#define C_DAC_READ_SEARCH 2
#define C_FOWNER 3

static char *self_path;

/* errno_name() (common.h) and the few it does not know. */
static const char *ename(int e)
{
    switch (e) {
    case ENODATA: return "ENODATA";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return errno_name(e);
    }
}

static void expect(const char *what, int got, int want)
{
    CHECK(got == want, "%s: %s", what, ename(got));
}

/* The file system's own answer is the host's (tmpfs or ext4 may lack
 * user.* attributes): print it, the same under a53emu. */
static void show(const char *what, int got)
{
    printf("  %s: %s\n", what, ename(got));
}

static int open_err(const char *path, int flags)
{
    int fd = open(path, flags, 0644);

    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

static void put(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

    if (fd < 0 || write(fd, "data\n", 5) != 5 || fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
        printf("FAILED: set-up of %s: %s\n", path, errno_name(errno));
    close(fd);
}

static void dir(const char *path, mode_t mode, uid_t uid)
{
    if (mkdir(path, mode) < 0 || chown(path, uid, uid == 0 ? 0 : G) < 0 || chmod(path, mode) < 0)
        printf("FAILED: set-up of %s: %s\n", path, errno_name(errno));
}

/* The program itself, copied (execve's checks need a real program). */
static void copy_self(const char *path, mode_t mode)
{
    char buf[65536];
    int in = open(self_path, O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    ssize_t n;

    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            break;
    if (in < 0 || out < 0 || fchmod(out, mode) < 0)
        printf("FAILED: copy of the program: %s\n", errno_name(errno));
    close(in);
    close(out);
}

static void setup(void)
{
    umask(0);
    dir(TOP, 0755, 0);
    put(TOP "/secret", 0600, 0, 0);
    put(TOP "/pub", 0644, 0, 0);
    put(TOP "/ww", 0666, 0, 0);
    put(TOP "/grp", 0640, 0, G2);
    put(TOP "/other", 0600, OTHER, OTHER);
    put(TOP "/other_r", 0644, OTHER, OTHER);
    dir(TOP "/odir", 0700, OTHER);
    put(TOP "/odir/f", 0644, OTHER, OTHER);
    put(TOP "/script", 0644, 0, 0);
    copy_self(TOP "/prog", 0700);
    dir(TOP "/closed", 0700, 0);
    put(TOP "/closed/f", 0644, 0, 0);
    dir(TOP "/xonly", 0711, 0);
    put(TOP "/xonly/f", 0644, 0, 0);
    dir(TOP "/w", 0777, 0);
    dir(TOP "/w/rootdir", 0755, 0);
    dir(TOP "/w/sub", 0777, 0);
    dir(TOP "/sticky", 01777, 0);
    put(TOP "/sticky/root_f", 0666, 0, 0);
    put(TOP "/sticky/user_f", 0666, U, G);
    dir(TOP "/sticky/mine", 01777, U);
    put(TOP "/sticky/mine/root_f", 0666, 0, 0);
    if (symlink("closed/f", TOP "/to_closed") < 0 || symlink("w", TOP "/to_w") < 0)
        printf("FAILED: set-up of the symlinks: %s\n", errno_name(errno));
}

static void become_user(void)
{
    gid_t g2 = G2;

    if (syscall(SYS_setgroups, 1, &g2) < 0 || setresgid(G, G, G) < 0 || setresuid(U, U, U) < 0)
        printf("FAILED: become uid %d: %s\n", U, errno_name(errno));
}

static int capset_root(uint64_t eff)
{
    struct cap_hdr h = {CAP_V3, 0};
    struct cap_data d[2] = {{(uint32_t)eff, (uint32_t)eff, 0}, {(uint32_t)(eff >> 32),
                                                                (uint32_t)(eff >> 32), 0}};
    return (int)syscall(SYS_capset, &h, d);
}

static void opens(void)
{
    int fd;
    struct stat st;

    become_user();
    expect("open root's 0600 O_RDONLY", open_err(TOP "/secret", O_RDONLY), EACCES);
    expect("open root's 0600 O_WRONLY", open_err(TOP "/secret", O_WRONLY), EACCES);
    expect("open a 0644 O_RDONLY", open_err(TOP "/pub", O_RDONLY), 0);
    expect("open a 0644 O_WRONLY", open_err(TOP "/pub", O_WRONLY), EACCES);
    expect("open a 0644 O_RDONLY|O_TRUNC (MAY_WRITE)", open_err(TOP "/pub", O_RDONLY | O_TRUNC), EACCES);
    expect("open a 0666 O_RDWR|O_TRUNC", open_err(TOP "/ww", O_RDWR | O_TRUNC), 0);
    expect("open 0640 root:700 O_RDONLY (our group 700)", open_err(TOP "/grp", O_RDONLY), 0);
    expect("open 0640 root:700 O_WRONLY", open_err(TOP "/grp", O_WRONLY), EACCES);
    expect("open another user's 0600", open_err(TOP "/other", O_RDONLY), EACCES);
    expect("open O_PATH of root's 0600 (no permission needed)", open_err(TOP "/secret", O_PATH), 0);
    expect("open O_NOATIME of a file we do not own", open_err(TOP "/pub", O_RDONLY | O_NOATIME), EPERM);
    expect("open a directory O_WRONLY", open_err(TOP, O_WRONLY), EISDIR);
    expect("open in a 0700 directory: search refused", open_err(TOP "/closed/f", O_RDONLY), EACCES);
    expect("open a missing name in a 0700 directory: EACCES before ENOENT",
           open_err(TOP "/closed/none", O_RDONLY), EACCES);
    expect("open via a symlink into a 0700 directory", open_err(TOP "/to_closed", O_RDONLY), EACCES);
    expect("open in a 0711 directory (search only)", open_err(TOP "/xonly/f", O_RDONLY), 0);
    expect("open O_CREAT of a new name in root's 0755 directory",
           open_err(TOP "/new", O_RDWR | O_CREAT), EACCES);
    expect("open O_CREAT of an existing 0644, O_RDONLY", open_err(TOP "/pub", O_RDONLY | O_CREAT), 0);
    expect("open O_CREAT|O_EXCL of an existing name: EEXIST before EACCES",
           open_err(TOP "/pub", O_RDONLY | O_CREAT | O_EXCL), EEXIST);
    expect("open O_CREAT in a 0777 directory", open_err(TOP "/w/mine", O_RDWR | O_CREAT | O_EXCL), 0);
    expect("open O_CREAT through a symlinked directory", open_err(TOP "/to_w/mine2", O_RDWR | O_CREAT), 0);
    CHECK(stat(TOP "/w/mine", &st) == 0 && st.st_uid == U && st.st_gid == G,
          "a new file is ours: uid %d gid %d", U, G);
    CHECK(chmod(TOP "/w/mine", 0600) == 0, "chmod of our new file: 0");
    expect("reopen our 0600 file O_RDWR", open_err(TOP "/w/mine", O_RDWR), 0);
    expect("open O_NOATIME of our own file", open_err(TOP "/w/mine", O_RDONLY | O_NOATIME), 0);
    fd = open(TOP "/w", O_RDWR | O_TMPFILE, 0600);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == U && st.st_gid == G,
          "an O_TMPFILE file in a 0777 directory is ours");
    close(fd);
    expect("O_TMPFILE in root's 0755 directory", open_err(TOP, O_RDWR | O_TMPFILE), EACCES);
    fd = open(TOP "/w", O_RDONLY | O_DIRECTORY);
    expect("openat(dirfd) O_CREAT in a 0777 directory",
           ERR(fd >= 0 ? openat(fd, "mine3", O_RDWR | O_CREAT, 0600) : -1), 0);
    close(fd);
    expect("stat in a 0700 directory", ERR(stat(TOP "/closed/f", &st)), EACCES);
    expect("stat of the 0700 directory itself", ERR(stat(TOP "/closed", &st)), 0);
}

static void creates(void)
{
    become_user();
    expect("mkdir in root's 0755 directory", ERR(mkdir(TOP "/d", 0755)), EACCES);
    expect("mkdir of an existing name: EEXIST before EACCES", ERR(mkdir(TOP "/pub", 0755)), EEXIST);
    expect("mkdir in a 0700 directory", ERR(mkdir(TOP "/closed/d", 0755)), EACCES);
    expect("mkdir in a 0777 directory", ERR(mkdir(TOP "/w/d", 0755)), 0);
    expect("mknod a FIFO in root's directory", ERR(mknod(TOP "/fifo", S_IFIFO | 0644, 0)), EACCES);
    expect("mknod a FIFO in a 0777 directory", ERR(mknod(TOP "/w/fifo", S_IFIFO | 0644, 0)), 0);
    expect("symlink in root's directory", ERR(symlink("pub", TOP "/ln")), EACCES);
    expect("symlink in a 0777 directory", ERR(symlink("pub", TOP "/w/ln")), 0);
    expect("link into root's directory", ERR(link(TOP "/w/ln", TOP "/hard")), EACCES);
    expect("link from a 0700 directory", ERR(link(TOP "/closed/f", TOP "/w/hard")), EACCES);
    expect("link of our file in a 0777 directory", ERR(link(TOP "/w/mine", TOP "/w/hard")), 0);
    expect("rmdir in root's directory", ERR(rmdir(TOP "/xonly")), EACCES);
    expect("unlink in root's directory", ERR(unlink(TOP "/pub")), EACCES);
    expect("unlink of a directory in root's directory: EACCES before EISDIR",
           ERR(unlink(TOP "/closed")), EACCES);
    expect("unlink in a 0700 directory", ERR(unlink(TOP "/closed/f")), EACCES);
    expect("unlink of root's file in a sticky directory", ERR(unlink(TOP "/sticky/root_f")), EPERM);
    expect("unlink of our file in a sticky directory", ERR(unlink(TOP "/sticky/user_f")), 0);
    expect("unlink of root's file in our sticky directory", ERR(unlink(TOP "/sticky/mine/root_f")), 0);
    expect("rename root's file in a sticky directory", ERR(rename(TOP "/sticky/root_f", TOP "/sticky/x")),
           EPERM);
    expect("rename out of root's directory", ERR(rename(TOP "/pub", TOP "/w/pub")), EACCES);
    expect("rename into root's directory", ERR(rename(TOP "/w/mine", TOP "/mine")), EACCES);
    expect("rename over a file in a sticky directory we do not own",
           ERR(rename(TOP "/w/mine", TOP "/sticky/root_f")), EPERM);
    expect("rename root's directory to another parent (its .. changes)",
           ERR(rename(TOP "/w/rootdir", TOP "/w/sub/rootdir")), EACCES);
    expect("rename root's directory within its parent", ERR(rename(TOP "/w/rootdir", TOP "/w/rootdir2")), 0);
    expect("rename our file within a 0777 directory", ERR(rename(TOP "/w/mine", TOP "/w/mine.1")), 0);
}

/* protected_hardlinks: 0 in 4.14 by default (commit 561ec64ae67e, v3.7);
 * a distribution's sysctl.d sets 1, and then a user may not link a file
 * it neither owns nor may read and write (EPERM).  The harness maps the
 * host's answer. */
static void hardlink(void)
{
    int protected = 0;              /* no such file: the kernel's default */
    FILE *f = fopen("/proc/sys/fs/protected_hardlinks", "r");
    int err;

    if (f) {
        if (fscanf(f, "%d", &protected) != 1)
            protected = -1;
        fclose(f);
    }
    become_user();
    err = ERR(link(TOP "/pub", TOP "/w/pub.link"));
    CHECK(err == (protected ? EPERM : 0),
          "protected_hardlinks %d: link of root's 0644 file into a 0777 directory: %s",
          protected, errno_name(err));
}

static int exec_status(const char *path)
{
    pid_t pid = xfork();
    int status;

    if (pid == 0) {
        char *argv[] = {(char *)path, "true", NULL};
        execv(path, argv);
        _exit(errno == EACCES ? 13 : 99);
    }
    status = wait_for(pid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 13 ? EACCES :
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void execs_root(void)
{
    expect("root: execve of a 0644 file (no x bit)", exec_status(TOP "/script"), EACCES);
    expect("root: execve of a 0700 program", exec_status(TOP "/prog"), 0);
    expect("root: execve of a directory", exec_status(TOP), EACCES);
}

static void execs_user(void)
{
    int pfd = open(TOP "/prog", O_PATH | O_CLOEXEC);
    char *argv[] = {"prog", "true", NULL}, *envp[] = {NULL};

    become_user();
    CHECK(pfd >= 0 && syscall(SYS_execveat, pfd, "", argv, envp, AT_EMPTY_PATH) < 0 && errno == EACCES,
          "execveat(AT_EMPTY_PATH) of an O_PATH descriptor of root's 0700 program: %s",
          errno_name(errno));
    expect("execve of root's 0700 program", exec_status(TOP "/prog"), EACCES);
    expect("execve of a 0644 file", exec_status(TOP "/script"), EACCES);
    expect("execve in a 0700 directory", exec_status(TOP "/closed/f"), EACCES);
    expect("execve of a directory", exec_status(TOP "/w"), EACCES);
}

static void execs_user_allowed(void)
{
    CHECK(chmod(TOP "/prog", 0755) == 0, "chmod the program 0755");
    become_user();
    expect("execve of a 0755 program", exec_status(TOP "/prog"), 0);
}

static void dirs(void)
{
    int closed = open(TOP "/closed", O_RDONLY | O_DIRECTORY);
    int xonly = open(TOP "/xonly", O_RDONLY | O_DIRECTORY);
    int pathfd = open(TOP "/closed", O_PATH | O_DIRECTORY);

    become_user();
    expect("chdir into a 0700 directory", ERR(chdir(TOP "/closed")), EACCES);
    expect("fchdir to a 0700 directory", ERR(fchdir(closed)), EACCES);
    expect("fchdir to an O_PATH descriptor of a 0700 directory", ERR(fchdir(pathfd)), EACCES);
    expect("truncate root's 0644", ERR(truncate(TOP "/pub", 0)), EACCES);
    expect("truncate a 0666", ERR(truncate(TOP "/ww", 1)), 0);
    expect("truncate in a 0700 directory", ERR(truncate(TOP "/closed/f", 0)), EACCES);
    expect("truncate a directory", ERR(truncate(TOP, 0)), EISDIR);
    expect("fchdir to a 0711 directory", ERR(fchdir(xonly)), 0);
    expect("open . in a 0711 directory (no read)", open_err(".", O_RDONLY), EACCES);
    expect("open f in it (search is enough)", open_err("f", O_RDONLY), 0);
    expect("chdir .. from it", ERR(chdir("..")), 0);
    expect("chdir into a 0777 directory", ERR(chdir("w")), 0);
    expect("chdir .. back", ERR(chdir("..")), 0);
    CHECK(chmod("w", 0700) < 0 && errno == EPERM, "chmod of root's directory: EPERM");
    close(closed);
    close(xonly);
    close(pathfd);
}

/* The working directory loses its search permission: relative names
 * fail (the walk starts there), "." itself can still be stat()ed by name
 * only through its parent. */
static void cwd_search(void)
{
    struct stat st;
    int dfd;

    CHECK(chdir(TOP "/w/sub") == 0, "chdir into a directory of ours-to-be");
    CHECK(chown(".", U, G) == 0, "give it to the user");
    become_user();
    expect("create in it", open_err("f", O_RDWR | O_CREAT), 0);
    dfd = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(chmod(".", 0600) == 0, "chmod . 0600 (no search for us)");
    expect("stat f relative to the cwd", ERR(stat("f", &st)), EACCES);
    expect("open f relative to the cwd", open_err("f", O_RDONLY), EACCES);
    expect("stat . (the walk starts with a search of the cwd)", ERR(stat(".", &st)), EACCES);
    expect("chmod . back", ERR(chmod(".", 0700)), EACCES);
    expect("fstatat(dirfd, \"f\") (the same directory)", ERR(fstatat(dfd, "f", &st, 0)), EACCES);
    CHECK(fchmod(dfd, 0700) == 0 && stat("f", &st) == 0, "fchmod 0700: f is back");
    unlink("f");
    close(dfd);
}

static void root_caps(void)
{
    uint64_t all = 0, no_dac;
    struct cap_data d[2];
    struct cap_hdr h = {CAP_V3, 0};
    struct stat st;

    expect("root: open another user's 0600 O_RDWR", open_err(TOP "/other", O_RDWR), 0);
    expect("root: open in a 0700 directory", open_err(TOP "/closed/f", O_RDONLY), 0);
    if (syscall(SYS_capget, &h, d) == 0)
        all = d[0].permitted | (uint64_t)d[1].permitted << 32;
    no_dac = all & ~((1ull << C_DAC_OVERRIDE) | (1ull << C_DAC_READ_SEARCH) | (1ull << C_FOWNER));
    CHECK(capset_root(no_dac | 1ull << C_DAC_READ_SEARCH) == 0, "drop CAP_DAC_OVERRIDE and CAP_FOWNER");
    expect("CAP_DAC_READ_SEARCH: read another user's 0600", open_err(TOP "/other", O_RDONLY), 0);
    expect("CAP_DAC_READ_SEARCH: write it", open_err(TOP "/other", O_WRONLY), EACCES);
    expect("CAP_DAC_READ_SEARCH: search a 0700 directory of another user",
           ERR(stat(TOP "/odir/f", &st)), 0);
    CHECK(capset_root(no_dac) == 0, "drop CAP_DAC_READ_SEARCH too");
    expect("no DAC capability: read another user's 0600", open_err(TOP "/other", O_RDONLY), EACCES);
    expect("no DAC capability: our own 0600 (the owner's bits)", open_err(TOP "/secret", O_RDWR), 0);
    expect("no DAC capability: search a 0700 directory of another user",
           ERR(stat(TOP "/odir/f", &st)), EACCES);
    expect("no CAP_FOWNER: O_NOATIME on another user's 0644",
           open_err(TOP "/other_r", O_RDONLY | O_NOATIME), EPERM);
}

static int unix_at(const char *path, int type, int do_bind)
{
    struct sockaddr_un a;
    int fd = socket(AF_UNIX, type, 0), r;

    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (fd < 0)
        return errno;
    r = do_bind ? bind(fd, (struct sockaddr *)&a, sizeof a) : connect(fd, (struct sockaddr *)&a, sizeof a);
    if (r == 0 && do_bind && type == SOCK_STREAM)
        r = listen(fd, 4);
    r = r < 0 ? errno : 0;
    if (!do_bind || r)
        close(fd);
    return r;                       /* a bound socket stays open */
}

/* AF_UNIX path names: bind() makes a file (may_create), connect() needs
 * write permission on the socket (unix_find_other()). */
static void unix_paths(void)
{
    CHECK(unix_at(TOP "/s755", SOCK_STREAM, 1) == 0 && chmod(TOP "/s755", 0755) == 0,
          "root: a listener at a 0755 socket");
    CHECK(unix_at(TOP "/s777", SOCK_STREAM, 1) == 0 && chmod(TOP "/s777", 0777) == 0,
          "root: a listener at a 0777 socket");
    CHECK(unix_at(TOP "/d755", SOCK_DGRAM, 1) == 0 && chmod(TOP "/d755", 0755) == 0,
          "root: a datagram socket at 0755");
    become_user();
    expect("connect to the 0755 socket", unix_at(TOP "/s755", SOCK_STREAM, 0), EACCES);
    expect("connect to the 0777 socket", unix_at(TOP "/s777", SOCK_STREAM, 0), 0);
    expect("connect to the 0755 datagram socket", unix_at(TOP "/d755", SOCK_DGRAM, 0), EACCES);
    expect("connect through a 0700 directory", unix_at(TOP "/closed/s", SOCK_STREAM, 0), EACCES);
    expect("bind in root's directory", unix_at(TOP "/us", SOCK_STREAM, 1), EACCES);
    expect("bind in a 0777 directory", unix_at(TOP "/w/us", SOCK_STREAM, 1), 0);
}

/* utimensat(): "now" needs write permission or ownership (EACCES),
 * explicit times ownership (EPERM). */
static void utimes_user(void)
{
    struct timespec now2[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    struct timespec set[2] = {{1000, 0}, {2000, 0}};
    struct timespec one_now[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    int fd = open(TOP "/pub", O_RDONLY);

    become_user();
    expect("utimensat(NULL) on root's 0644", ERR(utimensat(AT_FDCWD, TOP "/pub", NULL, 0)), EACCES);
    expect("both UTIME_NOW on it", ERR(utimensat(AT_FDCWD, TOP "/pub", now2, 0)), EACCES);
    expect("futimens(NULL) on a read-only descriptor of it", ERR(futimens(fd, NULL)), EACCES);
    expect("utimensat(NULL) on root's 0666", ERR(utimensat(AT_FDCWD, TOP "/ww", NULL, 0)), 0);
    expect("explicit times on root's 0666", ERR(utimensat(AT_FDCWD, TOP "/ww", set, 0)), EPERM);
    expect("UTIME_NOW with UTIME_OMIT on root's 0666", ERR(utimensat(AT_FDCWD, TOP "/ww", one_now, 0)),
           EPERM);
    expect("explicit times on our own file", ERR(utimensat(AT_FDCWD, TOP "/w/mine.1", set, 0)), 0);
    expect("utimensat in a 0700 directory", ERR(utimensat(AT_FDCWD, TOP "/closed/f", NULL, 0)), EACCES);
    close(fd);
}

/* Extended attributes: xattr_permission(). */
static void xattrs(void)
{
    char v[8];

    CHECK(mkfifo(TOP "/w/fifo2", 0666) == 0 || errno == EEXIST, "a FIFO");
    become_user();
    expect("setxattr user.* on root's 0644", ERR(setxattr(TOP "/pub", "user.a", "1", 1, 0)), EACCES);
    expect("getxattr user.* on root's 0600", ERR(getxattr(TOP "/secret", "user.a", v, sizeof v)), EACCES);
    expect("setxattr trusted.*", ERR(setxattr(TOP "/ww", "trusted.a", "1", 1, 0)), EPERM);
    expect("getxattr trusted.*", ERR(getxattr(TOP "/ww", "trusted.a", v, sizeof v)), ENODATA);
    expect("setxattr user.* on a FIFO", ERR(setxattr(TOP "/w/fifo2", "user.a", "1", 1, 0)), EPERM);
    expect("getxattr user.* on a FIFO", ERR(getxattr(TOP "/w/fifo2", "user.a", v, sizeof v)), ENODATA);
    expect("removexattr user.* on root's 0644", ERR(removexattr(TOP "/pub", "user.a")), EACCES);
    expect("setxattr user.* on the sticky directory of root",
           ERR(setxattr(TOP "/sticky", "user.a", "1", 1, 0)), EPERM);
    show("setxattr user.* on root's 0666 (the file system's answer)",
         ERR(setxattr(TOP "/ww", "user.a", "1", 1, 0)));
    expect("getxattr in a 0700 directory", ERR(getxattr(TOP "/closed/f", "user.a", v, sizeof v)), EACCES);
}

/* access() looks the name up with the real ids too (override_creds()). */
static void access_walk(void)
{
    struct stat st;

    CHECK(setresuid(U, 0, 0) == 0, "real uid %d, effective root", U);
    expect("stat in a 0700 directory (effective root)", ERR(stat(TOP "/closed/f", &st)), 0);
    expect("access(F_OK) in it: searched with the real uid", ERR(access(TOP "/closed/f", F_OK)), EACCES);
    expect("access(F_OK) in a 0711 directory", ERR(access(TOP "/xonly/f", F_OK)), 0);
}

static void cleanup(void)
{
    static const char *files[] = {
        "/other_r", "/odir/f", "/secret", "/pub", "/ww", "/grp", "/other", "/script", "/prog", "/closed/f",
        "/xonly/f", "/sticky/root_f", "/sticky/user_f", "/sticky/x", "/sticky/mine/root_f",
        "/to_closed", "/to_w", "/w/mine", "/w/mine.1", "/w/mine2", "/w/mine3", "/w/fifo",
        "/s755", "/s777", "/d755", "/w/us", "/us", "/w/fifo2", "/w/ln", "/w/hard", "/w/pub.link", "/w/sub/f", "/mine", "/new", "/fifo", "/ln", "/hard",
    };
    static const char *dirs_[] = {
        "/odir", "/closed", "/xonly", "/w/d", "/w/rootdir", "/w/rootdir2", "/w/sub/rootdir", "/w/sub",
        "/w", "/sticky/mine", "/sticky", "/d", "",
    };
    char path[256];
    size_t i;

    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s%s", TOP, files[i]);
        unlink(path);
    }
    for (i = 0; i < sizeof dirs_ / sizeof dirs_[0]; i++) {
        snprintf(path, sizeof path, "%s%s", TOP, dirs_[i]);
        rmdir(path);
    }
    CHECK(access(TOP, F_OK) < 0 && errno == ENOENT, "the tree is gone");
}

/* `sys_perm host-refuses`, for a guest root (a53emu --root) run by a host
 * user that is not root, in a 0777 directory holding the host root's 0600
 * "secret": the guest's credentials never widen what the host process may
 * do, so the host's EACCES stands; a file the guest makes is root's in its
 * view (the host file stays the host user's). */
static int host_refuses(void)
{
    struct stat st;

    CHECK(geteuid() == 0, "we are root");
    expect("open the host root's 0600", open_err("secret", O_RDONLY), EACCES);
    expect("create a file", open_err("mine", O_RDWR | O_CREAT | O_EXCL), 0);
    CHECK(stat("mine", &st) == 0 && st.st_uid == 0 && st.st_gid == 0, "it is root's");
    expect("chown it", ERR(chown("mine", OTHER, OTHER)), 0);
    CHECK(stat("mine", &st) == 0 && st.st_uid == OTHER, "it is uid %d's", OTHER);
    expect("unlink it", ERR(unlink("mine")), 0);
    printf("%s\n", check_failures ? "some checks FAILED" : "all checks passed");
    return check_failures ? 1 : 0;
}

static void part(const char *title, void (*fn)(void))
{
    pid_t pid;
    int status;

    printf("%s\n", title);
    pid = xfork();
    if (pid == 0) {
        check_failures = 0;
        fn();
        fflush(stdout);
        _exit(check_failures ? 1 : 0);
    }
    status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child %s", title, status_str(status));
}

int main(int argc, char **argv)
{
    proc_init();
    if (argc > 1 && strcmp(argv[1], "true") == 0)
        return 0;                   /* the exec'd copy */
    if (argc > 1 && strcmp(argv[1], "host-refuses") == 0)
        return host_refuses();
    self_path = argv[0];
    if (geteuid() != 0) {
        printf("sys_perm: run me as root (a53emu: --root)\n");
        return 2;
    }
    setup();
    part("open", opens);
    part("create and remove", creates);
    part("hard links (protected_hardlinks)", hardlink);
    part("execve as root", execs_root);
    part("execve as a user", execs_user);
    part("execve of a 0755 program", execs_user_allowed);
    part("chdir, fchdir, truncate", dirs);
    part("search permission of the working directory", cwd_search);
    part("root without DAC capabilities", root_caps);
    part("access() walks with the real ids", access_walk);
    part("AF_UNIX path names", unix_paths);
    part("utimensat", utimes_user);
    part("extended attributes", xattrs);
    cleanup();
    printf("%s\n", check_failures ? "some checks FAILED" : "all checks passed");
    return check_failures ? 1 : 0;
}
