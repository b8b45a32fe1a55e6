"""RISC-V instructions -> TCG ops, lowered from the semantics templates.

The templates of ``semantics`` stay the one description of behaviour: this
module parses each once (``ast``) and, for every decoded instruction,
evaluates its statements symbolically.  Decoded operands (``rd rs1 rs2 rs3
imm rm csr``), ``pc``, ``ln``, ``insn`` and the constant names (``M``,
``S``, ``BOX``, ``SF.add``, ``AMO_ADD``...) are known at translation time,
so expressions over them fold to Python values; ``X[r]`` reads are the
state word ``Glob(r)`` (x0 reads as ``Const(0)``) and everything computed
from them becomes ops on temporaries.

A template computes with unbounded Python ints; ops compute modulo 2**64.
Each symbolic value therefore carries how its Python value relates to its
64-bit operand (``Val.kind``): ``u`` exactly the operand, ``s`` the
operand's signed reading, ``w`` only equal modulo 2**64 (a sum, a product).
Operations that see more than the low 64 bits (``>>``, compares, the high
half of a product, division) accept only exact values, and the template
idioms say which reading is meant:

* ``(x ^ S) - S`` is ``x`` read as signed; ``(x ^ S) < (y ^ S)`` a signed
  compare;
* ``(((e & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000`` (``_s32``; ``_sx32``
  adds ``& M``) is ``ext32s``;
* ``(a * b) >> 64`` is ``mulsh``/``muluh``/``mulsuh`` by the kinds of a, b;
* ``1 if cmp else 0`` is ``setcond``; ``if cmp: return T`` a ``brcond``
  around a side exit, after which the block goes on at the fall-through;
  ``return T`` leaves through ``goto_tb`` (constant T) or ``exit_tb``.
* ``LB``..``SD`` are ``qemu_ld``/``qemu_st``; ``DIV REM DIVU REMU`` the
  division ops; any other helper is a ``call``.

Anything else raises ``TranslateError``; every template is lowered once at
import, so an unsupported one fails loudly there, never mistranslates.
"""

import ast

from ...tcg.ops import (
    COND_EQ, COND_GE, COND_GEU, COND_LT, COND_LTU, COND_NE, INVERT, Const, Glob, Label, Op,
    OpBlock, Temp,
)
from . import softfloat
from .cpu_bits import M_MASK, SIGN
from .decode import Decoded
from .fpu import BOX
from .semantics import AMO_OPS, SEMANTICS
from .state import X0_SINK

#: Names a template may use whose value is fixed (not per hart).
NAMES = {"M": M_MASK, "S": SIGN, "BOX": BOX, "SF": softfloat}
NAMES.update({f"AMO_{name.upper()}": combine for name, combine in AMO_OPS.items()})
#: Memory helpers: name -> (bytes, signed).
LOADS = {"LB": (1, True), "LH": (2, True), "LW": (4, True), "LD": (8, False),
         "LBU": (1, False), "LHU": (2, False), "LWU": (4, False)}
STORES = {"SB": 1, "SH": 2, "SW": 4, "SD": 8}
#: Division helpers: name -> (op, operand kind).
DIVISIONS = {"DIV": ("div", "s"), "REM": ("rem", "s"), "DIVU": ("divu", "u"), "REMU": ("remu", "u")}
#: The template of an encoding the decoder does not know.
ILLEGAL_TEMPLATE = "ILLEGAL(insn)"
OPERANDS = ("rd", "rs1", "rs2", "rs3", "imm", "rm", "csr")
M32 = 0xFFFFFFFF
B31 = 0x80000000

_CMP = {ast.Eq: (COND_EQ, COND_EQ, False), ast.NotEq: (COND_NE, COND_NE, False),
        ast.Lt: (COND_LT, COND_LTU, False), ast.GtE: (COND_GE, COND_GEU, False),
        ast.Gt: (COND_LT, COND_LTU, True), ast.LtE: (COND_GE, COND_GEU, True)}
_FOLD = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
         ast.BitAnd: lambda a, b: a & b, ast.BitOr: lambda a, b: a | b,
         ast.BitXor: lambda a, b: a ^ b, ast.LShift: lambda a, b: a << b,
         ast.RShift: lambda a, b: a >> b}
_OPC = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.BitAnd: "and", ast.BitOr: "or",
        ast.BitXor: "xor"}


class TranslateError(Exception):
    """A template uses a form the lowering does not know (an internal error)."""


