/*
 * sys_cpu_el0.c - what EL0 may do on an arm64 Linux core (issue 9 part 8):
 * read CTR_EL0, DCZID_EL0, CNTFRQ_EL0 and CNTVCT_EL0 (SCTLR_EL1.UCT/DZE,
 * CNTKCTL_EL1.EL0VCTEN), zero a block with DC ZVA, clean and invalidate
 * caches by VA (SCTLR_EL1.UCI) as __clear_cache does, run code it has just
 * written (a JIT: new code after __clear_cache, twice over one page), read
 * the ID registers through the kernel's emulation (HWCAP_CPUID,
 * arch/arm64/kernel/cpufeature.c emulate_mrs), and get SIGILL for what EL0
 * may not do.
 *
 * With no argument it prints only what holds on any arm64 Linux (and
 * qemu-aarch64); `a53` prints the exact values a Cortex-A53 under Linux 4.14
 * shows, and checks that what the A53 lacks (ARMv8.1 atomics, ARMv8.2
 * DC CVAP, the physical counter Linux keeps from EL0) is SIGILL.
 * AArch64 only: there is nothing to compare on another architecture.
 */
#define _GNU_SOURCE
#include "common.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>

#ifndef HWCAP_CPUID
#define HWCAP_CPUID (1 << 11)
#endif

#define READ_SYSREG(name) ({ uint64_t v_; __asm__ volatile("mrs %0, " name : "=r"(v_)); v_; })

static sigjmp_buf trap_env;
static volatile int trap_sig, trap_code;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    trap_sig = sig;
    trap_code = si->si_code;
    siglongjmp(trap_env, 1);
}

/* Run fn; return the signal it raised (0 if none). */
static int trapped(void (*fn)(void))
{
    trap_sig = 0;
    trap_code = 0;
    if (sigsetjmp(trap_env, 1) == 0)
        fn();
    return trap_sig;
}

static void install_trap_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
}

static uint64_t ns_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void check_ctr(void)
{
    uint64_t ctr = READ_SYSREG("ctr_el0");
    unsigned dmin = (ctr >> 16) & 0xf, imin = ctr & 0xf;
    printf("CTR_EL0 from EL0:\n");
    CHECK(ctr >> 31 & 1, "bit 31 reads as one");
    CHECK(dmin >= 2 && dmin <= 9 && imin >= 2 && imin <= 9,
          "DminLine and IminLine are lines of 16 to 2048 bytes");
}

static void check_dc_zva(void)
{
    uint64_t dczid = READ_SYSREG("dczid_el0");
    size_t block = 4u << (dczid & 0xf);
    static unsigned char buf[8192] __attribute__((aligned(4096)));
    size_t i, first = PAGE, last = 0;
    printf("DC ZVA:\n");
    CHECK(!(dczid & 0x10), "DCZID_EL0.DZP is 0: Linux lets EL0 zero blocks");
    CHECK(block >= 16 && block <= 2048, "the block is 16 to 2048 bytes");
    memset(buf, 0xaa, sizeof buf);
    unsigned char *target = buf + 2 * block + 3;        /* inside the third block */
    __asm__ volatile("dc zva, %0" :: "r"(target) : "memory");
    for (i = 0; i < sizeof buf; i++) {
        if (buf[i] == 0) {
            if (first == PAGE) first = i;
            last = i;
        }
    }
    CHECK(first == 2 * block && last == 3 * block - 1,
          "it zeroes exactly the aligned block holding the address");
    for (i = first; i <= last && buf[i] == 0; i++)
        ;
    CHECK(i == last + 1, "every byte of that block");
}

static unsigned char scratch[256];

static void do_dc_cvau(void) { __asm__ volatile("dc cvau, %0" :: "r"(scratch) : "memory"); }
static void do_dc_civac(void) { __asm__ volatile("dc civac, %0" :: "r"(scratch) : "memory"); }
static void do_dc_cvac(void) { __asm__ volatile("dc cvac, %0" :: "r"(scratch) : "memory"); }
static void do_ic_ivau(void) { __asm__ volatile("ic ivau, %0\n\tdsb ish\n\tisb" :: "r"(scratch) : "memory"); }

static void check_cache_maintenance(void)
{
    printf("cache maintenance by VA:\n");
    CHECK(trapped(do_dc_cvau) == 0, "dc cvau runs at EL0");
    CHECK(trapped(do_dc_civac) == 0, "dc civac runs at EL0");
    CHECK(trapped(do_dc_cvac) == 0, "dc cvac runs at EL0");
    CHECK(trapped(do_ic_ivau) == 0, "ic ivau runs at EL0");
}

