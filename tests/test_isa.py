"""RV64GC instruction and privileged-architecture tests on the virt board.

Each program in tests/guest/ checks one area and reports through sifive_test;
it runs under the real QEMU (proving the test itself right) and under pyvirt.
"""

import pytest

from guestbuild import build_program, program_names


@pytest.mark.parametrize("program", program_names())
def test_program(program, runner):
    result = runner.run(build_program(program))
    assert result.passed, (
        f"{program} under {runner.name} exited {result.returncode}; "
        f"UART output:\n{result.output}")
