"""One Cortex-A53 core: a Unicorn instance running EL0 code over the board's RAM.

A core knows nothing about Linux.  It executes until something exceptional
happens (an SVC, an abort raised by the MMU, an undefined instruction) and
then does what the silicon does: records the syndrome (ESR_EL1, FAR_EL1,
ELR_EL1) and jumps to the vector the kernel installed (`core.vbar`, the
analogue of VBAR_EL1).  The vector is any object with `el0_sync(core)`.

The hot paths (syscall arguments, the return value, TLB fills) call
libunicorn through ctypes directly with preallocated arguments: the Python
wrapper's per-call register-class dispatch costs more than the call itself.
"""

import bisect
import ctypes
import functools
import re
import struct

# libunicorn through ctypes alone, not the binding (issue 8: start-up; the
# binding when the library is another version: see emu/unicorn_lib.py).
from emu import unicorn_lib as A
from emu.unicorn_lib import (
    HOOK_CODE_CFUNC, HOOK_MEM_ACCESS_CFUNC, HOOK_MEM_INVALID_CFUNC,
    LIBRARY_VERSION, UC_ARCH_ARM64, UC_CTL_IO_WRITE, UC_CTL_TLB_FLUSH, UC_HOOK_CODE,
    UC_HOOK_EDGE_GENERATED, UC_HOOK_INTR, UC_HOOK_MEM_FETCH_UNMAPPED, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_HOOK_TLB_FILL,
    UC_MODE_ARM, UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, UC_TLB_VIRTUAL, UcRegCP64,
    uc_hook_h, uclib,
)
from emu.unicorn_lib import Engine as Uc

from emu.arch import (
    CNTKCTL_EL0VCTEN, CPACR_FPEN_NONE, EC_BRK64, EC_IABT_LOW, EC_PC_ALIGN, EC_SVC64, EC_UNKNOWN,
    ESR_EC_SHIFT, ESR_IL, INSN_ALIGN_MASK, INSN_BRK0, INSN_CLREX, INSN_MSR_MRS_BITS,
    INSN_MSR_MRS_MASK, INSN_SYS_BITS, INSN_SYS_MASK,
    MIDR_CORTEX_A53, MPIDR_U_BIT_RES1, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE,
    PSTATE_EL0T, PSTATE_EL1H, PSTATE_MODE_MASK, PSTATE_NZCV_MASK, SCTLR_EL1_EL0_BITS, SVC_LINUX,
    SYSREG_CNTKCTL_EL1, SYSREG_CNTVOFF_EL2, SYSREG_SCTLR_EL1, esr_sys64_from_insn,
)
from emu.mmu import UC_MEM_FETCH

# libunicorn once more, through a handle of our own whose functions have no
# argtypes: ctypes then hands the preallocated ctypes objects (c_void_p
# handle, arrays, byref) to C as they are, skipping the per-argument
# from_param conversion that the binding's prototypes cost on every call
# (a batched read of x8, x0-x5: 4.5 us -> 0.6 us on the development
# machine).  Only the register calls of the hot paths use it.
_rawlib = ctypes.CDLL(uclib._name)
_uc_reg_read = _rawlib.uc_reg_read
_uc_reg_write = _rawlib.uc_reg_write
_uc_reg_read_batch = _rawlib.uc_reg_read_batch
_uc_reg_write_batch = _rawlib.uc_reg_write_batch

# Unicorn's register ids of X0..X30, SP, PC in architectural order.
X_REGS = tuple(range(A.UC_ARM64_REG_X0, A.UC_ARM64_REG_X28 + 1)) + (
    A.UC_ARM64_REG_X29, A.UC_ARM64_REG_X30)
REG_SP = A.UC_ARM64_REG_SP
REG_PC = A.UC_ARM64_REG_PC
REG_NZCV = A.UC_ARM64_REG_NZCV
REG_TPIDR_EL0 = A.UC_ARM64_REG_TPIDR_EL0
REG_X0 = A.UC_ARM64_REG_X0
REG_X8 = A.UC_ARM64_REG_X8

# Unicorn's UC_HOOK_INTR callback is void (uc_engine *, uint32_t intno, void
# *user_data); this prototype leaves out the user data, which nothing here
# uses: C callers pass arguments the callee may ignore (the caller cleans
# up, in every ABI Unicorn runs on), and ctypes then converts two arguments
# instead of three at every system call (~0.02 us, ~150 host instructions).
_HOOK_INTR_CFUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32)

# UC_HOOK_EDGE_GENERATED's callback is void (uc_engine *, uc_tb *cur, uc_tb
# *prev, void *user_data): declared with cur as a plain address and the
# last two left out, ctypes makes no pointer objects for the two blocks
# (issue 8: a glibc dynamic hello translates ~2,100 blocks).
_HOOK_EDGE_CFUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)

# QEMU's exception numbers as Unicorn's UC_HOOK_INTR reports them.
EXCP_UDEF, EXCP_SWI, EXCP_BKPT = 1, 2, 7
_INTNO_EC = {EXCP_UDEF: EC_UNKNOWN, EXCP_SWI: EC_SVC64, EXCP_BKPT: EC_BRK64}
_ESR_SVC_LINUX = (EC_SVC64 << ESR_EC_SHIFT) | ESR_IL | SVC_LINUX

# uc_emu_start's `until`: ignored.  Every core runs with Unicorn's exit
# points enabled and none set (UC_CTL_UC_USE_EXITS), because an until
# address is one an EL0 program can jump to: Unicorn ends the run there
# without an exception (a jump to 0xffffffffffffffff spun for ever, run
# after run), and it translates that page after every run.  A run ends
# only when the core is stopped (or its count runs out).
_NO_UNTIL = 0

# The core's boot ROM: one page outside RAM holding CLREX; BRK #0, which the
# core executes at EL1 to clear its exclusive monitor (see clear_exclusive):
# the BRK ends that run.  It sits above any TTBR0 range and is answered
# only while the core runs it, at EL1, whose TLB entries and translated
# code EL0 never sees: to an EL0 program it is unmapped, like any other
# kernel address.
# Unicorn's software TLB (QEMU's cputlb.c) starts at 256 entries and is
# resized only when it is flushed: doubled if more than 70% of it was in use
# (tlb_mmu_resize_locked), at most once a flush.  A guest that never causes
# a flush keeps 256 entries however many pages it touches, and every visit
# to a page beyond them is a fill through Python.  So a core keeps the
# slots its fills have taken since the last flush (the TLB is
# direct-mapped: a page's slot is its page number modulo the size) and
# flushes itself, letting the TLB double, once TLB_GROW_USED of the slots
# are taken and either
# - the fill was a page fault: the working set is growing right now, so
#   the sooner the TLB is big enough the fewer pages are refilled later
#   (a flush drops every page held); or
# - TLB_GROW_CONFLICTS times the size fills have evicted another page from
#   its slot: what the TLB holds no longer fits in it.
# A sweep of a buffer already mapped takes every slot before its first
# eviction, random pages evict early; a working set that fits in the TLB
# evicts (almost) nothing and faults no more, so the TLB stops growing
# once it holds it.  Measured on bench_store (64 MiB, the faults untimed,
# 4 timed passes): the old schedule, a flush after 1.5 n fills whatever
# they were, grew to 16384 entries only in the first timed pass, after
# which every page was filled once more: 40.6k fills in all, 24k timed.
TLB_INITIAL_ENTRIES = 1 << 8            # CPU_TLB_DYN_DEFAULT_BITS
TLB_MAX_ENTRIES = 1 << 20               # CPU_TLB_DYN_MAX_BITS for 4 KiB pages
TLB_GROW_USED = 0.75                    # > QEMU's 70%, with room for pages it dropped
TLB_GROW_CONFLICTS = 1 / 16
TLB_QEMU_GROW_PERCENT = 70              # tlb_mmu_resize_locked's rate > 70

