"""Flat binary images: ``-bios fw.bin`` and the raw case of ``-device loader``.

The bytes of the file go unchanged to one guest physical address, as QEMU's
load_image_targphys() does.
"""

from ..errors import PyvirtError
from .image import LoadedImage, place, read_file


def load_raw(path: str, address_space, addr: int, max_size: int | None = None,
             *, what: str = "image") -> LoadedImage:
    """Copy the file to ``addr``; the entry is ``addr``."""
    return load_raw_data(read_file(path, what), path, address_space, addr, max_size,
                         what=what)


def load_raw_data(data: bytes, path: str, address_space, addr: int,
                  max_size: int | None = None, *, what: str = "image") -> LoadedImage:
    """Like load_raw() for a file already read (``path`` names it in errors)."""
    if not data:
        raise PyvirtError(f"could not load {what} '{path}': file is empty")
    if max_size is not None and len(data) > max_size:
        raise PyvirtError(f"{what} '{path}' is too large: {len(data)} bytes, "
                          f"at most {max_size} fit at {addr:#x}")
    place(address_space, addr, data, f"{what} '{path}'")
    return LoadedImage(entry=addr, low=addr, high=addr + len(data))
