/* Interrupts: machine software (ACLINT msip) and timer (mtimecmp/mtime),
 * supervisor software/timer raised by M through mip.SSIP/STIP and
 * delegated with mideleg, global enables per privilege, priorities, and wfi
 * waking with and without taking the interrupt. */
#include "harness.h"

#define MCAUSE_INT(n) (INTERRUPT | (n))
/* How long an interrupt may take to arrive: 100 ms of mtime (10 MHz).
 * QEMU delivers timer interrupts from its I/O thread, which can lag. */
#define PATIENCE 1000000

/* Spin until a trap resumes at tp; fail once PATIENCE ticks have passed. */
#define SPIN_FOR_TRAP \
    li t0, CLINT_MTIME; ld t1, 0(t0); li t2, PATIENCE; add t1, t1, t2; \
    1: ld t2, 0(t0); bltu t2, t1, 1b; CHECK_FAIL

/* Spin for a while (no interrupt expected). */
#define DELAY \
    li t0, 1000; 1: addi t0, t0, -1; bnez t0, 1b

#define TIMER_IN(ticks) \
    li t0, CLINT_MTIME; ld t1, 0(t0); addi t1, t1, ticks; li t0, CLINT_MTIMECMP; sd t1, 0(t0)
#define TIMER_OFF \
    li t0, CLINT_MTIMECMP; li t1, -1; sd t1, 0(t0)
#define MSIP_SET(v) \
    li t0, CLINT_MSIP; li t1, v; sw t1, 0(t0)

/* Run what follows in `mode`; the first trap to M resumes at `resume`. */
#define ENTER(mode, resume) la tp, resume; GOTO_MODE(mode, 1f); 1:

    .text
    .globl test_main
test_main:
    TIMER_OFF
    /* --- mtime runs; mtimecmp reads back --- */
    TEST_LINE; li t0, CLINT_MTIME; ld a0, 0(t0); li a2, 1000; 1: addi a2, a2, -1; bnez a2, 1b
    ld a1, 0(t0); CHECK_EQ_REG(a0, a0); bltu a0, a1, 2f; CHECK_FAIL; 2:
    TEST_LINE; li t0, CLINT_MTIMECMP; li a1, 0x123456789; sd a1, 0(t0); ld a0, 0(t0); CHECK_EQ(a0, 0x123456789)
    lw a0, 4(t0); CHECK_EQ(a0, 1)
    TIMER_OFF

    /* --- machine software interrupt: msip is mip.MSIP --- */
    TEST_LINE; MSIP_SET(1); csrr a0, mip; andi a0, a0, MIP_MSIP; CHECK_EQ(a0, MIP_MSIP)
    li t0, CLINT_MSIP; lw a0, 0(t0); CHECK_EQ(a0, 1)
    MSIP_SET(0); csrr a0, mip; andi a0, a0, MIP_MSIP; CHECK_EQ(a0, 0)
    /* taken when MIE and mie.MSIE are set */
    TEST_LINE; li a0, MIP_MSIP; csrw mie, a0; MSIP_SET(1); la tp, 2f; csrsi mstatus, MSTATUS_MIE
    SPIN_FOR_TRAP
2:  CHECK_EQ(s9, MCAUSE_INT(IRQ_M_SOFT)); CHECK_EQ(s10, 0); MSIP_SET(0)
    /* pending but globally disabled in M: not taken */
    TEST_LINE; MSIP_SET(1); DELAY; MSIP_SET(0)
    /* from U, M interrupts are taken whatever mstatus.MIE says */
    TEST_LINE; MSIP_SET(1); ENTER(PRV_U, 2f); SPIN_FOR_TRAP
2:  CHECK_EQ(s9, MCAUSE_INT(IRQ_M_SOFT)); MSIP_SET(0)
    csrw mie, zero

    /* --- machine timer --- */
    TEST_LINE; TIMER_IN(50); li t0, CLINT_MTIME; ld t1, 0(t0); li t2, PATIENCE; add t1, t1, t2
1:  csrr a0, mip; andi a0, a0, MIP_MTIP; bnez a0, 2f; ld t2, 0(t0); bltu t2, t1, 1b; CHECK_FAIL
2:  TIMER_OFF; csrr a0, mip; andi a0, a0, MIP_MTIP; CHECK_EQ(a0, 0)   /* level: follows mtimecmp */
    TEST_LINE; li a0, MIP_MTIP; csrw mie, a0; TIMER_IN(50); la tp, 2f; csrsi mstatus, MSTATUS_MIE
    SPIN_FOR_TRAP
2:  CHECK_EQ(s9, MCAUSE_INT(IRQ_M_TIMER)); TIMER_OFF
    /* wfi with the interrupt enabled: taken, mepc after the wfi */
    TEST_LINE; TIMER_IN(100); la tp, 2f; csrsi mstatus, MSTATUS_MIE; 3: wfi; CHECK_FAIL
2:  CHECK_EQ(s9, MCAUSE_INT(IRQ_M_TIMER)); TIMER_OFF
    /* mepc is the wfi when the interrupt beat it, else the instruction after */
    la t4, 3b; beq s11, t4, 4f; la t4, 3b + 4; CHECK_EQ_REG(s11, t4); 4:
    /* wfi with MIE = 0 still wakes on a pending enabled interrupt, without a trap */
    TEST_LINE; TIMER_IN(100); wfi; csrr a0, mip; andi a0, a0, MIP_MTIP; CHECK_EQ(a0, MIP_MTIP)
    la tp, 2f; csrsi mstatus, MSTATUS_MIE; CHECK_FAIL        /* now taken at once */
