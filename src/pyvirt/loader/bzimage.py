"""x86 Linux kernels: the bzImage boot protocol and the PVH entry of vmlinux.

Two ways in, as QEMU has them:

* a bzImage (Documentation/arch/x86/boot.rst, protocol 2.12+ with a 64-bit
  entry): the protected-mode part is loaded at ``pref_address``, the setup
  header is copied into a ``boot_params`` zero page with the e820 map,
  command line and initrd filled in, and the vCPU starts in long mode at
  load address + 0x200 with ``%rsi`` pointing to the zero page.  The
  kernel's own decompressor then runs in the guest.
* an uncompressed vmlinux ELF with a PVH note (XEN_ELFNOTE_PHYS32_ENTRY):
  its segments are loaded at their physical addresses and the vCPU starts
  in 32-bit protected mode at that entry with ``%ebx`` pointing to an
  ``hvm_start_info`` (command line, initrd module, memory map).
  ``vmlinux_of`` takes the vmlinux out of a bzImage (Python's lzma/zlib),
  for hosts where guest kernel code runs emulated and the in-guest
  decompressor would take an hour.
"""

import io
import lzma
import struct
import zlib

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from ..errors import PyvirtError
from .elf import is_elf, load_elf_data
from .image import place

SETUP_SECTS = 0x1F1
HEADER_MAGIC_OFFSET, HEADER_MAGIC = 0x202, b"HdrS"
VERSION = 0x206
PAYLOAD_OFFSET, PAYLOAD_LENGTH = 0x248, 0x24C
MIN_PAYLOAD_VERSION = 0x208

# setup header fields (offsets in the bzImage and in boot_params alike)
SETUP_HEADER = 0x1F1
HEADER_END_JUMP = 0x201          # setup header ends at 0x202 + this byte
TYPE_OF_LOADER, LOADFLAGS = 0x210, 0x211
RAMDISK_IMAGE, RAMDISK_SIZE = 0x218, 0x21C
HEAP_END_PTR = 0x224
CMD_LINE_PTR, INITRD_ADDR_MAX = 0x228, 0x22C
XLOADFLAGS, CMDLINE_SIZE = 0x236, 0x238
PREF_ADDRESS, INIT_SIZE = 0x258, 0x260
# boot_params fields
E820_ENTRIES, E820_TABLE, E820_MAX = 0x1E8, 0x2D0, 128
BOOT_PARAMS_SIZE = 0x1000

MIN_64BIT_VERSION = 0x20C        # 2.12: xloadflags
XLF_KERNEL_64 = 1 << 0
LOADER_UNDEFINED = 0xFF
LOADED_HIGH, CAN_USE_HEAP = 0x01, 0x80
HEAP_END = 0xFE00                # relative to the real-mode segment, as QEMU sets it
ENTRY_64 = 0x200

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


def _bzimage_version(data: bytes, path: str) -> int:
    if data[HEADER_MAGIC_OFFSET:HEADER_MAGIC_OFFSET + 4] != HEADER_MAGIC:
        raise PyvirtError(f"could not load kernel '{path}': neither a bzImage nor an ELF vmlinux")
    return struct.unpack_from("<H", data, VERSION)[0]


def _setup_size(data: bytes) -> int:
    return ((data[SETUP_SECTS] or 4) + 1) * 512


def vmlinux_of(data: bytes, path: str) -> bytes:
    """The vmlinux ELF: ``data`` itself, or the payload of a bzImage."""
    if is_elf(data):
        return data
    version = _bzimage_version(data, path)
    if version < MIN_PAYLOAD_VERSION:
        raise PyvirtError(f"could not load kernel '{path}': boot protocol {version >> 8}."
                          f"{version & 0xFF} is older than 2.08 (no payload fields)")
    setup_size = _setup_size(data)
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


def _check_bzimage(data, path, cmdline):
    version = _bzimage_version(data, path)
    if version < MIN_64BIT_VERSION or not \
            struct.unpack_from("<H", data, XLOADFLAGS)[0] & XLF_KERNEL_64:
        raise PyvirtError(f"could not load kernel '{path}': not a bzImage with a 64-bit entry "
                          f"(boot protocol {version >> 8}.{version & 0xFF})")
    cmdline_size, = struct.unpack_from("<I", data, CMDLINE_SIZE)
    if len(cmdline) - 1 > cmdline_size:
        raise PyvirtError(f"-append: the kernel takes at most {cmdline_size} bytes of command line")


