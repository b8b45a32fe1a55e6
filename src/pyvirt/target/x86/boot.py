"""x86 boot state for KVM vCPUs: MSRs at reset, the e820 map, and the CPU
state each direct kernel entry expects.

A vCPU KVM creates is already in the architectural reset state (real
mode, CS base 0xFFFF0000, RIP 0xFFF0), which is what firmware wants.
Direct kernel boot starts it in 32-bit protected mode (PVH) or in long
mode with an identity map of the low 4 GiB and the boot protocol's GDT
(bzImage), built here in guest RAM below 1 MiB.
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


# -- direct kernel boot -----------------------------------------------------------

START_INFO_ADDR = 0x6000
BOOT_PARAMS_ADDR = 0x7000
GDT_ADDR = 0x8000
PML4_ADDR = 0x9000              # then the PDPT and four page directories
CMDLINE_ADDR = 0x20000
CMDLINE_MAX = 0x10000
CODE32_SEL, DATA32_SEL, TSS_SEL = 0x08, 0x10, 0x18
SEG_CODE_EXEC_READ_ACCESSED = 0xB
SEG_DATA_RW_ACCESSED = 0x3
SEG_TSS32_BUSY = 0xB
CR0_PE, CR0_ET, CR0_PG = 1 << 0, 1 << 4, 1 << 31
CR4_PAE = 1 << 5
EFER_LME, EFER_LMA = 1 << 8, 1 << 10
#: The boot protocol's __BOOT_CS and __BOOT_DS, and their descriptors.
BOOT_CS, BOOT_DS = 0x10, 0x18
BOOT_GDT = (0, 0, 0x00AF9B000000FFFF, 0x00CF93000000FFFF)
PTE_PRESENT_WRITABLE, PTE_LARGE = 0x3, 0x80
IDENTITY_MAPPED_GIB = 4


def _flat(seg, selector, type_):
    seg.base, seg.limit, seg.selector, seg.type = 0, 0xFFFFFFFF, selector, type_
    seg.present, seg.dpl, seg.db, seg.s, seg.l, seg.g, seg.avl, seg.unusable = 1, 0, 1, 1, 0, 1, 0, 0


def long_mode_tables(memory):
    """GDT and identity-mapping page tables (2 MiB pages) for a 64-bit kernel entry."""
    memory.write_bytes(GDT_ADDR, struct.pack(f"<{len(BOOT_GDT)}Q", *BOOT_GDT))
    pdpt = PML4_ADDR + 0x1000
    memory.write_bytes(PML4_ADDR, struct.pack("<Q", pdpt | PTE_PRESENT_WRITABLE))
    dirs = [pdpt + 0x1000 * (i + 1) for i in range(IDENTITY_MAPPED_GIB)]
    memory.write_bytes(pdpt, struct.pack(f"<{len(dirs)}Q", *(d | PTE_PRESENT_WRITABLE for d in dirs)))
    for gib, table in enumerate(dirs):
        base = gib << 30
        memory.write_bytes(table, struct.pack("<512Q", *(
            base + (i << 21) | PTE_PRESENT_WRITABLE | PTE_LARGE for i in range(512))))


def long_mode_state(vcpu, entry, boot_params):
    """The 64-bit boot protocol: long mode, paging on, %rsi = boot_params."""
    sregs = vcpu.get_sregs()
    _flat(sregs.cs, BOOT_CS, SEG_CODE_EXEC_READ_ACCESSED)
    sregs.cs.l, sregs.cs.db = 1, 0
    for name in ("ds", "es", "fs", "gs", "ss"):
        _flat(getattr(sregs, name), BOOT_DS, SEG_DATA_RW_ACCESSED)
    sregs.gdt.base, sregs.gdt.limit = GDT_ADDR, len(BOOT_GDT) * 8 - 1
    sregs.cr0 = CR0_PE | CR0_ET | CR0_PG
    sregs.cr3 = PML4_ADDR
    sregs.cr4 = CR4_PAE
    sregs.efer = EFER_LME | EFER_LMA
    vcpu.set_sregs(sregs)
    regs = vcpu.get_regs()
    regs.rip, regs.rsi, regs.rflags = entry, boot_params, 2
    vcpu.set_regs(regs)


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
