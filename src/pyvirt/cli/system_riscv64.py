"""pyvirt-system-riscv64: full-system emulation of a RISC-V machine.

The front end: parse QEMU's command line, build the board, start the
main-loop thread, run the vCPUs until the guest powers off or the user
quits, and turn every user mistake into one line on stderr and exit 1.
"""

import resource
import signal
import sys
import threading
import time

from ..chardev import MuxChardev, chardev_from_spec
from ..core.clock import VirtualClock
from ..core.log import Log
from ..core.mainloop import MainLoop
from ..errors import PyvirtError
from ..hw.misc import sifive_test
from ..machine.riscv_virt import RiscvVirt, VirtConfig
from ..target.riscv.disas import Disassembler
from ..tcg.engines import DEFAULT_ENGINE, ENGINES
from ..tcg.rr import RoundRobin
from .frontend import device_options, run_front_end, select_machine

PROG = "pyvirt-system-riscv64"
MiB = 1 << 20
DEFAULT_RAM = 128 * MiB

ACCEPTED = ("machine", "cpu", "accel", "smp", "m", "name", "bios", "kernel", "initrd", "append",
            "dtb", "device", "serial", "nographic", "display", "nodefaults", "no-reboot", "S",
            "d", "D", "icount")
MACHINES = {"virt": "RISC-V VirtIO board"}
DEVICES = {"loader": "Generic Loader"}
CPUS = ("rv64",)


def _config(opts):
    _, machine = select_machine(opts, MACHINES, "virt")
    dumpdtb = machine.pop("dumpdtb", None)
    if machine:
        raise PyvirtError(f"-machine: property '{next(iter(machine))}' not found")
    if opts.cpu == "help":
        print("Available CPUs:\n  " + "\n  ".join(CPUS))
        raise SystemExit(0)
    if opts.cpu not in (None, *CPUS, "max"):
        raise PyvirtError(f"unable to find CPU model '{opts.cpu}'")
    for accel in opts.accels:
        accel = dict(accel)
        name = accel.pop("accel", "tcg")
        if name != "tcg":
            raise PyvirtError(f"-accel {name}: only the tcg accelerator can run riscv64 "
                              f"guests on this host")
        engine = accel.pop("engine", DEFAULT_ENGINE)
        if engine not in ENGINES:
            raise PyvirtError(f"-accel tcg,engine={engine}: unknown engine "
                              f"(available: {', '.join(ENGINES)})")
        tb_size = accel.pop("tb-size", None)
        if tb_size is not None and not (tb_size.isdigit() and int(tb_size) > 0):
            raise PyvirtError(f"-accel tcg,tb-size={tb_size}: expected a size in MiB")
        if accel:
            raise PyvirtError(f"-accel tcg: property '{next(iter(accel))}' not found")
    loaders = []
    for _, dev in device_options(opts, DEVICES):
        loaders.append(dev)
    for option in ("append", "initrd"):
        if getattr(opts, option) is not None and opts.kernel is None:
            raise PyvirtError(f"-{option} only allowed with -kernel option")
    bios = opts.bios
    if bios is None or bios == "default":
        from ..images.firmware import firmware_path
        bios = str(firmware_path("fw_dynamic"))
    elif bios == "none":
        bios = None
    smp = (opts.smp or {}).get("cpus", 1)
    ram = (opts.memory or {}).get("size", DEFAULT_RAM)
    cfg = VirtConfig(ram_size=ram, smp=smp, bios=bios, kernel=opts.kernel, initrd=opts.initrd,
                     append=opts.append, dtb=opts.dtb, loaders=loaders)
    return cfg, dumpdtb


def _icount(opts):
    """(shift, sleep) of the instruction-counting clock.

    Unlike QEMU, counting is the default (shift 0: 1 ns per instruction):
    an interpreter running a few MIPS cannot keep up with a guest's timer
    tick in host time, so a Linux guest would never finish booting.
    """
    spec = dict(opts.icount or {})
    shift = spec.pop("shift", "0")
    sleep = spec.pop("sleep", "on")
    if spec:
        raise PyvirtError(f"-icount: property '{next(iter(spec))}' not supported")
    if shift == "auto" or not str(shift).isdigit() or int(shift) > 10:
        raise PyvirtError(f"-icount shift={shift}: give a number of ns per instruction "
                          f"as a power of two, 0 to 10 ('auto' is not supported)")
    if sleep not in ("on", "off"):
        raise PyvirtError(f"-icount sleep={sleep}: expected on or off")
    return int(shift), sleep == "on"


