/*
 * sb_pause.c - pause() with nothing else to wake the program: Linux waits
 * until a signal comes (Ctrl-C at the terminal).  Prints "pausing" first
 * so that the test knows when to press it.
 */
#include "common.h"

int main(void)
{
    printf("pausing\n");
    fflush(stdout);
    pause();
    printf("FAILED: pause() returned\n");
    return 1;
}
