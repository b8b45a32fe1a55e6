"""TCG ops: the RISC-V front end (target/riscv/translate), the optimizer
(tcg/optimize) and the python engine generating its code from ops.

* Every semantics template lowers to well-formed ops, for several operand
  choices; a template form the lowering does not know is an error.
* The optimizer's folds, on hand-made blocks.
* Random instruction sequences run as ops, optimized and not, through the
  python engine, in lockstep with the interpreter (full state and RAM).
* ``-d op,op_opt`` prints the ops before and after the optimizer.
"""

import functools
import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from guestbuild import MACHINE_ARGS, PYVIRT_MODULE, build_source, toolchain_missing
from pyvirt.target.riscv import translate as tr
from pyvirt.target.riscv.cpu_bits import MSTATUS_FS
from pyvirt.target.riscv.decode import Decoded
from pyvirt.target.riscv.semantics import SEMANTICS
from pyvirt.target.riscv.state import F_BASE, PC, X0_SINK
from pyvirt.tcg.ops import OPDEFS, Const, Glob, Label, Op, OpBlock, Temp
from pyvirt.tcg.optimize import optimize
from pyvirt.tcg.pygen import PythonEngine
from test_tcg_python import (
    DRAM_BASE, LOOP_REG, SCRATCH, SCRATCH_REG, Board, Interpreter, branch, enc, flat_body,
    lockstep, program, reg_values,
)

SHIFTS = {"slli", "srli", "srai", "slliw", "srliw", "sraiw"}
OPERAND_SETS = [
    dict(rd=5, rs1=6, rs2=7, rs3=8, imm=12, rm=7, csr=0x300),
    dict(rd=X0_SINK, rs1=0, rs2=0, rs3=0, imm=0, rm=0, csr=0x001),
    dict(rd=10, rs1=10, rs2=10, rs3=10, imm=-2048, rm=0, csr=0xC00),
    dict(rd=F_BASE + 1, rs1=F_BASE + 2, rs2=F_BASE + 3, rs3=F_BASE + 4, imm=63, rm=3, csr=0x180),
]


class Sample:
    def __init__(self, pc, name, fields):
        self.pc = pc
        self.d = Decoded(name, fields, 4, 0x13)


def check_shape(block):
    """Every op has the operand shape OPDEFS gives; labels are defined once."""
    defined = set()
    for op in block.ops:
        d = OPDEFS[op.opc]
        assert d.nout < 0 or len(op.outs) == d.nout, op
        assert d.nin < 0 or len(op.ins) == d.nin, op
        assert len(op.consts) == d.nconst, op
        assert all(isinstance(o, (Glob, Temp)) for o in op.outs), op
        assert all(isinstance(o, (Glob, Temp, Const)) for o in op.ins), op
        assert all(0 <= o.value < 1 << 64 for o in op.ins if isinstance(o, Const)), op
        assert Glob(X0_SINK) not in op.outs and Glob(0) not in op.outs + op.ins, op
        if op.opc == "set_label":
            assert op.consts[0] not in defined
            defined.add(op.consts[0])
    assert block.ops[0].opc == "insn_start"
    assert OPDEFS[block.ops[-1].opc].ends_bb


@pytest.mark.parametrize("name", sorted(SEMANTICS))
def test_every_template_lowers(name):
    for fields in OPERAND_SETS:
        if name in SHIFTS and not 0 <= fields["imm"] < 64:
            continue
        block = tr.translate([Sample(0x80001000, name, fields)])
        check_shape(block)
        check_shape(optimize(block))


def test_an_unknown_template_form_is_an_error(monkeypatch):
    monkeypatch.setitem(tr.TEMPLATES, "add", tr._parse("X[rd] = X[rs1] // X[rs2]"))
    with pytest.raises(tr.TranslateError, match="add.*//"):
        tr.translate([Sample(0x1000, "add", dict(rd=1, rs1=2, rs2=3))])
    # A right shift needs to know the value's signedness: a sum is not exact.
    monkeypatch.setitem(tr.TEMPLATES, "add", tr._parse("X[rd] = (X[rs1] + X[rs2]) >> 3"))
    with pytest.raises(tr.TranslateError, match="exact"):
        tr.translate([Sample(0x1000, "add", dict(rd=1, rs1=2, rs2=3))])


def ops_of(name, **fields):
    return [op for op in tr.translate([Sample(0x1000, name, fields)]).ops
            if op.opc != "insn_start"]


