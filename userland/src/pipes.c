/*
 * pipes.c - pipes between processes, and the descriptor calls around them
 * (fs/pipe.c, fs/file.c, fs/fcntl.c, fs/select.c in 4.14).
 *
 * Checks: pipe2 flags (O_CLOEXEC, O_NONBLOCK, EINVAL for others); an
 * empty non-blocking pipe reads EAGAIN; the capacity is 16 pages (65536
 * bytes, F_GETPIPE_SZ); a 1 MiB stream between two processes in odd-sized
 * writes arrives intact; PIPE_BUF atomicity with four writers; the end of
 * file comes only when the last writer has gone; writing with no reader:
 * SIGPIPE kills, ignored SIGPIPE gives EPIPE, a handler runs and write
 * gives EPIPE; wrong-direction EBADF, ESPIPE, FIONREAD, fstat S_IFIFO;
 * dup/dup2/dup3 (lowest free fd, dup2 onto itself, dup3 EINVAL, closing
 * the target); fcntl F_DUPFD/F_DUPFD_CLOEXEC/F_GETFD/F_SETFD/F_GETFL/
 * F_SETFL (the status flags belong to the open file, shared by dups; the fd
 * flags do not); poll/ppoll/pselect6 revents for every state of a pipe, a
 * blocking poll woken by another process, ppoll's mask letting a signal
 * in (EINTR).
 */
#define _GNU_SOURCE
#include "proc.h"

#include <limits.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>

/* poll_one() returns this when poll() itself fails */
#define POLL_FAILED ((short)-1)

static const char *revents_str(short r)
{
    static char buf[96];

    if (r == POLL_FAILED) {
        snprintf(buf, sizeof buf, "poll() failed: %s", errno_name(errno));
        return buf;
    }
    buf[0] = '\0';
    if (r & POLLIN) strcat(buf, "|POLLIN");
    if (r & POLLOUT) strcat(buf, "|POLLOUT");
    if (r & POLLERR) strcat(buf, "|POLLERR");
    if (r & POLLHUP) strcat(buf, "|POLLHUP");
    if (r & POLLNVAL) strcat(buf, "|POLLNVAL");
    if (r & ~(POLLIN | POLLOUT | POLLERR | POLLHUP | POLLNVAL)) strcat(buf, "|other");
    return buf[0] ? buf + 1 : "0";
}

static short poll_one(int fd, short events, int timeout)
{
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, timeout);
    return r < 0 ? POLL_FAILED : p.revents;
}

