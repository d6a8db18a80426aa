/*
 * malloc_story.c - where does malloc() get its memory from?
 *
 * A process has one "heap" VMA that starts just after the program's .bss and
 * whose end is the *program break*.  sys_brk moves the break: growing it
 * extends the heap VMA (do_brk_flags), shrinking it unmaps the tail
 * (do_vmi_munmap).  Classic allocators carve small blocks out of that heap
 * and serve big blocks (>= the mmap threshold, 128 KiB in glibc) with a
 * private anonymous mmap (do_mmap) that free() hands back with munmap
 * (do_munmap).
 *
 * We print the break only as a delta from its value at the start of main()
 * (the absolute address is randomised on Linux).  We read it with the raw
 * brk(0) syscall because libc's sbrk(0) may return a cached value.
 *
 * Note: allocators differ!  glibc uses brk for small blocks.  The musl that
 * zig 0.17 ships replaces musl's malloc with Zig's allocator, which
 * gets *all* its memory with mmap; the program reports what it observes.
 * glibc's exact numbers depend on what it malloc'd before main (a copy of
 * the program's directory name, LD_LIBRARY_PATH): keep path and environment
 * fixed when comparing runs.
 */
#include "common.h"
#include <sys/mman.h>
#include <sys/syscall.h>

extern char end;                 /* linker symbol: end of .bss */
static unsigned long brk0;       /* program break at start of main() */

static unsigned long cur_brk(void)
{
    return (unsigned long)syscall(SYS_brk, 0);
}

/* Is p inside the brk heap, i.e. between the end of .bss and the break? */
static int in_heap(void *p)
{
    return (unsigned long)p >= (unsigned long)&end &&
           (unsigned long)p < cur_brk();
}

/* Is [p, p+len) covered by an anonymous mapping in /proc/self/maps? */
static int in_anon_mapping(void *p, size_t len)
{
    const char *pos = maps_buf;
    struct vma_line v;
    unsigned long a = (unsigned long)p;

    read_maps();
    while (next_vma(&pos, &v))
        if (v.start <= a && a + len <= v.end)
            return v.inode == 0 && v.name[0] == '\0';
    return 0;
}

/* Is any byte of [p, p+len) still listed in /proc/self/maps? */
static int mapped(void *p, size_t len)
{
    unsigned long a = (unsigned long)p;
    return vmas_in_range(a, a + len, 0) > 0;
}

static void free_step(const char *what, void *p)
{
    unsigned long before = cur_brk(), after;

    free(p);
    after = cur_brk();
    printf("free(%s): ", what);
    if (after < before)
        printf("the break moved by %+ld bytes (the allocator trimmed the top "
               "of the heap with sys_brk), now at start%+ld\n",
               -(long)(before - after), (long)(after - brk0));
    else if (after > before)
        printf("the break moved up?! now at start%+ld\n", (long)(after - brk0));
    else
        printf("the break did not move (now at start%+ld)\n",
               (long)(after - brk0));
}

static void *step(const char *what, size_t size)
{
    unsigned long before = cur_brk();
    void *p = malloc(size);
    unsigned long after = cur_brk();

    if (!p) {
        printf("%s: malloc(%zu) failed\n", what, size);
        check_failures++;
        return NULL;
    }
    memset(p, 0x5a, size);        /* touch it: page faults populate it */
    printf("%s: malloc(%zu)\n", what, size);
    if (after != before)
        printf("  the break moved by %+ld bytes (sys_brk grew the heap VMA), "
               "now at start%+ld\n", (long)(after - before), (long)(after - brk0));
    else
        printf("  the break did not move (now at start%+ld)\n",
               (long)(after - brk0));
    printf("  the block is %s\n", in_heap(p) ? "inside the brk heap"
                                                : "outside the brk heap (mmap'd memory)");
    return p;
}

int main(void)
{
    void *small[4], *big;
    const size_t big_size = 1024 * 1024;   /* 1 MiB: far above mmap threshold */
    unsigned long b;

    /* Give stdio a static buffer: otherwise the first printf() would
     * malloc() one, sized by fstat(1).st_blksize, and shift the numbers. */
    static char outbuf[4096];
    setvbuf(stdout, outbuf, _IOLBF, sizeof(outbuf));

    brk0 = cur_brk();
    printf("malloc story: the program break is printed relative to its value "
           "at the start of main\n");

    /* 1. small blocks: a brk-based allocator carves them from the heap and
     *    grows it with sys_brk when the top of the heap runs out. */
    printf("\n-- small allocations (below the mmap threshold) --\n");
    small[0] = step("small #1", 24);
    small[1] = step("small #2", 4000);
    small[2] = step("small #3", 100 * 1024);
    small[3] = step("small #4", 100 * 1024);

    /* free() in reverse order: once the free space at the top of the heap
     * exceeds the trim threshold (128 KiB in glibc), glibc hands it back to
     * the kernel by lowering the break. */
    printf("\n-- freeing them again, newest first --\n");
    free_step("small #4", small[3]);
    free_step("small #3", small[2]);
    free_step("small #2", small[1]);
    free_step("small #1", small[0]);

    /* 2. calling sys_brk by hand: grow the heap by two pages, use them, and
     *    shrink it back.  (musl's sbrk() refuses non-zero increments, so we
     *    use the raw syscall; glibc/musl malloc are not disturbed because we
     *    restore the exact old break before calling malloc again.) */
    printf("\n-- moving the break by hand with brk() --\n");
    b = cur_brk();
    CHECK(syscall(SYS_brk, b + 2 * PAGE) == (long)(b + 2 * PAGE),
          "brk(break + 8192) grew the heap by two pages");
    memset((void *)b, 1, 2 * PAGE);       /* demand-zero pages fault in */
    CHECK(((unsigned char *)b)[2 * PAGE - 1] == 1,
          "the new heap pages are writable");
    CHECK(syscall(SYS_brk, b) == (long)b, "brk(old break) shrank it back");
    CHECK(cur_brk() == b, "the break is back at start%+ld", (long)(b - brk0));

    /* 3. a big block: a private anonymous mmap of its own (do_mmap). */
    printf("\n-- a big allocation (1 MiB, above the mmap threshold) --\n");
    big = step("big", big_size);
    if (big) {
        CHECK(in_anon_mapping(big, big_size),
              "/proc/self/maps shows an anonymous mapping covering the whole block");
        free(big);   /* glibc and zig-musl both munmap it right away */
        printf("free(big)\n");
        CHECK(!mapped(big, big_size),
              "after free() the block is gone from /proc/self/maps (munmap)");
    }

    /* 4. what does the address space look like now? */
    printf("\n-- /proc/self/maps summary --\n");
    {
        const char *pos;
        struct vma_line v;
        int heap_lines = 0, anon = 0;

        read_maps();
        pos = maps_buf;
        while (next_vma(&pos, &v)) {
            if (strcmp(v.name, "[heap]") == 0)
                heap_lines++;
            if (v.inode == 0 && v.name[0] == '\0')
                anon = 1;
        }
        printf("lines named [heap]: %d\n", heap_lines);
        printf("anonymous mapping present: %s\n", anon ? "yes" : "no");
    }
    return check_failures != 0;
}
