"""Loaders: ELF, RISC-V Image, initrd, raw, generic loader, device trees."""

import gzip
import shutil
import struct
import subprocess

import libfdt
import pytest

from pyvirt.errors import PyvirtError
from pyvirt.images.guest import guest_dir
from pyvirt.loader.elf import load_elf
from pyvirt.loader.fdt import FdtBuilder, fdt_load_addr, load_fdt_file, set_chosen
from pyvirt.loader.firmware import load_firmware
from pyvirt.loader.generic import GenericLoad, generic_loader
from pyvirt.loader.initrd import initrd_start_addr, load_initrd
from pyvirt.loader.raw import load_raw
from pyvirt.loader.riscv_image import (ImageHeader, kernel_start_addr, load_kernel,
                                       parse_image_header)
from pyvirt.memory.address_space import AddressSpace
from pyvirt.memory.ram import GuestRAM
from pyvirt.memory.region import MemoryRegion

MiB = 1 << 20
RAM_BASE = 0x8000_0000
RAM_SIZE = 64 * MiB
ROM_BASE = 0x1000
ROM_SIZE = 0xf000      # as the virt board's mrom
MMIO_BASE = 0x1000_0000

OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump"
UBOOT_ELF = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf"


class Registers:
    """A device that records what reaches it."""
    size = 0x100

    def __init__(self):
        self.writes = []

    def read(self, offset, size):
        return 0

    def write(self, offset, size, value):
        self.writes.append((offset, value))


@pytest.fixture
def board():
    """A miniature virt board: mrom, a UART-sized device, RAM."""
    root = MemoryRegion.container("system")
    ram = GuestRAM(RAM_SIZE)
    rom = GuestRAM(ROM_SIZE, "mrom")
    root.add_subregion(RAM_BASE, MemoryRegion.ram_region("ram", ram))
    root.add_subregion(ROM_BASE, MemoryRegion.rom_region("mrom", rom))
    root.add_subregion(MMIO_BASE, MemoryRegion.io("uart", Registers()))
    return AddressSpace(root)


def run(*cmd, cwd=None):
    subprocess.run(cmd, check=True, cwd=cwd, capture_output=True)


needs_gcc = pytest.mark.skipif(shutil.which("riscv64-linux-gnu-gcc") is None,
                               reason="riscv64-linux-gnu-gcc not installed")

TINY_S = """
    .section .text
    .globl _start
_start:
    la a0, message
    j _start
    .section .data
message: .asciz "hello"
    .section .bss
    .space 4096
"""


def build_tiny(tmp_path, *flags, base=RAM_BASE + 0x1000):
    """A bare-metal program linked to run at ``base`` (as firmware would be)."""
    src = tmp_path / "tiny.S"
    src.write_text(TINY_S)
    script = tmp_path / "tiny.ld"
    script.write_text(f"SECTIONS {{ . = {base:#x}; .text : {{ *(.text) }} "
                      ".data : { *(.data) } .bss : { *(.bss) } }")
    out = tmp_path / "tiny.elf"
    run("riscv64-linux-gnu-gcc", "-nostdlib", "-static", "-no-pie",
        "-Wl,--build-id=none", "-T", str(script), *flags, "-o", str(out), str(src))
    return out


# -- ELF ---------------------------------------------------------------------

@needs_gcc
def test_elf_built_by_gcc_lands_at_its_physical_addresses(board, tmp_path):
    from elftools.elf.elffile import ELFFile
    path = build_tiny(tmp_path)
    loaded = load_elf(str(path), board)
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert loaded.entry == elf["e_entry"] == RAM_BASE + 0x1000
        text = elf.get_section_by_name(".text")
        data = elf.get_section_by_name(".data")
        bss = elf.get_section_by_name(".bss")
        assert board.read_bytes(text["sh_addr"], text["sh_size"]) == text.data()
        assert board.read_bytes(data["sh_addr"], 6) == b"hello\0"
        assert board.read_bytes(bss["sh_addr"], bss["sh_size"]) == bytes(bss["sh_size"])
        assert loaded.low == RAM_BASE + 0x1000
        assert loaded.high >= bss["sh_addr"] + bss["sh_size"]


@needs_gcc
def test_elf_bss_is_zeroed_over_old_contents(board, tmp_path):
    path = build_tiny(tmp_path)
    board.write_bytes(RAM_BASE, b"\xff" * (1 * MiB))
    loaded = load_elf(str(path), board)
    assert board.read_bytes(loaded.high - 4096, 4096) == bytes(4096)


