"""The reference engine: decode once per instruction address, then
dispatch through closures.

Each instruction's template from ``semantics`` becomes, once per hart, a
factory that takes the decoded operands and returns a closure
``f(pc) -> next_pc``.  Decoded closures live in one list per physical code
page (2048 slots, one per 2-byte offset), filled lazily: every slot starts
as a stub that decodes the instruction, stores its closure and runs it.
``tlb_x`` maps virtual page numbers to those lists, so the hot loop does
one list index and one call per instruction, with no dictionary lookup
until control leaves the page.

A store to a code page (see ``hart.CodePages``) resets that page's slots
to the stub, so self-modifying code and loaders are seen at once.
"""

from . import decode as decoder
from .hart import MIE, MIP
from .semantics import SEMANTICS
from .state import PC
from .traps import EXIT_IO, EXIT_RETRY, EXIT_WFI, BlockExit, Trap

OPERANDS = ("rd", "rs1", "rs2", "rs3", "imm", "rm", "csr", "ln", "insn")
SLOTS = 2048


def factory_source(name, body):
    """Python source of ``make_<name>(operands...) -> closure``."""
    lines = body.split("\n")
    if not lines[-1].startswith("return"):
        lines.append("return pc + ln")
    inner = "\n".join("        " + line for line in lines)
    params = ", ".join(f"{p}=0" for p in OPERANDS)
    return f"def make_{name}({params}):\n    def i_{name}(pc):\n{inner}\n    return i_{name}\n"


def build_factories(env):
    """{name: factory} with the templates compiled in ``env`` (the hart's helpers)."""
    src = "\n".join(factory_source(name, body) for name, body in SEMANTICS.items())
    exec(compile(src, "<riscv-semantics>", "exec"), env)   # noqa: S102 - our own table
    return {name: env[f"make_{name}"] for name in SEMANTICS}


class Interpreter:
    name = "interp"

    def __init__(self, hart, log=None, disas=None):
        self.hart = hart
        self.log = log
        self.disas = disas
        env = dict(hart.helpers)
        env["X"] = hart.words
        self.factories = build_factories(env)
        self.tlb_x = {}      # virtual page number -> list of closures
        self.xpage = {}      # virtual page number -> physical page number
        self.pages = {}      # physical page number -> list of closures
        self.stubs = [self._stub] * SLOTS
        hart.tlb_flush_listeners.append(self._flush_fetch)
        hart.code_pages.listeners.append(self._invalidate)

    # ---- decode cache --------------------------------------------------------
    def _flush_fetch(self, vpn=None):
        if vpn is None:
            self.tlb_x.clear()
            self.xpage.clear()
        else:
            self.tlb_x.pop(vpn, None)
            self.xpage.pop(vpn, None)

    def _invalidate(self, ppn):
        arr = self.pages.get(ppn)
        if arr is not None:
            arr[:] = self.stubs

    def _map_page(self, pc):
        ppn = self.hart.fetch_page(pc) >> 12
        arr = self.pages.get(ppn)
        if arr is None:
            arr = self.pages[ppn] = list(self.stubs)
        vpn = pc >> 12
        self.tlb_x[vpn] = arr
        self.xpage[vpn] = ppn
        return arr

    def _stub(self, pc):
        fn, cacheable = self.translate_insn(pc)
        if cacheable:
            self.tlb_x[pc >> 12][(pc & 4095) >> 1] = fn
            self.hart.code_pages.mark(self.xpage[pc >> 12])
        return fn(pc)

    def translate_insn(self, pc):
        """(closure, cacheable) for the instruction at ``pc``."""
        ppn = self.xpage.get(pc >> 12)
        pa, bits = self.hart.fetch(pc, None if ppn is None else ppn << 12)
        d = decoder.decode(bits)
        if self.log and self.log.enabled("in_asm"):
            self.log.write(self.disassemble(pc, d))
        cacheable = (pc & 4095) + d.length <= 4096
        if d.name is None:
            return self._illegal(d.raw), cacheable
        return self.factories[d.name](ln=d.length, insn=d.raw, **d.fields), cacheable

    def disassemble(self, pc, d):
        text = self.disas(pc, d.raw, d.length) if self.disas else d.name or "illegal"
        return f"0x{pc:016x}:  {d.raw:0{2 * d.length}x}  {text}"

    @staticmethod
    def _illegal(raw):
        def illegal(pc):
            raise Trap(2, raw)
        return illegal

    # ---- execution -----------------------------------------------------------
    def run(self, budget):
        """Execute up to ``budget`` instructions; returns how many retired.

        Returns early when the hart enters wfi with nothing pending
        (``hart.waiting`` is then True).
        """
        h = self.hart
        W = h.words
        st = h.state
        tlb_x = self.tlb_x
        trace = self.log is not None and (self.log.enabled("exec") or self.log.enabled("cpu"))
        pc = W[PC]
        done = 0
        single = False      # run one instruction with device access allowed
        h.exit_request = False
        while done < budget and not h.exit_request:
            if W[MIP] & W[MIE]:
                pc = h.take_interrupt(pc)
            if trace:
                self._trace(pc)
            arr = tlb_x.get(pc >> 12)
            if arr is None:
                try:
                    arr = self._map_page(pc)
                except Trap as t:
                    pc = h.take_trap(t.cause, t.tval, pc)
                    done += 1       # a trap storm must still end the slice
                    continue
            base = pc & ~4095
            n = 1 if single else budget - done
            h.io_allowed = single
            single = False
            i = 0
            try:
                for i in range(1, n + 1):
                    pc = arr[(pc - base) >> 1](pc)
                    if (pc - base) >> 12:
                        break
            except Trap as t:
                i -= 1
                pc = h.take_trap(t.cause, t.tval, pc)
            except BlockExit as e:
                if e.kind >= EXIT_RETRY:
                    i -= 1
                    single = e.kind == EXIT_IO
                if e.pc is not None:
                    pc = e.pc
                if e.kind == EXIT_WFI and not (W[MIP] & W[MIE]):
                    h.waiting = True
                    st.minstret += i
                    done += i
                    break
            st.minstret += i
            # A trap storm must end the slice too, but a device access only
            # left to sync the count: its single step comes next.
            done += i or (0 if single else 1)
        h.io_allowed = False
        W[PC] = pc
        return done

    def _trace(self, pc):
        if self.log.enabled("exec"):
            self.log.write(f"Trace {self.hart.hartid}: 0x{pc:016x}")
        if self.log.enabled("cpu"):
            self.log.write(dump_state(self.hart, pc))


ABI_NAMES = ("zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 "
             "s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6").split()


def dump_state(hart, pc):
    st = hart.state
    lines = [f" pc       {pc:016x}", f" mhartid  {st.mhartid:016x}",
             f" mstatus  {st.mstatus:016x}", f" priv     {st.priv}"]
    regs = [f" x{i}/{ABI_NAMES[i]:<4} {st.x[i] if i else 0:016x}" for i in range(32)]
    for i in range(0, 32, 4):
        lines.append("".join(regs[i:i + 4]))
    return "\n".join(lines)
