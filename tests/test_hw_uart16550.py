"""NS16550A register behaviour, driven the way Linux's 8250 driver drives it."""

import pytest

from pyvirt.chardev.base import Chardev, ChardevEvent
from pyvirt.core.irq import IRQLine
from pyvirt.hw.char import uart16550 as u
from pyvirt.hw.char.uart16550 import UART16550


class Loop(Chardev):
    """A chardev whose host side is this test: output collects in ``out``."""

    def __init__(self):
        super().__init__()
        self.out = bytearray()

    def write(self, data):
        self.out += data

    def type_in(self, data):
        self._push_input(data)


@pytest.fixture
def uart():
    chr_ = Loop()
    irq = IRQLine()
    dev = UART16550(chr_, irq)
    return dev, chr_, irq


def test_linux_8250_probe_sequence(uart):
    dev, _, _ = uart
    # Scratch register test.
    dev.write(u.SCR, 1, 0xA5)
    assert dev.read(u.SCR, 1) == 0xA5
    # IER: only the low four bits exist.
    dev.write(u.IER, 1, 0xFF)
    assert dev.read(u.IER, 1) == 0x0F
    dev.write(u.IER, 1, 0)
    # Loopback test: RTS|OUT2 must show up as CTS|DCD.
    dev.write(u.MCR, 1, u.MCR_LOOP | 0x0A)
    assert dev.read(u.MSR, 1) & 0xF0 == 0x90
    dev.write(u.MCR, 1, 0)
    # Enabling the FIFO makes IIR's top bits read 0b11: a 16550A.
    dev.write(u.FCR, 1, u.FCR_FE)
    assert dev.read(u.IIR, 1) >> 6 == 3
    # Divisor latch for 115200 baud from a 1.8432 MHz clock.
    dev.write(u.LCR, 1, u.LCR_DLAB | 0x03)
    dev.write(u.DLL, 1, 1)
    dev.write(u.DLM, 1, 0)
    assert (dev.read(u.DLL, 1), dev.read(u.DLM, 1)) == (1, 0)
    dev.write(u.LCR, 1, 0x03)
    assert dev.read(u.IER, 1) == 0    # DLM no longer shadows IER
    assert dev.read(u.LSR, 1) == u.LSR_THRE | u.LSR_TEMT


def test_transmit_goes_to_chardev_and_raises_thri(uart):
    dev, chr_, irq = uart
    dev.write(u.IER, 1, u.IER_THRI)
    assert irq.level == 1                       # THR already empty
    assert dev.read(u.IIR, 1) & u.IIR_ID == u.IIR_THRI
    assert irq.level == 0                       # reading IIR acknowledged it
    assert dev.read(u.IIR, 1) & u.IIR_ID == u.IIR_NO_INT
    for b in b"hi\n":
        dev.write(u.THR, 1, b)
    assert chr_.out == b"hi\n"
    assert irq.level == 1
    assert dev.read(u.LSR, 1) & u.LSR_TEMT


def test_receive_interrupt_priorities(uart):
    dev, chr_, irq = uart
    dev.write(u.IER, 1, u.IER_RDI | u.IER_THRI | u.IER_RLSI)
    chr_.type_in(b"ab")
    # Received data outranks the pending THR-empty interrupt.
    assert dev.read(u.IIR, 1) & u.IIR_ID == u.IIR_RDI
    assert dev.read(u.RBR, 1) == ord("a")
    # "b" waited in the chardev instead of overrunning the 1-byte RBR.
    assert dev.read(u.RBR, 1) == ord("b")
    # An overrun (here by looping back two bytes) outranks everything.
    dev.write(u.MCR, 1, u.MCR_LOOP)
    dev.write(u.THR, 1, ord("c"))
    dev.write(u.THR, 1, ord("d"))
    assert dev.read(u.IIR, 1) & u.IIR_ID == u.IIR_RLSI
    assert dev.read(u.LSR, 1) & (u.LSR_OE | u.LSR_DR) == u.LSR_OE | u.LSR_DR
    assert not dev.read(u.LSR, 1) & u.LSR_OE   # cleared by reading LSR
    assert dev.read(u.IIR, 1) & u.IIR_ID == u.IIR_RDI
    assert dev.read(u.RBR, 1) == ord("d")
    assert dev.read(u.IIR, 1) & u.IIR_ID == u.IIR_THRI
    assert dev.read(u.IIR, 1) & u.IIR_ID == u.IIR_NO_INT
    assert irq.level == 0


