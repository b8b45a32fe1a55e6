"""The riscv64 Linux system call table: number -> name, argument kinds, handler.

One table drives dispatch and ``-strace``.  The argument kinds say how to
print an argument and, for calls passed through to the host, how to pass
it: ``p`` a pointer (guest address made a host one), ``s`` a path (read
from the guest, looked up under ``-L`` when absolute, as QEMU's path()),
``c`` a string that is not a path, ``f`` a file descriptor or dirfd, ``d``
``u`` ``x`` ``o`` numbers (signed, unsigned, hex, octal), ``S`` a signal,
``P`` ``M`` ``O`` mmap protections, mmap flags, open flags.
Calls without a handler here are passed through (``hostcall``); the rest
need the emulator: memory, processes and threads, signals, and the few
structures whose layout differs (``structs``).  errno values are the same
on the guest and the host (asm-generic), so a host -errno is the guest's.
"""

import ctypes
import errno
import os
import struct
from dataclasses import dataclass
from typing import Callable

from . import hostcall, structs
from .elfload import host_path
from .memory import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE, page_up

E = errno
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_SYMLINK_NOFOLLOW = 0x100
M64 = (1 << 64) - 1


def s64(v):
    return v - (1 << 64) if v >> 63 else v


def s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


@dataclass
class Entry:
    name: str
    kinds: str
    handler: Callable


TABLE: dict[int, Entry] = {}


def syscall(nr, name, kinds=""):
    def register(fn):
        TABLE[nr] = Entry(name, kinds, fn)
        return fn
    return register


class Fault(Exception):
    """A guest pointer that does not point at guest memory: the call fails with EFAULT."""


def guest_path(t, addr):
    """The path at guest ``addr`` as the host should see it."""
    raw = t.mem.cstring(addr)
    if raw is None:
        raise Fault
    path = os.fsdecode(raw)
    if path in ("/proc/self/exe", f"/proc/{os.getpid()}/exe"):
        return t.proc.exe
    return host_path(path, t.proc.prefix)


def host_args(t, args, kinds):
    """The arguments as the host kernel takes them (plus buffers to keep alive)."""
    out, keep = [], []
    mem = t.mem
    for a, k in zip(args, kinds):
        if k == "p" and a:
            if not mem.ok(a, 1, 0):
                raise Fault
            a = mem.host(a)
        elif k in "sc" and a:
            raw = os.fsencode(guest_path(t, a)) if k == "s" else mem.cstring(a)
            if raw is None:
                raise Fault
            buf = ctypes.create_string_buffer(raw)
            keep.append(buf)
            a = ctypes.addressof(buf)
        out.append(a)
    return out, keep


def passthrough(nr, name, kinds=""):
    host_nr = hostcall.host_number(name, nr)

    def call(t, a):
        args, _keep = host_args(t, a, kinds)
        return hostcall.call(host_nr, *args)
    TABLE[nr] = Entry(name, kinds, call)


def host(name, nr, *args):
    return hostcall.call(hostcall.host_number(name, nr), *args)


