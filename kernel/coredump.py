"""fs/coredump.c + fs/binfmt_elf.c: do_coredump() and elf_core_dump().

A process killed by a signal whose default action is to dump core (SIGSEGV,
SIGABRT, SIGQUIT, ...) leaves an ELF core file named `core` in its working
directory, if RLIMIT_CORE lets it (the board's default soft limit is 0, as
most distributions set it: `ulimit -c unlimited` in a shell, or setrlimit,
turns dumping on).  The wait status then has WCOREDUMP (0x80) set.  The
file is what gdb reads (`gdb PROGRAM core`): one PT_NOTE with each thread's
registers (NT_PRSTATUS, NT_PRFPREG, NT_ARM_TLS), the process (NT_PRPSINFO),
the signal (NT_SIGINFO), the auxiliary vector and the mapped files
(NT_FILE), then one PT_LOAD per VMA holding what the mm's coredump_filter
(/proc/PID/coredump_filter, default 0x33) asks for: by default anonymous
memory, private or shared, and the first page of each mapped ELF file.

The file's name comes from /proc/sys/kernel/core_pattern (default `core`;
kernel.core_uses_pid 0), with its %-templates expanded as format_corename()
does; a relative name is in the working directory, and the path resolves
as the guest's own paths do (inside --jail).

Omitted: `|helper` patterns (the board runs no usermode helper: no core is
written, and the kernel log says so), the dumpable/suid checks (the board
has no setuid programs), hugetlb and DAX filter bits (no such memory),
sparse output (unmapped pages are written as zeros).
"""

import os
import struct

from emu.arch import PAGE_SIZE
from emu.cpu import CTX_FPCR, CTX_FPSR, CTX_NZCV, CTX_PC, CTX_SP, CTX_TPIDR
from kernel.mm.mm import VM_DONTDUMP, VM_EXEC, VM_IO, VM_READ, VM_SHARED, VM_WRITE
from kernel.uapi import (
    EM_AARCH64, ET_CORE, NT_ARM_TLS, NT_AUXV, NT_FILE, NT_PRFPREG, NT_PRPSINFO, NT_PRSTATUS,
    NT_SIGINFO, PF_R, PF_W, PF_X, PT_LOAD, PT_NOTE, RLIMIT_CORE, sigset_of,
)

CORE_PATTERN_DEFAULT = b"core"
CORENAME_MAX_SIZE = 128         # the core_pattern buffer, NUL included
# The wait-status bit of a dumped core (WCOREDUMP).
WCOREFLAG = 0x80

EV_CURRENT = 1
ELF_IDENT = b"\x7fELF\x02\x01\x01".ljust(16, b"\0")    # 64-bit, little-endian, SysV
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")

NOTE_NAME = b"CORE"
NOTE_NAME_LINUX = b"LINUX"      # the arch regsets beyond the classic two

# struct elf_prstatus (arm64): siginfo (signo, code, errno), cursig,
# sigpend, sighold, pid, ppid, pgrp, sid, four timevals, then the
# registers x0-x30, sp, pc, pstate (elf_gregset_t) and pr_fpvalid.
PRSTATUS_HEAD = struct.Struct("<iiih2xQQiiii8q")
PRSTATUS_TAIL = struct.Struct("<i4x")
# struct elf_prpsinfo: state, sname, zomb, nice, flag, uid, gid, pid, ppid,
# pgrp, sid, fname[16], psargs[80].
PRPSINFO = struct.Struct("<bcbb4xQIIiiii16s80s")
ELF_PRARGSZ = 80
# struct user_fpsimd_state: V0-V31, fpsr, fpcr.
FPSIMD_TAIL = struct.Struct("<II8x")

# coredump_filter's bits (include/linux/sched/coredump.h, counted from
# MMF_DUMP_FILTER_SHIFT); hugetlb and DAX memory do not exist on the board.
MMF_DUMP_ANON_PRIVATE, MMF_DUMP_ANON_SHARED = 1 << 0, 1 << 1
MMF_DUMP_MAPPED_PRIVATE, MMF_DUMP_MAPPED_SHARED = 1 << 2, 1 << 3
MMF_DUMP_ELF_HEADERS = 1 << 4
MMF_DUMP_FILTER_BITS = 9
DUMP_ELF_HEADER_MAGIC = b"\x7fELF"


