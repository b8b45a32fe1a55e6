"""/dev/kvm: the ioctl wrapper, capability checks, supported CPUID.

ioctls go through ctypes' libc rather than ``fcntl.ioctl``: the argument
is a ctypes structure passed by reference, with no packing into bytes
and back, which halves the cost of the per-exit path.  The GIL is
released for the duration of each call, so vCPU threads sitting in
``KVM_RUN`` do not hold up the rest of the process.
"""

import ctypes
import errno
import os

from ..errors import PyvirtError
from . import abi

_libc = ctypes.CDLL(None, use_errno=True)
_ioctl = _libc.ioctl
_ioctl.restype = ctypes.c_int
_ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)

KVM_DEVICE = "/dev/kvm"


class KvmError(PyvirtError):
    """An ioctl failed: which one, on what, and the kernel's reason."""


def ioctl(fd, request, arg=0, what="ioctl"):
    """``ioctl(fd, request, arg)``; ``arg`` an int or a ctypes object (by reference)."""
    if not isinstance(arg, int):
        arg = ctypes.addressof(arg)
    ret = _ioctl(fd, request, arg)
    if ret < 0:
        err = ctypes.get_errno()
        raise KvmError(f"{what}: {os.strerror(err)}")
    return ret


class Kvm:
    """The system file descriptor: capability checks and supported CPUID."""

    def __init__(self, device=KVM_DEVICE):
        why = "-accel kvm: KVM is not available on this host"
        try:
            self.fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
        except OSError as err:
            raise PyvirtError(f"{why}: cannot open {device}: {err.strerror}") from None
        try:
            version = ioctl(self.fd, abi.KVM_GET_API_VERSION, 0, "KVM_GET_API_VERSION")
        except KvmError as err:
            os.close(self.fd)
            raise PyvirtError(f"{why}: {device} is not a KVM device ({err})") from None
        if version != abi.KVM_API_VERSION:
            os.close(self.fd)
            raise PyvirtError(f"{why}: {device} speaks KVM API {version}, "
                              f"pyvirt needs {abi.KVM_API_VERSION}")
        missing = [name for cap, name in abi.REQUIRED_CAPS.items() if not self.check(cap)]
        if missing:
            os.close(self.fd)
            raise PyvirtError(f"{why}: the kernel lacks {', '.join(missing)}")
        self.vcpu_mmap_size = ioctl(self.fd, abi.KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE")

    def check(self, cap: int) -> int:
        return _ioctl(self.fd, abi.KVM_CHECK_EXTENSION, cap)

    @property
    def max_vcpus(self) -> int:
        return self.check(abi.KVM_CAP_MAX_VCPUS) or self.check(abi.KVM_CAP_NR_VCPUS) or 4

    def supported_cpuid(self):
        """The CpuidEntry2 list the kernel can virtualize (grows the buffer until it fits)."""
        n = 64
        while True:
            buf = abi.with_entries(abi.Cpuid2, abi.CpuidEntry2, n)()
            buf.nent = n
            ret = _ioctl(self.fd, abi.KVM_GET_SUPPORTED_CPUID, ctypes.addressof(buf))
            if ret >= 0:
                return list(buf.entries[:buf.nent])
            if ctypes.get_errno() != errno.E2BIG:
                raise KvmError(f"KVM_GET_SUPPORTED_CPUID: {os.strerror(ctypes.get_errno())}")
            n *= 2

    def close(self):
        os.close(self.fd)
