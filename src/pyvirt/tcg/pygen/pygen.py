"""Python source for one translation block, pasted from the semantics table.

Each guest instruction's one-statement template from
``target.riscv.semantics`` is specialised with its decoded operands and
address, and the statements of a whole block become one function::

    def tb_80000040(left):              # left: instructions the caller allows
        x10 = X[10]                     # registers read before written: locals
        i = 0
        try:
            # 0x80000040: ld
            i = 0                       # the instruction that may raise
            a = (x10 + 8) & 0xffffffffffffffff
            o = TLB_R.get(a >> 12)      # the softmmu hit path, inline
            x11 = RLD(RAM, o + (a & 4095))[0] if o is not None and ... else LD(a)
            # 0x80000044: beq
            if x11 == 0:
                X[11] = x11             # store back what is dirty, and leave
                return 0x80000080, 2    # (next pc, instructions retired)
            ...
        except BaseException:           # precise exceptions
            STORE_BACK(locals(), ((11, 'x11'), ...))
            STOP[0] = i; STOP[1] = (0x80000040, 0x80000044, ...)[i]
            raise

How templates are specialised:

* ``X[rd]``, ``X[rs1]``... become locals ``x5``/``f3``; reads of x0 become
  ``0``; a write to x0 (``X0_SINK``) is dropped unless the statement calls
  a helper that can have an effect (a load can fault), which then assigns
  ``_``.
* ``pc``, ``imm``, ``ln``... become constants, ``M``/``S``/``BOX`` literals,
  so CPython's compiler folds pc-relative addresses; operands of 0 fold away.
* ``if C: return T`` (a branch) becomes a side exit ``if C: <store>; return
  T, k``, and the block goes on at the fall-through; a direct jump within the
  page is followed; ``return T`` at the end (``jalr``) is the last exit.
* Plain loads and stores get the TLB hit path of ``hart._make_load`` /
  ``_make_store`` inline and call the helper on a miss.
* An instruction that ends the block through a helper (CSR access, xRET,
  ecall, wfi, fences) runs after the registers are stored back, with its
  template unchanged against ``X``, since those helpers read or write the
  state words themselves.
* A branch back to the block's start makes the body a ``while True:`` loop,
  which leaves when the budget ``left`` is used up or an interrupt is
  pending.
* Stores can hit a page holding translated code (``hart.CodePages``; such
  pages are never in the store TLB); then ``SMC[0]`` is set, and the block
  leaves right after the store so the rest is translated again from the
  new bytes.

The generated function reports instructions retired before an exception
in ``STOP`` = [retired, pc of the instruction that raised].
"""

import re

from ...target.riscv.cpu_bits import M_MASK, SIGN
from ...target.riscv.fpu import BOX
from ...target.riscv.hart import MIE, MIP
from ...target.riscv.semantics import ENDS_BLOCK, SEMANTICS
from ...target.riscv.state import F_BASE, X0_SINK
from ...target.riscv.traps import EXIT_RETRY

#: Helpers that compute without side effects and cannot raise.
PURE_HELPERS = frozenset({"DIV", "REM", "DIVU", "REMU"})
#: Helpers that write guest memory (and so may hit translated code).
STORE_HELPERS = frozenset({"SB", "SH", "SW", "SD", "SC", "AMO"})

_CALL = re.compile(r"\b([A-Z][A-Z0-9_]*)\(")
_REG = re.compile(r"\bX\[(rd|rs1|rs2|rs3)\]")
_FIELD = re.compile(r"\b(rd|rs1|rs2|rs3|imm|rm|csr|ln|insn|pc)\b")
_CONST = re.compile(r"\b(M|S|BOX)\b")
_CONSTANTS = {"M": f"{M_MASK:#x}", "S": f"{SIGN:#x}", "BOX": f"{BOX:#x}"}
_TRANSFER = re.compile(r"^(?:if (?P<cond>.*): )?return (?P<target>.*)$")
_WRITE_RD = "X[rd] = "
_OPERANDS = ("rd", "rs1", "rs2", "rs3", "imm", "rm", "csr")
BRANCHES = frozenset({"beq", "bne", "blt", "bge", "bltu", "bgeu"})

INDENT = "    "


