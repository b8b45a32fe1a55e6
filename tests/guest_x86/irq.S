# A COM1 receive interrupt through the IOAPIC (pin 4 -> vector 0x24) to an
# IDT handler: print "ready", sleep in hlt until a byte arrives, echo it.
        .set IDT, 0x5000
        .set FLAGS, 0x6000            # [0]: byte received, [1]: the byte
        .set VECTOR, 0x24
        .set LAPIC, 0xfee00000
        .set IOAPIC, 0xfec00000
        .text
        .globl main
main:
        mov $0xff, %al                # mask the 8259s: only the IOAPIC delivers
        out %al, $0x21
        out %al, $0xa1
        lea uart_isr(%rip), %rax      # 64-bit interrupt gate for VECTOR
        mov $(IDT + VECTOR * 16), %ebx
        mov %ax, (%rbx)
        movw $0x18, 2(%rbx)
        movw $0x8e00, 4(%rbx)
        shr $16, %rax
        mov %ax, 6(%rbx)
        shr $16, %rax
        mov %eax, 8(%rbx)
        lidt idtr(%rip)
        mov $LAPIC, %ebx
        movl $0x1ff, 0xf0(%rbx)       # spurious vector register: APIC on
        mov $IOAPIC, %ebx
        movl $0x18, (%rbx)            # redirection entry 4, low: vector, edge, unmasked
        movl $VECTOR, 0x10(%rbx)
        movl $0x19, (%rbx)            # high: destination APIC 0
        movl $0, 0x10(%rbx)
        mov $0x3fc, %dx               # MCR: DTR|RTS|OUT2 (OUT2 gates the IRQ on a PC)
        mov $0x0b, %al
        out %al, %dx
        mov $0x3f9, %dx               # IER: received data available
        mov $1, %al
        out %al, %dx
        lea ready(%rip), %rsi
        call puts_serial
1:      sti
        hlt
        cli
        cmpb $0, FLAGS
        je 1b
        lea got(%rip), %rsi
        call puts_serial
        mov FLAGS + 1, %al
        call putc_serial
        mov $'\n', %al
        call putc_serial
        mov $0x12, %edi
        jmp exit_qemu

uart_isr:
        push %rax
        push %rdx
        mov $0x3f8, %dx
        in %dx, %al
        mov %al, FLAGS + 1
        movb $1, FLAGS
        mov $LAPIC, %edx
        movl $0, 0xb0(%rdx)           # EOI
        pop %rdx
        pop %rax
        iretq

idtr:   .word 0xfff
        .quad IDT
ready:  .asciz "ready\n"
got:    .asciz "got "
