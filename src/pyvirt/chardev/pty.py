"""The pty backend: a new pseudo-terminal for a terminal program to open.

The slave side's name is printed the way QEMU prints it.  pyvirt keeps
the slave open itself, so the master never sees a hang-up while no one is
connected; output that no one reads is dropped once the pty's buffer is
full rather than stalling the guest.
"""

import os
import sys
import tty

from pyvirt.chardev.base import FdChardev


class PtyChardev(FdChardev):
    def __init__(self, mainloop, label: str):
        master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(master, False)
        self._master = master
        self.path = os.ttyname(self._slave)
        print(f"char device redirected to {self.path} (label {label})", file=sys.stderr)
        super().__init__(mainloop, master)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._master, view):]
            except BlockingIOError:
                return

    def close(self) -> None:
        super().close()
        for fd in (self._master, self._slave):
            os.close(fd)
