"""Control and status registers: the table of what each CSR number is.

Each entry maps a CSR number to (name, read(hart), write(hart, value)).
``write`` is None for read-only CSRs.  Privilege and read-only checks come
from the number itself (bits 9..8 = lowest privilege, bits 11..10 = 3 for
read-only), as the spec defines, so entries only describe behaviour.
Writes return True when they can change translation, interrupts or
privilege state, so the engine must leave the current block.
"""

from .cpu_bits import (FFLAGS_MASK, MEDELEG_WRITABLE, MIP_WRITABLE, MSTATUS_FS,
                       MSTATUS_SD, MSTATUS_WRITABLE, S_INTERRUPTS, SATP_MODE_BARE, SATP_MODE_SHIFT, SATP_MODE_SV39,
                       SATP_MODE_SV48, SATP_PPN, SSTATUS_MASK, XLEN64)

NUM_PMP = 16


def _mstatus_value(st):
    v = st.mstatus | (XLEN64 << 32) | (XLEN64 << 34)
    if (v & MSTATUS_FS) == MSTATUS_FS:
        v |= MSTATUS_SD
    return v


def _write_mstatus(h, value, mask=MSTATUS_WRITABLE):
    st = h.state
    value &= mask
    if (value >> 11) & 3 == 2:          # MPP: H-mode does not exist; keep old
        value = (value & ~(3 << 11)) | (st.mstatus & (3 << 11))
    st.mstatus = (st.mstatus & ~mask) | value
    h.flush_tlb()
    return True


def _field(name, mask=(1 << 64) - 1, exits=False):
    def read(h):
        return getattr(h.state, name)

    def write(h, v):
        setattr(h.state, name, v & mask)
        return exits
    return read, write


def _ro(value_fn):
    return value_fn, None


def _write_satp(h, v):
    mode = v >> SATP_MODE_SHIFT
    if mode not in (SATP_MODE_BARE, SATP_MODE_SV39, SATP_MODE_SV48):
        return False                    # WARL: unsupported modes leave satp alone
    h.state.satp = v & ((0xF << SATP_MODE_SHIFT) | SATP_PPN)
    h.flush_tlb()
    return True


def _write_mip(h, v):
    h.update_mip(MIP_WRITABLE, v)
    return True


def _write_sip(h, v):
    h.update_mip(h.state.mideleg & (1 << 1), v)
    return True


def _write_fcsr(h, v):
    h.state.fflags = v & FFLAGS_MASK
    h.state.frm = (v >> 5) & 7
    h.state.mstatus |= MSTATUS_FS
    return False


def _set_fflags(h, v):
    h.state.fflags = v & FFLAGS_MASK
    h.state.mstatus |= MSTATUS_FS
    return False


def _set_frm(h, v):
    h.state.frm = v & 7
    h.state.mstatus |= MSTATUS_FS
    return False


def _pmpcfg(i):
    def read(h):
        return int.from_bytes(bytes(h.state.pmpcfg[i * 4:i * 4 + 8]), "little")

    def write(h, v):
        for b in range(8):
            n = i * 4 + b
            if n < NUM_PMP and not h.state.pmpcfg[n] & 0x80:    # locked entries stay
                h.state.pmpcfg[n] = ((v >> (8 * b)) & 0xFF) & ~0x60
        h.pmp_changed()
        return True
    return read, write


def _pmpaddr(i):
    def read(h):
        return h.state.pmpaddr[i] if i < NUM_PMP else 0

    def write(h, v):
        if i < NUM_PMP and not h.state.pmpcfg[i] & 0x80:
            h.state.pmpaddr[i] = v & ((1 << 54) - 1)
        h.pmp_changed()
        return True
    return read, write