def _serial_spec(opts):
    if opts.serials:
        if len(opts.serials) > 1:
            raise PyvirtError("the virt machine has one serial port; give -serial once")
        return opts.serials[0]
    return "mon:stdio"


class Session:
    """One run of the emulator: the pieces and how it ends."""

    def __init__(self, opts):
        self.opts = opts
        self.exit_status = 0
        self.reset_requested = False
        self.cfg, self.dumpdtb = _config(opts)
        self.log = Log(opts.log_items or (), opts.log_file)
        shift, self.icount_sleep = _icount(opts)
        self.clock = VirtualClock(icount_shift=shift)
        self.lock = threading.RLock()
        self.mainloop = MainLoop(self.clock, self.lock)
        spec = _serial_spec(opts)
        self.chardev = chardev_from_spec(spec, self.mainloop, label="serial0",
                                         on_quit=self.quit) if spec != "none" else \
            chardev_from_spec("null", self.mainloop)
        serial = self.chardev.new_frontend() if isinstance(self.chardev, MuxChardev) else self.chardev
        self.machine = RiscvVirt(self.cfg, clock=self.clock, serial=serial, io_lock=self.lock,
                                 log=self.log, shutdown=self.on_finisher)
        self.rr = None
        self.executed = 0
        self.vcpu_seconds = 0.0     # CPU time of the vCPU loop (this thread)

    def quit(self):
        if self.rr:
            self.rr.stop()

    def on_finisher(self, kind, code):
        if kind == sifive_test.RESET and not self.opts.no_reboot:
            self.reset_requested = True
        else:
            self.exit_status = code if kind == sifive_test.FAIL else 0
        self.rr.stop()

    def run(self):
        m = self.machine
        m.boot()
        if self.dumpdtb:
            try:
                with open(self.dumpdtb, "wb") as f:
                    f.write(m.fdt)
            except OSError as err:
                raise PyvirtError(f"-machine dumpdtb={self.dumpdtb}: {err.strerror}") from None
            return 0
        disas = Disassembler() if self.log.enabled("in_asm") else None
        engine = next((a.get("engine", DEFAULT_ENGINE) for a in self.opts.accels), DEFAULT_ENGINE)
        # tb-size bounds the code buffer of the native engine (the python
        # engine's cache is bounded by its block count).
        tb_size = next((a["tb-size"] for a in self.opts.accels if "tb-size" in a), None)
        extra = {"tb_size": int(tb_size)} if tb_size and engine == "native" else {}
        engines = [ENGINES[engine](h, self.log, disas, **extra) for h in m.harts]
        self.rr = self._vcpu_loop(engines)
        self.mainloop.start_thread()
        signal.signal(signal.SIGTERM, lambda *_: self.rr.stop())
        running = not self.opts.start_paused
        while True:
            started = time.thread_time()
            self.rr.run(running)
            self.vcpu_seconds += time.thread_time() - started
            self.executed += self.rr.executed
            if not self.reset_requested:
                break
            self.reset_requested = False
            with self.lock:
                m.reset()
            self.rr = self._vcpu_loop(engines)
        return self.exit_status

    def _vcpu_loop(self, engines):
        return RoundRobin(engines, self.clock, self.lock, icount_sleep=self.icount_sleep)

    def close(self):
        self.mainloop.quit()
        self.chardev.close()
        self.log.close()


def _print_stats(session, started):
    """PYVIRT_STATS=1: the guest instruction count and speed, for bench/."""
    seconds = time.monotonic() - started
    executed = session.executed
    vcpu = session.vcpu_seconds
    print(f"pyvirt-stats: instructions={executed} seconds={seconds:.3f} "
          f"vcpu_seconds={vcpu:.3f} mips={executed / vcpu / 1e6 if vcpu else 0:.3f} "
          f"maxrss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)


def main(argv=None):
    return run_front_end(PROG, ACCEPTED, Session, _print_stats, argv)


if __name__ == "__main__":
    sys.exit(main())
