"""The RISC-V ACLINT in the CLINT-compatible layout QEMU's virt board maps.

Two parts share the 64 KiB window:

* MSWI, machine software interrupts: one ``msip`` word per hart whose bit
  0 drives that hart's MSIP line (how harts send each other IPIs).
* MTIMER: the free-running 64-bit ``mtime`` counter, ticking at the
  timebase frequency (10 MHz, as in QEMU's device tree) derived from the
  virtual clock, and one ``mtimecmp`` per hart.  A hart's MTIP line is
  high exactly while ``mtime >= mtimecmp``; a timer on the virtual clock
  raises it when that moment comes.

Register map::

    0x0000 + 4*hart   msip      (32-bit)
    0x4000 + 8*hart   mtimecmp  (32- or 64-bit)
    0xbff8            mtime     (32- or 64-bit)
"""

import dataclasses
import functools

from pyvirt.core.clock import NS_PER_SEC
from pyvirt.core.device import Device
from pyvirt.hw import guest_error

MSIP_BASE = 0x0000
MTIMECMP_BASE = 0x4000
MTIME = 0xBFF8
ACLINT_SIZE = 0x10000
MAX_HARTS = 4095

TIMEBASE_FREQ = 10_000_000
MASK64 = (1 << 64) - 1


@dataclasses.dataclass
class ACLINTState:
    msip: list = dataclasses.field(default_factory=list)       # per hart, 0 or 1
    mtimecmp: list = dataclasses.field(default_factory=list)   # per hart
    #: mtime minus the tick count of the virtual clock (changes when the
    #: guest writes mtime).
    mtime_delta: int = 0


def _read_half(reg: int, offset: int, size: int) -> int:
    """A 32- or 64-bit read at byte ``offset`` (0 or 4) of a 64-bit register."""
    return (reg >> (8 * offset)) & ((1 << (8 * size)) - 1)


def _write_half(reg: int, offset: int, size: int, value: int) -> int:
    """``reg`` after a 32- or 64-bit write at byte ``offset`` (0 or 4)."""
    mask = ((1 << (8 * size)) - 1) << (8 * offset)
    return (reg & ~mask) | ((value << (8 * offset)) & mask)


class ACLINT(Device):
    name = "aclint"
    size = ACLINT_SIZE

    def __init__(self, clock, msip_lines, mtip_lines, timebase_freq: int = TIMEBASE_FREQ):
        if len(msip_lines) != len(mtip_lines) or not 0 < len(msip_lines) <= MAX_HARTS:
            raise ValueError("ACLINT needs one MSIP and one MTIP line per hart")
        self.clock = clock
        self.msip_lines = list(msip_lines)
        self.mtip_lines = list(mtip_lines)
        self.timebase_freq = timebase_freq
        self._timers = [clock.timer(functools.partial(self._update_timer, hart))
                        for hart in range(self.num_harts)]
        self.reset()

    @property
    def num_harts(self) -> int:
        return len(self.msip_lines)

    def mtime(self) -> int:
        """The current ``mtime`` (also what the ``time`` CSR reads)."""
        return (self._clock_ticks() + self.state.mtime_delta) & MASK64

    def _clock_ticks(self) -> int:
        return self.clock.now_ns() * self.timebase_freq // NS_PER_SEC

    def reset(self) -> None:
        # mtime restarts from zero; QEMU leaves mtimecmp at zero too.
        n = self.num_harts
        self.state = ACLINTState(msip=[0] * n, mtimecmp=[0] * n,
                                 mtime_delta=-self._clock_ticks())
        self._sync_lines()

    def set_state(self, data: dict) -> None:
        super().set_state(data)
        self._sync_lines()

    def _sync_lines(self) -> None:
        for hart in range(self.num_harts):
            self.msip_lines[hart].set(self.state.msip[hart])
            self._update_timer(hart)

    def _update_timer(self, hart: int) -> None:
        """Set MTIP from mtime vs mtimecmp; arm the timer for the crossing."""
        timer = self._timers[hart]
        timer.cancel()
        cmp = self.state.mtimecmp[hart]
        if self.mtime() >= cmp:
            self.mtip_lines[hart].raise_()
            return
        self.mtip_lines[hart].lower()
        ticks = cmp - self.state.mtime_delta
        # The first nanosecond at which the tick count reaches ``ticks``.
        timer.arm(-(-ticks * NS_PER_SEC // self.timebase_freq))

    def read(self, offset: int, size: int) -> int:
        s = self.state
        if offset < MTIMECMP_BASE:
            hart = offset // 4
            if size == 4 and offset % 4 == 0 and hart < self.num_harts:
                return s.msip[hart]
        elif size in (4, 8) and offset % size == 0:
            if offset >= MTIME:
                return _read_half(self.mtime(), offset - MTIME, size)
            hart, half = divmod(offset - MTIMECMP_BASE, 8)
            if hart < self.num_harts:
                return _read_half(s.mtimecmp[hart], half, size)
        guest_error(self.name, "bad %d-byte read at %#x", size, offset)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        s = self.state
        if offset < MTIMECMP_BASE:
            hart = offset // 4
            if size == 4 and offset % 4 == 0 and hart < self.num_harts:
                s.msip[hart] = value & 1
                self.msip_lines[hart].set(value & 1)
                return
        elif size in (4, 8) and offset % size == 0:
            if offset >= MTIME:
                mtime = _write_half(self.mtime(), offset - MTIME, size, value)
                s.mtime_delta = mtime - self._clock_ticks()
                for hart in range(self.num_harts):
                    self._update_timer(hart)
                return
            hart, half = divmod(offset - MTIMECMP_BASE, 8)
            if hart < self.num_harts:
                s.mtimecmp[hart] = _write_half(s.mtimecmp[hart], half, size, value)
                self._update_timer(hart)
                return
        guest_error(self.name, "bad %d-byte write at %#x", size, offset)
