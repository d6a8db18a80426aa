"""fs/binfmt_elf.c + fs/exec.c: load_elf_binary() — an ELF file becomes an
address space: one file-backed VMA per PT_LOAD (nothing is read until a
fault asks for it), the bss, the heap's start, and a stack holding argv,
envp and the auxiliary vector, laid out as create_elf_tables() does.

As with `setarch -R` (randomize_va_space = 0) nothing is randomised, so
every run of a program sees the same addresses.
"""

import collections
import errno
import os
import stat
import struct


from emu.arch import HWCAP2_CORTEX_A53, HWCAP_CORTEX_A53, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE
from kernel.fs.file import File
from kernel.mm.page_alloc import OutOfMemory
from kernel.vdso import arch_setup_additional_pages
from kernel.mm.mm import VM_EXEC, VM_STACK_FLAGS, vm_get_page_prot
from kernel.mm.mm_types import VmAreaStruct
from kernel.mm.mmap import (
    PAGE_ALIGN, do_brk_flags, do_mmap, do_munmap, insert_vm_struct, is_err,
    vm_stat_account,
)
from kernel.uaccess import Efault, EfaultOom
from kernel.uapi import (
    AT_BASE, AT_CLKTCK, AT_FDCWD, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID,
    AT_HWCAP, AT_HWCAP2, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM,
    AT_PLATFORM, AT_RANDOM, AT_SECURE, AT_SYSINFO_EHDR, AT_UID, EM_AARCH64, ET_DYN, ET_EXEC,
    MAP_DENYWRITE, MAP_FIXED, MAP_PRIVATE, O_RDONLY, PF_R, PF_W, PF_X, PROT_EXEC, PROT_READ,
    PROT_WRITE, PT_INTERP, PT_LOAD, RLIMIT_STACK, SIGKILL, SIGSEGV,
)

ELF_PLATFORM = b"aarch64"
CLOCKS_PER_SEC = 100
STACK_EXPAND = 128 << 10        # setup_arg_pages(): room to grow before the first fault

# include/uapi/linux/elf.h: the 64-bit file header and program header.
ELF64_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
ELF64_PHDR = struct.Struct("<IIQQQQQQ")
ElfHdr = collections.namedtuple(
    "ElfHdr", "e_ident e_type e_machine e_version e_entry e_phoff e_shoff e_flags "
              "e_ehsize e_phentsize e_phnum e_shentsize e_shnum e_shstrndx")
ElfPhdr = collections.namedtuple(
    "ElfPhdr", "p_type p_flags p_offset p_vaddr p_paddr p_filesz p_memsz p_align")
ELFMAG = b"\x7fELF"
EI_CLASS, EI_DATA = 4, 5
ELFCLASS64, ELFDATA2LSB = 2, 1
PT_GNU_STACK = 0x6474E551
# include/uapi/linux/binfmts.h, limits.h, fs/binfmt_elf.c
BINPRM_BUF_SIZE = 128           # what prepare_binprm() reads of the file (zero-padded)
PATH_MAX = 4096
ELF_MIN_ALIGN = PAGE_SIZE       # ELF_EXEC_PAGESIZE on arm64 (4K pages)
ULONG_MASK = (1 << 64) - 1      # the loader's sums wrap as unsigned long does
LOFF_MAX = (1 << 63) - 1        # loff_t is signed: kernel_read() refuses larger offsets
_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class ExecError(Exception):
    """The program cannot be run: a one-line reason, the shell's status and
    the errno execve() returns (ENOEXEC unless said otherwise).

    fatal: the failure came after exec's point of no return (flush_old_exec):
    Linux then kills the process with SIGSEGV (search_binary_handler's
    force_sigsegv) and nobody sees the errno; a shell reports status 139.

    oom: the board ran out of RAM past that point: the page allocator's OOM
    killer ends the process (SIGKILL, 137), see past_no_return_oom()."""

    def __init__(self, status, reason, err=errno.ENOEXEC, fatal=False, oom=False):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.errno = err
        self.fatal = fatal
        self.oom = oom


def _noexec(reason, err=errno.ENOEXEC):
    """A refusal before the point of no return: execve() returns err."""
    return ExecError(127 if err == errno.ENOENT else 126, reason, err)


def _past_no_return(reason, err):
    """A failure after the point of no return: the process dies of SIGSEGV."""
    return ExecError(128 + SIGSEGV, "%s (%s after exec's point of no return: the process "
                     "is killed by SIGSEGV)" % (reason, errno.errorcode.get(err, err)),
                     err, fatal=True)


def past_no_return_oom():
    """No free frame after the point of no return.  4.14's page allocator
    does not fail the allocation quietly: __alloc_pages_may_oom() runs the
    OOM killer, whose victim on this board is the process being loaded
    (SIGKILL; the caller names it in the kernel's words, oom_kill)."""
    return ExecError(128 + SIGKILL, "out of memory", errno.ENOMEM, fatal=True, oom=True)


