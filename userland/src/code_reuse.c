/*
 * code_reuse.c - code loaded into a frame that held other code must run.
 *
 * Two tiny "shared objects" (a file with `mov w0, #N; ret`) are mapped one
 * after the other at the same address.  The second mapping's page-cache
 * frame is very likely the frame the first one used: the kernel frees it at
 * munmap + unlink and hands it out again.  Linux keeps instruction caches
 * coherent when it maps a page executable (__sync_icache_dcache); an
 * emulator that caches translated code must forget the old translation, or
 * the second call returns 1 again.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static int load_and_call(const char *path, uint32_t imm, void *at)
{
    uint32_t code[2] = {0x52800000u | (imm << 5), 0xD65F03C0u};   /* mov w0,#imm; ret */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, code, sizeof code) != sizeof code) {
        perror(path);
        return -1;
    }
    void *p = mmap(at, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return -1;
    }
    int r = ((int (*)(void))p)();
    munmap(p, 4096);
    close(fd);
    unlink(path);
    return r;
}

int main(void)
{
    void *at = (void *)0x70000000;
    /* Keep the level-3 table of this 2 MiB region alive between the two. */
    char *keep = mmap((void *)0x70100000, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    keep[0] = 1;
    int a = load_and_call("code_reuse_a.tmp", 1, at);
    int b = load_and_call("code_reuse_b.tmp", 2, at);
    printf("first call returned %d, second call returned %d\n", a, b);
    return b == 2 ? 0 : 1;
}
