/* Counters and identification: cycle/instret/time advance and are readable,
 * mcycle/minstret writable, mcounteren/scounteren gate S and U access
 * (illegal instruction otherwise), misa/mhartid/mvendorid contents. */
#include "harness.h"

#define CY (1 << 0)
#define TM (1 << 1)
#define IR (1 << 2)
#define EXT(c) (1 << ((c) - 'A'))

/* Run what follows in `mode`; the first trap resumes in M at `resume`. */
#define ENTER(mode, resume) la tp, resume; GOTO_MODE(mode, 1f); 1:

    .text
    .globl test_main
test_main:
    /* --- identification --- */
    TEST_LINE; csrr a0, misa; srli a1, a0, 62; CHECK_EQ(a1, 2)           /* MXL = 64 */
    li a2, EXT('I') | EXT('M') | EXT('A') | EXT('F') | EXT('D') | EXT('C') | EXT('S') | EXT('U')
    and a1, a0, a2; CHECK_EQ_REG(a1, a2)
    TEST_LINE; csrr a0, mhartid; CHECK_EQ(a0, 0)
    csrr a0, mvendorid; CHECK_EQ(a0, 0)
    csrr a0, marchid; csrr a0, mimpid                                   /* readable */

    /* --- the counters advance --- */
    TEST_LINE; rdcycle a0; rdinstret a1; rdtime a2
    li t0, 100; 1: addi t0, t0, -1; bnez t0, 1b
    rdcycle a3; rdinstret a4; rdtime a5
    bltu a0, a3, 2f; CHECK_FAIL; 2:
    bltu a1, a4, 2f; CHECK_FAIL; 2:
    bgeu a5, a2, 2f; CHECK_FAIL; 2:
    csrr a0, mcycle; csrr a1, minstret; bgeu a0, a3, 2f; CHECK_FAIL; 2:
    bgeu a1, a4, 2f; CHECK_FAIL; 2:
    /* time is mtime */
    TEST_LINE; rdtime a0; li t0, CLINT_MTIME; ld a1, 0(t0); bgeu a1, a0, 2f; CHECK_FAIL; 2:
    sub a1, a1, a0; li a2, 10000000; bltu a1, a2, 2f; CHECK_FAIL; 2:
    /* M can set mcycle and minstret; they count on from there */
    TEST_LINE; li a0, 1 << 40; csrw mcycle, a0; csrr a1, mcycle; bgeu a1, a0, 2f; CHECK_FAIL; 2:
    srli a1, a1, 40; CHECK_EQ(a1, 1)
    li a0, 1 << 41; csrw minstret, a0; rdinstret a1; bgeu a1, a0, 2f; CHECK_FAIL; 2:
    srli a1, a1, 41; CHECK_EQ(a1, 1)
    /* the user-level counters are read-only */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrw cycle, zero)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrw instret, zero)

    /* --- mcounteren gates S --- */
    TEST_LINE; li a0, CY | TM | IR; csrw mcounteren, a0; csrr a1, mcounteren; and a1, a1, a0; CHECK_EQ_REG(a1, a0)
    ENTER(PRV_S, 2f); rdcycle a0; rdtime a1; rdinstret a2; ecall
2:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL)
    TEST_LINE; li a0, TM | IR; csrw mcounteren, a0; ENTER(PRV_S, 2f); 3: rdcycle a0
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION); CHECK_EQ(s10, 0xc0002573); la t4, 3b; CHECK_EQ_REG(s11, t4)
    TEST_LINE; li a0, CY | IR; csrw mcounteren, a0; ENTER(PRV_S, 2f); rdtime a0
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION)
    TEST_LINE; li a0, CY | TM; csrw mcounteren, a0; ENTER(PRV_S, 2f); rdinstret a0
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION)
    /* M-mode is never gated */
    TEST_LINE; csrw mcounteren, zero; rdcycle a0; rdtime a0; rdinstret a0

    /* --- U needs both mcounteren and scounteren --- */
    TEST_LINE; li a0, CY | TM | IR; csrw mcounteren, a0; csrw scounteren, a0
    csrr a1, scounteren; and a1, a1, a0; CHECK_EQ_REG(a1, a0)
    ENTER(PRV_U, 2f); rdcycle a0; rdtime a1; rdinstret a2; ecall
2:  CHECK_EQ(s9, CAUSE_USER_ECALL)
    TEST_LINE; li a0, TM | IR; csrw scounteren, a0; ENTER(PRV_U, 2f); rdcycle a0
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION)
    TEST_LINE; li a0, CY | TM | IR; csrw scounteren, a0; li a0, CY | IR; csrw mcounteren, a0
    ENTER(PRV_U, 2f); rdtime a0
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION)
    /* scounteren does not gate S itself */
    TEST_LINE; li a0, CY | TM | IR; csrw mcounteren, a0; csrw scounteren, zero
    ENTER(PRV_S, 2f); rdcycle a0; rdtime a0; rdinstret a0; ecall
2:  CHECK_EQ(s9, CAUSE_SUPERVISOR_ECALL)
    /* machine counters are M-only */
    TEST_LINE; ENTER(PRV_S, 2f); csrr a0, mcycle
2:  CHECK_EQ(s9, CAUSE_ILLEGAL_INSTRUCTION)

    TEST_PASSFAIL
