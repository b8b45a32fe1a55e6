"""One RISC-V hart: state, softmmu memory access, traps, interrupts, CSRs.

This is the part of the CPU every engine shares.  Engines execute
instructions from the semantics table, which call the helpers collected in
``Hart.helpers`` (memory access, CSRs, system instructions, atomics,
floating point).

Memory access has a fast path per access kind (``tlb_r``/``tlb_w``):
a dict from virtual page number to the offset of that page in guest RAM,
filled on a miss after translation.  Only RAM is ever cached; MMIO and
pages holding translated code (for stores) always take the slow path,
which goes through the AddressSpace with the global device lock held.
The TLB dicts are cleared, never replaced, so helpers may hold them.
"""

import struct
import threading

from ...memory.address_space import Unassigned
from . import csr as csrs
from . import mmu, pmp
from .cpu_bits import (ACCESS_FAULT, ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, AMO_CAUSE_MISALIGNED,
                       EXC_BREAKPOINT, EXC_ECALL_U, EXC_ILLEGAL_INSN, EXC_LOAD_MISALIGNED,
                       INTERRUPT_FLAG, IRQ_PRIORITY, M_MASK, MISA, MSTATUS_MIE, MSTATUS_MPIE,
                       MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SIE,
                       MSTATUS_SPIE, MSTATUS_SPP, MSTATUS_SUM, MSTATUS_TSR, MSTATUS_TVM,
                       MSTATUS_TW, PAGE_FAULT, PRV_M, PRV_S, PRV_U, SATP_MODE_SHIFT, SIGN)
from .fpu import make_fp_helpers
from .semantics import AMO_OPS
from .state import PC, new_state, word_index
from .traps import EXIT_IO, EXIT_NEXT, EXIT_RETRY, EXIT_WFI, BlockExit, Trap

_UNPACK = {(1, False): "<B", (2, False): "<H", (4, False): "<I", (8, False): "<Q",
           (1, True): "<b", (2, True): "<h", (4, True): "<i", (8, True): "<q"}

EXCEPTION_NAMES = {
    0: "instruction address misaligned", 1: "instruction access fault",
    2: "illegal instruction", 3: "breakpoint", 4: "load address misaligned",
    5: "load access fault", 6: "store/AMO address misaligned", 7: "store/AMO access fault",
    8: "ecall from U-mode", 9: "ecall from S-mode", 11: "ecall from M-mode",
    12: "instruction page fault", 13: "load page fault", 15: "store/AMO page fault",
}
INTERRUPT_NAMES = {1: "S software", 3: "M software", 5: "S timer", 7: "M timer",
                   9: "S external", 11: "M external"}

MIP, MIE = word_index("mip"), word_index("mie")
_PTE = struct.Struct("<Q")


def _div(a, b):
    if b == 0:
        return -1
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def _rem(a, b):
    if b == 0:
        return a
    return a - b * _div(a, b)


class CodePages:
    """Which physical pages hold decoded/translated code, shared by all harts.

    Stores to such a page must take the slow path so engines can drop what
    they decoded from it (self-modifying code, loaders, DMA).
    """

    def __init__(self):
        self.pages = set()
        self.harts = []
        #: Engines' callbacks: invalidate(page_number).
        self.listeners = []

    def mark(self, ppn):
        if ppn not in self.pages:
            self.pages.add(ppn)
            for h in self.harts:
                h.tlb_w.clear()
                for fn in h.tlb_w_flush_listeners:
                    fn()

    def written(self, paddr, size):
        first, last = paddr >> 12, (paddr + size - 1) >> 12
        for ppn in range(first, last + 1):
            if ppn in self.pages:
                self.pages.discard(ppn)
                for fn in self.listeners:
                    fn(ppn)

    def flush(self):
        for ppn in list(self.pages):
            self.written(ppn << 12, 1)


