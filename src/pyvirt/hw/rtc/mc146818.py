"""The MC146818 real-time clock and its CMOS RAM (port 0x70 index, 0x71 data).

The time registers read the host's UTC time (QEMU's ``-rtc base=utc``),
in BCD or binary and 12/24-hour form as register B asks.  The other
bytes are battery-backed RAM: they survive a machine reset, which is
how a guest can count its own reboots.  Periodic, alarm and update
interrupts (IRQ 8) are not modelled: nothing a microvm guest here
needs them, Linux keeps time with kvmclock/TSC.
"""

import dataclasses
import time

from pyvirt.core.device import Device

INDEX, DATA = 0, 1
NMI_DISABLE = 0x80

SECONDS, MINUTES, HOURS = 0x00, 0x02, 0x04
WEEKDAY, DAY, MONTH, YEAR = 0x06, 0x07, 0x08, 0x09
REG_A, REG_B, REG_C, REG_D = 0x0A, 0x0B, 0x0C, 0x0D
CENTURY = 0x32

REG_A_DIVIDER = 0x20            # 32.768 kHz time base, no periodic rate
REG_B_24H = 0x02
REG_B_BINARY = 0x04
REG_B_SET = 0x80
REG_D_VRT = 0x80                # valid RAM and time
HOUR_PM = 0x80

CMOS_SIZE = 128


def _cmos_at_power_on():
    ram = [0] * CMOS_SIZE
    ram[REG_A] = REG_A_DIVIDER
    ram[REG_B] = REG_B_24H
    ram[REG_D] = REG_D_VRT
    return ram


@dataclasses.dataclass
class CmosState:
    index: int = 0
    ram: list = dataclasses.field(default_factory=_cmos_at_power_on)


class MC146818(Device):
    name = "mc146818rtc"
    size = 2

    def __init__(self, now=time.time):
        self.now = now
        self.state = CmosState()

    def reset(self) -> None:
        """Only the index latch: the RAM is battery-backed."""
        self.state.index = 0

    def read(self, offset: int, size: int) -> int:
        if offset != DATA:
            return 0xFF
        index = self.state.index
        clock = self._clock_fields()
        if index in clock:
            return clock[index]
        value = self.state.ram[index]
        if index == REG_C:
            self.state.ram[REG_C] = 0    # reading C acknowledges interrupts
        return value

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == INDEX:
            self.state.index = value & ~NMI_DISABLE & (CMOS_SIZE - 1)
        elif self.state.index not in (REG_C, REG_D):
            self.state.ram[self.state.index] = value & 0xFF

    def _clock_fields(self):
        t = time.gmtime(self.now())
        b = self.state.ram[REG_B]
        hour = t.tm_hour
        pm = 0
        if not b & REG_B_24H:
            pm = HOUR_PM if hour >= 12 else 0
            hour = hour % 12 or 12
        enc = (lambda v: v) if b & REG_B_BINARY else (lambda v: (v // 10) << 4 | v % 10)
        return {SECONDS: enc(t.tm_sec), MINUTES: enc(t.tm_min), HOURS: enc(hour) | pm,
                WEEKDAY: enc((t.tm_wday + 1) % 7 + 1), DAY: enc(t.tm_mday), MONTH: enc(t.tm_mon),
                YEAR: enc(t.tm_year % 100), CENTURY: enc(t.tm_year // 100)}
