/*
 * segfault.c - what happens when a program touches memory it has no VMA for.
 *
 * The store to address 0x10 traps (data abort).  The kernel's fault handler
 * (do_page_fault -> find_vma) finds no VMA covering the address, so it sends
 * SIGSEGV (si_code SEGV_MAPERR, si_addr 0x10) and, since we do not handle
 * it, the process is killed; a shell reports exit status 128 + 11 = 139.
 */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    /* volatile: the compiler must really do the store (and cannot prove at
     * compile time that the pointer is bogus) */
    volatile uintptr_t addr = 0x10;
    volatile int *bad = (volatile int *)addr;

    printf("about to fault\n");
    fflush(stdout);           /* make sure the line is out before we die */
    *bad = 42;                /* no VMA at 0x10: SIGSEGV */
    printf("still alive?!\n");
    return 0;
}
