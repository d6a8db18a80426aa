"""arch/arm64/kernel/entry.S: el0_sync — where every exception from EL0 lands.

The core has already set ESR_EL1/FAR_EL1/ELR_EL1; the exception class picks
the handler, exactly as el0_sync's branch on ESR_ELx_EC does: SVC to the
system-call table, aborts to do_mem_abort(), anything else to bad_el0_sync.
"""

from emu.arch import (
    CNTFRQ_HZ, EC_BRK64, EC_DABT_LOW, EC_IABT_LOW, EC_PC_ALIGN, EC_SP_ALIGN, EC_SVC64, EC_SYS64,
    ESR_EC_SHIFT,
    ID_REG_CRM_MAX, ID_REG_CRM_MIN, ID_REGS_USER, MPIDR_SAFE_VAL, NSEC_PER_CNT,
    CRM_IC_IVAU, SYS_CRN_CACHE, SYS_OP0_SYS, SYS_OP1_EL0, SYS_OP2_BY_VA, SYSREG_CNTFRQ_EL0,
    SYSREG_CNTVCT_EL0, TBI_ADDR_MASK, USER_CACHE_MAINT_CRM, esr_describe, sys64_decode,
)
from kernel.mm.fault import VM_FAULT_OOM, do_anonymous_fault_fast, do_page_fault, fault_signal
from kernel.signal import force_sig_fault
from kernel.mm.mmap import find_vma
from kernel.uaccess import Efault
from kernel.uapi import (
    BUS_ADRALN, ILL_ILLOPC, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGILL, SIGSEGV, SIGTRAP, TRAP_BRKPT,
)


# MIDR_EL1, MPIDR_EL1, REVIDR_EL1: the op2 values of CRm=0 emulate_id_reg() knows.
_MIDR_OP2, _MPIDR_OP2, _REVIDR_OP2 = 0, 5, 6


def emulate_sys_reg(core, op0, op1, crn, crm, op2):
    """emulate_sys_reg(): the value EL0 reads from an ID register (op0=3,
    op1=0, CRn=0, CRm 0 or 4-7), or None (SIGILL) for any other register
    and for CRm=0 registers other than MIDR/MPIDR/REVIDR."""
    if not (op0 == 3 and op1 == 0 and crn == 0
            and (crm == 0 or ID_REG_CRM_MIN <= crm <= ID_REG_CRM_MAX)):
        return None
    if crm == 0:
        return {_MIDR_OP2: core.midr_el1, _MPIDR_OP2: MPIDR_SAFE_VAL, _REVIDR_OP2: 0}.get(op2)
    # Untracked registers are IMPLEMENTATION DEFINED or reserved: RAZ.
    return ID_REGS_USER.get((crm, op2), 0)


