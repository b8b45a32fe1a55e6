"""The architectural state of one RISC-V hart as one flat C structure.

Every engine (the interpreter, generated Python, native code) reads and
writes these same bytes at fixed offsets, and a snapshot copies the whole
structure.  The interpreter sees the 64-bit words through ``words``, a
``memoryview`` cast to ``'Q'`` over the same buffer, which is much cheaper
to index than ctypes attributes; ``X0_SINK`` is an extra slot that decoded
instructions with rd = x0 write into, so x0 itself always reads 0 without a
test on every write.
"""

import ctypes

u64 = ctypes.c_uint64

#: Index of the scratch register that absorbs writes to x0.
X0_SINK = 32

# CSR values kept in the structure, by field name.  The order is the layout.
CSR_FIELDS = (
    "mstatus", "misa", "medeleg", "mideleg", "mie", "mip", "mtvec", "mcounteren",
    "mscratch", "mepc", "mcause", "mtval", "menvcfg", "mcountinhibit",
    "stvec", "scounteren", "sscratch", "sepc", "scause", "stval", "satp", "senvcfg",
    "fflags", "frm", "mcycle", "minstret", "mhartid",
)


class RiscvState(ctypes.Structure):
    _fields_ = (
        [("x", u64 * 33), ("f", u64 * 32), ("pc", u64), ("priv", u64)]
        + [(name, u64) for name in CSR_FIELDS]
        + [("pmpcfg", ctypes.c_uint8 * 64), ("pmpaddr", u64 * 64),
           ("res_addr", u64), ("res_value", u64), ("res_valid", u64)]
    )


def word_index(field: str) -> int:
    """Index of a 64-bit field in ``words``."""
    return getattr(RiscvState, field).offset // 8


F_BASE = word_index("f")
PC = word_index("pc")


def new_state():
    """(state, words): a zeroed structure and its 64-bit word view."""
    buf = bytearray(ctypes.sizeof(RiscvState))
    state = RiscvState.from_buffer(buf)
    words = memoryview(buf).cast("Q")
    return state, words, buf
