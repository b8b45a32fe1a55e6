# Output on debugcon and COM1, and MMIO to the first virtio-mmio slot.
        .set VIRTIO0, 0xfeb00000
        .text
        .globl main
main:
        lea msg_debugcon(%rip), %rsi
        call puts_debugcon
        lea msg_serial(%rip), %rsi
        call puts_serial
        mov $VIRTIO0, %ebx
        movl $0xf, 0x70(%rbx)         # Status: ACKNOWLEDGE|DRIVER|DRIVER_OK|FEATURES_OK
        xor %r12d, %r12d
        lea regs(%rip), %r13
1:      mov (%r13,%r12,4), %eax       # read each register in `regs`, print it
        mov (%rbx,%rax), %edi
        call puthex_serial
        mov $' ', %al
        call putc_serial
        inc %r12d
        cmp $4, %r12d
        jne 1b
        mov $'\n', %al
        call putc_serial
        mov $0x10, %edi
        jmp exit_qemu

# magic, device ID, vendor, status (not the version: QEMU's transport is
# the legacy one by default, pyvirt's the virtio 1.x one)
regs:   .long 0x000, 0x008, 0x00c, 0x070
msg_debugcon: .asciz "hello debugcon\n"
msg_serial:   .asciz "hello serial\n"
