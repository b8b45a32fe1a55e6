/* Sv48 translation: the Sv39-shaped subtree of paging.inc hung under a
 * four-level root, plus a 512GiB terapage and Sv48's canonical range. */
#include "harness.h"
#include "paging.inc"

    .text
    .globl test_main
test_main:
    la a0, l2_table; SET_PTE(l3_table, 0, a0, PTE_V)
    li a0, 0; SET_PTE(l3_table, 1, a0, PTE_LEAF(PTE_R | PTE_W))    /* VA 512GiB.. -> PA 0.. */
    la a0, l3_table; srli a0, a0, 12; li s0, SATP_MODE_SV48; or s0, s0, a0
    TEST_LINE; csrw satp, s0; csrr a0, satp; CHECK_EQ_REG(a0, s0); csrw satp, zero
    call paging_tests

    /* the terapage */
    TEST_LINE; ENTER_VM(PRV_S, 2f); la t0, page_a; li t1, 0x8000000000; add t0, t0, t1; ld a0, 0(t0); ecall
2:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL); CHECK_EQ(a0, PAGE_A_MAGIC)
    /* bits 63..48 must copy bit 47 */
    TEST_LINE; ENTER_VM(PRV_S, 2f); li t0, 0x0000800000000000; ld a0, 0(t0)
2:  CHECK_EQ(s9, CAUSE_LOAD_PAGE_FAULT); CHECK_EQ(s10, 0x0000800000000000)
    TEST_LINE; ENTER_VM(PRV_S, 2f); li t0, 0xffff800000000000; ld a0, 0(t0)   /* canonical, unmapped */
2:  CHECK_EQ(s9, CAUSE_LOAD_PAGE_FAULT)
    csrw satp, zero

    TEST_PASSFAIL


    .bss
    .align 12
l3_table: .space 4096
