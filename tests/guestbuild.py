"""Build and run the bare-metal RISC-V guest test programs.

Programs in tests/guest/*.S (or generated assembly text) are assembled with
Debian's riscv64-linux-gnu-gcc, linked with the shared runtime at the start
of DRAM, and cached by a hash of everything that goes into them, so a test
run only rebuilds what changed.  They run on the virt board with
`-bios none -nographic -kernel prog.elf`, under the real QEMU (the oracle) or
under pyvirt with the same argv.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

GUEST_DIR = Path(__file__).parent / "guest"
CC = "riscv64-linux-gnu-gcc"
CFLAGS = [
    "-march=rv64gc", "-mabi=lp64d", "-mno-relax", "-fno-pie", "-no-pie",
    "-nostdlib", "-nostartfiles", "-static",
    "-Wl,--no-relax", "-Wl,--build-id=none",
]

QEMU = "qemu-system-riscv64"
PYVIRT_MODULE = "pyvirt.cli.system_riscv64"
MACHINE_ARGS = ["-M", "virt", "-bios", "none", "-nographic", "-kernel"]


def cache_dir() -> Path:
    """Where built programs live: $PYVIRT_GUEST_CACHE or ~/.cache/pyvirt/guest-tests."""
    if "PYVIRT_GUEST_CACHE" in os.environ:
        return Path(os.environ["PYVIRT_GUEST_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pyvirt" / "guest-tests"


def toolchain_missing() -> str | None:
    """Why guest programs can't be built here, or None if they can."""
    if shutil.which(CC) is None:
        return f"{CC} not installed (Debian package gcc-riscv64-linux-gnu)"
    return None


def program_names() -> list[str]:
    """The hand-written test programs, by file stem."""
    return sorted(p.stem for p in GUEST_DIR.glob("*.S") if p.stem != "runtime")


def _shared_inputs() -> list[Path]:
    """Everything a program is built with besides its own source."""
    guest = GUEST_DIR
    return [guest / "runtime.S", guest / "link.ld",
            *sorted(guest.glob("*.h")), *sorted(guest.glob("*.inc"))]


def build_program(name: str) -> Path:
    """Build tests/guest/<name>.S; return the ELF path."""
    return build_source(name, (GUEST_DIR / f"{name}.S").read_text())


def build_source(name: str, source: str) -> Path:
    """Build assembly text (which may #include "harness.h"); return the ELF path."""
    digest = hashlib.sha256()
    for part in [" ".join(CFLAGS), source] + [p.read_text() for p in _shared_inputs()]:
        digest.update(part.encode())
        digest.update(b"\0")
    out = cache_dir() / f"{name}-{digest.hexdigest()[:16]}.elf"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = Path(tmp) / f"{name}.S"
        src.write_text(source)
        elf = Path(tmp) / out.name
        cmd = [CC, *CFLAGS, "-I", str(GUEST_DIR), "-T", str(GUEST_DIR / "link.ld"),
               "-o", str(elf), str(GUEST_DIR / "runtime.S"), str(src)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"building {name} failed:\n{result.stderr}")
        # Atomic, so concurrent test processes never see half an ELF.
        os.replace(elf, out)
    return out


@dataclass
class GuestResult:
    returncode: int
    output: str  # what the guest printed on the UART (plus any emulator messages)

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and "PASS" in self.output and "FAIL" not in self.output


@dataclass(frozen=True)
class Runner:
    """One way of running a guest program: the real QEMU or pyvirt (with
    its default TCG engine, or with the one ``engine`` names)."""

    name: str
    command: tuple[str, ...]
    timeout: float
    engine: str | None = None

    def unavailable(self) -> str | None:
        """Why this runner can't be used here, or None."""
        if self.name == "qemu":
            return None if shutil.which(QEMU) else f"{QEMU} not installed"
        try:
            found = importlib.util.find_spec(PYVIRT_MODULE) is not None
        except ImportError:
            found = False
        if not found:
            return f"{PYVIRT_MODULE} not importable yet"
        from pyvirt.tcg.engines import ENGINES
        if self.engine is not None and self.engine not in ENGINES:
            return f"the {self.engine} engine is not available on this host"
        return None

    def run(self, elf: Path) -> GuestResult:
        try:
            proc = subprocess.run(
                [*self.command, *MACHINE_ARGS, str(elf)],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=self.timeout,
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode(errors="replace")
            raise AssertionError(
                f"{self.name}: {elf.name} did not finish within {self.timeout}s; "
                f"output so far:\n{output}") from None
        output = (proc.stdout + proc.stderr).decode(errors="replace")
        return GuestResult(proc.returncode, output)


PYVIRT_TIMEOUT = float(os.environ.get("PYVIRT_GUEST_TIMEOUT", 600))
#: Every TCG engine pyvirt may have; a runner for one the host lacks skips.
ENGINE_NAMES = ("interp", "python", "native")
#: The pyvirt runner of each engine, named "pyvirt-ENGINE".
ENGINE_RUNNERS = {
    f"pyvirt-{engine}": Runner(f"pyvirt-{engine}", (sys.executable, "-m", PYVIRT_MODULE, "-accel",
                                                    f"tcg,engine={engine}"),
                               PYVIRT_TIMEOUT, engine)
    for engine in ENGINE_NAMES
}
RUNNERS = {
    "qemu": Runner("qemu", (QEMU,), timeout=60),
    "pyvirt": Runner("pyvirt", (sys.executable, "-m", PYVIRT_MODULE), PYVIRT_TIMEOUT),
    **ENGINE_RUNNERS,
}
