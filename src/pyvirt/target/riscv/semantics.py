"""What each RV64GC instruction does, as one Python statement template each.

This is the single description of instruction behaviour.  The interpreter
turns each template into a closure factory once per hart; the TCG front end
(``translate``) lowers the same text, parsed, to TCG ops.  A template reads and writes the hart's state words
``X`` (integer registers, and FP registers whose numbers the decoder has
already offset), uses the decoded operands (``rd rs1 rs2 rs3 imm rm csr``),
``pc``, the instruction length ``ln`` and its bits ``insn``, and calls the
hart's helpers for memory, CSRs, traps and floating point (see
``hart.Hart.helpers``).  A template that does not ``return`` falls through
to ``pc + ln``.

Values in ``X`` are unsigned 64-bit; ``S`` (bit 63) turns signed
comparisons into unsigned ones by flipping the sign bit.
"""


def _sx32(expr):
    """Sign-extend the low 32 bits of ``expr`` into an unsigned 64-bit value."""
    return f"((((({expr}) & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000) & M)"


def _s32(expr):
    """The low 32 bits of ``expr`` as a signed Python int."""
    return f"(((({expr}) & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)"


def _branch(cond):
    return f"if {cond}: return (pc + imm) & M"


def _alu(expr):
    return f"X[rd] = ({expr}) & M"


def _aluw(expr):
    return f"X[rd] = {_sx32(expr)}"


_INT = {
    "lui": "X[rd] = imm & M",
    "auipc": "X[rd] = (pc + imm) & M",
    "jal": "X[rd] = pc + ln\nreturn (pc + imm) & M",
    "jalr": "t = (X[rs1] + imm) & M & ~1\nX[rd] = pc + ln\nreturn t",
    "beq": _branch("X[rs1] == X[rs2]"),
    "bne": _branch("X[rs1] != X[rs2]"),
    "blt": _branch("(X[rs1] ^ S) < (X[rs2] ^ S)"),
    "bge": _branch("(X[rs1] ^ S) >= (X[rs2] ^ S)"),
    "bltu": _branch("X[rs1] < X[rs2]"),
    "bgeu": _branch("X[rs1] >= X[rs2]"),
    "addi": _alu("X[rs1] + imm"),
    "slti": "X[rd] = 1 if (X[rs1] ^ S) < ((imm & M) ^ S) else 0",
    "sltiu": "X[rd] = 1 if X[rs1] < (imm & M) else 0",
    "xori": _alu("X[rs1] ^ imm"),
    "ori": _alu("X[rs1] | imm"),
    "andi": _alu("X[rs1] & imm"),
    "slli": _alu("X[rs1] << imm"),
    "srli": "X[rd] = X[rs1] >> imm",
    "srai": _alu("((X[rs1] ^ S) - S) >> imm"),
    "add": _alu("X[rs1] + X[rs2]"),
    "sub": _alu("X[rs1] - X[rs2]"),
    "sll": _alu("X[rs1] << (X[rs2] & 63)"),
    "slt": "X[rd] = 1 if (X[rs1] ^ S) < (X[rs2] ^ S) else 0",
    "sltu": "X[rd] = 1 if X[rs1] < X[rs2] else 0",
    "xor": "X[rd] = X[rs1] ^ X[rs2]",
    "srl": "X[rd] = X[rs1] >> (X[rs2] & 63)",
    "sra": _alu("((X[rs1] ^ S) - S) >> (X[rs2] & 63)"),
    "or": "X[rd] = X[rs1] | X[rs2]",
    "and": "X[rd] = X[rs1] & X[rs2]",
    "addiw": _aluw("X[rs1] + imm"),
    "slliw": _aluw("X[rs1] << imm"),
    "srliw": _aluw("(X[rs1] & 0xFFFFFFFF) >> imm"),
    "sraiw": _aluw(f"{_s32('X[rs1]')} >> imm"),
    "addw": _aluw("X[rs1] + X[rs2]"),
    "subw": _aluw("X[rs1] - X[rs2]"),
    "sllw": _aluw("X[rs1] << (X[rs2] & 31)"),
    "srlw": _aluw("(X[rs1] & 0xFFFFFFFF) >> (X[rs2] & 31)"),
    "sraw": _aluw(f"{_s32('X[rs1]')} >> (X[rs2] & 31)"),
    "mul": _alu("X[rs1] * X[rs2]"),
    "mulh": _alu("(((X[rs1] ^ S) - S) * ((X[rs2] ^ S) - S)) >> 64"),
    "mulhsu": _alu("(((X[rs1] ^ S) - S) * X[rs2]) >> 64"),
    "mulhu": "X[rd] = (X[rs1] * X[rs2]) >> 64",
    "div": _alu("DIV((X[rs1] ^ S) - S, (X[rs2] ^ S) - S)"),
    "divu": "X[rd] = DIVU(X[rs1], X[rs2], M)",
    "rem": _alu("REM((X[rs1] ^ S) - S, (X[rs2] ^ S) - S)"),
    "remu": "X[rd] = REMU(X[rs1], X[rs2])",
    "mulw": _aluw("X[rs1] * X[rs2]"),
    "divw": _aluw(f"DIV({_s32('X[rs1]')}, {_s32('X[rs2]')})"),
    "divuw": _aluw("DIVU(X[rs1] & 0xFFFFFFFF, X[rs2] & 0xFFFFFFFF, 0xFFFFFFFF)"),
    "remw": _aluw(f"REM({_s32('X[rs1]')}, {_s32('X[rs2]')})"),
    "remuw": _aluw("REMU(X[rs1] & 0xFFFFFFFF, X[rs2] & 0xFFFFFFFF)"),
}

