"""Memory regions: what lives at a range of guest physical addresses.

As in QEMU, a region is RAM (backed by host memory the CPU may touch
directly), ROM (the same, but guest writes are ignored), I/O (every access
goes through a device's ``read``/``write``) or a container of subregions
placed at offsets.  The board builds the tree; an ``AddressSpace``
flattens it.
"""

RAM, ROM, IO, CONTAINER = "ram", "rom", "io", "container"


class MemoryRegion:
    def __init__(self, name: str, size: int, kind: str, *, ram=None, ram_offset=0,
                 ops=None):
        self.name = name
        self.size = size
        self.kind = kind
        #: For RAM/ROM: the GuestRAM backing it and where in it we start.
        self.ram = ram
        self.ram_offset = ram_offset
        #: For IO: an object with read(offset, size) and write(offset, size, value).
        self.ops = ops
        self.subregions = []   # (addr, priority, region)

    @classmethod
    def ram_region(cls, name, ram, offset=0, size=None):
        return cls(name, ram.size - offset if size is None else size, RAM,
                   ram=ram, ram_offset=offset)

    @classmethod
    def rom_region(cls, name, ram, offset=0, size=None):
        return cls(name, ram.size - offset if size is None else size, ROM,
                   ram=ram, ram_offset=offset)

    @classmethod
    def io(cls, name, ops, size=None):
        return cls(name, ops.size if size is None else size, IO, ops=ops)

    @classmethod
    def container(cls, name, size=1 << 64):
        return cls(name, size, CONTAINER)

    def add_subregion(self, addr: int, region: "MemoryRegion", priority: int = 0) -> None:
        self.subregions.append((addr, priority, region))

    def __repr__(self):
        return f"<MemoryRegion {self.name} {self.kind} size={self.size:#x}>"
