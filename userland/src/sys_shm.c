/*
 * sys_shm.c - System V shared memory (shmget/shmat/shmdt/shmctl) and
 * remap_file_pages().  Issue 9 part 5.
 *
 * A segment is shmem: every attach, in this process or a forked child,
 * maps the same page-cache frames.  shm_nattch counts VMAs (a fork or a
 * split adds one, munmap, exec and exit take theirs away), IPC_RMID
 * destroys a segment only when the last attach goes, and each call's
 * error cases answer with Linux's errno.  Keys are made from the pid and
 * every segment is removed before the program ends (it also runs on the
 * host kernel, whose IPC namespace is shared with everything else there).
 * Nothing printed depends on an id, a key, a pid or an address.
 */
#define _GNU_SOURCE
#include "ipc.h"

#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif

static key_t key_base;
static int is_root;

static long nattch(int id)
{
    struct shmid_ds ds;

    if (shmctl(id, IPC_STAT, &ds) < 0)
        return -errno;
    return (long)ds.shm_nattch;
}

/* An address where `pages` pages are free (mapped, then unmapped). */
static char *free_area(size_t pages)
{
    char *p = mmap(NULL, pages * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, pages * PAGE);
    return p;
}

static void check_shmget(void)
{
    printf("shmget:\n");
    EXPECT(shmget(IPC_PRIVATE, 0, 0600), EINVAL, "size 0 (below SHMMIN)");
    EXPECT(shmget(IPC_PRIVATE, (size_t)-1, 0600), EINVAL, "size ULONG_MAX (above SHMMAX)");
    EXPECT(shmget(key_base, PAGE, 0600), ENOENT, "an unknown key without IPC_CREAT");
    int id = shmget(key_base, 2 * PAGE, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(id >= 0, "IPC_CREAT|IPC_EXCL makes a segment: %s", RESULT(id < 0 ? -1 : 0));
    EXPECT(shmget(key_base, 2 * PAGE, IPC_CREAT | IPC_EXCL | 0600), EEXIST, "again with IPC_EXCL");
    CHECK(shmget(key_base, PAGE, 0) == id, "the key finds it (a smaller size is fine): %s",
          YESNO(shmget(key_base, PAGE, 0) == id));
    CHECK(shmget(key_base, 2 * PAGE, IPC_CREAT | 0600) == id, "IPC_CREAT without IPC_EXCL finds it: %s",
          YESNO(shmget(key_base, 2 * PAGE, IPC_CREAT | 0600) == id));
    EXPECT(shmget(key_base, 3 * PAGE, 0), EINVAL, "a size larger than the segment's");
    int ro = shmget(key_base + 1, PAGE, IPC_CREAT | 0400);
    EXPECT(shmget(key_base + 1, PAGE, 0600), is_root ? 0 : EACCES, "asking 0600 of a 0400 segment");
    int p1 = shmget(IPC_PRIVATE, PAGE, 0600), p2 = shmget(IPC_PRIVATE, PAGE, 0600);
    CHECK(p1 >= 0 && p2 >= 0 && p1 != p2, "IPC_PRIVATE makes a new segment every time: %s",
          YESNO(p1 >= 0 && p2 >= 0 && p1 != p2));
    shmctl(p1, IPC_RMID, NULL);
    shmctl(p2, IPC_RMID, NULL);
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    CHECK(ds.shm_segsz == 2 * PAGE && (ds.shm_perm.mode & 0777) == 0600 && ds.shm_nattch == 0 &&
          ds.shm_cpid == getpid() && ds.shm_lpid == 0 && ds.shm_atime == 0 && ds.shm_perm.uid == geteuid(),
          "IPC_STAT of a new segment: size, mode, cpid, uid; nattch 0, no lpid, no atime: %s",
          YESNO(ds.shm_segsz == 2 * PAGE));
    shmctl(ro, IPC_RMID, NULL);
    shmctl(id, IPC_RMID, NULL);
}

static void check_shmat(const char *argv0)
{
    printf("shmat and shmdt:\n");
    int id = shmget(IPC_PRIVATE, 3 * PAGE, 0600);
    EXPECT(shmat(-1, NULL, 0) == (void *)-1 ? -1 : 0, EINVAL, "shmat of id -1");
    EXPECT(shmat(id + 32768, NULL, 0) == (void *)-1 ? -1 : 0, EINVAL, "shmat of a stale id (other sequence)");
    EXPECT(shmat(id, NULL, SHM_REMAP) == (void *)-1 ? -1 : 0, EINVAL, "SHM_REMAP without an address");
    char *area = free_area(3);
    EXPECT(shmat(id, area + 100, 0) == (void *)-1 ? -1 : 0, EINVAL, "a misaligned address without SHM_RND");
    char *a = shmat(id, area + 100, SHM_RND);
    CHECK(a == area, "SHM_RND rounds the address down: %s", YESNO(a == area));
    char *b = shmat(id, NULL, 0);
    CHECK(b != (void *)-1 && b != a, "a second attach at an address the kernel picks: %s", YESNO(b != (void *)-1));
    CHECK(nattch(id) == 2, "nattch after two attaches: %ld", nattch(id));
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    CHECK(ds.shm_lpid == getpid() && ds.shm_atime != 0, "shmat sets lpid and atime: %s",
          YESNO(ds.shm_lpid == getpid() && ds.shm_atime != 0));
    CHECK(a[0] == 0 && a[PAGE - 1] == 0, "a new segment reads zero: %s", YESNO(a[0] == 0));
    a[5] = 'x';
    CHECK(b[5] == 'x', "a store through one attach is seen through the other: %s", YESNO(b[5] == 'x'));
    EXPECT(shmat(id, a, 0) == (void *)-1 ? -1 : 0, EINVAL, "a fixed address over a mapping, no SHM_REMAP");
    char *r = shmat(id, a, SHM_REMAP);
    CHECK(r == a && nattch(id) == 2, "SHM_REMAP replaces the mapping there: %s, nattch %ld",
          YESNO(r == a), nattch(id));

    int pfd[2];
    pipe(pfd);
    pid_t child = xfork();
    if (child == 0) {
        char n = (char)nattch(id);
        write(pfd[1], &n, 1);
        a[PAGE + 1] = 'c';          /* only the child touches page 1 */
        _exit(0);
    }
    char n = 0;
    read(pfd[0], &n, 1);
    int st = wait_for(child);
    CHECK(n == 4, "fork: the child's copies of both attaches count (nattch in the child: %d)", n);
    CHECK(WIFEXITED(st) && b[PAGE + 1] == 'c', "the child's store reaches the parent: %s", YESNO(b[PAGE + 1] == 'c'));
    CHECK(nattch(id) == 2, "the child's exit detached its attaches: nattch %ld", nattch(id));
    unsigned char vec[3];
    madvise(a, 3 * PAGE, MADV_DONTNEED);
    mincore(a, 3 * PAGE, vec);
    CHECK((vec[0] & 1) && (vec[1] & 1) && !(vec[2] & 1),
          "mincore after MADV_DONTNEED: pages 0 and 1 resident in the segment, page 2 never touched: %s",
          YESNO((vec[0] & 1) && (vec[1] & 1) && !(vec[2] & 1)));
    CHECK(a[PAGE + 1] == 'c' && a[5] == 'x', "MADV_DONTNEED kept the data: %s", YESNO(a[PAGE + 1] == 'c'));
    EXPECT(madvise(a + PAGE, PAGE, MADV_REMOVE), 0, "MADV_REMOVE of page 1");
    mincore(a, 3 * PAGE, vec);
    CHECK(!(vec[1] & 1) && b[PAGE + 1] == 0 && a[5] == 'x',
          "it is gone from the segment (zero through the other attach too), page 0 stays: %s",
          YESNO(b[PAGE + 1] == 0 && a[5] == 'x'));
    a[PAGE + 1] = 'c';

    child = xfork();
    if (child == 0) {
        char ids[16];
        snprintf(ids, sizeof(ids), "%d", id);
        execl(argv0, argv0, "exec-child", ids, (char *)NULL);
        _exit(99);
    }
    st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "after execve the new image sees nattch %d (exec detached the child's)",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    EXPECT(munmap(a + PAGE, PAGE), 0, "munmap of the middle page of an attach");
    CHECK(nattch(id) == 3, "its two pieces are two attaches: nattch %ld", nattch(id));
    EXPECT(shmdt(a + 1), EINVAL, "shmdt of a misaligned address");
    EXPECT(shmdt(a + PAGE), EINVAL, "shmdt where no segment starts");
    EXPECT(shmdt(a), 0, "shmdt of the attach address");
    CHECK(nattch(id) == 1, "shmdt unmapped both pieces: nattch %ld", nattch(id));
    EXPECT(shmdt(a), EINVAL, "shmdt again");
    shmctl(id, IPC_STAT, &ds);
    CHECK(ds.shm_dtime != 0, "shmdt sets dtime: %s", YESNO(ds.shm_dtime != 0));

    char *ro = shmat(id, NULL, SHM_RDONLY);
    CHECK(ro[5] == 'x', "SHM_RDONLY attach reads the segment: %s", YESNO(ro[5] == 'x'));
    EXPECT(mprotect(ro, PAGE, PROT_READ | PROT_WRITE), EACCES, "mprotect(PROT_WRITE) of a SHM_RDONLY attach");
    child = xfork();
    if (child == 0) {
        ro[0] = 1;
        _exit(0);
    }
    st = wait_for(child);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a store to it is SIGSEGV: %s",
          YESNO(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV));
    shmdt(ro);
    shmdt(b);
    CHECK(nattch(id) == 0, "all detached: nattch %ld", nattch(id));
    shmctl(id, IPC_RMID, NULL);
}

