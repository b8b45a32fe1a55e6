# Rings virtio-mmio slot 0's QueueNotify for queue 0 a thousand times (a
# doorbell KVM turns into an eventfd signal, no exit), then exits.
        .set QUEUE_NOTIFY, 0xfeb00050
        .set RINGS, 1000
        .text
        .globl main
main:
        mov $QUEUE_NOTIFY, %ebx
        mov $RINGS, %ecx
1:      movl $0, (%rbx)
        dec %ecx
        jnz 1b
        mov $0x50, %edi
        jmp exit_qemu
