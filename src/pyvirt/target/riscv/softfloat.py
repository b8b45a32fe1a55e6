"""IEEE 754 binary32/binary64 arithmetic as the RISC-V F and D extensions define it.

Every function takes raw bit patterns (Python ints) and returns
``(result, fflags)`` (fclass, which raises nothing, returns just its mask); ``fmt`` is the operand width, 32 (F) or 64 (D), and
``rm`` a rounding mode already resolved from ``frm`` (RNE..RMM, never DYN).

Hand-written because Python's float cannot do this job: it is binary64 with
round-to-nearest-even only, has no binary32, no other rounding modes and no
exception flags, and it keeps NaN payloads where RISC-V does not. So, in the
manner of Berkeley SoftFloat (which QEMU's fpu/ descends from), each operation
decodes its operands into exact integers ``significand * 2**exponent``,
computes the exact result (for div and sqrt: enough quotient bits plus a
sticky bit), and one routine, :func:`round_pack`, rounds and encodes the
result for every operation.

The RISC-V choices IEEE 754 leaves open:

* every NaN result is the canonical NaN (no payload propagation);
* tininess is detected after rounding; UF is raised only if also inexact;
* fused multiply-add raises NV for ``inf * 0`` even when the addend is a
  quiet NaN;
* fmin/fmax are IEEE 754-2019 minimumNumber/maximumNumber, with -0 < +0;
* float-to-integer conversions saturate, and NaN converts to the largest
  positive integer.
"""

from math import isqrt
from typing import NamedTuple

# Rounding modes, as encoded in frm and in an instruction's rm field.
RNE, RTZ, RDN, RUP, RMM = range(5)

# fflags bits.
NX = 1   # inexact
UF = 2   # underflow
OF = 4   # overflow
DZ = 8   # divide by zero
NV = 16  # invalid operation

# fclass result bits.
CLASS_NEG_INF = 1 << 0
CLASS_NEG_NORMAL = 1 << 1
CLASS_NEG_SUBNORMAL = 1 << 2
CLASS_NEG_ZERO = 1 << 3
CLASS_POS_ZERO = 1 << 4
CLASS_POS_SUBNORMAL = 1 << 5
CLASS_POS_NORMAL = 1 << 6
CLASS_POS_INF = 1 << 7
CLASS_SNAN = 1 << 8
CLASS_QNAN = 1 << 9


class Format:
    """An IEEE 754 binary interchange format and its derived constants."""

    def __init__(self, width: int, exp_bits: int):
        self.width = width
        self.exp_bits = exp_bits
        self.frac_bits = width - 1 - exp_bits
        self.prec = self.frac_bits + 1  # significand bits, implicit one included
        self.bias = (1 << (exp_bits - 1)) - 1
        self.emin = 1 - self.bias
        self.exp_all_ones = (1 << exp_bits) - 1
        self.sign_bit = 1 << (width - 1)
        self.frac_mask = (1 << self.frac_bits) - 1
        self.quiet_bit = 1 << (self.frac_bits - 1)
        self.inf = self.exp_all_ones << self.frac_bits
        self.max_finite = self.inf - 1
        self.canonical_nan = self.inf | self.quiet_bit


FORMATS = {32: Format(32, 8), 64: Format(64, 11)}
CANONICAL_NAN = {width: f.canonical_nan for width, f in FORMATS.items()}


class Kind:
    """What an operand is. Plain ints rather than an Enum: these are
    consulted on every FP instruction, and Enum member lookup is slow."""

    ZERO = 0
    FINITE = 1  # nonzero: normal or subnormal
    INF = 2
    QNAN = 3
    SNAN = 4


class Unpacked(NamedTuple):
    """A decoded operand; for ZERO and FINITE its magnitude is ``mant * 2**exp``."""

    sign: int
    kind: int  # a Kind
    mant: int = 0
    exp: int = 0

    @property
    def is_nan(self) -> bool:
        return self.kind >= Kind.QNAN


def unpack(f: Format, bits: int) -> Unpacked:
    sign = bits >> (f.width - 1) & 1
    biased = bits >> f.frac_bits & f.exp_all_ones
    frac = bits & f.frac_mask
    if biased == f.exp_all_ones:
        if frac == 0:
            return Unpacked(sign, Kind.INF)
        return Unpacked(sign, Kind.QNAN if frac & f.quiet_bit else Kind.SNAN)
    if biased == 0:
        if frac == 0:
            return Unpacked(sign, Kind.ZERO)
        return Unpacked(sign, Kind.FINITE, frac, f.emin - f.frac_bits)
    return Unpacked(sign, Kind.FINITE, frac | 1 << f.frac_bits,
                    biased - f.bias - f.frac_bits)