static void check_rmid(void)
{
    printf("IPC_RMID:\n");
    int id = shmget(key_base + 2, PAGE, IPC_CREAT | 0600);
    char *a = shmat(id, NULL, 0);
    a[0] = 'r';
    EXPECT(shmctl(id, IPC_RMID, NULL), 0, "IPC_RMID while attached");
    struct shmid_ds ds;
    EXPECT(shmctl(id, IPC_STAT, &ds), 0, "the segment lives on: IPC_STAT");
    CHECK(ds.shm_perm.mode & SHM_DEST, "it is marked SHM_DEST: %s", YESNO(ds.shm_perm.mode & SHM_DEST));
    CHECK(ds.shm_perm.__key == 0, "its key is now IPC_PRIVATE: %s", YESNO(ds.shm_perm.__key == 0));
    EXPECT(shmget(key_base + 2, PAGE, 0), ENOENT, "shmget of the old key");
    char *b = shmat(id, NULL, 0);
    CHECK(b != (void *)-1 && b[0] == 'r', "Linux still lets it be attached: %s", YESNO(b != (void *)-1));
    shmdt(b);
    EXPECT(shmctl(id, IPC_STAT, &ds), 0, "one attach left: still there");
    shmdt(a);
    EXPECT(shmctl(id, IPC_STAT, &ds), EINVAL, "the last shmdt destroyed it: IPC_STAT");
    EXPECT(shmctl(id, IPC_RMID, NULL), EINVAL, "IPC_RMID of a destroyed segment");

    id = shmget(IPC_PRIVATE, PAGE, 0600);
    pid_t child = xfork();
    if (child == 0) {
        char *c = shmat(id, NULL, 0);
        c[0] = 'e';
        shmctl(id, IPC_RMID, NULL);
        _exit(0);                   /* exit detaches, and that destroys it */
    }
    wait_for(child);
    EXPECT(shmctl(id, IPC_STAT, &ds), EINVAL, "a segment removed by a child is gone once the child exits");
}

