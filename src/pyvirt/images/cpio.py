"""The newc cpio archive format, which Linux unpacks as an initramfs.

Written here rather than by running cpio(1) because an initramfs needs
entries that do not exist on the build host (``/dev/console`` as a
character device, everything owned by root) and cpio can only archive
real files; making device nodes would need root. The format is small:
each entry is a 110-byte ASCII header ("070701" and thirteen 8-digit hex
fields), the NUL-terminated name and the data, each padded to 4 bytes,
and a final entry named ``TRAILER!!!`` (Linux's
Documentation/driver-api/early-userspace/buffer-format.rst).
"""

import stat
from collections.abc import Iterable
from dataclasses import dataclass

NEWC_MAGIC = b"070701"
TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Entry:
    name: str  # path inside the archive, without a leading "/"
    mode: int  # file type and permission bits, as in st_mode
    data: bytes = b""  # file contents, or a symlink's target
    rdev: tuple[int, int] = (0, 0)  # (major, minor) of a device node


def directory(name: str, perm: int = 0o755) -> Entry:
    return Entry(name, stat.S_IFDIR | perm)


def regular_file(name: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(name, stat.S_IFREG | perm, data)


def symlink(name: str, target: str) -> Entry:
    return Entry(name, stat.S_IFLNK | 0o777, target.encode())


def char_device(name: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(name, stat.S_IFCHR | perm, rdev=(major, minor))


def _pad4(length: int) -> bytes:
    return b"\0" * (-length % 4)


def _header(ino: int, entry: Entry, namesize: int) -> bytes:
    fields = (
        ino,
        entry.mode,
        0,  # uid: root
        0,  # gid: root
        2 if stat.S_ISDIR(entry.mode) else 1,  # nlink
        0,  # mtime: fixed, so that archives are reproducible
        len(entry.data),
        0,  # devmajor of the (nonexistent) filesystem the entry came from
        0,  # devminor
        entry.rdev[0],
        entry.rdev[1],
        namesize,
        0,  # check: only used by the "070702" CRC variant
    )
    return NEWC_MAGIC + b"".join(b"%08X" % field for field in fields)


def newc_archive(entries: Iterable[Entry]) -> bytes:
    """The uncompressed newc archive holding ``entries`` in order.

    Parents must come before their children: the kernel creates each
    entry as it reads it.
    """
    out = bytearray()
    trailer = Entry(TRAILER, 0)
    for ino, entry in enumerate([*entries, trailer], start=1):
        name = entry.name.encode() + b"\0"
        out += _header(0 if entry is trailer else ino, entry, len(name))
        out += name
        out += _pad4(len(out))
        out += entry.data
        out += _pad4(len(out))
    return bytes(out)
