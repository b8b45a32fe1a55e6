"""IRQ lines: a wire from a device to an interrupt controller input.

A device is handed an ``IRQLine`` and calls ``set(level)``; it never knows
what is at the other end.  The board connects the line to a controller
input (a callable taking the level), e.g. ``plic.irq_input(10)``.
"""


class IRQLine:
    __slots__ = ("_handler", "level")

    def __init__(self, handler=None):
        self._handler = handler
        self.level = 0

    def connect(self, handler) -> None:
        self._handler = handler
        if self.level and handler is not None:
            handler(self.level)

    def set(self, level: int) -> None:
        level = 1 if level else 0
        if level == self.level:
            return
        self.level = level
        if self._handler is not None:
            self._handler(level)

    def raise_(self) -> None:
        self.set(1)

    def lower(self) -> None:
        self.set(0)

    def pulse(self) -> None:
        self.set(1)
        self.set(0)