static void check_shmctl(void)
{
    printf("shmctl:\n");
    int id = shmget(key_base + 3, 5000, IPC_CREAT | 0600);
    struct shmid_ds ds;
    EXPECT(shmctl(-1, IPC_STAT, &ds), EINVAL, "shmid -1");
    EXPECT(shmctl(id, -1, &ds), EINVAL, "cmd -1");
    EXPECT(shmctl(id, 99, &ds), EINVAL, "an unknown cmd");
    EXPECT(shmctl(id, IPC_STAT, (void *)8), EFAULT, "IPC_STAT into a bad pointer");
    EXPECT(shmctl(id, IPC_SET, (void *)8), EFAULT, "IPC_SET from a bad pointer");
    shmctl(id, IPC_STAT, &ds);
    CHECK(ds.shm_segsz == 5000, "shm_segsz is the size asked for, not rounded: %lu", (unsigned long)ds.shm_segsz);
    ds.shm_perm.mode = 0640 | 0100000;
    EXPECT(shmctl(id, IPC_SET, &ds), 0, "IPC_SET mode 0640");
    shmctl(id, IPC_STAT, &ds);
    CHECK((ds.shm_perm.mode & 0777) == 0640 && !(ds.shm_perm.mode & 0100000),
          "only the nine permission bits changed: %o", ds.shm_perm.mode & 0777);
    CHECK(ds.shm_ctime != 0, "ctime is set: %s", YESNO(ds.shm_ctime != 0));

    struct shminfo info;
    int maxidx = shmctl(0, IPC_INFO, (struct shmid_ds *)&info);
    CHECK(maxidx >= id % 32768, "IPC_INFO returns the highest index in use: %s", YESNO(maxidx >= id % 32768));
    CHECK(info.shmmin == 1 && info.shmmni == 4096 && info.shmmax == (unsigned long)-1 - (1UL << 24),
          "shminfo: shmmin 1, shmmni 4096, shmmax ULONG_MAX-2^24: %s",
          YESNO(info.shmmin == 1 && info.shmmni == 4096));
    struct shm_info sinfo;
    EXPECT(shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo), 0, "SHM_INFO");
    CHECK(sinfo.used_ids >= 1 && sinfo.shm_tot >= 2, "shm_info counts our segment (2 pages): %s",
          YESNO(sinfo.used_ids >= 1 && sinfo.shm_tot >= 2));
    CHECK(shmctl(id % 32768, SHM_STAT, &ds) == id, "SHM_STAT takes an index and returns the id: %s",
          YESNO(shmctl(id % 32768, SHM_STAT, &ds) == id));

    EXPECT(shmctl(id, SHM_LOCK, NULL), 0, "SHM_LOCK");
    shmctl(id, IPC_STAT, &ds);
    CHECK(ds.shm_perm.mode & SHM_LOCKED, "SHM_LOCKED is in the mode: %s", YESNO(ds.shm_perm.mode & SHM_LOCKED));
    EXPECT(shmctl(id, SHM_UNLOCK, NULL), 0, "SHM_UNLOCK");

    char *a = shmat(id, NULL, 0);
    a[0] = 1;
    int fd = open("/proc/sysvipc/shm", O_RDONLY);
    static char text[65536];
    int len = 0, n;
    while (fd >= 0 && (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
        len += n;
    text[len] = '\0';
    close(fd);
    CHECK(strncmp(text, "       key      shmid perms                  size  cpid  lpid nattch", 68) == 0,
          "/proc/sysvipc/shm has the 64-bit header: %s", YESNO(len > 0));
    int found = 0;
    for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        int k, i, cpid, lpid;
        unsigned perms;
        unsigned long size, att, rss;
        if (sscanf(line + 1, "%d %d %o %lu %d %d %lu %*u %*u %*u %*u %*u %*u %*u %lu", &k, &i, &perms,
                   &size, &cpid, &lpid, &att, &rss) == 8 && i == id)
            found = k == key_base + 3 && perms == 0640 && size == 5000 && cpid == getpid() &&
                    lpid == getpid() && att == 1 && rss == PAGE;
    }
    CHECK(found, "and our segment's line: key, id, perms 640, size 5000, cpid, lpid, nattch 1, rss one page: %s",
          YESNO(found));
    shmdt(a);
    shmctl(id, IPC_RMID, NULL);
}

