/*
 * page_cache.c - one file, many views: the page cache.
 *
 * Linux keeps one copy of a file page in memory (the page cache) and every
 * view of the file meets there:
 *   - a MAP_SHARED write is seen by read() at once, before any writeback;
 *   - a MAP_PRIVATE mapping sees the file until it writes, then has its own
 *     copy (copy-on-write), invisible to the file;
 *   - write() is seen by both mappings' not-yet-copied pages;
 *   - msync(MS_SYNC) and munmap write the dirty pages back to the file;
 *   - ftruncate() shrinking the file makes access past the new end SIGBUS.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
static sigjmp_buf env;
static void on_bus(int sig) { siglongjmp(env, sig); }

static void show(const char *what, const char *got)
{
    printf("%-52s \"%.12s\"\n", what, got);
}

int main(void)
{
    const char *path = "page_cache.tmp";
    char buf[32];
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    for (int i = 0; i < 3; i++) {                 /* three pages: AAAA, BBBB, CCCC */
        char page[PAGE];
        memset(page, 'A' + i, PAGE);
        write(fd, page, PAGE);
    }
    char *shared = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *priv = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);

    memcpy(shared, "shared-write", 12);           /* do_shared_fault: page now dirty */
    pread(fd, buf, 12, 0);
    show("read() after a MAP_SHARED write (no msync yet):", buf);
    show("the MAP_PRIVATE view of the same page:", priv);

    memcpy(priv + PAGE, "private-copy", 12);      /* do_wp_page: COW, file untouched */
    pread(fd, buf, 12, PAGE);
    show("read() after a MAP_PRIVATE write:", buf);
    show("the MAP_SHARED view of that page:", shared + PAGE);

    pwrite(fd, "written-file", 12, 2 * PAGE);     /* write(): the cache page changes */
    show("MAP_SHARED view after write():", shared + 2 * PAGE);
    show("MAP_PRIVATE view (not yet copied) after write():", priv + 2 * PAGE);

    printf("msync(MS_SYNC) = %d\n", msync(shared, 3 * PAGE, MS_SYNC));
    munmap(priv, 3 * PAGE);

    signal(SIGBUS, on_bus);
    ftruncate(fd, PAGE + 100);                    /* the file shrinks to 1 page + 100 bytes */
    int sig = sigsetjmp(env, 1);
    if (sig == 0) {
        volatile char c = shared[PAGE + 50];      /* inside the last (partial) page: fine */
        printf("byte 50 of page 1 after ftruncate: '%c'\n", c);
        c = shared[PAGE + 200];                   /* past EOF but in the last page: reads 0 */
        printf("byte 200 of page 1 (past EOF, same page): %d\n", c);
        c = shared[2 * PAGE];                     /* a page wholly past EOF: SIGBUS */
        printf("no SIGBUS?\n");
    } else {
        printf("touching page 2 after ftruncate: %s\n", sig == SIGBUS ? "SIGBUS" : "other signal");
    }
    munmap(shared, 3 * PAGE);
    close(fd);

    fd = open(path, O_RDONLY);
    int n = read(fd, buf, 12);
    show("the file on disk, page 0, after munmap:", buf);
    printf("file size: %ld\n", (long)lseek(fd, 0, SEEK_END));
    (void)n;
    close(fd);
    unlink(path);
    return 0;
}
