/*
 * wait.c - wait4/waitid and the exit statuses (kernel/exit.c: do_wait,
 * wait_task_zombie, wait_task_stopped, wait_task_continued; forget_original_parent
 * for orphans).
 *
 * Checks: exit codes 0, 7, 255 and 256 (only the low 8 bits survive);
 * death by SIGTERM, SIGKILL, and by SIGSEGV / SIGABRT with RLIMIT_CORE 0
 * (no core is written, so Linux does not set the 0x80 core flag);
 * WNOHANG on a running child; ECHILD with no children and for a pid that
 * is not our child; waiting for one pid among several; waitpid(-pgid);
 * WUNTRACED/WCONTINUED around SIGSTOP/SIGCONT, and that a stop or
 * continue is reported once; waitid with CLD_EXITED/CLD_KILLED/
 * CLD_STOPPED/CLD_CONTINUED, WNOWAIT (the zombie stays) and WNOHANG
 * (si_pid 0); wait4's rusage; SIGCHLD to a handler with si_pid/si_status,
 * SIGCHLD set to SIG_IGN (children reaped by the kernel, wait -> ECHILD);
 * and an orphan reparented to us, a child subreaper (on a53emu this
 * program is pid 1, init, which adopts orphans anyway).
 *
 * Only this process prints; children report through statuses and pipes.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <sys/prctl.h>
#include <sys/resource.h>

static pid_t spawn_exit(int code)
{
    pid_t pid = xfork();
    if (pid == 0)
        _exit(code);
    return pid;
}

/* A child that dies of sig raised by itself, quietly (no core, no message). */
static pid_t spawn_die(int sig)
{
    pid_t pid = xfork();
    if (pid == 0) {
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_CORE, &rl);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);           /* an emulator may report the signal on stderr */
        if (sig == SIGSEGV)
            *(volatile int *)(long)getpagesize() = 1;  /* nothing is mapped at 4096 */
        else if (sig == SIGABRT)
            abort();
        else
            raise(sig);
        _exit(99);
    }
    return pid;
}

static void check_statuses(void)
{
    static const int codes[] = {0, 7, 255, 256};
    static const int sigs[] = {SIGTERM, SIGKILL, SIGSEGV, SIGABRT};

    printf("exit statuses:\n");
    for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        int st = wait_for(spawn_exit(codes[i]));
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == (codes[i] & 0xff), "_exit(%d): %s",
              codes[i], status_str(st));
    }
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        int st = wait_for(spawn_die(sigs[i]));
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == sigs[i] && !WCOREDUMP(st),
              "%s with RLIMIT_CORE 0: %s", sig_name(sigs[i]), status_str(st));
    }
}

static void check_errors_and_nohang(void)
{
    int go[2], st;
    char b = 0;

    printf("ECHILD, WNOHANG, one pid among several:\n");
    errno = 0;
    pid_t r = waitpid(-1, &st, 0);
    CHECK(r < 0 && errno == ECHILD, "waitpid(-1) with no children: %s", errno_name(errno));
    errno = 0;
    r = waitpid(getpid(), &st, 0);
    CHECK(r < 0 && errno == ECHILD, "waitpid(own pid): %s", errno_name(errno));
    errno = 0;
    r = waitpid(-1, &st, 0x10000);
    CHECK(r < 0 && errno == EINVAL, "waitpid with an unknown option bit: %s",
          errno_name(errno));

    if (pipe(go) < 0)
        exit(1);
    pid_t slow = xfork();
    if (slow == 0) {
        close(go[1]);
        read(go[0], &b, 1);
        _exit(2);
    }
    close(go[0]);
    r = waitpid(slow, &st, WNOHANG);
    CHECK(r == 0, "WNOHANG on a running child: %d", (int)r);
    pid_t fast = spawn_exit(1);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, fast, &si, WEXITED | WNOWAIT);      /* until it is a zombie */
    r = waitpid(slow, &st, WNOHANG);
    CHECK(r == 0, "WNOHANG on it while another child is a zombie: %d", (int)r);
    write(go[1], &b, 1);
    close(go[1]);
    r = waitpid(slow, &st, 0);
    CHECK(r == slow && WEXITSTATUS(st) == 2,
          "waitpid(the running one) returns it, not the zombie: %s", YESNO(r == slow));
    struct rusage ru;
    memset(&ru, 0xff, sizeof ru);
    r = wait4(-1, &st, 0, &ru);
    CHECK(r == fast && WEXITSTATUS(st) == 1 && ru.ru_utime.tv_sec >= 0 &&
          ru.ru_utime.tv_usec < 1000000,
          "wait4(-1) then returns the zombie, with its rusage: %s",
          YESNO(r == fast && ru.ru_utime.tv_usec < 1000000));
    errno = 0;
    r = waitpid(fast, &st, WNOHANG);
    CHECK(r < 0 && errno == ECHILD, "the reaped pid is no longer a child: %s",
          errno_name(errno));
}