static void check_remap_file_pages(void)
{
    printf("remap_file_pages:\n");
    int id = shmget(IPC_PRIVATE, 4 * PAGE, 0600);
    volatile char *a = shmat(id, NULL, 0);
    for (int i = 0; i < 4; i++)
        a[i * PAGE] = (char)('A' + i);
    EXPECT(remap_file_pages((void *)a, PAGE, PROT_READ, 3, 0), EINVAL, "a nonzero prot");
    EXPECT(remap_file_pages((void *)a, 5 * PAGE, 0, 0, 0), EINVAL, "a range past the mapping");
    EXPECT(remap_file_pages((void *)a, 0, 0, 0, 0), EINVAL, "an empty range");
    EXPECT(remap_file_pages((void *)a, PAGE, 0, 3, 0), 0, "page 0 of the attach shows page 3");
    CHECK(a[0] == 'D' && a[PAGE] == 'B', "it does, and page 1 is still page 1: %s", YESNO(a[0] == 'D' && a[PAGE] == 'B'));
    CHECK(nattch(id) == 2, "the emulation is an mmap: the attach is now two VMAs, nattch %ld", nattch(id));
    a[0] = 'd';
    CHECK(a[3 * PAGE] == 'd', "both views are the same frame: %s", YESNO(a[3 * PAGE] == 'd'));
    shmdt((void *)a);
    char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT(remap_file_pages(p, PAGE, 0, 0, 0), EINVAL, "a private mapping");
    munmap(p, PAGE);
    shmctl(id, IPC_RMID, NULL);
}