ROM_PA = 0x1000
ROM_VA = 0xFFFF_FFFF_FFFE_0000

# The syscall ABI: number in x8, arguments in x0..x5.
_SYSCALL_REGS = (REG_X8,) + X_REGS[:6]

# The EL0 register file a context switch saves and restores (what Linux
# keeps in pt_regs, thread.uw.tp_value and thread.uw.fpsimd_state): x0-x30,
# sp, pc, NZCV, TPIDR_EL0, FPSR, FPCR as 64-bit values, then V0-V31 (128 bits).
CONTEXT_REGS = X_REGS + (REG_SP, REG_PC, REG_NZCV, REG_TPIDR_EL0,
                         A.UC_ARM64_REG_FPSR, A.UC_ARM64_REG_FPCR)
CTX_SP, CTX_PC, CTX_NZCV, CTX_TPIDR, CTX_FPSR, CTX_FPCR = range(31, 37)
# Their values in and out of the ctypes array in one call each: a list()
# of the array, or a slice assignment to it, converts register by register
# (issue 8: ~15% of a futex round trip, two switches, went there).
_CTX_STRUCT = struct.Struct("<%dQ" % len(CONTEXT_REGS))
V_REGS = tuple(A.UC_ARM64_REG_V0 + i for i in range(32))
V_REG_BYTES = 16


def initial_context(pc, sp):
    """A register file for a program's first instruction: everything zero
    but pc and sp (what start_thread() leaves)."""
    gp = [0] * len(CONTEXT_REGS)
    gp[CTX_PC] = pc
    gp[CTX_SP] = sp
    return gp, bytes(32 * V_REG_BYTES)


# Where Unicorn 2.1.4 keeps `no_exit_request` in its struct uc_struct: four
# bytes after the anchor run (target_page_size, target_page_align,
# qemu_host_page_size, qemu_real_host_page_size, qemu_icache_linesize,
# context_content, cpu_context_size, next_pc; then hook_insert, first_tb,
# no_exit_request, init_done).  See Core._make_stops_precise.
UNICORN_PINNED = "2.1.4"
_UC_ANCHOR = struct.Struct("<IIQQiiiiQBBBB")
_UC_SCAN_BYTES = 4096


def _make_stops_precise(uc, uch):
    """Let another thread stop this core only between translated blocks.

    Unicorn 2.1.4 checks for a stop request after every guest load and
    store and, when one is pending, leaves with the pc of the instruction
    that has *already* accessed memory, which then runs twice: a store-
    exclusive that succeeded succeeds again, a load into its own base
    register loads from the wrong place.  Its ARM32 translator disables
    those checks inside IT blocks through uc->no_exit_request; setting that
    flag for good makes a timer's uc_emu_stop() take effect at the next
    block boundary, exactly, and drops a helper call from every memory
    access.  The flag is internal, so this is done only on the pinned
    version and only when the surrounding fields are where they should be;
    returns False otherwise, and the kernel then preempts by instruction
    count instead (slower, but exact)."""
    if LIBRARY_VERSION != UNICORN_PINNED:
        return False
    base = ctypes.cast(uch, ctypes.c_void_p).value
    raw = ctypes.string_at(base, _UC_SCAN_BYTES)
    ctx_size = uclib.uc_context_size(uch)
    found = []
    for off in range(0, _UC_SCAN_BYTES - _UC_ANCHOR.size, 8):
        f = _UC_ANCHOR.unpack_from(raw, off)
        if (f[0] == PAGE_SIZE and f[1] == PAGE_SIZE - 1 and f[2] == f[3] == PAGE_SIZE
                and 0 < ctx_size - f[6] <= 64 and f[9] in (0, 1) and f[10] in (0, 1)
                and f[11] == 0 and f[12] == 1):
            found.append(off)
    if len(found) != 1:
        return False
    flag = base + found[0] + _UC_ANCHOR.size - 2
    ctypes.c_bool.from_address(flag).value = True
    return True


# Unicorn counts the instructions of a counted run (uc_emu_start with count > 0)
# in uc->emu_counter, right before emu_count (the count asked for); both are
# internal.  A run of the boot ROM (CLREX; BRK) asked for _COUNT_PROBE instructions leaves
# the pair (_ROM_INSNS, _COUNT_PROBE) there, which nothing else in the struct resembles.
_COUNT_PROBE = 0x5EED_A53C_0DE1
_ROM_INSNS = 2
# The count of a run that is not meant to stop by count: it keeps Unicorn's
# counting hook installed (a run with count 0 deletes it and flushes every
# translated block, so counted and uncounted runs must never alternate).
_COUNT_FOREVER = 1 << 62


def _find_emu_counter(core):
    """The address of uc->emu_counter, or None if it cannot be found."""
    if LIBRARY_VERSION != UNICORN_PINNED:
        return None
    uch = core._uch
    if core.run_rom(_COUNT_PROBE):
        return None
    base = ctypes.cast(uch, ctypes.c_void_p).value
    raw = ctypes.string_at(base, _UC_SCAN_BYTES)
    pair = struct.Struct("<QQ")
    # The CLREX and the BRK that ends the run.
    found = [off for off in range(0, _UC_SCAN_BYTES - pair.size, 8)
             if pair.unpack_from(raw, off) == (_ROM_INSNS, _COUNT_PROBE)]
    return base + found[0] if len(found) == 1 else None


# QEMU keeps a core's general registers in its CPUARMState (env->xregs[0..31],
# then env->pc), inside the ARMCPU that uc->cpu points to; uc_reg_read and
# uc_reg_write of X0-X30 only copy to and from there.  Reading and writing
# them through a memoryview of that array costs a tenth of a ctypes call,
# which is what a system call spends most of its time on (x8, x0-x5 in;
# x0 out).  Both places are internal: found once by writing distinctive
# values with uc_reg_write and looking for them behind each pointer of the
# uc struct, then checked both ways (uc_reg_write -> view, view ->
# uc_reg_read) on every core; Core falls back to ctypes when any of it fails.
_XREGS_PROBE = 0x5EED_A53C_0000_00A5
_XREGS_WINDOW = 1 << 16     # how far behind a pointer to look (env sits ~41 KiB into ARMCPU)
_xregs_where = None         # (offset of the pointer in uc_struct, offset of xregs behind it)


def _anonymous_ranges():
    """Sorted [(start, end)] of this process's readable anonymous mappings
    and heap (/proc/self/maps): where malloc puts QEMU's CPU state."""
    ranges = []
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            if fields[1][0] == "r" and (len(fields) < 6 or fields[5] == "[heap]"):
                lo, hi = fields[0].split("-")
                ranges.append((int(lo, 16), int(hi, 16)))
    ranges.sort()
    return ranges


def _probe_xregs(core, salt):
    """Write X0-X30 with values derived from salt; returns them packed."""
    values = [(_XREGS_PROBE ^ salt) + (i << 8) for i in range(31)]
    for reg, value in zip(X_REGS, values):
        core.write_reg(reg, value & 0xFFFFFFFFFFFFFFFF)
    return struct.pack("<31Q", *values)


def _qemu_cpu(uch):
    """The CPUState of this Unicorn's one CPU (libunicorn's
    qemu_get_cpu_aarch64, see _find_tlb_flush_page), or None."""
    lib = ctypes.CDLL(uclib._name)      # own function objects: argtypes stay ours
    get_cpu = getattr(lib, "qemu_get_cpu_aarch64", None)
    if get_cpu is None:
        return None
    get_cpu.restype, get_cpu.argtypes = ctypes.c_void_p, (ctypes.c_void_p, ctypes.c_int)
    return get_cpu(ctypes.cast(uch, ctypes.c_void_p), _UNASSIGNED_CPU_INDEX)


