"""A small x86-64 instruction encoder: the few forms the native backend emits.

Why not a library: the backend emits tens of instructions per guest
instruction and translation cost is part of what it is measured on; an
encoder library (iced-x86's Python binding, keystone) builds an
instruction object or parses text per instruction, several times the
cost of appending a few bytes here.  The forms are a short table (ALU
opcodes with their ``/digit``, condition codes), and every one is checked
against capstone's disassembly in tests/test_tcg_native.py.

Operands are register numbers (``RAX``..``R15``) or ``Mem(base, disp,
index)``; all integer operations are 64-bit unless a size is given.
"""

import struct

RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI = range(8)
R8, R9, R10, R11, R12, R13, R14, R15 = range(8, 16)

#: Two-operand ALU forms: (opcode of ``op r/m, r``, ``/digit`` of ``op r/m, imm``).
ALU = {"add": (0x01, 0), "or": (0x09, 1), "and": (0x21, 4), "sub": (0x29, 5),
       "xor": (0x31, 6), "cmp": (0x39, 7)}
#: ``/digit`` of the shift group (C1 / D3).
SHIFT = {"shl": 4, "shr": 5, "sar": 7}
#: ``/digit`` of the F7 group: one-operand multiply, divide, negate, not.
UNARY = {"not": 2, "neg": 3, "mul": 4, "imul1": 5, "div": 6, "idiv": 7}
#: Condition codes (the low nibble of Jcc / SETcc).
CC = {"o": 0, "b": 2, "ae": 3, "e": 4, "ne": 5, "be": 6, "a": 7, "s": 8, "ns": 9,
      "l": 12, "ge": 13, "le": 14, "g": 15}

_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_Q = struct.Struct("<Q")


def rel32(field, target):
    """The rel32 bytes at buffer offset ``field`` that jump to ``target``."""
    return _I32.pack(target - (field + 4))


class Mem:
    """``[base + index + disp]`` (index scale 1)."""
    __slots__ = ("base", "disp", "index")

    def __init__(self, base, disp=0, index=None):
        self.base = base
        self.disp = disp
        self.index = index


def fits_i32(v):
    return -0x80000000 <= v <= 0x7FFFFFFF


def as_i32(v):
    """A 64-bit unsigned value as the sign-extended imm32 that gives it, or None."""
    v = v - (1 << 64) if v >> 63 else v
    return v if fits_i32(v) else None