2:  CHECK_EQ(s9, MCAUSE_INT(IRQ_M_TIMER)); TIMER_OFF
    /* wfi woken by a software interrupt */
    TEST_LINE; li a0, MIP_MSIP; csrw mie, a0; MSIP_SET(1); la tp, 2f; csrsi mstatus, MSTATUS_MIE; wfi
    CHECK_FAIL
2:  CHECK_EQ(s9, MCAUSE_INT(IRQ_M_SOFT)); MSIP_SET(0)
    /* priority: software before timer when both are pending */
    TEST_LINE; li a0, MIP_MSIP | MIP_MTIP; csrw mie, a0; TIMER_IN(0); MSIP_SET(1)
    DELAY
    la tp, 2f; csrsi mstatus, MSTATUS_MIE; CHECK_FAIL
2:  CHECK_EQ(s9, MCAUSE_INT(IRQ_M_SOFT)); MSIP_SET(0)
    la tp, 2f; csrsi mstatus, MSTATUS_MIE; CHECK_FAIL
2:  CHECK_EQ(s9, MCAUSE_INT(IRQ_M_TIMER)); TIMER_OFF
    csrw mie, zero

    /* --- supervisor interrupts raised by M --- */
    TEST_LINE; li a0, MIP_SSIP | MIP_STIP; csrs mip, a0; csrr a1, mip; and a1, a1, a0; CHECK_EQ_REG(a1, a0)
    csrr a1, sip; and a1, a1, a0; CHECK_EQ(a1, 0)          /* sip shows delegated bits only */
    csrc mip, a0; csrr a1, mip; and a1, a1, a0; CHECK_EQ(a1, 0)
    /* not delegated: taken in M from S even though mstatus.MIE = 0 */
    TEST_LINE; li a0, MIP_SSIP; csrw mie, a0; csrs mip, a0; ENTER(PRV_S, 2f); SPIN_FOR_TRAP
2:  CHECK_EQ(s8, PRV_M); CHECK_EQ(s9, MCAUSE_INT(IRQ_S_SOFT)); li a0, MIP_SSIP; csrc mip, a0
    /* delegated: taken by S when sstatus.SIE = 1; S clears SSIP itself */
    TEST_LINE; li a0, MIP_SSIP | MIP_STIP; csrw mideleg, a0; csrr a1, mideleg
    andi a1, a1, 0x222; CHECK_EQ_REG(a1, a0)          /* (QEMU hardwires the VS bits of the H extension) */
    csrs mip, a0; csrr a1, sip; and a1, a1, a0; CHECK_EQ_REG(a1, a0); csrc mip, a0
    li a0, MIP_SSIP; csrw mie, a0; csrs mip, a0
    ENTER(PRV_S, 5f)
    DELAY                             /* SIE = 0: not taken */
    la tp, 4f; csrsi sstatus, MSTATUS_SIE; CHECK_FAIL
4:  mv a0, s8; mv a1, s9; csrci sip, MIP_SSIP; csrr a2, sip; la tp, 5f; ecall
5:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL); CHECK_EQ(a0, PRV_S); CHECK_EQ(a1, MCAUSE_INT(IRQ_S_SOFT))
    andi a2, a2, MIP_SSIP; CHECK_EQ(a2, 0)
    /* a delegated interrupt is not taken in M, even with MIE = 1 */
    TEST_LINE; li a0, MIP_SSIP; csrs mip, a0; csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
    DELAY
    csrci mstatus, MSTATUS_MIE | MSTATUS_SIE; li a0, MIP_SSIP; csrc mip, a0
    /* from U, delegated S interrupts are taken whatever sstatus.SIE says */
    TEST_LINE; li a0, MIP_STIP; csrw mie, a0; csrs mip, a0
    li t0, MSTATUS_SPP; csrc mstatus, t0; la tp, 4f; GOTO_U(3f)
3:  SPIN_FOR_TRAP
4:  mv a0, s8; mv a1, s9; csrr a2, sstatus; la tp, 5f; ecall      /* S now */
5:  CHECK_EQ(a0, PRV_S); CHECK_EQ(a1, MCAUSE_INT(IRQ_S_TIMER)); CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL)
    andi a2, a2, MSTATUS_SPP; CHECK_EQ(a2, 0)
    li a0, MIP_STIP; csrc mip, a0
    /* S cannot clear STIP */
    TEST_LINE; li a0, MIP_STIP; csrs mip, a0; ENTER(PRV_S, 2f); csrw sip, zero; csrr a0, sip; ecall
2:  andi a0, a0, MIP_STIP; CHECK_EQ(a0, MIP_STIP); li a0, MIP_STIP; csrc mip, a0
    /* sie is mie masked by mideleg */
    TEST_LINE; li a0, MIP_SSIP | MIP_MSIP; csrw mie, a0; csrr a1, sie; CHECK_EQ(a1, MIP_SSIP)
    csrw mideleg, zero; csrr a1, sie; CHECK_EQ(a1, 0)
    csrw mie, zero

    TEST_PASSFAIL
