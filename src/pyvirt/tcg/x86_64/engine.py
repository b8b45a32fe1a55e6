"""The ``native`` TCG engine: translation blocks as x86-64 machine code.

It is the ``python`` engine (``tcg.pygen``) with another code generator:
the same block formation, hot/cold tiering, block cache, invalidation and
run loop and ops (``PythonEngine._ops``: translated, optimized), but
the ops become machine code (``codegen``) in an executable
mmap, and what the run loop calls for a block is a small function that
enters that code through ctypes.

Once entered, native code stays native: blocks chain to each other
through patched jumps and the jump cache until the budget is used up, an
interrupt is pending, or something needs Python (a block not translated
yet, a TLB miss, a helper).  What a helper raised is re-raised in the run
loop with ``STOP`` set, so traps and block exits have exactly the python
engine's effects.

The code buffer is bounded (``-accel tcg,tb-size=MB``): when it is full,
everything is flushed and translation starts again at its beginning.
"""

import ctypes
import mmap

from ...errors import PyvirtError
from ...target.riscv.cpu_bits import M_MASK, MSTATUS_MIE, MSTATUS_SIE, PRV_M, PRV_S
from ..pygen import PythonEngine
from ..pygen.engine import HOT_AFTER
from ..pygen.pygen import LOADS, STORES
from .asm import Asm, rel32
from .codegen import EXIT_LOOKUP, EXIT_RAISED, EXIT_SMC, CodeGen, Slots, emit_runtime
from .context import ARGS, BUDGET, CALLBACK, EXIT_PC, EXIT_REQUEST, IRQ_MASK, PATCH, RET, STOP, \
    TLB_R, TLB_W, Context

MiB = 1 << 20
#: Default code buffer size (QEMU's default tb-size is larger, but its blocks
#: are denser).
DEFAULT_TB_SIZE_MB = 32
#: Block ids must fit STOP's 23 bits; past this many the buffer is flushed.
MAX_BLOCKS = 1 << 22
ALIGN = 16

ENTER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
LOAD_HELPERS = {v: k for k, v in LOADS.items()}
STORE_HELPERS = {v: k for k, v in STORES.items()}


def irq_mask(st):
    """The ``mip`` bits that would be taken as interrupts in this state (as
    ``Hart.pending_interrupt``): native code leaves for them only, not for
    one pending but masked (a kernel with interrupts off)."""
    deleg = st.mideleg
    priv = st.priv
    ms = st.mstatus
    m = ~deleg if priv < PRV_M or ms & MSTATUS_MIE else 0
    s = deleg if priv < PRV_S or (priv == PRV_S and ms & MSTATUS_SIE) else 0
    return (m | s) & st.mie & M_MASK


class CodeBuffer:
    """An executable mmap: the shared runtime code, then blocks until full."""

    def __init__(self, size):
        try:
            # Private: a forked emulator (user mode) translates into its own copy.
            self.mm = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                                prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        except OSError as e:
            raise PyvirtError(f"native engine: cannot map {size >> 20} MiB of executable "
                              f"memory: {e}") from None
        self.size = size
        self.address = ctypes.addressof(ctypes.c_char.from_buffer(self.mm))
        a = Asm(0)
        self.runtime = emit_runtime(a)
        self.start = self._align(len(a.code))
        self.mm[:len(a.code)] = a.code
        self.used = self.start

    @staticmethod
    def _align(n):
        return (n + ALIGN - 1) & -ALIGN

    def room(self, nbytes):
        return self.used + nbytes <= self.size

    def put(self, code):
        """Copy ``code`` (made for offset ``used``) in; returns its offset."""
        at = self.used
        self.mm[at:at + len(code)] = code
        self.used = self._align(at + len(code))
        return at

    def patch_jump(self, site, target):
        self.mm[site:site + 4] = rel32(site, target)

    def reset(self):
        self.used = self.start


