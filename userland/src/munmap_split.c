/*
 * munmap_split.c - punching a hole in a mapping splits its VMA.
 *
 * mmap() of 5 anonymous pages creates one VMA.  munmap() of the middle page
 * goes through do_vmi_munmap -> split_vma (twice: at the start and the end of
 * the hole) and then removes the middle piece, leaving two VMAs.  The pages
 * on either side keep their contents: only the page-table entries of the
 * hole are zapped (unmap_region) and its page freed.
 */
#include "common.h"
#include <sys/mman.h>

#define NPAGES 5

int main(void)
{
    unsigned long lo;
    char *p;
    int n, ok = 1;

    p = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap of %d anonymous pages", NPAGES);
    if (p == MAP_FAILED)
        return 1;
    lo = (unsigned long)p;

    /* write a pattern: every byte of page i is 'A' + i */
    for (int i = 0; i < NPAGES; i++)
        memset(p + i * PAGE, 'A' + i, PAGE);
    printf("wrote pattern: page i is filled with 'A'+i (ABCDE)\n");

    /* (a neighbouring anonymous VMA with the same flags may have been merged
     *  with ours, so we only look at what overlaps our 5-page window) */
    printf("before munmap:\n");
    n = vmas_in_range(lo, lo + NPAGES * PAGE, 1);
    CHECK(n == 1, "VMAs covering the window: %d (expect 1)", n);

    CHECK(munmap(p + 2 * PAGE, PAGE) == 0, "munmap of the middle page (page 2)");

    printf("after munmap:\n");
    n = vmas_in_range(lo, lo + NPAGES * PAGE, 1);
    CHECK(n == 2, "VMAs covering the window: %d (expect 2)", n);

    for (int i = 0; i < NPAGES; i++) {
        if (i == 2)
            continue;       /* touching page 2 now would be a SIGSEGV */
        for (unsigned long j = 0; j < PAGE; j++)
            if (p[i * PAGE + j] != 'A' + i)
                ok = 0;
    }
    CHECK(ok, "pages 0,1,3,4 still hold their data (ABDE)");

    CHECK(munmap(p, NPAGES * PAGE) == 0,
          "munmap of the whole window (the hole inside is fine)");
    n = vmas_in_range(lo, lo + NPAGES * PAGE, 0);
    CHECK(n == 0, "VMAs covering the window: %d (expect 0)", n);
    return check_failures != 0;
}