def open_exec_error(exc):
    """The ExecError for an OSError from opening a program: what a shell says
    (127 for a missing file, 126 otherwise) and execve()'s errno (a directory
    is EACCES, as may_open() answers)."""
    if isinstance(exc, FileNotFoundError):
        return ExecError(127, "No such file or directory", errno.ENOENT)
    if isinstance(exc, IsADirectoryError):
        return ExecError(126, "Is a directory", errno.EACCES)
    if isinstance(exc, PermissionError):
        return ExecError(126, "Permission denied", errno.EACCES)
    return ExecError(126, exc.strerror or str(exc), exc.errno or errno.EIO)


def elf_dyn_base(task_size):
    """ELF_ET_DYN_BASE on arm64: two thirds of the user address space."""
    return (2 * task_size // 3) & PAGE_MASK


def ELF_PAGESTART(v):
    return v & ~(ELF_MIN_ALIGN - 1) & ULONG_MASK


def ELF_PAGEOFFSET(v):
    return v & (ELF_MIN_ALIGN - 1)


def ELF_PAGEALIGN(v):
    return (v + ELF_MIN_ALIGN - 1) & ~(ELF_MIN_ALIGN - 1) & ULONG_MASK


def BAD_ADDR(mm, x):
    """BAD_ADDR(): an error value or an address at or above TASK_SIZE."""
    return x < 0 or x >= mm.task_size


def check_exec_file(path):
    """The file-type part of do_open_execat(): only a regular file can be
    executed (EACCES).  Checked before the file is opened, so a FIFO is
    never opened: 4.14 checks S_ISREG only after do_filp_open(), where an
    executable FIFO blocks waiting for a writer; 5.8's "exec: move S_ISREG()
    check earlier" refuses it in may_open() instead, as here."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise open_exec_error(e)
    if stat.S_ISDIR(st.st_mode):
        raise ExecError(126, "Is a directory", errno.EACCES)
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(st.st_mode)), "not a regular file")
        raise ExecError(126, "Permission denied (%s, not a regular file)" % kind, errno.EACCES)


def open_exec(path):
    """open_exec(): a host descriptor of the regular, executable file at
    path.  O_NONBLOCK: should a FIFO replace the file after the check, the
    open still returns at once (and fstat refuses it)."""
    check_exec_file(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as e:
        raise open_exec_error(e)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ExecError(126, "Permission denied (not a regular file)", errno.EACCES)
        if not os.access(path, os.X_OK):
            raise ExecError(126, "Permission denied", errno.EACCES)
    except BaseException:
        os.close(fd)
        raise
    return fd


def kernel_read(fd, size, pos):
    """kernel_read(): up to size bytes at pos (short at the end of the file);
    a negative errno for an offset loff_t cannot hold (rw_verify_area)."""
    if pos > LOFF_MAX:
        return -errno.EINVAL
    try:
        return os.pread(fd, size, pos)
    except OSError as e:
        return -(e.errno or errno.EIO)


def read_elfhdr(fd):
    """prepare_binprm(): the first BINPRM_BUF_SIZE bytes, zero-padded, seen
    as an Elf64_Ehdr (bprm->buf)."""
    buf = os.pread(fd, BINPRM_BUF_SIZE, 0).ljust(BINPRM_BUF_SIZE, b"\0")
    return ElfHdr._make(ELF64_EHDR.unpack_from(buf))


def elf_check_arch(ex):
    """elf_check_arch() on arm64: e_machine == EM_AARCH64 (only; 4.14 reads
    no e_ident byte but the magic)."""
    return ex.e_machine == EM_AARCH64


def _enum_name(enum, value):
    """pyelftools' name of an e_type or e_machine value (ENUM_E_TYPE,
    ENUM_E_MACHINE), or None.  Only messages need it: pyelftools is
    imported here, not at start-up (~15 ms)."""
    from elftools.elf import enums
    names = {v: k for k, v in getattr(enums, enum).items() if isinstance(v, int)}
    return names.get(value)


def describe_machine(ex):
    """'e_machine 62 (EM_X86_64)', with a word on e_ident when it is not a
    64-bit little-endian ELF (why an AArch64 field may read oddly)."""
    text = "e_machine %d" % ex.e_machine
    name = _enum_name("ENUM_E_MACHINE", ex.e_machine)
    if name is not None:
        text += " (%s)" % name
    if ex.e_ident[EI_CLASS] != ELFCLASS64:
        text += ", a %s ELF (e_ident[EI_CLASS] %d)" % (
            "32-bit" if ex.e_ident[EI_CLASS] == 1 else "class-less", ex.e_ident[EI_CLASS])
    elif ex.e_ident[EI_DATA] != ELFDATA2LSB:
        text += ", not little-endian (e_ident[EI_DATA] %d)" % ex.e_ident[EI_DATA]
    return text


def load_elf_phdrs(ex, fd):
    """load_elf_phdrs(): the program header table, or a reason it is refused
    (the caller picks the errno: ENOEXEC for a program, ELIBBAD for its
    interpreter).  Returns (phdrs, None) or (None, reason)."""
    size_max = ELF_MIN_ALIGN
    if ex.e_phentsize != ELF64_PHDR.size:
        return None, "e_phentsize %d (sizeof(Elf64_Phdr) is %d)" % (ex.e_phentsize,
                                                                     ELF64_PHDR.size)
    if ex.e_phnum < 1 or ex.e_phnum > 65536 // ELF64_PHDR.size:
        return None, "e_phnum %d (1..%d)" % (ex.e_phnum, 65536 // ELF64_PHDR.size)
    size = ELF64_PHDR.size * ex.e_phnum
    if size > size_max:
        return None, "e_phnum %d: the program headers take %d bytes, more than %d" % (
            ex.e_phnum, size, size_max)
    data = kernel_read(fd, size, ex.e_phoff)
    if isinstance(data, int) or len(data) != size:
        return None, "e_phoff %#x: the %d program headers (%d bytes) are not all in the file" % (
            ex.e_phoff, ex.e_phnum, size)
    return [ElfPhdr._make(ELF64_PHDR.unpack_from(data, i * ELF64_PHDR.size))
            for i in range(ex.e_phnum)], None


class ElfBinary:
    """What load_elf_binary() has learnt before the point of no return: the
    file, its header and program headers, and its interpreter's."""

    def __init__(self, fd, ex, phdrs):
        self.fd, self.ex, self.phdrs = fd, ex, phdrs
        self.interp_name = None
        self.interp_fd = None
        self.interp_ex = None
        self.interp_phdrs = None

    def close(self):
        for fd in (self.fd, self.interp_fd):
            if fd is not None:
                os.close(fd)
        self.fd = self.interp_fd = None


