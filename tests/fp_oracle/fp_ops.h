/*
 * Body of run_s / run_d in fp_oracle.c, instantiated once per format with
 * T (the C type), SFX (the mnemonic suffix), NAME, FROM_BITS and TO_BITS.
 * Returns fflags, or -1 for an unknown op.
 */
#define FLOAT_RESULT(insn, ...)                                             \
    do {                                                                    \
        T r;                                                                \
        RUN(insn, [r] "=f"(r), __VA_ARGS__);                                \
        *out = TO_BITS(r);                                                  \
        return flags;                                                       \
    } while (0)

#define INT_RESULT(insn, ...)                                               \
    do {                                                                    \
        u64 i;                                                              \
        RUN(insn, [i] "=r"(i), __VA_ARGS__);                                \
        *out = i;                                                           \
        return flags;                                                       \
    } while (0)

#define X [x] "f"(FROM_BITS(a))
#define Y [y] "f"(FROM_BITS(b))
#define Z [z] "f"(FROM_BITS(c))
#define BINARY(m) FLOAT_RESULT(m "." SFX " %[r], %[x], %[y]", X, Y)
#define FUSED(m) FLOAT_RESULT(m "." SFX " %[r], %[x], %[y], %[z]", X, Y, Z)
#define COMPARE(m) INT_RESULT(m "." SFX " %[i], %[x], %[y]", X, Y)
#define TO_INT(w) INT_RESULT("fcvt." w "." SFX " %[i], %[x]", X)
#define FROM_INT(w) FLOAT_RESULT("fcvt." SFX "." w " %[r], %[n]", [n] "r"(a))

static int NAME(const char *op, unsigned long rm, u64 a, u64 b, u64 c, u64 *out)
{
    unsigned long flags;

    if (OP("fadd")) BINARY("fadd");
    if (OP("fsub")) BINARY("fsub");
    if (OP("fmul")) BINARY("fmul");
    if (OP("fdiv")) BINARY("fdiv");
    if (OP("fmin")) BINARY("fmin");
    if (OP("fmax")) BINARY("fmax");
    if (OP("fsqrt")) FLOAT_RESULT("fsqrt." SFX " %[r], %[x]", X);
    if (OP("fmadd")) FUSED("fmadd");
    if (OP("fmsub")) FUSED("fmsub");
    if (OP("fnmsub")) FUSED("fnmsub");
    if (OP("fnmadd")) FUSED("fnmadd");
    if (OP("feq")) COMPARE("feq");
    if (OP("flt")) COMPARE("flt");
    if (OP("fle")) COMPARE("fle");
    if (OP("fclass")) INT_RESULT("fclass." SFX " %[i], %[x]", X);
    if (OP("to_w")) TO_INT("w");
    if (OP("to_wu")) TO_INT("wu");
    if (OP("to_l")) TO_INT("l");
    if (OP("to_lu")) TO_INT("lu");
    if (OP("from_w")) FROM_INT("w");
    if (OP("from_wu")) FROM_INT("wu");
    if (OP("from_l")) FROM_INT("l");
    if (OP("from_lu")) FROM_INT("lu");
    (void)b;
    (void)c;
    return -1;
}

#undef FLOAT_RESULT
#undef INT_RESULT
#undef X
#undef Y
#undef Z
#undef BINARY
#undef FUSED
#undef COMPARE
#undef TO_INT
#undef FROM_INT
