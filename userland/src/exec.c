/*
 * exec.c - execve(): do_execve, binfmt_elf, binfmt_script, de_thread,
 * flush_signal_handlers, do_close_on_exec.
 *
 * The program execs itself (found through /proc/self/exe) in a forked
 * child; the new image checks what it received and prints it, while the
 * parent waits.  Checks: argv (with an empty string and a space) and envp
 * passed through exactly; the pid kept; O_CLOEXEC / FD_CLOEXEC descriptors
 * closed, the others kept with their contents; caught signals reset to
 * SIG_DFL, ignored ones kept, the blocked mask kept; an exec from a
 * second thread (de_thread: the other threads die, the exec'ing thread
 * takes over the pid); `#!` scripts (with one argument, none, and an
 * argument containing spaces: the kernel passes everything after the
 * interpreter as one argument); the errors ENOENT, EACCES (no x bit, a
 * directory), ENOEXEC (no ELF and no #!), ENOTDIR, E2BIG (one string
 * over MAX_ARG_STRLEN), EFAULT, and ENOENT for a script whose interpreter
 * is missing; an execve with argv == NULL.
 *
 * Scratch files (exec_*.sh, exec_*.tmp) are made in the current directory
 * and removed.  Modes: no argument = everything; `errors` = only the error
 * checks (those need no exec of an AArch64 binary, so qemu-user, which
 * cannot exec one without binfmt_misc, can run them too).  Other argv[1]
 * values are the images' own modes.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>

extern char **environ;

/* BINPRM_BUF_SIZE in 4.14 (256 since 5.1): a #! line must fit in it. */
#define BINPRM_BUF_SIZE_4_14 128

static char self[PATH_MAX];

static void find_self(void)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

    if (n <= 0) {
        printf("FAIL: readlink(/proc/self/exe): %s\n", errno_name(errno));
        exit(1);
    }
    self[n] = '\0';
}

/* --- the images --- */

static void print_argv(const char *who, int argc, char **argv, int from)
{
    printf("  %s: argc=%d", who, argc);
    for (int i = from; i < argc; i++)
        printf(" argv[%d]='%s'", i, argv[i]);
    printf("\n");
}

static int image_main(int argc, char **argv)
{
    proc_init();
    print_argv("image", argc, argv, 0);
    int n = 0;
    printf("  image: environ:");
    for (char **e = environ; *e; e++, n++)
        printf(" %s", strncmp(*e, "EXPECT_PID=", 11) == 0 ? "EXPECT_PID=..." : *e);
    printf(" (%d entries)\n", n);
    const char *want = getenv("EXPECT_PID");
    CHECK(want && atoi(want) == getpid(), "image: pid unchanged by execve: %s",
          YESNO(want && atoi(want) == getpid()));
    char buf[8] = {0};
    int r = (int)read(10, buf, sizeof buf - 1);
    CHECK(r == 4 && strcmp(buf, "kept") == 0, "image: fd 10 (no close-on-exec) kept, reads "
          "'%s'", r > 0 ? buf : errno_name(errno));
    errno = 0;
    fcntl(11, F_GETFD);
    CHECK(errno == EBADF, "image: fd 11 (O_CLOEXEC) closed: %s", errno_name(errno));
    errno = 0;
    fcntl(12, F_GETFD);
    CHECK(errno == EBADF, "image: fd 12 (FD_CLOEXEC by fcntl) closed: %s", errno_name(errno));
    r = fcntl(13, F_GETFD);
    CHECK(r == 0, "image: fd 13 (FD_CLOEXEC set, then cleared) kept: %s",
          r == 0 ? "yes" : errno_name(errno));
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL, "image: caught SIGUSR1 reset to SIG_DFL: %s",
          YESNO(sa.sa_handler == SIG_DFL));
    sigaction(SIGUSR2, NULL, &sa);
    CHECK(sa.sa_handler == SIG_IGN, "image: ignored SIGUSR2 still SIG_IGN: %s",
          YESNO(sa.sa_handler == SIG_IGN));
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    CHECK(sigismember(&mask, SIGTERM) && !sigismember(&mask, SIGUSR1),
          "image: blocked mask kept (SIGTERM blocked, SIGUSR1 not): %s",
          YESNO(sigismember(&mask, SIGTERM) && !sigismember(&mask, SIGUSR1)));
    return check_failures ? 1 : 0;
}

