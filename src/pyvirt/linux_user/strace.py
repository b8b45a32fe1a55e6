"""``-strace``: each system call with decoded arguments and its result, as qemu-user prints.

``PID name(arg,arg,...) = result``, errors as ``= -1 errno=N (text)``;
arguments are printed by the kinds in the syscall table.
"""

import os

from .signals import signal_name

AT_FDCWD = -100


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
    if kind == "u":
        return str(v)
    return str(sv)


def format_call(t, entry, args):
    shown = ",".join(format_arg(t, k, a) for k, a in zip(entry.kinds, args))
    return f"{t.tid} {entry.name}({shown})"


def format_result(r):
    if r is None:
        return ""
    if -4096 < r < 0:
        return f" = -1 errno={-r} ({os.strerror(-r)})"
    return f" = {r}" if r < 1 << 32 else f" = 0x{r:x}"
