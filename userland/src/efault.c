/*
 * efault.c - bad user pointers make system calls fail, not crash.
 *
 * When a program hands the kernel a pointer, the kernel never dereferences
 * it directly: it copies through copy_from_user()/copy_to_user() (or
 * strncpy_from_user() for path names).  Those routines survive a fault on
 * the user address (the exception table fixes the access up) and the system
 * call returns -EFAULT.  So none of the calls below kills the process; each
 * prints the errno name it got, which on Linux is always EFAULT.
 *
 * Every call is made with syscall() so that libc cannot touch the bad
 * pointer itself first (musl's stat(), for instance, copies the result out of
 * a kernel-format buffer of its own, and would crash in user space instead).
 * Address 16 is never mapped (mmap_min_addr keeps page 0 empty), and
 * 0xffff000000000000 is not even a user address (it is in the kernel half).
 */
#include "common.h"
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#define BAD ((void *)16)
#define KERNEL_HALF ((void *)0xffff000000000000UL)

/* Print "what: ERRNO" for a call that should fail. */
static void report(const char *what, long rc)
{
    int e = errno;
    printf("%s: %s\n", what, rc == -1 ? errno_name(e) : "succeeded?!");
}

int main(int argc, char **argv)
{
    long pos;
    int fd;

    /* Announce ourselves with a plain write(2), so `--trace syscall` shows a
     * write(1, ...) line with its string. */
    static const char hello[] = "efault: passing bad pointers to the kernel\n";
    if (write(1, hello, sizeof(hello) - 1) != (ssize_t)(sizeof(hello) - 1))
        return 1;

    /* write: the kernel reads 5 bytes from address 16 (copy_from_user) */
    report("write(1, (void *)16, 5)", syscall(SYS_write, 1, BAD, 5));
    report("write(1, <kernel address>, 5)", syscall(SYS_write, 1, KERNEL_HALF, 5));

    /* read: the kernel writes into address 16 (copy_to_user).  The copy
     * fails before anything is consumed, so the file offset stays at 0. */
    fd = open(argv[0], O_RDONLY);      /* our own executable: it has bytes */
    if (fd < 0) {
        perror("open argv[0]");
        return 1;
    }
    report("read(fd, (void *)16, 5)", syscall(SYS_read, fd, BAD, 5));
    pos = lseek(fd, 0, SEEK_CUR);
    printf("file offset after the failed read: %ld\n", pos);

    /* fstat/newfstatat: the kernel fills a struct stat at a bad address */
    report("fstat(fd, (void *)16)", syscall(SYS_fstat, fd, BAD));
    report("newfstatat(AT_FDCWD, \".\", (void *)16, 0)",
           syscall(SYS_newfstatat, AT_FDCWD, ".", BAD, 0));
    close(fd);

    /* path names are copied with strncpy_from_user(): a bad pointer and a
     * NULL pointer are both EFAULT (NULL is just another unmapped address) */
    report("openat(AT_FDCWD, (char *)16, O_RDONLY)",
           syscall(SYS_openat, AT_FDCWD, BAD, O_RDONLY));
    report("openat(AT_FDCWD, NULL, O_RDONLY)",
           syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY));

    /* more copy_to_user() victims */
    report("getcwd((char *)16, 4096)", syscall(SYS_getcwd, BAD, 4096));
    report("uname((void *)16)", syscall(SYS_uname, BAD));
    report("clock_gettime(CLOCK_MONOTONIC, (void *)16)",
           syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD));

    printf("still alive: every bad pointer became EFAULT, none a SIGSEGV\n");
    return 0;
}
