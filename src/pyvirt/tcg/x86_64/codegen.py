"""x86-64 code for one ``OpBlock`` (QEMU's tcg/i386/tcg-target.c.inc, reduced).

Generated code runs with the hart's state structure in ``rbp`` (``Glob(i)``
is ``[rbp + 8*i]``, as QEMU's TCG_AREG0) and the engine's context in
``rbx`` (temporaries, softmmu TLB, jump cache: see ``context``).  Every op
loads its operands into ``rax``/``rcx``/``rdx``/``rsi``, computes, and
stores its result, so guest state is exact at every op that may raise.

Shared code at the start of the buffer (``emit_runtime``):

* ``enter(ctx, state, code)``: saves the callee-saved registers and jumps
  to ``code``; ``epilogue`` returns ``eax`` (an ``EXIT_*`` reason) to
  Python.
* ``lookup``: guest pc in ``rax``; jumps through the jump cache, or leaves
  with ``EXIT_LOOKUP`` (QEMU's lookup_and_goto_ptr).

A block leaves through ``goto_tb``/``exit_tb``: the budget (``BUDGET``)
loses the instructions the block retired, and it returns to Python when
the budget is used up, an interrupt is pending that would be taken
(``mip & IRQ_MASK``, kept by the engine) or
``EXIT_REQUEST`` is set; else it goes on directly.  A ``goto_tb`` within
the block's virtual page jumps through a patchable ``jmp rel32`` that
first points at a stub doing the lookup (which records the jump in
``PATCH``) and that the engine then points straight at the target block
(QEMU's goto_tb chaining); one to another page always looks up, so TLB
flushes only need to drop lookups, never chains (QEMU's rule too).

Loads and stores inline the TLB hit path; a miss, and every helper
``call``, calls back into Python (``CALLBACK(slot)``) after recording the
block and instruction in ``STOP``.  The callback returns nonzero when the
helper raised a guest exception, and the code then leaves with
``EXIT_RAISED``.  After an instruction that may have written guest memory
(store miss, helper), the next instruction start checks ``EXIT_REQUEST``,
set when translated code was written, and leaves with ``EXIT_SMC`` so the
rest of the block is not run from stale code.
"""

import itertools

from ...target.riscv.hart import MIP
from ...tcg.ops import (COND_EQ, COND_GE, COND_GEU, COND_LT, COND_LTU, COND_NE, OPDEFS, Const,
                        Glob, Temp)
from .asm import (R8, R9, R10, R11, R12, R13, R14, R15, RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP,
                  Asm, Mem, as_i32)
from .context import (ARGS, BUDGET, CALLBACK, EXIT_PC, EXIT_REQUEST, IRQ_MASK, JC, JC_SIZE,
                      MAX_ARGS, MAX_TEMPS, PATCH, RET, STOP, TEMPS, TLB_R, TLB_SIZE, TLB_W)

# Why generated code returned to Python.
EXIT_CHAIN = 0       # budget, interrupt or exit request: continue at EXIT_PC
EXIT_LOOKUP = 1      # no code in the jump cache for EXIT_PC
EXIT_RAISED = 2      # a call into Python raised (STOP says where)
EXIT_SMC = 3         # translated code was written: continue at the instruction in STOP

CALLEE_SAVED = (RBX, RBP, R12, R13, R14, R15)
CC = {COND_EQ: "e", COND_NE: "ne", COND_LT: "l", COND_GE: "ge", COND_LTU: "b", COND_GEU: "ae"}
M64 = (1 << 64) - 1
EXT = {"ext8s": (1, True), "ext16s": (2, True), "ext32s": (4, True),
       "ext8u": (1, False), "ext16u": (2, False), "ext32u": (4, False)}


#: Host registers that cache state words and temporaries within a block: the
#: callee-saved ones survive calls into Python, the others are reloaded after.
CACHE_REGS = (R12, R13, R14, R15, R8, R9, R10, R11)
CALLER_SAVED = frozenset({R8, R9, R10, R11})

#: Ops whose code loads their first input (with ``get``) before anything else
#: touches rax: a temporary only they use can be handed over in rax.
READS_FIRST_INPUT_FIRST = frozenset({
    "mov", "add", "sub", "and", "or", "xor", "mul", "shl", "shr", "sar", "neg", "not",
    "mulsh", "muluh", "div", "divu", "rem", "remu", "setcond", "brcond", "qemu_ld", "qemu_st",
    "call", "exit_tb"})


