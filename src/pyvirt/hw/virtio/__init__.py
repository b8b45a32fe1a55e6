"""Virtio: transports (virtio-mmio) and the device backends they carry."""
