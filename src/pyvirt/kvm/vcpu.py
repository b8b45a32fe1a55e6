"""A KVM vCPU: its file descriptor, the shared ``kvm_run`` page and state.

``run_loop`` is the hot path: ``KVM_RUN`` through ctypes, then the exit
read straight out of the mmap'ed ``kvm_run`` structure and dispatched to
the port or memory AddressSpace under the global device lock.  Exits the
loop cannot settle (shutdown, errors, system events) end it and are
returned to the caller, which owns the machine's fate.
"""

import ctypes
import errno
import mmap
import os
import signal
import threading

from ..memory.address_space import Unassigned
from . import abi
from .system import KvmError, _ioctl, ioctl

#: Signal that knocks a vCPU thread out of KVM_RUN (its handler does nothing).
KICK_SIGNAL = signal.SIGUSR1


def install_kick_handler():
    """Must run in the main thread before vCPU threads start."""
    signal.signal(KICK_SIGNAL, lambda *_: None)


class VcpuExit:
    """Why ``run_loop`` returned: a KVM exit reason and what came with it."""

    def __init__(self, reason, detail=""):
        self.reason = reason
        self.detail = detail

    @property
    def name(self):
        return abi.EXIT_NAMES.get(self.reason, str(self.reason))


class Vcpu:
    def __init__(self, vm, index):
        self.vm = vm
        self.index = index
        self.fd = ioctl(vm.fd, abi.KVM_CREATE_VCPU, index, f"KVM_CREATE_VCPU {index}")
        self._mmap = mmap.mmap(self.fd, vm.kvm.vcpu_mmap_size, mmap.MAP_SHARED,
                               mmap.PROT_READ | mmap.PROT_WRITE)
        self.page = memoryview(self._mmap)
        self.run = abi.Run.from_buffer(self._mmap)
        self.stop_requested = False
        self.thread_id = None
        self.exits = 0

    # -- state -----------------------------------------------------------------
    def _get(self, request, struct, what):
        value = struct()
        ioctl(self.fd, request, value, what)
        return value

    def get_regs(self):
        return self._get(abi.KVM_GET_REGS, abi.Regs, "KVM_GET_REGS")

    def set_regs(self, regs):
        ioctl(self.fd, abi.KVM_SET_REGS, regs, "KVM_SET_REGS")

    def get_sregs(self):
        return self._get(abi.KVM_GET_SREGS, abi.Sregs, "KVM_GET_SREGS")

    def set_sregs(self, sregs):
        ioctl(self.fd, abi.KVM_SET_SREGS, sregs, "KVM_SET_SREGS")

    def get_fpu(self):
        return self._get(abi.KVM_GET_FPU, abi.Fpu, "KVM_GET_FPU")

    def set_fpu(self, fpu):
        ioctl(self.fd, abi.KVM_SET_FPU, fpu, "KVM_SET_FPU")

    def set_cpuid(self, entries):
        buf = abi.with_entries(abi.Cpuid2, abi.CpuidEntry2, len(entries))()
        buf.nent = len(entries)
        for i, entry in enumerate(entries):
            buf.entries[i] = entry
        ioctl(self.fd, abi.KVM_SET_CPUID2, buf, "KVM_SET_CPUID2")

    def set_msrs(self, msrs):
        """``msrs``: {index: value}.  The kernel must accept every one."""
        buf = abi.with_entries(abi.Msrs, abi.MsrEntry, len(msrs))()
        buf.nmsrs = len(msrs)
        for i, (index, value) in enumerate(msrs.items()):
            buf.entries[i] = abi.MsrEntry(index=index, data=value)
        done = ioctl(self.fd, abi.KVM_SET_MSRS, buf, "KVM_SET_MSRS")
        if done != len(msrs):
            index = buf.entries[done].index
            raise KvmError(f"KVM_SET_MSRS: the kernel refused MSR {index:#x}")

    def get_msrs(self, indexes):
        buf = abi.with_entries(abi.Msrs, abi.MsrEntry, len(indexes))()
        buf.nmsrs = len(indexes)
        for i, index in enumerate(indexes):
            buf.entries[i].index = index
        done = ioctl(self.fd, abi.KVM_GET_MSRS, buf, "KVM_GET_MSRS")
        return {e.index: e.data for e in buf.entries[:done]}

    # -- running ---------------------------------------------------------------
    def kick(self):
        """Make KVM_RUN return soon (from any thread); run_loop then ends."""
        self.stop_requested = True
        self.run.immediate_exit = 1
        if self.thread_id is not None:
            try:
                signal.pthread_kill(self.thread_id, KICK_SIGNAL)
            except ProcessLookupError:
                pass

    def run_loop(self, pio, mmio, lock):
        """Run until an exit we cannot settle here, or a kick; returns a VcpuExit.

        ``pio``/``mmio`` are AddressSpaces.  A port nobody decodes reads as
        all ones; unassigned MMIO reads as 0; writes to either are dropped.
        """
        self.thread_id = threading.get_ident()
        run, page, fd = self.run, self.page, self.fd
        io, mm = run.exit.io, run.exit.mmio
        mmio_data = abi.Run.exit.offset + abi.RunMmio.data.offset
        kvm_run = abi.KVM_RUN
        EXIT_IO, EXIT_MMIO, IO_OUT = abi.KVM_EXIT_IO, abi.KVM_EXIT_MMIO, abi.KVM_EXIT_IO_OUT
        exits = 0
        try:
            while not self.stop_requested:
                if _ioctl(fd, kvm_run, 0) < 0:
                    err = ctypes.get_errno()
                    if err in (errno.EINTR, errno.EAGAIN):
                        run.immediate_exit = 0
                        continue
                    raise KvmError(f"KVM_RUN on vCPU {self.index}: {os.strerror(err)}")
                exits += 1
                reason = run.exit_reason
                # Both kinds of access leave their data in this page: PIO at
                # data_offset (count items, for rep ins/outs), MMIO in mmio.data.
                if reason == EXIT_IO:
                    space, addr, size, count = pio, io.port, io.size, io.count
                    write, off, unassigned = io.direction == IO_OUT, io.data_offset, -1
                elif reason == EXIT_MMIO:
                    space, addr, size, count = mmio, mm.phys_addr, mm.len, 1
                    write, off, unassigned = mm.is_write, mmio_data, 0
                else:
                    return VcpuExit(reason, self._exit_detail(reason))
                with lock:
                    for _ in range(count):
                        if write:
                            try:
                                space.write(addr, size, int.from_bytes(page[off:off + size], "little"))
                            except Unassigned:
                                pass
                        else:
                            try:
                                value = space.read(addr, size)
                            except Unassigned:
                                value = unassigned
                            page[off:off + size] = (value & ((1 << 8 * size) - 1)).to_bytes(size, "little")
                        off += size
            return VcpuExit(abi.KVM_EXIT_INTR)
        finally:
            self.exits += exits

    def _exit_detail(self, reason):
        run = self.run
        if reason == abi.KVM_EXIT_INTERNAL_ERROR:
            sub = run.exit.internal.suberror
            return abi.INTERNAL_ERRORS.get(sub, f"suberror {sub}")
        if reason == abi.KVM_EXIT_FAIL_ENTRY:
            return f"hardware entry failure reason {run.exit.fail_entry.hardware_entry_failure_reason:#x}"
        if reason == abi.KVM_EXIT_SYSTEM_EVENT:
            return run.exit.system_event.type
        return ""

    def close(self):
        del self.run
        self.page.release()
        self._mmap.close()
        os.close(self.fd)
