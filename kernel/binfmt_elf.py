"""fs/binfmt_elf.c + fs/exec.c: load_elf_binary() — an ELF file becomes an
address space: one file-backed VMA per PT_LOAD (nothing is read until a
fault asks for it), the bss, the heap's start, and a stack holding argv,
envp and the auxiliary vector, laid out as create_elf_tables() does.

As with `setarch -R` (randomize_va_space = 0) nothing is randomised, so
every run of a program sees the same addresses.
"""

import errno
import os
import struct

from elftools.common.exceptions import ELFError
from elftools.elf.descriptions import describe_e_machine
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_E_MACHINE

from emu.arch import HWCAP2_CORTEX_A53, HWCAP_CORTEX_A53, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE
from kernel.fs.file import File
from kernel.vdso import arch_setup_additional_pages
from kernel.mm.mm import VM_STACK_FLAGS, vm_get_page_prot
from kernel.mm.mm_types import VmAreaStruct
from kernel.mm.mmap import (
    PAGE_ALIGN, do_brk_flags, do_mmap, do_munmap, insert_vm_struct, is_err,
    vm_stat_account,
)
from kernel.uapi import (
    AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID,
    AT_HWCAP, AT_HWCAP2, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM,
    AT_PLATFORM, AT_RANDOM, AT_SECURE, AT_SYSINFO_EHDR, AT_UID, EM_AARCH64, ET_DYN, ET_EXEC,
    MAP_FIXED, MAP_PRIVATE, O_RDONLY, PF_R, PF_W, PF_X, PROT_EXEC, PROT_READ, PROT_WRITE,
    RLIMIT_STACK,
)

ELF_PLATFORM = b"aarch64"
CLOCKS_PER_SEC = 100
STACK_EXPAND = 128 << 10        # setup_arg_pages(): room to grow before the first fault


class ExecError(Exception):
    """The program cannot be run: a one-line reason, the shell's status and
    the errno execve() returns (ENOEXEC unless said otherwise)."""

    def __init__(self, status, reason, err=errno.ENOEXEC):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.errno = err


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


def _open_elf(path):
    """(host fd, ELFFile, size) after the checks a shell's exec would make."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise open_exec_error(e)
    try:
        st = os.fstat(fd)
        if not os.path.isfile(path):
            raise ExecError(126, "not a regular file", errno.EACCES)
        if not os.access(path, os.X_OK):
            raise ExecError(126, "Permission denied", errno.EACCES)
        head = os.pread(fd, 64, 0)
        if head[:4] != b"\x7fELF":
            raise ExecError(126, "exec format error: not an ELF file")
        if len(head) < 64:
            raise ExecError(126, "exec format error: truncated ELF header")
        if head[4] != 2:
            raise ExecError(126, "exec format error: 32-bit ELF (a53emu runs 64-bit AArch64 programs)")
        if head[5] != 1:
            raise ExecError(126, "exec format error: big-endian ELF (the board is little-endian)")
        machine = struct.unpack_from("<H", head, 18)[0]
        if machine != EM_AARCH64:
            raise ExecError(126, "exec format error: an ELF for %s (e_machine %d), not AArch64"
                            % (_machine_name(machine), machine))
        stream = os.fdopen(os.dup(fd), "rb")
        try:
            elf = ELFFile(stream)
            if elf["e_type"] not in ("ET_EXEC", "ET_DYN"):
                raise ExecError(126, "exec format error: ELF type %s is not executable"
                                % elf["e_type"])
            phdrs = [seg.header for seg in elf.iter_segments()]
        except (ELFError, struct.error, ValueError):
            raise ExecError(126, "exec format error: truncated or corrupt ELF "
                            "(its program headers are not all in the file)")
        finally:
            stream.close()
        for ph in phdrs:
            if ph.p_type == "PT_LOAD" and ph.p_offset + ph.p_filesz > st.st_size:
                raise ExecError(126, "exec format error: truncated ELF (a segment ends at %d, "
                                "the file at %d)" % (ph.p_offset + ph.p_filesz, st.st_size))
        interp = None
        for ph in phdrs:
            if ph.p_type == "PT_INTERP":
                interp = os.pread(fd, ph.p_filesz, ph.p_offset).rstrip(b"\0")
        etype = ET_EXEC if elf["e_type"] == "ET_EXEC" else ET_DYN
        header = {"type": etype, "entry": elf["e_entry"], "phoff": elf["e_phoff"],
                  "phnum": elf["e_phnum"], "phentsize": elf["e_phentsize"]}
        return fd, header, phdrs, interp
    except BaseException:
        os.close(fd)
        raise


def _machine_name(machine):
    """pyelftools' name for an e_machine number ("Advanced Micro Devices X86-64")."""
    names = {v: k for k, v in ENUM_E_MACHINE.items() if isinstance(v, int)}
    return describe_e_machine(names[machine]) if machine in names else "machine %d" % machine


