"""virtio-mmio transport: empty slots and the driver's bring-up sequence."""

import pytest

from pyvirt.core.irq import IRQLine
from pyvirt.hw.virtio import device as vd
from pyvirt.hw.virtio import mmio as m
from pyvirt.hw.virtio.mmio import VirtioMMIO


class Entropy(vd.VirtioDevice):
    """A backend shaped like virtio-rng: one queue, no config space."""

    device_id = 4
    num_queues = 1
    queue_max_size = 64

    def __init__(self):
        super().__init__()
        self.events = []

    def set_features(self, features):
        self.events.append(("features", features))

    def driver_ok(self):
        self.events.append(("driver_ok",))

    def queue_notify(self, index):
        self.events.append(("notify", index))

    def reset(self):
        self.events.append(("reset",))


def test_empty_slot_reads_as_no_device():
    dev = VirtioMMIO(IRQLine())
    assert dev.read(m.MAGIC_VALUE, 4) == 0x74726976
    assert dev.read(m.VERSION, 4) == 2
    assert dev.read(m.DEVICE_ID, 4) == 0
    assert dev.read(m.VENDOR_ID, 4) == 0x554D4551
    dev.write(m.STATUS, 4, 1)
    assert dev.read(m.STATUS, 4) == 0
    assert dev.read(m.CONFIG, 4) == 0


@pytest.fixture
def rng():
    irq = IRQLine()
    backend = Entropy()
    return VirtioMMIO(irq, backend), backend, irq


def bring_up(dev, features):
    dev.write(m.STATUS, 4, 0)
    dev.write(m.STATUS, 4, vd.STATUS_ACKNOWLEDGE)
    dev.write(m.STATUS, 4, vd.STATUS_ACKNOWLEDGE | vd.STATUS_DRIVER)
    for sel in (0, 1):
        dev.write(m.DRIVER_FEATURES_SEL, 4, sel)
        dev.write(m.DRIVER_FEATURES, 4, (features >> (32 * sel)) & 0xFFFFFFFF)
    status = vd.STATUS_ACKNOWLEDGE | vd.STATUS_DRIVER | vd.STATUS_FEATURES_OK
    dev.write(m.STATUS, 4, status)
    return dev.read(m.STATUS, 4) & vd.STATUS_FEATURES_OK


def test_linux_bring_up_sequence(rng):
    dev, backend, irq = rng
    assert dev.read(m.DEVICE_ID, 4) == 4
    dev.write(m.DEVICE_FEATURES_SEL, 4, 1)
    assert dev.read(m.DEVICE_FEATURES, 4) == 1          # VIRTIO_F_VERSION_1
    assert bring_up(dev, vd.VIRTIO_F_VERSION_1)
    assert ("features", vd.VIRTIO_F_VERSION_1) in backend.events
    dev.write(m.QUEUE_SEL, 4, 0)
    assert dev.read(m.QUEUE_READY, 4) == 0
    assert dev.read(m.QUEUE_NUM_MAX, 4) == 64
    dev.write(m.QUEUE_NUM, 4, 64)
    dev.write(m.QUEUE_DESC_LOW, 4, 0x8000_1000)
    dev.write(m.QUEUE_DESC_HIGH, 4, 0x1)
    dev.write(m.QUEUE_DRIVER_LOW, 4, 0x8000_2000)
    dev.write(m.QUEUE_DEVICE_LOW, 4, 0x8000_3000)
    assert dev.queue_layout(0) is None
    dev.write(m.QUEUE_READY, 4, 1)
    assert dev.queue_layout(0) == m.VirtqueueLayout(64, 0x1_8000_1000, 0x8000_2000,
                                                    0x8000_3000)
    dev.write(m.QUEUE_SEL, 4, 1)
    assert dev.read(m.QUEUE_NUM_MAX, 4) == 0           # no second queue
    dev.write(m.STATUS, 4, dev.read(m.STATUS, 4) | vd.STATUS_DRIVER_OK)
    dev.write(m.QUEUE_NOTIFY, 4, 0)
    assert backend.events[-2:] == [("driver_ok",), ("notify", 0)]
    # The device uses a buffer: interrupt until the driver acknowledges.
    dev.notify_queue(0)
    assert irq.level == 1 and dev.read(m.INTERRUPT_STATUS, 4) == m.INT_VRING
    dev.write(m.INTERRUPT_ACK, 4, m.INT_VRING)
    assert irq.level == 0


def test_features_without_version_1_are_refused(rng):
    dev, _, _ = rng
    assert not bring_up(dev, 0)


def test_config_change_bumps_generation(rng):
    dev, _, irq = rng
    generation = dev.read(m.CONFIG_GENERATION, 4)
    dev.notify_config()
    assert dev.read(m.CONFIG_GENERATION, 4) == generation + 1
    assert dev.read(m.INTERRUPT_STATUS, 4) == m.INT_CONFIG and irq.level == 1


def test_status_zero_resets_transport_and_device(rng):
    dev, backend, irq = rng
    bring_up(dev, vd.VIRTIO_F_VERSION_1)
    dev.write(m.QUEUE_READY, 4, 1)
    dev.notify_queue(0)
    dev.write(m.STATUS, 4, 0)
    assert dev.read(m.STATUS, 4) == 0 and dev.read(m.QUEUE_READY, 4) == 0
    assert irq.level == 0 and backend.events[-1] == ("reset",)


def test_no_shared_memory_regions(rng):
    dev, _, _ = rng
    assert dev.read(m.SHM_LEN_LOW, 4) == dev.read(m.SHM_LEN_HIGH, 4) == 0xFFFFFFFF
