"""The ``python`` TCG engine: run translation blocks compiled to Python.

From a pc, instructions are fetched and decoded along the fall-through path
(through conditional branches, following direct jumps) up to one that ends
a block (an indirect jump, a CSR access, a fence...), the end of the page
or ``MAX_INSNS``; ``pygen`` writes one Python function for them, compiled
once and kept in a ``TBCache``.  Code is compiled only once it is hot: the
first ``HOT_AFTER - 1`` times a block start is reached, the reference
interpreter runs it instead (boot code mostly runs once, and compiling a
block costs as much as interpreting it a hundred times).

The loop here finds the block for the pc (a dict from virtual pc to
function, dropped with the hart's TLB), checks interrupts between blocks,
calls it, and turns what it raised into the same architectural effects as
the interpreter (``target/riscv/interp``): a ``Trap`` enters the handler
with pc at the faulting instruction, a ``BlockExit`` continues at its pc,
``wfi`` with nothing pending parks the hart, ``EXIT_IO`` reruns the
instruction alone with device access allowed.  Retired instructions are
added to ``minstret`` before anything that may read it (``EXIT_RETRY``
re-executes an exact counter read, ``EXIT_IO`` a device access).
"""

import contextlib
import struct

from ...target.riscv import decode as decoder
from ...target.riscv.cpu_bits import ACCESS_FETCH
from ...target.riscv.hart import MIE, MIP
from ...target.riscv.interp import Interpreter, dump_state
from ...target.riscv.state import PC
from ...target.riscv.traps import EXIT_IO, EXIT_RETRY, EXIT_WFI, BlockExit, Trap
from ...target.riscv.translate import translate
from ..optimize import optimize
from .pygen import LOADS, STORES, VIEWS, Insn, continuation, generate
from .tb import TBCache, TranslationBlock

#: struct formats of the inline loads and stores, by (size, signed).
FORMATS = {(1, False): "<B", (2, False): "<H", (4, False): "<I", (8, False): "<Q",
           (1, True): "<b", (2, True): "<h", (4, True): "<i", (8, True): "<q"}
#: A block is compiled the time its start is reached this often (1: at once).
HOT_AFTER = 8
#: Instructions interpreted per visit to code still cold.
COLD_RUN = 48
#: Cold block starts remembered before the counts start over.
MAX_COLD = 1 << 16
#: Longest block, in guest instructions.
MAX_INSNS = 64
PAGE = 4096


@contextlib.contextmanager
def _fetching(hart):
    """Fetching from ROM (or past RAM) is no device access to count: it never
    leaves with EXIT_IO."""
    io_allowed = hart.io_allowed
    hart.io_allowed = True
    try:
        yield
    finally:
        hart.io_allowed = io_allowed


