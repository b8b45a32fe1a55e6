"""vCPU threads: one per vCPU, each looping in KVM_RUN.

A thread ends when its vCPU's loop returns: kicked (``stop``), or an exit
the loop could not settle, which goes to ``on_exit(vcpu, exit)`` for the
machine to decide (reset, power off, report an error).
"""

import threading

from .vcpu import VcpuExit
from . import abi


class VcpuThreads:
    def __init__(self, vcpus, pio, mmio, lock, on_exit):
        self.vcpus = vcpus
        self._args = (pio, mmio, lock)
        self._on_exit = on_exit
        self._threads = []

    def start(self):
        for vcpu in self.vcpus:
            t = threading.Thread(target=self._run, args=(vcpu,), name=f"CPU {vcpu.index}/KVM",
                                 daemon=True)
            self._threads.append(t)
            t.start()

    def _run(self, vcpu):
        try:
            exit_ = vcpu.run_loop(*self._args)
        except Exception as err:   # noqa: BLE001 - reported by the machine, not a traceback
            exit_ = VcpuExit(abi.KVM_EXIT_UNKNOWN, err)
        if exit_.reason != abi.KVM_EXIT_INTR:     # INTR: we were asked to stop
            self._on_exit(vcpu, exit_)

    def stop(self):
        for vcpu in self.vcpus:
            vcpu.kick()

    def join(self):
        for t in self._threads:
            t.join()