_LOADS = {"lb": "LB", "lh": "LH", "lw": "LW", "ld": "LD", "lbu": "LBU", "lhu": "LHU", "lwu": "LWU"}
_STORES = {"sb": "SB", "sh": "SH", "sw": "SW", "sd": "SD"}
_MEM = {name: f"X[rd] = {fn}((X[rs1] + imm) & M)" for name, fn in _LOADS.items()}
_MEM.update({name: f"{fn}((X[rs1] + imm) & M, X[rs2])" for name, fn in _STORES.items()})

_SYSTEM = {
    "fence": "pass",
    "fence_i": "FENCE_I(pc + ln)",
    "ecall": "ECALL()",
    "ebreak": "EBREAK(pc)",
    "sret": "SRET(insn)",
    "mret": "MRET(insn)",
    "wfi": "WFI(pc + ln, insn)",
    "sfence_vma": "SFENCE_VMA(pc + ln, rs1, X[rs1], insn)",
    "csrrw": "CSR(rd, csr, X[rs1], 0, True, pc, ln, insn)",
    "csrrs": "CSR(rd, csr, X[rs1], 1, rs1 != 0, pc, ln, insn)",
    "csrrc": "CSR(rd, csr, X[rs1], 2, rs1 != 0, pc, ln, insn)",
    "csrrwi": "CSR(rd, csr, rs1, 0, True, pc, ln, insn)",
    "csrrsi": "CSR(rd, csr, rs1, 1, rs1 != 0, pc, ln, insn)",
    "csrrci": "CSR(rd, csr, rs1, 2, rs1 != 0, pc, ln, insn)",
}

# AMO combiners: (old, operand, size) -> new; min/max compare as signed or unsigned.
AMO_OPS = {
    "swap": lambda a, b, sgn: b,
    "add": lambda a, b, sgn: a + b,
    "xor": lambda a, b, sgn: a ^ b,
    "and": lambda a, b, sgn: a & b,
    "or": lambda a, b, sgn: a | b,
    "min": lambda a, b, sgn: a if (a ^ sgn) < (b ^ sgn) else b,
    "max": lambda a, b, sgn: a if (a ^ sgn) > (b ^ sgn) else b,
    "minu": lambda a, b, sgn: a if a < b else b,
    "maxu": lambda a, b, sgn: a if a > b else b,
}

_ATOMIC = {}
for _w, _size in (("w", 4), ("d", 8)):
    _ATOMIC[f"lr_{_w}"] = f"X[rd] = LR({_size}, X[rs1])"
    _ATOMIC[f"sc_{_w}"] = f"X[rd] = SC({_size}, X[rs1], X[rs2])"
    for _op in AMO_OPS:
        _ATOMIC[f"amo{_op}_{_w}"] = f"X[rd] = AMO({_size}, AMO_{_op.upper()}, X[rs1], X[rs2])"

