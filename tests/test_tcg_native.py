"""The native TCG engine (``-accel tcg,engine=native``, x86-64 hosts).

* The encoder's bytes disassemble (capstone) to the instruction meant.
* Hand-built op blocks compute what the ops define (division by zero and
  overflow, high products, compares, extensions, labels).
* The python engine's lockstep cases (guest programs, self-modifying code,
  faults mid-block, hypothesis random sequences) run again with the native
  engine as the machine under test, compiling every block at once.
* Native specifics: a fetch fault on the page after a block, an instruction
  across a page boundary, an interrupt raised by another thread while
  native code loops without leaving, and a code buffer far smaller than the
  program (flushed again and again, memory bounded).
"""

import functools
import platform
import struct
import threading
import time

import pytest

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 hosts only")

import test_tcg_python as base  # noqa: E402
from test_tcg_python import Board, at, enc, lockstep  # noqa: E402

from pyvirt.machine.riscv_virt import DRAM_BASE  # noqa: E402
from pyvirt.target.riscv.interp import Interpreter  # noqa: E402
from pyvirt.target.riscv.state import PC  # noqa: E402
from pyvirt.tcg.ops import M64, Const, Glob, Label, Op, OpBlock, Temp  # noqa: E402
from pyvirt.tcg.x86_64.asm import (R8, R12, R13, RAX, RBP, RBX, RCX, RDX, RSI, RSP,  # noqa: E402
                                   Asm, Mem)
from pyvirt.tcg.x86_64.engine import NativeEngine  # noqa: E402

capstone = pytest.importorskip("capstone")

#: Every block compiled the first time it is reached, so lockstep compares native code.
COMPILED = functools.partial(NativeEngine, hot_after=1)
#: A code buffer of 64 KiB: programs overflow it, so it is flushed over and over.
TINY_BUFFER = functools.partial(NativeEngine, hot_after=1, tb_size=1 / 16)
MIP_MTIP = 1 << 7
MSTATUS_MIE = 1 << 3


# ---- the encoder -------------------------------------------------------------------
ENCODINGS = [
    (lambda a: a.mov(RAX, Mem(RBP, 0x28)), "mov rax, qword ptr [rbp + 0x28]"),
    (lambda a: a.mov(Mem(RBX, 0x1000), R12), "mov qword ptr [rbx + 0x1000], r12"),
    (lambda a: a.mov(R13, Mem(R13)), "mov r13, qword ptr [r13]"),
    (lambda a: a.mov(RAX, Mem(RSP, 8)), "mov rax, qword ptr [rsp + 8]"),
    (lambda a: a.mov(RAX, Mem(R12)), "mov rax, qword ptr [r12]"),
    (lambda a: a.mov_imm(RAX, 5), "mov eax, 5"),
    (lambda a: a.mov_imm(R8, M64 - 0xFF), "mov r8, 0xffffffffffffff00"),
    (lambda a: a.mov_imm(RCX, 0x123456789A), "movabs rcx, 0x123456789a"),
    (lambda a: a.mov_imm(Mem(RBP, 16), 7), "mov qword ptr [rbp + 0x10], 7"),
    (lambda a: a.load(RAX, Mem(RAX, 0, RCX), 1, True), "movsx rax, byte ptr [rax + rcx]"),
    (lambda a: a.load(RAX, Mem(RAX), 2, False), "movzx eax, word ptr [rax]"),
    (lambda a: a.load(RDX, Mem(RAX), 4, True), "movsxd rdx, dword ptr [rax]"),
    (lambda a: a.load(RDX, Mem(RAX), 4, False), "mov edx, dword ptr [rax]"),
    (lambda a: a.store(Mem(RAX), RSI, 1), "mov byte ptr [rax], sil"),
    (lambda a: a.store(Mem(R8), RCX, 2), "mov word ptr [r8], cx"),
    (lambda a: a.store(Mem(RAX, -4), RCX, 4), "mov dword ptr [rax - 4], ecx"),
    (lambda a: a.alu("sub", RAX, Mem(RBP, 256)), "sub rax, qword ptr [rbp + 0x100]"),
    (lambda a: a.alu("cmp", Mem(RBX, 8), RDX), "cmp qword ptr [rbx + 8], rdx"),
    (lambda a: a.alu_imm("and", RAX, -4096), "and rax, 0xfffffffffffff000"),
    (lambda a: a.alu_imm("sub", Mem(RBX, 8), 3), "sub qword ptr [rbx + 8], 3"),
    (lambda a: a.shift_imm("sar", RAX, 3), "sar rax, 3"),
    (lambda a: a.shift_cl("shl", RDX), "shl rdx, cl"),
    (lambda a: a.unary("imul1", RCX), "imul rcx"),
    (lambda a: a.unary("div", Mem(RBX, 64)), "div qword ptr [rbx + 0x40]"),
    (lambda a: a.imul(RAX, Mem(RBP, 8)), "imul rax, qword ptr [rbp + 8]"),
    (lambda a: a.setcc("ae", RDX), "setae dl; movzx edx, dl"),
    (lambda a: a.test(RAX, RAX, w=False), "test eax, eax"),
    (lambda a: a.call_reg(Mem(RBX, 32)), "call qword ptr [rbx + 0x20]"),
    (lambda a: a.jmp_reg(Mem(RBX, 8, RCX)), "jmp qword ptr [rbx + rcx + 8]"),
    (lambda a: a.lea(RDX, Mem(RAX, 7)), "lea rdx, [rax + 7]"),
    (lambda a: (a.push(R12), a.pop(RBX)), "push r12; pop rbx"),
]


