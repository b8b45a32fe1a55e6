# Jump into MMIO (virtio-mmio slot 0): KVM cannot fetch instructions from
# a device, so the run ends with an internal error (emulation failure).
        .text
        .globl main
main:
        mov $0xfeb00000, %eax
        jmp *%rax
