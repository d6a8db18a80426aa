/*
 * sys_ipc.c - System V semaphores and message queues.  Issue 9 part 5.
 *
 * Semaphores: semget's size rules, every semctl command, semop applied all
 * or none, IPC_NOWAIT, a sleeper woken by another process's semop, GETNCNT
 * and GETZCNT counting sleepers, semtimedop's timeout, EIDRM for a sleeper
 * when the set is removed, SEM_UNDO undone at exit and reset by SETVAL.
 * Message queues: msgsnd/msgrcv with every msgtyp rule, MSG_NOERROR and
 * E2BIG, IPC_NOWAIT, a receiver woken by a sender in another process, a
 * sender blocked by a full queue, EIDRM, and msgctl.  Keys come from the
 * pid, every object is removed before the end, nothing printed depends on
 * an id, a key, a pid or a time.
 */
#define _GNU_SOURCE
#include "ipc.h"

#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

static key_t key_base;

static int semop1(int id, int num, int op, int flg)
{
    struct sembuf sb = {(unsigned short)num, (short)op, (short)flg};
    return semop(id, &sb, 1);
}

/* The line of /proc/sysvipc/NAME whose id column is id, after checking the
 * header; "" if there is none. */
static const char *sysvipc_line(const char *name, const char *header, int id)
{
    static char text[65536];
    char path[64];
    int len = 0, n;

    snprintf(path, sizeof(path), "/proc/sysvipc/%s", name);
    int fd = open(path, O_RDONLY);
    while (fd >= 0 && (n = (int)read(fd, text + len, sizeof(text) - 1 - len)) > 0)
        len += n;
    text[len] = '\0';
    if (fd >= 0)
        close(fd);
    if (strncmp(text, header, strlen(header)) != 0)
        return "bad header";
    for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        int k, i;
        if (sscanf(line + 1, "%d %d", &k, &i) == 2 && i == id) {
            char *end = strchr(line + 1, '\n');
            if (end)
                *end = '\0';
            return line + 1;
        }
    }
    return "";
}

