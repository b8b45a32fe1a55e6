"""The PC devices of the microvm machine, register by register (no KVM needed)."""

import calendar
import struct

from pyvirt.hw.input import i8042
from pyvirt.hw.input.i8042 import I8042
from pyvirt.hw.misc.isa_debug_exit import IsaDebugExit
from pyvirt.hw.nvram import fw_cfg
from pyvirt.hw.nvram.fw_cfg import FwCfg
from pyvirt.hw.rtc import mc146818
from pyvirt.hw.rtc.mc146818 import MC146818
from pyvirt.memory.address_space import AddressSpace
from pyvirt.memory.ram import GuestRAM
from pyvirt.memory.region import MemoryRegion


def test_isa_debug_exit_status_is_value_shifted_or_one():
    seen = []
    IsaDebugExit(seen.append, 4).write(0, 4, 0x10)
    assert seen == [0x21]


def test_i8042_self_test_and_reset_paths():
    resets = []
    kbd = I8042(lambda: resets.append(1))
    kbd.write(i8042.COMMAND, 1, i8042.CMD_SELF_TEST)
    assert kbd.read(i8042.STATUS, 1) & i8042.STAT_OBF
    assert kbd.read(i8042.DATA, 1) == i8042.SELF_TEST_OK
    assert not kbd.read(i8042.STATUS, 1) & i8042.STAT_OBF
    kbd.write(i8042.COMMAND, 1, i8042.CMD_WRITE_OUTPORT)
    kbd.write(i8042.DATA, 1, i8042.OUTPORT_A20)          # reset line low
    kbd.write(i8042.COMMAND, 1, i8042.CMD_RESET)
    assert resets == [1, 1]


def _cmos(rtc, index):
    rtc.write(mc146818.INDEX, 1, index)
    return rtc.read(mc146818.DATA, 1)


def test_cmos_time_in_bcd_and_binary_and_ram_survives_reset():
    when = calendar.timegm((2026, 11, 25, 19, 58, 42, 0, 0, 0))
    rtc = MC146818(now=lambda: when)
    assert [_cmos(rtc, r) for r in (mc146818.SECONDS, mc146818.MINUTES, mc146818.HOURS,
                                    mc146818.DAY, mc146818.MONTH, mc146818.YEAR,
                                    mc146818.CENTURY)] == [0x42, 0x58, 0x19, 0x25, 0x11, 0x26, 0x20]
    rtc.write(mc146818.INDEX, 1, mc146818.REG_B)
    rtc.write(mc146818.DATA, 1, mc146818.REG_B_24H | mc146818.REG_B_BINARY)
    assert _cmos(rtc, mc146818.HOURS) == 19
    rtc.write(mc146818.INDEX, 1, 0x40 | mc146818.NMI_DISABLE)
    rtc.write(mc146818.DATA, 1, 7)
    rtc.reset()
    assert _cmos(rtc, 0x40) == 7
    assert _cmos(rtc, mc146818.REG_D) == mc146818.REG_D_VRT


def _fw_cfg():
    ram = GuestRAM(1 << 16)
    root = MemoryRegion.container("mem")
    root.add_subregion(0, MemoryRegion.ram_region("ram", ram))
    memory = AddressSpace(root)
    dev = FwCfg(memory)
    dev.add_file("etc/b", b"second")
    dev.add_file("etc/a", b"first!")
    return dev, memory


def _read(dev, key, n):
    dev.write(fw_cfg.SELECTOR, 2, key)
    return bytes(dev.read(fw_cfg.DATA, 1) for _ in range(n))


def test_fw_cfg_traditional_interface():
    dev, _ = _fw_cfg()
    assert _read(dev, fw_cfg.SIGNATURE, 4) == b"QEMU"
    assert _read(dev, fw_cfg.ID, 4) == struct.pack("<I", fw_cfg.ID_TRADITIONAL | fw_cfg.ID_DMA)
    directory = _read(dev, fw_cfg.FILE_DIR, 4 + 2 * 64)
    assert struct.unpack_from(">I", directory)[0] == 2
    size, key = struct.unpack_from(">IH", directory, 4)        # sorted by name
    assert directory[12:17] == b"etc/a" and size == 6
    assert _read(dev, key, 8) == b"first!\0\0"                 # zeros past the end
    assert _read(dev, 0x8000, 2) == b"\0\0"                    # arch-local: not item 0


def test_fw_cfg_dma_select_skip_read():
    dev, memory = _fw_cfg()
    key = fw_cfg.FILE_FIRST                                    # "etc/b", added first

    def dma(control, length, target):
        memory.write_bytes(0x100, fw_cfg.DMA_DESCRIPTOR.pack(control, length, target))
        dev.write(fw_cfg.DMA_HIGH, 4, 0)
        dev.write(fw_cfg.DMA_LOW, 4, int.from_bytes((0x100).to_bytes(4, "big"), "little"))
        return memory.read_bytes(0x100, 4)

    assert dma(key << 16 | fw_cfg.DMA_SELECT | fw_cfg.DMA_SKIP, 2, 0) == b"\0" * 4
    assert dma(fw_cfg.DMA_READ, 4, 0x200) == b"\0" * 4
    assert memory.read_bytes(0x200, 4) == b"cond"
    assert dma(fw_cfg.DMA_WRITE, 1, 0x200)[3] & fw_cfg.DMA_ERROR
    assert dev.read(fw_cfg.DMA_HIGH, 4).to_bytes(4, "little") == b"QEMU"
