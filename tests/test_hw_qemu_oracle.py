"""The device models against real QEMU: the same MMIO sequence, the same values.

A bare-metal RISC-V program replays a table of reads and writes on
qemu-system-riscv64's virt board, records every value it reads, and
prints them at the end; the test replays the same table on pyvirt's
models wired the way the virt board wires them and compares.
"""

import shutil
import subprocess

import pytest

from pyvirt.chardev.base import Chardev
from pyvirt.core.clock import VirtualClock
from pyvirt.core.irq import IRQLine
from pyvirt.hw.char import uart16550 as u
from pyvirt.hw.char.uart16550 import UART16550
from pyvirt.hw.intc import aclint as a
from pyvirt.hw.intc import plic as p
from pyvirt.hw.intc.aclint import ACLINT
from pyvirt.hw.intc.plic import PLIC
from pyvirt.hw.virtio import mmio as m
from pyvirt.hw.virtio.mmio import VirtioMMIO

pytestmark = pytest.mark.skipif(
    not (shutil.which("qemu-system-riscv64") and shutil.which("riscv64-linux-gnu-gcc")),
    reason="needs qemu-system-riscv64 and riscv64-linux-gnu-gcc")

UART, CLINT, PLIC_BASE, VIRTIO0 = 0x10000000, 0x2000000, 0xC000000, 0x10001000
UART_IRQ, VIRTIO0_IRQ = 10, 1
S0 = 1      # hart 0's S-mode PLIC context
READ, WRITE = 1, 2


def r(addr, size=4):
    return (READ, size, addr, 0)


def w(addr, value, size=4):
    return (WRITE, size, addr, value)


def uart(reg):
    return UART + reg


def s0_claim():
    return PLIC_BASE + p.CONTEXT_BASE + S0 * p.CONTEXT_STRIDE + p.CONTEXT_CLAIM


SEQUENCE = [
    # UART reset values, then the Linux 8250 set-up and a loopback exchange.
    *(r(uart(reg), 1) for reg in (u.IER, u.IIR, u.LCR, u.MCR, u.LSR, u.MSR, u.SCR)),
    w(uart(u.LCR), 0x83, 1), w(uart(u.DLL), 0x01, 1), w(uart(u.DLM), 0x00, 1),
    r(uart(u.DLL), 1), r(uart(u.DLM), 1), w(uart(u.LCR), 0x03, 1), r(uart(u.IER), 1),
    # Trigger level 1: below it QEMU's character timeout depends on host speed.
    w(uart(u.FCR), 0x07, 1), r(uart(u.IIR), 1),
    w(uart(u.IER), 0x0F, 1), r(uart(u.IER), 1), r(uart(u.IIR), 1), r(uart(u.IIR), 1),
    w(uart(u.MCR), 0x1A, 1), r(uart(u.MCR), 1),
    w(uart(u.THR), 0x41, 1), w(uart(u.THR), 0x42, 1),
    r(uart(u.LSR), 1), r(uart(u.IIR), 1), r(uart(u.RBR), 1), r(uart(u.RBR), 1),
    r(uart(u.LSR), 1), r(uart(u.IIR), 1),
    w(uart(u.FCR), 0x01, 1), r(uart(u.IIR), 1),
    w(uart(u.SCR), 0x5A, 1), r(uart(u.SCR), 1),
    # The UART's interrupt through the PLIC to hart 0's S context.
    w(PLIC_BASE + 4 * UART_IRQ, 0xFFFFFFFF), r(PLIC_BASE + 4 * UART_IRQ),
    w(PLIC_BASE + p.ENABLE_BASE + S0 * p.ENABLE_STRIDE, 0xFFFFFFFF),
    r(PLIC_BASE + p.ENABLE_BASE + S0 * p.ENABLE_STRIDE),
    w(uart(u.MCR), 0x00, 1), w(uart(u.IER), 0x02, 1), r(PLIC_BASE + p.PENDING_BASE),
    r(s0_claim()), r(PLIC_BASE + p.PENDING_BASE), r(s0_claim()),
    r(uart(u.IIR), 1), w(s0_claim(), UART_IRQ), r(PLIC_BASE + p.PENDING_BASE),
    w(uart(u.IER), 0x00, 1),
    w(PLIC_BASE + p.CONTEXT_BASE + S0 * p.CONTEXT_STRIDE, 0xFFFFFFFF),
    r(PLIC_BASE + p.CONTEXT_BASE + S0 * p.CONTEXT_STRIDE),
    # CLINT: software interrupt and mtimecmp halves (mtime itself moves).
    w(CLINT + 4, 1), r(CLINT), w(CLINT, 0xFFFFFFFF), r(CLINT), w(CLINT, 0), r(CLINT),
    w(CLINT + a.MTIMECMP_BASE, 0x1122334455667788, 8), r(CLINT + a.MTIMECMP_BASE + 4),
    w(CLINT + a.MTIMECMP_BASE, 0xAABBCCDD), r(CLINT + a.MTIMECMP_BASE, 8),
    # An empty virtio-mmio slot.
    *(r(VIRTIO0 + reg) for reg in (m.MAGIC_VALUE, m.VERSION, m.DEVICE_ID, m.VENDOR_ID)),
]

