/*
 * signals.c - memory faults become signals, and handlers can recover.
 *
 * do_page_fault() turns an access no VMA allows into SIGSEGV: si_code
 * SEGV_MAPERR (nothing mapped there) or SEGV_ACCERR (mapped, but not for
 * this access), si_addr the faulting address.  The kernel delivers it on
 * an rt_sigframe (siginfo + ucontext with every register, FP/SIMD too);
 * the handler here siglongjmp()s out.  Also: a handler on an alternate
 * stack catching a stack overflow (the stack VMA grows down until
 * RLIMIT_STACK, then SIGSEGV), SA_RESETHAND, SA_NODEFER, rt_sigreturn
 * restoring the interrupted registers.
 *
 * `signals blocked`: a SIGSEGV while SIGSEGV is blocked cannot be
 * delivered, so the kernel kills the program (exit 139 in a shell).
 *
 * `signals badframe`: a SIGUSR1 arrives while sp points nowhere, so its
 * frame cannot be written; the kernel (signal_setup_done -> force_sigsegv)
 * sends SIGSEGV instead, which a handler on the alternate stack catches.
 * Its return restores the old sp, and the program goes on.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static void *volatile fault_addr;
static volatile int fault_code;
static volatile int usr1_count, nested;
static int depth;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(env, 1);
}

static void on_usr1(int sig)
{
    (void)sig;
    if (usr1_count++ == 0)
        raise(SIGUSR1);             /* SA_NODEFER: delivered inside this handler */
    else
        nested = 1;
}

static volatile int badframe_segv, badframe_usr1;
static void on_badframe_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    badframe_segv = si->si_code;
}
static void on_badframe_usr1(int sig) { (void)sig; badframe_usr1 = 1; }

/* kill(getpid(), SIGUSR1) with sp = 16: the signal is taken on the way back
 * from the svc; sigreturn from the SIGSEGV handler restores sp = 16, which
 * the instruction after the svc puts right again. */
static void raise_usr1_with_bad_sp(long pid)
{
    register long x0 __asm__("x0") = pid;
    register long x1 __asm__("x1") = SIGUSR1;
    register long x8 __asm__("x8") = 129;        /* __NR_kill */
    __asm__ volatile("mov x9, sp\n\tmov x10, #16\n\tmov sp, x10\n\tsvc #0\n\tmov sp, x9"
                     : "+r"(x0) : "r"(x1), "r"(x8) : "x9", "x10", "memory");
}

static volatile int keep_going = 1;
static volatile unsigned long bad_low = 0x10, bad_blocked = 0x20;

static void recurse(void)
{
    volatile char buf[1024];
    memset((char *)buf, depth, sizeof buf);
    depth++;
    if (keep_going)
        recurse();
    (void)buf[0];
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);

    if (argc > 1 && strcmp(argv[1], "blocked") == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        sigprocmask(SIG_BLOCK, &set, NULL);
        printf("SIGSEGV blocked; faulting now\n");
        fflush(stdout);
        *(volatile int *)bad_blocked = 1;
        printf("not reached\n");
        return 1;
    }

    if (argc > 1 && strcmp(argv[1], "badframe") == 0) {
        static char altstack[65536];
        stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
        sigaltstack(&ss, NULL);
        sa.sa_sigaction = on_badframe_segv;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigaction(SIGSEGV, &sa, NULL);
        signal(SIGUSR1, on_badframe_usr1);
        raise_usr1_with_bad_sp(getpid());
        printf("SIGUSR1 with sp = 16: usr1 handler ran %d, SIGSEGV si_code %s\n", badframe_usr1,
               badframe_segv == SI_KERNEL ? "SI_KERNEL" : "?");
        return 0;
    }

    if (sigsetjmp(env, 1) == 0)
        *(volatile int *)bad_low = 1;
    printf("store to 0x10: SIGSEGV, si_addr %p, %s\n", fault_addr,
           fault_code == SEGV_MAPERR ? "SEGV_MAPERR" : "?");

    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sigsetjmp(env, 1) == 0)
        ro[100] = 1;
    printf("store to a read-only page: SIGSEGV at page offset %ld, %s\n",
           (long)((char *)fault_addr - ro), fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : "?");

    struct sigaction su;
    memset(&su, 0, sizeof su);
    su.sa_handler = on_usr1;
    su.sa_flags = SA_NODEFER;
    sigaction(SIGUSR1, &su, NULL);
    double x = 1.5;
    raise(SIGUSR1);
    x *= 2.25;                      /* FP state must survive the handlers */
    printf("SIGUSR1 with SA_NODEFER: handled %d times, nested inside the first: %s, x=%g\n",
           usr1_count, nested ? "yes" : "no", x);
    su.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &su, NULL);
    usr1_count = 1;                 /* the handler will not raise again */
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("SIGUSR1 with SA_RESETHAND: handler reset to SIG_DFL after one delivery: %s\n",
           now.sa_handler == SIG_DFL ? "yes" : "no");

    stack_t ss = {.ss_sp = malloc(1 << 16), .ss_size = 1 << 16, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(env, 1) == 0)
        recurse();
    printf("stack overflow: SIGSEGV handled on the alternate stack after > 1000 frames: %s\n",
           depth > 1000 ? "yes" : "no");
    return 0;
}