class Val:
    """A value computed at run time: its 64-bit operand and how the template's
    Python int relates to it (``u``/``s``/``w``, see the module docstring);
    ``limit`` bounds an exact unsigned value (for shift counts)."""
    __slots__ = ("opnd", "kind", "limit")

    def __init__(self, opnd, kind, limit=M_MASK):
        self.opnd = opnd
        self.kind = kind
        self.limit = limit


class Cond:
    """A compare: ``a cond b`` on operands."""
    __slots__ = ("cond", "a", "b")

    def __init__(self, cond, a, b):
        self.cond = cond
        self.a = a
        self.b = b


def _const(v):
    """A translation-time int as a Val (its kind says how it reads in 64 bits)."""
    kind = "u" if 0 <= v <= M_MASK else "s" if -SIGN <= v < 0 else "w"
    return Val(Const(v & M_MASK), kind, v & M_MASK)


def _is_const(node, value):
    return isinstance(node, ast.Constant) and node.value == value or \
        isinstance(node, ast.Name) and NAMES.get(node.id, None) is value


def _binop(node, op, right_value):
    """``node`` is ``<x> op right_value``: its left side, else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, op) and _is_const(node.right, right_value):
        return node.left
    return None


class _Builder:
    """The ops of one block as they are emitted."""

    def __init__(self):
        self.ops = []
        self.ntemps = 0
        self.nlabels = 0

    def temp(self):
        self.ntemps += 1
        return Temp(self.ntemps - 1)

    def label(self):
        self.nlabels += 1
        return Label(self.nlabels - 1)

    def emit(self, opc, outs=(), ins=(), consts=()):
        self.ops.append(Op(opc, tuple(outs), tuple(ins), tuple(consts)))

    def value(self, opc, *ins, consts=()):
        t = self.temp()
        self.emit(opc, (t,), ins, consts)
        return t


class _Lowering:
    """One instruction's template evaluated against its decoded operands."""

    def __init__(self, b, name, env, follow):
        self.b = b
        self.name = name
        self.env = env
        self.follow = follow        # pc the block goes on at after this instruction, or None
        self.locals = {}

    def fail(self, node, what):
        raise TranslateError(f"template of {self.name!r}: {what}: {ast.unparse(node)!r}")

    # ---- statements --------------------------------------------------------
    def run(self, stmts):
        """Lower ``stmts``; True if control leaves unconditionally."""
        for k, s in enumerate(stmts):
            if isinstance(s, ast.Return):
                if k != len(stmts) - 1:
                    self.fail(s, "code after return")
                self.leave(s, self.ev(s.value), last=True)
                return True
            if isinstance(s, ast.Assign) and len(s.targets) == 1:
                self.assign(s.targets[0], s.value)
            elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
                self.call(s.value, nout=0)
            elif isinstance(s, ast.If) and not s.orelse and len(s.body) == 1 \
                    and isinstance(s.body[0], ast.Return):
                self.side_exit(s)
            elif not isinstance(s, ast.Pass):
                self.fail(s, "unsupported statement")
        return False

    def assign(self, target, value_node):
        if isinstance(target, ast.Name):
            self.locals[target.id] = self.ev(value_node)
            return
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                and target.value.id == "X"):
            self.fail(target, "unsupported assignment target")
        index = self.ev(target.slice)
        value = self.ev(value_node)
        if not isinstance(index, int):
            self.fail(target, "register number not known at translation time")
        if index == X0_SINK:
            return                  # x0: what the value cost (a load, a call) is already emitted
        v = self.val(value, value_node)
        ops = self.b.ops
        # The value computed right here by the last op (and kept nowhere else):
        # let that op write the register.
        if isinstance(v.opnd, Temp) and ops and ops[-1].outs == (v.opnd,) \
                and not any(isinstance(x, Val) and x.opnd == v.opnd for x in self.locals.values()):
            ops[-1].outs = (Glob(index),)
        else:
            self.b.emit("mov", (Glob(index),), (v.opnd,))

    def side_exit(self, s):
        test = self.ev(s.test)
        if isinstance(test, (bool, int)):
            if test:
                self.leave(s, self.ev(s.body[0].value), last=False)
            return
        if not isinstance(test, Cond):
            self.fail(s.test, "branch condition is not a compare")
        skip = self.b.label()
        self.b.emit("brcond", (), (test.a, test.b), (INVERT[test.cond], skip))
        self.leave(s, self.ev(s.body[0].value), last=False)
        self.b.emit("set_label", consts=(skip,))

    def leave(self, node, target, last):
        if isinstance(target, int):
            target &= M_MASK
            if last and target == self.follow:
                return              # a direct jump the block follows
            self.b.emit("goto_tb", consts=(target,))
        elif isinstance(target, Val) and target.kind != "s":
            self.b.emit("exit_tb", (), (target.opnd,))
        else:
            self.fail(node, "unsupported jump target")

    # ---- expressions -------------------------------------------------------
    def val(self, v, node):
        """``v`` as a Val (translation-time ints become constants)."""
        if isinstance(v, Val):
            return v
        if isinstance(v, int) and not isinstance(v, bool):
            return _const(v)
        self.fail(node, "expected an integer value")

    def exact(self, v, node, kinds=("u", "s")):
        v = self.val(v, node)
        if v.kind not in kinds:
            self.fail(node, f"needs an exact {'/'.join(kinds)} value")
        return v

    def ev(self, node):
        handler = _EVAL.get(type(node))
        if handler is None:
            self.fail(node, "unsupported expression")
        return handler(self, node)

    def ev_name(self, node):
        n = node.id
        for scope in (self.locals, self.env, NAMES):
            if n in scope:
                return scope[n]
        self.fail(node, "unknown name")

    def ev_attribute(self, node):
        base = self.ev(node.value)
        if isinstance(base, Val) or not hasattr(base, node.attr):
            self.fail(node, "unsupported attribute")
        return getattr(base, node.attr)

    def ev_subscript(self, node):
        if not (isinstance(node.value, ast.Name) and node.value.id == "X"):
            self.fail(node, "only X[...] may be indexed")
        r = self.ev(node.slice)
        if not isinstance(r, int):
            self.fail(node, "register number not known at translation time")
        return _const(0) if r == 0 else Val(Glob(r), "u")

    def ev_unary(self, node):
        v = self.ev(node.operand)
        fold = _UNARY.get(type(node.op))
        if not isinstance(v, int) or fold is None:
            self.fail(node, "unsupported unary operation")
        return fold(v)

    def ev_ifexp(self, node):
        test = self.ev(node.test)
        if isinstance(test, (bool, int)):
            return self.ev(node.body if test else node.orelse)
        if isinstance(test, Cond) and _is_const(node.body, 1) and _is_const(node.orelse, 0):
            return Val(self.b.value("setcond", test.a, test.b, consts=(test.cond,)), "u", 1)
        self.fail(node, "only '1 if compare else 0' is supported")

    def binop(self, node):
        op = type(node.op)
        # (x ^ S) - S: x read as signed
        inner = _binop(node, ast.Sub, SIGN)
        if inner is not None and _binop(inner, ast.BitXor, SIGN) is not None:
            x = self.ev(inner.left)
            if isinstance(x, Val):
                return Val(self.exact(x, inner.left, ("u",)).opnd, "s")
        # ((e & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000: the low 32 bits of e, signed
        inner = _binop(node, ast.Sub, B31)
        inner = inner and _binop(inner, ast.BitXor, B31)
        inner = inner and _binop(inner, ast.BitAnd, M32)
        if inner is not None:
            e = self.ev(inner)
            if isinstance(e, Val):
                return Val(self.b.value("ext32s", e.opnd), "s")
        # (a * b) >> 64: the high half of the product
        if op is ast.RShift and _is_const(node.right, 64) and isinstance(node.left, ast.BinOp) \
                and isinstance(node.left.op, ast.Mult):
            return self.mulh(node.left)
        a, b = self.ev(node.left), self.ev(node.right)
        if isinstance(a, int) and isinstance(b, int):
            if op not in _FOLD:
                self.fail(node, "unsupported operation")
            return _FOLD[op](a, b)
        if op is ast.BitAnd:
            return self.and_(node, a, b)
        if op in (ast.Add, ast.Sub, ast.Mult):
            a, b = self.val(a, node.left), self.val(b, node.right)
            return Val(self.b.value(_OPC[op], a.opnd, b.opnd), "w")
        if op in (ast.BitOr, ast.BitXor):
            a, b = self.val(a, node.left), self.val(b, node.right)
            kind = "u" if a.kind == b.kind == "u" else "w"
            return Val(self.b.value(_OPC[op], a.opnd, b.opnd), kind)
        if op in (ast.LShift, ast.RShift):
            return self.shift(node, op, a, b)
        self.fail(node, "unsupported operation on a run-time value")

    def and_(self, node, a, b):
        if isinstance(a, int):
            a, b = b, a
        a = self.val(a, node)
        if isinstance(b, int):
            if b == M_MASK:
                return Val(a.opnd, "u")
            if b < 0 and a.kind != "u" or b > M_MASK:
                self.fail(node, "mask outside 64 bits")
            b &= M_MASK
            opc = {0xFF: "ext8u", 0xFFFF: "ext16u", M32: "ext32u"}.get(b)
            if opc:
                return Val(self.b.value(opc, a.opnd), "u", b)
            return Val(self.b.value("and", a.opnd, Const(b)), "u", b)
        b = self.val(b, node)
        kind = "u" if "u" in (a.kind, b.kind) else "w"
        return Val(self.b.value("and", a.opnd, b.opnd), kind, min(a.limit, b.limit))

    def shift(self, node, op, a, count):
        if isinstance(count, int):
            if not 0 <= count < 64:
                self.fail(node, "shift count outside 0..63")
            count = _const(count)
        elif not isinstance(count, Val) or count.kind != "u" or count.limit > 63:
            self.fail(node, "shift count not masked to 0..63")
        if op is ast.LShift:
            return Val(self.b.value("shl", self.val(a, node.left).opnd, count.opnd), "w")
        a = self.exact(a, node.left)
        return Val(self.b.value("shr" if a.kind == "u" else "sar", a.opnd, count.opnd), a.kind)

    def mulh(self, prod):
        a = self.exact(self.ev(prod.left), prod.left)
        b = self.exact(self.ev(prod.right), prod.right)
        if a.kind == "u" and b.kind == "s":
            a, b = b, a
        opc = {("s", "s"): "mulsh", ("u", "u"): "muluh", ("s", "u"): "mulsuh"}[a.kind, b.kind]
        return Val(self.b.value(opc, a.opnd, b.opnd), "s" if "s" in (a.kind, b.kind) else "u")

    def compare(self, node):
        if len(node.ops) != 1 or type(node.ops[0]) not in _CMP:
            self.fail(node, "unsupported compare")
        sides = []
        for n in (node.left, node.comparators[0]):
            flipped = _binop(n, ast.BitXor, SIGN)
            v = self.ev(flipped if flipped is not None else n)
            sides.append((v, flipped is not None, n))
        (a, fa, na), (b, fb, nb) = sides
        if isinstance(a, int) and isinstance(b, int):
            return self.ev_folded(node)
        signed_cond, unsigned_cond, swap = _CMP[type(node.ops[0])]
        kinds = set()
        vals = []
        for v, flipped, n in sides:
            if not isinstance(v, int):
                v = self.exact(v, n, ("u",) if flipped else ("u", "s"))
                kinds.add("s" if flipped or v.kind == "s" else "u")
        if len(kinds) > 1:
            self.fail(node, "compare of a signed and an unsigned value")
        for v, flipped, n in sides:
            if isinstance(v, int):
                # A constant reads as the other side does: unsigned, or flipped/signed.
                if not (0 <= v <= M_MASK if flipped or kinds == {"u"} else -SIGN <= v < SIGN):
                    self.fail(n, "constant outside the compared range")
                v = _const(v)
            vals.append(v)
        if fa != fb and not (isinstance(a, int) or isinstance(b, int)):
            self.fail(node, "compare of a flipped and a plain value")
        cond = signed_cond if kinds == {"s"} else unsigned_cond
        x, y = vals
        if swap:
            x, y = y, x
        return Cond(cond, x.opnd, y.opnd)

    def ev_folded(self, node):
        a, b = self.ev(node.left), self.ev(node.comparators[0])
        return {ast.Eq: a == b, ast.NotEq: a != b, ast.Lt: a < b, ast.GtE: a >= b,
                ast.Gt: a > b, ast.LtE: a <= b}[type(node.ops[0])]

    def call(self, node, nout):
        if not isinstance(node.func, ast.Name) or node.keywords:
            self.fail(node, "unsupported call")
        fn = node.func.id
        args = [self.ev(a) for a in node.args]
        if fn in LOADS:
            size, signed = LOADS[fn]
            addr = self.exact(args[0], node)
            return Val(self.b.value("qemu_ld", addr.opnd, consts=(size, signed)), "u")
        if fn in STORES:
            addr, value = (self.val(a, node) for a in args)
            self.b.emit("qemu_st", (), (addr.opnd, value.opnd), (STORES[fn],))
            return None
        if fn in DIVISIONS:
            return self.division(node, fn, args)
        if not fn.isupper() or fn in NAMES:
            self.fail(node, "unknown helper")
        ins, cargs = [], []
        for k, (a, n) in enumerate(zip(args, node.args)):
            if isinstance(a, Val):
                ins.append(a.opnd)
            elif isinstance(a, int) and not isinstance(a, bool):
                if not 0 <= a <= M_MASK:
                    self.fail(n, "helper argument outside 64 bits")
                ins.append(Const(a))
            else:
                cargs.append((k, a))
        outs = (self.b.temp(),) if nout else ()
        self.b.emit("call", outs, ins, (fn, nout, tuple(cargs)))
        return Val(outs[0], "u") if nout else None

    def division(self, node, fn, args):
        opc, kind = DIVISIONS[fn]
        a, b = (self.exact(v, node, (kind,)) for v in args[:2])
        q = self.b.value(opc, a.opnd, b.opnd)
        if fn == "DIVU":
            ones = args[2] if len(args) == 3 else None
            if ones == M32:         # the 32-bit form: all ones is 32 bits wide
                return Val(self.b.value("ext32u", q), "u")
            if ones != M_MASK:
                self.fail(node, "DIVU's third argument must be M or 0xFFFFFFFF")
        return Val(q, "w" if kind == "s" else "u")


