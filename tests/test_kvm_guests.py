"""x86 guests in assembly (tests/guest_x86) under pyvirt-system-x86_64 -accel kvm,
each compared with qemu-system-x86_64 -accel kvm running the same image."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from guest_x86.build import build, kvm_unusable, toolchain_missing

PYVIRT = [sys.executable, "-m", "pyvirt.cli.system_x86_64"]
QEMU = "qemu-system-x86_64"
# QEMU's -debugcon does not reach the microvm's ISA bus; the device form works in both.
COMMON = ["-accel", "kvm", "-M", "microvm", "-m", "64M", "-nodefaults", "-display", "none",
          "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


KVM_REASON = kvm_unusable()
pytestmark = pytest.mark.skipif(KVM_REASON is not None, reason=str(KVM_REASON))


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    reason = toolchain_missing()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("guest_x86")
    return lambda name: build(name, out)


def run(emulator, image, tmp_path, *extra, stdin_after=None, timeout=60):
    """(exit status, serial output, debugcon output, seconds) of one run."""
    if emulator == "qemu" and shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} not installed (Debian package qemu-system-x86)")
    debugcon = tmp_path / f"debugcon-{emulator}.txt"
    argv = ([QEMU] if emulator == "qemu" else PYVIRT) + COMMON + [
        "-chardev", f"file,id=dc,path={debugcon}", "-device", "isa-debugcon,iobase=0x402,chardev=dc",
        *extra, "-bios", str(image)]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = b""
    if stdin_after is not None:
        wait_for, send = stdin_after
        while wait_for not in out:
            chunk = proc.stdout.read1(4096)
            assert chunk, f"no {wait_for!r} from the guest: {out!r}"
            out += chunk
        proc.stdin.write(send)
        proc.stdin.flush()
    rest, err = proc.communicate(timeout=timeout)
    seconds = time.monotonic() - started
    assert b"Traceback" not in err, err.decode()
    return proc.returncode, (out + rest).decode(), debugcon.read_text(), seconds


def both(images, name, tmp_path, *extra, **kw):
    image = images(name)
    return run("pyvirt", image, tmp_path, *extra, **kw), run("qemu", image, tmp_path, *extra, **kw)


def test_debugcon_serial_and_mmio_match_qemu(images, tmp_path):
    ours, qemu = both(images, "hello", tmp_path)
    assert ours[:3] == qemu[:3]
    status, serial, debugcon, _ = ours
    assert (status, debugcon) == ((0x10 << 1) | 1, "hello debugcon\n")
    # virtio-mmio slot 0: magic "virt", no device, vendor "QEMU", status 0
    assert serial == "hello serial\n74726976 00000000 554d4551 00000000 \n"


def test_uart_interrupt_through_ioapic(images, tmp_path):
    ours, qemu = both(images, "irq", tmp_path, stdin_after=(b"ready\n", b"X"))
    assert ours[:3] == qemu[:3] == ((0x12 << 1) | 1, "ready\ngot X\n", "")


def test_two_vcpus_report_their_apic_ids(images, tmp_path):
    ours, qemu = both(images, "smp", tmp_path, "-smp", "2")
    assert ours[:3] == qemu[:3] == ((0x20 << 1) | 1, "cpu 00000000\ncpu 00000001\n", "")


def test_user_mode_loop_runs_at_native_speed(images, tmp_path):
    """3 x 10^8 iterations: emulated (as CPL0 code is on some nested hosts)
    at a few million instructions per second this would take minutes."""
    ours, qemu = both(images, "user", tmp_path)
    assert ours[:3] == qemu[:3] == ((0x30 << 1) | 1, f"sum {sum(range(300000001)):016x}\n", "")
    assert ours[3] < 10, f"took {ours[3]:.1f} s (QEMU: {qemu[3]:.1f} s)"


def test_i8042_reset_and_triple_fault_reboot(images, tmp_path):
    """QEMU's microvm has no i8042, so no oracle: CMOS RAM counts the boots."""
    status, serial, _, _ = run("pyvirt", images("reboot"), tmp_path)
    assert (status, serial) == ((0x40 << 1) | 1, "boot 1\nboot 2\nboot 3\n")
    status, serial, _, _ = run("pyvirt", images("reboot"), tmp_path, "-no-reboot")
    assert (status, serial) == (0, "boot 1\n")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare(1) to hide /dev/kvm")