static void check_pgid_wait(void)
{
    printf("waiting for a process group:\n");
    pid_t a = xfork();
    if (a == 0) {
        setpgid(0, 0);
        msleep(10);
        _exit(11);
    }
    setpgid(a, a);
    pid_t other = spawn_exit(12);   /* stays in our group */
    int st;
    pid_t r = waitpid(-a, &st, 0);
    CHECK(r == a && WEXITSTATUS(st) == 11, "waitpid(-pgid) returns the child in that group: %s",
          YESNO(r == a && WEXITSTATUS(st) == 11));
    errno = 0;
    r = waitpid(-a, &st, WNOHANG);
    CHECK(r < 0 && errno == ECHILD, "and then there is none left in it: %s", errno_name(errno));
    r = waitpid(0, &st, 0);
    CHECK(r == other && WEXITSTATUS(st) == 12, "waitpid(0) returns the one in our group: %s",
          YESNO(r == other));
}

static void check_stop_continue(void)
{
    int st;
    siginfo_t si;

    printf("SIGSTOP / SIGCONT:\n");
    pid_t child = xfork();
    if (child == 0) {
        for (;;)
            pause();
    }
    kill(child, SIGSTOP);
    pid_t r = waitpid(child, &st, WUNTRACED);
    CHECK(r == child && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "WUNTRACED: %s",
          status_str(st));
    r = waitpid(child, &st, WUNTRACED | WNOHANG);
    CHECK(r == 0, "the stop is reported once (then WNOHANG: %d)", (int)r);
    kill(child, SIGCONT);
    r = waitpid(child, &st, WCONTINUED);
    CHECK(r == child && WIFCONTINUED(st), "WCONTINUED: %s", status_str(st));
    r = waitpid(child, &st, WCONTINUED | WNOHANG);
    CHECK(r == 0, "the continue is reported once (then WNOHANG: %d)", (int)r);

    kill(child, SIGSTOP);
    memset(&si, 0, sizeof si);
    int w = waitid(P_PID, child, &si, WSTOPPED);
    CHECK(w == 0 && si.si_pid == child && si.si_code == CLD_STOPPED && si.si_status == SIGSTOP,
          "waitid(WSTOPPED): CLD_STOPPED, si_status SIGSTOP: %s",
          YESNO(si.si_code == CLD_STOPPED && si.si_status == SIGSTOP));
    kill(child, SIGCONT);
    memset(&si, 0, sizeof si);
    w = waitid(P_PID, child, &si, WCONTINUED);
    CHECK(w == 0 && si.si_code == CLD_CONTINUED && si.si_status == SIGCONT,
          "waitid(WCONTINUED): CLD_CONTINUED, si_status SIGCONT: %s",
          YESNO(si.si_code == CLD_CONTINUED && si.si_status == SIGCONT));
    kill(child, SIGTERM);
    memset(&si, 0, sizeof si);
    w = waitid(P_PID, child, &si, WEXITED | WNOWAIT);
    CHECK(w == 0 && si.si_code == CLD_KILLED && si.si_status == SIGTERM,
          "waitid(WEXITED|WNOWAIT): CLD_KILLED, si_status SIGTERM: %s",
          YESNO(si.si_code == CLD_KILLED && si.si_status == SIGTERM));
    r = waitpid(child, &st, 0);
    CHECK(r == child && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
          "after WNOWAIT it is still there to reap: %s", status_str(st));

    pid_t e = spawn_exit(5);
    memset(&si, 0, sizeof si);
    w = waitid(P_ALL, 0, &si, WEXITED);
    CHECK(w == 0 && si.si_pid == e && si.si_signo == SIGCHLD && si.si_code == CLD_EXITED &&
          si.si_status == 5, "waitid(P_ALL): CLD_EXITED, si_status 5, si_signo SIGCHLD: %s",
          YESNO(si.si_pid == e && si.si_code == CLD_EXITED && si.si_status == 5));
    pid_t slow = xfork();
    if (slow == 0) {
        pause();
        _exit(0);
    }
    memset(&si, 0xff, sizeof si);
    w = waitid(P_PID, slow, &si, WEXITED | WNOHANG);
    CHECK(w == 0 && si.si_pid == 0, "waitid(WNOHANG) with nothing to report: 0, si_pid 0: %s",
          YESNO(w == 0 && si.si_pid == 0));
    errno = 0;
    w = waitid(P_PID, slow, &si, WNOHANG);
    CHECK(w < 0 && errno == EINVAL, "waitid without WEXITED/WSTOPPED/WCONTINUED: %s",
          errno_name(errno));
    kill(slow, SIGKILL);
    wait_for(slow);
}

