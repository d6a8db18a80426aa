/*
 * sys_scm.c - whose credentials an AF_UNIX peer sees (issue 9):
 * SCM_CREDENTIALS (implicit with SO_PASSCRED on either end, explicit with
 * scm_check_creds()'s EINVAL/EPERM/ESRCH) and SO_PEERCRED, from tasks
 * with different real and effective ids.
 *
 * Run as root (children reach other ids with setresuid()).  Self-checking;
 * the output names no pid or id that depends on the machine, only facts
 * ("pid is the sender's: yes"), so the host build prints the same lines.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define U1 54321
#define U2 54322
#define G1 600
#define NO_SUCH_PID 0x7ffffff0

static int passcred(int fd, int on)
{
    return setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
}

/* Send one byte with an optional SCM_CREDENTIALS (len: its cmsg_len). */
static int send_creds(int fd, const struct ucred *uc, size_t len, int rights_fd)
{
    union { char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
            struct cmsghdr align; } u;
    struct iovec iov = {"x", 1};
    struct msghdr m = {0};
    struct cmsghdr *c;
    size_t used = 0;

    memset(&u, 0, sizeof u);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    c = CMSG_FIRSTHDR(&m);
    if (uc) {
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_CREDENTIALS;
        c->cmsg_len = len;
        memcpy(CMSG_DATA(c), uc, sizeof *uc);
        used += CMSG_SPACE(sizeof *uc);
        c = (struct cmsghdr *)(u.buf + used);
    }
    if (rights_fd >= 0) {
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &rights_fd, sizeof(int));
        used += CMSG_SPACE(sizeof(int));
    }
    m.msg_controllen = used;
    if (!used)
        m.msg_control = NULL;
    return (int)sendmsg(fd, &m, 0);
}

struct got {
    int n, has_creds, creds_first, rights, flags;
    struct ucred uc;
};

static struct got recv_creds(int fd)
{
    union { char buf[256]; struct cmsghdr align; } u;
    char byte;
    struct iovec iov = {&byte, 1};
    struct msghdr m = {0};
    struct cmsghdr *c;
    struct got g = {0};
    int first = 1;

    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    g.n = (int)recvmsg(fd, &m, 0);
    g.flags = m.msg_flags;
    for (c = CMSG_FIRSTHDR(&m); g.n >= 0 && c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            g.has_creds = 1;
            g.creds_first = first;
            memcpy(&g.uc, CMSG_DATA(c), sizeof g.uc);
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int rfd;
            memcpy(&rfd, CMSG_DATA(c), sizeof rfd);
            g.rights++;
            close(rfd);
        }
        first = 0;
    }
    return g;
}

static void part(const char *title, void (*fn)(void))
{
    pid_t pid;
    int status;

    printf("%s\n", title);
    pid = xfork();
    if (pid == 0) {
        check_failures = 0;
        fn();
        fflush(stdout);
        _exit(check_failures ? 1 : 0);
    }
    status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child %s", title, status_str(status));
}

/* A child with real uid U1 and effective U2 (real gid G1, effective 0)
 * sends on a socketpair made by its root parent. */
