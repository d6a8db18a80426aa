/* strace_timex.c - decodings tests/test_strace_timex.py compares with the
 * real strace: struct timex (adjtimex, clock_adjtime: read-only modes, a
 * null pointer, a clock without clock_adj), the remaining
 * time of a nanosleep and clock_nanosleep a handler's signal (SA_RESTART
 * off) cuts, and prctl's PR_SET/GET_CHILD_SUBREAPER.  Built for the host
 * (run under strace) and for AArch64 (under a53emu); every call goes
 * through syscall(2), and nothing changes the clock (modes 0 or
 * ADJ_OFFSET_SS_READ only: the host's tests may run as root), so it runs
 * as any user.
 */
#include "common.h"

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static void timex_calls(void)
{
    struct timex tx;
    long state;

    memset(&tx, 0, sizeof(tx));
    state = syscall(SYS_adjtimex, &tx);
    CHECK(state >= TIME_OK && state <= TIME_ERROR, "adjtimex read: %ld", state);
    expect_err("adjtimex NULL", syscall(SYS_adjtimex, NULL), EFAULT);
    tx.modes = ADJ_OFFSET_SS_READ;
    CHECK(syscall(SYS_adjtimex, &tx) >= 0, "adjtimex ADJ_OFFSET_SS_READ");
    tx.modes = 0;
    CHECK(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx) >= 0, "clock_adjtime realtime");
    expect_err("clock_adjtime monotonic", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx),
               EOPNOTSUPP);
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* A sleep of 5 s a 20 ms timer's SIGALRM cuts: EINTR, the time left written. */
static void cut_sleeps(void)
{
    struct sigaction sa;
    struct itimerval it = {{0, 0}, {0, 20000}};
    struct timespec req = {5, 0}, rem = {0, 0};

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;           /* no SA_RESTART */
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
    expect_err("nanosleep cut", syscall(SYS_nanosleep, &req, &rem), EINTR);
    CHECK(rem.tv_sec < 5 && rem.tv_sec >= 3, "nanosleep rem %ld", (long)rem.tv_sec);
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
    expect_err("clock_nanosleep cut", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req,
                                              &rem), EINTR);
}

static void subreaper(void)
{
    int on = -1;

    expect_ret("PR_SET_CHILD_SUBREAPER 1", syscall(SYS_prctl, 36, 1L, 0L, 0L, 0L), 0);
    expect_ret("PR_GET_CHILD_SUBREAPER", syscall(SYS_prctl, 37, &on, 0L, 0L, 0L), 0);
    CHECK(on == 1, "subreaper on: %d", on);
    expect_err("PR_GET_CHILD_SUBREAPER NULL", syscall(SYS_prctl, 37, NULL, 0L, 0L, 0L), EFAULT);
    expect_ret("PR_SET_CHILD_SUBREAPER 0", syscall(SYS_prctl, 36, 0L, 0L, 0L, 0L), 0);
}

int main(void)
{
    timex_calls();
    cut_sleeps();
    subreaper();
    return check_failures ? 1 : 0;
}
