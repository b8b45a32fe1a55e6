# A compute loop at CPL3: sums 1..N in a register, prints the sum and
# exits, all in user mode (IOPL 3 allows the port I/O).  KVM runs
# user-mode code natively, even where it emulates CPL0 code.
        .set N, 300000000
        .text
        .globl main
main:
        lea user(%rip), %rax
        jmp enter_user

user:   mov $N, %rcx
        xor %ebx, %ebx
1:      add %rcx, %rbx
        dec %rcx
        jnz 1b
        lea sum(%rip), %rsi
        call puts_serial
        mov %rbx, %rdi
        shr $32, %rdi
        call puthex_serial
        mov %ebx, %edi
        call puthex_serial
        mov $'\n', %al
        call putc_serial
        mov $0x30, %edi
        jmp exit_qemu

sum:    .asciz "sum "
