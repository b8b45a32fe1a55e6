"""TCG ops: the small typed intermediate form between a guest front end and
the backends (QEMU's tcg-op.h / tcg-opc.h, reduced to what a 64-bit RISC
guest needs).

A translation block is translated to a flat list of ``Op``s.  Every value
is an unsigned 64-bit integer.  Operands are:

- ``Glob(i)``: word ``i`` of the CPU state structure (guest integer and FP
  registers, pc, CSR words) — the backends address it at byte offset 8*i;
- ``Temp(n)``: a temporary that lives for one block;
- ``Const(v)``: a 64-bit constant (``v`` already reduced modulo 2**64);
- ``Label(n)``: a branch target inside the block.

Guest memory accesses are ``qemu_ld``/``qemu_st`` with a size and
signedness (the MMU mode is part of the block's key, not of the op);
everything the IR does not model is a ``call`` of a named hart helper,
which may raise a guest exception.  ``insn_start`` marks each guest
instruction, so a backend can restore the exact guest pc and retired count
when an op raises (QEMU's restore_state_to_opc).
"""

from dataclasses import dataclass
from operator import itemgetter

M64 = (1 << 64) - 1


class _Operand(tuple):
    """An operand: a (kind, number) pair, so that comparing and hashing
    operands -- what the optimizer does most -- runs at C speed."""
    __slots__ = ()
    KIND = ""
    __match_args__ = ()

    def __new__(cls, number):
        return tuple.__new__(cls, (cls.KIND, number))

    def __repr__(self):
        return f"{type(self).__name__}({self[1]!r})"


class Glob(_Operand):
    KIND = "g"
    __slots__ = ()
    __match_args__ = ("index",)
    index = property(itemgetter(1))

    def __str__(self):
        return f"g{self[1]}"


class Temp(_Operand):
    KIND = "t"
    __slots__ = ()
    __match_args__ = ("n",)
    n = property(itemgetter(1))

    def __str__(self):
        return f"t{self[1]}"


class Const(_Operand):
    KIND = "c"
    __slots__ = ()
    __match_args__ = ("value",)
    value = property(itemgetter(1))

    def __str__(self):
        return f"${self[1]:#x}"


class Label(_Operand):
    KIND = "L"
    __slots__ = ()
    __match_args__ = ("n",)
    n = property(itemgetter(1))

    def __str__(self):
        return f"L{self[1]}"


# Conditions of setcond/brcond, on unsigned 64-bit values or their signed
# (two's complement) reading.
COND_EQ, COND_NE, COND_LT, COND_GE, COND_LTU, COND_GEU = "eq", "ne", "lt", "ge", "ltu", "geu"
CONDS = (COND_EQ, COND_NE, COND_LT, COND_GE, COND_LTU, COND_GEU)
INVERT = {COND_EQ: COND_NE, COND_NE: COND_EQ, COND_LT: COND_GE, COND_GE: COND_LT,
          COND_LTU: COND_GEU, COND_GEU: COND_LTU}


@dataclass(frozen=True, slots=True)
class OpDef:
    """Operand shape of an opcode: outputs, inputs, then constant arguments."""
    nout: int
    nin: int
    nconst: int = 0
    side_effects: bool = False     # must not be removed even if outputs are dead
    can_raise: bool = False        # may leave the block with a guest exception
    ends_bb: bool = False          # control does not fall through to the next op