static void check_semget(void)
{
    printf("semget and semctl:\n");
    EXPECT(semget(IPC_PRIVATE, -1, 0600), EINVAL, "nsems -1");
    EXPECT(semget(IPC_PRIVATE, 32001, 0600), EINVAL, "nsems above SEMMSL");
    EXPECT(semget(IPC_PRIVATE, 0, 0600), EINVAL, "nsems 0 for a new set");
    EXPECT(semget(key_base, 1, 0600), ENOENT, "an unknown key");
    int id = semget(key_base, 3, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(id >= 0, "a set of 3: %s", id >= 0 ? "ok" : ipc_errno(errno));
    EXPECT(semget(key_base, 3, IPC_CREAT | IPC_EXCL | 0600), EEXIST, "again with IPC_EXCL");
    EXPECT(semget(key_base, 4, 0), EINVAL, "the key with more semaphores than the set has");
    CHECK(semget(key_base, 0, 0) == id, "the key with nsems 0 finds it: %s", YESNO(semget(key_base, 0, 0) == id));

    union semun arg;
    unsigned short vals[3] = {0, 0, 0};
    arg.array = vals;
    EXPECT(semctl(id, 0, GETALL, arg), 0, "GETALL");
    CHECK(vals[0] == 0 && vals[1] == 0 && vals[2] == 0, "a new set is all zero: %s", YESNO(vals[2] == 0));
    arg.val = 5;
    EXPECT(semctl(id, 1, SETVAL, arg), 0, "SETVAL 5");
    CHECK(semctl(id, 1, GETVAL) == 5, "GETVAL: %d", semctl(id, 1, GETVAL));
    CHECK(semctl(id, 1, GETPID) == getpid(), "GETPID is the setter: %s", YESNO(semctl(id, 1, GETPID) == getpid()));
    arg.val = 32768;
    EXPECT(semctl(id, 1, SETVAL, arg), ERANGE, "SETVAL 32768 (above SEMVMX)");
    arg.val = -1;
    EXPECT(semctl(id, 1, SETVAL, arg), ERANGE, "SETVAL -1");
    arg.val = 1;
    EXPECT(semctl(id, 3, SETVAL, arg), EINVAL, "SETVAL of semnum 3 in a set of 3");
    EXPECT(semctl(id, -1, GETVAL), EINVAL, "GETVAL of semnum -1");
    unsigned short set[3] = {1, 2, 3}, big[3] = {1, 40000, 3};
    arg.array = big;
    EXPECT(semctl(id, 0, SETALL, arg), ERANGE, "SETALL with a value above SEMVMX");
    arg.array = set;
    EXPECT(semctl(id, 0, SETALL, arg), 0, "SETALL 1 2 3");
    arg.array = vals;
    semctl(id, 0, GETALL, arg);
    CHECK(vals[0] == 1 && vals[1] == 2 && vals[2] == 3, "GETALL: %d %d %d", vals[0], vals[1], vals[2]);
    arg.array = (unsigned short *)8;
    EXPECT(semctl(id, 0, GETALL, arg), EFAULT, "GETALL into a bad pointer");

    struct semid_ds ds;
    arg.buf = &ds;
    EXPECT(semctl(id, 0, IPC_STAT, arg), 0, "IPC_STAT");
    CHECK(ds.sem_nsems == 3 && (ds.sem_perm.mode & 0777) == 0600 && ds.sem_perm.uid == geteuid(),
          "sem_nsems 3, mode 0600, uid: %s", YESNO(ds.sem_nsems == 3));
    ds.sem_perm.mode = 0640;
    EXPECT(semctl(id, 0, IPC_SET, arg), 0, "IPC_SET mode 0640");
    semctl(id, 0, IPC_STAT, arg);
    CHECK((ds.sem_perm.mode & 0777) == 0640, "mode now %o", ds.sem_perm.mode & 0777);
    struct seminfo si;
    arg.__buf = &si;
    CHECK(semctl(id, 0, IPC_INFO, arg) >= 0 && si.semmsl == 32000 && si.semopm == 500 && si.semvmx == 32767,
          "IPC_INFO: semmsl 32000, semopm 500, semvmx 32767: %s", YESNO(si.semmsl == 32000));
    CHECK(semctl(id, 0, SEM_INFO, arg) >= 0 && si.semusz >= 1 && si.semaem >= 3,
          "SEM_INFO counts our set and its semaphores: %s", YESNO(si.semusz >= 1));
    arg.buf = &ds;
    CHECK(semctl(id % 32768, 0, SEM_STAT, arg) == id, "SEM_STAT takes an index, returns the id: %s",
          YESNO(semctl(id % 32768, 0, SEM_STAT, arg) == id));
    const char *line = sysvipc_line("sem", "       key      semid perms      nsems   uid   gid  cuid  cgid"
                                    "      otime      ctime\n", id);
    int k, i, nsems;
    unsigned perms;
    CHECK(sscanf(line, "%d %d %o %d", &k, &i, &perms, &nsems) == 4 && k == key_base && perms == 0640 &&
          nsems == 3, "/proc/sysvipc/sem: header, and our set's key, perms 640, nsems 3: %s",
          YESNO(k == key_base && perms == 0640 && nsems == 3));
    EXPECT(semctl(id, 0, 99), EINVAL, "an unknown cmd");
    EXPECT(semctl(-1, 0, GETVAL), EINVAL, "semid -1");
    EXPECT(semctl(id, 0, IPC_RMID), 0, "IPC_RMID");
    EXPECT(semctl(id, 0, GETVAL), EINVAL, "GETVAL of the removed set");
}

static void check_semop(void)
{
    printf("semop:\n");
    int id = semget(IPC_PRIVATE, 2, 0600);
    struct sembuf two[2] = {{0, 1, 0}, {1, -1, IPC_NOWAIT}};
    EXPECT(semop(id, two, 0), EINVAL, "nsops 0");
    EXPECT(semop(id, two, 501), E2BIG, "nsops above SEMOPM");
    EXPECT(semop(id, (struct sembuf *)8, 1), EFAULT, "sops at a bad pointer");
    EXPECT(semop1(id, 2, 1, 0), EFBIG, "sem_num past the set");
    EXPECT(semop(-1, two, 1), EINVAL, "semid -1");
    EXPECT(semop(id, two, 2), EAGAIN, "+1 on sem 0 and -1 on sem 1 (zero, IPC_NOWAIT)");
    CHECK(semctl(id, 0, GETVAL) == 0, "all or none: sem 0 is still %d", semctl(id, 0, GETVAL));
    EXPECT(semop1(id, 0, 32767, 0), 0, "+32767");
    EXPECT(semop1(id, 0, 1, 0), ERANGE, "+1 more (above SEMVMX)");
    EXPECT(semop1(id, 0, 0, IPC_NOWAIT), EAGAIN, "wait-for-zero on a nonzero sem, IPC_NOWAIT");
    EXPECT(semop1(id, 1, 0, 0), 0, "wait-for-zero on a zero sem");
    union semun arg;
    arg.val = 0;
    semctl(id, 0, SETVAL, arg);

    struct timespec ts = {0, 20 * 1000 * 1000};
    struct sembuf dec = {0, -1, 0};
    EXPECT(semtimedop(id, &dec, 1, &ts), EAGAIN, "semtimedop -1 on a zero sem times out");
    struct timespec bad = {0, 1000000000};
    EXPECT(semtimedop(id, &dec, 1, &bad), EINVAL, "a timeout with tv_nsec 1e9");

    /* A sleeper in another process, counted by GETNCNT, woken by our +1. */
    pid_t child = xfork();
    if (child == 0)
        _exit(semop1(id, 0, -1, 0) == 0 ? 0 : 1);
    int n = 0;
    for (int i = 0; i < 2000 && (n = semctl(id, 0, GETNCNT)) == 0; i++)
        msleep(1);
    CHECK(n == 1, "GETNCNT counts the child asleep in semop(-1): %d", n);
    CHECK(semctl(id, 0, GETZCNT) == 0, "GETZCNT: %d", semctl(id, 0, GETZCNT));
    semop1(id, 0, 1, 0);
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && semctl(id, 0, GETVAL) == 0,
          "our +1 woke it and it took the unit: %s", YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));

    /* A wait-for-zero sleeper, counted by GETZCNT. */
    semop1(id, 1, 1, 0);
    child = xfork();
    if (child == 0)
        _exit(semop1(id, 1, 0, 0) == 0 ? 0 : 1);
    for (int i = 0; i < 2000 && (n = semctl(id, 1, GETZCNT)) == 0; i++)
        msleep(1);
    CHECK(n == 1, "GETZCNT counts the child waiting for zero: %d", n);
    semop1(id, 1, -1, 0);
    st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reaching zero woke it: %s", YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));

    /* IPC_RMID wakes a sleeper with EIDRM. */
    child = xfork();
    if (child == 0) {
        int r = semop1(id, 0, -1, 0);
        _exit(r == -1 && errno == EIDRM ? 0 : 1);
    }
    for (int i = 0; i < 2000 && semctl(id, 0, GETNCNT) == 0; i++)
        msleep(1);
    semctl(id, 0, IPC_RMID);
    st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "IPC_RMID wakes a sleeper with EIDRM: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));
}

