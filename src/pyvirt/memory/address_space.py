"""An AddressSpace: the one path for guest physical accesses.

CPUs (on a TLB miss), DMA by devices, loaders and the debugger all go
through ``read``/``write`` here.  The region tree is flattened into a
sorted list of non-overlapping ranges (higher priority and later-added
subregions win), and lookups bisect it.  Fast paths (softmmu TLB, KVM
memslots) only ever cache RAM ranges.

Accesses that hit nothing read as 0 and ignore writes, but are reported to
``unassigned`` so the CPU can raise an access fault and log it under
``-d guest_errors``.
"""

import bisect

from .region import CONTAINER, IO, RAM, ROM


class FlatRange:
    __slots__ = ("start", "end", "region", "offset")

    def __init__(self, start, end, region, offset):
        self.start = start          # first guest physical address
        self.end = end              # one past the last
        self.region = region
        self.offset = offset        # offset within region of `start`

    @property
    def is_ram(self):
        return self.region.kind in (RAM, ROM)

    def __repr__(self):
        return f"<FlatRange {self.start:#x}-{self.end:#x} {self.region.name}>"


class Unassigned(Exception):
    """A physical access hit no region."""

    def __init__(self, addr):
        super().__init__(f"unassigned physical address {addr:#x}")
        self.addr = addr


class AddressSpace:
    def __init__(self, root, name="memory"):
        self.root = root
        self.name = name
        #: Called as listener(paddr, size) after every write to RAM through
        #: this address space (used to invalidate translated code).
        self.write_listeners = []
        self.update()

    def update(self) -> None:
        """Re-flatten after the board changed the region tree."""
        spans = []   # (start, end, region, offset), later entries win
        self._flatten(self.root, 0, 0, spans)
        points = sorted({p for s in spans for p in (s[0], s[1])})
        ranges = []
        for lo, hi in zip(points, points[1:]):
            winner = None
            for s in spans:
                if s[0] <= lo and hi <= s[1]:
                    winner = s
            if winner is None:
                continue
            start, _, region, offset = winner
            off = offset + (lo - start)
            prev = ranges[-1] if ranges else None
            if (prev is not None and prev.region is region and prev.end == lo
                    and prev.offset + (prev.end - prev.start) == off):
                prev.end = hi
            else:
                ranges.append(FlatRange(lo, hi, region, off))
        self.ranges = ranges
        self._starts = [r.start for r in ranges]

    def _flatten(self, region, base, prio_base, out):
        if region.kind != CONTAINER:
            out.append((base, base + region.size, region, 0))
            return
        for addr, prio, sub in sorted(region.subregions, key=lambda s: s[1]):
            self._flatten(sub, base + addr, prio, out)

    def lookup(self, addr: int):
        """The FlatRange holding ``addr``, or None."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0:
            r = self.ranges[i]
            if addr < r.end:
                return r
        return None

    def ram_ptr(self, addr: int, size: int = 1):
        """(GuestRAM, offset) if [addr, addr+size) is wholly RAM/ROM, else None."""
        r = self.lookup(addr)
        if r is None or not r.is_ram or addr + size > r.end:
            return None
        return r.region.ram, r.region.ram_offset + r.offset + (addr - r.start)

    def _locate(self, addr):
        """(FlatRange, offset in its region) for ``addr``, or raise Unassigned."""
        r = self.lookup(addr)
        if r is None:
            raise Unassigned(addr)
        return r, r.offset + (addr - r.start)

    def read(self, addr: int, size: int) -> int:
        r, off = self._locate(addr)
        reg = r.region
        if reg.kind == IO:
            return reg.ops.read(off, size)
        if addr + size > r.end:
            return int.from_bytes(self.read_bytes(addr, size), "little")
        o = reg.ram_offset + off
        return int.from_bytes(reg.ram.view[o:o + size], "little")

    def write(self, addr: int, size: int, value: int) -> None:
        r, off = self._locate(addr)
        reg = r.region
        if reg.kind == IO:
            reg.ops.write(off, size, value & ((1 << (8 * size)) - 1))
            return
        if reg.kind == ROM:
            return
        if addr + size > r.end:
            self.write_bytes(addr, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
            return
        o = reg.ram_offset + off
        reg.ram.view[o:o + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        for listener in self.write_listeners:
            listener(addr, size)

    def read_bytes(self, addr: int, n: int) -> bytes:
        out = bytearray()
        while n > 0:
            r = self.lookup(addr)
            if r is None:
                raise Unassigned(addr)
            chunk = min(n, r.end - addr)
            off = r.offset + (addr - r.start)
            if r.is_ram:
                o = r.region.ram_offset + off
                out += r.region.ram.view[o:o + chunk]
            else:
                for i in range(chunk):
                    out.append(r.region.ops.read(off + i, 1))
            addr += chunk
            n -= chunk
        return bytes(out)

    def write_bytes(self, addr: int, data: bytes, *, rom_ok: bool = False) -> None:
        """Write a byte string; ``rom_ok`` lets loaders fill ROM."""
        data = memoryview(bytes(data))
        while data:
            r = self.lookup(addr)
            if r is None:
                raise Unassigned(addr)
            chunk = min(len(data), r.end - addr)
            off = r.offset + (addr - r.start)
            reg = r.region
            if reg.kind == RAM or (reg.kind == ROM and rom_ok):
                o = reg.ram_offset + off
                reg.ram.view[o:o + chunk] = data[:chunk]
                for listener in self.write_listeners:
                    listener(addr, chunk)
            elif reg.kind == IO:
                for i in range(chunk):
                    reg.ops.write(off + i, 1, data[i])
            addr += chunk
            data = data[chunk:]
