/*
 * fileio.c - the file-system system calls a small libc program relies on.
 *
 * Not memory management as such, but every one of these syscalls copies
 * data between user memory and the kernel (copy_from_user/copy_to_user),
 * so a bad user pointer would be an EFAULT instead of a crash.  Works in a
 * directory ./fileio.tmpdir that it creates and removes again.
 * Deliberate failures print the errno name the kernel returned.
 */
#include "common.h"
#include <dirent.h>
#include <sys/stat.h>

#define DIR_NAME "fileio.tmpdir"

/* Report a call that is expected to fail with errno `want`. */
static void expect_fail(const char *what, long rc, int want)
{
    int e = errno;
    CHECK(rc == -1 && e == want, "%s fails with %s", what,
          rc == -1 ? errno_name(e) : "no error");
}

static const char *basename_of(const char *path)
{
    const char *b = path;
    for (; *path; path++)
        if (*path == '/' && path[1])
            b = path + 1;
    return b;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove leftovers of an interrupted earlier run (silently). */
static void cleanup_leftovers(void)
{
    unlink(DIR_NAME "/sub/c.txt");
    unlink(DIR_NAME "/b.txt");
    rmdir(DIR_NAME "/sub");
    unlink(DIR_NAME "/a.txt");
    rmdir(DIR_NAME);
}

int main(void)
{
    char buf[256], *names[16];
    struct stat st;
    int fd, fd2, fd3, n = 0;
    ssize_t r;
    DIR *d;
    struct dirent *de;

    umask(022);               /* so file modes are the same everywhere */
    cleanup_leftovers();

    printf("directories:\n");
    CHECK(mkdir(DIR_NAME, 0755) == 0, "mkdir %s", DIR_NAME);
    expect_fail("mkdir of an existing directory", mkdir(DIR_NAME, 0755), EEXIST);
    CHECK(stat(DIR_NAME, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0755,
          "stat says it is a directory with mode %o", (unsigned)(st.st_mode & 0777));
    CHECK(chdir(DIR_NAME) == 0, "chdir into it");
    CHECK(getcwd(buf, sizeof(buf)) != NULL, "getcwd ends in \"%s\"", basename_of(buf));

    printf("creating and writing a.txt:\n");
    fd = openat(AT_FDCWD, "a.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "openat(AT_FDCWD, \"a.txt\", O_RDWR|O_CREAT|O_TRUNC)");
    if (fd < 0)
        return 1;
    CHECK(write(fd, "hello file\n", 11) == 11, "write 11 bytes");
    CHECK(lseek(fd, 0, SEEK_CUR) == 11, "file offset is now 11");
    memset(buf, 0, sizeof(buf));
    CHECK(pread(fd, buf, 5, 0) == 5 && strcmp(buf, "hello") == 0,
          "pread(5 bytes at 0) = \"%s\"", buf);
    CHECK(lseek(fd, 0, SEEK_CUR) == 11, "pread did not move the offset");
    CHECK(pwrite(fd, "FILE", 4, 6) == 4, "pwrite(\"FILE\" at 6)");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek(0, SEEK_SET)");
    memset(buf, 0, sizeof(buf));
    r = read(fd, buf, sizeof(buf) - 1);
    CHECK(r == 11 && strcmp(buf, "hello FILE\n") == 0, "read gives \"hello FILE\\n\"");
    CHECK(read(fd, buf, sizeof(buf)) == 0, "next read returns 0 (end of file)");
    CHECK(lseek(fd, 100, SEEK_SET) == 100 && write(fd, "!", 1) == 1,
          "write 1 byte at offset 100 (leaves a hole)");
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 101,
          "fstat: regular file, size %lld, mode %o", (long long)st.st_size,
          (unsigned)(st.st_mode & 0777));
    buf[0] = 'z';
    CHECK(pread(fd, buf, 1, 50) == 1 && buf[0] == 0, "the hole reads as zero");
    expect_fail("lseek to a negative offset", (long)lseek(fd, -1, SEEK_SET), EINVAL);

    printf("descriptors:\n");
    fd2 = dup(fd);
    CHECK(fd2 > fd, "dup gives a new descriptor");
    lseek(fd, 0, SEEK_SET);
    memset(buf, 0, sizeof(buf));
    CHECK(read(fd2, buf, 5) == 5 && lseek(fd, 0, SEEK_CUR) == 5,
          "dup shares the file offset (read via the copy moved the original)");
    CHECK(dup2(fd, 10) == 10, "dup2(fd, 10) returns 10");
    close(10);
    close(fd2);
    expect_fail("read from the closed descriptor 10", read(10, buf, 1), EBADF);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "fcntl(F_GETFL): O_RDWR");
    fd3 = open("a.txt", O_WRONLY | O_APPEND);
    CHECK(fd3 >= 0 && (fcntl(fd3, F_GETFL) & (O_ACCMODE | O_APPEND)) == (O_WRONLY | O_APPEND),
          "fcntl(F_GETFL) of an O_WRONLY|O_APPEND open: O_WRONLY|O_APPEND");
    close(fd3);
    CHECK(isatty(fd) == 0 && errno == ENOTTY, "isatty(regular file) = 0 with ENOTTY");
    printf("  isatty(1) = %d\n", isatty(1));
    close(fd);

    printf("names:\n");
    expect_fail("open(\"missing.txt\")", open("missing.txt", O_RDONLY), ENOENT);
    expect_fail("open(\"a.txt\", O_CREAT|O_EXCL)",
                open("a.txt", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    CHECK(access("a.txt", R_OK | W_OK) == 0, "access(\"a.txt\", R_OK|W_OK)");
    expect_fail("access(\"missing.txt\")", access("missing.txt", F_OK), ENOENT);
    CHECK(mkdir("sub", 0755) == 0, "mkdir sub");
    fd = open("b.txt", O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0, "create b.txt");
    close(fd);

    /* readdir() is getdents64 underneath; the order is file-system
     * specific, so we sort the names before printing them */
    d = opendir(".");
    CHECK(d != NULL, "opendir(\".\")");
    while (d && (de = readdir(d)) != NULL && n < 16)
        names[n++] = strdup(de->d_name);
    if (d)
        closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    printf("  directory listing (sorted):");
    for (int i = 0; i < n; i++) {
        int isdir = stat(names[i], &st) == 0 && S_ISDIR(st.st_mode);
        printf(" %s%s", names[i], isdir ? "/" : "");
        free(names[i]);
    }
    printf("\n");
    errno = 0;
    expect_fail("opendir(\"a.txt\")", opendir("a.txt") ? 0 : -1, ENOTDIR);

    CHECK(rename("b.txt", "sub/c.txt") == 0, "rename b.txt -> sub/c.txt");
    expect_fail("stat(\"b.txt\") after the rename", stat("b.txt", &st), ENOENT);
    CHECK(stat("sub/c.txt", &st) == 0 && S_ISREG(st.st_mode), "stat(\"sub/c.txt\") finds it");
    expect_fail("rmdir of a non-empty directory", rmdir("sub"), ENOTEMPTY);
    expect_fail("unlink of a directory", unlink("sub"), EISDIR);

    r = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (r >= 0)
        buf[r] = '\0';
    CHECK(r > 0, "readlink(\"/proc/self/exe\") ends in \"%s\"", r > 0 ? basename_of(buf) : "?");

    printf("cleaning up:\n");
    CHECK(unlink("sub/c.txt") == 0 && rmdir("sub") == 0 && unlink("a.txt") == 0,
          "unlink the files, rmdir sub");
    CHECK(chdir("..") == 0, "chdir(\"..\")");
    CHECK(rmdir(DIR_NAME) == 0, "rmdir %s", DIR_NAME);
    expect_fail("stat of the removed directory", stat(DIR_NAME, &st), ENOENT);

    printf("%s\n", check_failures ? "SOME CHECKS FAILED" : "all file operations behaved as expected");
    return check_failures != 0;
}
