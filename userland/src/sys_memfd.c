/*
 * sys_memfd.c - shmem that a file descriptor names: /dev/zero mapped
 * MAP_SHARED, memfd_create() with its seals, and POSIX shared memory
 * (shm_open: a file of the tmpfs at /dev/shm).  Issue 9 part 5.
 *
 * Every kind is checked the same way: a child's stores through its own
 * mapping are seen by the parent (one set of page-cache frames), mincore()
 * shows the page resident for the parent once the child touched it,
 * MADV_DONTNEED drops only the parent's ptes (the data stays in the cache),
 * and each call's error cases answer with Linux's errno.
 */
#define _GNU_SOURCE
#include "ipc.h"

#include <sys/mman.h>
#include <sys/stat.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x1
#define F_SEAL_SHRINK 0x2
#define F_SEAL_GROW 0x4
#define F_SEAL_WRITE 0x8
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x1
#define MFD_ALLOW_SEALING 0x2
#endif

static long memfd(const char *name, unsigned flags)
{
    return syscall(SYS_memfd_create, name, flags);
}

/* The name /proc/self/maps gives the VMA holding addr ("" if anonymous). */
static const char *maps_name(void *addr)
{
    static char name[256];
    const char *pos = maps_buf;
    struct vma_line v;

    name[0] = '\0';
    if (read_maps() < 0)
        return "?";
    while (next_vma(&pos, &v))
        if (v.start <= (unsigned long)addr && (unsigned long)addr < v.end)
            strcpy(name, v.name);
    return name;
}

/* A child stores `value` at page `page` of the shared mapping at p; the
 * parent then checks it sees the store, that mincore() calls the page
 * resident, and that MADV_DONTNEED keeps the data.  Returns 1 if all hold. */
static void shared_with_child(const char *kind, volatile char *p, int page, char value)
{
    unsigned char vec[4] = {9, 9, 9, 9};
    pid_t child = xfork();
    if (child == 0) {
        p[page * PAGE] = value;
        _exit(0);
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && p[page * PAGE] == value, "%s: the child's store is seen by the parent: %s",
          kind, YESNO(p[page * PAGE] == value));
    madvise((void *)p, 2 * PAGE, MADV_DONTNEED);
    CHECK(mincore((void *)p, 2 * PAGE, vec) == 0 && (vec[page] & 1) == 1,
          "%s: after MADV_DONTNEED the page is still resident (page cache): %s", kind,
          YESNO((vec[page] & 1) == 1));
    CHECK(p[page * PAGE] == value, "%s: and still holds the child's store: %s", kind,
          YESNO(p[page * PAGE] == value));
}

/* MADV_REMOVE of page 1 of the shared mapping p (two pages, page 1
 * nonzero): the page is gone from the cache, reads back zero. */
static int skip_remove;     /* `no-remove`: leave MADV_REMOVE out (qemu-user ignores it) */

static void check_remove(const char *kind, volatile char *p)
{
    unsigned char vec[2] = {9, 9};

    if (skip_remove)
        return;
    EXPECT(madvise((void *)p, 2 * PAGE, MADV_REMOVE), 0, "MADV_REMOVE");
    mincore((void *)p, 2 * PAGE, vec);
    CHECK(!(vec[1] & 1), "%s: after MADV_REMOVE page 1 is not resident: %s", kind, YESNO(!(vec[1] & 1)));
    CHECK(p[PAGE] == 0, "%s: and reads zero: %s", kind, YESNO(p[PAGE] == 0));
}

static void check_dev_zero(void)
{
    printf("/dev/zero:\n");
    int fd = open("/dev/zero", O_RDWR);
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap MAP_SHARED of /dev/zero: %s", p == MAP_FAILED ? ipc_errno(errno) : "ok");
    if (p == MAP_FAILED)
        return;
    CHECK(p[0] == 0 && p[2 * PAGE - 1] == 0, "it reads zero: %s", YESNO(p[0] == 0));
    CHECK(strcmp(maps_name(p), "/dev/zero (deleted)") == 0, "maps names it: %s", maps_name(p));
    shared_with_child("/dev/zero shared", p, 1, 42);
    check_remove("/dev/zero shared", p);
    munmap(p, 2 * PAGE);

    char *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(q != MAP_FAILED, "mmap MAP_PRIVATE of /dev/zero: %s", q == MAP_FAILED ? ipc_errno(errno) : "ok");
    q[0] = 1;
    pid_t child = xfork();
    if (child == 0) {
        q[0] = 2;
        _exit(0);
    }
    wait_for(child);
    CHECK(q[0] == 1, "a private /dev/zero page is the child's own after fork: %s", YESNO(q[0] == 1));
    char *anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!skip_remove)
        EXPECT(madvise(anon, PAGE, MADV_REMOVE), EINVAL, "MADV_REMOVE of private anonymous memory");
    munmap(anon, PAGE);
    munmap(q, PAGE);
    close(fd);

    fd = open("/dev/zero", O_RDONLY);
    EXPECT(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0,
           EACCES, "writable MAP_SHARED of /dev/zero opened O_RDONLY");
    close(fd);
}

