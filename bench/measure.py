"""Run an emulator as a child process and measure it: wall time to a
console marker (or to exit), CPU time and peak RSS, and for pyvirt the
instructions it retired (the ``instructions=N seconds=S`` of its stats
line, which PYVIRT_STATS=1 makes it print on stderr at exit).

Both emulators take the same QEMU command line; ``Emulator`` is the argv
prefix that picks one (pyvirt with an engine, or qemu-system-riscv64).  The
console (the guest's serial on stdio) is read as it comes, so a marker's
time is when its bytes reached us, and a reply can be typed when a prompt
shows.  CPU time and peak RSS come from wait4() on that very child.
"""

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

QEMU = "qemu-system-riscv64"
PYVIRT_MODULE = "pyvirt.cli.system_riscv64"
STATS_ENV = "PYVIRT_STATS"
STATS_LINE = re.compile(rb"instructions=(\d+) seconds=([0-9.]+)")
UNKNOWN_ENGINE = b"unknown engine"
TERM_GRACE_S = 15      # how long a child may take to exit after SIGTERM


@dataclass(frozen=True)
class Emulator:
    label: str                   # the row name in the tables: "pyvirt interp", "qemu"
    argv: tuple[str, ...]        # the command up to the machine options
    env: dict = field(default_factory=dict, hash=False)

    @property
    def is_pyvirt(self) -> bool:
        return self.label.startswith("pyvirt")


@dataclass
class Run:
    reached: bool                # the marker showed (or, without one, the guest exited 0)
    seconds: float               # wall time from spawn to the marker, the exit or the timeout
    returncode: int
    cpu_seconds: float           # user + system time of the whole run (to exit)
    peak_rss_kib: int
    console: bytes               # what the guest printed
    stderr: bytes
    # pyvirt's stats line (PYVIRT_STATS=1), printed at exit: guest instructions
    # retired, and the seconds its front end ran for
    instructions: int | None = None
    stats_seconds: float | None = None

    @property
    def mips(self) -> float | None:
        """Guest MIPS over the whole pyvirt process life, as pyvirt reports it."""
        if self.instructions is None or not self.stats_seconds:
            return None
        return self.instructions / self.stats_seconds / 1e6

    def last_line(self) -> str:
        """The last non-empty console line: how far a guest got."""
        lines = [ln for ln in self.console.decode(errors="replace").splitlines() if ln.strip()]
        return lines[-1].strip() if lines else ""


def run(emu: Emulator, machine_args, *, until: bytes | None = None,
        reply: tuple[bytes, bytes] | None = None, timeout: float,
        log_path: Path | None = None) -> Run:
    """Run ``emu`` with ``machine_args`` until ``until`` appears on the
    console (then stop it with SIGTERM), until it exits, or until
    ``timeout`` seconds have passed.  ``reply`` = (prompt, keys) types the
    keys once, the first time the prompt shows.  The console goes to
    ``log_path`` as it comes (to follow a long boot), the emulator's stderr
    after it at the end."""
    log = None
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "wb")
    env = {**os.environ, **emu.env}
    start = time.perf_counter()
    proc = subprocess.Popen([*emu.argv, *machine_args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    sel = selectors.DefaultSelector()
    out = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    console = out[proc.stdout.fileno()]
    for pipe in (proc.stdout, proc.stderr):
        sel.register(pipe, selectors.EVENT_READ)
    reached_at = None
    deadline = start + timeout
    stopping_since = None
    while sel.get_map():
        now = time.perf_counter()
        if stopping_since is None and (reached_at is not None or now >= deadline):
            proc.send_signal(signal.SIGTERM)
            stopping_since = now
        if stopping_since is not None and now - stopping_since > TERM_GRACE_S:
            proc.kill()
        limit = deadline if stopping_since is None else stopping_since + TERM_GRACE_S
        for key, _ in sel.select(timeout=max(0.0, min(1.0, limit - now))):
            data = os.read(key.fd, 65536)
            if not data:
                sel.unregister(key.fileobj)
                continue
            out[key.fd] += data
            if key.fd != proc.stdout.fileno():
                continue
            if log:
                log.write(data)
                log.flush()
            if reply and reply[0] in console:
                try:
                    proc.stdin.write(reply[1])
                    proc.stdin.flush()
                except BrokenPipeError:
                    pass        # it exited: the loop sees EOF next
                reply = None
            if until and reached_at is None and until in console:
                reached_at = time.perf_counter()
    _, status, usage = os.wait4(proc.pid, 0)
    ended = time.perf_counter()
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    stderr = bytes(out[proc.stderr.fileno()])
    if until is None:
        reached = proc.returncode == 0 and ended < deadline
        seconds = ended - start
    else:
        reached = reached_at is not None
        seconds = (reached_at if reached else min(ended, deadline)) - start
    result = Run(reached, seconds, proc.returncode, usage.ru_utime + usage.ru_stime,
                 usage.ru_maxrss, bytes(console), stderr)
    stats = STATS_LINE.search(stderr)
    if stats:
        result.instructions = int(stats[1])
        result.stats_seconds = float(stats[2])
    if log:
        log.write(b"\n--- stderr ---\n" + stderr)
        log.close()
    return result


def qemu() -> Emulator:
    return Emulator("qemu", (QEMU, "-accel", "tcg"))


def pyvirt_engines(engines, probe_elf: Path) -> tuple[list[Emulator], list[str]]:
    """The pyvirt emulators for the requested engines that this pyvirt has,
    and notes on what was skipped.  Each engine is tried on ``probe_elf``
    (a program that powers off at once)."""
    found, notes = [], []
    for engine in engines:
        emu = Emulator(f"pyvirt {engine}",
                       (sys.executable, "-m", PYVIRT_MODULE, "-accel", f"tcg,engine={engine}"),
                       {STATS_ENV: "1"})
        probe = run(emu, bare_metal_args(probe_elf), timeout=120)
        if UNKNOWN_ENGINE in probe.stderr:
            notes.append(f"engine {engine!r} skipped: {probe.stderr.decode().strip()}")
            continue
        if not probe.reached:
            raise SystemExit(f"pyvirt engine {engine} failed the start-up probe "
                             f"(exit {probe.returncode}):\n{probe.stderr.decode()}")
        if probe.instructions is None:
            notes.append(f"{emu.label} printed no stats under {STATS_ENV}=1: no instruction "
                         f"counts, so no MIPS")
        found.append(emu)
    return found, notes


def bare_metal_args(elf: Path) -> list[str]:
    return ["-M", "virt", "-bios", "none", "-nographic", "-kernel", str(elf)]


def parse_engines(text: str) -> list[str]:
    return [e for e in (part.strip() for part in text.split(",")) if e]


def print_table(headers, rows, text_columns=1):
    """Rows of strings under headers, columns aligned: the first
    ``text_columns`` to the left, the numbers after them to the right."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]

    def fmt(cells):
        return "  ".join(str(c).ljust(w) if i < text_columns else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    print(fmt(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(fmt(row))


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"
