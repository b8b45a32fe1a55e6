"""Loaders: put firmware, kernels, initrds and device trees into guest memory.

They model what QEMU's hw/core/loader.c and hw/riscv/boot.c do for
``-bios``, ``-kernel``, ``-initrd``, ``-dtb`` and ``-device loader``, and
write only through an ``AddressSpace`` (ROM included), never to RAM behind
its back.
"""
