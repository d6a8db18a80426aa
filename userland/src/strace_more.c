/* strace_more.c - more structures strace decodes, for tests/test_strace.py.
 *
 * Built for the host (run under the real strace) and for AArch64 (run under
 * `a53emu run` with the same strace options); the traces are compared from
 * the marker call (write(-1, "strace-marker", 13)) on.  Like strace_calls.c,
 * every call is made through syscall(2) so both architectures make the same
 * call, and each result is one both kernels give (what may differ — ids,
 * pids, times, a newer kernel's extra capabilities — the test normalises,
 * saying why).
 *
 *   caps    capget/capset's header and data
 *   sched   sched_setattr/sched_getattr's struct sched_attr (48 bytes)
 *   ipc     shmctl/msgctl/semctl's IPC_STAT and IPC_SET buffers
 *   mmsg    sendmmsg/recvmmsg's vectors
 *   ioctl   terminal ioctls on a pipe (ENOTTY, their arguments decoded)
 *   inet    a TCP connection on 127.0.0.1 and an unbound UDP socket (-yy)
 *   unix    an AF_UNIX stream connection to a path, used before and after
 *           accept (-yy: the client's peer has an inode only once accepted)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MARKER "strace-marker"

/* struct sched_attr as of SCHED_ATTR_SIZE_VER0 (Linux 3.14, all 4.14 knows). */
struct sched_attr0 {
    unsigned int size, sched_policy;
    unsigned long long sched_flags;
    int sched_nice;
    unsigned int sched_priority;
    unsigned long long sched_runtime, sched_deadline, sched_period;
};

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "strace_more: %s failed (errno %d)\n", what, errno);
        exit(1);
    }
}

static void caps(void)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    check(syscall(SYS_capget, &h, d) == 0, "capget");
    /* keep (at most) CAP_CHOWN and CAP_KILL: a capset any process may do */
    unsigned int keep = 1u << CAP_CHOWN | 1u << CAP_KILL;
    d[0].effective &= keep;
    d[0].permitted &= keep;
    d[0].inheritable = 0;
    d[1].effective = d[1].permitted = d[1].inheritable = 0;
    check(syscall(SYS_capset, &h, d) == 0, "capset");
    syscall(SYS_capget, &h, d);
    h.version = 0;
    syscall(SYS_capget, &h, NULL);          /* 0, and the kernel's version written back */
    h.version = _LINUX_CAPABILITY_VERSION_1;
    syscall(SYS_capget, &h, d);
}

static void sched(void)
{
    struct sched_attr0 a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    syscall(SYS_sched_setattr, 0, &a, 0);
    a.sched_nice = 5;
    a.sched_policy = 3;                     /* SCHED_BATCH */
    syscall(SYS_sched_setattr, 0, &a, 0);
    memset(&a, 0, sizeof a);
    syscall(SYS_sched_getattr, 0, &a, sizeof a, 0);
    syscall(SYS_sched_getattr, 0, &a, 8, 0);    /* too small: EINVAL */
}

static void ipc(void)
{
    int shm = syscall(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    check(shm >= 0, "shmget");
    struct shmid_ds sd;
    syscall(SYS_shmctl, shm, IPC_STAT, &sd);
    sd.shm_perm.mode = 0640;
    syscall(SYS_shmctl, shm, IPC_SET, &sd);
    syscall(SYS_shmctl, shm, IPC_STAT, &sd);
    syscall(SYS_shmctl, shm, IPC_RMID, NULL);
    syscall(SYS_shmctl, shm, IPC_STAT, &sd);    /* gone: EINVAL */

    int q = syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600);
    check(q >= 0, "msgget");
    struct msqid_ds md;
    syscall(SYS_msgctl, q, IPC_STAT, &md);
    md.msg_qbytes = 8192;
    syscall(SYS_msgctl, q, IPC_SET, &md);
    syscall(SYS_msgctl, q, IPC_STAT, &md);
    syscall(SYS_msgctl, q, IPC_RMID, NULL);

    int sem = syscall(SYS_semget, IPC_PRIVATE, 2, IPC_CREAT | 0600);
    check(sem >= 0, "semget");
    struct semid_ds smd;
    syscall(SYS_semctl, sem, 0, IPC_STAT, &smd);
    smd.sem_perm.mode = 0604;
    syscall(SYS_semctl, sem, 0, IPC_SET, &smd);
    syscall(SYS_semctl, sem, 0, IPC_STAT, &smd);
    syscall(SYS_semctl, sem, 0, IPC_RMID, 0);
}