def _shift_right_rounded(sign: int, mant: int, shift: int,
                         rm: int) -> tuple[int, bool]:
    """Round ``mant / 2**shift`` to an integer magnitude; return it and inexactness."""
    if shift <= 0:
        return mant << -shift, False
    kept = mant >> shift
    rest = mant & ((1 << shift) - 1)
    if rest == 0:
        return kept, False
    half = 1 << (shift - 1)
    if rm == RNE:
        up = rest > half or (rest == half and kept & 1)
    elif rm == RMM:
        up = rest >= half
    elif rm == RTZ:
        up = False
    elif rm == RDN:
        up = sign == 1
    else:  # RUP
        up = sign == 0
    return kept + up, True


def _overflow(f: Format, sign: int, rm: int) -> tuple[int, int]:
    """An overflowed result: infinity, or the largest finite value in the
    modes that round toward zero for this sign."""
    to_inf = (rm in (RNE, RMM) or (rm == RDN and sign)
              or (rm == RUP and not sign))
    magnitude = f.inf if to_inf else f.max_finite
    return sign << (f.width - 1) | magnitude, OF | NX


def _round_pack(f: Format, sign: int, mant: int, exp: int, rm: int,
                sticky: bool = False) -> tuple[int, int]:
    if sticky:
        # Stand in for "a little more than mant" with a half-unit one bit
        # below it: callers supply at least two bits beyond the precision, so
        # this bit lands strictly below the rounding bit and rounds the same.
        mant, exp = mant << 1 | 1, exp - 1
    top = exp + mant.bit_length() - 1  # exponent of the leading one
    lsb = max(top, f.emin) - f.frac_bits  # exponent of the result's last bit
    sig, inexact = _shift_right_rounded(sign, mant, lsb - exp, rm)
    if sig >> f.prec:  # rounding carried into a new leading bit
        sig >>= 1
        lsb += 1
    flags = 0
    if inexact:
        flags = NX
        if _tiny_after_rounding(f, sign, mant, exp, top, rm):
            flags |= UF
    biased = lsb + f.frac_bits + f.bias if sig >> f.frac_bits else 0
    if biased >= f.exp_all_ones:
        return _overflow(f, sign, rm)
    return (sign << (f.width - 1) | biased << f.frac_bits
            | sig & f.frac_mask), flags


def _tiny_after_rounding(f: Format, sign: int, mant: int, exp: int, top: int,
                         rm: int) -> bool:
    """Whether the value, rounded to full precision with an unbounded
    exponent range, lies below the smallest normal (RISC-V's tininess rule)."""
    if top != f.emin - 1:
        return top < f.emin
    sig, _ = _shift_right_rounded(sign, mant, top - f.frac_bits - exp, rm)
    return sig >> f.prec == 0


def round_pack(fmt: int, sign: int, mant: int, exp: int, rm: int,
               sticky: bool = False) -> tuple[int, int]:
    """Round ``(-1)**sign * mant * 2**exp`` to format ``fmt`` under ``rm``.

    ``sticky`` says the exact value is a little more than ``mant`` (a nonzero
    remainder was dropped); ``mant`` must then carry at least two bits beyond
    the format's precision. Returns ``(bits, fflags)``.
    """
    return _round_pack(FORMATS[fmt], sign, mant, exp, rm, sticky)


def _nan(f: Format, *operands: Unpacked, invalid: bool = False) -> tuple[int, int]:
    """The canonical NaN, with NV if asked or if any operand is signalling."""
    if invalid or any(u.kind == Kind.SNAN for u in operands):
        return f.canonical_nan, NV
    return f.canonical_nan, 0


def _unrounded(f: Format, sign: int, magnitude: int) -> tuple[int, int]:
    """A result that needs no rounding (a zero or infinity): no flags."""
    return sign << (f.width - 1) | magnitude, 0


def _add_exact(f: Format, sign_x: int, mant_x: int, exp_x: int,
               sign_y: int, mant_y: int, exp_y: int, rm: int) -> tuple[int, int]:
    """Round the exact sum of two finite (possibly zero) values."""
    exp = min(exp_x, exp_y)
    x = mant_x << (exp_x - exp)
    y = mant_y << (exp_y - exp)
    total = (-x if sign_x else x) + (-y if sign_y else y)
    if total == 0:
        # Same-signed zeros keep their sign; any other exact zero is +0,
        # except when rounding down.
        sign = sign_x if sign_x == sign_y else int(rm == RDN)
        return _unrounded(f, sign, 0)
    return _round_pack(f, int(total < 0), abs(total), exp, rm)


