"""The KVM ABI of <linux/kvm.h> and <asm/kvm.h> (x86) as ctypes.

Structures are declared field for field so ``ctypes.sizeof`` gives the
sizes the ioctl numbers encode; the numbers are computed with the
kernel's ``_IOC`` formula rather than written out.  Only what pyvirt uses
is here.
"""

import ctypes

u8, u16, u32, u64, s32 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int32

KVM_API_VERSION = 12
KVMIO = 0xAE
_IOC_NONE, _IOC_WRITE, _IOC_READ = 0, 1, 2


def _ioc(direction, nr, struct=None):
    size = ctypes.sizeof(struct) if struct is not None else 0
    return (direction << 30) | (size << 16) | (KVMIO << 8) | nr


def _io(nr):
    return _ioc(_IOC_NONE, nr)


def _ior(nr, struct):
    return _ioc(_IOC_READ, nr, struct)


def _iow(nr, struct):
    return _ioc(_IOC_WRITE, nr, struct)


def _iowr(nr, struct):
    return _ioc(_IOC_READ | _IOC_WRITE, nr, struct)


class Struct(ctypes.Structure):
    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name, *_ in self._fields_)
        return f"{type(self).__name__}({fields})"


# -- memory, interrupts, doorbells ---------------------------------------------

class UserspaceMemoryRegion(Struct):
    _fields_ = [("slot", u32), ("flags", u32), ("guest_phys_addr", u64),
                ("memory_size", u64), ("userspace_addr", u64)]


KVM_MEM_LOG_DIRTY_PAGES = 1 << 0
KVM_MEM_READONLY = 1 << 1


class DirtyLog(Struct):
    _fields_ = [("slot", u32), ("padding1", u32), ("dirty_bitmap", u64)]


class IrqLevel(Struct):
    _fields_ = [("irq", u32), ("level", u32)]


class IrqFd(Struct):
    _fields_ = [("fd", u32), ("gsi", u32), ("flags", u32), ("resamplefd", u32),
                ("pad", u8 * 16)]


KVM_IRQFD_FLAG_DEASSIGN = 1 << 0


class IoEventFd(Struct):
    _fields_ = [("datamatch", u64), ("addr", u64), ("len", u32), ("fd", s32),
                ("flags", u32), ("pad", u8 * 36)]


KVM_IOEVENTFD_FLAG_DATAMATCH = 1 << 0
KVM_IOEVENTFD_FLAG_PIO = 1 << 1
KVM_IOEVENTFD_FLAG_DEASSIGN = 1 << 2


class PitConfig(Struct):
    _fields_ = [("flags", u32), ("pad", u32 * 15)]


KVM_PIT_SPEAKER_DUMMY = 1

# -- vCPU state (x86) --------------------------------------------------------------

REG_NAMES = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags")


class Regs(Struct):
    _fields_ = [(name, u64) for name in REG_NAMES]


class Segment(Struct):
    _fields_ = [("base", u64), ("limit", u32), ("selector", u16), ("type", u8),
                ("present", u8), ("dpl", u8), ("db", u8), ("s", u8), ("l", u8),
                ("g", u8), ("avl", u8), ("unusable", u8), ("padding", u8)]


class DTable(Struct):
    _fields_ = [("base", u64), ("limit", u16), ("padding", u16 * 3)]


SEGMENT_NAMES = ("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt")
KVM_NR_INTERRUPTS = 256


