"""Python source for one translation block, generated from its TCG ops.

The block's ``OpBlock`` (``target.riscv.translate``, then ``tcg.optimize``)
becomes one function::

    def tb_80000040(left, X=X, TR=TLB_R.get, ...):  # left: instructions allowed
        i = 0
        try:
            # 0x80000040: ld
            x10 = X[10]                 # a state word, read once into a local
            a = (x10 + 8) & 0xffffffffffffffff
            i = 0                       # the raise point of the next op
            o = TR(a >> 12)             # the softmmu hit path, inline
            x11 = RLD(RAM, o + (a & 4095))[0] if o is not None and ... else LD(a)
            # 0x80000044: beq
            if x11 == 0:
                X[11] = x11             # store back what is dirty, and leave
                return 0x80000080, 2    # (next pc, instructions retired)
            ...
        except BaseException:           # precise exceptions
            r, STOP[1], dirty = POINTS[i]   # (retired, pc, (11, 'x11')...) at point i
            STORE_BACK(locals(), dirty)
            STOP[0] = r
            raise

* State words (``Glob``) live in locals (``x5``, ``f3``, ``w70``), read on
  first use; the ones written are stored back at each exit.  Every op that
  can raise is a numbered raise point with what is dirty there, so the
  handler restores exactly the interpreter's state and reports in ``STOP``
  the instructions retired and the pc of the one that raised.
* A temporary used once is pasted into its use as an expression (CPython
  runs one expression faster than a store and a load).
* ``brcond`` over a side exit is an ``if``; ``goto_tb`` back to the block's
  start makes the body a ``while True:`` loop, which leaves when the budget
  ``left`` is used up or an interrupt is pending.
* ``qemu_ld``/``qemu_st`` get the TLB hit path of ``hart._make_load`` /
  ``_make_store`` inline and call the helper on a miss.
* A ``call`` gets the state words current (dirty locals stored before it,
  locals read again after it).
* Stores can hit a page holding translated code (``hart.CodePages``; such
  pages are never in the store TLB); then ``SMC[0]`` is set, and the block
  leaves right after the store (or helper) so the rest is translated again.
"""

import sys

from ...target.riscv.cpu_bits import M_MASK
from ...target.riscv.hart import MIE, MIP
from ...target.riscv.semantics import ENDS_BLOCK
from ...target.riscv.state import F_BASE, X0_SINK
from ...target.riscv.translate import LOADS, STORES
from ...target.riscv.traps import EXIT_RETRY
from ..ops import OPDEFS, Const, Glob, Temp

BRANCHES = frozenset({"beq", "bne", "blt", "bge", "bltu", "bgeu"})
INDENT = "    "
M = f"{M_MASK:#x}"
S = "0x8000000000000000"

# The memory helpers of the hart (``translate.LOADS``/``STORES``) are the
# miss path of the inline loads and stores, whose hit path uses
# ``R<name>``/``W<name>`` (struct unpack/pack functions in the block's globals).
_LOAD_HELPER = {v: k for k, v in LOADS.items()}
_STORE_HELPER = {v: k for k, v in STORES.items()}


def _signed(a):
    return f"(({a} ^ {S}) - {S})"


