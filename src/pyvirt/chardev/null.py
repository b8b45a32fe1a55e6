"""The null backend: output vanishes, no input ever arrives."""

from pyvirt.chardev.base import Chardev


class NullChardev(Chardev):
    def write(self, data: bytes) -> None:
        pass