def check_elf_binary(kernel, path, cwd_fd=None, task=None):
    """load_elf_binary() up to flush_old_exec(), in its order: the header
    (magic, e_type, elf_check_arch), load_elf_phdrs(), the first PT_INTERP
    (its size, its bytes, the NUL at its end, open_exec() of it, its header),
    then the interpreter's consistency (ELIBBAD).  Every failure is an errno
    execve() returns to the caller.  A relative interpreter name is looked
    up from cwd_fd (the task's working directory; None: the host's); a
    task with a root (--jail, chroot) looks the name up below it.  With
    task, the interpreter's open_exec() checks MAY_EXEC with its guest
    credentials.  Returns an ElfBinary."""
    fd = open_exec(path)
    binary = ElfBinary(fd, None, None)
    try:
        ex = binary.ex = read_elfhdr(fd)
        if ex.e_ident[:len(ELFMAG)] != ELFMAG:
            raise _noexec("exec format error: not an ELF file (e_ident starts %r)"
                          % ex.e_ident[:len(ELFMAG)])
        if ex.e_type not in (ET_EXEC, ET_DYN):
            raise _noexec("exec format error: e_type %d (%s) is not ET_EXEC or ET_DYN"
                          % (ex.e_type, _enum_name("ENUM_E_TYPE", ex.e_type) or "unknown"))
        if not elf_check_arch(ex):
            raise _noexec("exec format error: %s, not AArch64 (EM_AARCH64 is %d)"
                          % (describe_machine(ex), EM_AARCH64))
        phdrs, why = load_elf_phdrs(ex, fd)
        if phdrs is None:
            raise _noexec("exec format error: " + why)
        binary.phdrs = phdrs
        for ph in phdrs:
            if ph.p_type == PT_INTERP:
                _read_interp(kernel, binary, ph, cwd_fd, task)
                break               # the first PT_INTERP is the one
        if binary.interp_fd is not None:
            iex = binary.interp_ex
            name = binary.interp_name.decode(errors="replace")
            if iex.e_ident[:len(ELFMAG)] != ELFMAG:
                raise _noexec("interpreter '%s' is not an ELF file" % name, errno.ELIBBAD)
            if not elf_check_arch(iex):
                raise _noexec("interpreter '%s': %s, not AArch64" % (name, describe_machine(iex)),
                              errno.ELIBBAD)
            binary.interp_phdrs, why = load_elf_phdrs(iex, binary.interp_fd)
            if binary.interp_phdrs is None:
                raise _noexec("interpreter '%s': %s" % (name, why), errno.ELIBBAD)
        return binary
    except BaseException:
        binary.close()
        raise