class Vectors:
    """The kernel's VBAR_EL1: installed on every core by start_kernel().

    A core enters el0_svc directly for an SVC (Core.svc_vector: el0_sync's
    first branch, taken by the core, which has just made the syndrome);
    el0_sync still sends one there when it is called with EC_SVC64."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.el0_svc = kernel.syscalls.el0_svc
        # The MMU's fast path for anonymous faults (Mmu.anon_fault: see
        # do_anonymous_fault_fast), off while anything watches faults: the
        # fault or pte tracer, a wrapper of el0_sync / do_mem_abort
        # (--stats, call graphs).
        for cls in ("fault", "pte"):
            kernel.trace.watch(cls, self._fault_watchers_changed)
        self._fault_watchers_changed()

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if name in ("el0_sync", "do_mem_abort"):
            self._fault_watchers_changed()

    def _fault_watchers_changed(self):
        trace = self.kernel.trace
        watched = (trace.fault or trace.pte
                   or "el0_sync" in self.__dict__ or "do_mem_abort" in self.__dict__)
        self.kernel.board.mmu.anon_fault = None if watched else do_anonymous_fault_fast

    def el0_sync(self, core):
        ec = core.esr_el1 >> ESR_EC_SHIFT
        if ec == EC_SVC64:
            self.el0_svc(core)
        elif ec == EC_DABT_LOW or ec == EC_IABT_LOW:
            self.do_mem_abort(core)
        elif ec == EC_SYS64:
            self.do_sysinstr(core)
        elif ec == EC_PC_ALIGN or ec == EC_SP_ALIGN:
            self.do_sp_pc_abort(core)
        else:
            self.bad_el0_sync(core, ec)

    def do_mem_abort(self, core):
        """do_mem_abort() → do_page_fault(); a failure becomes a signal."""
        kernel = self.kernel
        task = core.current
        # untagged_addr(): the VMAs know nothing of pointer tags.
        page, esr = core.far_page & TBI_ADDR_MASK, core.esr_el1
        fault, vma = do_page_fault(task.mm, page, esr)
        stats = kernel.stats
        if stats is not None:
            stats.count_fault(esr, vma, fault)
        trace = kernel.trace
        if trace.fault:
            trace.emit("fault", addr=core.far_el1, pc=core.elr_el1, esr=esr, vma=vma,
                       result=kernel.describe_fault_result(task.mm, page, fault))
        if not fault:
            task.min_flt += 1
            return
        if fault == VM_FAULT_OOM:
            kernel.oom_kill(task.mm)
            return
        sig, code = fault_signal(fault)
        force_sig_fault(task, sig, code, core.far_el1, esr_describe(esr), esr)

    def do_sp_pc_abort(self, core):
        """el0_sp_pc → do_sp_pc_abort(): a misaligned pc (or sp) is SIGBUS
        BUS_ADRALN at FAR_EL1 (the pc itself for a PC alignment fault)."""
        force_sig_fault(core.current, SIGBUS, BUS_ADRALN, core.far_el1,
                        "SP/PC alignment exception", core.esr_el1)

    def do_sysinstr(self, core):
        """do_sysinstr(): a trapped MRS/MSR/SYS instruction.  The kernel's
        sys64_hooks emulate reading the ID registers (emulate_mrs) and,
        when EL0 may not read the counter itself (--deterministic here, a
        timer erratum on hardware), CNTVCT_EL0 and CNTFRQ_EL0
        (cntvct_read_handler, cntfrq_read_handler).  Anything else is
        SIGILL.  The emulated instruction is stepped over."""
        op0, op1, crn, crm, op2, rt, is_read = sys64_decode(core.esr_el1)
        if (not is_read and op0 == SYS_OP0_SYS and op1 == SYS_OP1_EL0 and crn == SYS_CRN_CACHE
                and crm in USER_CACHE_MAINT_CRM and op2 == SYS_OP2_BY_VA):
            self.user_cache_maint(core, crm, rt)
            return
        value = None
        if is_read:
            reg = (op0, op1, crn, crm, op2)
            if reg == SYSREG_CNTVCT_EL0:
                value = self.kernel.sched.clock_ns() // NSEC_PER_CNT
            elif reg == SYSREG_CNTFRQ_EL0:
                value = CNTFRQ_HZ
            else:
                value = emulate_sys_reg(core, op0, op1, crn, crm, op2)
        if value is None:
            self.bad_el0_sync(core, EC_SYS64)
            return
        if rt != 31:
            core.set_x(rt, value)
        core.pc = core.elr_el1 + 4

    def user_cache_maint(self, core, crm, rt):
        """user_cache_maint_handler(): DC CVAU/CVAC/CIVAC or IC IVAU by VA,
        done by the kernel on the user's address (a fault there is SIGSEGV,
        arm64_notify_segfault).  The data caches are the host's and need
        nothing; IC IVAU drops every core's translated code (it is broadcast
        to the inner-shareable domain), since Unicorn keeps code it
        translated when the page is rewritten through another mapping."""
        task = core.current
        addr = (core.x(rt) if rt != 31 else 0) & TBI_ADDR_MASK     # untagged_addr()
        try:
            task.uaccess.copy_from_user(addr, 1)
        except Efault:
            vma = find_vma(task.mm, addr)
            code = SEGV_ACCERR if vma is not None and vma.vm_start <= addr else SEGV_MAPERR
            force_sig_fault(task, SIGSEGV, code, addr, "cache maintenance at an unmapped address")
            return
        if crm == CRM_IC_IVAU:
            for c in self.kernel.board.cores:
                c.flush_code_cache()
        core.pc = core.elr_el1 + 4

    def bad_el0_sync(self, core, ec):
        """bad_el0_sync() / do_undefinstr(): no handler for this class."""
        task = core.current
        if ec == EC_BRK64:      # a debugger's breakpoint: SIGTRAP
            force_sig_fault(task, SIGTRAP, TRAP_BRKPT, core.elr_el1, "brk instruction")
        else:
            force_sig_fault(task, SIGILL, ILL_ILLOPC, core.elr_el1, "undefined instruction %s"
                            % self.kernel.disassemble(task, core.elr_el1))