# Floating point: the FP helpers check mstatus.FS, resolve the rounding mode,
# NaN-box/unbox, accumulate fflags and mark the FP state dirty.
_FP = {
    "flw": "FP_ON(insn)\nX[rd] = BOX | LWU((X[rs1] + imm) & M)\nFP_DIRTY()",
    "fld": "FP_ON(insn)\nX[rd] = LD((X[rs1] + imm) & M)\nFP_DIRTY()",
    "fsw": "FP_ON(insn)\nSW((X[rs1] + imm) & M, X[rs2])",
    "fsd": "FP_ON(insn)\nSD((X[rs1] + imm) & M, X[rs2])",
}
for _s, _fmt in (("s", 32), ("d", 64)):
    for _op in ("add", "sub", "mul", "div"):
        _FP[f"f{_op}_{_s}"] = f"X[rd] = FOP2({_fmt}, SF.{_op}, X[rs1], X[rs2], rm, insn)"
    _FP[f"fsqrt_{_s}"] = f"X[rd] = FOP1({_fmt}, SF.sqrt, X[rs1], rm, insn)"
    for _op, (neg_p, neg_a) in (("fmadd", (False, False)), ("fmsub", (False, True)),
                                ("fnmsub", (True, False)), ("fnmadd", (True, True))):
        _FP[f"{_op}_{_s}"] = (f"X[rd] = FMA({_fmt}, X[rs1], X[rs2], X[rs3], rm, "
                              f"{neg_p}, {neg_a}, insn)")
    for _op, _kind in (("fsgnj", 0), ("fsgnjn", 1), ("fsgnjx", 2)):
        _FP[f"{_op}_{_s}"] = f"X[rd] = FSGNJ({_fmt}, X[rs1], X[rs2], {_kind}, insn)"
    _FP[f"fmin_{_s}"] = f"X[rd] = FMINMAX({_fmt}, SF.min_, X[rs1], X[rs2], insn)"
    _FP[f"fmax_{_s}"] = f"X[rd] = FMINMAX({_fmt}, SF.max_, X[rs1], X[rs2], insn)"
    for _op in ("feq", "flt", "fle"):
        _FP[f"{_op}_{_s}"] = f"X[rd] = FCMP({_fmt}, SF.{_op}, X[rs1], X[rs2], insn)"
    _FP[f"fclass_{_s}"] = f"X[rd] = FCLASS({_fmt}, X[rs1], insn)"
    for _i, _width, _signed in (("w", 32, True), ("wu", 32, False), ("l", 64, True), ("lu", 64, False)):
        _FP[f"fcvt_{_i}_{_s}"] = f"X[rd] = F2I({_fmt}, X[rs1], rm, {_width}, {_signed}, insn)"
        _FP[f"fcvt_{_s}_{_i}"] = f"X[rd] = I2F({_fmt}, X[rs1], rm, {_width}, {_signed}, insn)"
_FP["fmv_x_w"] = f"FP_ON(insn)\nX[rd] = {_sx32('X[rs1]')}"
_FP["fmv_w_x"] = "FP_ON(insn)\nX[rd] = BOX | (X[rs1] & 0xFFFFFFFF)\nFP_DIRTY()"
_FP["fmv_x_d"] = "FP_ON(insn)\nX[rd] = X[rs1]"
_FP["fmv_d_x"] = "FP_ON(insn)\nX[rd] = X[rs1]\nFP_DIRTY()"
_FP["fcvt_s_d"] = "X[rd] = F2F(64, 32, X[rs1], rm, insn)"
_FP["fcvt_d_s"] = "X[rd] = F2F(32, 64, X[rs1], rm, insn)"

SEMANTICS = {**_INT, **_MEM, **_SYSTEM, **_ATOMIC, **_FP}

#: Instructions after which execution may not continue in the same block:
#: they change privilege, translation, interrupt enables or code.
ENDS_BLOCK = frozenset({
    "jal", "jalr", "beq", "bne", "blt", "bge", "bltu", "bgeu", "fence_i", "ecall", "ebreak",
    "sret", "mret", "wfi", "sfence_vma", "csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci",
})
