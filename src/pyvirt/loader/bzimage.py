"""x86 Linux kernels: the bzImage container and the PVH entry of vmlinux.

A bzImage is a real-mode setup part followed by a compressed vmlinux
(boot protocol 2.08+: ``payload_offset``/``payload_length`` in the setup
header say where).  pyvirt boots x86 Linux through the PVH entry point
that vmlinux announces in an ELF note (XEN_ELFNOTE_PHYS32_ENTRY): the
payload is decompressed here with Python's lzma/zlib, the ELF's segments
are loaded at their physical addresses, and the vCPU starts in 32-bit
protected mode at that entry with ``%ebx`` pointing to an
``hvm_start_info`` (command line, initrd module, memory map).  This skips
the kernel's own decompressor, which matters where guest kernel code is
emulated (a few M instructions/s) rather than run natively.
"""

import io
import lzma
import struct
import zlib

from elftools.elf.elffile import ELFFile

from ..errors import PyvirtError
from .elf import is_elf, load_elf_data
from .image import read_file

SETUP_SECTS = 0x1F1
HEADER_MAGIC_OFFSET, HEADER_MAGIC = 0x202, b"HdrS"
VERSION = 0x206
PAYLOAD_OFFSET, PAYLOAD_LENGTH = 0x248, 0x24C
MIN_PAYLOAD_VERSION = 0x208

XEN_ELFNOTE_PHYS32_ENTRY = 18

#: struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h), version 1
HVM_START_MAGIC = 0x336EC578
HVM_START_INFO = struct.Struct("<IIIIQQQQII")
HVM_MODLIST_ENTRY = struct.Struct("<QQQQ")
HVM_MEMMAP_ENTRY = struct.Struct("<QQII")

_DECOMPRESSORS = {
    b"\xfd7zXZ\x00": ("xz", lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ)),
    b"\x1f\x8b": ("gzip", lambda: zlib.decompressobj(wbits=31)),
}


def vmlinux_of(data: bytes, path: str) -> bytes:
    """The vmlinux ELF: ``data`` itself, or the payload of a bzImage."""
    if is_elf(data):
        return data
    if data[HEADER_MAGIC_OFFSET:HEADER_MAGIC_OFFSET + 4] != HEADER_MAGIC:
        raise PyvirtError(f"could not load kernel '{path}': neither a bzImage nor an ELF vmlinux")
    version, = struct.unpack_from("<H", data, VERSION)
    if version < MIN_PAYLOAD_VERSION:
        raise PyvirtError(f"could not load kernel '{path}': boot protocol {version >> 8}."
                          f"{version & 0xFF} is older than 2.08 (no payload fields)")
    setup_size = ((data[SETUP_SECTS] or 4) + 1) * 512
    offset, length = struct.unpack_from("<II", data, PAYLOAD_OFFSET)
    payload = data[setup_size + offset:setup_size + offset + length]
    for magic, (name, decompressor) in _DECOMPRESSORS.items():
        if payload.startswith(magic):
            try:
                return decompressor().decompress(payload)
            except (lzma.LZMAError, zlib.error) as err:
                raise PyvirtError(f"could not load kernel '{path}': corrupt {name} payload "
                                  f"({err})") from None
    raise PyvirtError(f"could not load kernel '{path}': payload compression "
                      f"{payload[:6].hex()} not supported (xz and gzip are)")


def pvh_entry(vmlinux: bytes, path: str) -> int:
    """The 32-bit PVH entry address from vmlinux's Xen ELF note."""
    elf = ELFFile(io.BytesIO(vmlinux))
    for segment in elf.iter_segments():
        if segment["p_type"] != "PT_NOTE":
            continue
        for note in segment.iter_notes():
            if note["n_name"] == "Xen" and note["n_type"] == XEN_ELFNOTE_PHYS32_ENTRY:
                desc = note["n_descdata"]
                return int.from_bytes(desc[:4], "little")
    raise PyvirtError(f"could not load kernel '{path}': no PVH entry note "
                      "(a kernel built without CONFIG_PVH)")


def load_pvh_kernel(path: str, address_space) -> int:
    """Load the kernel at ``path`` (bzImage or vmlinux); returns its PVH entry."""
    vmlinux = vmlinux_of(read_file(path, "kernel"), path)
    entry = pvh_entry(vmlinux, path)
    load_elf_data(vmlinux, path, address_space, expected_machine="EM_X86_64", what="kernel")
    return entry


def hvm_start_info(addr, cmdline_addr, memmap, module=None):
    """The hvm_start_info at ``addr`` followed by its module list and memory map.

    ``memmap``: (addr, size, e820 type) entries; ``module``: (paddr, size) of the initrd.
    """
    tail = addr + HVM_START_INFO.size
    blob = b""
    modlist = 0
    if module is not None:
        modlist = tail
        blob += HVM_MODLIST_ENTRY.pack(module[0], module[1], 0, 0)
    memmap_addr = tail + len(blob)
    blob += b"".join(HVM_MEMMAP_ENTRY.pack(a, s, t, 0) for a, s, t in memmap)
    head = HVM_START_INFO.pack(HVM_START_MAGIC, 1, 0, 1 if module else 0, modlist,
                               cmdline_addr, 0, memmap_addr, len(memmap), 0)
    return head + blob
