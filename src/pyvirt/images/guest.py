"""The default riscv64 guest: Debian's Linux kernel and a busybox initramfs.

The kernel comes from ``linux-image-riscv64`` and busybox from
``busybox-static``, both riscv64 packages of Debian sid (the trixie
riscv64 index failed apt's size check when this was written). The
initramfs is built here around that busybox (see initramfs.py). The
result is cached: once ``images.json`` is written, later calls use the
cached files and touch no network.
"""

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyvirt.errors import PyvirtError
from pyvirt.images.cache import cache_dir, locked
from pyvirt.images.debian import AptRoot, deb_field, extract
from pyvirt.images.initramfs import build_initramfs

ARCH = "riscv64"
SUITE = "sid"
KERNEL_METAPACKAGE = "linux-image-riscv64"
BUSYBOX_PACKAGE = "busybox-static"

# The versioned packages behind the metapackage that can hold the kernel
# file: linux-image-<version>-riscv64, and the linux-binary-<version>-riscv64
# that newer kernel packaging moved the image into.
_KERNEL_PACKAGE = re.compile(r"^linux-(?:image|binary)-\d")
# Older packages put the kernel in /boot, newer ones next to the modules.
_KERNEL_FILES = ("boot/vmlinuz-*", "usr/lib/modules/*/vmlinuz")
_BUSYBOX_FILES = ("usr/bin/busybox", "bin/busybox")

# The RISC-V Linux Image header (Documentation/arch/riscv/boot-image-header.rst)
# carries this magic at offset 0x38; a compressed kernel would not.
_IMAGE_MAGIC2_OFFSET = 0x38
_IMAGE_MAGIC2 = b"RSC\x05"

_MANIFEST = "images.json"


@dataclass(frozen=True)
class GuestImages:
    kernel: Path  # uncompressed RISC-V Linux Image (with its EFI stub header)
    initrd: Path  # gzip-compressed newc initramfs
    busybox: Path  # static riscv64 busybox, also usable under a user-mode emulator
    versions: dict[str, str]  # Debian package name -> version used


def guest_dir() -> Path:
    """Where the default guest's files are cached."""
    return cache_dir() / f"debian-{SUITE}-{ARCH}"


def fetch_guest_images() -> GuestImages:
    """The default guest's images, fetched and built on first use."""
    root = guest_dir()
    with locked(root):
        return _cached(root) or _fetch(root)


def kernel_packages(apt: AptRoot) -> list[str]:
    """The versioned packages that carry the kernel, found by following
    the dependencies of the ``linux-image-riscv64`` metapackage."""
    found: list[str] = []
    pending = [KERNEL_METAPACKAGE]
    while pending:
        for dependency in apt.depends(pending.pop()):
            if _KERNEL_PACKAGE.match(dependency) and dependency not in found:
                found.append(dependency)
                pending.append(dependency)
    if not found:
        raise PyvirtError(f"{KERNEL_METAPACKAGE} depends on no linux-image or linux-binary package")
    return found


def check_riscv_image(kernel: bytes) -> None:
    """Refuse anything but an uncompressed RISC-V Linux Image."""
    magic = kernel[_IMAGE_MAGIC2_OFFSET:_IMAGE_MAGIC2_OFFSET + len(_IMAGE_MAGIC2)]
    if magic != _IMAGE_MAGIC2:
        raise PyvirtError("the Debian kernel is not an uncompressed RISC-V Image "
                          f"(magic {magic!r} at {_IMAGE_MAGIC2_OFFSET:#x})")


def _paths(root: Path, versions: dict[str, str]) -> GuestImages:
    return GuestImages(root / "Image", root / "initrd.cpio.gz", root / "busybox", versions)


def _cached(root: Path) -> GuestImages | None:
    try:
        versions = json.loads((root / _MANIFEST).read_text())["versions"]
    except (OSError, ValueError, KeyError):
        return None
    images = _paths(root, versions)
    if all(path.is_file() for path in (images.kernel, images.initrd, images.busybox)):
        return images
    return None


def _find_one(tree: Path, patterns: tuple[str, ...], what: str) -> Path:
    matches = [path for pattern in patterns for path in tree.glob(pattern)]
    if len(matches) != 1:
        raise PyvirtError(f"expected one {what} in the Debian packages, found {len(matches)}")
    return matches[0]


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``path`` whole or not at all, so an interrupted fetch leaves no half file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.chmod(mode)
    os.replace(partial, path)


def _fetch(root: Path) -> GuestImages:
    # Until the new files are all in place the cache holds no complete guest.
    (root / _MANIFEST).unlink(missing_ok=True)
    versions = {}
    # apt's package lists go stale, so they are not worth keeping: the
    # whole apt state lives in the scratch directory with the packages.
    with tempfile.TemporaryDirectory(dir=root) as scratch:
        apt = AptRoot(Path(scratch) / "apt", ARCH, SUITE)
        apt.prepare()
        apt.update()
        tree = Path(scratch) / "tree"
        for package in [*kernel_packages(apt), BUSYBOX_PACKAGE]:
            deb = apt.download(package, Path(scratch) / "debs")
            versions[package] = deb_field(deb, "Version")
            extract(deb, tree)
        kernel = _find_one(tree, _KERNEL_FILES, "kernel image").read_bytes()
        busybox = _find_one(tree, _BUSYBOX_FILES, "busybox binary").read_bytes()
    check_riscv_image(kernel)
    images = _paths(root, versions)
    _write(images.kernel, kernel)
    _write(images.busybox, busybox, 0o755)
    _write(images.initrd, build_initramfs(busybox))
    # Written last: its presence means the files above are complete.
    _write(root / _MANIFEST, json.dumps({"versions": versions}, indent=2).encode())
    return images
