"""Host firmware for the RISC-V virt board, as Debian packages install it.

OpenSBI (M-mode firmware, package ``opensbi``) and U-Boot built for
S-mode on QEMU's virt board (package ``u-boot-qemu``) are used from the
host's Debian installation rather than fetched: ``scripts/setup.sh``
installs both packages.
"""

from dataclasses import dataclass
from pathlib import Path

from pyvirt.errors import PyvirtError


@dataclass(frozen=True)
class HostFirmware:
    path: Path
    package: str  # the Debian package that installs ``path``


_OPENSBI = Path("/usr/lib/riscv64-linux-gnu/opensbi/generic")

HOST_FIRMWARE = {
    # Jumps to the next stage at the address the previous stage passes in a1/a2.
    "fw_dynamic": HostFirmware(_OPENSBI / "fw_dynamic.bin", "opensbi"),
    # Jumps to a fixed next-stage address compiled into the firmware.
    "fw_jump": HostFirmware(_OPENSBI / "fw_jump.bin", "opensbi"),
    "uboot": HostFirmware(Path("/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf"), "u-boot-qemu"),
}


def firmware_path(name: str) -> Path:
    """The path of host firmware ``name`` (a key of HOST_FIRMWARE)."""
    try:
        firmware = HOST_FIRMWARE[name]
    except KeyError:
        known = ", ".join(HOST_FIRMWARE)
        raise PyvirtError(f"unknown firmware {name!r} (known: {known})") from None
    if not firmware.path.is_file():
        raise PyvirtError(
            f"{firmware.path} not found: install the Debian package "
            f"{firmware.package} (apt-get install {firmware.package})"
        )
    return firmware.path
