"""QEMU's firmware configuration device (fw_cfg), I/O port flavour.

Firmware reads named blobs from the VMM: items by 16-bit key (signature,
RAM size, CPU count, the -kernel/-initrd/-append pieces) and files listed
in a directory item ("etc/e820", "genroms/linuxboot_dma.bin").  Two ways
to read, as QEMU's docs/specs/fw_cfg.rst describes: write a key to the
selector (port 0x510) and read the data port (0x511) byte by byte, or
hand the device a DMA descriptor (address written big-endian to 0x514,
high half, then 0x518, low half, which starts it) for it to copy the item
into guest memory itself.  Guest writes to items are not supported (QEMU
allows them only for a few files), and are reported as DMA errors.
"""

import dataclasses
import struct

from pyvirt.core.device import Device
from pyvirt.hw import guest_error

SELECTOR, DATA, DMA_HIGH, DMA_LOW = 0, 1, 4, 8
PORT_SIZE = 12

# item keys
SIGNATURE, ID, RAM_SIZE, NB_CPUS, MAX_CPUS = 0x00, 0x01, 0x03, 0x05, 0x0F
KERNEL_ADDR, KERNEL_SIZE, KERNEL_DATA = 0x07, 0x08, 0x11
INITRD_ADDR, INITRD_SIZE, INITRD_DATA = 0x0A, 0x0B, 0x12
CMDLINE_ADDR, CMDLINE_SIZE, CMDLINE_DATA = 0x13, 0x14, 0x15
SETUP_ADDR, SETUP_SIZE, SETUP_DATA = 0x16, 0x17, 0x18
FILE_DIR, FILE_FIRST = 0x19, 0x20
#: Bit 14 selects for writing, not a different item; bit 15 (arch-local:
#: QEMU's legacy ACPI/SMBIOS/e820 items, none here) keeps its own namespace.
KEY_MASK = 0xBFFF

ID_TRADITIONAL, ID_DMA = 1 << 0, 1 << 1
SIGNATURE_BYTES = b"QEMU"
DMA_SIGNATURE = b"QEMU CFG"

# DMA descriptor: be32 control, be32 length, be64 address
DMA_DESCRIPTOR = struct.Struct(">IIQ")
DMA_ERROR, DMA_READ, DMA_SKIP, DMA_SELECT, DMA_WRITE = 0x01, 0x02, 0x04, 0x08, 0x10
FILE_NAME_SIZE = 56


@dataclasses.dataclass
class FwCfgState:
    key: int = 0
    offset: int = 0
    dma_high: int = 0


class FwCfg(Device):
    name = "fw_cfg"
    size = PORT_SIZE

    def __init__(self, dma_memory):
        #: The AddressSpace DMA descriptors and their buffers live in.
        self.memory = dma_memory
        self.state = FwCfgState()
        self.items = {SIGNATURE: SIGNATURE_BYTES,
                      ID: struct.pack("<I", ID_TRADITIONAL | ID_DMA)}
        self.files = []           # (name, key)
        self._update_dir()

    # -- what the board puts in ------------------------------------------------
    def add_item(self, key, data):
        self.items[key] = bytes(data)

    def add_u16(self, key, value):
        self.add_item(key, struct.pack("<H", value))

    def add_u32(self, key, value):
        self.add_item(key, struct.pack("<I", value))

    def add_u64(self, key, value):
        self.add_item(key, struct.pack("<Q", value))

    def add_file(self, name, data):
        key = FILE_FIRST + len(self.files)
        self.files.append((name, key))
        self.items[key] = bytes(data)
        self._update_dir()

    def _update_dir(self):
        entries = b"".join(struct.pack(">IHH", len(self.items[key]), key, 0)
                           + name.encode().ljust(FILE_NAME_SIZE, b"\0")
                           for name, key in sorted(self.files))
        self.items[FILE_DIR] = struct.pack(">I", len(self.files)) + entries

    # -- registers -----------------------------------------------------------------
    def reset(self):
        self.state = FwCfgState()

    def read(self, offset, size):
        if offset == DATA:
            return int.from_bytes(self._take(size), "little")
        if DMA_HIGH <= offset < PORT_SIZE:
            # the registers are big-endian: a guest reading them as such sees "QEMU CFG"
            chunk = DMA_SIGNATURE[offset - DMA_HIGH:offset - DMA_HIGH + size]
            return int.from_bytes(chunk, "little")
        return 0

    def write(self, offset, size, value):
        s = self.state
        if offset == SELECTOR:
            self._select(value)
        elif offset == DMA_HIGH and size == 4:
            s.dma_high = int.from_bytes(value.to_bytes(4, "little"), "big")
        elif offset == DMA_LOW and size == 4:
            low = int.from_bytes(value.to_bytes(4, "little"), "big")
            self._dma(s.dma_high << 32 | low)
            s.dma_high = 0
        else:
            guest_error(self.name, "write of %#x (%d bytes) at offset %d", value, size, offset)

    def _select(self, key):
        self.state.key = key & KEY_MASK
        self.state.offset = 0

    def _take(self, n):
        """The next ``n`` bytes of the selected item (zeros past its end)."""
        s = self.state
        data = self.items.get(s.key, b"")[s.offset:s.offset + n]
        s.offset += n
        return data.ljust(n, b"\0")

    def _dma(self, addr):
        control, length, target = DMA_DESCRIPTOR.unpack(self.memory.read_bytes(addr, DMA_DESCRIPTOR.size))
        if control & DMA_SELECT:
            self._select(control >> 16)
        status = 0
        if control & DMA_WRITE:
            guest_error(self.name, "DMA write to item %#x", self.state.key)
            status = DMA_ERROR
        elif control & DMA_READ:
            self.memory.write_bytes(target, self._take(length))
        elif control & DMA_SKIP:
            self.state.offset += length
        self.memory.write_bytes(addr, struct.pack(">I", status))
