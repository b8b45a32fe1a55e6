"""The NS16550A UART, as QEMU's hw/char/serial.c models it.

Eight byte-wide registers, spaced ``1 << regshift`` apart, with the
divisor latch behind LCR.DLAB, 16-byte FIFOs, loopback and the usual
interrupt sources in priority order: line status, received data (or
character timeout), transmitter empty.  No modem is attached: the modem
lines read as a ready peer (in loopback, as the UART's own MCR outputs,
which is how Linux's probe tests for a 16550), they never change, and so
the modem-status interrupt never fires.

Two simplifications follow from there being no baud-rate clock:
transmission completes the moment THR is written (the byte goes straight
to the chardev), and the receive "character timeout" is considered
already elapsed, so data below the FIFO trigger level is reported as a
timeout interrupt at once instead of four character times later.  Drivers
cannot tell the difference except by being faster.

The device has no bus assumptions: the RISC-V board maps it as MMIO and
the PC board as I/O ports.
"""

import dataclasses

from pyvirt.chardev.base import ChardevEvent
from pyvirt.core.device import Device

# Register indexes (offset >> regshift).
RBR = THR = DLL = 0
IER = DLM = 1
IIR = FCR = 2
LCR = 3
MCR = 4
LSR = 5
MSR = 6
SCR = 7

IER_RDI = 0x01      # received data available
IER_THRI = 0x02     # transmitter holding register empty
IER_RLSI = 0x04     # receiver line status
IER_MSI = 0x08      # modem status (never raised: no modem lines change)
IER_MASK = 0x0F

IIR_NO_INT = 0x01
IIR_THRI = 0x02
IIR_RDI = 0x04
IIR_RLSI = 0x06
IIR_CTI = 0x0C      # character timeout
IIR_ID = 0x0F
IIR_FIFO_ENABLED = 0xC0

FCR_FE = 0x01       # FIFO enable
FCR_RFR = 0x02      # clear receive FIFO
FCR_XFR = 0x04      # clear transmit FIFO
FCR_STORED = 0xC9   # FE, DMA mode select and the trigger level are kept
FCR_ITL_SHIFT = 6
RX_TRIGGER_LEVELS = (1, 4, 8, 14)

LCR_DLAB = 0x80

MCR_DTR = 0x01
MCR_RTS = 0x02
MCR_OUT1 = 0x04
MCR_OUT2 = 0x08
MCR_LOOP = 0x10
MCR_MASK = 0x1F

LSR_DR = 0x01       # data ready
LSR_OE = 0x02       # overrun
LSR_PE = 0x04
LSR_FE = 0x08
LSR_BI = 0x10       # break
LSR_THRE = 0x20     # THR empty
LSR_TEMT = 0x40     # transmitter empty
LSR_INT_ANY = LSR_OE | LSR_PE | LSR_FE | LSR_BI

MSR_CTS = 0x10
MSR_DSR = 0x20
MSR_RI = 0x40
MSR_DCD = 0x80
#: With no modem attached the lines read as a connected, ready peer.
MSR_IDLE_LINES = MSR_DCD | MSR_DSR | MSR_CTS

FIFO_SIZE = 16


@dataclasses.dataclass
class UARTState:
    ier: int = 0
    fcr: int = 0
    lcr: int = 0
    mcr: int = MCR_OUT2
    lsr: int = LSR_THRE | LSR_TEMT
    scr: int = 0
    divider: int = 0
    #: The THR-empty interrupt is latched until IIR reports it or THR is written.
    thr_ipending: int = 0
    #: Received bytes; in non-FIFO mode at most one (the RBR).
    rx_fifo: list = dataclasses.field(default_factory=list)


def _loopback_lines(mcr: int) -> int:
    """MSR line bits as loopback wires them: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD."""
    return ((MSR_CTS if mcr & MCR_RTS else 0) | (MSR_DSR if mcr & MCR_DTR else 0)
            | (MSR_RI if mcr & MCR_OUT1 else 0) | (MSR_DCD if mcr & MCR_OUT2 else 0))


