/*
 * sb_magicdotdot.c - ".." after a magic link (Linux 4.14 link_path_walk():
 * the link is followed first, then ".." is the target's parent):
 * /proc/self/cwd/../x is x beside the working directory, not /proc/self/x;
 * /proc/self/fd/N/.. is the parent of the directory open on N;
 * /proc/self/root/.. is the root.  Self-checking; built for the host too.
 * Leaves the working directory as it found it.
 */
#include "common.h"
#include <sys/stat.h>

#define DIR_NAME "sb_magicdotdot.d"

static ino_t ino_of(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : st.st_ino;
}

int main(void)
{
    char name[64], buf[8] = {0};
    int top, fd, dfd;

    if (mkdir(DIR_NAME, 0755) || mkdir(DIR_NAME "/sub", 0755))
        return printf("FAILED: mkdir\n"), 1;
    fd = open(DIR_NAME "/x", O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || write(fd, "xx", 2) != 2)
        return printf("FAILED: create x\n"), 1;
    close(fd);
    top = open(".", O_RDONLY | O_DIRECTORY);
    if (chdir(DIR_NAME "/sub"))
        return printf("FAILED: chdir\n"), 1;

    fd = open("/proc/self/cwd/../x", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 2 && !strcmp(buf, "xx"),
          "/proc/self/cwd/../x opens x beside the working directory (%s)", fd < 0 ? errno_name(errno) : "0");
    if (fd >= 0)
        close(fd);
    CHECK(ino_of("/proc/self/cwd/..") == ino_of(".."), "/proc/self/cwd/.. is the parent");
    CHECK(ino_of("/proc/self/cwd/../sub/../x") == ino_of("../x"), "/proc/self/cwd/../sub/../x is x");
    CHECK(ino_of("/proc/self/root/..") == ino_of("/"), "/proc/self/root/.. is the root");
    dfd = open("..", O_RDONLY | O_DIRECTORY);
    snprintf(name, sizeof name, "/proc/self/fd/%d/..", dfd);
    CHECK(ino_of(name) == ino_of("../.."), "/proc/self/fd/N/.. is the parent of N's directory");
    snprintf(name, sizeof name, "/proc/self/fd/%d/sub/..", dfd);
    CHECK(ino_of(name) == ino_of(".."), "/proc/self/fd/N/sub/.. is N's directory");
    close(dfd);
    CHECK(ino_of("/proc/self/../self/cwd") == ino_of("."), "/proc/self/../self/cwd: \"..\" by name in /proc");

    if (fchdir(top))
        return printf("FAILED: fchdir\n"), 1;
    close(top);
    unlink(DIR_NAME "/x");
    rmdir(DIR_NAME "/sub");
    if (rmdir(DIR_NAME))
        return printf("FAILED: %s left behind\n", DIR_NAME), 1;
    printf(check_failures ? "%d checks FAILED\n" : "all checks passed\n", check_failures);
    return check_failures != 0;
}
