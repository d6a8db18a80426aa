/*
 * sys_proc.c - /proc and /sys as programs read them (issue 9 part 7).
 *
 * Self-checking: every line is "  ok: fact" or "  FAILED: fact", and the
 * facts are ones that hold on any Linux (no pid, address or size is
 * printed), so the host build on the real kernel and the AArch64 builds on
 * a53emu must print the same text.  The checks read /proc the way tools do
 * and compare it with what the system calls say: /proc/self against
 * getpid(), status and statm against what was touched, maps against mmap(),
 * pagemap's present bits against touched pages, fd/ links against open
 * files, limits against getrlimit(), uptime and meminfo against sysinfo(),
 * osrelease against uname().
 *
 *   sys_proc          the portable checks (compared with the host kernel)
 *   sys_proc board    prints board facts for tests/test_sys_proc.py (a53emu
 *                     only): the virtual address and PFN of a touched page,
 *                     and the first bytes of /proc/config.gz
 */
#include "proc.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/utsname.h>

#define PM_PRESENT (1ULL << 63)
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_FILE (1ULL << 61)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define TOUCHED_PAGES 64

static char buf[1 << 16];

static const char *err_name(int e)
{
    if (e == EIO)
        return "EIO";
    if (e == ELOOP)
        return "ELOOP";
    return errno_name(e);
}

/* The whole of a /proc file into buf (NUL-terminated); its length or -errno. */
static long slurp(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    long n = 0, r;

    if (fd < 0)
        return -errno;
    while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
        n += r;
    close(fd);
    buf[n] = 0;
    return r < 0 ? -errno : n;
}

