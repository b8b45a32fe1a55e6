"""A KVM virtual machine: memory slots, in-kernel interrupt controllers and
PIT, interrupt lines, eventfds, the dirty log, and its vCPUs."""

import ctypes
import mmap
import os

from . import abi
from .system import ioctl
from .vcpu import Vcpu

#: Where the kernel wants its three private pages on Intel (below the BIOS, as QEMU).
TSS_ADDR = 0xFEFFD000
IDENTITY_MAP_ADDR = 0xFEFFC000


class Vm:
    """One virtual machine: memory slots, interrupt controllers, eventfds."""

    def __init__(self, kvm):
        self.kvm = kvm
        self.fd = ioctl(kvm.fd, abi.KVM_CREATE_VM, 0, "KVM_CREATE_VM")
        self._slots = []
        ioctl(self.fd, abi.KVM_SET_TSS_ADDR, TSS_ADDR, "KVM_SET_TSS_ADDR")
        ioctl(self.fd, abi.KVM_SET_IDENTITY_MAP_ADDR, ctypes.c_uint64(IDENTITY_MAP_ADDR),
              "KVM_SET_IDENTITY_MAP_ADDR")
        ioctl(self.fd, abi.KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP")
        pit = abi.PitConfig(flags=abi.KVM_PIT_SPEAKER_DUMMY)
        ioctl(self.fd, abi.KVM_CREATE_PIT2, pit, "KVM_CREATE_PIT2")
        self._irq = abi.IrqLevel()

    # -- memory -------------------------------------------------------------
    def map_memory(self, guest_addr, size, host_addr, *, readonly=False, log_dirty=False):
        """Back [guest_addr, guest_addr+size) with host memory; returns the slot number."""
        slot = len(self._slots)
        flags = (abi.KVM_MEM_READONLY if readonly else 0) | \
                (abi.KVM_MEM_LOG_DIRTY_PAGES if log_dirty else 0)
        region = abi.UserspaceMemoryRegion(slot=slot, flags=flags, guest_phys_addr=guest_addr,
                                           memory_size=size, userspace_addr=host_addr)
        ioctl(self.fd, abi.KVM_SET_USER_MEMORY_REGION, region,
              f"KVM_SET_USER_MEMORY_REGION {guest_addr:#x}+{size:#x}")
        self._slots.append(region)
        return slot

    def map_address_space(self, address_space):
        """One slot per RAM or ROM range of the flattened memory map (QEMU's kvm memory listener)."""
        for r in address_space.ranges:
            if r.is_ram:
                reg = r.region
                self.map_memory(r.start, r.end - r.start,
                                reg.ram.host_addr + reg.ram_offset + r.offset,
                                readonly=reg.kind == "rom")

    def dirty_log(self, slot):
        """Pages of ``slot`` written since the last call (needs log_dirty), as a bitmap."""
        pages = (self._slots[slot].memory_size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
        bitmap = (ctypes.c_uint64 * ((pages + 63) // 64))()
        log = abi.DirtyLog(slot=slot, dirty_bitmap=ctypes.addressof(bitmap))
        ioctl(self.fd, abi.KVM_GET_DIRTY_LOG, log, "KVM_GET_DIRTY_LOG")
        return bytes(bitmap)

    # -- interrupts and doorbells ---------------------------------------------
    def irq_line(self, gsi, level):
        """Drive an input of the in-kernel PIC/IOAPIC (ISA IRQs are GSIs 0-15)."""
        self._irq.irq = gsi
        self._irq.level = level
        ioctl(self.fd, abi.KVM_IRQ_LINE, self._irq, "KVM_IRQ_LINE")

    def irqfd(self, fd, gsi):
        """Writing to eventfd ``fd`` injects an edge on ``gsi`` without leaving the kernel."""
        ioctl(self.fd, abi.KVM_IRQFD, abi.IrqFd(fd=fd, gsi=gsi), "KVM_IRQFD")

    def ioeventfd(self, fd, addr, length, *, pio=False, datamatch=None):
        """A guest write to ``addr`` signals eventfd ``fd`` instead of exiting to us."""
        flags = (abi.KVM_IOEVENTFD_FLAG_PIO if pio else 0) | \
                (abi.KVM_IOEVENTFD_FLAG_DATAMATCH if datamatch is not None else 0)
        req = abi.IoEventFd(datamatch=datamatch or 0, addr=addr, len=length, fd=fd, flags=flags)
        ioctl(self.fd, abi.KVM_IOEVENTFD, req, f"KVM_IOEVENTFD {addr:#x}")

    def create_vcpu(self, index):
        return Vcpu(self, index)

    def close(self):
        os.close(self.fd)
