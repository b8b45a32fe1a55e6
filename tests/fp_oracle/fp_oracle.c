/*
 * Oracle for tests/test_softfloat.py: executes real RISC-V F/D instructions
 * (run under qemu-riscv64) and prints what they produce.
 *
 * Reads lines "OP FMT RM A B C" (FMT 32 or 64, RM 0..4, operands in hex;
 * unused operands are 0) and prints "RESULT FFLAGS" in hex for each: the
 * raw result bits (a destination integer register for compares, fclass and
 * float-to-int conversions) and fflags after the one instruction.
 *
 * OP is the mnemonic without its format suffix: fadd fsub fmul fdiv fsqrt
 * fmadd fmsub fnmsub fnmadd fmin fmax feq flt fle fclass; to_w to_wu to_l
 * to_lu (fcvt.{w,wu,l,lu}.FMT); from_w from_wu from_l from_lu
 * (fcvt.FMT.{w,wu,l,lu}); cvt (fcvt.d.s when FMT is 32, fcvt.s.d when 64).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t u64;

static float float_of(u64 bits) { uint32_t b = bits; float f; memcpy(&f, &b, 4); return f; }
static double double_of(u64 bits) { double d; memcpy(&d, &bits, 8); return d; }
static u64 bits_of_float(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static u64 bits_of_double(double d) { u64 b; memcpy(&b, &d, 8); return b; }

/*
 * Set frm, clear fflags, run one instruction and read fflags back, all in
 * one asm statement so nothing the compiler emits can land in between.
 * Instructions are assembled with the dynamic rounding mode (the default).
 */
#define RUN(insn, output, ...)                                              \
    asm volatile("fsrm %[rm]\n\tcsrw fflags, zero\n\t" insn                \
                 "\n\tfrflags %[fl]"                                        \
                 : [fl] "=&r"(flags), output                                \
                 : [rm] "r"(rm), __VA_ARGS__)

#define OP(name) (strcmp(op, name) == 0)

/* run_s and run_d: one template, instantiated per format. */
#define T float
#define SFX "s"
#define NAME run_s
#define FROM_BITS float_of
#define TO_BITS bits_of_float
#include "fp_ops.h"
#undef T
#undef SFX
#undef NAME
#undef FROM_BITS
#undef TO_BITS

#define T double
#define SFX "d"
#define NAME run_d
#define FROM_BITS double_of
#define TO_BITS bits_of_double
#include "fp_ops.h"

static int convert_format(int fmt, unsigned long rm, u64 a, u64 *out)
{
    unsigned long flags;

    if (fmt == 32) {
        double r;
        RUN("fcvt.d.s %[r], %[x]", [r] "=f"(r), [x] "f"(float_of(a)));
        *out = bits_of_double(r);
    } else {
        float r;
        RUN("fcvt.s.d %[r], %[x]", [r] "=f"(r), [x] "f"(double_of(a)));
        *out = bits_of_float(r);
    }
    return flags;
}

int main(void)
{
    char op[16];
    int fmt;
    unsigned long rm;
    u64 a, b, c, out;

    while (scanf("%15s %d %lu %lx %lx %lx", op, &fmt, &rm, &a, &b, &c) == 6) {
        int flags;

        if (OP("cvt"))
            flags = convert_format(fmt, rm, a, &out);
        else
            flags = (fmt == 32 ? run_s : run_d)(op, rm, a, b, c, &out);
        if (flags < 0) {
            fprintf(stderr, "fp_oracle: unknown op %s\n", op);
            return 2;
        }
        printf("%lx %x\n", (unsigned long)out, flags);
    }
    return 0;
}
