"""pyvirt-riscv64 next to qemu-riscv64: start-up, integer code, busybox workloads.

Each workload runs under qemu-riscv64 and under pyvirt-riscv64 with each
engine, in the same run; the table gives wall and CPU seconds, their ratios
to QEMU's, and MIPS over each (instructions from pyvirt's
``PYVIRT_STATS`` line; the programs are deterministic, so QEMU retires
the same count and its MIPS is that count over its own time).

Workloads: ``true`` (start-up, best of 5 runs; goal under 0.3 s), the integer benchmark of
bench/intbench built as a Linux program (the same kernels; its two device
accesses, the UART and the power-off, become write() and exit()), and
busybox ``sha256sum`` and ``gzip -9`` of a few MB of pseudo-random text.

    .venv/bin/python bench/user.py [--engines auto,interp,python] [--rounds 20] [--mb 1]
"""

import argparse
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from measure import print_table  # noqa: E402

QEMU = "qemu-riscv64"
PYVIRT = [sys.executable, "-m", "pyvirt.cli.user_riscv64"]
STATS = re.compile(rb"instructions=(\d+)")
STARTUP_RUNS = 5


def busybox():
    from pyvirt.images import fetch_guest_images
    return str(fetch_guest_images().busybox)


def user_intbench(out: Path, rounds: int) -> Path:
    """intbench.c as a static Linux program: UART output is write(), power-off is exit()."""
    src = (HERE / "intbench" / "intbench.c").read_text()
    uart = re.search(r"static void putc_uart\(char c\)\n\{.*?\n\}\n", src, re.S)
    poweroff = "*(volatile uint32_t *)TEST_DEVICE = TEST_PASS;"
    assert uart and poweroff in src, "intbench.c changed: update bench/user.py"
    src = src.replace(uart.group(0), "static void putc_uart(char c)\n{\n    write(1, &c, 1);\n}\n")
    src = src.replace(poweroff, "exit(0);")
    src = "#include <unistd.h>\n#include <stdlib.h>\n" + src
    c = out / "intbench_user.c"
    c.write_text(src)
    exe = out / "intbench_user"
    subprocess.run(["riscv64-linux-gnu-gcc", "-O2", "-static", f"-DROUNDS={rounds}",
                    "-fno-builtin", "-o", str(exe), str(c)], check=True)
    return exe


def timed(cmd, cwd, env=None):
    """(wall s, cpu s, stdout, stderr) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=3600)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-500:]!r}")
    return wall, cpu, r.stdout, r.stderr


def best(runs, cmd, cwd, env=None):
    return min((timed(cmd, cwd, env) for _ in range(runs)), key=lambda r: r[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engines", default="auto,interp,python")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--mb", type=int, default=1)
    args = ap.parse_args()
    if shutil.which(QEMU) is None:
        raise SystemExit("qemu-riscv64 not installed (scripts/setup.sh)")
    bb = busybox()
    work = Path(tempfile.mkdtemp(prefix="pyvirt-bench-user-"))
    rng = random.Random(1)
    words = [f"word{i}" for i in range(5000)]
    with open(work / "data.txt", "w") as f:
        while f.tell() < args.mb << 20:
            f.write(" ".join(rng.choice(words) for _ in range(16)) + "\n")
    intbench = user_intbench(work, args.rounds)
    workloads = [
        ("true (start-up)", [bb, "true"]),
        (f"intbench x{args.rounds}", [str(intbench)]),
        (f"sha256sum {args.mb} MB", [bb, "sha256sum", "data.txt"]),
        (f"gzip -9 {args.mb} MB", [bb, "gzip", "-9", "-c", "data.txt"]),
    ]
    env = dict(os.environ, PYVIRT_STATS="1")
    rows = []
    for name, cmd in workloads:
        # start-up is short and noisy on a shared machine: the best of a few
        repeat = STARTUP_RUNS if cmd[1:] == ["true"] else 1
        q_wall, q_cpu, q_out, _ = best(repeat, [QEMU, *cmd], work)
        count = None
        results = []
        for engine in args.engines.split(","):
            wall, cpu, out, err = best(repeat, [*PYVIRT, "-engine", engine, *cmd], work, env)
            if out != q_out:
                raise SystemExit(f"{name}: pyvirt ({engine}) output differs from QEMU's")
            m = STATS.search(err)
            count = int(m.group(1)) if m else count
            results.append((engine, wall, cpu))
        def mips(seconds):
            return f"{count / max(seconds, 1e-3) / 1e6:.2f}" if count else "-"
        rows.append([name, "qemu", f"{q_wall:.3f}", f"{q_cpu:.3f}", "1.0", "1.0",
                     mips(q_wall), mips(q_cpu)])
        for engine, wall, cpu in results:
            rows.append([name, f"pyvirt {engine}", f"{wall:.3f}", f"{cpu:.3f}",
                         f"{wall / q_wall:.1f}", f"{cpu / max(q_cpu, 1e-3):.1f}",
                         mips(wall), mips(cpu)])
    # On a shared machine the CPU columns are the fairer comparison.
    print_table(["workload", "emulator", "wall s", "cpu s", "x qemu wall", "x qemu cpu",
                 "MIPS wall", "MIPS cpu"], rows, text_columns=2)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
