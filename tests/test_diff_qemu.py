"""Differential tests: the same guest program under QEMU and under pyvirt.

Each program is generated here as assembly: it sweeps an instruction over a
table of operand values (integer ops; FP ops under every rounding mode, with
the fflags each one raised), or runs a seeded pseudo-random instruction mix.
It prints one line per instruction and rounding mode with a hash of all its
results, and finally dumps x1..x31, f0..f31 and fcsr, all on the UART.
QEMU's output is the reference; pyvirt's must match it line for line.
"""

from __future__ import annotations

import functools
import random
import struct

import pytest

from guestbuild import ENGINE_RUNNERS, RUNNERS, build_source, toolchain_missing

INT_VALUES = [
    0, 1, 2, 0x7f, 0x80000000, 0x7fffffff, 0xffffffff, 0x7fffffffffffffff,
    0x8000000000000000, 0xffffffffffffffff, 0xfffffffffffffffe, 0x0123456789abcdef,
]
INT_RR = """add sub sll slt sltu xor srl sra or and addw subw sllw srlw sraw
            mul mulh mulhsu mulhu mulw div divu rem remu divw divuw remw remuw""".split()
INT_IMM = {
    "addi": [0, 1, -1, 2047, -2048], "slti": [0, -1, 2047], "sltiu": [0, 1, -1],
    "xori": [-1, 0x555], "ori": [-2048, 0x0f0], "andi": [-1, 0x7f0],
    "slli": [0, 1, 31, 32, 63], "srli": [0, 1, 31, 32, 63], "srai": [0, 1, 31, 32, 63],
    "addiw": [0, 1, -1, 2047], "slliw": [0, 1, 31], "srliw": [0, 1, 31], "sraiw": [0, 1, 31],
}

# Bit patterns: zeros, ones, thirds, extremes, subnormals, infinities, NaNs.
FP_VALUES = {
    "s": [0x00000000, 0x80000000, 0x3f800000, 0xbfc00000, 0x3eaaaaab, 0x7f7fffff,
          0x00000001, 0x00800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001,
          0x4f000000, 0xdf000001],
    "d": [0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff8000000000000,
          0x3fd5555555555555, 0x7fefffffffffffff, 0x0000000000000001, 0x0010000000000000,
          0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001,
          0x41e0000000000000, 0xc3e0000000000001],
}
ROUNDING = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"]
FRM_FOR_DYN = 3  # rup, so dyn differs visibly from the static rne default

HEADER = """#include "harness.h"
    .text
    .globl test_main
test_main:
"""

# Folds a5 into the running hash s2 (rotate left 7, xor).
FOLD = "slli t0, s2, 7; srli t1, s2, 57; or s2, t0, t1; xor s2, s2, a5"


def _print_line(label: str) -> str:
    return (f"la a0, str_{label}; call uart_puts; mv a0, s2; call uart_puthex;"
            f" li a0, '\\n'; call uart_putc\n")


def _label(text: str) -> str:
    return text.replace(".", "_")


def _strings(labels: list[str]) -> str:
    body = "".join(f'str_{_label(t)}: .asciz "{t} "\n' for t in labels)
    return "    .section .rodata\n" + body


def _table(name: str, values: list[int]) -> str:
    return f"    .data\n    .align 3\n{name}:\n" + "".join(
        f"    .dword {v:#x}\n" for v in values)


def _pair_loop(label: str, n: int, load_a: str, load_b: str, body: str) -> str:
    """Run `body` for every (a, b) in table x table; hash results into s2."""
    return f"""
    # {label}
    li s2, 0; la s4, values; li s3, {n}
1:  {load_a} 0(s4); la s5, values; li s6, {n}
2:  {load_b} 0(s5); {body}; {FOLD}
    addi s5, s5, 8; addi s6, s6, -1; bnez s6, 2b
    addi s4, s4, 8; addi s3, s3, -1; bnez s3, 1b
    {_print_line(_label(label))}"""


def _single_loop(label: str, n: int, load_a: str, body: str) -> str:
    """Run `body` for every a in the table."""
    return f"""
    # {label}
    li s2, 0; la s4, values; li s3, {n}
1:  {load_a} 0(s4); {body}; {FOLD}
    addi s4, s4, 8; addi s3, s3, -1; bnez s3, 1b
    {_print_line(_label(label))}"""


