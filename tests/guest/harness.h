/*
 * Test harness for the bare-metal RISC-V test programs.
 *
 * Each program defines `test_main`, runs its checks in M-mode and ends with
 * TEST_PASSFAIL.  runtime.S provides the reset entry, the trap handlers and
 * the reporting: every failing check prints one line on the ns16550a UART
 * ("FAIL line N: got 0x... expected 0x...") and execution continues; at the
 * end the sifive_test device is written with PASS, or FAIL with the first
 * failing line as the code, which makes QEMU exit with that status.
 *
 * Register conventions (tests must leave these alone):
 *   gp          line number of the current check (reported on failure)
 *   tp          trap resume address: a trap taken while tp != 0 resumes at
 *               tp and clears tp -- in M-mode with MIE = 0 for traps taken by
 *               M, in S-mode with SIE = 0 for traps delegated to S; a trap
 *               taken while tp == 0 is reported as unexpected
 *   s8..s11     what the last trap recorded: s8 = mode that took it (3 = M,
 *               1 = S), s9 = cause, s10 = tval, s11 = epc
 *   t4, t5, t6  used by the check macros
 * Checks compare in M-mode only (the failure report uses M-only CSRs and
 * physical MMIO): lower modes leave results in registers and ecall back.
 */
#ifndef HARNESS_H
#define HARNESS_H

/* --- Devices of the virt board --- */
#define UART_BASE       0x10000000
#define TEST_DEVICE     0x100000
#define CLINT_MSIP      0x2000000
#define CLINT_MTIMECMP  0x2004000
#define CLINT_MTIME     0x200bff8

/* --- mstatus --- */
#define MSTATUS_SIE     (1 << 1)
#define MSTATUS_MIE     (1 << 3)
#define MSTATUS_SPIE    (1 << 5)
#define MSTATUS_MPIE    (1 << 7)
#define MSTATUS_SPP     (1 << 8)
#define MSTATUS_MPP     (3 << 11)
#define MSTATUS_MPP_S   (1 << 11)
#define MSTATUS_FS      (3 << 13)
#define MSTATUS_MPRV    (1 << 17)
#define MSTATUS_SUM     (1 << 18)
#define MSTATUS_MXR     (1 << 19)
#define MSTATUS_TVM     (1 << 20)
#define MSTATUS_TW      (1 << 21)
#define MSTATUS_TSR     (1 << 22)

/* --- privilege levels --- */
#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* --- mip / mie bits --- */
#define IRQ_S_SOFT   1
#define IRQ_M_SOFT   3
#define IRQ_S_TIMER  5
#define IRQ_M_TIMER  7
#define IRQ_S_EXT    9
#define IRQ_M_EXT    11
#define MIP_SSIP     (1 << IRQ_S_SOFT)
#define MIP_MSIP     (1 << IRQ_M_SOFT)
#define MIP_STIP     (1 << IRQ_S_TIMER)
#define MIP_MTIP     (1 << IRQ_M_TIMER)
#define INTERRUPT    (1 << 63)

/* --- exception causes --- */
#define CAUSE_MISALIGNED_FETCH     0
#define CAUSE_FETCH_ACCESS         1
#define CAUSE_ILLEGAL_INSTRUCTION  2
#define CAUSE_BREAKPOINT           3
#define CAUSE_MISALIGNED_LOAD      4
#define CAUSE_LOAD_ACCESS          5
#define CAUSE_MISALIGNED_STORE     6
#define CAUSE_STORE_ACCESS         7
#define CAUSE_USER_ECALL           8
#define CAUSE_SUPERVISOR_ECALL     9
#define CAUSE_MACHINE_ECALL        11
#define CAUSE_FETCH_PAGE_FAULT     12
#define CAUSE_LOAD_PAGE_FAULT      13
#define CAUSE_STORE_PAGE_FAULT     15

/* --- page-table entries and satp --- */
#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_G (1 << 5)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define SATP_MODE_SV39 (8 << 60)
#define SATP_MODE_SV48 (9 << 60)

/* --- fflags --- */
#define FFLAG_NX 0x01
#define FFLAG_UF 0x02
#define FFLAG_OF 0x04
#define FFLAG_DZ 0x08
#define FFLAG_NV 0x10

#define RM_RNE 0
#define RM_RTZ 1
#define RM_RDN 2
#define RM_RUP 3
#define RM_RMM 4

/* ------------------------------------------------------------------------
 * Checks.  Every check first sets gp to its source line, so a failure (or an
 * unexpected trap) names the line.
 */
#define TEST_LINE li gp, __LINE__

/* Fail unless register `reg` equals the 64-bit constant `exp`. */
#define CHECK_EQ(reg, exp) \
    li t6, exp; \
    beq reg, t6, 9f; \
    mv t5, reg; \
    jal t4, check_failed; \
