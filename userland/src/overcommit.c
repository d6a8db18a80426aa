/* The overcommit policy (issue 10): what mmap, mprotect, mremap and fork
 * commit, as Committed_AS in /proc/meminfo shows it, and the requests each
 * vm.overcommit_memory mode refuses (Linux 4.14 mm/util.c
 * __vm_enough_memory, mm/mmap.c accountable_mapping).
 *
 *   overcommit guess     mode 0 (the default): a private writable mapping
 *                        larger than RAM + swap fails with ENOMEM; a
 *                        read-only or MAP_NORESERVE one does not.  Safe on
 *                        any host.
 *   overcommit account   the Committed_AS deltas of each kind of mapping
 *                        (exact only on a quiet machine: the board).
 *   overcommit never     sets vm.overcommit_memory = 2 (root), checks the
 *                        CommitLimit, and restores 0: for the board only,
 *                        never run it on a host.
 *   overcommit fill      touches RAM in small steps until the OOM killer.
 * Prints "ok ..." or "FAILED ..." lines; exit status 1 if any failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed;
#define MIB (1024L * 1024)

static void check(int ok, const char *what, long a, long b)
{
    printf("%s %s (%ld, %ld)\n", ok ? "ok" : "FAILED", what, a, b);
    if (!ok)
        failed = 1;
}

static long meminfo_kb(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':')
            v = atol(line + n + 1);
    if (f)
        fclose(f);
    return v;
}

static int set_sysctl(const char *path, const char *value)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(value, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void *map(long len, int prot, int flags)
{
    return mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
}

static void guess(void)
{
    long big = (meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")) * 1024 * 2;
    void *p = map(big, PROT_READ | PROT_WRITE, 0);
    check(p == MAP_FAILED && errno == ENOMEM, "rw mapping of 2 x (RAM + swap): ENOMEM",
          (long)(p == MAP_FAILED), errno);
    p = map(big, PROT_READ, 0);
    check(p != MAP_FAILED, "read-only mapping of 2 x (RAM + swap) is not charged", 0, 0);
    if (p != MAP_FAILED) {
        int r = mprotect(p, big, PROT_READ | PROT_WRITE);
        check(r == -1 && errno == ENOMEM, "mprotect making it writable: ENOMEM", r, errno);
        munmap(p, big);
    }
    p = map(big, PROT_READ | PROT_WRITE, MAP_NORESERVE);
    check(p != MAP_FAILED, "MAP_NORESERVE rw mapping of 2 x (RAM + swap) is not charged", 0, 0);
    if (p != MAP_FAILED)
        munmap(p, big);
    p = map(MIB, PROT_READ | PROT_WRITE, 0);
    void *q = p == MAP_FAILED ? p : mremap(p, MIB, big, MREMAP_MAYMOVE);
    check(q == MAP_FAILED && errno == ENOMEM, "mremap growing to 2 x (RAM + swap): ENOMEM",
          (long)(q == MAP_FAILED), errno);
    if (p != MAP_FAILED)
        munmap(p, MIB);
}

static void delta(const char *what, long before, long expect_kb)
{
    long now = meminfo_kb("Committed_AS");
    check(now - before == expect_kb, what, now - before, expect_kb);
}

static void account(void)
{
    long len = 64 * MIB, kb = len / 1024;
    long c = meminfo_kb("Committed_AS");
    void *p = map(len, PROT_READ | PROT_WRITE, 0);
    delta("rw private mapping charged", c, kb);
    munmap((char *)p + len / 2, len / 2);
    delta("half unmapped: half uncharged", c, kb / 2);
    munmap(p, len / 2);
    delta("unmapped: uncharged", c, 0);
    p = map(len, PROT_READ, 0);
    delta("read-only private mapping not charged", c, 0);
    mprotect(p, len / 4, PROT_READ | PROT_WRITE);
    delta("a quarter made writable: charged", c, kb / 4);
    mprotect(p, len / 4, PROT_READ);
    delta("made read-only again: still charged (VM_ACCOUNT stays)", c, kb / 4);
    munmap(p, len);
    delta("unmapped", c, 0);
    p = map(len, PROT_READ | PROT_WRITE, MAP_NORESERVE);
    delta("MAP_NORESERVE not charged", c, 0);
    munmap(p, len);
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    delta("shared mapping not charged as a VMA", c, 0);
    munmap(p, len);
    p = map(len / 2, PROT_READ | PROT_WRITE, 0);
    void *q = mremap(p, len / 2, len, MREMAP_MAYMOVE);
    delta("mremap grown: the growth charged", c, kb);
    q = mremap(q, len, len / 4, 0);
    delta("mremap shrunk: uncharged", c, kb / 4);
    munmap(q, len / 4);
    delta("unmapped", c, 0);
    p = map(len, PROT_READ | PROT_WRITE, 0);
    long in_parent = meminfo_kb("Committed_AS");
    int fds[2];
    pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        long child = meminfo_kb("Committed_AS");
        write(fds[1], &child, sizeof child);
        _exit(0);
    }
    long child;
    read(fds[0], &child, sizeof child);
    waitpid(pid, NULL, 0);
    check(child - in_parent >= kb, "fork charges the child's copies", child - in_parent, kb);
    delta("the child gone: uncharged", c, kb);
    munmap(p, len);
}

static void never(void)
{
    int bad = set_sysctl("/proc/sys/vm/overcommit_memory", "3");
    check(bad == -1 && errno == EINVAL, "vm.overcommit_memory = 3: EINVAL", bad, errno);
    if (set_sysctl("/proc/sys/vm/overcommit_memory", "2")) {
        check(0, "vm.overcommit_memory = 2 (run as root)", errno, 0);
        return;
    }
    long limit = meminfo_kb("CommitLimit"), committed = meminfo_kb("Committed_AS");
    long room = (limit - committed) * 1024;
    void *p = map(room + 64 * MIB, PROT_READ | PROT_WRITE, 0);
    check(p == MAP_FAILED && errno == ENOMEM, "past CommitLimit: ENOMEM", (long)(p == MAP_FAILED),
          errno);
    p = map(room + 64 * MIB, PROT_READ | PROT_WRITE, MAP_NORESERVE);
    check(p == MAP_FAILED && errno == ENOMEM, "MAP_NORESERVE ignored under mode 2: ENOMEM",
          (long)(p == MAP_FAILED), errno);
    p = map(room / 2, PROT_READ | PROT_WRITE, 0);
    check(p != MAP_FAILED, "half the room: mapped", 0, 0);
    void *r = map(room, PROT_READ, 0);
    check(r != MAP_FAILED, "read-only beyond the room: mapped", 0, 0);
    int e = r == MAP_FAILED ? 0 : mprotect(r, room, PROT_READ | PROT_WRITE);
    check(e == -1 && errno == ENOMEM, "mprotect it writable: ENOMEM", e, errno);
    void *s = sbrk(room);
    check(s == (void *)-1 && errno == ENOMEM, "brk past the room: ENOMEM", (long)(s == (void *)-1),
          errno);
    if (p != MAP_FAILED) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        check(pid == -1 && errno == ENOMEM, "fork doubling the charge: ENOMEM", pid, errno);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        munmap(p, room / 2);
    }
    if (r != MAP_FAILED)
        munmap(r, room);
    check(set_sysctl("/proc/sys/vm/overcommit_memory", "0") == 0, "restored mode 0", 0, 0);
}

/* Touch RAM 64 KiB at a time until the OOM killer ends the process (each
 * step is small enough for the heuristic to allow). */
static void fill(void)
{
    for (;;) {
        char *p = map(64 << 10, PROT_READ | PROT_WRITE, 0);
        if (p == MAP_FAILED) {
            check(0, "fill: mmap", errno, 0);
            return;
        }
        for (long i = 0; i < (64 << 10); i += 4096)
            p[i] = 1;
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *what = argc > 1 ? argv[1] : "guess";
    if (!strcmp(what, "guess"))
        guess();
    else if (!strcmp(what, "account"))
        account();
    else if (!strcmp(what, "never"))
        never();
    else if (!strcmp(what, "fill"))
        fill();
    else
        return 2;
    return failed;
}
