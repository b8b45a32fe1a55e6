"""The stdio backend: the terminal pyvirt was started from.

When stdin is a terminal it is put in raw mode, as QEMU does, so every
key reaches the guest; with ``signal=False`` (``mon:stdio``,
``-nographic``) Ctrl-C goes to the guest too instead of killing pyvirt.
The saved terminal modes come back on ``close()`` and, whatever way the
process ends, at interpreter exit.  When stdin is not a terminal (a pipe
in tests or scripts) the terminal modes are left alone.
"""

import atexit
import os
import termios

from pyvirt.chardev.base import FdChardev, write_all
from pyvirt.errors import PyvirtError

STDIN, STDOUT = 0, 1

# Index of each field in a termios attribute list.
IFLAG, OFLAG, CFLAG, LFLAG, CC = 0, 1, 2, 3, 6

_in_use = False


def _raw_mode(attrs: list, allow_signals: bool) -> list:
    """QEMU's stdio terminal mode: raw input, but output post-processing kept."""
    attrs = list(attrs)
    attrs[CC] = list(attrs[CC])
    attrs[IFLAG] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
                      | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
    attrs[OFLAG] |= termios.OPOST
    attrs[LFLAG] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN)
    if not allow_signals:
        attrs[LFLAG] &= ~termios.ISIG
    attrs[CFLAG] = (attrs[CFLAG] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
    attrs[CC][termios.VMIN] = 1
    attrs[CC][termios.VTIME] = 0
    return attrs


class StdioChardev(FdChardev):
    def __init__(self, mainloop, signal: bool = True):
        global _in_use
        if _in_use:
            raise PyvirtError("cannot use stdio by multiple character devices")
        _in_use = True
        self._saved_attrs = None
        if os.isatty(STDIN):
            self._saved_attrs = termios.tcgetattr(STDIN)
            atexit.register(self._restore_terminal)
            termios.tcsetattr(STDIN, termios.TCSANOW, _raw_mode(self._saved_attrs, signal))
        super().__init__(mainloop, STDIN)

    def write(self, data: bytes) -> None:
        write_all(STDOUT, data)

    def _restore_terminal(self) -> None:
        if self._saved_attrs is not None:
            termios.tcsetattr(STDIN, termios.TCSANOW, self._saved_attrs)
            self._saved_attrs = None

    def close(self) -> None:
        global _in_use
        super().close()
        self._restore_terminal()
        atexit.unregister(self._restore_terminal)
        _in_use = False