static void check_flags_and_capacity(void)
{
    int p[2];
    char buf[4096];

    printf("pipe2 and capacity:\n");
    CHECK(pipe2(p, O_CLOEXEC) == 0 && fcntl(p[0], F_GETFD) == FD_CLOEXEC &&
          fcntl(p[1], F_GETFD) == FD_CLOEXEC, "pipe2(O_CLOEXEC): both ends FD_CLOEXEC");
    CHECK((fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY &&
          (fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY,
          "F_GETFL: read end O_RDONLY, write end O_WRONLY");
    close(p[0]);
    close(p[1]);
    errno = 0;
    pipe2(p, O_APPEND);
    CHECK(errno == EINVAL, "pipe2(O_APPEND): %s", errno_name(errno));
    CHECK(pipe2(p, O_NONBLOCK) == 0 && (fcntl(p[0], F_GETFL) & O_NONBLOCK) &&
          (fcntl(p[1], F_GETFL) & O_NONBLOCK), "pipe2(O_NONBLOCK): both ends O_NONBLOCK");
    errno = 0;
    read(p[0], buf, 1);
    CHECK(errno == EAGAIN, "read of an empty non-blocking pipe: %s", errno_name(errno));
    long total = 0;
    ssize_t w;
    memset(buf, 'x', sizeof buf);
    while ((w = write(p[1], buf, sizeof buf)) > 0)
        total += w;
    CHECK(w < 0 && errno == EAGAIN, "writing 4 KiB blocks until it is full: %s",
          errno_name(errno));
    CHECK(total == 65536, "capacity: %ld bytes", total);
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 65536, "F_GETPIPE_SZ: %d", fcntl(p[0], F_GETPIPE_SZ));
    errno = 0;
    w = write(p[1], buf, 1);
    CHECK(w < 0 && errno == EAGAIN, "one more byte: %s", errno_name(errno));
    int avail = -1;
    ioctl(p[0], FIONREAD, &avail);
    CHECK(avail == 65536, "FIONREAD: %d", avail);
    CHECK(read(p[0], buf, 100) == 100, "read 100 bytes back");
    ioctl(p[0], FIONREAD, &avail);
    CHECK(avail == 65436, "FIONREAD now: %d", avail);
    close(p[0]);
    close(p[1]);
}

static void check_misc_errors(void)
{
    int p[2];
    char b = 'q';
    struct stat st;

    printf("wrong ends, lseek, fstat:\n");
    if (pipe(p) < 0)
        exit(1);
    errno = 0;
    write(p[0], &b, 1);
    CHECK(errno == EBADF, "write to the read end: %s", errno_name(errno));
    errno = 0;
    read(p[1], &b, 1);
    CHECK(errno == EBADF, "read from the write end: %s", errno_name(errno));
    errno = 0;
    lseek(p[0], 0, SEEK_SET);
    CHECK(errno == ESPIPE, "lseek: %s", errno_name(errno));
    errno = 0;
    pwrite(p[1], &b, 1, 0);
    CHECK(errno == ESPIPE, "pwrite: %s", errno_name(errno));
    CHECK(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "fstat: S_ISFIFO: %s",
          YESNO(S_ISFIFO(st.st_mode)));
    close(p[0]);
    close(p[1]);
}

static void check_stream(void)
{
    int p[2];
    const long total = 1 << 20;
    unsigned long sum = 0, want = 0;
    long got = 0;
    char buf[5000];

    printf("a 1 MiB stream between two processes:\n");
    if (pipe(p) < 0)
        exit(1);
    pid_t child = xfork();
    if (child == 0) {
        close(p[0]);
        char out[3001];
        long sent = 0;
        while (sent < total) {
            long n = total - sent < 3001 ? total - sent : 3001;
            for (long i = 0; i < n; i++)
                out[i] = (char)((sent + i) * 13);
            if (write_full(p[1], out, (size_t)n) < 0)
                _exit(1);
            sent += n;
        }
        _exit(0);
    }
    close(p[1]);
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            sum += (unsigned char)buf[i] * (unsigned long)((got + i) % 251 + 1);
        got += n;
    }
    for (long i = 0; i < total; i++)
        want += (unsigned char)(char)(i * 13) * (unsigned long)(i % 251 + 1);
    close(p[0]);
    int st = wait_for(child);
    CHECK(got == total && sum == want, "received %ld bytes, in order: %s", got,
          YESNO(sum == want));
    CHECK(n == 0, "then end of file (read returns 0): %s", YESNO(n == 0));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %s", status_str(st));
}

