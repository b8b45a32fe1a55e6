"""A RISC-V hart running user code on a ``GuestMemory``.

``UserHart`` is the system hart with the MMU replaced by the guest page
table of the mmap layer: ``translate`` is the identity for pages the guest
may access that way and a page fault otherwise, there is no PMP, and a
trap does not enter a handler: it is recorded in ``pending`` and the engine
is told to return, so the user-mode loop (``process``) can treat the ecall,
fault or illegal instruction as Linux would.
"""

import time

from ..target.riscv.cpu_bits import (ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, MSTATUS_FS_DIRTY,
                                     PAGE_FAULT, PRV_U)
from ..target.riscv.hart import Hart
from ..target.riscv.traps import Trap
from .memory import MAPPED, PROT_EXEC, PROT_READ, PROT_WRITE

#: PROT bits an access needs.
NEED = {ACCESS_FETCH: PROT_EXEC, ACCESS_LOAD: PROT_READ, ACCESS_STORE: PROT_WRITE}
#: The ``time`` CSR counts at 10 MHz, as on QEMU's virt board (riscv,timebase-frequency).
TIMEBASE_HZ = 10_000_000


class _NoBus:
    """Every address a user hart can reach is in the reservation; no devices."""

    def __init__(self):
        self.write_listeners = []


class UserHart(Hart):
    def __init__(self, tid, mem, code_pages, atomic_lock, log=None):
        super().__init__(tid, _NoBus(), mem, 0, log=log, code_pages=code_pages)
        self.mem = mem
        self.prot = mem.prot
        self.npages = mem.npages
        self.atomic_lock = atomic_lock
        #: (cause, tval, pc) of the trap that stopped the engine, or None.
        self.pending = None
        st = self.state
        st.priv = PRV_U
        st.mstatus = MSTATUS_FS_DIRTY
        st.mcounteren = st.scounteren = 0xFFFFFFFF
        self.mtime = lambda: time.monotonic_ns() // (1_000_000_000 // TIMEBASE_HZ)

    # ---- memory: the guest page table instead of an MMU -----------------------------
    def translate(self, va, access):
        vpn = va >> 12
        need = NEED[access]
        if vpn >= self.npages or not self.prot[vpn] & need:
            raise Trap(PAGE_FAULT[access], va)
        return va

    def check_pmp(self, pa, size, access, va):
        pass

    def cacheable(self, pa, access):
        return True

    def mapped(self, va):
        return (va >> 12) < self.npages and bool(self.prot[va >> 12] & MAPPED)

    # ---- atomics are atomic across guest threads ------------------------------------
    def lr(self, size, va):
        with self.atomic_lock:
            return super().lr(size, va)

    def sc(self, size, va, value):
        with self.atomic_lock:
            return super().sc(size, va, value)

    def amo(self, size, fn, va, value):
        with self.atomic_lock:
            return super().amo(size, fn, va, value)

    # ---- traps go to the user-mode loop ----------------------------------------------
    def take_trap(self, cause, tval, pc):
        self.pending = (cause, tval, pc)
        self.exit_request = True
        return pc
