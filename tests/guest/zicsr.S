/* Zicsr: csrrw/csrrs/csrrc and their immediate forms, the x0 special cases
 * (no read / no write side effects), read-only and unknown CSRs trapping. */
#include "harness.h"

    .text
    .globl test_main
test_main:
    /* --- register forms on mscratch --- */
    TEST_LINE; li a1, 0x1234; csrw mscratch, a1; csrr a0, mscratch; CHECK_EQ(a0, 0x1234)
    TEST_LINE; li a1, -1; csrrw a0, mscratch, a1; CHECK_EQ(a0, 0x1234)
    csrr a0, mscratch; CHECK_EQ(a0, -1)
    TEST_LINE; li a1, 0xff; csrrc a0, mscratch, a1; CHECK_EQ(a0, -1)
    csrr a0, mscratch; CHECK_EQ(a0, 0xffffffffffffff00)
    TEST_LINE; csrw mscratch, zero; li a1, 0xa0; csrrs a0, mscratch, a1; CHECK_EQ(a0, 0)
    li a1, 0x05; csrrs a0, mscratch, a1; CHECK_EQ(a0, 0xa0)
    csrr a0, mscratch; CHECK_EQ(a0, 0xa5)
    /* rd == rs1: the old value is returned, the new one comes from the old rs1 */
    TEST_LINE; li a0, 7; csrrw a0, mscratch, a0; CHECK_EQ(a0, 0xa5); csrr a1, mscratch; CHECK_EQ(a1, 7)

    /* --- immediate forms --- */
    TEST_LINE; csrrwi a0, mscratch, 31; CHECK_EQ(a0, 7); csrr a0, mscratch; CHECK_EQ(a0, 31)
    TEST_LINE; csrrci a0, mscratch, 0x11; CHECK_EQ(a0, 31); csrr a0, mscratch; CHECK_EQ(a0, 14)
    TEST_LINE; csrrsi a0, mscratch, 0x10; CHECK_EQ(a0, 14); csrr a0, mscratch; CHECK_EQ(a0, 30)
    TEST_LINE; csrwi mscratch, 0; csrsi mscratch, 3; csrci mscratch, 1; csrr a0, mscratch; CHECK_EQ(a0, 2)

    /* --- sscratch is a separate register --- */
    TEST_LINE; li a1, 0x5555; csrw sscratch, a1; csrr a0, mscratch; CHECK_EQ(a0, 2)
    csrr a0, sscratch; CHECK_EQ(a0, 0x5555)

    /* --- read-only CSRs: any write traps, tval is the instruction --- */
    TEST_TRAP_TVAL(CAUSE_ILLEGAL_INSTRUCTION, 0xf1459073, csrw mhartid, a1)     /* csrrw x0, mhartid, a1 */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrs a0, mvendorid, a1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrci a0, marchid, 1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrwi zero, mimpid, 0)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrw cycle, a1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrw time, a1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrw instret, zero)
    /* ... but csrrs/csrrc with rs1 = x0 (or uimm = 0) do not write, so they read fine */
    TEST_LINE; csrr a0, mhartid; CHECK_EQ(a0, 0)
    csrrc a0, mhartid, zero; CHECK_EQ(a0, 0)
    csrrsi a0, mhartid, 0; CHECK_EQ(a0, 0)
    csrrci a0, mvendorid, 0; CHECK_EQ(a0, 0)
    /* an unimplemented CSR number traps on read */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrr a0, 0x7ff)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrr a0, 0x5c0)
    /* the result register is not written when the access traps */
    TEST_LINE; li a0, 0x77; la tp, 1f; csrrw a0, mhartid, a1; 1: CHECK_EQ(a0, 0x77)

    /* --- WARL: mtvec keeps only legal modes (2 and 3 are reserved) --- */
    TEST_LINE; csrr s0, mtvec; li a1, -1; csrw mtvec, a1; csrr a0, mtvec; andi a0, a0, 2; CHECK_EQ(a0, 0)
    la a1, m_trap_probe; csrw mtvec, a1; csrr a0, mtvec; CHECK_EQ_REG(a0, a1)
    ori a1, a1, 1; csrw mtvec, a1; csrr a0, mtvec; CHECK_EQ_REG(a0, a1)    /* vectored */
    csrw mtvec, s0
    TEST_PASSFAIL

    .align 6
m_trap_probe:
    j m_trap_probe
