"""Every TCG engine in lockstep with the interpreter over the start of the
Linux boot (OpenSBI, the kernel's early boot, its page tables, traps and
timer interrupts), and the checker itself: it must catch a divergence and
show both states.
"""

import subprocess
import sys

import pytest

from pyvirt.machine.riscv_virt import VirtConfig
from pyvirt.tcg.engines import ENGINES
from pyvirt.cli.lockstep import REFERENCE, Board, Divergence, lockstep

MiB = 1 << 20
#: Instructions of the Linux boot run in lockstep (OpenSBI is the first
#: ~1.5 M; the kernel has set up paging and takes timer ticks by 20 M).
LINUX_INSNS = 20_000_000
ENGINES_UNDER_TEST = [e for e in ENGINES if e != REFERENCE]


@pytest.fixture(scope="module")
def linux_config():
    from pyvirt.errors import PyvirtError
    from pyvirt.images import fetch_guest_images
    from pyvirt.images.firmware import firmware_path
    try:
        images = fetch_guest_images()
        bios = firmware_path("fw_dynamic")
    except PyvirtError as err:
        pytest.skip(f"guest images not available: {err}")
    return VirtConfig(ram_size=256 * MiB, bios=str(bios), kernel=str(images.kernel),
                      initrd=str(images.initrd), append="console=ttyS0 cryptomgr.notests")


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES_UNDER_TEST)
def test_linux_boot_in_lockstep(engine, linux_config):
    ref, dut = Board(ENGINES[REFERENCE], linux_config), Board(ENGINES[engine], linux_config)
    blocks, executed = lockstep(ref, dut, LINUX_INSNS, until=Board.stuck, check_ram_every=8192)
    assert executed >= LINUX_INSNS
    assert blocks > LINUX_INSNS // 100
    # Our harts offer Sv48, which Debian's kernel picks over Sv39.
    assert dut.hart.state.satp >> 60 in (8, 9), "the kernel should run with paging on by now"


class _Corrupting:
    """An engine that is the interpreter, but flips a bit of a5 after a while."""
    name = "broken"

    def __init__(self, hart):
        self.inner = ENGINES[REFERENCE](hart)
        self.hart = hart
        self.calls = 0

    def run(self, budget):
        self.calls += 1
        if self.calls == 5000:
            self.hart.words[15] ^= 1 << 7
        return self.inner.run(budget)


def test_checker_reports_first_divergence_with_both_states(linux_config):
    ref, dut = Board(ENGINES[REFERENCE], linux_config), Board(_Corrupting, linux_config)
    with pytest.raises(Divergence) as caught:
        lockstep(ref, dut, 1_000_000)
    message = str(caught.value)
    assert "state diverged after the block at" in message
    assert "x[15]" in message and "interp=" in message and "broken=" in message


def test_command_line_checker(tmp_path):
    engine = ENGINES_UNDER_TEST[0]
    result = subprocess.run([sys.executable, "-m", "pyvirt.cli.lockstep", "--engine", engine,
                             "-n", "200000", "--", "-kernel", str(tmp_path / "missing")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("lockstep: ") and "missing" in result.stderr
    assert "Traceback" not in result.stderr
