"""What a virtio device (blk, net, console, rng...) offers its transport.

A transport (virtio-mmio here, virtio-pci later) owns the registers the
driver programs: feature negotiation, status, queue addresses, interrupt
status.  The device behind it supplies what is device-specific, through
this interface, and calls back into the transport (``self.transport``)
with ``queue_layout(index)`` to find a ready queue's rings,
``notify_queue(index)`` after putting buffers in a used ring and
``notify_config()`` after changing its configuration space.
"""

#: Offered by every modern device: the driver must accept it.
VIRTIO_F_VERSION_1 = 1 << 32

# Device status bits, written by the driver as it brings the device up.
STATUS_ACKNOWLEDGE = 0x01
STATUS_DRIVER = 0x02
STATUS_DRIVER_OK = 0x04
STATUS_FEATURES_OK = 0x08
STATUS_DEVICE_NEEDS_RESET = 0x40
STATUS_FAILED = 0x80


class VirtioDevice:
    #: The virtio device ID (1 net, 2 block, 3 console, 4 entropy...).
    device_id = 0
    num_queues = 0
    #: Largest queue size the device supports (a power of two).
    queue_max_size = 256
    #: Device-specific feature bits offered (the transport adds VERSION_1).
    features = 0

    def __init__(self):
        self.transport = None

    def read_config(self, offset: int, size: int) -> int:
        """Read from the device-specific configuration space."""
        return 0

    def write_config(self, offset: int, size: int, value: int) -> None:
        """Write to the device-specific configuration space."""

    def set_features(self, features: int) -> None:
        """The driver accepted ``features`` (status FEATURES_OK)."""

    def driver_ok(self) -> None:
        """The driver finished setting up: queues may be used from now on."""

    def queue_notify(self, index: int) -> None:
        """The driver made buffers available in queue ``index``."""

    def reset(self) -> None:
        """The driver reset the device (status 0)."""