@needs_gcc
def test_elf_may_fill_rom(board, tmp_path):
    path = build_tiny(tmp_path, base=ROM_BASE)
    loaded = load_elf(str(path), board)
    assert loaded.entry == ROM_BASE
    assert board.read(ROM_BASE, 4) != 0


@needs_gcc
def test_elf_outside_memory_names_the_address(board, tmp_path):
    path = build_tiny(tmp_path, base=0x4000_0000)
    with pytest.raises(PyvirtError, match=r"does not fit in guest memory.*0x40000000"):
        load_elf(str(path), board)


@needs_gcc
def test_elf_onto_device_registers_is_refused(board, tmp_path):
    device = board.lookup(MMIO_BASE).region.ops
    path = build_tiny(tmp_path, base=MMIO_BASE)
    with pytest.raises(PyvirtError, match="0x10000000, which is not RAM or ROM"):
        load_elf(str(path), board)
    assert device.writes == []


@needs_gcc
def test_elf_32bit_is_refused_by_a_64bit_loader(board, tmp_path):
    path = build_tiny(tmp_path, "-march=rv32i", "-mabi=ilp32")
    with pytest.raises(PyvirtError, match="32-bit ELF, expected 64-bit"):
        load_elf(str(path), board)


def test_opensbi_elf_matches_debians_flat_binary(board):
    loaded = load_elf(OPENSBI + ".elf", board)
    with open(OPENSBI + ".bin", "rb") as f:
        flat = f.read()
    assert loaded.entry == loaded.low == RAM_BASE
    assert board.read_bytes(RAM_BASE, len(flat)) == flat
    assert loaded.high > RAM_BASE + len(flat)   # bss beyond the file


@pytest.mark.skipif(shutil.which("riscv64-linux-gnu-objcopy") is None,
                    reason="binutils for riscv64 not installed")
def test_uboot_elf_matches_objcopy(board, tmp_path):
    flat = tmp_path / "u-boot.bin"
    run("riscv64-linux-gnu-objcopy", "-O", "binary", UBOOT_ELF, str(flat))
    loaded = load_elf(UBOOT_ELF, board)
    assert loaded.entry == loaded.low == RAM_BASE + 2 * MiB
    assert board.read_bytes(loaded.low, flat.stat().st_size) == flat.read_bytes()


def test_x86_elf_is_refused_clearly(board):
    with pytest.raises(PyvirtError, match=r"'/bin/true': it is an ELF for x86-64, not RISC-V"):
        load_elf("/bin/true", board)