def test_fifo_trigger_level_and_timeout(uart):
    dev, chr_, irq = uart
    dev.write(u.FCR, 1, u.FCR_FE | u.FCR_RFR | u.FCR_XFR | (2 << u.FCR_ITL_SHIFT))
    dev.write(u.IER, 1, u.IER_RDI)
    chr_.type_in(b"abc")                        # below the 8-byte trigger
    assert dev.read(u.IIR, 1) == u.IIR_FIFO_ENABLED | u.IIR_CTI
    chr_.type_in(b"defgh")
    assert dev.read(u.IIR, 1) == u.IIR_FIFO_ENABLED | u.IIR_RDI
    got = bytearray()
    while dev.read(u.LSR, 1) & u.LSR_DR:
        got.append(dev.read(u.RBR, 1))
    assert got == b"abcdefgh"
    assert irq.level == 0


def test_flow_control_holds_pasted_input(uart):
    dev, chr_, _ = uart
    dev.write(u.FCR, 1, u.FCR_FE)
    text = bytes(range(65, 65 + 40))
    chr_.type_in(text)
    assert dev.can_receive() == 0
    got = bytearray()
    while dev.read(u.LSR, 1) & u.LSR_DR:
        got.append(dev.read(u.RBR, 1))
    assert got == text                          # nothing lost, no overrun
    assert not dev.read(u.LSR, 1) & u.LSR_OE


def test_loopback_echoes_and_disconnects_input(uart):
    dev, chr_, _ = uart
    dev.write(u.FCR, 1, u.FCR_FE)
    dev.write(u.MCR, 1, u.MCR_LOOP)
    dev.write(u.THR, 1, 0x42)
    assert chr_.out == b""
    chr_.type_in(b"x")                          # held back while in loopback
    assert dev.read(u.RBR, 1) == 0x42
    assert not dev.read(u.LSR, 1) & u.LSR_DR
    dev.write(u.MCR, 1, u.MCR_OUT2)
    assert dev.read(u.RBR, 1) == ord("x")


def test_modem_lines_follow_mcr_only_in_loopback(uart):
    dev, _, irq = uart
    dev.write(u.IER, 1, u.IER_MSI)
    assert dev.read(u.MSR, 1) == u.MSR_DCD | u.MSR_DSR | u.MSR_CTS
    dev.write(u.MCR, 1, u.MCR_LOOP | u.MCR_DTR | u.MCR_OUT1)
    assert dev.read(u.MSR, 1) == u.MSR_DSR | u.MSR_RI
    assert irq.level == 0                   # no modem-status interrupt, as QEMU


def test_break_event_sets_bi(uart):
    dev, chr_, irq = uart
    dev.write(u.IER, 1, u.IER_RLSI)
    chr_._send_event(ChardevEvent.BREAK)
    assert irq.level == 1
    assert dev.read(u.LSR, 1) & (u.LSR_BI | u.LSR_DR) == u.LSR_BI | u.LSR_DR
    assert dev.read(u.RBR, 1) == 0


def test_regshift_and_state_roundtrip():
    irq = IRQLine()
    dev = UART16550(None, irq, regshift=2)
    assert dev.size == 32
    dev.write(u.SCR << 2, 4, 0x1234)
    assert dev.read(u.SCR << 2, 4) == 0x34
    assert dev.read(u.SCR << 2 | 1, 1) == 0
    dev.write(u.IER << 2, 1, u.IER_THRI)
    saved = dev.get_state()
    dev.reset()
    assert irq.level == 0
    dev.set_state(saved)
    assert irq.level == 1 and dev.read(u.SCR << 2, 1) == 0x34
