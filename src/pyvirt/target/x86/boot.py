"""x86 boot state for KVM vCPUs: MSRs at reset, the e820 map.

A vCPU KVM creates is already in the architectural reset state (real
mode, CS base 0xFFFF0000, RIP 0xFFF0), which is what firmware wants.
"""

import struct

MSR_IA32_MISC_ENABLE = 0x1A0
MISC_ENABLE_FAST_STRING = 1 << 0

E820_RAM, E820_RESERVED = 1, 2
#: Conventional memory ends where the EBDA starts, as on a PC.
EBDA_START = 0x9FC00
HIGH_MEMORY = 0x100000


def reset_msrs():
    """MSRs QEMU sets at reset that KVM leaves at 0."""
    return {MSR_IA32_MISC_ENABLE: MISC_ENABLE_FAST_STRING}


def e820_map(low_size, high_size, high_base):
    """(addr, size, type) entries for RAM laid out as the microvm machine does."""
    entries = [(0, EBDA_START, E820_RAM),
               (EBDA_START, HIGH_MEMORY - EBDA_START, E820_RESERVED)]
    if low_size > HIGH_MEMORY:
        entries.append((HIGH_MEMORY, low_size - HIGH_MEMORY, E820_RAM))
    if high_size:
        entries.append((high_base, high_size, E820_RAM))
    return entries


def pack_e820(entries):
    """The 20-byte ``struct boot_e820_entry`` records, as boot_params and fw_cfg carry them."""
    return b"".join(struct.pack("<QQI", *e) for e in entries)


# -- direct kernel boot through the PVH entry -------------------------------------

START_INFO_ADDR = 0x6000
CMDLINE_ADDR = 0x20000
CMDLINE_MAX = 0x10000
CODE32_SEL, DATA32_SEL, TSS_SEL = 0x08, 0x10, 0x18
SEG_CODE_EXEC_READ_ACCESSED = 0xB
SEG_DATA_RW_ACCESSED = 0x3
SEG_TSS32_BUSY = 0xB
CR0_PE, CR0_ET = 1 << 0, 1 << 4


def _flat(seg, selector, type_):
    seg.base, seg.limit, seg.selector, seg.type = 0, 0xFFFFFFFF, selector, type_
    seg.present, seg.dpl, seg.db, seg.s, seg.l, seg.g, seg.avl, seg.unusable = 1, 0, 1, 1, 0, 1, 0, 0


def pvh_state(vcpu, entry, start_info):
    """The PVH boot ABI: 32-bit flat protected mode, paging off, %ebx = start_info."""
    sregs = vcpu.get_sregs()
    _flat(sregs.cs, CODE32_SEL, SEG_CODE_EXEC_READ_ACCESSED)
    for name in ("ds", "es", "fs", "gs", "ss"):
        _flat(getattr(sregs, name), DATA32_SEL, SEG_DATA_RW_ACCESSED)
    tr = sregs.tr
    tr.base, tr.limit, tr.selector, tr.type, tr.present, tr.s, tr.g = 0, 0x67, TSS_SEL, \
        SEG_TSS32_BUSY, 1, 0, 0
    sregs.cr0 = CR0_PE | CR0_ET
    sregs.cr4 = sregs.efer = 0
    vcpu.set_sregs(sregs)
    regs = vcpu.get_regs()
    regs.rip, regs.rbx, regs.rflags = entry, start_info, 2
    vcpu.set_regs(regs)
