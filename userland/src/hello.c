/*
 * hello.c - the smallest end-to-end test of the loader and the syscall path.
 *
 * Exercises: execve-time setup of the initial stack (argc, argv, envp and the
 * auxiliary vector are laid out by the kernel on the new stack VMA), then
 * write() and exit_group().  Exit status is argc - 1, so `hello a b` exits 2.
 * Also built as hello-pie (a static-PIE: ET_DYN that relocates itself).
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *demo = getenv("A53_DEMO");

    printf("hello, world\n");
    printf("argc = %d\n", argc);
    for (int i = 0; i < argc; i++) {
        if (i == 0) {
            /* argv[0] is whatever path the caller used: print only the last
             * component so the output does not depend on the directory. */
            const char *base = argv[0];
            for (const char *p = argv[0]; *p; p++)
                if (*p == '/')
                    base = p + 1;
            printf("argv[0] = %s (basename)\n", base);
        } else {
            printf("argv[%d] = %s\n", i, argv[i]);
        }
    }
    printf("A53_DEMO = %s\n", demo ? demo : "(unset)");
    return argc - 1;
}
