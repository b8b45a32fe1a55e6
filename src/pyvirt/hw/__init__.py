"""Device models: the hardware a board plugs together.

Each model subclasses ``pyvirt.core.device.Device``, is given its IRQ
lines, clock and backends by the board, and knows nothing of buses or
CPUs.  A guest misprogramming a device is the guest's problem: models
report it through ``guest_error`` (shown under ``-d guest_errors``) and
carry on, as real hardware would.
"""

import logging

_guest_errors = logging.getLogger("pyvirt.guest_errors")


def guest_error(device: str, message: str, *args) -> None:
    """Report a guest access the hardware would ignore or reject."""
    _guest_errors.warning("%s: " + message, device, *args)
