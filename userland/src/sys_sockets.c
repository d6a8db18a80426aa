/*
 * sys_sockets.c - AF_UNIX and loopback AF_INET/AF_INET6 sockets
 * (net/socket.c, net/unix/af_unix.c, net/core/scm.c, net/ipv4 in 4.14).
 * Issue 9 part 6.
 *
 * Checks: socket()/socketpair() errors (EINVAL flags, EAFNOSUPPORT,
 * ESOCKTNOSUPPORT, EPROTONOSUPPORT, EOPNOTSUPP), SOCK_CLOEXEC/NONBLOCK,
 * S_ISSOCK; stream, datagram and seqpacket socketpairs: read/write,
 * send/recv with MSG_PEEK/MSG_DONTWAIT/MSG_TRUNC/MSG_WAITALL, message
 * boundaries, shutdown (EOF, EPIPE + SIGPIPE, MSG_NOSIGNAL); SCM_RIGHTS
 * passing a pipe end and an eventfd to a forked child and back, MSG_CTRUNC,
 * EBADF in the rights; ENOTSOCK/EBADF/EFAULT; getsockopt/setsockopt
 * (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_PEERCRED, SO_RCVTIMEO
 * giving EAGAIN, EINVAL/ENOPROTOOPT); AF_UNIX path names (relative to the
 * working directory, EADDRINUSE, ENOENT, ECONNREFUSED, getsockname,
 * accept sleeping for a child's connect, datagrams with the sender's
 * name); abstract names (autobind, EADDRINUSE, ECONNREFUSED); AF_INET on
 * 127.0.0.1: bind to port 0, listen, a child connects, accept, data both
 * ways, ECONNREFUSED, EADDRINUSE.
 *
 * `sys_sockets net` prints what the --net policy answers instead (not
 * compared with the host: tests/test_sys_events.py checks it).
 */
#define _GNU_SOURCE
#include "events.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

static volatile sig_atomic_t pipe_signals;

static void on_sigpipe(int sig)
{
    (void)sig;
    pipe_signals++;
}

static short poll_mask(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static void check_create(void)
{
    int sv[2];
    struct stat st;

    printf("socket, socketpair\n");
    CHECK(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0) < 0 && errno == EINVAL,
          "a flag other than SOCK_CLOEXEC/SOCK_NONBLOCK: %s", ename(errno));
    CHECK(socket(4321, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT, "family 4321: %s",
          ename(errno));
    CHECK(socket(AF_UNIX, 4 /* SOCK_RDM */, 0) < 0 && errno == ESOCKTNOSUPPORT,
          "AF_UNIX SOCK_RDM: %s", ename(errno));
    CHECK(socket(AF_UNIX, SOCK_STREAM, 7) < 0 && errno == EPROTONOSUPPORT,
          "AF_UNIX protocol 7: %s", ename(errno));
    CHECK(socketpair(AF_INET, SOCK_STREAM, 0, sv) < 0 && errno == EOPNOTSUPP,
          "socketpair(AF_INET): %s", ename(errno));
    CHECK(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, BADPTR) < 0 && errno == EFAULT,
          "socketpair into a bad pointer: %s", ename(errno));
    int s = socket(AF_UNIX, SOCK_RAW, 0);
    int type = 0;
    socklen_t len = sizeof type;
    CHECK(s >= 0 && getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM,
          "AF_UNIX SOCK_RAW is a datagram socket (SO_TYPE %d)", type);
    close(s);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0 &&
          fcntl(sv[0], F_GETFD) == FD_CLOEXEC && (fcntl(sv[1], F_GETFL) & O_NONBLOCK) &&
          (fcntl(sv[0], F_GETFL) & O_ACCMODE) == O_RDWR, "SOCK_CLOEXEC|SOCK_NONBLOCK, O_RDWR");
    CHECK(fstat(sv[0], &st) == 0 && S_ISSOCK(st.st_mode), "fstat: S_ISSOCK");
    CHECK(lseek(sv[0], 0, SEEK_SET) < 0 && errno == ESPIPE, "lseek: %s", ename(errno));
    close(sv[0]);
    close(sv[1]);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int on = 1, avail = -1;
    char c;
    CHECK(ioctl(sv[0], FIONBIO, &on) == 0 && (fcntl(sv[0], F_GETFL) & O_NONBLOCK) &&
          read(sv[0], &c, 1) < 0 && errno == EAGAIN, "ioctl(FIONBIO): non-blocking, EAGAIN");
    CHECK(ioctl(sv[0], FIOCLEX) == 0 && fcntl(sv[0], F_GETFD) == FD_CLOEXEC &&
          ioctl(sv[0], FIONCLEX) == 0 && fcntl(sv[0], F_GETFD) == 0, "FIOCLEX, FIONCLEX");
    write(sv[1], "abc", 3);
    CHECK(ioctl(sv[0], FIONREAD, &avail) == 0 && avail == 3, "FIONREAD: 3");
    close(sv[0]);
    close(sv[1]);
}

