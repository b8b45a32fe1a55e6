"""The file backend: guest output is written to a host file."""

import os

from pyvirt.chardev.base import Chardev, write_all
from pyvirt.errors import PyvirtError


class FileChardev(Chardev):
    def __init__(self, path: str, append: bool = False):
        super().__init__()
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        try:
            self._fd = os.open(path, flags, 0o666)
        except OSError as e:
            raise PyvirtError(f"Could not open '{path}': {e.strerror}") from None

    def write(self, data: bytes) -> None:
        if self._fd is not None:
            write_all(self._fd, data)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
