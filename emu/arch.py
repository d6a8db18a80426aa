"""AArch64 architectural definitions: the one place their numbers live.

Everything here is a fact of the ARMv8-A architecture (ARM DDI 0487) or of the
Cortex-A53 (ARM DDI 0500), not a choice of ours.  The kernel imports these
numbers; it never spells them itself.
"""

# ---------------------------------------------------------------------------
# Translation granule: 4 KiB pages, 512 eight-byte descriptors per table.
# ---------------------------------------------------------------------------
PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PAGE_MASK = ~(PAGE_SIZE - 1)
PTRS_PER_TABLE = 512            # 4096 / 8
TABLE_INDEX_BITS = 9

# ---------------------------------------------------------------------------
# Stage-1 VMSAv8-64 descriptors (4 KiB granule).
#
#   63  59 58 55 54  53  52  51  48 47                12 11 10  9 8  7 6  5  4 2  1  0
#  +------+-----+---+---+---+------+--------------------+--+--+----+----+--+----+--+--+
#  |ignored|SW |UXN|PXN|Cont| res0 | output address     |nG|AF| SH | AP |NS|Attr|T |V |
#  +------+-----+---+---+---+------+--------------------+--+--+----+----+--+----+--+--+
#
#  V (bit 0)   valid; an invalid descriptor makes a translation fault.
#  T (bit 1)   at levels 0-2: 1 = table (points to the next level), 0 = block;
#              at level 3: must be 1 (page); 0 is reserved and faults.
#  AttrIndx    index into MAIR_EL1 (memory type).
#  AP[2:1]     AP[1] (bit 6): EL0 may access; AP[2] (bit 7): read-only.
#  SH          shareability; AF (bit 10): access flag, 0 makes an access-flag fault.
#  nG          not global: the TLB entry is tagged with the ASID.
#  PXN/UXN     execute-never at EL1 / at EL0.
#  bits 58:55  ignored by hardware, free for software (Linux keeps PTE_DIRTY,
#              PTE_SPECIAL there).
# Table descriptors carry only the next table's address in bits 47:12.
# ---------------------------------------------------------------------------
DESC_VALID = 1 << 0
DESC_TABLE = 1 << 1             # also "page" at level 3
DESC_TYPE_MASK = 3
DESC_TYPE_TABLE = 3             # levels 0-2
DESC_TYPE_BLOCK = 1             # levels 1-2
DESC_TYPE_PAGE = 3              # level 3
PTE_ATTRINDX_SHIFT = 2
PTE_ATTRINDX_MASK = 7 << PTE_ATTRINDX_SHIFT
PTE_USER = 1 << 6               # AP[1]
PTE_RDONLY = 1 << 7             # AP[2]
PTE_SHARED = 3 << 8             # SH = inner shareable
PTE_AF = 1 << 10
PTE_NG = 1 << 11
PTE_CONT = 1 << 52
PTE_PXN = 1 << 53
PTE_UXN = 1 << 54
PTE_SW_SHIFT = 55               # bits 58:55 belong to the operating system
DESC_ADDR_MASK = ((1 << 48) - 1) & PAGE_MASK   # bits 47:12

# MAIR_EL1 as Linux programs it (arch/arm64/include/asm/memory.h, 4.14):
# index 0 Device-nGnRnE, 1 Device-nGnRE, 2 Device-GRE, 3 Normal-NC, 4 Normal.
MT_DEVICE_nGnRnE = 0
MT_NORMAL_NC = 3
MT_NORMAL = 4
MAIR_EL1_LINUX = 0x000000FF440C0400
MAIR_ATTR_NAMES = {0: "Device-nGnRnE", 1: "Device-nGnRE", 2: "Device-GRE",
                   3: "Normal-NC", 4: "Normal"}

# ---------------------------------------------------------------------------
# Virtual address layout.  TTBR0_EL1 translates the bottom of the address
# space (user); TCR_EL1.T0SZ = 64 - VA_BITS.  48-bit VAs need 4 levels of
# tables (L0..L3), 39-bit VAs need 3 (L1..L3): Linux's CONFIG_ARM64_VA_BITS.
# ---------------------------------------------------------------------------
VA_BITS_CHOICES = (39, 48)