def test_not_an_elf(board, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(PyvirtError, match="not an ELF file"):
        load_elf(str(path), board)


def test_missing_file(board, tmp_path):
    with pytest.raises(PyvirtError, match=r"could not load ELF image '.*nope.elf': No such file"):
        load_elf(str(tmp_path / "nope.elf"), board)


@pytest.mark.parametrize("length", [20, 100, 50_000])
def test_truncated_elf(board, tmp_path, length):
    with open(OPENSBI + ".elf", "rb") as f:
        data = f.read(length)
    path = tmp_path / "cut.elf"
    path.write_bytes(data)
    with pytest.raises(PyvirtError, match="truncated"):
        load_elf(str(path), board)


# -- firmware ----------------------------------------------------------------

def test_firmware_flat_binary_goes_to_the_load_address(board):
    loaded = load_firmware(OPENSBI + ".bin", board, RAM_BASE)
    assert loaded.entry == RAM_BASE
    assert kernel_start_addr(loaded.high) == RAM_BASE + 2 * MiB


def test_firmware_elf_goes_where_it_says(board):
    loaded = load_firmware(OPENSBI + ".elf", board, 0xdead0000)
    assert loaded.entry == RAM_BASE


# -- RISC-V Image and -kernel --------------------------------------------------

def make_image(body=b"", *, image_size=None, magic2=b"RSC\x05", flags=0):
    header = struct.pack("<IIQQQIIQ8s4sI", 0x4000006f, 0, 0x200000,
                         image_size or 64 + len(body), flags, 2, 0, 0,
                         b"RISCV\0\0\0", magic2, 0)
    return header + body


def test_parse_image_header():
    header = parse_image_header(make_image(image_size=0x1234000))
    assert header == ImageHeader(code0=0x4000006f, code1=0, text_offset=0x200000,
                                 image_size=0x1234000, flags=0, version=2)
    assert parse_image_header(b"\0" * 64) is None
    assert parse_image_header(b"RISCV") is None


def test_kernel_start_addr_aligns_after_firmware():
    assert kernel_start_addr(RAM_BASE + 0x45ac8) == RAM_BASE + 2 * MiB
    assert kernel_start_addr(RAM_BASE + 2 * MiB) == RAM_BASE + 2 * MiB
    assert kernel_start_addr(RAM_BASE + 0x45ac8, xlen=32) == RAM_BASE + 4 * MiB


def test_image_kernel_loads_at_kernel_start(board, tmp_path):
    image = make_image(b"\x13\x00\x00\x00" * 16, image_size=8 * MiB)
    path = tmp_path / "Image"
    path.write_bytes(image)
    start = RAM_BASE + 2 * MiB
    loaded = load_kernel(str(path), board, RAM_BASE, RAM_SIZE, start)
    assert (loaded.entry, loaded.low, loaded.high) == (start, start, start + 8 * MiB)
    assert board.read_bytes(start, len(image)) == image


def test_gzipped_kernel_is_refused(board, tmp_path):
    path = tmp_path / "Image.gz"
    path.write_bytes(gzip.compress(make_image(b"kernel text")))
    with pytest.raises(PyvirtError, match="gzip-compressed; unpack it first"):
        load_kernel(str(path), board, RAM_BASE, RAM_SIZE, RAM_BASE + 2 * MiB)


def test_debians_kernel_image(tmp_path):
    path = guest_dir() / "Image"
    if not path.exists():
        pytest.skip("Debian guest kernel not fetched (python -m pyvirt.images)")
    with open(path, "rb") as f:
        header = parse_image_header(f.read(64))
    assert header.text_offset == 2 * MiB and not header.big_endian
    ram_size = 256 * MiB
    root = MemoryRegion.container("system")
    root.add_subregion(RAM_BASE, MemoryRegion.ram_region("ram", GuestRAM(ram_size)))
    memory = AddressSpace(root)
    start = RAM_BASE + 2 * MiB
    loaded = load_kernel(str(path), memory, RAM_BASE, ram_size, start)
    assert loaded.entry == start and loaded.size == header.image_size
    assert memory.read_bytes(start + 0x38, 4) == b"RSC\x05"
    with pytest.raises(PyvirtError, match="does not fit in RAM"):
        load_kernel(str(path), memory, RAM_BASE, 32 * MiB, start)


def test_image_too_big_for_ram(board, tmp_path):
    path = tmp_path / "Image"
    path.write_bytes(make_image(image_size=RAM_SIZE))
    with pytest.raises(PyvirtError, match="kernel .* does not fit in RAM"):
        load_kernel(str(path), board, RAM_BASE, RAM_SIZE, RAM_BASE + 2 * MiB)


def test_raw_kernel_without_header(board, tmp_path):
    path = tmp_path / "payload.bin"
    path.write_bytes(b"\x6f\x00\x00\x00")
    loaded = load_kernel(str(path), board, RAM_BASE, RAM_SIZE, RAM_BASE + 2 * MiB)
    assert loaded.size == 4


def test_elf_kernel_is_entered_at_its_lowest_address(board):
    loaded = load_kernel(UBOOT_ELF, board, RAM_BASE, RAM_SIZE, RAM_BASE + 2 * MiB)
    assert loaded.entry == loaded.low == RAM_BASE + 2 * MiB


def test_uimage_kernel_is_refused(board, tmp_path):
    path = tmp_path / "uImage"
    path.write_bytes(b"\x27\x05\x19\x56" + bytes(60))
    with pytest.raises(PyvirtError, match="uImage"):
        load_kernel(str(path), board, RAM_BASE, RAM_SIZE, RAM_BASE + 2 * MiB)


# -- initrd ----------------------------------------------------------------

def test_initrd_goes_half_way_into_small_ram(board, tmp_path):
    path = tmp_path / "initrd"
    path.write_bytes(b"070701" + bytes(1000))
    kernel = RAM_BASE + 2 * MiB
    start, end = load_initrd(str(path), board, RAM_BASE, RAM_SIZE, kernel)
    assert start == kernel + RAM_SIZE // 2
    assert end == start + 1006
    assert board.read_bytes(start, 6) == b"070701"


def test_initrd_at_most_128mib_above_kernel():
    assert initrd_start_addr(8 << 30, RAM_BASE + 2 * MiB) == RAM_BASE + 2 * MiB + 128 * MiB


@pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                    reason="qemu-system-riscv64 not installed")
@pytest.mark.parametrize("firmware", [".bin", ".elf"])
@pytest.mark.parametrize("ram_size", [64 * MiB, 256 * MiB, 2048 * MiB])
def test_kernel_and_initrd_placement_match_qemu(board, tmp_path, firmware, ram_size):
    """QEMU's dumped device tree tells where it put the initrd, which it
    counts from where it put the kernel."""
    kernel = tmp_path / "Image"
    kernel.write_bytes(make_image(bytes(1000), image_size=8 * MiB))
    initrd = tmp_path / "initrd"
    initrd.write_bytes(b"070701" + bytes(5000))
    dtb = tmp_path / "qemu.dtb"
    subprocess.run(["qemu-system-riscv64", "-M", f"virt,dumpdtb={dtb}",
                    "-m", f"{ram_size // MiB}M", "-display", "none",
                    "-bios", OPENSBI + firmware, "-kernel", str(kernel),
                    "-initrd", str(initrd)], check=True, capture_output=True, timeout=60)
    tree = libfdt.Fdt(bytearray(dtb.read_bytes()))
    chosen = tree.path_offset("/chosen")
    qemu_range = [int.from_bytes(tree.getprop(chosen, f"linux,initrd-{end}"), "big")
                  for end in ("start", "end")]

    fw = load_firmware(OPENSBI + firmware, board, RAM_BASE)
    start = kernel_start_addr(fw.high)
    loaded = load_kernel(str(kernel), board, RAM_BASE, RAM_SIZE, start)
    assert [initrd_start_addr(ram_size, loaded.low),
            initrd_start_addr(ram_size, loaded.low) + initrd.stat().st_size] == qemu_range