def ctx(word, index=None):
    return Mem(RBX, 8 * word, index)


class Runtime:
    """Buffer offsets of the shared code."""

    def __init__(self, enter, epilogue, lookup, leave):
        self.enter = enter
        self.epilogue = epilogue
        self.lookup = lookup
        self.leave = leave          # EXIT_CHAIN with the guest pc in rax


def emit_runtime(a):
    """The shared code, at the start of the buffer."""
    enter = a.here()
    for r in CALLEE_SAVED:
        a.push(r)
    a.alu_imm("sub", RSP, 8)          # 16-byte aligned at every call
    a.mov(RBX, RDI)
    a.mov(RBP, RSI)
    a.jmp_reg(RDX)
    epilogue = a.here()
    a.alu_imm("add", RSP, 8)
    for r in reversed(CALLEE_SAVED):
        a.pop(r)
    a.ret()
    leave = a.here()
    a.mov(ctx(EXIT_PC), RAX)
    a.mov_imm(RAX, EXIT_CHAIN)
    a.jmp(epilogue)
    lookup = a.here()
    a.mov(RCX, RAX)
    a.shift_imm("shr", RCX, 1)
    a.alu_imm("and", RCX, JC_SIZE - 1)
    a.shift_imm("shl", RCX, 4)
    a.alu("cmp", RAX, ctx(JC, RCX))
    miss = a.jcc("ne")
    a.jmp_reg(ctx(JC + 1, RCX))
    a.patch(miss, a.here())
    a.mov(ctx(EXIT_PC), RAX)
    a.mov_imm(RAX, EXIT_LOOKUP)
    a.jmp(epilogue)
    return Runtime(enter, epilogue, lookup, leave)


class Slots:
    """What a call into Python does, by slot number: the engine's table."""

    def load(self, size, signed):
        raise NotImplementedError

    def store(self, size):
        raise NotImplementedError

    def call(self, name, nout, cargs, nin):
        raise NotImplementedError


class BlockCode:
    """Machine code for one block at a buffer offset, and what the engine needs
    to know about it."""

    def __init__(self, code, pcs, exits):
        self.code = code
        self.pcs = pcs            # guest pc of each instruction, by index
        self.exits = exits        # (buffer offset of a patchable rel32, its stub's offset)
        self.offset = None        # where the engine put it in the code buffer


