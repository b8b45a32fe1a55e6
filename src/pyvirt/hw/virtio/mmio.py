"""A virtio-mmio transport slot (register layout version 2, virtio 1.x).

The virt board lays out eight of these at 0x10001000.  A slot with no
device plugged reads DeviceID 0, which drivers take as "nothing here",
as QEMU's empty slots do.  A device backend (``VirtioDevice``) plugs in
behind the registers; the transport keeps feature negotiation, status,
queue addresses and the interrupt status, and raises its IRQ line when a
queue or the configuration needs the driver's attention.
"""

import dataclasses

from pyvirt.core.device import Device
from pyvirt.hw import guest_error
from pyvirt.hw.virtio.device import (STATUS_DRIVER_OK, STATUS_FEATURES_OK,
                                     VIRTIO_F_VERSION_1)

MAGIC_VALUE = 0x000
VERSION = 0x004
DEVICE_ID = 0x008
VENDOR_ID = 0x00C
DEVICE_FEATURES = 0x010
DEVICE_FEATURES_SEL = 0x014
DRIVER_FEATURES = 0x020
DRIVER_FEATURES_SEL = 0x024
QUEUE_SEL = 0x030
QUEUE_NUM_MAX = 0x034
QUEUE_NUM = 0x038
QUEUE_READY = 0x044
QUEUE_NOTIFY = 0x050
INTERRUPT_STATUS = 0x060
INTERRUPT_ACK = 0x064
STATUS = 0x070
QUEUE_DESC_LOW = 0x080
QUEUE_DESC_HIGH = 0x084
QUEUE_DRIVER_LOW = 0x090
QUEUE_DRIVER_HIGH = 0x094
QUEUE_DEVICE_LOW = 0x0A0
QUEUE_DEVICE_HIGH = 0x0A4
SHM_SEL = 0x0AC
SHM_LEN_LOW = 0x0B0
SHM_LEN_HIGH = 0x0B4
SHM_BASE_LOW = 0x0B8
SHM_BASE_HIGH = 0x0BC
CONFIG_GENERATION = 0x0FC
CONFIG = 0x100

MAGIC = 0x74726976          # "virt"
MMIO_VERSION = 2
VENDOR = 0x554D4551         # "QEMU"

INT_VRING = 0x1             # a used ring was updated
INT_CONFIG = 0x2            # the configuration space changed

MMIO_SIZE = 0x200

#: The queue address registers: offset -> (state list, shift).
_QUEUE_ADDRESS_REGS = {
    QUEUE_DESC_LOW: ("queue_desc", 0), QUEUE_DESC_HIGH: ("queue_desc", 32),
    QUEUE_DRIVER_LOW: ("queue_driver", 0), QUEUE_DRIVER_HIGH: ("queue_driver", 32),
    QUEUE_DEVICE_LOW: ("queue_device", 0), QUEUE_DEVICE_HIGH: ("queue_device", 32),
}


@dataclasses.dataclass
class VirtqueueLayout:
    """Where a ready queue's three rings live in guest memory."""
    size: int
    desc: int
    driver: int     # the available ring
    device: int     # the used ring


@dataclasses.dataclass
class VirtioMMIOState:
    device_features_sel: int = 0
    driver_features_sel: int = 0
    driver_features: int = 0
    queue_sel: int = 0
    status: int = 0
    interrupt_status: int = 0
    config_generation: int = 0
    # Per queue:
    queue_num: list = dataclasses.field(default_factory=list)
    queue_ready: list = dataclasses.field(default_factory=list)
    queue_desc: list = dataclasses.field(default_factory=list)
    queue_driver: list = dataclasses.field(default_factory=list)
    queue_device: list = dataclasses.field(default_factory=list)


