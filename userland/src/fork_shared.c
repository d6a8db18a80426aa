/*
 * fork_shared.c - MAP_SHARED memory stays shared across fork().
 *
 * copy_page_range() copies shared PTEs as they are (no write protect), and
 * a shared anonymous mapping is a shmem file both processes map, so a
 * store from one process is a load in the other.  Checks: a shared
 * anonymous page, written alternately by parent and child 200 times
 * (ping-pong on atomics in the page itself, both cores busy); a shared file
 * mapping, written by the child, seen by the parent through its mapping,
 * through read(), and through a MAP_PRIVATE mapping of the same file the
 * parent never wrote; a private page the parent did write keeps its copy;
 * a shared mapping made by the child after fork is not in the parent; a
 * shared page the child munmaps stays mapped in the parent.
 */
#define _GNU_SOURCE
#include "proc.h"

#include <sys/mman.h>

static void check_shared_anon(void)
{
    volatile int *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    volatile int *turn = &page[0], *value = &page[1];
    const int rounds = 200;

    printf("shared anonymous mapping:\n");
    *turn = 0;
    *value = 0;
    pid_t child = xfork();
    if (child == 0) {
        int bad = 0;
        for (int i = 0; i < rounds; i++) {
            while (__atomic_load_n(turn, __ATOMIC_ACQUIRE) != 1)
                ;
            bad |= *value != 2 * i + 1;
            *value = 2 * i + 2;
            __atomic_store_n(turn, 0, __ATOMIC_RELEASE);
        }
        _exit(bad);
    }
    int bad = 0;
    for (int i = 0; i < rounds; i++) {
        while (__atomic_load_n(turn, __ATOMIC_ACQUIRE) != 0)
            ;
        bad |= *value != 2 * i;
        *value = 2 * i + 1;
        __atomic_store_n(turn, 1, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(turn, __ATOMIC_ACQUIRE) != 0)
        ;
    int st = wait_for(child);
    CHECK(!bad && WIFEXITED(st) && WEXITSTATUS(st) == 0 && *value == 2 * rounds,
          "%d round trips, each side sees every store of the other: %s", rounds,
          YESNO(!bad && WIFEXITED(st) && WEXITSTATUS(st) == 0 && *value == 2 * rounds));

    child = xfork();
    if (child == 0) {
        munmap((void *)page, PAGE);
        _exit(0);
    }
    wait_for(child);
    page[2] = 9;
    CHECK(page[2] == 9 && *value == 2 * rounds,
          "the child's munmap leaves the parent's shared page mapped: %s",
          YESNO(page[2] == 9 && *value == 2 * rounds));
    munmap((void *)page, PAGE);
}

static void check_shared_file(void)
{
    const char *name = "fork_shared.tmp";
    char buf[2 * PAGE];
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);

    printf("shared file mapping:\n");
    memset(buf, '.', sizeof buf);
    write_full(fd, buf, sizeof buf);
    volatile char *shared = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    volatile char *priv = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    char first = priv[0];           /* page 0: read (maps the page cache page) */
    priv[PAGE] = 'p';               /* page 1: written, now a private copy */
    pid_t child = xfork();
    if (child == 0) {
        shared[0] = 'C';
        shared[PAGE] = 'D';
        _exit(0);
    }
    int st = wait_for(child);
    char via_read = 0;
    pread(fd, &via_read, 1, 0);
    CHECK(WIFEXITED(st) && shared[0] == 'C' && shared[PAGE] == 'D',
          "the child's stores are in the parent's shared mapping: %s",
          YESNO(shared[0] == 'C' && shared[PAGE] == 'D'));
    CHECK(via_read == 'C', "and in the file, by read(): %s", YESNO(via_read == 'C'));
    CHECK(first == '.' && priv[0] == 'C',
          "a MAP_PRIVATE page never written still shows the file: %s", YESNO(priv[0] == 'C'));
    CHECK(priv[PAGE] == 'p', "a MAP_PRIVATE page written before fork keeps its copy: %s",
          YESNO(priv[PAGE] == 'p'));
    munmap((void *)shared, 2 * PAGE);
    munmap((void *)priv, 2 * PAGE);
    close(fd);
    unlink(name);
}

static void check_mapping_after_fork(void)
{
    int fds[2], back[2];
    unsigned long addr = 0;

    if (pipe(fds) < 0 || pipe(back) < 0)
        exit(1);
    pid_t child = xfork();
    if (child == 0) {
        void *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        *(int *)m = 1;
        addr = (unsigned long)m;
        write_full(fds[1], &addr, sizeof addr);
        char b;
        read_full(back[0], &b, 1);  /* keep it mapped while the parent looks */
        _exit(0);
    }
    read_full(fds[0], &addr, sizeof addr);
    unsigned char vec = 0;
    errno = 0;
    int r = mincore((void *)addr, PAGE, &vec);
    /* ENOMEM: nothing is mapped there in the parent */
    CHECK(r < 0 && errno == ENOMEM,
          "a shared mapping the child made after fork is not in the parent: %s",
          r < 0 ? errno_name(errno) : "mapped");
    write_full(back[1], "x", 1);
    wait_for(child);
    close(fds[0]);
    close(fds[1]);
    close(back[0]);
    close(back[1]);
}

int main(void)
{
    proc_init();
    check_shared_anon();
    check_shared_file();
    check_mapping_after_fork();
    return proc_finish("fork_shared");
}
