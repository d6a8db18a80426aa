/*
 * sb_dotdot.c - the ".." entry getdents64() returns (Linux 4.14: ext4's
 * on-disk "..", dcache_readdir()'s parent_ino()): the parent's inode
 * number, and at the root the root's own.  Self-checking; built for the
 * host too.  Leaves the working directory as it found it.
 */
#include "common.h"
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define DIR_NAME "sb_dotdot.d"

struct d64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

/* The inode number getdents64() gives the entry called name in path, or 0. */
static uint64_t entry_ino(const char *path, const char *name)
{
    char buf[8192];
    uint64_t ino = 0;
    long n;
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return 0;
    while (!ino && (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long at = 0; at < n; at += ((struct d64 *)(buf + at))->reclen)
            if (!strcmp(((struct d64 *)(buf + at))->name, name))
                ino = ((struct d64 *)(buf + at))->ino;
    close(fd);
    return ino;
}

static uint64_t ino_of(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : st.st_ino;
}

int main(void)
{
    if (mkdir(DIR_NAME, 0755) || mkdir(DIR_NAME "/sub", 0755))
        return printf("FAILED: mkdir\n"), 1;
    CHECK(entry_ino(DIR_NAME, ".") == ino_of(DIR_NAME), "\".\" is the directory itself");
    CHECK(entry_ino(DIR_NAME, "..") == ino_of("."), "\"..\" is the parent");
    CHECK(entry_ino(DIR_NAME, "..") != ino_of(DIR_NAME), "\"..\" is not the directory itself");
    CHECK(entry_ino(DIR_NAME "/sub", "..") == ino_of(DIR_NAME), "a subdirectory's \"..\" is its parent");
    CHECK(entry_ino("/", "..") == ino_of("/"), "the root's \"..\" is the root");
    rmdir(DIR_NAME "/sub");
    if (rmdir(DIR_NAME))
        return printf("FAILED: %s left behind\n", DIR_NAME), 1;
    printf(check_failures ? "%d checks FAILED\n" : "all checks passed\n", check_failures);
    return check_failures != 0;
}
