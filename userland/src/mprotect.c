/*
 * mprotect.c - changing protection splits and re-merges VMAs.
 *
 * A VMA has one set of permissions, so mprotect() on part of it must split
 * it: mprotect_fixup -> split_vma at both ends of the range, giving three
 * VMAs (rw-p r--p rw-p).  Changing the middle back to read-write makes it
 * identical to its neighbours again, and vma_merge (vma_modify_flags in
 * newer kernels) folds the three back into one.
 */
#include "common.h"
#include <sys/mman.h>

int main(void)
{
    unsigned long lo, hi;
    char *p;
    int n;

    p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap of 3 pages read-write");
    if (p == MAP_FAILED)
        return 1;
    lo = (unsigned long)p;
    hi = lo + 3 * PAGE;
    memset(p, 'x', 3 * PAGE);

    printf("at first:\n");
    n = vmas_in_range(lo, hi, 1);
    CHECK(n == 1, "VMAs covering the window: %d (expect 1)", n);

    CHECK(mprotect(p + PAGE, PAGE, PROT_READ) == 0, "mprotect(page 1, PROT_READ)");
    printf("after making the middle page read-only:\n");
    n = vmas_in_range(lo, hi, 1);
    CHECK(n == 3, "VMAs covering the window: %d (expect 3: rw-p r--p rw-p)", n);
    CHECK(p[PAGE] == 'x', "the read-only page can still be read");

    CHECK(mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE) == 0,
          "mprotect(page 1, PROT_READ|PROT_WRITE)");
    printf("after making it read-write again:\n");
    n = vmas_in_range(lo, hi, 1);
    CHECK(n == 1, "VMAs covering the window: %d (expect 1: merged again)", n);
    p[PAGE] = 'y';
    CHECK(p[PAGE] == 'y' && p[0] == 'x' && p[2 * PAGE] == 'x',
          "the page is writable again and the data survived");

    CHECK(munmap(p, 3 * PAGE) == 0, "munmap");
    return check_failures != 0;
}
