"""Build the bare-metal integer benchmark (bench/intbench/) for the virt board.

The program is compiled with Debian's riscv64-linux-gnu-gcc for
``-bios none`` (linked at the start of DRAM with the guest test programs'
link script) and cached by a hash of its sources, flags and size, so a
benchmark run only rebuilds what changed.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pyvirt.errors import PyvirtError
from pyvirt.images import cache_dir

BENCH_DIR = Path(__file__).resolve().parent
SOURCES = [BENCH_DIR / "intbench" / "start.S", BENCH_DIR / "intbench" / "intbench.c"]
LINK_SCRIPT = BENCH_DIR.parent / "tests" / "guest" / "link.ld"
CC = "riscv64-linux-gnu-gcc"
# -mcmodel=medany: the code lives at 0x80000000, out of reach of medlow's lui.
CFLAGS = ["-O2", "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-ffreestanding",
          "-nostdlib", "-static", "-fno-pie", "-no-pie", "-Wl,--build-id=none"]


def build_intbench(rounds: int) -> Path:
    """The ELF of the integer benchmark doing ``rounds`` rounds (0: start-up probe)."""
    if shutil.which(CC) is None:
        raise PyvirtError(f"{CC} not installed (Debian package gcc-riscv64-linux-gnu)")
    flags = [*CFLAGS, f"-DROUNDS={rounds}"]
    digest = hashlib.sha256(" ".join(flags).encode())
    for path in (*SOURCES, LINK_SCRIPT):
        digest.update(path.read_bytes())
    out = cache_dir() / "bench" / f"intbench-{rounds}-{digest.hexdigest()[:16]}.elf"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        elf = Path(tmp) / out.name
        cmd = [CC, *flags, "-T", str(LINK_SCRIPT), "-o", str(elf), *map(str, SOURCES)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise PyvirtError(f"building intbench failed:\n{result.stderr}")
        os.replace(elf, out)   # atomic: a concurrent run never sees half an ELF
    return out