static void check_atomicity(void)
{
    int p[2];
    enum { WRITERS = 4, RECORDS = 64 };
    char rec[PIPE_BUF];
    int count[WRITERS] = {0}, torn = 0;

    printf("PIPE_BUF atomicity, %d writers:\n", WRITERS);
    if (pipe(p) < 0)
        exit(1);
    pid_t kids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        kids[w] = xfork();
        if (kids[w] == 0) {
            close(p[0]);
            memset(rec, 'A' + w, sizeof rec);
            for (int i = 0; i < RECORDS; i++)
                if (write(p[1], rec, sizeof rec) != (ssize_t)sizeof rec)
                    _exit(1);
            _exit(0);
        }
    }
    close(p[1]);
    while (read_full(p[0], rec, sizeof rec) == 0) {
        int w = rec[0] - 'A';
        for (size_t i = 1; i < sizeof rec; i++)
            if (rec[i] != rec[0])
                torn = 1;
        if (w >= 0 && w < WRITERS)
            count[w]++;
        else
            torn = 1;
    }
    close(p[0]);
    int all = 1;
    for (int w = 0; w < WRITERS; w++) {
        int st = wait_for(kids[w]);
        all &= WIFEXITED(st) && WEXITSTATUS(st) == 0 && count[w] == RECORDS;
    }
    CHECK(PIPE_BUF == 4096, "PIPE_BUF: %d", PIPE_BUF);
    CHECK(!torn, "no record of PIPE_BUF bytes was interleaved with another: %s",
          YESNO(!torn));
    CHECK(all, "%d records from each writer: %s", RECORDS, YESNO(all));
}

static void check_eof_last_writer(void)
{
    int p[2], go[2];
    char buf[4];

    printf("end of file when the last writer closes:\n");
    if (pipe(p) < 0 || pipe(go) < 0)
        exit(1);
    pid_t first = xfork();
    if (first == 0) {
        close(p[0]);
        write(p[1], "a", 1);
        _exit(0);
    }
    pid_t second = xfork();
    if (second == 0) {
        close(p[0]);
        close(go[1]);
        read(go[0], buf, 1);
        write(p[1], "b", 1);
        _exit(0);
    }
    close(p[1]);
    close(go[0]);
    ssize_t n = read(p[0], buf, 1);
    CHECK(n == 1 && buf[0] == 'a', "first writer's byte: %s", YESNO(n == 1 && buf[0] == 'a'));
    wait_for(first);
    short r = poll_one(p[0], POLLIN, 0);
    CHECK(r == 0, "first writer gone, one left: poll reports %s", revents_str(r));
    write(go[1], "g", 1);
    n = read(p[0], buf, 1);
    CHECK(n == 1 && buf[0] == 'b', "second writer's byte: %s", YESNO(n == 1 && buf[0] == 'b'));
    wait_for(second);
    r = poll_one(p[0], POLLIN, 0);
    CHECK(r == POLLHUP, "no writer left, pipe empty: poll reports %s", revents_str(r));
    n = read(p[0], buf, 1);
    CHECK(n == 0, "read: %zd (end of file)", n);
    close(p[0]);
    close(go[1]);
}

static volatile int sigpipe_handled;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipe_handled++;
}

static void check_epipe(void)
{
    int p[2];

    printf("writing with no reader:\n");
    if (pipe(p) < 0)
        exit(1);
    close(p[0]);
    pid_t child = xfork();
    if (child == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    int st = wait_for(child);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "default SIGPIPE: the writer is %s",
          status_str(st));
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    ssize_t w = write(p[1], "x", 1);
    CHECK(w < 0 && errno == EPIPE, "SIGPIPE ignored: write gives %s", errno_name(errno));
    short r = poll_one(p[1], POLLOUT, 0);
    CHECK(r == (POLLOUT | POLLERR), "poll on the write end: %s", revents_str(r));
    signal(SIGPIPE, on_sigpipe);
    errno = 0;
    w = write(p[1], "x", 1);
    CHECK(w < 0 && errno == EPIPE && sigpipe_handled == 1,
          "SIGPIPE handled: the handler ran (%d) and write gives %s", sigpipe_handled,
          errno_name(errno));
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);
}

static void check_dup(void)
{
    int p[2];
    char b;

    printf("dup, dup2, dup3, fcntl:\n");
    if (pipe(p) < 0)
        exit(1);
    int lowest = open("/dev/null", O_RDONLY);   /* the lowest free fd */
    close(lowest);
    int d = dup(p[1]);
    CHECK(d == lowest, "dup returns the lowest free fd: %s", YESNO(d == lowest));
    CHECK(fcntl(d, F_GETFD) == 0, "dup clears FD_CLOEXEC: %s", YESNO(fcntl(d, F_GETFD) == 0));
    CHECK(dup2(d, d) == d, "dup2(fd, fd) returns fd");
    errno = 0;
    dup3(d, d, 0);
    CHECK(errno == EINVAL, "dup3(fd, fd): %s", errno_name(errno));
    errno = 0;
    dup3(p[0], 50, O_NONBLOCK);
    CHECK(errno == EINVAL, "dup3 with a flag other than O_CLOEXEC: %s", errno_name(errno));
    errno = 0;
    dup2(999, 50);
    CHECK(errno == EBADF, "dup2 of a closed fd: %s", errno_name(errno));
    CHECK(dup3(p[1], 50, O_CLOEXEC) == 50 && fcntl(50, F_GETFD) == FD_CLOEXEC,
          "dup3(O_CLOEXEC) to fd 50: FD_CLOEXEC set");
    int nul = open("/dev/null", O_WRONLY);
    CHECK(dup2(p[1], nul) == nul, "dup2 onto an open fd closes it silently");
    write(d, "1", 1);
    write(50, "2", 1);
    write(nul, "3", 1);
    char got[4] = {0};
    read_full(p[0], got, 3);
    CHECK(strcmp(got, "123") == 0, "writes through three dups land in one pipe: %s", got);
    int hi = fcntl(p[0], F_DUPFD, 60);
    CHECK(hi == 60 && fcntl(hi, F_GETFD) == 0, "F_DUPFD(60): 60, no FD_CLOEXEC");
    int hic = fcntl(p[0], F_DUPFD_CLOEXEC, 60);
    CHECK(hic == 61 && fcntl(hic, F_GETFD) == FD_CLOEXEC,
          "F_DUPFD_CLOEXEC(60): 61, FD_CLOEXEC");
    fcntl(hi, F_SETFD, FD_CLOEXEC);
    CHECK(fcntl(hi, F_GETFD) == FD_CLOEXEC && fcntl(p[0], F_GETFD) == 0,
          "F_SETFD on one fd leaves its dup alone");
    fcntl(hi, F_SETFL, O_NONBLOCK);
    CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0,
          "F_SETFL(O_NONBLOCK) on a dup applies to the shared open file");
    errno = 0;
    read(p[0], &b, 1);
    CHECK(errno == EAGAIN, "so the original fd reads %s", errno_name(errno));
    fcntl(p[0], F_SETFL, 0);
    CHECK((fcntl(hi, F_GETFL) & O_NONBLOCK) == 0, "cleared again through the original");
    errno = 0;
    fcntl(p[0], F_DUPFD, -1);
    CHECK(errno == EINVAL, "F_DUPFD(-1): %s", errno_name(errno));
    errno = 0;
    fcntl(999, F_GETFD);
    CHECK(errno == EBADF, "F_GETFD on a closed fd: %s", errno_name(errno));
    close(d);
    close(50);
    close(nul);
    close(hi);
    close(hic);
    close(p[0]);
    close(p[1]);
}

static volatile int usr1_handled;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_handled++;
}

