"""The Goldfish RTC, as QEMU's hw/rtc/goldfish_rtc.c (the virt board's RTC).

Time is nanoseconds since the Unix epoch: the host's wall clock plus an
offset that guest writes adjust.  Reading TIME_LOW latches the high word
so that a 32-bit driver reads a consistent 64-bit value.  One alarm: when
the time reaches it, the alarm interrupt becomes pending, and the IRQ
line is high while it is both pending and enabled.
"""

import dataclasses
import time

from pyvirt.core.device import Device
from pyvirt.hw import guest_error

TIME_LOW = 0x00
TIME_HIGH = 0x04
ALARM_LOW = 0x08
ALARM_HIGH = 0x0C
IRQ_ENABLED = 0x10
CLEAR_ALARM = 0x14
ALARM_STATUS = 0x18
CLEAR_INTERRUPT = 0x1C

LOW32 = 0xFFFFFFFF


@dataclasses.dataclass
class GoldfishRTCState:
    #: RTC time minus host wall-clock time, in ns.
    tick_offset: int = 0
    alarm_next: int = 0
    alarm_running: int = 0
    irq_pending: int = 0
    irq_enabled: int = 0
    #: TIME_HIGH as latched by the last TIME_LOW read.
    time_high: int = 0


class GoldfishRTC(Device):
    name = "goldfish_rtc"
    size = 0x1000

    def __init__(self, clock, irq, host_time_ns=time.time_ns):
        self.clock = clock
        self.irq = irq
        self.host_time_ns = host_time_ns
        self._alarm = clock.timer(self._alarm_fired)
        self.state = GoldfishRTCState()

    def now_ns(self) -> int:
        """The RTC's current time, ns since the epoch."""
        return self.host_time_ns() + self.state.tick_offset

    def read(self, offset: int, size: int) -> int:
        s = self.state
        if offset == TIME_LOW:
            now = self.now_ns()
            s.time_high = now >> 32
            return now & LOW32
        if offset == TIME_HIGH:
            return s.time_high
        if offset == ALARM_LOW:
            return s.alarm_next & LOW32
        if offset == ALARM_HIGH:
            return s.alarm_next >> 32
        if offset == IRQ_ENABLED:
            return s.irq_enabled
        if offset == ALARM_STATUS:
            return s.alarm_running
        guest_error(self.name, "read at %#x", offset)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        s = self.state
        value &= LOW32
        if offset in (TIME_LOW, TIME_HIGH):
            now = self.now_ns()
            shift = 0 if offset == TIME_LOW else 32
            new = (now & ~(LOW32 << shift)) | (value << shift)
            s.tick_offset += new - now
        elif offset == ALARM_LOW:
            # Writing the low word arms the alarm (the high word goes first).
            s.alarm_next = (s.alarm_next & ~LOW32) | value
            self._set_alarm()
        elif offset == ALARM_HIGH:
            s.alarm_next = (s.alarm_next & LOW32) | (value << 32)
        elif offset == IRQ_ENABLED:
            s.irq_enabled = value & 1
            self._update_irq()
        elif offset == CLEAR_ALARM:
            self._clear_alarm()
        elif offset == CLEAR_INTERRUPT:
            s.irq_pending = 0
            self._update_irq()
        else:
            guest_error(self.name, "write at %#x", offset)

    def _set_alarm(self) -> None:
        wait = self.state.alarm_next - self.now_ns()
        if wait <= 0:
            self._clear_alarm()
            self._alarm_fired()
        else:
            self.state.alarm_running = 1
            self._alarm.arm(self.clock.now_ns() + wait)

    def _clear_alarm(self) -> None:
        self._alarm.cancel()
        self.state.alarm_running = 0

    def _alarm_fired(self) -> None:
        self.state.alarm_running = 0
        self.state.irq_pending = 1
        self._update_irq()

    def _update_irq(self) -> None:
        self.irq.set(self.state.irq_pending and self.state.irq_enabled)

    def reset(self) -> None:
        # The wall-clock offset survives a reset, as a battery-backed RTC's would.
        offset = self.state.tick_offset
        self._alarm.cancel()
        super().reset()
        self.state.tick_offset = offset
        self._update_irq()

    def set_state(self, data: dict) -> None:
        super().set_state(data)
        self._alarm.cancel()
        if self.state.alarm_running:
            self._set_alarm()
        self._update_irq()
