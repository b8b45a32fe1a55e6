"""QEMU's ``microvm`` x86 machine, run under KVM.

Wiring only: guest RAM (below 3 GiB, the rest above 4 GiB) and the
firmware ROM go into the memory map, which becomes KVM memory slots;
the legacy devices of ``hw/`` sit on a second AddressSpace, the port
bus; their IRQ lines drive inputs of the in-kernel IOAPIC/PIC.  Eight
virtio-mmio slots sit at 0xfeb00000 as in QEMU's hw/i386/microvm.c.

The firmware image is RAM, as in QEMU's microvm, and is
reloaded on reset.  A reset (i8042, triple fault) throws the KVM VM away and builds a new
one on the same RAM: the in-kernel interrupt controllers, PIT and vCPUs
then start from their power-on state without restoring each by hand.
"""

import dataclasses
import functools
import os
import struct

from ..core.irq import IRQLine
from ..errors import PyvirtError
from ..hw.char.debugcon import Debugcon
from ..hw.char.uart16550 import UART16550
from ..hw.input.i8042 import I8042
from ..hw.misc.isa_debug_exit import IsaDebugExit
from ..hw.nvram import fw_cfg
from ..hw.nvram.fw_cfg import FwCfg
from ..hw.rtc.mc146818 import MC146818
from ..hw.virtio.mmio import MMIO_SIZE, QUEUE_NOTIFY, VirtioMMIO
from ..kvm import abi
from ..kvm.cpus import VcpuThreads
from ..kvm.vm import Vm
from ..loader.image import read_file
from ..memory.address_space import AddressSpace
from ..memory.ram import GuestRAM
from ..memory.region import MemoryRegion
from ..target.x86 import boot
from ..target.x86.cpuid import guest_cpuid
from ..target.x86.dump import format_registers
from ..target.x86.mptable import MP_TABLE_ADDR, mp_table

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

LOWMEM_LIMIT = 3 * GiB          # RAM beyond this goes above 4 GiB
HIGHMEM_BASE = 4 * GiB
ISA_BIOS_MAX = 128 * KiB        # how much of the firmware also appears below 1 MiB
MIN_RAM = 16 * MiB
#: xAPIC IDs are 8 bits, 0xff is broadcast, and the IOAPIC takes the ID after the CPUs'.
MAX_CPUS = 254

# ports
I8042_PORT = 0x60
CMOS_PORT = 0x70
COM1_PORT, COM1_IRQ = 0x3F8, 4
DEBUGCON_PORT = 0x402
PORT_SPACE = 0x10000

VIRTIO_BASE, VIRTIO_COUNT, VIRTIO_IRQ_BASE = 0xFEB00000, 8, 5
FW_CFG_PORT = 0x510

#: fw_cfg (address, size, data) keys of each piece of a firmware-loaded kernel.
FW_CFG_KEYS = {
    "setup": (fw_cfg.SETUP_ADDR, fw_cfg.SETUP_SIZE, fw_cfg.SETUP_DATA),
    "kernel": (fw_cfg.KERNEL_ADDR, fw_cfg.KERNEL_SIZE, fw_cfg.KERNEL_DATA),
    "cmdline": (fw_cfg.CMDLINE_ADDR, fw_cfg.CMDLINE_SIZE, fw_cfg.CMDLINE_DATA),
    "initrd": (fw_cfg.INITRD_ADDR, fw_cfg.INITRD_SIZE, fw_cfg.INITRD_DATA),
}
#: QEMU's option ROM that boots -kernel from fw_cfg under SeaBIOS.
LINUXBOOT_ROM = "/usr/share/qemu/linuxboot_dma.bin"

DEFAULT_BIOS = "/usr/share/seabios/bios-microvm.bin"


@dataclasses.dataclass
class MicrovmConfig:
    ram_size: int = 128 * MiB
    smp: int = 1
    bios: str | None = None         # None: direct kernel boot (needs kernel)
    kernel: str | None = None
    initrd: str | None = None
    append: str = ""
    cpu_features: dict = dataclasses.field(default_factory=dict)
    debug_exit: tuple | None = None     # (iobase, iosize)
    #: VirtioDevice backends for the slots, from slot 0 (no -device makes them yet)
    virtio: tuple = ()


class Events:
    """What the machine reports to whoever runs it (the front end)."""

    def reset(self):               # i8042 reset line, triple fault
        raise NotImplementedError

    def exit(self, status):        # isa-debug-exit, power off (status 0)
        raise NotImplementedError

    def error(self, message):      # the guest can no longer run
        raise NotImplementedError


