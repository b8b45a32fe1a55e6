/* Sv39 translation: 4KiB pages, megapages, gigapages, permissions (R/W/X,
 * U/SUM/MXR), hardware A/D updates, sfence.vma, satp mode switching, MPRV,
 * and non-canonical addresses.  The shared part is in paging.inc. */
#include "harness.h"
#include "paging.inc"

    .text
    .globl test_main
test_main:
    la a0, l2_table; srli a0, a0, 12; li s0, SATP_MODE_SV39; or s0, s0, a0
    call paging_tests

    /* bits 63..39 must copy bit 38 */
    TEST_LINE; ENTER_VM(PRV_S, 2f); li t0, 0x8000000000; ld a0, 0(t0)
2:  CHECK_EQ(s9, CAUSE_LOAD_PAGE_FAULT); CHECK_EQ(s10, 0x8000000000)
    TEST_LINE; ENTER_VM(PRV_S, 2f); li t0, 0xffffffc000001000; ld a0, 0(t0)   /* canonical, unmapped */
2:  CHECK_EQ(s9, CAUSE_LOAD_PAGE_FAULT); CHECK_EQ(s10, 0xffffffc000001000)
    csrw satp, zero

    TEST_PASSFAIL

