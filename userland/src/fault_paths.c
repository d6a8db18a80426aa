/*
 * fault_paths.c - what the fast paths of issue 8 must not change.
 *
 * 1. Anonymous faults: each first write to a page of a private anonymous
 *    mapping is one minor fault (ru_minflt), each first read maps the zero
 *    page (reads 0, one fault) and the write after it is one more (the
 *    copy-on-write of the zero page); pages keep what was written.
 * 2. Code written by the program runs as written, after the working set
 *    has grown the emulator's TLB (Unicorn scans its TLB for every block
 *    it translates unless told not to, see emu/cpu.py): in an RWX page
 *    rewritten in place, and in a W^X page flipped with mprotect.
 * AArch64 only (it writes A64 instructions).
 * Usage: fault_paths
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "common.h"

#define TOUCH_PAGES 4096        /* 16 MiB: more than Unicorn's TLB starts with */

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* mov w0, #imm; ret */
static void write_ret_imm(uint32_t *code, uint32_t imm)
{
    code[0] = 0x52800000u | (imm << 5);
    code[1] = 0xD65F03C0u;
    __builtin___clear_cache((char *)code, (char *)(code + 2));
}

static int call(void *code)
{
    return ((int (*)(void))code)();
}

int main(void)
{
    size_t len = TOUCH_PAGES * PAGE;
    volatile unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap %zu bytes", len);
    if (p == MAP_FAILED)
        return 1;

    long before = minflt();
    for (size_t i = 0; i < TOUCH_PAGES; i++)
        p[i * PAGE + (i % PAGE)] = (unsigned char)(i | 1);
    long writes = minflt() - before;
    /* Linux counts one fault a page; qemu-user adds its own (the host's). */
    CHECK(writes >= TOUCH_PAGES && writes <= TOUCH_PAGES + 8,
          "%d first writes are %ld minor faults", TOUCH_PAGES, writes);
    int kept = 1;
    for (size_t i = 0; i < TOUCH_PAGES; i++)
        kept &= p[i * PAGE + (i % PAGE)] == (unsigned char)(i | 1) && p[i * PAGE + ((i + 1) % PAGE)] == 0;
    CHECK(kept, "every page holds what was written, and zeroes elsewhere");

    volatile unsigned char *q = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    before = minflt();
    int zero = 1;
    for (int i = 0; i < 64; i++)
        zero &= q[i * PAGE] == 0;
    long reads = minflt() - before;
    for (int i = 0; i < 64; i++)
        q[i * PAGE] = 7;
    long cows = minflt() - before - reads;
    CHECK(zero && reads >= 64 && reads <= 64 + 8, "64 first reads see zeroes in %ld faults", reads);
    CHECK(cows >= 64 && cows <= 64 + 8, "64 writes after them are %ld more faults", cows);
    munmap((void *)q, 64 * PAGE);

    uint32_t *rwx = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int rewrites = 0;
    for (int i = 1; i <= 200; i++) {
        write_ret_imm(rwx, i);
        rewrites += call(rwx) == i;
    }
    CHECK(rewrites == 200, "an RWX page rewritten in place runs its new code (%d/200)", rewrites);

    uint32_t *wx = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int flips = 0;
    for (int i = 1; i <= 200; i++) {
        mprotect(wx, PAGE, PROT_READ | PROT_WRITE);
        write_ret_imm(wx, 1000 + i);
        mprotect(wx, PAGE, PROT_READ | PROT_EXEC);
        flips += call(wx) == 1000 + i;
    }
    CHECK(flips == 200, "a W^X page flipped with mprotect runs its new code (%d/200)", flips);

    munmap((void *)p, len);
    printf("fault_paths: %s\n", check_failures ? "FAILED" : "ok");
    return check_failures != 0;
}