/* movz w0, #imm ; ret */
static void emit_return(uint32_t *code, unsigned imm)
{
    code[0] = 0x52800000u | (imm & 0xffff) << 5;
    code[1] = 0xd65f03c0u;
}

typedef int (*jit_fn)(void);

static void check_jit(void)
{
    int ok = 1;
    unsigned i;
    printf("a JIT (__clear_cache after writing code):\n");
    uint32_t *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (i = 1; i <= 3 && rw != MAP_FAILED; i++) {
        if (i > 1) mprotect(rw, PAGE, PROT_READ | PROT_WRITE);
        emit_return(rw, 100 + i);
        __builtin___clear_cache((char *)rw, (char *)(rw + 2));
        mprotect(rw, PAGE, PROT_READ | PROT_EXEC);
        if (((jit_fn)rw)() != (int)(100 + i)) ok = 0;
    }
    CHECK(rw != MAP_FAILED && ok, "RW -> RX page rewritten 3 times: each run sees the new code");
    uint32_t *rwx = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok = rwx != MAP_FAILED;
    for (i = 0; i < 200 && ok; i++) {
        emit_return(rwx + 4 * (i % 8), i);
        __builtin___clear_cache((char *)(rwx + 4 * (i % 8)), (char *)(rwx + 4 * (i % 8) + 2));
        if (((jit_fn)(rwx + 4 * (i % 8)))() != (int)i) ok = 0;
    }
    CHECK(ok, "RWX page rewritten in place 200 times: each run sees the new code");
    /* Two views of one page (a file mapped shared twice): code written
     * through the RW view runs through the RX view. */
    int fd = open("jit.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    unlink("jit.tmp");
    ok = fd >= 0 && ftruncate(fd, PAGE) == 0;
    uint32_t *wview = ok ? mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    uint32_t *xview = ok ? mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0) : MAP_FAILED;
    ok = wview != MAP_FAILED && xview != MAP_FAILED;
    for (i = 0; i < 50 && ok; i++) {
        emit_return(wview, 1000 + i);
        __builtin___clear_cache((char *)xview, (char *)(xview + 2));
        if (((jit_fn)xview)() != (int)(1000 + i)) ok = 0;
    }
    CHECK(ok, "a shared page written through an RW view runs through an RX view, 50 times");
    if (wview != MAP_FAILED) munmap(wview, PAGE);
    if (xview != MAP_FAILED) munmap(xview, PAGE);
    if (fd >= 0) close(fd);
    munmap(rw, PAGE);
    munmap(rwx, PAGE);
}

static void check_counter(void)
{
    uint64_t frq = READ_SYSREG("cntfrq_el0");
    uint64_t prev = READ_SYSREG("cntvct_el0"), now;
    int mono = 1, i;
    printf("the generic timer from EL0:\n");
    CHECK(frq > 0, "CNTFRQ_EL0 is not zero");
    for (i = 0; i < 1000; i++) {
        now = READ_SYSREG("cntvct_el0");
        if (now < prev) mono = 0;
        prev = now;
    }
    CHECK(mono, "CNTVCT_EL0 never goes back");
    uint64_t c0 = READ_SYSREG("cntvct_el0"), t0 = ns_now();
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    uint64_t c1 = READ_SYSREG("cntvct_el0"), t1 = ns_now();
    double counted = (double)(c1 - c0) / (double)frq * 1e9, elapsed = (double)(t1 - t0);
    CHECK(counted > 0.8 * elapsed && counted < 1.2 * elapsed,
          "over a 100 ms sleep it counts what CLOCK_MONOTONIC does (within 20%%)");
}

static void read_sctlr(void) { (void)READ_SYSREG("s3_0_c1_c0_0"); }
static void read_cntkctl(void) { (void)READ_SYSREG("s3_0_c14_c1_0"); }

static void check_id_registers(void)
{
    printf("ID registers (emulated by the kernel):\n");
    CHECK(getauxval(AT_HWCAP) & HWCAP_CPUID, "AT_HWCAP has HWCAP_CPUID");
    uint64_t midr = READ_SYSREG("midr_el1");
    CHECK(midr >> 24 != 0, "MIDR_EL1 names an implementer");
    uint64_t pfr0 = READ_SYSREG("id_aa64pfr0_el1");
    CHECK((pfr0 & 0xf) == 1 || (pfr0 & 0xf) == 2, "ID_AA64PFR0_EL1.EL0 says AArch64");
    CHECK(((pfr0 >> 16) & 0xf) != 0xf, "ID_AA64PFR0_EL1.FP says floating point");
    uint64_t mpidr = READ_SYSREG("mpidr_el1");
    CHECK(mpidr >> 31 & 1, "MPIDR_EL1 bit 31 (RES1) is set");
    printf("EL1's own registers:\n");
    CHECK(trapped(read_sctlr) == SIGILL, "mrs SCTLR_EL1 is SIGILL");
    CHECK(trapped(read_cntkctl) == SIGILL, "mrs CNTKCTL_EL1 is SIGILL");
}