static void check_sem_undo(void)
{
    printf("SEM_UNDO:\n");
    int id = semget(IPC_PRIVATE, 2, 0600);
    union semun arg;
    arg.val = 3;
    semctl(id, 0, SETVAL, arg);
    pid_t child = xfork();
    if (child == 0) {
        semop1(id, 0, -2, SEM_UNDO);
        semop1(id, 1, 4, SEM_UNDO);
        semop1(id, 1, 1, 0);            /* not undone */
        _exit(semctl(id, 0, GETVAL) == 1 && semctl(id, 1, GETVAL) == 5 ? 0 : 1);
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's operations took effect: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));
    CHECK(semctl(id, 0, GETVAL) == 3 && semctl(id, 1, GETVAL) == 1,
          "its exit undid the SEM_UNDO ones: %d %d", semctl(id, 0, GETVAL), semctl(id, 1, GETVAL));

    child = xfork();
    if (child == 0) {
        semop1(id, 0, 2, SEM_UNDO);
        arg.val = 10;
        semctl(id, 0, SETVAL, arg);     /* SETVAL clears the adjustment */
        _exit(0);
    }
    wait_for(child);
    CHECK(semctl(id, 0, GETVAL) == 10, "SETVAL cleared the undo: %d", semctl(id, 0, GETVAL));

    child = xfork();
    if (child == 0) {
        semop1(id, 1, 1, SEM_UNDO);     /* undo will subtract 1 */
        _exit(0);
    }
    wait_for(child);
    CHECK(semctl(id, 1, GETVAL) == 1, "an undo is applied at once at exit: %d", semctl(id, 1, GETVAL));
    semctl(id, 0, IPC_RMID);
}

struct msgbuf_s {
    long mtype;
    char mtext[64];
};

static int snd(int id, long type, const char *text, int flg)
{
    struct msgbuf_s m;
    m.mtype = type;
    strcpy(m.mtext, text);
    return msgsnd(id, &m, strlen(text), flg);
}

static const char *rcv(int id, long type, size_t size, int flg)
{
    static struct msgbuf_s m;
    static char out[80];
    memset(&m, 0, sizeof(m));
    ssize_t n = msgrcv(id, &m, size, type, flg);
    if (n < 0)
        return ipc_errno(errno);
    snprintf(out, sizeof(out), "%ld:%.*s", m.mtype, (int)n, m.mtext);
    return out;
}

static void check_msg(void)
{
    printf("message queues:\n");
    EXPECT(msgget(key_base + 1, 0600), ENOENT, "msgget of an unknown key");
    int id = msgget(key_base + 1, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(id >= 0, "msgget IPC_CREAT|IPC_EXCL: %s", id >= 0 ? "ok" : ipc_errno(errno));
    EXPECT(msgget(key_base + 1, IPC_CREAT | IPC_EXCL | 0600), EEXIST, "again");
    EXPECT(snd(id, 0, "x", 0), EINVAL, "mtype 0");
    EXPECT(msgsnd(id, (void *)8, 1, 0), EFAULT, "a message at a bad pointer");
    struct msgbuf_s m = {1, ""};
    EXPECT(msgsnd(id, &m, 8193, 0), EINVAL, "a message above MSGMAX");
    EXPECT(snd(-1, 1, "x", 0), EINVAL, "msqid -1");
    snd(id, 3, "three", 0);
    snd(id, 1, "one", 0);
    snd(id, 2, "two", 0);
    snd(id, 1, "uno", 0);
    struct msqid_ds ds;
    msgctl(id, IPC_STAT, &ds);
    CHECK(ds.msg_qnum == 4 && ds.msg_cbytes == 14 && ds.msg_qbytes == 16384 && ds.msg_lspid == getpid(),
          "IPC_STAT: 4 messages, 14 bytes, qbytes 16384, lspid: %s", YESNO(ds.msg_qnum == 4));
    const char *line = sysvipc_line("msg", "       key      msqid perms      cbytes       qnum lspid lrpid"
                                    "   uid   gid  cuid  cgid      stime      rtime      ctime\n", id);
    int k, i, lspid;
    unsigned perms;
    unsigned long cbytes, qnum;
    CHECK(sscanf(line, "%d %d %o %lu %lu %d", &k, &i, &perms, &cbytes, &qnum, &lspid) == 6 &&
          k == key_base + 1 && perms == 0600 && cbytes == 14 && qnum == 4 && lspid == getpid(),
          "/proc/sysvipc/msg: header, and our queue's key, perms, 14 bytes in 4 messages, lspid: %s",
          YESNO(k == key_base + 1 && cbytes == 14 && qnum == 4));
    CHECK(!strcmp(rcv(id, 2, 64, 0), "2:two"), "msgtyp 2: the first of type 2: %s", "2:two");
    CHECK(!strcmp(rcv(id, 1, 64, MSG_EXCEPT), "3:three"), "msgtyp 1 MSG_EXCEPT: the first not 1: %s", "3:three");
    snd(id, 5, "five", 0);
    CHECK(!strcmp(rcv(id, -4, 64, 0), "1:one"), "msgtyp -4: the first of the lowest type <= 4: %s", "1:one");
    CHECK(!strcmp(rcv(id, 0, 2, 0), "E2BIG"), "a message longer than msgsz: %s", rcv(id, 0, 2, 0));
    CHECK(!strcmp(rcv(id, 0, 2, MSG_NOERROR), "1:un"), "MSG_NOERROR truncates it: %s", "1:un");
    CHECK(!strcmp(rcv(id, 7, 64, IPC_NOWAIT), "ENOMSG"), "no message of type 7, IPC_NOWAIT: %s", "ENOMSG");
    CHECK(!strcmp(rcv(id, 0, 64, 0), "5:five"), "msgtyp 0: the first: %s", "5:five");
    EXPECT(msgrcv(id, &m, (size_t)-1, 0, IPC_NOWAIT), EINVAL, "a negative msgsz");

    /* A receiver in another process, woken by our send. */
    pid_t child = xfork();
    if (child == 0)
        _exit(!strcmp(rcv(id, 9, 64, 0), "9:wake") ? 0 : 1);
    msleep(50);
    snd(id, 9, "wake", 0);
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a receiver asleep in msgrcv gets our message: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));

    /* A full queue: IPC_NOWAIT says EAGAIN, a blocked sender waits for room. */
    ds.msg_qbytes = 10;
    EXPECT(msgctl(id, IPC_SET, &ds), 0, "IPC_SET msg_qbytes 10");
    snd(id, 1, "12345678", 0);
    EXPECT(snd(id, 1, "abc", IPC_NOWAIT), EAGAIN, "a send that does not fit, IPC_NOWAIT");
    child = xfork();
    if (child == 0)
        _exit(snd(id, 1, "abc", 0) == 0 ? 0 : 1);
    msleep(50);
    rcv(id, 0, 64, 0);
    st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !strcmp(rcv(id, 0, 64, IPC_NOWAIT), "1:abc"),
          "a blocked sender's message goes in once there is room: %s", YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));

    struct msginfo mi;
    CHECK(msgctl(id, IPC_INFO, (struct msqid_ds *)&mi) >= 0 && mi.msgmax == 8192 && mi.msgmnb == 16384,
          "IPC_INFO: msgmax 8192, msgmnb 16384: %s", YESNO(mi.msgmax == 8192));
    CHECK(msgctl(id % 32768, MSG_STAT, &ds) == id, "MSG_STAT takes an index: %s",
          YESNO(msgctl(id % 32768, MSG_STAT, &ds) == id));
    EXPECT(msgctl(id, 99, &ds), EINVAL, "an unknown cmd");

    child = xfork();
    if (child == 0) {
        struct msgbuf_s r;
        int x = (int)msgrcv(id, &r, 64, 0, 0);
        _exit(x == -1 && errno == EIDRM ? 0 : 1);
    }
    msleep(50);
    EXPECT(msgctl(id, IPC_RMID, NULL), 0, "IPC_RMID");
    st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a receiver asleep on it wakes with EIDRM: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));
    EXPECT(snd(id, 1, "x", 0), EINVAL, "msgsnd to the removed queue");
}

