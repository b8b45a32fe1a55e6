"""Front ends: the command-line programs (pyvirt-system-riscv64 ...)."""
