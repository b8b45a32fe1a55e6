/* RV64M: multiply (low and high halves, all signednesses), divide and
 * remainder including division by zero and INT_MIN / -1, and the *W forms. */
#include "harness.h"

    .text
    .globl test_main
test_main:
    TEST_RR(mul, 6, 2, 3)
    TEST_RR(mul, 0xfffffffffffffffa, -2, 3)
    TEST_RR(mul, 0x0000000000000001, -1, -1)
    TEST_RR(mul, 0x8000000000000000, 0x4000000000000000, 2)
    TEST_RR(mul, 0xfedcba9876543210 * 0x0123456789abcdef, 0xfedcba9876543210, 0x0123456789abcdef)
    TEST_RR_ALIAS(mul, 0x0000000100000000, 0x80000000, 2)

    /* high halves: signed*signed, signed*unsigned, unsigned*unsigned */
    TEST_RR(mulh, 0, 2, 3)
    TEST_RR(mulh, 0xffffffffffffffff, -2, 3)
    TEST_RR(mulh, 0, -1, -1)
    TEST_RR(mulh, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000)
    TEST_RR(mulh, 0xc000000000000000, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(mulh, 0x3fffffffffffffff, 0x7fffffffffffffff, 0x7fffffffffffffff)
    TEST_RR(mulhsu, 0xffffffffffffffff, -1, 1)
    TEST_RR(mulhsu, 0xffffffffffffffff, -1, 0xffffffffffffffff)   /* -1 * (2^64-1) */
    TEST_RR(mulhsu, 0xc000000000000000, 0x8000000000000000, 0x8000000000000000)
    TEST_RR(mulhsu, 0x7ffffffffffffffe, 0x7fffffffffffffff, 0xffffffffffffffff)
    TEST_RR(mulhu, 0xfffffffffffffffe, -1, -1)
    TEST_RR(mulhu, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000)
    TEST_RR(mulhu, 0, 0xffffffff, 0xffffffff)
    TEST_RR(mulhu, 0x0121fa00ad77d742, 0xfedcba9876543210, 0x0123456789abcdef)
    TEST_RR_ALIAS(mulhu, 1, 0x100000000, 0x100000000)

    /* division truncates toward zero; remainder takes the dividend's sign */
    TEST_RR(div, 3, 20, 6)
    TEST_RR(div, 0xfffffffffffffffd, -20, 6)
    TEST_RR(div, 0xfffffffffffffffd, 20, -6)
    TEST_RR(div, 3, -20, -6)
    TEST_RR(div, 0xffffffffffffffff, 1, 0)                       /* by zero: -1 */
    TEST_RR(div, 0xffffffffffffffff, -7, 0)
    TEST_RR(div, 0x8000000000000000, 0x8000000000000000, -1)     /* overflow */
    TEST_RR(divu, 3, 20, 6)
    TEST_RR(divu, 0x2aaaaaaaaaaaaaa7, -20, 6)
    TEST_RR(divu, 0, 20, -6)
    TEST_RR(divu, 0xffffffffffffffff, 5, 0)
    TEST_RR(divu, 0, 0x8000000000000000, -1)
    TEST_RR(rem, 2, 20, 6)
    TEST_RR(rem, 0xfffffffffffffffe, -20, 6)
    TEST_RR(rem, 2, 20, -6)
    TEST_RR(rem, 0xfffffffffffffffe, -20, -6)
    TEST_RR(rem, 7, 7, 0)                                          /* by zero: dividend */
    TEST_RR(rem, -7, -7, 0)
    TEST_RR(rem, 0, 0x8000000000000000, -1)                        /* overflow: 0 */
    TEST_RR(remu, 2, 20, 6)
    TEST_RR(remu, 2, -20, 6)
    TEST_RR(remu, 20, 20, -6)
    TEST_RR(remu, -7, -7, 0)
    TEST_RR(remu, 0x8000000000000000, 0x8000000000000000, -1)
    TEST_RR_ALIAS(divu, 7, 63, 9)

    /* *W forms: operate on the low 32 bits, sign-extend the result */
    TEST_RR(mulw, 6, 2, 3)
    TEST_RR(mulw, 0xffffffff80000000, 0x40000000, 2)
    TEST_RR(mulw, 0x0000000000000001, 0xffffffffffffffff, 0x00000000ffffffff)
    TEST_RR(mulw, 0, 0x100000000, 0x100000000)
    TEST_RR(mulw, 0xffffffff9abcdef0 * 0x2 & 0xffffffff, 0x123456789abcdef0, 2)
    TEST_RR(divw, 3, 20, 6)
    TEST_RR(divw, 0xfffffffffffffffd, 0xffffffffffffffec, 6)
    TEST_RR(divw, 0xfffffffffffffffd, 0x00000000ffffffec, 6)      /* upper bits ignored */
    TEST_RR(divw, 0xffffffffffffffff, 5, 0)
    TEST_RR(divw, 0xffffffffffffffff, 5, 0x100000000)             /* low word zero */
    TEST_RR(divw, 0xffffffff80000000, 0x80000000, -1)             /* overflow */
    TEST_RR(divuw, 0x2aaaaaa7, 0xffffffec, 6)
    TEST_RR(divuw, 0xffffffffffffffff, 5, 0)
    TEST_RR(divuw, 0xffffffff80000000, 0x80000000, 1)             /* result sign-extends */
    TEST_RR(divuw, 0, 0x80000000, -1)
    TEST_RR(remw, 0xfffffffffffffffe, 0xffffffec, 6)
    TEST_RR(remw, 0xffffffffffffffec, 0xffffffec, 0)              /* by zero: dividend, sext */
    TEST_RR(remw, 0, 0x80000000, -1)
    TEST_RR(remw, 2, 0x1234567800000014, 6)
    TEST_RR(remuw, 2, 0xffffffec, 6)
    TEST_RR(remuw, 0xffffffffffffffec, 0xffffffec, 0)
    TEST_RR(remuw, 0xffffffff80000000, 0x80000000, -1)
    TEST_RR(remuw, 0xffffffff80000000, 0x80000000, 0xffffffff00000000)

    TEST_PASSFAIL
