"""Boot-time benchmark: pyvirt (each engine) against qemu-system-riscv64.

Two stages, on the same images for every emulator:

  uboot  Debian's OpenSBI fw_jump.bin, then U-Boot (S-mode); a key is typed
         at "Hit any key to stop autoboot", and the clock stops at the
         U-Boot prompt.
  linux  Debian's OpenSBI fw_dynamic.bin, then Debian's kernel with the
         busybox initramfs (-m 512M -append console=ttyS0); the clock stops
         when /init prints its ready marker.

Wall time runs from spawning the emulator to the marker reaching us; then
the emulator gets SIGTERM.  For pyvirt the table also shows the guest
instructions it retired and its MIPS, from the stats line it prints at
exit under PYVIRT_STATS=1 (instructions over the seconds its front end
ran, start-up included; the count runs on to the SIGTERM, a fraction of a
second past the marker).  QEMU has no instruction count here (a boot
is not deterministic across emulators: timers pace it).  Console logs go
to --log-dir.

    .venv/bin/python bench/boot.py [--engines interp,python,native] [--timeout S] [--skip-linux]
"""

import argparse
import re
import sys
from pathlib import Path

from baremetal import build_intbench
from measure import mib, parse_engines, print_table, pyvirt_engines, qemu, run

from pyvirt.images import READY_MARKER, cache_dir, image_path

UBOOT_PROMPT = b"=> "
AUTOBOOT = b"Hit any key to stop autoboot"
KERNEL_TIME = re.compile(rb"\[\s*(\d+\.\d+)\]")


def stages(skip_linux):
    """{stage: (machine arguments, console marker, reply)}."""
    found = {"uboot": (["-M", "virt", "-m", "512M", "-nographic",
                        "-bios", str(image_path("fw_jump")), "-kernel", str(image_path("uboot"))],
                       UBOOT_PROMPT, (AUTOBOOT, b" "))}
    if not skip_linux:
        found["linux"] = (["-M", "virt", "-m", "512M", "-nographic",
                           "-bios", str(image_path("fw_dynamic")),
                           "-kernel", str(image_path("kernel")),
                           "-initrd", str(image_path("initrd")),
                           "-append", "console=ttyS0"],
                          READY_MARKER.encode(), None)
    return found


def how_far(result) -> str:
    """What a run that missed its marker got to: the guest's last kernel
    timestamp, if any, and its last console line."""
    stamps = KERNEL_TIME.findall(result.console)
    stamp = f"guest kernel time {stamps[-1].decode()} s; " if stamps else ""
    return f"{stamp}last line: {result.last_line()[:100]!r}"


def cells(r, reference):
    """The table cells of one boot, with its ratio to ``reference`` (QEMU's) if given."""
    wall = f"{r.seconds:.1f}" if r.reached else f">{r.seconds:.0f} (stopped)"
    ratio = (f"{r.seconds / reference.seconds:.0f}"
             if reference and r.reached and reference.reached else "-")
    return [wall, f"{r.cpu_seconds:.1f}", f"{r.instructions / 1e6:.0f}" if r.instructions else "-",
            f"{r.mips:.2f}" if r.mips else "-", mib(r.peak_rss_kib), ratio]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="interp,python,native",
                    help="pyvirt engines to run, comma-separated; unknown ones are skipped")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="seconds a boot may take before it is stopped (default 1800)")
    ap.add_argument("--skip-linux", action="store_true", help="run the U-Boot stage only")
    ap.add_argument("--log-dir", type=Path, default=cache_dir() / "bench" / "boot-logs",
                    help="where the console logs go")
    args = ap.parse_args()

    engines, notes = pyvirt_engines(parse_engines(args.engines), build_intbench(0))
    emulators = [*engines, qemu()]
    rows = []
    for stage, (machine_args, marker, reply) in stages(args.skip_linux).items():
        results = {}
        # QEMU first: its numbers are there even if a pyvirt boot runs out of time.
        for emu in reversed(emulators):
            print(f"boot: {stage} under {emu.label} ...", file=sys.stderr, flush=True)
            log = args.log_dir / f"{stage}-{emu.label.replace(' ', '-')}.log"
            results[emu] = run(emu, machine_args, until=marker, reply=reply,
                               timeout=args.timeout, log_path=log)
        reference = results[emulators[-1]]
        for emu in emulators:
            r = results[emu]
            rows.append([stage, emu.label, *cells(r, reference if emu.is_pyvirt else None)])
            if not r.reached:
                notes.append(f"{stage} under {emu.label} stopped after {r.seconds:.0f} s: "
                             f"{how_far(r)}")
    print_table(["stage", "emulator", "wall s", "cpu s", "M insns", "MIPS", "peak RSS MiB",
                 "x qemu wall"], rows, text_columns=2)
    for note in notes:
        print(f"note: {note}")
    print(f"console logs: {args.log_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
