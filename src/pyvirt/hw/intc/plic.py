"""The RISC-V Platform-Level Interrupt Controller, as QEMU's sifive_plic.

Interrupt sources 1..num_sources-1 (0 is reserved) each pass a
level-triggered gateway: a rising line makes the source pending, and it
stays pending (even if the line drops again) until a context claims it;
when the claim is completed and the line is still high, it is pending
again.  A context (a hart in one privilege mode;
the virt board gives each hart an M context then an S context) claims the
highest-priority pending source it has enabled whose priority exceeds its
threshold (ties go to the lowest ID), which clears the pending bit until
the context writes the ID back to complete it.  Each context drives one
output line, which the board wires to the hart's MEIP or SEIP.

Register map (the virt layout)::

    0x000000 + 4*src              priority
    0x001000                      pending bits, 32 sources per word
    0x002000 + 0x80*ctx           enable bits, 32 sources per word
    0x200000 + 0x1000*ctx + 0     priority threshold
    0x200000 + 0x1000*ctx + 4     claim (read) / complete (write)

Only naturally aligned 32-bit accesses are defined.
"""

import dataclasses

from pyvirt.core.device import Device
from pyvirt.hw import guest_error

PRIORITY_BASE = 0x0
PENDING_BASE = 0x1000
ENABLE_BASE = 0x2000
ENABLE_STRIDE = 0x80
CONTEXT_BASE = 0x200000
CONTEXT_STRIDE = 0x1000
CONTEXT_THRESHOLD = 0x0
CONTEXT_CLAIM = 0x4


def plic_size(num_contexts: int) -> int:
    """Bytes of register window for ``num_contexts`` contexts."""
    return CONTEXT_BASE + num_contexts * CONTEXT_STRIDE


@dataclasses.dataclass
class PLICState:
    priority: list = dataclasses.field(default_factory=list)    # per source
    enable: list = dataclasses.field(default_factory=list)      # per context, bitmask
    threshold: list = dataclasses.field(default_factory=list)   # per context
    pending: int = 0       # bitmask of sources
    claimed: int = 0       # bitmask of sources being serviced
    level: int = 0         # bitmask of input lines currently high


class PLIC(Device):
    name = "plic"

    def __init__(self, num_sources: int = 96, num_priorities: int = 7, contexts=()):
        self.num_sources = num_sources
        self.num_priorities = num_priorities
        #: One output IRQLine per context, in context order.
        self.contexts = list(contexts)
        self.size = plic_size(len(self.contexts))
        # Source 0 does not exist, yet its enable bit reads back (as QEMU's).
        self._source_mask = (1 << num_sources) - 1
        self.reset()

    def irq_input(self, source: int):
        """The callable(level) that source ``source``'s line drives."""
        if not 0 < source < self.num_sources:
            raise ValueError(f"PLIC has no interrupt source {source}")
        return lambda level: self._set_input(source, level)

    def reset(self) -> None:
        # The input wires keep their level across a reset of the PLIC.
        level = self.state.level if self.state is not None else 0
        n = len(self.contexts)
        self.state = PLICState(priority=[0] * self.num_sources, enable=[0] * n,
                               threshold=[0] * n, pending=level, level=level)
        self._update()

    def set_state(self, data: dict) -> None:
        super().set_state(data)
        self._update()

    # -- gateway ------------------------------------------------------

    def _set_input(self, source: int, level: int) -> None:
        s = self.state
        bit = 1 << source
        if level:
            s.level |= bit
            if not s.claimed & bit:
                s.pending |= bit
        else:
            s.level &= ~bit
        self._update()

    def _best(self, ctx: int) -> int:
        """The source ``ctx`` would claim now, or 0."""
        s = self.state
        candidates = s.pending & s.enable[ctx]
        best, best_prio = 0, s.threshold[ctx]
        while candidates:
            low = candidates & -candidates
            source = low.bit_length() - 1
            if s.priority[source] > best_prio:
                best, best_prio = source, s.priority[source]
            candidates ^= low
        return best

    def _claim(self, ctx: int) -> int:
        source = self._best(ctx)
        if source:
            self.state.pending &= ~(1 << source)
            self.state.claimed |= 1 << source
            self._update()
        return source

    def _complete(self, ctx: int, source: int) -> None:
        s = self.state
        bit = 1 << source
        if not 0 < source < self.num_sources or not s.enable[ctx] & bit:
            guest_error(self.name, "context %d completes source %d it has not enabled",
                        ctx, source)
            return
        s.claimed &= ~bit
        if s.level & bit:
            s.pending |= bit
        self._update()

    def _update(self) -> None:
        for ctx, line in enumerate(self.contexts):
            line.set(self._best(ctx) != 0)

    # -- register access ----------------------------------------------

    def read(self, offset: int, size: int) -> int:
        if size != 4 or offset & 3:
            guest_error(self.name, "unsupported %d-byte read at %#x", size, offset)
            return 0
        s = self.state
        if offset < PENDING_BASE:
            source = offset // 4
            return s.priority[source] if source < self.num_sources else 0
        if offset < ENABLE_BASE:
            return (s.pending >> (32 * ((offset - PENDING_BASE) // 4))) & 0xFFFFFFFF
        if offset < CONTEXT_BASE:
            ctx, byte = divmod(offset - ENABLE_BASE, ENABLE_STRIDE)
            if ctx < len(self.contexts):
                return (s.enable[ctx] >> (8 * byte)) & 0xFFFFFFFF
            return 0
        ctx, reg = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
        if ctx < len(self.contexts):
            if reg == CONTEXT_THRESHOLD:
                return s.threshold[ctx]
            if reg == CONTEXT_CLAIM:
                return self._claim(ctx)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4 or offset & 3:
            guest_error(self.name, "unsupported %d-byte write at %#x", size, offset)
            return
        s = self.state
        if offset < PENDING_BASE:
            source = offset // 4
            if 0 < source < self.num_sources:
                s.priority[source] = self._legal_priority(value, s.priority[source])
                self._update()
        elif offset < ENABLE_BASE:
            guest_error(self.name, "write to read-only pending bits at %#x", offset)
        elif offset < CONTEXT_BASE:
            ctx, byte = divmod(offset - ENABLE_BASE, ENABLE_STRIDE)
            if ctx < len(self.contexts):
                shift = 8 * byte
                enable = (s.enable[ctx] & ~(0xFFFFFFFF << shift)) | (value << shift)
                s.enable[ctx] = enable & self._source_mask
                self._update()
        else:
            ctx, reg = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
            if ctx >= len(self.contexts):
                return
            if reg == CONTEXT_THRESHOLD:
                s.threshold[ctx] = self._legal_priority(value, s.threshold[ctx])
                self._update()
            elif reg == CONTEXT_CLAIM:
                self._complete(ctx, value)

    def _legal_priority(self, value: int, old: int) -> int:
        # With 2^n-1 levels every bit is WARL; otherwise out-of-range
        # values are ignored (QEMU's behaviour).
        n = self.num_priorities
        if (n + 1) & n == 0:
            return value & n
        return value if value <= n else old
