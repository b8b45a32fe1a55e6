/*
 * Runtime shared by every test program: reset entry, M- and S-mode trap
 * handlers, the failure report on the UART, the final verdict written to
 * sifive_test, and the register dump used by the differential tests.
 * See harness.h for the register conventions.
 */
#include "harness.h"

#define UART_THR  0
#define UART_LSR  5
#define UART_LSR_THRE 0x20
#define TEST_PASS 0x5555
#define TEST_FAIL 0x3333

    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    /* Only hart 0 runs the tests; -smp N parks the others. */
    csrr t0, mhartid
1:  bnez t0, 1b

    la sp, stack_top
    la t0, m_trap
    csrw mtvec, t0
    la t0, s_trap
    csrw stvec, t0
    csrw medeleg, zero
    csrw mideleg, zero
    csrw mie, zero
    csrw satp, zero
    /* Give S- and U-mode access to everything, as firmware would. */
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f                  /* NAPOT, R, W, X */
    csrw pmpcfg0, t0
    /* FPU on, clean state. */
    li t0, MSTATUS_FS
    csrs mstatus, t0
    csrwi fcsr, 0
    li tp, 0
    li gp, 0
    j test_main

/* ------------------------------------------------------------------------
 * Trap handlers.  Record the trap in s8..s11, then resume at tp (in M-mode
 * with interrupts off) or report an unexpected trap.
 */
    .text
    .align 2
m_trap:
    csrw mscratch, t0
    li s8, PRV_M
    csrr s9, mcause
    csrr s10, mtval
    csrr s11, mepc
    beqz tp, unexpected_trap
    csrw mepc, tp
    li tp, 0
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    li t0, MSTATUS_MPIE | MSTATUS_MPRV
    csrc mstatus, t0
    csrr t0, mscratch
    mret

/* Delegated traps resume in S-mode at tp, with SIE = 0. */
    .align 2
s_trap:
    csrw sscratch, t0
    li s8, PRV_S
    csrr s9, scause
    csrr s10, stval
    csrr s11, sepc
    beqz tp, s_unexpected
    csrw sepc, tp
    li tp, 0
    li t0, MSTATUS_SPP
    csrs sstatus, t0
    li t0, MSTATUS_SPIE
    csrc sstatus, t0
    csrr t0, sscratch
    sret

/* Hand the S-mode record to M-mode for reporting. */
s_unexpected:
    mv a0, s9
    mv a1, s11
    mv a2, s10
    la tp, s_unexpected_report
    ecall
s_unexpected_report:
    la sp, stack_top
    la a0, msg_unexpected_s
    mv s9, a0
    mv s11, a1
    mv s10, a2
    j report_trap

unexpected_trap:
    la sp, stack_top
    la a0, msg_unexpected_m
report_trap:
    /* Message header, then cause/epc/tval from s9/s11/s10. */
    mv s1, a0
    la a0, msg_fail_line
    call uart_puts
    mv a0, gp
    call uart_putdec
    mv a0, s1
    call uart_puts
    mv a0, s9
    call uart_puthex
    la a0, msg_epc
    call uart_puts
    mv a0, s11
    call uart_puthex
    la a0, msg_tval
    call uart_puts
    mv a0, s10
    call uart_puthex
    li a0, '\n'
    call uart_putc
    mv a0, gp
    j exit_fail

/* ------------------------------------------------------------------------
 * check_failed: called with `jal t4` from a check; gp = line, t5 = got,
 * t6 = expected.  Prints one line, remembers the first failure and returns
 * with every register but t4 preserved, so the remaining checks still run.
 * The return address waits in mscratch, which only traps use.
 */
    .globl check_failed
check_failed:
    csrw mscratch, t4
    la t4, saved_regs
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,30,31
    sd x\n, (\n * 8)(t4)
    .endr
    la sp, stack_top

    la t0, first_fail
    ld t1, 0(t0)
    bnez t1, 1f
    sd gp, 0(t0)
1:
    la a0, msg_fail_line
    call uart_puts
    mv a0, gp
    call uart_putdec
    la a0, msg_got
    call uart_puts
    mv a0, t5
    call uart_puthex
    la a0, msg_expected
    call uart_puts
    mv a0, t6
    call uart_puthex
    li a0, '\n'
    call uart_putc

    la t4, saved_regs
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,30,31
    ld x\n, (\n * 8)(t4)
    .endr
    csrr t4, mscratch
    jr t4

/* ------------------------------------------------------------------------
 * Verdict.
 */
    .globl test_done
test_done:
    la t0, first_fail
    ld a0, 0(t0)
    bnez a0, exit_fail
    la a0, msg_pass
    call uart_puts
    li t0, TEST_DEVICE
    li t1, TEST_PASS
    sw t1, 0(t0)
