"""The i8042 keyboard controller, as much of it as a VM without a keyboard needs.

A PC resets itself through it (command 0xFE pulses the CPU reset line:
Linux's ``reboot=k``, the default) and firmware and Linux probe it
through the command/status port 0x64 and data port 0x60.  No keyboard
or mouse is attached: port commands that would talk to one are answered
as a controller with an empty port would.
"""

import dataclasses

from pyvirt.core.device import Device
from pyvirt.hw import guest_error

DATA, COMMAND = 0, 4          # offsets from port 0x60
STATUS = COMMAND

STAT_OBF = 0x01               # output buffer full
STAT_SELFTEST = 0x04          # system flag: self test passed
STAT_CMD = 0x08               # last write was a command
STAT_UNLOCKED = 0x10

CMD_READ_MODE = 0x20
CMD_WRITE_MODE = 0x60
CMD_DISABLE_AUX = 0xA7
CMD_ENABLE_AUX = 0xA8
CMD_TEST_AUX = 0xA9
CMD_SELF_TEST = 0xAA
CMD_KBD_TEST = 0xAB
CMD_DISABLE_KBD = 0xAD
CMD_ENABLE_KBD = 0xAE
CMD_READ_OUTPORT = 0xD0
CMD_WRITE_OUTPORT = 0xD1
CMD_RESET = 0xFE

SELF_TEST_OK = 0x55
PORT_TEST_OK = 0x00
OUTPORT_RESET = 0x01          # output port bit 0: CPU reset line (active low)
OUTPORT_A20 = 0x02
MODE_RESET = 0x00


@dataclasses.dataclass
class I8042State:
    status: int = STAT_CMD | STAT_UNLOCKED
    mode: int = MODE_RESET
    outport: int = OUTPORT_RESET | OUTPORT_A20
    #: Bytes waiting to be read from the data port.
    output: list = dataclasses.field(default_factory=list)
    #: The command whose parameter the next data byte is (0: none).
    pending: int = 0


class I8042(Device):
    name = "i8042"
    size = 5

    def __init__(self, reset):
        #: Called with no arguments when the guest pulses the reset line.
        self.reset_cpu = reset
        self.state = I8042State()

    def read(self, offset: int, size: int) -> int:
        s = self.state
        if offset == STATUS:
            return s.status | (STAT_OBF if s.output else 0)
        if offset == DATA:
            return s.output.pop(0) if s.output else 0
        return 0xFF

    def write(self, offset: int, size: int, value: int) -> None:
        s = self.state
        value &= 0xFF
        if offset == COMMAND:
            s.status |= STAT_CMD
            self._command(value)
        elif offset == DATA:
            s.status &= ~STAT_CMD
            pending, s.pending = s.pending, 0
            if pending == CMD_WRITE_MODE:
                s.mode = value
            elif pending == CMD_WRITE_OUTPORT:
                s.outport = value
                if not value & OUTPORT_RESET:
                    self.reset_cpu()
            # a byte for the (absent) keyboard is dropped

    def _command(self, cmd):
        s = self.state
        replies = {CMD_READ_MODE: lambda: s.mode, CMD_SELF_TEST: lambda: SELF_TEST_OK,
                   CMD_KBD_TEST: lambda: PORT_TEST_OK, CMD_TEST_AUX: lambda: PORT_TEST_OK,
                   CMD_READ_OUTPORT: lambda: s.outport}
        if cmd in replies:
            if cmd == CMD_SELF_TEST:
                s.status |= STAT_SELFTEST
            s.output.append(replies[cmd]())
        elif cmd in (CMD_WRITE_MODE, CMD_WRITE_OUTPORT):
            s.pending = cmd
        elif cmd == CMD_RESET:
            self.reset_cpu()
        elif cmd not in (CMD_DISABLE_AUX, CMD_ENABLE_AUX, CMD_DISABLE_KBD, CMD_ENABLE_KBD):
            guest_error(self.name, "unsupported command %#x", cmd)