def test_initrd_too_big(board, tmp_path):
    path = tmp_path / "initrd"
    path.write_bytes(bytes(RAM_SIZE // 2))
    with pytest.raises(PyvirtError, match="initrd .* does not fit in RAM.*-m"):
        load_initrd(str(path), board, RAM_BASE, RAM_SIZE, RAM_BASE + 2 * MiB)


# -- raw and the generic loader ------------------------------------------------

def test_raw(board, tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"abc")
    loaded = load_raw(str(path), board, RAM_BASE + 0x100)
    assert (loaded.entry, loaded.high) == (RAM_BASE + 0x100, RAM_BASE + 0x103)
    assert board.read_bytes(RAM_BASE + 0x100, 3) == b"abc"
    with pytest.raises(PyvirtError, match="too large"):
        load_raw(str(path), board, RAM_BASE, max_size=2)


def test_generic_loader_stores_data(board):
    result = generic_loader({"driver": "loader", "data": "0x11223344", "data-len": "4",
                             "addr": hex(RAM_BASE)}, board)
    assert result == GenericLoad(cpu_num=None, pc=None)
    assert board.read_bytes(RAM_BASE, 4) == b"\x44\x33\x22\x11"
    generic_loader({"data": "0x1122", "data-len": "2", "data-be": "on",
                    "addr": hex(RAM_BASE)}, board)
    assert board.read_bytes(RAM_BASE, 2) == b"\x11\x22"


def test_generic_loader_files(board, tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"xyz")
    result = generic_loader({"file": str(path), "addr": "0x80200000", "cpu-num": "0"}, board)
    assert result == GenericLoad(cpu_num=0, pc=0x80200000)
    assert board.read_bytes(0x80200000, 3) == b"xyz"
    result = generic_loader({"file": OPENSBI + ".elf"}, board)
    assert result == GenericLoad(cpu_num=None, pc=None)
    result = generic_loader({"file": OPENSBI + ".elf", "cpu-num": "1"}, board)
    assert result == GenericLoad(cpu_num=1, pc=RAM_BASE)


def test_generic_loader_sets_pc(board):
    assert generic_loader({"addr": "0x80000000", "cpu-num": "0"}, board) == \
        GenericLoad(cpu_num=0, pc=0x80000000)


@pytest.mark.parametrize("props, message", [
    ({}, "give file="),
    ({"data": "1", "addr": "0x80000000"}, "must be given together"),
    ({"data": "1", "data-len": "9", "addr": "0x80000000"}, "data-len must be 1 to 8"),
    ({"data": "1", "data-len": "1", "addr": "0x80000000", "file": "x"}, "a file cannot"),
    ({"addr": "zz", "cpu-num": "0"}, "addr=zz: not a number"),
    ({"file": "/bin/sh", "force-raw": "maybe"}, "force-raw=maybe"),
    ({"colour": "red"}, "property 'colour' not found"),
])
def test_generic_loader_errors(board, props, message):
    with pytest.raises(PyvirtError, match=message):
        generic_loader(props, board)


# -- device trees ----------------------------------------------------------

def build_tree():
    fdt = FdtBuilder()
    intc = fdt.alloc_phandle()
    fdt.cells("#address-cells", 2)
    fdt.cells("#size-cells", 2)
    fdt.strings("compatible", "riscv-virtio")
    with fdt.node("chosen"):
        fdt.string("stdout-path", "/soc/serial@10000000")
    with fdt.node("soc"):
        with fdt.node("serial@10000000"):
            fdt.u64s("reg", 0x1000_0000, 0x100)
            fdt.cells("interrupt-parent", intc)   # referenced before it is written
            fdt.cells("interrupts", 10)
        with fdt.node("plic@c000000"):
            fdt.phandle(intc)
            fdt.empty("interrupt-controller")
            fdt.strings("compatible", "sifive,plic-1.0.0", "riscv,plic0")
    return fdt.finish()


def test_fdt_builder_round_trips_through_libfdt():
    fdt = libfdt.Fdt(bytearray(build_tree()))
    serial = fdt.path_offset("/soc/serial@10000000")
    assert struct.unpack(">QQ", fdt.getprop(serial, "reg")) == (0x1000_0000, 0x100)
    plic = fdt.path_offset("/soc/plic@c000000")
    assert fdt.getprop(serial, "interrupt-parent").as_uint32() == fdt.get_phandle(plic)
    assert fdt.getprop(plic, "compatible").as_stringlist() == \
        ["sifive,plic-1.0.0", "riscv,plic0"]
    assert fdt.getprop(plic, "interrupt-controller") == b""


@pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc not installed")
def test_fdt_builder_output_is_accepted_by_dtc(tmp_path):
    blob = tmp_path / "t.dtb"
    blob.write_bytes(build_tree())
    out = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(blob)],
                         check=True, capture_output=True, text=True).stdout
    assert 'compatible = "sifive,plic-1.0.0\\0riscv,plic0";' in out
    assert "interrupt-parent = <0x01>;" in out


