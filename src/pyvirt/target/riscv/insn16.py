"""RV64C: each compressed instruction expanded to its 32-bit equivalent.

The C extension defines every 16-bit instruction as a short form of a
32-bit one, so we decode it by building that 32-bit word and sending it
through the one 32-bit table (``insn32``): no instruction is described
twice.  ``EXPANDERS`` maps (quadrant, funct3) to a function returning the
32-bit word, or None for reserved/illegal encodings.
"""


def _b(insn, hi, lo):
    return (insn >> lo) & ((1 << (hi - lo + 1)) - 1)


def _scatter(insn, spec):
    """Gather immediate bits: spec is [(insn_hi, insn_lo, imm_lo)]."""
    v = 0
    for hi, lo, to in spec:
        v |= _b(insn, hi, lo) << to
    return v


def _sext(v, bits):
    return v - (1 << bits) if v >> (bits - 1) else v


def _r(op, f3, f7, rd, rs1, rs2):
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op


def _i(op, f3, rd, rs1, imm):
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op


def _s(op, f3, rs1, rs2, imm):
    return (((imm >> 5) & 0x7F) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1F) << 7) | op


def _bz(f3, rs1, imm):
    return ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3F) << 25) | (rs1 << 15) | (f3 << 12)
            | (((imm >> 1) & 0xF) << 8) | (((imm >> 11) & 1) << 7) | 0x63)


def _jal(rd, imm):
    return ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3FF) << 21) | (((imm >> 11) & 1) << 20)
            | (((imm >> 12) & 0xFF) << 12) | (rd << 7) | 0x6F)


OP_IMM, OP_IMM32, OP, OP32, LOAD, STORE, LOAD_FP, STORE_FP = 0x13, 0x1B, 0x33, 0x3B, 0x03, 0x23, 0x07, 0x27
SP, RA = 2, 1


def _rd_(i):  # the 3-bit register fields name x8..x15
    return 8 + _b(i, 4, 2)


def _rs1_(i):
    return 8 + _b(i, 9, 7)


_CL_D = [(12, 10, 3), (6, 5, 6)]     # c.ld/c.fld/c.sd/c.fsd offsets
_CL_W = [(12, 10, 3), (6, 6, 2), (5, 5, 6)]
_CI_IMM = [(6, 2, 0), (12, 12, 5)]


def _addi4spn(i):
    imm = _scatter(i, [(12, 11, 4), (10, 7, 6), (6, 6, 2), (5, 5, 3)])
    return _i(OP_IMM, 0, _rd_(i), SP, imm) if imm else None


def _q0_load(f3, op):
    return lambda i: _i(op, f3, _rd_(i), _rs1_(i), _scatter(i, _CL_W if f3 == 2 else _CL_D))


def _q0_store(f3, op):
    return lambda i: _s(op, f3, _rs1_(i), _rd_(i), _scatter(i, _CL_W if f3 == 2 else _CL_D))


def _addi(i):
    rd = _b(i, 11, 7)
    return _i(OP_IMM, 0, rd, rd, _sext(_scatter(i, _CI_IMM), 6))


def _addiw(i):
    rd = _b(i, 11, 7)
    return _i(OP_IMM32, 0, rd, rd, _sext(_scatter(i, _CI_IMM), 6)) if rd else None


def _li(i):
    return _i(OP_IMM, 0, _b(i, 11, 7), 0, _sext(_scatter(i, _CI_IMM), 6))


def _lui_addi16sp(i):
    rd = _b(i, 11, 7)
    if rd == SP:
        imm = _sext(_scatter(i, [(12, 12, 9), (6, 6, 4), (5, 5, 6), (4, 3, 7), (2, 2, 5)]), 10)
        return _i(OP_IMM, 0, SP, SP, imm) if imm else None
    imm = _sext(_scatter(i, [(6, 2, 12), (12, 12, 17)]), 18)
    if imm == 0:
        return None
    return ((imm & 0xFFFFF000) | (rd << 7) | 0x37) & 0xFFFFFFFF


_ALU_FUNCS = {(0, 0): (0, 0x20), (0, 1): (4, 0), (0, 2): (6, 0), (0, 3): (7, 0),
              (1, 0): (0, 0x20), (1, 1): (0, 0)}   # (bit12, funct2[6:5]) -> (funct3, funct7)