def _build():
    t = {
        # unprivileged
        0x001: ("fflags", lambda h: h.state.fflags, _set_fflags),
        0x002: ("frm", lambda h: h.state.frm, _set_frm),
        0x003: ("fcsr", lambda h: h.state.fflags | (h.state.frm << 5), _write_fcsr),
        0xC00: ("cycle", lambda h: h.counter(), None),
        0xC01: ("time", lambda h: h.mtime(), None),
        0xC02: ("instret", lambda h: h.counter(), None),
        # supervisor
        0x100: ("sstatus", lambda h: _mstatus_value(h.state) & SSTATUS_MASK,
                lambda h, v: _write_mstatus(h, v, MSTATUS_WRITABLE & SSTATUS_MASK)),
        0x104: ("sie", lambda h: h.state.mie & h.state.mideleg,
                lambda h, v: h.update_mie(h.state.mideleg & S_INTERRUPTS, v)),
        0x105: ("stvec", *_field("stvec", ~2 & ((1 << 64) - 1))),
        0x106: ("scounteren", *_field("scounteren", 0xFFFFFFFF)),
        0x10A: ("senvcfg", *_field("senvcfg", 0x1)),
        0x140: ("sscratch", *_field("sscratch")),
        0x141: ("sepc", *_field("sepc", ~1 & ((1 << 64) - 1))),
        0x142: ("scause", *_field("scause")),
        0x143: ("stval", *_field("stval")),
        0x144: ("sip", lambda h: h.state.mip & h.state.mideleg, _write_sip),
        0x180: ("satp", lambda h: h.state.satp, _write_satp),
        # machine
        0xF11: ("mvendorid", *_ro(lambda h: 0)),
        0xF12: ("marchid", *_ro(lambda h: 0)),
        0xF13: ("mimpid", *_ro(lambda h: 0)),
        0xF14: ("mhartid", *_ro(lambda h: h.state.mhartid)),
        0xF15: ("mconfigptr", *_ro(lambda h: 0)),
        0x300: ("mstatus", lambda h: _mstatus_value(h.state), _write_mstatus),
        0x301: ("misa", lambda h: h.state.misa, lambda h, v: False),
        0x302: ("medeleg", *_field("medeleg", MEDELEG_WRITABLE)),
        0x303: ("mideleg", *_field("mideleg", S_INTERRUPTS, exits=True)),
        0x304: ("mie", lambda h: h.state.mie,
                lambda h, v: h.update_mie(0xAAA, v)),
        0x305: ("mtvec", *_field("mtvec", ~2 & ((1 << 64) - 1))),
        0x306: ("mcounteren", *_field("mcounteren", 0xFFFFFFFF)),
        0x30A: ("menvcfg", *_field("menvcfg", 0x1)),
        0x320: ("mcountinhibit", *_field("mcountinhibit", 0xFFFFFFFD)),
        0x340: ("mscratch", *_field("mscratch")),
        0x341: ("mepc", *_field("mepc", ~1 & ((1 << 64) - 1))),
        0x342: ("mcause", *_field("mcause")),
        0x343: ("mtval", *_field("mtval")),
        0x344: ("mip", lambda h: h.state.mip, _write_mip),
        0xB00: ("mcycle", lambda h: h.counter(), lambda h, v: h.set_counter(v)),
        0xB02: ("minstret", lambda h: h.counter(), lambda h, v: h.set_counter(v)),
    }
    for i in range(0, 16, 2):
        t[0x3A0 + i] = (f"pmpcfg{i}", *_pmpcfg(i))
    for i in range(64):
        t[0x3B0 + i] = (f"pmpaddr{i}", *_pmpaddr(i))
    zero = (lambda h: 0, lambda h, v: False)
    for i in range(3, 32):
        t[0xC00 + i] = (f"hpmcounter{i}", lambda h: 0, None)
        t[0xB00 + i] = (f"mhpmcounter{i}", *zero)
        t[0x320 + i] = (f"mhpmevent{i}", *zero)
    return t


CSRS = _build()
#: Counters that U/S-mode reads are gated by mcounteren/scounteren bit (csr - 0xC00).
COUNTER_CSRS = range(0xC00, 0xC20)
#: CSRs whose read must see an exact instruction count (time too: with
#: -icount it is derived from the count).
EXACT_COUNT_CSRS = frozenset({0xC00, 0xC01, 0xC02, 0xB00, 0xB02})


def csr_name(num):
    entry = CSRS.get(num)
    return entry[0] if entry else f"csr{num:#x}"


def min_priv(num):
    return (num >> 8) & 3


def read_only(num):
    return (num >> 10) & 3 == 3


__all__ = ["CSRS", "COUNTER_CSRS", "EXACT_COUNT_CSRS", "csr_name", "min_priv", "read_only"]
