"""ACLINT: software interrupts, mtime and mtimecmp timers on a real VirtualClock."""

import time

import pytest

from pyvirt.core.clock import VirtualClock
from pyvirt.core.irq import IRQLine
from pyvirt.hw.intc import aclint as a
from pyvirt.hw.intc.aclint import ACLINT

NEVER = (1 << 64) - 1


@pytest.fixture
def clint():
    clock = VirtualClock()
    msip = [IRQLine(), IRQLine()]
    mtip = [IRQLine(), IRQLine()]
    return ACLINT(clock, msip, mtip), clock, msip, mtip


def test_msip_raises_and_lowers_ipi(clint):
    dev, _, msip, _ = clint
    dev.write(a.MSIP_BASE + 4, 4, 0xFFFFFFFF)
    assert (msip[0].level, msip[1].level) == (0, 1)
    assert dev.read(a.MSIP_BASE + 4, 4) == 1
    dev.write(a.MSIP_BASE + 4, 4, 0)
    assert msip[1].level == 0


def test_mtime_counts_at_10mhz_from_reset(clint):
    dev, clock, _, _ = clint
    t0 = dev.mtime()
    time.sleep(0.02)
    elapsed = dev.mtime() - t0
    assert 0.02 * a.TIMEBASE_FREQ <= elapsed < 1.0 * a.TIMEBASE_FREQ
    clock.stop()
    frozen = dev.read(a.MTIME, 8)
    assert dev.read(a.MTIME, 8) == frozen == dev.mtime()
    assert dev.read(a.MTIME, 4) | dev.read(a.MTIME + 4, 4) << 32 == frozen


def test_mtime_write_64_and_32_bit(clint):
    dev, clock, _, _ = clint
    clock.stop()
    dev.write(a.MTIME, 8, 0x1_0000_0000)
    assert dev.mtime() == 0x1_0000_0000
    dev.write(a.MTIME + 4, 4, 7)
    dev.write(a.MTIME, 4, 5)
    assert dev.read(a.MTIME, 8) == 0x7_0000_0005


def test_mtimecmp_in_the_past_asserts_mtip_at_once(clint):
    dev, clock, _, mtip = clint
    clock.stop()
    assert mtip[0].level == 1            # mtimecmp resets to 0 <= mtime
    dev.write(a.MTIMECMP_BASE, 8, NEVER)
    assert mtip[0].level == 0
    assert dev.read(a.MTIMECMP_BASE + 4, 4) == 0xFFFFFFFF
    # The 32-bit idiom: high word to all-ones first, then low, then high.
    dev.write(a.MTIMECMP_BASE + 8 + 4, 4, 0xFFFFFFFF)
    dev.write(a.MTIMECMP_BASE + 8, 4, dev.mtime() & 0xFFFFFFFF)
    dev.write(a.MTIMECMP_BASE + 8 + 4, 4, dev.mtime() >> 32)
    assert mtip[1].level == 1


def test_timer_fires_on_the_virtual_clock(clint):
    dev, clock, _, mtip = clint
    dev.write(a.MTIMECMP_BASE + 8, 8, NEVER)
    deadline = dev.mtime() + 20_000      # 2 ms
    dev.write(a.MTIMECMP_BASE + 8, 8, deadline)
    assert mtip[1].level == 0
    while clock.next_deadline() is not None:
        time.sleep(max(0, clock.next_deadline() - clock.now_ns()) / 1e9)
        clock.run_expired()
    assert mtip[1].level == 1
    assert dev.mtime() >= deadline
    # Moving mtimecmp ahead again lowers MTIP (how a kernel acks its tick).
    dev.write(a.MTIMECMP_BASE + 8, 8, NEVER)
    assert mtip[1].level == 0


def test_writing_mtime_backwards_rearms_timers(clint):
    dev, clock, _, mtip = clint
    clock.stop()
    dev.write(a.MTIME, 8, 1000)
    dev.write(a.MTIMECMP_BASE, 8, 900)
    assert mtip[0].level == 1
    dev.write(a.MTIME, 8, 0)
    assert mtip[0].level == 0
    assert clock.next_deadline() is not None


def test_bad_accesses_are_ignored(clint):
    dev, _, msip, _ = clint
    dev.write(a.MSIP_BASE + 8, 4, 1)     # hart 2 does not exist
    assert dev.read(a.MSIP_BASE + 8, 4) == 0
    dev.write(a.MSIP_BASE, 1, 1)         # msip is 32-bit only
    assert msip[0].level == 0
    assert dev.read(a.MTIMECMP_BASE + 2, 4) == 0


def test_state_roundtrip(clint):
    dev, clock, msip, mtip = clint
    clock.stop()
    dev.write(a.MSIP_BASE, 4, 1)
    dev.write(a.MTIMECMP_BASE, 8, NEVER)
    saved = dev.get_state()
    dev.reset()
    assert (msip[0].level, mtip[0].level) == (0, 1)
    dev.set_state(saved)
    assert (msip[0].level, mtip[0].level) == (1, 0)


def test_needs_matching_lines():
    with pytest.raises(ValueError):
        ACLINT(VirtualClock(), [IRQLine()], [])