def _find_xregs(core):
    """The address of env->xregs[0] of core's Unicorn, or None."""
    global _xregs_where
    if LIBRARY_VERSION != UNICORN_PINNED:
        return None
    base = ctypes.cast(core._uch, ctypes.c_void_p).value
    raw = ctypes.string_at(base, _UC_SCAN_BYTES)
    pattern = _probe_xregs(core, 0)
    ranges = _anonymous_ranges()
    starts = [lo for lo, hi in ranges]

    def mapped(addr, size):
        i = bisect.bisect_right(starts, addr) - 1
        return i >= 0 and addr + size <= ranges[i][1]

    if _xregs_where is not None:
        # Where the first core had it: the same library, the same layout.
        ptr_off, off = _xregs_where
        addr = struct.unpack_from("<Q", raw, ptr_off)[0] + off
        return addr if mapped(addr, len(pattern)) \
            and ctypes.string_at(addr, len(pattern)) == pattern else None
    search = re.compile(re.escape(pattern)).search
    found = set()
    seen = set()
    where = None
    # uc->cpu first: QEMU's ARMCPU holds env, so the registers are behind
    # that pointer, and found there the search stops (issue 8: scanning
    # behind every pointer of the struct was ~3% of `run hello`).  The
    # caller checks the view both ways whichever window it came from.
    cpu = _qemu_cpu(core._uch)
    offsets = sorted(range(0, _UC_SCAN_BYTES, 8),
                     key=lambda off: struct.unpack_from("<Q", raw, off)[0] != cpu)
    first = offsets[0]
    for ptr_off in offsets:
        if where is not None and cpu is not None and where[0] == first:
            break           # found behind uc->cpu: no other window to look at
        ptr = struct.unpack_from("<Q", raw, ptr_off)[0]
        i = bisect.bisect_right(starts, ptr) - 1
        if ptr & 7 or ptr in seen or i < 0 or ptr >= ranges[i][1]:
            continue
        seen.add(ptr)
        # Searched in place (re takes any buffer): nothing is copied.
        window = (ctypes.c_char * min(ranges[i][1] - ptr, _XREGS_WINDOW)).from_address(ptr)
        m = search(window)
        if m is not None and search(window, m.start() + 1) is None:
            found.add(ptr + m.start())
            # Several fields may lead there: keep the nearest (uc->cpu,
            # whose object holds the registers), the others' distance to
            # it need not be the same in another core's allocation.
            if where is None or m.start() < where[1]:
                where = (ptr_off, m.start())
    if len(found) != 1:
        return None
    _xregs_where = where
    return found.pop()


def _direct_xregs(core):
    """A memoryview ('Q') of core's X0-X30 in QEMU's env, checked both ways,
    or None (use uc_reg_read/uc_reg_write)."""
    addr = _find_xregs(core)
    view = None
    if addr is not None:
        xregs = memoryview((ctypes.c_uint64 * 31).from_address(addr)).cast("B").cast("Q")
        ok = _probe_xregs(core, 0x5A5A) == xregs.tobytes()
        for i in range(31):
            xregs[i] = ~i & 0xFFFFFFFFFFFFFFFF
            ok = ok and core.read_reg(X_REGS[i]) == ~i & 0xFFFFFFFFFFFFFFFF
        view = xregs if ok else None
    for reg in X_REGS:
        core.write_reg(reg, 0)
    return view


_UNASSIGNED_CPU_INDEX = -1

# The TLB-fill hook's prototype with plain addresses for the engine and
# the entry (the binding's HOOK_TLB_FILL_CFUNC makes a ctypes object of
# each, every fill), and struct uc_tlb_entry { uint64_t paddr; uint32_t perms; }.
_HOOK_TLB_FILL_RAW = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_uint64,
                                      ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_pack_tlb_entry = struct.Struct("<QI").pack_into
_TLB_ENTRY_SIZE = struct.calcsize("<QI")
_VA_LAST = (1 << 64) - 1


def _never_handled(uch, kind, addr, size, value, user):
    """A fetch from an unmapped physical address is not handled (see
    Core._skip_tlb_dirty_resets: the hook exists for its address range)."""
    return False


def _find_tlb_flush_page(uch):
    """QEMU's tlb_flush_page() for this Unicorn's CPU, as a function of a
    virtual address, or None.

    Unicorn 2.1's public API drops a core's whole TLB only (UC_CTL_TLB_FLUSH),
    but libunicorn exports QEMU's tlb_flush_page_aarch64(CPUState *, addr)
    and qemu_get_cpu_aarch64(uc, index), which hands out the CPUState of
    this uc_struct (its one CPU, whose cpu_index Unicorn leaves at QEMU's
    UNASSIGNED_CPU_INDEX, -1) with no struct layout to guess.
    Both are internal, so they are used only on the pinned version; the
    caller still checks that a flushed page is filled again
    (Core._probe_tlb_flush_page) before relying on it."""
    if LIBRARY_VERSION != UNICORN_PINNED:
        return None
    lib = ctypes.CDLL(uclib._name)      # own function objects: argtypes stay ours
    try:
        get_cpu, flush_page = lib.qemu_get_cpu_aarch64, lib.tlb_flush_page_aarch64
    except AttributeError:
        return None
    get_cpu.restype, get_cpu.argtypes = ctypes.c_void_p, (ctypes.c_void_p, ctypes.c_int)
    cpu = get_cpu(ctypes.cast(uch, ctypes.c_void_p), _UNASSIGNED_CPU_INDEX)
    if not cpu:
        return None
    # No argtypes (their conversion costs more than the call): the two
    # arguments are preallocated ctypes objects, the address set per call.
    flush_page.restype = None
    cpu_arg, addr = ctypes.c_void_p(cpu), ctypes.c_uint64()

    def flush(va):
        addr.value = va
        flush_page(cpu_arg, addr)
    return flush


@functools.lru_cache(maxsize=None)
def _decoder():
    """Capstone with operand details: how FAR_EL1 is recovered (see _exact_far).
    Imported here, when first needed: capstone costs ~25 ms of start-up."""
    from capstone import CS_ARCH_ARM64, CS_MODE_ARM, Cs
    cs = Cs(CS_ARCH_ARM64, CS_MODE_ARM)
    cs.detail = True
    return cs


@functools.lru_cache(maxsize=4096)
def _mem_operand(insn):
    """The memory operand of an instruction word, decoded once per word:
    (base, index register names or None, displacement, extend, shift type,
    shift amount), or None when it has none.  A loop faulting page after
    page runs the same few instructions: decoding each once keeps FAR_EL1
    cheap for the tracers and the report that read it at every fault.
    Nothing here depends on the instruction's address (a literal load's
    operand is an immediate, not a memory operand)."""
    from capstone import CS_OP_MEM
    found = None
    for ins in _decoder().disasm(insn.to_bytes(4, "little"), 0):
        for op in ins.operands:
            if op.type == CS_OP_MEM:
                mem = op.mem
                found = (ins.reg_name(mem.base) if mem.base else None,
                         ins.reg_name(mem.index) if mem.index else None,
                         mem.disp, op.ext, op.shift.type, op.shift.value)
    return found