def _patch_header(buf, data, cmdline_addr, initrd):
    """What a boot loader fills in of the setup header, in ``buf`` (a zero
    page, or the setup code itself when firmware loads the kernel)."""
    buf[TYPE_OF_LOADER] = LOADER_UNDEFINED
    buf[LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP
    struct.pack_into("<H", buf, HEAP_END_PTR, HEAP_END)
    struct.pack_into("<I", buf, CMD_LINE_PTR, cmdline_addr)
    if initrd is not None:
        initrd_max, = struct.unpack_from("<I", data, INITRD_ADDR_MAX)
        if initrd[0] + initrd[1] - 1 > initrd_max:
            raise PyvirtError(f"-initrd: the kernel wants its initrd below {initrd_max:#x}")
        struct.pack_into("<II", buf, RAMDISK_IMAGE, *initrd)


def load_bzimage(data: bytes, path: str, address_space, *, boot_params_addr: int,
                 cmdline_addr: int, cmdline: bytes, e820, initrd=None) -> int:
    """Load a bzImage's kernel and write its zero page; returns the 64-bit entry.

    ``cmdline`` is NUL-terminated; ``initrd``: (addr, size) already in RAM.
    """
    _check_bzimage(data, path, cmdline)
    load_addr, = struct.unpack_from("<Q", data, PREF_ADDRESS)
    place(address_space, load_addr, data[_setup_size(data):], "kernel")
    params = bytearray(BOOT_PARAMS_SIZE)
    header_end = 0x202 + data[HEADER_END_JUMP]
    params[SETUP_HEADER:header_end] = data[SETUP_HEADER:header_end]
    _patch_header(params, data, cmdline_addr, initrd)
    params[E820_ENTRIES] = len(e820)
    table = b"".join(struct.pack("<QQI", *entry) for entry in e820[:E820_MAX])
    params[E820_TABLE:E820_TABLE + len(table)] = table
    place(address_space, cmdline_addr, cmdline, "command line")
    place(address_space, boot_params_addr, bytes(params), "boot_params")
    return load_addr + ENTRY_64


#: Where QEMU's linuxboot option ROM puts the pieces (x86_load_linux, protocol >= 2.02).
FW_SETUP_ADDR, FW_CMDLINE_ADDR, FW_KERNEL_ADDR = 0x10000, 0x20000, 0x100000


def firmware_boot_pieces(data: bytes, path: str, cmdline: bytes, initrd=None):
    """The -kernel pieces firmware loads through fw_cfg, as QEMU hands them to its
    linuxboot option ROM: {name: (load address, bytes)} for "setup", "kernel",
    "cmdline" and, with ``initrd`` = (addr, bytes), "initrd"."""
    _check_bzimage(data, path, cmdline)
    setup = bytearray(data[:_setup_size(data)])
    module = None if initrd is None else (initrd[0], len(initrd[1]))
    _patch_header(setup, data, FW_CMDLINE_ADDR, module)
    pieces = {"setup": (FW_SETUP_ADDR, bytes(setup)),
              "kernel": (FW_KERNEL_ADDR, data[_setup_size(data):]),
              "cmdline": (FW_CMDLINE_ADDR, cmdline)}
    if initrd is not None:
        pieces["initrd"] = initrd
    return pieces


def pvh_entry(vmlinux: bytes, path: str) -> int:
    """The 32-bit PVH entry address from vmlinux's Xen ELF note."""
    try:
        elf = ELFFile(io.BytesIO(vmlinux))
        for segment in elf.iter_segments():
            if segment["p_type"] != "PT_NOTE":
                continue
            for note in segment.iter_notes():
                if note["n_name"] == "Xen" and note["n_type"] == XEN_ELFNOTE_PHYS32_ENTRY:
                    return int.from_bytes(note["n_descdata"][:4], "little")
    except ELFError as err:
        raise PyvirtError(f"could not load kernel '{path}': corrupt ELF file ({err})") from None
    raise PyvirtError(f"could not load kernel '{path}': no PVH entry note "
                      "(a kernel built without CONFIG_PVH)")


def load_pvh_kernel(vmlinux: bytes, path: str, address_space) -> int:
    """Load a vmlinux ELF; returns its PVH entry."""
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
