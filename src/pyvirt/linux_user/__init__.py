"""Linux user-mode emulation: run riscv64 Linux programs on this host (qemu-riscv64)."""