static void check_stream(void)
{
    int sv[2], p[2];
    char buf[64];

    printf("stream socketpair\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    CHECK(write(sv[0], "hello", 5) == 5 && read(sv[1], buf, sizeof buf) == 5 &&
          memcmp(buf, "hello", 5) == 0, "write/read");
    CHECK(send(sv[1], "abc", 3, 0) == 3 && recv(sv[0], buf, 2, MSG_PEEK) == 2 &&
          recv(sv[0], buf, sizeof buf, 0) == 3 && memcmp(buf, "abc", 3) == 0,
          "send/recv, MSG_PEEK leaves the data");
    CHECK(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == EAGAIN,
          "MSG_DONTWAIT on a blocking socket: %s", ename(errno));
    CHECK(send(sv[0], "ab", 2, 0) == 2 && send(sv[0], "cd", 2, 0) == 2 &&
          recv(sv[1], buf, sizeof buf, 0) == 4, "a stream has no boundaries");
    pipe(p);
    CHECK(send(p[1], "x", 1, 0) < 0 && errno == ENOTSOCK, "send on a pipe: %s", ename(errno));
    CHECK(send(-1, "x", 1, 0) < 0 && errno == EBADF, "send on -1: %s", ename(errno));
    CHECK(send(sv[0], BADPTR, 4, 0) < 0 && errno == EFAULT, "send from a bad pointer: %s",
          ename(errno));
    close(p[0]);
    close(p[1]);

    /* MSG_WAITALL: the reader waits for all 6 bytes, sent by a child in two
     * parts.  The child exits only once the reader has them: its SIGCHLD
     * would otherwise race the second part, and under strace (a ptrace stop
     * even for an ignored signal) cut the wait short with 3 bytes. */
    int done[2];
    pipe(done);
    pid_t pid = xfork();
    if (pid == 0) {
        close(done[1]);
        send(sv[1], "abc", 3, 0);
        msleep(50);
        send(sv[1], "def", 3, 0);
        read(done[0], buf, 1);
        _exit(0);
    }
    close(done[0]);
    CHECK(recv(sv[0], buf, 6, MSG_WAITALL) == 6 && memcmp(buf, "abcdef", 6) == 0,
          "MSG_WAITALL collects both parts of a child's sends");
    close(done[1]);
    int status;
    waitpid(pid, &status, 0);

    /* shutdown */
    CHECK(shutdown(sv[0], 7) < 0 && errno == EINVAL, "shutdown how 7: %s", ename(errno));
    CHECK(shutdown(sv[1], SHUT_WR) == 0 && read(sv[0], buf, sizeof buf) == 0,
          "SHUT_WR: the peer reads end of file");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);
    pipe_signals = 0;
    CHECK(write(sv[1], "x", 1) < 0 && errno == EPIPE && pipe_signals == 1,
          "write after SHUT_WR: EPIPE and SIGPIPE");
    CHECK(send(sv[1], "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE && pipe_signals == 1,
          "send with MSG_NOSIGNAL: EPIPE, no signal");
    signal(SIGPIPE, SIG_DFL);
    close(sv[0]);
    close(sv[1]);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    signal(SIGPIPE, SIG_IGN);
    CHECK(write(sv[0], "x", 1) < 0 && errno == EPIPE, "the peer closed: EPIPE");
    CHECK(shutdown(sv[0], SHUT_RD) == 0 || errno == ENOTCONN, "shutdown after the peer went");
    signal(SIGPIPE, SIG_DFL);
    close(sv[0]);
}

