"""The RISC-V ``virt`` board: QEMU's memory map, devices and boot flow.

Wiring only: it places RAM, the boot ROM and the device models of ``hw/``
at the addresses and IRQ numbers of QEMU's hw/riscv/virt.c (so existing
guests and device trees fit), connects interrupt lines to the harts,
writes a device tree describing exactly what it built, and loads firmware,
kernel and initrd as QEMU's hw/riscv/boot.c does.
"""

import dataclasses
import struct
import threading

from ..errors import PyvirtError
from ..hw.char.uart16550 import UART16550
from ..hw.intc.aclint import ACLINT, TIMEBASE_FREQ
from ..hw.intc.plic import PLIC, plic_size
from ..hw.misc import sifive_test
from ..hw.misc.sifive_test import SiFiveTest
from ..hw.rtc.goldfish_rtc import GoldfishRTC
from ..hw.virtio.mmio import VirtioMMIO
from ..core.irq import IRQLine
from ..loader.fdt import FdtBuilder, fdt_load_addr, load_fdt_file, set_chosen
from ..loader.firmware import load_firmware
from ..loader.generic import generic_loader
from ..loader.initrd import load_initrd
from ..loader.riscv_image import kernel_start_addr, load_kernel
from ..memory.address_space import AddressSpace
from ..memory.ram import GuestRAM
from ..memory.region import MemoryRegion
from ..target.riscv.cpu_bits import IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, ISA_STRING
from ..target.riscv.hart import CodePages, Hart

MiB = 1 << 20

# Memory map (hw/riscv/virt.c)
MROM_BASE, MROM_SIZE = 0x1000, 0xF000
TEST_BASE, TEST_SIZE = 0x100000, 0x1000
RTC_BASE, RTC_SIZE = 0x101000, 0x1000
CLINT_BASE, CLINT_SIZE = 0x2000000, 0x10000
PLIC_BASE = 0xC000000
UART0_BASE, UART0_SIZE = 0x10000000, 0x100
VIRTIO_BASE, VIRTIO_SIZE, VIRTIO_COUNT = 0x10001000, 0x1000, 8
DRAM_BASE = 0x80000000

# IRQ numbers at the PLIC
UART0_IRQ = 10
RTC_IRQ = 11
VIRTIO_IRQ = 1          # first slot; slot i uses VIRTIO_IRQ + i
PLIC_NUM_SOURCES = 96   # QEMU's VIRT_IRQCHIP_NUM_SOURCES
PLIC_NUM_PRIORITIES = 7
UART_CLOCK = 0x384000

MIN_RAM = 16 * MiB
MAX_HARTS = 8

# fw_dynamic_info (OpenSBI's include/sbi/fw_dynamic.h)
FW_DYNAMIC_MAGIC = 0x4942534F
FW_DYNAMIC_VERSION = 2
FW_DYNAMIC_NEXT_MODE_S = 1


@dataclasses.dataclass
class VirtConfig:
    ram_size: int = 128 * MiB
    smp: int = 1
    bios: str | None = None         # path, or None for no firmware (-bios none)
    kernel: str | None = None
    initrd: str | None = None
    append: str | None = None
    dtb: str | None = None
    loaders: list = dataclasses.field(default_factory=list)   # -device loader props


def reset_vector(start_addr, fdt_addr):
    """The boot ROM code (riscv_setup_rom_reset_vec for RV64).

    a0 = hartid, a1 = FDT address, a2 = fw_dynamic_info, then jump to
    ``start_addr``.  The two addresses follow the code as 64-bit words.
    """
    code = [
        0x00000297,   # 1: auipc t0, %pcrel_hi(fw_dyn)
        0x02828613,   #    addi  a2, t0, %pcrel_lo(1b)
        0xF1402573,   #    csrr  a0, mhartid
        0x0202B583,   #    ld    a1, 32(t0)
        0x0182B283,   #    ld    t0, 24(t0)
        0x00028067,   #    jr    t0
    ]
    return struct.pack("<6IQQ", *code, start_addr, fdt_addr)


def fw_dynamic_info(next_addr):
    return struct.pack("<6Q", FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, next_addr,
                       FW_DYNAMIC_NEXT_MODE_S, 0, 0)


