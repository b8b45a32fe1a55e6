"""KVM exit cost and start-up: pyvirt-system-x86_64 next to qemu-system-x86_64.

Both run ``-accel kvm -M microvm -m 64M`` on the same guest images, in
the same run:

* ``exits``: tests/guest_x86/exits.S loops from CPL3 on N port writes
  (COM1 scratch register) and N MMIO writes (virtio-mmio QueueSel), with
  a marker line on the serial console before, between and after; exits/s
  come from when the markers reach us.
* ``first``: bench/kvm_exits/first.S sends one byte to COM1 from the reset
  vector and exits, so the time from spawn to that byte is the time to
  the guest's first instruction (and to its first serial byte).

Peak RSS and CPU time (user: the VMM's own work per exit; system: mostly
the host kernel's) come from wait4() on the emulator process.  The
guest touches well under 1 MiB of its 64 MiB, so the RSS is the VMM's
own memory, beyond guest RAM.

    .venv/bin/python bench/kvm_exits.py [--repeat 3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from guest_x86.build import build  # noqa: E402

N_EXITS = 100000     # .set N in exits.S
EMULATORS = {"pyvirt": [sys.executable, "-m", "pyvirt.cli.system_x86_64"],
             "qemu": ["qemu-system-x86_64"]}
ARGS = ["-accel", "kvm", "-M", "microvm", "-m", "64M", "-nodefaults", "-display", "none",
        "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-bios"]


def first_image(out_dir):
    src = ROOT / "bench" / "kvm_exits" / "first.S"
    obj, image = out_dir / "first.o", out_dir / "first.bin"
    subprocess.run(["as", "--32", "-o", str(obj), str(src)], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-e", "0", "--oformat", "binary", "-Ttext=0",
                    "-o", str(image), str(obj)], check=True)
    return image


def run(argv):
    """{marker byte: seconds after spawn}, (user, system) CPU seconds, peak RSS KiB."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = {}
    while True:
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        now = time.monotonic() - started
        for byte in chunk:
            seen.setdefault(chr(byte), now)
    _, _, usage = os.wait4(proc.pid, 0)
    return seen, (usage.ru_utime, usage.ru_stime), usage.ru_maxrss


def measure(name, exits_image, first_image_, repeat):
    best = {}
    for _ in range(repeat):
        seen, cpu, rss = run(EMULATORS[name] + ARGS + [str(exits_image)])
        pio = N_EXITS / (seen["M"] - seen["P"])
        mmio = N_EXITS / (seen["E"] - seen["M"])
        first, _, first_rss = run(EMULATORS[name] + ARGS + [str(first_image_)])
        row = {"pio": pio, "mmio": mmio, "user_us": cpu[0] / (2 * N_EXITS) * 1e6,
               "sys_us": cpu[1] / (2 * N_EXITS) * 1e6,
               "first_ms": first["!"] * 1e3, "rss_mib": max(rss, first_rss) / 1024}
        for key, value in row.items():
            better = max if key in ("pio", "mmio") else min
            best[key] = better(best.get(key, value), value)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs each; the best is shown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        exits, first = build("exits", tmp), first_image(tmp)
        rows = {name: measure(name, exits, first, args.repeat) for name in EMULATORS}
    cols = (("pio", "PIO exits/s", "{:,.0f}"), ("mmio", "MMIO exits/s", "{:,.0f}"),
            ("user_us", "user us/exit", "{:.1f}"), ("sys_us", "system us/exit", "{:.1f}"),
            ("first_ms", "ms to 1st insn", "{:.1f}"),
            ("rss_mib", "peak RSS MiB", "{:.1f}"))
    print(f"{'':<10}" + "".join(f"{title:>17}" for _, title, _ in cols))
    for name, row in rows.items():
        print(f"{name:<10}" + "".join(f"{fmt.format(row[key]):>17}" for key, _, fmt in cols))
    p, q = rows["pyvirt"], rows["qemu"]
    print(f"{'qemu/pyvirt':<10}" + "".join(f"{q[key] / p[key]:>17.2f}" for key, _, _ in cols))
    print(f"\n{N_EXITS} exits of each kind, best of {args.repeat} runs; CPU time is the "
          "whole process's (start-up included) over all exits: user is the VMM's own "
          "work, system mostly the host's cost of each exit")


if __name__ == "__main__":
    main()