def test_lowering_idioms():
    """The template idioms map to the ops that say what they mean."""
    assert [op.opc for op in ops_of("mulh", rd=5, rs1=6, rs2=7)] == ["mulsh", "goto_tb"]
    assert [op.opc for op in ops_of("mulhsu", rd=5, rs1=6, rs2=7)] == ["mulsuh", "goto_tb"]
    assert [op.opc for op in ops_of("mulhu", rd=5, rs1=6, rs2=7)] == ["muluh", "goto_tb"]
    blt = ops_of("blt", rs1=6, rs2=7, imm=-8)
    assert [(op.opc, op.consts[:1]) for op in blt[:2]] == [("brcond", ("ge",)), ("goto_tb", (0xff8,))]
    assert [op.opc for op in ops_of("sraiw", rd=5, rs1=6, imm=3)] == ["ext32s", "sar", "ext32s",
                                                                       "goto_tb"]
    assert ops_of("slti", rd=5, rs1=6, imm=-1)[0].consts == ("lt",)
    ld = ops_of("lh", rd=5, rs1=6, imm=4)
    assert (ld[1].opc, ld[1].outs, ld[1].consts) == ("qemu_ld", (Glob(5),), (2, True))
    jalr = ops_of("jalr", rd=1, rs1=5, imm=3)
    assert jalr[-1].opc == "exit_tb" and jalr[-2] == Op("mov", (Glob(1),), (Const(0x1004),))
    # x0: reads are the constant 0, a write vanishes but not a load's fault
    assert [op.opc for op in ops_of("add", rd=X0_SINK, rs1=0, rs2=5)] == ["add", "goto_tb"]
    assert ops_of("add", rd=5, rs1=0, rs2=0)[0].ins == (Const(0), Const(0))
    assert [op.opc for op in ops_of("lw", rd=X0_SINK, rs1=5, imm=0)] == ["add", "qemu_ld",
                                                                         "goto_tb"]
    # a helper with constant arguments that are not integers
    fadd = ops_of("fadd_d", rd=F_BASE + 1, rs1=F_BASE + 2, rs2=F_BASE + 3, rm=7)[0]
    assert fadd.opc == "call" and fadd.consts[0] == "FOP2" and fadd.consts[1] == 1
    assert [pos for pos, _ in fadd.consts[2]] == [1]
    assert fadd.consts[2][0][1] is tr.softfloat.add


def test_a_followed_jump_is_no_exit():
    """A block that goes on at a jal's target has no goto_tb for it."""
    insns = [Sample(0x1000, "jal", dict(rd=1, imm=0x100)),
             Sample(0x1100, "addi", dict(rd=5, rs1=5, imm=1))]
    block = tr.translate(insns)
    assert [op.opc for op in block.ops] == ["insn_start", "mov", "insn_start", "add", "goto_tb"]
    assert block.ops[-1].consts == (0x1104,)


# ---- the optimizer on hand-made blocks ------------------------------------------
def g(n):
    return Glob(n)


def t(n):
    return Temp(n)


def c(v):
    return Const(v)


def block(*ops):
    ops = [Op("insn_start", consts=(0x1000, 0))] + list(ops) + [Op("goto_tb", consts=(0x1004,))]
    return OpBlock(0x1000, ops, 1, 16, 4)


def body(b):
    return [(op.opc, op.outs, op.ins) for op in optimize(b).ops[1:-1]]


def test_fold_constants_through_temps_and_state_words():
    b = block(Op("mov", (t(0),), (c(5),)),
              Op("add", (t(1),), (t(0), c(7))),
              Op("shl", (g(5),), (t(1), c(4))),
              Op("sub", (g(6),), (g(5), c(0xC0))))
    assert body(b) == [("mov", (g(5),), (c(0xC0),)), ("mov", (g(6),), (c(0),))]


def test_copies_and_identities():
    b = block(Op("add", (t(0),), (g(5), c(0))),          # t0 is g5
              Op("and", (t(1),), (t(0), c((1 << 64) - 1))),
              Op("xor", (t(2),), (t(1), t(0))),          # x ^ x
              Op("or", (g(6),), (t(1), t(2))),
              Op("mul", (g(7),), (g(5), c(1))),
              Op("ext32s", (t(3),), (g(5),)),
              Op("ext32s", (g(8),), (t(3),)),            # ext32s(ext32s x)
              Op("ext32u", (t(4),), (g(5),)),
              Op("ext32s", (g(9),), (t(4),)))            # ext32s(ext32u x)
    assert body(b) == [("mov", (g(6),), (g(5),)), ("mov", (g(7),), (g(5),)),
                       ("ext32s", (t(3),), (g(5),)), ("mov", (g(8),), (t(3),)),
                       ("ext32s", (g(9),), (g(5),))]