_UNARY = {ast.USub: lambda v: -v, ast.Invert: lambda v: ~v, ast.Not: lambda v: not v}
#: How each kind of expression node is evaluated.
_EVAL = {
    ast.Constant: lambda self, node: node.value,
    ast.Name: _Lowering.ev_name,
    ast.Attribute: _Lowering.ev_attribute,
    ast.Subscript: _Lowering.ev_subscript,
    ast.UnaryOp: _Lowering.ev_unary,
    ast.BinOp: _Lowering.binop,
    ast.Compare: _Lowering.compare,
    ast.IfExp: _Lowering.ev_ifexp,
    ast.Call: lambda self, node: self.call(node, nout=1),
}


def _parse(body):
    return ast.parse(body).body


TEMPLATES = {name: _parse(body) for name, body in SEMANTICS.items()}
ILLEGAL = _parse(ILLEGAL_TEMPLATE)


def translate(insns):
    """The OpBlock of ``insns``: decoded instructions (``.pc``, ``.d`` as from
    ``decode.decode``) in execution order along the block's path, a direct
    jump followed when the next instruction is its target."""
    b = _Builder()
    left = False
    for k, insn in enumerate(insns):
        d = insn.d
        env = {name: d.fields.get(name, 0) for name in OPERANDS}
        env.update(pc=insn.pc, ln=d.length, insn=d.raw)
        follow = insns[k + 1].pc if k + 1 < len(insns) else None
        b.emit("insn_start", consts=(insn.pc, k))
        stmts = TEMPLATES[d.name] if d.name is not None else ILLEGAL
        left = _Lowering(b, d.name or "illegal", env, follow).run(stmts)
        if left and k + 1 < len(insns) and b.ops[-1].opc in ("goto_tb", "exit_tb"):
            raise TranslateError(f"instructions after the exit of {d.name} at {insn.pc:#x}")
    if not left:
        last = insns[-1]
        b.emit("goto_tb", consts=((last.pc + last.d.length) & M_MASK,))
    return OpBlock(insns[0].pc, b.ops, len(insns), b.ntemps, b.nlabels)


class _Sample:
    """A decoded instruction made up for checking a template."""

    def __init__(self, pc, name, fields):
        self.pc = pc
        self.d = Decoded(name, fields, 4, 0x13)


def check_templates():
    """Lower every template, with registers x0 and others: a form the lowering
    does not know raises TranslateError here (at import), not at run time."""
    for fields in (dict(rd=5, rs1=6, rs2=7, rs3=8, imm=12, rm=1, csr=0x300),
                   dict(rd=X0_SINK, rs1=0, rs2=0, rs3=0, imm=0, rm=0, csr=0x300)):
        for name in SEMANTICS:
            translate([_Sample(0x80000000, name, fields)])
    translate([_Sample(0x80000000, None, {})])


check_templates()
