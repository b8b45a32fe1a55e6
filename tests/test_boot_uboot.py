"""Debian's OpenSBI and U-Boot boot to U-Boot's prompt on the virt board.

OpenSBI runs in M-mode and starts U-Boot (the qemu-riscv64_smode build)
in S-mode; U-Boot finds the console from the device tree.  At the prompt
we type commands and power off through OpenSBI's SBI reset call, which
lands on sifive_test: the emulator exits 0.  The real QEMU runs the same
session as the oracle.
"""

from __future__ import annotations

import pytest

from guestbuild import ENGINE_RUNNERS
from helpers_console import Console, emulator_argv, unavailable

# The oracle's run takes half a second; only pyvirt's are slow.
BINARIES = [*(pytest.param(runner, marks=pytest.mark.slow) for runner in ENGINE_RUNNERS), "qemu"]
BOOT_TIMEOUT = 300     # s, to the autoboot countdown: ~10 s in pyvirt today
COMMAND_TIMEOUT = 60   # s, for each command at the prompt
PROMPT = r"=> $"


def firmware(name: str) -> str:
    from pyvirt.errors import PyvirtError
    from pyvirt.images import image_path
    try:
        return str(image_path(name))
    except PyvirtError as err:
        pytest.skip(str(err))


@pytest.mark.parametrize("binary", BINARIES)
@pytest.mark.parametrize("bios, harts", [("fw_jump", 1), ("fw_jump", 2), ("fw_dynamic", 1)])
def test_uboot_prompt_commands_and_poweroff(binary, bios, harts):
    reason = unavailable(binary)
    if reason:
        pytest.skip(reason)
    argv = emulator_argv(binary, "-M", "virt", "-smp", str(harts), "-nographic",
                         "-bios", firmware(bios), "-kernel", firmware("uboot"))
    with Console(argv) as console:
        console.expect(r"OpenSBI v\d", BOOT_TIMEOUT)
        console.expect(rf"Platform HART Count\s+: {harts}\b", COMMAND_TIMEOUT)
        console.expect(r"DRAM:\s+128 MiB", BOOT_TIMEOUT)
        # Any key stops the countdown (booting on would try the network).
        console.expect("Hit any key to stop autoboot", BOOT_TIMEOUT)
        console.send(" ")
        console.expect(PROMPT, COMMAND_TIMEOUT)

        console.sendline("version")
        console.expect(r"U-Boot 20\d\d\.\d\d", COMMAND_TIMEOUT)
        console.expect(PROMPT, COMMAND_TIMEOUT)

        console.sendline("coninfo")
        console.expect(r"serial@10000000\s+\w+\s+IO stdin stdout stderr", COMMAND_TIMEOUT)
        console.expect(PROMPT, COMMAND_TIMEOUT)

        console.sendline("poweroff")
        assert console.wait(COMMAND_TIMEOUT) == 0
