"""Shared fixtures: the runners (real QEMU, pyvirt) for the guest test programs."""

import pytest

from guestbuild import RUNNERS, Runner, toolchain_missing


@pytest.fixture(params=sorted(RUNNERS))
def runner(request) -> Runner:
    """Each guest test runs once under QEMU (the oracle) and once under pyvirt."""
    chosen = RUNNERS[request.param]
    reason = toolchain_missing() or chosen.unavailable()
    if reason:
        pytest.skip(reason)
    return chosen