/*
 * `sys_shm isolation [kill]`: make a SysV segment, semaphore set and
 * message queue under one fixed key, and a fixed file in /dev/shm, all
 * with O_EXCL/IPC_EXCL (so they fail if anyone else in this IPC namespace
 * or tmpfs has them), print "created", wait for a line on stdin, and exit
 * without removing anything (or die of SIGKILL with `kill`).  Two boards
 * running this at once must both succeed, and leave nothing on the host.
 * Not for the host: it leaves its objects behind by design.
 */
#define ISOLATION_KEY 0x5a53e901
#define ISOLATION_FILE "/dev/shm/a53emu-isolation"

static int isolation(int die)
{
    int shm = shmget(ISOLATION_KEY, PAGE, IPC_CREAT | IPC_EXCL | 0600);
    int sem = semget(ISOLATION_KEY, 1, IPC_CREAT | IPC_EXCL | 0600);
    int msg = msgget(ISOLATION_KEY, IPC_CREAT | IPC_EXCL | 0600);
    int fd = open(ISOLATION_FILE, O_RDWR | O_CREAT | O_EXCL, 0600);
    char c;

    printf("shm %s, sem %s, msg %s, /dev/shm file %s\n", shm >= 0 ? "created" : ipc_errno(errno),
           sem >= 0 ? "created" : "failed", msg >= 0 ? "created" : "failed",
           fd >= 0 ? "created" : "failed");
    fflush(stdout);
    char *p = shmat(shm, NULL, 0);
    if (p != (void *)-1)
        p[0] = 1;
    if (read(0, &c, 1) < 0)
        return 2;
    if (die)
        kill(getpid(), SIGKILL);
    return shm >= 0 && sem >= 0 && msg >= 0 && fd >= 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "exec-child") == 0)
        return (int)nattch(atoi(argv[2]));
    if (argc >= 2 && strcmp(argv[1], "isolation") == 0)
        return isolation(argc == 3);
    proc_init();
    key_base = (key_t)(0x53000000 | ((getpid() & 0xFFFF) << 4));
    is_root = geteuid() == 0;
    const char *only = argc > 1 ? argv[1] : "";
    printf("sys_shm: System V shared memory\n");
    if (!*only || strstr(only, "shmget"))
        check_shmget();
    if (!*only || strstr(only, "shmat"))
        check_shmat(argv[0]);
    if (!*only || strstr(only, "rmid"))
        check_rmid();
    if (!*only || strstr(only, "shmctl"))
        check_shmctl();
    if (!*only || strstr(only, "remap"))
        check_remap_file_pages();
    if (check_failures) {
        printf("sys_shm: %d checks FAILED\n", check_failures);
        return 1;
    }
    printf("sys_shm: all checks passed\n");
    return 0;
}
