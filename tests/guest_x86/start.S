# Common start-up for the x86 test guests: reset vector -> real mode ->
# protected mode -> long mode with identity paging, then `main` (the test's
# code) with %edi = this CPU's APIC ID.  Both the BSP (from the reset
# vector) and APs (SIPI vector 0xf0) enter at _start16 with CS base 0xf0000.
# Also: output helpers for debugcon (port 0x402) and COM1, and exit through
# isa-debug-exit at port 0xf4.

        .set ROM_BASE, 0xffff0000
        .set PML4, 0x1000
        .set PDPT, 0x2000
        .set PD_LOW, 0x3000
        .set PD_TOP, 0x4000          # covers 3-4 GiB
        .set STACK_TOP, 0x80000
        .set PTE_FLAGS, 0x87         # present, writable, user, 2 MiB page
        .set PTE_UC, 0x18            # PCD|PWT for the MMIO pages
        .set MSR_EFER, 0xc0000080
        .set EFER_LME_SCE, 0x101
        .set DEBUGCON, 0x402
        .set COM1, 0x3f8
        .set DEBUG_EXIT, 0xf4

        .section .reset, "ax"
        .code16
reset_vector:
        ljmp $0xf000, $(_start16 - ROM_BASE)

        .section .start, "ax"
        .globl _start16
_start16:
        cli
        lgdtl %cs:(gdtr - ROM_BASE)
        mov %cr0, %eax
        or $1, %eax
        mov %eax, %cr0
        ljmpl $0x08, $start32

        .code32
start32:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $1, %eax
        cpuid
        shr $24, %ebx
        mov %ebx, %edi               # APIC ID, kept for main
        test %edi, %edi
        jnz 2f                       # APs find the page tables built
        movl $(PDPT + 7), PML4
        movl $(PD_LOW + 7), PDPT
        movl $(PD_TOP + 7), PDPT + 24
        mov $PD_LOW, %ebx            # 0-16 MiB: RAM
        mov $PTE_FLAGS, %eax
        mov $8, %ecx
1:      mov %eax, (%ebx)
        add $0x200000, %eax
        add $8, %ebx
        loop 1b
        mov $(PD_TOP + 496 * 8), %ebx   # 0xfe000000-4 GiB: MMIO and this ROM
        mov $(0xfe000000 + PTE_FLAGS + PTE_UC), %eax
        mov $16, %ecx
1:      mov %eax, (%ebx)
        add $0x200000, %eax
        add $8, %ebx
        loop 1b
2:      mov %cr4, %eax
        or $0x20, %eax               # PAE
        mov %eax, %cr4
        mov $PML4, %eax
        mov %eax, %cr3
        mov $MSR_EFER, %ecx
        rdmsr
        or $EFER_LME_SCE, %eax
        wrmsr
        mov %cr0, %eax
        or $0x80000000, %eax
        mov %eax, %cr0
        ljmp $0x18, $start64

        .code64
start64:
        mov %edi, %eax
        shl $12, %eax
        mov $STACK_TOP, %esp
        sub %rax, %rsp               # 4 KiB of stack per CPU
        call main
        .globl halt
halt:   cli
        hlt
        jmp halt

# putc_debugcon(%al), puts_debugcon(%rsi: NUL-terminated)
        .globl putc_debugcon, puts_debugcon, putc_serial, puts_serial, puthex_serial, exit_qemu
putc_debugcon:
        mov $DEBUGCON, %dx
        out %al, %dx
        ret
puts_debugcon:
        lodsb
        test %al, %al
        jz 1f
        call putc_debugcon
        jmp puts_debugcon
1:      ret

# putc_serial(%al): wait for THR empty, then send
putc_serial:
        mov %al, %ah
        mov $(COM1 + 5), %dx
1:      in %dx, %al
        test $0x20, %al
        jz 1b
        mov $COM1, %dx
        mov %ah, %al
        out %al, %dx
        ret
puts_serial:
        lodsb
        test %al, %al
        jz 1f
        call putc_serial
        jmp puts_serial
1:      ret
# puthex_serial(%edi): 8 hex digits
puthex_serial:
        mov $8, %ecx
1:      rol $4, %edi
        mov %edi, %eax
        and $0xf, %eax
        lea hexdigits(%rip), %rdx
        mov (%rdx,%rax), %al
        push %rcx
        call putc_serial
        pop %rcx
        loop 1b
        ret
# enter_user(%rax): continue at %rax in 64-bit CPL3 with IOPL 3 (ports allowed)
        .globl enter_user
enter_user:
        push $0x23                    # SS: user data
        push $0x70000                 # RSP
        push $0x3002                  # RFLAGS: IOPL 3
        push $0x2b                    # CS: user code64
        push %rax
        iretq
# exit_qemu(%edi): status (edi << 1) | 1
exit_qemu:
        mov %edi, %eax
        out %eax, $DEBUG_EXIT
1:      pause                         # (at CPL3 hlt would fault)
        jmp 1b

hexdigits:
        .ascii "0123456789abcdef"
        .p2align 3
gdt:    .quad 0
        .quad 0x00cf9b000000ffff     # 0x08 code32
        .quad 0x00cf93000000ffff     # 0x10 data
        .quad 0x00af9b000000ffff     # 0x18 code64
        .quad 0x00cff3000000ffff     # 0x20 user data
        .quad 0x00affb000000ffff     # 0x28 user code64
gdt_end:
gdtr:   .word gdt_end - gdt - 1
        .long gdt