#: The softmmu fast path inlined for the memory helpers: (TLB, access
#: function in the block's globals, bytes, signed) -- see ``hart._make_load``.
LOADS = {"LB": (1, True), "LH": (2, True), "LW": (4, True), "LD": (8, False),
         "LBU": (1, False), "LHU": (2, False), "LWU": (4, False)}
STORES = {"SB": 1, "SH": 2, "SW": 4, "SD": 8}
_LOAD_LINE = re.compile(r"^X\[rd\] = (%s)\((.*)\)$" % "|".join(LOADS))
_STORE_LINE = re.compile(r"^(%s)\((.*), (X\[rs2\])\)$" % "|".join(STORES))


class Template:
    """What the generator needs to know about one instruction's template."""

    def __init__(self, name, body):
        self.name = name
        self.lines = body.split("\n")
        #: (helper, address expression[, value expression]) of a plain load or store
        self.load = _LOAD_LINE.match(body)
        self.store = _STORE_LINE.match(body)
        calls = set(_CALL.findall(body))
        self.may_raise = bool(calls - PURE_HELPERS)
        self.stores = bool(calls & STORE_HELPERS)
        self.transfers = any(_TRANSFER.match(line) for line in self.lines)
        #: Ends the block inside a helper: runs against the state words.
        self.helper_exit = name in ENDS_BLOCK and not self.transfers


TEMPLATES = {name: Template(name, body) for name, body in SEMANTICS.items()}
#: The template of an encoding the decoder does not know.
ILLEGAL = Template("illegal", "ILLEGAL(insn)")
ILLEGAL.helper_exit = True


def template_of(d):
    return TEMPLATES[d.name] if d.name is not None else ILLEGAL


_ADD_ZERO = re.compile(r"\((?:0 \+ (\w+)|(\w+) \+ 0)\)")
_MASKED_VALUE = re.compile(r"^(\w+) & 0xffffffffffffffff$")


def _simplify(text):
    """Fold what operands of 0 leave of a template (``mv``, ``li``, ``0(rs1)``):
    ``(0 + x5)`` is ``x5``, and a register or small constant needs no mask."""
    text = _ADD_ZERO.sub(lambda m: m.group(1) or m.group(2), text)
    return _MASKED_VALUE.sub(r"\1", text)


def _in_page(size):
    """The test that an access of ``size`` bytes at ``a`` stays in its page."""
    return "" if size == 1 else f" and a & 4095 <= {4096 - size}"


def ends_block(d):
    return d.name is None or d.name in ENDS_BLOCK


def reg_local(n):
    """The local variable holding state word ``n`` (an x or f register)."""
    return f"f{n - F_BASE}" if n >= F_BASE else f"x{n}"