/* What a Cortex-A53 under Linux 4.14 shows and refuses. */
static void read_id_crm0_op1(void) { (void)READ_SYSREG("s3_0_c0_c0_1"); }
static void read_id_pfr0_aarch32(void) { (void)READ_SYSREG("s3_0_c0_c1_0"); }
static void read_cntpct(void) { (void)READ_SYSREG("s3_3_c14_c0_1"); }
static void read_cntv_ctl(void) { (void)READ_SYSREG("s3_3_c14_c3_1"); }
static void read_pmccntr(void) { (void)READ_SYSREG("s3_3_c9_c13_0"); }
static unsigned lse_word;
static void do_ldadd(void)
{   /* ldadd w0, w0, [x1]  (ARMv8.1 LSE) */
    __asm__ volatile("mov x1, %0\n\t.inst 0xb8200020" :: "r"(&lse_word) : "x0", "x1", "memory");
}
static void do_dc_cvap(void) { __asm__ volatile("mov x0, %0\n\t.inst 0xd50b7c20" :: "r"(scratch) : "x0", "memory"); }

static void do_dc_civac_unmapped(void) { __asm__ volatile("dc civac, %0" :: "r"(8UL) : "memory"); }

static void check_a53(void)
{
    printf("Cortex-A53 r0p4 under Linux 4.14:\n");
    printf("  CTR_EL0 = %#llx\n", (unsigned long long)READ_SYSREG("ctr_el0"));
    printf("  DCZID_EL0 = %#llx\n", (unsigned long long)READ_SYSREG("dczid_el0"));
    printf("  CNTFRQ_EL0 = %llu\n", (unsigned long long)READ_SYSREG("cntfrq_el0"));
    printf("  MIDR_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("midr_el1"));
    printf("  MPIDR_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("mpidr_el1"));
    printf("  REVIDR_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("revidr_el1"));
    printf("  ID_AA64PFR0_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("id_aa64pfr0_el1"));
    printf("  ID_AA64PFR1_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("id_aa64pfr1_el1"));
    printf("  ID_AA64DFR0_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("id_aa64dfr0_el1"));
    printf("  ID_AA64ISAR0_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("id_aa64isar0_el1"));
    printf("  ID_AA64ISAR1_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("id_aa64isar1_el1"));
    printf("  ID_AA64MMFR0_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("id_aa64mmfr0_el1"));
    printf("  ID_AA64MMFR1_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("id_aa64mmfr1_el1"));
    printf("  untracked ID_AA64AFR0_EL1 = %#llx\n", (unsigned long long)READ_SYSREG("s3_0_c0_c5_4"));
    CHECK(trapped(read_sctlr) == SIGILL && trap_code == ILL_ILLOPC,
          "mrs SCTLR_EL1 is SIGILL with ILL_ILLOPC (do_undefinstr)");
    CHECK(trapped(read_id_crm0_op1) == SIGILL, "s3_0_c0_c0_1 (CRm=0, not MIDR/MPIDR/REVIDR) is SIGILL");
    CHECK(trapped(read_id_pfr0_aarch32) == SIGILL, "the AArch32 ID_PFR0_EL1 is SIGILL (not emulated)");
    CHECK(trapped(read_cntpct) == SIGILL, "CNTPCT_EL0 is SIGILL (CNTKCTL_EL1.EL0PCTEN clear)");
    CHECK(trapped(read_cntv_ctl) == SIGILL, "CNTV_CTL_EL0 is SIGILL (EL0VTEN clear)");
    CHECK(trapped(read_pmccntr) == SIGILL, "PMCCNTR_EL0 is SIGILL (PMUSERENR_EL0 clear)");
    CHECK(trapped(do_ldadd) == SIGILL && trap_code == ILL_ILLOPC, "LDADD (ARMv8.1 LSE) is SIGILL");
    CHECK(trapped(do_dc_cvap) == SIGILL, "DC CVAP (ARMv8.2) is SIGILL");
    CHECK(trapped(do_dc_civac_unmapped) == SIGSEGV && trap_code == SEGV_MAPERR,
          "DC CIVAC of an unmapped address is SIGSEGV (SEGV_MAPERR)");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    install_trap_handlers();
    if (argc > 1 && strcmp(argv[1], "a53") == 0) {
        check_a53();
    } else {
        check_ctr();
        check_dc_zva();
        check_cache_maintenance();
        check_jit();
        check_counter();
        check_id_registers();
    }
    if (check_failures) {
        printf("%d checks FAILED\n", check_failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
