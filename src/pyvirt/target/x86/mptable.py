"""The Intel MultiProcessor table (MP spec 1.4) that tells a directly booted
kernel how many CPUs there are and where the IOAPIC is.

Firmware writes it on a PC; with ``-kernel`` and no firmware the VMM must
(as Firecracker does).  One processor entry per vCPU (APIC ID = index,
vCPU 0 the bootstrap processor), one ISA bus, the IOAPIC, ISA IRQs 0-15
wired to IOAPIC pins 0-15 (KVM's default GSI routing), ExtINT on LINT0
and NMI on LINT1.  It goes in the last KiB of conventional memory, the
second place Linux's ``find_smp_config`` looks.
"""

import struct

MP_TABLE_ADDR = 0x9FC00
LAPIC_BASE, IOAPIC_BASE = 0xFEE00000, 0xFEC00000
SPEC_REV = 4
LAPIC_VERSION, IOAPIC_VERSION = 0x14, 0x11
CPU_ENABLED, CPU_BSP = 1 << 0, 1 << 1
IOAPIC_ENABLED = 1
ENTRY_PROCESSOR, ENTRY_BUS, ENTRY_IOAPIC, ENTRY_IOINT, ENTRY_LINT = range(5)
INT_VECTORED, INT_NMI, INT_EXTINT = 0, 1, 3
ISA_IRQS = 16
LINT0, LINT1 = 0, 1
ALL_LAPICS = 0xFF
#: CPUID family 6 signature with FPU and APIC features, as Firecracker writes.
CPU_SIGNATURE, CPU_FEATURES = 0x600, 0x201

FLOATING = struct.Struct("<4sIBBBB4s")
HEADER = struct.Struct("<4sHBB8s12sIHHIHBB")
PROCESSOR = struct.Struct("<BBBBII8s")
BUS = struct.Struct("<BB6s")
IOAPIC = struct.Struct("<BBBBI")
INTERRUPT = struct.Struct("<BBHBBBB")


def _checksum(data):
    return (-sum(data)) & 0xFF


def mp_table(ncpus, addr=MP_TABLE_ADDR):
    """The floating pointer at ``addr`` followed by the configuration table."""
    ioapic_id = ncpus
    entries = [PROCESSOR.pack(ENTRY_PROCESSOR, cpu, LAPIC_VERSION,
                              CPU_ENABLED | (CPU_BSP if cpu == 0 else 0),
                              CPU_SIGNATURE, CPU_FEATURES, bytes(8)) for cpu in range(ncpus)]
    entries.append(BUS.pack(ENTRY_BUS, 0, b"ISA   "))
    entries.append(IOAPIC.pack(ENTRY_IOAPIC, ioapic_id, IOAPIC_VERSION, IOAPIC_ENABLED, IOAPIC_BASE))
    entries += [INTERRUPT.pack(ENTRY_IOINT, INT_VECTORED, 0, 0, irq, ioapic_id, irq)
                for irq in range(ISA_IRQS)]
    entries.append(INTERRUPT.pack(ENTRY_LINT, INT_EXTINT, 0, 0, 0, ALL_LAPICS, LINT0))
    entries.append(INTERRUPT.pack(ENTRY_LINT, INT_NMI, 0, 0, 0, ALL_LAPICS, LINT1))
    body = b"".join(entries)

    def header(checksum):
        return HEADER.pack(b"PCMP", HEADER.size + len(body), SPEC_REV, checksum, b"PYVIRT  ",
                           b"MICROVM     ", 0, 0, len(entries), LAPIC_BASE, 0, 0, 0)
    table = header(_checksum(header(0) + body)) + body

    def floating(checksum):
        return FLOATING.pack(b"_MP_", addr + FLOATING.size, 1, SPEC_REV, checksum, 0, bytes(4))
    return floating(_checksum(floating(0))) + table
