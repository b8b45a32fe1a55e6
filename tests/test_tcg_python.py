"""The python TCG engine (``-accel tcg,engine=python``) against the interpreter.

(tests/test_isa.py runs the ISA guest programs under every engine.)

* Lockstep (``pyvirt.cli.lockstep``): the interpreter and the engine run two machines built from the
  same program, block by block: after each block of the engine the
  interpreter is advanced to the same retired-instruction count, and the
  whole architectural state (x, f, pc, privilege, CSRs, reservation) must
  be equal, and RAM too.  Time is the retired-instruction count, so both
  machines see the same timer values and interrupts.  This runs over the
  guest programs, over random instruction sequences (hypothesis), and over
  self-modifying code and faults in the middle of a block.
"""

import functools
import struct

import pytest
from hypothesis import given, settings, strategies as st

from guestbuild import build_program, program_names, toolchain_missing
from pyvirt.hw.misc import sifive_test
from pyvirt.machine.riscv_virt import DRAM_BASE, VirtConfig
from pyvirt.target.riscv.decode import TABLE
from pyvirt.target.riscv.interp import Interpreter
from pyvirt.target.riscv.state import PC
from pyvirt.cli.lockstep import Board, lockstep
from pyvirt.tcg.pygen import PythonEngine
from pyvirt.tcg.pygen.tb import TBCache

MiB = 1 << 20
#: The engine compiling every block the first time (no interpreted cold code),
#: so that lockstep runs compare generated code with the interpreter.
COMPILED = functools.partial(PythonEngine, hot_after=1)


def small_cache(hart):
    """Compiling every block, into a cache so small that it is flushed all the time."""
    return PythonEngine(hart, hot_after=1, cache=TBCache(max_tbs=8))


def _skip_without_toolchain():
    reason = toolchain_missing()
    if reason:
        pytest.skip(reason)


# ---- lockstep (pyvirt.cli.lockstep) ----------------------------------------------
def board(engine, kernel=None):
    return Board(engine, VirtConfig(ram_size=16 * MiB, kernel=kernel and str(kernel)))


@pytest.mark.parametrize("engine", [COMPILED, PythonEngine, small_cache],
                         ids=["compiled", "tiered", "small-cache"])
@pytest.mark.parametrize("program", program_names())
def test_lockstep_guest_program(program, engine):
    _skip_without_toolchain()
    elf = build_program(program)
    ref, dut = board(Interpreter, elf), board(engine, elf)
    lockstep(ref, dut, max_insns=3_000_000, until=Board.stuck)
    assert dut.finished is not None, f"{program} did not finish in lockstep"
    assert dut.finished[0] != sifive_test.FAIL, f"{program} failed: {dut.finished}"


# ---- hand-assembled code --------------------------------------------------------
_ENC = {name: (match, fmt) for name, _mask, match, fmt in TABLE}


def enc(name, rd=0, rs1=0, rs2=0, imm=0):
    """Encode one 32-bit instruction from the decoder's own table."""
    match, fmt = _ENC[name]
    if fmt in ("R", "CSR"):
        return match | rd << 7 | rs1 << 15 | rs2 << 20 | (imm & 0xFFF) << 20 * (fmt == "CSR")
    if fmt in ("I", "SH6", "SH5"):
        return match | rd << 7 | rs1 << 15 | (imm & 0xFFF) << 20
    if fmt == "S":
        return match | rs1 << 15 | rs2 << 20 | (imm & 0x1F) << 7 | (imm >> 5 & 0x7F) << 25
    if fmt == "B":
        return (match | rs1 << 15 | rs2 << 20 | (imm >> 11 & 1) << 7 | (imm >> 1 & 0xF) << 8
                | (imm >> 5 & 0x3F) << 25 | (imm >> 12 & 1) << 31)
    if fmt == "U":
        return match | rd << 7 | (imm & 0xFFFFF000)
    if fmt == "J":
        return (match | rd << 7 | (imm >> 12 & 0xFF) << 12 | (imm >> 11 & 1) << 20
                | (imm >> 1 & 0x3FF) << 21 | (imm >> 20 & 1) << 31)
    return match


def boards_with_code(words, regs=None, setup=None):
    """(interp, python) boards with ``words`` at DRAM_BASE, pc there, M-mode."""
    code = struct.pack(f"<{len(words)}I", *words)
    pair = []
    for cls in (Interpreter, COMPILED):
        b = Board(cls)
        b.machine.bus.write_bytes(DRAM_BASE, code)
        b.words[PC] = DRAM_BASE
        for r, v in (regs or {}).items():
            b.words[r] = v
        if setup:
            setup(b)
        pair.append(b)
    return pair


def at(addr):
    return lambda b: b.words[PC] == addr


def test_encoder_round_trip():
    from pyvirt.target.riscv.decode import decode
    d = decode(enc("sd", rs1=5, rs2=6, imm=-24))
    assert (d.name, d.fields) == ("sd", {"rs1": 5, "rs2": 6, "imm": -24})
    d = decode(enc("bne", rs1=1, rs2=2, imm=-4096))
    assert (d.name, d.fields["imm"]) == ("bne", -4096)
    d = decode(enc("jal", rd=1, imm=-8))
    assert (d.name, d.fields["imm"]) == ("jal", -8)