@pytest.mark.parametrize("emit,text", ENCODINGS, ids=[t for _, t in ENCODINGS])
def test_encoding_disassembles_to(emit, text):
    a = Asm()
    emit(a)
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    insns = list(md.disasm(bytes(a.code), 0))
    assert sum(i.size for i in insns) == len(a.code)
    assert "; ".join(f"{i.mnemonic} {i.op_str}".strip() for i in insns) == text


def test_jump_targets():
    a = Asm(base=0x1000)
    at_ = a.jcc("ne")
    a.jmp(0x1000)
    a.patch(at_, 0x2000)
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    assert [f"{i.mnemonic} {i.op_str}" for i in md.disasm(bytes(a.code), 0x1000)] == \
        ["jne 0x2000", "jmp 0x1000"]


# ---- hand-built op blocks -------------------------------------------------------------
MIN = 1 << 63


def run_ops(body, regs):
    """Run ``body`` (ops of one instruction) as a block on a fresh board; returns the words."""
    board = Board(COMPILED)
    for r, v in regs.items():
        board.words[r] = v
    ops = [Op("insn_start", consts=(DRAM_BASE, 0))] + body + \
        [Op("goto_tb", consts=(DRAM_BASE + 4,))]
    ntemps = 1 + max([a.n for op in body for a in op.outs + op.ins if isinstance(a, Temp)],
                     default=0)
    engine = board.engine
    code = engine._emit(OpBlock(DRAM_BASE, ops, 1, ntemps, 2))
    assert engine._entry(code, DRAM_BASE, False)(10) == (DRAM_BASE + 4, 1)
    return board.words


def binop(opc, x, y):
    return run_ops([Op(opc, (Glob(7),), (Glob(5), Glob(6)))], {5: x, 6: y})[7]


@pytest.mark.parametrize("opc,x,y,want", [
    ("div", 7, 0, M64), ("rem", 7, 0, 7), ("divu", 7, 0, M64), ("remu", 7, 0, 7),
    ("div", MIN, M64, MIN), ("rem", MIN, M64, 0), ("div", M64 - 6, 2, M64 - 2),
    ("rem", M64 - 6, 2, M64), ("divu", M64, 2, M64 >> 1), ("remu", 9, 4, 1),
    ("mulsh", M64, 5, M64), ("muluh", M64, 5, 4), ("mulsuh", M64, 5, M64),
    ("mulsuh", 3, M64, 2), ("mul", 1 << 40, 1 << 30, 0), ("sar", MIN, 63, M64),
    ("shr", MIN, 63, 1), ("shl", 3, 62, MIN | (1 << 62)), ("sub", 0, 1, M64),
])
def test_arithmetic_op(opc, x, y, want):
    assert binop(opc, x, y) == want


@pytest.mark.parametrize("cond,x,y,want", [
    ("lt", M64, 0, 1), ("ltu", M64, 0, 0), ("ge", 0, M64, 1), ("geu", 0, M64, 0),
    ("eq", 5, 5, 1), ("ne", 5, 5, 0),
])
def test_setcond_and_brcond(cond, x, y, want):
    w = run_ops([Op("setcond", (Glob(7),), (Glob(5), Glob(6)), (cond,)),
                 Op("mov", (Glob(8),), (Const(0),)),
                 Op("brcond", (), (Glob(5), Glob(6)), (cond, Label(0))),
                 Op("mov", (Glob(8),), (Const(M64),)),      # a 64-bit constant
                 Op("set_label", consts=(Label(0),))], {5: x, 6: y})
    assert (w[7], w[8]) == (want, 0 if want else M64)


