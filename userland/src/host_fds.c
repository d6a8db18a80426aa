/* One host descriptor per guest open file (issue 10 part 2), and the page
 * cache writing back through whichever descriptor it borrows.
 *
 *   host_fds          opens distinct files until it is refused and prints
 *                     how many it got and the errno; then the writeback
 *                     cases.  Run with RLIMIT_NOFILE 1024: on Linux, 1021
 *                     files (0, 1 and 2 are open).
 *
 * Self-checking; prints the same on every Linux. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAIL: %s (errno %s)\n", what, strerror(errno));
        failures++;
    }
}

/* Opens f0, f1, ... until refused; closes and removes them all. */
static void open_until_refused(void)
{
    static int fds[8192];
    char name[32];
    int n = 0;
    for (;;) {
        snprintf(name, sizeof name, "f%d", n);
        int fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0)
            break;
        fds[n++] = fd;
        if (n == 8192)
            break;
    }
    printf("opened %d files, then %s\n", n, errno == EMFILE ? "EMFILE" : strerror(errno));
    for (int i = 0; i < n; i++) {
        close(fds[i]);
        snprintf(name, sizeof name, "f%d", i);
        unlink(name);
    }
}

/* A read-only open first, a read-write open second; stores through a shared
 * mapping of the second, which is closed (the mapping keeps its file); the
 * first descriptor reads what was stored once the mapping is gone. */
static void writeback_after_close(void)
{
    int ro0 = open("wb", O_RDWR | O_CREAT | O_EXCL, 0600);
    check(ro0 >= 0 && ftruncate(ro0, 4096) == 0, "create wb");
    close(ro0);
    int ro = open("wb", O_RDONLY);
    int rw = open("wb", O_RDWR);
    check(ro >= 0 && rw >= 0, "open wb twice");
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
    check(p != MAP_FAILED, "mmap wb");
    close(rw);
    memcpy(p, "through the map", 16);
    check(munmap(p, 4096) == 0, "munmap wb");
    char buf[16];
    check(pread(ro, buf, 16, 0) == 16 && memcmp(buf, "through the map", 16) == 0,
          "read back through the read-only descriptor");
    close(ro);
    int again = open("wb", O_RDONLY);
    check(again >= 0 && pread(again, buf, 16, 0) == 16 &&
          memcmp(buf, "through the map", 16) == 0, "read back after every close");
    close(again);
    unlink("wb");
    printf("writeback after the writer's close: ok\n");
}

/* An O_APPEND descriptor mapped shared: writeback goes to the page's place,
 * not the end of the file. */
static void writeback_of_an_append_file(void)
{
    int fd = open("ap", O_RDWR | O_CREAT | O_EXCL | O_APPEND, 0600);
    check(fd >= 0 && ftruncate(fd, 8192) == 0, "create ap");
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check(p != MAP_FAILED, "mmap ap");
    memcpy(p + 4096, "second page", 11);
    check(msync(p, 8192, MS_SYNC) == 0, "msync ap");
    struct stat st;
    check(fstat(fd, &st) == 0 && st.st_size == 8192, "size unchanged by writeback");
    char buf[11];
    check(pread(fd, buf, 11, 4096) == 11 && memcmp(buf, "second page", 11) == 0,
          "data at its page");
    munmap(p, 8192);
    close(fd);
    unlink("ap");
    printf("writeback of an O_APPEND file: ok\n");
}

int main(void)
{
    open_until_refused();
    writeback_after_close();
    writeback_of_an_append_file();
    if (failures)
        return 1;
    printf("all checks passed\n");
    return 0;
}
