"""The device tree of the virt board, as the guest gets it.

``-machine dumpdtb=FILE`` writes the tree and exits; dtc (not our code)
decompiles it.  The tree must describe exactly the devices pyvirt builds,
at the addresses and IRQs of QEMU's virt board: every node we write must
also be in the tree the real qemu-system-riscv64 dumps for the same command
line, with the same device properties.  ``-dtb FILE`` replaces the generated
tree (with /chosen still patched), and a bare-metal guest reads the tree at
a1 to show the dumped tree is the one it boots with.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from guestbuild import build_source, toolchain_missing
from helpers_console import emulator_argv, unavailable

BINARIES = ("pyvirt", "qemu")
RAM_BASE = 0x80000000
MiB = 1 << 20

pytestmark = pytest.mark.skipif(shutil.which("dtc") is None,
                                reason="dtc not installed (Debian package device-tree-compiler)")


@dataclass
class Tree:
    """A decompiled device tree: node path -> {property: value text as dtc prints it}."""

    nodes: dict[str, dict[str, str]]
    warnings: set[str]

    def prop(self, path: str, name: str) -> str:
        return self.nodes[path][name]

    def cells(self, path: str, name: str) -> list[int]:
        """A <...> property as a list of cells."""
        return [int(cell, 16) for cell in self.prop(path, name).strip("<>").split()]

    def number(self, path: str, name: str) -> int:
        """A property of one or more cells read as one big-endian number."""
        value = 0
        for cell in self.cells(path, name):
            value = value << 32 | cell
        return value


_NODE = re.compile(r"^(\S+) \{$")
_PROP = re.compile(r"^([^=\s]+)(?: = (.*))?;$")


def parse_dts(text: str) -> dict[str, dict[str, str]]:
    """dtc's dts output, one node or property per line, as nested paths."""
    nodes: dict[str, dict[str, str]] = {}
    stack: list[str] = []
    for line in map(str.strip, text.splitlines()):
        if line == "};":
            stack.pop()
        elif match := _NODE.match(line):
            name = match[1]
            stack.append("" if name == "/" else name)
            nodes["/".join(stack) or "/"] = {}
        elif stack and (match := _PROP.match(line)):
            nodes["/".join(stack) or "/"][match[1]] = match[2] or ""
    return nodes


def decompile(dtb: Path) -> Tree:
    result = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(dtb)],
                            capture_output=True, text=True, check=True)
    warnings = {line.split(": ", 1)[1] for line in result.stderr.splitlines() if ": " in line}
    return Tree(parse_dts(result.stdout), warnings)


def dump(binary: str, out: Path, *args: str) -> Tree:
    """Run ``binary`` with dumpdtb=``out`` and the given options; the tree it wrote."""
    reason = unavailable(binary)
    if reason:
        pytest.skip(reason)
    argv = emulator_argv(binary, "-M", f"virt,dumpdtb={out}", "-nographic", *args)
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return decompile(out)


def built_nodes(harts: int) -> set[str]:
    """The nodes for what pyvirt's virt board builds, no more."""
    cpus = {f"/cpus/cpu@{i}" for i in range(harts)}
    return {
        "/", "/chosen", "/memory@80000000", "/cpus", "/cpus/cpu-map", "/cpus/cpu-map/cluster0",
        *cpus, *(f"{cpu}/interrupt-controller" for cpu in cpus),
        *(f"/cpus/cpu-map/cluster0/core{i}" for i in range(harts)),
        "/soc", "/soc/rtc@101000", "/soc/serial@10000000", "/soc/test@100000",
        "/soc/plic@c000000", "/soc/clint@2000000",
        *(f"/soc/virtio_mmio@{0x10001000 + i * 0x1000:x}" for i in range(8)),
        "/poweroff", "/reboot",
    }


# Properties that describe the hardware the same way whoever builds the tree.
# Left out: phandles and what refers to them (numbered differently), and the
# CPU's ISA string and MMU type (pyvirt's hart is not QEMU 7.2's default CPU).
SHARED_PROPERTIES = ("compatible", "reg", "interrupts", "device_type", "clock-frequency",
                     "riscv,ndev", "#interrupt-cells", "#address-cells", "#size-cells",
                     "timebase-frequency", "value", "offset", "interrupt-controller", "ranges",
                     "status", "stdout-path", "bootargs")

# Where QEMU 7.2 itself is the odd one out.
QEMU_72_DIFFERENCES = {
    # The window of QEMU's memory map (sized for 512 harts), not the PLIC's
    # own size, which pyvirt gives.
    ("/soc/plic@c000000", "reg"),
    # num_sources where later QEMU (and pyvirt) write num_sources - 1: the
    # PLIC has sources 1..95, source 0 being "no interrupt".
    ("/soc/plic@c000000", "riscv,ndev"),
}


@pytest.fixture(scope="module")
def kernel() -> Path:
    """A tiny bare-metal program: -bios none needs something to boot."""
    reason = toolchain_missing()
    if reason:
        pytest.skip(reason)
    return build_source("dtb_print", FDT_PRINTER)


@pytest.mark.parametrize("harts", [1, 2, 4])
def test_nodes_are_exactly_the_built_devices(tmp_path, harts):
    tree = dump("pyvirt", tmp_path / "virt.dtb", "-smp", str(harts))
    assert set(tree.nodes) == built_nodes(harts)
    for i in range(harts):
        cpu = f"/cpus/cpu@{i}"
        assert tree.cells(cpu, "reg") == [i]
        assert tree.prop(cpu, "device_type") == '"cpu"'
        assert tree.prop(f"{cpu}/interrupt-controller", "compatible") == '"riscv,cpu-intc"'


@pytest.mark.parametrize("harts", [1, 2, 4])
def test_nodes_are_a_subset_of_qemus(tmp_path, harts):
    ours = dump("pyvirt", tmp_path / "pyvirt.dtb", "-smp", str(harts))
    qemus = dump("qemu", tmp_path / "qemu.dtb", "-smp", str(harts))
    assert set(ours.nodes) <= set(qemus.nodes)
    for path, props in ours.nodes.items():
        for name in SHARED_PROPERTIES:
            if (path, name) in QEMU_72_DIFFERENCES:
                continue
            if name in props or name in qemus.nodes[path]:
                assert props.get(name) == qemus.nodes[path].get(name), (path, name)
    # dtc's checks find nothing in our tree that they don't find in QEMU's.
    assert ours.warnings <= qemus.warnings


def test_device_addresses_and_interrupts(tmp_path):
    tree = dump("pyvirt", tmp_path / "virt.dtb")
    plic = tree.cells("/soc/plic@c000000", "phandle")
    serial = "/soc/serial@10000000"
    assert tree.prop(serial, "compatible") == '"ns16550a"'
    assert tree.number(serial, "reg") == 0x10000000 << 64 | 0x100
    assert tree.cells(serial, "interrupts") == [10]
    assert tree.cells(serial, "interrupt-parent") == plic
    assert tree.prop("/chosen", "stdout-path") == f'"{serial}"'
    assert tree.cells("/soc/rtc@101000", "interrupts") == [11]
    assert tree.prop("/soc/rtc@101000", "compatible") == '"google,goldfish-rtc"'
    assert tree.prop("/soc/test@100000", "compatible") == r'"sifive,test1\0sifive,test0\0syscon"'
    assert tree.prop("/soc/clint@2000000", "compatible") == r'"sifive,clint0\0riscv,clint0"'
    for i in range(8):
        slot = f"/soc/virtio_mmio@{0x10001000 + i * 0x1000:x}"
        assert tree.prop(slot, "compatible") == '"virtio,mmio"'
        assert tree.cells(slot, "interrupts") == [1 + i]
        assert tree.cells(slot, "interrupt-parent") == plic
    test = tree.cells("/soc/test@100000", "phandle")
    assert tree.cells("/poweroff", "regmap") == test
    assert tree.cells("/poweroff", "value") == [0x5555]
    assert tree.cells("/reboot", "regmap") == test
    assert tree.cells("/reboot", "value") == [0x7777]


@pytest.mark.parametrize("binary", BINARIES)
@pytest.mark.parametrize("ram, size", [("16M", 16 * MiB), ("256M", 256 * MiB), ("1G", 1 << 30)])
def test_memory_node_follows_m(tmp_path, binary, ram, size):
    tree = dump(binary, tmp_path / "virt.dtb", "-m", ram)
    assert tree.number("/memory@80000000", "reg") == RAM_BASE << 64 | size


