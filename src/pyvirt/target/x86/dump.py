"""A vCPU's registers as one readable block (the layout of QEMU's ``info registers``)."""

from ...kvm.abi import SEGMENT_NAMES


def format_registers(regs, sregs):
    r = regs
    lines = [
        f"RAX={r.rax:016x} RBX={r.rbx:016x} RCX={r.rcx:016x} RDX={r.rdx:016x}",
        f"RSI={r.rsi:016x} RDI={r.rdi:016x} RBP={r.rbp:016x} RSP={r.rsp:016x}",
        f"R8 ={r.r8:016x} R9 ={r.r9:016x} R10={r.r10:016x} R11={r.r11:016x}",
        f"R12={r.r12:016x} R13={r.r13:016x} R14={r.r14:016x} R15={r.r15:016x}",
        f"RIP={r.rip:016x} RFL={r.rflags:08x}",
    ]
    for name in SEGMENT_NAMES:
        s = getattr(sregs, name)
        lines.append(f"{name.upper():<3}={s.selector:04x} {s.base:016x} {s.limit:08x} "
                     f"type={s.type:x} dpl={s.dpl} l={s.l} db={s.db} p={s.present}")
    lines.append(f"GDT=     {sregs.gdt.base:016x} {sregs.gdt.limit:08x}")
    lines.append(f"IDT=     {sregs.idt.base:016x} {sregs.idt.limit:08x}")
    lines.append(f"CR0={sregs.cr0:08x} CR2={sregs.cr2:016x} CR3={sregs.cr3:016x} "
                 f"CR4={sregs.cr4:08x} EFER={sregs.efer:016x}")
    return "\n".join(lines)
