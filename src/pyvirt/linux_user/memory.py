"""The guest's address space: one host reservation plus a page-permission table.

As in QEMU's user mode, guest address ``a`` is host address
``guest_base + a``: the whole guest space is one anonymous ``MAP_NORESERVE``
mapping made at start-up (pages cost nothing until touched).  The guest's
own mappings are remapped into it with ``MAP_FIXED`` (anonymous, shared or
file-backed), so file mappings are real host mappings and shared ones stay
shared across fork.  The host side is always readable and writable; what
the guest may do with a page is the byte for it in ``prot`` (PROT_* bits
plus ``MAPPED``), which ``UserHart.translate`` checks, so a guest access to
an unmapped page becomes a guest fault, never a host one.

``prot`` is itself an anonymous mapping (zero pages are free, and
``rfind`` finds a run of unmapped pages in C).
"""

import ctypes
import mmap
import os

from ..errors import PyvirtError

PAGE = 4096
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
#: Set in ``prot`` for every page the guest has mapped (even PROT_NONE).
MAPPED = 8

MAP_SHARED, MAP_PRIVATE = 0x01, 0x02
MAP_FIXED = 0x10
MAP_ANONYMOUS = 0x20
MAP_NORESERVE = 0x4000
MAP_FIXED_NOREPLACE = 0x100000

#: Default reservation: 64 GiB of guest address space.
DEFAULT_SIZE = 1 << 36
#: Lowest address mmap hands out without a hint (Linux's mmap_min_addr).
MMAP_MIN = 0x10000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long)
_libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
_MAP_FAILED = ctypes.c_void_p(-1).value


def page_up(n):
    return (n + PAGE - 1) & ~(PAGE - 1)


