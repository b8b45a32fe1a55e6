"""``-strace``: each system call with decoded arguments and its result, as qemu-user prints.

``PID name(arg,arg,...) = result``, errors as ``= -1 errno=N (text)``;
arguments are printed by the kinds in the syscall table.
"""

import os

from .signals import signal_name

AT_FDCWD = -100
PROT_FLAGS = ((1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"))
MAP_FLAGS = ((0x01, "MAP_SHARED"), (0x02, "MAP_PRIVATE"), (0x10, "MAP_FIXED"),
             (0x20, "MAP_ANONYMOUS"), (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"),
             (0x4000, "MAP_NORESERVE"), (0x8000, "MAP_POPULATE"), (0x20000, "MAP_STACK"),
             (0x100000, "MAP_FIXED_NOREPLACE"))
OPEN_FLAGS = ((0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o400, "O_NOCTTY"), (0o1000, "O_TRUNC"),
              (0o2000, "O_APPEND"), (0o4000, "O_NONBLOCK"), (0o10000, "O_DSYNC"),
              (0o40000, "O_DIRECT"), (0o100000, "O_LARGEFILE"), (0o200000, "O_DIRECTORY"),
              (0o400000, "O_NOFOLLOW"), (0o1000000, "O_NOATIME"), (0o2000000, "O_CLOEXEC"),
              (0o10000000, "O_PATH"))
ACCESS_MODES = ("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")
#: Calls whose result is an address (printed in hex, as QEMU does).
ADDRESS_RESULTS = frozenset({"brk", "mmap", "mremap"})


def flag_names(v, table, zero):
    names = [name for bit, name in table if v & bit]
    rest = v & ~sum(bit for bit, _ in table)
    if rest:
        names.append(f"0x{rest:x}")
    return "|".join(names) or zero


def _string(t, addr):
    raw = t.mem.cstring(addr, 256)
    if raw is None:
        return f"0x{addr:x}"
    return '"' + raw.decode("utf-8", "backslashreplace").replace('"', '\\"') + '"'


def format_arg(t, kind, v):
    sv = v - (1 << 64) if v >> 63 else v
    if kind in "sc":
        return _string(t, v) if v else "NULL"
    if kind == "p":
        return f"0x{v:016x}" if v else "NULL"
    if kind == "f":
        s32 = ((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
        return "AT_FDCWD" if s32 == AT_FDCWD else str(s32)
    if kind == "x":
        return f"0x{v:x}"
    if kind == "o":
        return f"0{v:o}"
    if kind == "S":
        return signal_name(v)
    if kind == "P":
        return flag_names(v, PROT_FLAGS, "PROT_NONE")
    if kind == "M":
        return flag_names(v, MAP_FLAGS, "0")
    if kind == "O":
        return "|".join([ACCESS_MODES[v & 3]] + [flag_names(v & ~3, OPEN_FLAGS, "")] * bool(v & ~3))
    if kind == "u":
        return str(v)
    return str(sv)


def format_call(t, entry, args):
    shown = ",".join(format_arg(t, k, a) for k, a in zip(entry.kinds, args))
    return f"{t.tid} {entry.name}({shown})"


def format_result(entry, r):
    if r is None:
        return ""
    if -4096 < r < 0:
        return f" = -1 errno={-r} ({os.strerror(-r)})"
    if entry.name in ADDRESS_RESULTS:
        return f" = 0x{r:016x}"
    return f" = {r}"
