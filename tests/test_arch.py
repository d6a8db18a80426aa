"""Tests for emu.arch: granule geometry, ESR_EL1 syndromes, MSR/MRS trap encoding.

Expected values are spelled out from the ARM ARM (DDI 0487) bit layouts, and
where possible as the literal ESR values Linux prints in its fault messages
(e.g. "ESR 0x92000047" for a user write to an unmapped page).
"""

import capstone
import pytest
from hypothesis import given, strategies as st

from emu.arch import (
    DESC_ADDR_MASK, EC_BRK64, EC_DABT_CUR, EC_DABT_LOW, EC_IABT_CUR, EC_IABT_LOW,
    EC_SVC64, EC_SYS64, ESR_EC_SHIFT, ESR_FSC_MASK, ESR_IL, ESR_ISS_MASK, ESR_WNR,
    FSC_ACCESS_FLAG, FSC_LEVEL_MASK, FSC_PERMISSION, FSC_TRANSLATION, FSC_TYPE_MASK,
    INSN_MSR_MRS_BITS, INSN_MSR_MRS_MASK, MAIR_EL1_LINUX, PAGE_SIZE, PTE_AF, PTE_NG, PTE_PXN,
    PTE_RDONLY, PTE_USER, PTE_UXN, TTBR_BADDR_MASK, esr_abort, esr_describe,
    esr_sys64_from_insn, level_shift, start_level, sys64_decode,
)

ABORT_ECS = (EC_DABT_LOW, EC_DABT_CUR, EC_IABT_LOW, EC_IABT_CUR)
FSC_TYPES = (FSC_TRANSLATION, FSC_ACCESS_FLAG, FSC_PERMISSION)


# ---------------------------------------------------------------------------
# Geometry and descriptor bits.
# ---------------------------------------------------------------------------

def test_level_shifts_and_start_levels():
    assert [level_shift(lvl) for lvl in range(4)] == [39, 30, 21, 12]
    assert start_level(48) == 0 and start_level(39) == 1
    # The other T0SZ values a 4 KiB granule allows (ARM ARM table D5-11).
    assert start_level(42) == 0 and start_level(30) == 2 and start_level(21) == 3


def test_descriptor_bits_are_the_architectural_ones():
    assert (PTE_USER, PTE_RDONLY, PTE_AF, PTE_NG) == (1 << 6, 1 << 7, 1 << 10, 1 << 11)
    assert (PTE_PXN, PTE_UXN) == (1 << 53, 1 << 54)
    assert DESC_ADDR_MASK == 0x0000_FFFF_FFFF_F000
    assert TTBR_BADDR_MASK == 0x0000_FFFF_FFFF_FFFE
    # MAIR as Linux 4.14 programs it: Device-nGnRnE, nGnRE, GRE, Normal-NC, Normal-WB.
    attrs = [(MAIR_EL1_LINUX >> (8 * i)) & 0xFF for i in range(8)]
    assert attrs[:5] == [0x00, 0x04, 0x0C, 0x44, 0xFF]


# ---------------------------------------------------------------------------
# Abort syndromes.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, esr", [
    ((EC_DABT_LOW, FSC_TRANSLATION, 3, False), 0x92000007),   # user read, no pte
    ((EC_DABT_LOW, FSC_TRANSLATION, 3, True), 0x92000047),    # user write, no pte
    ((EC_DABT_LOW, FSC_PERMISSION, 3, True), 0x9200004F),     # write to read-only pte (COW)
    ((EC_DABT_LOW, FSC_ACCESS_FLAG, 3, False), 0x9200000B),
    ((EC_DABT_LOW, FSC_TRANSLATION, 0, False), 0x92000004),   # empty pgd
    ((EC_IABT_LOW, FSC_TRANSLATION, 3, False), 0x82000007),   # user fetch, no pte
    ((EC_IABT_LOW, FSC_PERMISSION, 2, False), 0x8200000E),    # fetch from XN block
    ((EC_DABT_CUR, FSC_TRANSLATION, 1, True), 0x96000045),
    ((EC_IABT_CUR, FSC_ACCESS_FLAG, 3, False), 0x8600000B),
])
def test_esr_abort_literal_values(args, esr):
    assert esr_abort(*args) == esr


@given(st.sampled_from(ABORT_ECS), st.sampled_from(FSC_TYPES), st.integers(0, 3), st.booleans())
def test_esr_abort_fields(ec, fsc_type, level, write):
    esr = esr_abort(ec, fsc_type, level, write)
    assert esr >> ESR_EC_SHIFT == ec
    assert esr & ESR_IL                                  # 32-bit instruction
    assert bool(esr & ESR_WNR) == write
    assert esr & FSC_TYPE_MASK == fsc_type
    assert esr & FSC_LEVEL_MASK == level
    # Nothing else in the ISS: no ISV, SAS, SRT, CM, S1PTW, EA.
    assert esr & ESR_ISS_MASK & ~(ESR_WNR | ESR_FSC_MASK) == 0


