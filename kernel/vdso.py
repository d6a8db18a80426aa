"""arch/arm64/kernel/vdso.c: the page every process gets for returning from
signal handlers.

Linux's arm64 vDSO is a small ELF with __kernel_clock_gettime & co. and
__kernel_rt_sigreturn; a handler installed without SA_RESTORER (glibc's
way) returns into the latter.  Ours holds only the trampoline, so no
AT_SYSINFO_EHDR is announced and libc keeps making real system calls.
"""

import struct

from emu.arch import PAGE_SIZE
from kernel.fs.file import File
from kernel.mm.filemap import AddressSpace
from kernel.mm.mm import VM_EXEC, VM_MAYEXEC, VM_MAYREAD, VM_READ
from kernel.mm.mmap import get_unmapped_area, insert_vm_struct, is_err, vm_stat_account
from kernel.mm.mm import vm_get_page_prot
from kernel.mm.mm_types import VmAreaStruct
from kernel.syscalls.unistd import SYSCALL_NUMBERS

# __kernel_rt_sigreturn:  movz x8, #__NR_rt_sigreturn ; svc #0
MOVZ_X8 = 0xD2800008
SVC_0 = 0xD4000001
SIGTRAMP_OFFSET = 0
VDSO_NAME = "[vdso]"


def vdso_page_bytes():
    code = struct.pack("<II", MOVZ_X8 | (SYSCALL_NUMBERS["rt_sigreturn"] << 5), SVC_0)
    return code.ljust(PAGE_SIZE, b"\0")


def arch_setup_additional_pages(kernel, mm):
    """Map the vDSO page top-down like any mmap; sets mm.vdso_base.
    Returns 0 or a negative errno."""
    addr = get_unmapped_area(mm, None, 0, PAGE_SIZE, 0, 0)
    if is_err(addr):
        return addr
    file = File(kernel, None, VDSO_NAME, 0, body=b"")
    file.mapping = AddressSpace(kernel, None, VDSO_NAME, size=PAGE_SIZE)
    file.mapping.users = 1
    frame = kernel.pages.alloc_page()
    kernel.memory.write(frame, vdso_page_bytes())
    file.mapping.pages[0] = frame
    flags = VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYEXEC
    vma = VmAreaStruct(mm, addr, addr + PAGE_SIZE, flags, vm_get_page_prot(flags), 0, file)
    err = insert_vm_struct(mm, vma)
    if err:
        file.put()
        return err
    vm_stat_account(mm, flags, 1)
    mm.vdso_base = addr
    return 0


def sigtramp(mm):
    """Where a handler without SA_RESTORER returns to."""
    return mm.vdso_base + SIGTRAMP_OFFSET