class VirtioMMIO(Device):
    name = "virtio-mmio"
    size = MMIO_SIZE

    def __init__(self, irq, backend=None):
        self.irq = irq
        self.backend = backend
        if backend is not None:
            backend.transport = self
        self.reset()

    @property
    def _num_queues(self) -> int:
        return self.backend.num_queues if self.backend is not None else 0

    def reset(self) -> None:
        n = self._num_queues
        self.state = VirtioMMIOState(queue_num=[0] * n, queue_ready=[0] * n,
                                     queue_desc=[0] * n, queue_driver=[0] * n,
                                     queue_device=[0] * n)
        if self.backend is not None:
            self.backend.reset()
        self._update_irq()

    def set_state(self, data: dict) -> None:
        super().set_state(data)
        self._update_irq()

    # -- for the device backend ---------------------------------------

    def queue_layout(self, index: int):
        """The rings of queue ``index`` if the driver made it ready, else None."""
        s = self.state
        if index >= self._num_queues or not s.queue_ready[index]:
            return None
        return VirtqueueLayout(s.queue_num[index], s.queue_desc[index],
                               s.queue_driver[index], s.queue_device[index])

    def notify_queue(self, index: int) -> None:
        """Tell the driver a used ring has new entries."""
        self.state.interrupt_status |= INT_VRING
        self._update_irq()

    def notify_config(self) -> None:
        """Tell the driver the configuration space changed."""
        self.state.config_generation += 1
        self.state.interrupt_status |= INT_CONFIG
        self._update_irq()

    # -- register access ----------------------------------------------

    def _offered_features(self) -> int:
        return self.backend.features | VIRTIO_F_VERSION_1

    def read(self, offset: int, size: int) -> int:
        if offset >= CONFIG:
            if self.backend is None:
                return 0
            return self.backend.read_config(offset - CONFIG, size)
        if size != 4:
            guest_error(self.name, "%d-byte register read at %#x", size, offset)
            return 0
        if offset == MAGIC_VALUE:
            return MAGIC
        if offset == VERSION:
            return MMIO_VERSION
        if offset == VENDOR_ID:
            return VENDOR
        if self.backend is None:
            return 0        # DeviceID 0: an empty slot
        s = self.state
        q = s.queue_sel
        if offset == DEVICE_ID:
            return self.backend.device_id
        if offset == DEVICE_FEATURES:
            sel = s.device_features_sel
            return (self._offered_features() >> (32 * sel)) & 0xFFFFFFFF if sel < 2 else 0
        if offset == QUEUE_NUM_MAX:
            return self.backend.queue_max_size if q < self._num_queues else 0
        if offset == QUEUE_READY:
            return s.queue_ready[q] if q < self._num_queues else 0
        if offset in _QUEUE_ADDRESS_REGS:
            field, shift = _QUEUE_ADDRESS_REGS[offset]
            return (getattr(s, field)[q] >> shift) & 0xFFFFFFFF if q < self._num_queues else 0
        if offset == INTERRUPT_STATUS:
            return s.interrupt_status
        if offset == STATUS:
            return s.status
        if offset in (SHM_LEN_LOW, SHM_LEN_HIGH):
            return 0xFFFFFFFF     # length -1: no shared memory region
        if offset == CONFIG_GENERATION:
            return s.config_generation
        guest_error(self.name, "read of write-only or unknown register %#x", offset)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if self.backend is None:
            return
        if offset >= CONFIG:
            self.backend.write_config(offset - CONFIG, size, value)
            return
        if size != 4:
            guest_error(self.name, "%d-byte register write at %#x", size, offset)
            return
        s = self.state
        q = s.queue_sel
        queue_exists = q < self._num_queues
        if offset == DEVICE_FEATURES_SEL:
            s.device_features_sel = value
        elif offset == DRIVER_FEATURES_SEL:
            s.driver_features_sel = value
        elif offset == DRIVER_FEATURES:
            if s.driver_features_sel < 2:
                shift = 32 * s.driver_features_sel
                s.driver_features = ((s.driver_features & ~(0xFFFFFFFF << shift))
                                     | (value << shift))
        elif offset == QUEUE_SEL:
            s.queue_sel = value
        elif offset == QUEUE_NUM and queue_exists:
            s.queue_num[q] = value
        elif offset == QUEUE_READY and queue_exists:
            s.queue_ready[q] = value & 1
        elif offset in _QUEUE_ADDRESS_REGS and queue_exists:
            field, shift = _QUEUE_ADDRESS_REGS[offset]
            regs = getattr(s, field)
            regs[q] = (regs[q] & ~(0xFFFFFFFF << shift)) | (value << shift)
        elif offset == QUEUE_NOTIFY:
            if value < self._num_queues:
                self.backend.queue_notify(value)
        elif offset == INTERRUPT_ACK:
            s.interrupt_status &= ~value
            self._update_irq()
        elif offset == STATUS:
            self._write_status(value & 0xFF)
        elif offset == SHM_SEL:
            pass    # no shared memory regions to select
        else:
            guest_error(self.name, "write of %#x to register %#x", value, offset)

    def _write_status(self, value: int) -> None:
        s = self.state
        if value == 0:
            self.reset()
            return
        newly = value & ~s.status
        if newly & STATUS_FEATURES_OK:
            accepted = s.driver_features
            if accepted & ~self._offered_features() or not accepted & VIRTIO_F_VERSION_1:
                # Refuse: the driver sees FEATURES_OK did not stick.
                guest_error(self.name, "driver accepted unusable features %#x", accepted)
                value &= ~STATUS_FEATURES_OK
            else:
                self.backend.set_features(accepted)
        s.status = value
        if newly & STATUS_DRIVER_OK:
            self.backend.driver_ok()

    def _update_irq(self) -> None:
        self.irq.set(self.state.interrupt_status != 0)