def test_self_modifying_code_within_a_block():
    """A store rewrites the next instruction of the running block: it runs the new one."""
    new = enc("addi", rd=5, imm=2)
    words = [enc("sw", rs1=7, rs2=6, imm=0),      # rewrite the next instruction
             enc("addi", rd=5, imm=1),             # becomes addi x5, x0, 2
             enc("addi", rd=8, rs1=5, imm=10),
             enc("jal", imm=0)]                    # j .
    end = DRAM_BASE + 12
    ref, dut = boards_with_code(words, {6: new, 7: DRAM_BASE + 4})
    lockstep(ref, dut, 100, until=at(end))
    assert dut.words[5] == 2 and dut.words[8] == 12
    # The same code at the same pc once more, now with the original bytes: the
    # block is translated again, not taken from a stale cache.
    for b in (ref, dut):
        b.machine.bus.write_bytes(DRAM_BASE + 4, struct.pack("<I", enc("addi", rd=5, imm=3)))
        b.words[6] = enc("addi", rd=5, imm=3)
        b.words[PC] = DRAM_BASE
    lockstep(ref, dut, 200, until=at(end))
    assert dut.words[5] == 3


def test_self_modifying_code_in_a_loop():
    """A loop block that patches its own body every iteration (loop counter x9)."""
    words = [enc("addi", rd=9, imm=5),                       # 0: x9 = 5
             enc("addi", rd=10, rs1=10, imm=1),              # 4: loop: x10 += 1 (patched)
             enc("addi", rd=6, rs1=6, imm=1 << 7),           # 8: bump the rd field: x10 -> x11...
             enc("sw", rs1=7, rs2=6, imm=0),                 # c: store over insn at 4
             enc("addi", rd=9, rs1=9, imm=-1),               # 10
             enc("bne", rs1=9, rs2=0, imm=-16),              # 14: back to 4
             enc("jal", imm=0)]                              # 18
    first = enc("addi", rd=10, rs1=10, imm=1)
    ref, dut = boards_with_code(words, {6: first, 7: DRAM_BASE + 4})
    lockstep(ref, dut, 1000, until=at(DRAM_BASE + 0x18))
    # Pass k ran "addi x(10+k), x10, 1": each pass ran the instruction the
    # previous pass stored.
    assert [dut.words[r] for r in range(10, 15)] == [1, 2, 2, 2, 2]


