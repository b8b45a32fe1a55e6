"""Lockstep checker: run a TCG engine against the reference interpreter.

A front end (it builds machines, which sit above the accelerators).

Two ``virt`` machines are built from the same images, one run by the
engine under test and one by ``interp``.  The engine runs one block at a
time; the interpreter is then stepped to the same retired-instruction
count, and the whole architectural state (x, f, pc, privilege, CSRs, PMP,
reservation) must be equal.  RAM is compared every so often (and whenever
a window is asked for).  Time on both machines is the retired-instruction
count, so both see the same timer values and interrupts, and device
accesses take the engines' exact-count path.

The first divergence is reported with both states, field by field::

    .venv/bin/python -m pyvirt.cli.lockstep --engine native -n 20000000 \\
        -- -bios default -kernel Image -initrd initrd.img -append console=ttyS0
"""

import argparse
import ctypes
import sys
import threading

from ..chardev import chardev_from_spec
from ..core.clock import VirtualClock
from ..core.mainloop import MainLoop
from ..errors import PyvirtError
from ..machine.riscv_virt import DRAM_BASE, RiscvVirt, VirtConfig
from ..target.riscv.state import PC, X0_SINK, RiscvState, word_index
from ..tcg.engines import ENGINES
from .options import parse_args
from .system_riscv64 import ACCEPTED, _config

MiB = 1 << 20
#: The machines' clock: 8 ns per instruction.
ICOUNT_SHIFT = 3
MINSTRET = word_index("minstret")
REFERENCE = "interp"


class Divergence(AssertionError):
    """The engine and the reference disagree; the message shows both."""


class Board:
    """One virt machine with one hart and one engine, driven by hand.

    ``engine`` is a class or factory called with the hart.  The serial
    output goes to ``serial`` (a chardev spec, "null" by default).
    """

    def __init__(self, engine, config=None, serial="null"):
        self.clock = VirtualClock(icount_shift=ICOUNT_SHIFT)
        self.finished = None
        lock = threading.RLock()
        chardev = chardev_from_spec(serial, MainLoop(self.clock, lock))
        self.machine = RiscvVirt(config or VirtConfig(ram_size=16 * MiB),
                                 clock=self.clock, serial=chardev, io_lock=lock,
                                 shutdown=self._shutdown)
        self.machine.boot()
        self.hart = self.machine.harts[0]
        self.clock.icount_source = lambda: self.hart.state.minstret
        self.engine = engine(self.hart)
        self.name = getattr(engine, "name", None) or getattr(engine, "__name__", "engine")

    def _shutdown(self, kind, code):
        self.finished = (kind, code)

    @property
    def words(self):
        return self.hart.words

    def state(self):
        w = self.hart.words.tolist()
        w[X0_SINK] = 0          # scratch for writes to x0, not architectural
        return w

    def ram(self, lo=0, hi=None):
        return bytes(self.machine.ram.view[lo:hi])


    def stuck(self):
        """In wfi with nothing that could wake it."""
        st = self.hart.state
        return self.hart.waiting and not (st.mip & st.mie)


def _field_names():
    """The name of each 64-bit word of the state, for divergence reports."""
    names = []
    for name, ctype in RiscvState._fields_:
        n = max(1, ctypes.sizeof(ctype) // 8)
        names += [f"{name}[{i}]" for i in range(n)] if n > 1 else [name]
    return names


FIELD_NAMES = _field_names()


def describe_divergence(ref, dut, what):
    a, b = ref.state(), dut.state()
    lines = [f"state diverged {what}:"]
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            lines.append(f"  {FIELD_NAMES[i]:<12} {ref.name}={x:#018x} {dut.name}={y:#018x}")
    lines.append(f"  {ref.name} pc={a[PC]:#x}  {dut.name} pc={b[PC]:#x}")
    return "\n".join(lines)


_memcmp = ctypes.CDLL(None).memcmp
_memcmp.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


def ram_divergence(ref, dut):
    # memcmp: comparing memoryviews of a few hundred MiB takes seconds.
    ra, rb = ref.machine.ram, dut.machine.ram
    if ra.size == rb.size and _memcmp(ra.host_addr, rb.host_addr, ra.size) == 0:
        return None
    a, b = ref.ram(), dut.ram()
    pages = [p for p in range(0, len(a), 4096) if a[p:p + 4096] != b[p:p + 4096]]
    return "RAM differs in pages at " + ", ".join(f"{DRAM_BASE + p:#x}" for p in pages[:8])


def _check(ok, message):
    """Raise Divergence with ``message`` (text, or a function making it) unless ``ok``."""
    if not ok:
        raise Divergence(message() if callable(message) else message)


def lockstep(ref, dut, max_insns, until=None, check_ram_every=512, ram_window=None, budget=1):
    """Run ``dut`` block by block and ``ref`` to the same point; raise
    ``Divergence`` on the first difference.  Stops at the finisher,
    ``until(dut)``, or after about ``max_insns``; returns (blocks, instructions).
    ``budget``: instructions the engine may run per step (above 1, loops
    inside a block go round more than once before they are compared).

    The reference first runs as many instructions as the engine retired
    (less one), then is stepped one instruction (or trap) at a time until
    its state equals the engine's, or it is at the same instruction count
    and pc, where a difference is a divergence.  Both take the EXIT_IO
    path at device accesses, so a device's interrupt is seen right after
    the access that raised it.
    """
    blocks = 0
    executed = 0
    while dut.finished is None and executed < max_insns and not (until and until(dut)):
        before = dut.words[PC]
        n = dut.engine.run(budget)
        executed += n
        want = dut.state()
        # The reference retires at most its budget, so this never overshoots;
        # the steps below take it the rest of the way (traps retire nothing).
        # At most n: the guest may have written minstret.
        behind = min(want[MINSTRET] - ref.words[MINSTRET], n)
        if behind > 1:
            ref.engine.run(behind - 1)
        for _ in range(2 * n + 4):         # a counter read takes two steps (retry)
            have = ref.state()
            if have == want or (have[MINSTRET] == want[MINSTRET] and have[PC] == want[PC]):
                break
            ref.engine.run(1)
        what = f"after the block at {before:#x} ({executed} instructions in)"
        _check(ref.state() == want, lambda: describe_divergence(ref, dut, what))
        _check(ref.hart.waiting == dut.hart.waiting, f"wfi state differs {what}")
        blocks += 1
        if ram_window is not None:
            _check(ref.ram(*ram_window) == dut.ram(*ram_window), f"RAM differs {what}")
        if blocks % check_ram_every == 0:
            diff = ram_divergence(ref, dut)
            _check(diff is None, f"{diff} {what}")
        _advance_time(ref, dut)
    _check(ref.finished == dut.finished,
           f"{ref.name} finished {ref.finished}, {dut.name} finished {dut.finished}")
    diff = ram_divergence(ref, dut)
    _check(diff is None, diff)
    return blocks, executed


def _advance_time(ref, dut):
    """Fire due timers on both; when both wait in wfi, skip to the next deadline."""
    for b in (ref, dut):
        b.clock.run_expired()
    if dut.stuck():
        deadline = dut.clock.next_deadline()
        if deadline is None:
            return
        for b in (ref, dut):
            b.clock.add_idle(deadline - b.clock.now_ns())
            b.clock.run_expired()
    for b in (ref, dut):
        if b.hart.state.mip & b.hart.state.mie:
            b.hart.waiting = False


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m pyvirt.cli.lockstep",
                                 description="Run an engine in lockstep with interp on a virt "
                                             "machine; report the first divergence.")
    ap.add_argument("--engine", required=True, choices=[e for e in ENGINES if e != REFERENCE])
    ap.add_argument("-n", "--instructions", type=int, default=10_000_000)
    ap.add_argument("--ram-every", type=int, default=4096,
                    help="compare RAM every this many blocks (default 4096)")
    ap.add_argument("machine", nargs=argparse.REMAINDER,
                    help="-- then pyvirt-system-riscv64 options (-bios, -kernel, -m...)")
    args = ap.parse_args(argv)
    machine_args = args.machine[1:] if args.machine[:1] == ["--"] else args.machine
    try:
        config, _ = _config(parse_args(machine_args, prog="lockstep", accept=ACCEPTED))
        ref = Board(ENGINES[REFERENCE], config)
        dut = Board(ENGINES[args.engine], config)
        blocks, executed = lockstep(ref, dut, args.instructions, until=Board.stuck,
                                    check_ram_every=args.ram_every)
    except PyvirtError as err:
        print(f"lockstep: {err}", file=sys.stderr)
        return 1
    except Divergence as err:
        print(f"lockstep: {err}", file=sys.stderr)
        return 2
    print(f"lockstep: {args.engine} agrees with {REFERENCE} over {executed} instructions "
          f"({blocks} blocks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
