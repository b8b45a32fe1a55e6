"""pyvirt-system-x86_64: an x86-64 virtual machine under KVM.

QEMU as the user-space half of KVM: guest RAM is memory of this process,
each vCPU is a thread sitting in KVM_RUN, and port or MMIO accesses come
back here to the device models of ``hw/``.  Only ``-accel kvm`` and the
``microvm`` machine exist.
"""

import signal
import sys
import threading

from ..chardev import MuxChardev, chardev_from_spec
from ..chardev.spec import chardev_from_options
from ..core.clock import VirtualClock
from ..core.log import Log
from ..core.mainloop import MainLoop
from ..errors import PyvirtError
from ..hw.misc.isa_debug_exit import DEFAULT_IOBASE, DEFAULT_IOSIZE
from ..kvm.system import Kvm
from ..kvm.vcpu import install_kick_handler
from ..machine.x86_microvm import DEBUGCON_PORT, Events, Microvm, MicrovmConfig, bios_path
from ..target.x86.cpuid import MODELS as CPU_MODELS, parse_cpu
from .frontend import device_options, run_front_end, select_machine

PROG = "pyvirt-system-x86_64"
MiB = 1 << 20
DEFAULT_RAM = 128 * MiB

ACCEPTED = ("machine", "cpu", "accel", "smp", "m", "name", "bios", "kernel", "initrd", "append",
            "device", "chardev", "serial", "debugcon", "nographic", "display", "nodefaults", "no-reboot",
            "d", "D")
MACHINES = {"microvm": "microvm (i386)"}
DEVICES = {"isa-debug-exit": "bus ISA", "isa-debugcon": "bus ISA"}
DEBUGCON_DEFAULT_IOBASE = 0xE9      # isa-debugcon's own default; -debugcon uses 0x402


def _number(driver, dev, key, default):
    text = dev.pop(key, None)
    if text is None:
        return default
    try:
        return int(text, 0)
    except ValueError:
        raise PyvirtError(f"-device {driver}: {key}={text}: expected a number") from None


def _config(opts):
    _, machine = select_machine(opts, MACHINES, "microvm")
    if machine:
        raise PyvirtError(f"-machine: property '{next(iter(machine))}' not supported")
    for accel in opts.accels:
        accel = dict(accel)
        name = accel.pop("accel")
        if name != "kvm":
            raise PyvirtError(f"-accel {name}: pyvirt runs x86-64 guests only with -accel kvm")
        if accel:
            raise PyvirtError(f"-accel kvm: property '{next(iter(accel))}' not supported")
    if opts.cpu == "help":
        print("Available CPUs:\n  " + "\n  ".join(CPU_MODELS))
        raise SystemExit(0)
    debug_exit = None
    debugcons = []      # (iobase, chardev id) of -device isa-debugcon
    for driver, dev in device_options(opts, DEVICES):
        if driver == "isa-debug-exit":
            debug_exit = (_number(driver, dev, "iobase", DEFAULT_IOBASE),
                          _number(driver, dev, "iosize", DEFAULT_IOSIZE))
        else:
            debugcons.append((_number(driver, dev, "iobase", DEBUGCON_DEFAULT_IOBASE),
                              dev.pop("chardev", None)))
        if dev:
            raise PyvirtError(f"-device {driver}: property '{next(iter(dev))}' not found")
    for option in ("append", "initrd"):
        if getattr(opts, option) is not None and opts.kernel is None:
            raise PyvirtError(f"-{option} only allowed with -kernel option")
    smp = (opts.smp or {}).get("cpus", 1)
    ram = (opts.memory or {}).get("size", DEFAULT_RAM)
    cfg = MicrovmConfig(ram_size=ram, smp=smp, bios=bios_path(opts.bios, opts.kernel),
                        kernel=opts.kernel, initrd=opts.initrd, append=opts.append or "",
                        cpu_features=parse_cpu(opts.cpu), debug_exit=debug_exit)
    return cfg, debugcons