static int thread_image_main(void)
{
    proc_init();
    const char *want = getenv("EXPECT_PID");
    int pid_ok = want && atoi(want) == getpid();
    CHECK(pid_ok, "thread image: the pid is the process's, not the thread's tid: %s",
          YESNO(pid_ok));
    CHECK(sys_gettid() == getpid(), "thread image: gettid() == getpid(): %s",
          YESNO(sys_gettid() == getpid()));
    return check_failures ? 1 : 0;
}

static int script_main(int argc, char **argv)
{
    proc_init();
    const char *want = getenv("EXEC_SELF");
    print_argv("interpreter", argc, argv, 1);
    CHECK(want && strcmp(argv[0], want) == 0,
          "interpreter: argv[0] is the interpreter path from the #! line: %s",
          YESNO(want && strcmp(argv[0], want) == 0));
    return check_failures ? 1 : 0;
}

static int argc0_main(int argc, char **argv)
{
    proc_init();
    printf("  argv NULL image: argc=%d%s\n", argc,
           argc >= 1 && argv[0] && argv[0][0] == '\0' ? " argv[0]=''" : "");
    return 0;
}

/* --- the driver --- */

static void on_usr1(int sig)
{
    (void)sig;
}

static void move_fd(int from, int to, int cloexec)
{
    if (dup3(from, to, cloexec ? O_CLOEXEC : 0) < 0)
        _exit(100);
    close(from);
}

static void exec_self_child(void)
{
    int keep[2], other[2];
    char pidbuf[32];

    /* fd 10: a pipe holding "kept"; 11: O_CLOEXEC; 12: FD_CLOEXEC; 13: set+cleared */
    if (pipe(keep) < 0 || pipe(other) < 0)
        _exit(100);
    write_full(keep[1], "kept", 4);
    close(keep[1]);
    move_fd(keep[0], 10, 0);
    move_fd(other[0], 11, 1);
    move_fd(other[1], 12, 0);
    fcntl(12, F_SETFD, FD_CLOEXEC);
    dup2(12, 13);
    fcntl(13, F_SETFD, FD_CLOEXEC);
    fcntl(13, F_SETFD, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_usr1;        /* a handler: execve must reset it */
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, NULL);

    snprintf(pidbuf, sizeof pidbuf, "EXPECT_PID=%d", getpid());
    char *argv[] = {"exec-image", "image", "a b", "", "last", NULL};
    char *envp[] = {"A53_X=1", "EMPTY=", "LAST=z", pidbuf, NULL};
    execve(self, argv, envp);
    _exit(101);
}

static void check_exec_self(void)
{
    printf("execve of itself:\n");
    pid_t child = xfork();
    if (child == 0)
        exec_self_child();
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the image %s", status_str(st));
}

static char thread_env[32];

static void *exec_thread(void *arg)
{
    (void)arg;
    char *argv[] = {"exec-thread-image", "thread-image", NULL};
    char *envp[] = {thread_env, NULL};
    execve(self, argv, envp);
    _exit(102);
}

static void check_exec_from_thread(void)
{
    printf("execve from a second thread:\n");
    pid_t child = xfork();
    if (child == 0) {
        pthread_t t;
        snprintf(thread_env, sizeof thread_env, "EXPECT_PID=%d", getpid());
        pthread_create(&t, NULL, exec_thread, NULL);
        for (;;)
            pause();                /* de_thread() kills this thread */
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the image %s", status_str(st));
}

static int make_file(const char *name, const char *text, mode_t mode)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, mode);

    if (fd < 0)
        return -1;
    write_full(fd, text, strlen(text));
    close(fd);
    return chmod(name, mode);       /* the umask must not take the x bits */
}