PROGRAM = """
    .option norvc
    .section .text
    .globl _start
_start:
    la s0, table
    la s1, results
next:
    ld t0, 0(s0)
    beqz t0, dump
    ld t1, 8(s0)
    ld t2, 16(s0)
    ld t3, 24(s0)
    addi s0, s0, 32
    li t4, 2
    beq t0, t4, store
    li t4, 1
    beq t1, t4, load1
    li t4, 4
    beq t1, t4, load4
    ld t5, 0(t2)
    j loaded
load1:
    lbu t5, 0(t2)
    j loaded
load4:
    lwu t5, 0(t2)
loaded:
    sd t5, 0(s1)
    addi s1, s1, 8
    j next
store:
    li t4, 1
    beq t1, t4, store1
    li t4, 4
    beq t1, t4, store4
    sd t3, 0(t2)
    j next
store1:
    sb t3, 0(t2)
    j next
store4:
    sw t3, 0(t2)
    j next
dump:
    la s2, results
dump_word:
    bgeu s2, s1, finish
    ld s3, 0(s2)
    addi s2, s2, 8
    li s4, 60
hex_digit:
    srl a2, s3, s4
    andi a2, a2, 15
    li a3, 10
    blt a2, a3, decimal
    addi a2, a2, 39
decimal:
    addi a2, a2, 48
    jal putc
    addi s4, s4, -4
    bgez s4, hex_digit
    li a2, 10
    jal putc
    j dump_word
finish:
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
    j finish
putc:
    li t0, 0x10000000
wait_thre:
    lbu t1, 5(t0)
    andi t1, t1, 0x20
    beqz t1, wait_thre
    sb a2, 0(t0)
    ret
    .section .data
    .balign 8
table:
{table}
    .dword 0, 0, 0, 0
    .section .bss
    .balign 8
results:
    .space {space}
"""


def run_on_qemu(tmp_path):
    table = "\n".join(f"    .dword {op}, {size}, {addr:#x}, {value:#x}"
                      for op, size, addr, value in SEQUENCE)
    source = tmp_path / "oracle.S"
    source.write_text(PROGRAM.format(table=table, space=8 * len(SEQUENCE)))
    elf = tmp_path / "oracle.elf"
    subprocess.run(["riscv64-linux-gnu-gcc", "-nostdlib", "-static", "-mcmodel=medany",
                    "-Wl,-Ttext=0x80000000", "-o", str(elf), str(source)], check=True)
    out = subprocess.run(["qemu-system-riscv64", "-M", "virt", "-bios", "none",
                          "-kernel", str(elf), "-display", "none", "-monitor", "none",
                          "-serial", "stdio",
                          "-global", "virtio-mmio.force-legacy=false"],
                         capture_output=True, timeout=60, check=True).stdout
    return [int(line, 16) for line in out.decode().split()]


class Discard(Chardev):
    def write(self, data):
        pass


def run_on_pyvirt():
    contexts = [IRQLine(), IRQLine()]
    plic = PLIC(96, 7, contexts)
    devices = {
        UART: UART16550(Discard(), IRQLine(plic.irq_input(UART_IRQ))),
        CLINT: ACLINT(VirtualClock(), [IRQLine()], [IRQLine()]),
        PLIC_BASE: plic,
        VIRTIO0: VirtioMMIO(IRQLine(plic.irq_input(VIRTIO0_IRQ))),
    }

    def find(addr):
        base = max(b for b in devices if b <= addr)
        return devices[base], addr - base

    results = []
    for op, size, addr, value in SEQUENCE:
        dev, offset = find(addr)
        if op == READ:
            results.append(dev.read(offset, size))
        else:
            dev.write(offset, size, value)
    return results


def test_models_read_what_qemu_reads(tmp_path):
    expected = run_on_qemu(tmp_path)
    got = run_on_pyvirt()
    reads = [(op, size, addr) for op, size, addr, _ in SEQUENCE if op == READ]
    assert len(expected) == len(got) == len(reads)
    mismatches = [f"read{size} {addr:#x}: pyvirt {g:#x}, QEMU {e:#x}"
                  for (_, size, addr), g, e in zip(reads, got, expected) if g != e]
    assert not mismatches, "\n".join(mismatches)
