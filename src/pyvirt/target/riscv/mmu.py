"""Sv39 and Sv48 page-table walks (privileged spec 1.12, section 4.3-4.5).

One walker serves both modes: they differ only in the number of levels.
Accessed/Dirty bits are set by the walker in memory, as QEMU's virt hart
does.  The walker reads PTEs through callbacks so the hart can route them
through the AddressSpace (PTEs may live anywhere, and faults on the walk
itself are access faults).
"""

from .cpu_bits import (ACCESS_FETCH, ACCESS_STORE, PRV_S, PRV_U, SATP_MODE_SV39,
                       SATP_MODE_SV48, SATP_PPN)

PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D = (1 << i for i in range(8))
PTE_PPN_SHIFT = 10
PTE_PPN_MASK = (1 << 44) - 1
PTE_RESERVED = ((1 << 64) - 1) ^ ((1 << 54) - 1)     # bits 63..54: Svpbmt/Svnapot not offered

LEVELS = {SATP_MODE_SV39: 3, SATP_MODE_SV48: 4}
PAGE_SHIFT = 12
#: Page shifts of the superpages a walk can end in (megapage, gigapage, terapage).
SUPERPAGE_SHIFTS = tuple(PAGE_SHIFT + 9 * level for level in range(1, max(LEVELS.values())))


class PageFault(Exception):
    pass


class WalkAccessFault(Exception):
    pass


def walk(mode, satp, va, access, priv, sum_, mxr, read_pte, write_pte):
    """Translate ``va``; returns (physical address, log2 of the page size).

    Raises PageFault for any violation, WalkAccessFault when a PTE read
    hits no memory.
    """
    levels = LEVELS[mode]
    va_bits = PAGE_SHIFT + 9 * levels
    top = va >> (va_bits - 1)
    if top != 0 and top != (1 << (65 - va_bits)) - 1:
        raise PageFault
    table = (satp & SATP_PPN) << PAGE_SHIFT
    for level in range(levels - 1, -1, -1):
        shift = PAGE_SHIFT + 9 * level
        pte_addr = table + ((va >> shift) & 0x1FF) * 8
        pte = read_pte(pte_addr)
        if not pte & PTE_V or (pte & (PTE_R | PTE_W)) == PTE_W or pte & PTE_RESERVED:
            raise PageFault
        ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK
        if not pte & (PTE_R | PTE_X):
            if pte & (PTE_A | PTE_D | PTE_U):
                raise PageFault
            table = ppn << PAGE_SHIFT
            continue
        _check_leaf(pte, access, priv, sum_, mxr)
        if ppn & ((1 << (9 * level)) - 1):
            raise PageFault            # misaligned superpage
        want = PTE_A | (PTE_D if access == ACCESS_STORE else 0)
        if pte & want != want:
            write_pte(pte_addr, pte | want)
        return ((ppn << PAGE_SHIFT) | (va & ((1 << shift) - 1))) & ((1 << 56) - 1), shift
    raise PageFault


def _check_leaf(pte, access, priv, sum_, mxr):
    if pte & PTE_U:
        if priv == PRV_S and (access == ACCESS_FETCH or not sum_):
            raise PageFault
    elif priv == PRV_U:
        raise PageFault
    if access == ACCESS_FETCH:
        ok = pte & PTE_X
    elif access == ACCESS_STORE:
        ok = pte & PTE_W
    else:
        ok = pte & PTE_R or (mxr and pte & PTE_X)
    if not ok:
        raise PageFault