def test_dead_state_writes_but_not_across_a_possible_exception():
    b = block(Op("mov", (g(5),), (c(1),)),               # dead: written again below
              Op("mov", (g(6),), (c(2),)),               # live: the load may fault
              Op("mov", (g(5),), (c(3),)),
              Op("qemu_ld", (g(7),), (g(8),), (8, False)),
              Op("mov", (g(6),), (c(4),)),
              Op("add", (t(0),), (g(8), c(1))))          # dead temp
    assert body(b) == [("mov", (g(6),), (c(2),)), ("mov", (g(5),), (c(3),)),
                       ("qemu_ld", (g(7),), (g(8),)), ("mov", (g(6),), (c(4),))]


def test_a_call_forgets_state_words():
    b = block(Op("mov", (g(5),), (c(1),)),
              Op("call", (), (c(0),), ("CSR", 0, ())),
              Op("add", (g(6),), (g(5), c(1))))
    assert body(b)[-1] == ("add", (g(6),), (g(5), c(1)))


def test_branches_on_constants_and_facts_at_labels():
    taken, never, skip = Label(0), Label(1), Label(2)
    b = block(Op("mov", (g(5),), (c(1),)),
              Op("brcond", (), (g(5), c(1)), ("eq", taken)),        # always
              Op("mov", (g(6),), (c(9),)),                          # unreachable
              Op("set_label", consts=(taken,)),
              Op("brcond", (), (g(5), c(0)), ("eq", never)),        # never
              Op("goto_tb", consts=(0x2000,)),
              Op("set_label", consts=(never,)),                     # nothing jumps here
              Op("mov", (g(7),), (c(3),)))
    assert [op.opc for op in optimize(b).ops] == ["insn_start", "mov", "goto_tb"]
    # A branch that depends on run time: what both ways know survives the label.
    b = block(Op("mov", (g(5),), (c(1),)),
              Op("brcond", (), (g(9), c(0)), ("eq", skip)),
              Op("goto_tb", consts=(0x2000,)),
              Op("set_label", consts=(skip,)),
              Op("add", (g(6),), (g(5), c(1))))
    assert body(b)[-1] == ("mov", (g(6),), (c(2),))


# ---- random sequences as ops, optimized and not -----------------------------------
#: Instructions per engine step: loops inside a block run several passes.
BUDGET = 200
UNOPTIMIZED = functools.partial(PythonEngine, hot_after=1, optimizer=None)
OPTIMIZED = functools.partial(PythonEngine, hot_after=1)
FREGS = [F_BASE + r for r in (1, 2, 3)]
#: FP ops, and the rounding mode field where it is one (dynamic: 7).
FP_OPS = {"fadd_d": 7 << 12, "fmul_d": 7 << 12, "fsub_d": 7 << 12, "fmin_d": 0, "fsgnj_d": 0}
fp = st.builds(lambda n, d, a, b: [enc(n, rd=d - F_BASE, rs1=a - F_BASE, rs2=b - F_BASE) | FP_OPS[n]],
               st.sampled_from(sorted(FP_OPS)),
               st.sampled_from(FREGS), st.sampled_from(FREGS), st.sampled_from(FREGS))
fmv = st.one_of(st.builds(lambda d, a: [enc("fmv_d_x", rd=d - F_BASE, rs1=a)],
                          st.sampled_from(FREGS), st.sampled_from([5, 6, 7])),
                st.builds(lambda d, a: [enc("fmv_x_d", rd=d, rs1=a - F_BASE)],
                          st.sampled_from([0, 5, 6]), st.sampled_from(FREGS)))
amo = st.builds(lambda n, d, s: [enc(n, rd=d, rs1=SCRATCH_REG, rs2=0 if n.startswith("lr") else s)],
                st.sampled_from(["amoadd_d", "amoswap_w", "amomaxu_d", "lr_d", "sc_d"]),
                st.sampled_from([0, 5, 6]), st.sampled_from([5, 6, 7]))