# ---- calls that mean the same on the host -------------------------------------------
for _nr, _name, _kinds in [
    (17, "getcwd", "pu"), (19, "eventfd2", "ux"), (20, "epoll_create1", "x"),
    (23, "dup", "f"), (24, "dup3", "ffx"), (26, "inotify_init1", "x"),
    (27, "inotify_add_watch", "fsx"), (28, "inotify_rm_watch", "fd"), (32, "flock", "fd"),
    (33, "mknodat", "fsou"), (34, "mkdirat", "fso"), (35, "unlinkat", "fsx"),
    (36, "symlinkat", "cfs"), (37, "linkat", "fsfsx"), (43, "statfs", "sp"),
    (44, "fstatfs", "fp"), (45, "truncate", "sd"), (46, "ftruncate", "fd"),
    (47, "fallocate", "fxdd"), (48, "faccessat", "fso"), (49, "chdir", "s"), (50, "fchdir", "f"),
    (51, "chroot", "s"), (52, "fchmod", "fo"), (53, "fchmodat", "fso"),
    (54, "fchownat", "fsddx"), (55, "fchown", "fdd"), (56, "openat", "fsOo"), (57, "close", "f"),
    (59, "pipe2", "px"), (61, "getdents64", "fpu"), (62, "lseek", "fdd"),
    (64, "write", "fpu"), (68, "pwrite64", "fpud"), (71, "sendfile", "ffpu"),
(73, "ppoll", "pupp"), (74, "signalfd4", "fpux"),
    (81, "sync", ""), (82, "fsync", "f"), (83, "fdatasync", "f"),
    (85, "timerfd_create", "dx"), (86, "timerfd_settime", "fxpp"), (87, "timerfd_gettime", "fp"),
    (88, "utimensat", "fspx"), (90, "capget", "pp"), (91, "capset", "pp"),
    (95, "waitid", "ddpxp"), (101, "nanosleep", "pp"), (102, "getitimer", "dp"),
    (103, "setitimer", "dpp"), (113, "clock_gettime", "dp"), (114, "clock_getres", "dp"),
    (115, "clock_nanosleep", "dxpp"), (120, "sched_getscheduler", "d"),
    (122, "sched_setaffinity", "dup"), (123, "sched_getaffinity", "dup"),
    (124, "sched_yield", ""), (125, "sched_get_priority_max", "d"),
    (126, "sched_get_priority_min", "d"),
    (140, "setpriority", "ddd"), (141, "getpriority", "dd"),
    (143, "setregid", "dd"), (144, "setgid", "d"), (145, "setreuid", "dd"), (146, "setuid", "d"),
    (147, "setresuid", "ddd"), (148, "getresuid", "ppp"), (149, "setresgid", "ddd"),
    (150, "getresgid", "ppp"), (153, "times", "p"), (154, "setpgid", "dd"), (155, "getpgid", "d"),
    (156, "getsid", "d"), (157, "setsid", ""), (158, "getgroups", "dp"), (159, "setgroups", "dp"),
    (161, "sethostname", "cu"), (163, "getrlimit", "dp"), (164, "setrlimit", "dp"),
    (165, "getrusage", "dp"), (166, "umask", "o"), (168, "getcpu", "ppp"),
    (169, "gettimeofday", "pp"), (172, "getpid", ""), (173, "getppid", ""), (174, "getuid", ""),
    (175, "geteuid", ""), (176, "getgid", ""), (177, "getegid", ""), (178, "gettid", ""),
    (179, "sysinfo", "p"), (198, "socket", "ddd"), (199, "socketpair", "dddp"),
    (200, "bind", "fpu"), (201, "listen", "fd"), (202, "accept", "fpp"), (203, "connect", "fpu"),
    (204, "getsockname", "fpp"), (205, "getpeername", "fpp"), (206, "sendto", "fpuxpu"),
    (207, "recvfrom", "fpuxpp"), (208, "setsockopt", "fddpu"), (209, "getsockopt", "fddpp"),
    (210, "shutdown", "fd"), (227, "msync", "pux"), (232, "mincore", "pup"),
    (242, "accept4", "fppx"), (260, "wait4", "dpxp"), (261, "prlimit64", "ddpp"),
    (267, "syncfs", "f"), (276, "renameat2", "fsfsx"), (278, "getrandom", "pux"),
    (279, "memfd_create", "cx"), (285, "copy_file_range", "fpfpux"), (291, "statx", "fsxxp"),
    (436, "close_range", "ffx"), (439, "faccessat2", "fsox"),
]:
    passthrough(_nr, _name, _kinds)


def _unimplemented(t, a):
    return -E.ENOSYS


# glibc copes without these (QEMU 7.2 does not have them either).
for _nr, _name in [(99, "set_robust_list"), (100, "get_robust_list"), (258, "riscv_hwprobe"),
                   (283, "membarrier"), (293, "rseq"), (435, "clone3"), (434, "pidfd_open")]:
    TABLE[_nr] = Entry(_name, "pu", _unimplemented)


# ---- files: data into guest memory, stat, paths ----------------------------------------
@syscall(63, "read", "fpu")
def sys_read(t, a):
    r = host("read", 63, a[0], t.host_ptr(a[1], a[2], PROT_WRITE), a[2])
    if r > 0:
        t.mem.changed(a[1], r)
    return r


