"""``-bios``: machine-mode firmware such as OpenSBI, as QEMU's riscv_load_firmware.

An ELF (fw_jump.elf) is loaded where its program headers say; anything
else (fw_jump.bin) is a flat image at the board's firmware address.  The
returned ``high`` is what the board aligns up to find the kernel's place.
"""

from .elf import is_elf, load_elf_data
from .image import LoadedImage, read_file
from .raw import load_raw_data


def load_firmware(path: str, address_space, load_addr: int,
                  max_size: int | None = None, *, xlen: int = 64) -> LoadedImage:
    data = read_file(path, "firmware")
    if is_elf(data):
        return load_elf_data(data, path, address_space, expected_class=xlen,
                             what="firmware")
    return load_raw_data(data, path, address_space, load_addr, max_size,
                         what="firmware")