def _serial_spec(opts):
    if opts.serials:
        if len(opts.serials) > 1:
            raise PyvirtError("the microvm machine has one serial port; give -serial once")
        return opts.serials[0]
    return "none" if opts.nodefaults else "mon:stdio"


def _option_text(props):
    """A parsed key=value list back as option text (the chardev layer parses its own)."""
    return ",".join(f"{key}={str(value).replace(',', ',,')}" for key, value in props.items())


class Session(Events):
    """One run of the VM: the pieces, the vCPU threads, and how it ends."""

    def __init__(self, opts):
        self.opts = opts
        cfg, debugcons = _config(opts)
        self.kvm = Kvm()
        self.status = 0
        self.failure = None
        self.reset_requested = False
        self.done = threading.Event()
        self._finish_lock = threading.Lock()
        self.log = Log(opts.log_items or (), opts.log_file)
        self.clock = VirtualClock()
        self.lock = threading.RLock()
        self.mainloop = MainLoop(self.clock, self.lock)
        self.chardevs = []
        serial = self._chardev(_serial_spec(opts), "serial0")
        named = dict(chardev_from_options(_option_text(chardev), self.mainloop,
                                          on_quit=lambda: self.exit(0))
                     for chardev in opts.chardevs)
        self.chardevs += [(None, backend) for backend in named.values()]
        debugcons = [(port, self._named(named, chardev_id)) for port, chardev_id in debugcons]
        if opts.debugcon:
            debugcons.append((DEBUGCON_PORT, self._chardev(opts.debugcon, "debugcon")))
        self.machine = Microvm(cfg, kvm=self.kvm, serial=serial, debugcons=debugcons,
                               io_lock=self.lock, events=self, mainloop=self.mainloop)

    @staticmethod
    def _named(named, chardev_id):
        if chardev_id not in named:
            raise PyvirtError(f"-device isa-debugcon: chardev '{chardev_id}' not found")
        return named[chardev_id]

    def _chardev(self, spec, label):
        """A front end for ``spec``; ``stdio`` twice shares one mux."""
        for existing_spec, backend in self.chardevs:
            if isinstance(backend, MuxChardev) and spec in ("stdio", "mon:stdio") \
                    and existing_spec in ("stdio", "mon:stdio"):
                return backend.new_frontend()
        backend = chardev_from_spec(spec, self.mainloop, label=label, on_quit=lambda: self.exit(0))
        if backend is None:
            return None
        self.chardevs.append((spec, backend))
        return backend.new_frontend() if isinstance(backend, MuxChardev) else backend

    # -- Events (called from vCPU and main-loop threads) --------------------------
    # The first event decides how the run ends: the vCPUs are kicked at once,
    # and what a guest does after writing isa-debug-exit (say, fault) is moot.
    def _finish(self, *, status=0, reset=False, failure=None):
        with self._finish_lock:
            if self.done.is_set():
                return
            self.status, self.reset_requested, self.failure = status, reset, failure
            self.done.set()
        self.machine.kick()

    def reset(self):
        if self.opts.no_reboot:
            self._finish()
        else:
            self._finish(reset=True)

    def exit(self, status):
        self._finish(status=status)

    def error(self, message):
        self._finish(failure=message)

    # -- running -----------------------------------------------------------------
    def run(self):
        install_kick_handler()
        signal.signal(signal.SIGTERM, lambda *_: self.exit(0))
        self.mainloop.start_thread()
        while True:
            self.machine.start()
            while not self.done.wait(1.0):
                pass
            self.machine.stop()     # joins vCPU threads, which take the lock
            if not self.reset_requested:
                break
            with self.lock:
                self.machine.reset()
            self.done.clear()
        if self.failure is not None:
            raise PyvirtError(self.failure)
        return self.status

    def close(self):
        self.machine.stop()
        self.mainloop.quit()
        for _, backend in self.chardevs:
            backend.close()
        self.log.close()
        self.kvm.close()


def main(argv=None):
    return run_front_end(PROG, ACCEPTED, Session, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
