/*
 * tlb_stale.c - no translation outlives munmap or mprotect.
 *
 * Each round maps PAGES anonymous pages (top-down allocation hands back
 * the same addresses every round), checks that they read zero, writes a
 * tag into each and reads it back, and unmaps them.  Before the next round
 * it touches PAGES fresh pages of a pool: the frames the munmap freed go
 * there (they are reused first) and get a marker byte, so the next round's
 * pages are other frames.  A core that kept a translation from the round
 * before would read the marker, or another round's tag, instead of zero.
 * Then a page made read-only by mprotect after a write must refuse the
 * next write (SIGSEGV), and two files mapped in turn at one address must
 * each be read there.  Same output on any Linux.
 * Usage: tlb_stale [rounds]   (default 3000)
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
#define PAGES 3                 /* per round: one flushed page and a range */
#define MARKER 0xAA

static sigjmp_buf env;

static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(env, 1);
}

static int fail(const char *what, long round)
{
    printf("tlb_stale: %s in round %ld\n", what, round);
    return 1;
}

/* A file of one page filled with c, already unlinked. */
static int page_file(const char *name, int c)
{
    char buf[PAGE];
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || unlink(name) != 0)
        return -1;
    memset(buf, c, sizeof buf);
    return write(fd, buf, sizeof buf) == sizeof buf ? fd : -1;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 3000;
    size_t len = PAGES * PAGE;
    volatile unsigned char *pool = mmap(NULL, (size_t)(rounds + 1) * len,
                                        PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pool == MAP_FAILED)
        return fail("mmap of the pool", -1);

    for (long r = 0; r < rounds; r++) {
        volatile unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return fail("mmap", r);
        for (int i = 0; i < PAGES; i++)
            if (p[i * PAGE] != 0 || p[i * PAGE + PAGE - 1] != 0)
                return fail("a fresh page not zero (a stale translation?)", r);
        for (int i = 0; i < PAGES; i++)
            p[i * PAGE] = (unsigned char)(r + i + 1);
        for (int i = 0; i < PAGES; i++)
            if (p[i * PAGE] != (unsigned char)(r + i + 1))
                return fail("a tag not read back", r);
        if (munmap((void *)p, len) != 0)
            return fail("munmap", r);
        for (int i = 0; i < PAGES; i++)
            pool[r * len + i * PAGE] = MARKER;      /* takes the freed frames */
    }

    signal(SIGSEGV, on_segv);
    for (long r = 0; r < 100; r++) {
        volatile unsigned char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return fail("mmap", r);
        p[0] = 1;
        if (mprotect((void *)p, PAGE, PROT_READ) != 0)
            return fail("mprotect", r);
        if (sigsetjmp(env, 1) == 0) {
            p[0] = 2;
            return fail("a write after mprotect(PROT_READ) went through", r);
        }
        if (p[0] != 1)
            return fail("the refused write changed the page", r);
        munmap((void *)p, PAGE);
    }

    int fa = page_file("tlb_stale.a", 'a'), fb = page_file("tlb_stale.b", 'b');
    if (fa < 0 || fb < 0)
        return fail("making the files", -1);
    void *at = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (long r = 0; r < 200; r++) {
        int fd = r & 1 ? fb : fa;
        volatile char *q = mmap(at, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
        if (q == MAP_FAILED || q[0] != (r & 1 ? 'b' : 'a'))
            return fail("the file mapped before read at the same address", r);
    }
    printf("tlb_stale: %ld rounds of %d pages, 100 mprotects, 200 file maps: ok\n",
           rounds, PAGES);
    return 0;
}
