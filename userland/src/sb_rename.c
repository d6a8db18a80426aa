/*
 * sb_rename.c - renameat2()'s flags (fs/namei.c do_renameat2, Linux 4.14):
 * the flag checks and their order, RENAME_NOREPLACE, RENAME_EXCHANGE (a
 * file with a file, a file with a directory), RENAME_WHITEOUT's CAP_MKNOD
 * check, and vfs_rename()'s permission checks for a non-root caller.
 * Self-checking; built for the host too.  Runs in a scratch directory and
 * leaves it empty.
 */
#include "common.h"
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)
#endif

#define DIR_NAME "sb_rename.d"
#define NOBODY 65534

static long rn2(const char *a, const char *b, unsigned flags)
{
    long r = syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
    return r < 0 ? -errno : r;
}

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        printf("FAILED: create %s\n", path), exit(1);
    close(fd);
}

static int has(const char *path, const char *text)
{
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n == (ssize_t)strlen(text) && !memcmp(buf, text, n);
}

static const char *en(long r) { return r < 0 ? errno_name(-r) : "0"; }

/* Is the running kernel older than major.minor? */
static int kernel_before(int major, int minor)
{
    struct utsname u;
    int ma = 0, mi = 0;
    uname(&u);
    sscanf(u.release, "%d.%d", &ma, &mi);
    return ma < major || (ma == major && mi < minor);
}

/* As uid NOBODY in a child: the flag checks come first, then the walks,
 * then the guest's permission checks in a directory it cannot write. */
static int unprivileged(void)
{
    int fails = 0;
    long r;
    if (setgid(NOBODY) || setuid(NOBODY))
        return 100;
    /* 4.14: EPERM without CAP_MKNOD.  Linux 5.8 (commit a3c751a50fe6,
     * "vfs: allow unprivileged whiteout creation") dropped the check: the
     * directory's permission refuses it then. */
    long want = kernel_before(5, 8) ? -EPERM : -EACCES;
    r = rn2(DIR_NAME "/a", DIR_NAME "/nowhere", RENAME_WHITEOUT);
    printf("  %s: WHITEOUT without CAP_MKNOD: %s\n", r == want ? "ok" : "FAILED", en(r));
    fails += r != want;
    r = rn2(DIR_NAME "/a", DIR_NAME "/nowhere", RENAME_WHITEOUT | RENAME_EXCHANGE);
    printf("  %s: WHITEOUT|EXCHANGE is EINVAL before EPERM: %s\n", r == -EINVAL ? "ok" : "FAILED", en(r));
    fails += r != -EINVAL;
    r = rn2(DIR_NAME "/a", DIR_NAME "/b", RENAME_EXCHANGE);
    printf("  %s: EXCHANGE in a directory not writable: %s\n", r == -EACCES ? "ok" : "FAILED", en(r));
    fails += r != -EACCES;
    r = rn2(DIR_NAME "/a", DIR_NAME "/b", RENAME_NOREPLACE);
    printf("  %s: NOREPLACE onto a name that exists is EEXIST before EACCES: %s\n",
           r == -EEXIST ? "ok" : "FAILED", en(r));
    fails += r != -EEXIST;
    r = rn2(DIR_NAME "/a", DIR_NAME "/c", RENAME_NOREPLACE);
    printf("  %s: NOREPLACE to a new name, directory not writable: %s\n", r == -EACCES ? "ok" : "FAILED", en(r));
    fails += r != -EACCES;
    fflush(stdout);
    return fails;
}

int main(void)
{
    long r;
    struct stat st;
    int status;

    if (mkdir(DIR_NAME, 0755))
        return printf("FAILED: mkdir\n"), 1;
    put(DIR_NAME "/a", "A");
    put(DIR_NAME "/b", "B");
    mkdir(DIR_NAME "/d", 0755);

    printf("flags:\n");
    r = rn2(DIR_NAME "/a", DIR_NAME "/b", 1 << 3);
    CHECK(r == -EINVAL, "an unknown flag: %s", en(r));
    r = rn2(DIR_NAME "/a", DIR_NAME "/b", RENAME_NOREPLACE | RENAME_EXCHANGE);
    CHECK(r == -EINVAL, "NOREPLACE|EXCHANGE: %s", en(r));
    r = rn2(DIR_NAME "/missing", DIR_NAME "/b", 1 << 3);
    CHECK(r == -EINVAL, "the flags are checked before the names: %s", en(r));

    printf("RENAME_NOREPLACE:\n");
    r = rn2(DIR_NAME "/a", DIR_NAME "/b", RENAME_NOREPLACE);
    CHECK(r == -EEXIST && has(DIR_NAME "/a", "A") && has(DIR_NAME "/b", "B"),
          "onto an existing file: %s, both kept", en(r));
    r = rn2(DIR_NAME "/a", DIR_NAME "/c", RENAME_NOREPLACE);
    CHECK(r == 0 && has(DIR_NAME "/c", "A") && access(DIR_NAME "/a", F_OK) < 0,
          "to a new name: %s", en(r));
    r = rn2(DIR_NAME "/missing", DIR_NAME "/e", RENAME_NOREPLACE);
    CHECK(r == -ENOENT, "a missing source: %s", en(r));
    rn2(DIR_NAME "/c", DIR_NAME "/a", 0);

    printf("RENAME_EXCHANGE:\n");
    r = rn2(DIR_NAME "/a", DIR_NAME "/b", RENAME_EXCHANGE);
    CHECK(r == 0 && has(DIR_NAME "/a", "B") && has(DIR_NAME "/b", "A"), "two files swap: %s", en(r));
    r = rn2(DIR_NAME "/a", DIR_NAME "/nothing", RENAME_EXCHANGE);
    CHECK(r == -ENOENT && has(DIR_NAME "/a", "B"), "with a missing target: %s", en(r));
    r = rn2(DIR_NAME "/a", DIR_NAME "/d", RENAME_EXCHANGE);
    CHECK(r == 0 && stat(DIR_NAME "/a", &st) == 0 && S_ISDIR(st.st_mode) && has(DIR_NAME "/d", "B"),
          "a file with a directory: %s", en(r));
    rn2(DIR_NAME "/a", DIR_NAME "/d", RENAME_EXCHANGE);
    r = rn2(DIR_NAME "/a", DIR_NAME "/a", RENAME_EXCHANGE);
    CHECK(r == 0 && has(DIR_NAME "/a", "B"), "a file with itself: %s", en(r));

    printf("as uid %d:\n", NOBODY);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(unprivileged());
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the unprivileged checks (status %#x)", status);
    CHECK(has(DIR_NAME "/a", "B") && has(DIR_NAME "/b", "A"), "nothing moved");

    unlink(DIR_NAME "/a");
    unlink(DIR_NAME "/b");
    rmdir(DIR_NAME "/d");
    if (rmdir(DIR_NAME))
        return printf("FAILED: %s left behind\n", DIR_NAME), 1;
    printf(check_failures ? "%d checks FAILED\n" : "all checks passed\n", check_failures);
    return check_failures != 0;
}
