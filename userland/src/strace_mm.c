/* strace_mm.c - the memory calls' flags and vectors as strace prints them,
 * for tests/test_strace_vis7.py (built for the host and run under the real
 * strace, and for AArch64 under `a53emu run`; the lines are compared),
 * and open's flags in strace's order (O_SYNC and O_TMPFILE take their bits
 * before O_DSYNC and O_DIRECTORY).
 * Every call goes through syscall(2), so both architectures make the same
 * call, and each result is one Linux 4.14 and the host's kernel both give.
 */
#include "common.h"      /* first: it defines _GNU_SOURCE (O_PATH, O_TMPFILE) */

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
/* No kernel defines these bits: each call must refuse them (EINVAL). */
#define NO_SUCH_MS_FLAG 0x8
#define NO_SUCH_MCL_FLAG 0x8
#define NO_SUCH_ADVICE 0x1a

int main(void)
{
    unsigned char vec[3];
    char *p;

    printf("strace_mm:\n");
    p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap three pages");
    p[0] = 1;                   /* the first page resident, the others not */
    syscall(SYS_write, -1, "strace-marker", 13);
    expect_ret("mincore", syscall(SYS_mincore, p, 3 * PAGE, vec), 0);
    CHECK(vec[0] == 1 && vec[1] == 0 && vec[2] == 0, "mincore: [1, 0, 0]");
    expect_ret("msync MS_SYNC|MS_INVALIDATE", syscall(SYS_msync, p, PAGE, MS_SYNC | MS_INVALIDATE), 0);
    expect_ret("msync MS_ASYNC", syscall(SYS_msync, p, PAGE, MS_ASYNC), 0);
    expect_ret("msync 0", syscall(SYS_msync, p, PAGE, 0), 0);
    expect_err("msync unknown flag", syscall(SYS_msync, p, PAGE, NO_SUCH_MS_FLAG), EINVAL);
    expect_ret("mlock2 MLOCK_ONFAULT", syscall(SYS_mlock2, p, PAGE, MLOCK_ONFAULT), 0);
    expect_ret("munlock", syscall(SYS_munlock, p, PAGE), 0);
    expect_ret("mlockall MCL_FUTURE", syscall(SYS_mlockall, MCL_FUTURE), 0);
    expect_ret("munlockall", syscall(SYS_munlockall), 0);
    expect_err("mlockall unknown flag", syscall(SYS_mlockall, NO_SUCH_MCL_FLAG), EINVAL);
    expect_err("mlockall 0", syscall(SYS_mlockall, 0), EINVAL);
    expect_ret("madvise MADV_WIPEONFORK", syscall(SYS_madvise, p, PAGE, MADV_WIPEONFORK), 0);
    expect_ret("madvise MADV_DONTNEED", syscall(SYS_madvise, p, PAGE, MADV_DONTNEED), 0);
    expect_err("madvise unknown advice", syscall(SYS_madvise, p, PAGE, NO_SUCH_ADVICE), EINVAL);
    expect_err("openat O_SYNC|O_PATH", syscall(SYS_openat, AT_FDCWD, "strace_mm.nonexistent/x",
                                               O_SYNC | O_PATH | O_NOFOLLOW | O_CLOEXEC), ENOENT);
    expect_err("openat O_TMPFILE", syscall(SYS_openat, AT_FDCWD, "strace_mm.nonexistent",
                                           O_TMPFILE | O_WRONLY | O_CLOEXEC | O_NOATIME, 0600),
               ENOENT);
    syscall(SYS_write, -1, "strace-marker-end", 17);
    return check_failures != 0;
}