def interp_may_exec(task, name, host, cwd_fd):
    """open_exec(elf_interpreter)'s do_open_execat() with the guest's
    credentials: search permission on the way, may_open(MAY_EXEC) of the
    interpreter (a root needs some x bit), a regular file — raises
    ExecError(126, EACCES); what the host answers (ENOENT...) comes after."""
    from kernel.fs.namei import PathError
    from kernel.fs.permission import may_exec
    if name.startswith(b"/"):
        dir_fd, path = None, host
    else:
        dir_fd, path = cwd_fd, name
    try:
        err = may_exec(task, dir_fd, path)
    except PathError as e:
        err = e.err
    if err:
        raise ExecError(126, os.strerror(-err), -err)


def _rooted_interp(task, name):
    """open_exec() of PT_INTERP for a task with a root: the name is looked
    up below the root, as the kernel would after chroot() (kernel/fs/jail.py),
    and the host opens the file it found by its real name."""
    from kernel.fs.namei import PathError, host_path     # imports the fs layer
    try:
        dir_fd, last = host_path(task, AT_FDCWD, name)
    except PathError as e:
        raise ExecError(127 if e.err == -errno.ENOENT else 126,
                        "cannot load interpreter %r: %s" % (name.decode(errors="replace"),
                                                            os.strerror(-e.err)), -e.err)
    return os.path.realpath(os.path.join(b"/proc/self/fd/%d" % dir_fd, last))


def _read_interp(kernel, binary, ph, cwd_fd, task=None):
    """The PT_INTERP part of load_elf_binary(): 2..PATH_MAX bytes ending in
    a NUL, naming a file open_exec() accepts, with a whole ELF header.  An
    empty name is the working directory itself (getname_kernel() accepts
    "", unlike getname()): EACCES, not a regular file."""
    if ph.p_filesz > PATH_MAX or ph.p_filesz < 2:
        raise _noexec("exec format error: PT_INTERP p_filesz %d (2..%d)" % (ph.p_filesz, PATH_MAX))
    data = kernel_read(binary.fd, ph.p_filesz, ph.p_offset)
    if isinstance(data, int):
        raise _noexec("PT_INTERP p_offset %#x: %s" % (ph.p_offset, os.strerror(-data)), -data)
    if len(data) != ph.p_filesz:
        raise _noexec("PT_INTERP p_offset %#x p_filesz %d: past the end of the file"
                      % (ph.p_offset, ph.p_filesz), errno.EIO)
    if data[-1] != 0:
        raise _noexec("exec format error: PT_INTERP %r is not NUL-terminated" % data[-40:])
    name = data.split(b"\0", 1)[0]         # a C string: up to the first NUL
    binary.interp_name = name
    if getattr(getattr(task, "fs", None), "root_fd", None) is not None:
        host = _rooted_interp(task, name)
    elif name.startswith(b"/"):
        host = kernel.resolve_sysroot(name)
    else:
        host = os.path.join(b"." if cwd_fd is None else b"/proc/self/fd/%d" % cwd_fd, name)
    try:
        if task is not None:
            interp_may_exec(task, name, host, cwd_fd)
        binary.interp_fd = open_exec(host)
    except ExecError as e:
        raise ExecError(e.status, "cannot load interpreter %r: %s"
                        % (name.decode(errors="replace"), e.reason), e.errno)
    head = kernel_read(binary.interp_fd, ELF64_EHDR.size, 0)
    if isinstance(head, int) or len(head) != ELF64_EHDR.size:
        raise _noexec("interpreter %r: its ELF header is not all in the file"
                      % name.decode(errors="replace"), errno.EIO)
    binary.interp_ex = ElfHdr._make(ELF64_EHDR.unpack_from(head))


def _prot(flags):
    return ((PROT_READ if flags & PF_R else 0) | (PROT_WRITE if flags & PF_W else 0)
            | (PROT_EXEC if flags & PF_X else 0))


def total_mapping_size(phdrs):
    """total_mapping_size(): from the first PT_LOAD's page to the end of the
    last one's memory (as unsigned long: segments out of order wrap), 0
    without a PT_LOAD."""
    loads = [ph for ph in phdrs if ph.p_type == PT_LOAD]
    if not loads:
        return 0
    return (loads[-1].p_vaddr + loads[-1].p_memsz - ELF_PAGESTART(loads[0].p_vaddr)) & ULONG_MASK


def vm_mmap(mm, file, addr, length, prot, flags, offset):
    """vm_mmap(): an offset must be page-aligned and must not wrap."""
    if (offset + PAGE_ALIGN(length)) & ULONG_MASK < offset:
        return -errno.EINVAL
    if offset & ~PAGE_MASK:
        return -errno.EINVAL
    return do_mmap(mm, file, addr, length, prot, flags, offset >> PAGE_SHIFT)


