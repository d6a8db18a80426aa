/*
 * udf.c - executing an instruction that does not exist.
 *
 * 0x00000000 is "UDF #0", the permanently undefined instruction of AArch64.
 * The CPU takes an "unknown reason" synchronous exception (ESR_EL1.EC = 0)
 * to EL1; Linux's el0_undef -> do_undefinstr() finds no emulation hook for
 * it and sends SIGILL (ILL_ILLOPC), so on Linux and under qemu-aarch64 the
 * process dies with exit status 128 + 4 = 132.  a53emu does the same, and
 * its one-line report names the instruction.
 */
#include <stdio.h>

int main(void)
{
    printf("about to execute an undefined instruction\n");
    fflush(stdout);             /* the line must be out before we die */
    __asm__ volatile(".inst 0x00000000");   /* UDF #0 */
    printf("still alive?!\n");
    return 0;
}
