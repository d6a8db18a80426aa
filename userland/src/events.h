/*
 * events.h - helpers of sys_events.c and sys_sockets.c (issue 9 part 6).
 */
#ifndef A53_EVENTS_H
#define A53_EVENTS_H

#include "proc.h"

/* errno names of the event and socket calls, then common.h's. */
__attribute__((unused))
static const char *ename(int e)
{
    switch (e) {
    case ELOOP: return "ELOOP";
    case ENOENT: return "ENOENT";
    case ENOTSOCK: return "ENOTSOCK";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTCONN: return "ENOTCONN";
    case EISCONN: return "EISCONN";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ENETUNREACH: return "ENETUNREACH";
    case EINPROGRESS: return "EINPROGRESS";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EDESTADDRREQ: return "EDESTADDRREQ";
    default: return errno_name(e);
    }
}

/* The result of a call that should fail: "ERRNO" or "succeeded". */
#define FAILS(call) ((call) < 0 ? ename(errno) : "succeeded")

/* An address no mapping covers: EFAULT from the kernel. */
#define BADPTR ((void *)16)

#endif
