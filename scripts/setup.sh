#!/usr/bin/env bash
# Prepare a Debian 12 machine for pyvirt: Debian packages (the reference
# QEMU, the riscv64 toolchain, host firmware, what pylibfdt needs to
# build), a virtualenv at .venv with pyvirt installed editable, and the
# default riscv64 guest images (fetched into the cache, not the tree).
#
# Idempotent: each step is skipped when already done, so a second run
# needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
    # The oracles: QEMU run side by side with pyvirt.
    qemu-user qemu-system-misc qemu-utils
    gcc-riscv64-linux-gnu gdb-multiarch device-tree-compiler
    # C++ test programs for pyvirt-riscv64 (tests/user/*.cpp).
    g++-riscv64-linux-gnu
    # Host firmware for the riscv virt board.
    opensbi u-boot-qemu
    # The x86-64 KVM oracle and firmware (bios-microvm.bin) for pyvirt-system-x86_64.
    qemu-system-x86 seabios
    # Building pylibfdt and creating the venv (for /usr/bin/python3).
    gcc swig python3-dev python3-venv
    # Fetching guest images: apt verifies sid's signatures with this keyring;
    # the tests check our initramfs with cpio(1).
    debian-archive-keyring cpio
)
# The interpreter Debian's python3-dev and python3-venv belong to.
PYTHON=${PYTHON:-/usr/bin/python3}
VENV=.venv

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_debian_packages() {
    local missing=() package
    for package in "${DEBIAN_PACKAGES[@]}"; do
        if [ "$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null)" != installed ]; then
            missing+=("$package")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return
    fi
    echo "setup: installing ${missing[*]}" >&2
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

install_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "setup: creating $VENV" >&2
        "$PYTHON" -m venv "$VENV"
    fi
    # Reinstall only when the project's metadata changed since the last install.
    local stamp="$VENV/pyvirt-setup.stamp" wanted
    wanted=$(sha256sum pyproject.toml)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return
    fi
    echo "setup: installing pyvirt into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e '.[test]'
    echo "$wanted" > "$stamp"
}

install_debian_packages
install_venv
"$VENV/bin/python" -m pyvirt.images fetch