9:

/* Fail unless two registers are equal (t5/t6 must not be among them). */
#define CHECK_EQ_REG(reg, expreg) \
    beq reg, expreg, 9f; \
    mv t5, reg; \
    mv t6, expreg; \
    jal t4, check_failed; \
9:

/* Fail unconditionally (for paths that must not be reached). */
#define CHECK_FAIL \
    li t5, 0; li t6, 1; jal t4, check_failed

/* Check a register against a constant, on its own line. */
#define TEST_EQ(reg, exp) TEST_LINE; CHECK_EQ(reg, exp)

/* Register-register op: op a0, a1, a2 with a1 = a, a2 = b. */
#define TEST_RR(op, exp, a, b) \
    TEST_LINE; li a1, a; li a2, b; op a0, a1, a2; CHECK_EQ(a0, exp)

/* Same op with rd aliasing rs1 and then rs2. */
#define TEST_RR_ALIAS(op, exp, a, b) \
    TEST_LINE; li a1, a; li a2, b; op a1, a1, a2; CHECK_EQ(a1, exp); \
    li a1, a; op a2, a1, a2; CHECK_EQ(a2, exp)

/* Register-immediate op: op a0, a1, imm with a1 = a. */
#define TEST_IMM(op, exp, a, imm) \
    TEST_LINE; li a1, a; op a0, a1, imm; CHECK_EQ(a0, exp)

/* Unary op: op a0, a1. */
#define TEST_R(op, exp, a) \
    TEST_LINE; li a1, a; op a0, a1; CHECK_EQ(a0, exp)

/* Load from base+off: op a0, off(a1). */
#define TEST_LOAD(op, exp, base, off) \
    TEST_LINE; la a1, base; op a0, off(a1); CHECK_EQ(a0, exp)

/* Store val at base+off, then load it back with ld and compare with exp. */
#define TEST_STORE(st, ld, exp, val, base, off) \
    TEST_LINE; la a1, base; li a2, val; st a2, off(a1); \
    ld a0, off(a1); CHECK_EQ(a0, exp)

/* Branch that must be taken / must fall through. */
#define TEST_BRANCH_TAKEN(op, a, b) \
    TEST_LINE; li a1, a; li a2, b; op a1, a2, 8f; CHECK_FAIL; 8:

#define TEST_BRANCH_NOT_TAKEN(op, a, b) \
    TEST_LINE; li a1, a; li a2, b; op a1, a2, 8f; j 7f; 8: CHECK_FAIL; 7:

/* ------------------------------------------------------------------------
 * Floating point.  Operands and results are raw bit patterns; single values
 * travel through fmv.w.x / fmv.x.w (so expected singles are compared
 * sign-extended, as fmv.x.w returns them).  Every FP check also compares the
 * fflags the operation raised.
 */
#define _SEXT_d(r)
#define _SEXT_w(r) sext.w r, r

#define _CHECK_FFLAGS(flags) \
    csrr a0, fflags; CHECK_EQ(a0, flags)

#define _TEST_FP_OP1(W, op, exp, flags, a, ...) \
    TEST_LINE; li a1, a; fmv.W.x fa1, a1; csrwi fflags, 0; \
    op fa0, fa1 __VA_ARGS__; fmv.x.W a0, fa0; \
    li t6, exp; _SEXT_##W(t6); CHECK_EQ_REG(a0, t6); _CHECK_FFLAGS(flags)

#define _TEST_FP_OP2(W, op, exp, flags, a, b, ...) \
    TEST_LINE; li a1, a; fmv.W.x fa1, a1; li a2, b; fmv.W.x fa2, a2; \
    csrwi fflags, 0; op fa0, fa1, fa2 __VA_ARGS__; fmv.x.W a0, fa0; \
    li t6, exp; _SEXT_##W(t6); CHECK_EQ_REG(a0, t6); _CHECK_FFLAGS(flags)

#define _TEST_FP_OP3(W, op, exp, flags, a, b, c, ...) \
    TEST_LINE; li a1, a; fmv.W.x fa1, a1; li a2, b; fmv.W.x fa2, a2; \
    li a3, c; fmv.W.x fa3, a3; csrwi fflags, 0; \
    op fa0, fa1, fa2, fa3 __VA_ARGS__; fmv.x.W a0, fa0; \
    li t6, exp; _SEXT_##W(t6); CHECK_EQ_REG(a0, t6); _CHECK_FFLAGS(flags)

/* FP -> integer register (conversions, fclass): op a0, fa1 [, rm] */
#define _TEST_FP_INT(W, op, exp, flags, a, ...) \
    TEST_LINE; li a1, a; fmv.W.x fa1, a1; csrwi fflags, 0; \
    op a0, fa1 __VA_ARGS__; CHECK_EQ(a0, exp); _CHECK_FFLAGS(flags)