@syscall(67, "pread64", "fpud")
def sys_pread64(t, a):
    r = host("pread64", 67, a[0], t.host_ptr(a[1], a[2], PROT_WRITE), a[2], a[3])
    if r > 0:
        t.mem.changed(a[1], r)
    return r


def _iovec(t, addr, count):
    """A host copy of the guest iovec array (base pointers made host ones)."""
    if count > 1024:
        raise OSError(E.EINVAL, "")
    raw = t.mem.read(addr, 16 * count) if t.mem.ok(addr, 16 * count, PROT_READ) else None
    if raw is None and count:
        raise Fault
    vec = (ctypes.c_uint64 * (2 * count))()
    for i in range(count):
        base, length = struct.unpack_from("<QQ", raw, 16 * i)
        vec[2 * i] = t.mem.host(base) if base else 0
        vec[2 * i + 1] = length
    return vec


def _vector_call(name, nr, kinds):
    @syscall(nr, name, kinds)
    def call(t, a):
        vec = _iovec(t, a[1], a[2])
        return host(name, nr, a[0], ctypes.addressof(vec), a[2], *a[3:5])
    return call


for _nr, _name, _kinds in [(65, "readv", "fpu"), (66, "writev", "fpu"),
                           (69, "preadv", "fpudd"), (70, "pwritev", "fpudd")]:
    _vector_call(_name, _nr, _kinds)


def _msghdr(t, addr):
    """A host copy of a guest struct msghdr (name, iov and control made host pointers)."""
    raw = t.mem.read(addr, 56) if t.mem.ok(addr, 56, PROT_READ) else None
    if raw is None:
        raise Fault
    name, namelen, iov, iovlen, control, controllen, flags = struct.unpack("<QI4xQQQQI4x", raw)
    vec = _iovec(t, iov, iovlen)
    hdr = (ctypes.c_uint64 * 7)(t.mem.host(name) if name else 0, namelen, ctypes.addressof(vec),
                                iovlen, t.mem.host(control) if control else 0, controllen, flags)
    return hdr, vec


@syscall(211, "sendmsg", "fpx")
def sys_sendmsg(t, a):
    hdr, _vec = _msghdr(t, a[1])
    return host("sendmsg", 211, a[0], ctypes.addressof(hdr), a[2])


@syscall(212, "recvmsg", "fpx")
def sys_recvmsg(t, a):
    hdr, _vec = _msghdr(t, a[1])
    r = host("recvmsg", 212, a[0], ctypes.addressof(hdr), a[2])
    if r >= 0:      # the kernel updates msg_namelen, msg_controllen and msg_flags
        t.mem.write(a[1] + 8, struct.pack("<I", hdr[1] & 0xFFFFFFFF))
        t.mem.write(a[1] + 40, struct.pack("<QI", hdr[5], hdr[6] & 0xFFFFFFFF))
    return r


def _stat_out(t, st, addr):
    if not t.mem.ok(addr, structs.STAT.size, PROT_WRITE):
        return -E.EFAULT
    t.mem.write(addr, structs.pack_stat(st))
    return 0


@syscall(79, "newfstatat", "fspx")
def sys_newfstatat(t, a):
    dirfd, flags = s32(a[0]), a[3]
    path = guest_path(t, a[1])
    try:
        if not path and flags & AT_EMPTY_PATH:
            st = os.stat("." if dirfd == AT_FDCWD else dirfd)
        else:
            st = os.stat(path, dir_fd=None if dirfd == AT_FDCWD else dirfd,
                         follow_symlinks=not flags & AT_SYMLINK_NOFOLLOW)
    except OSError as err:
        return -err.errno
    return _stat_out(t, st, a[2])


@syscall(80, "fstat", "fp")
def sys_fstat(t, a):
    try:
        st = os.fstat(s32(a[0]))
    except OSError as err:
        return -err.errno
    return _stat_out(t, st, a[1])


@syscall(78, "readlinkat", "fspu")
def sys_readlinkat(t, a):
    raw = t.mem.cstring(a[1])
    if raw is None:
        return -E.EFAULT
    if os.fsdecode(raw) in ("/proc/self/exe", f"/proc/{os.getpid()}/exe"):
        target = os.fsencode(os.path.abspath(t.proc.exe))[:a[3]]
        t.mem.write(a[2], target)
        return len(target)
    (path,), _keep = host_args(t, [a[1]], "s")
    return host("readlinkat", 78, a[0], path, t.host_ptr(a[2], a[3], PROT_WRITE), a[3])


