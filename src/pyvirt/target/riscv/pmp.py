"""Physical memory protection (privileged spec 1.12, section 3.7).

Sixteen entries, each a config byte (R/W/X, address-matching mode A, lock
L) and an address register holding bits 55..2 of an address.  The
lowest-numbered entry that matches any byte of an access decides it; an
access that only partly matches that entry fails.  Unlocked entries do
not restrict M-mode.  Like QEMU, a hart with no active entry lets S and U
through (the spec allows this when no entry is implemented).

The softmmu asks ``page_verdict`` before caching a page in a TLB: only a
page that one entry (or no entry) governs whole may be cached.
"""

from .cpu_bits import ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, PRV_M

PMP_R, PMP_W, PMP_X = 1, 2, 4
PMP_A_SHIFT = 3
PMP_A = 3 << PMP_A_SHIFT
A_OFF, A_TOR, A_NA4, A_NAPOT = 0, 1, 2, 3
PMP_L = 0x80
NUM_ENTRIES = 16

_PERM = {ACCESS_FETCH: PMP_X, ACCESS_LOAD: PMP_R, ACCESS_STORE: PMP_W}


def ranges(state):
    """[(index, start, end, cfg)] of the active entries, end exclusive."""
    out = []
    prev = 0
    for i in range(NUM_ENTRIES):
        cfg = state.pmpcfg[i]
        addr = state.pmpaddr[i]
        mode = (cfg & PMP_A) >> PMP_A_SHIFT
        if mode == A_TOR:
            start, end = prev << 2, addr << 2
        elif mode == A_NA4:
            start, end = addr << 2, (addr << 2) + 4
        elif mode == A_NAPOT:
            mask = addr ^ (addr + 1)          # the trailing ones and the zero above them
            start = (addr & ~mask) << 2
            end = start + ((mask + 1) << 2)
        prev = addr
        if mode != A_OFF and start < end:
            out.append((i, start, end, cfg))
    return out


def _decide(rules, addr, size, access, priv):
    """True/False for the access, or None when an entry matches only part of it."""
    last = addr + size
    for _, start, end, cfg in rules:
        if addr < end and start < last:
            if not (start <= addr and last <= end):
                return False
            if priv == PRV_M and not cfg & PMP_L:
                return True
            return bool(cfg & _PERM[access])
    return priv == PRV_M or not rules


def allowed(rules, addr, size, access, priv):
    """``rules`` as ``ranges`` returns them (the hart caches them)."""
    return _decide(rules, addr, size, access, priv)


def page_verdict(rules, page, access, priv):
    """Whether a TLB may cache this 4 KiB page for this access kind."""
    for _, start, end, _cfg in rules:
        if page < end and start < page + 4096 and not (start <= page and page + 4096 <= end):
            return False          # an entry boundary inside the page: check each access
        if start <= page and page + 4096 <= end:
            break
    return _decide(rules, page, 4096, access, priv)