static void check_messages(void)
{
    int sv[2];
    char buf[64];
    struct iovec iov = {buf, 4};
    struct msghdr msg;

    printf("datagram and seqpacket socketpairs\n");
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    send(sv[0], "one", 3, 0);
    send(sv[0], "twotwo", 6, 0);
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 3 && recv(sv[1], buf, sizeof buf, 0) == 6,
          "datagrams keep their boundaries");
    send(sv[0], "0123456789", 10, 0);
    CHECK(recv(sv[1], buf, 4, MSG_TRUNC) == 10, "MSG_TRUNC returns the full length 10");
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == EAGAIN,
          "nothing left: %s", ename(errno));
    struct iovec wv[2] = {{"head", 4}, {"tail", 4}};
    char r1[3], r2[8];
    struct iovec rv[2] = {{r1, 3}, {r2, 8}};
    CHECK(writev(sv[0], wv, 2) == 8 && readv(sv[1], rv, 2) == 8 && memcmp(r1, "hea", 3) == 0 &&
          memcmp(r2, "dtail", 5) == 0, "writev/readv: one datagram over the iovecs");
    send(sv[0], "0123456789", 10, 0);
    recv(sv[1], buf, 4, 0);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == EAGAIN,
          "the rest of a datagram is gone: %s", ename(errno));
    close(sv[0]);
    close(sv[1]);

    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
    send(sv[0], "0123456789", 10, 0);
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    CHECK(recvmsg(sv[1], &msg, 0) == 4 && (msg.msg_flags & MSG_TRUNC),
          "seqpacket: a short read sets MSG_TRUNC in msg_flags");
    struct iovec two[2] = {{buf, 3}, {buf + 10, 3}};
    send(sv[1], "abcdef", 6, 0);
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = two;
    msg.msg_iovlen = 2;
    CHECK(recvmsg(sv[0], &msg, 0) == 6 && memcmp(buf, "abc", 3) == 0 &&
          memcmp(buf + 10, "def", 3) == 0 && msg.msg_flags == 0, "recvmsg scatters over iovecs");
    close(sv[1]);
    CHECK(recv(sv[0], buf, sizeof buf, 0) == 0, "the peer closed: 0");
    close(sv[0]);

    /* sendmmsg / recvmmsg */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    struct mmsghdr mm[4];
    struct iovec iv[4];
    char in[4][16];
    const char *words[3] = {"a", "bb", "ccc"};
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 3; i++) {
        iv[i].iov_base = (void *)words[i];
        iv[i].iov_len = strlen(words[i]);
        mm[i].msg_hdr.msg_iov = &iv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK(sendmmsg(sv[0], mm, 3, 0) == 3 && mm[0].msg_len == 1 && mm[2].msg_len == 3,
          "sendmmsg: three datagrams, msg_len 1..3");
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 4; i++) {
        iv[i].iov_base = in[i];
        iv[i].iov_len = sizeof in[i];
        mm[i].msg_hdr.msg_iov = &iv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK(recvmmsg(sv[1], mm, 4, MSG_WAITFORONE, NULL) == 3 && mm[0].msg_len == 1 &&
          mm[1].msg_len == 2 && mm[2].msg_len == 3 && memcmp(in[2], "ccc", 3) == 0,
          "recvmmsg with MSG_WAITFORONE: the three, then no waiting for a fourth");
    CHECK(recvmmsg(sv[1], mm, 4, MSG_DONTWAIT, NULL) < 0 && errno == EAGAIN,
          "recvmmsg with nothing there: %s", ename(errno));
    CHECK(sendmmsg(-1, mm, 1, 0) < 0 && errno == EBADF, "sendmmsg on -1: %s", ename(errno));
    close(sv[0]);
    close(sv[1]);
}

