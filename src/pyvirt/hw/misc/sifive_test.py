"""SiFive's test finisher: how firmware on the virt board powers off or resets.

A 32-bit write to offset 0 carries a status in its low half and an exit
code in its high half.  OpenSBI and Linux's syscon-poweroff use it.
"""

from pyvirt.core.device import Device
from pyvirt.hw import guest_error

FINISHER_FAIL = 0x3333
FINISHER_PASS = 0x5555
FINISHER_RESET = 0x7777

#: The ``kind`` passed to the shutdown callback.
POWEROFF = "poweroff"
FAIL = "fail"
RESET = "reset"

_KIND_OF_STATUS = {FINISHER_PASS: POWEROFF, FINISHER_FAIL: FAIL, FINISHER_RESET: RESET}


class SiFiveTest(Device):
    """A write-only device with no state to save."""

    name = "sifive_test"
    size = 0x1000

    def __init__(self, shutdown):
        #: Called as ``shutdown(kind, code)`` with kind POWEROFF, FAIL or RESET.
        self.shutdown = shutdown

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        kind = _KIND_OF_STATUS.get(value & 0xFFFF) if offset == 0 else None
        if kind is None:
            guest_error(self.name, "write of %#x at %#x", value, offset)
            return
        self.shutdown(kind, (value >> 16) & 0xFFFF)
