"""Python source for one translation block, pasted from the semantics table.

Each guest instruction's one-statement template from
``target.riscv.semantics`` is specialised with its decoded operands and
address, and the statements of a whole block become one function::

    def tb_80000040(left):          # left: instructions the caller allows
        x10 = X[10]; x11 = X[11]    # guest registers live in locals
        try:
            i = 0                   # index of the instruction that may raise
            x11 = LD((x10 + 8) & M)
            ...
        except BaseException:       # precise exceptions: store what retired
            X[11] = x11
            STOP[0] = i; STOP[1] = (0x80000040, ...)[i]
            raise
        X[11] = x11
        return nxt, 3               # next pc, instructions retired

How templates are specialised:

* ``X[rd]``, ``X[rs1]``... become locals ``x5``/``f3`` (loaded once at entry,
  stored back at every exit); reads of x0 become ``0``; a write to x0
  (``X0_SINK``) is dropped unless the statement calls a helper that can
  have an effect (a load can fault), which then assigns ``_``.
* ``pc``, ``imm``, ``ln``... become constants, ``M``/``S``/``BOX`` literals,
  so CPython's compiler folds pc-relative addresses.
* ``return T`` (a control transfer) becomes ``nxt = T``, and
  ``if C: return T`` becomes ``nxt = T if C else <fall-through>``.
* An instruction that ends the block through a helper (CSR access, xRET,
  ecall, wfi, fences) runs after the registers are stored back, with its
  template unchanged against ``X``, since those helpers read or write the
  state words themselves.
* A block whose last instruction branches back to its own start becomes a
  ``while True:`` loop that leaves when the branch falls through, the
  budget ``left`` is used up or an interrupt is pending.
* Stores can hit a page holding translated code (``hart.CodePages``);
  then ``SMC[0]`` is set, and the block leaves right after the store so
  the rest of the page is translated again from the new bytes.

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

INDENT = "    "


class Template:
    """What the generator needs to know about one instruction's template."""

    def __init__(self, name, body):
        self.name = name
        self.lines = body.split("\n")
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
        return _CONST.sub(lambda m: _CONSTANTS[m.group(1)], text)

    def statements_on_state(self):
        """The template against the state words ``X`` (helper-exit instructions)."""
        return [self._fields(_REG.sub(lambda m: f"X[{self.values[m.group(1)]}]", line))
                for line in self.t.lines]

    def statements_on_locals(self, regs_read, regs_written):
        """The template against register locals; records which it uses.

        A control transfer ``return T`` comes out as ``nxt = ...``.
        """
        out = []

        def read(m):
            n = self.values[m.group(1)]
            if n == 0:
                return "0"
            regs_read.add(n)
            return reg_local(n)

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
                if m.group("cond"):
                    line = f"nxt = {m.group('target')} if {m.group('cond')} else {self.next_pc:#x}"
                else:
                    line = f"nxt = {m.group('target')}"
            elif target is not None:
                line = f"{target} = {line}"
            out.append(line)
        return out

    def static_target(self):
        """The constant target of a pc-relative branch or jump, else None."""
        if self.d.name in ("jal", "beq", "bne", "blt", "bge", "bltu", "bgeu"):
            return (self.pc + self.values["imm"]) & M_MASK
        return None


def generate(name, insns):
    """Source of ``def name(left) -> (next_pc, retired)`` for the block ``insns``."""
    start = insns[0].pc
    last = insns[-1]
    exit_insn = last if last.t.helper_exit else None
    body_insns = insns[:-1] if exit_insn else insns
    transfer = bool(body_insns) and body_insns[-1].t.transfers
    loop = transfer and body_insns[-1].static_target() == start
    count = len(insns)
    pcs = tuple(x.pc for x in insns) + (last.next_pc,)

    reads, writes = set(), set()
    body = []
    raising = False
    for k, insn in enumerate(body_insns):
        body.append(f"# {insn.pc:#x}: {insn.d.name or 'illegal'}")
        if insn.t.may_raise:
            body.append(f"i = {k}")
            raising = True
        body.extend(insn.statements_on_locals(reads, writes))
        if insn.t.stores:
            body.append(f"if SMC[0]: i = {k + 1}; raise BlockExit({insn.next_pc:#x}, {EXIT_RETRY})")
    regs = sorted(reads | writes)
    store_back = [f"X[{n}] = {reg_local(n)}" for n in sorted(writes)]

    lines = [f"def {name}(left):"]
    lines += [INDENT + f"{reg_local(n)} = X[{n}]" for n in regs]
    if loop:
        lines.append(INDENT + "n = 0")
    if raising:
        lines.append(INDENT + "i = 0")
    depth = 2 if raising else 1
    if raising:
        lines.append(INDENT + "try:")
    if loop:
        lines.append(INDENT * depth + "while True:")
        lines += [INDENT * (depth + 1) + s for s in body]
        lines.append(INDENT * (depth + 1) + f"n += {len(body_insns)}")
        lines.append(INDENT * (depth + 1)
                     + f"if nxt != {start:#x} or n >= left or X[{MIP}] & X[{MIE}]: break")
    else:
        lines += [INDENT * depth + s for s in body]
    if raising:
        lines.append(INDENT + "except BaseException:")
        lines += [INDENT * 2 + s for s in store_back]
        lines.append(INDENT * 2 + f"STOP[0] = {'n + i' if loop else 'i'}")
        lines.append(INDENT * 2 + f"STOP[1] = {_tuple(pcs)}[i]")
        lines.append(INDENT * 2 + "raise")
    lines += [INDENT + s for s in store_back]

    if exit_insn is not None:
        lines.append(INDENT + f"# {exit_insn.pc:#x}: {exit_insn.d.name or 'illegal'}")
        lines.append(INDENT + f"STOP[0] = {len(body_insns)}")
        lines.append(INDENT + f"STOP[1] = {exit_insn.pc:#x}")
        lines += [INDENT + s for s in exit_insn.statements_on_state()]
        nxt = f"{exit_insn.next_pc:#x}"
    elif transfer:
        nxt = "nxt"
    else:
        nxt = f"{last.next_pc:#x}"
    lines.append(INDENT + f"return {nxt}, {'n' if loop else count}")
    return "\n".join(lines) + "\n"


def _tuple(values):
    return "(" + ", ".join(f"{v:#x}" for v in values) + ",)"