class Insn:
    """One decoded guest instruction at its address, ready to specialise."""

    def __init__(self, pc, d):
        self.pc = pc
        self.d = d
        self.t = template_of(d)
        f = d.fields
        self.values = {k: f.get(k, 0) for k in _OPERANDS}
        self.values.update(ln=d.length, insn=d.raw, pc=pc)

    @property
    def next_pc(self):
        return (self.pc + self.d.length) & M_MASK

    def _field_text(self, name):
        v = self.values[name]
        if name in ("pc", "insn"):
            return f"{v:#x}"
        return f"({v})" if v < 0 else str(v)

    def _fields(self, text):
        text = _FIELD.sub(lambda m: self._field_text(m.group(1)), text)
        return _simplify(_CONST.sub(lambda m: _CONSTANTS[m.group(1)], text))

    def statements_on_state(self):
        """The template against the state words ``X`` (helper-exit instructions)."""
        return [self._fields(_REG.sub(lambda m: f"X[{self.values[m.group(1)]}]", line))
                for line in self.t.lines]

    def statements_on_locals(self, regs_read, regs_written, k):
        """The template against register locals, as instruction ``k`` of its
        block; records which registers it uses.

        A control transfer comes out as an ``Exit(cond, target)`` among the lines.
        """
        out = []

        def read(m):
            n = self.values[m.group(1)]
            if n == 0:
                return "0"
            regs_read.add(n)
            return reg_local(n)

        if self.t.load:
            return self._inline_load(read, regs_written)
        if self.t.store:
            return self._inline_store(read, k)
        for line in self.t.lines:
            target = None
            if line.startswith(_WRITE_RD):
                line = line[len(_WRITE_RD):]
                rd = self.values["rd"]
                if rd == X0_SINK:
                    if not set(_CALL.findall(line)) - PURE_HELPERS:
                        continue            # a pure write to x0: nothing happens
                    target = "_"
                else:
                    regs_written.add(rd)
                    target = reg_local(rd)
            line = self._fields(_REG.sub(read, line))
            m = _TRANSFER.match(line)
            if m:
                out.append(Exit(m.group("cond"), m.group("target")))
            else:
                out.append(line if target is None else f"{target} = {line}")
        if self.t.stores:
            out.append(self._left_code(k))
        return out

    def _left_code(self, k):
        """After a store: leave if it hit translated code (the rest may have changed)."""
        return f"if SMC[0]: i = {k + 1}; raise BlockExit({self.next_pc:#x}, {EXIT_RETRY})"

    def _inline_load(self, read, regs_written):
        """``rd = LD(addr)`` with the TLB hit path inline and the helper as miss path."""
        helper, addr = self.t.load.groups()
        size, signed = LOADS[helper]
        rd = self.values["rd"]
        if rd == X0_SINK:
            target = "_"
        else:
            regs_written.add(rd)
            target = reg_local(rd)
        value = f"R{helper}(RAM, o + (a & 4095))[0]" + (" & 0xffffffffffffffff" if signed else "")
        return [f"a = {self._fields(_REG.sub(read, addr))}",
                "o = TLB_R.get(a >> 12)",
                f"{target} = {value} if o is not None{_in_page(size)} else {helper}(a)"]

    def _inline_store(self, read, k):
        """``ST(addr, value)`` with the TLB hit path inline; the helper on a miss may
        hit translated code (then leave after it: see ``SMC``)."""
        helper, addr, value = self.t.store.groups()
        size = STORES[helper]
        value = self._fields(_REG.sub(read, value))
        masked = value if size == 8 else f"{value} & {(1 << 8 * size) - 1:#x}"
        return [f"a = {self._fields(_REG.sub(read, addr))}",
                "o = TLB_W.get(a >> 12)",
                f"if o is not None{_in_page(size)}: W{helper}(RAM, o + (a & 4095), {masked})",
                "else:",
                f"{INDENT}{helper}(a, {value})",
                INDENT + self._left_code(k)]

    def static_target(self):
        """The constant target of a pc-relative branch or jump, else None."""
        if self.d.name in BRANCHES or self.d.name == "jal":
            return (self.pc + self.values["imm"]) & M_MASK
        return None


class Exit:
    """A control transfer in a template: ``if cond: return target``."""
    __slots__ = ("cond", "target")

    def __init__(self, cond, target):
        self.cond = cond
        self.target = target


def continuation(insn, start, seen):
    """Where decoding of the block goes on after ``insn``, or None if it ends.

    A conditional branch goes on at its fall-through (the taken side leaves
    the block), a direct jump at its target; both only within the page of
    ``start`` and not back into the block (a jump back to ``start`` is the
    block's loop).
    """
    d = insn.d
    if d.name in BRANCHES:
        nxt = insn.next_pc
    elif d.name == "jal":
        nxt = insn.static_target()
        if nxt in seen:
            return None
    elif ends_block(d):
        return None
    else:
        nxt = insn.next_pc
    return nxt if (nxt ^ start) >> 12 == 0 else None


class _Emitter:
    """The lines of one block function, with indentation."""

    def __init__(self):
        self.lines = []
        self.depth = 1

    def __call__(self, *lines):
        self.lines += [INDENT * self.depth + line for line in lines]

    def block(self, header):
        self(header)
        return _Indent(self)


class _Indent:
    def __init__(self, emit):
        self.emit = emit

    def __enter__(self):
        self.emit.depth += 1

    def __exit__(self, *exc):
        self.emit.depth -= 1


