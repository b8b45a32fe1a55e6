"""Shared fixtures: the runners (real QEMU, pyvirt) for the guest test programs."""

import pytest

from guestbuild import ENGINE_RUNNERS, RUNNERS, Runner, toolchain_missing


@pytest.fixture(params=["qemu", *ENGINE_RUNNERS])
def runner(request) -> Runner:
    """Each guest test runs once under QEMU (the oracle) and once under each
    of pyvirt's TCG engines."""
    chosen = RUNNERS[request.param]
    reason = toolchain_missing() or chosen.unavailable()
    if reason:
        pytest.skip(reason)
    return chosen
