# The start-up benchmark's guest: its very first instructions, at the
# reset vector, send '!' to COM1 and exit through isa-debug-exit.
        .code16
        .org 0xfff0
        mov $0x3f8, %dx
        mov $'!', %al
        out %al, %dx
        xor %al, %al
        out %al, $0xf4
1:      jmp 1b
        .org 0x10000
