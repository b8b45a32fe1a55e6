"""Goldfish RTC: latched 64-bit time, setting the time, alarm interrupts."""

import time

import pytest

from pyvirt.core.clock import VirtualClock
from pyvirt.core.irq import IRQLine
from pyvirt.hw.rtc import goldfish_rtc as g
from pyvirt.hw.rtc.goldfish_rtc import GoldfishRTC


class HostTime:
    """A settable wall clock, so the test controls what the host says."""

    def __init__(self, ns):
        self.ns = ns

    def __call__(self):
        return self.ns


@pytest.fixture
def rtc():
    host = HostTime(1_700_000_000 * 10**9)
    irq = IRQLine()
    clock = VirtualClock()
    return GoldfishRTC(clock, irq, host), host, irq, clock


def read_time(dev):
    low = dev.read(g.TIME_LOW, 4)
    return dev.read(g.TIME_HIGH, 4) << 32 | low


def test_time_follows_host_and_high_word_is_latched(rtc):
    dev, host, _, _ = rtc
    assert read_time(dev) == host.ns
    low = dev.read(g.TIME_LOW, 4)
    host.ns += 1 << 40                     # time moves between the two reads
    assert dev.read(g.TIME_HIGH, 4) << 32 | low == host.ns - (1 << 40)


def test_default_host_clock_is_wall_time():
    dev = GoldfishRTC(VirtualClock(), IRQLine())
    assert abs(read_time(dev) - time.time_ns()) < 10**9


def test_guest_sets_the_time(rtc):
    dev, host, _, _ = rtc
    target = 946_684_800 * 10**9           # 2000-01-01
    dev.write(g.TIME_HIGH, 4, target >> 32)
    dev.write(g.TIME_LOW, 4, target & 0xFFFFFFFF)
    assert read_time(dev) == target
    host.ns += 5
    assert read_time(dev) == target + 5
    dev.reset()                            # the offset survives a reset
    assert read_time(dev) == target + 5


def test_alarm_in_the_past_fires_at_once(rtc):
    dev, host, irq, _ = rtc
    dev.write(g.IRQ_ENABLED, 4, 1)
    dev.write(g.ALARM_HIGH, 4, (host.ns - 1) >> 32)
    dev.write(g.ALARM_LOW, 4, (host.ns - 1) & 0xFFFFFFFF)
    assert irq.level == 1 and dev.read(g.ALARM_STATUS, 4) == 0
    dev.write(g.CLEAR_INTERRUPT, 4, 1)
    assert irq.level == 0


def test_alarm_fires_on_the_virtual_clock(rtc):
    dev, host, irq, clock = rtc
    when = host.ns + 2_000_000             # 2 ms ahead
    dev.write(g.ALARM_HIGH, 4, when >> 32)
    dev.write(g.ALARM_LOW, 4, when & 0xFFFFFFFF)
    assert dev.read(g.ALARM_STATUS, 4) == 1
    assert dev.read(g.ALARM_LOW, 4) == when & 0xFFFFFFFF
    while clock.next_deadline() is not None:
        time.sleep(max(0, clock.next_deadline() - clock.now_ns()) / 1e9)
        clock.run_expired()
    assert dev.read(g.ALARM_STATUS, 4) == 0
    assert irq.level == 0                  # pending but not enabled
    dev.write(g.IRQ_ENABLED, 4, 1)
    assert irq.level == 1


def test_clear_alarm_cancels(rtc):
    dev, host, irq, clock = rtc
    dev.write(g.IRQ_ENABLED, 4, 1)
    dev.write(g.ALARM_HIGH, 4, (host.ns + 10**9) >> 32)
    dev.write(g.ALARM_LOW, 4, (host.ns + 10**9) & 0xFFFFFFFF)
    dev.write(g.CLEAR_ALARM, 4, 1)
    assert dev.read(g.ALARM_STATUS, 4) == 0
    assert clock.next_deadline() is None and irq.level == 0
