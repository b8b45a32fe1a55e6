/*
 * Reset entry for the bare-metal integer benchmark (-bios none: the virt
 * board's reset vector jumps to the start of DRAM, where link.ld puts
 * .text.init).  Hart 0 runs the benchmark; any other hart parks.  .bss is
 * not cleared here: the ELF loaders of both emulators zero the part of a
 * segment beyond its file contents, and intbench.c sets every global it
 * reads before reading it anyway.
 */
    .section .text.init, "ax"
    .globl _start
_start:
    csrr t0, mhartid
1:  bnez t0, 1b
    la sp, stack_top
    call main
2:  j 2b

    .section .bss.stack, "aw", @nobits
    .balign 16
    .space 16384
stack_top:
