"""Issue 7 part 4: structures decoded as strace 6.1 prints them.

Each decoder mirrors one of strace's printers (named in its docstring)
and reads the guest's memory only through peek() below, which never
faults: an unreadable structure is shown as its address, as strace shows
it when umove() fails.  What a call writes is decoded when it returns, and
only if it succeeded; the printer (kernel/syscalls/strace.py) says which
arguments are read on entry.

Layouts are AArch64's (LP64, include/uapi/asm-generic): struct stat,
struct statx, struct statfs, struct kernel_sigaction (handler, flags,
restorer, mask), iovec, pollfd, msghdr, timespec, timeval, rlimit64.
"""

import functools
import os
import struct

from emu.arch import PAGE_SHIFT, PAGE_SIZE
from kernel.mm.mm import VM_READ
from kernel.mm.mmap import find_vma
from kernel.uapi import SIGNAL_NAMES

# strace -s: strings and buffers are cut after this many bytes ("..." follows).
DEFAULT_STRSIZE = 32


class Options:
    """What the strace options of `a53emu run` chose (emu/cli.py fills it)."""

    def __init__(self, strsize=DEFAULT_STRSIZE, fd_paths=False):
        self.strsize = strsize          # -s
        self.fd_paths = fd_paths        # -y


# -- reading the guest ----------------------------------------------------------------

def peek(task, addr, length):
    """access_process_vm() as a tracer uses it, without its fault: the bytes
    at addr, a page that is not mapped yet read as the fault would map it
    (the file's cached page or its bytes, zeros for anonymous memory).
    strace's ptrace read would fault the page in; a53emu's tracers never
    change what the guest sees.  None if an address has no readable VMA."""
    reader = getattr(task.uaccess, "peek", None)
    if reader is None:
        return None                 # a test's stand-in for user memory
    data = reader(addr, length)
    if data is not None or getattr(task, "mm", None) is None:
        return data
    out = bytearray()
    while length > 0:
        n = min(length, PAGE_SIZE - (addr & (PAGE_SIZE - 1)))
        part = task.uaccess.peek(addr, n)
        if part is None:
            part = _not_yet_faulted(task, addr, n)
            if part is None:
                return None
        out += part
        addr += n
        length -= n
    return bytes(out)


def _not_yet_faulted(task, addr, n):
    """What filemap_fault()/do_anonymous_page() would put at addr."""
    vma = find_vma(task.mm, addr)
    if vma is None or vma.vm_start > addr or not vma.vm_flags & VM_READ:
        return None
    file = vma.vm_file
    if file is None:
        return bytes(n)
    pgoff = vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT)
    offset = addr & (PAGE_SIZE - 1)
    mapping = file.mapping
    frame = mapping.pages.get(pgoff) if mapping is not None else None
    if frame is not None:
        return task.kernel.memory.read(frame + offset, n)
    host_fd = mapping.host_fd if mapping is not None else file.host_fd
    if host_fd is None:
        return bytes(n)
    try:
        data = os.pread(host_fd, n, (pgoff << PAGE_SHIFT) + offset)
    except OSError:
        return None
    return data + bytes(n - len(data))


def peek_string(task, addr, limit):
    """A NUL-terminated string at addr (cut at limit), or None."""
    out = b""
    while len(out) < limit:
        n = min(limit - len(out), PAGE_SIZE - (addr & (PAGE_SIZE - 1)))
        chunk = peek(task, addr, n)
        if chunk is None:
            return None if not out else out
        nul = chunk.find(b"\0")
        if nul >= 0:
            return out + chunk[:nul]
        out += chunk
        addr += n
    return out


# -- strings -----------------------------------------------------------------------

_ESCAPES = {ord("\t"): "\\t", ord("\n"): "\\n", ord("\v"): "\\v", ord("\f"): "\\f",
            ord("\r"): "\\r", ord('"'): '\\"', ord("\\"): "\\\\"}


def quote(data, limit=DEFAULT_STRSIZE, more=False):
    """string_quote(): C escapes for \\t \\n \\v \\f \\r, the quote and the
    backslash; other unprintable bytes in octal, three digits only when an
    octal digit follows (so the escape cannot swallow it).  Cut at `limit`
    bytes with "..." after the quote; `more` says there was more than data."""
    cut = data[:limit]
    out = []
    for i, b in enumerate(cut):
        if b in _ESCAPES:
            out.append(_ESCAPES[b])
        elif 32 <= b < 127:
            out.append(chr(b))
        elif i + 1 < len(cut) and 0x30 <= cut[i + 1] <= 0x37:
            out.append("\\%03o" % b)
        else:
            out.append("\\%o" % b)
    return '"' + "".join(out) + '"' + ("..." if more or len(data) > limit else "")


def octal(value):
    """C's "%#03o": strace's modes and umask (0640, 022, 000)."""
    return ("0%o" % value if value else "0").zfill(3)


def flags(value, names, zero="0"):
    """printflags(): the names of the set bits in the table's order, then
    what is left in hex; `zero` when nothing is set."""
    parts = []
    rest = value
    for name, bit in names:
        if bit and value & bit == bit and rest & bit:
            parts.append(name)
            rest &= ~bit
    if rest:
        parts.append("%#x" % rest)
    return "|".join(parts) or zero


def address(v):
    return "NULL" if v == 0 else "%#x" % v


def struct_at(size):
    """umove_or_printaddr(): the decorated printer gets the `size` bytes at
    v as `raw`, printer(task, v, raw, opts, ...); a null pointer is NULL and
    memory it cannot read is the address, as strace prints them when
    umove() fails."""
    def wrap(printer):
        @functools.wraps(printer)
        def decode(task, v, opts, *extra):
            if not v:
                return "NULL"
            raw = peek(task, v, size)
            if raw is None:
                return address(v)
            return printer(task, v, raw, opts, *extra)
        return decode
    return wrap


# -- files --------------------------------------------------------------------------

_S_IFMT = 0o170000
_S_IFMT_NAMES = {0o140000: "S_IFSOCK", 0o120000: "S_IFLNK", 0o100000: "S_IFREG",
                 0o060000: "S_IFBLK", 0o040000: "S_IFDIR", 0o020000: "S_IFCHR",
                 0o010000: "S_IFIFO"}
_S_ISUID, _S_ISGID, _S_ISVTX = 0o4000, 0o2000, 0o1000


def mode_t(mode):
    """print_symbolic_mode_t(): S_IFREG|S_ISUID|0755."""
    parts = []
    fmt = mode & _S_IFMT
    if fmt:
        parts.append(_S_IFMT_NAMES.get(fmt, "%#o" % fmt))
    for bit, name in ((_S_ISUID, "S_ISUID"), (_S_ISGID, "S_ISGID"), (_S_ISVTX, "S_ISVTX")):
        if mode & bit:
            parts.append(name)
    parts.append(octal(mode & 0o777))
    return "|".join(parts)


def makedev(dev):
    """new_decode_dev(): makedev(major, minor) of a 32-bit dev_t."""
    return "makedev(%s, %s)" % (_hex0((dev >> 8) & 0xFFF),
                                _hex0((dev & 0xFF) | ((dev >> 12) & 0xFFF00)))


def _devnode(mode):
    return mode & _S_IFMT in (0o020000, 0o060000)


# struct stat (asm-generic/stat.h): dev, ino, mode, nlink, uid, gid, rdev, pad,
# size, blksize, pad, blocks, then the three times (seconds, nanoseconds).
_STAT = struct.Struct("<QQIIIIQQqi4xqqQqQqQ")


@struct_at(_STAT.size)
def stat_struct(task, v, raw, opts):
    """print_struct_stat(): without -v the mode, then the size (st_rdev for
    a device node), then "..."; with -v every field, each time with its
    date in a comment."""
    (dev, ino, mode, nlink, uid, gid, rdev, _pad, size, blksize, blocks,
     atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns) = _STAT.unpack(raw)
    second = ("st_rdev=%s" % makedev(rdev)) if _devnode(mode) else "st_size=%d" % size
    if not getattr(opts, "verbose", False):
        return "{st_mode=%s, %s, ...}" % (mode_t(mode), second)
    times = ", ".join("st_%s=%d%s, st_%s_nsec=%d" % (name, sec, _timestamp_comment(sec, ns),
                                                      name, ns)
                      for name, sec, ns in (("atime", atime, atime_ns),
                                            ("mtime", mtime, mtime_ns),
                                            ("ctime", ctime, ctime_ns)))
    return ("{st_dev=%s, st_ino=%d, st_mode=%s, st_nlink=%d, st_uid=%d, st_gid=%d, "
            "st_blksize=%d, st_blocks=%d, %s, %s}" % (
                makedev(dev), ino, mode_t(mode), nlink, uid, gid, blksize, blocks, second,
                times))