static void check_memfd_create(void)
{
    char name[260];

    printf("memfd_create:\n");
    EXPECT(memfd("x", 0x100), EINVAL, "an unknown flag");
    EXPECT(memfd(NULL, 0), EFAULT, "a NULL name");
    memset(name, 'n', sizeof(name));
    name[249] = '\0';
    long fd = memfd(name, 0);
    EXPECT(fd, 0, "a 249-byte name");
    close((int)fd);
    name[249] = 'n';
    name[250] = '\0';
    EXPECT(memfd(name, 0), EINVAL, "a 250-byte name");
    fd = memfd("cloexec", MFD_CLOEXEC);
    CHECK(fcntl((int)fd, F_GETFD) == FD_CLOEXEC, "MFD_CLOEXEC sets FD_CLOEXEC: %s",
          YESNO(fcntl((int)fd, F_GETFD) == FD_CLOEXEC));
    close((int)fd);

    fd = memfd("data", 0);
    struct stat st;
    fstat((int)fd, &st);
    CHECK(S_ISREG(st.st_mode) && st.st_size == 0, "a new memfd is an empty regular file: %s",
          YESNO(S_ISREG(st.st_mode) && st.st_size == 0));
    CHECK((st.st_mode & 07777) == 0777, "of mode 0777, whatever the umask: %o", st.st_mode & 07777);
    CHECK(fcntl((int)fd, F_GETFL) & O_RDWR, "it is open O_RDWR: %s",
          YESNO(fcntl((int)fd, F_GETFL) & O_RDWR));
    CHECK(ftruncate((int)fd, 2 * PAGE) == 0, "ftruncate to two pages: %s", "ok");
    CHECK(write((int)fd, "hello", 5) == 5, "write: %s", "5 bytes");
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
    CHECK(p != MAP_FAILED && memcmp(p, "hello", 5) == 0, "a shared mapping shows what write() wrote: %s",
          YESNO(p != MAP_FAILED && memcmp(p, "hello", 5) == 0));
    CHECK(strcmp(maps_name(p), "/memfd:data (deleted)") == 0, "maps names it: %s", maps_name(p));
    shared_with_child("memfd", p, 1, 7);
    char c = 0;
    pread((int)fd, &c, 1, PAGE);
    CHECK(c == 7, "read() sees the child's store through its mapping: %s", YESNO(c == 7));
    if (!skip_remove) {
        check_remove("memfd", p);
        c = 1;
        pread((int)fd, &c, 1, PAGE);
        CHECK(c == 0, "read() finds the hole too: %s", YESNO(c == 0));
        struct stat st2;
        fstat((int)fd, &st2);
        CHECK(st2.st_size == 2 * PAGE, "MADV_REMOVE keeps the size: %s", YESNO(st2.st_size == 2 * PAGE));
    }
    EXPECT(fcntl((int)fd, F_GET_SEALS), 0, "F_GET_SEALS without MFD_ALLOW_SEALING");
    CHECK(fcntl((int)fd, F_GET_SEALS) == F_SEAL_SEAL, "it says F_SEAL_SEAL: %s",
          YESNO(fcntl((int)fd, F_GET_SEALS) == F_SEAL_SEAL));
    EXPECT(fcntl((int)fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM, "F_ADD_SEALS without MFD_ALLOW_SEALING");
    munmap(p, 2 * PAGE);
    close((int)fd);
}

static void check_seals(void)
{
    printf("seals:\n");
    int fd = (int)memfd("sealed", MFD_ALLOW_SEALING);
    CHECK(fcntl(fd, F_GET_SEALS) == 0, "MFD_ALLOW_SEALING starts with no seal: %s",
          YESNO(fcntl(fd, F_GET_SEALS) == 0));
    ftruncate(fd, 2 * PAGE);
    EXPECT(fcntl(fd, F_ADD_SEALS, 0x100), EINVAL, "an unknown seal");
    EXPECT(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0, "F_SEAL_SHRINK");
    EXPECT(ftruncate(fd, PAGE), EPERM, "shrinking a F_SEAL_SHRINK file");
    EXPECT(ftruncate(fd, 3 * PAGE), 0, "growing it");
    EXPECT(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0, "F_SEAL_GROW");
    EXPECT(ftruncate(fd, 4 * PAGE), EPERM, "growing a F_SEAL_GROW file");
    EXPECT(pwrite(fd, "x", 1, 3 * PAGE), EPERM, "a write past its end");
    EXPECT(pwrite(fd, "x", 1, 3 * PAGE - 1), 0, "a write inside it");
    CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW), "F_GET_SEALS: %s",
          fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW) ? "SHRINK|GROW" : "other");

    char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    EXPECT(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY, "F_SEAL_WRITE while a shared writable mapping exists");
    char *priv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    munmap(p, PAGE);
    EXPECT(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0, "F_SEAL_WRITE once it is unmapped (a private one may stay)");
    if (!skip_remove)
        EXPECT(madvise(priv, PAGE, MADV_REMOVE), EACCES, "MADV_REMOVE of a private file mapping");
    EXPECT(write(fd, "y", 1), EPERM, "write() to a F_SEAL_WRITE file");
    EXPECT(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0, EPERM,
           "a writable MAP_SHARED mapping of it");
    priv[0] = 'p';
    CHECK(priv[0] == 'p', "the private mapping still copies on write: %s", YESNO(priv[0] == 'p'));
    char *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(q != MAP_FAILED, "a new MAP_PRIVATE mapping: %s", q == MAP_FAILED ? ipc_errno(errno) : "ok");
    munmap(q, PAGE);
    munmap(priv, PAGE);
    EXPECT(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL), 0, "F_SEAL_SEAL");
    EXPECT(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), EPERM, "any seal after F_SEAL_SEAL");
    close(fd);

    fd = open(".", O_RDONLY | O_DIRECTORY);
    EXPECT(fcntl(fd, F_GET_SEALS), EINVAL, "F_GET_SEALS on a directory");
    close(fd);
    int pfd[2];
    pipe(pfd);
    EXPECT(fcntl(pfd[1], F_ADD_SEALS, F_SEAL_SEAL), EINVAL, "F_ADD_SEALS on a pipe's write end");
    close(pfd[0]);
    close(pfd[1]);
    EXPECT(fcntl(-1, F_GET_SEALS), EBADF, "F_GET_SEALS on a bad descriptor");
}

