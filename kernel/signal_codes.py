"""include/uapi/asm-generic/siginfo.h: what a signal's si_code means.

The positive codes are numbered per signal (SEGV_ACCERR and BUS_ADRERR are
both 2), so a name is looked up by (signal, code); codes of zero and below,
and SI_KERNEL, say who sent the signal and mean the same for every signal.
Used for the one-line death reports (emu/cli.py) as psiginfo() would word
them, in the terse form of the report.
"""

from kernel.uapi import SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGIO, SIGSEGV, SIGSYS, SIGTRAP

# Who sent it: any signal.
SI_CODES = {
    0: ("SI_USER", "sent as by kill()"),
    0x80: ("SI_KERNEL", "sent by the kernel"),
    -1: ("SI_QUEUE", "sent by sigqueue()"),
    -2: ("SI_TIMER", "a POSIX timer expired"),
    -3: ("SI_MESGQ", "a message arrived on a POSIX queue"),
    -4: ("SI_ASYNCIO", "asynchronous I/O completed"),
    -5: ("SI_SIGIO", "queued SIGIO"),
    -6: ("SI_TKILL", "sent by tkill()/tgkill()"),
}

# What happened: the signal's own codes (SIGSEGV's wording says what the
# board's fault path means by each).
FAULT_CODES = {
    SIGILL: {1: ("ILL_ILLOPC", "illegal opcode"), 2: ("ILL_ILLOPN", "illegal operand"),
             3: ("ILL_ILLADR", "illegal addressing mode"), 4: ("ILL_ILLTRP", "illegal trap"),
             5: ("ILL_PRVOPC", "privileged opcode"), 6: ("ILL_PRVREG", "privileged register"),
             7: ("ILL_COPROC", "coprocessor error"), 8: ("ILL_BADSTK", "internal stack error")},
    SIGFPE: {1: ("FPE_INTDIV", "integer divide by zero"), 2: ("FPE_INTOVF", "integer overflow"),
             3: ("FPE_FLTDIV", "floating-point divide by zero"),
             4: ("FPE_FLTOVF", "floating-point overflow"),
             5: ("FPE_FLTUND", "floating-point underflow"),
             6: ("FPE_FLTRES", "floating-point inexact result"),
             7: ("FPE_FLTINV", "floating-point invalid operation"),
             8: ("FPE_FLTSUB", "subscript out of range")},
    SIGSEGV: {1: ("SEGV_MAPERR", "no mapping"), 2: ("SEGV_ACCERR", "not permitted"),
              3: ("SEGV_BNDERR", "failed address bound checks"),
              4: ("SEGV_PKUERR", "failed protection key checks")},
    SIGBUS: {1: ("BUS_ADRALN", "misaligned address"),
             2: ("BUS_ADRERR", "past the end of the file"),
             3: ("BUS_OBJERR", "object-specific hardware error"),
             4: ("BUS_MCEERR_AR", "memory error, action required"),
             5: ("BUS_MCEERR_AO", "memory error, action optional")},
    SIGTRAP: {1: ("TRAP_BRKPT", "breakpoint"), 2: ("TRAP_TRACE", "trace trap"),
              3: ("TRAP_BRANCH", "branch trap"), 4: ("TRAP_HWBKPT", "hardware breakpoint")},
    SIGCHLD: {1: ("CLD_EXITED", "child exited"), 2: ("CLD_KILLED", "child killed"),
              3: ("CLD_DUMPED", "child dumped core"), 4: ("CLD_TRAPPED", "traced child trapped"),
              5: ("CLD_STOPPED", "child stopped"), 6: ("CLD_CONTINUED", "child continued")},
    SIGIO: {1: ("POLL_IN", "input available"), 2: ("POLL_OUT", "output possible"),
            3: ("POLL_MSG", "message available"), 4: ("POLL_ERR", "I/O error"),
            5: ("POLL_PRI", "high-priority input"), 6: ("POLL_HUP", "device disconnected")},
    SIGSYS: {1: ("SYS_SECCOMP", "seccomp")},
}


def si_code_name(sig, code):
    """('SEGV_ACCERR', 'not permitted') for (SIGSEGV, 2); the sender's code
    for SI_USER, SI_KERNEL, SI_TKILL...; ('si_code N', 'unknown') else."""
    if code > 0 and code != 0x80:
        entry = FAULT_CODES.get(sig, {}).get(code)
    else:
        entry = SI_CODES.get(code)
    return entry if entry is not None else ("si_code %d" % code, "unknown")


def describe_si_code(sig, code):
    """'SEGV_ACCERR: not permitted': never empty."""
    return "%s: %s" % si_code_name(sig, code)
