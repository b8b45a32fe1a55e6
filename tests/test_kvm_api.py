"""The KVM layer without a machine: a real-mode guest in a bare VM.

The guest rings a port doorbell 1000 times (an ioeventfd: no exit reaches
us), writes one byte to RAM page 5 (the dirty log sees it), then writes
port 0xf4, which does exit and ends the run.
"""

import os
import subprocess
import threading

import pytest

from guest_x86.build import kvm_unusable
from pyvirt.kvm.system import Kvm
from pyvirt.kvm.vm import Vm
from pyvirt.memory.address_space import AddressSpace
from pyvirt.memory.ram import GuestRAM
from pyvirt.memory.region import MemoryRegion

KVM_REASON = kvm_unusable()
pytestmark = pytest.mark.skipif(KVM_REASON is not None, reason=str(KVM_REASON))

CODE_ADDR = 0x1000
DOORBELL, DONE = 0x99, 0xF4
GUEST = f"""
        .code16
        mov $1000, %cx
1:      out %al, ${DOORBELL:#x}
        loop 1b
        movb $1, 0x5000
        out %al, ${DONE:#x}
2:      jmp 2b
"""


def assemble(tmp_path, source):
    (tmp_path / "g.S").write_text(source)
    subprocess.run(["as", "--32", "-o", str(tmp_path / "g.o"), str(tmp_path / "g.S")], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "--oformat", "binary", f"-Ttext={CODE_ADDR:#x}",
                    "-o", str(tmp_path / "g.bin"), str(tmp_path / "g.o")], check=True)
    return (tmp_path / "g.bin").read_bytes()


class Recorder:
    """A port device that records writes and stops the vCPU."""
    name, size = "recorder", 1

    def __init__(self):
        self.writes = []
        self.vcpu = None

    def read(self, offset, size):
        return 0

    def write(self, offset, size, value):
        self.writes.append(value)
        self.vcpu.kick()


def test_ioeventfd_doorbell_and_dirty_log(tmp_path):
    from pyvirt.kvm.vcpu import install_kick_handler
    install_kick_handler()
    kvm = Kvm()
    vm = Vm(kvm)
    ram = GuestRAM(1 << 20)
    ram.load(CODE_ADDR, assemble(tmp_path, GUEST))
    slot = vm.map_memory(0, ram.size, ram.host_addr, log_dirty=True)
    vm.dirty_log(slot)      # forget the loader's writes
    recorder = Recorder()
    io_root = MemoryRegion.container("io", 0x10000)
    io_root.add_subregion(DONE, MemoryRegion.io("recorder", recorder))
    doorbell = os.eventfd(0, os.EFD_NONBLOCK)
    vm.ioeventfd(doorbell, DOORBELL, 1, pio=True)
    vcpu = recorder.vcpu = vm.create_vcpu(0)
    sregs = vcpu.get_sregs()
    sregs.cs.base, sregs.cs.selector = 0, 0
    vcpu.set_sregs(sregs)
    regs = vcpu.get_regs()
    regs.rip = CODE_ADDR
    vcpu.set_regs(regs)

    result = []
    t = threading.Thread(target=lambda: result.append(vcpu.run_loop(
        AddressSpace(io_root, "io"), AddressSpace(MemoryRegion.container("mem")), threading.Lock())))
    t.start()
    t.join(30)
    assert not t.is_alive()
    assert recorder.writes and vcpu.exits == 1      # the doorbell never exited to us
    assert os.eventfd_read(doorbell) == 1000
    bitmap = int.from_bytes(vm.dirty_log(slot), "little")
    assert bitmap == 1 << 5
    vcpu.close()
    vm.close()
    kvm.close()
