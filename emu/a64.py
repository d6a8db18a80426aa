"""Encoders for the few A64 instructions the kernel writes itself (the vDSO).

Each returns the 32-bit instruction word (ARM DDI 0487, C6: A64 base
instructions).  Registers are numbers (31 is XZR/WZR or SP as the
instruction defines); branch and literal offsets are in bytes from the
instruction.  tests/test_sys_time.py checks every encoder against
Capstone's disassembly.
"""

COND_EQ = 0x0


def _imm19(offset):
    assert offset % 4 == 0 and -(1 << 20) <= offset < (1 << 20)
    return ((offset >> 2) & 0x7FFFF) << 5


def movz(rd, imm16, sf=1, hw=0):
    """MOVZ Xd|Wd, #imm16, LSL #(16*hw)."""
    return (sf << 31) | 0x52800000 | (hw << 21) | ((imm16 & 0xFFFF) << 5) | rd


def svc(imm16=0):
    return 0xD4000001 | (imm16 << 5)


def ret(rn=30):
    return 0xD65F0000 | (rn << 5)


def isb():
    return 0xD5033FDF


def mrs(rt, op0, op1, crn, crm, op2):
    """MRS Xt, S<op0>_<op1>_C<crn>_C<crm>_<op2>."""
    return (0xD5300000 | ((op0 - 2) << 19) | (op1 << 16) | (crn << 12) | (crm << 8)
            | (op2 << 5) | rt)


def ldr_literal(rt, offset, sf=1):
    """LDR Xt|Wt, <pc + offset>."""
    return (0x58000000 if sf else 0x18000000) | _imm19(offset) | rt


def cbz(rt, offset, sf=1):
    return (sf << 31) | 0x34000000 | _imm19(offset) | rt


def cbnz(rt, offset, sf=1):
    return (sf << 31) | 0x35000000 | _imm19(offset) | rt


def cmp_imm(rn, imm12, sf=0):
    """CMP Wn|Xn, #imm12 (SUBS ZR, Rn, #imm12)."""
    return (sf << 31) | 0x7100001F | (imm12 << 10) | (rn << 5)


def b_cond(cond, offset):
    return 0x54000000 | _imm19(offset) | cond


def b(offset):
    assert offset % 4 == 0
    return 0x14000000 | ((offset >> 2) & 0x3FFFFFF)


def lsl(rd, rn, shift):
    """LSL Xd, Xn, #shift (UBFM Xd, Xn, #(-shift mod 64), #(63 - shift))."""
    return 0xD3400000 | (((64 - shift) % 64) << 16) | ((63 - shift) << 10) | (rn << 5) | rd


def add(rd, rn, rm):
    """ADD Xd, Xn, Xm."""
    return 0x8B000000 | (rm << 16) | (rn << 5) | rd


def udiv(rd, rn, rm):
    """UDIV Xd, Xn, Xm."""
    return 0x9AC00800 | (rm << 16) | (rn << 5) | rd


def msub(rd, rn, rm, ra):
    """MSUB Xd, Xn, Xm, Xa: Xd = Xa - Xn * Xm."""
    return 0x9B008000 | (rm << 16) | (ra << 10) | (rn << 5) | rd


def stp(rt, rt2, rn):
    """STP Xt, Xt2, [Xn]."""
    return 0xA9000000 | (rt2 << 10) | (rn << 5) | rt


def str_x(rt, rn):
    """STR Xt, [Xn]."""
    return 0xF9000000 | (rn << 5) | rt