def test_load_fdt_file_checks_it(tmp_path):
    good = tmp_path / "good.dtb"
    good.write_bytes(build_tree())
    assert load_fdt_file(str(good)) == good.read_bytes()
    bad = tmp_path / "bad.dtb"
    bad.write_bytes(b"not a device tree at all" * 4)
    with pytest.raises(PyvirtError, match="bad.dtb': not a valid flattened device tree"):
        load_fdt_file(str(bad))
    cut = tmp_path / "cut.dtb"
    cut.write_bytes(build_tree()[:100])
    with pytest.raises(PyvirtError, match="not a valid flattened device tree"):
        load_fdt_file(str(cut))


def test_set_chosen_patches_and_creates_chosen():
    fdt = FdtBuilder()
    fdt.cells("#address-cells", 2)
    blob = set_chosen(fdt.finish(), "console=ttyS0 root=/dev/vda", 0x8800_0000, 0x8810_0000)
    tree = libfdt.Fdt(bytearray(blob))
    chosen = tree.path_offset("/chosen")
    assert tree.getprop(chosen, "bootargs").as_str() == "console=ttyS0 root=/dev/vda"
    assert tree.getprop(chosen, "linux,initrd-start").as_uint64() == 0x8800_0000
    assert tree.getprop(chosen, "linux,initrd-end").as_uint64() == 0x8810_0000
    again = libfdt.Fdt(bytearray(set_chosen(blob, "quiet")))
    chosen = again.path_offset("/chosen")
    assert again.getprop(chosen, "bootargs").as_str() == "quiet"
    assert again.getprop(chosen, "linux,initrd-end").as_uint64() == 0x8810_0000


@pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                    reason="qemu-system-riscv64 not installed")
@pytest.mark.parametrize("ram_size", [64 * MiB, 256 * MiB, 2048 * MiB, 8192 * MiB])
def test_fdt_load_addr_matches_qemu(ram_size):
    """QEMU's reset vector in the mrom holds the FDT address at 0x1020."""
    monitor = subprocess.run(
        ["qemu-system-riscv64", "-M", "virt", "-m", f"{ram_size // MiB}M", "-S",
         "-display", "none", "-monitor", "stdio", "-bios", OPENSBI + ".bin"],
        input="xp /1gx 0x1020\nq\n", capture_output=True, text=True, timeout=60).stdout
    qemu_addr = int(monitor.split("0000000000001020: ")[1].split()[0], 16)
    assert fdt_load_addr(RAM_BASE, ram_size, 0x2000) == qemu_addr


def test_fdt_that_does_not_fit():
    with pytest.raises(PyvirtError, match="device tree"):
        fdt_load_addr(RAM_BASE, 1 * MiB, 4 * MiB)