def add(fmt: int, a: int, b: int, rm: int) -> tuple[int, int]:
    f = FORMATS[fmt]
    x, y = unpack(f, a), unpack(f, b)
    if x.is_nan or y.is_nan:
        return _nan(f, x, y)
    if x.kind == Kind.INF or y.kind == Kind.INF:
        if x.kind == y.kind and x.sign != y.sign:
            return _nan(f, invalid=True)
        return _unrounded(f, x.sign if x.kind == Kind.INF else y.sign, f.inf)
    return _add_exact(f, x.sign, x.mant, x.exp, y.sign, y.mant, y.exp, rm)


def sub(fmt: int, a: int, b: int, rm: int) -> tuple[int, int]:
    return add(fmt, a, b ^ FORMATS[fmt].sign_bit, rm)


def mul(fmt: int, a: int, b: int, rm: int) -> tuple[int, int]:
    f = FORMATS[fmt]
    x, y = unpack(f, a), unpack(f, b)
    if x.is_nan or y.is_nan:
        return _nan(f, x, y)
    sign = x.sign ^ y.sign
    kinds = {x.kind, y.kind}
    if Kind.INF in kinds:
        if Kind.ZERO in kinds:
            return _nan(f, invalid=True)
        return _unrounded(f, sign, f.inf)
    return _round_pack(f, sign, x.mant * y.mant, x.exp + y.exp, rm)


def div(fmt: int, a: int, b: int, rm: int) -> tuple[int, int]:
    f = FORMATS[fmt]
    x, y = unpack(f, a), unpack(f, b)
    if x.is_nan or y.is_nan:
        return _nan(f, x, y)
    sign = x.sign ^ y.sign
    if x.kind == Kind.INF:
        if y.kind == Kind.INF:
            return _nan(f, invalid=True)
        return _unrounded(f, sign, f.inf)
    if y.kind == Kind.INF:
        return _unrounded(f, sign, 0)
    if y.kind == Kind.ZERO:
        if x.kind == Kind.ZERO:
            return _nan(f, invalid=True)
        return sign << (f.width - 1) | f.inf, DZ
    if x.kind == Kind.ZERO:
        return _unrounded(f, sign, 0)
    # Scale the dividend so the quotient has two bits beyond the precision.
    shift = max(0, f.prec + 2 + y.mant.bit_length() - x.mant.bit_length())
    quotient, remainder = divmod(x.mant << shift, y.mant)
    return _round_pack(f, sign, quotient, x.exp - y.exp - shift, rm,
                       sticky=remainder != 0)


def sqrt(fmt: int, a: int, rm: int) -> tuple[int, int]:
    f = FORMATS[fmt]
    x = unpack(f, a)
    if x.is_nan:
        return _nan(f, x)
    if x.kind == Kind.ZERO:
        return a, 0  # sqrt(-0) is -0
    if x.sign:
        return _nan(f, invalid=True)
    if x.kind == Kind.INF:
        return a, 0
    # Scale to an even exponent and a radicand with twice the precision
    # plus two bits, so the root has two bits beyond the precision.
    shift = max(0, 2 * (f.prec + 2) - x.mant.bit_length())
    shift += (x.exp - shift) & 1
    radicand = x.mant << shift
    root = isqrt(radicand)
    return _round_pack(f, 0, root, (x.exp - shift) // 2, rm,
                       sticky=root * root != radicand)


def muladd(fmt: int, a: int, b: int, c: int, rm: int,
           negate_product: bool = False,
           negate_addend: bool = False) -> tuple[int, int]:
    """``(+/-)(a * b) (+/-) c`` with a single rounding.

    fmadd, fmsub, fnmsub and fnmadd are (False, False), (False, True),
    (True, False) and (True, True) for (negate_product, negate_addend).
    """
    f = FORMATS[fmt]
    x, y, z = unpack(f, a), unpack(f, b), unpack(f, c)
    kinds = {x.kind, y.kind}
    inf_times_zero = kinds == {Kind.INF, Kind.ZERO}
    if x.is_nan or y.is_nan or z.is_nan:
        return _nan(f, x, y, z, invalid=inf_times_zero)
    if inf_times_zero:
        return _nan(f, invalid=True)
    product_sign = x.sign ^ y.sign ^ negate_product
    addend_sign = z.sign ^ negate_addend
    if Kind.INF in kinds:
        if z.kind == Kind.INF and addend_sign != product_sign:
            return _nan(f, invalid=True)
        return _unrounded(f, product_sign, f.inf)
    if z.kind == Kind.INF:
        return _unrounded(f, addend_sign, f.inf)
    return _add_exact(f, product_sign, x.mant * y.mant, x.exp + y.exp,
                      addend_sign, z.mant, z.exp, rm)


def _order_key(f: Format, bits: int, signed_zero: bool) -> int:
    """An integer ordering non-NaN values by the bit patterns' magnitudes;
    with ``signed_zero``, -0 sorts below +0."""
    magnitude = bits & ~f.sign_bit
    if bits & f.sign_bit:
        return -magnitude - signed_zero
    return magnitude


