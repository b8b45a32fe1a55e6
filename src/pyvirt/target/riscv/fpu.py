"""Floating-point instruction glue between the semantics table and softfloat.

Each helper does what every F/D instruction shares: trap if mstatus.FS is
Off, resolve the dynamic rounding mode (an invalid one is an illegal
instruction), unbox single-precision operands (a value that is not
NaN-boxed reads as the canonical NaN), call ``softfloat``, accumulate
fflags, mark FS dirty and NaN-box the result.
"""

from . import softfloat as SF
from .cpu_bits import EXC_ILLEGAL_INSN, FRM_DYN, MSTATUS_FS, MSTATUS_FS_DIRTY
from .traps import Trap

BOX = 0xFFFFFFFF00000000
_NAN32 = SF.CANONICAL_NAN[32]
_SIGN = {32: 1 << 31, 64: 1 << 63}


def unbox(fmt, v):
    if fmt == 64:
        return v
    return v & 0xFFFFFFFF if v >> 32 == 0xFFFFFFFF else _NAN32


def box(fmt, v):
    return v if fmt == 64 else BOX | v


def make_fp_helpers(state):
    """The FP names the semantics templates use, bound to one hart's state."""

    def fp_on(insn):
        if not state.mstatus & MSTATUS_FS:
            raise Trap(EXC_ILLEGAL_INSN, insn)

    def fp_dirty():
        state.mstatus |= MSTATUS_FS_DIRTY

    def flags(fl):
        if fl:
            state.fflags |= fl
        state.mstatus |= MSTATUS_FS_DIRTY

    def rounding(rm, insn):
        fp_on(insn)
        if rm == FRM_DYN:
            rm = state.frm
        if rm > SF.RMM:
            raise Trap(EXC_ILLEGAL_INSN, insn)
        return rm

    def result(fmt, res):
        bits, fl = res
        flags(fl)
        return box(fmt, bits)

    def fop2(fmt, fn, a, b, rm, insn):
        rm = rounding(rm, insn)
        return result(fmt, fn(fmt, unbox(fmt, a), unbox(fmt, b), rm))

    def fop1(fmt, fn, a, rm, insn):
        rm = rounding(rm, insn)
        return result(fmt, fn(fmt, unbox(fmt, a), rm))

    def fma(fmt, a, b, c, rm, neg_product, neg_addend, insn):
        rm = rounding(rm, insn)
        return result(fmt, SF.muladd(fmt, unbox(fmt, a), unbox(fmt, b), unbox(fmt, c), rm,
                                     negate_product=neg_product, negate_addend=neg_addend))

    def fsgnj(fmt, a, b, kind, insn):
        fp_on(insn)
        a, b = unbox(fmt, a), unbox(fmt, b)
        sign = _SIGN[fmt]
        if kind == 0:
            s = b & sign
        elif kind == 1:
            s = ~b & sign
        else:
            s = (a ^ b) & sign
        fp_dirty()
        return box(fmt, (a & ~sign) | s)

    def fminmax(fmt, fn, a, b, insn):
        fp_on(insn)
        return result(fmt, fn(fmt, unbox(fmt, a), unbox(fmt, b)))

    def fcmp(fmt, fn, a, b, insn):
        fp_on(insn)
        v, fl = fn(fmt, unbox(fmt, a), unbox(fmt, b))
        if fl:
            flags(fl)
        return v

    def fclass(fmt, a, insn):
        fp_on(insn)
        return SF.fclass(fmt, unbox(fmt, a))

    def f2i(fmt, a, rm, width, signed, insn):
        rm = rounding(rm, insn)
        v, fl = SF.f_to_int(fmt, unbox(fmt, a), rm, width, signed)
        if fl:
            flags(fl)
        if width == 32:
            v = (((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000) & ((1 << 64) - 1)
        return v

    def i2f(fmt, x, rm, width, signed, insn):
        rm = rounding(rm, insn)
        return result(fmt, SF.int_to_f(fmt, x & ((1 << width) - 1), rm, width, signed))

    def f2f(src, dst, a, rm, insn):
        rm = rounding(rm, insn)
        return result(dst, SF.f_to_f(src, dst, unbox(src, a), rm))

    return {
        "SF": SF, "BOX": BOX, "FP_ON": fp_on, "FP_DIRTY": fp_dirty, "FOP2": fop2, "FOP1": fop1,
        "FMA": fma, "FSGNJ": fsgnj, "FMINMAX": fminmax, "FCMP": fcmp, "FCLASS": fclass,
        "F2I": f2i, "I2F": i2f, "F2F": f2f,
    }