def elf_map(mm, file, addr, ph, prot, flags, total_size):
    """elf_map(): map the file part of one PT_LOAD (nothing for p_filesz 0).
    The first mapping of an ET_DYN image reserves total_size, so later
    segments (MAP_FIXED) find room, and gives back what lies past its own
    file part.  Returns the address or a negative errno."""
    size = (ph.p_filesz + ELF_PAGEOFFSET(ph.p_vaddr)) & ULONG_MASK
    off = (ph.p_offset - ELF_PAGEOFFSET(ph.p_vaddr)) & ULONG_MASK
    addr = ELF_PAGESTART(addr)
    size = ELF_PAGEALIGN(size)
    if not size:
        return addr
    if total_size:
        total_size = ELF_PAGEALIGN(total_size)
        map_addr = vm_mmap(mm, file, addr, total_size, prot, flags, off)
        if not BAD_ADDR(mm, map_addr) and total_size > size:
            do_munmap(mm, map_addr + size, total_size - size)
        return map_addr
    return vm_mmap(mm, file, addr, size, prot, flags, off)


def set_brk(mm, start, end, prot):
    """set_brk(): anonymous memory for [start, end) page-aligned (executable
    if the segment is); the program break starts at its end.  0 or -errno."""
    start = ELF_PAGEALIGN(start)
    end = ELF_PAGEALIGN(end)
    if end > start:
        err = do_brk_flags(mm, start, end - start, VM_EXEC if prot & PROT_EXEC else 0)
        if err:
            return err
    mm.start_brk = mm.brk = end
    return 0


def padzero(task, elf_bss):
    """padzero(): zero the rest of the page holding the end of the file
    data; False when that page cannot be written (EFAULT)."""
    nbyte = ELF_PAGEOFFSET(elf_bss)
    if nbyte:
        try:
            task.uaccess.clear_user(elf_bss, ELF_MIN_ALIGN - nbyte)
        except EfaultOom:
            raise OutOfMemory() from None       # the OOM killer, not the EFAULT
        except Efault:
            return False
    return True


def _segment(i, ph):
    return "PT_LOAD %d (p_vaddr %#x p_offset %#x p_filesz %#x p_memsz %#x)" % (
        i, ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz)


def _map_program(task, file, binary):
    """The PT_LOAD loop of load_elf_binary(), after the point of no return:
    elf_map() each segment (MAP_FIXED for ET_EXEC and after the first;
    an ET_DYN with an interpreter at ELF_ET_DYN_BASE, one without where
    mmap puts it), the bss of an earlier segment when another follows, the
    size checks, then set_brk() and padzero().  Returns a dict of what
    create_elf_tables and the mm need; raises ExecError (fatal)."""
    mm = task.mm
    ex = binary.ex
    ext = {"start_code": ULONG_MASK, "end_code": 0, "start_data": 0, "end_data": 0,
           "load_addr": 0, "load_bias": 0}
    elf_bss = elf_brk = 0
    bss_prot = 0
    load_bias = 0
    load_addr_set = False
    for i, ph in enumerate(binary.phdrs):
        if ph.p_type != PT_LOAD:
            continue
        if elf_brk > elf_bss:
            # An earlier segment's bss: anonymous pages, the partial page zeroed
            # (a failure to zero is ignored, as odd protections make it fail).
            err = set_brk(mm, (elf_bss + load_bias) & ULONG_MASK,
                          (elf_brk + load_bias) & ULONG_MASK, bss_prot)
            if err:
                raise _past_no_return("cannot map the bss before %s" % _segment(i, ph), -err)
            nbyte = ELF_PAGEOFFSET(elf_bss)
            if nbyte:
                nbyte = min(ELF_MIN_ALIGN - nbyte, elf_brk - elf_bss)
                try:
                    task.uaccess.clear_user((elf_bss + load_bias) & ULONG_MASK, nbyte)
                except EfaultOom:
                    raise OutOfMemory() from None
                except Efault:
                    pass
        prot = _prot(ph.p_flags)
        flags = MAP_PRIVATE | MAP_DENYWRITE     # the image is ETXTBSY while mapped (denywrite.py)
        vaddr = ph.p_vaddr
        total_size = 0
        if ex.e_type == ET_EXEC or load_addr_set:
            flags |= MAP_FIXED
        else:
            if binary.interp_fd is not None:
                load_bias = elf_dyn_base(mm.task_size)
                flags |= MAP_FIXED
            else:
                load_bias = 0
            load_bias = ELF_PAGESTART(load_bias - vaddr)
            total_size = total_mapping_size(binary.phdrs)
            if not total_size:
                raise _past_no_return("the PT_LOAD segments span 0 bytes (total_mapping_size)",
                                      errno.EINVAL)
        addr = elf_map(mm, file, (load_bias + vaddr) & ULONG_MASK, ph, prot, flags, total_size)
        if BAD_ADDR(mm, addr):
            err = -addr if is_err(addr) else errno.EINVAL
            raise _past_no_return("cannot map %s" % _segment(i, ph), err)
        if not load_addr_set:
            load_addr_set = True
            ext["load_addr"] = (ph.p_vaddr - ph.p_offset) & ULONG_MASK
            if ex.e_type == ET_DYN:
                load_bias = (load_bias + addr - ELF_PAGESTART(load_bias + vaddr)) & ULONG_MASK
                ext["load_addr"] = (ext["load_addr"] + load_bias) & ULONG_MASK
        k = ph.p_vaddr
        ext["start_code"] = min(ext["start_code"], k)
        ext["start_data"] = max(ext["start_data"], k)
        # set_brk can never work past TASK_SIZE; this also refuses a file
        # part larger than the memory it goes in.
        if BAD_ADDR(mm, k) or ph.p_filesz > ph.p_memsz or ph.p_memsz > mm.task_size or \
                mm.task_size - ph.p_memsz < k:
            why = ("p_filesz %#x > p_memsz %#x" % (ph.p_filesz, ph.p_memsz)
                   if ph.p_filesz > ph.p_memsz else "it does not fit below TASK_SIZE %#x"
                   % mm.task_size)
            raise _past_no_return("%s: %s" % (_segment(i, ph), why), errno.EINVAL)
        k = ph.p_vaddr + ph.p_filesz
        elf_bss = max(elf_bss, k)
        if ph.p_flags & PF_X:
            ext["end_code"] = max(ext["end_code"], k)
        ext["end_data"] = max(ext["end_data"], k)
        k = ph.p_vaddr + ph.p_memsz
        if k > elf_brk:
            bss_prot = prot
            elf_brk = k
    for key in ("start_code", "end_code", "start_data", "end_data"):
        ext[key] = (ext[key] + load_bias) & ULONG_MASK
    elf_bss = (elf_bss + load_bias) & ULONG_MASK
    elf_brk = (elf_brk + load_bias) & ULONG_MASK
    # Before the interpreter is mapped, so it cannot land where the bss goes.
    err = set_brk(mm, elf_bss, elf_brk, bss_prot)
    if err:
        raise _past_no_return("cannot map the bss [%#x, %#x)" % (elf_bss, elf_brk), -err)
    if elf_bss != elf_brk and not padzero(task, elf_bss):
        raise _past_no_return("cannot zero the end of the data at %#x" % elf_bss, errno.EFAULT)
    ext["load_bias"] = load_bias
    return ext