def _min_max(fmt: int, a: int, b: int, pick_larger: bool) -> tuple[int, int]:
    f = FORMATS[fmt]
    x, y = unpack(f, a), unpack(f, b)
    flags = NV if Kind.SNAN in (x.kind, y.kind) else 0
    if x.is_nan and y.is_nan:
        return f.canonical_nan, flags
    if x.is_nan:
        return b, flags
    if y.is_nan:
        return a, flags
    a_smaller = _order_key(f, a, True) < _order_key(f, b, True)
    return (b if a_smaller == pick_larger else a), flags


def min_(fmt: int, a: int, b: int) -> tuple[int, int]:
    return _min_max(fmt, a, b, pick_larger=False)


def max_(fmt: int, a: int, b: int) -> tuple[int, int]:
    return _min_max(fmt, a, b, pick_larger=True)


def _compare(fmt: int, a: int, b: int, relation, quiet: bool) -> tuple[int, int]:
    """Apply ``relation`` to the order keys; unordered operands compare
    false, raising NV for any NaN, or with ``quiet`` only for an sNaN."""
    f = FORMATS[fmt]
    x, y = unpack(f, a), unpack(f, b)
    if x.is_nan or y.is_nan:
        signalling = Kind.SNAN in (x.kind, y.kind)
        return 0, NV if signalling or not quiet else 0
    return int(relation(_order_key(f, a, False), _order_key(f, b, False))), 0


def feq(fmt: int, a: int, b: int) -> tuple[int, int]:
    return _compare(fmt, a, b, int.__eq__, quiet=True)


def flt(fmt: int, a: int, b: int) -> tuple[int, int]:
    return _compare(fmt, a, b, int.__lt__, quiet=False)


def fle(fmt: int, a: int, b: int) -> tuple[int, int]:
    return _compare(fmt, a, b, int.__le__, quiet=False)


def fclass(fmt: int, a: int) -> int:
    """The fclass.s/fclass.d mask (fclass raises no flags)."""
    f = FORMATS[fmt]
    x = unpack(f, a)
    if x.kind == Kind.SNAN:
        return CLASS_SNAN
    if x.kind == Kind.QNAN:
        return CLASS_QNAN
    if x.kind == Kind.INF:
        return CLASS_NEG_INF if x.sign else CLASS_POS_INF
    if x.kind == Kind.ZERO:
        return CLASS_NEG_ZERO if x.sign else CLASS_POS_ZERO
    if x.mant >> f.frac_bits:
        return CLASS_NEG_NORMAL if x.sign else CLASS_POS_NORMAL
    return CLASS_NEG_SUBNORMAL if x.sign else CLASS_POS_SUBNORMAL


def f_to_int(fmt: int, a: int, rm: int, width: int,
             signed: bool) -> tuple[int, int]:
    """fcvt.{w,wu,l,lu}.{s,d}: the integer as a ``width``-bit pattern.

    Out-of-range values and infinities saturate and NaN gives the largest
    positive integer, all with NV (and no NX). On RV64 the caller
    sign-extends a 32-bit result into rd, for fcvt.wu too.
    """
    f = FORMATS[fmt]
    x = unpack(f, a)
    mask = (1 << width) - 1
    low, high = ((-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed
                 else (0, mask))
    if x.is_nan:
        return high & mask, NV
    if x.kind == Kind.INF:
        return (low if x.sign else high) & mask, NV
    magnitude, inexact = _shift_right_rounded(x.sign, x.mant, -x.exp, rm)
    value = -magnitude if x.sign else magnitude
    if value < low:
        return low & mask, NV
    if value > high:
        return high & mask, NV
    return value & mask, NX if inexact else 0


def int_to_f(fmt: int, value: int, rm: int, width: int,
             signed: bool) -> tuple[int, int]:
    """fcvt.{s,d}.{w,wu,l,lu}: ``value`` is the source's raw ``width``-bit pattern."""
    value &= (1 << width) - 1
    sign = int(signed and value >> (width - 1) == 1)
    magnitude = (1 << width) - value if sign else value
    return _round_pack(FORMATS[fmt], sign, magnitude, 0, rm)


def f_to_f(src_fmt: int, dst_fmt: int, a: int, rm: int) -> tuple[int, int]:
    """fcvt.s.d and fcvt.d.s."""
    src, dst = FORMATS[src_fmt], FORMATS[dst_fmt]
    x = unpack(src, a)
    if x.is_nan:
        return _nan(dst, x)
    if x.kind == Kind.INF:
        return _unrounded(dst, x.sign, dst.inf)
    return _round_pack(dst, x.sign, x.mant, x.exp, rm)