/* Compare: op a0, fa1, fa2 */
#define _TEST_FP_CMP(W, op, exp, flags, a, b) \
    TEST_LINE; li a1, a; fmv.W.x fa1, a1; li a2, b; fmv.W.x fa2, a2; \
    csrwi fflags, 0; op a0, fa1, fa2; CHECK_EQ(a0, exp); _CHECK_FFLAGS(flags)

/* Integer -> FP: op fa0, a1 [, rm] */
#define _TEST_INT_FP(W, op, exp, flags, a, ...) \
    TEST_LINE; li a1, a; csrwi fflags, 0; op fa0, a1 __VA_ARGS__; \
    fmv.x.W a0, fa0; li t6, exp; _SEXT_##W(t6); CHECK_EQ_REG(a0, t6); \
    _CHECK_FFLAGS(flags)

/* The public forms.  A trailing argument, if given, is the rounding mode:
 * TEST_FP_OP2_D(fadd.d, exp, flags, a, b, rtz) */
#define TEST_FP_OP1_S(op, exp, flags, a, ...)        _TEST_FP_OP1(w, op, exp, flags, a, __VA_OPT__(,) __VA_ARGS__)
#define TEST_FP_OP1_D(op, exp, flags, a, ...)        _TEST_FP_OP1(d, op, exp, flags, a, __VA_OPT__(,) __VA_ARGS__)
#define TEST_FP_OP2_S(op, exp, flags, a, b, ...)     _TEST_FP_OP2(w, op, exp, flags, a, b, __VA_OPT__(,) __VA_ARGS__)
#define TEST_FP_OP2_D(op, exp, flags, a, b, ...)     _TEST_FP_OP2(d, op, exp, flags, a, b, __VA_OPT__(,) __VA_ARGS__)
#define TEST_FP_OP3_S(op, exp, flags, a, b, c, ...)  _TEST_FP_OP3(w, op, exp, flags, a, b, c, __VA_OPT__(,) __VA_ARGS__)
#define TEST_FP_OP3_D(op, exp, flags, a, b, c, ...)  _TEST_FP_OP3(d, op, exp, flags, a, b, c, __VA_OPT__(,) __VA_ARGS__)
#define TEST_FP_INT_S(op, exp, flags, a, ...)        _TEST_FP_INT(w, op, exp, flags, a, __VA_OPT__(,) __VA_ARGS__)
#define TEST_FP_INT_D(op, exp, flags, a, ...)        _TEST_FP_INT(d, op, exp, flags, a, __VA_OPT__(,) __VA_ARGS__)
#define TEST_FP_CMP_S(op, exp, flags, a, b)          _TEST_FP_CMP(w, op, exp, flags, a, b)
#define TEST_FP_CMP_D(op, exp, flags, a, b)          _TEST_FP_CMP(d, op, exp, flags, a, b)
#define TEST_INT_FP_S(op, exp, flags, a, ...)        _TEST_INT_FP(w, op, exp, flags, a, __VA_OPT__(,) __VA_ARGS__)
#define TEST_INT_FP_D(op, exp, flags, a, ...)        _TEST_INT_FP(d, op, exp, flags, a, __VA_OPT__(,) __VA_ARGS__)

/* ------------------------------------------------------------------------
 * Traps.
 */

/* Run `insn...` expecting a synchronous trap with `cause`; execution resumes
 * in M-mode after it.  Checks cause, and that mepc pointed at the insn. */
#define TEST_TRAP(cause, ...) \
    TEST_LINE; la tp, 7f; 6: __VA_ARGS__; CHECK_FAIL; 7: \
    CHECK_EQ(s9, cause); la t4, 6b; CHECK_EQ_REG(s11, t4)

/* Same, also checking mtval. */
#define TEST_TRAP_TVAL(cause, tval, ...) \
    TEST_TRAP(cause, __VA_ARGS__); CHECK_EQ(s10, tval)

/* Enter a lower privilege mode at `label` from M-mode (interrupts off). */
#define GOTO_MODE(mpp, label) \
    li t0, MSTATUS_MPP | MSTATUS_MPIE; csrc mstatus, t0; \
    li t0, (mpp) << 11; csrs mstatus, t0; \
    la t0, label; csrw mepc, t0; mret

#define GOTO_S(label) GOTO_MODE(PRV_S, label)
#define GOTO_U(label) GOTO_MODE(PRV_U, label)

/* From S or U (traps not delegated): ecall back into M-mode at `label`. */
#define RETURN_TO_M(label) la tp, label; ecall

/* End of test_main. */
#define TEST_PASSFAIL j test_done

#endif
