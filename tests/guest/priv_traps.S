/* Privileged traps: ecall/ebreak from M, S and U with their causes, illegal
 * instructions (mtval = the instruction bits), privilege violations,
 * access faults, medeleg delegation to S, and what trap entry, mret and
 * sret do to MPP/SPP/MIE/SIE/MPIE/SPIE/MPRV. */
#include "harness.h"

/* Run what follows in `mode`; the first trap not delegated to S resumes in
 * M-mode at `resume`. */
#define ENTER(mode, resume) la tp, resume; GOTO_MODE(mode, 1f); 1:

    .text
    .globl test_main
test_main:
    /* --- environment calls and breakpoints --- */
    TEST_TRAP(CAUSE_MACHINE_ECALL, ecall)
    TEST_TRAP(CAUSE_BREAKPOINT, ebreak)
    TEST_LINE; ENTER(PRV_S, 2f); 3: ecall
2:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL); CHECK_EQ(s8, PRV_M); CHECK_EQ(s10, 0)
    la t4, 3b; CHECK_EQ_REG(s11, t4)
    TEST_LINE; ENTER(PRV_U, 2f); 3: ecall
2:  CHECK_EQ(s9, CAUSE_USER_ECALL); la t4, 3b; CHECK_EQ_REG(s11, t4)
    TEST_LINE; ENTER(PRV_S, 2f); ebreak
2:  CHECK_EQ(s9, CAUSE_BREAKPOINT)
    TEST_LINE; ENTER(PRV_U, 2f); ebreak
2:  CHECK_EQ(s9, CAUSE_BREAKPOINT)

    /* --- illegal instructions: mtval holds the instruction --- */
    TEST_TRAP_TVAL(CAUSE_ILLEGAL_INSTRUCTION, 0x0000000b, .word 0x0000000b)   /* custom-0 */
    TEST_TRAP_TVAL(CAUSE_ILLEGAL_INSTRUCTION, 0x00000000, .word 0)
    TEST_TRAP_TVAL(CAUSE_ILLEGAL_INSTRUCTION, 0x3020007f, .word 0x3020007f)
    TEST_TRAP_TVAL(CAUSE_ILLEGAL_INSTRUCTION, 0xc0001073, .word 0xc0001073)   /* csrw cycle, zero */

    /* --- privilege violations --- */
    TEST_LINE; ENTER(PRV_S, 2f); 3: csrr a0, mstatus                  /* M CSR from S */
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION); CHECK_EQ(s10, 0x30002573); la t4, 3b; CHECK_EQ_REG(s11, t4)
    TEST_LINE; ENTER(PRV_S, 2f); mret
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION); CHECK_EQ(s10, 0x30200073)
    TEST_LINE; ENTER(PRV_U, 2f); sret
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION); CHECK_EQ(s10, 0x10200073)
    TEST_LINE; ENTER(PRV_U, 2f); csrr a0, sstatus
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION)
    TEST_LINE; ENTER(PRV_U, 2f); wfi
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION); CHECK_EQ(s10, 0x10500073)
    TEST_LINE; ENTER(PRV_U, 2f); sfence.vma
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION)
    /* the S-level controls in mstatus: TSR, TVM, TW */
    TEST_LINE; li a0, MSTATUS_TSR; csrs mstatus, a0; ENTER(PRV_S, 2f); la t0, 3f; csrw sepc, t0; sret
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION); CHECK_EQ(s10, 0x10200073); j 4f
3:  CHECK_FAIL
4:  li a0, MSTATUS_TSR; csrc mstatus, a0
    TEST_LINE; li a0, MSTATUS_TVM; csrs mstatus, a0; ENTER(PRV_S, 2f); csrr a0, satp
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION)
    ENTER(PRV_S, 2f); sfence.vma
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION); li a0, MSTATUS_TVM; csrc mstatus, a0
    TEST_LINE; li a0, MSTATUS_TW; csrs mstatus, a0; ENTER(PRV_S, 2f); wfi
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION); li a0, MSTATUS_TW; csrc mstatus, a0
    /* without those bits S may use satp and sfence.vma */
    TEST_LINE; ENTER(PRV_S, 2f); csrr a0, satp; sfence.vma; ecall
2:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL)

    /* --- access faults on unmapped physical addresses --- */
    li a1, 0x0
    TEST_TRAP(CAUSE_LOAD_ACCESS, ld a0, 0(a1)); CHECK_EQ(s10, 0)
    li a1, 0x100
    TEST_TRAP(CAUSE_STORE_ACCESS, sd a0, 0(a1)); CHECK_EQ(s10, 0x100)
    TEST_LINE; li a1, 0x200; la tp, 2f; jr a1
