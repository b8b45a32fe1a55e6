"""QEMU's isa-debug-exit: a port whose write ends the emulator.

The exit status is ``(value << 1) | 1``, so a test harness can tell a
guest-chosen status from QEMU's own 0 (never produced here) and 1.
"""

from pyvirt.core.device import Device

DEFAULT_IOBASE = 0x501
DEFAULT_IOSIZE = 2


class IsaDebugExit(Device):
    name = "isa-debug-exit"

    def __init__(self, exit, size=DEFAULT_IOSIZE):
        #: Called as exit(status).
        self.exit = exit
        self.size = size

    def read(self, offset: int, size: int) -> int:
        return 0xFFFFFFFF & ((1 << 8 * size) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        self.exit((value << 1) | 1)
