/*
 * fork_cow.c - fork() copies the address space copy-on-write (dup_mm,
 * copy_page_range write-protecting private pages; do_wp_page copying on the
 * first write from either side), and vfork() shares it.
 *
 * Checks, for a global (.data), a .bss page, the heap, the stack, a private
 * anonymous mapping and a private file mapping: the child sees the parent's
 * values; parent and child then write the same page at the same time
 * (lock-stepped through pipes) and each reads back its own value; after
 * the child exits the parent still has its own; the file is unchanged.
 * A 1 MiB region rewritten by the child is intact in the parent.  The
 * parent's pages are still writable after the child is gone (the COW break
 * on the parent's side, or reuse of the page once the child dropped it).
 * munmap/mprotect in the child do not touch the parent's VMAs.  The
 * anon_vma chains fork builds decide merging: a VMA the child inherited with
 * anonymous pages (chained to its parent's anon_vma and its own) does not
 * grow when the child maps next to it, while the parent's does, and so do
 * the child's own VMAs and inherited ones that never had pages.  vfork():
 * the child's writes are the parent's, and the parent runs only once the
 * child has exited; a vfork child's failed execve then _exit(127).
 */
#define _GNU_SOURCE
#include "proc.h"

#include <setjmp.h>
#include <sys/mman.h>

static int data_var = 100;                 /* .data */
static char bss_page[PAGE] __attribute__((aligned(4096)));

static void sync_write(int fd)
{
    char b = 1;
    write_full(fd, &b, 1);
}

static void sync_read(int fd)
{
    char b;
    read_full(fd, &b, 1);
}

static void check_one_page(const char *what, volatile int *p)
{
    int to_child[2], to_parent[2];
    pid_t child;

    if (pipe(to_child) < 0 || pipe(to_parent) < 0)
        exit(1);
    *p = 100;
    child = xfork();
    if (child == 0) {
        int bad = 0;
        bad |= *p != 100;           /* inherited */
        sync_read(to_child[0]);     /* the parent has written 'P' */
        bad |= (*p != 100) << 1;    /* ...but not to our copy */
        *p = 200;
        sync_write(to_parent[1]);
        sync_read(to_child[0]);     /* the parent has checked */
        bad |= (*p != 200) << 2;
        _exit(bad);
    }
    *p = 111;                       /* parent writes first */
    sync_write(to_child[1]);
    sync_read(to_parent[0]);        /* the child has written 200 */
    int parent_ok = *p == 111;
    sync_write(to_child[1]);
    int st = wait_for(child);
    parent_ok &= *p == 111;
    *p = 112;                       /* still writable after the child is gone */
    parent_ok &= *p == 112;
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && parent_ok,
          "%s: child inherited it; both wrote the same page; each sees its own: %s", what,
          WIFEXITED(st) && WEXITSTATUS(st) == 0 ? YESNO(parent_ok) : status_str(st));
    close(to_child[0]);
    close(to_child[1]);
    close(to_parent[0]);
    close(to_parent[1]);
}

static void check_private_file(void)
{
    const char *name = "fork_cow.tmp";
    char page[PAGE];
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);

    memset(page, 'f', sizeof page);
    write_full(fd, page, sizeof page);
    volatile char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    char before = m[0];             /* fault the page cache page in, read-only */
    pid_t child = xfork();
    if (child == 0) {
        m[0] = 'c';
        _exit(m[0] == 'c' && m[1] == 'f' ? 0 : 1);
    }
    int st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && before == 'f' && m[0] == 'f',
          "private file mapping: the child's write is its own copy: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0 && m[0] == 'f'));
    m[0] = 'p';
    char b = 0;
    pread(fd, &b, 1, 0);
    CHECK(b == 'f', "the file still holds 'f' after both wrote their copies: %s",
          YESNO(b == 'f'));
    munmap((void *)m, PAGE);
    close(fd);
    unlink(name);
}

static void check_big_region(void)
{
    size_t len = 1 << 20;
    unsigned char *r = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned long sum = 0, want = 0;

    for (size_t i = 0; i < len; i++)
        r[i] = (unsigned char)(i * 7);
    pid_t child = xfork();
    if (child == 0) {
        for (size_t i = 0; i < len; i += 64)
            r[i] ^= 0xff;
        unsigned long s = 0;
        for (size_t i = 0; i < len; i += 64)
            s += r[i];
        unsigned long w = 0;
        for (size_t i = 0; i < len; i += 64)
            w += (unsigned char)((i * 7) ^ 0xff);
        _exit(s == w ? 0 : 1);
    }
    int st = wait_for(child);
    for (size_t i = 0; i < len; i++) {
        sum += r[i];
        want += (unsigned char)(i * 7);
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && sum == want,
          "1 MiB region: the child rewrote 256 pages, the parent's are intact: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0 && sum == want));
    munmap(r, len);
}

static sigjmp_buf segv_env;

static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(segv_env, 1);
}

