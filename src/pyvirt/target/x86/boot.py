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