static void check_posix_shm(void)
{
    char name[64], path[80];

    printf("POSIX shared memory (/dev/shm):\n");
    snprintf(name, sizeof(name), "/a53emu-sys-memfd-%d", (int)getpid());
    snprintf(path, sizeof(path), "/dev/shm%s", name);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    CHECK(fd >= 0, "shm_open(O_CREAT|O_EXCL) makes a file under /dev/shm: %s", fd >= 0 ? "ok" : ipc_errno(errno));
    EXPECT(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST, "again with O_EXCL");
    ftruncate(fd, 2 * PAGE);
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap MAP_SHARED: %s", p == MAP_FAILED ? ipc_errno(errno) : "ok");
    CHECK(strcmp(maps_name(p), path) == 0, "maps names it by its /dev/shm path: %s",
          YESNO(strcmp(maps_name(p), path) == 0));
    pid_t child = xfork();
    if (child == 0) {
        int cfd = open(path, O_RDWR);
        char *c = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
        if (c == MAP_FAILED)
            _exit(1);
        c[PAGE + 1] = 'z';
        _exit(0);
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && p[PAGE + 1] == 'z',
          "a child that opens the name and maps it shares the pages: %s", YESNO(p[PAGE + 1] == 'z'));
    shared_with_child("POSIX shm", p, 0, 'q');
    check_remove("POSIX shm", p);
    CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL, "F_GET_SEALS on a tmpfs file: %s",
          fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL ? "F_SEAL_SEAL" : RESULT(fcntl(fd, F_GET_SEALS)));
    EXPECT(unlink(path), 0, "shm_unlink");
    EXPECT(open(path, O_RDWR), ENOENT, "shm_open of the unlinked name");
    EXPECT(unlink(path), ENOENT, "shm_unlink again");
    p[0] = 'k';
    CHECK(p[0] == 'k', "the mapping outlives the name: %s", YESNO(p[0] == 'k'));
    munmap(p, 2 * PAGE);
    close(fd);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : "";

    proc_init();
    skip_remove = strstr(only, "no-remove") != NULL;
    printf("sys_memfd: shmem named by a descriptor\n");
    if (!*only || strstr(only, "zero"))
        check_dev_zero();
    if (!*only || strstr(only, "memfd"))
        check_memfd_create();
    if (!*only || strstr(only, "seals"))
        check_seals();
    if (!*only || strstr(only, "shm"))
        check_posix_shm();
    if (check_failures) {
        printf("sys_memfd: %d checks FAILED\n", check_failures);
        return 1;
    }
    printf("sys_memfd: all checks passed\n");
    return 0;
}
