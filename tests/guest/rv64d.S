/* RV64D: double arithmetic and fflags under the rounding modes, fused ops,
 * conversions (to/from integers with saturation, to/from single with
 * NaN-boxing), fmin/fmax, compares, fclass, sign injection, fmv, fld/fsd. */
#include "harness.h"

#define ONE     0x3ff0000000000000
#define TWO     0x4000000000000000
#define THREE   0x4008000000000000
#define FIVE    0x4014000000000000
#define HALF    0x3fe0000000000000
#define MONE    0xbff0000000000000
#define ONEP5   0x3ff8000000000000
#define MONEP5  0xbff8000000000000
#define PINF    0x7ff0000000000000
#define NINF    0xfff0000000000000
#define QNAN    0x7ff8000000000000
#define SNAN    0x7ff0000000000001
#define PZERO   0x0000000000000000
#define NZERO   0x8000000000000000
#define MAXD    0x7fefffffffffffff
#define MINNORM 0x0010000000000000
#define MINSUB  0x0000000000000001
#define EPS53   0x3ca0000000000000      /* 2^-53: half an ulp of 1.0 */
#define NX FFLAG_NX
#define UF FFLAG_UF
#define OF FFLAG_OF
#define DZ FFLAG_DZ
#define NV FFLAG_NV

/* Single-precision operand/result through an FP register, for fcvt.s.d/d.s. */
#define TEST_CVT_D_S(exp, flags, a_single) \
    TEST_LINE; li a1, a_single; fmv.w.x fa1, a1; csrwi fflags, 0; fcvt.d.s fa0, fa1; \
    fmv.x.d a0, fa0; CHECK_EQ(a0, exp); csrr a0, fflags; CHECK_EQ(a0, flags)
#define TEST_CVT_S_D(exp_single, flags, a, ...) \
    TEST_LINE; li a1, a; fmv.d.x fa1, a1; csrwi fflags, 0; fcvt.s.d fa0, fa1 __VA_OPT__(,) __VA_ARGS__; \
    fmv.x.d a0, fa0; CHECK_EQ(a0, 0xffffffff00000000 | exp_single); csrr a0, fflags; CHECK_EQ(a0, flags)

    .text
    .globl test_main
