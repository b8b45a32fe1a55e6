"""pyvirt: a machine emulator and virtualizer written in Python."""

__version__ = "0.1.0"