def test_unusable_kvm_is_one_clear_line(images):
    """/dev/null bind-mounted over /dev/kvm in a private mount namespace."""
    cmd = ("mount --bind /dev/null /dev/kvm && exec " + " ".join(PYVIRT + COMMON)
           + f" -bios {images('hello')}")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", cmd], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("pyvirt-system-x86_64: -accel kvm: KVM is not available "
                                  "on this host: /dev/kvm is not a KVM device"), proc.stderr


def test_internal_error_is_a_register_dump(images):
    """Executing from MMIO: KVM reports an emulation failure, pyvirt dumps
    the vCPU's registers and exits 1.  (QEMU prints "KVM internal error" and keeps the VM paused.)"""
    proc = subprocess.run(PYVIRT + COMMON + ["-bios", str(images("mmio_exec"))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("pyvirt-system-x86_64: vCPU 0: KVM exit INTERNAL_ERROR "
                                  "(emulation failure)\nRAX=00000000feb00000 "), proc.stderr
    assert "\nRIP=00000000feb00000 " in proc.stderr and "\nCR0=e0000011 " in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("how", ["ctrl-a x", "SIGTERM", "SIGINT"])
def test_quit_while_vcpu_sleeps(images, how):
    """The irq guest sleeps in hlt (inside KVM_RUN) waiting for input."""
    argv = PYVIRT + [a if a != "stdio" else "mon:stdio" for a in COMMON] + ["-bios", str(images("irq"))]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = b""
    while b"ready\n" not in out:
        chunk = proc.stdout.read1(4096)
        assert chunk, out
        out += chunk
    if how == "ctrl-a x":
        proc.stdin.write(b"\x01x")
        proc.stdin.flush()
    else:
        proc.send_signal(getattr(signal, how))
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err
    if how == "ctrl-a x":
        assert b"QEMU: Terminated" in rest
    if how == "SIGINT":
        assert err == b"pyvirt-system-x86_64: terminating on signal 2\n"


def test_virtio_doorbell_reaches_the_device_without_exits(images):
    """An ioeventfd on QueueNotify: the guest's 1000 rings reach the device
    model through the main loop, while the vCPU exits to us only to quit."""
    import threading

    from pyvirt.core.clock import VirtualClock
    from pyvirt.core.mainloop import MainLoop
    from pyvirt.hw.virtio.device import VirtioDevice
    from pyvirt.kvm.system import Kvm
    from pyvirt.kvm.vcpu import install_kick_handler
    from pyvirt.machine.x86_microvm import Events, Microvm, MicrovmConfig

    class OneQueue(VirtioDevice):
        device_id, num_queues = 4, 1

        def __init__(self):
            super().__init__()
            self.notified = []

        def queue_notify(self, index):
            self.notified.append(index)

    class Done(Events):
        def exit(self, status):
            statuses.append(status)
            machine.kick()

    statuses = []
    install_kick_handler()
    lock = threading.RLock()
    mainloop = MainLoop(VirtualClock(), lock)
    mainloop.start_thread()
    backend = OneQueue()
    kvm = Kvm()
    cfg = MicrovmConfig(ram_size=64 << 20, bios=str(images("doorbell")), debug_exit=(0xF4, 4),
                        virtio=(backend,), append="console=ttyS0")
    machine = Microvm(cfg, kvm=kvm, serial=None, io_lock=lock, events=Done(), mainloop=mainloop)
    assert machine.kernel_cmdline() == b"console=ttyS0 virtio_mmio.device=512@0xfeb00000:5\0"
    machine.start()
    vcpu = machine.threads.vcpus[0]
    try:
        deadline = time.monotonic() + 30
        while not (statuses and backend.notified) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        machine.stop()
        mainloop.quit()
        kvm.close()
    assert statuses == [(0x50 << 1) | 1]
    assert vcpu.exits < 10, f"{vcpu.exits} exits for 1000 doorbell writes"
    assert backend.notified and set(backend.notified) == {0}