static void mmsg(void)
{
    int sv[2];
    check(syscall(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
    struct iovec out[3] = {{"ab", 2}, {"cde", 3}, {"0123456789abcdefghijklmnopqrstuvwxyz", 36}};
    struct mmsghdr mm[3];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 3; i++) {
        mm[i].msg_hdr.msg_iov = &out[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    syscall(SYS_sendmmsg, sv[0], mm, 3, MSG_DONTWAIT);
    char b[3][40];
    struct iovec in[3] = {{b[0], 8}, {b[1], 8}, {b[2], 40}};
    struct mmsghdr rm[3];
    memset(rm, 0, sizeof rm);
    for (int i = 0; i < 3; i++) {
        rm[i].msg_hdr.msg_iov = &in[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    syscall(SYS_recvmmsg, sv[1], rm, 2, MSG_DONTWAIT, NULL);
    struct timespec tmo = {1, 0};
    syscall(SYS_recvmmsg, sv[1], rm, 3, MSG_DONTWAIT, &tmo);
    syscall(SYS_recvmmsg, sv[1], rm, 3, MSG_DONTWAIT, NULL);   /* nothing left: EAGAIN */
    syscall(SYS_sendmmsg, -1, mm, 1, 0);                        /* EBADF */
    syscall(SYS_close, sv[0]);
    syscall(SYS_close, sv[1]);
}

static void ioctls(void)
{
    int p[2], n = 0, one = 1;
    check(syscall(SYS_pipe2, p, 0) == 0, "pipe2");
    syscall(SYS_write, p[1], "x", 1);
    syscall(SYS_ioctl, p[0], FIONREAD, &n);
    syscall(SYS_ioctl, p[0], FIONBIO, &one);
    syscall(SYS_ioctl, p[0], TCFLSH, TCIFLUSH);
    syscall(SYS_ioctl, p[0], TCXONC, TCOON);
    syscall(SYS_ioctl, p[0], TCSBRK, 1);
    syscall(SYS_ioctl, p[0], TIOCSCTTY, 0);
    syscall(SYS_ioctl, p[0], TIOCNOTTY);
    syscall(SYS_ioctl, p[0], TIOCEXCL);
    syscall(SYS_ioctl, p[0], TIOCOUTQ, &n);
    syscall(SYS_ioctl, p[0], TIOCGPTN, &n);
    n = 0;
    syscall(SYS_ioctl, p[0], TIOCSPTLCK, &n);
    syscall(SYS_ioctl, p[0], TCGETS, NULL);
    syscall(SYS_close, p[0]);
    syscall(SYS_close, p[1]);
}

static void inet(void)
{
    int l = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    check(l >= 0, "socket");
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(syscall(SYS_bind, l, &a, sizeof a) == 0, "bind");
    syscall(SYS_listen, l, 1);
    socklen_t n = sizeof a;
    syscall(SYS_getsockname, l, &a, &n);
    int c = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    check(syscall(SYS_connect, c, &a, sizeof a) == 0, "connect");
    int s = syscall(SYS_accept4, l, NULL, NULL, 0);
    check(s >= 0, "accept4");
    syscall(SYS_write, c, "y", 1);
    int u = syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    syscall(SYS_write, u, "", 0);
    syscall(SYS_close, u);
    syscall(SYS_close, syscall(SYS_socket, AF_INET6, SOCK_DGRAM, IPPROTO_UDP));
    syscall(SYS_close, syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0));   /* NETLINK_ROUTE */
    syscall(SYS_close, s);
    syscall(SYS_close, c);
    syscall(SYS_close, l);
}

/* The server's end of a connection is made at connect() (the embryo
 * queued on the listener, the client's unix_peer at once), but it has no
 * struct socket, so no inode, until accept() grafts it onto one: -yy shows
 * the client without a peer in between (sock_i_ino() is 0 for it). */
static void unix_stream(void)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, "strace-unix.sock");
    int l = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    check(syscall(SYS_bind, l, &a, sizeof a) == 0, "bind");
    syscall(SYS_listen, l, 1);
    int c = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    check(syscall(SYS_connect, c, &a, sizeof a) == 0, "connect");
    syscall(SYS_write, c, "x", 1);
    int s = syscall(SYS_accept4, l, NULL, NULL, 0);
    check(s >= 0, "accept4");
    syscall(SYS_write, c, "y", 1);
    char buf[2];
    syscall(SYS_read, s, buf, sizeof buf);
    syscall(SYS_close, s);
    syscall(SYS_close, c);
    syscall(SYS_close, l);
    syscall(SYS_unlinkat, AT_FDCWD, a.sun_path, 0);
}

int main(int argc, char **argv)
{
    syscall(SYS_write, -1, MARKER, sizeof MARKER - 1);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "caps") == 0)
            caps();
        else if (strcmp(argv[i], "sched") == 0)
            sched();
        else if (strcmp(argv[i], "ipc") == 0)
            ipc();
        else if (strcmp(argv[i], "mmsg") == 0)
            mmsg();
        else if (strcmp(argv[i], "ioctl") == 0)
            ioctls();
        else if (strcmp(argv[i], "inet") == 0)
            inet();
        else if (strcmp(argv[i], "unix") == 0)
            unix_stream();
    }
    syscall(SYS_exit_group, 0);
    return 0;
}
