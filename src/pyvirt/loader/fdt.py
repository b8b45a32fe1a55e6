"""Flattened device trees: building one for a board, checking and patching a user's.

``FdtBuilder`` is a thin layer over pylibfdt's sequential writer
(``libfdt.FdtSw``).  That API is low-level: the reserve map must be closed
by hand, the root node opened and closed explicitly, each property type has
its own call, string lists and cell arrays have to be packed into bytes by
the caller, and phandles are the caller's bookkeeping.  Boards describe
dozens of nodes, so they get nested ``with`` blocks, one call per property
kind, and phandles allocated up front (a node may be referenced before it
is written, as devices point at an interrupt controller written later).
"""

import struct
from contextlib import contextmanager

import libfdt

from ..errors import PyvirtError
from .image import read_file

FDT_ALIGN = 2 << 20


class FdtBuilder:
    """Writes a device tree top-down; the root node is open from the start."""

    def __init__(self):
        self._sw = libfdt.FdtSw()
        self._sw.finish_reservemap()
        self._sw.begin_node("")
        self._depth = 1
        self._last_phandle = 0

    def alloc_phandle(self) -> int:
        """A fresh phandle; give it to the node with ``phandle()``."""
        self._last_phandle += 1
        return self._last_phandle

    @contextmanager
    def node(self, name: str):
        """Write a child of the current node; properties go inside the block."""
        self._sw.begin_node(name)
        self._depth += 1
        yield
        self._sw.end_node()
        self._depth -= 1

    def cells(self, name: str, *values: int) -> None:
        """A property of 32-bit cells (``<1 2 3>``)."""
        self._sw.property(name, struct.pack(f">{len(values)}I", *values))

    def u64s(self, name: str, *values: int) -> None:
        """A property of 64-bit values, each as two cells (``reg`` with 2+2 cells)."""
        self._sw.property(name, struct.pack(f">{len(values)}Q", *values))

    def string(self, name: str, value: str) -> None:
        self._sw.property_string(name, value)

    def strings(self, name: str, *values: str) -> None:
        """A string list (``"a", "b"``), as ``compatible`` usually is."""
        self._sw.property(name, b"".join(v.encode() + b"\0" for v in values))

    def empty(self, name: str) -> None:
        """A property with no value (``interrupt-controller;``)."""
        self._sw.property(name, b"")

    def phandle(self, value: int) -> None:
        """Label the current node with a phandle from ``alloc_phandle()``."""
        self.cells("phandle", value)

    def finish(self) -> bytes:
        """Close the root node and return the packed device tree blob."""
        if self._depth != 1:
            raise RuntimeError("FdtBuilder.finish() inside an open node")
        self._sw.end_node()
        self._depth = 0
        fdt = self._sw.as_fdt()
        fdt.pack()
        return bytes(fdt.as_bytearray())


def fdt_load_addr(ram_base: int, ram_size: int, fdt_size: int) -> int:
    """Where the board puts the device tree, as QEMU's riscv_load_fdt.

    As high as possible so the kernel and initrd do not overwrite it, but
    below 3 GiB so 32-bit software can reach it, and 2 MiB aligned.  (That
    is Debian's QEMU 7.2, the tests' oracle; later QEMU drops the 3 GiB
    limit on RV64.)
    """
    top = min(ram_base + ram_size, 3 << 30) if ram_base < 3 << 30 else ram_base + ram_size
    addr = (top - fdt_size) & ~(FDT_ALIGN - 1)
    if addr < ram_base:
        raise PyvirtError(f"the device tree ({fdt_size} bytes) does not fit in RAM")
    return addr


def load_fdt_file(path: str) -> bytes:
    """Read a ``-dtb`` file and check that it is a well-formed device tree."""
    data = read_file(path, "device tree")
    err = libfdt.fdt_check_full(bytearray(data), len(data))
    if err:
        raise PyvirtError(f"could not load device tree '{path}': not a valid "
                          f"flattened device tree ({libfdt.fdt_strerror(err)})")
    return data


def set_chosen(fdt_blob: bytes, bootargs: str | None = None,
               initrd_start: int | None = None, initrd_end: int | None = None) -> bytes:
    """Write the kernel command line and initrd range into /chosen.

    What QEMU does to the board's (or the user's ``-dtb``) tree when it is
    given ``-append`` and ``-initrd``; /chosen is created if missing.
    """
    fdt = libfdt.Fdt(bytearray(fdt_blob))
    room = 1024 + (len(bootargs) if bootargs else 0)
    fdt.resize(fdt.totalsize() + room)
    try:
        chosen = fdt.path_offset("/chosen")
    except libfdt.FdtException as err:
        if err.err != -libfdt.FDT_ERR_NOTFOUND:
            raise
        chosen = fdt.add_subnode(0, "chosen")
    if bootargs:
        fdt.setprop_str(chosen, "bootargs", bootargs)
    if initrd_start is not None:
        fdt.setprop_u64(chosen, "linux,initrd-start", initrd_start)
        fdt.setprop_u64(chosen, "linux,initrd-end", initrd_end)
    fdt.pack()
    return bytes(fdt.as_bytearray())
