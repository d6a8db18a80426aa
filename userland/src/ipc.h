/*
 * ipc.h - helpers for the shared-memory and IPC programs (issue 9 part 5):
 * errno names for the codes System V IPC, memfd and seals answer with, and
 * a call-and-report macro.  Nothing printed depends on pids, ids, keys or
 * addresses, so the host and a53emu outputs compare byte for byte.
 */
#ifndef A53_IPC_H
#define A53_IPC_H

#include "proc.h"

__attribute__((unused))
static const char *ipc_errno(int e)
{
    switch (e) {
    case EBUSY: return "EBUSY";
    case EIDRM: return "EIDRM";
    case ENOMSG: return "ENOMSG";
    case ENOSPC: return "ENOSPC";
    case ERANGE: return "ERANGE";
    case EOVERFLOW: return "EOVERFLOW";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENODEV: return "ENODEV";
    case EMFILE: return "EMFILE";
    case EMSGSIZE: return "EMSGSIZE";
    case EFBIG: return "EFBIG";
    case ENOEXEC: return "ENOEXEC";
    default: return errno_name(e);
    }
}

/* The result of a call that returns -1/errno as "0", "EINVAL"... (a
 * non-negative result is "0" for calls that succeed with 0, else "ok"). */
#define RESULT(ret) ((ret) == -1 ? ipc_errno(errno) : (ret) == 0 ? "0" : "ok")

/* CHECK that a call fails with errno `want` (or succeeds: want == 0). */
#define EXPECT(call, want, what)                                               \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(call);                                                \
        int e_ = r_ == -1 ? errno : 0;                                         \
        CHECK(e_ == (want) && ((want) != 0 || r_ != -1), "%s: %s", what,         \
              r_ == -1 ? ipc_errno(e_) : "ok");                                \
    } while (0)

#endif /* A53_IPC_H */
