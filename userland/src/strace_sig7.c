/* strace_sig7.c - decodings tests/test_strace_vis7.py compares with the
 * real strace: struct termios2 (TCGETS2/TCSETS2/TCSETSW2/TCSETSF2 on a
 * pty), signal sets of a size other than the kernel's 8 bytes (by their
 * address, and the calls' EINVAL), and struct sigevent's SIGEV_THREAD
 * function/attributes and SIGEV_THREAD_ID tid (timer_create, mq_notify).
 * Built for the host (run under strace) and for AArch64 (under a53emu);
 * every call goes through syscall(2), so both make the same call, and
 * each result is one Linux 4.14 and the host's kernel both give.
 */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* asm-generic/termbits.h's struct termios2 (not in the C libraries' headers). */
struct k_termios2 {
    unsigned int c_iflag, c_oflag, c_cflag, c_lflag;
    unsigned char c_line, c_cc[19];
    unsigned int c_ispeed, c_ospeed;
};
#define K_TCGETS2 _IOR('T', 0x2A, struct k_termios2)
#define K_TCSETS2 _IOW('T', 0x2B, struct k_termios2)
#define K_TCSETSW2 _IOW('T', 0x2C, struct k_termios2)
#define K_TCSETSF2 _IOW('T', 0x2D, struct k_termios2)

/* The kernel's struct sigevent (64 bytes): the union as the calls read it. */
struct k_sigevent {
    unsigned long value;
    int signo, notify;
    union {
        int tid;
        struct { unsigned long function, attribute; } thread;
        char pad[48];
    } un;
};
#define K_SIGEV_SIGNAL 0
#define K_SIGEV_THREAD 2
#define K_SIGEV_THREAD_ID 4
#define KERNEL_SIGSET 8         /* _NSIG / 8 on both architectures */
#define WRONG_SIGSET 16

static void termios2_calls(void)
{
    struct k_termios2 t;
    int m = syscall(SYS_openat, AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY);
    CHECK(m >= 0, "open /dev/ptmx");
    expect_ret("TCGETS2", syscall(SYS_ioctl, m, K_TCGETS2, &t), 0);
    expect_ret("TCSETS2", syscall(SYS_ioctl, m, K_TCSETS2, &t), 0);
    expect_ret("TCSETSW2", syscall(SYS_ioctl, m, K_TCSETSW2, &t), 0);
    expect_ret("TCSETSF2", syscall(SYS_ioctl, m, K_TCSETSF2, &t), 0);
    expect_err("TCGETS2 to NULL", syscall(SYS_ioctl, m, K_TCGETS2, NULL), EFAULT);
    syscall(SYS_close, m);
}

static void sigset_sizes(void)
{
    unsigned long set[2] = {1UL << (SIGUSR1 - 1), 0}, old[2];
    unsigned long act[4] = {(unsigned long)SIG_IGN, 0, 0, 0};
    struct timespec ts = {0, 0};
    unsigned long ps[2] = {(unsigned long)set, WRONG_SIGSET};

    expect_err("rt_sigprocmask size 16", syscall(SYS_rt_sigprocmask, SIG_BLOCK, set, old,
                                                 WRONG_SIGSET), EINVAL);
    expect_err("rt_sigprocmask size 4", syscall(SYS_rt_sigprocmask, SIG_BLOCK, set, old, 4),
               EINVAL);
    expect_ret("rt_sigprocmask size 8", syscall(SYS_rt_sigprocmask, SIG_BLOCK, set, old,
                                                KERNEL_SIGSET), 0);
    expect_err("rt_sigaction size 16", syscall(SYS_rt_sigaction, SIGUSR2, act, old,
                                               WRONG_SIGSET), EINVAL);
    expect_err("ppoll size 16", syscall(SYS_ppoll, NULL, 0, &ts, set, WRONG_SIGSET), EINVAL);
    expect_err("pselect6 size 16", syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, ps), EINVAL);
    expect_err("rt_sigpending size 16", syscall(SYS_rt_sigpending, old, WRONG_SIGSET), EINVAL);
    expect_err("rt_sigtimedwait size 16", syscall(SYS_rt_sigtimedwait, set, NULL, &ts,
                                                  WRONG_SIGSET), EINVAL);
    expect_err("rt_sigsuspend size 16", syscall(SYS_rt_sigsuspend, set, WRONG_SIGSET), EINVAL);
}

static void sigevents(void)
{
    struct k_sigevent sev;
    static char cookie[32];             /* NOTIFY_COOKIE_LEN */
    int timer;

    memset(&sev, 0, sizeof(sev));
    sev.notify = K_SIGEV_THREAD;
    sev.signo = SIGUSR1;
    sev.un.thread.function = 0x1234;
    sev.un.thread.attribute = 0x5678;
    /* the kernel takes SIGEV_THREAD as SIGEV_SIGNAL (the C library's thread) */
    expect_ret("timer_create SIGEV_THREAD", syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev,
                                                    &timer), 0);
    expect_ret("timer_delete", syscall(SYS_timer_delete, timer), 0);
    memset(&sev, 0, sizeof(sev));
    sev.notify = K_SIGEV_THREAD_ID;
    sev.signo = SIGUSR1;
    sev.un.tid = syscall(SYS_gettid);
    expect_ret("timer_create SIGEV_THREAD_ID", syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev,
                                                       &timer), 0);
    expect_ret("timer_delete", syscall(SYS_timer_delete, timer), 0);
    sev.un.tid = 0x7fffffff;            /* no such thread */
    expect_err("timer_create SIGEV_THREAD_ID of no thread",
               syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &timer), EINVAL);
    memset(&sev, 0, sizeof(sev));
    sev.notify = K_SIGEV_THREAD;
    sev.value = (unsigned long)cookie;  /* the cookie the kernel reads first */
    sev.signo = -1;                     /* SIGEV_THREAD: the netlink socket's fd */
    sev.un.thread.function = 0x1234;
    expect_err("mq_notify SIGEV_THREAD to no socket", syscall(SYS_mq_notify, 0, &sev), EBADF);
}

int main(void)
{
    printf("strace_sig7:\n");
    termios2_calls();
    sigset_sizes();
    sigevents();
    return check_failures ? 1 : 0;
}