1:  j 1b

/* a0 = failure code (the line of the first failure); a code whose low byte
 * is zero would read as a success exit status, so it becomes 0xffff. */
exit_fail:
    andi t1, a0, 0xff
    bnez t1, 1f
    li a0, 0xffff
1:  slli a0, a0, 16
    li t1, TEST_FAIL
    or a0, a0, t1
    li t0, TEST_DEVICE
    sw a0, 0(t0)
1:  j 1b

/* ------------------------------------------------------------------------
 * UART output.  Clobber t0..t3, a0..a2.
 */
    .globl uart_putc
uart_putc:
    li t0, UART_BASE
1:  lbu t1, UART_LSR(t0)
    andi t1, t1, UART_LSR_THRE
    beqz t1, 1b
    sb a0, UART_THR(t0)
    ret

    .globl uart_puts
uart_puts:
    addi sp, sp, -16
    sd ra, 0(sp)
    sd s0, 8(sp)
    mv s0, a0
1:  lbu a0, 0(s0)
    beqz a0, 2f
    call uart_putc
    addi s0, s0, 1
    j 1b
2:  ld ra, 0(sp)
    ld s0, 8(sp)
    addi sp, sp, 16
    ret

/* 16 hex digits, no prefix. */
    .globl uart_puthex
uart_puthex:
    addi sp, sp, -32
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    mv s0, a0
    li s1, 60
1:  srl a0, s0, s1
    andi a0, a0, 0xf
    li t2, 10
    blt a0, t2, 2f
    addi a0, a0, 'a' - '0' - 10
2:  addi a0, a0, '0'
    call uart_putc
    addi s1, s1, -4
    bgez s1, 1b
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    addi sp, sp, 32
    ret

uart_putdec:
    addi sp, sp, -48
    sd ra, 0(sp)
    sd s0, 8(sp)
    addi s0, sp, 47
    sb zero, 0(s0)
    li t2, 10
1:  remu t3, a0, t2
    divu a0, a0, t2
    addi t3, t3, '0'
    addi s0, s0, -1
    sb t3, 0(s0)
    bnez a0, 1b
    mv a0, s0
    call uart_puts
    ld ra, 0(sp)
    ld s0, 8(sp)
    addi sp, sp, 48
    ret

/* ------------------------------------------------------------------------
 * dump_state: print x1..x31, f0..f31 and fcsr as "name hex" lines, then
 * "END".  Used by the differential tests; the values are those at the call
 * (ra is the return address of the call itself).
 */
    .globl dump_state
dump_state:
    csrw mscratch, t0
    la t0, saved_regs
    .irp n, 1,2,3,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd x\n, (\n * 8)(t0)
    .endr
    csrr t1, mscratch
    sd t1, (5 * 8)(t0)
    la t0, saved_fregs
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fsd f\n, (\n * 8)(t0)
    .endr
    la sp, stack_top
    li s2, 1
    la s3, saved_regs + 8
1:  li a0, 'x'
    call uart_putc
    mv a0, s2
    call uart_putdec
    li a0, ' '
    call uart_putc
    ld a0, 0(s3)
    call uart_puthex
    li a0, '\n'
    call uart_putc
    addi s2, s2, 1
    addi s3, s3, 8
    li t0, 32
    bne s2, t0, 1b
    li s2, 0
    la s3, saved_fregs
1:  li a0, 'f'
    call uart_putc
    mv a0, s2
    call uart_putdec
    li a0, ' '
    call uart_putc
    ld a0, 0(s3)
    call uart_puthex
    li a0, '\n'
    call uart_putc
    addi s2, s2, 1
    addi s3, s3, 8
    li t0, 32
    bne s2, t0, 1b
    la a0, msg_fcsr
    call uart_puts
    csrr a0, fcsr
    call uart_puthex
    la a0, msg_end
    call uart_puts
    j test_done

    .section .rodata
msg_fail_line:      .asciz "FAIL line "
msg_got:            .asciz ": got 0x"
msg_expected:       .asciz " expected 0x"
msg_unexpected_m:   .asciz ": unexpected M-mode trap mcause=0x"
msg_unexpected_s:   .asciz ": unexpected S-mode trap scause=0x"
msg_epc:            .asciz " epc=0x"
msg_tval:           .asciz " tval=0x"
msg_pass:           .asciz "PASS\n"
msg_fcsr:           .asciz "fcsr "
msg_end:            .asciz "\nEND\n"

    .bss
    .align 3
first_fail:         .dword 0
saved_regs:         .space 32 * 8
saved_fregs:        .space 32 * 8
    .align 12
stack:              .space 4096
stack_top:
