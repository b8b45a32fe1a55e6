"""The ``-d`` / ``-D`` log: items enabled by name, written to stderr or a file.

As QEMU's qemu_log: a set of item names (in_asm, int, exec, cpu,
guest_errors, unimp ...) that code asks about with ``enabled`` before
formatting anything, so disabled items cost one set lookup.  Device models
report guest errors through Python's ``logging`` (logger
``pyvirt.guest_errors``); that logger is routed here when the item is on.
"""

import logging
import sys
import threading

from ..errors import PyvirtError


class Log:
    def __init__(self, items=(), path=None):
        self.items = frozenset(items)
        self._lock = threading.Lock()
        if path:
            try:
                self._out = open(path, "w", buffering=1)
            except OSError as err:
                raise PyvirtError(f"-D {path}: {err.strerror}") from None
        else:
            self._out = sys.stderr
        guest = logging.getLogger("pyvirt.guest_errors")
        guest.propagate = False
        guest.handlers.clear()
        if "guest_errors" in self.items:
            handler = logging.StreamHandler(self._out)
            handler.setFormatter(logging.Formatter("%(message)s"))
            guest.addHandler(handler)
            guest.setLevel(logging.WARNING)
        else:
            guest.addHandler(logging.NullHandler())

    def enabled(self, item: str) -> bool:
        return item in self.items

    def write(self, line: str) -> None:
        with self._lock:
            self._out.write(line + "\n")

    def close(self) -> None:
        if self._out is not sys.stderr:
            self._out.close()