#: The opcodes.  ``args`` of an Op are ``outputs + inputs + constants``.
OPDEFS = {
    "mov":      OpDef(1, 1),
    # 64-bit arithmetic, modulo 2**64; shift counts are in 0..63.
    "add":      OpDef(1, 2), "sub": OpDef(1, 2), "mul": OpDef(1, 2),
    "and":      OpDef(1, 2), "or": OpDef(1, 2), "xor": OpDef(1, 2),
    "shl":      OpDef(1, 2), "shr": OpDef(1, 2), "sar": OpDef(1, 2),
    "neg":      OpDef(1, 1), "not": OpDef(1, 1),
    # Sign / zero extension of the low 8, 16 or 32 bits.
    "ext8s":    OpDef(1, 1), "ext16s": OpDef(1, 1), "ext32s": OpDef(1, 1),
    "ext8u":    OpDef(1, 1), "ext16u": OpDef(1, 1), "ext32u": OpDef(1, 1),
    # High 64 bits of the 128-bit product: signed x signed, unsigned x
    # unsigned, signed x unsigned.
    "mulsh":    OpDef(1, 2), "muluh": OpDef(1, 2), "mulsuh": OpDef(1, 2),
    # Division with RISC-V's results for a zero divisor and for overflow
    # (x / 0 = all ones, x % 0 = x, MIN / -1 = MIN, MIN % -1 = 0): no op
    # ever traps on the host.
    "div":      OpDef(1, 2), "divu": OpDef(1, 2), "rem": OpDef(1, 2), "remu": OpDef(1, 2),
    # out = 1 if (in0 cond in1) else 0
    "setcond":  OpDef(1, 2, 1),
    # Guest memory: out = load(addr), size in bytes and signedness;
    # store(addr, value) of size bytes.
    "qemu_ld":  OpDef(1, 1, 2, side_effects=True, can_raise=True),
    "qemu_st":  OpDef(0, 2, 1, side_effects=True, can_raise=True),
    # outputs = helper(*arguments); consts: (helper name, number of outputs
    # (0 or 1), constant arguments).  The arguments are the inputs in order,
    # with the constant arguments -- values that are not 64-bit integers,
    # such as True or a softfloat function, as ``(position, value)`` pairs
    # -- inserted at their positions.  A call may read and write any guest
    # state (it sees the state words), so globals are written back before
    # it and reloaded after it; a helper that writes guest memory may hit
    # translated code (as a qemu_st may).
    "call":     OpDef(-1, -1, 3, side_effects=True, can_raise=True),
    # Control flow inside the block.
    "set_label": OpDef(0, 0, 1, side_effects=True),
    "br":       OpDef(0, 0, 1, side_effects=True, ends_bb=True),
    "brcond":   OpDef(0, 2, 2, side_effects=True),        # consts: cond, label
    # A guest instruction starts: consts (guest pc, index within the block).
    "insn_start": OpDef(0, 0, 2, side_effects=True),
    # Leave the block for a guest pc known at translation time (chainable,
    # QEMU's goto_tb), or for a computed one (QEMU's exit_tb + lookup).
    "goto_tb":  OpDef(0, 0, 1, side_effects=True, ends_bb=True),
    "exit_tb":  OpDef(0, 1, 0, side_effects=True, ends_bb=True),
}


def _signed(v):
    return v - (1 << 64) if v >> 63 else v


def _div(a, b):
    if b == 0:
        return M64
    a, b = _signed(a), _signed(b)
    q = abs(a) // abs(b)
    return (-q if (a < 0) != (b < 0) else q) & M64


def _rem(a, b):
    if b == 0:
        return a
    return (_signed(a) - _signed(b) * _signed(_div(a, b))) & M64


def _ext(bits, signed):
    mask, sign = (1 << bits) - 1, 1 << (bits - 1)
    if signed:
        return lambda a: (((a & mask) ^ sign) - sign) & M64
    return lambda a: a & mask


#: What each pure opcode computes, on unsigned 64-bit inputs: the reference
#: the optimizer folds constants with and backends are tested against.
FOLD = {
    "mov": lambda a: a,
    "add": lambda a, b: (a + b) & M64, "sub": lambda a, b: (a - b) & M64,
    "mul": lambda a, b: (a * b) & M64,
    "and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
    "shl": lambda a, b: (a << (b & 63)) & M64, "shr": lambda a, b: a >> (b & 63),
    "sar": lambda a, b: (_signed(a) >> (b & 63)) & M64,
    "neg": lambda a: -a & M64, "not": lambda a: a ^ M64,
    "ext8s": _ext(8, True), "ext16s": _ext(16, True), "ext32s": _ext(32, True),
    "ext8u": _ext(8, False), "ext16u": _ext(16, False), "ext32u": _ext(32, False),
    "mulsh": lambda a, b: ((_signed(a) * _signed(b)) >> 64) & M64,
    "muluh": lambda a, b: (a * b) >> 64,
    "mulsuh": lambda a, b: ((_signed(a) * b) >> 64) & M64,
    "div": _div, "divu": lambda a, b: a // b if b else M64,
    "rem": _rem, "remu": lambda a, b: a % b if b else a,
}
#: ``a cond b`` for setcond/brcond.
COMPARE = {
    COND_EQ: lambda a, b: a == b, COND_NE: lambda a, b: a != b,
    COND_LT: lambda a, b: _signed(a) < _signed(b), COND_GE: lambda a, b: _signed(a) >= _signed(b),
    COND_LTU: lambda a, b: a < b, COND_GEU: lambda a, b: a >= b,
}


@dataclass(slots=True)
class Op:
    opc: str
    outs: tuple = ()
    ins: tuple = ()
    consts: tuple = ()

    def __str__(self):
        parts = [str(a) for a in self.outs + self.ins]
        parts += [hex(c) if isinstance(c, int) and not isinstance(c, bool) else str(c)
                  for c in self.consts]
        return f"{self.opc:<10} " + ",".join(parts)


@dataclass(slots=True)
class OpBlock:
    """The ops of one translation block and what a backend needs to run it."""
    pc: int                       # guest virtual pc of the first instruction
    ops: list
    ninsns: int                   # guest instructions in the block
    ntemps: int = 0
    nlabels: int = 0

    def dump(self):
        """Text as QEMU's ``-d op``: one op per line, instruction starts
        as ``---- pc`` lines."""
        lines = []
        for op in self.ops:
            if op.opc == "insn_start":
                lines.append(f" ---- {op.consts[0]:016x}")
            else:
                lines.append(" " + str(op))
        return "\n".join(lines)
