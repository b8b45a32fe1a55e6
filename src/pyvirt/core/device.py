"""The device base: what every device model exposes.

A device knows nothing of boards, buses or accelerators. It answers
``read(offset, size)`` and ``write(offset, size, value)`` relative to its
own register window, raises the IRQ lines it was handed, schedules timers
on the clock it was handed, and keeps its state as plain data that
``get_state()``/``set_state()`` move in and out (for snapshots and
migration).  Placing it on an MMIO or PIO bus is the board's job.
"""

import copy
import dataclasses


class Device:
    """Base class for device models.

    Subclasses keep their guest-visible state in ``self.state``, a dataclass
    of plain values (ints, bytes, lists), so that saving and restoring is
    generic.
    """

    #: Name used in logs and in the device tree.
    name = "device"
    #: Size of the register window in bytes (the board maps this much).
    size = 0x1000

    state = None

    def read(self, offset: int, size: int) -> int:
        raise NotImplementedError

    def write(self, offset: int, size: int, value: int) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Return to power-on state."""
        if self.state is not None:
            self.state = type(self.state)()

    def get_state(self) -> dict:
        return dataclasses.asdict(self.state) if self.state is not None else {}

    def set_state(self, data: dict) -> None:
        if self.state is not None:
            self.state = type(self.state)(**copy.deepcopy(data))