/* The number after "key" at the start of a line of buf, or -1. */
static long field(const char *key)
{
    size_t len = strlen(key);
    const char *p = buf;

    while (p && *p) {
        if (!strncmp(p, key, len))
            return strtol(p + len, NULL, 10);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

/* The rest of the line after "key" in buf (into out). */
static int line_after(const char *key, char *out, size_t size)
{
    size_t len = strlen(key);
    const char *p = buf;

    while (p && *p) {
        if (!strncmp(p, key, len)) {
            const char *end = strchr(p, '\n');
            size_t n = end ? (size_t)(end - p - len) : strlen(p + len);

            if (n >= size)
                n = size - 1;
            memcpy(out, p + len, n);
            out[n] = 0;
            return 1;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

static long vm_rss_kb(void)
{
    slurp("/proc/self/status");
    return field("VmRSS:");
}

static uint64_t pagemap_entry(void *addr)
{
    uint64_t e = 0;
    int fd = open("/proc/self/pagemap", O_RDONLY);

    if (fd < 0)
        return 0;
    if (pread(fd, &e, 8, (off_t)((uintptr_t)addr / PAGE * 8)) != 8)
        e = 0;
    close(fd);
    return e;
}

static void check_self_links(void)
{
    char link[64], want[64];
    ssize_t n;

    printf("-- /proc/self, /proc/thread-self --\n");
    n = readlink("/proc/self", link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    snprintf(want, sizeof(want), "%d", getpid());
    CHECK(!strcmp(link, want), "readlink(/proc/self) is getpid()");
    n = readlink("/proc/thread-self", link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    snprintf(want, sizeof(want), "%d/task/%d", getpid(), sys_gettid());
    CHECK(!strcmp(link, want), "readlink(/proc/thread-self) is PID/task/TID");
    snprintf(want, sizeof(want), "/proc/%d/status", getpid());
    CHECK(slurp(want) > 0 && field("Pid:") == getpid(), "/proc/PID/status of our pid is ours");
}

static void check_status(void)
{
    char text[128];
    sigset_t set;
    long before, after;
    char *p;
    int i;

    printf("-- /proc/self/status --\n");
    prctl(PR_SET_NAME, "sys_proc_main");
    umask(027);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGUSR2, (void (*)(int))exit);
    signal(SIGPIPE, SIG_IGN);
    slurp("/proc/self/status");
    CHECK(line_after("Name:\t", text, sizeof(text)) && !strcmp(text, "sys_proc_main"),
          "Name: is the comm set by prctl(PR_SET_NAME)");
    CHECK(line_after("Umask:\t", text, sizeof(text)) && !strcmp(text, "0027"),
          "Umask: 0027 after umask(027)");
    CHECK(field("Pid:\t") == getpid() && field("Tgid:\t") == getpid(), "Pid: and Tgid: are getpid()");
    CHECK(field("PPid:\t") == getppid(), "PPid: is getppid()");
    CHECK(field("Uid:\t") == (long)getuid() && field("Gid:\t") == (long)getgid(),
          "Uid: and Gid: start with getuid(), getgid()");
    CHECK(field("Threads:\t") == 1, "Threads: 1");
    CHECK(field("FDSize:\t") >= 64, "FDSize: at least 64");
    CHECK(line_after("SigBlk:\t", text, sizeof(text)) &&
          strtoull(text, NULL, 16) == 1ULL << (SIGUSR1 - 1), "SigBlk: is SIGUSR1's bit");
    CHECK(line_after("SigIgn:\t", text, sizeof(text)) &&
          (strtoull(text, NULL, 16) >> (SIGPIPE - 1) & 1), "SigIgn: has SIGPIPE");
    CHECK(line_after("SigCgt:\t", text, sizeof(text)) &&
          (strtoull(text, NULL, 16) >> (SIGUSR2 - 1) & 1), "SigCgt: has SIGUSR2");
    CHECK(line_after("Cpus_allowed_list:\t", text, sizeof(text)) && text[0] == '0',
          "Cpus_allowed_list: starts at cpu 0");
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    umask(022);

    before = vm_rss_kb();
    p = mmap(NULL, TOUCHED_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    for (i = 0; i < TOUCHED_PAGES; i++)
        p[i * PAGE] = 1;
    after = vm_rss_kb();
    CHECK(after - before >= (long)(TOUCHED_PAGES * PAGE / 1024) - 16,
          "VmRSS: grows by the %d pages touched", TOUCHED_PAGES);
    munmap(p, TOUCHED_PAGES * PAGE);
    CHECK(vm_rss_kb() <= after - (long)(TOUCHED_PAGES * PAGE / 1024) + 16,
          "VmRSS: shrinks by them after munmap()");
}

static void check_stat_statm(void)
{
    static char stat_text[4096];
    unsigned long size, resident, shared, vsize = 0;
    long vmsize_kb, threads = 0, ppid = 0, pid;
    char comm[64], *close_paren;

    printf("-- /proc/self/stat, statm --\n");
    slurp("/proc/self/stat");
    strcpy(stat_text, buf);
    slurp("/proc/self/statm");
    sscanf(buf, "%lu %lu %lu", &size, &resident, &shared);
    slurp("/proc/self/status");
    vmsize_kb = field("VmSize:");
    pid = strtol(stat_text, NULL, 10);
    close_paren = strrchr(stat_text, ')');
    sscanf(stat_text, "%*d (%63[^)]", comm);
    if (close_paren) {
        /* fields 3.. after the comm: state ppid pgrp ... (field 20 threads, 23 vsize) */
        char *f = close_paren + 2;
        int i;

        for (i = 3; i <= 23 && f; i++) {
            if (i == 4)
                ppid = strtol(f, NULL, 10);
            if (i == 20)
                threads = strtol(f, NULL, 10);
            if (i == 23)
                vsize = strtoul(f, NULL, 10);
            f = strchr(f, ' ');
            if (f)
                f++;
        }
    }
    CHECK(pid == getpid(), "stat field 1 is getpid()");
    CHECK(!strcmp(comm, "sys_proc_main"), "stat field 2 is (comm)");
    CHECK(ppid == getppid(), "stat field 4 is getppid()");
    CHECK(threads == 1, "stat field 20 (num_threads) is 1");
    CHECK(vsize == size * PAGE, "stat vsize is statm size in bytes");
    CHECK((unsigned long)vmsize_kb * 1024 == size * PAGE, "status VmSize is statm size");
    CHECK(resident >= shared && resident > 0, "statm resident >= shared > 0");
}

static void check_maps_smaps_pagemap(void)
{
    char want[128], *p, *q;
    unsigned long start, end;
    uint64_t e_touched, e_untouched, e_read1, e_read2;
    int found = 0, pieces = 0;
    const char *line;
    long rss = -1, anon = -1, pdirty = -1;

    printf("-- maps, smaps, pagemap --\n");
    p = mmap(NULL, 5 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    slurp("/proc/self/maps");
    snprintf(want, sizeof(want), "%lx-%lx r--p ", (unsigned long)p, (unsigned long)p + 5 * PAGE);
    CHECK(strstr(buf, want) != NULL, "maps has the new mapping, r--p");
    mprotect(p + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE);
    slurp("/proc/self/maps");
    for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start >= (unsigned long)p &&
            end <= (unsigned long)p + 5 * PAGE)
            pieces++;
    }
    CHECK(pieces == 3, "mprotect() of the middle page splits it into 3 lines");
    munmap(p, 5 * PAGE);

    /* 16 read-write pages between two PROT_NONE guards: a VMA of their own. */
    q = mmap(NULL, 18 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) + PAGE;
    mprotect(q, 16 * PAGE, PROT_READ | PROT_WRITE);
    memset(q, 7, 8 * PAGE);
    slurp("/proc/self/smaps");
    snprintf(want, sizeof(want), "%lx-%lx rw-p ", (unsigned long)q, (unsigned long)q + 16 * PAGE);
    line = strstr(buf, want);
    if (line) {
        const char *next = strchr(line, '\n');
        char *saved = buf;

        memmove(buf, next + 1, strlen(next + 1) + 1);
        (void)saved;
        rss = field("Rss:");
        anon = field("Anonymous:");
        pdirty = field("Private_Dirty:");
        found = 1;
    }
    CHECK(found, "smaps has the mapping");
    CHECK(rss == 32 && anon == 32 && pdirty == 32,
          "smaps: Rss, Anonymous and Private_Dirty are the 8 pages written (32 kB)");

    e_touched = pagemap_entry(q);
    e_untouched = pagemap_entry(q + 12 * PAGE);
    CHECK(e_touched & PM_PRESENT, "pagemap: a written page is present");
    CHECK(e_touched & PM_EXCLUSIVE, "pagemap: ... mapped once (exclusive)");
    CHECK(!(e_touched & PM_FILE), "pagemap: ... anonymous (not file/shared)");
    CHECK(!(e_untouched & PM_PRESENT), "pagemap: an untouched page is not present");
    CHECK(((e_touched & PM_PFN_MASK) != 0) == (geteuid() == 0),
          "pagemap: the PFN shows exactly when we are root (CAP_SYS_ADMIN)");
    CHECK((pagemap_entry(q + PAGE) & PM_PFN_MASK) != (e_touched & PM_PFN_MASK) || geteuid() != 0,
          "pagemap: two written pages have different frames");
    {
        volatile char c = q[13 * PAGE] + q[14 * PAGE];
        (void)c;
    }
    e_read1 = pagemap_entry(q + 13 * PAGE);
    e_read2 = pagemap_entry(q + 14 * PAGE);
    CHECK((e_read1 & PM_PRESENT) && !(e_read1 & PM_EXCLUSIVE),
          "pagemap: a page only read is present, not exclusive (the zero page)");
    CHECK((e_read1 & PM_PFN_MASK) == (e_read2 & PM_PFN_MASK),
          "pagemap: two pages only read share one frame");
    {
        int fd = open("/proc/self/pagemap", O_RDONLY);
        uint64_t e;

        errno = 0;
        CHECK(pread(fd, &e, 4, 0) < 0 && errno == EINVAL, "pagemap: a 4-byte read is EINVAL");
        errno = 0;
        CHECK(pread(fd, &e, 8, 4) < 0 && errno == EINVAL, "pagemap: an offset of 4 is EINVAL");
        close(fd);
    }
    munmap(q - PAGE, 18 * PAGE);
}

static void check_cmdline_environ_auxv(int argc, char **argv, char **envp)
{
    long n;
    int i, ok = 1;
    size_t off = 0;
    uint64_t *av;
    unsigned long pagesz = 0, entry = 0, nulls = 0, last_key = 1;

    printf("-- cmdline, environ, auxv, comm --\n");
    n = slurp("/proc/self/cmdline");
    for (i = 0; i < argc; i++) {
        if (strcmp(buf + off, argv[i]))
            ok = 0;
        off += strlen(argv[i]) + 1;
    }
    CHECK(ok && (long)off == n, "cmdline is argv, NUL-terminated strings");
    slurp("/proc/self/environ");
    CHECK(envp[0] == NULL || !strcmp(buf, envp[0]), "environ starts with envp[0]");
    n = slurp("/proc/self/auxv");
    av = (uint64_t *)buf;
    for (i = 0; i + 1 < n / 8; i += 2) {
        if (av[i] == AT_PAGESZ)
            pagesz = av[i + 1];
        if (av[i] == AT_ENTRY)
            entry = av[i + 1];
        if (av[i] == AT_NULL)
            nulls++;
        last_key = av[i];
    }
    CHECK(n % 16 == 0 && nulls == 1 && last_key == AT_NULL, "auxv: pairs ending in one AT_NULL");
    CHECK(pagesz == getauxval(AT_PAGESZ) && pagesz == (unsigned long)getpagesize(),
          "auxv: AT_PAGESZ is getauxval()'s and getpagesize()'s");
    CHECK(entry && entry == getauxval(AT_ENTRY), "auxv: AT_ENTRY is getauxval()'s");

    {
        char name[17] = {0};
        int fd;

        prctl(PR_SET_NAME, "a-name-longer-than-15");
        slurp("/proc/self/comm");
        CHECK(!strcmp(buf, "a-name-longer-t\n"), "comm: PR_SET_NAME truncated to 15 bytes");
        fd = open("/proc/self/comm", O_WRONLY);
        CHECK(fd >= 0 && write(fd, "written", 7) == 7, "comm: write() to /proc/self/comm");
        close(fd);
        prctl(PR_GET_NAME, name);
        CHECK(!strcmp(name, "written"), "comm: PR_GET_NAME sees the written name");
        prctl(PR_SET_NAME, "sys_proc_main");
    }
}

static void check_links_fds(char **argv)
{
    char link[PATH_MAX], cwd[PATH_MAX], path[64];
    struct stat a, b;
    ssize_t n;
    int fd, fd2, found = 0;
    DIR *d;
    struct dirent *de;

    printf("-- exe, cwd, fd/, fdinfo/ --\n");
    CHECK(stat("/proc/self/exe", &a) == 0 && stat(argv[0], &b) == 0 && a.st_ino == b.st_ino &&
          a.st_dev == b.st_dev, "/proc/self/exe is the program file");
    n = readlink("/proc/self/cwd", link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    CHECK(getcwd(cwd, sizeof(cwd)) && !strcmp(link, cwd), "readlink(/proc/self/cwd) is getcwd()");

    fd = open("sys_proc.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(write(fd, "0123456789", 10) == 10, "write 10 bytes to a scratch file");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    n = readlink(path, link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    strcat(cwd, "/sys_proc.tmp");
    CHECK(!strcmp(link, cwd), "readlink(/proc/self/fd/N) is the file's absolute name");
    fd2 = open(path, O_RDONLY);
    CHECK(fd2 >= 0 && fstat(fd2, &a) == 0 && fstat(fd, &b) == 0 && a.st_ino == b.st_ino,
          "open(/proc/self/fd/N) opens the same file");
    CHECK(fd2 >= 0 && read(fd2, link, 4) == 4 && !memcmp(link, "0123", 4),
          "... with an offset of its own");
    close(fd2);
    d = opendir("/proc/self/fd");
    while (d && (de = readdir(d)))
        if (atoi(de->d_name) == fd && de->d_name[0] != '.')
            found = 1;
    if (d)
        closedir(d);
    CHECK(found, "/proc/self/fd lists the descriptor");
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
    slurp(path);
    {
        long flags = -1;
        char text[64];

        if (line_after("flags:\t", text, sizeof(text)))
            flags = strtol(text, NULL, 8);
        CHECK(field("pos:\t") == 10, "fdinfo: pos 10 after writing 10 bytes");
        CHECK((flags & O_ACCMODE) == O_WRONLY && (flags & O_CLOEXEC),
              "fdinfo: flags are O_WRONLY with O_CLOEXEC");
        CHECK(field("mnt_id:\t") > 0, "fdinfo: a mnt_id");
    }
    close(fd);
    errno = 0;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    CHECK(readlink(path, link, sizeof(link)) < 0 && errno == ENOENT,
          "after close(), /proc/self/fd/N is ENOENT");
    unlink("sys_proc.tmp");
}

static void check_limits(void)
{
    struct rlimit rl = {100, 200};
    char text[128];

    printf("-- limits --\n");
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 100;
    setrlimit(RLIMIT_NOFILE, &rl);
    slurp("/proc/self/limits");
    snprintf(text, sizeof(text), "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit",
             "Hard Limit", "Units");
    CHECK(!strncmp(buf, text, strlen(text)), "limits: the header line");
    CHECK(line_after("Max open files            ", text, sizeof(text)) &&
          strtoul(text, NULL, 10) == 100, "limits: Max open files soft is getrlimit()'s");
    getrlimit(RLIMIT_STACK, &rl);
    CHECK(line_after("Max stack size            ", text, sizeof(text)) &&
          (rl.rlim_cur == RLIM_INFINITY ? !strncmp(text, "unlimited", 9)
                                        : strtoul(text, NULL, 10) == rl.rlim_cur),
          "limits: Max stack size is getrlimit()'s");
    CHECK(strstr(buf, "Max realtime timeout      ") != NULL, "limits: all 16 rows (the last)");
}

static void check_mem(void)
{
    char local[32] = "the bytes of a local buffer";
    char back[32] = {0};
    int fd = open("/proc/self/mem", O_RDWR);
    char *unmapped;

    printf("-- mem --\n");
    CHECK(fd >= 0, "open(/proc/self/mem, O_RDWR)");
    CHECK(pread(fd, back, sizeof(back), (off_t)(uintptr_t)local) == sizeof(back) &&
          !memcmp(back, local, sizeof(back)), "pread() at a buffer's address reads it");
    CHECK(pwrite(fd, "THE", 3, (off_t)(uintptr_t)local) == 3 && !memcmp(local, "THE bytes", 9),
          "pwrite() at its address changes it");
    {
        /* FOLL_FORCE: mem writes a private page its mapping keeps read-only,
         * as a debugger plants a breakpoint; the mapping stays read-only. */
        char *ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *shared = mmap(NULL, PAGE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

        strcpy(ro, "before");
        mprotect(ro, PAGE, PROT_READ);
        CHECK(pwrite(fd, "AFTER!", 6, (off_t)(uintptr_t)ro) == 6 && !strcmp(ro, "AFTER!"),
              "pwrite() into a read-only private page (FOLL_FORCE)");
        CHECK(pwrite(fd, "x", 1, (off_t)(uintptr_t)(ro + PAGE / 2)) == 1 && ro[PAGE / 2] == 'x',
              "... again, the page now ours");
        slurp("/proc/self/maps");
        snprintf(back, sizeof(back), "%lx-", (unsigned long)ro);
        CHECK(strstr(buf, back) && !strncmp(strstr(buf, back) + strlen(back) + 13, "r--p", 4),
              "... and the mapping is still r--p");
        errno = 0;
        CHECK(pwrite(fd, "x", 1, (off_t)(uintptr_t)shared) < 0 && errno == EIO,
              "pwrite() into a read-only shared mapping: EIO");
        munmap(ro, PAGE);
        munmap(shared, PAGE);
    }
    {
        /* ... and a private file mapping gets a copy: the file keeps its bytes. */
        int f = open("sys_proc.map", O_RDWR | O_CREAT | O_TRUNC, 0600);
        char *m, data[9] = {0};

        CHECK(write(f, "filedata", 8) == 8, "a scratch file with 8 bytes");
        m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, f, 0);
        CHECK(pwrite(fd, "FILE", 4, (off_t)(uintptr_t)m) == 4 && !memcmp(m, "FILEdata", 8),
              "pwrite() into a read-only private file mapping");
        CHECK(pread(f, data, 8, 0) == 8 && !strcmp(data, "filedata"),
              "... the file itself is unchanged (a private copy)");
        munmap(m, PAGE);
        close(f);
        unlink("sys_proc.map");
    }
    unmapped = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(unmapped, PAGE);
    errno = 0;
    CHECK(pread(fd, back, 8, (off_t)(uintptr_t)unmapped) < 0 && errno == EIO,
          "pread() of an unmapped address is EIO");
    close(fd);
}

/* Another process's memory: process_vm_readv/writev and /proc/PID/mem. */
static void check_remote(void)
{
    static char shared_addr[64] = "parent's bytes";
    int go[2], done[2], status = -1, fd;
    char path[64], got[64] = {0};
    struct iovec local, remote;
    pid_t child;

    printf("-- another process's memory --\n");
    if (pipe(go) || pipe(done))
        return;
    child = xfork();
    if (child == 0) {
        char c;

        strcpy(shared_addr, "child's own bytes");
        if (write(done[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(2);
        _exit(strcmp(shared_addr, "written by parent") ? 1 : 0);
    }
    read(done[0], got, 1);
    local.iov_base = got;
    local.iov_len = 17;
    remote.iov_base = shared_addr;
    remote.iov_len = 17;
    CHECK(process_vm_readv(child, &local, 1, &remote, 1, 0) == 17 &&
          !memcmp(got, "child's own bytes", 17), "process_vm_readv() reads the child's copy");
    errno = 0;
    CHECK(process_vm_readv(child, &local, 1, &remote, 1, 1) < 0 && errno == EINVAL,
          "process_vm_readv() with flags 1: EINVAL");
    snprintf(path, sizeof(path), "/proc/%d/mem", child);
    fd = open(path, O_RDWR);
    memset(got, 0, sizeof(got));
    CHECK(fd >= 0 && pread(fd, got, 17, (off_t)(uintptr_t)shared_addr) == 17 &&
          !memcmp(got, "child's own bytes", 17), "/proc/CHILD/mem reads the child's copy");
    close(fd);
    local.iov_base = "written by parent";
    local.iov_len = 18;
    remote.iov_len = 18;
    CHECK(process_vm_writev(child, &local, 1, &remote, 1, 0) == 18,
          "process_vm_writev() into the child");
    CHECK(!strcmp(shared_addr, "parent's bytes"), "our own copy is untouched");
    write(go[1], "g", 1);
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child saw the written bytes");
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
}

static void *thread_body(void *arg)
{
    pthread_barrier_t *bar = arg;

    pthread_barrier_wait(bar);
    pthread_barrier_wait(bar);
    return NULL;
}

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int n = 0;

    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

static void check_tasks(void)
{
    pthread_barrier_t bar;
    pthread_t th;
    char path[64];
    pid_t child;
    struct stat st;
    int status;

    printf("-- task/, pid directories --\n");
    CHECK(count_dir("/proc/self/task") == 1, "task/ has one thread");
    pthread_barrier_init(&bar, NULL, 2);
    pthread_create(&th, NULL, thread_body, &bar);
    pthread_barrier_wait(&bar);
    CHECK(count_dir("/proc/self/task") == 2, "task/ has two after pthread_create()");
    slurp("/proc/self/status");
    CHECK(field("Threads:\t") == 2, "status Threads: 2");
    pthread_barrier_wait(&bar);
    pthread_join(th, NULL);
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", sys_gettid());
    CHECK(slurp(path) > 0 && strtol(buf, NULL, 10) == sys_gettid(),
          "task/TID/stat starts with the tid");

    child = xfork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    snprintf(path, sizeof(path), "/proc/%d", child);
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "a child's /proc/PID is a directory");
    {
        DIR *d = opendir("/proc");
        struct dirent *de;
        int seen = 0;

        while (d && (de = readdir(d)))
            if (atoi(de->d_name) == child)
                seen = 1;
        if (d)
            closedir(d);
        CHECK(seen, "readdir(/proc) lists the child");
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", child);
    slurp(path);
    {
        char *f = strrchr(buf, ')');
        CHECK(f && strtol(f + 4, NULL, 10) == getpid(), "the child's stat names us as parent");
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    snprintf(path, sizeof(path), "/proc/%d", child);
    errno = 0;
    CHECK(stat(path, &st) < 0 && errno == ENOENT, "after it is reaped, /proc/PID is ENOENT");
}

static int parse_cpu_list(const char *s)
{
    int n = 0, a, b, k;

    while (*s && *s != '\n') {
        if (sscanf(s, "%d-%d%n", &a, &b, &k) == 2)
            n += b - a + 1;
        else if (sscanf(s, "%d%n", &a, &k) == 1)
            n += 1;
        else
            break;
        s += k;
        if (*s == ',')
            s++;
    }
    return n;
}

static void check_globals(void)
{
    struct sysinfo si;
    struct utsname u;
    char text[256], want[300];
    int online, cpus = 0, statcpus = 0;
    double up = 0;
    const char *p;

    printf("-- global files --\n");
    uname(&u);
    sysinfo(&si);
    slurp("/proc/meminfo");
    CHECK((unsigned long long)field("MemTotal:") * 1024 ==
          (unsigned long long)si.totalram * si.mem_unit, "meminfo MemTotal is sysinfo() totalram");
    CHECK(field("MemFree:") > 0 && field("MemFree:") <= field("MemTotal:"),
          "meminfo MemFree within MemTotal");
    CHECK(field("SwapTotal:") * 1024 == (long)(si.totalswap * si.mem_unit),
          "meminfo SwapTotal is sysinfo() totalswap");
    slurp("/proc/uptime");
    sscanf(buf, "%lf", &up);
    CHECK(up - si.uptime > -2 && up - si.uptime < 2, "uptime within a second of sysinfo()'s");
    slurp("/proc/version");
    snprintf(want, sizeof(want), "Linux version %s ", u.release);
    CHECK(!strncmp(buf, want, strlen(want)), "version starts with uname()'s release");
    slurp("/proc/sys/kernel/osrelease");
    snprintf(want, sizeof(want), "%s\n", u.release);
    CHECK(!strcmp(buf, want), "sys/kernel/osrelease is uname()'s release");
    slurp("/proc/sys/kernel/ostype");
    CHECK(!strcmp(buf, "Linux\n"), "sys/kernel/ostype is Linux");
    slurp("/proc/sys/kernel/hostname");
    snprintf(want, sizeof(want), "%s\n", u.nodename);
    CHECK(!strcmp(buf, want), "sys/kernel/hostname is uname()'s nodename");
    slurp("/proc/sys/kernel/pid_max");
    CHECK(atol(buf) >= 301 && getpid() < atol(buf), "sys/kernel/pid_max above our pid");
    slurp("/proc/sys/vm/max_map_count");
    CHECK(atol(buf) > 0, "sys/vm/max_map_count is a number");
    {
        char boot[64], uuid1[64];

        slurp("/proc/sys/kernel/random/boot_id");
        strcpy(boot, buf);
        slurp("/proc/sys/kernel/random/boot_id");
        CHECK(!strcmp(boot, buf) && strlen(boot) == 37, "random/boot_id: one UUID per boot");
        slurp("/proc/sys/kernel/random/uuid");
        strcpy(uuid1, buf);
        slurp("/proc/sys/kernel/random/uuid");
        CHECK(strcmp(uuid1, buf) && strlen(buf) == 37 && buf[14] == '4',
              "random/uuid: a new version-4 UUID per read");
    }
    slurp("/proc/sys/vm/overcommit_memory");
    CHECK(buf[0] >= '0' && buf[0] <= '2' && buf[1] == '\n', "sys/vm/overcommit_memory is 0..2");

    slurp("/sys/devices/system/cpu/online");
    online = parse_cpu_list(buf);
    slurp("/sys/devices/system/cpu/possible");
    CHECK(online > 0 && parse_cpu_list(buf) >= online, "sys cpu possible covers online");
    slurp("/proc/cpuinfo");
    for (p = buf; (p = strstr(p, "processor\t: ")); p++)
        cpus++;
    CHECK(cpus == online, "cpuinfo has one processor per online cpu");
    slurp("/proc/stat");
    for (p = buf; (p = strstr(p, "\ncpu")); p++)
        statcpus++;
    CHECK(!strncmp(buf, "cpu  ", 5) && statcpus == online, "stat: the cpu line, one cpuN per cpu");
    CHECK(strstr(buf, "\nbtime ") && strstr(buf, "\nprocesses "), "stat: btime, processes");
    CHECK(sysconf(_SC_NPROCESSORS_ONLN) == online, "sysconf(_SC_NPROCESSORS_ONLN) agrees");
    {
        char path[64];

        snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d", online - 1);
        CHECK(access(path, F_OK) == 0, "sys cpu: a directory for the last online cpu");
    }
    slurp("/proc/loadavg");
    {
        double a, b, c;
        int run, tot, last;

        CHECK(sscanf(buf, "%lf %lf %lf %d/%d %d", &a, &b, &c, &run, &tot, &last) == 6 &&
              run >= 1 && tot >= run, "loadavg: three averages, running/total, last pid");
    }
    slurp("/proc/filesystems");
    CHECK(strstr(buf, "nodev\tproc\n") && strstr(buf, "nodev\tsysfs\n"),
          "filesystems: nodev proc, nodev sysfs");
    slurp("/proc/mounts");
    CHECK(strstr(buf, " /proc proc ") != NULL, "mounts: proc on /proc");
    slurp("/proc/self/mountinfo");
    CHECK(line_after("", text, sizeof(text)) && strstr(buf, " /proc ") && strstr(buf, " - proc "),
          "mountinfo: proc on /proc");
}

static void check_errors(void)
{
    char link[64];
    int fd;

    printf("-- errors --\n");
    errno = 0;
    CHECK(open("/proc/self/no-such-file", O_RDONLY) < 0 && errno == ENOENT,
          "open(/proc/self/no-such-file): ENOENT");
    errno = 0;
    CHECK(open("/proc/2147483646/status", O_RDONLY) < 0 && errno == ENOENT,
          "open(/proc/<no such pid>/status): ENOENT");
    errno = 0;
    CHECK(readlink("/proc/self/status", link, sizeof(link)) < 0 && errno == EINVAL,
          "readlink(/proc/self/status): EINVAL");
    errno = 0;
    CHECK(open("/proc/self/exe", O_RDONLY | O_NOFOLLOW) < 0 && errno == ELOOP,
          "open(/proc/self/exe, O_NOFOLLOW): ELOOP");
    errno = 0;
    CHECK(open("/proc/self/status/x", O_RDONLY) < 0 && errno == ENOTDIR,
          "open(/proc/self/status/x): ENOTDIR");
    errno = 0;
    CHECK(open("/proc/self", O_WRONLY) < 0 && errno == EISDIR, "open(/proc/self, O_WRONLY): EISDIR");
    fd = open("/proc/self/status", O_RDONLY);
    errno = 0;
    CHECK(lseek(fd, 0, SEEK_END) < 0 && errno == EINVAL, "lseek(status, 0, SEEK_END): EINVAL");
    CHECK(lseek(fd, 5, SEEK_SET) == 5 && read(fd, link, 1) == 1 && link[0] == '\t',
          "lseek(status, 5) then read: the tab after Name:");
    close(fd);
    errno = 0;
    fd = open("/proc/self/status", O_WRONLY);
    printf("  ok: open(/proc/self/status, O_WRONLY) as %s: %s\n",
           geteuid() ? "a user" : "root", fd < 0 ? err_name(errno) : "opened");
    if (fd >= 0) {
        errno = 0;
        CHECK(write(fd, "x", 1) < 0 && errno == EINVAL, "... and write(): EINVAL");
        close(fd);
    }
}

static void board_facts(void)
{
    char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t e;
    long n;

    p[PAGE] = 1;
    e = pagemap_entry(p + PAGE);
    printf("touched %#lx pfn %#llx present %d\n", (unsigned long)(p + PAGE),
           (unsigned long long)(e & PM_PFN_MASK), !!(e & PM_PRESENT));
    n = slurp("/proc/config.gz");
    printf("config.gz %ld bytes, gzip magic %s\n", n,
           n > 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b ? "yes" : "no");
}

int main(int argc, char **argv, char **envp)
{
    proc_init();
    if (argc > 1 && !strcmp(argv[1], "board")) {
        board_facts();
        return 0;
    }
    printf("sys_proc: /proc and /sys against the system calls\n");
    check_self_links();
    check_status();
    check_stat_statm();
    check_maps_smaps_pagemap();
    check_cmdline_environ_auxv(argc, argv, envp);
    check_links_fds(argv);
    check_limits();
    check_mem();
    check_tasks();
    check_remote();
    check_globals();
    check_errors();
    if (check_failures) {
        printf("%d checks FAILED\n", check_failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