class CoreStopped(Exception):
    """emu_start returned an error code Unicorn reports for the run."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Core:
    """A Cortex-A53 core (Unicorn instance) sharing the board's RAM."""

    def __init__(self, index, memory, mmu, precise_stops=True, direct_regs=True, online=True):
        """online=False: a secondary core whose engine (a Unicorn instance,
        ~3 ms of every start) is made by bring_up(), when it first runs a
        task; precise_stops is then its predicted precise_stop (the boot
        core's: the same library)."""
        self.index = index
        self.mmu = mmu
        self.midr_el1 = MIDR_CORTEX_A53
        self.mpidr_el1 = MPIDR_U_BIT_RES1 | index
        # Exception registers, written as an exception is taken.
        self.esr_el1 = 0
        self._far_page = 0          # what Unicorn tells us: the faulting page
        self._far_el1 = None        # the exact address, decoded only if asked
        self._elr_el1 = None        # read from the PC only if the kernel asks
        self.walk_cache = [None, None, 0]   # see Mmu.walk
        self.filling_page = None    # the page a TLB fill is resolving right now
        self.ttbr0 = 0              # TTBR0_EL1: ASID << 48 | pgd physical address
        self.vbar = None            # the kernel's exception vector
        # Where an SVC goes: el0_sync's first branch (EC_SVC64 -> el0_svc),
        # which the core takes itself, having just made the syndrome: the
        # vector's el0_svc(core), looked up at each call (a tracer may
        # replace it), or el0_sync through SvcThroughSync (Board.install_vector).
        self.svc_vector = None
        self.stop_requested = False
        self.running = False        # inside uc_emu_start
        self.tb_flush_pending = False
        self.insns = 0              # instructions executed, once count_instructions() is on
        self.nr_tlb_flushes = 0     # whole-TLB drops (not the per-page ones)
        self.fills_since_flush = 0  # TLB fills answered since the TLB was last dropped
        self.tlb_entries = TLB_INITIAL_ENTRIES  # what Unicorn's TLB has grown to, we think
        self._set_tlb_size(TLB_INITIAL_ENTRIES)
        self._emu_counter = None    # Unicorn's counter of the current run (a c_size_t)
        self.current = None         # what the kernel runs here (opaque to the core)
        self.active_mm = None       # whose translations the TLB may hold (opaque too)
        self.last_task = None       # who ran here last (opaque too)
        self._memory = memory
        self._engine_options = (precise_stops, direct_regs)
        self._counter = None        # set_counter()'s arguments, kept while offline
        self._debug_hooks = {}      # breakpoint address -> (handle, cfunc)
        self._watches = {}          # watchpoint key -> (write, read, on_hit, pieces by page)
        self._watch_pages = {}      # virtual page -> the watchpoint keys on it
        self.failure = None         # a Python exception raised inside a hook
        self.in_rom = False         # running the boot ROM (clear_exclusive)
        # TLBI VAE1 for one page (see flush_tlb_page; probed at bring-up), or
        # None: then a page's invalidation drops the whole TLB.
        self._tlb_flush_page = None
        self._rom_fills = 0         # fills of the boot ROM's page (the probe counts them)
        self.online = False         # has its engine (bring_up)
        if online:
            self.bring_up()
        else:
            self.precise_stop = precise_stops
            # Until bring_up(), a class whose __getattr__ brings the engine
            # up.  Not Core's own: a class with __getattr__ sends every
            # attribute access of its instances through a slower generic
            # path (no specialization, two type lookups each), and the hot
            # paths read core attributes dozens of times a system call
            # (issue 8: ~1,400 of a getppid's 17,300 host instructions).
            self._online_class = type(self)
            self.__class__ = OfflineCore

    def bring_up(self):
        """__cpu_up() / secondary_start_kernel() of the board: make the
        core's engine (a Unicorn instance sharing the board's RAM, entered
        at EL0, with its hooks).  A core made offline gets it the first
        time anything asks for it (see OfflineCore): the scheduler's first
        context switch onto it, outside any run."""
        if self.online:
            return
        self.online = True
        if type(self) is OfflineCore:
            self.__class__ = self._online_class
        precise_stops, direct_regs = self._engine_options
        memory = self._memory
        uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        uc.ctl_set_cpu_model(A.UC_CPU_ARM64_A53)
        uc.ctl_set_page_size(PAGE_SIZE)     # before any mapping: ARM's default is 1 KiB
        uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        uc.mem_map_ptr(memory.base, memory.size, UC_PROT_ALL, memory.host_address)
        uc.mem_map(ROM_PA, PAGE_SIZE, UC_PROT_READ | UC_PROT_EXEC)
        uc.mem_write(ROM_PA, INSN_CLREX.to_bytes(4, "little") + INSN_BRK0.to_bytes(4, "little"))
        uc.ctl_exits_enabled(True)          # and none set: see _NO_UNTIL
        self.uc = uc
        self._uch = uc._uch
        # Before any code is translated: the flag is read at translation time.
        precise = precise_stops and _make_stops_precise(uc, self._uch)
        if precise != self.__dict__.get("precise_stop", precise):
            raise RuntimeError("core %d: stops are not as precise as the boot core's" % self.index)
        self.precise_stop = precise
        self._enter_el0()

        # Preallocated ctypes arguments for the hot paths.
        self._u64 = ctypes.c_uint64()
        self._u64_ref = ctypes.byref(self._u64)
        n = len(_SYSCALL_REGS)
        self._sys_ids = (ctypes.c_int * n)(*_SYSCALL_REGS)
        self._sys_vals = (ctypes.c_uint64 * n)()
        self._sys_ptrs = (ctypes.c_void_p * n)(
            *[ctypes.addressof(self._sys_vals) + 8 * i for i in range(n)])
        # Unpacks the values as a tuple in one C call (tuple() of a ctypes
        # array converts element by element: ~1 us).
        self._sys_unpack = struct.Struct("<%dQ" % n).unpack_from
        # X0-X30 where QEMU keeps them, when that can be found (see
        # _find_xregs): a memoryview ('Q') and the same bytes ('B'), or None.
        # The kernel's system-call fast path reads and writes them itself.
        self.xregs = _direct_xregs(self) if direct_regs else None
        self.xregs_bytes = None
        if self.xregs is not None:
            self.xregs_bytes = self.xregs.cast("B")
            self.syscall_regs = self._syscall_regs_direct
            self.set_return = self._set_return_direct
        self._ctx_ids = (ctypes.c_int * len(CONTEXT_REGS))(*CONTEXT_REGS)
        self._ctx_vals = (ctypes.c_uint64 * len(CONTEXT_REGS))()
        self._ctx_ptrs = (ctypes.c_void_p * len(CONTEXT_REGS))(
            *[ctypes.addressof(self._ctx_vals) + 8 * i for i in range(len(CONTEXT_REGS))])
        self._v_ids = (ctypes.c_int * 32)(*V_REGS)
        self._v_vals = (ctypes.c_uint8 * (32 * V_REG_BYTES))()
        self._v_ptrs = (ctypes.c_void_p * 32)(
            *[ctypes.addressof(self._v_vals) + V_REG_BYTES * i for i in range(32)])
        self._flush_code = (UC_CTL_IO_WRITE << 30) | UC_CTL_TLB_FLUSH
        self._hooks = []
        self._hook(UC_HOOK_INTR, _HOOK_INTR_CFUNC(self._on_interrupt))
        self._tlb_entries = {}      # see _tlb_entry
        self._hook(UC_HOOK_TLB_FILL, _HOOK_TLB_FILL_RAW(self._on_tlb_fill))
        self._hook(UC_HOOK_EDGE_GENERATED, _HOOK_EDGE_CFUNC(self._on_new_block))
        self._skip_tlb_dirty_resets(memory)
        # TPIDR_EL1 (unused by EL0): writing it rebuilds QEMU's hflags (see
        # _enter_el0), which a change of exception level needs.
        self._cp_tpidr_el1 = UcRegCP64(crn=13, crm=0, op0=3, op1=0, op2=4, val=0)
        if precise_stops:
            self._tlb_flush_page = self._probe_tlb_flush_page(_find_tlb_flush_page(self._uch))
        if self._counter is not None:
            self.set_counter(*self._counter)

    def _skip_tlb_dirty_resets(self, memory):
        """Spare every translated block a scan of the whole TLB.

        Unicorn 2.1.4's tb_gen_code() calls tlb_reset_dirty_by_vaddr(),
        which visits every entry of every MMU mode's TLB (thousands once
        it has grown: ~1-3 ms a block with a 64 MiB working set), unless a
        memory hook covers the block's pc (uc_mem_hook_installed).  The
        reset re-arms the self-modifying-code check on a writable entry of
        the block's own virtual page that stores have made "dirty", and
        here there is none: a fill grants exactly the pte's permissions
        and Unicorn makes an entry dirty only when it is not executable
        (notdirty_write), while an executable one is the only entry that
        code can be fetched through; a pte's change drops its entry
        (flush_tlb_page).  So a FETCH_UNMAPPED hook, which never runs
        (it is called for a fill that answers a physical address outside
        RAM and the ROM, which ours never does), covers every virtual
        address but RAM's physical range: notdirty_write looks the same
        hooks up by *physical* address, and data stores to RAM must still
        make their entries dirty (or every store would take the slow
        path).  Code at a virtual address inside that range keeps the scan."""
        cfunc = HOOK_MEM_INVALID_CFUNC(_never_handled)
        if memory.base > 0:
            self._hook(UC_HOOK_MEM_FETCH_UNMAPPED, cfunc, 0, memory.base - 1)
        self._hook(UC_HOOK_MEM_FETCH_UNMAPPED, cfunc, memory.end, _VA_LAST)

    def _enter_el0(self):
        """Drop to EL0t with FP/SIMD enabled, then rebuild QEMU's cached flags.

        SCTLR_EL1 lets EL0 read CTR_EL0, zero blocks with DC ZVA and clean
        or invalidate caches by VA, and CNTKCTL_EL1 lets it read the
        virtual counter, as Linux sets them (cpu_setup: SCTLR_EL1_SET;
        arch_counter_set_user_access()): all of these then run natively.
        Writing PSTATE/CPACR does not refresh QEMU's hflags; a following
        CP-register write does (measured, see DESIGN.md).
        """
        uc = self.uc
        uc.reg_write(A.UC_ARM64_REG_CPACR_EL1, CPACR_FPEN_NONE)
        uc.cpr_write(*SYSREG_SCTLR_EL1, uc.cpr_read(*SYSREG_SCTLR_EL1) | SCTLR_EL1_EL0_BITS)
        uc.cpr_write(*SYSREG_CNTKCTL_EL1, CNTKCTL_EL0VCTEN)
        pstate = uc.reg_read(A.UC_ARM64_REG_PSTATE)
        uc.reg_write(A.UC_ARM64_REG_PSTATE, (pstate & ~PSTATE_MODE_MASK) | PSTATE_EL0T)
        uc.cpr_write(3, 0, 13, 0, 4, 0)     # TPIDR_EL1 (unused by EL0): rebuilds hflags

    def set_counter(self, el0_readable, offset):
        """The generic timer as EL0 sees it: CNTVOFF_EL2 = offset (counter
        ticks subtracted from the physical count, so the virtual count starts
        when the board boots), and whether EL0 reads CNTVCT_EL0/CNTFRQ_EL0
        itself (CNTKCTL_EL1.EL0VCTEN) or traps to the kernel, which then
        answers from its own clock (--deterministic).  An offline core keeps
        them for bring_up()."""
        if not self.online:
            self._counter = (el0_readable, offset)
            return
        uc = self.uc
        uc.cpr_write(*SYSREG_CNTVOFF_EL2, offset)
        uc.cpr_write(*SYSREG_CNTKCTL_EL1, CNTKCTL_EL0VCTEN if el0_readable else 0)
        uc.cpr_write(3, 0, 13, 0, 4, 0)     # TPIDR_EL1: rebuilds hflags (see _enter_el0)

    def _hook(self, kind, cfunc, begin=1, end=0):
        """Install a hook (on [begin, end], or everywhere); returns its handle."""
        handle = uc_hook_h()
        err = uclib.uc_hook_add(self._uch, ctypes.byref(handle), kind,
                                ctypes.cast(cfunc, ctypes.c_void_p), None,
                                ctypes.c_uint64(begin), ctypes.c_uint64(end))
        if err:
            raise RuntimeError("uc_hook_add(%d) failed: %d" % (kind, err))
        self._hooks.append(cfunc)   # keep the trampoline alive
        return handle

    # -- debug events (a debugger's breakpoints and watchpoints) ---------------------
    #
    # Exact only on a board made with precise_stops=False: Unicorn then
    # leaves a run right after the hook that asked, before the instruction
    # (a breakpoint) or after the access that triggered it (a watchpoint,
    # whose instruction the debugger then steps over, as on an A53, where
    # a watchpoint exception is taken before the access completes).

    def set_breakpoint(self, addr, on_hit):
        """Before executing the instruction at addr, call on_hit(core, addr);
        when it returns True the core stops there (pc = addr)."""
        if addr not in self._debug_hooks:
            cfunc = HOOK_CODE_CFUNC(lambda uch, a, size, user: self._debug_event(on_hit, a))
            self._debug_hooks[addr] = (self._hook(UC_HOOK_CODE, cfunc, addr, addr), cfunc)
            self.flush_code_cache()     # blocks translated before carry no hook

    def set_watchpoint(self, addr, length, write, read, on_hit):
        """Call on_hit(core, va) on a read and/or write of [addr, addr+length)
        (virtual addresses); True stops the core.  Keyed by (addr, length,
        write, read).

        Unicorn's memory hooks see physical addresses once the TLB is ours,
        so each page of the range is hooked at the frame it maps to, and
        hooked again whenever the TLB is filled for it (a fault, a
        copy-on-write break, a flush): the fill is where the frame is known."""
        key = (addr, length, write, read)
        if key in self._watches:
            return
        pieces = {}
        va = addr
        while va < addr + length:
            page = va & PAGE_MASK
            n = min(addr + length, page + PAGE_SIZE) - va
            pieces[page] = [va - page, n, None, None]      # offset, length, handle, cfunc
            self._watch_pages.setdefault(page, []).append(key)
            va += n
        self._watches[key] = (write, read, on_hit, pieces)
        self.flush_tlb()        # so the next access to each page is filled, and hooked

    def _hook_watched_page(self, page, pa):
        """A watched page now maps frame pa: move its memory hooks there."""
        for key in self._watch_pages[page]:
            write, read, on_hit, pieces = self._watches[key]
            piece = pieces[page]
            if piece[2] is not None:
                uclib.uc_hook_del(self._uch, piece[2])
                self._hooks.remove(piece[3])
            start = pa + piece[0]
            virt = page + piece[0]
            kinds = (UC_HOOK_MEM_WRITE if write else 0) | (UC_HOOK_MEM_READ if read else 0)
            cfunc = HOOK_MEM_ACCESS_CFUNC(
                lambda uch, access, a, size, value, user, start=start, virt=virt, on_hit=on_hit:
                self._debug_event(on_hit, virt + a - start))
            piece[2] = self._hook(kinds, cfunc, start, start + piece[1] - 1)
            piece[3] = cfunc

    def clear_debug_hook(self, key):
        """Remove the breakpoint (key: its address) or watchpoint (its key)."""
        entry = self._debug_hooks.pop(key, None)
        if entry is not None:
            uclib.uc_hook_del(self._uch, entry[0])
            self._hooks.remove(entry[1])
        watch = self._watches.pop(key, None)
        if watch is not None:
            for page, piece in watch[3].items():
                if piece[2] is not None:
                    uclib.uc_hook_del(self._uch, piece[2])
                    self._hooks.remove(piece[3])
                keys = self._watch_pages[page]
                keys.remove(key)
                if not keys:
                    del self._watch_pages[page]

    def _debug_event(self, on_hit, addr):
        try:
            if on_hit(self, addr):
                self.stop()
        except Exception as e:      # a debugger bug must not unwind through Unicorn
            self._fail(e)

    # -- hooks: hardware events ------------------------------------------------

    def _on_interrupt(self, uch, intno):
        """An exception Unicorn raised: SVC (PC already past it), UDEF, BRK.

        The system call comes first, in as few steps as can be: its
        syndrome is a constant, and the boot ROM (CLREX; BRK) never
        executes an SVC, so in_rom needs no test before it."""
        if intno == EXCP_SWI:
            self.esr_el1 = _ESR_SVC_LINUX
            self._elr_el1 = None
            try:
                self.svc_vector.el0_svc(self)
            except BaseException as e:      # noqa: B036 -- a hook must not unwind into C
                self._fail(e)
            return
        if self.in_rom:         # the ROM's BRK: clear_exclusive is done
            self.stop()
            return
        try:
            self._elr_el1 = None
            ec = _INTNO_EC.get(intno, EC_UNKNOWN)
            self.esr_el1 = (ec << ESR_EC_SHIFT) | ESR_IL
            if ec == EC_UNKNOWN:
                # QEMU raises UDEF for an MRS/MSR/SYS that EL0 may not execute;
                # the A53 reports those as a trapped system instruction.
                insn = self.fetch_insn(self.elr_el1)
                if insn is not None and (insn & INSN_MSR_MRS_MASK == INSN_MSR_MRS_BITS
                                         or insn & INSN_SYS_MASK == INSN_SYS_BITS):
                    self.esr_el1 = esr_sys64_from_insn(insn)
            self.vbar.el0_sync(self)
        except BaseException as e:      # noqa: B036 -- a hook must not unwind into C
            self._fail(e)

    def _on_tlb_fill(self, uch, va, access, entry, user):
        """Unicorn's TLB missed at va: ask the MMU; False aborts the access.

        entry is the address of Unicorn's uc_tlb_entry for the answer (the
        hook's prototype passes it as a plain address: a ctypes pointer
        and the structure behind it cost two objects a fill).
        A core that has been told to stop takes no further exceptions: it
        is on its way out of run(), whatever it was still fetching."""
        page = va & PAGE_MASK
        if self.in_rom:
            if page != ROM_VA:
                return False
            self._rom_fills += 1
            _pack_tlb_entry(self._tlb_entry(entry), 0, ROM_PA, UC_PROT_READ | UC_PROT_EXEC)
            return True
        if self.stop_requested:
            return False
        if access == UC_MEM_FETCH:
            # The PC alignment check comes before the fetch's translation
            # (and its aborts): a misaligned pc whose page is not in the TLB.
            pc = self.read_reg(REG_PC)
            if pc & INSN_ALIGN_MASK:
                try:
                    self._pc_alignment_fault(pc)
                except BaseException as e:      # noqa: B036
                    self._fail(e)
                return False
        self.fills_since_flush += 1
        self.filling_page = page
        task = self.current         # None on a core driven without a kernel
        faults = task.min_flt if task is not None else 0
        try:
            answer = self.mmu.tlb_fill(self, va, access)
        except BaseException as e:      # noqa: B036
            self._fail(e)
            return False
        finally:
            self.filling_page = None
        if answer is None:
            return False
        # The slot this page takes (see TLB_GROW_USED).  A flush inside a
        # fill is safe: QEMU writes the answer into its TLB after the fill.
        vpn = page >> PAGE_SHIFT
        slots = self._tlb_slots
        slot = vpn & self._tlb_slot_mask
        taken = slots.get(slot)
        if taken != vpn:
            slots[slot] = vpn
            if taken is not None:
                self._tlb_evictions += 1
            if len(slots) >= self.tlb_grow_at and (
                    task is not None and task.min_flt != faults
                    or self._tlb_evictions >= self._tlb_evictions_grow):
                self._grow_tlb()
        if self._watch_pages and page in self._watch_pages:
            self._hook_watched_page(page, answer[0])
        view = self._tlb_entries.get(entry)
        if view is None:
            view = self._tlb_entry(entry)
        _pack_tlb_entry(view, 0, answer[0], answer[1])
        return True

    def _tlb_entry(self, addr):
        """A writable view of the uc_tlb_entry at addr, kept by address:
        Unicorn hands the fill hook an entry on its own stack, at one of
        a few addresses (one per path into the fill)."""
        view = memoryview((ctypes.c_char * _TLB_ENTRY_SIZE).from_address(addr)).cast("B")
        self._tlb_entries[addr] = view
        return view

    def _on_new_block(self, uch, cur):
        """Unicorn translated a new block of code and is about to run it.

        QEMU 5.0 (Unicorn 2.1.4) has no PC alignment check: it decodes the
        bytes at a misaligned pc.  Only an indirect branch (BR, BLR, RET)
        or the kernel can make the pc misaligned, and every block starting
        there is new to the translator (the cache is dropped after such a
        fault), so the check is made here, where a block is made, before
        any of its instructions runs: the core stops, and the block's
        entry sees the stop request."""
        pc = ctypes.c_uint64.from_address(cur).value    # cur->pc (uc_tb's first field)
        if pc & INSN_ALIGN_MASK and not self.in_rom and not self.stop_requested:
            try:
                self._pc_alignment_fault(pc)
            except BaseException as e:      # noqa: B036
                self._fail(e)

    def _pc_alignment_fault(self, pc):
        """The PC alignment fault (EC 0x22) of an A64 fetch at a misaligned
        pc: FAR_EL1 = ELR_EL1 = the pc.  The core leaves its run (the
        block translated at pc must never run, and is dropped with the
        rest of the translated code when the run ends)."""
        self.esr_el1 = (EC_PC_ALIGN << ESR_EC_SHIFT) | ESR_IL
        self._far_page = pc & PAGE_MASK
        self._far_el1 = pc
        self._elr_el1 = pc
        self.tb_flush_pending = True
        try:
            self.vbar.el0_sync(self)
        finally:
            if not self.stop_requested:
                self.stop()

    def _set_tlb_size(self, entries):
        """What the core thinks Unicorn's TLB holds, and when it grows it
        (see TLB_INITIAL_ENTRIES); the slots start empty."""
        self.tlb_entries = entries
        self._tlb_slot_mask = entries - 1
        self.tlb_grow_at = int(TLB_GROW_USED * entries)     # slots taken that grow it
        self._tlb_evictions_grow = int(TLB_GROW_CONFLICTS * entries)
        self._tlb_slots = {}        # slot -> page number filled there since the flush
        self._tlb_evictions = 0

    def _grow_tlb(self):
        """Flush the TLB so that Unicorn resizes it (see TLB_INITIAL_ENTRIES).
        Safe inside a fill: QEMU looks its TLB entry up again after the fill."""
        self._set_tlb_size(min(self.tlb_entries * 2, TLB_MAX_ENTRIES))
        self.walk_cache[0] = None
        self.fills_since_flush = 0
        uclib.uc_ctl(self._uch, self._flush_code)

    def _fail(self, exc):
        if self.failure is None:
            self.failure = exc
        self.stop()

    def fetch_insn(self, va):
        """The instruction word at va if it is mapped executable, else None."""
        pa = self.mmu.translate(self.ttbr0, va)
        return None if pa is None else self.mmu.memory.read_u32(pa)

    def take_abort(self, esr, far_page):
        """Take a synchronous abort to EL1: set ESR/FAR/ELR, enter the vector.

        Unicorn reports only the page of a faulting access.  FAR_EL1 holds
        the exact address, which costs an instruction decode, so it is worked
        out only when the kernel reads it (for siginfo, for a report); the
        fault path itself needs only the page (`far_page`)."""
        self.esr_el1 = esr
        self._far_page = far_page
        self._far_el1 = None
        self._elr_el1 = None
        self.vbar.el0_sync(self)

    @property
    def far_page(self):
        """The page of the faulting address (FAR_EL1 & ~0xfff)."""
        return self._far_page

    @property
    def far_el1(self):
        """FAR_EL1: the faulting virtual address."""
        if self._far_el1 is None:
            self._far_el1 = self._exact_far()
        return self._far_el1

    def _exact_far(self):
        """Recompute the faulting address as the A53 reports it: the pc for
        an instruction abort, the access's effective address for a data
        abort (the page itself when the access began in the page before)."""
        page = self._far_page
        pc = self.elr_el1
        if (self.esr_el1 >> ESR_EC_SHIFT) == EC_IABT_LOW:
            return pc if pc & PAGE_MASK == page else page
        insn = self.fetch_insn(pc)
        if insn is None:
            return page
        operand = _mem_operand(insn)
        if operand is None:
            return page
        ea = self._effective_address(*operand)
        return ea if ea & PAGE_MASK == page else page

    def _cs_reg(self, name):
        if name in ("sp", "wsp"):
            return self.sp
        if name in ("xzr", "wzr"):
            return 0
        value = self.x({"fp": 29, "lr": 30}.get(name) or int(name[1:]))
        return value & 0xFFFFFFFF if name[0] == "w" else value

    def _effective_address(self, base, index, disp, ext, shift_type, shift):
        """base + displacement + (extended, shifted) index of a memory operand
        (as _mem_operand() decoded it); post-indexed forms access the base
        itself."""
        ea = self._cs_reg(base) if base else 0
        ea += disp
        if index:
            idx = self._cs_reg(index)
            if ext in (1, 2, 3):                 # UXTB/UXTH/UXTW
                idx &= (1 << (8 << (ext - 1))) - 1
            elif ext in (5, 6, 7):               # SXTB/SXTH/SXTW
                bits = 8 << (ext - 5)
                idx &= (1 << bits) - 1
                if idx >> (bits - 1):
                    idx -= 1 << bits
            if shift_type and shift:
                idx <<= shift
            ea += idx
        return ea & 0xFFFFFFFFFFFFFFFF

    @property
    def elr_el1(self):
        """ELR_EL1: where the exception was taken (the PC Unicorn restored)."""
        if self._elr_el1 is None:
            self._elr_el1 = self.pc
        return self._elr_el1

    # -- running ------------------------------------------------------------------

    def run(self, pc, count=0):
        """Execute from pc until stop(), an error, or (count > 0) after count
        instructions.  Raises CoreStopped on an error Unicorn reports,
        re-raises an exception from a hook.  A misaligned pc (set by the
        kernel: an entry point, a handler, a sigreturn frame) faults at
        once, before anything runs."""
        self.stop_requested = False
        if pc & INSN_ALIGN_MASK:
            self.pc = pc
            self._pc_alignment_fault(pc)
            self.tb_flush_pending = False       # nothing was translated
            return
        self.running = True
        counter = self._emu_counter
        if counter is not None and not count:
            count = _COUNT_FOREVER
        try:
            err = uclib.uc_emu_start(self._uch, pc, _NO_UNTIL, 0, count)
        finally:
            self.running = False
            if counter is not None:
                # When the count ends the run, Unicorn's hook has counted one
                # instruction more and stopped the core before it — unless
                # stops wait for the end of the block (precise_stop), when
                # that instruction and the rest of its block do run, counted.
                n = counter.value
                self.insns += n if n <= count or self.precise_stop else count
            if self.tb_flush_pending:
                self.tb_flush_pending = False
                self.uc.ctl_flush_tb()
        if self.failure is not None:
            exc, self.failure = self.failure, None
            raise exc
        if err and not self.stop_requested:
            raise CoreStopped(err, uclib.uc_strerror(err).decode())

    def clear_exclusive(self):
        """CLREX: forget the exclusive monitor's reservation.  An exception
        return does this on the A53, so a task switched onto this core can
        never complete a store-exclusive with another task's reservation
        (QEMU keeps the monitor in the CPU state, which a context switch of
        the registers does not touch)."""
        pc = self.pc
        stopped = self.stop_requested
        # Counted like every other run, or Unicorn would drop its counting
        # hook and with it every translated block (the CLREX is not added).
        self.run_rom(1 if self._emu_counter is not None else 0)
        self.stop_requested = stopped
        self.pc = pc

    def run_rom(self, count):
        """Run the boot ROM at EL1 (CLREX, then the BRK that ends the run),
        then return to EL0 (PSTATE's mode field and QEMU's hflags; the
        registers are the EL0 program's, untouched by the ROM)."""
        u64, ref, uch = self._u64, self._u64_ref, self._uch
        u64.value = 0
        uclib.uc_reg_read(uch, A.UC_ARM64_REG_PSTATE, ref)
        pstate = u64.value
        cp = ctypes.byref(self._cp_tpidr_el1)
        u64.value = (pstate & ~PSTATE_MODE_MASK) | PSTATE_EL1H
        uclib.uc_reg_write(uch, A.UC_ARM64_REG_PSTATE, ref)
        uclib.uc_reg_write(uch, A.UC_ARM64_REG_CP_REG, cp)
        self.in_rom = True
        try:
            return uclib.uc_emu_start(uch, ROM_VA, _NO_UNTIL, 0, count)
        finally:
            self.in_rom = False
            u64.value = pstate
            uclib.uc_reg_write(uch, A.UC_ARM64_REG_PSTATE, ref)
            uclib.uc_reg_write(uch, A.UC_ARM64_REG_CP_REG, cp)

    def count_instructions(self):
        """From now on count every instruction the core executes in `insns`
        (an instruction that faults counts again when it is restarted, as it
        is executed twice).  Unicorn's counter is a hook before every
        instruction: compute-bound code runs about half as fast.  Returns
        False when this Unicorn's counter cannot be found."""
        if self._emu_counter is None:
            pc = self.pc
            addr = _find_emu_counter(self)
            self.pc = pc
            if addr is None:
                return False
            self._emu_counter = ctypes.c_size_t.from_address(addr)
        return True

    @property
    def insns_so_far(self):
        """insns, plus what the run in progress has counted so far (for a
        hook that looks while the core is inside run())."""
        counter = self._emu_counter
        if self.running and counter is not None:
            return self.insns + counter.value
        return self.insns

    def preempt(self):
        """The timer's interrupt: leave run() at the next block boundary.
        Unlike stop(), TLB fills keep being answered until then: a fill
        refused in the middle of an instruction would restart it, and the
        kernel is not ending this run for a reason of its own."""
        uclib.uc_emu_stop(self._uch)

    def stop(self):
        """Ask the core to leave run() at the next instruction boundary."""
        self.stop_requested = True
        uclib.uc_emu_stop(self._uch)

    def flush_tlb(self):
        """TLBI VMALLE1: drop every cached translation (and walk) of this core
        (an offline core has none)."""
        self.walk_cache[0] = None
        self.nr_tlb_flushes += 1
        self.fills_since_flush = 0
        if self.online:
            self._tlb_flushed()
            uclib.uc_ctl(self._uch, self._flush_code)

    def _tlb_flushed(self):
        """A flush the kernel asked for: QEMU resizes its TLB then too
        (doubled above 70% in use, as a flush of _grow_tlb), so the core's
        idea of the size follows; the slots are empty either way."""
        entries = self.tlb_entries
        if len(self._tlb_slots) * 100 // entries > TLB_QEMU_GROW_PERCENT:
            entries = min(entries * 2, TLB_MAX_ENTRIES)
        self._set_tlb_size(entries)

    def flush_code_cache(self):
        """IC IALLU: forget all code translated so far (Unicorn's TB cache).

        Inside a run (the kernel handling a fault or a system call from a
        hook) the cache cannot go at once: QEMU would be returning into
        translated code it has just thrown away.  The run is ended instead
        (a fill being answered is refused, so its instruction starts again)
        and the cache goes as soon as uc_emu_start has returned.  An offline
        core has translated nothing."""
        if not self.online:
            return
        if self.running:
            self.tb_flush_pending = True
            self.stop()
        else:
            self.uc.ctl_flush_tb()

    def flush_tlb_page(self, va):
        """TLBI VAE1 for one page: QEMU's tlb_flush_page() where it was found
        (see _find_tlb_flush_page), else the whole TLB — unless nothing has
        been filled since it was last dropped.  The page a fill is resolving
        needs nothing: the fill's answer replaces its entry, and the walk
        cache may stay, since it holds the address of the level-3 table
        (not the pte), which a fault handler only fills, never frees (tables
        go in munmap's free_pgd_range, whose flush_tlb_range empties the
        cache, and at exit and exec): the fill's retry after do_wp_page's
        copy reads the new pte through it instead of walking from the pgd.
        Otherwise table walks are cached per 2 MiB, so the walk cache goes."""
        va &= PAGE_MASK
        if va == self.filling_page:
            return
        self.walk_cache[0] = None
        if not self.online:
            self.nr_tlb_flushes += 1        # counted; there is no TLB yet
            return
        if self._tlb_flush_page is not None:
            self._tlb_flush_page(va)
            vpn = va >> PAGE_SHIFT
            slot = vpn & self._tlb_slot_mask
            if self._tlb_slots.get(slot) == vpn:
                del self._tlb_slots[slot]
        elif self.fills_since_flush:
            self.nr_tlb_flushes += 1
            self.fills_since_flush = 0
            self._tlb_flushed()
            uclib.uc_ctl(self._uch, self._flush_code)

    def _probe_tlb_flush_page(self, flush_page):
        """flush_page if it really drops a page of this core's TLB, else None.

        Runs the boot ROM's CLREX three times: the first run fills the ROM
        page, the second finds it cached (no fill), and after flush_page
        (ROM_VA) the third must fill it again."""
        if flush_page is None:
            return None
        pc = self.pc

        def fills_of_a_run():
            before = self._rom_fills
            self.run_rom(0)
            return self._rom_fills - before
        fills_of_a_run()
        cached = fills_of_a_run() == 0
        flush_page(ROM_VA)
        refilled = fills_of_a_run() > 0
        self.pc = pc
        # Start from an empty TLB, as a core that never ran: without this
        # drop, the flushes of _grow_tlb were measured not to grow it.  And
        # with no translated code: the ROM's block, translated by these
        # uncounted runs, would not count instructions later (the probe for
        # uc->emu_counter runs it counted and found a count of 0).
        uclib.uc_ctl(self._uch, self._flush_code)
        self.uc.ctl_flush_tb()
        return flush_page if cached and refilled else None

    # -- registers ----------------------------------------------------------------

    def read_reg(self, reg):
        # Unicorn writes only 4 bytes of a 32-bit register (FPSR, FPCR, NZCV):
        # the rest of the buffer must not keep the previous value.
        self._u64.value = 0
        _uc_reg_read(self._uch, reg, self._u64_ref)
        return self._u64.value

    def write_reg(self, reg, value):
        self._u64.value = value
        _uc_reg_write(self._uch, reg, self._u64_ref)
        if reg == REG_PC and self.running:
            self._pc_written()

    def _pc_written(self):
        """A hook moved the pc (sigreturn, an emulated MRS, exec): end this
        run, so the next starts cleanly there.  Unicorn 2.1.4 remembers a
        pc write until uc_emu_start (skip_sync_pc_on_exit), and a timer's
        stop later in the same run would then leave the pc of the last TLB
        fill in place of the real one."""
        self.stop()

    def x(self, n):
        return self.read_reg(X_REGS[n])

    def set_x(self, n, value):
        self.write_reg(X_REGS[n], value & 0xFFFFFFFFFFFFFFFF)

    @property
    def pc(self):
        return self.read_reg(REG_PC)

    @pc.setter
    def pc(self, value):
        self.write_reg(REG_PC, value)

    @property
    def sp(self):
        return self.read_reg(REG_SP)

    @sp.setter
    def sp(self, value):
        self.write_reg(REG_SP, value)

    @property
    def tpidr_el0(self):
        return self.read_reg(REG_TPIDR_EL0)

    @tpidr_el0.setter
    def tpidr_el0(self, value):
        self.write_reg(REG_TPIDR_EL0, value)

    def syscall_regs(self):
        """(x8, x0, x1, x2, x3, x4, x5) in one batched read."""
        _uc_reg_read_batch(self._uch, self._sys_ids, self._sys_ptrs, 7)
        return self._sys_unpack(self._sys_vals)

    def set_return(self, value):
        """x0 = value (two's complement for negative errno)."""
        self._u64.value = value & 0xFFFFFFFFFFFFFFFF
        _uc_reg_write(self._uch, REG_X0, self._u64_ref)

    # The same two through QEMU's register array (_direct_xregs), installed
    # over the two above by __init__ when it was found.
    _ARGS = struct.Struct("<6Q").unpack_from

    def _syscall_regs_direct(self):
        return (self.xregs[8],) + self._ARGS(self.xregs_bytes)

    def _set_return_direct(self, value):
        self.xregs[0] = value & 0xFFFFFFFFFFFFFFFF

    def user_regs(self):
        """The EL0 register file: x0-x30, sp, pc, pstate (NZCV; EL0t), V0-V31,
        FPSR, FPCR — what a signal frame saves."""
        return {"x": [self.read_reg(r) for r in X_REGS], "sp": self.sp, "pc": self.pc,
                "pstate": self.read_reg(REG_NZCV) & PSTATE_NZCV_MASK,
                "v": [self.uc.reg_read(A.UC_ARM64_REG_V0 + i) for i in range(32)],
                "fpsr": self.read_reg(A.UC_ARM64_REG_FPSR),
                "fpcr": self.read_reg(A.UC_ARM64_REG_FPCR)}

    def save_context(self):
        """The whole EL0 register file as (gp, v): gp a list of the 64-bit
        registers in CONTEXT_REGS order, v the 512 bytes of V0-V31."""
        ctypes.memset(self._ctx_vals, 0, ctypes.sizeof(self._ctx_vals))    # see read_reg
        _uc_reg_read_batch(self._uch, self._ctx_ids, self._ctx_ptrs, len(CONTEXT_REGS))
        _uc_reg_read_batch(self._uch, self._v_ids, self._v_ptrs, 32)
        return list(_CTX_STRUCT.unpack_from(self._ctx_vals)), bytes(self._v_vals)

    def load_context(self, context):
        """Load a register file saved by save_context() (on any core)."""
        gp, v = context
        try:
            _CTX_STRUCT.pack_into(self._ctx_vals, 0, *gp)
        except struct.error:    # a value out of range: wrapped, as ctypes does
            self._ctx_vals[:] = gp
        ctypes.memmove(self._v_vals, v, len(v))
        _uc_reg_write_batch(self._uch, self._ctx_ids, self._ctx_ptrs, len(CONTEXT_REGS))
        _uc_reg_write_batch(self._uch, self._v_ids, self._v_ptrs, 32)
        if self.running:
            self._pc_written()

    def set_user_regs(self, x, sp, pc, pstate, v=None, fpsr=None, fpcr=None):
        """Load the EL0 register file (rt_sigreturn); v/fpsr/fpcr optional."""
        for reg, value in zip(X_REGS, x):
            self.write_reg(reg, value)
        self.sp = sp
        self.pc = pc
        self.write_reg(REG_NZCV, pstate & PSTATE_NZCV_MASK)
        if v is not None:
            for i, value in enumerate(v):
                self.uc.reg_write(A.UC_ARM64_REG_V0 + i, value)
            self.write_reg(A.UC_ARM64_REG_FPSR, fpsr)
            self.write_reg(A.UC_ARM64_REG_FPCR, fpcr)


class SvcThroughSync:
    """The svc_vector of a vector with no el0_svc of its own: an SVC goes
    through its el0_sync like any other exception."""

    def __init__(self, vector):
        self.vector = vector

    def el0_svc(self, core):
        self.vector.el0_sync(core)


class OfflineCore(Core):
    """A Core made with online=False, until bring_up() turns it back into
    its own class: its engine attributes (uc, its registers, its ctypes
    buffers) exist once it is brought up, so asking for one brings it up.
    Anything else missing is an AttributeError as usual."""

    def __getattr__(self, name):
        if name.startswith("__") or self.__dict__.get("online", True):
            raise AttributeError("%r object has no attribute %r" % (
                self.__dict__.get("_online_class", Core).__name__, name))
        self.bring_up()
        return getattr(self, name)
