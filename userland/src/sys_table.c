/*
 * sys_table.c - the deliberate answers and the small calls of the syscall
 * table (issue 9 part 1), by raw number so that no libc wrapper changes
 * the question.  One line per call: its result or errno name.  The answers
 * are 4.14's for the board's configuration (tests/test_sys_proc.py holds
 * them); a newer host kernel configured otherwise answers differently, so
 * this program is checked on a53emu only.
 */
#include "proc.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static const char *err_name(int e)
{
    if (e == ENOSPC)
        return "ENOSPC";
    if (e == EIO)
        return "EIO";
    return errno_name(e);
}

static void show(const char *what, long ret)
{
    if (ret < 0)
        printf("%s: %s\n", what, err_name(errno));
    else
        printf("%s: %ld\n", what, ret);
}

#define CALL(what, ...) do { errno = 0; show(what, syscall(__VA_ARGS__)); } while (0)

int main(void)
{
    char name[65] = "board-host";
    uint64_t head = 1, len = 0;
    char *p;

    proc_init();
    /* kernel/sys_ni.c: configured out */
    CALL("io_setup", 0, 1, &head);
    CALL("lookup_dcookie", 18, 0, NULL, 0);
    CALL("quotactl", 60, 0, NULL, 0, NULL);
    CALL("add_key", 217, "user", "k", "v", 1, 0);
    CALL("swapon", 224, "/nonexistent", 0);
    CALL("mbind", 235, 0, 0, 0, NULL, 0, 0);
    CALL("perf_event_open", 241, NULL, 0, -1, -1, 0);
    CALL("fanotify_init", 262, 0, 0);
    CALL("kcmp", 272, 0, 0, 0, 0, 0);
    CALL("seccomp", 277, 0, 0, NULL);
    CALL("bpf", 280, 0, NULL, 0);
    CALL("userfaultfd", 282, 0);
    /* privileges the board does not model */
    CALL("mount", 40, "none", "/", "tmpfs", 0, NULL);
    CALL("umount2", 39, "/", 0);
    CALL("pivot_root", 41, "/", "/");
    CALL("chroot", 51, "/");
    CALL("vhangup", 58);
    CALL("acct", 89, NULL);
    CALL("reboot", 142, 0, 0, 0, NULL);
    CALL("kexec_load", 104, 0, 0, NULL, 0);
    CALL("init_module", 105, NULL, 0, "");
    CALL("delete_module", 106, "x", 0);
    /* after 4.14 */
    CALL("rseq", 293, NULL, 0, 0, 0);
    CALL("clone3", 435, NULL, 0);
    CALL("faccessat2", 439, -100, ".", 0, 0);
    CALL("number 1000", 1000);
    /* small calls served */
    CALL("restart_syscall", 128);
    CALL("ptrace(PTRACE_TRACEME)", 117, 0, 0, 0, 0);
    CALL("ptrace(PTRACE_PEEKDATA, 1)", 117, 2, 1, 0, 0);
    CALL("membarrier(QUERY)", 283, 0, 0);
    CALL("membarrier(PRIVATE_EXPEDITED) unregistered", 283, 8, 0);
    CALL("membarrier(REGISTER_PRIVATE_EXPEDITED)", 283, 16, 0);
    CALL("membarrier(PRIVATE_EXPEDITED)", 283, 8, 0);
    CALL("membarrier(SHARED, flags 1)", 283, 1, 1);
    CALL("ioprio_get(PROCESS, 0)", 31, 1, 0);
    CALL("ioprio_set(PROCESS, 0, BE/7)", 30, 1, 0, (2 << 13) | 7);
    CALL("ioprio_get(PROCESS, 0) after", 31, 1, 0);
    CALL("ioprio_set(PROCESS, 0, BE/8)", 30, 1, 0, (2 << 13) | 8);
    CALL("ioprio_set(PROCESS, 0, class 5)", 30, 1, 0, 5 << 13);
    CALL("ioprio_get(which 9)", 31, 9, 0);
    CALL("unshare(0)", 97, 0);
    CALL("unshare(CLONE_FILES|CLONE_FS)", 97, 0x400 | 0x200);
    CALL("unshare(CLONE_NEWNS)", 97, 0x20000);
    CALL("unshare(0x1)", 97, 1);
    CALL("setns(1000, 0)", 268, 1000, 0);
    CALL("setns(1, 0)", 268, 1, 0);
    CALL("pkey_alloc(0, 0)", 289, 0, 0);
    CALL("pkey_alloc(1, 0)", 289, 1, 0);
    CALL("pkey_free(1)", 290, 1);
    p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CALL("pkey_mprotect(key 0)", 288, p, PAGE, PROT_READ | PROT_WRITE, 0);
    CALL("pkey_mprotect(key 1)", 288, p, PAGE, PROT_READ, 1);
    CALL("get_robust_list(0)", 100, 0, &head, &len);
    printf("  len %lu\n", (unsigned long)len);
    CALL("get_robust_list(no such pid)", 100, 99999, &head, &len);
    CALL("syslog(SIZE_BUFFER)", 116, 10, NULL, 0);
    CALL("syslog(READ_ALL, NULL)", 116, 3, NULL, 10);
    CALL("syslog(99)", 116, 99, NULL, 0);
    CALL("sethostname(65 bytes)", 161, name, 65);
    CALL("sethostname(board-host)", 161, name, 10);
    CALL("setdomainname(bad pointer)", 162, (void *)8, 4);
    {
        struct { char f[6][65]; } u;

        syscall(160, &u);
        printf("uname nodename: %s, domainname: %s\n", u.f[1], u.f[5]);
    }
    return 0;
}
