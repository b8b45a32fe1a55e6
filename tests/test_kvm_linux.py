"""Real x86 guests from Debian under pyvirt-system-x86_64 -accel kvm: SeaBIOS
(bios-microvm.bin), the Debian kernel's first log lines (vmlinux through
its PVH entry) and its bzImage entered through the 64-bit boot protocol.

A full Linux boot is not asserted: on this project's CI host KVM is nested
and guest kernel (CPL0) code is emulated by the host at a few million
instructions per second: the vmlinux takes 30 s to its first line and
about 80 s to the alternatives self-test, whose int3 the host's emulator
cannot execute (KVM internal error, emulation failure); the bzImage
decompressor, which prints nothing, would take about an hour.
"""

import os
import subprocess
import sys
import time

import pytest

from guest_x86.build import kvm_unusable

KVM_REASON = kvm_unusable()
pytestmark = pytest.mark.skipif(KVM_REASON is not None, reason=str(KVM_REASON))

PYVIRT = [sys.executable, "-m", "pyvirt.cli.system_x86_64", "-accel", "kvm", "-M", "microvm",
          "-nodefaults", "-display", "none"]
SEABIOS = "/usr/share/seabios/bios-microvm.bin"


def read_until(proc, markers, timeout):
    """Console bytes up to the point every marker has shown, then stop pyvirt."""
    out = b""
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    try:
        while not all(m in out for m in markers) and time.monotonic() < deadline:
            chunk = proc.stdout.read()
            if chunk:
                out += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err, err.decode()
    return out.decode(errors="replace")


@pytest.mark.skipif(not os.path.exists(SEABIOS), reason="Debian package seabios not installed")
def test_seabios_banner_on_debugcon(tmp_path):
    log = tmp_path / "debugcon.txt"
    proc = subprocess.Popen(PYVIRT + ["-m", "128M", "-debugcon", f"file:{log}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and b"Running on KVM" not in (
            log.read_bytes() if log.exists() else b""):
        time.sleep(0.05)
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err
    text = log.read_text(errors="replace")
    assert text.startswith("SeaBIOS (version "), text
    assert "Running on KVM" in text


def fetched(what):
    from pyvirt.errors import PyvirtError
    from pyvirt.images import x86_kernel
    try:
        return getattr(x86_kernel, what)()
    except PyvirtError as err:
        pytest.skip(f"Debian's x86-64 kernel could not be fetched: {err}")


@pytest.fixture(scope="module")
def vmlinux():
    return fetched("x86_vmlinux")


@pytest.fixture(scope="module")
def bzimage():
    return fetched("x86_kernel")


@pytest.mark.slow
def test_debian_kernel_prints_banner_e820_cmdline_and_cpus(vmlinux, tmp_path):
    """vmlinux through its PVH entry: our e820 map, command line, initrd
    (100 KiB, placed page-aligned at the top of RAM) and MP table (2 CPUs)."""
    initrd = tmp_path / "initrd"
    initrd.write_bytes(bytes(100 << 10))
    append = "console=ttyS0 earlyprintk=ttyS0 noxsave pyvirt.marker=1"
    proc = subprocess.Popen(PYVIRT + ["-m", "256M", "-smp", "2", "-cpu", "host,-cx16,-xsave",
                                      "-serial", "stdio", "-kernel", str(vmlinux),
                                      "-initrd", str(initrd), "-append", append],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    e820 = ["BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable",
            "BIOS-e820: [mem 0x000000000009fc00-0x00000000000fffff] reserved",
            "BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable"]
    markers = [b"Linux version ", f"Command line: {append}".encode(), *(m.encode() for m in e820),
               b"Hypervisor detected: KVM", b"RAMDISK: [mem 0x0ffe7000-0x0fffffff]",
               b"found SMP MP-table at [mem 0x0009fc00-0x0009fc0f]",
               b"smpboot: Allowing 2 CPUs"]
    console = read_until(proc, markers, timeout=120)
    for marker in markers:
        assert marker.decode() in console, console


class Collect:
    """A debugcon back end that keeps what it gets."""

    def __init__(self):
        self.data = bytearray()

    def write(self, data):
        self.data += data


def run_until_uart_programmed(cfg, debugcon=None, timeout=120):
    """Run ``cfg`` in this process until the guest has set COM1 to 9600 baud
    8N1 (divisor 115200/9600 = 12, LCR 0x03), as Linux's boot code does for
    earlyprintk=serial,0x3f8,9600: proof that it read our command line."""
    import threading

    from pyvirt.kvm.system import Kvm
    from pyvirt.kvm.vcpu import install_kick_handler
    from pyvirt.machine.x86_microvm import Events, Microvm

    class Record(Events):
        def reset(self):
            ended.append("the guest reset")

        def exit(self, status):
            ended.append(f"the guest exited ({status})")

        def error(self, message):
            ended.append(message)

    ended = []
    install_kick_handler()
    kvm = Kvm()
    lock = threading.RLock()
    machine = Microvm(cfg, kvm=kvm, serial=None, io_lock=lock, events=Record(),
                      debugcons=[(0x402, debugcon)] if debugcon else ())
    machine.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not ended:
            with lock:
                uart = machine.uart.state
                if (uart.divider, uart.lcr) == (12, 0x03):
                    return
            time.sleep(0.1)
    finally:
        machine.stop()
        kvm.close()
    pytest.fail(ended[0] if ended else f"COM1 not programmed after {timeout} s")


EARLYPRINTK_9600 = "console=ttyS0 earlyprintk=serial,0x3f8,9600"


@pytest.mark.slow
def test_bzimage_boot_protocol_reaches_the_decompressor(bzimage):
    """Entered at its 64-bit entry with our page tables, the decompressor reads
    our command line through boot_params.cmd_line_ptr, long before it could
    print anything here."""
    from pyvirt.machine.x86_microvm import MicrovmConfig
    run_until_uart_programmed(MicrovmConfig(ram_size=256 << 20, kernel=str(bzimage),
                                            append=EARLYPRINTK_9600))


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(SEABIOS), reason="Debian package seabios not installed")
def test_seabios_boots_bzimage_from_fw_cfg(bzimage):
    """SeaBIOS finds fw_cfg (DMA), takes our RAM map from etc/e820 and runs QEMU's
    linuxboot_dma option ROM, which loads -kernel/-append from fw_cfg into
    Linux's real-mode setup code, which then programs the UART as our
    command line says."""
    from pyvirt.machine.x86_microvm import MicrovmConfig
    debugcon = Collect()
    run_until_uart_programmed(MicrovmConfig(ram_size=256 << 20, bios=SEABIOS, kernel=str(bzimage),
                                            append=EARLYPRINTK_9600), debugcon)
    text = debugcon.data.decode(errors="replace")
    for line in ("Found QEMU fw_cfg", "QEMU fw_cfg DMA interface supported",
                 "qemu/e820: addr 0x0000000000000000 len 0x0000000010000000 [RAM]",
                 "Searching bootorder for: /rom@genroms/linuxboot_dma.bin",
                 "Booting from ROM..."):
        assert line in text, text