def gen_int_ops() -> str:
    n = len(INT_VALUES)
    parts, labels = [HEADER], []
    for op in INT_RR:
        labels.append(op)
        parts.append(_pair_loop(op, n, "ld a3,", "ld a4,", f"{op} a5, a3, a4"))
    for op, imms in INT_IMM.items():
        for imm in imms:
            label = f"{op}.{imm & 0xfff:x}"
            labels.append(label)
            parts.append(_single_loop(label, n, "ld a3,", f"{op} a5, a3, {imm}"))
    parts.append("    call dump_state\n")
    return "".join(parts) + _strings(labels) + _table("values", INT_VALUES)


def gen_fp_ops(width: str) -> str:
    """Sweep the FP instructions of one precision ("s" or "d")."""
    values = FP_VALUES[width]
    n = len(values)
    fl, mv_from = ("flw", "fmv.x.w") if width == "s" else ("fld", "fmv.x.d")
    # Result hash includes the flags raised by each operation (read and cleared).
    flags = "csrrw a6, fflags, zero; xor a5, a5, a6; slli a6, a6, 59; xor a5, a5, a6"
    fp_result = f"{mv_from} a5, fa0; {flags}"
    int_result = flags
    parts, labels = [HEADER, f"    csrwi frm, {FRM_FOR_DYN}\n    csrwi fflags, 0\n"], []

    def pair(label, body):
        labels.append(label)
        parts.append(_pair_loop(label, n, f"{fl} fa1,", f"{fl} fa2,", body))

    def single(label, body):
        labels.append(label)
        parts.append(_single_loop(label, n, f"{fl} fa1,", body))

    for op in ("fadd", "fsub", "fmul", "fdiv"):
        for rm in ROUNDING:
            pair(f"{op}.{width}.{rm}", f"{op}.{width} fa0, fa1, fa2, {rm}; {fp_result}")
    for op in ("fmadd", "fmsub", "fnmadd", "fnmsub"):
        for rm in ("rne", "rdn", "dyn"):
            # The addend is the first operand again: a*b+a covers cancellation.
            pair(f"{op}.{width}.{rm}", f"{op}.{width} fa0, fa1, fa2, fa1, {rm}; {fp_result}")
    for op in ("fmin", "fmax", "fsgnj", "fsgnjn", "fsgnjx"):
        pair(f"{op}.{width}", f"{op}.{width} fa0, fa1, fa2; {fp_result}")
    for op in ("feq", "flt", "fle"):
        pair(f"{op}.{width}", f"{op}.{width} a5, fa1, fa2; {int_result}")
    single(f"fclass.{width}", f"fclass.{width} a5, fa1; {int_result}")
    for rm in ROUNDING:
        single(f"fsqrt.{width}.{rm}", f"fsqrt.{width} fa0, fa1, {rm}; {fp_result}")
        for to_int in ("w", "wu", "l", "lu"):
            single(f"fcvt.{to_int}.{width}.{rm}",
                   f"fcvt.{to_int}.{width} a5, fa1, {rm}; {int_result}")
    # Conversions between precisions and from integers (integer bits = FP bits).
    if width == "d":
        for rm in ROUNDING:
            single(f"fcvt.s.d.{rm}", f"fcvt.s.d fa0, fa1, {rm}; fmv.x.w a5, fa0; {flags}")
    else:
        single("fcvt.d.s", f"fcvt.d.s fa0, fa1; fmv.x.d a5, fa0; {flags}")
    for from_int in ("w", "wu", "l", "lu"):
        exact = width == "d" and from_int in ("w", "wu")  # no rounding: no rm operand
        for rm in ("",) if exact else ("rne", "rtz", "rup"):
            single(f"fcvt.{width}.{from_int}" + (f".{rm}" if rm else ""),
                   f"{mv_from} a4, fa1; fcvt.{width}.{from_int} fa0, a4"
                   + (f", {rm}" if rm else "") + f"; {fp_result}")
    parts.append("    call dump_state\n")
    return "".join(parts) + _strings(labels) + _table("values", values)


# --- pseudo-random instruction mix -------------------------------------------