class CodeGen:
    def __init__(self, block, base, tbid, runtime, slots):
        assert block.ntemps <= MAX_TEMPS, "block needs more temporaries than the context holds"
        self.block = block
        self.a = Asm(base)
        self.tbid = tbid
        self.rt = runtime
        self.slots = slots
        self.labels = {}          # Label.n -> buffer offset
        self.fixups = []          # (index of a rel32 in code, Label.n)
        self.cold = []            # emitters of out-of-line code, run after the body
        self.names = itertools.count()
        self.pcs = {}
        self.exits = []
        self.index = 0            # of the current guest instruction
        self.wrote = False        # memory may have been written since the last check
        self.forward = None       # the temporary this op leaves in rax only
        self.in_rax = None        # the temporary rax holds instead of its slot
        self.handed = None        # what this op leaves in rax for the next one
        self.reg_of = {}          # state word / temporary -> cache register
        self.val_of = {}          # cache register -> state word / temporary
        self.dirty = set()        # cached values newer than their memory word
        self.victim = 0

    # ---- operands and the register cache -------------------------------------------
    @staticmethod
    def home(v):
        """The memory word of a state word or temporary."""
        if isinstance(v, Glob):
            return Mem(RBP, 8 * v.index)
        if isinstance(v, Temp):
            return ctx(TEMPS + v.n)
        raise TypeError(v)

    def where(self, v):
        """Where ``v`` is now: its cache register, or its memory word."""
        r = self.reg_of.get(v)
        return self.home(v) if r is None else r

    def target(self, out):
        """The register that is to hold ``out`` (now dirty)."""
        r = self.reg_of.get(out)
        if r is None:
            r = next((r for r in CACHE_REGS if r not in self.val_of), None)
            if r is None:
                r = CACHE_REGS[self.victim % len(CACHE_REGS)]
                self.victim += 1
                v = self.val_of.pop(r)
                del self.reg_of[v]
                if v in self.dirty:
                    self.dirty.discard(v)
                    self.a.mov(self.home(v), r)
            self.reg_of[out] = r
            self.val_of[r] = out
        self.dirty.add(out)
        return r

    def dirty_words(self, globs_only=False):
        """(memory word, register) of what the cache holds newer than memory."""
        return [(self.home(v), self.reg_of[v]) for v in self.dirty
                if not globs_only or isinstance(v, Glob)]

    def store_words(self, words):
        for mem, r in words:
            self.a.mov(mem, r)

    def write_back(self):
        """Memory up to date (the cached values stay valid)."""
        self.store_words(self.dirty_words())
        self.dirty.clear()

    def forget(self):
        """Write back and empty the cache (a helper or another path comes)."""
        self.write_back()
        self.reg_of.clear()
        self.val_of.clear()

    def get(self, reg, v):
        if isinstance(v, Const):
            self.a.mov_imm(reg, v.value)
        elif v == self.in_rax:
            self.in_rax = None
            if reg != RAX:
                self.a.mov(reg, RAX)
        else:
            self.a.mov(reg, self.where(v))

    def put(self, out, reg):
        if out == self.forward:
            # its one use is the next op's first input, which reads rax first
            self.handed = out
            if reg != RAX:
                self.a.mov(RAX, reg)
        else:
            self.a.mov(self.target(out), reg)

    def operand(self, v, scratch):
        """``v`` as an ALU source: a memory operand, or ``scratch`` loaded with it."""
        if isinstance(v, Const):
            self.a.mov_imm(scratch, v.value)
            return scratch
        return self.where(v)

    # ---- driver ------------------------------------------------------------------------
    def generate(self):
        a = self.a
        ops = self.block.ops
        uses = {}
        for op in ops:
            for v in op.ins:
                if isinstance(v, Temp):
                    uses[v] = uses.get(v, 0) + 1
        # Labels one brcond jumps to and nothing falls into (a side exit's skip).
        refs = {}
        for op in ops:
            if op.opc in ("brcond", "br"):
                refs[op.consts[-1]] = refs.get(op.consts[-1], 0) + 1
        conditional = {op.consts[1] for op in ops if op.opc == "brcond"}
        self.sole_entry = {
            op.consts[0] for prev, op in zip(ops, ops[1:])
            if op.opc == "set_label" and OPDEFS[prev.opc].ends_bb and refs.get(op.consts[0]) == 1
            and op.consts[0] in conditional}
        self.carried = {}
        for i, op in enumerate(ops):
            self.forward = None
            self.in_rax, self.handed = self.handed, None
            if op.outs and isinstance(op.outs[0], Temp) and uses.get(op.outs[0]) == 1 \
                    and i + 1 < len(ops):
                nxt = ops[i + 1]
                if nxt.ins and nxt.ins[0] == op.outs[0] and nxt.opc in READS_FIRST_INPUT_FIRST:
                    self.forward = op.outs[0]
            getattr(self, "op_" + op.opc)(op)
        while self.cold:
            self.cold.pop(0)()
        for at, n in self.fixups:
            a.patch(at, self.labels[n])
        pcs = [self.pcs[i] for i in range(len(self.pcs))]
        exits = [(site, self.labels[stub]) for site, stub in self.exits]
        return BlockCode(bytes(a.code), pcs, exits)

    def jump_to_label(self, label, cc=None):
        at = self.a.jmp() if cc is None else self.a.jcc(cc)
        self.fixups.append((at, label.n))

    def later(self, emit):
        """Out-of-line code: ``emit()`` runs after the body; returns a label for it."""
        n = ("cold", next(self.names))

        def bound():
            self.labels[n] = self.a.here()
            emit()
        self.cold.append(bound)
        return n

    def jcc_later(self, cc, n):
        at = self.a.jcc(cc)
        self.fixups.append((at, n))

    def stop(self):
        """Record where we are for a call that may raise."""
        self.a.mov_imm(ctx(STOP), self.tbid << 8 | self.index)

    def call_python(self, slot):
        """CALLBACK(slot), leaving with what it returns (EXIT_RAISED) if nonzero."""
        a = self.a
        self.stop()
        a.mov_imm(RDI, slot)
        a.call_reg(ctx(CALLBACK))
        a.test(RAX, RAX, w=False)         # a C int
        a.jcc("ne", self.rt.epilogue)

    # ---- ops -------------------------------------------------------------------------------
    def op_insn_start(self, op):
        pc, k = op.consts
        self.pcs[k] = pc
        if self.wrote:
            self.wrote = False
            self.a.alu_imm("cmp", ctx(EXIT_REQUEST), 0)
            tbid = self.tbid
            dirty = self.dirty_words(globs_only=True)

            def leave():
                self.store_words(dirty)
                self.a.mov_imm(ctx(STOP), tbid << 8 | k)
                self.a.mov_imm(RAX, EXIT_SMC)
                self.a.jmp(self.rt.epilogue)
            self.jcc_later("ne", self.later(leave))
        self.index = k

    def op_mov(self, op):
        (out,), (v,) = op.outs, op.ins
        if isinstance(v, Const) and as_i32(v.value) is not None:
            self.a.mov_imm(self.target(out), v.value)
        else:
            self.get(RAX, v)
            self.put(out, RAX)

    def _alu(self, name, op):
        (out,), (x, y) = op.outs, op.ins
        a = self.a
        if out == x and not isinstance(x, Const) and x != self.in_rax and out != self.forward:
            # in place, on its cache register or its memory word
            dst = self.where(out)
            if isinstance(dst, int):
                self.dirty.add(out)
            if isinstance(y, Const) and as_i32(y.value) is not None:
                a.alu_imm(name, dst, as_i32(y.value))
            else:
                self.get(RCX, y)
                a.alu(name, dst, RCX)
            return
        self.get(RAX, x)
        if isinstance(y, Const) and as_i32(y.value) is not None:
            a.alu_imm(name, RAX, as_i32(y.value))
        else:
            a.alu(name, RAX, self.operand(y, RCX))
        self.put(out, RAX)

    def op_add(self, op):
        self._alu("add", op)

    def op_sub(self, op):
        self._alu("sub", op)

    def op_and(self, op):
        self._alu("and", op)

    def op_or(self, op):
        self._alu("or", op)

    def op_xor(self, op):
        self._alu("xor", op)

    def op_mul(self, op):
        (out,), (x, y) = op.outs, op.ins
        self.get(RAX, x)
        self.a.imul(RAX, self.operand(y, RCX))
        self.put(out, RAX)

    def _shift(self, name, op):
        (out,), (x, y) = op.outs, op.ins
        self.get(RAX, x)
        if isinstance(y, Const):
            self.a.shift_imm(name, RAX, y.value & 63)
        else:
            self.get(RCX, y)
            self.a.shift_cl(name, RAX)
        self.put(out, RAX)

    def op_shl(self, op):
        self._shift("shl", op)

    def op_shr(self, op):
        self._shift("shr", op)

    def op_sar(self, op):
        self._shift("sar", op)

    def _unary(self, name, op):
        (out,), (x,) = op.outs, op.ins
        self.get(RAX, x)
        self.a.unary(name, RAX)
        self.put(out, RAX)

    def op_neg(self, op):
        self._unary("neg", op)

    def op_not(self, op):
        self._unary("not", op)

    def _ext(self, op):
        (out,), (x,) = op.outs, op.ins
        size, signed = EXT[op.opc]
        if isinstance(x, Const):
            v = x.value & ((1 << 8 * size) - 1)
            if signed and v >> (8 * size - 1):
                v -= 1 << 8 * size
            self.op_mov(type(op)("mov", op.outs, (Const(v & M64),)))
            return
        self.a.load(RAX, self.where(x), size, signed)
        self.put(out, RAX)

    op_ext8s = op_ext16s = op_ext32s = op_ext8u = op_ext16u = op_ext32u = _ext

    def _mulhigh(self, op):
        (out,), (x, y) = op.outs, op.ins
        a = self.a
        self.get(RAX, x)
        src = self.operand(y, RCX)
        a.unary("imul1" if op.opc == "mulsh" else "mul", src)
        if op.opc == "mulsuh":
            # signed x unsigned: the unsigned high half, less y if x < 0
            self.get(RCX, x)
            a.shift_imm("sar", RCX, 63)
            a.alu("and", RCX, self.operand(y, RSI))
            a.alu("sub", RDX, RCX)
        self.put(out, RDX)

    op_mulsh = op_muluh = op_mulsuh = _mulhigh

    def _divide(self, op):
        """RISC-V division: x/0 = all ones, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0."""
        (out,), (x, y) = op.outs, op.ins
        a = self.a
        signed = op.opc in ("div", "rem")
        quotient = op.opc in ("div", "divu")
        self.get(RAX, x)
        self.get(RCX, y)
        a.test(RCX, RCX)
        zero = a.jcc("e")
        if signed:
            a.alu_imm("cmp", RCX, -1)
            normal = a.jcc("ne")
            if quotient:
                a.unary("neg", RAX)
            else:
                a.mov_imm(RAX, 0)
            minus_one = a.jmp()
            a.patch(normal, a.here())
            a.cqo()
            a.unary("idiv", RCX)
        else:
            a.mov_imm(RDX, 0)
            a.unary("div", RCX)
        if not quotient:
            a.mov(RAX, RDX)
        done = a.jmp()
        a.patch(zero, a.here())
        if quotient:
            a.mov_imm(RAX, M64)
        a.patch(done, a.here())
        if signed:
            a.patch(minus_one, a.here())
        self.put(out, RAX)

    op_div = op_divu = op_rem = op_remu = _divide

    def _compare(self, x, y):
        a = self.a
        self.get(RAX, x)
        if isinstance(y, Const) and as_i32(y.value) is not None:
            a.alu_imm("cmp", RAX, as_i32(y.value))
        else:
            a.alu("cmp", RAX, self.operand(y, RCX))

    def op_setcond(self, op):
        (out,), (x, y), (cond,) = op.outs, op.ins, op.consts
        self._compare(x, y)
        self.a.setcc(CC[cond], RAX)
        self.put(out, RAX)

    def op_brcond(self, op):
        (x, y), (cond, label) = op.ins, op.consts
        self._compare(x, y)
        if label in self.sole_entry and label.n not in self.labels:     # a forward jump
            # The label is reached from here only: the cache goes along.
            self.carried[label] = (dict(self.reg_of), dict(self.val_of), set(self.dirty))
        else:
            self.write_back()            # (moves keep the flags)
        self.jump_to_label(label, CC[cond])

    def op_br(self, op):
        self.write_back()
        self.jump_to_label(op.consts[0])

    def op_set_label(self, op):
        label = op.consts[0]
        carried = self.carried.pop(label, None)
        if carried is None:
            # Paths meet: memory is what they agree on.
            self.forget()
        else:
            self.reg_of, self.val_of, self.dirty = carried
        self.labels[label.n] = self.a.here()

    # ---- guest memory -----------------------------------------------------------------------
    def _tlb_lookup(self, table, size):
        """With the address in rax: rax = host address, or to the miss path (returned
        as the rel32 to patch)."""
        a = self.a
        a.mov(RCX, RAX)
        a.shift_imm("shr", RCX, 12 - 4)       # 16-byte entries
        a.alu_imm("and", RCX, (TLB_SIZE - 1) << 4)
        if size > 1:
            a.lea(RDX, Mem(RAX, size - 1))       # the last byte must be in the page too
        else:
            a.mov(RDX, RAX)
        a.alu_imm("and", RDX, -4096)
        a.alu("cmp", RDX, ctx(table, RCX))
        miss = a.jcc("ne")
        a.alu("add", RAX, ctx(table + 1, RCX))
        return miss

    def op_qemu_ld(self, op):
        (out,), (addr,), (size, signed) = op.outs, op.ins, op.consts
        a = self.a
        self.get(RAX, addr)
        miss = self._tlb_lookup(TLB_R, size)
        a.load(RAX, Mem(RAX), size, signed)
        back = a.here()
        dirty, reload = self.dirty_words(), self.caller_saved()     # before ``out``
        self.put(out, RAX)
        slot = self.slots.load(size, signed)

        def slow():
            a.patch(miss, a.here())
            a.mov(ctx(ARGS), RAX)
            self.store_words(dirty)          # exact state if it raises
            self.call_python(slot)
            self.load_words(reload)
            a.mov(RAX, ctx(RET))
            a.jmp(back)
        self.cold_at(slow)

    def op_qemu_st(self, op):
        (addr, value), (size,) = op.ins, op.consts
        a = self.a
        self.get(RSI, value)
        self.get(RAX, addr)
        miss = self._tlb_lookup(TLB_W, size)
        a.store(Mem(RAX), RSI, size)
        back = a.here()
        self.wrote = True           # on the miss path, maybe to translated code
        slot = self.slots.store(size)
        dirty, reload = self.dirty_words(), self.caller_saved()

        def slow():
            a.patch(miss, a.here())
            a.mov(ctx(ARGS), RAX)
            a.mov(ctx(ARGS + 1), RSI)
            self.store_words(dirty)
            self.call_python(slot)
            self.load_words(reload)
            a.jmp(back)
        self.cold_at(slow)

    def caller_saved(self):
        """(memory word, register) of cached values a call into Python clobbers."""
        return [(self.home(v), r) for r, v in self.val_of.items() if r in CALLER_SAVED]

    def load_words(self, words):
        for mem, r in words:
            self.a.mov(r, mem)

    def cold_at(self, emit):
        """Out-of-line code that runs with the state of the current instruction."""
        index = self.index

        def at_index():
            saved, self.index = self.index, index
            emit()
            self.index = saved
        self.cold.append(at_index)

    def op_call(self, op):
        name, nout, cargs = op.consts
        assert len(op.ins) <= MAX_ARGS and nout <= 1
        for i, v in enumerate(op.ins):
            if isinstance(v, Const) and as_i32(v.value) is not None:
                self.a.mov_imm(ctx(ARGS + i), v.value)
            else:
                self.get(RAX, v)
                self.a.mov(ctx(ARGS + i), RAX)
        self.forget()                # the helper sees and changes the state words
        self.call_python(self.slots.call(name, nout, cargs, len(op.ins)))
        self.wrote = True           # helpers may write memory, or flush the TLB
        if nout:
            self.a.mov(RAX, ctx(RET))
            self.put(op.outs[0], RAX)

    # ---- leaving the block ----------------------------------------------------------------------
    def _chain_checks(self, leave):
        """Retire this block's instructions from the budget; to ``leave`` if the chain stops."""
        a = self.a
        a.alu_imm("sub", ctx(BUDGET), self.index + 1)
        self.jcc_later("le", leave)
        a.mov(RCX, Mem(RBP, 8 * MIP))
        a.test(RCX, ctx(IRQ_MASK))
        self.jcc_later("ne", leave)
        a.alu_imm("cmp", ctx(EXIT_REQUEST), 0)
        self.jcc_later("ne", leave)

    def op_goto_tb(self, op):
        (target,) = op.consts
        a = self.a

        def leave():
            a.mov_imm(RAX, target)
            a.jmp(self.rt.leave)
        self.store_words(self.dirty_words(globs_only=True))
        self._chain_checks(self.later(leave))
        if target >> 12 != self.block.pc >> 12:
            # Another virtual page: always through the jump cache, which TLB
            # flushes keep right; a patched jump would outlive its mapping.
            self._lookup_stub(0, target)
            return
        at = a.jmp()
        site = a.base + at
        stub = self.later(lambda: self._lookup_stub(site, target))
        self.fixups.append((at, stub))
        self.exits.append((site, stub))

    def _lookup_stub(self, site, target):
        """Jump to ``target`` through the jump cache; on a miss the engine
        patches the jump at ``site`` (0: none) to the block it finds."""
        a = self.a
        a.mov_imm(ctx(PATCH), site)
        a.mov_imm(RAX, target)
        a.jmp(self.rt.lookup)

    def op_exit_tb(self, op):
        (target,) = op.ins
        a = self.a
        self.get(RAX, target)

        def leave():
            a.jmp(self.rt.leave)
        self.store_words(self.dirty_words(globs_only=True))
        self._chain_checks(self.later(leave))
        a.mov_imm(ctx(PATCH), 0)
        a.jmp(self.rt.lookup)