def _misc_alu(i):
    rd = _rs1_(i)
    f2 = _b(i, 11, 10)
    shamt = _scatter(i, [(6, 2, 0), (12, 12, 5)])
    if f2 == 0:
        return _i(OP_IMM, 5, rd, rd, shamt)
    if f2 == 1:
        return _i(OP_IMM, 5, rd, rd, shamt | 0x400)
    if f2 == 2:
        return _i(OP_IMM, 7, rd, rd, _sext(shamt, 6))
    key = (_b(i, 12, 12), _b(i, 6, 5))
    if key not in _ALU_FUNCS:
        return None
    f3, f7 = _ALU_FUNCS[key]
    return _r(OP32 if key[0] else OP, f3, f7, rd, rd, _rd_(i))


def _j(i):
    imm = _scatter(i, [(12, 12, 11), (11, 11, 4), (10, 9, 8), (8, 8, 10), (7, 7, 6),
                       (6, 6, 7), (5, 3, 1), (2, 2, 5)])
    return _jal(0, _sext(imm, 12))


def _branch(f3):
    def expand(i):
        imm = _scatter(i, [(12, 12, 8), (11, 10, 3), (6, 5, 6), (4, 3, 1), (2, 2, 5)])
        return _bz(f3, _rs1_(i), _sext(imm, 9))
    return expand


def _slli(i):
    rd = _b(i, 11, 7)
    return _i(OP_IMM, 1, rd, rd, _scatter(i, [(6, 2, 0), (12, 12, 5)]))


_SP_D = [(12, 12, 5), (6, 5, 3), (4, 2, 6)]


def _sp_load(f3, op, need_rd):
    spec = [(12, 12, 5), (6, 4, 2), (3, 2, 6)] if f3 == 2 else _SP_D

    def expand(i):
        rd = _b(i, 11, 7)
        if need_rd and rd == 0:
            return None
        return _i(op, f3, rd, SP, _scatter(i, spec))
    return expand


def _sp_store(f3, op):
    spec = [(12, 9, 2), (8, 7, 6)] if f3 == 2 else [(12, 10, 3), (9, 7, 6)]
    return lambda i: _s(op, f3, SP, _b(i, 6, 2), _scatter(i, spec))


def _cr(i):
    rd, rs2 = _b(i, 11, 7), _b(i, 6, 2)
    if not _b(i, 12, 12):
        if rs2 == 0:
            return _i(0x67, 0, 0, rd, 0) if rd else None        # c.jr
        return _r(OP, 0, 0, rd, 0, rs2)                          # c.mv
    if rs2 == 0:
        return 0x00100073 if rd == 0 else _i(0x67, 0, RA, rd, 0)  # c.ebreak / c.jalr
    return _r(OP, 0, 0, rd, rd, rs2)                             # c.add


EXPANDERS = {
    (0, 0): _addi4spn, (0, 1): _q0_load(3, LOAD_FP), (0, 2): _q0_load(2, LOAD),
    (0, 3): _q0_load(3, LOAD), (0, 5): _q0_store(3, STORE_FP), (0, 6): _q0_store(2, STORE),
    (0, 7): _q0_store(3, STORE),
    (1, 0): _addi, (1, 1): _addiw, (1, 2): _li, (1, 3): _lui_addi16sp, (1, 4): _misc_alu,
    (1, 5): _j, (1, 6): _branch(0), (1, 7): _branch(1),
    (2, 0): _slli, (2, 1): _sp_load(3, LOAD_FP, False), (2, 2): _sp_load(2, LOAD, True),
    (2, 3): _sp_load(3, LOAD, True), (2, 4): _cr, (2, 5): _sp_store(3, STORE_FP),
    (2, 6): _sp_store(2, STORE), (2, 7): _sp_store(3, STORE),
}


def expand(insn16: int):
    """The 32-bit equivalent of a compressed instruction, or None if illegal."""
    if insn16 == 0:
        return None
    fn = EXPANDERS.get((insn16 & 3, insn16 >> 13))
    return fn(insn16) if fn else None
