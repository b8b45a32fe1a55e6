# Count boots in CMOS RAM byte 0x40 (battery-backed: kept across resets):
# boot 1 resets through the i8042, boot 2 triple-faults (at CPL3, where
# the CPU itself and not an emulator delivers the faults), boot 3 exits.
        .set COUNTER, 0x40
        .text
        .globl main
main:
        mov $COUNTER, %al
        out %al, $0x70
        in $0x71, %al
        inc %al
        mov %al, %bl
        mov $COUNTER, %al
        out %al, $0x70
        mov %bl, %al
        out %al, $0x71
        lea boot(%rip), %rsi
        call puts_serial
        mov %bl, %al
        add $'0', %al
        call putc_serial
        mov $'\n', %al
        call putc_serial
        cmp $1, %bl
        je kbd_reset
        cmp $2, %bl
        je triple_fault
        mov $0x40, %edi
        jmp exit_qemu
kbd_reset:
        mov $0xfe, %al
        out %al, $0x64
        jmp halt
triple_fault:
        lidt no_idt(%rip)
        lea 1f(%rip), %rax
        jmp enter_user
1:      ud2

no_idt: .word 0
        .quad 0
boot:   .asciz "boot "