/* sendmsg with SCM_RIGHTS of n descriptors. */
static int send_fds(int sock, const int *fds, int n, const char *data)
{
    char control[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = {(void *)data, strlen(data)};
    struct msghdr msg;

    memset(&msg, 0, sizeof msg);
    memset(control, 0, sizeof control);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    return (int)sendmsg(sock, &msg, 0);
}

/* recvmsg into room for `room` descriptors; returns how many came. */
static int recv_fds(int sock, int *fds, int room, char *data, int *flags)
{
    char control[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = {data, 16};
    struct msghdr msg;

    memset(&msg, 0, sizeof msg);
    memset(data, 0, 17);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = room ? (socklen_t)CMSG_SPACE(sizeof(int) * room) : 0;
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
        return -1;
    *flags = msg.msg_flags;
    int n = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds, CMSG_DATA(c), sizeof(int) * n);
        }
    return n;
}

static void check_scm_rights(void)
{
    int sv[2], p[2], got[4], flags = 0, status;
    char data[32];

    printf("SCM_RIGHTS\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    int efd = eventfd(0, 0);
    pid_t pid = xfork();
    if (pid == 0) {
        /* The child gets a pipe's write end and an eventfd, uses both. */
        close(p[1]);
        int n = recv_fds(sv[1], got, 4, data, &flags);
        if (n != 2 || strcmp(data, "take") != 0)
            _exit(10 + n);
        if (write(got[0], "via passed pipe", 15) != 15)
            _exit(20);
        uint64_t v = 5;
        if (write(got[1], &v, 8) != 8)
            _exit(21);
        if (fcntl(got[0], F_GETFD) != FD_CLOEXEC)
            _exit(22);
        /* ... and sends the eventfd back. */
        if (send_fds(sv[1], &got[1], 1, "back") < 0)
            _exit(23);
        _exit(0);
    }
    int pass[2] = {p[1], efd};
    CHECK(send_fds(sv[0], pass, 2, "take") == 4, "sendmsg with two descriptors");
    close(p[1]);
    char buf[32] = {0};
    CHECK(read(p[0], buf, sizeof buf) == 15 && strcmp(buf, "via passed pipe") == 0,
          "the child wrote through the passed pipe end");
    uint64_t v = 0;
    CHECK(read(efd, &v, 8) == 8 && v == 5, "and added 5 to the passed eventfd");
    CHECK(recv_fds(sv[0], got, 4, data, &flags) == 1 && strcmp(data, "back") == 0,
          "the child sent the eventfd back");
    struct stat a, b;
    fstat(got[0], &a);
    fstat(efd, &b);
    CHECK(got[0] != efd && a.st_ino == b.st_ino && (a.st_mode & S_IFMT) == 0,
          "a new descriptor of the same anon inode");
    v = 3;
    write(got[0], &v, 8);
    CHECK(read(efd, &v, 8) == 8 && v == 3, "the same eventfd: written through one, read through "
          "the other");
    close(got[0]);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child checked its side (status %d)",
          WEXITSTATUS(status));
    /* MSG_PEEK: the descriptors come with the peek, and again with the read. */
    int e2 = eventfd(0, 0), peeked[4], again[4];
    send_fds(sv[0], &e2, 1, "peek");
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec piov = {data, 16};
    struct msghdr pm;
    memset(&pm, 0, sizeof pm);
    pm.msg_iov = &piov;
    pm.msg_iovlen = 1;
    pm.msg_control = control;
    pm.msg_controllen = sizeof control;
    int pn = 0;
    if (recvmsg(sv[1], &pm, MSG_PEEK) == 4 && CMSG_FIRSTHDR(&pm)) {
        memcpy(peeked, CMSG_DATA(CMSG_FIRSTHDR(&pm)), sizeof(int));
        pn = 1;
    }
    CHECK(pn == 1 && recv_fds(sv[1], again, 4, data, &flags) == 1 && peeked[0] != again[0],
          "MSG_PEEK installs the passed fd; the read installs it again");
    v = 7;
    CHECK(write(peeked[0], &v, 8) == 8 && read(again[0], &v, 8) == 8 && v == 7,
          "both are the sender's eventfd");
    close(peeked[0]);
    close(again[0]);
    close(e2);
    int bad[1] = {99};
    CHECK(send_fds(sv[0], bad, 1, "x") < 0 && errno == EBADF, "a bad fd in SCM_RIGHTS: %s",
          ename(errno));
    int three[3] = {p[0], efd, p[0]};
    send_fds(sv[0], three, 3, "3");
    flags = 0;
    int n = recv_fds(sv[1], got, 1, data, &flags);
    CHECK(n == 2 && (flags & MSG_CTRUNC) && (flags & MSG_CMSG_CLOEXEC),
          "room for two of three (CMSG_SPACE(4) is 24): two arrive, MSG_CTRUNC; msg_flags "
          "keeps MSG_CMSG_CLOEXEC");
    for (int i = 0; i < n; i++)
        close(got[i]);
    /* A message never received: closing its socket lets the passed pipe end go. */
    int q[2], pair[2];
    pipe(q);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, pair);
    send_fds(pair[0], &q[1], 1, "lost");
    close(q[1]);
    CHECK(poll_mask(q[0]) == 0, "the write end is in flight: no end of file yet");
    close(pair[1]);
    CHECK(poll_mask(q[0]) == POLLHUP && read(q[0], buf, 1) == 0,
          "the receiver closed unread: the pipe's last writer is gone (EOF)");
    close(pair[0]);
    close(q[0]);
    close(p[0]);
    close(efd);
    close(sv[0]);
    close(sv[1]);
}