static void implicit(void)
{
    int sv[2], on = 0;
    socklen_t len = sizeof on;
    struct got g;
    pid_t me = getpid(), child;
    struct ucred pc;

    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair(SOCK_DGRAM)");
    CHECK(passcred(sv[1], 1) == 0 && getsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, &len) == 0 &&
          on == 1, "SO_PASSCRED on the receiver: getsockopt says 1");
    child = xfork();
    if (child == 0) {
        if (setresgid(G1, 0, 0) < 0 || setresuid(U1, U2, 0) < 0)
            _exit(2);
        _exit(send_creds(sv[0], NULL, 0, -1) == 1 ? 0 : 3);
    }
    CHECK(WEXITSTATUS(wait_for(child)) == 0, "the child sent a byte as uid %d/%d", U1, U2);
    g = recv_creds(sv[1]);
    CHECK(g.n == 1 && g.has_creds, "received with SCM_CREDENTIALS");
    CHECK(g.uc.pid == child, "pid is the sender's: %s", YESNO(g.uc.pid == child));
    CHECK(g.uc.uid == U1 && g.uc.gid == G1, "uid/gid are its real ids: %u/%u", g.uc.uid, g.uc.gid);
    CHECK(send_creds(sv[0], NULL, 0, -1) == 1, "we send one");
    g = recv_creds(sv[1]);
    CHECK(g.has_creds && g.uc.pid == me && g.uc.uid == 0 && g.uc.gid == 0,
          "ours: pid is ours: %s, uid/gid %u/%u", YESNO(g.uc.pid == me), g.uc.uid, g.uc.gid);
    len = sizeof pc;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &pc, &len) == 0 && pc.pid == me &&
          pc.uid == 0 && pc.gid == 0, "SO_PEERCRED of a socketpair: its maker");
    CHECK(passcred(sv[1], 0) == 0 && send_creds(sv[0], NULL, 0, -1) == 1, "SO_PASSCRED off");
    g = recv_creds(sv[1]);
    CHECK(g.n == 1 && !g.has_creds, "no SCM_CREDENTIALS: %s", YESNO(!g.has_creds));
    CHECK(send_creds(sv[0], NULL, 0, -1) == 1 && passcred(sv[1], 1) == 0,
          "a message queued before the receiver turns SO_PASSCRED on");
    g = recv_creds(sv[1]);
    CHECK(g.has_creds && g.uc.pid == 0 && g.uc.uid == 65534 && g.uc.gid == 65534,
          "it carries none: pid %d uid %u gid %u", g.uc.pid, g.uc.uid, g.uc.gid);
    CHECK(passcred(sv[1], 0) == 0 && passcred(sv[0], 1) == 0 && send_creds(sv[0], NULL, 0, -1) == 1,
          "SO_PASSCRED on the sender only");
    CHECK(passcred(sv[1], 1) == 0, "then on the receiver");
    g = recv_creds(sv[1]);
    CHECK(g.has_creds && g.uc.pid == me, "the sender's flag attached them: %s",
          YESNO(g.has_creds && g.uc.pid == me));
    CHECK(send_creds(sv[0], NULL, 0, sv[0]) == 1, "with SCM_RIGHTS too");
    g = recv_creds(sv[1]);
    CHECK(g.has_creds && g.creds_first && g.rights == 1 && !(g.flags & MSG_CTRUNC),
          "SCM_CREDENTIALS first, then SCM_RIGHTS");
    close(sv[0]);
    close(sv[1]);
}

static void explicit_user(void)
{
    int sv[2];
    struct ucred uc;
    struct got g;

    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0 && passcred(sv[1], 1) == 0, "a socketpair");
    CHECK(setresgid(G1, G1, G1) == 0 && setresuid(U1, U1, U1) == 0, "become uid %d", U1);
    uc.pid = getpid(); uc.uid = U1; uc.gid = G1;
    CHECK(send_creds(sv[0], &uc, CMSG_LEN(sizeof uc), -1) == 1, "our own: sent");
    g = recv_creds(sv[1]);
    CHECK(g.has_creds && g.uc.pid == getpid() && g.uc.uid == U1 && g.uc.gid == G1, "and received");
    uc.uid = 0;
    CHECK(send_creds(sv[0], &uc, CMSG_LEN(sizeof uc), -1) < 0 && errno == EPERM,
          "uid 0: %s", errno_name(errno));
    uc.uid = U1; uc.gid = 0;
    CHECK(send_creds(sv[0], &uc, CMSG_LEN(sizeof uc), -1) < 0 && errno == EPERM,
          "gid 0: %s", errno_name(errno));
    uc.gid = G1; uc.pid = getppid();
    CHECK(send_creds(sv[0], &uc, CMSG_LEN(sizeof uc), -1) < 0 && errno == EPERM,
          "another pid: %s", errno_name(errno));
    uc.pid = getpid(); uc.uid = (uid_t)-1;
    CHECK(send_creds(sv[0], &uc, CMSG_LEN(sizeof uc), -1) < 0 && errno == EINVAL,
          "uid -1: %s", errno_name(errno));
    uc.uid = U1;
    CHECK(send_creds(sv[0], &uc, CMSG_LEN(sizeof uc) - 4, -1) < 0 && errno == EINVAL,
          "a short cmsg_len: %s", errno_name(errno));
    close(sv[0]);
    close(sv[1]);
}

static void explicit_root(void)
{
    int sv[2];
    struct ucred uc;
    struct got g;
    pid_t parent = getppid();

    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0 && passcred(sv[1], 1) == 0, "a socketpair");
    uc.pid = parent; uc.uid = 12345; uc.gid = 23456;
    CHECK(send_creds(sv[0], &uc, CMSG_LEN(sizeof uc), -1) == 1,
          "root: another pid and any ids (CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID)");
    g = recv_creds(sv[1]);
    CHECK(g.has_creds && g.uc.pid == parent && g.uc.uid == 12345 && g.uc.gid == 23456,
          "received as given");
    uc.pid = NO_SUCH_PID;
    CHECK(send_creds(sv[0], &uc, CMSG_LEN(sizeof uc), -1) < 0 && errno == ESRCH,
          "a pid that does not exist: %s", errno_name(errno));
    close(sv[0]);
    close(sv[1]);
}