def level_shift(level):
    """Bits of VA below the index of a table at `level` (L3 -> 12, L0 -> 39)."""
    return PAGE_SHIFT + TABLE_INDEX_BITS * (3 - level)


def start_level(va_bits):
    """First lookup level for a 4 KiB granule and `va_bits` of input address."""
    return 4 - (va_bits - PAGE_SHIFT + TABLE_INDEX_BITS - 1) // TABLE_INDEX_BITS


# TCR_EL1.TBI0, which Linux sets: the top byte of a user address is a tag
# the MMU ignores, so tagged pointers reach the same page.
TBI_ADDR_MASK = (1 << 56) - 1

# TTBR0_EL1: ASID in bits 63:48, table base address in bits 47:1.
TTBR_ASID_SHIFT = 48
TTBR_BADDR_MASK = ((1 << 48) - 1) & ~1

# ---------------------------------------------------------------------------
# ESR_EL1, the exception syndrome:  EC[31:26] | IL[25] | ISS[24:0].
# ---------------------------------------------------------------------------
ESR_EC_SHIFT = 26
ESR_IL = 1 << 25
ESR_ISS_MASK = (1 << 25) - 1
EC_UNKNOWN = 0x00               # undefined instruction
EC_SVC64 = 0x15                 # SVC from AArch64
EC_SYS64 = 0x18                 # trapped MSR/MRS/system instruction
EC_IABT_LOW = 0x20              # instruction abort from a lower EL
EC_IABT_CUR = 0x21
EC_PC_ALIGN = 0x22
EC_DABT_LOW = 0x24              # data abort from a lower EL
EC_DABT_CUR = 0x25
EC_SP_ALIGN = 0x26
EC_BRK64 = 0x3C
EC_NAMES = {EC_UNKNOWN: "UNKNOWN", EC_SVC64: "SVC64", EC_SYS64: "SYS64", EC_IABT_LOW: "IABT_LOW",
            EC_IABT_CUR: "IABT_CUR", EC_PC_ALIGN: "PC_ALIGN",
            EC_DABT_LOW: "DABT_LOW", EC_DABT_CUR: "DABT_CUR",
            EC_SP_ALIGN: "SP_ALIGN", EC_BRK64: "BRK64"}

# Data/instruction abort ISS: WnR[6] (write, not read), xFSC[5:0] fault status.
ESR_WNR = 1 << 6
ESR_FSC_MASK = 0x3F
# Fault status codes: the low two bits are the lookup level that faulted.
FSC_TRANSLATION = 0x04          # 0b0001LL
FSC_ACCESS_FLAG = 0x08          # 0b0010LL
FSC_PERMISSION = 0x0C           # 0b0011LL
FSC_TYPE_MASK = 0x3C
FSC_LEVEL_MASK = 0x03
FSC_TYPE_NAMES = {FSC_TRANSLATION: "translation fault",
                  FSC_ACCESS_FLAG: "access flag fault",
                  FSC_PERMISSION: "permission fault"}


def esr_abort(ec, fsc_type, level, write):
    """Build the ESR_EL1 value of an instruction/data abort."""
    return (ec << ESR_EC_SHIFT) | ESR_IL | (ESR_WNR if write else 0) | fsc_type | level


def esr_describe(esr):
    """One-line human decoding of an abort syndrome, e.g. for traces."""
    ec = esr >> ESR_EC_SHIFT
    name = EC_NAMES.get(ec, "EC_%#x" % ec)
    if ec in (EC_DABT_LOW, EC_DABT_CUR, EC_IABT_LOW, EC_IABT_CUR):
        fsc = esr & ESR_FSC_MASK
        kind = FSC_TYPE_NAMES.get(fsc & FSC_TYPE_MASK, "fsc %#x" % fsc)
        rw = ("write" if esr & ESR_WNR else "read") if ec in (EC_DABT_LOW, EC_DABT_CUR) else "exec"
        return "%s %s, %s at level %d" % (name, rw, kind, fsc & FSC_LEVEL_MASK)
    return name