STATX_MASK_NAMES = (
    ("STATX_ALL", 0xFFF), ("STATX_BASIC_STATS", 0x7FF),
    ("STATX_TYPE", 0x1), ("STATX_MODE", 0x2), ("STATX_NLINK", 0x4), ("STATX_UID", 0x8),
    ("STATX_GID", 0x10), ("STATX_ATIME", 0x20), ("STATX_MTIME", 0x40),
    ("STATX_CTIME", 0x80), ("STATX_INO", 0x100), ("STATX_SIZE", 0x200),
    ("STATX_BLOCKS", 0x400), ("STATX_BTIME", 0x800), ("STATX_MNT_ID", 0x1000),
    ("STATX_DIOALIGN", 0x2000))
_STATX_HEAD = struct.Struct("<IIQIIIH2xQQ")
# the rest of struct statx: blocks, attributes_mask, four statx_timestamps
# (atime, btime, ctime, mtime), rdev and dev (major, minor), mnt_id
_STATX_REST = struct.Struct("<QQqI4xqI4xqI4xqI4xIIIIQ")
_STATX_BTIME, _STATX_MNT_ID = 0x800, 0x1000
STATX_ATTR_NAMES = (("STATX_ATTR_COMPRESSED", 0x4), ("STATX_ATTR_IMMUTABLE", 0x10),
                    ("STATX_ATTR_APPEND", 0x20), ("STATX_ATTR_NODUMP", 0x40),
                    ("STATX_ATTR_ENCRYPTED", 0x800), ("STATX_ATTR_AUTOMOUNT", 0x1000),
                    ("STATX_ATTR_MOUNT_ROOT", 0x2000), ("STATX_ATTR_VERITY", 0x100000),
                    ("STATX_ATTR_DAX", 0x200000))


def statx_mask(v):
    return flags(v & 0xFFFFFFFF, STATX_MASK_NAMES)


@struct_at(_STATX_HEAD.size + _STATX_REST.size)
def statx_struct(task, v, raw, opts):
    """print_struct_statx(): without -v mask, attributes, mode, size (a
    device node's too: unlike stat, strace shows no stx_rdev without -v);
    with -v every field (stx_btime if the mask has it, stx_mnt_id too)."""
    mask, bs, attrs, nlink, uid, gid, mode, ino, size = _STATX_HEAD.unpack_from(raw)
    if not getattr(opts, "verbose", False):
        return "{stx_mask=%s, stx_attributes=%s, stx_mode=%s, stx_size=%d, ...}" % (
            statx_mask(mask), _hex0(attrs), mode_t(mode), size)
    (blocks, amask, a_s, a_ns, b_s, b_ns, c_s, c_ns, m_s, m_ns, rmaj, rmin, dmaj, dmin,
     mnt) = _STATX_REST.unpack_from(raw, _STATX_HEAD.size)
    stamps = [("atime", a_s, a_ns)] + ([("btime", b_s, b_ns)] if mask & _STATX_BTIME else []) \
        + [("ctime", c_s, c_ns), ("mtime", m_s, m_ns)]
    text = ("{stx_mask=%s, stx_blksize=%d, stx_attributes=%s, stx_nlink=%d, stx_uid=%d, "
            "stx_gid=%d, stx_mode=%s, stx_ino=%d, stx_size=%d, stx_blocks=%d, "
            "stx_attributes_mask=%s, " % (
                statx_mask(mask), bs, flags(attrs, STATX_ATTR_NAMES), nlink, uid, gid,
                mode_t(mode), ino, size, blocks, flags(amask, STATX_ATTR_NAMES)))
    text += "".join("stx_%s={tv_sec=%d, tv_nsec=%d}%s, " % (name, sec, ns,
                                                           _timestamp_comment(sec, ns))
                    for name, sec, ns in stamps)
    text += "stx_rdev_major=%d, stx_rdev_minor=%d, stx_dev_major=%d, stx_dev_minor=%d" % (
        rmaj, rmin, dmaj, dmin)
    if mask & _STATX_MNT_ID:
        text += ", stx_mnt_id=%#x" % mnt
    return text + "}"


def statx_flags(v):
    """statx's flags: the sync type is a value (AT_STATX_SYNC_AS_STAT is 0),
    the rest are AT_* bits."""
    v &= 0xFFFFFFFF
    sync = {0: "AT_STATX_SYNC_AS_STAT", 0x2000: "AT_STATX_FORCE_SYNC",
            0x4000: "AT_STATX_DONT_SYNC"}.get(v & 0x6000, "%#x" % (v & 0x6000))
    rest = flags(v & ~0x6000, AT_FLAG_NAMES, "")
    return sync + ("|" + rest if rest else "")


AT_FLAG_NAMES = (("AT_SYMLINK_NOFOLLOW", 0x100), ("AT_REMOVEDIR", 0x200),
                 ("AT_SYMLINK_FOLLOW", 0x400), ("AT_NO_AUTOMOUNT", 0x800),
                 ("AT_EMPTY_PATH", 0x1000))

_FS_MAGICS = {0xEF53: "EXT2_SUPER_MAGIC", 0x9FA0: "PROC_SUPER_MAGIC",
              0x01021994: "TMPFS_MAGIC", 0x62656572: "SYSFS_MAGIC",
              0x1CD1: "DEVPTS_SUPER_MAGIC", 0x794C7630: "OVERLAYFS_SUPER_MAGIC",
              0x9123683E: "BTRFS_SUPER_MAGIC", 0x58465342: "XFS_SUPER_MAGIC",
              0x6969: "NFS_SUPER_MAGIC", 0x65735546: "FUSE_SUPER_MAGIC",
              0x27E0EB: "CGROUP_SUPER_MAGIC", 0x63677270: "CGROUP2_SUPER_MAGIC",
              0x42494E4D: "BINFMTFS_MAGIC", 0x858458F6: "RAMFS_MAGIC",
              0x50495045: "PIPEFS_MAGIC", 0x534F434B: "SOCKFS_MAGIC"}
_ST_FLAGS = (("ST_VALID", 0x20), ("ST_RDONLY", 0x1), ("ST_NOSUID", 0x2), ("ST_NODEV", 0x4),
             ("ST_NOEXEC", 0x8), ("ST_SYNCHRONOUS", 0x10), ("ST_MANDLOCK", 0x40),
             ("ST_NOATIME", 0x400), ("ST_NODIRATIME", 0x800), ("ST_RELATIME", 0x1000))
_STATFS = struct.Struct("<qqQQQQQiiqqq")


@struct_at(_STATFS.size)
def statfs_struct(task, v, raw, opts):
    """print_struct_statfs(): every field, the magic and the flags by name."""
    (ftype, bsize, blocks, bfree, bavail, files, ffree, fsid0, fsid1, namelen, frsize,
     fflags) = _STATFS.unpack(raw)
    return ("{f_type=%s, f_bsize=%d, f_blocks=%d, f_bfree=%d, f_bavail=%d, f_files=%d, "
            "f_ffree=%d, f_fsid={val=[%s, %s]}, f_namelen=%d, f_frsize=%d, f_flags=%s}" % (
                _FS_MAGICS.get(ftype & 0xFFFFFFFF, "%#x" % ftype), bsize, blocks, bfree,
                bavail, files, ffree, _hex0(fsid0 & 0xFFFFFFFF), _hex0(fsid1 & 0xFFFFFFFF),
                namelen, frsize, flags(fflags, _ST_FLAGS)))


def _hex0(v):
    return "%#x" % v if v else "0"


ACCESS_MODES = (("R_OK", 4), ("W_OK", 2), ("X_OK", 1))


def access_mode(v):
    return flags(v & 0xFFFFFFFF, ACCESS_MODES, "F_OK")


# open(2) flags that are not the access mode, as dup3/pipe2 print them
# (AArch64's values: O_DIRECTORY and friends differ from x86's).
CLOEXEC_NAMES = (("O_NONBLOCK", 0o4000), ("O_DIRECT", 0o200000), ("O_CLOEXEC", 0o2000000))


# -- buffers and iovecs ----------------------------------------------------------------

def buffer(task, v, n, opts):
    """printstrn(): n bytes at v, cut at -s."""
    if n <= 0:
        return '""'
    data = peek(task, v, min(n, opts.strsize))
    if data is None:
        return address(v)
    return quote(data, opts.strsize, more=n > opts.strsize)


def cstring(task, v, opts, limit=4096):
    """printpath()/printstr(): a NUL-terminated string (paths are not cut)."""
    if not v:
        return "NULL"
    s = peek_string(task, v, limit)
    if s is None:
        s = task.uaccess.peek_string(v)     # what uaccess alone can see
    return quote(s, limit) if s is not None else "%#x" % v


_IOVEC = struct.Struct("<QQ")


def iovec_array(task, v, count, opts, data_len=None):
    """tprint_iov_upto(): [{iov_base="...", iov_len=N}, ...]; the data of a
    write is each element's (cut at -s), a read's is what the call filled
    (data_len bytes across the elements, the rest shown empty)."""
    elements = _iovecs(task, v, count, opts)
    if isinstance(elements, str):
        return elements
    out = []
    left = data_len
    for base, length in elements:
        if base is None:
            out.append(length)
            break
        n = length if left is None else min(length, left)
        if left is not None:
            left -= n
        out.append("{iov_base=%s, iov_len=%d}" % (buffer(task, base, n, opts), length))
    return "[" + ", ".join(out) + "]"