def load_elf_interp(task, file, binary, no_base):
    """load_elf_interp(): map the interpreter (an ET_DYN where mmap puts it,
    or an ET_EXEC where it says), its bss, and return its load address.
    Raises ExecError (fatal)."""
    mm = task.mm
    iex, phdrs = binary.interp_ex, binary.interp_phdrs
    name = binary.interp_name.decode(errors="replace")
    if iex.e_type not in (ET_EXEC, ET_DYN) or not elf_check_arch(iex):
        raise _past_no_return("interpreter '%s': e_type %d" % (name, iex.e_type), errno.EINVAL)
    total_size = total_mapping_size(phdrs)
    if not total_size:
        raise _past_no_return("interpreter '%s': no PT_LOAD segment" % name, errno.EINVAL)
    load_addr = 0
    load_addr_set = False
    elf_bss = last_bss = 0
    bss_prot = 0
    for i, ph in enumerate(phdrs):
        if ph.p_type != PT_LOAD:
            continue
        prot = _prot(ph.p_flags)
        flags = MAP_PRIVATE | MAP_DENYWRITE     # the image is ETXTBSY while mapped (denywrite.py)
        vaddr = ph.p_vaddr
        if iex.e_type == ET_EXEC or load_addr_set:
            flags |= MAP_FIXED
        elif no_base and iex.e_type == ET_DYN:
            load_addr = -vaddr & ULONG_MASK
        addr = elf_map(mm, file, (load_addr + vaddr) & ULONG_MASK, ph, prot, flags, total_size)
        total_size = 0
        if BAD_ADDR(mm, addr):
            err = -addr if is_err(addr) else errno.EINVAL
            raise _past_no_return("interpreter '%s': cannot map %s" % (name, _segment(i, ph)), err)
        if not load_addr_set and iex.e_type == ET_DYN:
            load_addr = (addr - ELF_PAGESTART(vaddr)) & ULONG_MASK
            load_addr_set = True
        k = (load_addr + ph.p_vaddr) & ULONG_MASK
        if BAD_ADDR(mm, k) or ph.p_filesz > ph.p_memsz or ph.p_memsz > mm.task_size or \
                mm.task_size - ph.p_memsz < k:
            raise _past_no_return("interpreter '%s': %s does not fit" % (name, _segment(i, ph)),
                                  errno.ENOMEM)
        elf_bss = max(elf_bss, k + ph.p_filesz)
        if k + ph.p_memsz > last_bss:
            last_bss = k + ph.p_memsz
            bss_prot = prot
    if not padzero(task, elf_bss):
        raise _past_no_return("interpreter '%s': cannot zero the end of its data" % name,
                              errno.EFAULT)
    elf_bss = ELF_PAGEALIGN(elf_bss)
    last_bss = ELF_PAGEALIGN(last_bss)
    if last_bss > elf_bss:
        err = do_brk_flags(mm, elf_bss, last_bss - elf_bss, VM_EXEC if bss_prot & PROT_EXEC else 0)
        if err:
            raise _past_no_return("interpreter '%s': cannot map its bss" % name, -err)
    return load_addr


