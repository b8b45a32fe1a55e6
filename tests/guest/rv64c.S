/* RV64C: every compressed instruction, mixed 16/32-bit instruction streams
 * (32-bit instructions at 2-byte-aligned addresses), c.ebreak trapping. */
#include "harness.h"

    .option rvc
    .text
    .globl test_main
test_main:
    la sp, cbuf + 512               /* sp-relative forms work on cbuf */

    /* --- CI/CIW immediates --- */
    TEST_LINE; c.li a0, 31; CHECK_EQ(a0, 31)
    TEST_LINE; c.li a0, -32; CHECK_EQ(a0, -32)
    TEST_LINE; c.lui a0, 0x1f; CHECK_EQ(a0, 0x1f000)
    TEST_LINE; c.lui a0, 0xfffe0; CHECK_EQ(a0, 0xfffffffffffe0000)
    TEST_LINE; c.lui s1, 1; CHECK_EQ(s1, 0x1000)
    TEST_LINE; c.li a0, 5; c.addi a0, -6; CHECK_EQ(a0, -1)
    TEST_LINE; c.li a0, 1; c.addi a0, 31; CHECK_EQ(a0, 32)
    TEST_LINE; li a0, 0x7fffffff; c.addiw a0, 1; CHECK_EQ(a0, 0xffffffff80000000)
    TEST_LINE; li a0, 0x1ffffffff; c.addiw a0, 0; CHECK_EQ(a0, -1)     /* sext.w */
    TEST_LINE; c.addi16sp sp, -64; la a0, cbuf + 448; CHECK_EQ_REG(sp, a0)
    c.addi16sp sp, 496; la a0, cbuf + 944; CHECK_EQ_REG(sp, a0)
    c.addi16sp sp, -432; la a0, cbuf + 512; CHECK_EQ_REG(sp, a0)
    TEST_LINE; c.addi4spn a0, sp, 4; la a1, cbuf + 516; CHECK_EQ_REG(a0, a1)
    c.addi4spn s0, sp, 1020; la a1, cbuf + 1532; CHECK_EQ_REG(s0, a1)
    TEST_LINE; c.nop; c.li a0, 1; CHECK_EQ(a0, 1)

    /* --- shifts and ALU --- */
    TEST_LINE; li a0, 1; c.slli a0, 63; CHECK_EQ(a0, 0x8000000000000000)
    TEST_LINE; li a0, 3; c.slli a0, 1; CHECK_EQ(a0, 6)
    TEST_LINE; li a2, -1; c.slli a2, 32; CHECK_EQ(a2, 0xffffffff00000000)
    TEST_LINE; li a0, 0x8000000000000000; c.srli a0, 63; CHECK_EQ(a0, 1)
    TEST_LINE; li a0, 0x8000000000000000; c.srli a0, 32; CHECK_EQ(a0, 0x80000000)
    TEST_LINE; li a0, 0x8000000000000000; c.srai a0, 63; CHECK_EQ(a0, -1)
    TEST_LINE; li a0, 0x8000000000000000; c.srai a0, 1; CHECK_EQ(a0, 0xc000000000000000)
    TEST_LINE; li a0, 0xff; c.andi a0, -16; CHECK_EQ(a0, 0xf0)
    TEST_LINE; li a0, 0xff; c.andi a0, 15; CHECK_EQ(a0, 0xf)
    TEST_LINE; li a0, 10; li a1, 3; c.sub a0, a1; CHECK_EQ(a0, 7)
    TEST_LINE; li a0, 0xff00; li a1, 0x0ff0; c.xor a0, a1; CHECK_EQ(a0, 0xf0f0)
    TEST_LINE; li a0, 0xff00; li a1, 0x0ff0; c.or a0, a1; CHECK_EQ(a0, 0xfff0)
    TEST_LINE; li a0, 0xff00; li a1, 0x0ff0; c.and a0, a1; CHECK_EQ(a0, 0x0f00)
    TEST_LINE; li a0, 0x80000000; li a1, 1; c.subw a0, a1; CHECK_EQ(a0, 0x7fffffff)
    TEST_LINE; li a0, 0; li a1, 1; c.subw a0, a1; CHECK_EQ(a0, -1)
    TEST_LINE; li a0, 0x7fffffff; li a1, 1; c.addw a0, a1; CHECK_EQ(a0, 0xffffffff80000000)
    TEST_LINE; li s0, 0x100000000; li a5, 1; c.addw s0, a5; CHECK_EQ(s0, 1)
    TEST_LINE; li t0, 5; c.mv a0, t0; CHECK_EQ(a0, 5)
    TEST_LINE; li t0, 5; li t1, 6; c.add t0, t1; CHECK_EQ(t0, 11)
    TEST_LINE; li s2, -1; li s3, 2; c.add s2, s3; CHECK_EQ(s2, 1)

    /* --- loads and stores (register and sp-relative) --- */
    TEST_LINE; la s0, cbuf; li a0, 0x0123456789abcdef; li a1, 0xfedcba98
    c.sd a0, 8(s0); c.sw a1, 4(s0); c.ld a2, 8(s0); CHECK_EQ(a2, 0x0123456789abcdef)
    c.lw a3, 4(s0); CHECK_EQ(a3, 0xfffffffffedcba98)
    c.sd a0, 248(s0); c.ld a4, 248(s0); CHECK_EQ(a4, 0x0123456789abcdef)
    c.sw a1, 124(s0); c.lw a4, 124(s0); CHECK_EQ(a4, 0xfffffffffedcba98)
    TEST_LINE; li a0, 0x4009 << 48; fmv.d.x fa0, a0; c.fsd fa0, 16(s0); ld a1, 16(s0); CHECK_EQ_REG(a1, a0)
    li a2, 0x3ff0000000000000; sd a2, 24(s0); c.fld fa1, 24(s0); fmv.x.d a3, fa1; CHECK_EQ_REG(a3, a2)
    c.fsd fa1, 248(s0); c.fld fa2, 248(s0); fmv.x.d a3, fa2; CHECK_EQ_REG(a3, a2)
    TEST_LINE; li a0, 0x1122334455667788; c.sdsp a0, 0(sp); c.ldsp a1, 0(sp); CHECK_EQ(a1, 0x1122334455667788)
    c.sdsp a0, 504(sp); c.ldsp t3, 504(sp); CHECK_EQ(t3, 0x1122334455667788)
    c.swsp a0, 252(sp); c.lwsp a2, 252(sp); CHECK_EQ(a2, 0x55667788)
    li a0, 0x80000000; c.swsp a0, 8(sp); c.lwsp ra, 8(sp); CHECK_EQ(ra, 0xffffffff80000000)
    ld a1, 0(sp); CHECK_EQ(a1, 0x1122334455667788)
    TEST_LINE; li a0, 0xc000000000000000; fmv.d.x fa3, a0; c.fsdsp fa3, 16(sp)
    c.fldsp ft0, 16(sp); fmv.x.d a1, ft0; CHECK_EQ_REG(a1, a0)
    c.fsdsp fa3, 504(sp); c.fldsp ft1, 504(sp); fmv.x.d a1, ft1; CHECK_EQ_REG(a1, a0)

    /* --- control transfer --- */
    TEST_LINE; c.j 1f; CHECK_FAIL; 1:
    TEST_LINE; li a0, 0; c.beqz a0, 1f; CHECK_FAIL; 1:
    TEST_LINE; li a0, 1; c.beqz a0, 1f; j 2f; 1: CHECK_FAIL; 2:
    TEST_LINE; li s1, -1; c.bnez s1, 1f; CHECK_FAIL; 1:
    TEST_LINE; li s1, 0; c.bnez s1, 1f; j 2f; 1: CHECK_FAIL; 2:
    /* backward c.j and c.bnez loop */
    TEST_LINE; li a0, 0; li a1, 5