def format_corename(task, info, pattern):
    """format_corename(): the core file's name from core_pattern.  %p/%P
    pid, %i/%I tid, %u/%g real uid/gid, %d dump mode, %s signal, %t time,
    %h host name, %e comm, %E the executable's path with / as !, %c the
    core size limit, %% a percent; an unknown %x expands to nothing.  None
    for a `|helper` pattern (no usermode helper on the board)."""
    if pattern.startswith(b"|"):
        return None
    from kernel.time.timekeeping import NSEC_PER_SEC, ktime_get_real
    from kernel.utsname import utsname
    kernel = task.kernel
    exe = task.mm.exe_file if task.mm is not None and task.mm.exe_file else task.comm
    values = {
        b"p": task.tgid, b"P": task.tgid, b"i": task.pid, b"I": task.pid,
        b"u": task.cred.uid, b"g": task.cred.gid, b"d": 1, b"s": info.signo,
        b"t": ktime_get_real(kernel) // NSEC_PER_SEC, b"h": utsname(kernel)["nodename"],
        b"e": task.comm, b"E": os.fsdecode(exe).replace("/", "!"),
        b"c": task.rlim[RLIMIT_CORE][0], b"%": "%",
    }
    out, i, pid_in_pattern = bytearray(), 0, False
    while i < len(pattern):
        c = pattern[i:i + 1]
        if c == b"%" and i + 1 < len(pattern):
            spec = pattern[i + 1:i + 2]
            pid_in_pattern = pid_in_pattern or spec == b"p"
            if spec in values:
                out += str(values[spec]).encode()
            i += 2
            continue
        out += c
        i += 1
    if kernel.core_uses_pid and not pid_in_pattern:
        out += b".%d" % task.tgid
    return bytes(out)


def do_coredump(task, info):
    """do_coredump(): write task's process image to the file core_pattern
    names.  Returns True when a core was dumped (the caller then sets
    WCOREDUMP in the exit code), False when RLIMIT_CORE is below a page
    (binfmt->min_coredump), the pattern names a helper, or the file cannot
    be made.  As 4.14, an existing file of that name is unlinked first and
    the new one created O_EXCL, so a link planted there is never written."""
    from kernel.fs.namei import PathError, host_path
    from kernel.uapi import AT_FDCWD
    limit = task.rlim[RLIMIT_CORE][0]
    if limit < PAGE_SIZE:
        return False
    name = format_corename(task, info, task.kernel.core_pattern)
    if name is None:
        task.kernel.printk("Core dump to %s pipe failed: no usermode helper on the board"
                           % os.fsdecode(task.kernel.core_pattern))
        return False
    try:
        dir_fd, hpath = host_path(task, AT_FDCWD, name, follow=False)
        try:
            os.unlink(hpath, dir_fd=dir_fd)
        except OSError:
            pass
        fd = os.open(hpath, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600, dir_fd=dir_fd)
    except (OSError, PathError):
        return False
    try:
        written = elf_core_dump(task, info, fd, limit)
    finally:
        os.close(fd)
    return written


