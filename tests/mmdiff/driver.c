/* mmdiff driver: run a script of memory-management operations inside a fixed
 * window of the address space and print, after every step, everything a
 * program can observe about the window.  The same source is built natively
 * (x86-64, the real kernel) and for AArch64 (run under a53emu); the outputs
 * are compared line by line by tests/test_mm_differential.py.
 *
 * Builds:  gcc -O1 driver.c
 *          aarch64-linux-gnu-gcc -static -O1 driver.c
 *          python -m ziglang cc -target aarch64-linux-musl -static -O1 driver.c
 *
 * Only window-relative facts are printed (addresses as page numbers relative
 * to the window base), so nothing that legitimately differs between the two
 * architectures (mmap_base, stack, vsyscall, the binary's own mappings)
 * shows up.  All system calls are raw syscall()s, the driver never calls
 * malloc (so libc does not move brk or map anything), and output goes
 * through one static buffer written with write(2).
 *
 * Script: one operation per line; '#' starts a comment.  Numbers:
 *   N        N pages (N * 4096), decimal, may be negative
 *   N+B      N pages plus B bytes (B decimal or 0x hex)
 *   xHEX     a raw value (e.g. x7fffffffffffffff)
 * An ADDR is a number relative to the window base, or "null" (address 0).
 *
 *   mmap ADDR LEN PROT FLAGS FD OFF
 *       PROT: letters of "rwx" ('-' ignored), 'g' PROT_GROWSDOWN,
 *             'G' PROT_GROWSUP, 'S' PROT_SEM, or "none"
 *       FLAGS: comma list of private shared sharedv anon fixed noreplace
 *              populate noreserve growsdown sync, or 0, or xHEX
 *       FD: rw ro wo (the test file opened O_RDWR / O_RDONLY / O_WRONLY),
 *           dir (the cwd), none (-1), bad (an unused descriptor)
 *   munmap ADDR LEN
 *   mprotect ADDR LEN PROT
 *   mremap ADDR OLDLEN NEWLEN FLAGS [NEWADDR]   FLAGS: maymove,fixed,dontunmap|0
 *   mremapv ...               the same, but skipped where Linux changed after
 *                             4.14 (see mremap_known_divergent())
 *   mprotectv ADDR LEN PROT   mprotect, skipped where 6.7 drops VM_ACCOUNT and
 *                             4.14 keeps it (see mprotect_known_divergent())
 *   mlock ADDR LEN | munlock ADDR LEN
 *   xc ADDR                   run code at ADDR (4-aligned): save its 4 bytes, store the
 *                             architecture's RET there, call it, put the
 *                             bytes back.  Prints ok, or the stage that
 *                             faulted (r: w: x:) and the fault; memory ends
 *                             as a write probe of the same byte leaves it
 *   madvise ADDR LEN ADVICE   (normal random sequential willneed dontneed free
 *                              remove dontfork dofork dontdump dodump
 *                              wipeonfork keeponfork, or a number)
 *   msync ADDR LEN FLAGS      (async,sync,inval | 0 | xHEX)
 *   ftruncate LEN             (the test file, through the O_RDWR descriptor)
 *   pwrite FOFF VAL           write one byte to the file at FOFF
 *   pread FOFF                read one byte of the file at FOFF
 *   preadm FOFF ADDR N        pread(rw fd, window+ADDR, N, FOFF)  (kernel writes user memory)
 *   pwritem FOFF ADDR N       pwrite(rw fd, window+ADDR, N, FOFF) (kernel reads user memory)
 *   pwritemv FOFF ADDR N      pwritem, skipped when FOFF is past EOF (since
 *                             6.14 a pwrite past EOF whose copy from the
 *                             buffer faults still extends i_size to FOFF;
 *                             4.14 does not)
 *   preadmv FOFF ADDR N       preadm, skipped when the buffer maps the file
 *                             bytes read (see io_aliases())
 *   r ADDR                    read probe of one byte
 *   w ADDR VAL                write probe of one byte
 *   W VAL                     write VAL at every probed page's probe offset
 *   brk DELTA                 brk(initial break + DELTA); prints new - initial
 *                             (DELTA < 0 is refused: below the initial break
 *                             lie the driver's own .data/.bss)
 *   probe all|none|P,P,...    the pages read-probed after each step (default all)
 *
 * The window is WIN_PAGES pages at WIN_BASE; at start-up the driver checks
 * that it and MARGIN bytes on either side are free, and it lists every VMA
 * in that whole range.  A mapping the kernel places elsewhere (no MAP_FIXED,
 * hint not free; mremap MAYMOVE) prints as OUT and is unmapped at once.
 *
 * Output per step:
 *   [n] <the line> = RESULT       (addresses as @page[+0xoff]; errors -ENAME)
 *     maps <start>-<end> <perms> <pgoff> <name> | ...   (pages, relative)
 *          [; VmLck N kB]       (only when something is locked)
 *     read <page>:<byte or fault> ...                    (the probed pages)
 * The name is FILE for the test file, SHM for shared anonymous memory
 * ("/dev/zero (deleted)"), nothing for anonymous memory; pgoff is in pages.
 * The probe offset in page p is (p*37 + 5) % 4096.
 * A fault is SEGV/MAPERR, SEGV/ACCERR, BUS/ADRERR ... with "@page+off" added
 * only when si_addr is not the probed address.  "??" is a byte whose value
 * is legitimately unknowable (a page given to MADV_FREE and not since
 * replaced: the kernel may or may not have reclaimed it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL
#define WIN_PAGES 32
#define WIN_BASE 0x4000000000UL         /* 256 GiB: free on x86-64 and arm64 (39 and 48 bit) */
#define MARGIN (1UL << 30)              /* kept free on both sides of the window */
#define FILE_PAGES 8
#define FILE_NAME "mmdiff.dat"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif

/* ------------------------------------------------------------------ output */

static char outbuf[1 << 16];
static size_t outlen;

static void flush(void)
{
    size_t off = 0;
    while (off < outlen) {
        long n = syscall(SYS_write, 1, outbuf + off, outlen - off);
        if (n <= 0)
            break;
        off += n;
    }
    outlen = 0;
}

static void put(const char *s)
{
    while (*s) {
        if (outlen == sizeof outbuf)
            flush();
        outbuf[outlen++] = *s++;
    }
}

static void putn(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (outlen == sizeof outbuf)
            flush();
        outbuf[outlen++] = s[i];
    }
}

static void putu(unsigned long v, int base)
{
    char tmp[32];
    int i = 0;
    do {
        tmp[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (i)
        putn(&tmp[--i], 1);
}

static void putd(long v)
{
    if (v < 0) {
        put("-");
        putu(-(unsigned long)v, 10);
    } else {
        putu(v, 10);
    }
}

static void putbyte(unsigned v)
{
    char s[3] = {"0123456789abcdef"[(v >> 4) & 15], "0123456789abcdef"[v & 15], 0};
    put(s);
}

static const struct { int e; const char *name; } errnames[] = {
    {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {EINTR, "EINTR"}, {EIO, "EIO"},
    {EBADF, "EBADF"}, {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"},
    {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"}, {EEXIST, "EEXIST"}, {ENODEV, "ENODEV"},
    {EISDIR, "EISDIR"}, {EINVAL, "EINVAL"}, {ETXTBSY, "ETXTBSY"}, {EFBIG, "EFBIG"},
    {ENOSPC, "ENOSPC"}, {ESPIPE, "ESPIPE"}, {ENOSYS, "ENOSYS"}, {EOVERFLOW, "EOVERFLOW"},
    {EOPNOTSUPP, "EOPNOTSUPP"}, {EHWPOISON, "EHWPOISON"},
};

static void puterr(long e)
{
    for (size_t i = 0; i < sizeof errnames / sizeof errnames[0]; i++)
        if (errnames[i].e == e) {
            put("-");
            put(errnames[i].name);
            return;
        }
    put("-E#");
    putd(e);
}

/* A window-relative position: page number, and "+0x.." if unaligned. */
static void putrel(unsigned long addr)
{
    long rel = (long)(addr - WIN_BASE);
    long pg = rel >= 0 ? rel / (long)PG : -((-rel + (long)PG - 1) / (long)PG);
    long off = rel - pg * (long)PG;
    putd(pg);
    if (off) {
        put("+0x");
        putu(off, 16);
    }
}

/* ------------------------------------------------------------- raw syscalls */

static long rawret(long r)
{
    return r == -1 ? -errno : r;
}

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    errno = 0;
    return rawret(syscall(nr, a, b, c, d, e, f));
}

/* ------------------------------------------------------------------- state */

static int fd_rw = -1, fd_ro = -1, fd_wo = -1, fd_dir = -1;
static unsigned long brk0;
static unsigned char probe_set[WIN_PAGES];
static unsigned char lazy[WIN_PAGES];   /* MADV_FREE'd: content unknowable */

static unsigned char file_byte(unsigned long off)
{
    return (unsigned char)(off * 7 + (off >> 12) * 13 + 1);
}

static void lazy_range(unsigned long addr, unsigned long len, int val)
{
    /* Mark or clear the window pages of [addr, addr+len). */
    if (addr < WIN_BASE) {
        if (addr + len <= WIN_BASE)
            return;
        len -= WIN_BASE - addr;
        addr = WIN_BASE;
    }
    for (unsigned long a = addr & ~(PG - 1); a < addr + len && a < WIN_BASE + WIN_PAGES * PG;
         a += PG)
        lazy[(a - WIN_BASE) / PG] = val;
}

static int lazy_any(unsigned long addr, unsigned long len)
{
    for (unsigned long a = addr & ~(PG - 1); a < addr + len; a += PG)
        if (a >= WIN_BASE && a < WIN_BASE + WIN_PAGES * PG && lazy[(a - WIN_BASE) / PG])
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ probes */

static sigjmp_buf probe_jmp;
static volatile int sig_no, sig_code;
static volatile unsigned long sig_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    sig_no = sig;
    sig_code = si->si_code;
    sig_addr = (unsigned long)si->si_addr;
    siglongjmp(probe_jmp, 1);
}

/* 0 = done (*val read or written), 1 = faulted (sig_* set). */
static int __attribute__((noinline)) probe(unsigned long addr, int write, unsigned char *val)
{
    sig_no = 0;
    if (sigsetjmp(probe_jmp, 0))
        return 1;
    if (write)
        *(volatile unsigned char *)addr = *val;
    else
        *val = *(volatile unsigned char *)addr;
    return 0;
}

static void putfault(unsigned long addr)
{
    const char *s = sig_no == SIGSEGV ? "SEGV" : sig_no == SIGBUS ? "BUS" : 0;
    if (s)
        put(s);
    else {
        put("SIG");
        putd(sig_no);
    }
    put("/");
    if (sig_no == SIGSEGV && sig_code == SEGV_MAPERR)
        put("MAPERR");
    else if (sig_no == SIGSEGV && sig_code == SEGV_ACCERR)
        put("ACCERR");
    else if (sig_no == SIGBUS && sig_code == BUS_ADRERR)
        put("ADRERR");
    else if (sig_no == SIGBUS && sig_code == BUS_ADRALN)
        put("ADRALN");
    else if (sig_no == SIGBUS && sig_code == BUS_OBJERR)
        put("OBJERR");
    else
        putd(sig_code);
    if (sig_addr != addr) {
        put("@");
        putrel(sig_addr);
    }
}

static unsigned long probe_off(int page)
{
    return (unsigned long)(page * 37 + 5) & (PG - 1);
}

/* ------------------------------------------------------------------- /proc */

static char mapsbuf[1 << 18];

static unsigned long hexval(const char **p)
{
    unsigned long v = 0;
    for (;;) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (c - 'a' + 10);
        else
            break;
        (*p)++;
    }
    return v;
}

/* Read /proc/self/maps into mapsbuf; also note the VMAs near the window. */
#define MAX_VMAS 256
static unsigned long vma_start[MAX_VMAS], vma_end[MAX_VMAS];
static unsigned long vma_off[MAX_VMAS];
static unsigned char vma_file[MAX_VMAS];
static int nvmas;

static long load_maps(void)
{
    long fd = sys6(SYS_openat, AT_FDCWD, (long)"/proc/self/maps", O_RDONLY, 0, 0, 0);
    size_t len = 0;
    nvmas = 0;
    mapsbuf[0] = 0;
    if (fd < 0)
        return fd;
    for (;;) {
        long n = sys6(SYS_read, fd, (long)(mapsbuf + len), sizeof mapsbuf - 1 - len, 0, 0, 0);
        if (n <= 0)
            break;
        len += n;
    }
    mapsbuf[len] = 0;
    sys6(SYS_close, fd, 0, 0, 0, 0, 0);
    for (const char *p = mapsbuf; *p;) {
        const char *q = p;
        unsigned long start = hexval(&q);
        unsigned long end = *q == '-' ? (q++, hexval(&q)) : 0;
        const char *eol = strchr(p, '\n');
        if (end > WIN_BASE - MARGIN && start < WIN_BASE + WIN_PAGES * PG + MARGIN
                && nvmas < MAX_VMAS) {
            const char *f = strstr(q, "/" FILE_NAME);
            const char *o = q + 6;                  /* "-end perms offset": skip " rwxp " */
            vma_off[nvmas] = hexval(&o);
            vma_file[nvmas] = f && (!eol || f < eol);
            vma_start[nvmas] = start;
            vma_end[nvmas++] = end;
        }
        p = eol ? eol + 1 : p + strlen(p);
    }
    return 0;
}

/* "; VmLck N kB" from /proc/self/status when N is not 0: mlock's accounting
 * (locked_vm).  Nothing outside the window is ever locked, and nothing at
 * all before the script's first mlock/munlock (no other operation the
 * driver knows locks), so until then the file is not read: it is slow to
 * make under a53emu. */
static int lock_ops_seen;

static void put_vmlck(void)
{
    static char status[1 << 13];
    if (!lock_ops_seen)
        return;
    long fd = sys6(SYS_openat, AT_FDCWD, (long)"/proc/self/status", O_RDONLY, 0, 0, 0);
    long len = 0, n;
    if (fd < 0) {
        put("; VmLck ?");
        return;
    }
    while ((n = sys6(SYS_read, fd, (long)(status + len), sizeof status - 1 - len, 0, 0, 0)) > 0)
        len += n;
    status[len] = 0;
    sys6(SYS_close, fd, 0, 0, 0, 0, 0);
    const char *p = strstr(status, "\nVmLck:");
    if (!p) {
        put("; VmLck missing");
        return;
    }
    p += 8;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *e = p;
    while (*e >= '0' && *e <= '9')
        e++;
    if (e == p || (e - p == 1 && *p == '0'))
        return;
    put("; VmLck ");
    putn(p, e - p);
    put(" kB");
}

static void print_maps(void)
{
    long err = load_maps();
    put("  maps");
    if (err < 0) {
        put(" ?open");
        puterr(-err);
        put("\n");
        return;
    }
    int any = 0;
    const char *p = mapsbuf;
    while (*p) {
        const char *line = p;
        const char *eol = strchr(p, '\n');
        if (!eol)
            eol = p + strlen(p);
        p = *eol ? eol + 1 : eol;
        const char *q = line;
        unsigned long start = hexval(&q);
        if (*q++ != '-')
            continue;
        unsigned long end = hexval(&q);
        if (end <= WIN_BASE - MARGIN || start >= WIN_BASE + WIN_PAGES * PG + MARGIN)
            continue;
        q++;
        const char *perms = q;
        q += 5;
        unsigned long off = hexval(&q);
        /* skip dev and inode */
        while (q < eol && *q == ' ')
            q++;
        while (q < eol && *q != ' ')
            q++;
        while (q < eol && *q == ' ')
            q++;
        while (q < eol && *q != ' ')
            q++;
        while (q < eol && *q == ' ')
            q++;
        put(any ? " | " : " ");
        any = 1;
        putrel(start);
        put("-");
        putrel(end);
        put(" ");
        putn(perms, 4);
        put(" ");
        putu(off / PG, 10);
        if (off % PG) {
            put("+0x");
            putu(off % PG, 16);
        }
        size_t nl = eol - q;
        size_t fl = strlen(FILE_NAME);
        if (nl == 0) {
            /* anonymous */
        } else if (nl >= fl + 1 && q[nl - fl - 1] == '/' && !memcmp(q + nl - fl, FILE_NAME, fl)) {
            put(" FILE");
        } else if (nl >= 9 && !memcmp(q, "/dev/zero", 9)) {
            put(" SHM");
        } else {
            put(" ");
            putn(q, nl);
        }
    }
    if (!any)
        put(" (empty)");
    put_vmlck();
    put("\n");
}

static void print_probes(void)
{
    int any = 0;
    put("  read");
    for (int pg = 0; pg < WIN_PAGES; pg++) {
        if (!probe_set[pg])
            continue;
        any = 1;
        unsigned long addr = WIN_BASE + pg * PG + probe_off(pg);
        unsigned char v = 0;
        put(" ");
        putd(pg);
        put(":");
        if (probe(addr, 0, &v))
            putfault(addr);
        else if (lazy[pg])
            put("??");
        else
            putbyte(v);
    }
    if (!any)
        put(" -");
    put("\n");
}

/* ----------------------------------------------------------------- parsing */

static int bad_token;

static long parse_num(const char *t)
{
    long v = 0, sign = 1;
    if (!t) {
        bad_token = 1;
        return 0;
    }
    if (t[0] == 'x') {
        unsigned long u = 0;
        const char *q = t + 1;
        if (!*q)
            bad_token = 1;
        for (; *q; q++) {
            char c = *q;
            if (c >= '0' && c <= '9')
                u = u * 16 + (c - '0');
            else if (c >= 'a' && c <= 'f')
                u = u * 16 + (c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                u = u * 16 + (c - 'A' + 10);
            else
                bad_token = 1;
        }
        return (long)u;
    }
    if (*t == '-') {
        sign = -1;
        t++;
    }
    if (!(*t >= '0' && *t <= '9'))
        bad_token = 1;
    while (*t >= '0' && *t <= '9')
        v = v * 10 + (*t++ - '0');
    v *= sign * (long)PG;
    if (*t == '+') {
        t++;
        long b = 0;
        if (t[0] == '0' && t[1] == 'x') {
            for (t += 2; *t; t++) {
                char c = *t;
                if (c >= '0' && c <= '9')
                    b = b * 16 + (c - '0');
                else if (c >= 'a' && c <= 'f')
                    b = b * 16 + (c - 'a' + 10);
                else
                    break;
            }
        } else {
            while (*t >= '0' && *t <= '9')
                b = b * 10 + (*t++ - '0');
        }
        v += b;
    }
    if (*t)
        bad_token = 1;
    return v;
}

/* A plain decimal (or 0x hex) integer: byte values and counts. */
static long parse_int(const char *t)
{
    long v = 0;
    if (!t || !*t) {
        bad_token = 1;
        return 0;
    }
    if (t[0] == '0' && t[1] == 'x') {
        for (t += 2; *t; t++) {
            char c = *t;
            if (c >= '0' && c <= '9')
                v = v * 16 + (c - '0');
            else if (c >= 'a' && c <= 'f')
                v = v * 16 + (c - 'a' + 10);
            else
                bad_token = 1;
        }
        return v;
    }
    for (; *t; t++) {
        if (*t < '0' || *t > '9')
            bad_token = 1;
        v = v * 10 + (*t - '0');
    }
    return v;
}

static unsigned long parse_addr(const char *t)
{
    if (t && !strcmp(t, "null"))
        return 0;
    if (t && t[0] == 'x')
        return (unsigned long)parse_num(t);
    return WIN_BASE + parse_num(t);
}

static int word_in(const char *w, size_t n, const char *name)
{
    return strlen(name) == n && !memcmp(w, name, n);
}

struct flagname { const char *name; long value; };

static long parse_flags(const char *t, const struct flagname *names)
{
    long v = 0;
    if (!t) {
        bad_token = 1;
        return 0;
    }
    if (t[0] == 'x')
        return parse_num(t);
    if (!strcmp(t, "0"))
        return 0;
    while (*t) {
        const char *e = strchr(t, ',');
        size_t n = e ? (size_t)(e - t) : strlen(t);
        int found = 0;
        for (const struct flagname *f = names; f->name; f++)
            if (word_in(t, n, f->name)) {
                v |= f->value;
                found = 1;
            }
        if (!found && n && t[0] >= '0' && t[0] <= '9') {
            long x = 0;
            for (size_t i = 0; i < n; i++)
                x = x * 10 + (t[i] - '0');
            v |= x;
            found = 1;
        }
        if (!found)
            bad_token = 1;
        t += n;
        if (*t == ',')
            t++;
    }
    return v;
}

static const struct flagname mmap_flags[] = {
    {"private", MAP_PRIVATE}, {"shared", MAP_SHARED}, {"sharedv", MAP_SHARED_VALIDATE},
    {"anon", MAP_ANONYMOUS}, {"fixed", MAP_FIXED}, {"noreplace", MAP_FIXED_NOREPLACE},
    {"populate", MAP_POPULATE}, {"noreserve", MAP_NORESERVE}, {"growsdown", MAP_GROWSDOWN},
    {"sync", MAP_SYNC}, {0, 0},
};
static const struct flagname mremap_flags[] = {
    {"maymove", MREMAP_MAYMOVE}, {"fixed", MREMAP_FIXED}, {"dontunmap", MREMAP_DONTUNMAP},
    {0, 0},
};
static const struct flagname msync_flags[] = {
    {"async", MS_ASYNC}, {"sync", MS_SYNC}, {"inval", MS_INVALIDATE}, {0, 0},
};
static const struct flagname advices[] = {
    {"normal", 0}, {"random", 1}, {"sequential", 2}, {"willneed", 3}, {"dontneed", 4},
    {"free", 8}, {"remove", 9}, {"dontfork", 10}, {"dofork", 11}, {"dontdump", 16},
    {"dodump", 17}, {"wipeonfork", 18}, {"keeponfork", 19}, {0, 0},
};

static long parse_prot(const char *t)
{
    long v = 0;
    if (!t) {
        bad_token = 1;
        return 0;
    }
    if (t[0] == 'x')
        return parse_num(t);
    if (!strcmp(t, "none"))
        return PROT_NONE;
    for (; *t; t++)
        switch (*t) {
        case 'r': v |= PROT_READ; break;
        case 'w': v |= PROT_WRITE; break;
        case 'x': v |= PROT_EXEC; break;
        case 'g': v |= PROT_GROWSDOWN; break;
        case 'G': v |= PROT_GROWSUP; break;
        case 'S': v |= PROT_SEM; break;
        case '-': break;
        default: bad_token = 1;
        }
    return v;
}

static long parse_fd(const char *t)
{
    if (!t) {
        bad_token = 1;
        return -1;
    }
    if (!strcmp(t, "rw"))
        return fd_rw;
    if (!strcmp(t, "ro"))
        return fd_ro;
    if (!strcmp(t, "wo"))
        return fd_wo;
    if (!strcmp(t, "dir"))
        return fd_dir;
    if (!strcmp(t, "none"))
        return -1;
    if (!strcmp(t, "bad"))
        return 99;
    bad_token = 1;
    return -1;
}

/* ------------------------------------------------------------------ steps */

/* "mremapv" is mremap unless it meets what Linux changed after 4.14 (and
 * a53emu follows 4.14): (1) a source range that is not inside one VMA
 * (modern kernels fail with EFAULT before doing anything, 4.14 first unmaps
 * the MREMAP_FIXED destination or the shrunk tail, or returns success for a
 * shrink of nothing; 6.17+ moves several VMAs at once); (2) growth in place
 * that ends exactly at the next VMA (modern kernels merge the two). */
static int mremap_known_divergent(unsigned long addr, long olen, long nlen)
{
    unsigned long o = ((unsigned long)olen + PG - 1) & ~(PG - 1);
    unsigned long n = ((unsigned long)nlen + PG - 1) & ~(PG - 1);
    if (addr & (PG - 1) || !n)
        return 0;               /* EINVAL before any VMA is looked at */
    if (load_maps() < 0)
        return 1;
    for (int i = 0; i < nvmas; i++) {
        if (vma_start[i] <= addr && addr < vma_end[i]) {
            if (!o || addr + o > vma_end[i] || addr + o < addr)
                return 1;
            if (n > o && addr + o == vma_end[i])
                for (int j = 0; j < nvmas; j++)
                    if (vma_start[j] == addr + n)
                        return 1;
            return 0;
        }
    }
    return 1;
}

/* "mprotectv" is mprotect unless it meets the change of 6.7: there,
 * mprotect_fixup() clears VM_ACCOUNT when a private anonymous VMA with no
 * anon_vma loses PROT_WRITE (so it may merge with never-writable
 * neighbours); 4.14 keeps VM_ACCOUNT.  anon_vma is not visible from user
 * space, so skip whenever some VMA in the range is private, anonymous,
 * accounted (VmFlags "ac") and has no anonymous pages (it may have no
 * anon_vma): a VMA with anonymous pages certainly has one. */
static char smapsbuf[1 << 18];

static int mprotect_known_divergent(unsigned long addr, long len, long prot)
{
    unsigned long end = addr + (((unsigned long)len + PG - 1) & ~(PG - 1));
    if (prot & PROT_WRITE || addr & (PG - 1) || end <= addr)
        return 0;
    long fd = sys6(SYS_openat, AT_FDCWD, (long)"/proc/self/smaps", O_RDONLY, 0, 0, 0);
    size_t n = 0;
    if (fd < 0)
        return 1;
    for (;;) {
        long r = sys6(SYS_read, fd, (long)(smapsbuf + n), sizeof smapsbuf - 1 - n, 0, 0, 0);
        if (r <= 0)
            break;
        n += r;
    }
    smapsbuf[n] = 0;
    sys6(SYS_close, fd, 0, 0, 0, 0, 0);
    int in = 0, candidate = 0, anon_pages = 0;
    for (char *p = smapsbuf; *p;) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = 0;
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')) {
            /* a VMA's first line: start-end perms offset dev inode [name] */
            const char *q = p;
            unsigned long start = hexval(&q);
            unsigned long vend = *q == '-' ? (q++, hexval(&q)) : 0;
            const char *perms = q + 1;
            const char *name = perms;
            for (int field = 0; field < 4 && *name; field++) {
                while (*name && *name != ' ')
                    name++;
                while (*name == ' ')
                    name++;
            }
            in = start < end && addr < vend;
            candidate = in && perms[3] == 'p' && (!*name || *name == '[');
            anon_pages = 0;
        } else if (in && !strncmp(p, "Anonymous:", 10)) {
            const char *q = p + 10;
            while (*q == ' ')
                q++;
            anon_pages = *q != '0';
        } else if (in && !strncmp(p, "VmFlags:", 8)) {
            if (candidate && !anon_pages && strstr(p, " ac"))
                return 1;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return 0;
}

/* The architecture's return instruction, four bytes of it. */
#if defined(__aarch64__)
static const unsigned char ret_insn[4] = {0xc0, 0x03, 0x5f, 0xd6};     /* ret */
#elif defined(__x86_64__)
static const unsigned char ret_insn[4] = {0xc3, 0xc3, 0xc3, 0xc3};     /* ret */
#else
#error "xc: no RET instruction for this architecture"
#endif

/* Make the stored instruction visible to instruction fetch.  Real arm64
 * hardware needs dc cvau / ic ivau (Linux 4.14 sets SCTLR_EL1.UCI and UCT,
 * so EL0 may issue them and read CTR_EL0); a53emu does not run them at EL0
 * yet (an "unimplemented instruction" stop), and an emulator's code cache
 * sees the store anyway, so they are only built with -DMMDIFF_CACHE_MAINT,
 * for running the driver on arm64 hardware. */
static void sync_icache(unsigned long addr)
{
#if defined(__aarch64__) && defined(MMDIFF_CACHE_MAINT)
    __asm__ volatile("dc cvau, %0\n\tdsb ish\n\tic ivau, %0\n\tdsb ish\n\tisb"
                     : : "r"(addr) : "memory");
#else
    (void)addr;                 /* x86 keeps instruction fetch coherent */
#endif
}

static int __attribute__((noinline)) call_probe(unsigned long addr)
{
    sig_no = 0;
    if (sigsetjmp(probe_jmp, 0))
        return 1;
    ((void (*)(void))addr)();
    return 0;
}

/* xc: save, store RET, flush the instruction cache, call, restore. */
static void do_exec_probe(unsigned long addr)
{
    unsigned char saved[4], v;
    for (int i = 0; i < 4; i++)
        if (probe(addr + i, 0, &saved[i])) {
            put("r:");
            putfault(addr + i);
            return;
        }
    for (int i = 0; i < 4; i++) {
        v = ret_insn[i];
        if (probe(addr + i, 1, &v)) {
            put("w:");
            putfault(addr + i);
            for (int j = 0; j < i; j++)
                probe(addr + j, 1, &saved[j]);
            return;
        }
    }
    sync_icache(addr);
    if (call_probe(addr)) {
        put("x:");
        putfault(addr);
    } else {
        put("ok");
    }
    for (int i = 0; i < 4; i++)
        probe(addr + i, 1, &saved[i]);
    sync_icache(addr);
}

static int in_window(unsigned long a)
{
    return a >= WIN_BASE - MARGIN && a < WIN_BASE + WIN_PAGES * PG + MARGIN;
}

/* An mmap/mremap result: relative, or OUT (then unmapped again, so that
 * where the kernel put it never matters). */
static void put_mapping_result(long r, unsigned long len)
{
    if (r < 0 && r > -4096) {
        puterr(-r);
    } else if (in_window((unsigned long)r)) {
        put("@");
        putrel((unsigned long)r);
    } else {
        put("OUT");
        sys6(SYS_munmap, r, (long)((len + PG - 1) & ~(PG - 1)), 0, 0, 0, 0);
    }
}

/* Does [addr, addr+cnt) of the window map bytes of the test file that
 * overlap [foff, foff+cnt)?  Then pread/pwrite between the two alias: Linux
 * copies page by page (a later page may see an earlier page's new bytes).
 * Only preadmv still skips such copies; a53emu copies page by page too, so
 * pwritemv no longer does and the random scripts use plain preadm. */
static int io_aliases(long foff, unsigned long addr, long cnt)
{
    if (load_maps() < 0)
        return 1;
    for (int i = 0; i < nvmas; i++) {
        if (!vma_file[i] || vma_end[i] <= addr || vma_start[i] >= addr + cnt)
            continue;
        unsigned long a = addr > vma_start[i] ? addr : vma_start[i];
        unsigned long b = addr + cnt < vma_end[i] ? addr + cnt : vma_end[i];
        long fa = (long)(vma_off[i] + (a - vma_start[i]));
        long fb = fa + (long)(b - a);
        if (fa < foff + cnt && foff < fb)
            return 1;
    }
    return 0;
}

static void do_step(int n, char *line)
{
    char *tok[10];
    int nt = 0;
    char *p = line;
    while (*p && nt < 10) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        tok[nt++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = 0;
    }
    if (!nt)
        return;
    for (int i = nt; i < 10; i++)
        tok[i] = 0;

    put("[");
    putd(n);
    put("]");
    for (int i = 0; i < nt; i++) {
        put(" ");
        put(tok[i]);
    }
    put(" = ");
    bad_token = 0;
    const char *op = tok[0];
    long r = 0;

    if (!strcmp(op, "mmap")) {
        unsigned long addr = parse_addr(tok[1]);
        long len = parse_num(tok[2]);
        long prot = parse_prot(tok[3]);
        long flags = parse_flags(tok[4], mmap_flags);
        long fd = parse_fd(tok[5]);
        long off = parse_num(tok[6]);
        if (bad_token)
            goto syntax;
        r = sys6(SYS_mmap, addr, len, prot, flags, fd, off);
        if (!(r < 0 && r > -4096))
            lazy_range(r, len, 0);
        put_mapping_result(r, len);
    } else if (!strcmp(op, "munmap")) {
        unsigned long addr = parse_addr(tok[1]);
        long len = parse_num(tok[2]);
        if (bad_token)
            goto syntax;
        r = sys6(SYS_munmap, addr, len, 0, 0, 0, 0);
        if (r == 0)
            lazy_range(addr, len, 0);
        r < 0 ? puterr(-r) : putd(r);
    } else if (!strcmp(op, "mprotect") || !strcmp(op, "mprotectv")) {
        unsigned long addr = parse_addr(tok[1]);
        long len = parse_num(tok[2]);
        long prot = parse_prot(tok[3]);
        if (bad_token)
            goto syntax;
        if (op[8] == 'v' && mprotect_known_divergent(addr, len, prot)) {
            put("skipped(known divergence)\n");
            goto after;
        }
        r = sys6(SYS_mprotect, addr, len, prot, 0, 0, 0);
        r < 0 ? puterr(-r) : putd(r);
    } else if (!strcmp(op, "mlock") || !strcmp(op, "munlock")) {
        unsigned long addr = parse_addr(tok[1]);
        long len = parse_num(tok[2]);
        if (bad_token)
            goto syntax;
        lock_ops_seen = 1;
        r = sys6(op[1] == 'l' ? SYS_mlock : SYS_munlock, addr, len, 0, 0, 0, 0);
        r < 0 ? puterr(-r) : putd(r);
    } else if (!strcmp(op, "xc")) {
        unsigned long addr = parse_addr(tok[1]);
        if (bad_token)
            goto syntax;
        do_exec_probe(addr);
    } else if (!strcmp(op, "mremap") || !strcmp(op, "mremapv")) {
        unsigned long addr = parse_addr(tok[1]);
        long olen = parse_num(tok[2]);
        long nlen = parse_num(tok[3]);
        long flags = parse_flags(tok[4], mremap_flags);
        unsigned long naddr = tok[5] ? parse_addr(tok[5]) : 0;
        if (bad_token)
            goto syntax;
        if (op[6] == 'v' && mremap_known_divergent(addr, olen, nlen)) {
            put("skipped(known divergence)\n");
            goto after;
        }
        /* What was unknowable moves with the pages. */
        unsigned char saved[WIN_PAGES];
        memcpy(saved, lazy, sizeof lazy);
        r = sys6(SYS_mremap, addr, olen, nlen, flags, naddr, 0);
        if (!(r < 0 && r > -4096)) {
            unsigned long keep = (unsigned long)(olen < nlen ? olen : nlen);
            if ((unsigned long)r != addr && !(flags & MREMAP_DONTUNMAP))
                lazy_range(addr, olen, 0);
            else if ((unsigned long)r == addr)
                lazy_range(addr + keep, olen > nlen ? olen - nlen : 0, 0);
            lazy_range(r, nlen, 0);
            for (unsigned long o = 0; o < keep; o += PG)
                if (addr + o >= WIN_BASE && addr + o < WIN_BASE + WIN_PAGES * PG
                        && saved[(addr + o - WIN_BASE) / PG])
                    lazy_range(r + o, 1, 1);
        }
        put_mapping_result(r, nlen);
    } else if (!strcmp(op, "madvise")) {
        unsigned long addr = parse_addr(tok[1]);
        long len = parse_num(tok[2]);
        long adv = parse_flags(tok[3], advices);
        if (bad_token)
            goto syntax;
        r = sys6(SYS_madvise, addr, len, adv, 0, 0, 0);
        if (adv == 8 /* MADV_FREE: may have freed some before failing */)
            lazy_range(addr, len, 1);
        else if (adv == 4 && r == 0)
            lazy_range(addr, len, 0);
        r < 0 ? puterr(-r) : putd(r);
    } else if (!strcmp(op, "msync")) {
        unsigned long addr = parse_addr(tok[1]);
        long len = parse_num(tok[2]);
        long flags = parse_flags(tok[3], msync_flags);
        if (bad_token)
            goto syntax;
        r = sys6(SYS_msync, addr, len, flags, 0, 0, 0);
        r < 0 ? puterr(-r) : putd(r);
    } else if (!strcmp(op, "ftruncate")) {
        long len = parse_num(tok[1]);
        if (bad_token)
            goto syntax;
        r = sys6(SYS_ftruncate, fd_rw, len, 0, 0, 0, 0);
        r < 0 ? puterr(-r) : putd(r);
    } else if (!strcmp(op, "pwrite")) {
        long off = parse_num(tok[1]);
        unsigned char v = (unsigned char)parse_int(tok[2]);
        if (bad_token)
            goto syntax;
        r = sys6(SYS_pwrite64, fd_rw, (long)&v, 1, off, 0, 0);
        r < 0 ? puterr(-r) : putd(r);
    } else if (!strcmp(op, "pread")) {
        long off = parse_num(tok[1]);
        unsigned char v = 0;
        if (bad_token)
            goto syntax;
        r = sys6(SYS_pread64, fd_rw, (long)&v, 1, off, 0, 0);
        if (r == 1)
            putbyte(v);
        else
            r < 0 ? puterr(-r) : putd(r);
    } else if (!strcmp(op, "preadm") || !strcmp(op, "pwritem") || !strcmp(op, "pwritemv")
               || !strcmp(op, "preadmv")) {
        long off = parse_num(tok[1]);
        unsigned long addr = parse_addr(tok[2]);
        long cnt = parse_int(tok[3]);
        if (bad_token)
            goto syntax;
        if (op[1] == 'w' && lazy_any(addr, cnt)) {
            put("skipped(unknowable source)\n");
            goto after;
        }
        if (!strcmp(op, "preadmv") && io_aliases(off, addr, cnt)) {
            put("skipped(file aliasing)\n");
            goto after;
        }
        if (op[7] == 'v' && off > sys6(SYS_lseek, fd_rw, 0, SEEK_END, 0, 0, 0)) {
            put("skipped(past EOF)\n");
            goto after;
        }
        r = sys6(op[1] == 'r' ? SYS_pread64 : SYS_pwrite64, fd_rw, addr, cnt, off, 0, 0);
        r < 0 ? puterr(-r) : putd(r);
    } else if (!strcmp(op, "r") || !strcmp(op, "w")) {
        unsigned long addr = parse_addr(tok[1]);
        unsigned char v = op[0] == 'w' ? (unsigned char)parse_int(tok[2]) : 0;
        if (bad_token)
            goto syntax;
        if (probe(addr, op[0] == 'w', &v))
            putfault(addr);
        else if (op[0] == 'w')
            put("ok");
        else if (lazy_any(addr, 1))
            put("??");
        else
            putbyte(v);
    } else if (!strcmp(op, "W")) {
        unsigned char v = (unsigned char)parse_int(tok[1]);
        if (bad_token)
            goto syntax;
        for (int pg = 0; pg < WIN_PAGES; pg++) {
            if (!probe_set[pg])
                continue;
            unsigned long addr = WIN_BASE + pg * PG + probe_off(pg);
            unsigned char x = v;
            put(" ");
            putd(pg);
            put(":");
            if (probe(addr, 1, &x))
                putfault(addr);
            else
                put("ok");
        }
    } else if (!strcmp(op, "brk")) {
        long delta = parse_num(tok[1]);
        if (bad_token)
            goto syntax;
        if (delta < 0) {
            /* Below the initial break is the driver's own .data/.bss: a
             * kernel without brk randomisation (CONFIG_COMPAT_BRK, min_brk =
             * end_data) would unmap it.  Not a window matter: refused. */
            put("refused\n");
            goto after;
        }
        r = sys6(SYS_brk, brk0 + delta, 0, 0, 0, 0, 0);
        putd(r - (long)brk0);
    } else if (!strcmp(op, "probe")) {
        if (!tok[1])
            goto syntax;
        memset(probe_set, !strcmp(tok[1], "all"), sizeof probe_set);
        if (strcmp(tok[1], "all") && strcmp(tok[1], "none")) {
            char *t = tok[1];
            while (*t) {
                long pg = 0;
                while (*t >= '0' && *t <= '9')
                    pg = pg * 10 + (*t++ - '0');
                if (pg < WIN_PAGES)
                    probe_set[pg] = 1;
                if (*t == ',')
                    t++;
                else if (*t)
                    goto syntax;
            }
        }
        put("ok");
    } else {
        goto syntax;
    }
    put("\n");
after:
    print_maps();
    print_probes();
    return;
syntax:
    put("SYNTAX ERROR\n");
}

/* ------------------------------------------------------------------- setup */

static char script[1 << 20];

static void die(const char *msg, long err)
{
    put("driver: ");
    put(msg);
    puterr(-err);
    put("\n");
    flush();
    syscall(SYS_exit_group, 2);
}

int main(void)
{
    /* The window and a margin around it must be free: map it all without
     * MAP_FIXED at the hint and see that the kernel honoured it. */
    long r = sys6(SYS_mmap, WIN_BASE - MARGIN, 2 * MARGIN + WIN_PAGES * PG, PROT_NONE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r != (long)(WIN_BASE - MARGIN))
        die("window not free: ", r < 0 ? r : 0);
    sys6(SYS_munmap, r, 2 * MARGIN + WIN_PAGES * PG, 0, 0, 0, 0);

    /* The test file: FILE_PAGES pages of known bytes, made fresh. */
    sys6(SYS_unlinkat, AT_FDCWD, (long)FILE_NAME, 0, 0, 0, 0);
    fd_rw = sys6(SYS_openat, AT_FDCWD, (long)FILE_NAME, O_RDWR | O_CREAT | O_EXCL, 0644, 0, 0);
    if (fd_rw < 0)
        die("cannot create " FILE_NAME ": ", fd_rw);
    static unsigned char page[PG];
    for (unsigned long pg = 0; pg < FILE_PAGES; pg++) {
        for (unsigned long i = 0; i < PG; i++)
            page[i] = file_byte(pg * PG + i);
        if (sys6(SYS_pwrite64, fd_rw, (long)page, PG, pg * PG, 0, 0) != (long)PG)
            die("cannot write " FILE_NAME, 0);
    }
    fd_ro = sys6(SYS_openat, AT_FDCWD, (long)FILE_NAME, O_RDONLY, 0, 0, 0);
    fd_wo = sys6(SYS_openat, AT_FDCWD, (long)FILE_NAME, O_WRONLY, 0, 0, 0);
    fd_dir = sys6(SYS_openat, AT_FDCWD, (long)".", O_RDONLY | O_DIRECTORY, 0, 0, 0);
    if (fd_ro < 0 || fd_wo < 0 || fd_dir < 0)
        die("cannot open: ", fd_ro < 0 ? fd_ro : fd_wo < 0 ? fd_wo : fd_dir);
    brk0 = (unsigned long)sys6(SYS_brk, 0, 0, 0, 0, 0, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGBUS, &sa, 0);
    memset(probe_set, 1, sizeof probe_set);

    size_t len = 0;
    for (;;) {
        long n = sys6(SYS_read, 0, (long)(script + len), sizeof script - 1 - len, 0, 0, 0);
        if (n <= 0)
            break;
        len += n;
    }
    script[len] = 0;

    int step = 0;
    char *p = script;
    while (*p) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = 0;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = 0;
        char *q = p;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q) {
            size_t l = strlen(q);
            while (l && (q[l - 1] == ' ' || q[l - 1] == '\t' || q[l - 1] == '\r'))
                q[--l] = 0;
            do_step(++step, q);
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    put("end\n");
    flush();
    return 0;
}
