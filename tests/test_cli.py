"""pyvirt-system-riscv64 from the outside: its command line and exit status.

Bad input of every kind ends in one line on stderr that names the
problem, exit status 1, never a traceback.  Informational options exit 0.
Guests that fault get the architectural trap (the same cause as under the
real QEMU, run with the same argv) and the fault shows in the ``-d`` log;
the sifive_test finisher sets the exit status; ``-serial file:`` captures
the console.
"""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import pytest

from guestbuild import build_source, toolchain_missing
from helpers_console import emulator_argv, unavailable

PROG = "pyvirt-system-riscv64"
BINARIES = ("pyvirt", "qemu")
FINISHER_FAIL, FINISHER_PASS, FINISHER_RESET = 0x3333, 0x5555, 0x7777


def run(binary: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    reason = unavailable(binary)
    if reason:
        pytest.skip(reason)
    return subprocess.run(emulator_argv(binary, *args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def run_guest(binary: str, elf: Path, *args: str) -> subprocess.CompletedProcess:
    return run(binary, "-M", "virt", "-bios", "none", "-nographic", *args, "-kernel", str(elf))


def guest(name: str, body: str) -> Path:
    """A bare-metal program whose test_main is ``body`` (see tests/guest/harness.h)."""
    reason = toolchain_missing()
    if reason:
        pytest.skip(reason)
    source = f'#include "harness.h"\n    .text\n    .globl test_main\ntest_main:\n{body}\n'
    return build_source(name, source)


def finisher_program(value: int) -> Path:
    """Writes ``value`` to the sifive_test device, then spins."""
    return guest(f"finisher_{value:x}", f"""
    li t0, TEST_DEVICE
    li t1, {value:#x}
    sw t1, 0(t0)
1:  j 1b
""")


# -- bad input ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def riscv_elf() -> Path:
    return finisher_program(FINISHER_PASS)


@pytest.fixture(scope="module")
def elf_cut_in_headers(riscv_elf, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("truncated") / "headers.elf"
    out.write_bytes(riscv_elf.read_bytes()[:100])
    return out


@pytest.fixture(scope="module")
def elf_cut_in_code(riscv_elf, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("truncated") / "code.elf"
    out.write_bytes(riscv_elf.read_bytes()[:0x1010])
    return out


@pytest.fixture(scope="module")
def debian_kernel() -> Path:
    from pyvirt.errors import PyvirtError
    from pyvirt.images import image_path
    try:
        return image_path("kernel")
    except PyvirtError as err:
        pytest.skip(f"Debian kernel not available: {err}")


# (id, argv, what the one line must say).  A word like {elf} stands for the
# file a fixture provides.
FILES = {"elf": "riscv_elf", "headers": "elf_cut_in_headers", "code": "elf_cut_in_code",
         "kernel": "debian_kernel"}
BAD_INPUT = [
    ("missing-kernel", ["-bios", "none", "-kernel", "/nonexistent-kernel"],
     r"'/nonexistent-kernel': No such file"),
    ("kernel-is-a-directory", ["-bios", "none", "-kernel", "/tmp"], r"'/tmp': Is a directory"),
    ("x86-64-kernel", ["-bios", "none", "-kernel", "/bin/true"], r"'/bin/true'.*x86-64"),
    ("truncated-elf-headers", ["-bios", "none", "-kernel", "{headers}"], r"headers\.elf'.*truncated"),
    ("truncated-elf-code", ["-bios", "none", "-kernel", "{code}"], r"code\.elf'.*truncated"),
    ("kernel-does-not-fit", ["-bios", "none", "-m", "16M", "-kernel", "{kernel}"],
     r"kernel .* does not fit in RAM"),
    ("bad-size", ["-m", "12X"], r"-m 12X: .*expects a size"),
    ("too-little-ram", ["-m", "1M"], r"-m 1M: .*at least 16 MiB"),
    ("unknown-machine", ["-M", "foo"], r"machine type 'foo'"),
    ("unknown-machine-property", ["-M", "virt,foo=bar"], r"property 'foo'"),
    ("unknown-device", ["-device", "foo"], r"-device foo: .*not a valid device"),
    ("unknown-option", ["-foo"], r"-foo: invalid option"),
    ("missing-argument", ["-m"], r"-m: requires an argument"),
    ("stray-argument", ["disk.img"], r"disk\.img: unexpected argument"),
    ("kvm", ["-accel", "kvm"], r"-accel kvm: only the tcg accelerator"),
    ("unknown-tcg-engine", ["-accel", "tcg,engine=foo"], r"engine=foo: unknown engine"),
    ("unknown-cpu", ["-cpu", "foo"], r"CPU model 'foo'"),
    ("too-many-cpus", ["-smp", "99"], r"-smp 99: .*1 to 8 CPUs"),
    ("missing-bios", ["-bios", "/nonexistent-bios"], r"'/nonexistent-bios': No such file"),
    ("missing-initrd", ["-bios", "none", "-kernel", "{elf}", "-initrd", "/nonexistent-initrd"],
     r"'/nonexistent-initrd': No such file"),
    ("initrd-without-kernel", ["-bios", "none", "-initrd", "{elf}"],
     r"-initrd only allowed with -kernel"),
    ("append-without-kernel", ["-append", "console=ttyS0"], r"-append only allowed with -kernel"),
    ("missing-dtb", ["-bios", "none", "-kernel", "{elf}", "-dtb", "/nonexistent.dtb"],
     r"'/nonexistent\.dtb': No such file"),
    ("bad-serial", ["-serial", "bogus:x"], r"'bogus:x' is not a valid char driver"),
    ("unknown-log-item", ["-d", "foo"], r"-d foo: unknown logging item 'foo'"),
    ("unwritable-log", ["-D", "/nonexistent-dir/x"], r"-D /nonexistent-dir/x: No such file"),
    ("unwritable-dumpdtb", ["-M", "virt,dumpdtb=/nonexistent-dir/x.dtb"],
     r"dumpdtb=/nonexistent-dir/x\.dtb: No such file"),
]


@pytest.mark.parametrize("argv, message",
                         [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUT])
def test_bad_input_is_one_line_and_status_1(request, argv, message):
    argv = [word.format(**{key: request.getfixturevalue(FILES[key])
                           for key in re.findall(r"\{(\w+)\}", word)}) for word in argv]
    result = run("pyvirt", "-nographic", *argv)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{PROG}: ")
    assert re.search(message, lines[0]), lines[0]


# -- informational options --------------------------------------------------------------

@pytest.mark.parametrize("argv, listed", [
    (["-machine", "help"], "virt"),
    (["-M", "help"], "virt"),
    (["-device", "help"], "loader"),
    (["-cpu", "help"], "rv64"),
    (["-d", "help"], "guest_errors"),
    (["-h"], "-kernel"),
    (["-version"], "version"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_informational_options_exit_0(argv, listed):
    result = run("pyvirt", *argv)
    assert result.returncode == 0, result.stderr
    assert listed in result.stdout and result.stderr == ""


# -- guest faults -----------------------------------------------------------------------

# Not mapped on the virt board, by QEMU or by pyvirt: past the end of 128 MiB
# of RAM, and the hole between the UART and the first virtio slot.
UNMAPPED = (0x88000000, 0x10000800)

FAULTS = {  # name: (the instruction, with t1 = the unmapped address; mcause)
    "illegal-instruction": (".4byte 0", 2),
    "fetch-access": ("jr t1", 1),
    "load-access": ("ld t2, 0(t1)", 5),
    "store-access": ("sd t2, 0(t1)", 7),
}


def fault_program(name: str, address: int) -> Path:
    """Executes the faulting instruction with a handler that exits with mcause."""
    insn, _ = FAULTS[name]
    return guest(f"fault_{name}_{address:x}", f"""
    la t0, report_cause
    csrw mtvec, t0
    li t1, {address:#x}
    {insn}
    j test_done
    .align 2
report_cause:
    csrr a0, mcause
    slli a0, a0, 16
    li t1, {FINISHER_FAIL:#x}
    or a0, a0, t1
    li t0, TEST_DEVICE
    sw a0, 0(t0)
1:  j 1b
""")


@pytest.mark.parametrize("binary", BINARIES)
@pytest.mark.parametrize("address", UNMAPPED, ids=hex)
@pytest.mark.parametrize("name", FAULTS)
def test_guest_fault_gets_the_architectural_cause(tmp_path, binary, name, address):
    _, cause = FAULTS[name]
    log = tmp_path / "log"
    result = run_guest(binary, fault_program(name, address), "-m", "128M",
                       "-d", "guest_errors,int", "-D", str(log))
    assert result.returncode == cause, result.stdout + result.stderr
    text = log.read_text()
    # The trap, in the format QEMU's -d int uses.
    assert re.search(rf"cause:{cause:016x}, epc:0x[0-9a-f]{{16}}, tval:", text), text
    if name != "illegal-instruction":
        # -d guest_errors names the address nothing answered at.
        assert re.search(rf"(?i)invalid (read|write|fetch)?.*{address:#x}", text), text


INSN_LINE = re.compile(r"^0x([0-9a-f]{16}):\s+([0-9a-f]{4,8})\s", re.MULTILINE)


def test_in_asm_logs_what_qemu_logs(tmp_path):
    """Each instruction translated, as (address, encoding) the same as QEMU's
    -d in_asm, with capstone's disassembly.

    QEMU translates whole blocks, so it also logs the instructions after the
    finisher write that ends the run; pyvirt stops at that write.  Every
    instruction up to there is logged by both.
    """
    elf = fault_program("illegal-instruction", UNMAPPED[0])
    logs = {binary: tmp_path / f"{binary}.log" for binary in BINARIES}
    for binary, log in logs.items():
        assert run_guest(binary, elf, "-d", "in_asm", "-D", str(log)).returncode == 2
    ours, qemus = (set(INSN_LINE.findall(logs[b].read_text())) for b in BINARIES)
    assert ours <= qemus
    assert len(qemus - ours) <= 2, sorted(qemus - ours)
    # _start's first instruction, as capstone spells it (QEMU says csrrs).
    assert re.search(r"^0x0000000080000000:\s+f14022f3\s+csrr\s+t0, mhartid$",
                     logs["pyvirt"].read_text(), re.MULTILINE)


# -- the finisher and the console -------------------------------------------------------

@pytest.mark.parametrize("binary", BINARIES)
@pytest.mark.parametrize("code, status", [(1, 1), (42, 42), (255, 255), (0x101, 1)])
def test_finisher_fail_code_is_the_exit_status(binary, code, status):
    result = run_guest(binary, finisher_program(code << 16 | FINISHER_FAIL))
    assert result.returncode == status


@pytest.mark.parametrize("binary", BINARIES)
def test_finisher_pass_exits_0(binary):
    assert run_guest(binary, finisher_program(FINISHER_PASS)).returncode == 0


@pytest.mark.parametrize("binary", BINARIES)
def test_reset_with_no_reboot_exits_0(binary):
    result = run_guest(binary, finisher_program(FINISHER_RESET), "-no-reboot")
    assert result.returncode == 0, result.stderr


def test_reset_without_no_reboot_boots_again():
    """The reset request restarts the machine from the boot ROM (RAM
    cleared, images reloaded): a program that prints, then resets, prints
    again and again until stopped."""
    elf = guest("print_then_reset", """
    li t0, UART_BASE
    li t1, 'B'
    sb t1, 0(t0)
    li t0, TEST_DEVICE
    li t1, 0x7777
    sw t1, 0(t0)
1:  j 1b
""")
    proc = subprocess.Popen(emulator_argv("pyvirt", "-M", "virt", "-bios", "none", "-nographic",
                                          "-kernel", str(elf)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    watchdog = threading.Timer(60, proc.kill)    # no output at all must not hang the suite
    watchdog.start()
    try:
        boots = proc.stdout.read(3)
    finally:
        watchdog.cancel()
        proc.kill()
        _, err = proc.communicate()
    assert boots == b"BBB", err.decode(errors="replace")


@pytest.mark.parametrize("binary", BINARIES)
def test_serial_file_captures_the_console(tmp_path, binary):
    console = tmp_path / "console.txt"
    elf = guest("say_pass", "    TEST_PASSFAIL")
    result = run(binary, "-M", "virt", "-bios", "none", "-display", "none",
                 "-serial", f"file:{console}", "-kernel", str(elf))
    assert result.returncode == 0, result.stderr
    assert console.read_text() == "PASS\n"
    assert "PASS" not in result.stdout
