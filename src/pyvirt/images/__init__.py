"""Guest images: host firmware from Debian packages, and the default
riscv64 guest (kernel + busybox initramfs) fetched from Debian's archive
and cached outside the source tree."""

from pathlib import Path

from pyvirt.errors import PyvirtError
from pyvirt.images.cache import cache_dir
from pyvirt.images.firmware import HOST_FIRMWARE, firmware_path
from pyvirt.images.guest import GuestImages, fetch_guest_images
from pyvirt.images.initramfs import READY_MARKER

GUEST_IMAGES = ("kernel", "initrd", "busybox")
IMAGE_NAMES = (*GUEST_IMAGES, *HOST_FIRMWARE)


def image_path(name: str) -> Path:
    """The path of a guest image or host firmware, by name (one of IMAGE_NAMES).

    Guest images are fetched on first use.
    """
    if name in HOST_FIRMWARE:
        return firmware_path(name)
    if name in GUEST_IMAGES:
        return getattr(fetch_guest_images(), name)
    raise PyvirtError(f"unknown image {name!r} (known: {', '.join(IMAGE_NAMES)})")


__all__ = [
    "GUEST_IMAGES", "IMAGE_NAMES", "READY_MARKER", "GuestImages", "cache_dir",
    "fetch_guest_images", "firmware_path", "image_path",
]