def _push_strings(um, p, strings):
    """copy_strings(): store strings NUL-terminated below p, the last one
    highest; returns the new p and the strings' addresses in order."""
    ptrs = []
    for s in reversed(strings):
        p -= len(s) + 1
        um.copy_to_user(p, s + b"\0")
        ptrs.append(p)
    ptrs.reverse()
    return p, ptrs


def _stack_need(task, argv, envp, execfn, nauxv):
    """The bytes the initial stack needs; E2BIG (before the point of no
    return, as copy_strings() finds it) past a quarter of RLIMIT_STACK."""
    strings_area = sum(len(s) + 1 for s in argv + envp) + len(execfn) + 1 + 8
    nitems = 1 + len(argv) + 1 + len(envp) + 1 + 2 * (nauxv + 4)
    need = PAGE_ALIGN(strings_area + len(ELF_PLATFORM) + 1 + 16 + 16 + nitems * 8 + 16)
    if need > task.rlim[RLIMIT_STACK][0] // 4:      # exec refuses argv+envp over a quarter of RLIMIT_STACK
        raise ExecError(126, "Argument list too long", errno.E2BIG)
    return need


# include/linux/binfmts.h: what PT_GNU_STACK asks of the stack.
EXSTACK_DEFAULT, EXSTACK_DISABLE_X, EXSTACK_ENABLE_X = 0, 1, 2


def executable_stack(phdrs):
    """load_elf_binary()'s PT_GNU_STACK scan (the last one counts): an
    executable stack if its p_flags has PF_X, a non-executable one if not,
    the architecture's default without one."""
    mode = EXSTACK_DEFAULT
    for ph in phdrs:
        if ph.p_type == PT_GNU_STACK:
            mode = EXSTACK_ENABLE_X if ph.p_flags & PF_X else EXSTACK_DISABLE_X
    return mode


def setup_arg_pages(task, need, exstack=EXSTACK_DEFAULT):
    """setup_arg_pages(): the stack VMA at the top of the address space,
    before any segment is mapped (a MAP_FIXED segment may then cut into
    it, as on Linux); executable when PT_GNU_STACK says PF_X (arm64's
    default, VM_DATA_DEFAULT_FLAGS, is not)."""
    mm = task.mm
    top = mm.task_size
    flags = VM_STACK_FLAGS
    if exstack == EXSTACK_ENABLE_X:
        flags |= VM_EXEC
    elif exstack == EXSTACK_DISABLE_X:
        flags &= ~VM_EXEC
    vma = VmAreaStruct(mm, top - need - STACK_EXPAND, top, flags, vm_get_page_prot(flags))
    insert_vm_struct(mm, vma)
    vm_stat_account(mm, vma.vm_flags, (vma.vm_end - vma.vm_start) >> PAGE_SHIFT)
    mm.start_stack = top - 8    # provisional, replaced by sp below


def create_elf_tables(task, argv, envp, execfn, auxv_base):
    """copy_strings() + create_elf_tables(): argv, envp and auxv on the
    stack; returns sp.  Raises Efault when a segment took their place."""
    mm = task.mm
    top = mm.task_size
    um = task.uaccess

    # Strings, highest first: [NULL] execfn envp[n-1] ... envp[0] argv[n-1] ... argv[0]
    p = top - 8
    um.copy_to_user(p, bytes(8))
    p -= len(execfn) + 1
    um.copy_to_user(p, execfn + b"\0")
    execfn_addr = p
    env_end = p
    p, env_ptrs = _push_strings(um, p, envp)
    env_start = arg_end = p
    p, arg_ptrs = _push_strings(um, p, argv)
    arg_start = p

    p &= ~15
    p -= len(ELF_PLATFORM) + 1
    um.copy_to_user(p, ELF_PLATFORM + b"\0")
    platform = p
    p -= 16
    um.copy_to_user(p, task.kernel.entropy.get_random_bytes(16))
    random = p

    auxv = list(auxv_base)
    auxv[auxv.index((AT_RANDOM, None))] = (AT_RANDOM, random)
    auxv += [(AT_HWCAP2, HWCAP2_CORTEX_A53), (AT_EXECFN, execfn_addr),
             (AT_PLATFORM, platform), (AT_NULL, 0)]
    words = [len(argv)] + arg_ptrs + [0] + env_ptrs + [0]
    for key, val in auxv:
        words += [key, val]
    sp = (p - len(words) * 8) & ~15
    um.copy_to_user(sp, struct.pack("<%dQ" % len(words), *words))
    mm.arg_start, mm.arg_end = arg_start, arg_end
    mm.env_start, mm.env_end = env_start, env_end
    mm.start_stack = sp
    mm.saved_auxv = auxv
    return sp


