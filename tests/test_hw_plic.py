"""PLIC gateway, claim/complete, priority and threshold behaviour."""

import pytest

from pyvirt.core.irq import IRQLine
from pyvirt.hw.intc import plic as p
from pyvirt.hw.intc.plic import PLIC, plic_size

UART_IRQ, VIRTIO_IRQ, RTC_IRQ = 10, 1, 11
M0, S0, M1, S1 = range(4)


def enable_reg(ctx, source):
    return p.ENABLE_BASE + ctx * p.ENABLE_STRIDE + 4 * (source // 32)


def ctx_reg(ctx, reg):
    return p.CONTEXT_BASE + ctx * p.CONTEXT_STRIDE + reg


@pytest.fixture
def plic():
    outs = [IRQLine() for _ in range(4)]
    dev = PLIC(num_sources=96, num_priorities=7, contexts=outs)
    lines = {n: IRQLine(dev.irq_input(n)) for n in (VIRTIO_IRQ, UART_IRQ, RTC_IRQ, 95)}
    return dev, outs, lines


def setup_source(dev, ctx, source, prio):
    dev.write(4 * source, 4, prio)
    reg = enable_reg(ctx, source)
    dev.write(reg, 4, dev.read(reg, 4) | 1 << (source % 32))


def test_size_matches_virt_layout():
    assert plic_size(2 * 512) == 0x600000
    assert PLIC(contexts=[IRQLine(), IRQLine()]).size == 0x202000


def test_claim_complete_cycle(plic):
    dev, outs, lines = plic
    setup_source(dev, S0, UART_IRQ, 1)
    lines[UART_IRQ].raise_()
    assert outs[S0].level == 1 and outs[M0].level == 0
    assert dev.read(p.PENDING_BASE, 4) == 1 << UART_IRQ
    assert dev.read(ctx_reg(S0, p.CONTEXT_CLAIM), 4) == UART_IRQ
    # Claimed: no longer pending, output drops although the line is high.
    assert dev.read(p.PENDING_BASE, 4) == 0
    assert outs[S0].level == 0
    assert dev.read(ctx_reg(S0, p.CONTEXT_CLAIM), 4) == 0
    # Completing while the device still asserts re-pends it.
    dev.write(ctx_reg(S0, p.CONTEXT_CLAIM), 4, UART_IRQ)
    assert outs[S0].level == 1
    assert dev.read(ctx_reg(S0, p.CONTEXT_CLAIM), 4) == UART_IRQ
    lines[UART_IRQ].lower()
    dev.write(ctx_reg(S0, p.CONTEXT_CLAIM), 4, UART_IRQ)
    assert outs[S0].level == 0
    assert dev.read(p.PENDING_BASE, 4) == 0


def test_pending_is_latched_until_claimed(plic):
    dev, outs, lines = plic
    setup_source(dev, M0, RTC_IRQ, 3)
    lines[RTC_IRQ].raise_()
    lines[RTC_IRQ].lower()
    assert outs[M0].level == 1
    assert dev.read(ctx_reg(M0, p.CONTEXT_CLAIM), 4) == RTC_IRQ
    dev.write(ctx_reg(M0, p.CONTEXT_CLAIM), 4, RTC_IRQ)
    assert outs[M0].level == 0              # line low at completion: done


def test_priority_order_and_lowest_id_tiebreak(plic):
    dev, _, lines = plic
    for src, prio in ((VIRTIO_IRQ, 2), (UART_IRQ, 5), (RTC_IRQ, 5), (95, 1)):
        setup_source(dev, S1, src, prio)
        lines[src].raise_()
    claim = ctx_reg(S1, p.CONTEXT_CLAIM)
    assert [dev.read(claim, 4) for _ in range(5)] == [UART_IRQ, RTC_IRQ, VIRTIO_IRQ, 95, 0]
    assert dev.read(enable_reg(S1, 95), 4) == 1 << 31


def test_threshold_masks_and_priority_zero_never_fires(plic):
    dev, outs, lines = plic
    setup_source(dev, M1, UART_IRQ, 3)
    dev.write(ctx_reg(M1, p.CONTEXT_THRESHOLD), 4, 3)
    lines[UART_IRQ].raise_()
    assert outs[M1].level == 0
    assert dev.read(ctx_reg(M1, p.CONTEXT_CLAIM), 4) == 0
    dev.write(ctx_reg(M1, p.CONTEXT_THRESHOLD), 4, 2)
    assert outs[M1].level == 1
    dev.write(4 * UART_IRQ, 4, 0)
    assert outs[M1].level == 0


def test_register_legality(plic):
    dev, _, _ = plic
    dev.write(4 * UART_IRQ, 4, 0xFFFFFFFF)
    assert dev.read(4 * UART_IRQ, 4) == 7           # 3 WARL bits
    dev.write(4 * 0, 4, 7)
    assert dev.read(0, 4) == 0                      # source 0 does not exist
    dev.write(enable_reg(M0, 0), 4, 0xFFFFFFFF)
    assert dev.read(enable_reg(M0, 0), 4) == 0xFFFFFFFF      # as QEMU
    dev.write(enable_reg(M0, 64), 4, 0xFFFFFFFF)
    assert dev.read(enable_reg(M0, 64), 4) == 0xFFFFFFFF     # sources 64..95
    dev.write(enable_reg(M0, 96), 4, 0xFFFFFFFF)
    assert dev.read(enable_reg(M0, 96), 4) == 0
    assert dev.read(4 * UART_IRQ, 8) == 0           # only 32-bit accesses


def test_complete_of_source_not_enabled_is_ignored(plic):
    dev, outs, lines = plic
    setup_source(dev, S0, UART_IRQ, 1)
    lines[UART_IRQ].raise_()
    assert dev.read(ctx_reg(S0, p.CONTEXT_CLAIM), 4) == UART_IRQ
    dev.write(ctx_reg(M0, p.CONTEXT_CLAIM), 4, UART_IRQ)   # wrong context
    assert outs[S0].level == 0
    dev.write(ctx_reg(S0, p.CONTEXT_CLAIM), 4, UART_IRQ)
    assert outs[S0].level == 1


def test_state_roundtrip_restores_outputs(plic):
    dev, outs, lines = plic
    setup_source(dev, S0, VIRTIO_IRQ, 4)
    lines[VIRTIO_IRQ].raise_()
    saved = dev.get_state()
    dev.reset()
    assert outs[S0].level == 0
    dev.set_state(saved)
    assert outs[S0].level == 1
    assert dev.read(ctx_reg(S0, p.CONTEXT_CLAIM), 4) == VIRTIO_IRQ


def test_irq_input_rejects_bad_source():
    with pytest.raises(ValueError):
        PLIC(contexts=[IRQLine()]).irq_input(0)
