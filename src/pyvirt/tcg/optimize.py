"""The TCG optimizer (QEMU's tcg/optimize.c and liveness pass, reduced).

``optimize(block)`` returns a new ``OpBlock`` with the same behaviour:

* a forward pass propagates constants and copies (a temp or state word
  known to hold a constant, a temp that is a copy of another value), folds
  pure ops whose inputs are constant (``ops.FOLD``) and simple identities
  (``x + 0``, ``x & ~0``, ``x * 1``, ``x ^ x``, ``ext32s(ext32s x)``...),
  decides branches on constants, and drops code after an exit that no
  branch reaches;
* a backward pass removes pure ops whose temps are never read, and writes
  to a state word that is written again before anything reads it with no
  op between that may raise, call a helper, branch or leave -- so the state
  seen by an exception (or helper) is exactly the unoptimized one.

What is known about state words is forgotten after a ``call`` (a helper
may write any of them); at a label it is what holds on every way in.  The
guest's x0 needs nothing here: the front end reads it as ``Const(0)`` and
drops writes to it, and constant propagation folds what that leaves.
"""

from .ops import COMPARE, FOLD, M64, OPDEFS, Const, Glob, Op, OpBlock, Temp

#: Inputs that leave the other input unchanged: opcode -> (constant, position
#: it must be in (None: either)).
_IDENTITY = {"add": (0, None), "sub": (0, 1), "or": (0, None), "xor": (0, None),
             "shl": (0, 1), "shr": (0, 1), "sar": (0, 1), "and": (M64, None), "mul": (1, None)}
#: Inputs that make the result a constant: opcode -> (constant, result).
_ABSORB = {"and": (0, 0), "mul": (0, 0), "or": (M64, M64), "muluh": (0, 0), "mulsh": (0, 0)}
#: op(x, x) -> constant / -> x.
_SELF_ZERO = frozenset({"sub", "xor"})
_SELF_COPY = frozenset({"and", "or"})
#: ext(ext'(x)) where the inner one already decides the outer's result.
_EXT_BITS = {"ext8s": 8, "ext16s": 16, "ext32s": 32, "ext8u": 8, "ext16u": 16, "ext32u": 32}


class _Facts:
    """What is known at one point: constants, copies, extensions."""
    __slots__ = ("const", "copy", "defn", "deps")

    def __init__(self, const=None, copy=None, defn=None):
        self.const = const or {}    # Temp/Glob -> int
        self.copy = copy or {}      # Temp -> the Temp/Glob it equals
        self.defn = defn or {}      # Temp -> (opc, input) of the extension defining it
        self.deps = {}              # Temp/Glob -> temps whose copy/defn name it
        for t, src in self.copy.items():
            self.deps.setdefault(src, []).append(t)
        for t, (_, src) in self.defn.items():
            self.deps.setdefault(src, []).append(t)

    def clone(self):
        return _Facts(dict(self.const), dict(self.copy), dict(self.defn))

    def meet(self, other):
        """What holds on both ways into a label."""
        return _Facts({k: v for k, v in self.const.items() if other.const.get(k) == v},
                      {k: v for k, v in self.copy.items() if other.copy.get(k) == v},
                      {k: v for k, v in self.defn.items() if other.defn.get(k) == v})

    def value(self, o):
        """``o`` with what is known substituted (a constant, or the original of a copy)."""
        v = self.const.get(o)
        if v is not None:
            return Const(v)
        return self.copy.get(o, o)

    def set_copy(self, t, src):
        self.copy[t] = src
        self.deps.setdefault(src, []).append(t)

    def set_defn(self, t, opc, src):
        self.defn[t] = (opc, src)
        self.deps.setdefault(src, []).append(t)

    def written(self, o):
        """``o`` gets a new value: forget what depended on the old one."""
        self.const.pop(o, None)
        self.copy.pop(o, None)
        self.defn.pop(o, None)
        for t in self.deps.pop(o, ()):
            if self.copy.get(t) == o:
                del self.copy[t]
            if self.defn.get(t, (0, None))[1] == o:
                del self.defn[t]

    def forget_state(self):
        """After a helper call: any state word may have changed."""
        for o in [o for o in self.const if isinstance(o, Glob)]:
            del self.const[o]
        for o in [o for o in self.deps if isinstance(o, Glob)]:
            self.written(o)


def _mov(out, src):
    return Op("mov", (out,), (src,))


def _simplify(op):
    """``op`` (inputs already substituted) folded or simplified, or itself."""
    opc, ins = op.opc, op.ins
    out = op.outs[0]
    if all(isinstance(i, Const) for i in ins):
        return _mov(out, Const(FOLD[opc](*(i.value for i in ins))))
    if len(ins) == 2:
        a, b = ins
        if a == b and opc in _SELF_ZERO:
            return _mov(out, Const(0))
        if a == b and opc in _SELF_COPY:
            return _mov(out, a)
        ident = _IDENTITY.get(opc)
        if ident:
            value, pos = ident
            if isinstance(b, Const) and b.value == value:
                return _mov(out, a)
            if pos is None and isinstance(a, Const) and a.value == value:
                return _mov(out, b)
        absorb = _ABSORB.get(opc)
        if absorb and any(isinstance(i, Const) and i.value == absorb[0] for i in ins):
            return _mov(out, Const(absorb[1]))
        if opc == "sub" and isinstance(a, Const) and a.value == 0:
            return Op("neg", (out,), (b,))
    return op