def test_extensions_and_temporaries():
    ops = [Op("ext8s", (Temp(0),), (Glob(5),)), Op("ext16u", (Temp(1),), (Glob(5),)),
           Op("ext32s", (Temp(2),), (Glob(5),)), Op("add", (Glob(6),), (Temp(0), Temp(1))),
           Op("xor", (Glob(7),), (Temp(2), Const(0x123456789))),
           Op("ext32u", (Glob(8),), (Const(M64),))]
    w = run_ops(ops, {5: 0x8000_FF80})
    assert (w[6], w[7], w[8]) == ((0xFF80 - 0x80) & M64, (0xFFFFFFFF8000FF80 ^ 0x123456789),
                                  0xFFFFFFFF)


# ---- the python engine's lockstep cases, native ---------------------------------------
@pytest.fixture
def native_boards(monkeypatch):
    """``boards_with_code`` of test_tcg_python builds (interp, native) pairs."""
    monkeypatch.setattr(base, "COMPILED", COMPILED)


@pytest.mark.parametrize("engine", [COMPILED, NativeEngine, TINY_BUFFER],
                         ids=["compiled", "tiered", "tiny-buffer"])
@pytest.mark.parametrize("program", base.program_names())
def test_lockstep_guest_program(program, engine):
    base.test_lockstep_guest_program(program, engine)


@pytest.mark.parametrize("case", [
    base.test_self_modifying_code_within_a_block, base.test_self_modifying_code_in_a_loop,
    base.test_access_fault_in_the_middle_of_a_block, base.test_page_fault_in_the_middle_of_a_block,
    base.test_lockstep_random_sequences,
], ids=lambda f: f.__name__[len("test_"):])
def test_python_engine_case(case, native_boards):
    case()


# ---- page boundaries, interrupts, the code buffer ----------------------------------------
RAM_END = DRAM_BASE + 16 * (1 << 20)


def _pair_at(addr, code, setup=None):
    pair = []
    for cls in (Interpreter, COMPILED):
        b = Board(cls)
        b.machine.bus.write_bytes(addr, code)
        b.words[PC] = addr
        b.hart.state.mtvec = DRAM_BASE + 0x100
        b.machine.bus.write_bytes(DRAM_BASE + 0x100, struct.pack("<I", enc("jal", imm=0)))
        pair.append(b)
    return pair


def test_fetch_fault_on_the_page_after_a_block():
    """Code runs to the last bytes of RAM: the block ends at the page end, and the
    fetch from past RAM faults with mepc there and minstret exact."""
    code = struct.pack("<II", enc("addi", rd=5, imm=1), enc("addi", rd=6, imm=2))
    ref, dut = _pair_at(RAM_END - 8, code)
    lockstep(ref, dut, 100, until=at(DRAM_BASE + 0x100))
    st = dut.hart.state
    assert (dut.words[5], dut.words[6], st.mcause, st.mepc, st.minstret) == (1, 2, 1, RAM_END, 2)


def test_instruction_across_a_page_boundary():
    """A 32-bit instruction at offset 4094, then falling through to the next page."""
    page = DRAM_BASE + 0x3000
    c_nop = struct.pack("<H", 0x0001)
    code = c_nop * 3 + struct.pack("<IIII", enc("addi", rd=5, rs1=5, imm=3),
                                   enc("addi", rd=6, rs1=5, imm=1), enc("sub", rd=7, rs1=6, rs2=5),
                                   enc("jal", imm=0))
    ref, dut = _pair_at(page - 6, code)
    end = page + 2 + 12
    lockstep(ref, dut, 100, until=at(end))
    assert (dut.words[5], dut.words[6], dut.words[7]) == (3, 4, 1)


def test_fault_on_the_second_half_of_an_instruction():
    """A 32-bit instruction whose second half is past RAM: instruction access fault."""
    ref, dut = _pair_at(RAM_END - 4, struct.pack("<H", 0x0001) + struct.pack("<I", 0x00a00293)[:2])
    lockstep(ref, dut, 100, until=at(DRAM_BASE + 0x100))
    assert dut.hart.state.mcause == 1 and dut.hart.state.minstret == 1


