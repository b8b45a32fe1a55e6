#!/usr/bin/env bash
# Set up (see setup.sh), then boot the default guest on pyvirt's riscv virt
# board: Debian's kernel and a busybox initramfs, console on this terminal.
# Extra arguments go to pyvirt-system-riscv64 (e.g. -d guest_errors).
# cryptomgr.notests skips the kernel crypto self-tests, half of the boot.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
images() { .venv/bin/python -m pyvirt.images path "$1"; }
exec .venv/bin/pyvirt-system-riscv64 -M virt -m 512M -nographic \
    -kernel "$(images kernel)" -initrd "$(images initrd)" \
    -append "console=ttyS0 cryptomgr.notests" "$@"