def _prot(flags):
    return ((PROT_READ if flags & PF_R else 0) | (PROT_WRITE if flags & PF_W else 0)
            | (PROT_EXEC if flags & PF_X else 0))


def _map_image(kernel, task, file, header, phdrs, bias_hint):
    """elf_map() each PT_LOAD; returns (load_bias, extents) or raises ExecError.

    ET_DYN images with bias_hint None go where get_unmapped_area puts the
    whole image (reserved with one mapping of total_mapping_size first).
    """
    mm = task.mm
    loads = [ph for ph in phdrs if ph.p_type == "PT_LOAD"]
    if not loads:
        raise ExecError(126, "exec format error: no loadable segment")
    first_vaddr = loads[0].p_vaddr & PAGE_MASK
    load_bias = 0
    if header["type"] == ET_DYN:
        if bias_hint is None:
            total = PAGE_ALIGN(loads[-1].p_vaddr + loads[-1].p_memsz) - first_vaddr
            addr = do_mmap(mm, file, 0, total, PROT_READ, MAP_PRIVATE,
                           (loads[0].p_offset & PAGE_MASK) >> PAGE_SHIFT)
            if is_err(addr):
                raise ExecError(126, "cannot map the ELF image (%d)" % addr)
            do_munmap(mm, addr, total)
            load_bias = addr - first_vaddr
        else:
            load_bias = (bias_hint - first_vaddr) & PAGE_MASK
    ext = {"start_code": 1 << 64, "end_code": 0, "start_data": 0, "end_data": 0,
           "elf_bss": 0, "elf_brk": 0, "load_addr": None}
    for ph in loads:
        vaddr = ph.p_vaddr + load_bias
        if ph.p_offset % PAGE_SIZE != ph.p_vaddr % PAGE_SIZE:
            raise ExecError(126, "exec format error: misaligned segment")
        start = vaddr & PAGE_MASK
        size = PAGE_ALIGN(ph.p_filesz + (vaddr - start))
        if size:
            addr = do_mmap(mm, file, start, size, _prot(ph.p_flags), MAP_PRIVATE | MAP_FIXED,
                           (ph.p_offset - (vaddr - start)) >> PAGE_SHIFT)
            if is_err(addr):
                raise ExecError(126, "cannot map segment at %#x (%d)" % (start, addr))
        if ext["load_addr"] is None:
            ext["load_addr"] = ph.p_vaddr - ph.p_offset + load_bias
        ext["start_code"] = min(ext["start_code"], vaddr)
        ext["start_data"] = max(ext["start_data"], vaddr)
        k = vaddr + ph.p_filesz
        ext["elf_bss"] = max(ext["elf_bss"], k)
        if ph.p_flags & PF_X:
            ext["end_code"] = max(ext["end_code"], k)
        ext["end_data"] = max(ext["end_data"], k)
        ext["elf_brk"] = max(ext["elf_brk"], vaddr + ph.p_memsz)
        if ph.p_memsz > ph.p_filesz:
            _set_bss(task, vaddr + ph.p_filesz, vaddr + ph.p_memsz, ph.p_flags)
    return load_bias, ext


def _set_bss(task, bss, brk, flags):
    """padzero() + set_brk(): zero the file page's tail, map the rest anonymous."""
    if bss & ~PAGE_MASK and flags & PF_W:
        task.uaccess.clear_user(bss, PAGE_SIZE - (bss & ~PAGE_MASK))
    start = PAGE_ALIGN(bss)
    end = PAGE_ALIGN(brk)
    if end > start:
        err = do_brk_flags(task.mm, start, end - start)
        if err:
            raise ExecError(126, "cannot map bss (%d)" % err)


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


