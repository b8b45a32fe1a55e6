# The exit benchmark's guest (bench/kvm_exits.py): from CPL3, where the
# loop itself runs natively, N port writes to COM1's scratch register,
# then N MMIO writes to virtio-mmio slot 0's QueueSel; a line before,
# between and after marks the phases on the serial console.
        .set N, 100000
        .set COM1_SCR, 0x3ff
        .set QUEUE_SEL, 0xfeb00030
        .text
        .globl main
main:
        lea user(%rip), %rax
        jmp enter_user

user:   mov $'P', %al
        call marker
        mov $N, %ecx
        mov $COM1_SCR, %dx
1:      out %al, %dx
        dec %ecx
        jnz 1b
        mov $'M', %al
        call marker
        mov $N, %ecx
        mov $QUEUE_SEL, %ebx
1:      movl $0, (%rbx)
        dec %ecx
        jnz 1b
        mov $'E', %al
        call marker
        xor %edi, %edi
        jmp exit_qemu

marker: call putc_serial
        mov $'\n', %al
        jmp putc_serial