static void run_script(const char *name, const char *line, char *arg)
{
    char envbuf[PATH_MAX + 16];

    if (strlen(line) >= BINPRM_BUF_SIZE_4_14) {
        printf("FAIL: the #! line is %zu bytes, over BINPRM_BUF_SIZE (128 in 4.14): "
               "run from a shorter path\n", strlen(line));
        check_failures++;
        return;
    }
    make_file(name, line, 0755);
    snprintf(envbuf, sizeof envbuf, "EXEC_SELF=%s", self);
    pid_t child = xfork();
    if (child == 0) {
        char *argv[] = {"name-dropped", arg, NULL};
        char *envp[] = {envbuf, NULL};
        execve(name, argv, envp);
        _exit(103);
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the interpreter %s", status_str(st));
    unlink(name);
}

static void check_scripts(void)
{
    char line[PATH_MAX + 64];

    printf("#! scripts:\n");
    snprintf(line, sizeof line, "#!%s script-arg\necho not a shell\n", self);
    run_script("./exec_1.sh", line, "x y");
    snprintf(line, sizeof line, "#!%s\n", self);
    run_script("./exec_2.sh", line, "z");
    snprintf(line, sizeof line, "#!  %s   two  words \t\n", self);
    run_script("./exec_3.sh", line, "w");
}

static void check_argv_null(void)
{
    printf("execve with argv == NULL:\n");
    pid_t child = xfork();
    if (child == 0) {
        char *envp[] = {"EXEC_ARGC0=1", NULL};
        syscall(SYS_execve, self, NULL, envp);
        _exit(104);
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the image %s", status_str(st));
}

static void expect_exec_error(const char *what, const char *path, char **argv, int want)
{
    char *envp[] = {NULL};

    errno = 0;
    int r = execve(path, argv, envp);
    CHECK(r < 0 && errno == want, "%s: %s", what, errno_name(errno));
}

static void check_errors(void)
{
    char *argv[] = {"x", NULL};
    char line[64];

    printf("execve errors:\n");
    make_file("exec_data.tmp", "data\n", 0644);
    make_file("exec_text.tmp", "hello, not an ELF\n", 0755);
    make_file("exec_empty.tmp", "", 0755);
    snprintf(line, sizeof line, "#!./exec-no-such-interpreter\n");
    make_file("exec_badinterp.sh", line, 0755);
    expect_exec_error("no such file", "./exec-no-such-file", argv, ENOENT);
    expect_exec_error("no x bit (mode 0644)", "./exec_data.tmp", argv, EACCES);
    expect_exec_error("a directory", ".", argv, EACCES);
    expect_exec_error("x bit, not ELF, no #!", "./exec_text.tmp", argv, ENOEXEC);
    expect_exec_error("x bit, empty file", "./exec_empty.tmp", argv, ENOEXEC);
    expect_exec_error("a path through a regular file", "./exec_data.tmp/x", argv, ENOTDIR);
    expect_exec_error("#! with a missing interpreter", "./exec_badinterp.sh", argv, ENOENT);
    size_t big = 200 * 1024;        /* > MAX_ARG_STRLEN (32 pages) */
    char *huge = malloc(big + 1);
    memset(huge, 'a', big);
    huge[big] = '\0';
    char *bigv[] = {"x", huge, NULL};
    expect_exec_error("one argument of 200 KiB", "./exec_text.tmp", bigv, E2BIG);
    free(huge);
    errno = 0;
    long r = syscall(SYS_execve, "./exec_text.tmp", (char **)8, NULL);
    CHECK(r < 0 && errno == EFAULT, "argv pointing at address 8: %s", errno_name(errno));
    unlink("exec_data.tmp");
    unlink("exec_text.tmp");
    unlink("exec_empty.tmp");
    unlink("exec_badinterp.sh");
}

int main(int argc, char **argv)
{
    if (getenv("EXEC_ARGC0"))
        return argc0_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "image") == 0)
        return image_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "thread-image") == 0)
        return thread_image_main();
    if (getenv("EXEC_SELF"))
        return script_main(argc, argv);

    proc_init();
    find_self();
    if (argc >= 2 && strcmp(argv[1], "errors") == 0) {
        check_errors();
        return proc_finish("exec errors");
    }
    check_exec_self();
    check_exec_from_thread();
    check_scripts();
    check_argv_null();
    check_errors();
    return proc_finish("exec");
}