def test_access_fault_in_the_middle_of_a_block():
    """Registers written before the faulting load are stored, pc and minstret exact."""
    handler = DRAM_BASE + 0x100
    words = [enc("addi", rd=5, imm=7),
             enc("addi", rd=6, rs1=5, imm=1),
             enc("ld", rd=7, rs1=0, imm=0x10),             # no memory at 0x10: load access fault
             enc("addi", rd=8, imm=9),
             enc("jal", imm=0)]
    words += [0] * ((0x100 - 4 * len(words)) // 4) + [enc("jal", imm=0)]

    def setup(b):
        b.hart.state.mtvec = handler

    ref, dut = boards_with_code(words, setup=setup)
    lockstep(ref, dut, 100, until=at(handler))
    st = dut.hart.state
    assert (dut.words[5], dut.words[6], dut.words[7], dut.words[8]) == (7, 8, 0, 0)
    assert (st.mcause, st.mepc, st.mtval, st.minstret) == (5, DRAM_BASE + 8, 0x10, 2)


def test_page_fault_in_the_middle_of_a_block():
    """S-mode under Sv39: a store to an unmapped page faults mid-block."""
    root = DRAM_BASE + 0x4000
    handler = DRAM_BASE + 0x100
    words = [enc("addi", rd=5, imm=3),
             enc("sd", rs1=10, rs2=5, imm=0),             # mapped: DRAM gigapage
             enc("addi", rd=6, imm=4),
             enc("sd", rs1=11, rs2=6, imm=8),             # 0x40000008: unmapped
             enc("addi", rd=7, imm=5),
             enc("jal", imm=0)]
    words += [0] * ((0x100 - 4 * len(words)) // 4) + [enc("jal", imm=0)]
    scratch = DRAM_BASE + 0x8000

    def setup(b):
        pte = (DRAM_BASE >> 12) << 10 | 0xCF           # V R W X A D: a 1 GiB leaf
        b.machine.bus.write_bytes(root + 8 * 2, struct.pack("<Q", pte))
        s = b.hart.state
        s.mtvec = handler
        s.satp = 8 << 60 | root >> 12
        b.hart.set_priv(1)

    ref, dut = boards_with_code(words, {10: scratch, 11: 0x40000000}, setup=setup)
    lockstep(ref, dut, 100, until=at(handler))
    st = dut.hart.state
    assert (dut.words[5], dut.words[6], dut.words[7]) == (3, 4, 0)
    assert (st.mcause, st.mepc, st.mtval) == (15, DRAM_BASE + 12, 0x40000008)
    assert dut.ram(0x8000, 0x8008) == struct.pack("<Q", 3)


# ---- random instruction sequences ---------------------------------------------
ALU_R = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and", "addw", "subw",
         "sllw", "srlw", "sraw", "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
         "mulw", "divw", "divuw", "remw", "remuw"]
ALU_I = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"]
SHIFT_I = {"slli": 63, "srli": 63, "srai": 63, "slliw": 31, "srliw": 31, "sraiw": 31}
LOADS = ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"]
STORES = ["sb", "sh", "sw", "sd"]
BRANCHES = ["beq", "bne", "blt", "bge", "bltu", "bgeu"]
SCRATCH_REG, LOOP_REG = 31, 30
SCRATCH = DRAM_BASE + 0x10000
REGS = st.sampled_from([0, 1, 5, 6, 7, 8, 9, 10])     # few, so results feed each other
IMM12 = st.integers(-2048, 2047)

alu_r = st.builds(lambda n, d, a, b: [enc(n, rd=d, rs1=a, rs2=b)],
                  st.sampled_from(ALU_R), REGS, REGS, REGS)
alu_i = st.builds(lambda n, d, a, i: [enc(n, rd=d, rs1=a, imm=i)],
                  st.sampled_from(ALU_I), REGS, REGS, IMM12)
shift_i = st.sampled_from(sorted(SHIFT_I)).flatmap(
    lambda n: st.builds(lambda d, a, s: [enc(n, rd=d, rs1=a, imm=s | (0x400 if n.startswith("sra") else 0))],
                        REGS, REGS, st.integers(0, SHIFT_I[n])))
upper = st.builds(lambda n, d, i: [enc(n, rd=d, imm=i << 12)],
                  st.sampled_from(["lui", "auipc"]), REGS, st.integers(0, 0xFFFFF))
load = st.builds(lambda n, d, off: [enc(n, rd=d, rs1=SCRATCH_REG, imm=off)],
                 st.sampled_from(LOADS), REGS, st.integers(0, 2040))
store = st.builds(lambda n, s, off: [enc(n, rs1=SCRATCH_REG, rs2=s, imm=off)],
                  st.sampled_from(STORES), REGS, st.integers(0, 2040))
simple = st.one_of(alu_r, alu_i, shift_i, upper, load, store)


def _branch_over(name, a, b, body):
    """``if cond: skip body`` -- a forward branch over a few instructions."""
    return [enc(name, rs1=a, rs2=b, imm=4 * (len(body) + 1))] + body


def _counted_loop(count, body):
    """x30 = count; do body while --x30 != 0 (a backward branch)."""
    back = -4 * (len(body) + 1)
    return ([enc("addi", rd=LOOP_REG, imm=count)] + body
            + [enc("addi", rd=LOOP_REG, rs1=LOOP_REG, imm=-1),
               enc("bne", rs1=LOOP_REG, rs2=0, imm=back)])


flat_body = st.lists(st.one_of(alu_r, alu_i, shift_i, load, store), min_size=1, max_size=4) \
    .map(lambda parts: [w for p in parts for w in p])
branch = st.builds(_branch_over, st.sampled_from(BRANCHES), REGS, REGS, flat_body)
loop = st.builds(_counted_loop, st.integers(1, 6), flat_body)
program = st.lists(st.one_of(simple, simple, branch, loop), min_size=1, max_size=40) \
    .map(lambda parts: [w for p in parts for w in p] + [enc("jal", imm=0)])
reg_values = st.lists(st.one_of(st.integers(0, (1 << 64) - 1), st.sampled_from(
    [0, 1, 2, (1 << 63), (1 << 64) - 1, (1 << 31), (1 << 32) - 1, 0xFFFFFFFF80000000])),
    min_size=8, max_size=8)


@settings(max_examples=60, deadline=None)
@given(program, reg_values)
def test_lockstep_random_sequences(words, values):
    regs = dict(zip([1, 5, 6, 7, 8, 9, 10, 11], values))
    regs[SCRATCH_REG] = SCRATCH
    ref, dut = boards_with_code(words, regs)
    end = DRAM_BASE + 4 * (len(words) - 1)
    lockstep(ref, dut, 5000, until=at(end), ram_window=(0x10000, 0x11000))
    assert dut.words[PC] == end


def test_block_source_for_debugging():
    """``tb_source(pc)``: the generated Python of the block at pc, compiled on demand."""
    words = [enc("addi", rd=5, imm=1), enc("bne", rs1=5, rs2=0, imm=-4)]
    _, dut = boards_with_code(words)
    engine = PythonEngine(dut.hart)         # tiered: this code is still cold
    source = engine.tb_source(DRAM_BASE)
    assert source.startswith(f"def tb_{DRAM_BASE:x}(left")
    assert "x5 = 1" in source and "while True:" in source
