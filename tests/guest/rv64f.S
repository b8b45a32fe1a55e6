/* RV64F: arithmetic and fflags under every rounding mode, fused ops,
 * conversions with saturation, fmin/fmax with NaNs and -0, compares, fclass,
 * sign injection, moves, NaN-boxing, flw/fsw, fcsr/frm/fflags, dynamic
 * rounding, FS gating. */
#include "harness.h"

#define ONE     0x3f800000
#define TWO     0x40000000
#define THREE   0x40400000
#define FIVE    0x40a00000
#define HALF    0x3f000000
#define MONE    0xbf800000
#define ONEP5   0x3fc00000
#define MONEP5  0xbfc00000
#define PINF    0x7f800000
#define NINF    0xff800000
#define QNAN    0x7fc00000
#define SNAN    0x7f800001
#define PZERO   0x00000000
#define NZERO   0x80000000
#define MAXF    0x7f7fffff
#define MINNORM 0x00800000
#define MINSUB  0x00000001
#define EPS24   0x33800000      /* 2^-24: half an ulp of 1.0 */
#define NX FFLAG_NX
#define UF FFLAG_UF
#define OF FFLAG_OF
#define DZ FFLAG_DZ
#define NV FFLAG_NV

    .text
    .globl test_main
test_main:
    /* --- add/sub and rounding modes on a tie (1 + 2^-24) --- */
    TEST_FP_OP2_S(fadd.s, THREE, 0, ONE, TWO)
    TEST_FP_OP2_S(fadd.s, ONE, NX, ONE, EPS24)
    TEST_FP_OP2_S(fadd.s, ONE, NX, ONE, EPS24, rne)
    TEST_FP_OP2_S(fadd.s, ONE, NX, ONE, EPS24, rtz)
    TEST_FP_OP2_S(fadd.s, ONE, NX, ONE, EPS24, rdn)
    TEST_FP_OP2_S(fadd.s, 0x3f800001, NX, ONE, EPS24, rup)
    TEST_FP_OP2_S(fadd.s, 0x3f800001, NX, ONE, EPS24, rmm)
    TEST_FP_OP2_S(fadd.s, MONE, NX, MONE, 0xb3800000, rne)
    TEST_FP_OP2_S(fadd.s, 0xbf800001, NX, MONE, 0xb3800000, rdn)
    TEST_FP_OP2_S(fadd.s, MONE, NX, MONE, 0xb3800000, rup)
    TEST_FP_OP2_S(fadd.s, QNAN, NV, PINF, NINF)
    TEST_FP_OP2_S(fadd.s, QNAN, NV, SNAN, ONE)
    TEST_FP_OP2_S(fadd.s, QNAN, 0, 0x7fc12345, ONE)     /* NaN payloads are not propagated */
    TEST_FP_OP2_S(fadd.s, PINF, 0, PINF, MAXF)
    TEST_FP_OP2_S(fadd.s, PZERO, 0, NZERO, PZERO)
    TEST_FP_OP2_S(fadd.s, NZERO, 0, NZERO, NZERO)
    TEST_FP_OP2_S(fsub.s, PZERO, 0, ONE, ONE)
    TEST_FP_OP2_S(fsub.s, NZERO, 0, ONE, ONE, rdn)      /* exact zero is -0 when rounding down */
    TEST_FP_OP2_S(fsub.s, MONE, 0, TWO, THREE)
    TEST_FP_OP2_S(fsub.s, QNAN, NV, PINF, PINF)

    /* --- mul/div, overflow and underflow --- */
    TEST_FP_OP2_S(fmul.s, 0x40c00000, 0, TWO, THREE)
    TEST_FP_OP2_S(fmul.s, PINF, OF|NX, MAXF, TWO)
    TEST_FP_OP2_S(fmul.s, MAXF, OF|NX, MAXF, TWO, rtz)
    TEST_FP_OP2_S(fmul.s, 0xff7fffff, OF|NX, 0xff7fffff, TWO, rup)
    TEST_FP_OP2_S(fmul.s, 0x00400000, 0, MINNORM, HALF)        /* exact subnormal: no UF */
    TEST_FP_OP2_S(fmul.s, PZERO, UF|NX, MINSUB, HALF)          /* tie to even: 0 */
    TEST_FP_OP2_S(fmul.s, MINSUB, UF|NX, MINSUB, HALF, rup)
    TEST_FP_OP2_S(fmul.s, QNAN, NV, PINF, PZERO)
    TEST_FP_OP2_S(fmul.s, NZERO, 0, MONE, PZERO)
    TEST_FP_OP2_S(fdiv.s, 0x3eaaaaab, NX, ONE, THREE)
    TEST_FP_OP2_S(fdiv.s, 0x3eaaaaaa, NX, ONE, THREE, rtz)
    TEST_FP_OP2_S(fdiv.s, 0x3eaaaaaa, NX, ONE, THREE, rdn)
    TEST_FP_OP2_S(fdiv.s, 0x3eaaaaab, NX, ONE, THREE, rup)
    TEST_FP_OP2_S(fdiv.s, 0xbeaaaaab, NX, MONE, THREE, rdn)
    TEST_FP_OP2_S(fdiv.s, PINF, DZ, ONE, PZERO)
    TEST_FP_OP2_S(fdiv.s, NINF, DZ, ONE, NZERO)
    TEST_FP_OP2_S(fdiv.s, QNAN, NV, PZERO, PZERO)
    TEST_FP_OP2_S(fdiv.s, QNAN, NV, PINF, NINF)
    TEST_FP_OP2_S(fdiv.s, PZERO, 0, ONE, PINF)
    TEST_FP_OP1_S(fsqrt.s, TWO, 0, 0x40800000)
    TEST_FP_OP1_S(fsqrt.s, 0x3fb504f3, NX, TWO)
    TEST_FP_OP1_S(fsqrt.s, 0x3fb504f4, NX, TWO, rup)
    TEST_FP_OP1_S(fsqrt.s, 0x3fb504f3, NX, TWO, rne)
    TEST_FP_OP1_S(fsqrt.s, 0x3fb504f3, NX, TWO, rtz)
    TEST_FP_OP1_S(fsqrt.s, QNAN, NV, MONE)
    TEST_FP_OP1_S(fsqrt.s, NZERO, 0, NZERO)
    TEST_FP_OP1_S(fsqrt.s, PINF, 0, PINF)

    /* --- min/max: NaNs lose, -0 < +0, sNaN raises NV --- */
    TEST_FP_OP2_S(fmin.s, MONE, 0, ONE, MONE)
    TEST_FP_OP2_S(fmax.s, ONE, 0, ONE, MONE)
    TEST_FP_OP2_S(fmin.s, NZERO, 0, PZERO, NZERO)
    TEST_FP_OP2_S(fmin.s, NZERO, 0, NZERO, PZERO)
    TEST_FP_OP2_S(fmax.s, PZERO, 0, NZERO, PZERO)
    TEST_FP_OP2_S(fmax.s, PZERO, 0, PZERO, NZERO)
    TEST_FP_OP2_S(fmin.s, ONE, 0, QNAN, ONE)
    TEST_FP_OP2_S(fmax.s, ONE, 0, ONE, QNAN)
    TEST_FP_OP2_S(fmin.s, ONE, NV, SNAN, ONE)
    TEST_FP_OP2_S(fmax.s, ONE, NV, ONE, SNAN)
    TEST_FP_OP2_S(fmin.s, QNAN, 0, QNAN, QNAN)
    TEST_FP_OP2_S(fmax.s, QNAN, NV, SNAN, 0x7fc00001)
    TEST_FP_OP2_S(fmin.s, NINF, 0, NINF, MAXF)

    /* --- fused multiply-add --- */
    TEST_FP_OP3_S(fmadd.s, FIVE, 0, ONE, TWO, THREE)
    TEST_FP_OP3_S(fmsub.s, MONE, 0, ONE, TWO, THREE)
    TEST_FP_OP3_S(fnmsub.s, ONE, 0, ONE, TWO, THREE)
    TEST_FP_OP3_S(fnmadd.s, 0xc0a00000, 0, ONE, TWO, THREE)
    /* one rounding: (1+2^-23)^2 - (1+2^-22) = 2^-46 exactly */
    TEST_FP_OP3_S(fmadd.s, 0x28800000, 0, 0x3f800001, 0x3f800001, 0xbf800002)
    TEST_FP_OP3_S(fmadd.s, QNAN, NV, PINF, PZERO, ONE)
    TEST_FP_OP3_S(fmadd.s, QNAN, NV, PINF, PZERO, QNAN)      /* inf*0 is invalid even with a qNaN addend */
    TEST_FP_OP3_S(fmadd.s, QNAN, NV, PINF, ONE, NINF)
    TEST_FP_OP3_S(fmadd.s, QNAN, 0, ONE, ONE, QNAN)
    TEST_FP_OP3_S(fmadd.s, 0x3f800001, NX, ONE, ONE, EPS24, rup)
    TEST_FP_OP3_S(fnmadd.s, 0xbf800001, NX, ONE, ONE, EPS24, rdn)
    TEST_FP_OP3_S(fmsub.s, NZERO, 0, ONE, ONE, ONE, rdn)
    TEST_FP_OP3_S(fnmsub.s, PZERO, 0, ONE, ONE, ONE)

    /* --- float -> integer, every rounding mode, saturation --- */
    TEST_FP_INT_S(fcvt.w.s, 2, NX, ONEP5, rne)
    TEST_FP_INT_S(fcvt.w.s, 1, NX, ONEP5, rtz)
    TEST_FP_INT_S(fcvt.w.s, 1, NX, ONEP5, rdn)
    TEST_FP_INT_S(fcvt.w.s, 2, NX, ONEP5, rup)
    TEST_FP_INT_S(fcvt.w.s, 2, NX, ONEP5, rmm)
    TEST_FP_INT_S(fcvt.w.s, -2, NX, MONEP5, rne)
    TEST_FP_INT_S(fcvt.w.s, -1, NX, MONEP5, rtz)
    TEST_FP_INT_S(fcvt.w.s, -2, NX, MONEP5, rdn)
    TEST_FP_INT_S(fcvt.w.s, -1, NX, MONEP5, rup)
    TEST_FP_INT_S(fcvt.w.s, -2, NX, MONEP5, rmm)
    TEST_FP_INT_S(fcvt.w.s, 2, NX, 0x40200000, rne)          /* 2.5 -> 2 (even) */
    TEST_FP_INT_S(fcvt.w.s, 3, NX, 0x40200000, rmm)
    TEST_FP_INT_S(fcvt.w.s, 0, 0, NZERO, rtz)
    TEST_FP_INT_S(fcvt.w.s, 0x7fffffff, NV, 0x4f400000, rtz)   /* 3e9 */
    TEST_FP_INT_S(fcvt.w.s, 0xffffffff80000000, 0, 0xcf000000, rtz)  /* exactly -2^31 */
    TEST_FP_INT_S(fcvt.w.s, 0xffffffff80000000, NV, NINF, rtz)
    TEST_FP_INT_S(fcvt.w.s, 0x7fffffff, NV, PINF, rtz)
    TEST_FP_INT_S(fcvt.w.s, 0x7fffffff, NV, QNAN, rtz)
    TEST_FP_INT_S(fcvt.w.s, 0x7fffffff, NV, 0xffc00000, rtz)   /* negative NaN too */
    TEST_FP_INT_S(fcvt.wu.s, 0, NV, MONE, rtz)
    TEST_FP_INT_S(fcvt.wu.s, 0, NX, 0xbf000000, rtz)           /* -0.5 rounds into range */
    TEST_FP_INT_S(fcvt.wu.s, 0xffffffffffffffff, NV, 0x4fa00000, rtz)  /* 5.4e9 */
    TEST_FP_INT_S(fcvt.wu.s, 0xffffffff80000000, 0, 0x4f000000, rtz)   /* 2^31, sign-extended */
    TEST_FP_INT_S(fcvt.wu.s, 0xffffffffffffffff, NV, QNAN, rtz)
    TEST_FP_INT_S(fcvt.l.s, 0x7fffffffffffffff, NV, QNAN, rtz)
    TEST_FP_INT_S(fcvt.l.s, 0x8000000000000000, NV, NINF, rtz)
    TEST_FP_INT_S(fcvt.l.s, 0x0000010000000000, 0, 0x53800000, rtz)
    TEST_FP_INT_S(fcvt.l.s, -4, NX, 0xc0400001, rdn)
    TEST_FP_INT_S(fcvt.lu.s, 0, NV, MONE, rtz)
    TEST_FP_INT_S(fcvt.lu.s, 0xffffffffffffffff, NV, PINF, rtz)
    TEST_FP_INT_S(fcvt.lu.s, 0x8000000000000000, 0, 0x5f000000, rtz)

    /* --- integer -> float --- */
    TEST_INT_FP_S(fcvt.s.w, MONE, 0, -1)
    TEST_INT_FP_S(fcvt.s.w, ONE, 0, 0x100000001)              /* upper bits ignored */
    TEST_INT_FP_S(fcvt.s.w, 0x4f000000, NX, 0x7fffffff)
    TEST_INT_FP_S(fcvt.s.w, 0x4effffff, NX, 0x7fffffff, rtz)
    TEST_INT_FP_S(fcvt.s.w, 0xcf000000, 0, 0x80000000)
    TEST_INT_FP_S(fcvt.s.wu, 0x4f800000, NX, 0xffffffff)
    TEST_INT_FP_S(fcvt.s.wu, 0x4f7fffff, NX, 0xffffffff, rdn)
    TEST_INT_FP_S(fcvt.s.l, 0x5f000000, NX, 0x7fffffffffffffff)
    TEST_INT_FP_S(fcvt.s.l, 0xdf000000, 0, 0x8000000000000000)
    TEST_INT_FP_S(fcvt.s.l, PZERO, 0, 0)
    TEST_INT_FP_S(fcvt.s.lu, 0x5f800000, NX, -1)
    TEST_INT_FP_S(fcvt.s.lu, 0x5f7fffff, NX, -1, rtz)

    /* --- sign injection --- */
    TEST_FP_OP2_S(fsgnj.s, MONE, 0, ONE, 0xc0000000)
    TEST_FP_OP2_S(fsgnj.s, ONE, 0, MONE, TWO)
    TEST_FP_OP2_S(fsgnjn.s, ONE, 0, ONE, 0xc0000000)
    TEST_FP_OP2_S(fsgnjn.s, MONE, 0, ONE, TWO)
    TEST_FP_OP2_S(fsgnjx.s, ONE, 0, MONE, 0xc0000000)
    TEST_FP_OP2_S(fsgnjx.s, MONE, 0, ONE, 0xc0000000)
    TEST_FP_OP2_S(fsgnj.s, 0xff800001, 0, SNAN, MONE)          /* no NaN handling, no flags */
    TEST_FP_OP1_S(fneg.s, NZERO, 0, PZERO)
    TEST_FP_OP1_S(fabs.s, PINF, 0, NINF)

    /* --- compares --- */
    TEST_FP_CMP_S(feq.s, 1, 0, ONE, ONE)
    TEST_FP_CMP_S(feq.s, 1, 0, NZERO, PZERO)
    TEST_FP_CMP_S(feq.s, 0, 0, QNAN, QNAN)
    TEST_FP_CMP_S(feq.s, 0, NV, SNAN, ONE)
    TEST_FP_CMP_S(flt.s, 1, 0, MONE, ONE)
    TEST_FP_CMP_S(flt.s, 0, 0, NZERO, PZERO)
    TEST_FP_CMP_S(flt.s, 0, NV, QNAN, ONE)
    TEST_FP_CMP_S(flt.s, 1, 0, NINF, MONE)
    TEST_FP_CMP_S(fle.s, 1, 0, NZERO, PZERO)
    TEST_FP_CMP_S(fle.s, 1, 0, ONE, ONE)
    TEST_FP_CMP_S(fle.s, 0, 0, TWO, ONE)
    TEST_FP_CMP_S(fle.s, 0, NV, ONE, QNAN)

    /* --- fclass --- */
    TEST_FP_INT_S(fclass.s, 1 << 0, 0, NINF)
    TEST_FP_INT_S(fclass.s, 1 << 1, 0, MONE)
    TEST_FP_INT_S(fclass.s, 1 << 2, 0, 0x807fffff)
    TEST_FP_INT_S(fclass.s, 1 << 3, 0, NZERO)
    TEST_FP_INT_S(fclass.s, 1 << 4, 0, PZERO)
    TEST_FP_INT_S(fclass.s, 1 << 5, 0, MINSUB)
    TEST_FP_INT_S(fclass.s, 1 << 6, 0, MAXF)
    TEST_FP_INT_S(fclass.s, 1 << 7, 0, PINF)
    TEST_FP_INT_S(fclass.s, 1 << 8, 0, SNAN)
    TEST_FP_INT_S(fclass.s, 1 << 9, 0, QNAN)
    TEST_FP_INT_S(fclass.s, 1 << 9, 0, 0xffc00001)

    /* --- moves and NaN-boxing --- */
    TEST_LINE; li a1, 0x80000000; fmv.w.x fa0, a1; fmv.x.w a0, fa0; CHECK_EQ(a0, 0xffffffff80000000)
    fmv.x.d a0, fa0; CHECK_EQ(a0, 0xffffffff80000000)      /* fmv.w.x boxes */
    TEST_LINE; li a1, 0x123456783f800000; fmv.w.x fa0, a1; fmv.x.d a0, fa0; CHECK_EQ(a0, 0xffffffff3f800000)
    /* single ops on an unboxed register read the canonical NaN */
    TEST_LINE; li a1, 0x000000003f800000; fmv.d.x fa1, a1; csrwi fflags, 0
    fadd.s fa0, fa1, fa1; fmv.x.d a0, fa0; CHECK_EQ(a0, 0xffffffff7fc00000)
    csrr a0, fflags; CHECK_EQ(a0, 0)
    fmv.s fa0, fa1; fmv.x.d a0, fa0; CHECK_EQ(a0, 0xffffffff7fc00000)
    fneg.s fa0, fa1; fmv.x.d a0, fa0; CHECK_EQ(a0, 0xffffffffffc00000)
    fclass.s a0, fa1; CHECK_EQ(a0, 1 << 9)
    fcvt.w.s a0, fa1, rtz; CHECK_EQ(a0, 0x7fffffff)
    li a1, 0xfffffffe3f800000; fmv.d.x fa1, a1; fmv.s fa0, fa1; fmv.x.d a0, fa0; CHECK_EQ(a0, 0xffffffff7fc00000)
    /* loads box, stores write the low word */
    TEST_LINE; la a1, fdata; flw fa0, 0(a1); fmv.x.d a0, fa0; CHECK_EQ(a0, 0xffffffff7f800001)
    fsw fa0, 8(a1); lwu a0, 8(a1); CHECK_EQ(a0, 0x7f800001)     /* sNaN bits kept */
    flw fa0, 4(a1); fsw fa0, 12(a1); lwu a0, 12(a1); CHECK_EQ(a0, 0xbf800000)
    li a2, 0x1111111122222222; sd a2, 16(a1); fsw fa0, 20(a1); ld a0, 16(a1); CHECK_EQ(a0, 0xbf80000022222222)
    flw fa2, -4+8(a1); fmv.x.w a0, fa2; CHECK_EQ(a0, 0xffffffffbf800000)

    /* --- fcsr, frm, fflags --- */
    TEST_LINE; csrwi fcsr, 0; li a1, 0xff; csrw fcsr, a1; csrr a0, fcsr; CHECK_EQ(a0, 0xff)
    csrr a0, frm; CHECK_EQ(a0, 7); csrr a0, fflags; CHECK_EQ(a0, 0x1f)
    TEST_LINE; li a1, 0xffffffff; csrw fcsr, a1; csrr a0, fcsr; CHECK_EQ(a0, 0xff)
    TEST_LINE; csrwi frm, 2; csrr a0, fcsr; CHECK_EQ(a0, 0x5f)
    csrwi fflags, 0x3; csrr a0, fcsr; CHECK_EQ(a0, 0x43)
    csrrwi a0, fflags, 0x1c; CHECK_EQ(a0, 0x3); csrr a0, fcsr; CHECK_EQ(a0, 0x5c)
    csrrsi a0, fflags, 1; CHECK_EQ(a0, 0x1c); csrrci a0, frm, 2; CHECK_EQ(a0, 2)
    csrr a0, fcsr; CHECK_EQ(a0, 0x1d)
    li a1, 0xffffffff; fsrm a0, a1; CHECK_EQ(a0, 0); frrm a0; CHECK_EQ(a0, 7)
    fsflags a0, zero; CHECK_EQ(a0, 0x1d); frflags a0; CHECK_EQ(a0, 0)
    csrwi fcsr, 0
    /* flags accumulate until cleared */
    TEST_LINE; li a1, ONE; fmv.w.x fa1, a1; li a1, THREE; fmv.w.x fa2, a1; fmv.w.x fa3, zero
    fdiv.s fa0, fa1, fa2; fdiv.s fa0, fa1, fa3; frflags a0; CHECK_EQ(a0, NX|DZ)
    feq.s a0, fa1, fa1; frflags a0; CHECK_EQ(a0, NX|DZ)
    csrwi fflags, 0

    /* --- dynamic rounding mode --- */
    TEST_LINE; li a1, ONE; fmv.w.x fa1, a1; li a1, THREE; fmv.w.x fa2, a1; li a1, MONE; fmv.w.x fa3, a1
    csrwi frm, RM_RTZ; fdiv.s fa0, fa1, fa2; fmv.x.w a0, fa0; CHECK_EQ(a0, 0x3eaaaaaa)
    csrwi frm, RM_RUP; fdiv.s fa0, fa1, fa2, dyn; fmv.x.w a0, fa0; CHECK_EQ(a0, 0x3eaaaaab)
    csrwi frm, RM_RDN; fdiv.s fa0, fa3, fa2; fmv.x.w a0, fa0; CHECK_EQ(a0, 0xffffffffbeaaaaab)
    csrwi frm, RM_RUP; fdiv.s fa0, fa3, fa2; fmv.x.w a0, fa0; CHECK_EQ(a0, 0xffffffffbeaaaaaa)
    fdiv.s fa0, fa3, fa2, rne; fmv.x.w a0, fa0; CHECK_EQ(a0, 0xffffffffbeaaaaab)   /* static rm wins */
    csrwi frm, RM_RMM; li a1, 0x40200000; fmv.w.x fa1, a1; fcvt.w.s a0, fa1; CHECK_EQ(a0, 3)
    csrwi frm, RM_RNE; fcvt.w.s a0, fa1; CHECK_EQ(a0, 2)
    /* reserved rounding modes are illegal, statically or through frm */
    csrwi frm, 5
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, fadd.s fa0, fa1, fa1)
    csrwi frm, 7
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, fdiv.s fa0, fa1, fa1, dyn)
    csrwi frm, 0
    /* fadd.s fa0, fa1, fa1 with rm = 5 */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, .word 0x00b5d553)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, .word 0x00b5e553)   /* rm = 6 */
    csrwi fcsr, 0

    /* --- mstatus.FS: off makes FP illegal; writes make it dirty --- */
    TEST_LINE; li a1, MSTATUS_FS; csrc mstatus, a1
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, fadd.s fa0, fa1, fa1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrr a0, fcsr)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, flw fa0, 0(sp))
    TEST_LINE; li a1, 1 << 13; csrs mstatus, a1                /* FS = Initial */
    fadd.s fa0, fa1, fa1; csrr a0, mstatus; srli a1, a0, 13; andi a1, a1, 3; CHECK_EQ(a1, 3)
    srli a0, a0, 63; CHECK_EQ(a0, 1)                           /* SD summarises */

    TEST_PASSFAIL

    .data
    .align 4
fdata:
    .word SNAN, MONE
    .space 24
