"""Integer benchmark: pyvirt (each engine) against qemu-system-riscv64.

Builds bench/intbench/ (CRC32, quicksort, 32x32 matrix multiply, sieve;
``--rounds`` times), runs it bare metal (``-M virt -bios none``) under
each, checks that all print the same checksums, and prints wall time,
start-up time, guest MIPS and peak RSS side by side.

Net time = wall time minus the start-up time, measured on the same program
built with 0 rounds (which prints and powers off).  The instruction count
comes from pyvirt's stats.  The program is deterministic and every round
retires the same instructions, so that count also holds for QEMU; QEMU
runs ``--qemu-scale`` times as many rounds, since the pyvirt-sized run is
over in a few milliseconds, and its MIPS is the scaled count over its net
time.

    .venv/bin/python bench/intbench.py [--rounds N] [--engines interp,python,native]
"""

import argparse
import re
import statistics
import sys

from baremetal import build_intbench
from measure import bare_metal_args, mib, parse_engines, print_table, pyvirt_engines, qemu, run

CHECKSUM = re.compile(rb"^(?:crc32|qsort|matmul|sieve) 0x[0-9a-f]{8}$", re.M)
DEFAULT_ROUNDS = 100     # about 20 s under the pyvirt interpreter on the reference machine
DEFAULT_QEMU_SCALE = 50  # about 2 s under QEMU


def checksums(console: bytes) -> list[bytes]:
    return CHECKSUM.findall(console.replace(b"\r", b""))


def finished(emu, elf, repeat, timeout):
    """The fastest of ``repeat`` runs of ``elf``, each of which must power off cleanly."""
    runs = [run(emu, bare_metal_args(elf), timeout=timeout) for _ in range(repeat)]
    for r in runs:
        if not r.reached:
            raise SystemExit(f"{emu.label}: {elf.name} did not finish (exit {r.returncode}):\n"
                             f"{r.console.decode(errors='replace')}{r.stderr.decode()}")
    return min(runs, key=lambda r: r.seconds)


def startup(emu, probe_elf, repeat):
    """(median start-up seconds, instructions retired by the start-up probe)."""
    runs = [finished(emu, probe_elf, 1, 120) for _ in range(repeat)]
    return statistics.median(r.seconds for r in runs), runs[0].instructions


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                    help=f"benchmark rounds under pyvirt, the size parameter "
                         f"(default {DEFAULT_ROUNDS})")
    ap.add_argument("--qemu-scale", type=int, default=DEFAULT_QEMU_SCALE,
                    help=f"QEMU runs this many times as many rounds (default "
                         f"{DEFAULT_QEMU_SCALE})")
    ap.add_argument("--engines", default="interp,python,native",
                    help="pyvirt engines to run, comma-separated; unknown ones are skipped")
    ap.add_argument("--pyvirt-repeat", type=int, default=1,
                    help="runs per pyvirt engine; the fastest counts (default 1)")
    ap.add_argument("--qemu-repeat", type=int, default=5,
                    help="runs of QEMU; the fastest counts (default 5)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per run (default 900)")
    args = ap.parse_args()
    if args.rounds < 1 or args.qemu_scale < 1:
        ap.error("--rounds and --qemu-scale must be at least 1")

    elf, probe_elf = build_intbench(args.rounds), build_intbench(0)
    qemu_rounds = args.rounds * args.qemu_scale
    qemu_elf = build_intbench(qemu_rounds)
    engines, notes = pyvirt_engines(parse_engines(args.engines), probe_elf)

    # (emulator, rounds, full run, start-up seconds, instructions or None)
    measured = []
    per_round = None
    for emu in engines:
        boot_s, boot_insns = startup(emu, probe_elf, 3)
        full = finished(emu, elf, args.pyvirt_repeat, args.timeout)
        insns = None if None in (full.instructions, boot_insns) else full.instructions - boot_insns
        per_round = per_round or (insns and insns / args.rounds)
        measured.append((emu, args.rounds, full, boot_s, insns))
    q = qemu()
    boot_s, _ = startup(q, probe_elf, args.qemu_repeat)
    same_size = finished(q, elf, 1, args.timeout)
    full = finished(q, qemu_elf, args.qemu_repeat, args.timeout)
    measured.append((q, qemu_rounds, full, boot_s, per_round and per_round * qemu_rounds))

    expected = checksums(same_size.console)

    def mips(full, boot_s, insns):
        net = full.seconds - boot_s
        return insns / net / 1e6 if insns and net > 0 else None

    qemu_mips = mips(*measured[-1][2:])
    rows, ok = [], len(expected) == 4
    for emu, rounds, full, boot_s, insns in measured:
        speed = mips(full, boot_s, insns)
        same = emu is q or checksums(full.console) == expected
        ok &= same
        rows.append([emu.label, str(rounds), f"{full.seconds:.2f}", f"{full.cpu_seconds:.2f}",
                     f"{boot_s:.2f}",
                     f"{full.seconds - boot_s:.2f}", f"{insns / 1e6:.1f}" if insns else "-",
                     f"{speed:.1f}" if speed else "-", mib(full.peak_rss_kib),
                     f"{qemu_mips / speed:.0f}" if speed and qemu_mips else "-",
                     "same" if same else "DIFFERENT"])

    print(f"intbench: {args.rounds} rounds under pyvirt, {qemu_rounds} under QEMU")
    if per_round:
        print(f"instructions a round: {per_round / 1e6:.3f} M (from pyvirt's count)")
    print(f"checksums ({args.rounds} rounds, QEMU): " + ", ".join(c.decode() for c in expected))
    print()
    print_table(["emulator", "rounds", "wall s", "cpu s", "start-up s", "net s", "M insns",
                 "MIPS", "peak RSS MiB", "x slower", "checksums"], rows)
    for note in notes:
        print(f"note: {note}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