# ARCH_DLINFO's AT_SYSINFO_EHDR and the fifteen entries create_elf_tables()
# writes before AT_HWCAP2/AT_EXECFN/AT_PLATFORM/AT_NULL.
NR_AUXV_BASE = 16


def load_elf_binary(kernel, task, path, argv, envp, execfn=None, cred=None, secureexec=False):
    """Build task's address space from the ELF at host `path`; sets task.entry
    and task.sp.  execfn is the name execve() was given (AT_EXECFN; default
    path).  Raises ExecError with the status a shell would give; one with
    .fatal set came after the point of no return (the caller kills the
    process with SIGSEGV, as Linux does)."""
    execfn = execfn or os.fsencode(path)
    fs = getattr(task, "fs", None)
    binary = check_elf_binary(kernel, path, fs.cwd_fd if fs is not None else None, task)
    try:
        need = _stack_need(task, argv, envp, execfn, NR_AUXV_BASE)
    except BaseException:
        binary.close()
        raise
    # The point of no return (flush_old_exec): from here on a failure kills.
    file = File(kernel, binary.fd, os.fsdecode(os.path.abspath(path)), O_RDONLY)
    ifile = None
    if binary.interp_fd is not None:
        ifile = File(kernel, binary.interp_fd, os.fsdecode(binary.interp_name), O_RDONLY)
    binary.fd = binary.interp_fd = None
    task.mm.exec_loading = True
    try:
        _load_past_no_return(kernel, task, file, ifile, binary, argv, envp, execfn, need,
                             cred or task.cred, secureexec)
    except OutOfMemory:
        raise past_no_return_oom() from None
    except ExecError as e:
        if e.fatal and isinstance(e.__context__, EfaultOom):   # padzero, the tables
            raise past_no_return_oom() from None
        raise
    finally:
        task.mm.exec_loading = False
        file.put()
        if ifile is not None:
            ifile.put()


def _load_past_no_return(kernel, task, file, ifile, binary, argv, envp, execfn, need, cred,
                         secureexec):
    """load_elf_binary() from setup_arg_pages() on: the stack, the segments,
    the interpreter, the vDSO, the tables; every failure is fatal."""
    mm = task.mm
    setup_arg_pages(task, need, executable_stack(binary.phdrs))
    ext = _map_program(task, file, binary)
    load_bias = ext["load_bias"]
    mm.start_code, mm.end_code = ext["start_code"], ext["end_code"]
    mm.start_data, mm.end_data = ext["start_data"], ext["end_data"]
    mm.exe_file = file.path
    mm.load_bias = load_bias
    entry = (binary.ex.e_entry + load_bias) & ULONG_MASK
    interp_base = 0
    if ifile is not None:
        interp_base = load_elf_interp(task, ifile, binary, load_bias)
        task.entry = (interp_base + binary.interp_ex.e_entry) & ULONG_MASK
        if BAD_ADDR(mm, task.entry):
            raise _past_no_return("interpreter '%s': e_entry %#x is past TASK_SIZE" % (
                binary.interp_name.decode(errors="replace"), binary.interp_ex.e_entry),
                errno.EINVAL)
    else:
        task.entry = entry
        if BAD_ADDR(mm, entry):
            raise _past_no_return("e_entry %#x is past TASK_SIZE %#x" % (entry, mm.task_size),
                                  errno.EINVAL)
    err = arch_setup_additional_pages(kernel, mm)
    if err:
        raise _past_no_return("cannot map the vDSO", -err)
    # ARCH_DLINFO first: where the vDSO is (AT_SYSINFO_EHDR).
    auxv = [(AT_SYSINFO_EHDR, mm.vdso_base), (AT_HWCAP, HWCAP_CORTEX_A53), (AT_PAGESZ, PAGE_SIZE),
            (AT_CLKTCK, CLOCKS_PER_SEC),
            (AT_PHDR, (ext["load_addr"] + binary.ex.e_phoff) & ULONG_MASK),
            (AT_PHENT, binary.ex.e_phentsize),
            (AT_PHNUM, binary.ex.e_phnum), (AT_BASE, interp_base), (AT_FLAGS, 0),
            (AT_ENTRY, entry), (AT_UID, cred.uid), (AT_EUID, cred.euid), (AT_GID, cred.gid),
            (AT_EGID, cred.egid), (AT_SECURE, int(secureexec)), (AT_RANDOM, None)]
    assert len(auxv) == NR_AUXV_BASE
    try:
        task.sp = create_elf_tables(task, argv, envp, execfn, auxv)
    except Efault:
        raise _past_no_return("cannot write argv, envp and auxv on the stack", errno.EFAULT)