class Microvm:
    def __init__(self, config, *, kvm, serial, debugcons=(), io_lock, events, mainloop=None):
        if config.ram_size < MIN_RAM:
            raise PyvirtError(f"-m {config.ram_size // MiB}M: the microvm machine needs at "
                              f"least {MIN_RAM // MiB} MiB of RAM")
        max_cpus = min(kvm.max_vcpus, MAX_CPUS)
        if not 1 <= config.smp <= max_cpus:
            raise PyvirtError(f"-smp {config.smp}: the microvm machine supports 1 to "
                              f"{max_cpus} CPUs here")
        self.config = config
        self.kvm = kvm
        self.io_lock = io_lock
        self.events = events
        #: Watches the doorbell eventfds of virtio queues.
        self.mainloop = mainloop
        self._doorbells = []
        self.supported_cpuid = kvm.supported_cpuid()
        self.vm = None
        self.threads = None
        self._build_memory()
        self._build_devices(serial, debugcons)

    # ---- construction ------------------------------------------------------
    def _build_memory(self):
        cfg = self.config
        self.ram = GuestRAM(cfg.ram_size, "microvm.ram")
        self.root = MemoryRegion.container("system")
        low = min(cfg.ram_size, LOWMEM_LIMIT)
        self.root.add_subregion(0, MemoryRegion.ram_region("ram-below-4g", self.ram, 0, low))
        if cfg.ram_size > low:
            self.root.add_subregion(HIGHMEM_BASE, MemoryRegion.ram_region(
                "ram-above-4g", self.ram, low, cfg.ram_size - low))
        self.bios = None
        if cfg.bios is not None:
            self.bios = self._bios_rom(cfg.bios)
        self.e820 = boot.e820_map(low, cfg.ram_size - low, HIGHMEM_BASE)

    def _bios_rom(self, path):
        try:
            with open(path, "rb") as f:
                image = f.read()
        except OSError as err:
            raise PyvirtError(f"could not load firmware '{path}': {err.strerror}") from None
        if not image or len(image) % (64 * KiB) or len(image) > 16 * MiB:
            raise PyvirtError(f"firmware '{path}': size {len(image)} is not a multiple of "
                              f"64 KiB up to 16 MiB")
        # Writable, as QEMU's microvm maps it (isapc_ram_fw): SeaBIOS relocates
        # itself within it, having no chipset to unlock shadow RAM with.
        rom = GuestRAM(len(image), "pc.bios")
        rom.load(0, image)
        self._bios_image = image
        isa = min(len(image), ISA_BIOS_MAX)
        self.root.add_subregion(HIGHMEM_BASE - len(image), MemoryRegion.ram_region("pc.bios", rom))
        self.root.add_subregion(1 * MiB - isa, MemoryRegion.ram_region(
            "isa-bios", rom, len(image) - isa, isa), priority=1)
        return rom

    def _build_devices(self, serial, debugcons):
        """``debugcons``: (port, chardev) of each debug console."""
        self.io_root = MemoryRegion.container("io", PORT_SPACE)
        self.irqs = {}
        self.uart = UART16550(serial, self._irq(COM1_IRQ))
        self.cmos = MC146818()
        self.i8042 = I8042(self.events.reset)
        self.devices = [self.uart, self.cmos, self.i8042]
        self._port(COM1_PORT, self.uart)
        self._port(CMOS_PORT, self.cmos)
        self._port(I8042_PORT, self.i8042)
        for port, chardev in debugcons:
            self._port(port, Debugcon(chardev))
        if self.config.debug_exit is not None:
            iobase, iosize = self.config.debug_exit
            self._port(iobase, IsaDebugExit(self.events.exit, iosize))
        self.fw_cfg = FwCfg(None)
        self._port(FW_CFG_PORT, self.fw_cfg)
        if len(self.config.virtio) > VIRTIO_COUNT:
            raise PyvirtError(f"the microvm machine has {VIRTIO_COUNT} virtio-mmio slots")
        backends = list(self.config.virtio) + [None] * (VIRTIO_COUNT - len(self.config.virtio))
        self.virtio = [VirtioMMIO(self._irq(VIRTIO_IRQ_BASE + i), backend)
                       for i, backend in enumerate(backends)]
        for i, slot in enumerate(self.virtio):
            self.root.add_subregion(VIRTIO_BASE + i * MMIO_SIZE,
                                    MemoryRegion.io(f"virtio-mmio.{i}", slot, MMIO_SIZE))
        self.devices += [self.fw_cfg, *self.virtio]
        self.memory = AddressSpace(self.root)
        self.ports = AddressSpace(self.io_root, "io")
        self.fw_cfg.memory = self.memory
        self._fill_fw_cfg()

    def _fill_fw_cfg(self):
        """What firmware learns from the VMM; with -bios and -kernel, the kernel too."""
        cfg, fw = self.config, self.fw_cfg
        fw.add_u64(fw_cfg.RAM_SIZE, cfg.ram_size)
        fw.add_u16(fw_cfg.NB_CPUS, cfg.smp)
        fw.add_u16(fw_cfg.MAX_CPUS, cfg.smp)
        # RAM only, as QEMU gives it: carving out the legacy hole is firmware's job
        ram = [(0, min(cfg.ram_size, LOWMEM_LIMIT), boot.E820_RAM)]
        if cfg.ram_size > LOWMEM_LIMIT:
            ram.append((HIGHMEM_BASE, cfg.ram_size - LOWMEM_LIMIT, boot.E820_RAM))
        fw.add_file("etc/e820", b"".join(struct.pack("<QQI", *e) for e in ram))
        if self.bios is None or cfg.kernel is None:
            return
        from ..loader.bzimage import firmware_boot_pieces   # pyelftools: 30 ms of start-up
        initrd = None
        if cfg.initrd is not None:
            data = read_file(cfg.initrd, "initrd")
            initrd = ((min(cfg.ram_size, LOWMEM_LIMIT) - len(data)) & ~0xFFF, data)
        pieces = firmware_boot_pieces(read_file(cfg.kernel, "kernel"), cfg.kernel,
                                      self.kernel_cmdline(), initrd)
        for name, (addr, data) in pieces.items():
            key_addr, key_size, key_data = FW_CFG_KEYS[name]
            fw.add_u32(key_addr, addr)
            fw.add_u32(key_size, len(data))
            fw.add_item(key_data, data)
        try:
            with open(LINUXBOOT_ROM, "rb") as f:
                fw.add_file("genroms/linuxboot_dma.bin", f.read())
        except OSError as err:
            raise PyvirtError(f"-kernel with -bios needs QEMU's option ROM {LINUXBOOT_ROM}: "
                              f"{err.strerror} (Debian package qemu-system-data)") from None

    def _port(self, base, device):
        self.io_root.add_subregion(base, MemoryRegion.io(device.name, device))

    def _irq(self, gsi):
        line = IRQLine()
        self.irqs[gsi] = line
        return line

    # ---- running -------------------------------------------------------------
    def start(self):
        """Build the KVM VM and its vCPUs, load the guest, start the vCPU threads."""
        vm = self.vm = Vm(self.kvm)
        vm.map_address_space(self.memory)
        for gsi, line in self.irqs.items():
            line.connect(lambda level, gsi=gsi: vm.irq_line(gsi, level))
        vcpus = [vm.create_vcpu(i) for i in range(self.config.smp)]
        for vcpu in vcpus:
            vcpu.set_cpuid(guest_cpuid(self.supported_cpuid, self.config.cpu_features,
                                       vcpu.index))
            vcpu.set_msrs(boot.reset_msrs())
        if self.bios is None:
            self._boot_kernel(vcpus[0])
        self._ring_doorbells_in_kernel(vm)
        self.threads = VcpuThreads(vcpus, self.ports, self.memory, self.io_lock, self._vcpu_exit)
        self.threads.start()

    def _ring_doorbells_in_kernel(self, vm):
        """A QueueNotify write signals an eventfd in the kernel (no exit to us);
        the main loop hands it to the device."""
        for i, slot in enumerate(self.virtio):
            queues = slot.backend.num_queues if slot.backend is not None else 0
            for queue in range(queues):
                fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
                self._doorbells.append(fd)
                vm.ioeventfd(fd, VIRTIO_BASE + i * MMIO_SIZE + QUEUE_NOTIFY, 4, datamatch=queue)
                self.mainloop.add_reader(fd, functools.partial(self._doorbell, fd, slot, queue))

    @staticmethod
    def _doorbell(fd, slot, queue):
        try:
            os.eventfd_read(fd)         # however many rings since the last look
        except BlockingIOError:
            return
        slot.write(QUEUE_NOTIFY, 4, queue)

    def kernel_cmdline(self):
        """-append plus the virtio-mmio slots in use (QEMU's auto-kernel-cmdline), NUL-terminated."""
        slots = "".join(f" virtio_mmio.device={MMIO_SIZE}@{VIRTIO_BASE + i * MMIO_SIZE:#x}:"
                        f"{VIRTIO_IRQ_BASE + i}"
                        for i, slot in enumerate(self.virtio) if slot.backend is not None)
        return (self.config.append + slots).encode() + b"\0"

    def kick(self):
        """Ask every vCPU thread to stop soon (from any thread, even a vCPU's)."""
        threads = self.threads
        if threads is not None:
            threads.stop()

    def _boot_kernel(self, vcpu):
        """-kernel/-initrd/-append into RAM, and the BSP at the kernel's entry:
        the bzImage boot protocol, or PVH for a vmlinux ELF."""
        # imported here: pyelftools adds 30 ms to every start, -kernel or not
        from ..loader.bzimage import hvm_start_info, load_bzimage, load_pvh_kernel
        from ..loader.elf import is_elf
        cfg = self.config
        kernel = read_file(cfg.kernel, "kernel")
        cmdline = self.kernel_cmdline()
        if len(cmdline) > boot.CMDLINE_MAX:
            raise PyvirtError(f"-append: command line longer than {boot.CMDLINE_MAX} bytes")
        initrd = None
        if cfg.initrd is not None:
            data = read_file(cfg.initrd, "initrd")
            low = min(cfg.ram_size, LOWMEM_LIMIT)
            addr = (low - len(data)) & ~0xFFF
            if addr < 64 * MiB:
                raise PyvirtError(f"-initrd {cfg.initrd}: does not fit in {low // MiB} MiB of RAM "
                                  "beside the kernel")
            self.memory.write_bytes(addr, data)
            initrd = (addr, len(data))
        self.memory.write_bytes(MP_TABLE_ADDR, mp_table(cfg.smp))
        if is_elf(kernel):
            entry = load_pvh_kernel(kernel, cfg.kernel, self.memory)
            self.memory.write_bytes(boot.CMDLINE_ADDR, cmdline)
            self.memory.write_bytes(boot.START_INFO_ADDR, hvm_start_info(
                boot.START_INFO_ADDR, boot.CMDLINE_ADDR, self.e820, initrd))
            boot.pvh_state(vcpu, entry, boot.START_INFO_ADDR)
        else:
            entry = load_bzimage(kernel, cfg.kernel, self.memory,
                                 boot_params_addr=boot.BOOT_PARAMS_ADDR,
                                 cmdline_addr=boot.CMDLINE_ADDR, cmdline=cmdline,
                                 e820=self.e820, initrd=initrd)
            boot.long_mode_tables(self.memory)
            boot.long_mode_state(vcpu, entry, boot.BOOT_PARAMS_ADDR)

    def stop(self):
        """Stop the vCPU threads and drop the VM (idempotent)."""
        if self.threads is not None:
            self.threads.stop()
            self.threads.join()
            for vcpu in self.threads.vcpus:
                vcpu.close()
            self.threads = None
        for fd in self._doorbells:
            self.mainloop.remove_reader(fd)
            os.close(fd)
        self._doorbells = []
        if self.vm is not None:
            for line in self.irqs.values():
                line.connect(None)
            self.vm.close()
            self.vm = None

    def reset(self):
        """Power-on state for RAM and devices; the next ``start`` makes a new VM."""
        self.stop()
        self.ram.clear()
        if self.bios is not None:
            self.bios.load(0, self._bios_image)
        for dev in self.devices:
            dev.reset()
        for line in self.irqs.values():
            line.level = 0

    def _vcpu_exit(self, vcpu, exit_):
        reason = exit_.reason
        if reason == abi.KVM_EXIT_SHUTDOWN:
            self.events.reset()
        elif reason == abi.KVM_EXIT_SYSTEM_EVENT and exit_.detail == abi.KVM_SYSTEM_EVENT_RESET:
            self.events.reset()
        elif reason == abi.KVM_EXIT_SYSTEM_EVENT and exit_.detail == abi.KVM_SYSTEM_EVENT_SHUTDOWN:
            self.events.exit(0)
        else:
            self.events.error(self._describe(vcpu, exit_))

    def _describe(self, vcpu, exit_):
        what = f"KVM exit {exit_.name}" + (f" ({exit_.detail})" if exit_.detail != "" else "")
        try:
            dump = format_registers(vcpu.get_regs(), vcpu.get_sregs())
        except PyvirtError:
            dump = "(registers unavailable)"
        return f"vCPU {vcpu.index}: {what}\n{dump}"


def bios_path(requested, kernel):
    """QEMU's choice of firmware: -bios FILE, none with -bios none, else SeaBIOS (direct
    kernel boot when -kernel is given without -bios)."""
    if requested == "none":
        if kernel is None:
            raise PyvirtError("-bios none: nothing to run without -kernel")
        return None
    if requested is not None:
        return requested
    if kernel is not None:
        return None
    if not os.path.exists(DEFAULT_BIOS):
        raise PyvirtError(f"could not find the default firmware {DEFAULT_BIOS} "
                          "(install Debian's seabios or give -bios)")
    return DEFAULT_BIOS