static void check_vma_changes_stay_in_child(void)
{
    char *a = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    memset(a, 'a', 3 * PAGE);
    pid_t child = xfork();
    if (child == 0) {
        signal(SIGSEGV, on_segv);
        munmap(a + PAGE, PAGE);
        mprotect(a, PAGE, PROT_READ);
        int faults = 0;
        if (sigsetjmp(segv_env, 1) == 0)
            a[PAGE] = 1;
        else
            faults++;
        if (sigsetjmp(segv_env, 1) == 0)
            a[0] = 1;
        else
            faults++;
        _exit(faults == 2 ? 0 : 1);
    }
    int st = wait_for(child);
    a[0] = 'x';
    a[PAGE] = 'y';
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && a[PAGE + 1] == 'a',
          "munmap and mprotect in the child (which faulted on both) leave the parent's "
          "pages mapped and writable: %s",
          YESNO(WIFEXITED(st) && WEXITSTATUS(st) == 0 && a[PAGE + 1] == 'a'));
    munmap(a, 3 * PAGE);
}

static void check_vfork(void)
{
    static volatile int shared_by_vfork;
    volatile int order = 0;

    shared_by_vfork = 1;
    pid_t child = vfork();
    if (child == 0) {
        shared_by_vfork = 42;       /* the parent's memory: vfork shares the mm */
        order = 1;
        _exit(0);
    }
    /* the parent is suspended until the child exits (or execs) */
    int seen_order = order;
    int st = wait_for(child);
    CHECK(shared_by_vfork == 42, "vfork: the child's store is in the parent's memory: %s",
          YESNO(shared_by_vfork == 42));
    CHECK(seen_order == 1, "vfork: the parent resumed after the child's _exit: %s",
          YESNO(seen_order == 1));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "vfork child %s", status_str(st));

    child = vfork();
    if (child == 0) {
        char *argv[] = {"nonexistent", NULL};
        execve("./fork_cow-nonexistent", argv, argv + 1);
        _exit(127);
    }
    st = wait_for(child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 127,
          "vfork + execve of a missing file, then _exit(127): %s", status_str(st));
}

/*
 * No argument: everything.  `cow`: the fork checks only, `vfork`: the vfork
 * checks only (qemu-user implements vfork() as fork(), so the test compares
 * `cow` with qemu and the whole program with the host kernel).
 */
/* How many VMAs of /proc/self/maps overlap [lo, hi). */
static int vmas_in(char *lo, char *hi)
{
    char line[512];
    int n = 0;
    FILE *f = fopen("/proc/self/maps", "r");

    while (f && fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s < (unsigned long)hi &&
            e > (unsigned long)lo)
            n++;
    }
    if (f)
        fclose(f);
    return n;
}

/* Map one more page right after `at` (MAP_FIXED, inside our own reservation). */
static void map_after(char *at)
{
    mmap(at + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static void check_anon_vma_merging(void)
{
    /* A PROT_NONE reservation keeps other mappings out of the way. */
    char *r = mmap(NULL, 16 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *written = mmap(r + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    char *unwritten = mmap(r + 6 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

    written[0] = 1;
    int fds[2];
    if (pipe(fds) < 0)
        return;
    pid_t child = xfork();
    if (child == 0) {
        map_after(written);
        map_after(unwritten);
        char *own = mmap(r + 10 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        own[0] = 1;
        map_after(own);
        char counts[3] = { (char)vmas_in(written, written + 2 * PAGE),
                           (char)vmas_in(unwritten, unwritten + 2 * PAGE),
                           (char)vmas_in(own, own + 2 * PAGE) };
        _exit(write(fds[1], counts, 3) == 3 ? 0 : 1);
    }
    char counts[3] = { 0, 0, 0 };
    wait_for(child);
    if (read(fds[0], counts, 3) != 3)
        counts[0] = 0;
    close(fds[0]);
    close(fds[1]);
    map_after(written);
    int parent = vmas_in(written, written + 2 * PAGE);
    CHECK(counts[0] == 2, "child: a new page next to an inherited written VMA stays apart: "
          "%d VMA(s)", counts[0]);
    CHECK(counts[1] == 1, "child: next to an inherited VMA without pages it merges: %d VMA(s)",
          counts[1]);
    CHECK(counts[2] == 1, "child: next to its own written VMA it merges: %d VMA(s)", counts[2]);
    CHECK(parent == 1, "parent: next to its written VMA it merges: %d VMA(s)", parent);
    munmap(r, 16 * PAGE);
}

int main(int argc, char **argv)
{
    int do_cow = argc < 2 || strcmp(argv[1], "cow") == 0;
    int do_vfork = argc < 2 || strcmp(argv[1], "vfork") == 0;
    int stack_var = 0;
    int *heap = malloc(64 * sizeof(int));
    int *anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    proc_init();
    if (do_cow) {
        printf("fork, copy-on-write:\n");
        check_one_page(".data variable", &data_var);
        check_one_page(".bss page", (int *)bss_page);
        check_one_page("heap block", heap);
        check_one_page("stack variable", &stack_var);
        check_one_page("private anonymous mapping", anon);
        check_private_file();
        check_big_region();
        check_vma_changes_stay_in_child();
        check_anon_vma_merging();
    }
    if (do_vfork) {
        printf("vfork:\n");
        check_vfork();
    }
    free(heap);
    return proc_finish("fork_cow");
}
