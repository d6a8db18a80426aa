/*
 * common.h - small helpers shared by the a53emu userland demo programs.
 *
 * Everything here is deliberately libc-agnostic (works the same with glibc
 * and musl) and never prints addresses, so program output is deterministic
 * and can be compared byte for byte between qemu-aarch64 and a53emu.
 */
#ifndef A53_COMMON_H
#define A53_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096UL

/* Number of failed CHECK()s; main() returns nonzero if any failed. */
static int check_failures __attribute__((unused));

/* Print "  ok: what" or "  FAILED: what" and remember failures. */
#define CHECK(cond, ...)                                   \
    do {                                                   \
        int ok_ = !!(cond);                                \
        printf("  %s: ", ok_ ? "ok" : "FAILED");           \
        printf(__VA_ARGS__);                               \
        putchar('\n');                                     \
        if (!ok_) check_failures++;                        \
    } while (0)

/* Symbolic name of an errno value (only the ones our programs provoke). */
__attribute__((unused))
static const char *errno_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOTTY: return "ENOTTY";
    case ESPIPE: return "ESPIPE";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case EPIPE: return "EPIPE";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EDEADLK: return "EDEADLK";
    case ELOOP: return "ELOOP";
    case EXDEV: return "EXDEV";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EFBIG: return "EFBIG";
    case ENODEV: return "ENODEV";
    case ESTALE: return "ESTALE";
    case EOVERFLOW: return "EOVERFLOW";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENXIO: return "ENXIO";
    default: return "E?";
    }
}

/* One line: what the call answered (its errno's name, or its value). */
__attribute__((unused))
static void print_answer(const char *what, long ret)
{
    if (ret == -1)
        printf("%s: %s\n", what, errno_name(errno));
    else
        printf("%s: %ld\n", what, ret);
}

/* The call failed with errno want. */
__attribute__((unused))
static void expect_err(const char *what, long ret, int want)
{
    int got = errno;

    if (ret == -1 && got == want)
        CHECK(1, "%s: %s", what, errno_name(want));
    else
        CHECK(0, "%s: want %s, got %ld (%s)", what, errno_name(want), ret,
              ret == -1 ? errno_name(got) : "no error");
}

/* The call returned want. */
__attribute__((unused))
static void expect_ret(const char *what, long ret, long want)
{
    int got = errno;

    if (ret == want)
        CHECK(1, "%s: %ld", what, want);
    else
        CHECK(0, "%s: want %ld, got %ld (%s)", what, want, ret,
              ret == -1 ? errno_name(got) : "-");
}

/*
 * /proc/self/maps: one line per VMA (struct vm_area_struct) of our mm_struct,
 *   start-end perms offset dev inode   name
 * We read it with plain open()/read() into a static buffer so that reading it
 * does not itself call malloc() (which could move the program break).
 */
static char maps_buf[1 << 16];

__attribute__((unused))
static int read_maps(void)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    size_t len = 0;
    ssize_t n;

    if (fd < 0)
        return -1;
    while (len < sizeof(maps_buf) - 1 &&
           (n = read(fd, maps_buf + len, sizeof(maps_buf) - 1 - len)) > 0)
        len += (size_t)n;
    maps_buf[len] = '\0';
    close(fd);
    return 0;
}

struct vma_line {
    unsigned long start, end;
    char perms[5];              /* e.g. "rw-p" */
    unsigned long inode;
    char name[256];             /* "" for anonymous memory, "[heap]", a path... */
};

/* Parse the next line of maps_buf starting at *pos; returns 0 at the end. */
__attribute__((unused))
static int next_vma(const char **pos, struct vma_line *v)
{
    const char *p = *pos, *eol;
    int n = 0;
    size_t nl;

    if (*p == '\0')
        return 0;
    eol = strchr(p, '\n');
    if (!eol)
        eol = p + strlen(p);
    memset(v, 0, sizeof(*v));
    if (sscanf(p, "%lx-%lx %4s %*x %*s %lu%n", &v->start, &v->end, v->perms,
               &v->inode, &n) < 4)
        n = (int)(eol - p);
    p += n;
    while (p < eol && *p == ' ')
        p++;
    nl = (size_t)(eol - p);
    if (nl >= sizeof(v->name))
        nl = sizeof(v->name) - 1;
    memcpy(v->name, p, nl);
    v->name[nl] = '\0';
    *pos = *eol ? eol + 1 : eol;
    return 1;
}

/*
 * Count the VMAs (maps lines) that overlap the window [lo, hi).  If verbose,
 * print each one clipped to the window as a page range relative to lo plus
 * its permission string, so no absolute address is ever printed.
 */
__attribute__((unused))
static int vmas_in_range(unsigned long lo, unsigned long hi, int verbose)
{
    const char *pos = maps_buf;
    struct vma_line v;
    int count = 0;

    if (read_maps() < 0)
        return -1;
    while (next_vma(&pos, &v)) {
        if (v.end <= lo || v.start >= hi)
            continue;
        count++;
        if (verbose) {
            unsigned long s = v.start < lo ? lo : v.start;
            unsigned long e = v.end > hi ? hi : v.end;
            printf("    vma #%d: pages %lu-%lu of the window, %s\n", count,
                   (s - lo) / PAGE, (e - lo) / PAGE - 1, v.perms);
        }
    }
    return count;
}

#endif /* A53_COMMON_H */