def test_interrupt_during_a_long_native_loop():
    """A timer interrupt raised by another thread while the guest spins in a loop
    that native code chains to itself: it is taken at the next block boundary."""
    marker = DRAM_BASE + 0x8000
    loop = [enc("addi", rd=5, rs1=5, imm=1), enc("jal", imm=-4)]
    handler = [enc("sd", rs1=6, rs2=5, imm=0),
               enc("csrrw", rd=0, rs1=0, imm=0x304),      # mie = 0, then wfi parks the hart
               enc("wfi"), enc("jal", imm=0)]
    board = Board(COMPILED)
    bus = board.machine.bus
    bus.write_bytes(DRAM_BASE, struct.pack("<2I", *loop))
    bus.write_bytes(DRAM_BASE + 0x100, struct.pack("<4I", *handler))
    st = board.hart.state
    st.mtvec = DRAM_BASE + 0x100
    st.mie = MIP_MTIP
    st.mstatus = MSTATUS_MIE
    board.words[6] = marker
    board.words[PC] = DRAM_BASE
    done = []
    worker = threading.Thread(target=lambda: done.append(board.engine.run(1 << 40)))
    worker.start()
    deadline = time.monotonic() + 20
    while board.words[5] < 100_000 and time.monotonic() < deadline:
        time.sleep(0.001)            # the loop counter, in the state native code writes
    board.hart.set_irq(7, 1)
    worker.join(5)
    assert not worker.is_alive(), "interrupt not taken"
    count = struct.unpack("<Q", board.ram(0x8000, 0x8008))[0]
    assert count >= 100_000 and board.hart.waiting
    assert st.mcause == (1 << 63) | 7 and st.mepc in (DRAM_BASE, DRAM_BASE + 4)
    assert done[0] == st.minstret


def test_code_buffer_stays_bounded():
    """A program with more code than a 64 KiB buffer: flushed and retranslated, no growth."""
    chunks = 3000          # blocks of 8 instructions, ~100 bytes of host code each
    words = []
    for k in range(chunks):
        words += [enc("addi", rd=5, rs1=5, imm=1)] * 7 + [enc("jal", imm=4)]
    words.append(enc("jal", imm=0))
    board = Board(TINY_BUFFER)
    board.machine.bus.write_bytes(DRAM_BASE, struct.pack(f"<{len(words)}I", *words))
    board.words[PC] = DRAM_BASE
    engine = board.engine
    end = DRAM_BASE + 4 * (len(words) - 1)
    for _ in range(3):             # three times over: every pass refills the buffer
        board.words[PC] = DRAM_BASE
        while board.words[PC] != end:
            engine.run(10_000)
    assert board.words[5] == 3 * 7 * chunks
    assert engine.flushes >= 6
    assert engine.buf.used <= engine.buf.size and len(engine.blocks) < chunks


def test_tb_size_option():
    import subprocess
    import sys
    bad = subprocess.run([sys.executable, "-m", "pyvirt.cli.system_riscv64", "-M", "virt",
                          "-accel", "tcg,engine=native,tb-size=lots"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert bad.stderr.strip().endswith("-accel tcg,tb-size=lots: expected a size in MiB")


class _Log:
    def __init__(self, *items):
        self.items = items
        self.lines = []

    def enabled(self, item):
        return item in self.items

    def write(self, text):
        self.lines.append(text)


def test_out_asm_disassembles_the_host_code():
    """``-d out_asm``: each block's x86-64 code, disassembled with capstone."""
    log = _Log("out_asm")
    words = [enc("addi", rd=5, rs1=5, imm=1), enc("bne", rs1=5, rs2=6, imm=-4), enc("jal", imm=0)]
    board = Board(functools.partial(NativeEngine, hot_after=1, log=log))
    board.machine.bus.write_bytes(DRAM_BASE, struct.pack("<3I", *words))
    board.words[PC] = DRAM_BASE
    board.words[6] = 3
    while board.words[PC] != DRAM_BASE + 8:
        board.engine.run(100)
    text = "\n".join(log.lines)
    assert text.startswith("OUT: [size=")
    assert "add      r12, 1" in text or "add      qword ptr [rbp + 0x28], 1" in text
    assert "jne" in text and "call     qword ptr [rbx + 0x20]" not in text.split("OUT:")[1]
