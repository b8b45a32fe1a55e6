"""Character-device backends: where a serial port's or monitor's bytes go.

``chardev_from_spec`` and ``chardev_from_options`` build them from the
command line; front ends talk to them through the ``Chardev`` interface.
"""

from pyvirt.chardev.base import Chardev, ChardevEvent
from pyvirt.chardev.mux import MuxChardev
from pyvirt.chardev.spec import chardev_from_options, chardev_from_spec

__all__ = ["Chardev", "ChardevEvent", "MuxChardev", "chardev_from_options",
           "chardev_from_spec"]