class Hart:
    def __init__(self, hartid, bus, ram, ram_base, *, io_lock=None, log=None,
                 code_pages=None):
        self.state, self.words, self._buf = new_state()
        st = self.state
        st.mhartid = hartid
        st.misa = MISA
        st.priv = PRV_M
        self.hartid = hartid
        self.bus = bus
        self.ram = ram
        self.ram_base = ram_base
        self.ram_end = ram_base + ram.size
        self.io_lock = io_lock or threading.RLock()
        self.log = log
        self.code_pages = code_pages or CodePages()
        self.code_pages.harts.append(self)
        bus.write_listeners.append(self.code_pages.written)
        self.tlb_r = {}
        self.tlb_w = {}
        self._pmp_rules = None
        #: (page shift, superpage number) -> virtual 4 KiB pages translated
        #: through that superpage: sfence.vma of one address in it must drop
        #: them all, since the TLBs hold a superpage as many 4 KiB entries.
        self.superpage_vpns = {}
        #: Engines register fn(vpn=None) to drop their fetch-side caches: all of
        #: them, or only virtual page ``vpn``.
        self.tlb_flush_listeners = []
        #: fn() of engines with their own copy of ``tlb_w``, called when the
        #: store side alone is cleared (a page became a code page).
        self.tlb_w_flush_listeners = []
        self.mtime = lambda: 0
        self.counters_synced = False
        self.irq_lock = threading.Lock()
        #: Set when an interrupt line changes, to wake a hart sleeping in wfi.
        self.wake = threading.Event()
        self.waiting = False
        #: Set from any thread to make the engine return at its next block
        #: boundary (QEMU's cpu->exit_request).
        self.exit_request = False
        #: With an instruction-counting clock a device must see the exact
        #: count: the first device access of an instruction leaves the
        #: engine loop (EXIT_IO) so it can sync the count, and the engine
        #: reruns that instruction alone with ``io_allowed`` set (QEMU's
        #: can_do_io).
        self.io_sync = False
        self.io_allowed = False
        self.helpers = self._make_helpers()

    # ---- reset ---------------------------------------------------------------
    def reset(self, pc):
        st = self.state
        for i in range(32):
            st.x[i] = 0
        st.priv = PRV_M
        st.mstatus = 0
        st.mie = st.mip = 0
        st.satp = 0
        st.pc = pc
        for i in range(len(st.pmpcfg)):
            st.pmpcfg[i] = 0
        self.pmp_changed()

    @property
    def pc(self):
        return self.words[PC]

    # ---- memory -------------------------------------------------------------
    def flush_tlb(self):
        self.tlb_r.clear()
        self.tlb_w.clear()
        self.superpage_vpns.clear()
        for fn in self.tlb_flush_listeners:
            fn()

    def flush_tlb_page(self, vpn):
        """sfence.vma of one address: drop that virtual page everywhere, and
        every page cached from a superpage that holds it."""
        vpns = [vpn]
        if self.superpage_vpns:
            va = vpn << 12
            for shift in mmu.SUPERPAGE_SHIFTS:
                vpns += self.superpage_vpns.pop((shift, va >> shift), ())
        for v in vpns:
            self.tlb_r.pop(v, None)
            self.tlb_w.pop(v, None)
            for fn in self.tlb_flush_listeners:
                fn(v)

    def access_priv(self, access):
        """The privilege a memory access is checked at (mstatus.MPRV applies to data)."""
        st = self.state
        priv = st.priv
        if access != ACCESS_FETCH and st.mstatus & MSTATUS_MPRV and priv == PRV_M:
            priv = (st.mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT
        return priv

    def check_pmp(self, pa, size, access, va):
        if not pmp.allowed(self.pmp_rules(), pa, size, access, self.access_priv(access)):
            self.guest_error(f"PMP denies access to {pa:#x}")
            raise Trap(ACCESS_FAULT[access], va)

    def cacheable(self, pa, access):
        """May the page holding ``pa`` be cached in a TLB for ``access``?"""
        return pmp.page_verdict(self.pmp_rules(), pa & ~4095, access, self.access_priv(access))

    def pmp_rules(self):
        if self._pmp_rules is None:
            self._pmp_rules = pmp.ranges(self.state)
        return self._pmp_rules

    def pmp_changed(self):
        self._pmp_rules = None
        self.flush_tlb()

    def translate(self, va, access):
        """Virtual to physical, or raise the architectural Trap."""
        st = self.state
        ms = st.mstatus
        priv = self.access_priv(access)
        mode = st.satp >> SATP_MODE_SHIFT
        if priv == PRV_M or mode == 0:
            return va
        try:
            pa, page_shift = mmu.walk(mode, st.satp, va, access, priv, ms & MSTATUS_SUM,
                                      ms & MSTATUS_MXR, self._read_pte, self._write_pte)
        except mmu.PageFault:
            raise Trap(PAGE_FAULT[access], va) from None
        except mmu.WalkAccessFault:
            raise Trap(ACCESS_FAULT[access], va) from None
        if page_shift > 12:
            self.superpage_vpns.setdefault((page_shift, va >> page_shift), set()).add(va >> 12)
        return pa

    def _read_pte(self, addr):
        # Page tables live in RAM: read it directly (a walk reads up to four).
        if self.ram_base <= addr <= self.ram_end - 8:
            return _PTE.unpack_from(self.ram.view, addr - self.ram_base)[0]
        try:
            return self.bus.read(addr, 8)
        except Unassigned:
            raise mmu.WalkAccessFault from None

    def _write_pte(self, addr, value):
        self.bus.write(addr, 8, value)

    def _ram_offset(self, pa, size):
        if self.ram_base <= pa and pa + size <= self.ram_end:
            return pa - self.ram_base
        return None

    def phys_read(self, pa, size, access, va):
        off = self._ram_offset(pa, size)
        if off is not None:
            return int.from_bytes(self.ram.view[off:off + size], "little")
        if self.io_sync and not self.io_allowed:
            raise BlockExit(None, EXIT_IO)
        try:
            with self.io_lock:
                return self.bus.read(pa, size)
        except Unassigned:
            self.guest_error(f"invalid {'fetch' if access == ACCESS_FETCH else 'read'} at "
                             f"physical address {pa:#x} (size {size})")
            raise Trap(ACCESS_FAULT[access], va) from None

    def phys_write(self, pa, size, value, va):
        off = self._ram_offset(pa, size)
        if off is not None:
            self.ram.view[off:off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            self.code_pages.written(pa, size)
            return
        if self.io_sync and not self.io_allowed:
            raise BlockExit(None, EXIT_IO)
        try:
            with self.io_lock:
                self.bus.write(pa, size, value)
        except Unassigned:
            self.guest_error(f"invalid write at physical address {pa:#x} (size {size})")
            raise Trap(ACCESS_FAULT[ACCESS_STORE], va) from None

    def _load_slow(self, va, size, signed):
        inpage = 4096 - (va & 4095)
        if size > inpage:
            lo = self._load_slow(va, inpage, False)
            hi = self._load_slow((va + inpage) & M_MASK, size - inpage, False)
            v = lo | (hi << (8 * inpage))
        else:
            pa = self.translate(va, ACCESS_LOAD)
            self.check_pmp(pa, size, ACCESS_LOAD, va)
            off = self._ram_offset(pa & ~4095, 4096)
            if off is not None and self.cacheable(pa, ACCESS_LOAD):
                self.tlb_r[va >> 12] = off
            v = self.phys_read(pa, size, ACCESS_LOAD, va)
        if signed and v >> (8 * size - 1):
            v -= 1 << (8 * size)
        return v & M_MASK

    def _store_slow(self, va, size, value):
        inpage = 4096 - (va & 4095)
        if size > inpage:
            # translate both pages first so a fault leaves memory untouched
            pa1 = self.translate(va, ACCESS_STORE)
            pa2 = self.translate((va + inpage) & M_MASK, ACCESS_STORE)
            self.check_pmp(pa1, inpage, ACCESS_STORE, va)
            self.check_pmp(pa2, size - inpage, ACCESS_STORE, va)
            self.phys_write(pa1, inpage, value, va)
            self.phys_write(pa2, size - inpage, value >> (8 * inpage), va + inpage)
            return
        pa = self.translate(va, ACCESS_STORE)
        self.check_pmp(pa, size, ACCESS_STORE, va)
        off = self._ram_offset(pa & ~4095, 4096)
        if off is not None and (pa >> 12) not in self.code_pages.pages \
                and self.cacheable(pa, ACCESS_STORE):
            self.tlb_w[va >> 12] = off
        self.phys_write(pa, size, value, va)

    def _make_load(self, size, signed):
        unpack = struct.Struct(_UNPACK[size, signed]).unpack_from
        ram = self.ram.view
        tlb = self.tlb_r
        lim = 4096 - size
        slow = self._load_slow

        if signed:
            def load(va):
                base = tlb.get(va >> 12)
                if base is not None and (va & 4095) <= lim:
                    return unpack(ram, base + (va & 4095))[0] & M_MASK
                return slow(va, size, True)
        else:
            def load(va):
                base = tlb.get(va >> 12)
                if base is not None and (va & 4095) <= lim:
                    return unpack(ram, base + (va & 4095))[0]
                return slow(va, size, False)
        return load

    def _make_store(self, size):
        pack = struct.Struct(_UNPACK[size, False]).pack_into
        ram = self.ram.view
        tlb = self.tlb_w
        lim = 4096 - size
        mask = (1 << (8 * size)) - 1
        slow = self._store_slow

        def store(va, value):
            base = tlb.get(va >> 12)
            if base is not None and (va & 4095) <= lim:
                pack(ram, base + (va & 4095), value & mask)
            else:
                slow(va, size, value)
        return store

    def fetch_page(self, va):
        """Physical address of the page holding ``va``, translated and
        PMP-checked for instruction fetch."""
        pa = self.translate(va, ACCESS_FETCH)
        self.check_pmp(pa, 2, ACCESS_FETCH, va)
        return pa & ~4095

    def fetch(self, va, page_pa=None):
        """(physical address, bits) of the instruction at ``va``.

        ``page_pa``, when the caller already has it from ``fetch_page``,
        spares a page walk per decoded instruction.
        """
        if page_pa is None:
            page_pa = self.fetch_page(va)
        pa = page_pa | (va & 4095)
        lo = self.phys_read(pa, 2, ACCESS_FETCH, va)
        if lo & 3 != 3:
            return pa, lo
        if va & 4095 == 4094:
            pa2 = self.translate((va + 2) & M_MASK, ACCESS_FETCH)
            self.check_pmp(pa2, 2, ACCESS_FETCH, va + 2)
        else:
            pa2 = pa + 2
        return pa, lo | (self.phys_read(pa2, 2, ACCESS_FETCH, va + 2) << 16)

    # ---- atomics ------------------------------------------------------------
    def _atomic_pa(self, va, size, misaligned_cause, access):
        if va & (size - 1):
            raise Trap(misaligned_cause, va)
        pa = self.translate(va, access)
        self.check_pmp(pa, size, access, va)
        return pa

    def lr(self, size, va):
        pa = self._atomic_pa(va, size, EXC_LOAD_MISALIGNED, ACCESS_LOAD)
        v = self.phys_read(pa, size, ACCESS_LOAD, va)
        st = self.state
        st.res_addr, st.res_value, st.res_valid = va, v, 1
        return self._sext(v, size)

    def sc(self, size, va, value):
        st = self.state
        pa = self._atomic_pa(va, size, AMO_CAUSE_MISALIGNED, ACCESS_STORE)
        ok = st.res_valid and st.res_addr == va and \
            self.phys_read(pa, size, ACCESS_STORE, va) == st.res_value
        st.res_valid = 0
        if not ok:
            return 1
        self.phys_write(pa, size, value, va)
        return 0

    def amo(self, size, fn, va, value):
        pa = self._atomic_pa(va, size, AMO_CAUSE_MISALIGNED, ACCESS_STORE)
        old = self.phys_read(pa, size, ACCESS_STORE, va)
        bits = 8 * size
        mask = (1 << bits) - 1
        self.phys_write(pa, size, fn(old, value & mask, 1 << (bits - 1)) & mask, va)
        return self._sext(old, size)

    @staticmethod
    def _sext(v, size):
        if size == 4:
            return ((v ^ 0x80000000) - 0x80000000) & M_MASK
        return v

    # ---- privilege, traps and interrupts -------------------------------------
    def set_priv(self, priv):
        if priv != self.state.priv:
            self.state.priv = priv
            self.flush_tlb()

    def take_trap(self, cause, tval, pc):
        """Enter the trap handler; returns the new pc."""
        st = self.state
        interrupt = cause & INTERRUPT_FLAG
        code = cause & ~INTERRUPT_FLAG
        priv = st.priv
        deleg = st.mideleg if interrupt else st.medeleg
        if self.log and self.log.enabled("int"):
            names = INTERRUPT_NAMES if interrupt else EXCEPTION_NAMES
            self.log.write(f"riscv_cpu_do_interrupt: hart:{self.hartid}, async:{1 if interrupt else 0}, "
                           f"cause:{code:016x}, epc:0x{pc:016x}, tval:0x{tval:016x}, "
                           f"desc={names.get(code, 'reserved')}")
        ms = st.mstatus
        if priv <= PRV_S and (deleg >> code) & 1:
            st.scause, st.sepc, st.stval = cause, pc, tval
            ms = (ms & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP)) \
                | ((ms & MSTATUS_SIE) << 4) | (MSTATUS_SPP if priv == PRV_S else 0)
            tvec = st.stvec
            new_priv = PRV_S
        else:
            st.mcause, st.mepc, st.mtval = cause, pc, tval
            ms = (ms & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP)) \
                | ((ms & MSTATUS_MIE) << 4) | (priv << MSTATUS_MPP_SHIFT)
            tvec = st.mtvec
            new_priv = PRV_M
        st.mstatus = ms
        self.set_priv(new_priv)
        base = tvec & ~3
        if interrupt and tvec & 1:
            return base + 4 * code
        return base

    def pending_interrupt(self):
        """The cause of the interrupt to take now, or None."""
        st = self.state
        pend = st.mip & st.mie
        if not pend:
            return None
        priv = st.priv
        deleg = st.mideleg
        ms = st.mstatus
        m = pend & ~deleg if priv < PRV_M or ms & MSTATUS_MIE else 0
        s = pend & deleg if priv < PRV_S or (priv == PRV_S and ms & MSTATUS_SIE) else 0
        take = m | s
        if not take:
            return None
        for bit in IRQ_PRIORITY:
            if take >> bit & 1:
                return INTERRUPT_FLAG | bit
        return None

    def take_interrupt(self, pc):
        """pc after taking the interrupt to take now, if any."""
        cause = self.pending_interrupt()
        return pc if cause is None else self.take_trap(cause, 0, pc)

    def set_irq(self, bit, level):
        """A device line into mip (MTIP, MSIP, MEIP, SEIP) changed."""
        with self.irq_lock:
            if level:
                self.state.mip |= 1 << bit
            else:
                self.state.mip &= ~(1 << bit)
        self.wake.set()

    def irq_line_handler(self, bit):
        return lambda level: self.set_irq(bit, level)

    def update_mip(self, mask, value):
        with self.irq_lock:
            self.state.mip = (self.state.mip & ~mask) | (value & mask)
        self.wake.set()

    def update_mie(self, mask, value):
        self.state.mie = (self.state.mie & ~mask) | (value & mask)
        return True

    # ---- counters ----------------------------------------------------------
    def counter(self):
        return self.state.minstret

    def set_counter(self, v):
        self.state.minstret = v
        return False

    # ---- instruction helpers -------------------------------------------------
    def illegal(self, insn):
        raise Trap(EXC_ILLEGAL_INSN, insn)

    def csr_op(self, rd, num, operand, kind, write, pc, ln, insn):
        st = self.state
        entry = csrs.CSRS.get(num)
        priv = st.priv
        if entry is None or priv < csrs.min_priv(num) or (write and csrs.read_only(num)):
            if self.log and self.log.enabled("unimp") and entry is None:
                self.log.write(f"unimplemented CSR {num:#x} at pc {pc:#x}")
            raise Trap(EXC_ILLEGAL_INSN, insn)
        if num in csrs.COUNTER_CSRS and priv < PRV_M:
            bit = 1 << (num & 31)
            if not st.mcounteren & bit or (priv == PRV_U and not st.scounteren & bit):
                raise Trap(EXC_ILLEGAL_INSN, insn)
        if num == 0x180 and priv == PRV_S and st.mstatus & MSTATUS_TVM:
            raise Trap(EXC_ILLEGAL_INSN, insn)
        if num <= 3 and not st.mstatus & (3 << 13):
            raise Trap(EXC_ILLEGAL_INSN, insn)
        if num in csrs.EXACT_COUNT_CSRS:
            if not self.counters_synced:
                self.counters_synced = True
                raise BlockExit(pc, EXIT_RETRY)
            self.counters_synced = False
        _, read, wr = entry
        old = read(self)
        leave = False
        if write:
            if kind == 1:
                operand |= old
            elif kind == 2:
                operand = old & ~operand
            leave = wr(self, operand & M_MASK)
        self.words[rd] = old & M_MASK
        if leave:
            raise BlockExit(pc + ln)

    def ecall(self):
        raise Trap(EXC_ECALL_U + self.state.priv)

    def ebreak(self, pc):
        raise Trap(EXC_BREAKPOINT, pc)

    def mret(self, insn):
        st = self.state
        if st.priv < PRV_M:
            raise Trap(EXC_ILLEGAL_INSN, insn)
        ms = st.mstatus
        mpp = (ms & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT
        ms = (ms & ~(MSTATUS_MIE | MSTATUS_MPP)) | ((ms & MSTATUS_MPIE) >> 4) | MSTATUS_MPIE
        if mpp != PRV_M:
            ms &= ~MSTATUS_MPRV
        self._return_to(mpp, ms)
        raise BlockExit(st.mepc)

    def sret(self, insn):
        st = self.state
        if st.priv < PRV_S or (st.priv == PRV_S and st.mstatus & MSTATUS_TSR):
            raise Trap(EXC_ILLEGAL_INSN, insn)
        ms = st.mstatus
        spp = PRV_S if ms & MSTATUS_SPP else PRV_U
        ms = (ms & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV)) | ((ms & MSTATUS_SPIE) >> 4) \
            | MSTATUS_SPIE
        self._return_to(spp, ms)
        raise BlockExit(st.sepc)

    def _return_to(self, priv, mstatus):
        """xRET: a new privilege, and MPRV may have been cleared."""
        st = self.state
        mprv_dropped = st.mstatus & MSTATUS_MPRV and not mstatus & MSTATUS_MPRV
        st.mstatus = mstatus
        if priv != st.priv:
            self.set_priv(priv)
        elif mprv_dropped:
            self.flush_tlb()

    def wfi(self, next_pc, insn):
        st = self.state
        if st.priv == PRV_U or (st.priv == PRV_S and st.mstatus & MSTATUS_TW):
            raise Trap(EXC_ILLEGAL_INSN, insn)
        raise BlockExit(next_pc, EXIT_WFI)

    def sfence_vma(self, next_pc, rs1, va, insn):
        st = self.state
        if st.priv == PRV_U or (st.priv == PRV_S and st.mstatus & MSTATUS_TVM):
            raise Trap(EXC_ILLEGAL_INSN, insn)
        if rs1:
            self.flush_tlb_page(va >> 12)
        else:
            self.flush_tlb()
        raise BlockExit(next_pc)

    def fence_i(self, next_pc):
        # Decoded code is already coherent: every store to a code page drops
        # what was decoded from it (CodePages), so only the block ends here.
        raise BlockExit(next_pc)

    def guest_error(self, msg):
        if self.log and self.log.enabled("guest_errors"):
            self.log.write(f"hart {self.hartid}: {msg}")

    def _make_helpers(self):
        h = {
            "M": M_MASK, "S": SIGN,
            "LB": self._make_load(1, True), "LH": self._make_load(2, True),
            "LW": self._make_load(4, True), "LD": self._make_load(8, False),
            "LBU": self._make_load(1, False), "LHU": self._make_load(2, False),
            "LWU": self._make_load(4, False),
            "SB": self._make_store(1), "SH": self._make_store(2),
            "SW": self._make_store(4), "SD": self._make_store(8),
            "DIV": _div, "REM": _rem,
            "DIVU": lambda a, b, ones: a // b if b else ones,
            "REMU": lambda a, b: a % b if b else a,
            "LR": self.lr, "SC": self.sc, "AMO": self.amo,
            "CSR": self.csr_op, "ECALL": self.ecall, "EBREAK": self.ebreak,
            "MRET": self.mret, "SRET": self.sret, "WFI": self.wfi,
            "SFENCE_VMA": self.sfence_vma, "FENCE_I": self.fence_i,
        }
        for name, combine in AMO_OPS.items():
            h[f"AMO_{name.upper()}"] = combine
        h.update(make_fp_helpers(self.state))
        return h


__all__ = ["Hart", "CodePages", "Trap", "BlockExit", "EXIT_NEXT", "EXIT_WFI", "EXIT_RETRY",
           "EXIT_IO"]