static void check_poll(void)
{
    int p[2];
    char b;
    short r;

    printf("poll, ppoll, pselect6:\n");
    if (pipe(p) < 0)
        exit(1);
    r = poll_one(p[0], POLLIN, 0);
    CHECK(r == 0, "empty pipe, read end: %s", revents_str(r));
    r = poll_one(p[1], POLLOUT, 0);
    CHECK(r == POLLOUT, "empty pipe, write end: %s", revents_str(r));
    write(p[1], "d", 1);
    r = poll_one(p[0], POLLIN | POLLOUT, 0);
    CHECK(r == POLLIN, "one byte, read end asked for POLLIN|POLLOUT: %s", revents_str(r));
    close(p[1]);
    r = poll_one(p[0], POLLIN, 0);
    CHECK(r == (POLLIN | POLLHUP), "one byte, writer closed: %s", revents_str(r));
    read(p[0], &b, 1);
    r = poll_one(p[0], POLLIN, 0);
    CHECK(r == POLLHUP, "empty, writer closed: %s", revents_str(r));
    r = poll_one(p[0], 0, 0);
    CHECK(r == POLLHUP, "empty, writer closed, no events asked: %s", revents_str(r));
    close(p[0]);
    r = poll_one(p[0], POLLIN, 0);
    CHECK(r == POLLNVAL, "closed fd: %s", revents_str(r));
    struct pollfd neg = {-1, POLLIN, 0x7};
    CHECK(poll(&neg, 1, 0) == 0 && neg.revents == 0, "negative fd: ignored, revents 0");

    /* a blocking poll woken by another process */
    if (pipe(p) < 0)
        exit(1);
    pid_t child = xfork();
    if (child == 0) {
        msleep(30);
        write(p[1], "w", 1);
        _exit(0);
    }
    struct pollfd pf = {p[0], POLLIN, 0};
    int n = poll(&pf, 1, -1);
    CHECK(n == 1 && pf.revents == POLLIN, "poll(-1) until another process writes: %s",
          revents_str(pf.revents));
    wait_for(child);
    read(p[0], &b, 1);

    /* pselect6 */
    fd_set rd;
    struct timespec zero = {0, 0}, ten_ms = {0, 10 * 1000000L};
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    n = pselect(p[0] + 1, &rd, NULL, NULL, &zero, NULL);
    CHECK(n == 0 && !FD_ISSET(p[0], &rd), "pselect, empty pipe, zero timeout: %d", n);
    FD_SET(p[0], &rd);
    n = pselect(p[0] + 1, &rd, NULL, NULL, &ten_ms, NULL);
    CHECK(n == 0, "pselect, empty pipe, 10 ms timeout: %d", n);
    write(p[1], "s", 1);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    fd_set wr;
    FD_ZERO(&wr);
    FD_SET(p[1], &wr);
    n = pselect(p[1] + 1, &rd, &wr, NULL, NULL, NULL);
    CHECK(n == 2 && FD_ISSET(p[0], &rd) && FD_ISSET(p[1], &wr),
          "pselect with data: both ends ready, returns %d", n);
    read(p[0], &b, 1);
    /* a closed fd inside the fd table: select ignores fds beyond the table
     * (core_sys_select clips n to max_fds), so an arbitrary big one won't do */
    int closed = dup(p[0]);
    close(closed);
    FD_ZERO(&rd);
    FD_SET(closed, &rd);
    errno = 0;
    n = pselect(closed + 1, &rd, NULL, NULL, &zero, NULL);
    CHECK(n < 0 && errno == EBADF, "pselect on a closed fd: %s", errno_name(errno));

    /* ppoll with a mask that lets a blocked signal in */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, old, during;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t me = getpid();
    child = xfork();
    if (child == 0) {
        kill(me, SIGUSR1);          /* stays pending: blocked in the parent */
        _exit(0);
    }
    wait_for(child);
    CHECK(usr1_handled == 0, "SIGUSR1 blocked: not handled yet");
    sigemptyset(&during);
    pf.fd = p[0];
    pf.events = POLLIN;
    errno = 0;
    n = ppoll(&pf, 1, NULL, &during);
    CHECK(n < 0 && errno == EINTR && usr1_handled == 1,
          "ppoll with an empty mask: the pending signal is handled, ppoll gives %s",
          errno_name(errno));
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1), "the mask is restored after ppoll: %s",
          YESNO(sigismember(&now, SIGUSR1)));
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    proc_init();
    check_flags_and_capacity();
    check_misc_errors();
    check_stream();
    check_atomicity();
    check_eof_last_writer();
    check_epipe();
    check_dup();
    check_poll();
    return proc_finish("pipes");
}
