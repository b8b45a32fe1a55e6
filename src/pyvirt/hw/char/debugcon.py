"""QEMU's ISA debug console (isa-debugcon): one port, bytes out to a chardev.

Firmware (SeaBIOS, OVMF) writes its log to port 0x402 when built for
QEMU.  A read returns the readback value (0xe9 by default, Bochs' port),
by which firmware detects that the console is there.
"""

from pyvirt.core.device import Device

READBACK = 0xE9


class Debugcon(Device):
    name = "isa-debugcon"
    size = 1

    def __init__(self, chardev, readback=READBACK):
        self.chardev = chardev
        self.readback = readback

    def read(self, offset: int, size: int) -> int:
        return self.readback

    def write(self, offset: int, size: int, value: int) -> None:
        self.chardev.write(bytes([value & 0xFF]))