@pytest.mark.parametrize("binary", BINARIES)
def test_chosen_has_bootargs_and_initrd(tmp_path, binary, kernel):
    initrd = tmp_path / "initrd"
    initrd.write_bytes(bytes(range(256)) * 40)
    tree = dump(binary, tmp_path / "virt.dtb", "-bios", "none", "-kernel", str(kernel),
                "-initrd", str(initrd), "-append", "console=ttyS0 quiet")
    assert tree.prop("/chosen", "bootargs") == '"console=ttyS0 quiet"'
    start = tree.number("/chosen", "linux,initrd-start")
    end = tree.number("/chosen", "linux,initrd-end")
    assert end - start == initrd.stat().st_size
    assert RAM_BASE < start and end <= RAM_BASE + 128 * MiB


def test_initrd_goes_where_qemu_puts_it(tmp_path, kernel):
    initrd = tmp_path / "initrd"
    initrd.write_bytes(b"\x5a" * 1000)
    args = ("-bios", "none", "-kernel", str(kernel), "-initrd", str(initrd), "-m", "256M")
    ours = dump("pyvirt", tmp_path / "pyvirt.dtb", *args)
    qemus = dump("qemu", tmp_path / "qemu.dtb", *args)
    for name in ("linux,initrd-start", "linux,initrd-end"):
        assert ours.number("/chosen", name) == qemus.number("/chosen", name)


def test_no_chosen_extras_without_append_or_initrd(tmp_path):
    tree = dump("pyvirt", tmp_path / "virt.dtb")
    assert set(tree.nodes["/chosen"]) == {"stdout-path"}


# -- -dtb ----------------------------------------------------------------------

@pytest.fixture
def qemu_dtb(tmp_path) -> Path:
    """QEMU's own virt tree: it has nodes (fw-cfg, flash, pci) pyvirt never writes."""
    out = tmp_path / "qemu.dtb"
    dump("qemu", out)
    return out


def test_dtb_replaces_the_generated_tree(tmp_path, qemu_dtb, kernel):
    tree = dump("pyvirt", tmp_path / "virt.dtb", "-dtb", str(qemu_dtb), "-bios", "none",
                "-kernel", str(kernel), "-append", "from the command line")
    assert "/fw-cfg@10100000" in tree.nodes and "/soc/pci@30000000" in tree.nodes
    assert tree.prop("/chosen", "bootargs") == '"from the command line"'


def test_dtb_that_is_not_a_tree_is_a_user_error(tmp_path, kernel):
    bogus = tmp_path / "bogus.dtb"
    bogus.write_bytes(b"not a device tree at all")
    argv = emulator_argv("pyvirt", "-M", f"virt,dumpdtb={tmp_path / 'out.dtb'}",
                         "-bios", "none", "-kernel", str(kernel), "-dtb", str(bogus))
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and "bogus.dtb" in result.stderr


# The guest prints a1 (the tree's address, from the boot ROM), the tree's
# magic and its totalsize (big-endian words at a1, read little-endian), then
# passes.
FDT_PRINTER = r"""
#include "harness.h"
    .text
    .globl test_main
test_main:
    mv s0, a1
    mv a0, s0
    call uart_puthex
    li a0, ' '
    call uart_putc
    lwu a0, 0(s0)
    call uart_puthex
    li a0, ' '
    call uart_putc
    lwu a0, 4(s0)
    call uart_puthex
    li a0, '\n'
    call uart_putc
    TEST_PASSFAIL
"""


def big_endian(word_read_little: int) -> int:
    return int.from_bytes(word_read_little.to_bytes(4, "little"), "big")


@pytest.mark.parametrize("binary", BINARIES)
@pytest.mark.parametrize("given_dtb", [False, True], ids=["generated", "dtb"])
def test_guest_boots_with_the_dumped_tree(tmp_path, binary, given_dtb, qemu_dtb, kernel):
    args = ["-bios", "none", "-kernel", str(kernel), "-append", "hello"]
    if given_dtb:
        args += ["-dtb", str(qemu_dtb)]
    dumped = tmp_path / "dumped.dtb"
    dump(binary, dumped, *args)
    result = subprocess.run(emulator_argv(binary, "-M", "virt", "-nographic", *args),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    address, magic, size = (int(word, 16) for word in result.stdout.split()[:3])
    assert RAM_BASE <= address < RAM_BASE + 128 * MiB
    assert big_endian(magic) == 0xD00DFEED
    # QEMU dumps its whole FDT buffer: the header's totalsize is the tree.
    assert big_endian(size) == int.from_bytes(dumped.read_bytes()[4:8], "big")
