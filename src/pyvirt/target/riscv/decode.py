"""Decoding: instruction bits -> (name, operand fields).

The encodings come from ``insn32`` (one table) and compressed instructions
are first expanded by ``insn16``.  Lookup is bucketed by the major opcode
(bits 6..0) and then a first-match scan of that bucket's (mask, match)
pairs; that is cheap because engines decode each guest instruction once
and cache the result.

Operand fields are returned ready for the engines: integer destination
register x0 is replaced by ``X0_SINK`` (so writes to it vanish), and
floating-point register numbers are offset by ``F_BASE`` (they index the
same word view of the state as the integer registers).
"""

from . import insn16, insn32
from .state import F_BASE, X0_SINK


def _sext(v, bits):
    return v - (1 << bits) if v >> (bits - 1) else v


def _rd(i): return (i >> 7) & 31
def _rs1(i): return (i >> 15) & 31
def _rs2(i): return (i >> 20) & 31
def _rs3(i): return i >> 27
def _rm(i): return (i >> 12) & 7
def _imm_i(i): return _sext(i >> 20, 12)
def _imm_s(i): return _sext(((i >> 25) << 5) | ((i >> 7) & 31), 12)


def _imm_b(i):
    return _sext((((i >> 31) & 1) << 12) | (((i >> 7) & 1) << 11)
                 | (((i >> 25) & 0x3F) << 5) | (((i >> 8) & 0xF) << 1), 13)


def _imm_j(i):
    return _sext((((i >> 31) & 1) << 20) | (((i >> 12) & 0xFF) << 12)
                 | (((i >> 20) & 1) << 11) | (((i >> 21) & 0x3FF) << 1), 21)


def _xd(r):
    return r if r else X0_SINK


def _f(r):
    return F_BASE + r


# Each format: instruction bits -> operand dict.
FORMATS = {
    "R": lambda i: dict(rd=_xd(_rd(i)), rs1=_rs1(i), rs2=_rs2(i)),
    "I": lambda i: dict(rd=_xd(_rd(i)), rs1=_rs1(i), imm=_imm_i(i)),
    "S": lambda i: dict(rs1=_rs1(i), rs2=_rs2(i), imm=_imm_s(i)),
    "B": lambda i: dict(rs1=_rs1(i), rs2=_rs2(i), imm=_imm_b(i)),
    "U": lambda i: dict(rd=_xd(_rd(i)), imm=_sext(i & 0xFFFFF000, 32)),
    "J": lambda i: dict(rd=_xd(_rd(i)), imm=_imm_j(i)),
    "SH6": lambda i: dict(rd=_xd(_rd(i)), rs1=_rs1(i), imm=(i >> 20) & 63),
    "SH5": lambda i: dict(rd=_xd(_rd(i)), rs1=_rs1(i), imm=(i >> 20) & 31),
    "N": lambda i: dict(),
    "CSR": lambda i: dict(rd=_xd(_rd(i)), rs1=_rs1(i), csr=i >> 20),
    "CSRI": lambda i: dict(rd=_xd(_rd(i)), rs1=_rs1(i), csr=i >> 20),
    "FL": lambda i: dict(rd=_f(_rd(i)), rs1=_rs1(i), imm=_imm_i(i)),
    "FS": lambda i: dict(rs1=_rs1(i), rs2=_f(_rs2(i)), imm=_imm_s(i)),
    "R4": lambda i: dict(rd=_f(_rd(i)), rs1=_f(_rs1(i)), rs2=_f(_rs2(i)), rs3=_f(_rs3(i)), rm=_rm(i)),
    "FR": lambda i: dict(rd=_f(_rd(i)), rs1=_f(_rs1(i)), rs2=_f(_rs2(i)), rm=_rm(i)),
    "F2X": lambda i: dict(rd=_xd(_rd(i)), rs1=_f(_rs1(i)), rm=_rm(i)),
    "FCMP": lambda i: dict(rd=_xd(_rd(i)), rs1=_f(_rs1(i)), rs2=_f(_rs2(i))),
    "X2F": lambda i: dict(rd=_f(_rd(i)), rs1=_rs1(i), rm=_rm(i)),
}

TABLE = insn32.parse()

_BUCKETS = {}
for _entry in TABLE:
    _BUCKETS.setdefault(_entry[2] & 0x7F, []).append(_entry)


class Decoded:
    """One decoded instruction."""
    __slots__ = ("name", "fields", "length", "raw")

    def __init__(self, name, fields, length, raw):
        self.name = name
        self.fields = fields
        self.length = length
        self.raw = raw

    def __repr__(self):
        return f"<{self.name} {self.fields}>"


def decode32(insn: int):
    for name, mask, match, fmt in _BUCKETS.get(insn & 0x7F, ()):
        if insn & mask == match:
            return name, FORMATS[fmt](insn)
    return None


def decode(raw: int):
    """Decode the instruction whose low bits are ``raw`` (16 or 32 bits).

    Returns a ``Decoded`` (name None when the encoding is illegal).
    """
    if raw & 3 != 3:
        raw &= 0xFFFF
        word = insn16.expand(raw)
        length = 2
    else:
        raw &= 0xFFFFFFFF
        word = raw
        length = 4
    hit = decode32(word) if word is not None else None
    if hit is None:
        return Decoded(None, {}, length, raw)
    return Decoded(hit[0], hit[1], length, raw)
