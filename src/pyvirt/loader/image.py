"""What a loader reports, and the one way loaders write into the guest.

Every loader places bytes through ``place()``, which first checks that the
whole target range is RAM or ROM: a firmware segment aimed at a hole or at a
device's registers is a user mistake (wrong file for this board, too little
``-m``) and must be reported as such, not scattered into MMIO.
"""

from dataclasses import dataclass

from ..errors import PyvirtError


@dataclass(frozen=True)
class LoadedImage:
    """Where an image landed in guest physical memory."""

    entry: int      # address to start executing at
    low: int        # lowest address written
    high: int       # one past the highest address written (bss included)

    @property
    def size(self) -> int:
        return self.high - self.low


def read_file(path: str, what: str) -> bytes:
    """The whole file, or a PyvirtError naming ``what`` it was meant to be."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise PyvirtError(f"could not load {what} '{path}': {err.strerror}") from None


def place(address_space, addr: int, data: bytes, what: str) -> None:
    """Write ``data`` at guest physical ``addr``, which must be RAM or ROM."""
    end = addr + len(data)
    cursor = addr
    while cursor < end:
        flat = address_space.lookup(cursor)
        if flat is None or not flat.is_ram:
            raise PyvirtError(
                f"{what} does not fit in guest memory: {addr:#x}-{end - 1:#x} "
                f"reaches {cursor:#x}, which is not RAM or ROM")
        cursor = flat.end
    address_space.write_bytes(addr, data, rom_ok=True)
