"""Guest RAM: one anonymous mmap with a stable host address.

The same buffer is seen as a memoryview by the interpreter and generated
Python code, as a raw pointer by native code, and as ``userspace_addr`` by
KVM memory slots.  It never moves or grows.
"""

import ctypes
import mmap


class GuestRAM:
    def __init__(self, size: int, name: str = "ram"):
        self.name = name
        self.size = size
        self.mmap = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                              prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self.view = memoryview(self.mmap)
        #: Host virtual address of byte 0 (for native code and KVM).
        self.host_addr = ctypes.addressof(ctypes.c_char.from_buffer(self.mmap))

    def load(self, offset: int, data: bytes) -> None:
        self.view[offset:offset + len(data)] = data

    def clear(self) -> None:
        """Zero all of it (machine reset), giving the pages back to the host."""
        self.mmap.madvise(mmap.MADV_DONTNEED)
