/*
 * sb_statx.c - statx()'s stx_attributes_mask and stx_attributes (Linux
 * 4.14's ext4_getattr(): COMPRESSED, IMMUTABLE, APPEND, NODUMP and
 * ENCRYPTED are supported attributes; a plain file has none of them).
 * With an argument, that file must have the NODUMP attribute (chattr +d).
 * Self-checking; built for the host too.  Leaves the working directory as
 * it found it.
 */
#include "common.h"
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/utsname.h>

#define FILE_NAME "sb_statx.f"
#define EXT4_SUPER_MAGIC 0xEF53
#define STATX_BASIC_STATS_ 0x7ffU
#define ATTR_COMPRESSED 0x4ULL
#define ATTR_IMMUTABLE 0x10ULL
#define ATTR_APPEND 0x20ULL
#define ATTR_NODUMP 0x40ULL
#define ATTR_ENCRYPTED 0x800ULL
#define EXT4_ATTRS (ATTR_COMPRESSED | ATTR_IMMUTABLE | ATTR_APPEND | ATTR_NODUMP | ATTR_ENCRYPTED)

/* struct statx (linux/stat.h): only the two fields this program reads. */
struct statx_head {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare0;
    uint64_t ino, size, blocks, attributes_mask;
    char rest[256 - 64];
};

static int get(const char *path, struct statx_head *sx)
{
    memset(sx, 0xff, sizeof *sx);
    return syscall(SYS_statx, AT_FDCWD, path, 0, STATX_BASIC_STATS_, sx) ? -errno : 0;
}

int main(int argc, char **argv)
{
    struct statx_head sx;
    struct statfs sf;
    int fd = open(FILE_NAME, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return printf("FAILED: create %s\n", FILE_NAME), 1;
    close(fd);
    if (statfs(".", &sf))
        return printf("FAILED: statfs\n"), 1;
    CHECK(get(FILE_NAME, &sx) == 0, "statx of a new file");
    if (sf.f_type == EXT4_SUPER_MAGIC) {
        CHECK((sx.attributes_mask & EXT4_ATTRS) == EXT4_ATTRS,
              "ext4: COMPRESSED|IMMUTABLE|APPEND|NODUMP|ENCRYPTED are in stx_attributes_mask (%#llx)",
              (unsigned long long)sx.attributes_mask);
        struct utsname u;
        if (uname(&u) == 0 && !strncmp(u.release, "4.14.", 5))
            CHECK(sx.attributes_mask == EXT4_ATTRS, "4.14: exactly those five, no later bits (%#llx)",
                  (unsigned long long)sx.attributes_mask);
    } else {
        printf("  (the working directory is not on ext4: the mask is not checked)\n");
    }
    CHECK((sx.attributes & sx.attributes_mask & EXT4_ATTRS) == 0,
          "a new file has none of them (%#llx)", (unsigned long long)sx.attributes);
    if (argc > 1) {
        CHECK(get(argv[1], &sx) == 0 && (sx.attributes & ATTR_NODUMP)
              && (sx.attributes_mask & ATTR_NODUMP),
              "a chattr +d file has NODUMP (%#llx)", (unsigned long long)sx.attributes);
    }
    unlink(FILE_NAME);
    printf(check_failures ? "%d checks FAILED\n" : "all checks passed\n", check_failures);
    return check_failures != 0;
}