class RiscvVirt:
    """The board: memory, devices and harts, built from a VirtConfig."""

    def __init__(self, config, *, clock, serial, io_lock=None, log=None, shutdown=None):
        if config.ram_size < MIN_RAM:
            raise PyvirtError(f"-m {config.ram_size // MiB}M: the virt machine needs at least "
                              f"{MIN_RAM // MiB} MiB of RAM")
        if not 1 <= config.smp <= MAX_HARTS:
            raise PyvirtError(f"-smp {config.smp}: the virt machine supports 1 to {MAX_HARTS} CPUs")
        self.config = config
        self.clock = clock
        self.log = log
        self.io_lock = io_lock or threading.RLock()
        #: Called as shutdown(kind, code) by the test finisher.
        self.shutdown = shutdown or (lambda kind, code: None)
        self.ram = GuestRAM(config.ram_size, "riscv_virt_board.ram")
        self.mrom = GuestRAM(MROM_SIZE, "riscv_virt_board.mrom")
        self.root = MemoryRegion.container("system")
        self.root.add_subregion(DRAM_BASE, MemoryRegion.ram_region("ram", self.ram))
        self.root.add_subregion(MROM_BASE, MemoryRegion.rom_region("mrom", self.mrom))
        self.bus = None
        self._build_devices(serial)
        self.bus = AddressSpace(self.root)
        self.code_pages = CodePages()
        self.harts = [Hart(i, self.bus, self.ram, DRAM_BASE, io_lock=self.io_lock, log=log,
                           code_pages=self.code_pages) for i in range(config.smp)]
        self._wire_harts()

    # ---- construction ---------------------------------------------------------
    def _map(self, base, device, size=None):
        self.root.add_subregion(base, MemoryRegion.io(device.name, device, size))

    def _build_devices(self, serial):
        n = self.config.smp
        # Each hart gets an M-mode then an S-mode PLIC context, and lines for
        # MSIP and MTIP from the ACLINT; the harts are wired once they exist.
        self.hart_lines = [{bit: IRQLine() for bit in (IRQ_M_EXT, IRQ_S_EXT, IRQ_M_SOFT, IRQ_M_TIMER)}
                           for _ in range(n)]
        contexts = [line for lines in self.hart_lines for line in (lines[IRQ_M_EXT], lines[IRQ_S_EXT])]
        self.plic = PLIC(PLIC_NUM_SOURCES, PLIC_NUM_PRIORITIES, contexts)
        self.plic_size = plic_size(len(contexts))
        self.aclint = ACLINT(self.clock, [ls[IRQ_M_SOFT] for ls in self.hart_lines],
                             [ls[IRQ_M_TIMER] for ls in self.hart_lines])
        self.test = SiFiveTest(self._on_finisher)
        self.rtc = GoldfishRTC(self.clock, self._plic_line(RTC_IRQ))
        self.uart = UART16550(serial, self._plic_line(UART0_IRQ))
        self.virtio = [VirtioMMIO(self._plic_line(VIRTIO_IRQ + i)) for i in range(VIRTIO_COUNT)]
        self._map(TEST_BASE, self.test, TEST_SIZE)
        self._map(RTC_BASE, self.rtc, RTC_SIZE)
        self._map(CLINT_BASE, self.aclint, CLINT_SIZE)
        self._map(PLIC_BASE, self.plic, self.plic_size)
        self._map(UART0_BASE, self.uart, UART0_SIZE)
        for i, slot in enumerate(self.virtio):
            self._map(VIRTIO_BASE + i * VIRTIO_SIZE, slot, VIRTIO_SIZE)
        self.devices = [self.test, self.rtc, self.aclint, self.plic, self.uart, *self.virtio]

    def _plic_line(self, irq):
        return IRQLine(self.plic.irq_input(irq))

    def _wire_harts(self):
        for hart, lines in zip(self.harts, self.hart_lines):
            for bit, line in lines.items():
                line.connect(hart.irq_line_handler(bit))
            hart.mtime = self.aclint.mtime
            hart.io_sync = self.clock.icount

    def _on_finisher(self, kind, code):
        self.shutdown(kind, code)

    # ---- device tree -----------------------------------------------------------
    def build_fdt(self):
        """The device tree of exactly what this board built (create_fdt in virt.c)."""
        cfg = self.config
        b = FdtBuilder()
        b.cells("#address-cells", 2)
        b.cells("#size-cells", 2)
        b.string("compatible", "riscv-virtio")
        b.string("model", "riscv-virtio,qemu")
        cpu_ph = [b.alloc_phandle() for _ in self.harts]
        intc_ph = [b.alloc_phandle() for _ in self.harts]
        plic_ph = b.alloc_phandle()
        test_ph = b.alloc_phandle()
        with b.node("chosen"):
            b.string("stdout-path", f"/soc/serial@{UART0_BASE:x}")
        with b.node(f"memory@{DRAM_BASE:x}"):
            b.string("device_type", "memory")
            b.u64s("reg", DRAM_BASE, cfg.ram_size)
        with b.node("cpus"):
            b.cells("#address-cells", 1)
            b.cells("#size-cells", 0)
            b.cells("timebase-frequency", TIMEBASE_FREQ)
            for i in range(len(self.harts)):
                with b.node(f"cpu@{i}"):
                    b.phandle(cpu_ph[i])
                    b.string("device_type", "cpu")
                    b.cells("reg", i)
                    b.string("status", "okay")
                    b.string("compatible", "riscv")
                    b.string("riscv,isa", ISA_STRING)
                    b.string("mmu-type", "riscv,sv48")
                    with b.node("interrupt-controller"):
                        b.phandle(intc_ph[i])
                        b.cells("#interrupt-cells", 1)
                        b.empty("interrupt-controller")
                        b.string("compatible", "riscv,cpu-intc")
            with b.node("cpu-map"):
                with b.node("cluster0"):
                    for i in range(len(self.harts)):
                        with b.node(f"core{i}"):
                            b.cells("cpu", cpu_ph[i])
        with b.node("soc"):
            b.cells("#address-cells", 2)
            b.cells("#size-cells", 2)
            b.string("compatible", "simple-bus")
            b.empty("ranges")
            with b.node(f"rtc@{RTC_BASE:x}"):
                b.cells("interrupts", RTC_IRQ)
                b.cells("interrupt-parent", plic_ph)
                b.u64s("reg", RTC_BASE, RTC_SIZE)
                b.string("compatible", "google,goldfish-rtc")
            with b.node(f"serial@{UART0_BASE:x}"):
                b.cells("interrupts", UART0_IRQ)
                b.cells("interrupt-parent", plic_ph)
                b.cells("clock-frequency", UART_CLOCK)
                b.u64s("reg", UART0_BASE, UART0_SIZE)
                b.string("compatible", "ns16550a")
            with b.node(f"test@{TEST_BASE:x}"):
                b.phandle(test_ph)
                b.u64s("reg", TEST_BASE, TEST_SIZE)
                b.strings("compatible", "sifive,test1", "sifive,test0", "syscon")
            for i in reversed(range(VIRTIO_COUNT)):
                base = VIRTIO_BASE + i * VIRTIO_SIZE
                with b.node(f"virtio_mmio@{base:x}"):
                    b.cells("interrupts", VIRTIO_IRQ + i)
                    b.cells("interrupt-parent", plic_ph)
                    b.u64s("reg", base, VIRTIO_SIZE)
                    b.string("compatible", "virtio,mmio")
            with b.node(f"plic@{PLIC_BASE:x}"):
                b.phandle(plic_ph)
                b.cells("riscv,ndev", PLIC_NUM_SOURCES - 1)
                b.u64s("reg", PLIC_BASE, self.plic_size)
                b.cells("interrupts-extended",
                        *[c for ph in intc_ph for c in (ph, IRQ_M_EXT, ph, IRQ_S_EXT)])
                b.empty("interrupt-controller")
                b.strings("compatible", "sifive,plic-1.0.0", "riscv,plic0")
                b.cells("#address-cells", 0)
                b.cells("#interrupt-cells", 1)
            with b.node(f"clint@{CLINT_BASE:x}"):
                b.cells("interrupts-extended",
                        *[c for ph in intc_ph for c in (ph, IRQ_M_SOFT, ph, IRQ_M_TIMER)])
                b.u64s("reg", CLINT_BASE, CLINT_SIZE)
                b.strings("compatible", "sifive,clint0", "riscv,clint0")
        with b.node("poweroff"):
            b.cells("value", sifive_test.FINISHER_PASS)
            b.cells("offset", 0)
            b.cells("regmap", test_ph)
            b.string("compatible", "syscon-poweroff")
        with b.node("reboot"):
            b.cells("value", sifive_test.FINISHER_RESET)
            b.cells("offset", 0)
            b.cells("regmap", test_ph)
            b.string("compatible", "syscon-reboot")
        return b.finish()

    # ---- boot ---------------------------------------------------------------
    def boot(self):
        """Load firmware, kernel, initrd and device tree; set every hart at the ROM."""
        cfg = self.config
        ram_end = DRAM_BASE + cfg.ram_size
        firmware_end = DRAM_BASE
        start = DRAM_BASE
        if cfg.bios:
            fw = load_firmware(cfg.bios, self.bus, DRAM_BASE)
            firmware_end, start = fw.high, fw.entry
        kernel_entry = 0
        initrd = None
        if cfg.kernel:
            kernel = load_kernel(cfg.kernel, self.bus, DRAM_BASE, cfg.ram_size,
                                 kernel_start_addr(firmware_end))
            kernel_entry = kernel.entry
            if not cfg.bios:
                start = kernel.entry
            if cfg.initrd:
                initrd = load_initrd(cfg.initrd, self.bus, DRAM_BASE, cfg.ram_size, kernel.low)
        elif cfg.initrd:
            raise PyvirtError("-initrd needs -kernel")
        pcs = {}
        for props in cfg.loaders:
            done = generic_loader(props, self.bus)
            if done.pc is not None:
                if done.cpu_num >= len(self.harts):
                    raise PyvirtError(f"-device loader: cpu-num {done.cpu_num} does not exist")
                pcs[done.cpu_num] = done.pc
        fdt = load_fdt_file(cfg.dtb) if cfg.dtb else self.build_fdt()
        if cfg.append or initrd:
            fdt = set_chosen(fdt, cfg.append, *(initrd or (None, None)))
        fdt_addr = fdt_load_addr(DRAM_BASE, cfg.ram_size, len(fdt))
        if fdt_addr + len(fdt) > ram_end:
            raise PyvirtError("the device tree does not fit in RAM")
        self.bus.write_bytes(fdt_addr, fdt)
        rom = reset_vector(start, fdt_addr)
        rom += fw_dynamic_info(kernel_entry)
        self.mrom.load(0, rom)
        for i, hart in enumerate(self.harts):
            hart.reset(pcs.get(i, MROM_BASE))
        self.fdt = fdt

    def reset(self):
        for dev in self.devices:
            dev.reset()
        self.ram.clear()
        self.code_pages.flush()
        self.boot()