class PythonEngine:
    name = "python"

    def __init__(self, hart, log=None, disas=None, cache=None, hot_after=HOT_AFTER,
                 optimizer=optimize):
        self.hart = hart
        #: OpBlock -> OpBlock between the front end and code generation
        #: (None: the ops as translated, to check the optimizer against).
        self.optimizer = optimizer
        self.log = log
        self.disas = disas
        self.cache = cache or TBCache()
        #: Code starting at a (pc, pa) is compiled once it has been reached this
        #: many times; until then the interpreter runs it.
        self.hot_after = hot_after
        self.heat = {}          # (pc, pa) -> times reached while cold
        self.cold = Interpreter(hart, log, disas) if hot_after > 1 else None
        self.jump = {}          # virtual pc -> block function, valid under the current TLB
        self.jump_pages = {}    # virtual page -> pcs it has in ``jump``
        self.xlate = {}         # virtual page -> physical page, for fetch
        #: [retired, pc] of the instruction that raised, written by blocks.
        self.stop = [0, 0]
        #: [True] once a store hit a page holding translated code.
        self.smc = [False]
        env = dict(hart.helpers)
        env.update(X=hart.words, STOP=self.stop, SMC=self.smc, BlockExit=BlockExit,
                   ILLEGAL=hart.illegal, RAM=hart.ram.view, TLB_R=hart.tlb_r, TLB_W=hart.tlb_w)
        words = hart.words

        def store_back(values, regs):
            for n, name in regs:
                if name in values:
                    words[n] = values[name]
        env["STORE_BACK"] = store_back
        for helper, (size, signed) in LOADS.items():
            env["R" + helper] = struct.Struct(FORMATS[size, signed]).unpack_from
        for helper, size in STORES.items():
            env["W" + helper] = struct.Struct(FORMATS[size, False]).pack_into
        for code in VIEWS.values():
            env["RAM" + code] = hart.ram.view.cast(code)
        self.env = env
        hart.tlb_flush_listeners.append(self._flush_fetch)
        hart.code_pages.listeners.append(self._invalidate)

    # ---- the block cache -------------------------------------------------------
    def _flush_fetch(self, vpn=None):
        if vpn is None:
            self.jump.clear()
            self.jump_pages.clear()
            self.xlate.clear()
            return
        # sfence.vma of one page (Linux: every few thousand instructions in
        # its early boot) drops only that page's lookups.
        jump = self.jump
        for pc in self.jump_pages.pop(vpn, ()):
            jump.pop(pc, None)
        self.xlate.pop(vpn, None)

    def _invalidate(self, ppn):
        jump = self.jump
        for tb in self.cache.invalidate_page(ppn):
            if jump.get(tb.pc) is tb.fn:
                del jump[tb.pc]
        self.smc[0] = True

    def _lookup(self, pc, compile_now=False):
        """The block function for ``pc``, translating it if needed (may raise Trap);
        None while the code there is still cold."""
        vpn = pc >> 12
        ppn = self.xlate.get(vpn)
        if ppn is None:
            ppn = self.hart.translate(pc, ACCESS_FETCH) >> 12
            self.xlate[vpn] = ppn
        pa = (ppn << 12) | (pc & 4095)
        tb = self.cache.get(pc, pa)
        if tb is None:
            if self.cold is not None and not compile_now and self._still_cold((pc, pa)):
                return None
            tb = self._translate(pc, pa)
            if tb is None:
                return self._one_insn(pc)
            if self.cache.full():
                self.cache.flush()
                self._flush_fetch()
            self.cache.add(tb)
            self.hart.code_pages.mark(tb.page)
        self.jump[pc] = tb.fn
        self.jump_pages.setdefault(vpn, []).append(pc)
        return tb.fn

    def _still_cold(self, key):
        heat = self.heat.get(key, 0) + 1
        if heat >= self.hot_after:
            self.heat.pop(key, None)
            return False
        if len(self.heat) >= MAX_COLD:
            self.heat.clear()
        self.heat[key] = heat
        return True

    def _fetch(self, va, pa):
        """Instruction bits at ``va`` (physical ``pa``, same page): 16 or 32 bits, or
        None when a 32-bit instruction crosses into the next page."""
        h = self.hart
        h.check_pmp(pa, 2, ACCESS_FETCH, va)
        lo = h.phys_read(pa, 2, ACCESS_FETCH, va)
        if lo & 3 != 3:
            return lo
        if (va & 4095) == PAGE - 2:
            return None
        h.check_pmp(pa + 2, 2, ACCESS_FETCH, va + 2)
        return lo | (h.phys_read(pa + 2, 2, ACCESS_FETCH, va + 2) << 16)

    def _translate(self, pc, pa):
        """The block at ``pc``; None if its first instruction straddles two pages."""
        with _fetching(self.hart):
            insns = self._decode_block(pc, pa)
        if insns is None:
            return None
        fn, _ = self._compile(insns)
        return TranslationBlock(pc, pa, fn)

    def _decode_block(self, pc, pa):
        """The instructions of the block at ``pc`` along its fall-through path."""
        insns = []
        seen = set()
        va = pc
        while True:
            try:
                bits = self._fetch(va, pa + (va - pc))
            except Trap:
                if not insns:
                    raise
                break               # the block ends before the fault; it is taken next time
            if bits is None:
                if not insns:
                    return None
                break
            insn = Insn(va, decoder.decode(bits))
            insns.append(insn)
            seen.add(va)
            va = continuation(insn, pc, seen)
            if va is None or len(insns) == MAX_INSNS:
                break
        return insns

    def _one_insn(self, pc):
        """A block of the one instruction at ``pc``, never cached by address: for
        a 32-bit instruction across a page boundary (it depends on two pages)
        and for an instruction rerun alone to access a device (``EXIT_IO``)."""
        with _fetching(self.hart):
            _, bits = self.hart.fetch(pc)
        fn, _ = self._compile([Insn(pc, decoder.decode(bits))])
        return fn

    def _compile(self, insns):
        pc = insns[0].pc
        bits = tuple(x.d.raw for x in insns)
        hit = self.cache.compiled_code(pc, bits)
        if hit is not None:
            return hit
        block = self._ops(insns)
        log = self.log
        name = f"tb_{pc:x}"
        source, constants = generate(name, block, insns)
        if log and log.enabled("out_asm"):
            log.write(source)
        namespace = {}
        env = {**self.env, **constants} if constants else self.env
        exec(compile(source, f"<tb {pc:#x}>", "exec"), env, namespace)   # noqa: S102
        fn = namespace[name]
        self.cache.remember_code(pc, bits, fn, source)
        return fn, source

    def _ops(self, insns):
        """The optimized ops of ``insns`` (logged for ``-d in_asm,op,op_opt``); the
        backends start from here."""
        log = self.log
        if log and log.enabled("in_asm"):
            log.write("\n".join(self._disassemble(x) for x in insns))
        block = translate(insns)
        if log and log.enabled("op"):
            log.write(f"OP:\n{block.dump()}\n")
        if self.optimizer is not None:
            block = self.optimizer(block)
        if log and log.enabled("op_opt"):
            log.write(f"OP after optimization:\n{block.dump()}\n")
        return block

    def _disassemble(self, insn):
        d = insn.d
        text = self.disas(insn.pc, d.raw, d.length) if self.disas else d.name or "illegal"
        return f"0x{insn.pc:016x}:  {d.raw:0{2 * d.length}x}  {text}"

    def tb_source(self, pc):
        """The generated Python source of the block at virtual ``pc`` (for debugging)."""
        fn = self._lookup(pc, compile_now=True)
        return next(source for f, source in self.cache.compiled.values() if f is fn)

    # ---- execution -----------------------------------------------------------
    def run(self, budget):
        """Execute blocks until about ``budget`` instructions retired; returns how
        many (a trap taken counts as one, so a trap storm still ends the slice).

        Returns early when the hart enters wfi with nothing pending
        (``hart.waiting`` is then True) or on ``hart.exit_request``.
        """
        h = self.hart
        W = h.words
        st = h.state
        jump = self.jump
        stop = self.stop
        lookup = self._lookup
        trace = self.log is not None and (self.log.enabled("exec") or self.log.enabled("cpu"))
        self.smc[0] = False
        h.exit_request = False
        pc = W[PC]
        done = 0
        retired = 0             # not yet added to minstret
        io_next = False         # run one instruction with device access allowed
        while done < budget and not h.exit_request:
            if W[MIP] & W[MIE]:
                pc = h.take_interrupt(pc)
            if trace:
                self._trace(pc)
            single = io_next
            if single:
                io_next = False
                h.io_allowed = True
                fn = None
            else:
                fn = jump.get(pc)
            try:
                if fn is None:
                    fn = self._one_insn(pc) if single else lookup(pc)
                    if fn is None:
                        pc, n, retired = self._run_cold(pc, retired)
                        done += n
                        if h.waiting:
                            break
                        continue
                pc, n = fn(budget - done)
            except Trap as t:
                if fn is None:              # the fetch of the block's first instruction
                    n = 0
                else:
                    n, pc = stop
                pc = h.take_trap(t.cause, t.tval, pc)
                retired += n
            except BlockExit as e:
                kind = e.kind
                n = stop[0] if kind >= EXIT_RETRY else stop[0] + 1
                pc = stop[1] if e.pc is None else e.pc
                self.smc[0] = False
                st.minstret += retired + n      # exact before a retry or device access
                retired = 0
                if kind == EXIT_IO:
                    # Not progress: the access itself comes next, even when
                    # the budget is used up (else a budget of 1 never moves).
                    io_next = True
                    done += n
                    continue
                if kind == EXIT_WFI and not (W[MIP] & W[MIE]):
                    h.waiting = True
                    done += n
                    break
            else:
                retired += n
            if single:
                h.io_allowed = False
            done += n or 1
        h.io_allowed = False
        st.minstret += retired
        W[PC] = pc
        return done

    def _run_cold(self, pc, retired):
        """Interpret code not yet worth compiling: about a block's worth.

        Returns (pc, progress, retired); the interpreter counts minstret
        itself, so what this engine has not yet counted goes in first.
        """
        h = self.hart
        h.state.minstret += retired
        h.words[PC] = pc
        n = self.cold.run(COLD_RUN)
        return h.words[PC], n, 0

    def _trace(self, pc):
        if self.log.enabled("exec"):
            self.log.write(f"Trace {self.hart.hartid}: 0x{pc:016x}")
        if self.log.enabled("cpu"):
            self.log.write(dump_state(self.hart, pc))
