/*
 * api_probe.c - a program for the Python API's tests (tests/test_api.py):
 * each line it prints shows what the kernel answered, so a test that hooks
 * a system call sees the guest observe the change.
 *
 *   pid N                       getpid()
 *   write A / write B           two write(2)s of their own (one may be skipped)
 *   brk grew by N               brk(0), then brk(brk0 + 8192): the new break - brk0
 *   page 0xADDR                 an anonymous page it maps (printed), then writes
 *                               once: the first fault on that page
 *   (stdin)                     with a second argument "cat": what it reads on fd 0
 *   bye                         exit status 0, or the first argument as a number
 *
 * Only raw system calls and write(2): no stdio buffering, so the order of
 * the lines is the order of the calls whatever stdout is.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char *fmt, unsigned long value)
{
    char line[64];
    int n = snprintf(line, sizeof line, fmt, value);
    write(1, line, n);
}

int main(int argc, char **argv)
{
    say("pid %lu\n", (unsigned long)syscall(SYS_getpid));
    write(1, "write A\n", 8);
    write(1, "write B\n", 8);
    unsigned long brk0 = (unsigned long)syscall(SYS_brk, 0);
    unsigned long brk1 = (unsigned long)syscall(SYS_brk, brk0 + 8192);
    say("brk grew by %lu\n", brk1 - brk0);
    char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return 1;
    say("page %#lx\n", (unsigned long)page);
    page[16] = 'x';
    if (argc > 2 && strcmp(argv[2], "cat") == 0) {
        char buf[256];
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) > 0)
            write(1, buf, n);
    }
    write(1, "bye\n", 4);
    return argc > 1 ? atoi(argv[1]) : 0;
}