class Asm:
    """Machine code for offset ``base`` of a code buffer: jump targets are
    buffer offsets."""

    def __init__(self, base=0):
        self.code = bytearray()
        self.base = base

    def __len__(self):
        return len(self.code)

    def here(self):
        """The buffer offset of the next byte."""
        return self.base + len(self.code)

    # ---- encoding core ---------------------------------------------------------
    def _op(self, opcode, reg, rm, w=True, prefix=b"", imm=b"", byte_reg=False):
        """Emit ``prefix REX opcode ModRM [SIB] [disp] imm`` with ``reg`` in ModRM.reg and
        ``rm`` (a register or Mem) in ModRM.rm."""
        c = self.code
        c += prefix
        if isinstance(rm, Mem):
            base, index, disp = rm.base, rm.index, rm.disp
            rex = 0x40 | (8 if w else 0) | ((reg >> 3) << 2) | ((index or 0) >> 3 << 1) | (base >> 3)
            if rex != 0x40 or (byte_reg and reg >= 4):
                c.append(rex)
            c += opcode
            if disp == 0 and base & 7 != RBP:
                mod, dbytes = 0, b""
            elif -128 <= disp <= 127:
                mod, dbytes = 1, bytes((disp & 0xFF,))
            else:
                mod, dbytes = 2, _I32.pack(disp)
            if index is not None:
                c.append(mod << 6 | (reg & 7) << 3 | 4)
                c.append((index & 7) << 3 | (base & 7))
            elif base & 7 == RSP:
                c.append(mod << 6 | (reg & 7) << 3 | 4)
                c.append(0x24)
            else:
                c.append(mod << 6 | (reg & 7) << 3 | (base & 7))
            c += dbytes
        else:
            rex = 0x40 | (8 if w else 0) | ((reg >> 3) << 2) | (rm >> 3)
            if rex != 0x40 or (byte_reg and (reg >= 4 or rm >= 4)):
                c.append(rex)
            c += opcode
            c.append(0xC0 | (reg & 7) << 3 | (rm & 7))
        c += imm

    # ---- moves -------------------------------------------------------------------
    def mov(self, dst, src):
        """64-bit move between registers, or load / store when one side is Mem."""
        if isinstance(dst, Mem):
            self._op(b"\x89", src, dst)
        else:
            self._op(b"\x8b", dst, src)

    def mov_imm(self, dst, value):
        """``dst = value`` (a register or a 64-bit memory word), shortest form."""
        value &= (1 << 64) - 1
        if isinstance(dst, Mem):
            imm = as_i32(value)
            assert imm is not None
            self._op(b"\xc7", 0, dst, imm=_I32.pack(imm))
        elif value <= 0xFFFFFFFF:
            if dst >= 8:
                self.code.append(0x41)
            self.code.append(0xB8 | (dst & 7))
            self.code += _U32.pack(value)
        elif as_i32(value) is not None:
            self._op(b"\xc7", 0, dst, imm=_I32.pack(as_i32(value)))
        else:
            self.code.append(0x48 | (dst >> 3))
            self.code.append(0xB8 | (dst & 7))
            self.code += _Q.pack(value)

    def load(self, dst, mem, size, signed=False):
        """``dst = [mem]`` of ``size`` bytes, zero- or sign-extended to 64 bits."""
        if size == 8:
            self._op(b"\x8b", dst, mem)
        elif size == 4:
            if signed:
                self._op(b"\x63", dst, mem)
            else:
                self._op(b"\x8b", dst, mem, w=False)
        else:
            op = {(1, False): b"\x0f\xb6", (2, False): b"\x0f\xb7",
                  (1, True): b"\x0f\xbe", (2, True): b"\x0f\xbf"}[size, signed]
            self._op(op, dst, mem, w=signed)

    def store(self, mem, src, size):
        """``[mem] = src`` (its low ``size`` bytes)."""
        if size == 8:
            self._op(b"\x89", src, mem)
        elif size == 4:
            self._op(b"\x89", src, mem, w=False)
        elif size == 2:
            self._op(b"\x89", src, mem, w=False, prefix=b"\x66")
        else:
            self._op(b"\x88", src, mem, w=False, byte_reg=True)

    def extend(self, dst, src, size, signed):
        """``dst = src`` with its low ``size`` bytes zero- or sign-extended."""
        self.load(dst, src, size, signed)

    def lea(self, dst, mem):
        self._op(b"\x8d", dst, mem)

    # ---- arithmetic ----------------------------------------------------------------
    def alu(self, name, dst, src):
        """``dst op= src`` for add/or/and/sub/xor/cmp; ``src`` a register or Mem
        (then ``dst`` is a register), or ``dst`` Mem and ``src`` a register."""
        opc, _ = ALU[name]
        if isinstance(dst, Mem):
            self._op(bytes((opc,)), src, dst)
        else:
            self._op(bytes((opc + 2,)), dst, src)

    def alu_imm(self, name, dst, imm):
        """``dst op= imm`` with ``imm`` a signed 32-bit value."""
        _, digit = ALU[name]
        if -128 <= imm <= 127:
            self._op(b"\x83", digit, dst, imm=bytes((imm & 0xFF,)))
        else:
            self._op(b"\x81", digit, dst, imm=_I32.pack(imm))

    def test(self, a, b, w=True):
        """Flags of ``a & b`` (at most one of them Mem); 32-bit unless ``w``."""
        if isinstance(a, Mem):
            a, b = b, a
        self._op(b"\x85", a, b, w=w)

    def shift_imm(self, name, dst, count):
        self._op(b"\xc1", SHIFT[name], dst, imm=bytes((count & 63,)))

    def shift_cl(self, name, dst):
        self._op(b"\xd3", SHIFT[name], dst)

    def unary(self, name, operand):
        """not / neg / mul / imul1 / div / idiv (the last four with rdx:rax)."""
        self._op(b"\xf7", UNARY[name], operand)

    def imul(self, dst, src):
        self._op(b"\x0f\xaf", dst, src)

    def cqo(self):
        self.code += b"\x48\x99"

    def setcc(self, cc, dst):
        """``dst`` (low byte) = condition; RAX..RDX only, then zero-extended."""
        self._op(bytes((0x0F, 0x90 | CC[cc])), 0, dst, w=False, byte_reg=True)
        self._op(b"\x0f\xb6", dst, dst, w=False, byte_reg=True)

    # ---- control flow ---------------------------------------------------------------
    def jcc(self, cc, target=None):
        """``jcc rel32``; returns the offset of the rel32 field to patch."""
        self.code += bytes((0x0F, 0x80 | CC[cc]))
        return self._rel32(target)

    def jmp(self, target=None):
        self.code.append(0xE9)
        return self._rel32(target)

    def _rel32(self, target):
        at = len(self.code)
        self.code += b"\0\0\0\0"
        if target is not None:
            self.patch(at, target)
        return at

    def patch(self, at, target):
        """Point the rel32 field at ``at`` (an index into ``code``) to buffer offset ``target``."""
        self.code[at:at + 4] = rel32(self.base + at, target)

    def jmp_reg(self, reg):
        self._op(b"\xff", 4, reg, w=False)

    def call_reg(self, reg):
        self._op(b"\xff", 2, reg, w=False)

    def push(self, reg):
        if reg >= 8:
            self.code.append(0x41)
        self.code.append(0x50 | (reg & 7))

    def pop(self, reg):
        if reg >= 8:
            self.code.append(0x41)
        self.code.append(0x58 | (reg & 7))

    def ret(self):
        self.code.append(0xC3)