class Sregs(Struct):
    _fields_ = ([(name, Segment) for name in SEGMENT_NAMES]
                + [("gdt", DTable), ("idt", DTable)]
                + [(name, u64) for name in ("cr0", "cr2", "cr3", "cr4", "cr8", "efer",
                                            "apic_base")]
                + [("interrupt_bitmap", u64 * ((KVM_NR_INTERRUPTS + 63) // 64))])


class Fpu(Struct):
    _fields_ = [("fpr", (u8 * 16) * 8), ("fcw", u16), ("fsw", u16), ("ftwx", u8),
                ("pad1", u8), ("last_opcode", u16), ("last_ip", u64), ("last_dp", u64),
                ("xmm", (u8 * 16) * 16), ("mxcsr", u32), ("pad2", u32)]


class MsrEntry(Struct):
    _fields_ = [("index", u32), ("reserved", u32), ("data", u64)]


class Msrs(Struct):
    _fields_ = [("nmsrs", u32), ("pad", u32)]   # followed by nmsrs MsrEntry


class CpuidEntry2(Struct):
    _fields_ = [("function", u32), ("index", u32), ("flags", u32), ("eax", u32),
                ("ebx", u32), ("ecx", u32), ("edx", u32), ("padding", u32 * 3)]


KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1 << 0


class Cpuid2(Struct):
    _fields_ = [("nent", u32), ("padding", u32)]   # followed by nent CpuidEntry2


def with_entries(header, entry, n):
    """A ctypes type: ``header`` followed by ``n`` ``entry`` structures."""
    return type(f"{header.__name__}{n}", (Struct,),
                {"_fields_": list(header._fields_) + [("entries", entry * n)]})


# -- the shared kvm_run page -------------------------------------------------------

class RunIo(Struct):
    _fields_ = [("direction", u8), ("size", u8), ("port", u16), ("count", u32),
                ("data_offset", u64)]


KVM_EXIT_IO_IN, KVM_EXIT_IO_OUT = 0, 1


class RunMmio(Struct):
    _fields_ = [("phys_addr", u64), ("data", u8 * 8), ("len", u32), ("is_write", u8)]


class RunFailEntry(Struct):
    _fields_ = [("hardware_entry_failure_reason", u64), ("cpu", u32)]


class RunInternal(Struct):
    _fields_ = [("suberror", u32), ("ndata", u32), ("data", u64 * 16)]


class RunSystemEvent(Struct):
    _fields_ = [("type", u32), ("ndata", u32), ("data", u64 * 16)]


class RunExit(ctypes.Union):
    _fields_ = [("io", RunIo), ("mmio", RunMmio), ("fail_entry", RunFailEntry),
                ("internal", RunInternal), ("system_event", RunSystemEvent),
                ("padding", u8 * 256)]


class Run(Struct):
    _fields_ = [("request_interrupt_window", u8), ("immediate_exit", u8), ("padding1", u8 * 6),
                ("exit_reason", u32), ("ready_for_interrupt_injection", u8), ("if_flag", u8),
                ("flags", u16), ("cr8", u64), ("apic_base", u64), ("exit", RunExit)]


# exit reasons
KVM_EXIT_UNKNOWN = 0
KVM_EXIT_EXCEPTION = 1
KVM_EXIT_IO = 2
KVM_EXIT_HYPERCALL = 3
KVM_EXIT_DEBUG = 4
KVM_EXIT_HLT = 5
KVM_EXIT_MMIO = 6
KVM_EXIT_IRQ_WINDOW_OPEN = 7
KVM_EXIT_SHUTDOWN = 8
KVM_EXIT_FAIL_ENTRY = 9
KVM_EXIT_INTR = 10
KVM_EXIT_INTERNAL_ERROR = 17
KVM_EXIT_SYSTEM_EVENT = 24
EXIT_NAMES = {v: k[len("KVM_EXIT_"):] for k, v in globals().items()
              if k.startswith("KVM_EXIT_") and not k.startswith("KVM_EXIT_IO_")}

KVM_INTERNAL_ERROR_EMULATION = 1
INTERNAL_ERRORS = {1: "emulation failure", 2: "simultaneous exceptions",
                   3: "delivery event", 4: "unexpected exit reason"}
KVM_SYSTEM_EVENT_SHUTDOWN = 1
KVM_SYSTEM_EVENT_RESET = 2
KVM_SYSTEM_EVENT_CRASH = 3

# capabilities
KVM_CAP_IRQCHIP = 0
KVM_CAP_HLT = 1
KVM_CAP_USER_MEMORY = 3
KVM_CAP_SET_TSS_ADDR = 4
KVM_CAP_EXT_CPUID = 7
KVM_CAP_NR_VCPUS = 9
KVM_CAP_IRQFD = 32
KVM_CAP_PIT2 = 33
KVM_CAP_IOEVENTFD = 36
KVM_CAP_MAX_VCPUS = 66
KVM_CAP_READONLY_MEM = 81
KVM_CAP_IMMEDIATE_EXIT = 136

#: What a microvm cannot do without, and what each is for (for the error line).
REQUIRED_CAPS = {KVM_CAP_USER_MEMORY: "user memory slots", KVM_CAP_IRQCHIP: "in-kernel irqchip",
                 KVM_CAP_PIT2: "in-kernel PIT", KVM_CAP_EXT_CPUID: "KVM_SET_CPUID2",
                 KVM_CAP_IMMEDIATE_EXIT: "immediate_exit",
                 KVM_CAP_IOEVENTFD: "ioeventfd", KVM_CAP_IRQFD: "irqfd"}

# -- ioctl numbers -------------------------------------------------------------------

# on /dev/kvm
KVM_GET_API_VERSION = _io(0x00)
KVM_CREATE_VM = _io(0x01)
KVM_CHECK_EXTENSION = _io(0x03)
KVM_GET_VCPU_MMAP_SIZE = _io(0x04)
KVM_GET_SUPPORTED_CPUID = _iowr(0x05, Cpuid2)
# on a VM
KVM_CREATE_VCPU = _io(0x41)
KVM_GET_DIRTY_LOG = _iow(0x42, DirtyLog)
KVM_SET_USER_MEMORY_REGION = _iow(0x46, UserspaceMemoryRegion)
KVM_SET_TSS_ADDR = _io(0x47)
KVM_SET_IDENTITY_MAP_ADDR = _iow(0x48, u64)
KVM_CREATE_IRQCHIP = _io(0x60)
KVM_IRQ_LINE = _iow(0x61, IrqLevel)
KVM_IRQFD = _iow(0x76, IrqFd)
KVM_CREATE_PIT2 = _iow(0x77, PitConfig)
KVM_IOEVENTFD = _iow(0x79, IoEventFd)
# on a vCPU
KVM_RUN = _io(0x80)
KVM_GET_REGS = _ior(0x81, Regs)
KVM_SET_REGS = _iow(0x82, Regs)
KVM_GET_SREGS = _ior(0x83, Sregs)
KVM_SET_SREGS = _iow(0x84, Sregs)
KVM_GET_MSRS = _iowr(0x88, Msrs)
KVM_SET_MSRS = _iow(0x89, Msrs)
KVM_GET_FPU = _ior(0x8C, Fpu)
KVM_SET_FPU = _iow(0x8D, Fpu)
KVM_SET_CPUID2 = _iow(0x90, Cpuid2)
