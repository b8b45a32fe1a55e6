"""The initial ramdisk for ``-initrd``, placed as QEMU's riscv_load_initrd does.

It goes far enough above the kernel's start that an uncompressing or
relocating kernel will not clobber it, yet low enough to leave room for a
sizeable ramdisk on small machines: half of RAM above the kernel start, at
most 128 MiB.  That cap is the one of Debian's QEMU (7.2), which the tests
use as the oracle; upstream QEMU raised it to 512 MiB in 2024 for very
large kernels.  The board then publishes the range in /chosen as
linux,initrd-start / linux,initrd-end.
"""

from ..errors import PyvirtError
from .image import place, read_file

MiB = 1 << 20
MAX_GAP_ABOVE_KERNEL = 128 * MiB


def initrd_start_addr(ram_size: int, kernel_low: int) -> int:
    return kernel_low + min(ram_size // 2, MAX_GAP_ABOVE_KERNEL)


def load_initrd(path: str, address_space, ram_base: int, ram_size: int,
                kernel_low: int) -> tuple[int, int]:
    """Load the initrd; returns (start, end), end exclusive.

    ``kernel_low`` is the lowest address of the loaded kernel
    (``LoadedImage.low``), as QEMU counts from there.
    """
    data = read_file(path, "initrd")
    start = initrd_start_addr(ram_size, kernel_low)
    end = start + len(data)
    ram_end = ram_base + ram_size
    if end > ram_end:
        raise PyvirtError(
            f"initrd '{path}' does not fit in RAM: {len(data)} bytes at {start:#x} "
            f"would end at {end:#x}, past the end of RAM at {ram_end:#x} "
            f"(give the machine more memory with -m)")
    place(address_space, start, data, f"initrd '{path}'")
    return start, end
