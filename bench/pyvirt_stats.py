"""Run pyvirt-system-riscv64 and report its work on stderr at exit.

A stand-in, used by the benchmarks only while the front end does not do
this itself: the proposed ``PYVIRT_STATS=1`` makes pyvirt print
``instructions=N seconds=S`` on stderr at exit, N being the guest
instructions retired by all vCPUs and S the CPU time of the vCPU thread.
This script prints the same line by timing and counting every pass of the
round-robin vCPU loop (``RoundRobin.executed``); it takes the emulator's own
arguments.  Once the front end prints the line, measure.py stops using it
and it can go.
"""

import sys
import time

from pyvirt.cli import system_riscv64
from pyvirt.tcg.rr import RoundRobin


def main(argv):
    instructions = 0
    seconds = 0.0
    vcpu_loop = RoundRobin.run

    def counted(self, running=True):
        nonlocal instructions, seconds
        before, start = self.executed, time.thread_time()
        try:
            return vcpu_loop(self, running)
        finally:
            seconds += time.thread_time() - start
            instructions += self.executed - before

    RoundRobin.run = counted
    try:
        return system_riscv64.main(argv)
    finally:
        print(f"instructions={instructions} seconds={seconds:.3f}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
