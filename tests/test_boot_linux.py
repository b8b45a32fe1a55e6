"""Debian's Linux kernel boots the busybox initramfs to a shell on ttyS0.

The default firmware (OpenSBI fw_dynamic) starts the kernel, which finds
the 16550 UART, the PLIC, the CLINT timer and the initramfs from the device
tree the board wrote.  At the shell we check the machine the kernel sees
(uname, /proc/cpuinfo: every hart, and the ISA), do arithmetic in the
shell, and ``poweroff -f`` (SBI system reset -> sifive_test) ends the
emulator with status 0.  The real QEMU runs the same session as the oracle.
"""

from __future__ import annotations

import os
import re

import pytest

from guestbuild import ENGINE_RUNNERS
from helpers_console import Console, emulator_argv, unavailable

LINUX_BOOT = os.environ.get("PYVIRT_LINUX_BOOT", "1") == "1"

_PYVIRT_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(not LINUX_BOOT, reason="PYVIRT_LINUX_BOOT=0: the pyvirt boots "
                       "(minutes each without the native engine) were not asked for")]
# Every engine boots one hart; two harts run under the default engine (the
# round-robin loop and IPIs are engine-independent) and under QEMU.
CASES = [
    *(pytest.param(runner, 1, marks=_PYVIRT_MARKS) for runner in ENGINE_RUNNERS),
    pytest.param("pyvirt", 2, marks=_PYVIRT_MARKS),
    ("qemu", 1), ("qemu", 2),
]

# The kernel's crypto self-tests are half of the boot's guest instructions
# (about 360 M of 700 M); a shell does not need them.
APPEND = "console=ttyS0 cryptomgr.notests"

# Seconds to the shell, and for each command at it.
PYVIRT_TIMEOUTS = (float(os.environ.get("PYVIRT_LINUX_TIMEOUT", 3600)), 600)
QEMU_TIMEOUTS = (180, 60)


@pytest.fixture(scope="module")
def images():
    from pyvirt.errors import PyvirtError
    from pyvirt.images import fetch_guest_images
    try:
        return fetch_guest_images()
    except PyvirtError as err:
        pytest.skip(f"guest images not available: {err}")


def line(text: str) -> re.Pattern:
    """``text`` as a whole line of console output (the tty ends lines with CR LF)."""
    return re.compile(rf"^{re.escape(text)}\r?$", re.MULTILINE)


@pytest.mark.parametrize("binary, harts", CASES)
def test_linux_shell(binary, harts, images):
    from pyvirt.images import READY_MARKER

    reason = unavailable(binary)
    if reason:
        pytest.skip(reason)
    boot, command = QEMU_TIMEOUTS if binary == "qemu" else PYVIRT_TIMEOUTS
    argv = emulator_argv(binary, "-M", "virt", "-m", "512M", "-smp", str(harts), "-nographic",
                         "-kernel", str(images.kernel), "-initrd", str(images.initrd),
                         "-append", APPEND)
    with Console(argv) as console:
        console.expect(r"Linux version \d", boot)
        console.expect(READY_MARKER, boot)
        console.expect(r"# ", command)

        console.sendline("uname -m")
        console.expect(line("riscv64"), command)

        console.sendline("cat /proc/cpuinfo; echo cpuinfo-end")
        cpuinfo = console.expect(re.compile(r"(.*)^cpuinfo-end\r?$", re.MULTILINE | re.DOTALL),
                                 command)[1]
        processors = [int(n) for n in re.findall(r"(?m)^processor\s*: (\d+)", cpuinfo)]
        assert processors == list(range(harts)), cpuinfo
        harts_seen = sorted(int(n) for n in re.findall(r"(?m)^hart\s*: (\d+)", cpuinfo))
        assert harts_seen == list(range(harts)), cpuinfo
        assert re.search(r"(?m)^isa\s*: rv64imafdc", cpuinfo), cpuinfo

        console.sendline("echo $((6*7))")
        console.expect(line("42"), command)

        console.sendline("poweroff -f")
        assert console.wait(command) == 0
