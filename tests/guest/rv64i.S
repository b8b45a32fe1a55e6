/* RV64I: arithmetic, logic, shifts, *W ops, lui/auipc, loads and stores
 * (signed/unsigned, misaligned within a page), branches, jal/jalr. */
#include "harness.h"

    .text
    .globl test_main
test_main:
    /* --- add/sub/addi and overflow wrap-around --- */
    TEST_RR(add, 0, 0, 0)
    TEST_RR(add, 3, 1, 2)
    TEST_RR(add, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_RR(add, 0xfffffffffffffffe, -1, -1)
    TEST_RR_ALIAS(add, 0x100000000, 0xffffffff, 1)
    TEST_RR(sub, 0xffffffffffffffff, 0, 1)
    TEST_RR(sub, 0x7fffffffffffffff, 0x8000000000000000, 1)
    TEST_RR_ALIAS(sub, 2, 5, 3)
    TEST_IMM(addi, 0x7ff, 0, 2047)
    TEST_IMM(addi, 0xfffffffffffff800, 0, -2048)
    TEST_IMM(addi, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_IMM(addi, 0, 1, -1)

    /* --- logic --- */
    TEST_RR(and, 0x0f000f00, 0xff00ff00, 0x0ff00ff0)
    TEST_RR(or, 0xfff0fff0, 0xff00ff00, 0x0ff00ff0)
    TEST_RR(xor, 0xf0f0f0f0, 0xff00ff00, 0x0ff00ff0)
    TEST_IMM(andi, 0xff00ff00, 0xff00ff00, -1)
    TEST_IMM(andi, 0x700, 0xff00ff00, 0x70f)
    TEST_IMM(ori, 0xfffffffffffff80f, 0x0f, -2048)
    TEST_IMM(xori, 0xffff00ff00ff00ff, 0x0000ff00ff00ff00, -1)
    TEST_IMM(xori, 0x00ff00ff00ff070f, 0x00ff00ff00ff00ff, 0x7f0)

    /* --- set-less-than --- */
    TEST_RR(slt, 1, -1, 0)
    TEST_RR(slt, 0, 0, -1)
    TEST_RR(slt, 0, 5, 5)
    TEST_RR(slt, 1, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(sltu, 0, -1, 0)
    TEST_RR(sltu, 1, 0, -1)
    TEST_RR(sltu, 0, 5, 5)
    TEST_IMM(slti, 1, -5, -4)
    TEST_IMM(slti, 0, 0x7ff, 0x7ff)
    TEST_IMM(sltiu, 1, 0, -1)          /* imm sign-extends, then compares unsigned */
    TEST_IMM(sltiu, 0, -1, -1)
    TEST_IMM(sltiu, 1, 0, 1)           /* seqz */
    TEST_IMM(sltiu, 0, 7, 1)

    /* --- shifts: amounts 0, 1, 31, 63; register shifts use 6 bits --- */
    TEST_RR(sll, 0x8000000000000001, 0x8000000000000001, 0)
    TEST_RR(sll, 0x2, 1, 1)
    TEST_RR(sll, 0x80000000, 1, 31)
    TEST_RR(sll, 0x8000000000000000, 1, 63)
    TEST_RR(sll, 0x2, 1, 65)
    TEST_RR(srl, 0x8000000000000001, 0x8000000000000001, 0)
    TEST_RR(srl, 0x0000000100000000, 0x8000000000000000, 31)
    TEST_RR(srl, 1, 0x8000000000000000, 63)
    TEST_RR(srl, 0x4000000000000000, 0x8000000000000000, 0xffffffffffffffc1)
    TEST_RR(sra, 0xffffffff00000000, 0x8000000000000000, 31)
    TEST_RR(sra, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_RR(sra, 0x3fffffffffffffff, 0x7fffffffffffffff, 1)
    TEST_IMM(slli, 0xffffffffffffffff, 0xffffffffffffffff, 0)
    TEST_IMM(slli, 0xffffffff80000000, 0xffffffffffffffff, 31)
    TEST_IMM(slli, 0x8000000000000000, 0xffffffffffffffff, 63)
    TEST_IMM(srli, 0x1ffffffff, 0xffffffffffffffff, 31)
    TEST_IMM(srli, 1, 0xffffffffffffffff, 63)
    TEST_IMM(srai, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_IMM(srai, 0xffffffff00000000, 0x8000000000000000, 31)
    TEST_IMM(srai, 0x0000000080000000, 0x0000000100000000, 1)

    /* --- *W ops: 32-bit result, sign-extended --- */
    TEST_RR(addw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_RR(addw, 0, 0xffffffff, 1)
    TEST_RR(addw, 0x12345678, 0xabcdef0012345678, 0)
    TEST_RR(subw, 0x7fffffff, 0x80000000, 1)
    TEST_RR(subw, 0xffffffffffffffff, 0, 1)
    TEST_IMM(addiw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_IMM(addiw, 0x000000007ffffffe, 0xffffffff7fffffff, -1)
    TEST_IMM(addiw, 0xffffffffffffffff, 0xffffffff, 0)     /* sext.w */
    TEST_RR(sllw, 0xffffffff80000000, 1, 31)
    TEST_RR(sllw, 1, 1, 32)                                /* 5-bit shift amount */
    TEST_RR(sllw, 0xffffffffabcd0000, 0x1234abcd, 16)
    TEST_RR(srlw, 0x1, 0xffffffff80000000, 31)
    TEST_RR(srlw, 0xffffffff80000000, 0x80000000, 0)
    TEST_RR(srlw, 0x7fffffff, 0xfffffffffffffffe, 33)
    TEST_RR(sraw, 0xffffffffffffffff, 0x80000000, 31)
    TEST_RR(sraw, 0xffffffffc0000000, 0x80000000, 1)
    TEST_RR(sraw, 0x3fffffff, 0xffffffff7fffffff, 1)
    TEST_IMM(slliw, 0xffffffff80000000, 1, 31)
    TEST_IMM(slliw, 0x12345678, 0xffffffff12345678, 0)
    TEST_IMM(srliw, 1, 0x80000000, 31)
    TEST_IMM(srliw, 0xffffffff80000000, 0x80000000, 0)
    TEST_IMM(sraiw, 0xffffffffffffffff, 0x80000000, 31)
    TEST_IMM(sraiw, 0x7fffffff, 0x7fffffff, 0)

    /* --- lui / auipc --- */
    TEST_LINE; lui a0, 0; CHECK_EQ(a0, 0)
    TEST_LINE; lui a0, 0x80000; CHECK_EQ(a0, 0xffffffff80000000)
    TEST_LINE; lui a0, 0x7ffff; CHECK_EQ(a0, 0x7ffff000)
    TEST_LINE; lui a0, 0xfffff; CHECK_EQ(a0, 0xfffffffffffff000)
    TEST_LINE; 1: auipc a0, 0; la a1, 1b; CHECK_EQ_REG(a0, a1)
    TEST_LINE; 1: auipc a0, 1; la a1, 1b + 0x1000; CHECK_EQ_REG(a0, a1)
    TEST_LINE; 1: auipc a0, 0xfffff; la a1, 1b - 0x1000; CHECK_EQ_REG(a0, a1)

    /* --- x0 is hard-wired --- */
    TEST_LINE; addi x0, x0, 5; li a0, 7; add x0, a0, a0; CHECK_EQ(x0, 0)
    TEST_LINE; lui x0, 1; CHECK_EQ(zero, 0)

    /* --- loads: load_data bytes are 81 92 a3 b4 c5 d6 e7 f8 71 62 53 44 35 26 17 08 --- */
    TEST_LOAD(lb, 0xffffffffffffff81, load_data, 0)
    TEST_LOAD(lb, 0xfffffffffffffff8, load_data, 7)
    TEST_LOAD(lb, 0x71, load_data, 8)
    TEST_LOAD(lbu, 0x81, load_data, 0)
    TEST_LOAD(lbu, 0xf8, load_data, 7)
    TEST_LOAD(lh, 0xffffffffffff9281, load_data, 0)
    TEST_LOAD(lh, 0x6271, load_data, 8)
    TEST_LOAD(lhu, 0x9281, load_data, 0)
    TEST_LOAD(lhu, 0xf8e7, load_data, 6)
    TEST_LOAD(lw, 0xffffffffb4a39281, load_data, 0)
    TEST_LOAD(lw, 0x44536271, load_data, 8)
    TEST_LOAD(lwu, 0xb4a39281, load_data, 0)
    TEST_LOAD(lwu, 0xf8e7d6c5, load_data, 4)
    TEST_LOAD(ld, 0xf8e7d6c5b4a39281, load_data, 0)
    TEST_LOAD(ld, 0x0817263544536271, load_data, 8)
    TEST_LOAD(lb, 0xfffffffffffffff8, load_data + 8, -1)   /* negative offsets */
    TEST_LOAD(ld, 0xf8e7d6c5b4a39281, load_data + 8, -8)
    TEST_LOAD(lw, 0xfffffffff8e7d6c5, load_data + 2048, -2044)
    /* misaligned within a page */
    TEST_LOAD(lh, 0xffffffffffffa392, load_data, 1)
    TEST_LOAD(lhu, 0x71f8, load_data, 7)
    TEST_LOAD(lw, 0xffffffffc5b4a392, load_data, 1)
    TEST_LOAD(lwu, 0x71f8e7d6, load_data, 5)
    TEST_LOAD(ld, 0x536271f8e7d6c5b4, load_data, 3)
    /* loading into x0 discards the value */
    TEST_LINE; la a1, load_data; ld x0, 0(a1); CHECK_EQ(x0, 0)

    /* --- stores (read back), including misaligned --- */
    TEST_STORE(sb, ld, 0x00000000000000ef, 0xdeadbeef, store_buf, 0)
    TEST_STORE(sb, lb, 0xffffffffffffff80, 0x80, store_buf, 1)
    TEST_STORE(sh, lh, 0xffffffffffffbeef, 0xdeadbeef, store_buf, 2)
    TEST_STORE(sh, lhu, 0xbeef, 0xdeadbeef, store_buf, 2)
    TEST_STORE(sw, lw, 0xffffffffdeadbeef, 0x12345678deadbeef, store_buf, 4)
    TEST_STORE(sw, lwu, 0xdeadbeef, 0x12345678deadbeef, store_buf, 4)
    TEST_STORE(sd, ld, 0x0123456789abcdef, 0x0123456789abcdef, store_buf, 8)
    TEST_STORE(sd, ld, 0xfedcba9876543210, 0xfedcba9876543210, store_buf + 32, -16)
    TEST_STORE(sh, lhu, 0xa55a, 0xa55a, store_buf, 17)
    TEST_STORE(sw, lwu, 0x89abcdef, 0x89abcdef, store_buf, 19)
    TEST_STORE(sd, ld, 0x1122334455667788, 0x1122334455667788, store_buf, 37)
    /* a sub-word store leaves its neighbours alone */
    TEST_LINE; la a1, store_buf; li a2, -1; sd a2, 48(a1); sb zero, 50(a1); sh zero, 52(a1)
    ld a0, 48(a1); CHECK_EQ(a0, 0xffff0000ff00ffff)
    /* misaligned store, then aligned reads of both halves */
    TEST_LINE; la a1, store_buf; sd zero, 64(a1); sd zero, 72(a1); li a2, 0x8877665544332211
    sd a2, 68(a1); ld a0, 64(a1); CHECK_EQ(a0, 0x4433221100000000)
    ld a0, 72(a1); CHECK_EQ(a0, 0x0000000088776655)

    /* --- branches, both ways, signed and unsigned --- */
    TEST_BRANCH_TAKEN(beq, 5, 5)
    TEST_BRANCH_NOT_TAKEN(beq, 5, 6)
    TEST_BRANCH_TAKEN(bne, 0, -1)
    TEST_BRANCH_NOT_TAKEN(bne, -1, -1)
    TEST_BRANCH_TAKEN(blt, -1, 0)
    TEST_BRANCH_NOT_TAKEN(blt, 0, -1)
    TEST_BRANCH_NOT_TAKEN(blt, 3, 3)
    TEST_BRANCH_TAKEN(blt, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BRANCH_TAKEN(bge, 0, -1)
    TEST_BRANCH_TAKEN(bge, 3, 3)
    TEST_BRANCH_NOT_TAKEN(bge, -1, 0)
    TEST_BRANCH_TAKEN(bltu, 0, -1)
    TEST_BRANCH_NOT_TAKEN(bltu, -1, 0)
    TEST_BRANCH_NOT_TAKEN(bltu, 3, 3)
    TEST_BRANCH_TAKEN(bgeu, -1, 0)
    TEST_BRANCH_TAKEN(bgeu, 3, 3)
    TEST_BRANCH_NOT_TAKEN(bgeu, 0, -1)
    /* a backward branch loop */
    TEST_LINE; li a0, 0; li a1, 10
1:  addi a0, a0, 3; addi a1, a1, -1; bnez a1, 1b
    CHECK_EQ(a0, 30)

    /* --- jal / jalr --- */
    TEST_LINE; jal ra, 1f
2:  CHECK_FAIL
1:  la a1, 2b; CHECK_EQ_REG(ra, a1)
    TEST_LINE; jal x0, 1f; CHECK_FAIL; 1:
    /* jal backwards */
    TEST_LINE; j 3f
1:  la a1, 2f; CHECK_EQ_REG(a0, a1); j 4f
3:  jal a0, 1b
2:  CHECK_FAIL
4:
    /* jalr clears bit 0 of the target */
    TEST_LINE; la a1, 1f + 1; jalr ra, 0(a1)
2:  CHECK_FAIL
1:  la a2, 2b; CHECK_EQ_REG(ra, a2)
    /* jalr with an offset; the odd bit may come from the offset */
    TEST_LINE; la a1, 1f - 5; jalr a3, 5(a1); CHECK_FAIL; 1:
    TEST_LINE; la a1, 1f + 2000; jalr a3, -1999(a1); CHECK_FAIL; 1:
    /* rd == rs1: the target uses the old value */
    TEST_LINE; la a1, 1f; jalr a1, 0(a1)
2:  CHECK_FAIL
1:  la a2, 2b; CHECK_EQ_REG(a1, a2)

    /* --- fence is a no-op for a single hart --- */
    TEST_LINE; fence; fence rw, rw; fence.tso; fence iorw, iorw; li a0, 1; CHECK_EQ(a0, 1)

    TEST_PASSFAIL

    .data
    .align 4
load_data:
    .dword 0xf8e7d6c5b4a39281
    .dword 0x0817263544536271
    .space 2048

    .bss
    .align 4
store_buf:
    .space 128
