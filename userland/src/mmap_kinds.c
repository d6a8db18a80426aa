/*
 * mmap_kinds.c - the four kinds of mmap() and what each one means.
 *
 *  1. private anonymous  (MAP_PRIVATE|MAP_ANONYMOUS): fresh zero-filled
 *     memory; do_mmap creates a VMA, pages appear on first touch (page fault
 *     -> do_anonymous_page maps a zeroed page).  This is what malloc uses.
 *  2. shared anonymous   (MAP_SHARED|MAP_ANONYMOUS): also zero-filled, but
 *     backed by a shmem object so that it stays shared with children after
 *     fork().  /proc/self/maps shows it with an "s" (rw-s).
 *  3. private file mapping (MAP_PRIVATE on a file): pages are read from the
 *     file (page cache) on fault; the first *write* makes a private copy
 *     (copy-on-write, do_wp_page), so the file itself never changes.
 *  4. shared file mapping (MAP_SHARED on a file): the page-cache page itself
 *     is mapped; a write dirties it, read() sees it at once, and msync() (or
 *     munmap) writes it back to the file.  /proc/self/maps: rw-s + the path.
 */
#include "common.h"
#include <sys/mman.h>

#define FILE_NAME "mmap_kinds.tmp"

/* Permission string of the VMA containing addr, e.g. "rw-p". */
static const char *perms_of(void *addr)
{
    static struct vma_line v;
    const char *pos = maps_buf;
    unsigned long a = (unsigned long)addr;

    read_maps();
    while (next_vma(&pos, &v))
        if (v.start <= a && a < v.end)
            return v.perms;
    return "(not mapped)";
}

int main(void)
{
    const size_t len = 2 * PAGE;
    const char text[] = "original file contents\n";
    char disk[64];
    char *p;
    int fd;

    /* 1. private anonymous */
    printf("1. private anonymous mapping (2 pages)\n");
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap succeeded");
    if (p == MAP_FAILED)
        return 1;
    CHECK(p[0] == 0 && p[len - 1] == 0, "new anonymous memory reads as zero");
    strcpy(p, "written to page 0");
    strcpy(p + PAGE, "written to page 1");
    CHECK(strcmp(p, "written to page 0") == 0 && strcmp(p + PAGE, "written to page 1") == 0,
          "read back what we wrote: \"%s\", \"%s\"", p, p + PAGE);
    printf("  permissions in /proc/self/maps: %s\n", perms_of(p));
    CHECK(munmap(p, len) == 0, "munmap");

    /* 2. shared anonymous */
    printf("2. shared anonymous mapping (1 page)\n");
    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap succeeded");
    if (p == MAP_FAILED)
        return 1;
    CHECK(p[0] == 0, "new shared memory reads as zero");
    strcpy(p, "shared hello");
    CHECK(strcmp(p, "shared hello") == 0, "read back \"%s\"", p);
    printf("  permissions in /proc/self/maps: %s\n", perms_of(p));
    CHECK(munmap(p, PAGE) == 0, "munmap");

    /* 3. private file mapping of a file we create ourselves */
    printf("3. private file mapping of ./%s\n", FILE_NAME);
    fd = open(FILE_NAME, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "created the file");
    if (fd < 0)
        return 1;
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text),
          "wrote %zu bytes with write()", strlen(text));
    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap(MAP_PRIVATE, fd) succeeded");
    if (p == MAP_FAILED)
        return 1;
    printf("  permissions in /proc/self/maps: %s\n", perms_of(p));
    /* first read faults the page in from the page cache (filemap_fault) */
    CHECK(memcmp(p, text, strlen(text)) == 0, "reading the mapping gives the file: %.*s",
          (int)strlen(text) - 1, p);
    CHECK(p[strlen(text)] == 0 && p[PAGE - 1] == 0,
          "bytes past the end of the file read as zero");
    /* first write: copy-on-write gives us a private copy of the page */
    memcpy(p, "MODIFIED", 8);
    CHECK(memcmp(p, "MODIFIED file contents", 22) == 0,
          "the mapping now says: %.*s", (int)strlen(text) - 1, p);
    memset(disk, 0, sizeof(disk));
    CHECK(pread(fd, disk, sizeof(disk) - 1, 0) == (ssize_t)strlen(text) &&
          strcmp(disk, text) == 0,
          "the file on disk is unchanged: %.*s", (int)strlen(text) - 1, disk);
    CHECK(munmap(p, PAGE) == 0, "munmap");

    /* 4. shared file mapping of the same file */
    printf("4. shared file mapping of ./%s\n", FILE_NAME);
    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap(MAP_SHARED, fd) succeeded");
    if (p == MAP_FAILED)
        return 1;
    printf("  permissions in /proc/self/maps: %s\n", perms_of(p));
    memcpy(p, "SHARED", 6);
    memset(disk, 0, sizeof(disk));
    CHECK(pread(fd, disk, 6, 0) == 6 && memcmp(disk, "SHARED", 6) == 0,
          "read() sees the write through the mapping at once: %.6s", disk);
    CHECK(msync(p, PAGE, MS_SYNC) == 0, "msync(MS_SYNC) writes the dirty page back");
    CHECK(munmap(p, PAGE) == 0, "munmap");
    close(fd);
    CHECK(unlink(FILE_NAME) == 0, "deleted ./%s", FILE_NAME);

    printf("%s\n", check_failures ? "SOME CHECKS FAILED" : "all mmap kinds behaved as expected");
    return check_failures != 0;
}
