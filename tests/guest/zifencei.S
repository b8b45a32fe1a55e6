/* Zifencei: self-modifying code made visible with fence.i — a routine in
 * RAM rewritten and re-run, code rewritten just ahead of the running
 * instruction stream, and a routine assembled from scratch. */
#include "harness.h"

#define ADDI_A0_ZERO(imm)  ((((imm) & 0xfff) << 20) | (10 << 7) | 0x13)   /* addi a0, zero, imm */
#define RET                0x00008067                                   /* jalr zero, 0(ra) */

    .option norvc             /* the rewritten instructions are 4 bytes */
    .text
    .globl test_main
test_main:
    /* --- rewrite a routine that has already run --- */
    TEST_LINE; call smc_routine; CHECK_EQ(a0, 1)
    la a1, smc_routine; li a2, ADDI_A0_ZERO(2); sw a2, 0(a1); fence.i
    call smc_routine; CHECK_EQ(a0, 2)
    /* several rewrites in a loop, each made visible by fence.i */
    TEST_LINE; li s0, 100; li s1, 0
1:  la a1, smc_routine; slli a2, s0, 20; li a3, ADDI_A0_ZERO(0); or a2, a2, a3
    sw a2, 0(a1); fence.i; call smc_routine; add s1, s1, a0
    addi s0, s0, -1; bnez s0, 1b
    CHECK_EQ(s1, 5050)

    /* --- rewrite the instruction just ahead of the one running --- */
    TEST_LINE; la a1, 2f; li a2, ADDI_A0_ZERO(42); sw a2, 0(a1); fence.i
2:  li a0, 7                     /* replaced by addi a0, zero, 42 */
    CHECK_EQ(a0, 42)

    /* --- build a routine from nothing in a data buffer --- */
    TEST_LINE; la a1, code_buf; li a2, ADDI_A0_ZERO(-5); sw a2, 0(a1); li a2, RET; sw a2, 4(a1)
    fence.i; jalr ra, 0(a1); CHECK_EQ(a0, -5)
    /* and a compressed one: c.li a0, 9 ; c.jr ra */
    TEST_LINE; la a1, code_buf; li a2, 0x8082 << 16 | 0x4525; sw a2, 0(a1)
    fence.i; jalr ra, 0(a1); CHECK_EQ(a0, 9)

    TEST_PASSFAIL

smc_routine:
    li a0, 1
    ret

    .data
    .align 4
code_buf:
    .space 64
