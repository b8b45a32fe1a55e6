"""Calling the host kernel: raw syscall() through ctypes, by syscall name.

Most riscv64 system calls mean the same thing on the host and take the
same structures (asm-generic types on both sides; see ``syscalls``), so
the guest's call is made again on the host with guest pointers turned into
host ones.  Only the syscall *numbers* differ: riscv64 uses the asm-generic
table, x86-64 its own.  This table gives the host number of each call
passed through; on an asm-generic host (aarch64, riscv64) the guest number
is the host one.  ctypes drops the GIL around the call, so a guest thread
blocked in the kernel does not stop the others.
"""

import ctypes
import platform

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long

#: x86-64 numbers (arch/x86/entry/syscalls/syscall_64.tbl) of the calls passed through.
X86_64 = {
    "read": 0, "write": 1, "close": 3, "fstat": 5, "lseek": 8, "mmap": 9, "mprotect": 10,
    "munmap": 11, "ioctl": 16, "pread64": 17, "pwrite64": 18, "readv": 19, "writev": 20,
    "sched_yield": 24, "mremap": 25, "msync": 26, "mincore": 27, "madvise": 28, "dup": 32,
    "nanosleep": 35, "getitimer": 36, "setitimer": 38, "getpid": 39, "sendfile": 40,
    "socket": 41, "connect": 42, "accept": 43, "sendto": 44, "recvfrom": 45, "sendmsg": 46,
    "recvmsg": 47, "shutdown": 48, "bind": 49, "listen": 50, "getsockname": 51,
    "getpeername": 52, "socketpair": 53, "setsockopt": 54, "getsockopt": 55, "wait4": 61,
    "kill": 62, "uname": 63, "fcntl": 72, "flock": 73, "fsync": 74, "fdatasync": 75,
    "truncate": 76, "ftruncate": 77, "getcwd": 79, "chdir": 80, "fchdir": 81, "fchmod": 91,
    "fchown": 93, "umask": 95, "gettimeofday": 96, "getrlimit": 97, "getrusage": 98,
    "sysinfo": 99, "times": 100, "getuid": 102, "getgid": 104, "setuid": 105, "setgid": 106,
    "geteuid": 107, "getegid": 108, "setpgid": 109, "getppid": 110, "setsid": 112,
    "setreuid": 113, "setregid": 114, "getgroups": 115, "setgroups": 116, "setresuid": 117,
    "getresuid": 118, "setresgid": 119, "getresgid": 120, "getpgid": 121, "getsid": 124,
    "capget": 125, "capset": 126, "rt_sigpending": 127, "rt_sigtimedwait": 128,
    "rt_sigsuspend": 130, "statfs": 137, "fstatfs": 138, "getpriority": 140,
    "setpriority": 141, "sched_getscheduler": 145, "sched_get_priority_max": 146,
    "sched_get_priority_min": 147, "mlock": 149, "munlock": 150, "prctl": 157,
    "setrlimit": 160, "chroot": 161, "sync": 162, "sethostname": 170, "gettid": 186,
    "tkill": 200, "futex": 202, "sched_setaffinity": 203, "sched_getaffinity": 204,
    "getdents64": 217, "fadvise64": 221, "timer_create": 222, "clock_settime": 227,
    "clock_gettime": 228, "clock_getres": 229, "clock_nanosleep": 230, "epoll_ctl": 233,
    "tgkill": 234, "waitid": 247, "inotify_add_watch": 254, "inotify_rm_watch": 255,
    "openat": 257, "mkdirat": 258, "mknodat": 259, "fchownat": 260, "newfstatat": 262,
    "unlinkat": 263, "linkat": 265, "symlinkat": 266, "readlinkat": 267, "fchmodat": 268,
    "faccessat": 269, "pselect6": 270, "ppoll": 271, "splice": 275, "tee": 276,
    "utimensat": 280, "epoll_pwait": 281, "timerfd_create": 283, "fallocate": 285,
    "timerfd_settime": 286, "timerfd_gettime": 287, "accept4": 288, "signalfd4": 289,
    "eventfd2": 290, "epoll_create1": 291, "dup3": 292, "pipe2": 293, "inotify_init1": 294,
    "preadv": 295, "pwritev": 296, "prlimit64": 302, "syncfs": 306, "getcpu": 309,
    "renameat2": 316, "getrandom": 318, "memfd_create": 319, "copy_file_range": 326,
    "statx": 332, "close_range": 436, "faccessat2": 439,
}

HOST_GENERIC = platform.machine() in ("aarch64", "riscv64")
if not HOST_GENERIC and platform.machine() != "x86_64":
    raise ImportError(f"pyvirt-riscv64 runs on x86-64, aarch64 or riscv64 hosts, "
                      f"not {platform.machine()}")

_M = (1 << 64) - 1


def host_number(name, guest_nr):
    return guest_nr if HOST_GENERIC else X86_64[name]


def call(nr, *args):
    """The raw host syscall ``nr``: its result, or -errno."""
    r = _syscall(ctypes.c_long(nr), *(ctypes.c_ulong(a & _M) for a in args))
    if r == -1:
        return -ctypes.get_errno()
    return r