2:  CHECK_EQ(s9, CAUSE_FETCH_ACCESS); CHECK_EQ(s10, 0x200); CHECK_EQ(s11, 0x200)

    /* --- delegation: medeleg sends U ecalls and S illegal instructions to S --- */
    TEST_LINE; li a0, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_ILLEGAL_INSTRUCTION) | (1 << CAUSE_BREAKPOINT)
    csrw medeleg, a0; csrr a1, medeleg; CHECK_EQ_REG(a1, a0)
    /* S drops to U, U ecalls into S, S reports back to M with an ecall */
    TEST_LINE; ENTER(PRV_S, 5f)
    la t0, 3f; csrw sepc, t0; li t0, MSTATUS_SPP; csrc sstatus, t0; la tp, 4f; sret
3:  ecall                              /* U -> S */
    CHECK_FAIL
4:  mv a0, s8; mv a1, s9; mv a2, s11; la tp, 5f; ecall   /* S -> M: cause 9 proves S */
5:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL)
    CHECK_EQ(a0, PRV_S); CHECK_EQ(a1, CAUSE_USER_ECALL); la t4, 3b; CHECK_EQ_REG(a2, t4)
    /* an illegal instruction in S goes to S with stval = the instruction */
    TEST_LINE; ENTER(PRV_S, 5f); la tp, 4f; .word 0x0000000b
4:  mv a0, s8; mv a1, s9; mv a2, s10; la tp, 5f; ecall
5:  CHECK_EQ(a0, PRV_S); CHECK_EQ(a1, CAUSE_ILLEGAL_INSTRUCTION); CHECK_EQ(a2, 0x0000000b)
    /* traps taken in M are never delegated */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, .word 0x0000000b); CHECK_EQ(s8, PRV_M)
    TEST_TRAP(CAUSE_BREAKPOINT, ebreak); CHECK_EQ(s8, PRV_M)
    /* a cause not delegated still goes to M from U */
    TEST_LINE; ENTER(PRV_U, 2f); 3: ld a0, 0(zero)
2:  CHECK_EQ(s8, PRV_M); CHECK_EQ(s9, CAUSE_LOAD_ACCESS)
    csrw medeleg, zero

    /* --- trap entry: MPP, MPIE, MIE --- */
    csrr s7, mtvec; la a0, mstatus_probe; csrw mtvec, a0
    TEST_LINE; li a0, MSTATUS_MIE; csrs mstatus, a0; la tp, 2f; ecall     /* from M with MIE = 1 */
2:  srli a1, a5, 11; andi a1, a1, 3; CHECK_EQ(a1, PRV_M)
    andi a1, a5, MSTATUS_MPIE; CHECK_EQ(a1, MSTATUS_MPIE)
    andi a1, a5, MSTATUS_MIE; CHECK_EQ(a1, 0)
    TEST_LINE; ENTER(PRV_S, 2f); ecall                                  /* from S with MIE = 0 */
2:  srli a1, a5, 11; andi a1, a1, 3; CHECK_EQ(a1, PRV_S)
    andi a1, a5, MSTATUS_MPIE; CHECK_EQ(a1, 0)
    TEST_LINE; ENTER(PRV_U, 2f); ecall
2:  srli a1, a5, 11; andi a1, a1, 3; CHECK_EQ(a1, PRV_U)
    csrw mtvec, s7

    /* --- trap entry into S: SPP, SPIE, SIE --- */
    li a0, 1 << CAUSE_USER_ECALL | 1 << CAUSE_SUPERVISOR_ECALL; csrw medeleg, a0
    csrr s7, stvec; la a0, sstatus_probe; csrw stvec, a0
    /* from U (with SIE = 1 in S) */
    TEST_LINE; ENTER(PRV_S, 5f)
    li t0, MSTATUS_SIE; csrs sstatus, t0; li t0, MSTATUS_SPP; csrc sstatus, t0
    la t0, 3f; csrw sepc, t0; li t0, MSTATUS_SPIE; csrs sstatus, t0; la tp, 4f; sret
3:  ecall
4:  mv a1, a5; la tp, 5f
    csrr zero, mstatus           /* S ecalls are delegated now: leave by an illegal access */
5:  andi a2, a1, MSTATUS_SPP; CHECK_EQ(a2, 0)                  /* came from U */
    andi a2, a1, MSTATUS_SPIE; CHECK_EQ(a2, MSTATUS_SPIE)      /* old SIE */
    andi a2, a1, MSTATUS_SIE; CHECK_EQ(a2, 0)
    CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION)
    /* from S: SPP = S */
    TEST_LINE; ENTER(PRV_S, 5f); la tp, 4f; ecall
