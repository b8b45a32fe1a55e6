"""Guest disassembly for ``-d in_asm``, through capstone."""

import capstone


class Disassembler:
    def __init__(self):
        self._cs = capstone.Cs(capstone.CS_ARCH_RISCV,
                               capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC)

    def __call__(self, pc, raw, length):
        for insn in self._cs.disasm(raw.to_bytes(length, "little"), pc, 1):
            return f"{insn.mnemonic:<10} {insn.op_str}".rstrip()
        return ".insn (unknown to capstone)"
