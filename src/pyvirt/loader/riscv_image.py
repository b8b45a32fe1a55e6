"""RISC-V kernels for ``-kernel``: the Linux ``Image`` header and placement.

The header is the one in Linux's Documentation/arch/riscv/boot-image-header.rst:
a 64-byte little-endian block at the start of a flat ``Image`` carrying
the load offset and the memory footprint (bss included).

``load_kernel`` follows QEMU's riscv_load_kernel(): an ELF goes where its
program headers say, and anything else is a flat image placed at the
kernel start address the board computed with ``kernel_start_addr``.
Two kinds of file are refused with a clear message: a gzip-compressed
kernel (QEMU's riscv boards would load the compressed bytes as they are and
the guest would crash; Debian ships an uncompressed Image), and a U-Boot
legacy uImage (QEMU supports those; nothing here needs them yet).
"""

import struct
from dataclasses import dataclass

from ..errors import PyvirtError
from .elf import is_elf, load_elf_data
from .image import LoadedImage, place, read_file

MiB = 1 << 20

HEADER = struct.Struct("<IIQQQIIQ8s4sI")
IMAGE_MAGIC = b"RISCV\0\0\0"     # deprecated since header version 0.2, still written
IMAGE_MAGIC2 = b"RSC\x05"
FLAG_BIG_ENDIAN = 1 << 0

GZIP_MAGIC = b"\x1f\x8b"
UIMAGE_MAGIC = b"\x27\x05\x19\x56"


@dataclass(frozen=True)
class ImageHeader:
    code0: int
    code1: int
    text_offset: int    # load offset from the start of RAM (2 MiB on RV64)
    image_size: int     # bytes the kernel occupies once running, bss included
    flags: int
    version: int        # major << 16 | minor

    @property
    def big_endian(self) -> bool:
        return bool(self.flags & FLAG_BIG_ENDIAN)


def parse_image_header(data: bytes) -> ImageHeader | None:
    """The Image header at the start of ``data``, or None if there is none."""
    if len(data) < HEADER.size:
        return None
    (code0, code1, text_offset, image_size, flags, version, _res1, _res2,
     magic, magic2, _res3) = HEADER.unpack_from(data)
    if magic2 != IMAGE_MAGIC2 and magic != IMAGE_MAGIC:
        return None
    return ImageHeader(code0, code1, text_offset, image_size, flags, version)


def kernel_start_addr(firmware_end: int, xlen: int = 64) -> int:
    """Where a flat kernel goes after the firmware (riscv_calc_kernel_start_addr).

    Linux wants its physical base aligned to the size of a huge page of its
    first-level mapping: 2 MiB on RV64, 4 MiB on RV32.
    """
    align = 2 * MiB if xlen == 64 else 4 * MiB
    return (firmware_end + align - 1) & ~(align - 1)


def load_kernel(path: str, address_space, ram_base: int, ram_size: int,
                kernel_start: int, *, xlen: int = 64) -> LoadedImage:
    """Load a kernel (ELF, flat Image or raw binary).

    For an ELF the entry is its lowest load address, as in QEMU: that lets a
    kernel keep an SBI entry point separate from its ELF e_entry (FreeBSD
    does).  A flat image is entered at its first byte.
    """
    data = read_file(path, "kernel")
    if is_elf(data):
        loaded = load_elf_data(data, path, address_space, expected_class=xlen,
                               what="kernel")
        return LoadedImage(entry=loaded.low, low=loaded.low, high=loaded.high)
    if data[:2] == GZIP_MAGIC:
        raise PyvirtError(f"could not load kernel '{path}': it is gzip-compressed; "
                          "unpack it first (gunzip)")
    if data[:4] == UIMAGE_MAGIC:
        raise PyvirtError(f"could not load kernel '{path}': U-Boot uImage kernels "
                          "are not supported; use the Image or ELF (vmlinux) instead")
    if not data:
        raise PyvirtError(f"could not load kernel '{path}': file is empty")

    footprint = len(data)
    header = parse_image_header(data)
    if header is not None:
        if header.big_endian:
            raise PyvirtError(f"could not load kernel '{path}': big-endian Image")
        footprint = max(footprint, header.image_size)
    ram_end = ram_base + ram_size
    if not ram_base <= kernel_start or kernel_start + footprint > ram_end:
        raise PyvirtError(
            f"kernel '{path}' does not fit in RAM: it needs {footprint:#x} bytes "
            f"at {kernel_start:#x}, RAM is {ram_base:#x}-{ram_end - 1:#x}")
    place(address_space, kernel_start, data, f"kernel '{path}'")
    return LoadedImage(entry=kernel_start, low=kernel_start, high=kernel_start + footprint)