static volatile int mq_signals, mq_code, mq_value;

static void on_mq_signal(int sig, siginfo_t *si, void *uc)
{
    mq_signals++;
    mq_code = si->si_code;
    mq_value = si->si_value.sival_int;
}

static void check_mqueue(void)
{
    char name[64], buf[128];
    unsigned prio = 99;

    printf("POSIX message queues:\n");
    snprintf(name, sizeof(name), "/a53emu-sys-ipc-%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64}, got;
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    CHECK(q != (mqd_t)-1, "mq_open O_CREAT|O_EXCL, 4 messages of 64 bytes: %s", q == (mqd_t)-1 ? ipc_errno(errno) : "ok");
    EXPECT(mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr), EEXIST, "again with O_EXCL");
    EXPECT(mq_open("/a53emu-no-such-queue", O_RDWR), ENOENT, "an unknown name without O_CREAT");
    EXPECT(mq_open("/a53emu/queue", O_CREAT | O_RDWR, 0600, NULL), EACCES, "a name with a slash inside");
    struct mq_attr bad = {.mq_maxmsg = 0, .mq_msgsize = 64};
    EXPECT(mq_open("/a53emu-bad", O_CREAT | O_RDWR, 0600, &bad), EINVAL, "mq_maxmsg 0");
    bad.mq_maxmsg = 70000;
    EXPECT(mq_open("/a53emu-bad", O_CREAT | O_RDWR, 0600, &bad), EINVAL, "mq_maxmsg above the hard limit");
    mq_getattr(q, &got);
    CHECK(got.mq_maxmsg == 4 && got.mq_msgsize == 64 && got.mq_curmsgs == 0 && got.mq_flags == 0,
          "mq_getattr: %ld %ld %ld %ld", got.mq_flags, got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);

    EXPECT(mq_send(q, "low", 3, 1), 0, "mq_send priority 1");
    mq_send(q, "high", 4, 5);
    mq_send(q, "high2", 5, 5);
    mq_send(q, "zero", 4, 0);
    EXPECT(mq_send(q, buf, 65, 0), EMSGSIZE, "a message above mq_msgsize");
    EXPECT(mq_send(q, "x", 1, 32768), EINVAL, "priority 32768 (MQ_PRIO_MAX)");
    EXPECT(mq_receive(q, buf, 63, &prio), EMSGSIZE, "a buffer below mq_msgsize");
    int fd = open("/dev/null", O_RDONLY);
    EXPECT(mq_send((mqd_t)fd, "x", 1, 0), EBADF, "mq_send on a descriptor that is not a queue");
    close(fd);
    char order[128] = "";
    for (int i = 0; i < 4; i++) {
        ssize_t n = mq_receive(q, buf, sizeof(buf), &prio);
        snprintf(order + strlen(order), sizeof(order) - strlen(order), "%s%.*s/%u", i ? " " : "",
                 (int)(n < 0 ? 0 : n), buf, prio);
    }
    CHECK(!strcmp(order, "high/5 high2/5 low/1 zero/0"), "highest priority first, FIFO within: %s", order);

    struct mq_attr nb = {.mq_flags = O_NONBLOCK}, old;
    EXPECT(mq_setattr(q, &nb, &old), 0, "mq_setattr O_NONBLOCK");
    EXPECT(mq_receive(q, buf, sizeof(buf), &prio), EAGAIN, "mq_receive on an empty queue, O_NONBLOCK");
    for (int i = 0; i < 4; i++)
        mq_send(q, "f", 1, 0);
    EXPECT(mq_send(q, "f", 1, 0), EAGAIN, "mq_send on a full queue, O_NONBLOCK");
    nb.mq_flags = 1;
    EXPECT(mq_setattr(q, &nb, &old), EINVAL, "mq_setattr with a flag other than O_NONBLOCK");
    nb.mq_flags = 0;
    mq_setattr(q, &nb, &old);
    CHECK(old.mq_flags == O_NONBLOCK && old.mq_curmsgs == 4, "the old attributes: O_NONBLOCK, 4 messages: %s",
          YESNO(old.mq_flags == O_NONBLOCK && old.mq_curmsgs == 4));
    while (mq_timedreceive(q, buf, sizeof(buf), NULL, &(struct timespec){0, 0}) >= 0)
        ;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 30 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    EXPECT(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts), ETIMEDOUT, "mq_timedreceive on an empty queue times out");
    struct timespec badts = {0, 1000000000};
    EXPECT(mq_timedreceive(q, buf, sizeof(buf), NULL, &badts), EINVAL, "a timeout with tv_nsec 1e9");

    pid_t child = xfork();
    if (child == 0) {
        ssize_t n = mq_receive(q, buf, sizeof(buf), &prio);
        _exit(n == 4 && !memcmp(buf, "wake", 4) && prio == 3 ? 0 : 1);
    }
    msleep(50);
    mq_send(q, "wake", 4, 3);
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a receiver asleep in another process gets our message: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_mq_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    sev.sigev_value.sival_int = 1234;
    EXPECT(mq_notify(q, &sev), 0, "mq_notify SIGEV_SIGNAL");
    child = xfork();
    if (child == 0)
        _exit(mq_notify(q, &sev) == -1 && errno == EBUSY ? 0 : 1);
    st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "another process registering: EBUSY: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0));
    fd = (int)q;
    int n = (int)read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    CHECK(!strncmp(buf, "QSIZE:0", 7) && strstr(buf, "SIGNO:10") != NULL,
          "read() of the descriptor describes the queue and its notification: %s",
          YESNO(!strncmp(buf, "QSIZE:0", 7) && strstr(buf, "SIGNO:10") != NULL));
    mq_send(q, "n", 1, 0);
    for (int i = 0; i < 100 && !mq_signals; i++)
        msleep(1);
    CHECK(mq_signals == 1 && mq_code == SI_MESGQ && mq_value == 1234,
          "a message into the empty queue sends it, SI_MESGQ, with sigev_value: %s",
          YESNO(mq_signals == 1 && mq_code == SI_MESGQ && mq_value == 1234));
    mq_receive(q, buf, sizeof(buf), NULL);
    mq_send(q, "n", 1, 0);
    msleep(5);
    CHECK(mq_signals == 1, "only once: the registration is gone: %s", YESNO(mq_signals == 1));
    mq_receive(q, buf, sizeof(buf), NULL);
    EXPECT(mq_notify(q, &sev), 0, "registering again");
    EXPECT(mq_notify(q, NULL), 0, "mq_notify NULL unregisters");
    mq_send(q, "n", 1, 0);
    msleep(5);
    CHECK(mq_signals == 1, "no signal after unregistering: %s", YESNO(mq_signals == 1));
    sev.sigev_notify = 99;
    EXPECT(mq_notify(q, &sev), EINVAL, "a bad sigev_notify");

    EXPECT(mq_unlink(name), 0, "mq_unlink");
    EXPECT(mq_unlink(name), ENOENT, "mq_unlink again");
    CHECK(mq_receive(q, buf, sizeof(buf), NULL) == 1, "the open descriptor still works: %s", "yes");
    EXPECT(mq_close(q), 0, "mq_close");
    EXPECT(mq_send(q, "x", 1, 0), EBADF, "mq_send after mq_close");
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : "";

    proc_init();
    key_base = (key_t)(0x53100000 | ((getpid() & 0xFFFF) << 4));
    printf("sys_ipc: System V semaphores and message queues\n");
    if (!*only || strstr(only, "semget"))
        check_semget();
    if (!*only || strstr(only, "semop"))
        check_semop();
    if (!*only || strstr(only, "undo"))
        check_sem_undo();
    if (!*only || strstr(only, "msg"))
        check_msg();
    if (!*only || strstr(only, "mqueue"))
        check_mqueue();
    if (check_failures) {
        printf("sys_ipc: %d checks FAILED\n", check_failures);
        return 1;
    }
    printf("sys_ipc: all checks passed\n");
    return 0;
}