test_main:
    /* --- add/sub --- */
    TEST_FP_OP2_D(fadd.d, THREE, 0, ONE, TWO)
    TEST_FP_OP2_D(fadd.d, ONE, NX, ONE, EPS53, rne)
    TEST_FP_OP2_D(fadd.d, ONE, NX, ONE, EPS53, rtz)
    TEST_FP_OP2_D(fadd.d, ONE, NX, ONE, EPS53, rdn)
    TEST_FP_OP2_D(fadd.d, 0x3ff0000000000001, NX, ONE, EPS53, rup)
    TEST_FP_OP2_D(fadd.d, 0x3ff0000000000001, NX, ONE, EPS53, rmm)
    TEST_FP_OP2_D(fadd.d, 0xbff0000000000001, NX, MONE, 0xbca0000000000000, rdn)
    TEST_FP_OP2_D(fadd.d, QNAN, NV, PINF, NINF)
    TEST_FP_OP2_D(fadd.d, QNAN, NV, SNAN, ONE)
    TEST_FP_OP2_D(fadd.d, QNAN, 0, 0x7ff8000000012345, ONE)
    TEST_FP_OP2_D(fadd.d, PZERO, 0, NZERO, PZERO)
    TEST_FP_OP2_D(fsub.d, PZERO, 0, ONE, ONE)
    TEST_FP_OP2_D(fsub.d, NZERO, 0, ONE, ONE, rdn)
    TEST_FP_OP2_D(fsub.d, MONE, 0, TWO, THREE)

    /* --- mul/div/sqrt --- */
    TEST_FP_OP2_D(fmul.d, 0x4018000000000000, 0, TWO, THREE)
    TEST_FP_OP2_D(fmul.d, PINF, OF|NX, MAXD, TWO)
    TEST_FP_OP2_D(fmul.d, MAXD, OF|NX, MAXD, TWO, rtz)
    TEST_FP_OP2_D(fmul.d, MAXD, OF|NX, MAXD, TWO, rdn)
    TEST_FP_OP2_D(fmul.d, 0x0008000000000000, 0, MINNORM, HALF)
    TEST_FP_OP2_D(fmul.d, PZERO, UF|NX, MINSUB, HALF)
    TEST_FP_OP2_D(fmul.d, MINSUB, UF|NX, MINSUB, HALF, rup)
    TEST_FP_OP2_D(fmul.d, QNAN, NV, NINF, PZERO)
    TEST_FP_OP2_D(fdiv.d, 0x3fd5555555555555, NX, ONE, THREE)
    TEST_FP_OP2_D(fdiv.d, 0x3fd5555555555555, NX, ONE, THREE, rtz)
    TEST_FP_OP2_D(fdiv.d, 0x3fd5555555555556, NX, ONE, THREE, rup)
    TEST_FP_OP2_D(fdiv.d, 0xbfd5555555555556, NX, MONE, THREE, rdn)
    TEST_FP_OP2_D(fdiv.d, PINF, DZ, ONE, PZERO)
    TEST_FP_OP2_D(fdiv.d, NINF, DZ, MONE, PZERO)
    TEST_FP_OP2_D(fdiv.d, QNAN, NV, PZERO, NZERO)
    TEST_FP_OP1_D(fsqrt.d, TWO, 0, 0x4010000000000000)
    TEST_FP_OP1_D(fsqrt.d, 0x3ff6a09e667f3bcd, NX, TWO)
    TEST_FP_OP1_D(fsqrt.d, 0x3ff6a09e667f3bcc, NX, TWO, rtz)
    TEST_FP_OP1_D(fsqrt.d, QNAN, NV, MONE)
    TEST_FP_OP1_D(fsqrt.d, NZERO, 0, NZERO)

    /* --- min/max --- */
    TEST_FP_OP2_D(fmin.d, MONE, 0, ONE, MONE)
    TEST_FP_OP2_D(fmax.d, ONE, 0, ONE, MONE)
    TEST_FP_OP2_D(fmin.d, NZERO, 0, PZERO, NZERO)
    TEST_FP_OP2_D(fmax.d, PZERO, 0, NZERO, PZERO)
    TEST_FP_OP2_D(fmin.d, ONE, 0, QNAN, ONE)
    TEST_FP_OP2_D(fmax.d, ONE, NV, SNAN, ONE)
    TEST_FP_OP2_D(fmin.d, QNAN, NV, SNAN, QNAN)
    TEST_FP_OP2_D(fmax.d, QNAN, 0, QNAN, QNAN)

    /* --- fused --- */
    TEST_FP_OP3_D(fmadd.d, FIVE, 0, ONE, TWO, THREE)
    TEST_FP_OP3_D(fmsub.d, MONE, 0, ONE, TWO, THREE)
    TEST_FP_OP3_D(fnmsub.d, ONE, 0, ONE, TWO, THREE)
    TEST_FP_OP3_D(fnmadd.d, 0xc014000000000000, 0, ONE, TWO, THREE)
    /* (1+2^-52)^2 - (1+2^-51) = 2^-104, exact with one rounding */
    TEST_FP_OP3_D(fmadd.d, 0x3970000000000000, 0, 0x3ff0000000000001, 0x3ff0000000000001, 0xbff0000000000002)
    TEST_FP_OP3_D(fmadd.d, QNAN, NV, PZERO, PINF, QNAN)
    TEST_FP_OP3_D(fmsub.d, QNAN, NV, PINF, ONE, PINF)
    TEST_FP_OP3_D(fmadd.d, 0x3ff0000000000001, NX, ONE, ONE, EPS53, rup)
    TEST_FP_OP3_D(fmsub.d, NZERO, 0, ONE, ONE, ONE, rdn)

    /* --- double -> integer --- */
    TEST_FP_INT_D(fcvt.w.d, 2, NX, ONEP5, rne)
    TEST_FP_INT_D(fcvt.w.d, 1, NX, ONEP5, rtz)
    TEST_FP_INT_D(fcvt.w.d, -2, NX, MONEP5, rdn)
    TEST_FP_INT_D(fcvt.w.d, -1, NX, MONEP5, rup)
    TEST_FP_INT_D(fcvt.w.d, -2, NX, MONEP5, rmm)
    TEST_FP_INT_D(fcvt.w.d, 0x7fffffff, 0, 0x41dfffffffc00000, rtz)          /* 2^31-1 */
    TEST_FP_INT_D(fcvt.w.d, 0x7fffffff, NV, 0x41e0000000000000, rtz)         /* 2^31 */
    TEST_FP_INT_D(fcvt.w.d, 0x7fffffff, NX, 0x41dfffffffe00000, rtz)         /* 2^31-0.5 */
    TEST_FP_INT_D(fcvt.w.d, 0x7fffffff, NV, 0x41dfffffffe00000, rup)
    TEST_FP_INT_D(fcvt.w.d, 0xffffffff80000000, NX, 0xc1e0000000100000, rtz) /* -2^31-0.5 */
    TEST_FP_INT_D(fcvt.w.d, 0xffffffff80000000, NV, NINF, rtz)
    TEST_FP_INT_D(fcvt.w.d, 0x7fffffff, NV, QNAN, rtz)
    TEST_FP_INT_D(fcvt.wu.d, 0xffffffffffffffff, 0, 0x41efffffffe00000, rtz) /* 2^32-1 */
    TEST_FP_INT_D(fcvt.wu.d, 0xffffffffffffffff, NV, 0x41f0000000000000, rtz)
    TEST_FP_INT_D(fcvt.wu.d, 0, NV, MONE, rtz)
    TEST_FP_INT_D(fcvt.wu.d, 0, NX, 0xbfe0000000000000, rtz)
    TEST_FP_INT_D(fcvt.l.d, 0x7fffffffffffffff, NV, 0x43e0000000000000, rtz)  /* 2^63 */
    TEST_FP_INT_D(fcvt.l.d, 0x7ffffffffffffc00, 0, 0x43dfffffffffffff, rtz)
    TEST_FP_INT_D(fcvt.l.d, 0x8000000000000000, 0, 0xc3e0000000000000, rtz)
    TEST_FP_INT_D(fcvt.l.d, 0x8000000000000000, NV, 0xc3e0000000000001, rtz)
    TEST_FP_INT_D(fcvt.l.d, 0x7fffffffffffffff, NV, SNAN, rtz)
    TEST_FP_INT_D(fcvt.lu.d, 0xfffffffffffff800, 0, 0x43efffffffffffff, rtz)
    TEST_FP_INT_D(fcvt.lu.d, 0xffffffffffffffff, NV, 0x43f0000000000000, rtz)
    TEST_FP_INT_D(fcvt.lu.d, 0, NV, NINF, rtz)
    TEST_FP_INT_D(fcvt.lu.d, 1, NX, 0x3ff8000000000000, rdn)

    /* --- integer -> double --- */
    TEST_INT_FP_D(fcvt.d.w, MONE, 0, -1)
    TEST_INT_FP_D(fcvt.d.w, 0xc1e0000000000000, 0, 0x80000000)
    TEST_INT_FP_D(fcvt.d.w, ONE, 0, 0xffffffff00000001)
    TEST_INT_FP_D(fcvt.d.wu, 0x41efffffffe00000, 0, 0xffffffff)
    TEST_INT_FP_D(fcvt.d.l, 0x43e0000000000000, NX, 0x7fffffffffffffff)
    TEST_INT_FP_D(fcvt.d.l, 0x43dfffffffffffff, NX, 0x7fffffffffffffff, rtz)
    TEST_INT_FP_D(fcvt.d.l, 0xc3e0000000000000, 0, 0x8000000000000000)
    TEST_INT_FP_D(fcvt.d.lu, 0x43f0000000000000, NX, -1)
    TEST_INT_FP_D(fcvt.d.lu, 0x43efffffffffffff, NX, -1, rdn)
    TEST_INT_FP_D(fcvt.d.lu, PZERO, 0, 0)

    /* --- double <-> single --- */
    TEST_CVT_D_S(0x3fd5555560000000, 0, 0x3eaaaaab)
    TEST_CVT_D_S(NINF, 0, 0xff800000)
    TEST_CVT_D_S(QNAN, 0, 0x7fc12345)                       /* payload dropped */
    TEST_CVT_D_S(QNAN, NV, 0x7f800001)
    TEST_CVT_D_S(0x36a0000000000000, 0, 0x00000001)         /* single subnormal is normal here */
    TEST_CVT_S_D(0x3eaaaaab, NX, 0x3fd5555555555555)
    TEST_CVT_S_D(0x3eaaaaaa, NX, 0x3fd5555555555555, rtz)
    TEST_CVT_S_D(0x7f800000, OF|NX, MAXD)
    TEST_CVT_S_D(0x7f7fffff, OF|NX, MAXD, rtz)
    TEST_CVT_S_D(0x00000000, UF|NX, MINNORM)
    TEST_CVT_S_D(0x00000001, UF|NX, MINNORM, rup)
    TEST_CVT_S_D(0x7fc00000, 0, QNAN)
    TEST_CVT_S_D(0x7fc00000, NV, SNAN)
    TEST_CVT_S_D(0x80000000, 0, NZERO)
    /* fcvt.d.s of an unboxed register reads the canonical single NaN */
    TEST_LINE; li a1, 0x3f800000; fmv.d.x fa1, a1; csrwi fflags, 0; fcvt.d.s fa0, fa1
    fmv.x.d a0, fa0; CHECK_EQ(a0, QNAN); csrr a0, fflags; CHECK_EQ(a0, 0)

    /* --- sign injection, compares, fclass --- */
    TEST_FP_OP2_D(fsgnj.d, MONE, 0, ONE, 0xc000000000000000)
    TEST_FP_OP2_D(fsgnjn.d, ONE, 0, ONE, 0xc000000000000000)
    TEST_FP_OP2_D(fsgnjx.d, ONE, 0, MONE, 0xc000000000000000)
    TEST_FP_OP2_D(fsgnjx.d, SNAN, 0, SNAN, ONE)
    TEST_FP_OP1_D(fneg.d, NZERO, 0, PZERO)
    TEST_FP_OP1_D(fabs.d, ONE, 0, MONE)
    TEST_FP_CMP_D(feq.d, 1, 0, NZERO, PZERO)
    TEST_FP_CMP_D(feq.d, 0, 0, QNAN, ONE)
    TEST_FP_CMP_D(feq.d, 0, NV, ONE, SNAN)
    TEST_FP_CMP_D(flt.d, 1, 0, NINF, MAXD)
    TEST_FP_CMP_D(flt.d, 0, NV, QNAN, QNAN)
    TEST_FP_CMP_D(fle.d, 1, 0, PZERO, NZERO)
    TEST_FP_CMP_D(fle.d, 0, NV, SNAN, ONE)
    TEST_FP_INT_D(fclass.d, 1 << 0, 0, NINF)
    TEST_FP_INT_D(fclass.d, 1 << 1, 0, MONE)
    TEST_FP_INT_D(fclass.d, 1 << 2, 0, 0x800fffffffffffff)
    TEST_FP_INT_D(fclass.d, 1 << 3, 0, NZERO)
    TEST_FP_INT_D(fclass.d, 1 << 4, 0, PZERO)
    TEST_FP_INT_D(fclass.d, 1 << 5, 0, MINSUB)
    TEST_FP_INT_D(fclass.d, 1 << 6, 0, MINNORM)
    TEST_FP_INT_D(fclass.d, 1 << 7, 0, PINF)
    TEST_FP_INT_D(fclass.d, 1 << 8, 0, SNAN)
    TEST_FP_INT_D(fclass.d, 1 << 9, 0, QNAN)
    /* a boxed single is a (negative) NaN as a double */
    TEST_LINE; li a1, 0x3f800000; fmv.w.x fa1, a1; fclass.d a0, fa1; CHECK_EQ(a0, 1 << 9)

    /* --- moves and memory --- */
    TEST_LINE; li a1, SNAN; fmv.d.x fa0, a1; fmv.x.d a0, fa0; CHECK_EQ(a0, SNAN)
    TEST_LINE; la a1, ddata; fld fa0, 0(a1); fmv.x.d a0, fa0; CHECK_EQ(a0, 0x0123456789abcdef)
    fsd fa0, 16(a1); ld a0, 16(a1); CHECK_EQ(a0, 0x0123456789abcdef)
    fld fa1, 8(a1); fsd fa1, -8+32(a1); ld a0, 24(a1); CHECK_EQ(a0, SNAN)
    /* fsd of a boxed single stores all 64 bits */
    li a2, 0x40490fdb; fmv.w.x fa2, a2; fsd fa2, 16(a1); ld a0, 16(a1); CHECK_EQ(a0, 0xffffffff40490fdb)
    /* misaligned FP access */
    fsd fa0, 33(a1); fld fa3, 33(a1); fmv.x.d a0, fa3; CHECK_EQ(a0, 0x0123456789abcdef)

    /* --- dynamic rounding for doubles --- */
    TEST_LINE; li a1, ONE; fmv.d.x fa1, a1; li a1, THREE; fmv.d.x fa2, a1
    csrwi frm, RM_RUP; fdiv.d fa0, fa1, fa2; fmv.x.d a0, fa0; CHECK_EQ(a0, 0x3fd5555555555556)
    csrwi frm, RM_RTZ; fdiv.d fa0, fa1, fa2; fmv.x.d a0, fa0; CHECK_EQ(a0, 0x3fd5555555555555)
    csrwi frm, RM_RDN; fcvt.s.d fa0, fa0; fmv.x.w a0, fa0; CHECK_EQ(a0, 0x3eaaaaaa)
    csrwi frm, RM_RUP; fcvt.w.d a0, fa1; CHECK_EQ(a0, 1)
    csrwi frm, 6
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, fmul.d fa0, fa1, fa2)
    csrwi fcsr, 0

    TEST_PASSFAIL

    .data
    .align 4
ddata:
    .dword 0x0123456789abcdef, SNAN
    .space 48