static void check_options(void)
{
    int sv[2], v = 0;
    socklen_t len = sizeof v;
    char buf[8];

    printf("socket options\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 && v == AF_UNIX &&
          len == sizeof v, "SO_DOMAIN: AF_UNIX");
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 && v == 0, "SO_PROTOCOL 0");
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &len) == 0 && v == 0, "SO_ERROR 0");
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 && v > 0, "SO_RCVBUF > 0");
    struct ucred cred;
    len = sizeof cred;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
          cred.pid == getpid() && cred.uid == getuid() && cred.gid == getgid(),
          "SO_PEERCRED of a socketpair: our pid, uid, gid");
    len = sizeof v;
    CHECK(getsockopt(sv[0], SOL_SOCKET, 12345, &v, &len) < 0 && errno == ENOPROTOOPT,
          "an unknown option: %s", ename(errno));
    int negative = -1;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, (socklen_t *)&negative) < 0 &&
          errno == EINVAL, "a negative optlen: %s", ename(errno));
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, BADPTR) < 0 && errno == EFAULT,
          "a bad optlen pointer: %s", ename(errno));
    struct timeval tv = {0, 100000};
    CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, 4) < 0 && errno == EINVAL,
          "SO_RCVTIMEO with a short timeval: %s", ename(errno));
    CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO 100 ms");
    struct timeval back = {0, 0};
    len = sizeof back;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &len) == 0 && back.tv_sec == 0 &&
          back.tv_usec == 100000, "read back: 100000 us (whole jiffies at any HZ)");
    CHECK(recv(sv[0], buf, sizeof buf, 0) < 0 && errno == EAGAIN,
          "a recv with nothing to read times out: %s", ename(errno));
    send(sv[1], "abc", 3, 0);
    CHECK(recv(sv[0], buf, 6, MSG_WAITALL) == 3,
          "MSG_WAITALL with SO_RCVTIMEO: the timeout returns what came (3 of 6)");
    /* A signal during a wait with a timeout: EINTR even with SA_RESTART. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    pid_t parent = getpid(), pid = xfork();
    if (pid == 0) {
        msleep(50);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    CHECK(recv(sv[0], buf, sizeof buf, 0) < 0 && errno == EINTR,
          "a signal ends a recv with SO_RCVTIMEO: %s (not restarted)", ename(errno));
    int status;
    waitpid(pid, &status, 0);
    signal(SIGUSR1, SIG_DFL);
    v = 1;
    CHECK(setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v) == 0 &&
          getsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, &len) == 0 && v == 1,
          "SO_KEEPALIVE set and read back");
    close(sv[0]);
    close(sv[1]);
}

static socklen_t un_addr(struct sockaddr_un *a, const char *path, int abstract)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (abstract) {
        memcpy(a->sun_path + 1, path, strlen(path));
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
    }
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static void check_unix_names(void)
{
    struct sockaddr_un a, got;
    socklen_t len, alen;
    char buf[32];
    int status;

    printf("AF_UNIX names\n");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    alen = un_addr(&a, "sock", 0);
    CHECK(bind(s, (struct sockaddr *)&a, 1) < 0 && errno == EINVAL, "addrlen 1: %s",
          ename(errno));
    CHECK(bind(s, (struct sockaddr *)&a, alen) == 0, "bind \"sock\" (relative to the cwd)");
    CHECK(bind(s, (struct sockaddr *)&a, alen) < 0 && errno == EADDRINUSE,
          "bind twice (the name exists: checked before the socket's own name): %s",
          ename(errno));
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(s2, (struct sockaddr *)&a, alen) < 0 && errno == EADDRINUSE,
          "another socket on the same path: %s", ename(errno));
    struct stat st;
    CHECK(stat("sock", &st) == 0 && S_ISSOCK(st.st_mode), "the name is a socket file");
    len = sizeof got;
    CHECK(getsockname(s, (struct sockaddr *)&got, &len) == 0 && len == alen &&
          strcmp(got.sun_path, "sock") == 0, "getsockname: \"sock\", length %d", (int)len);
    CHECK(connect(s2, (struct sockaddr *)&a, alen) < 0 && errno == ECONNREFUSED,
          "connect before listen: %s", ename(errno));
    struct sockaddr_un none;
    socklen_t nlen = un_addr(&none, "no-such-sock", 0);
    CHECK(connect(s2, (struct sockaddr *)&none, nlen) < 0 && errno == ENOENT,
          "connect to a missing path: %s", ename(errno));
    CHECK(listen(s, 4) == 0, "listen");
    pid_t pid = xfork();
    if (pid == 0) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        msleep(50);
        if (connect(c, (struct sockaddr *)&a, alen) != 0)
            _exit(1);
        struct ucred cr;
        socklen_t cl = sizeof cr;
        if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 || cr.pid != getppid())
            _exit(2);
        write(c, "from child", 10);
        _exit(0);
    }
    len = sizeof got;
    int c = accept(s, (struct sockaddr *)&got, &len);
    CHECK(c >= 0 && len == sizeof(sa_family_t), "accept sleeps for the child's connect; "
          "the peer is unnamed (length %d)", (int)len);
    struct ucred cr;
    socklen_t cl = sizeof cr;
    CHECK(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0 && cr.pid == pid,
          "SO_PEERCRED of the accepted socket: the child's pid");
    memset(buf, 0, sizeof buf);
    CHECK(read(c, buf, sizeof buf) == 10 && strcmp(buf, "from child") == 0, "its data");
    len = sizeof got;
    CHECK(getpeername(s, (struct sockaddr *)&got, &len) < 0 && errno == ENOTCONN,
          "getpeername of a listener: %s", ename(errno));
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the child connected and saw our pid in SO_PEERCRED (status %d)", WEXITSTATUS(status));
    int nb = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    close(c);
    CHECK(accept4(s, NULL, NULL, 0x1234) < 0 && errno == EINVAL, "accept4 flags 0x1234: %s",
          ename(errno));
    fcntl(s, F_SETFL, O_NONBLOCK);
    CHECK(accept(s, NULL, NULL) < 0 && errno == EAGAIN, "accept with none waiting: %s",
          ename(errno));
    close(nb);
    close(s);
    close(s2);
    unlink("sock");

    /* Datagrams between two named sockets: the sender's name comes along. */
    int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a1, a2;
    socklen_t l1 = un_addr(&a1, "d1", 0), l2 = un_addr(&a2, "d2", 0);
    bind(d1, (struct sockaddr *)&a1, l1);
    bind(d2, (struct sockaddr *)&a2, l2);
    CHECK(sendto(d1, "dg", 2, 0, (struct sockaddr *)&a2, l2) == 2, "sendto a path");
    len = sizeof got;
    memset(&got, 0, sizeof got);
    CHECK(recvfrom(d2, buf, sizeof buf, 0, (struct sockaddr *)&got, &len) == 2 &&
          len == l1 && strcmp(got.sun_path, "d1") == 0, "recvfrom names the sender \"d1\"");
    CHECK(send(d1, "x", 1, 0) < 0 && errno == ENOTCONN, "send unconnected: %s", ename(errno));
    close(d1);
    close(d2);
    unlink("d1");
    unlink("d2");

    /* Abstract names. */
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    char name[64];
    snprintf(name, sizeof name, "a53emu-sys-sockets-%d", (int)getpid());
    alen = un_addr(&a, name, 1);
    CHECK(bind(s, (struct sockaddr *)&a, alen) == 0 && listen(s, 1) == 0, "bind an abstract name");
    len = sizeof got;
    CHECK(getsockname(s, (struct sockaddr *)&got, &len) == 0 && len == alen &&
          got.sun_path[0] == 0 && memcmp(got.sun_path + 1, name, strlen(name)) == 0,
          "getsockname gives it back");
    s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(s2, (struct sockaddr *)&a, alen) < 0 && errno == EADDRINUSE, "twice: %s",
          ename(errno));
    CHECK(connect(s2, (struct sockaddr *)&a, alen) == 0, "connect to it");
    c = accept(s, NULL, NULL);
    CHECK(c >= 0 && write(s2, "abs", 3) == 3 && read(c, buf, sizeof buf) == 3, "data over it");
    len = sizeof got;
    CHECK(getpeername(s2, (struct sockaddr *)&got, &len) == 0 && len == alen &&
          memcmp(got.sun_path + 1, name, strlen(name)) == 0, "getpeername: the abstract name");
    close(c);
    close(s2);
    close(s);
    s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(s2, (struct sockaddr *)&a, alen) < 0 && errno == ECONNREFUSED,
          "the name went with its socket: %s", ename(errno));
    struct sockaddr_un fam = {AF_UNIX, {0}};
    CHECK(bind(s2, (struct sockaddr *)&fam, sizeof(sa_family_t)) == 0, "autobind");
    len = sizeof got;
    CHECK(getsockname(s2, (struct sockaddr *)&got, &len) == 0 && len == sizeof(sa_family_t) + 6
          && got.sun_path[0] == 0, "an abstract name of 5 hex digits (length %d)", (int)len);
    close(s2);
}

static void check_inet(void)
{
    struct sockaddr_in a, got;
    socklen_t len = sizeof a;
    char buf[16];
    int status;

    printf("AF_INET on 127.0.0.1\n");
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a - 1) < 0 && errno == EINVAL,
          "addrlen 15: %s", ename(errno));
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
          getsockname(s, (struct sockaddr *)&a, &len) == 0 && a.sin_port != 0 &&
          a.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "bind port 0: a port is chosen");
    int s2 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(bind(s2, (struct sockaddr *)&a, sizeof a) < 0 && errno == EADDRINUSE,
          "the same port again: %s", ename(errno));
    CHECK(connect(s2, (struct sockaddr *)&a, sizeof a) < 0 && errno == ECONNREFUSED,
          "connect before listen: %s", ename(errno));
    close(s2);
    listen(s, 4);
    pid_t pid = xfork();
    if (pid == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        msleep(30);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
            _exit(1);
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        write(c, "ping", 4);
        char r[4];
        if (read(c, r, 4) != 4 || memcmp(r, "pong", 4) != 0)
            _exit(2);
        _exit(0);
    }
    len = sizeof got;
    int c = accept(s, (struct sockaddr *)&got, &len);
    CHECK(c >= 0 && len == sizeof got && got.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
          "accept: the peer is 127.0.0.1");
    CHECK(read(c, buf, 4) == 4 && memcmp(buf, "ping", 4) == 0 && write(c, "pong", 4) == 4,
          "ping, pong");
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's side (status %d)",
          WEXITSTATUS(status));
    close(c);
    close(s);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = a;
    ua.sin_port = 0;
    bind(u, (struct sockaddr *)&ua, sizeof ua);
    len = sizeof ua;
    getsockname(u, (struct sockaddr *)&ua, &len);
    CHECK(sendto(u, "udp", 3, 0, (struct sockaddr *)&ua, sizeof ua) == 3 &&
          recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&got, &len) == 3 &&
          got.sin_port == ua.sin_port, "UDP to itself; recvfrom names the sender");
    close(u);
}