def generate(name, insns):
    """Source of ``def name(left) -> (next_pc, retired)`` for the block ``insns``.

    ``insns`` are in execution order along the block's fall-through path:
    after a conditional branch comes its fall-through, after a followed
    jump its target.
    """
    start = insns[0].pc
    last = insns[-1]
    exit_insn = last if last.t.helper_exit else None
    body_insns = insns[:-1] if exit_insn else insns
    count = len(insns)
    loop = any(x.static_target() == start for x in body_insns)
    pcs = tuple(x.pc for x in insns) + (last.next_pc,)

    writes = set()
    per_insn, written = [], []       # written: registers each instruction writes
    loads = set()                    # registers read before the block writes them
    for k, x in enumerate(body_insns):
        r, w = set(), set()
        per_insn.append(x.statements_on_locals(r, w, k))
        loads |= r - writes
        written.append(w)
        writes |= w
    raising = any(x.t.may_raise for x in body_insns)
    done = "n + " if loop else ""
    # Registers that may differ from X at an exit: those written so far, and
    # in a loop also those its earlier passes wrote (up to its last back edge),
    # which must then hold their value from X before the first pass does.
    back_edges = [k for k, x in enumerate(body_insns) if x.static_target() == start]
    dirty = set().union(*written[:back_edges[-1] + 1]) if loop else set()
    loads |= dirty

    def store(regs_):
        return [f"X[{n}] = {reg_local(n)}" for n in sorted(regs_)]

    emit = _Emitter()
    emit(*(f"{reg_local(n)} = X[{n}]" for n in sorted(loads)))
    if loop:
        emit("n = 0")
    if raising:
        emit("i = 0")

    def leave(target, retired):
        emit(*store(dirty), f"return {target}, {done}{retired}")

    def transfer(insn, k, exit_):
        """Code for ``exit_`` of ``insn`` (index ``k``); True if control cannot go on."""
        if exit_.cond is None and k + 1 < count:
            return False                    # a direct jump decoded through
        if insn.static_target() == start:   # back to the top of the loop
            def again():
                emit(f"n += {k + 1}",
                     f"if n < left and not X[{MIP}] & X[{MIE}]: continue",
                     *store(dirty), f"return {start:#x}, n")
        else:
            def again():
                leave(exit_.target, k + 1)
        if exit_.cond is None:
            again()
            return True
        with emit.block(f"if {exit_.cond}:"):
            again()
        return False

    def body():
        for k, (insn, lines) in enumerate(zip(body_insns, per_insn)):
            emit(f"# {insn.pc:#x}: {insn.d.name or 'illegal'}")
            if insn.t.may_raise:
                emit(f"i = {k}")
            dirty.update(written[k])
            for line in lines:
                if isinstance(line, Exit):
                    if transfer(insn, k, line):
                        return False
                else:
                    emit(line)
        return True

    def loop_body():
        if not loop:
            return body()
        with emit.block("while True:"):
            goes_on = body()
            if goes_on:
                emit("break")
        return goes_on

    if raising:
        with emit.block("try:"):
            goes_on = loop_body()
        with emit.block("except BaseException:"):
            # Those written so far (the others are not even assigned yet)
            regs = ", ".join(f"({n}, {reg_local(n)!r})" for n in sorted(writes))
            emit(f"STORE_BACK(locals(), ({regs},))" if writes else "pass",
                 f"STOP[0] = {done}i",
                 f"STOP[1] = {_tuple(pcs)}[i]",
                 "raise")
    else:
        goes_on = loop_body()
    if not goes_on:
        return _source(name, emit.lines)

    # Falling off the end of the block: past a limit, or into a helper exit.
    retired = len(body_insns)
    if exit_insn is None:
        leave(f"{last.next_pc:#x}", retired)
        return _source(name, emit.lines)
    emit(*store(writes),
         f"# {exit_insn.pc:#x}: {exit_insn.d.name or 'illegal'}",
         f"STOP[0] = {done}{retired}",
         f"STOP[1] = {exit_insn.pc:#x}",
         *exit_insn.statements_on_state(),
         f"return {exit_insn.next_pc:#x}, {done}{count}")
    return _source(name, emit.lines)


def _source(name, lines):
    return "\n".join([f"def {name}(left):"] + lines) + "\n"


def _tuple(values):
    return "(" + ", ".join(f"{v:#x}" for v in values) + ",)"
