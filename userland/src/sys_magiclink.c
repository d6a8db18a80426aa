/*
 * sys_magiclink.c - opens through /proc/PID/fd/N, exe and cwd with the
 * opener's credentials (issue 9).  Run as root; children become uid 54321.
 *
 *  - /proc/self/fd/N reopens the file itself, and may_open() checks its
 *    inode with the opener's rights, not the descriptor's mode: a file
 *    root opened and left to a uid-54321 child reads through the
 *    descriptor, but reopens only as far as its mode lets uid 54321;
 *    root may reopen a read-only descriptor for writing;
 *  - another process's links are followed (and read) only by who may
 *    ptrace-read it (proc_fd_access_allowed()): same ids and dumpable, or
 *    CAP_SYS_PTRACE — EACCES otherwise; a process that changed its ids is
 *    not dumpable, and neither are its children, until PR_SET_DUMPABLE.
 *
 * "exec-as-user PROGRAM": become uid 54321 and execve PROGRAM, printing
 * the errno (the pytest checks PT_INTERP's MAY_EXEC with it).
 * Self-checking; built for the host too.
 */
#include "proc.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#define USER 54321

static const char *ename(int e)
{
    switch (e) {
    case EACCES: return "EACCES";
    default: return errno_name(e);
    }
}

#define ERR(call) ((call) < 0 ? ename(errno) : "succeeded")

static int become_user(void)
{
    return setgroups(0, NULL) == 0 && setresgid(USER, USER, USER) == 0 &&
           setresuid(USER, USER, USER) == 0 ? 0 : -1;
}

static int reopen(pid_t pid, int fd, int flags)
{
    char path[64];
    int r;

    if (pid)
        snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
    else
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    r = open(path, flags);
    if (r >= 0) {
        close(r);
        return 0;
    }
    return -1;
}

static int readlink_of(pid_t pid, const char *what)
{
    char path[64], buf[256];

    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
    return readlink(path, buf, sizeof buf) < 0 ? -1 : 0;
}

/* The uid-54321 child: fd600/fd644 are root's descriptors, inherited. */
static int as_user(pid_t root_pid, int fd600, int fd644)
{
    char c;
    int pipefd[2], go[2], r;
    pid_t kid;
    char fdname[32];

    check_failures = 0;
    CHECK(become_user() == 0, "become uid %d", USER);
    CHECK(read(fd600, &c, 1) == 1, "the inherited descriptor of a 0600 file reads");
    CHECK(reopen(0, fd600, O_RDONLY) < 0 && errno == EACCES,
          "/proc/self/fd/N of the 0600 file, O_RDONLY: %s", ERR(-1));
    CHECK(reopen(0, fd600, O_PATH) == 0, "... O_PATH: %s", ERR(0));
    CHECK(reopen(0, fd644, O_RDONLY) == 0, "/proc/self/fd/N of the 0644 file, O_RDONLY");
    r = reopen(0, fd644, O_WRONLY);
    CHECK(r < 0 && errno == EACCES, "... O_WRONLY: %s", ERR(r));
    snprintf(fdname, sizeof fdname, "self/fd/%d", fd600);
    CHECK(readlink("/proc/self/cwd", (char[256]){0}, 256) > 0, "readlink of our own cwd");
    r = reopen(root_pid, fd644, O_RDONLY);
    CHECK(r < 0 && errno == EACCES, "root's /proc/PID/fd/N: %s", ERR(r));
    snprintf(fdname, sizeof fdname, "fd/%d", fd644);
    r = readlink_of(root_pid, fdname);
    CHECK(r < 0 && errno == EACCES, "readlink of root's /proc/PID/fd/N: %s", ERR(r));
    r = readlink_of(root_pid, "cwd");
    CHECK(r < 0 && errno == EACCES, "readlink of root's /proc/PID/cwd: %s", ERR(r));
    {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/cwd", (int)root_pid);
        r = open(path, O_RDONLY | O_DIRECTORY);
        CHECK(r < 0 && errno == EACCES, "open of root's /proc/PID/cwd: %s", ERR(r));
        if (r >= 0)
            close(r);
    }

    /* A child of ours: same ids, but not dumpable (we changed ids). */
    CHECK(prctl(PR_GET_DUMPABLE) == 0, "changing ids made us not dumpable");
    if (pipe(pipefd) < 0 || pipe(go) < 0)
        return 1;
    kid = xfork();
    if (kid == 0) {
        char x;
        if (dup2(fd644, 50) < 0)
            x = 'E';
        else
            x = (char)('0' + prctl(PR_GET_DUMPABLE));
        write(pipefd[1], &x, 1);
        read(go[0], &x, 1);
        prctl(PR_SET_DUMPABLE, 1);
        write(pipefd[1], "d", 1);
        read(go[0], &x, 1);
        _exit(0);
    }
    read(pipefd[0], &c, 1);
    CHECK(c == '0', "its child is not dumpable either: %c", c);
    r = reopen(kid, 50, O_RDONLY);
    CHECK(r < 0 && errno == EACCES, "the non-dumpable child's /proc/PID/fd/N: %s", ERR(r));
    write(go[1], "g", 1);
    read(pipefd[0], &c, 1);
    r = reopen(kid, 50, O_RDONLY);
    CHECK(r == 0, "after its PR_SET_DUMPABLE 1: %s", ERR(r));
    r = readlink_of(kid, "fd/50");
    CHECK(r == 0, "... and readlink: %s", ERR(r));
    write(go[1], "g", 1);
    wait_for(kid);
    return check_failures;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/a53emu-magiclink-XXXXXX", f600[128], f644[128];
    int fd600, fd644, st, r;
    pid_t kid;

    proc_init();
    if (argc > 2 && strcmp(argv[1], "exec-as-user") == 0) {
        if (become_user() < 0) {
            printf("become_user: %s\n", ename(errno));
            return 1;
        }
        execv(argv[2], argv + 2);
        printf("execve: %s\n", ename(errno));
        return 1;
    }
    if (geteuid() != 0) {
        printf("needs root\n");
        return 1;
    }
    CHECK(mkdtemp(dir) != NULL && chmod(dir, 0755) == 0, "a scratch directory");
    snprintf(f600, sizeof f600, "%s/f600", dir);
    snprintf(f644, sizeof f644, "%s/f644", dir);
    fd600 = open(f600, O_RDWR | O_CREAT | O_EXCL, 0600);
    fd644 = open(f644, O_RDWR | O_CREAT | O_EXCL, 0644);
    CHECK(fd600 >= 0 && fd644 >= 0 && write(fd600, "x", 1) == 1, "two files, 0600 and 0644");
    close(fd600);
    close(fd644);
    fd600 = open(f600, O_RDONLY);
    fd644 = open(f644, O_RDONLY);
    r = reopen(0, fd644, O_RDWR);
    CHECK(r == 0, "root: a read-only descriptor reopens O_RDWR: %s", ERR(r));
    r = open(f600, O_RDONLY);
    kid = xfork();
    if (kid == 0)
        _exit(as_user(getppid(), fd600, fd644));
    st = wait_for(kid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the uid-%d checks: %s", USER, status_str(st));
    close(r);
    close(fd600);
    close(fd644);
    unlink(f600);
    unlink(f644);
    rmdir(dir);
    return proc_finish("sys_magiclink");
}