static volatile int chld_count, chld_code, chld_status;
static volatile pid_t chld_pid;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    chld_count++;
    chld_pid = si->si_pid;
    chld_code = si->si_code;
    chld_status = si->si_status;
}

static void check_sigchld(void)
{
    struct sigaction sa;
    int st;

    printf("SIGCHLD:\n");
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    pid_t child = spawn_exit(9);
    wait_for(child);
    /* the signal was queued before the wait could return; it is delivered by now */
    CHECK(chld_count == 1 && chld_pid == child && chld_code == CLD_EXITED && chld_status == 9,
          "handler ran once: si_pid the child, CLD_EXITED, si_status 9: %s",
          YESNO(chld_count == 1 && chld_pid == child && chld_code == CLD_EXITED &&
                chld_status == 9));

    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    child = spawn_die(SIGKILL);
    siginfo_t si;
    int s = sigwaitinfo(&block, &si);
    CHECK(s == SIGCHLD && si.si_pid == child && si.si_code == CLD_KILLED &&
          si.si_status == SIGKILL, "blocked SIGCHLD taken by sigwaitinfo: CLD_KILLED, "
          "si_status SIGKILL: %s", YESNO(s == SIGCHLD && si.si_code == CLD_KILLED));
    wait_for(child);
    sigprocmask(SIG_SETMASK, &old, NULL);

    signal(SIGCHLD, SIG_IGN);       /* children are reaped by the kernel */
    pid_t a = spawn_exit(1), b = spawn_exit(2);
    errno = 0;
    pid_t r = waitpid(-1, &st, 0);  /* blocks until both are gone */
    CHECK(r < 0 && errno == ECHILD, "SIGCHLD ignored: waitpid waits for all, then %s",
          errno_name(errno));
    errno = 0;
    CHECK(kill(a, 0) < 0 && kill(b, 0) < 0 && errno == ESRCH,
          "no zombies left: kill(pid, 0) gives %s", errno_name(errno));
    signal(SIGCHLD, SIG_DFL);
}

static void check_orphans(void)
{
    int fds[2];
    struct { pid_t ppid_before, ppid_after, self; } rep;

    printf("orphans:\n");
    CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER: 0");
    int v = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &v);
    CHECK(v == 1, "PR_GET_CHILD_SUBREAPER: %d", v);
    int hold[2];
    if (pipe(fds) < 0 || pipe(hold) < 0)
        exit(1);
    pid_t me = getpid();
    pid_t mid = xfork();
    if (mid == 0) {
        pid_t mid_pid = getpid();
        pid_t grandchild = fork();
        if (grandchild == 0) {
            rep.self = getpid();
            rep.ppid_before = getppid();
            close(hold[1]);         /* the middle child waits for this */
            double t0 = now_mono();
            while (getppid() == mid_pid && now_mono() - t0 < 20.0)
                msleep(1);          /* until our parent has exited */
            rep.ppid_after = getppid();
            write_full(fds[1], &rep, sizeof rep);
            _exit(33);
        }
        close(hold[1]);
        char b;
        read(hold[0], &b, 1);       /* EOF once the grandchild has looked */
        _exit(grandchild > 0 ? 22 : 1);
    }
    close(hold[0]);
    close(hold[1]);
    close(fds[1]);
    int st = wait_for(mid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 22, "middle child %s", status_str(st));
    int got = read_full(fds[0], &rep, sizeof rep) == 0;
    close(fds[0]);
    CHECK(got && rep.ppid_before == mid, "grandchild's first parent: the middle child: %s",
          YESNO(got && rep.ppid_before == mid));
    CHECK(got && rep.ppid_after == me,
          "after the middle child exits, getppid() is us (subreaper / init): %s",
          YESNO(got && rep.ppid_after == me));
    pid_t r = waitpid(-1, &st, 0);
    CHECK(got && r == rep.self && WIFEXITED(st) && WEXITSTATUS(st) == 33,
          "we reap the grandchild: %s", YESNO(got && r == rep.self && WEXITSTATUS(st) == 33));
}

/*
 * `wait no-orphans` leaves out the orphan check: qemu-user 7.2 does not
 * implement PR_SET_CHILD_SUBREAPER (EINVAL), so under it the orphan goes
 * to whoever reaps for qemu on the host.
 */
int main(int argc, char **argv)
{
    proc_init();
    check_statuses();
    check_errors_and_nohang();
    check_pgid_wait();
    check_stop_continue();
    check_sigchld();
    if (!(argc > 1 && strcmp(argv[1], "no-orphans") == 0))
        check_orphans();
    return proc_finish("wait");
}
