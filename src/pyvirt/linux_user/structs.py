"""riscv64 Linux structures whose layout differs from the host's.

Everything else the emulator passes to the host kernel (timespec, timeval,
rusage, rlimit, iovec, msghdr, sockaddr, pollfd, fd_set, termios, winsize,
statfs, statx, linux_dirent64, siginfo, flock) has the same layout on
riscv64 and x86-64: both are LP64 and use the asm-generic definitions.
The exceptions are here: ``struct stat`` (asm-generic on riscv64, its own
on x86-64), ``struct epoll_event`` (packed to 12 bytes on x86-64 only) and
``struct utsname`` (filled in by the emulator: the machine is riscv64).
"""

import os
import struct

#: asm-generic struct stat (include/uapi/asm-generic/stat.h), 128 bytes.
STAT = struct.Struct("<QQIIIIQQqiiqqQqQqQII")
#: riscv64 struct epoll_event: u32 events, 4 bytes padding, u64 data.
EPOLL_EVENT = struct.Struct("<IxxxxQ")
#: x86-64 struct epoll_event (__attribute__((packed))).
HOST_EPOLL_EVENT = struct.Struct("<IQ")
UTSNAME_FIELD = 65


def pack_stat(st: os.stat_result) -> bytes:
    return STAT.pack(st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_uid, st.st_gid,
                     st.st_rdev, 0, st.st_size, st.st_blksize, 0, st.st_blocks,
                     st.st_atime_ns // 10**9, st.st_atime_ns % 10**9,
                     st.st_mtime_ns // 10**9, st.st_mtime_ns % 10**9,
                     st.st_ctime_ns // 10**9, st.st_ctime_ns % 10**9, 0, 0)


def pack_utsname(machine="riscv64") -> bytes:
    u = os.uname()
    fields = (u.sysname, u.nodename, u.release, u.version, machine, "(none)")
    return b"".join(os.fsencode(f)[:UTSNAME_FIELD - 1].ljust(UTSNAME_FIELD, b"\0")
                    for f in fields)