@syscall(160, "uname", "p")
def sys_uname(t, a):
    data = structs.pack_utsname()
    if not t.mem.ok(a[0], len(data), PROT_WRITE):
        return -E.EFAULT
    t.mem.write(a[0], data)
    return 0


@syscall(29, "ioctl", "fxx")
def sys_ioctl(t, a):
    # Terminal and socket ioctls take a pointer or a number; a number never
    # names a mapped page (nothing maps below 64 KiB), so this tells them apart.
    arg = t.mem.host(a[2]) if t.mem.ok(a[2], 1, 0) else a[2]
    return host("ioctl", 29, a[0], a[1], arg)


F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = 5, 6, 7, 36, 37, 38


@syscall(25, "fcntl", "fdx")
def sys_fcntl(t, a):
    arg = a[2]
    if a[1] in (F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW):
        arg = t.host_ptr(arg, 32, PROT_WRITE)
    return host("fcntl", 25, a[0], a[1], arg)


PR_SET_NAME, PR_GET_NAME = 15, 16


@syscall(167, "prctl", "dxxxx")
def sys_prctl(t, a):
    if a[0] in (PR_SET_NAME, PR_GET_NAME):
        return host("prctl", 167, a[0], t.host_ptr(a[1], 16, PROT_READ))
    return host("prctl", 167, *a[:5])


@syscall(72, "pselect6", "dppppp")
def sys_pselect6(t, a):
    # the sixth argument points at {const sigset_t *ss; size_t ss_len}
    args, _keep = host_args(t, a[:5], "dpppp")
    sigdata = 0
    if a[5]:
        ss, ss_len = struct.unpack("<QQ", t.mem.read(a[5], 16))
        sigdata = ctypes.create_string_buffer(struct.pack("<QQ", t.mem.host(ss) if ss else 0,
                                                          ss_len))
    return host("pselect6", 72, *args, ctypes.addressof(sigdata) if a[5] else 0)


# ---- epoll: the event structure is packed on x86-64 ------------------------------------
@syscall(21, "epoll_ctl", "fdfp")
def sys_epoll_ctl(t, a):
    if hostcall.HOST_GENERIC:
        return host("epoll_ctl", 21, a[0], a[1], a[2], t.mem.host(a[3]) if a[3] else 0)
    ev = None
    if a[3]:
        events, data = structs.EPOLL_EVENT.unpack(t.mem.read(a[3], structs.EPOLL_EVENT.size))
        ev = ctypes.create_string_buffer(structs.HOST_EPOLL_EVENT.pack(events, data))
    return host("epoll_ctl", 21, a[0], a[1], a[2], ctypes.addressof(ev) if ev else 0)


@syscall(22, "epoll_pwait", "fpddpu")
def sys_epoll_pwait(t, a):
    n = s32(a[2])
    if n <= 0 or n > 4096:
        return -E.EINVAL
    if hostcall.HOST_GENERIC:
        return host("epoll_pwait", 22, a[0], t.mem.host(a[1]), *a[2:4],
                    t.mem.host(a[4]) if a[4] else 0, a[5])
    buf = ctypes.create_string_buffer(structs.HOST_EPOLL_EVENT.size * n)
    r = host("epoll_pwait", 22, a[0], ctypes.addressof(buf), a[2], a[3],
             t.mem.host(a[4]) if a[4] else 0, a[5])
    for i in range(max(r, 0)):
        ev = structs.HOST_EPOLL_EVENT.unpack_from(buf, i * structs.HOST_EPOLL_EVENT.size)
        t.mem.write(a[1] + i * structs.EPOLL_EVENT.size, structs.EPOLL_EVENT.pack(*ev))
    return r


# ---- futex: guest memory is host memory, so the host's futexes work across threads ------
FUTEX_CMD = 0x7F
_FUTEX_TIMEOUT = {0, 6, 9, 11, 13}      # WAIT, LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI2
_FUTEX_UADDR2 = {3, 4, 5, 11, 12}       # REQUEUE, CMP_REQUEUE, WAKE_OP, *_REQUEUE_PI