def elf_core_dump(task, info, fd, limit):
    """elf_core_dump(): headers, notes, then each VMA's dump, cut at limit
    (dump_emit() fails past RLIMIT_CORE: the file is kept, truncated, and
    still counts as dumped, as in 4.14).  Pages that are not present are
    holes (get_dump_page() finds nothing there): nothing is faulted in,
    so a huge untouched mapping costs the board no memory."""
    mm = task.mm
    vmas = [v for v in mm.vmas()]
    notes = fill_note_info(task, info, vmas)
    nsegs = len(vmas) + 1
    offset = EHDR.size + nsegs * PHDR.size
    headers = [PHDR.pack(PT_NOTE, 0, offset, 0, 0, len(notes), 0, 0)]
    data_offset = (offset + len(notes) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
    dumps = []
    for vma in vmas:
        size = vma_dump_size(task.kernel, vma)
        flags = ((PF_R if vma.vm_flags & VM_READ else 0) | (PF_W if vma.vm_flags & VM_WRITE else 0)
                 | (PF_X if vma.vm_flags & VM_EXEC else 0))
        headers.append(PHDR.pack(PT_LOAD, flags, data_offset, vma.vm_start, 0, size,
                                 vma.vm_end - vma.vm_start, PAGE_SIZE))
        dumps.append((vma.vm_start, size))
        data_offset += size
    ehdr = EHDR.pack(ELF_IDENT, ET_CORE, EM_AARCH64, EV_CURRENT, 0, EHDR.size, 0, 0,
                     EHDR.size, PHDR.size, nsegs, 0, 0, 0)
    out = _Emitter(fd, limit)
    out.emit(ehdr + b"".join(headers) + notes)
    out.pad_to((out.pos + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
    for start, size in dumps:
        for addr in range(start, start + size, PAGE_SIZE):
            page = task.mm.uaccess.peek(addr, PAGE_SIZE)
            if not (out.emit(page) if page is not None else out.skip(PAGE_SIZE)):
                break
        else:
            continue
        break
    out.truncate()
    return True


class _Emitter:
    """dump_emit(): write while under the limit."""

    def __init__(self, fd, limit):
        self.fd = fd
        self.limit = limit
        self.pos = 0

    def emit(self, data):
        room = self.limit - self.pos
        if room <= 0:
            return False
        data = data[:room]
        os.write(self.fd, data)
        self.pos += len(data)
        return self.pos < self.limit

    def skip(self, n):
        """dump_skip(): a hole (a page never touched reads as zeros)."""
        n = min(n, self.limit - self.pos)
        os.lseek(self.fd, n, os.SEEK_CUR)
        self.pos += n
        return self.pos < self.limit

    def pad_to(self, pos):
        self.skip(pos - self.pos)

    def truncate(self):
        """dump_truncate(): a file ending in a hole still has its full size."""
        os.ftruncate(self.fd, self.pos)


def vma_dump_size(kernel, vma):
    """vma_dump_size(): how much of vma the core holds, as the mm's
    coredump_filter asks (default 0x33: the whole of anonymous memory,
    private or shared, and the first page of a file mapping that starts
    with an ELF header).  Omits hugetlb and DAX (none on the board)."""
    want = vma.vm_mm.coredump_filter
    whole = vma.vm_end - vma.vm_start
    if vma.vm_flags & (VM_DONTDUMP | VM_IO):
        return 0
    if vma.vm_flags & VM_SHARED:
        # Shared memory with no host file behind it is shmem (i_nlink == 0).
        anon = vma.vm_file.mapping.host_fd is None
        return whole if want & (MMF_DUMP_ANON_SHARED if anon else MMF_DUMP_MAPPED_SHARED) else 0
    if vma.anon_vma is not None and want & MMF_DUMP_ANON_PRIVATE:
        return whole
    if vma.vm_file is None:
        return 0
    if want & MMF_DUMP_MAPPED_PRIVATE:
        return whole
    if want & MMF_DUMP_ELF_HEADERS and vma.vm_pgoff == 0 and vma.vm_flags & VM_READ and \
            vma.vm_mm.uaccess.peek(vma.vm_start, len(DUMP_ELF_HEADER_MAGIC)) == DUMP_ELF_HEADER_MAGIC:
        return PAGE_SIZE
    return 0


# -- notes ----------------------------------------------------------------------------

def note(name, ntype, desc):
    """One ELF note: namesz, descsz, type, the name and the data, each
    padded to 4 bytes."""
    name += b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)  # noqa: E731
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def fill_note_info(task, info, vmas):
    """fill_note_info() + write_note_info(): the dumping thread's notes
    first, with the process-wide ones after its NT_PRSTATUS, then every
    other thread's."""
    threads = [task] + [t for t in task.thread_group if t is not task and t.exit_state is None]
    out = []
    for i, t in enumerate(threads):
        gp, v = thread_context(t)
        out.append(note(NOTE_NAME, NT_PRSTATUS, fill_prstatus(t, info.signo if i == 0 else 0, gp)))
        if i == 0:
            out.append(note(NOTE_NAME, NT_PRPSINFO, fill_psinfo(task)))
            out.append(note(NOTE_NAME, NT_SIGINFO, info.pack()))
            auxv = b"".join(struct.pack("<QQ", k, v) for k, v in task.mm.saved_auxv or ())
            out.append(note(NOTE_NAME, NT_AUXV, auxv))
            out.append(note(NOTE_NAME, NT_FILE, fill_files_note(vmas)))
        out.append(note(NOTE_NAME, NT_PRFPREG, v + FPSIMD_TAIL.pack(gp[CTX_FPSR], gp[CTX_FPCR])))
        out.append(note(NOTE_NAME_LINUX, NT_ARM_TLS, struct.pack("<Q", gp[CTX_TPIDR])))
    return b"".join(out)


def thread_context(t):
    """A thread's registers: live on the core it occupies, else saved."""
    if t.core is not None:
        return t.core.save_context()
    return t.context


def fill_prstatus(t, cursig, gp):
    """fill_prstatus() + the GPR regset: elf_prstatus for one thread."""
    utime = int(t.utime * 1e6)
    times = (utime // 10**6, utime % 10**6, 0, 0, 0, 0, 0, 0)
    ppid = t.real_parent.tgid if t.real_parent is not None else 0
    head = PRSTATUS_HEAD.pack(cursig, 0, 0, cursig, sigset_of(t.pending), t.blocked,
                              t.pid, ppid, t.signal.pgrp, t.signal.session, *times)
    regs = struct.pack("<34Q", *(gp[:31] + [gp[CTX_SP], gp[CTX_PC], gp[CTX_NZCV]]))
    return head + regs + PRSTATUS_TAIL.pack(1)




def fill_psinfo(task):
    """fill_psinfo(): state, ids, the command name and its first 80
    bytes of arguments (NULs as spaces)."""
    args = b" ".join(os.fsencode(a) for a in task.argv)[:ELF_PRARGSZ - 1]
    ppid = task.real_parent.tgid if task.real_parent is not None else 0
    uid = task.kernel.uid_of(task)
    return PRPSINFO.pack(0, b"R", 0, 0, 0, uid, uid, task.tgid, ppid, task.signal.pgrp,
                         task.signal.session, task.comm.encode()[:15], args)


def fill_files_note(vmas):
    """fill_files_note(): count, page size, (start, end, offset in pages)
    per file-backed VMA, then their names."""
    files = [v for v in vmas if v.vm_file is not None and v.vm_file.path]
    head = struct.pack("<QQ", len(files), PAGE_SIZE)
    ranges = b"".join(struct.pack("<QQQ", v.vm_start, v.vm_end, v.vm_pgoff) for v in files)
    names = b"".join(os.fsencode(v.vm_file.path) + b"\0" for v in files)
    return head + ranges + names

