/* Physical memory protection: NAPOT and TOR regions, priority by entry
 * number, S/U accesses checked and M accesses not (unless locked), the
 * fault causes and tvals, and no-match denial for S/U. */
#include "harness.h"

#define PMP_R     0x01
#define PMP_W     0x02
#define PMP_X     0x04
#define PMP_TOR   (1 << 3)
#define PMP_NAPOT (3 << 3)
#define PMP_L     0x80
#define NAPOT_4K(reg)  srli reg, reg, 2; ori reg, reg, 0x1ff

/* Run what follows in S; the first trap resumes in M at `resume`. */
#define ENTER_S(resume) la tp, resume; GOTO_S(1f); 1:

    .text
    .globl test_main
test_main:
    /* entry 0: ro_page read-only (NAPOT); entries 1-2: no_page no access (TOR);
     * entry 3: all of memory RWX, the fallback */
    la a0, ro_page; NAPOT_4K(a0); csrw pmpaddr0, a0
    la a0, no_page; srli a0, a0, 2; csrw pmpaddr1, a0
    la a0, no_page + 4096; srli a0, a0, 2; csrw pmpaddr2, a0
    li a0, -1; csrw pmpaddr3, a0
    li a0, (PMP_NAPOT | PMP_R) | (0 << 8) | (PMP_TOR << 16) | ((PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 24)
    csrw pmpcfg0, a0
    TEST_LINE; csrr a1, pmpcfg0; CHECK_EQ_REG(a1, a0)
    la a2, ro_page; NAPOT_4K(a2); csrr a1, pmpaddr0; CHECK_EQ_REG(a1, a2)
    la a2, no_page + 4096; srli a2, a2, 2; csrr a1, pmpaddr2; CHECK_EQ_REG(a1, a2)
    la a0, ro_page; li a1, 0x600d; sd a1, 0(a0)           /* M ignores unlocked entries */

    /* --- S: reads allowed, writes and fetches denied on ro_page --- */
    TEST_LINE; ENTER_S(2f); la t0, ro_page; ld a0, 0(t0); ecall
2:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL); CHECK_EQ(a0, 0x600d)
    TEST_LINE; ENTER_S(2f); la t0, ro_page + 8; sd a0, 0(t0)
2:  CHECK_EQ(s9, CAUSE_STORE_ACCESS); la t4, ro_page + 8; CHECK_EQ_REG(s10, t4)
    TEST_LINE; ENTER_S(2f); la t0, ro_page + 16; amoadd.d a0, a0, (t0)
2:  CHECK_EQ(s9, CAUSE_STORE_ACCESS)
    TEST_LINE; ENTER_S(2f); la t0, ro_page; jr t0
2:  CHECK_EQ(s9, CAUSE_FETCH_ACCESS); la t4, ro_page; CHECK_EQ_REG(s10, t4)
    /* a region's last byte is inside it, the next byte is not */
    TEST_LINE; ENTER_S(2f); la t0, ro_page + 4096; sd a0, -8(t0); sd a0, 0(t0); ecall
2:  CHECK_EQ(s9, CAUSE_STORE_ACCESS); la t4, ro_page + 4088; CHECK_EQ_REG(s10, t4)
    TEST_LINE; ENTER_S(2f); la t0, ro_page + 4096; sd a0, 0(t0); ecall
2:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL)

    /* --- TOR region with no permissions --- */
    TEST_LINE; ENTER_S(2f); la t0, no_page + 64; ld a0, 0(t0)
2:  CHECK_EQ(s9, CAUSE_LOAD_ACCESS); la t4, no_page + 64; CHECK_EQ_REG(s10, t4)
    TEST_LINE; ENTER_S(2f); la t0, no_page - 8; ld a0, 0(t0); ecall     /* just below: fallback */
2:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL)
    TEST_LINE; la tp, 2f; GOTO_U(3f)
3:  la t0, no_page + 4092; lw a0, 0(t0)
2:  CHECK_EQ(s9, CAUSE_LOAD_ACCESS)
    /* M is unaffected */
    TEST_LINE; la t0, no_page; li a0, 5; sd a0, 0(t0); ld a1, 0(t0); CHECK_EQ(a1, 5)

    /* --- no matching entry: S and U are denied --- */
    li a0, PMP_NAPOT | PMP_R; csrw pmpcfg0, a0            /* only entry 0 left */
    TEST_LINE; la tp, 2f; GOTO_S(3f)
3:  nop
2:  CHECK_EQ(s9, CAUSE_FETCH_ACCESS)

    /* --- a locked entry binds M too, and can no longer be changed --- */
    li a0, ((PMP_NAPOT | PMP_R | PMP_L)) | ((PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 24); csrw pmpcfg0, a0
    TEST_LINE; la t0, ro_page; ld a1, 0(t0); CHECK_EQ(a1, 0x600d)
    TEST_TRAP(CAUSE_STORE_ACCESS, sd a1, 0(t0))
    TEST_LINE; li a0, -1; csrw pmpaddr0, a0; csrr a1, pmpaddr0; la a2, ro_page; NAPOT_4K(a2); CHECK_EQ_REG(a1, a2)
    csrr a1, pmpcfg0; andi a1, a1, 0xff; CHECK_EQ(a1, PMP_NAPOT | PMP_R | PMP_L)
    li a0, 0xff; csrc pmpcfg0, a0; csrr a1, pmpcfg0; andi a1, a1, 0xff; CHECK_EQ(a1, PMP_NAPOT | PMP_R | PMP_L)

    TEST_PASSFAIL

    .bss
    .align 12
ro_page: .space 4096
spacer:  .space 4096
no_page: .space 4096