# MSR/MRS (register) encoding and the ISS of its trap (EC_SYS64):
#   insn: 1101 0101 00 | L | 1 | o0 | op1[18:16] | CRn[15:12] | CRm[11:8] | op2[7:5] | Rt[4:0]
#   ISS:  Op0[21:20] Op2[19:17] Op1[16:14] CRn[13:10] Rt[9:5] CRm[4:1] Direction[0] (1 = MRS)
INSN_CLREX = 0xD503305F         # CLREX #15: clear the local exclusive monitor
INSN_BRK0 = 0xD4200000          # BRK #0: a breakpoint instruction
INSN_ALIGN_MASK = 3             # A64 instructions are 4 bytes: pc[1:0] must be 0
INSN_MSR_MRS_MASK = 0xFFD00000
INSN_MSR_MRS_BITS = 0xD5100000
# SYS/SYSL (op0 = 0b01: cache and TLB maintenance, AT): trapped like MSR/MRS.
INSN_SYS_MASK = 0xFFD80000
INSN_SYS_BITS = 0xD5080000


def esr_sys64_from_insn(insn):
    """The ESR_EL1 of a trapped MSR/MRS or SYS instruction word."""
    op0 = (insn >> 19) & 3
    op1 = (insn >> 16) & 7
    crn = (insn >> 12) & 0xF
    crm = (insn >> 8) & 0xF
    op2 = (insn >> 5) & 7
    rt = insn & 0x1F
    read = (insn >> 21) & 1
    iss = (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | read
    return (EC_SYS64 << ESR_EC_SHIFT) | ESR_IL | iss


def sys64_decode(esr):
    """(op0, op1, crn, crm, op2, rt, is_read) from an EC_SYS64 syndrome."""
    return ((esr >> 20) & 3, (esr >> 14) & 7, (esr >> 10) & 0xF, (esr >> 1) & 0xF,
            (esr >> 17) & 7, (esr >> 5) & 0x1F, bool(esr & 1))


# ---------------------------------------------------------------------------
# The Cortex-A53 as the kernel sees it.
# MIDR_EL1: implementer 0x41 (Arm) | variant 0 | arch 0xF | part 0xD03 | r0p4.
# ---------------------------------------------------------------------------
MIDR_CORTEX_A53 = 0x410FD034
MIDR_IMPLEMENTER_ARM = 0x41
MIDR_PART_CORTEX_A53 = 0xD03
MPIDR_U_BIT_RES1 = 1 << 31      # MPIDR_EL1 bit 31 is RES1; Aff0 is the core number

# The ID registers as Linux shows them to EL0 (Documentation/arm64/
# cpu-feature-registers.txt): only the user-visible fields of an A53.
ID_AA64ISAR0_CORTEX_A53 = 0x00011120        # AES=2 (+PMULL), SHA1=1, SHA2=1, CRC32=1
ID_AA64PFR0_CORTEX_A53 = 0x00000011         # EL0/EL1 AArch64, FP and AdvSIMD present (0)

# AT_HWCAP bits (arch/arm64/include/uapi/asm/hwcap.h) of an A53 with the
# crypto extension: what /proc/cpuinfo's "Features" line lists.
HWCAP_BITS = (("fp", 1 << 0), ("asimd", 1 << 1), ("evtstrm", 1 << 2),
              ("aes", 1 << 3), ("pmull", 1 << 4), ("sha1", 1 << 5),
              ("sha2", 1 << 6), ("crc32", 1 << 7), ("cpuid", 1 << 11))
HWCAP_CORTEX_A53 = sum(bit for _, bit in HWCAP_BITS)
HWCAP2_CORTEX_A53 = 0

# CPACR_EL1.FPEN = 0b11: FP/SIMD does not trap at EL0 or EL1.
CPACR_FPEN_NONE = 3 << 20

# PSTATE mode field M[3:0]: 0b0000 = EL0t; the condition flags are N Z C V [31:28].
PSTATE_MODE_MASK = 0xF
PSTATE_EL0T = 0x0
PSTATE_EL1H = 0x5               # EL1 with SP_EL1
PSTATE_NZCV_MASK = 0xF << 28

# The SVC instruction number that asks Linux for a system call.
SVC_LINUX = 0

# ---------------------------------------------------------------------------
# What EL0 may do without trapping, as Linux 4.14 configures it
# (arch/arm64/include/asm/sysreg.h SCTLR_EL1_SET; drivers/clocksource/
# arm_arch_timer.c arch_counter_set_user_access()).
# ---------------------------------------------------------------------------
SCTLR_EL1_UCI = 1 << 26         # EL0 may DC CVAU/CIVAC/CVAC and IC IVAU
SCTLR_EL1_UCT = 1 << 15         # EL0 may read CTR_EL0
SCTLR_EL1_DZE = 1 << 14         # EL0 may DC ZVA (DCZID_EL0.DZP reads 0)
# UCI stays clear: cache maintenance by VA traps to the kernel, which
# emulates it as Linux does for CPUs with a cache erratum
# (ARM64_WORKAROUND_CLEAN_CACHE, user_cache_maint_handler) — and drops
# translated code on IC IVAU, which Unicorn misses when the code was written
# through another mapping of the same page.
SCTLR_EL1_EL0_BITS = SCTLR_EL1_UCT | SCTLR_EL1_DZE
CNTKCTL_EL0PCTEN = 1 << 0       # EL0 may read CNTPCT_EL0 (Linux: never)
CNTKCTL_EL0VCTEN = 1 << 1       # EL0 may read CNTVCT_EL0 (and CNTFRQ_EL0)

# System registers as (op0, op1, CRn, CRm, op2), the order of MRS/MSR.
SYSREG_SCTLR_EL1 = (3, 0, 1, 0, 0)
SYSREG_CNTKCTL_EL1 = (3, 0, 14, 1, 0)
SYSREG_CNTVOFF_EL2 = (3, 4, 14, 0, 3)
SYSREG_CNTFRQ_EL0 = (3, 3, 14, 0, 0)
SYSREG_CNTVCT_EL0 = (3, 3, 14, 0, 2)
# Cache maintenance EL0 may do (SYS #3, C7, Cm, #1, Xt): (CRm, name).
SYS_OP0_SYS, SYS_OP1_EL0, SYS_CRN_CACHE, SYS_OP2_BY_VA = 1, 3, 7, 1
CRM_IC_IVAU, CRM_DC_CVAC, CRM_DC_CVAU, CRM_DC_CIVAC = 5, 10, 11, 14
USER_CACHE_MAINT_CRM = (CRM_IC_IVAU, CRM_DC_CVAC, CRM_DC_CVAU, CRM_DC_CIVAC)

# The generic timer's counter: Unicorn (QEMU) counts the host's
# CLOCK_MONOTONIC in steps of 16 ns (GTIMER_SCALE), i.e. at 62.5 MHz, and
# CNTFRQ_EL0 says so.  CNTVCT_EL0 = CNTPCT_EL0 - CNTVOFF_EL2.
CNTFRQ_HZ = 62_500_000
NSEC_PER_CNT = 1_000_000_000 // CNTFRQ_HZ

# The ID registers emulate_mrs() answers (arch/arm64/kernel/cpufeature.c,
# 4.14): op0=3 op1=0 CRn=0 and CRm 0 or 4-7.  With CRm=0 only MIDR_EL1,
# MPIDR_EL1 (SYS_MPIDR_SAFE_VAL: just the RES1 bit, no affinity) and
# REVIDR_EL1 (IMPLEMENTATION DEFINED: 0); anything else there is SIGILL.
# CRm 4-7: the sanitised value, arm64_ftr_reg_user_value(): visible fields
# as the CPU has them, hidden fields at their safe value, untracked
# registers 0.  For an A53 with the crypto extension:
ID_AA64DFR0_USER = 0x6                      # hidden DebugVer at its safe value 6 (v8)
ID_AA64MMFR0_USER = 0xFF000000              # hidden TGran4/TGran64 safe value 0xf (NI)
MPIDR_SAFE_VAL = 1 << 31
ID_REG_CRM_MIN, ID_REG_CRM_MAX = 4, 7
# (CRm, op2) -> value for the tracked registers of CRm 4-7.
ID_REGS_USER = {(4, 0): ID_AA64PFR0_CORTEX_A53, (5, 0): ID_AA64DFR0_USER,
                (6, 0): ID_AA64ISAR0_CORTEX_A53, (7, 0): ID_AA64MMFR0_USER}