class UART16550(Device):
    name = "uart16550"

    def __init__(self, chardev, irq, regshift: int = 0):
        self.chardev = chardev
        self.irq = irq
        self.regshift = regshift
        self.size = 8 << regshift
        self.state = UARTState()
        if chardev is not None:
            chardev.set_handlers(self.can_receive, self.receive, self._chardev_event)

    # -- register access ----------------------------------------------

    def read(self, offset: int, size: int) -> int:
        reg, misaligned = divmod(offset, 1 << self.regshift)
        if misaligned or reg > SCR:
            return 0
        s = self.state
        if reg == RBR:
            return s.divider & 0xFF if s.lcr & LCR_DLAB else self._read_rbr()
        if reg == IER:
            return s.divider >> 8 if s.lcr & LCR_DLAB else s.ier
        if reg == IIR:
            iir = self._interrupt_id()
            if iir == IIR_THRI:
                s.thr_ipending = 0
                self._update_irq()
            return iir | (IIR_FIFO_ENABLED if s.fcr & FCR_FE else 0)
        if reg == LCR:
            return s.lcr
        if reg == MCR:
            return s.mcr
        if reg == LSR:
            value = s.lsr
            if s.lsr & (LSR_BI | LSR_OE):
                s.lsr &= ~(LSR_BI | LSR_OE)
                self._update_irq()
            return value
        if reg == MSR:
            return _loopback_lines(s.mcr) if s.mcr & MCR_LOOP else MSR_IDLE_LINES
        return s.scr

    def write(self, offset: int, size: int, value: int) -> None:
        reg, misaligned = divmod(offset, 1 << self.regshift)
        if misaligned or reg > SCR:
            return
        value &= 0xFF
        s = self.state
        if reg == THR:
            if s.lcr & LCR_DLAB:
                s.divider = (s.divider & 0xFF00) | value
            else:
                self._transmit(value)
        elif reg == IER:
            if s.lcr & LCR_DLAB:
                s.divider = (s.divider & 0x00FF) | (value << 8)
            else:
                changed = (s.ier ^ value) & IER_THRI
                s.ier = value & IER_MASK
                if changed:
                    # Enabling THRI with THR empty interrupts at once.
                    s.thr_ipending = int(bool(s.ier & IER_THRI and s.lsr & LSR_THRE))
                self._update_irq()
        elif reg == FCR:
            self._write_fcr(value)
        elif reg == LCR:
            s.lcr = value
        elif reg == MCR:
            s.mcr = value & MCR_MASK
            if not s.mcr & MCR_LOOP and self.chardev is not None:
                self.chardev.accept_input()
        elif reg == SCR:
            s.scr = value
        # LSR and MSR are read-only.

    # -- transmit and receive -----------------------------------------

    def _transmit(self, byte: int) -> None:
        s = self.state
        if s.mcr & MCR_LOOP:
            self._receive_byte(byte)
        elif self.chardev is not None:
            self.chardev.write(bytes((byte,)))
        # The byte left at once, so THR is empty again.
        s.lsr |= LSR_THRE | LSR_TEMT
        s.thr_ipending = 1
        self._update_irq()

    def _read_rbr(self) -> int:
        s = self.state
        if not s.rx_fifo:
            return 0
        byte = s.rx_fifo.pop(0)
        if not s.rx_fifo:
            s.lsr &= ~(LSR_DR | LSR_BI)
        self._update_irq()
        if self.chardev is not None:
            self.chardev.accept_input()
        return byte

    def can_receive(self) -> int:
        """How many bytes the chardev may deliver now."""
        s = self.state
        if s.mcr & MCR_LOOP:
            return 0      # the external input is disconnected in loopback
        if s.fcr & FCR_FE:
            return FIFO_SIZE - len(s.rx_fifo)
        return 0 if s.rx_fifo else 1

    def receive(self, data: bytes) -> None:
        for byte in data:
            self._receive_byte(byte)
        self._update_irq()

    def _receive_byte(self, byte: int) -> None:
        s = self.state
        if s.fcr & FCR_FE:
            if len(s.rx_fifo) >= FIFO_SIZE:
                s.lsr |= LSR_OE
                return
            s.rx_fifo.append(byte)
        else:
            if s.rx_fifo:
                s.lsr |= LSR_OE
            s.rx_fifo[:] = [byte]
        s.lsr |= LSR_DR

    def _chardev_event(self, event) -> None:
        if event is ChardevEvent.BREAK:
            # A break arrives as a NUL character with LSR.BI set.
            self._receive_byte(0)
            self.state.lsr |= LSR_BI
            self._update_irq()

    # -- control registers --------------------------------------------

    def _write_fcr(self, value: int) -> None:
        s = self.state
        if (value ^ s.fcr) & FCR_FE:
            value |= FCR_RFR | FCR_XFR      # toggling the FIFOs flushes them
        if value & FCR_RFR:
            s.rx_fifo.clear()
            s.lsr &= ~(LSR_DR | LSR_BI)
        if value & FCR_XFR:
            s.lsr |= LSR_THRE | LSR_TEMT
            s.thr_ipending = 1
        s.fcr = value & FCR_STORED
        self._update_irq()
        if value & FCR_RFR and self.chardev is not None:
            self.chardev.accept_input()

    # -- interrupts ---------------------------------------------------

    def _interrupt_id(self) -> int:
        """The highest-priority pending, enabled interrupt (IIR bits 0-3)."""
        s = self.state
        if s.ier & IER_RLSI and s.lsr & LSR_INT_ANY:
            return IIR_RLSI
        if s.ier & IER_RDI and s.lsr & LSR_DR:
            trigger = RX_TRIGGER_LEVELS[s.fcr >> FCR_ITL_SHIFT]
            if s.fcr & FCR_FE and len(s.rx_fifo) < trigger:
                return IIR_CTI
            return IIR_RDI
        if s.ier & IER_THRI and s.thr_ipending:
            return IIR_THRI
        return IIR_NO_INT

    def _update_irq(self) -> None:
        self.irq.set(self._interrupt_id() != IIR_NO_INT)

    def reset(self) -> None:
        super().reset()
        self._update_irq()

    def set_state(self, data: dict) -> None:
        super().set_state(data)
        self._update_irq()