def iovec_addresses(task, v, count, opts):
    """tprint_iov_upto(IOV_DECODE_ADDR): [{iov_base=0x..., iov_len=N}, ...],
    a failed read's vector (nothing filled) or a remote process's."""
    elements = _iovecs(task, v, count, opts)
    if isinstance(elements, str):
        return elements
    return "[" + ", ".join(
        length if base is None else "{iov_base=%s, iov_len=%d}" % (address(base), length)
        for base, length in elements) + "]"


def _iovecs(task, v, count, opts):
    """print_array()'s walk of an iovec array: element by element, at most
    -s of them (then `...`, as (None, "...")); the address alone when the
    first cannot be read, `... /* 0x... */` where a later one cannot."""
    if not v:
        return "NULL"
    out = []
    for i in range(count):
        if i == opts.strsize:
            out.append((None, "..."))
            break
        raw = peek(task, v + i * _IOVEC.size, _IOVEC.size)
        if raw is None:
            if not i:
                return "%#x" % v
            out.append((None, "... /* %#x */" % (v + i * _IOVEC.size)))
            break
        out.append(_IOVEC.unpack(raw))
    return out


# -- signals ---------------------------------------------------------------------------

_NSIG = 64


def signame(sig):
    """signame(): SIGUSR1, SIGRTMIN, SIGRT_3 (strace counts real-time
    signals from 32, the kernel's SIGRTMIN)."""
    if sig in SIGNAL_NAMES and sig < 32:
        return SIGNAL_NAMES[sig]
    if sig == 32:
        return "SIGRTMIN"
    if 32 < sig <= _NSIG:
        return "SIGRT_%d" % (sig - 32)
    return str(sig)


def sigset_text(mask):
    """sprintsigmask_n(): [USR1 TERM]; more than half the signals set is
    shown as the complement, ~[...]."""
    prefix = ""
    if bin(mask).count("1") > _NSIG // 2:
        prefix, mask = "~", ~mask & ((1 << _NSIG) - 1)
    names = [signame(s)[3:] for s in range(1, _NSIG + 1) if mask >> (s - 1) & 1]
    return prefix + "[" + " ".join(names) + "]"


@struct_at(8)
def sigset(task, v, raw, opts):
    return sigset_text(struct.unpack("<Q", raw)[0])


# In strace's order (xlat/sigact_flags.in), as the host's strace prints them.
SA_FLAG_NAMES = (("SA_RESTORER", 0x04000000), ("SA_ONSTACK", 0x08000000),
                 ("SA_RESTART", 0x10000000), ("SA_NODEFER", 0x40000000),
                 ("SA_RESETHAND", 0x80000000), ("SA_SIGINFO", 0x4),
                 ("SA_NOCLDSTOP", 0x1), ("SA_NOCLDWAIT", 0x2))
_SIGACTION = struct.Struct("<QQQQ")
_SA_RESTORER = 0x04000000


@struct_at(_SIGACTION.size)
def sigaction(task, v, raw, opts):
    """decode_old_sigaction()/print_sigaction(): handler, mask, flags, and
    the restorer only when SA_RESTORER is set."""
    handler, sa_flags, restorer, mask = _SIGACTION.unpack(raw)
    text = "{sa_handler=%s, sa_mask=%s, sa_flags=%s" % (
        {0: "SIG_DFL", 1: "SIG_IGN"}.get(handler, "%#x" % handler), sigset_text(mask),
        flags(sa_flags & 0xFFFFFFFF, SA_FLAG_NAMES))
    if sa_flags & _SA_RESTORER:
        text += ", sa_restorer=%#x" % restorer
    return text + "}"


SI_CODES = {0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER",
            -3: "SI_MESGQ", -4: "SI_ASYNCIO", -5: "SI_SIGIO", -6: "SI_TKILL"}
_FAULT_CODES = {
    "SIGSEGV": {1: "SEGV_MAPERR", 2: "SEGV_ACCERR"},
    "SIGBUS": {1: "BUS_ADRALN", 2: "BUS_ADRERR", 3: "BUS_OBJERR"},
    "SIGILL": {1: "ILL_ILLOPC", 2: "ILL_ILLOPN", 3: "ILL_ILLADR", 4: "ILL_ILLTRP"},
    "SIGFPE": {1: "FPE_INTDIV", 2: "FPE_INTOVF", 3: "FPE_FLTDIV"},
    "SIGTRAP": {1: "TRAP_BRKPT", 2: "TRAP_TRACE"},
    "SIGCHLD": {1: "CLD_EXITED", 2: "CLD_KILLED", 3: "CLD_DUMPED", 4: "CLD_TRAPPED",
                5: "CLD_STOPPED", 6: "CLD_CONTINUED"},
}


USER_HZ = 100           # clock_t ticks per second (USER_HZ, both architectures)


