"""The per-engine context the native code works in (QEMU's CPUNegativeOffsetState
plus the softmmu TLB), as one flat array of 64-bit words.

Generated code holds its address in ``rbx`` (and the hart's state
structure in ``rbp``), so every field is ``[rbx + 8*word]``.  Python sees
the same words through a ``memoryview`` cast to ``'Q'``, as the hart's
state words.
"""

import ctypes

#: Word indexes of the fields.
BUDGET = 0          # instructions the chain may still retire
EXIT_PC = 1         # guest pc where the native code left
STOP = 2            # tb id << 8 | instruction index, at a call into Python
EXIT_REQUEST = 3    # nonzero: leave at the next block boundary (code was written...)
CALLBACK = 4        # address of the Python callback
PATCH = 5           # buffer offset of the jump to patch to the next block, or 0
IRQ_MASK = 6        # the mip bits that would be taken now (``irq_mask``)
ARGS = 8            # arguments of a call into Python
MAX_ARGS = 8
RET = ARGS + MAX_ARGS
TEMPS = 32
MAX_TEMPS = 2048
#: Direct-mapped TLBs for loads and stores: entries of (tag, addend).  The tag
#: is the virtual page's address (``INVALID`` when empty); host address =
#: virtual address + addend.
TLB_BITS = 8
TLB_SIZE = 1 << TLB_BITS
TLB_R = TEMPS + MAX_TEMPS
TLB_W = TLB_R + 2 * TLB_SIZE
#: The jump cache: entries of (guest pc, code address), index (pc >> 1) & mask.
JC_BITS = 12
JC_SIZE = 1 << JC_BITS
JC = TLB_W + 2 * TLB_SIZE
WORDS = JC + 2 * JC_SIZE
#: Never a page address nor a pc (both are even).
INVALID = 1
#: Empty entries, as many as the largest table has.
_EMPTY = (ctypes.c_uint64 * (2 * max(JC_SIZE, 2 * TLB_SIZE)))(*[INVALID, 0] * max(JC_SIZE, 2 * TLB_SIZE))
_EMPTY_ADDRESS = ctypes.addressof(_EMPTY)


class Context:
    def __init__(self):
        self.buf = (ctypes.c_uint64 * WORDS)()
        self.address = ctypes.addressof(self.buf)
        self.words = memoryview(self.buf).cast("B").cast("Q")
        self.jump_pages = {}        # virtual page -> jump cache words set for its pcs
        self.flush_tlb()
        self.flush_jumps()

    def _fill(self, first, count):
        """``count`` two-word entries from word ``first`` = (INVALID, 0): one
        memmove, as the guest may flush its TLB every thousand instructions."""
        ctypes.memmove(self.address + 8 * first, _EMPTY_ADDRESS, 16 * count)

    def flush_tlb(self):
        self._fill(TLB_R, 2 * TLB_SIZE)

    def flush_tlb_w(self):
        self._fill(TLB_W, TLB_SIZE)

    def flush_tlb_page(self, vpn):
        i = 2 * (vpn & (TLB_SIZE - 1))
        self.words[TLB_R + i] = self.words[TLB_W + i] = INVALID

    def fill_tlb(self, table, vpn, host):
        """Entry for virtual page ``vpn`` at host address ``host``."""
        i = table + 2 * (vpn & (TLB_SIZE - 1))
        va = vpn << 12
        self.words[i] = va
        self.words[i + 1] = (host - va) & 0xFFFFFFFFFFFFFFFF

    def flush_jumps(self):
        self._fill(JC, JC_SIZE)
        self.jump_pages.clear()

    def flush_jumps_page(self, vpn):
        """Drop the jump cache entries of pcs in virtual page ``vpn``."""
        words = self.words
        for i in self.jump_pages.pop(vpn, ()):
            if words[i] >> 12 == vpn:       # not since taken by another page's pc
                words[i] = INVALID

    def set_jump(self, pc, address):
        i = JC + 2 * ((pc >> 1) & (JC_SIZE - 1))
        self.words[i] = pc
        self.words[i + 1] = address
        self.jump_pages.setdefault(pc >> 12, []).append(i)