MIX_R = INT_RR
MIX_I = list(INT_IMM)
MIX_FP_RR = ["fadd", "fsub", "fmul", "fdiv", "fmin", "fmax", "fsgnj", "fsgnjn", "fsgnjx"]
MIX_FP_RM = {"fadd", "fsub", "fmul", "fdiv"}
MIX_AMO = ["amoswap", "amoadd", "amoxor", "amoand", "amoor",
           "amomin", "amomax", "amominu", "amomaxu"]
# Registers the mix may write: not gp/tp (the trap harness's) nor x31, which
# holds the scratch-buffer base.
MIX_DEST = [r for r in range(1, 31) if r not in (3, 4)]
BUF_SIZE = 2048


def gen_mix(seed: int, count: int = 1500) -> str:
    rng = random.Random(seed)
    def x() -> str:    # a destination
        return f"x{rng.choice(MIX_DEST)}"

    def xs() -> str:   # a source (x0 and the buffer base too)
        return f"x{rng.choice(MIX_DEST + [0, 31])}"

    def f() -> str:
        return f"f{rng.randrange(32)}"

    def rm() -> str:
        return rng.choice(ROUNDING)
    special = FP_VALUES["d"] + [0xffffffff00000000 | v for v in FP_VALUES["s"]]

    def fp_bits() -> int:
        """A special value, or an ordinary double or (NaN-boxed) single."""
        choice = rng.random()
        if choice < 0.3:
            return rng.choice(special)
        value = rng.uniform(-1000, 1000) * 10.0 ** rng.randrange(-5, 6)
        if choice < 0.65:
            return struct.unpack("<Q", struct.pack("<d", value))[0]
        return 0xffffffff00000000 | struct.unpack("<I", struct.pack("<f", value))[0]

    def int_bits() -> int:
        return rng.choice([rng.getrandbits(64), rng.getrandbits(32),
                           rng.randrange(-100, 100) & (2**64 - 1)])

    lines = [HEADER, f"    .option rvc\n    la x31, mixbuf\n    csrwi frm, {rng.randrange(5)}\n"]
    for r in MIX_DEST:
        lines.append(f"    li x{r}, {int_bits():#x}\n")
    for r in range(32):
        lines.append(f"    li t0, {fp_bits():#x}; fmv.d.x f{r}, t0\n")
    for _ in range(count):
        kind = rng.random()
        # Fresh constants now and then keep values from collapsing to 0 or NaN.
        if rng.random() < 0.06:
            lines.append(f"    li {x()}, {int_bits():#x}\n")
        if rng.random() < 0.06:
            lines.append(f"    li t0, {fp_bits():#x}; fmv.d.x {f()}, t0\n")
        if kind < 0.30:
            insn = f"{rng.choice(MIX_R)} {x()}, {xs()}, {xs()}"
        elif kind < 0.50:
            op = rng.choice(MIX_I)
            imm = rng.choice(INT_IMM[op]) if rng.random() < 0.3 else (
                rng.randrange(64) if op in ("slli", "srli", "srai") else
                rng.randrange(32) if op.endswith("iw") and op != "addiw" else
                rng.randrange(-2048, 2048))
            insn = f"{op} {x()}, {xs()}, {imm}"
        elif kind < 0.55:
            insn = f"lui {x()}, {rng.randrange(1 << 20):#x}"
        elif kind < 0.65:
            op, size = rng.choice([("lb", 1), ("lbu", 1), ("lh", 2), ("lhu", 2), ("lw", 4),
                                   ("lwu", 4), ("ld", 8), ("sb", 1), ("sh", 2), ("sw", 4),
                                   ("sd", 8)])
            off = rng.randrange(BUF_SIZE - 8)
            reg = x() if op[0] == "l" else xs()
            insn = f"{op} {reg}, {off}(x31)"
        elif kind < 0.68:
            width = rng.choice("wd")
            off = rng.randrange(0, BUF_SIZE - 8, 4 if width == "w" else 8)
            insn = f"addi t0, x31, {off}; {rng.choice(MIX_AMO)}.{width} {x()}, {xs()}, (t0)"
        elif kind < 0.73:
            op = rng.choice(["beq", "bne", "blt", "bge", "bltu", "bgeu"])
            insn = (f"{op} {xs()}, {xs()}, 1f; {rng.choice(MIX_R)} {x()}, {xs()}, {xs()};"
                    f" addi {x()}, {xs()}, {rng.randrange(-2048, 2048)}; 1:")
        elif kind < 0.83:
            op, w = rng.choice(MIX_FP_RR), rng.choice("sd")
            tail = f", {rm()}" if op in MIX_FP_RM else ""
            insn = f"{op}.{w} {f()}, {f()}, {f()}{tail}"
        elif kind < 0.87:
            w = rng.choice("sd")
            insn = f"{rng.choice(['fmadd', 'fmsub', 'fnmadd', 'fnmsub'])}.{w} {f()}, {f()}, {f()}, {f()}, {rm()}"
        elif kind < 0.90:
            w = rng.choice("sd")
            insn = f"fsqrt.{w} {f()}, {f()}, {rm()}"
        elif kind < 0.94:
            w, t = rng.choice("sd"), rng.choice(["w", "wu", "l", "lu"])
            exact = w == "d" and t in ("w", "wu")
            insn = (f"fcvt.{t}.{w} {x()}, {f()}, {rm()}" if rng.random() < 0.5
                    else f"fcvt.{w}.{t} {f()}, {xs()}" + ("" if exact else f", {rm()}"))
        elif kind < 0.96:
            w = rng.choice("sd")
            insn = (f"{rng.choice(['feq', 'flt', 'fle'])}.{w} {x()}, {f()}, {f()}"
                    if rng.random() < 0.7 else f"fclass.{w} {x()}, {f()}")
        elif kind < 0.98:
            insn = rng.choice([f"fcvt.s.d {f()}, {f()}, {rm()}", f"fcvt.d.s {f()}, {f()}",
                               f"fmv.x.d {x()}, {f()}", f"fmv.d.x {f()}, {xs()}",
                               f"fmv.x.w {x()}, {f()}", f"fmv.w.x {f()}, {xs()}"])
        else:
            w, off = rng.choice("wd"), rng.randrange(BUF_SIZE - 8)
            insn = (f"fl{w} {f()}, {off}(x31)" if rng.random() < 0.5
                    else f"fs{w} {f()}, {off}(x31)")
        lines.append(f"    {insn}\n")
    lines.append("    call dump_state\n")
    lines.append("    .data\n    .align 4\nmixbuf:\n")
    lines.append("".join(f"    .dword {rng.getrandbits(64):#x}\n" for _ in range(BUF_SIZE // 8)))
    return "".join(lines)


PROGRAMS = {
    "diff_int_ops": gen_int_ops,
    "diff_fp_single": functools.partial(gen_fp_ops, "s"),
    "diff_fp_double": functools.partial(gen_fp_ops, "d"),
    **{f"diff_mix_{seed}": functools.partial(gen_mix, seed) for seed in (1, 2, 3)},
}


@functools.cache
def _elf(name: str):
    return build_source(name, PROGRAMS[name]())


@functools.cache
def _qemu_dump(name: str) -> list[str]:
    result = RUNNERS["qemu"].run(_elf(name))
    assert result.passed, f"{name} under QEMU:\n{result.output}"
    return result.output.splitlines()


def _skip_unless(*runners: str) -> None:
    reason = toolchain_missing() or next(
        (why for why in (RUNNERS[r].unavailable() for r in runners) if why), None)
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("name", PROGRAMS)
def test_oracle_dump(name):
    """The reference run completes and dumps every register (runs today)."""
    _skip_unless("qemu")
    lines = _qemu_dump(name)
    assert lines[-2:] == ["END", "PASS"]
    assert sum(1 for line in lines if line.startswith(("x", "f"))) >= 63


@pytest.mark.parametrize("engine", ENGINE_RUNNERS)
@pytest.mark.parametrize("name", PROGRAMS)
def test_pyvirt_matches_qemu(name, engine):
    _skip_unless("qemu", engine)
    expected = _qemu_dump(name)
    result = RUNNERS[engine].run(_elf(name))
    got = result.output.splitlines()
    for i, (want, have) in enumerate(zip(expected, got)):
        assert have == want, f"{name}: line {i + 1} differs: pyvirt {have!r}, QEMU {want!r}"
    assert len(got) == len(expected), (
        f"{name}: pyvirt printed {len(got)} lines, QEMU {len(expected)}; "
        f"pyvirt's tail:\n" + "\n".join(got[-5:]))
    assert result.returncode == 0