def clock_t_text(ticks):
    """print_clock_t(): the ticks, and for a nonzero count its seconds,
    `15 /* 0.15 s */`."""
    if not ticks:
        return "0"
    return "%d /* %d.%02d s */" % (ticks, ticks // USER_HZ, ticks % USER_HZ)


def siginfo_text(info):
    """printsiginfo(): {si_signo=..., si_code=..., and what the code carries};
    `{}` when si_signo is 0 (waitid's WNOHANG with no child to report)."""
    if not info.signo:
        return "{}"
    name = signame(info.signo)
    code = info.code
    if code > 0 and name in _FAULT_CODES and code in _FAULT_CODES[name]:
        code_text = _FAULT_CODES[name][code]
    else:
        # (print_si_code(): a code of no name in hex, PRINT_VAL_X)
        code_text = SI_CODES.get(code, "%#x" % (code & 0xFFFFFFFF))
    text = "{si_signo=%s, si_code=%s" % (name, code_text)
    if name in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP") and code > 0 \
            and info.addr is not None:
        text += ", si_addr=%s" % address(info.addr)
    elif name == "SIGCHLD" and code > 0:
        status = info.status
        text += ", si_pid=%d, si_uid=%d, si_status=%s, si_utime=%s, si_stime=%s" % (
            info.pid, info.uid, signame(status) if code != 1 else str(status),
            clock_t_text(info.utime), clock_t_text(info.stime))
    else:
        text += _si_info_rest(info, code)
    return text + "}"


def _si_info_rest(info, code):
    """print_si_info()'s other cases: from user space (si_code <= 0) the
    sender, SI_TIMER's timer id and overrun, and si_value where the code
    carries one; from the kernel the sender only when there is one
    (SI_KERNEL's SIGALRM: nothing more)."""
    value = getattr(info, "value", None)
    raw = getattr(info, "raw", None)
    if value is None and raw is not None and len(raw) >= 32:
        value = struct.unpack_from("<Q", raw, 24)[0]
    timer = getattr(info, "timer", None)            # kernel/time/posix_timers.py's
    if timer is not None:
        value = timer.sigval
    sigval = "" if value is None else ", si_int=%d, si_ptr=%s" % (
        struct.unpack("<i", struct.pack("<I", value & 0xFFFFFFFF))[0], address(value))
    source = ", si_pid=%d, si_uid=%d" % (info.pid, info.uid)
    if code == -2:                                   # SI_TIMER: si_timerid %#x, si_overrun
        tid, overrun = (timer.id, timer.overrun_last) if timer is not None \
            else (info.pid & 0xFFFFFFFF, struct.unpack("<i", struct.pack("<I", info.uid))[0])
        return ", si_timerid=%s, si_overrun=%d%s" % ("%#x" % tid if tid else "0", overrun,
                                                     sigval or ", si_int=0, si_ptr=NULL")
    if code in (0, -6):                              # SI_USER, SI_TKILL
        return source
    if code < 0:
        return source + (sigval if value else "")
    return (source if info.pid or info.uid else "") + (sigval if value else "")


# -- time and limits -------------------------------------------------------------------

@struct_at(16)
def timespec(task, v, raw, opts):
    return "{tv_sec=%d, tv_nsec=%d}" % struct.unpack("<qq", raw)


@struct_at(16)
def timeval(task, v, raw, opts):
    return "{tv_sec=%d, tv_usec=%d}" % struct.unpack("<qq", raw)


_RLIM_INFINITY = (1 << 64) - 1


def rlim_value(v, infinity):
    """sprint_rlim64(): RLIM64_INFINITY, a multiple of 1024 as N*1024."""
    if v == _RLIM_INFINITY:
        return infinity
    if v > 1024 and v % 1024 == 0:
        return "%d*1024" % (v // 1024)
    return str(v)


@struct_at(16)
def rlimit_struct(task, v, raw, opts, infinity="RLIM64_INFINITY"):
    cur, mx = struct.unpack("<QQ", raw)
    return "{rlim_cur=%s, rlim_max=%s}" % (rlim_value(cur, infinity), rlim_value(mx, infinity))


# -- poll ------------------------------------------------------------------------------

POLL_NAMES = (("POLLIN", 0x1), ("POLLPRI", 0x2), ("POLLOUT", 0x4), ("POLLERR", 0x8),
              ("POLLHUP", 0x10), ("POLLNVAL", 0x20), ("POLLRDNORM", 0x40),
              ("POLLRDBAND", 0x80), ("POLLWRNORM", 0x100), ("POLLWRBAND", 0x200),
              ("POLLMSG", 0x400), ("POLLRDHUP", 0x2000))


def _pollfds(task, v, n):
    raw = peek(task, v, n * 8) if n else b""
    if raw is None:
        return None
    return [struct.unpack_from("<ihh", raw, 8 * i) for i in range(n)]


def pollfd_array(task, v, n, opts, fd_text=str):
    """decode_poll_entering(): [{fd=3, events=POLLIN}, ...]."""
    if not v:
        return "NULL"
    entries = _pollfds(task, v, min(n, 1024))
    if entries is None:
        return "%#x" % v
    return "[" + ", ".join("{fd=%s, events=%s}" % (fd_text(fd), flags(ev & 0xFFFF, POLL_NAMES))
                           for fd, ev, _ in entries) + "]"


def poll_result(task, v, n, tsp, ret, opts):
    """decode_poll_exiting(): ' ([{fd=4, revents=POLLOUT}], left {...})'
    after the count (the descriptors plain, even under -y), ' (Timeout)'
    for none ready."""
    if ret == 0:
        return " (Timeout)"
    entries = _pollfds(task, v, min(n, 1024)) if v else None
    if entries is None:
        return ""
    ready = ["{fd=%d, revents=%s}" % (fd, flags(rev & 0xFFFF, POLL_NAMES))
             for fd, _, rev in entries if rev]
    text = "[" + ", ".join(ready) + "]"
    if tsp:
        text += ", left " + timespec(task, tsp, opts)
    return " (" + text + ")"


# -- messages --------------------------------------------------------------------------

_MSGHDR = struct.Struct("<QI4xQQQQi4x")


@struct_at(_MSGHDR.size)
def msghdr(task, v, raw, opts, data_len, sockaddr, msgflags, fd_text=str):
    """print_struct_msghdr(): the name, the iovec with its data (a send's
    whole elements, a receive's data_len bytes), the control length and the
    flags (SCM_RIGHTS' descriptors through fd_text, with their paths
    under -y)."""
    name, namelen, iov, iovlen, control, controllen, mflags = _MSGHDR.unpack(raw)
    text = "{msg_name=%s, msg_namelen=%d, msg_iov=%s, msg_iovlen=%d, " % (
        sockaddr(name, namelen) if name else "NULL", namelen,
        iovec_array(task, iov, iovlen, opts, data_len), iovlen)
    if controllen:
        text += "msg_control=%s, " % cmsgs(task, control, controllen, opts, fd_text)
    return text + "msg_controllen=%d, msg_flags=%s}" % (controllen,
                                                        msgflags(mflags & 0xFFFFFFFF))


# -- processes -------------------------------------------------------------------------

CLONE_NAMES = (("CLONE_VM", 0x100), ("CLONE_FS", 0x200), ("CLONE_FILES", 0x400),
               ("CLONE_SIGHAND", 0x800), ("CLONE_PIDFD", 0x1000), ("CLONE_PTRACE", 0x2000),
               ("CLONE_VFORK", 0x4000), ("CLONE_PARENT", 0x8000), ("CLONE_THREAD", 0x10000),
               ("CLONE_NEWNS", 0x20000), ("CLONE_SYSVSEM", 0x40000),
               ("CLONE_SETTLS", 0x80000), ("CLONE_PARENT_SETTID", 0x100000),
               ("CLONE_CHILD_CLEARTID", 0x200000), ("CLONE_DETACHED", 0x400000),
               ("CLONE_UNTRACED", 0x800000), ("CLONE_CHILD_SETTID", 0x1000000),
               ("CLONE_NEWCGROUP", 0x2000000), ("CLONE_NEWUTS", 0x4000000),
               ("CLONE_NEWIPC", 0x8000000), ("CLONE_NEWUSER", 0x10000000),
               ("CLONE_NEWPID", 0x20000000), ("CLONE_NEWNET", 0x40000000),
               ("CLONE_IO", 0x80000000))
_CSIGNAL = 0xFF


def clone_args(args):
    """SYS_FUNC(clone) entering: AArch64's order is (flags, stack,
    parent_tid, tls, child_tid); strace names each, so the line reads the
    same on every architecture."""
    fl, stack, ptid, tls, ctid = args[:5]
    text = "child_stack=%s, flags=%s" % (address(stack), flags(fl & ~_CSIGNAL, CLONE_NAMES, ""))
    sig = fl & _CSIGNAL
    if sig:
        text += ("|" if fl & ~_CSIGNAL else "") + signame(sig)
    elif not fl & ~_CSIGNAL:
        text += "0"
    if fl & 0x100000:
        text += ", parent_tid=%s" % address(ptid)
    if fl & 0x80000:
        text += ", tls=%s" % address(tls)
    # child_tidptr is shown when exiting (strace prints it after `<unfinished ...>`)
    if fl & (0x200000 | 0x1000000):
        text += ", child_tidptr=%s" % address(ctid)
    return text


WAIT_NAMES = (("WNOHANG", 1), ("WSTOPPED", 2), ("WEXITED", 4), ("WCONTINUED", 8),
              ("WNOWAIT", 0x01000000), ("__WNOTHREAD", 0x20000000), ("__WALL", 0x40000000),
              ("__WCLONE", 0x80000000))


def wait_options(v):
    names = (("WNOHANG", 1), ("WUNTRACED", 2), ("WCONTINUED", 8), ("__WNOTHREAD", 0x20000000),
             ("__WALL", 0x40000000), ("__WCLONE", 0x80000000))
    return flags(v & 0xFFFFFFFF, names)


def wait_status(status):
    """printstatus(): [{WIFEXITED(s) && WEXITSTATUS(s) == 3}]."""
    sig = status & 0x7F
    if sig == 0:
        text = "WIFEXITED(s) && WEXITSTATUS(s) == %d" % ((status >> 8) & 0xFF)
    elif sig == 0x7F:
        text = "WIFSTOPPED(s) && WSTOPSIG(s) == %s" % signame((status >> 8) & 0xFF)
    else:
        text = "WIFSIGNALED(s) && WTERMSIG(s) == %s" % signame(sig)
        if status & 0x80:
            text += " && WCOREDUMP(s)"
    if status == 0xFFFF:
        text = "WIFCONTINUED(s)"
    return "[{%s}]" % text


FD_FLAGS = (("FD_CLOEXEC", 1),)


# -- more of strace's printers ------------------------------------------------------------

_MAX_ARGV = 65536


def string_array(task, v, opts):
    """printargv(): ["prog", "arg"], each string cut at -s, the array after
    -s elements ("...") unless -v (then up to the 65536 strings a 4.14
    exec takes, MAX_ARG_STRINGS' order of magnitude)."""
    if not v:
        return "NULL"
    out = []
    most = _MAX_ARGV if getattr(opts, "verbose", False) else opts.strsize
    for i in range(most + 1):
        raw = peek(task, v + 8 * i, 8)
        if raw is None:
            return "%#x" % v if not out else "[" + ", ".join(out) + ", ...]"
        p = struct.unpack("<Q", raw)[0]
        if p == 0:
            return "[" + ", ".join(out) + "]"
        if i == most:
            out.append("...")
            break
        s = peek_string(task, p, opts.strsize + 1)
        out.append(quote(s, opts.strsize) if s is not None else "%#x" % p)
    return "[" + ", ".join(out) + "]"


def envp_count(task, v, opts):
    """printargc(): the environment as its address and /* N vars */; with
    -v the strings, as printargv() shows argv."""
    if not v:
        return "NULL"
    if getattr(opts, "verbose", False):
        return string_array(task, v, opts)
    n = 0
    while n < 65536:
        raw = peek(task, v + 8 * n, 8)
        if raw is None:
            return "%#x" % v
        if struct.unpack("<Q", raw)[0] == 0:
            break
        n += 1
    return "%#x /* %d var%s */" % (v, n, "" if n == 1 else "s")


def timeval_pair(raw, offset=0):
    return "{tv_sec=%d, tv_usec=%d}" % struct.unpack_from("<qq", raw, offset)


@struct_at(32)
def itimerval(task, v, raw, opts):
    """print_itimerval(): {it_interval={...}, it_value={...}}."""
    return "{it_interval=%s, it_value=%s}" % (timeval_pair(raw), timeval_pair(raw, 16))


@struct_at(32)
def tms(task, v, raw, opts):
    """times(2)'s struct tms."""
    return "{tms_utime=%d, tms_stime=%d, tms_cutime=%d, tms_cstime=%d}" % struct.unpack(
        "<qqqq", raw)


@struct_at(48)
def siginfo_user(task, v, raw, opts):
    """printsiginfo_at(): a siginfo_t the kernel wrote."""
    signo, _errno, code = struct.unpack_from("<iii", raw)

    class _Info:
        pass
    info = _Info()
    info.signo, info.code = signo, code
    info.addr = struct.unpack_from("<Q", raw, 16)[0]
    info.pid, info.uid = struct.unpack_from("<iI", raw, 16)
    info.status = struct.unpack_from("<i", raw, 24)[0]
    info.value = struct.unpack_from("<Q", raw, 24)[0]
    info.utime, info.stime = struct.unpack_from("<qq", raw, 32)
    return siginfo_text(info)


@struct_at(24)
def stack_t(task, v, raw, opts):
    """print_stack_t(): {ss_sp=..., ss_flags=..., ss_size=...}."""
    sp, fl, size = struct.unpack("<Qi4xQ", raw)
    return "{ss_sp=%s, ss_flags=%s, ss_size=%d}" % (
        address(sp), flags(fl & 0xFFFFFFFF, (("SS_ONSTACK", 1), ("SS_DISABLE", 2),
                                             ("SS_AUTODISARM", 1 << 31))), size)


_UTS_FIELDS = ("sysname", "nodename", "release", "version", "machine", "domainname")
_UTS_LEN = 65


@struct_at(_UTS_LEN * len(_UTS_FIELDS))
def utsname(task, v, raw, opts):
    """print_utsname(): {sysname="Linux", nodename="...", ...}; with -v
    all six names."""
    shown = len(_UTS_FIELDS) if getattr(opts, "verbose", False) else 2
    names = ["%s=%s" % (field, quote(raw[i * _UTS_LEN:(i + 1) * _UTS_LEN].split(b"\0", 1)[0],
                                     _UTS_LEN))
             for i, field in enumerate(_UTS_FIELDS[:shown])]
    return "{%s%s}" % (", ".join(names), "" if shown == len(_UTS_FIELDS) else ", ...")


_RUSAGE_LONGS = ("maxrss", "ixrss", "idrss", "isrss", "minflt", "majflt", "nswap", "inblock",
                 "oublock", "msgsnd", "msgrcv", "nsignals", "nvcsw", "nivcsw")


@struct_at(32 + 8 * len(_RUSAGE_LONGS))
def rusage(task, v, raw, opts):
    """printrusage(): the two times, then "..." (with -v every counter)."""
    head = "{ru_utime=%s, ru_stime=%s" % (timeval_pair(raw), timeval_pair(raw, 16))
    if not getattr(opts, "verbose", False):
        return head + ", ...}"
    counts = struct.unpack_from("<%dq" % len(_RUSAGE_LONGS), raw, 32)
    return head + "".join(", ru_%s=%d" % pair for pair in zip(_RUSAGE_LONGS, counts)) + "}"


def int_array(task, v, n):
    """[0], [1000, 1000]: a few ints the call wrote."""
    raw = peek(task, v, 4 * n) if v else None
    if raw is None:
        return address(v)
    return "[" + ", ".join(str(x) for x in struct.unpack("<%di" % n, raw)) + "]"


def fd_set(task, v, nfds, fd_text=str):
    """print_fdset(): [3 4], the descriptors set below nfds (on entry with
    their paths under -y, in the result plain)."""
    if not v:
        return "NULL"
    nfds = max(0, min(nfds, 1024))
    raw = peek(task, v, (nfds + 63) // 64 * 8) if nfds else b""
    if raw is None:
        return "%#x" % v
    bits = int.from_bytes(raw, "little")
    return "[" + " ".join(fd_text(fd) for fd in range(nfds) if bits >> fd & 1) + "]"


def cpu_set(task, v, size):
    """print_affinitylist(): [0 1]."""
    raw = peek(task, v, min(size, 128)) if v else None
    if raw is None:
        return address(v)
    bits = int.from_bytes(raw, "little")
    return "[" + " ".join(str(c) for c in range(len(raw) * 8) if bits >> c & 1) + "]"


FUTEX_OPS = {0: "FUTEX_WAIT", 1: "FUTEX_WAKE", 2: "FUTEX_FD", 3: "FUTEX_REQUEUE",
             4: "FUTEX_CMP_REQUEUE", 5: "FUTEX_WAKE_OP", 6: "FUTEX_LOCK_PI",
             7: "FUTEX_UNLOCK_PI", 8: "FUTEX_TRYLOCK_PI", 9: "FUTEX_WAIT_BITSET",
             10: "FUTEX_WAKE_BITSET", 11: "FUTEX_WAIT_REQUEUE_PI", 12: "FUTEX_CMP_REQUEUE_PI",
             13: "FUTEX_LOCK_PI2"}
_FUTEX_PRIVATE, _FUTEX_CLOCK_REALTIME = 128, 256


def futex_op(op):
    cmd = op & ~(_FUTEX_PRIVATE | _FUTEX_CLOCK_REALTIME)
    text = FUTEX_OPS.get(cmd, str(cmd))
    if op & _FUTEX_PRIVATE:
        text += "_PRIVATE"
    if op & _FUTEX_CLOCK_REALTIME:
        text += "|FUTEX_CLOCK_REALTIME"
    return text


def futex_bitset(v):
    return "FUTEX_BITSET_MATCH_ANY" if v & 0xFFFFFFFF == 0xFFFFFFFF else "%#x" % (v & 0xFFFFFFFF)


def futex_args(task, args, opts):
    """SYS_FUNC(futex): the arguments each operation uses."""
    uaddr, op, val, timeout, uaddr2, val3 = args[:6]
    cmd = op & 0x7F
    val = struct.unpack("<i", struct.pack("<I", val & 0xFFFFFFFF))[0]
    shown = [address(uaddr), futex_op(op & 0xFFFFFFFF)]
    if cmd in (0, 6, 13):                   # WAIT, LOCK_PI: the time out
        shown += [str(val), timespec(task, timeout, opts)] if cmd == 0 else \
            [timespec(task, timeout, opts)]
    elif cmd == 9:                          # WAIT_BITSET
        shown += [str(val), timespec(task, timeout, opts), futex_bitset(val3)]
    elif cmd == 10:                         # WAKE_BITSET
        shown += [str(val), futex_bitset(val3)]
    elif cmd in (3,):                       # REQUEUE
        shown += [str(val), str(timeout & 0xFFFFFFFF), address(uaddr2)]
    elif cmd in (4, 12):                    # CMP_REQUEUE
        shown += [str(val), str(timeout & 0xFFFFFFFF), address(uaddr2), str(val3 & 0xFFFFFFFF)]
    elif cmd == 5:                          # WAKE_OP
        shown += [str(val), str(timeout & 0xFFFFFFFF), address(uaddr2), "%#x" % (val3 & 0xFFFFFFFF)]
    elif cmd in (7, 8):                     # UNLOCK_PI, TRYLOCK_PI
        pass
    elif cmd == 11:                         # WAIT_REQUEUE_PI
        shown += [str(val), timespec(task, timeout, opts), address(uaddr2)]
    else:                                   # WAKE, FD
        shown += [str(val)]
    return shown


_EPOLL_EVENT = struct.Struct("<I4xQ")


def epoll_events(task, v, n, opts, names):
    """The events epoll_wait() filled: [{events=EPOLLIN, data={u32=.., u64=..}}]."""
    if not v:
        return "NULL"
    n = max(0, min(n, 1024))
    raw = peek(task, v, n * _EPOLL_EVENT.size) if n else b""
    if raw is None:
        return address(v)
    out = []
    for i in range(n):
        ev, data = _EPOLL_EVENT.unpack_from(raw, i * _EPOLL_EVENT.size)
        out.append("{events=%s, data={u32=%d, u64=%d}}" % (flags(ev, names), data & 0xFFFFFFFF,
                                                            data))
    return "[" + ", ".join(out) + "]"


# -- terminals ---------------------------------------------------------------------------

_IFLAGS = (("IGNBRK", 0o1), ("BRKINT", 0o2), ("IGNPAR", 0o4), ("PARMRK", 0o10),
           ("INPCK", 0o20), ("ISTRIP", 0o40), ("INLCR", 0o100), ("IGNCR", 0o200),
           ("ICRNL", 0o400), ("IUCLC", 0o1000), ("IXON", 0o2000), ("IXANY", 0o4000),
           ("IXOFF", 0o10000), ("IMAXBEL", 0o20000), ("IUTF8", 0o40000))
_OFLAGS = (("OPOST", 0o1), ("OLCUC", 0o2), ("ONLCR", 0o4), ("OCRNL", 0o10), ("ONOCR", 0o20),
           ("ONLRET", 0o40), ("OFILL", 0o100), ("OFDEL", 0o200))
_ODELAYS = ((0o400, ("NL0", "NL1")), (0o3000, ("CR0", "CR1", "CR2", "CR3")),
            (0o14000, ("TAB0", "TAB1", "TAB2", "TAB3")), (0o20000, ("BS0", "BS1")),
            (0o40000, ("VT0", "VT1")), (0o100000, ("FF0", "FF1")))
_CFLAGS = (("CSTOPB", 0o100), ("CREAD", 0o200), ("PARENB", 0o400), ("PARODD", 0o1000),
           ("HUPCL", 0o2000), ("CLOCAL", 0o4000), ("CMSPAR", 0o10000000000),
           ("CRTSCTS", 0o20000000000))
# strace's order (its termios_lflags table: IEXTEN after NOFLSH, TOSTOP
# after PENDIN), not the bits' order
_LFLAGS = (("ISIG", 0o1), ("ICANON", 0o2), ("XCASE", 0o4), ("ECHO", 0o10), ("ECHOE", 0o20),
           ("ECHOK", 0o40), ("ECHONL", 0o100), ("NOFLSH", 0o200), ("IEXTEN", 0o100000),
           ("ECHOCTL", 0o1000), ("ECHOPRT", 0o2000), ("ECHOKE", 0o4000), ("FLUSHO", 0o10000),
           ("PENDIN", 0o40000), ("TOSTOP", 0o400), ("EXTPROC", 0o200000))
_BAUDS = {0: "B0", 1: "B50", 2: "B75", 3: "B110", 4: "B134", 5: "B150", 6: "B200", 7: "B300",
          8: "B600", 9: "B1200", 10: "B1800", 11: "B2400", 12: "B4800", 13: "B9600",
          14: "B19200", 15: "B38400", 0o10001: "B57600", 0o10002: "B115200",
          0o10003: "B230400", 0o10004: "B460800", 0o10005: "B500000", 0o10006: "B576000",
          0o10007: "B921600", 0o10010: "B1000000", 0o10011: "B1152000",
          0o10012: "B1500000", 0o10013: "B2000000", 0o10014: "B2500000",
          0o10015: "B3000000", 0o10016: "B3500000", 0o10017: "B4000000"}
_CBAUD, _CSIZE = 0o10017, 0o60


@struct_at(17 + 19)
def termios(task, v, raw, opts):
    """decode_termios() without -v: the four flag words, then "..."."""
    iflag, oflag, cflag, lflag = struct.unpack_from("<IIII", raw)
    odelay = [names[(oflag & mask) // (mask & -mask)] for mask, names in _ODELAYS]
    # (strace 6.1 writes the delays, then `|`, then printflags() of the
    # rest, which is nothing for 0: `NL0|...|FF0|`; likewise after the
    # speed and size, and an empty word for a zero c_iflag or c_lflag)
    orest = flags(oflag & ~sum(m for m, _ in _ODELAYS), _OFLAGS, "")
    o = "|".join(odelay) + "|" + orest
    c = "|".join([_BAUDS.get(cflag & _CBAUD, "%#o" % (cflag & _CBAUD)),
                  "CS%d" % (5 + ((cflag & _CSIZE) >> 4))]) + "|" + \
        flags(cflag & ~(_CBAUD | _CSIZE), _CFLAGS, "")
    text = "{c_iflag=%s, c_oflag=%s, c_cflag=%s, c_lflag=%s" % (
        flags(iflag, _IFLAGS, ""), o, c, flags(lflag, _LFLAGS, ""))
    if not getattr(opts, "verbose", False):
        return text + ", ...}"
    line = raw[16]
    cc = ", ".join("[%s]=%s" % (_CC_NAMES[i] if i < len(_CC_NAMES) else str(i), _hex0(b))
                   for i, b in enumerate(raw[17:17 + _NCCS]))
    return text + ", c_line=%s, c_cc=[%s]}" % (_LINE_DISCIPLINES.get(line, str(line)), cc)


@struct_at(17 + 19 + 8)
def termios2(task, v, raw, opts):
    """decode_termios2(): struct termios's fields, then (with -v) the two
    speeds, c_ispeed and c_ospeed, in baud."""
    text = termios(task, v, opts)
    if not getattr(opts, "verbose", False):
        return text
    return text[:-1] + ", c_ispeed=%d, c_ospeed=%d}" % struct.unpack_from("<II", raw, 17 + _NCCS)


# struct termios's c_cc (asm-generic/termbits.h: NCCS 19) and line disciplines.
_NCCS = 19
_CC_NAMES = ("VINTR", "VQUIT", "VERASE", "VKILL", "VEOF", "VTIME", "VMIN", "VSWTC", "VSTART",
             "VSTOP", "VSUSP", "VEOL", "VREPRINT", "VDISCARD", "VWERASE", "VLNEXT", "VEOL2")
_LINE_DISCIPLINES = {0: "N_TTY", 1: "N_SLIP", 2: "N_MOUSE", 3: "N_PPP"}


@struct_at(8)
def winsize(task, v, raw, opts):
    return "{ws_row=%d, ws_col=%d, ws_xpixel=%d, ws_ypixel=%d}" % struct.unpack("<HHHH", raw)


# -- times of files, control messages ------------------------------------------------------

_UTIME_NOW, _UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2
_NSEC_PER_SEC = 1000000000


def _timestamp_comment(sec, nsec):
    """strace's /* 2023-11-14T22:13:20.000000007+0000 */ after a file time,
    in the local time zone as strace formats it."""
    import time as _time
    try:
        tm = _time.localtime(sec)
    except (OverflowError, OSError, ValueError):
        return ""
    text = _time.strftime("%Y-%m-%dT%H:%M:%S", tm)
    if nsec:
        text += ".%09d" % nsec
    return " /* %s%s */" % (text, _time.strftime("%z", tm))


@struct_at(32)
def utimens_pair(task, v, raw, opts):
    """print_timespec_utime_pair(): [{...} /* date */, UTIME_NOW]."""
    out = []
    for i in (0, 1):
        # (tv_nsec as strace prints it, unsigned; no date for one the
        # kernel refuses, as sprinttime_nsec() gives none)
        sec, nsec = struct.unpack_from("<qQ", raw, 16 * i)
        if nsec == _UTIME_NOW:
            out.append("UTIME_NOW")
        elif nsec == _UTIME_OMIT:
            out.append("UTIME_OMIT")
        else:
            out.append("{tv_sec=%d, tv_nsec=%d}%s" % (
                sec, nsec, _timestamp_comment(sec, nsec) if nsec < _NSEC_PER_SEC else ""))
    return "[" + ", ".join(out) + "]"


_SOL_SOCKET, _SCM_RIGHTS, _SCM_CREDENTIALS = 1, 1, 2
_CMSGHDR = struct.Struct("<QII")


def cmsgs(task, v, length, opts, fd_text=str):
    """decode_msg_control(): [{cmsg_len=20, cmsg_level=SOL_SOCKET,
    cmsg_type=SCM_RIGHTS, cmsg_data=[3]}, ...]."""
    raw = peek(task, v, min(length, 4096)) if v else None
    if raw is None:
        return address(v)
    out = []
    off = 0
    while off + _CMSGHDR.size <= len(raw):
        clen, level, ctype = _CMSGHDR.unpack_from(raw, off)
        if clen < _CMSGHDR.size:
            break
        data = raw[off + _CMSGHDR.size:off + clen]
        text = "{cmsg_len=%d, cmsg_level=%s" % (clen, "SOL_SOCKET" if level == _SOL_SOCKET
                                                 else "%#x" % level)
        if level == _SOL_SOCKET and ctype == _SCM_RIGHTS:
            fds = struct.unpack("<%di" % (len(data) // 4), data[:len(data) // 4 * 4])
            text += ", cmsg_type=SCM_RIGHTS, cmsg_data=[%s]}" % ", ".join(map(fd_text, fds))
        elif level == _SOL_SOCKET and ctype == _SCM_CREDENTIALS and len(data) >= 12:
            text += ", cmsg_type=SCM_CREDENTIALS, cmsg_data={pid=%d, uid=%d, gid=%d}}" % \
                struct.unpack_from("<iII", data)
        else:
            text += ", cmsg_type=%#x, cmsg_data=%s}" % (ctype, quote(data, opts.strsize))
        out.append(text)
        off += (clen + 7) & ~7
    return "[" + ", ".join(out) + "]"


@struct_at(32)
def itimerspec(task, v, raw, opts):
    """print_itimerspec(): {it_interval={...}, it_value={...}}."""
    return "{it_interval={tv_sec=%d, tv_nsec=%d}, it_value={tv_sec=%d, tv_nsec=%d}}" % \
        struct.unpack("<qqqq", raw)


_SIGEV_NOTIFY = {0: "SIGEV_SIGNAL", 1: "SIGEV_NONE", 2: "SIGEV_THREAD", 4: "SIGEV_THREAD_ID"}


_SIGEV_THREAD, _SIGEV_THREAD_ID = 2, 4


# (strace's struct_sigevent: value, signo, notify, then the union's largest
# member, sigev_thread's function and attribute: 32 bytes, read whole)
@struct_at(32)
def sigevent(task, v, raw, opts):
    """print_sigevent(): {sigev_value={...}, sigev_signo=..., sigev_notify=...},
    then SIGEV_THREAD_ID's thread id or SIGEV_THREAD's function and
    attributes (addresses)."""
    value, signo, notify, tid = struct.unpack_from("<Qiii", raw)
    function, attribute = struct.unpack_from("<QQ", raw, 16)
    # sigev_value only when its pointer is set; the number a signal only
    # for the notifications that send one (SIGEV_SIGNAL, _THREAD, _THREAD_ID)
    text = "{"
    if value:
        text += "sigev_value={sival_int=%d, sival_ptr=%s}, " % (
            struct.unpack("<i", struct.pack("<I", value & 0xFFFFFFFF))[0], address(value))
    text += "sigev_signo=%s, sigev_notify=%s" % (
        signame(signo) if notify in (0, 2, 4) else str(signo & 0xFFFFFFFF),
        _SIGEV_NOTIFY.get(notify, "%#x /* SIGEV_??? */" % (notify & 0xFFFFFFFF)))
    if notify == _SIGEV_THREAD_ID:
        text += ", sigev_notify_thread_id=%d" % tid
    elif notify == _SIGEV_THREAD:
        text += ", sigev_notify_function=%s, sigev_notify_attributes=%s" % (
            address(function), address(attribute))
    return text + "}"


@struct_at(112)
def sysinfo_struct(task, v, raw, opts):
    """print_sysinfo(): every field."""
    (uptime, l1, l2, l3, totalram, freeram, sharedram, bufferram, totalswap, freeswap,
     procs, totalhigh, freehigh, mem_unit) = struct.unpack_from("<q3Q6QH6xQQI", raw)
    return ("{uptime=%d, loads=[%d, %d, %d], totalram=%d, freeram=%d, sharedram=%d, "
            "bufferram=%d, totalswap=%d, freeswap=%d, procs=%d, totalhigh=%d, freehigh=%d, "
            "mem_unit=%d}" % (uptime, l1, l2, l3, totalram, freeram, sharedram, bufferram,
                              totalswap, freeswap, procs, totalhigh, freehigh, mem_unit))


def int_list(task, v, n):
    """[0, 1, 2]: n ints (a group list)."""
    if not v:
        return "NULL"
    n = max(0, min(n, 65536))
    raw = peek(task, v, 4 * n) if n else b""
    if raw is None:
        return "%#x" % v
    return "[" + ", ".join(str(x) for x in struct.unpack("<%dI" % n, raw)) + "]"


def hex_buffer(task, v, n, opts):
    """printstr_ex(QUOTE_FORCE_HEX): every byte as \\xNN (getrandom's)."""
    if n <= 0:
        return '""'
    data = peek(task, v, min(n, opts.strsize))
    if data is None:
        return address(v)
    return '"' + "".join("\\x%02x" % b for b in data) + '"' + ("..." if n > opts.strsize else "")


# -- capabilities ----------------------------------------------------------------------------

# linux/capability.h: the header's versions, and the capabilities by bit
# (strace 6.1 knows them up to CAP_CHECKPOINT_RESTORE; 4.14 stops at
# CAP_AUDIT_READ, 37).
_CAP_VERSIONS = {0x19980330: "_LINUX_CAPABILITY_VERSION_1",
                 0x20071026: "_LINUX_CAPABILITY_VERSION_2",
                 0x20080522: "_LINUX_CAPABILITY_VERSION_3"}
_CAP_VERSION_1 = 0x19980330
CAP_NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE")
_CAP_DATA = struct.Struct("<III")        # effective, permitted, inheritable


def cap_header_version(task, v):
    """The version word of a cap_user_header_t, or None."""
    raw = peek(task, v, 4) if v else None
    return struct.unpack("<I", raw)[0] if raw is not None else None


@struct_at(8)
def cap_header(task, v, raw, opts):
    """print_cap_header(): {version=_LINUX_CAPABILITY_VERSION_3, pid=0}."""
    version, pid = struct.unpack("<Ii", raw)
    name = _CAP_VERSIONS.get(version)
    text = name if name is not None else (
        "%s /* _LINUX_CAPABILITY_VERSION_??? */" % _hex0(version))
    return "{version=%s, pid=%d}" % (text, pid)


def cap_set_text(caps):
    """print_cap_bits(): 1<<CAP_CHOWN|1<<CAP_KILL, 0 for none."""
    parts = ["1<<%s" % CAP_NAMES[bit] for bit in range(len(CAP_NAMES)) if caps >> bit & 1]
    rest = caps & ~((1 << len(CAP_NAMES)) - 1)
    if rest:
        parts.append("%#x" % rest)
    return "|".join(parts) or "0"


def cap_data(task, v, opts, version):
    """print_cap_data(): {effective=..., permitted=..., inheritable=...}, two
    32-bit halves for versions 2 and 3, one for version 1."""
    if not v:
        return "NULL"
    n = 1 if version == _CAP_VERSION_1 else 2
    raw = peek(task, v, n * _CAP_DATA.size)
    if raw is None:
        return address(v)
    sets = [0, 0, 0]
    for i in range(n):
        for j, word in enumerate(_CAP_DATA.unpack_from(raw, i * _CAP_DATA.size)):
            sets[j] |= word << (32 * i)
    return "{effective=%s, permitted=%s, inheritable=%s}" % tuple(cap_set_text(c) for c in sets)


# -- scheduling attributes ---------------------------------------------------------------------

SCHED_FLAG_NAMES = (("SCHED_FLAG_RESET_ON_FORK", 0x1), ("SCHED_FLAG_RECLAIM", 0x2),
                    ("SCHED_FLAG_DL_OVERRUN", 0x4), ("SCHED_FLAG_KEEP_POLICY", 0x8),
                    ("SCHED_FLAG_KEEP_PARAMS", 0x10), ("SCHED_FLAG_UTIL_CLAMP_MIN", 0x20),
                    ("SCHED_FLAG_UTIL_CLAMP_MAX", 0x40))
# struct sched_attr: size, policy, flags (u64), nice, priority, runtime,
# deadline, period (SCHED_ATTR_SIZE_VER0, 48 bytes), then util_min/max (VER1).
_SCHED_ATTR0 = struct.Struct("<IIQiIQQQ")
_SCHED_ATTR1 = struct.Struct("<II")


def _sched_flags(v):
    """printflags(sched_flags_names, ..., "SCHED_FLAG_???")."""
    text = flags(v, SCHED_FLAG_NAMES)
    return text + " /* SCHED_FLAG_??? */" if text.startswith("0x") and "|" not in text else text


@struct_at(_SCHED_ATTR0.size)
def sched_attr(task, v, raw, opts, policy_names):
    """print_sched_attr(): every field the struct's size covers
    (sched_util_min/max from SCHED_ATTR_SIZE_VER1, 56 bytes)."""
    size, policy, sflags, nice, prio, runtime, deadline, period = _SCHED_ATTR0.unpack(raw)
    text = ("{size=%d, sched_policy=%s, sched_flags=%s, sched_nice=%d, sched_priority=%d, "
            "sched_runtime=%d, sched_deadline=%d, sched_period=%d" % (
                size, policy_names.get(policy, "%#x /* SCHED_??? */" % policy),
                _sched_flags(sflags), nice, prio, runtime, deadline, period))
    if size >= _SCHED_ATTR0.size + _SCHED_ATTR1.size:
        more = peek(task, v + _SCHED_ATTR0.size, _SCHED_ATTR1.size)
        if more is not None:
            text += ", sched_util_min=%d, sched_util_max=%d" % _SCHED_ATTR1.unpack(more)
    return text + "}"


# -- SysV IPC: the *_STAT and IPC_SET buffers ------------------------------------------------

# struct ipc64_perm (asm-generic/ipcbuf.h): key, uid, gid, cuid, cgid, mode,
# seq, then padding and two unused longs.
_IPC64_PERM = struct.Struct("<iIIIII")
_IPC64_PERM_SIZE = 48
# The rest of shmid64_ds, msqid64_ds and semid64_ds (asm-generic, 64-bit):
# shm: segsz, atime, dtime, ctime, cpid, lpid, nattch;
# msg: stime, rtime, ctime, cbytes, qnum, qbytes, lspid, lrpid;
# sem: otime, ctime, nsems.
_SHMID_REST = struct.Struct("<QqqqiiQ")
_MSQID_REST = struct.Struct("<qqqQQQii")
_SEMID_REST = struct.Struct("<qqQ")


def _ipc_perm(raw, full):
    """print_ipc_perm(): uid, gid, mode, and with IPC_STAT key, cuid, cgid."""
    key, uid, gid, cuid, cgid, mode = _IPC64_PERM.unpack_from(raw)
    text = "{uid=%d, gid=%d, mode=%s" % (uid, gid, octal(mode))
    if full:
        text += ", key=%s, cuid=%d, cgid=%d" % (_hex0(key & 0xFFFFFFFF), cuid, cgid)
    return text + "}"


@struct_at(_IPC64_PERM_SIZE + _SHMID_REST.size)
def shmid_ds(task, v, raw, opts, full):
    """print_shmid_ds(): IPC_STAT's (full) or IPC_SET's (the perm only)."""
    text = "{shm_perm=%s" % _ipc_perm(raw, full)
    if full:
        segsz, atime, dtime, ctime, cpid, lpid, nattch = _SHMID_REST.unpack_from(
            raw, _IPC64_PERM_SIZE)
        text += (", shm_segsz=%d, shm_cpid=%d, shm_lpid=%d, shm_nattch=%d, shm_atime=%d, "
                 "shm_dtime=%d, shm_ctime=%d" % (segsz, cpid, lpid, nattch, atime, dtime, ctime))
    return text + "}"


@struct_at(_IPC64_PERM_SIZE + _MSQID_REST.size)
def msqid_ds(task, v, raw, opts, full):
    """print_msqid_ds(): IPC_STAT's every field, IPC_SET's perm and qbytes."""
    stime, rtime, ctime, _cbytes, qnum, qbytes, lspid, lrpid = _MSQID_REST.unpack_from(
        raw, _IPC64_PERM_SIZE)
    text = "{msg_perm=%s" % _ipc_perm(raw, full)
    if full:
        text += (", msg_stime=%d, msg_rtime=%d, msg_ctime=%d, msg_qnum=%d, msg_qbytes=%d, "
                 "msg_lspid=%d, msg_lrpid=%d" % (stime, rtime, ctime, qnum, qbytes, lspid,
                                                 lrpid))
    else:
        text += ", msg_qbytes=%d" % qbytes
    return text + "}"


@struct_at(_IPC64_PERM_SIZE + _SEMID_REST.size)
def semid_ds(task, v, raw, opts, full):
    """print_semid_ds(): IPC_STAT's every field, IPC_SET's perm."""
    text = "{sem_perm=%s" % _ipc_perm(raw, full)
    if full:
        otime, ctime, nsems = _SEMID_REST.unpack_from(raw, _IPC64_PERM_SIZE)
        text += ", sem_otime=%d, sem_ctime=%d, sem_nsems=%d" % (otime, ctime, nsems)
    return text + "}"


# -- sendmmsg/recvmmsg ----------------------------------------------------------------------

_MMSGHDR_SIZE = _MSGHDR.size + 8       # struct msghdr, msg_len, padding


def mmsghdr_array(task, v, count, opts, msg_len_count, use_msg_len, sockaddr, msgflags,
                  fd_text=str):
    """decode_mmsgvec(): [{msg_hdr={...}, msg_len=2}, ...] — `count`
    elements (at most -s, then "..."), msg_len in the first msg_len_count;
    a receive's iovec data cut at each msg_len."""
    if not v:
        return "NULL"
    out = []
    for i in range(min(count, 1024)):
        if i == opts.strsize:
            out.append("...")
            break
        addr = v + i * _MMSGHDR_SIZE
        raw = peek(task, addr + _MSGHDR.size, 4)
        if raw is None:
            if not out:
                return address(v)
            out.append("...")
            break
        msg_len = struct.unpack("<I", raw)[0]
        text = "{msg_hdr=%s" % msghdr(task, addr, opts, msg_len if use_msg_len else None,
                                      sockaddr, msgflags, fd_text)
        if i < msg_len_count:
            text += ", msg_len=%d" % msg_len
        out.append(text + "}")
    return "[" + ", ".join(out) + "]"


# -- directory entries (-v) ------------------------------------------------------------------

_DIRENT64 = struct.Struct("<QqHB")       # d_ino, d_off, d_reclen, d_type, then d_name
DT_NAMES = {0: "DT_UNKNOWN", 1: "DT_FIFO", 2: "DT_CHR", 4: "DT_DIR", 6: "DT_BLK", 8: "DT_REG",
            10: "DT_LNK", 12: "DT_SOCK", 14: "DT_WHT"}


def dirents64(task, v, length, opts):
    """SYS_FUNC(getdents64) with -v: [{d_ino=.., d_off=.., d_reclen=24,
    d_type=DT_DIR, d_name="."}, ...], the `length` bytes the call filled."""
    raw = peek(task, v, length) if v and length > 0 else (b"" if v else None)
    if raw is None:
        return address(v)
    out = []
    off = 0
    while off + _DIRENT64.size <= len(raw):
        ino, d_off, reclen, dtype = _DIRENT64.unpack_from(raw, off)
        if reclen < _DIRENT64.size:
            break
        name = raw[off + _DIRENT64.size:off + reclen].split(b"\0", 1)[0]
        out.append("{d_ino=%d, d_off=%d, d_reclen=%d, d_type=%s, d_name=%s}" % (
            ino, d_off, reclen, DT_NAMES.get(dtype, str(dtype)), quote(name, opts.strsize)))
        off += reclen
    return "[" + ", ".join(out) + "]"


# -- struct timex (adjtimex, clock_adjtime) ---------------------------------------------

# xlat/adjtimex_modes.in in strace's order: the two composite modes first, so
# 0xa001 is ADJ_OFFSET_SS_READ alone (not ADJ_OFFSET|ADJ_NANO|0x8000).
ADJTIMEX_MODES = (("ADJ_OFFSET_SS_READ", 0xa001), ("ADJ_OFFSET_SINGLESHOT", 0x8001),
                  ("ADJ_OFFSET", 0x0001), ("ADJ_FREQUENCY", 0x0002),
                  ("ADJ_MAXERROR", 0x0004), ("ADJ_ESTERROR", 0x0008),
                  ("ADJ_STATUS", 0x0010), ("ADJ_TIMECONST", 0x0020), ("ADJ_TAI", 0x0080),
                  ("ADJ_SETOFFSET", 0x0100), ("ADJ_MICRO", 0x1000), ("ADJ_NANO", 0x2000),
                  ("ADJ_TICK", 0x4000))
ADJTIMEX_STATUS = tuple(("STA_" + n, 1 << i) for i, n in enumerate(
    ("PLL", "PPSFREQ", "PPSTIME", "FLL", "INS", "DEL", "UNSYNC", "FREQHOLD", "PPSSIGNAL",
     "PPSJITTER", "PPSWANDER", "PPSERROR", "CLOCKERR", "NANO", "MODE", "CLK")))
# xlat/adjtimex_state.in: the clock states adjtimex returns (TIME_OK .. TIME_ERROR)
ADJTIMEX_STATE = ("TIME_OK", "TIME_INS", "TIME_DEL", "TIME_OOP", "TIME_WAIT", "TIME_ERROR")

# struct timex of a 64-bit kernel (the same on x86-64 and arm64): int modes
# (padded), long offset, freq, maxerror, esterror, int status (padded),
# long constant, precision, tolerance, struct timeval time, long tick,
# ppsfreq, jitter, int shift (padded), long stabil, jitcnt, calcnt, errcnt,
# stbcnt, int tai, then 11 ints of padding.
_TIMEX = struct.Struct("<i4xqqqqi4xqqqqqqqqi4xqqqqqi44x")
_TIMEX_LONGS1 = ("offset", "freq", "maxerror", "esterror")
_TIMEX_LONGS2 = ("constant", "precision", "tolerance")
_TIMEX_LONGS3 = ("tick", "ppsfreq", "jitter")
_TIMEX_LONGS4 = ("stabil", "jitcnt", "calcnt", "errcnt", "stbcnt")


def _commented_flags(value, names, unknown):
    """printflags() with its default: the names, else the hex value with
    the `/* X_??? */` comment when no name matched."""
    text = flags(value, names)
    return text + " /* %s */" % unknown if value and text.startswith("0x") else text


@struct_at(_TIMEX.size)
def timex(task, v, raw, opts):
    """print_timex64(): every field in order, modes and status as flags,
    time as a timeval whose tv_usec is printed unsigned (PRINT_FIELD_U)."""
    f = _TIMEX.unpack(raw)
    modes, status = f[0] & 0xFFFFFFFF, f[5] & 0xFFFFFFFF
    parts = ["modes=" + _commented_flags(modes, ADJTIMEX_MODES, "ADJ_???")]
    parts += ["%s=%d" % kv for kv in zip(_TIMEX_LONGS1, f[1:5])]
    parts.append("status=" + _commented_flags(status, ADJTIMEX_STATUS, "STA_???"))
    parts += ["%s=%d" % kv for kv in zip(_TIMEX_LONGS2, f[6:9])]
    parts.append("time={tv_sec=%d, tv_usec=%d}" % (f[9], f[10] & 0xFFFFFFFFFFFFFFFF))
    parts += ["%s=%d" % kv for kv in zip(_TIMEX_LONGS3, f[11:14])]
    parts.append("shift=%d" % f[14])
    parts += ["%s=%d" % kv for kv in zip(_TIMEX_LONGS4, f[15:20])]
    parts.append("tai=%d" % f[20])
    return "{" + ", ".join(parts) + "}"