/* The --net policy's answers (run by the test under each mode). */
static int net_policy(void)
{
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    printf("socket(AF_INET): %s\n", s < 0 ? ename(errno) : "ok");
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    printf("socket(AF_INET6): %s\n", s6 < 0 ? ename(errno) : "ok");
    if (s < 0)
        return 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(9);
    inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
    printf("bind 192.0.2.1: %s\n", FAILS(bind(s, (struct sockaddr *)&a, sizeof a)));
    int n = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    printf("connect 192.0.2.1: %s\n", FAILS(connect(n, (struct sockaddr *)&a, sizeof a)));
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = 0;
    printf("bind 0.0.0.0: %s\n", FAILS(bind(s, (struct sockaddr *)&a, sizeof a)));
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    printf("getsockname: %s\n", a.sin_addr.s_addr == htonl(INADDR_ANY) ? "0.0.0.0" : "other");
    if (s6 >= 0) {
        struct sockaddr_in6 b;
        memset(&b, 0, sizeof b);
        b.sin6_family = AF_INET6;
        b.sin6_addr = in6addr_loopback;
        printf("bind ::1: %s\n", FAILS(bind(s6, (struct sockaddr *)&b, sizeof b)));
        inet_pton(AF_INET6, "2001:db8::1", &b.sin6_addr);
        b.sin6_port = htons(9);
        printf("sendto 2001:db8::1: %s\n",
               FAILS(sendto(s6, "x", 1, 0, (struct sockaddr *)&b, sizeof b)));
        /* A dual-stack wildcard listener takes an IPv4 loopback client. */
        int l6 = socket(AF_INET6, SOCK_STREAM, 0);
        memset(&b, 0, sizeof b);
        b.sin6_family = AF_INET6;
        b.sin6_addr = in6addr_any;
        socklen_t blen = sizeof b;
        if (bind(l6, (struct sockaddr *)&b, sizeof b) == 0 && listen(l6, 1) == 0 &&
            getsockname(l6, (struct sockaddr *)&b, &blen) == 0) {
            int c4 = socket(AF_INET, SOCK_STREAM, 0);
            memset(&a, 0, sizeof a);
            a.sin_family = AF_INET;
            a.sin_port = b.sin6_port;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            printf("127.0.0.1 to a [::] listener: %s\n",
                   FAILS(connect(c4, (struct sockaddr *)&a, sizeof a)));
            printf("its name: %s\n", IN6_IS_ADDR_UNSPECIFIED(&b.sin6_addr) ? "::" : "other");
            close(c4);
        }
        close(l6);
    }
    return 0;
}

/* `serve`: wait (poll, then accept) for a connection from the host's side
 * on 127.0.0.1, echo one message back. */
static int serve(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    char buf[64];

    int s = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1) ||
        getsockname(s, (struct sockaddr *)&a, &len))
        return 1;
    printf("port %d\n", ntohs(a.sin_port));
    struct pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, -1) != 1)
        return 2;
    int c = accept(s, NULL, NULL);
    ssize_t n = read(c, buf, sizeof buf);
    if (n <= 0 || write(c, buf, (size_t)n) != n)
        return 3;
    printf("echoed %d bytes\n", (int)n);
    return 0;
}

int main(int argc, char **argv)
{
    proc_init();
    if (argc > 1 && strcmp(argv[1], "net") == 0)
        return net_policy();
    if (argc > 1 && strcmp(argv[1], "serve") == 0)
        return serve();
    check_create();
    check_stream();
    check_messages();
    check_scm_rights();
    check_options();
    check_unix_names();
    check_inet();
    return proc_finish("sys_sockets");
}