4:  mv a1, a5; la tp, 5f; csrr zero, mstatus
5:  andi a2, a1, MSTATUS_SPP; CHECK_EQ(a2, MSTATUS_SPP)
    csrw stvec, s7; csrw medeleg, zero

    /* --- mret: MIE <- MPIE, MPIE <- 1, MPP <- U; MPRV cleared when leaving M --- */
    TEST_LINE; li a0, MSTATUS_MIE | MSTATUS_MPP; csrc mstatus, a0
    li a0, MSTATUS_MPIE | (PRV_M << 11); csrs mstatus, a0; la a0, 2f; csrw mepc, a0; mret
2:  csrr a0, mstatus; csrci mstatus, MSTATUS_MIE
    andi a1, a0, MSTATUS_MIE; CHECK_EQ(a1, MSTATUS_MIE)
    andi a1, a0, MSTATUS_MPIE; CHECK_EQ(a1, MSTATUS_MPIE)
    srli a1, a0, 11; andi a1, a1, 3; CHECK_EQ(a1, PRV_U)
    TEST_LINE; li a0, MSTATUS_MPIE | MSTATUS_MPP; csrc mstatus, a0; li a0, MSTATUS_MIE | (PRV_M << 11); csrs mstatus, a0
    la a0, 2f; csrw mepc, a0; mret
2:  csrr a0, mstatus; andi a1, a0, MSTATUS_MIE; CHECK_EQ(a1, 0)
    andi a1, a0, MSTATUS_MPIE; CHECK_EQ(a1, MSTATUS_MPIE)
    /* MPRV survives an mret to M, is cleared by an mret to S */
    TEST_LINE; li a0, MSTATUS_MPRV | MSTATUS_MPP; csrs mstatus, a0; la a0, 2f; csrw mepc, a0; mret
2:  csrr a0, mstatus; li a1, MSTATUS_MPRV; and a0, a0, a1; CHECK_EQ(a0, MSTATUS_MPRV)
    TEST_LINE; ENTER(PRV_S, 2f); ecall                   /* GOTO_MODE keeps MPRV as it is */
2:  csrr a0, mstatus; li a1, MSTATUS_MPRV; and a0, a0, a1; CHECK_EQ(a0, 0)

    /* --- sret: SIE <- SPIE, SPIE <- 1, SPP <- U; to U when SPP = U --- */
    TEST_LINE; ENTER(PRV_S, 5f)
    li t0, MSTATUS_SIE; csrc sstatus, t0; li t0, MSTATUS_SPIE | MSTATUS_SPP; csrs sstatus, t0
    la t0, 3f; csrw sepc, t0; sret
3:  csrr a0, sstatus; csrci sstatus, MSTATUS_SIE; ecall
5:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL)                 /* still S after sret with SPP = S */
    andi a1, a0, MSTATUS_SIE; CHECK_EQ(a1, MSTATUS_SIE)
    andi a1, a0, MSTATUS_SPIE; CHECK_EQ(a1, MSTATUS_SPIE)
    andi a1, a0, MSTATUS_SPP; CHECK_EQ(a1, 0)
    TEST_LINE; ENTER(PRV_S, 5f)
    li t0, MSTATUS_SPP | MSTATUS_SPIE; csrc sstatus, t0; la t0, 3f; csrw sepc, t0; sret
3:  ecall
5:  CHECK_EQ(s9, CAUSE_USER_ECALL)                       /* SPP = U: sret went to U */
    /* sstatus is a view of mstatus */
    TEST_LINE; li a0, MSTATUS_SUM; csrs mstatus, a0; csrr a1, sstatus; and a1, a1, a0; CHECK_EQ_REG(a1, a0)
    csrc sstatus, a0; csrr a1, mstatus; and a1, a1, a0; CHECK_EQ(a1, 0)
    li a0, MSTATUS_MIE | MSTATUS_MPP; csrs sstatus, a0; csrr a1, mstatus   /* M bits invisible from sstatus */
    li a0, MSTATUS_MPP; and a1, a1, a0; CHECK_EQ(a1, 0)

    TEST_PASSFAIL

/* Temporary trap vectors that capture the status register at trap entry in
 * a5 before handing over to the harness handler (whose address is in s7). */
    .align 2
mstatus_probe:
    csrr a5, mstatus
    jr s7
    .align 2
sstatus_probe:
    csrr a5, sstatus
    jr s7