#: Pure ops as Python expressions of their inputs (all values unsigned 64-bit).
EXPR = {
    "mov": lambda a: a,
    "add": lambda a, b: f"({a} + {b}) & {M}",
    "sub": lambda a, b: f"({a} - {b}) & {M}",
    "mul": lambda a, b: f"({a} * {b}) & {M}",
    "and": lambda a, b: f"{a} & {b}",
    "or": lambda a, b: f"{a} | {b}",
    "xor": lambda a, b: f"{a} ^ {b}",
    "shl": lambda a, b: f"({a} << {b}) & {M}",
    "shr": lambda a, b: f"{a} >> {b}",
    "sar": lambda a, b: f"({_signed(a)} >> {b}) & {M}",
    "neg": lambda a: f"-{a} & {M}",
    "not": lambda a: f"{a} ^ {M}",
    "ext8s": lambda a: f"((({a} & 0xff) ^ 0x80) - 0x80) & {M}",
    "ext16s": lambda a: f"((({a} & 0xffff) ^ 0x8000) - 0x8000) & {M}",
    "ext32s": lambda a: f"((({a} & 0xffffffff) ^ 0x80000000) - 0x80000000) & {M}",
    "ext8u": lambda a: f"{a} & 0xff",
    "ext16u": lambda a: f"{a} & 0xffff",
    "ext32u": lambda a: f"{a} & 0xffffffff",
    "mulsh": lambda a, b: f"(({_signed(a)} * {_signed(b)}) >> 64) & {M}",
    "muluh": lambda a, b: f"({a} * {b}) >> 64",
    "mulsuh": lambda a, b: f"(({_signed(a)} * {b}) >> 64) & {M}",
    "div": lambda a, b: f"DIV({_signed(a)}, {_signed(b)}) & {M}",
    "rem": lambda a, b: f"REM({_signed(a)}, {_signed(b)}) & {M}",
    "divu": lambda a, b: f"{a} // {b} if {b} else {M}",
    "remu": lambda a, b: f"{a} % {b} if {b} else {a}",
}
COND = {
    "eq": lambda a, b: f"{a} == {b}", "ne": lambda a, b: f"{a} != {b}",
    "lt": lambda a, b: f"({a} ^ {S}) < ({b} ^ {S})",
    "ge": lambda a, b: f"({a} ^ {S}) >= ({b} ^ {S})",
    "ltu": lambda a, b: f"{a} < {b}", "geu": lambda a, b: f"{a} >= {b}",
}
#: Typed views of RAM by access (bytes, signed), on hosts whose byte order
#: is the guest's (the engine's globals ``RAM<code>``); else accesses use
#: struct functions (``R<helper>``/``W<helper>``).
VIEWS = {(1, False): "B", (2, False): "H", (4, False): "I", (8, False): "Q",
         (1, True): "b", (2, True): "h", (4, True): "i"} if sys.byteorder == "little" else {}
#: Globals the inline TLB hit path uses, as bound in the block's arguments.
FAST = {"TR": "TLB_R.get", "TW": "TLB_W.get", "RAM": "RAM"}
FAST.update({"R" + h: "R" + h for h in LOADS})
FAST.update({"W" + h: "W" + h for h in STORES})
FAST.update({"RAM" + code: "RAM" + code for code in VIEWS.values()})
#: Inputs an expression pastes more than once: they must be plain names or literals.
_REPEATS = frozenset({"divu", "remu"})
#: Ops whose low 64 bits need no mask where only the low bits are used ...
UNMASKED = {"add": lambda a, b: f"{a} + {b}", "sub": lambda a, b: f"{a} - {b}",
            "mul": lambda a, b: f"{a} * {b}", "shl": lambda a, b: f"{a} << {b}"}
#: ... as by these (and by ``and`` with a constant).
_LOW_BITS = frozenset({"ext8s", "ext16s", "ext32s", "ext8u", "ext16u", "ext32u"})


def ends_block(d):
    return d.name is None or d.name in ENDS_BLOCK


def reg_local(n):
    """The local variable holding state word ``n``."""
    if n < X0_SINK:
        return f"x{n}"
    if F_BASE <= n < F_BASE + 32:
        return f"f{n - F_BASE}"
    return f"w{n}"


class Insn:
    """One decoded guest instruction at its address."""
    __slots__ = ("pc", "d")

    def __init__(self, pc, d):
        self.pc = pc
        self.d = d

    @property
    def next_pc(self):
        return (self.pc + self.d.length) & M_MASK

    def static_target(self):
        """The constant target of a pc-relative branch or jump, else None."""
        if self.d.name in BRANCHES or self.d.name == "jal":
            return (self.pc + self.d.fields["imm"]) & M_MASK
        return None


def continuation(insn, start, seen):
    """Where decoding of the block goes on after ``insn``, or None if it ends.

    A conditional branch goes on at its fall-through (the taken side leaves
    the block), a direct jump at its target; both only within the page of
    ``start`` and not back into the block (going back to ``start`` is the
    block's loop).
    """
    d = insn.d
    if d.name in BRANCHES:
        nxt = insn.next_pc
    elif d.name == "jal":
        nxt = insn.static_target()
    elif ends_block(d):
        return None
    else:
        nxt = insn.next_pc
    return nxt if (nxt ^ start) >> 12 == 0 and nxt not in seen else None


class GenerateError(Exception):
    """Ops in a shape this generator does not turn into Python (an internal error)."""