def _extension(op, facts):
    """ext(x) where x comes from an extension that already decides it."""
    bits = _EXT_BITS.get(op.opc)
    src = op.ins[0]
    inner = facts.defn.get(src) if bits else None
    if inner is None:
        return op
    opc, x = inner
    inner_bits = _EXT_BITS.get(opc)
    if inner_bits is None:
        return op
    if opc == op.opc:
        return _mov(op.outs[0], src)               # ext(ext(x)) = ext(x)
    if inner_bits >= bits:
        return Op(op.opc, op.outs, (x,))           # the outer only sees bits x has
    return op


def _forward(ops, nlabels):
    """Constant/copy propagation, folding, branch decisions, unreachable code."""
    # Labels reached by a branch that comes after them: nothing is known there.
    seen, backward = set(), set()
    for op in ops:
        if op.opc == "set_label":
            seen.add(op.consts[0])
        elif op.opc in ("br", "brcond") and op.consts[-1] in seen:
            backward.add(op.consts[-1])
    out = []
    facts = _Facts()
    at_label = {}               # label -> facts on the branches to it so far
    reachable = True
    for op in ops:
        opc = op.opc
        d = OPDEFS[opc]
        if opc == "set_label":
            label = op.consts[0]
            ways = at_label.pop(label, None)
            if ways is None and not reachable and label not in backward:
                continue                    # no branch to it is left
            if label in backward:
                facts = _Facts()
            elif ways is not None:
                facts = ways if not reachable else facts.meet(ways)
            reachable = True
            out.append(op)
            continue
        if not reachable:
            continue
        ins = tuple(facts.value(i) for i in op.ins)
        op = Op(opc, op.outs, ins, op.consts)
        if opc == "brcond":
            a, b = ins
            cond, label = op.consts
            if isinstance(a, Const) and isinstance(b, Const):
                if not COMPARE[cond](a.value, b.value):
                    continue
                op = Op("br", (), (), (label,))
                d = OPDEFS["br"]
        if opc in FOLD:
            op = _extension(_simplify(op), facts)
        elif opc == "setcond" and all(isinstance(i, Const) for i in ins):
            op = _mov(op.outs[0], Const(int(COMPARE[op.consts[0]](ins[0].value, ins[1].value))))
        if op.opc == "mov" and op.outs[0] == op.ins[0]:
            continue
        if op.opc in ("br", "brcond"):
            label = op.consts[-1]
            known = at_label.get(label)
            at_label[label] = facts.clone() if known is None else known.meet(facts)
        if opc == "call":
            facts.forget_state()
        for o in op.outs:
            facts.written(o)
        if op.opc == "mov":
            src, dst = op.ins[0], op.outs[0]
            if isinstance(src, Const):
                facts.const[dst] = src.value
            elif isinstance(dst, Temp):
                facts.set_copy(dst, src)
        elif op.opc in _EXT_BITS and isinstance(op.outs[0], Temp):
            facts.set_defn(op.outs[0], op.opc, op.ins[0])
        out.append(op)
        if d.ends_bb:
            reachable = False
    # A branch to the very next op is no branch.
    result = []
    for k, op in enumerate(out):
        if op.opc == "br" and k + 1 < len(out) and out[k + 1].opc == "set_label" \
                and out[k + 1].consts[0] == op.consts[0]:
            continue
        result.append(op)
    return result


def _backward(ops):
    """Dead temps and dead state-word writes."""
    uses = {}
    for op in ops:
        for i in op.ins:
            if isinstance(i, Temp):
                uses[i] = uses.get(i, 0) + 1
    kept = []
    overwritten = set()         # state words written later with nothing reading them between
    targets = {op.consts[-1] for op in ops if op.opc in ("br", "brcond")}
    for op in reversed(ops):
        d = OPDEFS[op.opc]
        if op.opc == "set_label" and op.consts[0] not in targets:
            continue
        pure = not d.side_effects
        if pure and all((isinstance(o, Temp) and not uses.get(o)) or o in overwritten
                        for o in op.outs):
            for i in op.ins:
                if isinstance(i, Temp):
                    uses[i] -= 1
            continue
        if d.can_raise or d.ends_bb or op.opc in ("brcond", "set_label"):
            overwritten.clear()
        else:
            overwritten.update(o for o in op.outs if isinstance(o, Glob))
        overwritten.difference_update(op.ins)
        kept.append(op)
    kept.reverse()
    return kept


def optimize(block):
    """A new OpBlock: ``block`` optimized."""
    ops = _backward(_forward(block.ops, block.nlabels))
    return OpBlock(block.pc, ops, block.ninsns, block.ntemps, block.nlabels)