class GuestMemory:
    """Guest virtual memory; also serves as the hart's ``ram`` (``view``, ``size``)."""

    def __init__(self, size=DEFAULT_SIZE, base=None):
        self.size = size
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE
        if base is None:
            self.mmap = mmap.mmap(-1, size, flags=flags)
            self.host_addr = ctypes.addressof(ctypes.c_char.from_buffer(self.mmap))
            self.view = memoryview(self.mmap)
        else:
            addr = _libc.mmap(base, size, 3, flags | MAP_FIXED_NOREPLACE, -1, 0)
            if addr in (None, _MAP_FAILED) or addr != base:
                raise PyvirtError(f"-B {base:#x}: cannot reserve {size:#x} bytes of guest "
                                  "address space there")
            self.host_addr = base
            self.view = memoryview((ctypes.c_char * size).from_address(base)).cast("B")
        self.prot = mmap.mmap(-1, size // PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.npages = size // PAGE
        #: Called with (addr, length, remapped) when guest bytes change (under
        #: decoded code, maybe) or, with remapped True, mappings or permissions.
        self.on_change = []
        self.brk_start = self.brk = 0

    # ---- permissions ------------------------------------------------------------
    def ok(self, addr, length, need):
        """May the guest access [addr, addr+length) with PROT bits ``need``?"""
        if length <= 0:
            return True
        if addr < 0 or addr + length > self.size:
            return False
        first, last = addr // PAGE, (addr + length - 1) // PAGE
        if need == 0:
            need = MAPPED
        prot = self.prot
        return all(prot[p] & need == need for p in range(first, last + 1))

    def is_free(self, addr, length):
        first, last = addr // PAGE, (addr + length - 1) // PAGE
        return addr >= MMAP_MIN and addr + length <= self.size and \
            not any(self.prot[first:last + 1])

    def set_prot(self, addr, length, prot):
        first, n = addr // PAGE, page_up(length) // PAGE
        self.prot[first:first + n] = bytes([prot]) * n

    def find_free(self, length, below=None):
        """Highest free page-aligned range of ``length`` bytes (below ``below``)."""
        n = page_up(length) // PAGE
        top = self.npages if below is None else below // PAGE
        idx = self.prot.rfind(bytes(n), MMAP_MIN // PAGE, top)
        return None if idx < 0 else idx * PAGE

    # ---- host backing -----------------------------------------------------------
    def remap(self, addr, length, flags=MAP_PRIVATE | MAP_ANONYMOUS, fd=-1, offset=0,
              host_prot=PROT_READ | PROT_WRITE):
        """Replace the host pages behind [addr, addr+length); returns 0 or -errno."""
        host = _libc.mmap(self.host_addr + addr, length, host_prot,
                          flags | MAP_FIXED | MAP_NORESERVE, fd, offset)
        if host in (None, _MAP_FAILED):
            return -ctypes.get_errno()
        return 0

    def changed(self, addr, length, remapped=False):
        for fn in self.on_change:
            fn(addr, length, remapped)

    # ---- guest mmap ---------------------------------------------------------------
    def map(self, addr, length, prot, flags, fd=-1, offset=0):
        """The guest's mmap: returns the address or -errno."""
        length = page_up(length)
        if length == 0 or offset & (PAGE - 1):
            return -22
        fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)
        if fixed:
            if addr & (PAGE - 1) or addr < MMAP_MIN or addr + length > self.size:
                return -22 if addr & (PAGE - 1) else -12
            if flags & MAP_FIXED_NOREPLACE and not flags & MAP_FIXED \
                    and not self.is_free(addr, length):
                return -17
        elif not (addr and not addr & (PAGE - 1) and self.is_free(addr, length)):
            addr = self.find_free(length)
            if addr is None:
                return -12
        share = flags & (MAP_SHARED | MAP_PRIVATE)
        if flags & MAP_ANONYMOUS or fd < 0:
            err = self.remap(addr, length, share | MAP_ANONYMOUS)
        else:
            err = self._map_file(addr, length, prot, share, fd, offset)
        if err:
            return err
        self.set_prot(addr, length, (prot & 7) | MAPPED)
        self.changed(addr, length, True)
        return addr

    def _map_file(self, addr, length, prot, share, fd, offset):
        try:
            size = os.fstat(fd).st_size
        except OSError as err:
            return -err.errno
        # Host pages wholly past the end of the file would SIGBUS the
        # emulator; they are anonymous zeros instead.
        in_file = min(length, max(0, page_up(size - offset)))
        host_prot = PROT_READ | PROT_WRITE
        if share == MAP_SHARED and not prot & PROT_WRITE:
            host_prot = PROT_READ
        if in_file:
            err = self.remap(addr, in_file, share, fd, offset, host_prot)
            if err:
                return err
        if in_file < length:
            return self.remap(addr + in_file, length - in_file)
        return 0

    def unmap(self, addr, length):
        if addr & (PAGE - 1) or length <= 0:
            return -22
        length = page_up(length)
        if addr + length > self.size:
            return -22
        self.remap(addr, length)
        self.set_prot(addr, length, 0)
        self.changed(addr, length, True)
        return 0

    def protect(self, addr, length, prot):
        if addr & (PAGE - 1):
            return -22
        length = page_up(length)
        if not self.ok(addr, length, MAPPED):
            return -12
        self.set_prot(addr, length, (prot & 7) | MAPPED)
        self.changed(addr, length, True)
        return 0

    def set_brk(self, new):
        """The guest's brk: grows or shrinks the heap; returns the break."""
        if new < self.brk_start:
            return self.brk
        old_top, new_top = page_up(self.brk), page_up(new)
        if new_top > old_top:
            if not self.is_free(old_top, new_top - old_top):
                return self.brk
            self.map(old_top, new_top - old_top, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
        elif new_top < old_top:
            self.unmap(new_top, old_top - new_top)
        self.brk = new
        return new

    # ---- data -------------------------------------------------------------------
    def read(self, addr, length):
        return bytes(self.view[addr:addr + length])

    def write(self, addr, data):
        self.view[addr:addr + len(data)] = data
        self.changed(addr, len(data))

    def read_u64(self, addr):
        return int.from_bytes(self.view[addr:addr + 8], "little")

    def write_u64(self, addr, value):
        self.write(addr, (value & ((1 << 64) - 1)).to_bytes(8, "little"))

    def cstring(self, addr, limit=1 << 16):
        """The NUL-terminated bytes at ``addr``, or None if unreadable."""
        out = bytearray()
        while len(out) < limit:
            if not self.ok(addr, 1, PROT_READ):
                return None
            chunk = self.view[addr:(addr | (PAGE - 1)) + 1]
            end = bytes(chunk).find(b"\0")
            if end >= 0:
                out += chunk[:end]
                return bytes(out)
            out += chunk
            addr += len(chunk)
        return None

    def host(self, addr):
        """Host address of guest address ``addr`` (for passing to the host kernel)."""
        return self.host_addr + addr