1:  c.addi a0, 2; c.addi a1, -1; c.bnez a1, 1b
    CHECK_EQ(a0, 10)
    TEST_LINE; la t0, 1f; c.jr t0; CHECK_FAIL; 1:
    TEST_LINE; la t0, 1f; c.jalr t0
2:  CHECK_FAIL
1:  la t1, 2b; CHECK_EQ_REG(ra, t1)
    /* c.jalr where rs1 = ra: the target uses the old ra */
    TEST_LINE; la ra, 1f; c.jalr ra
2:  CHECK_FAIL
1:  la t1, 2b; CHECK_EQ_REG(ra, t1)

    /* --- 32-bit instructions at 2-byte-aligned addresses --- */
    TEST_LINE; .balign 4; c.nop; li a0, 0x12345; addi a0, a0, 1; c.addi a0, 1; CHECK_EQ(a0, 0x12347)
    /* a jump to a halfword-aligned target */
    TEST_LINE; .balign 4; la t0, 1f; jr t0; c.nop
1:  c.li a0, 3; CHECK_EQ(a0, 3)
    la t0, 3f; jalr ra, 0(t0)
2:  CHECK_FAIL
    .balign 4
    c.nop
3:  la t1, 2b; CHECK_EQ_REG(ra, t1); andi t1, t0, 3; CHECK_EQ(t1, 2)

    /* --- c.ebreak: breakpoint, epc at the 2-byte instruction --- */
    TEST_TRAP(CAUSE_BREAKPOINT, c.ebreak)
    /* an all-zero halfword is illegal, tval is the (16-bit) instruction */
    TEST_TRAP_TVAL(CAUSE_ILLEGAL_INSTRUCTION, 0, .half 0)
    /* c.addi4spn with a zero immediate is reserved */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, .half 0x0008)

    TEST_PASSFAIL

    .bss
    .align 4
cbuf:
    .space 2048