@pytest.mark.parametrize("esr, text", [
    (0x92000047, "DABT_LOW write, translation fault at level 3"),
    (0x92000007, "DABT_LOW read, translation fault at level 3"),
    (0x9200004F, "DABT_LOW write, permission fault at level 3"),
    (0x9200000A, "DABT_LOW read, access flag fault at level 2"),
    (0x82000004, "IABT_LOW exec, translation fault at level 0"),
    (0x8200000F, "IABT_LOW exec, permission fault at level 3"),
    (0x96000045, "DABT_CUR write, translation fault at level 1"),
    (0x86000007, "IABT_CUR exec, translation fault at level 3"),
    # An FSC that is none of the three: external abort on a table walk, level 1.
    (0x92000015, "DABT_LOW read, fsc 0x15 at level 1"),
    ((EC_SVC64 << ESR_EC_SHIFT) | ESR_IL, "SVC64"),
    ((EC_BRK64 << ESR_EC_SHIFT) | ESR_IL, "BRK64"),
    (0x62300001, "SYS64"),
    (0x3F << ESR_EC_SHIFT, "EC_0x3f"),
    (0, "UNKNOWN"),
])
def test_esr_describe(esr, text):
    assert esr_describe(esr) == text


@given(st.sampled_from(ABORT_ECS), st.sampled_from(FSC_TYPES), st.integers(0, 3), st.booleans())
def test_esr_describe_round_trip(ec, fsc_type, level, write):
    text = esr_describe(esr_abort(ec, fsc_type, level, write))
    assert text.endswith("at level %d" % level)
    assert {FSC_TRANSLATION: "translation fault", FSC_ACCESS_FLAG: "access flag fault",
            FSC_PERMISSION: "permission fault"}[fsc_type] in text
    if ec in (EC_IABT_LOW, EC_IABT_CUR):
        assert " exec," in text         # WnR means nothing for a fetch
    else:
        assert (" write," if write else " read,") in text


# ---------------------------------------------------------------------------
# MSR/MRS traps (EC 0x18).
# ---------------------------------------------------------------------------

def _msr_mrs(op0, op1, crn, crm, op2, rt, read):
    return (INSN_MSR_MRS_BITS | (int(read) << 21) | ((op0 & 1) << 19) | (op1 << 16)
            | (crn << 12) | (crm << 8) | (op2 << 5) | rt)


@pytest.mark.parametrize("insn, text, esr", [
    (0xD5380000, "mrs x0, midr_el1", 0x62300001),
    (0xD5380601, "mrs x1, id_aa64isar0_el1", 0x6230002D),
    (0xD51B4200, "msr nzcv, x0", 0x6230D004),
])
def test_esr_sys64_literal_values(insn, text, esr):
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    (dis,) = md.disasm(insn.to_bytes(4, "little"), 0)
    assert "%s %s" % (dis.mnemonic, dis.op_str) == text
    assert insn & INSN_MSR_MRS_MASK == INSN_MSR_MRS_BITS
    assert esr_sys64_from_insn(insn) == esr


@given(st.integers(2, 3), st.integers(0, 7), st.integers(0, 15), st.integers(0, 15),
       st.integers(0, 7), st.integers(0, 31), st.booleans())
def test_esr_sys64_round_trip(op0, op1, crn, crm, op2, rt, read):
    insn = _msr_mrs(op0, op1, crn, crm, op2, rt, read)
    assert insn & INSN_MSR_MRS_MASK == INSN_MSR_MRS_BITS
    esr = esr_sys64_from_insn(insn)
    assert esr >> ESR_EC_SHIFT == EC_SYS64 and esr & ESR_IL
    assert esr & ~((1 << 22) - 1) & ESR_ISS_MASK == 0     # ISS[24:22] RES0 here
    assert sys64_decode(esr) == (op0, op1, crn, crm, op2, rt, read)


@given(st.integers(0, (1 << 32) - 1))
def test_msr_mrs_mask_matches_only_register_moves(insn):
    """The mask picks out MSR/MRS (register) — op0 2 or 3 — and not SYS/MSR (imm)."""
    is_move = insn >> 22 == 0b1101010100 and (insn >> 20) & 1 == 1
    assert (insn & INSN_MSR_MRS_MASK == INSN_MSR_MRS_BITS) == is_move


def test_page_size():
    assert PAGE_SIZE == 4096