class _Generator:
    def __init__(self, block, insns):
        self.block = block
        self.insns = insns
        self.lines = []
        self.depth = 0
        self.valid = set()          # state words whose local holds their value
        self.dirty = set()          # state words whose local is newer than X
        self.pending = {}           # temp -> (expression, state words it reads, unmasked)
        self.uses = {}
        self.points = []            # raise points: (retired before, pc, dirty)
        self.point_index = {}
        self.i = None               # the value of i here, if known
        self.k = 0                  # index of the current instruction
        self.consts = {}            # name -> object, for the block's globals
        self.fast = set()           # globals of the hit path, bound as arguments
        self.regions = []           # open ifs: [label, saved valid, saved dirty, emitted]
        self.dead = False
        start = block.pc
        ops = block.ops
        for op in ops:
            for t in op.ins:
                if isinstance(t, Temp):
                    self.uses[t] = self.uses.get(t, 0) + 1
        back = [n for n, op in enumerate(ops) if op.opc == "goto_tb" and op.consts[0] == start]
        self.loop = bool(back)
        self.later_pass = False
        # In a loop: what may be dirty at its head after a pass (a superset),
        # and what is loaded there (that, and what the loop reads).
        self.carried = set()
        self.preload = set()
        for op in ops[:back[-1] if back else 0]:
            self.carried.update(o.index for o in op.outs if isinstance(o, Glob))
            self.preload.update(o.index for o in op.ins if isinstance(o, Glob))
        self.preload |= self.carried
        # A side exit inside the loop would store all of ``carried`` even on
        # the first pass: then the first pass gets code of its own.
        self.peel = any(op.opc == "exit_tb" or op.opc == "goto_tb" and op.consts[0] != start
                        for op in ops[:back[-1] if back else 0])
        self.raising = any(OPDEFS[op.opc].can_raise for op in ops)

    # ---- output ----------------------------------------------------------
    def emit_at(self, depth, line):
        self.lines.append(INDENT * depth + line)

    def emit(self, *lines):
        if self.regions:
            self.regions[-1][3] = True
        self.lines += [INDENT * self.depth + line for line in lines]

    def const_name(self, value):
        if isinstance(value, bool) or value is None:
            return repr(value)
        name = f"K{len(self.consts)}"
        self.consts[name] = value
        return name

    # ---- values ----------------------------------------------------------
    def load(self, n):
        if n not in self.valid:
            self.emit(f"{reg_local(n)} = X[{n}]")
            if not self.regions:
                self.valid.add(n)
        return reg_local(n)

    def text(self, o, reads=None, low=False):
        """Python text of operand ``o``; adds the state words it reads to ``reads``;
        ``low``: only its low 64 bits are used, so it needs no mask."""
        if isinstance(o, Const):
            return str(o.value) if o.value < 4096 else f"{o.value:#x}"
        if isinstance(o, Glob):
            if reads is not None:
                reads.add(o.index)
            return self.load(o.index)
        if isinstance(o, Temp):
            hit = self.pending.pop(o, None)
            if hit is None:
                return f"t{o.n}"
            if reads is not None:
                reads |= hit[1]
            return f"({hit[2] if low and hit[2] else hit[0]})"
        raise GenerateError(f"unknown operand {o!r}")

    def simple(self, o, name):
        """Operand ``o`` as a name or literal, assigning ``name`` if needed."""
        return self.named(self.text(o), name)

    def named(self, text, name):
        """``text`` if a name or literal, else ``name`` assigned it."""
        if text.isidentifier() or text[0].isdigit():
            return text
        if text[0] == "(" and text[-1] == ")":
            text = text[1:-1]
        self.emit(f"{name} = {text}")
        return name

    def assign(self, out, expr, reads=frozenset(), pure=True, unmasked=None):
        if isinstance(out, Temp):
            uses = self.uses.get(out, 0)
            if pure and uses == 0:
                return
            if pure and uses == 1:
                self.pending[out] = (expr, frozenset(reads), unmasked)
                return
            self.emit(f"t{out.n} = {expr}")
            return
        n = out.index
        if self.regions:
            raise GenerateError("a state word written inside a conditional region")
        self.before_write(n)
        self.emit(f"{reg_local(n)} = {expr}")
        self.valid.add(n)
        self.dirty.add(n)

    def before_write(self, n):
        """Paste pending expressions that read state word ``n`` before it changes."""
        for t, (expr, reads, _) in list(self.pending.items()):
            if n in reads:
                del self.pending[t]
                self.emit(f"t{t.n} = {expr}")

    def store_dirty(self):
        return [f"X[{n}] = {reg_local(n)}" for n in sorted(self.dirty)]

    # ---- raise points ----------------------------------------------------
    def point(self, retired):
        """The raise point with what the handler must restore here."""
        key = (retired, self.insns[self.k].pc, tuple(sorted(self.dirty)))
        p = self.point_index.get(key)
        if p is None:
            p = self.point_index[key] = len(self.points)
            self.points.append(key)
        return p

    def raise_point(self):
        """Before an op that may raise: ``i`` names what it leaves behind."""
        p = self.point(self.k)
        if self.i != p:
            self.emit(f"i = {p}")
            if not self.regions:
                self.i = p

    def smc_check(self):
        """After a store or a helper: leave if translated code was hit."""
        p = self.point(self.k + 1)
        return (f"if SMC[0]: i = {p}; "
                f"raise BlockExit({self.insns[self.k].next_pc:#x}, {EXIT_RETRY})")

    # ---- ops -------------------------------------------------------------
    def op(self, op):
        opc = op.opc
        if self.dead and opc != "set_label":
            return
        if opc in EXPR:
            reads = set()
            low = opc in _LOW_BITS or opc == "and" and isinstance(op.ins[1], Const)
            ins = [self.text(o, reads, low) for o in op.ins]
            if opc in _REPEATS:
                ins = [self.named(t, f"u{k}") for k, t in enumerate(ins)]
            unmasked = UNMASKED.get(opc)
            self.assign(op.outs[0], EXPR[opc](*ins), reads,
                        unmasked=unmasked and unmasked(*ins))
        elif opc == "setcond":
            reads = set()
            a, b = (self.text(o, reads) for o in op.ins)
            self.assign(op.outs[0], f"1 if {COND[op.consts[0]](a, b)} else 0", reads)
        elif opc == "insn_start":
            self.k = op.consts[1]
            d = self.insns[self.k].d
            self.emit(f"# {op.consts[0]:#x}: {d.name or 'illegal'}")
        else:
            getattr(self, "op_" + opc)(op)

    def op_qemu_ld(self, op):
        size, signed = op.consts
        helper = _LOAD_HELPER[size, bool(signed)]
        a = self.simple(op.ins[0], "a")
        out = op.outs[0]
        if isinstance(out, Glob):
            self.before_write(out.index)
        self.raise_point()
        hit, cond = self.ram_access(a, size, bool(signed), "R" + helper)
        value = f"{hit}" + (f" & {M}" if signed else "")
        self.fast.add("TR")
        self.emit(f"o = TR({a} >> 12)")
        self.assign(out, f"{value} if {cond} else {helper}({a})", pure=False)

    def op_qemu_st(self, op):
        size = op.consts[0]
        helper = _STORE_HELPER[size]
        a = self.simple(op.ins[0], "a")
        v = self.simple(op.ins[1], "v")
        self.raise_point()
        masked = v if size == 8 else f"{v} & {(1 << 8 * size) - 1:#x}"
        hit, cond = self.ram_access(a, size, False, "W" + helper)
        store = f"{hit} = {masked}" if VIEWS else f"{hit[:-1]}, {masked})"
        self.fast.add("TW")
        self.emit(f"o = TW({a} >> 12)",
                  f"if {cond}: {store}",
                  "else:",
                  f"{INDENT}{helper}({a}, {v})",
                  INDENT + self.smc_check())

    def ram_access(self, a, size, signed, struct_fn):
        """(RAM location, test that the TLB hit ``o`` covers it) of an access of
        ``size`` bytes at ``a``: an element of a typed view of RAM where the
        access is aligned (little-endian hosts), else a struct call."""
        if VIEWS:
            view = "RAM" + VIEWS[size, signed]
            self.fast.add(view)
            if size == 1:
                return f"{view}[o + ({a} & 4095)]", "o is not None"
            return (f"{view}[(o + ({a} & 4095)) >> {size.bit_length() - 1}]",
                    f"o is not None and not {a} & {size - 1}")
        self.fast.update(("RAM", struct_fn))
        return f"{struct_fn}(RAM, o + ({a} & 4095))[0]", f"o is not None{_in_page(a, size)}"

    def op_call(self, op):
        name, nout, cargs = op.consts
        args = [self.text(o) for o in op.ins]
        for pos, value in cargs:
            args.insert(pos, self.const_name(value))
        for t, (expr, _, _) in list(self.pending.items()):
            del self.pending[t]
            self.emit(f"t{t.n} = {expr}")
        self.emit(*self.store_dirty())
        self.dirty = set()
        self.raise_point()
        call = f"{name}({', '.join(args)})"
        self.valid = set()          # the helper may have changed any state word
        if nout:
            self.assign(op.outs[0], call, pure=False)
        else:
            self.emit(call)
        self.emit(self.smc_check())

    def op_brcond(self, op):
        cond, label = op.consts
        inverse = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "ltu": "geu", "geu": "ltu"}
        a, b = (self.text(o) for o in op.ins)
        self.emit(f"if {COND[inverse[cond]](a, b)}:")
        self.regions.append([label, set(self.valid), set(self.dirty), False])
        self.depth += 1

    def op_set_label(self, op):
        label = op.consts[0]
        if not self.regions or self.regions[-1][0] != label:
            raise GenerateError(f"label {label} is not the end of an open branch")
        _, valid, dirty, emitted = self.regions.pop()
        if not emitted:
            self.emit("pass")
        self.depth -= 1
        if not self.dead:
            valid &= self.valid
            dirty |= self.dirty
        self.valid, self.dirty = valid, dirty
        self.i = None
        self.dead = False

    def op_br(self, op):
        raise GenerateError("unconditional branch inside a block")

    def op_goto_tb(self, op):
        target = op.consts[0]
        retired = self.k + 1
        if self.loop and target == self.block.pc:
            self.emit(f"n += {retired}")
            self.emit(f"if n >= left or X[{MIP}] and X[{MIP}] & X[{MIE}]:")
            self.emit(*(INDENT + line for line in self.store_dirty()),
                      f"{INDENT}return {target:#x}, n")
            self.emit(*(f"{reg_local(n)} = X[{n}]" for n in sorted(self.preload - self.valid)))
            self.emit("continue" if self.later_pass else "p = 1; continue")
        else:
            self.leave(f"{target:#x}", retired)
        self.dead = True

    def op_exit_tb(self, op):
        target = self.simple(op.ins[0], "a")
        self.leave(target, self.k + 1)
        self.dead = True

    def leave(self, target, retired):
        done = "n + " if self.loop else ""
        self.emit(*self.store_dirty(), f"return {target}, {done}{retired}")

    # ---- the function ----------------------------------------------------
    def body(self, depth, valid, dirty):
        """The ops once, from state words ``valid`` and ``dirty``."""
        self.depth = depth
        self.valid, self.dirty = valid, dirty
        self.i = None
        self.dead = False
        for op in self.block.ops:
            self.op(op)
        if not self.dead or self.regions or self.pending:
            raise GenerateError("the block does not end with an exit")

    def generate(self, name):
        depth = 1 + self.raising + self.loop
        head = []
        if self.peel:
            # The first pass loads state words as it needs them and stores
            # only what it wrote; later passes start with what a pass leaves
            # (the loop's registers loaded, what it writes dirty).
            head += [INDENT + "n = 0", INDENT + "p = 0"]
            self.emit_at(depth - 1, "while True:")
            self.emit_at(depth, "if p:")
            self.later_pass = True
            self.body(depth + 1, set(self.preload), set(self.carried))
            self.later_pass = False
            self.body(depth, set(), set())
        elif self.loop:
            head += [INDENT + f"{reg_local(n)} = X[{n}]" for n in sorted(self.preload)]
            head.append(INDENT + "n = 0")
            self.emit_at(depth - 1, "while True:")
            self.later_pass = True
            self.body(depth, set(self.preload), set(self.carried))
        else:
            self.body(depth, set(), set())
        body = self.lines
        if self.raising:
            head.append(INDENT + "i = 0")
            done = "n + " if self.loop else ""
            # The raise points' table is an object in the block's globals
            # (source text would cost compile time).
            self.consts["POINTS"] = tuple(
                (retired, pc, tuple((n, reg_local(n)) for n in dirty))
                for retired, pc, dirty in self.points)
            body = [INDENT + "try:"] + body + [
                INDENT + "except BaseException:",
                INDENT * 2 + "r, STOP[1], dirty = POINTS[i]",
                INDENT * 2 + "STORE_BACK(locals(), dirty)",
                INDENT * 2 + f"STOP[0] = {done}r",
                INDENT * 2 + "raise"]
        # What the hot path uses, bound once as arguments: locals are the
        # fastest names (the TLB dicts are cleared, never replaced).
        fast = "".join(f", {n}={FAST[n]}" for n in sorted(self.fast))
        return "\n".join([f"def {name}(left, X=X{fast}):"] + head + body) + "\n"


def _in_page(a, size):
    """The test that an access of ``size`` bytes at ``a`` stays in its page."""
    return "" if size == 1 else f" and {a} & 4095 <= {4096 - size}"


def generate(name, block, insns):
    """(source, constants): ``def name(left) -> (next_pc, retired)`` for the ops
    of ``block``, translated from ``insns``, and the objects its source names
    that the engine's globals must add."""
    g = _Generator(block, insns)
    return g.generate(name), g.consts