def _setup_stack(kernel, task, argv, envp, execfn, auxv_base):
    """setup_arg_pages() + create_elf_tables(): the initial stack; returns sp."""
    mm = task.mm
    top = mm.task_size
    strings_area = sum(len(s) + 1 for s in argv + envp) + len(execfn) + 1 + 8
    nitems = 1 + len(argv) + 1 + len(envp) + 1 + 2 * (len(auxv_base) + 4)
    need = PAGE_ALIGN(strings_area + len(ELF_PLATFORM) + 1 + 16 + 16 + nitems * 8 + 16)
    if need > task.rlim[RLIMIT_STACK][0] // 4:      # exec refuses argv+envp over a quarter of RLIMIT_STACK
        raise ExecError(126, "Argument list too long", errno.E2BIG)
    vma = VmAreaStruct(mm, top - need - STACK_EXPAND, top, VM_STACK_FLAGS,
                       vm_get_page_prot(VM_STACK_FLAGS))
    insert_vm_struct(mm, vma)
    vm_stat_account(mm, vma.vm_flags, (vma.vm_end - vma.vm_start) >> PAGE_SHIFT)
    mm.start_stack = top - 8    # provisional, replaced by sp below
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
    um.copy_to_user(p, os.urandom(16))
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


def load_elf_binary(kernel, task, path, argv, envp, execfn=None, cred=None, secureexec=False):
    """Build task's address space from the ELF at host `path`; sets task.entry
    and task.sp.  execfn is the name execve() was given (AT_EXECFN; default
    path).  Raises ExecError with the status a shell would give."""
    fd, header, phdrs, interp = _open_elf(path)
    file = File(kernel, fd, os.fsdecode(os.path.abspath(path)), O_RDONLY)
    mm = task.mm
    try:
        interp_info = None
        if interp is not None:
            ipath = kernel.resolve_sysroot(interp)
            try:
                ifd, iheader, iphdrs, _ = _open_elf(ipath)
            except ExecError as e:
                raise ExecError(126 if e.status != 127 else 127,
                                "cannot load interpreter %s: %s" % (interp.decode(), e.reason),
                                e.errno)
            interp_info = (File(kernel, ifd, interp.decode(), O_RDONLY), iheader, iphdrs)
        hint = elf_dyn_base(mm.task_size) if interp is not None else None
        load_bias, ext = _map_image(kernel, task, file, header, phdrs, hint)
        mm.start_code, mm.end_code = ext["start_code"], ext["end_code"]
        mm.start_data, mm.end_data = ext["start_data"], ext["end_data"]
        mm.start_brk = mm.brk = PAGE_ALIGN(ext["elf_brk"])
        mm.exe_file = file.path
        mm.load_bias = load_bias
        entry = header["entry"] + load_bias
        interp_base = 0
        if interp_info is not None:
            ifile, iheader, iphdrs = interp_info
            ibias, _ = _map_image(kernel, task, ifile, iheader, iphdrs, None)
            interp_base = ibias
            task.entry = iheader["entry"] + ibias
            ifile.put()
        else:
            task.entry = entry
        err = arch_setup_additional_pages(kernel, mm)
        if err:
            raise ExecError(126, "cannot map the vDSO (%d)" % err)
        cred = cred or task.cred        # the credentials the new program will run with
        # ARCH_DLINFO first: where the vDSO is (AT_SYSINFO_EHDR).
        auxv = [(AT_SYSINFO_EHDR, mm.vdso_base), (AT_HWCAP, HWCAP_CORTEX_A53), (AT_PAGESZ, PAGE_SIZE),
                (AT_CLKTCK, CLOCKS_PER_SEC),
                (AT_PHDR, ext["load_addr"] + header["phoff"]), (AT_PHENT, header["phentsize"]),
                (AT_PHNUM, header["phnum"]), (AT_BASE, interp_base), (AT_FLAGS, 0),
                (AT_ENTRY, entry), (AT_UID, cred.uid), (AT_EUID, cred.euid), (AT_GID, cred.gid),
                (AT_EGID, cred.egid), (AT_SECURE, int(secureexec)), (AT_RANDOM, None)]
        task.sp = _setup_stack(kernel, task, argv, envp, execfn or os.fsencode(path), auxv)
    finally:
        file.put()
