# Two CPUs: the BSP reports its APIC ID, wakes the AP with INIT and SIPI
# (vector 0xf0: the AP starts at 0xf0000, this ROM's start), the AP
# reports its APIC ID and raises a flag, the BSP exits.
        .set LAPIC, 0xfee00000
        .set AP_DONE, 0x6000
        .text
        .globl main
main:
        mov %edi, %r12d
        lea cpu(%rip), %rsi
        call puts_serial
        mov %r12d, %edi
        call puthex_serial
        mov $'\n', %al
        call putc_serial
        test %r12d, %r12d
        jnz ap
        mov $LAPIC, %ebx
        movl $0x1ff, 0xf0(%rbx)
        movl $0, 0x310(%rbx)
        movl $0xc4500, 0x300(%rbx)    # INIT to all but self
        movl $0xc46f0, 0x300(%rbx)    # SIPI, vector 0xf0
1:      pause
        cmpl $1, AP_DONE
        jne 1b
        mov $0x20, %edi
        jmp exit_qemu
ap:     movl $1, AP_DONE
        ret

cpu:    .asciz "cpu "