/* A stream connection: the listener is a child with uid U1 (effective
 * U2); SO_PEERCRED on each end names the other. */
static void stream_peercred(void)
{
    struct sockaddr_un a = {AF_UNIX, ""};
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + 14;
    int ready[2], fd;
    pid_t child;
    struct ucred pc;
    socklen_t len = sizeof pc;
    char c;
    struct got g;

    memcpy(a.sun_path + 1, "a53emu-sys_scm", 14);
    CHECK(pipe(ready) == 0, "a pipe");
    child = xfork();
    if (child == 0) {
        int l = socket(AF_UNIX, SOCK_STREAM, 0), conn;
        struct ucred cc;
        socklen_t clen = sizeof cc;
        if (setresgid(G1, G1, 0) < 0 || setresuid(U1, U2, 0) < 0)
            _exit(2);
        if (l < 0 || bind(l, (struct sockaddr *)&a, alen) < 0 || listen(l, 1) < 0)
            _exit(3);
        if (write(ready[1], "r", 1) != 1)
            _exit(4);
        conn = accept(l, NULL, NULL);
        if (conn < 0 || getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cc, &clen) < 0)
            _exit(5);
        if (cc.pid != getppid() || cc.uid != 0 || cc.gid != 0)
            _exit(6);
        if (passcred(conn, 1) < 0 || send_creds(conn, NULL, 0, -1) != 1)
            _exit(7);
        if (read(conn, &c, 1) != 1)
            _exit(8);
        _exit(0);
    }
    CHECK(read(ready[0], &c, 1) == 1, "the listener is ready");
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(fd, (struct sockaddr *)&a, alen) == 0 && passcred(fd, 1) == 0,
          "connect to its abstract name, SO_PASSCRED");
    CHECK(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &pc, &len) == 0, "SO_PEERCRED");
    CHECK(pc.pid == child, "the peer's pid is the listener's: %s", YESNO(pc.pid == child));
    CHECK(pc.uid == U2 && pc.gid == G1, "its effective ids: %u/%u", pc.uid, pc.gid);
    g = recv_creds(fd);
    CHECK(g.has_creds && g.uc.pid == child && g.uc.uid == U1 && g.uc.gid == G1,
          "a stream message from it: SCM_CREDENTIALS with its pid and real ids (%u/%u)",
          g.uc.uid, g.uc.gid);
    CHECK(write(fd, "k", 1) == 1, "answer");
    CHECK(WEXITSTATUS(wait_for(child)) == 0, "the listener saw our pid and ids 0/0 in SO_PEERCRED");
    close(fd);
    close(ready[0]);
    close(ready[1]);
}

/* A datagram socket bound to a path name receives from a child that
 * connected to it through a relative name. */
static void path_dgram(void)
{
    struct sockaddr_un a = {AF_UNIX, "sys_scm.sock"};
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    pid_t child;
    struct got g;

    unlink(a.sun_path);
    CHECK(r >= 0 && bind(r, (struct sockaddr *)&a, sizeof a) == 0 && passcred(r, 1) == 0 &&
          chmod(a.sun_path, 0777) == 0, "a datagram socket at a path (0777), SO_PASSCRED");
    child = xfork();
    if (child == 0) {
        int s = socket(AF_UNIX, SOCK_DGRAM, 0);
        if (setresgid(G1, G1, G1) < 0 || setresuid(U1, U1, U1) < 0)
            _exit(2);
        _exit(s >= 0 && sendto(s, "y", 1, 0, (struct sockaddr *)&a, sizeof a) == 1 ? 0 : 3);
    }
    CHECK(WEXITSTATUS(wait_for(child)) == 0, "a child (uid %d) sent to it by name", U1);
    fcntl(r, F_SETFL, O_NONBLOCK);      /* never hang: the message is there or not */
    g = recv_creds(r);
    CHECK(g.has_creds && g.uc.pid == child && g.uc.uid == U1 && g.uc.gid == G1,
          "received with its pid and ids: %s", YESNO(g.has_creds && g.uc.pid == child));
    close(r);
    unlink(a.sun_path);
}

int main(void)
{
    proc_init();
    if (geteuid() != 0) {
        printf("sys_scm: run me as root (a53emu: --root)\n");
        return 2;
    }
    part("SCM_CREDENTIALS with SO_PASSCRED", implicit);
    part("explicit SCM_CREDENTIALS as a user", explicit_user);
    part("explicit SCM_CREDENTIALS as root", explicit_root);
    part("SO_PEERCRED and a stream", stream_peercred);
    part("a datagram to a path name", path_dgram);
    printf("%s\n", check_failures ? "some checks FAILED" : "all checks passed");
    return check_failures ? 1 : 0;
}