class _Slots(Slots):
    """Calls from native code into Python, numbered: loads and stores that
    missed the native TLB, and helper calls."""

    def __init__(self, engine):
        self.engine = engine
        self.table = []           # slot -> function of no arguments
        self.index = {}           # key -> slot

    def _slot(self, key, make):
        slot = self.index.get(key)
        if slot is None:
            slot = self.index[key] = len(self.table)
            self.table.append(make())
        return slot

    def load(self, size, signed):
        return self._slot(("ld", size, signed), lambda: self.engine.load_miss(size, signed))

    def store(self, size):
        return self._slot(("st", size), lambda: self.engine.store_miss(size))

    def call(self, name, nout, cargs, nin):
        return self._slot(("call", name, nout, cargs, nin),
                          lambda: self.engine.helper_call(name, nout, cargs, nin))


class NativeEngine(PythonEngine):
    name = "native"

    def __init__(self, hart, log=None, disas=None, cache=None, hot_after=HOT_AFTER,
                 tb_size=DEFAULT_TB_SIZE_MB):
        super().__init__(hart, log, disas, cache, hot_after)
        self.buf = CodeBuffer(int(tb_size * MiB))
        self.ctx = Context()
        self.slots = _Slots(self)
        self.blocks = []            # block id -> BlockCode
        self.stubs = {}             # patchable jump site -> its lookup stub
        self.chained = []           # patched jump sites
        self.pending = None         # (site, target pc): a lookup that missed
        self.raised = None          # what the last call into Python raised
        self.chainable = True       # blocks compiled now may be chained to
        self.flushes = 0            # times the code buffer was full
        self._callback = CALLBACK_TYPE(self._call_python)
        self.ctx.words[CALLBACK] = ctypes.cast(self._callback, ctypes.c_void_p).value
        self._enter = ENTER(self.buf.address + self.buf.runtime.enter)
        self._state = ctypes.addressof(hart.state)
        self._ram = hart.ram.host_addr
        hart.tlb_w_flush_listeners.append(self.ctx.flush_tlb_w)

    # ---- keeping native caches with the hart's ----------------------------------------
    def _flush_fetch(self, vpn=None):
        """The hart's TLB was flushed (all, or one virtual page): so are the
        lookups by virtual pc.  Chains stay: a block chains only to blocks
        of its own virtual page (``codegen``), so a chain is reached only
        through a lookup of that page made under its current mapping."""
        super()._flush_fetch(vpn)
        if vpn is None:
            self.ctx.flush_tlb()
            self.ctx.flush_jumps()
        else:
            self.ctx.flush_tlb_page(vpn)
            self.ctx.flush_jumps_page(vpn)

    def _invalidate(self, ppn):
        super()._invalidate(ppn)
        self._drop_chains()

    def _drop_chains(self):
        """Forget every jump to a block (they may lead to code no longer valid).

        The jump cache is emptied and the jumps unpatched at the next entry,
        from the vCPU thread: this may run on another one (DMA) while native
        code runs, which then leaves at its next block boundary
        (EXIT_REQUEST is checked before every jump to another block).
        """
        self.ctx.words[EXIT_REQUEST] = 1
        self.pending = None
        self.stale = True

    def _unpatch(self):
        self.stale = False
        self.ctx.flush_jumps()
        for site in self.chained:
            self.buf.patch_jump(site, self.stubs[site])
        self.chained.clear()

    stale = False

    # ---- translation ----------------------------------------------------------------------
    def _one_insn(self, pc):
        # Never chained to: it may depend on two pages, or run with device access.
        self.chainable = False
        try:
            return super()._one_insn(pc)
        finally:
            self.chainable = True

    def _compile(self, insns):
        pc = insns[0].pc
        key = (tuple(x.d.raw for x in insns), self.chainable)
        hit = self.cache.compiled_code(pc, key)
        if hit is not None:
            return hit
        code = self._emit(self._ops(insns))
        log = self.log
        if log and log.enabled("out_asm"):
            log.write(self.out_asm(code))
        fn = self._entry(code, pc, self.chainable)
        self.cache.remember_code(pc, key, fn, code)
        return fn, code

    def _emit(self, block):
        buf = self.buf
        if len(self.blocks) >= MAX_BLOCKS:
            self._flush_all()
        code = CodeGen(block, buf.used, len(self.blocks), buf.runtime, self.slots).generate()
        if not buf.room(len(code.code)):
            self._flush_all()
            code = CodeGen(block, buf.used, len(self.blocks), buf.runtime, self.slots).generate()
            if not buf.room(len(code.code)):
                raise PyvirtError("native engine: tb-size is too small for one block")
        code.offset = buf.put(code.code)
        self.blocks.append(code)
        for site, stub in code.exits:
            self.stubs[site] = stub
        return code

    def _flush_all(self):
        """The code buffer is full: drop every block (QEMU's tb_flush)."""
        self.flushes += 1
        self.buf.reset()
        self.blocks.clear()
        self.stubs.clear()
        self.chained.clear()
        self.stale = False
        self.cache.flush()
        self.jump.clear()
        self.ctx.flush_jumps()
        self.pending = None

    def out_asm(self, code):
        """Capstone's disassembly of a block's host code (``-d out_asm``)."""
        import capstone
        md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        address = self.buf.address + code.offset
        lines = [f"OUT: [size={len(code.code)}]"]
        lines += [f"  0x{i.address:012x}:  {i.mnemonic:<8} {i.op_str}"
                  for i in md.disasm(code.code, address)]
        return "\n".join(lines)

    # ---- running -----------------------------------------------------------------------------
    def _entry(self, code, pc, chainable):
        """The function the run loop calls for a block: ``fn(left) -> (next pc,
        retired)``, raising what a helper raised (with ``stop`` set)."""
        offset = code.offset
        address = self.buf.address + offset
        w = self.ctx.words
        ctx = self.ctx.address
        state = self._state
        enter = self._enter
        blocks = self.blocks
        stop = self.stop
        st = self.hart.state

        def run_native(left):
            if self.stale:
                self._unpatch()
            if chainable:
                pending = self.pending
                if pending is not None and pending[1] == pc:
                    self.buf.patch_jump(pending[0], offset)
                    self.chained.append(pending[0])
                self.ctx.set_jump(pc, address)
            self.pending = None
            w[BUDGET] = left
            w[EXIT_REQUEST] = 0
            w[IRQ_MASK] = irq_mask(st)
            reason = enter(ctx, state, address)
            n = (left - w[BUDGET]) & M_MASK     # the budget may have gone negative
            if reason <= EXIT_LOOKUP:
                if reason == EXIT_LOOKUP and w[PATCH]:
                    self.pending = (w[PATCH], w[EXIT_PC])
                return w[EXIT_PC], n
            where = w[STOP]
            k = where & 255
            pc_k = blocks[where >> 8].pcs[k]
            if reason == EXIT_SMC:
                return pc_k, n + k
            stop[0] = n + k
            stop[1] = pc_k
            raised, self.raised = self.raised, None
            raise raised
        return run_native

    def _call_python(self, slot):
        """The callback native code calls: runs slot; EXIT_RAISED (what native code
        then returns) if it raised."""
        try:
            self.slots.table[slot]()
        except BaseException as e:      # noqa: BLE001 - re-raised by the run loop
            self.raised = e
            return EXIT_RAISED
        return 0

    def load_miss(self, size, signed):
        load = self.hart.helpers[LOAD_HELPERS[size, signed]]
        tlb = self.hart.tlb_r
        w = self.ctx.words
        fill = self.ctx.fill_tlb
        ram = self._ram

        def miss():
            va = w[ARGS]
            w[RET] = load(va)
            off = tlb.get(va >> 12)
            if off is not None:
                fill(TLB_R, va >> 12, ram + off)
        return miss

    def store_miss(self, size):
        store = self.hart.helpers[STORE_HELPERS[size]]
        tlb = self.hart.tlb_w
        w = self.ctx.words
        fill = self.ctx.fill_tlb
        ram = self._ram

        def miss():
            va = w[ARGS]
            store(va, w[ARGS + 1])
            off = tlb.get(va >> 12)
            if off is not None:
                fill(TLB_W, va >> 12, ram + off)
        return miss

    def helper_call(self, name, nout, cargs, nin):
        fn = self.env[name]          # the hart's helpers, and ILLEGAL
        w = self.ctx.words
        first = ARGS

        st = self.hart.state

        def call():
            args = w[first:first + nin].tolist()
            for pos, value in cargs:
                args.insert(pos, value)
            result = fn(*args)
            if nout:
                w[RET] = result & M_MASK
            w[IRQ_MASK] = irq_mask(st)      # privilege, enables, delegation may change
        return call