helpers = st.lists(st.one_of(fp, fmv, amo), min_size=1, max_size=8) \
    .map(lambda parts: [w for p in parts for w in p] + [enc("jal", imm=0)])


def boards(words, regs, engine):
    code = struct.pack(f"<{len(words)}I", *words)
    pair = []
    for cls in (Interpreter, engine):
        b = Board(cls)
        b.machine.bus.write_bytes(DRAM_BASE, code)
        b.words[PC] = DRAM_BASE
        b.hart.state.mstatus |= MSTATUS_FS
        for r, v in regs.items():
            b.words[r] = v
        pair.append(b)
    return pair


def parked(words):
    """``words`` ending in ``wfi`` instead of ``j .``: with interrupts off the
    hart then stops there, so both machines end at the same instruction count
    (a loop at the end would let a miscount catch up)."""
    assert words[-1] == enc("jal", imm=0)
    return words[:-1] + [enc("wfi")]


def run_both_ways(words, values, regs=None, ram_window=(0x10000, 0x11000)):
    """Lockstep with the interpreter, as ops optimized and not; traps go to the
    final wfi."""
    words = parked(words)
    regs = {**dict(zip([1, 5, 6, 7, 8, 9, 10, 11], values)), SCRATCH_REG: SCRATCH, **(regs or {})}
    end = DRAM_BASE + 4 * (len(words) - 1)
    for engine in (UNOPTIMIZED, OPTIMIZED):
        ref, dut = boards(words, regs, engine)
        for b in (ref, dut):
            b.hart.state.mtvec = end
        lockstep(ref, dut, 5000, until=Board.stuck, ram_window=ram_window, budget=BUDGET)
        assert dut.hart.waiting and dut.words[PC] == end + 4


@settings(max_examples=40, deadline=None)
@given(program, reg_values)
def test_random_integer_sequences_as_ops(words, values):
    run_both_ways(words, values)


@settings(max_examples=25, deadline=None)
@given(helpers, reg_values)
def test_random_helper_sequences_as_ops(words, values):
    run_both_ways(words, values)


RAM_END = DRAM_BASE + 16 * (1 << 20)        # Board's RAM


def _faulting_loop(count, body):
    """A loop whose loads and stores (through x31) walk up past the end of RAM:
    the access fault comes in a later pass, with registers of this pass and
    the one before dirty."""
    back = -4 * (len(body) + 2)
    return ([enc("addi", rd=LOOP_REG, imm=count)] + body
            + [enc("addi", rd=SCRATCH_REG, rs1=SCRATCH_REG, imm=512),
               enc("addi", rd=LOOP_REG, rs1=LOOP_REG, imm=-1),
               enc("bne", rs1=LOOP_REG, rs2=0, imm=back)])


faulting = st.builds(_faulting_loop, st.integers(2, 6), flat_body) \
    .map(lambda words: words + [enc("jal", imm=0)])
#: A loop with a branch inside: its taken side leaves the block mid-pass.
exiting = st.builds(lambda count, a, b, c: _faulting_loop(count, a + b + c), st.integers(2, 6),
                    flat_body, branch, flat_body).map(lambda words: words + [enc("jal", imm=0)])


@settings(max_examples=30, deadline=None)
@given(st.one_of(faulting, exiting), reg_values)
def test_random_faults_in_later_loop_passes(words, values):
    run_both_ways(words, values, {SCRATCH_REG: RAM_END - 2048},
                  (RAM_END - 4096 - DRAM_BASE, RAM_END - DRAM_BASE))



# ---- -d op,op_opt ---------------------------------------------------------------
#: A loop that runs often enough for the python engine to compile it.
LOOP_PROGRAM = """
#include "harness.h"
    .text
    .globl test_main
test_main:
    li a0, 1000
    li a1, 0
1:  add a1, a1, a0
    addi a0, a0, -1
    bnez a0, 1b
    TEST_PASSFAIL
"""


def test_op_logs():
    reason = toolchain_missing()
    if reason:
        pytest.skip(reason)
    elf = build_source("tcg_ops_loop", LOOP_PROGRAM)
    proc = subprocess.run([sys.executable, "-m", PYVIRT_MODULE, "-accel", "tcg,engine=python",
                           "-d", "op,op_opt", *MACHINE_ARGS, str(elf)],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err[-2000:]
    lines = err.splitlines()
    before, after = lines.count("OP:"), lines.count("OP after optimization:")
    assert before and before == after
    assert " ---- 0000000080" in err and "goto_tb" in err