@syscall(98, "futex", "pxdppd")
def sys_futex(t, a):
    cmd = a[1] & FUTEX_CMD
    mem = t.mem
    uaddr = t.host_ptr(a[0], 4, PROT_READ)
    timeout = mem.host(a[3]) if cmd in _FUTEX_TIMEOUT and a[3] else a[3]
    uaddr2 = mem.host(a[4]) if cmd in _FUTEX_UADDR2 and a[4] else a[4]
    return host("futex", 98, uaddr, a[1], a[2], timeout, uaddr2, a[5])


# ---- memory ---------------------------------------------------------------------------
@syscall(214, "brk", "p")
def sys_brk(t, a):
    with t.proc.mm_lock:
        return t.mem.set_brk(a[0])


@syscall(222, "mmap", "puPMfd")
def sys_mmap(t, a):
    with t.proc.mm_lock:
        r = t.mem.map(a[0], a[1], a[2], a[3], s32(a[4]), a[5])
    return r


@syscall(215, "munmap", "pu")
def sys_munmap(t, a):
    with t.proc.mm_lock:
        return t.mem.unmap(a[0], a[1])


@syscall(226, "mprotect", "puP")
def sys_mprotect(t, a):
    with t.proc.mm_lock:
        return t.mem.protect(a[0], a[1], a[2])


MREMAP_MAYMOVE, MREMAP_FIXED = 1, 2


@syscall(216, "mremap", "puuxp")
def sys_mremap(t, a):
    old, old_size, new_size, flags = a[0], a[1], a[2], a[3]
    mem = t.mem
    old_size, new_size = page_up(old_size), page_up(new_size)
    if old & 4095 or not new_size or flags & MREMAP_FIXED:
        return -E.EINVAL
    with t.proc.mm_lock:
        if not mem.ok(old, old_size, 0):
            return -E.EFAULT
        prot = mem.prot[old >> 12] & 7
        if new_size <= old_size:
            if new_size < old_size:
                mem.unmap(old + new_size, old_size - new_size)
            return old
        if mem.is_free(old + old_size, new_size - old_size):
            mem.map(old + old_size, new_size - old_size, prot,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
            return old
        if not flags & MREMAP_MAYMOVE:
            return -E.ENOMEM
        new = mem.map(0, new_size, prot, MAP_PRIVATE | MAP_ANONYMOUS)
        if new < 0:
            return new
        mem.view[new:new + old_size] = mem.view[old:old + old_size]
        mem.unmap(old, old_size)
        return new


MADV_DONTNEED = 4


@syscall(233, "madvise", "pud")
def sys_madvise(t, a):
    # DONTNEED zeroes private anonymous pages: the host does it; other advice is a hint
    if a[2] == MADV_DONTNEED and t.mem.ok(a[0], a[1], 0):
        return host("madvise", 233, t.mem.host(a[0]), a[1], a[2])
    return 0


for _nr, _name in [(228, "mlock"), (229, "munlock"), (230, "mlockall"), (231, "munlockall")]:
    TABLE[_nr] = Entry(_name, "pu", lambda t, a: 0)


@syscall(259, "riscv_flush_icache", "ppx")
def sys_riscv_flush_icache(t, a):
    return 0        # stores to code pages already drop what was decoded from them


@syscall(92, "personality", "x")
def sys_personality(t, a):
    return 0


# ---- processes, threads and signals live in process.py ---------------------------------
def register_process_calls(calls):
    """Add the handlers that need the process model: {nr: (name, kinds, fn)}."""
    for nr, (name, kinds, fn) in calls.items():
        TABLE[nr] = Entry(name, kinds, fn)


def dispatch(t, nr, args):
    """Run syscall ``nr`` for guest thread ``t``: the result (or -errno), or None
    when the call set the registers itself."""
    entry = TABLE.get(nr)
    if entry is None:
        log = t.proc.log
        if log and log.enabled("unimp"):
            log.write(f"Unsupported syscall: {nr}")
        return -E.ENOSYS
    try:
        return entry.handler(t, args)
    except Fault:
        return -E.EFAULT
    except OSError as err:
        return -(err.errno or E.EINVAL)
