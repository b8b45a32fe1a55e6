"""Translation blocks and the cache that holds them.

A block is keyed by (virtual pc, physical address of pc).  Privilege, satp
and mstatus only decide which physical page a virtual pc names and whether
fetching from it is allowed; the generated code itself checks privilege
through the helpers at run time.  So the engine's virtual-pc lookup table
is dropped with the hart's TLB (``tlb_flush_listeners``), while the blocks
here live on until their physical page is written (``invalidate_page``) or
the cache is full (``MAX_TBS``: then everything goes, as QEMU's tb_flush).

Compiled functions are also kept by (pc, instruction bits): when a page
is written (a data store next to code, a loader rewriting the same bytes)
its blocks are decoded again, and if the bits are unchanged the function
is reused instead of compiled again.
"""

#: Blocks (and compiled functions) kept before everything is flushed.
MAX_TBS = 16384


class TranslationBlock:
    __slots__ = ("pc", "pa", "fn")

    def __init__(self, pc, pa, fn):
        self.pc = pc
        self.pa = pa
        self.fn = fn

    @property
    def page(self):
        return self.pa >> 12


class TBCache:
    def __init__(self, max_tbs=MAX_TBS):
        self.max_tbs = max_tbs
        self.tbs = {}           # (pc, pa) -> TranslationBlock
        self.by_page = {}       # physical page number -> [TranslationBlock]
        self.compiled = {}      # (pc, instruction bits) -> (fn, source)

    def __len__(self):
        return len(self.tbs)

    def get(self, pc, pa):
        return self.tbs.get((pc, pa))

    def full(self):
        return len(self.tbs) >= self.max_tbs

    def add(self, tb):
        self.tbs[tb.pc, tb.pa] = tb
        self.by_page.setdefault(tb.page, []).append(tb)

    def compiled_code(self, pc, bits):
        return self.compiled.get((pc, bits))

    def remember_code(self, pc, bits, fn, source):
        if len(self.compiled) >= self.max_tbs:
            self.compiled.clear()
        self.compiled[pc, bits] = (fn, source)

    def invalidate_page(self, ppn):
        """Drop the blocks translated from physical page ``ppn``; returns them."""
        dropped = self.by_page.pop(ppn, ())
        for tb in dropped:
            self.tbs.pop((tb.pc, tb.pa), None)
        return dropped

    def flush(self):
        self.tbs.clear()
        self.by_page.clear()
        self.compiled.clear()
